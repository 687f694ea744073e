// SPDX-License-Identifier: GPL-2.0-only
/*
 * events.c - what the backend reports: console lines interpreted, balloon changes, host events, death.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"


void note_actual(struct run *r, int64_t actual, double t)
{
	if (actual < 0)
		return;
	if (actual != r->last_actual) {
		/* Bounded: BALLOON_CHANGEs count as host events, samples by
		 * the time limit; this is the backstop. */
		if (r->nchanges >= MAX_CHANGES) {
			run_fail(r, "qmp-flood", "more than %d values of the "
				 "reservation", MAX_CHANGES);
			return;
		}
		r->changes = grow(r->changes, &r->cap_changes, r->nchanges,
				  sizeof(*r->changes));
		r->changes[r->nchanges++] = (struct change_rec){
			.t = t, .last_seen = t, .actual = actual };
		r->last_actual = actual;
		r->last_change_t = t;
	} else if (r->nchanges && t > r->changes[r->nchanges - 1].last_seen) {
		r->changes[r->nchanges - 1].last_seen = t;
	}
}

void on_event(void *arg, const struct be_event *ev)
{
	struct run *r = arg;
	unsigned what;

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
		what = guest_console_line(&r->guest, ev->text, ev->t);
		if (what & GUEST_OOM_KILL)
			logev(r, "OOM-KILL", "%s", ev->text);
		if (what & GUEST_DRIVER_LINE)
			logev(r, "DRIVER", "%s", ev->text);
		/* panic=-1 and -no-reboot: QEMU exits next; the panic is
		 * the cause to report. */
		if (what & GUEST_PANIC)
			run_fail(r, "guest-panic", "%s", ev->text);
		if (what & GUEST_DRIVER_FAILED)
			run_fail(r, "driver-failed", "the guest could not "
				 "load its balloon driver: %s", ev->text);
		if (what & GUEST_READY)
			logev(r, "READY", "%s", ev->text);
		if (r->reboot_t && strstr(ev->text, "TB-READY")) {
			/* The guest is back after a lifecycle reset. */
			r->reboot_t = 0;
			r->guest.ready_t = ev->t;
			logev(r, "READY", "again after the reset: %s",
			      ev->text);
		}
		break;
	case BE_EV_BALLOON_CHANGE:
		if (++r->host_events > MAX_HOST_EVENTS) {
			run_fail(r, "qmp-flood", "more than %d QMP events, "
				 "BALLOON_CHANGE included (QEMU floods)",
				 MAX_HOST_EVENTS);
			break;
		}
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

