# SPDX-License-Identifier: GPL-2.0-only
# harness/tune/: tuning on top of the harness (included by harness.mk).
#
#   make compare NAME=x A='k=v ...' B='k=v ...' [RUNS=5] [BACKEND=emu|sim|virtio]
#                [A_KO=path B_KO=path] [A_QEMU=path B_QEMU=path] [STEP=name] [CI=1]
#   make sweep NAME=x PARAM=k VALUES=a,b,c [RUNS=n] [PARAM2=k2 VALUES2=x,y]
#              [BACKEND=emu|sim] [STEP=name] [CI=1]
#   make test-tune      both on the simulator, and the identity check
#
# Results are kept: results/compare/<run-id>/, results/sweeps/<run-id>/.
# Each run (compare: each repetition's A then B) is a fan-out job, as a
# regress's scenario: JOBS=N, HOSTS=file, RUN_ID=id RESUME=1 (report.mk).
# The rank test is scipy's (python3-scipy, from scripts/deps.sh); Debian's
# own python3 runs these, whatever python3 is first on PATH.

TUNE_PY	?= /usr/bin/python3
RUNS	?=
STEP	?=
CI	?=
A	?=
B	?=
A_KO	?=
B_KO	?=
A_QEMU	?=
B_QEMU	?=
PARAM	?=
VALUES	?=
PARAM2	?=
VALUES2	?=
TUNE_OPTS = --harness $(HARNESS) --results $(RESULTS) --name $(NAME) \
	    --backend $(BACKEND) $(if $(STEP),--step '$(STEP)') $(if $(CI),--ci)
# A_KO/B_KO: an initramfs per module, built as `make guest` builds ours.
TUNE_INITRAMFS = guest-driver/mkinitramfs.sh {out} $$(cat $(GUEST_KVER_FILE)) \
	$(GUEST_KTREE) {ko} $(GUEST_AGENT) guest-driver/init guest-driver/tests/selftest.sh

.PHONY: compare sweep test-tune
compare: $(HARNESS_RUN_DEPS) $(if $(HOSTS),dist)
	$(Q)$(REGRESS_ENV) $(TUNE_PY) harness/tune/compare.py $(TUNE_OPTS) --a '$(A)' --b '$(B)' \
		--runs $(or $(RUNS),5) \
		$(if $(A_KO),--a-ko '$(A_KO)') $(if $(B_KO),--b-ko '$(B_KO)') \
		$(if $(A_QEMU),--a-qemu '$(A_QEMU)') $(if $(B_QEMU),--b-qemu '$(B_QEMU)') \
		--initramfs-cmd '$(TUNE_INITRAMFS)' -- $(HARNESS_ARGS) $(SET)

sweep: $(HARNESS_RUN_DEPS) $(if $(HOSTS),dist)
	$(Q)$(REGRESS_ENV) $(TUNE_PY) harness/tune/sweep.py $(TUNE_OPTS) --param '$(PARAM)' \
		--values '$(VALUES)' --param2 '$(PARAM2)' --values2 '$(VALUES2)' \
		--runs $(or $(RUNS),1) -- $(HARNESS_ARGS) $(SET)

TEST_TARGETS += test-tune
test-tune: $(HARNESS) | $(DEPS_STAMP)
	$(Q)TUNE_PY=$(TUNE_PY) sh harness/tune/test-tune.sh $(HARNESS) $(TB_OBJ)/tune-test
