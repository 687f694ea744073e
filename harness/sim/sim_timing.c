// SPDX-License-Identifier: GPL-2.0-only
/* sim_timing.c - default costs and their run-time override (sim_timing.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_timing.h"

const struct sim_timing sim_timing_defaults = {
#define X(name, def, doc) .name = def,
	SIM_TIMING_FIELDS(X)
#undef X
};

static uint64_t *field(struct sim_timing *t, const char *name, size_t len)
{
#define X(n, def, doc)							\
	if (len == strlen(#n) && !strncmp(name, #n, len))		\
		return &t->n;
	SIM_TIMING_FIELDS(X)
#undef X
	return NULL;
}

int sim_timing_parse(struct sim_timing *t, const char *spec, char *err,
		     size_t errlen)
{
	const char *p = spec;

	while (p && *p) {
		const char *end = strchr(p, ','), *eq = strchr(p, '=');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint64_t *f;
		char *num_end;
		unsigned long long v;

		if (!eq || eq >= p + len) {
			snprintf(err, errlen, "timing: '%.*s': expected name=value",
				 (int)len, p);
			return -1;
		}
		f = field(t, p, (size_t)(eq - p));
		if (!f) {
			snprintf(err, errlen, "timing: unknown cost '%.*s'",
				 (int)(eq - p), p);
			return -1;
		}
		errno = 0;
		v = strtoull(eq + 1, &num_end, 10);
		if (errno || num_end != p + len || num_end == eq + 1) {
			snprintf(err, errlen, "timing: '%.*s': value is not a "
				 "whole number", (int)len, p);
			return -1;
		}
		*f = v;
		p = end ? end + 1 : NULL;
	}
	return 0;
}
