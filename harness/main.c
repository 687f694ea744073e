// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - harness command line.
 *
 *   harness [options] SCENARIO.ini [KEY=VALUE | STEP.KEY=VALUE ...]
 *   harness --dump SCENARIO.ini [overrides]   print the resolved plan
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run.h"
#include "tb_knobs.h"

/* Set by the runner's signal handler; the backends' waits check it. */
static volatile sig_atomic_t interrupted;

static struct be_env env = {
	.stock_qemu = "/usr/bin/qemu-system-x86_64",
	.accel = "tcg",
	.stop = &interrupted,
};
static struct run_opts ropts = { .results = "results" };

/* The backends that know @k, space separated. */
static const char *knob_backends(const struct tb_knob *k)
{
	static const char *const names[] = { "emu", "virtio", "libvirt",
					     "sim" };
	static char buf[64];
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (tb_knob_known_by(k, names[i]))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? " " : "", names[i]);
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: harness [options] SCENARIO.ini [KEY=VALUE | STEP.KEY=VALUE ...]\n"
"  --dump             print the resolved plan and exit (boots nothing)\n"
"  --check            parse only; exit 0 if the scenario is valid\n"
"  --backend NAME     %s (default emu)\n"
"  --set KEY=VALUE    override a key (same as a trailing KEY=VALUE)\n"
"  --ci               apply the scenario's [ci] section (smaller sizes)\n"
"  --qemu PATH        our QEMU (emu backend)\n"
"  --stock-qemu PATH  stock QEMU (virtio backend)\n"
"  --kernel PATH      guest kernel;  --initrd PATH  guest initramfs\n"
"  --accel kvm|tcg    accelerator (scripts/accel.sh decides in make)\n"
"  --results DIR      results root (default results)\n"
"  --run-id ID        name of the run directory (default date-backend)\n"
"  --plot SCRIPT      run `sh SCRIPT RUNDIR` after the run\n"
"  --driver-params L  the driver's parameter names (from modinfo)\n"
"  --quiet            no live progress line\n"
"exit: 0 expectations held, 1 an expectation failed, 2 the run failed,\n"
"      3 the backend cannot run this scenario (it needs a parameter or\n"
"      device property the backend lacks)\n",
		backend_names());
}

/* --help: the knobs a scenario can set, from core/tb_knobs.h. */
static void usage_knobs(FILE *f)
{
	const struct tb_knob *k;
	char line[512];

	fprintf(f, "\ndevice properties (KEY = VALUE in [global], set.KEY in "
		"a step; backends in []):\n");
	tb_knob_foreach(k, TB_KNOB_DEVICE) {
		if (!device_prop_known(k->name, NULL, NULL))
			continue;
		tb_knob_describe(k, line, sizeof(line));
		fprintf(f, "  %-20s %s [%s]\n", k->name, line,
			knob_backends(k));
	}
	fprintf(f, "\ndriver parameters (driver.KEY = VALUE):\n");
	tb_knob_foreach(k, TB_KNOB_DRIVER) {
		tb_knob_describe(k, line, sizeof(line));
		fprintf(f, "  %-20s %s [%s]\n", k->name, line,
			knob_backends(k));
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dump", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'c' },
		{ "backend", required_argument, NULL, 'b' },
		{ "set", required_argument, NULL, 's' },
		{ "ci", no_argument, NULL, 'C' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "stock-qemu", required_argument, NULL, 'Q' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "accel", required_argument, NULL, 'a' },
		{ "results", required_argument, NULL, 'r' },
		{ "run-id", required_argument, NULL, 'R' },
		{ "plot", required_argument, NULL, 'p' },
		{ "driver-params", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char **sets = calloc((size_t)argc + 1, sizeof(char *));
	struct parse_opts po = { .sets = sets };
	const char *backend = "emu";
	bool dump = false, check_only = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dump = true; break;
		case 'c': check_only = true; break;
		case 'b': backend = optarg; break;
		case 's': sets[po.nsets++] = optarg; break;
		case 'C': po.ci = true; break;
		case 'q': env.qemu = optarg; break;
		case 'Q': env.stock_qemu = optarg; break;
		case 'k': env.kernel = optarg; break;
		case 'i': env.initrd = optarg; break;
		case 'a': env.accel = optarg; break;
		case 'r': ropts.results = optarg; break;
		case 'R': ropts.run_id = optarg; break;
		case 'p': ropts.plot = optarg; break;
		case 'D': po.driver_params = *optarg ? optarg : NULL; break;
		case 'z': ropts.quiet = true; break;
		case 'h': usage(stdout); usage_knobs(stdout); free(sets);
			  return 0;
		default: usage(stderr); free(sets); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		free(sets);
		return 2;
	}
	const char *file = argv[optind++];
	/* Trailing KEY=VALUE words: what `make scenario SET='...'` passes. */
	for (; optind < argc; optind++)
		sets[po.nsets++] = argv[optind];

	/* The run id names a directory: a plain name, never a path. */
	if (ropts.run_id && (!*ropts.run_id || *ropts.run_id == '.' ||
	    strlen(ropts.run_id) > 80 ||
	    strspn(ropts.run_id, "abcdefghijklmnopqrstuvwxyz"
		   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
	    strlen(ropts.run_id))) {
		fprintf(stderr, "harness: --run-id '%s': expected 1 to 80 "
			"letters, digits, '_', '.' or '-', not starting with "
			"'.'\n", ropts.run_id);
		free(sets);
		return 2;
	}
	const struct backend_ops *ops = backend_find(backend);
	if (!ops) {
		fprintf(stderr, "harness: unknown backend '%s' (expected one "
			"of: %s)\n", backend, backend_names());
		free(sets);
		return 2;
	}
	struct plan *plan = malloc(sizeof(*plan));
	char err[1024];
	int rc = 0;
	if (!plan || plan_load(plan, file, &po, err, sizeof(err))) {
		fprintf(stderr, "%s\n", plan ? err : "out of memory");
		rc = 2;
	} else if (dump) {
		plan_dump(plan, stdout);
	} else if (!check_only) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		rc = run_plan(plan, ops, &env, &ropts);
	}
	free(plan);
	free(sets);
	return rc;
}
