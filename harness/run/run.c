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

#include "run_int.h"

static struct run *the_run;	/* for the signal path */

/* ---- the run ---- */

static void on_signal(int sig)
{
	if (!the_run)
		return;
	*the_run->env->stop = sig;
	if (the_run->be.ops && the_run->be.ops->kill_now && sig == SIGQUIT)
		the_run->be.ops->kill_now(&the_run->be);
}

static void main_loop(struct run *r)
{
	const struct plan *p = r->p;
	double next_sample = 0, end_t = 0;
	bool info_sent = false;

	while (!r->error_kind) {
		double t = now(r);
		if (*r->env->stop) {
			run_fail(r, "interrupted", "signal %d",
				 (int)*r->env->stop);
			break;
		}
		if (t >= p->time_limit) {
			run_fail(r, "time-limit", "time limit %.0f s expired "
				 "%s", p->time_limit, !r->guest.ready ?
				 "before the guest was ready" : r->cur_step < 0
				 ? "before the first step" : "during a step");
			break;
		}
		if (!r->guest.ready) {
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
				    "debian=$(uname -v | sed -n "
				    "'s/.*Debian \\([^ ]*\\).*/\\1/p') "
				    ">/dev/ttyS0", OWN_INFO);
			if (p->swap) {
				/* Guest swap first: the steps assume it. */
				char line[64];
				snprintf(line, sizeof(line), "swap %llu",
					 (unsigned long long)p->swap);
				agent_queue(r, line, OWN_SWAP);
				r->swap_pending = true;
			}
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
			gstats_poll(r);
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
		if (nx < p->nsteps && !r->swap_pending && step_due(r, nx))
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
		while (!*r->env->stop && now(r) < stop &&
		       (r->busy || r->nqueue) && !r->error_kind &&
		       !(r->busy && now(r) - r->sent_t > p->agent_timeout)) {
			if (r->be.ops->wait(&r->be, now(r) + 0.2, true) < 0)
				break;
		}
		/* An agent that never answers again is dead, at the end of a
		 * run as during it (agent-timeout, or the wait above). */
		if (r->busy && !*r->env->stop && !r->error_kind &&
		    (now(r) >= stop || now(r) - r->sent_t > p->agent_timeout))
			run_fail(r, "agent-dead", "no reply to '%s' within %.0f "
				 "s at the end of the run", r->cur.line,
				 now(r) - r->sent_t);
		if (!r->ping_ok)
			logev(r, "HEALTH", "agent did not answer the final "
			      "ping");
	}
}

int run_plan(const struct plan *plan, const struct backend_ops *ops,
	     const struct be_env *env, const struct run_opts *opts)
{
	struct run *r = calloc(1, sizeof(*r));
	int status;

	r->p = plan;
	r->env = env;
	r->opts = opts;
	r->be.ops = ops;
	r->be.emit = on_event;
	r->be.emit_arg = r;
	r->cur_step = -1;
	r->trace.active = -1;
	r->summary_fd = -1;
	r->last_actual = -1;
	r->rng = plan->seed * 0x9E3779B97F4A7C15ull + 1;
	r->target = plan->memory;
	r->tty = isatty(1) && !opts->quiet;
	guest_init(&r->guest);
	the_run = r;

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (ops->prepare(&r->be, plan, env)) {
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
			"under %s: %s\n", opts->results ? opts->results : "results",
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
	logev(r, "START", "scenario %s backend %s accel %s machine %s",
	      plan->name, ops->name, r->be.accel, plan->machine);
	logev(r, "CMDLINE", "%s", r->be.kernel_cmdline);

	if (ops->start(&r->be)) {
		run_fail(r, "qemu-start", "%s", r->be.error);
	} else {
		main_loop(r);
		batches_drain(r);	/* the last batches, QEMU still up */
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
	for (int i = 0; i < PLAN_MAX_STEPS; i++)
		free(r->pol[i].recs);
	/* The backend's state block: stop() released what it held, and it
	 * kept only what now() needs for finish(). */
	free(r->be.priv);
	free(r);
	return status;
}

