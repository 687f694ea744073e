/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tbq.h - a small qtest + QMP client that drives our QEMU's tb-balloon
 * device without a guest kernel: PCI config through 0xcf8/0xcfc, registers
 * with readl/writel, guest memory with read/write/memset, QMP with jansson.
 * Every function fails the running Check test on a protocol error.
 */
#ifndef TBQ_H
#define TBQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "tb_proto.h"

#define TBQ_BAR0	0xe0000000ull	/* where the tests map BAR0 */
#define TBQ_IRQ		11		/* ISA IRQ the tests route INTA to */
#define TBQ_MAX_EVENTS	64

struct tbq {
	pid_t pid;
	int qt;			/* qtest socket */
	int qmp;		/* QMP socket */
	char dir[96];		/* private temp dir: sockets, QEMU's log */
	char qtbuf[65536];	/* qtest input not yet consumed */
	size_t qtlen;
	char qmpbuf[65536];
	size_t qmplen;
	int irq_level[64];	/* from "IRQ raise/lower N" once intercepted */
	uint64_t bar0;
	unsigned int devfn;
	json_t *events[TBQ_MAX_EVENTS];	/* QMP events seen, oldest first */
	int nevents;
};

/* Start QEMU: "-machine pc -m 256M -nodefaults" + @device (the -device
 * value, e.g. "tb-balloon,id=b,max-balloon=100M") + optional extra args
 * (NULL-terminated).  Returns a QEMU whose device is found and enabled. */
struct tbq *tbq_start(const char *device, const char *const *extra);
/* Same, without looking for the device (-incoming etc.). */
struct tbq *tbq_start_raw(const char *device, const char *const *extra);
/* Only start QEMU and take its two connections: no QMP handshake, for a
 * QEMU that may exit at once (a failing -incoming). */
struct tbq *tbq_spawn(const char *device, const char *const *extra);
/* Wait up to @timeout_ms for QEMU to exit: its wait status, or -1 when it
 * still runs. */
int tbq_wait_exit(struct tbq *q, int timeout_ms);
/* What QEMU wrote to stdout and stderr so far (caller frees). */
char *tbq_read_log(struct tbq *q);
/* Kill QEMU (SIGKILL) and free everything; safe on NULL. */
void tbq_stop(struct tbq *q);

/* qtest: send one command, return the reply after "OK" (static buffer). */
const char *tbq_cmd(struct tbq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint32_t tbq_inl(struct tbq *q, uint16_t port);
void tbq_outl(struct tbq *q, uint16_t port, uint32_t val);
uint32_t tbq_pci_read(struct tbq *q, unsigned int devfn, unsigned int off);
void tbq_pci_write(struct tbq *q, unsigned int devfn, unsigned int off,
		   uint32_t val);
uint32_t tbq_readl(struct tbq *q, uint64_t addr);
void tbq_writel(struct tbq *q, uint64_t addr, uint32_t val);
void tbq_memread(struct tbq *q, uint64_t addr, void *buf, size_t len);
void tbq_memwrite(struct tbq *q, uint64_t addr, const void *buf, size_t len);
void tbq_memset(struct tbq *q, uint64_t addr, size_t len, uint8_t val);
void tbq_clock_step(struct tbq *q, uint64_t ns);
/* Find the device, program BAR0, enable memory + bus master, route INTA. */
void tbq_enable_device(struct tbq *q);
/* Intercept the IOAPIC inputs so INTx changes show in irq_level[]. */
void tbq_intercept_irqs(struct tbq *q);
/* Current INTx level as qtest last reported it (drains pending input). */
int tbq_irq(struct tbq *q);

/* Device registers. */
uint32_t tbq_reg(struct tbq *q, unsigned int reg);
void tbq_set_reg(struct tbq *q, unsigned int reg, uint32_t val);

/* QMP: execute and return "return" (caller json_decref), fail on error. */
json_t *tbq_qmp(struct tbq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* QMP: execute and return the whole reply (error or return). */
json_t *tbq_qmp_raw(struct tbq *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop all recorded events. */
void tbq_clear_events(struct tbq *q);
/* Count recorded events named @name; @last gets the last one's data. */
int tbq_count_events(struct tbq *q, const char *name, json_t **last);
/* query-balloon "actual", bytes. */
uint64_t tbq_actual(struct tbq *q);
/* qom-get of the device (id "b") property as integer. */
uint64_t tbq_qom_u64(struct tbq *q, const char *prop);
/* qom-get "stats" (caller json_decref). */
json_t *tbq_stats(struct tbq *q);
/* Integer at a dotted path in a JSON object ("entries.inflate.ok"). */
uint64_t tbq_json_u64(json_t *obj, const char *path);
/* VmRSS of QEMU, bytes. */
/* 512-byte blocks allocated to @path (st_blocks). */
uint64_t tbq_file_blocks(const char *path);
uint64_t tbq_rss(struct tbq *q);

/* A batch command: write @n entries at @batch, run @cmd, read statuses
 * back into @e[i].status.  Returns CMD_STATUS. */
uint32_t tbq_batch(struct tbq *q, uint64_t batch, uint32_t cmd,
		   struct tb_entry *e, uint32_t n);

#endif /* TBQ_H */
