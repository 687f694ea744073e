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

# Before the rule: make expands a rule's prerequisites where it reads it.
TEST_TARGETS += check-help
test: deps $(TEST_TARGETS)
	@echo "make test: all passed"

# `make help`: every target, by the folder that defines it.
# scripts/check-help.sh (in `make test`) fails when a .PHONY target is
# missing here.
help:
	@printf '%s\n' \
	"The two commands: make scenario NAME=pinned-2g, make test." \
	"" \
	"top level" \
	"  make / make all            QEMU with our device, module, initramfs, harness, tools" \
	"  make test                  every test (about 30 min); SANITIZE=1: host code under ASan + UBSan" \
	"  make deps                  install missing Debian packages (root)" \
	"  make fuzz FUZZ_SECONDS=N   every libFuzzer target N s (default 60; crashes -> regress/)" \
	"  make test-fuzz             the same, as part of make test" \
	"  make help                  this list" \
	"  make check-help            this list against every .PHONY target" \
	"  make clean                 remove what was built, keep downloads (QEMU source, guest kernel)" \
	"  make distclean             remove build/ entirely" \
	"core/" \
	"  make core                  libtbcore.a: protocol, host and guest decisions, knob table" \
	"  make test-core             Check unit tests of core/" \
	"qemu-dev/" \
	"  make qemu                  Debian's QEMU 7.2 with the tb-balloon device (build/qemu-build)" \
	"  make test-device           device tests against the built QEMU (qtest, QMP)" \
	"  make qemu-dev-force        (internal) re-check QEMU's configure flags" \
	"  make qemu-fuzz             the same QEMU by clang, --enable-fuzzing + ASan/UBSan (build/qemu-fuzz)" \
	"  make fuzz-device           generic-fuzz over tb-balloon, pc and q35, FUZZ_DEVICE_SECONDS (60) each" \
	"  make fuzz-device-merge     the last fuzz-device runs' new inputs, minimized into qemu-dev/fuzz-corpus" \
	"guest-driver/" \
	"  make guest                 guest kernel (downloaded), tb_balloon.ko, agent, initramfs" \
	"  make boot                  boot the guest with our device and driver once" \
	"  make test-driver           in-guest self-test of the driver" \
	"  make test-driver-params    the module's parameters (modinfo) against core/tb_knobs.h" \
	"  make test-kernel-6.12      GUEST_KERNEL=6.12: five scenarios at CI size and the virtio reference" \
	"harness/" \
	"  make harness               the scenario runner (build/harness/harness)" \
	"  make scenario NAME=x       run scenarios/x.ini (BACKEND=emu|virtio|libvirt|sim, SET='k=v step.k=v')" \
	"  make plot NAME=x [RUNS=..] overlay the last two (or the named) runs of a scenario" \
	"  make regress [ONLY=..]     every scenario at CI size, one line each; junit.xml, regress.json, index.html" \
	"  make test-machine-pc       four key scenarios at CI size on the pc machine (q35 is the default)" \
	"  make regress-breakage      every expectation under its '# breaks:' override: must fail (~30 min; BACKEND=sim: seconds)" \
	"  make test-breakage-sim     the same on the simulator, as part of make test" \
	"  make test-harness          the four below" \
	"  make test-harness-parse    parser cases (harness/tests/parse)" \
	"  make test-harness-bounded  bounded runs on a real guest" \
	"  make test-harness-hostile  a misbehaving fake QEMU on QMP, agent and console" \
	"  make test-harness-faults   panic, agent killed, disk full, SIGINT on real runs" \
	"  make test-harness-san-emu  one CI scenario with the sanitized harness (SANITIZE=1)" \
	"harness/report/" \
	"  make regress JOBS=N        the same, N scenarios at a time (GNU parallel); reports in results/regress/<run-id>/" \
	"  make regress HOSTS=file    across the hosts of a parallel --sshloginfile (RUN_ID=id RESUME=1 reruns lost jobs)" \
	"  make dist                  build/dist/tb-dist.tar.gz: what a HOSTS machine needs (BACKEND=sim: the harness only)" \
	"  make test-report           junit.xml, regress.json, HTML pages in headless Chromium, on sim runs" \
	"  make test-fanout           sim regress (one host killed, resumed), breakage, sweep, compare over two sshd on 127.0.0.1" \
	"harness/sim/" \
	"  make test-sim              Check tests of the model, and seed determinism" \
	"  make bench-sim             virtual seconds per wall second" \
	"  make agree [SCENARIOS=..]  each scenario on sim and emu, compared" \
	"  make calibrate-sim         fit the model's costs to emulation (prints only)" \
	"harness/tune/" \
	"  make compare NAME=x A='k=v' B='k=v' [RUNS=5]   A/B, interleaved, every metric (A_KO/B_KO, A_QEMU/B_QEMU)" \
	"  make sweep NAME=x PARAM=k VALUES=a,b [RUNS=n] [PARAM2=k2 VALUES2=..]   kept in results/sweeps/" \
	"  make test-tune             compare and sweep on the simulator, the identity check" \
	"harness/backends/libvirt/" \
	"  make lv-tool               the libvirt helper tool" \
	"  make test-libvirt          one scenario through a private libvirtd" \
	"  make test-libvirt-remote   one CI scenario through LIBVIRT_URI=qemu+ssh:// (sshd on 127.0.0.1)" \
	"  make libvirtd-start / libvirtd-stop   a private libvirtd by hand" \
	"harness/bench/" \
	"  make bench [QUICK=1]       our device + driver against virtio-balloon, same run" \
	"  make bench-report DIR=..   redo a bench's table and plots" \
	"  make bench-profile         perf of QEMU while a bench subset runs" \
	"" \
	"V=1 shows full commands; BUILD=dir builds elsewhere; GUEST_KERNEL=6.12 another Debian guest kernel (build/guest-6.12)."

.PHONY: check-help
check-help:
	$(Q)sh scripts/check-help.sh $(MAKE)

# What was built goes; what was downloaded stays: QEMU's source (with our
# files grafted in, refreshed by every build) and the guest kernel.  Named
# by what stays, so whatever a .mk adds under $(BUILD) goes too.
GUEST_DOWNLOADS	:= kernel kver vmlinuz apt-headers.log apt root buildroot root.list root.log
clean:
	[ ! -d $(BUILD) ] || find $(BUILD) -mindepth 1 -maxdepth 1 \
		! -name qemu-src ! -name guest ! -name 'guest-*' -exec rm -rf {} +
	[ ! -d $(GUEST_DIR) ] || find $(GUEST_DIR) -mindepth 1 -maxdepth 1 \
		$(foreach f,$(GUEST_DOWNLOADS),! -name $(f)) -exec rm -rf {} +

distclean:
	rm -rf $(BUILD)
