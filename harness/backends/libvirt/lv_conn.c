// SPDX-License-Identifier: GPL-2.0-only
/*
 * lv_conn.c - reaching a libvirtd and running its event loop.
 *
 * libvirt delivers domain events and keepalive replies only while some
 * thread runs virEventRunDefaultImpl(); a dedicated thread does that for
 * the whole process, so the harness's own waiting stays in its runner.
 */
#include "lv_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libvirt/virterror.h>

static pthread_t loop_thread;
static bool loop_started;

static void *loop_main(void *arg)
{
	for (;;) {
		if (virEventRunDefaultImpl() < 0)
			usleep(10000);	/* never spin on a broken loop */
	}
	return NULL;
}

int lv_event_loop_start(char *err, size_t len)
{
	sigset_t all, old;

	if (loop_started)
		return 0;
	if (virEventRegisterDefaultImpl() < 0) {
		snprintf(err, len, "libvirt: cannot set up the event loop: %s",
			 virGetLastErrorMessage());
		return -1;
	}
	/* Signals belong to the harness's main thread, not the loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&loop_thread, NULL, loop_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, len, "libvirt: cannot start the event thread: %s",
			 strerror(rc));
		return -1;
	}
	pthread_detach(loop_thread);
	loop_started = true;
	return 0;
}

static void quiet(void *arg, virErrorPtr e)
{
}

void lv_quiet_errors(void)
{
	virSetErrorFunc(NULL, quiet);
}

pid_t lv_read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 ? (pid_t)pid : 0;
}

static const char *script_path(void)
{
	const char *s = getenv("TB_LIBVIRTD_RUN");

	return s && *s ? s : TB_LIBVIRTD_RUN;
}

int lv_daemon_script(const char *cmd, const char *dir, char *out,
		     size_t outlen, char *err, size_t len)
{
	int fds[2];
	pid_t pid;
	int status;
	char buf[1024];
	size_t got = 0;
	ssize_t n;

	if (out && outlen)
		out[0] = '\0';
	if (pipe(fds) < 0) {
		snprintf(err, len, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, len, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/bin/sh", "sh", script_path(), cmd, dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			got += n;
	close(fds[0]);
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, len, "%s %s %s failed (its message is above)",
			 script_path(), cmd, dir);
		return -1;
	}
	if (out && outlen) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(out, outlen, "%s", buf);
	}
	return 0;
}

static virConnectPtr open_uri(const char *uri, char *err, size_t len)
{
	virConnectPtr conn = virConnectOpen(uri);

	if (!conn) {
		snprintf(err, len, "cannot connect to %s: %s", uri,
			 virGetLastErrorMessage());
		return NULL;
	}
	/* A daemon that dies must end the run, not hang it. */
	if (virConnectSetKeepAlive(conn, 2, 3) < 0) {
		snprintf(err, len, "%s: keepalive refused: %s", uri,
			 virGetLastErrorMessage());
		virConnectClose(conn);
		return NULL;
	}
	return conn;
}

static int start_own(struct lv_conn *c, const char *state_dir, char *err,
		     size_t len)
{
	char pidfile[600];

	snprintf(c->own_dir, sizeof(c->own_dir), "%s/d-%ld", state_dir,
		 (long)getpid());
	c->own = true;
	/* Ours alone: if the harness is killed outright, the daemon still
	 * goes once idle (AUTODESTROY has ended the domain by then). */
	setenv("TB_LIBVIRTD_IDLE", "60", 0);
	if (lv_daemon_script("start", c->own_dir, c->uri, sizeof(c->uri),
			     err, len) < 0)
		return -1;
	snprintf(pidfile, sizeof(pidfile), "%s/libvirtd.pid", c->own_dir);
	c->daemon_pid = lv_read_pid(pidfile);
	c->conn = open_uri(c->uri, err, len);
	return c->conn ? 0 : -1;
}

int lv_connect(struct lv_conn *c, const char *mode, const char *state_dir,
	       char *err, size_t len)
{
	const char *env = getenv("LIBVIRT_URI");

	/* virsh's variable, so one export serves both. */
	if (!env || !*env)
		env = getenv("LIBVIRT_DEFAULT_URI");

	memset(c, 0, sizeof(*c));
	if (!state_dir || !*state_dir)
		state_dir = getenv("TB_LIBVIRT_STATE");
	if (!state_dir || !*state_dir)
		state_dir = TB_LIBVIRT_STATE;
	if (!mode || !*mode)
		mode = "auto";

	if (!strcmp(mode, "own"))
		return start_own(c, state_dir, err, len);
	if (strcmp(mode, "auto")) {
		snprintf(c->uri, sizeof(c->uri), "%s", mode);
		c->conn = open_uri(c->uri, err, len);
		return c->conn ? 0 : -1;
	}
	if (env && *env) {
		/* The user named a daemon: use it or fail, never another. */
		snprintf(c->uri, sizeof(c->uri), "%s", env);
		c->conn = open_uri(c->uri, err, len);
		return c->conn ? 0 : -1;
	}
	snprintf(c->uri, sizeof(c->uri), "qemu:///system");
	c->conn = open_uri(c->uri, err, len);
	if (c->conn)
		return 0;
	return start_own(c, state_dir, err, len);
}

int lv_disconnect(struct lv_conn *c, char *err, size_t len)
{
	int rc = 0;

	if (c->conn) {
		virConnectClose(c->conn);
		c->conn = NULL;
	}
	if (c->own) {
		rc = lv_daemon_script("stop", c->own_dir, NULL, 0, err, len);
		c->own = false;
		c->daemon_pid = 0;
	}
	return rc;
}
