#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""compare.py's refusal: runs that differ in more than the intended
difference cannot be called A and B (run by test-tune.sh)."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import check_identities  # noqa: E402

RUN = {"backend": "emu", "identity": {
    "accel": "tcg",
    "cmdline": "console=ttyS0 init_on_alloc=0",
    "driver": {"module": "tb_balloon", "sha256": "d" * 64},
    "emulator": {"path": "qemu", "sha256": "e" * 64},
    "initrd": {"path": "initrd", "sha256": "i" * 64},
    "kernel": {"path": "vmlinuz", "sha256": "k" * 64},
    "host": {"cpu_model": "cpu", "cores": 2}}}


def runs(change_b=None, change_a2=None):
    r = {"A": [copy.deepcopy(RUN) for _ in range(3)],
         "B": [copy.deepcopy(RUN) for _ in range(3)]}
    for s in r["B"]:
        if change_b:
            change_b(s["identity"])
    if change_a2:
        change_a2(r["A"][1]["identity"])
    return r


class Refusal(unittest.TestCase):
    def test_identical_runs_are_compared(self):
        self.assertEqual(check_identities(runs(), set()), [])

    def test_other_guest_kernel_is_refused(self):
        def other(i): i["kernel"]["sha256"] = "x" * 64
        bad = check_identities(runs(other), set())
        self.assertTrue(any("guest kernel" in b for b in bad), bad)

    def test_other_qemu_build_is_refused_unless_asked(self):
        def other(i): i["emulator"]["sha256"] = "x" * 64
        self.assertTrue(check_identities(runs(other), set()))
        self.assertEqual(check_identities(runs(other), {"emulator"}), [])

    def test_other_driver_build_is_refused_unless_asked(self):
        def other(i):
            i["driver"]["sha256"] = "x" * 64
            i["initrd"]["sha256"] = "y" * 64
        self.assertTrue(check_identities(runs(other), set()))
        self.assertEqual(check_identities(runs(other), {"driver"}), [])

    def test_driver_parameters_on_the_command_line_are_the_difference(self):
        def param(i): i["cmdline"] += " tb_balloon.batch=16"
        self.assertEqual(check_identities(runs(param), set()), [])

    def test_other_command_line_or_accelerator_is_refused(self):
        def cmd(i): i["cmdline"] += " init_on_alloc=1"
        def acc(i): i["accel"] = "kvm"
        self.assertTrue(check_identities(runs(cmd), set()))
        self.assertTrue(check_identities(runs(acc), set()))

    def test_a_rebuild_between_runs_of_one_side_is_refused(self):
        def rebuilt(i): i["emulator"]["sha256"] = "x" * 64
        bad = check_identities(runs(change_a2=rebuilt), {"emulator"})
        self.assertTrue(any("between runs of A" in b for b in bad), bad)


if __name__ == "__main__":
    unittest.main()
