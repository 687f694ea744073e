// SPDX-License-Identifier: GPL-2.0-only
/* Check unit tests for tb_host.c: the host's decisions on entries. */
#include <check.h>
#include <stdlib.h>

#include "tb_host.h"

#define RAM_PAGES 4096u		/* 16 MiB guest */

static struct tb_host_config cfg;
static struct tb_host_state st;
static uint64_t map[RAM_PAGES / 64];

static void setup(void)
{
	cfg = (struct tb_host_config){
		.ram_pages = RAM_PAGES,
		.max_reservation = RAM_PAGES,
		.max_balloon = RAM_PAGES * 65 / 100,
		.page_2m = true,
	};
	st = (struct tb_host_state){
		.map = map, .map_pfns = RAM_PAGES, .pool = TB_POOL_UNLIMITED,
	};
	tb_host_reset(&st);
}

static enum tb_status inflate(uint64_t pfn, unsigned int order)
{
	return tb_host_entry(&cfg, &st, TB_CMD_INFLATE, pfn, order, true);
}

static enum tb_status deflate(uint64_t pfn, unsigned int order)
{
	return tb_host_entry(&cfg, &st, TB_CMD_DEFLATE, pfn, order, true);
}

START_TEST(test_entry_inflate_accepts_and_counts)
{
	ck_assert_int_eq(inflate(10, TB_ORDER_4K), TB_ST_OK);
	ck_assert_int_eq(inflate(512, TB_ORDER_2M), TB_ST_OK);
	ck_assert_uint_eq(st.balloon_pages, 513);
	ck_assert(tb_host_has(&st, 10));
	ck_assert(tb_host_has(&st, 1023));
	ck_assert(!tb_host_has(&st, 11));
	ck_assert_uint_eq(st.count[TB_CMD_INFLATE][TB_ST_OK], 2);
}
END_TEST

START_TEST(test_entry_refuses_malformed)
{
	ck_assert_int_eq(inflate(3, 5), TB_ST_ERR_ORDER);
	ck_assert_int_eq(inflate(513, TB_ORDER_2M), TB_ST_ERR_ALIGN);
	ck_assert_int_eq(inflate(RAM_PAGES, TB_ORDER_4K), TB_ST_ERR_RANGE);
	ck_assert_int_eq(inflate(UINT64_MAX - 511, TB_ORDER_2M),
			 TB_ST_ERR_RANGE);
	ck_assert_int_eq(tb_host_entry(&cfg, &st, TB_CMD_INFLATE, 7,
				       TB_ORDER_4K, false), TB_ST_ERR_RANGE);
	cfg.page_2m = false;
	ck_assert_int_eq(inflate(0, TB_ORDER_2M), TB_ST_ERR_ORDER);
	ck_assert_uint_eq(st.balloon_pages, 0);
	ck_assert_int_eq(tb_host_entry(&cfg, &st, TB_CMD_RESET, 0, 0, true),
			 TB_ST_ERR_STATE);
}
END_TEST

START_TEST(test_entry_state_never_double_counts)
{
	ck_assert_int_eq(inflate(700, TB_ORDER_4K), TB_ST_OK);
	ck_assert_int_eq(inflate(700, TB_ORDER_4K), TB_ST_ERR_STATE);
	/* A 2 MiB page overlapping a ballooned 4 KiB page is refused. */
	ck_assert_int_eq(inflate(512, TB_ORDER_2M), TB_ST_ERR_STATE);
	/* Deflating a 2 MiB page only partly ballooned is refused too. */
	ck_assert_int_eq(deflate(512, TB_ORDER_2M), TB_ST_ERR_STATE);
	ck_assert_int_eq(deflate(701, TB_ORDER_4K), TB_ST_ERR_STATE);
	ck_assert_int_eq(deflate(700, TB_ORDER_4K), TB_ST_OK);
	ck_assert_uint_eq(st.balloon_pages, 0);
}
END_TEST

START_TEST(test_limits_max_balloon_refuses)
{
	uint64_t pfn, ok = 0;

	cfg.max_balloon = 1000;
	for (pfn = 0; pfn < 1100; pfn++)
		ok += inflate(pfn, TB_ORDER_4K) == TB_ST_OK;
	ck_assert_uint_eq(ok, 1000);
	ck_assert_uint_eq(st.count[TB_CMD_INFLATE][TB_ST_ERR_MAX_BALLOON], 100);
	/* The host may lower the limit below the balloon: nothing is lost. */
	cfg.max_balloon = 10;
	ck_assert_int_eq(inflate(2000, TB_ORDER_4K), TB_ST_ERR_MAX_BALLOON);
	ck_assert_uint_eq(st.balloon_pages, 1000);
}
END_TEST

START_TEST(test_limits_max_balloon_advisory_accepts_past_it)
{
	uint64_t pfn, ok = 0;

	cfg.max_balloon = 1000;
	cfg.max_balloon_advisory = true;
	for (pfn = 0; pfn < 1100; pfn++)
		ok += inflate(pfn, TB_ORDER_4K) == TB_ST_OK;
	ck_assert_uint_eq(ok, 1100);
	ck_assert_uint_eq(st.count[TB_CMD_INFLATE][TB_ST_ERR_MAX_BALLOON], 0);
	ck_assert_uint_eq(st.balloon_pages, 1100);
	/* Enforced again: the next entry past it is refused, none is lost. */
	cfg.max_balloon_advisory = false;
	ck_assert_int_eq(inflate(2000, TB_ORDER_4K), TB_ST_ERR_MAX_BALLOON);
	ck_assert_uint_eq(st.balloon_pages, 1100);
}
END_TEST

START_TEST(test_limits_pool_gives_partial_grants)
{
	uint64_t pfn, granted = 0;

	for (pfn = 0; pfn < 100; pfn++)
		inflate(pfn, TB_ORDER_4K);
	st.pool = 30;
	for (pfn = 0; pfn < 100; pfn++)
		granted += deflate(pfn, TB_ORDER_4K) == TB_ST_OK;
	ck_assert_uint_eq(granted, 30);
	ck_assert_uint_eq(st.pool, 0);
	ck_assert_uint_eq(st.count[TB_CMD_DEFLATE][TB_ST_ERR_POOL], 70);
	st.pool = 1000;		/* the host recovers */
	for (pfn = 0; pfn < 100; pfn++)
		granted += deflate(pfn, TB_ORDER_4K) == TB_ST_OK;
	ck_assert_uint_eq(granted, 100);
	ck_assert_uint_eq(st.balloon_pages, 0);
}
END_TEST

START_TEST(test_limits_max_reservation_stops_deflate)
{
	uint64_t pfn;

	for (pfn = 0; pfn < 100; pfn++)
		inflate(pfn, TB_ORDER_4K);
	cfg.max_reservation = RAM_PAGES - 60;
	for (pfn = 0; pfn < 100; pfn++)
		deflate(pfn, TB_ORDER_4K);
	ck_assert_uint_eq(st.balloon_pages, 60);
	ck_assert_uint_eq(st.count[TB_CMD_DEFLATE][TB_ST_ERR_MAX_RES], 60);
}
END_TEST

START_TEST(test_fault_refuse_every_nth)
{
	uint64_t pfn, ok = 0;

	cfg.refuse_every = 4;
	for (pfn = 0; pfn < 100; pfn++)
		ok += inflate(pfn, TB_ORDER_4K) == TB_ST_OK;
	ck_assert_uint_eq(ok, 75);
	ck_assert_uint_eq(st.count[TB_CMD_INFLATE][TB_ST_ERR_FAULT], 25);
	ck_assert(!tb_host_has(&st, 3));
	cfg.refuse_all = true;
	ck_assert_int_eq(inflate(200, TB_ORDER_4K), TB_ST_ERR_FAULT);
}
END_TEST

START_TEST(test_reset_empties_and_drains_pool)
{
	st.pool = 100;
	inflate(0, TB_ORDER_2M);
	ck_assert_uint_eq(st.pool, 612);
	tb_host_reset(&st);
	ck_assert_uint_eq(st.balloon_pages, 0);
	ck_assert_uint_eq(st.pool, 100);
	inflate(0, TB_ORDER_2M);
	st.pool = 10;		/* the host gives back what it has, never less than 0 */
	tb_host_reset(&st);
	ck_assert_uint_eq(st.pool, 0);
	ck_assert(!tb_host_has(&st, 0));
	ck_assert_int_eq(inflate(0, TB_ORDER_2M), TB_ST_OK);
}
END_TEST

static Suite *host_suite(void)
{
	Suite *s = suite_create("tb_host");
	TCase *tc;

	tc = tcase_create("entries");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_entry_inflate_accepts_and_counts);
	tcase_add_test(tc, test_entry_refuses_malformed);
	tcase_add_test(tc, test_entry_state_never_double_counts);
	tcase_add_test(tc, test_reset_empties_and_drains_pool);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_limits_max_balloon_refuses);
	tcase_add_test(tc, test_limits_max_balloon_advisory_accepts_past_it);
	tcase_add_test(tc, test_limits_pool_gives_partial_grants);
	tcase_add_test(tc, test_limits_max_reservation_stops_deflate);
	tcase_add_test(tc, test_fault_refuse_every_nth);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(host_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
