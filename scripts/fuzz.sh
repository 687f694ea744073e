#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fuzz.sh BIN CORPUS_DIR SECONDS [LIBFUZZER_ARGS...]
#
# Run one libFuzzer target for SECONDS over a copy of its committed corpus,
# so the repository never changes:
#   1. replay every regression input in CORPUS_DIR/regress/ (past crashes,
#      kept so they never come back); any failure stops here;
#   2. copy CORPUS_DIR (seeds and regress/) to BIN.work/corpus next to BIN
#      and fuzz there; crashes go to BIN.work/crashes/.
# On a crash it prints the input's path, how to reproduce it and how to
# keep it as a regression input, and exits 1.  Exit 0: nothing found.
set -eu

usage() { echo "usage: fuzz.sh BIN CORPUS_DIR SECONDS [LIBFUZZER_ARGS...]" >&2; exit 2; }
[ $# -ge 3 ] || usage
bin=$1 corpus=${2%/} secs=$3
shift 3
case $secs in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number, not '$secs'" >&2; exit 2;; esac
[ -x "$bin" ] || { echo "fuzz.sh: $bin: no such fuzz target (build it first)" >&2; exit 2; }
[ -d "$corpus" ] || { echo "fuzz.sh: $corpus: no such corpus directory" >&2; exit 2; }

name=$(basename "$bin")
work=$bin.work
# One run per target at a time (make test-fuzz and a by-hand run share
# $work): the second waits.
mkdir -p "$work"
exec 9>"$work/lock"
if ! flock -n 9; then
	echo "fuzz $name: another run of $name is going on; waiting for it"
	flock 9
fi
# Common libFuzzer limits: a slow or greedy input is a finding too.
opts="-timeout=10 -rss_limit_mb=2048"

# Targets that need scratch files get TMPDIR inside $work: a run that dies
# on a finding leaves nothing in /tmp.
rm -rf "$work/tmp"
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"

# 1. Regression inputs: each must run clean.
if [ -d "$corpus/regress" ] && [ -n "$(ls -A "$corpus/regress")" ]; then
	n=$(ls -A "$corpus/regress" | wc -l)
	echo "fuzz $name: replaying $n regression input(s) from $corpus/regress"
	# A target that runs each input in a forked child (QEMU's generic-fuzz)
	# exits 0 when the child crashed: the sanitizers' and libFuzzer's
	# SUMMARY lines count as a failure too.
	# shellcheck disable=SC2086 # $opts is a word list
	if ! "$bin" $opts "$@" "$corpus"/regress/* > "$work/regress.log" 2>&1 ||
	   grep -q '^SUMMARY: ' "$work/regress.log"; then
		tail -30 "$work/regress.log" >&2
		# The input that ran last before the first report.
		failed=$(awk '/^Running: / { r = substr($0, 10) } /^SUMMARY: / { exit } END { print r }' \
			"$work/regress.log")
		echo "fuzz $name: FAILED on regression input ${failed:-(see $work/regress.log)}" >&2
		echo "  reproduce: $bin $failed" >&2
		exit 1
	fi
fi

# 2. Fuzz a throw-away copy of the corpus.
rm -rf "$work/corpus" "$work/crashes"
mkdir -p "$work/corpus" "$work/crashes"
cp -R "$corpus"/. "$work/corpus/"
echo "fuzz $name: ${secs}s over a copy of $corpus (log: $work/fuzz.log)"
status=0
# shellcheck disable=SC2086
"$bin" $opts -max_total_time="$secs" -print_final_stats=1 \
	-artifact_prefix="$work/crashes/" "$@" "$work/corpus" > "$work/fuzz.log" 2>&1 || status=$?

crash=$(ls -t "$work"/crashes/* 2>/dev/null | head -1 || true)
if [ "$status" != 0 ] || [ -n "$crash" ] || grep -q '^SUMMARY: ' "$work/fuzz.log"; then
	tail -40 "$work/fuzz.log" >&2
	echo "fuzz $name: FAILED (libFuzzer exit $status)" >&2
	if [ -n "$crash" ]; then
		echo "  crashing input: $crash" >&2
		echo "  reproduce:      $bin $crash" >&2
		echo "  keep it as a regression input (commit it with the fix):" >&2
		echo "    mkdir -p $corpus/regress && cp $crash $corpus/regress/<what-it-broke>" >&2
	fi
	exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log")
if [ -z "$execs" ]; then
	# Exit 0 with no final stats: the target never fuzzed (a usage
	# message, a wrong target name).
	tail -20 "$work/fuzz.log" >&2
	echo "fuzz $name: FAILED: no libFuzzer stats in $work/fuzz.log (did it fuzz at all?)" >&2
	exit 1
fi
cov=$(grep -o 'cov: [0-9]*' "$work/fuzz.log" | tail -1)
echo "fuzz $name: ok, ${execs:-?} runs (${rate:-?}/s), ${cov:-cov: ?}, no crash"
echo "  new inputs in $work/corpus; to add the interesting ones to the seeds:"
echo "    $bin -merge=1 $corpus $work/corpus"
