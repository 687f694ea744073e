/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bench.h - what bench.c (measuring) and report.c (the table) share.
 */
#ifndef HARNESS_BENCH_H
#define HARNESS_BENCH_H

#include <jansson.h>

/* DIR/raw.json -> DIR/bench.md, DIR/bench.json, DIR/plots.gp and PNGs;
 * prints the table.  Returns 0, or 2 when raw.json is unusable. */
int bench_report(const char *dir);

/* Write @doc to @path through path.part + rename: never half a file. */
int bench_write_json(json_t *doc, const char *path);

/* "6.1.0-..." from a bzImage's setup header, or "unknown". */
const char *bench_kernel_version(const char *bzimage);

#endif /* HARNESS_BENCH_H */
