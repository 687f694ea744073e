// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check unit tests for tb_batchlog.c: the ring of served commands and
 * target changes, and the reader that drains it without consuming it.
 */
#include <check.h>
#include <stdlib.h>

#include "tb_batchlog.h"

static struct tb_batchlog *log_;

static void setup(void)
{
	log_ = calloc(1, sizeof(*log_));
	tb_batchlog_init(log_, 7);
}

static void teardown(void)
{
	free(log_);
}

static struct tb_entry ent(unsigned int order, enum tb_status st)
{
	return (struct tb_entry){ .order = (uint8_t)order,
				  .status = (uint8_t)st };
}

START_TEST(test_cmd_counts_entries_by_size_and_status)
{
	struct tb_entry e[6] = {
		ent(TB_ORDER_2M, TB_ST_OK), ent(TB_ORDER_4K, TB_ST_OK),
		ent(TB_ORDER_4K, TB_ST_OK), ent(TB_ORDER_4K, TB_ST_ERR_POOL),
		ent(TB_ORDER_2M, TB_ST_ERR_POOL), ent(3, TB_ST_ERR_ORDER),
	};
	struct tb_batchlog_rec r;

	tb_batchlog_cmd(log_, 1000, TB_CMD_DEFLATE, TB_CMD_OK, e, 6, 900, 5000);
	ck_assert_uint_eq(tb_batchlog_read(log_, 0, &r, 1), 1);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.t_ns, 1000);
	ck_assert_uint_eq(r.kind, TB_BL_DEFLATE);
	ck_assert_uint_eq(r.entries, 6);
	ck_assert_uint_eq(r.pages_2m, 1);
	ck_assert_uint_eq(r.pages_4k, 2);
	ck_assert_uint_eq(r.granted, 3);
	ck_assert_uint_eq(r.refused, 3);
	ck_assert_uint_eq(r.partial, 2);
	ck_assert_uint_eq(r.balloon_pages, 900);
	ck_assert_uint_eq(r.target_pages, 5000);
}
END_TEST

/* A command refused as a whole decided no entry, whatever the statuses. */
START_TEST(test_cmd_refused_as_a_whole_grants_nothing)
{
	struct tb_entry e = ent(TB_ORDER_4K, TB_ST_OK);
	struct tb_batchlog_rec r;

	tb_batchlog_cmd(log_, 5, TB_CMD_INFLATE, TB_CMD_ERR_ADDR, &e, 1, 0, 0);
	tb_batchlog_read(log_, 0, &r, 1);
	ck_assert_uint_eq(r.kind, TB_BL_INFLATE);
	ck_assert_uint_eq(r.result, TB_CMD_ERR_ADDR);
	ck_assert_uint_eq(r.entries, 1);
	ck_assert_uint_eq(r.granted + r.refused, 0);
}
END_TEST

START_TEST(test_records_targets_and_resets_in_order)
{
	struct tb_batchlog_rec r[4];

	tb_batchlog_target(log_, 10, 4096, 0);
	tb_batchlog_cmd(log_, 20, TB_CMD_INFLATE, TB_CMD_OK, NULL, 0, 512,
			4096);
	tb_batchlog_reset(log_, 30, 0, 4096);
	ck_assert_uint_eq(tb_batchlog_read(log_, 0, r, 4), 3);
	ck_assert_uint_eq(r[0].kind, TB_BL_TARGET);
	ck_assert_uint_eq(r[0].target_pages, 4096);
	ck_assert_uint_eq(r[1].kind, TB_BL_INFLATE);
	ck_assert_uint_eq(r[2].kind, TB_BL_RESET);
	ck_assert_uint_eq(r[2].balloon_pages, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(r[i].seq, i + 1);
}
END_TEST

/* Reading is bounded and from any sequence number; it changes nothing. */
START_TEST(test_read_is_bounded_and_non_destructive)
{
	struct tb_batchlog_rec r[TB_BATCHLOG_READ_MAX];
	unsigned int i;

	for (i = 0; i < 30; i++)
		tb_batchlog_target(log_, i, i, 0);
	ck_assert_uint_eq(tb_batchlog_read(log_, 0, r, TB_BATCHLOG_READ_MAX),
			  TB_BATCHLOG_READ_MAX);
	ck_assert_uint_eq(r[0].seq, 1);
	ck_assert_uint_eq(tb_batchlog_read(log_, 25, r, TB_BATCHLOG_READ_MAX),
			  6);
	ck_assert_uint_eq(r[0].seq, 25);
	ck_assert_uint_eq(r[5].seq, 30);
	ck_assert_uint_eq(tb_batchlog_read(log_, 31, r, TB_BATCHLOG_READ_MAX),
			  0);
	/* again: the same records */
	ck_assert_uint_eq(tb_batchlog_read(log_, 25, r, TB_BATCHLOG_READ_MAX),
			  6);
	ck_assert_uint_eq(r[0].seq, 25);
}
END_TEST

/* A flood keeps the last TB_BATCHLOG_RECORDS; older reads start there. */
START_TEST(test_ring_keeps_the_newest_when_flooded)
{
	struct tb_batchlog_rec r[2];
	uint64_t n = 3 * TB_BATCHLOG_RECORDS + 5, i;

	for (i = 0; i < n; i++)
		tb_batchlog_cmd(log_, i, TB_CMD_INFLATE, TB_CMD_OK, NULL, 1, i,
				0);
	ck_assert_uint_eq(tb_batchlog_first(log_), n - TB_BATCHLOG_RECORDS + 1);
	ck_assert_uint_eq(tb_batchlog_read(log_, 1, r, 2), 2);
	ck_assert_uint_eq(r[0].seq, n - TB_BATCHLOG_RECORDS + 1);
	ck_assert_uint_eq(r[1].seq, n - TB_BATCHLOG_RECORDS + 2);
	ck_assert_uint_eq(r[1].t_ns, n - TB_BATCHLOG_RECORDS + 1);
}
END_TEST

/* Past the last sequence number a new log starts (another id, seq 1). */
START_TEST(test_log_starts_over_after_the_last_seq)
{
	struct tb_batchlog_rec r;

	log_->next_seq = TB_BATCHLOG_SEQ_MAX;
	tb_batchlog_target(log_, 1, 1, 0);
	ck_assert_uint_eq(log_->id, 7);
	tb_batchlog_target(log_, 2, 2, 0);
	ck_assert_uint_eq(log_->id, 8);
	ck_assert_uint_eq(tb_batchlog_read(log_, 0, &r, 1), 1);
	ck_assert_uint_eq(r.seq, 1);
	ck_assert_uint_eq(r.t_ns, 2);
}
END_TEST

/* What a drain does: sync, read, take; see everything once. */
static void drain(struct tb_batchlog_reader *rd)
{
	struct tb_batchlog_rec r[TB_BATCHLOG_READ_MAX];
	unsigned int n, i;

	do {
		uint64_t from = tb_batchlog_reader_sync(rd, log_->id,
							tb_batchlog_first(log_),
							log_->next_seq);

		n = tb_batchlog_read(log_, from, r, TB_BATCHLOG_READ_MAX);
		for (i = 0; i < n; i++)
			tb_batchlog_reader_take(rd, r[i].seq);
	} while (n);
}

START_TEST(test_reader_sees_each_record_once)
{
	struct tb_batchlog_reader rd;
	int i;

	tb_batchlog_reader_init(&rd);
	for (i = 0; i < 100; i++)
		tb_batchlog_target(log_, i, i, 0);
	drain(&rd);
	ck_assert_uint_eq(rd.taken, 100);
	drain(&rd);		/* nothing new */
	ck_assert_uint_eq(rd.taken, 100);
	tb_batchlog_target(log_, 100, 100, 0);
	drain(&rd);
	ck_assert_uint_eq(rd.taken, 101);
	ck_assert_uint_eq(rd.lost, 0);
	ck_assert_uint_eq(rd.logs, 1);
	/* a record read twice (a stale cursor) is not new */
	ck_assert(!tb_batchlog_reader_take(&rd, 50));
}
END_TEST

START_TEST(test_reader_counts_records_lost_to_a_wrap)
{
	struct tb_batchlog_reader rd;
	int i;

	tb_batchlog_reader_init(&rd);
	tb_batchlog_target(log_, 0, 0, 0);
	drain(&rd);
	for (i = 0; i < TB_BATCHLOG_RECORDS + 10; i++)
		tb_batchlog_target(log_, i, i, 0);
	drain(&rd);
	ck_assert_uint_eq(rd.lost, 10);
	ck_assert_uint_eq(rd.taken, 1 + TB_BATCHLOG_RECORDS);
}
END_TEST

/* A new device (hot-plug, migration) is a new log: read from its start,
 * even when it already has more records than the old one had. */
START_TEST(test_reader_follows_a_new_log)
{
	struct tb_batchlog_reader rd;
	int i;

	tb_batchlog_reader_init(&rd);
	for (i = 0; i < 5; i++)
		tb_batchlog_target(log_, i, i, 0);
	drain(&rd);
	tb_batchlog_init(log_, 99);
	for (i = 0; i < 20; i++)
		tb_batchlog_target(log_, i, i, 0);
	drain(&rd);
	ck_assert_uint_eq(rd.taken, 25);
	ck_assert_uint_eq(rd.logs, 2);
	ck_assert_uint_eq(rd.lost, 0);
}
END_TEST

static Suite *batchlog_suite(void)
{
	Suite *s = suite_create("tb_batchlog");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cmd_counts_entries_by_size_and_status);
	tcase_add_test(tc, test_cmd_refused_as_a_whole_grants_nothing);
	tcase_add_test(tc, test_records_targets_and_resets_in_order);
	tcase_add_test(tc, test_read_is_bounded_and_non_destructive);
	tcase_add_test(tc, test_ring_keeps_the_newest_when_flooded);
	tcase_add_test(tc, test_log_starts_over_after_the_last_seq);
	suite_add_tcase(s, tc);

	tc = tcase_create("reader");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reader_sees_each_record_once);
	tcase_add_test(tc, test_reader_counts_records_lost_to_a_wrap);
	tcase_add_test(tc, test_reader_follows_a_new_log);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(batchlog_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
