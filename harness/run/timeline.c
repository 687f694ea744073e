// SPDX-License-Identifier: GPL-2.0-only
/*
 * timeline.c - the steps: when each is due, what it does when it starts,
 * when it ends.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "tb_proto.h"

static uint64_t rng_next(struct run *r)
{
	/* xorshift64*: reproducible from the scenario's seed */
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return r->rng * 2685821657736338717ull;
}


bool converged(struct run *r)
{
	return r->last_actual >= 0 &&
	       llabs(r->last_actual - (int64_t)r->target) <=
	       (int64_t)r->p->tolerance;
}

bool settled(struct run *r, double since)
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
	if ((st->lifecycle == LC_SAVE_RESTORE || st->lifecycle ==
	     LC_SAVE_RESTORE_BUSY || st->lifecycle == LC_RESET) &&
	    !be->ops->lifecycle) {
		snprintf(why, sizeof(why), "backend %s cannot %s its guest",
			 be->ops->name, st->lifecycle == LC_RESET ? "reset" :
			 "save and restore");
		return why;
	}
	if (!be->ops->supports)
		return NULL;
	if ((st->lifecycle == LC_UNBIND || st->lifecycle == LC_BIND) &&
	    !be->ops->supports(be, "sysfs")) {
		snprintf(why, sizeof(why), "backend %s has no tb_balloon "
			 "driver to %s", be->ops->name,
			 lifecycle_names[st->lifecycle]);
		return why;
	}
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

/*
 * The agent's shell lines of unbind and bind: the PCI driver's sysfs
 * files, the device found by its IDs.  Exit 3: no device (bound, for
 * unbind), 4: the sysfs write failed, 5: bind found it bound already.
 */
#define TB_PCI_DRV	"/sys/bus/pci/drivers/tb_balloon"
#define STR_(x)		#x
#define STR(x)		STR_(x)
static const char unbind_sh[] =
	"set -- " TB_PCI_DRV "/0000:*; [ -e \"$1\" ] || exit 3; "
	"for a; do echo \"${a##*/}\" >" TB_PCI_DRV "/unbind || exit 4; done";
static const char bind_sh[] =
	"n=0; for a in /sys/bus/pci/devices/*; do "
	"[ \"$(cat $a/vendor):$(cat $a/device)\" = "
	"\"" STR(TB_PCI_VENDOR_ID) ":" STR(TB_PCI_DEVICE_ID) "\" ] || continue; "
	"[ -e $a/driver ] && exit 5; "
	"echo \"${a##*/}\" >" TB_PCI_DRV "/bind || exit 4; n=1; done; "
	"[ $n = 1 ] || exit 3";

void lifecycle_reply(struct run *r, int step, const char *text)
{
	const struct step *st = &r->p->steps[step];
	static const char *const why[] = {
		[3] = "no tb-balloon device (bound to the driver, for unbind)",
		[4] = "the driver's sysfs write failed",
		[5] = "the device is bound already",
	};
	int code = -1;

	if ((st->lifecycle != LC_UNBIND && st->lifecycle != LC_BIND) ||
	    !strcmp(text, "ok 0"))
		return;
	sscanf(text, "ok %d", &code);
	run_fail(r, "lifecycle", "%s:%d: [%s] lifecycle = %s: the agent "
		 "replied '%.80s'%s%s", st->lifecycle_from.file,
		 st->lifecycle_from.line, st->name,
		 lifecycle_names[st->lifecycle], text,
		 code >= 3 && code <= 5 ? ": " : "",
		 code >= 3 && code <= 5 ? why[code] : "");
}

/* A step's lifecycle event, before its target. */
static void lifecycle_start(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_rt *rt = &r->rt[i];
	const char *name = lifecycle_names[st->lifecycle];
	char line[600];

	logev(r, "LIFECYCLE", "%s", name);
	if (st->lifecycle == LC_UNBIND || st->lifecycle == LC_BIND) {
		snprintf(line, sizeof(line), "exec %s", st->lifecycle ==
			 LC_UNBIND ? unbind_sh : bind_sh);
		rt->action_pending = true;
		agent_queue(r, line, i);
		agent_kick(r);
		return;
	}
	/* The device's batch log so far: a restored device has a new one,
	 * and its clock (the guest's) stood still meanwhile. */
	batches_drain(r);
	if (r->be.ops->lifecycle(&r->be, st->lifecycle) < 0) {
		run_fail(r, "lifecycle", "[%s] lifecycle = %s: %s", st->name,
			 name, r->be.error);
		return;
	}
	logev(r, "LIFECYCLE", "%s done", name);
	if (st->lifecycle != LC_RESET)
		return;
	/* The guest boots again: no agent until TB-READY and its "event
	 * ready"; a request in flight is sent again then.  The workloads
	 * are gone with the old boot, and the accounting starts over. */
	r->reboot_t = now(r);
	r->agent_up = false;
	r->rebase = true;
	for (int k = 0; k < i; k++)
		if (r->rt[k].workload_id > 0 && !r->rt[k].died) {
			r->rt[k].died = true;
			snprintf(r->rt[k].died_how, sizeof(r->rt[k].died_how),
				 "the guest was reset");
		}
}

/* The running step (if any) ends now, with the agent stats last read. */
void end_step(struct run *r)
{
	if (r->cur_step < 0)
		return;
	r->rt[r->cur_step].end = now(r);
	memcpy(r->rt[r->cur_step].stats_end, r->stats, sizeof(r->stats));
}

void start_step(struct run *r, int i)
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
	rt->oom_at_start = r->guest.oom_kills;
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
	if (st->lifecycle)
		lifecycle_start(r, i);
	if (st->has_target || st->random_targets)
		r->moved = true;
	if (st->has_target) {
		logev(r, "TARGET", "%llu (%.1f MiB)",
		      (unsigned long long)st->target, st->target / MIB);
		rt->target_t = now(r);
		if (r->be.ops->set_target(&r->be, st->target) < 0)
			run_fail(r, "qmp-error", "%s", r->be.error);
		r->target = st->target;
	}
	if (st->random_targets)
		rt->rand_next = now(r);
	if (st->trace) {
		r->trace.active = i;
		logev(r, "TRACE", "[%s] starts", st->name);
	}
	if (st->has_policy)
		policy_start(r, i);
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

void step_tick(struct run *r, int i)
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
	if (!rt->done && !rt->skipped)
		policy_tick(r, i);
	if (r->reboot_t && t - r->reboot_t > r->p->boot_timeout) {
		run_fail(r, "guest-not-ready", "no TB-READY on the console "
			 "within %.0f s of the reset (boot-timeout)",
			 r->p->boot_timeout);
		return;
	}
	if (!rt->done && !rt->action_pending && !r->reboot_t &&
	    (rt->skipped || rt->rand_done >= st->random_targets) &&
	    t - rt->start >= st->hold) {
		rt->done = true;
		policy_stop(r, i);
		logev(r, "STEP-DONE", "[%s]", st->name);
	}
	/* A trace runs for its step's hold, then frees what it holds. */
	int tr = r->trace.active;
	if (tr >= 0) {
		trace_tick(r, tr);
		if (r->rt[tr].done && !r->trace.nheld && !r->trace.busy) {
			trace_stop(r, tr);
			r->trace.active = -1;
		}
	}
}

/* May step @i start now?  Sets cond_t the first time its condition
 * holds, so `delay` counts from then. */
bool step_due(struct run *r, int i)
{
	const struct step *st = &r->p->steps[i];
	struct step_rt *rt = &r->rt[i];
	const struct step_rt *prev = i ? &r->rt[i - 1] : NULL;
	double t = now(r), since = prev ? prev->start : r->guest.ready_t;
	bool ok;

	switch (st->when) {
	case WHEN_AT:
		ok = (!prev || prev->started) && t - r->guest.ready_t >= st->at;
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

