#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""make sweep: one scenario over the values of one key (and optionally a
second), RUNS repetitions of each, every metric kept.

  sweep.py --harness H --name NAME --param KEY --values a,b,c
           [--param2 KEY2 --values2 x,y] [--runs 1] [--backend emu]
           [--ci] [--step NAME] -- HARNESS-ARGS...

KEY is any key the scenario accepts on the command line: a global one
(max-balloon), a driver parameter (driver.batch), a step's (squeeze.target).
Repetitions go round the values (a b c a b c ...) so that the machine's
load drifts over all of them alike.  Each run is a job of harness/report/
fanout.sh, as a regress's scenario: JOBS=N runs N at a time here, HOSTS=file
over ssh (the `make dist` tarball sent once), RUN_ID=id RESUME=1 reruns the
jobs a dead host lost; the job records are in jobs/.

Writes results/sweeps/<run-id>/: sweep.json (every run and metric),
sweep.tsv (one row per value pair: median, min and max of each metric),
metrics.png (the key metrics against the value, median with min-max bars,
one line per KEY2 value) and overlay-*.png (the compared step's
reservation against time since its target was set, the median run of
each value, one plot per KEY2 value).

Exit status: 0 the sweep was made (each run's verdict is in the table: a
value that breaks the scenario's expectations is a finding, not an
error), 2 a run could not be made.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunelib as tl  # noqa: E402

# Plotted in metrics.png (every metric is in sweep.tsv and sweep.json).
KEY_METRICS = ["time_to_90_s", "rate_mean_mibs", "rate_peak_mibs",
               "stall_mib", "cycles", "rss_returned"]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
          "#8c564b", "#e377c2", "#17becf"]


def safe(s):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in s)


def plot_metrics(out, name, param, values, param2, values2, table):
    data = os.path.join(out, "metrics-plot.tsv")
    with open(data, "w") as f:
        for v2 in values2:
            f.write(f"# {param2}={v2}\n" if param2 else "# all\n")
            for i, v in enumerate(values):
                row = table[(v, v2)]
                cells = [str(i), v]
                for m in KEY_METRICS:
                    s = row["metrics"].get(m)
                    cells += ([f"{s['median']:.6g}", f"{s['min']:.6g}",
                               f"{s['max']:.6g}"] if s else ["NaN"] * 3)
                f.write("\t".join(cells) + "\n")
            f.write("\n\n")
    plots = []
    for k, m in enumerate(KEY_METRICS):
        c = 3 + 3 * k
        lines = ", ".join(
            f'"{data}" index {j} using ($1+{0.06 * j:.2f}):{c}:{c + 1}:'
            f'{c + 2}{":xtic(2)" if j == 0 else ""} with yerrorlines '
            f'lw 2 pt 7 '
            f'lc rgb "{COLORS[j % len(COLORS)]}" '
            + (f'title "{param2}={v2}"' if param2 else "notitle")
            for j, v2 in enumerate(values2))
        plots.append(f'set title "{m}"\nplot {lines}')
    script = f"""
set terminal pngcairo size 1300,800 font ",9" noenhanced
set output "{out}/metrics.png"
set multiplot layout 2,3 title "{name}: metrics against {param} (median, min-max bars)"
set grid
set key top left
set xlabel "{param}"
set xrange [-0.5:{len(values) - 0.5}]
set offsets 0, 0, graph 0.1, graph 0.1
""" + "\n".join(plots) + "\nunset multiplot\n"
    tl.gnuplot(script, os.path.join(out, "plot.log"))


def plot_overlay(out, name, param, values, label2, curves, tag, xmax):
    data = os.path.join(out, f"overlay-{tag}.tsv")
    with open(data, "w") as f:
        for v in values:
            f.write(f"# {param}={v}\n")
            for t, y in curves[v]:
                f.write(f"{t:.4f}\t{y:.2f}\n")
            f.write("\n\n")
    lines = ", ".join(
        f'"{data}" index {j} using 1:2 with steps lw 2 '
        f'lc rgb "{COLORS[j % len(COLORS)]}" title "{param}={v}"'
        for j, v in enumerate(values))
    script = f"""
set terminal pngcairo size 1100,600 font ",10" noenhanced
set output "{out}/overlay-{tag}.png"
{f"set xrange [0:{xmax:.3f}]" if xmax else ""}
set title "{name}{label2}: reservation, the median run of each value"
set xlabel "time since the target was set (s)"
set ylabel "MiB"
set grid
set key outside bottom center horizontal
plot {lines}
"""
    tl.gnuplot(script, os.path.join(out, "plot.log"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--harness", required=True)
    ap.add_argument("--results", default="results")
    ap.add_argument("--name", required=True)
    ap.add_argument("--param", required=True)
    ap.add_argument("--values", required=True)
    ap.add_argument("--param2", default="")
    ap.add_argument("--values2", default="")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--backend", default="emu")
    ap.add_argument("--ci", action="store_true")
    ap.add_argument("--step", default=None)
    ap.add_argument("hargs", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    hargs = [x for x in a.hargs if x != "--"]
    scenario = f"scenarios/{a.name}.ini"
    values = [v for v in a.values.split(",") if v]
    values2 = [v for v in a.values2.split(",") if v] or [""]
    if not os.path.isfile(scenario):
        print(f"sweep: no {scenario}", file=sys.stderr)
        return 2
    if not values or a.runs < 1 or bool(a.param2) != bool(a.values2.strip()):
        print("sweep: usage: make sweep NAME=x PARAM=k VALUES=a,b,c "
              "[RUNS=n] [PARAM2=k2 VALUES2=x,y] [BACKEND=emu|sim]",
              file=sys.stderr)
        return 2

    stamp, out = tl.out_dir(a.results, "sweeps", a.backend)
    pairs = list(itertools.product(values, values2))
    runs = {p: [] for p in pairs}
    status = 0
    # A job a run, repetitions round the values (the order they start in).
    jobs, keyed = [], []
    for i in range(a.runs):
        for k, (v, v2) in enumerate(pairs):
            sets = [f"{a.param}={v}"] + ([f"{a.param2}={v2}"] if v2 else [])
            if a.backend == "sim":
                sets.insert(0, f"seed={i + 1}")
            tag = f"{safe(v)}{'-' + safe(v2) if v2 else ''}-{i + 1}"
            jid = f"{len(jobs) + 1:03d}-{tag}"
            jobs.append((jid, scenario, [
                (".", ["--run-id", f"sweep-{stamp}-{k + 1}-{tag}"] + sets)]))
            keyed.append(((v, v2), jid))
    print(f"sweep: {a.name}: {len(jobs)} runs ({len(pairs)} values x "
          f"{a.runs}){' over ' + os.environ['HOSTS'] if os.environ.get('HOSTS') else ''}",
          flush=True)
    if tl.fan_out(out, a.harness, hargs, a.backend, a.results, a.ci, jobs):
        print("sweep: jobs were lost: RUN_ID=" + stamp + " RESUME=1 reruns "
              "them", file=sys.stderr)
        status = 2
    for p, jid in keyed:
        try:
            runs[p].append(tl.job_summary(out, jid))
        except tl.RunFailed as e:
            print(f"sweep: {e}", file=sys.stderr)
            status = 2

    if not any(runs.values()):
        print("sweep: no run completed", file=sys.stderr)
        return 2
    first = next(s for p in pairs for s in runs[p])
    step = tl.focus_step(first, a.step)["name"]
    table, rows, keys = {}, [], set()
    for p in pairs:
        steps = [tl.focus_step(s, step) for s in runs[p]]
        ms = [tl.step_metrics(st) for st in steps]
        keys |= {k for m in ms for k in m}
        table[p] = {"runs": [s["_dir"] for s in runs[p]],
                    "verdicts": [s["verdict"] for s in runs[p]],
                    "metrics": {}, "steps": steps}
    keys = sorted(keys)
    for p in pairs:
        ms = [tl.step_metrics(st) for st in table[p]["steps"]]
        for k in keys:
            table[p]["metrics"][k] = tl.summarize([m.get(k) for m in ms])
        rows.append([p[0]] + ([p[1]] if a.param2 else []) +
                    [" ".join(table[p]["verdicts"])] +
                    [x for k in keys for x in
                     ((table[p]["metrics"][k] or {}).get(q)
                      for q in ("median", "min", "max"))])

    tl.write_tsv(os.path.join(out, "sweep.tsv"),
                 [a.param] + ([a.param2] if a.param2 else []) +
                 ["verdicts"] + [f"{k}_{q}" for k in keys
                                 for q in ("median", "min", "max")], rows)
    with open(os.path.join(out, "sweep.json"), "w") as f:
        json.dump({"name": a.name, "step": step, "backend": a.backend,
                   "param": a.param, "values": values,
                   "param2": a.param2 or None,
                   "values2": values2 if a.param2 else None,
                   "runs": a.runs,
                   "identity": first.get("identity"),
                   "results": [{"value": p[0], "value2": p[1] or None,
                                "runs": table[p]["runs"],
                                "verdicts": table[p]["verdicts"],
                                "metrics": table[p]["metrics"]}
                               for p in pairs]}, f, indent=1)

    plot_metrics(out, a.name, a.param, values, a.param2, values2, table)
    # junit.xml: every run's expectations, for CI (harness/report/).
    subprocess.call([sys.executable, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "report",
        "report.py"), "runs", out, a.backend] +
        [d for p in pairs for d in table[p]["runs"]])
    for v2 in values2:
        curves, shown = {}, []
        for v in values:
            steps, rs = table[(v, v2)]["steps"], runs[(v, v2)]
            if not rs:
                curves[v] = []
                continue
            # The median run by time to 90 % (the first when undefined).
            order = sorted(range(len(rs)), key=lambda k: (
                tl.step_metrics(steps[k]).get("time_to_90_s") or 0))
            k = order[len(order) // 2]
            curves[v] = tl.curve(rs[k], steps[k])
            shown.append(steps[k])
        plot_overlay(out, a.name, a.param, values,
                     f" ({a.param2}={v2})" if v2 else "", curves,
                     safe(v2) if v2 else "all", tl.moving_window(shown))

    show = [k for k in KEY_METRICS if k in keys]
    print()
    print(f"{a.name} [{step}] on {a.backend}, {a.runs} run(s) per value "
          "(medians [min-max])")
    hdr = f"{a.param:<14}" + (f" {a.param2:<12}" if a.param2 else "") + \
        "".join(f" {k:>20}" for k in show) + "  verdicts"
    print(hdr)
    for p in pairs:
        cells = []
        for k in show:
            s = table[p]["metrics"][k]
            cells.append("-" if not s else
                         f"{tl.fmt(s['median'])} [{tl.fmt(s['min'])}-"
                         f"{tl.fmt(s['max'])}]" if s["n"] > 1 else
                         tl.fmt(s["median"]))
        print(f"{p[0]:<14}" + (f" {p[1]:<12}" if a.param2 else "") +
              "".join(f" {c:>20}" for c in cells) +
              f"  {' '.join(table[p]['verdicts'])}")
    print(f"\nsweep: {out} (sweep.tsv, metrics.png, overlay-*.png)")
    return status


if __name__ == "__main__":
    sys.exit(main())
