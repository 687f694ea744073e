# SPDX-License-Identifier: GPL-2.0-only
# harness/sim/: the "sim" backend -- the same scenarios without QEMU, on a
# virtual clock, compiling core/ (included by harness/harness.mk).
#
#   make scenario NAME=x BACKEND=sim    one scenario (harness.mk's target)
#   make regress BACKEND=sim            every scenario, simulated
#   make test-sim                       Check unit tests of the model
#   make bench-sim                      virtual seconds per wall second
#   make agree [SCENARIOS='a b']        each scenario on sim and emu, compared

SIM_MODEL_SRCS	:= harness/sim/sim.c harness/sim/sim_mem.c harness/sim/sim_timing.c
SIM_MODEL_OBJS	:= $(SIM_MODEL_SRCS:%.c=$(TB_OBJ)/%.o)
SIM_TESTS	:= $(patsubst harness/sim/%.c,$(TB_OBJ)/harness/sim/%,$(wildcard harness/sim/check_*.c))
SIM_BENCH	:= $(BUILD)/harness/sim/sim_bench
# The model reads knob values with the plan's unit parsers (the harness
# links them already; the model's own programs add them).
SIM_UNITS_OBJ	:= $(TB_OBJ)/harness/plan/units.o

HARNESS_BACKEND_OBJS += $(SIM_MODEL_OBJS)

$(TB_OBJ)/harness/sim/%.o: harness/sim/%.c harness/sim/*.h core/*.h | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_SAN_CC) -Iharness -Iharness/sim -c -o $@ $<

$(TB_OBJ)/harness/sim/check_%: harness/sim/check_%.c $(SIM_MODEL_OBJS) $(SIM_UNITS_OBJ) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_SAN_CC) -Iharness/sim -o $@ $< $(SIM_MODEL_OBJS) $(SIM_UNITS_OBJ) $(CORE_LIB) $(CHECK_LIBS) -lm

$(SIM_BENCH): harness/sim/sim_bench.c $(SIM_MODEL_OBJS) $(SIM_UNITS_OBJ) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_CC) -Iharness/sim -o $@ $< $(SIM_MODEL_OBJS) $(SIM_UNITS_OBJ) $(CORE_LIB) -lm

.PHONY: test-sim bench-sim agree calibrate-sim
TEST_TARGETS += test-sim

# The Check tests, then the whole pipeline's determinism: the same scenario
# and seed twice through the harness give byte-identical curves, another
# seed does not.
SIM_DET_DIR = $(TB_OBJ)/harness/sim/determinism
test-sim: $(SIM_TESTS) $(HARNESS)
	$(Q)set -e; for t in $(SIM_TESTS); do CK_DEFAULT_TIMEOUT=20 $$t; done
	$(Q)rm -rf $(SIM_DET_DIR) && for r in a b c; do \
		$(HARNESS) --quiet --backend sim --ci --results $(SIM_DET_DIR) \
			--run-id $$r scenarios/churn.ini $$([ $$r = c ] && echo seed=2) \
			>/dev/null 2>&1 || true; done
	$(Q)cmp $(SIM_DET_DIR)/churn/a/curve.tsv $(SIM_DET_DIR)/churn/b/curve.tsv && \
		cmp $(SIM_DET_DIR)/churn/a/batches.tsv $(SIM_DET_DIR)/churn/b/batches.tsv && \
		! cmp -s $(SIM_DET_DIR)/churn/a/curve.tsv $(SIM_DET_DIR)/churn/c/curve.tsv && \
		echo "test-sim: same seed, byte-identical curve.tsv and batches.tsv; another seed, another curve" || \
		{ echo "test-sim: determinism broken (see $(SIM_DET_DIR))" >&2; exit 1; }

# The model alone (4 GiB guest, 60 s), then every scenario through the
# harness; each line says virtual seconds per wall second.
bench-sim: $(SIM_BENCH) $(HARNESS)
	$(Q)$(SIM_BENCH)
	$(Q)sh harness/sim/bench.sh $(HARNESS) $(BUILD)/harness/sim/bench

# Agreement runs the harness itself; what a backend needs built is the same
# as for `make scenario`.
SCENARIOS ?=

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
