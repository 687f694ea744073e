/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * backend.h - the seam between the harness's runner and whatever plays the
 * host + guest: "emu" (our QEMU + tb-balloon + tb_balloon), "virtio" (stock
 * QEMU + virtio-balloon + Linux virtio_balloon), and later "libvirt" and
 * "sim" (core/ logic on a virtual clock).
 *
 * The runner never sleeps or reads a file descriptor itself: all waiting goes
 * through ops->wait(), so a simulated backend can run on its own clock.
 * Everything the backend observes (console lines, QMP events, agent replies,
 * death of the guest) is handed to the runner through be->emit().
 *
 * Units: bytes for sizes, seconds (double) on the backend's clock, which
 * starts at 0 when ops->start() is called.
 *
 * Adding a backend: write a `const struct backend_ops` and list it in
 * backend.c's table; nothing else in the harness changes.  A backend
 * knows nothing above it: what it needs from the command line comes in
 * the struct be_env handed to prepare().
 */
#ifndef HARNESS_BACKEND_H
#define HARNESS_BACKEND_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct plan;	/* plan/plan.h: the resolved scenario */
struct backend;

/* What every backend is given from above: where the parts are, how to run
 * them, and when to give up. */
struct be_env {
	const char *qemu;	/* our QEMU (emu, libvirt) */
	const char *stock_qemu;	/* Debian's QEMU (virtio) */
	const char *kernel;	/* guest kernel image */
	const char *initrd;	/* guest initramfs */
	const char *accel;	/* "kvm" or "tcg" (scripts/accel.sh) */
	/* Set (to the signal number) by the caller's SIGINT/SIGTERM
	 * handler; every wait loop checks it. */
	volatile sig_atomic_t *stop;
};

/* What a backend reports, in arrival order. */
enum be_event_kind {
	BE_EV_CONSOLE,		/* one guest console line (text, no newline) */
	BE_EV_BALLOON_CHANGE,	/* QMP BALLOON_CHANGE: value = actual bytes */
	BE_EV_AGENT_REPLY,	/* reply to the outstanding agent request:
				   text = "ok ..." or "err ..." */
	BE_EV_AGENT_EVENT,	/* async agent line, text after "event " */
	BE_EV_HOST,		/* other host-side event (QMP), text = name */
	BE_EV_DIED,		/* the guest/QEMU ended; text says how */
};

struct be_event {
	enum be_event_kind kind;
	double t;		/* backend clock */
	const char *text;	/* valid only during the callback */
	int64_t value;
};

/* One sample of the balloon.  -1 in any field: not known to this backend. */
struct be_sample {
	int64_t target;		/* host's target reservation, bytes */
	int64_t actual;		/* current reservation, bytes (query-balloon) */
	int64_t balloon_4k;	/* balloon made of 4 KiB pages, bytes */
	int64_t balloon_2m;	/* balloon made of 2 MiB pages, bytes */
	int64_t host_rss;	/* host process RSS, bytes */
	int64_t ram_rss;	/* the resident part of it that is guest RAM */
	int64_t refusals;	/* inflate entries the host refused */
	int64_t partial_grants;	/* deflate commands granted less than asked */
	int64_t fallbacks;	/* driver's 2 MiB -> 4 KiB fallbacks */
	/* Guest RAM by RAM block (a NUMA node's memory backend, or the
	 * machine's one region), as our device counts it; 0: not known. */
	int nblocks;
	struct be_block {
		char name[24];		/* the block's memory backend id */
		int64_t page_size;	/* its host page size, bytes */
		int64_t pages;		/* its size, 4 KiB pages */
		int64_t balloon;	/* of them in the balloon */
		int64_t partial;	/* host pages partly in the balloon */
	} blocks[8];
};

struct backend_ops {
	const char *name;		/* "emu", "virtio", "libvirt", "sim" */
	const char *summary;		/* one line for --help */

	/*
	 * Check the plan against what this backend can do and fill
	 * be->versions; no process is started.  Keeps @plan and @env in
	 * be->plan and be->env.  Returns 0 or -1 with be->error set.
	 */
	int (*prepare)(struct backend *be, const struct plan *plan,
		       const struct be_env *env);

	/* Boot the guest.  Returns once it is started (not ready: readiness
	 * is the console line "TB-READY", seen through emit()). */
	int (*start)(struct backend *be);

	/*
	 * Wait until the backend clock reaches @until (or an event arrives
	 * and @until_event is set), emitting events on the way.  Returns 0,
	 * or -1 when the guest is gone (a BE_EV_DIED was emitted).
	 */
	int (*wait)(struct backend *be, double until, bool until_event);

	double (*now)(struct backend *be);

	/* Host side.  0 on success, -1 with be->error set; 1: this backend
	 * cannot do that (the step is reported as skipped). */
	int (*set_target)(struct backend *be, uint64_t bytes);
	int (*set_prop)(struct backend *be, const char *prop, const char *value);
	int (*get_prop)(struct backend *be, const char *prop, char *buf,
			size_t len);

	/* Send one agent request line (no newline); the reply arrives later
	 * as BE_EV_AGENT_REPLY.  One request outstanding at a time. */
	int (*agent_send)(struct backend *be, const char *line);

	int (*sample)(struct backend *be, struct be_sample *s);

	/* Stop the guest and every process started; safe to call twice and
	 * from any state.  Must leave no process behind. */
	void (*stop)(struct backend *be);

	/* Async-signal-safe emergency kill (SIGINT/SIGTERM handler). */
	void (*kill_now)(struct backend *be);

	/* Can this backend do a step feature ("sysfs", "device-prop:<name>",
	 * "driver-param:<name>", "message:<text>", "hotplug")?  NULL:
	 * everything. */
	bool (*supports)(struct backend *be, const char *feature);

	/*
	 * Remove the balloon device from the running guest (@plug false:
	 * returns once the guest released it) or add it back with the
	 * plan's boot properties (@plug true).  0, or -1 with be->error set.
	 * NULL: this backend cannot (the step is reported as skipped).
	 */
	int (*hotplug)(struct backend *be, bool plug);

	/*
	 * A whole-guest event, @what one of plan.h's enum lifecycle_action:
	 * LC_SAVE_RESTORE (LC_SAVE_RESTORE_BUSY: once the device has a
	 * command in flight) saves the paused guest to a file, ends the
	 * emulator and restores the guest in a new one, console, agent and
	 * monitor reconnected, the clock going on; returns once it runs
	 * again.  LC_RESET resets the machine and returns at once (the
	 * guest boots again and prints TB-READY).  0, or -1 with be->error
	 * set.  NULL: this backend cannot (the step is reported as
	 * skipped).
	 */
	int (*lifecycle)(struct backend *be, int what);
};

struct backend {
	const struct backend_ops *ops;
	const struct plan *plan;
	const struct be_env *env;	/* as handed to prepare() */
	const char *run_dir;		/* results/<scenario>/<run-id>/ */
	char error[512];		/* last error, for the verdict */
	const char *error_kind;		/* names the cause when it is not
					   the call's usual one (e.g.
					   "qmp-protocol"); the runner's
					   next verdict takes and clears it */

	/* Filled by prepare(): recorded in summary.json. */
	char host_version[128];		/* e.g. "QEMU emulator version ..." */
	const char *program;		/* the emulator binary it runs, NULL
					   for none (the simulator) */
	char accel[16];			/* "kvm", "tcg", "virtual" */
	char kernel_cmdline[2048];	/* the command line given to the guest */
	char memory_backing[200];	/* what backs guest RAM ("" the
					   backend's default) */

	/* Set by the runner. */
	void (*emit)(void *arg, const struct be_event *ev);
	void *emit_arg;

	void *priv;			/* backend's own state */

	/* Set by the runner once the run has failed (a flood, a write
	 * error, ...): a backend waiting inside a call gives up at once. */
	bool stopping;
};

/* The value of `key=N` in an agent reply ("ok key=N key=N ..."), or -1:
 * the agent protocol's one reader of numbers (guest-driver/agent.c). */
int64_t be_kv(const char *line, const char *key);

/* For supports(): 1 or 0, does backend @name know the knob that a
 * "device-prop:NAME" or "driver-param:NAME" feature names (core/tb_knobs.h
 * says); -1 when @feature is not of those two kinds or names no knob. */
int be_knob_feature(const char *name, const char *feature);

/* Look up a backend by name; NULL if unknown. */
const struct backend_ops *backend_find(const char *name);
/* Names of all backends, space separated, for messages. */
const char *backend_names(void);

static inline void be_emit(struct backend *be, enum be_event_kind kind,
			   const char *text, int64_t value)
{
	struct be_event ev = {
		.kind = kind, .t = be->ops->now(be), .text = text,
		.value = value,
	};
	if (be->emit)
		be->emit(be->emit_arg, &ev);
}

#endif /* HARNESS_BACKEND_H */
