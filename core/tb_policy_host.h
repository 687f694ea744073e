/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_policy_host.h - host ballooning policies: controllers that, once a
 * period, read the guest's own figures (available and free memory, its
 * reservation) and decide a new target, with the reason in words.  The
 * harness runs them for a scenario step (`policy = NAME`), the same code
 * on every backend; the device carries no policy, so this is compiled in
 * user space only.  Pure: no clock, no I/O; the caller passes the time.
 *
 * Units: bytes, times in ms, gains in 1/1000.  Targets are reservations
 * (memory the guest may use), whole 4 KiB pages.
 *
 *   free-window  keep the guest's available memory between @low and
 *                @high: outside, move the target by what brings it back
 *                to the middle of the window, at most @step a period.
 *   pi           a PI controller on available memory: error = @setpoint
 *                - available; target = start + kp*error + ki*integral,
 *                the integral clamped (anti-windup: it never holds more
 *                than the target's range, and stops growing while the
 *                target is clipped in the error's direction).
 *   squeeze      XenServer squeezed's watch on one guest: set @target,
 *                then watch the reservation; within @accuracy it is
 *                reached; a move of @progress towards it is progress; no
 *                progress for @stuck_ms declares the guest stuck: the
 *                policy gives up and re-plans, setting the target back to
 *                the reservation it reached.
 */
#ifndef TB_POLICY_HOST_H
#define TB_POLICY_HOST_H

#include "tb_compat.h"

enum tb_hp_kind { TB_HP_FREE_WINDOW, TB_HP_PI, TB_HP_SQUEEZE, TB_HP_NR };

struct tb_hp_params {
	enum tb_hp_kind kind;
	uint32_t period_ms;	/* one decision a period (all) */
	uint32_t stale_ms;	/* figures older than this: hold (all) */
	uint64_t min, max;	/* targets clipped to [min, max] (all) */
	/* free-window */
	uint64_t low, high;	/* available memory wanted, bytes */
	uint64_t step;		/* largest target change a period */
	/* pi */
	uint64_t setpoint;	/* available memory wanted, bytes */
	uint32_t kp_milli;	/* target bytes per byte of error, /1000 */
	uint32_t ki_milli;	/* target bytes per byte-second, /1000 */
	/* squeeze */
	uint64_t target;	/* the reservation asked */
	uint64_t accuracy;	/* within this of @target: reached */
	uint64_t progress;	/* a move this large towards it: progress */
	uint32_t stuck_ms;	/* no progress this long: stuck */
};

/* What the policy reads: the guest's figures and when they were read,
 * the reservation when they were read.  -1: unknown. */
struct tb_hp_figures {
	uint64_t now_ms;
	uint64_t figures_ms;	/* when the guest reported them */
	int64_t avail;		/* MemAvailable, bytes */
	int64_t free;		/* MemFree, bytes */
	int64_t reservation;	/* the device's, at figures_ms */
};

enum tb_hp_action {
	TB_HP_WAIT,		/* not due: nothing decided */
	TB_HP_HOLD,		/* decided: the target stays */
	TB_HP_SET,		/* decided: a new target */
};

struct tb_hp_decision {
	enum tb_hp_action action;
	uint64_t target;	/* the target after this decision */
	bool stuck;		/* squeeze: the guest was declared stuck now */
	char reason[320];	/* why, for events.log */
};

enum tb_hp_phase { TB_HP_RUNNING, TB_HP_REACHED, TB_HP_STUCK };

struct tb_hp_state {
	struct tb_hp_params p;
	uint64_t next_ms;	/* next decision due */
	uint64_t target;	/* target in force */
	uint64_t base;		/* pi: the target when it started */
	int64_t integral;	/* pi: sum of error * seconds, bytes*s */
	uint64_t last_ms;	/* pi: time of the last integration */
	bool started;		/* the first decision was taken */
	enum tb_hp_phase phase;	/* squeeze */
	int64_t best;		/* squeeze: closest reservation, -1 none */
	uint64_t progress_ms;	/* squeeze: last progress (or the start) */
	uint32_t decisions, changes, stuck;
};

extern const struct tb_hp_params tb_hp_defaults;

/* "free-window", "pi", "squeeze"; tb_hp_kind_parse: -1 unknown. */
const char *tb_hp_kind_name(enum tb_hp_kind k);
int tb_hp_kind_parse(const char *name);

/*
 * Start a policy at @now_ms with @target in force.  Parameters are
 * checked by the caller; tb_hp_check() says what is wrong, or NULL.
 */
const char *tb_hp_check(const struct tb_hp_params *p);
void tb_hp_init(struct tb_hp_state *s, const struct tb_hp_params *p,
		uint64_t target, uint64_t now_ms);

/* One decision when due (WAIT otherwise); the caller sets d->target
 * when d->action is SET. */
void tb_hp_decide(struct tb_hp_state *s, const struct tb_hp_figures *f,
		  struct tb_hp_decision *d);

#endif /* TB_POLICY_HOST_H */
