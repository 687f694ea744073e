// SPDX-License-Identifier: GPL-2.0-only
/*
 * gstats.c - the guest's memory figures as the device got them: the
 * driver reports them every guest-stats-interval-ms (TB_F_STATS,
 * qemu-dev/tb-balloon.txt), the device keeps the last report, and the
 * runner reads it with qom-get guest-stats at every sample and before
 * every policy decision.  Each new report is a row of guest-stats.tsv,
 * timed by the device's clock (its age when read), so a policy can be
 * driven by what a hypervisor would really have (policy.c) rather than
 * by the agent's side channel.  A backend without the property (stock
 * virtio) reads nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "run_int.h"
#include "tb_proto.h"

static bool supported(struct run *r)
{
	return r->be.ops->get_prop && (!r->be.ops->supports ||
	       r->be.ops->supports(&r->be, "device-prop:guest-stats"));
}

static void row(struct run *r)
{
	struct gstats_view *g = &r->gs;
	/* bytes as MiB; counts as they are; PSI averages in percent */
	static const struct { int tag; char kind; const char *col; } cols[] = {
		{ TB_GS_FREE, 'm', "free_mib" },
		{ TB_GS_AVAILABLE, 'm', "avail_mib" },
		{ TB_GS_CACHE, 'm', "cache_mib" },
		{ TB_GS_TOTAL, 'm', "total_mib" },
		{ TB_GS_MAJOR_FAULTS, 'n', "major_faults" },
		{ TB_GS_MINOR_FAULTS, 'n', "minor_faults" },
		{ TB_GS_OOM_KILLS, 'n', "oom_kills" },
		{ TB_GS_ALLOC_STALLS, 'n', "alloc_stalls" },
		{ TB_GS_SWAP_IN, 'm', "swap_in_mib" },
		{ TB_GS_SWAP_OUT, 'm', "swap_out_mib" },
		{ TB_GS_PSI_SOME_AVG10, 'p', "psi_some_avg10_pct" },
		{ TB_GS_PSI_FULL_AVG10, 'p', "psi_full_avg10_pct" },
		{ TB_GS_PSI_SOME_US, 'n', "psi_some_total_us" },
		{ TB_GS_PSI_FULL_US, 'n', "psi_full_total_us" },
	};
	size_t k;

	if (g->failed)
		return;
	if (!g->tsv) {
		if (!(g->tsv = open_part_or_fail(r, "guest-stats.tsv"))) {
			g->failed = true;
			return;
		}
		fprintf(g->tsv, "# scenario %s, backend %s; each report the "
			"driver sent the device (qom-get guest-stats): when "
			"(run clock), its age when read, the figures ('-' not "
			"reported)\ntime_s\tstep\tage_s\tseq", r->p->name,
			r->be.ops->name);
		for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
			fprintf(g->tsv, "\t%s", cols[k].col);
		fputc('\n', g->tsv);
	}
	fprintf(g->tsv, "%.3f\t%d\t%.3f\t%llu", g->t, r->cur_step + 1,
		g->read_t - g->t, (unsigned long long)g->seq);
	for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
		int64_t v = g->v[cols[k].tag];

		if (v < 0)
			fputs("\t-", g->tsv);
		else if (cols[k].kind == 'm')
			fprintf(g->tsv, "\t%.2f", v / MIB);
		else if (cols[k].kind == 'p')
			fprintf(g->tsv, "\t%.2f", v / 100.0);
		else
			fprintf(g->tsv, "\t%lld", (long long)v);
	}
	fputc('\n', g->tsv);
	flush_whole(r, g->tsv, &g->good, "guest-stats.tsv");
}

static int64_t num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) >= 0 ?
	       (int64_t)json_integer_value(v) : -1;
}

void gstats_poll(struct run *r)
{
	struct gstats_view *g = &r->gs;
	char buf[2048];
	json_error_t jerr;
	json_t *j, *st;
	int64_t reports, upd, clock;

	if (g->off || r->error_kind)
		return;
	if (!supported(r)) {
		g->off = true;
		return;
	}
	if (r->be.ops->get_prop(&r->be, "guest-stats", buf, sizeof(buf))) {
		/* an older device: the policy reads the agent's figures */
		g->off = true;
		logev(r, "GUEST-STATS", "no guest-stats from the device (%s): "
		      "policies read the agent's figures", r->be.error);
		return;
	}
	g->read_t = now(r);
	j = json_loads(buf, 0, &jerr);
	reports = num(j, "reports");
	upd = num(j, "last-update-ns");
	clock = num(j, "clock-ns");
	st = json_object_get(j, "stats");
	if (reports < 0 || upd < 0 || clock < 0 || !json_is_object(st)) {
		json_decref(j);
		g->off = true;
		logev(r, "GUEST-STATS", "not a guest-stats reply: '%.80s'",
		      buf);
		return;
	}
	g->interval_ms = num(j, "interval-ms");
	g->skipped = num(j, "skipped-entries");
	if (reports > 0 && (uint64_t)reports != g->reports) {
		double age = clock > upd ? (clock - upd) / 1e9 : 0;

		g->reports = (uint64_t)reports;
		g->have = true;
		g->t = g->read_t - age;
		g->seq = (uint64_t)(num(j, "seq") < 0 ? 0 : num(j, "seq"));
		for (int t = 0; t < TB_GS_NR; t++)
			g->v[t] = t ? num(st, tb_gs_names[t]) : -1;
		if (!g->logged) {
			g->logged = true;
			logev(r, "GUEST-STATS", "first report from the driver: "
			      "available %.1f MiB, free %.1f MiB, interval %lld "
			      "ms", g->v[TB_GS_AVAILABLE] / MIB,
			      g->v[TB_GS_FREE] / MIB,
			      (long long)g->interval_ms);
		}
		row(r);
	}
	json_decref(j);
}

void gstats_close(struct run *r)
{
	if (r->gs.tsv)
		close_part(r, &r->gs.tsv, "guest-stats.tsv");
}
