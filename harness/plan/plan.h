/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * plan.h - scenario files (INI, fio-job-file style) parsed and resolved
 * into a plan: settings, a timeline of steps and their expectations.
 * The format is documented in scenarios/README.
 *
 * Units in the plan: bytes, seconds (double), counts.
 */
#ifndef HARNESS_PLAN_PLAN_H
#define HARNESS_PLAN_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "plan/units.h"
#include "tb_policy_host.h"

#define PLAN_MAX_STEPS		64
#define PLAN_MAX_EXPECTS	16
#define PLAN_MAX_KV		32
#define PLAN_STR		256

/* Where a value came from: "file:line" or "command line". */
struct origin {
	char file[PLAN_STR];
	int line;		/* 0: command line */
};

struct kv {
	char key[64];
	char value[PLAN_STR];	/* resolved, as passed on (bytes for sizes) */
	bool is_size;		/* value counts bytes */
	struct origin from;
};

enum expect_kind {
	EX_CONVERGED,		/* reached target within value (s) */
	EX_RESERVATION,		/* reservation at step end = value ± tol */
	EX_BALLOON,		/* balloon size at step end = value ± tol */
	EX_NEVER_BELOW,		/* reservation never below value - tol */
	EX_MESSAGE,		/* console line containing text appeared */
	EX_NO_MESSAGE,		/* ... did not appear */
	EX_OOM,			/* OOM kills counted (value = count, cmp) */
	EX_SURVIVES,		/* this step's workload still alive at end */
	EX_RSS_DROP,		/* host RSS dropped by at least value */
	EX_REFUSALS,		/* refusals counted >= value */
	EX_PARTIAL,		/* partial grants counted >= value */
	EX_FALLBACKS,		/* 2M->4K fallbacks counted >= value */
	EX_REPLY,		/* agent reply starts with text */
	EX_ACCOUNTING,		/* device, driver and guest agree within tol */
	EX_CHANGE_INTERVAL,	/* median time between reservation changes */
	EX_HEALTHY,		/* agent answers ping at the end, and the
				   kernel log shows no WARNING/BUG/Oops/... */
	EX_STAT,		/* a driver debugfs counter (text) cmp value */
	/* Over the step's metrics (run/metrics.c), cmp value: */
	EX_TIME_TO_90,		/* s to 90 % of the achieved change (<=) */
	EX_RATE,		/* mean rate 10..90 %, bytes/s (>=) */
	EX_CYCLES,		/* drain/refill cycles (<=) */
	EX_BAND,		/* max - min from the first stop, bytes (<=) */
	EX_OVERSHOOT,		/* past the target, bytes (<=) */
	EX_RSS_RETURNED,	/* host RSS drop / balloon growth (>=) */
	EX_RSS_NEAR,		/* host RSS at the step's end within tol of
				   its RSS at the end of step `text` */
	/* Over the step's policy (run/policy.c), cmp value: */
	EX_OUTSIDE,		/* s available memory spent outside the
				   policy's window (<=) */
	EX_TARGET_CYCLES,	/* reversals of the policy's target / 2 (<=) */
	EX_STUCK,		/* s from the reservation's last move to the
				   policy declaring the guest stuck (<=) */
	EX_FIGURES_AGE,		/* s, the oldest figures a decision read;
				   a decision without any: infinite (<=) */
	EX_NR
};

enum cmp { CMP_EQ, CMP_GE, CMP_LE };

struct expect {
	enum expect_kind kind;
	char key[64];		/* as written, e.g. "expect-converged" */
	double value;		/* bytes, seconds or a count */
	double tol;		/* bytes or seconds; resolved */
	char tol_name[64];	/* named tolerance used, "" if literal */
	enum cmp cmp;
	char text[PLAN_STR];
	struct origin from;
};

enum step_when { WHEN_AT, WHEN_PREVIOUS, WHEN_CONVERGED, WHEN_SETTLED };

enum agent_action {
	ACT_NONE, ACT_PIN, ACT_ALLOC, ACT_PAGECACHE, ACT_FRAGMENT, ACT_BUSY,
	ACT_FREE, ACT_EXEC, ACT_SYSFS_WRITE, ACT_SYSFS_READ, ACT_NR
};

/* `hotplug = unplug | plug`: QMP device_del / device_add of the device. */
enum hotplug_action { HOTPLUG_NONE, HOTPLUG_UNPLUG, HOTPLUG_PLUG };

/* `policy.figures`: the guest figures a policy reads.  auto: the
 * device's (the driver's guest-stats reports) once it has any, the
 * agent's until then; device: only the device's; agent: only the
 * agent's (harness/run/policy.c). */
enum plan_figures { PLAN_FIG_AUTO, PLAN_FIG_DEVICE, PLAN_FIG_AGENT };
extern const char *const plan_figures_names[3];
/* `lifecycle = ...`: what happens to the whole guest or its driver
 * (scenarios/README).  Save/restore and reset are the backend's
 * (backend.h lifecycle()); unbind and bind go through the agent. */
enum lifecycle_action {
	LC_NONE,
	LC_SAVE_RESTORE,	/* save to a file, restore in a new QEMU */
	LC_SAVE_RESTORE_BUSY,	/* ... once a device command is in flight */
	LC_RESET,		/* QMP system_reset: the guest boots again */
	LC_UNBIND,		/* the PCI driver's sysfs unbind */
	LC_BIND,		/* ... and bind */
	LC_NR
};
extern const char *const lifecycle_names[LC_NR];

struct step {
	char name[64];
	struct origin from;
	enum step_when when;
	double at;		/* WHEN_AT: seconds after the guest is ready */
	double delay;		/* after the condition, wait this long */
	double hold;		/* the step lasts at least this long */

	bool has_target;
	uint64_t target;	/* reservation, bytes */

	struct kv props[PLAN_MAX_KV];	/* set.<prop> = value */
	int nprops;

	enum agent_action action;
	char arg[PLAN_STR];	/* agent request argument(s), resolved;
				   ACT_BUSY: bytes a second, and seconds */
	char free_ref[64];	/* ACT_FREE: step whose workload to free */

	enum hotplug_action hotplug;	/* remove or re-add the device */
	enum lifecycle_action lifecycle;	/* save/restore, reset, ... */
	struct origin lifecycle_from;		/* the `lifecycle =` line */

	/* `policy = NAME`: the step's target is a host policy's, decided
	 * every period for the step's hold (core/tb_policy_host.h). */
	bool has_policy;
	struct tb_hp_params policy;
	struct origin policy_from;	/* the `policy =` line */
	int policy_figures;		/* enum plan_figures: whose figures
					   the policy reads */

	/* `trace = ramp|sawtooth|triangle PEAK PERIOD`: a workload that
	 * allocates and frees in chunks over time (run/policy.c). */
	enum { TRACE_NONE, TRACE_RAMP, TRACE_SAWTOOTH, TRACE_TRIANGLE } trace;
	uint64_t trace_peak, trace_chunk;	/* bytes */
	double trace_period;			/* s */
	struct origin trace_from;		/* the `trace =` line */

	int random_targets;	/* churn: this many random targets */
	uint64_t random_lo, random_hi;
	double random_interval;

	struct expect expects[PLAN_MAX_EXPECTS];
	int nexpects;
};

struct plan {
	char name[64];		/* scenario name: file name without .ini */
	char file[PLAN_STR];
	char description[PLAN_STR];

	uint64_t memory;	/* guest RAM, bytes */
	int vcpus;
	char machine[8];	/* QEMU machine type: "q35" or "pc" */
	int numa_nodes;		/* guest NUMA nodes, each with its own
				   memory backend; 0: none */
	char memory_backend[16];/* plan/vocab.c's memory_backend_names, or
				   "" (QEMU's default RAM) */
	char cmdline[PLAN_STR];	/* kernel command line additions */
	double sample;		/* sample interval, s */
	double time_limit;	/* whole run, s (boot included) */
	double boot_timeout;	/* until TB-READY, s */
	double agent_timeout;	/* one agent request, s */
	double settle;		/* no change for this long: settled */
	uint64_t seed;
	double scale;		/* sizes multiplied by this (CI variants) */
	bool ci;		/* [ci] overrides applied */
	uint64_t tolerance;	/* default tolerance, bytes */
	uint64_t cycle_threshold; /* bytes a drain/refill cycle must move
				     (metric "cycles"); 0: 64 MiB */
	uint64_t swap;		/* guest swap (zram), set up before the
				   first step, bytes; 0: none */
	double max_balloon_swappable;	/* `max-balloon = N% of swappable`:
					   N, 0: not used */

	struct kv tolerances[PLAN_MAX_KV];	/* tolerance.<name> */
	int ntolerances;
	struct kv props[PLAN_MAX_KV];	/* device properties at boot */
	int nprops;
	struct kv dparams[PLAN_MAX_KV];	/* driver module parameters */
	int ndparams;

	struct expect expects[PLAN_MAX_EXPECTS];	/* whole run */
	int nexpects;

	struct step steps[PLAN_MAX_STEPS];
	int nsteps;
};

struct parse_opts {
	bool ci;			/* apply the [ci] section */
	const char *const *sets;	/* "key=value" / "step.key=value" */
	int nsets;
	const char *driver_params;	/* space-separated known names, or
					   NULL for the built-in list */
	bool confine_includes;		/* `include` names only a file beside
					   the including one (the fuzzer) */
};

/*
 * Parse and resolve @file.  Returns 0, or -1 with one line in @err naming
 * file, line and key and what was expected.
 */
int plan_load(struct plan *plan, const char *file,
	      const struct parse_opts *opts, char *err, size_t errlen);

/* Print the resolved plan (harness --dump). */
void plan_dump(const struct plan *plan, FILE *out);

const char *expect_kind_name(enum expect_kind k);
/* Is @k an expectation over a step's metrics (expect-time-to-90, ...)? */
bool expect_is_metric(enum expect_kind k);
/* Is @k an expectation over a step's policy (expect-outside, ...)? */
bool expect_is_policy(enum expect_kind k);
const char *agent_action_name(enum agent_action a);

/* Device properties: is @name one, and does it take a size? */
bool device_prop_known(const char *name, bool *is_size, bool *is_bool);

#endif /* HARNESS_PLAN_PLAN_H */
