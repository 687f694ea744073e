// SPDX-License-Identifier: GPL-2.0-only
/*
 * run_check.c - after the run: per-step metrics, expectations, summary.json,
 * steps.tsv, plots.  Included by run.c (it shares struct run).
 */

struct verdict {
	const char *result;	/* "pass", "fail", "skipped" */
	double measured;
	bool has_measured;
	char text[300];		/* measured value / why, for people */
};

struct step_metrics {
	bool has;		/* the step set a target */
	double converge_s;	/* -1: never */
	double rate_mibs;
	double overshoot;	/* bytes */
	double final_error;	/* bytes, reservation - target (clipped to
				   boot memory, as the guest clips it) */
	double final_actual;
};

static const struct sample_rec *sample_at(struct run *r, double t)
{
	const struct sample_rec *best = NULL;
	for (size_t i = 0; i < r->nsamples; i++)
		if (r->samples[i].t <= t + 1e-6)
			best = &r->samples[i];
	return best;
}

static double step_end(struct run *r, int i)
{
	return r->rt[i].end > 0 ? r->rt[i].end : now(r);
}

static void metrics(struct run *r, int i, struct step_metrics *m)
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

static void check(struct run *r, int si, const struct expect *e,
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
		double when = -1;
		/* Already there at the step's start: the runner may end the
		 * step before another sample is taken. */
		if (rt->at_start.s.actual >= 0 &&
		    fabs((double)rt->at_start.s.actual - target) <= tol)
			when = 0;
		for (size_t k = 0; when < 0 && k < r->nsamples; k++) {
			const struct sample_rec *s = &r->samples[k];
			if (s->t < start || s->t > end + 1e-6)
				continue;
			if (fabs((double)s->s.actual - target) <= tol) {
				when = s->t - start;
				break;
			}
		}
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
		double n = (double)(r->oom_console -
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
		 * is not free, so MemFree + balloon stays what it was before
		 * the first target (the scenario needs a quiet step first and
		 * no workload; per-CPU lists and kernel allocations move it a
		 * little).
		 */
		const char *fs = r->final_stats, *f0 = r->first_stats;
		int64_t cur = kv_get(fs, "current_kb");
		/* The driver's debugfs says the same in pages. */
		if (cur < 0 && kv_get(fs, "current_pages") >= 0)
			cur = kv_get(fs, "current_pages") * 4;
		const struct sample_rec *last = r->nsamples ?
			&r->samples[r->nsamples - 1] : NULL;
		if (!r->final_stats_ok || cur < 0 || !last ||
		    last->s.actual < 0) {
			snprintf(v->text, sizeof(v->text), "final stats "
				 "missing (agent reply '%.100s')", fs);
			break;
		}
		double dev = (double)last->s.actual, drv = cur * 1024.0;
		int64_t bd = kv_get(fs, "device_balloon_pages");
		int64_t bg = kv_get(fs, "balloon_pages");
		int64_t m0 = kv_get(f0, "memfree_kb"), m1 = kv_get(fs,
			"memfree_kb");
		int64_t b0 = kv_get(f0, "balloon_pages");
		bool pages_ok = bd < 0 || bg < 0 || bd == bg;
		double guest = -1;
		if (m0 >= 0 && m1 >= 0 && b0 >= 0 && bg >= 0)
			guest = fabs((double)((m1 + bg * 4) - (m0 + b0 * 4)))
				* 1024.0;
		v->measured = fabs(dev - drv);
		if (guest > v->measured)
			v->measured = guest;
		v->has_measured = true;
		ok = dev == drv && pages_ok && guest <= e->tol;
		char g[64] = "unknown";
		if (guest >= 0)
			snprintf(g, sizeof(g), "%.1f MiB", guest / MIB);
		snprintf(v->text, sizeof(v->text), "reservation: device %.1f "
			 "MiB, driver %.1f MiB; balloon pages: device %lld, "
			 "driver %lld; guest MemFree+balloon moved %s "
			 "(MemTotal %.1f MiB)", dev / MIB, drv / MIB,
			 (long long)bd, (long long)bg, g,
			 kv_get(fs, "memtotal_kb") / 1024.0);
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
			if (r->changes[k - 1] >= start &&
			    r->changes[k] <= end + 1e-6)
				iv[n++] = r->changes[k] - r->changes[k - 1];
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
		int64_t n = kv_get(fs, key);
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
		break;
	}
	(void)b;
	v->result = ok ? "pass" : "fail";
}

static json_t *jnum_or_null(bool has, double v)
{
	return has ? json_real(v) : json_null();
}

static json_t *expect_json(const struct expect *e, const struct verdict *v)
{
	json_t *j = json_object();
	json_object_set_new(j, "key", json_string(e->key));
	json_object_set_new(j, "where", json_sprintf("%s:%d", e->from.file,
						     e->from.line));
	if (e->text[0])
		json_object_set_new(j, "want", json_string(e->text));
	else
		json_object_set_new(j, "want", json_real(e->value));
	json_object_set_new(j, "tolerance", json_real(e->tol));
	if (e->tol_name[0])
		json_object_set_new(j, "tolerance_name",
				    json_string(e->tol_name));
	json_object_set_new(j, "measured", jnum_or_null(v->has_measured,
							v->measured));
	json_object_set_new(j, "detail", json_string(v->text));
	json_object_set_new(j, "verdict", json_string(v->result));
	return j;
}

static json_t *settings_json(const struct plan *p)
{
	json_t *j = json_object(), *o;
	json_object_set_new(j, "memory", json_integer((json_int_t)p->memory));
	json_object_set_new(j, "vcpus", json_integer(p->vcpus));
	json_object_set_new(j, "cmdline", json_string(p->cmdline));
	json_object_set_new(j, "sample_s", json_real(p->sample));
	json_object_set_new(j, "time_limit_s", json_real(p->time_limit));
	json_object_set_new(j, "boot_timeout_s", json_real(p->boot_timeout));
	json_object_set_new(j, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(j, "scale", json_real(p->scale));
	json_object_set_new(j, "ci", json_boolean(p->ci));
	json_object_set_new(j, "tolerance",
			    json_integer((json_int_t)p->tolerance));
	o = json_object();
	for (int i = 0; i < p->nprops; i++)
		json_object_set_new(o, p->props[i].key,
				    json_string(p->props[i].value));
	json_object_set_new(j, "device", o);
	o = json_object();
	for (int i = 0; i < p->ndparams; i++)
		json_object_set_new(o, p->dparams[i].key,
				    json_string(p->dparams[i].value));
	json_object_set_new(j, "driver", o);
	o = json_object();
	for (int i = 0; i < p->ntolerances; i++)
		json_object_set_new(o, p->tolerances[i].key,
				    json_string(p->tolerances[i].value));
	json_object_set_new(j, "tolerances", o);
	return j;
}

static void run_plot(struct run *r)
{
	const struct harness_paths *hp = harness_paths();
	char cmd[PATH_MAX * 2];
	if (!hp->plot || access(hp->plot, R_OK))
		return;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >'%s/plot.log' 2>&1",
		 hp->plot, r->dir, r->dir);
	if (system(cmd))
		say(r, "harness: plotting failed, see %s/plot.log", r->dir);
}

static int finish(struct run *r)
{
	const struct plan *p = r->p;
	json_t *sum = json_object(), *steps = json_array(),
	       *exps = json_array();
	int npass = 0, nfail = 0, nskip = 0;
	char path[PATH_MAX], tmp[PATH_MAX];
	struct verdict v;
	double worst_conv = -1, final_err = 0;
	bool have_err = false;

	/* Step marks for the plots. */
	FILE *sf = open_part(r, "steps.tsv");
	if (sf) {
		fprintf(sf, "time_s\tstep\tname\n");
		if (r->ready)
			fprintf(sf, "%.3f\t0\tready\n", r->ready_t);
		for (int i = 0; i < p->nsteps; i++)
			if (r->rt[i].started)
				fprintf(sf, "%.3f\t%d\t%s\n", r->rt[i].start,
					i + 1, p->steps[i].name);
		/* OOM kills seen on the console: marked like steps. */
		for (int i = 0; i < r->oom_console && i < 16; i++)
			if (r->oom_t[i] > 0)
				fprintf(sf, "%.3f\t-\tOOM kill\n",
					r->oom_t[i]);
		close_part(r, &sf, "steps.tsv");
	}

	for (int i = -1; i < p->nsteps; i++) {
		const struct expect *ex = i < 0 ? p->expects :
					  p->steps[i].expects;
		int n = i < 0 ? p->nexpects : p->steps[i].nexpects;
		json_t *sj = NULL, *sx = json_array();
		if (i >= 0) {
			struct step_metrics m;
			const struct step_rt *rt = &r->rt[i];
			metrics(r, i, &m);
			sj = json_object();
			json_object_set_new(sj, "name",
					    json_string(p->steps[i].name));
			json_object_set_new(sj, "started",
					    json_boolean(rt->started));
			json_object_set_new(sj, "skipped",
					    json_boolean(rt->skipped));
			if (rt->skipped)
				json_object_set_new(sj, "skip_reason",
					json_string(rt->skip_reason));
			json_object_set_new(sj, "start_s", rt->started ?
				json_real(rt->start) : json_null());
			json_object_set_new(sj, "end_s", rt->started ?
				json_real(step_end(r, i)) : json_null());
			if (p->steps[i].has_target) {
				json_object_set_new(sj, "target",
					json_integer((json_int_t)
						     p->steps[i].target));
				json_object_set_new(sj, "convergence_s",
					m.converge_s >= 0 ?
					json_real(m.converge_s) : json_null());
				json_object_set_new(sj, "rate_mibs",
					json_real(m.rate_mibs));
				json_object_set_new(sj, "overshoot",
					json_real(m.overshoot));
				json_object_set_new(sj, "final_error",
					json_real(m.final_error));
				if (m.has && rt->started) {
					if (m.converge_s > worst_conv)
						worst_conv = m.converge_s;
					final_err = m.final_error;
					have_err = true;
				}
			}
			if (rt->reply[0])
				json_object_set_new(sj, "agent_reply",
						    json_string(rt->reply));
		}
		for (int k = 0; k < n; k++) {
			check(r, i, &ex[k], &v);
			if (!strcmp(v.result, "pass"))
				npass++;
			else if (!strcmp(v.result, "fail"))
				nfail++;
			else
				nskip++;
			logev(r, "EXPECT", "[%s] %s: %s (%s)", i < 0 ?
			      "global" : p->steps[i].name, ex[k].key,
			      v.result, v.text);
			json_t *ej = expect_json(&ex[k], &v);
			json_object_set_new(ej, "step", json_string(i < 0 ?
				"global" : p->steps[i].name));
			json_array_append(exps, ej);
			json_array_append_new(sx, ej);
			say(r, "  %-7s [%s] %s: %s", v.result, i < 0 ?
			    "global" : p->steps[i].name, ex[k].key, v.text);
		}
		if (sj) {
			json_object_set_new(sj, "expectations", sx);
			json_array_append_new(steps, sj);
		} else {
			json_decref(sx);
		}
	}

	const char *verdict = r->error_kind ? "error" : nfail ? "fail" :
			      "pass";
	int status = r->error_kind ? 2 : nfail ? 1 : 0;
	logev(r, "VERDICT", "%s%s%s", verdict, r->error_kind ? ": " : "",
	      r->error_kind ? r->error : "");

	json_object_set_new(sum, "scenario", json_string(p->name));
	json_object_set_new(sum, "file", json_string(p->file));
	json_object_set_new(sum, "description", json_string(p->description));
	json_object_set_new(sum, "backend", json_string(r->be.ops->name));
	json_object_set_new(sum, "accel", json_string(r->be.accel));
	json_object_set_new(sum, "host_version",
			    json_string(r->be.host_version));
	json_object_set_new(sum, "guest_kernel", json_string(r->kernel));
	json_object_set_new(sum, "kernel_cmdline",
			    json_string(r->guest_cmdline[0] ?
					r->guest_cmdline :
					r->be.kernel_cmdline));
	json_object_set_new(sum, "kernel_cmdline_source",
			    json_string(r->guest_cmdline[0] ?
					"guest /proc/cmdline" :
					"as passed by the harness"));
	json_object_set_new(sum, "settings", settings_json(p));
	json_object_set_new(sum, "ready_s", r->ready ?
			    json_real(r->ready_t) : json_null());
	json_object_set_new(sum, "duration_s", json_real(now(r)));
	json_object_set_new(sum, "oom_kills",
			    json_integer(r->oom_console));
	json_object_set_new(sum, "steps", steps);
	json_object_set_new(sum, "expectations", exps);
	json_object_set_new(sum, "passed", json_integer(npass));
	json_object_set_new(sum, "failed", json_integer(nfail));
	json_object_set_new(sum, "skipped", json_integer(nskip));
	json_object_set_new(sum, "convergence_s", worst_conv >= 0 ?
			    json_real(worst_conv) : json_null());
	json_object_set_new(sum, "final_error", have_err ?
			    json_real(final_err) : json_null());
	json_object_set_new(sum, "verdict", json_string(verdict));
	/* complete: the run played its timeline to the end; false when it
	 * was cut short (interrupted, QEMU died, disk full, ...). */
	json_object_set_new(sum, "complete", json_boolean(!r->error_kind));
	json_object_set_new(sum, "error_kind", r->error_kind ?
			    json_string(r->error_kind) : json_null());
	json_object_set_new(sum, "error", json_string(r->error));

	close_part(r, &r->curve, "curve.tsv");
	close_part(r, &r->console, "console.log");
	logev(r, "END", "%d passed, %d failed, %d skipped", npass, nfail,
	      nskip);
	close_part(r, &r->events, "events.log");
	if (r->error_kind && strcmp(verdict, "error")) {
		/* A log the disk refused at the very end: not complete. */
		json_object_set_new(sum, "verdict", json_string("error"));
		json_object_set_new(sum, "error_kind",
				    json_string(r->error_kind));
		json_object_set_new(sum, "error", json_string(r->error));
		json_object_set_new(sum, "complete", json_false());
		status = 2;
	}

	/* summary.json last: its presence means the run directory is whole
	 * (its "complete" says whether the run was).  Written into the
	 * space reserved at the start, so a full disk still gets it. */
	snprintf(tmp, sizeof(tmp), "%s/summary.json.part", r->dir);
	snprintf(path, sizeof(path), "%s/summary.json", r->dir);
	char *text = json_dumps(sum, JSON_INDENT(2) | JSON_SORT_KEYS |
				JSON_REAL_PRECISION(10));
	size_t len = text ? strlen(text) : 0;
	bool written = text && r->summary_fd >= 0;
	for (size_t off = 0; written && off < len; ) {
		ssize_t w = pwrite(r->summary_fd, text + off, len - off,
				   (off_t)off);
		if (w <= 0)
			written = false;
		else
			off += (size_t)w;
	}
	written = written && pwrite(r->summary_fd, "\n", 1, (off_t)len) == 1
		  && !ftruncate(r->summary_fd, (off_t)len + 1) &&
		  !fsync(r->summary_fd);
	if (r->summary_fd >= 0 && close(r->summary_fd))
		written = false;
	r->summary_fd = -1;
	if (!written || rename(tmp, path)) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path,
			strerror(errno));
		status = 2;
	}
	free(text);
	json_decref(sum);
	point_latest(r);
	run_plot(r);

	char conv[32] = "-", err[32] = "-";
	if (worst_conv >= 0)
		snprintf(conv, sizeof(conv), "%.1fs", worst_conv);
	if (have_err)
		snprintf(err, sizeof(err), "%+.1fM", final_err / MIB);
	say(r, "RESULT %s %s %s converge=%s final-error=%s (%d passed, %d "
	    "failed, %d skipped)%s%s", p->name, r->be.ops->name, verdict,
	    conv, err, npass, nfail, nskip, r->error_kind ? ": " : "",
	    r->error_kind ? r->error : "");
	say(r, "results: %s", r->dir);
	return status;
}
