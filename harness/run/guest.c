// SPDX-License-Identifier: GPL-2.0-only
/*
 * guest.c - the guest's console lines classified (guest.h).
 */
#include <stdio.h>
#include <string.h>

#include "run/guest.h"

void guest_init(struct guest_state *g)
{
	memset(g, 0, sizeof(*g));
	snprintf(g->kernel, sizeof(g->kernel), "unknown");
}

unsigned guest_console_line(struct guest_state *g, const char *line,
			    double t)
{
	unsigned what = 0;
	const char *k;

	if (strstr(line, "Out of memory: Killed process") ||
	    strstr(line, "Memory cgroup out of memory: Killed")) {
		if (g->oom_kills < GUEST_OOM_TIMES)
			g->oom_t[g->oom_kills] = t;
		g->oom_kills++;
		what |= GUEST_OOM_KILL;
	}
	if (strstr(line, "tb_balloon: ") || strstr(line, "virtio_balloon"))
		what |= GUEST_DRIVER_LINE;
	/* The console shell's prompt may precede it. */
	if (strstr(line, "TB-INFO ") && (k = strstr(line, "kernel=")))
		sscanf(k + 7, "%127s", g->kernel);
	if (!strncmp(line, "TB-CMDLINE: ", 12))
		snprintf(g->cmdline, sizeof(g->cmdline), "%s", line + 12);
	/* panic=-1 and -no-reboot: QEMU exits next. */
	if (strstr(line, "Kernel panic - not syncing"))
		what |= GUEST_PANIC;
	if (strstr(line, "TB-READY") && strstr(line, "driver=error"))
		what |= GUEST_DRIVER_FAILED;
	if (!g->ready && strstr(line, "TB-READY")) {
		g->ready = true;
		g->ready_t = t;
		what |= GUEST_READY;
		k = strstr(line, "kernel=");
		if (k && !g->kernel[0])
			sscanf(k + 7, "%127s", g->kernel);
	}
	return what;
}
