#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# test-tune.sh HARNESS DIR: make compare and make sweep on the simulator
# (seconds), each checked against what it must find; then the identity
# check that refuses to call two runs A and B (test_compare.py).
set -eu
harness=$1 dir=$2
py=${TUNE_PY:-/usr/bin/python3}
rm -rf "$dir" && mkdir -p "$dir"
fail() { echo "test-tune: FAIL: $*" >&2; exit 1; }
newest() { ls -d "$dir/$1"/*/ | tail -1; }

# 1. A real difference: without 2 MiB pages fragmentation inflates slower.
"$py" harness/tune/compare.py --harness "$harness" --results "$dir" \
	--name fragmentation --backend sim --ci --runs 4 \
	--a driver.use_2m=1 --b driver.use_2m=0 >"$dir/compare1.log" 2>&1 ||
	fail "compare exited $? (see $dir/compare1.log)"
c=$(newest compare)
for f in compare.json compare.tsv convergence.png metrics.png report.html; do
	[ -s "$c/$f" ] || fail "compare wrote no $f"
done
"$py" - "$c/compare.json" <<'PY' || fail "compare missed the difference"
import json, sys
c = json.load(open(sys.argv[1]))
m = {r["metric"]: r for r in c["metrics"]}
t = m["time_to_90_s"]
assert t["differs"] is True and t["ratio"] > 1.5, t
assert len(c["run_dirs"]["A"]) == 4 and not c["refused"], c["refused"]
PY

# 2. No difference: the same setting on both sides stands out nowhere.
"$py" harness/tune/compare.py --harness "$harness" --results "$dir" \
	--name fragmentation --backend sim --ci --runs 4 \
	--a driver.batch=512 --b driver.batch=512 >"$dir/compare2.log" 2>&1 ||
	fail "compare (A = B) exited $?"
"$py" - "$(newest compare)/compare.json" <<'PY' || fail "A = B found a difference"
import json, sys
c = json.load(open(sys.argv[1]))
bad = [r["metric"] for r in c["metrics"] if r["differs"]]
assert not bad, bad
PY

# 3. A sweep is kept, with one row per value, and sees the batch size.
"$py" harness/tune/sweep.py --harness "$harness" --results "$dir" \
	--name fragmentation --backend sim --ci --runs 2 \
	--param driver.batch --values 1,512 >"$dir/sweep.log" 2>&1 ||
	fail "sweep exited $? (see $dir/sweep.log)"
s=$(newest sweeps)
for f in sweep.json sweep.tsv metrics.png overlay-all.png; do
	[ -s "$s/$f" ] || fail "sweep wrote no $f"
done
[ "$(wc -l <"$s/sweep.tsv")" -eq 3 ] || fail "sweep.tsv: want a header and 2 rows"
"$py" - "$s/sweep.json" <<'PY' || fail "sweep: batch=1 not slower than 512"
import json, sys
r = {x["value"]: x["metrics"]["time_to_90_s"]["median"]
     for x in json.load(open(sys.argv[1]))["results"]}
assert r["1"] > 2 * r["512"], r
PY

# 4. Runs that differ in more than what was asked are refused.
"$py" harness/tune/test_compare.py >"$dir/identity.log" 2>&1 ||
	{ cat "$dir/identity.log" >&2; fail "identity check"; }
echo "test-tune: compare, sweep and the identity check passed"
