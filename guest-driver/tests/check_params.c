// SPDX-License-Identifier: GPL-2.0-only
/*
 * check_params.c - the built module's parameters are TB_DRIVER_PARAMS
 * (core/tb_knobs.h): `modinfo -F parm` lists each one once, as
 * "name:MODULE_PARM_DESC text (type)", and nothing else.  TB_MODULE names
 * the built tb_balloon.ko.
 */
#define _GNU_SOURCE
#include <check.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tb_knobs.h"

START_TEST(test_modinfo_matches_table)
{
	const char *ko = getenv("TB_MODULE");
	unsigned int seen[64] = { 0 }, i;
	const struct tb_knob *k;
	char line[1024], want[1024];
	posix_spawn_file_actions_t fa;
	int fds[2], st;
	pid_t pid;
	FILE *p;

	ck_assert_msg(ko && *ko, "TB_MODULE must name tb_balloon.ko");
	/* An argument vector, not a shell line: the path is the caller's. */
	char *const argv[] = { "modinfo", "-F", "parm", (char *)ko, NULL };
	ck_assert(!pipe(fds));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	ck_assert_msg(!posix_spawnp(&pid, "modinfo", &fa, NULL, argv, environ),
		      "modinfo: cannot run");
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	p = fdopen(fds[0], "r");
	ck_assert(p);
	while (fgets(line, sizeof(line), p)) {
		char *colon = strchr(line, ':');

		line[strcspn(line, "\n")] = '\0';
		ck_assert_msg(colon, "modinfo: '%s' has no name", line);
		*colon = '\0';
		k = tb_knob_find(TB_KNOB_DRIVER, line);
		ck_assert_msg(k, "module parameter %s: not in core/tb_knobs.h",
			      line);
		snprintf(want, sizeof(want), "%s (%s)", k->parm_desc,
			 tb_knob_type_name(k));
		ck_assert_msg(!strcmp(colon + 1, want), "%s: module says '%s', "
			      "table '%s'", line, colon + 1, want);
		seen[k - tb_knobs]++;
	}
	fclose(p);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && !WEXITSTATUS(st), "modinfo -F parm %s "
		      "failed (status %d)", ko, st);
	for (i = 0; i < tb_knobs_nr && i < 64; i++)
		if (tb_knobs[i].kind == TB_KNOB_DRIVER)
			ck_assert_msg(seen[i] == 1, "%s: %u times in modinfo",
				      tb_knobs[i].name, seen[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tb_balloon_params");
	TCase *tc = tcase_create("modinfo");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_modinfo_matches_table);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
