#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fuzz-device-cov.sh QEMU_FUZZ_BIN MACHINE CORPUS_DIR...
#
# What the corpus reaches of our device: runs every input once under
# generic-fuzz (as fuzz-device.sh configures it, FUZZ_DEVICE_PROPS too)
# with libFuzzer's -print_coverage=1 and sums the edges of the functions in
# hw/tb-balloon/ per file, then lists the guest-facing functions.  Edges
# count the sanitizers' checks too, so 100 % is out of reach; compare
# corpora with it, not against 100.
set -eu

[ $# -ge 3 ] || { echo "usage: fuzz-device-cov.sh QEMU_FUZZ_BIN pc|q35 CORPUS_DIR..." >&2; exit 2; }
bin=$1 machine=$2
shift 2
case $machine in pc|q35) ;; *) echo "fuzz-device-cov.sh: machine '$machine': pc or q35" >&2; exit 2;; esac
[ -x "$bin" ] || { echo "fuzz-device-cov.sh: $bin: not built (make qemu-fuzz)" >&2; exit 2; }

props=${FUZZ_DEVICE_PROPS-discard=off}
export QEMU_FUZZ_ARGS="-machine $machine -nodefaults -device tb-balloon${props:+,$props}"
export QEMU_FUZZ_OBJECTS="tb-balloon"
export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$bin" --fuzz-target=generic-fuzz -runs=0 -print_coverage=1 "$@" > "$out" 2>&1 || {
	tail -20 "$out" >&2
	echo "fuzz-device-cov.sh: the corpus did not run clean" >&2
	exit 1
}
n=$(grep -c '^COVERED_FUNC\|^UNCOVERED_FUNC' "$out" || true)
[ "$n" -gt 0 ] || { tail -20 "$out" >&2; echo "fuzz-device-cov.sh: no coverage printed" >&2; exit 1; }
inputs=$(sed -n 's/^#[0-9]*[[:space:]]*INITED.* corp: \([0-9]*\).*/\1/p' "$out" | tail -1)
echo "tb-balloon on $machine, ${inputs:-?} inputs (${props:-no properties}): edges covered"
grep -E '^(UN)?COVERED_FUNC:.*/hw/tb-balloon/' "$out" | awk '
	{ split($5, e, "/"); f = $7; sub(/:[0-9]*$/, "", f); sub(/.*\//, "", f)
	  c[f] += e[1]; t[f] += e[2]; C += e[1]; T += e[2]
	  fn[$6] = e[1] "/" e[2] }
	END {
		for (f in c) printf "  %-16s %5d / %5d\n", f, c[f], t[f]
		printf "  %-16s %5d / %5d\n", "all", C, T
		n = split("tb_mmio_read tb_mmio_write tb_run tb_entry_done tb_finish " \
			  "tb_batch_run tb_host_entry_at", g, " ")
		for (i = 1; i <= n; i++) if (g[i] in fn) printf "  %-16s %s\n", g[i], fn[g[i]]
	}'
