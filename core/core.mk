# core/: protocol header and pure C logic, built for user space as a static
# library the harness and simulator link; the device and the driver compile
# the same .c files in their own build systems.

CORE_SRCS := $(filter-out core/check_%.c,$(wildcard core/*.c))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
CORE_LIB  := $(BUILD)/core/libtbcore.a
CORE_TESTS := $(patsubst core/%.c,$(BUILD)/core/%,$(wildcard core/check_*.c))

CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

$(BUILD)/core/%.o: core/%.c core/*.h | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -c -o $@ $<

$(CORE_LIB): $(CORE_OBJS)
	$(msg) AR $@
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/core/check_%: core/check_%.c $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_CC) -o $@ $< $(CORE_LIB) $(CHECK_LIBS)

.PHONY: core test-core
core: $(CORE_LIB)
ALL_TARGETS += core
TEST_TARGETS += test-core

# Each Check runner prints its own summary line; any failure fails the target.
test-core: $(CORE_TESTS)
	$(Q)set -e; for t in $(CORE_TESTS); do CK_DEFAULT_TIMEOUT=10 $$t; done
