// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_tb_knobs.c - the device has exactly the properties of
 * TB_DEVICE_PROPS (core/tb_knobs.h), with their types, descriptions and
 * defaults, and the spec qemu-dev/tb-balloon.txt describes each of them.
 * Our QEMU runs under "-accel qtest" (256 MiB pc machine), asked through
 * QMP: device-list-properties and qom-list-properties (the class), qom-list
 * and qom-get (a realized device).  TB_QEMU names the QEMU binary, TB_SPEC
 * the spec.
 */
#define _GNU_SOURCE
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tbq.h"
#include "tb_knobs.h"

#define RAM	(256ull * 1024 * 1024)

static struct tbq *q;

static void setup(void)
{
	q = tbq_start("tb-balloon,id=b", NULL);
}

static void teardown(void)
{
	tbq_stop(q);
	q = NULL;
}

/* The entry called @name in a list of {"name": ...} objects, or NULL. */
static json_t *by_name(json_t *list, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e)
		if (!strcmp(json_string_value(json_object_get(e, "name")), name))
			return e;
	return NULL;
}

/* What QEMU describes: the table's line, less a fixed default, which QEMU
 * reports as default-value and prints itself. */
static void expected_description(const struct tb_knob *k, char *buf,
				 size_t len)
{
	if ((k->flags & TB_KNOB_RO) || k->def_text)
		tb_knob_describe(k, buf, len);
	else
		snprintf(buf, len, "%s%s%s", k->desc, *k->unit ? ", " : "",
			 k->unit);
}

START_TEST(test_props_match_table)
{
	json_t *props = tbq_qmp(q, "{\"execute\":\"device-list-properties\","
				"\"arguments\":{\"typename\":\"tb-balloon\"}}");
	json_t *base = tbq_qmp(q, "{\"execute\":\"qom-list-properties\","
			       "\"arguments\":{\"typename\":\"pci-device\"}}");
	const struct tb_knob *k;
	char want[512];
	size_t i;
	json_t *p;

	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		json_t *def;

		p = by_name(props, k->name);
		ck_assert_msg(p, "table property %s: not in the device", k->name);
		ck_assert_str_eq(json_string_value(json_object_get(p, "type")),
				 tb_knob_type_name(k));
		expected_description(k, want, sizeof(want));
		ck_assert_msg(!strcmp(json_string_value(json_object_get(p,
				"description")), want),
			      "%s: device says '%s', table '%s'", k->name,
			      json_string_value(json_object_get(p,
						"description")), want);
		def = json_object_get(p, "default-value");
		if ((k->flags & TB_KNOB_RO) || k->def_text) {
			ck_assert_msg(!def, "%s: a default-value the table "
				      "words as '%s'", k->name,
				      k->def_text ? k->def_text : "read-only");
		} else if (k->type == TB_KNOB_BOOL) {
			ck_assert_msg(json_is_boolean(def), "%s: no bool "
				      "default-value", k->name);
			ck_assert_int_eq(json_is_true(def), k->def);
		} else {
			ck_assert_msg(json_is_integer(def), "%s: no integer "
				      "default-value", k->name);
			ck_assert_uint_eq(json_integer_value(def), k->def);
		}
	}
	/* Everything else the device has comes from PCIDevice. */
	json_array_foreach(props, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));

		ck_assert_msg(tb_knob_find(TB_KNOB_DEVICE, name) ||
			      by_name(base, name),
			      "device property %s: not in core/tb_knobs.h", name);
	}
	json_decref(props);
	json_decref(base);
}
END_TEST

/* A realized device: qom-list has each property with its type, and each
 * writable one reads back its default (computed from 256 MiB of RAM). */
START_TEST(test_props_read_defaults)
{
	json_t *list = tbq_qmp(q, "{\"execute\":\"qom-list\",\"arguments\":"
			       "{\"path\":\"/machine/peripheral/b\"}}");
	const struct tb_knob *k;

	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		json_t *p = by_name(list, k->name), *v;
		uint64_t def = tb_knob_default(k, RAM);

		ck_assert_msg(p, "qom-list: no %s", k->name);
		ck_assert_str_eq(json_string_value(json_object_get(p, "type")),
				 tb_knob_type_name(k));
		/* Read-only values are state; UINT64_MAX (pool: unlimited)
		 * is beyond what the JSON parser takes as an integer. */
		if (!tb_knob_writable(k) || def > INT64_MAX)
			continue;
		v = tbq_qmp(q, "{\"execute\":\"qom-get\",\"arguments\":"
			    "{\"path\":\"/machine/peripheral/b\","
			    "\"property\":\"%s\"}}", k->name);
		if (k->type == TB_KNOB_BOOL)
			ck_assert_msg(json_is_boolean(v) &&
				      json_is_true(v) == !!def,
				      "%s: not %s", k->name, def ? "on" : "off");
		else
			ck_assert_msg(json_is_integer(v) &&
				      (uint64_t)json_integer_value(v) == def,
				      "%s: %lld, table default %llu", k->name,
				      (long long)json_integer_value(v),
				      (unsigned long long)def);
		json_decref(v);
	}
	json_decref(list);
}
END_TEST

/* The spec, one line per element; the lines are in one buffer. */
static char **read_spec(int *nlines)
{
	const char *path = getenv("TB_SPEC");
	static char text[1 << 17];
	static char *lines[4096];
	size_t len;
	FILE *f;
	char *p;
	int n = 0;

	ck_assert_msg(path && *path, "TB_SPEC must name qemu-dev/tb-balloon.txt");
	f = fopen(path, "r");
	ck_assert_msg(f, "%s: cannot open", path);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	for (p = strtok(text, "\n"); p && n < 4096; p = strtok(NULL, "\n"))
		lines[n++] = p;
	*nlines = n;
	return lines;
}

/* Is @line the first line of a property's entry: "  name  text"? */
static const struct tb_knob *entry_of(const char *line)
{
	const struct tb_knob *k;
	size_t n;

	if (strncmp(line, "  ", 2) || line[2] == ' ')
		return NULL;
	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		n = strlen(k->name);
		if (!strncmp(line + 2, k->name, n) && line[2 + n] == ' ')
			return k;
	}
	return NULL;
}

/*
 * The spec names every property: a writable one in the -device synopsis
 * ("[,name=") and in an entry, a line "  name  text" and its more indented
 * continuation lines, that says "Default: D" (D as tb_knob_describe words
 * it: def_text, the number, on/off); a read-only one quoted ("name").
 */
START_TEST(test_spec_lists_props)
{
	int n, i, nl;
	char **lines = read_spec(&nl);
	const struct tb_knob *k;
	char pat[128], entry[4096];

	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		bool synopsis = false, found = false;
		size_t len = 0;

		snprintf(pat, sizeof(pat), tb_knob_writable(k) ? "[,%s=" :
			 "\"%s\"", k->name);
		for (i = 0; i < nl; i++)
			synopsis = synopsis || strstr(lines[i], pat);
		ck_assert_msg(synopsis, "spec: no %s", pat);
		if (!tb_knob_writable(k))
			continue;
		for (i = 0; i < nl && entry_of(lines[i]) != k; i++)
			;
		ck_assert_msg(i < nl, "spec: no entry \"  %s  ...\"", k->name);
		/* The entry, white space runs made one space. */
		do {
			const char *c;

			for (c = lines[i]; *c && len + 2 < sizeof(entry); c++)
				if (!isspace((unsigned char)*c))
					entry[len++] = *c;
				else if (len && entry[len - 1] != ' ')
					entry[len++] = ' ';
			entry[len++] = ' ';
			i++;
		} while (i < nl && !strncmp(lines[i], "   ", 3) &&
			 !entry_of(lines[i]));
		entry[len] = '\0';
		if (k->def_text)
			n = snprintf(pat, sizeof(pat), "Default: %s", k->def_text);
		else if (k->type == TB_KNOB_BOOL)
			n = snprintf(pat, sizeof(pat), "Default: %s.",
				     k->def ? "on" : "off");
		else
			n = snprintf(pat, sizeof(pat), "Default: %llu.",
				     (unsigned long long)k->def);
		found = n > 0 && strstr(entry, pat);
		ck_assert_msg(found, "spec: the entry for %s does not say '%s'",
			      k->name, pat);
	}
}
END_TEST

static Suite *tb_knobs_suite(void)
{
	Suite *s = suite_create("tb_knobs_device");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_props_match_table);
	tcase_add_test(tc, test_props_read_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("spec");
	tcase_add_test(tc, test_spec_lists_props);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tb_knobs_suite());
	int failed;

	if (!getenv("TB_QEMU")) {
		fprintf(stderr, "check_tb_knobs: set TB_QEMU to our qemu-system-x86_64\n");
		return 1;
	}
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
