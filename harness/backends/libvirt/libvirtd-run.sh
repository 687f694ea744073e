#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# libvirtd-run.sh - a private, real libvirtd for one run of the testbed.
#
#   libvirtd-run.sh start DIR   start it (if not already up), wait until it
#                               answers, print its URI on stdout
#   libvirtd-run.sh stop DIR    kill the domains' QEMUs it started, stop it,
#                               remove its sockets, pid files and state
#   libvirtd-run.sh clean DIR   stop, then remove DIR altogether (logs too)
#   libvirtd-run.sh uri DIR     print the URI (no check)
#   libvirtd-run.sh status DIR  exit 0 if it is running
#
# Why a mount namespace: libvirt 9.0 running as root is always the
# "privileged" daemon; its QEMU driver reads /etc/libvirt/qemu.conf and keeps
# state in /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt, with no option or environment variable to move them
# (--config only moves libvirtd.conf).  So the daemon runs in a private mount
# namespace where those paths are bind mounts of DIR; nothing outside DIR is
# written, and the mounts vanish with the daemon and its QEMUs.  Only the
# monolithic libvirtd exists in Debian 12's packages (no virtqemud).
#
# Only the QEMU driver module is loaded (LIBVIRT_DRIVER_DIR), so the network
# and nwfilter drivers do not touch the host's firewall; libvirtd is never
# given --listen, so it has Unix sockets only, in DIR/sock.
#
# TB_LIBVIRTD_IDLE=N: the daemon exits by itself after N s with no client
# and no running domain (the backend sets it for the daemons it starts, so
# a harness killed with SIGKILL leaves no daemon behind for long).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
LIBVIRTD=${LIBVIRTD:-/usr/sbin/libvirtd}
# Where the packaged driver modules are (multiarch path on Debian).
DRIVERS=${LIBVIRT_SYSTEM_DRIVER_DIR:-}
if [ -z "$DRIVERS" ]; then
	for d in /usr/lib/*/libvirt/connection-driver /usr/lib64/libvirt/connection-driver \
		 /usr/lib/libvirt/connection-driver; do
		[ -e "$d/libvirt_driver_qemu.so" ] && { DRIVERS=$d; break; }
	done
fi
START_TIMEOUT=${TB_LIBVIRTD_TIMEOUT:-30}

die() { echo "libvirtd-run: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 start|stop|clean|uri|status DIR"
cmd=$1
if [ ! -d "$2" ]; then
	case $cmd in
	start)		mkdir -p "$2" ;;
	stop|clean)	exit 0 ;;		# nothing was started there
	status)		exit 1 ;;
	esac
fi
D=$(cd "$2" && pwd)
SOCK=$D/sock/libvirt-sock
PIDFILE=$D/libvirtd.pid
URI="qemu:///system?socket=$SOCK"

# The socket path must fit in sun_path (108 bytes).
[ ${#SOCK} -lt 100 ] || die "$D is too deep for a Unix socket path; use a shorter BUILD"
case $D in
/run|/run/*|/var|/var/*|/etc/libvirt|/etc/libvirt/*)
	die "$D is under a path the daemon's namespace hides; choose another directory" ;;
esac

# Running, not a zombie waiting for its reaper.
alive() {
	st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

daemon_pid() {
	[ -f "$PIDFILE" ] || return 1
	pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
	[ -n "$pid" ] && alive "$pid" || return 1
	# A recycled pid is not ours.
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$LIBVIRTD" ] || return 1
	echo "$pid"
}

answers() {
	virsh -q -c "$URI" version >/dev/null 2>&1
}

# QEMUs started by this daemon: <domain>.pid in its private /run (driver.pid
# there is the daemon's own lock).  They outlive libvirtd if it dies.
guest_pids() {
	for f in "$D"/run/libvirt/qemu/*.pid; do
		[ -f "$f" ] && [ "${f##*/}" != driver.pid ] || continue
		p=$(cat "$f" 2>/dev/null) || continue
		[ -n "$p" ] && alive "$p" || continue
		# Only a QEMU: a stale file may name a recycled pid.
		tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q 'guest=' &&
			echo "$p"
	done
}

kill_guests() {
	for p in $(guest_pids); do
		kill "-$1" "$p" 2>/dev/null || true
	done
}

guests_alive() {
	[ -n "$(guest_pids)" ]
}

write_config() {
	mkdir -p "$D/etc" "$D/sock" "$D/run/libvirt" "$D/run/lock" \
		"$D/var/lib/libvirt" "$D/var/cache/libvirt" "$D/var/log/libvirt" \
		"$D/var/tmp" "$D/drivers"
	chmod 700 "$D/sock"
	chmod 1777 "$D/var/tmp"
	ln -sfn /run "$D/var/run"
	ln -sfn /run/lock "$D/var/lock"
	[ -n "$DRIVERS" ] && [ -e "$DRIVERS/libvirt_driver_qemu.so" ] ||
		die "no libvirt QEMU driver module found (install libvirt-daemon-driver-qemu)"
	ln -sfn "$DRIVERS/libvirt_driver_qemu.so" "$D/drivers/libvirt_driver_qemu.so"
	sed -e "s|@SOCKDIR@|$D/sock|g" \
		"$HERE/libvirtd.conf.in" > "$D/etc/libvirtd.conf"
	cp "$HERE/qemu.conf.in" "$D/etc/qemu.conf"
	: > "$D/etc/libvirt.conf"
	# libvirt 9.0 resolves its built-in default account (libvirt-qemu)
	# before it reads qemu.conf, so the name must exist even though
	# qemu.conf runs QEMU as root.  It exists only inside the namespace.
	mkdir -p "$D/ids"
	cp /etc/passwd "$D/ids/passwd"
	cp /etc/group "$D/ids/group"
	grep -q '^libvirt-qemu:' "$D/ids/passwd" ||
		echo 'libvirt-qemu:x:64055:64055:testbed placeholder:/nonexistent:/usr/sbin/nologin' >> "$D/ids/passwd"
	grep -q '^libvirt-qemu:' "$D/ids/group" ||
		echo 'libvirt-qemu:x:64055:' >> "$D/ids/group"
	grep -q '^kvm:' "$D/ids/group" || echo 'kvm:x:64056:' >> "$D/ids/group"
}

start() {
	if daemon_pid >/dev/null; then
		answers || die "a libvirtd is running for $D but does not answer"
		echo "$URI"
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "a private libvirtd needs root (it runs in its own mount namespace); to use an existing daemon, set LIBVIRT_URI"
	command -v unshare >/dev/null || die "unshare (util-linux) is needed"
	[ -x "$LIBVIRTD" ] || die "no $LIBVIRTD (install libvirt-daemon)"
	# Stale files of a daemon that was killed: nothing holds them.
	rm -rf "$D/sock" "$D/run" "$PIDFILE"
	write_config
	: > "$D/libvirtd.log"
	# The private /run also hides the host's D-Bus and systemd, so libvirt
	# does not try machined; /var is private for libvirt's state.
	setsid unshare --mount --propagation private sh -c '
		set -e
		D=$1; shift
		mount --bind "$D/etc" /etc/libvirt
		mount --bind "$D/ids/passwd" /etc/passwd
		mount --bind "$D/ids/group" /etc/group
		mount --bind "$D/run" /run
		mount --bind "$D/var" /var
		exec "$@"
	' sh "$D" env LIBVIRT_DRIVER_DIR="$D/drivers" \
		LIBVIRT_LOG_OUTPUTS="3:file:$D/libvirtd.log" \
		"$LIBVIRTD" --config "$D/etc/libvirtd.conf" --pid-file "$PIDFILE" \
		${TB_LIBVIRTD_IDLE:+--timeout "$TB_LIBVIRTD_IDLE"} \
		</dev/null >>"$D/libvirtd.log" 2>&1 &
	launcher=$!
	i=0
	while [ $i -lt $((START_TIMEOUT * 10)) ]; do
		if ! alive "$launcher"; then
			tail -5 "$D/libvirtd.log" >&2 || true
			die "libvirtd exited at start (log: $D/libvirtd.log)"
		fi
		if [ -S "$SOCK" ] && answers; then
			echo "$URI"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	kill -TERM "$launcher" 2>/dev/null || true
	die "libvirtd did not answer within ${START_TIMEOUT}s (log: $D/libvirtd.log)"
}

stop() {
	# Guests first: libvirtd leaves QEMU running when it exits.
	if guests_alive; then
		kill_guests TERM
		i=0
		while guests_alive && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill_guests KILL
	fi
	if pid=$(daemon_pid); then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while alive "$pid" && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
		if alive "$pid"; then
			echo "libvirtd-run: libvirtd $pid ignored SIGTERM; killing it" >&2
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
	fi
	i=0
	while guests_alive && [ $i -lt 20 ]; do kill_guests KILL; sleep 0.1; i=$((i + 1)); done
	guests_alive && die "a QEMU of $D survived SIGKILL"
	# Sockets, pid files and runtime state; logs and config stay.
	rm -rf "$D/sock" "$D/run" "$D/var/lib" "$D/var/cache" "$D/var/tmp" \
		"$D/drivers" "$D/ids" "$PIDFILE"
}

case $cmd in
start)	start ;;
stop)	stop ;;
clean)	stop; rm -rf "$D" ;;
uri)	echo "$URI" ;;
status)	daemon_pid >/dev/null ;;
*)	die "unknown command '$cmd' (start|stop|clean|uri|status)" ;;
esac
