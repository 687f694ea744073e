/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest.h - what the guest's own console lines say about it, read one way
 * for every reader: the runner (events.c) and the benchmark.  A line is
 * classified and the facts it carries are kept; what each kind means for
 * a run (a log line, a failure) is the caller's business.
 *
 * The lines are guest-driver/init's and the kernel's: "TB-READY ...
 * driver=..." when the driver is loaded, "TB-INFO kernel=... debian=...",
 * "TB-CMDLINE: <the guest's /proc/cmdline>", "TB-DRIVER: module=...
 * version=... srcversion=... sha256=..." (what was loaded), the driver's
 * probe line (the device's version register), OOM-killer and panic lines.
 */
#ifndef HARNESS_RUN_GUEST_H
#define HARNESS_RUN_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_OOM_TIMES	16

struct guest_state {
	bool ready;			/* TB-READY seen */
	double ready_t;			/* when, backend clock */
	char kernel[128];		/* uname -r; "unknown" until told */
	char cmdline[2048];		/* /proc/cmdline; "" until told */
	char kernel_pkg[64];		/* Debian version of the kernel
					   package (uname -v), or "" */
	/* TB-DRIVER: the balloon module init loaded; "" until told */
	char drv_module[32], drv_version[64], drv_srcversion[64];
	char drv_sha256[72];
	int device_version;		/* probe's version=, -1 unknown */
	int64_t oom_kills;		/* OOM kills counted */
	double oom_t[GUEST_OOM_TIMES];	/* when the first ones were seen */
};

/* What guest_console_line() found in a line (bits). */
enum guest_line {
	GUEST_OOM_KILL		= 1 << 0,	/* the OOM killer killed */
	GUEST_DRIVER_LINE	= 1 << 1,	/* a balloon driver's message */
	GUEST_PANIC		= 1 << 2,	/* "Kernel panic - not syncing" */
	GUEST_DRIVER_FAILED	= 1 << 3,	/* TB-READY with driver=error */
	GUEST_READY		= 1 << 4,	/* the first TB-READY */
};

void guest_init(struct guest_state *g);
/* Read one console line seen at @t; returns enum guest_line bits. */
unsigned guest_console_line(struct guest_state *g, const char *line,
			    double t);

#endif /* HARNESS_RUN_GUEST_H */
