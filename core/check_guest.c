// SPDX-License-Identifier: GPL-2.0-only
/*
 * Check unit tests for tb_guest.c: the guest driver's decisions between
 * passes (targets, limits, episodes, pressure, sysfs writes, page sizes).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_guest.h"

#define BOOT	262144u		/* 1 GiB */
#define WMARK	1000u
#define MARGIN	256u
#define MIB	256u		/* pages */
/* The floor of a 1 GiB guest: 52 MiB + 1/16 of memory = 116 MiB. */
#define SAFE	(52u * MIB + BOOT / 16)
#define BAND	(SAFE / 4)

/* The floor's settings as the driver gives them by default. */
static const struct tb_floor_params FP = {
	.min_free = WMARK, .min_margin = MARGIN,
};

static struct tb_guest g;

static struct tb_guest_regs regs(uint64_t gen, uint64_t target)
{
	return (struct tb_guest_regs){ .gen = gen, .target = target,
				       .max_reservation = 0,
				       .max_balloon = BOOT };
}

static void setup(void)
{
	struct tb_policy_params none = { .use_2m = true };
	struct tb_guest_regs r = regs(1, BOOT);

	tb_guest_init(&g, &none, BOOT, &FP);
	tb_guest_probe(&g, &r);
}

/* ---- init and probe ---- */

START_TEST(test_init_zero_tunables_take_policy_defaults)
{
	struct tb_policy_params set = { .rate_max = 4096, .use_2m = false };

	tb_guest_init(&g, &set, BOOT, &FP);
	ck_assert_uint_eq(g.pol.p.batch, tb_policy_defaults.batch);
	ck_assert_uint_eq(g.pol.p.rate_min, tb_policy_defaults.rate_min);
	ck_assert_uint_eq(g.pol.p.rate_max, 4096);
	ck_assert_uint_eq(g.pol.p.upgrade_after, tb_policy_defaults.upgrade_after);
	ck_assert(!g.pol.p.use_2m);
	ck_assert_uint_eq(g.pol.order, TB_ORDER_4K);
}
END_TEST

START_TEST(test_init_min_starts_at_safeguard)
{
	ck_assert_uint_eq(g.safeguard, SAFE);
	ck_assert_uint_eq(g.min, SAFE);
	ck_assert(!g.warn_at_min);
}
END_TEST

START_TEST(test_probe_takes_host_target_clipped)
{
	struct tb_guest_regs r = regs(7, 10);

	tb_guest_probe(&g, &r);
	ck_assert_uint_eq(g.asked, 10);
	ck_assert_uint_eq(g.target, SAFE);
	ck_assert_uint_eq(g.host_gen, 7);
	/* The probe's target is no news on the first pass. */
	ck_assert_uint_eq(tb_guest_refresh(&g, &r), 0);
}
END_TEST

/* ---- refresh ---- */

START_TEST(test_refresh_new_host_target_wins_and_starts_episode)
{
	struct tb_guest_regs r = regs(2, 100000);

	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, 200000 * 4), TB_STORE_OK);
	g.settled = true;
	g.pol.warned = true;
	g.pol.backoff_ms = 400;
	ck_assert_uint_eq(tb_guest_refresh(&g, &r), TB_REFRESH_NEW);
	ck_assert_uint_eq(g.asked, 100000);
	ck_assert(!g.settled);
	ck_assert(!g.pol.warned);
	ck_assert_uint_eq(g.pol.backoff_ms, 0);
}
END_TEST

START_TEST(test_refresh_unchanged_host_keeps_admin_target)
{
	struct tb_guest_regs r = regs(1, BOOT);

	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, 200000 * 4), TB_STORE_OK);
	g.settled = true;
	ck_assert_uint_eq(tb_guest_refresh(&g, &r), 0);
	ck_assert_uint_eq(g.asked, 200000);
	ck_assert(g.settled);
}
END_TEST

START_TEST(test_refresh_target_change_alone_is_news)
{
	struct tb_guest_regs r = regs(1, 5000);

	ck_assert_uint_eq(tb_guest_refresh(&g, &r), TB_REFRESH_NEW);
	ck_assert_uint_eq(g.asked, 5000);
}
END_TEST

START_TEST(test_refresh_flags_absurd_targets_but_takes_them)
{
	struct tb_guest_regs r = regs(2, 0);

	ck_assert_uint_eq(tb_guest_refresh(&g, &r),
			  TB_REFRESH_NEW | TB_REFRESH_ABSURD);
	ck_assert_uint_eq(g.asked, 0);
	r = regs(3, 2 * BOOT + 1);
	ck_assert_uint_eq(tb_guest_refresh(&g, &r),
			  TB_REFRESH_NEW | TB_REFRESH_ABSURD);
	ck_assert_uint_eq(g.asked, 2 * BOOT + 1);
	r = regs(4, 2 * BOOT);
	ck_assert_uint_eq(tb_guest_refresh(&g, &r), TB_REFRESH_NEW);
}
END_TEST

START_TEST(test_refresh_limits_are_ram_max_reservation_and_min)
{
	struct tb_guest_regs r = regs(1, BOOT);

	r.max_reservation = 0;			/* no limit: RAM */
	r.max_balloon = 2 * BOOT;		/* past RAM: RAM */
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(g.max_res, BOOT);
	ck_assert_uint_eq(g.max_balloon, BOOT);
	r.max_reservation = 100000;
	r.max_balloon = 5000;
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(g.max_res, 100000);
	ck_assert_uint_eq(g.max_balloon, 5000);
	r.max_reservation = 2 * BOOT;		/* past RAM: RAM */
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(g.max_res, BOOT);
	/* Never below min. */
	r.max_reservation = 10;
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(g.max_res, SAFE);
}
END_TEST

START_TEST(test_poll_interval_is_clamped)
{
	ck_assert_uint_eq(tb_guest_poll_ms(0), TB_POLL_MS_MIN);
	ck_assert_uint_eq(tb_guest_poll_ms(9), 10);
	ck_assert_uint_eq(tb_guest_poll_ms(1000), 1000);
	ck_assert_uint_eq(tb_guest_poll_ms(600001), TB_POLL_MS_MAX);
}
END_TEST

/* ---- a pass's start ---- */

START_TEST(test_begin_clips_hotplug_and_says_so_once_per_value)
{
	struct tb_guest_regs r = regs(2, BOOT + 100);
	struct tb_guest_step st;

	r.max_reservation = BOOT - 1000;
	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert(st.clip_msg);
	ck_assert_uint_eq(g.asked, BOOT + 100);
	ck_assert_uint_eq(g.target, BOOT - 1000);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert(!st.clip_msg);
	/* A new asked value above max is said again. */
	r = regs(3, BOOT + 200);
	r.max_reservation = BOOT - 1000;
	tb_guest_refresh(&g, &r);
	ck_assert(tb_guest_begin(&g, BOOT, 0, 0).clip_msg);
}
END_TEST

START_TEST(test_begin_max_reservation_below_boot_has_its_own_message)
{
	struct tb_guest_regs r = regs(2, BOOT - 100);
	struct tb_guest_step st;

	/* Within boot memory, above the host's limit: not hot-plug. */
	r.max_reservation = BOOT - 1000;
	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert(st.maxres_msg && !st.clip_msg);
	ck_assert_uint_eq(g.target, BOOT - 1000);
	ck_assert(!tb_guest_begin(&g, BOOT, 0, 0).maxres_msg);
	/* Boot memory itself is no hot-plug either. */
	r = regs(3, BOOT);
	r.max_reservation = BOOT - 1000;
	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert(st.maxres_msg && !st.clip_msg);
	/* Without a limit, boot memory is no clip at all. */
	r = regs(4, BOOT);
	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert(!st.maxres_msg && !st.clip_msg);
	ck_assert_uint_eq(g.target, BOOT);
}
END_TEST

START_TEST(test_next_pass_at_once_with_irq_at_next_poll_polling)
{
	ck_assert_uint_eq(tb_guest_next_ms(&g, false, 1000), 0);
	ck_assert_uint_eq(tb_guest_next_ms(&g, true, 1000), 1000);
	g.pol.backoff_ms = 300;
	ck_assert_uint_eq(tb_guest_next_ms(&g, false, 1000), 300);
	ck_assert_uint_eq(tb_guest_next_ms(&g, true, 1000), 1000);
	g.pol.backoff_ms = 5000;
	ck_assert_uint_eq(tb_guest_next_ms(&g, true, 1000), 5000);
}
END_TEST

START_TEST(test_init_takes_rate_inc_as_given)
{
	struct tb_policy_params set = { .rate_min = 512, .rate_max = 2048,
					.rate_inc = 16 };

	tb_guest_init(&g, &set, BOOT, &FP);
	ck_assert_uint_eq(g.pol.p.rate_inc, 16);
	ck_assert_uint_eq(g.pol.rate, 512);
	ck_assert_uint_eq(g.pol.deflate_rate, 512);
}
END_TEST

START_TEST(test_begin_reached_once_per_episode)
{
	struct tb_guest_step st;

	g.pol.warned = true;
	g.pol.backoff_ms = 300;
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert_int_eq(st.pass.dir, TB_DIR_NONE);
	ck_assert(st.reached_msg);
	ck_assert(g.settled);
	/* The episode's end resets its warning and back-off. */
	ck_assert(!g.pol.warned);
	ck_assert_uint_eq(g.pol.backoff_ms, 0);
	ck_assert(!tb_guest_begin(&g, BOOT, 0, 0).reached_msg);
	/* Moving ends the episode; reaching again says so again. */
	st = tb_guest_begin(&g, BOOT + 10, 0, 0);
	ck_assert_int_eq(st.pass.dir, TB_DIR_INFLATE);
	ck_assert(!g.settled);
	ck_assert(tb_guest_begin(&g, BOOT, 0, 0).reached_msg);
}
END_TEST

/* A fallback holds for the rest of its episode; the next target starts at
 * 2 MiB again (vmw_balloon starts every inflate at 2 MiB), be it the
 * host's or the admin's. */
START_TEST(test_new_target_starts_at_2m_after_a_fallback)
{
	struct tb_guest_regs r = regs(2, BOOT / 2);
	struct tb_guest_step st;

	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert_uint_eq(st.pass.order, TB_ORDER_2M);
	tb_guest_inflated(&g, &st.pass, 0, true, false);
	ck_assert_uint_eq(g.pol.fallbacks, 1);
	st = tb_guest_begin(&g, BOOT, 0, 0);
	ck_assert_uint_eq(st.pass.order, TB_ORDER_4K);
	tb_guest_inflated(&g, &st.pass, st.pass.pages, false, false);
	st = tb_guest_begin(&g, BOOT - st.pass.pages, 0, 0);
	ck_assert_uint_eq(st.pass.order, TB_ORDER_4K);

	/* The host's next target: 2 MiB first. */
	r = regs(3, BOOT / 4);
	ck_assert_uint_eq(tb_guest_refresh(&g, &r), TB_REFRESH_NEW);
	st = tb_guest_begin(&g, BOOT / 2, 0, 0);
	ck_assert_int_eq(st.pass.dir, TB_DIR_INFLATE);
	ck_assert_uint_eq(st.pass.order, TB_ORDER_2M);

	/* The same after a fallback under an admin's target. */
	tb_guest_inflated(&g, &st.pass, 0, true, false);
	ck_assert_uint_eq(tb_guest_begin(&g, BOOT / 2, 0, 0).pass.order,
			  TB_ORDER_4K);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, BOOT / 8 * 4),
			 TB_STORE_OK);
	ck_assert_uint_eq(tb_guest_begin(&g, BOOT / 2, 0, 0).pass.order,
			  TB_ORDER_2M);
}
END_TEST

/* use_2m=0: a new episode stays at 4 KiB. */
START_TEST(test_new_target_without_2m_stays_at_4k)
{
	struct tb_policy_params p = { .use_2m = false };
	struct tb_guest_regs r = regs(1, BOOT);

	tb_guest_init(&g, &p, BOOT, &FP);
	tb_guest_probe(&g, &r);
	r = regs(2, BOOT / 2);
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(tb_guest_begin(&g, BOOT, 0, 0).pass.order,
			  TB_ORDER_4K);
}
END_TEST

START_TEST(test_begin_held_at_min_warns_once_when_enabled)
{
	struct tb_guest_regs r = regs(2, 10);
	struct tb_guest_step st;

	g.warn_at_min = true;
	tb_guest_refresh(&g, &r);
	st = tb_guest_begin(&g, SAFE, 0, 0);
	ck_assert_int_eq(st.pass.dir, TB_DIR_NONE);
	ck_assert_uint_eq(g.target, SAFE);
	ck_assert(st.min_msg);
	ck_assert(!tb_guest_begin(&g, SAFE, 0, 0).min_msg);
}
END_TEST

START_TEST(test_begin_held_at_min_silent_when_disabled)
{
	struct tb_guest_regs r = regs(2, 10);

	tb_guest_refresh(&g, &r);
	ck_assert(!tb_guest_begin(&g, SAFE, 0, 0).min_msg);
	ck_assert(!g.pol.warned);
}
END_TEST

START_TEST(test_pressure_holds_inflation_off_until_its_time)
{
	struct tb_guest_regs r = regs(2, 100000);
	struct tb_guest_step st;

	tb_guest_refresh(&g, &r);
	tb_guest_pressure(&g, 128, 5000, 1000);
	ck_assert_uint_eq(g.pressure_until, 1000);
	ck_assert_uint_eq(g.pol.rate, g.pol.p.rate_min);
	ck_assert_uint_ge(g.pol.backoff_ms, 5000);
	st = tb_guest_begin(&g, BOOT, 999, 0);
	ck_assert(st.held_off);
	ck_assert_int_eq(st.pass.dir, TB_DIR_NONE);
	st = tb_guest_begin(&g, BOOT, 1000, 0);
	ck_assert(!st.held_off);
	ck_assert_int_eq(st.pass.dir, TB_DIR_INFLATE);
}
END_TEST

START_TEST(test_pressure_does_not_hold_deflation)
{
	struct tb_guest_step st;

	tb_guest_pressure(&g, 128, 5000, 1000);
	st = tb_guest_begin(&g, BOOT - 5000, 0, 0);
	ck_assert(!st.held_off);
	ck_assert_int_eq(st.pass.dir, TB_DIR_DEFLATE);
}
END_TEST

START_TEST(test_pressure_hold_off_survives_a_wrapping_clock)
{
	struct tb_guest_regs r = regs(2, 100000);
	uint64_t near_wrap = ~(uint64_t)0 - 10;

	tb_guest_refresh(&g, &r);
	tb_guest_pressure(&g, 1, 5000, near_wrap + 100);	/* wraps to 89 */
	ck_assert(tb_guest_begin(&g, BOOT, near_wrap, 0).held_off);
	ck_assert(!tb_guest_begin(&g, BOOT, 89, 0).held_off);
}
END_TEST

START_TEST(test_pressure_with_nothing_given_back_changes_nothing)
{
	g.settled = true;
	tb_guest_pressure(&g, 0, 5000, 1000);
	ck_assert_uint_eq(g.pressure_until, 0);
	ck_assert(g.settled);
	ck_assert_uint_eq(g.pol.backoff_ms, 0);
}
END_TEST

START_TEST(test_pressure_ends_the_episode)
{
	g.settled = true;
	tb_guest_pressure(&g, 1, 5000, 1000);
	ck_assert(!g.settled);
}
END_TEST

/* ---- page sizes ---- */

START_TEST(test_inflate_want_stops_at_max_balloon)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 3000 };
	struct tb_guest_regs r = regs(1, BOOT);
	bool clamped, fl;

	r.max_balloon = 5000;
	tb_guest_refresh(&g, &r);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 1000, BOOT, &clamped, &fl), 3000);
	ck_assert(!clamped && !fl);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 2000, BOOT, &clamped, &fl), 3000);
	ck_assert(!clamped);			/* room for exactly the pass */
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 4000, BOOT, &clamped, &fl), 1000);
	ck_assert(clamped && !fl);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 6000, BOOT, &clamped, &fl), 0);
	ck_assert(clamped);
}
END_TEST

/* ---- the floor ---- */

START_TEST(test_floor_curve_grows_with_memory_size)
{
	/* Half of hv_balloon's compute_balloon_floor(). */
	ck_assert_uint_eq(tb_guest_floor_curve(512 * MIB), 84 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(1024 * MIB), 116 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(2048 * MIB), 180 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(4096 * MIB), 244 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(128 * MIB), 36 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(8192 * MIB), 372 * MIB);
	ck_assert_uint_eq(tb_guest_floor_curve(16384 * MIB), 500 * MIB);
}
END_TEST

START_TEST(test_boot_pages_overstated_by_device_are_clamped)
{
	uint64_t present = 512 * MIB - 150;	/* pc, 512 MiB: holes, ACPI */
	bool over = true;

	/* An honest device: the machine's RAM, a little above present. */
	ck_assert_uint_eq(tb_guest_boot_pages(512 * MIB, present, &over), 512 * MIB);
	ck_assert(!over);
	/* Understated: taken as said (the reservation is only smaller). */
	ck_assert_uint_eq(tb_guest_boot_pages(256 * MIB, present, &over), 256 * MIB);
	ck_assert(!over);
	/* Within the slack (1/64 + 16 MiB) still taken ... */
	ck_assert_uint_eq(tb_guest_boot_pages(present + TB_BOOT_SLACK(present), present, &over),
			  present + TB_BOOT_SLACK(present));
	ck_assert(!over);
	/* ... one page past it is the device overstating. */
	ck_assert_uint_eq(tb_guest_boot_pages(present + TB_BOOT_SLACK(present) + 1, present, &over),
			  present);
	ck_assert(over);
	ck_assert_uint_eq(tb_guest_boot_pages(1024 * MIB, present, &over), present);
	ck_assert(over);
	/* Nothing known of the guest's memory: the device is taken. */
	ck_assert_uint_eq(tb_guest_boot_pages(1024 * MIB, 0, &over), 1024 * MIB);
	ck_assert(!over);
}
END_TEST

START_TEST(test_floor_curve_is_continuous_and_rising)
{
	static const uint64_t knees[] = { 128, 512, 2048, 8192 };
	uint64_t n, last = 0;
	unsigned int i;

	/* No jump at a knee: one page less gives at most one page less. */
	for (i = 0; i < sizeof(knees) / sizeof(knees[0]); i++) {
		uint64_t k = knees[i] * MIB;

		ck_assert_uint_le(tb_guest_floor_curve(k) -
				  tb_guest_floor_curve(k - 1), 1);
	}
	for (n = 0; n <= 16384 * MIB; n += 4 * MIB) {
		ck_assert_uint_ge(tb_guest_floor_curve(n), last);
		ck_assert_uint_lt(tb_guest_floor_curve(n), n + 4 * MIB + 1);
		last = tb_guest_floor_curve(n);
	}
}
END_TEST

START_TEST(test_floor_is_safeguard_min_and_sysfs_floor)
{
	ck_assert_uint_eq(g.floor, SAFE);
	ck_assert_uint_eq(g.safeguard, g.floor);
	ck_assert_uint_eq(g.min, g.floor);
	ck_assert_uint_eq(g.band, SAFE / 4);
	ck_assert_uint_eq(tb_guest_show(&g, TB_ATTR_FLOOR, 0), SAFE);
	ck_assert_int_eq(tb_guest_attr_lookup("floor"), TB_ATTR_FLOOR);
	ck_assert(!tb_guest_attr_writable(TB_ATTR_FLOOR));
}
END_TEST

START_TEST(test_floor_set_but_never_below_watermark_nor_above_memory)
{
	struct tb_policy_params none = { .use_2m = true };
	struct tb_floor_params fp = FP;

	fp.floor = 5000;
	fp.band = 300;
	tb_guest_init(&g, &none, BOOT, &fp);
	ck_assert_uint_eq(g.floor, 5000);
	ck_assert_uint_eq(g.band, 300);
	ck_assert_uint_eq(g.min, 5000);
	fp.floor = 10;			/* below min watermark + margin */
	tb_guest_init(&g, &none, BOOT, &fp);
	ck_assert_uint_eq(g.floor, WMARK + MARGIN);
	ck_assert_uint_eq(g.safeguard, WMARK + MARGIN);
	fp.floor = 2 * BOOT;
	tb_guest_init(&g, &none, BOOT, &fp);
	ck_assert_uint_eq(g.floor, BOOT);
}
END_TEST

START_TEST(test_floor_none_is_the_old_safeguard_and_no_inflate_cap)
{
	struct tb_policy_params none = { .use_2m = true };
	struct tb_floor_params fp = FP;
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 3000 };
	struct tb_guest_regs r = regs(1, BOOT);
	bool clamped, fl;

	fp.none = true;
	tb_guest_init(&g, &none, BOOT, &fp);
	tb_guest_probe(&g, &r);
	ck_assert_uint_eq(g.safeguard, WMARK + MARGIN);
	ck_assert_uint_eq(g.min, WMARK + MARGIN);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, 0, &clamped, &fl), 3000);
	ck_assert(!fl);
}
END_TEST

START_TEST(test_inflate_leaves_the_floor_and_band_available)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 3000 };
	bool clamped, fl;

	ck_assert_uint_eq(tb_guest_inflate_floor(&g), SAFE + BAND);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE + BAND + 3000,
						&clamped, &fl), 3000);
	ck_assert(!fl && !clamped);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE + BAND + 1000,
						&clamped, &fl), 1000);
	ck_assert(fl && !clamped);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE + BAND,
						&clamped, &fl), 0);
	ck_assert(fl);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE / 2,
						&clamped, &fl), 0);
	ck_assert(fl);
}
END_TEST

START_TEST(test_inflate_stopped_at_floor_warns_once)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 1000 };
	struct tb_guest_end e;
	bool clamped, fl;
	uint64_t want = tb_guest_inflate_want(&g, &p, 0, SAFE + BAND + 10,
					      &clamped, &fl);

	e = tb_guest_inflated(&g, &p, want, false, clamped);
	ck_assert(e.backoff && e.unreached_msg);
	e = tb_guest_inflated(&g, &p, 0, false, false);
	ck_assert(e.backoff && !e.unreached_msg);
}
END_TEST

START_TEST(test_pressure_gives_nothing_at_the_floor_or_above)
{
	ck_assert_uint_eq(tb_guest_pressure_want(&g, SAFE, 100000), 0);
	ck_assert_uint_eq(tb_guest_pressure_want(&g, BOOT, 100000), 0);
}
END_TEST

START_TEST(test_pressure_gives_back_up_to_floor_plus_band)
{
	ck_assert_uint_eq(tb_guest_pressure_want(&g, SAFE - 1, 100000), BAND + 1);
	ck_assert_uint_eq(tb_guest_pressure_want(&g, 0, 100000), SAFE + BAND);
	/* Not more than the balloon holds. */
	ck_assert_uint_eq(tb_guest_pressure_want(&g, 0, 100), 100);
	ck_assert_uint_eq(tb_guest_pressure_want(&g, 0, 0), 0);
}
END_TEST

START_TEST(test_pressure_band_is_hysteresis_no_take_back_no_move)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 3000 };
	bool clamped, fl;

	/* Given back to floor + band: the next pass takes none of it. */
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE + BAND,
						&clamped, &fl), 0);
	ck_assert(fl);
	/* Stopped at floor + band, the guest may use a band's worth before
	 * pressure gives anything back... */
	ck_assert_uint_eq(tb_guest_pressure_want(&g, SAFE + BAND - BAND, 100000), 0);
	/* ... and one page more brings the balloon back to floor + band. */
	ck_assert_uint_eq(tb_guest_pressure_want(&g, SAFE - 1, 100000), BAND + 1);
	ck_assert_uint_eq(tb_guest_inflate_want(&g, &p, 0, SAFE + BAND + 10,
						&clamped, &fl), 10);
}
END_TEST

START_TEST(test_inflate_order_2m_only_when_asked_fits_and_offered)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .order = TB_ORDER_2M };

	ck_assert_uint_eq(tb_guest_inflate_order(&p, 512, true), TB_ORDER_2M);
	ck_assert_uint_eq(tb_guest_inflate_order(&p, 511, true), TB_ORDER_4K);
	ck_assert_uint_eq(tb_guest_inflate_order(&p, 512, false), TB_ORDER_4K);
	p.order = TB_ORDER_4K;
	ck_assert_uint_eq(tb_guest_inflate_order(&p, 512, true), TB_ORDER_4K);
}
END_TEST

START_TEST(test_deflate_order_prefers_asked_size_without_overshoot)
{
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_2M, 512, true, true),
			  TB_ORDER_2M);
	/* Small rest: a 4 KiB page, unless none is left. */
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_2M, 100, true, true),
			  TB_ORDER_4K);
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_2M, 100, false, true),
			  TB_ORDER_2M);
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_2M, 512, true, false),
			  TB_ORDER_4K);
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_4K, 512, true, true),
			  TB_ORDER_4K);
	ck_assert_uint_eq(tb_guest_deflate_order(TB_ORDER_4K, 1, false, true),
			  TB_ORDER_2M);
}
END_TEST

START_TEST(test_inflate_keeps_pages_the_host_may_hold)
{
	ck_assert(tb_guest_inflate_kept(TB_ST_OK));
	ck_assert(tb_guest_inflate_kept(TB_ST_PENDING));
	ck_assert(!tb_guest_inflate_kept(TB_ST_ERR_MAX_BALLOON));
	ck_assert(!tb_guest_inflate_kept(TB_ST_ERR_STATE));
	ck_assert(!tb_guest_inflate_kept(TB_ST_ERR_FAULT));
}
END_TEST

START_TEST(test_deflate_frees_granted_and_not_ballooned_pages)
{
	ck_assert(tb_guest_deflate_freed(TB_ST_OK));
	ck_assert(tb_guest_deflate_freed(TB_ST_ERR_STATE));
	ck_assert(!tb_guest_deflate_freed(TB_ST_PENDING));
	ck_assert(!tb_guest_deflate_freed(TB_ST_ERR_POOL));
	ck_assert(!tb_guest_deflate_freed(TB_ST_ERR_MAX_RES));
}
END_TEST

START_TEST(test_inflate_stops_when_capped_or_a_batch_refused)
{
	ck_assert(!tb_guest_inflate_stop(false, 511, 512));
	ck_assert(tb_guest_inflate_stop(false, 512, 512));
	ck_assert(tb_guest_inflate_stop(true, 0, 512));
}
END_TEST

/* ---- a pass's end ---- */

START_TEST(test_inflate_stall_backs_off_and_warns_once_per_episode)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 1000 };
	struct tb_guest_end e;

	tb_guest_init(&g, &(struct tb_policy_params){ .use_2m = false },
		      BOOT, &FP);
	e = tb_guest_inflated(&g, &p, 10, true, false);
	ck_assert(e.backoff && e.unreached_msg && !e.partial);
	e = tb_guest_inflated(&g, &p, 10, true, false);
	ck_assert(e.backoff && !e.unreached_msg);
	e = tb_guest_inflated(&g, &p, 1000, false, false);
	ck_assert(!e.backoff && !e.unreached_msg);
}
END_TEST

START_TEST(test_inflate_capped_counts_only_when_short)
{
	struct tb_pass p = { .dir = TB_DIR_INFLATE, .pages = 1000 };
	struct tb_guest_end e;

	e = tb_guest_inflated(&g, &p, 1000, false, true);
	ck_assert(!e.backoff);
	e = tb_guest_inflated(&g, &p, 500, false, true);
	ck_assert(e.backoff);
	ck_assert_uint_eq(g.pol.backoff_ms, g.pol.p.backoff_max_ms);
}
END_TEST

START_TEST(test_deflate_short_grant_backs_off_even_when_pages_add_up)
{
	struct tb_pass p = { .dir = TB_DIR_DEFLATE, .pages = 1000 };
	struct tb_guest_end e;

	e = tb_guest_deflated(&g, &p, 1000, false);
	ck_assert(!e.partial && !e.backoff);
	ck_assert_uint_eq(g.pol.backoff_ms, 0);
	e = tb_guest_deflated(&g, &p, 1000, true);
	ck_assert(e.partial && e.backoff);
	ck_assert_uint_eq(g.pol.backoff_ms, g.pol.p.backoff_min_ms);
	e = tb_guest_deflated(&g, &p, 10, false);
	ck_assert(e.partial);
	ck_assert_uint_eq(g.pol.backoff_ms, 2 * g.pol.p.backoff_min_ms);
}
END_TEST

/* ---- sysfs ---- */

START_TEST(test_attr_names_and_modes)
{
	ck_assert_int_eq(tb_guest_attr_lookup("current"), TB_ATTR_CURRENT);
	ck_assert_int_eq(tb_guest_attr_lookup("min"), TB_ATTR_MIN);
	ck_assert_int_eq(tb_guest_attr_lookup("max"), TB_ATTR_MAX);
	ck_assert_int_eq(tb_guest_attr_lookup("target"), TB_ATTR_TARGET);
	ck_assert_int_eq(tb_guest_attr_lookup("targets"), TB_ATTR_NR);
	ck_assert_int_eq(tb_guest_attr_lookup("mi"), TB_ATTR_NR);
	ck_assert(!tb_guest_attr_writable(TB_ATTR_CURRENT));
	ck_assert(tb_guest_attr_writable(TB_ATTR_MIN));
	ck_assert(!tb_guest_attr_writable(TB_ATTR_MAX));
	ck_assert(tb_guest_attr_writable(TB_ATTR_TARGET));
}
END_TEST

START_TEST(test_show_reads_the_named_value)
{
	ck_assert_uint_eq(tb_guest_show(&g, TB_ATTR_CURRENT, 42), 42);
	ck_assert_uint_eq(tb_guest_show(&g, TB_ATTR_MIN, 42), SAFE);
	ck_assert_uint_eq(tb_guest_show(&g, TB_ATTR_MAX, 42), BOOT);
	ck_assert_uint_eq(tb_guest_show(&g, TB_ATTR_TARGET, 42), BOOT);
}
END_TEST

START_TEST(test_store_readonly_is_eacces)
{
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_CURRENT, 4096), TB_STORE_EACCES);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_MAX, 4096), TB_STORE_EACCES);
}
END_TEST

START_TEST(test_store_min_between_safeguard_and_max)
{
	g.settled = true;
	g.pol.warned = true;
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_MIN, (SAFE - 1) * 4), TB_STORE_EPERM);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_MIN, (BOOT + 1) * 4), TB_STORE_EPERM);
	ck_assert_uint_eq(g.min, SAFE);
	ck_assert(g.settled);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_MIN, (SAFE + 5000) * 4), TB_STORE_OK);
	ck_assert_uint_eq(g.min, SAFE + 5000);
	ck_assert(!g.settled);
	/* A new min does not reset the episode's warning. */
	ck_assert(g.pol.warned);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_MIN, BOOT * 4), TB_STORE_OK);
}
END_TEST

START_TEST(test_store_target_between_min_and_max)
{
	g.settled = true;
	g.pol.warned = true;
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, (SAFE - 1) * 4), TB_STORE_EPERM);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, (BOOT + 1) * 4), TB_STORE_EPERM);
	ck_assert_uint_eq(g.target, BOOT);
	ck_assert(g.settled);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, (SAFE + 9000) * 4 + 3), TB_STORE_OK);
	ck_assert_uint_eq(g.asked, SAFE + 9000);
	ck_assert_uint_eq(g.target, SAFE + 9000);
	ck_assert(!g.settled);
	ck_assert(!g.pol.warned);
}
END_TEST

START_TEST(test_store_huge_kib_is_eperm)
{
	struct tb_guest_regs r = regs(1, BOOT);

	/* Only a max past 2^61 pages shows the guard: below that the
	 * limits refuse such values anyway. */
	g.boot_pages = ~(uint64_t)0;
	r.max_reservation = 0;
	tb_guest_refresh(&g, &r);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, ~(uint64_t)0 / 2 + 1),
			 TB_STORE_EPERM);
	ck_assert_int_eq(tb_guest_store(&g, TB_ATTR_TARGET, ~(uint64_t)0 / 2),
			 TB_STORE_OK);
}
END_TEST

/* ---- messages ---- */

START_TEST(test_messages_keep_their_texts)
{
	char buf[256];

	snprintf(buf, sizeof(buf), TB_MSG_CLIP, (size_t)300000, (size_t)262144);
	ck_assert_str_eq(buf, "memory 'hot-plug' unsupported - clipping "
			 "reservation 300000 => 262144 pages.");
	snprintf(buf, sizeof(buf), TB_MSG_MAXRES, (size_t)262144, (size_t)196608);
	ck_assert_str_eq(buf, "target above the host's maximum reservation - "
			 "clipping reservation 262144 => 196608 pages.");
	snprintf(buf, sizeof(buf), TB_MSG_UNREACHED, (size_t)4096, (size_t)8192);
	ck_assert_str_eq(buf, "WARNING: balloon could not reach target 4096 "
			 "(current 8192)");
	snprintf(buf, sizeof(buf), TB_MSG_REACHED, 1ull, 2ull);
	ck_assert_str_eq(buf, "reached target 1 KiB (balloon 2 KiB)");
	snprintf(buf, sizeof(buf), TB_MSG_PARTIAL, (size_t)512, 100);
	ck_assert_str_eq(buf, "increase reservation incomplete: was 512, returned 100");
}
END_TEST

static Suite *guest_suite(void)
{
	Suite *s = suite_create("tb_guest");
	TCase *tc;

	tc = tcase_create("targets");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_init_zero_tunables_take_policy_defaults);
	tcase_add_test(tc, test_init_min_starts_at_safeguard);
	tcase_add_test(tc, test_new_target_starts_at_2m_after_a_fallback);
	tcase_add_test(tc, test_new_target_without_2m_stays_at_4k);
	tcase_add_test(tc, test_probe_takes_host_target_clipped);
	tcase_add_test(tc, test_refresh_new_host_target_wins_and_starts_episode);
	tcase_add_test(tc, test_refresh_unchanged_host_keeps_admin_target);
	tcase_add_test(tc, test_refresh_target_change_alone_is_news);
	tcase_add_test(tc, test_refresh_flags_absurd_targets_but_takes_them);
	tcase_add_test(tc, test_refresh_limits_are_ram_max_reservation_and_min);
	tcase_add_test(tc, test_poll_interval_is_clamped);
	suite_add_tcase(s, tc);

	tc = tcase_create("pass");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_begin_clips_hotplug_and_says_so_once_per_value);
	tcase_add_test(tc, test_begin_max_reservation_below_boot_has_its_own_message);
	tcase_add_test(tc, test_next_pass_at_once_with_irq_at_next_poll_polling);
	tcase_add_test(tc, test_init_takes_rate_inc_as_given);
	tcase_add_test(tc, test_begin_reached_once_per_episode);
	tcase_add_test(tc, test_begin_held_at_min_warns_once_when_enabled);
	tcase_add_test(tc, test_begin_held_at_min_silent_when_disabled);
	tcase_add_test(tc, test_inflate_want_stops_at_max_balloon);
	tcase_add_test(tc, test_inflate_order_2m_only_when_asked_fits_and_offered);
	tcase_add_test(tc, test_deflate_order_prefers_asked_size_without_overshoot);
	tcase_add_test(tc, test_inflate_keeps_pages_the_host_may_hold);
	tcase_add_test(tc, test_deflate_frees_granted_and_not_ballooned_pages);
	tcase_add_test(tc, test_inflate_stops_when_capped_or_a_batch_refused);
	tcase_add_test(tc, test_inflate_stall_backs_off_and_warns_once_per_episode);
	tcase_add_test(tc, test_inflate_capped_counts_only_when_short);
	tcase_add_test(tc, test_deflate_short_grant_backs_off_even_when_pages_add_up);
	suite_add_tcase(s, tc);

	tc = tcase_create("pressure");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_pressure_holds_inflation_off_until_its_time);
	tcase_add_test(tc, test_pressure_does_not_hold_deflation);
	tcase_add_test(tc, test_pressure_hold_off_survives_a_wrapping_clock);
	tcase_add_test(tc, test_pressure_with_nothing_given_back_changes_nothing);
	tcase_add_test(tc, test_pressure_ends_the_episode);
	tcase_add_test(tc, test_pressure_gives_nothing_at_the_floor_or_above);
	tcase_add_test(tc, test_pressure_gives_back_up_to_floor_plus_band);
	tcase_add_test(tc, test_pressure_band_is_hysteresis_no_take_back_no_move);
	suite_add_tcase(s, tc);

	tc = tcase_create("floor");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_floor_curve_grows_with_memory_size);
	tcase_add_test(tc, test_floor_curve_is_continuous_and_rising);
	tcase_add_test(tc, test_boot_pages_overstated_by_device_are_clamped);
	tcase_add_test(tc, test_floor_is_safeguard_min_and_sysfs_floor);
	tcase_add_test(tc, test_floor_set_but_never_below_watermark_nor_above_memory);
	tcase_add_test(tc, test_floor_none_is_the_old_safeguard_and_no_inflate_cap);
	tcase_add_test(tc, test_inflate_leaves_the_floor_and_band_available);
	tcase_add_test(tc, test_inflate_stopped_at_floor_warns_once);
	suite_add_tcase(s, tc);

	tc = tcase_create("sysfs");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_attr_names_and_modes);
	tcase_add_test(tc, test_show_reads_the_named_value);
	tcase_add_test(tc, test_store_readonly_is_eacces);
	tcase_add_test(tc, test_store_min_between_safeguard_and_max);
	tcase_add_test(tc, test_store_target_between_min_and_max);
	tcase_add_test(tc, test_store_huge_kib_is_eperm);
	tcase_add_test(tc, test_messages_keep_their_texts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(guest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
