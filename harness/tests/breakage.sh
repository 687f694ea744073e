#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every expectation can fail: each scenario file names, beside each of its
# expectations, the breakage that must make it fail, in a comment
#
#     expect-converged = 2s          # breaks: driver.rate_max=64
#     # breaks: inflate.set.hostile-overgrant=off
#     expect-stat = bad done counts >= 2
#
# (on the expectation's line, or alone on a comment line above it with
# only comments between; `# breaks-BACKEND:` beside it replaces it on that
# backend, e.g. `# breaks-sim: none (the model has no command timeout)`).  A breakage is overrides as on the harness
# command line (driver.X=V, X=V, STEP.set.X=V), space separated, no space
# inside one; `# breaks: none (why)` marks an expectation no switch breaks.
# `patch:NAME` among them breaks code that has no switch: the tree (every
# file git knows or would add, as it is now) is copied, patched with
# harness/tests/breakage/NAME.patch and built -- its harness, and for a
# backend with a guest its initramfs (the downloaded guest kernel is
# shared) -- and that set runs on the patched build.
# Each scenario's CI variant runs once per distinct breakage; each row's
# expectation -- by step, key and line (summary.json's "where") -- must
# fail.  Prints the table, writes RESULTS/breakage/<run-id>/breakage.tsv
#
#     scenario  step  expectation  line  breakage  verdict  result
#
# (verdict: the expectation's under the breakage, fail/pass/skipped/none/
# missing; result: caught, MISSED, skipped or none) and exits 1 when a
# row's breakage did not make its expectation fail.  Rows a backend cannot
# run (the harness exits 3, or reports the expectation skipped) are
# skipped.  The expectations of the files a scenario includes (scenarios/
# _pressure.ini) are rows of that scenario, their line FILE:LINE; files
# starting with "_" are not run alone.  Scenario files without `# breaks:`
# comments are listed.  The
# table is also written as junit.xml and index.html (harness/report/).
# Each run is a job of harness/report/fanout.sh (jobs/, specs/, joblog and
# the runs in runs/ or, remote, jobs/NAME.I/runs/ of the run's directory):
# JOBS=N runs N at a time here, HOSTS=file over ssh as for regress (a
# patched build's harness and initramfs go to every host with the `make
# dist` tarball), RUN_ID=id RESUME=1 reruns the jobs a dead host lost.
#   sh harness/tests/breakage.sh HARNESS [harness args...]
#   ONLY='a b' limits the scenarios; RESULTS=dir (default: results)
set -u
harness=$1
shift
# The backend of the harness arguments (the last --backend), default emu.
backend=$(printf '%s\n' "$@" | sed -n 's/^--backend=//p; /^--backend$/{n;p;}' | tail -1)
backend=${backend:-emu}
runid=${RUN_ID:-$(date -u +%Y%m%d-%H%M%S)-$backend}
out=${RESULTS:-results}/breakage/$runid
if [ -n "${RESUME:-}" ]; then
	[ -n "${RUN_ID:-}" ] && [ -f "$out/joblog" ] ||
		{ echo "breakage: RESUME=1 needs RUN_ID of a fanned-out run ($out/joblog)" >&2; exit 2; }
elif [ -e "$out" ]; then
	echo "breakage: $out exists (RUN_ID=$runid RESUME=1 to rerun its lost jobs)" >&2
	exit 2
fi
mkdir -p "$out" || exit 1
res=$(mktemp -d /tmp/tb-breakage.XXXXXX) || exit 1
trap 'rm -rf "$res"' EXIT
tsv=$out/breakage.tsv
start=$(date +%s)

# The rows of one scenario file and the files it includes (scenarios/
# _pressure.ini), in the order the harness reads them: line, step,
# expectation, breakage ("none (why)" or overrides; "" when the file does
# not say).  A line of an included file is FILE:LINE (FILE its name), as
# the harness's "where" says it.  rows FILE [LABEL DEPTH]
rows() {
	[ "${3:-0}" -le 8 ] || { echo "$1: includes nested more than 8 deep" >&2; return 1; }
	[ -r "$1" ] || { echo "cannot read $1" >&2; return 1; }
	awk -v be="$backend" -v lab="${2:-}" '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	/^[ \t]*\[/ {
		sec = $0; sub(/^[ \t]*\[/, "", sec); sub(/\].*/, "", sec)
		pending = pbe = ""; next
	}
	/^[ \t]*[#;]/ {
		if (match($0, /breaks:.*/))
			pending = trim(substr($0, RSTART + 7))
		if (match($0, "breaks-" be ":.*"))
			pbe = trim(substr($0, RSTART + length(be) + 8))
		next
	}
	/^[ \t]*$/ { pending = pbe = ""; next }
	{
		line = $0; brk = pending; bbe = pbe; pending = pbe = ""
		# A trailing comment: "#" or ";" after white space.
		if (match(line, /[ \t][#;].*/)) {
			c = substr(line, RSTART); line = substr(line, 1, RSTART - 1)
			if (match(c, /breaks:.*/)) {
				brk = substr(c, RSTART + 7)
				sub(/[ \t;]*breaks-.*/, "", brk)
				brk = trim(brk)
			}
			if (match(c, "breaks-" be ":.*"))
				bbe = trim(substr(c, RSTART + length(be) + 8))
		}
		if (bbe != "") brk = bbe
		eq = index(line, "=")
		if (!eq) next
		key = trim(substr(line, 1, eq - 1)); val = trim(substr(line, eq + 1))
		if (key == "include") { printf "include\t%s\n", val; next }
		step = sec
		if (sec == "ci") {
			d = index(key, ".")
			if (!d || key ~ /^(driver|tolerance)\./) next
			step = substr(key, 1, d - 1); key = substr(key, d + 1)
		}
		if (key !~ /^expect-/) next
		printf "%s\t%s\t%s = %s\t%s\n", lab != "" ? lab ":" FNR : FNR,
			step, key, val, brk
	}' "$1" >"$res/rows.${3:-0}" || return 1
	while IFS= read -r l; do
		case $l in
		include"	"*)
			# Relative to the including file, as the harness reads it.
			inc=${l#include	}
			case $inc in /*) ;; *) inc=$(dirname "$1")/$inc ;; esac
			rows "$inc" "$(basename "$inc")" $((${3:-0} + 1)) || return 1 ;;
		*) printf '%s\n' "$l" ;;
		esac
	done <"$res/rows.${3:-0}"
}

# "LINE<TAB>STEP<TAB>KEY<TAB>VERDICT" of every expectation in a summary.json
# of scenario file $2: LINE as rows() writes it (FILE:LINE in an included
# file).
verdicts() {
	python3 -c '
import json, os, sys
try:
    s = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for e in s.get("expectations", []):
    path, _, line = e.get("where", "").rpartition(":")
    if os.path.basename(path) != os.path.basename(sys.argv[2]):
        line = os.path.basename(path) + ":" + line
    print("%s\t%s\t%s\t%s" % (line, e.get("step"), e.get("key"),
                               e.get("verdict")))
' "$1" "$2"
}

# The set's patch:NAME tokens applied to a copy of the tree, built; sets
# ph (its harness) and pinit (its initramfs, guest backends).  One tree
# per distinct list of patches, reused.
patched() {
	pnames=$(printf '%s\n' $1 | sed -n 's/^patch://p')
	dir=$res/tree.$(printf '%s\n' $pnames | sort | tr '\n' '+')
	ph=$dir/build/harness/harness pinit=$dir/build/guest/initramfs.cpio.gz
	[ -x "$ph" ] && return 0
	mkdir -p "$dir/build/guest" || return 1
	git ls-files -z --cached --others --exclude-standard |
		cpio -pdm0 --quiet "$dir" 2>/dev/null
	for n in $pnames; do
		[ -f "harness/tests/breakage/$n.patch" ] ||
			{ echo "no harness/tests/breakage/$n.patch"; return 1; }
		patch -s -p1 -d "$dir" <"harness/tests/breakage/$n.patch" ||
			{ echo "harness/tests/breakage/$n.patch does not apply"; return 1; }
	done
	touch "$dir/build/.deps-ok"
	targets=build/harness/harness
	if [ "$backend" != sim ]; then
		g=${BUILD:-build}/guest
		cp -p "$g/kver" "$dir/build/guest/" &&
			ln -s "$PWD/$g/vmlinuz" "$dir/build/guest/vmlinuz" &&
			ln -s "$PWD/$g/kernel" "$dir/build/guest/kernel" || return 1
		targets="$targets build/guest/initramfs.cpio.gz"
	fi
	# shellcheck disable=SC2086
	make -C "$dir" -s BUILD=build $targets
}

# 1. The jobs: a run per scenario and distinct breakage (file order),
# job NAME.I, into $out/jobs.tsv and $out/specs/ (harness/report/job.sh);
# a patched build's harness (and initramfs) is copied to $out/patched/KEY/
# so that a remote host gets it too (FANOUT_FILES).
mkdir -p "$out/specs" "$out/runs" || exit 1
: >"$out/jobs.tsv"
files='' names='' unmarked=''
for f in scenarios/*.ini; do
	name=$(basename "$f" .ini)
	case $name in _*) continue ;; esac
	if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
	rows "$f" >"$res/rows.$name" || exit 1
	if ! cut -f4 "$res/rows.$name" | grep -q .; then
		unmarked="$unmarked $name"
		continue
	fi
	names="$names $name"
	cut -f4 "$res/rows.$name" | grep -v -e '^$' -e '^none' | awk '!seen[$0]++' >"$res/breaks.$name"
	i=0
	while IFS= read -r set; do
		i=$((i + 1))
		h=- initrd='' ovr=$(printf '%s\n' $set | grep -v '^patch:' | tr '\n' ' ')
		case " $set " in
		*" patch:"*)
			key=$(printf '%s\n' $set | sed -n 's/^patch://p' | sort | paste -sd+ -)
			pd=$out/patched/$key
			if [ ! -x "$pd/harness" ]; then
				if ! patched "$set" >"$out/$name.$i.patch.log" 2>&1; then
					echo "# $name: '$set' did not build:" \
						"$out/$name.$i.patch.log"
					: >"$res/$name.$i.nobuild"
					continue
				fi
				mkdir -p "$pd" && cp "$ph" "$pd/harness" || exit 1
				[ "$backend" = sim ] || cp "$pinit" "$pd/initramfs.cpio.gz" || exit 1
			fi
			h=@OUT@/patched/$key/harness
			case " $files " in *" patched/$key/harness "*) ;; *)
				files="$files patched/$key/harness"
				[ "$backend" = sim ] ||
					files="$files patched/$key/initramfs.cpio.gz" ;;
			esac
			[ "$backend" = sim ] ||
				initrd="--initrd @OUT@/patched/$key/initramfs.cpio.gz" ;;
		esac
		printf '%s\t%s\n' "$name.$i" "$f" >>"$out/jobs.tsv"
		printf '.\t%s\t%s\t%s\n' "$f" "$h" "$initrd $ovr" >"$out/specs/$name.$i"
	done <"$res/breaks.$name"
done

# 2. The runs (harness/report/fanout.sh: JOBS=N, HOSTS=file as for
# regress); a lost job's rows come out missing.
FANOUT_FILES=$files sh harness/report/fanout.sh "$out" "$harness" "$@" \
	--results "$out/runs" --plot '' --ci
fan=$?

# 3. Each row's verdict under its breakage.
printf 'scenario\tstep\texpectation\tline\tbreakage\tverdict\tresult\n' >"$tsv"
nrows=0 caught=0 missed=0 skipped=0 none=0
runs=$(wc -l <"$out/jobs.tsv")
for name in $names; do
	f=scenarios/$name.ini
	while IFS="$(printf '\t')" read -r line step expect set; do
		nrows=$((nrows + 1))
		if [ -z "$set" ]; then
			verdict=missing result=MISSED
			set='(no breaks: comment)'
		elif [ "${set%%[ (]*}" = none ]; then
			verdict=none result=none
		else
			i=$(grep -n -x -F -e "$set" "$res/breaks.$name" | head -1 | cut -d: -f1)
			jd=$out/jobs/$name.$i
			rc=$(cat "$jd/rc" 2>/dev/null)
			[ -f "$res/$name.$i.nobuild" ] && rc=2
			run=$(cat "$jd/run" 2>/dev/null)
			case $run in /*|'') ;; *) run=$jd/$run ;; esac
			verdict=
			if [ -n "$run" ] && [ -f "$run/summary.json" ]; then
				verdict=$(verdicts "$run/summary.json" "$f" |
					awk -F'\t' -v l="$line" -v s="$step" -v k="${expect%% *}" \
					'$1 == l && $2 == s && $3 == k { print $4; exit }')
			fi
			[ "$rc" = 3 ] && verdict=skipped
			case $verdict in
			fail) result=caught ;;
			skipped) result=skipped ;;
			'') verdict=missing result=MISSED ;;
			*) result=MISSED ;;
			esac
		fi
		case $result in
		caught) caught=$((caught + 1)) ;;
		skipped) skipped=$((skipped + 1)) ;;
		none) none=$((none + 1)) ;;
		*) missed=$((missed + 1)) ;;
		esac
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$step" "$expect" \
			"$line" "$set" "$verdict" "$result" >>"$tsv"
	done <"$res/rows.$name"
done
awk -F'\t' 'NR > 1 {
	e = $3; if (length(e) > 34) e = substr(e, 1, 31) "..."
	printf "%-8s %-18s %-12s %-34s %s\n", $7, $1, $2, e, $5
}' "$tsv"
[ -n "$unmarked" ] && echo "# no '# breaks:' comments (not checked):$unmarked"
echo "# breakage ($backend): $nrows rows, $caught caught, $missed missed," \
	"$skipped skipped, $none none; $runs runs in $(( $(date +%s) - start ))s"
echo "# $tsv"
# The table as junit.xml and index.html beside it (harness/report/).
${REPORT_PY:-/usr/bin/python3} harness/report/report.py breakage "$tsv" "$out" &&
	echo "# $out/junit.xml $out/index.html"
[ "$fan" = 0 ] || echo "# jobs were lost (their rows: missing); rerun them:" \
	"RUN_ID=$runid RESUME=1"
echo "$caught passed, $missed failed, $((skipped + none)) skipped"
[ "$missed" = 0 ] && [ "$fan" = 0 ] || exit 1
exit 0
