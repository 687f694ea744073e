#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The fan-out of regress, breakage, sweep and compare: jobs run by
# harness/report/job.sh, one after another, or with GNU parallel on this
# machine or over ssh on others.
#   sh harness/report/fanout.sh OUT HARNESS [harness args...]
# OUT/jobs.tsv has a line per job, "ID<TAB>SCENARIO.ini" (the scenario file
# sent with it), and OUT/specs/ID its runs (job.sh); each job's record goes
# to OUT/jobs/ID/.  Output is kept in job order (-k).
#   JOBS=N        N jobs at a time on this machine (default 1: no parallel)
#   HOSTS=file    across the machines of a --sshloginfile (lines like
#                 "2/user@host": 2 jobs at a time there); each needs the
#                 tarball of `make dist` (DIST=path), sent once
#                 (--basefile), as are FANOUT_FILES (paths relative to OUT:
#                 a patched harness, an initramfs); the job's scenario and
#                 spec go with it (--transferfile) and its record comes back
#                 (--return) into OUT/jobs/ID/ (remote runs in
#                 OUT/jobs/ID/runs/).  REMOTE_DIR (default tb-regress, under
#                 the login dir) holds there each fan-out's work dir
#                 (KIND-RUNID, e.g. regress-20261201-120000-emu) and the
#                 unpacked tree (harness/report/remote.sh).
#   RESUME=1      rerun only the jobs OUT/joblog records as lost
#                 (--resume-failed): a host that died loses only its jobs.
# Exit status: 0 every job finished (whatever its verdicts), 1 one did not.
set -u
out=$1
shift
[ -f "$out/jobs.tsv" ] || { echo "fanout: no $out/jobs.tsv" >&2; exit 2; }
resume=
[ -n "${RESUME:-}" ] && resume=--resume-failed
mkdir -p "$out/jobs" || exit 2
if [ -n "${HOSTS:-}" ]; then
	dist=${DIST:-${BUILD:-build}/dist/tb-dist.tar.gz}
	[ -f "$HOSTS" ] || { echo "fanout: HOSTS=$HOSTS: no such file" >&2; exit 2; }
	[ -f "$dist" ] && [ -f "$dist.sha256" ] ||
		{ echo "fanout: $dist(.sha256) missing: make dist first" >&2; exit 2; }
	sha=$(cut -c1-16 "$dist.sha256")
	# The remote tree is this one's layout: paths inside it go relative.
	i=0
	for a in "$@"; do
		case $a in "$PWD"/*) a=${a#"$PWD"/} ;; esac
		[ $i = 0 ] && set --
		i=1
		set -- "$@" "$a"
	done
	files=
	for f in ${FANOUT_FILES:-}; do
		[ -f "$out/$f" ] || { echo "fanout: $out/$f: missing" >&2; exit 2; }
		files="$files --basefile $out/./$f"
	done
	ddir=$(dirname "$dist")
	wd=${REMOTE_DIR:-tb-regress}/$(basename "$(dirname "$out")")-$(basename "$out")
	# shellcheck disable=SC2086
	parallel --will-cite -k -q --colsep '\t' --sshloginfile "$HOSTS" \
		--joblog "$out/joblog" $resume --workdir "$wd" \
		--basefile "$ddir/./$(basename "$dist")" \
		--basefile harness/report/./remote.sh $files \
		--transferfile "{2}" --transferfile "$out/./specs/{1}" \
		--return "$out/./jobs/{1}" --cleanup \
		sh remote.sh "{1}" "$sha" "$(basename "$dist")" "$@" \
		:::: "$out/jobs.tsv"
elif [ "${JOBS:-1}" -gt 1 ] 2>/dev/null || [ -n "$resume" ]; then
	parallel --will-cite -k -q --colsep '\t' -j "${JOBS:-1}" \
		--joblog "$out/joblog" $resume \
		sh harness/report/job.sh "$out/jobs/{1}" "$out/specs/{1}" "$@" \
		:::: "$out/jobs.tsv"
else
	st=0
	while IFS="$(printf '\t')" read -r id _; do
		sh harness/report/job.sh "$out/jobs/$id" "$out/specs/$id" "$@" \
			</dev/null || st=1
	done <"$out/jobs.tsv"
	exit $st
fi
[ $? = 0 ] || exit 1
