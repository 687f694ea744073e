// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check unit tests for tb_gstats.c: a guest's stats page as the device
 * reads it -- what the driver wrote comes back, and whatever a hostile or
 * newer guest writes (unknown tags, a huge count, out-of-range values, a
 * short page) is skipped or clamped, never taken for a figure.
 */
#include <check.h>
#include <string.h>

#include "tb_gstats.h"

static unsigned char page[4096];
static struct tb_gstats gs;

static void setup(void)
{
	memset(page, 0, sizeof(page));
	memset(&gs, 0xa5, sizeof(gs));
}

START_TEST(test_round_trip_of_every_known_tag)
{
	unsigned int t;

	for (t = 1; t < TB_GS_NR; t++)
		tb_gstats_put(page, t - 1, t, t == TB_GS_PSI_SOME_AVG10 ||
			      t == TB_GS_PSI_FULL_AVG10 ? 1234 :
			      0x0102030405060708ull * t);
	tb_gstats_put_hdr(page, TB_GS_NR - 1, 77);
	ck_assert_int_eq(tb_gstats_decode(page, TB_STATS_READ_SIZE, &gs), 0);
	ck_assert_uint_eq(gs.seq, 77);
	ck_assert_uint_eq(gs.read, TB_GS_NR - 1);
	ck_assert_uint_eq(gs.present, ((1u << TB_GS_NR) - 1) & ~1u);
	ck_assert_uint_eq(gs.v[TB_GS_PSI_SOME_AVG10], 1234);
	ck_assert_uint_eq(gs.v[TB_GS_FREE], 0x0102030405060708ull);
	ck_assert_uint_eq(gs.unknown + gs.invalid, 0);
	ck_assert(!gs.truncated);
	/* little-endian on the wire, whatever the host */
	ck_assert_uint_eq(page[16], TB_GS_FREE);
	ck_assert_uint_eq(page[16 + 8], 0x08);
	ck_assert_uint_eq(page[0], TB_GS_NR - 1);
}
END_TEST

START_TEST(test_unknown_tags_are_skipped_and_the_rest_kept)
{
	tb_gstats_put(page, 0, 0xffff, 1);		/* a newer driver's */
	tb_gstats_put(page, 1, TB_GS_AVAILABLE, 4096);
	tb_gstats_put(page, 2, TB_GS_NONE, 2);
	tb_gstats_put(page, 3, TB_GS_NR, 3);
	tb_gstats_put(page, 4, TB_GS_OOM_KILLS, 5);
	tb_gstats_put_hdr(page, 5, 1);
	ck_assert_int_eq(tb_gstats_decode(page, TB_STATS_READ_SIZE, &gs), 0);
	ck_assert_uint_eq(gs.unknown, 3);
	ck_assert_uint_eq(gs.present, 1u << TB_GS_AVAILABLE |
			  1u << TB_GS_OOM_KILLS);
	ck_assert_uint_eq(gs.v[TB_GS_AVAILABLE], 4096);
	ck_assert_uint_eq(gs.v[TB_GS_OOM_KILLS], 5);
}
END_TEST

START_TEST(test_huge_count_reads_only_the_maximum)
{
	unsigned int i;

	/* the whole page is entries; only TB_STATS_MAX are read */
	for (i = 0; i < (sizeof(page) - 16) / 16; i++)
		tb_gstats_put(page, i, i < TB_STATS_MAX ? TB_GS_FREE :
			      TB_GS_TOTAL, i);
	tb_gstats_put_hdr(page, 0xffffffffu, 0);
	ck_assert_int_eq(tb_gstats_decode(page, sizeof(page), &gs), 0);
	ck_assert_uint_eq(gs.read, TB_STATS_MAX);
	ck_assert(gs.truncated);
	ck_assert_uint_eq(gs.count, 0xffffffffu);
	ck_assert_uint_eq(gs.present, 1u << TB_GS_FREE);
	ck_assert_uint_eq(gs.v[TB_GS_FREE], TB_STATS_MAX - 1); /* last wins */
}
END_TEST

START_TEST(test_count_past_a_short_buffer_stops_at_its_end)
{
	tb_gstats_put(page, 0, TB_GS_FREE, 1);
	tb_gstats_put(page, 1, TB_GS_TOTAL, 2);
	tb_gstats_put_hdr(page, 2, 0);
	/* 16 + 16 + 15 bytes: the second entry does not fit */
	ck_assert_int_eq(tb_gstats_decode(page, 47, &gs), 0);
	ck_assert_uint_eq(gs.read, 1);
	ck_assert(gs.truncated);
	ck_assert_uint_eq(gs.present, 1u << TB_GS_FREE);
	ck_assert_int_eq(tb_gstats_decode(page, 15, &gs), -1);
	ck_assert_uint_eq(gs.present, 0);
}
END_TEST

START_TEST(test_psi_above_100_percent_and_values_past_int64_dropped)
{
	tb_gstats_put(page, 0, TB_GS_PSI_SOME_AVG10, 10000);
	tb_gstats_put(page, 1, TB_GS_PSI_FULL_AVG10, 10001);
	tb_gstats_put(page, 2, TB_GS_MAJOR_FAULTS, INT64_MAX);
	tb_gstats_put(page, 3, TB_GS_MINOR_FAULTS, (uint64_t)INT64_MAX + 1);
	tb_gstats_put_hdr(page, 4, 0);
	ck_assert_int_eq(tb_gstats_decode(page, TB_STATS_READ_SIZE, &gs), 0);
	ck_assert_uint_eq(gs.invalid, 2);
	ck_assert_uint_eq(gs.present, 1u << TB_GS_PSI_SOME_AVG10 |
			  1u << TB_GS_MAJOR_FAULTS);
	ck_assert_uint_eq(gs.v[TB_GS_MAJOR_FAULTS], INT64_MAX);
}
END_TEST

START_TEST(test_empty_report_has_no_figures)
{
	tb_gstats_put(page, 0, TB_GS_FREE, 1);	/* not counted */
	tb_gstats_put_hdr(page, 0, 9);
	ck_assert_int_eq(tb_gstats_decode(page, TB_STATS_READ_SIZE, &gs), 0);
	ck_assert_uint_eq(gs.read, 0);
	ck_assert_uint_eq(gs.present, 0);
	ck_assert(!gs.truncated);
}
END_TEST

START_TEST(test_every_tag_has_a_name)
{
	unsigned int t;

	for (t = 0; t < TB_GS_NR; t++)
		ck_assert_msg(tb_gs_names[t] && *tb_gs_names[t],
			      "tag %u has no name", t);
}
END_TEST

static Suite *gstats_suite(void)
{
	Suite *s = suite_create("tb_gstats");
	TCase *tc = tcase_create("gstats");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_round_trip_of_every_known_tag);
	tcase_add_test(tc, test_unknown_tags_are_skipped_and_the_rest_kept);
	tcase_add_test(tc, test_huge_count_reads_only_the_maximum);
	tcase_add_test(tc, test_count_past_a_short_buffer_stops_at_its_end);
	tcase_add_test(tc, test_psi_above_100_percent_and_values_past_int64_dropped);
	tcase_add_test(tc, test_empty_report_has_no_figures);
	tcase_add_test(tc, test_every_tag_has_a_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(gstats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
