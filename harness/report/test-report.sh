#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The regress reports, on simulator runs (seconds):
#   - a regress that passes (exit 0) and one broken by SET (exit 1), each
#     closing on "N passed, N failed, N skipped" with the right counts;
#   - junit.xml valid against harness/report/junit.xsd (and the schema
#     refusing a file without what the readers require), a testsuite per
#     scenario, a testcase per expectation of its summary.json, failures
#     carrying measured, wanted, tolerance and file:line, the step metrics
#     as properties, the log paths in system-out;
#   - regress.json with every scenario's verdicts and metrics;
#   - breakage.sh's table as junit.xml too;
#   - every page opened in headless Chromium (browse.py): no console
#     error, every image and link there, failures first; screenshots beside
#     each page at desktop and narrow widths.
#   sh harness/report/test-report.sh HARNESS OUTDIR
set -u
harness=$1 out=$2
py=${REPORT_PY:-/usr/bin/python3}
rm -rf "$out" && mkdir -p "$out" || exit 1
n=0
fail() { echo "test-report: FAIL: $*"; exit 1; }
check() { n=$((n + 1)); echo "test-report: ok $n - $*"; }
common="--results $out --plot harness/plot.sh --backend sim"

# shellcheck disable=SC2086
RUN_ID=good ONLY='hostile-flap pinned-2g partial-grant' sh harness/regress.sh \
	"$harness" $common >"$out/good.out" 2>&1
rc=$?
[ "$rc" = 0 ] || fail "a passing regress exited $rc: $(tail -5 "$out/good.out")"
[ "$(tail -1 "$out/good.out")" = "2 passed, 0 failed, 1 skipped" ] ||
	fail "passing regress closes on '$(tail -1 "$out/good.out")'"
check "passing regress: exit 0, '$(tail -1 "$out/good.out")'"
# The same, two at a time (GNU parallel): the same table and report.
# shellcheck disable=SC2086
RUN_ID=jobs JOBS=2 ONLY='hostile-flap pinned-2g partial-grant' sh harness/regress.sh \
	"$harness" $common >"$out/jobs.out" 2>&1 || fail "JOBS=2: $(tail -5 "$out/jobs.out")"
[ "$(cut -c1-30 "$out/jobs.out" | sed '$d;s/ *$//')" = "$(cut -c1-30 "$out/good.out" | sed '$d;s/ *$//')" ] ||
	fail "JOBS=2 table differs: $(cat "$out/jobs.out")"
for r in good jobs; do
	sed -n 's/.*<testcase name="\([^"]*\)".*/\1/p' "$out/regress/$r/junit.xml" >"$out/$r.cases"
done
cmp -s "$out/good.cases" "$out/jobs.cases" && [ -s "$out/good.cases" ] &&
	[ -s "$out/regress/jobs/joblog" ] || fail "JOBS=2 junit.xml testcases differ"
check "JOBS=2: the same table and testcases, a joblog"
# partial-grant's own breakage: its inflate expectations fail.
# shellcheck disable=SC2086
RUN_ID=bad ONLY='hostile-flap partial-grant' SET='driver.batch=1 reply-delay-ms=50' \
	sh harness/regress.sh "$harness" $common >"$out/bad.out" 2>&1
rc=$?
[ "$rc" = 1 ] || fail "a failing regress exited $rc: $(tail -5 "$out/bad.out")"
[ "$(tail -1 "$out/bad.out")" = "0 passed, 1 failed, 1 skipped" ] ||
	fail "failing regress closes on '$(tail -1 "$out/bad.out")'"
grep -q '^partial-grant *fail ' "$out/bad.out" || fail "no console table line: $(cat "$out/bad.out")"
check "failing regress: exit 1, '$(tail -1 "$out/bad.out")', the table stays"

for r in good bad; do
	xmllint --noout --schema harness/report/junit.xsd "$out/regress/$r/junit.xml" \
		2>"$out/$r.xmllint" || fail "$r junit.xml: $(cat "$out/$r.xmllint")"
done
sed 's/ hostname="[^"]*"//' "$out/regress/bad/junit.xml" >"$out/nohost.xml"
xmllint --noout --schema harness/report/junit.xsd "$out/nohost.xml" 2>/dev/null &&
	fail "the schema accepts a testsuite without hostname"
check "junit.xml valid against junit.xsd; without hostname it is not"

"$py" - "$out/regress/good" "$out/regress/bad" <<'EOF' || exit 1
import json, os, sys
import xml.etree.ElementTree as ET

def fail(msg):
    print("test-report: FAIL: " + msg)
    sys.exit(1)

for d in sys.argv[1:]:
    root = ET.parse(os.path.join(d, "junit.xml")).getroot()
    doc = json.load(open(os.path.join(d, "regress.json")))
    names = [l.strip() for l in open(os.path.join(d, "scenarios.txt"))]
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    if sorted(suites) != sorted(names):
        fail("%s: suites %s, scenarios %s" % (d, sorted(suites), names))
    if [s["name"] for s in doc["scenarios"]] != names:
        fail("%s: regress.json scenarios %s" % (d, doc["scenarios"]))
    for sc in doc["scenarios"]:
        s = suites[sc["name"]]
        if sc["verdict"] == "skipped":
            if s.find("testcase/skipped") is None:
                fail("%s: skipped scenario without <skipped>" % sc["name"])
            continue
        summ = json.load(open(os.path.join(sc["run_dir"], "summary.json")))
        if summ["verdict"] != sc["verdict"]:
            fail("%s: verdict %s, summary.json %s" % (sc["name"],
                 sc["verdict"], summ["verdict"]))
        if sc["expectations"] != summ["expectations"]:
            fail("%s: regress.json expectations differ" % sc["name"])
        cases = s.findall("testcase")
        if len(cases) != len(summ["expectations"]):
            fail("%s: %d testcases for %d expectations" % (
                sc["name"], len(cases), len(summ["expectations"])))
        for c, e in zip(cases, summ["expectations"]):
            if e["where"] not in c.get("name"):
                fail("%s: testcase %r is not %s" % (sc["name"],
                                                   c.get("name"), e["where"]))
            f = c.find("failure")
            if (f is not None) != (e["verdict"] == "fail"):
                fail("%s: %s verdict %s, failure %s" % (sc["name"],
                     e["where"], e["verdict"], f is not None))
            if f is not None:
                for want in ("measured", "wanted", "tolerance", e["where"]):
                    if want not in f.get("message"):
                        fail("%s: failure %r lacks %s" % (
                            sc["name"], f.get("message"), want))
        if int(s.get("failures")) != sum(e["verdict"] == "fail"
                                         for e in summ["expectations"]):
            fail("%s: failures=%s" % (sc["name"], s.get("failures")))
        props = {p.get("name"): p.get("value") for p in s.iter("property")}
        for st in summ["steps"]:
            for k, v in st["metrics"].items():
                if v is not None and "%s.%s" % (st["name"], k) not in props:
                    fail("%s: no property %s.%s" % (sc["name"],
                                                    st["name"], k))
        for k in sc["key_metrics"]:
            if k not in ("time_to_90_s", "rate_mean_mibs", "cycles",
                         "band_mib", "stall_mib", "rss_returned"):
                fail("key metric %s" % k)
        out = s.find("system-out").text
        for f in ("console.log", "events.log", "curve.tsv", "harness log"):
            if f + ": " not in out:
                fail("%s: system-out lacks %s: %r" % (sc["name"], f, out))
print("test-report: junit.xml and regress.json agree with every summary.json")
EOF
check "a testsuite per scenario, a testcase per expectation, failures with measured/wanted/tolerance/file:line, metrics as properties, logs in system-out"

# The breakage table as junit.xml.
RESULTS=$out ONLY=partial-grant sh harness/tests/breakage.sh "$harness" --backend sim \
	>"$out/breakage.out" 2>&1 || fail "breakage: $(tail -5 "$out/breakage.out")"
tsv=$(ls "$out"/breakage/*/breakage.tsv 2>/dev/null | head -1)
[ -n "$tsv" ] || fail "breakage.sh wrote no breakage.tsv: $(tail -3 "$out/breakage.out")"
"$py" harness/report/report.py breakage "$tsv" "$(dirname "$tsv")" || fail "report.py breakage"
bj=$(dirname "$tsv")/junit.xml
xmllint --noout --schema harness/report/junit.xsd "$bj" 2>"$out/b.xmllint" ||
	fail "$bj: $(cat "$out/b.xmllint")"
rows=$(($(wc -l <"$(dirname "$bj")/breakage.tsv") - 1))
cases=$(grep -c '<testcase ' "$bj")
[ "$rows" = "$cases" ] || fail "breakage: $rows rows, $cases testcases"
check "breakage.sh's $rows rows as a valid junit.xml"

# Bare run directories (what make compare and make sweep write junit.xml of).
"$py" harness/report/report.py runs "$out/runs" sim $(ls -d "$out"/partial-grant/20*) &&
	xmllint --noout --schema harness/report/junit.xsd "$out/runs/junit.xml" 2>"$out/r.xmllint" ||
	fail "report.py runs: $(cat "$out/r.xmllint")"
[ "$(grep -c '<testsuite ' "$out/runs/junit.xml")" = "$(ls -d "$out"/partial-grant/20* | wc -l)" ] ||
	fail "report.py runs: not a testsuite per run"
check "run directories (compare, sweep) as a valid junit.xml, a testsuite per run"

pages="$out/regress/bad/index.html $out/regress/good/index.html $(ls "$out"/regress/*/scenarios/*/index.html) $(dirname "$bj")/index.html"
# shellcheck disable=SC2086
"$py" harness/report/browse.py $pages >"$out/browse.out" 2>&1 ||
	fail "browse: $(grep FAIL "$out/browse.out" || tail -5 "$out/browse.out")"
for p in $pages; do
	for w in desktop narrow; do
		[ -s "${p%.html}-$w.png" ] || fail "no screenshot ${p%.html}-$w.png"
	done
done
check "$(echo $pages | wc -w) pages in Chromium: no console errors, images and links load, failures first; screenshots beside them"
# And the browser check sees what is wrong: a missing image, a console
# error, a dead link.
mkdir -p "$out/broken"
cat >"$out/broken/index.html" <<'EOF'
<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head>
<body><h1>broken</h1><img src="missing.png" alt="x"><a href="nowhere.log">x</a>
<script>console.error("report bug")</script></body></html>
EOF
"$py" harness/report/browse.py "$out/broken/index.html" >"$out/broken.out" 2>&1 &&
	fail "browse passed a broken page"
for want in 'missing.png did not load' 'console.error' 'nowhere.log: no such file'; do
	grep -q "$want" "$out/broken.out" || fail "browse did not report '$want': $(cat "$out/broken.out")"
done
check "browse fails a page with a missing image, a console error and a dead link"
echo "test-report: $n passed, 0 failed, 0 skipped"
