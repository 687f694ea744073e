# core/: protocol header and pure C logic, built for user space as a static
# library the harness and simulator link; the device and the driver compile
# the same .c files in their own build systems.

# SANITIZE=1 (`make test SANITIZE=1`): core/, the harness and the simulator
# are built with AddressSanitizer and UndefinedBehaviorSanitizer into their
# own object tree, $(BUILD)/san/, so a sanitized build never overwrites the
# normal one (or the reverse).  TB_OBJ is the object root for these three;
# QEMU, the kernel and the initramfs stay where they are.  harness.mk picks
# the tests that run.
SANITIZE ?=
ifeq ($(SANITIZE),1)
TB_OBJ		:= $(BUILD)/san
TB_SAN_FLAGS	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
else
TB_OBJ		:= $(BUILD)
TB_SAN_FLAGS	:=
endif
TB_SAN_CC	= $(TB_CC) $(TB_SAN_FLAGS)

CORE_SRCS := $(filter-out core/check_%.c core/fuzz_%.c,$(wildcard core/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(TB_OBJ)/%.o)
CORE_LIB  := $(TB_OBJ)/core/libtbcore.a
CORE_TESTS := $(patsubst core/%.c,$(TB_OBJ)/core/%,$(wildcard core/check_*.c))

CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

$(TB_OBJ)/core/%.o: core/%.c core/*.h | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_SAN_CC) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(TB_OBJ)/core/check_%: core/check_%.c $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_SAN_CC) -o $@ $< $(CORE_LIB) $(CHECK_LIBS)

.PHONY: core test-core
core: $(CORE_LIB)
ALL_TARGETS += core
TEST_TARGETS += test-core

# Each Check runner prints its own summary line; any failure fails the target.
test-core: $(CORE_TESTS)
	$(Q)set -e; for t in $(CORE_TESTS); do CK_DEFAULT_TIMEOUT=10 $$t; done

# ---- fuzzing ----
# core/fuzz_batch.c: the guest's commands (tb_batch.c, tb_host.c) and
# stats pages (tb_gstats.c) under
# libFuzzer with ASan and UBSan.  scripts/fuzz.sh runs it over a copy of
# core/fuzz/batch/ (seeds; regress/ holds past crashes, replayed first).
FUZZ_NAMES	+= batch
FUZZ_CORPUS_batch := core/fuzz/batch
FUZZ_ARGS_batch	:= -max_len=16384
$(BUILD)/fuzz/batch: core/fuzz_batch.c core/tb_batch.c core/tb_host.c \
		core/tb_gstats.c core/*.h core/fuzz/batch-nocov.txt | $(DEPS_STAMP)
	$(msg) FUZZ $@
	$(Q)mkdir -p $(dir $@) && $(FUZZ_CC) $(FUZZ_CFLAGS) \
		-fsanitize-coverage-ignorelist=core/fuzz/batch-nocov.txt \
		-o $@ core/fuzz_batch.c core/tb_batch.c core/tb_host.c \
		core/tb_gstats.c
