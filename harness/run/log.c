// SPDX-License-Identifier: GPL-2.0-only
/*
 * log.c - the run's voice: events.log lines, console messages, the first
 * failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_int.h"


void *grow(void *arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 256;
	void *a = realloc(arr, *cap * sz);
	if (!a) {
		perror("harness: realloc");
		exit(2);
	}
	return a;
}

double now(struct run *r)
{
	return r->be.ops->now(&r->be);
}


/*
 * After each line: flush, and if the disk refused it (ENOSPC, EIO), cut
 * the file back to its last whole line and end the run.  The buffered
 * rest is dropped so that no half line is written later.
 */
void flush_whole(struct run *r, FILE *f, off_t *good,
			const char *name)
{
	if (!fflush(f) && !ferror(f)) {
		*good = ftello(f);
		return;
	}
	int err = errno;
	__fpurge(f);
	clearerr(f);
	if (ftruncate(fileno(f), *good) == 0)
		fseeko(f, *good, SEEK_SET);
	run_fail(r, "results-write", "writing %s: %s (the file keeps its "
		 "whole lines)", name, strerror(err));
}

void logev(struct run *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	if (!r->events)
		return;
	fprintf(r->events, "%9.3f  %-13s ", now(r), kind);
	va_start(ap, fmt);
	vfprintf(r->events, fmt, ap);
	va_end(ap);
	fputc('\n', r->events);
	flush_whole(r, r->events, &r->events_good, "events.log");
}

void say(struct run *r, const char *fmt, ...)
{
	va_list ap;
	if (r->tty)
		fputs("\r\033[K", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void run_fail(struct run *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	if (r->error_kind)
		return;		/* the first cause is the one that counts */
	if (r->be.error_kind) {	/* the backend named the real cause */
		kind = r->be.error_kind;
		r->be.error_kind = NULL;
	}
	r->error_kind = kind;
	r->be.stopping = true;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	logev(r, "ERROR", "%s: %s", kind, r->error);
}

