#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Agreement between the simulator and emulation (make agree).

Runs each scenario on the sim and the emu backend (the [ci] variant unless
--full) and compares, for every step that set a target, the metrics both
backends wrote to summary.json, then every expectation's verdict.  Each
disagreement is printed on its own line.  Exit status: 0 when verdicts and
metrics agree, 1 when any differs, 2 when a run could not be made.

Metric tolerances (why: see harness/sim/CALIBRATION.md, section 4):
  cycles         equal (a drain/refill is a behaviour, not a number)
  stall_mib      max(32 MiB, 3% of guest memory), both stalled or neither
  time_to_90_s   max(0.5 s, 50% of the emulated time), both reached or
                 neither
  rss_returned   within 0.05, where both ballooned at least 64 MiB
  final MiB      max(32 MiB, 3% of guest memory) (the run's last sample)
The reclamation rate is printed, not judged: under TCG it follows the
machine's load (CALIBRATION.md).  Steps with a host policy (policy =):
  stuck          equal; stuck_s within 1 s
  target_cycles  both none or within max(1, 50% of the emulated)
  outside_s      max(2 s, 50% of the emulated)
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

MIB = 1 << 20


def run(harness, hargs, results, scenario, backend, run_id, ci):
    cmd = [harness] + hargs + ["--backend", backend, "--run-id", run_id,
                               "--quiet"]
    if ci:
        cmd.append("--ci")
    cmd.append(scenario)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if p.returncode == 3:       # the backend cannot run it: nothing to compare
        return "skip"
    name = os.path.splitext(os.path.basename(scenario))[0]
    d = os.path.join(results, name, run_id)
    try:
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
    except (OSError, ValueError):
        tail = "\n".join(p.stdout.splitlines()[-5:])
        print(f"agree: {name} on {backend}: no summary.json "
              f"(exit {p.returncode})\n{tail}", file=sys.stderr)
        return None
    s["_dir"] = d
    s["_wall"] = time.monotonic() - t0
    s["_final_res"] = final_reservation(d)
    return s


def final_reservation(d):
    """Last reservation in curve.tsv, bytes (None if unknown)."""
    last = None
    try:
        with open(os.path.join(d, "curve.tsv")) as f:
            for line in f:
                if line.startswith("#") or line.startswith("time_s"):
                    continue
                cols = line.rstrip("\n").split("\t")
                if len(cols) > 3 and cols[3] != "-":
                    last = float(cols[3]) * MIB
    except OSError:
        pass
    return last


def max_rate(s):
    rates = [abs(st.get("rate_mibs") or 0) for st in s.get("steps", [])
             if st.get("target") is not None]
    return max(rates) if rates else 0.0


def verdicts(s):
    return {(e.get("step"), e.get("key"), e.get("where")): e.get("verdict")
            for e in s.get("expectations", [])}


def fmt(v, unit="", nd=1):
    return "-" if v is None else f"{v:.{nd}f}{unit}"


def step_metrics(s):
    """{step name: metrics} of the steps that set a target."""
    return {st["name"]: st["metrics"] for st in s.get("steps", [])
            if st.get("target") is not None and st.get("metrics")}


def step_policies(s):
    """{step name: policy figures} of the steps with a host policy."""
    return {st["name"]: st["policy"] for st in s.get("steps", [])
            if st.get("policy")}


def agree_on(out, sim, emu, key, tol, unit, nd):
    """Append (key, agrees, text) for one figure of @sim and @emu (dicts),
    @tol(emu value) the tolerance; nothing when neither has it."""
    a, b = sim.get(key), emu.get(key)
    if a is None and b is None:
        return
    if a is None or b is None:
        out.append((key, False, f"sim {fmt(a, unit, nd)}, emu "
                    f"{fmt(b, unit, nd)} (one has none)"))
        return
    t = tol(b)
    out.append((key, abs(a - b) <= t, f"sim {a:.{nd}f}{unit}, emu "
                f"{b:.{nd}f}{unit} (tolerance {t:.{nd}f}{unit})"))


def compare_policy(ps, pe):
    """(figure, agrees, text) for a policy step: the stuck declarations
    equal and within 1 s, oscillation both or neither (cycles within
    max(1, half the emulated)), time outside the window within max(2 s,
    half the emulated)."""
    out = []

    def both(key, tol, unit, nd):
        agree_on(out, ps, pe, key, tol, unit, nd)

    both("stuck", lambda e: 0, "", 0)
    both("stuck_s", lambda e: 1.0, " s", 1)
    both("target_cycles", lambda e: 0 if e == 0 else max(1, 0.5 * e), "", 0)
    both("outside_s", lambda e: max(2.0, 0.5 * e), " s", 1)
    return out


def compare_metrics(ms, me, size_tol):
    """(metric, agrees, text) for each metric compared on one step."""
    out = []

    def both(key, tol, unit, nd):
        agree_on(out, ms, me, key, tol, unit, nd)

    both("cycles", lambda e: 0, "", 0)
    both("stall_mib", lambda e: size_tol, " MiB", 0)
    both("time_to_90_s", lambda e: max(0.5, 0.5 * e), " s", 2)
    ballooned = min(abs(ms.get("change_achieved_mib") or 0),
                    abs(me.get("change_achieved_mib") or 0))
    if ballooned >= 64 and (me.get("change_achieved_mib") or 0) < 0:
        both("rss_returned", lambda e: 0.05, "", 2)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--harness", required=True)
    ap.add_argument("--results", default="results")
    ap.add_argument("--scenarios", default="")
    ap.add_argument("--full", action="store_true",
                    help="full sizes instead of the [ci] variants")
    ap.add_argument("hargs", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    hargs = [x for x in a.hargs if x != "--"]

    # Files named _* are only included by others (as in regress.sh).
    names = a.scenarios.split() or sorted(
        os.path.splitext(os.path.basename(p))[0]
        for p in glob.glob("scenarios/*.ini")
        if not os.path.basename(p).startswith("_"))
    if not names:
        print("agree: no scenarios", file=sys.stderr)
        return 2
    stamp = time.strftime("%Y%m%d-%H%M%S")
    rows, status = [], 0
    for n in names:
        path = n if n.endswith(".ini") else f"scenarios/{n}.ini"
        res = {}
        for b in ("sim", "emu"):
            print(f"agree: {n} on {b} ...", flush=True)
            res[b] = run(a.harness, hargs, a.results, path, b,
                         f"agree-{stamp}-{b}", not a.full)
            if res[b] == "skip":
                break
        if res.get("sim") == "skip":
            rows.append((n, "skip", None))
            continue
        sim, emu = res["sim"], res["emu"]
        if not sim or not emu:
            rows.append((n, None, None))
            status = 2
            continue
        rows.append((n, sim, emu))

    print()
    hdr = (f"{'scenario':<22} {'final MiB sim/emu':>20} {'rate MiB/s sim/emu':>20}"
           f" {'verdicts':>9} {'metrics':>9}")
    print(hdr)
    print("-" * len(hdr))
    for n, sim, emu in rows:
        if sim == "skip":
            print(f"{n:<22} {'(not for the simulator)':>20}")
            continue
        if not sim:
            print(f"{n:<22} {'(run failed)':>20}")
            continue
        mem = (sim.get("settings") or {}).get("memory") or 0
        size_tol = max(32 * MIB, 0.03 * mem) / MIB
        fs, fe = sim["_final_res"], emu["_final_res"]
        rs, re_ = max_rate(sim), max_rate(emu)
        diffs = []
        if fs is not None and fe is not None and \
                abs(fs - fe) / MIB > size_tol:
            diffs.append(f"final reservation: sim {fs / MIB:.0f} MiB, emu "
                         f"{fe / MIB:.0f} MiB (tolerance {size_tol:.0f} MiB)")
        ms, me = step_metrics(sim), step_metrics(emu)
        nmetrics = 0
        for step in [k for k in me if k in ms]:
            for what, ok, text in compare_metrics(ms[step], me[step],
                                                  size_tol):
                nmetrics += 1
                if not ok:
                    diffs.append(f"[{step}] {what}: {text}")
        ps, pe = step_policies(sim), step_policies(emu)
        for step in [k for k in pe if k in ps]:
            for what, ok, text in compare_policy(ps[step], pe[step]):
                nmetrics += 1
                if not ok:
                    diffs.append(f"[{step}] policy {what}: {text}")
        vs, ve = verdicts(sim), verdicts(emu)
        keys = sorted(set(vs) | set(ve), key=str)
        # "skipped": that backend cannot judge it (a driver debugfs
        # counter on sim), which is no disagreement.
        same = [k for k in keys if vs.get(k) == ve.get(k) or
                "skipped" in (vs.get(k), ve.get(k))]
        for k in keys:
            if k not in same:
                diffs.append(f"verdict of [{k[0]}] {k[1]} ({k[2]}): "
                             f"sim {vs.get(k)}, emu {ve.get(k)}")
        if diffs:
            status = max(status, 1)
        nbad = sum(1 for d in diffs if not d.startswith("verdict"))
        print(f"{n:<22} {fmt(fs and fs / MIB, nd=0):>9}/"
              f"{fmt(fe and fe / MIB, nd=0):<10}"
              f" {fmt(rs):>9}/{fmt(re_):<10} {len(same):>4}/{len(keys):<4}"
              f" {nmetrics - nbad:>4}/{nmetrics:<4}")
        for d in diffs:
            print(f"    differs: {d}")
    print()
    print("agree: verdicts and metrics " +
          ("agree everywhere" if status == 0 else
           "DIFFER" if status == 1 else "incomplete (a run failed)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
