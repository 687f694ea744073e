// SPDX-License-Identifier: GPL-2.0-only
/*
 * agent.c - balloon-testbed guest agent: a small static program on a serial
 * port (/dev/ttyS1) that runs workloads and reports memory state for the
 * harness.  One request line gets exactly one reply line, "ok ..." or
 * "err <reason>"; "event ..." lines may come in between.  The protocol is in
 * guest-driver/AGENT.md.
 *
 * Workloads that hold memory (pin, alloc) are child processes, so the OOM
 * killer can pick them and not the agent (whose oom_score_adj is -1000).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN	4096
#define MAX_WORKLOADS	256
#define SYSFS_DIR	"/sys/kernel/tb_balloon"
#define STATS_FILE	"/sys/kernel/debug/tb_balloon/stats"
#define PAGE_4K		4096UL

enum kind { K_NONE, K_PIN, K_ALLOC, K_PAGECACHE, K_FRAGMENT, K_BUSY };
static const char *const kind_names[] = {
	[K_NONE] = "none", [K_PIN] = "pin", [K_ALLOC] = "alloc",
	[K_PAGECACHE] = "pagecache", [K_FRAGMENT] = "fragment",
	[K_BUSY] = "busy",
};

struct workload {
	int id;			/* 0: slot free */
	enum kind kind;
	pid_t pid;		/* pin, alloc, busy: the child; 0 once it exited */
	char path[128];		/* pagecache: file; fragment: directory */
};

static struct workload wl[MAX_WORKLOADS];
static int next_id = 1;
static int tty = -1;
static int sig_pipe[2] = { -1, -1 };

/* Write a whole line to the port; retries short writes. */
static void say(const char *fmt, ...)
{
	char buf[LINE_MAX_LEN * 4];
	va_list ap;
	int n;
	size_t off = 0;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	while (off < (size_t)n) {
		ssize_t w = write(tty, buf + off, n - off);

		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return;
		}
		off += w;
	}
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "EUNKNOWN";
}

/* Sizes: plain bytes or K/M/G (powers of 1024), optionally followed by B or iB. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (mul > 1 && *end == 'i')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static struct workload *wl_new(enum kind k)
{
	int i;

	for (i = 0; i < MAX_WORKLOADS; i++) {
		if (!wl[i].id) {
			memset(&wl[i], 0, sizeof(wl[i]));
			wl[i].id = next_id++;
			wl[i].kind = k;
			return &wl[i];
		}
	}
	return NULL;
}

static struct workload *wl_find(int id)
{
	int i;

	for (i = 0; i < MAX_WORKLOADS; i++)
		if (wl[i].id == id)
			return &wl[i];
	return NULL;
}

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

/* In a workload's child: none of the agent's descriptors or handlers. */
static void wl_child(void)
{
	close(tty);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
}

/*
 * Child side of pin/alloc: map, lock if asked, touch every page, report
 * readiness (0) or an errno through @fd, then hold the memory until killed.
 */
static void hold_memory(uint64_t bytes, bool lock, int fd)
{
	unsigned char err = 0;
	char *p;
	uint64_t off;

	write_file("/proc/self/oom_score_adj", "0");
	/* alloc: no overcommit check at mmap, so a too-big workload meets
	 * the OOM killer as a real one would. */
	p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | (lock ? 0 : MAP_NORESERVE), -1, 0);
	if (p == MAP_FAILED) {
		err = errno;
	} else if (lock && mlock(p, bytes) != 0) {
		err = errno;
	} else {
		for (off = 0; off < bytes; off += PAGE_4K)
			p[off] = (char)(off >> 12) | 1;
	}
	if (write(fd, &err, 1) < 0)
		_exit(1);
	close(fd);
	if (err)
		_exit(err);
	for (;;)
		pause();
}

static void cmd_hold(uint64_t bytes, enum kind k)
{
	struct workload *w;
	int p[2];
	pid_t pid;
	unsigned char err;
	ssize_t n;

	if (bytes > (uint64_t)SSIZE_MAX) {
		say("err ERANGE");
		return;
	}
	w = wl_new(k);
	if (!w) {
		say("err too-many-workloads");
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		w->id = 0;
		say("err %s", errname(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		w->id = 0;
		say("err %s", errname(e));
		return;
	}
	if (pid == 0) {
		close(p[0]);
		wl_child();
		hold_memory(bytes, k == K_PIN, p[1]);
		_exit(0);
	}
	close(p[1]);
	w->pid = pid;
	do {
		n = read(p[0], &err, 1);
	} while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1 && err) {
		/* The child failed and exits; its exit event is not wanted. */
		waitpid(pid, NULL, 0);
		w->id = 0;
		say("err %s", errname(err));
		return;
	}
	/* n == 0: killed while touching (OOM); the exit event follows. */
	say("ok id=%d", w->id);
}

/* Write @bytes into @path in 1 MiB chunks; returns 0 or an errno. */
static int fill_file(const char *path, uint64_t bytes, size_t chunk)
{
	static char buf[1 << 20];
	int fd, e = 0;

	memset(buf, 0x5a, sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	while (bytes) {
		size_t n = bytes < chunk ? bytes : chunk;
		ssize_t w = write(fd, buf, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		bytes -= w;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	return e;
}

static void cmd_pagecache(uint64_t bytes)
{
	struct workload *w = wl_new(K_PAGECACHE);
	int e;

	if (!w) {
		say("err too-many-workloads");
		return;
	}
	snprintf(w->path, sizeof(w->path), "/tmp/tb-pagecache.%d", w->id);
	e = fill_file(w->path, bytes, 1 << 20);
	if (e) {
		unlink(w->path);
		w->id = 0;
		say("err %s", errname(e));
		return;
	}
	say("ok id=%d", w->id);
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[PATH_MAX];

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

/*
 * Fragment free memory, leaving it in 4 KiB holes so 2 MiB allocations fail.
 * "files" (default): <bytes>/4096 files of 4 KiB, then every other one
 * deleted, as QEMU's balloon THP test does.  "holes": one file of <bytes>
 * with every other 4 KiB page punched out: the same holes, much faster.
 */
static void cmd_fragment(uint64_t bytes, const char *mode)
{
	struct workload *w;
	uint64_t i, n = bytes / PAGE_4K;
	char p[PATH_MAX];
	bool holes;
	int e = 0;

	if (mode && strcmp(mode, "files") && strcmp(mode, "holes")) {
		say("err usage: fragment <size> [files|holes]");
		return;
	}
	holes = mode && !strcmp(mode, "holes");
	w = wl_new(K_FRAGMENT);
	if (!w) {
		say("err too-many-workloads");
		return;
	}
	snprintf(w->path, sizeof(w->path), "/tmp/tb-fragment.%d", w->id);
	if (mkdir(w->path, 0700) < 0) {
		e = errno;
		w->id = 0;
		say("err %s", errname(e));
		return;
	}
	if (holes) {
		int fd;

		snprintf(p, sizeof(p), "%s/holes", w->path);
		e = fill_file(p, n * PAGE_4K, 1 << 20);
		fd = e ? -1 : open(p, O_WRONLY | O_CLOEXEC);
		if (!e && fd < 0)
			e = errno;
		for (i = 0; !e && i < n; i += 2)
			if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      i * PAGE_4K, PAGE_4K) < 0)
				e = errno;
		if (fd >= 0)
			close(fd);
	} else {
		for (i = 0; i < n && !e; i++) {
			snprintf(p, sizeof(p), "%s/%llu", w->path, (unsigned long long)i);
			e = fill_file(p, PAGE_4K, PAGE_4K);
		}
		for (i = 0; i < n && !e; i += 2) {
			snprintf(p, sizeof(p), "%s/%llu", w->path, (unsigned long long)i);
			unlink(p);
		}
	}
	if (e) {
		rm_tree(w->path);
		w->id = 0;
		say("err %s", errname(e));
		return;
	}
	say("ok id=%d", w->id);
}

/*
 * Child side of busy: once a second, map @bytes of anonymous memory, touch
 * every page and unmap it again, for @secs seconds; then exit 0.  A guest
 * that is never idle: its allocations are what brings reclaim (and the
 * balloon's shrinker) into play.
 */
static void churn_memory(uint64_t bytes, unsigned int secs)
{
	struct timespec next;
	unsigned int i;
	uint64_t off;
	char *p;

	write_file("/proc/self/oom_score_adj", "0");
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < secs; i++) {
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED) {
			for (off = 0; off < bytes; off += PAGE_4K)
				p[off] = (char)(off >> 12) | 1;
			munmap(p, bytes);
		}
		next.tv_sec++;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
				       NULL) == EINTR)
			;
	}
	_exit(0);
}

static void cmd_busy(const char *size, const char *secs)
{
	struct workload *w;
	uint64_t bytes;
	char *end;
	unsigned long n;
	pid_t pid;

	if (!size || !secs || parse_size(size, &bytes) || !bytes ||
	    bytes > (uint64_t)SSIZE_MAX) {
		say("err usage: busy <size> <seconds>");
		return;
	}
	errno = 0;
	n = strtoul(secs, &end, 10);
	if (errno || *end || !n || n > 86400) {
		say("err usage: busy <size> <seconds>");
		return;
	}
	w = wl_new(K_BUSY);
	if (!w) {
		say("err too-many-workloads");
		return;
	}
	pid = fork();
	if (pid < 0) {
		w->id = 0;
		say("err %s", errname(errno));
		return;
	}
	if (pid == 0) {
		wl_child();
		churn_memory(bytes, (unsigned int)n);
	}
	w->pid = pid;
	say("ok id=%d", w->id);
}

static void wl_free(struct workload *w)
{
	switch (w->kind) {
	case K_PIN:
	case K_ALLOC:
	case K_BUSY:
		if (w->pid > 0) {
			kill(w->pid, SIGKILL);
			waitpid(w->pid, NULL, 0);
		}
		break;
	case K_PAGECACHE:
		unlink(w->path);
		break;
	case K_FRAGMENT:
		rm_tree(w->path);
		break;
	default:
		break;
	}
	w->id = 0;
}

static void cmd_free(const char *arg)
{
	char *end;
	long id;
	int i;
	struct workload *w;

	if (!arg) {
		say("err usage: free <id>|all");
		return;
	}
	if (!strcmp(arg, "all")) {
		for (i = 0; i < MAX_WORKLOADS; i++)
			if (wl[i].id)
				wl_free(&wl[i]);
		say("ok");
		return;
	}
	errno = 0;
	id = strtol(arg, &end, 10);
	if (errno || *end || id <= 0) {
		say("err bad-id");
		return;
	}
	w = wl_find((int)id);
	if (!w) {
		say("err no-such-id");
		return;
	}
	wl_free(w);
	say("ok");
}

/* A sysfs name: a file of /sys/kernel/tb_balloon, or an absolute /sys or /proc path. */
static int sysfs_path(const char *name, char *out, size_t len)
{
	if (!name || !*name || strstr(name, ".."))
		return -1;
	if (name[0] == '/') {
		if (strncmp(name, "/sys/", 5) && strncmp(name, "/proc/", 6))
			return -1;
		snprintf(out, len, "%s", name);
		return 0;
	}
	if (strchr(name, '/'))
		return -1;
	snprintf(out, len, SYSFS_DIR "/%s", name);
	return 0;
}

static void cmd_sysfs_write(const char *name, const char *val)
{
	char path[PATH_MAX];
	int fd;
	ssize_t w;

	if (!val || sysfs_path(name, path, sizeof(path))) {
		say("err usage: sysfs-write <name> <value>");
		return;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		say("err %s", errname(errno));
		return;
	}
	w = write(fd, val, strlen(val));
	if (w < 0) {
		int e = errno;

		close(fd);
		say("err %s", errname(e));
		return;
	}
	if (close(fd) < 0) {
		say("err %s", errname(errno));
		return;
	}
	say("ok");
}

/* First line of a file, trailing newline removed; NULL and errno on failure. */
static char *read_line(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *nl;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return NULL;
	}
	close(fd);
	buf[n] = 0;
	nl = strchr(buf, '\n');
	if (nl)
		*nl = 0;
	return buf;
}

static void cmd_sysfs_read(const char *name)
{
	char path[PATH_MAX], buf[1024];

	if (sysfs_path(name, path, sizeof(path))) {
		say("err usage: sysfs-read <name>");
		return;
	}
	if (!read_line(path, buf, sizeof(buf))) {
		say("err %s", errname(errno));
		return;
	}
	say("ok %s", buf);
}

/* Append " key=value" to @out for the keys of a "Key: value" file. */
static void grab_keys(char *out, size_t len, const char *file, const char *const *keys,
		      const char *const *names, char sep)
{
	FILE *f = fopen(file, "re");
	char line[256];
	int i;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		for (i = 0; keys[i]; i++) {
			size_t kl = strlen(keys[i]);
			unsigned long long v;

			if (strncmp(line, keys[i], kl) || line[kl] != sep)
				continue;
			if (sscanf(line + kl + 1, " %llu", &v) == 1)
				snprintf(out + strlen(out), len - strlen(out), " %s=%llu",
					 names[i], v);
		}
	}
	fclose(f);
}

/*
 * Append " buddy_o0=N ... buddy_oK=N": /proc/buddyinfo's free blocks of
 * each order (4 KiB << order), summed over nodes and zones ("Node 0, zone
 * DMA32  12  4 ..."), up to the highest order the kernel lists (10 on
 * 6.1).  Nothing when the file cannot be read.
 */
#define BUDDY_ORDERS	16

static void grab_buddyinfo(char *out, size_t len)
{
	unsigned long long sum[BUDDY_ORDERS] = { 0 };
	int orders = 0, o;
	char line[512];
	FILE *f = fopen("/proc/buddyinfo", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "zone"), *end;

		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		p += strcspn(p, " ");	/* the zone's name */
		for (o = 0; o < BUDDY_ORDERS; o++, p = end) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum[o] += v;
		}
		if (o > orders)
			orders = o;
	}
	fclose(f);
	for (o = 0; o < orders; o++)
		snprintf(out + strlen(out), len - strlen(out), " buddy_o%d=%llu", o, sum[o]);
}

/*
 * " pcp_kb=N": the free pages the per-CPU lists hold (/proc/zoneinfo's
 * "count:" of every zone's pagesets).  MemFree leaves them out, and a
 * deflate that frees hundreds of MiB leaves a few MiB there per CPU and
 * zone, so MemFree alone drifts by that much after a cycle.
 */
static void grab_pcp(char *out, size_t len)
{
	unsigned long long pages = 0, v;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %llu", &v) == 1)
			pages += v;
	fclose(f);
	snprintf(out + strlen(out), len - strlen(out), " pcp_kb=%llu", pages * 4);
}

/* " swapused_kb=N" (SwapTotal - SwapFree) after the meminfo keys. */
static void swap_used(char *out, size_t len)
{
	const char *t = strstr(out, " swaptotal_kb="), *f = strstr(out, " swapfree_kb=");

	if (t && f)
		snprintf(out + strlen(out), len - strlen(out), " swapused_kb=%llu",
			 strtoull(t + 14, NULL, 10) - strtoull(f + 13, NULL, 10));
}

static void cmd_stats(void)
{
	static const char *const mi_keys[] = { "MemTotal", "MemFree", "MemAvailable",
					       "SwapTotal", "SwapFree", NULL };
	static const char *const mi_names[] = { "memtotal_kb", "memfree_kb", "memavail_kb",
						"swaptotal_kb", "swapfree_kb" };
	static const char *const vm_keys[] = { "oom_kill", "pswpout", NULL };
	static const char *const vm_names[] = { "oom_kill", "pswpout" };
	static const char *const sys_keys[] = { "current", "target", "min", "max", NULL };
	char out[LINE_MAX_LEN * 2] = "ok";
	char path[PATH_MAX], buf[256], line[256];
	FILE *f;
	int i;

	grab_keys(out, sizeof(out), "/proc/meminfo", mi_keys, mi_names, ':');
	swap_used(out, sizeof(out));
	grab_keys(out, sizeof(out), "/proc/vmstat", vm_keys, vm_names, ' ');
	grab_buddyinfo(out, sizeof(out));
	grab_pcp(out, sizeof(out));
	for (i = 0; sys_keys[i]; i++) {
		snprintf(path, sizeof(path), SYSFS_DIR "/%s", sys_keys[i]);
		if (read_line(path, buf, sizeof(buf)))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), " %s_kb=%s",
				 sys_keys[i], buf);
	}
	/* Every debugfs line "name: value" as name=value, lower case, _ for spaces. */
	f = fopen(STATS_FILE, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			char *colon = strchr(line, ':'), *p, *v;
			char key[64];
			size_t k = 0;

			if (!colon)
				continue;
			*colon = 0;
			for (p = line + strlen(line); p > line && p[-1] == ' '; p--)
				p[-1] = 0;
			for (p = line; *p && k < sizeof(key) - 1; p++)
				key[k++] = *p == ' ' ? '_' : (char)tolower((unsigned char)*p);
			key[k] = 0;
			for (v = colon + 1; *v == ' '; v++)
				;
			v[strcspn(v, " \n")] = 0;
			if (k && *v)
				snprintf(out + strlen(out), sizeof(out) - strlen(out), " %s=%s",
					 key, v);
		}
		fclose(f);
	}
	say("%s", out);
}

static void cmd_exec(const char *cmd)
{
	pid_t pid;
	int st;

	if (!cmd || !*cmd) {
		say("err usage: exec <shell command>");
		return;
	}
	pid = fork();
	if (pid < 0) {
		say("err %s", errname(errno));
		return;
	}
	if (pid == 0) {
		int fd = open("/tmp/tb-agent-exec.log", O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		signal(SIGCHLD, SIG_DFL);
		write_file("/proc/self/oom_score_adj", "0");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			say("err %s", errname(errno));
			return;
		}
	}
	say("ok %d", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* Reap workload children; one event line for each that died unasked. */
static void reap(void)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < MAX_WORKLOADS; i++) {
			if (!wl[i].id || wl[i].pid != pid)
				continue;
			/* busy ends by itself when its time is up: no event. */
			if (wl[i].kind == K_BUSY && WIFEXITED(st) &&
			    WEXITSTATUS(st) == 0) {
				wl[i].pid = 0;
				wl[i].id = 0;
				continue;
			}
			say("event exit id=%d kind=%s status=%d signal=%d", wl[i].id,
			    kind_names[wl[i].kind],
			    WIFEXITED(st) ? WEXITSTATUS(st) : 0,
			    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			wl[i].pid = 0;
			wl[i].id = 0;
		}
	}
}

/* The guest panics now (sysrq 'c'): the harness's test of a guest that
 * dies mid-run.  No reply when it works: there is no guest left. */
static void cmd_panic(void)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);

	sync();
	if (fd < 0 || write(fd, "c", 1) != 1) {
		say("err %s", errname(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	say("err still-alive");
}

/*
 * Guest swap on zram: zsmalloc and zram loaded from the initramfs (in the
 * order /lib/tb/zram.order lists), /dev/zram0 of @bytes, a swap header
 * written here (what mkswap writes: version 1, last page, the
 * SWAPSPACE2 magic at the end of the first page), then swapon(2).
 * Compressed in guest RAM: what the workloads touch (one byte a page)
 * costs the guest little, so the balloon's pages come from RAM.
 */
#define ZRAM_DEV	"/dev/zram0"
static void cmd_swap(const char *arg)
{
	static const char magic[] = "SWAPSPACE2";
	unsigned char page[PAGE_4K];
	uint32_t hdr[3];
	uint64_t bytes;
	char name[64], path[PATH_MAX], buf[32];
	FILE *order;
	int fd, i;

	if (parse_size(arg, &bytes) || bytes < 16 * PAGE_4K ||
	    bytes / PAGE_4K > UINT32_MAX) {
		say("err bad-size");
		return;
	}
	order = fopen("/lib/tb/zram.order", "re");
	if (!order) {
		say("err ENOENT zram.order");
		return;
	}
	while (fscanf(order, "%63s", name) == 1) {
		snprintf(path, sizeof(path), "/lib/modules/%s.ko", name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) &&
			       errno != EEXIST)) {
			say("err %s %s", errname(errno), name);
			fclose(order);
			if (fd >= 0)
				close(fd);
			return;
		}
		close(fd);
	}
	fclose(order);
	/* devtmpfs makes the node once the module registered the disk. */
	for (i = 0; i < 100 && access(ZRAM_DEV, F_OK); i++)
		usleep(10000);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)bytes);
	fd = open("/sys/block/zram0/disksize", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, strlen(buf)) < 0) {
		say("err %s disksize", errname(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	memset(page, 0, sizeof(page));
	hdr[0] = 1;				/* version */
	hdr[1] = (uint32_t)(bytes / PAGE_4K - 1);	/* last page */
	hdr[2] = 0;				/* bad pages */
	memcpy(page + 1024, hdr, sizeof(hdr));
	memcpy(page + PAGE_4K - 10, magic, 10);
	fd = open(ZRAM_DEV, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, page, sizeof(page), 0) != sizeof(page) ||
	    fsync(fd)) {
		say("err %s header", errname(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	if (swapon(ZRAM_DEV, 0)) {
		say("err %s swapon", errname(errno));
		return;
	}
	say("ok %s %llu", ZRAM_DEV, (unsigned long long)bytes);
}

static void handle(char *line)
{
	char *cmd, *arg, *rest;
	uint64_t bytes;

	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line)
		return;		/* empty lines get no reply: nothing was asked */
	cmd = strtok_r(line, " \t", &rest);
	if (!strcmp(cmd, "exec")) {
		while (*rest == ' ' || *rest == '\t')
			rest++;
		cmd_exec(rest);
		return;
	}
	arg = strtok_r(NULL, " \t", &rest);

	if (!strcmp(cmd, "ping")) {
		say("ok pong");
	} else if (!strcmp(cmd, "pin") || !strcmp(cmd, "alloc") ||
		   !strcmp(cmd, "pagecache") || !strcmp(cmd, "fragment")) {
		if (parse_size(arg, &bytes)) {
			say("err bad-size");
			return;
		}
		if (!strcmp(cmd, "pin"))
			cmd_hold(bytes, K_PIN);
		else if (!strcmp(cmd, "alloc"))
			cmd_hold(bytes, K_ALLOC);
		else if (!strcmp(cmd, "pagecache"))
			cmd_pagecache(bytes);
		else
			cmd_fragment(bytes, strtok_r(NULL, " \t", &rest));
	} else if (!strcmp(cmd, "busy")) {
		cmd_busy(arg, strtok_r(NULL, " \t", &rest));
	} else if (!strcmp(cmd, "free")) {
		cmd_free(arg);
	} else if (!strcmp(cmd, "sysfs-write")) {
		char *val = strtok_r(NULL, " \t", &rest);

		cmd_sysfs_write(arg, val);
	} else if (!strcmp(cmd, "sysfs-read")) {
		cmd_sysfs_read(arg);
	} else if (!strcmp(cmd, "stats")) {
		cmd_stats();
	} else if (!strcmp(cmd, "panic")) {
		cmd_panic();
	} else if (!strcmp(cmd, "swap")) {
		cmd_swap(arg);
	} else {
		say("err unknown-request");
	}
}

static void on_sigchld(int sig)
{
	int e = errno;
	char c = 0;

	if (write(sig_pipe[1], &c, 1) < 0) {
		/* pipe full: a wakeup is already pending */
	}
	errno = e;
}

static int open_port(const char *path)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		t.c_cflag |= CLOCAL | CREAD;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &t);
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *port = argc > 1 ? argv[1] : "/dev/ttyS1";
	static char line[LINE_MAX_LEN + 1];
	size_t len = 0;
	bool overflow = false;
	struct sigaction sa;

	/* "tb-agent -c REQUEST": one request, reply on stdout (for scripts). */
	if (argc == 3 && !strcmp(argv[1], "-c")) {
		tty = 1;
		if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
			return 1;
		snprintf(line, sizeof(line), "%s", argv[2]);
		handle(line);
		return 0;
	}
	tty = open_port(port);
	if (tty < 0) {
		fprintf(stderr, "tb-agent: %s: %s\n", port, strerror(errno));
		return 1;
	}
	write_file("/proc/self/oom_score_adj", "-1000");
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	say("event ready");

	for (;;) {
		struct pollfd pf[2] = {
			{ .fd = tty, .events = POLLIN },
			{ .fd = sig_pipe[0], .events = POLLIN },
		};
		char buf[512];
		ssize_t n, i;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (pf[1].revents & POLLIN) {
			while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
				;
			reap();
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(tty, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 1;
		}
		if (n == 0) {
			usleep(100000);
			continue;
		}
		for (i = 0; i < n; i++) {
			char c = buf[i];

			if (c == '\r' || c == 0)
				continue;
			if (c != '\n') {
				if (len < LINE_MAX_LEN)
					line[len++] = c;
				else
					overflow = true;
				continue;
			}
			line[len] = 0;
			if (overflow)
				say("err line-too-long");
			else
				handle(line);
			len = 0;
			overflow = false;
			reap();
		}
	}
}
