# SPDX-License-Identifier: GPL-2.0-only
# harness/sim/: the "sim" backend -- the same scenarios without QEMU, on a
# virtual clock, compiling core/ (included by harness/harness.mk).
#
#   make scenario NAME=x BACKEND=sim    one scenario (harness.mk's target)
#   make regress BACKEND=sim            every scenario, simulated
#   make test-sim                       Check unit tests of the model
#   make bench-sim                      virtual seconds per wall second
#   make sweep NAME=x PARAM=driver.batch VALUES=64,256,512 [BACKEND=sim]
#   make agree [SCENARIOS='a b']        each scenario on sim and emu, compared

SIM_MODEL_SRCS	:= harness/sim/sim.c harness/sim/sim_mem.c harness/sim/sim_timing.c
SIM_MODEL_OBJS	:= $(SIM_MODEL_SRCS:%.c=$(BUILD)/%.o)
SIM_TESTS	:= $(patsubst harness/sim/%.c,$(BUILD)/harness/sim/%,$(wildcard harness/sim/check_*.c))
SIM_BENCH	:= $(BUILD)/harness/sim/sim_bench

HARNESS_BACKEND_OBJS += $(SIM_MODEL_OBJS) $(BUILD)/harness/sim/sim_backend.o

$(BUILD)/harness/sim/%.o: harness/sim/%.c harness/sim/*.h harness/*.h core/*.h | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -Iharness -Iharness/sim -c -o $@ $<

$(BUILD)/harness/sim/check_%: harness/sim/check_%.c $(SIM_MODEL_OBJS) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_CC) -Iharness/sim -o $@ $< $(SIM_MODEL_OBJS) $(CORE_LIB) $(CHECK_LIBS)

$(SIM_BENCH): harness/sim/sim_bench.c $(SIM_MODEL_OBJS) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_CC) -Iharness/sim -o $@ $< $(SIM_MODEL_OBJS) $(CORE_LIB)

.PHONY: test-sim bench-sim sweep agree calibrate-sim
TEST_TARGETS += test-sim

test-sim: $(SIM_TESTS)
	$(Q)set -e; for t in $(SIM_TESTS); do CK_DEFAULT_TIMEOUT=20 $$t; done

bench-sim: $(SIM_BENCH)
	$(Q)$(SIM_BENCH)

# Sweeps and agreement run the harness itself; what a backend needs built
# is the same as for `make scenario`.
PARAM	?=
VALUES	?=
SCENARIOS ?=

sweep: $(HARNESS_RUN_DEPS)
	$(Q)sh harness/sim/sweep.sh --harness $(HARNESS) --results $(RESULTS) \
		--name $(NAME) --param '$(PARAM)' --values '$(VALUES)' \
		--backend $(BACKEND) -- $(HARNESS_ARGS) $(SET)

# AGREE_FULL=1: full sizes instead of the [ci] variants.
agree: $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)python3 harness/sim/agree.py --harness $(HARNESS) --results $(RESULTS) \
		--scenarios '$(SCENARIOS)' $(if $(AGREE_FULL),--full) -- $(HARNESS_ARGS)

# Fit sim_timing.h's costs to emulation (CALIBRATION.md); prints, changes
# nothing.  EMU_DIRS='2m-zero=results/2m-zero/<run> ...' reuses runs.
EMU_DIRS ?=
calibrate-sim: $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)python3 harness/sim/calibrate.py --harness $(HARNESS) --results $(RESULTS) \
		$(foreach d,$(EMU_DIRS),--emu-dir $(d)) -- $(HARNESS_ARGS)
