#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Print the accelerator to use: "kvm" when a bounded probe boot under KVM
# works, else "tcg".  /dev/kvm can exist while KVM fails or hangs, so only a
# real start of QEMU counts.  Usage: accel.sh QEMU_BINARY [CACHE_FILE]
qemu=${1:?usage: accel.sh QEMU_BINARY [CACHE_FILE]}
cache=${2:-}
if [ -n "$cache" ] && [ -s "$cache" ]; then cat "$cache"; exit 0; fi
accel=tcg
if [ -w /dev/kvm ] &&
   timeout 10 "$qemu" -accel kvm -machine none -nodefaults -display none \
	-S -qmp stdio </dev/null >/dev/null 2>&1 <<'QMP'
{"execute":"qmp_capabilities"}
{"execute":"quit"}
QMP
then
	accel=kvm
fi
[ -n "$cache" ] && echo "$accel" > "$cache"
echo "$accel"
