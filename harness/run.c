// SPDX-License-Identifier: GPL-2.0-only
/*
 * run.c - the runner: boots the guest through a backend, plays the
 * timeline, samples the balloon, checks expectations, writes results.
 *
 * One clock: the backend's, in seconds since QEMU started.  Every file in
 * the run directory is written as NAME.part and renamed when complete, so
 * an interrupted run never leaves a truncated file that looks finished.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio_ext.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MIB		(1024.0 * 1024.0)
#define MAX_QUEUE	16
/* A guest or QEMU that floods ends the run (named) before it fills the
 * disk or memory: a real run is far below these. */
#define CONSOLE_MAX_BYTES	(32u << 20)	/* console.log kept */
#define MAX_UNSOLICITED		1000	/* stray agent replies, odd events */
#define MAX_HOST_EVENTS		10000	/* QMP events other than balloon */

enum { OWN_STATS = -1, OWN_INFO = -2, OWN_PING = -3, OWN_FINAL = -4 };

struct sample_rec {
	double t;
	int step;
	struct be_sample s;
	int64_t free_kb, avail_kb, fallbacks_drv;
	double rate;		/* MiB/s of balloon growth, + = reclaiming */
};

struct line_rec {
	double t;
	char *text;
};

struct step_rt {
	bool started, done, skipped;
	double start, cond_t, action_t, end;
	bool action_pending;
	char reply[256];
	long workload_id;
	bool died;
	char died_how[128];
	struct sample_rec at_start;
	int64_t oom_at_start;
	int rand_done;
	double rand_next;
	char skip_reason[160];
	char stats_end[4096];	/* agent stats last read before the end */
};

struct agent_req {
	char line[512];
	int owner;
};

struct run {
	const struct plan *p;
	struct backend be;
	char dir[PATH_MAX];
	FILE *curve, *events, *console;
	off_t curve_good, events_good, console_good;	/* whole lines */
	int summary_fd;		/* summary.json.part, space reserved */
	bool tty;

	bool ready;
	double ready_t;

	/* agent */
	struct agent_req queue[MAX_QUEUE];
	int nqueue;
	bool busy;
	struct agent_req cur;
	bool agent_up;		/* "event ready" seen */
	double sent_t;
	char stats[4096];
	double stats_t;
	bool final_stats_ok, ping_ok, final_sent;
	char final_stats[4096];
	char first_stats[4096];	/* the last stats before the first target */
	bool moved;		/* a target was set */

	/* guest facts */
	char kernel[128];
	char guest_cmdline[2048];
	int64_t oom_console;
	uint64_t console_bytes;
	long unsolicited;	/* agent lines nobody asked for */
	long host_events;
	double oom_t[16];	/* when the first OOM kills were seen */

	struct line_rec *lines;
	size_t nlines, cap_lines;
	struct sample_rec *samples;
	size_t nsamples, cap_samples;
	double *changes;	/* times the reservation changed */
	size_t nchanges, cap_changes;
	int64_t last_actual;
	double last_change_t;

	uint64_t target;	/* host target now */
	struct step_rt rt[PLAN_MAX_STEPS];
	int cur_step;		/* last started step, -1 none */
	uint64_t rng;

	char error[600];	/* why the run itself failed */
	const char *error_kind;	/* "qemu-died", "time-limit", ... */
	double next_progress;
};

static struct run *the_run;	/* for the signal path */

/* ---- small helpers ---- */

static void *grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 256;
	void *a = realloc(arr, *cap * sz);
	if (!a) {
		perror("harness: realloc");
		exit(2);
	}
	return a;
}

static double now(struct run *r)
{
	return r->be.ops->now(&r->be);
}

static void run_fail(struct run *r, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * After each line: flush, and if the disk refused it (ENOSPC, EIO), cut
 * the file back to its last whole line and end the run.  The buffered
 * rest is dropped so that no half line is written later.
 */
static void flush_whole(struct run *r, FILE *f, off_t *good,
			const char *name)
{
	if (!fflush(f) && !ferror(f)) {
		*good = ftello(f);
		return;
	}
	int err = errno;
	__fpurge(f);
	clearerr(f);
	if (ftruncate(fileno(f), *good) == 0)
		fseeko(f, *good, SEEK_SET);
	run_fail(r, "results-write", "writing %s: %s (the file keeps its "
		 "whole lines)", name, strerror(err));
}

static void logev(struct run *r, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logev(struct run *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	if (!r->events)
		return;
	fprintf(r->events, "%9.3f  %-13s ", now(r), kind);
	va_start(ap, fmt);
	vfprintf(r->events, fmt, ap);
	va_end(ap);
	fputc('\n', r->events);
	flush_whole(r, r->events, &r->events_good, "events.log");
}

static void say(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->tty)
		fputs("\r\033[K", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void run_fail(struct run *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	if (r->error_kind)
		return;		/* the first cause is the one that counts */
	if (r->be.error_kind) {	/* the backend named the real cause */
		kind = r->be.error_kind;
		r->be.error_kind = NULL;
	}
	r->error_kind = kind;
	r->be.stopping = true;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	logev(r, "ERROR", "%s: %s", kind, r->error);
}

/* key=value lookup in an agent "stats" line. */
static int64_t kv_get(const char *line, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p += n)
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return strtoll(p + n + 1, NULL, 0);
	return -1;
}

static int64_t kv_any(const char *line, const char *const *keys)
{
	for (; *keys; keys++) {
		int64_t v = kv_get(line, *keys);
		if (v >= 0)
			return v;
	}
	return -1;
}

/* The driver's debugfs names, as the agent spells them. */
static const char *const fallback_keys[] = { "fallbacks_4k", "fallbacks",
	NULL };

static uint64_t rng_next(struct run *r)
{
	/* xorshift64*: reproducible from the scenario's seed */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ull;
}

/* ---- agent ---- */

static void agent_queue(struct run *r, const char *line, int owner)
{
	if (r->nqueue == MAX_QUEUE)
		return;
	snprintf(r->queue[r->nqueue].line, sizeof(r->queue[0].line), "%s",
		 line);
	r->queue[r->nqueue++].owner = owner;
}

/* /init prints TB-READY as it starts the agent: a line sent before the
 * agent's "event ready" may be lost or garbled.  A backend whose agent
 * never says ready gets its requests after AGENT_GRACE s anyway. */
#define AGENT_GRACE	3.0

static void agent_kick(struct run *r)
{
	if (r->busy || !r->nqueue || !r->ready)
		return;
	if (!r->agent_up && now(r) - r->ready_t < AGENT_GRACE)
		return;
	r->cur = r->queue[0];
	memmove(r->queue, r->queue + 1, --r->nqueue * sizeof(r->queue[0]));
	if (r->be.ops->agent_send(&r->be, r->cur.line)) {
		run_fail(r, "agent-dead", "%s", r->be.error);
		return;
	}
	r->busy = true;
	r->sent_t = now(r);
	if (r->cur.owner >= 0 || r->cur.owner == OWN_PING)
		logev(r, "AGENT-SEND", "%s", r->cur.line);
}

/* One more agent line nobody asked for: false (and the run ends) past
 * MAX_UNSOLICITED, a flooding agent. */
static bool unsolicited_ok(struct run *r)
{
	if (++r->unsolicited <= MAX_UNSOLICITED)
		return true;
	run_fail(r, "agent-flood", "more than %d agent lines nobody asked "
		 "for (a flooding agent)", MAX_UNSOLICITED);
	return false;
}

static void on_reply(struct run *r, const char *text)
{
	if (!r->busy) {
		if (unsolicited_ok(r))
			logev(r, "AGENT-STRAY", "%s", text);
		return;
	}
	r->busy = false;
	int own = r->cur.owner;
	if (own == OWN_STATS || own == OWN_FINAL) {
		if (!strncmp(text, "ok", 2)) {
			snprintf(r->stats, sizeof(r->stats), "%s", text);
			r->stats_t = now(r);
			/* The guest's books before the host moved anything. */
			if (!r->moved)
				snprintf(r->first_stats,
					 sizeof(r->first_stats), "%s", text);
			int64_t oom = kv_get(text, "oom_kill");
			if (oom > r->oom_console)
				r->oom_console = oom;
			if (own == OWN_FINAL) {
				r->final_stats_ok = true;
				snprintf(r->final_stats,
					 sizeof(r->final_stats), "%s", text);
				logev(r, "FINAL-STATS", "%s", text);
			}
		}
	} else if (own == OWN_PING) {
		r->ping_ok = !strcmp(text, "ok pong");
		logev(r, "AGENT-REPLY", "%s", text);
	} else if (own == OWN_INFO) {
		logev(r, "AGENT-REPLY", "%s", text);
	} else {
		struct step_rt *rt = &r->rt[own];
		snprintf(rt->reply, sizeof(rt->reply), "%s", text);
		rt->action_pending = false;
		rt->action_t = now(r);
		const char *id = strstr(text, "id=");
		if (id && !strncmp(text, "ok", 2))
			rt->workload_id = strtol(id + 3, NULL, 10);
		logev(r, "AGENT-REPLY", "[%s] %s", r->p->steps[own].name,
		      text);
	}
	agent_kick(r);
}

static void on_agent_event(struct run *r, const char *text)
{
	if (!strncmp(text, "protocol-error ", 15)) {
		run_fail(r, "agent-protocol", "%s", text + 15);
		return;
	}
	/* Every event but the first "ready" counts: exits are bounded by
	 * the workloads, restarts are rare. */
	if ((strcmp(text, "ready") || r->agent_up) && !unsolicited_ok(r))
		return;
	logev(r, "AGENT-EVENT", "%s", text);
	if (!strcmp(text, "ready")) {
		/* A request in flight is lost: one sent before the agent
		 * was up is sent again, one a restarted agent dropped is
		 * answered for it. */
		if (r->busy && !r->agent_up) {
			int n = r->nqueue < MAX_QUEUE ? r->nqueue :
				MAX_QUEUE - 1;
			r->busy = false;
			memmove(r->queue + 1, r->queue,
				n * sizeof(r->queue[0]));
			r->queue[0] = r->cur;
			r->nqueue = n + 1;
		} else if (r->busy) {
			on_reply(r, "err agent-restarted");
		}
		/* A restarted agent (its /init respawns it) forgot the
		 * workloads of the one before: the run goes on, and those
		 * workloads count as gone for expect-survives. */
		if (r->agent_up) {
			logev(r, "AGENT-RESTARTED", "workloads of the earlier "
			      "agent are gone");
			for (int i = 0; i <= r->cur_step; i++) {
				if (r->rt[i].workload_id > 0 &&
				    !r->rt[i].died) {
					r->rt[i].died = true;
					snprintf(r->rt[i].died_how,
						 sizeof(r->rt[i].died_how),
						 "the agent restarted");
				}
			}
		}
		r->agent_up = true;
		agent_kick(r);
		return;
	}
	if (strncmp(text, "exit ", 5))
		return;
	long id = kv_get(text, "id");
	for (int i = 0; i <= r->cur_step; i++) {
		if (r->rt[i].workload_id == id && id > 0) {
			r->rt[i].died = true;
			snprintf(r->rt[i].died_how, sizeof(r->rt[i].died_how),
				 "%s", text);
		}
	}
}

/* ---- events from the backend ---- */

static void note_actual(struct run *r, int64_t actual, double t)
{
	if (actual < 0)
		return;
	if (actual != r->last_actual) {
		r->changes = grow(r->changes, &r->cap_changes, r->nchanges,
				  sizeof(double));
		r->changes[r->nchanges++] = t;
		r->last_actual = actual;
		r->last_change_t = t;
	}
}

static void on_event(void *arg, const struct be_event *ev)
{
	struct run *r = arg;

	switch (ev->kind) {
	case BE_EV_CONSOLE:
		r->console_bytes += strlen(ev->text) + 1;
		if (r->console_bytes > CONSOLE_MAX_BYTES) {
			run_fail(r, "console-flood", "the guest console sent "
				 "more than %u MiB (a flood); console.log "
				 "keeps the first %u MiB",
				 CONSOLE_MAX_BYTES >> 20,
				 CONSOLE_MAX_BYTES >> 20);
			break;
		}
		if (r->console) {
			fprintf(r->console, "%s\n", ev->text);
			flush_whole(r, r->console, &r->console_good,
				    "console.log");
		}
		r->lines = grow(r->lines, &r->cap_lines, r->nlines,
				sizeof(*r->lines));
		r->lines[r->nlines].t = ev->t;
		r->lines[r->nlines++].text = strdup(ev->text);
		if (strstr(ev->text, "Out of memory: Killed process") ||
		    strstr(ev->text, "Memory cgroup out of memory: Killed")) {
			if (r->oom_console < 16)
				r->oom_t[r->oom_console] = ev->t;
			r->oom_console++;
			logev(r, "OOM-KILL", "%s", ev->text);
		}
		if (strstr(ev->text, "tb_balloon: ") ||
		    strstr(ev->text, "virtio_balloon"))
			logev(r, "DRIVER", "%s", ev->text);
		/* The console shell's prompt may precede it. */
		if (strstr(ev->text, "TB-INFO ")) {
			const char *k = strstr(ev->text, "kernel=");
			if (k)
				sscanf(k + 7, "%127s", r->kernel);
		}
		/* The guest's own /proc/cmdline, as /init prints it. */
		if (!strncmp(ev->text, "TB-CMDLINE: ", 12))
			snprintf(r->guest_cmdline, sizeof(r->guest_cmdline),
				 "%s", ev->text + 12);
		/* panic=-1 and -no-reboot: QEMU exits next; the panic is
		 * the cause to report. */
		if (strstr(ev->text, "Kernel panic - not syncing"))
			run_fail(r, "guest-panic", "%s", ev->text);
		if (strstr(ev->text, "TB-READY") &&
		    strstr(ev->text, "driver=error"))
			run_fail(r, "driver-failed", "the guest could not "
				 "load its balloon driver: %s", ev->text);
		if (!r->ready && strstr(ev->text, "TB-READY")) {
			r->ready = true;
			r->ready_t = ev->t;
			logev(r, "READY", "%s", ev->text);
			const char *k = strstr(ev->text, "kernel=");
			if (k && !r->kernel[0])
				sscanf(k + 7, "%127s", r->kernel);
		}
		break;
	case BE_EV_BALLOON_CHANGE:
		logev(r, "BALLOON_CHANGE", "actual=%lld (%.1f MiB)",
		      (long long)ev->value, ev->value / MIB);
		note_actual(r, ev->value, ev->t);
		break;
	case BE_EV_AGENT_REPLY:
		on_reply(r, ev->text);
		break;
	case BE_EV_AGENT_EVENT:
		on_agent_event(r, ev->text);
		break;
	case BE_EV_HOST:
		if (++r->host_events > MAX_HOST_EVENTS)
			run_fail(r, "qmp-flood", "more than %d QMP events "
				 "(QEMU floods)", MAX_HOST_EVENTS);
		else
			logev(r, "QMP-EVENT", "%s", ev->text);
		break;
	case BE_EV_DIED:
		logev(r, "DIED", "%s", ev->text);
		run_fail(r, "qemu-died", "%s", ev->text);
		break;
	}
}

/* ---- sampling ---- */

static void write_curve_header(struct run *r)
{
	fprintf(r->curve, "# scenario %s, backend %s; sizes in MiB, rate in "
		"MiB/s (balloon growth: + inflating), '-' unknown\n",
		r->p->name, r->be.ops->name);
	fprintf(r->curve, "time_s\tstep\ttarget_mib\treservation_mib\t"
		"balloon_mib\tballoon_4k_mib\tballoon_2m_mib\tguest_free_mib\t"
		"guest_avail_mib\tqemu_rss_mib\trate_mibs\trefusals\t"
		"partial_grants\tfallbacks\n");
}

static void col_mib(FILE *f, int64_t bytes)
{
	if (bytes < 0)
		fputs("\t-", f);
	else
		fprintf(f, "\t%.2f", bytes / MIB);
}

static void col_n(FILE *f, int64_t n)
{
	if (n < 0)
		fputs("\t-", f);
	else
		fprintf(f, "\t%lld", (long long)n);
}

static void progress(struct run *r, const struct sample_rec *s)
{
	char a[32], b[32];
	int st = r->cur_step;
	const char *name = st >= 0 ? r->p->steps[st].name : "boot";
	double pct = 100;

	if (r->p->sample <= 0 || r->be.plan == NULL)
		return;
	if (st >= 0 && r->p->steps[st].has_target) {
		double from = (double)r->rt[st].at_start.s.actual;
		double span = (double)r->target - from;
		if (fabs(span) > 1)
			pct = 100 * ((double)s->s.actual - from) / span;
	}
	fmt_size(a, sizeof(a), (double)((uint64_t)(s->s.target / MIB)
					<< 20));
	snprintf(b, sizeof(b), "%.0fM", s->s.actual / MIB);
	if (r->tty) {
		printf("\r\033[K  step %d/%d %-14s t=%6.1fs  target %-7s "
		       "reservation %-7s %3.0f%%", st + 1, r->p->nsteps, name,
		       s->t, a, b, pct);
		fflush(stdout);
	} else if (s->t >= r->next_progress) {
		say(r, "  t=%6.1fs step %d/%d %s: target %s reservation %s "
		    "(%.0f%%)", s->t, st + 1, r->p->nsteps, name, a, b, pct);
		r->next_progress = s->t + 10;
	}
}

static void take_sample(struct run *r)
{
	struct sample_rec s = { .t = now(r), .step = r->cur_step };

	if (r->be.ops->sample(&r->be, &s.s)) {
		run_fail(r, "qemu-hung", "%s", r->be.error);
		return;
	}
	s.free_kb = kv_get(r->stats, "memfree_kb");
	s.avail_kb = kv_get(r->stats, "memavail_kb");
	s.fallbacks_drv = kv_any(r->stats, fallback_keys);
	if (s.s.fallbacks < 0)
		s.s.fallbacks = s.fallbacks_drv;
	/* Page-size split from the driver (entries of each size). */
	if (s.s.balloon_2m < 0) {
		int64_t e2 = kv_get(r->stats, "balloon_2m_entries");
		int64_t e4 = kv_get(r->stats, "balloon_4k_entries");
		if (e2 >= 0)
			s.s.balloon_2m = e2 << 21;
		if (e4 >= 0)
			s.s.balloon_4k = e4 << 12;
	}
	if (r->nsamples) {
		struct sample_rec *prev = &r->samples[r->nsamples - 1];
		double dt = s.t - prev->t;
		if (dt > 0)
			s.rate = (double)(prev->s.actual - s.s.actual) / MIB /
				 dt;
	}
	note_actual(r, s.s.actual, s.t);
	r->samples = grow(r->samples, &r->cap_samples, r->nsamples,
			  sizeof(*r->samples));
	r->samples[r->nsamples++] = s;

	fprintf(r->curve, "%.3f\t%d", s.t, s.step + 1);
	col_mib(r->curve, s.s.target);
	col_mib(r->curve, s.s.actual);
	col_mib(r->curve, s.s.actual >= 0 ?
		(int64_t)r->p->memory - s.s.actual : -1);
	col_mib(r->curve, s.s.balloon_4k);
	col_mib(r->curve, s.s.balloon_2m);
	col_mib(r->curve, s.free_kb < 0 ? -1 : s.free_kb * 1024);
	col_mib(r->curve, s.avail_kb < 0 ? -1 : s.avail_kb * 1024);
	col_mib(r->curve, s.s.host_rss);
	fprintf(r->curve, "\t%.3f", s.rate);
	col_n(r->curve, s.s.refusals);
	col_n(r->curve, s.s.partial_grants);
	col_n(r->curve, s.s.fallbacks);
	fputc('\n', r->curve);
	flush_whole(r, r->curve, &r->curve_good, "curve.tsv");
	progress(r, &s);
}

static const struct sample_rec *last_sample(struct run *r)
{
	return r->nsamples ? &r->samples[r->nsamples - 1] : NULL;
}

/* ---- steps ---- */

static bool converged(struct run *r)
{
	return r->last_actual >= 0 &&
	       llabs(r->last_actual - (int64_t)r->target) <=
	       (int64_t)r->p->tolerance;
}

static bool settled(struct run *r, double since)
{
	double t = now(r);
	double quiet_from = r->last_change_t > since ? r->last_change_t :
			    since;
	return converged(r) || t - quiet_from >= r->p->settle;
}

static const char *skip_reason(struct run *r, const struct step *st)
{
	static char why[160];
	struct backend *be = &r->be;
	if (st->hotplug && (!be->ops->hotplug || (be->ops->supports &&
				!be->ops->supports(be, "hotplug")))) {
		snprintf(why, sizeof(why), "backend %s cannot hot-%s its "
			 "balloon device", be->ops->name,
			 st->hotplug == HOTPLUG_UNPLUG ? "unplug" : "plug");
		return why;
	}
	if (!be->ops->supports)
		return NULL;
	if ((st->action == ACT_SYSFS_WRITE || st->action == ACT_SYSFS_READ)
	    && !be->ops->supports(be, "sysfs")) {
		snprintf(why, sizeof(why), "backend %s has no driver sysfs",
			 be->ops->name);
		return why;
	}
	for (int i = 0; i < st->nprops; i++) {
		char f[96];
		snprintf(f, sizeof(f), "device-prop:%s", st->props[i].key);
		if (!be->ops->supports(be, f)) {
			snprintf(why, sizeof(why), "backend %s has no device "
				 "property %s", be->ops->name,
				 st->props[i].key);
			return why;
		}
	}
	return NULL;
}

/* The running step (if any) ends now, with the agent stats last read. */
static void end_step(struct run *r)
{
	if (r->cur_step < 0)
		return;
	r->rt[r->cur_step].end = now(r);
	memcpy(r->rt[r->cur_step].stats_end, r->stats, sizeof(r->stats));
}

static void start_step(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_rt *rt = &r->rt[i];
	char line[600];

	end_step(r);
	take_sample(r);
	r->cur_step = i;
	rt->started = true;
	rt->start = now(r);
	/* No sample yet when the very first one failed (QEMU gone or
	 * babbling): the run is already failing, the step starts empty. */
	if (last_sample(r))
		rt->at_start = *last_sample(r);
	else
		memset(&rt->at_start.s, 0xff, sizeof(rt->at_start.s));
	rt->oom_at_start = r->oom_console;
	logev(r, "STEP", "%d/%d [%s] starts", i + 1, r->p->nsteps, st->name);
	if (!r->tty)
		say(r, "  t=%6.1fs step %d/%d [%s]", rt->start, i + 1,
		    r->p->nsteps, st->name);

	const char *why = skip_reason(r, st);
	if (why) {
		rt->skipped = true;
		snprintf(rt->skip_reason, sizeof(rt->skip_reason), "%s", why);
		logev(r, "SKIPPED", "[%s] %s", st->name, why);
		return;
	}
	for (int k = 0; k < st->nprops; k++) {
		int rc = r->be.ops->set_prop(&r->be, st->props[k].key,
					     st->props[k].value);
		logev(r, "SET-PROP", "%s = %s%s", st->props[k].key,
		      st->props[k].value, rc ? " (failed)" : "");
		if (rc < 0)
			run_fail(r, "qmp-error", "%s", r->be.error);
	}
	if (st->hotplug) {
		bool plug = st->hotplug == HOTPLUG_PLUG;
		logev(r, "HOTPLUG", "%s the device", plug ? "plug" : "unplug");
		if (r->be.ops->hotplug(&r->be, plug) < 0)
			run_fail(r, "qmp-error", "%s", r->be.error);
		else
			logev(r, "HOTPLUG", "%s done", plug ? "plug" :
			      "unplug");
	}
	if (st->has_target || st->random_targets)
		r->moved = true;
	if (st->has_target) {
		logev(r, "TARGET", "%llu (%.1f MiB)",
		      (unsigned long long)st->target, st->target / MIB);
		if (r->be.ops->set_target(&r->be, st->target) < 0)
			run_fail(r, "qmp-error", "%s", r->be.error);
		r->target = st->target;
	}
	if (st->random_targets)
		rt->rand_next = now(r);
	if (st->action != ACT_NONE) {
		const char *name = agent_action_name(st->action);
		if (st->action == ACT_FREE) {
			long id = 0;
			for (int k = 0; k < i; k++)
				if (!strcmp(r->p->steps[k].name, st->free_ref))
					id = r->rt[k].workload_id;
			if (strcmp(st->free_ref, "all"))
				snprintf(line, sizeof(line), "free %ld", id);
			else
				snprintf(line, sizeof(line), "free all");
		} else {
			snprintf(line, sizeof(line), "%s %s", name, st->arg);
		}
		rt->action_pending = true;
		agent_queue(r, line, i);
		agent_kick(r);
	}
}

static void step_tick(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_rt *rt = &r->rt[i];
	double t = now(r);

	while (!rt->skipped && rt->rand_done < st->random_targets &&
	       t >= rt->rand_next) {
		uint64_t span = st->random_hi - st->random_lo;
		uint64_t v = st->random_lo + (span ? rng_next(r) % span : 0);
		v &= ~4095ull;
		if (r->be.ops->set_target(&r->be, v) < 0) {
			run_fail(r, "qmp-error", "%s", r->be.error);
			return;
		}
		r->target = v;
		rt->rand_done++;
		rt->rand_next += st->random_interval;
		logev(r, "TARGET", "%llu (%.1f MiB) random %d/%d",
		      (unsigned long long)v, v / MIB, rt->rand_done,
		      st->random_targets);
	}
	if (!rt->done && !rt->action_pending &&
	    (rt->skipped || rt->rand_done >= st->random_targets) &&
	    t - rt->start >= st->hold) {
		rt->done = true;
		logev(r, "STEP-DONE", "[%s]", st->name);
	}
}

/* May step @i start now?  Sets cond_t the first time its condition
 * holds, so `delay` counts from then. */
static bool step_due(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_rt *rt = &r->rt[i];
	const struct step_rt *prev = i ? &r->rt[i - 1] : NULL;
	double t = now(r), since = prev ? prev->start : r->ready_t;
	bool ok;

	switch (st->when) {
	case WHEN_AT:
		ok = (!prev || prev->started) && t - r->ready_t >= st->at;
		break;
	case WHEN_PREVIOUS:
		ok = !prev || prev->done;
		break;
	case WHEN_CONVERGED:
		ok = (!prev || prev->done) && converged(r);
		break;
	default:
		ok = (!prev || prev->done) && settled(r, since);
		break;
	}
	if (!ok)
		return false;
	if (rt->cond_t == 0)
		rt->cond_t = t;
	return t - rt->cond_t >= st->delay;
}

/* ---- results directory ---- */

static int make_dirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static int open_run_dir(struct run *r)
{
	const struct harness_paths *hp = harness_paths();
	char base[PATH_MAX], id[96];
	time_t t = time(NULL);
	struct tm tm;

	snprintf(base, sizeof(base), "%s/%s", hp->results ? hp->results :
		 "results", r->p->name);
	if (make_dirs(base))
		return -1;
	localtime_r(&t, &tm);
	if (hp->run_id)
		snprintf(id, sizeof(id), "%s", hp->run_id);
	else
		snprintf(id, sizeof(id), "%04d%02d%02d-%02d%02d%02d-%s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, r->be.ops->name);
	/* Never overwrite: add -2, -3, ... when the name is taken. */
	for (int n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(r->dir, sizeof(r->dir), "%s/%s", base, id);
		else
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%d", base, id,
				 n);
		if (!mkdir(r->dir, 0755))
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

static FILE *open_part(struct run *r, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.part", r->dir, name);
	return fopen(path, "w");
}

static void close_part(struct run *r, FILE **f, const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!*f)
		return;
	bool ok = !fflush(*f) && !ferror(*f);
	ok = !fsync(fileno(*f)) && ok;
	ok = !fclose(*f) && ok;
	*f = NULL;
	snprintf(a, sizeof(a), "%s/%s.part", r->dir, name);
	snprintf(b, sizeof(b), "%s/%s", r->dir, name);
	/* A file the disk refused keeps its .part name: never a short file
	 * under the finished name. */
	if (ok)
		rename(a, b);
	else
		run_fail(r, "results-write", "writing %s: %s (left as "
			 "%s.part)", name, strerror(errno), name);
}

/* Room for summary.json, taken when the run starts, so that a full disk
 * still gets its verdict written. */
#define SUMMARY_RESERVE	(512 << 10)

static int reserve_summary(struct run *r)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/summary.json.part", r->dir);
	r->summary_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
	if (r->summary_fd < 0)
		return -1;
	int err = posix_fallocate(r->summary_fd, 0, SUMMARY_RESERVE);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

static void point_latest(struct run *r)
{
	char link[PATH_MAX], tmp[PATH_MAX];
	const char *leaf = strrchr(r->dir, '/') + 1;
	snprintf(link, sizeof(link), "%.*s/latest", (int)(leaf - r->dir - 1),
		 r->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid());
	unlink(tmp);
	if (!symlink(leaf, tmp))
		rename(tmp, link);
}

#include "run_check.c"

/* ---- the run ---- */

static void on_signal(int sig)
{
	harness_interrupted = sig;
	if (the_run && the_run->be.ops && the_run->be.ops->kill_now &&
	    harness_interrupted && sig == SIGQUIT)
		the_run->be.ops->kill_now(&the_run->be);
}

static void main_loop(struct run *r)
{
	const struct plan *p = r->p;
	double next_sample = 0, end_t = 0;
	bool info_sent = false;

	while (!r->error_kind) {
		double t = now(r);
		if (harness_interrupted) {
			run_fail(r, "interrupted", "signal %d",
				 (int)harness_interrupted);
			break;
		}
		if (t >= p->time_limit) {
			run_fail(r, "time-limit", "time limit %.0f s expired "
				 "%s", p->time_limit, !r->ready ?
				 "before the guest was ready" : r->cur_step < 0
				 ? "before the first step" : "during a step");
			break;
		}
		if (!r->ready) {
			if (t >= p->boot_timeout) {
				run_fail(r, "guest-not-ready", "no TB-READY "
					 "on the console within %.0f s "
					 "(boot-timeout)", p->boot_timeout);
				break;
			}
			if (r->be.ops->wait(&r->be, t + 0.2, true) < 0)
				break;
			continue;
		}
		if (!info_sent) {
			info_sent = true;
			agent_queue(r, "ping", OWN_PING);
			agent_queue(r, "exec echo TB-INFO kernel=$(uname -r) "
				    ">/dev/ttyS0", OWN_INFO);
			agent_kick(r);
		}
		if (r->busy && t - r->sent_t > p->agent_timeout) {
			run_fail(r, "agent-dead", "no reply to '%s' within "
				 "%.0f s (agent-timeout)", r->cur.line,
				 p->agent_timeout);
			break;
		}
		if (t >= next_sample) {
			take_sample(r);
			if (r->error_kind)
				break;
			if (!r->busy && !r->nqueue &&
			    now(r) - r->stats_t >= p->sample) {
				agent_queue(r, "stats", OWN_STATS);
				agent_kick(r);
			}
			next_sample = t + p->sample;
		}
		agent_kick(r);	/* the agent may have come up */
		/* Timeline. */
		if (r->cur_step >= 0)
			step_tick(r, r->cur_step);
		int nx = r->cur_step + 1;
		if (nx < p->nsteps && step_due(r, nx))
			start_step(r, nx);
		if (nx >= p->nsteps && r->rt[p->nsteps - 1].done) {
			const struct step *last = &p->steps[p->nsteps - 1];
			/* The last target gets its chance to settle. */
			if (!(last->has_target || last->random_targets) ||
			    settled(r, r->rt[p->nsteps - 1].start)) {
				if (!end_t)
					end_t = t;
				break;
			}
		}
		double until = next_sample;
		if (until > t + 0.1)
			until = t + 0.1;	/* timeline resolution */
		if (r->be.ops->wait(&r->be, until, true) < 0)
			break;
	}

	end_step(r);
	/* Final stats and health: bounded by agent-timeout. */
	if (!r->error_kind || !strcmp(r->error_kind, "time-limit")) {
		if (!r->error_kind)
			take_sample(r);
		double stop = now(r) + (r->busy ? p->agent_timeout : 0) +
			      (p->agent_timeout < 20 ? p->agent_timeout : 20);
		agent_queue(r, "stats", OWN_FINAL);
		agent_queue(r, "ping", OWN_PING);
		r->ping_ok = false;
		agent_kick(r);
		while (!harness_interrupted && now(r) < stop &&
		       (r->busy || r->nqueue) && !r->error_kind) {
			if (r->be.ops->wait(&r->be, now(r) + 0.2, true) < 0)
				break;
		}
		if (!r->ping_ok)
			logev(r, "HEALTH", "agent did not answer the final "
			      "ping");
	}
}

int run_plan(const struct plan *plan, const struct backend_ops *ops)
{
	struct run *r = calloc(1, sizeof(*r));
	int status;

	r->p = plan;
	r->be.ops = ops;
	r->be.emit = on_event;
	r->be.emit_arg = r;
	r->cur_step = -1;
	r->summary_fd = -1;
	r->last_actual = -1;
	r->rng = plan->seed * 0x9E3779B97F4A7C15ull + 1;
	r->target = plan->memory;
	r->tty = isatty(1) && !harness_paths()->quiet;
	snprintf(r->kernel, sizeof(r->kernel), "unknown");
	the_run = r;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (ops->prepare(&r->be, plan)) {
		if (r->be.error_kind && !strcmp(r->be.error_kind, "unsupported")) {
			/* Not a failure: the scenario is not for this backend. */
			printf("harness: %s skipped: %s\n", plan->name,
			       r->be.error);
			if (ops->stop)
				ops->stop(&r->be);
			free(r);
			return 3;
		}
		fprintf(stderr, "harness: %s backend: %s\n", ops->name,
			r->be.error);
		if (ops->stop)
			ops->stop(&r->be);
		return 2;
	}
	if (open_run_dir(r)) {
		fprintf(stderr, "harness: cannot create a results directory "
			"under %s: %s\n", harness_paths()->results,
			strerror(errno));
		ops->stop(&r->be);
		return 2;
	}
	r->be.run_dir = r->dir;
	r->curve = open_part(r, "curve.tsv");
	r->events = open_part(r, "events.log");
	r->console = open_part(r, "console.log");
	if (!r->curve || !r->events || !r->console || reserve_summary(r)) {
		fprintf(stderr, "harness: cannot write in %s: %s\n", r->dir,
			strerror(errno));
		ops->stop(&r->be);
		return 2;
	}
	write_curve_header(r);
	flush_whole(r, r->curve, &r->curve_good, "curve.tsv");
	say(r, "harness: %s on %s (%s), results in %s", plan->name, ops->name,
	    r->be.accel, r->dir);
	logev(r, "START", "scenario %s backend %s accel %s", plan->name,
	      ops->name, r->be.accel);
	logev(r, "CMDLINE", "%s", r->be.kernel_cmdline);

	if (ops->start(&r->be)) {
		run_fail(r, "qemu-start", "%s", r->be.error);
	} else {
		main_loop(r);
	}
	ops->stop(&r->be);
	if (r->tty)
		fputs("\r\033[K", stdout);
	logev(r, "STOP", "%s", r->error_kind ? r->error_kind : "completed");

	status = finish(r);
	the_run = NULL;
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i].text);
	free(r->lines);
	free(r->samples);
	free(r->changes);
	/* The backend's state block: stop() released what it held, and it
	 * kept only what now() needs for finish(). */
	free(r->be.priv);
	free(r);
	return status;
}
