#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# accel.sh QEMU [CACHE [KERNEL INITRAMFS]]: print the accelerator to use,
# "kvm" or "tcg".
#
# /dev/kvm can exist while KVM fails or hangs once a real guest runs, so only
# a real boot counts: our guest kernel and initramfs are booted under
# -accel kvm (tb.driver=none) and must print init's readiness line within
# 20 s.  The answer is cached in CACHE (default: none); KERNEL and INITRAMFS
# default to guest/vmlinuz and guest/initramfs.cpio.gz beside CACHE.
# TB_ACCEL=kvm|tcg in the environment skips the probe.  A note saying which
# accelerator and why goes to stderr; stdout holds only the answer.
qemu=${1:?usage: accel.sh QEMU [CACHE [KERNEL INITRAMFS]]}
cache=${2:-}
base=$(dirname "${cache:-./x}")
kernel=${3:-$base/guest/vmlinuz}
initrd=${4:-$base/guest/initramfs.cpio.gz}
here=$(dirname "$0")

case ${TB_ACCEL:-} in
kvm|tcg) echo "accel: $TB_ACCEL (TB_ACCEL)" >&2; echo "$TB_ACCEL"; exit 0 ;;
esac
if [ -n "$cache" ] && [ -s "$cache" ]; then
	a=$(cat "$cache")
	echo "accel: $a (cached in $cache)" >&2
	echo "$a"; exit 0
fi

accel=tcg why="/dev/kvm not usable"
if [ ! -f "$kernel" ] || [ ! -f "$initrd" ]; then
	# Nothing to probe with yet: answer tcg without caching it.
	echo "accel: tcg (no guest kernel/initramfs to probe KVM with yet)" >&2
	echo tcg; exit 0
fi
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	log=$(mktemp /tmp/tb-accel.XXXXXX)
	if "$here/../guest-driver/run-guest.sh" -q "$qemu" -k "$kernel" -i "$initrd" \
		-l "$log" -a kvm -m 256M -t 20 -A "tb.driver=none" \
		-w '^TB-READY' >/dev/null 2>&1; then
		accel=kvm why="probe boot under KVM reached TB-READY"
	else
		why="probe boot under KVM did not reach TB-READY within 20 s"
	fi
	rm -f "$log" "$log.qemu"
fi
echo "accel: $accel ($why)" >&2
if [ -n "$cache" ]; then
	mkdir -p "$(dirname "$cache")" && echo "$accel" > "$cache.tmp" && mv "$cache.tmp" "$cache"
fi
echo "$accel"
