# SPDX-License-Identifier: GPL-2.0-only
# qemu-dev/: the whole device under QEMU's own generic-fuzz target.  The same
# source tree, graft, configure flags and ninja recipes as `make qemu`
# (qemu-dev.mk), built a second time by clang with --enable-fuzzing (libFuzzer)
# and --enable-sanitizers (ASan, UBSan) into its own folder.  Only
# qemu-fuzz-x86_64 is built.
#
#   make fuzz-device                       build, then FUZZ_DEVICE_SECONDS (60)
#                                          per machine over the committed corpus
#   make fuzz-device FUZZ_DEVICE_MACHINES=q35 FUZZ_DEVICE_SECONDS=1800
#   make fuzz-device-merge                 the last runs' finds, minimized with
#                                          the committed corpus, replace it

QEMU_FUZZ_OBJ := $(BUILD)/qemu-fuzz
QEMU_FUZZ_BIN := $(QEMU_FUZZ_OBJ)/qemu-fuzz-x86_64
QEMU_FUZZ_CONF_STAMP := $(QEMU_FUZZ_OBJ)/.tb-configured
QEMU_FUZZ_CC ?= clang
QEMU_FUZZ_CXX ?= clang++
# The normal build's list, plus the compiler and fuzzing.  No -Werror: the
# gcc build is the one that keeps QEMU's warnings in check.
QEMU_FUZZ_CONFIGURE_FLAGS := $(QEMU_CONFIGURE_FLAGS) \
	--cc=$(QEMU_FUZZ_CC) --cxx=$(QEMU_FUZZ_CXX) \
	--enable-fuzzing --enable-sanitizers --disable-werror
QEMU_FUZZ_FLAGS_FILE := $(BUILD)/qemu-fuzz-configure.flags

FUZZ_DEVICE_SECONDS ?= 60
FUZZ_DEVICE_MACHINES ?= pc q35
FUZZ_DEVICE_CORPUS := qemu-dev/fuzz-corpus

$(QEMU_FUZZ_FLAGS_FILE): qemu-dev-force
	$(call qemu_flags_file,QEMU_FUZZ_CONFIGURE_FLAGS)

$(QEMU_FUZZ_CONF_STAMP): $(QEMU_FUZZ_FLAGS_FILE) | $(QEMU_FETCH_STAMP)
	$(call qemu_configure,$(QEMU_FUZZ_OBJ),QEMU_FUZZ_CONFIGURE_FLAGS)
	$(Q)touch $@

$(QEMU_FUZZ_BIN): $(QEMU_FUZZ_CONF_STAMP) $(QEMU_DEV_FILES) $(QEMU_CORE_FILES)
	$(call qemu_ninja,$(QEMU_FUZZ_OBJ),qemu-fuzz-x86_64)
	$(Q)touch $@

.PHONY: qemu-fuzz fuzz-device fuzz-device-merge
qemu-fuzz: $(QEMU_FUZZ_BIN)
fuzz-device: $(QEMU_FUZZ_BIN)
	$(Q)$(foreach m,$(FUZZ_DEVICE_MACHINES),qemu-dev/fuzz-device.sh $(QEMU_FUZZ_BIN) \
		$(m) $(FUZZ_DEVICE_CORPUS) $(FUZZ_DEVICE_SECONDS) &&) true
fuzz-device-merge: $(QEMU_FUZZ_BIN)
	$(Q)$(foreach m,$(FUZZ_DEVICE_MACHINES),qemu-dev/fuzz-device.sh $(QEMU_FUZZ_BIN) \
		$(m) $(FUZZ_DEVICE_CORPUS) merge &&) true
