#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Plot harness results with gnuplot (fio_generate_plots style: a small
# script over the fixed-format curve.tsv, separate from the harness).
#
#   plot.sh RUNDIR                        RUNDIR/convergence.png, rate.png
#   plot.sh --overlay SCENDIR [RUN ...]   SCENDIR/overlay-{convergence,rate}.png
#                                         (RUN: run ids under SCENDIR or paths)
set -eu
command -v gnuplot >/dev/null || { echo "plot: gnuplot not installed (gnuplot-nox)" >&2; exit 1; }

# pngcairo when this gnuplot has it, else the libgd png terminal.
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
	term='pngcairo size 1100,600 font ",10"'
else
	term='png size 1100,600'
fi

# gnuplot string quoting: a plain path in double quotes.
q() { printf '"%s"' "$1"; }

# The device's columns (3-7) from a copy where rows that do not know them
# ("-": device unplugged, not yet ready) are blank lines: gnuplot draws
# steps across missing values, but breaks the line at a blank one.
device_rows() {
	awk -F'\t' 'NR <= 2 || $4 != "-" { print; next } { print "" }' "$1" > "$2"
}

# Step marks: a dashed line and a label per started step.
marks() {
	[ -f "$1/steps.tsv" ] || return 0
	awk -F'\t' -v from="${2:-0}" 'NR > 1 && $1 >= from {
		printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"#888888\"\n", $1, $1
		# "ready" low, steps high: a step often starts right at ready.
		if ($3 == "OOM kill") {
			printf "set arrow from %s, graph 0 to %s, graph 1 nohead lw 2 lc rgb \"#d62728\"\n", $1, $1
			printf "set label \"OOM kill\" at %s, graph 0.5 rotate by 90 center offset -0.8,0 tc rgb \"#d62728\"\n", $1
		} else if ($3 == "ready")
			printf "set label \"ready\" at %s, graph 0.02 rotate by 90 left offset -0.8,0 tc rgb \"#555555\"\n", $1
		else
			printf "set label \"%s\" at %s, graph 0.98 rotate by 90 right offset 0.8,0 tc rgb \"#555555\"\n", $3, $1
	}' "$1/steps.tsv"
}

title_of() {
	s=$(sed -n 's/.*"scenario": "\(.*\)".*/\1/p' "$1/summary.json" 2>/dev/null | head -1)
	b=$(sed -n 's/.*"backend": "\(.*\)".*/\1/p' "$1/summary.json" 2>/dev/null | head -1)
	v=$(sed -n 's/^  "verdict": "\(.*\)".*/\1/p' "$1/summary.json" 2>/dev/null | tail -1)
	echo "${s:-?} on ${b:-?} ($(basename "$(cd "$1" && pwd -P)"), ${v:-incomplete})"
}

if [ "${1:-}" != --overlay ]; then
	run=${1:?usage: plot.sh RUNDIR | --overlay SCENDIR [RUN ...]}
	[ -f "$run/curve.tsv" ] || { echo "plot: no $run/curve.tsv (run incomplete?)" >&2; exit 1; }
	title=$(title_of "$run")
	# Start 1 s before the host's target first moves: what comes before
	# (boot, workloads being set up) is flat, and a long fill step would
	# squeeze the convergence into a sliver at the right.
	from=$(awk -F'\t' 'NR == 3 { t0 = $3 } NR > 3 && $3 != t0 { print $1 - 1; exit }' "$run/curve.tsv")
	dev=$(mktemp /tmp/tb-plot.XXXXXX)
	trap 'rm -f "$dev"' EXIT
	device_rows "$run/curve.tsv" "$dev"
	gnuplot <<GP
set terminal $term
set datafile separator "\t"
set datafile missing "-"
set key outside bottom center horizontal
set grid
set xlabel "time since QEMU start (s)"
${from:+set xrange [$from:*]}
$(marks "$run" "$from")
set output $(q "$run/convergence.png.part")
set title $(q "$title: reservation and target")
set ylabel "MiB"
plot $(q "$dev") skip 2 using 1:3 with steps lw 2 lc rgb "#d62728" title "target", \
     "" skip 2 using 1:4 with steps lw 2 lc rgb "#1f77b4" title "reservation", \
     "" skip 2 using 1:5 with steps lw 1 lc rgb "#2ca02c" title "balloon", \
     "" skip 2 using 1:6 with steps lw 1 dt 2 lc rgb "#17becf" title "balloon in 4 KiB pages", \
     "" skip 2 using 1:7 with steps lw 1 dt 2 lc rgb "#bcbd22" title "balloon in 2 MiB pages", \
     $(q "$run/curve.tsv") skip 2 using 1:9 with lines lw 1 dt 3 lc rgb "#9467bd" title "guest available", \
     "" skip 2 using 1:10 with lines lw 1 dt 4 lc rgb "#8c564b" title "QEMU RSS"
set output $(q "$run/rate.png.part")
set title $(q "$title: reclamation rate")
set ylabel "MiB/s (+ inflating, - deflating)"
plot $(q "$run/curve.tsv") skip 2 using 1:11 with fsteps lw 1.5 lc rgb "#ff7f0e" title "rate"
GP
	mv "$run/convergence.png.part" "$run/convergence.png"
	mv "$run/rate.png.part" "$run/rate.png"
	echo "plot: $run/convergence.png $run/rate.png"
	exit 0
fi

shift
dir=${1:?usage: plot.sh --overlay SCENDIR [RUN ...]}
shift
[ $# -gt 0 ] || { echo "plot: no runs given and none found in $dir" >&2; exit 1; }
conv="" rate="" n=0
for r in "$@"; do
	[ -d "$r" ] || r="$dir/$r"
	[ -f "$r/curve.tsv" ] || { echo "plot: $r has no curve.tsv, skipped" >&2; continue; }
	t=$(title_of "$r")
	sep=${conv:+, }
	conv="$conv$sep$(q "$r/curve.tsv") skip 2 using 1:4 with steps lw 2 title $(q "$t reservation"), \"\" skip 2 using 1:3 with steps lw 1 dt 2 title $(q "$t target")"
	rate="$rate$sep$(q "$r/curve.tsv") skip 2 using 1:11 with fsteps lw 1.5 title $(q "$t")"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "plot: nothing to plot" >&2; exit 1; }
gnuplot <<GP
set terminal $term
set datafile separator "\t"
set datafile missing "-"
set key outside bottom center vertical maxrows 4
set grid
set xlabel "time since QEMU start (s)"
set output $(q "$dir/overlay-convergence.png.part")
set title "$(basename "$dir"): reservation and target, $n runs"
set ylabel "MiB"
plot $conv
set output $(q "$dir/overlay-rate.png.part")
set title "$(basename "$dir"): reclamation rate, $n runs"
set ylabel "MiB/s"
plot $rate
GP
mv "$dir/overlay-convergence.png.part" "$dir/overlay-convergence.png"
mv "$dir/overlay-rate.png.part" "$dir/overlay-rate.png"
echo "plot: $dir/overlay-convergence.png $dir/overlay-rate.png"
