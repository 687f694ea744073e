/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * plan_int.h - what the files of plan/ share: the lexer's entries (lexer.c),
 * the vocabulary (vocab.c) and the error format.  Nothing outside plan/
 * includes it.
 */
#ifndef HARNESS_PLAN_INT_H
#define HARNESS_PLAN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/plan.h"

#define MAX_ENTRIES	2048
#define MAX_SECTIONS	(PLAN_MAX_STEPS + 8)
#define MAX_INCLUDE	8
/* Hostile or mistaken files end with an error, not a hang or a huge
 * allocation: every loop over the input is bounded by these. */
#define MAX_FILE_BYTES	(1 << 20)	/* one scenario or included file */
#define MAX_FILES	32		/* files read, includes counted */


struct section {
	char name[64];
	struct origin from;
};

struct entry {
	int sec;			/* index into sections */
	char key[64];
	char value[PLAN_STR];
	struct origin from;
};

struct lexer {
	struct section secs[MAX_SECTIONS];
	int nsecs;
	struct entry *ents;
	int nents;
	int nfiles;
	bool confine;		/* includes: plain names beside the file */
	/* Includes stay in the folder tree of the file named on the
	 * command line: its folder, resolved (lexer.c), and as written. */
	char root[4096];
	char root_shown[PLAN_STR];
	char *err;
	size_t errlen;
};

/* lexer.c */

/* Write "file:line: [sec] key: msg" into @err; returns -1. */
int plan_error(char *err, size_t len, const struct origin *o,
	       const char *sec, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
char *trim(char *s);
/* Section and key names: letters, digits, '-', '_' and '.'. */
bool name_ok(const char *s);
/* Lex @path (and what it includes) into @lx; 0 or -1 with lx->err set. */
int lex_file(struct lexer *lx, const char *path, int depth,
	     const struct origin *incl_from);

/* vocab.c */
extern const char *const expect_names[EX_NR];
extern const char *const action_names[ACT_NR];
extern const char *const sysfs_names[4];	/* current min max target */
extern const char *const machine_names[];	/* q35 (default) pc, NULL */
extern const char *const memory_backend_names[];	/* NULL-ended */
/* @names (NULL-ended) as "a, b or c" in @buf, for messages. */
const char *names_or(const char *const *names, char *buf, size_t len);
bool name_in(const char *name, const char *const *names);
/* The driver's parameters (core/tb_knobs.h), space separated: what a
 * scenario may set when no built module's modinfo says otherwise. */
const char *driver_param_names(void);
/* Is @word one of the space-separated words of @list? */
bool word_in(const char *word, const char *list);
bool device_prop_settable(const char *name, bool *is_size, bool *is_bool);
void device_prop_names(char *buf, size_t len);

#endif /* HARNESS_PLAN_INT_H */
