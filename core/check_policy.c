// SPDX-License-Identifier: GPL-2.0-only
/* Check unit tests for tb_policy.c: the guest driver's convergence policy. */
#include <check.h>
#include <stdlib.h>

#include "tb_policy.h"

static struct tb_policy pol;

static void setup(void)
{
	tb_policy_init(&pol, &tb_policy_defaults);
}

START_TEST(test_target_clips_hotplug_and_min)
{
	struct tb_target t = tb_policy_target(5000, 100, 4000, 4000);

	ck_assert_uint_eq(t.pages, 4000);
	ck_assert(t.hotplug_clipped && !t.max_clipped);
	ck_assert(!t.min_clipped);
	t = tb_policy_target(50, 100, 4000, 4000);
	ck_assert_uint_eq(t.pages, 100);
	ck_assert(t.min_clipped && !t.hotplug_clipped && !t.max_clipped);
	t = tb_policy_target(300, 100, 4000, 4000);
	ck_assert_uint_eq(t.pages, 300);
	ck_assert(!t.min_clipped && !t.hotplug_clipped && !t.max_clipped);
	ck_assert_uint_eq(tb_policy_safeguard(1000, 256), 1256);
}
END_TEST

START_TEST(test_target_hotplug_only_above_boot_memory)
{
	/* max reservation 3000 of 4000 boot pages */
	struct tb_target t = tb_policy_target(3500, 100, 3000, 4000);

	ck_assert_uint_eq(t.pages, 3000);
	ck_assert(t.max_clipped && !t.hotplug_clipped);
	t = tb_policy_target(4000, 100, 3000, 4000);
	ck_assert(t.max_clipped && !t.hotplug_clipped);
	t = tb_policy_target(4001, 100, 3000, 4000);
	ck_assert_uint_eq(t.pages, 3000);
	ck_assert(t.hotplug_clipped && !t.max_clipped);
	t = tb_policy_target(3000, 100, 3000, 4000);
	ck_assert(!t.hotplug_clipped && !t.max_clipped);
}
END_TEST

START_TEST(test_plan_is_bounded_by_rate)
{
	struct tb_pass p = tb_policy_plan(&pol, 1000000, 0, 0);

	ck_assert_int_eq(p.dir, TB_DIR_INFLATE);
	ck_assert_uint_eq(p.pages, tb_policy_defaults.rate_min);
	ck_assert_uint_eq(p.order, TB_ORDER_2M);
	p = tb_policy_plan(&pol, 1000, 1000, 0);
	ck_assert_int_eq(p.dir, TB_DIR_NONE);
}
END_TEST

START_TEST(test_plan_small_steps_use_4k)
{
	struct tb_pass p = tb_policy_plan(&pol, 1100, 1000, 0);

	ck_assert_int_eq(p.dir, TB_DIR_INFLATE);
	ck_assert_uint_eq(p.pages, 100);
	ck_assert_uint_eq(p.order, TB_ORDER_4K);
	p = tb_policy_plan(&pol, 1000, 1100, 100);
	ck_assert_int_eq(p.dir, TB_DIR_DEFLATE);
	ck_assert_uint_eq(p.order, TB_ORDER_4K);
	/* Not enough 4 KiB pages: a 2 MiB page goes back. */
	p = tb_policy_plan(&pol, 1000, 1100, 10);
	ck_assert_uint_eq(p.order, TB_ORDER_2M);
	/* Deflate has its own rate, starting at rate_min too. */
	p = tb_policy_plan(&pol, 0, 1000000, 0);
	ck_assert_uint_eq(p.pages, tb_policy_defaults.rate_min);
}
END_TEST

START_TEST(test_rate_grows_on_success_and_halves_on_failure)
{
	uint32_t r0 = pol.rate;

	ck_assert_int_eq(tb_policy_inflated(&pol, r0, r0, false, false),
			 TB_OUT_DONE);
	ck_assert_uint_eq(pol.rate, 2 * r0);
	while (pol.rate < tb_policy_defaults.rate_max)
		tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	ck_assert_uint_eq(pol.rate, tb_policy_defaults.rate_max);

	pol.order = TB_ORDER_4K;
	ck_assert_int_eq(tb_policy_inflated(&pol, 100, 10, true, false),
			 TB_OUT_STALLED);
	ck_assert_uint_eq(pol.rate, tb_policy_defaults.rate_max / 2);
	ck_assert_uint_eq(pol.backoff_ms, tb_policy_defaults.backoff_min_ms);
	tb_policy_inflated(&pol, 100, 10, true, false);
	ck_assert_uint_eq(pol.backoff_ms, 2 * tb_policy_defaults.backoff_min_ms);
	while (pol.rate > tb_policy_defaults.rate_min)
		tb_policy_inflated(&pol, 100, 10, true, false);
	ck_assert_uint_eq(pol.backoff_ms, tb_policy_defaults.backoff_max_ms);
	ck_assert_uint_eq(pol.rate, tb_policy_defaults.rate_min);
}
END_TEST

START_TEST(test_rate_grows_only_after_a_pass_that_used_it_all)
{
	uint32_t r0 = pol.rate;

	tb_policy_inflated(&pol, r0 / 2, r0 / 2, false, false);
	ck_assert_uint_eq(pol.rate, r0);
	tb_policy_inflated(&pol, r0, r0, false, false);
	ck_assert_uint_eq(pol.rate, 2 * r0);
}
END_TEST

/* vmw_balloon's sleeping-allocation rate: 512 up by 16 a cycle to 2048. */
START_TEST(test_rate_inc_grows_additively_up_to_rate_max)
{
	struct tb_policy_params p = tb_policy_defaults;
	int i;

	p.rate_min = 512;
	p.rate_max = 2048;
	p.rate_inc = 16;
	tb_policy_init(&pol, &p);
	tb_policy_inflated(&pol, 512, 512, false, false);
	ck_assert_uint_eq(pol.rate, 528);
	for (i = 0; i < 200; i++)
		tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	ck_assert_uint_eq(pol.rate, 2048);
	/* A failure halves it, not below rate_min. */
	pol.order = TB_ORDER_4K;
	tb_policy_inflated(&pol, 2048, 10, true, false);
	ck_assert_uint_eq(pol.rate, 1024);
	tb_policy_inflated(&pol, 1024, 10, true, false);
	tb_policy_inflated(&pol, 512, 10, true, false);
	ck_assert_uint_eq(pol.rate, 512);
}
END_TEST

START_TEST(test_sleeping_allocation_halves_the_rate_without_backing_off)
{
	uint32_t r;

	tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	r = pol.rate;
	tb_policy_slept(&pol);
	ck_assert_int_eq(tb_policy_inflated(&pol, r, r, false, false),
			 TB_OUT_DONE);
	ck_assert_uint_eq(pol.rate, r / 2);
	ck_assert_uint_eq(pol.backoff_ms, 0);
	ck_assert_uint_eq(pol.slow_passes, 1);
	/* The mark is the pass's only: the next good pass grows again. */
	tb_policy_inflated(&pol, r / 2, r / 2, false, false);
	ck_assert_uint_eq(pol.rate, r);
	ck_assert_uint_eq(pol.slow_passes, 1);
}
END_TEST

START_TEST(test_deflate_rate_grows_and_halves_on_short_grant)
{
	struct tb_pass p;
	uint32_t r0 = pol.deflate_rate;

	ck_assert(!tb_policy_deflated(&pol, r0, r0));
	ck_assert_uint_eq(pol.deflate_rate, 2 * r0);
	p = tb_policy_plan(&pol, 0, 1000000, 0);
	ck_assert_uint_eq(p.pages, 2 * r0);
	/* A smaller pass than the rate does not grow it. */
	ck_assert(!tb_policy_deflated(&pol, 10, 10));
	ck_assert_uint_eq(pol.deflate_rate, 2 * r0);
	ck_assert(tb_policy_deflated(&pol, 2 * r0, 5));
	ck_assert_uint_eq(pol.deflate_rate, r0);
	/* The inflate rate is its own. */
	ck_assert_uint_eq(pol.rate, r0);
}
END_TEST

START_TEST(test_order_falls_back_and_moves_back_up)
{
	uint32_t i;

	ck_assert_int_eq(tb_policy_inflated(&pol, 1024, 0, true, false),
			 TB_OUT_FALLBACK);
	ck_assert_uint_eq(pol.order, TB_ORDER_4K);
	ck_assert_uint_eq(pol.fallbacks, 1);
	ck_assert_uint_eq(pol.backoff_ms, 0);	/* retry at once with 4 KiB */
	for (i = 1; i < tb_policy_defaults.upgrade_after; i++)
		tb_policy_inflated(&pol, 10, 10, false, false);
	ck_assert_uint_eq(pol.order, TB_ORDER_4K);
	tb_policy_inflated(&pol, 10, 10, false, false);
	ck_assert_uint_eq(pol.order, TB_ORDER_2M);
}
END_TEST

/* fallback_4k=0: a failed 2 MiB allocation is a stall, not a fallback. */
START_TEST(test_no_fallback_stays_at_2m_and_backs_off)
{
	struct tb_policy_params p = tb_policy_defaults;

	p.no_fallback = true;
	tb_policy_init(&pol, &p);
	pol.rate = 4096;
	ck_assert_int_eq(tb_policy_inflated(&pol, 4096, 1024, true, false),
			 TB_OUT_STALLED);
	ck_assert_uint_eq(pol.order, TB_ORDER_2M);
	ck_assert_uint_eq(pol.fallbacks, 0);
	ck_assert_uint_eq(pol.backoff_ms, p.backoff_min_ms);
	ck_assert_uint_eq(pol.rate, 2048);
	ck_assert_int_eq(tb_policy_inflated(&pol, 2048, 0, true, false),
			 TB_OUT_STALLED);
	ck_assert_uint_eq(pol.order, TB_ORDER_2M);
	ck_assert_uint_eq(pol.backoff_ms, 2 * p.backoff_min_ms);
}
END_TEST

START_TEST(test_max_balloon_caps_and_partial_grant_backs_off)
{
	ck_assert_int_eq(tb_policy_inflated(&pol, 100, 50, false, true),
			 TB_OUT_CAPPED);
	ck_assert(tb_policy_deflated(&pol, 100, 30));
	ck_assert(!tb_policy_deflated(&pol, 100, 100));
	ck_assert_uint_eq(pol.backoff_ms, 0);
}
END_TEST

START_TEST(test_warning_once_per_episode)
{
	ck_assert(tb_policy_warn_once(&pol));
	ck_assert(!tb_policy_warn_once(&pol));
	tb_policy_settled(&pol);
	ck_assert(tb_policy_warn_once(&pol));
}
END_TEST

START_TEST(test_pressure_drops_rate_and_holds_off)
{
	tb_policy_inflated(&pol, pol.rate, pol.rate, false, false);
	tb_policy_pressure(&pol, 3000);
	ck_assert_uint_eq(pol.rate, tb_policy_defaults.rate_min);
	ck_assert_uint_eq(pol.backoff_ms, 3000);
}
END_TEST

START_TEST(test_init_sanitises_params)
{
	struct tb_policy_params p = { .batch = 100000, .rate_min = 0,
				      .rate_max = 0 };

	tb_policy_init(&pol, &p);
	ck_assert_uint_eq(pol.p.batch, TB_BATCH_MAX);
	ck_assert_uint_eq(pol.rate, 1);
	ck_assert_uint_eq(pol.order, TB_ORDER_4K);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("tb_policy");
	TCase *tc;

	tc = tcase_create("plan");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_target_clips_hotplug_and_min);
	tcase_add_test(tc, test_target_hotplug_only_above_boot_memory);
	tcase_add_test(tc, test_plan_is_bounded_by_rate);
	tcase_add_test(tc, test_plan_small_steps_use_4k);
	tcase_add_test(tc, test_init_sanitises_params);
	suite_add_tcase(s, tc);

	tc = tcase_create("adapt");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_rate_grows_on_success_and_halves_on_failure);
	tcase_add_test(tc, test_rate_grows_only_after_a_pass_that_used_it_all);
	tcase_add_test(tc, test_rate_inc_grows_additively_up_to_rate_max);
	tcase_add_test(tc, test_sleeping_allocation_halves_the_rate_without_backing_off);
	tcase_add_test(tc, test_deflate_rate_grows_and_halves_on_short_grant);
	tcase_add_test(tc, test_order_falls_back_and_moves_back_up);
	tcase_add_test(tc, test_no_fallback_stays_at_2m_and_backs_off);
	tcase_add_test(tc, test_max_balloon_caps_and_partial_grant_backs_off);
	tcase_add_test(tc, test_warning_once_per_episode);
	tcase_add_test(tc, test_pressure_drops_rate_and_holds_off);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(policy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
