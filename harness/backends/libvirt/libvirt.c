// SPDX-License-Identifier: GPL-2.0-only
/*
 * libvirt.c - the "libvirt" backend: the emu guest (our QEMU, tb-balloon,
 * the tb_balloon driver, the agent), defined and started through a real
 * libvirtd with the libvirt C API, and driven the way an operator would:
 *
 *   target      virDomainSetMemoryFlags(LIVE)    = virsh setmem --live
 *   properties  qom-set/qom-get through virDomainQemuMonitorCommand
 *               = virsh qemu-monitor-command
 *   samples     virDomainMemoryStats (actual, RSS) = virsh dommemstat,
 *               plus the device's "stats" property
 *   events      balloon change and lifecycle events of libvirt
 *
 * The domain is transient and created with AUTODESTROY, so libvirtd itself
 * destroys it if the harness dies without calling stop().  The console
 * (ttyS0) is a pty, so `virsh console` works during a run, and QEMU logs its
 * output to a file the harness follows (inotify); the agent (ttyS1) is a
 * Unix socket QEMU listens on.  The domain is created paused and resumed
 * once both are open, so no early line is lost.
 *
 * libvirt calls its event callbacks from lv_conn.c's event thread; they only
 * queue the event and poke a pipe, and wait() emits them from the runner's
 * thread, in order with console and agent lines.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "backends/io.h"
#include "plan/plan.h"
#include "lv_conn.h"
#include "lv_domxml.h"

#define LV_ALIAS	"ua-tb-balloon"
#define LV_QOM_PATH	"/machine/peripheral/" LV_ALIAS
#ifndef LV_DRIVER
#define LV_DRIVER	"tb-balloon"
#endif
#define DESTROY_WAIT	10.0	/* s for a destroyed domain to be gone */
#define QUEUE_LEN	256

/* An event from libvirt's thread, waiting for wait(). */
struct lv_event {
	enum be_event_kind kind;
	char text[160];
	int64_t value;
};

struct lv_be {
	struct lv_conn lc;
	char qemu[PATH_MAX], kernel[PATH_MAX], initrd[PATH_MAX];
	virDomainPtr dom;
	char name[96];
	char sockdir[64];
	char con_path[96], agent_path[96];
	int con_fd, agent_fd, ino_fd;
	double next_check;		/* next liveness poll, backend clock */
	struct linebuf con, agent;
	struct timespec t0;
	uint64_t target;		/* last target set, bytes */
	uint64_t max_kib;		/* the domain's <memory> */
	volatile pid_t qemu_pid;	/* for kill_now */
	volatile pid_t daemon_pid;	/* ours only, for kill_now */
	int cb_life, cb_balloon;
	bool close_cb;
	bool dead;			/* BE_EV_DIED emitted */

	/* Filled by the event thread, drained by wait(). */
	pthread_mutex_t lock;
	struct lv_event q[QUEUE_LEN];
	unsigned qhead, qtail;
	int pipe[2];
};

static struct lv_be *priv(struct backend *be)
{
	return be->priv;
}

static double lnow(struct backend *be)
{
	return be_elapsed(&priv(be)->t0);
}

/* ---- events from libvirt's thread ---- */

static void push(struct lv_be *l, enum be_event_kind kind, const char *text,
		 int64_t value)
{
	pthread_mutex_lock(&l->lock);
	if (l->qtail - l->qhead < QUEUE_LEN) {
		struct lv_event *e = &l->q[l->qtail++ % QUEUE_LEN];
		e->kind = kind;
		snprintf(e->text, sizeof(e->text), "%s", text);
		e->value = value;
	}
	pthread_mutex_unlock(&l->lock);
	if (write(l->pipe[1], "", 1) < 0) {
		/* Pipe full: wait() is already due to wake up. */
	}
}

static const char *stopped_why(int detail)
{
	switch (detail) {
	case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
		return "guest powered off or reset (on_reboot=destroy)";
	case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
		return "destroyed";
	case VIR_DOMAIN_EVENT_STOPPED_CRASHED:
		return "QEMU crashed";
	case VIR_DOMAIN_EVENT_STOPPED_FAILED:
		return "QEMU ended unexpectedly (killed or crashed)";
	case VIR_DOMAIN_EVENT_STOPPED_MIGRATED:
		return "migrated away";
	case VIR_DOMAIN_EVENT_STOPPED_SAVED:
		return "saved";
	default:
		return "stopped";
	}
}

static const char *const life_names[] = {
	"defined", "undefined", "started", "suspended", "resumed",
	"stopped", "shutdown", "pmsuspended", "crashed",
};

static int on_lifecycle(virConnectPtr c, virDomainPtr d, int event,
			int detail, void *opaque)
{
	struct lv_be *l = opaque;
	char text[160];

	if (event == VIR_DOMAIN_EVENT_STOPPED) {
		snprintf(text, sizeof(text), "libvirt: domain stopped: %s",
			 stopped_why(detail));
		push(l, BE_EV_DIED, text, 0);
		return 0;
	}
	if (event == VIR_DOMAIN_EVENT_CRASHED) {
		push(l, BE_EV_DIED, "libvirt: guest crashed (panic)", 0);
		return 0;
	}
	snprintf(text, sizeof(text), "LIFECYCLE_%s",
		 event >= 0 && event < (int)(sizeof(life_names) /
					     sizeof(life_names[0])) ?
		 life_names[event] : "other");
	for (char *p = text; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	push(l, BE_EV_HOST, text, detail);
	return 0;
}

static int on_balloon(virConnectPtr c, virDomainPtr d,
		      unsigned long long actual_kib, void *opaque)
{
	/* QEMU's value, through libvirt: bytes that fit, or not taken. */
	if (actual_kib > (unsigned long long)INT64_MAX / 1024)
		push(opaque, BE_EV_HOST, "BALLOON_CHANGE with an actual past "
		     "2^63 bytes (ignored)", 0);
	else
		push(opaque, BE_EV_BALLOON_CHANGE, "BALLOON_CHANGE",
		     (int64_t)actual_kib * 1024);
	return 0;
}

static void on_close(virConnectPtr c, int reason, void *opaque)
{
	static const char *const why[] = {
		"error", "end of file", "keepalive timeout", "client closed",
	};
	char text[160];

	if (reason == VIR_CONNECT_CLOSE_REASON_CLIENT)
		return;		/* our own close in stop() */
	snprintf(text, sizeof(text), "libvirt: connection to libvirtd lost "
		 "(%s)", reason >= 0 && reason < 4 ? why[reason] : "?");
	push(opaque, BE_EV_DIED, text, 0);
}

/* ---- prepare ---- */

static int lprepare(struct backend *be, const struct plan *plan,
		    const struct be_env *env)
{
	struct lv_be *l = calloc(1, sizeof(*l));
	char qv[96];
	unsigned long libver = 0;

	if (!l)
		return be_errf(be, "out of memory");
	be->priv = l;
	be->plan = plan;
	be->env = env;
	l->con_fd = l->agent_fd = l->ino_fd = -1;
	l->pipe[0] = l->pipe[1] = -1;
	l->cb_life = l->cb_balloon = -1;
	pthread_mutex_init(&l->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &l->t0);

	/* libvirtd runs elsewhere: it needs absolute paths. */
	if (!env->qemu || !realpath(env->qemu, l->qemu) || access(l->qemu, X_OK))
		return be_errf(be, "QEMU binary '%s' not found or not executable "
			       "(run `make qemu`, or pass --qemu)",
			       env->qemu ? env->qemu : "(none)");
	if (!env->kernel || !realpath(env->kernel, l->kernel))
		return be_errf(be, "guest kernel '%s' not found (run `make "
			       "guest`, or pass --kernel)",
			       env->kernel ? env->kernel : "(none)");
	if (!env->initrd || !realpath(env->initrd, l->initrd))
		return be_errf(be, "initramfs '%s' not found (run `make guest`, "
			       "or pass --initrd)",
			       env->initrd ? env->initrd : "(none)");

	char *const version[] = { l->qemu, "--version", NULL };
	be_run_capture(version, qv, sizeof(qv));
	virGetVersion(&libver, NULL, NULL);
	be->program = l->qemu;
	snprintf(be->host_version, sizeof(be->host_version),
		 /* room for the libvirt version: QEMU's line is cut first */
		 "%.90s (libvirt %lu.%lu.%lu)", qv[0] ? qv : "QEMU (unknown)",
		 libver / 1000000, libver / 1000 % 1000, libver % 1000);
	snprintf(be->accel, sizeof(be->accel), "%s",
		 env->accel && !strcmp(env->accel, "kvm") ? "kvm" : "tcg");

	/* The same command line as emu, so the runs compare; too long for
	 * the guest is an error before any domain is defined. */
	if (be_kernel_cmdline(be, plan, NULL, true))
		return -1;

	for (int i = 0; i < plan->nprops; i++) {
		bool is_size, is_bool;
		if (!device_prop_known(plan->props[i].key, &is_size, &is_bool))
			return be_errf(be, "unknown device property '%s'",
				       plan->props[i].key);
	}
	if (plan->nprops > LV_MAX_PROPS)
		return be_errf(be, "too many device properties (%d, at most %d)",
			       plan->nprops, LV_MAX_PROPS);
	return 0;
}

/* ---- start ---- */

/* A record for whoever reads the results (io.c: whole or not at all);
 * not being able to write it does not stop the run. */
static void write_file(struct backend *be, const char *name, const char *text)
{
	char keep[sizeof(be->error)];

	if (!text)
		return;
	memcpy(keep, be->error, sizeof(keep));
	if (be_write_file(be, name, text))
		fprintf(stderr, "harness: %s\n", be->error);
	memcpy(be->error, keep, sizeof(keep));
}

/* QEMU's log and pid file live in the daemon's state directories: ours
 * under its private directory, the system's under /run and /var/log. */
static void daemon_path(struct lv_be *l, char *buf, size_t len,
			const char *sys_path)
{
	if (l->lc.own)
		snprintf(buf, len, "%s%s", l->lc.own_dir, sys_path);
	else
		snprintf(buf, len, "%s", sys_path);
}

static pid_t find_qemu_pid(struct lv_be *l)
{
	char sys[256], path[PATH_MAX];

	snprintf(sys, sizeof(sys), "/run/libvirt/qemu/%s.pid", l->name);
	daemon_path(l, path, sizeof(path), sys);
	return lv_read_pid(path);
}

/*
 * The daemon must run on this machine, whatever the URI's transport
 * (qemu+ssh://root@127.0.0.1/... is this machine): the domain XML names
 * our QEMU, kernel and initramfs by this machine's paths, and the harness
 * follows the console log and connects to the agent socket QEMU creates
 * in a /tmp/tblv.* directory here.  A daemon on another host gets an
 * error that says so (run the harness there: make dist, HOSTS=).  The URI
 * and the daemon's host name go to libvirt.txt in the run directory.
 */
/* Host names alike up to their first dot (libvirt's virGetHostname gives
 * the FQDN where it resolves, gethostname often the short name). */
static bool same_host(const char *a, const char *b)
{
	size_t na = strcspn(a, "."), nb = strcspn(b, ".");

	return na == nb && !strncmp(a, b, na);
}

static int daemon_here(struct backend *be)
{
	struct lv_be *l = priv(be);
	char here[256] = "", text[PATH_MAX + 600];
	char *there = virConnectGetHostname(l->lc.conn);

	if (gethostname(here, sizeof(here) - 1) < 0)
		here[0] = '\0';
	snprintf(text, sizeof(text), "uri %s\ndaemon-host %s\nharness-host %s\n",
		 l->lc.uri, there ? there : "?", here);
	write_file(be, "libvirt.txt", text);
	if (there && *here && !same_host(there, here)) {
		be_errf(be, "libvirt: the daemon at %s runs on %s, not on this "
			"machine (%s): the guest's QEMU, kernel and initramfs "
			"paths, its console log and agent socket are this "
			"machine's, so run the harness on %s (`make dist` packs "
			"what it needs; `make regress HOSTS=` fans runs out)",
			l->lc.uri, there, here, there);
		free(there);
		return -1;
	}
	free(there);
	return 0;
}

static int lstart(struct backend *be)
{
	struct lv_be *l = priv(be);
	const struct plan *plan = be->plan;
	const char *mode = getenv("TB_LIBVIRTD");
	struct lv_dom_spec spec = { 0 };
	char err[512];
	char *xml;

	if (lv_event_loop_start(err, sizeof(err)) < 0)
		return be_errf(be, "%s", err);
	lv_quiet_errors();
	if (pipe2(l->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return be_errf(be, "pipe: %s", strerror(errno));

	if (lv_connect(&l->lc, mode, NULL, err, sizeof(err)) < 0)
		return be_errf(be, "libvirt: %s", err);
	l->daemon_pid = l->lc.daemon_pid;
	if (daemon_here(be) < 0)
		return -1;
	if (virConnectRegisterCloseCallback(l->lc.conn, on_close, l, NULL) == 0)
		l->close_cb = true;

	snprintf(l->sockdir, sizeof(l->sockdir), "/tmp/tblv.XXXXXX");
	if (!mkdtemp(l->sockdir)) {
		l->sockdir[0] = '\0';
		return be_errf(be, "mkdtemp: %s", strerror(errno));
	}
	snprintf(l->con_path, sizeof(l->con_path), "%s/console.log",
		 l->sockdir);
	/* A user's daemon may run QEMU unprivileged: it must reach the
	 * directory and (re)write the console log there.  Ours runs as root. */
	if (!l->lc.own) {
		int fd = open(l->con_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0622);
		if (fd >= 0) {
			fchmod(fd, 0622);
			close(fd);
		}
		chmod(l->sockdir, 0711);
	}
	snprintf(l->agent_path, sizeof(l->agent_path), "%s/agent",
		 l->sockdir);
	/* Unique on a shared system daemon. */
	snprintf(l->name, sizeof(l->name), "tb-%.60s-%ld", plan->name,
		 (long)getpid());

	spec.name = l->name;
	spec.kvm = !strcmp(be->accel, "kvm");
	spec.emulator = l->qemu;
	spec.memory = plan->memory;
	spec.vcpus = plan->vcpus;
	spec.machine = plan->machine;
	spec.numa_nodes = plan->numa_nodes;
	/* memory-backend = (backends/membacking.c for emu) as libvirt's
	 * <memoryBacking>; libvirt makes and removes the files itself. */
	const char *mb = plan->memory_backend;
	if (!strcmp(mb, "hugetlbfs") || !strcmp(mb, "hugepages"))
		return be_errf(be, "memory-backend %s: the libvirt backend "
			       "does not set up huge pages (<hugepages/> "
			       "needs libvirtd's hugetlbfs mount); run it on "
			       "emu", mb);
	if (*mb) {
		spec.mem_source = !strncmp(mb, "memfd", 5) ? "memfd" :
				  !strncmp(mb, "file", 4) ? "file" :
				  "anonymous";
		spec.mem_shared = strstr(mb, "-shared") != NULL;
		snprintf(be->memory_backing, sizeof(be->memory_backing),
			 "libvirt <memoryBacking> source %s, access %s%s",
			 spec.mem_source, spec.mem_shared ? "shared" :
			 "private", !strcmp(mb, "thp") ?
			 " (THP: QEMU madvises MADV_HUGEPAGE)" : "");
	}
	spec.kernel = l->kernel;
	spec.initrd = l->initrd;
	spec.cmdline = be->kernel_cmdline;
	spec.console_log = l->con_path;
	spec.agent_sock = l->agent_path;
	spec.alias = LV_ALIAS;
	spec.driver = LV_DRIVER;
	for (int i = 0; i < plan->nprops; i++) {
		bool is_size = false, is_bool = false;
		device_prop_known(plan->props[i].key, &is_size, &is_bool);
		spec.props[spec.nprops].name = plan->props[i].key;
		spec.props[spec.nprops].value = plan->props[i].value;
		spec.props[spec.nprops].type = is_bool ? LV_PROP_BOOL :
					       LV_PROP_UNSIGNED;
		spec.nprops++;
	}
	l->max_kib = plan->memory / 1024;

	xml = lv_domain_xml(&spec);
	if (!xml)
		return be_errf(be, "out of memory building the domain XML");
	write_file(be, "domain.xml", xml);

	/* Paused: the consoles are connected before the guest prints. */
	l->dom = virDomainCreateXML(l->lc.conn, xml,
				    VIR_DOMAIN_START_PAUSED |
				    VIR_DOMAIN_START_AUTODESTROY);
	free(xml);
	if (!l->dom)
		return be_errf(be, "libvirt (%s) refused the domain: %s",
			       l->lc.uri, virGetLastErrorMessage());
	l->qemu_pid = find_qemu_pid(l);

	l->cb_life = virConnectDomainEventRegisterAny(l->lc.conn, l->dom,
		VIR_DOMAIN_EVENT_ID_LIFECYCLE,
		VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), l, NULL);
	l->cb_balloon = virConnectDomainEventRegisterAny(l->lc.conn, l->dom,
		VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
		VIR_DOMAIN_EVENT_CALLBACK(on_balloon), l, NULL);
	if (l->cb_life < 0 || l->cb_balloon < 0)
		return be_errf(be, "libvirt: cannot subscribe to domain events: "
			       "%s", virGetLastErrorMessage());

	/* The live XML says what libvirt made of ours. */
	char *live = virDomainGetXMLDesc(l->dom, 0);
	write_file(be, "domain-live.xml", live);
	free(live);

	l->con_fd = open(l->con_path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (l->con_fd < 0)
		return be_errf(be, "cannot open the guest console log %s: %s",
			       l->con_path, strerror(errno));
	l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ino_fd < 0 ||
	    inotify_add_watch(l->ino_fd, l->con_path, IN_MODIFY) < 0)
		return be_errf(be, "inotify on %s: %s", l->con_path,
			       strerror(errno));
	l->agent_fd = be_connect_unix(l->agent_path, 10, 0, be->env->stop);
	if (l->agent_fd < 0)
		return be_errf(be, "cannot connect to the agent socket %s: %s",
			       l->agent_path, strerror(errno));

	clock_gettime(CLOCK_MONOTONIC, &l->t0);
	if (virDomainResume(l->dom) < 0)
		return be_errf(be, "libvirt: cannot resume the domain: %s",
			       virGetLastErrorMessage());
	return 0;
}

/* ---- waiting ---- */

/* Emit what libvirt's thread queued; returns how many. */
static int flush_events(struct backend *be)
{
	struct lv_be *l = priv(be);
	char junk[64];
	int n = 0;

	while (read(l->pipe[0], junk, sizeof(junk)) > 0)
		;
	for (;;) {
		struct lv_event e;
		pthread_mutex_lock(&l->lock);
		if (l->qhead == l->qtail) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		e = l->q[l->qhead++ % QUEUE_LEN];
		pthread_mutex_unlock(&l->lock);
		if (e.kind == BE_EV_DIED) {
			if (l->dead)
				continue;
			l->dead = true;
		}
		be_emit(be, e.kind, e.text, e.value);
		n++;
	}
	return n;
}

/* Console log: everything appended since the last read. */
static void follow_console(struct backend *be)
{
	struct lv_be *l = priv(be);
	char tmp[8192];
	ssize_t r;

	if (l->ino_fd >= 0)
		while (read(l->ino_fd, tmp, sizeof(tmp)) > 0)
			;
	while (l->con_fd >= 0 && (r = read(l->con_fd, tmp, sizeof(tmp))) > 0)
		be_feed_lines(be, tmp, r, &l->con, be_on_console);
}

/*
 * No lifecycle event yet, but is the domain still there?  Covers an event
 * lost with a broken connection; libvirt's keepalive covers a dead daemon.
 */
static bool domain_running(struct lv_be *l)
{
	int state = 0, reason = 0;

	if (virDomainGetState(l->dom, &state, &reason, 0) < 0)
		return false;	/* a transient domain that stopped is gone */
	return state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_CRASHED;
}

static void check_alive(struct backend *be, bool soon)
{
	struct lv_be *l = priv(be);

	if (l->dead || (!soon && lnow(be) < l->next_check))
		return;
	l->next_check = lnow(be) + 2;
	/* QEMU closed a port: give libvirt's event, which says why, a
	 * moment to arrive first. */
	for (int i = 0; soon && i < 25 && !l->dead; i++) {
		usleep(20000);
		flush_events(be);
	}
	if (l->dead || domain_running(l))
		return;
	flush_events(be);
	follow_console(be);
	if (!l->dead) {
		l->dead = true;
		be_emit(be, BE_EV_DIED, "libvirt: domain no longer running",
			0);
	}
}

static int pump(struct backend *be, double timeout)
{
	struct lv_be *l = priv(be);
	struct pollfd p[3] = {
		{ .fd = l->ino_fd, .events = POLLIN },
		{ .fd = l->agent_fd, .events = POLLIN },
		{ .fd = l->pipe[0], .events = POLLIN },
	};
	int ms = timeout <= 0 ? 0 : (int)(timeout * 1000) + 1;
	int r, got = 0;

	if (ms > 200)
		ms = 200;
	r = poll(p, 3, ms);
	if (r < 0 && errno == EINTR)
		return 1;
	if (r > 0) {
		if (p[1].revents &&
		    be_drain_lines(be, l->agent_fd, &l->agent, be_on_agent)) {
			/* QEMU closed the agent's port: it is going away. */
			close(l->agent_fd);
			l->agent_fd = -1;
			check_alive(be, true);
		}
		got = 1;
	}
	follow_console(be);
	got |= flush_events(be) > 0;
	check_alive(be, false);
	if (l->dead)
		return -1;
	return got;
}

static int lwait(struct backend *be, double until, bool until_event)
{
	while (!*be->env->stop) {
		int r = pump(be, until - lnow(be));
		if (r < 0)
			return -1;
		if ((r > 0 && until_event) || lnow(be) >= until)
			return 0;
	}
	return 0;
}

/* ---- the monitor, through libvirt ---- */

/* Run one QMP command through libvirt; returns its "return" or NULL. */
static json_t *qmp(struct backend *be, json_t *cmd)
{
	struct lv_be *l = priv(be);
	char *s = json_dumps(cmd, JSON_COMPACT), *reply = NULL;
	json_t *j, *ret;
	json_error_t jerr;
	const char *what = json_string_value(json_object_get(cmd, "execute"));

	json_decref(cmd);
	if (!s) {
		be_errf(be, "out of memory");
		return NULL;
	}
	if (!l->dom) {
		free(s);
		be_errf(be, "no domain");
		return NULL;
	}
	int rc = virDomainQemuMonitorCommand(l->dom, s, &reply, 0);
	free(s);
	if (rc < 0) {
		be_errf(be, "libvirt monitor command: %s",
			virGetLastErrorMessage());
		return NULL;
	}
	j = json_loads(reply, 0, &jerr);
	free(reply);
	if (!j) {
		be_errf(be, "libvirt monitor reply is not JSON: %s", jerr.text);
		return NULL;
	}
	if (json_object_get(j, "error")) {
		be_errf(be, "QMP %s: %s", what ? what : "?",
			json_string_value(json_object_get(
			   json_object_get(j, "error"), "desc")));
		json_decref(j);
		return NULL;
	}
	ret = json_incref(json_object_get(j, "return"));
	json_decref(j);
	if (!ret)
		be_errf(be, "QMP %s: reply without 'return'", what ? what : "?");
	return ret;
}

static int lset_target(struct backend *be, uint64_t bytes)
{
	struct lv_be *l = priv(be);
	unsigned long kib = (unsigned long)(bytes / 1024);

	if (kib > l->max_kib) {
		/* libvirt refuses more than <memory>; QEMU's own balloon
		 * command (what libvirt would send) lets the guest clip it. */
		json_t *r = qmp(be, json_pack("{s:s,s:{s:I}}", "execute",
					      "balloon", "arguments", "value",
					      (json_int_t)bytes));
		if (!r)
			return -1;
		json_decref(r);
		be_emit(be, BE_EV_HOST, "target above <memory>: libvirt "
			"refuses it, sent as QMP balloon", (int64_t)bytes);
	} else if (virDomainSetMemoryFlags(l->dom, kib,
					   VIR_DOMAIN_AFFECT_LIVE) < 0) {
		return be_errf(be, "virDomainSetMemoryFlags(%lu KiB): %s", kib,
			       virGetLastErrorMessage());
	}
	l->target = bytes;
	return 0;
}

static int lset_prop(struct backend *be, const char *prop, const char *value)
{
	json_t *v = be_prop_json(be, prop, value), *r;

	if (!v)
		return -1;
	r = qmp(be, json_pack("{s:s,s:{s:s,s:s,s:o}}", "execute", "qom-set",
			      "arguments", "path", LV_QOM_PATH, "property",
			      prop, "value", v));
	if (!r)
		return -1;
	json_decref(r);
	return 0;
}

static int lget_prop(struct backend *be, const char *prop, char *buf,
		     size_t len)
{
	json_t *r = qmp(be, json_pack("{s:s,s:{s:s,s:s}}", "execute",
				      "qom-get", "arguments", "path",
				      LV_QOM_PATH, "property", prop));

	if (!r)
		return -1;
	be_json_text(r, buf, len);
	json_decref(r);
	return 0;
}

static int lagent_send(struct backend *be, const char *line)
{
	return be_agent_send(be, priv(be)->agent_fd, line);
}

static int lsample(struct backend *be, struct be_sample *s)
{
	struct lv_be *l = priv(be);
	virDomainMemoryStatStruct st[VIR_DOMAIN_MEMORY_STAT_NR];
	int n;
	json_t *r;

	memset(s, 0xff, sizeof(*s));	/* all -1 */
	s->target = l->target ? (int64_t)l->target :
		    (int64_t)be->plan->memory;
	/* dommemstat: "actual" is QEMU's query-balloon, answered by our
	 * device; "rss" is the QEMU process, measured by libvirtd. */
	n = virDomainMemoryStats(l->dom, st, VIR_DOMAIN_MEMORY_STAT_NR, 0);
	if (n < 0)
		return be_errf(be, "virDomainMemoryStats: %s",
			       virGetLastErrorMessage());
	for (int i = 0; i < n; i++) {
		if (st[i].tag == VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON)
			s->actual = (int64_t)st[i].val * 1024;
		else if (st[i].tag == VIR_DOMAIN_MEMORY_STAT_RSS)
			s->host_rss = (int64_t)st[i].val * 1024;
	}

	if (s->actual < 0) {
		/* dominfo's "Used memory": libvirt's copy, kept current by
		 * BALLOON_CHANGE events. */
		virDomainInfo info;
		if (virDomainGetInfo(l->dom, &info) == 0)
			s->actual = (int64_t)info.memory * 1024;
	}

	/* The device's counters (see tb-balloon.c's "stats"). */
	r = qmp(be, json_pack("{s:s,s:{s:s,s:s}}", "execute", "qom-get",
			      "arguments", "path", LV_QOM_PATH, "property",
			      "stats"));
	if (!r)
		return 0;	/* the curve goes without them */
	be_device_stats(r, s);
	json_decref(r);
	return 0;
}

/* ---- stop ---- */

static void copy_file(const char *from, const char *dir, const char *name)
{
	char to[PATH_MAX], buf[8192];
	FILE *in, *out;
	size_t n;

	if (!dir)
		return;
	in = fopen(from, "r");
	if (!in)
		return;
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	out = fopen(to, "w");
	if (out) {
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(in);
}

/* Is @pid still the QEMU of domain @name?  (A pid may be reused.) */
static bool is_our_qemu(pid_t pid, const char *name)
{
	char path[64], buf[4096], want[128];
	size_t n;
	FILE *f;

	if (pid <= 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	snprintf(want, sizeof(want), "guest=%s,", name);
	return strstr(buf, want) != NULL;
}

static void lstop(struct backend *be)
{
	struct lv_be *l = be->priv;
	char err[512], path[PATH_MAX], sys[256];

	if (!l)
		return;
	if (l->dom) {
		if (l->cb_life >= 0)
			virConnectDomainEventDeregisterAny(l->lc.conn,
							   l->cb_life);
		if (l->cb_balloon >= 0)
			virConnectDomainEventDeregisterAny(l->lc.conn,
							   l->cb_balloon);
		l->cb_life = l->cb_balloon = -1;
		virDomainInfo info;
		char text[160];
		/* What `virsh dominfo` shows at the end, for the record. */
		if (!l->dead && virDomainGetInfo(l->dom, &info) == 0) {
			snprintf(text, sizeof(text), "libvirt dominfo: used "
				 "memory %lu KiB of %lu KiB", info.memory,
				 info.maxMem);
			be_emit(be, BE_EV_HOST, text, (int64_t)info.memory *
				1024);
		}
		if (virDomainIsActive(l->dom) == 1 &&
		    virDomainDestroy(l->dom) < 0 &&
		    virDomainIsActive(l->dom) == 1)
			be_errf(be, "libvirt: cannot destroy %s: %s", l->name,
				virGetLastErrorMessage());
		/* Transient: gone once destroyed; bounded either way. */
		for (int i = 0; i < DESTROY_WAIT * 20 &&
		     virDomainIsActive(l->dom) == 1; i++)
			usleep(50000);
		virDomainFree(l->dom);
		l->dom = NULL;
	}
	/* libvirtd gone (or wedged) with our QEMU still running: QEMU
	 * outlives its daemon, so it is ours to end. */
	if (is_our_qemu(l->qemu_pid, l->name)) {
		kill(l->qemu_pid, SIGKILL);
		for (int i = 0; i < 100 && is_our_qemu(l->qemu_pid, l->name);
		     i++)
			usleep(20000);
	}
	l->qemu_pid = 0;
	if (l->close_cb && l->lc.conn) {
		virConnectUnregisterCloseCallback(l->lc.conn, on_close);
		l->close_cb = false;
	}
	if (l->con_fd >= 0)
		close(l->con_fd);
	if (l->agent_fd >= 0)
		close(l->agent_fd);
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	l->con_fd = l->agent_fd = l->ino_fd = -1;

	bool own = l->lc.own;
	if (l->lc.conn || own) {
		if (lv_disconnect(&l->lc, err, sizeof(err)) < 0)
			be_errf(be, "libvirt: %s", err);
	}
	l->daemon_pid = 0;
	/* Keep QEMU's log (libvirt writes the command line into it). */
	snprintf(sys, sizeof(sys), "/var/log/libvirt/qemu/%s.log", l->name);
	if (own) {
		snprintf(path, sizeof(path), "%s%s", l->lc.own_dir, sys);
		copy_file(path, be->run_dir, "qemu.log");
		snprintf(path, sizeof(path), "%s/libvirtd.log", l->lc.own_dir);
		copy_file(path, be->run_dir, "libvirtd.log");
		if (lv_daemon_script("clean", l->lc.own_dir, NULL, 0, err,
				     sizeof(err)) < 0)
			be_errf(be, "libvirt: %s", err);
	} else if (l->name[0]) {
		copy_file(sys, be->run_dir, "qemu.log");
	}
	l->name[0] = '\0';
	if (l->sockdir[0]) {
		unlink(l->con_path);
		unlink(l->agent_path);
		rmdir(l->sockdir);
		l->sockdir[0] = '\0';
	}
	if (l->pipe[0] >= 0) {
		close(l->pipe[0]);
		close(l->pipe[1]);
		l->pipe[0] = l->pipe[1] = -1;
	}
}

/* Signal handler: no libvirt call is safe here.  QEMU dies by our hand;
 * our daemon exits on SIGTERM (the domain is transient, nothing to save). */
static void lkill_now(struct backend *be)
{
	struct lv_be *l = be->priv;

	if (!l)
		return;
	if (l->qemu_pid > 0)
		kill(l->qemu_pid, SIGKILL);
	if (l->daemon_pid > 0)
		kill(l->daemon_pid, SIGTERM);
}

const struct backend_ops backend_libvirt = {
	.name = "libvirt",
	.summary = "the emu guest, started and driven through libvirtd",
	.prepare = lprepare, .start = lstart, .wait = lwait, .now = lnow,
	.set_target = lset_target, .set_prop = lset_prop,
	.get_prop = lget_prop, .agent_send = lagent_send,
	.sample = lsample, .stop = lstop, .kill_now = lkill_now,
	.supports = NULL,
};
