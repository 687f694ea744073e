#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run every scenario (CI sizes: each file's [ci] section), one line each:
#   name  verdict  convergence  final-error  time
# (final-error: the last reservation minus the last target, the target
# clipped to boot memory as the guest clips it)
# then a total; exit 1 if any scenario did not pass.  Files whose name
# starts with "_" are only included by others.  ONLY='a b' limits the set;
# SET='k=v step.k=v' overrides keys in every scenario run (to show that an
# expectation fails when the behaviour it guards is broken).
#   sh harness/regress.sh HARNESS [harness args...]
# Logs go to $BUILD/regress/<backend>/ (REGRESS_LOG overrides), so runs on
# different backends at the same time do not overwrite each other's logs.
set -u
harness=$1
shift
backend=emu
prev=
for a in "$@"; do
	[ "$prev" = --backend ] && backend=$a
	case $a in --backend=*) backend=${a#--backend=} ;; esac
	prev=$a
done
log=${REGRESS_LOG:-${BUILD:-build}/regress/$backend}
mkdir -p "$log"
n=0 bad=0 skipped=0 start=$(date +%s)
printf '%-20s %-8s %-10s %-12s %s\n' scenario verdict converge final-error time
for f in scenarios/*.ini; do
	name=$(basename "$f" .ini)
	case $name in _*) continue ;; esac
	if [ -n "${ONLY:-}" ] && ! echo " $ONLY " | grep -q " $name "; then continue; fi
	n=$((n + 1))
	t0=$(date +%s)
	# shellcheck disable=SC2086
	"$harness" "$@" --ci --quiet "$f" ${SET:-} >"$log/$name.log" 2>&1
	rc=$?
	line=$(grep '^RESULT ' "$log/$name.log" | tail -1)
	verdict=$(echo "$line" | awk '{print $4}')
	conv=$(echo "$line" | sed -n 's/.*converge=\([^ ]*\).*/\1/p')
	err=$(echo "$line" | sed -n 's/.*final-error=\([^ ]*\).*/\1/p')
	[ "$rc" = 3 ] && verdict=skip	# the backend lacks what it needs
	[ -n "$verdict" ] || verdict="error(rc=$rc)"
	printf '%-20s %-8s %-10s %-12s %ss\n' "$name" "$verdict" "${conv:--}" "${err:--}" \
		$(( $(date +%s) - t0 ))
	if [ "$rc" = 3 ]; then
		n=$((n - 1)) skipped=$((skipped + 1))
		sed -n 's/^harness: /    /p' "$log/$name.log"
	elif [ "$rc" != 0 ]; then
		bad=$((bad + 1))
		grep -E '^  (fail|skipped) |^RESULT|^harness:' "$log/$name.log" | sed 's/^/    /'
	fi
done
echo "regress: $((n - bad))/$n scenarios passed$([ "$skipped" = 0 ] || echo " ($skipped skipped: not for backend $backend)") in $(( $(date +%s) - start ))s (logs in $log)"
[ $((n + skipped)) -gt 0 ] && [ "$bad" = 0 ]
