// SPDX-License-Identifier: GPL-2.0-only
/*
 * results.c - the results directory: files written whole (.part, then renamed), summary space reserved, latest link; summary.json, steps.tsv and metrics.tsv at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_int.h"


static int make_dirs(const char *path)
{
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

int open_run_dir(struct run *r)
{
	const struct run_opts *o = r->opts;
	char base[PATH_MAX], id[96];
	time_t t = time(NULL);
	struct tm tm;

	snprintf(base, sizeof(base), "%s/%s", o->results ? o->results :
		 "results", r->p->name);
	if (make_dirs(base))
		return -1;
	localtime_r(&t, &tm);
	if (o->run_id)
		snprintf(id, sizeof(id), "%s", o->run_id);
	else
		snprintf(id, sizeof(id), "%04d%02d%02d-%02d%02d%02d-%s",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec, r->be.ops->name);
	/* Never overwrite: add -2, -3, ... when the name is taken. */
	for (int n = 1; n < 1000; n++) {
		if (n == 1)
			snprintf(r->dir, sizeof(r->dir), "%s/%s", base, id);
		else
			snprintf(r->dir, sizeof(r->dir), "%s/%s-%d", base, id,
				 n);
		if (!mkdir(r->dir, 0755))
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

FILE *open_part(struct run *r, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.part", r->dir, name);
	return fopen(path, "w");
}

/* open_part(), or the run fails with "results-write" naming the file. */
FILE *open_part_or_fail(struct run *r, const char *name)
{
	FILE *f = open_part(r, name);
	if (!f)
		run_fail(r, "results-write", "cannot create %s: %s", name,
			 strerror(errno));
	return f;
}

void close_part(struct run *r, FILE **f, const char *name)
{
	char a[PATH_MAX], b[PATH_MAX];
	if (!*f)
		return;
	bool ok = !fflush(*f) && !ferror(*f);
	ok = !fsync(fileno(*f)) && ok;
	ok = !fclose(*f) && ok;
	*f = NULL;
	snprintf(a, sizeof(a), "%s/%s.part", r->dir, name);
	snprintf(b, sizeof(b), "%s/%s", r->dir, name);
	/* A file the disk refused keeps its .part name: never a short file
	 * under the finished name. */
	if (ok && !rename(a, b))
		return;
	if (ok)
		run_fail(r, "results-write", "renaming %s.part to %s: %s",
			 name, name, strerror(errno));
	else
		run_fail(r, "results-write", "writing %s: %s (left as "
			 "%s.part)", name, strerror(errno), name);
}

/* Room for summary.json, taken when the run starts, so that a full disk
 * still gets its verdict written. */
#define SUMMARY_RESERVE	(512 << 10)

int reserve_summary(struct run *r)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/summary.json.part", r->dir);
	r->summary_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
	if (r->summary_fd < 0)
		return -1;
	int err = posix_fallocate(r->summary_fd, 0, SUMMARY_RESERVE);
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

void point_latest(struct run *r)
{
	char link[PATH_MAX], tmp[PATH_MAX];
	const char *leaf = strrchr(r->dir, '/') + 1;
	snprintf(link, sizeof(link), "%.*s/latest", (int)(leaf - r->dir - 1),
		 r->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", link, (int)getpid());
	unlink(tmp);
	if (symlink(leaf, tmp) || rename(tmp, link)) {
		say(r, "harness: cannot point %s at %s: %s", link, leaf,
		    strerror(errno));
		unlink(tmp);
	}
}

/* The run directory's entries (the renames) on disk, and the scenario
 * directory's (latest): 0, or -1 with errno set. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

static json_t *jnum_or_null(bool has, double v)
{
	return has ? json_real(v) : json_null();
}

static json_t *expect_json(const struct expect *e, const struct verdict *v)
{
	json_t *j = json_object();
	json_object_set_new(j, "key", json_string(e->key));
	json_object_set_new(j, "where", json_sprintf("%s:%d", e->from.file,
						     e->from.line));
	if (e->text[0])
		json_object_set_new(j, "want", json_string(e->text));
	else
		json_object_set_new(j, "want", json_real(e->value));
	json_object_set_new(j, "tolerance", json_real(e->tol));
	if (e->tol_name[0])
		json_object_set_new(j, "tolerance_name",
				    json_string(e->tol_name));
	json_object_set_new(j, "measured", jnum_or_null(v->has_measured,
							v->measured));
	json_object_set_new(j, "detail", json_string(v->text));
	json_object_set_new(j, "verdict", json_string(v->result));
	return j;
}

/* A step's metrics: the "metrics" object of summary.json and its row of
 * metrics.tsv (@tsv may be NULL). */
static json_t *metrics_json(const struct step_metrics *m, FILE *tsv)
{
	struct metric_col c[METRIC_COLS];
	json_t *j = json_object();

	metric_cols(m, c);
	for (int k = 0; k < METRIC_COLS; k++) {
		bool count = !strcmp(c[k].key, "cycles");
		json_object_set_new(j, c[k].key, isnan(c[k].v) ? json_null() :
				    count ? json_integer((json_int_t)c[k].v) :
				    json_real(c[k].v));
		if (!tsv)
			continue;
		if (isnan(c[k].v))
			fputs("\t-", tsv);
		else
			fprintf(tsv, count ? "\t%.0f" : "\t%.3f", c[k].v);
	}
	if (tsv)
		fputc('\n', tsv);
	return j;
}

static void metrics_header(FILE *tsv)
{
	struct step_metrics m;
	struct metric_col c[METRIC_COLS];

	memset(&m, 0, sizeof(m));
	metric_cols(&m, c);
	fputs("step\tname", tsv);
	for (int k = 0; k < METRIC_COLS; k++)
		fprintf(tsv, "\t%s", c[k].key);
	fputc('\n', tsv);
}

static json_t *settings_json(const struct plan *p)
{
	json_t *j = json_object(), *o;
	json_object_set_new(j, "memory", json_integer((json_int_t)p->memory));
	json_object_set_new(j, "vcpus", json_integer(p->vcpus));
	json_object_set_new(j, "machine", json_string(p->machine));
	json_object_set_new(j, "numa_nodes", json_integer(p->numa_nodes));
	json_object_set_new(j, "memory_backend", json_string(
			    p->memory_backend[0] ? p->memory_backend :
			    "default"));
	json_object_set_new(j, "cmdline", json_string(p->cmdline));
	json_object_set_new(j, "sample_s", json_real(p->sample));
	json_object_set_new(j, "time_limit_s", json_real(p->time_limit));
	json_object_set_new(j, "boot_timeout_s", json_real(p->boot_timeout));
	json_object_set_new(j, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(j, "scale", json_real(p->scale));
	json_object_set_new(j, "ci", json_boolean(p->ci));
	json_object_set_new(j, "tolerance",
			    json_integer((json_int_t)p->tolerance));
	o = json_object();
	for (int i = 0; i < p->nprops; i++)
		json_object_set_new(o, p->props[i].key,
				    json_string(p->props[i].value));
	json_object_set_new(j, "device", o);
	o = json_object();
	for (int i = 0; i < p->ndparams; i++)
		json_object_set_new(o, p->dparams[i].key,
				    json_string(p->dparams[i].value));
	json_object_set_new(j, "driver", o);
	o = json_object();
	for (int i = 0; i < p->ntolerances; i++)
		json_object_set_new(o, p->tolerances[i].key,
				    json_string(p->tolerances[i].value));
	json_object_set_new(j, "tolerances", o);
	return j;
}

/*
 * "nodes": the balloon by NUMA node (each node's memory backend) in
 * sample @s, as the device counts it; NULL where the guest has no nodes
 * or the device did not say.
 */
static json_t *nodes_json(const struct run *r, const struct sample_rec *s)
{
	json_t *a;

	if (!r->p->numa_nodes || !s || !s->s.nblocks)
		return NULL;
	a = json_array();
	for (int i = 0; i < s->s.nblocks; i++) {
		const struct be_block *b = &s->s.blocks[i];
		json_array_append_new(a, json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,"
			"s:f}", "node", node_of_block(b->name), "memdev",
			b->name, "page_size", (json_int_t)b->page_size,
			"size", (json_int_t)(b->pages * 4096),
			"balloon", (json_int_t)(b->balloon * 4096),
			"partial_host_pages", (json_int_t)b->partial,
			"balloon_mib", (double)b->balloon * 4096 / (1 << 20)));
	}
	return a;
}

/* The last sample taken in step @i, or NULL. */
static const struct sample_rec *step_last_sample(const struct run *r, int i)
{
	for (size_t k = r->nsamples; k > 0; k--)
		if (r->samples[k - 1].step == i)
			return &r->samples[k - 1];
	return NULL;
}

static void run_plot(struct run *r)
{
	const struct run_opts *o = r->opts;
	char log[PATH_MAX];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = -1;

	if (!o->plot || access(o->plot, R_OK))
		return;
	/* `sh SCRIPT RUNDIR`, an argument vector: no name reaches a shell's
	 * command line. */
	char *const argv[] = { "sh", (char *)o->plot, r->dir, NULL };
	snprintf(log, sizeof(log), "%s/plot.log", r->dir);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT |
					 O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	int err = posix_spawnp(&pid, "sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (!err)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (err || !WIFEXITED(st) || WEXITSTATUS(st))
		say(r, "harness: plotting failed, see %s/plot.log", r->dir);
}

int finish(struct run *r)
{
	const struct plan *p = r->p;
	json_t *sum = json_object(), *steps = json_array(),
	       *exps = json_array();
	int npass = 0, nfail = 0, nskip = 0;
	char path[PATH_MAX], tmp[PATH_MAX];
	struct verdict v;
	double worst_conv = -1, final_err = 0;
	bool have_err = false;

	/* Step marks for the plots. */
	FILE *sf = open_part(r, "steps.tsv");
	if (sf) {
		fprintf(sf, "time_s\tstep\tname\n");
		if (r->guest.ready)
			fprintf(sf, "%.3f\t0\tready\n", r->guest.ready_t);
		for (int i = 0; i < p->nsteps; i++)
			if (r->rt[i].started)
				fprintf(sf, "%.3f\t%d\t%s\n", r->rt[i].start,
					i + 1, p->steps[i].name);
		/* OOM kills seen on the console: marked like steps. */
		for (int i = 0; i < r->guest.oom_kills && i < 16; i++)
			if (r->guest.oom_t[i] > 0)
				fprintf(sf, "%.3f\t-\tOOM kill\n",
					r->guest.oom_t[i]);
		close_part(r, &sf, "steps.tsv");
	}

	/* One row of metrics per step. */
	FILE *mf = open_part(r, "metrics.tsv");
	if (mf)
		metrics_header(mf);

	for (int i = -1; i < p->nsteps; i++) {
		const struct expect *ex = i < 0 ? p->expects :
					  p->steps[i].expects;
		int n = i < 0 ? p->nexpects : p->steps[i].nexpects;
		json_t *sj = NULL, *sx = json_array();
		if (i >= 0) {
			struct step_metrics m;
			const struct step_rt *rt = &r->rt[i];
			metrics(r, i, &m);
			sj = json_object();
			json_object_set_new(sj, "name",
					    json_string(p->steps[i].name));
			json_object_set_new(sj, "started",
					    json_boolean(rt->started));
			json_object_set_new(sj, "skipped",
					    json_boolean(rt->skipped));
			if (rt->skipped)
				json_object_set_new(sj, "skip_reason",
					json_string(rt->skip_reason));
			json_object_set_new(sj, "start_s", rt->started ?
				json_real(rt->start) : json_null());
			json_object_set_new(sj, "end_s", rt->started ?
				json_real(step_end(r, i)) : json_null());
			if (p->steps[i].has_target) {
				json_object_set_new(sj, "target",
					json_integer((json_int_t)
						     p->steps[i].target));
				json_object_set_new(sj, "convergence_s",
					m.converge_s >= 0 ?
					json_real(m.converge_s) : json_null());
				json_object_set_new(sj, "rate_mibs",
					json_real(m.rate_mibs));
				json_object_set_new(sj, "overshoot",
					json_real(m.overshoot));
				json_object_set_new(sj, "final_error",
					json_real(m.final_error));
				if (m.has && rt->started) {
					if (m.converge_s > worst_conv)
						worst_conv = m.converge_s;
					final_err = m.final_error;
					have_err = true;
				}
			}
			if (mf)
				fprintf(mf, "%d\t%s", i + 1,
					p->steps[i].name);
			json_object_set_new(sj, "metrics",
					    metrics_json(&m, mf));
			json_object_set_new(json_object_get(sj, "metrics"),
					    "times_from", json_string(m.times_from));
			json_t *nj = nodes_json(r, step_last_sample(r, i));
			if (nj)
				json_object_set_new(sj, "nodes", nj);
			json_t *pj = policy_json(r, i);
			if (pj)
				json_object_set_new(sj, "policy", pj);
			if (rt->reply[0])
				json_object_set_new(sj, "agent_reply",
						    json_string(rt->reply));
		}
		for (int k = 0; k < n; k++) {
			check(r, i, &ex[k], &v);
			if (!strcmp(v.result, "pass"))
				npass++;
			else if (!strcmp(v.result, "fail"))
				nfail++;
			else
				nskip++;
			logev(r, "EXPECT", "[%s] %s: %s (%s)", i < 0 ?
			      "global" : p->steps[i].name, ex[k].key,
			      v.result, v.text);
			json_t *ej = expect_json(&ex[k], &v);
			json_object_set_new(ej, "step", json_string(i < 0 ?
				"global" : p->steps[i].name));
			json_array_append(exps, ej);
			json_array_append_new(sx, ej);
			say(r, "  %-7s [%s] %s: %s", v.result, i < 0 ?
			    "global" : p->steps[i].name, ex[k].key, v.text);
		}
		if (sj) {
			json_object_set_new(sj, "expectations", sx);
			json_array_append_new(steps, sj);
		} else {
			json_decref(sx);
		}
	}

	close_part(r, &mf, "metrics.tsv");
	if (r->policy_tsv)
		close_part(r, &r->policy_tsv, "policy.tsv");
	gstats_close(r);

	const char *verdict = r->error_kind ? "error" : nfail ? "fail" :
			      "pass";
	int status = r->error_kind ? 2 : nfail ? 1 : 0;
	logev(r, "VERDICT", "%s%s%s", verdict, r->error_kind ? ": " : "",
	      r->error_kind ? r->error : "");

	json_object_set_new(sum, "scenario", json_string(p->name));
	json_object_set_new(sum, "file", json_string(p->file));
	json_object_set_new(sum, "description", json_string(p->description));
	json_object_set_new(sum, "backend", json_string(r->be.ops->name));
	json_object_set_new(sum, "accel", json_string(r->be.accel));
	json_object_set_new(sum, "host_version",
			    json_string(r->be.host_version));
	json_object_set_new(sum, "guest_kernel", json_string(r->guest.kernel));
	/* The QEMU machine the guest ran on (the simulator has none: it
	 * records what the scenario asked for). */
	json_object_set_new(sum, "machine", json_string(p->machine));
	json_object_set_new(sum, "memory_backing", json_string(
			    r->be.memory_backing[0] ? r->be.memory_backing :
			    "the backend's own (no QEMU memory backend)"));
	json_object_set_new(sum, "kernel_cmdline",
			    json_string(r->guest.cmdline[0] ?
					r->guest.cmdline :
					r->be.kernel_cmdline));
	json_object_set_new(sum, "kernel_cmdline_source",
			    json_string(r->guest.cmdline[0] ?
					"guest /proc/cmdline" :
					"as passed by the harness"));
	json_object_set_new(sum, "settings", settings_json(p));
	json_t *nodes = nodes_json(r, last_sample(r));
	if (nodes)
		json_object_set_new(sum, "nodes", nodes);
	json_object_set_new(sum, "identity", identity_json(r));
	json_object_set_new(sum, "ready_s", r->guest.ready ?
			    json_real(r->guest.ready_t) : json_null());
	json_object_set_new(sum, "duration_s", json_real(now(r)));
	json_object_set_new(sum, "oom_kills",
			    json_integer(r->guest.oom_kills));
	json_object_set_new(sum, "steps", steps);
	json_object_set_new(sum, "batches", batches_json(r));
	json_object_set_new(sum, "expectations", exps);
	json_object_set_new(sum, "passed", json_integer(npass));
	json_object_set_new(sum, "failed", json_integer(nfail));
	json_object_set_new(sum, "skipped", json_integer(nskip));
	json_object_set_new(sum, "convergence_s", worst_conv >= 0 ?
			    json_real(worst_conv) : json_null());
	json_object_set_new(sum, "final_error", have_err ?
			    json_real(final_err) : json_null());
	json_object_set_new(sum, "verdict", json_string(verdict));
	/* complete: the run played its timeline to the end; false when it
	 * was cut short (interrupted, QEMU died, disk full, ...). */
	json_object_set_new(sum, "complete", json_boolean(!r->error_kind));
	json_object_set_new(sum, "error_kind", r->error_kind ?
			    json_string(r->error_kind) : json_null());
	json_object_set_new(sum, "error", json_string(r->error));

	close_part(r, &r->curve, "curve.tsv");
	batches_close(r);
	close_part(r, &r->buddy, "buddyinfo.tsv");
	if (r->nodes)
		close_part(r, &r->nodes, "nodes.tsv");
	close_part(r, &r->console, "console.log");
	logev(r, "END", "%d passed, %d failed, %d skipped", npass, nfail,
	      nskip);
	close_part(r, &r->events, "events.log");
	if (r->error_kind && strcmp(verdict, "error")) {
		/* A log the disk refused at the very end: not complete. */
		json_object_set_new(sum, "verdict", json_string("error"));
		json_object_set_new(sum, "error_kind",
				    json_string(r->error_kind));
		json_object_set_new(sum, "error", json_string(r->error));
		json_object_set_new(sum, "complete", json_false());
		status = 2;
	}

	/* summary.json last: its presence means the run directory is whole
	 * (its "complete" says whether the run was).  Written into the
	 * space reserved at the start, so a full disk still gets it. */
	snprintf(tmp, sizeof(tmp), "%s/summary.json.part", r->dir);
	snprintf(path, sizeof(path), "%s/summary.json", r->dir);
	char *text = json_dumps(sum, JSON_INDENT(2) | JSON_SORT_KEYS |
				JSON_REAL_PRECISION(10));
	size_t len = text ? strlen(text) : 0;
	bool written = text && r->summary_fd >= 0;
	for (size_t off = 0; written && off < len; ) {
		ssize_t w = pwrite(r->summary_fd, text + off, len - off,
				   (off_t)off);
		if (w <= 0)
			written = false;
		else
			off += (size_t)w;
	}
	written = written && pwrite(r->summary_fd, "\n", 1, (off_t)len) == 1
		  && !ftruncate(r->summary_fd, (off_t)len + 1) &&
		  !fsync(r->summary_fd);
	if (r->summary_fd >= 0 && close(r->summary_fd))
		written = false;
	r->summary_fd = -1;
	if (!written || rename(tmp, path) || sync_dir(r->dir)) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path,
			strerror(errno));
		status = 2;
	}
	free(text);
	json_decref(sum);
	point_latest(r);
	/* latest, in the scenario's directory */
	char *leaf = strrchr(r->dir, '/');
	if (leaf) {
		*leaf = '\0';
		if (sync_dir(r->dir))
			say(r, "harness: fsync %s: %s", r->dir,
			    strerror(errno));
		*leaf = '/';
	}
	run_plot(r);

	char conv[32] = "-", err[32] = "-";
	if (worst_conv >= 0)
		snprintf(conv, sizeof(conv), "%.1fs", worst_conv);
	if (have_err)
		snprintf(err, sizeof(err), "%+.1fM", final_err / MIB);
	say(r, "RESULT %s %s %s converge=%s final-error=%s (%d passed, %d "
	    "failed, %d skipped)%s%s", p->name, r->be.ops->name, verdict,
	    conv, err, npass, nfail, nskip, r->error_kind ? ": " : "",
	    r->error_kind ? r->error : "");
	say(r, "results: %s", r->dir);
	return status;
}

