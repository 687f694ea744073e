#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The whole pipeline's speed: each scenario through the harness on the sim
# backend (parse, run, curve, summary; no plots), virtual seconds per wall
# second.  Usage: bench.sh HARNESS RESULTS-DIR [SCENARIO...]
set -eu
harness=$1 results=$2
shift 2
[ $# -gt 0 ] || set -- $(ls scenarios/*.ini | grep -v "/_")
rm -rf "$results" && mkdir -p "$results"
for f in "$@"; do
	n=$(basename "$f" .ini)
	t0=$(date +%s.%N)
	"$harness" --quiet --backend sim --results "$results" --run-id bench "$f" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	curve="$results/$n/bench/curve.tsv"
	[ -f "$curve" ] || { echo "bench-sim: $n: no curve" >&2; continue; }
	mem=$(sed -n 's/.*"memory": \([0-9]*\).*/\1/p' "$results/$n/bench/summary.json" | head -1)
	awk -F'\t' -v n="$n" -v t0="$t0" -v t1="$t1" -v mem="$mem" '
		$1 ~ /^[0-9.]+$/ { v = $1 }
		END { w = t1 - t0; printf "bench-sim: %-18s %5.0f MiB guest, %6.1f s virtual in %.3f s wall: %6.0f x\n", n, mem / 1048576, v, w, v / w }' "$curve"
done
