// SPDX-License-Identifier: GPL-2.0-only
/* io.c - plumbing shared by the real-guest backends (see io.h). */
#include <errno.h>
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

void be_run_capture(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");

	out[0] = '\0';
	if (!p)
		return;
	if (fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	pclose(p);
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
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lld", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
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
	if (!json_is_object(inflate))
		return;
	s->refusals = 0;
	json_object_foreach(inflate, status, n)
		if (strcmp(status, "ok") && strcmp(status, "pending"))
			s->refusals += json_integer_value(n);
}
