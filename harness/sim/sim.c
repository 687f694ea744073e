// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim.c - the simulated machine (see sim.h).
 *
 * Three actors share one virtual clock: the driver (a convergence pass is a
 * series of commands, one event each), the agent's current workload (one
 * event per chunk of pages) and QMP's BALLOON_CHANGE throttle.  The next
 * event is always the earliest; ties go to the driver, then the workload.
 * Integer nanoseconds and a seeded PRNG keep runs byte-for-byte repeatable.
 *
 * The driver part follows guest-driver/tb_balloon.c: every decision (what
 * to aim for, clipping and min, episodes, pressure hold-off, sysfs writes,
 * how much to move, which page size, when to back off, when to warn, and
 * the messages' texts) is core/tb_guest.c's and core/tb_policy.c's, and
 * every entry is judged by core/tb_host.c, so the simulation and the real
 * device/driver cannot drift apart there.  What is left here is mechanism:
 * the memory model, the pass as a series of timed events, the lists.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/units.h"
#include "sim.h"
#include "tb_batchlog.h"
#include "tb_gstats.h"
#include "tb_guest.h"
#include "tb_knobs.h"

#define NEVER		UINT64_MAX
#define OWNER_BALLOON	0xffffu
#define MAX_PROCS	1024
#define CHUNK_PAGES	4096u	/* a workload moves 16 MiB per event */
#define PID_BASE	1000u

struct proc {
	bool used, alive, killable;
	char kind[16];
	uint64_t pages;		/* requested size */
	uint64_t busy_next;	/* busy: its next second's churn, else NEVER */
	uint64_t busy_end;	/* busy: when its time is up */
};

enum req_kind { REQ_NONE, REQ_FILL, REQ_PUNCH, REQ_FREE, REQ_REPLY };

struct request {
	enum req_kind kind;
	enum sim_pstate state;	/* REQ_FILL: what the pages become */
	uint16_t owner;
	uint64_t left, done;
	uint64_t next;		/* virtual time of the next chunk */
	uint64_t *pfns;		/* fragment: pages in allocation order */
	uint64_t npfns;
	bool files;		/* fragment: one 4 KiB file per page */
	char reply[2048];	/* the stats line is long */
};

struct balloon_list {
	uint64_t *pfn;
	uint64_t n, cap;
};

/* The driver's mechanism state; its decisions' state is @g, as in
 * struct tb_balloon. */
struct driver {
	struct tb_guest g;
	uint64_t wake;			/* next driver event, NEVER: none */
	bool in_pass;			/* a pass runs: b->lock is held */
	bool kick;			/* kicked during the pass */
	struct tb_pass pass;
	uint64_t want;			/* inflate: pass pages within room */
	uint64_t placed, granted;
	/* capped: the device's maximum balloon size was met, by a refusal or
	 * by the pass being clamped to the room; either ends the pass after
	 * its command (the driver goes on up to the room when clamped). */
	bool alloc_failed, capped;
	bool sending;			/* batch[] allocated, command next */
	uint64_t batch[TB_BATCH_MAX];
	uint8_t batch_order[TB_BATCH_MAX];
	uint32_t nbatch;
	uint64_t refused[TB_BATCH_MAX];
	uint8_t refused_order[TB_BATCH_MAX];
	uint32_t nrefused;
	struct balloon_list l4k, l2m;
	uint64_t refusals, partial_grants, pressure_pages;
};

struct sim {
	struct sim_config c;
	sim_out_fn out;
	void *arg;
	uint64_t now, rng, emitted;
	bool probed, ready, dead;

	struct sim_mem mem;
	struct tb_host_config hcfg;
	struct tb_host_state host;
	uint64_t target, generation;
	uint64_t dev_partial_grants;	/* the device's own count */
	struct tb_batchlog *blog;	/* "batch-log", as the device keeps it */
	uint64_t blog_from;		/* "batch-log-from" */

	uint64_t bc_last, bc_flush;	/* BALLOON_CHANGE throttle */
	int64_t bc_sent;

	struct driver d;
	struct proc procs[MAX_PROCS];
	uint64_t busy_t;		/* the earliest busy_next */
	struct request req;
	uint64_t oom_kills;

	/* Guest figures to the device (TB_F_STATS), as tb_stats_fn sends
	 * them and the device decodes them: through core/tb_gstats.c. */
	uint64_t gs_next;		/* the driver's next look, NEVER: none */
	unsigned char gs_page[TB_STATS_READ_SIZE];
	uint32_t gs_seq;
	struct tb_gstats gs;		/* the device's last report */
	uint64_t gs_ns, gs_reports;	/* when (0: never), how many */
};

/* ---- small helpers ---------------------------------------------------- */

static void emit(struct sim *s, enum sim_out kind, const char *text,
		 int64_t value)
{
	s->emitted++;
	if (s->out)
		s->out(s->arg, kind, s->now, text, value);
}

/* A kernel log line as the console shows it: "[    1.234567] text". */
static void __attribute__((format(printf, 2, 3)))
console(struct sim *s, const char *fmt, ...)
{
	char line[512];
	int n;
	va_list ap;

	n = snprintf(line, sizeof(line), "[%5" PRIu64 ".%06" PRIu64 "] ",
		     s->now / SIM_NS_PER_S, s->now % SIM_NS_PER_S / 1000);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	emit(s, SIM_OUT_CONSOLE, line, 0);
}

#define drv_msg(s, ...)	console(s, "tb_balloon: " __VA_ARGS__)

static uint64_t rng_next(struct sim *s)
{
	/* splitmix64: small, good enough, and the same everywhere. */
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A cost with the configured random spread. */
static uint64_t cost(struct sim *s, uint64_t ns)
{
	uint64_t j = s->c.timing.jitter_permille;

	if (!j || !ns)
		return ns;
	return ns + ns * (rng_next(s) % (2 * j + 1)) / 1000 - ns * j / 1000;
}

static uint64_t balloon_pages(const struct sim *s)
{
	return s->host.balloon_pages;
}

static uint64_t reservation(const struct sim *s)
{
	return s->c.ram_pages - balloon_pages(s);
}

static void bc_update(struct sim *s)
{
	uint64_t thr = s->c.qmp_throttle_ms * SIM_NS_PER_MS;
	int64_t actual = (int64_t)(reservation(s) * TB_PAGE_SIZE);

	if (actual == s->bc_sent && s->bc_flush == NEVER)
		return;
	if (!thr || s->bc_last == NEVER || s->now >= s->bc_last + thr) {
		s->bc_last = s->now;
		s->bc_sent = actual;
		s->bc_flush = NEVER;
		emit(s, SIM_OUT_BALLOON_CHANGE, "BALLOON_CHANGE", actual);
	} else if (s->bc_flush == NEVER) {
		s->bc_flush = s->bc_last + thr;	/* QEMU sends the last one */
	}
}

static void bc_flush(struct sim *s)
{
	int64_t actual = (int64_t)(reservation(s) * TB_PAGE_SIZE);

	s->bc_flush = NEVER;
	s->bc_last = s->now;
	if (actual != s->bc_sent) {
		s->bc_sent = actual;
		emit(s, SIM_OUT_BALLOON_CHANGE, "BALLOON_CHANGE", actual);
	}
}

/* ---- configuration ---------------------------------------------------- */

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || end == v || *end || *v == '-')
		return -1;
	*out = x;
	return 0;
}

static void *knob_field(struct sim_config *c, const struct tb_knob *k);
static void knob_store(struct sim_config *c, const struct tb_knob *k,
		       uint64_t v);

void sim_config_defaults(struct sim_config *c, uint64_t ram_bytes)
{
	memset(c, 0, sizeof(*c));
	c->ram_pages = ram_bytes / TB_PAGE_SIZE;
	/* Debian's 6.1 kernel with our initramfs, measured (CALIBRATION.md):
	 * reserved at boot, outside MemTotal, 45 MiB + 1.8% (+ 64 MiB when
	 * RAM goes above QEMU pc's 3.5 GiB hole); used after boot (the
	 * unpacked initramfs, slab) another 35 MiB. */
	c->reserved_pages = (45u << 20) / TB_PAGE_SIZE + c->ram_pages * 18 / 1000;
	if (ram_bytes > (UINT64_C(3584) << 20))
		c->reserved_pages += (64u << 20) / TB_PAGE_SIZE;
	c->kernel_pages = c->reserved_pages + (35u << 20) / TB_PAGE_SIZE;
	if (c->kernel_pages > c->ram_pages / 2)
		c->kernel_pages = c->reserved_pages = c->ram_pages / 2;
	/* The 16 MiB DMA zone is kept from highmem allocations by
	 * lowmem_reserve: DMA32's pages / 256, at most what the zone has
	 * free (~15 MiB).  A 4 GiB guest stalls with MemFree = min
	 * watermark + 16 MiB. */
	/* khugepaged (THP is "madvise" on Debian, which counts as on; off
	 * below 512 MiB of MemTotal) raises min_free_kbytes to 11
	 * pageblocks per populated zone, at most 5% of memory: DMA and
	 * DMA32, plus Normal above QEMU pc's 3.5 GiB of low memory.  2 GiB
	 * shows 45056 KiB, 512 MiB the plain sqrt(16 x KiB). */
	if ((c->ram_pages - c->reserved_pages) * TB_PAGE_SIZE >=
	    (UINT64_C(512) << 20)) {
		uint64_t zones = ram_bytes > (UINT64_C(3584) << 20) ? 3 : 2;

		c->min_free_kb = 512 * 4 * 11 * zones;
		if (c->min_free_kb > ram_bytes / 1024 / 20)
			c->min_free_kb = ram_bytes / 1024 / 20;
	}
	c->dma_reserve_pages = c->ram_pages / 256;
	if (c->dma_reserve_pages > (15u << 20) / TB_PAGE_SIZE)
		c->dma_reserve_pages = (15u << 20) / TB_PAGE_SIZE;
	c->init_on_alloc = true;
	c->seed = 1;
	c->timing = sim_timing_defaults;
	c->host.ram_pages = c->ram_pages;
	c->qmp_throttle_ms = 1000;
	/* The device's properties and the driver's parameters start at
	 * their defaults, as core/tb_knobs.h gives them. */
	for (unsigned int i = 0; i < tb_knobs_nr; i++) {
		const struct tb_knob *k = &tb_knobs[i];

		if (knob_field(c, k))
			knob_store(c, k, tb_knob_default(k, ram_bytes));
	}
}

/*
 * Where the model keeps each knob it has (core/tb_knobs.h's TB_BE_SIM):
 * sizes as 4 KiB pages in a uint64_t, u32 counts, bools.  NULL: the model
 * has no such knob ("target" is the run's, not a setting).
 */
static void *knob_field(struct sim_config *c, const struct tb_knob *k)
{
	static const struct {
		enum tb_knob_kind kind;
		const char *name;
		size_t off;
	} fields[] = {
#define DEV(name, field) { TB_KNOB_DEVICE, name, offsetof(struct sim_config, field) }
#define DRV(name, field) { TB_KNOB_DRIVER, name, offsetof(struct sim_config, drv.field) }
		DEV("max-reservation", host.max_reservation),
		DEV("max-balloon", host.max_balloon),
		DEV("pool", pool),
		DEV("poll-ms", poll_ms_advice),
		DEV("refuse-every", host.refuse_every),
		DEV("reply-delay-ms", reply_delay_ms),
		DEV("refuse-all", host.refuse_all),
		DEV("discard", discard),
		DEV("page-2m", host.page_2m),
		DEV("enforce-max-balloon", enforce_max_balloon),
		DEV("guest-stats-interval-ms", stats_interval_ms),
		DRV("poll_ms", poll_ms),
		DRV("use_irq", use_irq),
		DRV("batch", pol.batch),
		DRV("rate_min", pol.rate_min),
		DRV("rate_max", pol.rate_max),
		DRV("rate_inc", pol.rate_inc),
		DRV("backoff_min_ms", pol.backoff_min_ms),
		DRV("backoff_max_ms", pol.backoff_max_ms),
		DRV("upgrade_after", pol.upgrade_after),
		DRV("use_2m", pol.use_2m),
		DRV("fallback_4k", fallback_4k),
		DRV("blocking_alloc", blocking_alloc),
		DRV("min_margin", min_margin),
		DRV("floor_pages", floor_pages),
		DRV("band_pages", band_pages),
		DRV("deflate_on_pressure", deflate_on_pressure),
		DRV("pressure_holdoff_ms", pressure_holdoff_ms),
		DRV("stats_report", stats_report),
		/* Real parameters with nothing to model here. */
		DRV("cmd_timeout_ms", ignored),
		DRV("irq_storm_limit", ignored),
#undef DEV
#undef DRV
	};

	if (!tb_knob_known_by(k, "sim"))
		return NULL;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i].kind == k->kind && !strcmp(fields[i].name, k->name))
			return (char *)c + fields[i].off;
	return NULL;
}

/* @v: bytes for a size (UINT64_MAX: unlimited), else the value. */
static void knob_store(struct sim_config *c, const struct tb_knob *k,
		       uint64_t v)
{
	void *p = knob_field(c, k);

	switch (k->type) {
	case TB_KNOB_SIZE:
		*(uint64_t *)p = v == UINT64_MAX ? TB_POOL_UNLIMITED :
				 v / TB_PAGE_SIZE;
		break;
	case TB_KNOB_U32:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case TB_KNOB_BOOL:
		*(bool *)p = v != 0;
		break;
	case TB_KNOB_STATS:
	case TB_KNOB_LOG:
	case TB_KNOB_GSTATS:
		break;
	}
}

/* A knob set by name from text: sizes in plan/units.h's spelling (the
 * harness passes bytes) or "unlimited", counts, booleans. */
static int set_knob(struct sim_config *c, enum tb_knob_kind kind,
		    const char *name, const char *value, char *err,
		    size_t errlen)
{
	const char *what = kind == TB_KNOB_DEVICE ? "device property" :
			   "driver parameter";
	const struct tb_knob *k = tb_knob_find(kind, name);
	uint64_t v = 0;
	long long n;
	bool b;
	int bad = 0;

	if (!k || !knob_field(c, k)) {
		snprintf(err, errlen, "%s '%s' is not known to the simulator",
			 what, name);
		return -1;
	}
	switch (k->type) {
	case TB_KNOB_SIZE:
		if (!strcmp(value, "unlimited") || !strcmp(value, "-1") ||
		    !strcmp(value, "18446744073709551615"))
			v = UINT64_MAX;
		else
			bad = parse_size(value, c->ram_pages * TB_PAGE_SIZE,
					 1.0, true, &v);
		break;
	case TB_KNOB_U32:
		bad = parse_int(value, 0, UINT32_MAX, &n);
		v = (uint64_t)n;
		break;
	case TB_KNOB_BOOL:
		bad = parse_bool(value, &b);
		v = b;
		break;
	case TB_KNOB_STATS:
	case TB_KNOB_LOG:
	case TB_KNOB_GSTATS:
		bad = -1;
		break;
	}
	if (bad) {
		snprintf(err, errlen, "%s %s: '%s' is not %s", what, name, value,
			 k->type == TB_KNOB_SIZE ? "a size" :
			 k->type == TB_KNOB_BOOL ? "on/off" : "a count");
		return -1;
	}
	knob_store(c, k, v);
	return 0;
}

int sim_config_set_prop(struct sim_config *c, const char *prop,
			const char *value, char *err, size_t errlen)
{
	return set_knob(c, TB_KNOB_DEVICE, prop, value, err, errlen);
}

int sim_config_set_param(struct sim_config *c, const char *param,
			 const char *value, char *err, size_t errlen)
{
	return set_knob(c, TB_KNOB_DRIVER, param, value, err, errlen);
}

/* ---- OOM ---------------------------------------------------------------- */

static void free_owner(struct sim *s, uint16_t owner, bool files_too,
		       uint64_t *freed)
{
	struct sim_mem *m = &s->mem;
	uint64_t pfn, n = 0;

	for (pfn = 0; pfn < m->pages; pfn++) {
		enum sim_pstate st;

		if (m->owner[pfn] != owner)
			continue;
		st = sim_mem_state(m, pfn);
		if (st == SIM_ANON || st == SIM_PINNED ||
		    (files_too && (st == SIM_CACHE || st == SIM_SHMEM ||
				   st == SIM_KERNEL))) {
			sim_mem_free(m, pfn, 0);
			n++;
		}
	}
	if (freed)
		*freed = n;
}

static uint64_t proc_rss(const struct sim *s, uint16_t id)
{
	const struct sim_mem *m = &s->mem;
	uint64_t pfn, n = 0;

	for (pfn = 0; pfn < m->pages; pfn++)
		if (m->owner[pfn] == id &&
		    (sim_mem_state(m, pfn) == SIM_ANON ||
		     sim_mem_state(m, pfn) == SIM_PINNED))
			n++;
	return n;
}

static void die(struct sim *s, const char *why)
{
	console(s, "Kernel panic - not syncing: %s", why);
	s->dead = true;
	emit(s, SIM_OUT_DIED, why, 0);
}

/*
 * mm/oom_kill.c: the process with the most resident anonymous memory dies
 * (mlock()ed memory counts: it is resident).  Returns the victim's owner
 * id, or 0 when there is none and the kernel panics.
 */
static uint16_t oom_kill(struct sim *s, const char *who, unsigned int order)
{
	uint16_t id, victim = 0;
	uint64_t best = 0, rss, freed;
	char ev[96];

	console(s, "%s invoked oom-killer: gfp_mask=0x%x, order=%u, "
		"oom_score_adj=0", who, 0x140dca, order);
	for (id = 1; id < MAX_PROCS; id++) {
		if (!s->procs[id].alive || !s->procs[id].killable)
			continue;
		rss = proc_rss(s, id);
		if (rss > best) {
			best = rss;
			victim = id;
		}
	}
	if (!victim) {
		die(s, "System is deadlocked on memory");
		return 0;
	}
	console(s, "Out of memory: Killed process %u (tb-agent) "
		"total-vm:%" PRIu64 "kB, anon-rss:%" PRIu64 "kB, file-rss:0kB, "
		"shmem-rss:0kB, UID:0 pgtables:%" PRIu64 "kB oom_score_adj:0",
		PID_BASE + victim, best * 4 + 2048, best * 4, best / 512 * 4 + 4);
	free_owner(s, victim, false, &freed);
	s->procs[victim].alive = false;
	s->oom_kills++;
	snprintf(ev, sizeof(ev), "exit id=%u kind=%s status=0 signal=9", victim,
		 s->procs[victim].kind);
	emit(s, SIM_OUT_AGENT_EVENT, ev, victim);
	return victim;
}

/* ---- the driver (guest-driver/tb_balloon.c) ----------------------------- */

static int list_push(struct balloon_list *l, uint64_t pfn)
{
	if (l->n == l->cap) {
		uint64_t cap = l->cap ? l->cap * 2 : 1024;
		uint64_t *p = realloc(l->pfn, cap * sizeof(*p));

		if (!p)
			return -1;
		l->pfn = p;
		l->cap = cap;
	}
	l->pfn[l->n++] = pfn;
	return 0;
}

static struct balloon_list *list_of(struct driver *d, unsigned int order)
{
	return order == TB_ORDER_2M ? &d->l2m : &d->l4k;
}

static uint64_t drv_balloon(const struct driver *d)
{
	return d->l4k.n + d->l2m.n * TB_PAGES_PER_2M;
}

static uint64_t kib(uint64_t pages)
{
	return pages << (TB_PAGE_SHIFT - 10);
}

/* tb_kick(): mod_delayed_work(0).  A running pass is not cut short: the
 * work runs again as soon as it ends. */
static void drv_kick(struct sim *s)
{
	if (!s->probed)
		return;
	if (s->d.in_pass)
		s->d.kick = true;
	else if (s->now + s->c.timing.irq_ns < s->d.wake)
		s->d.wake = s->now + cost(s, s->c.timing.irq_ns);
}

/* What the device's registers say. */
static struct tb_guest_regs drv_regs(const struct sim *s)
{
	return (struct tb_guest_regs){
		.gen = s->generation,
		.target = s->target,
		.max_reservation = s->hcfg.max_reservation,
		.max_balloon = s->hcfg.max_balloon,
	};
}

/* tb_refresh(): re-read the host's registers; a new host target wins.
 * The driver's "absurd host target" line has no counterpart here. */
static void drv_refresh(struct sim *s)
{
	struct tb_guest_regs r = drv_regs(s);

	tb_guest_refresh(&s->d.g, &r);
}

/*
 * gfp for a balloon page.  Default: __GFP_NORETRY (one round of direct
 * reclaim, never the OOM killer) for 4 KiB, no direct reclaim at all for
 * 2 MiB.  blocking_alloc: GFP_HIGHUSER, which reclaims and, for a
 * non-costly order, calls the OOM killer (drv_alloc).
 */
static unsigned int balloon_gfp(const struct sim *s, unsigned int order)
{
	unsigned int gfp = SIM_GFP_KSWAPD;

	if (s->c.drv.blocking_alloc || !order)
		gfp |= SIM_GFP_RECLAIM;
	/* init_on_alloc zeroes; without discard __GFP_ZERO does. */
	if (s->c.init_on_alloc || !s->c.discard)
		gfp |= SIM_GFP_TOUCH;
	return gfp;
}

static uint64_t drv_alloc(struct sim *s, unsigned int order)
{
	unsigned int gfp = balloon_gfp(s, order);
	uint64_t pfn;

	/* tb_alloc_page(): without direct reclaim first; a page that only
	 * reclaim finds had to sleep, and slows the rate (tb_policy_slept). */
	if (gfp & SIM_GFP_RECLAIM) {
		pfn = sim_mem_alloc(&s->mem, order, SIM_BALLOON, OWNER_BALLOON,
				    gfp & ~SIM_GFP_RECLAIM);
		if (pfn != SIM_NO_PFN)
			return pfn;
	}
	for (;;) {
		pfn = sim_mem_alloc(&s->mem, order, SIM_BALLOON, OWNER_BALLOON,
				    gfp);
		if (pfn != SIM_NO_PFN && (gfp & SIM_GFP_RECLAIM))
			tb_policy_slept(&s->d.g.pol);
		/* PAGE_ALLOC_COSTLY_ORDER is 3: above it, never OOM. */
		if (pfn != SIM_NO_PFN || !s->c.drv.blocking_alloc ||
		    order > 3 || s->dead)
			return pfn;
		/* Our own shrinker cannot help: the pass holds the lock. */
		if (!oom_kill(s, "kworker/u4:1", order))
			return SIM_NO_PFN;
	}
}

/* tb_inflate(), first half of one command: allocate (and, with
 * init_on_alloc, zero) up to `batch` pages.  Returns the time taken. */
static uint64_t drv_inflate_alloc(struct sim *s)
{
	struct driver *d = &s->d;
	const struct sim_timing *t = &s->c.timing;
	uint64_t queued = 0, ns = 0;

	d->nbatch = 0;
	while (d->nbatch < d->g.pol.p.batch && d->placed + queued < d->want) {
		uint64_t rem = d->want - d->placed - queued, pfn;
		unsigned int order = tb_guest_inflate_order(&d->pass, rem,
							    s->hcfg.page_2m);

		pfn = drv_alloc(s, order);
		if (s->dead)
			return 0;
		if (pfn == SIM_NO_PFN) {
			d->alloc_failed = true;
			break;
		}
		d->batch[d->nbatch] = pfn;
		d->batch_order[d->nbatch++] = (uint8_t)order;
		queued += tb_entry_pages(order);
		ns += order ? t->alloc_2m_ns : t->alloc_4k_ns;
		if (s->c.init_on_alloc || !s->c.discard)
			ns += tb_entry_pages(order) * t->zero_4k_ns;
	}
	return cost(s, ns);
}

/* The simulated guest's RAM is one block from guest-physical 0. */
static bool sim_gpa_to_ram(void *opaque, uint64_t gpa, uint64_t len,
			   uint64_t *ram_offset)
{
	const struct sim *s = opaque;
	uint64_t ram_bytes = s->c.ram_pages * TB_PAGE_SIZE;

	if (gpa >= ram_bytes || len > ram_bytes - gpa)
		return false;
	*ram_offset = gpa;
	return true;
}

/*
 * The device's side of one INFLATE or DEFLATE: the same decoder the QEMU
 * device runs (core/tb_batch.c) decides the @n entries; their statuses
 * land in @status.
 */
static void sim_host_batch(struct sim *s, enum tb_cmd cmd,
			   const uint64_t *pfn, const uint8_t *order,
			   uint32_t n, enum tb_status *status)
{
	static struct tb_entry e[TB_BATCH_MAX];
	const struct tb_batch_ops ops = {
		.gpa_to_ram = sim_gpa_to_ram,
		.opaque = s,
	};
	struct tb_batch_result res;
	uint32_t i;

	for (i = 0; i < n; i++)
		e[i] = (struct tb_entry){ .pfn = tb_le64(pfn[i]),
					  .order = order[i] };
	if (tb_batch_run(&s->hcfg, &s->host, cmd, e, n, &ops, &res) != TB_CMD_OK) {
		for (i = 0; i < n; i++)	/* never: the model sends 1..max */
			status[i] = TB_ST_ERR_RANGE;
		return;
	}
	tb_batchlog_cmd(s->blog, s->now, cmd, TB_CMD_OK, e, n,
			s->host.balloon_pages, s->target);
	for (i = 0; i < n; i++)
		status[i] = e[i].status;
}

/* Second half: the INFLATE command; the device's verdicts per entry come
 * from core/tb_batch.c.  Refused pages are kept aside until the pass ends,
 * so the allocator does not hand them straight back. */
static uint64_t drv_inflate_send(struct sim *s)
{
	struct driver *d = &s->d;
	const struct sim_timing *t = &s->c.timing;
	uint64_t ns = t->cmd_ns + (uint64_t)d->nbatch * t->entry_ns +
		      (uint64_t)s->c.reply_delay_ms * SIM_NS_PER_MS;
	static enum tb_status status[TB_BATCH_MAX];
	uint32_t i;

	sim_host_batch(s, TB_CMD_INFLATE, d->batch, d->batch_order, d->nbatch,
		       status);
	for (i = 0; i < d->nbatch; i++) {
		uint64_t pfn = d->batch[i];
		unsigned int order = d->batch_order[i];
		uint64_t n = tb_entry_pages(order);
		enum tb_status st = status[i];

		if (tb_guest_inflate_kept(st)) {
			list_push(list_of(d, order), pfn);
			d->placed += n;
			if (s->c.discard) {
				sim_mem_untouch(&s->mem, pfn, n);
				ns += order ? t->discard_2m_ns : t->discard_4k_ns;
			}
			continue;
		}
		if (st == TB_ST_ERR_MAX_BALLOON)
			d->capped = true;
		d->refusals++;
		d->refused[d->nrefused] = pfn;
		d->refused_order[d->nrefused++] = (uint8_t)order;
	}
	d->nbatch = 0;
	bc_update(s);
	return cost(s, ns);
}

static void drv_inflate_end(struct sim *s)
{
	struct driver *d = &s->d;
	struct tb_guest_end end;

	while (d->nrefused) {
		d->nrefused--;
		sim_mem_free(&s->mem, d->refused[d->nrefused],
			     d->refused_order[d->nrefused]);
	}
	end = tb_guest_inflated(&d->g, &d->pass, d->placed, d->alloc_failed,
				d->capped);
	if (end.unreached_msg)
		drv_msg(s, TB_MSG_UNREACHED, (size_t)kib(d->g.target),
			(size_t)kib(reservation(s)));
}

/*
 * tb_deflate_pages(), one command: ask up to @want pages back, @order
 * sized ones first.  Adds granted pages to *granted; returns true when the
 * host granted less than asked (the caller stops).  *ns gets the time.
 */
static bool drv_deflate_cmd(struct sim *s, uint64_t want, unsigned int order,
			    uint64_t *granted, uint64_t *ns)
{
	struct driver *d = &s->d;
	const struct sim_timing *t = &s->c.timing;
	static enum tb_status status[TB_BATCH_MAX];
	uint64_t queued = 0, c = 0;
	uint32_t k = 0, i;
	bool short_grant = false, pool_short = false;

	while (k < d->g.pol.p.batch && *granted + queued < want) {
		uint64_t rem = want - *granted - queued;
		bool have4k = d->l4k.n, have2m = d->l2m.n;
		unsigned int o;

		if (!have4k && !have2m)
			break;
		o = tb_guest_deflate_order(order, rem, have4k, have2m);
		d->batch[k] = list_of(d, o)->pfn[--list_of(d, o)->n];
		d->batch_order[k++] = (uint8_t)o;
		queued += tb_entry_pages(o);
	}
	if (!k)
		return false;
	c = t->cmd_ns + (uint64_t)k * t->entry_ns +
	    (uint64_t)s->c.reply_delay_ms * SIM_NS_PER_MS;
	sim_host_batch(s, TB_CMD_DEFLATE, d->batch, d->batch_order, k, status);
	for (i = 0; i < k; i++) {
		unsigned int o = d->batch_order[i];
		enum tb_status st = status[i];

		if (tb_guest_deflate_freed(st)) {
			sim_mem_free(&s->mem, d->batch[i], o);
			*granted += tb_entry_pages(o);
			c += o ? t->free_2m_ns : t->free_4k_ns;
		} else {
			list_push(list_of(d, o), d->batch[i]);
			short_grant = true;
			if (st == TB_ST_ERR_POOL)
				pool_short = true;
		}
	}
	/* The device counts a partial grant per command short of pool. */
	s->dev_partial_grants += pool_short;
	bc_update(s);
	*ns += cost(s, c);
	return short_grant;
}

static void drv_deflate_end(struct sim *s, bool short_grant)
{
	struct driver *d = &s->d;
	struct tb_guest_end end = tb_guest_deflated(&d->g, &d->pass, d->granted,
						    short_grant);

	if (end.partial) {
		d->partial_grants++;
		drv_msg(s, TB_MSG_PARTIAL, (size_t)d->pass.pages,
			(int)d->granted);
	}
}

/* The end of tb_pass(): back off, or requeue at once (the interrupt) or at
 * the next poll (polling): tb_guest_next_ms(). */
static void drv_pass_done(struct sim *s, uint64_t ns)
{
	struct driver *d = &s->d;
	uint32_t poll = s->c.drv.poll_ms ? s->c.drv.poll_ms : s->c.poll_ms_advice;
	uint32_t next = tb_guest_next_ms(&d->g, !s->c.drv.use_irq,
					 tb_guest_poll_ms(poll));

	d->in_pass = false;
	d->wake = s->now + ns;
	if (next && !d->kick)
		d->wake += (uint64_t)next * SIM_NS_PER_MS;
	d->kick = false;
}

static uint64_t drv_pressure(struct sim *s, uint64_t *ns);

/* tb_pass() up to the plan; false when there is nothing to move. */
static bool drv_begin_pass(struct sim *s)
{
	struct driver *d = &s->d;
	uint32_t poll = s->c.drv.poll_ms ? s->c.drv.poll_ms : s->c.poll_ms_advice;
	struct tb_guest_step st;
	bool at_floor;

	drv_refresh(s);
	/* tb_pass(): below the floor, give back as the shrinker would. */
	if (!s->c.drv.blocking_alloc) {
		uint64_t ns = 0;

		drv_pressure(s, &ns);
	}
	st = tb_guest_begin(&d->g, reservation(s), s->now, d->l4k.n);
	if (st.clip_msg)
		drv_msg(s, TB_MSG_CLIP, (size_t)d->g.asked, (size_t)d->g.target);
	if (st.maxres_msg)
		drv_msg(s, TB_MSG_MAXRES, (size_t)d->g.asked,
			(size_t)d->g.target);
	if (st.held_off) {
		/* Still a pass each poll: below the floor it gives back. */
		d->wake = s->now + (uint64_t)tb_guest_poll_ms(poll) * SIM_NS_PER_MS;
		if (d->g.pressure_until < d->wake)
			d->wake = d->g.pressure_until;
		return false;
	}
	if (st.reached_msg)
		drv_msg(s, TB_MSG_REACHED, (unsigned long long)kib(d->g.target),
			(unsigned long long)kib(drv_balloon(d)));
	d->pass = st.pass;
	if (d->pass.dir == TB_DIR_NONE) {
		d->wake = s->now + (uint64_t)tb_guest_poll_ms(poll) * SIM_NS_PER_MS;
		return false;
	}
	d->in_pass = true;
	d->kick = false;
	d->placed = d->granted = 0;
	d->alloc_failed = d->capped = d->sending = false;
	d->want = d->pass.pages;
	if (d->pass.dir == TB_DIR_INFLATE)
		d->want = tb_guest_inflate_want(&d->g, &d->pass, drv_balloon(d),
						sim_mem_available(&s->mem),
						&d->capped, &at_floor);
	return true;
}

/* One driver event: a pass starts, or its next command runs. */
static void drv_event(struct sim *s)
{
	struct driver *d = &s->d;
	uint64_t ns = 0;
	bool short_grant;

	d->wake = NEVER;
	if (!d->in_pass) {
		if (!drv_begin_pass(s))
			return;
		ns = cost(s, s->c.timing.pass_ns);
	}

	if (d->pass.dir == TB_DIR_DEFLATE) {
		short_grant = drv_deflate_cmd(s, d->pass.pages, d->pass.order,
					      &d->granted, &ns);
		if (short_grant || d->granted >= d->pass.pages ||
		    !drv_balloon(d)) {
			drv_deflate_end(s, short_grant);
			drv_pass_done(s, ns);
		} else {
			d->wake = s->now + ns;
		}
		return;
	}

	if (d->sending) {
		d->sending = false;
		ns += drv_inflate_send(s);
		if (!(tb_guest_inflate_stop(d->capped, d->nrefused,
					    d->g.pol.p.batch) ||
		      d->alloc_failed || d->placed >= d->want)) {
			d->wake = s->now + ns;
			return;
		}
	} else if (d->placed < d->want && !d->alloc_failed) {
		ns += drv_inflate_alloc(s);
		if (s->dead)
			return;
		if (d->nbatch) {
			d->sending = true;
			d->wake = s->now + ns;
			return;
		}
	}
	drv_inflate_end(s);
	drv_pass_done(s, ns);
}

/*
 * The shrinker (tb_shrink_scan): a task is stuck in direct reclaim.  Below
 * the floor of available memory, give back what brings it to floor + band
 * (tb_guest_pressure_want), 4 KiB pages first, and hold inflation off.  It
 * only trylocks: while a pass runs, it gives nothing.  Returns pages given
 * back; *ns gets the time it took.
 */
static uint64_t drv_pressure(struct sim *s, uint64_t *ns)
{
	struct driver *d = &s->d;
	uint64_t got = 0, want, before;

	if (!s->c.drv.deflate_on_pressure || !s->probed || d->in_pass)
		return 0;
	want = tb_guest_pressure_want(&d->g, sim_mem_available(&s->mem),
				      drv_balloon(d));
	/* One command moves at most a batch: go on until the want is met
	 * or the host grants short, as tb_deflate_pages() does. */
	while (got < want) {
		before = got;
		if (drv_deflate_cmd(s, want, TB_ORDER_4K, &got, ns) ||
		    got == before)
			break;
	}
	d->pressure_pages += got;
	tb_guest_pressure(&d->g, got, s->c.drv.pressure_holdoff_ms, s->now + *ns +
			  (uint64_t)s->c.drv.pressure_holdoff_ms * SIM_NS_PER_MS);
	return got;
}

/* ---- the agent's workloads --------------------------------------------- */

/* A user-space page fault: reclaim, then the balloon's shrinker, then the
 * OOM killer.  Returns SIM_NO_PFN when @owner itself was killed. */
static uint64_t user_alloc(struct sim *s, enum sim_pstate state,
			   uint16_t owner, uint64_t *ns)
{
	uint64_t pfn;

	for (;;) {
		pfn = sim_mem_alloc(&s->mem, 0, state, owner,
				    SIM_GFP_RECLAIM | SIM_GFP_TOUCH);
		if (pfn != SIM_NO_PFN)
			return pfn;
		if (drv_pressure(s, ns))
			continue;
		if (!oom_kill(s, "tb-agent", 0) || !s->procs[owner].alive)
			return SIM_NO_PFN;
	}
}

static uint16_t proc_new(struct sim *s, const char *kind, uint64_t pages,
			 bool killable)
{
	uint16_t id;

	for (id = 1; id < MAX_PROCS; id++)
		if (!s->procs[id].used)
			break;
	if (id == MAX_PROCS)
		return 0;
	s->procs[id] = (struct proc){ .used = true, .alive = true,
				      .killable = killable, .pages = pages,
				      .busy_next = NEVER };
	snprintf(s->procs[id].kind, sizeof(s->procs[id].kind), "%s", kind);
	return id;
}

static void busy_schedule(struct sim *s)
{
	uint16_t id;

	s->busy_t = NEVER;
	for (id = 1; id < MAX_PROCS; id++)
		if (s->procs[id].used && s->procs[id].busy_next < s->busy_t)
			s->busy_t = s->procs[id].busy_next;
}

/*
 * The agent's busy workloads (churn_memory): each second, touch the size
 * in anonymous pages -- through the fault path, so reclaim, the balloon's
 * shrinker and the OOM killer come into play -- and free it again.  One
 * that has run its time ends without an event.
 */
static void busy_event(struct sim *s)
{
	uint64_t i, ns = 0;
	uint16_t id;

	for (id = 1; id < MAX_PROCS; id++) {
		struct proc *p = &s->procs[id];

		if (!p->used || p->busy_next > s->now)
			continue;
		if (!p->alive || p->busy_next >= p->busy_end) {
			p->used = p->alive = false;
			p->busy_next = NEVER;
			continue;
		}
		for (i = 0; i < p->pages && p->alive; i++)
			if (user_alloc(s, SIM_ANON, id, &ns) == SIM_NO_PFN ||
			    s->dead)
				break;
		if (s->dead)
			return;
		free_owner(s, id, false, NULL);
		p->busy_next += SIM_NS_PER_S;
		if (!p->alive)
			p->busy_next = NEVER;
	}
	busy_schedule(s);
}

/* The reply leaves after @ns of work plus the serial line's latency. */
static void req_reply_after(struct sim *s, uint64_t ns, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void req_reply_after(struct sim *s, uint64_t ns, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->req.reply, sizeof(s->req.reply), fmt, ap);
	va_end(ap);
	s->req.kind = REQ_REPLY;
	s->req.next = s->now + ns + s->c.timing.agent_ns / 2;
}
#define req_reply(s, ...)	req_reply_after(s, 0, __VA_ARGS__)

static void req_event(struct sim *s)
{
	struct request *r = &s->req;
	const struct sim_timing *t = &s->c.timing;
	uint64_t ns = 0, n, i, pfn;

	switch (r->kind) {
	case REQ_REPLY:
		r->kind = REQ_NONE;
		free(r->pfns);
		r->pfns = NULL;
		emit(s, SIM_OUT_AGENT_REPLY, r->reply, 0);
		return;
	case REQ_FILL:
		n = r->left < CHUNK_PAGES ? r->left : CHUNK_PAGES;
		for (i = 0; i < n; i++) {
			pfn = user_alloc(s, r->state, r->owner, &ns);
			if (s->dead)
				return;
			if (pfn == SIM_NO_PFN) {
				/* Killed while touching: the agent still says
				 * ok; the exit event has told the rest. */
				req_reply(s, "ok id=%u", r->owner);
				return;
			}
			if (r->pfns)
				r->pfns[r->npfns++] = pfn;
			/* A tmpfs inode and dentry per small file: about
			 * 1 KiB of slab, a kernel page per four files, in
			 * among the file pages. */
			if (r->files && r->npfns % 4 == 0 &&
			    sim_mem_alloc(&s->mem, 0, SIM_KERNEL, r->owner,
					  SIM_GFP_RECLAIM) == SIM_NO_PFN) {
				pfn = user_alloc(s, SIM_KERNEL, r->owner, &ns);
				if (s->dead)
					return;
			}
		}
		ns += n * (r->state == SIM_ANON || r->state == SIM_PINNED ?
			   t->touch_4k_ns : t->cache_4k_ns);
		if (r->files)
			ns += n * t->file_ns;
		r->left -= n;
		r->done += n;
		if (!r->left && r->pfns) {
			r->kind = REQ_PUNCH;	/* fragment: now delete half */
			r->done = 0;
		} else if (!r->left) {
			req_reply_after(s, cost(s, ns), "ok id=%u", r->owner);
			return;
		}
		break;
	case REQ_PUNCH:
		/* Delete every other file: the survivors pin each 2 MiB. */
		for (n = 0; n < CHUNK_PAGES && r->done < r->npfns; n++) {
			if (r->done % 2)
				sim_mem_free(&s->mem, r->pfns[r->done], 0);
			r->done++;
		}
		ns += n / 2 * (r->files ? t->file_ns : t->unlink_4k_ns);
		if (r->done >= r->npfns) {
			req_reply_after(s, cost(s, ns), "ok id=%u", r->owner);
			return;
		}
		break;
	default:
		return;
	}
	r->next = s->now + cost(s, ns);
}

static int size_arg(struct sim *s, const char *arg, uint64_t *pages)
{
	uint64_t bytes;

	if (!arg || parse_size(arg, s->c.ram_pages * TB_PAGE_SIZE, 1.0, true,
			       &bytes))
		return -1;
	*pages = bytes / TB_PAGE_SIZE;
	return 0;
}

/* The driver's sysfs files (tb_show/tb_store), in KiB. */
static void agent_sysfs(struct sim *s, const char *name, const char *value)
{
	enum tb_guest_attr a = tb_guest_attr_lookup(name);
	uint64_t v;

	if (a == TB_ATTR_NR) {
		req_reply(s, "err ENOENT no sysfs file '%s'", name);
		return;
	}
	if (!value) {
		req_reply(s, "ok %" PRIu64,
			  kib(tb_guest_show(&s->d.g, a, reservation(s))));
		return;
	}
	if (!tb_guest_attr_writable(a)) {
		req_reply(s, "err EACCES %s is read-only", name);
		return;
	}
	if (parse_u64(value, &v)) {
		req_reply(s, "err EINVAL '%s'", value);
		return;
	}
	if (tb_guest_store(&s->d.g, a, v) != TB_STORE_OK) {
		req_reply(s, "err EPERM");
		return;
	}
	drv_kick(s);
	req_reply(s, "ok");
}

/* The agent's "stats": /proc/meminfo, vmstat's oom_kill, the driver's
 * sysfs files and its debugfs counters, under the same names. */
static void agent_stats(struct sim *s)
{
	struct driver *d = &s->d;

	req_reply(s, "ok memtotal_kb=%" PRIu64 " memfree_kb=%" PRIu64
		  " memavail_kb=%" PRIu64 " oom_kill=%" PRIu64
		  " current_kb=%" PRIu64 " target_kb=%" PRIu64 " min_kb=%" PRIu64
		  " max_kb=%" PRIu64 " target_pages=%" PRIu64 " current_pages=%"
		  PRIu64 " min_pages=%" PRIu64 " max_pages=%" PRIu64
		  " safeguard_pages=%" PRIu64 " floor_pages=%" PRIu64
		  " band_pages=%" PRIu64 " inflate_floor_pages=%" PRIu64
		  " boot_pages=%" PRIu64
		  " max_balloon_pages=%" PRIu64 " balloon_pages=%" PRIu64
		  " balloon_2m_entries=%" PRIu64 " balloon_4k_entries=%" PRIu64
		  " device_balloon_pages=%" PRIu64 " rate_pages=%u backoff_ms=%u"
		  " order=%u fallbacks_4k=%" PRIu64 " partial_grants=%" PRIu64
		  " shrinker_deflates=%" PRIu64,
		  kib(s->c.ram_pages - s->c.reserved_pages),
		  kib(sim_mem_free_pages(&s->mem)),
		  kib(sim_mem_available(&s->mem)), s->oom_kills,
		  kib(reservation(s)), kib(d->g.target), kib(d->g.min),
		  kib(d->g.max_res), d->g.target, reservation(s), d->g.min,
		  d->g.max_res, d->g.safeguard, d->g.floor, d->g.band,
		  tb_guest_inflate_floor(&d->g), s->c.ram_pages, d->g.max_balloon,
		  drv_balloon(d), d->l2m.n, d->l4k.n, s->host.balloon_pages,
		  d->g.pol.rate, d->g.pol.backoff_ms, d->g.pol.order,
		  d->g.pol.fallbacks, d->partial_grants, d->pressure_pages);
	/* /proc/buddyinfo's free blocks by order, as the agent sums them:
	 * the model keeps blocks up to 2 MiB (SIM_MAX_ORDER), so free memory
	 * Linux lists as order-10 blocks is here twice as many order-9. */
	for (unsigned int o = 0; o <= SIM_MAX_ORDER; o++) {
		size_t l = strlen(s->req.reply);

		snprintf(s->req.reply + l, sizeof(s->req.reply) - l,
			 " buddy_o%u=%" PRIu64, o, s->mem.free_blocks[o]);
	}
}

int sim_agent(struct sim *s, const char *line)
{
	struct request *r = &s->req;
	char buf[256], *verb, *arg, *arg2, *save = NULL;
	uint64_t pages = 0, freed = 0;
	uint16_t id;

	if (r->kind != REQ_NONE || s->dead)
		return -1;
	snprintf(buf, sizeof(buf), "%s", line);
	verb = strtok_r(buf, " \t", &save);
	arg = strtok_r(NULL, " \t", &save);
	arg2 = strtok_r(NULL, " \t", &save);
	memset(r, 0, sizeof(*r));
	r->next = s->now + s->c.timing.agent_ns / 2;

	if (!verb) {
		req_reply(s, "err unknown-request");
	} else if (!strcmp(verb, "pin") || !strcmp(verb, "alloc") ||
		   !strcmp(verb, "pagecache") || !strcmp(verb, "fragment")) {
		/* pin and alloc are processes the OOM killer may pick;
		 * files belong to the file system. */
		bool proc = !strcmp(verb, "pin") || !strcmp(verb, "alloc");

		if (size_arg(s, arg, &pages) || !pages ||
		    (arg2 && (strcmp(verb, "fragment") ||
			      (strcmp(arg2, "files") && strcmp(arg2, "holes"))))) {
			req_reply(s, "err bad-size");
			return 0;
		}
		id = proc_new(s, verb, pages, proc);
		if (!id) {
			req_reply(s, "err too-many-workloads");
			return 0;
		}
		r->kind = REQ_FILL;
		r->owner = id;
		r->left = pages;
		r->state = !strcmp(verb, "pin") ? SIM_PINNED :
			   !strcmp(verb, "alloc") ? SIM_ANON :
			   SIM_SHMEM;	/* the agent's files are in tmpfs */
		if (!strcmp(verb, "fragment")) {
			r->files = !arg2 || !strcmp(arg2, "files");
			r->pfns = malloc(pages * sizeof(*r->pfns));
			if (!r->pfns) {
				req_reply(s, "err out of host memory");
				return 0;
			}
		}
	} else if (!strcmp(verb, "busy")) {
		uint64_t secs = 0;

		if (size_arg(s, arg, &pages) || !pages || !arg2 ||
		    parse_u64(arg2, &secs) || !secs || secs > 86400) {
			req_reply(s, "err usage: busy <size> <seconds>");
			return 0;
		}
		id = proc_new(s, verb, pages, true);
		if (!id) {
			req_reply(s, "err too-many-workloads");
			return 0;
		}
		/* The child's first second starts as the reply leaves. */
		s->procs[id].busy_next = r->next;
		s->procs[id].busy_end = r->next + secs * SIM_NS_PER_S;
		busy_schedule(s);
		req_reply(s, "ok id=%u", id);
	} else if (!strcmp(verb, "free")) {
		uint64_t total = 0, want = 0;
		bool all = arg && !strcmp(arg, "all"), found = false;

		if (!arg || (!all && (parse_u64(arg, &want) || !want))) {
			req_reply(s, !arg ? "err usage: free <id>|all" :
				  "err bad-id");
			return 0;
		}
		for (id = 1; id < MAX_PROCS; id++) {
			if (!s->procs[id].used || (!all && want != id))
				continue;
			free_owner(s, id, true, &freed);
			total += freed;
			found = true;
			s->procs[id].alive = false;
			s->procs[id].used = false;
			s->procs[id].busy_next = NEVER;
		}
		busy_schedule(s);
		if (!all && !found)
			req_reply(s, "err no-such-id");
		else
			req_reply_after(s, cost(s, total *
					s->c.timing.unlink_4k_ns), "ok");
	} else if (!strcmp(verb, "stats")) {
		agent_stats(s);
	} else if (!strcmp(verb, "ping")) {
		req_reply(s, "ok pong");
	} else if (!strcmp(verb, "exec")) {
		/* No shell here; the harness's info probe gets an answer. */
		if (strstr(line, "TB-INFO"))
			emit(s, SIM_OUT_CONSOLE, "TB-INFO kernel=sim", 0);
		req_reply(s, "ok 0");
	} else if (!strcmp(verb, "sysfs-read") || !strcmp(verb, "sysfs-write")) {
		if (!arg || (verb[6] == 'w') != (arg2 != NULL))
			req_reply(s, "err %s: expected NAME%s", verb,
				  verb[6] == 'w' ? " KIB" : "");
		else
			agent_sysfs(s, arg, arg2);
	} else {
		req_reply(s, "err unknown-request");
	}
	return 0;
}

/* ---- the machine -------------------------------------------------------- */

struct sim *sim_create(const struct sim_config *c, sim_out_fn out, void *arg,
		       char *err, size_t errlen)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "sim: out of memory");
		return NULL;
	}
	s->c = *c;
	s->out = out;
	s->arg = arg;
	s->rng = c->seed;
	if (sim_mem_init(&s->mem, c->ram_pages, c->kernel_pages)) {
		snprintf(err, errlen, "sim: cannot model %" PRIu64 " pages "
			 "(kernel %" PRIu64 ")", c->ram_pages, c->kernel_pages);
		free(s);
		return NULL;
	}
	if (c->min_free_kb > s->mem.wmark_min * 4)
		sim_mem_set_min_free(&s->mem, c->min_free_kb);
	s->mem.reserve = c->dma_reserve_pages;
	s->hcfg = c->host;
	s->hcfg.ram_pages = c->ram_pages;
	s->hcfg.max_balloon_advisory = !c->enforce_max_balloon;
	s->host.map_pfns = c->ram_pages;
	s->host.map = calloc(tb_map_words(c->ram_pages), sizeof(uint64_t));
	s->host.pool = c->pool;
	s->blog = malloc(sizeof(*s->blog));
	if (s->blog)
		tb_batchlog_init(s->blog, 1);	/* one log: runs repeat */
	if (!s->host.map || !s->blog) {
		sim_destroy(s);
		snprintf(err, errlen, "sim: out of memory");
		return NULL;
	}
	s->target = c->target_pages ? c->target_pages : c->ram_pages;
	s->bc_last = s->bc_flush = NEVER;
	s->bc_sent = (int64_t)(c->ram_pages * TB_PAGE_SIZE);

	/* tb_probe(): a module parameter of 0 means the policy default. */
	{
		struct tb_policy_params pp = c->drv.pol;

		pp.use_2m = pp.use_2m && c->host.page_2m;
		pp.no_fallback = !c->drv.fallback_4k;
		struct tb_floor_params fp = {
			.min_free = s->mem.wmark_min,
			.min_margin = c->drv.min_margin,
			.floor = c->drv.floor_pages, .band = c->drv.band_pages,
			.none = c->drv.blocking_alloc,
		};

		tb_guest_init(&s->d.g, &pp, c->ram_pages, &fp);
	}
	s->d.wake = NEVER;
	s->busy_t = NEVER;
	s->gs_next = NEVER;
	return s;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	sim_mem_destroy(&s->mem);
	free(s->host.map);
	free(s->blog);
	free(s->d.l4k.pfn);
	free(s->d.l2m.pfn);
	free(s->req.pfns);
	free(s);
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

struct sim_mem *sim_memory(struct sim *s)
{
	return &s->mem;
}

/* The driver's probe (tb_probe) and first pass. */
/*
 * The driver's stats work (guest-driver/tb_balloon.c tb_stats_fn): every
 * guest-stats-interval-ms (at least 100 ms) the figures go to the device,
 * which decodes the page as the real device does; with the interval 0 it
 * looks again every second.  The model has free, available, page cache
 * (its clean cache and shmem, as NR_FILE_PAGES), total and OOM kills; it
 * models no faults, allocation stalls, swap or PSI, so those are not sent.
 */
#define SIM_GS_MIN_MS	100
#define SIM_GS_IDLE_MS	1000

static void gs_event(struct sim *s)
{
	uint32_t ms = s->c.stats_interval_ms;
	unsigned int n = 0;

	if (ms && s->c.drv.stats_report) {
		tb_gstats_put(s->gs_page, n++, TB_GS_FREE,
			      kib(sim_mem_free_pages(&s->mem)) * 1024);
		tb_gstats_put(s->gs_page, n++, TB_GS_TOTAL,
			      kib(s->c.ram_pages - s->c.reserved_pages -
				  balloon_pages(s)) * 1024);
		tb_gstats_put(s->gs_page, n++, TB_GS_AVAILABLE,
			      kib(sim_mem_available(&s->mem)) * 1024);
		tb_gstats_put(s->gs_page, n++, TB_GS_CACHE,
			      kib(s->mem.count[SIM_CACHE] +
				  s->mem.count[SIM_SHMEM]) * 1024);
		tb_gstats_put(s->gs_page, n++, TB_GS_OOM_KILLS, s->oom_kills);
		tb_gstats_put_hdr(s->gs_page, n, ++s->gs_seq);
		tb_gstats_decode(s->gs_page, sizeof(s->gs_page), &s->gs);
		s->gs_ns = s->now ? s->now : 1;
		s->gs_reports++;
	}
	ms = ms && s->c.drv.stats_report ?
	     (ms > SIM_GS_MIN_MS ? ms : SIM_GS_MIN_MS) : SIM_GS_IDLE_MS;
	s->gs_next = s->now + ms * SIM_NS_PER_MS;
}

static void boot(struct sim *s)
{
	struct driver *d = &s->d;
	struct tb_guest_regs r = drv_regs(s);

	s->probed = true;
	tb_guest_probe(&d->g, &r);
	drv_msg(s, TB_MSG_PROBE, "0000:00:04.0", TB_MAGIC, TB_VERSION,
		(s->c.discard ? TB_F_DISCARD : 0) |
		(s->hcfg.page_2m ? TB_F_PAGE_2M : 0) | TB_F_CMD_IRQ,
		(unsigned long long)s->c.ram_pages,
		(unsigned long long)s->target,
		(unsigned long long)s->hcfg.max_reservation,
		(unsigned long long)s->hcfg.max_balloon, s->c.poll_ms_advice);
	drv_msg(s, TB_MSG_READY, (unsigned long long)kib(d->g.floor),
		(unsigned long long)kib(d->g.band),
		(unsigned long long)kib(d->g.min),
		(unsigned long long)kib(d->g.max_res),
		(unsigned long long)kib(d->g.safeguard),
		(unsigned long long)kib(d->g.target), d->g.pol.p.batch,
		s->c.drv.use_irq ? "on" : "off", s->c.discard ? "on" : "off",
		d->g.pol.p.use_2m ? "on" : "off", s->c.drv.blocking_alloc);
	/* queue_delayed_work(..., 0) at the end of probe: the first pass
	 * runs now, so the poll ticks are in phase with the probe, not with
	 * TB-READY (which /init prints once the agent is up). */
	drv_event(s);
	gs_event(s);
}

static uint64_t ready_at(const struct sim *s)
{
	return s->c.timing.boot_ns > s->c.timing.probe_ns ?
	       s->c.timing.boot_ns : s->c.timing.probe_ns;
}

int sim_run_until(struct sim *s, uint64_t until, bool until_event)
{
	uint64_t start = s->emitted;

	while (!s->dead) {
		uint64_t boot_t = s->probed ? NEVER :
				  ready_at(s) - s->c.timing.probe_ns;
		uint64_t ready_t = !s->probed || s->ready ? NEVER : ready_at(s);
		uint64_t req_t = s->req.kind != REQ_NONE && s->ready ?
				 s->req.next : NEVER;
		uint64_t t = boot_t;

		if (s->d.wake < t)
			t = s->d.wake;
		if (s->busy_t < t)
			t = s->busy_t;
		if (req_t < t)
			t = req_t;
		if (s->bc_flush < t)
			t = s->bc_flush;
		if (s->gs_next < t)
			t = s->gs_next;
		if (ready_t < t)
			t = ready_t;
		if (t > until || t == NEVER)
			break;
		if (t > s->now)
			s->now = t;
		if (t == boot_t) {
			boot(s);
		} else if (t == ready_t) {
			s->ready = true;
			emit(s, SIM_OUT_CONSOLE,
			     "TB-READY driver=tb_balloon agent=ttyS1", 0);
			/* The agent's greeting (AGENT.md: "event ready"). */
			emit(s, SIM_OUT_AGENT_EVENT, "ready", 0);
		} else if (t == s->d.wake)
			drv_event(s);
		else if (t == req_t)
			req_event(s);
		else if (t == s->busy_t)
			busy_event(s);
		else if (t == s->gs_next)
			gs_event(s);
		else
			bc_flush(s);
		if (until_event && s->emitted != start)
			return s->dead ? -1 : 0;
	}
	if (s->dead)
		return -1;
	if (until > s->now)
		s->now = until;
	return 0;
}

void sim_set_target(struct sim *s, uint64_t pages)
{
	s->target = pages;
	tb_batchlog_target(s->blog, s->now, pages, s->host.balloon_pages);
	s->generation++;
	/* TB_IRQ_TARGET wakes the loop; without it the next poll will. */
	if (s->c.drv.use_irq)
		drv_kick(s);
}

int sim_set_prop(struct sim *s, const char *prop, const char *value,
		 char *err, size_t errlen)
{
	struct sim_config c = s->c;
	uint64_t bytes;

	if (!strcmp(prop, "batch-log-from")) {
		if (parse_u64(value, &s->blog_from)) {
			snprintf(err, errlen, "device property batch-log-from: "
				 "'%s' is not a count", value);
			return -1;
		}
		return 0;
	}
	if (!strcmp(prop, "target")) {
		if (parse_size(value, c.ram_pages * TB_PAGE_SIZE, 1.0, true,
			       &bytes)) {
			snprintf(err, errlen, "device property target: '%s' "
				 "is not a size", value);
			return -1;
		}
		sim_set_target(s, bytes / TB_PAGE_SIZE);
		return 0;
	}
	c.host = s->hcfg;
	c.pool = s->host.pool;
	if (sim_config_set_prop(&c, prop, value, err, errlen))
		return -1;
	/* As the device: new limits apply from the next entry on, and no
	 * interrupt says so; the driver sees them on its next pass. */
	s->hcfg = c.host;
	s->hcfg.ram_pages = c.ram_pages;
	s->hcfg.max_balloon_advisory = !c.enforce_max_balloon;
	s->host.pool = c.pool;
	/* A new guest-stats interval raises TB_IRQ_STATS: the driver's
	 * stats work runs now (polling: at its next look). */
	if (c.stats_interval_ms != s->c.stats_interval_ms && s->probed &&
	    c.drv.use_irq)
		s->gs_next = s->now;
	s->c = c;
	return 0;
}

/* "guest-stats" as the device answers qom-get (tb-balloon.txt). */
static int guest_stats_json(struct sim *s, char *buf, size_t len)
{
	size_t n;
	int w;

	w = snprintf(buf, len, "{\"last-update\": %" PRIu64 ", "
		     "\"last-update-ns\": %" PRIu64 ", \"clock-ns\": %" PRIu64
		     ", \"interval-ms\": %u, \"reports\": %" PRIu64
		     ", \"seq\": %u, \"bad-reports\": 0, \"skipped-entries\": "
		     "%u, \"truncated-reports\": 0, \"stats\": {",
		     s->gs_ns / SIM_NS_PER_S, s->gs_ns, s->now,
		     s->c.stats_interval_ms, s->gs_reports, s->gs.seq,
		     s->gs.unknown + s->gs.invalid);
	for (unsigned int t = 1; w > 0 && (size_t)w < len && t < TB_GS_NR;
	     t++) {
		if (!(s->gs.present & 1u << t))
			continue;
		n = (size_t)w;
		w += snprintf(buf + n, len - n, "%s\"%s\": %" PRIu64,
			      buf[n - 1] == '{' ? "" : ", ", tb_gs_names[t],
			      s->gs.v[t]);
	}
	if (w > 0 && (size_t)w < len)
		w += snprintf(buf + w, len - (size_t)w, "}}");
	return w > 0 && (size_t)w < len ? 0 : -1;
}

/*
 * "batch-log" as the device answers qom-get (qemu-dev/tb-balloon.txt,
 * "Batch log"): where the log stands and up to TB_BATCHLOG_READ_MAX
 * records from batch-log-from on, on the virtual clock.
 */
static int batch_log_json(struct sim *s, char *buf, size_t len)
{
	struct tb_batchlog_rec rec[TB_BATCHLOG_READ_MAX];
	unsigned int n = tb_batchlog_read(s->blog, s->blog_from, rec,
					  TB_BATCHLOG_READ_MAX), i;
	size_t at;

	at = (size_t)snprintf(buf, len, "{\"log-id\": %" PRIu64 ", "
			      "\"clock-ns\": %" PRIu64 ", \"first-seq\": %"
			      PRIu64 ", \"next-seq\": %" PRIu64 ", \"from\": %"
			      PRIu64 ", \"records\": [", s->blog->id, s->now,
			      tb_batchlog_first(s->blog), s->blog->next_seq,
			      s->blog_from);
	for (i = 0; i < n && at < len; i++) {
		const struct tb_batchlog_rec *r = &rec[i];

		at += (size_t)snprintf(buf + at, len - at, "%s{\"seq\": %"
			PRIu64 ", \"t-ns\": %" PRIu64 ", \"kind\": \"%s\", "
			"\"entries\": %u, \"pages-4k\": %u, \"pages-2m\": %u, "
			"\"granted\": %u, \"refused\": %u, \"partial\": %u, "
			"\"balloon-pages\": %" PRIu64 ", \"target-pages\": %"
			PRIu64 "}", i ? ", " : "", r->seq, r->t_ns,
			tb_batchlog_kind_names[r->kind], r->entries,
			r->pages_4k, r->pages_2m, r->granted, r->refused,
			r->partial, r->balloon_pages, r->target_pages);
	}
	if (at < len)
		at += (size_t)snprintf(buf + at, len - at, "]}");
	return at < len ? 0 : -1;
}

int sim_get_prop(struct sim *s, const char *prop, char *buf, size_t len)
{
	uint64_t v;

	if (!strcmp(prop, "batch-log"))
		return batch_log_json(s, buf, len);
	if (!strcmp(prop, "guest-stats"))
		return guest_stats_json(s, buf, len);
	if (!strcmp(prop, "max-balloon"))
		v = s->hcfg.max_balloon * TB_PAGE_SIZE;
	else if (!strcmp(prop, "max-reservation"))
		v = s->hcfg.max_reservation * TB_PAGE_SIZE;
	else if (!strcmp(prop, "pool"))
		v = s->host.pool == TB_POOL_UNLIMITED ? UINT64_MAX :
		    s->host.pool * TB_PAGE_SIZE;
	else if (!strcmp(prop, "balloon-size"))
		v = s->host.balloon_pages * TB_PAGE_SIZE;
	else if (!strcmp(prop, "actual"))
		v = reservation(s) * TB_PAGE_SIZE;
	else if (!strcmp(prop, "target"))
		v = s->target * TB_PAGE_SIZE;
	else if (!strcmp(prop, "poll-ms"))
		v = s->c.poll_ms_advice;
	else if (!strcmp(prop, "reply-delay-ms"))
		v = s->c.reply_delay_ms;
	else if (!strcmp(prop, "guest-stats-interval-ms"))
		v = s->c.stats_interval_ms;
	else if (!strcmp(prop, "refuse-all") || !strcmp(prop, "discard") ||
		 !strcmp(prop, "page-2m"))
		v = !strcmp(prop, "refuse-all") ? s->hcfg.refuse_all :
		    !strcmp(prop, "discard") ? s->c.discard : s->hcfg.page_2m;
	else if (!strcmp(prop, "refuse-every"))
		v = s->hcfg.refuse_every;
	else if (!strcmp(prop, "enforce-max-balloon"))
		v = s->c.enforce_max_balloon;
	else
		return -1;
	snprintf(buf, len, "%" PRIu64, v);
	return 0;
}

void sim_stats(const struct sim *s, struct sim_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	st->target = s->target;
	st->actual = reservation(s);
	st->balloon_4k = s->d.l4k.n;
	st->balloon_2m = s->d.l2m.n * TB_PAGES_PER_2M;
	st->ram_rss = s->mem.touched_pages * TB_PAGE_SIZE;
	st->host_rss = (s->c.timing.qemu_rss_mib << 20) + st->ram_rss;
	/* Counted by the device, as qom-get "stats" reports them: inflate
	 * entries not accepted, and deflate commands short of pool. */
	for (i = TB_ST_OK + 1; i < TB_ST_NR; i++)
		st->refusals += s->host.count[TB_CMD_INFLATE][i];
	st->partial_grants = s->dev_partial_grants;
	st->fallbacks = s->d.g.pol.fallbacks;
	st->oom_kills = s->oom_kills;
	st->mem_free = sim_mem_free_pages(&s->mem);
	st->mem_available = sim_mem_available(&s->mem);
	st->mem_total = s->c.ram_pages - balloon_pages(s);
	memcpy(st->by_state, s->mem.count, sizeof(st->by_state));
	st->driver_balloon = drv_balloon(&s->d);
	st->device_balloon = s->host.balloon_pages;
	st->min_pages = s->d.g.min;
}
