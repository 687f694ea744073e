# SPDX-License-Identifier: GPL-2.0-only
"""What `make compare` and `make sweep` share: their runs as jobs of the
fan-out (harness/report/fanout.sh, as regress's),
reading a run's summary.json and curve, aligning curves at the moment a
step's target was set, statistics over repetitions, and gnuplot.

A run is the harness's own result directory; nothing here measures
anything itself.  Metrics are the harness's (summary.json, each step's
"metrics", computed by harness/run/metrics.c).
"""
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import time

PAGE = 4096      # the balloon's page, core/tb_proto.h's TB_PAGE_SIZE

MIB = 1 << 20


class RunFailed(Exception):
    pass


HERE = os.path.dirname(os.path.abspath(__file__))
FANOUT = os.path.join(HERE, "..", "report", "fanout.sh")


def out_dir(results, kind, backend):
    """results/KIND/<run-id>: RUN_ID from the environment (with RESUME=1:
    that run's, to rerun its lost jobs), else the date and backend."""
    rid = os.environ.get("RUN_ID") or (time.strftime("%Y%m%d-%H%M%S") +
                                       f"-{backend}")
    out = os.path.join(results, kind, rid)
    if os.environ.get("RESUME"):
        if not os.environ.get("RUN_ID") or not os.path.isfile(
                os.path.join(out, "joblog")):
            raise SystemExit(f"{kind}: RESUME=1 needs RUN_ID of a "
                             f"fanned-out run ({out}/joblog)")
    elif os.path.exists(out) and os.environ.get("RUN_ID"):
        raise SystemExit(f"{kind}: {out} exists (RESUME=1 to rerun its "
                         "lost jobs)")
    os.makedirs(out, exist_ok=True)
    return rid, out


def fan_out(out, harness, hargs, backend, results, ci, jobs, files=()):
    """Run @jobs with harness/report/fanout.sh (one after another, JOBS=N
    at a time here, or HOSTS=file over ssh: its environment decides).
    A job is (ID, SCENARIO, [(LABEL, [ARGS...])...]): its runs, in order
    on one machine (ARGS: overrides and per-run options, no space inside
    one; "@OUT@" is @out here and its mirror remotely).  @files (relative
    to @out) go to every host.  Returns fanout.sh's exit status (0: every
    job finished)."""
    os.makedirs(os.path.join(out, "specs"), exist_ok=True)
    with open(os.path.join(out, "jobs.tsv"), "w") as f:
        for jid, scenario, runs in jobs:
            f.write(f"{jid}\t{scenario}\n")
            with open(os.path.join(out, "specs", jid), "w") as g:
                for label, args in runs:
                    bad = [x for x in args if not x or any(
                        c.isspace() for c in x)]
                    if bad:
                        raise SystemExit(f"{jid}: {bad[0]!r}: a word with "
                                         "a space (or none) cannot go in a "
                                         "job")
                    g.write(f"{label}\t{scenario}\t-\t{' '.join(args)}\n")
    cmd = ["sh", FANOUT, out, harness] + hargs + [
        "--backend", backend, "--results", results] + (
        ["--ci"] if ci else [])
    env = dict(os.environ, FANOUT_FILES=" ".join(files))
    return subprocess.call(cmd, env=env)


def job_hosts(out):
    """{job ID: where it ran}: its sshlogin from the joblog when fanned out
    (the last try that finished) and the host's name (job.sh's record)."""
    with open(os.path.join(out, "jobs.tsv")) as f:
        ids = [line.split("\t")[0] for line in f if line.strip()]
    login = {}
    try:
        with open(os.path.join(out, "joblog")) as f:
            next(f, None)
            for line in f:
                c = line.rstrip("\n").split("\t")
                if len(c) > 6 and c[0].isdigit() and c[6] == "0":
                    login[int(c[0])] = c[1]
    except OSError:
        pass
    where = {}
    for n, jid in enumerate(ids, 1):
        try:
            with open(os.path.join(out, "jobs", jid, "host")) as f:
                name = f.read().strip()
        except OSError:
            name = None
        lg = login.get(n, ":")
        where[jid] = name if lg == ":" else f"{lg} ({name})"
    return where


def job_summary(out, jid, label="."):
    """The summary (with "_dir") of run @label of job @jid of a fan-out
    (harness/report/job.sh's record); raises RunFailed when the run made
    no summary.json (exit 2 without one, 3, or the job was lost)."""
    rec = os.path.join(out, "jobs", jid, "" if label == "." else label)
    log = os.path.join(rec, "harness.log")

    def read(name):
        try:
            with open(os.path.join(rec, name)) as f:
                return f.read().strip()
        except OSError:
            return ""
    rc, d = read("rc"), read("run")
    if rc == "":
        raise RunFailed(f"job {jid} {label}: lost (did not finish; "
                        "RESUME=1 with this RUN_ID reruns it)")
    if rc == "3":
        raise RunFailed(f"job {jid} {label}: the backend cannot run it "
                        f"(see {log})")
    if d and not os.path.isabs(d):
        d = os.path.join(rec, d)
    try:
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        raise RunFailed(f"job {jid} {label}: no summary.json "
                        f"(exit {rc}; see {log})")
    s["_dir"] = d
    return s


def focus_step(s, want=None):
    """The step compared: @want, else the first that set a target and
    moved the reservation; returns its summary entry."""
    steps = s.get("steps", [])
    if want:
        for st in steps:
            if st["name"] == want:
                return st
        raise SystemExit(f"no step [{want}] in {s.get('file')}")
    for st in steps:
        m = st.get("metrics") or {}
        if st.get("target") is not None and m.get("change_achieved_mib"):
            return st
    for st in steps:
        if st.get("target") is not None:
            return st
    raise SystemExit(f"{s.get('file')}: no step sets a target")


def batch_curve(s, step):
    """The reservation [(seconds since @step's target was set, MiB)] from
    batches.tsv, every batch the device served, the way the runner's
    metrics see it (RAM less the balloon); None without a batch log or
    without the step's target record (set within a second of the step's
    start, on the runner's clock)."""
    b, target = s.get("batches") or {}, step.get("target")
    path = os.path.join(s["_dir"], "batches.tsv")
    ram = (s.get("settings") or {}).get("memory")
    if not b.get("records") or target is None or not ram or \
            not os.path.isfile(path):
        return None
    off, t1 = b.get("clock_offset_s") or 0.0, step.get("end_s") or math.inf
    with open(path) as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")]
    best, k0 = 1.0, None
    for k, r in enumerate(rows):
        d = abs(int(r["t_ns"]) / 1e9 + off - step["start_s"])
        if r["kind"] == "target" and \
                int(r["target_pages"]) == target // PAGE and d <= best:
            best, k0 = d, k
    if k0 is None:
        return None
    t0 = int(rows[k0]["t_ns"]) / 1e9
    mib = [(ram - int(r["balloon_pages_after"]) * PAGE) / MIB
           for r in rows]
    pts = [(0.0, mib[k0])]
    for k in range(k0 + 1, len(rows)):
        t = int(rows[k]["t_ns"]) / 1e9 - t0
        if rows[k]["kind"] == "reset" or t0 + off + t > t1 + 1e-6:
            break
        if mib[k] != pts[-1][1]:
            pts += [(t, pts[-1][1]), (t, mib[k])]
    end = min(t1, s.get("duration_s") or t1) - (t0 + off)
    if end > pts[-1][0]:
        pts.append((end, pts[-1][1]))
    return pts


def curve(s, step, column="reservation_mib"):
    """The step's reservation at batch resolution when the run has the
    batch log (batch_curve), else the samples' (sample_curve)."""
    if column == "reservation_mib":
        pts = batch_curve(s, step)
        if pts:
            return pts
    return sample_curve(s, step, column)


def sample_curve(s, step, column="reservation_mib"):
    """[(seconds since @step's target was set, MiB)] from curve.tsv, over
    the step (a value held past its end is cut there).  It starts at 0 s
    with the last value before the target was set, so every curve of an
    overlay leaves from the level it was asked to move from, not from its
    first sample after the target."""
    t0, t1 = step["start_s"], step.get("end_s") or math.inf
    pts, before = [], None
    with open(os.path.join(s["_dir"], "curve.tsv")) as f:
        cols = None
        for line in f:
            if line.startswith("#"):
                continue
            row = line.rstrip("\n").split("\t")
            if cols is None:
                cols = row
                ti, vi = cols.index("time_s"), cols.index(column)
                continue
            if row[vi] == "-":
                continue
            t = float(row[ti])
            if t < t0 - 1e-6:
                before = float(row[vi])
            elif t <= t1 + 1e-6:
                pts.append((t - t0, float(row[vi])))
    if before is not None and (not pts or pts[0][0] > 1e-6):
        pts.insert(0, (0.0, before))
    return pts


def moving_window(steps):
    """The x range where @steps' curves move: twice the slowest first
    stop (metrics stop_s), at least 0.1 s; None (the whole step) when no
    step stopped."""
    stops = [(st.get("metrics") or {}).get("stop_s") for st in steps]
    stops = [x for x in stops if x]
    return max(0.1, 2 * max(stops)) if stops else None


def value_at(pts, x):
    """The curve's last value at or before @x (its first before that)."""
    v = pts[0][1] if pts else math.nan
    for t, y in pts:
        if t > x + 1e-9:
            break
        v = y
    return v


def envelope(curves, dt=0.05):
    """Median, min and max of several curves on one grid: [(t, med, lo,
    hi)] up to the longest curve."""
    end = max((c[-1][0] for c in curves if c), default=0.0)
    out, t = [], 0.0
    while t <= end + 1e-9:
        ys = [value_at(c, t) for c in curves if c]
        ys = [y for y in ys if not math.isnan(y)]
        if ys:
            out.append((t, statistics.median(ys), min(ys), max(ys)))
        t += dt
    return out


def step_metrics(step):
    """The step's numeric metrics, plus its rate (MiB/s over the step)."""
    m = {k: v for k, v in (step.get("metrics") or {}).items()
         if isinstance(v, (int, float)) and not isinstance(v, bool)}
    if isinstance(step.get("rate_mibs"), (int, float)):
        m["step_rate_mibs"] = step["rate_mibs"]
    return m


def summarize(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs),
            "max": max(xs), "n": len(xs), "values": xs}


def differs(a, b):
    """Does B stand out of A's noise?  Mann-Whitney's rank test (exact,
    two-sided, scipy) when each side has at least 4 runs, else whether the
    min-max ranges overlap.  Returns (bool or None, how it was decided)."""
    if not a or not b:
        return None, "no data"
    if len(a) >= 4 and len(b) >= 4:
        if len(set(a) | set(b)) == 1:
            return False, "rank test: all equal"
        from scipy.stats import mannwhitneyu
        p = mannwhitneyu(a, b, alternative="two-sided",
                         method="exact" if len(set(a + b)) == len(a + b)
                         else "asymptotic").pvalue
        return bool(p < 0.05), f"rank test p={p:.3f}"
    sep = max(a) < min(b) or max(b) < min(a)
    return sep, "ranges " + ("do not overlap" if sep else "overlap")


def gnuplot(script, log):
    """Run a gnuplot script; a failure is reported, not fatal."""
    p = subprocess.run(["gnuplot"], input=script, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode:
        with open(log, "a") as f:
            f.write(p.stdout)
        print(f"gnuplot failed (see {log})", file=sys.stderr)
    return p.returncode == 0


def write_tsv(path, header, rows):
    with open(path, "w") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join("-" if v is None else
                              (f"{v:.6g}" if isinstance(v, float) else str(v))
                              for v in r) + "\n")


def fmt(v, nd=3):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 10 ** nd else f"{v:.{nd}g}"
    return str(v)
