# SPDX-License-Identifier: GPL-2.0-only
# harness/bench/: `make bench` -- how fast our driver + device
# reclaim memory, against virtio-balloon + Linux's virtio_balloon in the
# same run, on the same QEMU binary (only the device and driver differ).
#
#   make bench               full: 5 runs, 1G and 3G steps (< 20 min;
#                            20261201-203742: 814 s, 14.6 min under the lock)
#   make bench QUICK=1       3 runs, 512M step, 1G guest (< 3 min)
#   make bench-report DIR=results/bench/<run-id>   redo the table/plots
#   make bench-profile BENCH_ARGS=...   perf of QEMU while a subset runs
#   BENCH_REF_QEMU=/usr/bin/qemu-system-x86_64     the reference on
#                            Debian's stock QEMU instead of ours
#   BENCH_ARGS='--only emu --ioa 0 --runs 1'       development subsets
# Results: results/bench/<run-id>/{bench.md,bench.json,raw.json,
# curves/*.tsv,curves-*.png}, results/bench/latest.  Not part of `make test`.

BENCH		:= $(BUILD)/harness/bench/tb-bench
BENCH_OBJS	:= $(BUILD)/harness/bench/bench.o $(BUILD)/harness/bench/report.o
# Built on the harness's backends (emu and virtio), the plan's units and
# vocabulary, and the runner's reading of the guest console: no copies.
BENCH_HOBJS	:= $(addprefix $(BUILD)/harness/,backends/qemu.o backends/membacking.o backends/io.o \
		   backends/backend.o run/guest.o) \
		   $(patsubst %.c,$(BUILD)/%.o,$(PLAN_SRCS))
BENCH_REF_QEMU	?= $(HARNESS_QEMU)
BENCH_ARGS	?=
QUICK		?=
BENCH_QUICK	= $(filter 1 yes y true,$(QUICK))

$(BUILD)/harness/bench/%.o: harness/bench/%.c $(HARNESS_HDRS) | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) $(HARNESS_CFLAGS) -Iharness/bench -c -o $@ $<

$(BENCH): $(BENCH_OBJS) $(BENCH_HOBJS) $(CORE_LIB)
	$(msg) CCLD $@
	$(Q)$(TB_CC) -o $@ $(BENCH_OBJS) $(BENCH_HOBJS) $(CORE_LIB) $(HARNESS_LIBS)

.PHONY: bench bench-report
ALL_TARGETS += $(BENCH)
# Not run by make test (minutes of guests), but built, so that a change
# that breaks its link shows there.
TEST_TARGETS += $(BENCH)

bench: $(BENCH) $(HARNESS) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)id=$$(date +%Y%m%d-%H%M%S)$(if $(BENCH_QUICK),-quick); \
	mkdir -p $(RESULTS)/bench && \
	$(BENCH) --out $(RESULTS)/bench/$$id --qemu $(HARNESS_QEMU) \
		--ref-qemu $(BENCH_REF_QEMU) --kernel $(KERNEL_IMAGE) \
		--initrd $(INITRAMFS) --accel $(HARNESS_ACCEL) \
		--harness $(HARNESS) --sim-job harness/bench/sim-4g.ini \
		$(if $(BENCH_QUICK),--quick) $(BENCH_ARGS) && \
	ln -sfn $$id $(RESULTS)/bench/latest

bench-report: $(BENCH)
	$(Q)$(BENCH) --report $(or $(DIR),$(RESULTS)/bench/latest)

# Where a goal is not met: perf on each session's QEMU while a subset runs,
# e.g. make bench-profile BENCH_ARGS='--only emu --ioa 1 --runs 2 --sizes 1G --memory 2G'
.PHONY: bench-profile
bench-profile: $(BENCH) $(KERNEL_IMAGE) $(INITRAMFS) $(QEMU_BIN)
	$(Q)sh harness/bench/profile.sh $(RESULTS)/bench/profile-$$(date +%Y%m%d-%H%M%S) \
		$(BENCH) --qemu $(HARNESS_QEMU) --ref-qemu $(BENCH_REF_QEMU) \
		--kernel $(KERNEL_IMAGE) --initrd $(INITRAMFS) \
		--accel $(HARNESS_ACCEL) $(BENCH_ARGS)
