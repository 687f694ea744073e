// SPDX-License-Identifier: GPL-2.0-only
/* io.c - plumbing shared by the real-guest backends (see io.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/io.h"
#include "plan/plan.h"

int be_errf(struct backend *be, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(be->error, sizeof(be->error), fmt, ap);
	va_end(ap);
	return -1;
}

#define CAPTURE_TIMEOUT_MS	10000

void be_run_capture(char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t fa;
	char buf[512];
	size_t got = 0;
	int fds[2], waited = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(fds, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	int err = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (err) {
		close(fds[0]);
		return;
	}
	/* Up to the first newline, within the time bound. */
	while (got < sizeof(buf) - 1 && !memchr(buf, '\n', got)) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int r = poll(&p, 1, 100);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && (waited += 100) < CAPTURE_TIMEOUT_MS)
			continue;
		if (r <= 0)
			break;
		ssize_t n = read(fds[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	/* It has said what we read: it need not finish. */
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(out, len, "%s", buf);
}

void be_last_line(const char *path, char *out, size_t len)
{
	char buf[4096 + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t n = 0;

	out[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > 0)
		n = pread(fd, buf, sizeof(buf) - 1, end > 4096 ? end - 4096 : 0);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	char *last = strrchr(buf, '\n');
	snprintf(out, len, "%s", last ? last + 1 : buf);
}

/* fsync a directory, so a rename in it survives a crash. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int be_write_file(struct backend *be, const char *name, const char *text)
{
	char path[PATH_MAX], part[PATH_MAX + 8];
	size_t len = strlen(text), off = 0;
	int fd;

	if (!be->run_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", be->run_dir, name);
	snprintf(part, sizeof(part), "%s.part", path);
	fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return be_errf(be, "cannot create %s: %s", part,
			       strerror(errno));
	errno = 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	int err = off < len ? (errno ? errno : ENOSPC) : 0;
	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(part, path))
		err = errno;
	if (err) {
		unlink(part);
		return be_errf(be, "writing %s: %s", path, strerror(err));
	}
	if (sync_dir(be->run_dir))
		return be_errf(be, "fsync %s: %s", be->run_dir,
			       strerror(errno));
	return 0;
}

size_t be_shell_quote(char *buf, size_t len, size_t n, const char *s)
{
	size_t need = 2;

	for (const char *p = s; *p; p++)
		need += *p == '\'' ? 4 : 1;
	if (n >= len || need >= len - n)
		return n + need;
	buf[n++] = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *p;
		}
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return n;
}

/* One part of the kernel command line, for the message when it is long. */
struct cmdline_part {
	const struct origin *from;	/* NULL: not from the scenario */
	char what[80];
	size_t len;
};

static int part_cmp(const void *a, const void *b)
{
	const struct cmdline_part *x = a, *y = b;

	return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

int be_kernel_cmdline(struct backend *be, const struct plan *plan,
		      const char *extra, bool dparams)
{
	static const char base[] = "console=ttyS0 panic=-1 oops=panic quiet "
				   "loglevel=5";
	struct cmdline_part parts[PLAN_MAX_KV + 2];
	int np = 0;
	size_t total = sizeof(base) - 1;

	/* Measure first: nothing is written unless all of it fits. */
	if (extra) {
		parts[np] = (struct cmdline_part){ .len = 1 + strlen(extra) };
		snprintf(parts[np].what, sizeof(parts[np].what), "%s", extra);
		total += parts[np++].len;
	}
	for (int i = 0; dparams && i < plan->ndparams; i++) {
		const struct kv *kv = &plan->dparams[i];
		parts[np] = (struct cmdline_part){ .from = &kv->from,
			.len = strlen(" tb_balloon.=") + strlen(kv->key) +
			       strlen(kv->value) };
		snprintf(parts[np].what, sizeof(parts[np].what), "driver.%s",
			 kv->key);
		total += parts[np++].len;
	}
	if (plan->cmdline[0]) {
		parts[np] = (struct cmdline_part){ .len = 1 +
						   strlen(plan->cmdline) };
		snprintf(parts[np].what, sizeof(parts[np].what), "cmdline");
		total += parts[np++].len;
	}
	if (total > BE_CMDLINE_MAX) {
		size_t n;

		qsort(parts, (size_t)np, sizeof(parts[0]), part_cmp);
		n = (size_t)snprintf(be->error, sizeof(be->error),
			"%s: the guest's kernel command line would be %zu bytes, "
			"more than the %d an x86 kernel takes (the rest would be "
			"cut off); its longest parts:", plan->file, total,
			BE_CMDLINE_MAX);
		for (int i = 0; i < np && n < sizeof(be->error); i++) {
			const struct origin *o = parts[i].from;
			char at[PLAN_STR + 16] = "";

			if (o && o->line)
				snprintf(at, sizeof(at), "%s:%d: ", o->file,
					 o->line);
			else if (o)
				snprintf(at, sizeof(at), "command line: ");
			n += (size_t)snprintf(be->error + n,
					      sizeof(be->error) - n,
					      "%s %s%s (%zu bytes)", i ? "," : "",
					      at, parts[i].what, parts[i].len);
		}
		/* Cut mid-list: say so. */
		if (n >= sizeof(be->error))
			memcpy(be->error + sizeof(be->error) - 5, " ...", 5);
		be->kernel_cmdline[0] = '\0';
		return -1;
	}
	size_t n = (size_t)snprintf(be->kernel_cmdline,
				    sizeof(be->kernel_cmdline), "%s", base);
	if (extra)
		n += (size_t)snprintf(be->kernel_cmdline + n,
				      sizeof(be->kernel_cmdline) - n, " %s",
				      extra);
	for (int i = 0; dparams && i < plan->ndparams; i++)
		n += (size_t)snprintf(be->kernel_cmdline + n,
				      sizeof(be->kernel_cmdline) - n,
				      " tb_balloon.%s=%s", plan->dparams[i].key,
				      plan->dparams[i].value);
	if (plan->cmdline[0])
		n += (size_t)snprintf(be->kernel_cmdline + n,
				      sizeof(be->kernel_cmdline) - n, " %s",
				      plan->cmdline);
	return n == total ? 0 : be_errf(be, "kernel command line: %zu bytes "
					"built, %zu measured", n, total);
}

int be_connect_unix(const char *path, double timeout, pid_t pid,
		    volatile sig_atomic_t *stop)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < (int)(timeout * 50); i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		if (pid && waitpid(pid, NULL, WNOHANG) == pid)
			return -2;
		if (*stop)	/* Ctrl-C while QEMU starts */
			return -1;
		usleep(20000);
	}
	return -1;
}

void be_feed_lines(struct backend *be, const char *data, size_t n,
		   struct linebuf *lb, void (*fn)(struct backend *, char *))
{
	for (size_t i = 0; i < n; i++) {
		char ch = data[i];

		if (ch == '\r')
			continue;
		if (ch == '\n' || lb->len == sizeof(lb->buf) - 1) {
			lb->buf[lb->len] = '\0';
			fn(be, lb->buf);
			lb->len = 0;
			if (ch == '\n')
				continue;
		}
		lb->buf[lb->len++] = ch;
	}
}

int be_drain_lines(struct backend *be, int fd, struct linebuf *lb,
		   void (*fn)(struct backend *, char *))
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof(tmp));

	if (r == 0)
		return -1;
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	be_feed_lines(be, tmp, (size_t)r, lb, fn);
	return 0;
}

void be_on_console(struct backend *be, char *line)
{
	be_emit(be, BE_EV_CONSOLE, line, 0);
}

void be_on_agent(struct backend *be, char *line)
{
	/* be_feed_lines cut it: the agent never sends such lines. */
	if (strlen(line) >= LINE_MAX_LEN - 1) {
		be_emit(be, BE_EV_AGENT_EVENT, "protocol-error a line longer "
			"than 4094 bytes from the agent", 0);
		return;
	}
	if (!strncmp(line, "event ", 6))
		be_emit(be, BE_EV_AGENT_EVENT, line + 6, 0);
	else if (!strncmp(line, "ok", 2) || !strncmp(line, "err", 3))
		be_emit(be, BE_EV_AGENT_REPLY, line, 0);
}

int be_agent_send(struct backend *be, int fd, const char *line)
{
	char buf[LINE_MAX_LEN];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	if (fd < 0)
		return be_errf(be, "agent serial port closed");
	if (n < 0 || n >= (int)sizeof(buf))
		return be_errf(be, "agent request too long");
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
		return be_errf(be, "agent write failed: %s", strerror(errno));
	return 0;
}

json_t *be_prop_json(struct backend *be, const char *prop, const char *value)
{
	bool is_size, is_bool;

	if (!device_prop_known(prop, &is_size, &is_bool)) {
		be_errf(be, "unknown device property '%s'", prop);
		return NULL;
	}
	if (is_bool)
		return json_boolean(!strcmp(value, "on"));
	return json_integer(strtoll(value, NULL, 10));
}

void be_json_text(json_t *r, char *buf, size_t len)
{
	char *s = json_is_string(r) ? strdup(json_string_value(r)) :
		  json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);

	snprintf(buf, len, "%s", s ? s : "");
	free(s);
}

double be_elapsed(const struct timespec *t0)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec - t0->tv_sec) + (ts.tv_nsec - t0->tv_nsec) / 1e9;
}

int64_t be_proc_rss(pid_t pid)
{
	char path[64], line[256];
	long long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	/* hugetlbfs pages are not in VmRSS: a guest on them has its RAM
	 * in HugetlbPages (Linux 5.16 on; 0 without). */
	long long huge = 0, v;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld", &v) == 1)
			kb = v;
		else if (sscanf(line, "HugetlbPages: %lld", &v) == 1)
			huge = v;
	fclose(f);
	return kb < 0 ? -1 : (kb + huge) * 1024;
}

int64_t be_proc_ram_rss(pid_t pid, const uint64_t *sizes, size_t n)
{
	char path[64], line[512];
	bool taken[BE_RAM_MAPS] = { false }, in_ram = false;
	long long sum = 0, kb;
	size_t found = 0;
	FILE *f;

	if (n > BE_RAM_MAPS)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		char perms[8];

		/* A mapping's first line: "start-end perms offset ..."; the
		 * field lines ("Rss:    12 kB") hold no '-' before a ' '. */
		if (sscanf(line, "%llx-%llx %7s ", &a, &b, perms) == 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in_ram = false;
			/* Guest RAM is writable, never executable: TCG's code
			 * buffer (rwx) may be as large as a NUMA node. */
			if (perms[1] != 'w' || perms[2] == 'x')
				continue;
			for (size_t i = 0; i < n && !in_ram; i++)
				if (!taken[i] && b - a == sizes[i])
					in_ram = taken[i] = true;
			continue;
		}
		if (in_ram && sscanf(line, "Rss: %lld", &kb) == 1) {
			sum += kb;
			found++;
			in_ram = false;
		}
	}
	fclose(f);
	return found == n ? sum * 1024 : -1;
}

void be_device_stats(json_t *stats, struct be_sample *s)
{
	json_t *pg = json_object_get(stats, "partial-grants");
	json_t *inflate = json_object_get(json_object_get(stats, "entries"),
					  "inflate");
	const char *status;
	json_t *n;

	if (json_is_integer(pg))
		s->partial_grants = json_integer_value(pg);
	const char *name;
	json_t *b;
	s->nblocks = 0;
	json_object_foreach(json_object_get(stats, "ram-blocks"), name, b) {
		struct be_block *k = &s->blocks[s->nblocks];
		if (s->nblocks == (int)(sizeof(s->blocks) / sizeof(*k)))
			break;
		snprintf(k->name, sizeof(k->name), "%s", name);
		k->page_size = json_integer_value(json_object_get(b,
							"page-size"));
		k->pages = json_integer_value(json_object_get(b, "pages"));
		k->balloon = json_integer_value(json_object_get(b,
							"balloon-pages"));
		k->partial = json_integer_value(json_object_get(b,
						"partial-host-pages"));
		s->nblocks++;
	}
	if (!json_is_object(inflate))
		return;
	s->refusals = 0;
	json_object_foreach(inflate, status, n)
		if (strcmp(status, "ok") && strcmp(status, "pending"))
			s->refusals += json_integer_value(n);
}
