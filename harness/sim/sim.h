/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim.h - a whole simulated machine on a virtual clock: the host side
 * (core/tb_host.c decides every entry, exactly as the QEMU device does), the
 * guest's memory (sim_mem.h), the guest driver's convergence loop (mirroring
 * guest-driver/tb_balloon.c, with core/tb_policy.c making every decision),
 * and the guest agent's workloads.  No threads, no real time: everything
 * happens in sim_run_until(), in virtual-time order, deterministically for
 * a given seed.
 *
 * The harness's "sim" backend (harness/backends/sim.c) is a thin adapter from
 * harness/backends/backend.h onto this; the unit tests and the benchmark use it
 * directly.
 *
 * Units: 4 KiB pages for memory, nanoseconds for the clock.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_batch.h"
#include "tb_policy.h"
#include "sim_mem.h"
#include "sim_timing.h"

#define SIM_NS_PER_MS	UINT64_C(1000000)
#define SIM_NS_PER_S	UINT64_C(1000000000)

/* What the simulated machine reports (the backend's events). */
enum sim_out {
	SIM_OUT_CONSOLE,	/* a guest console line */
	SIM_OUT_BALLOON_CHANGE,	/* QMP BALLOON_CHANGE; value: actual bytes */
	SIM_OUT_AGENT_REPLY,	/* "ok ..." / "err ..." */
	SIM_OUT_AGENT_EVENT,	/* async agent line */
	SIM_OUT_DIED,		/* the guest is gone (panic) */
};
typedef void (*sim_out_fn)(void *arg, enum sim_out kind, uint64_t t_ns,
			   const char *text, int64_t value);

/* The driver's module parameters (guest-driver/tb_balloon.c). */
struct sim_driver_params {
	struct tb_policy_params pol;	/* batch, rate_*, backoff_*, ... */
	uint32_t poll_ms;		/* poll the target this often */
	bool use_irq;			/* wake on the target-change IRQ */
	bool deflate_on_pressure;	/* give pages back when memory is short */
	uint32_t pressure_holdoff_ms;	/* no inflation for this long after */
	bool blocking_alloc;		/* allocate as old drivers did: may OOM */
	uint32_t min_margin;		/* floor >= min watermark + this */
	uint32_t floor_pages;		/* available memory kept; 0: curve */
	uint32_t band_pages;		/* hysteresis above it; 0: floor/4 */
	bool fallback_4k;		/* 0: 2 MiB pages only, no fallback */
	bool stats_report;		/* report guest figures to the device */
	uint32_t ignored;		/* parameters without a model */
};

struct sim_config {
	uint64_t ram_pages;		/* guest memory (boot reservation) */
	uint64_t kernel_pages;		/* taken by the kernel at boot */
	uint64_t reserved_pages;	/* of which outside MemTotal */
	uint64_t dma_reserve_pages;	/* free, but not for our allocations */
	uint64_t min_free_kb;		/* raised vm.min_free_kbytes, 0: none */
	bool init_on_alloc;		/* kernel zeroes every allocation */
	uint64_t seed;			/* cost jitter */
	struct sim_timing timing;
	struct tb_host_config host;	/* device properties */
	uint64_t pool;			/* host pool, TB_POOL_UNLIMITED: none */
	bool discard;			/* TB_F_DISCARD offered */
	bool enforce_max_balloon;	/* device "enforce-max-balloon" */
	uint64_t target_pages;		/* initial target, 0: ram_pages */
	uint32_t qmp_throttle_ms;	/* BALLOON_CHANGE rate limit (QEMU: 1 s) */
	uint32_t poll_ms_advice;	/* device "poll-ms" (TB_REG_POLL_MS) */
	uint32_t reply_delay_ms;	/* device "reply-delay-ms": per command */
	uint32_t stats_interval_ms;	/* "guest-stats-interval-ms", 0: off */
	struct sim_driver_params drv;
};

/* Defaults: Debian's kernel (init_on_alloc=1), the device's and driver's
 * defaults, maximum balloon 65% of memory. */
void sim_config_defaults(struct sim_config *c, uint64_t ram_bytes);

/*
 * Set a named knob before start: a device property ("max-balloon", ...) or
 * a driver parameter ("batch", ...) of core/tb_knobs.h that the model has
 * (TB_BE_SIM).  Values are read by harness/plan/units.h: sizes as a
 * scenario writes them (the harness passes bytes; "%" is of guest memory,
 * "unlimited" for the pool), counts, booleans.  Returns 0, or -1 with @err
 * saying why.
 */
int sim_config_set_prop(struct sim_config *c, const char *prop,
			const char *value, char *err, size_t errlen);
int sim_config_set_param(struct sim_config *c, const char *param,
			 const char *value, char *err, size_t errlen);

struct sim;

struct sim *sim_create(const struct sim_config *c, sim_out_fn out, void *arg,
		       char *err, size_t errlen);
void sim_destroy(struct sim *s);

uint64_t sim_now(const struct sim *s);

/* Run until the clock reaches @until (or, with @until_event, until
 * something was reported).  Returns 0, or -1 once the guest is dead. */
int sim_run_until(struct sim *s, uint64_t until, bool until_event);

/* Host side, as QMP would: new target (pages), device property at run
 * time (same names as sim_config_set_prop). */
void sim_set_target(struct sim *s, uint64_t pages);
int sim_set_prop(struct sim *s, const char *prop, const char *value,
		 char *err, size_t errlen);
int sim_get_prop(struct sim *s, const char *prop, char *buf, size_t len);

/*
 * One agent request (the guest agent's line protocol); the reply comes
 * later as SIM_OUT_AGENT_REPLY.  Returns -1 if a request is outstanding.
 * guest-driver/AGENT.md's protocol, as guest-driver/agent.c answers it:
 *   pin BYTES | alloc BYTES | pagecache BYTES | fragment BYTES [files|holes]
 *   free ID|all | stats | ping | exec CMD | sysfs-read NAME
 *   sysfs-write NAME KIB
 */
int sim_agent(struct sim *s, const char *line);

struct sim_stats {
	uint64_t target, actual;	/* pages: host target, reservation */
	uint64_t balloon_4k, balloon_2m; /* pages held, by entry size */
	uint64_t host_rss;		/* bytes */
	uint64_t ram_rss;		/* the guest-RAM part of it, bytes */
	uint64_t refusals, partial_grants, fallbacks;
	uint64_t oom_kills;
	uint64_t mem_free, mem_available, mem_total;	/* guest, pages */
	uint64_t by_state[SIM_PSTATE_NR];
	uint64_t driver_balloon;	/* driver's own count, pages */
	uint64_t device_balloon;	/* tb_host_state.balloon_pages */
	uint64_t min_pages;		/* the driver's floor */
};
void sim_stats(const struct sim *s, struct sim_stats *st);

/* For tests: the memory model and the live config. */
struct sim_mem *sim_memory(struct sim *s);

#endif /* SIM_H */
