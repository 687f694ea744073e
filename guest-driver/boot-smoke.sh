#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# boot-smoke.sh QEMU KERNEL INITRAMFS ACCEL OUTDIR: boot the guest once with
# "-device tb-balloon" and the tb_balloon driver; pass when the driver probed
# the device (its probe line with magic/version/boot pages/target) and init
# printed TB-READY.  One verdict line; the console log stays in OUTDIR.
set -u
qemu=$1 kernel=$2 initrd=$3 accel=${4:-tcg} out=$5
timeout=${TB_BOOT_TIMEOUT:-120}
here=$(dirname "$0")
mkdir -p "$out"
log=$out/console.log
t0=$(date +%s)
"$here/run-guest.sh" -q "$qemu" -k "$kernel" -i "$initrd" -l "$log" -a "$accel" \
	-m 512M -t "$timeout" -w '^TB-READY ' -- -device tb-balloon,id=balloon0
rc=$?
dt=$(($(date +%s) - t0))
probe=$(grep -a -m1 'tb_balloon: probe .*magic=0x74626c6e version=1 .*boot_pages=[1-9][0-9]* target=[0-9]' "$log")
ready=$(grep -a -m1 '^TB-READY ' "$log")
cmdline=$(grep -a -m1 '^TB-CMDLINE: ' "$log" | sed 's/^TB-CMDLINE: //')
if [ $rc = 0 ] && [ -n "$probe" ] && echo "$ready" | grep -q 'driver=tb_balloon'; then
	echo "boot: PASS (accel=$accel, ${dt}s, cmdline '$cmdline', log $log)"
	echo "  ${probe#*] }"
	exit 0
fi
if [ $rc = 2 ]; then why="no TB-READY within ${timeout}s"
elif [ $rc != 0 ]; then why="QEMU exited before TB-READY: $(head -c 300 "$log.qemu")"
elif [ -z "$probe" ]; then why="no tb_balloon probe line ($ready)"
else why="driver not loaded ($ready)"; fi
echo "boot: FAIL: $why (accel=$accel, log $log)"
exit 1
