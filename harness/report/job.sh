#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# One regress job: one scenario's CI run, the same here and on a remote
# host (harness/report/remote.sh calls it there).  Writes into JOBDIR
#   harness.log   the harness's output
#   rc            its exit status (3: the backend cannot run it)
#   run           the run directory (relative to JOBDIR when inside it)
#   host seconds  where it ran and for how long
# and prints the scenario's console-table line (and, for a failure, its
# failing expectations) as harness/regress.sh prints it.
#   sh harness/report/job.sh JOBDIR SCENARIO.ini HARNESS [harness args...]
# SET='k=v ...' overrides keys, as for regress.
set -u
jobdir=$1 file=$2 harness=$3
shift 3
name=$(basename "$file" .ini)
mkdir -p "$jobdir" || exit 1
rm -f "$jobdir/rc" "$jobdir/run"
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$harness" "$@" --ci --quiet "$file" ${SET:-} >"$jobdir/harness.log" 2>&1
rc=$?
dir=$(sed -n 's/^results: //p' "$jobdir/harness.log" | tail -1)
case $dir in
"$jobdir"/*) dir=${dir#"$jobdir"/} ;;
./"$jobdir"/*) dir=${dir#./"$jobdir"/} ;;
/*|'') ;;
*) dir=$PWD/$dir ;;
esac
printf '%s\n' "$dir" >"$jobdir/run"
hostname >"$jobdir/host" 2>/dev/null || echo unknown >"$jobdir/host"
awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >"$jobdir/seconds"
echo "$rc" >"$jobdir/rc"

# cycles, t90 and band of a run directory's metrics.tsv, by column name.
metrics() {
	[ -f "$1/metrics.tsv" ] || { echo '- - -'; return; }
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		c = $col["cycles"]; t = $col["time_to_90_s"]; b = $col["band_mib"]
		if (c != "-") { nc++; cyc += c }
		if (t != "-" && (t90 == "" || t + 0 > t90 + 0)) t90 = t
		if (b != "-" && (band == "" || b + 0 > band + 0)) band = b
	}
	END {
		printf "%s %s %s\n", nc ? cyc : "-",
			t90 == "" ? "-" : sprintf("%.2fs", t90),
			band == "" ? "-" : sprintf("%.0fM", band)
	}' "$1/metrics.tsv"
}
line=$(grep '^RESULT ' "$jobdir/harness.log" | tail -1)
verdict=$(echo "$line" | awk '{print $4}')
conv=$(echo "$line" | sed -n 's/.*converge=\([^ ]*\).*/\1/p')
err=$(echo "$line" | sed -n 's/.*final-error=\([^ ]*\).*/\1/p')
case $dir in /*) rdir=$dir ;; '') rdir=/nonexistent ;; *) rdir=$jobdir/$dir ;; esac
read -r cyc t90 band <<-EOT
$(metrics "$rdir")
EOT
[ "$rc" = 3 ] && verdict=skip	# the backend lacks what it needs
[ -n "$verdict" ] || verdict="error(rc=$rc)"
printf '%-20s %-8s %-10s %-12s %-6s %-8s %-7s %ss\n' "$name" "$verdict" \
	"${conv:--}" "${err:--}" "$cyc" "$t90" "$band" "$(cat "$jobdir/seconds")"
if [ "$rc" = 3 ]; then
	sed -n 's/^harness: /    /p' "$jobdir/harness.log"
elif [ "$rc" != 0 ]; then
	grep -E '^  (fail|skipped) |^RESULT|^harness:' "$jobdir/harness.log" | sed 's/^/    /'
fi
# The job succeeded when the harness gave a verdict (pass, fail, error,
# skip): GNU parallel's --resume-failed then reruns only lost jobs.
case $rc in 0|1|2|3) exit 0 ;; esac
exit "$rc"
