/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run.h - the runner: boots a plan's guest through a backend, plays its
 * timeline, samples the balloon, checks the expectations and writes the
 * run directory (results/<scenario>/<run-id>/).
 */
#ifndef HARNESS_RUN_H
#define HARNESS_RUN_H

#include <stdbool.h>

#include "backends/backend.h"
#include "plan/plan.h"

/* What the runner itself is told: where results go and how to show them. */
struct run_opts {
	const char *results;	/* results root, default "results" */
	const char *plot;	/* plot script, run after each run */
	const char *run_id;	/* fixed run id, or NULL for a fresh one */
	bool quiet;		/* no progress display */
};

/*
 * Run @plan on the backend @ops with @env (whose stop flag the runner's
 * SIGINT/SIGTERM handler sets).  Returns the exit status: 0 all
 * expectations held; 1 an expectation failed; 2 the run itself failed;
 * 3 the backend cannot run this scenario.
 */
int run_plan(const struct plan *plan, const struct backend_ops *ops,
	     const struct be_env *env, const struct run_opts *opts);

#endif /* HARNESS_RUN_H */
