/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lv_conn.h - reaching a libvirtd: the user's (LIBVIRT_URI or
 * qemu:///system) or a private one started with libvirtd-run.sh, plus the
 * event loop thread libvirt needs to deliver domain events and keepalives.
 */
#ifndef HARNESS_LV_CONN_H
#define HARNESS_LV_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <libvirt/libvirt.h>

/* Where to find things; build-time defaults, overridable by environment. */
#ifndef TB_LIBVIRTD_RUN
#define TB_LIBVIRTD_RUN "harness/libvirt/libvirtd-run.sh"
#endif
#ifndef TB_LIBVIRT_STATE
#define TB_LIBVIRT_STATE "build/libvirt"
#endif

struct lv_conn {
	virConnectPtr conn;
	char uri[512];
	bool own;		/* we started the daemon: stop it at the end */
	char own_dir[512];	/* its directory (libvirtd-run.sh DIR) */
	pid_t daemon_pid;	/* our daemon, for kill_now; 0 if not ours */
};

/*
 * Start libvirt's default event loop in a thread (once per process).  Must
 * come before the first connection so that connection gets events.
 */
int lv_event_loop_start(char *err, size_t len);

/* Route libvirt's errors to virGetLastErrorMessage() instead of stderr. */
void lv_quiet_errors(void);

/*
 * Connect.  @mode: "auto" (LIBVIRT_URI, or virsh's LIBVIRT_DEFAULT_URI, if
 * set; else qemu:///system if it
 * answers, else a private daemon), "own" (always a private daemon), or a
 * URI.  @state_dir: parent of private daemons' directories (NULL: the
 * build default, or TB_LIBVIRT_STATE).
 */
int lv_connect(struct lv_conn *c, const char *mode, const char *state_dir,
	       char *err, size_t len);

/* Close the connection and stop the private daemon, if any.  Safe twice. */
int lv_disconnect(struct lv_conn *c, char *err, size_t len);

/* Run libvirtd-run.sh @cmd @dir; stdout (first line) into @out. */
int lv_daemon_script(const char *cmd, const char *dir, char *out,
		     size_t outlen, char *err, size_t len);

/* The pid in @path, or 0. */
pid_t lv_read_pid(const char *path);

#endif /* HARNESS_LV_CONN_H */
