// SPDX-License-Identifier: GPL-2.0-only
/*
 * batches.c - the device's batch log: every command it served and every
 * target change, on the device's clock (QEMU_CLOCK_VIRTUAL; the
 * simulator's virtual clock).  Drained with each sample and once at the
 * end through the backend's get_prop/set_prop ("batch-log",
 * "batch-log-from": qemu-dev/tb-balloon.txt, "Batch log"), written to
 * batches.tsv as it comes, and handed to the metrics as the reservation's
 * curve, exact to the batch, from the moment the device saw the target.
 *
 * Times in batches.tsv are the device's own: t_ns, and t_since_target_s
 * from the last target record, both on one clock.  The metrics work on
 * the runner's clock: a record's time is mapped through the offset
 * between the two, bounded at each read (the reply's clock-ns was read
 * between the harness's clock before and after the call).
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"
#include "tb_batchlog.h"

/* A QMP reply of TB_BATCHLOG_READ_MAX records is under 4 KiB. */
#define REPLY_MAX	8192
/* Reads per drain at most: the whole ring, and a few to re-aim. */
#define DRAIN_READS	(2 * TB_BATCHLOG_RECORDS / TB_BATCHLOG_READ_MAX + 4)

struct brec {
	uint64_t seq, t_ns, balloon_pages, target_pages;
	uint32_t entries, pages_4k, pages_2m, granted, refused, partial;
	int kind;		/* enum tb_batchlog_kind */
	uint64_t log;		/* which log (struct tb_batchlog_reader.logs) */
	int epoch;		/* the clock offset it was read under */
};

/* A pause (stop/cont, a save and restore) moves the device's clock
 * against the runner's: each stretch between pauses has its offset. */
#define EPOCHS	64

struct batches {
	bool tried, none;	/* asked once; the backend has no log */
	bool opened;		/* batches.tsv: at the first good reply */
	struct tb_batchlog_reader rd;
	uint64_t cursor;	/* batch-log-from as last set; 0: default */
	struct brec *recs;
	size_t n, cap;
	uint64_t reads, failures;
	/* Offset (runner clock - device clock, s): within [lo, hi]. */
	double lo, hi;
	bool have_offset;
	int epoch;			/* the current stretch, < EPOCHS */
	double elo[EPOCHS], ehi[EPOCHS];	/* each stretch's lo, hi */
	/* t_since_target_s of batches.tsv: the last target record. */
	uint64_t target_ns;
	bool have_target;
	uint64_t lost_written;
	FILE *tsv;
	off_t tsv_good;
	char buf[REPLY_MAX];
};

static struct batches *state(struct run *r)
{
	if (!r->batches) {
		r->batches = calloc(1, sizeof(*r->batches));
		if (!r->batches) {
			perror("harness: calloc");
			exit(2);
		}
		tb_batchlog_reader_init(&r->batches->rd);
	}
	return r->batches;
}

static double offset(const struct batches *b)
{
	return b->have_offset ? (b->lo + b->hi) / 2 : 0;
}

/* The runner's time of a record: its device time, mapped through the
 * offset of the stretch it was read in. */
static double rec_t(const struct batches *b, const struct brec *x)
{
	if (!b->have_offset)
		return (double)x->t_ns / 1e9;
	return (double)x->t_ns / 1e9 + (b->elo[x->epoch] + b->ehi[x->epoch]) / 2;
}

/* The reply's clock-ns was read between @before and @after. */
static void note_clock(struct batches *b, double before, double after,
		       uint64_t clock_ns)
{
	double c = (double)clock_ns / 1e9, lo = before - c, hi = after - c;

	/* A pause (stop/cont, migration) moves the offset: start over. */
	if (!b->have_offset || lo > b->hi || hi < b->lo) {
		if (b->have_offset && b->epoch < EPOCHS - 1)
			b->epoch++;
		b->lo = lo;
		b->hi = hi;
		b->have_offset = true;
	} else {
		b->lo = lo > b->lo ? lo : b->lo;
		b->hi = hi < b->hi ? hi : b->hi;
	}
	b->elo[b->epoch] = b->lo;
	b->ehi[b->epoch] = b->hi;
}

static void write_header(struct run *r, struct batches *b)
{
	b->tsv = open_part(r, "batches.tsv");
	if (!b->tsv)
		return;
	fprintf(b->tsv, "t_ns\tt_since_target_s\tkind\tentries\tpages_4k\t"
		"pages_2m\tgranted\trefused\tpartial\tballoon_pages_after\t"
		"target_pages\tseq\n");
	flush_whole(r, b->tsv, &b->tsv_good, "batches.tsv");
}

static void write_rec(struct run *r, struct batches *b, const struct brec *x)
{
	if (!b->tsv)
		return;
	if (b->rd.lost > b->lost_written) {
		/* gnuplot and the plot's awk skip '#' lines */
		fprintf(b->tsv, "# %llu records lost before this one (the "
			"ring wrapped between reads)\n",
			(unsigned long long)(b->rd.lost - b->lost_written));
		b->lost_written = b->rd.lost;
	}
	if (x->kind == TB_BL_TARGET) {
		b->target_ns = x->t_ns;
		b->have_target = true;
	}
	fprintf(b->tsv, "%llu\t", (unsigned long long)x->t_ns);
	if (b->have_target)
		fprintf(b->tsv, "%.6f", (double)(x->t_ns - b->target_ns) / 1e9);
	else
		fputc('-', b->tsv);
	fprintf(b->tsv, "\t%s\t%u\t%u\t%u\t%u\t%u\t%u\t%llu\t%llu\t%llu\n",
		tb_batchlog_kind_names[x->kind], x->entries, x->pages_4k,
		x->pages_2m, x->granted, x->refused, x->partial,
		(unsigned long long)x->balloon_pages,
		(unsigned long long)x->target_pages,
		(unsigned long long)x->seq);
	flush_whole(r, b->tsv, &b->tsv_good, "batches.tsv");
}

static uint64_t u64(json_t *o, const char *key, bool *ok)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*ok = false;
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

static int kind_of(const char *name)
{
	for (int k = 0; name && k < TB_BL_KIND_NR; k++)
		if (!strcmp(name, tb_batchlog_kind_names[k]))
			return k;
	return -1;
}

/* One record of a reply into @x; false when it is malformed. */
static bool parse_rec(json_t *j, struct brec *x)
{
	bool ok = json_is_object(j);

	memset(x, 0, sizeof(*x));
	x->seq = u64(j, "seq", &ok);
	x->t_ns = u64(j, "t-ns", &ok);
	x->entries = (uint32_t)u64(j, "entries", &ok);
	x->pages_4k = (uint32_t)u64(j, "pages-4k", &ok);
	x->pages_2m = (uint32_t)u64(j, "pages-2m", &ok);
	x->granted = (uint32_t)u64(j, "granted", &ok);
	x->refused = (uint32_t)u64(j, "refused", &ok);
	x->partial = (uint32_t)u64(j, "partial", &ok);
	x->balloon_pages = u64(j, "balloon-pages", &ok);
	x->target_pages = u64(j, "target-pages", &ok);
	x->kind = kind_of(json_string_value(json_object_get(j, "kind")));
	return ok && x->kind >= 0;
}

static void keep(struct run *r, struct batches *b, const struct brec *x)
{
	b->recs = grow(b->recs, &b->cap, b->n, sizeof(*b->recs));
	b->recs[b->n] = *x;
	b->recs[b->n].log = b->rd.logs;
	b->recs[b->n].epoch = b->epoch;
	write_rec(r, b, &b->recs[b->n]);
	b->n++;
}

/*
 * One read: take what is new.  Returns 1 when more is waiting, 0 when
 * the log is read to its end, -1 when the read failed.
 */
static int read_once(struct run *r, struct batches *b)
{
	double before = now(r), after;
	json_error_t jerr;
	json_t *j, *recs;
	bool ok = true;

	if (r->be.ops->get_prop(&r->be, "batch-log", b->buf, sizeof(b->buf)))
		return -1;
	after = now(r);
	b->reads++;
	j = json_loads(b->buf, 0, &jerr);
	uint64_t id = u64(j, "log-id", &ok), clock = u64(j, "clock-ns", &ok);
	uint64_t first = u64(j, "first-seq", &ok), next = u64(j, "next-seq",
								&ok);
	uint64_t from = u64(j, "from", &ok);
	recs = json_object_get(j, "records");
	if (!ok || !json_is_array(recs)) {
		snprintf(r->be.error, sizeof(r->be.error), "not a batch log: "
			 "'%.80s'", b->buf);
		json_decref(j);
		return -1;
	}
	note_clock(b, before, after, clock);
	if (!b->opened) {
		b->opened = true;
		write_header(r, b);
	}
	uint64_t want = tb_batchlog_reader_sync(&b->rd, id, first, next);
	/* What this reply holds starts at from (the oldest kept when older):
	 * if that is not where the reader is, aim the cursor and read again. */
	uint64_t got = from > first ? from : first;
	uint64_t aim = want > first ? want : first;
	size_t i;
	json_t *e;

	if (got == aim) {
		json_array_foreach(recs, i, e) {
			struct brec x;

			if (!parse_rec(e, &x)) {
				ok = false;
				break;
			}
			if (tb_batchlog_reader_take(&b->rd, x.seq))
				keep(r, b, &x);
		}
	}
	json_decref(j);
	if (!ok)
		return -1;
	/* Keep the device's cursor where the reader is, so the next drain
	 * starts with a read (and set it when the reply was read from
	 * elsewhere: another device may have replaced the one it was set
	 * on). */
	if (b->cursor != b->rd.next || got != aim) {
		char v[32];

		snprintf(v, sizeof(v), "%llu", (unsigned long long)b->rd.next);
		if (r->be.ops->set_prop(&r->be, "batch-log-from", v))
			return -1;
		b->cursor = b->rd.next;
	}
	return got != aim || b->rd.next < next;
}

void batches_drain(struct run *r)
{
	struct batches *b = state(r);
	char err[sizeof(r->be.error)];

	if (b->none || !r->be.ops->get_prop || !r->be.ops->set_prop)
		return;
	/* A backend without the log (virtio) answers with an error: that
	 * is no verdict's business. */
	memcpy(err, r->be.error, sizeof(err));
	for (int k = 0; k < DRAIN_READS; k++) {
		int rc = read_once(r, b);

		if (rc < 0) {
			b->failures++;
			if (!b->tried) {
				b->none = true;
				/* Our device has the log: failing at the first
				 * drain is the harness's bug or the device's,
				 * and every time it judges would be the coarse
				 * samples' without a word. */
				if (r->be.ops->supports &&
				    r->be.ops->supports(&r->be,
							"device-prop:batch-log"))
					run_fail(r, "batch-log", "the device's "
						 "batch log cannot be read: %s",
						 r->be.error);
			}
			break;
		}
		b->tried = true;
		if (!rc)
			break;
	}
	b->tried = true;
	memcpy(r->be.error, err, sizeof(err));
}

/* At the end of finish(), once the metrics and the summary have them. */
void batches_close(struct run *r)
{
	if (!r->batches)
		return;
	close_part(r, &r->batches->tsv, "batches.tsv");
	free(r->batches->recs);
	free(r->batches);
	r->batches = NULL;
}

json_t *batches_json(struct run *r)
{
	const struct batches *b = r->batches;

	if (!b || b->none || !b->reads)
		return json_null();
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:f}",
			 "file", "batches.tsv",
			 "records", (json_int_t)b->n,
			 "lost", (json_int_t)b->rd.lost,
			 "logs", (json_int_t)b->rd.logs,
			 "reads", (json_int_t)b->reads,
			 "failed_reads", (json_int_t)b->failures,
			 "clock_offset_s", offset(b));
}

/*
 * The target record of step @i: the one with the step's target, nearest
 * to when the runner set it (within a second), in the last log; -1 none.
 */
static long target_rec(struct run *r, int i)
{
	const struct batches *b = r->batches;
	const struct step_rt *rt = &r->rt[i];
	uint64_t pages = r->p->steps[i].target >> TB_PAGE_SHIFT;
	double best = 1.0;
	long at = -1;

	for (size_t k = 0; k < b->n; k++) {
		const struct brec *x = &b->recs[k];
		double d = fabs(rec_t(b, x) - rt->target_t);

		if (x->kind == TB_BL_TARGET && x->target_pages == pages &&
		    d <= best) {
			best = d;
			at = (long)k;
		}
	}
	return at;
}

size_t batches_curve(struct run *r, int i, double end, double **tv,
		     double **av, double *t0)
{
	const struct batches *b = r->batches;
	long k0;

	if (!b || !b->n || !r->rt[i].target_t ||
	    !r->p->steps[i].has_target || (k0 = target_rec(r, i)) < 0)
		return 0;
	double ram = (double)r->p->memory, start = rec_t(b, &b->recs[k0]);
	double *t = malloc((2 * (b->n - (size_t)k0) + 2) * sizeof(double));
	double *a = malloc((2 * (b->n - (size_t)k0) + 2) * sizeof(double));
	double v = ram - (double)b->recs[k0].balloon_pages * TB_PAGE_SIZE;
	size_t n = 0;

	if (end < start)
		end = start;
	t[n] = start;
	a[n++] = v;
	/* The device's balloon changes at a record and nowhere else: each
	 * change is a step (two vertices at one time). */
	for (size_t k = (size_t)k0 + 1; k < b->n; k++) {
		const struct brec *x = &b->recs[k];
		double tk = rec_t(b, x);
		double vk = ram - (double)x->balloon_pages * TB_PAGE_SIZE;

		if (x->log != b->recs[k0].log || tk > end + 1e-9)
			break;
		if (vk == v)
			continue;
		if (tk < start)
			tk = start;	/* the same instant, mapped */
		t[n] = tk;
		a[n++] = v;
		t[n] = tk;
		a[n++] = vk;
		v = vk;
	}
	if (t[n - 1] < end) {
		t[n] = end;
		a[n++] = v;
	}
	*tv = t;
	*av = a;
	*t0 = start;
	return n;
}
