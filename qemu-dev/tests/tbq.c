// SPDX-License-Identifier: GPL-2.0-only
/*
 * tbq.c - qtest + QMP client for the tb-balloon device tests (see tbq.h).
 *
 * QEMU is started with "-accel qtest": no guest code runs, the test plays
 * the guest through the qtest text protocol (docs/devel/qtest.rst) and the
 * host through QMP.  Both sockets are listened on here and QEMU connects,
 * so there is no start-up race.  QEMU gets PR_SET_PDEATHSIG, so it dies
 * with the forked Check test even when the test fails half-way.
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tbq.h"

#define TBQ_TIMEOUT_MS	20000	/* one reply; TCG start-up included */
#define PIIX3_DEVFN	0x08	/* 00:01.0 on the pc machine */
#define PIIX_PIRQCA	0x60

static char reply[200000];

/* Live instances, stopped at exit: a failing Check assertion exits the
 * forked test without running its teardown. */
#define TBQ_LIVE_MAX 8
static struct tbq *live[TBQ_LIVE_MAX];

static void stop_live(void)
{
	int i;

	for (i = 0; i < TBQ_LIVE_MAX; i++)
		if (live[i])
			tbq_stop(live[i]);
}

static void track(struct tbq *q, struct tbq *old)
{
	static bool registered;
	int i;

	if (!registered) {
		atexit(stop_live);
		registered = true;
	}
	for (i = 0; i < TBQ_LIVE_MAX; i++) {
		if (live[i] == old) {
			live[i] = q;
			return;
		}
	}
}

static void die_log(struct tbq *q, const char *what)
{
	char path[160], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	f = fopen(path, "r");
	if (f) {
		fprintf(stderr, "--- QEMU's output (%s):\n", path);
		while (fgets(line, sizeof(line), f))
			fputs(line, stderr);
		fclose(f);
	}
	ck_abort_msg("tbq: %s", what);
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		      listen(fd, 1) == 0, "bind %s: %s", path, strerror(errno));
	return fd;
}

static int accept_one(struct tbq *q, int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, TBQ_TIMEOUT_MS) != 1)
		die_log(q, "QEMU did not connect (did it start?)");
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_msg(fd >= 0, "accept: %s", strerror(errno));
	close(lfd);
	return fd;
}

/* Read one line from @fd into @line, buffering the rest. */
static void read_line(struct tbq *q, int fd, char *buf, size_t *len,
		      size_t cap, char *line, size_t linecap)
{
	for (;;) {
		char *nl = memchr(buf, '\n', *len);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t l = nl - buf;

			if (l >= linecap)
				die_log(q, "reply line too long");
			memcpy(line, buf, l);
			line[l] = 0;
			if (l && line[l - 1] == '\r')
				line[l - 1] = 0;
			memmove(buf, nl + 1, *len - l - 1);
			*len -= l + 1;
			return;
		}
		if (*len == cap)
			die_log(q, "input buffer full");
		if (poll(&p, 1, TBQ_TIMEOUT_MS) != 1)
			die_log(q, "timeout waiting for QEMU");
		n = read(fd, buf + *len, cap - *len);
		if (n <= 0)
			die_log(q, "QEMU closed the connection (crashed?)");
		*len += n;
	}
}

static void write_all(struct tbq *q, int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die_log(q, "write to QEMU failed (crashed?)");
		s += n;
		len -= n;
	}
}

/* qtest: a reply line, handling the asynchronous IRQ notifications. */
static void qt_reply(struct tbq *q)
{
	for (;;) {
		int irq;

		read_line(q, q->qt, q->qtbuf, &q->qtlen, sizeof(q->qtbuf),
			  reply, sizeof(reply));
		if (sscanf(reply, "IRQ raise %d", &irq) == 1 && irq >= 0 && irq < 64)
			q->irq_level[irq] = 1;
		else if (sscanf(reply, "IRQ lower %d", &irq) == 1 && irq >= 0 && irq < 64)
			q->irq_level[irq] = 0;
		else
			return;
	}
}

const char *tbq_cmd(struct tbq *q, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert(n > 0);
	write_all(q, q->qt, s, n);
	write_all(q, q->qt, "\n", 1);
	qt_reply(q);
	if (strncmp(reply, "OK", 2) != 0) {
		fprintf(stderr, "tbq: qtest \"%.80s\" answered \"%s\"\n", s, reply);
		free(s);
		die_log(q, "qtest command failed");
	}
	free(s);
	return reply[2] == ' ' ? reply + 3 : reply + 2;
}

static uint64_t cmd_u64(struct tbq *q, const char *fmt, uint64_t a)
{
	return strtoull(tbq_cmd(q, fmt, a), NULL, 0);
}

uint32_t tbq_inl(struct tbq *q, uint16_t port)
{
	return cmd_u64(q, "inl 0x%" PRIx64, port);
}

void tbq_outl(struct tbq *q, uint16_t port, uint32_t val)
{
	tbq_cmd(q, "outl 0x%x 0x%x", port, val);
}

static uint32_t cfg_addr(unsigned int devfn, unsigned int off)
{
	return 0x80000000u | devfn << 8 | (off & 0xfc);
}

uint32_t tbq_pci_read(struct tbq *q, unsigned int devfn, unsigned int off)
{
	tbq_outl(q, 0xcf8, cfg_addr(devfn, off));
	return tbq_inl(q, 0xcfc);
}

void tbq_pci_write(struct tbq *q, unsigned int devfn, unsigned int off,
		   uint32_t val)
{
	tbq_outl(q, 0xcf8, cfg_addr(devfn, off));
	tbq_outl(q, 0xcfc, val);
}

uint32_t tbq_readl(struct tbq *q, uint64_t addr)
{
	return cmd_u64(q, "readl 0x%" PRIx64, addr);
}

void tbq_writel(struct tbq *q, uint64_t addr, uint32_t val)
{
	tbq_cmd(q, "writel 0x%" PRIx64 " 0x%x", addr, val);
}

void tbq_memread(struct tbq *q, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		size_t chunk = len > 32768 ? 32768 : len, i;
		const char *hex = tbq_cmd(q, "read 0x%" PRIx64 " 0x%zx", addr, chunk);

		ck_assert_msg(strncmp(hex, "0x", 2) == 0 &&
			      strlen(hex) == 2 + 2 * chunk, "bad read reply");
		for (i = 0; i < chunk; i++) {
			unsigned int b;

			sscanf(hex + 2 + 2 * i, "%2x", &b);
			out[i] = b;
		}
		out += chunk;
		addr += chunk;
		len -= chunk;
	}
}

void tbq_memwrite(struct tbq *q, uint64_t addr, const void *buf, size_t len)
{
	const uint8_t *in = buf;
	char *hex = malloc(2 * len + 1);
	size_t i;

	ck_assert(hex);
	for (i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", in[i]);
	hex[2 * len] = 0;
	tbq_cmd(q, "write 0x%" PRIx64 " 0x%zx 0x%s", addr, len, hex);
	free(hex);
}

void tbq_memset(struct tbq *q, uint64_t addr, size_t len, uint8_t val)
{
	tbq_cmd(q, "memset 0x%" PRIx64 " 0x%zx 0x%02x", addr, len, val);
}

void tbq_clock_step(struct tbq *q, uint64_t ns)
{
	tbq_cmd(q, "clock_step %" PRIu64, ns);
}

void tbq_enable_device(struct tbq *q)
{
	unsigned int devfn, pirq;

	for (devfn = 0; devfn < 256; devfn += 8) {
		uint32_t id = tbq_pci_read(q, devfn, 0);

		if (id == ((uint32_t)TB_PCI_DEVICE_ID << 16 | TB_PCI_VENDOR_ID))
			break;
	}
	ck_assert_msg(devfn < 256, "tb-balloon not found on PCI bus 0");
	q->devfn = devfn;
	q->bar0 = TBQ_BAR0;
	tbq_pci_write(q, devfn, 0x10, (uint32_t)q->bar0);
	/* memory space + bus master: the device DMAs the batch */
	tbq_pci_write(q, devfn, 0x04, 0x0006);
	/* Route the slot's INTA (PIIX: pirq = (slot - 1 + pin) & 3) to
	 * TBQ_IRQ, as firmware would. */
	pirq = ((devfn >> 3) - 1) & 3;
	{
		uint32_t r = tbq_pci_read(q, PIIX3_DEVFN, PIIX_PIRQCA);

		r &= ~(0xffu << (8 * pirq));
		r |= (uint32_t)TBQ_IRQ << (8 * pirq);
		tbq_pci_write(q, PIIX3_DEVFN, PIIX_PIRQCA, r);
	}
}

void tbq_intercept_irqs(struct tbq *q)
{
	tbq_cmd(q, "irq_intercept_in ioapic");
}

int tbq_irq(struct tbq *q)
{
	/* A cheap command makes QEMU flush pending IRQ lines before it. */
	tbq_cmd(q, "inl 0xcfc");
	return q->irq_level[TBQ_IRQ];
}

uint32_t tbq_reg(struct tbq *q, unsigned int reg)
{
	return tbq_readl(q, q->bar0 + reg);
}

void tbq_set_reg(struct tbq *q, unsigned int reg, uint32_t val)
{
	tbq_writel(q, q->bar0 + reg, val);
}

/* QMP */

static json_t *qmp_send(struct tbq *q, const char *fmt, va_list ap)
{
	char *s;
	int n = vasprintf(&s, fmt, ap);
	json_error_t err;
	json_t *msg;

	ck_assert(n > 0);
	write_all(q, q->qmp, s, n);
	write_all(q, q->qmp, "\n", 1);
	for (;;) {
		read_line(q, q->qmp, q->qmpbuf, &q->qmplen, sizeof(q->qmpbuf),
			  reply, sizeof(reply));
		msg = json_loads(reply, 0, &err);
		ck_assert_msg(msg, "bad QMP JSON: %s", err.text);
		if (json_object_get(msg, "event")) {
			if (q->nevents < TBQ_MAX_EVENTS)
				q->events[q->nevents++] = msg;
			else
				json_decref(msg);
			continue;
		}
		free(s);
		return msg;
	}
}

json_t *tbq_qmp_raw(struct tbq *q, const char *fmt, ...)
{
	va_list ap;
	json_t *r;

	va_start(ap, fmt);
	r = qmp_send(q, fmt, ap);
	va_end(ap);
	return r;
}

json_t *tbq_qmp(struct tbq *q, const char *fmt, ...)
{
	va_list ap;
	json_t *r, *ret;

	va_start(ap, fmt);
	r = qmp_send(q, fmt, ap);
	va_end(ap);
	ret = json_object_get(r, "return");
	if (!ret) {
		char *d = json_dumps(r, 0);

		ck_abort_msg("QMP %s failed: %s", fmt, d);
	}
	json_incref(ret);
	json_decref(r);
	return ret;
}

void tbq_clear_events(struct tbq *q)
{
	while (q->nevents)
		json_decref(q->events[--q->nevents]);
}

int tbq_count_events(struct tbq *q, const char *name, json_t **last)
{
	int i, n = 0;

	for (i = 0; i < q->nevents; i++) {
		if (strcmp(json_string_value(json_object_get(q->events[i], "event")),
			   name) == 0) {
			n++;
			if (last)
				*last = json_object_get(q->events[i], "data");
		}
	}
	return n;
}

uint64_t tbq_actual(struct tbq *q)
{
	json_t *r = tbq_qmp(q, "{\"execute\":\"query-balloon\"}");
	uint64_t v = json_integer_value(json_object_get(r, "actual"));

	json_decref(r);
	return v;
}

uint64_t tbq_qom_u64(struct tbq *q, const char *prop)
{
	json_t *r = tbq_qmp(q, "{\"execute\":\"qom-get\",\"arguments\":"
			    "{\"path\":\"/machine/peripheral/b\",\"property\":\"%s\"}}",
			    prop);
	uint64_t v;

	ck_assert_msg(json_is_integer(r), "qom-get %s: not an integer", prop);
	v = (uint64_t)json_integer_value(r);
	json_decref(r);
	return v;
}

json_t *tbq_stats(struct tbq *q)
{
	return tbq_qmp(q, "{\"execute\":\"qom-get\",\"arguments\":"
		       "{\"path\":\"/machine/peripheral/b\",\"property\":\"stats\"}}");
}

uint64_t tbq_json_u64(json_t *obj, const char *path)
{
	char key[128], *dot, *k = key;

	snprintf(key, sizeof(key), "%s", path);
	while ((dot = strchr(k, '.'))) {
		*dot = 0;
		obj = json_object_get(obj, k);
		k = dot + 1;
	}
	obj = json_object_get(obj, k);
	ck_assert_msg(json_is_integer(obj), "no integer at %s", path);
	return (uint64_t)json_integer_value(obj);
}

uint64_t tbq_file_blocks(const char *path)
{
	struct stat st;

	ck_assert_msg(!stat(path, &st), "stat %s: %s", path, strerror(errno));
	return (uint64_t)st.st_blocks;
}

uint64_t tbq_rss(struct tbq *q)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)q->pid);
	f = fopen(path, "r");
	ck_assert_msg(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

uint32_t tbq_batch(struct tbq *q, uint64_t batch, uint32_t cmd,
		   struct tb_entry *e, uint32_t n)
{
	uint32_t i, status;

	for (i = 0; i < n; i++)
		e[i].status = TB_ST_PENDING;
	/* x86 and the protocol are both little-endian: the struct is the
	 * wire format. */
	tbq_memwrite(q, batch, e, (size_t)n * sizeof(*e));
	tbq_set_reg(q, TB_REG_BATCH_ADDR_LO, (uint32_t)batch);
	tbq_set_reg(q, TB_REG_BATCH_ADDR_HI, (uint32_t)(batch >> 32));
	tbq_set_reg(q, TB_REG_BATCH_COUNT, n);
	tbq_set_reg(q, TB_REG_COMMAND, cmd);
	status = tbq_reg(q, TB_REG_CMD_STATUS);
	tbq_memread(q, batch, e, (size_t)n * sizeof(*e));
	return status;
}

/* Start-up */

struct tbq *tbq_spawn(const char *device, const char *const *extra)
{
	struct tbq *q = calloc(1, sizeof(*q));
	const char *qemu = getenv("TB_QEMU"), *tmp;
	char qtpath[128], qmppath[128], qtarg[160], chararg[192], log[128];
	const char *argv[64];
	int lqt, lqmp, n = 0, i;

	ck_assert(q);
	q->qt = q->qmp = -1;
	track(q, NULL);
	ck_assert_msg(qemu && *qemu, "TB_QEMU must name our qemu-system-x86_64");
	/* TBQ_TMPDIR (the Makefile's, emptied before each run) keeps what a
	 * failed test leaves; sockets need short paths, else /tmp. */
	tmp = getenv("TBQ_TMPDIR");
	if (!tmp || !*tmp || strlen(tmp) > sizeof(q->dir) - 20)
		tmp = "/tmp";
	snprintf(q->dir, sizeof(q->dir), "%s/tbq.XXXXXX", tmp);
	ck_assert_msg(mkdtemp(q->dir), "mkdtemp: %s", strerror(errno));
	snprintf(qtpath, sizeof(qtpath), "%s/qtest.sock", q->dir);
	snprintf(qmppath, sizeof(qmppath), "%s/qmp.sock", q->dir);
	snprintf(log, sizeof(log), "%s/qemu.log", q->dir);
	lqt = listen_on(qtpath);
	lqmp = listen_on(qmppath);
	snprintf(qtarg, sizeof(qtarg), "unix:%s", qtpath);
	snprintf(chararg, sizeof(chararg), "socket,path=%s,id=qmp0", qmppath);

	argv[n++] = qemu;
	argv[n++] = "-machine";
	argv[n++] = "pc";
	argv[n++] = "-m";
	argv[n++] = "256M";
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-accel";
	argv[n++] = "qtest";
	argv[n++] = "-qtest";
	argv[n++] = qtarg;
	argv[n++] = "-chardev";
	argv[n++] = chararg;
	argv[n++] = "-mon";
	argv[n++] = "chardev=qmp0,mode=control";
	argv[n++] = "-device";
	argv[n++] = device;
	for (i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	q->pid = fork();
	ck_assert_msg(q->pid >= 0, "fork: %s", strerror(errno));
	if (q->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		/* Dies with the test process, pass or fail. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(qemu, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", qemu, strerror(errno));
		_exit(127);
	}
	q->qt = accept_one(q, lqt);
	q->qmp = accept_one(q, lqmp);
	return q;
}

struct tbq *tbq_start_raw(const char *device, const char *const *extra)
{
	struct tbq *q = tbq_spawn(device, extra);

	/* QMP greeting, then capabilities negotiation. */
	read_line(q, q->qmp, q->qmpbuf, &q->qmplen, sizeof(q->qmpbuf),
		  reply, sizeof(reply));
	ck_assert_msg(strstr(reply, "\"QMP\""), "no QMP greeting: %s", reply);
	json_decref(tbq_qmp(q, "{\"execute\":\"qmp_capabilities\"}"));
	return q;
}

struct tbq *tbq_start(const char *device, const char *const *extra)
{
	struct tbq *q = tbq_start_raw(device, extra);

	tbq_enable_device(q);
	return q;
}

int tbq_wait_exit(struct tbq *q, int timeout_ms)
{
	int i, status;

	ck_assert(q->pid > 0);
	for (i = 0; i <= timeout_ms / 10; i++) {
		pid_t r = waitpid(q->pid, &status, WNOHANG);

		ck_assert_msg(r >= 0, "waitpid: %s", strerror(errno));
		if (r == q->pid) {
			q->pid = 0;
			return status;
		}
		usleep(10000);
	}
	return -1;
}

char *tbq_read_log(struct tbq *q)
{
	char path[160], *buf = NULL;
	size_t len = 0;
	FILE *f, *m = open_memstream(&buf, &len);
	int c;

	ck_assert(m);
	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	f = fopen(path, "r");
	if (f) {
		while ((c = getc(f)) != EOF)
			putc(c, m);
		fclose(f);
	}
	fclose(m);
	return buf;
}

void tbq_stop(struct tbq *q)
{
	char path[160];

	if (!q)
		return;
	track(NULL, q);
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
	}
	if (q->qt >= 0)
		close(q->qt);
	if (q->qmp >= 0)
		close(q->qmp);
	tbq_clear_events(q);
	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qtest.sock", q->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/qmp.sock", q->dir);
	unlink(path);
	rmdir(q->dir);
	free(q);
}
