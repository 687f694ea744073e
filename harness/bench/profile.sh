#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Profile QEMU's threads while tb-bench runs a subset (where a
# goal is not met, say what limits it).  perf (Debian's linux-perf) samples
# every session's QEMU process with call graphs; one report per session,
# and one per kind of inflate step cut to the steps' windows.
#
#   profile.sh OUTDIR TB-BENCH-ARGS...     e.g.
#   profile.sh /tmp/prof build/harness/bench/tb-bench --qemu ... --only emu --ioa 1
set -eu
command -v perf >/dev/null || { echo "profile: perf not installed (linux-perf)" >&2; exit 1; }
out=${1:?usage: profile.sh OUTDIR TB-BENCH ARGS...}
shift
mkdir -p "$out"
"$@" --out "$out" >"$out/bench.log" 2>&1 &
bench=$!
seen=""
# Each session writes OUTDIR/<session>/qemu.pid when its QEMU starts.
while kill -0 "$bench" 2>/dev/null; do
	for f in "$out"/*/qemu.pid; do
		[ -f "$f" ] || continue
		s=$(basename "$(dirname "$f")")
		case " $seen " in *" $s "*) continue ;; esac
		seen="$seen $s"
		perf record -q -F 499 -g -k CLOCK_MONOTONIC -p "$(cat "$f")" \
			-o "$out/$s.perf.data" >/dev/null 2>&1 &
	done
	sleep 0.5
done
wait "$bench" || echo "profile: tb-bench failed, see $out/bench.log" >&2
sleep 1
for s in $seen; do
	perf report -q -i "$out/$s.perf.data" --stdio --no-children \
		--sort comm,dso,sym 2>/dev/null | grep -v '^$' | grep '%' |
		head -40 >"$out/$s.top.txt" || true
	echo "== $s: $out/$s.top.txt"
	head -25 "$out/$s.top.txt"
	# The inflates alone: each step's CLOCK_MONOTONIC window (raw.json's
	# mono_s, the clock perf stamped its samples with), one profile per
	# kind of step ("touched" label), by thread and by symbol.
	be=${s%-ioa*} ioa=${s##*-ioa}
	jq -r --arg be "$be" --argjson ioa "$ioa" '.records[] |
		select(.metric == "inflate_settle" and .backend == $be and
		       .init_on_alloc == $ioa and .mono_s != null) | .touched' \
		"$out/raw.json" 2>/dev/null | sort -u | while read -r t; do
		win=$(jq -r --arg be "$be" --argjson ioa "$ioa" --arg t "$t" \
			'[.records[] | select(.metric == "inflate_settle" and
			  .backend == $be and .init_on_alloc == $ioa and
			  .touched == $t) | .mono_s | "\(.[0]),\(.[1])"] |
			 join(" ")' "$out/raw.json")
		o="$out/$s-inflate-$t"
		perf report -q -i "$out/$s.perf.data" --stdio --no-children \
			--time "$win" --sort pid 2>/dev/null | grep '%' \
			>"$o.threads.txt" || true
		perf report -q -i "$out/$s.perf.data" --stdio --no-children \
			--time "$win" --sort comm,dso,sym -g none 2>/dev/null |
			grep '%' | head -40 >"$o.top.txt" || true
		echo "== $s, inflates $t (windows $win): $o.threads.txt, $o.top.txt"
		cat "$o.threads.txt"
		head -15 "$o.top.txt"
	done
done
