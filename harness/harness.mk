# SPDX-License-Identifier: GPL-2.0-only
# harness/: the scenario runner.  Targets:
#   make scenario NAME=x [BACKEND=emu|virtio|...] [SET='k=v step.k=v']
#   make plot NAME=x [RUNS='run-id run-id ...']
#   make regress            every scenario, CI sizes, one line each, and
#                           the reports (harness/report/: JOBS=N, HOSTS=file)
#   make test-harness       parser tests (data) + bounded-run tests
# Layout (docs/design.md): plan/ reads scenario files into a plan, run/
# plays it, backends/ are what it plays on (qemu.c: emu and virtio; sim.c
# over the model in sim/; libvirt/ with its own .mk), bench/ is built on
# run/ and backends/.  Everything is compiled with -Iharness, so includes
# name their folder: "plan/plan.h", "backends/backend.h", "run/run.h".

HARNESS		:= $(TB_OBJ)/harness/harness
PLAN_SRCS	:= $(filter-out harness/plan/fuzz_%.c,$(wildcard harness/plan/*.c))
HARNESS_SRCS	:= harness/main.c $(PLAN_SRCS) \
		   $(wildcard harness/run/*.c) \
		   harness/backends/backend.c harness/backends/io.c \
		   harness/backends/qemu.c harness/backends/membacking.c \
		   harness/backends/sim.c
HARNESS_OBJS	:= $(HARNESS_SRCS:%.c=$(TB_OBJ)/%.o)
HARNESS_HDRS	:= $(wildcard harness/*/*.h harness/*/*.c.inc) core/*.h
HARNESS_BACKEND_OBJS ?=
HARNESS_BACKEND_LIBS ?=
# Paths are built with snprintf into PATH_MAX buffers; truncation is
# checked where it matters, so gcc's guesses about it are noise here.
HARNESS_CFLAGS	:= -Iharness -Wno-format-truncation
HARNESS_LIBS	= $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lm

-include harness/sim/sim.mk
-include harness/tune/tune.mk
-include harness/report/report.mk
-include harness/backends/libvirt/libvirt.mk

NAME		?= pinned-2g
BACKEND		?= emu
SET		?=
RUNS		?=
ONLY		?=
RESULTS		?= results
STOCK_QEMU	?= /usr/bin/qemu-system-x86_64
HARNESS_QEMU	= $(if $(QEMU_BIN),$(QEMU_BIN),$(BUILD)/qemu/build/qemu-system-x86_64)
# The accelerator is probed once per build tree (KVM may exist and not work).
HARNESS_ACCEL	= $(or $(strip $(shell scripts/accel.sh $(HARNESS_QEMU_FOR_ACCEL) $(BUILD)/accel $(KERNEL_IMAGE) $(INITRAMFS) 2>/dev/null)),tcg)
HARNESS_QEMU_FOR_ACCEL = $(if $(wildcard $(HARNESS_QEMU)),$(HARNESS_QEMU),$(STOCK_QEMU))
# The driver's real parameter list, when the module is built.
HARNESS_KO	= $(firstword $(wildcard $(MODULE_KO)))
HARNESS_DPARAMS	= $(if $(HARNESS_KO),$(shell modinfo -F parm $(HARNESS_KO) 2>/dev/null | sed 's/:.*//' | tr '\n' ' '))

HARNESS_ARGS	= --qemu $(HARNESS_QEMU) --stock-qemu $(STOCK_QEMU) \
		  --kernel $(KERNEL_IMAGE) --initrd $(INITRAMFS) \
		  --accel $(HARNESS_ACCEL) --results $(RESULTS) \
		  --plot harness/plot.sh --driver-params '$(HARNESS_DPARAMS)'

# What a run needs built: the harness; a guest but for the simulator; our
# QEMU for emu and libvirt.
HARNESS_RUN_DEPS = $(HARNESS) \
		   $(if $(filter sim,$(BACKEND)),,$(KERNEL_IMAGE) $(INITRAMFS)) \
		   $(if $(filter emu libvirt,$(BACKEND)),$(QEMU_BIN))

$(TB_OBJ)/harness/%.o: harness/%.c $(HARNESS_HDRS) | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_SAN_CC) $(HARNESS_CFLAGS) -c -o $@ $<

$(HARNESS): $(HARNESS_OBJS) $(HARNESS_BACKEND_OBJS) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_SAN_CC) -o $@ $(HARNESS_OBJS) $(HARNESS_BACKEND_OBJS) $(CORE_LIB) $(HARNESS_LIBS) $(HARNESS_BACKEND_LIBS)

.PHONY: harness scenario plot regress test-machine-pc test-harness test-harness-parse test-harness-bounded \
	test-harness-hostile test-harness-faults
harness: $(HARNESS)
ALL_TARGETS += harness
TEST_TARGETS += test-harness regress

scenario: $(HARNESS_RUN_DEPS)
	$(Q)$(HARNESS) $(HARNESS_ARGS) --backend $(BACKEND) scenarios/$(NAME).ini $(SET)

plot:
	$(Q)sh harness/plot.sh --overlay $(RESULTS)/$(NAME) $(if $(RUNS),$(RUNS),$$(ls -1 $(RESULTS)/$(NAME) | grep -v -e latest -e '^overlay' | tail -n 2))

regress: $(HARNESS_RUN_DEPS) $(if $(HOSTS),dist)
	$(Q)BUILD=$(BUILD) ONLY='$(ONLY)' SET='$(SET)' $(REGRESS_ENV) sh harness/regress.sh $(HARNESS) $(HARNESS_ARGS) --backend $(BACKEND)

# q35 is the default machine; CI runs a few key scenarios on pc too: the
# device on bus 0 (ACPI hot-unplug), NUMA memdevs, 2M/4K inflation.  Each
# must pass and its summary.json say it ran on pc.
MACHINE_PC_SCENARIOS := pinned-2g hostile-unplug numa-memfd fragmentation
test-machine-pc: $(HARNESS_RUN_DEPS)
	$(Q)$(MAKE) --no-print-directory regress ONLY='$(MACHINE_PC_SCENARIOS)' SET='machine=pc'
	$(Q)for s in $(MACHINE_PC_SCENARIOS); do f=$(RESULTS)/$$s/latest/summary.json; \
		grep -q '"machine": "pc"' $$f || \
		{ echo "test-machine-pc: $$f does not say machine pc" >&2; exit 1; }; \
	done; echo "test-machine-pc: $(words $(MACHINE_PC_SCENARIOS)) scenarios passed on pc"

test-harness: test-harness-parse test-harness-bounded test-harness-hostile test-harness-faults

test-harness-parse: $(HARNESS)
	$(Q)sh harness/tests/parse.sh $(HARNESS)

test-harness-bounded: $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)sh harness/tests/bounded.sh $(HARNESS) $(HARNESS_ARGS)

# A fake QEMU that misbehaves on QMP, agent and console, and the harness
# killed, hung up on, given a hung QEMU or names meant for a shell (~60 s,
# no guest).
test-harness-hostile: $(HARNESS)
	$(Q)sh harness/tests/hostile.sh $(HARNESS)

# Faults during real runs: panic, agent killed, disk full, SIGINT; socket
# modes and no network socket (~3 minutes, root for the tmpfs).
test-harness-faults: $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)sh harness/tests/faults.sh $(HARNESS) $(HARNESS_ARGS)

# Every expectation can fail: each scenario's `# breaks:` comments, one CI
# run per distinct breakage (emu: about 25 minutes, not in `make test`);
# the table goes to $(RESULTS)/breakage/<run-id>/breakage.tsv.  On the sim
# (BACKEND=sim, about a minute: 104 runs and four patched builds) rows the
# model cannot run are skipped; that run is in `make test` as
# test-breakage-sim.  JOBS=N, HOSTS=file, RUN_ID=id RESUME=1 fan the runs
# out as for regress (harness/report/report.mk); the runs are kept in the
# table's directory (runs/, or jobs/NAME.I/runs/ from a remote host).
.PHONY: regress-breakage test-breakage-sim
regress-breakage: $(HARNESS) $(if $(filter sim,$(BACKEND)),,$(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)) \
		$(if $(HOSTS),dist)
	$(Q)RESULTS='$(RESULTS)' ONLY='$(ONLY)' $(REGRESS_ENV) sh harness/tests/breakage.sh $(HARNESS) \
		$(if $(filter sim,$(BACKEND)),,$(HARNESS_ARGS)) --backend $(BACKEND)
# Every breakage patch still applies (an emu-only patch would otherwise
# be found stale only by the next emu regress-breakage).
test-breakage-sim: $(HARNESS)
	$(Q)for p in harness/tests/breakage/*.patch; do \
		patch -s -p1 --dry-run -f <$$p >/dev/null || \
		{ echo "$$p no longer applies: make it again against this tree"; exit 1; }; done
	$(Q)RESULTS='$(TB_OBJ)/harness' sh harness/tests/breakage.sh $(HARNESS) --backend sim
TEST_TARGETS += test-breakage-sim

include harness/bench/bench.mk

# The scenario parser under libFuzzer (harness/plan/fuzz_plan.c), run by
# `make fuzz` / test-fuzz (scripts/fuzz.sh) over a copy of its committed
# seeds: the shipped scenarios, parser cases, and in regress/ past findings.
FUZZ_NAMES	+= scenario
FUZZ_CORPUS_scenario := harness/tests/fuzz-scenario
FUZZ_ARGS_scenario := -max_len=8192
$(BUILD)/fuzz/scenario: harness/plan/fuzz_plan.c $(PLAN_SRCS) harness/plan/*.h \
		harness/backends/io.c harness/backends/io.h \
		core/tb_knobs.c core/tb_knobs.h \
		core/tb_policy_host.c core/tb_policy_host.h | $(DEPS_STAMP)
	$(msg) FUZZ $@
	$(Q)mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_CFLAGS) -Iharness \
		-o $@ harness/plan/fuzz_plan.c $(PLAN_SRCS) \
		harness/backends/io.c core/tb_knobs.c core/tb_policy_host.c \
		$(HARNESS_LIBS)

# `make test SANITIZE=1`: core/, the harness and the simulator built with
# ASan + UBSan (core/core.mk, into $(BUILD)/san) and their tests: Check
# tests, parser, simulator, hostile peer, the real-guest faults and one CI
# scenario with the sanitized harness.  The QEMU device and driver tests
# are left out: SANITIZE changes nothing they build.
ifeq ($(SANITIZE),1)
TEST_TARGETS := test-core test-harness-parse test-sim test-harness-hostile \
		test-harness-faults test-harness-san-emu
endif
.PHONY: test-harness-san-emu
test-harness-san-emu: $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)rm -rf $(TB_OBJ)/harness/san-runs
	$(Q)$(HARNESS) $(HARNESS_ARGS) --quiet --plot '' --ci \
		--results $(TB_OBJ)/harness/san-runs scenarios/hotplug-clip.ini
