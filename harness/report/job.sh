#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# One fan-out job (harness/report/fanout.sh): the harness runs of SPEC, in
# order, on one machine -- the same here and on a remote host (harness/
# report/remote.sh calls it there).  SPEC has a line per run:
#   LABEL<TAB>SCENARIO.ini<TAB>HARNESS<TAB>ARGS
# LABEL "." records the run in JOBDIR itself (regress, breakage, sweep: a
# run a job), any other name in JOBDIR/LABEL/ (compare: A and B of one
# repetition); HARNESS "-" is the one given here (else a path: a patched
# build); ARGS are words (overrides and harness options, no space inside
# one) after the scenario.  "@OUT@" in HARNESS and ARGS is the fan-out
# directory (JOBDIR/../..: here OUT, remotely the work dir that mirrors
# it).  Each run's record:
#   harness.log   the harness's output
#   rc            its exit status (3: the backend cannot run it)
#   run           the run directory (relative to the record when inside
#                 JOBDIR)
#   seconds       how long it took
# and JOBDIR/host where the job ran.  Prints each run's console-table line
# (and, for a failure, its failing expectations) as harness/regress.sh
# prints it, named JOB or JOB/LABEL.
#   sh harness/report/job.sh JOBDIR SPEC HARNESS [harness args...]
set -u
jobdir=$1 spec=$2 harness=$3
shift 3
id=$(basename "$jobdir")
root=$(dirname "$(dirname "$jobdir")")
tab=$(printf '\t')
mkdir -p "$jobdir" || exit 1
[ -r "$spec" ] || { echo "job: $spec: cannot read" >&2; exit 1; }
hostname >"$jobdir/host" 2>/dev/null || echo unknown >"$jobdir/host"

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

# run LABEL FILE HARNESS ARGS: one harness run, recorded and printed.
run() {
	label=$1 file=$2 h=$3 args=$4
	shift 4
	rec=$jobdir name=$id
	[ "$label" = . ] || rec=$jobdir/$label name=$id/$label
	mkdir -p "$rec" || return 1
	rm -f "$rec/rc" "$rec/run"
	[ "$h" = - ] && h=$harness
	h=$(printf '%s' "$h" | sed "s|@OUT@|$root|g")
	args=$(printf '%s' "$args" | sed "s|@OUT@|$root|g")
	t0=$(date +%s.%N)
	set -f
	# shellcheck disable=SC2086
	"$h" "$@" --quiet "$file" $args >"$rec/harness.log" 2>&1
	rc=$?
	set +f
	dir=$(sed -n 's/^results: //p' "$rec/harness.log" | tail -1)
	# Inside the job's directory (remote runs, brought back with it):
	# relative to the record.
	up=
	[ "$rec" = "$jobdir" ] || up=../
	case $dir in
	"$jobdir"/*) dir=$up${dir#"$jobdir"/} ;;
	./"$jobdir"/*) dir=$up${dir#./"$jobdir"/} ;;
	/*|'') ;;
	*) dir=$PWD/$dir ;;
	esac
	printf '%s\n' "$dir" >"$rec/run"
	awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", b - a }' >"$rec/seconds"
	echo "$rc" >"$rec/rc"
	line=$(grep '^RESULT ' "$rec/harness.log" | tail -1)
	verdict=$(echo "$line" | awk '{print $4}')
	conv=$(echo "$line" | sed -n 's/.*converge=\([^ ]*\).*/\1/p')
	err=$(echo "$line" | sed -n 's/.*final-error=\([^ ]*\).*/\1/p')
	case $dir in /*) rdir=$dir ;; '') rdir=/nonexistent ;; *) rdir=$rec/$dir ;; esac
	read -r cyc t90 band <<-EOT
	$(metrics "$rdir")
	EOT
	[ "$rc" = 3 ] && verdict=skip	# the backend lacks what it needs
	[ -n "$verdict" ] || verdict="error(rc=$rc)"
	printf '%-20s %-8s %-10s %-12s %-6s %-8s %-7s %ss\n' "$name" "$verdict" \
		"${conv:--}" "${err:--}" "$cyc" "$t90" "$band" "$(cat "$rec/seconds")"
	if [ "$rc" = 3 ]; then
		sed -n 's/^harness: /    /p' "$rec/harness.log"
	elif [ "$rc" != 0 ]; then
		grep -E '^  (fail|skipped) |^RESULT|^harness:' "$rec/harness.log" | sed 's/^/    /'
	fi
	# A verdict (pass, fail, error, skip) is a finished run; anything else
	# (killed, no harness) is not.
	case $rc in 0|1|2|3) return 0 ;; esac
	return 1
}

status=0
while IFS="$tab" read -r label file h args; do
	[ -n "$label" ] || continue
	run "$label" "$file" "${h:--}" "${args:-}" "$@" </dev/null || status=1
done <"$spec"
# The job succeeded when every run gave a verdict: GNU parallel's
# --resume-failed then reruns only lost jobs.
exit "$status"
