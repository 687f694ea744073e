# SPDX-License-Identifier: GPL-2.0-only
"""What `make compare` and `make sweep` share: running the harness once,
reading a run's summary.json and curve, aligning curves at the moment a
step's target was set, statistics over repetitions, and gnuplot.

A run is the harness's own result directory; nothing here measures
anything itself.  Metrics are the harness's (summary.json, each step's
"metrics", computed by harness/run/metrics.c).
"""
import json
import math
import os
import statistics
import subprocess
import sys

MIB = 1 << 20


class RunFailed(Exception):
    pass


def run_harness(harness, hargs, results, scenario, backend, run_id, sets,
                ci, log):
    """One harness run; returns its summary (with "_dir").  Raises
    RunFailed when it made no summary.json (exit 2 without one, or 3)."""
    cmd = [harness] + hargs + ["--backend", backend, "--run-id", run_id,
                               "--results", results, "--quiet"]
    if ci:
        cmd.append("--ci")
    cmd += [scenario] + list(sets)
    with open(log, "w") as f:
        p = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    name = os.path.splitext(os.path.basename(scenario))[0]
    d = os.path.join(results, name, run_id)
    if p.returncode == 3:
        raise RunFailed(f"backend {backend} cannot run {name} "
                        f"with {' '.join(sets)} (see {log})")
    try:
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        raise RunFailed(f"{name} {' '.join(sets)}: no summary.json "
                        f"(exit {p.returncode}; see {log})")
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


def curve(s, step, column="reservation_mib"):
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
