#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# test-libvirt-remote.sh HARNESS LV_TOOL STATE_DIR [HARNESS_ARGS...]
#
# The libvirt backend given a remote URI, LIBVIRT_URI=qemu+ssh://...:
#   - a private libvirtd (libvirtd-run.sh, Unix socket only) and an sshd on
#     127.0.0.1 with a throwaway key (harness/tests/loopback-sshd.sh);
#   - the URI qemu+ssh://USER@127.0.0.1:PORT/system?socket=SOCK&keyfile=KEY
#     &command=SSH (libvirt's ssh transport runs `nc -U SOCK` on the far
#     side: netcat-openbsd; command= is an ssh with the test's known_hosts,
#     so nothing is written to ~/.ssh);
#   - the daemon answers through it (lv-tool ping), and one CI-size
#     scenario (pinned-2g-capped --ci) passes through it: its run records
#     the URI (libvirt.txt) and the domain libvirt made (domain-live.xml);
#   - afterwards no domain is left, and the daemon, sshd and temp dir are
#     gone.  Every step is bounded (timeout); boots a guest: run it under
#     flock /tmp/tb-emu.lock.
set -u
harness=$1 lvtool=$2 state=$3
shift 3
# shellcheck disable=SC2034 # py and SSHD_SECONDS: for loopback-sshd.sh
py=${REPORT_PY:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
run=$here/libvirtd-run.sh
mkdir -p "$state" || exit 1
state=$(cd "$state" && pwd)
d=$state/remote-$$
tmp=$(mktemp -d /tmp/tb-lvremote.XXXXXX) || exit 1
pids=
stop() {
	sh "$run" clean "$d" >/dev/null 2>&1
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 2' INT TERM HUP
fail() { echo "test-libvirt-remote: FAIL: $*"; exit 1; }
n=0
check() { n=$((n + 1)); echo "test-libvirt-remote: ok $n - $*"; }

command -v nc >/dev/null || fail "no nc (netcat-openbsd: make deps): libvirt's ssh transport runs it to reach a socket= path"
[ -x /usr/sbin/sshd ] || fail "no sshd (openssh-server: make deps)"
# shellcheck disable=SC2034
SSHD_SECONDS=300
. harness/tests/loopback-sshd.sh
sshd R
local_uri=$(timeout 60 sh "$run" start "$d") || fail "the private libvirtd did not start"
sock=${local_uri#*socket=}
uri="qemu+ssh://$user@127.0.0.1:$port_R/system?socket=$sock&keyfile=$tmp/keys/user&command=$tmp/ssh"
check "libvirtd $(cat "$d/libvirtd.pid") on $sock, sshd on 127.0.0.1:$port_R"

timeout 30 "$lvtool" ping "$uri" || fail "the daemon does not answer at $uri"
check "the daemon answers at qemu+ssh://$user@127.0.0.1:$port_R/system?socket=...&keyfile=...&command=..."

res=$tmp/results
# The harness on a machine of another name (its own UTS namespace) is
# refused before any domain is made: it would hand the daemon paths that
# are not there and wait for a console log that is not here.
LIBVIRT_URI=$uri timeout 60 unshare -u sh -c 'hostname tb-elsewhere && exec "$@"' sh \
	"$harness" "$@" --quiet --results "$res" --run-id elsewhere --backend libvirt \
	--ci scenarios/pinned-2g-capped.ini >"$tmp/elsewhere.log" 2>&1
rc=$?
[ "$rc" = 2 ] && grep -q "runs on $(hostname | cut -d. -f1)[^ ]*, not on this machine (tb-elsewhere)" "$tmp/elsewhere.log" ||
	fail "a daemon on another host: exit $rc, $(tail -3 "$tmp/elsewhere.log")"
check "from a host named tb-elsewhere: refused (exit 2): $(grep -o 'the daemon at [^ ]* runs on [^:]*' "$tmp/elsewhere.log" | sed 's/?[^ ]*//')"

LIBVIRT_URI=$uri timeout 300 "$harness" "$@" --quiet --results "$res" \
	--run-id remote --backend libvirt --ci scenarios/pinned-2g-capped.ini \
	>"$tmp/run.log" 2>&1
rc=$?
r=$res/pinned-2g-capped/remote
[ "$rc" = 0 ] || fail "pinned-2g-capped --ci through $uri exited $rc: $(tail -5 "$tmp/run.log")"
grep -qx "uri $uri" "$r/libvirt.txt" 2>/dev/null ||
	fail "the run's libvirt.txt does not name the qemu+ssh URI: $(cat "$r/libvirt.txt" 2>&1)"
grep -q "tb-balloon" "$r/domain-live.xml" 2>/dev/null ||
	fail "no live domain XML with the tb-balloon override"
grep -q '"verdict": *"pass"' "$r/summary.json" ||
	fail "summary.json: not a pass"
check "pinned-2g-capped --ci through qemu+ssh: $(grep '^RESULT' "$tmp/run.log" | cut -d' ' -f4-)"

left=$(timeout 30 "$lvtool" domains "$uri" tb-)
[ $? = 0 ] || fail "domains left on the daemon: $left"
dpid=$(cat "$d/libvirtd.pid")
sh "$run" clean "$d" || fail "libvirtd-run.sh clean failed"
# Gone, or a zombie its parent has not reaped yet: up to 10 s.
i=0
while st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$dpid/stat" 2>/dev/null) &&
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "libvirtd $dpid still running"
	sleep 0.1
done
[ -e "$d" ] && fail "$d still exists"
kill "$pid_R" 2>/dev/null
check "no domain left; the daemon and its directory gone"
echo "test-libvirt-remote: $n passed, 0 failed, 0 skipped"
