// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics.c - per-step metrics: convergence, rate, overshoot and final
 * error from the samples; times to 50/90/100 %, mean and peak rate,
 * overshoot, drain/refill cycles, first stop, band, settle time and host
 * memory returned from every value the reservation took, from the moment
 * the step's target was set.  "Every value": the device's batch log
 * (batches.c: each batch, and the target's own record, on the device's
 * clock) when the backend has one, else the BALLOON_CHANGE events (QEMU
 * sends at most one a second) and the samples.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

const struct sample_rec *sample_at(struct run *r, double t)
{
	const struct sample_rec *best = NULL;
	for (size_t i = 0; i < r->nsamples; i++)
		if (r->samples[i].t <= t + 1e-6)
			best = &r->samples[i];
	return best;
}

double step_end(struct run *r, int i)
{
	return r->rt[i].end > 0 ? r->rt[i].end : now(r);
}

/*
 * The reservation between @t0 and @end as a piecewise-linear curve: each
 * value from when it was first seen to when it was last seen unchanged,
 * straight lines between.  Starts with the value in force at @t0 (@a0
 * when none was recorded) and ends at @end.  Returns the vertex count;
 * *@tv and *@av are malloc'd.
 */
static size_t curve_between(struct run *r, double t0, double end, double a0,
			    double **tv, double **av)
{
	size_t n = 0, k = 0;
	double *t = malloc((2 * r->nchanges + 3) * sizeof(double));
	double *a = malloc((2 * r->nchanges + 3) * sizeof(double));

	/* A value first seen at the very moment the target was set is the
	 * step's (the simulator answers on the same virtual instant). */
	while (k < r->nchanges && r->changes[k].t < t0)
		k++;
	if (k) {
		a0 = (double)r->changes[k - 1].actual;
		if (r->changes[k - 1].last_seen > t0 &&
		    r->changes[k - 1].last_seen <= end) {
			t[n] = t0;
			a[n++] = a0;
			t0 = r->changes[k - 1].last_seen;
		}
	}
	t[n] = t0;
	a[n++] = a0;
	for (; k < r->nchanges && r->changes[k].t <= end + 1e-9; k++) {
		const struct change_rec *c = &r->changes[k];
		t[n] = c->t;
		a[n++] = (double)c->actual;
		if (c->last_seen > c->t) {
			t[n] = c->last_seen < end ? c->last_seen : end;
			a[n++] = (double)c->actual;
		}
	}
	if (t[n - 1] < end) {
		t[n] = end;
		a[n] = a[n - 1];
		n++;
	}
	*tv = t;
	*av = a;
	return n;
}

/* The curve's value at @x (clamped to its ends). */
static double curve_at(const double *t, const double *a, size_t n, double x)
{
	size_t lo = 0, hi = n - 1;
	if (x <= t[0])
		return a[0];
	if (x >= t[n - 1])
		return a[n - 1];
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (t[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	double dt = t[hi] - t[lo];
	return dt > 0 ? a[lo] + (a[hi] - a[lo]) * (x - t[lo]) / dt : a[hi];
}

/* When progress @p (towards the target) first reaches @level, or NAN. */
static double crossing(const double *t, const double *p, size_t n,
		       double level)
{
	if (p[0] >= level)
		return t[0];
	for (size_t j = 1; j < n; j++)
		if (p[j] >= level) {
			double f = (level - p[j - 1]) / (p[j] - p[j - 1]);
			return t[j - 1] + f * (t[j] - t[j - 1]);
		}
	return NAN;
}

/*
 * Drain/refill cycles along @x (the reservation, sign-flipped for a
 * deflating step): each time it climbs back by more than @thr bytes
 * (the scenario's cycle-threshold, CYCLE_BYTES by default) from its
 * lowest point since the last cycle, once it had fallen by more than
 * @thr from its highest since (the step's start counts as
 * having fallen).
 */
static int count_cycles(const double *x, size_t n, double thr)
{
	double lo = x[0], hi = x[0];
	bool falling = true;
	int cycles = 0;

	for (size_t j = 1; j < n; j++) {
		if (falling) {
			lo = x[j] < lo ? x[j] : lo;
			if (x[j] - lo > thr) {
				cycles++;
				falling = false;
				hi = x[j];
			}
		} else {
			hi = x[j] > hi ? x[j] : hi;
			if (hi - x[j] > thr) {
				falling = true;
				lo = x[j];
			}
		}
	}
	return cycles;
}

#define PEAK_WINDOW_S	0.1

static void curve_metrics(struct run *r, int i, struct step_metrics *m,
			  double target)
{
	const struct step_rt *rt = &r->rt[i];
	double t0 = rt->target_t > 0 ? rt->target_t : rt->start;
	double end = step_end(r, i), *t, *a;
	double tol = (double)r->p->tolerance;
	/* Every batch from the device's record of the target, when there
	 * is one: the same curve, exact to the batch and to the target. */
	size_t n = batches_curve(r, i, end, &t, &a, &t0);

	m->times_from = n ? "batch-log" : "events+samples";
	if (!n)
		n = curve_between(r, t0, end < t0 ? t0 : end,
				  (double)rt->at_start.s.actual, &t, &a);
	double a0 = a[0], *p = malloc(n * sizeof(double));

	m->asked = target - a0;
	/* Which way the step moves; a step already at its target counts
	 * as inflating (reservation falls, then refills). */
	double dir = m->asked > 0 ? 1 : -1, best = 0;
	for (size_t j = 0; j < n; j++) {
		p[j] = dir * (a[j] - a0);
		best = p[j] > best ? p[j] : best;
	}
	double want = fabs(m->asked);
	double ach = best < want ? best : want;
	m->achieved = dir * ach;
	if (want >= 4096) {
		m->over = best > want ? best - want : 0;
		if (ach > 0) {
			m->t50 = crossing(t, p, n, 0.5 * ach) - t0;
			m->t90 = crossing(t, p, n, 0.9 * ach) - t0;
			m->t100 = crossing(t, p, n, ach) - t0;
			double t10 = crossing(t, p, n, 0.1 * ach) - t0;
			if (m->t90 > t10)
				m->rate_mean = 0.8 * ach / MIB / (m->t90 - t10);
		}
	}

	/* Peak rate: the largest change over any 100 ms window; on a
	 * piecewise-linear curve it is found with a window edge on a
	 * vertex. */
	double w = end - t0 < PEAK_WINDOW_S ? end - t0 : PEAK_WINDOW_S;
	if (w > 0) {
		double peak = 0;
		for (size_t j = 0; j < n; j++)
			for (int e = 0; e < 2; e++) {
				double s = e ? t[j] - w : t[j];
				s = s < t0 ? t0 : s > end - w ? end - w : s;
				double d = fabs(curve_at(t, a, n, s + w) -
						curve_at(t, a, n, s));
				peak = d > peak ? d : peak;
			}
		m->rate_peak = peak / MIB / w;
	}

	/* First stop: after it first moved, the first value it does not
	 * pass towards the target within the stop window (or before the
	 * step ends).  Never moved: the stop is the start. */
	double win = 2 * r->p->sample > 1.0 ? 2 * r->p->sample : 1.0;
	size_t js = 0;
	for (size_t j = 1; j < n && !js; j++) {
		if (p[j] <= p[0])
			continue;
		bool passed = false;
		for (size_t q = j + 1; q < n && t[q] <= t[j] + win; q++)
			passed = passed || p[q] > p[j];
		if (!passed)
			js = j;
	}
	m->stop_s = t[js] - t0;
	m->stall = a[js];
	double lo = a[js], hi = a[js];
	for (size_t j = js; j < n; j++) {
		lo = a[j] < lo ? a[j] : lo;
		hi = a[j] > hi ? a[j] : hi;
	}
	m->band = hi - lo;

	/* Settle: from the target until it stays within the tolerance of
	 * where it ended. */
	m->settle_s = 0;
	for (size_t j = n; j-- > 1; )
		if (fabs(a[j - 1] - a[n - 1]) > tol) {
			double d = a[j] - a[j - 1], edge = a[n - 1] +
				   (d > 0 ? -tol : tol);
			double f = d ? (edge - a[j - 1]) / d : 1;
			f = f < 0 ? 0 : f > 1 ? 1 : f;
			m->settle_s = t[j - 1] + f * (t[j] - t[j - 1]) - t0;
			break;
		}

	for (size_t j = 0; j < n; j++)
		p[j] = -dir * a[j];
	m->cycles = count_cycles(p, n, r->p->cycle_threshold ?
				 (double)r->p->cycle_threshold : CYCLE_BYTES);

	/* Host memory returned: QEMU's RSS drop over the step per byte the
	 * balloon grew, from the samples at its start and end; and the same
	 * over QEMU's guest-RAM mappings alone, which tells the RAM the host
	 * got back apart from QEMU's own memory moving (reinflate.ini). */
	const struct sample_rec *s0 = &rt->at_start, *s1 = sample_at(r, end);
	if (s1 && s0->s.host_rss >= 0 && s1->s.host_rss >= 0 &&
	    s0->s.actual >= 0 && s1->s.actual >= 0 &&
	    s0->s.actual - s1->s.actual >= (int64_t)MIB)
		m->rss_returned = (double)(s0->s.host_rss - s1->s.host_rss) /
				  (double)(s0->s.actual - s1->s.actual);
	if (!isnan(m->rss_returned) && s0->s.ram_rss > 0 &&
	    s1->s.ram_rss > 0)
		m->ram_returned = (double)(s0->s.ram_rss - s1->s.ram_rss) /
				  (double)(s0->s.actual - s1->s.actual);
	free(t);
	free(a);
	free(p);
}

void metric_cols(const struct step_metrics *m,
		 struct metric_col out[METRIC_COLS])
{
	const struct metric_col c[METRIC_COLS] = {
		{ "change_asked_mib", m->asked / MIB },
		{ "change_achieved_mib", m->achieved / MIB },
		{ "time_to_50_s", m->t50 },
		{ "time_to_90_s", m->t90 },
		{ "time_to_100_s", m->t100 },
		{ "rate_mean_mibs", m->rate_mean },
		{ "rate_peak_mibs", m->rate_peak },
		{ "overshoot_mib", m->over / MIB },
		{ "cycles", m->cycles < 0 ? NAN : m->cycles },
		{ "stop_s", m->stop_s },
		{ "stall_mib", m->stall / MIB },
		{ "band_mib", m->band / MIB },
		{ "settle_s", m->settle_s },
		{ "rss_returned", m->rss_returned },
		{ "ram_returned", m->ram_returned },
	};
	memcpy(out, c, sizeof(c));
}

/*
 * Seconds from step @i's start until the reservation was within @tol of
 * @target, or -1: 0 when it already was at the start (the sample then),
 * else the first sample within, or the first value the events recorded
 * within -- the runner ends a step on what the events say (the next step
 * may wait for "settled"), which can be before another sample.
 */
double converge_time(struct run *r, int i, double target, double tol)
{
	const struct step_rt *rt = &r->rt[i];
	double start = rt->start, end = step_end(r, i), when = -1;

	if (rt->at_start.s.actual >= 0 &&
	    fabs((double)rt->at_start.s.actual - target) <= tol)
		return 0;
	for (size_t k = 0; k < r->nsamples; k++) {
		const struct sample_rec *s = &r->samples[k];
		if (s->t < start || s->t > end + 1e-6 || s->s.actual < 0)
			continue;
		if (fabs((double)s->s.actual - target) <= tol) {
			when = s->t - start;
			break;
		}
	}
	/* A value in force during the step, reached earlier than a sample
	 * saw it. */
	for (size_t k = 0; k < r->nchanges; k++) {
		const struct change_rec *c = &r->changes[k];
		double from = c->t > start ? c->t - start : 0;
		if (c->t > end + 1e-6 || (when >= 0 && from >= when))
			break;
		if (k + 1 < r->nchanges && r->changes[k + 1].t <= start)
			continue;	/* replaced before the step began */
		if (fabs((double)c->actual - target) <= tol)
			return from;
	}
	return when;
}

void metrics(struct run *r, int i, struct step_metrics *m)
{
	const struct step *st = &r->p->steps[i];
	const struct step_rt *rt = &r->rt[i];
	double start = rt->start, end = step_end(r, i);
	double tol = (double)r->p->tolerance, t0 = start;

	memset(m, 0, sizeof(*m));
	m->converge_s = -1;
	m->asked = m->achieved = m->t50 = m->t90 = m->t100 = NAN;
	m->rate_mean = m->rate_peak = m->over = m->stop_s = m->stall = NAN;
	m->band = m->settle_s = m->rss_returned = m->ram_returned = NAN;
	m->cycles = -1;
	m->times_from = "none";
	if (!rt->started || !st->has_target)
		return;
	m->has = true;
	/* What the guest can reach: a target above boot memory is clipped
	 * by the guest (no memory hot-plug), so it is measured against that. */
	double target = (double)(st->target < r->p->memory ? st->target :
				 r->p->memory);
	double a0 = (double)rt->at_start.s.actual;
	double lo = a0, hi = a0, fin = a0;
	m->converge_s = converge_time(r, i, target, tol);
	for (size_t k = 0; k < r->nsamples; k++) {
		const struct sample_rec *s = &r->samples[k];
		if (s->t < t0 || s->t > end + 1e-6 || s->s.actual < 0)
			continue;
		double a = (double)s->s.actual;
		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
		fin = a;
	}
	m->final_actual = fin;
	m->final_error = fin - target;
	m->overshoot = target < a0 ? (target - lo > 0 ? target - lo : 0) :
		       (hi - target > 0 ? hi - target : 0);
	double moved_t = m->converge_s > 0 ? m->converge_s : end - start;
	double moved = m->converge_s >= 0 ? target - a0 : fin - a0;
	m->rate_mibs = moved_t > 0 ? fabs(moved) / MIB / moved_t : 0;
	if (rt->at_start.s.actual >= 0)
		curve_metrics(r, i, m, target);
}

