#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# run-selftest.sh QEMU KERNEL INITRAMFS ACCEL OUTDIR: boot the guest with
# tb.selftest=1 and "-device tb-balloon"; /init runs tests/selftest.sh and
# powers off.  Passes on "TB-SELFTEST: PASS" from both boots; fails on FAIL,
# a crash or the timeout.  Console logs stay in OUTDIR/console-*.log.
set -u
qemu=$1 kernel=$2 initrd=$3 accel=${4:-tcg} out=$5
timeout=${TB_SELFTEST_TIMEOUT:-420}
here=$(dirname "$0")
mkdir -p "$out"
t0=$(date +%s)
# Two boots: the default device (convergence, sysfs, fragmentation, reload),
# then host limits set by device properties (clipping, max balloon, refusals).
passed=0 failed=0 verdict=PASS why=
for run in default limits; do
	log=$out/console-$run.log
	case $run in
	default) dev=tb-balloon,id=balloon0 st=1 ;;
	limits) dev=tb-balloon,id=balloon0,target=768M,max-balloon=64M,refuse-every=3 st=limits ;;
	esac
	"$here/../run-guest.sh" -q "$qemu" -k "$kernel" -i "$initrd" -l "$log" -a "$accel" \
		-m 512M -t "$timeout" -A "tb.selftest=$st" -w '^TB-SELFTEST: ' \
		-- -device "$dev"
	rc=$?
	echo "  # boot $run: -device $dev"
	grep -a -E '^(ok|not ok|#) ' "$log" | sed 's/^/  /'
	passed=$((passed + $(grep -a -c '^ok ' "$log")))
	failed=$((failed + $(grep -a -c '^not ok ' "$log")))
	grep -aq '^TB-SELFTEST: PASS' "$log" && continue
	verdict=FAIL
	w=$(grep -a '^TB-SELFTEST: FAIL' "$log" | head -1)
	[ -n "$w" ] || case $rc in
		2) w="timeout after ${timeout}s" ;;
		*) w="guest stopped without a verdict ($(grep -a -m1 -E 'Kernel panic|BUG:|Oops' "$log" || echo "see $log.qemu"))" ;;
	esac
	why="$why [$run] $w (log $log)"
	[ "$failed" -gt 0 ] || failed=1
done
dt=$(($(date +%s) - t0))
if [ $verdict = PASS ]; then
	echo "test-driver: PASS (accel=$accel, ${dt}s, logs in $out)"
else
	echo "test-driver: FAIL:$why (accel=$accel)"
fi
echo "test-driver: $passed passed, $failed failed"
[ $verdict = PASS ]
