/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * harness.h - what the harness's parts share besides the plan and the
 * backend seam: file locations, the interrupt flag, the runner's entry.
 */
#ifndef HARNESS_HARNESS_H
#define HARNESS_HARNESS_H

#include <signal.h>
#include <stdbool.h>

#include "backend.h"
#include "scenario.h"

struct harness_paths {
	const char *qemu;	/* our QEMU (emu backend) */
	const char *stock_qemu;	/* Debian's QEMU (virtio backend) */
	const char *kernel;	/* guest kernel image */
	const char *initrd;	/* guest initramfs */
	const char *accel;	/* "kvm" or "tcg" (scripts/accel.sh) */
	const char *results;	/* results root, default "results" */
	const char *plot;	/* plot script, run after each run */
	const char *run_id;	/* fixed run id, or NULL for a fresh one */
	bool quiet;		/* no progress display */
};

const struct harness_paths *harness_paths(void);

/* Set by SIGINT/SIGTERM; every wait loop checks it. */
extern volatile sig_atomic_t harness_interrupted;

/* Run the plan on the backend; returns the exit status (0: all expectations
 * held; 1: an expectation failed; 2: the run itself failed). */
int run_plan(const struct plan *plan, const struct backend_ops *ops);

#endif /* HARNESS_HARNESS_H */
