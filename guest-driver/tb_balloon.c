// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_balloon.c - Linux guest driver for balloon-testbed's "tb-balloon" PCI
 * device (1234:ba11).  The register map and the protocol are in
 * core/tb_proto.h, the prose spec in qemu-dev/tb-balloon.txt, and every
 * policy decision (targets, clipping, min guard, episodes, pressure
 * hold-off, sysfs rules, page sizes, rate, back-off) in core/tb_guest.c and
 * core/tb_policy.c, compiled into this module; the console messages' texts
 * are core/tb_guest.h's TB_MSG_*.
 *
 * Units: the device, the policy and this file count 4 KiB pages ("pages");
 * a balloon entry is one 4 KiB page (order 0) or one 2 MiB page (order 9,
 * 512 pages).  sysfs values and the could-not-reach warning are in KiB, as
 * NetBSD's balloon(4) sysctls.  The reservation is the memory the guest may
 * use: boot pages - balloon pages; a target is a reservation.
 *
 * One delayed work item converges the reservation towards the target in
 * passes: it is kicked by TB_IRQ_TARGET and runs every poll_ms anyway, as
 * VMware's drivers poll once a second.  A pass moves at most what the policy
 * plans, in commands of up to `batch` entries, and requeues itself.
 *
 * The device is not trusted (issues 10, 20): CMD_DONE, every entry's
 * status, the entries past the batch (canaries), the interrupt rate, MAGIC
 * (read again before the device is taken for silent) and BOOT_PAGES
 * (against the guest's own memory map) are checked; what does not add up
 * is counted ("bad replies" and its parts, "magic glitches", "boot pages
 * clamped" in debugfs) and never makes us free or keep a page we should
 * not.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/list.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/oom.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/sysfs.h>
#include <linux/version.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>

#include "tb_guest.h"
#include "tb_gstats.h"
#include "tb_knobs.h"

/*
 * Module parameters: each one's variable, module_param() and
 * MODULE_PARM_DESC() come from TB_DRIVER_PARAMS in core/tb_knobs.h, which
 * holds their names, types, permissions, units and defaults.  Policy
 * tunables: 0 means the core policy's default.
 */
#define TB_PARAM_CTYPE_u32	unsigned int
#define TB_PARAM_CTYPE_flag	bool
#define TB_PARAM_OPS_u32	uint
#define TB_PARAM_OPS_flag	bool
#define TB_PARAM(var, type, perm, unit, def, backends, desc)		\
	static TB_PARAM_CTYPE_##type var = def;				\
	module_param(var, TB_PARAM_OPS_##type, perm);			\
	MODULE_PARM_DESC(var, TB_PARAM_DESC(type, unit, def, desc));
TB_DRIVER_PARAMS(TB_PARAM)
#undef TB_PARAM

/* The pattern poison_check writes; any non-zero byte would do. */
#define TB_POISON_BYTE		0x5a

/*
 * Canary entries after every batch: a device that writes statuses past
 * BATCH_COUNT is caught, and it writes into our own spare entries rather
 * than into whatever follows the buffer.
 */
#define TB_CANARIES		8
#define TB_CANARY_ORDER		0xffu	/* no valid order */
#define TB_CANARY_STATUS	0xcau	/* no valid status */
#define TB_BATCH_ALLOC		((TB_BATCH_MAX + TB_CANARIES) * sizeof(struct tb_entry))

/* Balloon lists by page size. */
enum tb_size { TB_4K, TB_2M, TB_NR_SIZES };
static const unsigned int tb_size_order[TB_NR_SIZES] = { TB_ORDER_4K, TB_ORDER_2M };

/* Counters shown in debugfs, besides the per-command and per-status ones. */
enum tb_stat {
	TB_STAT_PASSES,
	TB_STAT_PARTIAL_GRANTS,
	TB_STAT_ALLOC_FAIL_2M,
	TB_STAT_ALLOC_FAIL_4K,
	TB_STAT_BACKOFFS,
	TB_STAT_FLOOR_STOPS,
	TB_STAT_SHRINKER_CALLS,
	TB_STAT_SHRINKER_PAGES,
	TB_STAT_OOM_CALLS,
	TB_STAT_OOM_PAGES,
	TB_STAT_FLOOR_CALLS,
	TB_STAT_FLOOR_PAGES,
	TB_STAT_STALL_WARNINGS,
	TB_STAT_CLIP_WARNINGS,
	TB_STAT_MAXRES_WARNINGS,
	TB_STAT_BAD_REPLIES,
	TB_STAT_BAD_DONE,
	TB_STAT_BAD_STATUS,
	TB_STAT_STRAY_STATUS,
	TB_STAT_CMD_TIMEOUTS,
	TB_STAT_IRQS,
	TB_STAT_IRQ_STORMS,
	TB_STAT_IRQ_EMPTY,
	TB_STAT_HOST_TARGETS,
	TB_STAT_ADMIN_TARGETS,
	TB_STAT_BAD_TARGETS,
	TB_STAT_STATE_RELEASED,
	TB_STAT_POISONED,
	TB_STAT_CHECKED,
	TB_STAT_STALE,
	TB_STAT_BOOT_CLAMPED,
	TB_STAT_MAGIC_GLITCHES,
	TB_STAT_DEVICE_SILENT,
	TB_STAT_DEVICE_BACK,
	TB_STAT_PRESSURE_STOPS,
	TB_STAT_NR
};

static const char *const tb_stat_names[TB_STAT_NR] = {
	[TB_STAT_PASSES] = "passes",
	[TB_STAT_PARTIAL_GRANTS] = "partial grants",
	[TB_STAT_ALLOC_FAIL_2M] = "alloc fail 2m",
	[TB_STAT_ALLOC_FAIL_4K] = "alloc fail 4k",
	[TB_STAT_BACKOFFS] = "backoffs",
	[TB_STAT_FLOOR_STOPS] = "floor stops",
	[TB_STAT_SHRINKER_CALLS] = "shrinker calls",
	[TB_STAT_SHRINKER_PAGES] = "shrinker deflates",
	[TB_STAT_OOM_CALLS] = "oom notifier calls",
	[TB_STAT_OOM_PAGES] = "oom deflates",
	[TB_STAT_FLOOR_CALLS] = "floor deflate calls",
	[TB_STAT_FLOOR_PAGES] = "floor deflates",
	[TB_STAT_STALL_WARNINGS] = "stall warnings",
	[TB_STAT_CLIP_WARNINGS] = "clip warnings",
	[TB_STAT_MAXRES_WARNINGS] = "max reservation clips",
	[TB_STAT_BAD_REPLIES] = "bad replies",
	[TB_STAT_BAD_DONE] = "bad done counts",
	[TB_STAT_BAD_STATUS] = "bad statuses",
	[TB_STAT_STRAY_STATUS] = "statuses past batch",
	[TB_STAT_CMD_TIMEOUTS] = "cmd timeouts",
	[TB_STAT_IRQS] = "irqs",
	[TB_STAT_IRQ_STORMS] = "irq storms",
	[TB_STAT_IRQ_EMPTY] = "irqs without news",
	[TB_STAT_HOST_TARGETS] = "host targets",
	[TB_STAT_ADMIN_TARGETS] = "admin targets",
	[TB_STAT_BAD_TARGETS] = "bad targets",
	[TB_STAT_STATE_RELEASED] = "released not ballooned",
	[TB_STAT_POISONED] = "poisoned pages",
	[TB_STAT_CHECKED] = "checked pages",
	[TB_STAT_STALE] = "stale pages",
	[TB_STAT_BOOT_CLAMPED] = "boot pages clamped",
	[TB_STAT_MAGIC_GLITCHES] = "magic glitches",
	[TB_STAT_DEVICE_SILENT] = "device silent",
	[TB_STAT_DEVICE_BACK] = "device back",
	[TB_STAT_PRESSURE_STOPS] = "pressure stops",
};

/**
 * struct tb_balloon - one bound device (the driver binds one at most).
 * @pdev:	the PCI device
 * @regs:	BAR0
 * @batch:	DMA-coherent batch buffer, TB_BATCH_MAX entries and
 *		TB_CANARIES canaries; @lock
 * @batch_dma:	its bus address, written to BATCH_ADDR_LO/HI
 * @shadow:	the page behind each batch entry, so a device that scribbles
 *		over the buffer cannot make us free a page we do not own; @lock
 * @lock:	serialises passes, commands, the lists and everything below
 *		marked @lock; the shrinker only trylocks it
 * @work:	the convergence pass
 * @g:		the driver's decisions' state (core/tb_guest.h): policy,
 *		limits (boot pages, max reservation, max balloon, safeguard,
 *		min), asked and clipped target, episode, pressure hold-off
 *		(in jiffies); @lock, but the sysfs reads go without it
 * @pages:	balloon pages by size (page->lru of the head page); @lock
 * @nr:		entries on each list; written under @lock, read locklessly
 *		by sysfs and the shrinker's count
 * @features:	TB_REG_FEATURES at probe
 * @gone:	the device does not answer (MAGIC reads wrong, again and
 *		again): nothing is sent to it, its balloon stays; @lock
 * @dev_boot_pages: BOOT_PAGES as the device said it at probe
 * @pressure_waiting: a shrinker found @lock taken: an inflate pass stops
 *		and the next pass gives back
 * @removing:	remove() runs: no pass may be queued again
 * @oom_waiting: the OOM notifier waits for @lock: an inflate pass stops
 *		allocating and lets it go
 * @irq_window:	start (jiffies) of the current interrupt-rate window
 * @irq_count:	interrupts in that window (hard irq context only)
 * @irq_empty:	target interrupts in that window with no new GENERATION
 * @irq_gen:	GENERATION seen by the interrupt handler last
 * @irq_storm:	interrupts were given up; polling only
 * @irq_requested: the interrupt handler is installed; @irq_lock
 * @irq_lock:	serialises freeing the interrupt (storm work, remove)
 * @irq_off_work: frees the interrupt after a storm (not in hard irq)
 * @shrinker:	deflates under memory pressure (allocated from 6.7 on,
 *		@shrinker_mem before)
 * @shrinker_registered: @shrinker is registered
 * @kobj:	/sys/kernel/tb_balloon
 * @dbg:	debugfs directory
 * @cmd_ops:	commands sent, by command; @lock
 * @cmd_fails:	commands failed (result, timeout), by command; @lock
 * @refused:	inflate entries refused, by status; @lock
 * @denied:	deflate entries not granted, by status; @lock
 * @stats:	other counters, enum tb_stat; @lock
 * @irqs:	interrupts handled
 * @given_back:	pages any deflate gave back to the guest (for the OOM
 *		notifier, which may not get @lock)
 * @irq_storms:	times the interrupt was given up
 */
struct tb_balloon {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct tb_entry *batch;
	dma_addr_t batch_dma;
	struct page **shadow;
	u8 *shadow_order;

	struct mutex lock;
	struct delayed_work work;
	struct tb_guest g;
	struct list_head pages[TB_NR_SIZES];
	u64 nr[TB_NR_SIZES];

	u32 features;
	bool gone;
	bool removing;
	bool oom_waiting;
	bool pressure_waiting;
	u64 dev_boot_pages;

	unsigned long irq_window;
	unsigned int irq_count;
	unsigned int irq_empty;
	u32 irq_gen;
	bool irq_storm;
	bool irq_requested;
	struct mutex irq_lock;
	struct work_struct irq_off_work;

	struct shrinker *shrinker;
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
	struct shrinker shrinker_mem;
#endif
	bool shrinker_registered;
	struct notifier_block oom_nb;
	struct kobject *kobj;
	struct dentry *dbg;

	u64 cmd_ops[TB_CMD_NR];
	u64 cmd_fails[TB_CMD_NR];
	u64 refused[TB_ST_NR];
	u64 denied[TB_ST_NR];
	u64 stats[TB_STAT_NR];
	atomic64_t irqs;
	atomic64_t irq_storms;
	atomic64_t irq_empty_total;
	atomic64_t given_back;

	/* Guest figures to the device (TB_F_STATS): its own work item,
	 * never under @lock, so a long pass does not delay a report. */
	struct delayed_work stats_work;
	void *stats_page;
	dma_addr_t stats_dma;
	u32 stats_seq;
	unsigned long vm_ev[NR_VM_EVENT_ITEMS];
	atomic64_t stats_reports;
};

/* The one bound device, for /sys/kernel/tb_balloon; NULL when unbound. */
static struct tb_balloon *tb_the;
static DEFINE_MUTEX(tb_the_lock);

static inline u32 tb_rd(struct tb_balloon *b, enum tb_reg reg)
{
	return ioread32(b->regs + reg);
}

static inline void tb_wr(struct tb_balloon *b, enum tb_reg reg, u32 val)
{
	iowrite32(val, b->regs + reg);
}

static u64 tb_balloon_pages(struct tb_balloon *b)
{
	return READ_ONCE(b->nr[TB_4K]) + READ_ONCE(b->nr[TB_2M]) * TB_PAGES_PER_2M;
}

/* Reservation = boot pages - balloon pages. */
static u64 tb_current(struct tb_balloon *b)
{
	u64 bp = tb_balloon_pages(b);

	return b->g.boot_pages > bp ? b->g.boot_pages - bp : 0;
}

static inline u64 tb_kib(u64 pages)
{
	return pages << (TB_PAGE_SHIFT - 10);
}

/*
 * The kernel's own floor: the min watermarks of all zones, which is what
 * vm.min_free_kbytes is turned into (min_free_kbytes itself is not exported).
 */
static u64 tb_min_wmark_pages(void)
{
	u64 sum = 0;
	int nid, z;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (z = 0; z < MAX_NR_ZONES; z++) {
			struct zone *zone = &pgdat->node_zones[z];

			/* Without watermark_boost: that one comes and goes. */
			if (populated_zone(zone))
				sum += zone->_watermark[WMARK_MIN];
		}
	}
	return sum;
}

/* Every page back to the guest without asking the device (unload). */
static void tb_release_all_local(struct tb_balloon *b)
{
	struct page *page, *tmp;
	int s;

	for (s = 0; s < TB_NR_SIZES; s++) {
		list_for_each_entry_safe(page, tmp, &b->pages[s], lru) {
			list_del(&page->lru);
			__free_pages(page, tb_size_order[s]);
		}
		WRITE_ONCE(b->nr[s], 0);
	}
}

/*
 * Does the device answer?  MAGIC reads back unless it is gone (all-ones
 * after a surprise removal) or a read went wrong.  One wrong read is not
 * enough: it is read TB_MAGIC_REREADS more times over a few ms.  A device
 * that does not answer is sent nothing, but its balloon stays: the host
 * still counts those pages, so freeing them would leave the two books
 * apart for good.  It is asked again each pass; remove() (the device
 * really went) gives the pages back.
 */
#define TB_MAGIC_REREADS	4

static bool tb_alive(struct tb_balloon *b)
{
	u32 magic = tb_rd(b, TB_REG_MAGIC);
	int i;

	if (magic == TB_MAGIC) {
		if (b->gone) {
			b->gone = false;
			b->stats[TB_STAT_DEVICE_BACK]++;
			pr_warn("device answers again: %llu balloon pages\n", tb_balloon_pages(b));
		}
		return true;
	}
	if (b->gone)
		return false;
	for (i = 0; i < TB_MAGIC_REREADS; i++) {
		usleep_range(1000, 2000);
		if (tb_rd(b, TB_REG_MAGIC) == TB_MAGIC) {
			b->stats[TB_STAT_MAGIC_GLITCHES]++;
			pr_warn_ratelimited("MAGIC read 0x%08x once, then right: the device is still there\n",
					    magic);
			return true;
		}
	}
	b->gone = true;
	b->stats[TB_STAT_DEVICE_SILENT]++;
	pr_err("device not answering (MAGIC reads 0x%08x): its %llu balloon pages stay ballooned until it answers or is removed\n",
	       magic, tb_balloon_pages(b));
	return false;
}

/* One rejected reply (or part of one): counted in total and by kind. */
static void tb_bad_reply(struct tb_balloon *b, enum tb_stat kind)
{
	b->stats[TB_STAT_BAD_REPLIES]++;
	b->stats[kind]++;
}

/* Fill the entries after the batch with values no device may write. */
static void tb_set_canaries(struct tb_balloon *b, u32 count)
{
	unsigned int i;

	for (i = count; i < count + TB_CANARIES; i++) {
		struct tb_entry *e = &b->batch[i];

		e->pfn = 0;
		e->order = TB_CANARY_ORDER;
		e->status = TB_CANARY_STATUS;
		memset(e->reserved, 0, sizeof(e->reserved));
	}
}

/* Entries past the batch the device wrote into: each one is a bad reply. */
static void tb_check_canaries(struct tb_balloon *b, enum tb_cmd cmd, u32 count)
{
	unsigned int i, hit = 0;

	for (i = count; i < count + TB_CANARIES; i++) {
		struct tb_entry *e = &b->batch[i];

		if (READ_ONCE(e->status) != TB_CANARY_STATUS ||
		    READ_ONCE(e->order) != TB_CANARY_ORDER || READ_ONCE(e->pfn)) {
			tb_bad_reply(b, TB_STAT_STRAY_STATUS);
			hit++;
		}
	}
	if (hit)
		pr_warn_ratelimited("%s: device wrote %u entries past the %u sent (ignored)\n",
				    tb_cmd_names[cmd], hit, count);
}

/*
 * Every command to the device goes through here: it counts operations and
 * failures per command.  @count entries must be in the batch buffer
 * already; canaries follow them.  On success *@done is CMD_DONE as the
 * device said it (tb_check_done() judges it against the statuses) and the
 * canaries have been checked.  Caller holds @lock.
 */
static int tb_cmd(struct tb_balloon *b, enum tb_cmd cmd, u32 count, u32 *done)
{
	unsigned long deadline;
	unsigned int spins = 0;
	u32 st, res;

	b->cmd_ops[cmd]++;
	deadline = jiffies + msecs_to_jiffies(max(cmd_timeout_ms, 10u));

	/* A command that timed out earlier may still run: let it finish. */
	while ((st = tb_rd(b, TB_REG_CMD_STATUS)) & TB_CMD_BUSY) {
		if (st == ~0u || time_after(jiffies, deadline))
			goto timeout;
		usleep_range(500, 1000);
	}

	if (count) {
		tb_set_canaries(b, count);
		tb_wr(b, TB_REG_BATCH_COUNT, count);
	}
	/* Entries must be visible to the device before the command starts. */
	wmb();
	tb_wr(b, TB_REG_COMMAND, cmd);

	while ((st = tb_rd(b, TB_REG_CMD_STATUS)) & TB_CMD_BUSY) {
		if (st == ~0u || time_after(jiffies, deadline))
			goto timeout;
		if (++spins < 20)
			udelay(5);
		else
			usleep_range(500, 1000);
	}
	/* Statuses were written back before CMD_STATUS cleared BUSY. */
	rmb();

	res = st & 0xff;
	if (res != TB_CMD_OK) {
		b->cmd_fails[cmd]++;
		pr_warn_ratelimited("%s command failed: %s (CMD_STATUS 0x%08x)\n",
				    tb_cmd_names[cmd],
				    res < TB_CMD_RESULT_NR ? tb_cmd_result_names[res] : "invalid result",
				    st);
		return -EIO;
	}
	if (count)
		tb_check_canaries(b, cmd, count);
	if (done)
		*done = tb_rd(b, TB_REG_CMD_DONE);
	return 0;

timeout:
	b->cmd_fails[cmd]++;
	if (st == ~0u) {
		tb_alive(b);
		return -ENODEV;
	}
	b->stats[TB_STAT_CMD_TIMEOUTS]++;
	pr_warn_ratelimited("%s command not done after %u ms\n", tb_cmd_names[cmd],
			    cmd_timeout_ms);
	return -ETIMEDOUT;
}

static void tb_put_entry(struct tb_balloon *b, unsigned int i, struct page *page,
			 unsigned int order)
{
	struct tb_entry *e = &b->batch[i];

	b->shadow[i] = page;
	b->shadow_order[i] = order;
	e->pfn = page_to_pfn(page);
	e->order = order;
	e->status = TB_ST_PENDING;
	memset(e->reserved, 0, sizeof(e->reserved));
}

/*
 * An entry's status as written back by the device, validated: PENDING (the
 * device did not answer) and values past the enum are bad replies, and
 * both come back as PENDING, "unknown".
 */
static u8 tb_entry_status(struct tb_balloon *b, unsigned int i)
{
	u8 st = READ_ONCE(b->batch[i].status);

	if (st == TB_ST_PENDING || st >= TB_ST_NR) {
		tb_bad_reply(b, TB_STAT_BAD_STATUS);
		pr_warn_ratelimited("entry %u: invalid status %u from the device\n", i, st);
		return TB_ST_PENDING;
	}
	return st;
}

/*
 * A command failed: the batch's pages stay in the balloon, as the device may
 * hold them, also when it does not answer (it may again); remove() gives
 * them back if it went.
 */
static void tb_keep_batch(struct tb_balloon *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		unsigned int order = b->shadow_order[i];
		int s = order ? TB_2M : TB_4K;

		list_add(&b->shadow[i]->lru, &b->pages[s]);
		WRITE_ONCE(b->nr[s], b->nr[s] + 1);
	}
}

/*
 * CMD_DONE must match the OK statuses (and so can never exceed what was
 * sent); a mismatch is counted once per command, and the statuses win.
 * With statuses already rejected as bad, CMD_DONE cannot be judged.
 */
static void tb_check_done(struct tb_balloon *b, enum tb_cmd cmd, u32 done, u32 sent,
			  u32 oks, u32 unknown)
{
	if (done <= sent && (done == oks || (unknown && done >= oks && done <= oks + unknown)))
		return;
	tb_bad_reply(b, TB_STAT_BAD_DONE);
	pr_warn_ratelimited("%s: CMD_DONE %u but %u of %u entries OK (%u unknown)\n",
			    tb_cmd_names[cmd], done, oks, sent, unknown);
}

/*
 * The balloon's allocation flags.  Outside blocking_alloc, pages come from
 * the movable free lists (__GFP_MOVABLE), where the guest's own freed
 * memory lies, most recently freed first: the pages the guest touched
 * last, which the host backs, so each one inflated is memory the host gets
 * back.  Unmovable ones (GFP_HIGHUSER, the old way) come from the
 * unmovable pageblocks the balloon claimed on its first inflation, and a
 * deflate puts its pages back there: every later inflation retook those
 * same pages, already discarded, and what the guest had dirtied in between
 * stayed resident on the host (scenarios/reinflate.ini).  The pages are
 * not migratable, so no __GFP_HIGHMEM: never from ZONE_MOVABLE (nor CMA,
 * which the guest kernel does not have).
 */
static gfp_t tb_gfp(struct tb_balloon *b, unsigned int order)
{
	gfp_t gfp;

	if (blocking_alloc) {
		/* The old way: may retry, reclaim hard and call the OOM killer. */
		gfp = GFP_HIGHUSER | (order ? __GFP_NOWARN : 0);
	} else {
		gfp = GFP_USER | __GFP_MOVABLE | __GFP_NORETRY | __GFP_NOWARN |
		      __GFP_NOMEMALLOC;
		/* No compaction storms for 2 MiB: fall back to 4 KiB instead. */
		if (order)
			gfp &= ~__GFP_DIRECT_RECLAIM;
	}
	/* No __GFP_ZERO: tb_prepare_page() clears after any poisoning. */
	return gfp;
}

/*
 * A page for the balloon, asked first without direct reclaim; one that
 * only reclaim finds means the allocation had to sleep, the guest is short
 * of memory, and the pass slows the rate down (tb_policy_slept()), as
 * vmw_balloon's NOSLEEP then CANSLEEP allocations.
 */
static struct page *tb_alloc_page(struct tb_balloon *b, unsigned int order)
{
	gfp_t gfp = tb_gfp(b, order);
	struct page *page;

	if (gfp & __GFP_DIRECT_RECLAIM) {
		page = alloc_pages(gfp & ~__GFP_DIRECT_RECLAIM, order);
		if (page)
			return page;
	}
	page = alloc_pages(gfp, order);
	if (page && (gfp & __GFP_DIRECT_RECLAIM))
		tb_policy_slept(&b->g.pol);
	return page;
}

/*
 * Up to @want 4 KiB pages at once from the bulk allocator (one pass over
 * the per-CPU list, as vmalloc does), without direct reclaim: no page it
 * finds had to sleep.  Each goes into batch slot @at on; returns how many.
 * At most TB_BULK a call, as the allocator keeps interrupts off while it
 * fills the array (and zeroes each page with init_on_alloc).
 */
#define TB_BULK		64u
static unsigned int tb_alloc_bulk(struct tb_balloon *b, unsigned int at, unsigned int want);

/*
 * A page just allocated for the balloon.  poison_check writes the pattern
 * that stands in for the old data a page may hold; then, without discard,
 * the host keeps whatever the page holds when it comes back, so the page
 * is cleared here: it must not carry old data back to the guest (nor give
 * it to the host).  With discard the host frees it and it comes back zero;
 * zero_on_inflate clears it anyway, as NetBSD's balloon(4) does before
 * relinquishing a page: a host that only claims to discard then sees, and
 * gives back, zeroes.
 */
static void tb_prepare_page(struct tb_balloon *b, struct page *page, unsigned int order)
{
	bool clear = !(b->features & TB_F_DISCARD) || zero_on_inflate;
	unsigned int i;

	if (!poison_check && !clear)
		return;
	for (i = 0; i < (1u << order); i++) {
		if (poison_check) {
			void *p = kmap_local_page(page + i);

			memset(p, TB_POISON_BYTE, PAGE_SIZE);
			kunmap_local(p);
		}
		if (clear)
			clear_highpage(page + i);
	}
	if (poison_check)
		b->stats[TB_STAT_POISONED] += 1u << order;
	cond_resched();
}

static unsigned int tb_alloc_bulk(struct tb_balloon *b, unsigned int at, unsigned int want)
{
	gfp_t gfp = tb_gfp(b, TB_ORDER_4K) & ~__GFP_DIRECT_RECLAIM;
	unsigned int got, i;

	want = min(want, TB_BULK);
	/* The allocator fills the NULL slots only. */
	memset(&b->shadow[at], 0, want * sizeof(*b->shadow));
	got = alloc_pages_bulk_array(gfp, want, &b->shadow[at]);
	for (i = at; i < at + got; i++) {
		tb_prepare_page(b, b->shadow[i], TB_ORDER_4K);
		tb_put_entry(b, i, b->shadow[i], TB_ORDER_4K);
	}
	return got;
}

/* poison_check: a page the host granted back must be all zeroes. */
static void tb_check_returned(struct tb_balloon *b, struct page *page, unsigned int order)
{
	unsigned int i;

	if (!poison_check)
		return;
	for (i = 0; i < (1u << order); i++) {
		void *p = kmap_local_page(page + i);

		if (memchr_inv(p, 0, PAGE_SIZE))
			b->stats[TB_STAT_STALE]++;
		kunmap_local(p);
	}
	b->stats[TB_STAT_CHECKED] += 1u << order;
	cond_resched();
}

/* The balloon(4) diagnostic, in KiB. */
static void tb_warn_unreached(struct tb_balloon *b, u64 target)
{
	b->stats[TB_STAT_STALL_WARNINGS]++;
	/* Ratelimited: a flapping target would make every episode a new one. */
	pr_warn_ratelimited(TB_MSG_UNREACHED "\n", (size_t)tb_kib(target),
			    (size_t)tb_kib(tb_current(b)));
}

/*
 * One inflate pass: give @pass->pages pages to the host, 2 MiB pages first
 * when @pass->order says so.  Refused pages are kept aside (so the allocator
 * does not hand them out again) until the pass ends.  Caller holds @lock.
 */
static void tb_inflate(struct tb_balloon *b, const struct tb_pass *pass)
{
	u64 want, placed = 0;
	bool alloc_failed = false, clamped, at_floor, capped = false, cmd_failed = false;
	unsigned int nrefused = 0;
	LIST_HEAD(refused);
	struct page *page, *tmp;
	struct tb_guest_end end;
	u32 nbatch = b->g.pol.p.batch;

	want = tb_guest_inflate_want(&b->g, pass, tb_balloon_pages(b), si_mem_available(),
				     &clamped, &at_floor);
	if (at_floor)
		b->stats[TB_STAT_FLOOR_STOPS]++;

	while (placed < want && !alloc_failed && !cmd_failed && !b->gone) {
		u64 queued = 0;
		unsigned int n = 0, i;
		u32 done = 0, oks = 0, unknown = 0;

		/*
		 * The pass measured the guest's memory when it started; with
		 * a slow device it lasts long enough for a workload to take
		 * that memory meanwhile: leave the floor and band each batch.
		 */
		if (placed && !b->g.no_floor) {
			u64 level = tb_guest_inflate_floor(&b->g), avail = si_mem_available();
			u64 spare = avail > level ? avail - level : 0;

			if (placed + spare < want) {
				b->stats[TB_STAT_FLOOR_STOPS]++;
				want = placed + spare;
				if (!spare)
					break;
			}
		}

		while (n < nbatch && placed + queued < want) {
			u64 rem = want - placed - queued;
			unsigned int order;

			/* Someone is about to be OOM-killed, or a shrinker
			 * could not get the lock: stop taking. */
			if (READ_ONCE(b->oom_waiting) || READ_ONCE(b->pressure_waiting)) {
				b->stats[TB_STAT_PRESSURE_STOPS]++;
				alloc_failed = true;
				break;
			}

			order = tb_guest_inflate_order(pass, rem, b->features & TB_F_PAGE_2M);
			/* 4 KiB pages in bulk; when the bulk allocator finds
			 * none, one page the usual way (which may reclaim).
			 * bulk_alloc=0: one allocation a page, as before. */
			if (order == TB_ORDER_4K && READ_ONCE(bulk_alloc) && !blocking_alloc &&
			    rem > 1) {
				unsigned int got = tb_alloc_bulk(b, n, min_t(u64, nbatch - n, rem));

				if (got) {
					n += got;
					queued += got;
					continue;
				}
			}
			page = tb_alloc_page(b, order);
			if (!page) {
				b->stats[order ? TB_STAT_ALLOC_FAIL_2M : TB_STAT_ALLOC_FAIL_4K]++;
				alloc_failed = true;
				break;
			}
			tb_prepare_page(b, page, order);
			tb_put_entry(b, n++, page, order);
			queued += tb_entry_pages(order);
		}
		if (!n)
			break;

		if (tb_cmd(b, TB_CMD_INFLATE, n, &done)) {
			/*
			 * The device may or may not have taken these pages
			 * (a timeout can complete later): keep them in the
			 * balloon; a later deflate sorts them out.
			 */
			tb_keep_batch(b, n);
			cmd_failed = true;
			break;
		}
		for (i = 0; i < n; i++) {
			unsigned int order = b->shadow_order[i];
			int s = order ? TB_2M : TB_4K;
			u8 st = tb_entry_status(b, i);

			page = b->shadow[i];
			oks += st == TB_ST_OK;
			unknown += st == TB_ST_PENDING;
			if (tb_guest_inflate_kept(st)) {
				/*
				 * PENDING (no or an invalid answer): the host
				 * may hold the page, so it is kept like a
				 * placed page and counts as progress (else a
				 * lying device makes us overshoot); a deflate
				 * sorts it out (OK or ERR_STATE).
				 */
				list_add(&page->lru, &b->pages[s]);
				WRITE_ONCE(b->nr[s], b->nr[s] + 1);
				placed += tb_entry_pages(order);
				continue;
			}
			b->refused[st]++;
			if (st == TB_ST_ERR_MAX_BALLOON)
				capped = true;
			list_add(&page->lru, &refused);
			set_page_private(page, order);
			nrefused++;
		}
		tb_check_done(b, TB_CMD_INFLATE, done, n, oks, unknown);
		if (tb_guest_inflate_stop(capped, nrefused, nbatch))
			break;
	}

	list_for_each_entry_safe(page, tmp, &refused, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		__free_pages(page, order);
	}

	end = tb_guest_inflated(&b->g, pass, placed, alloc_failed, clamped || capped);
	if (end.backoff)
		b->stats[TB_STAT_BACKOFFS]++;
	if (end.unreached_msg)
		tb_warn_unreached(b, b->g.target);
}

/* Take up to one entry of size @s off the balloon list into slot @i. */
static bool tb_take(struct tb_balloon *b, int s, unsigned int i)
{
	struct page *page;

	page = list_first_entry_or_null(&b->pages[s], struct page, lru);
	if (!page)
		return false;
	list_del(&page->lru);
	WRITE_ONCE(b->nr[s], b->nr[s] - 1);
	tb_put_entry(b, i, page, tb_size_order[s]);
	return true;
}

/*
 * A page the host granted back after discarding it: the host holds no
 * memory for it until the guest writes it.  It goes to the tail of the
 * free lists, past the per-CPU lists, as memory just onlined does
 * (__free_pages_core(): "place fresh pages right to the tail"): the
 * guest's allocations, and the balloon's next inflation, take the pages
 * the guest used last first, which the host backs.  From the per-CPU list
 * of the CPU that deflated, the next inflation took these pages first
 * (scenarios/reinflate.ini).  generic_online_page() counts the pages
 * into managed and total RAM, which they never left: taken off first.
 */
static void tb_free_unbacked(struct page *page, unsigned int order)
{
#ifdef CONFIG_MEMORY_HOTPLUG
	adjust_managed_page_count(page, -(1L << order));
	generic_online_page(page, order);
#else
	__free_pages(page, order);
#endif
}

/*
 * Ask up to @want pages back, @order sized ones first.  A 2 MiB page may
 * overshoot @want when no 4 KiB page is left.  Returns the pages granted;
 * *@short_grant tells whether the host granted fewer than asked.
 * Caller holds @lock.
 */
static u64 tb_deflate_pages(struct tb_balloon *b, u64 want, unsigned int order,
			    bool *short_grant)
{
	u64 granted = 0;
	u32 nbatch = b->g.pol.p.batch;

	*short_grant = false;
	while (granted < want && !b->gone) {
		u64 queued = 0;
		unsigned int n = 0, i;
		u32 done = 0, oks = 0, unknown = 0;
		bool stop = false;

		while (n < nbatch && granted + queued < want) {
			u64 rem = want - granted - queued;
			bool have4k = !list_empty(&b->pages[TB_4K]);
			bool have2m = !list_empty(&b->pages[TB_2M]);
			int s;

			if (!have4k && !have2m)
				break;
			s = tb_guest_deflate_order(order, rem, have4k, have2m) ? TB_2M : TB_4K;
			tb_take(b, s, n);
			queued += tb_entry_pages(b->shadow_order[n]);
			n++;
		}
		if (!n)
			break;

		if (tb_cmd(b, TB_CMD_DEFLATE, n, &done)) {
			/* Nothing was granted: the pages stay in the balloon. */
			tb_keep_batch(b, n);
			*short_grant = true;
			break;
		}
		for (i = 0; i < n; i++) {
			unsigned int o = b->shadow_order[i];
			int s = o ? TB_2M : TB_4K;
			struct page *page = b->shadow[i];
			u8 st = tb_entry_status(b, i);

			oks += st == TB_ST_OK;
			unknown += st == TB_ST_PENDING;
			if (tb_guest_deflate_freed(st)) {
				/*
				 * ERR_STATE: the host says the page is not in
				 * its balloon (e.g. an inflate that timed
				 * out), so it is the guest's already.
				 */
				if (st == TB_ST_ERR_STATE) {
					b->denied[st]++;
					b->stats[TB_STAT_STATE_RELEASED]++;
				} else {
					tb_check_returned(b, page, o);
				}
				if (st == TB_ST_OK && (b->features & TB_F_DISCARD))
					tb_free_unbacked(page, o);
				else
					__free_pages(page, o);
				granted += tb_entry_pages(o);
				atomic64_add(tb_entry_pages(o), &b->given_back);
				continue;
			}
			if (st != TB_ST_PENDING)
				b->denied[st]++;
			list_add_tail(&page->lru, &b->pages[s]);
			WRITE_ONCE(b->nr[s], b->nr[s] + 1);
			stop = true;
		}
		tb_check_done(b, TB_CMD_DEFLATE, done, n, oks, unknown);
		if (stop) {
			*short_grant = true;
			break;
		}
	}
	return granted;
}

static void tb_deflate(struct tb_balloon *b, const struct tb_pass *pass)
{
	bool short_grant;
	u64 granted = tb_deflate_pages(b, pass->pages, pass->order, &short_grant);
	struct tb_guest_end end = tb_guest_deflated(&b->g, pass, granted, short_grant);

	if (end.partial) {
		b->stats[TB_STAT_PARTIAL_GRANTS]++;
		b->stats[TB_STAT_BACKOFFS]++;
		pr_warn_ratelimited(TB_MSG_PARTIAL "\n", (size_t)pass->pages, (int)granted);
	}
}

/* Re-read the host's registers; a new host target wins over the admin's. */
static void tb_read_regs(struct tb_balloon *b, struct tb_guest_regs *r)
{
	r->gen = tb_rd(b, TB_REG_GENERATION);
	r->target = tb_rd(b, TB_REG_TARGET);
	r->max_reservation = tb_rd(b, TB_REG_MAX_RESERVATION);
	r->max_balloon = tb_rd(b, TB_REG_MAX_BALLOON);
}

static void tb_refresh(struct tb_balloon *b)
{
	struct tb_guest_regs r;
	unsigned int news;

	tb_read_regs(b, &r);
	news = tb_guest_refresh(&b->g, &r);
	if (news & TB_REFRESH_NEW)
		b->stats[TB_STAT_HOST_TARGETS]++;
	if (news & TB_REFRESH_ABSURD) {
		b->stats[TB_STAT_BAD_TARGETS]++;
		pr_warn_ratelimited(TB_MSG_ABSURD "\n", r.target, b->g.boot_pages);
	}
}

static u64 tb_deflate_for_pressure(struct tb_balloon *b, u64 pages,
				   enum tb_stat calls, enum tb_stat deflated);

/* One convergence pass.  Returns the delay before the next one, jiffies. */
static unsigned long tb_pass(struct tb_balloon *b)
{
	unsigned int poll = poll_ms ? poll_ms : tb_rd(b, TB_REG_POLL_MS);
	unsigned long idle = msecs_to_jiffies(tb_guest_poll_ms(poll));
	struct tb_guest_step st;

	b->stats[TB_STAT_PASSES]++;
	WRITE_ONCE(b->pressure_waiting, false);
	if (!tb_alive(b))
		return idle;
	tb_refresh(b);

	/*
	 * Below the floor without a task in direct reclaim (kswapd's
	 * pressure, or a workload that grew between two reclaims): give back
	 * as the shrinker would.
	 */
	if (deflate_on_pressure && !blocking_alloc) {
		u64 want = tb_guest_pressure_want(&b->g, si_mem_available(),
						  tb_balloon_pages(b));

		if (want)
			tb_deflate_for_pressure(b, want, TB_STAT_FLOOR_CALLS,
						TB_STAT_FLOOR_PAGES);
	}

	st = tb_guest_begin(&b->g, tb_current(b), jiffies, b->nr[TB_4K]);
	if (st.clip_msg) {
		b->stats[TB_STAT_CLIP_WARNINGS]++;
		pr_warn(TB_MSG_CLIP "\n", (size_t)b->g.asked, (size_t)b->g.target);
	}
	if (st.maxres_msg) {
		b->stats[TB_STAT_MAXRES_WARNINGS]++;
		pr_warn(TB_MSG_MAXRES "\n", (size_t)b->g.asked, (size_t)b->g.target);
	}
	/* Held off, the pass still comes each poll: below the floor it
	 * gives back (above). */
	if (st.held_off)
		return min_t(unsigned long, b->g.pressure_until - jiffies, idle);
	if (st.reached_msg)
		pr_info_ratelimited(TB_MSG_REACHED "\n", tb_kib(b->g.target),
				    tb_kib(tb_balloon_pages(b)));
	if (st.min_msg)
		tb_warn_unreached(b, b->g.asked);

	switch (st.pass.dir) {
	case TB_DIR_NONE:
		return idle;
	case TB_DIR_INFLATE:
		tb_inflate(b, &st.pass);
		break;
	case TB_DIR_DEFLATE:
		tb_deflate(b, &st.pass);
		break;
	}
	/* More to do: with the interrupt, requeue at once (the workqueue lets
	 * others run between); polling, at the next poll. */
	return msecs_to_jiffies(tb_guest_next_ms(&b->g, !use_irq, tb_guest_poll_ms(poll)));
}

static void tb_work_fn(struct work_struct *work)
{
	struct tb_balloon *b = container_of(to_delayed_work(work), struct tb_balloon, work);
	unsigned long delay;

	mutex_lock(&b->lock);
	if (b->removing) {
		mutex_unlock(&b->lock);
		return;
	}
	delay = tb_pass(b);
	if (!b->removing)
		queue_delayed_work(system_freezable_wq, &b->work, delay);
	mutex_unlock(&b->lock);
}

static void tb_kick(struct tb_balloon *b)
{
	if (!READ_ONCE(b->removing))
		mod_delayed_work(system_freezable_wq, &b->work, 0);
}

/*
 * Give the interrupt up for good (process context): free it, and undo the
 * handler's disable_irq_nosync() first when the device has let the line go
 * (IRQ_ENABLE reads 0, as it must), so a line shared with others works on.
 * A device that keeps it asserted leaves it disabled: better than a storm.
 */
static void tb_irq_release(struct tb_balloon *b)
{
	int irq = b->pdev->irq;

	mutex_lock(&b->irq_lock);
	if (b->irq_requested) {
		if (READ_ONCE(b->irq_storm)) {
			if (!b->gone && tb_rd(b, TB_REG_IRQ_ENABLE) == 0)
				enable_irq(irq);
			else
				pr_warn("irq %d stays disabled: the device does not let it go\n", irq);
		}
		free_irq(irq, b);
		b->irq_requested = false;
	}
	mutex_unlock(&b->irq_lock);
}

static void tb_irq_off_work(struct work_struct *work)
{
	struct tb_balloon *b = container_of(work, struct tb_balloon, irq_off_work);

	tb_irq_release(b);
	pr_warn("interrupt freed after a storm: polling only from now on\n");
}

/*
 * INTx, possibly shared: read and acknowledge, then let the work item do the
 * rest.  A device that keeps interrupting -- more than irq_storm_limit a
 * second, or more than irq_empty_limit target interrupts a second that
 * bring no new GENERATION -- is given up for polling: its interrupt is
 * disabled here at once (a level line that stays asserted would livelock
 * the CPU, and ignoring it would end in "irq N: nobody cared") and freed
 * from a work item.
 */
static irqreturn_t tb_irq(int irq, void *data)
{
	struct tb_balloon *b = data;
	bool news = false;
	u32 st, gen;

	if (b->irq_storm)
		return IRQ_NONE;
	st = tb_rd(b, TB_REG_IRQ_STATUS);
	if (st == ~0u)
		return IRQ_NONE;
	st &= TB_IRQ_ALL;
	if (!st)
		return IRQ_NONE;
	tb_wr(b, TB_REG_IRQ_ACK, st);
	atomic64_inc(&b->irqs);

	if (st & TB_IRQ_TARGET) {
		gen = tb_rd(b, TB_REG_GENERATION);
		news = gen != b->irq_gen;
		b->irq_gen = gen;
		if (!news)
			atomic64_inc(&b->irq_empty_total);
	}
	if (time_after(jiffies, b->irq_window + HZ)) {
		b->irq_window = jiffies;
		b->irq_count = 0;
		b->irq_empty = 0;
	}
	b->irq_count++;
	if ((st & TB_IRQ_TARGET) && !news)
		b->irq_empty++;
	if ((irq_storm_limit && b->irq_count > irq_storm_limit) ||
	    (irq_empty_limit && b->irq_empty > irq_empty_limit)) {
		b->irq_storm = true;
		tb_wr(b, TB_REG_IRQ_ENABLE, 0);
		disable_irq_nosync(irq);
		atomic64_inc(&b->irq_storms);
		pr_warn_ratelimited("interrupt storm (%u interrupts, %u without a new target, in under a second): polling only\n",
				    b->irq_count, b->irq_empty);
		schedule_work(&b->irq_off_work);
		tb_kick(b);
		return IRQ_HANDLED;
	}
	if (news)
		tb_kick(b);
	if ((st & TB_IRQ_STATS) && b->stats_page && !READ_ONCE(b->removing))
		mod_delayed_work(system_freezable_wq, &b->stats_work, 0);
	return IRQ_HANDLED;
}

/*
 * Give up to @pages back because the guest is short of memory (shrinker,
 * OOM notifier, a pass below the floor; caller holds @lock), counted
 * under @calls and @deflated, and hold inflation off for
 * pressure_holdoff_ms.  Returns pages freed.
 */
static u64 tb_deflate_for_pressure(struct tb_balloon *b, u64 pages,
				   enum tb_stat calls, enum tb_stat deflated)
{
	bool short_grant;
	u64 got;

	if (b->removing || b->gone)
		return 0;
	b->stats[calls]++;
	got = tb_deflate_pages(b, pages, TB_ORDER_4K, &short_grant);
	b->stats[deflated] += got;
	tb_guest_pressure(&b->g, got, pressure_holdoff_ms,
			  jiffies + msecs_to_jiffies(pressure_holdoff_ms));
	return got;
}

/* The shrinker's balloon (from 6.7 on the kernel allocates the shrinker). */
static struct tb_balloon *tb_of_shrinker(struct shrinker *s)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	return s->private_data;
#else
	return container_of(s, struct tb_balloon, shrinker_mem);
#endif
}

/*
 * Memory pressure: a task is stuck in direct reclaim.  While available
 * memory is below the floor, give back what brings it to floor + band
 * (tb_guest_pressure_want) and hold inflation off; at the floor or above,
 * reclaim has the guest's own memory to work on.  kswapd and
 * opportunistic (NORETRY) allocations, such as our own, do not count as
 * pressure.
 */
static unsigned long tb_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	struct tb_balloon *b = tb_of_shrinker(s);

	if (!deflate_on_pressure || blocking_alloc || READ_ONCE(b->gone))
		return 0;
	/* Unlocked: @floor and @band are set at probe, the count is a hint. */
	return tb_guest_pressure_want(&b->g, si_mem_available(), tb_balloon_pages(b));
}

static unsigned long tb_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	struct tb_balloon *b = tb_of_shrinker(s);
	u64 want, got;

	if (!deflate_on_pressure || blocking_alloc || current_is_kswapd() ||
	    (sc->gfp_mask & __GFP_NORETRY))
		return SHRINK_STOP;
	if (!mutex_trylock(&b->lock)) {
		/*
		 * A pass holds the lock, perhaps waiting on a slow device
		 * (reply-delay-ms up to cmd_timeout_ms a command): tell an
		 * inflate pass to stop, and have the next pass give back.
		 */
		if (tb_guest_pressure_want(&b->g, si_mem_available(), tb_balloon_pages(b))) {
			WRITE_ONCE(b->pressure_waiting, true);
			tb_kick(b);
		}
		return SHRINK_STOP;
	}
	/* The whole give-back at once, not nr_to_scan: it is bounded by the
	 * floor, and a later call in the same reclaim then finds none due. */
	want = tb_guest_pressure_want(&b->g, si_mem_available(), tb_balloon_pages(b));
	got = want ? tb_deflate_for_pressure(b, want, TB_STAT_SHRINKER_CALLS,
					     TB_STAT_SHRINKER_PAGES) : 0;
	mutex_unlock(&b->lock);
	return got ? got : SHRINK_STOP;
}

/*
 * The OOM notifier needs @lock, which an inflate pass holds while it
 * allocates: exactly when memory runs out.  Ask the pass to stop
 * (@oom_waiting) and wait for it a bounded time, never blocking: whoever
 * holds the lock might itself be the allocation that led here.
 */
#define TB_OOM_LOCK_WAIT_MS	200

static bool tb_lock_for_oom(struct tb_balloon *b)
{
	unsigned int waited;

	WRITE_ONCE(b->oom_waiting, true);
	for (waited = 0; !mutex_trylock(&b->lock); waited++) {
		if (waited >= TB_OOM_LOCK_WAIT_MS) {
			WRITE_ONCE(b->oom_waiting, false);
			return false;
		}
		msleep(1);
	}
	WRITE_ONCE(b->oom_waiting, false);
	return true;
}

/*
 * The last line of defence: the OOM killer is about to pick a victim.  The
 * shrinker may not have kept up (it is asked proportionally, and a fast
 * allocator outruns it), so give back oom_pages now; any page freed here
 * spares a process.
 */
static int tb_oom_notify(struct notifier_block *nb, unsigned long dummy, void *parm)
{
	struct tb_balloon *b = container_of(nb, struct tb_balloon, oom_nb);
	unsigned long *freed = parm;
	s64 before = atomic64_read(&b->given_back);

	if (!deflate_on_pressure || blocking_alloc)
		return NOTIFY_OK;
	if (!tb_lock_for_oom(b)) {
		/*
		 * A pass kept the lock, as it does for every command of a
		 * slow device; pages it gave back meanwhile (a deflate for
		 * the same pressure) spare a process just as well.
		 */
		*freed += atomic64_read(&b->given_back) - before;
		return NOTIFY_OK;
	}
	*freed += tb_deflate_for_pressure(b, oom_pages, TB_STAT_OOM_CALLS,
					  TB_STAT_OOM_PAGES);
	mutex_unlock(&b->lock);
	return NOTIFY_OK;
}

/* sysfs: current (RO), min (RW), max (RO), target (RW), all in KiB. */
static ssize_t tb_show(struct tb_balloon *b, const char *name, char *buf)
{
	/* Without @lock: each value is one aligned 64-bit word. */
	u64 v = tb_guest_show(&b->g, tb_guest_attr_lookup(name), tb_current(b));

	return sysfs_emit(buf, "%llu\n", tb_kib(v));
}

static ssize_t tb_store(struct tb_balloon *b, const char *name, const char *buf,
			size_t len)
{
	enum tb_guest_attr a = tb_guest_attr_lookup(name);
	enum tb_store_result res;
	u64 kib;
	int ret;

	ret = kstrtoull(buf, 0, &kib);
	if (ret)
		return ret;

	mutex_lock(&b->lock);
	res = tb_guest_store(&b->g, a, kib);
	if (res == TB_STORE_OK && a == TB_ATTR_TARGET)
		b->stats[TB_STAT_ADMIN_TARGETS]++;
	mutex_unlock(&b->lock);
	ret = res == TB_STORE_OK ? 0 : res == TB_STORE_EPERM ? -EPERM : -EACCES;
	if (ret)
		return ret;
	tb_kick(b);
	return len;
}

static ssize_t tb_kobj_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	ssize_t ret = -ENODEV;

	mutex_lock(&tb_the_lock);
	if (tb_the)
		ret = tb_show(tb_the, attr->attr.name, buf);
	mutex_unlock(&tb_the_lock);
	return ret;
}

static ssize_t tb_kobj_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t len)
{
	ssize_t ret = -ENODEV;

	mutex_lock(&tb_the_lock);
	if (tb_the)
		ret = tb_store(tb_the, attr->attr.name, buf, len);
	mutex_unlock(&tb_the_lock);
	return ret;
}

/* "current" is a kernel macro, so __ATTR() cannot name this one. */
static struct kobj_attribute tb_kattr_current = {
	.attr = { .name = "current", .mode = 0444 }, .show = tb_kobj_show,
};
static struct kobj_attribute tb_kattr_min = __ATTR(min, 0644, tb_kobj_show, tb_kobj_store);
static struct kobj_attribute tb_kattr_max = __ATTR(max, 0444, tb_kobj_show, NULL);
static struct kobj_attribute tb_kattr_target = __ATTR(target, 0644, tb_kobj_show, tb_kobj_store);
static struct kobj_attribute tb_kattr_floor = __ATTR(floor, 0444, tb_kobj_show, NULL);

static struct attribute *tb_kobj_attrs[] = {
	&tb_kattr_current.attr, &tb_kattr_min.attr, &tb_kattr_max.attr,
	&tb_kattr_target.attr, &tb_kattr_floor.attr, NULL,
};
static const struct attribute_group tb_kobj_group = { .attrs = tb_kobj_attrs };

static ssize_t tb_dev_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return tb_show(dev_get_drvdata(dev), attr->attr.name, buf);
}

static ssize_t tb_dev_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t len)
{
	return tb_store(dev_get_drvdata(dev), attr->attr.name, buf, len);
}

static struct device_attribute tb_dattr_current = {
	.attr = { .name = "current", .mode = 0444 }, .show = tb_dev_show,
};
static struct device_attribute tb_dattr_min = __ATTR(min, 0644, tb_dev_show, tb_dev_store);
static struct device_attribute tb_dattr_max = __ATTR(max, 0444, tb_dev_show, NULL);
static struct device_attribute tb_dattr_target = __ATTR(target, 0644, tb_dev_show, tb_dev_store);
static struct device_attribute tb_dattr_floor = __ATTR(floor, 0444, tb_dev_show, NULL);

static struct attribute *tb_dev_attrs[] = {
	&tb_dattr_current.attr, &tb_dattr_min.attr, &tb_dattr_max.attr,
	&tb_dattr_target.attr, &tb_dattr_floor.attr, NULL,
};
static const struct attribute_group tb_dev_group = { .attrs = tb_dev_attrs };

/* debugfs stats: fixed-width "name: value" lines; page counts are 4 KiB pages. */
static void tb_stat_line(struct seq_file *f, const char *name, u64 v)
{
	seq_printf(f, "%-22s: %16llu\n", name, v);
}

static int tb_stats_show(struct seq_file *f, void *offset)
{
	struct tb_balloon *b = f->private;
	char name[40];
	int i;

	mutex_lock(&b->lock);
	tb_stat_line(f, "target pages", b->g.target);
	tb_stat_line(f, "current pages", tb_current(b));
	tb_stat_line(f, "min pages", b->g.min);
	tb_stat_line(f, "max pages", b->g.max_res);
	tb_stat_line(f, "safeguard pages", b->g.safeguard);
	tb_stat_line(f, "floor pages", b->g.floor);
	tb_stat_line(f, "band pages", b->g.band);
	tb_stat_line(f, "inflate floor pages", tb_guest_inflate_floor(&b->g));
	tb_stat_line(f, "available pages", si_mem_available());
	tb_stat_line(f, "boot pages", b->g.boot_pages);
	tb_stat_line(f, "device boot pages", b->dev_boot_pages);
	tb_stat_line(f, "max balloon pages", b->g.max_balloon);
	tb_stat_line(f, "balloon pages", tb_balloon_pages(b));
	tb_stat_line(f, "balloon 2m entries", b->nr[TB_2M]);
	tb_stat_line(f, "balloon 4k entries", b->nr[TB_4K]);
	tb_stat_line(f, "device balloon pages", b->gone ? 0 : tb_rd(b, TB_REG_BALLOON_PAGES));
	tb_stat_line(f, "stats reports", atomic64_read(&b->stats_reports));
	tb_stat_line(f, "rate pages", b->g.pol.rate);
	tb_stat_line(f, "deflate rate pages", b->g.pol.deflate_rate);
	tb_stat_line(f, "slow passes", b->g.pol.slow_passes);
	tb_stat_line(f, "backoff ms", b->g.pol.backoff_ms);
	tb_stat_line(f, "order", b->g.pol.order);
	tb_stat_line(f, "fallbacks 4k", b->g.pol.fallbacks);
	tb_stat_line(f, "policy backoffs", b->g.pol.backoffs);
	for (i = 0; i < TB_CMD_NR; i++) {
		snprintf(name, sizeof(name), "%s ops", tb_cmd_names[i]);
		tb_stat_line(f, name, b->cmd_ops[i]);
		snprintf(name, sizeof(name), "%s fails", tb_cmd_names[i]);
		tb_stat_line(f, name, b->cmd_fails[i]);
	}
	for (i = TB_ST_OK + 1; i < TB_ST_NR; i++) {
		snprintf(name, sizeof(name), "refuse %s", tb_status_names[i]);
		tb_stat_line(f, name, b->refused[i]);
	}
	for (i = TB_ST_OK + 1; i < TB_ST_NR; i++) {
		snprintf(name, sizeof(name), "deny %s", tb_status_names[i]);
		tb_stat_line(f, name, b->denied[i]);
	}
	b->stats[TB_STAT_IRQS] = atomic64_read(&b->irqs);
	b->stats[TB_STAT_IRQ_STORMS] = atomic64_read(&b->irq_storms);
	b->stats[TB_STAT_IRQ_EMPTY] = atomic64_read(&b->irq_empty_total);
	for (i = 0; i < TB_STAT_NR; i++)
		tb_stat_line(f, tb_stat_names[i], b->stats[i]);
	mutex_unlock(&b->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tb_stats);

/*
 * Unload: give every page back and tell the host.  A host that does not
 * grant everything gets a few tries; clearing DRIVER_READY then empties the
 * device's balloon, so every page is the guest's again.
 */
static void tb_deflate_all(struct tb_balloon *b)
{
	u64 before = tb_balloon_pages(b), left;
	bool short_grant;
	int tries;

	for (tries = 0; tries < 10 && tb_balloon_pages(b) && tb_alive(b); tries++) {
		tb_deflate_pages(b, tb_balloon_pages(b), TB_ORDER_2M, &short_grant);
		if (short_grant && tb_balloon_pages(b))
			msleep(50);
	}
	left = tb_balloon_pages(b);
	if (!b->gone)
		tb_wr(b, TB_REG_DRIVER_STATUS, 0);
	tb_release_all_local(b);
	pr_info("unload: %llu pages returned to the guest (%llu not granted, released with DRIVER_STATUS=0)\n",
		before, left);
}

/* The shrinker is allocated by the kernel from 6.7 on, embedded before. */
static int tb_shrinker_add(struct tb_balloon *b)
{
	struct shrinker *s;
	int ret = 0;

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	s = shrinker_alloc(0, KBUILD_MODNAME);
	if (!s)
		return -ENOMEM;
	s->private_data = b;
#else
	s = &b->shrinker_mem;
#endif
	s->count_objects = tb_shrink_count;
	s->scan_objects = tb_shrink_scan;
	s->seeks = DEFAULT_SEEKS;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	shrinker_register(s);
#else
	ret = register_shrinker(s, KBUILD_MODNAME);
#endif
	if (!ret)
		b->shrinker = s;
	return ret;
}

static void tb_shrinker_del(struct tb_balloon *b)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	shrinker_free(b->shrinker);
#else
	unregister_shrinker(b->shrinker);
#endif
}

/*
 * Guest figures to the device, every STATS_INTERVAL_MS (TB_F_STATS).  The
 * figures are what the kernel keeps anyway, read without allocating:
 * si_meminfo, si_mem_available, the page cache, the vm event counters.
 * PSI is not sent: psi_system and psi_show() are not exported to modules
 * (6.1), and /proc/pressure/memory cannot be read with kernel_read() (its
 * proc_ops have no read_iter: -EINVAL).  The protocol has PSI's tags for
 * a driver that can read it.
 */
#define TB_STATS_MIN_MS		100	/* the most often a report goes */
#define TB_STATS_IDLE_MS	1000	/* STATS_INTERVAL_MS 0: look again */

static void tb_stats_send(struct tb_balloon *b)
{
	void *page = b->stats_page;
	struct sysinfo si;
	unsigned int n = 0;

	si_meminfo(&si);
	tb_gstats_put(page, n++, TB_GS_FREE, (u64)si.freeram * si.mem_unit);
	tb_gstats_put(page, n++, TB_GS_TOTAL, (u64)si.totalram * si.mem_unit);
	tb_gstats_put(page, n++, TB_GS_AVAILABLE, (u64)si_mem_available() << PAGE_SHIFT);
	tb_gstats_put(page, n++, TB_GS_CACHE,
		      (u64)global_node_page_state(NR_FILE_PAGES) << PAGE_SHIFT);
#ifdef CONFIG_VM_EVENT_COUNTERS
	{
		unsigned long *ev = b->vm_ev;
		u64 stalls = 0;
		int z;

		all_vm_events(ev);
		/* ALLOCSTALL_* follow the zones, as the kernel counts them */
		for (z = 0; z < MAX_NR_ZONES; z++)
			stalls += ev[ALLOCSTALL_NORMAL - ZONE_NORMAL + z];
		tb_gstats_put(page, n++, TB_GS_MAJOR_FAULTS, ev[PGMAJFAULT]);
		tb_gstats_put(page, n++, TB_GS_MINOR_FAULTS, ev[PGFAULT] - ev[PGMAJFAULT]);
		tb_gstats_put(page, n++, TB_GS_OOM_KILLS, ev[OOM_KILL]);
		tb_gstats_put(page, n++, TB_GS_ALLOC_STALLS, stalls);
		tb_gstats_put(page, n++, TB_GS_SWAP_IN, (u64)ev[PSWPIN] << PAGE_SHIFT);
		tb_gstats_put(page, n++, TB_GS_SWAP_OUT, (u64)ev[PSWPOUT] << PAGE_SHIFT);
	}
#endif
	tb_gstats_put_hdr(page, n, ++b->stats_seq);
	wmb();		/* the page before the doorbell */
	tb_wr(b, TB_REG_STATS_REPORT, (u32)(b->stats_dma >> PAGE_SHIFT));
	atomic64_inc(&b->stats_reports);
}

static void tb_stats_fn(struct work_struct *work)
{
	struct tb_balloon *b = container_of(to_delayed_work(work), struct tb_balloon,
					    stats_work);
	unsigned int ms;

	if (READ_ONCE(b->removing) || READ_ONCE(b->gone))
		return;
	ms = tb_rd(b, TB_REG_STATS_INTERVAL_MS);
	if (ms == U32_MAX)	/* what a removed device reads */
		ms = 0;
	if (ms && stats_report)
		tb_stats_send(b);
	ms = ms && stats_report ? max_t(unsigned int, ms, TB_STATS_MIN_MS) :
	     TB_STATS_IDLE_MS;
	if (!READ_ONCE(b->removing))
		queue_delayed_work(system_freezable_wq, &b->stats_work, msecs_to_jiffies(ms));
}

static int tb_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct tb_policy_params pp;
	struct tb_floor_params fp;
	struct tb_guest_regs r;
	struct tb_balloon *b;
	u32 magic, version;
	int ret, s;

	BUILD_BUG_ON(PAGE_SHIFT != TB_PAGE_SHIFT);
	BUILD_BUG_ON(sizeof(struct tb_entry) != 16);

	mutex_lock(&tb_the_lock);
	ret = tb_the ? -EBUSY : 0;
	mutex_unlock(&tb_the_lock);
	if (ret) {
		dev_err(&pdev->dev, "only one tb-balloon device is supported\n");
		return ret;
	}

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto err_disable;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b) {
		ret = -ENOMEM;
		goto err_regions;
	}
	b->pdev = pdev;
	mutex_init(&b->lock);
	mutex_init(&b->irq_lock);
	INIT_DELAYED_WORK(&b->work, tb_work_fn);
	INIT_DELAYED_WORK(&b->stats_work, tb_stats_fn);
	INIT_WORK(&b->irq_off_work, tb_irq_off_work);
	for (s = 0; s < TB_NR_SIZES; s++)
		INIT_LIST_HEAD(&b->pages[s]);

	b->regs = pci_iomap(pdev, 0, TB_BAR0_SIZE);
	if (!b->regs) {
		ret = -ENOMEM;
		goto err_free;
	}
	magic = tb_rd(b, TB_REG_MAGIC);
	version = tb_rd(b, TB_REG_VERSION);
	if (magic != TB_MAGIC || version != TB_VERSION) {
		dev_err(&pdev->dev, "not a tb-balloon v%u: magic 0x%08x version %u\n",
			TB_VERSION, magic, version);
		ret = -ENODEV;
		goto err_unmap;
	}
	b->features = tb_rd(b, TB_REG_FEATURES);
	b->dev_boot_pages = tb_rd(b, TB_REG_BOOT_PAGES);
	if (!b->dev_boot_pages || b->dev_boot_pages == U32_MAX) {
		dev_err(&pdev->dev, "device reports %llu boot pages\n", b->dev_boot_pages);
		ret = -ENODEV;
		goto err_unmap;
	}
	/* The device's word against the memory the guest found itself. */
	{
		bool over;

		b->g.boot_pages = tb_guest_boot_pages(b->dev_boot_pages, get_num_physpages(),
						      &over);
		if (over) {
			b->stats[TB_STAT_BOOT_CLAMPED]++;
			dev_warn(&pdev->dev, TB_MSG_BOOT_CLAMP " (totalram %lu)\n",
				 b->dev_boot_pages, (unsigned long long)get_num_physpages(),
				 b->g.boot_pages, totalram_pages());
		}
	}

	/* Bus mastering only once DMA can be set up; undone on any error. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(&pdev->dev, "no 64-bit DMA: %d\n", ret);
		goto err_unmap;
	}
	pci_set_master(pdev);
	b->batch = dma_alloc_coherent(&pdev->dev, TB_BATCH_ALLOC, &b->batch_dma, GFP_KERNEL);
	b->shadow = kcalloc(TB_BATCH_MAX, sizeof(*b->shadow), GFP_KERNEL);
	b->shadow_order = kcalloc(TB_BATCH_MAX, sizeof(*b->shadow_order), GFP_KERNEL);
	if (!b->batch || !b->shadow || !b->shadow_order) {
		ret = -ENOMEM;
		goto err_batch;
	}
	/* The stats page: one page, its pfn must fit STATS_REPORT. */
	if (b->features & TB_F_STATS) {
		b->stats_page = dma_alloc_coherent(&pdev->dev, PAGE_SIZE, &b->stats_dma,
						   GFP_KERNEL);
		if (b->stats_page && (b->stats_dma >> PAGE_SHIFT) > U32_MAX) {
			dma_free_coherent(&pdev->dev, PAGE_SIZE, b->stats_page, b->stats_dma);
			b->stats_page = NULL;
		}
		if (!b->stats_page)
			dev_warn(&pdev->dev, "no stats page: guest figures not reported\n");
	}

	/* A reloaded driver starts from an empty balloon: RESET first. */
	tb_wr(b, TB_REG_IRQ_ENABLE, 0);
	tb_wr(b, TB_REG_BATCH_ADDR_LO, lower_32_bits(b->batch_dma));
	tb_wr(b, TB_REG_BATCH_ADDR_HI, upper_32_bits(b->batch_dma));
	tb_wr(b, TB_REG_DRIVER_STATUS, TB_DRIVER_READY);
	ret = tb_cmd(b, TB_CMD_RESET, 0, NULL);
	if (ret) {
		dev_err(&pdev->dev, "reset command failed: %d\n", ret);
		goto err_ready;
	}

	/* Module parameters of 0 mean the policy's defaults. */
	pp = (struct tb_policy_params){
		.batch = batch, .rate_min = rate_min, .rate_max = rate_max,
		.rate_inc = rate_inc,
		.backoff_min_ms = backoff_min_ms, .backoff_max_ms = backoff_max_ms,
		.upgrade_after = upgrade_after,
		.use_2m = use_2m && (b->features & TB_F_PAGE_2M),
		.no_fallback = !fallback_4k,
	};
	fp = (struct tb_floor_params){
		.min_free = tb_min_wmark_pages(), .min_margin = min_margin,
		.floor = floor_pages, .band = band_pages, .none = blocking_alloc,
	};
	tb_guest_init(&b->g, &pp, b->g.boot_pages, &fp);
	b->g.warn_at_min = true;
	tb_read_regs(b, &r);
	tb_guest_probe(&b->g, &r);
	pci_set_drvdata(pdev, b);

	pr_info(TB_MSG_PROBE "\n", pci_name(pdev), magic, version, b->features,
		b->g.boot_pages, b->g.host_target,
		(unsigned long long)tb_rd(b, TB_REG_MAX_RESERVATION),
		(unsigned long long)tb_rd(b, TB_REG_MAX_BALLOON), tb_rd(b, TB_REG_POLL_MS));

	ret = sysfs_create_group(&pdev->dev.kobj, &tb_dev_group);
	if (ret)
		goto err_ready;
	b->kobj = kobject_create_and_add(KBUILD_MODNAME, kernel_kobj);
	if (!b->kobj) {
		ret = -ENOMEM;
		goto err_devgroup;
	}
	ret = sysfs_create_group(b->kobj, &tb_kobj_group);
	if (ret)
		goto err_kobj;

	ret = tb_shrinker_add(b);
	if (ret)
		goto err_kobj;
	b->shrinker_registered = true;

	b->oom_nb.notifier_call = tb_oom_notify;
	ret = register_oom_notifier(&b->oom_nb);
	if (ret)
		goto err_shrinker;

	if (use_irq) {
		ret = request_irq(pdev->irq, tb_irq, IRQF_SHARED, KBUILD_MODNAME, b);
		if (ret) {
			dev_err(&pdev->dev, "irq %d: %d\n", pdev->irq, ret);
			goto err_oom;
		}
		b->irq_requested = true;
		b->irq_gen = b->g.host_gen;
		b->irq_window = jiffies;
		tb_wr(b, TB_REG_IRQ_ENABLE,
		      TB_IRQ_TARGET | (b->stats_page ? TB_IRQ_STATS : 0));
	}

	/* debugfs is best effort: no error checking, as the API wants. */
	b->dbg = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0444, b->dbg, b, &tb_stats_fops);

	mutex_lock(&tb_the_lock);
	tb_the = b;
	mutex_unlock(&tb_the_lock);

	pr_info(TB_MSG_READY "\n", tb_kib(b->g.floor), tb_kib(b->g.band),
		tb_kib(b->g.min), tb_kib(b->g.max_res),
		tb_kib(b->g.safeguard), tb_kib(b->g.target), b->g.pol.p.batch,
		use_irq ? "on" : "off", (b->features & TB_F_DISCARD) ? "on" : "off",
		b->g.pol.p.use_2m ? "on" : "off", blocking_alloc);
	queue_delayed_work(system_freezable_wq, &b->work, 0);
	if (b->stats_page)
		queue_delayed_work(system_freezable_wq, &b->stats_work, 0);
	return 0;

err_oom:
	unregister_oom_notifier(&b->oom_nb);
err_shrinker:
	tb_shrinker_del(b);
err_kobj:
	kobject_put(b->kobj);
err_devgroup:
	sysfs_remove_group(&pdev->dev.kobj, &tb_dev_group);
err_ready:
	tb_wr(b, TB_REG_DRIVER_STATUS, 0);
err_batch:
	if (b->stats_page)
		dma_free_coherent(&pdev->dev, PAGE_SIZE, b->stats_page, b->stats_dma);
	kfree(b->shadow_order);
	kfree(b->shadow);
	if (b->batch)
		dma_free_coherent(&pdev->dev, TB_BATCH_ALLOC, b->batch, b->batch_dma);
	pci_clear_master(pdev);
err_unmap:
	pci_iounmap(pdev, b->regs);
err_free:
	kfree(b);
err_regions:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void tb_remove(struct pci_dev *pdev)
{
	struct tb_balloon *b = pci_get_drvdata(pdev);

	mutex_lock(&tb_the_lock);
	tb_the = NULL;
	mutex_unlock(&tb_the_lock);
	debugfs_remove_recursive(b->dbg);
	kobject_put(b->kobj);
	sysfs_remove_group(&pdev->dev.kobj, &tb_dev_group);

	WRITE_ONCE(b->removing, true);
	if (!b->gone)
		tb_wr(b, TB_REG_IRQ_ENABLE, 0);
	/* After free_irq no handler runs, so none can queue irq_off_work. */
	tb_irq_release(b);
	cancel_work_sync(&b->irq_off_work);
	cancel_delayed_work_sync(&b->work);
	cancel_delayed_work_sync(&b->stats_work);
	unregister_oom_notifier(&b->oom_nb);
	tb_shrinker_del(b);

	mutex_lock(&b->lock);
	tb_deflate_all(b);
	mutex_unlock(&b->lock);

	kfree(b->shadow_order);
	kfree(b->shadow);
	if (b->stats_page)
		dma_free_coherent(&pdev->dev, PAGE_SIZE, b->stats_page, b->stats_dma);
	dma_free_coherent(&pdev->dev, TB_BATCH_ALLOC, b->batch, b->batch_dma);
	pci_clear_master(pdev);
	pci_iounmap(pdev, b->regs);
	kfree(b);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id tb_ids[] = {
	{ PCI_DEVICE(TB_PCI_VENDOR_ID, TB_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, tb_ids);

static struct pci_driver tb_driver = {
	.name = KBUILD_MODNAME,
	.id_table = tb_ids,
	.probe = tb_probe,
	.remove = tb_remove,
};
module_pci_driver(tb_driver);

MODULE_DESCRIPTION("balloon-testbed tb-balloon guest driver");
/* The tree it was built from, "-dirty" when its sources had changes. */
MODULE_VERSION(TB_BUILD_ID);
MODULE_LICENSE("GPL");
