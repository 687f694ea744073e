#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A regress fanned out with GNU parallel over two "hosts" reached by ssh on
# the loopback address, against the same regress run locally:
#   - two sshd on 127.0.0.1 (free ports, throwaway host and user keys in a
#     temp dir, each bounded by timeout and stopped by the trap);
#   - a local sim regress, then the same over a hosts file of both (the
#     `make dist` tarball sent once per host, each scenario sent, its run
#     returned); host B's sshd is killed once it has finished a job;
#   - only B's jobs are lost (the joblog: every failed job ran on B, every
#     job on A passed), the rerun with RESUME=1 (--resume-failed) over A
#     reruns only those, and the merged junit.xml, regress.json and report
#     pages have the local run's shape;
#   - breakage (a job a scenario x breakage, a patched build's harness
#     sent), sweep (a job a run) and compare (a job a repetition: its A and
#     B on one host) over A and a fresh host C, each equal to the same run
#     made locally (the simulator is deterministic).
#   sh harness/report/test-fanout.sh HARNESS
set -u
harness=$1
py=${REPORT_PY:-/usr/bin/python3}
tmp=$(mktemp -d /tmp/tb-fanout.XXXXXX) || exit 1
pids=
stop() {
	for p in $pids; do
		kill_tree "$p"
	done
	[ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
# A process and its descendants, by pid.
kill_tree() {
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$c"
	done
	kill "$1" 2>/dev/null
}
trap stop EXIT
trap 'exit 2' INT TERM HUP
fail() { echo "test-fanout: FAIL: $*"; exit 1; }
n=0
check() { n=$((n + 1)); echo "test-fanout: ok $n - $*"; }

command -v parallel >/dev/null || fail "no GNU parallel (make deps)"
[ -x /usr/sbin/sshd ] || fail "no sshd (openssh-server: make deps)"
. harness/tests/loopback-sshd.sh
sshd A
sshd B
check "two sshd on 127.0.0.1 ports $port_A and $port_B answer"

res=$tmp/results
# Passes, skips, an included file; each ssh job costs ~2 s of connections.
export ONLY="${ONLY:-churn fragmentation hostile-flap hotplug-clip partial-grant pinned-2g pinned-2g-swap polling pressure secure-zero}"
common="--results $res --plot harness/plot.sh --backend sim"
# shellcheck disable=SC2086
RUN_ID=local sh harness/regress.sh "$harness" $common >"$tmp/local.out" 2>&1
lrc=$?
tail -1 "$tmp/local.out" | grep -q '^[0-9]* passed, [0-9]* failed, [0-9]* skipped$' ||
	fail "local regress: no closing line: $(tail -3 "$tmp/local.out")"
check "local sim regress (exit $lrc): $(tail -1 "$tmp/local.out")"

dist=$tmp/dist/tb-dist.tar.gz
sh harness/report/dist.sh "$dist" "$harness" >"$tmp/dist.out" 2>&1 ||
	fail "dist: $(cat "$tmp/dist.out")"
check "$(cat "$tmp/dist.out")"

# The fan-out; B dies once it has finished a job.
export DIST="$dist" REMOTE_DIR="$tmp/remote"
# shellcheck disable=SC2086
RUN_ID=fan HOSTS=$tmp/hosts timeout 120 sh harness/regress.sh "$harness" $common \
	>"$tmp/fan.out" 2>&1 &
fan=$!
pids="$pids $fan"
joblog=$res/regress/fan/joblog
i=0
while :; do
	[ -f "$joblog" ] && awk -F'\t' -v p=" $port_B " 'NR > 1 && index($2, p) && $7 == 0 { f = 1 } END { exit !f }' "$joblog" && break
	kill -0 "$fan" 2>/dev/null || fail "the fan-out ended before B finished a job: $(tail -5 "$tmp/fan.out")"
	i=$((i + 1))
	[ $i -lt 600 ] || fail "B finished no job in 60 s"
	sleep 0.1
done
kill_tree "$pid_B"
check "host B (port $port_B) killed after its first job"
wait "$fan"
frc=$?
[ "$frc" = 1 ] || fail "the fan-out with a lost host exited $frc, want 1: $(tail -5 "$tmp/fan.out")"
lost=$(awk -F'\t' -v p=" $port_B " 'NR > 1 && $7 != 0 && !index($2, p)' "$joblog")
[ -z "$lost" ] || fail "jobs failed on a host that did not die: $lost"
nlost=$(awk -F'\t' 'NR > 1 && $7 != 0' "$joblog" | wc -l)
nB=$(awk -F'\t' -v p=" $port_B " 'NR > 1 && index($2, p) && $7 == 0' "$joblog" | wc -l)
nA=$(awk -F'\t' -v p=" $port_A " 'NR > 1 && index($2, p) && $7 == 0' "$joblog" | wc -l)
[ "$nlost" -gt 0 ] || fail "no job was lost with B (B ran $nB)"
check "only B's jobs were lost: $nlost lost, $nA done on A, $nB on B before it died"
grep -q 'lost: the job did not finish' "$res/regress/fan/regress.json" ||
	fail "regress.json does not name the lost jobs"
check "the report names the lost jobs as errors"

# The rerun over A alone: only the lost jobs.
before=$(awk 'NR > 1' "$joblog" | wc -l)
# shellcheck disable=SC2086
RUN_ID=fan RESUME=1 HOSTS=$tmp/host-A timeout 120 sh harness/regress.sh "$harness" \
	$common >"$tmp/resume.out" 2>&1
rrc=$?
after=$(awk 'NR > 1' "$joblog" | wc -l)
[ $((after - before)) = "$nlost" ] ||
	fail "the rerun ran $((after - before)) jobs, want the $nlost lost: $(tail -5 "$tmp/resume.out")"
[ "$rrc" = "$lrc" ] || fail "the rerun exited $rrc, the local run $lrc: $(tail -5 "$tmp/resume.out")"
[ "$(tail -1 "$tmp/resume.out")" = "$(tail -1 "$tmp/local.out")" ] ||
	fail "rerun '$(tail -1 "$tmp/resume.out")', local '$(tail -1 "$tmp/local.out")'"
check "RESUME=1 reran only the $nlost lost jobs: $(tail -1 "$tmp/resume.out")"

# The merged report has the local one's shape.
"$py" - "$res/regress/local" "$res/regress/fan" <<'EOF' || fail "the merged report differs from the local one"
import json, os, sys
import xml.etree.ElementTree as ET

def shape(d):
    t = ET.parse(os.path.join(d, "junit.xml")).getroot()
    suites = []
    for s in t.findall("testsuite"):
        suites.append((s.get("name"), s.get("tests"), s.get("failures"),
                       s.get("errors"), s.get("skipped"),
                       tuple(p.get("name") for p in s.iter("property")),
                       tuple((c.get("name"), c.get("classname"),
                              tuple(x.tag for x in c)) for c in
                             s.findall("testcase")),
                       tuple(l.split(":")[0] for l in
                             s.find("system-out").text.splitlines())))
    j = json.load(open(os.path.join(d, "regress.json")))
    sc = [(s["name"], s["verdict"], sorted(s["key_metrics"]),
           [(e["step"], e["key"], e["where"], e["verdict"])
            for e in s["expectations"]]) for s in j["scenarios"]]
    pages = sorted(os.path.relpath(os.path.join(r, f), d)
                   for r, _, fs in os.walk(os.path.join(d, "scenarios"))
                   for f in fs)
    return suites, sc, (j["passed"], j["failed"], j["skipped"]), pages

a, b = shape(sys.argv[1]), shape(sys.argv[2])
for what, x, y in zip(("junit.xml", "regress.json", "totals", "pages"), a, b):
    if x != y:
        for u, v in zip(x, y):
            if u != v:
                print("test-fanout: %s: local %r\n  fan-out %r" % (what, u, v))
                break
        else:
            print("test-fanout: %s: %d against %d" % (what, len(x), len(y)))
        sys.exit(1)
print("test-fanout: %d suites, %d testcases alike" %
      (len(a[0]), sum(len(s[6]) for s in a[0])))
EOF
xmllint --noout --schema harness/report/junit.xsd "$res/regress/fan/junit.xml" 2>/dev/null ||
	fail "the merged junit.xml does not validate"
check "the merged junit.xml, regress.json and pages have the local run's shape"

# Breakage, sweep and compare through the same fan-out, over A and a fresh
# host C (B is dead), each against the same run made locally: the
# simulator is deterministic, so the tables must be equal, not only alike.
sshd C
# Two jobs at a time on each: the sim jobs wait mostly on ssh and rsync.
cat "$tmp/host-A" "$tmp/host-C" | sed 's|^1/|2/|' >"$tmp/hosts2"
# Two of hotplug-clip's five runs are a patched build's (its harness goes
# to each host with the dist tarball).
bonly=hotplug-clip
for m in local fan; do
	h=
	[ $m = fan ] && h=$tmp/hosts2
	ONLY=$bonly RESULTS=$res RUN_ID=$m HOSTS=$h timeout 120 \
		sh harness/tests/breakage.sh "$harness" --backend sim \
		>"$tmp/breakage-$m.out" 2>&1
	echo $? >"$tmp/breakage-$m.rc"
done
bl=$res/breakage/local bf=$res/breakage/fan
[ "$(cat "$tmp/breakage-local.rc")" = 0 ] ||
	fail "local breakage exited $(cat "$tmp/breakage-local.rc"): $(tail -3 "$tmp/breakage-local.out")"
[ "$(cat "$tmp/breakage-fan.rc")" = 0 ] ||
	fail "fanned-out breakage exited $(cat "$tmp/breakage-fan.rc"): $(tail -3 "$tmp/breakage-fan.out")"
cmp -s "$bl/breakage.tsv" "$bf/breakage.tsv" ||
	fail "breakage.tsv differs: $(diff "$bl/breakage.tsv" "$bf/breakage.tsv" | head -5)"
nj=$(wc -l <"$bf/jobs.tsv")
onA=$(awk -F'\t' -v p=" $port_A " 'NR > 1 && index($2, p) && $7 == 0' "$bf/joblog" | wc -l)
onC=$(awk -F'\t' -v p=" $port_C " 'NR > 1 && index($2, p) && $7 == 0' "$bf/joblog" | wc -l)
[ $((onA + onC)) = "$nj" ] && [ "$onA" -gt 0 ] && [ "$onC" -gt 0 ] ||
	fail "breakage: $nj jobs, $onA done on A and $onC on C"
ls "$bf"/jobs/hotplug-clip.*/runs/hotplug-clip/*/summary.json >/dev/null 2>&1 ||
	fail "breakage: no run came back from the hosts"
check "breakage over A and C: $nj jobs ($onA on A, $onC on C, patched harness sent), breakage.tsv equal to the local one ($(tail -1 "$tmp/breakage-fan.out"))"

tune() {	# tune KIND RUN_ID HOSTS ARGS...: sweep.py or compare.py
	k=$1 id=$2 h=$3
	shift 3
	RUN_ID=$id HOSTS=$h timeout 120 "$py" "harness/tune/$k.py" \
		--harness "$harness" --results "$res" --name fragmentation \
		--backend sim --ci "$@" >"$tmp/$k-$id.out" 2>&1 ||
		fail "$k $id exited $?: $(tail -5 "$tmp/$k-$id.out")"
}
tune sweep local '' --runs 2 --param driver.batch --values 1,512
tune sweep fan "$tmp/hosts2" --runs 2 --param driver.batch --values 1,512
tune compare local '' --runs 2 --a driver.use_2m=1 --b driver.use_2m=0
tune compare fan "$tmp/hosts2" --runs 2 --a driver.use_2m=1 --b driver.use_2m=0
"$py" - "$res" "$port_A" "$port_C" <<'PY' || fail "a fanned-out sweep or compare differs from the local one"
import json, os, sys
import xml.etree.ElementTree as ET
res, ports = sys.argv[1], sys.argv[2:]


def load(kind, rid, name):
    """The run's json and junit.xml's cases (run names without RUN_ID)."""
    d = os.path.join(res, kind, rid)
    j = json.load(open(os.path.join(d, name)))
    t = ET.parse(os.path.join(d, "junit.xml")).getroot()

    def n(x):
        return x.replace("-%s-" % rid, "-ID-")
    cases = [(n(s.get("name")), s.get("tests"), s.get("failures"),
              tuple(n(c.get("name")) for c in s.findall("testcase")))
             for s in t.findall("testsuite")]
    return d, j, cases


def strip(x):
    """Everything but where the runs went and ran."""
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items()
                if k not in ("runs", "run_dirs", "pairs", "identity")
                or not isinstance(v, (list, dict))}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x


def returned(d, dirs):
    for r in dirs:
        assert os.path.isfile(os.path.join(r, "summary.json")), r
        assert os.path.realpath(r).startswith(os.path.realpath(d)), \
            "%s: not returned into %s" % (r, d)


dl, sl, jl = load("sweeps", "local", "sweep.json")
df, sf, jf = load("sweeps", "fan", "sweep.json")
assert strip(sl) == strip(sf), "sweep.json"
assert [len(r["runs"]) for r in sl["results"]] == \
    [len(r["runs"]) for r in sf["results"]] == [2, 2]
returned(df, [x for r in sf["results"] for x in r["runs"]])
assert jl == jf, "sweep junit.xml: %r\n%r" % (jl, jf)
dl, cl, jl = load("compare", "local", "compare.json")
df, cf, jf = load("compare", "fan", "compare.json")
assert strip(cl) == strip(cf), "compare.json"
assert jl == jf, "compare junit.xml"
returned(df, cf["run_dirs"]["A"] + cf["run_dirs"]["B"])
# Each repetition is one job: its A and B ran on one host, one after the
# other; compare.json says which host.
for p, i in zip(cf["pairs"], (1, 2)):
    rec = os.path.join(df, "jobs", "rep%d" % i)
    assert os.path.isfile(os.path.join(rec, "A", "rc")) and \
        os.path.isfile(os.path.join(rec, "B", "rc")), rec
    assert any(" %s " % pt in p["host"] for pt in ports), p
    for side in "AB":
        assert cf["run_dirs"][side][i - 1].startswith(rec), side
print("test-fanout: sweep: %d values x 2 runs; compare: 2 pairs, on ports %s"
      % (len(sf["results"]), ", ".join(p["host"].split()[2]
                                       for p in cf["pairs"])))
PY
check "sweep and compare over A and C: sweep.json, compare.json and junit.xml equal to the local runs', each A/B pair on one host"
echo "test-fanout: $n passed, 0 failed, 0 skipped"
