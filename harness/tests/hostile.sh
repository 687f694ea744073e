#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The harness against a QEMU that misbehaves on purpose (hostile_qemu.py:
# truncated JSON, huge lines, odd events, a socket closed mid-reply,
# floods).  Each case must end within its bound with the verdict that names
# the cause, summary.json written and marked incomplete, events.log kept,
# and no process or socket left behind.  About 20 s, no guest boots.
#
#   sh harness/tests/hostile.sh HARNESS [ONLY-MODE]
set -u
harness=$1
only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/tb-hostile.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
# The harness checks --qemu is executable: a wrapper, so the script in the
# repository needs no execute bit.
printf '#!/bin/sh\nexec python3 %s "$@"\n' "$here/hostile_qemu.py" >"$tmp/qemu"
chmod +x "$tmp/qemu"
n=0 fail=0
. "$(dirname "$0")/lib.sh"


# case MODE WANT-KIND WANT-COMPLETE MAX-SECONDS WANT-EXIT
case_() {
	mode=$1 want=$2 wantc=$3 max=$4 wantrc=$5
	[ -n "$only" ] && [ "$only" != "$mode" ] && return
	run=$tmp/res/short/$mode
	t0=$(date +%s)
	HOSTILE_MODE=$mode timeout 120 "$harness" --quiet --qemu "$tmp/qemu" \
		--kernel /dev/null --initrd /dev/null --plot '' \
		--results "$tmp/res" --run-id "$mode" \
		"$here/hostile/short.ini" >"$tmp/$mode.out" 2>&1
	rc=$? el=$(( $(date +%s) - t0 ))
	got=$(field "$run" error_kind) complete=$(field "$run" complete)
	pid=$(cat "$run/qemu.pid" 2>/dev/null)
	left=
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		left="process $pid"
		kill -9 "$pid"
	fi
	[ "$want" = - ] && want=null
	if [ ! -f "$run/summary.json" ]; then
		notok "$mode: no summary.json (exit $rc)"
		tail -3 "$tmp/$mode.out" | sed 's/^/#   /'
	elif [ "$got" != "$want" ] || [ "$complete" != "$wantc" ]; then
		notok "$mode: verdict '$got' complete=$complete, want '$want'" \
			"complete=$wantc"
		grep -v QMP-EVENT "$run/events.log" | tail -4 | sed 's/^/#   /'
	elif [ "$rc" != "$wantrc" ]; then
		notok "$mode: exit $rc, want $wantrc"
		grep -m3 -A3 'ERROR\|runtime error' "$tmp/$mode.out" | sed 's/^/#   /'
	elif [ "$el" -gt "$max" ]; then
		notok "$mode: took ${el}s, limit ${max}s"
	elif [ -n "$left" ]; then
		notok "$mode: $left still running after the harness ended"
	elif sockdir=$(sed -n 's/.*path=\([^,]*\)\/qmp,.*/\1/p' \
			"$run/qemu.cmdline") && [ -d "$sockdir" ]; then
		notok "$mode: socket directory $sockdir left behind"
	elif [ ! -s "$run/events.log" ] || [ ! -f "$run/curve.tsv" ]; then
		notok "$mode: events.log or curve.tsv missing"
	else
		ok "$mode: ${got} in ${el}s, exit $rc, logs kept, no process or socket left"
	fi
}

#     mode                 verdict         complete  max s  exit
case_ ok                   -               true      15     0
case_ qmp-odd-events       -               true      15     0
case_ qmp-truncated        qmp-protocol    false     10     2
case_ qmp-huge-line        qmp-protocol    false     10     2
case_ qmp-close-mid-reply  qmp-closed      false     10     2
case_ qmp-event-flood      qmp-flood       false     15     2
case_ console-flood        console-flood   false     15     2
case_ agent-flood          agent-flood     false     10     2
case_ agent-huge-line      agent-protocol  false     10     2

# The bad BALLOON_CHANGEs (a string, a negative, none) are logged as such
# and never taken as a reservation of 0.
if [ -z "$only" ] || [ "$only" = qmp-odd-events ]; then
	ev=$tmp/res/short/qmp-odd-events/events.log
	if grep -q "without a valid 'actual'" "$ev" &&
	   ! grep -q 'BALLOON_CHANGE actual=\(0\|-\)' "$ev"; then
		ok "qmp-odd-events: bad BALLOON_CHANGE values not recorded"
	else
		notok "qmp-odd-events: a bad BALLOON_CHANGE reached the curve"
	fi
fi
echo "# hostile-peer tests: $((n - fail))/$n passed"
[ "$n" -gt 0 ] && [ "$fail" = 0 ]
