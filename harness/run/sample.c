// SPDX-License-Identifier: GPL-2.0-only
/*
 * sample.c - sampling the balloon into curve.tsv, the guest's free blocks by
 * order into buddyinfo.tsv, and the live progress line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"


void write_curve_header(struct run *r)
{
	fprintf(r->curve, "# scenario %s, backend %s; sizes in MiB, rate in "
		"MiB/s (balloon growth: + inflating), '-' unknown\n",
		r->p->name, r->be.ops->name);
	fprintf(r->curve, "time_s\tstep\ttarget_mib\treservation_mib\t"
		"balloon_mib\tballoon_4k_mib\tballoon_2m_mib\tguest_free_mib\t"
		"guest_avail_mib\tqemu_rss_mib\trate_mibs\trefusals\t"
		"partial_grants\tfallbacks\n");
}

static void col_mib(FILE *f, int64_t bytes)
{
	if (bytes < 0)
		fputs("\t-", f);
	else
		fprintf(f, "\t%.2f", bytes / MIB);
}

static void col_n(FILE *f, int64_t n)
{
	if (n < 0)
		fputs("\t-", f);
	else
		fprintf(f, "\t%lld", (long long)n);
}

/*
 * buddyinfo.tsv: the guest's free blocks of each order (/proc/buddyinfo
 * summed over zones, the agent's buddy_o0.. keys), one row per stats reply
 * that is new at a sample, at the time the reply came.  Opened at the first
 * reply that has them (a backend whose agent does not report them writes
 * no file); the columns are the orders that reply listed.
 */
#define BUDDY_ORDERS	16
#define BUDDY_2M_ORDER	9	/* 4 KiB << 9: what a 2 MiB page needs */

static void record_buddyinfo(struct run *r)
{
	int64_t n[BUDDY_ORDERS];
	int orders = 0;
	double free_mib = 0, free_2m = 0;

	if (r->stats_t <= r->buddy_t || !r->stats[0])
		return;
	for (int o = 0; o < BUDDY_ORDERS; o++) {
		char key[16];
		snprintf(key, sizeof(key), "buddy_o%d", o);
		if ((n[o] = be_kv(r->stats, key)) < 0)
			break;
		orders = o + 1;
	}
	if (!orders)
		return;
	r->buddy_t = r->stats_t;
	if (!r->buddy) {
		if (r->buddy_orders)	/* opening it failed once */
			return;
		r->buddy_orders = orders;
		if (!(r->buddy = open_part_or_fail(r, "buddyinfo.tsv")))
			return;
		fprintf(r->buddy, "# scenario %s, backend %s; the guest's free "
			"blocks of each order (4 KiB << order, /proc/buddyinfo "
			"summed over zones) when the agent's stats came; "
			"free_mib: all of them, free_2m_mib: in blocks of "
			"order >= %d (what 2 MiB allocations can take)\n",
			r->p->name, r->be.ops->name, BUDDY_2M_ORDER);
		fputs("time_s\tstep", r->buddy);
		for (int o = 0; o < r->buddy_orders; o++)
			fprintf(r->buddy, "\to%d", o);
		fputs("\tfree_mib\tfree_2m_mib\n", r->buddy);
	}
	fprintf(r->buddy, "%.3f\t%d", r->stats_t, r->cur_step + 1);
	for (int o = 0; o < r->buddy_orders; o++) {
		if (o >= orders) {
			fputs("\t-", r->buddy);
			continue;
		}
		double mib = (double)n[o] * (4096 << o) / MIB;
		free_mib += mib;
		if (o >= BUDDY_2M_ORDER)
			free_2m += mib;
		fprintf(r->buddy, "\t%lld", (long long)n[o]);
	}
	fprintf(r->buddy, "\t%.2f\t%.2f\n", free_mib, free_2m);
	flush_whole(r, r->buddy, &r->buddy_good, "buddyinfo.tsv");
}

/*
 * nodes.tsv: a guest with NUMA nodes, its balloon by node: one row per
 * sample and RAM block (each node's memory backend, tbmemN for node N), as
 * the device counts it (our device's stats.ram-blocks).
 */
static void record_nodes(struct run *r, const struct sample_rec *s)
{
	if (!r->p->numa_nodes || !s->s.nblocks)
		return;
	if (!r->nodes) {
		if (r->nodes_good < 0)		/* opening it failed once */
			return;
		if (!(r->nodes = open_part_or_fail(r, "nodes.tsv"))) {
			r->nodes_good = -1;
			return;
		}
		fprintf(r->nodes, "# scenario %s, backend %s; guest RAM by "
			"NUMA node (its memory backend), as the device counts "
			"it: size, balloon, host pages partly in the balloon "
			"(kept on the host: huge pages)\n", r->p->name,
			r->be.ops->name);
		fputs("time_s\tstep\tnode\tmemdev\tpage_kib\tsize_mib\t"
		      "balloon_mib\tpartial_host_pages\n", r->nodes);
	}
	for (int i = 0; i < s->s.nblocks; i++) {
		const struct be_block *b = &s->s.blocks[i];
		fprintf(r->nodes, "%.3f\t%d\t%d\t%s\t%lld\t%.2f\t%.2f\t%lld\n",
			s->t, s->step + 1, node_of_block(b->name), b->name,
			(long long)(b->page_size >> 10),
			(double)b->pages * 4096 / MIB,
			(double)b->balloon * 4096 / MIB, (long long)b->partial);
	}
	flush_whole(r, r->nodes, &r->nodes_good, "nodes.tsv");
}

/* The NUMA node of memory backend tbmemN (backends/qemu.c) or
 * ram-nodeN (libvirt's), -1 for another block. */
int node_of_block(const char *name)
{
	size_t k = !strncmp(name, "tbmem", 5) ? 5 :
		   !strncmp(name, "ram-node", 8) ? 8 : 0;
	char *end;
	long n;

	if (!k)
		return -1;
	n = strtol(name + k, &end, 10);
	return end != name + k && !*end ? (int)n : -1;
}

static void progress(struct run *r, const struct sample_rec *s)
{
	char a[32], b[32];
	int st = r->cur_step;
	const char *name = st >= 0 ? r->p->steps[st].name : "boot";
	double pct = 100;

	if (r->p->sample <= 0 || r->be.plan == NULL)
		return;
	if (st >= 0 && r->p->steps[st].has_target) {
		double from = (double)r->rt[st].at_start.s.actual;
		double span = (double)r->target - from;
		if (fabs(span) > 1)
			pct = 100 * ((double)s->s.actual - from) / span;
	}
	fmt_size(a, sizeof(a), (double)((uint64_t)(s->s.target / MIB)
					<< 20));
	snprintf(b, sizeof(b), "%.0fM", s->s.actual / MIB);
	if (r->tty) {
		printf("\r\033[K  step %d/%d %-14s t=%6.1fs  target %-7s "
		       "reservation %-7s %3.0f%%", st + 1, r->p->nsteps, name,
		       s->t, a, b, pct);
		fflush(stdout);
	} else if (s->t >= r->next_progress) {
		say(r, "  t=%6.1fs step %d/%d %s: target %s reservation %s "
		    "(%.0f%%)", s->t, st + 1, r->p->nsteps, name, a, b, pct);
		r->next_progress = s->t + 10;
	}
}

void take_sample(struct run *r)
{
	struct sample_rec s = { .t = now(r), .step = r->cur_step };

	if (r->be.ops->sample(&r->be, &s.s)) {
		run_fail(r, "qemu-hung", "%s", r->be.error);
		return;
	}
	s.free_kb = be_kv(r->stats, "memfree_kb");
	s.avail_kb = be_kv(r->stats, "memavail_kb");
	s.fallbacks_drv = kv_any(r->stats, fallback_keys);
	if (s.s.fallbacks < 0)
		s.s.fallbacks = s.fallbacks_drv;
	/* Page-size split from the driver (entries of each size). */
	if (s.s.balloon_2m < 0) {
		int64_t e2 = be_kv(r->stats, "balloon_2m_entries");
		int64_t e4 = be_kv(r->stats, "balloon_4k_entries");
		if (e2 >= 0)
			s.s.balloon_2m = e2 << 21;
		if (e4 >= 0)
			s.s.balloon_4k = e4 << 12;
	}
	if (r->nsamples) {
		struct sample_rec *prev = &r->samples[r->nsamples - 1];
		double dt = s.t - prev->t;
		if (dt > 0)
			s.rate = (double)(prev->s.actual - s.s.actual) / MIB /
				 dt;
	}
	note_actual(r, s.s.actual, s.t);
	r->samples = grow(r->samples, &r->cap_samples, r->nsamples,
			  sizeof(*r->samples));
	r->samples[r->nsamples++] = s;

	fprintf(r->curve, "%.3f\t%d", s.t, s.step + 1);
	col_mib(r->curve, s.s.target);
	col_mib(r->curve, s.s.actual);
	col_mib(r->curve, s.s.actual >= 0 ?
		(int64_t)r->p->memory - s.s.actual : -1);
	col_mib(r->curve, s.s.balloon_4k);
	col_mib(r->curve, s.s.balloon_2m);
	col_mib(r->curve, s.free_kb < 0 ? -1 : s.free_kb * 1024);
	col_mib(r->curve, s.avail_kb < 0 ? -1 : s.avail_kb * 1024);
	col_mib(r->curve, s.s.host_rss);
	fprintf(r->curve, "\t%.3f", s.rate);
	col_n(r->curve, s.s.refusals);
	col_n(r->curve, s.s.partial_grants);
	col_n(r->curve, s.s.fallbacks);
	fputc('\n', r->curve);
	flush_whole(r, r->curve, &r->curve_good, "curve.tsv");
	record_buddyinfo(r);
	record_nodes(r, &s);
	batches_drain(r);	/* batches.c: the device's batch log */
	progress(r, &s);
}

const struct sample_rec *last_sample(struct run *r)
{
	return r->nsamples ? &r->samples[r->nsamples - 1] : NULL;
}

