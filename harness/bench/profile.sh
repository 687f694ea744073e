#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Profile QEMU's threads while tb-bench runs a subset (where a
# goal is not met, say what limits it).  perf (Debian's linux-perf) samples
# every session's QEMU process with call graphs; one report per session.
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
		perf record -q -F 499 -g -p "$(cat "$f")" -o "$out/$s.perf.data" \
			>/dev/null 2>&1 &
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
done
