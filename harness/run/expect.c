// SPDX-License-Identifier: GPL-2.0-only
/*
 * expect.c - expectations: each one checked against what the run recorded, with a verdict and the measured value.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

static bool text_seen(struct run *r, const char *text, double from)
{
	for (size_t i = 0; i < r->nlines; i++)
		if (r->lines[i].t >= from - 1e-6 &&
		    strstr(r->lines[i].text, text))
			return true;
	return false;
}

static bool cmp_ok(enum cmp c, double have, double want)
{
	return c == CMP_EQ ? have == want : c == CMP_GE ? have >= want :
	       have <= want;
}

static int cmp_sort(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * The first console line showing the guest kernel in trouble, or NULL.
 * "WARNING: CPU:" is WARN()'s header (the driver's own "WARNING: balloon
 * could not reach target" is a diagnostic, not a kernel warning).
 */
static const char *kernel_trouble(struct run *r)
{
	static const char *const marks[] = {
		"WARNING: CPU:", "BUG:", "Oops", "Kernel panic",
		"nobody cared", "soft lockup", "hard LOCKUP",
		"blocked for more than", "general protection fault",
		"rcu_sched detected stall", "rcu_preempt detected stall",
		"UBSAN:", "list_add corruption", "list_del corruption",
		NULL,
	};
	for (size_t i = 0; i < r->nlines; i++)
		for (const char *const *m = marks; *m; m++)
			if (strstr(r->lines[i].text, *m))
				return r->lines[i].text;
	return NULL;
}

/* Does the backend support what this expectation observes? */
static const char *ex_unsupported(struct run *r, const struct expect *e)
{
	struct backend *be = &r->be;
	const char *f = NULL;
	switch (e->kind) {
	case EX_MESSAGE: case EX_NO_MESSAGE: f = "message:"; break;
	case EX_REFUSALS: case EX_PARTIAL: case EX_FALLBACKS:
		f = "counter:";
		break;
	case EX_STAT: f = "stat:"; break;	/* our driver's debugfs names */
	case EX_ACCOUNTING: f = "sysfs"; break;
	default: break;
	}
	if (f && be->ops->supports && !be->ops->supports(be, f))
		return "this backend's driver/device cannot show it";
	return NULL;
}

/* An expectation over one of the step's metrics (run/metrics.c). */
static bool check_metric(struct run *r, int si, const struct expect *e,
			 struct verdict *v)
{
	struct step_metrics m;
	const char *op = e->cmp == CMP_GE ? ">=" : e->cmp == CMP_LE ? "<=" :
			 "=";
	double have, want = e->value;
	char h[64], w[64];

	if (si < 0 || !r->p->steps[si].has_target) {
		snprintf(v->text, sizeof(v->text), "step sets no target");
		return false;
	}
	metrics(r, si, &m);
	switch (e->kind) {
	case EX_TIME_TO_90:
		have = m.t90;
		snprintf(h, sizeof(h), "%.3f s to 90 %% of %.1f MiB", have,
			 fabs(m.achieved) / MIB);
		fmt_time(w, sizeof(w), want);
		break;
	case EX_RATE:
		have = m.rate_mean * MIB;
		want = e->value;
		snprintf(h, sizeof(h), "mean %.1f MiB/s over 10..90 %%",
			 m.rate_mean);
		snprintf(w, sizeof(w), "%.1f MiB/s", want / MIB);
		break;
	case EX_CYCLES:
		have = m.cycles < 0 ? NAN : m.cycles;
		snprintf(h, sizeof(h), "%d drain/refill cycles", m.cycles);
		snprintf(w, sizeof(w), "%.0f", want);
		break;
	case EX_BAND:
		have = m.band;
		snprintf(h, sizeof(h), "band %.1f MiB from the first stop "
			 "(at %.1f MiB)", have / MIB, m.stall / MIB);
		fmt_size(w, sizeof(w), want);
		break;
	case EX_OVERSHOOT:
		have = m.over;
		snprintf(h, sizeof(h), "%.1f MiB past the target", have / MIB);
		fmt_size(w, sizeof(w), want);
		break;
	default:	/* EX_RSS_RETURNED */
		have = m.rss_returned;
		snprintf(h, sizeof(h), "host RSS returned %.3f per MiB "
			 "ballooned", have);
		snprintf(w, sizeof(w), "%g", want);
		break;
	}
	if (isnan(have)) {
		snprintf(v->text, sizeof(v->text), "not defined for this step "
			 "(change asked %.1f MiB, achieved %.1f MiB%s)",
			 m.asked / MIB, isnan(m.achieved) ? 0 :
			 m.achieved / MIB, e->kind == EX_RSS_RETURNED ?
			 ", or RSS unknown" : "");
		return false;
	}
	v->measured = have;
	v->has_measured = true;
	snprintf(v->text, sizeof(v->text), "%s (want %s %s)", h, op, w);
	return cmp_ok(e->cmp, have, want);
}

void check(struct run *r, int si, const struct expect *e,
		  struct verdict *v)
{
	const struct step_rt *rt = si >= 0 ? &r->rt[si] : NULL;
	const struct step *st = si >= 0 ? &r->p->steps[si] : NULL;
	double start = rt ? rt->start : 0;
	double end = rt ? step_end(r, si) : now(r);
	const struct sample_rec *s_end = sample_at(r, end), *s0;
	char a[64], b[64];
	bool ok = false;

	memset(v, 0, sizeof(*v));
	const char *why = ex_unsupported(r, e);
	if (rt && rt->skipped)
		why = rt->skip_reason;
	if (why) {
		v->result = "skipped";
		snprintf(v->text, sizeof(v->text), "%s", why);
		return;
	}
	if (rt && !rt->started) {
		v->result = "fail";
		snprintf(v->text, sizeof(v->text), "step never started");
		return;
	}
	s0 = rt ? &rt->at_start : (r->nsamples ? &r->samples[0] : NULL);

	switch (e->kind) {
	case EX_CONVERGED: {
		struct step_metrics m;
		if (!st || !st->has_target) {
			snprintf(v->text, sizeof(v->text), "step sets no "
				 "target");
			break;
		}
		/* This expectation's own tolerance decides convergence. */
		double tol = e->tol, target = (double)st->target;
		double when = converge_time(r, si, target, tol);
		metrics(r, si, &m);
		if (when < 0) {
			fmt_size(a, sizeof(a), fabs(m.final_error));
			snprintf(v->text, sizeof(v->text), "not converged: "
				 "final error %s%s", m.final_error < 0 ? "-" :
				 "", a);
		} else {
			v->measured = when;
			v->has_measured = true;
			ok = when <= e->value;
			snprintf(v->text, sizeof(v->text), "converged in "
				 "%.1f s", when);
		}
		break;
	}
	case EX_RESERVATION:
	case EX_BALLOON: {
		if (!s_end || s_end->s.actual < 0) {
			snprintf(v->text, sizeof(v->text), "no sample");
			break;
		}
		double have = (double)s_end->s.actual;
		if (e->kind == EX_BALLOON)
			have = (double)r->p->memory - have;
		v->measured = have;
		v->has_measured = true;
		ok = fabs(have - e->value) <= e->tol;
		snprintf(v->text, sizeof(v->text), "%.1f MiB (want %.1f ± "
			 "%.1f MiB)", have / MIB, e->value / MIB,
			 e->tol / MIB);
		break;
	}
	case EX_NEVER_BELOW: {
		double lo = INFINITY;
		for (size_t k = 0; k < r->nsamples; k++) {
			const struct sample_rec *s = &r->samples[k];
			if (s->t >= start && s->t <= end + 1e-6 &&
			    s->s.actual >= 0 && s->s.actual < lo)
				lo = (double)s->s.actual;
		}
		if (!isfinite(lo)) {
			snprintf(v->text, sizeof(v->text), "no sample");
			break;
		}
		v->measured = lo;
		v->has_measured = true;
		ok = lo >= e->value - e->tol;
		snprintf(v->text, sizeof(v->text), "lowest reservation %.1f "
			 "MiB", lo / MIB);
		break;
	}
	case EX_MESSAGE:
	case EX_NO_MESSAGE: {
		bool seen = text_seen(r, e->text, start);
		ok = seen == (e->kind == EX_MESSAGE);
		v->measured = seen;
		v->has_measured = true;
		snprintf(v->text, sizeof(v->text), "\"%.200s\" %s", e->text,
			 seen ? "seen" : "not seen");
		break;
	}
	case EX_OOM: {
		double n = (double)(r->guest.oom_kills -
				    (rt ? rt->oom_at_start : 0));
		v->measured = n;
		v->has_measured = true;
		ok = cmp_ok(e->cmp, n, e->value);
		snprintf(v->text, sizeof(v->text), "%.0f OOM kill(s)", n);
		break;
	}
	case EX_SURVIVES:
		if (!rt || rt->workload_id <= 0) {
			snprintf(v->text, sizeof(v->text), "step started no "
				 "workload (reply '%s')", rt ? rt->reply : "");
			break;
		}
		ok = !rt->died;
		v->measured = ok;
		v->has_measured = true;
		snprintf(v->text, sizeof(v->text), "workload id=%ld %s",
			 rt->workload_id, rt->died ? rt->died_how : "alive");
		break;
	case EX_RSS_DROP: {
		if (!s0 || !s_end || s0->s.host_rss < 0 ||
		    s_end->s.host_rss < 0) {
			snprintf(v->text, sizeof(v->text), "RSS unknown");
			break;
		}
		double d = (double)(s0->s.host_rss - s_end->s.host_rss);
		v->measured = d;
		v->has_measured = true;
		ok = d >= e->value;
		snprintf(v->text, sizeof(v->text), "host RSS %.1f -> %.1f MiB "
			 "(dropped %.1f MiB)", s0->s.host_rss / MIB,
			 s_end->s.host_rss / MIB, d / MIB);
		break;
	}
	case EX_RSS_NEAR: {
		/* QEMU's RSS at this step's end against its RSS at the end
		 * of the named earlier step: the same host memory held. */
		const struct sample_rec *ref = NULL;
		for (int k = 0; k < r->p->nsteps; k++)
			if (k != si && r->rt[k].started &&
			    !strcmp(r->p->steps[k].name, e->text))
				ref = sample_at(r, step_end(r, k));
		if (!ref || !s_end || ref->s.host_rss < 0 ||
		    s_end->s.host_rss < 0) {
			snprintf(v->text, sizeof(v->text), "RSS unknown (here "
				 "or at the end of [%s])", e->text);
			break;
		}
		double d = (double)(s_end->s.host_rss - ref->s.host_rss);
		v->measured = d;
		v->has_measured = true;
		ok = fabs(d) <= e->tol;
		snprintf(v->text, sizeof(v->text), "host RSS %.1f MiB, %+.1f "
			 "MiB from %.1f MiB at the end of [%s] (want ± %.1f "
			 "MiB)", s_end->s.host_rss / MIB, d / MIB,
			 ref->s.host_rss / MIB, e->text, e->tol / MIB);
		break;
	}
	case EX_REFUSALS:
	case EX_PARTIAL:
	case EX_FALLBACKS: {
		/* Counters may be on the device (sample) or the driver. */
		const struct sample_rec *last = sample_at(r, end);
		int64_t h0, h1;
		if (!last || !s0) {
			snprintf(v->text, sizeof(v->text), "no sample");
			break;
		}
		if (e->kind == EX_REFUSALS) {
			h0 = s0->s.refusals;
			h1 = last->s.refusals;
		} else if (e->kind == EX_PARTIAL) {
			h0 = s0->s.partial_grants;
			h1 = last->s.partial_grants;
		} else {
			h0 = s0->s.fallbacks;
			h1 = last->s.fallbacks;
			/* The driver's count comes from the agent's stats;
			 * the final stats are the freshest. */
			int64_t f = kv_any(r->final_stats, fallback_keys);
			if (si < 0 || si == r->p->nsteps - 1)
				h1 = f > h1 ? f : h1;
		}
		if (h1 < 0) {
			snprintf(v->text, sizeof(v->text), "counter not "
				 "reported");
			break;
		}
		double n = (double)(h1 - (h0 > 0 ? h0 : 0));
		v->measured = n;
		v->has_measured = true;
		ok = cmp_ok(e->cmp, n, e->value);
		snprintf(v->text, sizeof(v->text), "%.0f counted", n);
		break;
	}
	case EX_REPLY:
		ok = rt && !strncmp(rt->reply, e->text, strlen(e->text));
		snprintf(v->text, sizeof(v->text), "reply '%.200s'",
			 rt && rt->reply[0] ? rt->reply : "(none)");
		break;
	case EX_ACCOUNTING: {
		/*
		 * Three books must agree at the end.  Device and driver
		 * exactly: the device's reservation (query-balloon) and the
		 * driver's current, the device's balloon pages and the
		 * driver's.  The guest within the tolerance: a ballooned page
		 * is not free, so MemFree + per-CPU free lists + balloon
		 * stays what it was before the first target (the scenario
		 * needs a quiet step first and no workload; kernel
		 * allocations move it a little).
		 */
		const char *fs = r->final_stats, *f0 = r->first_stats;
		int64_t cur = be_kv(fs, "current_kb");
		/* The driver's debugfs says the same in pages. */
		if (cur < 0 && be_kv(fs, "current_pages") >= 0)
			cur = be_kv(fs, "current_pages") * 4;
		const struct sample_rec *last = r->nsamples ?
			&r->samples[r->nsamples - 1] : NULL;
		if (!r->final_stats_ok || cur < 0 || !last ||
		    last->s.actual < 0) {
			snprintf(v->text, sizeof(v->text), "final stats "
				 "missing (agent reply '%.100s')", fs);
			break;
		}
		double dev = (double)last->s.actual, drv = cur * 1024.0;
		int64_t bd = be_kv(fs, "device_balloon_pages");
		int64_t bg = be_kv(fs, "balloon_pages");
		int64_t m0 = be_kv(f0, "memfree_kb"), m1 = be_kv(fs,
			"memfree_kb");
		int64_t b0 = be_kv(f0, "balloon_pages");
		/* Free pages on the per-CPU lists are free too, though
		 * MemFree leaves them out (an agent without pcp_kb: 0). */
		int64_t p0 = be_kv(f0, "pcp_kb"), p1 = be_kv(fs, "pcp_kb");
		bool pages_ok = bd < 0 || bg < 0 || bd == bg;
		/* A driver that took the guest's own memory for the device's
		 * overstated BOOT_PAGES counts its reservation from there:
		 * only the balloons can agree, and must be known. */
		bool clamped = be_kv(fs, "boot_pages_clamped") > 0;
		if (clamped)
			pages_ok = bd >= 0 && bg >= 0 && bd == bg;
		double guest = -1;
		if (m0 >= 0 && m1 >= 0 && b0 >= 0 && bg >= 0)
			guest = fabs((double)((m1 + (p1 > 0 ? p1 : 0) + bg * 4) -
					      (m0 + (p0 > 0 ? p0 : 0) + b0 * 4)))
				* 1024.0;
		v->measured = fabs(dev - drv);
		if (guest > v->measured)
			v->measured = guest;
		v->has_measured = true;
		ok = (dev == drv || clamped) && pages_ok && guest <= e->tol;
		char g[64] = "unknown";
		if (guest >= 0)
			snprintf(g, sizeof(g), "%.1f MiB", guest / MIB);
		snprintf(v->text, sizeof(v->text), "reservation: device %.1f "
			 "MiB, driver %.1f MiB; balloon pages: device %lld, "
			 "driver %lld; guest MemFree+pcp+balloon moved %s "
			 "(MemTotal %.1f MiB)", dev / MIB, drv / MIB,
			 (long long)bd, (long long)bg, g,
			 be_kv(fs, "memtotal_kb") / 1024.0);
		if (clamped)
			snprintf(v->text + strlen(v->text),
				 sizeof(v->text) - strlen(v->text),
				 "; the driver clamped BOOT_PAGES: balloons "
				 "compared, not reservations");
		if (guest < 0 && ok) {
			ok = false;
			snprintf(v->text + strlen(v->text),
				 sizeof(v->text) - strlen(v->text),
				 ": no MemFree/balloon pages in the stats%s",
				 f0[0] ? "" : " before the first target (add "
				 "a step that holds before it)");
		}
		break;
	}
	case EX_CHANGE_INTERVAL: {
		double *iv = calloc(r->nchanges + 1, sizeof(double));
		size_t n = 0;
		for (size_t k = 1; k < r->nchanges; k++)
			if (r->changes[k - 1].t >= start &&
			    r->changes[k].t <= end + 1e-6)
				iv[n++] = r->changes[k].t -
					  r->changes[k - 1].t;
		if (n < 3) {
			snprintf(v->text, sizeof(v->text), "only %zu changes "
				 "seen", n + (n > 0));
			free(iv);
			break;
		}
		qsort(iv, n, sizeof(double), cmp_sort);
		v->measured = iv[n / 2];
		v->has_measured = true;
		ok = fabs(v->measured - e->value) <= e->tol;
		fmt_time(a, sizeof(a), e->value);
		snprintf(v->text, sizeof(v->text), "median %.3f s between %zu "
			 "changes (want %s)", v->measured, n + 1, a);
		free(iv);
		break;
	}
	case EX_HEALTHY: {
		/* Alive is not enough: the kernel must not have complained
		 * either (oops=panic makes an Oops end the run anyway). */
		const char *bad = kernel_trouble(r);
		ok = r->ping_ok && !bad;
		v->measured = ok;
		v->has_measured = true;
		snprintf(v->text, sizeof(v->text), "final ping %s; %s%.200s%s",
			 r->ping_ok ? "answered" : "not answered",
			 bad ? "kernel: \"" : "no kernel warning", bad ? bad : "",
			 bad ? "\"" : "");
		break;
	}
	case EX_STAT: {
		/* The driver's debugfs counter, as the agent's stats spell
		 * it ("bad replies" -> bad_replies), at the step's end. */
		char key[64];
		size_t k = 0;
		for (const char *q = e->text; *q && k < sizeof(key) - 1; q++)
			key[k++] = *q == ' ' ? '_' : *q;
		key[k] = 0;
		const char *fs = !rt || si == r->p->nsteps - 1 ?
				 r->final_stats : rt->stats_end;
		int64_t n = be_kv(fs, key);
		if (n < 0) {
			snprintf(v->text, sizeof(v->text), "driver stat '%s' "
				 "not reported (driver gone?)", e->text);
			break;
		}
		v->measured = (double)n;
		v->has_measured = true;
		ok = cmp_ok(e->cmp, (double)n, e->value);
		snprintf(v->text, sizeof(v->text), "%s = %lld", e->text,
			 (long long)n);
		break;
	}
	default:
		if (expect_is_metric(e->kind))
			ok = check_metric(r, si, e, v);
		else if (expect_is_policy(e->kind))
			ok = policy_check(r, si, e, v);
		break;
	}
	(void)b;
	v->result = ok ? "pass" : "fail";
}

