/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench.h - what bench.c (measuring) and report.c (the table) share.
 */
#ifndef HARNESS_BENCH_H
#define HARNESS_BENCH_H

#include <jansson.h>
#include <stddef.h>

/* DIR/raw.json -> DIR/bench.md, DIR/bench.json, DIR/plots.gp and PNGs;
 * prints the table.  Returns 0, or 2 when raw.json is unusable. */
int bench_report(const char *dir);

/* Write @doc to @path through path.part + rename: never half a file. */
int bench_write_json(json_t *doc, const char *path);

/* Run @argv (an argument vector: no shell; argv[0] without a '/' is
 * looked up in PATH) with stdout to @out and stderr to @err (paths; NULL:
 * inherited; the same path: one file for both), or, with @cap, stdout and
 * stderr into @cap[0..caplen) (NUL-terminated); in @cwd when not NULL
 * (after the files are opened).  Returns the child's wait status, or -1
 * when it could not be started. */
int bench_spawn(char *const argv[], const char *out, const char *err,
		char *cap, size_t caplen, const char *cwd);

/* "6.1.0-..." from a bzImage's setup header, or "unknown". */
const char *bench_kernel_version(const char *bzimage);

#endif /* HARNESS_BENCH_H */
