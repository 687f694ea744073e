#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Scenario parser tests as data (jq's tests/jq.test style): for each
# harness/tests/parse/NAME.ini, run `harness --dump` in that directory and
# compare with NAME.out (the resolved plan, exit 0) or NAME.err (the exact
# error on stderr, exit 2).  NAME.args, when present, holds the whole
# argument list instead of "NAME.ini" (for overrides and --ci).
# Files named inc-*.ini are only included by other cases.
#
#   sh harness/tests/parse.sh build/harness/harness [NAME]
set -u
harness=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
only=${2:-}
cd "$(dirname "$0")/parse" || exit 1
n=0 fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for ini in *.ini; do
	name=${ini%.ini}
	case $name in inc-*) continue ;; esac
	[ -n "$only" ] && [ "$only" != "$name" ] && continue
	n=$((n + 1))
	if [ -f "$name.args" ]; then
		# shellcheck disable=SC2046
		eval "set -- $(cat "$name.args")"
	else
		set -- "$ini"
	fi
	# A parser that hangs is a failure, not a stuck test run.
	timeout 10 "$harness" --dump "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ -f "$name.out" ]; then
		want=$name.out got=$tmp/out wantrc=0
	elif [ -f "$name.err" ]; then
		want=$name.err got=$tmp/err wantrc=2
	else
		echo "not ok $n $name: no $name.out or $name.err"
		fail=$((fail + 1))
		continue
	fi
	if [ "$rc" != "$wantrc" ] || ! cmp -s "$want" "$got"; then
		echo "not ok $n $name (exit $rc, want $wantrc)"
		diff -u "$want" "$got" | sed 's/^/#   /' | head -20
		[ "$wantrc" = 0 ] && sed 's/^/#   stderr: /' "$tmp/err"
		fail=$((fail + 1))
	else
		echo "ok $n $name"
	fi
done
echo "# parser tests: $((n - fail))/$n passed"
[ "$n" -gt 0 ] && [ "$fail" = 0 ]
