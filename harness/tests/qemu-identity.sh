#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# qemu-identity.sh PID: how a running QEMU is confined, read from
# /proc/PID/status.  Prints one line and exits 0 when it holds no root id
# (real, effective, saved and filesystem uid and gid, and no supplementary
# group 0), no effective capability, and runs under a seccomp filter
# (Seccomp: 2, what QEMU's -sandbox installs); otherwise exits 1 with what
# is wrong.  Used by faults.sh (emu) and test-libvirt.sh (libvirt).
set -u
[ $# -eq 1 ] || { echo "usage: $0 PID" >&2; exit 2; }
st=/proc/$1/status
[ -r "$st" ] || { echo "no process $1"; exit 1; }
awk '
function root(what, v,   i, r) { for (i = 2; i <= 5; i++) if ($i == 0) r = 1; if (r) bad = bad " " what " 0 (" v ")" }
$1 == "Uid:"     { uid = $2 " " $3 " " $4 " " $5; root("uid", uid) }
$1 == "Gid:"     { gid = $2 " " $3 " " $4 " " $5; root("gid", gid) }
$1 == "Groups:"  { for (i = 2; i <= NF; i++) if ($i == 0) bad = bad " in group 0" }
$1 == "CapEff:"  { cap = $2; if ($2 !~ /^0+$/) bad = bad " capabilities " $2 }
$1 == "Seccomp:" { sc = $2; if ($2 != 2) bad = bad " Seccomp: " $2 " (want 2, a filter)" }
$1 == "NoNewPrivs:" { nnp = $2 }
END {
	if (uid == "" || sc == "") { print "cannot read Uid/Seccomp"; exit 1 }
	if (bad != "") { print "confinement:" bad; exit 1 }
	printf "uid %s, gid %s, no capabilities, Seccomp: %s (filter), NoNewPrivs: %s\n", uid, gid, sc, nnp
}' "$st"
