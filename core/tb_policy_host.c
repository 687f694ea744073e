// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_policy_host.c - host ballooning policies (free-window, pi, squeeze):
 * one decision a period from the guest's figures.  See tb_policy_host.h.
 */
#include "tb_policy_host.h"

#if !defined(__KERNEL__) && !defined(TB_IN_QEMU)
#include <stdio.h>
#include <string.h>
#endif

#define PAGE_MASK_4K	(~(uint64_t)4095)
#define MAX_GAIN_MILLI	100000u		/* gains up to 100 */
#define MAX_DT_MS	10000u		/* one integration step at most */

const struct tb_hp_params tb_hp_defaults = {
	.kind = TB_HP_FREE_WINDOW,
	.period_ms = 1000,
	.stale_ms = 0,			/* 3 periods */
	.min = 0,
	.max = UINT64_MAX,
	.step = 64ull << 20,
	.kp_milli = 500,
	.ki_milli = 100,
	.accuracy = 4ull << 20,
	.progress = 1ull << 20,
	.stuck_ms = 5000,
};

static const char *const kind_names[TB_HP_NR] = {
	[TB_HP_FREE_WINDOW] = "free-window",
	[TB_HP_PI] = "pi",
	[TB_HP_SQUEEZE] = "squeeze",
};

const char *tb_hp_kind_name(enum tb_hp_kind k)
{
	return k < TB_HP_NR ? kind_names[k] : "?";
}

int tb_hp_kind_parse(const char *name)
{
	for (int k = 0; k < TB_HP_NR; k++)
		if (!strcmp(name, kind_names[k]))
			return k;
	return -1;
}

const char *tb_hp_check(const struct tb_hp_params *p)
{
	if (p->kind >= TB_HP_NR)
		return "unknown policy";
	if (p->period_ms < 100)
		return "period: expected at least 100ms";
	if (p->min > p->max)
		return "min: expected at most max";
	switch (p->kind) {
	case TB_HP_FREE_WINDOW:
		if (!p->high || p->low >= p->high)
			return "low, high: expected low < high (both set)";
		if (p->step < 4096)
			return "step: expected at least 4K";
		break;
	case TB_HP_PI:
		if (!p->setpoint)
			return "setpoint: expected a size";
		if (p->kp_milli > MAX_GAIN_MILLI || p->ki_milli > MAX_GAIN_MILLI)
			return "kp, ki: expected gains of at most 100";
		break;
	default:
		if (!p->target)
			return "target: expected a size";
		if (!p->stuck_ms)
			return "stuck: expected a time above 0";
		break;
	}
	return NULL;
}

void tb_hp_init(struct tb_hp_state *s, const struct tb_hp_params *p,
		uint64_t target, uint64_t now_ms)
{
	memset(s, 0, sizeof(*s));
	s->p = *p;
	if (!s->p.stale_ms)
		s->p.stale_ms = 3 * s->p.period_ms;
	s->target = target;
	s->base = target;
	s->next_ms = now_ms;
	s->last_ms = now_ms;
	s->best = -1;
	s->progress_ms = now_ms;
}

/* Bytes as MiB with one decimal, into @buf (integer arithmetic). */
static const char *mib(char *buf, size_t len, int64_t b)
{
	uint64_t a = b < 0 ? (uint64_t)-b : (uint64_t)b;
	uint64_t tenths = (a * 10 + (1u << 19)) >> 20;

	snprintf(buf, len, "%s%llu.%llu MiB", b < 0 ? "-" : "",
		 (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10));
	return buf;
}

static uint64_t clip(const struct tb_hp_params *p, int64_t want)
{
	uint64_t t = want < 0 ? 0 : (uint64_t)want;

	t = TB_MAX(t, p->min);
	t = TB_MIN(t, p->max);
	return t & PAGE_MASK_4K;
}

static void set(struct tb_hp_state *s, struct tb_hp_decision *d,
		uint64_t target)
{
	if (target == s->target) {
		d->action = TB_HP_HOLD;
		return;
	}
	d->action = TB_HP_SET;
	d->target = s->target = target;
	s->changes++;
}

static void free_window(struct tb_hp_state *s, const struct tb_hp_figures *f,
			struct tb_hp_decision *d)
{
	const struct tb_hp_params *p = &s->p;
	int64_t mid = (int64_t)((p->low + p->high) / 2), delta;
	char a[32], b[32], c[32], e[32];
	size_t n;

	mib(a, sizeof(a), f->avail);
	if (f->avail >= (int64_t)p->low && f->avail <= (int64_t)p->high) {
		d->action = TB_HP_HOLD;
		snprintf(d->reason, sizeof(d->reason), "available %s within "
			 "[%s, %s]", a, mib(b, sizeof(b), p->low),
			 mib(c, sizeof(c), p->high));
		return;
	}
	delta = mid - f->avail;
	if (delta > (int64_t)p->step)
		delta = (int64_t)p->step;
	if (delta < -(int64_t)p->step)
		delta = -(int64_t)p->step;
	set(s, d, clip(p, f->reservation + delta));
	n = (size_t)snprintf(d->reason, sizeof(d->reason), "available %s %s "
			     "%s: reservation %s %+lld MiB", a, delta > 0 ?
			     "below low" : "above high",
			     mib(b, sizeof(b), delta > 0 ? p->low : p->high),
			     mib(c, sizeof(c), f->reservation),
			     (long long)(delta / (1 << 20)));
	if (delta == (int64_t)p->step || delta == -(int64_t)p->step)
		n += (size_t)snprintf(d->reason + n, sizeof(d->reason) - n,
				      " (step limit %s)",
				      mib(e, sizeof(e), p->step));
	if (d->action == TB_HP_HOLD && n < sizeof(d->reason))
		snprintf(d->reason + n, sizeof(d->reason) - n, "; target "
			 "already %s", mib(e, sizeof(e), s->target));
}

static void pi(struct tb_hp_state *s, const struct tb_hp_figures *f,
	       struct tb_hp_decision *d)
{
	const struct tb_hp_params *p = &s->p;
	int64_t err = (int64_t)p->setpoint - f->avail;
	uint64_t dt = f->now_ms - s->last_ms;
	int64_t span = (int64_t)(p->max == UINT64_MAX ? (uint64_t)1 << 40 :
				 p->max - p->min);
	int64_t ilim = p->ki_milli ? span * 1000 / p->ki_milli : 0;
	char a[32], b[32], c[32], g[32], h[32], k[32];

	s->last_ms = f->now_ms;
	dt = TB_MIN(dt, MAX_DT_MS);
	int64_t in = s->integral + err * (int64_t)dt / 1000;
	in = TB_MAX(TB_MIN(in, ilim), -ilim);
	int64_t up = (int64_t)p->kp_milli * err / 1000;
	int64_t want = (int64_t)s->base + up +
		       (int64_t)p->ki_milli * in / 1000;
	/* Anti-windup: no integration while the target is clipped in the
	 * error's direction. */
	if ((want > (int64_t)p->max && err > 0) ||
	    (want < (int64_t)p->min && err < 0)) {
		in = s->integral;
		want = (int64_t)s->base + up +
		       (int64_t)p->ki_milli * in / 1000;
	}
	s->integral = in;
	int64_t ui = (int64_t)p->ki_milli * in / 1000;
	set(s, d, clip(p, want));
	snprintf(d->reason, sizeof(d->reason), "available %s, set point %s: "
		 "error %s; P %s, I %s from %s%s", mib(a, sizeof(a), f->avail),
		 mib(b, sizeof(b), p->setpoint), mib(c, sizeof(c), err),
		 mib(g, sizeof(g), up), mib(h, sizeof(h), ui),
		 mib(k, sizeof(k), s->base), want < (int64_t)p->min ||
		 (uint64_t)want > p->max ? " (clipped)" : "");
}

static void squeeze(struct tb_hp_state *s, const struct tb_hp_figures *f,
		    struct tb_hp_decision *d)
{
	const struct tb_hp_params *p = &s->p;
	int64_t t = (int64_t)clip(p, (int64_t)p->target), r = f->reservation;
	int64_t dist = r > t ? r - t : t - r;
	int64_t was = s->best < 0 ? -1 : s->best > t ? s->best - t :
		      t - s->best;
	uint64_t idle = f->now_ms - s->progress_ms;
	char a[32], b[32], c[32];

	if (s->phase == TB_HP_STUCK) {
		d->action = TB_HP_HOLD;
		snprintf(d->reason, sizeof(d->reason), "gave up (stuck): "
			 "reservation %s, target stays %s",
			 mib(a, sizeof(a), r), mib(b, sizeof(b), s->target));
		return;
	}
	if (dist <= (int64_t)p->accuracy) {
		d->action = TB_HP_HOLD;
		s->phase = TB_HP_REACHED;
		s->best = r;
		s->progress_ms = f->now_ms;
		snprintf(d->reason, sizeof(d->reason), "reached: reservation "
			 "%s within %s of the target %s", mib(a, sizeof(a), r),
			 mib(b, sizeof(b), p->accuracy),
			 mib(c, sizeof(c), t));
		return;
	}
	s->phase = TB_HP_RUNNING;
	if (was < 0 || was - dist >= (int64_t)p->progress) {
		d->action = TB_HP_HOLD;
		s->best = r;
		s->progress_ms = f->now_ms;
		snprintf(d->reason, sizeof(d->reason), "progress: reservation "
			 "%s, %s from the target %s", mib(a, sizeof(a), r),
			 mib(b, sizeof(b), dist), mib(c, sizeof(c), t));
		return;
	}
	if (idle < p->stuck_ms) {
		d->action = TB_HP_HOLD;
		snprintf(d->reason, sizeof(d->reason), "no progress for "
			 "%llu ms at %s (%s from the target; stuck after "
			 "%u ms)", (unsigned long long)idle,
			 mib(a, sizeof(a), r), mib(b, sizeof(b), dist),
			 p->stuck_ms);
		return;
	}
	/* Stuck: give up the target and re-plan from where the guest is. */
	s->phase = TB_HP_STUCK;
	s->stuck++;
	d->stuck = true;
	set(s, d, clip(p, r));
	snprintf(d->reason, sizeof(d->reason), "stuck: no progress of %s for "
		 "%llu ms at %s, %s short of the target; gave up, target back "
		 "to the reservation", mib(a, sizeof(a), p->progress),
		 (unsigned long long)idle, mib(b, sizeof(b), r),
		 mib(c, sizeof(c), dist));
}

void tb_hp_decide(struct tb_hp_state *s, const struct tb_hp_figures *f,
		  struct tb_hp_decision *d)
{
	const struct tb_hp_params *p = &s->p;
	bool first = !s->started;
	char a[32], b[32], c[32];

	memset(d, 0, sizeof(*d));
	d->action = TB_HP_WAIT;
	d->target = s->target;
	if (!first && f->now_ms < s->next_ms)
		return;
	s->started = true;
	s->next_ms = f->now_ms + p->period_ms;
	s->decisions++;

	if (first && p->kind == TB_HP_SQUEEZE) {
		/* squeezed sets the target at once, then watches. */
		set(s, d, clip(p, (int64_t)p->target));
		if (d->action == TB_HP_HOLD)
			d->action = TB_HP_SET;	/* the host says it anyway */
		snprintf(d->reason, sizeof(d->reason), "asked %s (reservation "
			 "%s); stuck after %u ms without %s of progress",
			 mib(a, sizeof(a), s->target),
			 mib(b, sizeof(b), f->reservation), p->stuck_ms,
			 mib(c, sizeof(c), p->progress));
		return;
	}
	if (f->reservation < 0 || (p->kind != TB_HP_SQUEEZE && f->avail < 0) ||
	    (f->now_ms > f->figures_ms &&
	     f->now_ms - f->figures_ms > p->stale_ms)) {
		d->action = TB_HP_HOLD;
		if (f->reservation < 0 || f->avail < 0)
			snprintf(d->reason, sizeof(d->reason), "no guest "
				 "figures yet: holding");
		else
			snprintf(d->reason, sizeof(d->reason), "guest figures "
				 "%llu ms old (stale after %u ms): holding",
				 (unsigned long long)(f->now_ms -
						      f->figures_ms),
				 p->stale_ms);
		s->last_ms = f->now_ms;
		return;
	}
	switch (p->kind) {
	case TB_HP_FREE_WINDOW:
		free_window(s, f, d);
		break;
	case TB_HP_PI:
		pi(s, f, d);
		break;
	default:
		squeeze(s, f, d);
		break;
	}
	d->target = s->target;
}
