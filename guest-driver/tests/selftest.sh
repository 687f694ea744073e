#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# In-guest driver tests, run by /init with tb.selftest=1 on a guest with
# "-device tb-balloon" (defaults: target = RAM, max-balloon 65% of RAM).
# Prints TAP lines ("ok N - ...", "not ok N - ...") and "# selftest complete";
# /init turns them into TB-SELFTEST: PASS|FAIL.  sysfs values are KiB.
S=/sys/kernel/tb_balloon
D=/sys/kernel/debug/tb_balloon/stats
KO=/lib/modules/tb_balloon.ko
# Convergence bound per step, seconds (TCG is slow; passes take ms).
BOUND=${TB_SELFTEST_BOUND:-60}

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# stat NAME: a debugfs stats value by its name ("fallbacks 4k").
stat() { sed -n "s/^$1 *: *\([0-9]*\)$/\1/p" $D; }
memfree() { sed -n 's/^MemFree: *\([0-9]*\) kB$/\1/p' /proc/meminfo; }
memavail() { sed -n 's/^MemAvailable: *\([0-9]*\) kB$/\1/p' /proc/meminfo; }
# wait_current KIB: current reaches KIB within BOUND seconds.
wait_current() {
	i=0
	while [ $i -lt $((BOUND * 10)) ]; do
		[ "$(cat $S/current)" = "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# current $(cat $S/current) KiB, wanted $1 KiB after ${BOUND}s"
	return 1
}
# eperm FILE VALUE: the write fails with EPERM.
eperm() {
	out=$( (echo "$2" > "$1") 2>&1 ) && { echo "# write $2 to $1 succeeded"; return 1; }
	echo "$out" | grep -qi 'not permitted' || { echo "# $out"; return 1; }
}
# accepts FILE VALUE: the write succeeds and reads back.
accepts() { echo "$2" > "$1" && [ "$(cat "$1")" = "$2" ]; }
eq() { [ "$1" = "$2" ] || { echo "# '$1' != '$2'"; return 1; }; }
ge() { [ "$1" -ge "$2" ] || { echo "# $1 < $2"; return 1; }; }

if [ "${TB_DRIVER:-tb_balloon}" != tb_balloon ]; then
	echo "ok 1 - # SKIP selftest is for tb_balloon, driver is $TB_DRIVER"
	echo "1..1"
	echo "# selftest complete"
	exit 0
fi

# Second boot of run-selftest.sh: the host's limits, set by device
# properties (target=768M,max-balloon=64M,refuse-every=3 on 512M of RAM).
if [ "${TB_SELFTEST:-1}" = limits ]; then
	max=$(cat $S/max)
	check "host target above max is clipped to max" wait_current "$max"
	check "clipping message" sh -c "dmesg | grep -q \"memory 'hot-plug' unsupported - clipping reservation 196608 => $((max / 4)) pages.\""
	check "clipping message given once" eq "$(dmesg | grep -c "hot-plug' unsupported")" 1
	mb=$(($(stat "max balloon pages") * 4))
	check "device max balloon is 64 MiB" eq "$mb" 65536
	t=$((max - 131072))
	check "target $t KiB (128 MiB balloon, above max balloon) accepted" accepts $S/target $t
	check "balloon stops at the device's max balloon" wait_current $((max - mb))
	sleep 2
	check "still capped after a back-off" eq "$(cat $S/current)" $((max - mb))
	check "could-not-reach warning, in KiB" sh -c "dmesg | grep -q 'WARNING: balloon could not reach target $t (current $((max - mb)))'"
	check "warning given once per episode" eq "$(stat "stall warnings")" 1
	check "refusals counted by reason (refuse-every=3)" ge "$(stat "refuse fault")" 1
	check "refused pages went back to the guest" eq "$(stat "balloon pages")" "$(stat "device balloon pages")"
	check "target back to max" accepts $S/target "$max"
	check "deflate to an empty balloon" wait_current "$max"
	echo "1..$n"
	echo "# $((n - fails)) passed, $fails failed"
	echo "# selftest complete"
	exit 0
fi

# Files and stats
check "sysfs files present" test -r $S/current -a -r $S/min -a -r $S/max -a -r $S/target -a -r $S/floor
check "pci device sysfs files present" sh -c 'ls /sys/bus/pci/drivers/tb_balloon/*/target >/dev/null'
check "debugfs stats fixed-width lines" sh -c "awk 'length(\$0) != 40 || substr(\$0, 23, 2) != \": \" { bad = 1 } END { exit bad || NR < 10 }' $D"
max=$(cat $S/max)
boot=$(($(stat "boot pages") * 4))
check "max is the boot reservation ($max KiB)" eq "$max" "$boot"
check "empty balloon at the host's default target" wait_current "$max"
check "target reads the default target" eq "$(cat $S/target)" "$max"

# EPERM rules (NetBSD balloon(4)): min below safeguard, target below min or above max.
safe=$(($(stat "safeguard pages") * 4))
min=$(cat $S/min)
check "min defaults to the safeguard ($safe KiB)" eq "$min" "$safe"
check "the safeguard is the floor" eq "$(cat $S/floor)" "$safe"
check "debugfs floor pages is the floor" eq "$(($(stat "floor pages") * 4))" "$safe"
# What the inflater leaves available: floor + band, KiB.
keep=$(($(stat "inflate floor pages") * 4))
check "min below safeguard: EPERM" eperm $S/min $((safe - 4))
check "min above max: EPERM" eperm $S/min $((max + 4))
check "target below min: EPERM" eperm $S/target $((min - 4))
check "target above max: EPERM" eperm $S/target $((max + 4))
check "target garbage: rejected" sh -c "! echo abc > $S/target 2>/dev/null"
check "min raised 64 MiB above it" accepts $S/min $((safe + 65536))
check "target below raised min: EPERM" eperm $S/target $((safe + 65532))
check "min back to the safeguard" accepts $S/min "$safe"

# Convergence in both directions through sysfs target.
start_free=$(memfree)
t1=$((max - 131072))
check "target $t1 KiB (inflate 128 MiB) accepted" accepts $S/target $t1
check "inflate converges to $t1 KiB" wait_current $t1
check "2 MiB pages used first" ge "$(stat "balloon 2m entries")" 1
check "guest MemFree dropped by the balloon" ge $((start_free - $(memfree))) 120000
t2=$((max - 32768))
check "target $t2 KiB (deflate 96 MiB) accepted" accepts $S/target $t2
check "deflate converges to $t2 KiB" wait_current $t2
check "balloon accounting matches the device" eq "$(stat "balloon pages")" "$(stat "device balloon pages")"
check "target back to max" accepts $S/target "$max"
check "deflate to an empty balloon" wait_current "$max"

# Fragmentation: free memory in 4 KiB holes makes 2 MiB allocations fail.
fb0=$(stat "fallbacks 4k")
# Fill what is free above 32 MiB, then punch every other 4 KiB page out
# (agent "fragment ... holes").  The inflation (up to 160 MiB, within what
# the floor and band leave) is larger than what stays free in one piece,
# so 2 MiB allocations must fail on the way.
fill=$(( ($(memfree) - 32768) * 1024 ))
frag=$(/bin/tb-agent -c "fragment $fill holes")
check "agent fragments $((fill >> 20)) MiB ($frag)" sh -c "echo '$frag' | grep -q '^ok id='"
free_now=$(memfree)
take=$(($(memavail) - keep - 8192))
[ $take -gt 163840 ] && take=163840
check "room to inflate past the unfragmented 32 MiB ($take KiB)" ge "$take" 49152
t3=$(($(cat $S/current) - take))
check "target $t3 KiB (inflate $((take / 1024)) MiB into fragmented memory)" accepts $S/target $t3
check "converges with 4 KiB pages" wait_current $t3
check "fell back to 4 KiB" ge "$(stat "fallbacks 4k")" $((fb0 + 1))
check "4 KiB entries in the balloon" ge "$(stat "balloon 4k entries")" 1
echo "# fragmented: free $free_now KiB before, fallbacks $(stat "fallbacks 4k"), 4k entries $(stat "balloon 4k entries"), 2m entries $(stat "balloon 2m entries")"
/bin/tb-agent -c "free all" >/dev/null
rm -rf /tmp/tb-fragment.*
check "target back to max after fragmentation" accepts $S/target "$max"
check "deflate mixed 2 MiB/4 KiB balloon" wait_current "$max"

# rmmod with a full balloon returns everything; reload starts clean.
start_free=$(memfree)
mb=$(($(stat "max balloon pages") * 4))
t4=$((max - mb + 4096))
[ $t4 -lt "$(cat $S/min)" ] && t4=$(($(cat $S/min) + 65536))
# ... or as near as the floor and band of available memory let it go.
t4f=$(($(cat $S/current) - ($(memavail) - keep - 16384)))
[ $t4 -lt $t4f ] && t4=$t4f
check "target $t4 KiB (near the device's max balloon)" accepts $S/target $t4
check "inflate converges to $t4 KiB" wait_current $t4
full_free=$(memfree)
check "rmmod with a full balloon" rmmod tb_balloon
sleep 1
back=$(memfree)
echo "# MemFree: $start_free KiB before, $full_free KiB full, $back KiB after rmmod"
check "MemFree back near the start after rmmod" ge "$back" $((start_free - 16384))
check "sysfs gone after rmmod" test ! -e $S/current
check "reload" insmod $KO
check "reloaded driver sees an empty balloon" wait_current "$(cat $S/max)"
check "device balloon empty after reload" eq "$(stat "device balloon pages")" 0
t5=$((max - 65536))
check "reloaded driver converges to $t5 KiB" sh -c "echo $t5 > $S/target && true"
check "inflate after reload" wait_current $t5
check "no OOM kill during the tests" eq "$(sed -n 's/^oom_kill //p' /proc/vmstat)" 0

echo "1..$n"
echo "# $((n - fails)) passed, $fails failed"
echo "# selftest complete"
