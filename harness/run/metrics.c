// SPDX-License-Identifier: GPL-2.0-only
/*
 * metrics.c - per-step metrics computed from the samples: convergence, rate, overshoot, final error.
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

void metrics(struct run *r, int i, struct step_metrics *m)
{
	const struct step *st = &r->p->steps[i];
	const struct step_rt *rt = &r->rt[i];
	double start = rt->start, end = step_end(r, i);
	double tol = (double)r->p->tolerance, t0 = start;

	memset(m, 0, sizeof(*m));
	m->converge_s = -1;
	if (!rt->started || !st->has_target)
		return;
	m->has = true;
	/* What the guest can reach: a target above boot memory is clipped
	 * by the guest (no memory hot-plug), so it is measured against that. */
	double target = (double)(st->target < r->p->memory ? st->target :
				 r->p->memory);
	double a0 = (double)rt->at_start.s.actual;
	double lo = a0, hi = a0, fin = a0;
	/* Already there when the step starts (the runner may then end the
	 * step before another sample is taken): converged at once. */
	if (a0 >= 0 && fabs(a0 - target) <= tol)
		m->converge_s = 0;
	for (size_t k = 0; k < r->nsamples; k++) {
		const struct sample_rec *s = &r->samples[k];
		if (s->t < t0 || s->t > end + 1e-6 || s->s.actual < 0)
			continue;
		double a = (double)s->s.actual;
		lo = a < lo ? a : lo;
		hi = a > hi ? a : hi;
		fin = a;
		if (m->converge_s < 0 && fabs(a - target) <= tol)
			m->converge_s = s->t - start;
	}
	m->final_actual = fin;
	m->final_error = fin - target;
	m->overshoot = target < a0 ? (target - lo > 0 ? target - lo : 0) :
		       (hi - target > 0 ? hi - target : 0);
	double moved_t = m->converge_s > 0 ? m->converge_s : end - start;
	double moved = m->converge_s >= 0 ? target - a0 : fin - a0;
	m->rate_mibs = moved_t > 0 ? fabs(moved) / MIB / moved_t : 0;
}

