# SPDX-License-Identifier: GPL-2.0-only
# harness/report/: reports CI systems and people read, and the fan-out
# (included by harness/harness.mk).
#   make regress [JOBS=N] [HOSTS=file]   results/regress/<run-id>/: junit.xml,
#                 regress.json, index.html (+ scenarios/NAME/), jobs/, joblog
#   make regress HOSTS=file RUN_ID=id RESUME=1   rerun that run's lost jobs
#   make dist     build/dist/tb-dist.tar.gz: what a HOSTS machine needs
#   make test-report   the reports on sim runs, pages in headless Chromium
#   make test-fanout   a sim regress over two sshd on 127.0.0.1, one killed;
#                 breakage, sweep and compare over them, against local runs
# Debian's python3 runs the scripts (lxml-free: the junit schema check is
# xmllint's; Chromium is driven through python3-websocket).

REPORT_PY	?= /usr/bin/python3
JOBS		?=
HOSTS		?=
RUN_ID		?=
RESUME		?=
DIST		?= $(BUILD)/dist/tb-dist.tar.gz
# What a remote host runs: the harness, and for a guest backend our QEMU
# (with pc-bios/ and qemu-bundle/, where a build-tree QEMU looks for its
# option ROMs and firmware), the guest kernel, initramfs and module.
DIST_FILES	= $(HARNESS) $(if $(filter sim,$(BACKEND)),,$(QEMU_BIN) \
		  $(dir $(QEMU_BIN))pc-bios $(dir $(QEMU_BIN))qemu-bundle \
		  $(KERNEL_IMAGE) $(INITRAMFS) \
		  $(GUEST_KVER_FILE) $(MODULE_KO))
REGRESS_ENV	= REPORT_PY=$(REPORT_PY) JOBS='$(JOBS)' HOSTS='$(HOSTS)' \
		  RUN_ID='$(RUN_ID)' RESUME='$(RESUME)' DIST='$(DIST)'

.PHONY: dist test-report test-fanout
dist: $(DIST_FILES)
	$(Q)sh harness/report/dist.sh $(DIST) $(DIST_FILES)

TEST_TARGETS += test-report test-fanout
test-report: $(HARNESS) | $(DEPS_STAMP)
	$(Q)REPORT_PY=$(REPORT_PY) sh harness/report/test-report.sh $(HARNESS) $(TB_OBJ)/report-test

test-fanout: $(HARNESS) | $(DEPS_STAMP)
	$(Q)REPORT_PY=$(REPORT_PY) timeout 480 sh harness/report/test-fanout.sh $(HARNESS)
