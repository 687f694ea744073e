#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Fit the simulator's timing model to emulation runs (make calibrate-sim).

Runs harness/sim/cal/*.ini on the emu backend (or reads earlier runs given
with --emu-dir), takes each step's convergence time from summary.json, and
solves for the per-page costs of sim_timing.h:

  zero_4k_ns                 (T 4k-zero - T 4k-nozero) / pages, and the same
                             from the 2 MiB pair; the mean of the two
  alloc_4k_ns + discard_4k_ns  T 4k-nozero / pages - entry and command share
  alloc_2m_ns + discard_2m_ns  T 2m-nozero / entries - the same shares
  free_4k_ns, free_2m_ns     from the deflate steps

Sums are split in the ratio the current defaults have.  Then the sim runs
the same files with the fitted costs (TB_SIM_TIMING) and both times are
printed side by side, so the residual is visible.  Nothing is written to
sim_timing.h: paste the printed values there (see CALIBRATION.md).
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PAGES = (1536 << 20) // 4096          # the inflate step: 1.5 GiB
ENTRIES_2M = PAGES // 512
BATCH = 512                            # tb_policy_defaults.batch


def defaults():
    """The current defaults, read from sim_timing.h (the one place)."""
    t = {}
    with open(os.path.join(HERE, "sim_timing.h")) as f:
        for m in re.finditer(r"X\((\w+),\s*(\d+),", f.read()):
            t[m.group(1)] = int(m.group(2))
    return t


def run(harness, hargs, results, ini, backend, run_id, env=None):
    cmd = [harness] + hargs + ["--backend", backend, "--run-id", run_id,
                               "--quiet", ini]
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env)
    return os.path.join(results, os.path.splitext(os.path.basename(ini))[0],
                        run_id)


def step_times(d):
    with open(os.path.join(d, "summary.json")) as f:
        s = json.load(f)
    return {st["name"]: st.get("convergence_s") for st in s["steps"]}


def split(total, a, b):
    """Split @total between two costs in the ratio a:b."""
    total = max(total, 0)
    return round(total * a / (a + b)), round(total * b / (a + b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--harness", required=True)
    ap.add_argument("--results", default="results")
    ap.add_argument("--emu-dir", action="append", default=[],
                    help="NAME=RUNDIR: reuse an emu run instead of running")
    ap.add_argument("hargs", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    hargs = [x for x in a.hargs if x != "--"]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    given = dict(x.split("=", 1) for x in a.emu_dir)
    d = defaults()

    emu = {}
    for ini in sorted(glob.glob(os.path.join(HERE, "cal", "*.ini"))):
        name = os.path.splitext(os.path.basename(ini))[0]
        rd = given.get(name) or run(a.harness, hargs, a.results, ini, "emu",
                                    f"calibrate-{stamp}-emu")
        try:
            emu[name] = step_times(rd)
        except (OSError, ValueError, KeyError):
            print(f"calibrate: {name}: no usable emu run in {rd}",
                  file=sys.stderr)
            return 2
        if None in emu[name].values():
            print(f"calibrate: {name}: a step did not converge on emu "
                  f"({emu[name]}); cannot fit", file=sys.stderr)
            return 2

    ns = 1e9
    cmd_share4 = d["cmd_ns"] / BATCH + d["entry_ns"]
    cmd_share2 = d["cmd_ns"] / BATCH + d["entry_ns"]
    z4 = (emu["4k-zero"]["inflate"] - emu["4k-nozero"]["inflate"]) * ns / PAGES
    z2 = (emu["2m-zero"]["inflate"] - emu["2m-nozero"]["inflate"]) * ns / PAGES
    fit = dict(d)
    fit["zero_4k_ns"] = max(round((z4 + z2) / 2), 0)
    r4 = emu["4k-nozero"]["inflate"] * ns / PAGES - cmd_share4
    fit["alloc_4k_ns"], fit["discard_4k_ns"] = split(
        r4, d["alloc_4k_ns"], d["discard_4k_ns"])
    r2 = emu["2m-nozero"]["inflate"] * ns / ENTRIES_2M - cmd_share2
    fit["alloc_2m_ns"], fit["discard_2m_ns"] = split(
        r2, d["alloc_2m_ns"], d["discard_2m_ns"])
    fit["free_4k_ns"] = max(round(emu["4k-nozero"]["deflate"] * ns / PAGES
                                  - cmd_share4), 0)
    fit["free_2m_ns"] = max(round(emu["2m-nozero"]["deflate"] * ns /
                                  ENTRIES_2M - cmd_share2), 0)
    changed = {k: v for k, v in fit.items() if v != d[k]}
    spec = ",".join(f"{k}={v}" for k, v in sorted(changed.items()))

    env = dict(os.environ, TB_SIM_TIMING=spec)
    print(f"{'run':<12} {'step':<8} {'emu s':>8} {'sim s':>8}")
    for ini in sorted(glob.glob(os.path.join(HERE, "cal", "*.ini"))):
        name = os.path.splitext(os.path.basename(ini))[0]
        sim = step_times(run(a.harness, hargs, a.results, ini, "sim",
                             f"calibrate-{stamp}-sim", env))
        for step in ("inflate", "deflate"):
            e, s = emu[name][step], sim.get(step)
            print(f"{name:<12} {step:<8} {e:>8.2f} "
                  f"{'-' if s is None else f'{s:8.2f}':>8}")
    print()
    print("fitted (paste into sim_timing.h, or try first with):")
    print(f"  TB_SIM_TIMING='{spec}'")
    for k in sorted(changed):
        print(f"  {k:<16} {d[k]:>10} -> {fit[k]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
