// SPDX-License-Identifier: GPL-2.0-only
/*
 * dump.c - the resolved plan printed back as a scenario file (harness
 * --dump).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"


static void dump_origin(FILE *out, const struct origin *o)
{
	if (o->line)
		fprintf(out, "\t; %s:%d", o->file, o->line);
	else
		fprintf(out, "\t; command line");
}

static void dump_expect(FILE *out, const struct expect *e)
{
	char v[64], t[64];
	static const char *const cmps[] = { "", ">= ", "<= " };

	switch (e->kind) {
	case EX_CONVERGED:
	case EX_CHANGE_INTERVAL:
		fmt_time(v, sizeof(v), e->value);
		break;
	case EX_RESERVATION:
	case EX_BALLOON:
	case EX_NEVER_BELOW:
	case EX_RSS_DROP:
		fmt_size(v, sizeof(v), e->value);
		break;
	case EX_RSS_NEAR:
		snprintf(v, sizeof(v), "%.56s", e->text);
		break;
	case EX_MESSAGE:
	case EX_NO_MESSAGE:
	case EX_REPLY:
		snprintf(v, sizeof(v), "\"%.56s\"", e->text);
		break;
	case EX_SURVIVES:
	case EX_HEALTHY:
	case EX_ACCOUNTING:
		snprintf(v, sizeof(v), "yes");
		break;
	case EX_TIME_TO_90:
	case EX_RATE:
	case EX_BAND:
	case EX_OVERSHOOT:
		if (e->kind == EX_TIME_TO_90)
			fmt_time(t, sizeof(t), e->value);
		else
			fmt_size(t, sizeof(t), e->value);
		snprintf(v, sizeof(v), "%s %s%s", e->cmp == CMP_GE ? ">=" :
			 "<=", t, e->kind == EX_RATE ? "/s" : "");
		break;
	case EX_OUTSIDE:
	case EX_STUCK:
	case EX_FIGURES_AGE:
		fmt_time(t, sizeof(t), e->value);
		snprintf(v, sizeof(v), "%s %s", e->cmp == CMP_GE ? ">=" : "<=",
			 t);
		break;
	case EX_CYCLES:
	case EX_TARGET_CYCLES:
	case EX_RSS_RETURNED:
		snprintf(v, sizeof(v), "%s %g", e->cmp == CMP_EQ ? "=" :
			 e->cmp == CMP_GE ? ">=" : "<=", e->value);
		break;
	case EX_STAT:
		snprintf(v, sizeof(v), "%.40s %s %g", e->text,
			 e->cmp == CMP_EQ ? "=" : e->cmp == CMP_GE ? ">=" :
			 "<=", e->value);
		break;
	default:
		snprintf(v, sizeof(v), "%s%g", cmps[e->cmp], e->value);
	}
	fprintf(out, "%s = %s", e->key, v);
	if (e->kind == EX_CHANGE_INTERVAL) {
		fmt_time(t, sizeof(t), e->tol);
		fprintf(out, " ~ %s", t);
	} else if (e->kind == EX_CONVERGED || e->kind == EX_RESERVATION ||
		   e->kind == EX_BALLOON || e->kind == EX_NEVER_BELOW ||
		   e->kind == EX_ACCOUNTING || e->kind == EX_RSS_NEAR) {
		fmt_size(t, sizeof(t), e->tol);
		fprintf(out, " ~ %s", t);
	}
	if (e->tol_name[0])
		fprintf(out, " (%s)", e->tol_name);
	dump_origin(out, &e->from);
	fputc('\n', out);
}

static void dump_kv(FILE *out, const char *prefix, const struct kv *kv)
{
	char v[64];
	if (kv->is_size) {
		fmt_size(v, sizeof(v), strtod(kv->value, NULL));
		fprintf(out, "%s%s = %s", prefix, kv->key, v);
	} else {
		fprintf(out, "%s%s = %s", prefix, kv->key, kv->value);
	}
	dump_origin(out, &kv->from);
	fputc('\n', out);
}

/* A step's policy, every parameter it reads (resolved). */
static void dump_policy(FILE *out, const struct tb_hp_params *hp,
			int figures)
{
	char a[64], b[64];

	fprintf(out, "policy = %s\npolicy.figures = %s\n",
		tb_hp_kind_name(hp->kind), plan_figures_names[figures]);
	fmt_time(a, sizeof(a), hp->period_ms / 1000.0);
	fmt_time(b, sizeof(b), (hp->stale_ms ? hp->stale_ms :
				3 * hp->period_ms) / 1000.0);
	fprintf(out, "policy.period = %s\npolicy.stale = %s\n", a, b);
	fmt_size(a, sizeof(a), (double)hp->min);
	fmt_size(b, sizeof(b), (double)hp->max);
	fprintf(out, "policy.min = %s\npolicy.max = %s\n", a, b);
	switch (hp->kind) {
	case TB_HP_FREE_WINDOW:
		fmt_size(a, sizeof(a), (double)hp->low);
		fmt_size(b, sizeof(b), (double)hp->high);
		fprintf(out, "policy.low = %s\npolicy.high = %s\n", a, b);
		fmt_size(a, sizeof(a), (double)hp->step);
		fprintf(out, "policy.step = %s\n", a);
		break;
	case TB_HP_PI:
		fmt_size(a, sizeof(a), (double)hp->setpoint);
		fprintf(out, "policy.setpoint = %s\npolicy.kp = %g\n"
			"policy.ki = %g\n", a, hp->kp_milli / 1000.0,
			hp->ki_milli / 1000.0);
		break;
	default:
		fmt_size(a, sizeof(a), (double)hp->target);
		fmt_size(b, sizeof(b), (double)hp->accuracy);
		fprintf(out, "policy.target = %s\npolicy.accuracy = %s\n", a,
			b);
		fmt_size(a, sizeof(a), (double)hp->progress);
		fmt_time(b, sizeof(b), hp->stuck_ms / 1000.0);
		fprintf(out, "policy.progress = %s\npolicy.stuck = %s\n", a,
			b);
		break;
	}
}

void plan_dump(const struct plan *p, FILE *out)
{
	char a[64], b[64];
	static const char *const when[] = { "at", "previous", "converged",
					    "settled" };

	fprintf(out, "# scenario %s (%s)%s\n", p->name, p->file,
		p->ci ? " with [ci] overrides" : "");
	fprintf(out, "[global]\n");
	if (p->description[0])
		fprintf(out, "description = %s\n", p->description);
	fmt_size(a, sizeof(a), p->memory);
	fprintf(out, "memory = %s\nvcpus = %d\nmachine = %s\n", a, p->vcpus,
		p->machine);
	if (p->numa_nodes)
		fprintf(out, "numa-nodes = %d\n", p->numa_nodes);
	if (p->memory_backend[0])
		fprintf(out, "memory-backend = %s\n", p->memory_backend);
	fprintf(out, "cmdline = %s\n", p->cmdline);
	fmt_time(a, sizeof(a), p->sample);
	fprintf(out, "sample = %s\n", a);
	fmt_time(a, sizeof(a), p->time_limit);
	fmt_time(b, sizeof(b), p->boot_timeout);
	fprintf(out, "time-limit = %s\nboot-timeout = %s\n", a, b);
	fmt_time(a, sizeof(a), p->agent_timeout);
	fmt_time(b, sizeof(b), p->settle);
	fprintf(out, "agent-timeout = %s\nsettle = %s\n", a, b);
	fprintf(out, "seed = %llu\nscale = %g\n", (unsigned long long)p->seed,
		p->scale);
	fmt_size(a, sizeof(a), p->tolerance);
	fprintf(out, "tolerance = %s\n", a);
	if (p->cycle_threshold) {
		fmt_size(a, sizeof(a), p->cycle_threshold);
		fprintf(out, "cycle-threshold = %s\n", a);
	}
	for (int i = 0; i < p->ntolerances; i++)
		dump_kv(out, "tolerance.", &p->tolerances[i]);
	if (p->swap) {
		fmt_size(a, sizeof(a), p->swap);
		fprintf(out, "swap = %s\n", a);
	}
	if (p->max_balloon_swappable > 0)
		fprintf(out, "# max-balloon below: %g%% of swappable\n",
			p->max_balloon_swappable);
	for (int i = 0; i < p->nprops; i++)
		dump_kv(out, "", &p->props[i]);
	for (int i = 0; i < p->ndparams; i++)
		dump_kv(out, "driver.", &p->dparams[i]);
	for (int i = 0; i < p->nexpects; i++)
		dump_expect(out, &p->expects[i]);

	for (int s = 0; s < p->nsteps; s++) {
		const struct step *st = &p->steps[s];
		fprintf(out, "\n[%s]\t; %s:%d\n", st->name, st->from.file,
			st->from.line);
		if (st->when == WHEN_AT) {
			fmt_time(a, sizeof(a), st->at);
			fprintf(out, "at = %s\n", a);
		} else {
			fprintf(out, "after = %s\n", when[st->when]);
		}
		if (st->delay) {
			fmt_time(a, sizeof(a), st->delay);
			fprintf(out, "delay = %s\n", a);
		}
		if (st->hold) {
			fmt_time(a, sizeof(a), st->hold);
			fprintf(out, "hold = %s\n", a);
		}
		if (st->has_target) {
			fmt_size(a, sizeof(a), st->target);
			fprintf(out, "target = %s\n", a);
		}
		for (int i = 0; i < st->nprops; i++)
			dump_kv(out, "set.", &st->props[i]);
		if (st->hotplug)
			fprintf(out, "hotplug = %s\n",
				st->hotplug == HOTPLUG_UNPLUG ? "unplug" :
				"plug");
		if (st->lifecycle)
			fprintf(out, "lifecycle = %s\n",
				lifecycle_names[st->lifecycle]);
		switch (st->action) {
		case ACT_NONE:
			break;
		case ACT_PIN: case ACT_ALLOC: case ACT_PAGECACHE:
		case ACT_FRAGMENT:
			fmt_size(a, sizeof(a), strtod(st->arg, NULL));
			fprintf(out, "%s = %s%s\n", action_names[st->action], a,
				strchr(st->arg, ' ') ? strchr(st->arg, ' ') :
				"");
			break;
		case ACT_BUSY:
			fmt_size(a, sizeof(a), strtod(st->arg, NULL));
			fprintf(out, "busy = %s/s\n", a);
			break;
		case ACT_FREE:
			fprintf(out, "free = %s\n", st->free_ref);
			break;
		default:
			fprintf(out, "%s = %s\n", action_names[st->action],
				st->arg);
		}
		if (st->has_policy)
			dump_policy(out, &st->policy, st->policy_figures);
		if (st->trace) {
			static const char *const tr[] = { "", "ramp",
				"sawtooth", "triangle" };
			fmt_size(a, sizeof(a), st->trace_peak);
			fmt_time(b, sizeof(b), st->trace_period);
			fprintf(out, "trace = %s %s %s\n", tr[st->trace], a, b);
			fmt_size(a, sizeof(a), st->trace_chunk);
			fprintf(out, "trace.chunk = %s\n", a);
		}
		if (st->random_targets) {
			fmt_size(a, sizeof(a), st->random_lo);
			fmt_size(b, sizeof(b), st->random_hi);
			fprintf(out, "random-targets = %d\nrandom-range = "
				"%s..%s\n", st->random_targets, a, b);
			fmt_time(a, sizeof(a), st->random_interval);
			fprintf(out, "random-interval = %s\n", a);
		}
		for (int i = 0; i < st->nexpects; i++)
			dump_expect(out, &st->expects[i]);
	}
}

