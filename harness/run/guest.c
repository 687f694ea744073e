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
	g->device_version = -1;
}

/* The word after "@key=" in @line into @out (up to white space). */
static void word_after(const char *line, const char *key, char *out,
		       size_t len)
{
	const char *k = strstr(line, key);

	if (k && len)
		snprintf(out, len, "%.*s", (int)strcspn(k + strlen(key), " \t"),
			 k + strlen(key));
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
	if (strstr(line, "TB-INFO ") && (k = strstr(line, "kernel="))) {
		sscanf(k + 7, "%127s", g->kernel);
		word_after(line, "debian=", g->kernel_pkg,
			   sizeof(g->kernel_pkg));
	}
	if (!strncmp(line, "TB-DRIVER: ", 11)) {
		word_after(line, "module=", g->drv_module,
			   sizeof(g->drv_module));
		word_after(line, " version=", g->drv_version,
			   sizeof(g->drv_version));
		word_after(line, " srcversion=", g->drv_srcversion,
			   sizeof(g->drv_srcversion));
		word_after(line, " sha256=", g->drv_sha256,
			   sizeof(g->drv_sha256));
	}
	/* core/tb_guest.h TB_MSG_PROBE: "probe <pci>: magic=... version=N" */
	if (strstr(line, "tb_balloon: probe ") && (k = strstr(line, " version=")))
		sscanf(k + 9, "%d", &g->device_version);
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
