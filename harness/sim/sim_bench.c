// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_bench.c - how fast the simulator runs: a 4 GiB guest through 60 s of
 * virtual time (pin 2 GiB, fragment, deflate and inflate against a moving
 * target, sampled every 100 ms as the harness does), then virtual seconds
 * per wall second.  `make bench-sim`.  -v prints the curve.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define GIB	(UINT64_C(1) << 30)
#define MIB	(UINT64_C(1) << 20)

static uint64_t events;

static void out(void *arg, enum sim_out kind, uint64_t t, const char *text,
		int64_t value)
{
	events++;
	if (arg && kind != SIM_OUT_BALLOON_CHANGE)
		printf("# %8.3f %s\n", (double)t / 1e9, text);
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");
	struct { double at; const char *agent; uint64_t target_mib; } plan[] = {
		{ 3.5, "pin 2G", 0 },
		{ 10, NULL, 2600 },
		{ 20, NULL, 1024 },	/* below what is free: stalls */
		{ 30, NULL, 4096 },
		{ 35, "free all", 0 },
		{ 38, "fragment 1G", 0 },
		{ 45, NULL, 1536 },
		{ 55, NULL, 3072 },
	};
	struct sim_config c;
	struct sim_stats st;
	struct sim *s;
	char err[256];
	double t0, t1, horizon = 60.0;
	size_t next = 0, samples = 0;
	uint64_t t;

	sim_config_defaults(&c, 4 * GIB);
	t0 = wall();
	s = sim_create(&c, out, verbose ? stdout : NULL, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "bench-sim: %s\n", err);
		return 1;
	}
	for (t = 0; t <= (uint64_t)(horizon * 1e9); t += 100 * SIM_NS_PER_MS) {
		while (next < sizeof(plan) / sizeof(plan[0]) &&
		       plan[next].at * 1e9 <= (double)t) {
			if (plan[next].agent)
				sim_agent(s, plan[next].agent);
			else
				sim_set_target(s, plan[next].target_mib * MIB /
					       TB_PAGE_SIZE);
			next++;
		}
		if (sim_run_until(s, t, false)) {
			fprintf(stderr, "bench-sim: guest died\n");
			return 1;
		}
		sim_stats(s, &st);
		samples++;
		if (verbose)
			printf("%6.1f target=%6" PRIu64 "M actual=%6" PRIu64
			       "M 4k=%5" PRIu64 "M 2m=%5" PRIu64 "M free=%5"
			       PRIu64 "M rss=%5" PRIu64 "M fb=%" PRIu64 "\n",
			       (double)t / 1e9, st.target / 256, st.actual / 256,
			       st.balloon_4k / 256, st.balloon_2m / 256,
			       st.mem_free / 256, st.host_rss >> 20,
			       st.fallbacks);
	}
	t1 = wall();
	sim_destroy(s);
	printf("bench-sim: 4 GiB guest, %.0f s virtual in %.3f s wall: "
	       "%.0f virtual s per wall s (%zu samples, %" PRIu64 " events)\n",
	       horizon, t1 - t0, horizon / (t1 - t0), samples, events);
	return t1 - t0 < 1.0 ? 0 : 1;
}
