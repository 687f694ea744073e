// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check unit tests for tb_batch.c: command-level checks and the decoding
 * of batch entries over a guest RAM map with a hole, as on x86:
 *   guest-physical [0, 8 MiB)      RAM offset [0, 8 MiB)
 *                  [8, 16 MiB)     hole (not RAM)
 *                  [16, 24 MiB)    RAM offset [8, 16 MiB)
 */
#include <check.h>
#include <stdlib.h>

#include "tb_batch.h"

#define MiB		(1024ull * 1024)
#define LOW_END		(8 * MiB)
#define HIGH_START	(16 * MiB)
#define RAM_BYTES	(16 * MiB)
#define RAM_PAGES	(RAM_BYTES >> TB_PAGE_SHIFT)
#define PFN(gpa)	((gpa) >> TB_PAGE_SHIFT)

static struct tb_host_config cfg;
static struct tb_host_state st;
static uint64_t map[RAM_PAGES / 64];
static struct tb_entry e[TB_BATCH_MAX + 1];
static struct tb_batch_result res;
static unsigned int lookups, done_calls;
static uint64_t low_end = LOW_END;	/* a test may move the hole */
static struct tb_entry_decision last;

static bool fake_gpa_to_ram(void *opaque, uint64_t gpa, uint64_t len,
			    uint64_t *off)
{
	lookups++;
	/* the contract: never a wrapping or empty range */
	ck_assert(len > 0 && gpa + len > gpa);
	if (gpa + len <= low_end) {
		*off = gpa;
		return true;
	}
	if (gpa >= HIGH_START && gpa + len <= HIGH_START + RAM_BYTES - low_end) {
		*off = gpa - HIGH_START + low_end;
		return true;
	}
	return false;
}

static void fake_entry_done(void *opaque, const struct tb_entry_decision *d)
{
	ck_assert_uint_eq(d->index, done_calls);	/* in order, once each */
	done_calls++;
	last = *d;
}

static const struct tb_batch_ops ops = {
	.gpa_to_ram = fake_gpa_to_ram,
	.entry_done = fake_entry_done,
};

static void setup(void)
{
	cfg = (struct tb_host_config){
		.ram_pages = RAM_PAGES,
		.max_reservation = RAM_PAGES,
		.max_balloon = RAM_PAGES,
		.page_2m = true,
	};
	st = (struct tb_host_state){
		.map = map, .map_pfns = RAM_PAGES, .pool = TB_POOL_UNLIMITED,
	};
	tb_host_reset(&st);
	lookups = done_calls = 0;
	low_end = LOW_END;
}

static struct tb_entry ent(uint64_t pfn, unsigned int order)
{
	return (struct tb_entry){ .pfn = pfn, .order = order };
}

static enum tb_cmd_result run(uint32_t cmd, uint32_t count)
{
	done_calls = 0;
	return tb_batch_run(&cfg, &st, cmd, e, count, &ops, &res);
}

START_TEST(test_admit_busy_then_unknown_then_not_ready)
{
	ck_assert_int_eq(tb_cmd_admit(99, false, true), TB_CMD_ERR_BUSY);
	ck_assert_int_eq(tb_cmd_admit(TB_CMD_NR, false, false), TB_CMD_ERR_UNKNOWN);
	ck_assert_int_eq(tb_cmd_admit(UINT32_MAX, true, false), TB_CMD_ERR_UNKNOWN);
	ck_assert_int_eq(tb_cmd_admit(TB_CMD_NOP, false, false), TB_CMD_ERR_NOT_READY);
	ck_assert_int_eq(tb_cmd_admit(TB_CMD_RESET, true, false), TB_CMD_OK);
}
END_TEST

START_TEST(test_count_bounds_only_for_batches)
{
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_INFLATE, 0), TB_CMD_ERR_COUNT);
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_DEFLATE, TB_BATCH_MAX + 1),
			 TB_CMD_ERR_COUNT);
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_DEFLATE, UINT32_MAX),
			 TB_CMD_ERR_COUNT);
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_INFLATE, TB_BATCH_MAX), TB_CMD_OK);
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_NOP, 0), TB_CMD_OK);
	ck_assert_int_eq(tb_cmd_check_count(TB_CMD_RESET, UINT32_MAX), TB_CMD_OK);
}
END_TEST

START_TEST(test_run_refused_command_touches_nothing)
{
	e[0] = ent(1, TB_ORDER_4K);
	e[0].status = 0x77;
	ck_assert_int_eq(run(TB_CMD_INFLATE, 0), TB_CMD_ERR_COUNT);
	ck_assert_int_eq(run(TB_CMD_INFLATE, TB_BATCH_MAX + 1), TB_CMD_ERR_COUNT);
	ck_assert_int_eq(run(TB_CMD_NR + 5, 1), TB_CMD_ERR_UNKNOWN);
	ck_assert_int_eq(run(TB_CMD_RESET, 1), TB_CMD_OK);	/* no entries */
	ck_assert_uint_eq(e[0].status, 0x77);
	ck_assert_uint_eq(lookups + done_calls, 0);
	ck_assert_uint_eq(st.balloon_pages, 0);
	ck_assert_uint_eq(res.ok, 0);
}
END_TEST

START_TEST(test_run_translates_above_the_hole)
{
	/* last 2 MiB of RAM: guest-physical 22 MiB, RAM offset 14 MiB */
	e[0] = ent(PFN(22 * MiB), TB_ORDER_2M);
	e[1] = ent(PFN(LOW_END) - 1, TB_ORDER_4K);	/* last low page */
	ck_assert_int_eq(run(TB_CMD_INFLATE, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_OK);
	ck_assert_uint_eq(e[1].status, TB_ST_OK);
	ck_assert(tb_host_has(&st, PFN(14 * MiB)));
	ck_assert(tb_host_has(&st, RAM_PAGES - 1));
	ck_assert(tb_host_has(&st, PFN(LOW_END) - 1));
	ck_assert_uint_eq(res.ok, 2);
	ck_assert_uint_eq(res.ok_pages, 513);
	ck_assert_uint_eq(st.balloon_pages, 513);
	/* entry_done saw the RAM offset of the last entry */
	ck_assert_uint_eq(done_calls, 2);
	ck_assert_uint_eq(last.ram_offset, LOW_END - TB_PAGE_SIZE);
	ck_assert_uint_eq(last.pages, 1);
}
END_TEST

START_TEST(test_run_refuses_hole_edges_and_huge_pfns)
{
	e[0] = ent(PFN(LOW_END), TB_ORDER_4K);			/* first hole page */
	e[1] = ent(PFN(HIGH_START) - 1, TB_ORDER_4K);		/* last hole page */
	e[2] = ent(PFN(LOW_END) - 512, TB_ORDER_2M);		/* fits exactly */
	e[3] = ent(PFN(HIGH_START + 8 * MiB), TB_ORDER_4K);	/* past RAM */
	e[4] = ent(UINT64_MAX, TB_ORDER_4K);			/* shift wraps */
	e[5] = ent((UINT64_MAX >> TB_PAGE_SHIFT) - 1, TB_ORDER_4K); /* highest looked up */
	e[6] = ent(UINT64_MAX & ~511ull, TB_ORDER_2M);
	e[7] = ent(5, 8);					/* bad order */
	e[8] = ent(5, 255);
	ck_assert_int_eq(run(TB_CMD_INFLATE, 9), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[1].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[2].status, TB_ST_OK);
	ck_assert_uint_eq(e[3].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[4].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[5].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[6].status, TB_ST_ERR_RANGE);
	ck_assert_uint_eq(e[7].status, TB_ST_ERR_ORDER);
	ck_assert_uint_eq(e[8].status, TB_ST_ERR_ORDER);
	/* only well-formed, non-wrapping entries were looked up */
	ck_assert_uint_eq(lookups, 5);
	ck_assert_uint_eq(res.ok, 1);
	ck_assert_uint_eq(res.guest_faults, 8);
	ck_assert_uint_eq(st.balloon_pages, 512);
	ck_assert_uint_eq(st.count[TB_CMD_INFLATE][TB_ST_ERR_RANGE], 6);
}
END_TEST

/* Found by fuzz_batch: alignment was judged on the RAM offset. */
START_TEST(test_run_2m_alignment_is_the_guests)
{
	low_end = LOW_END + 4 * TB_PAGE_SIZE;	/* RAM above starts unaligned */
	e[0] = ent(PFN(HIGH_START), TB_ORDER_2M);
	e[1] = ent(PFN(HIGH_START) + 4, TB_ORDER_2M);
	ck_assert_int_eq(run(TB_CMD_INFLATE, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_OK);
	ck_assert_uint_eq(e[1].status, TB_ST_ERR_ALIGN);
	ck_assert(tb_host_has(&st, PFN(low_end)));
	ck_assert(tb_host_has(&st, PFN(low_end) + 511));
	ck_assert(!tb_host_has(&st, PFN(low_end) + 512));
}
END_TEST

START_TEST(test_run_partial_grant_reported)
{
	e[0] = ent(0, TB_ORDER_2M);
	e[1] = ent(600, TB_ORDER_4K);
	ck_assert_int_eq(run(TB_CMD_INFLATE, 2), TB_CMD_OK);
	st.pool = 1;
	ck_assert_int_eq(run(TB_CMD_DEFLATE, 2), TB_CMD_OK);
	ck_assert_uint_eq(e[0].status, TB_ST_ERR_POOL);
	ck_assert_uint_eq(e[1].status, TB_ST_OK);
	ck_assert(res.partial);
	ck_assert_uint_eq(res.short_pages, 512);
	ck_assert_uint_eq(res.ok_pages, 1);
	ck_assert_uint_eq(res.guest_faults, 0);
	ck_assert_uint_eq(st.balloon_pages, 512);
}
END_TEST

START_TEST(test_run_full_batch_every_status_a_reply)
{
	uint32_t i;

	for (i = 0; i < TB_BATCH_MAX; i++)
		e[i] = ent(i % 7 == 0 ? i * 1000003ull : i, i % 5 ? 0 : 9);
	ck_assert_int_eq(run(TB_CMD_INFLATE, TB_BATCH_MAX), TB_CMD_OK);
	for (i = 0; i < TB_BATCH_MAX; i++)
		ck_assert(e[i].status > TB_ST_PENDING && e[i].status < TB_ST_NR);
	ck_assert_uint_eq(done_calls, TB_BATCH_MAX);
}
END_TEST

static Suite *batch_suite(void)
{
	Suite *s = suite_create("tb_batch");
	TCase *tc = tcase_create("batch");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_admit_busy_then_unknown_then_not_ready);
	tcase_add_test(tc, test_count_bounds_only_for_batches);
	tcase_add_test(tc, test_run_refused_command_touches_nothing);
	tcase_add_test(tc, test_run_translates_above_the_hole);
	tcase_add_test(tc, test_run_refuses_hole_edges_and_huge_pfns);
	tcase_add_test(tc, test_run_2m_alignment_is_the_guests);
	tcase_add_test(tc, test_run_partial_grant_reported);
	tcase_add_test(tc, test_run_full_batch_every_status_a_reply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(batch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
