#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run every scenario (CI sizes: each file's [ci] section), one line each:
#   name  verdict  convergence  final-error  cycles  t90  band  time
# (final-error: the last reservation minus the last target, the target
# clipped to boot memory as the guest clips it; from the run's
# metrics.tsv over the steps that set a target: cycles summed, t90 the
# longest time_to_90_s, band the widest band_mib)
# then the totals, the last line "N passed, N failed, N skipped"; exit 1
# if any scenario did not pass.  Files whose name starts with "_" are only
# included by others.  ONLY='a b' limits the set; SET='k=v step.k=v'
# overrides keys in every scenario run (to show that an expectation fails
# when the behaviour it guards is broken).
#   sh harness/regress.sh HARNESS [harness args...]
# Writes RESULTS/regress/<run-id>/ (RESULTS: the last --results, default
# results): junit.xml, regress.json, index.html + scenarios/NAME/ (the
# report, harness/report/report.py), jobs/NAME/ (each scenario's harness
# log and exit status, harness/report/job.sh) and, fanned out, joblog.
# The runs themselves go where the harness puts them (RESULTS/<scenario>/).
# Fan-out (harness/report/fanout.sh: GNU parallel, one job a scenario,
# output kept in order):
#   JOBS=N        N scenarios at a time on this machine
#   HOSTS=file    across the machines of a --sshloginfile (lines like
#                 "2/user@host": 2 jobs at a time there); each needs the
#                 tarball of `make dist` (DIST=path), which is sent once
#                 (--basefile) with each scenario file (--transferfile); the
#                 run comes back (--return) into jobs/NAME/runs/.
#   RUN_ID=id RESUME=1   rerun, in that run's directory, only the jobs its
#                 joblog records as lost (--resume-failed): a host that
#                 died loses only the scenarios it was running.
set -u
harness=$1
shift
backend=emu results=results
prev=
for a in "$@"; do
	[ "$prev" = --backend ] && backend=$a
	[ "$prev" = --results ] && results=$a
	case $a in --backend=*) backend=${a#--backend=} ;; esac
	case $a in --results=*) results=${a#--results=} ;; esac
	prev=$a
done
runid=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)-$backend}
out=$results/regress/$runid
if [ -n "${RESUME:-}" ]; then
	[ -n "${RUN_ID:-}" ] && [ -f "$out/joblog" ] ||
		{ echo "regress: RESUME=1 needs RUN_ID of a fanned-out run ($out/joblog)" >&2; exit 2; }
elif [ -n "${RUN_ID:-}" ] && [ -e "$out" ]; then
	echo "regress: $out exists (RESUME=1 to rerun its lost jobs)" >&2
	exit 2
else
	# Two runs in one second: -2, -3 ... as the harness names its runs.
	mkdir -p "$results/regress" || exit 2
	i=1 id=$runid
	until mkdir "$out" 2>/dev/null; do
		[ -d "$results/regress" ] && [ $i -lt 100 ] || exit 2
		i=$((i + 1)) runid=$id-$i out=$results/regress/$id-$i
	done
fi
mkdir -p "$out/jobs" || exit 2
start=$(date +%s)
py=${REPORT_PY:-/usr/bin/python3}
[ -x "$py" ] || py=python3

names=
for f in scenarios/*.ini; do
	name=$(basename "$f" .ini)
	case $name in _*) continue ;; esac
	if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
	names="$names $name"
done
for n in ${ONLY:-}; do
	[ -f "scenarios/$n.ini" ] || { echo "regress: ONLY: no scenarios/$n.ini" >&2; exit 2; }
done
printf '%s\n' $names >"$out/scenarios.txt"

printf '%-20s %-8s %-10s %-12s %-6s %-8s %-7s %s\n' scenario verdict converge \
	final-error cycles t90 band time
mkdir -p "$out/specs" || exit 2
: >"$out/jobs.tsv"
for name in $names; do
	printf '%s\t%s\n' "$name" "scenarios/$name.ini" >>"$out/jobs.tsv"
	printf '.\t%s\t-\t%s\n' "scenarios/$name.ini" "${SET:-}" >"$out/specs/$name"
done
sh harness/report/fanout.sh "$out" "$harness" "$@" --ci
# shellcheck disable=SC2086
"$py" harness/report/report.py regress "$out" $names --backend "$backend" \
	--seconds $(( $(date +%s) - start )) --hosts "${HOSTS:-}"
