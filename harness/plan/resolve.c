// SPDX-License-Identifier: GPL-2.0-only
/*
 * resolve.c - entries resolved into a plan: units, percentages, scale, tolerances and command-line overrides applied, every key checked.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_int.h"
#include "tb_knobs.h"


struct ctx {
	struct plan *plan;
	const struct parse_opts *opts;
	char *err;
	size_t errlen;
	struct origin max_balloon_from;	/* `max-balloon = N% of swappable` */
};

#define BAD(c, o, sec, key, ...) plan_error((c)->err, (c)->errlen, o, sec, key, \
				      __VA_ARGS__)

static int want_size(struct ctx *c, const struct origin *o, const char *sec,
		     const char *key, const char *val, bool pct, uint64_t *out)
{
	int rc = parse_size(val, c->plan->memory, c->plan->scale, pct, out);
	if (rc == -2)
		return BAD(c, o, sec, key, "expected at most 16T, got '%s'",
			   val);
	if (rc)
		return BAD(c, o, sec, key, "expected a size like 512M, 2G%s, "
			   "got '%s'", pct ? " or 65%" : "", val);
	return 0;
}

static int want_time(struct ctx *c, const struct origin *o, const char *sec,
		     const char *key, const char *val, double *out)
{
	int rc = parse_time(val, out);
	if (rc == -2)
		return BAD(c, o, sec, key, "expected at most 24h (86400s), "
			   "got '%s'", val);
	if (rc)
		return BAD(c, o, sec, key, "expected a time like 250ms or "
			   "30s, got '%s'", val);
	return 0;
}

static int set_kv(struct ctx *c, struct kv *arr, int *n, const char *key,
		  const char *value, bool is_size, const struct origin *o,
		  const char *sec)
{
	int i;
	for (i = 0; i < *n; i++)
		if (!strcmp(arr[i].key, key))
			break;
	if (i == *n) {
		if (*n == PLAN_MAX_KV)
			return BAD(c, o, sec, key, "too many such keys (%d)",
				   PLAN_MAX_KV);
		(*n)++;
	}
	snprintf(arr[i].key, sizeof(arr[i].key), "%s", key);
	snprintf(arr[i].value, sizeof(arr[i].value), "%s", value);
	arr[i].is_size = is_size;
	arr[i].from = *o;
	return 0;
}

/* A device property value, resolved: sizes to bytes, bools to on/off. */
static int device_value(struct ctx *c, const struct origin *o,
			const char *sec, const char *key, const char *prop,
			const char *val, char *out, size_t len, bool *is_size)
{
	bool sz, bl;
	if (!device_prop_settable(prop, &sz, &bl)) {
		char list[400];
		device_prop_names(list, sizeof(list));
		return BAD(c, o, sec, key, "unknown device property '%s' "
			   "(expected one of: %s)", prop, list);
	}
	*is_size = sz;
	if (sz) {
		uint64_t v;
		if (want_size(c, o, sec, key, val, true, &v))
			return -1;
		snprintf(out, len, "%llu", (unsigned long long)v);
	} else if (bl) {
		bool b;
		if (parse_bool(val, &b))
			return BAD(c, o, sec, key, "expected yes or no, got "
				   "'%s'", val);
		snprintf(out, len, "%s", b ? "on" : "off");
	} else {
		long long v;
		if (parse_int(val, 0, UINT32_MAX, &v))
			return BAD(c, o, sec, key, "expected a whole number, "
				   "got '%s'", val);
		snprintf(out, len, "%lld", v);
	}
	return 0;
}

/*
 * `max-balloon = N% of swappable`: 0 with *pct = N when @val is that
 * rule, 1 (and *pct = 0) when it is a plain value, -1 on an error.
 */
static int swappable_rule(struct ctx *c, const struct origin *o,
			  const char *sec, const char *key, const char *val,
			  double *pct)
{
	char *end;
	double n;

	*pct = 0;
	if (!strstr(val, " of") && !strstr(val, "swappable"))
		return 1;
	n = strtod(val, &end);
	if (end != val)
		end += strspn(end, " ");
	if (end == val || *end++ != '%')
		goto bad;
	end += strspn(end, " ");
	if (strncmp(end, "of ", 3))
		goto bad;
	end += 3 + strspn(end + 3, " ");
	if (strcmp(end, "swappable") || !(n > 0 && n <= 100))
		goto bad;
	*pct = n;
	c->max_balloon_from = *o;
	return 0;
bad:
	return BAD(c, o, sec, key, "expected a size like 1330M, 65%%, or "
		   "'N%% of swappable' (N in (0, 100]), got '%s'", val);
}

/*
 * KB 340369: maxmemctl is about 65 % of what the guest can safely swap --
 * its memory less what is pinned -- and no more than the guest's swap.
 * Pinned: every `pin` of the plan (mlock'd, the balloon cannot take it).
 * The guest's swap bounds it when the plan gives the guest swap (`swap`);
 * without swap the guest gives the balloon free memory instead.
 */
static int derive_max_balloon(struct ctx *c)
{
	struct plan *p = c->plan;
	uint64_t pinned = 0, swappable, cap;
	const struct origin *o = &c->max_balloon_from;
	char out[32];

	for (int i = 0; i < p->nsteps; i++)
		if (p->steps[i].action == ACT_PIN)
			pinned += strtoull(p->steps[i].arg, NULL, 10);
	swappable = p->memory > pinned ? p->memory - pinned : 0;
	cap = (uint64_t)((double)swappable * p->max_balloon_swappable / 100);
	if (p->swap && cap > p->swap)
		cap = p->swap;
	cap &= ~4095ull;
	if (!cap)
		return BAD(c, o, "global", "max-balloon", "%g%% of swappable "
			   "is nothing: memory %llu bytes, pinned %llu",
			   p->max_balloon_swappable,
			   (unsigned long long)p->memory,
			   (unsigned long long)pinned);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)cap);
	return set_kv(c, p->props, &p->nprops, "max-balloon", out, true, o,
		      "global");
}

/* `expect-balloon = max-balloon`: the balloon at the device's maximum;
 * `expect-never-below = max-balloon`: the reservation with it, memory -
 * max-balloon.  The property as resolved, else its default. */
static void resolve_max_balloon_refs(struct plan *p)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, "max-balloon");
	/* In whole 4 KiB pages, as the device reads it (MAX_BALLOON). */
	double mb = k ? (double)(tb_knob_default(k, p->memory) & ~4095ull) :
			0;

	for (int i = 0; i < p->nprops; i++)
		if (!strcmp(p->props[i].key, "max-balloon"))
			mb = strtod(p->props[i].value, NULL);
	for (int s = -1; s < p->nsteps; s++) {
		struct expect *e = s < 0 ? p->expects : p->steps[s].expects;
		int n = s < 0 ? p->nexpects : p->steps[s].nexpects;
		for (int i = 0; i < n; i++) {
			if ((e[i].kind != EX_BALLOON &&
			     e[i].kind != EX_NEVER_BELOW) ||
			    strcmp(e[i].text, "max-balloon"))
				continue;
			e[i].value = e[i].kind == EX_BALLOON ? mb :
				     (double)p->memory - mb;
		}
	}
}

static const struct kv *find_tol(const struct plan *p, const char *name)
{
	for (int i = 0; i < p->ntolerances; i++)
		if (!strcmp(p->tolerances[i].key, name))
			return &p->tolerances[i];
	return NULL;
}

/* An optional ">=", "<=" or "=" before a value: *@cmp set and *@v moved
 * past it when there is one. */
static bool take_cmp(char **v, enum cmp *cmp)
{
	static const struct { const char *op; enum cmp c; } ops[] = {
		{ ">=", CMP_GE }, { "<=", CMP_LE }, { "=", CMP_EQ },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strncmp(*v, ops[i].op, strlen(ops[i].op))) {
			*cmp = ops[i].c;
			*v = trim(*v + strlen(ops[i].op));
			return true;
		}
	return false;
}

/*
 * "[OP] VALUE" over a step's metrics: OP >= or <= (= also for cycles);
 * without it, <= (at most), >= for the rate and the RSS returned.
 * Rates are MiB/s written as a size ("500M", "500M/s"), not scaled.
 */
static int metric_expect(struct ctx *c, const struct origin *o,
			 const char *sec, const char *key, char *v,
			 struct expect *ex)
{
	enum expect_kind k = ex->kind;
	char *end;

	ex->cmp = k == EX_RATE || k == EX_RSS_RETURNED ? CMP_GE : CMP_LE;
	if (take_cmp(&v, &ex->cmp) && ex->cmp == CMP_EQ && k != EX_CYCLES)
		return BAD(c, o, sec, key, "expected >= or <= before the "
			   "value (= only for counts), got '= %s'", v);
	switch (k) {
	case EX_TIME_TO_90:
		return want_time(c, o, sec, key, v, &ex->value);
	case EX_RATE: {
		char num[PLAN_STR];
		uint64_t b;
		size_t n = strlen(v);
		snprintf(num, sizeof(num), "%s", v);
		if (n > 2 && !strcmp(num + n - 2, "/s"))
			num[n - 2] = 0;
		if (parse_size(num, 0, 1, false, &b))
			return BAD(c, o, sec, key, "expected a rate in MiB/s "
				   "like 500M or >= 500M/s, got '%s'", v);
		ex->value = (double)b;
		return 0;
	}
	case EX_CYCLES: {
		long long n;
		if (parse_int(v, 0, INT_MAX, &n))
			return BAD(c, o, sec, key, "expected a count like 0, "
				   "<= 2, >= 1 or = 3, got '%s'", v);
		ex->value = (double)n;
		return 0;
	}
	case EX_BAND:
	case EX_OVERSHOOT: {
		uint64_t b;
		if (want_size(c, o, sec, key, v, true, &b))
			return -1;
		ex->value = (double)b;
		return 0;
	}
	default:	/* EX_RSS_RETURNED */
		ex->value = strtod(v, &end);
		if (end == v || *end || !(ex->value >= 0 && ex->value <= 1))
			return BAD(c, o, sec, key, "expected a fraction in "
				   "[0, 1] like 0.95 or >= 0.95, got '%s'", v);
		return 0;
	}
}

/* "VALUE [~ TOLERANCE]" where TOLERANCE is a named tolerance or literal. */
static struct step *find_step(struct plan *p, const char *name);

static int parse_expect(struct ctx *c, const struct origin *o,
			const char *sec, const char *key, const char *val,
			struct expect *ex)
{
	char buf[PLAN_STR], *tol = NULL;
	int k;

	for (k = 0; k < EX_NR; k++)
		if (!strcmp(key, expect_names[k]))
			break;
	if (k == EX_NR) {
		char list[600] = "";
		for (int i = 0; i < EX_NR; i++) {
			strcat(list, i ? ", " : "");
			strcat(list, expect_names[i]);
		}
		return BAD(c, o, sec, key, "unknown expectation (expected one "
			   "of: %s)", list);
	}
	memset(ex, 0, sizeof(*ex));
	ex->kind = k;
	ex->from = *o;
	snprintf(ex->key, sizeof(ex->key), "%s", key);
	snprintf(buf, sizeof(buf), "%s", val);

	bool sized = k == EX_CONVERGED || k == EX_RESERVATION ||
		     k == EX_BALLOON || k == EX_NEVER_BELOW ||
		     k == EX_ACCOUNTING || k == EX_CHANGE_INTERVAL ||
		     k == EX_RSS_NEAR;
	if (sized && (tol = strchr(buf, '~'))) {
		*tol++ = 0;
		tol = trim(tol);
	}
	char *v = trim(buf);
	bool time_tol = k == EX_CHANGE_INTERVAL;

	ex->tol = (double)c->plan->tolerance;
	if (time_tol)
		ex->tol = 0.25;
	if (tol) {
		const struct kv *named = name_ok(tol) && isalpha((unsigned char)
				*tol) ? find_tol(c->plan, tol) : NULL;
		const char *tv = tol;
		if (named) {
			snprintf(ex->tol_name, sizeof(ex->tol_name), "%s", tol);
			tv = named->value;
		} else if (isalpha((unsigned char)*tol)) {
			return BAD(c, o, sec, key, "no tolerance named '%s' "
				   "(define tolerance.%s in [global])", tol,
				   tol);
		}
		if (time_tol) {
			if (parse_time(tv, &ex->tol))
				return BAD(c, o, sec, key, "expected a time "
					   "tolerance like 250ms, got '%s'",
					   tv);
		} else {
			uint64_t t;
			/* Named tolerances are already resolved bytes. */
			if (named ? parse_size(tv, 0, 1, false, &t) :
			    parse_size(tv, c->plan->memory, c->plan->scale,
				       true, &t))
				return BAD(c, o, sec, key, "expected a size "
					   "tolerance like 8M, got '%s'", tv);
			ex->tol = (double)t;
		}
	}

	switch (k) {
	case EX_CONVERGED:
	case EX_CHANGE_INTERVAL:
		return want_time(c, o, sec, key, v, &ex->value);
	case EX_RESERVATION:
	case EX_BALLOON:
	case EX_NEVER_BELOW:
	case EX_RSS_DROP: {
		uint64_t b;
		/* The device's maximum balloon size, however it was given:
		 * resolved once the plan is (resolve_max_balloon_refs). */
		if ((k == EX_BALLOON || k == EX_NEVER_BELOW) &&
		    !strcmp(v, "max-balloon")) {
			snprintf(ex->text, sizeof(ex->text), "max-balloon");
			ex->value = -1;
			return 0;
		}
		if (want_size(c, o, sec, key, v, true, &b))
			return -1;
		ex->value = (double)b;
		return 0;
	}
	case EX_RSS_NEAR:
		/* An earlier step: this one's own is not parsed yet. */
		if (!find_step(c->plan, v))
			return BAD(c, o, sec, key, "expected an earlier "
				   "step's name, got '%s'", v);
		snprintf(ex->text, sizeof(ex->text), "%s", v);
		return 0;
	case EX_MESSAGE:
	case EX_NO_MESSAGE:
	case EX_REPLY:
		if (!*v)
			return BAD(c, o, sec, key, "expected the text to look "
				   "for");
		snprintf(ex->text, sizeof(ex->text), "%s", v);
		return 0;
	case EX_SURVIVES:
	case EX_HEALTHY:
	case EX_ACCOUNTING: {
		bool b;
		if (parse_bool(v, &b) || !b)
			return BAD(c, o, sec, key, "expected yes, got '%s'",
				   v);
		ex->value = 1;
		return 0;
	}
	case EX_OOM:
	case EX_REFUSALS:
	case EX_PARTIAL:
	case EX_FALLBACKS: {
		long long n;
		bool b;
		ex->cmp = k == EX_OOM ? CMP_EQ : CMP_GE;
		if (k == EX_OOM && !parse_bool(v, &b)) {
			ex->cmp = b ? CMP_GE : CMP_EQ;
			ex->value = b ? 1 : 0;
			return 0;
		}
		take_cmp(&v, &ex->cmp);
		if (parse_int(v, 0, INT_MAX, &n))
			return BAD(c, o, sec, key, "expected a count like 3, "
				   ">= 1, <= 2 or = 0%s, got '%s'",
				   k == EX_OOM ? " (or yes/no)" : "", v);
		ex->value = (double)n;
		return 0;
	}
	case EX_STAT: {
		/* "NAME OP N": NAME as the driver's debugfs stats spell it
		 * ("bad replies"), OP one of >=, <=, =. */
		static const char *const ops[] = { "=", ">=", "<=" };
		char *op = strpbrk(v, "<>=");
		long long n;
		int which = !op ? -1 : *op == '=' ? 0 : *op == '>' ? 1 : 2;
		if (!op || (which && op[1] != '='))
			return BAD(c, o, sec, key, "expected 'NAME OP COUNT' "
				   "like 'bad replies >= 1' (OP: >=, <=, =), "
				   "got '%s'", v);
		ex->cmp = which == 0 ? CMP_EQ : which == 1 ? CMP_GE : CMP_LE;
		char *num = trim(op + strlen(ops[which]));
		*op = 0;
		char *name = trim(v);
		if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789"
				     " _-") != strlen(name))
			return BAD(c, o, sec, key, "expected a stats name of "
				   "lower-case letters, digits, spaces, _ or - "
				   "before the operator, got '%s'", name);
		if (parse_int(num, 0, INT_MAX, &n))
			return BAD(c, o, sec, key, "expected a count after "
				   "'%s', got '%s'", ops[which], num);
		snprintf(ex->text, sizeof(ex->text), "%s", name);
		ex->value = (double)n;
		return 0;
	}
	case EX_OUTSIDE:
	case EX_TARGET_CYCLES:
	case EX_STUCK:
	case EX_FIGURES_AGE: {
		long long n;
		ex->cmp = CMP_LE;
		if (take_cmp(&v, &ex->cmp) && ex->cmp == CMP_EQ &&
		    k != EX_TARGET_CYCLES)
			return BAD(c, o, sec, key, "expected >= or <= before "
				   "the value (= only for counts), got '= %s'",
				   v);
		if (k != EX_TARGET_CYCLES)
			return want_time(c, o, sec, key, v, &ex->value);
		if (parse_int(v, 0, INT_MAX, &n))
			return BAD(c, o, sec, key, "expected a count like 0, "
				   "<= 2, >= 3 or = 1, got '%s'", v);
		ex->value = (double)n;
		return 0;
	}
	default:
		return expect_is_metric(k) ? metric_expect(c, o, sec, key, v,
							  ex) : -1;
	}
}

static int add_expect(struct ctx *c, struct expect *arr, int *n,
		      const struct origin *o, const char *sec,
		      const char *key, const char *val)
{
	if (*n == PLAN_MAX_EXPECTS)
		return BAD(c, o, sec, key, "too many expectations (%d)",
			   PLAN_MAX_EXPECTS);
	if (parse_expect(c, o, sec, key, val, &arr[*n]))
		return -1;
	/* Metrics are a step's: from its target to its end. */
	if (arr == c->plan->expects && expect_is_metric(arr[*n].kind))
		return BAD(c, o, sec, key, "expected in a step that sets a "
			   "target (a step's metric), not in [%s]", sec);
	if (arr == c->plan->expects && expect_is_policy(arr[*n].kind))
		return BAD(c, o, sec, key, "expected in a step with a policy "
			   "(policy = NAME), not in [%s]", sec);
	(*n)++;
	return 0;
}

static int global_key(struct ctx *c, const char *sec, const char *key,
		      const char *val, const struct origin *o)
{
	struct plan *p = c->plan;
	long long n;

	if (!strcmp(key, "memory")) {
		if (want_size(c, o, sec, key, val, false, &p->memory))
			return -1;
		/* Whole MiB: QEMU's -m takes MiB, and keeps ratios exact. */
		p->memory &= ~((1ull << 20) - 1);
		if (p->memory < (128ull << 20))
			return BAD(c, o, sec, key, "expected at least 128M "
				   "(after scale), got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "scale")) {
		char *end;
		p->scale = strtod(val, &end);
		if (end == val || *end || !(p->scale > 0 && p->scale <= 1))
			return BAD(c, o, sec, key, "expected a factor in "
				   "(0, 1] like 0.25, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "machine")) {
		char names[64];
		if (!name_in(val, machine_names))
			return BAD(c, o, sec, key, "expected %s, got '%s'",
				   names_or(machine_names, names,
					    sizeof(names)), val);
		snprintf(p->machine, sizeof(p->machine), "%s", val);
		return 0;
	}
	if (!strcmp(key, "numa-nodes")) {
		if (parse_int(val, 0, 8, &n))
			return BAD(c, o, sec, key, "expected 0..8, got '%s'",
				   val);
		p->numa_nodes = (int)n;
		return 0;
	}
	if (!strcmp(key, "memory-backend")) {
		char names[128];
		if (!name_in(val, memory_backend_names))
			return BAD(c, o, sec, key, "expected %s, got '%s'",
				   names_or(memory_backend_names, names,
					    sizeof(names)), val);
		snprintf(p->memory_backend, sizeof(p->memory_backend), "%s",
			 val);
		return 0;
	}
	if (!strcmp(key, "vcpus")) {
		if (parse_int(val, 1, 64, &n))
			return BAD(c, o, sec, key, "expected 1..64, got '%s'",
				   val);
		p->vcpus = (int)n;
		return 0;
	}
	if (!strcmp(key, "seed")) {
		if (parse_int(val, 0, LLONG_MAX, &n))
			return BAD(c, o, sec, key, "expected a whole number, "
				   "got '%s'", val);
		p->seed = (uint64_t)n;
		return 0;
	}
	if (!strcmp(key, "cmdline")) {
		snprintf(p->cmdline, sizeof(p->cmdline), "%s", val);
		return 0;
	}
	if (!strcmp(key, "description")) {
		snprintf(p->description, sizeof(p->description), "%s", val);
		return 0;
	}
	if (!strcmp(key, "sample"))
		return want_time(c, o, sec, key, val, &p->sample) ? -1 :
		       p->sample < 0.05 ? BAD(c, o, sec, key, "expected at "
					     "least 50ms, got '%s'", val) : 0;
	if (!strcmp(key, "time-limit"))
		return want_time(c, o, sec, key, val, &p->time_limit);
	if (!strcmp(key, "boot-timeout"))
		return want_time(c, o, sec, key, val, &p->boot_timeout);
	if (!strcmp(key, "agent-timeout"))
		return want_time(c, o, sec, key, val, &p->agent_timeout);
	if (!strcmp(key, "settle"))
		return want_time(c, o, sec, key, val, &p->settle);
	if (!strcmp(key, "tolerance"))
		return want_size(c, o, sec, key, val, true, &p->tolerance);
	if (!strcmp(key, "cycle-threshold"))
		return want_size(c, o, sec, key, val, true,
				 &p->cycle_threshold) ? -1 :
		       !p->cycle_threshold ? BAD(c, o, sec, key, "expected "
				"more than 0, got '%s'", val) : 0;
	if (!strncmp(key, "tolerance.", 10)) {
		const char *name = key + 10;
		uint64_t b;
		double t;
		char out[64];
		if (!*name || !isalpha((unsigned char)*name))
			return BAD(c, o, sec, key, "expected "
				   "tolerance.<name>, the name starting with "
				   "a letter");
		/* A tolerance is a size, or a time for time expectations. */
		if (!parse_time(val, &t) && !isdigit((unsigned char)
				val[strlen(val) - 1]))
			fmt_time(out, sizeof(out), t);
		else if (!want_size(c, o, sec, key, val, true, &b))
			snprintf(out, sizeof(out), "%llu",
				 (unsigned long long)b);
		else
			return -1;
		return set_kv(c, p->tolerances, &p->ntolerances, name, out,
			      !strchr(out, 's'), o, sec);
	}
	if (!strncmp(key, "driver.", 7)) {
		const char *param = key + 7;
		const char *known = c->opts && c->opts->driver_params ?
				    c->opts->driver_params :
				    driver_param_names();
		if (!*param)
			return BAD(c, o, sec, key, "expected driver.<param>, "
				   "a parameter name after the dot");
		if (!word_in(param, known))
			return BAD(c, o, sec, key, "unknown driver parameter "
				   "'%s' (expected one of: %s)", param, known);
		for (const char *q = val; *q; q++)
			if (isspace((unsigned char)*q) || *q == '"')
				return BAD(c, o, sec, key, "expected a value "
					   "without spaces or quotes, got "
					   "'%s'", val);
		if (!*val)
			return BAD(c, o, sec, key, "expected a value");
		/* Passed on as written (the kernel parses it): checked here
		 * against the parameter's type, so a typo fails at parse. */
		const struct tb_knob *k = tb_knob_find(TB_KNOB_DRIVER, param);
		bool b;
		long long n;
		if (k && k->type == TB_KNOB_BOOL && parse_bool(val, &b))
			return BAD(c, o, sec, key, "expected yes or no, got "
				   "'%s'", val);
		if (k && k->type == TB_KNOB_U32 &&
		    parse_int(val, 0, UINT32_MAX, &n))
			return BAD(c, o, sec, key, "expected a whole number "
				   "(%s), got '%s'", k->unit, val);
		return set_kv(c, p->dparams, &p->ndparams, param, val, false,
			      o, sec);
	}
	if (!strncmp(key, "expect-", 7))
		return add_expect(c, p->expects, &p->nexpects, o, sec, key,
				  val);
	if (!strcmp(key, "swap"))
		return want_size(c, o, sec, key, val, true, &p->swap);
	if (!strcmp(key, "max-balloon")) {
		/* VMware KB 340369's rule: derived once the steps' pins are
		 * known (derive_max_balloon); a plain size cancels it. */
		int r = swappable_rule(c, o, sec, key, val,
				       &p->max_balloon_swappable);
		if (r <= 0)
			return r;
	}
	if (device_prop_settable(key, NULL, NULL)) {
		char out[PLAN_STR];
		bool is_size;
		if (device_value(c, o, sec, key, key, val, out, sizeof(out),
				 &is_size))
			return -1;
		return set_kv(c, p->props, &p->nprops, key, out, is_size, o,
			      sec);
	}
	return BAD(c, o, sec, key, "unknown key in [%s] (expected memory, "
		   "vcpus, machine, numa-nodes, memory-backend, cmdline, sample, time-limit, boot-timeout, "
		   "agent-timeout, settle, seed, scale, tolerance, "
		   "tolerance.<name>, cycle-threshold, description, swap, a device property, "
		   "driver.<param> or expect-*)", sec);
}

static struct step *find_step(struct plan *p, const char *name)
{
	for (int i = 0; i < p->nsteps; i++)
		if (!strcmp(p->steps[i].name, name))
			return &p->steps[i];
	return NULL;
}

static int set_action(struct ctx *c, struct step *st, enum agent_action a,
		      const struct origin *o, const char *key)
{
	if (st->action != ACT_NONE && st->action != a)
		return BAD(c, o, st->name, key, "one guest action per step "
			   "(this step already does '%s'; add a step)",
			   action_names[st->action]);
	st->action = a;
	return 0;
}

/*
 * `policy = free-window | pi | squeeze` and its parameters, `policy.low =
 * 30%` and so on (scenarios/README); the name first, so that each
 * parameter is checked against it.  Sizes as every size (% of memory,
 * scaled), times as every time, gains decimal numbers.
 */
static const struct {
	const char *name;
	unsigned kinds;		/* 1 << tb_hp_kind: the policies having it */
	char unit;		/* 's'ize, 't'ime, 'g'ain */
} policy_params[] = {
	{ "period", 7, 't' }, { "stale", 7, 't' },
	{ "min", 7, 's' }, { "max", 7, 's' },
	{ "low", 1 << TB_HP_FREE_WINDOW, 's' },
	{ "high", 1 << TB_HP_FREE_WINDOW, 's' },
	{ "step", 1 << TB_HP_FREE_WINDOW, 's' },
	{ "setpoint", 1 << TB_HP_PI, 's' },
	{ "kp", 1 << TB_HP_PI, 'g' }, { "ki", 1 << TB_HP_PI, 'g' },
	{ "target", 1 << TB_HP_SQUEEZE, 's' },
	{ "accuracy", 1 << TB_HP_SQUEEZE, 's' },
	{ "progress", 1 << TB_HP_SQUEEZE, 's' },
	{ "stuck", 1 << TB_HP_SQUEEZE, 't' },
};

const char *const plan_figures_names[3] = { "auto", "device", "agent" };

static int policy_key(struct ctx *c, struct step *st, const char *key,
		      const char *val, const struct origin *o)
{
	const char *sec = st->name, *name = key + 7;
	struct tb_hp_params *hp = &st->policy;
	size_t i, n = sizeof(policy_params) / sizeof(policy_params[0]);
	char list[300] = "";

	if (!strcmp(key, "policy")) {
		int k = tb_hp_kind_parse(val);
		if (k < 0)
			return BAD(c, o, sec, key, "expected free-window, pi "
				   "or squeeze, got '%s'", val);
		if (st->has_policy && (int)hp->kind != k)
			return BAD(c, o, sec, key, "one policy per step (this "
				   "step already has '%s')",
				   tb_hp_kind_name(hp->kind));
		if (!st->has_policy) {
			*hp = tb_hp_defaults;
			hp->max = c->plan->memory;
		}
		hp->kind = k;
		st->has_policy = true;
		st->policy_from = *o;
		return 0;
	}
	if (!st->has_policy)
		return BAD(c, o, sec, key, "expected policy = NAME earlier in "
			   "the step (free-window, pi or squeeze)");
	if (!strcmp(name, "figures")) {
		for (i = 0; i < 3; i++)
			if (!strcmp(val, plan_figures_names[i])) {
				st->policy_figures = (int)i;
				return 0;
			}
		return BAD(c, o, sec, key, "expected auto, device or agent, "
			   "got '%s'", val);
	}
	for (i = 0; i < n; i++)
		if (!strcmp(name, policy_params[i].name))
			break;
	if (i == n || !(policy_params[i].kinds & (1u << hp->kind))) {
		for (size_t j = 0; j < n; j++)
			if (policy_params[j].kinds & (1u << hp->kind))
				snprintf(list + strlen(list), sizeof(list) -
					 strlen(list), "%s%s", list[0] ? ", " :
					 "", policy_params[j].name);
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 ", figures");
		return BAD(c, o, sec, key, "not a parameter of policy %s "
			   "(expected policy.<one of: %s>)",
			   tb_hp_kind_name(hp->kind), list);
	}
	if (policy_params[i].unit == 's') {
		uint64_t b;
		if (want_size(c, o, sec, key, val, true, &b))
			return -1;
		uint64_t *const dst[] = {
			!strcmp(name, "min") ? &hp->min : NULL,
			!strcmp(name, "max") ? &hp->max : NULL,
			!strcmp(name, "low") ? &hp->low : NULL,
			!strcmp(name, "high") ? &hp->high : NULL,
			!strcmp(name, "step") ? &hp->step : NULL,
			!strcmp(name, "setpoint") ? &hp->setpoint : NULL,
			!strcmp(name, "target") ? &hp->target : NULL,
			!strcmp(name, "accuracy") ? &hp->accuracy : NULL,
			!strcmp(name, "progress") ? &hp->progress : NULL,
		};
		for (size_t j = 0; j < sizeof(dst) / sizeof(dst[0]); j++)
			if (dst[j])
				*dst[j] = b;
		return 0;
	}
	if (policy_params[i].unit == 't') {
		double t;
		if (want_time(c, o, sec, key, val, &t))
			return -1;
		uint32_t ms = (uint32_t)(t * 1000 + 0.5);
		if (!strcmp(name, "period"))
			hp->period_ms = ms;
		else if (!strcmp(name, "stale"))
			hp->stale_ms = ms;
		else
			hp->stuck_ms = ms;
		return 0;
	}
	char *end;
	double g = strtod(val, &end);
	if (end == val || *end || !(g >= 0 && g <= 100))
		return BAD(c, o, sec, key, "expected a gain in [0, 100] like "
			   "0.5, got '%s'", val);
	*(name[1] == 'p' ? &hp->kp_milli : &hp->ki_milli) =
		(uint32_t)(g * 1000 + 0.5);
	return 0;
}

/*
 * `trace = ramp|sawtooth|triangle PEAK PERIOD`: the guest allocates
 * PEAK in chunks (`trace.chunk`, default PEAK/16) evenly over PERIOD;
 * ramp then holds it, sawtooth frees it all and starts again, triangle
 * frees it chunk by chunk over the next PERIOD; for the step's hold.
 */
static int trace_key(struct ctx *c, struct step *st, const char *key,
		     const char *val, const struct origin *o)
{
	const char *sec = st->name;
	char kind[32] = "", peak[64] = "", per[64] = "", extra[8] = "";

	if (!strcmp(key, "trace.chunk")) {
		if (want_size(c, o, sec, key, val, true, &st->trace_chunk))
			return -1;
		if (st->trace_chunk < 4096)
			return BAD(c, o, sec, key, "expected at least 4K, got "
				   "'%s'", val);
		return 0;
	}
	if (sscanf(val, "%31s %63s %63s %7s", kind, peak, per, extra) != 3)
		return BAD(c, o, sec, key, "expected 'ramp|sawtooth|triangle "
			   "PEAK PERIOD' like 'sawtooth 40%% 10s', got '%s'",
			   val);
	st->trace_from = *o;
	if (!strcmp(kind, "ramp"))
		st->trace = TRACE_RAMP;
	else if (!strcmp(kind, "sawtooth"))
		st->trace = TRACE_SAWTOOTH;
	else if (!strcmp(kind, "triangle"))
		st->trace = TRACE_TRIANGLE;
	else
		return BAD(c, o, sec, key, "expected ramp, sawtooth or "
			   "triangle, got '%s'", kind);
	if (want_size(c, o, sec, key, peak, true, &st->trace_peak) ||
	    want_time(c, o, sec, key, per, &st->trace_period))
		return -1;
	if (st->trace_peak < 4096 || st->trace_period < 0.5)
		return BAD(c, o, sec, key, "expected a peak of at least 4K "
			   "and a period of at least 500ms, got '%s'", val);
	return 0;
}

static int step_key(struct ctx *c, struct step *st, const char *key,
		    const char *val, const struct origin *o)
{
	struct plan *p = c->plan;
	const char *sec = st->name;
	uint64_t b;

	if (!strcmp(key, "at")) {
		st->when = WHEN_AT;
		return want_time(c, o, sec, key, val, &st->at);
	}
	if (!strcmp(key, "after")) {
		if (!strcmp(val, "previous"))
			st->when = WHEN_PREVIOUS;
		else if (!strcmp(val, "converged"))
			st->when = WHEN_CONVERGED;
		else if (!strcmp(val, "settled"))
			st->when = WHEN_SETTLED;
		else
			return BAD(c, o, sec, key, "expected previous, "
				   "converged or settled, got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "delay"))
		return want_time(c, o, sec, key, val, &st->delay);
	if (!strcmp(key, "hold"))
		return want_time(c, o, sec, key, val, &st->hold);
	if (!strcmp(key, "target")) {
		if (want_size(c, o, sec, key, val, true, &st->target))
			return -1;
		st->has_target = true;
		return 0;
	}
	if (!strncmp(key, "set.", 4)) {
		char out[PLAN_STR];
		bool is_size;
		if (device_value(c, o, sec, key, key + 4, val, out,
				 sizeof(out), &is_size))
			return -1;
		return set_kv(c, st->props, &st->nprops, key + 4, out,
			      is_size, o, sec);
	}
	static const struct { const char *k; enum agent_action a; } sized[] = {
		{ "pin", ACT_PIN }, { "alloc", ACT_ALLOC },
		{ "pagecache", ACT_PAGECACHE }, { "fragment", ACT_FRAGMENT },
	};
	for (size_t i = 0; i < 4; i++) {
		char size[64] = "", mode[64] = "", extra[8] = "";
		if (strcmp(key, sized[i].k))
			continue;
		/* fragment takes the agent's method after the size: small
		 * files (QEMU's THP test, the default) or punched holes. */
		if (sized[i].a == ACT_FRAGMENT &&
		    sscanf(val, "%63s %63s %7s", size, mode, extra) >= 2) {
			if (extra[0] || (strcmp(mode, "files") &&
					 strcmp(mode, "holes")))
				return BAD(c, o, sec, key, "expected a size "
					   "and then 'files' or 'holes', got "
					   "'%s'", val);
			val = size;
		}
		if (set_action(c, st, sized[i].a, o, key) ||
		    want_size(c, o, sec, key, val, true, &b))
			return -1;
		snprintf(st->arg, sizeof(st->arg), "%llu%s%s",
			 (unsigned long long)b, mode[0] ? " " : "", mode);
		return 0;
	}
	if (!strcmp(key, "busy")) {
		/* SIZE/s: allocated, touched and freed again each second, for
		 * the step's hold (the seconds are added once it is known). */
		char size[64] = "";
		size_t n = strlen(val);
		if (n < 3 || n > 60 || strcmp(val + n - 2, "/s"))
			return BAD(c, o, sec, key, "expected a size a second "
				   "like 4M/s, got '%s'", val);
		memcpy(size, val, n - 2);
		if (set_action(c, st, ACT_BUSY, o, key) ||
		    want_size(c, o, sec, key, trim(size), true, &b))
			return -1;
		if (b < 4096)
			return BAD(c, o, sec, key, "expected at least 4K/s, "
				   "got '%s'", val);
		snprintf(st->arg, sizeof(st->arg), "%llu",
			 (unsigned long long)b);
		return 0;
	}
	if (!strcmp(key, "free")) {
		if (set_action(c, st, ACT_FREE, o, key))
			return -1;
		if (strcmp(val, "all") && !find_step(p, val))
			return BAD(c, o, sec, key, "expected 'all' or an "
				   "earlier step's name, got '%s'", val);
		if (strcmp(val, "all")) {
			struct step *ref = find_step(p, val);
			if (ref->action < ACT_PIN || ref->action > ACT_BUSY)
				return BAD(c, o, sec, key, "step [%s] starts "
					   "no workload to free", val);
		}
		snprintf(st->free_ref, sizeof(st->free_ref), "%s", val);
		return 0;
	}
	if (!strcmp(key, "exec")) {
		if (set_action(c, st, ACT_EXEC, o, key))
			return -1;
		if (!*val)
			return BAD(c, o, sec, key, "expected a command");
		snprintf(st->arg, sizeof(st->arg), "%s", val);
		return 0;
	}
	if (!strcmp(key, "sysfs-write") || !strcmp(key, "sysfs-read")) {
		bool wr = key[6] == 'w';
		char name[64] = "", rest[PLAN_STR] = "";
		size_t i;
		if (set_action(c, st, wr ? ACT_SYSFS_WRITE : ACT_SYSFS_READ,
			       o, key))
			return -1;
		sscanf(val, "%63s %255[^\n]", name, rest);
		/* NetBSD's balloon(4): only min and target are writable. */
		for (i = wr ? 1 : 0; i < 4; i++)
			if (!strcmp(name, sysfs_names[i]) &&
			    (!wr || strcmp(name, "max")))
				break;
		if (i == 4 || (wr && !*rest) || (!wr && *rest))
			return BAD(c, o, sec, key, "expected %s, got '%s'",
				   wr ? "'min SIZE' or 'target SIZE'" :
				   "current, min, max or target", val);
		if (!wr) {
			snprintf(st->arg, sizeof(st->arg), "%s", name);
			return 0;
		}
		if (want_size(c, o, sec, key, rest, true, &b))
			return -1;
		/* sysfs takes KiB, like NetBSD's sysctl. */
		snprintf(st->arg, sizeof(st->arg), "%s %llu", name,
			 (unsigned long long)(b / 1024));
		return 0;
	}
	if (!strcmp(key, "hotplug")) {
		if (!strcmp(val, "unplug"))
			st->hotplug = HOTPLUG_UNPLUG;
		else if (!strcmp(val, "plug"))
			st->hotplug = HOTPLUG_PLUG;
		else
			return BAD(c, o, sec, key, "expected unplug or plug, "
				   "got '%s'", val);
		return 0;
	}
	if (!strcmp(key, "lifecycle")) {
		for (int i = LC_NONE + 1; i < LC_NR; i++)
			if (!strcmp(val, lifecycle_names[i])) {
				st->lifecycle = i;
				st->lifecycle_from = *o;
				return 0;
			}
		return BAD(c, o, sec, key, "expected save-restore, "
			   "save-restore busy, reset, unbind or bind, got "
			   "'%s'", val);
	}
	if (!strcmp(key, "policy") || !strncmp(key, "policy.", 7))
		return policy_key(c, st, key, val, o);
	if (!strcmp(key, "trace") || !strcmp(key, "trace.chunk"))
		return trace_key(c, st, key, val, o);
	if (!strcmp(key, "random-targets")) {
		long long n;
		if (parse_int(val, 1, 100000, &n))
			return BAD(c, o, sec, key, "expected a count 1..100000,"
				   " got '%s'", val);
		st->random_targets = (int)n;
		return 0;
	}
	if (!strcmp(key, "random-range")) {
		char lo[64], hi[64];
		if (sscanf(val, "%63[^.]..%63s", lo, hi) != 2)
			return BAD(c, o, sec, key, "expected LOW..HIGH like "
				   "40%%..90%%, got '%s'", val);
		if (want_size(c, o, sec, key, trim(lo), true, &st->random_lo) ||
		    want_size(c, o, sec, key, trim(hi), true, &st->random_hi))
			return -1;
		if (st->random_lo > st->random_hi)
			return BAD(c, o, sec, key, "expected LOW <= HIGH, got "
				   "'%s'", val);
		return 0;
	}
	if (!strcmp(key, "random-interval"))
		return want_time(c, o, sec, key, val, &st->random_interval);
	if (!strncmp(key, "expect-", 7))
		return add_expect(c, st->expects, &st->nexpects, o, sec, key,
				  val);
	return BAD(c, o, sec, key, "unknown key in a step (expected at, "
		   "after, delay, hold, target, set.<property>, pin, alloc, "
		   "pagecache, fragment, busy, free, exec, sysfs-write, "
		   "sysfs-read, hotplug, lifecycle, policy, policy.<param>, "
		   "trace, "
		   "trace.chunk, random-targets, random-range, "
		   "random-interval or expect-*)");
}

/* A step's policy and trace, once all its keys are in. */
static int check_policy_step(struct ctx *c, struct step *st)
{
	const char *why;

	/* unbind and bind are agent requests: the step's one. */
	if ((st->lifecycle == LC_UNBIND || st->lifecycle == LC_BIND) &&
	    st->action != ACT_NONE)
		return BAD(c, &st->lifecycle_from, st->name, "lifecycle",
			   "%s is the step's agent request: it cannot also "
			   "have %s", lifecycle_names[st->lifecycle],
			   agent_action_name(st->action));
	if (st->lifecycle && st->hotplug)
		return BAD(c, &st->lifecycle_from, st->name, "lifecycle",
			   "a step either hot-plugs or has a lifecycle event, "
			   "not both");
	if (st->has_policy) {
		if (st->has_target || st->random_targets)
			return BAD(c, &st->policy_from, st->name, "policy", "a step "
				   "hands its target to a policy or sets it "
				   "(target, random-targets), not both");
		if (st->hold <= 0)
			return BAD(c, &st->policy_from, st->name, "policy", "needs "
				   "hold = TIME: the policy decides for the "
				   "step's hold");
		if ((why = tb_hp_check(&st->policy)))
			return BAD(c, &st->policy_from, st->name, "policy", "%s %s",
				   tb_hp_kind_name(st->policy.kind), why);
	}
	for (int i = 0; i < st->nexpects; i++)
		if (expect_is_policy(st->expects[i].kind) && !st->has_policy)
			return BAD(c, &st->expects[i].from, st->name,
				   st->expects[i].key, "expected in a step "
				   "with a policy (policy = NAME)");
	if (st->trace) {
		if (st->hold < st->trace_period)
			return BAD(c, &st->trace_from, st->name, "trace", "needs "
				   "hold = TIME, at least the trace's period: "
				   "it runs for the step's hold");
		if (!st->trace_chunk)
			st->trace_chunk = (st->trace_peak / 16) & ~4095ull;
		if (st->trace_chunk < 4096)
			st->trace_chunk = 4096;
		if (st->trace_peak / st->trace_chunk > 64)
			return BAD(c, &st->trace_from, st->name, "trace.chunk",
				   "expected at most 64 chunks to the peak "
				   "(a larger trace.chunk)");
	}
	return 0;
}

static bool is_global(const char *s)
{
	return !strcmp(s, "global");
}

static bool is_ci(const char *s)
{
	return !strcmp(s, "ci");
}

/* Command-line "key=value" (global) or "step.key=value". */
struct set_item {
	char sec[64];
	char key[64];
	char value[PLAN_STR];
};

static int split_set(struct ctx *c, const struct plan *p, const char *s,
		     struct set_item *it)
{
	struct origin o = { .line = 0 };
	const char *eq = strchr(s, '=');
	char key[128];

	if (!eq || eq == s || (size_t)(eq - s) >= sizeof(key))
		return BAD(c, &o, NULL, NULL, "expected KEY=VALUE or "
			   "STEP.KEY=VALUE, got '%s'", s);
	snprintf(key, sizeof(key), "%.*s", (int)(eq - s), s);
	char *k = trim(key);
	snprintf(it->value, sizeof(it->value), "%s", eq + 1);
	snprintf(it->sec, sizeof(it->sec), "global");
	snprintf(it->key, sizeof(it->key), "%s", k);
	/* "inflate.target" names a step; "driver.x" and "set.x" are keys. */
	char *dot = strchr(k, '.');
	if (dot && strncmp(k, "driver.", 7) && strncmp(k, "tolerance.", 10)) {
		*dot = 0;
		if (!find_step((struct plan *)p, k) && !is_global(k))
			return BAD(c, &o, NULL, NULL, "'%s': no step [%s] in "
				   "%s", s, k, p->file);
		snprintf(it->sec, sizeof(it->sec), "%s", k);
		snprintf(it->key, sizeof(it->key), "%s", dot + 1);
	}
	return 0;
}

/* A [ci] key "STEP.KEY" overrides a step's key; returns the step or NULL
 * ("driver.x" and "tolerance.x" are global keys). */
static struct step *ci_step(struct plan *p, const char *key,
			    const char **subkey)
{
	char name[64];
	const char *dot = strchr(key, '.');
	if (!dot || !strncmp(key, "driver.", 7) ||
	    !strncmp(key, "tolerance.", 10) ||
	    (size_t)(dot - key) >= sizeof(name))
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)(dot - key), key);
	*subkey = dot + 1;
	return find_step(p, name);
}

static void defaults(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->memory = 1ull << 30;
	p->vcpus = 1;
	snprintf(p->machine, sizeof(p->machine), "%s", machine_names[0]);
	p->sample = 0.5;
	p->time_limit = 180;
	p->boot_timeout = 90;
	p->agent_timeout = 60;
	p->settle = 5;
	p->seed = 1;
	p->scale = 1;
	p->tolerance = 8ull << 20;
}

int plan_load(struct plan *plan, const char *file,
	      const struct parse_opts *opts, char *err, size_t errlen)
{
	struct lexer lx = { .err = err, .errlen = errlen,
			    .confine = opts && opts->confine_includes };
	struct ctx c = { .plan = plan, .opts = opts, .err = err,
			 .errlen = errlen };
	struct set_item *sets = NULL;
	struct plan *scratch = NULL;
	int nsets = opts ? opts->nsets : 0, rc = -1;

	defaults(plan);
	err[0] = 0;
	snprintf(plan->file, sizeof(plan->file), "%s", file);
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	snprintf(plan->name, sizeof(plan->name), "%.*s",
		 (int)(strcspn(base, ".")), base);
	plan->ci = opts && opts->ci;
	/* The name becomes a directory, a domain name and plot titles. */
	if (!name_ok(plan->name) || strcspn(base, ".") >= sizeof(plan->name)) {
		snprintf(err, errlen, "%s: the scenario's name '%s' (the file "
			 "name up to its first '.') may hold only letters, "
			 "digits, '_' and '-', 1 to %zu of them", file,
			 plan->name, sizeof(plan->name) - 1);
		return -1;
	}

	lx.ents = calloc(MAX_ENTRIES, sizeof(*lx.ents));
	sets = calloc(nsets + 1, sizeof(*sets));
	scratch = malloc(sizeof(*scratch));
	if (!lx.ents || !sets || !scratch) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (lex_file(&lx, file, 0, NULL))
		goto out;
	if (lx.nsecs == 0 || !is_global(lx.secs[0].name)) {
		struct origin o = lx.nsecs ? lx.secs[0].from :
			(struct origin){ .line = 1 };
		if (!lx.nsecs)
			snprintf(o.file, sizeof(o.file), "%s", file);
		plan_error(err, errlen, &o, NULL, NULL, "expected [global] as the "
		     "first section");
		goto out;
	}

	/* Steps, in file order; names unique. */
	for (int s = 0; s < lx.nsecs; s++) {
		const char *name = lx.secs[s].name;
		if (is_global(name) || is_ci(name))
			continue;
		struct step *dup = find_step(plan, name);
		if (dup) {
			plan_error(err, errlen, &lx.secs[s].from, NULL, NULL,
			     "duplicate step [%s] (first at %s:%d)", name,
			     dup->from.file, dup->from.line);
			goto out;
		}
		if (plan->nsteps == PLAN_MAX_STEPS) {
			plan_error(err, errlen, &lx.secs[s].from, NULL, NULL,
			     "too many steps (at most %d)", PLAN_MAX_STEPS);
			goto out;
		}
		struct step *st = &plan->steps[plan->nsteps++];
		snprintf(st->name, sizeof(st->name), "%s", name);
		st->from = lx.secs[s].from;
		st->when = WHEN_PREVIOUS;
	}
	for (int i = 0; i < nsets; i++)
		if (split_set(&c, plan, opts->sets[i], &sets[i]))
			goto out;

	/*
	 * Global settings: memory and scale first, since percentages and
	 * every other size depend on them; then all keys in order.  The [ci]
	 * section is always checked (on a scratch copy) so a typo there is
	 * caught by every run, not only by CI.
	 */
	struct origin cl = { .line = 0 };
	for (int pass = 0; pass < 2; pass++) {
		for (int ci = 0; ci < 2; ci++) {
			bool apply = !ci || plan->ci;
			for (int i = 0; i < lx.nents; i++) {
				struct entry *e = &lx.ents[i];
				const char *sn = lx.secs[e->sec].name;
				if (!(ci ? is_ci(sn) : is_global(sn)))
					continue;
				bool first = !strcmp(e->key, "memory") ||
					     !strcmp(e->key, "scale");
				const char *sub;
				if (pass == 0 && !first)
					continue;
				if (ci && ci_step(plan, e->key, &sub))
					continue;	/* with the steps */
				if (apply) {
					if (global_key(&c, sn, e->key,
						       e->value, &e->from))
						goto out;
				} else if (pass == 1) {
					*scratch = *plan;
					c.plan = scratch;
					int r = global_key(&c, sn, e->key,
							   e->value, &e->from);
					c.plan = plan;
					if (r)
						goto out;
				}
			}
		}
		for (int i = 0; i < nsets; i++) {
			bool first = !strcmp(sets[i].key, "memory") ||
				     !strcmp(sets[i].key, "scale");
			if (!is_global(sets[i].sec) || (pass == 0 && !first))
				continue;
			if (global_key(&c, "global", sets[i].key,
				       sets[i].value, &cl))
				goto out;
		}
	}

	/* Steps: keys in order, then command-line overrides. */
	int si = -1;
	for (int s = 0; s < lx.nsecs; s++) {
		const char *name = lx.secs[s].name;
		if (is_global(name) || is_ci(name))
			continue;
		struct step *st = find_step(plan, name);
		si++;
		/* Step keys may refer to earlier steps only: hide the rest. */
		int saved = plan->nsteps;
		plan->nsteps = si + 1;
		for (int i = 0; i < lx.nents; i++) {
			if (lx.ents[i].sec != s)
				continue;
			if (step_key(&c, st, lx.ents[i].key,
				     lx.ents[i].value, &lx.ents[i].from)) {
				plan->nsteps = saved;
				goto out;
			}
		}
		/* [ci] "STEP.KEY" lines: applied with --ci, else checked on
		 * a scratch copy of the step. */
		for (int i = 0; i < lx.nents; i++) {
			struct entry *e = &lx.ents[i];
			const char *sub;
			if (!is_ci(lx.secs[e->sec].name) ||
			    ci_step(plan, e->key, &sub) != st)
				continue;
			struct step keep = *st;
			int r = step_key(&c, st, sub, e->value, &e->from);
			if (!plan->ci)
				*st = keep;
			if (r) {
				plan->nsteps = saved;
				goto out;
			}
		}
		for (int i = 0; i < nsets; i++) {
			if (strcmp(sets[i].sec, name))
				continue;
			if (step_key(&c, st, sets[i].key, sets[i].value,
				     &cl)) {
				plan->nsteps = saved;
				goto out;
			}
		}
		plan->nsteps = saved;
		if (st->random_targets && !st->random_hi) {
			plan_error(err, errlen, &st->from, name, "random-targets",
			     "needs random-range = LOW..HIGH");
			goto out;
		}
		if (st->random_targets && st->random_interval <= 0)
			st->random_interval = 1;
		if (check_policy_step(&c, st))
			goto out;
		if (st->action == ACT_BUSY) {
			/* busy runs for the step's hold, whole seconds. */
			double secs = st->hold + 0.5;
			if (st->hold < 1) {
				plan_error(err, errlen, &st->from, name, "busy",
				     "needs hold = TIME (1s at least): it "
				     "runs for the step's hold");
				goto out;
			}
			size_t len = strlen(st->arg);
			snprintf(st->arg + len, sizeof(st->arg) - len, " %llu",
				 (unsigned long long)secs);
		}
	}
	if (plan->max_balloon_swappable > 0 && derive_max_balloon(&c))
		goto out;
	resolve_max_balloon_refs(plan);
	if (plan->nsteps == 0) {
		plan_error(err, errlen, &lx.secs[0].from, NULL, NULL,
		     "no steps: add a section after [global], e.g. "
		     "[inflate] with target = 50%%");
		goto out;
	}
	if (plan->boot_timeout > plan->time_limit)
		plan->boot_timeout = plan->time_limit;
	rc = 0;
out:
	free(lx.ents);
	free(sets);
	free(scratch);
	return rc;
}

