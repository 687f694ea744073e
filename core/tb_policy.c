// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_policy.c - the guest driver's convergence policy (see tb_policy.h).
 *
 * Every pass is rate limited and the rate adapts, as VMware's drivers do
 * (tb_policy.h: one rule for both directions): it grows after a pass that
 * moved its whole rate and halves after a failure, a sleeping allocation or
 * a short grant, between rate_min and rate_max.  Memory pressure does not
 * wait for a pass: its deflates (the shrinker, the OOM notifier) are not
 * rate limited.  2 MiB pages are tried first; a failed 2 MiB
 * allocation falls back to 4 KiB, and upgrade_after good 4 KiB passes or
 * the next episode move back up.
 */
#include "tb_policy.h"

const struct tb_policy_params tb_policy_defaults = {
	.batch = 512,
	.rate_min = 2048,		/* 8 MiB */
	.rate_max = 262144,		/* 1 GiB */
	.rate_inc = 0,			/* doubles */
	.backoff_min_ms = 100,
	.backoff_max_ms = 5000,
	.upgrade_after = 8,
	.use_2m = true,
};

void tb_policy_init(struct tb_policy *pol, const struct tb_policy_params *p)
{
	*pol = (struct tb_policy){ .p = *p };
	if (!pol->p.batch || pol->p.batch > TB_BATCH_MAX)
		pol->p.batch = TB_BATCH_MAX;
	if (!pol->p.rate_min)
		pol->p.rate_min = 1;
	if (pol->p.rate_max < pol->p.rate_min)
		pol->p.rate_max = pol->p.rate_min;
	if (pol->p.backoff_max_ms < pol->p.backoff_min_ms)
		pol->p.backoff_max_ms = pol->p.backoff_min_ms;
	pol->rate = pol->p.rate_min;
	pol->deflate_rate = pol->p.rate_min;
	pol->order = pol->p.use_2m ? TB_ORDER_2M : TB_ORDER_4K;
}

uint64_t tb_policy_safeguard(uint64_t min_free_pages, uint64_t margin_pages)
{
	return min_free_pages + margin_pages;
}

struct tb_target tb_policy_target(uint64_t asked, uint64_t min, uint64_t max,
				  uint64_t boot)
{
	struct tb_target t = { .pages = asked };

	if (asked > max) {
		t.pages = max;
		/* Above boot memory it would take hot-plug; below, it is the
		 * host's own limit. */
		t.hotplug_clipped = asked > boot;
		t.max_clipped = !t.hotplug_clipped;
	}
	if (t.pages < min) {
		t.pages = min;
		t.min_clipped = true;
	}
	return t;
}

struct tb_pass tb_policy_plan(struct tb_policy *pol, uint64_t cur,
			      uint64_t target, uint64_t balloon_4k)
{
	struct tb_pass pass = { .dir = TB_DIR_NONE };

	if (cur > target) {
		pass.dir = TB_DIR_INFLATE;
		pass.pages = TB_MIN(cur - target, (uint64_t)pol->rate);
		/* A 2 MiB page must not overshoot the target. */
		pass.order = pol->order;
		if (pass.pages < TB_PAGES_PER_2M)
			pass.order = TB_ORDER_4K;
	} else if (cur < target) {
		pass.dir = TB_DIR_DEFLATE;
		pass.pages = TB_MIN(target - cur, (uint64_t)pol->deflate_rate);
		/* Small steps come from 4 KiB pages when there are enough, so a
		 * 2 MiB page is not split over the target. */
		pass.order = pass.pages < TB_PAGES_PER_2M &&
			     balloon_4k >= pass.pages ? TB_ORDER_4K : TB_ORDER_2M;
	}
	return pass;
}

/* The rule (tb_policy.h): grow after a pass that used its whole rate,
 * halve after one that went wrong. */
static uint32_t rate_grow(const struct tb_policy *pol, uint32_t rate)
{
	uint64_t r = pol->p.rate_inc ? (uint64_t)rate + pol->p.rate_inc :
		     (uint64_t)rate * 2;

	return (uint32_t)TB_MIN(r, (uint64_t)pol->p.rate_max);
}

static uint32_t rate_fall(const struct tb_policy *pol, uint32_t rate)
{
	return TB_MAX(rate / 2, pol->p.rate_min);
}

void tb_policy_slept(struct tb_policy *pol)
{
	pol->slept = true;
}

static void back_off(struct tb_policy *pol)
{
	pol->backoff_ms = pol->backoff_ms ?
		TB_MIN(pol->backoff_ms * 2, pol->p.backoff_max_ms) :
		pol->p.backoff_min_ms;
	pol->backoffs++;
}

enum tb_inflate_outcome tb_policy_inflated(struct tb_policy *pol,
					   uint64_t asked, uint64_t placed,
					   bool alloc_failed, bool max_balloon)
{
	bool slept = pol->slept;

	pol->slept = false;
	if (slept)
		pol->slow_passes++;
	if (max_balloon) {
		pol->backoff_ms = pol->p.backoff_max_ms;
		return TB_OUT_CAPPED;
	}
	if (alloc_failed && pol->order == TB_ORDER_2M && !pol->p.no_fallback) {
		pol->order = TB_ORDER_4K;
		pol->good_4k = 0;
		pol->fallbacks++;
		return TB_OUT_FALLBACK;
	}
	if (alloc_failed || placed < asked) {
		pol->rate = rate_fall(pol, pol->rate);
		back_off(pol);
		return TB_OUT_STALLED;
	}

	if (slept)
		pol->rate = rate_fall(pol, pol->rate);
	else if (asked >= pol->rate)
		pol->rate = rate_grow(pol, pol->rate);
	pol->backoff_ms = 0;
	if (pol->order == TB_ORDER_4K && pol->p.use_2m &&
	    ++pol->good_4k >= pol->p.upgrade_after)
		pol->order = TB_ORDER_2M;
	return TB_OUT_DONE;
}

bool tb_policy_deflated(struct tb_policy *pol, uint64_t asked,
			uint64_t granted)
{
	if (granted >= asked) {
		if (asked >= pol->deflate_rate)
			pol->deflate_rate = rate_grow(pol, pol->deflate_rate);
		pol->backoff_ms = 0;
		return false;
	}
	pol->deflate_rate = rate_fall(pol, pol->deflate_rate);
	back_off(pol);
	return true;
}

void tb_policy_pressure(struct tb_policy *pol, uint32_t holdoff_ms)
{
	pol->rate = pol->p.rate_min;
	pol->backoff_ms = TB_MAX(pol->backoff_ms, holdoff_ms);
}

void tb_policy_settled(struct tb_policy *pol)
{
	pol->warned = false;
	pol->backoff_ms = 0;
	/* A fallback says this episode's free memory was fragmented, not the
	 * next one's: every episode starts at 2 MiB again, as vmw_balloon
	 * starts every inflate at its largest page size. */
	if (pol->p.use_2m) {
		pol->order = TB_ORDER_2M;
		pol->good_4k = 0;
	}
}

bool tb_policy_warn_once(struct tb_policy *pol)
{
	if (pol->warned)
		return false;
	pol->warned = true;
	return true;
}
