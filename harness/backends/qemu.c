// SPDX-License-Identifier: GPL-2.0-only
/*
 * qemu.c - the two backends that start QEMU directly:
 *   emu:    our QEMU, -device tb-balloon, the tb_balloon driver (default)
 *   virtio: stock QEMU, -device virtio-balloon-pci, Linux's virtio_balloon
 *
 * QEMU runs in its own process group with PR_SET_PDEATHSIG, so it cannot
 * outlive the harness, even one killed by SIGKILL.  Console (ttyS0) is
 * QEMU's stdout through a pipe, so no line is lost before we connect; the
 * agent (ttyS1) and QMP are Unix sockets in a private temporary directory
 * (/tmp/tbh.XXXXXX, 0700; socket paths are short), removed as soon as both
 * are connected.  docs/robustness.md says what a killed harness leaves.
 *
 * A harness run as root starts QEMU as the system user tb-qemu
 * (TB_QEMU_USER; scripts/deps.sh creates it): the child drops to it before
 * exec, so QEMU never runs as root and PR_SET_PDEATHSIG, set after the drop
 * (a change of credentials clears it), still holds.  QEMU is sandboxed
 * with seccomp (QEMU_SANDBOX; TB_QEMU_SANDBOX=off leaves it out).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/io.h"
#include "backends/membacking.h"
#include "plan/plan.h"

#define QMP_TIMEOUT	10.0	/* one QMP command, s */

/* The PCIe root port the balloon is plugged into on q35. */
#define TB_ROOT_PORT	"tbport"

/* QEMU's seccomp filter (QEMU 7.2's -sandbox): its default and obsolete
 * sets, no set*id, no fork/exec/namespaces, no scheduling changes.  The
 * device's discard worker (pidfd_open, process_madvise) is in none of
 * them. */
#define QEMU_SANDBOX	"on,obsolete=deny,elevateprivileges=deny," \
			"spawn=deny,resourcecontrol=deny"
/* The account QEMU runs as when the harness is root (TB_QEMU_USER). */
#define QEMU_USER	"tb-qemu"
#define QEMU_MAX_GROUPS	32

struct qemu_be {
	bool virtio;
	bool q35;		/* machine q35: the device behind TB_ROOT_PORT */
	pid_t pid;
	int con_fd, agent_fd, qmp_fd;
	struct linebuf con, agent, qmp;
	char sockdir[64];
	struct timespec t0;
	bool dead;
	/* QMP framing: each command carries an id, and only the reply with
	 * that id is taken; anything QEMU sends that is not QMP is a
	 * protocol error that ends the run (named, not a 10 s timeout). */
	json_int_t qmp_id;		/* id of the command in flight */
	char qmp_bad[300];		/* first protocol error, "" none */
	long qmp_strays;		/* replies nobody waited for */
	char qom_path[64];
	uint64_t target;	/* last target we set (bytes) */
	int stderr_fd;
	bool unplugged;		/* device_del done: no balloon to query */
	bool deleted;		/* DEVICE_DELETED seen for our device */
	uint64_t ram_sizes[BE_RAM_MAPS]; /* guest RAM's mappings, bytes */
	size_t nram;
	/* Who QEMU runs as: drop = switch to uid/gid/groups before exec. */
	bool drop, sandbox;
	uid_t uid;
	gid_t gid, groups[QEMU_MAX_GROUPS];
	int ngroups;
	char user[64];
	struct mem_backing mem;	/* memory-backend =: its object and path */
	/* Save/restore (qlifecycle): qstart() restores from this file when
	 * >= 0, with the device properties as the last one had them. */
	int incoming_fd;
	struct kv set[PLAN_MAX_KV];	/* properties set during the run */
	int nset;
	int qmp_pass_fd;	/* qmp_send() passes it (SCM_RIGHTS), -1 */
};

static struct qemu_be *priv(struct backend *be)
{
	return be->priv;
}

static double qnow(struct backend *be)
{
	return be_elapsed(&priv(be)->t0);
}

/*
 * Who QEMU runs as, and whether sandboxed.  A harness run as root starts
 * it as TB_QEMU_USER (default tb-qemu; "root" keeps root, for debugging);
 * one that is not root starts it as itself.  TB_QEMU_SANDBOX=off leaves
 * out -sandbox (a QEMU built without seccomp).
 */
static int qemu_identity(struct backend *be, struct qemu_be *q)
{
	const char *want = getenv("TB_QEMU_USER");
	const char *sb = getenv("TB_QEMU_SANDBOX");
	struct passwd *pw;

	if (sb && *sb && strcmp(sb, "on") && strcmp(sb, "off"))
		return be_errf(be, "TB_QEMU_SANDBOX='%s': want on or off", sb);
	q->sandbox = !sb || strcmp(sb, "off");
	if (geteuid() != 0) {
		pw = getpwuid(geteuid());
		snprintf(q->user, sizeof(q->user), "%s", pw ? pw->pw_name :
			 "?");
		if (want && *want && strcmp(want, q->user))
			return be_errf(be, "TB_QEMU_USER=%s: the harness runs as "
				       "%s (uid %d), not root, so QEMU runs as "
				       "%s too", want, q->user, (int)geteuid(),
				       q->user);
		return 0;
	}
	if (!want || !*want)
		want = QEMU_USER;
	pw = getpwnam(want);
	if (!pw)
		return be_errf(be, "QEMU runs as the user '%s' when the harness "
			       "is root, and there is no such account: `make "
			       "deps` (scripts/deps.sh) creates %s; "
			       "TB_QEMU_USER=root runs QEMU as root", want,
			       QEMU_USER);
	snprintf(q->user, sizeof(q->user), "%s", pw->pw_name);
	if (pw->pw_uid == 0)
		return 0;	/* the opt-out: QEMU as root */
	q->drop = true;
	q->uid = pw->pw_uid;
	q->gid = pw->pw_gid;
	q->ngroups = QEMU_MAX_GROUPS;
	if (getgrouplist(pw->pw_name, pw->pw_gid, q->groups, &q->ngroups) < 0)
		return be_errf(be, "user %s is in more than %d groups",
			       pw->pw_name, QEMU_MAX_GROUPS);
	return 0;
}

static int qprepare(struct backend *be, const struct plan *plan,
		    const struct be_env *env)
{
	struct qemu_be *q = calloc(1, sizeof(*q));

	if (!q)
		return be_errf(be, "out of memory");
	be->priv = q;
	be->plan = plan;
	be->env = env;
	q->virtio = !strcmp(be->ops->name, "virtio");
	q->q35 = !strcmp(plan->machine, "q35");
	q->pid = -1;
	q->con_fd = q->agent_fd = q->qmp_fd = q->stderr_fd = -1;
	q->incoming_fd = q->qmp_pass_fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	snprintf(q->qom_path, sizeof(q->qom_path), "/machine/peripheral/%s",
		 q->virtio ? "balloon0" : "tb0");

	const char *qemu = q->virtio ? env->stock_qemu : env->qemu;
	if (!qemu || access(qemu, X_OK))
		return be_errf(be, "QEMU binary '%s' not found or not executable"
			       "%s", qemu ? qemu : "(none)", q->virtio ? "" :
			       " (run `make qemu`, or pass --qemu)");
	if (!env->kernel || access(env->kernel, R_OK))
		return be_errf(be, "guest kernel '%s' not found (run `make "
			       "guest`, or pass --kernel)", env->kernel ?
			       env->kernel : "(none)");
	if (!env->initrd || access(env->initrd, R_OK))
		return be_errf(be, "initramfs '%s' not found (run `make guest`, "
			       "or pass --initrd)", env->initrd ? env->initrd :
			       "(none)");
	be->program = qemu;
	if (qemu_identity(be, q) < 0)
		return -1;
	/* A QEMU without seccomp refuses -sandbox, even with --version. */
	char *const version[] = { (char *)qemu, "--version", NULL };
	char *const sandboxed[] = { (char *)qemu, "-sandbox", "on",
				    "--version", NULL };
	be_run_capture(q->sandbox ? sandboxed : version, be->host_version,
		       sizeof(be->host_version));
	if (q->sandbox && !be->host_version[0]) {
		be_run_capture(version, be->host_version,
			       sizeof(be->host_version));
		if (be->host_version[0])
			return be_errf(be, "QEMU '%s' refuses -sandbox (built "
				       "without seccomp? `make qemu` builds "
				       "ours with it); TB_QEMU_SANDBOX=off "
				       "starts it without", qemu);
	}
	snprintf(be->accel, sizeof(be->accel), "%s",
		 env->accel ? env->accel : "tcg");

	char err[400];
	if (mem_backing_prepare(&q->mem, plan->memory_backend, plan->memory,
				err, sizeof(err)))
		return be_errf(be, "%s", err);
	/* QEMU opens its backing file there as its own user. */
	if (q->drop && q->mem.dir[0] && chown(q->mem.dir, q->uid, q->gid))
		return be_errf(be, "chown %s to %s: %s", q->mem.dir, q->user,
			       strerror(errno));
	snprintf(be->memory_backing, sizeof(be->memory_backing), "%s",
		 q->mem.what);

	/* Kernel command line: console, our additions, driver parameters;
	 * too long for the guest is an error here, before anything starts. */
	return be_kernel_cmdline(be, plan, q->virtio ? "tb.driver=virtio" :
				 NULL, !q->virtio);
}

static int qmp_send(struct backend *be, json_t *cmd);
static json_t *qmp_call(struct backend *be, const char *name, json_t *args);

/* The private directory of the QMP and agent sockets (and of qemu.log
 * when there is no run directory), and what is in it. */
static void remove_sockdir(struct qemu_be *q)
{
	static const char *const names[] = { "qmp", "agent", "qemu.log" };
	char p[128];

	if (!q->sockdir[0])
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", q->sockdir, names[i]);
		unlink(p);
	}
	rmdir(q->sockdir);
	q->sockdir[0] = 0;
}

/*
 * In the child, before exec: become QEMU's user (groups, gid, uid, with no
 * way back), then check that it can reach what QEMU opens by name, so a
 * path it may not read is one clear line in qemu.log.
 */
static int drop_to(const struct qemu_be *q, const char *qemu,
		   const struct be_env *env, bool kvm)
{
	const char *need[][2] = {
		{ qemu, "execute QEMU" }, { env->kernel, "read the kernel" },
		{ env->initrd, "read the initramfs" },
		{ kvm ? "/dev/kvm" : NULL, "open /dev/kvm" },
	};

	if (setgroups((size_t)q->ngroups, q->groups) || setgid(q->gid) ||
	    setuid(q->uid)) {
		dprintf(2, "harness: cannot run QEMU as %s (uid %d): %s\n",
			q->user, (int)q->uid, strerror(errno));
		return -1;
	}
	if (!setuid(0)) {
		dprintf(2, "harness: QEMU's user %s could become root again\n",
			q->user);
		return -1;
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (need[i][0] && access(need[i][0], i == 0 ? X_OK : i == 3 ?
					 R_OK | W_OK : R_OK)) {
			dprintf(2, "harness: QEMU's user %s (uid %d) cannot %s "
				"'%s': %s (every directory on the path must let "
				"it through; TB_QEMU_USER=root runs QEMU as "
				"root)\n", q->user, (int)q->uid, need[i][1],
				need[i][0], strerror(errno));
			return -1;
		}
	return 0;
}

static int qstart(struct backend *be)
{
	struct qemu_be *q = priv(be);
	const struct plan *plan = be->plan;
	const struct be_env *env = be->env;
	/* Room for the fixed options and 8 NUMA nodes (4 words, 2 built,
	 * each). */
	char *argv[96], buf[32][PATH_MAX];
	int argc = 0, nb = 0, con[2];
	char errlog[PATH_MAX];

	snprintf(q->sockdir, sizeof(q->sockdir), "/tmp/tbh.XXXXXX");
	if (!mkdtemp(q->sockdir))
		return be_errf(be, "mkdtemp: %s", strerror(errno));
	/* QEMU creates its sockets there: its user's, still 0700. */
	if (q->drop && chown(q->sockdir, q->uid, q->gid))
		return be_errf(be, "chown %s to %s: %s", q->sockdir, q->user,
			       strerror(errno));

#define ARG(s) (argv[argc++] = (char *)(s))
#define ARGF(...) (snprintf(buf[nb], PATH_MAX, __VA_ARGS__), \
		   argv[argc++] = buf[nb++])
	ARG(q->virtio ? env->stock_qemu : env->qemu);
	ARG("-machine"); ARG(plan->machine);
	ARG("-accel"); ARG(be->accel);
	ARG("-nodefaults"); ARG("-display"); ARG("none"); ARG("-no-reboot");
	if (q->sandbox) {
		ARG("-sandbox"); ARG(QEMU_SANDBOX);
	}
	ARG("-m"); ARGF("%llu", (unsigned long long)(plan->memory >> 20));
	ARG("-smp"); ARGF("%d", plan->vcpus);
	q->ram_sizes[0] = plan->memory;
	q->nram = 1;
	/*
	 * NUMA nodes or a named memory backend: guest RAM from -object
	 * memory-backend-*, one per node (split in whole 2 MiB, the last node
	 * taking the rest), as libvirt builds <numa> guests.  Machine RAM is
	 * then a container of the backends (the device's tb_gpa_to_ram).
	 */
	if (plan->numa_nodes || plan->memory_backend[0]) {
		int nodes = plan->numa_nodes ? plan->numa_nodes : 1;
		const struct mem_backing *m = &q->mem;
		uint64_t mib = plan->memory >> 20, each = mib / nodes & ~1ull;
		/* Whole host pages per node (hugetlbfs: 2 MiB or 1 GiB). */
		uint64_t pmib = m->page_size >> 20 ? m->page_size >> 20 : 1;

		each -= each % pmib;
		for (int i = 0; i < nodes; i++) {
			uint64_t sz = i < nodes - 1 ? each : mib - each * (nodes - 1);
			q->ram_sizes[i] = sz << 20;
			q->nram = i + 1;
			ARG("-object");
			ARGF("memory-backend-%s,id=tbmem%d,size=%lluM%s%s%s",
			     m->object, i, (unsigned long long)sz,
			     m->share ? ",share=on" : !strcmp(m->object, "file") ?
			     ",share=off" : "", m->dir[0] ? ",mem-path=" : "",
			     m->dir);
			if (plan->numa_nodes) {
				ARG("-numa");
				ARGF("node,nodeid=%d,memdev=tbmem%d", i, i);
			}
		}
		if (!plan->numa_nodes) {
			ARG("-machine"); ARG("memory-backend=tbmem0");
		}
	}
	ARG("-kernel"); ARG(env->kernel);
	ARG("-initrd"); ARG(env->initrd);
	ARG("-append"); ARG(be->kernel_cmdline);
	ARG("-chardev"); ARG("stdio,id=con,signal=off");
	ARG("-serial"); ARG("chardev:con");
	ARG("-chardev"); ARGF("socket,id=agent,path=%s/agent,server=on,"
			      "wait=off", q->sockdir);
	ARG("-serial"); ARG("chardev:agent");
	ARG("-chardev"); ARGF("socket,id=qmp,path=%s/qmp,server=on,wait=off",
			      q->sockdir);
	ARG("-mon"); ARG("chardev=qmp,mode=control");
	/* q35: the balloon sits behind a PCIe root port, as a hot-pluggable
	 * device does on current machines (pc: ACPI hotplug on bus 0). */
	if (q->q35) {
		ARG("-device"); ARG("pcie-root-port,id=" TB_ROOT_PORT ",chassis=1");
	}
	ARG("-device");
	if (q->virtio) {
		ARG(q->q35 ? "virtio-balloon-pci,id=balloon0,bus=" TB_ROOT_PORT :
		    "virtio-balloon-pci,id=balloon0");
	} else {
		size_t n = (size_t)snprintf(buf[nb], PATH_MAX,
					    "tb-balloon,id=tb0%s", q->q35 ?
					    ",bus=" TB_ROOT_PORT : "");
		for (int i = 0; i < plan->nprops + q->nset && n < PATH_MAX;
		     i++) {
			const struct kv *kv = i < plan->nprops ?
				&plan->props[i] : &q->set[i - plan->nprops];
			/* A restore: what the run set since wins. */
			bool later = false;
			for (int k = 0; i < plan->nprops && k < q->nset; k++)
				later |= !strcmp(q->set[k].key, kv->key);
			if (!later)
				n += (size_t)snprintf(buf[nb] + n, PATH_MAX - n,
						      ",%s=%s", kv->key,
						      kv->value);
		}
		if (n >= PATH_MAX)
			return be_errf(be, "the -device option would be longer "
				       "than %d bytes", PATH_MAX - 1);
		argv[argc++] = buf[nb++];
	}
	if (q->incoming_fd >= 0) {
		ARG("-incoming"); ARGF("fd:%d", q->incoming_fd);
	}
	argv[argc] = NULL;
#undef ARG
#undef ARGF

	/* Record the command line for whoever reads the results, quoted
	 * so that it can be pasted into a shell, after a comment line that
	 * says who runs it. */
	static char cmdline[64 * PATH_MAX];
	size_t cl = (size_t)snprintf(cmdline, sizeof(cmdline), "# run as %s "
				     "(uid %d, gid %d)%s\n", q->user,
				     q->drop ? (int)q->uid : (int)geteuid(),
				     q->drop ? (int)q->gid : (int)getegid(),
				     q->sandbox ? ", sandboxed" : "");
	for (int i = 0; i < argc && cl < sizeof(cmdline); i++) {
		if (i)
			cmdline[cl++] = ' ';
		cl = be_shell_quote(cmdline, sizeof(cmdline) - 1, cl, argv[i]);
	}
	if (cl >= sizeof(cmdline) - 1)
		return be_errf(be, "QEMU's command line is too long to record");
	cmdline[cl++] = '\n';
	cmdline[cl] = '\0';
	if (be_write_file(be, q->incoming_fd < 0 ? "qemu.cmdline" :
			  "qemu-restored.cmdline", cmdline))
		return -1;
	snprintf(errlog, sizeof(errlog), "%s/qemu.log",
		 be->run_dir ? be->run_dir : q->sockdir);
	if (pipe2(con, O_CLOEXEC))
		return be_errf(be, "pipe: %s", strerror(errno));
	int errfd = open(errlog, O_WRONLY | O_CREAT | O_CLOEXEC |
			 (q->incoming_fd < 0 ? O_TRUNC : O_APPEND), 0644);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return be_errf(be, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		dup2(devnull, 0);
		dup2(con[1], 1);
		if (errfd >= 0)
			dup2(errfd, 2);
		/* QEMU's user, before PR_SET_PDEATHSIG: a change of
		 * credentials clears it. */
		if (q->drop && drop_to(q, argv[0], env,
					 !strcmp(be->accel, "kvm")))
			_exit(126);
		/* QEMU goes when the harness does, even by SIGKILL; a harness
		 * gone before prctl() took effect is seen by getppid(). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(126);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (q->incoming_fd >= 0)	/* -incoming fd:N */
			fcntl(q->incoming_fd, F_SETFD, 0);
		/* QEMU creates the agent and QMP sockets: owner-only (0600)
		 * in a 0700 directory (mkdtemp). */
		umask(0177);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides: no race with kill_now */
	q->pid = pid;
	if (errfd >= 0)
		close(errfd);
	close(con[1]);
	q->con_fd = con[0];
	if (q->incoming_fd < 0)	/* a restored guest's clock goes on */
		clock_gettime(CLOCK_MONOTONIC, &q->t0);
	char pidline[24];
	snprintf(pidline, sizeof(pidline), "%d\n", (int)pid);
	if (be_write_file(be, "qemu.pid", pidline))
		return -1;

	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/qmp", q->sockdir);
	q->qmp_fd = be_connect_unix(path, 15, pid, be->env->stop);
	if (q->qmp_fd < 0) {
		char tail[256];
		be_last_line(errlog, tail, sizeof(tail));
		return be_errf(be, "QEMU %s: %s", q->qmp_fd == -2 ?
			       "exited at start" : "QMP socket never appeared",
			       tail[0] ? tail : "(no message)");
	}
	snprintf(path, sizeof(path), "%s/agent", q->sockdir);
	q->agent_fd = be_connect_unix(path, 5, pid, be->env->stop);
	if (q->agent_fd < 0)
		return be_errf(be, "cannot connect to the agent's serial port");
	/* Both connected: the names are no longer needed.  Nobody else can
	 * connect, and a harness killed outright leaves nothing in /tmp. */
	remove_sockdir(q);

	/* Greeting, capabilities, then events flow. */
	json_t *r = qmp_call(be, "qmp_capabilities", NULL);
	if (!r)
		return -1;
	json_decref(r);
	(void)qmp_send;
	/* QEMU answers QMP once its RAM is made: the backing's names go. */
	mem_backing_opened(&q->mem);
	return 0;
}

/* ---- line reading ---- */

/* QMP: events are emitted; a reply is parked for qmp_call. */
static json_t *qmp_reply;

/* Stray replies tolerated before QMP counts as out of step. */
#define QMP_MAX_STRAYS	100

static void qmp_bad(struct backend *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void qmp_bad(struct backend *be, const char *fmt, ...)
{
	struct qemu_be *q = priv(be);
	va_list ap;

	if (q->qmp_bad[0])
		return;		/* the first one is the cause */
	va_start(ap, fmt);
	vsnprintf(q->qmp_bad, sizeof(q->qmp_bad), fmt, ap);
	va_end(ap);
	be_emit(be, BE_EV_HOST, q->qmp_bad, 0);
}

static void on_qmp(struct backend *be, char *line)
{
	struct qemu_be *q = priv(be);
	json_error_t jerr;
	json_t *j;

	/* be_feed_lines cuts a line at LINE_MAX_LEN - 1 bytes. */
	if (strlen(line) >= LINE_MAX_LEN - 1) {
		qmp_bad(be, "QMP protocol error: a line longer than %d bytes "
			"from QEMU", LINE_MAX_LEN - 2);
		return;
	}
	j = json_loads(line, 0, &jerr);
	if (!json_is_object(j)) {
		qmp_bad(be, "QMP protocol error: not a JSON object from "
			"QEMU: '%.60s%s' (%s)", line, strlen(line) > 60 ?
			"..." : "", j ? "not an object" : jerr.text);
		json_decref(j);
		return;
	}
	json_t *ev = json_object_get(j, "event");
	if (json_is_string(ev)) {
		const char *name = json_string_value(ev);
		if (!strcmp(name, "BALLOON_CHANGE")) {
			json_t *a = json_object_get(json_object_get(j, "data"),
						    "actual");
			/* A missing or bad value must not read as 0. */
			if (json_is_integer(a) && json_integer_value(a) >= 0)
				be_emit(be, BE_EV_BALLOON_CHANGE, name,
					json_integer_value(a));
			else
				be_emit(be, BE_EV_HOST, "BALLOON_CHANGE "
					"without a valid 'actual' (ignored)",
					0);
		} else {
			json_t *dev = json_object_get(json_object_get(j,
						      "data"), "device");
			if (!strcmp(name, "DEVICE_DELETED") &&
			    json_is_string(dev) && !strcmp(json_string_value(
				dev), strrchr(priv(be)->qom_path, '/') + 1))
				priv(be)->deleted = true;
			be_emit(be, BE_EV_HOST, name, 0);
		}
		json_decref(j);
		return;
	}
	if (json_object_get(j, "return") || json_object_get(j, "error")) {
		json_t *id = json_object_get(j, "id");
		if (!json_is_integer(id) || json_integer_value(id) !=
		    q->qmp_id || qmp_reply) {
			be_emit(be, BE_EV_HOST, "QMP reply to no command in "
				"flight (ignored)", 0);
			if (++q->qmp_strays > QMP_MAX_STRAYS)
				qmp_bad(be, "QMP protocol error: more than %d "
					"replies to no command", QMP_MAX_STRAYS);
			json_decref(j);
			return;
		}
		qmp_reply = j;
		return;
	}
	if (!json_object_get(j, "QMP"))
		be_emit(be, BE_EV_HOST, "QMP message neither event, reply "
			"nor greeting (ignored)", 0);
	json_decref(j);	/* the greeting */
}

static void check_child(struct backend *be)
{
	struct qemu_be *q = priv(be);
	int status;
	char msg[128];

	if (q->pid <= 0 || q->dead)
		return;
	if (waitpid(q->pid, &status, WNOHANG) != q->pid)
		return;
	q->pid = -1;
	q->dead = true;
	if (WIFSIGNALED(status))
		snprintf(msg, sizeof(msg), "QEMU killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(msg, sizeof(msg), "QEMU exited with status %d",
			 WEXITSTATUS(status));
	be_emit(be, BE_EV_DIED, msg, 0);
}

/* One poll round, at most @timeout s. */
static int pump(struct backend *be, double timeout)
{
	struct qemu_be *q = priv(be);
	struct pollfd p[3] = {
		{ .fd = q->con_fd, .events = POLLIN },
		{ .fd = q->agent_fd, .events = POLLIN },
		{ .fd = q->qmp_fd, .events = POLLIN },
	};
	int ms = timeout <= 0 ? 0 : (int)(timeout * 1000) + 1;
	if (ms > 100)
		ms = 100;	/* notice a dead child promptly */
	int r = poll(p, 3, ms);
	if (r < 0 && errno == EINTR)
		return 1;
	if (r > 0) {
		if (p[0].revents && be_drain_lines(be, q->con_fd, &q->con, be_on_console)) {
			close(q->con_fd);
			q->con_fd = -1;
		}
		if (p[1].revents &&
		    be_drain_lines(be, q->agent_fd, &q->agent, be_on_agent)) {
			close(q->agent_fd);
			q->agent_fd = -1;
		}
		if (p[2].revents && be_drain_lines(be, q->qmp_fd, &q->qmp, on_qmp)) {
			close(q->qmp_fd);
			q->qmp_fd = -1;
		}
	}
	check_child(be);
	if (q->dead)
		return -1;
	/* All channels gone but the child not yet reaped: wait for it. */
	if (q->con_fd < 0 && q->qmp_fd < 0) {
		for (int i = 0; i < 50 && !q->dead; i++) {
			usleep(20000);
			check_child(be);
		}
		if (!q->dead) {
			q->dead = true;
			be_emit(be, BE_EV_DIED, "QEMU closed its console and "
				"QMP", 0);
		}
		return -1;
	}
	return r > 0;
}

static int qwait(struct backend *be, double until, bool until_event)
{
	while (!*be->env->stop) {
		double left = until - qnow(be);
		int r = pump(be, left);
		if (r < 0)
			return -1;
		if ((r > 0 && until_event) || qnow(be) >= until)
			return 0;
	}
	return 0;
}

static int qmp_send(struct backend *be, json_t *cmd)
{
	struct qemu_be *q = priv(be);
	char *s = json_dumps(cmd, JSON_COMPACT);
	if (!s || q->qmp_fd < 0) {
		free(s);
		return be_errf(be, "QMP not connected");
	}
	size_t len = strlen(s);
	s[len] = '\n';
	ssize_t w;
	if (q->qmp_pass_fd >= 0) {	/* getfd: the fd rides along */
		char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
		struct iovec iov = { .iov_base = s, .iov_len = len + 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl,
				     .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &q->qmp_pass_fd, sizeof(int));
		w = sendmsg(q->qmp_fd, &mh, MSG_NOSIGNAL);
	} else {
		w = send(q->qmp_fd, s, len + 1, MSG_NOSIGNAL);
	}
	free(s);
	return w == (ssize_t)len + 1 ? 0 : be_errf(be, "QMP write failed");
}

/* Synchronous QMP command; events that arrive meanwhile are emitted. */
static json_t *qmp_call(struct backend *be, const char *name, json_t *args)
{
	struct qemu_be *q = priv(be);
	json_t *cmd = json_pack("{s:s,s:I}", "execute", name, "id",
				(json_int_t)++q->qmp_id);
	if (args)
		json_object_set_new(cmd, "arguments", args);
	json_decref(qmp_reply);	/* never another command's */
	qmp_reply = NULL;
	int rc = q->qmp_bad[0] ? -1 : qmp_send(be, cmd);
	json_decref(cmd);
	double end = qnow(be) + QMP_TIMEOUT;
	while (!qmp_reply) {
		if (*be->env->stop || be->stopping) {
			if (*be->env->stop)
				be->error_kind = "interrupted";
			be_errf(be, "QMP '%s' abandoned: the run is ending",
				name);
			return NULL;
		}
		if (q->qmp_bad[0]) {
			be->error_kind = "qmp-protocol";
			be_errf(be, "%s (during '%s')", q->qmp_bad, name);
			return NULL;
		}
		if (rc)
			return NULL;
		/* A dying QEMU closes QMP first: give it a second to be
		 * reaped, so its death is the verdict. */
		for (int i = 0; q->qmp_fd < 0 && !q->dead && i < 50; i++) {
			usleep(20000);
			check_child(be);
		}
		if (q->qmp_fd < 0 && q->dead) {
			be_errf(be, "QEMU went away during QMP '%s'", name);
			return NULL;
		}
		if (q->qmp_fd < 0) {
			be->error_kind = "qmp-closed";
			be_errf(be, "QEMU closed the QMP socket during '%s'%s",
				name, q->qmp.len ? " in the middle of a reply" :
				"");
			return NULL;
		}
		if (qnow(be) > end) {
			be_errf(be, "QMP '%s' got no reply within %.0f s (QEMU "
				"hung)", name, QMP_TIMEOUT);
			return NULL;
		}
		if (pump(be, end - qnow(be)) < 0 && !qmp_reply) {
			be_errf(be, "QEMU went away during QMP '%s'", name);
			return NULL;
		}
	}
	json_t *r = qmp_reply;
	qmp_reply = NULL;
	json_t *e = json_object_get(r, "error");
	if (e) {
		be_errf(be, "QMP '%s': %s", name,
			json_string_value(json_object_get(e, "desc")));
		json_decref(r);
		return NULL;
	}
	json_t *ret = json_incref(json_object_get(r, "return"));
	json_decref(r);
	return ret;
}

static int qset_target(struct backend *be, uint64_t bytes)
{
	json_t *r = qmp_call(be, "balloon",
			     json_pack("{s:I}", "value", (json_int_t)bytes));
	if (!r)
		return -1;
	json_decref(r);
	priv(be)->target = bytes;
	return 0;
}

static int qset_prop(struct backend *be, const char *prop, const char *value)
{
	struct qemu_be *q = priv(be);
	json_t *v;

	if (q->virtio)
		return 1;	/* virtio-balloon has none of our properties */
	if (!(v = be_prop_json(be, prop, value)))
		return -1;
	json_t *r = qmp_call(be, "qom-set", json_pack("{s:s,s:s,s:o}",
			     "path", q->qom_path, "property", prop,
			     "value", v));
	if (!r)
		return -1;
	json_decref(r);
	/* A restored device starts with it (the harness's own cursor
	 * into the batch log excepted: a new device has a new log). */
	int k = 0;
	while (k < q->nset && strcmp(q->set[k].key, prop))
		k++;
	if (strcmp(prop, "batch-log-from") && k < PLAN_MAX_KV) {
		snprintf(q->set[k].key, sizeof(q->set[k].key), "%s", prop);
		snprintf(q->set[k].value, sizeof(q->set[k].value), "%s", value);
		if (k == q->nset)
			q->nset++;
	}
	return 0;
}

static int qget_prop(struct backend *be, const char *prop, char *buf,
		     size_t len)
{
	json_t *r = qmp_call(be, "qom-get", json_pack("{s:s,s:s}", "path",
			     priv(be)->qom_path, "property", prop));
	if (!r)
		return -1;
	be_json_text(r, buf, len);
	json_decref(r);
	return 0;
}

static int qagent_send(struct backend *be, const char *line)
{
	return be_agent_send(be, priv(be)->agent_fd, line);
}

/* QEMU's RSS, and the part of it that is guest RAM. */
static void host_rss(const struct qemu_be *q, struct be_sample *s)
{
	if (q->pid <= 0)
		return;
	s->host_rss = be_proc_rss(q->pid);
	s->ram_rss = be_proc_ram_rss(q->pid, q->ram_sizes, q->nram);
}

static int qsample(struct backend *be, struct be_sample *s)
{
	struct qemu_be *q = priv(be);
	memset(s, 0xff, sizeof(*s));	/* all -1 */

	if (q->unplugged) {	/* no balloon device: only the host side */
		host_rss(q, s);
		return 0;
	}
	json_t *r = qmp_call(be, "query-balloon", NULL);
	if (!r)
		return -1;
	json_t *actual = json_object_get(r, "actual");
	if (!json_is_integer(actual) || json_integer_value(actual) < 0) {
		json_decref(r);
		be->error_kind = "qmp-protocol";
		return be_errf(be, "QMP protocol error: query-balloon "
			       "returned no valid 'actual'");
	}
	s->actual = json_integer_value(actual);
	json_decref(r);
	s->target = q->target ? (int64_t)q->target :
		    (int64_t)be->plan->memory;
	host_rss(q, s);
	if (q->virtio)
		return 0;

	r = qmp_call(be, "qom-get", json_pack("{s:s,s:s}", "path",
		     q->qom_path, "property", "stats"));
	if (!r)
		return 0;	/* an older device: the curve goes without */
	be_device_stats(r, s);
	json_decref(r);
	return 0;
}

static void qstop(struct backend *be)
{
	struct qemu_be *q = priv(be);
	if (!q)
		return;
	if (q->pid > 0 && !q->dead) {
		/* Politely first (QMP quit), then the whole group. */
		if (q->qmp_fd >= 0) {
			json_t *cmd = json_pack("{s:s}", "execute", "quit");
			qmp_send(be, cmd);
			json_decref(cmd);
		}
		for (int i = 0; i < 100 && q->pid > 0; i++) {
			int st;
			if (waitpid(q->pid, &st, WNOHANG) == q->pid)
				q->pid = -1;
			else
				usleep(20000);
		}
		if (q->pid > 0) {
			kill(-q->pid, SIGKILL);
			waitpid(q->pid, NULL, 0);
		}
		q->pid = -1;
	} else if (q->pid > 0) {
		kill(-q->pid, SIGKILL);	/* stragglers in the group */
	}
	q->pid = -1;
	for (int *fd = &q->con_fd; fd <= &q->qmp_fd; fd++)
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
	remove_sockdir(q);
	mem_backing_release(&q->mem);
}

static void qkill_now(struct backend *be)
{
	struct qemu_be *q = be->priv;
	if (q && q->pid > 0)
		kill(-q->pid, SIGKILL);
}

static bool qsupports(struct backend *be, const char *feature)
{
	/* Device properties and driver parameters: core/tb_knobs.h says. */
	int knob = be_knob_feature(be->ops->name, feature);

	if (knob >= 0)
		return knob;
	if (!priv(be)->virtio)
		return true;
	/* Linux's virtio_balloon has no sysfs interface, no module
	 * parameters of ours, and the device none of our properties. */
	return strncmp(feature, "sysfs", 5) && strcmp(feature, "hotplug") &&
	       strncmp(feature, "device-prop:", 12) &&
	       strncmp(feature, "driver-param:", 13) &&
	       strncmp(feature, "message:", 8) &&
	       strncmp(feature, "counter:", 8) &&
	       strncmp(feature, "stat:", 5);
}

#define UNPLUG_TIMEOUT	60.0	/* the guest releases the device (ACPI), s */

/* QMP device_del / device_add of tb-balloon (pc: ACPI hotplug on bus 0;
 * q35: PCIe hotplug on its root port). */
static int qhotplug(struct backend *be, bool plug)
{
	struct qemu_be *q = priv(be);
	const char *id = strrchr(q->qom_path, '/') + 1;
	json_t *r;

	if (q->virtio)
		return be_errf(be, "the virtio backend does not hotplug");
	if (!plug) {
		q->deleted = false;
		r = qmp_call(be, "device_del", json_pack("{s:s}", "id", id));
		if (!r)
			return -1;
		json_decref(r);
		/* The guest must eject it first (its driver's remove()). */
		double end = qnow(be) + UNPLUG_TIMEOUT;
		while (!q->deleted) {
			if (qnow(be) > end)
				return be_errf(be, "device_del %s: no "
					       "DEVICE_DELETED within %.0f s (the "
					       "guest did not release the device)",
					       id, UNPLUG_TIMEOUT);
			if (pump(be, end - qnow(be)) < 0)
				return be_errf(be, "QEMU went away during "
					       "device_del");
		}
		q->unplugged = true;
		return 0;
	}
	/* The boot properties again, typed as QMP wants them. */
	json_t *args = json_pack("{s:s,s:s}", "driver", "tb-balloon", "id", id);
	if (q->q35)
		json_object_set_new(args, "bus", json_string(TB_ROOT_PORT));
	const struct plan *plan = be->plan;
	for (int i = 0; i < plan->nprops; i++) {
		bool is_size, is_bool;
		const struct kv *kv = &plan->props[i];
		if (!device_prop_known(kv->key, &is_size, &is_bool))
			continue;
		json_object_set_new(args, kv->key, is_bool ?
			json_boolean(!strcmp(kv->value, "on")) :
			json_integer(strtoll(kv->value, NULL, 10)));
	}
	r = qmp_call(be, "device_add", args);
	if (!r)
		return -1;
	json_decref(r);
	q->unplugged = false;
	/* A new device starts from its boot target, not the last one set. */
	q->target = 0;
	for (int i = 0; i < plan->nprops; i++)
		if (!strcmp(plan->props[i].key, "target"))
			q->target = strtoull(plan->props[i].value, NULL, 10);
	return 0;
}

#include "qemu-lifecycle.c.inc"

const struct backend_ops backend_emu = {
	.name = "emu",
	.summary = "our QEMU with tb-balloon and the tb_balloon driver",
	.prepare = qprepare, .start = qstart, .wait = qwait, .now = qnow,
	.set_target = qset_target, .set_prop = qset_prop,
	.get_prop = qget_prop, .agent_send = qagent_send,
	.sample = qsample, .stop = qstop, .kill_now = qkill_now,
	.supports = qsupports, .hotplug = qhotplug,
	.lifecycle = qlifecycle,
};

const struct backend_ops backend_virtio = {
	.name = "virtio",
	.summary = "stock QEMU, virtio-balloon-pci and Linux's virtio_balloon",
	.prepare = qprepare, .start = qstart, .wait = qwait, .now = qnow,
	.set_target = qset_target, .set_prop = qset_prop,
	.get_prop = qget_prop, .agent_send = qagent_send,
	.sample = qsample, .stop = qstop, .kill_now = qkill_now,
	.supports = qsupports, .lifecycle = qlifecycle,
};
