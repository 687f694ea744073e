/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * io.h - plumbing shared by the backends that run a real guest (emu,
 * virtio, libvirt): errors, Unix sockets, line-framed serial ports, the
 * agent, and reading a QEMU process from /proc.
 */
#ifndef HARNESS_BACKENDS_IO_H
#define HARNESS_BACKENDS_IO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "backends/backend.h"

#define LINE_MAX_LEN	4096

/* A partial line read from a serial port or socket. */
struct linebuf {
	char buf[LINE_MAX_LEN];
	size_t len;
};

/* Set be->error; returns -1 so callers can `return be_errf(...)`. */
int be_errf(struct backend *be, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first line @argv[0] (a path: no shell, no PATH search) prints on
 * stdout, "" when it prints none or fails; stdin is /dev/null, stderr is
 * dropped, and a program that has not ended within 10 s is killed. */
void be_run_capture(char *const argv[], char *out, size_t len);

/* The last line of the text file @path (at most its last 4 KiB are read),
 * "" when it has none. */
void be_last_line(const char *path, char *out, size_t len);

/* @text as be->run_dir/@name, whole or not at all: written to NAME.part,
 * fsynced, renamed, the directory fsynced.  0, or -1 with be->error set.
 * No run directory: nothing is written, 0. */
int be_write_file(struct backend *be, const char *name, const char *text);

/* @s shell-quoted ('...', a ' as '\'') appended to @buf of @len bytes
 * holding @n: returns the new length (>= @len: it did not fit). */
size_t be_shell_quote(char *buf, size_t len, size_t n, const char *s);

/*
 * The guest's kernel command line for @plan into be->kernel_cmdline: the
 * console and panic settings, @extra (NULL: none, else e.g.
 * "tb.driver=virtio"), each driver parameter as tb_balloon.KEY=VALUE when
 * @dparams, and the scenario's `cmdline`.  The x86 kernel takes at most
 * BE_CMDLINE_MAX bytes (COMMAND_LINE_SIZE 2048 with its NUL) and cuts the
 * rest silently: a longer line is an error naming its longest parts (file,
 * line, key, size).  0, or -1 with be->error set; nothing is started.
 */
#define BE_CMDLINE_MAX	2047
int be_kernel_cmdline(struct backend *be, const struct plan *plan,
		      const char *extra, bool dparams);

/* Connect to a Unix socket, retrying for @timeout seconds.  If @pid is
 * not 0 and that child exits meanwhile, returns -2; -1 on timeout or
 * when *@stop is set. */
int be_connect_unix(const char *path, double timeout, pid_t pid,
		    volatile sig_atomic_t *stop);

/* Split @n bytes into lines (CR dropped, long lines cut) and call @fn. */
void be_feed_lines(struct backend *be, const char *data, size_t n,
		   struct linebuf *lb, void (*fn)(struct backend *, char *));

/* Read what @fd has and feed it; 0, or -1 on EOF or error. */
int be_drain_lines(struct backend *be, int fd, struct linebuf *lb,
		   void (*fn)(struct backend *, char *));

/* Line handlers: the guest console, and the agent's serial port (only the
 * agent protocol's words count: a tty may echo or carry noise). */
void be_on_console(struct backend *be, char *line);
void be_on_agent(struct backend *be, char *line);

/* Send one agent request line on @fd. */
int be_agent_send(struct backend *be, int fd, const char *line);

/* A device property's plan value (plan/plan.h: bytes, on/off, a count) as
 * the JSON value qom-set takes; NULL with be->error set when @prop is no
 * device property. */
json_t *be_prop_json(struct backend *be, const char *prop, const char *value);

/* A qom-get result as text: a string as is, anything else as JSON. */
void be_json_text(json_t *r, char *buf, size_t len);

/* Seconds on the monotonic clock since @t0: a run's clock. */
double be_elapsed(const struct timespec *t0);

/* A process's resident set with its hugetlbfs pages (VmRSS +
 * HugetlbPages), bytes; -1 when it cannot be read. */
int64_t be_proc_rss(pid_t pid);

/* The most guest-RAM mappings be_proc_ram_rss() takes (numa-nodes). */
#define BE_RAM_MAPS 8

/* The resident part of a process's guest-RAM mappings, bytes, from
 * /proc/PID/smaps: the Rss summed over one writable, not executable
 * mapping of each of the @n @sizes (QEMU maps each RAM backend whole, so
 * the machine's RAM is one mapping of its size, or one per NUMA node).
 * It tells the RAM the host holds apart from QEMU's own memory (heap,
 * TCG's code buffer).  -1 when it cannot be read or a size is missing. */
int64_t be_proc_ram_rss(pid_t pid, const uint64_t *sizes, size_t n);

/* tb-balloon's `stats` property (qemu-dev/tb-balloon.txt) into the sample:
 * partial grants, and refusals = inflate entries neither ok nor pending. */
void be_device_stats(json_t *stats, struct be_sample *s);

#endif /* HARNESS_BACKENDS_IO_H */
