#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Print the TCP and UDP sockets (IPv4 and IPv6) process PID holds open, one
# "proto local-address state" line each; nothing when it has none.  Its
# socket fds' inodes are looked up in the tables of its own network
# namespace (/proc/PID/net/{tcp,tcp6,udp,udp6}).
#
#   sh harness/tests/inet-sockets.sh PID
set -u
pid=$1
inodes=$(ls -l "/proc/$pid/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p')
[ -n "$inodes" ] || exit 0
for proto in tcp tcp6 udp udp6; do
	# columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode
	awk -v proto="$proto" -v inodes=" $(echo $inodes) " \
		'NR > 1 && index(inodes, " " $10 " ") { print proto, $2, $4 }' \
		"/proc/$pid/net/$proto" 2>/dev/null
done
