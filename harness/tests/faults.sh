#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Faults during a real run (emu backend, real guest), each ending with the
# results so far kept and marked incomplete, no process left behind, and
# the next run in the same results directory unaffected:
#   1. the guest panics (agent `panic`)      -> guest-panic at once
#   2. the agent is killed (init restarts it) -> the run carries on, passes
#   3. the disk fills while results are written -> results-write; curve.tsv
#      whole lines, summary.json written (its space was reserved)
#   4. Ctrl-C (SIGINT) mid-step              -> interrupted
#   5. the harness SIGKILLed mid-step        -> QEMU goes too
# and, during run 4, the security checks: the socket directory is gone
# once the harness is connected (hostile.sh checks the modes they were
# created with), QEMU has no TCP or UDP socket at all (its fds against
# /proc/net/{tcp,tcp6,udp,udp6}), and QEMU runs as no root id, with no
# capability, under its seccomp filter (/proc/PID/status: qemu-identity.sh;
# TB_QEMU_USER=root or TB_QEMU_SANDBOX=off in the environment fail it).
# QEMU SIGKILLed and SIGTERM are in bounded.sh.  Five boots, ~3-4 minutes.
#
#   sh harness/tests/faults.sh HARNESS [harness args...]
set -u
harness=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
res=$(mktemp -d /tmp/tb-faults.XXXXXX) || exit 1
mnt=$res/small
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	rm -rf "$res"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
n=0 fail=0
. "$(dirname "$0")/lib.sh"



# Every line of curve.tsv whole: newline-terminated, 14 columns.
curve_whole() {
	[ -f "$1/curve.tsv" ] || return 1
	[ "$(tail -c 1 "$1/curve.tsv" | od -An -c | tr -d ' ')" = '\n' ] || return 1
	awk -F'\t' '!/^#/ && NF != 14 { bad = 1 } END { exit bad }' "$1/curve.tsv"
}

# check NAME RUNDIR WANT-KIND WANT-COMPLETE T0 MAX-SECONDS EXIT WANT-EXIT
check() {
	name=$1 run=$2 want=$3 wantc=$4 t0=$5 max=$6 rc=$7 wantrc=$8
	el=$(( $(date +%s) - t0 ))
	got=$(field "$run" error_kind) complete=$(field "$run" complete)
	pid=$(cat "$run/qemu.pid" 2>/dev/null)
	sleep 0.5
	if [ ! -f "$run/summary.json" ]; then
		notok "$name: no summary.json"
		ls "$run" 2>&1 | sed 's/^/#   /'
	elif [ "$got" != "$want" ] || [ "$complete" != "$wantc" ]; then
		notok "$name: verdict '$got' complete=$complete, want '$want' complete=$wantc"
		tail -4 "$run/events.log" 2>/dev/null | sed 's/^/#   /'
	elif [ "$rc" != "$wantrc" ]; then
		notok "$name: exit $rc, want $wantrc"
	elif [ "$el" -gt "$max" ]; then
		notok "$name: took ${el}s, limit ${max}s"
	elif [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
		notok "$name: QEMU still running after the harness ended"
	elif ! curve_whole "$run"; then
		notok "$name: curve.tsv has a partial line"
	else
		ok "$name: $got in ${el}s, complete=$complete, curve whole, no process left"
		return 0
	fi
	return 1
}

# The next run in the same results directory: a short one on the
# simulator, which must pass and become `latest`.
next_run() { # NAME RESULTS
	"$harness" --backend sim --quiet --plot '' --results "$2" --run-id next \
		"$here/bounded/long.ini" wait.hold=2s >"$res/next.out" 2>&1
	rc=$?
	if [ $rc = 0 ] && [ "$(field "$2/long/next" complete)" = true ] &&
	   [ "$(readlink "$2/long/latest")" = next ]; then
		ok "$1: the next run in the same results directory passes"
	else
		notok "$1: the next run failed (exit $rc)"
		tail -3 "$res/next.out" | sed 's/^/#   /'
	fi
}

# 1. guest panic
t0=$(date +%s)
"$harness" "$@" --quiet --plot '' --results "$res" --run-id panic \
	"$here/faults/panic.ini" >"$res/panic.out" 2>&1
if check "guest panic" "$res/panic/panic" guest-panic false "$t0" 200 $? 2 &&
   ! grep -q "Kernel panic" "$res/panic/panic/console.log"; then
	notok "guest panic: console.log lacks the panic"
fi

# 2. agent killed: the run carries on and passes
t0=$(date +%s)
"$harness" "$@" --quiet --plot '' --results "$res" --run-id akill \
	"$here/faults/agent-kill.ini" >"$res/akill.out" 2>&1
rc=$?
run=$res/agent-kill/akill
if check "agent killed" "$run" null true "$t0" 280 $rc 0; then
	if [ $rc = 0 ] && grep -q AGENT-RESTARTED "$run/events.log" &&
	   grep -q 'agent-restarted' "$run/events.log"; then
		ok "agent killed: restart noticed, lost request answered, run passed"
	else
		notok "agent killed: exit $rc, restart not handled"
		grep AGENT "$run/events.log" | tail -5 | sed 's/^/#   /'
	fi
fi

# 3. disk full while writing results (a small tmpfs, filled mid-run)
mkdir -p "$mnt"
if mount -t tmpfs -o size=4m tbfaults "$mnt" 2>/dev/null; then
	t0=$(date +%s)
	"$harness" "$@" --quiet --plot '' --results "$mnt" --run-id full \
		"$here/bounded/long.ini" sample=100ms boot-timeout=150s >"$res/full.out" 2>&1 &
	hp=$!
	run=$mnt/long/full
	if wait_for "$run/events.log.part" "STEP " 180; then
		dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
		t1=$(date +%s)
		wait $hp
		check "disk full" "$run" results-write false "$t1" 30 $? 2
		rm -f "$mnt/filler"
		next_run "disk full" "$mnt"
	else
		notok "disk full: the run never reached its step"
		kill -TERM $hp 2>/dev/null
		wait $hp
	fi
	umount "$mnt"
else
	notok "disk full: cannot mount a tmpfs (root needed)"
fi

# 4. SIGINT mid-step, with the socket and network checks before it
t0=$(date +%s)
"$harness" "$@" --quiet --plot '' --results "$res" --run-id int \
	"$here/bounded/long.ini" boot-timeout=150s >"$res/int.out" 2>&1 &
hp=$!
run=$res/long/int
if wait_for "$run/events.log.part" "STEP " 180; then
	qpid=$(cat "$run/qemu.pid")
	sockdir=$(sed -n "s/.*path=\([^,]*\)\/qmp,.*/\1/p" "$run/qemu.cmdline")
	# Created owner-only (hostile.sh checks the modes as QEMU made
	# them) and removed once the harness is connected: nothing to
	# connect to while the guest runs, nothing left if it is killed.
	if [ -n "$sockdir" ] && [ ! -e "$sockdir" ]; then
		ok "socket directory $sockdir removed once connected"
	else
		notok "socket directory '$sockdir' still there: $(ls -la "$sockdir" 2>&1 | tr '\n' ' ')"
	fi
	inet=$(sh "$here/inet-sockets.sh" "$qpid")
	if [ -z "$inet" ] && [ -d "/proc/$qpid/fd" ]; then
		ok "QEMU (pid $qpid) has no TCP or UDP socket"
	else
		notok "QEMU has network sockets: $inet"
	fi
	if ident=$(sh "$here/qemu-identity.sh" "$qpid"); then
		ok "QEMU (pid $qpid) unprivileged and sandboxed: $ident"
	else
		notok "QEMU (pid $qpid) $ident"
	fi
	kill -INT $hp
	t1=$(date +%s)
	wait $hp
	check "SIGINT mid-step" "$run" interrupted false "$t1" 15 $? 2
	next_run "SIGINT" "$res"
else
	notok "SIGINT: the run never reached its step"
	kill -TERM $hp 2>/dev/null
	wait $hp
fi

# 5. the harness SIGKILLed mid-step: QEMU goes with it (PR_SET_PDEATHSIG),
# and what is left is the run directory (its .part files, no summary.json)
# (its own results directory: next_run's id is taken in $res)
"$harness" "$@" --quiet --plot '' --results "$res/k" --run-id kill \
	"$here/bounded/long.ini" boot-timeout=150s >"$res/kill.out" 2>&1 &
hp=$!
run=$res/k/long/kill
if wait_for "$run/events.log.part" "STEP " 180; then
	qpid=$(cat "$run/qemu.pid")
	kill -KILL $hp
	wait $hp 2>/dev/null
	i=0
	while [ $i -lt 30 ] && kill -0 "$qpid" 2>/dev/null &&
	      [ "$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$qpid/stat" 2>/dev/null)" != Z ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -ge 30 ]; then
		notok "harness SIGKILLed: QEMU (pid $qpid) still running 3 s later"
		kill -9 "$qpid" 2>/dev/null
	elif [ -f "$run/summary.json" ] || [ ! -f "$run/curve.tsv.part" ]; then
		notok "harness SIGKILLed: want curve.tsv.part and no summary.json"
	else
		ok "harness SIGKILLed: QEMU gone within $((i / 10)).$((i % 10)) s;" \
			"left: $(cd "$run" && ls | tr '\n' ' ')"
	fi
	next_run "SIGKILL" "$res/k"
else
	notok "SIGKILL: the run never reached its step"
	kill -TERM $hp 2>/dev/null
	wait $hp
fi

echo "# fault tests: $((n - fail))/$n passed"
[ "$fail" = 0 ]
