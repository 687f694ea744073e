// SPDX-License-Identifier: GPL-2.0-only
/*
 * units.c - the units of scenario files, parsed and printed: sizes, times,
 * integers, booleans.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan_int.h"


/* A size's or a time's number: finite, not negative; *end at its unit. */
static int number_prefix(const char *s, double *v, char **end)
{
	errno = 0;
	*v = strtod(s, end);
	if (*end == s || errno || *v < 0 || !isfinite(*v))
		return -1;
	while (**end == ' ')
		(*end)++;
	return 0;
}

/* Sizes: 512M, 2G, 4096K, 1.5G, 123 (bytes), 65% (of guest memory). */
int parse_size(const char *s, uint64_t memory, double scale,
		      bool allow_pct, uint64_t *out)
{
	char *end;
	double v;
	if (number_prefix(s, &v, &end))
		return -1;
	double mult = 1;
	bool pct = false;
	switch (toupper((unsigned char)*end)) {
	case 0: break;
	case 'K': mult = 1024.0; end++; break;
	case 'M': mult = 1024.0 * 1024; end++; break;
	case 'G': mult = 1024.0 * 1024 * 1024; end++; break;
	case 'T': mult = 1024.0 * 1024 * 1024 * 1024; end++; break;
	case '%':
		if (!allow_pct || !memory)
			return -1;
		pct = true;
		end++;
		break;
	default: return -1;
	}
	/* "512MiB" and "512MB" read as binary too. */
	if (!pct && mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (!pct && mult > 1 && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -1;
	/* Percentages follow the (already scaled) guest memory. */
	double bytes = pct ? v / 100.0 * (double)memory : v * mult * scale;
	if (bytes > (double)MAX_SIZE_BYTES)
		return -2;
	/* Whole 4 KiB pages, the unit of every register and the driver. */
	*out = bytes >= 4096 ? (uint64_t)(bytes / 4096) * 4096 :
	       (uint64_t)llround(bytes);
	return 0;
}

/* Times: 250ms, 30s, 2m, 1.5s; a bare number is seconds. */
int parse_time(const char *s, double *out)
{
	char *end;
	double v;
	if (number_prefix(s, &v, &end))
		return -1;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		v *= 60;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (v > MAX_TIME_S)
		return -2;
	*out = v;
	return 0;
}

int parse_int(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

void fmt_size(char *buf, size_t len, double bytes)
{
	static const char *const sfx[] = { "", "K", "M", "G", "T" };
	uint64_t b = (uint64_t)llround(bytes);
	int i = 0;
	while (i < 4 && b && b % 1024 == 0) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, "%llu%s", (unsigned long long)b, sfx[i]);
}

void fmt_time(char *buf, size_t len, double s)
{
	double ms = s * 1000;
	if (fabs(ms - llround(ms)) < 1e-6 && llround(ms) % 1000)
		snprintf(buf, len, "%lldms", (long long)llround(ms));
	else
		snprintf(buf, len, "%gs", s);
}

