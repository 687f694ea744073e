// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim.c - the harness's "sim" backend (backend.h): the
 * plan's guest, device properties and driver parameters become a
 * struct sim_config, and the runner's waits drive the simulator's virtual
 * clock instead of a real one.  No process is started, so stop() and
 * kill_now() have nothing to kill.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "plan/plan.h"
#include "sim/sim.h"

struct sim_be {
	struct sim_config cfg;
	struct sim *sim;
	struct backend *be;
	double stopped_at;	/* the clock after stop(): checks still ask */
};

static struct sim_be *priv(struct backend *be)
{
	return be->priv;
}

/*
 * Seconds to the clock's nanoseconds, rounded up so that after
 * wait(until) now() >= until holds in doubles too: the runner compares
 * them, and a clock stuck a rounding error short would never get there.
 */
static uint64_t to_ns(double s)
{
	uint64_t ns;

	if (s <= 0)
		return 0;
	ns = (uint64_t)ceil(s * 1e9);
	while ((double)ns / 1e9 < s)
		ns++;
	return ns;
}

static void on_out(void *arg, enum sim_out kind, uint64_t t, const char *text,
		   int64_t value)
{
	static const enum be_event_kind map[] = {
		[SIM_OUT_CONSOLE] = BE_EV_CONSOLE,
		[SIM_OUT_BALLOON_CHANGE] = BE_EV_BALLOON_CHANGE,
		[SIM_OUT_AGENT_REPLY] = BE_EV_AGENT_REPLY,
		[SIM_OUT_AGENT_EVENT] = BE_EV_AGENT_EVENT,
		[SIM_OUT_DIED] = BE_EV_DIED,
	};
	struct backend *be = arg;
	struct be_event ev = {
		.kind = map[kind], .t = (double)t / 1e9, .text = text,
		.value = value,
	};

	if (be->emit)
		be->emit(be->emit_arg, &ev);
}

/* "init_on_alloc=0" anywhere in the kernel command line additions. */
static bool cmdline_flag(const char *cmdline, const char *key, bool dflt)
{
	const char *p = cmdline;
	size_t n = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == cmdline || p[-1] == ' ') && p[n] == '=')
			return strtol(p + n + 1, NULL, 10) != 0;
		p += n;
	}
	return dflt;
}

static bool sim_supports(struct backend *be, const char *feature);

/*
 * A scenario built on what the model lacks (a driver parameter, or a
 * device property at boot or in any step, e.g. the hostile modes) is not
 * for this backend: be->error_kind "unsupported" makes the runner report
 * it skipped (exit 3).  @step: where the key is set, NULL for [global].
 */
static bool sim_lacks(struct backend *be, bool param, const char *key,
		      const char *step)
{
	char feature[128];

	snprintf(feature, sizeof(feature), "%s:%s",
		 param ? "driver-param" : "device-prop", key);
	if (sim_supports(be, feature))
		return false;
	snprintf(be->error, sizeof(be->error), "the simulator has no %s '%s'%s%s%s",
		 param ? "driver parameter" : "device property", key,
		 step ? " (step [" : "", step ? step : "", step ? "])" : "");
	be->error_kind = "unsupported";
	return true;
}

static int sim_prepare(struct backend *be, const struct plan *plan,
		       const struct be_env *env)
{
	struct sim_be *sb = calloc(1, sizeof(*sb));
	const char *timing = getenv("TB_SIM_TIMING");
	int i;

	if (!sb) {
		snprintf(be->error, sizeof(be->error), "out of memory");
		return -1;
	}
	be->priv = sb;
	be->env = env;
	sb->be = be;
	if (plan->memory < (64u << 20)) {
		snprintf(be->error, sizeof(be->error), "memory %llu bytes: the "
			 "simulated guest needs at least 64M",
			 (unsigned long long)plan->memory);
		return -1;
	}
	if (plan->swap) {
		snprintf(be->error, sizeof(be->error), "the simulator has no "
			 "guest swap (swap = %llu)",
			 (unsigned long long)plan->swap);
		be->error_kind = "unsupported";
		return -1;
	}
	sim_config_defaults(&sb->cfg, plan->memory);
	sb->cfg.seed = plan->seed;
	sb->cfg.init_on_alloc = cmdline_flag(plan->cmdline, "init_on_alloc",
					     true);
	for (int k = 0; k < plan->nsteps; k++) {
		const struct step *st = &plan->steps[k];

		/* The model has one boot and one driver binding: a save
		 * and restore would change nothing in it, a reset or rebind
		 * is not modelled.  Such scenarios are the real guest's. */
		if (st->lifecycle) {
			snprintf(be->error, sizeof(be->error), "the simulator "
				 "models no lifecycle = %s (step [%s]): save, "
				 "restore, reset and rebind need a real guest",
				 lifecycle_names[st->lifecycle], st->name);
			be->error_kind = "unsupported";
			return -1;
		}
		if (st->hotplug) {	/* no device to unplug in the model */
			snprintf(be->error, sizeof(be->error), "the simulator "
				 "cannot hot-plug its device (step [%s])",
				 st->name);
			be->error_kind = "unsupported";
			return -1;
		}
		for (i = 0; i < st->nprops; i++)
			if (sim_lacks(be, false, st->props[i].key, st->name))
				return -1;
	}
	for (i = 0; i < plan->nprops; i++)
		if (sim_lacks(be, false, plan->props[i].key, NULL) ||
		    sim_config_set_prop(&sb->cfg, plan->props[i].key,
					plan->props[i].value, be->error,
					sizeof(be->error)))
			return -1;
	for (i = 0; i < plan->ndparams; i++)
		if (sim_lacks(be, true, plan->dparams[i].key, NULL) ||
		    sim_config_set_param(&sb->cfg, plan->dparams[i].key,
					 plan->dparams[i].value, be->error,
					 sizeof(be->error)))
			return -1;
	if (timing && sim_timing_parse(&sb->cfg.timing, timing, be->error,
				       sizeof(be->error)))
		return -1;

	snprintf(be->host_version, sizeof(be->host_version),
		 "balloon-testbed simulator (core/ + guest-memory model)%s",
		 timing && *timing ? ", TB_SIM_TIMING set" : "");
	snprintf(be->accel, sizeof(be->accel), "virtual");
	snprintf(be->kernel_cmdline, sizeof(be->kernel_cmdline),
		 "(simulated) init_on_alloc=%d %s", sb->cfg.init_on_alloc,
		 plan->cmdline);
	return 0;
}

static int sim_start(struct backend *be)
{
	struct sim_be *sb = priv(be);

	sb->sim = sim_create(&sb->cfg, on_out, be, be->error,
			     sizeof(be->error));
	return sb->sim ? 0 : -1;
}

static int sim_wait(struct backend *be, double until, bool until_event)
{
	struct sim_be *sb = priv(be);

	if (!sb->sim)
		return -1;
	return sim_run_until(sb->sim, to_ns(until), until_event);
}

static double sim_be_now(struct backend *be)
{
	struct sim_be *sb = priv(be);

	if (!sb)
		return 0;
	return sb->sim ? (double)sim_now(sb->sim) / 1e9 : sb->stopped_at;
}

static int sim_be_set_target(struct backend *be, uint64_t bytes)
{
	sim_set_target(priv(be)->sim, bytes / TB_PAGE_SIZE);
	return 0;
}

static int sim_be_set_prop(struct backend *be, const char *prop,
			   const char *value)
{
	return sim_set_prop(priv(be)->sim, prop, value, be->error,
			    sizeof(be->error));
}

static int sim_be_get_prop(struct backend *be, const char *prop, char *buf,
			   size_t len)
{
	if (sim_get_prop(priv(be)->sim, prop, buf, len)) {
		snprintf(be->error, sizeof(be->error), "no property '%s'",
			 prop);
		return -1;
	}
	return 0;
}

static int sim_be_agent_send(struct backend *be, const char *line)
{
	if (sim_agent(priv(be)->sim, line)) {
		snprintf(be->error, sizeof(be->error), "agent busy or guest "
			 "dead; '%s' not sent", line);
		return -1;
	}
	return 0;
}

static int sim_be_sample(struct backend *be, struct be_sample *s)
{
	struct sim_stats st;

	sim_stats(priv(be)->sim, &st);
	s->target = (int64_t)(st.target * TB_PAGE_SIZE);
	s->actual = (int64_t)(st.actual * TB_PAGE_SIZE);
	s->balloon_4k = (int64_t)(st.balloon_4k * TB_PAGE_SIZE);
	s->balloon_2m = (int64_t)(st.balloon_2m * TB_PAGE_SIZE);
	s->host_rss = (int64_t)st.host_rss;
	s->ram_rss = (int64_t)st.ram_rss;
	s->refusals = (int64_t)st.refusals;
	s->partial_grants = (int64_t)st.partial_grants;
	s->fallbacks = (int64_t)st.fallbacks;
	return 0;
}

/* The machine goes; the small state stays so that now() keeps the final
 * time for the expectations checked after the run (freed at exit). */
static void sim_stop(struct backend *be)
{
	struct sim_be *sb = priv(be);

	if (!sb || !sb->sim)
		return;
	sb->stopped_at = (double)sim_now(sb->sim) / 1e9;
	sim_destroy(sb->sim);
	sb->sim = NULL;
}

static void sim_kill_now(struct backend *be)
{
	/* Nothing runs outside this process. */
}

static bool sim_supports(struct backend *be, const char *feature)
{
	/* What the model has: core/tb_knobs.h's TB_BE_SIM. */
	int knob = be_knob_feature("sim", feature);

	if (knob >= 0)
		return knob;
	if (!strncmp(feature, "device-prop:", 12) ||
	    !strncmp(feature, "driver-param:", 13))
		return false;
	/* The model keeps its own counters, not the driver's debugfs ones. */
	if (!strncmp(feature, "stat:", 5))
		return false;
	return true;	/* sysfs, messages */
}

const struct backend_ops backend_sim = {
	.name = "sim",
	.summary = "no QEMU: core/ logic + a guest-memory model on a virtual "
		   "clock (milliseconds per scenario)",
	.prepare = sim_prepare,
	.start = sim_start,
	.wait = sim_wait,
	.now = sim_be_now,
	.set_target = sim_be_set_target,
	.set_prop = sim_be_set_prop,
	.get_prop = sim_be_get_prop,
	.agent_send = sim_be_agent_send,
	.sample = sim_be_sample,
	.stop = sim_stop,
	.kill_now = sim_kill_now,
	.supports = sim_supports,
};
