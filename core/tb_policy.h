/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_policy.h - the guest driver's policy, shared by the Linux driver and
 * the simulator: what target to aim for, how many pages of which size to
 * move this pass, and how to adapt to success, failure and refusal.
 * Mechanism (allocating, talking to the device, timers) stays with callers.
 *
 * Units: 4 KiB pages; times in ms.
 */
#ifndef TB_POLICY_H
#define TB_POLICY_H

#include "tb_proto.h"

/* Tunables; the driver exposes each as a module parameter. */
struct tb_policy_params {
	uint32_t batch;		/* entries per command, 1..TB_BATCH_MAX */
	uint32_t rate_min;	/* pages per pass, each direction: floor, start */
	uint32_t rate_max;	/* pages per pass, each direction: ceiling */
	uint32_t rate_inc;	/* growth after a pass that used its whole
				   rate: + this many pages; 0: the rate doubles */
	uint32_t backoff_min_ms; /* first back-off after a failure */
	uint32_t backoff_max_ms; /* back-off ceiling (doubles up to it) */
	uint32_t upgrade_after;	/* good 4 KiB passes before trying 2 MiB again */
	bool use_2m;		/* try 2 MiB pages first */
	bool no_fallback;	/* a failed 2 MiB allocation backs off as a
				   stall instead of falling back to 4 KiB
				   (the fallback_4k=0 parameter: 2 MiB only) */
};

extern const struct tb_policy_params tb_policy_defaults;

/*
 * The rate: one rule, one for each direction, between rate_min and
 * rate_max.  A pass moves at most its direction's rate.  A pass that moved
 * its whole rate grows it (+ rate_inc, or x2 when rate_inc is 0); an
 * inflate pass whose allocations failed, or had to sleep (the page came
 * only from direct reclaim: the guest is short of memory), halves it, and
 * so does a deflate pass the host granted short; memory pressure drops the
 * inflate rate to rate_min.  With the interrupt, passes follow one another
 * at once and the rate only bounds a pass; polling (use_irq=0), one pass
 * runs per poll (tb_guest_next_ms()), so the rate is pages per poll, as
 * vmw_balloon's before 4.20: rate_min=512 rate_max=2048 rate_inc=16 is its
 * rate for sleeping allocations, rate_max=16384 its non-sleeping one, and
 * 512..16384 its deflate rate.
 */

/**
 * struct tb_policy - adaptive state, owned by one convergence loop.
 * @rate:	inflate pages allowed this pass
 * @deflate_rate: deflate pages allowed this pass
 * @slept:	an allocation of the current inflate pass had to sleep
 *		(tb_policy_slept()); read and cleared by tb_policy_inflated()
 * @backoff_ms:	wait before the next pass; 0 when the last pass went well
 * @order:	page order to allocate next (TB_ORDER_2M or TB_ORDER_4K)
 * @good_4k:	consecutive successful 4 KiB passes since the last fallback
 * @warned:	the "could not reach target" warning was given this episode
 * @fallbacks:	2 MiB to 4 KiB fallbacks
 * @backoffs:	passes that ended in a back-off
 * @slow_passes: inflate passes whose allocations had to sleep
 */
struct tb_policy {
	struct tb_policy_params p;
	uint32_t rate;
	uint32_t deflate_rate;
	bool slept;
	uint32_t backoff_ms;
	unsigned int order;
	uint32_t good_4k;
	bool warned;
	uint64_t fallbacks;
	uint64_t backoffs;
	uint64_t slow_passes;
};

void tb_policy_init(struct tb_policy *pol, const struct tb_policy_params *p);

/* The safeguard floor: the kernel's own minimum free pages plus a margin
 * (NetBSD: freemin + 256 pages). */
uint64_t tb_policy_safeguard(uint64_t min_free_pages, uint64_t margin_pages);

/* A host target turned into one the guest will aim for. */
struct tb_target {
	uint64_t pages;		/* reservation to aim for */
	bool hotplug_clipped;	/* asked above boot memory: "memory 'hot-plug'
				   unsupported - clipping reservation" */
	bool max_clipped;	/* asked above max, within boot memory: the
				   host's maximum reservation limits it */
	bool min_clipped;	/* asked below min: held at min */
};
/* @asked clipped to @min..@max (@max at most @boot, the reservation with
 * an empty balloon). */
struct tb_target tb_policy_target(uint64_t asked, uint64_t min, uint64_t max,
				  uint64_t boot);

enum tb_dir { TB_DIR_NONE = 0, TB_DIR_INFLATE, TB_DIR_DEFLATE };

/* One pass: move @pages (4 KiB units) in direction @dir using @order pages
 * first; for deflate @order says which size to give back first. */
struct tb_pass {
	enum tb_dir dir;
	uint64_t pages;
	unsigned int order;
};

/* Plan a pass from the current reservation @cur to the target, at most the
 * direction's rate.  @balloon_4k is the 4 KiB pages (not 2 MiB ones) in the
 * balloon, for deflate. */
struct tb_pass tb_policy_plan(struct tb_policy *pol, uint64_t cur,
			      uint64_t target, uint64_t balloon_4k);

/* What became of an inflate pass. */
enum tb_inflate_outcome {
	TB_OUT_DONE,		/* every page placed */
	TB_OUT_FALLBACK,	/* 2 MiB allocation failed: now 4 KiB */
	TB_OUT_STALLED,		/* allocation failed at 4 KiB: back off */
	TB_OUT_CAPPED,		/* host's maximum balloon size reached */
};

/* An allocation of the current inflate pass had to sleep: its page came
 * only from direct reclaim.  The pass's feedback halves the rate. */
void tb_policy_slept(struct tb_policy *pol);

/*
 * Feed back an inflate pass: @asked pages planned, @placed accepted by the
 * host, @alloc_failed the guest could not allocate more, @max_balloon the
 * host refused with TB_ST_ERR_MAX_BALLOON.
 */
enum tb_inflate_outcome tb_policy_inflated(struct tb_policy *pol,
					   uint64_t asked, uint64_t placed,
					   bool alloc_failed, bool max_balloon);

/* Feed back a deflate pass; true when the host granted less than asked
 * (a partial grant: the deflate rate halves, back off and retry). */
bool tb_policy_deflated(struct tb_policy *pol, uint64_t asked,
			uint64_t granted);

/* The guest is short of memory: slow down and hold off for @holdoff_ms. */
void tb_policy_pressure(struct tb_policy *pol, uint32_t holdoff_ms);

/* The target was reached (or changed): a new episode begins, back-off,
 * warning and page size (2 MiB again after a fallback, with use_2m) as at
 * init; the rates are kept. */
void tb_policy_settled(struct tb_policy *pol);

/* Should the once-per-episode warning be printed now?  True only once. */
bool tb_policy_warn_once(struct tb_policy *pol);

#endif /* TB_POLICY_H */
