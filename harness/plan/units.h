/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * units.h - the one parser and printer of each unit a scenario, a sweep or
 * a benchmark option is written in (scenarios/README, "Units").
 */
#ifndef HARNESS_PLAN_UNITS_H
#define HARNESS_PLAN_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_SIZE_BYTES	(1ull << 44)	/* 16T: any size, after scale */
#define MAX_TIME_S	86400.0		/* 24h: any time */

/*
 * Sizes: 512M, 2G, 4096K, 1.5G, 512MiB, 123 (bytes); with @allow_pct,
 * 65% of @memory.  Multiplied by @scale (not percentages), rounded down
 * to whole 4 KiB pages.  0; -1 not a size; -2 above MAX_SIZE_BYTES.
 */
int parse_size(const char *s, uint64_t memory, double scale,
	       bool allow_pct, uint64_t *out);
/* Times: 250ms, 30s, 2m, 1.5s; a bare number is seconds.  0, -1, -2. */
int parse_time(const char *s, double *out);
/* A whole number in [@lo, @hi] (0x.. and 0.. as strtoll reads them). */
int parse_int(const char *s, long long lo, long long hi, long long *out);
/* 1 yes true on / 0 no false off, any case. */
int parse_bool(const char *s, bool *out);

/* Shortest exact spelling: 512M, 1G, 4097 (bytes); 250ms, 30s. */
void fmt_size(char *buf, size_t len, double bytes);
void fmt_time(char *buf, size_t len, double seconds);

#endif /* HARNESS_PLAN_UNITS_H */
