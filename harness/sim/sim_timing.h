/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim_timing.h - what things cost on the simulated clock.  The one place
 * for the timing constants; CALIBRATION.md says where each value comes
 * from and how to measure it again from emulation runs.
 *
 * Every cost is in nanoseconds of guest time under TCG on the reference
 * machine.  TB_SIM_TIMING="name=value,..." (same names) overrides any of
 * them at run time, so a recalibration can be tried without rebuilding.
 */
#ifndef SIM_TIMING_H
#define SIM_TIMING_H

#include <stddef.h>
#include <stdint.h>

#define SIM_TIMING_FIELDS(X)						\
	X(alloc_4k_ns,     2000, "allocate one 4 KiB page (buddy, no zeroing)") \
	X(alloc_2m_ns,    40000, "allocate one 2 MiB page (buddy, no zeroing)") \
	X(zero_4k_ns,     10900, "zero 4 KiB with init_on_alloc=1 (2 MiB: x512)") \
	X(free_4k_ns,      1500, "free one 4 KiB page back to the buddy")	\
	X(free_2m_ns,     70000, "free one 2 MiB page back to the buddy")	\
	X(cmd_ns,         40000, "one device command: MMIO, exit, completion") \
	X(pass_ns,       100000, "one pass: work item, register reads (MMIO)") \
	X(entry_ns,         150, "host bookkeeping per entry (tb_host_entry)") \
	X(discard_4k_ns,   2300, "host madvise(DONTNEED) of 4 KiB")	\
	X(discard_2m_ns, 200000, "host madvise(DONTNEED) of 2 MiB")	\
	X(irq_ns,        200000, "target change to driver wake-up (IRQ path)") \
	X(touch_4k_ns,    25000, "workload: fault in and write 4 KiB anon")	\
	X(cache_4k_ns,    12000, "workload: write 4 KiB into a file")	\
	X(file_ns,      1000000, "workload: create (or delete) one small file") \
	X(unlink_4k_ns,     400, "workload: free 4 KiB of a file or mapping") \
	X(reclaim_4k_ns,    800, "reclaim 4 KiB of clean page cache")	\
	X(agent_ns,     2000000, "agent request round trip over the serial port") \
	X(boot_ns,  10000000000, "power-on to TB-READY (TCG, 2 vCPUs)")	\
	X(probe_ns,   200000000, "driver probe (first pass) to TB-READY")	\
	X(qemu_rss_mib,     180, "host RSS of QEMU itself, MiB")		\
	X(jitter_permille,   20, "+-random spread of each cost, per mille (seeded)")

struct sim_timing {
#define X(name, def, doc) uint64_t name;
	SIM_TIMING_FIELDS(X)
#undef X
};

extern const struct sim_timing sim_timing_defaults;

/* Apply "name=value,name=value" on top of @t.  Returns 0, or -1 with a
 * message in @err naming the bad item. */
int sim_timing_parse(struct sim_timing *t, const char *spec, char *err,
		     size_t errlen);

#endif /* SIM_TIMING_H */
