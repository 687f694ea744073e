// SPDX-License-Identifier: GPL-2.0-only
/*
 * policy.c - a step's host policy and workload trace.  The policy
 * (core/tb_policy_host.c, the same on every backend) decides a target
 * once a period from the guest's figures -- the agent's last stats
 * (MemAvailable, MemFree) and the reservation in force when they were
 * read -- and every decision goes to events.log (POLICY: what it read,
 * what it set, why) and policy.tsv.  The trace allocates and frees
 * chunks of anonymous memory through the agent over time.  Then the
 * policy's figures for the step: time outside its window, oscillation
 * cycles of its target, stuck declarations.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* The reservation in force at @t: the last value recorded by then. */
static int64_t reservation_at(struct run *r, double t)
{
	for (size_t k = r->nchanges; k-- > 0; )
		if (r->changes[k].t <= t + 1e-6)
			return r->changes[k].actual;
	return r->last_actual;
}

/* The available memory the step's policy wants: free-window's bounds,
 * pi's set point +- the tolerance; false for squeeze (none). */
static bool policy_window(struct run *r, int i, double *lo, double *hi)
{
	const struct tb_hp_params *p = &r->p->steps[i].policy;

	if (p->kind == TB_HP_FREE_WINDOW) {
		*lo = (double)p->low;
		*hi = (double)p->high;
		return true;
	}
	if (p->kind == TB_HP_PI) {
		*lo = (double)p->setpoint - (double)r->p->tolerance;
		*hi = (double)p->setpoint + (double)r->p->tolerance;
		return true;
	}
	return false;
}

static void record(struct run *r, int i, const struct tb_hp_figures *f,
		   const struct tb_hp_decision *d, const char *src)
{
	struct step_policy *sp = &r->pol[i];
	static const char *const act[] = { "wait", "hold", "set" };

	sp->recs = grow(sp->recs, &sp->cap, sp->nrecs, sizeof(*sp->recs));
	sp->recs[sp->nrecs++] = (struct policy_rec){
		.t = f->now_ms / 1000.0, .avail = f->avail,
		.reservation = f->reservation, .target = d->target,
		.set = d->action == TB_HP_SET, .stuck = d->stuck,
		.age = f->figures_ms ? ((double)f->now_ms -
					(double)f->figures_ms) / 1000.0 : -1,
		.device = !strcmp(src, "device"),
	};
	if (d->stuck && !sp->stuck_t)
		sp->stuck_t = f->now_ms / 1000.0;
	if (!r->policy_tsv) {
		if (r->policy_failed)
			return;
		if (!(r->policy_tsv = open_part_or_fail(r, "policy.tsv"))) {
			r->policy_failed = true;
			return;
		}
		fprintf(r->policy_tsv, "# scenario %s, backend %s; each host "
			"policy decision: the guest's figures it read (MiB, "
			"'-' unknown), the target after it, why, whose figures "
			"(device: the driver's guest-stats reports; agent)\n",
			r->p->name,
			r->be.ops->name);
		fputs("time_s\tstep\tpolicy\tfigures_age_s\tavail_mib\t"
		      "free_mib\treservation_mib\ttarget_mib\twindow_lo_mib\t"
		      "window_hi_mib\taction\treason\tfigures\n", r->policy_tsv);
	}
	double lo, hi;
	fprintf(r->policy_tsv, "%.3f\t%d\t%s", f->now_ms / 1000.0, i + 1,
		tb_hp_kind_name(r->p->steps[i].policy.kind));
	if (f->figures_ms)
		fprintf(r->policy_tsv, "\t%.3f",
			(f->now_ms - f->figures_ms) / 1000.0);
	else
		fputs("\t-", r->policy_tsv);
	int64_t v[] = { f->avail, f->free, f->reservation };
	for (size_t k = 0; k < 3; k++)
		if (v[k] < 0)
			fputs("\t-", r->policy_tsv);
		else
			fprintf(r->policy_tsv, "\t%.2f", v[k] / MIB);
	fprintf(r->policy_tsv, "\t%.2f", d->target / MIB);
	if (policy_window(r, i, &lo, &hi))
		fprintf(r->policy_tsv, "\t%.2f\t%.2f", lo / MIB, hi / MIB);
	else
		fputs("\t-\t-", r->policy_tsv);
	fprintf(r->policy_tsv, "\t%s%s\t%s\t%s\n", act[d->action], d->stuck ?
		" stuck" : "", d->reason, src);
	flush_whole(r, r->policy_tsv, &r->policy_good, "policy.tsv");
}

void policy_start(struct run *r, int i)
{
	const struct tb_hp_params *p = &r->p->steps[i].policy;
	struct step_policy *sp = &r->pol[i];
	char a[32], b[32], c[32];

	tb_hp_init(&sp->hp, p, r->target, (uint64_t)(now(r) * 1000));
	sp->on = true;
	r->moved = true;
	switch (p->kind) {
	case TB_HP_FREE_WINDOW:
		fmt_size(a, sizeof(a), (double)p->low);
		fmt_size(b, sizeof(b), (double)p->high);
		fmt_size(c, sizeof(c), (double)p->step);
		logev(r, "POLICY", "[%s] free-window starts: available "
		      "between %s and %s, step %s, period %u ms",
		      r->p->steps[i].name, a, b, c, p->period_ms);
		break;
	case TB_HP_PI:
		fmt_size(a, sizeof(a), (double)p->setpoint);
		logev(r, "POLICY", "[%s] pi starts: available set point %s, "
		      "kp %g, ki %g, period %u ms", r->p->steps[i].name, a,
		      p->kp_milli / 1000.0, p->ki_milli / 1000.0,
		      p->period_ms);
		break;
	default:
		fmt_size(a, sizeof(a), (double)p->target);
		logev(r, "POLICY", "[%s] squeeze starts: target %s, stuck "
		      "after %u ms without progress, period %u ms",
		      r->p->steps[i].name, a, p->stuck_ms, p->period_ms);
		break;
	}
	policy_tick(r, i);
}

/*
 * The figures a decision reads (`policy.figures`): the device's last
 * guest-stats report (the driver's, what a hypervisor has), or the
 * agent's last stats (the harness's side channel); auto takes the
 * device's once it has any.  Returns the source's name.
 */
static const char *figures(struct run *r, int i, struct tb_hp_figures *f)
{
	int want = r->p->steps[i].policy_figures;
	bool have;
	double t;

	if (want != PLAN_FIG_AGENT)
		gstats_poll(r);
	if (want == PLAN_FIG_DEVICE ||
	    (want == PLAN_FIG_AUTO && r->gs.have)) {
		have = r->gs.have;
		t = r->gs.t;
		f->avail = have ? r->gs.v[TB_GS_AVAILABLE] : -1;
		f->free = have ? r->gs.v[TB_GS_FREE] : -1;
	} else {
		int64_t avail = be_kv(r->stats, "memavail_kb");
		int64_t fr = be_kv(r->stats, "memfree_kb");

		have = r->stats[0] != 0;
		t = r->stats_t;
		f->avail = avail < 0 ? -1 : avail * 1024;
		f->free = fr < 0 ? -1 : fr * 1024;
		want = PLAN_FIG_AGENT;
	}
	/* the clock's 0 is "never": a report at 0 s counts from 1 ms */
	f->figures_ms = have ? (uint64_t)(t * 1000) + (t < 0.001) : 0;
	f->reservation = have ? reservation_at(r, t) : r->last_actual;
	return want == PLAN_FIG_AGENT ? "agent" : "device";
}

void policy_tick(struct run *r, int i)
{
	struct step_policy *sp = &r->pol[i];
	struct tb_hp_figures f;
	struct tb_hp_decision d;
	const char *src;

	if (!sp->on || r->error_kind)
		return;
	f.now_ms = (uint64_t)(now(r) * 1000);
	src = figures(r, i, &f);
	tb_hp_decide(&sp->hp, &f, &d);
	if (d.action == TB_HP_WAIT)
		return;
	char a[32] = "?", b[32] = "?", age[64];
	snprintf(age, sizeof(age), "no %s figures yet", src);
	if (f.avail >= 0)
		snprintf(a, sizeof(a), "%.1f MiB", f.avail / MIB);
	if (f.free >= 0)
		snprintf(b, sizeof(b), "%.1f MiB", f.free / MIB);
	if (f.figures_ms)
		snprintf(age, sizeof(age), "%s figures %.2f s old", src,
			 ((double)f.now_ms - (double)f.figures_ms) / 1000.0);
	logev(r, "POLICY", "[%s] read available %s, free %s, reservation "
	      "%.1f MiB (%s); %s target %.1f MiB: %s", r->p->steps[i].name,
	      a, b, f.reservation / MIB, age,
	      d.action == TB_HP_SET ? "set" : "hold", d.target / MIB,
	      d.reason);
	record(r, i, &f, &d, src);
	if (d.action != TB_HP_SET)
		return;
	logev(r, "TARGET", "%llu (%.1f MiB) policy %s",
	      (unsigned long long)d.target, d.target / MIB,
	      tb_hp_kind_name(sp->hp.p.kind));
	if (r->be.ops->set_target(&r->be, d.target) < 0) {
		run_fail(r, "qmp-error", "%s", r->be.error);
		return;
	}
	r->target = d.target;
}

void policy_stop(struct run *r, int i)
{
	struct step_policy *sp = &r->pol[i];

	if (!sp->on)
		return;
	sp->on = false;
	logev(r, "POLICY", "[%s] stops: %u decisions, %u targets set, %u "
	      "stuck", r->p->steps[i].name, sp->hp.decisions,
	      sp->hp.changes, sp->hp.stuck);
}

/* ---- the workload trace ---- */

/* Chunks the trace should hold at @t seconds into the step. */
static int trace_want(const struct step *st, double t)
{
	int n = (int)(st->trace_peak / st->trace_chunk);
	double per = st->trace_period, ph;

	if (n < 1)
		n = 1;
	switch (st->trace) {
	case TRACE_RAMP:
		ph = t / per;
		return ph >= 1 ? n : (int)(ph * n) + 1;
	case TRACE_SAWTOOTH:
		ph = fmod(t, per) / per;
		return (int)(ph * n) + 1;
	default:	/* triangle: up over a period, down over the next */
		ph = fmod(t, 2 * per) / per;
		return ph < 1 ? (int)(ph * n) + 1 : n - (int)((ph - 1) * n);
	}
}

void trace_tick(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_trace *tr = &r->trace;
	char line[64];

	if (!st->trace || tr->busy || r->error_kind)
		return;
	int want = r->rt[i].done ? 0 : trace_want(st, now(r) -
						  r->rt[i].start);
	if (want > tr->nheld && tr->nheld < TRACE_MAX) {
		snprintf(line, sizeof(line), "alloc %llu",
			 (unsigned long long)st->trace_chunk);
	} else if (want < tr->nheld) {
		snprintf(line, sizeof(line), "free %ld",
			 tr->ids[tr->nheld - 1]);
	} else {
		return;
	}
	tr->busy = true;
	tr->step = i;
	agent_queue(r, line, OWN_TRACE);
	agent_kick(r);
}

void trace_reply(struct run *r, const char *req, const char *text)
{
	struct step_trace *tr = &r->trace;
	const char *id = strstr(text, "id=");

	tr->busy = false;
	if (!strncmp(req, "alloc", 5)) {
		if (!strncmp(text, "ok", 2) && id && tr->nheld < TRACE_MAX)
			tr->ids[tr->nheld++] = strtol(id + 3, NULL, 10);
		tr->allocs++;
	} else {
		if (tr->nheld)
			tr->nheld--;	/* freed, or gone (an OOM kill) */
		tr->frees++;
	}
	if (strncmp(text, "ok", 2))
		logev(r, "TRACE", "[%s] %s: %s", r->p->steps[tr->step].name,
		      req, text);
}

/* The step's trace is over: what it holds is freed, one request each. */
void trace_stop(struct run *r, int i)
{
	if (r->p->steps[i].trace)
		logev(r, "TRACE", "[%s] ends: %d chunks held, %d allocated, "
		      "%d freed", r->p->steps[i].name, r->trace.nheld,
		      r->trace.allocs, r->trace.frees);
}

/* ---- the policy's figures ---- */

/* Swings of @x larger than @thr (a monotone run, with hysteresis);
 * cycles = (swings - 1) / 2: one move and a settle are none, there and
 * back again and there once more is one. */
static int swings(const double *x, size_t n, double thr)
{
	double ext = n ? x[0] : 0;
	int dir = 0, sw = 0;

	for (size_t j = 1; j < n; j++) {
		double d = x[j] - ext;
		if (!dir) {
			if (fabs(d) > thr) {
				dir = d > 0 ? 1 : -1;
				sw = 1;
				ext = x[j];
			}
		} else if (d * dir > 0) {
			ext = x[j];
		} else if (fabs(d) > thr) {
			dir = -dir;
			sw++;
			ext = x[j];
		}
	}
	return sw;
}

void policy_metrics(struct run *r, int i, struct policy_metrics *m)
{
	const struct step *st = &r->p->steps[i];
	const struct step_policy *sp = &r->pol[i];
	const struct tb_hp_params *p = &st->policy;
	double start = r->rt[i].start, end = step_end(r, i), lo, hi;

	memset(m, 0, sizeof(*m));
	m->outside_s = m->stuck_s = m->age_max_s = NAN;
	m->target_cycles = -1;
	if (!st->has_policy || !r->rt[i].started)
		return;
	m->has = true;
	m->decisions = sp->hp.decisions;
	m->changes = sp->hp.changes;
	m->stuck = sp->hp.stuck;
	m->oom_kills = r->guest.oom_kills - r->rt[i].oom_at_start;

	/* MiB*s reclaimed: the balloon's size over the step, sampled. */
	for (size_t k = 0; k < r->nsamples; k++) {
		const struct sample_rec *sm = &r->samples[k];
		if (sm->t < start || sm->t >= end || sm->s.actual < 0)
			continue;
		double nx = k + 1 < r->nsamples ? r->samples[k + 1].t : end;
		nx = nx > end ? end : nx;
		m->reclaimed_mibs += ((double)r->p->memory -
				      (double)sm->s.actual) / MIB *
				     (nx - sm->t);
	}
	for (size_t k = 0; k < sp->nrecs; k++) {
		double a = sp->recs[k].age < 0 ? INFINITY : sp->recs[k].age;

		if (isnan(m->age_max_s) || a > m->age_max_s)
			m->age_max_s = a;
		m->device_figures += sp->recs[k].device;
	}
	if (policy_window(r, i, &lo, &hi)) {
		double out = 0;
		bool any = false;
		for (size_t k = 0; k < r->nsamples; k++) {
			const struct sample_rec *s = &r->samples[k];
			if (s->t < start || s->t >= end || s->avail_kb < 0)
				continue;
			double nx = k + 1 < r->nsamples ? r->samples[k + 1].t :
				    end;
			double av = s->avail_kb * 1024.0;
			nx = nx > end ? end : nx;
			any = true;
			if (av < lo || av > hi)
				out += nx - s->t;
		}
		m->outside_s = any ? out : NAN;
	}

	/* The target's swings: from the one in force at the start. */
	double *x = malloc((sp->nrecs + 1) * sizeof(double));
	size_t n = 0;
	double thr = r->p->cycle_threshold ? (double)r->p->cycle_threshold :
		     CYCLE_BYTES * r->p->scale;
	x[n++] = (double)sp->hp.base;
	for (size_t k = 0; k < sp->nrecs; k++)
		if (sp->recs[k].set)
			x[n++] = (double)sp->recs[k].target;
	int sw = swings(x, n, thr);
	m->target_cycles = sw > 1 ? (sw - 1) / 2 : 0;
	m->swings = sw;
	free(x);

	/* Stuck: from when the reservation last moved by more than the
	 * policy's progress to the declaration. */
	if (sp->stuck_t > 0) {
		int64_t at = reservation_at(r, sp->stuck_t);
		double moved = start;
		for (size_t k = 0; k < r->nchanges; k++) {
			const struct change_rec *c = &r->changes[k];
			if (c->t > sp->stuck_t + 1e-6)
				break;
			if (llabs(c->actual - at) > (int64_t)p->progress)
				moved = k + 1 < r->nchanges ?
					r->changes[k + 1].t : c->t;
		}
		moved = moved < start ? start : moved;
		m->stuck_s = sp->stuck_t - moved;
	}
}

json_t *policy_json(struct run *r, int i)
{
	struct policy_metrics m;

	policy_metrics(r, i, &m);
	if (!m.has)
		return NULL;
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(tb_hp_kind_name(
				r->p->steps[i].policy.kind)));
	json_object_set_new(o, "decisions", json_integer(m.decisions));
	json_object_set_new(o, "targets_set", json_integer(m.changes));
	json_object_set_new(o, "outside_s", isnan(m.outside_s) ? json_null() :
			    json_real(m.outside_s));
	json_object_set_new(o, "target_swings", json_integer(m.swings));
	json_object_set_new(o, "target_cycles", json_integer(m.target_cycles));
	json_object_set_new(o, "stuck", json_integer(m.stuck));
	json_object_set_new(o, "stuck_s", isnan(m.stuck_s) ? json_null() :
			    json_real(m.stuck_s));
	json_object_set_new(o, "figures_age_max_s", isnan(m.age_max_s) ||
			    isinf(m.age_max_s) ? json_null() :
			    json_real(m.age_max_s));
	json_object_set_new(o, "decisions_on_device_figures",
			    json_integer(m.device_figures));
	json_object_set_new(o, "oom_kills", json_integer(m.oom_kills));
	json_object_set_new(o, "reclaimed_mib_s", json_real(m.reclaimed_mibs));
	return o;
}

bool policy_check(struct run *r, int si, const struct expect *e,
		  struct verdict *v)
{
	struct policy_metrics m;
	const char *op = e->cmp == CMP_GE ? ">=" : e->cmp == CMP_LE ? "<=" :
			 "=";
	double have;
	char h[160];

	if (si < 0 || !r->p->steps[si].has_policy) {
		snprintf(v->text, sizeof(v->text), "step has no policy");
		return false;
	}
	policy_metrics(r, si, &m);
	switch (e->kind) {
	case EX_OUTSIDE:
		have = m.outside_s;
		snprintf(h, sizeof(h), "%.1f s outside the window", have);
		break;
	case EX_TARGET_CYCLES:
		have = m.target_cycles;
		snprintf(h, sizeof(h), "%d target cycles (%d swings, %u "
			 "targets set)", m.target_cycles, m.swings, m.changes);
		break;
	case EX_FIGURES_AGE:
		have = m.age_max_s;
		if (isinf(have))
			snprintf(h, sizeof(h), "a decision had no figures "
				 "(%u of %u on the device's)",
				 m.device_figures, m.decisions);
		else
			snprintf(h, sizeof(h), "figures at most %.2f s old "
				 "(%u of %u decisions on the device's)", have,
				 m.device_figures, m.decisions);
		break;
	default:	/* EX_STUCK */
		have = m.stuck_s;
		snprintf(h, sizeof(h), "declared stuck %.1f s after the "
			 "reservation last moved", have);
		break;
	}
	if (isnan(have)) {
		snprintf(v->text, sizeof(v->text), "%s",
			 e->kind == EX_STUCK ? "never declared stuck" :
			 "not defined for this policy (no window or no "
			 "figures)");
		return false;
	}
	if (isinf(have)) {	/* no figures: fails, with nothing measured */
		snprintf(v->text, sizeof(v->text), "%s (want %s %g)", h, op,
			 e->value);
		return false;
	}
	v->measured = have;
	v->has_measured = true;
	snprintf(v->text, sizeof(v->text), "%s (want %s %g)", h, op,
		 e->value);
	return e->cmp == CMP_EQ ? have == e->value : e->cmp == CMP_GE ?
	       have >= e->value : have <= e->value;
}
