// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.c - the benchmark's table, from raw.json alone: per figure the
 * median, min and max over the repetitions, ours against virtio, the ratio
 * (always ours / virtio), the goal and whether it is met; plots of
 * the median runs' curves, ours over virtio.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

int bench_write_json(json_t *doc, const char *path)
{
	char part[PATH_MAX];
	snprintf(part, sizeof(part), "%s.part", path);
	if (json_dump_file(doc, part, JSON_INDENT(2) | JSON_SORT_KEYS |
			   JSON_REAL_PRECISION(6)))
		return -1;
	return rename(part, path);
}

const char *bench_kernel_version(const char *bzimage)
{
	static char ver[128] = "unknown";
	unsigned char hdr[0x210];
	FILE *f = fopen(bzimage, "rb");
	if (!f)
		return ver;
	/* Boot protocol: "HdrS" at 0x202, kernel_version pointer at 0x20e
	 * (offset - 0x200 into the file). */
	if (fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr) &&
	    !memcmp(hdr + 0x202, "HdrS", 4)) {
		unsigned off = hdr[0x20e] | hdr[0x20f] << 8;
		if (off && !fseek(f, off + 0x200, SEEK_SET) &&
		    fgets(ver, sizeof(ver), f))
			ver[strcspn(ver, " \n")] = 0;
	}
	fclose(f);
	return ver;
}

/* ---- statistics ---- */

struct stat3 {
	int n;
	double med, min, max;
	int med_rep;		/* repetition holding the median */
	int bound;		/* values that are only lower bounds */
};

static int cmp_pair(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

/* Records matching the key, of one backend (@size < 0: any size). */
static struct stat3 stats_of(json_t *recs, const char *metric, int ioa,
			     double size, const char *touched,
			     const char *backend)
{
	struct stat3 s = { 0 };
	double v[256][2];
	size_t i;
	json_t *r;

	json_array_foreach(recs, i, r) {
		if (strcmp(json_string_value(json_object_get(r, "metric")),
			   metric) ||
		    strcmp(json_string_value(json_object_get(r, "backend")),
			   backend) ||
		    strcmp(json_string_value(json_object_get(r, "touched")),
			   touched) ||
		    json_integer_value(json_object_get(r, "init_on_alloc")) !=
		    ioa || (size >= 0 &&
		    fabs(json_number_value(json_object_get(r, "size_mib")) -
			 size) > 0.5))
			continue;
		double x = json_number_value(json_object_get(r, "value"));
		if (!isfinite(x) || x < 0 || s.n == 256)
			continue;
		s.bound += json_is_true(json_object_get(r, "lower_bound"));
		v[s.n][0] = x;
		v[s.n][1] = (double)json_integer_value(json_object_get(r,
								       "rep"));
		s.n++;
	}
	if (!s.n)
		return s;
	qsort(v, (size_t)s.n, sizeof(v[0]), cmp_pair);
	s.min = v[0][0];
	s.max = v[s.n - 1][0];
	s.med = s.n % 2 ? v[s.n / 2][0] : (v[s.n / 2 - 1][0] + v[s.n / 2][0])
					  / 2;
	s.med_rep = (int)v[(s.n - 1) / 2][1];
	return s;
}

static json_t *stat_json(const struct stat3 *s)
{
	if (!s->n)
		return json_null();
	return json_pack("{s:i,s:f,s:f,s:f,s:i}", "n", s->n, "median", s->med,
			 "min", s->min, "max", s->max, "median_rep",
			 s->med_rep);
}

static void fmt_val(char *buf, size_t len, double v, const char *unit)
{
	if (!strcmp(unit, "s") && v < 1)
		snprintf(buf, len, "%.1f ms", v * 1000);
	else if (!strcmp(unit, "s"))
		snprintf(buf, len, "%.2f s", v);
	else if (!strcmp(unit, "ratio"))
		snprintf(buf, len, "%.4f", v);
	else if (!strcmp(unit, "s/GiB"))
		snprintf(buf, len, "%.3f s/GiB", v);
	else
		snprintf(buf, len, "%.0f %s", v, unit);
}

static void fmt_stat(char *buf, size_t len, const struct stat3 *s,
		     const char *unit)
{
	char a[32], b[32], c[32];
	if (!s->n) {
		snprintf(buf, len, "-");
		return;
	}
	fmt_val(a, sizeof(a), s->med, unit);
	if (s->n == 1) {
		snprintf(buf, len, "%s%s (n=1)", s->bound ? ">= " : "", a);
		return;
	}
	fmt_val(b, sizeof(b), s->min, unit);
	fmt_val(c, sizeof(c), s->max, unit);
	/* the unit once: "412 MiB/s [398-431]" */
	char *sp = strchr(b, ' ');
	if (sp && strchr(c, ' ') && !strcmp(sp, strchr(c, ' ')))
		*sp = 0;
	sp = strchr(c, ' ');
	if (sp)
		*sp = 0;
	snprintf(buf, len, "%s%s [%s-%s]", s->bound ? ">= " : "", a, b, c);
}

static const char *metric_title(const char *m)
{
	static const char *const t[][2] = {
		{ "inflate_rate", "inflate rate" },
		{ "inflate_settle", "inflate: time to settle" },
		{ "inflate_eff_rate", "inflate rate over the step (size / settle)" },
		{ "deflate_eff_rate", "deflate rate over the step (size / settle)" },
		{ "zeroing_bw_cold", "guest zeroing bw, host-cold (first touch)" },
		{ "deflate_rate", "deflate rate" },
		{ "deflate_settle", "deflate: time to settle" },
		{ "inflate_cpu_per_gib", "inflate: QEMU CPU per GiB" },
		{ "deflate_cpu_per_gib", "deflate: QEMU CPU per GiB" },
		{ "rss_returned", "host memory returned (RSS/ballooned)" },
		{ "ram_returned", "  same, guest-RAM mapping only (smaps)" },
		{ "cold_before_first", "  RSS growth before the first change" },
		{ "latency", "reaction latency (target -> first change)" },
		{ "zeroing_bw", "guest page-zeroing bw, host-backed (ceiling)" },
		{ "inflate_failed", "inflate NOT settled (MiB moved)" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i][0], m))
			return t[i][1];
	return m;
}

/*
 * Variants: ours again with one setting changed, recorded as
 * "<memory>-<suffix>" (bench.c).  Their rows set them against virtio's
 * plain run (virtio has no such setting) and, in the conditions, against
 * ours without the change: "(<base>: its median, variant / base)".
 */
struct variant {
	const char *suffix;	/* of the record's "touched" */
	const char *setting;	/* what the variant changed */
	const char *base;	/* what the plain run is called */
};

static const struct variant variants[] = {
	{ "-zeroed", "zero_on_inflate=1", "off" },
	{ "-old", "discard-worker=off bulk_alloc=0 (the 4 KiB path before "
		  "issue 22)", "new" },
};

static const struct variant *variant_of(const char *touched)
{
	size_t n = strlen(touched);

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		size_t k = strlen(variants[i].suffix);
		if (n > k && !strcmp(touched + n - k, variants[i].suffix))
			return &variants[i];
	}
	return NULL;
}

/* ---- the goals: where ours must stand against virtio-balloon ---- */

struct goal {
	char text[96];
	int met;		/* 1, 0, or -1: no goal / not measurable */
};

static struct goal goal_of(const char *metric, int ioa, const char *touched,
			   const struct stat3 *ours, const struct stat3 *ref,
			   const struct stat3 *zero)
{
	struct goal g = { "-", -1 };
	bool both = ours->n && ref->n && ref->med > 0;
	bool frag = !strcmp(touched, "fragmented");

	/* A variant's runs measure what its setting changes: no goal of
	 * their own. */
	if (variant_of(touched))
		return g;

	/* Goals on the rate over the whole step: our slopes are often only
	 * lower bounds (one command moves the whole step). */
	if (!strcmp(metric, "inflate_eff_rate") && frag) {
		snprintf(g.text, sizeof(g.text), ">= 1x virtio (never slower)");
		if (both)
			g.met = ours->med >= ref->med;
	} else if (!strcmp(metric, "inflate_eff_rate") &&
		   !strcmp(touched, "touched") && !ioa) {
		snprintf(g.text, sizeof(g.text), ">= 10x virtio");
		if (both)
			g.met = ours->med >= 10 * ref->med;
	} else if (!strcmp(metric, "inflate_eff_rate") &&
		   strcmp(touched, "fragmented") && ioa) {
		if (zero->n) {
			snprintf(g.text, sizeof(g.text), ">= 80%% of zeroing "
				 "bw%s (%.0f MiB/s)", strcmp(touched, "untouched")
				 ? "" : " (cold)", 0.8 * zero->med);
			if (ours->n)
				g.met = ours->med >= 0.8 * zero->med;
		} else {
			snprintf(g.text, sizeof(g.text), ">= 80%% of zeroing "
				 "bw (not measured)");
		}
	} else if (!strcmp(metric, "deflate_eff_rate")) {
		snprintf(g.text, sizeof(g.text), ">= 1x virtio");
		if (both)
			g.met = ours->med >= ref->med;
	} else if (!strcmp(metric, "latency")) {
		snprintf(g.text, sizeof(g.text), "ours < 50 ms (IRQ)");
		if (ours->n)
			g.met = ours->med < 0.050;
	} else if (!strcmp(metric, "rss_returned")) {
		snprintf(g.text, sizeof(g.text), "ours >= 0.99");
		if (ours->n)
			g.met = ours->med >= 0.99;
	} else if (!strcmp(metric, "inflate_failed")) {
		snprintf(g.text, sizeof(g.text), "none");
		g.met = 0;
	}
	return g;
}

/* ---- plots ---- */

static void plot_panel(FILE *gp, const char *dir, int ioa, const char *dirn,
		       int size, const char *touched, json_t *recs)
{
	char m[32], title[128];
	snprintf(m, sizeof(m), "%s_settle", dirn);
	struct stat3 e = stats_of(recs, m, ioa, size, touched, "emu");
	struct stat3 v = stats_of(recs, m, ioa, size, touched, "virtio");
	snprintf(title, sizeof(title), "%s %d MiB, %s (median run)", dirn,
		 size, touched);
	fprintf(gp, "set title \"%s\"\n", title);
	char fe[PATH_MAX], fv[PATH_MAX];
	snprintf(fe, sizeof(fe), "%s/curves/emu-ioa%d-%s-%d-%s-%d.tsv", dir,
		 ioa, dirn, size, touched, e.med_rep);
	snprintf(fv, sizeof(fv), "%s/curves/virtio-ioa%d-%s-%d-%s-%d.tsv",
		 dir, ioa, dirn, size, touched, v.med_rep);
	bool he = e.n && !access(fe, R_OK), hv = v.n && !access(fv, R_OK);
	/* The fragmented panels: ours before issue 22 too. */
	char old[64], fo[PATH_MAX];
	snprintf(old, sizeof(old), "%s-old", touched);
	struct stat3 eo = stats_of(recs, m, ioa, size, old, "emu");
	snprintf(fo, sizeof(fo), "%s/curves/emu-ioa%d-%s-%d-%s-%d.tsv", dir,
		 ioa, dirn, size, old, eo.med_rep);
	bool ho = eo.n && !access(fo, R_OK);
	if (!he && !hv) {
		fprintf(gp, "set label 1 \"no data\" at graph 0.5,0.5 center\n"
			"plot 2 notitle lc rgb \"white\"\nunset label 1\n");
		return;
	}
	/* gnuplot runs in @dir: its script names files relative to it,
	 * built of fixed words and numbers only, never of @dir. */
	size_t skip = strlen(dir) + 1;
	fprintf(gp, "plot ");
	if (he)
		fprintf(gp, "\"%s\" using 1:3 with linespoints pt 7 ps 0.4 "
			"lw 2 lc rgb \"#d62728\" title \"ours (tb-balloon)\"%s",
			fe + skip, hv ? ", " : "");
	if (hv)
		fprintf(gp, "\"%s\" using 1:3 with linespoints pt 7 ps 0.4 "
			"lw 2 lc rgb \"#1f77b4\" title \"virtio-balloon\"",
			fv + skip);
	if (ho)
		fprintf(gp, "%s\"%s\" using 1:3 with linespoints pt 7 ps 0.4 "
			"lw 2 lc rgb \"#ff7f0e\" title \"ours, discard-worker="
			"off bulk_alloc=0\"", he || hv ? ", " : "", fo + skip);
	fputc('\n', gp);
}

static void plots(const char *dir, json_t *recs, json_t *sizes,
		  bool ioa_seen[2])
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/plots.gp", dir);
	FILE *gp = fopen(path, "w");
	if (!gp)
		return;
	fprintf(gp, "# SPDX-License-Identifier: GPL-2.0-only\n"
		"# generated by tb-bench: balloon size against time, ours "
		"over virtio\nset datafile separator \"\\t\"\n"
		"set xlabel \"s since the target was set\"\n"
		"set ylabel \"balloon (MiB)\"\nset grid\n"
		"set key bottom right\n");
	for (int ioa = 0; ioa <= 1; ioa++) {
		if (!ioa_seen[ioa])
			continue;
		size_t i;
		json_t *sz;
		json_array_foreach(sizes, i, sz) {
			int size = (int)json_integer_value(sz);
			fprintf(gp, "set terminal pngcairo noenhanced size 1400,900 font "
				"\",10\"\nset output \"curves-ioa%d-%d.png\"\n"
				"set multiplot layout 2,2 title \"init_on_alloc"
				"=%d, %d MiB step\"\n", ioa, size, ioa,
				size);
			plot_panel(gp, dir, ioa, "inflate", size, "untouched",
				   recs);
			plot_panel(gp, dir, ioa, "deflate", size, "untouched",
				   recs);
			plot_panel(gp, dir, ioa, "inflate", size, "touched",
				   recs);
			plot_panel(gp, dir, ioa, "deflate", size, "touched",
				   recs);
			fprintf(gp, "unset multiplot\n");
		}
		int fs = 0;
		size_t k;
		json_t *x;
		json_array_foreach(recs, k, x)
			if (!strcmp(json_string_value(json_object_get(x,
					"touched")), "fragmented") &&
			    json_integer_value(json_object_get(x,
					"init_on_alloc")) == ioa)
				fs = (int)json_number_value(json_object_get(x,
							"size_mib"));
		fprintf(gp, "set terminal pngcairo noenhanced size 1400,450 font \",10\"\n"
			"set output \"curves-ioa%d-fragmented.png\"\n"
			"set multiplot layout 1,2 title \"init_on_alloc=%d, "
			"fragmented guest\"\n", ioa, ioa);
		plot_panel(gp, dir, ioa, "inflate", fs, "fragmented", recs);
		plot_panel(gp, dir, ioa, "deflate", fs, "fragmented", recs);
		fprintf(gp, "unset multiplot\n");
	}
	fclose(gp);
	char logf[PATH_MAX + 16];
	snprintf(logf, sizeof(logf), "%s/plots.log", dir);
	char *const gpv[] = { "gnuplot", "plots.gp", NULL };
	if (bench_spawn(gpv, NULL, logf, NULL, 0, dir))
		fprintf(stderr, "tb-bench: gnuplot failed, see %s/plots.log\n",
			dir);
}

/* ---- the table ---- */

int bench_report(const char *dir)
{
	char path[PATH_MAX];
	json_error_t jerr;

	snprintf(path, sizeof(path), "%s/raw.json", dir);
	json_t *doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		fprintf(stderr, "tb-bench: %s: %s (line %d)\n", path,
			jerr.text, jerr.line);
		return 2;
	}
	json_t *recs = json_object_get(doc, "records");
	json_t *sess = json_object_get(doc, "sessions");
	json_t *run = json_object_get(doc, "run");
	if (!json_is_array(recs) || !json_is_array(sess)) {
		fprintf(stderr, "tb-bench: %s: no records\n", path);
		return 2;
	}

	/* Distinct figures, in the order they were measured. */
	json_t *rows = json_array(), *seen = json_object();
	json_t *sizes = json_array();
	bool ioa_seen[2] = { false, false };
	size_t i;
	json_t *r;
	json_array_foreach(recs, i, r) {
		const char *m = json_string_value(json_object_get(r, "metric"));
		const char *t = json_string_value(json_object_get(r, "touched"));
		int ioa = (int)json_integer_value(json_object_get(r,
							"init_on_alloc"));
		double size = json_number_value(json_object_get(r, "size_mib"));
		char key[128];
		if (!strcmp(m, "first_change"))
			continue;	/* kept in raw.json; latency has its own */
		ioa_seen[ioa & 1] = true;
		if (!strcmp(m, "inflate_rate") && !strcmp(t, "untouched")) {
			bool have = false;
			size_t k;
			json_t *z;
			json_array_foreach(sizes, k, z)
				have |= json_integer_value(z) == (int)size;
			if (!have)
				json_array_append_new(sizes,
						      json_integer((int)size));
		}
		snprintf(key, sizeof(key), "%d|%s|%s|%.0f", ioa, m, t, size);
		if (json_object_get(seen, key))
			continue;
		json_object_set_new(seen, key, json_true());
		json_array_append_new(rows, json_pack("{s:i,s:s,s:s,s:f,s:s}",
			"init_on_alloc", ioa, "metric", m, "touched", t,
			"size_mib", size, "unit",
			json_string_value(json_object_get(r, "unit"))));
	}
	/* Rows grouped by command line (records come session by session). */
	json_t *sorted = json_array();
	for (int ioa = 0; ioa <= 1; ioa++)
		json_array_foreach(rows, i, r)
			if (json_integer_value(json_object_get(r,
						"init_on_alloc")) == ioa)
				json_array_append(sorted, r);
	json_decref(rows);
	rows = sorted;

	snprintf(path, sizeof(path), "%s/bench.md", dir);
	char part[PATH_MAX + 8];
	snprintf(part, sizeof(part), "%s.part", path);
	FILE *md = fopen(part, "w");
	if (!md) {
		perror(part);
		return 2;
	}
	fprintf(md, "# balloon-testbed benchmark: tb-balloon vs "
		"virtio-balloon\n\n");
	fprintf(md, "Run `%s`%s; %lld repetitions per figure; wall time "
		"%.0f s; host %s.\n\n", dir,
		json_is_true(json_object_get(run, "quick")) ? " (QUICK)" : "",
		(long long)json_integer_value(json_object_get(run, "runs")),
		json_number_value(json_object_get(run, "wall_s")),
		json_string_value(json_object_get(run, "host")));
	fprintf(md, "Conditions (every figure below was measured under its "
		"session's conditions):\n\n| session | device | accel | QEMU | "
		"guest kernel | kernel command line | vCPUs | memory | idle "
		"QEMU CPU |\n|---|---|---|---|---|---|---|---|---|\n");
	json_array_foreach(sess, i, r)
		fprintf(md, "| %s | %s | %s | %s (%s) | %s | `%s` | %lld | "
			"%lld MiB | %.0f%% |\n",
			json_string_value(json_object_get(r, "session")),
			json_string_value(json_object_get(r, "device")),
			json_string_value(json_object_get(r, "accel")),
			json_string_value(json_object_get(r, "qemu_version")),
			json_string_value(json_object_get(r, "qemu_binary")),
			json_string_value(json_object_get(run,
							  "kernel_version")),
			json_string_value(json_object_get(r,
							  "kernel_cmdline")),
			json_integer_value(json_object_get(r, "vcpus")),
			json_integer_value(json_object_get(r, "memory_mib")),
			100 * json_number_value(json_object_get(r,
							"idle_cpu_frac")));
	fprintf(md, "\nRates: slope between 10%% and 90%% of the step; settle:"
		" until within 1 MiB of the target (and staying); sampled "
		"every 2 ms for the first 100 ms of a step, then every %.0f ms "
		"(latency: every 2 ms, plus QMP BALLOON_CHANGE). "
		"Touched: the guest touched (and freed) its free memory "
		"before the step. Values: median [min-max]; ratio = ours / "
		"virtio. \">=\": some runs moved from 10%% to 90%% between two "
		"samples, so the slope is only bounded from below; the goals "
		"are therefore judged on the rate over the step (size / time "
		"to settle, reaction included), the stricter figure. Zeroing "
		"bandwidth: the agent touching 1 GiB of fresh anonymous memory "
		"(cold: first touch since boot, the host populates too; "
		"host-backed: again, the ceiling for touched memory). Rows "
		"with a setting in their conditions are ours again with that "
		"setting, in the same boot, against virtio's plain run; "
		"\"(off: X, Nx)\" or \"(new: X, Nx)\" is ours without it "
		"and the variant / that.\n\n",
		1000 * json_number_value(json_object_get(run,
						"sample_interval_s")));
	fprintf(md, "| metric | conditions | ours (tb-balloon) | virtio | "
		"ratio | goal | met |\n|---|---|---|---|---|---|---|\n");

	json_t *out_rows = json_array();
	int nmet = 0, nmiss = 0;
	json_array_foreach(rows, i, r) {
		const char *m = json_string_value(json_object_get(r, "metric"));
		const char *t = json_string_value(json_object_get(r, "touched"));
		const char *unit = json_string_value(json_object_get(r, "unit"));
		int ioa = (int)json_integer_value(json_object_get(r,
							"init_on_alloc"));
		double size = json_number_value(json_object_get(r, "size_mib"));
		/* A variant against virtio's plain run and ours without it. */
		const struct variant *var = variant_of(t);
		char plain[32];
		snprintf(plain, sizeof(plain), "%.*s", (int)(strlen(t) -
			 (var ? strlen(var->suffix) : 0)), t);
		struct stat3 o = stats_of(recs, m, ioa, size, t, "emu");
		struct stat3 v = stats_of(recs, m, ioa, size, plain, "virtio");
		struct stat3 off = stats_of(recs, m, ioa, size, plain, "emu");
		struct stat3 z = stats_of(recs, strcmp(t, "untouched") ?
					  "zeroing_bw" : "zeroing_bw_cold",
					  ioa, -1, "-", "emu");
		struct goal g = goal_of(m, ioa, t, &o, &v, &z);
		char cond[256], so[64], sv[64], ratio[32];
		if (!strcmp(m, "latency") || !strncmp(m, "zeroing_bw", 10))
			snprintf(cond, sizeof(cond), "init_on_alloc=%d, "
				 "%.0f MiB", ioa, size);
		else if (var)
			snprintf(cond, sizeof(cond), "init_on_alloc=%d, "
				 "%.0f MiB, %s, %s (%s: %.4g, %.2fx)", ioa, size,
				 plain, var->setting, var->base, off.med,
				 off.n && off.med > 0 ? o.med / off.med : 0);
		else
			snprintf(cond, sizeof(cond), "init_on_alloc=%d, "
				 "%.0f MiB, %s", ioa, size, t);
		fmt_stat(so, sizeof(so), &o, unit);
		fmt_stat(sv, sizeof(sv), &v, unit);
		if (o.n && v.n && v.med > 0)
			snprintf(ratio, sizeof(ratio), "%.2f", o.med / v.med);
		else
			snprintf(ratio, sizeof(ratio), "-");
		const char *met = g.met < 0 ? "-" : g.met ? "yes" : "**NO**";
		nmet += g.met == 1;
		nmiss += g.met == 0;
		fprintf(md, "| %s | %s | %s | %s | %s | %s | %s |\n",
			metric_title(m), cond, so, sv, ratio, g.text, met);
		json_t *row = json_pack("{s:s,s:s,s:i,s:f,s:s,s:s,s:o,s:o,"
					"s:s}", "metric", m, "title",
					metric_title(m), "init_on_alloc", ioa,
					"size_mib", size, "memory", t, "unit",
					unit, "ours", stat_json(&o), "virtio",
					stat_json(&v), "goal", g.text);
		json_object_set_new(row, "ratio", o.n && v.n && v.med > 0 ?
				    json_real(o.med / v.med) : json_null());
		json_object_set_new(row, "met", g.met < 0 ? json_null() :
				    json_boolean(g.met));
		json_array_append_new(out_rows, row);
	}
	/* Simulation speed: no virtio counterpart. */
	json_t *sim = json_object_get(run, "sim");
	const char *sim_missing = json_string_value(json_object_get(run,
							"sim_missing"));
	if (json_array_size(sim)) {
		double v[64];
		size_t n = 0;
		json_array_foreach(sim, i, r)
			if (n < 64)
				v[n++] = json_number_value(json_object_get(r,
								"speed"));
		qsort(v, n, sizeof(double), cmp_pair);
		double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		fprintf(md, "| simulation speed (virtual s / wall s) | sim "
			"backend, 4 GiB guest | %.0fx [%.0f-%.0f] | - | - | - "
			"| - |\n", med, v[0], v[n - 1]);
		json_array_append_new(out_rows, json_pack("{s:s,s:{s:i,s:f,"
			"s:f,s:f}}", "metric", "sim_speed", "ours", "n", (int)n,
			"median", med, "min", v[0], "max", v[n - 1]));
	} else {
		fprintf(md, "| simulation speed (virtual s / wall s) | sim "
			"backend | missing: %s | - | - | - | - |\n",
			sim_missing ? sim_missing : "not run");
	}
	fprintf(md, "\nGoals met: %d, not met: %d.  Plots: curves-ioa*.png "
		"(balloon size of the median run, ours over virtio).\n",
		nmet, nmiss);
	/* What was measured beside the bench (profiles: where the time
	 * goes), kept in the run's directory, written by hand. */
	char notes[PATH_MAX];
	snprintf(notes, sizeof(notes), "%s/notes.md", dir);
	FILE *nf = fopen(notes, "r");
	if (nf) {
		char buf[4096];
		size_t n;
		fputc('\n', md);
		while ((n = fread(buf, 1, sizeof(buf), nf)))
			fwrite(buf, 1, n, md);
		fclose(nf);
	}
	fclose(md);
	rename(part, path);

	json_t *bj = json_pack("{s:O,s:O,s:o,s:i,s:i}", "run", run,
			       "sessions", sess, "rows", out_rows,
			       "goals_met", nmet, "goals_not_met", nmiss);
	snprintf(path, sizeof(path), "%s/bench.json", dir);
	bench_write_json(bj, path);
	json_decref(bj);

	plots(dir, recs, sizes, ioa_seen);

	/* The table, printed. */
	snprintf(path, sizeof(path), "%s/bench.md", dir);
	FILE *f = fopen(path, "r");
	char line[2048];
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stdout);
	if (f)
		fclose(f);
	printf("\nwritten: %s/bench.md, %s/bench.json, %s/curves-*.png\n",
	       dir, dir, dir);
	json_decref(rows);
	json_decref(sizes);
	json_decref(seen);
	json_decref(doc);
	return 0;
}
