// SPDX-License-Identifier: GPL-2.0-only
/* Check unit tests for tb_policy_host.c: the host's ballooning policies. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tb_policy_host.h"

#define MiB	(1ll << 20)

static struct tb_hp_params window(void)
{
	struct tb_hp_params p = tb_hp_defaults;

	p.kind = TB_HP_FREE_WINDOW;
	p.low = 300 * MiB;
	p.high = 400 * MiB;
	p.step = 64 * MiB;
	p.min = 256 * MiB;
	p.max = 2048 * MiB;
	return p;
}

static struct tb_hp_figures fig(uint64_t now, int64_t avail, int64_t res)
{
	struct tb_hp_figures f = { .now_ms = now, .figures_ms = now,
				   .avail = avail, .free = avail,
				   .reservation = res };
	return f;
}

START_TEST(test_window_holds_inside_and_steps_towards_middle)
{
	struct tb_hp_params p = window();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, 350 * MiB, 1024 * MiB);

	tb_hp_init(&s, &p, 1024 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert_ptr_nonnull(strstr(d.reason, "within"));
	/* 200 MiB available: 150 short of the middle, 64 a period. */
	f = fig(1000, 200 * MiB, 1024 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_eq(d.target, 1088 * MiB);
	ck_assert_ptr_nonnull(strstr(d.reason, "below low"));
	ck_assert_ptr_nonnull(strstr(d.reason, "step limit"));
	/* 410 available: 60 above the middle, within a step. */
	f = fig(2000, 410 * MiB, 1088 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_eq(d.target, 1028 * MiB);
	ck_assert_ptr_null(strstr(d.reason, "step limit"));
	ck_assert_ptr_nonnull(strstr(d.reason, "above high"));
}
END_TEST

START_TEST(test_window_decides_once_a_period)
{
	struct tb_hp_params p = window();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, 100 * MiB, 1024 * MiB);

	tb_hp_init(&s, &p, 1024 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	f.now_ms = f.figures_ms = 999;
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_WAIT);
	ck_assert_uint_eq(s.decisions, 1);
	/* The same figures again: the target already covers them. */
	f.now_ms = f.figures_ms = 1000;
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert_uint_eq(s.decisions, 2);
	f.now_ms = f.figures_ms = 2000;
	f.reservation = 1088 * MiB;
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_eq(d.target, 1152 * MiB);
}
END_TEST

START_TEST(test_window_holds_on_stale_or_missing_figures)
{
	struct tb_hp_params p = window();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(5000, 100 * MiB, 1024 * MiB);

	tb_hp_init(&s, &p, 1024 * MiB, 5000);
	f.figures_ms = 1000;	/* 4 s old, stale after 3 periods */
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert_ptr_nonnull(strstr(d.reason, "stale"));
	f = fig(6000, -1, 1024 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert_ptr_nonnull(strstr(d.reason, "no guest figures"));
	ck_assert_uint_eq(s.target, 1024 * MiB);
}
END_TEST

START_TEST(test_window_clips_to_min_and_max)
{
	struct tb_hp_params p = window();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, 1000 * MiB, 300 * MiB);

	tb_hp_init(&s, &p, 300 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	ck_assert_uint_eq(d.target, 256 * MiB);
	f = fig(1000, 0, 2040 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_uint_eq(d.target, 2048 * MiB);
}
END_TEST

/*
 * A guest whose available memory is its reservation less what it uses,
 * following the target within one period (the balloon is fast; the
 * figures lag one period): the plant the scenarios run.
 */
static int run_pi(uint32_t kp, uint32_t ki, int periods, int64_t *last,
		  int *reversals)
{
	struct tb_hp_params p = tb_hp_defaults;
	struct tb_hp_state s;
	struct tb_hp_decision d;
	int64_t used = 400 * MiB, res = 1024 * MiB, prev = res, dir = 0;

	p.kind = TB_HP_PI;
	p.setpoint = 300 * MiB;
	p.kp_milli = kp;
	p.ki_milli = ki;
	p.min = 512 * MiB;
	p.max = 2048 * MiB;
	tb_hp_init(&s, &p, (uint64_t)res, 0);
	*reversals = 0;
	for (int i = 0; i < periods; i++) {
		struct tb_hp_figures f = fig((uint64_t)i * 1000, res - used,
					     res);
		tb_hp_decide(&s, &f, &d);
		int64_t t = (int64_t)s.target, step = t - prev;
		if (step > 16 * MiB || step < -16 * MiB) {
			int64_t nd = step > 0 ? 1 : -1;
			*reversals += dir && nd != dir;
			dir = nd;
		}
		prev = t;
		res = t;	/* the balloon reached it by the next period */
	}
	*last = res - used;
	return (int)s.changes;
}

START_TEST(test_pi_good_gains_settle_at_the_set_point)
{
	int64_t avail;
	int rev;

	run_pi(500, 200, 60, &avail, &rev);
	ck_assert_int_lt(llabs(avail - 300 * MiB), 4 * MiB);
	ck_assert_int_le(rev, 2);
}
END_TEST

START_TEST(test_pi_bad_gains_oscillate_between_the_bounds)
{
	int64_t avail;
	int rev;

	run_pi(2500, 500, 30, &avail, &rev);
	ck_assert_int_ge(rev, 10);
}
END_TEST

START_TEST(test_pi_integral_does_not_wind_up_while_clipped)
{
	struct tb_hp_params p = tb_hp_defaults;
	struct tb_hp_state s;
	struct tb_hp_decision d;

	p.kind = TB_HP_PI;
	p.setpoint = 300 * MiB;
	p.kp_milli = 500;
	p.ki_milli = 500;
	p.min = 512 * MiB;
	p.max = 1024 * MiB;
	tb_hp_init(&s, &p, 1024 * MiB, 0);
	/* A guest that needs far more than max for a minute. */
	for (int i = 0; i < 60; i++) {
		struct tb_hp_figures f = fig((uint64_t)i * 1000, 0,
					     1024 * MiB);
		tb_hp_decide(&s, &f, &d);
		ck_assert_uint_eq(s.target, 1024 * MiB);
	}
	/* Then it has plenty: the target leaves max at once. */
	struct tb_hp_figures f = fig(60000, 900 * MiB, 1024 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_lt(d.target, 1024 * MiB);
}
END_TEST

static struct tb_hp_params squeeze(void)
{
	struct tb_hp_params p = tb_hp_defaults;

	p.kind = TB_HP_SQUEEZE;
	p.target = 512 * MiB;
	p.max = 2048 * MiB;
	p.period_ms = 500;
	return p;
}

START_TEST(test_squeeze_sets_the_target_and_sees_it_reached)
{
	struct tb_hp_params p = squeeze();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, -1, 1024 * MiB);

	tb_hp_init(&s, &p, 1024 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_eq(d.target, 512 * MiB);
	f = fig(500, -1, 700 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_ptr_nonnull(strstr(d.reason, "progress"));
	f = fig(1000, -1, 514 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert_int_eq(s.phase, TB_HP_REACHED);
	ck_assert_uint_eq(s.stuck, 0);
}
END_TEST

START_TEST(test_squeeze_declares_a_guest_stuck_after_5s_and_replans)
{
	struct tb_hp_params p = squeeze();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, -1, 1024 * MiB);
	uint64_t t;

	tb_hp_init(&s, &p, 1024 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	/* It moves to 800 MiB by 1 s, then no further (pinned memory). */
	for (t = 500; t < 20000 && !d.stuck; t += 500) {
		f = fig(t, -1, t >= 1000 ? 800 * MiB : 900 * MiB);
		tb_hp_decide(&s, &f, &d);
	}
	ck_assert(d.stuck);
	ck_assert_uint_eq(t - 500, 6000);	/* 5 s after the last progress */
	ck_assert_int_eq(d.action, TB_HP_SET);
	ck_assert_uint_eq(d.target, 800 * MiB);
	ck_assert_ptr_nonnull(strstr(d.reason, "stuck"));
	ck_assert_uint_eq(s.stuck, 1);
	f = fig(t + 500, -1, 800 * MiB);
	tb_hp_decide(&s, &f, &d);
	ck_assert_int_eq(d.action, TB_HP_HOLD);
	ck_assert(!d.stuck);
}
END_TEST

START_TEST(test_squeeze_slow_progress_is_not_stuck)
{
	struct tb_hp_params p = squeeze();
	struct tb_hp_state s;
	struct tb_hp_decision d;
	struct tb_hp_figures f = fig(0, -1, 1024 * MiB);

	tb_hp_init(&s, &p, 1024 * MiB, 0);
	tb_hp_decide(&s, &f, &d);
	/* 2 MiB every 4 s: under the 5 s limit each time. */
	for (uint64_t t = 500; t < 40000; t += 500) {
		f = fig(t, -1, 1024 * MiB - (int64_t)(t / 4000) * 2 * MiB);
		tb_hp_decide(&s, &f, &d);
		ck_assert(!d.stuck);
	}
}
END_TEST

START_TEST(test_check_names_the_bad_parameter)
{
	struct tb_hp_params p = window();

	ck_assert_ptr_null(tb_hp_check(&p));
	p.low = p.high;
	ck_assert_ptr_nonnull(strstr(tb_hp_check(&p), "low"));
	p = window();
	p.period_ms = 10;
	ck_assert_ptr_nonnull(strstr(tb_hp_check(&p), "period"));
	p = squeeze();
	p.target = 0;
	ck_assert_ptr_nonnull(strstr(tb_hp_check(&p), "target"));
	p = tb_hp_defaults;
	p.kind = TB_HP_PI;
	p.setpoint = MiB;
	p.kp_milli = 200000;
	ck_assert_ptr_nonnull(strstr(tb_hp_check(&p), "kp"));
	ck_assert_int_eq(tb_hp_kind_parse("squeeze"), TB_HP_SQUEEZE);
	ck_assert_int_eq(tb_hp_kind_parse("squeezed"), -1);
	ck_assert_str_eq(tb_hp_kind_name(TB_HP_FREE_WINDOW), "free-window");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tb_policy_host");
	TCase *tw = tcase_create("free-window");
	TCase *tp = tcase_create("pi");
	TCase *tq = tcase_create("squeeze");
	TCase *tl = tcase_create("limits");
	SRunner *sr;
	int failed;

	tcase_add_test(tw, test_window_holds_inside_and_steps_towards_middle);
	tcase_add_test(tw, test_window_decides_once_a_period);
	tcase_add_test(tw, test_window_holds_on_stale_or_missing_figures);
	tcase_add_test(tw, test_window_clips_to_min_and_max);
	tcase_add_test(tp, test_pi_good_gains_settle_at_the_set_point);
	tcase_add_test(tp, test_pi_bad_gains_oscillate_between_the_bounds);
	tcase_add_test(tp, test_pi_integral_does_not_wind_up_while_clipped);
	tcase_add_test(tq, test_squeeze_sets_the_target_and_sees_it_reached);
	tcase_add_test(tq, test_squeeze_declares_a_guest_stuck_after_5s_and_replans);
	tcase_add_test(tq, test_squeeze_slow_progress_is_not_stuck);
	tcase_add_test(tl, test_check_names_the_bad_parameter);
	suite_add_tcase(s, tw);
	suite_add_tcase(s, tp);
	suite_add_tcase(s, tq);
	suite_add_tcase(s, tl);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
