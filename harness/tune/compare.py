#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""make compare: one scenario under two settings (or two driver or QEMU
builds), repetitions interleaved A B A B ..., compared metric by metric.

  compare.py --harness H --name NAME [--a 'k=v ...'] [--b 'k=v ...']
             [--runs 5] [--backend emu] [--ci] [--step NAME]
             [--a-ko PATH --b-ko PATH --initramfs-cmd CMD]
             [--a-qemu PATH --b-qemu PATH] -- HARNESS-ARGS...

Writes results/compare/<run-id>/: compare.json (every run, every metric,
the verdict of each difference), compare.tsv, convergence.png (the
reservation of the compared step against time since its target was set:
median of each side with its min-max envelope), metrics.png (B/A ratio of
each metric's median, with the ratio of the extremes as error bars) and
report.html.  Refuses to compare when the runs differ in something other
than the intended difference (kernel, QEMU build, driver build, guest
command line, accelerator) and says what.

Each repetition (its A, then its B) is a job of harness/report/fanout.sh,
as a regress's scenario: JOBS=N runs N repetitions at a time here,
HOSTS=file over ssh (the `make dist` tarball, and A_KO/B_KO's initramfs,
sent once; A_QEMU/B_QEMU paths must hold on every host), RUN_ID=id
RESUME=1 reruns the repetitions a dead host lost.  A and B of one
repetition always run one after the other on one machine, so a slow host
or a loaded moment weighs on both; compare.json's "pairs" says where.

Exit status: 0 compared, 1 refused (identities differ), 2 a run could not
be made.
"""
import argparse
import html
import json
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tunelib as tl  # noqa: E402


def identity_view(s, allow):
    """The identity fields that must be equal, with @allow's left out."""
    i = s.get("identity") or {}

    def get(*path):
        v = i
        for p in path:
            v = (v or {}).get(p) if isinstance(v, dict) else None
        return v
    words = (get("cmdline") or "").split()
    view = {
        "guest kernel": get("kernel", "sha256"),
        "accelerator": get("accel"),
        "host CPU": get("host", "cpu_model"),
        "backend": s.get("backend"),
    }
    if "emulator" not in allow:
        view["QEMU build"] = get("emulator", "sha256")
    if "driver" not in allow:
        view["driver build"] = get("driver", "sha256")
        view["initramfs"] = get("initrd", "sha256")
    if "cmdline" not in allow:
        # Driver parameters reach the guest as tb_balloon.* words.
        view["guest command line"] = " ".join(
            w for w in words if not w.startswith("tb_balloon."))
    return view


def check_identities(runs, allow):
    """Reasons the runs cannot be called A and B (empty: none)."""
    bad = []
    # Within a side nothing may change; between the sides, what was asked.
    views = {side: [identity_view(s, set()) for s in runs[side]]
             for side in "AB"}
    for side in "AB":
        for v in views[side][1:]:
            for k in v:
                if v[k] != views[side][0][k]:
                    bad.append(f"{k} changed between runs of {side}: "
                               f"{views[side][0][k]} vs {v[k]}")
    if runs["A"] and runs["B"]:
        va_, vb_ = (identity_view(runs[x][0], allow) for x in "AB")
        for k, va in va_.items():
            vb = vb_.get(k)
            if va != vb:
                bad.append(f"{k} differs between A and B: {va} vs {vb}")
    return sorted(set(bad))


def plot_convergence(out, name, step, env, labels, xmax):
    data = os.path.join(out, "convergence.tsv")
    with open(data, "w") as f:
        f.write("# side\tt_s\tmedian_mib\tmin_mib\tmax_mib\n")
        for k, side in enumerate("AB"):
            for t, med, lo, hi in env[side]:
                f.write(f"{t:.3f}\t{med:.2f}\t{lo:.2f}\t{hi:.2f}\n")
            f.write("\n\n")
    xrange = f"set xrange [0:{xmax:.3f}]" if xmax else ""
    script = f"""
set terminal pngcairo size 1100,600 font ",10" noenhanced
set output "{out}/convergence.png"
{xrange}
set title "{name} [{step}]: reservation, median of each side, min-max shaded"
set xlabel "time since the target was set (s)"
set ylabel "MiB"
set grid
set key outside bottom center horizontal
set style fill transparent solid 0.25 noborder
plot "{data}" index 0 using 1:3:4 with filledcurves lc rgb "#1f77b4" \
       title "A min-max", \
     "" index 0 using 1:2 with lines lw 2 lc rgb "#1f77b4" \
       title "A: {labels['A']}", \
     "" index 1 using 1:3:4 with filledcurves lc rgb "#d62728" \
       title "B min-max", \
     "" index 1 using 1:2 with lines lw 2 lc rgb "#d62728" \
       title "B: {labels['B']}"
"""
    tl.gnuplot(script, os.path.join(out, "plot.log"))


def plot_ratios(out, rows):
    data = os.path.join(out, "ratios.tsv")
    n = 0
    with open(data, "w") as f:
        f.write("# i\tmetric\tratio\tlo\thi\n")
        for r in rows:
            if r["ratio"] is None or r["ratio_lo"] is None:
                continue
            f.write(f"{n}\t{r['metric']}\t{r['ratio']:.4g}\t"
                    f"{r['ratio_lo']:.4g}\t{r['ratio_hi']:.4g}\n")
            n += 1
    if not n:
        return
    script = f"""
set terminal pngcairo size 1100,{max(300, 40 + 24 * n)} font ",10" noenhanced
set output "{out}/metrics.png"
set title "B/A of each metric's median (bars: B min/A max .. B max/A min)"
set logscale x
set xlabel "B / A"
set grid x
set ytics nomirror
set yrange [-1:{n}]
set arrow from 1, graph 0 to 1, graph 1 nohead dt 2
plot "{data}" using 3:1:4:5:ytic(2) with xerrorbars pt 7 lc rgb "#444444" \
     notitle
"""
    tl.gnuplot(script, os.path.join(out, "plot.log"))


def report_html(out, c):
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r['metric'])}</td><td>{tl.fmt(r['A'] and r['A']['median'])}"
        f" [{tl.fmt(r['A'] and r['A']['min'])}&ndash;"
        f"{tl.fmt(r['A'] and r['A']['max'])}]</td>"
        f"<td>{tl.fmt(r['B'] and r['B']['median'])} "
        f"[{tl.fmt(r['B'] and r['B']['min'])}&ndash;"
        f"{tl.fmt(r['B'] and r['B']['max'])}]</td>"
        f"<td>{tl.fmt(r['ratio'])}</td>"
        f"<td>{'<b>yes</b>' if r['differs'] else 'no' if r['differs'] is False else '-'}"
        f" ({e(r['how'])})</td></tr>\n" for r in c["metrics"])
    with open(os.path.join(out, "report.html"), "w") as f:
        f.write(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>compare {e(c['name'])}</title>
<style>body{{font-family:sans-serif}} td,th{{padding:2px 8px;
border-bottom:1px solid #ddd}} td{{text-align:right}}
td:first-child{{text-align:left}}</style></head><body>
<h1>{e(c['name'])} [{e(c['step'])}] on {e(c['backend'])}</h1>
<p>A: <code>{e(c['labels']['A'])}</code><br>B: <code>{e(c['labels']['B'])}</code><br>
{c['runs']} runs each, interleaved (repetition i's A then its B, on one
machine: {e(', '.join(sorted({str(p['host']) for p in c['pairs']})))});
medians [min&ndash;max].</p>
<img src="convergence.png"><br><img src="metrics.png">
<table><tr><th>metric</th><th>A</th><th>B</th><th>B/A</th>
<th>differs</th></tr>
{rows}</table>
<p>Runs: {e(' '.join(c['run_dirs']['A'] + c['run_dirs']['B']))}</p>
</body></html>
""")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--harness", required=True)
    ap.add_argument("--results", default="results")
    ap.add_argument("--name", required=True)
    ap.add_argument("--a", default="", help="A's KEY=VALUE settings")
    ap.add_argument("--b", default="", help="B's KEY=VALUE settings")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--backend", default="emu")
    ap.add_argument("--ci", action="store_true")
    ap.add_argument("--step", default=None)
    ap.add_argument("--a-ko"), ap.add_argument("--b-ko")
    ap.add_argument("--a-qemu"), ap.add_argument("--b-qemu")
    ap.add_argument("--initramfs-cmd", default="",
                    help="builds an initramfs: {out} and {ko} replaced")
    ap.add_argument("hargs", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    hargs = [x for x in a.hargs if x != "--"]
    scenario = f"scenarios/{a.name}.ini"
    if not os.path.isfile(scenario):
        print(f"compare: no {scenario}", file=sys.stderr)
        return 2
    if a.runs < 1:
        print("compare: RUNS must be at least 1", file=sys.stderr)
        return 2
    sets = {"A": shlex.split(a.a), "B": shlex.split(a.b)}
    kos = {"A": a.a_ko, "B": a.b_ko}
    qemus = {"A": a.a_qemu, "B": a.b_qemu}
    if (not sets["A"] and not sets["B"] and not any(kos.values())
            and not any(qemus.values())):
        print("compare: nothing differs: give A='k=v', B='k=v', A_KO/B_KO "
              "or A_QEMU/B_QEMU", file=sys.stderr)
        return 2
    allow = set()
    if any(kos.values()):
        allow.add("driver")
    if any(qemus.values()):
        allow.add("emulator")
    if any(s.split("=")[0] in ("cmdline",) for s in sets["A"] + sets["B"]):
        allow.add("cmdline")

    stamp, out = tl.out_dir(a.results, "compare", a.backend)
    extra = {"A": [], "B": []}
    files = []
    for side in "AB":
        if kos[side]:
            if not os.path.isfile(kos[side]) or not a.initramfs_cmd:
                print(f"compare: {side}_KO {kos[side]}: not a file (or no "
                      "initramfs command)", file=sys.stderr)
                return 2
            initrd = os.path.join(out, f"initramfs-{side}.cpio.gz")
            cmd = a.initramfs_cmd.replace("{out}", initrd).replace(
                "{ko}", kos[side])
            if subprocess.run(cmd, shell=True).returncode:
                print(f"compare: building {initrd} failed", file=sys.stderr)
                return 2
            # In the fan-out's directory: sent to every host.
            extra[side] += ["--initrd",
                            f"@OUT@/initramfs-{side}.cpio.gz"]
            files.append(f"initramfs-{side}.cpio.gz")
        if qemus[side]:
            extra[side] += ["--qemu", qemus[side]]
    labels = {s: " ".join(sets[s] + ([f"ko={kos[s]}"] if kos[s] else []) +
                          ([f"qemu={qemus[s]}"] if qemus[s] else []))
              or "(as the file says)" for s in "AB"}

    # A job a repetition: its A and its B, one after the other on one
    # machine, so that with JOBS or HOSTS the pairs still interleave A B.
    jobs = []
    for i in range(a.runs):
        pair = []
        for side in "AB":
            # The simulator is deterministic: repetition i of both sides
            # uses seed i (paired), so the spread is the model's.
            seed = ([f"seed={i + 1}"] if a.backend == "sim" and not any(
                x.startswith("seed=") for x in sets[side]) else [])
            pair.append((side, ["--run-id", f"compare-{stamp}-{side}{i + 1}"]
                         + extra[side] + seed + sets[side]))
        jobs.append((f"rep{i + 1}", scenario, pair))
    print(f"compare: {a.name}: {a.runs} repetitions of A then B, "
          f"a job each{' over ' + os.environ['HOSTS'] if os.environ.get('HOSTS') else ''}\n"
          f"  A: {labels['A']}\n  B: {labels['B']}", flush=True)
    lost = tl.fan_out(out, a.harness, hargs, a.backend, a.results, a.ci,
                      jobs, files)
    runs = {"A": [], "B": []}
    for i in range(a.runs):
        for side in "AB":
            try:
                s = tl.job_summary(out, f"rep{i + 1}", side)
            except tl.RunFailed as e:
                print(f"compare: {e}", file=sys.stderr)
                return 2
            if not s.get("complete", True):
                print(f"compare: {s['_dir']}: run incomplete "
                      f"({s.get('error_kind')}: {s.get('error')})",
                      file=sys.stderr)
                return 2
            runs[side].append(s)
    if lost:
        return 2
    where = tl.job_hosts(out)
    hosts = {i + 1: where.get(f"rep{i + 1}") for i in range(a.runs)}

    bad = check_identities(runs, allow)
    step = tl.focus_step(runs["A"][0], a.step)["name"]
    steps = {side: [tl.focus_step(s, step) for s in runs[side]]
             for side in "AB"}
    # Batch-resolution curves move in milliseconds: a grid of 1/400 of
    # the window drawn (at most 50 ms).
    window = tl.moving_window(steps["A"] + steps["B"])
    dt = min(0.05, max(0.0005, window / 400)) if window else 0.05
    env = {side: tl.envelope([tl.curve(s, st) for s, st in
                              zip(runs[side], steps[side])], dt)
           for side in "AB"}
    keys = sorted({k for side in "AB" for st in steps[side]
                   for k in tl.step_metrics(st)})
    rows = []
    for k in keys:
        va = [tl.step_metrics(st).get(k) for st in steps["A"]]
        vb = [tl.step_metrics(st).get(k) for st in steps["B"]]
        sa, sb = tl.summarize(va), tl.summarize(vb)
        ratio = lo = hi = None
        if sa and sb and sa["median"]:
            ratio = sb["median"] / sa["median"]
            if sa["min"] > 0 and sa["max"] > 0 and sb["min"] >= 0:
                lo, hi = sb["min"] / sa["max"], sb["max"] / sa["min"]
        d, how = tl.differs(sa and sa["values"], sb and sb["values"])
        rows.append({"metric": k, "A": sa, "B": sb, "ratio": ratio,
                     "ratio_lo": lo if ratio and ratio > 0 and lo else None,
                     "ratio_hi": hi, "differs": d, "how": how})
    verdicts = {side: [s["verdict"] for s in runs[side]] for side in "AB"}
    c = {"name": a.name, "step": step, "backend": a.backend,
         "runs": a.runs, "labels": labels, "sets": sets, "ko": kos,
         "qemu": qemus, "refused": bad, "verdicts": verdicts,
         "identity": {side: runs[side][0].get("identity") for side in "AB"},
         "run_dirs": {side: [s["_dir"] for s in runs[side]]
                      for side in "AB"},
         # Where each repetition's A and B ran (both on one machine).
         "pairs": [{"repetition": i, "host": hosts[i]}
                   for i in sorted(hosts)],
         "metrics": rows}
    with open(os.path.join(out, "compare.json"), "w") as f:
        json.dump(c, f, indent=1)
    tl.write_tsv(os.path.join(out, "compare.tsv"),
                 ["metric", "a_median", "a_min", "a_max", "b_median",
                  "b_min", "b_max", "b_over_a", "differs", "how"],
                 [[r["metric"]] +
                  [r[s] and r[s][q] for s in "AB"
                   for q in ("median", "min", "max")] +
                  [r["ratio"], {True: "yes", False: "no"}.get(r["differs"],
                                                              "-"),
                   r["how"]] for r in rows])
    plot_convergence(out, a.name, step, env, labels,
                     tl.moving_window(steps["A"] + steps["B"]))
    plot_ratios(out, rows)
    report_html(out, c)
    # junit.xml: every run's expectations, for CI (harness/report/).
    subprocess.call([sys.executable, os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "report",
        "report.py"), "runs", out, a.backend] +
        c["run_dirs"]["A"] + c["run_dirs"]["B"])

    print()
    print(f"{a.name} [{step}] on {a.backend}, {a.runs} runs each "
          f"(medians [min-max])")
    print(f"  A: {labels['A']}  verdicts {' '.join(verdicts['A'])}")
    print(f"  B: {labels['B']}  verdicts {' '.join(verdicts['B'])}")
    print(f"{'metric':<22} {'A':>24} {'B':>24} {'B/A':>7}  differs")
    for r in rows:
        def cell(x):
            return "-" if not x else (f"{tl.fmt(x['median'])} "
                                      f"[{tl.fmt(x['min'])}-"
                                      f"{tl.fmt(x['max'])}]")
        print(f"{r['metric']:<22} {cell(r['A']):>24} {cell(r['B']):>24} "
              f"{tl.fmt(r['ratio']):>7}  "
              f"{'yes' if r['differs'] else 'no' if r['differs'] is False else '-'}"
              f" ({r['how']})")
    print(f"\ncompare: {out}/report.html")
    if bad:
        print("compare: REFUSED: A and B differ in more than what was "
              "asked:", file=sys.stderr)
        for b in bad:
            print(f"  {b}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
