# SPDX-License-Identifier: GPL-2.0-only
# guest-driver/tests: host-side checks of the built module (no guest boot).
# The in-guest tests are test-driver in guest-driver.mk.

DRV_PARAMS_TEST := $(BUILD)/guest/check_params
DRV_PARAMS_SRCS := guest-driver/tests/check_params.c core/tb_knobs.c

$(DRV_PARAMS_TEST): $(DRV_PARAMS_SRCS) core/tb_knobs.h core/tb_compat.h | $(DEPS_STAMP)
	$(msg) CCLD $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -o $@ $(DRV_PARAMS_SRCS) $(CHECK_LIBS)

# The module's parameters (modinfo) against core/tb_knobs.h.
.PHONY: test-driver-params
test-driver-params: $(DRV_PARAMS_TEST) $(MODULE_KO)
	$(msg) TEST "tb_balloon parameters (modinfo) vs core/tb_knobs.h"
	$(Q)TB_MODULE=$(MODULE_KO) CK_DEFAULT_TIMEOUT=30 $(DRV_PARAMS_TEST)
TEST_TARGETS += test-driver-params
