// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_tb_random.c - the real tb-balloon device under "-accel qtest",
 * driven by a hostile guest and host: random register writes, batch
 * contents, commands while busy, resets, driver-status toggles, property
 * changes over QMP.  After each burst: QEMU is alive, the accounting is
 * consistent (stats, BALLOON_PAGES, query-balloon, balloon-size agree;
 * balloon pages = inflated - deflated - given back by resets) and every
 * command written is counted under exactly one result.
 *
 * Reproducible: TB_RANDOM_SEED (default below, printed), TB_RANDOM_OPS
 * (operations, default 10000).  The guest: 129 MiB below 4 GiB, 127 MiB
 * above, so entries and batch buffers also hit the PCI hole, and 2 MiB
 * entries can straddle its edge.
 */
#define _GNU_SOURCE
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbq.h"

#define MiB		(1024ull * 1024)
#define LOW_END		(129 * MiB)	/* not 2 MiB aligned: on purpose */
#define HIGH_BASE	0x100000000ull
#define HIGH_END	(HIGH_BASE + 127 * MiB)
#define RAM		(256 * MiB)
#define BURST		100
#define DEFAULT_SEED	20261122u
#define DEFAULT_OPS	10000

static struct tbq *q;
static uint64_t rng;

/* What the test did, to check the device's counters against. */
static struct {
	uint64_t cmd_writes;		/* writes to COMMAND */
	uint64_t cancelled;		/* busy when the driver went / reset */
	uint64_t witnessed_inflate;	/* pages OK in statuses read back */
	uint64_t witnessed_deflate;
	uint64_t base_inflated;		/* stats when witnessing started */
	uint64_t base_deflated;
	uint64_t predicted;		/* command results predicted + seen */
	bool witness;			/* every batch was witnessed */
	uint64_t witnessed_bursts;	/* bursts checked against statuses */
	uint64_t inflated, deflated;	/* stats at the last check */
	bool bad_status;		/* hostile-bad-status on */
	uint32_t reply_delay;		/* reply-delay-ms, as last set */
} t;

static uint64_t rnd(void)
{
	/* xorshift64*: the same sequence on every machine */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

static bool in_ram(uint64_t addr, uint64_t len)
{
	return (addr >= 1 * MiB && addr + len <= LOW_END && addr + len > addr) ||
	       (addr >= HIGH_BASE && addr + len <= HIGH_END && addr + len > addr);
}

/* An accepted entry must lie wholly in guest RAM. */
static bool entry_in_ram(const struct tb_entry *e)
{
	uint64_t pages = tb_entry_pages(e->order & 63), gpa = e->pfn << 12;

	if (e->order > 9 || e->pfn > (UINT64_MAX >> 12) - pages)
		return false;
	return (gpa + (pages << 12) <= LOW_END) ||
	       (gpa >= HIGH_BASE && gpa + (pages << 12) <= HIGH_END);
}

/* Clearly not RAM: the PCI hole (minus nothing we map) and past RAM. */
static bool outside_ram(uint64_t addr, uint64_t len)
{
	return (addr >= LOW_END && addr + len <= 0xd0000000ull && addr + len > addr) ||
	       (addr >= HIGH_END && addr + len > addr);
}

static void qom_set_json(const char *prop, const char *val)
{
	json_t *r = tbq_qmp(q, "{\"execute\":\"qom-set\",\"arguments\":"
		    "{\"path\":\"/machine/peripheral/b\",\"property\":\"%s\","
		    "\"value\":%s}}", prop, val);
	json_decref(r);
}

static void qom_set(const char *prop, uint64_t v)
{
	char val[32];

	snprintf(val, sizeof(val), "%" PRIu64, v);
	qom_set_json(prop, val);
}

static void qom_bool(const char *prop, bool on)
{
	qom_set_json(prop, on ? "true" : "false");
}

static uint64_t stat(json_t *s, const char *path)
{
	return tbq_json_u64(s, path);
}

static bool busy(void)
{
	return tbq_reg(q, TB_REG_CMD_STATUS) & TB_CMD_BUSY;
}

/* Witnessing needs stats as a base: (re)start it. */
static void witness_restart(void)
{
	json_t *s = tbq_stats(q);

	t.base_inflated = stat(s, "inflated-pages");
	t.base_deflated = stat(s, "deflated-pages");
	t.witnessed_inflate = t.witnessed_deflate = 0;
	t.witness = true;
	json_decref(s);
}

/* Entries the device accepted lately: deflates that can succeed. */
static struct tb_entry recent[256];
static unsigned int nrecent;

static uint64_t random_pfn(void)
{
	switch (below(8)) {
	case 0: case 1: case 2:			/* low RAM, a small window */
		return 0x4000 + below(4096);
	case 3:					/* high RAM */
		return (HIGH_BASE >> 12) + below(4096);
	case 4:					/* around the hole's edges */
		return (LOW_END >> 12) - 600 + below(1200);
	case 5:
		return (HIGH_END >> 12) - 600 + below(1200);
	case 6:
		return rnd();			/* anything */
	default:
		return UINT64_MAX - below(1024);
	}
}

static uint64_t random_batch_addr(uint32_t count)
{
	uint64_t len = (uint64_t)(count ? count : 1) * sizeof(struct tb_entry);

	switch (below(10)) {
	case 0:
		return rnd();
	case 1:
		return LOW_END - below(2) * len - 16;	/* straddles the hole */
	case 2:
		return TBQ_BAR0 + below(0x1000);	/* our own registers */
	case 3:
		return 0xfffff000ull + below(0x1000);	/* BIOS ROM */
	case 4:
		return HIGH_END - len + below(2) * 16;
	case 5:
		return HIGH_BASE + 0x100000;
	default:
		return 0x100000 + below(16) * 0x10000 + below(2) * 8;
	}
}

/* An INFLATE/DEFLATE/other command with random registers and entries. */
static void op_command(void)
{
	static struct tb_entry e[TB_BATCH_MAX];
	uint32_t cmd, count, i, status, expect = UINT32_MAX;
	uint64_t addr, len;
	bool was_busy = busy(), ready, immediate;

	cmd = chance(85) ? TB_CMD_INFLATE + below(2) :
	      chance(60) ? (uint32_t)below(TB_CMD_NR + 1) : (uint32_t)rnd();
	count = chance(90) ? 1 + below(chance(90) ? 64 : TB_BATCH_MAX) :
		chance(50) ? (uint32_t)below(2) * (TB_BATCH_MAX + 1) : (uint32_t)rnd();
	addr = random_batch_addr(count <= TB_BATCH_MAX ? count : 1);
	len = (uint64_t)count * sizeof(struct tb_entry);

	if (count >= 1 && count <= TB_BATCH_MAX && in_ram(addr, len)) {
		for (i = 0; i < count; i++) {
			e[i].pfn = random_pfn();
			e[i].order = chance(70) ? TB_ORDER_4K :
				     chance(80) ? TB_ORDER_2M : (uint8_t)rnd();
			if (e[i].order == TB_ORDER_2M && chance(80))
				e[i].pfn &= ~511ull;
			if (cmd == TB_CMD_DEFLATE && nrecent && chance(60))
				e[i] = recent[below(nrecent < 256 ? nrecent : 256)];
			e[i].status = chance(90) ? TB_ST_PENDING : (uint8_t)rnd();
			memset(e[i].reserved, chance(90) ? 0 : (int)rnd(),
			       sizeof(e[i].reserved));
		}
		tbq_memwrite(q, addr, e, len);
	}
	tbq_set_reg(q, TB_REG_BATCH_ADDR_LO, (uint32_t)addr);
	tbq_set_reg(q, TB_REG_BATCH_ADDR_HI, (uint32_t)(addr >> 32));
	tbq_set_reg(q, TB_REG_BATCH_COUNT, count);
	ready = tbq_reg(q, TB_REG_DRIVER_STATUS) & TB_DRIVER_READY;
	immediate = !was_busy && ready && !t.reply_delay;

	/* What the device must answer, where the test can tell. */
	if (was_busy)
		expect = TB_CMD_BUSY;		/* the running one stays */
	else if (cmd >= TB_CMD_NR)
		expect = TB_CMD_ERR_UNKNOWN;
	else if (!ready)
		expect = TB_CMD_ERR_NOT_READY;
	else if (t.reply_delay)
		expect = TB_CMD_BUSY;
	else if (cmd != TB_CMD_INFLATE && cmd != TB_CMD_DEFLATE)
		expect = TB_CMD_OK;
	else if (count == 0 || count > TB_BATCH_MAX)
		expect = TB_CMD_ERR_COUNT;
	else if (outside_ram(addr, len))
		expect = TB_CMD_ERR_ADDR;
	else if (in_ram(addr, len))
		expect = TB_CMD_OK;

	tbq_set_reg(q, TB_REG_COMMAND, cmd);
	t.cmd_writes++;
	status = tbq_reg(q, TB_REG_CMD_STATUS);
	if (expect == TB_CMD_BUSY) {
		ck_assert_msg(status & TB_CMD_BUSY, "command %u: not busy (0x%x)", cmd, status);
		t.predicted++;
	} else if (expect != UINT32_MAX) {
		ck_assert_msg(status == expect, "command %u count %u batch 0x%" PRIx64
			      ": CMD_STATUS %u, expected %u", cmd, count, addr,
			      status, expect);
		t.predicted++;
	}

	/* Witness the pages moved from the statuses the guest reads back. */
	if (!(cmd == TB_CMD_INFLATE || cmd == TB_CMD_DEFLATE))
		return;
	if (immediate && status == TB_CMD_OK && !t.bad_status) {
		uint64_t pages = 0;

		tbq_memread(q, addr, e, len);
		for (i = 0; i < count; i++) {
			ck_assert_msg(e[i].status > TB_ST_PENDING && e[i].status < TB_ST_NR,
				      "entry %u: status %u is no reply", i, e[i].status);
			if (e[i].status != TB_ST_OK)
				continue;
			ck_assert_msg(entry_in_ram(&e[i]), "entry %u: pfn 0x%" PRIx64
				      " order %u accepted, not wholly in RAM", i,
				      e[i].pfn, e[i].order);
			pages += tb_entry_pages(e[i].order);
			if (cmd == TB_CMD_INFLATE)
				recent[nrecent++ % 256] = e[i];
		}
		if (cmd == TB_CMD_INFLATE)
			t.witnessed_inflate += pages;
		else
			t.witnessed_deflate += pages;
	} else if ((immediate && status == TB_CMD_OK) ||
		   (!immediate && !was_busy && ready)) {
		t.witness = false;	/* pages moved we could not see */
	}
}

static void op_register(void)
{
	uint32_t reg = below(TB_BAR0_SIZE / 4) * 4;

	if (chance(70))
		reg = below(0x60 / 4) * 4;
	if (reg == TB_REG_COMMAND || reg == TB_REG_DRIVER_STATUS)
		return;				/* own operations, counted */
	if (chance(50))
		(void)tbq_reg(q, reg);
	else
		tbq_set_reg(q, reg, chance(50) ? (uint32_t)rnd() : (uint32_t)below(4));
}

static void op_driver_status(void)
{
	bool was_ready = tbq_reg(q, TB_REG_DRIVER_STATUS) & TB_DRIVER_READY;
	uint32_t val = chance(70) ? TB_DRIVER_READY : (uint32_t)rnd();

	if (was_ready && !(val & TB_DRIVER_READY) && busy())
		t.cancelled++;			/* the spec: unload cancels */
	tbq_set_reg(q, TB_REG_DRIVER_STATUS, val);
	if (was_ready && !(val & TB_DRIVER_READY))
		ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
}

static void op_property(void)
{
	switch (below(13)) {
	case 0:
		if (chance(30))
			qom_set("pool", UINT64_MAX);
		else
			qom_set("pool", below(64 * MiB));
		break;
	case 1:
		qom_set("max-balloon", below(2 * RAM));
		break;
	case 2:
		qom_set("max-reservation", below(2 * RAM));
		break;
	case 3:
		qom_set("refuse-every", below(5));
		break;
	case 4:
		qom_bool("refuse-all", chance(20));
		break;
	case 5:
		qom_bool("page-2m", chance(70));
		break;
	case 6:
		t.reply_delay = chance(70) ? 0 : 1 + below(20);
		qom_set("reply-delay-ms", t.reply_delay);
		break;
	case 7:
		qom_bool("discard", chance(70));
		break;
	case 8:
		qom_bool("hostile-overgrant", chance(50));
		break;
	case 9:
		t.bad_status = chance(20);
		qom_bool("hostile-bad-status", t.bad_status);
		break;
	case 10:
		qom_set("flap-ms", chance(50) ? 0 : 1 + below(10));
		break;
	case 11:
		qom_set("guest-stats-interval-ms", chance(30) ? 0 : below(2000));
		break;
	default:
		qom_bool("irq-storm", chance(30));
		break;
	}
}

static void op_host(void)
{
	if (chance(90)) {
		json_decref(tbq_qmp(q, "{\"execute\":\"balloon\",\"arguments\":"
				    "{\"value\":%" PRIu64 "}}", 1 + below(2 * RAM)));
		return;
	}
	/* system reset: the device forgets the balloon and its registers */
	if (busy())
		t.cancelled++;
	json_decref(tbq_qmp(q, "{\"execute\":\"system_reset\"}"));
	tbq_enable_device(q);		/* PCI config was reset too */
	ck_assert_uint_eq(tbq_reg(q, TB_REG_BALLOON_PAGES), 0);
}

/* After a burst: alive, accounting consistent, every command counted. */
static void check_burst(int burst)
{
	json_t *s = tbq_stats(q);
	uint64_t pages = tbq_reg(q, TB_REG_BALLOON_PAGES);
	uint64_t balloon = stat(s, "balloon-pages"), results = 0, commands = 0;
	bool now_busy = busy();
	int i;

	ck_assert_int_eq(kill(q->pid, 0), 0);
	ck_assert_uint_eq(balloon, pages);
	ck_assert_uint_eq(tbq_actual(q), RAM - (pages << 12));
	ck_assert_uint_eq(tbq_qom_u64(q, "balloon-size"), pages << 12);
	ck_assert_msg(balloon == stat(s, "inflated-pages") - stat(s, "deflated-pages") -
		      stat(s, "reset-pages"),
		      "burst %d: balloon %" PRIu64 " != inflated %" PRIu64 " - deflated %"
		      PRIu64 " - reset %" PRIu64, burst, balloon,
		      stat(s, "inflated-pages"), stat(s, "deflated-pages"),
		      stat(s, "reset-pages"));
	t.inflated = stat(s, "inflated-pages");
	t.deflated = stat(s, "deflated-pages");
	if (t.witness) {
		t.witnessed_bursts++;
		ck_assert_uint_eq(stat(s, "inflated-pages") - t.base_inflated,
				  t.witnessed_inflate);
		ck_assert_uint_eq(stat(s, "deflated-pages") - t.base_deflated,
				  t.witnessed_deflate);
	}
	for (i = 0; i < TB_CMD_NR; i++) {
		char path[64];

		snprintf(path, sizeof(path), "commands.%s", tb_cmd_names[i]);
		commands += stat(s, path);
	}
	commands += stat(s, "commands.unknown");
	ck_assert_uint_eq(commands, t.cmd_writes);
	for (i = 0; i < TB_CMD_RESULT_NR; i++) {
		char path[64];

		snprintf(path, sizeof(path), "results.%s", tb_cmd_result_names[i]);
		results += stat(s, path);
	}
	ck_assert_msg(results + t.cancelled + now_busy == t.cmd_writes,
		      "burst %d: %" PRIu64 " results + %" PRIu64 " cancelled + %d busy"
		      " != %" PRIu64 " commands written", burst, results,
		      t.cancelled, now_busy, t.cmd_writes);
	json_decref(s);
	if (!t.witness && !now_busy && chance(50))
		witness_restart();
}

START_TEST(test_random_registers_batches_and_host)
{
	const char *extra[] = { "-machine", "max-ram-below-4g=129M", NULL };
	const char *env = getenv("TB_RANDOM_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : DEFAULT_SEED;
	long ops = getenv("TB_RANDOM_OPS") ? atol(getenv("TB_RANDOM_OPS")) : DEFAULT_OPS;
	long i;

	printf("check_tb_random: seed %" PRIu64 " (TB_RANDOM_SEED), %ld operations "
	       "(TB_RANDOM_OPS)\n", seed, ops);
	fflush(stdout);
	rng = seed * 0x9e3779b97f4a7c15ull + 1;
	memset(&t, 0, sizeof(t));
	nrecent = 0;
	q = tbq_start("tb-balloon,id=b", extra);
	tbq_set_reg(q, TB_REG_DRIVER_STATUS, TB_DRIVER_READY);
	witness_restart();

	for (i = 0; i < ops; i++) {
		unsigned int what = below(100);

		if (what < 55)
			op_command();
		else if (what < 70)
			op_register();
		else if (what < 78)
			op_driver_status();
		else if (what < 88)
			tbq_clock_step(q, below(30) * 1000 * 1000);
		else if (what < 97)
			op_property();
		else
			op_host();
		if (i % BURST == BURST - 1)
			check_burst(i / BURST);
	}
	check_burst(-1);
	printf("check_tb_random: %ld operations, %" PRIu64 " commands "
	       "(%" PRIu64 " results predicted and seen), %" PRIu64 " cancelled, "
	       "%" PRIu64 " pages inflated, %" PRIu64 " deflated, %" PRIu64
	       " bursts witnessed by statuses\n", ops, t.cmd_writes, t.predicted,
	       t.cancelled, t.inflated, t.deflated, t.witnessed_bursts);
	tbq_stop(q);
	q = NULL;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tb-balloon-random");
	TCase *tc = tcase_create("random");
	SRunner *sr;
	int failed;

	if (!getenv("TB_QEMU")) {
		fprintf(stderr, "check_tb_random: set TB_QEMU to our qemu-system-x86_64\n");
		return 1;
	}
	tcase_add_test(tc, test_random_registers_batches_and_host);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
