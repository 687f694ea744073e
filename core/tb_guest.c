// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_guest.c - the guest driver's decisions between passes (see
 * tb_guest.h), over the rate policy of tb_policy.c.
 *
 * An episode runs from a new target (host or admin) to the pass that
 * finds nothing to move; tb_policy_settled() resets the back-off and the
 * once-per-episode warning at both ends.  NetBSD's balloon(4) rules: a
 * target above the maximum reservation is clipped ("memory 'hot-plug'
 * unsupported"), one below min is held at min, min never goes below the
 * safeguard, and sysfs writes beyond those limits fail with EPERM.  The
 * floor (tb_guest.h) is the one rule for the safeguard, how far the
 * inflater goes and how much memory pressure gets back.
 */
#include "tb_guest.h"

#define TB_U64_MAX	(~(uint64_t)0)

const char *const tb_guest_attr_names[TB_ATTR_NR] = {
	[TB_ATTR_CURRENT] = "current",
	[TB_ATTR_MIN] = "min",
	[TB_ATTR_MAX] = "max",
	[TB_ATTR_TARGET] = "target",
	[TB_ATTR_FLOOR] = "floor",
};

#define TB_MIB(n)	((uint64_t)(n) << (20 - TB_PAGE_SHIFT))

uint64_t tb_guest_floor_curve(uint64_t n)
{
	/* Continuous at every knee: each piece starts where the last ends. */
	if (n < TB_MIB(128))
		return TB_MIB(4) + n / 4;
	if (n < TB_MIB(512))
		return TB_MIB(20) + n / 8;
	if (n < TB_MIB(2048))
		return TB_MIB(52) + n / 16;
	if (n < TB_MIB(8192))
		return TB_MIB(116) + n / 32;
	return TB_MIB(244) + n / 64;
}

uint64_t tb_guest_boot_pages(uint64_t device, uint64_t present, bool *overstated)
{
	*overstated = present && device > present + TB_BOOT_SLACK(present);
	return *overstated ? present : device;
}

void tb_guest_init(struct tb_guest *g, const struct tb_policy_params *set,
		   uint64_t boot_pages, const struct tb_floor_params *fp)
{
	uint64_t floor, least;

	struct tb_policy_params pp = tb_policy_defaults;

	/* A tunable of 0 means the policy's default. */
	if (set->batch)
		pp.batch = set->batch;
	if (set->rate_min)
		pp.rate_min = set->rate_min;
	if (set->rate_max)
		pp.rate_max = set->rate_max;
	pp.rate_inc = set->rate_inc;
	if (set->backoff_min_ms)
		pp.backoff_min_ms = set->backoff_min_ms;
	if (set->backoff_max_ms)
		pp.backoff_max_ms = set->backoff_max_ms;
	if (set->upgrade_after)
		pp.upgrade_after = set->upgrade_after;
	pp.use_2m = set->use_2m;
	pp.no_fallback = set->no_fallback;

	*g = (struct tb_guest){ .boot_pages = boot_pages };
	tb_policy_init(&g->pol, &pp);
	floor = fp->floor ? fp->floor : tb_guest_floor_curve(boot_pages);
	least = tb_policy_safeguard(fp->min_free, fp->min_margin);
	if (fp->none)
		floor = least;
	floor = TB_MIN(TB_MAX(floor, least), boot_pages);
	g->no_floor = fp->none;
	g->floor = floor;
	g->band = fp->band ? fp->band : floor / 4;
	g->safeguard = floor;
	g->min = floor;
	g->clip_logged = TB_U64_MAX;
}

/* The limits as the device states them: 0 or past RAM means no limit
 * beyond RAM itself, and min always fits. */
static void tb_guest_limits(struct tb_guest *g, const struct tb_guest_regs *r)
{
	uint64_t mr = r->max_reservation, boot = g->boot_pages;

	g->max_res = (mr && mr < boot) ? mr : boot;
	g->max_balloon = r->max_balloon < boot ? r->max_balloon : boot;
	if (g->min > g->max_res)
		g->max_res = g->min;
}

void tb_guest_probe(struct tb_guest *g, const struct tb_guest_regs *r)
{
	g->host_gen = r->gen;
	g->host_target = r->target;
	g->asked = r->target;
	g->clip_logged = TB_U64_MAX;
	tb_guest_limits(g, r);
	g->target = tb_policy_target(g->asked, g->min, g->max_res,
				     g->boot_pages).pages;
}

unsigned int tb_guest_refresh(struct tb_guest *g, const struct tb_guest_regs *r)
{
	unsigned int flags = 0;

	if (r->gen != g->host_gen || r->target != g->host_target) {
		g->host_gen = r->gen;
		g->host_target = r->target;
		g->asked = r->target;
		g->settled = false;
		tb_policy_settled(&g->pol);
		flags |= TB_REFRESH_NEW;
		/* Any value is taken (clipping deals with it); absurd ones
		 * are worth a word. */
		if (r->target == 0 || r->target > 2 * g->boot_pages)
			flags |= TB_REFRESH_ABSURD;
	}
	tb_guest_limits(g, r);
	return flags;
}

uint32_t tb_guest_poll_ms(uint32_t poll_ms)
{
	return TB_MIN(TB_MAX(poll_ms, TB_POLL_MS_MIN), TB_POLL_MS_MAX);
}

struct tb_guest_step tb_guest_begin(struct tb_guest *g, uint64_t cur,
				    uint64_t now, uint64_t balloon_4k)
{
	struct tb_guest_step st = { .pass = { .dir = TB_DIR_NONE } };
	struct tb_target t = tb_policy_target(g->asked, g->min, g->max_res,
					      g->boot_pages);

	if ((t.hotplug_clipped || t.max_clipped) &&
	    g->clip_logged != g->asked) {
		g->clip_logged = g->asked;
		st.clip_msg = t.hotplug_clipped;
		st.maxres_msg = t.max_clipped;
	}
	g->target = t.pages;

	/* After pressure, inflation waits; giving memory back does not.  The
	 * difference is signed so a wrapping clock (jiffies) compares right. */
	if (t.pages < cur && (int64_t)(now - g->pressure_until) < 0) {
		st.held_off = true;
		return st;
	}

	st.pass = tb_policy_plan(&g->pol, cur, t.pages, balloon_4k);
	if (st.pass.dir != TB_DIR_NONE) {
		g->settled = false;
		return st;
	}
	if (!g->settled) {
		g->settled = true;
		tb_policy_settled(&g->pol);
		st.reached_msg = true;
	}
	/* Held at min: the asked target is out of reach (NetBSD's "target
	 * set too low"), said once per episode. */
	if (t.min_clipped && g->warn_at_min && tb_policy_warn_once(&g->pol))
		st.min_msg = true;
	return st;
}

uint32_t tb_guest_next_ms(const struct tb_guest *g, bool polling,
			  uint32_t poll_ms)
{
	uint32_t backoff = g->pol.backoff_ms;

	if (!polling)
		return backoff;
	return TB_MAX(backoff, poll_ms);
}

uint64_t tb_guest_inflate_floor(const struct tb_guest *g)
{
	return g->floor + g->band;
}

uint64_t tb_guest_inflate_want(const struct tb_guest *g,
			       const struct tb_pass *pass,
			       uint64_t balloon_pages, uint64_t avail,
			       bool *clamped, bool *at_floor)
{
	uint64_t room = g->max_balloon > balloon_pages ?
			g->max_balloon - balloon_pages : 0;
	uint64_t level = tb_guest_inflate_floor(g);
	uint64_t spare = avail > level ? avail - level : 0;
	uint64_t want = pass->pages;

	/* Leave the guest its floor and band of available memory. */
	*at_floor = !g->no_floor && spare < want;
	if (*at_floor)
		want = spare;
	/* The device's maximum balloon size is known: do not ask past it. */
	*clamped = room < want;
	if (*clamped) {
		want = room;
		*at_floor = false;
	}
	return want;
}

unsigned int tb_guest_inflate_order(const struct tb_pass *pass, uint64_t rem,
				    bool dev_2m)
{
	return pass->order == TB_ORDER_2M && rem >= TB_PAGES_PER_2M && dev_2m ?
	       TB_ORDER_2M : TB_ORDER_4K;
}

unsigned int tb_guest_deflate_order(unsigned int order, uint64_t rem,
				    bool have4k, bool have2m)
{
	if (order == TB_ORDER_2M)
		return have2m && (rem >= TB_PAGES_PER_2M || !have4k) ?
		       TB_ORDER_2M : TB_ORDER_4K;
	return have4k ? TB_ORDER_4K : TB_ORDER_2M;
}

bool tb_guest_inflate_kept(unsigned int status)
{
	return status == TB_ST_OK || status == TB_ST_PENDING;
}

bool tb_guest_deflate_freed(unsigned int status)
{
	return status == TB_ST_OK || status == TB_ST_ERR_STATE;
}

bool tb_guest_inflate_stop(bool capped, uint32_t nrefused, uint32_t batch)
{
	return capped || nrefused >= batch;
}

struct tb_guest_end tb_guest_inflated(struct tb_guest *g,
				      const struct tb_pass *pass,
				      uint64_t placed, bool alloc_failed,
				      bool capped)
{
	struct tb_guest_end end = { .backoff = false };
	enum tb_inflate_outcome out;

	out = tb_policy_inflated(&g->pol, pass->pages, placed, alloc_failed,
				 capped && placed < pass->pages);
	if (out == TB_OUT_STALLED || out == TB_OUT_CAPPED) {
		end.backoff = true;
		end.unreached_msg = tb_policy_warn_once(&g->pol);
	}
	return end;
}

struct tb_guest_end tb_guest_deflated(struct tb_guest *g,
				      const struct tb_pass *pass,
				      uint64_t granted, bool short_grant)
{
	struct tb_guest_end end = { .backoff = false };

	if (tb_policy_deflated(&g->pol, pass->pages, granted) || short_grant) {
		/* A denied entry backs off even when the pages added up. */
		if (!g->pol.backoff_ms)
			g->pol.backoff_ms = g->pol.p.backoff_min_ms;
		end.backoff = true;
		end.partial = true;
	}
	return end;
}

uint64_t tb_guest_pressure_want(const struct tb_guest *g, uint64_t avail,
				uint64_t balloon_pages)
{
	uint64_t want;

	/* At the floor or above, reclaim has the guest's own memory to work
	 * on: the balloon keeps its pages. */
	if (avail >= g->floor)
		return 0;
	want = g->floor + g->band - avail;
	return TB_MIN(want, balloon_pages);
}

void tb_guest_pressure(struct tb_guest *g, uint64_t got, uint32_t holdoff_ms,
		       uint64_t until)
{
	if (!got)
		return;
	tb_policy_pressure(&g->pol, holdoff_ms);
	g->pressure_until = until;
	g->settled = false;
}

static bool tb_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

enum tb_guest_attr tb_guest_attr_lookup(const char *name)
{
	unsigned int a;

	for (a = 0; a < TB_ATTR_NR; a++)
		if (tb_streq(name, tb_guest_attr_names[a]))
			break;
	return (enum tb_guest_attr)a;
}

bool tb_guest_attr_writable(enum tb_guest_attr a)
{
	return a == TB_ATTR_MIN || a == TB_ATTR_TARGET;
}

uint64_t tb_guest_show(const struct tb_guest *g, enum tb_guest_attr a,
		       uint64_t cur)
{
	switch (a) {
	case TB_ATTR_CURRENT:
		return cur;
	case TB_ATTR_MIN:
		return g->min;
	case TB_ATTR_MAX:
		return g->max_res;
	case TB_ATTR_FLOOR:
		return g->floor;
	default:
		return g->target;
	}
}

enum tb_store_result tb_guest_store(struct tb_guest *g, enum tb_guest_attr a,
				    uint64_t kib)
{
	uint64_t pages;

	if (!tb_guest_attr_writable(a))
		return TB_STORE_EACCES;
	if (kib > TB_U64_MAX / 2)
		return TB_STORE_EPERM;
	pages = kib >> (TB_PAGE_SHIFT - 10);

	if (a == TB_ATTR_MIN) {
		/* NetBSD: EPERM below the safeguard; above max is beyond
		 * limits too.  The episode's warning is not reset. */
		if (pages < g->safeguard || pages > g->max_res)
			return TB_STORE_EPERM;
		g->min = pages;
		g->settled = false;
		return TB_STORE_OK;
	}
	if (pages < g->min || pages > g->max_res)
		return TB_STORE_EPERM;
	g->asked = pages;
	g->target = pages;
	g->settled = false;
	tb_policy_settled(&g->pol);
	return TB_STORE_OK;
}
