/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * run_int.h - the runner's private state, shared by the files of run/:
 * run.c (the main loop), log.c, agent.c, events.c, sample.c, timeline.c,
 * metrics.c, expect.c, results.c.  Nothing outside run/ includes it.
 */
#ifndef HARNESS_RUN_INT_H
#define HARNESS_RUN_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "run/guest.h"
#include "run/run.h"
#include "tb_proto.h"

#define MIB		(1024.0 * 1024.0)
#define MAX_QUEUE	16
/* A guest or QEMU that floods ends the run (named) before it fills the
 * disk or memory: a real run is far below these. */
#define CONSOLE_MAX_BYTES	(32u << 20)	/* console.log kept */
#define MAX_UNSOLICITED		1000	/* stray agent replies, odd events */
#define MAX_HOST_EVENTS		10000	/* QMP events, BALLOON_CHANGE too */
#define MAX_CHANGES		(1 << 20)	/* values of the reservation */

enum { OWN_STATS = -1, OWN_INFO = -2, OWN_PING = -3, OWN_FINAL = -4,
       OWN_SWAP = -5, OWN_TRACE = -6 };

/* One decision of a step's host policy (policy.c). */
struct policy_rec {
	double t;
	int64_t avail, reservation;	/* bytes read, -1 unknown */
	uint64_t target;		/* after the decision */
	double age;			/* of the figures read, s; -1 none */
	bool set, stuck, device;	/* device: the device's figures */
};

struct step_policy {
	bool on;
	struct tb_hp_state hp;
	struct policy_rec *recs;
	size_t nrecs, cap;
	double stuck_t;		/* first declared stuck, 0: never */
};

/* The workload trace running (policy.c): the chunks it holds. */
#define TRACE_MAX	64
struct step_trace {
	int active;		/* step whose trace runs, -1: none */
	int step;		/* step of the request in flight */
	bool busy;		/* one request at a time */
	long ids[TRACE_MAX];
	int nheld, allocs, frees;
};

/* A policy step's figures (policy.c); NAN / -1: not defined. */
struct policy_metrics {
	bool has;
	unsigned decisions, changes, stuck;
	double outside_s;	/* available memory outside the window */
	int swings, target_cycles;
	double stuck_s;		/* reservation's last move to "stuck" */
	double age_max_s;	/* oldest figures a decision read, s;
				   INFINITY: a decision had none */
	unsigned device_figures;	/* decisions on the device's figures */
	long oom_kills;
	double reclaimed_mibs;	/* balloon size over the step, MiB*s */
};

/* The device's last guest-stats report, as gstats.c read it. */
struct gstats_view {
	bool off;		/* the backend has none, or it failed */
	bool have;		/* a report was read */
	bool logged;		/* the first one is in events.log */
	bool failed;		/* guest-stats.tsv could not be written */
	uint64_t reports, seq;	/* the device's count, the driver's number */
	double t;		/* when it was reported (run clock) */
	double read_t;		/* when it was last read */
	int64_t v[TB_GS_NR];	/* by tag, -1: not in the report */
	int64_t interval_ms, skipped;
	FILE *tsv;		/* guest-stats.tsv, opened at the first */
	off_t good;
};

struct sample_rec {
	double t;
	int step;
	struct be_sample s;
	int64_t free_kb, avail_kb, fallbacks_drv;
	double rate;		/* MiB/s of balloon growth, + = reclaiming */
};

struct line_rec {
	double t;
	char *text;
};

/* One value of the reservation: first seen at t (a BALLOON_CHANGE event
 * or a sample), last seen unchanged at last_seen. */
struct change_rec {
	double t, last_seen;
	int64_t actual;
};

struct step_rt {
	bool started, done, skipped;
	double start, cond_t, action_t, end;
	double target_t;	/* when the step's target was set */
	bool action_pending;
	char reply[256];
	long workload_id;
	bool died;
	char died_how[128];
	struct sample_rec at_start;
	int64_t oom_at_start;
	int rand_done;
	double rand_next;
	char skip_reason[160];
	char stats_end[4096];	/* agent stats last read before the end */
};

struct agent_req {
	char line[512];
	int owner;
};

struct run {
	const struct plan *p;
	const struct be_env *env;
	const struct run_opts *opts;
	struct backend be;
	char dir[PATH_MAX];
	FILE *curve, *events, *console;
	off_t curve_good, events_good, console_good;	/* whole lines */
	FILE *buddy;		/* buddyinfo.tsv, once stats carry it */
	off_t buddy_good;
	int buddy_orders;	/* its columns: orders 0..buddy_orders-1 */
	double buddy_t;		/* the stats its last row came from */
	FILE *nodes;		/* nodes.tsv, when the guest has NUMA nodes */
	off_t nodes_good;
	int summary_fd;		/* summary.json.part, space reserved */
	bool tty;

	struct guest_state guest;	/* what its console said */

	/* agent */
	struct agent_req queue[MAX_QUEUE];
	int nqueue;
	bool busy;
	struct agent_req cur;
	bool agent_up;		/* "event ready" seen */
	bool swap_pending;	/* plan's swap asked, not yet answered:
				   no step starts before it is on */
	double sent_t;
	char stats[4096];
	double stats_t;
	bool final_stats_ok, ping_ok, final_sent;
	char final_stats[4096];
	char first_stats[4096];	/* the last stats before the first target */
	bool moved;		/* a target was set */
	double reboot_t;	/* lifecycle reset asked, the guest not ready
				   again yet; 0: none */
	bool rebase;		/* after a reset: the next stats once
				   converged are the accounting's baseline */

	/* what the guest and QEMU sent */
	uint64_t console_bytes;
	long unsolicited;	/* agent lines nobody asked for */
	long host_events;

	struct line_rec *lines;
	size_t nlines, cap_lines;
	struct sample_rec *samples;
	size_t nsamples, cap_samples;
	struct change_rec *changes;	/* every value the reservation took */
	size_t nchanges, cap_changes;
	int64_t last_actual;
	double last_change_t;

	uint64_t target;	/* host target now */
	struct step_rt rt[PLAN_MAX_STEPS];
	int cur_step;		/* last started step, -1 none */
	uint64_t rng;

	struct batches *batches;	/* batches.c: the device's batch log */

	struct step_policy pol[PLAN_MAX_STEPS];	/* policy.c */
	struct step_trace trace;
	struct gstats_view gs;	/* gstats.c */
	FILE *policy_tsv;	/* every decision, opened at the first */
	off_t policy_good;
	bool policy_failed;

	char error[600];	/* why the run itself failed */
	const char *error_kind;	/* "qemu-died", "time-limit", ... */
	double next_progress;
};

struct verdict {
	const char *result;	/* "pass", "fail", "skipped" */
	double measured;
	bool has_measured;
	char text[300];		/* measured value / why, for people */
};

struct step_metrics {
	bool has;		/* the step set a target */
	double converge_s;	/* -1: never */
	double rate_mibs;
	double overshoot;	/* bytes */
	double final_error;	/* bytes, reservation - target (clipped to
				   boot memory, as the guest clips it) */
	double final_actual;

	/* From the reservation's values (events and samples), between the
	 * moment the target was set and the step's end; NAN: not defined. */
	double asked, achieved;	/* bytes, signed: - = reservation lowered */
	double t50, t90, t100;	/* s from the target, to that share of
				   the achieved change */
	double rate_mean;	/* MiB/s over 10..90 % of the achieved change */
	double rate_peak;	/* MiB/s, largest over a 100 ms window */
	double over;		/* bytes past the target, >= 0 */
	int cycles;		/* drain/refill cycles, -1: not defined */
	double stop_s;		/* first stop, s from the target */
	double stall;		/* reservation at the first stop, bytes */
	double band;		/* max - min reservation, first stop to end */
	double settle_s;	/* s from the target until it stays within the
				   tolerance of its value at the end */
	double rss_returned;	/* host RSS drop / balloon growth */
	double ram_returned;	/* the same, QEMU's guest-RAM mappings only */
	const char *times_from;	/* the curve above: "batch-log" (every
				   batch, batches.c) or "events+samples" */
};

/* Drain/refill cycles are counted past this much. */
#define CYCLE_BYTES	(64.0 * MIB)


/* The driver's debugfs names for its 2 MiB -> 4 KiB fallbacks, as the
 * agent spells them. */
extern const char *const fallback_keys[];

/* log.c */
void flush_whole(struct run *r, FILE *f, off_t *good,
			const char *name);
void *grow(void *arr, size_t *cap, size_t n, size_t sz);
void logev(struct run *r, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
double now(struct run *r);
void run_fail(struct run *r, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void say(struct run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* agent.c */
void agent_kick(struct run *r);
void agent_queue(struct run *r, const char *line, int owner);
int64_t kv_any(const char *line, const char *const *keys);
void on_agent_event(struct run *r, const char *text);
void on_reply(struct run *r, const char *text);

/* events.c */
void note_actual(struct run *r, int64_t actual, double t);
void on_event(void *arg, const struct be_event *ev);

/* sample.c */
const struct sample_rec *last_sample(struct run *r);
/* The NUMA node of memory backend tbmemN, -1 for another block. */
int node_of_block(const char *name);
void take_sample(struct run *r);
void write_curve_header(struct run *r);

/* timeline.c */
bool converged(struct run *r);
void end_step(struct run *r);
bool settled(struct run *r, double since);
void start_step(struct run *r, int i);
/* A lifecycle unbind/bind step's agent reply: anything but "ok 0" ends
 * the run, named (timeline.c). */
void lifecycle_reply(struct run *r, int step, const char *text);
bool step_due(struct run *r, int i);
void step_tick(struct run *r, int i);

/* metrics.c */
void metrics(struct run *r, int i, struct step_metrics *m);
const struct sample_rec *sample_at(struct run *r, double t);
double step_end(struct run *r, int i);
double converge_time(struct run *r, int i, double target, double tol);
/* The metrics as summary.json and metrics.tsv name them, in order;
 * v NAN: not defined (null, '-'). */
struct metric_col {
	const char *key;
	double v;
};
#define METRIC_COLS	15
void metric_cols(const struct step_metrics *m,
		 struct metric_col out[METRIC_COLS]);

/* batches.c: drained with each sample and at the end (batches.tsv);
 * batches_curve() is step @i's reservation from the device's target
 * record to @end, one vertex pair per change (0: no records for it). */
struct json_t;
void batches_drain(struct run *r);
void batches_close(struct run *r);
struct json_t *batches_json(struct run *r);
size_t batches_curve(struct run *r, int i, double end, double **tv,
		     double **av, double *t0);

/* policy.c: a step's host policy (started with the step, a decision when
 * due at every tick, stopped when the step is done), its workload trace,
 * and their figures for expectations and summary.json. */
/* gstats.c */
void gstats_poll(struct run *r);
void gstats_close(struct run *r);

void policy_start(struct run *r, int i);
void policy_tick(struct run *r, int i);
void policy_stop(struct run *r, int i);
void trace_tick(struct run *r, int i);
void trace_reply(struct run *r, const char *req, const char *text);
void trace_stop(struct run *r, int i);
void policy_metrics(struct run *r, int i, struct policy_metrics *m);
struct json_t *policy_json(struct run *r, int i);
bool policy_check(struct run *r, int si, const struct expect *e,
		  struct verdict *v);

/* expect.c */
void check(struct run *r, int si, const struct expect *e,
		  struct verdict *v);

/* identity.c: the parts the run used (a jansson object, new reference) */
struct json_t *identity_json(struct run *r);

/* results.c */
void close_part(struct run *r, FILE **f, const char *name);
int finish(struct run *r);
FILE *open_part(struct run *r, const char *name);
FILE *open_part_or_fail(struct run *r, const char *name);
int open_run_dir(struct run *r);
void point_latest(struct run *r);
int reserve_summary(struct run *r);


#endif /* HARNESS_RUN_INT_H */
