# SPDX-License-Identifier: GPL-2.0-only
# qemu-dev/tests: device tests.  Our QEMU runs under "-accel qtest" and the
# Check runner plays guest and host through qtest and QMP (no guest kernel).

TBDEV_TEST := $(BUILD)/qemu-dev/check_tb_balloon
TBDEV_TEST_SRCS := qemu-dev/tests/check_tb_balloon.c qemu-dev/tests/tbq.c core/tb_batchlog.c
TBDEV_TEST_LIBS = $(shell pkg-config --libs check jansson 2>/dev/null || echo -lcheck -ljansson)

$(TBDEV_TEST): $(TBDEV_TEST_SRCS) qemu-dev/tests/tbq.h core/tb_proto.h core/tb_compat.h \
		core/tb_batchlog.h | $(DEPS_STAMP)
	$(msg) CCLD $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -Iqemu-dev/tests -o $@ $(TBDEV_TEST_SRCS) $(TBDEV_TEST_LIBS)

# Random registers, batches and host actions against the real device:
# TB_RANDOM_SEED=N, TB_RANDOM_OPS=N reproduce or lengthen a run.
TBDEV_RANDOM := $(BUILD)/qemu-dev/check_tb_random
TBDEV_RANDOM_SRCS := qemu-dev/tests/check_tb_random.c qemu-dev/tests/tbq.c

$(TBDEV_RANDOM): $(TBDEV_RANDOM_SRCS) qemu-dev/tests/tbq.h core/tb_proto.h core/tb_compat.h | $(DEPS_STAMP)
	$(msg) CCLD $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -Iqemu-dev/tests -o $@ $(TBDEV_RANDOM_SRCS) $(TBDEV_TEST_LIBS)

# The device's properties against core/tb_knobs.h and the spec.
TBDEV_KNOBS := $(BUILD)/qemu-dev/check_tb_knobs
TBDEV_KNOBS_SRCS := qemu-dev/tests/check_tb_knobs.c qemu-dev/tests/tbq.c core/tb_knobs.c

$(TBDEV_KNOBS): $(TBDEV_KNOBS_SRCS) qemu-dev/tests/tbq.h core/tb_knobs.h core/tb_proto.h \
		core/tb_compat.h | $(DEPS_STAMP)
	$(msg) CCLD $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -Iqemu-dev/tests -o $@ $(TBDEV_KNOBS_SRCS) $(TBDEV_TEST_LIBS)

# One test: CK_RUN_CASE=memory or CK_RUN_SUITE; CK_VERBOSITY=verbose lists each.
test-device: $(TBDEV_TEST) $(TBDEV_RANDOM) $(TBDEV_KNOBS) $(QEMU_BIN)
	$(msg) TEST "tb-balloon spec vs core/tb_proto.h"
	$(Q)qemu-dev/tests/spec-check.sh core/tb_proto.h qemu-dev/tb-balloon.txt
	$(msg) TEST "tb-balloon device (qtest)"
	$(Q)rm -rf $(BUILD)/qemu-dev/tmp && mkdir -p $(BUILD)/qemu-dev/tmp
	$(Q)TB_QEMU=$(abspath $(QEMU_BIN)) TBQ_TMPDIR=$(abspath $(BUILD))/qemu-dev/tmp \
		CK_DEFAULT_TIMEOUT=60 $(TBDEV_TEST)
	$(msg) TEST "tb-balloon properties vs core/tb_knobs.h and the spec (qtest)"
	$(Q)TB_QEMU=$(abspath $(QEMU_BIN)) TBQ_TMPDIR=$(abspath $(BUILD))/qemu-dev/tmp \
		TB_SPEC=qemu-dev/tb-balloon.txt CK_DEFAULT_TIMEOUT=60 $(TBDEV_KNOBS)
	$(msg) TEST "tb-balloon device, random guest and host (qtest)"
	$(Q)TB_QEMU=$(abspath $(QEMU_BIN)) TBQ_TMPDIR=$(abspath $(BUILD))/qemu-dev/tmp \
		$(TBDEV_RANDOM)
