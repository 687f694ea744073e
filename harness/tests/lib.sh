# SPDX-License-Identifier: GPL-2.0-only
# Shared by the harness's shell tests (bounded.sh, faults.sh, hostile.sh):
# TAP-style result lines and the few ways they read a run's results.
# Sourced; the caller sets n=0 fail=0.

ok() { n=$((n + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $*"; }

# field RUNDIR KEY -> a top-level value of summary.json, quotes dropped
field() {
	sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" \
		"$1/summary.json" 2>/dev/null
}

# wait_for FILE PATTERN SECONDS: 0 once FILE matches, 1 at the timeout
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
