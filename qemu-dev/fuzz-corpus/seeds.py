#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""seeds.py DIR: write the hand-made seed inputs of generic-fuzz into DIR.

An input is a list of operations separated by b"FUZZ"; each starts with
an opcode byte (taken modulo 10) and its arguments are copied onto the
operation's C struct (padding included), as QEMU 7.2's
tests/qtest/fuzz/generic_fuzz.c reads them.  BAR0 is the only memory region
matched (QEMU_FUZZ_OBJECTS=tb-balloon), so region index 0 is our registers.
The device reads its batch from guest RAM by DMA; generic-fuzz answers such
a read with a DMA pattern (OP_ADD_DMA_PATTERN) repeated over the buffer, so
a 16-byte pattern is one struct tb_entry copied into every slot, with one
byte of it stepped by `stride` per copy (distinct pfns).

The seeds only give the fuzzer a driver's usual sequences to start from:
ready, batch address and count, inflate, deflate, reset, 4 KiB and 2 MiB
entries, bus mastering off, commands while busy.  What the fuzzer found
from them is in the merged corpus beside this file (make fuzz-device).
"""
import os
import struct
import sys

SEP = b"FUZZ"
OP_IN, OP_OUT, OP_READ, OP_WRITE, OP_PCI_READ, OP_PCI_WRITE, \
    OP_DISABLE_PCI, OP_ADD_DMA_PATTERN, OP_CLEAR_DMA_PATTERNS, \
    OP_CLOCK_STEP = range(10)
LONG = 2            # generic_fuzz.c's enum Sizes: Byte, Word, Long, Quad

# core/tb_proto.h
REG = dict(DRIVER_STATUS=0x0c, TARGET=0x10, BALLOON_PAGES=0x20,
           BATCH_ADDR_LO=0x30, BATCH_ADDR_HI=0x34, BATCH_COUNT=0x38,
           COMMAND=0x3c, CMD_STATUS=0x40, CMD_DONE=0x44, IRQ_STATUS=0x48,
           IRQ_ACK=0x4c, IRQ_ENABLE=0x50)
INFLATE, DEFLATE, RESET = 1, 2, 3
BATCH_AT = 0x100000             # 1 MiB: guest RAM on pc and q35


def write(reg, value):
    # struct { u8 size; u8 base; (2) u32 offset; u64 value; }
    return bytes([OP_WRITE]) + struct.pack("<BBxxIQ", LONG, 0, REG[reg], value)


def read(reg):
    # struct { u8 size; u8 base; (2) u32 offset; }
    return bytes([OP_READ]) + struct.pack("<BBxxI", LONG, 0, REG[reg])


def pci_write(offset, value, size=1):
    # struct { u8 size; u8 base; u8 offset; (1) u32 value; }; size 1 = Word
    return bytes([OP_PCI_WRITE]) + struct.pack("<BBBxI", size, 0, offset, value)


def entries(pfn, order, index, stride):
    # struct tb_entry: u64 pfn, u8 order, u8 status, u8 reserved[6]
    entry = struct.pack("<QBB6x", pfn, order, 0)
    return bytes([OP_ADD_DMA_PATTERN, index, stride]) + entry


def command(cmd, count):
    return [write("BATCH_ADDR_LO", BATCH_AT), write("BATCH_ADDR_HI", 0),
            write("BATCH_COUNT", count), write("COMMAND", cmd),
            read("CMD_STATUS"), read("CMD_DONE")]


def ready():
    return [write("DRIVER_STATUS", 1), write("IRQ_ENABLE", 3), read("TARGET")]


def seeds():
    # 4 KiB pages 0x200.. (pfn's low byte +1 per entry)
    k4 = entries(0x200, 0, 0, 1)
    # 2 MiB pages from 4 MiB (pfn byte 1 +2 per entry: +0x200 pfns)
    m2 = entries(0x400, 9, 1, 2)
    yield "seed-inflate-4k", [k4] + ready() + command(INFLATE, 16) + \
        [read("BALLOON_PAGES"), read("IRQ_STATUS"), write("IRQ_ACK", 3)]
    yield "seed-inflate-deflate-4k", [k4] + ready() + command(INFLATE, 16) + \
        command(DEFLATE, 8) + [read("BALLOON_PAGES")]
    yield "seed-inflate-2m-reset", [m2] + ready() + command(INFLATE, 8) + \
        [read("BALLOON_PAGES")] + command(RESET, 1) + [read("BALLOON_PAGES")]
    yield "seed-inflate-2m-deflate", [m2] + ready() + command(INFLATE, 4) + \
        command(DEFLATE, 4) + [bytes([OP_CLOCK_STEP]), read("BALLOON_PAGES")]
    # Bus mastering off (PCI_COMMAND = memory only), then a command.
    yield "seed-no-bus-master", [k4] + ready() + [pci_write(0x04, 0x0002)] + \
        command(INFLATE, 4)
    # A full batch, then the driver goes away and comes back.
    yield "seed-full-batch-unready", [k4] + ready() + command(INFLATE, 1024) + \
        [write("DRIVER_STATUS", 0), bytes([OP_CLOCK_STEP])] + ready() + \
        command(DEFLATE, 1024)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, ops in seeds():
        with open(os.path.join(sys.argv[1], name), "wb") as f:
            f.write(SEP.join(ops))


if __name__ == "__main__":
    main()
