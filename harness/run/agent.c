// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent.c - the agent queue: one request outstanding, replies routed to
 * their owner, asynchronous events.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

int64_t kv_any(const char *line, const char *const *keys)
{
	for (; *keys; keys++) {
		int64_t v = be_kv(line, *keys);
		if (v >= 0)
			return v;
	}
	return -1;
}

/* The driver's debugfs names, as the agent spells them. */
const char *const fallback_keys[] = { "fallbacks_4k", "fallbacks",
	NULL };


void agent_queue(struct run *r, const char *line, int owner)
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

void agent_kick(struct run *r)
{
	if (r->busy || !r->nqueue || !r->guest.ready || r->reboot_t)
		return;
	if (!r->agent_up && now(r) - r->guest.ready_t < AGENT_GRACE)
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

/*
 * The agent's numbers that the runner turns into bytes (sample.c,
 * expect.c: KiB * 1024, 4 KiB pages << 12, 2 MiB entries << 21, buddy
 * blocks << order): each must be 0 to AGENT_MAX_BYTES bytes, so that no
 * product overflows.  Returns false (and the run ends, agent-protocol)
 * at the first that is not.
 */
#define AGENT_MAX_BYTES	(1ll << 50)	/* 1 PiB: no guest comes near */

static bool stats_in_range(struct run *r, const char *text)
{
	static const struct { const char *key; int64_t unit; } sized[] = {
		{ "balloon_2m_entries", 2 << 20 },
		{ "balloon_4k_entries", 4096 },
		{ "balloon_pages", 4096 },
		{ "current_pages", 4096 },
		{ "device_balloon_pages", 4096 },
	};

	for (const char *p = text; (p = strchr(p, ' ')); ) {
		char key[64];
		int klen;

		p++;
		klen = (int)strcspn(p, "= ");
		if (p[klen] != '=' || klen >= (int)sizeof(key))
			continue;
		snprintf(key, sizeof(key), "%.*s", klen, p);
		int64_t unit = 0;
		int order;
		char end;
		if (klen > 3 && !strcmp(key + klen - 3, "_kb"))
			unit = 1024;
		else if (sscanf(key, "buddy_o%d%c", &order, &end) == 1 &&
			 order >= 0 && order < 16)
			unit = 4096ll << order;
		for (size_t i = 0; i < sizeof(sized) / sizeof(sized[0]); i++)
			if (!strcmp(key, sized[i].key))
				unit = sized[i].unit;
		if (!unit)
			continue;
		int64_t v = be_kv(p - 1, key);
		if (v < 0 || v > AGENT_MAX_BYTES / unit) {
			run_fail(r, "agent-protocol", "agent stats: %s=%.24s is "
				 "out of range (%lld bytes a unit, at most 1 PiB "
				 "in all)", key, p + klen + 1, (long long)unit);
			return false;
		}
	}
	return true;
}

void on_reply(struct run *r, const char *text)
{
	if (!r->busy) {
		if (unsolicited_ok(r))
			logev(r, "AGENT-STRAY", "%s", text);
		return;
	}
	r->busy = false;
	int own = r->cur.owner;
	if (own == OWN_STATS || own == OWN_FINAL) {
		if (!strncmp(text, "ok", 2) && stats_in_range(r, text)) {
			snprintf(r->stats, sizeof(r->stats), "%s", text);
			r->stats_t = now(r);
			/* The guest's books before the host moved anything
			 * (after a reset: once the new boot's balloon is
			 * back at the target, and from stats that carry the
			 * new driver's figures: a reply to a request sent
			 * before it loaded has none). */
			if (!r->moved || (r->rebase && converged(r) &&
					  be_kv(text, "balloon_pages") >= 0)) {
				snprintf(r->first_stats,
					 sizeof(r->first_stats), "%s", text);
				if (r->rebase)
					logev(r, "ACCOUNTING", "baseline taken "
					      "again after the reset: %.300s",
					      text);
				r->rebase = false;
			}
			int64_t oom = be_kv(text, "oom_kill");
			if (oom > r->guest.oom_kills)
				r->guest.oom_kills = oom;
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
	} else if (own == OWN_SWAP) {
		logev(r, "SWAP", "%s", text);
		r->swap_pending = false;
		if (strncmp(text, "ok", 2))
			run_fail(r, "swap-setup", "the guest's swap (swap = "
				 "%s): agent replied '%s'", r->cur.line + 5,
				 text);
	} else if (own == OWN_TRACE) {
		trace_reply(r, r->cur.line, text);
	} else {
		struct step_rt *rt = &r->rt[own];
		lifecycle_reply(r, own, text);
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

void on_agent_event(struct run *r, const char *text)
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
	long id = be_kv(text, "id");
	for (int i = 0; i <= r->cur_step; i++) {
		if (r->rt[i].workload_id == id && id > 0) {
			r->rt[i].died = true;
			snprintf(r->rt[i].died_how, sizeof(r->rt[i].died_how),
				 "%s", text);
		}
	}
}

