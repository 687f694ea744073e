#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The harness against a QEMU that misbehaves on purpose (hostile_qemu.py:
# truncated JSON, huge lines, odd events, a socket closed mid-reply,
# floods).  Each case must end within its bound with the verdict that names
# the cause, summary.json written and marked incomplete, events.log kept,
# and no process or socket left behind.  Then the harness itself: killed
# (SIGKILL: QEMU goes too), SIGHUP, a hung QEMU (SIGSTOP), a kernel command
# line too long, names that would reach a shell.  About 60 s, no guest boots.
#
#   sh harness/tests/hostile.sh HARNESS [ONLY-MODE]
set -u
harness=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
only=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/tb-hostile.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
# The harness checks --qemu is executable: a wrapper, so the script in the
# repository needs no execute bit.
printf '#!/bin/sh\nexec python3 %s "$@"\n' "$here/hostile_qemu.py" >"$tmp/qemu"
chmod +x "$tmp/qemu"
# A harness run as root starts it as tb-qemu, as it does QEMU: that user
# must reach the wrapper (mktemp -d made the directory 0700).
chmod 711 "$tmp"
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
case_ agent-big-values     agent-protocol  false     10     2
case_ agent-silent         agent-dead      false     10     2
case_ balloon-change-flood qmp-flood       false     15     2

# The socket directory and sockets as the fake QEMU found them when it
# created them (before the harness connected): owner-only.
if [ -z "$only" ] || [ "$only" = ok ]; then
	modes=$(sed -n 's/^TB-SOCKETS //p' "$tmp/res/short/ok/console.log")
	if [ "$modes" = "dir=700 qmp=600 agent=600" ]; then
		ok "sockets owner-only as created: $modes"
	else
		notok "socket modes as created: '$modes', want dir=700 qmp=600 agent=600"
	fi
fi

# Who the fake QEMU ran as: a harness run as root starts it as tb-qemu
# (TB_QEMU_USER=root in the environment fails this), any harness with
# QEMU's seccomp sandbox (TB_QEMU_SANDBOX=off fails it).
if [ -z "$only" ] || [ "$only" = ok ]; then
	idl=$(sed -n 's/^TB-IDENTITY //p' "$tmp/res/short/ok/console.log")
	uid=$(echo "$idl" | sed -n 's/^uid=\([0-9]*\) .*/\1/p')
	if [ "$(id -u)" = 0 ]; then
		want="a uid other than 0"
		[ -n "$uid" ] && [ "$uid" != 0 ] && [ "$uid" = "$(id -u tb-qemu 2>/dev/null)" ] && want=
	else
		want="uid $(id -u)"
		[ "$uid" = "$(id -u)" ] && want=
	fi
	case $idl in
	*" sandbox=on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny") ;;
	*) want="$want${want:+, }-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny" ;;
	esac
	if [ -z "$want" ]; then
		ok "QEMU started unprivileged and sandboxed: $idl"
	else
		notok "QEMU started as '$idl', want $want"
	fi
fi

# A QEMU without seccomp (it refuses -sandbox) is refused before anything
# starts, naming the opt-out; with TB_QEMU_SANDBOX=off it runs, unsandboxed.
if [ -z "$only" ] || [ "$only" = no-seccomp ]; then
	HOSTILE_MODE=no-seccomp timeout 30 "$harness" --quiet --qemu "$tmp/qemu" \
		--kernel /dev/null --initrd /dev/null --plot '' \
		--results "$tmp/ns" "$here/hostile/short.ini" >"$tmp/ns.out" 2>&1
	rc=$?
	HOSTILE_MODE=no-seccomp TB_QEMU_SANDBOX=off timeout 60 "$harness" --quiet \
		--qemu "$tmp/qemu" --kernel /dev/null --initrd /dev/null --plot '' \
		--results "$tmp/ns-off" "$here/hostile/short.ini" >"$tmp/ns-off.out" 2>&1
	rc2=$?
	if [ $rc = 2 ] && [ ! -e "$tmp/ns" ] &&
	   grep -q "refuses -sandbox.*TB_QEMU_SANDBOX=off starts it without" "$tmp/ns.out" &&
	   [ $rc2 = 0 ] && grep -q "sandbox=none" "$tmp/ns-off/short/"*/console.log; then
		ok "no-seccomp: a QEMU that refuses -sandbox is refused (exit 2, nothing started); TB_QEMU_SANDBOX=off runs it"
	else
		notok "no-seccomp: exit $rc (want 2, no results), with TB_QEMU_SANDBOX=off exit $rc2 (want 0)"
		tail -n 2 "$tmp/ns.out" "$tmp/ns-off.out" | cut -c1-300 | sed 's/^/#   /'
	fi
fi

# A run the test ends from outside: the harness in the background on the
# fake QEMU (mode sleep, a long step); returns once the step has started,
# with $hp the harness, $qp the fake QEMU and $sockdir its socket directory.
start_bg() { # ID
	run=$tmp/res/short/$1
	HOSTILE_MODE=sleep "$harness" --quiet --qemu "$tmp/qemu" \
		--kernel /dev/null --initrd /dev/null --plot '' \
		--results "$tmp/res" --run-id "$1" "$here/hostile/short.ini" \
		move.hold=120s time-limit=200s >"$tmp/$1.out" 2>&1 &
	hp=$!
	wait_for "$run/events.log.part" "STEP " 20 || return 1
	qp=$(cat "$run/qemu.pid")
	sockdir=$(sed -n 's/.*path=\([^,]*\)\/qmp,.*/\1/p' "$run/qemu.cmdline")
}

# gone PID SECONDS: 0 once PID is no more (a zombie counts as gone)
gone() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# The harness killed outright (SIGKILL): QEMU goes with it
# (PR_SET_PDEATHSIG), the socket directory is already gone (removed once
# connected), and what stays is the run directory with its .part files
# and no summary.json (docs/robustness.md).
if [ -z "$only" ] || [ "$only" = sigkill ]; then
	if start_bg sigkill; then
		kill -KILL $hp
		wait $hp 2>/dev/null
		if ! gone "$qp" 3; then
			notok "sigkill: QEMU (pid $qp) still running 3 s after the harness was killed"
			kill -9 "$qp" 2>/dev/null
		elif [ -n "$sockdir" ] && [ -e "$sockdir" ]; then
			notok "sigkill: socket directory $sockdir left behind"
		elif [ -f "$run/summary.json" ] || [ ! -f "$run/events.log.part" ]; then
			notok "sigkill: want events.log.part and no summary.json in $run"
		else
			ok "sigkill: QEMU gone with the harness, no socket directory;" \
				"left: $(cd "$run" && ls | tr '\n' ' ')"
		fi
	else
		notok "sigkill: the run never reached its step"
		kill -9 $hp 2>/dev/null
	fi
fi

# bg_verdict NAME SIGNAL-TO-HARNESS|- WANT-KIND MAX-SECONDS: the run
# started by start_bg ends with WANT-KIND within MAX-SECONDS, QEMU gone.
bg_verdict() {
	t0=$(date +%s)
	wait $hp
	rc=$? el=$(( $(date +%s) - t0 ))
	got=$(field "$run" error_kind)
	if [ "$got" != "$3" ] || [ "$rc" != 2 ]; then
		notok "$1: verdict '$got' exit $rc, want '$3' exit 2"
		grep -v QMP-EVENT "$run/events.log" 2>/dev/null | tail -3 | sed 's/^/#   /'
	elif [ "$el" -gt "$4" ]; then
		notok "$1: took ${el}s, limit ${4}s"
	elif ! gone "$qp" 2; then
		notok "$1: QEMU (pid $qp) still running"
		kill -9 "$qp" 2>/dev/null
	else
		ok "$1: $got in ${el}s, exit 2, QEMU gone"
	fi
}

# SIGHUP (the terminal closed) is a stop like SIGINT and SIGTERM.
if [ -z "$only" ] || [ "$only" = sighup ]; then
	if start_bg sighup; then
		kill -HUP $hp
		bg_verdict sighup - interrupted 5
	else
		notok "sighup: the run never reached its step"
		kill -9 $hp 2>/dev/null
	fi
fi

# A hung QEMU (SIGSTOP: no QMP reply, no console): qemu-hung within the
# QMP timeout (10 s) and a sample, then it is killed, stopped as it is.
if [ -z "$only" ] || [ "$only" = sigstop ]; then
	if start_bg sigstop; then
		kill -STOP "$qp"
		bg_verdict "sigstop (QEMU hung)" - qemu-hung 16
	else
		notok "sigstop: the run never reached its step"
		kill -9 $hp 2>/dev/null
	fi
fi

# A kernel command line longer than the guest takes (ten driver
# parameters of 250 digits, fuzz-scenario/regress/cmdline-too-long.ini):
# refused by prepare(), naming file:line and keys; nothing is started and
# no results directory made.  libvirt too when it is built in.
if [ -z "$only" ] || [ "$only" = cmdline-too-long ]; then
	for b in emu virtio libvirt; do
		"$harness" --help | grep -q "^  --backend.* $b" || continue
		ini=$here/fuzz-scenario/regress/cmdline-too-long.ini
		HOSTILE_MODE=ok timeout 30 "$harness" --backend $b --qemu "$tmp/qemu" \
			--stock-qemu "$tmp/qemu" --kernel /dev/null --initrd /dev/null \
			--plot '' --results "$tmp/cl-$b" "$ini" >"$tmp/cl-$b.out" 2>&1
		rc=$?
		if [ $b = virtio ]; then
			# virtio passes no driver parameters: it fits and boots.
			if grep -q 'kernel command line would be' "$tmp/cl-$b.out"; then
				notok "cmdline-too-long: virtio refused a line it does not pass"
			else
				ok "cmdline-too-long: virtio (no driver parameters) not refused"
			fi
		elif [ $rc = 2 ] && [ ! -e "$tmp/cl-$b" ] &&
		     grep -q "kernel command line would be 2[0-9]* bytes, more than the 2047" "$tmp/cl-$b.out" &&
		     grep -q "cmdline-too-long.ini:[0-9]*: driver\.backoff_min_ms (277 bytes)" "$tmp/cl-$b.out"; then
			ok "cmdline-too-long: $b refuses it before starting anything, naming file:line and keys"
		else
			notok "cmdline-too-long: $b exit $rc"
			cut -c1-300 "$tmp/cl-$b.out" | tail -3 | sed 's/^/#   /'
		fi
	done
fi

# Names that reach file names and the plot: a scenario file named
# b';touch PWNED;'.ini on the simulator with the plot script once ran
# `touch PWNED`.  Now the name is refused (exit 2) and nothing runs; a
# run id likewise; a results directory holding ' and `...` (the user's own
# path) is plotted with no command run.
if [ -z "$only" ] || [ "$only" = names ]; then
	mkdir -p "$tmp/names"
	cp "$here/hostile/short.ini" "$tmp/names/b';touch PWNED;'.ini"
	plot=$here/../plot.sh
	(cd "$tmp/names" && "$harness" --backend sim --quiet --plot "$plot" \
		--results res "b';touch PWNED;'.ini" >out 2>&1)
	rc=$?
	if [ -n "$(find "$tmp" -name PWNED)" ] || [ -e "$tmp/names/res" ] ||
	   [ $rc != 2 ] || ! grep -q "the scenario's name 'b';touch PWNED;'' (the file name up to its first '.') may hold only" "$tmp/names/out"; then
		notok "names: scenario b';touch PWNED;': exit $rc, $(find "$tmp" -name PWNED | wc -l) PWNED"
		tail -2 "$tmp/names/out" | sed 's/^/#   /'
	else
		ok "names: scenario b';touch PWNED;' refused (exit 2), nothing run, no results directory"
	fi
	(cd "$tmp/names" && "$harness" --backend sim --quiet --plot "$plot" \
		--results res --run-id "x';touch PWNED;'" "$here/hostile/short.ini" >out 2>&1)
	rc=$?
	if [ -n "$(find "$tmp" -name PWNED)" ] || [ $rc != 2 ] ||
	   ! grep -q "^harness: --run-id 'x';touch PWNED;'': expected" "$tmp/names/out"; then
		notok "names: run id x';touch PWNED;': exit $rc"
		tail -2 "$tmp/names/out" | sed 's/^/#   /'
	else
		ok "names: run id x';touch PWNED;' refused (exit 2), nothing run"
	fi
	if command -v gnuplot >/dev/null; then
		res="$tmp/names/it's \`touch PWNED\` \$(touch PWNED)"
		(cd "$tmp/names" && "$harness" --backend sim --quiet --plot "$plot" \
			--results "$res" --run-id p "$here/hostile/short.ini" >out 2>&1)
		rc=$?
		if [ -n "$(find "$tmp" -name PWNED)" ] || [ $rc != 0 ] ||
		   [ ! -s "$res/short/p/convergence.png" ]; then
			notok "names: results directory with ' and \`...\`: exit $rc, $(find "$tmp" -name PWNED | wc -l) PWNED"
			tail -3 "$res/short/p/plot.log" 2>/dev/null | sed 's/^/#   /'
		else
			ok "names: results directory with ' and \`...\` plotted, no command run"
		fi
	fi
fi

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
