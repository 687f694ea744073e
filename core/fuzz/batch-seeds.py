#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Writes the hand-made seeds of core/fuzz_batch.c into core/fuzz/batch/.
# The input format is described at the top of core/fuzz_batch.c; this
# file spells it out as functions.  Run: python3 core/fuzz/batch-seeds.py
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "batch")
INFLATE, DEFLATE, RESET = 1, 2, 3


def pool(pages): return b"\x00" + struct.pack("<I", pages)
def max_balloon(pages): return b"\x01" + struct.pack("<I", pages)
def max_res(pages): return b"\x02" + struct.pack("<I", pages)
def faults(every, all_=0): return b"\x03" + bytes([every, all_])
def page_2m(on): return b"\x04" + bytes([on])
def reset(): return b"\x06"
def ready(on=1): return b"\x07" + bytes([on])
def timer(): return b"\x08"


# a stats page: header (count, seq, 8 zero bytes), then (tag, value) entries
def stats(entries, count=None, cut=None):
    if count is None:
        count = len(entries)
    page = struct.pack("<II8x", count, 1) + b"".join(
        struct.pack("<H6xQ", t, v) for t, v in entries)
    if cut is not None:
        page = page[:cut]
    return b"\x09" + struct.pack("<H", len(page)) + page


# how: bits 0-2 pfn kind (0 raw v, 1 low end, 2 high + v, 3 high end,
# 4 v<<32|v, 5 ~v, 6 2^52 - v, 7 previous), bits 3-4 order (0 4K, 1 2M,
# 2 raw byte, 3 2M aligned), bit 7 reserved bytes 0xff.
def entry(how, v, raw=0): return struct.pack("<BIB", how, v, raw)


def command(cmd, entries, count=None, later=0):
    if count is None:
        count = len(entries)
    return (b"\x05" + struct.pack("<BHBB", cmd, count, later, len(entries)) +
            b"".join(entries))


SEEDS = {
    # pc 4 GiB: low 4K, high 2M, the hole, then all back and reset
    "inflate-deflate-pc": bytes([0]) + ready() +
        command(INFLATE, [entry(0, 0x4000), entry(3 << 3 | 2, 0x200),
                          entry(0, 0xc0000)]) +
        command(DEFLATE, [entry(0, 0x4000), entry(3 << 3 | 2, 0x200)]) +
        command(INFLATE, [entry(0, 0x5000)]) + command(RESET, []),
    # 128M + 128M: pool of 10 pages gives a partial grant
    "partial-grant": bytes([1]) + ready() +
        command(INFLATE, [entry(3 << 3 | 1, 0), entry(0, 7)]) + pool(10) +
        command(DEFLATE, [entry(3 << 3 | 1, 0), entry(0, 7)]),
    # a low RAM end that is not 2 MiB aligned: 2M entries across it
    "unaligned-boundary": bytes([2]) + ready() +
        command(INFLATE, [entry(3 << 3 | 1, n * 512) for n in range(4)] +
                [entry(3 << 3 | 3, n * 512) for n in range(4)]),
    # reply-delay: busy, a command while busy, the timer
    "delayed-busy": bytes([1]) + ready() +
        command(INFLATE, [entry(0, 100)], later=1) +
        command(DEFLATE, [entry(0, 100)]) + timer() +
        command(DEFLATE, [entry(0, 100)], later=1) + ready(0) + timer(),
    # refused at command level: not ready, unknown, count 0 and too big
    "refused-commands": bytes([0]) + command(INFLATE, [entry(0, 1)]) +
        ready() + command(4, [entry(0, 1)]) + command(255, []) +
        command(INFLATE, [entry(0, 1)], count=0) +
        command(DEFLATE, [entry(0, 1)], count=2000),
    # host limits and faults, changed between commands
    "limits-faults": bytes([1]) + ready() + max_balloon(600) + faults(3) +
        command(INFLATE, [entry(0, n) for n in range(8)] +
                [entry(3 << 3, 1024)]) +
        max_res(65536 - 2) + command(DEFLATE, [entry(0, n) for n in range(8)]) +
        page_2m(0) + command(INFLATE, [entry(3 << 3, 4096)]) +
        faults(0, 1) + command(INFLATE, [entry(0, 50)]),
    # wrap-around pfns, bad orders, duplicates, non-zero reserved bytes
    "hostile-entries": bytes([0]) + ready() +
        command(INFLATE, [entry(4, 0xffffffff), entry(5, 0), entry(6, 1),
                          entry(6 | 3 << 3, 512), entry(2 << 3, 5, 8),
                          entry(2 << 3, 5, 255), entry(0x80, 9), entry(7, 0)]),
    # stats pages: known tags, unknown ones, a huge count, PSI over 100 %,
    # a page cut inside its header
    "stats-pages": bytes([1]) + ready() +
        stats([(1, 1 << 20), (2, 2 << 20), (11, 250), (12, 10001),
               (0xffff, 7), (0, 0)]) +
        stats([(3, 5)] * 70, count=0xffffffff) + stats([(4, 1)], cut=10) +
        command(INFLATE, [entry(0, 0x4000)]) + stats([]),
}

for name, data in SEEDS.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
