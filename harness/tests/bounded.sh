#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The harness ends every run in bounded time, with a verdict that names the
# cause and no process left behind:
#   1. a guest that never becomes ready   -> guest-not-ready at boot-timeout
#   2. QEMU killed mid-run                -> qemu-died within seconds
#   3. the time limit expires mid-step    -> time-limit
#   4. the harness gets SIGTERM           -> interrupted, QEMU gone
# each with summary.json written and "complete": false.  More faults
# (panic, agent killed, disk full, SIGINT) are in faults.sh.
#   sh harness/tests/bounded.sh HARNESS [harness args...]   (BACKEND=emu)
set -u
harness=$1
shift
backend=${BACKEND:-emu}
dir=$(cd "$(dirname "$0")" && pwd)/bounded
res=$(mktemp -d /tmp/tb-bounded.XXXXXX) || exit 1
trap 'rm -rf "$res"' EXIT
n=0 fail=0
. "$(dirname "$0")/lib.sh"

# No QEMU of this run may survive it.
no_leftover() {
	pid=$(cat "$1/qemu.pid" 2>/dev/null) || return 0
	sleep 0.5
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		return 1
	fi
	return 0
}

check() { # name rundir want-kind start max-seconds rc want-rc
	name=$1 run=$2 want=$3 t0=$4 max=$5 rc=$6 wantrc=$7
	el=$(( $(date +%s) - t0 ))
	got=$(field "$run" error_kind)
	if [ "$got" != "$want" ]; then
		notok "$name: verdict '$got', want '$want'"
		tail -3 "$run/events.log" 2>/dev/null | sed 's/^/#   /'
	elif [ "$rc" != "$wantrc" ]; then
		notok "$name: exit $rc, want $wantrc"
	elif ! grep -q '"complete": false' "$run/summary.json"; then
		notok "$name: summary.json not marked incomplete"
	elif [ "$el" -gt "$max" ]; then
		notok "$name: took ${el}s, limit ${max}s"
	elif ! no_leftover "$run"; then
		notok "$name: QEMU still running after the harness ended"
	else
		ok "$name: $want in ${el}s, exit $rc, no process left"
	fi
}

# 1. never ready
t0=$(date +%s)
"$harness" "$@" --backend "$backend" --quiet --results "$res" --run-id never --plot '' \
	"$dir/never-ready.ini" >"$res/never.out" 2>&1
check "guest never ready" "$res/never-ready/never" guest-not-ready "$t0" 25 $? 2


# 2. QEMU killed mid-run, 3. SIGTERM to the harness
for what in qemu harness; do
	t0=$(date +%s)
	"$harness" "$@" --backend "$backend" --quiet --results "$res" --run-id "kill-$what" \
		--plot '' "$dir/long.ini" >"$res/kill-$what.out" 2>&1 &
	hp=$!
	run=$res/long/kill-$what
	if ! wait_for "$run/events.log.part" "STEP " 90; then
		notok "kill $what: the run never reached its step"
		kill -TERM $hp 2>/dev/null
		wait $hp
		continue
	fi
	if [ $what = qemu ]; then
		kill -9 "$(cat "$run/qemu.pid")"
		want=qemu-died
	else
		kill -TERM $hp
		want=interrupted
	fi
	t1=$(date +%s)
	wait $hp
	check "kill $what mid-run" "$run" $want "$t1" 10 $? 2
done

# 4. time limit during a step
t0=$(date +%s)
"$harness" "$@" --backend "$backend" --quiet --results "$res" --run-id limit --plot '' \
	"$dir/long.ini" time-limit=40s >"$res/limit.out" 2>&1
check "time limit" "$res/long/limit" time-limit "$t0" 50 $? 2

echo "# bounded-run tests: $((n - fail))/$n passed"
[ "$fail" = 0 ]
