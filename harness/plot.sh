#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Plot harness results with gnuplot (fio_generate_plots style: a small
# script over the fixed-format curve.tsv, separate from the harness).
#
#   plot.sh RUNDIR                        RUNDIR/convergence.png, rate.png
#                                         (and batch-rate.png when the run
#                                         has batches.tsv)
#                                         (and buddyinfo.png when the run
#                                         has buddyinfo.tsv)
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

# gnuplot string quoting: single quotes, a ' doubled.  Never double
# quotes: gnuplot expands `...` (a shell command) and \ escapes in those.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

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
		else {
			# A gnuplot single-quoted string (no `...` or \ in it).
			name = $3; gsub(/\047/, "\047\047", name)
			printf "set label \047%s\047 at %s, graph 0.98 rotate by 90 right offset 0.8,0 tc rgb \"#555555\"\n", name, $1
		}
	}' "$1/steps.tsv"
}

# RUNDIR/buddyinfo.png from RUNDIR/buddyinfo.tsv (the guest's free blocks
# of each order, when the agent reported them): above, the blocks of each
# order, log scale; below, the free memory they hold, stacked by order, so
# fragmentation shows as memory moving from the large orders to order 0.
plot_buddy() {
	run=$1 title=$2
	bt=$(mktemp /tmp/tb-plot-buddy.XXXXXX)
	# Cumulative MiB by order (column 2 + o: orders 0..o), as steps: each
	# row is repeated at the next row's time before that row.
	awk -F'\t' '/^#/ { next } $1 == "time_s" {
		n = 0; for (i = 3; i <= NF; i++) if ($i ~ /^o[0-9]+$/) n++
		print n > "/dev/stderr"; next }
	{ s = 0; row = ""
	  for (o = 0; o < n; o++) { if ($(3 + o) != "-") s += $(3 + o) * (2 ^ o) / 256
				    row = row sprintf("\t%.3f", s) }
	  if (prev != "") print $1 prev
	  print $1 row; prev = row }' "$run/buddyinfo.tsv" >"$bt" 2>"$bt.n"
	n=$(cat "$bt.n")
	rm -f "$bt.n"
	if [ "${n:-0}" -lt 1 ] || [ ! -s "$bt" ]; then
		rm -f "$bt"
		return 0
	fi
	from=$(awk 'NR == 1 { print $1 - 0.5 }' "$bt")
	blocks="" stack=""
	o=0
	while [ "$o" -lt "$n" ]; do
		c="palette frac $(awk -v o="$o" -v n="$n" 'BEGIN { print (n > 1 ? o / (n - 1) : 0) }')"
		sep=${blocks:+, }
		blocks="$blocks$sep$(q "$run/buddyinfo.tsv") skip 2 using 1:(\$$((o + 3)) > 0 ? \$$((o + 3)) : 1/0) with steps lw 1.5 lc $c title \"order $o ($(awk -v o="$o" 'BEGIN { k = 4 * 2 ^ o; print (k >= 1024 ? k / 1024 " MiB" : k " KiB") }'))\""
		lo=$([ "$o" -eq 0 ] && echo 0 || echo "\$$((o + 1))")
		stack="$stack$sep$(q "$bt") using 1:($lo):$((o + 2)) with filledcurves lc $c fs solid 0.8 notitle"
		o=$((o + 1))
	done
	gnuplot <<GP
set terminal $term
set output $(q "$run/buddyinfo.png.part")
set datafile separator "\t"
set datafile missing "-"
set palette defined (0 "#440154", 0.25 "#3b528b", 0.5 "#21918c", 0.75 "#5ec962", 1 "#fde725")
unset colorbox
set grid
set xrange [$from:*]
$(marks "$run" "$from")
set multiplot layout 2,1 title $(q "$title: free memory by order (/proc/buddyinfo)")
set lmargin at screen 0.08
set rmargin at screen 0.80
set key outside right top vertical
set ylabel "free blocks (log)"
set logscale y
set format x ""
plot $blocks
unset logscale y
set format x "%g"
set xlabel "time since QEMU start (s)"
set ylabel "free MiB, stacked by order"
set yrange [0:*]
plot $stack, $(q "$bt") using 1:$((n + 1)) with steps lw 1 lc rgb "#000000" title "free (all orders)"
unset multiplot
GP
	rm -f "$bt"
	mv "$run/buddyinfo.png.part" "$run/buddyinfo.png"
	echo "plot: $run/buddyinfo.png"
}

# RUNDIR/batch-rate.png from RUNDIR/batches.tsv (every batch the device
# served, on its clock): above, the reclamation rate against the time
# since the target was set: in 10 ms bins, and over the 100 ms before each
# moment (a trailing window every 10 ms, the metrics' rate_peak_mibs
# window); below, the MiB reclaimed since then.  One curve per target
# change (the first 8), from the moment the device saw the target until
# the next target.
BATCH_SEGS=8
plot_batches() {
	run=$1 title=$2
	bd=$(mktemp -d /tmp/tb-plot-batches.XXXXXX)
	# Per segment (a target record and what follows it): r10 (bin start s,
	# MiB/s), r100 (s, MiB/s over the 100 ms before), cum (s, MiB as
	# steps); + = balloon growth (inflating).  Segments are datasets two
	# blank lines apart; segs: index, target MiB; xmax: the x range.
	awk -F'\t' -v dir="$bd" -v max="$BATCH_SEGS" '
	function mib(pages) { return pages * 4096 / 1048576 }
	function flush(   nb, b, j, g, t, lo, hi, d) {
		if (seg < 0 || seg >= max) return
		end = n ? ts[n] : 0
		if (end > xmax) xmax = end
		sep = seg ? "\n\n" : ""
		delete bin; nb = int(end / 0.01)
		for (j = 1; j <= n; j++) bin[int(ts[j] / 0.01)] += dp[j]
		printf "%s", sep > (dir "/r10")
		for (b = 0; b <= nb + 1; b++)
			printf "%.4f\t%.3f\n", b * 0.01, mib(bin[b]) / 0.01 > (dir "/r10")
		# Trailing 100 ms: records in (t - 0.1, t], two pointers.
		printf "%s", sep > (dir "/r100")
		lo = hi = 0; cum[0] = 0
		for (j = 1; j <= n; j++) cum[j] = cum[j - 1] + dp[j]
		for (g = 0; g * 0.01 <= end + 0.1 + 1e-9; g++) {
			t = g * 0.01
			while (hi < n && ts[hi + 1] <= t + 1e-9) hi++
			while (lo < hi && ts[lo + 1] <= t - 0.1 + 1e-9) lo++
			printf "%.4f\t%.3f\n", t, mib(cum[hi] - cum[lo]) / 0.1 > (dir "/r100")
		}
		printf "%s0\t0\n", sep > (dir "/cum")
		for (j = 1; j <= n; j++) {
			printf "%.6f\t%.3f\n", ts[j], mib(cum[j - 1]) > (dir "/cum")
			printf "%.6f\t%.3f\n", ts[j], mib(cum[j]) > (dir "/cum")
		}
	}
	BEGIN { seg = -1; xmax = 0 }
	/^#/ || $1 == "t_ns" { next }
	$3 == "target" {
		flush(); seg++; n = 0; t0 = $1; last = $10
		if (seg < max) printf "%d\t%.0f\n", seg, mib($11) > (dir "/segs")
		next
	}
	seg >= 0 && $1 >= t0 && $10 != last {
		n++; ts[n] = ($1 - t0) / 1e9; dp[n] = $10 - last; last = $10
	}
	END { flush(); printf "%.6f\n", xmax > (dir "/xmax") }' "$run/batches.tsv"
	if [ ! -s "$bd/segs" ]; then
		rm -rf "$bd"
		return 0
	fi
	# Room for the last 100 ms window; at least 50 ms.
	xmax=$(awk '{ x = $1 * 1.05 + 0.01; print x < 0.05 ? 0.05 : x }' "$bd/xmax")
	r10="" r100="" cum=""
	# One colour per target change: its 10 ms bins thin, its 100 ms
	# window thick, its MiB reclaimed.
	while read -r i mib; do
		sep=${r10:+, } c="lc $((i + 1))" k="#$((i + 1)), $mib MiB"
		r10="$r10$sep$(q "$bd/r10") index $i using 1:2 with steps lw 1 $c title \"target $k: 10 ms bins\""
		r100="$r100, $(q "$bd/r100") index $i using 1:2 with lines lw 3 $c title \"target $k: last 100 ms\""
		cum="$cum$sep$(q "$bd/cum") index $i using 1:2 with lines lw 2 $c title \"target $k\""
	done <"$bd/segs"
	gnuplot <<GP
set terminal $term
set output $(q "$run/batch-rate.png.part")
set datafile separator "\t"
set grid
set key outside right top vertical
set lmargin at screen 0.08
set rmargin at screen 0.70
set xrange [0:$xmax]
set multiplot layout 2,1 title $(q "$title: every batch (batches.tsv), from the target")
set ylabel "MiB/s (+ inflating, - deflating)"
plot $r10$r100
set xlabel "time since the target was set (s, the device's clock)"
set ylabel "MiB reclaimed (balloon growth)"
plot $cum
unset multiplot
GP
	rm -rf "$bd"
	mv "$run/batch-rate.png.part" "$run/batch-rate.png"
	echo "plot: $run/batch-rate.png"
}

# RUNDIR/rate-by-size.png from RUNDIR/batches.tsv: the reclamation rate
# against the balloon's size, how it changes as the balloon grows and
# memory fragments.  Each point is an inflate batch: the MiB of the last 8
# batches over the time they took (one batch says little: it may wait for
# the next poll); 2 MiB and 4 KiB batches apart.
plot_rate_by_size() {
	run=$1 title=$2
	bd=$(mktemp -d /tmp/tb-plot-size.XXXXXX)
	awk -F'\t' -v dir="$bd" '
	function mib(pages) { return pages * 4096 / 1048576 }
	/^#/ || $1 == "t_ns" { next }
	$3 == "target" { n = 0; last = $10; t[0] = $1; c[0] = 0; next }
	$3 == "inflate" && $10 != last {
		n++; t[n] = $1; c[n] = c[n - 1] + ($10 > last ? $10 - last : last - $10)
		last = $10
		k = n > 8 ? n - 8 : 0
		if (t[n] > t[k])
			printf "%.2f\t%.2f\n", mib($10), mib(c[n] - c[k]) / ((t[n] - t[k]) / 1e9) \
				> (dir ($6 > 0 ? "/r2m" : "/r4k"))
	}' "$run/batches.tsv"
	plots=""
	[ -s "$bd/r2m" ] && plots="$(q "$bd/r2m") using 1:2 with points pt 7 ps 0.6 lc 2 title \"batches with 2 MiB entries\""
	[ -s "$bd/r4k" ] && plots="${plots:+$plots, }$(q "$bd/r4k") using 1:2 with points pt 7 ps 0.6 lc 1 title \"4 KiB batches\""
	if [ -z "$plots" ]; then
		rm -rf "$bd"
		return 0
	fi
	gnuplot <<GP
set terminal $term
set output $(q "$run/rate-by-size.png.part")
set datafile separator "\t"
set grid
set logscale y
set key outside bottom center horizontal
set title $(q "$title: reclamation rate against balloon size (last 8 batches a point)")
set xlabel "balloon after the batch (MiB)"
set ylabel "MiB/s"
plot $plots
GP
	rm -rf "$bd"
	mv "$run/rate-by-size.png.part" "$run/rate-by-size.png"
	echo "plot: $run/rate-by-size.png"
}

# What the convergence and policy plots of a run share: TSV, "-" missing,
# the key below, time since QEMU start.
run_plot_head() {
	cat <<GP
set terminal $term
set datafile separator "\t"
set datafile missing "-"
set key outside bottom center horizontal
set grid
set xlabel "time since QEMU start (s)"
GP
}

# policy.png: a host policy's decisions (policy.tsv): the guest's available
# memory as the policy read it, the window it wants, the target it set and
# the reservation it read; stuck declarations marked.
plot_policy() {
	run=$1 title=$2
	# squeeze has no window: its columns are all '-'.
	win=
	awk -F'\t' 'NR > 2 && $9 != "-" { f = 1; exit } END { exit !f }' \
		"$run/policy.tsv" && win=$(printf '%s, %s,' \
		"$(q "$run/policy.tsv") skip 2 using 1:9 with steps lw 1 dt 2 lc rgb \"#7f7f7f\" title \"window (available wanted)\"" \
		"'' skip 2 using 1:10 with steps lw 1 dt 2 lc rgb \"#7f7f7f\" notitle")
	# Stuck marks only when something was declared stuck (no empty legend).
	stuck=
	awk -F'\t' 'NR > 2 && $11 == "set stuck" { f = 1; exit } END { exit !f }' \
		"$run/policy.tsv" && stuck=', "" skip 2 using 1:(strcol(11) eq "set stuck" ? $8 : 1/0) with points pt 9 ps 2 lc rgb "black" title "declared stuck"'
	gnuplot <<GP
$(run_plot_head)
$(marks "$run" "")
set output $(q "$run/policy.png.part")
set title $(q "$title: host policy decisions")
set ylabel "MiB"
plot $win $(q "$run/policy.tsv") skip 2 using 1:5 with linespoints pt 7 ps 0.5 lc rgb "#9467bd" title "available (read)", \
     "" skip 2 using 1:7 with steps lw 1.5 lc rgb "#1f77b4" title "reservation (read)", \
     "" skip 2 using 1:8 with steps lw 2 lc rgb "#d62728" title "target (set)"$stuck
GP
	mv "$run/policy.png.part" "$run/policy.png"
	echo "plot: $run/policy.png"
}

# guest-stats.png: the figures the driver reported to the device
# (guest-stats.tsv, one row a report) against the agent's (curve.tsv):
# memory above, pressure below (PSI's 10 s averages, and the event
# counters on the right axis).
plot_gstats() {
	run=$1 title=$2
	# PSI only where the guest has it (not the simulator's model)
	axis=x1y1 psi= axes='set ylabel "events since boot"'
	awk -F'\t' 'NR > 2 && $15 != "-" { f = 1; exit } END { exit !f }' \
		"$run/guest-stats.tsv" && axis=x1y2 psi=$(printf '%s, %s,' \
		"$(q "$run/guest-stats.tsv") skip 2 using 1:15 with steps lw 2 lc rgb \"#d62728\" title \"PSI some\"" \
		"'' skip 2 using 1:16 with steps lw 1.5 lc rgb \"#ff7f0e\" title \"PSI full\"") &&
		axes='set ylabel "PSI memory avg10 (%)"; set y2label "events since boot"; set y2tics; set y2range [0:*]'
	gnuplot <<GP
$(run_plot_head)
set output $(q "$run/guest-stats.png.part")
set multiplot layout 2,1 title $(q "$title: guest figures reported to the device")
set ylabel "MiB"
plot $(q "$run/guest-stats.tsv") skip 2 using 1:6 with steps lw 2 lc rgb "#9467bd" title "available (device)", \
     "" skip 2 using 1:5 with steps lw 1.5 lc rgb "#2ca02c" title "free (device)", \
     "" skip 2 using 1:7 with steps lw 1 lc rgb "#bcbd22" title "page cache (device)", \
     $(q "$run/curve.tsv") skip 2 using 1:9 with lines lw 1 dt 3 lc rgb "black" title "available (agent)"
set yrange [0:*]
$axes
plot $psi $(q "$run/guest-stats.tsv") skip 2 using 1:9 axes $axis with steps lw 1 dt 2 lc rgb "#1f77b4" title "major faults", \
     "" skip 2 using 1:12 axes $axis with steps lw 1 dt 2 lc rgb "#8c564b" title "allocation stalls", \
     "" skip 2 using 1:11 axes $axis with steps lw 1.5 lc rgb "black" title "OOM kills"
unset multiplot
GP
	mv "$run/guest-stats.png.part" "$run/guest-stats.png"
	echo "plot: $run/guest-stats.png"
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
$(run_plot_head)
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
	[ -f "$run/buddyinfo.tsv" ] && plot_buddy "$run" "$title"
	[ -f "$run/policy.tsv" ] && plot_policy "$run" "$title"
	[ -f "$run/guest-stats.tsv" ] && plot_gstats "$run" "$title"
	[ -f "$run/batches.tsv" ] && plot_batches "$run" "$title" &&
		plot_rate_by_size "$run" "$title"
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
	# Aligned at the moment the host first set a target (events.log's
	# TARGET, not the next sample), so runs whose boot or workload took
	# longer line up.
	t0=$(awk '$2 == "TARGET" { print $1; exit }' "$r/events.log" 2>/dev/null)
	t0=${t0:-0}
	sep=${conv:+, }
	conv="$conv$sep$(q "$r/curve.tsv") skip 2 using (\$1-$t0):4 with steps lw 2 title $(q "$t reservation"), \"\" skip 2 using (\$1-$t0):3 with steps lw 1 dt 2 title $(q "$t target")"
	rate="$rate$sep$(q "$r/curve.tsv") skip 2 using (\$1-$t0):11 with fsteps lw 1.5 title $(q "$t")"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "plot: nothing to plot" >&2; exit 1; }
gnuplot <<GP
set terminal $term
set datafile separator "\t"
set datafile missing "-"
set key outside bottom center vertical maxrows 4
set grid
set xlabel "time since the first target was set (s)"
set output $(q "$dir/overlay-convergence.png.part")
set title $(q "$(basename "$dir"): reservation and target, $n runs")
set ylabel "MiB"
plot $conv
set output $(q "$dir/overlay-rate.png.part")
set title $(q "$(basename "$dir"): reclamation rate, $n runs")
set ylabel "MiB/s"
plot $rate
GP
mv "$dir/overlay-convergence.png.part" "$dir/overlay-convergence.png"
mv "$dir/overlay-rate.png.part" "$dir/overlay-rate.png"
echo "plot: $dir/overlay-convergence.png $dir/overlay-rate.png"
