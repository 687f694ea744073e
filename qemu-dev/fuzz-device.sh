#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fuzz-device.sh QEMU_FUZZ_BIN MACHINE CORPUS_ROOT SECONDS [LIBFUZZER_ARGS...]
# fuzz-device.sh QEMU_FUZZ_BIN MACHINE CORPUS_ROOT merge
#
# QEMU's generic-fuzz target over one tb-balloon on MACHINE (pc or q35):
# the fuzzer maps the device's BAR, then plays the guest with MMIO reads and
# writes, PCI config accesses, virtual clock steps and DMA (every read the
# device does from guest memory is answered with fuzzer bytes).  Each input
# runs in a forked child of one booted machine.
#
# The run itself is scripts/fuzz.sh (regress/ inputs first, then SECONDS
# over a copy of CORPUS_ROOT/MACHINE; crashes in its work folder), through
# a link named after the machine, so each machine has its own work folder:
#   BIN_DIR/tb-balloon-MACHINE-target-generic-fuzz.work/{corpus,crashes,fuzz.log}
# (QEMU's fuzzer takes its target from "-target-NAME" in its own name, or
# from --fuzz-target=NAME only as the first argument, where fuzz.sh puts
# its own options.)
#
# The device runs with discard=off: generic-fuzz forks a child per input and
# a forked child has no "tb-discard" worker thread, so with discard on the
# first command that waits for the worker (a deflate or a driver reset after
# an inflate, or a batch past the queue's room) blocks until the fuzzer's
# timeout and the input's remaining commands never run.  FUZZ_DEVICE_PROPS replaces the properties
# (e.g. FUZZ_DEVICE_PROPS=discard=on to see it).
#
# "merge" instead of SECONDS: the committed CORPUS_ROOT/MACHINE and the last
# run's work corpus, minimized together (libFuzzer -merge=1 into an empty
# folder), become the committed corpus (regress/ is kept as it is).
set -eu

usage() { echo "usage: fuzz-device.sh QEMU_FUZZ_BIN pc|q35 CORPUS_ROOT SECONDS|merge [LIBFUZZER_ARGS...]" >&2; exit 2; }
[ $# -ge 4 ] || usage
bin=$1 machine=$2 root=${3%/} secs=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
case $machine in
pc|q35) ;;
*) echo "fuzz-device.sh: machine '$machine': pc or q35" >&2; exit 2;;
esac
[ -x "$bin" ] || { echo "fuzz-device.sh: $bin: not built (make qemu-fuzz)" >&2; exit 2; }
mkdir -p "$root/$machine"

props=${FUZZ_DEVICE_PROPS-discard=off}
export QEMU_FUZZ_ARGS="-machine $machine -nodefaults -device tb-balloon${props:+,$props}"
# Our device's type name: its BAR, config space and every memory region it
# owns.  Nothing else of the machine is fuzzed.
export QEMU_FUZZ_OBJECTS="tb-balloon"
# The parent process never frees its machine; its leaks are not findings.
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# QEMU's --enable-sanitizers lets UBSan report and go on; here a report
# stops the input, so libFuzzer keeps it as a crash.
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

link=$(dirname "$bin")/tb-balloon-$machine-target-generic-fuzz
ln -sfn "$(basename "$bin")" "$link"
echo "fuzz-device $machine: QEMU_FUZZ_ARGS='$QEMU_FUZZ_ARGS' QEMU_FUZZ_OBJECTS='$QEMU_FUZZ_OBJECTS'"
if [ "$secs" = merge ]; then
	work=$link.work
	[ -d "$work/corpus" ] || { echo "fuzz-device.sh: no $work/corpus (run first)" >&2; exit 2; }
	new=$(mktemp -d "$root/.merge.XXXXXX")
	trap 'rm -rf "$new"' EXIT
	before=$(find "$root/$machine" -maxdepth 1 -type f | wc -l)
	"$link" -merge=1 "$@" "$new" "$root/$machine" "$work/corpus" > "$work/merge.log" 2>&1 || {
		tail -20 "$work/merge.log" >&2
		echo "fuzz-device.sh: merge failed (log: $work/merge.log)" >&2
		exit 1
	}
	find "$root/$machine" -maxdepth 1 -type f -delete
	mv "$new"/* "$root/$machine/"
	after=$(find "$root/$machine" -maxdepth 1 -type f | wc -l)
	echo "fuzz-device $machine: corpus $before -> $after inputs, $(du -sk "$root/$machine" | cut -f1) KiB ($(grep -o 'MERGE-OUTER: [0-9]* new files.*' "$work/merge.log" | tail -1))"
	exit 0
fi
status=0
"$here/../scripts/fuzz.sh" "$link" "$root/$machine" "$secs" "$@" || status=$?
if [ "$status" != 0 ]; then
	# fuzz.sh's "reproduce" line needs the machine's variables.
	echo "  with: QEMU_FUZZ_ARGS='$QEMU_FUZZ_ARGS' QEMU_FUZZ_OBJECTS='$QEMU_FUZZ_OBJECTS'" >&2
	echo "        ASAN_OPTIONS='$ASAN_OPTIONS' UBSAN_OPTIONS='$UBSAN_OPTIONS'" >&2
	echo "  (a crash is in a forked child: libFuzzer's -minimize_crash sees none; QEMU's" >&2
	echo "  docs/devel/fuzzing.rst, \"Building Crash Reproducers\", makes a qtest trace of it)" >&2
fi
exit "$status"
