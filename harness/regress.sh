#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Run every scenario (CI sizes: each file's [ci] section), one line each:
#   name  verdict  convergence  final-error  cycles  t90  band  time
# (final-error: the last reservation minus the last target, the target
# clipped to boot memory as the guest clips it; from the run's
# metrics.tsv over the steps that set a target: cycles summed, t90 the
# longest time_to_90_s, band the widest band_mib)
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
# cycles, t90 and band of a run directory's metrics.tsv, by column name.
metrics() {
	[ -f "$1/metrics.tsv" ] || { echo '- - -'; return; }
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		c = $col["cycles"]; t = $col["time_to_90_s"]; b = $col["band_mib"]
		if (c != "-") { nc++; cyc += c }
		if (t != "-" && (t90 == "" || t + 0 > t90 + 0)) t90 = t
		if (b != "-" && (band == "" || b + 0 > band + 0)) band = b
	}
	END {
		printf "%s %s %s\n", nc ? cyc : "-",
			t90 == "" ? "-" : sprintf("%.2fs", t90),
			band == "" ? "-" : sprintf("%.0fM", band)
	}' "$1/metrics.tsv"
}
printf '%-20s %-8s %-10s %-12s %-6s %-8s %-7s %s\n' scenario verdict converge \
	final-error cycles t90 band time
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
	dir=$(sed -n 's/^results: //p' "$log/$name.log" | tail -1)
	read -r cyc t90 band <<-EOF
	$(metrics "${dir:-/nonexistent}")
	EOF
	[ "$rc" = 3 ] && verdict=skip	# the backend lacks what it needs
	[ -n "$verdict" ] || verdict="error(rc=$rc)"
	printf '%-20s %-8s %-10s %-12s %-6s %-8s %-7s %ss\n' "$name" "$verdict" \
		"${conv:--}" "${err:--}" "$cyc" "$t90" "$band" $(( $(date +%s) - t0 ))
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
