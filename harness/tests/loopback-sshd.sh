# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
# sshd on the loopback address for tests that need "remote hosts"
# (harness/report/test-fanout.sh, harness/backends/libvirt/
# test-libvirt-remote.sh), sourced after setting
#   tmp    a private temp dir (keys, configs, logs, known_hosts go there)
#   py     a python3;  pids   pids to stop (each sshd is appended)
#   fail   a function that reports and exits
# Throwaway host and user keys; nothing outside $tmp is written (the ssh
# client's known_hosts is $tmp/known_hosts).  `sshd NAME` starts one.
mkdir -p /run/sshd "$tmp/keys"
chmod 700 "$tmp" "$tmp/keys"
ssh-keygen -q -t ed25519 -N '' -f "$tmp/keys/host" || exit 1
ssh-keygen -q -t ed25519 -N '' -f "$tmp/keys/user" || exit 1
cp "$tmp/keys/user.pub" "$tmp/keys/authorized_keys"
user=$(id -un)
# The ssh client with the throwaway key and known_hosts, for programs that
# take an ssh command (libvirt's qemu+ssh URI: command=$tmp/ssh).
printf '#!/bin/sh\nexec ssh -i %s -o BatchMode=yes -o UserKnownHostsFile=%s -o StrictHostKeyChecking=accept-new -o ConnectTimeout=5 "$@"\n' \
	"$tmp/keys/user" "$tmp/known_hosts" >"$tmp/ssh" && chmod 755 "$tmp/ssh" || exit 1

free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# sshd NAME: one sshd on a free loopback port, for at most SSHD_SECONDS
# (default 400); sets port_NAME and pid_NAME and appends its sshlogin to
# $tmp/hosts ($tmp/host-NAME: that line alone).
sshd() {
	port=$(free_port)
	cat >"$tmp/sshd-$1.conf" <<-EOF
	ListenAddress 127.0.0.1
	Port $port
	HostKey $tmp/keys/host
	PidFile $tmp/sshd-$1.pid
	AuthorizedKeysFile $tmp/keys/authorized_keys
	StrictModes no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	AllowUsers $user
	UsePAM no
	MaxStartups 64
	MaxSessions 64
	LogLevel ERROR
	EOF
	timeout "${SSHD_SECONDS:-400}" /usr/sbin/sshd -D -e -f "$tmp/sshd-$1.conf" 2>"$tmp/sshd-$1.log" &
	eval "pid_$1=$!; port_$1=$port"
	pids="$pids $!"
	echo "1/ssh -p $port -i $tmp/keys/user -o BatchMode=yes -o UserKnownHostsFile=$tmp/known_hosts -o StrictHostKeyChecking=accept-new -o ConnectTimeout=5 $user@127.0.0.1" >"$tmp/host-$1"
	cat "$tmp/host-$1" >>"$tmp/hosts"
	i=0
	while ! $(cat "$tmp/host-$1" | cut -d/ -f2-) true 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "sshd $1 on port $port did not answer: $(cat "$tmp/sshd-$1.log")"
		sleep 0.1
	done
}
