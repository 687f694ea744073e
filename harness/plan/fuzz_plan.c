// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_plan.c - libFuzzer target over the scenario parser (plan_load,
 * then plan_dump of what it accepted).
 *
 * The input is written as a file in a private directory, beside one small
 * valid file `inc.ini`, and parsed with includes confined to that
 * directory, so an `include` never reads outside the fuzz input.  Lines
 * "#set KEY=VALUE" (comments to the parser) become command-line overrides,
 * so the override path is fuzzed with the same input.  Each input is
 * parsed without and with --ci.
 *
 * Invariants besides "no crash, no hang, no leak": a rejected input gets a
 * message that says where ("FILE:LINE: ...", "command line: ..." or
 * "FILE: cannot open ..."); an accepted one goes through the backends'
 * kernel command line (backends/io.c, what prepare() of emu, virtio and
 * libvirt builds) and fits the guest's 2047 bytes whole, or is refused.
 *
 *   make fuzz FUZZ_SECONDS=60   (scripts/fuzz.sh; the private directory
 *   goes under $TMPDIR, which fuzz.sh points into its work directory, so
 *   a run that dies on a finding leaves nothing in /tmp)
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "backends/io.h"
#include "plan/plan.h"

#define MAX_SETS	8

static char dir[PATH_MAX], file[PATH_MAX + 16];
static FILE *devnull;

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "w");
	if (!f || fwrite(data, 1, n, f) != n || fclose(f)) {
		perror(path);
		abort();
	}
}

static void cleanup(void)
{
	char p[PATH_MAX + 16];
	snprintf(p, sizeof(p), "%s/inc.ini", dir);
	unlink(p);
	unlink(file);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char inc[] = "[global]\nmemory = 512M\n[inc]\n"
				  "target = 50%\nexpect-converged = 30s\n";
	const char *tmp = getenv("TMPDIR");
	char p[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s/tb-fuzz-scenario.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(file, sizeof(file), "%s/fuzz.ini", dir);
	snprintf(p, sizeof(p), "%s/inc.ini", dir);
	write_file(p, inc, sizeof(inc) - 1);
	devnull = fopen("/dev/null", "w");
	atexit(cleanup);
	return 0;
}

/* A rejection must say where: "FILE:LINE: ", "command line: " or "FILE: ". */
static void check_message(const char *err)
{
	size_t n = strlen(file);
	int line;
	char c;

	if (!strncmp(err, "command line: ", 14) && err[14])
		return;
	if (!strncmp(err, file, n) || !strncmp(err, dir, strlen(dir))) {
		const char *colon = strchr(err + strlen(dir), ':');
		if (colon && (sscanf(colon, ":%d%c", &line, &c) == 2 &&
			      line > 0 && c == ':'))
			return;
		if (colon && !strncmp(colon, ": cannot open", 13))
			return;
	}
	fprintf(stderr, "rejected without a place: '%s'\n", err);
	abort();
}

/*
 * The accepted plan through the backends' kernel command line (emu and
 * libvirt with the driver parameters, virtio with its marker): it fits
 * the guest's limit and holds every part, or it is refused with the
 * message that says so.
 */
static void check_cmdline(const struct plan *p)
{
	static struct backend be;

	for (int virtio = 0; virtio < 2; virtio++) {
		memset(&be, 0, sizeof(be));
		if (be_kernel_cmdline(&be, p, virtio ? "tb.driver=virtio" :
				      NULL, !virtio)) {
			if (!strstr(be.error, "kernel command line would be") ||
			    be.kernel_cmdline[0]) {
				fprintf(stderr, "bad refusal: '%s'\n", be.error);
				abort();
			}
			continue;
		}
		size_t n = strlen(be.kernel_cmdline);
		if (n > BE_CMDLINE_MAX || (p->cmdline[0] &&
		    strcmp(be.kernel_cmdline + n - strlen(p->cmdline),
			   p->cmdline))) {
			fprintf(stderr, "kernel command line cut or wrong: "
				"%zu bytes '%.80s...'\n", n, be.kernel_cmdline);
			abort();
		}
		for (int i = 0; !virtio && i < p->ndparams; i++) {
			char want[PLAN_STR + 80];
			snprintf(want, sizeof(want), " tb_balloon.%s=%s",
				 p->dparams[i].key, p->dparams[i].value);
			if (!strstr(be.kernel_cmdline, want)) {
				fprintf(stderr, "driver.%s missing from the "
					"kernel command line\n",
					p->dparams[i].key);
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct plan plan;
	char err[1024], *text, *sets[MAX_SETS];
	int nsets = 0;

	write_file(file, data, size);

	/* "#set KEY=VALUE" lines, up to MAX_SETS of them. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	for (char *p = text; p && *p && nsets < MAX_SETS; ) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(p, "#set ", 5))
			sets[nsets++] = p + 5;
		p = nl ? nl + 1 : NULL;
	}

	for (int ci = 0; ci < 2; ci++) {
		struct parse_opts po = {
			.ci = ci, .sets = (const char *const *)sets,
			.nsets = nsets, .confine_includes = true,
		};
		memset(err, 0, sizeof(err));
		if (plan_load(&plan, file, &po, err, sizeof(err))) {
			check_message(err);
			continue;
		}
		plan_dump(&plan, devnull);
		check_cmdline(&plan);
	}
	free(text);
	return 0;
}
