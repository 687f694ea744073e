#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# test-libvirt.sh HARNESS LV_TOOL STATE_DIR [HARNESS_ARGS...]
#
# The libvirt backend against a libvirtd this test starts itself:
#   1. the daemon answers; a transient stock-QEMU domain is created and
#      destroyed through the C API (lv-tool smoke)
#   2. harness/libvirt/tests/libvirt-smoke.ini passes on the libvirt backend
#   3. the same with max-balloon=64M fails, its reservation held at 448M
#      (virsh dominfo's value): the boot-time property reached our device
#   4. QEMU killed mid-run: the harness ends with a qemu-died verdict
#   5. with no LIBVIRT_URI, the backend starts and stops its own daemon
# After every run: no domain left on the daemon; at the end: the daemons,
# their QEMUs, sockets, pid files and private directories are gone.
set -u

HARNESS=$1 LVTOOL=$2 STATE=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
RUN="$HERE/libvirtd-run.sh"
SCEN="$HERE/tests/libvirt-smoke.ini"
STOCK_QEMU=${STOCK_QEMU:-/usr/bin/qemu-system-x86_64}

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
D="$STATE/test-$$"
OWN="$STATE/test-own-$$"
R="$STATE/test-results-$$"
fails=0
TMPS_BEFORE=$(ls -d /tmp/tblv.* 2>/dev/null | sort)

say() { printf '  %-7s %s\n' LIBVIRT "$*"; }
bad() { echo "test-libvirt: FAIL: $*" >&2; fails=$((fails + 1)); }

alive() {
	st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Processes whose command line mentions $1 (ours only: unique paths).
procs_with() {
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		{ tr '\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" &&
			alive "${p#/proc/}" && echo "${p#/proc/}"
	done
}

cleanup() {
	sh "$RUN" clean "$D" >/dev/null 2>&1
	sh "$RUN" clean "$OWN" >/dev/null 2>&1
}
trap 'cleanup; exit 2' INT TERM HUP

no_domains() {
	left=$("$LVTOOL" domains "$URI" tb-)
	case $? in
	0) ;;
	1) bad "$1: domain(s) left on the daemon: $left" ;;
	*) bad "$1: cannot list the daemon's domains" ;;
	esac
}

# Every exit path of a run: the verdict in summary.json agrees with $2.
verdict_is() {
	v=$(sed -n 's/.*"verdict": *"\([a-z]*\)".*/\1/p' "$R/libvirt-smoke/$1/summary.json" 2>/dev/null | tail -1)
	[ "$v" = "$2" ] || bad "$1: summary.json verdict '$v', expected '$2'"
}

# 1. the daemon
URI=$(sh "$RUN" start "$D") || { bad "libvirtd did not start"; cleanup; exit 1; }
DPID=$(cat "$D/libvirtd.pid")
say "libvirtd $DPID at $URI"
# Security: the private daemon listens on no network address.
# (A missing or failing checker is a failure, not "no sockets".)
if ! inet=$(sh "$HERE/../../tests/inet-sockets.sh" "$DPID"); then
	bad "cannot list libvirtd $DPID's sockets (harness/tests/inet-sockets.sh)"
elif [ -z "$inet" ] && [ -d "/proc/$DPID/fd" ]; then
	say "libvirtd $DPID has no TCP or UDP socket"
else
	bad "libvirtd $DPID has network sockets: $inet"
fi
"$LVTOOL" smoke "$URI" "$STOCK_QEMU" >/dev/null || bad "smoke domain on $STOCK_QEMU"
no_domains smoke

# 2. passing run
say "run 'pass' (libvirt-smoke)"
LIBVIRT_URI=$URI "$HARNESS" "$@" --quiet --results "$R" --run-id pass \
	--backend libvirt "$SCEN" > "$STATE/test-$$.pass.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { bad "pass run exited $rc (log: $STATE/test-$$.pass.log)"; tail -5 "$STATE/test-$$.pass.log" >&2; }
verdict_is pass pass
grep -q "BALLOON_CHANGE" "$R/libvirt-smoke/pass/events.log" 2>/dev/null ||
	bad "pass run: no balloon-change event came through libvirt"
grep -q "SET-PROP" "$R/libvirt-smoke/pass/events.log" 2>/dev/null ||
	bad "pass run: the live property step did not run"
grep -q "tb-balloon" "$R/libvirt-smoke/pass/domain-live.xml" 2>/dev/null ||
	bad "live domain XML does not carry the tb-balloon override"
no_domains pass

# 3. failing run: max-balloon caps the balloon below what [shrink] needs,
# so the reservation must stop at 512M - 64M (dominfo: 458752 KiB) and the
# run must fail by its (shortened) time limit.
say "run 'fail' (max-balloon=64M)"
LIBVIRT_URI=$URI "$HARNESS" "$@" --quiet --results "$R" --run-id fail \
	--backend libvirt "$SCEN" max-balloon=64M time-limit=50s \
	> "$STATE/test-$$.fail.log" 2>&1
rc=$?
[ $rc -eq 1 ] || [ $rc -eq 2 ] || bad "fail run exited $rc, expected 1 or 2 (log: $STATE/test-$$.fail.log)"
v=$(sed -n 's/.*"verdict": *"\([a-z]*\)".*/\1/p' "$R/libvirt-smoke/fail/summary.json" 2>/dev/null | tail -1)
[ -n "$v" ] && [ "$v" != pass ] || bad "fail run: verdict '$v', expected a failure"
grep -q "libvirt dominfo: used memory 458752 KiB of 524288 KiB" \
	"$R/libvirt-smoke/fail/events.log" 2>/dev/null ||
	bad "fail run: dominfo did not end at 458752 KiB (max-balloon=64M not applied?)"
no_domains fail

# 4. QEMU dies mid-run: a verdict within seconds, not a hang
say "run 'died' (QEMU killed)"
LIBVIRT_URI=$URI "$HARNESS" "$@" --quiet --results "$R" --run-id died \
	--backend libvirt "$SCEN" > "$STATE/test-$$.died.log" 2>&1 &
hpid=$!
qpid=
i=0
while [ $i -lt 600 ] && [ -z "$qpid" ]; do
	for f in "$D"/run/libvirt/qemu/tb-libvirt-smoke-*.pid; do
		[ -f "$f" ] && qpid=$(cat "$f")
	done
	sleep 0.1; i=$((i + 1))
done
if [ -z "$qpid" ]; then
	bad "died run: the domain's QEMU never appeared"
	kill "$hpid" 2>/dev/null
else
	sleep 3
	kill -KILL "$qpid" 2>/dev/null || bad "died run: QEMU $qpid was gone before the kill"
	i=0
	while alive "$hpid" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	if alive "$hpid"; then
		bad "harness still running 30 s after QEMU was killed"
		kill "$hpid"
	fi
fi
wait "$hpid"
rc=$?
[ $rc -eq 2 ] || bad "died run exited $rc, expected 2"
grep -q "qemu-died" "$R/libvirt-smoke/died/summary.json" 2>/dev/null ||
	bad "died run: summary.json has no qemu-died verdict"
no_domains died

# 5. the backend's own daemon (no LIBVIRT_URI)
say "run 'own' (private daemon started by the backend)"
env -u LIBVIRT_URI TB_LIBVIRTD=own TB_LIBVIRT_STATE="$OWN" "$HARNESS" "$@" \
	--quiet --results "$R" --run-id own --backend libvirt "$SCEN" \
	> "$STATE/test-$$.own.log" 2>&1
rc=$?
[ $rc -eq 0 ] || bad "own-daemon run exited $rc (log: $STATE/test-$$.own.log)"
[ -z "$(ls -A "$OWN" 2>/dev/null)" ] || bad "own-daemon run left $(ls "$OWN")"
[ -z "$(procs_with "$OWN")" ] || bad "own-daemon run left processes: $(procs_with "$OWN")"
[ -f "$R/libvirt-smoke/own/libvirtd.log" ] || bad "own-daemon run kept no libvirtd.log"

# Stop our daemon; then nothing of it may remain.
sh "$RUN" clean "$D" || bad "libvirtd-run.sh clean failed"
alive "$DPID" && bad "libvirtd $DPID still running"
[ -e "$D" ] && bad "$D still exists"
left=$(procs_with "guest=tb-libvirt-smoke-")
[ -z "$left" ] || bad "QEMU processes left: $left"
left=$(procs_with "$D")
[ -z "$left" ] || bad "processes of the test daemon left: $left"
socks=$(find "$STATE" -type s 2>/dev/null | grep -e "test-$$" -e "test-own-$$")
[ -z "$socks" ] || bad "sockets left: $socks"
TMPS_AFTER=$(ls -d /tmp/tblv.* 2>/dev/null | sort)
[ "$TMPS_BEFORE" = "$TMPS_AFTER" ] || bad "socket directories left in /tmp: $(echo "$TMPS_AFTER" | tr '\n' ' ')"
rmdir "$OWN" 2>/dev/null

if [ $fails -ne 0 ]; then
	echo "test-libvirt: $fails check(s) failed; runs kept in $R" >&2
	exit 1
fi
rm -rf "$R" "$STATE"/test-$$.*.log
echo "test-libvirt: pass (daemon, 4 runs, nothing left behind)"
