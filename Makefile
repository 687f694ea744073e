# SPDX-License-Identifier: GPL-2.0-only
# balloon-testbed: the two commands are `make scenario NAME=pinned-2g` and
# `make test`.  Each directory brings its own small *.mk; this file only
# sets the shared flags and includes them.

BUILD	?= build
V	?= 0
ifeq ($(V),1)
Q	:=
msg	= @true
else
Q	:= @
msg	= @printf '  %-7s %s\n'
endif

# The user's CFLAGS are respected; ours are added, never replaced.
CFLAGS	?= -O2 -g
TB_CFLAGS := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Icore
TB_CC	= $(CC) $(TB_CFLAGS) $(CPPFLAGS) $(CFLAGS)

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.PHONY: all deps test clean distclean help

# Debian packages: installed when missing (as root), else one clear message.
DEPS_STAMP := $(BUILD)/.deps-ok
deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	$(msg) DEPS "Debian packages"
	$(Q)mkdir -p $(BUILD) && scripts/deps.sh && touch $@

include core/core.mk
include qemu-dev/qemu-dev.mk
include guest-driver/guest-driver.mk
include harness/harness.mk

# Fuzzing: each *.mk appends a name to FUZZ_NAMES, builds $(BUILD)/fuzz/NAME
# and sets FUZZ_CORPUS_NAME (and FUZZ_ARGS_NAME); scripts/fuzz.sh runs it
# over a copy of that corpus after replaying its regress/ inputs.
FUZZ_SECONDS ?= 60
FUZZ_CC	?= clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Icore -Wall -Wextra -Wno-unused-parameter \
	       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_BINS = $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
.PHONY: fuzz test-fuzz
fuzz test-fuzz: $(FUZZ_BINS)
	$(Q)$(foreach n,$(FUZZ_NAMES),scripts/fuzz.sh $(BUILD)/fuzz/$(n) \
		$(FUZZ_CORPUS_$(n)) $(FUZZ_SECONDS) $(FUZZ_ARGS_$(n)) &&) true
# The fuzz targets carry their own sanitizers: SANITIZE=1 leaves them out.
ifneq ($(SANITIZE),1)
TEST_TARGETS += test-fuzz
endif

all: deps $(ALL_TARGETS)

test: deps $(TEST_TARGETS)
	@echo "make test: all passed"

help:
	@echo "make                      build QEMU with our device, kernel module, initramfs, harness"
	@echo "make scenario NAME=x      run scenarios/x (BACKEND=emu|virtio|libvirt|sim, SET='k=v ...')"
	@echo "make test                 unit tests, device and driver tests, boot smoke, regression"
	@echo "make boot                 boot the guest with our device and driver once"
	@echo "make deps                 install missing Debian packages (root)"
	@echo "make fuzz [FUZZ_SECONDS=N] run every libFuzzer target N s (default 60; crashes -> regress/)"
	@echo "make test SANITIZE=1      core/, harness and simulator tests under ASan + UBSan (build/san/)"
	@echo "V=1                       show full commands"

clean:
	rm -rf $(BUILD)/core $(BUILD)/harness $(BUILD)/guest
