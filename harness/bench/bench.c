// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench.c - `make bench`: how fast our driver + device reclaim memory,
 * against QEMU's virtio-balloon + Linux's virtio_balloon in the same run.
 *
 *   tb-bench [options]            every session, then the report
 *   tb-bench --report DIR         only the report, from DIR/raw.json
 *
 * A session is one boot of one backend (emu or virtio, both on the same
 * QEMU binary unless told otherwise) with one kernel command line.  It
 * drives the harness's backend seam (backends/backend.h) directly rather
 * than the harness runner (run/), whose reading of the guest's console
 * (run/guest.h) it shares: rates need samples every few tens of ms, a per-step CPU
 * reading of QEMU and the exact moment a target was set, which a scenario
 * file cannot express.  Everything measured goes to DIR/raw.json (one
 * record per repetition) and DIR/curves/ (TSV); the report (medians, min,
 * max, ratios, goals) is computed from raw.json only.
 *
 * Units: bytes inside, MiB and seconds in files and tables.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/io.h"
#include "plan/plan.h"
#include "run/guest.h"
#include "tb_guest.h"
#include "bench.h"

#define MIB		(1024.0 * 1024.0)
#define GIB		(1024.0 * MIB)
#define BAND		(1 << 20)	/* "settled": within 1 MiB of target */
/* Sampling: every FINE_INTERVAL during a step's first FINE_FOR (our steps
 * are over in tens of ms; a QMP query costs ~1.5 ms here, so sampling
 * finely for longer would load QEMU's main loop during virtio's steps),
 * then every opt.interval. */
#define FINE_INTERVAL	0.002
#define SETTLE_CONFIRM	0.15	/* s in the band before "settled" counts */
#define PAUSE		0.1	/* s between steps: freed memory lands */
#define FINE_FOR	0.1

/* Set by SIGINT/SIGTERM; the backends' waits check it too. */
static volatile sig_atomic_t interrupted;
static struct be_env env = { .accel = "tcg", .stop = &interrupted };

/* ---- options ---- */

static struct {
	const char *out;	/* results/bench/<run-id> */
	const char *qemu;	/* our QEMU: both backends unless ref_qemu */
	const char *ref_qemu;	/* QEMU for the virtio reference */
	const char *harness;	/* harness binary, for the sim speed */
	const char *sim_job;	/* job file for the sim speed */
	const char *only;	/* "emu", "virtio", or NULL: both */
	const char *cmdlines;	/* "0,1": init_on_alloc values to run */
	const char *cases;	/* NULL: all; else a list of case names */
	bool quick;
	int runs;
	uint64_t memory;
	uint64_t sizes[4];
	int nsizes;
	uint64_t frag_step;
	double interval;	/* sample interval, s */
	int lat_runs;
} opt = {
	.memory = 4ull << 30,
	.interval = 0.02,
	.cmdlines = "0,1",
};

/* What one reservation query costs (QMP round trip), for the record. */
static double q_time;
static long q_n;

static json_t *raw;		/* array of records */
static json_t *sessions;	/* array of session conditions */

struct sess;
static struct sess *cur_sess;
static void stop_current(void);

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	stop_current();		/* no QEMU left behind */
	fputs("tb-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* ---- one session: a booted guest ---- */

struct sess {
	struct backend be;
	struct plan plan;
	char dir[PATH_MAX];	/* out/<backend>-ioa<N> */
	char name[32];
	int ioa;		/* init_on_alloc value */
	pid_t qemu_pid;
	FILE *console;
	struct guest_state guest;	/* what its console said */
	bool dead, driver_error, agent_ready;
	/* agent */
	bool agent_done;
	char reply[512];
	/* QMP BALLOON_CHANGE */
	double bc_t;
	int64_t bc_value;
	unsigned bc_count;
	json_t *cond;		/* this session's conditions */
};

static void stop_current(void)
{
	if (cur_sess && cur_sess->be.ops && cur_sess->be.priv)
		cur_sess->be.ops->stop(&cur_sess->be);
}

static double snow(struct sess *s)
{
	return s->be.ops->now(&s->be);
}

static void on_event(void *arg, const struct be_event *ev)
{
	struct sess *s = arg;

	switch (ev->kind) {
	case BE_EV_CONSOLE:
		if (s->console)
			fprintf(s->console, "%s\n", ev->text);
		if (guest_console_line(&s->guest, ev->text, ev->t) &
		    GUEST_DRIVER_FAILED)
			s->driver_error = true;
		break;
	case BE_EV_BALLOON_CHANGE:
		s->bc_t = ev->t;
		s->bc_value = ev->value;
		s->bc_count++;
		break;
	case BE_EV_AGENT_REPLY:
		snprintf(s->reply, sizeof(s->reply), "%s", ev->text);
		s->agent_done = true;
		break;
	case BE_EV_AGENT_EVENT:
		if (!strncmp(ev->text, "ready", 5))
			s->agent_ready = true;
		break;
	case BE_EV_HOST:
		break;
	case BE_EV_DIED:
		s->dead = true;
		if (s->console)
			fprintf(s->console, "TB-BENCH: %s\n", ev->text);
		break;
	}
}

static void sess_fail(struct sess *s, const char *what)
{
	die("%s: %s%s%s (logs in %s)", s->name, what,
	    s->be.error[0] ? ": " : "", s->be.error, s->dir);
}

/* Pump events until @t (backend clock). */
static void wait_until(struct sess *s, double t)
{
	if (s->be.ops->wait(&s->be, t, false) || s->dead)
		sess_fail(s, "QEMU died");
	if (interrupted)
		die("interrupted");
}

static const char *agent(struct sess *s, double timeout, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *agent(struct sess *s, double timeout, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->agent_done = false;
	if (s->be.ops->agent_send(&s->be, line))
		sess_fail(s, "agent");
	double end = snow(s) + timeout;
	while (!s->agent_done) {
		if (snow(s) > end) {
			snprintf(s->be.error, sizeof(s->be.error),
				 "agent request '%s' got no reply in %.0f s",
				 line, timeout);
			sess_fail(s, "agent timeout");
		}
		if (s->be.ops->wait(&s->be, end, true) || s->dead)
			sess_fail(s, "QEMU died");
		if (interrupted)
			die("interrupted");
	}
	return s->reply;
}

/* Reservation now: one QMP call on either device. */
static int64_t actual(struct sess *s)
{
	char buf[64];
	if (strcmp(s->be.ops->name, "emu")) {
		struct be_sample smp;
		if (s->be.ops->sample(&s->be, &smp))
			sess_fail(s, "query-balloon");
		return smp.actual;
	}
	/* tb-balloon: the "actual" property is query-balloon's value,
	 * without the stats read that sample() adds. */
	if (s->be.ops->get_prop(&s->be, "actual", buf, sizeof(buf)))
		sess_fail(s, "qom-get actual");
	return strtoll(buf, NULL, 10);
}

static int64_t qemu_rss(struct sess *s)
{
	return be_proc_rss(s->qemu_pid);
}

/* Resident part of QEMU's guest-RAM mapping (one, of the guest's size):
 * tells RAM returned apart from QEMU's own heap moving during a step. */
static int64_t ram_rss(struct sess *s)
{
	uint64_t size = opt.memory;

	return be_proc_ram_rss(s->qemu_pid, &size, 1);
}

/* QEMU's CPU time, user + sys, all threads (dead ones included): the
 * process line of /proc/PID/stat, in clock ticks. */
static double qemu_cpu(struct sess *s)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->qemu_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');	/* comm may hold spaces */
	unsigned long long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The same at ns resolution: sum of the live threads' run time. */
static double qemu_cpu_fine(struct sess *s)
{
	char path[64];
	double sum = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)s->qemu_pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[300];
		unsigned long long ns;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns / 1e9;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* Each QEMU thread's run time so far, seconds, by name where QEMU named it
 * (-name debug-threads=on: "CPU 0/TCG", "tb-discard"), else "qemu+N",
 * N its thread id less the process's: threads get ids in the order QEMU
 * creates them (+0 the main loop, +1 call_rcu, then the vCPUs, then the
 * devices' threads such as tb-discard). */
static json_t *qemu_threads_cpu(struct sess *s)
{
	char path[64];
	json_t *o = json_object();
	snprintf(path, sizeof(path), "/proc/%d/task", (int)s->qemu_pid);
	DIR *d = opendir(path);
	if (!d)
		return o;
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[300], comm[64] = "";
		unsigned long long ns;
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s/comm", path, e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		comm[strcspn(comm, "\n")] = 0;
		if (!strncmp(comm, "qemu-system", 11))
			snprintf(comm, sizeof(comm), "qemu+%ld",
				 atol(e->d_name) - (long)s->qemu_pid);
		snprintf(p, sizeof(p), "%s/%s/schedstat", path, e->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			json_object_set_new(o, comm, json_real(ns / 1e9 +
				json_number_value(json_object_get(o, comm))));
		fclose(f);
	}
	closedir(d);
	return o;
}

/* @after - @before per thread name, into @x as "threads_cpu_s"; frees
 * both. */
static void threads_delta(json_t *before, json_t *after, json_t *x)
{
	json_t *o = json_object(), *v;
	const char *k;
	json_object_foreach(after, k, v) {
		double d = json_number_value(v) -
			   json_number_value(json_object_get(before, k));
		if (d > 0.0005)
			json_object_set_new(o, k, json_real(d));
	}
	json_object_set_new(x, "threads_cpu_s", o);
	json_decref(before);
	json_decref(after);
}

static void sess_start(struct sess *s, const char *backend, int ioa)
{
	char path[PATH_MAX + 32];

	memset(s, 0, sizeof(*s));
	guest_init(&s->guest);
	s->ioa = ioa;
	snprintf(s->name, sizeof(s->name), "%s-ioa%d", backend, ioa);
	snprintf(s->dir, sizeof(s->dir), "%s/%s", opt.out, s->name);
	mkdir(s->dir, 0755);

	struct plan *p = &s->plan;
	snprintf(p->name, sizeof(p->name), "bench");
	p->memory = opt.memory;
	p->vcpus = 2;
	/* The machine its published figures were measured on (QEMU's
	 * default, which an empty -machine gave before). */
	snprintf(p->machine, sizeof(p->machine), "pc");
	snprintf(p->cmdline, sizeof(p->cmdline), "init_on_alloc=%d", ioa);
	p->sample = opt.interval;
	/* tb-balloon's default maximum balloon is 65% of RAM: the 3 GiB
	 * step needs more, virtio-balloon has no such cap. */
	snprintf(p->props[0].key, sizeof(p->props[0].key), "max-balloon");
	snprintf(p->props[0].value, sizeof(p->props[0].value), "%llu",
		 (unsigned long long)opt.memory);
	p->nprops = 1;

	s->be.ops = backend_find(backend);
	if (!s->be.ops)
		die("backend '%s' is not linked in", backend);
	s->be.run_dir = s->dir;
	s->be.emit = on_event;
	s->be.emit_arg = s;
	snprintf(path, sizeof(path), "%s/console.log", s->dir);
	s->console = fopen(path, "w");
	cur_sess = s;

	if (s->be.ops->prepare(&s->be, p, &env))
		sess_fail(s, "prepare");
	note("== %s: booting (%s, %llu MiB, 2 vCPUs, %s)", s->name,
	     s->be.accel, (unsigned long long)(opt.memory >> 20),
	     p->cmdline);
	double t0 = 0;
	if (s->be.ops->start(&s->be))
		sess_fail(s, "start");
	snprintf(path, sizeof(path), "%s/qemu.pid", s->dir);
	FILE *f = fopen(path, "r");
	if (!f || fscanf(f, "%d", &s->qemu_pid) != 1)
		die("%s: no %s", s->name, path);
	fclose(f);
	while (!s->guest.ready) {
		if (snow(s) > t0 + 120)
			sess_fail(s, "guest not ready after 120 s");
		if (s->be.ops->wait(&s->be, snow(s) + 1, true) || s->dead)
			sess_fail(s, "QEMU died during boot");
	}
	if (s->driver_error)
		sess_fail(s, "the guest could not load its balloon driver");
	double boot = snow(s);
	/* The agent starts beside TB-READY: wait for its hello, and let a
	 * first line lost to the tty's setup be asked again. */
	while (!s->agent_ready && snow(s) < boot + 30)
		if (s->be.ops->wait(&s->be, snow(s) + 1, true) || s->dead)
			sess_fail(s, "QEMU died during boot");
	for (int i = 0; strncmp(agent(s, 10, "ping"), "ok", 2); i++)
		if (i == 3) {
			snprintf(s->be.error, sizeof(s->be.error),
				 "ping: '%s'", s->reply);
			sess_fail(s, "agent does not answer");
		}
	note("   ready after %.1f s", boot);

	s->cond = json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:i,s:f,s:s}",
		"session", s->name, "backend", backend,
		"device", !strcmp(backend, "emu") ? "tb-balloon" :
			  "virtio-balloon-pci",
		"accel", s->be.accel, "qemu_version", s->be.host_version,
		"vcpus", p->vcpus, "memory_mib", (json_int_t)(p->memory >> 20),
		"init_on_alloc", ioa, "boot_s", boot,
		"kernel_cmdline", s->guest.cmdline[0] ? s->guest.cmdline :
				  s->be.kernel_cmdline);
	json_object_set_new(s->cond, "machine", json_string(p->machine));
	json_object_set_new(s->cond, "qemu_binary", json_string(
		!strcmp(backend, "virtio") ? env.stock_qemu : env.qemu));
	/* Idle QEMU CPU use, to read the per-step figures against. */
	double c0 = qemu_cpu_fine(s), w0 = snow(s);
	wait_until(s, w0 + 0.5);
	json_object_set_new(s->cond, "idle_cpu_frac", json_real(
		(qemu_cpu_fine(s) - c0) / (snow(s) - w0)));
	/* THP decides whether a guest touch faults 4 KiB or 2 MiB. */
	const char *thp = agent(s, 10, "sysfs-read "
				"/sys/kernel/mm/transparent_hugepage/enabled");
	json_object_set_new(s->cond, "guest_thp", json_string(
		!strncmp(thp, "ok ", 3) ? thp + 3 : "?"));
	json_array_append(sessions, s->cond);
}

static void sess_stop(struct sess *s)
{
	json_object_set_new(s->cond, "query_ms", json_real(q_n ? 1000 *
			    q_time / q_n : 0));
	q_time = 0;
	q_n = 0;
	s->be.ops->stop(&s->be);
	if (s->console)
		fclose(s->console);
	s->console = NULL;
	json_decref(s->cond);
	cur_sess = NULL;
}

/* ---- records ---- */

static void record(struct sess *s, const char *metric, const char *unit,
		   double value, uint64_t size, const char *touched, int rep,
		   json_t *extra)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:i,s:f,s:s,s:i,s:f}",
		"metric", metric, "unit", unit,
		"backend", json_string_value(json_object_get(s->cond,
							     "backend")),
		"init_on_alloc", s->ioa, "size_mib", size / MIB,
		"touched", touched, "rep", rep, "value", value);
	if (extra) {
		json_object_update(r, extra);
		json_decref(extra);
	}
	json_array_append_new(raw, r);
}

/* ---- one step: set a target, sample until settled ---- */

struct smp {
	double t;		/* since the target was set */
	int64_t actual, rss;
	double cpu;
};

struct step_res {
	double first_change;	/* s after the target was set, -1 none */
	double settle;		/* s until within BAND and stayed */
	double rate;		/* MiB/s, 10% -> 90% of the step */
	double cpu, cpu_ticks;	/* QEMU CPU s until settled */
	int64_t moved;		/* bytes the reservation moved */
	int64_t rss_drop;	/* bytes QEMU's RSS fell (inflate: until it
				 * stopped falling after the settle) */
	int64_t rss_drop_settle;	/* the same at the settle sample */
	bool ok;
	bool rate_bound;	/* rate is a lower bound (not resolved) */
	int64_t ram_rss_drop;	/* the same, guest-RAM mapping only */
	int64_t rss_rise;	/* RSS growth before the first change */
};

/* Time the curve first crosses @frac of the way from a0 to target; *at:
 * the sample that first reached it. */
static double crossing(const struct smp *v, int n, int64_t a0, int64_t tgt,
		       double frac, int *at)
{
	double span = (double)(tgt - a0);
	for (int i = 1; i < n; i++) {
		double f1 = (v[i].actual - a0) / span;
		if (f1 >= frac) {
			*at = i;
			double f0 = (v[i - 1].actual - a0) / span;
			if (f1 - f0 <= 0)
				return v[i].t;
			return v[i - 1].t + (frac - f0) / (f1 - f0) *
					    (v[i].t - v[i - 1].t);
		}
	}
	return -1;
}

static void write_curve(struct sess *s, const char *tag, const struct smp *v,
			int n, int64_t tgt)
{
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/curves", opt.out);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/curves/%s-%s.tsv", opt.out,
		 s->name, tag);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "# %s %s: target %.1f MiB; time from the target set\n",
		s->name, tag, tgt / MIB);
	fprintf(f, "time_s\treservation_mib\tballoon_mib\tqemu_rss_mib\t"
		"qemu_cpu_s\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%.4f\t%.2f\t%.2f\t%.2f\t%.4f\n", v[i].t,
			v[i].actual / MIB,
			((int64_t)opt.memory - v[i].actual) / MIB,
			v[i].rss / MIB, v[i].cpu - v[0].cpu);
	fclose(f);
}

static struct step_res step(struct sess *s, uint64_t tgt, double interval,
			    double limit, const char *curve_tag)
{
	static struct smp v[20000];
	struct step_res r = { .first_change = -1, .settle = -1, .rate = -1 };
	int n = 0;

	int64_t ram0 = ram_rss(s);
	int64_t a0 = actual(s);
	double tick0 = qemu_cpu(s);
	v[n++] = (struct smp){ 0, a0, qemu_rss(s), qemu_cpu_fine(s) };
	unsigned bc0 = s->bc_count;
	double t0 = snow(s);
	if (s->be.ops->set_target(&s->be, tgt))
		sess_fail(s, "set target");
	v[0].t = 0;

	double in_band = -1, next = t0;
	int band_i = -1;
	for (;;) {
		/* Fine at first (ours settles in tens of ms), then @interval
		 * for long steps. */
		double el = snow(s) - t0;
		next = snow(s) + (el < FINE_FOR && interval > FINE_INTERVAL ?
				  FINE_INTERVAL : interval);
		wait_until(s, next);
		double t = snow(s) - t0;
		int64_t a = actual(s);
		q_time += snow(s) - t0 - t;
		q_n++;
		if (n < (int)(sizeof(v) / sizeof(v[0])))
			v[n++] = (struct smp){ t, a, qemu_rss(s),
					       qemu_cpu_fine(s) };
		if (r.first_change < 0 && a != a0)
			r.first_change = t;
		if (s->bc_count != bc0 && s->bc_t - t0 >= 0 &&
		    (r.first_change < 0 || s->bc_t - t0 < r.first_change))
			r.first_change = s->bc_t - t0;
		if (llabs(a - (int64_t)tgt) <= BAND) {
			if (in_band < 0) {
				in_band = t;
				band_i = n - 1;
			}
			/* Stayed there: settled. */
			if (t - in_band >= SETTLE_CONFIRM)
				break;
		} else {
			in_band = -1;
		}
		if (t > limit)
			break;
	}
	r.ok = in_band >= 0;
	int end = r.ok ? band_i : n - 1;
	r.settle = r.ok ? in_band : -1;
	r.moved = llabs(v[end].actual - a0);
	r.cpu = v[end].cpu - v[0].cpu;
	r.cpu_ticks = qemu_cpu(s) - tick0;	/* to the end of the window */
	r.rss_drop = r.rss_drop_settle = v[0].rss - v[end].rss;
	/*
	 * An inflate's host memory returned: QEMU's RSS once it stops falling
	 * (read every 50 ms, up to 2 s), not at the settle sample.  Our device
	 * frees an inflate's pages on its worker after the command completed
	 * (at the end of a large step up to one batch, 1 GiB of 2 MiB pages,
	 * after the reservation moved); virtio-balloon frees them before.  How
	 * much came back is this figure; how fast, the rates'.  (At the
	 * settle sample one of three 512 MiB runs of 20261201-175520-quick
	 * read 0.0000.)  Both devices alike.
	 */
	if (r.ok && tgt < (uint64_t)a0) {
		int64_t last = qemu_rss(s), now;
		for (double t1 = snow(s) + 2; snow(s) < t1; last = now) {
			wait_until(s, snow(s) + 0.05);
			if ((now = qemu_rss(s)) >= last)
				break;
		}
		r.rss_drop = v[0].rss - last;
	}
	/* RSS growth before the reservation first moved: pages the guest
	 * driver zeroed that were not host-resident (init_on_alloc=1). */
	for (int i = 1; i <= end && v[i].actual == a0; i++)
		if (v[i].rss - v[0].rss > r.rss_rise)
			r.rss_rise = v[i].rss - v[0].rss;
	r.ram_rss_drop = ram0 - ram_rss(s);
	int i10 = 0, i90 = 0;
	double t10 = crossing(v, end + 1, a0, tgt, 0.1, &i10);
	double t90 = crossing(v, end + 1, a0, tgt, 0.9, &i90);
	if (r.ok && i10 == i90 && i10 > 0) {
		/* 10% to 90% within one sample interval: the slope is not
		 * resolved, only bounded from below. */
		r.rate = 0.8 * llabs((int64_t)tgt - a0) / MIB /
			 (v[i10].t - v[i10 - 1].t);
		r.rate_bound = true;
	} else if (r.ok && t10 >= 0 && t90 > t10) {
		r.rate = 0.8 * llabs((int64_t)tgt - a0) / MIB / (t90 - t10);
	}
	if (curve_tag)
		write_curve(s, curve_tag, v, n, tgt);
	return r;
}

/* Touch almost all free guest memory and free it again, so whatever the
 * balloon takes next is backed on the host. */
static void touch_free_memory(struct sess *s)
{
	double t0 = snow(s);
	/*
	 * More than is free, on purpose: the child touches every page a
	 * user allocation can get (down to the kernel's watermarks, which a
	 * balloon cannot take either) and is then OOM-killed, the largest
	 * process by far (the agent is exempt).  A margin below "free"
	 * instead would leave whole never-touched 2 MiB blocks, which a
	 * 2 MiB inflate picks first and which have nothing to return.
	 */
	const char *st = agent(s, 30, "stats");
	int64_t fr = be_kv(st, "memfree_kb");
	if (fr < 0)
		sess_fail(s, "agent stats has no memfree_kb");
	int64_t mib = fr / 1024 + 64;
	const char *rep = agent(s, 180, "alloc %lldM", (long long)mib);
	if (strncmp(rep, "ok", 2))
		sess_fail(s, "alloc for touching failed");
	long id = (long)be_kv(rep, "id");
	agent(s, 60, "free %ld", id);	/* err no-such-id once killed */
	note("   touched all free memory (%lld MiB asked) in %.1f s",
	     (long long)mib, snow(s) - t0);
}

/* tb-balloon's own counters (qemu-dev/tb-balloon.txt), NULL on virtio. */
static json_t *device_stats(struct sess *s)
{
	char buf[4096];
	if (strcmp(s->be.ops->name, "emu") ||
	    s->be.ops->get_prop(&s->be, "stats", buf, sizeof(buf)))
		return NULL;
	return json_loads(buf, 0, NULL);
}

/* What the device says it did during the inflate: pages accepted and
 * pages discarded on the host (so a short RSS drop can be told apart
 * from a missing discard). */
static void device_delta(struct sess *s, json_t *before, json_t *x)
{
	json_t *after = device_stats(s);
	static const char *const k[] = { "inflated-pages", "discarded-pages",
					 "discard-failures", "discard-ranges" };
	for (size_t i = 0; after && i < sizeof(k) / sizeof(k[0]); i++) {
		json_t *a = json_object_get(after, k[i]);
		json_t *b = json_object_get(before, k[i]);
		if (json_is_integer(a) && json_is_integer(b))
			json_object_set_new(x, k[i], json_integer(
				json_integer_value(a) - json_integer_value(b)));
	}
	json_decref(after);
	json_decref(before);
}

/* Repetitions @first .. @last of one inflate and deflate of @size. */
static void reps_inflate_deflate_from(struct sess *s, uint64_t size,
				      bool touched, const char *label,
				      int first, int last)
{
	char tag[64];
	const char *tch = label ? label : touched ? "touched" : "untouched";
	uint64_t top = opt.memory, bottom = opt.memory - size;
	double limit = 60 + 30 * size / GIB;

	for (int rep = first; rep <= last; rep++) {
		if (touched)
			touch_free_memory(s);
		wait_until(s, snow(s) + PAUSE);
		json_t *dev0 = device_stats(s);
		snprintf(tag, sizeof(tag), "inflate-%llu-%s-%d",
			 (unsigned long long)(size >> 20), tch, rep);
		json_t *th0 = qemu_threads_cpu(s);
		struct timespec m0, m1;
		clock_gettime(CLOCK_MONOTONIC, &m0);
		struct step_res in = step(s, bottom, opt.interval, limit, tag);
		clock_gettime(CLOCK_MONOTONIC, &m1);
		json_t *th1 = qemu_threads_cpu(s);
		if (!in.ok)
			note("   %s: not settled within %.0f s (reservation "
			     "moved %.0f MiB)", tag, limit, in.moved / MIB);
		json_t *x = json_pack("{s:f,s:f,s:f,s:f,s:f}", "moved_mib",
				      in.moved / MIB, "rss_drop_mib",
				      in.rss_drop / MIB, "ram_rss_drop_mib",
				      in.ram_rss_drop / MIB,
				      "rss_drop_at_settle_mib",
				      in.rss_drop_settle / MIB, "cpu_ticks_s",
				      in.cpu_ticks);
		if (dev0)
			device_delta(s, dev0, x);
		/* Where QEMU's CPU went during the step, by thread, and when
		 * it ran (CLOCK_MONOTONIC, as perf record -k CLOCK_MONOTONIC
		 * stamps its samples: profile.sh cuts its profiles there). */
		threads_delta(th0, th1, x);
		json_object_set_new(x, "mono_s", json_pack("[f,f]",
			m0.tv_sec + m0.tv_nsec / 1e9,
			m1.tv_sec + m1.tv_nsec / 1e9));
		if (in.ok) {
			record(s, "inflate_rate", "MiB/s", in.rate, size, tch,
			       rep, json_pack("{s:b}", "lower_bound",
					      in.rate_bound));
			record(s, "inflate_settle", "s", in.settle, size, tch,
			       rep, json_incref(x));
			record(s, "inflate_eff_rate", "MiB/s", in.moved / MIB /
			       in.settle, size, tch, rep, NULL);
			record(s, "inflate_cpu_per_gib", "s/GiB",
			       in.cpu / (in.moved / GIB), size, tch, rep,
			       json_incref(x));
			if (touched && in.moved > 0)
				record(s, "rss_returned", "ratio",
				       (double)in.rss_drop / in.moved, size,
				       tch, rep, json_incref(x));
			if (touched && in.moved > 0 && in.ram_rss_drop > -1e9)
				record(s, "ram_returned", "ratio",
				       (double)in.ram_rss_drop / in.moved,
				       size, tch, rep, NULL);
			if (touched && s->ioa)
				record(s, "cold_before_first", "MiB",
				       in.rss_rise / MIB, size, tch, rep, NULL);
		} else {
			record(s, "inflate_failed", "MiB", in.moved / MIB,
			       size, tch, rep, json_incref(x));
		}
		if (in.first_change >= 0)
			record(s, "first_change", "s", in.first_change, size,
			       tch, rep, NULL);
		json_decref(x);
		wait_until(s, snow(s) + PAUSE);

		snprintf(tag, sizeof(tag), "deflate-%llu-%s-%d",
			 (unsigned long long)(size >> 20), tch, rep);
		struct step_res de = step(s, top, opt.interval, limit, tag);
		if (de.ok && de.moved > 0) {
			record(s, "deflate_rate", "MiB/s", de.rate, size, tch,
			       rep, json_pack("{s:b}", "lower_bound",
					      de.rate_bound));
			record(s, "deflate_settle", "s", de.settle, size, tch,
			       rep, NULL);
			record(s, "deflate_eff_rate", "MiB/s", de.moved / MIB /
			       de.settle, size, tch, rep, NULL);
			record(s, "deflate_cpu_per_gib", "s/GiB",
			       de.cpu / (de.moved / GIB), size, tch, rep,
			       NULL);
		} else {
			/* A balloon that cannot come back ruins every later
			 * figure of this boot: stop here. */
			sess_fail(s, "deflate did not settle");
		}
		note("   %-30s inflate %7.1f MiB/s settle %6.3f s | deflate "
		     "%7.1f MiB/s settle %6.3f s", tag + 8, in.rate,
		     in.settle, de.rate, de.settle);
	}
}

static void reps_inflate_deflate(struct sess *s, uint64_t size, bool touched,
				 const char *label, int runs)
{
	reps_inflate_deflate_from(s, size, touched, label, 1, runs);
}

/*
 * The fragmented case's own variant: the 4 KiB path as it was before issue
 * 22, both of its switches off (the device frees each entry on the vCPU:
 * discard-worker=off; the driver allocates page by page: bulk_alloc=0),
 * both writable at run time.  @old: set them so (true) or back to their
 * defaults.  Returns false when either cannot be set (the variant is then
 * not measured).
 */
#define BULK_PARAM "/sys/module/tb_balloon/parameters/bulk_alloc"
static bool old_4k_path(struct sess *s, bool old)
{
	char buf[32];

	if (s->be.ops->set_prop(&s->be, "discard-worker", old ? "off" : "on") ||
	    s->be.ops->get_prop(&s->be, "discard-worker", buf, sizeof(buf)) ||
	    strcmp(buf, old ? "false" : "true")) {
		note("   discard-worker: cannot set it %s (%s)",
		     old ? "off" : "on", s->be.error);
		return false;
	}
	if (strncmp(agent(s, 10, "sysfs-write " BULK_PARAM " %d", !old),
		    "ok", 2)) {
		note("   bulk_alloc: cannot set it to %d (%s)", !old, s->reply);
		return false;
	}
	return true;
}

/* Host sets a target -> first change of the reservation: small steps,
 * sampled finely, at random moments (not in phase with any poll). */
static void reps_latency(struct sess *s, int runs)
{
	uint64_t size = 16ull << 20;
	for (int rep = 1; rep <= runs; rep++) {
		wait_until(s, snow(s) + 0.2 + (rand() % 500) / 1000.0);
		struct step_res r = step(s, opt.memory - size, 0.002, 20,
					 NULL);
		if (r.first_change >= 0)
			record(s, "latency", "s", r.first_change, size, "-",
			       rep, NULL);
		step(s, opt.memory, 0.002, 20, NULL);
	}
}

/* The guest's own page-zeroing bandwidth: touching fresh anonymous memory
 * (every page zeroed by the kernel on its first fault). */
static void reps_zeroing(struct sess *s, int runs)
{
	/* 1 GiB, or half a small guest: it must fit without OOM. */
	uint64_t size = opt.memory / 2 < (1ull << 30) ? opt.memory / 2 :
			1ull << 30;
	/* First touch after boot: the host populates its pages too (cold);
	 * then the same memory again, host-backed (warm): the guest's own
	 * zeroing, the ceiling of an inflate of touched memory. */
	for (int rep = 0; rep <= runs; rep++) {
		double t0 = snow(s);
		const char *r = agent(s, 120, "alloc %lluM",
				      (unsigned long long)(size >> 20));
		double dt = snow(s) - t0;
		if (strncmp(r, "ok", 2))
			sess_fail(s, "alloc for zeroing bandwidth failed");
		long id = (long)be_kv(r, "id");
		agent(s, 60, "free %ld", id);
		record(s, rep ? "zeroing_bw" : "zeroing_bw_cold", "MiB/s",
		       size / MIB / dt, size, "-", rep ? rep : 1, NULL);
		note("   zeroing (%s): %.0f MiB in %.3f s = %.0f MiB/s",
		     rep ? "warm" : "cold", size / MIB, dt, size / MIB / dt);
	}
}

/* Leave free memory in 4 KiB holes (agent `fragment holes`), then the
 * same inflate: the 4 KiB fallback path. */
static void reps_fragmented(struct sess *s, int runs)
{
	const char *st = agent(s, 30, "stats");
	int64_t free_mib = be_kv(st, "memfree_kb") / 1024;
	/* Holes for the whole step and then some (the step takes at most
	 * 60% of them); the file is written whole before its holes are
	 * punched, so that peak must fit. */
	int64_t frag = (int64_t)(opt.frag_step >> 20) * 10 / 3 + 64;
	if (frag > free_mib - 200)
		sess_fail(s, "too little free memory to fragment for the step");
	/* After the step our driver leaves the guest its floor and band of
	 * available memory (tb_guest_inflate_floor, by default from
	 * tb_guest_floor_curve): short of that in holes, it stops a few MiB
	 * before the target and the step never settles.  So holes for that
	 * too (twice, in file), as far as free memory allows: both
	 * backends get the same. */
	uint64_t fl = tb_guest_floor_curve(opt.memory >> TB_PAGE_SHIFT);
	int64_t keep_mib = (int64_t)((fl + fl / 4) >> (20 - TB_PAGE_SHIFT));
	frag += 2 * keep_mib;
	if (frag > free_mib - 200)
		frag = free_mib - 200;
	double t0 = snow(s);
	const char *r = agent(s, 300, "fragment %lldM holes", (long long)frag);
	if (strncmp(r, "ok", 2)) {
		snprintf(s->be.error, sizeof(s->be.error), "fragment %lldM "
			 "holes: %s", (long long)frag, r);
		sess_fail(s, "fragment workload failed");
	}
	long id = (long)be_kv(r, "id");
	note("   fragmented %lld MiB of %lld MiB free in %.1f s",
	     (long long)frag, (long long)free_mib, snow(s) - t0);
	/* What is left unfragmented would serve the inflate with 2 MiB
	 * pages: hold it with an anonymous allocation (2 MiB faults take
	 * whole blocks first), so the inflate meets the holes.  All of it
	 * but 8 MiB: 64 MiB left over gave our first inflate ~80 MiB of
	 * 2 MiB pages before the 4 KiB fallback (curves of
	 * 20261201-171221-quick). */
	st = agent(s, 30, "stats");
	int64_t left = be_kv(st, "memfree_kb") / 1024 - frag / 2 - 8;
	long hold = 0;
	if (left > 0) {
		r = agent(s, 120, "alloc %lldM", (long long)left);
		if (strncmp(r, "ok", 2))
			sess_fail(s, "alloc after fragmenting failed");
		hold = (long)be_kv(r, "id");
	}
	uint64_t step_size = opt.frag_step;
	json_object_set_new(s->cond, "fragmented", json_pack("{s:I,s:I,s:I}",
		"holes_file_mib", (json_int_t)frag, "held_mib",
		(json_int_t)(left > 0 ? left : 0), "step_mib",
		(json_int_t)(step_size >> 20)));
	/* On our device, today's path against the one before issue 22
	 * ("fragmented-old", both switches off) in the same boot, the
	 * repetitions interleaved so that neither gets the quieter host. */
	bool old = !strcmp(s->be.ops->name, "emu");
	for (int rep = 1; rep <= runs; rep++) {
		reps_inflate_deflate_from(s, step_size, false, "fragmented",
					  rep, rep);
		if (!old)
			continue;
		if ((old = old_4k_path(s, true)))
			reps_inflate_deflate_from(s, step_size, false,
						  "fragmented-old", rep, rep);
		if (!old_4k_path(s, false))
			sess_fail(s, "cannot set discard-worker and bulk_alloc "
				  "back on");
	}
	if (hold)
		agent(s, 60, "free %ld", hold);
	agent(s, 120, "free %ld", id);
	st = agent(s, 30, "stats");
	/* tb_balloon's own count of 2 MiB -> 4 KiB fallbacks, if any. */
	int64_t fb = be_kv(st, "fallbacks_4k");
	if (fb >= 0)
		json_object_set_new(s->cond, "fallbacks_4k_after_fragmented",
				    json_integer(fb));
}

/*
 * The cost of zero_on_inflate (the driver clears every page before the host
 * gets it, as NetBSD's balloon(4)): the first size's inflate and deflate
 * again with the parameter on (it is writable at run time), touched and
 * untouched, labelled "...-zeroed"; the report sets them against virtio's
 * plain runs and against ours with it off.  Our driver only.
 */
#define ZERO_PARAM "/sys/module/tb_balloon/parameters/zero_on_inflate"
static void reps_zero_on_inflate(struct sess *s, int runs)
{
	if (strncmp(agent(s, 10, "sysfs-write " ZERO_PARAM " 1"), "ok", 2)) {
		note("   zero_on_inflate: cannot set it (%s): not measured",
		     s->reply);
		return;
	}
	for (int touched = 0; touched <= 1; touched++)
		reps_inflate_deflate(s, opt.sizes[0], touched, touched ?
				     "touched-zeroed" : "untouched-zeroed",
				     runs);
	if (strncmp(agent(s, 10, "sysfs-write " ZERO_PARAM " 0"), "ok", 2))
		sess_fail(s, "cannot clear zero_on_inflate again");
}

/* The cases --cases names; all of them without it. */
static const char *const case_names[] = { "zeroing", "latency", "steps",
					  "zeroed", "fragmented" };

static bool want_case(const char *name)
{
	if (!opt.cases)
		return true;
	size_t n = strlen(name);
	for (const char *p = opt.cases; (p = strstr(p, name)); p += n)
		if ((p == opt.cases || p[-1] == ',') &&
		    (p[n] == ',' || !p[n]))
			return true;
	return false;
}

static void run_session(const char *backend, int ioa)
{
	struct sess *s = calloc(1, sizeof(*s));
	sess_start(s, backend, ioa);
	if (ioa && want_case("zeroing"))
		reps_zeroing(s, opt.quick ? 2 : 3);
	if (want_case("latency"))
		reps_latency(s, opt.lat_runs);
	for (int touched = 0; touched <= 1 && want_case("steps"); touched++)
		for (int i = 0; i < opt.nsizes; i++)
			reps_inflate_deflate(s, opt.sizes[i], touched, NULL,
					     opt.runs);
	if (!strcmp(backend, "emu") && want_case("zeroed"))
		reps_zero_on_inflate(s, opt.runs);
	if (want_case("fragmented"))
		reps_fragmented(s, opt.runs);
	sess_stop(s);
	free(s);
	/* Each session's records are kept as soon as they exist. */
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/raw.json", opt.out);
	json_t *doc = json_pack("{s:O,s:O}", "sessions", sessions,
				"records", raw);
	bench_write_json(doc, path);
	json_decref(doc);
}

int bench_spawn(char *const argv[], const char *out, const char *err,
		char *cap, size_t caplen, const char *cwd)
{
	posix_spawn_file_actions_t fa;
	FILE *tmp = cap ? tmpfile() : NULL;
	pid_t pid;
	int st;

	if (cap && !tmp)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (tmp) {
		posix_spawn_file_actions_adddup2(&fa, fileno(tmp), 1);
		posix_spawn_file_actions_adddup2(&fa, fileno(tmp), 2);
	} else {
		if (out)
			posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY |
				O_CREAT | O_TRUNC, 0644);
		if (err && out && !strcmp(err, out))
			posix_spawn_file_actions_adddup2(&fa, 1, 2);
		else if (err)
			posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY |
				O_CREAT | O_TRUNC, 0644);
	}
	if (cwd)
		posix_spawn_file_actions_addchdir_np(&fa, cwd);
	int e = (strchr(argv[0], '/') ? posix_spawn : posix_spawnp)(&pid,
		argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		if (tmp)
			fclose(tmp);
		errno = e;
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (tmp) {
		size_t n = 0;
		rewind(tmp);
		if (caplen)
			n = fread(cap, 1, caplen - 1, tmp);
		if (caplen)
			cap[n] = '\0';
		fclose(tmp);
	}
	return st;
}

/* Simulation speed: the harness on the sim backend, a 4 GiB guest job. */
static void sim_speed(json_t *extra)
{
	static char help[64 * 1024];
	if (!opt.harness || !opt.sim_job) {
		json_object_set_new(extra, "sim_missing",
				    json_string("no harness or job file"));
		return;
	}
	char *const helpv[] = { (char *)opt.harness, "--help", NULL };
	int hs = bench_spawn(helpv, NULL, NULL, help, sizeof(help), NULL);
	if (hs == -1 || !strstr(help, "sim")) {
		json_object_set_new(extra, "sim_missing", json_string(
			"the harness has no sim backend linked in"));
		return;
	}
	int runs = opt.quick ? 1 : 5;
	json_t *arr = json_array();
	for (int rep = 1; rep <= runs; rep++) {
		char id[32];
		snprintf(id, sizeof(id), "sim-%d", rep);
		char results[PATH_MAX + 8], log[PATH_MAX + 32];
		snprintf(results, sizeof(results), "%s/sim", opt.out);
		snprintf(log, sizeof(log), "%s/sim-%d.log", opt.out, rep);
		char *const simv[] = { (char *)opt.harness, "--backend", "sim",
				       "--quiet", "--results", results,
				       "--run-id", id, (char *)opt.sim_job,
				       NULL };
		struct timespec a, b;
		clock_gettime(CLOCK_MONOTONIC, &a);
		int rc = bench_spawn(simv, log, log, NULL, 0, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double wall = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec)
			      / 1e9;
		/* Virtual duration: the curve's last time (summary.json's
		 * duration_s reads 0 on sim). */
		char sp[2 * PATH_MAX];
		const char *base = strrchr(opt.sim_job, '/');
		base = base ? base + 1 : opt.sim_job;
		snprintf(sp, sizeof(sp), "%s/sim/%.*s/%s/curve.tsv", opt.out,
			 (int)(strcspn(base, ".")), base, id);
		double virt = 0;
		FILE *cf = fopen(sp, "r");
		char ln[512];
		while (cf && fgets(ln, sizeof(ln), cf))
			if (ln[0] >= '0' && ln[0] <= '9')
				virt = strtod(ln, NULL);
		if (cf)
			fclose(cf);
		if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) == 2 ||
		    virt <= 0) {
			json_object_set_new(extra, "sim_missing", json_sprintf(
				"sim run failed (exit %d), see %s/sim-%d.log",
				WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, opt.out,
				rep));
			break;
		}
		json_array_append_new(arr, json_pack("{s:f,s:f,s:f}",
			"virtual_s", virt, "wall_s", wall, "speed",
			virt / wall));
		note("   sim: %.1f virtual s in %.3f wall s = %.0fx", virt,
		     wall, virt / wall);
	}
	json_object_set_new(extra, "sim", arr);
}

static void on_signal(int sig)
{
	interrupted = 1;
	if (cur_sess && cur_sess->be.ops && cur_sess->be.priv)
		cur_sess->be.ops->kill_now(&cur_sess->be);
	(void)sig;
}

static uint64_t size_arg(const char *s)
{
	uint64_t v;
	if (parse_size(s, 0, 1.0, false, &v))
		die("bad size '%s' (expected e.g. 512M, 1G)", s);
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: tb-bench --out DIR --qemu QEMU --kernel K --initrd I [options]\n"
"       tb-bench --report DIR\n"
"  --ref-qemu PATH   QEMU for the virtio reference (default: --qemu)\n"
"  --accel tcg|kvm   accelerator (default tcg)\n"
"  --quick           fewer runs, smaller steps\n"
"  --runs N          repetitions per figure (default 5, quick 3)\n"
"  --sizes A,B       step sizes (default 1G,3G; quick 512M)\n"
"  --memory SIZE     guest RAM (default 4G; quick 1G)\n"
"  --only emu|virtio one backend only (development)\n"
"  --ioa 0,1         init_on_alloc values to run (default 0,1)\n"
"  --cases LIST      only these cases (development), of zeroing, latency,\n"
"                    steps, zeroed, fragmented; e.g. --cases fragmented\n"
"  --harness PATH --sim-job FILE   simulation speed on the sim backend\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "ref-qemu", required_argument, NULL, 'Q' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "accel", required_argument, NULL, 'a' },
		{ "quick", no_argument, NULL, 'z' },
		{ "runs", required_argument, NULL, 'n' },
		{ "sizes", required_argument, NULL, 's' },
		{ "memory", required_argument, NULL, 'm' },
		{ "only", required_argument, NULL, 'O' },
		{ "ioa", required_argument, NULL, 'I' },
		{ "cases", required_argument, NULL, 'C' },
		{ "harness", required_argument, NULL, 'H' },
		{ "sim-job", required_argument, NULL, 'J' },
		{ "report", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *sizes = NULL, *memory = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'o': opt.out = optarg; break;
		case 'q': opt.qemu = optarg; break;
		case 'Q': opt.ref_qemu = optarg; break;
		case 'k': env.kernel = optarg; break;
		case 'i': env.initrd = optarg; break;
		case 'a': env.accel = optarg; break;
		case 'z': opt.quick = true; break;
		case 'n': opt.runs = atoi(optarg); break;
		case 's': sizes = optarg; break;
		case 'm': memory = optarg; break;
		case 'O': opt.only = optarg; break;
		case 'I': opt.cmdlines = optarg; break;
		case 'C': opt.cases = optarg; break;
		case 'H': opt.harness = optarg; break;
		case 'J': opt.sim_job = optarg; break;
		case 'r': return bench_report(optarg);
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!opt.out || !opt.qemu || !env.kernel || !env.initrd) {
		usage(stderr);
		return 2;
	}
	env.qemu = opt.qemu;
	env.stock_qemu = opt.ref_qemu ? opt.ref_qemu : opt.qemu;
	if (!opt.runs)
		opt.runs = opt.quick ? 3 : 5;
	if (!sizes)
		sizes = opt.quick ? "512M" : "1G,3G";
	if (memory)
		opt.memory = size_arg(memory);
	else if (opt.quick)
		opt.memory = 1ull << 30;
	opt.lat_runs = opt.quick ? 5 : 7;
	char *dup = strdup(sizes), *save = NULL;
	for (char *t = strtok_r(dup, ",", &save); t && opt.nsizes < 4;
	     t = strtok_r(NULL, ",", &save))
		opt.sizes[opt.nsizes++] = size_arg(t);
	free(dup);
	/* The fragmented step needs 3.3 times its size in holes file (and
	 * costs that much writing under TCG): 512 MiB at most. */
	opt.frag_step = opt.sizes[0];
	if (opt.frag_step > opt.memory / 8)
		opt.frag_step = opt.memory / 8;
	if (opt.frag_step > 512ull << 20)
		opt.frag_step = 512ull << 20;
	for (int i = 0; i < opt.nsizes; i++)
		if (opt.sizes[i] + (256ull << 20) > opt.memory)
			die("step %llu MiB does not fit a %llu MiB guest",
			    (unsigned long long)(opt.sizes[i] >> 20),
			    (unsigned long long)(opt.memory >> 20));

	if (opt.cases) {
		char *d = strdup(opt.cases), *sv = NULL;
		for (char *t = strtok_r(d, ",", &sv); t;
		     t = strtok_r(NULL, ",", &sv)) {
			size_t k = 0, nk = sizeof(case_names) /
					   sizeof(case_names[0]);
			while (k < nk && strcmp(t, case_names[k]))
				k++;
			if (k == nk)
				die("--cases: unknown case '%s' (zeroing, "
				    "latency, steps, zeroed, fragmented)", t);
		}
		free(d);
	}
	if (mkdir(opt.out, 0755) && errno != EEXIST)
		die("mkdir %s: %s", opt.out, strerror(errno));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	srand(1);
	raw = json_array();
	sessions = json_array();

	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* ours then the reference, per command line, back to back */
	for (const char *p = opt.cmdlines; *p; p++) {
		if (*p != '0' && *p != '1')
			continue;
		int ioa = *p - '0';
		if (!opt.only || !strcmp(opt.only, "emu"))
			run_session("emu", ioa);
		if (!opt.only || !strcmp(opt.only, "virtio"))
			run_session("virtio", ioa);
	}
	json_t *extra = json_object();
	sim_speed(extra);
	clock_gettime(CLOCK_MONOTONIC, &b);
	struct utsname u;
	uname(&u);
	json_object_set_new(extra, "wall_s", json_real((b.tv_sec - a.tv_sec) +
			    (b.tv_nsec - a.tv_nsec) / 1e9));
	json_object_set_new(extra, "quick", json_boolean(opt.quick));
	json_object_set_new(extra, "runs", json_integer(opt.runs));
	if (opt.cases)
		json_object_set_new(extra, "cases", json_string(opt.cases));
	json_object_set_new(extra, "host", json_sprintf("%s %s, %ld CPUs",
			    u.sysname, u.release, sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(extra, "kernel_version", json_string(
			    bench_kernel_version(env.kernel)));
	json_object_set_new(extra, "sample_interval_s",
			    json_real(opt.interval));

	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/raw.json", opt.out);
	json_t *doc = json_pack("{s:O,s:O,s:o}", "sessions", sessions,
				"records", raw, "run", extra);
	if (bench_write_json(doc, path))
		die("cannot write %s", path);
	json_decref(doc);
	return bench_report(opt.out);
}
