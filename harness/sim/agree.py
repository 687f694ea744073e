#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Agreement between the simulator and emulation (make agree).

Runs each scenario on the sim and the emu backend (the [ci] variant unless
--full), then prints, per scenario, the final reservation, the convergence
time and the reclamation rate on both, and whether every expectation got the
same verdict.  Exit status: 0 when all verdicts agree, 1 when any differs,
2 when a run could not be made.

Numeric tolerances (why: see harness/sim/CALIBRATION.md):
  final reservation  max(32 MiB, 3% of guest memory)
  convergence time   max(2 s, 50% of the emulated time)
  rate               within a factor of 2, when emulation took >= 2 s to
                     converge (a burst inside one sample has no rate to
                     compare: the step rate is then sample-size noise)
They mark a row "~" (outside tolerance) without failing it: the verdicts are
the contract, the numbers are for recalibrating the timing model.
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
    hdr = (f"{'scenario':<22} {'final MiB sim/emu':>20} {'conv s sim/emu':>16}"
           f" {'rate MiB/s sim/emu':>20} {'verdicts':>9}  numbers")
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
        fs, fe = sim["_final_res"], emu["_final_res"]
        cs, ce = sim.get("convergence_s"), emu.get("convergence_s")
        rs, re_ = max_rate(sim), max_rate(emu)
        off = []
        if fs is not None and fe is not None and \
                abs(fs - fe) > max(32 * MIB, 0.03 * mem):
            off.append("final")
        if (cs is None) != (ce is None) or (
                cs is not None and abs(cs - ce) > max(2.0, 0.5 * ce)):
            off.append("conv")
        if ce is not None and ce >= 2.0 and max(rs, re_) >= 1 and \
                not (re_ / 2 <= rs <= re_ * 2):
            off.append("rate")
        vs, ve = verdicts(sim), verdicts(emu)
        keys = sorted(set(vs) | set(ve), key=str)
        same = [k for k in keys if vs.get(k) == ve.get(k)]
        if len(same) != len(keys):
            status = max(status, 1)
        print(f"{n:<22} {fmt(fs and fs / MIB, nd=0):>9}/"
              f"{fmt(fe and fe / MIB, nd=0):<10} {fmt(cs):>7}/{fmt(ce):<8}"
              f" {fmt(rs):>9}/{fmt(re_):<10} {len(same):>4}/{len(keys):<4}"
              f"  {'ok' if not off else '~ ' + ','.join(off)}")
        for k in keys:
            if vs.get(k) != ve.get(k):
                print(f"    verdict differs: [{k[0]}] {k[1]} ({k[2]}): "
                      f"sim {vs.get(k)}, emu {ve.get(k)}")
    print()
    print("agree: verdicts " + ("agree everywhere" if status == 0 else
                                "DIFFER" if status == 1 else
                                "incomplete (a run failed)"))
    return status


if __name__ == "__main__":
    sys.exit(main())
