// SPDX-License-Identifier: GPL-2.0-only
/* check_knobs.c - the table of device properties and driver parameters. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tb_knobs.h"

START_TEST(test_find_by_kind)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, "max-balloon");

	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->type, TB_KNOB_SIZE);
	ck_assert_str_eq(k->unit, "bytes");
	k = tb_knob_find(TB_KNOB_DRIVER, "poll_ms");
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(k->type, TB_KNOB_U32);
	ck_assert_uint_eq(k->def, 1000);
	ck_assert_uint_eq(k->perm, 0644);
	/* Each kind has its own names. */
	ck_assert_ptr_null(tb_knob_find(TB_KNOB_DEVICE, "poll_ms"));
	ck_assert_ptr_null(tb_knob_find(TB_KNOB_DRIVER, "poll-ms"));
	ck_assert_ptr_null(tb_knob_find(TB_KNOB_DRIVER, ""));
	ck_assert_ptr_null(tb_knob_find(TB_KNOB_DRIVER, "poll_m"));
	ck_assert_ptr_null(tb_knob_find(TB_KNOB_DEVICE, NULL));
}
END_TEST

START_TEST(test_foreach_walks_each_kind)
{
	const struct tb_knob *k;
	unsigned int dev = 0, drv = 0;

	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		ck_assert_int_eq(k->kind, TB_KNOB_DEVICE);
		ck_assert_ptr_eq(tb_knob_find(TB_KNOB_DEVICE, k->name), k);
		dev++;
	}
	tb_knob_foreach(k, TB_KNOB_DRIVER) {
		ck_assert_int_eq(k->kind, TB_KNOB_DRIVER);
		ck_assert_ptr_eq(tb_knob_find(TB_KNOB_DRIVER, k->name), k);
		drv++;
	}
	ck_assert_uint_eq(dev, 27);
	ck_assert_uint_eq(drv, 25);
	ck_assert_uint_eq(dev + drv, tb_knobs_nr);
}
END_TEST

/* What the device, the driver and the harness rely on: names unique
 * (find() returns the first), bools 0/1, a RAM-relative default worded,
 * driver permissions 0444 or 0644, only device sizes and stats. */
START_TEST(test_table_well_formed)
{
	unsigned int i, j;

	for (i = 0; i < tb_knobs_nr; i++) {
		const struct tb_knob *k = &tb_knobs[i];

		for (j = i + 1; j < tb_knobs_nr; j++)
			ck_assert_msg(k->kind != tb_knobs[j].kind ||
				      strcmp(k->name, tb_knobs[j].name),
				      "%s twice", k->name);
		ck_assert_msg(*k->desc, "%s: no description", k->name);
		if (k->type == TB_KNOB_BOOL)
			ck_assert_uint_le(k->def, 1);
		if (k->flags & TB_KNOB_DEF_RAM_PCT)
			ck_assert_msg(k->def_text && k->def <= 100,
				      "%s: RAM default without words", k->name);
		if (k->kind == TB_KNOB_DRIVER) {
			ck_assert(k->perm == 0444 || k->perm == 0644);
			ck_assert(k->type == TB_KNOB_U32 ||
				  k->type == TB_KNOB_BOOL);
			ck_assert_ptr_nonnull(k->parm_desc);
			ck_assert_uint_eq(k->flags, 0);
		} else {
			ck_assert_uint_eq(k->perm, 0);
			ck_assert_ptr_null(k->parm_desc);
		}
		/* virtio-balloon and Linux's driver have none of ours. */
		ck_assert(!(k->backends & TB_BE_VIRTIO));
		ck_assert_uint_eq(k->backends & TB_BE_OURS, TB_BE_OURS);
	}
}
END_TEST

START_TEST(test_defaults_unchanged)
{
	const struct tb_knob *k;

	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DEVICE, "poll-ms")->def, 1000);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DEVICE, "discard")->def, 1);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DEVICE, "page-2m")->def, 1);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DEVICE, "pool")->def,
			  UINT64_MAX);
	k = tb_knob_find(TB_KNOB_DEVICE, "max-balloon");
	ck_assert_uint_eq(tb_knob_default(k, 1000ull << 20),
			  (1000ull << 20) / 100 * 65);
	k = tb_knob_find(TB_KNOB_DEVICE, "target");
	ck_assert_uint_eq(tb_knob_default(k, 268435456), 268435456);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER, "min_margin")->def, 256);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER, "oom_pages")->def, 1024);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER, "use_irq")->def, 1);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER, "use_irq")->perm, 0444);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER, "batch")->def, 0);
	ck_assert_uint_eq(tb_knob_find(TB_KNOB_DRIVER,
				       "irq_storm_limit")->def, 10000);
}
END_TEST

START_TEST(test_backends_by_name)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, "irq-storm");

	ck_assert(tb_knob_known_by(k, "emu"));
	ck_assert(tb_knob_known_by(k, "libvirt"));
	ck_assert(!tb_knob_known_by(k, "sim"));
	ck_assert(!tb_knob_known_by(k, "virtio"));
	ck_assert(!tb_knob_known_by(k, "nosuch"));
	ck_assert(!tb_knob_known_by(k, NULL));
	k = tb_knob_find(TB_KNOB_DEVICE, "max-balloon");
	ck_assert(tb_knob_known_by(k, "sim"));
	k = tb_knob_find(TB_KNOB_DRIVER, "poison_check");
	ck_assert(!tb_knob_known_by(k, "sim"));
	ck_assert_uint_eq(tb_backend_bit("sim"), TB_BE_SIM);
	ck_assert_uint_eq(tb_backend_bit("em"), 0);
}
END_TEST

START_TEST(test_types_and_writable)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, "stats");

	ck_assert_str_eq(tb_knob_type_name(k), "TbBalloonStats");
	ck_assert(!tb_knob_writable(k));
	ck_assert(!tb_knob_writable(tb_knob_find(TB_KNOB_DEVICE, "actual")));
	ck_assert(tb_knob_writable(tb_knob_find(TB_KNOB_DEVICE, "pool")));
	ck_assert_str_eq(tb_knob_type_name(tb_knob_find(TB_KNOB_DEVICE,
				"flap-ms")), "uint32");
	ck_assert_str_eq(tb_knob_type_name(tb_knob_find(TB_KNOB_DRIVER,
				"batch")), "uint");
	ck_assert_str_eq(tb_knob_type_name(tb_knob_find(TB_KNOB_DRIVER,
				"use_2m")), "bool");
	ck_assert_str_eq(tb_knob_type_name(tb_knob_find(TB_KNOB_DEVICE,
				"target")), "size");
}
END_TEST

START_TEST(test_describe_lines)
{
	char buf[256];

	tb_knob_describe(tb_knob_find(TB_KNOB_DEVICE, "poll-ms"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "poll interval advised to the driver, ms "
			 "(default: 1000)");
	tb_knob_describe(tb_knob_find(TB_KNOB_DEVICE, "discard"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "free accepted pages on the host (default: on)");
	tb_knob_describe(tb_knob_find(TB_KNOB_DEVICE, "max-balloon"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "maximum balloon size, bytes (default: 65% of "
			 "guest RAM)");
	tb_knob_describe(tb_knob_find(TB_KNOB_DEVICE, "actual"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "guest RAM minus the balloon, bytes (read-only)");
	tb_knob_describe(tb_knob_find(TB_KNOB_DRIVER, "backoff_max_ms"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "Back-off ceiling; 0: policy default (ms, "
			 "default: 0)");
	tb_knob_describe(tb_knob_find(TB_KNOB_DRIVER, "use_irq"), buf,
			 sizeof(buf));
	ck_assert_str_eq(buf, "Wake up on the device's target interrupt "
			 "(0: polling only) (default: Y)");
}
END_TEST

/* Like snprintf: the whole length back, the buffer cut and terminated. */
START_TEST(test_describe_truncates)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, "poll-ms");
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	ck_assert_uint_eq(tb_knob_describe(k, buf, sizeof(buf)),
			  strlen("poll interval advised to the driver, ms "
				 "(default: 1000)"));
	ck_assert_str_eq(buf, "poll in");
	ck_assert_uint_eq(tb_knob_describe(k, buf, 0), 55);
	ck_assert_str_eq(buf, "poll in");
	ck_assert_uint_eq(tb_knob_describe(k, buf, 1), 55);
	ck_assert_str_eq(buf, "");
}
END_TEST

static Suite *knobs_suite(void)
{
	Suite *s = suite_create("tb_knobs");
	TCase *tc = tcase_create("lookup");

	tcase_add_test(tc, test_find_by_kind);
	tcase_add_test(tc, test_foreach_walks_each_kind);
	tcase_add_test(tc, test_backends_by_name);
	tcase_add_test(tc, test_types_and_writable);
	suite_add_tcase(s, tc);
	tc = tcase_create("table");
	tcase_add_test(tc, test_table_well_formed);
	tcase_add_test(tc, test_defaults_unchanged);
	suite_add_tcase(s, tc);
	tc = tcase_create("describe");
	tcase_add_test(tc, test_describe_lines);
	tcase_add_test(tc, test_describe_truncates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(knobs_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
