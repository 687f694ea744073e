#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# run-guest.sh: boot the testbed guest once, bounded, and wait for a line.
#
#   run-guest.sh -q QEMU -k KERNEL -i INITRAMFS -l LOG [-a ACCEL] [-m MEM]
#                [-t SECONDS] [-A 'cmdline words'] [-w REGEX] [-x]
#                [-S CHARDEV] [-- extra qemu args...]
#
#   -l LOG     console (ttyS0) log file; QEMU's stderr goes to LOG.qemu
#   -w REGEX   success when a console line matches (grep -E); QEMU is killed
#   -x         success when QEMU exits by itself (guest powered off)
#   -S SPEC    QEMU -serial spec for ttyS1 (the agent's port), default null
# Exit: 0 success, 1 QEMU exited first (or failed to start), 2 timeout.
# QEMU is always killed before returning.
set -u
qemu= kernel= initrd= log= accel=tcg mem=512M timeout=60 append= want= wait_exit=0 s1=null
while getopts q:k:i:l:a:m:t:A:w:xS: o; do
	case $o in
	q) qemu=$OPTARG ;; k) kernel=$OPTARG ;; i) initrd=$OPTARG ;; l) log=$OPTARG ;;
	a) accel=$OPTARG ;; m) mem=$OPTARG ;; t) timeout=$OPTARG ;; A) append=$OPTARG ;;
	w) want=$OPTARG ;; x) wait_exit=1 ;; S) s1=$OPTARG ;;
	*) echo "run-guest: bad option" >&2; exit 1 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
for v in qemu kernel initrd log; do
	eval "[ -n \"\$$v\" ]" || { echo "run-guest: -${v%"${v#?}"} missing" >&2; exit 1; }
done
[ -x "$qemu" ] || { echo "run-guest: QEMU $qemu not executable" >&2; exit 1; }

mkdir -p "$(dirname "$log")"
: > "$log"
# Debian's default command line ("quiet") plus the serial console; panic=-1
# with -no-reboot ends QEMU at once on a guest panic.
"$qemu" -accel "$accel" -m "$mem" -nodefaults -no-reboot -display none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 $append" \
	-serial "file:$log" -serial "$s1" -monitor none "$@" \
	</dev/null >"$log.qemu" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; sleep 0.2; kill -9 "$pid" 2>/dev/null' EXIT INT TERM

rc=2
end=$(($(date +%s) + timeout))
while [ "$(date +%s)" -lt "$end" ]; do
	if [ -n "$want" ] && grep -Eq "$want" "$log" 2>/dev/null; then rc=0; break; fi
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null
		if [ -n "$want" ] && grep -Eq "$want" "$log" 2>/dev/null; then rc=0
		elif [ "$wait_exit" = 1 ] && [ -z "$want" ]; then rc=0
		else rc=1; fi
		break
	fi
	sleep 0.2
done
exit $rc
