#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Each scenario's expectations can fail: break the behaviour one of them
# guards (a module parameter or a device property, given as an override)
# and the scenario must FAIL.  Runs the CI variants; about a minute each.
#   sh harness/tests/breakage.sh HARNESS [harness args...]   (ONLY='a b')
set -u
harness=$1
shift
res=$(mktemp -d /tmp/tb-breakage.XXXXXX) || exit 1
trap 'rm -rf "$res"' EXIT
n=0 bad=0 start=$(date +%s)
# scenario | overrides that break it (space separated, no spaces inside
# one) | the expectation that must catch it
while IFS='|' read -r name set guard; do
	case $name in ''|\#*) continue ;; esac
	if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
	n=$((n + 1))
	# shellcheck disable=SC2086
	out=$("$harness" "$@" --results "$res" --plot '' --ci --quiet \
		"scenarios/$name.ini" $set 2>&1)
	rc=$?
	if [ "$rc" = 1 ] && echo "$out" | grep -q "^  fail .*$guard"; then
		echo "ok $n $name: '$set' is caught by $guard"
	else
		bad=$((bad + 1))
		echo "not ok $n $name: '$set' gave exit $rc, want a failing $guard"
		echo "$out" | grep -E '^  (pass|fail)|^RESULT' | sed 's/^/#   /'
	fi
done <<'LIST'
pinned-2g|driver.blocking_alloc=1|expect-oom
pinned-2g-capped|max-balloon=1200M|expect-balloon
pinned-2g-naive|driver.blocking_alloc=0|expect-oom
fragmentation|driver.use_2m=0|expect-fallbacks
low-reservation|max-balloon=30%|expect-reservation
partial-grant|shrink-pool.set.pool=2G|expect-partial-grants
hotplug-clip|max-reservation=768M|expect-reservation
pressure|driver.deflate_on_pressure=0|expect-oom
pressure-off|driver.deflate_on_pressure=1|expect-oom
churn|churn.set.reply-delay-ms=30 driver.cmd_timeout_ms=10|expect-accounting
polling|driver.use_irq=1|expect-change-interval
hostile-overgrant|inflate.set.hostile-overgrant=off|expect-stat
hostile-bad-status|inflate.set.hostile-bad-status=off|expect-stat
hostile-flap|driver.irq_storm_limit=100|expect-stat
hostile-irq-storm|driver.irq_empty_limit=0 driver.irq_storm_limit=0|expect-stat
secure-discard|hostile-keep-data=on|expect-stat
secure-zero|discard=on hostile-keep-data=on|expect-stat
secure-keep-data|hostile-keep-data=off|expect-stat
LIST
echo "# breakage tests: $((n - bad))/$n caught in $(( $(date +%s) - start ))s"
[ "$bad" = 0 ]
