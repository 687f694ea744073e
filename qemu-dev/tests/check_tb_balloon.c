// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_tb_balloon.c - device tests for tb-balloon: our QEMU under
 * "-accel qtest", the test playing the guest (registers, guest memory) and
 * the host (QMP).  No guest kernel.  TB_QEMU names the QEMU binary.
 *
 * Units: register values and entry pfns are 4 KiB pages; QMP and QOM
 * values are bytes.  The guest has 256 MiB: 65536 pages.
 */
#define _GNU_SOURCE
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mount.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tbq.h"
#include "tb_batchlog.h"

#define MiB		(1024ull * 1024)
#define RAM		(256 * MiB)
#define RAM_PAGES	(RAM >> TB_PAGE_SHIFT)
#define BATCH		0x100000ull	/* batch buffer, guest-physical */
#define PFN_2M(mib)	((mib) * MiB >> TB_PAGE_SHIFT)

static struct tbq *q;

static void teardown(void)
{
	tbq_stop(q);
	q = NULL;
}

/* Start QEMU with "tb-balloon,id=b" + @opts ("" for defaults). */
static struct tbq *start(const char *opts)
{
	char dev[256];

	snprintf(dev, sizeof(dev), "tb-balloon,id=b%s%s", *opts ? "," : "", opts);
	q = tbq_start(dev, NULL);
	return q;
}

static void ready(void)
{
	tbq_set_reg(q, TB_REG_DRIVER_STATUS, TB_DRIVER_READY);
}

/* query-balloon, the BALLOON_PAGES register and the QOM accounting agree. */
static void check_accounting(void)
{
	uint64_t pages = tbq_reg(q, TB_REG_BALLOON_PAGES);

	ck_assert_uint_eq(tbq_actual(q), RAM - (pages << TB_PAGE_SHIFT));
	ck_assert_uint_eq(tbq_qom_u64(q, "balloon-size"), pages << TB_PAGE_SHIFT);
	ck_assert_uint_eq(tbq_qom_u64(q, "actual"), tbq_actual(q));
}

static struct tb_entry ent(uint64_t pfn, unsigned int order)
{
	struct tb_entry e = { .pfn = pfn, .order = order };

	return e;
}

/* One-entry command; returns the entry's status (command must be OK). */
static unsigned int one(uint32_t cmd, uint64_t pfn, unsigned int order)
{
	struct tb_entry e = ent(pfn, order);

	ck_assert_uint_eq(tbq_batch(q, BATCH, cmd, &e, 1), TB_CMD_OK);
	check_accounting();
	return e.status;
}

static uint64_t stat(const char *path)
{
	json_t *s = tbq_stats(q);
	uint64_t v = tbq_json_u64(s, path);

	json_decref(s);
	return v;
}

static void qom_set(const char *prop, const char *json_value)
{
	json_decref(tbq_qmp(q, "{\"execute\":\"qom-set\",\"arguments\":"
			    "{\"path\":\"/machine/peripheral/b\",\"property\":\"%s\","
			    "\"value\":%s}}", prop, json_value));
}

/*
 * QEMU rate-limits BALLOON_CHANGE to one a second (the last value wins);
 * under qtest that second is virtual time, so step past it and let a QMP
 * round trip collect what was sent.
 */
static void flush_events(void)
{
	tbq_clock_step(q, 1100ull * 1000 * 1000);
	json_decref(tbq_qmp(q, "{\"execute\":\"query-status\"}"));
}

/* ---- registers ---------------------------------------------------------- */

START_TEST(test_regs_identity_and_defaults)
{
	start("");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), TB_MAGIC);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_VERSION), TB_VERSION);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_FEATURES),
			  TB_F_DISCARD | TB_F_PAGE_2M | TB_F_CMD_IRQ | TB_F_STATS);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_STATS_INTERVAL_MS), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BOOT_PAGES), RAM_PAGES);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), RAM_PAGES);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAX_RESERVATION), RAM_PAGES);
	/* ESX 3.0.1: 65% of guest memory */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAX_BALLOON), RAM_PAGES * 65 / 100);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_POLL_MS), 1000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BATCH_MAX), TB_BATCH_MAX);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_DRIVER_STATUS), 0);
	ck_assert_uint_eq(tbq_actual(q), RAM);
	/* identity in PCI config space too */
	ck_assert_uint_eq(tbq_pci_read(q, q->devfn, 0x08) & 0xff, TB_PCI_REVISION);
	check_accounting();
}
END_TEST

START_TEST(test_regs_properties_set_limits)
{
	start("max-balloon=130M,max-reservation=200M,poll-ms=250,"
	      "page-2m=off,discard=off");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAX_BALLOON), 130 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAX_RESERVATION), 200 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_POLL_MS), 250);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_FEATURES), TB_F_CMD_IRQ | TB_F_STATS);
	/* runtime changes show in the registers */
	qom_set("max-balloon", "8388608");
	qom_set("poll-ms", "50");
	qom_set("page-2m", "true");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAX_BALLOON), 2048);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_POLL_MS), 50);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_FEATURES),
			  TB_F_CMD_IRQ | TB_F_PAGE_2M | TB_F_STATS);
	ck_assert_uint_eq(tbq_qom_u64(q, "max-balloon"), 8 * MiB);
}
END_TEST

START_TEST(test_regs_readonly_writes_ignored)
{
	start("");
	tbq_set_reg(q, TB_REG_MAGIC, 0);
	tbq_set_reg(q, TB_REG_TARGET, 1);
	tbq_set_reg(q, TB_REG_BALLOON_PAGES, 5);
	tbq_set_reg(q, 0xff0, 5);
	ck_assert_uint_eq(tbq_reg(q, 0xff0), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), TB_MAGIC);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), RAM_PAGES);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	ck_assert_uint_eq(stat("guest-errors"), 5);
	/* 64-bit access to the batch address is split, low word first */
	tbq_cmd(q, "writeq 0x%" PRIx64 " 0x123456789abcd000", q->bar0 + TB_REG_BATCH_ADDR_LO);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BATCH_ADDR_LO), 0x9abcd000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BATCH_ADDR_HI), 0x12345678);
}
END_TEST

/* ---- guest figures (TB_F_STATS) ---------------------------------------- */

#define STATS_PAGE	0x200000ull	/* the stats page, guest-physical */

static void put_stat(unsigned char *page, unsigned int i, uint16_t tag,
		     uint64_t v)
{
	unsigned char *e = page + 16 + 16 * i;

	memset(e, 0, 16);
	for (int b = 0; b < 2; b++)
		e[b] = tag >> (8 * b);
	for (int b = 0; b < 8; b++)
		e[8 + b] = v >> (8 * b);
}

static void put_hdr(unsigned char *page, uint32_t count, uint32_t seq)
{
	memset(page, 0, 16);
	for (int b = 0; b < 4; b++) {
		page[b] = count >> (8 * b);
		page[4 + b] = seq >> (8 * b);
	}
}

static json_t *guest_stats(void)
{
	return tbq_qmp(q, "{\"execute\":\"qom-get\",\"arguments\":"
		       "{\"path\":\"/machine/peripheral/b\",\"property\":"
		       "\"guest-stats\"}}");
}

START_TEST(test_stats_interval_set_raises_irq_and_report_is_kept)
{
	unsigned char page[4096] = { 0 };
	json_t *gs;

	start("guest-stats-interval-ms=500");
	tbq_intercept_irqs(q);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_STATS_INTERVAL_MS), 500);
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_ALL);
	ck_assert_int_eq(tbq_irq(q), 0);
	qom_set("guest-stats-interval-ms", "250");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_STATS_INTERVAL_MS), 250);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), TB_IRQ_STATS);
	ck_assert_int_eq(tbq_irq(q), 1);
	tbq_set_reg(q, TB_REG_IRQ_ACK, TB_IRQ_STATS);
	ck_assert_int_eq(tbq_irq(q), 0);

	/* nothing reported yet: no figures, last-update 0 */
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 0);
	ck_assert_uint_eq(tbq_json_u64(gs, "last-update"), 0);
	ck_assert_uint_eq(json_object_size(json_object_get(gs, "stats")), 0);
	json_decref(gs);

	put_stat(page, 0, TB_GS_AVAILABLE, 100 * MiB);
	put_stat(page, 1, TB_GS_FREE, 90 * MiB);
	put_stat(page, 2, TB_GS_PSI_SOME_AVG10, 1250);
	put_hdr(page, 3, 7);
	tbq_memwrite(q, STATS_PAGE, page, sizeof(page));
	tbq_clock_step(q, 1000000);
	tbq_set_reg(q, TB_REG_STATS_REPORT, STATS_PAGE >> TB_PAGE_SHIFT);
	tbq_clock_step(q, 3000000);
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 1);
	ck_assert_uint_eq(tbq_json_u64(gs, "seq"), 7);
	ck_assert_uint_eq(tbq_json_u64(gs, "interval-ms"), 250);
	ck_assert_uint_eq(tbq_json_u64(gs, "stats.stat-available-memory"),
			  100 * MiB);
	ck_assert_uint_eq(tbq_json_u64(gs, "stats.stat-free-memory"), 90 * MiB);
	ck_assert_uint_eq(tbq_json_u64(gs, "stats.stat-psi-some-avg10"), 1250);
	ck_assert_uint_ne(tbq_json_u64(gs, "last-update"), 0);
	/* its age on the virtual clock: the 3 ms stepped since */
	ck_assert_uint_eq(tbq_json_u64(gs, "clock-ns") -
			  tbq_json_u64(gs, "last-update-ns"), 3000000);
	ck_assert_uint_eq(json_object_size(json_object_get(gs, "stats")), 3);
	json_decref(gs);

	/* the next report replaces the figures: free is gone */
	put_hdr(page, 1, 8);
	tbq_memwrite(q, STATS_PAGE, page, 16);
	tbq_set_reg(q, TB_REG_STATS_REPORT, STATS_PAGE >> TB_PAGE_SHIFT);
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 2);
	ck_assert_uint_eq(json_object_size(json_object_get(gs, "stats")), 1);
	ck_assert_ptr_null(json_object_get(json_object_get(gs, "stats"),
					   "stat-free-memory"));
	json_decref(gs);
}
END_TEST

/*
 * A hostile guest: garbage tags, a count of 2^32 - 1, PSI above 100 %, a
 * stats page on our own BAR and past RAM, then a flood of 20000 reports.
 * The device keeps what it knows, counts what it skipped, never reads
 * more than one page's TB_STATS_MAX entries, and answers on.
 */
START_TEST(test_stats_hostile_guest_garbage_huge_count_and_flood)
{
	unsigned char page[4096];
	struct timespec t0, t1;
	json_t *gs;
	int i;

	start("guest-stats-interval-ms=100");
	for (i = 0; i < 255; i++)
		put_stat(page, i, i == 3 ? TB_GS_OOM_KILLS :
			 i == 4 ? TB_GS_PSI_FULL_AVG10 : 0x8000 + i,
			 i == 4 ? 10001 : i == 5 ? UINT64_MAX :
			 0x0eadbeefcafef00dull);
	put_hdr(page, 0xffffffffu, 1);
	tbq_memwrite(q, STATS_PAGE, page, sizeof(page));
	tbq_set_reg(q, TB_REG_STATS_REPORT, STATS_PAGE >> TB_PAGE_SHIFT);
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 1);
	ck_assert_uint_eq(tbq_json_u64(gs, "truncated-reports"), 1);
	ck_assert_uint_eq(tbq_json_u64(gs, "skipped-entries"), TB_STATS_MAX - 1);
	ck_assert_uint_eq(tbq_json_u64(gs, "stats.stat-oom-kills"),
			  0x0eadbeefcafef00dull);
	ck_assert_uint_eq(json_object_size(json_object_get(gs, "stats")), 1);
	json_decref(gs);

	/* not RAM: our own BAR, and past the end of guest memory */
	tbq_set_reg(q, TB_REG_STATS_REPORT, q->bar0 >> TB_PAGE_SHIFT);
	tbq_set_reg(q, TB_REG_STATS_REPORT, 0xffffffffu);
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "bad-reports"), 2);
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 1);
	json_decref(gs);
	ck_assert_uint_eq(stat("guest-errors"), 2);

	/* a flood: each report costs one page read, nothing queues */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20000; i++)
		tbq_set_reg(q, TB_REG_STATS_REPORT, STATS_PAGE >> TB_PAGE_SHIFT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	gs = guest_stats();
	ck_assert_uint_eq(tbq_json_u64(gs, "reports"), 20001);
	json_decref(gs);
	/* and the device still does its job */
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_4K), TB_ST_OK);
	fprintf(stderr, "stats flood: 20000 reports in %.2f s\n",
		(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}
END_TEST

/* ---- targets ------------------------------------------------------------ */

START_TEST(test_target_qmp_balloon_raises_irq)
{
	uint32_t gen;

	start("");
	tbq_intercept_irqs(q);
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_TARGET);
	ck_assert_int_eq(tbq_irq(q), 0);
	gen = tbq_reg(q, TB_REG_GENERATION);

	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    192 * MiB));
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 192 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 1);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), TB_IRQ_TARGET);
	ck_assert_int_eq(tbq_irq(q), 1);

	/* acknowledged: line drops */
	tbq_set_reg(q, TB_REG_IRQ_ACK, TB_IRQ_TARGET);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), 0);
	ck_assert_int_eq(tbq_irq(q), 0);

	/* pending but masked: line stays low until enabled */
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, 0);
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    128 * MiB));
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 2);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), TB_IRQ_TARGET);
	ck_assert_int_eq(tbq_irq(q), 0);
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_TARGET);
	ck_assert_int_eq(tbq_irq(q), 1);
	/* the target is a request: the balloon itself has not moved */
	check_accounting();
	ck_assert_uint_eq(tbq_actual(q), RAM);
}
END_TEST

START_TEST(test_target_qom_set_and_above_ram)
{
	uint32_t gen;

	start("");
	gen = tbq_reg(q, TB_REG_GENERATION);
	qom_set("target", "104857600");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 25600);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 1);
	ck_assert_uint_eq(tbq_qom_u64(q, "target"), 104857600);
	/* above boot RAM is allowed: the guest clips */
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    1024 * MiB));
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 1024 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 2);
	ck_assert_uint_eq(tbq_qom_u64(q, "target"), 1024 * MiB);
}
END_TEST

START_TEST(test_target_hmp_balloon_and_info)
{
	json_t *r;
	uint32_t gen;

	start("");
	ready();
	gen = tbq_reg(q, TB_REG_GENERATION);
	/* HMP takes MiB */
	json_decref(tbq_qmp(q, "{\"execute\":\"human-monitor-command\","
			    "\"arguments\":{\"command-line\":\"balloon 100\"}}"));
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 100 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 1);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	r = tbq_qmp(q, "{\"execute\":\"human-monitor-command\","
		    "\"arguments\":{\"command-line\":\"info balloon\"}}");
	ck_assert_str_eq(json_string_value(r), "balloon: actual=254\r\n");
	json_decref(r);
}
END_TEST

/* ---- inflate / deflate ---------------------------------------------------- */

START_TEST(test_inflate_accepts_4k_and_2m)
{
	struct tb_entry e[2] = { ent(PFN_2M(64), TB_ORDER_2M), ent(0x3fff, TB_ORDER_4K) };
	json_t *data = NULL;

	start("");
	ready();
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_CMD_DONE);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_OK);
	ck_assert_uint_eq(e[1].status, TB_ST_OK);
	ck_assert_uint_eq(e[0].pfn, PFN_2M(64));	/* entry kept intact */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 2);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 513);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS) & TB_IRQ_CMD_DONE, TB_IRQ_CMD_DONE);
	ck_assert_uint_eq(tbq_actual(q), RAM - 513 * 4096);
	ck_assert_int_eq(tbq_count_events(q, "BALLOON_CHANGE", &data), 1);
	ck_assert_uint_eq(json_integer_value(json_object_get(data, "actual")),
			  RAM - 513 * 4096);
	check_accounting();
	ck_assert_uint_eq(stat("inflated-pages"), 513);
	ck_assert_uint_eq(stat("entries.inflate.ok"), 2);
	ck_assert_uint_eq(stat("commands.inflate"), 1);
	ck_assert_uint_eq(stat("results.ok"), 1);
	ck_assert_uint_eq(stat("discarded-pages"), 513);

	tbq_clear_events(q);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_OK);
	ck_assert_uint_eq(e[1].status, TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	flush_events();
	ck_assert_int_eq(tbq_count_events(q, "BALLOON_CHANGE", &data), 1);
	ck_assert_uint_eq(json_integer_value(json_object_get(data, "actual")), RAM);
	ck_assert_uint_eq(stat("deflated-pages"), 513);
	check_accounting();
}
END_TEST

START_TEST(test_inflate_refusal_reasons)
{
	struct tb_entry e[7] = {
		ent(RAM_PAGES, TB_ORDER_4K),		/* just past RAM */
		ent(0x100000, TB_ORDER_4K),		/* 4 GiB: no RAM there */
		ent(PFN_2M(64) + 1, TB_ORDER_2M),	/* unaligned 2M */
		ent(0x5000, 3),				/* order 3 */
		ent(0x5000, TB_ORDER_4K),		/* ok */
		ent(0x5000, TB_ORDER_4K),		/* duplicate: state */
		ent(PFN_2M(96), TB_ORDER_2M),		/* ok */
	};

	start("");
	ready();
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 7), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[1].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[2].status, TB_ST_ERR_ALIGN);
	ck_assert_uint_eq(e[3].status, TB_ST_ERR_ORDER);
	ck_assert_uint_eq(e[4].status, TB_ST_OK);
	ck_assert_uint_eq(e[5].status, TB_ST_ERR_STATE);
	ck_assert_uint_eq(e[6].status, TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 2);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 513);
	check_accounting();

	/* a 2M entry overlapping a ballooned 4K page: state */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x5000 & ~511ull, TB_ORDER_2M), TB_ST_ERR_STATE);
	/* deflating what is not in the balloon: state */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x7000, TB_ORDER_4K), TB_ST_ERR_STATE);
	/* a 2M deflate of a block with only one ballooned page: state */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x5000 & ~511ull, TB_ORDER_2M), TB_ST_ERR_STATE);

	ck_assert_uint_eq(stat("entries.inflate.range"), 2);
	ck_assert_uint_eq(stat("entries.inflate.align"), 1);
	ck_assert_uint_eq(stat("entries.inflate.order"), 1);
	ck_assert_uint_eq(stat("entries.inflate.state"), 2);
	ck_assert_uint_eq(stat("entries.deflate.state"), 2);
	ck_assert_uint_eq(stat("guest-errors"), 8);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 513);
}
END_TEST

START_TEST(test_inflate_2m_refused_when_not_offered)
{
	start("page-2m=off");
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_ERR_ORDER);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_4K), TB_ST_OK);
}
END_TEST

START_TEST(test_inflate_max_balloon_enforced)
{
	start("max-balloon=4M");
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(66), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(68), TB_ORDER_2M), TB_ST_ERR_MAX_BALLOON);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x3000, TB_ORDER_4K), TB_ST_ERR_MAX_BALLOON);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1024);
	/* the host raises the limit at run time */
	qom_set("max-balloon", "4198400");	/* 4 MiB + 1 page */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x3000, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x3001, TB_ORDER_4K), TB_ST_ERR_MAX_BALLOON);
	ck_assert_uint_eq(stat("entries.inflate.max-balloon"), 3);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1025);
}
END_TEST

START_TEST(test_inflate_refuse_every_nth)
{
	struct tb_entry e[6];
	int i;

	start("refuse-every=3");
	ready();
	for (i = 0; i < 6; i++)
		e[i] = ent(0x4000 + i, TB_ORDER_4K);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 6), TB_CMD_OK);
	for (i = 0; i < 6; i++)
		ck_assert_uint_eq(e[i].status, i % 3 == 2 ? TB_ST_ERR_FAULT : TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 4);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 4);
	ck_assert_uint_eq(stat("entries.inflate.fault"), 2);
	check_accounting();
}
END_TEST

START_TEST(test_inflate_refuse_all_at_run_time)
{
	start("");
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	qom_set("refuse-all", "true");
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4001, TB_ORDER_4K), TB_ST_ERR_FAULT);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(96), TB_ORDER_2M), TB_ST_ERR_FAULT);
	/* deflate is not affected */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	qom_set("refuse-all", "false");
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4001, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);
}
END_TEST

/* ---- host limits ---------------------------------------------------------- */

START_TEST(test_pool_partial_grants_follow_pool)
{
	struct tb_entry e[8];
	int i, ok;

	start("pool=0");
	ready();
	for (i = 0; i < 8; i++)
		e[i] = ent(0x4000 + i, TB_ORDER_4K);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 8), TB_CMD_OK);
	/* accepted pages went to the pool */
	ck_assert_uint_eq(tbq_qom_u64(q, "pool"), 8 * 4096);

	qom_set("pool", "12288");		/* host now has 3 pages */
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 8), TB_CMD_OK);
	for (i = 0, ok = 0; i < 8; i++) {
		ck_assert(e[i].status == TB_ST_OK || e[i].status == TB_ST_ERR_POOL);
		ok += e[i].status == TB_ST_OK;
	}
	ck_assert_int_eq(ok, 3);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 3);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 5);
	ck_assert_uint_eq(tbq_qom_u64(q, "pool"), 0);
	ck_assert_uint_eq(stat("partial-grants"), 1);
	ck_assert_uint_eq(stat("pages-short"), 5);
	check_accounting();

	qom_set("pool", "8192");		/* 2 more pages */
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 8), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 2);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 3);
	ck_assert_uint_eq(stat("partial-grants"), 2);
	ck_assert_uint_eq(stat("pages-short"), 8);
	ck_assert_uint_eq(stat("entries.deflate.pool"), 8);

	/* unlimited again: everything comes back */
	qom_set("pool", "18446744073709551615");
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 8), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 3);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	ck_assert_uint_eq(stat("partial-grants"), 2);
	check_accounting();
}
END_TEST

START_TEST(test_pool_2m_entry_needs_whole_entry)
{
	start("pool=0");
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	qom_set("pool", "2093056");		/* 511 pages */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_ERR_POOL);
	ck_assert_uint_eq(stat("pages-short"), 512);
	qom_set("pool", "2097152");
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
}
END_TEST

START_TEST(test_max_reservation_stops_deflate)
{
	struct tb_entry e[8];
	int i;

	/* RAM - 4 pages: only 4 of 8 ballooned pages may come back */
	start("max-reservation=268419072");
	ready();
	for (i = 0; i < 8; i++)
		e[i] = ent(0x4000 + i, TB_ORDER_4K);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 8), TB_CMD_OK);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 8), TB_CMD_OK);
	for (i = 0; i < 8; i++)
		ck_assert_uint_eq(e[i].status, i < 4 ? TB_ST_OK : TB_ST_ERR_MAX_RES);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 4);
	ck_assert_uint_eq(stat("entries.deflate.max-reservation"), 4);
	check_accounting();
}
END_TEST

/* ---- host memory ---------------------------------------------------------- */

/*
 * QEMU's RSS once the device's discard worker has done what was queued
 * (reading the stats waits for it, as DEFLATE does).
 */
static uint64_t rss_discarded(void)
{
	json_decref(tbq_stats(q));
	return tbq_rss(q);
}

START_TEST(test_memory_rss_drops_when_inflated)
{
	struct tb_entry *e = calloc(TB_BATCH_MAX, sizeof(*e));
	uint64_t touched = 64 * MiB, small = 4 * MiB, before, after;
	int i;

	start("");
	ready();
	/* 2 MiB entries: 64 MiB at 64 MiB */
	tbq_memset(q, 64 * MiB, touched, 0x5a);
	for (i = 0; i < 32; i++)
		e[i] = ent(PFN_2M(64 + 2 * i), TB_ORDER_2M);
	/* Touch the batch buffer and QEMU's qtest buffers before measuring:
	 * only the ballooned memory should move RSS. */
	tbq_memwrite(q, BATCH, e, 32 * sizeof(*e));
	before = tbq_rss(q);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 32), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 32);
	after = rss_discarded();
	ck_assert_msg(before > after && before - after >= touched * 95 / 100,
		      "RSS %llu -> %llu: dropped less than 95%% of %llu",
		      (unsigned long long)before, (unsigned long long)after,
		      (unsigned long long)touched);

	/* 4 KiB entries: one full batch, 4 MiB at 144 MiB */
	tbq_memset(q, 144 * MiB, small, 0xa5);
	for (i = 0; i < (int)TB_BATCH_MAX; i++)
		e[i] = ent(PFN_2M(144) + i, TB_ORDER_4K);
	tbq_memwrite(q, BATCH, e, TB_BATCH_MAX * sizeof(*e));
	before = tbq_rss(q);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, TB_BATCH_MAX), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), TB_BATCH_MAX);
	after = rss_discarded();
	ck_assert_msg(before > after && before - after >= small * 95 / 100,
		      "RSS %llu -> %llu: dropped less than 95%% of %llu",
		      (unsigned long long)before, (unsigned long long)after,
		      (unsigned long long)small);
	ck_assert_uint_eq(stat("discarded-pages"), 32 * 512 + TB_BATCH_MAX);
	check_accounting();
	free(e);
}
END_TEST

/*
 * A batch of scattered 4 KiB entries (every other page, as fragmented
 * free memory gives them, and a run of adjacent ones after them): 896 +
 * 128 entries.  Inflates it and checks that each accepted page, and only
 * those, reads zero and left the host, with @ranges discard ranges.
 * @before_stats: check the memory before reading the stats, which wait for
 * the worker (tb_discard_drain): done when the command is.
 */
static void scattered_4k_batch(uint64_t ranges, bool before_stats)
{
	struct tb_entry *e = calloc(TB_BATCH_MAX, sizeof(*e));
	uint64_t base = 144 * MiB, span = 8 * MiB, before, after;
	uint8_t page[4096];
	unsigned int i, n = 0;

	tbq_memset(q, base, span + 2 * MiB, 0x5a);
	for (i = 0; i < 896; i++)
		e[n++] = ent((base >> 12) + 2 * i, TB_ORDER_4K);
	for (i = 0; i < 128; i++)
		e[n++] = ent(((base + span) >> 12) + i, TB_ORDER_4K);
	tbq_memwrite(q, BATCH, e, n * sizeof(*e));
	before = tbq_rss(q);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, n), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), n);
	after = before_stats ? tbq_rss(q) : rss_discarded();
	ck_assert_msg(before > after && before - after >= n * 4096ull * 95 / 100,
		      "RSS %llu -> %llu: dropped less than 95%% of %u pages",
		      (unsigned long long)before, (unsigned long long)after, n);
	for (i = 0; i < 896; i += 111) {
		tbq_memread(q, base + 2 * i * 4096ull, page, sizeof(page));
		ck_assert_uint_eq(page[0], 0);
		ck_assert_uint_eq(page[4095], 0);
		tbq_memread(q, base + (2 * i + 1) * 4096ull, page, sizeof(page));
		ck_assert_uint_eq(page[0], 0x5a);
		ck_assert_uint_eq(page[4095], 0x5a);
	}
	tbq_memread(q, base + span + 127 * 4096ull, page, sizeof(page));
	ck_assert_uint_eq(page[100], 0);
	tbq_memread(q, base + span + 128 * 4096ull, page, sizeof(page));
	ck_assert_uint_eq(page[100], 0x5a);
	ck_assert_uint_eq(stat("discarded-pages"), n);
	ck_assert_uint_eq(stat("discard-failures"), 0);
	ck_assert_uint_eq(stat("discard-ranges"), ranges);
	check_accounting();
	free(e);
}

/* The worker (default): the 128 adjacent pages go as one range. */
START_TEST(test_memory_scattered_4k_batch_discards_each_page_only)
{
	start("");
	ready();
	scattered_4k_batch(896 + 1, false);
}
END_TEST

/*
 * discard-worker=off, set at run time as the bench does: the path before
 * the worker, one discard per entry (no ranges), all done when the
 * command completes.
 */
START_TEST(test_memory_discard_worker_off_discards_each_entry_before_done)
{
	start("");
	ready();
	qom_set("discard-worker", "false");
	scattered_4k_batch(1024, true);
}
END_TEST

static void fill_inflate_deflate(uint8_t *page)
{
	ready();
	tbq_memset(q, 0x4000ull << 12, 4096, 0x5a);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	tbq_memread(q, 0x4000ull << 12, page, 4096);
}

START_TEST(test_memory_deflated_pages_read_zero)
{
	uint8_t page[4096], zero[4096] = { 0 };

	start("");
	fill_inflate_deflate(page);
	ck_assert(memcmp(page, zero, sizeof(page)) == 0);
}
END_TEST

START_TEST(test_memory_kept_without_discard)
{
	uint8_t page[4096];

	start("discard=off");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_FEATURES) & TB_F_DISCARD, 0);
	fill_inflate_deflate(page);
	ck_assert_uint_eq(page[0], 0x5a);
	ck_assert_uint_eq(page[4095], 0x5a);
	ck_assert_uint_eq(stat("discarded-pages"), 0);
}
END_TEST

START_TEST(test_memory_ram_above_4g)
{
	/* 128 MiB below 4 GiB, 128 MiB at 4 GiB: pfns are guest-physical,
	 * the hole between is not RAM. */
	const char *extra[] = { "-machine", "max-ram-below-4g=128M", NULL };
	uint64_t high = 0x100000000ull;
	uint8_t page[4096], zero[4096] = { 0 };

	q = tbq_start("tb-balloon,id=b", extra);
	ready();
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BOOT_PAGES), RAM_PAGES);
	tbq_memset(q, high, 2 * MiB, 0x5a);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, high >> 12, TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, (high + 128 * MiB - 4096) >> 12, TB_ORDER_4K),
			  TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, (high + 128 * MiB) >> 12, TB_ORDER_4K),
			  TB_ST_ERR_RANGE);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(128), TB_ORDER_4K), TB_ST_ERR_RANGE);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(126), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1025);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, high >> 12, TB_ORDER_2M), TB_ST_OK);
	tbq_memread(q, high + MiB, page, sizeof(page));
	ck_assert(memcmp(page, zero, sizeof(page)) == 0);
	/* the low 2M block at 126 MiB is a different page from 4 GiB's */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, PFN_2M(126), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);
}
END_TEST

START_TEST(test_memory_numa_nodes_with_memdevs)
{
	/* Two NUMA nodes, each RAM from its own backend (what libvirt's
	 * <numa> cells make): machine RAM is then a container of the two,
	 * and entries in either node must inflate, discard the right page
	 * of the right backend, and deflate. */
	const char *extra[] = {
		"-object", "memory-backend-ram,id=m0,size=128M",
		"-object", "memory-backend-memfd,id=m1,size=128M,share=on",
		"-numa", "node,nodeid=0,memdev=m0",
		"-numa", "node,nodeid=1,memdev=m1", NULL };
	uint64_t n1 = 128 * MiB + 64 * MiB, n0 = 64 * MiB;
	uint8_t page[4096], zero[4096] = { 0 };

	q = tbq_start("tb-balloon,id=b", extra);
	ready();
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BOOT_PAGES), RAM_PAGES);
	/* The same offset in each backend: only node 1's may be discarded. */
	tbq_memset(q, n0, 2 * MiB, 0xa5);
	tbq_memset(q, n1, 2 * MiB, 0x5a);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, n1 >> 12, TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, (RAM - 4096) >> 12, TB_ORDER_4K),
			  TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(32), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1025);
	ck_assert_uint_eq(stat("discarded-pages"), 1025);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, n1 >> 12, TB_ORDER_2M), TB_ST_OK);
	tbq_memread(q, n1 + MiB, page, sizeof(page));
	ck_assert(memcmp(page, zero, sizeof(page)) == 0);
	tbq_memread(q, n0 + MiB, page, sizeof(page));
	ck_assert_uint_eq(page[0], 0xa5);
	ck_assert_uint_eq(page[4095], 0xa5);
}
END_TEST

/*
 * Huge pages: node 1 is 16 MiB of hugetlbfs (2 MiB host pages).  The
 * tcase's unchecked fixture, which runs in the parent whatever the test
 * does, reserves the few huge pages it needs (nr_hugepages + HUGE_FEW),
 * mounts a private hugetlbfs and gives both back after.
 */
#define HUGE_FEW	8
static long huge_before = -1;
static char huge_dir[64];

static long nr_hugepages(long set)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", set >= 0 ? "w" : "r");
	long n = -1;

	if (!f)
		return -1;
	if (set >= 0)
		n = fprintf(f, "%ld\n", set) > 0 ? set : -1;
	else if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	return fclose(f) ? -1 : n;
}

static void huge_setup(void)
{
	huge_before = nr_hugepages(-1);
	if (huge_before >= 0 && nr_hugepages(huge_before + HUGE_FEW) < 0)
		huge_before = -1;
	snprintf(huge_dir, sizeof(huge_dir), "/tmp/tbhuge.XXXXXX");
	if (!mkdtemp(huge_dir) ||
	    mount("none", huge_dir, "hugetlbfs", 0, "pagesize=2M"))
		huge_dir[0] = 0;
}

static void huge_teardown(void)
{
	char path[96];

	if (huge_dir[0]) {
		snprintf(path, sizeof(path), "%s/ram", huge_dir);
		unlink(path);
		umount(huge_dir);
		rmdir(huge_dir);
	}
	if (huge_before >= 0)
		nr_hugepages(huge_before);
}

/* 512-byte blocks the hugetlbfs file holds: its huge pages in use. */
static uint64_t huge_blocks(void)
{
	char path[96];

	snprintf(path, sizeof(path), "%s/ram", huge_dir);
	return tbq_file_blocks(path);
}

static uint64_t huge_stat(const char *what)
{
	char path[96];

	snprintf(path, sizeof(path), "ram-blocks.m1.%s", what);
	return stat(path);
}

/* Inflate 4 KiB pages @pfns[0..n) in one batch: each accepted. */
static void inflate_4k(const uint64_t *pfns, unsigned int n)
{
	struct tb_entry *e = calloc(n, sizeof(*e));
	unsigned int i;

	for (i = 0; i < n; i++)
		e[i] = ent(pfns[i], TB_ORDER_4K);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, n), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), n);
	free(e);
}

START_TEST(test_memory_hugetlbfs_partly_ballooned_host_pages)
{
	char mem[160];
	const char *extra[] = {
		"-object", "memory-backend-ram,id=m0,size=240M",
		"-object", mem,
		"-numa", "node,nodeid=0,memdev=m0",
		"-numa", "node,nodeid=1,memdev=m1", NULL };
	const uint64_t hp = 2 * MiB, a = 240 * MiB, b = a + hp, c = b + hp;
	const uint64_t per = hp >> 12;
	uint64_t pfns[TB_BATCH_MAX], blocks;
	uint8_t page[4096], zero[4096] = { 0 };
	unsigned int i;

	ck_assert_msg(huge_before >= 0 && huge_dir[0], "cannot reserve %d "
		      "huge pages and mount hugetlbfs (as root?)", HUGE_FEW);
	snprintf(mem, sizeof(mem), "memory-backend-file,id=m1,size=16M,"
		 "mem-path=%s/ram,share=on", huge_dir);
	q = tbq_start("tb-balloon,id=b", extra);
	ready();
	ck_assert_uint_eq(huge_stat("page-size"), hp);
	ck_assert_uint_eq(stat("ram-blocks.m0.page-size"), 4096);
	tbq_memset(q, a, 3 * hp, 0x5a);
	blocks = huge_blocks();
	ck_assert_uint_eq(blocks, 3 * hp / 512);

	/* 511 of host page A's 512: kept, its data still there. */
	for (i = 0; i < per - 1; i++)
		pfns[i] = (a >> 12) + i;
	inflate_4k(pfns, per - 1);
	ck_assert_uint_eq(stat("discarded-pages"), 0);
	ck_assert_uint_eq(huge_stat("partial-host-pages"), 1);
	ck_assert_uint_eq(huge_stat("balloon-pages"), per - 1);
	ck_assert_uint_eq(huge_blocks(), blocks);
	tbq_memread(q, a + hp - 4096, page, sizeof(page));
	ck_assert_uint_eq(page[0], 0x5a);
	/* Its last page, in a later batch: the whole host page goes. */
	pfns[0] = ((a + hp) >> 12) - 1;
	inflate_4k(pfns, 1);
	ck_assert_uint_eq(stat("discarded-pages"), per);
	ck_assert_uint_eq(huge_stat("partial-host-pages"), 0);
	ck_assert_uint_eq(huge_blocks(), blocks - hp / 512);

	/* B and C interleaved, page by page, over two batches (one
	 * PartiallyBalloonedPage gives each up when the other comes). */
	for (i = 0; i < per; i++) {
		pfns[2 * i] = (b >> 12) + i;
		pfns[2 * i + 1] = (c >> 12) + i;
	}
	inflate_4k(pfns, per);
	ck_assert_uint_eq(huge_stat("partial-host-pages"), 2);
	ck_assert_uint_eq(stat("discarded-pages"), per);
	inflate_4k(pfns + per, per);
	ck_assert_uint_eq(huge_stat("partial-host-pages"), 0);
	ck_assert_uint_eq(stat("discarded-pages"), 3 * per);
	ck_assert_uint_eq(huge_blocks(), 0);
	ck_assert_uint_eq(stat("discard-failures"), 0);

	/* A page given back reads zero (a new host page faults in). */
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, (b >> 12) + 7, TB_ORDER_4K),
			  TB_ST_OK);
	tbq_memread(q, b + 7 * 4096, page, sizeof(page));
	ck_assert(memcmp(page, zero, sizeof(page)) == 0);
	ck_assert_uint_eq(huge_stat("partial-host-pages"), 1);
	/* A whole aligned 2 MiB entry is one host page: discarded at once. */
	tbq_memset(q, c + hp, hp, 0x5a);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, (c + hp) >> 12, TB_ORDER_2M),
			  TB_ST_OK);
	ck_assert_uint_eq(stat("discarded-pages"), 4 * per);
	ck_assert_uint_eq(huge_stat("balloon-pages"), 4 * per - 1);
	ck_assert_uint_eq(stat("ram-blocks.m0.balloon-pages"), 0);
}
END_TEST

/* ---- malformed commands --------------------------------------------------- */

/* After any mistake the device still does real work. */
static void check_still_works(void)
{
	uint32_t pages = tbq_reg(q, TB_REG_BALLOON_PAGES);

	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), TB_MAGIC);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x7777, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), pages + 1);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x7777, TB_ORDER_4K), TB_ST_OK);
	check_accounting();
}

static uint32_t raw_cmd(uint64_t addr, uint32_t count, uint32_t cmd)
{
	tbq_set_reg(q, TB_REG_BATCH_ADDR_LO, (uint32_t)addr);
	tbq_set_reg(q, TB_REG_BATCH_ADDR_HI, (uint32_t)(addr >> 32));
	tbq_set_reg(q, TB_REG_BATCH_COUNT, count);
	tbq_set_reg(q, TB_REG_COMMAND, cmd);
	return tbq_reg(q, TB_REG_CMD_STATUS);
}

START_TEST(test_memory_2m_above_unaligned_low_ram)
{
	/* RAM below 4 GiB ends at 129 MiB: RAM above starts at an odd
	 * RAM offset, but 2 MiB alignment is the guest-physical one. */
	const char *extra[] = { "-machine", "max-ram-below-4g=129M", NULL };

	q = tbq_start("tb-balloon,id=b", extra);
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x100000, TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x100000 + 512 + 1, TB_ORDER_2M),
			  TB_ST_ERR_ALIGN);
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(128), TB_ORDER_2M),
			  TB_ST_ERR_RANGE);	/* crosses 129 MiB into the hole */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 512);
}
END_TEST

START_TEST(test_cmd_not_ready_refused)
{
	struct tb_entry e = ent(0x4000, TB_ORDER_4K);

	start("");
	tbq_memwrite(q, BATCH, &e, sizeof(e));
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_INFLATE), TB_CMD_ERR_NOT_READY);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	tbq_memread(q, BATCH, &e, sizeof(e));
	ck_assert_uint_eq(e.status, TB_ST_PENDING);	/* untouched */
	ck_assert_uint_eq(stat("results.not-ready"), 1);
	ready();
	check_still_works();
}
END_TEST

START_TEST(test_cmd_unknown_refused)
{
	start("");
	ready();
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_NR), TB_CMD_ERR_UNKNOWN);
	ck_assert_uint_eq(raw_cmd(BATCH, 1, 0xffffffff), TB_CMD_ERR_UNKNOWN);
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_NOP), TB_CMD_OK);
	ck_assert_uint_eq(stat("commands.unknown"), 2);
	ck_assert_uint_eq(stat("results.unknown-command"), 2);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_bad_count_refused)
{
	struct tb_entry e = ent(0x4000, TB_ORDER_4K);

	start("");
	ready();
	tbq_memwrite(q, BATCH, &e, sizeof(e));
	ck_assert_uint_eq(raw_cmd(BATCH, 0, TB_CMD_INFLATE), TB_CMD_ERR_COUNT);
	ck_assert_uint_eq(raw_cmd(BATCH, TB_BATCH_MAX + 1, TB_CMD_INFLATE), TB_CMD_ERR_COUNT);
	ck_assert_uint_eq(raw_cmd(BATCH, 0xffffffff, TB_CMD_DEFLATE), TB_CMD_ERR_COUNT);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	ck_assert_uint_eq(stat("results.bad-count"), 3);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_batch_outside_ram_refused)
{
	start("");
	ready();
	/* past the end of RAM, in the PCI hole, at the top of the space */
	ck_assert_uint_eq(raw_cmd(RAM, 1, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(raw_cmd(0x100000000ull, 1, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(raw_cmd(0xfffffffffffff000ull, TB_BATCH_MAX, TB_CMD_INFLATE),
			  TB_CMD_ERR_ADDR);
	/* straddling the end of RAM */
	ck_assert_uint_eq(raw_cmd(RAM - 16, 2, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	/* the BIOS ROM is not writable RAM */
	ck_assert_uint_eq(raw_cmd(0xfffff000ull, 1, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(stat("results.bad-address"), 5);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_batch_on_own_bar_refused)
{
	start("");
	ready();
	ck_assert_uint_eq(raw_cmd(q->bar0, 4, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(raw_cmd(q->bar0 + TB_REG_COMMAND, 1, TB_CMD_DEFLATE),
			  TB_CMD_ERR_ADDR);
	/* registers intact: nothing was read or written through the BAR */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_DRIVER_STATUS), TB_DRIVER_READY);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_ENABLE), 0);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_bus_master_off_refused)
{
	struct tb_entry e = ent(0x4000, TB_ORDER_4K);

	start("");
	ready();
	tbq_memwrite(q, BATCH, &e, sizeof(e));
	tbq_pci_write(q, q->devfn, 0x04, 0x0002);	/* memory space only */
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_INFLATE), TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	tbq_pci_write(q, q->devfn, 0x04, 0x0006);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_bad_entries_answered)
{
	struct tb_entry e[6] = {
		ent(0xffffffffffffull, TB_ORDER_4K),	/* far out of range */
		ent(0xfffffffffffffe00ull, TB_ORDER_2M),/* overflows */
		ent(0x4000, TB_ORDER_4K),
		ent(0x4000, TB_ORDER_4K),		/* duplicate */
		ent(PFN_2M(64) + 256, TB_ORDER_2M),	/* unaligned 2M */
		ent(0x4000, 255),			/* bad order */
	};

	start("");
	ready();
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 6), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[1].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[2].status, TB_ST_OK);
	ck_assert_uint_eq(e[3].status, TB_ST_ERR_STATE);
	ck_assert_uint_eq(e[4].status, TB_ST_ERR_ALIGN);
	ck_assert_uint_eq(e[5].status, TB_ST_ERR_ORDER);
	check_accounting();
	/* inflating a ballooned page, deflating a non-ballooned one */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4000, TB_ORDER_4K), TB_ST_ERR_STATE);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x4001, TB_ORDER_4K), TB_ST_ERR_STATE);
	/* deflate duplicates: second one is no longer in the balloon */
	e[0] = ent(0x4000, TB_ORDER_4K);
	e[1] = ent(0x4000, TB_ORDER_4K);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_OK);
	ck_assert_uint_eq(e[1].status, TB_ST_ERR_STATE);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	check_still_works();
}
END_TEST

START_TEST(test_cmd_reply_delay_busy_then_done)
{
	struct tb_entry e = ent(0x4000, TB_ORDER_4K);

	start("reply-delay-ms=10");
	ready();
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_CMD_DONE);
	tbq_memwrite(q, BATCH, &e, sizeof(e));
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_INFLATE), TB_CMD_BUSY);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS) & TB_IRQ_CMD_DONE, 0);
	/* a second command while busy is dropped */
	ck_assert_uint_eq(raw_cmd(BATCH, 1, TB_CMD_DEFLATE), TB_CMD_BUSY);
	ck_assert_uint_eq(stat("results.busy"), 1);
	tbq_clock_step(q, 5 * 1000 * 1000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_STATUS), TB_CMD_BUSY);
	tbq_clock_step(q, 6 * 1000 * 1000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_STATUS), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 1);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS) & TB_IRQ_CMD_DONE, TB_IRQ_CMD_DONE);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);
	tbq_memread(q, BATCH, &e, sizeof(e));
	ck_assert_uint_eq(e.status, TB_ST_OK);
	check_accounting();
}
END_TEST

/* ---- reset ---------------------------------------------------------------- */

START_TEST(test_reset_command_empties_balloon)
{
	json_t *data = NULL;

	start("");
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	tbq_clear_events(q);
	ck_assert_uint_eq(raw_cmd(BATCH, 0, TB_CMD_RESET), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	flush_events();
	ck_assert_int_eq(tbq_count_events(q, "BALLOON_CHANGE", &data), 1);
	ck_assert_uint_eq(json_integer_value(json_object_get(data, "actual")), RAM);
	check_accounting();
	/* the page can be inflated again */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	/* driver unload (READY cleared) empties it too */
	tbq_set_reg(q, TB_REG_DRIVER_STATUS, 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	check_accounting();
}
END_TEST

START_TEST(test_reset_system_reset_empties_balloon)
{
	int i;

	start("");
	ready();
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    200 * MiB));
	ck_assert_uint_eq(one(TB_CMD_INFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	tbq_clear_events(q);
	json_decref(tbq_qmp(q, "{\"execute\":\"system_reset\"}"));
	for (i = 0; i < 100 && !tbq_count_events(q, "RESET", NULL); i++) {
		usleep(20000);
		json_decref(tbq_qmp(q, "{\"execute\":\"query-status\"}"));
	}
	ck_assert_msg(tbq_count_events(q, "RESET", NULL), "no RESET event");
	tbq_enable_device(q);	/* reset cleared BAR and command register */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_DRIVER_STATUS), 0);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 200 * MiB >> 12);
	check_accounting();
	ready();
	check_still_works();
}
END_TEST

/* ---- migration ------------------------------------------------------------ */

static void wait_migrated(void)
{
	int i;

	for (i = 0; i < 500; i++) {
		json_t *r = tbq_qmp(q, "{\"execute\":\"query-migrate\"}");
		const char *st = json_string_value(json_object_get(r, "status"));
		int done = st && strcmp(st, "completed") == 0;

		ck_assert_msg(!st || strcmp(st, "failed") != 0, "migration failed");
		json_decref(r);
		if (done)
			return;
		usleep(20000);
	}
	ck_abort_msg("migration did not complete");
}

START_TEST(test_migration_keeps_balloon)
{
	const char *dev = "tb-balloon,id=b,pool=0";
	char file[160], inc[200];
	const char *extra[3];
	struct tb_entry e[2] = { ent(PFN_2M(64), TB_ORDER_2M), ent(0x3fff, TB_ORDER_4K) };
	uint32_t gen, pages;
	uint64_t actual;

	q = tbq_start(dev, NULL);
	ready();
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    200 * MiB));
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 2), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 2);
	gen = tbq_reg(q, TB_REG_GENERATION);
	pages = tbq_reg(q, TB_REG_BALLOON_PAGES);
	actual = tbq_actual(q);

	snprintf(file, sizeof(file), "%s/state", q->dir);
	json_decref(tbq_qmp(q, "{\"execute\":\"migrate\",\"arguments\":"
			    "{\"uri\":\"exec:cat > %s\"}}", file));
	wait_migrated();

	{
		struct tbq *src = q;
		char keep[160];

		/* the state file lives in src's dir: move it beside, to outlive
		 * src's clean-up */
		snprintf(keep, sizeof(keep), "%s.state", q->dir);
		ck_assert_int_eq(rename(file, keep), 0);
		q = NULL;
		tbq_stop(src);
		snprintf(inc, sizeof(inc), "exec:cat %s", keep);
		extra[0] = "-incoming";
		extra[1] = inc;
		extra[2] = NULL;
		q = tbq_start_raw(dev, extra);
		q->bar0 = TBQ_BAR0;
		for (int i = 0; i < 500; i++) {
			json_t *r = tbq_qmp(q, "{\"execute\":\"query-status\"}");
			int in = strcmp(json_string_value(json_object_get(r, "status")),
					"inmigrate") == 0;

			json_decref(r);
			if (!in)
				break;
			usleep(20000);
		}
		unlink(keep);
	}
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), TB_MAGIC);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), pages);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 200 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_DRIVER_STATUS), TB_DRIVER_READY);
	ck_assert_uint_eq(tbq_actual(q), actual);
	ck_assert_uint_eq(tbq_qom_u64(q, "pool"), 513 * 4096);
	ck_assert_uint_eq(stat("inflated-pages"), 513);
	check_accounting();
	/* the bitmap came along: same pages are in, others are not */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x3fff, TB_ORDER_4K), TB_ST_ERR_STATE);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, 0x3ffe, TB_ORDER_4K), TB_ST_ERR_STATE);
	ck_assert_uint_eq(one(TB_CMD_DEFLATE, PFN_2M(64), TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);
}
END_TEST

/*
 * A saved stream to corrupt: 513 pages in the balloon (a 2 MiB and a
 * 4 KiB entry), target 200 MiB, and with @busy a third inflate still
 * running (reply-delay-ms) when it is saved.  Written to @path.
 */
#define MIG_DEV "tb-balloon,id=b,pool=0"

static void save_stream(bool busy, char *path, size_t cap)
{
	struct tb_entry e[2] = { ent(PFN_2M(64), TB_ORDER_2M), ent(0x3fff, TB_ORDER_4K) };
	struct tb_entry third = ent(0x3000, TB_ORDER_4K);
	char file[160];
	struct tbq *src;

	q = tbq_start(MIG_DEV, NULL);
	ready();
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    200 * MiB));
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 2), TB_CMD_OK);
	if (busy) {
		qom_set("reply-delay-ms", "50");
		tbq_memwrite(q, BATCH + 0x1000, &third, sizeof(third));
		ck_assert_uint_eq(raw_cmd(BATCH + 0x1000, 1, TB_CMD_INFLATE), TB_CMD_BUSY);
	}
	snprintf(file, sizeof(file), "%s/state", q->dir);
	json_decref(tbq_qmp(q, "{\"execute\":\"migrate\",\"arguments\":"
			    "{\"uri\":\"exec:cat > %s\"}}", file));
	wait_migrated();
	snprintf(path, cap, "%s.state", q->dir);
	ck_assert_int_eq(rename(file, path), 0);
	src = q;
	q = NULL;
	tbq_stop(src);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_msg(f, "%s: %m", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n);
	ck_assert(buf && fread(buf, 1, n, f) == (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0, "%s: %m", path);
}

static uint64_t be_get(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void be_put(unsigned char *p, int n, uint64_t v)
{
	while (n--) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

/* Offset of the first @needle in @buf (the binary sections come before
 * the JSON description at the end of the stream, which names them too). */
static size_t find(const unsigned char *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for (i = 0; i + n <= len; i++)
		if (!memcmp(buf + i, needle, n))
			return i;
	ck_abort_msg("'%s' not in the stream", needle);
	return 0;
}

/*
 * Our section's fields, as vmstate_tb_balloon lays them out: after
 * ".../tb-balloon", instance id and version (4 bytes each), the PCI
 * device (version 4, config 256, irq state 16), then target.
 */
#define MIG_PCI_STATE		276
#define MIG_OFF_CMD_STATUS	(8 + 4 * 4)
#define MIG_OFF_MAP_WORDS	(8 + 9 * 4)
#define MIG_OFF_MAP		(MIG_OFF_MAP_WORDS + 4)

static size_t fields_at(const unsigned char *buf, size_t len)
{
	size_t at = find(buf, len, "/tb-balloon") + strlen("/tb-balloon") + 8 + MIG_PCI_STATE;

	ck_assert_uint_eq(be_get(buf + at, 8), 200 * MiB);	/* target: found */
	return at;
}

static size_t balloon_pages_at(const unsigned char *buf, size_t len)
{
	size_t f = fields_at(buf, len);
	uint64_t words = be_get(buf + f + MIG_OFF_MAP_WORDS, 4);

	ck_assert_uint_eq(words, RAM_PAGES / 64);
	return f + MIG_OFF_MAP + words * 8;
}

/* pending_cmd: the first field of subsection "tb-balloon/pending". */
static size_t pending_cmd_at(const unsigned char *buf, size_t len)
{
	return find(buf, len, "tb-balloon/pending") + strlen("tb-balloon/pending") + 4;
}

/*
 * Load @path into a new QEMU (-incoming) and expect it to refuse: QEMU
 * exits with an error naming @why, not a signal.  If the load is taken,
 * virtual time is stepped so a pending command would run (a stream with
 * a bad command aborted QEMU there).
 */
static void expect_load_refused(const char *path, const char *why)
{
	const char *extra[3];
	char inc[200], *log;
	int st;

	snprintf(inc, sizeof(inc), "exec:cat %s", path);
	extra[0] = "-incoming";
	extra[1] = inc;
	extra[2] = NULL;
	q = tbq_spawn(MIG_DEV, extra);
	st = tbq_wait_exit(q, 3000);
	if (st == -1) {
		/* Loaded: let a pending command run (no reply awaited). */
		const char *step = "clock_step 1000000000\n";

		(void)!send(q->qt, step, strlen(step), MSG_NOSIGNAL);
		st = tbq_wait_exit(q, 3000);
	}
	log = tbq_read_log(q);
	unlink(path);
	ck_assert_msg(st != -1, "QEMU took the corrupt stream and runs on; its log:\n%s", log);
	ck_assert_msg(!WIFSIGNALED(st), "QEMU was killed by signal %d loading a corrupt stream:\n%s",
		      WTERMSIG(st), log);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0, "QEMU exited %d:\n%s",
		      WEXITSTATUS(st), log);
	ck_assert_msg(strstr(log, why), "QEMU's log does not say '%s':\n%s", why, log);
	ck_assert_msg(strstr(log, "load of migration failed"), "no load failure in:\n%s", log);
	free(log);
}

START_TEST(test_migration_busy_command_finishes_after_load)
{
	const char *extra[3];
	char path[200], inc[220];
	int i;

	save_stream(true, path, sizeof(path));
	snprintf(inc, sizeof(inc), "exec:cat %s", path);
	extra[0] = "-incoming";
	extra[1] = inc;
	extra[2] = NULL;
	q = tbq_start_raw(MIG_DEV, extra);
	q->bar0 = TBQ_BAR0;
	for (i = 0; i < 500; i++) {
		json_t *r = tbq_qmp(q, "{\"execute\":\"query-status\"}");
		int in = strcmp(json_string_value(json_object_get(r, "status")),
				"inmigrate") == 0;

		json_decref(r);
		if (!in)
			break;
		usleep(20000);
	}
	unlink(path);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_STATUS), TB_CMD_BUSY);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 513);
	tbq_clock_step(q, 1000ull * 1000 * 1000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_STATUS), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 1);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 514);
	check_accounting();
}
END_TEST

START_TEST(test_migration_corrupt_pending_cmd_refused)
{
	unsigned char *buf;
	char path[200];
	size_t len, at;

	save_stream(true, path, sizeof(path));
	buf = slurp(path, &len);
	at = pending_cmd_at(buf, len);
	ck_assert_uint_eq(be_get(buf + at, 4), TB_CMD_INFLATE);
	be_put(buf + at, 4, TB_CMD_NR);		/* no such command */
	spit(path, buf, len);
	free(buf);
	expect_load_refused(path, "tb-balloon: incoming pending command 4");
}
END_TEST

START_TEST(test_migration_corrupt_balloon_count_refused)
{
	unsigned char *buf;
	char path[200];
	size_t len, at;

	save_stream(false, path, sizeof(path));
	buf = slurp(path, &len);
	at = balloon_pages_at(buf, len);
	ck_assert_uint_eq(be_get(buf + at, 8), 513);
	be_put(buf + at, 8, RAM_PAGES + 1);	/* "actual" would wrap */
	spit(path, buf, len);
	free(buf);
	expect_load_refused(path, "tb-balloon: incoming balloon of 65537 pages, but 513 in its bitmap");
}
END_TEST

START_TEST(test_migration_busy_without_pending_refused)
{
	unsigned char *buf;
	char path[200];
	size_t len, at;

	save_stream(false, path, sizeof(path));
	buf = slurp(path, &len);
	at = fields_at(buf, len) + MIG_OFF_CMD_STATUS;
	ck_assert_uint_eq(be_get(buf + at, 4), TB_CMD_OK);
	be_put(buf + at, 4, TB_CMD_BUSY);	/* busy forever: no timer */
	spit(path, buf, len);
	free(buf);
	expect_load_refused(path, "tb-balloon: incoming command busy, but no pending command");
}
END_TEST

static const char *migrate_status(void)
{
	static char st[32];
	json_t *r = tbq_qmp(q, "{\"execute\":\"query-migrate\"}");
	const char *s = json_string_value(json_object_get(r, "status"));

	snprintf(st, sizeof(st), "%s", s ? s : "none");
	json_decref(r);
	return st;
}

/*
 * A background snapshot write-protects guest RAM (userfaultfd) and saves
 * each page as it was when the snapshot began; a page discarded under it
 * loses that copy and its write tracking.  virtio-balloon holds discards
 * off meanwhile; so must we: the page enters the balloon, the host keeps
 * its memory until the snapshot is over.
 */
START_TEST(test_migration_background_snapshot_holds_discard_off)
{
	char file[160];
	json_t *r;
	int i;

	start("");
	ready();
	r = tbq_qmp_raw(q, "{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
			"{\"capabilities\":[{\"capability\":\"background-snapshot\","
			"\"state\":true}]}}");
	if (json_object_get(r, "error")) {
		/* Needs userfaultfd write-protection from the host kernel. */
		fprintf(stderr, "test_migration_background_snapshot_holds_discard_off: "
			"SKIPPED: %s\n", json_string_value(json_object_get(
				json_object_get(r, "error"), "desc")));
		json_decref(r);
		return;
	}
	json_decref(r);
	/* Slow enough to still run while we inflate (cancelled below). */
	json_decref(tbq_qmp(q, "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
			    "{\"max-bandwidth\":20000}}"));
	snprintf(file, sizeof(file), "%s/snapshot", q->dir);
	json_decref(tbq_qmp(q, "{\"execute\":\"migrate\",\"arguments\":"
			    "{\"uri\":\"exec:cat > %s\"}}", file));
	for (i = 0; i < 250 && strcmp(migrate_status(), "active"); i++)
		usleep(20000);
	ck_assert_str_eq(migrate_status(), "active");

	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	ck_assert_str_eq(migrate_status(), "active");
	ck_assert_uint_eq(stat("discarded-pages"), 0);
	ck_assert_uint_eq(stat("discards-held-off"), 1);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);

	json_decref(tbq_qmp(q, "{\"execute\":\"migrate_cancel\"}"));
	for (i = 0; i < 250 && strcmp(migrate_status(), "cancelled"); i++)
		usleep(20000);
	ck_assert_str_eq(migrate_status(), "cancelled");
	unlink(file);
	/* Over: the next page is discarded again. */
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4001, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(stat("discarded-pages"), 1);
	ck_assert_uint_eq(stat("discards-held-off"), 1);
	check_accounting();
}
END_TEST

/* ---- hostile settings: a device that lies to the driver ----------------- */

/* Entry @i's status byte in the batch buffer at BATCH. */
static uint8_t status_at(uint32_t i)
{
	struct tb_entry e;

	tbq_memread(q, BATCH + (uint64_t)i * sizeof(e), &e, sizeof(e));
	return e.status;
}

START_TEST(test_hostile_overgrant_claims_more_than_sent)
{
	struct tb_entry e[2] = { ent(0x4000, TB_ORDER_4K), ent(0x4001, TB_ORDER_4K) };
	uint32_t i;

	start("hostile-overgrant=on");
	ready();
	tbq_memset(q, BATCH, 16 * sizeof(struct tb_entry), 0);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 2), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 2 + 7);
	/* statuses for 8 entries never sent, nothing beyond */
	for (i = 2; i < 10; i++)
		ck_assert_uint_eq(status_at(i), TB_ST_OK);
	ck_assert_uint_eq(status_at(10), TB_ST_PENDING);
	/* the host itself does not believe the lie */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 2);
	ck_assert_uint_eq(stat("hostile.overgrants"), 1);
	ck_assert_uint_eq(stat("hostile.extra-statuses"), 8);
	check_accounting();

	/* a full batch has no room past its end: nothing written there */
	tbq_memset(q, BATCH + TB_BATCH_MAX * sizeof(struct tb_entry), 256, 0);
	tbq_set_reg(q, TB_REG_BATCH_COUNT, TB_BATCH_MAX);
	tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_DEFLATE);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), TB_BATCH_MAX + 7);
	ck_assert_uint_eq(status_at(TB_BATCH_MAX), 0);
	ck_assert_uint_eq(stat("hostile.extra-statuses"), 8);
	/* off at run time: the truth again */
	qom_set("hostile-overgrant", "false");
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x5000, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 1);
}
END_TEST

START_TEST(test_hostile_bad_status_garbles_replies)
{
	struct tb_entry e[4] = { ent(0x4000, 0), ent(0x4001, 0), ent(0x4002, 0),
				 ent(0x4003, 0) };

	start("");
	ready();
	qom_set("hostile-bad-status", "true");
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 4), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, 0xee);
	ck_assert_uint_eq(e[1].status, TB_ST_PENDING);
	ck_assert_uint_eq(e[2].status, TB_ST_OK);
	ck_assert_uint_eq(e[3].status, 0xee);
	/* the host's accounting follows its real decisions: all four in */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_CMD_DONE), 4);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 4);
	ck_assert_uint_eq(stat("entries.inflate.ok"), 4);
	ck_assert_uint_eq(stat("hostile.bad-statuses"), 3);
	check_accounting();
}
END_TEST

START_TEST(test_hostile_flap_ms_toggles_target)
{
	uint32_t gen;

	start("flap-ms=1");
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":{\"value\":%llu}}",
			    128 * MiB));
	tbq_set_reg(q, TB_REG_IRQ_ACK, TB_IRQ_TARGET);
	gen = tbq_reg(q, TB_REG_GENERATION);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 128 * MiB >> 12);
	tbq_clock_step(q, 1000 * 1000);		/* 1 ms: up to boot RAM */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), RAM_PAGES);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 1);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), TB_IRQ_TARGET);
	tbq_clock_step(q, 1000 * 1000);		/* and back */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 128 * MiB >> 12);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 2);
	tbq_clock_step(q, 98ull * 1000 * 1000);	/* 100 ms: 100 flaps */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen + 100);
	ck_assert_uint_eq(stat("hostile.target-flaps"), 100);
	/* off: the host's target is back and stays */
	tbq_clock_step(q, 1000 * 1000);
	qom_set("flap-ms", "0");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), 128 * MiB >> 12);
	gen = tbq_reg(q, TB_REG_GENERATION);
	tbq_clock_step(q, 10ull * 1000 * 1000);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_GENERATION), gen);
}
END_TEST

START_TEST(test_hostile_irq_storm_line_never_drops)
{
	int i;

	start("");
	tbq_intercept_irqs(q);
	tbq_set_reg(q, TB_REG_IRQ_ENABLE, TB_IRQ_TARGET | TB_IRQ_CMD_DONE);
	ck_assert_int_eq(tbq_irq(q), 0);
	qom_set("irq-storm", "true");
	ck_assert_int_eq(tbq_irq(q), 1);
	for (i = 0; i < 100; i++) {
		tbq_set_reg(q, TB_REG_IRQ_ACK, TB_IRQ_TARGET | TB_IRQ_CMD_DONE);
		ck_assert_uint_eq(tbq_reg(q, TB_REG_IRQ_STATUS), TB_IRQ_TARGET);
		ck_assert_int_eq(tbq_irq(q), 1);
	}
	ck_assert_uint_eq(stat("hostile.storm-irqs"), 101);
	/* spurious: no target change behind it */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_TARGET), RAM_PAGES);
	qom_set("irq-storm", "false");
	tbq_set_reg(q, TB_REG_IRQ_ACK, TB_IRQ_TARGET);
	ck_assert_int_eq(tbq_irq(q), 0);
}
END_TEST

START_TEST(test_hostile_keep_data_advertises_discard_keeps_contents)
{
	uint8_t page[4096];

	start("hostile-keep-data=on");
	ck_assert_uint_ne(tbq_reg(q, TB_REG_FEATURES) & TB_F_DISCARD, 0);
	fill_inflate_deflate(page);
	ck_assert_uint_eq(page[0], 0x5a);	/* the old data came back */
	ck_assert_uint_eq(page[4095], 0x5a);
	ck_assert_uint_eq(stat("discarded-pages"), 0);
	ck_assert_uint_eq(stat("hostile.kept-pages"), 1);
}
END_TEST

/* ACPI PCI hotplug of the pc machine: eject register, one bit per slot. */
#define ACPI_PCIHP_EJECT	0xae08

/* Events that follow an RCU grace period (DEVICE_DELETED) come later. */
static bool wait_event(const char *name)
{
	int i;

	for (i = 0; i < 500; i++) {
		json_decref(tbq_qmp(q, "{\"execute\":\"query-status\"}"));
		if (tbq_count_events(q, name, NULL))
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static bool device_present(const char *id)
{
	json_t *r = tbq_qmp_raw(q, "{\"execute\":\"qom-get\",\"arguments\":"
				"{\"path\":\"/machine/peripheral/%s\",\"property\":\"type\"}}", id);
	bool ok = json_object_get(r, "return") != NULL;

	json_decref(r);
	return ok;
}

START_TEST(test_hostile_boot_pages_and_bad_magic)
{
	start("hostile-boot-pages=1G");
	/* BOOT_PAGES lies; the host's own accounting does not. */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BOOT_PAGES), 1024 * MiB >> TB_PAGE_SHIFT);
	ck_assert_uint_eq(tbq_actual(q), RAM);
	ck_assert_uint_eq(tbq_qom_u64(q, "hostile-boot-pages"), 1024 * MiB);
	ready();
	ck_assert_uint_eq(one(TB_CMD_INFLATE, 0x4000, TB_ORDER_4K), TB_ST_OK);
	qom_set("hostile-boot-pages", "0");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BOOT_PAGES), RAM_PAGES);

	/* The next two reads of MAGIC are what a removed device gives. */
	qom_set("hostile-bad-magic", "2");
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), 0xffffffffu);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_VERSION), TB_VERSION);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), 0xffffffffu);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_MAGIC), TB_MAGIC);
	ck_assert_uint_eq(tbq_qom_u64(q, "hostile-bad-magic"), 0);
	ck_assert_uint_eq(stat("hostile.bad-magic-reads"), 2);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 1);
	check_accounting();
}
END_TEST

START_TEST(test_hotplug_unplug_full_balloon_then_add_again)
{
	struct tb_entry *e = calloc(TB_BATCH_MAX, sizeof(*e));
	json_t *r;
	int i;

	start("reply-delay-ms=50,flap-ms=5");
	ready();
	for (i = 0; i < (int)TB_BATCH_MAX; i++)
		e[i] = ent(0x4000 + i, TB_ORDER_4K);
	qom_set("reply-delay-ms", "0");
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, TB_BATCH_MAX), TB_CMD_OK);
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), TB_BATCH_MAX);
	/* a command still running and the flap timer armed when it goes */
	qom_set("reply-delay-ms", "50");
	tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_DEFLATE);
	ck_assert_uint_ne(tbq_reg(q, TB_REG_CMD_STATUS) & TB_CMD_BUSY, 0);

	tbq_clear_events(q);
	json_decref(tbq_qmp(q, "{\"execute\":\"device_del\",\"arguments\":{\"id\":\"b\"}}"));
	tbq_outl(q, ACPI_PCIHP_EJECT, 1u << (q->devfn >> 3));	/* the guest ejects */
	ck_assert_msg(wait_event("DEVICE_DELETED"), "no DEVICE_DELETED after the eject");
	ck_assert(!device_present("b"));
	/* its timers are gone with it: time passes, QEMU stays up */
	tbq_clock_step(q, 200ull * 1000 * 1000);
	r = tbq_qmp_raw(q, "{\"execute\":\"query-balloon\"}");
	ck_assert_msg(json_object_get(r, "error"), "query-balloon answered without a balloon");
	json_decref(r);

	/* a new one registers as the balloon again, empty */
	json_decref(tbq_qmp(q, "{\"execute\":\"device_add\",\"arguments\":"
			    "{\"driver\":\"tb-balloon\",\"id\":\"b\"}}"));
	ck_assert(device_present("b"));
	ck_assert_uint_eq(tbq_actual(q), RAM);
	ck_assert_uint_eq(tbq_qom_u64(q, "balloon-size"), 0);
	free(e);
}
END_TEST

/* ---- batch log ------------------------------------------------------------ */

/* qom-get batch-log from @from on (caller json_decref). */
static json_t *batch_log(uint64_t from)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, from);
	qom_set("batch-log-from", v);
	return tbq_qmp(q, "{\"execute\":\"qom-get\",\"arguments\":"
		       "{\"path\":\"/machine/peripheral/b\","
		       "\"property\":\"batch-log\"}}");
}

static json_t *rec_at(json_t *log, size_t i)
{
	json_t *r = json_array_get(json_object_get(log, "records"), i);

	ck_assert_msg(r, "batch-log: no record %zu", i);
	return r;
}

static const char *kind(json_t *rec)
{
	return json_string_value(json_object_get(rec, "kind"));
}

/*
 * What the harness does (harness/run/batches.c): sync with the log's
 * state, read from where the reader is, take what is new, until nothing
 * is; every read returns at most TB_BATCHLOG_READ_MAX records.  Returns
 * the records taken; *@seqs_ok: their numbers went up by one, but for
 * what the reader counted lost.
 */
static uint64_t drain(struct tb_batchlog_reader *rd, bool *seqs_ok)
{
	uint64_t taken = 0, prev = 0;

	*seqs_ok = true;
	for (;;) {
		json_t *log = batch_log(rd->next), *recs, *r;
		uint64_t from = tb_batchlog_reader_sync(rd,
			tbq_json_u64(log, "log-id"), tbq_json_u64(log, "first-seq"),
			tbq_json_u64(log, "next-seq"));
		size_t i, n;

		if (from != rd->next || from != tbq_json_u64(log, "from")) {
			json_decref(log);
			log = batch_log(from);
		}
		recs = json_object_get(log, "records");
		n = json_array_size(recs);
		ck_assert_uint_le(n, TB_BATCHLOG_READ_MAX);
		json_array_foreach(recs, i, r) {
			uint64_t seq = tbq_json_u64(r, "seq");
			uint64_t lost = rd->lost;

			if (!tb_batchlog_reader_take(rd, seq))
				continue;
			if (prev && seq != prev + 1 + (rd->lost - lost))
				*seqs_ok = false;
			prev = seq;
			taken++;
		}
		json_decref(log);
		if (!n)
			break;
	}
	return taken;
}

START_TEST(test_batchlog_records_commands_and_targets)
{
	struct tb_entry e[3] = {
		ent(PFN_2M(64), TB_ORDER_2M), ent(0x3fff, TB_ORDER_4K),
		ent(0x3ffe, TB_ORDER_4K),
	};
	uint64_t t_set, seq, t;
	json_t *log, *r;
	size_t i;

	start("pool=0");
	ready();
	tbq_clock_step(q, 1000000);
	json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":"
			    "{\"value\":201326592}}"));	/* 192 MiB */
	tbq_clock_step(q, 2000000);
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_INFLATE, e, 3), TB_CMD_OK);
	tbq_clock_step(q, 3000000);
	qom_set("pool", "8192");		/* 2 pages back, no more */
	ck_assert_uint_eq(tbq_batch(q, BATCH, TB_CMD_DEFLATE, e, 3), TB_CMD_OK);
	tbq_clock_step(q, 4000000);
	tbq_set_reg(q, TB_REG_BATCH_COUNT, 0);
	tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_INFLATE);	/* bad count */
	tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_RESET);
	tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_NOP);	/* not recorded */

	log = batch_log(0);
	ck_assert_uint_eq(tbq_json_u64(log, "first-seq"), 1);
	ck_assert_uint_eq(tbq_json_u64(log, "next-seq"), 6);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "records")), 5);
	ck_assert_uint_ne(tbq_json_u64(log, "log-id"), 0);

	r = rec_at(log, 0);
	ck_assert_str_eq(kind(r), "target");
	ck_assert_uint_eq(tbq_json_u64(r, "target-pages"), 49152);
	ck_assert_uint_eq(tbq_json_u64(r, "entries"), 0);
	t_set = tbq_json_u64(r, "t-ns");

	r = rec_at(log, 1);
	ck_assert_str_eq(kind(r), "inflate");
	ck_assert_uint_eq(tbq_json_u64(r, "t-ns") - t_set, 2000000);
	ck_assert_uint_eq(tbq_json_u64(r, "entries"), 3);
	ck_assert_uint_eq(tbq_json_u64(r, "pages-2m"), 1);
	ck_assert_uint_eq(tbq_json_u64(r, "pages-4k"), 2);
	ck_assert_uint_eq(tbq_json_u64(r, "granted"), 3);
	ck_assert_uint_eq(tbq_json_u64(r, "refused"), 0);
	ck_assert_uint_eq(tbq_json_u64(r, "balloon-pages"), 514);
	ck_assert_uint_eq(tbq_json_u64(r, "target-pages"), 49152);
	ck_assert_ptr_null(json_object_get(r, "result"));

	/* the pool has 2 pages: the 2 MiB entry is refused, the 4 KiB
	 * ones granted: a partial grant */
	r = rec_at(log, 2);
	ck_assert_str_eq(kind(r), "deflate");
	ck_assert_uint_eq(tbq_json_u64(r, "t-ns") - t_set, 5000000);
	ck_assert_uint_eq(tbq_json_u64(r, "granted"), 2);
	ck_assert_uint_eq(tbq_json_u64(r, "pages-4k"), 2);
	ck_assert_uint_eq(tbq_json_u64(r, "pages-2m"), 0);
	ck_assert_uint_eq(tbq_json_u64(r, "refused"), 1);
	ck_assert_uint_eq(tbq_json_u64(r, "partial"), 1);
	ck_assert_uint_eq(tbq_json_u64(r, "balloon-pages"), 512);

	r = rec_at(log, 3);
	ck_assert_str_eq(kind(r), "inflate");
	ck_assert_str_eq(json_string_value(json_object_get(r, "result")),
			 "bad-count");
	ck_assert_uint_eq(tbq_json_u64(r, "granted") +
			  tbq_json_u64(r, "refused"), 0);
	r = rec_at(log, 4);
	ck_assert_str_eq(kind(r), "reset");
	ck_assert_uint_eq(tbq_json_u64(r, "balloon-pages"), 0);
	ck_assert_uint_eq(tbq_json_u64(r, "t-ns") - t_set, 9000000);

	/* numbered one by one, in time order, on the virtual clock */
	for (i = 0, seq = 0, t = 0; i < 5; i++) {
		r = rec_at(log, i);
		ck_assert_uint_eq(tbq_json_u64(r, "seq"), ++seq);
		ck_assert_uint_ge(tbq_json_u64(r, "t-ns"), t);
		t = tbq_json_u64(r, "t-ns");
	}
	ck_assert_uint_ge(tbq_json_u64(log, "clock-ns"), t);
	json_decref(log);

	/* reading changed nothing; from 4 on: two records */
	log = batch_log(4);
	ck_assert_uint_eq(tbq_json_u64(log, "from"), 4);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "records")), 2);
	ck_assert_uint_eq(tbq_json_u64(rec_at(log, 0), "seq"), 4);
	json_decref(log);
	log = batch_log(6);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "records")), 0);
	json_decref(log);
}
END_TEST

/* A guest flooding commands fills the ring; the oldest go, the reader
 * says how many it lost, and every read stays bounded. */
START_TEST(test_batchlog_wraps_and_reports_lost)
{
	const unsigned int flood = TB_BATCHLOG_RECORDS + 100;
	struct tb_batchlog_reader rd;
	bool seqs_ok;
	unsigned int i;
	json_t *log;

	start("");
	ready();
	tb_batchlog_reader_init(&rd);
	qom_set("target", "134217728");
	ck_assert_uint_eq(drain(&rd, &seqs_ok), 1);
	tbq_set_reg(q, TB_REG_BATCH_COUNT, 0);
	for (i = 0; i < flood; i++) {
		tbq_clock_step(q, 1000);
		tbq_set_reg(q, TB_REG_COMMAND, TB_CMD_DEFLATE);	/* bad count */
	}
	log = batch_log(0);
	ck_assert_uint_eq(tbq_json_u64(log, "next-seq"), flood + 2);
	ck_assert_uint_eq(tbq_json_u64(log, "first-seq"),
			  flood + 2 - TB_BATCHLOG_RECORDS);
	json_decref(log);

	ck_assert_uint_eq(drain(&rd, &seqs_ok), TB_BATCHLOG_RECORDS);
	ck_assert(seqs_ok);
	ck_assert_uint_eq(rd.lost, flood - TB_BATCHLOG_RECORDS);
	ck_assert_uint_eq(rd.logs, 1);
	ck_assert_uint_eq(drain(&rd, &seqs_ok), 0);	/* all read */
	ck_assert_uint_eq(stat("commands.deflate"), flood);
}
END_TEST

static Suite *tb_balloon_suite(void)
{
	Suite *s = suite_create("tb-balloon");
	TCase *tc;

#define TC(name) \
	tc = tcase_create(name); \
	tcase_add_checked_fixture(tc, NULL, teardown); \
	tcase_set_timeout(tc, 60); \
	suite_add_tcase(s, tc)

	TC("registers");
	tcase_add_test(tc, test_regs_identity_and_defaults);
	tcase_add_test(tc, test_regs_properties_set_limits);
	tcase_add_test(tc, test_regs_readonly_writes_ignored);

	TC("target");
	tcase_add_test(tc, test_target_qmp_balloon_raises_irq);
	tcase_add_test(tc, test_target_qom_set_and_above_ram);
	tcase_add_test(tc, test_target_hmp_balloon_and_info);

	TC("inflate");
	tcase_add_test(tc, test_inflate_accepts_4k_and_2m);
	tcase_add_test(tc, test_inflate_refusal_reasons);
	tcase_add_test(tc, test_inflate_2m_refused_when_not_offered);
	tcase_add_test(tc, test_inflate_max_balloon_enforced);
	tcase_add_test(tc, test_inflate_refuse_every_nth);
	tcase_add_test(tc, test_inflate_refuse_all_at_run_time);

	TC("limits");
	tcase_add_test(tc, test_pool_partial_grants_follow_pool);
	tcase_add_test(tc, test_pool_2m_entry_needs_whole_entry);
	tcase_add_test(tc, test_max_reservation_stops_deflate);

	TC("memory");
	tcase_add_test(tc, test_memory_rss_drops_when_inflated);
	tcase_add_test(tc, test_memory_scattered_4k_batch_discards_each_page_only);
	tcase_add_test(tc, test_memory_discard_worker_off_discards_each_entry_before_done);
	tcase_add_test(tc, test_memory_deflated_pages_read_zero);
	tcase_add_test(tc, test_memory_kept_without_discard);
	tcase_add_test(tc, test_memory_ram_above_4g);
	tcase_add_test(tc, test_memory_2m_above_unaligned_low_ram);
	tcase_add_test(tc, test_memory_numa_nodes_with_memdevs);

	tc = tcase_create("hugepages");
	tcase_add_unchecked_fixture(tc, huge_setup, huge_teardown);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_test(tc, test_memory_hugetlbfs_partly_ballooned_host_pages);

	TC("malformed");
	tcase_add_test(tc, test_cmd_not_ready_refused);
	tcase_add_test(tc, test_cmd_unknown_refused);
	tcase_add_test(tc, test_cmd_bad_count_refused);
	tcase_add_test(tc, test_cmd_batch_outside_ram_refused);
	tcase_add_test(tc, test_cmd_batch_on_own_bar_refused);
	tcase_add_test(tc, test_cmd_bus_master_off_refused);
	tcase_add_test(tc, test_cmd_bad_entries_answered);
	tcase_add_test(tc, test_cmd_reply_delay_busy_then_done);

	TC("reset");
	tcase_add_test(tc, test_reset_command_empties_balloon);
	tcase_add_test(tc, test_reset_system_reset_empties_balloon);

	TC("migration");
	tcase_add_test(tc, test_migration_keeps_balloon);
	tcase_add_test(tc, test_migration_busy_command_finishes_after_load);
	tcase_add_test(tc, test_migration_corrupt_pending_cmd_refused);
	tcase_add_test(tc, test_migration_corrupt_balloon_count_refused);
	tcase_add_test(tc, test_migration_busy_without_pending_refused);
	tcase_add_test(tc, test_migration_background_snapshot_holds_discard_off);

	TC("hostile");
	tcase_add_test(tc, test_hostile_overgrant_claims_more_than_sent);
	tcase_add_test(tc, test_hostile_bad_status_garbles_replies);
	tcase_add_test(tc, test_hostile_flap_ms_toggles_target);
	tcase_add_test(tc, test_hostile_irq_storm_line_never_drops);
	tcase_add_test(tc, test_hostile_keep_data_advertises_discard_keeps_contents);
	tcase_add_test(tc, test_hostile_boot_pages_and_bad_magic);
	tcase_add_test(tc, test_hotplug_unplug_full_balloon_then_add_again);

	TC("guest-stats");
	tcase_add_test(tc, test_stats_interval_set_raises_irq_and_report_is_kept);
	tcase_add_test(tc, test_stats_hostile_guest_garbage_huge_count_and_flood);

	TC("batch-log");
	tcase_add_test(tc, test_batchlog_records_commands_and_targets);
	tcase_add_test(tc, test_batchlog_wraps_and_reports_lost);
#undef TC
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tb_balloon_suite());
	int failed;

	if (!getenv("TB_QEMU")) {
		fprintf(stderr, "check_tb_balloon: set TB_QEMU to our qemu-system-x86_64\n");
		return 1;
	}
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
