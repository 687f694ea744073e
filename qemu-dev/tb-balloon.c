// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb-balloon: balloon-testbed's memory balloon device (the hypervisor side).
 *
 * The register map, commands and statuses are core/tb_proto.h; the prose
 * spec is tb-balloon.txt beside this file.  As virtio-balloon, the device
 * carries no policy: the host sets a target (QMP/HMP "balloon", qom-set
 * "target") and limits (properties), the guest driver moves pages with
 * INFLATE/DEFLATE batches, and the decisions on each entry are made by
 * core/tb_host.c, shared with the simulator.  The device does the memory
 * side: it finds the entries in guest RAM and discards accepted pages.
 *
 * Units: registers count 4 KiB pages; properties and QMP take bytes.
 * Entries name guest-physical pfns; the balloon bitmap is indexed by the
 * page's offset in the machine's main RAM (machine->ram), which is
 * contiguous even where x86 splits guest-physical RAM around the PCI hole.
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/host-utils.h"
#include "qemu/log.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/thread.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qapi/qapi-events-machine.h"
#include "qom/object.h"
#include "exec/memory.h"
#include "exec/cpu-common.h"
#include "exec/address-spaces.h"
#include "hw/boards.h"
#include "hw/pci/pci.h"
#include "migration/vmstate.h"
#include "migration/misc.h"
#include "sysemu/balloon.h"
#include "trace.h"
#include <sys/syscall.h>
#include <sys/uio.h>

#define TB_IN_QEMU 1
#include "tb_batch.h"
#include "tb_batchlog.h"
#include "tb_gstats.h"
#include "tb_knobs.h"

#define TYPE_TB_BALLOON "tb-balloon"
typedef struct TBBalloonState TBBalloonState;
DECLARE_INSTANCE_CHECKER(TBBalloonState, TB_BALLOON, TYPE_TB_BALLOON)

#define TB_UNSET                UINT64_MAX   /* property left at its default */
#define TB_ENTRY_SIZE           16           /* sizeof(struct tb_entry) */
#define TB_HOSTILE_STATUS       0xee         /* hostile-bad-status garbage */
#define TB_HOSTILE_EXTRA        8            /* hostile-overgrant extras */
#define TB_HOSTILE_OVERCOUNT    7            /* CMD_DONE = BATCH_COUNT + 7 */

QEMU_BUILD_BUG_ON(sizeof(struct tb_entry) != TB_ENTRY_SIZE);

/*
 * Accepted pages are discarded by a worker thread ("tb-discard"), off the
 * vCPU that sent the inflate, which meanwhile goes on to the guest's next
 * batch: the guest's allocation and the host's discard overlap.  Each
 * batch hands its ranges over when its decisions are made (adjacent
 * pages as one range); the worker frees them on private anonymous RAM
 * with one process_madvise(MADV_DONTNEED) for many ranges where the host
 * kernel takes it for the calling process (one TLB flush for them all),
 * otherwise range by range with ram_block_discard_range.  At most
 * TB_DISCARD_QUEUE ranges and TB_DISCARD_QUEUE_BYTES wait: a batch past
 * that waits for room.  Whatever gives pages back to the guest or reports
 * on them (DEFLATE, RESET, an emptied balloon, the stats, migration)
 * waits for the queue to drain first (tb_discard_drain), so a page the
 * guest gets back is always discarded before and never after.
 * discard-worker=off is the path before the worker: each accepted entry
 * is discarded on the vCPU, during its batch, by ram_block_discard_range
 * (one madvise an entry), and each entry's address is looked up alone
 * (no window).  The switch is read per batch, so qom-set takes effect at
 * the next command; ranges already queued are still the worker's.
 */
#define TB_DISCARD_QUEUE        (2 * TB_BATCH_MAX)
#define TB_DISCARD_QUEUE_BYTES  (256 * MiB)

typedef struct TBDiscardRange {
    RAMBlock *rb;
    uint64_t offset;                         /* in rb */
    uint64_t len;
} TBDiscardRange;

/* Counters behind the "stats" property; all migrate. */
typedef struct TBBalloonStats {
    uint64_t cmds[TB_CMD_NR + 1];            /* by command; last: unknown */
    uint64_t results[TB_CMD_RESULT_NR];      /* by command result */
    uint64_t inflated_pages;                 /* accepted by inflates */
    uint64_t deflated_pages;                 /* granted by deflates */
    uint64_t reset_pages;                    /* given back by resets */
    uint64_t partial_grants;                 /* deflates with any ERR_POOL */
    uint64_t pages_short;                    /* pages refused with ERR_POOL */
    uint64_t discarded_pages;                /* freed on the host */
    uint64_t discard_failures;               /* ram_block_discard_range < 0 */
    uint64_t guest_errors;                   /* LOG_GUEST_ERROR events */
    uint64_t held_off_pages;                 /* accepted while discard was
                                              * held off (not migrated) */
    uint64_t discard_ranges;                 /* ranges freed or tried: an
                                              * entry each with
                                              * discard-worker=off (not
                                              * migrated) */
    /* What the hostile settings did (stats.hostile.*); not migrated. */
    uint64_t overgrants;                     /* CMD_DONE inflated */
    uint64_t extra_statuses;                 /* OK written past COUNT */
    uint64_t bad_statuses;                   /* garbage statuses written */
    uint64_t target_flaps;                   /* flap-ms target toggles */
    uint64_t storm_irqs;                     /* irq-storm re-assertions */
    uint64_t kept_pages;                     /* accepted, not discarded */
    uint64_t bad_magic_reads;                /* MAGIC read as ~0 */
} TBBalloonStats;

struct TBBalloonState {
    PCIDevice pdev;
    MemoryRegion mmio;
    QEMUTimer reply_timer;                   /* reply-delay-ms completions */

    /* Host settings (properties); sizes in bytes. */
    uint64_t target;                         /* target reservation */
    uint64_t max_reservation;                /* TB_UNSET: RAM */
    uint64_t max_balloon;                    /* TB_UNSET: 65% of RAM */
    uint32_t poll_ms;
    uint32_t refuse_every;
    bool refuse_all;
    uint32_t reply_delay_ms;
    bool discard;
    bool discard_worker;                     /* off: discard on the vCPU */
    bool page_2m;
    bool enforce_max_balloon;                /* off: MAX_BALLOON is advice */

    /*
     * Hostile settings: a device that lies to the driver, so the driver's
     * defences can be tested.  The host's own accounting stays truthful.
     */
    bool hostile_overgrant;                  /* CMD_DONE and statuses lie */
    bool hostile_bad_status;                 /* garbage entry statuses */
    bool hostile_keep_data;                  /* TB_F_DISCARD, no discard */
    bool irq_storm;                          /* TARGET back after each ACK */
    uint32_t flap_ms;                        /* target toggle period, 0 off */
    QEMUTimer flap_timer;
    uint64_t flap_base;                      /* the target the host set */
    bool flap_high;                          /* target is RAM, not base */
    uint64_t hostile_boot_pages;             /* BOOT_PAGES says this, bytes */
    uint32_t hostile_bad_magic;              /* MAGIC reads left to garble */
    bool hostile_forget_on_load;             /* post_load drops the balloon */

    /* The balloon: decisions and bitmap live in core/tb_host.c. */
    struct tb_host_config cfg;
    struct tb_host_state host;
    uint32_t map_words;                      /* host.map length, for vmstate */
    uint64_t ram_size;                       /* machine->ram, bytes */

    /* Registers (TB_REG_*) that are state, not derived. */
    uint32_t driver_status;                  /* TB_DRIVER_* */
    uint32_t batch_addr_lo;
    uint32_t batch_addr_hi;
    uint32_t batch_count;
    uint32_t cmd_status;                     /* TB_CMD_BUSY | result */
    uint32_t cmd_done;                       /* entries OK by last command */
    uint32_t irq_status;                     /* TB_IRQ_* pending */
    uint32_t irq_enable;                     /* TB_IRQ_* enabled */
    uint32_t generation;                     /* bumped on each target set */

    /* A command waiting for reply_timer (CMD_STATUS has TB_CMD_BUSY). */
    uint32_t pending_cmd;
    uint64_t pending_addr;
    uint32_t pending_count;

    TBBalloonStats stats;
    struct tb_entry batch[TB_BATCH_MAX];     /* scratch copy of a batch */
    TBDiscardRange discards[TB_BATCH_MAX];   /* this batch's, coalesced */
    uint32_t n_discards;
    /* Where the batch buffer itself is in guest RAM, and whether this
     * command discards it (a hostile guest ballooning its own batch). */
    RAMBlock *batch_rb;
    uint64_t batch_off, batch_len;
    bool batch_hit;

    /* The discard worker; dq_* under dq_lock. */
    QemuThread dq_thread;
    QemuMutex dq_lock;
    QemuCond dq_work;                        /* ranges queued, or stop */
    QemuCond dq_idle;                        /* the worker took or did some */
    TBDiscardRange dq[TB_DISCARD_QUEUE];     /* ring */
    uint32_t dq_head, dq_count;
    uint64_t dq_bytes;                       /* queued */
    bool dq_busy;                            /* worker holds ranges */
    bool dq_stop, dq_started;
    uint64_t dq_discarded, dq_failures, dq_ranges;  /* not yet in stats */
    int self_pidfd;                          /* worker's; -1: no vector */
    TBDiscardRange dq_work_set[TB_DISCARD_QUEUE];   /* worker's own */
    /* tb_gpa_to_ram's window of RAM, this batch only (win_len 0: none) */
    uint64_t win_gpa, win_len, win_ram;

    /* "batch-log": commands and target changes; not migrated. */
    struct tb_batchlog *blog;                /* from realize on */
    uint32_t batch_log_from;                 /* what batch-log returns */

    /* "guest-stats": the guest's last report (TB_F_STATS); not migrated. */
    uint32_t stats_interval_ms;              /* STATS_INTERVAL_MS, 0 off */
    struct tb_gstats gstats;                 /* the last report decoded */
    int64_t gstats_ns;                       /* when (virtual), 0: never */
    int64_t gstats_wall;                     /* when (host s, as virtio) */
    uint64_t gs_reports, gs_bad, gs_skipped, gs_truncated;
    uint8_t gs_page[TB_STATS_READ_SIZE];     /* scratch copy of the page */
};

/* Helpers */

static uint32_t tb_pages32(uint64_t bytes)
{
    return MIN(bytes >> TB_PAGE_SHIFT, UINT32_MAX);
}

static bool tb_realized(TBBalloonState *s)
{
    return DEVICE(s)->realized;
}

static uint64_t tb_max_balloon_bytes(TBBalloonState *s)
{
    if (s->max_balloon != TB_UNSET) {
        return s->max_balloon;
    }
    return s->ram_size / 100 * TB_MAX_BALLOON_PCT;
}

static uint64_t tb_max_reservation_bytes(TBBalloonState *s)
{
    return s->max_reservation != TB_UNSET ? s->max_reservation : s->ram_size;
}

static bool tb_can_discard(TBBalloonState *s)
{
    return s->discard && !ram_block_discard_is_disabled();
}

/*
 * While a postcopy migration comes in (a page discarded now would be
 * fetched from the source again, or a later-arriving page lost) or a
 * background snapshot runs (it write-protects RAM with userfaultfd and
 * saves each page as it was: a discard under it loses the snapshot's
 * copy), accepted pages are kept, as virtio-balloon does.  Only the host
 * memory is not returned; the balloon's accounting is the same.
 */
static bool tb_discard_held_off(void)
{
    return migration_in_incoming_postcopy() || migration_in_bg_snapshot();
}

static uint32_t tb_features(TBBalloonState *s)
{
    uint32_t f = TB_F_CMD_IRQ | TB_F_STATS;

    if (tb_can_discard(s) || s->hostile_keep_data) {
        f |= TB_F_DISCARD;
    }
    if (s->page_2m) {
        f |= TB_F_PAGE_2M;
    }
    return f;
}

/* Host settings -> the page-based config core/tb_host.c decides with. */
static void tb_sync_cfg(TBBalloonState *s)
{
    s->cfg.ram_pages = s->ram_size >> TB_PAGE_SHIFT;
    s->cfg.max_reservation = tb_max_reservation_bytes(s) >> TB_PAGE_SHIFT;
    s->cfg.max_balloon = tb_max_balloon_bytes(s) >> TB_PAGE_SHIFT;
    s->cfg.refuse_every = s->refuse_every;
    s->cfg.refuse_all = s->refuse_all;
    s->cfg.page_2m = s->page_2m;
    s->cfg.max_balloon_advisory = !s->enforce_max_balloon;
}

static uint64_t tb_actual_bytes(TBBalloonState *s)
{
    return s->ram_size - (s->host.balloon_pages << TB_PAGE_SHIFT);
}

static void tb_update_irq(TBBalloonState *s)
{
    int level = (s->irq_status & s->irq_enable) != 0;

    trace_tb_balloon_irq(s->irq_status, s->irq_enable, level);
    pci_set_irq(&s->pdev, level);
}

static void tb_raise(TBBalloonState *s, uint32_t bits)
{
    s->irq_status |= bits;
    tb_update_irq(s);
}

static void G_GNUC_PRINTF(2, 3) tb_guest_error(TBBalloonState *s,
                                                const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qemu_log_mask(LOG_GUEST_ERROR, "%s: %s\n", TYPE_TB_BALLOON, msg);
    g_free(msg);
    s->stats.guest_errors++;
}

/* batch-log: every record on QEMU_CLOCK_VIRTUAL, the balloon after it. */
static void tb_log_target(TBBalloonState *s)
{
    if (s->blog) {
        tb_batchlog_target(s->blog, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL),
                           s->target >> TB_PAGE_SHIFT, s->host.balloon_pages);
    }
}

static void tb_log_cmd(TBBalloonState *s, enum tb_cmd cmd,
                       enum tb_cmd_result r, uint32_t count)
{
    if (s->blog) {
        tb_batchlog_cmd(s->blog, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL), cmd,
                        r, r == TB_CMD_OK ? s->batch : NULL, count,
                        s->host.balloon_pages, s->target >> TB_PAGE_SHIFT);
    }
}

/* The host sets a new target reservation (bytes). */
static void tb_set_target(TBBalloonState *s, uint64_t bytes)
{
    s->target = bytes;
    s->flap_base = bytes;
    s->flap_high = false;
    if (!tb_realized(s)) {
        return;
    }
    tb_log_target(s);
    s->generation++;
    trace_tb_balloon_target(bytes, tb_pages32(bytes), s->generation);
    tb_raise(s, TB_IRQ_TARGET);
}

/* flap-ms: the target toggles between the host's and boot RAM. */
static void tb_flap_arm(TBBalloonState *s)
{
    timer_mod(&s->flap_timer,
              qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + s->flap_ms);
}

static void tb_flap_timer(void *opaque)
{
    TBBalloonState *s = opaque;

    if (!s->flap_ms) {
        return;
    }
    s->flap_high = !s->flap_high;
    s->target = s->flap_high ? s->ram_size : s->flap_base;
    tb_log_target(s);
    s->generation++;
    s->stats.target_flaps++;
    trace_tb_balloon_hostile_flap(s->target, s->generation);
    tb_raise(s, TB_IRQ_TARGET);
    tb_flap_arm(s);
}

static void tb_balloon_changed(TBBalloonState *s, uint64_t old_pages)
{
    if (s->host.balloon_pages != old_pages) {
        qapi_event_send_balloon_change(tb_actual_bytes(s));
    }
}

/*
 * Empty the balloon: driver reset or unload, system reset.  batch-log
 * records it when it emptied something or when it was a RESET command
 * (@cmd): a reset at boot is not news.
 */
static void tb_discard_drain(TBBalloonState *s);
static void tb_discard_flush(TBBalloonState *s);

static void tb_empty(TBBalloonState *s, bool cmd)
{
    uint64_t old = s->host.balloon_pages;

    tb_discard_drain(s);        /* every page is the guest's again */

    tb_host_reset(&s->host);
    s->stats.reset_pages += old;
    trace_tb_balloon_reset(old);
    if (s->blog && (old || cmd)) {
        tb_batchlog_reset(s->blog, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL),
                          s->host.balloon_pages, s->target >> TB_PAGE_SHIFT);
    }
    tb_balloon_changed(s, old);
}

/*
 * tb_batch_ops.gpa_to_ram: is all of [gpa, gpa + len) the machine's main
 * RAM, and where in it?  memory_region_find resolves the aliases x86 maps
 * RAM through (below and above the PCI hole).  machine->ram is one RAM
 * region, or, when NUMA nodes have memory backends (-numa node,memdev=,
 * what libvirt's <numa> cells make), a container holding each node's
 * backend region at the node's offset: the leaf found is then a backend,
 * and its offsets up to machine->ram add up to the RAM offset.
 */
static bool tb_gpa_lookup(void *opaque, uint64_t gpa, uint64_t len,
                          uint64_t *ram_offset)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    MemoryRegionSection sec;
    MemoryRegion *mr;
    uint64_t off;
    bool ok;

    sec = memory_region_find(get_system_memory(), gpa, len);
    if (!sec.mr) {
        return false;
    }
    off = sec.offset_within_region;
    for (mr = sec.mr; mr && mr != ms->ram; mr = mr->container) {
        off += mr->addr;
    }
    ok = mr == ms->ram && memory_region_is_ram(sec.mr) &&
         int128_get64(sec.size) == len;
    *ram_offset = off;
    memory_region_unref(sec.mr);
    return ok;
}

/*
 * tb_batch_ops.gpa_to_ram, as tb_gpa_lookup, with the last window of RAM
 * found kept for the rest of the batch: a batch of 4 KiB entries costs
 * one memory_region_find per window instead of one per entry.  A batch
 * runs under the BQL, so the memory map cannot change during it
 * (tb_do_batch forgets the window before each batch).  Windows of 1 GiB,
 * 64 MiB or 2 MiB around the entry, the first that is all RAM.
 * discard-worker=off: one lookup per entry, as before the window.
 */
static bool tb_gpa_to_ram(void *opaque, uint64_t gpa, uint64_t len,
                          uint64_t *ram_offset)
{
    static const uint64_t windows[] = { 1 * GiB, 64 * MiB, 2 * MiB };
    TBBalloonState *s = opaque;
    size_t i;

    if (!s->discard_worker) {
        return tb_gpa_lookup(s, gpa, len, ram_offset);  /* the old path */
    }
    if (s->win_len && gpa >= s->win_gpa &&
        gpa + len <= s->win_gpa + s->win_len) {
        *ram_offset = s->win_ram + (gpa - s->win_gpa);
        return true;
    }
    for (i = 0; i < ARRAY_SIZE(windows); i++) {
        uint64_t w = QEMU_ALIGN_DOWN(gpa, windows[i]), off;

        if (gpa + len > w + windows[i] || w + windows[i] < w) {
            continue;
        }
        if (tb_gpa_lookup(s, w, windows[i], &off)) {
            s->win_gpa = w;
            s->win_len = windows[i];
            s->win_ram = off;
            *ram_offset = off + (gpa - w);
            return true;
        }
    }
    return tb_gpa_lookup(s, gpa, len, ram_offset);
}

/*
 * The RAM block holding [ram_offset, ram_offset + len) of machine RAM,
 * and the offset in it (see tb_gpa_to_ram for the two layouts).
 */
static RAMBlock *tb_ram_block(uint64_t ram_offset, uint64_t len,
                              uint64_t *block_offset)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    MemoryRegion *sub;

    if (ms->ram->ram_block) {
        *block_offset = ram_offset;
        return ms->ram->ram_block;
    }
    QTAILQ_FOREACH(sub, &ms->ram->subregions, subregions_link) {
        if (sub->ram_block && ram_offset >= sub->addr &&
            ram_offset + len <= sub->addr + memory_region_size(sub)) {
            *block_offset = ram_offset - sub->addr;
            return sub->ram_block;
        }
    }
    return NULL;
}

/* The batch buffer must be writable guest RAM, never MMIO (our own BAR). */
static bool tb_batch_in_ram(uint64_t addr, uint64_t len)
{
    MemoryRegionSection sec;
    bool ok;

    if (addr + len < addr) {
        return false;
    }
    sec = memory_region_find(get_system_memory(), addr, len);
    if (!sec.mr) {
        return false;
    }
    ok = memory_region_is_ram(sec.mr) && !memory_region_is_rom(sec.mr) &&
         !sec.readonly && int128_get64(sec.size) == len;
    memory_region_unref(sec.mr);
    return ok;
}

/*
 * The batch buffer's place in guest RAM, so that a discard of its own
 * pages can be seen (tb_batch_note): its statuses are then written after
 * the worker freed them, as they are without the worker, never before
 * (the worker's later discard would wipe them).
 */
static void tb_batch_locate(TBBalloonState *s, uint64_t addr, uint64_t len)
{
    MemoryRegionSection sec = memory_region_find(get_system_memory(),
                                                 addr, len);

    s->batch_rb = sec.mr ? sec.mr->ram_block : NULL;
    s->batch_off = sec.offset_within_region;
    s->batch_len = len;
    s->batch_hit = false;
    if (sec.mr) {
        memory_region_unref(sec.mr);
    }
}

static void tb_batch_note(TBBalloonState *s, RAMBlock *rb, uint64_t off,
                          uint64_t len)
{
    if (rb && rb == s->batch_rb && off < s->batch_off + s->batch_len &&
        s->batch_off < off + len) {
        s->batch_hit = true;
    }
}

/* Are all 4 KiB pages of machine RAM [ram_offset, +len) in the balloon? */
static bool tb_map_full(TBBalloonState *s, uint64_t ram_offset, uint64_t len)
{
    uint64_t pfn = ram_offset >> TB_PAGE_SHIFT;
    uint64_t end = pfn + (len >> TB_PAGE_SHIFT);

    if (end > s->host.map_pfns) {
        return false;
    }
    while (pfn < end) {
        if (pfn % 64 == 0 && end - pfn >= 64) {
            if (s->host.map[pfn / 64] != ~0ull) {
                return false;
            }
            pfn += 64;
        } else if (!tb_host_has(&s->host, pfn++)) {
            return false;
        }
    }
    return true;
}

/*
 * Huge-page backing (hugetlbfs, 2 MiB or 1 GiB host pages): only whole
 * host pages can be discarded.  An entry smaller than its host page, or
 * not aligned to one, discards each host page it touches that is now
 * wholly in the balloon; a host page only partly ballooned is kept (the
 * guest does not get its memory back) until its last 4 KiB page comes
 * in.  virtio-balloon tracks one partly ballooned host page at a time
 * (PartiallyBalloonedPage: a base and a bitmap, given up when a page of
 * another host page comes, and forgotten after each request); here the
 * balloon's own bitmap, which the entry is already in, tracks every host
 * page across batches, so nothing is forgotten and a deflate needs
 * nothing (the guest's next touch faults in a new, zeroed host page).
 * @block_base: the block's offset in machine RAM.  At most one range is
 * left queued per entry (tb_discard's count of one per entry).
 */
static void tb_discard_host_pages(TBBalloonState *s, RAMBlock *rb,
                                  uint64_t block_base, uint64_t offset,
                                  uint64_t len, size_t psize)
{
    uint64_t hp = QEMU_ALIGN_DOWN(offset, psize);
    uint64_t end = QEMU_ALIGN_UP(offset + len, psize);
    uint32_t added = 0;

    warn_report_once("tb-balloon: RAM backed by %zu-byte pages: entries "
                     "smaller than that are discarded once their whole "
                     "host page is in the balloon", psize);
    for (; hp < end; hp += psize) {
        TBDiscardRange *last;

        if (hp + psize > qemu_ram_get_used_length(rb) ||
            !tb_map_full(s, block_base + hp, psize)) {
            continue;
        }
        trace_tb_balloon_discard_host_page(hp, psize);
        tb_batch_note(s, rb, hp, psize);
        last = s->n_discards ? &s->discards[s->n_discards - 1] : NULL;
        if (last && last->rb == rb && last->offset + last->len == hp) {
            last->len += psize;
            continue;
        }
        if (s->n_discards == TB_BATCH_MAX) {
            tb_discard_flush(s);
        }
        s->discards[s->n_discards++] = (TBDiscardRange){ rb, hp, psize };
        added++;
    }
    if (added > 1) {
        tb_discard_flush(s);
    }
}

/*
 * Free an accepted entry's host memory; it reads as zero once the batch's
 * discards are flushed (tb_discard_flush, before the command completes).
 */
static void tb_discard(TBBalloonState *s, uint64_t ram_offset, uint64_t len)
{
    uint64_t offset = 0;
    RAMBlock *rb = tb_ram_block(ram_offset, len, &offset);
    TBDiscardRange *last;
    size_t psize;

    if (s->hostile_keep_data) {
        /* Advertised TB_F_DISCARD, yet the old contents stay. */
        trace_tb_balloon_hostile_keep_data(ram_offset, len);
        s->stats.kept_pages += len >> TB_PAGE_SHIFT;
        return;
    }
    if (!tb_can_discard(s) || !rb) {
        return;
    }
    if (tb_discard_held_off()) {
        trace_tb_balloon_discard_held_off(ram_offset, len);
        s->stats.held_off_pages += len >> TB_PAGE_SHIFT;
        return;
    }
    psize = qemu_ram_pagesize(rb);
    if (offset % psize || len % psize) {
        tb_discard_host_pages(s, rb, ram_offset - offset, offset, len, psize);
        return;
    }
    if (!s->discard_worker) {
        /* discard-worker=off: this entry alone, here and now. */
        int ret = ram_block_discard_range(rb, offset, len);

        trace_tb_balloon_discard(ram_offset, len, ret);
        s->stats.discard_ranges++;
        if (ret < 0) {
            s->stats.discard_failures++;
        } else {
            s->stats.discarded_pages += len >> TB_PAGE_SHIFT;
        }
        return;
    }
    tb_batch_note(s, rb, offset, len);
    last = s->n_discards ? &s->discards[s->n_discards - 1] : NULL;
    if (last && last->rb == rb && last->offset + last->len == offset) {
        last->len += len;
        return;
    }
    assert(s->n_discards < TB_BATCH_MAX);   /* one per entry at most */
    s->discards[s->n_discards++] = (TBDiscardRange){ rb, offset, len };
}

/* Worker: one range done (@ret < 0: failed, already reported). */
static void tb_discard_done(TBBalloonState *s, const TBDiscardRange *d,
                            int ret, uint64_t *pages, uint64_t *failures)
{
    trace_tb_balloon_discard(d->offset, d->len, ret);
    if (ret < 0) {
        /*
         * The page stays allocated on the host, which costs memory but
         * not correctness.
         */
        (*failures)++;
        return;
    }
    *pages += d->len >> TB_PAGE_SHIFT;
}

/* Private anonymous RAM in host pages: what plain MADV_DONTNEED frees. */
static bool tb_discard_by_madvise(RAMBlock *rb)
{
    return qemu_ram_get_fd(rb) < 0 && !qemu_ram_is_shared(rb) &&
           qemu_ram_pagesize(rb) == qemu_real_host_page_size();
}

/*
 * Worker: process_madvise(MADV_DONTNEED) of @d[0..n), as far as they are
 * private anonymous RAM; returns how many ranges it discarded whole (0
 * when the kernel does not take it for us).
 */
static uint32_t tb_discard_vector(TBBalloonState *s, const TBDiscardRange *d,
                                  uint32_t n, uint64_t *pages,
                                  uint64_t *failures)
{
#if defined(__linux__) && defined(SYS_process_madvise) && defined(MADV_DONTNEED)
    struct iovec iov[TB_BATCH_MAX];
    uint32_t k, m = 0;
    uint64_t want = 0;
    ssize_t got;

    for (k = 0; k < n && m < TB_BATCH_MAX && tb_discard_by_madvise(d[k].rb);
         k++) {
        iov[m].iov_base = (uint8_t *)qemu_ram_get_host_addr(d[k].rb) +
                          d[k].offset;
        iov[m].iov_len = d[k].len;
        want += iov[m].iov_len;
        m++;
    }
    if (m < 2 || s->self_pidfd < 0) {
        return 0;
    }
    got = syscall(SYS_process_madvise, s->self_pidfd, iov, (size_t)m,
                  MADV_DONTNEED, 0u);
    if (got < 0) {
        /* EINVAL: a kernel that takes only MADV_COLD and the like. */
        close(s->self_pidfd);
        s->self_pidfd = -1;
        return 0;
    }
    if ((uint64_t)got != want) {
        /* Partly done (e.g. a signal): the rest again, range by range. */
        for (k = 0; k < m && (uint64_t)got >= iov[k].iov_len; k++) {
            got -= iov[k].iov_len;
        }
        m = k;
    }
    for (k = 0; k < m; k++) {
        tb_discard_done(s, &d[k], 0, pages, failures);
    }
    return m;
#else
    return 0;
#endif
}

/* Worker: discard @d[0..n). */
static void tb_discard_ranges(TBBalloonState *s, const TBDiscardRange *d,
                              uint32_t n, uint64_t *pages, uint64_t *failures)
{
    uint32_t i = 0;

    while (i < n) {
        uint32_t done = tb_discard_vector(s, d + i, n - i, pages, failures);

        if (done) {
            i += done;
            continue;
        }
        tb_discard_done(s, &d[i], ram_block_discard_range(d[i].rb,
                        d[i].offset, d[i].len), pages, failures);
        i++;
    }
}

static void *tb_discard_worker(void *opaque)
{
    TBBalloonState *s = opaque;

    qemu_mutex_lock(&s->dq_lock);
    for (;;) {
        uint64_t pages = 0, failures = 0;
        uint32_t n = 0;

        while (!s->dq_count && !s->dq_stop) {
            qemu_cond_wait(&s->dq_work, &s->dq_lock);
        }
        if (!s->dq_count) {
            break;                      /* stopped, nothing left */
        }
        while (s->dq_count) {
            s->dq_work_set[n++] = s->dq[s->dq_head];
            s->dq_bytes -= s->dq[s->dq_head].len;
            s->dq_head = (s->dq_head + 1) % TB_DISCARD_QUEUE;
            s->dq_count--;
        }
        s->dq_busy = true;
        qemu_cond_broadcast(&s->dq_idle);       /* room in the queue */
        qemu_mutex_unlock(&s->dq_lock);

        tb_discard_ranges(s, s->dq_work_set, n, &pages, &failures);

        qemu_mutex_lock(&s->dq_lock);
        s->dq_discarded += pages;
        s->dq_failures += failures;
        s->dq_ranges += n;
        s->dq_busy = false;
        qemu_cond_broadcast(&s->dq_idle);
    }
    qemu_mutex_unlock(&s->dq_lock);
    return NULL;
}

/* Hand this batch's discards to the worker (waiting for room). */
static void tb_discard_flush(TBBalloonState *s)
{
    uint64_t bytes = 0;
    uint32_t i;

    if (!s->n_discards) {
        return;
    }
    for (i = 0; i < s->n_discards; i++) {
        bytes += s->discards[i].len;
    }
    if (!s->dq_started) {
        /* No worker (not realized): here and now. */
        uint64_t pages = 0, failures = 0;

        tb_discard_ranges(s, s->discards, s->n_discards, &pages, &failures);
        s->stats.discarded_pages += pages;
        s->stats.discard_failures += failures;
        s->stats.discard_ranges += s->n_discards;
        s->n_discards = 0;
        return;
    }
    qemu_mutex_lock(&s->dq_lock);
    while (s->dq_count &&
           (s->dq_count + s->n_discards > TB_DISCARD_QUEUE ||
            s->dq_bytes + bytes > TB_DISCARD_QUEUE_BYTES)) {
        qemu_cond_wait(&s->dq_idle, &s->dq_lock);
    }
    for (i = 0; i < s->n_discards; i++) {
        s->dq[(s->dq_head + s->dq_count) % TB_DISCARD_QUEUE] = s->discards[i];
        s->dq_count++;
    }
    s->dq_bytes += bytes;
    qemu_cond_signal(&s->dq_work);
    qemu_mutex_unlock(&s->dq_lock);
    s->n_discards = 0;
}

/* Wait until every queued discard is done; their counts into stats. */
static void tb_discard_drain(TBBalloonState *s)
{
    if (!s->dq_started) {
        return;
    }
    qemu_mutex_lock(&s->dq_lock);
    while (s->dq_count || s->dq_busy) {
        qemu_cond_wait(&s->dq_idle, &s->dq_lock);
    }
    s->stats.discarded_pages += s->dq_discarded;
    s->stats.discard_failures += s->dq_failures;
    s->stats.discard_ranges += s->dq_ranges;
    s->dq_discarded = 0;
    s->dq_failures = 0;
    s->dq_ranges = 0;
    qemu_mutex_unlock(&s->dq_lock);
}

/*
 * hostile-bad-status: garble the statuses about to be written back; the
 * decisions (and the host's accounting) stand.
 */
static void tb_hostile_garble(TBBalloonState *s, uint32_t count)
{
    uint32_t i;

    for (i = 0; i < count; i++) {
        uint8_t bad;

        if (i % 3 == 2) {
            continue;           /* every third entry keeps its real status */
        }
        bad = i % 3 == 0 ? TB_HOSTILE_STATUS : TB_ST_PENDING;
        trace_tb_balloon_hostile_status(i, s->batch[i].status, bad);
        s->batch[i].status = bad;
        s->stats.bad_statuses++;
    }
}

/*
 * hostile-overgrant: "OK" for up to TB_HOSTILE_EXTRA entries the guest
 * never sent, past BATCH_COUNT, where they are still inside a full batch
 * buffer and in guest RAM.  Only the status byte is written.
 */
static void tb_hostile_extra_statuses(TBBalloonState *s, uint64_t addr,
                                      uint32_t count)
{
    uint8_t ok = TB_ST_OK;
    uint32_t i;

    for (i = count; i < count + TB_HOSTILE_EXTRA && i < TB_BATCH_MAX; i++) {
        uint64_t at = addr + (uint64_t)i * TB_ENTRY_SIZE +
                      offsetof(struct tb_entry, status);

        if (!tb_batch_in_ram(at, 1) ||
            pci_dma_write(&s->pdev, at, &ok, 1) != MEMTX_OK) {
            break;
        }
        s->stats.extra_statuses++;
    }
}

/* tb_batch_ops.entry_done: the memory side of a decision, and the logs. */
static void tb_entry_done(void *opaque, const struct tb_entry_decision *d)
{
    TBBalloonState *s = opaque;

    trace_tb_balloon_entry(tb_cmd_names[d->cmd], d->gpa_pfn, d->order,
                           tb_status_names[d->status]);
    if (d->status == TB_ST_OK && d->cmd == TB_CMD_INFLATE) {
        tb_discard(s, d->ram_offset, d->pages << TB_PAGE_SHIFT);
    } else if (tb_status_guest_fault(d->status)) {
        tb_guest_error(s, "%s: entry %u pfn 0x%" PRIx64 " order %u: %s",
                       tb_cmd_names[d->cmd], d->index, d->gpa_pfn, d->order,
                       tb_status_names[d->status]);
    }
}

/*
 * INFLATE / DEFLATE: read the batch, let core/tb_batch.c decide each
 * entry, write the statuses back.
 */
static enum tb_cmd_result tb_do_batch(TBBalloonState *s, enum tb_cmd cmd,
                                      uint64_t addr, uint32_t count)
{
    uint64_t len = (uint64_t)count * TB_ENTRY_SIZE;
    uint64_t old_pages = s->host.balloon_pages;
    const struct tb_batch_ops ops = {
        .gpa_to_ram = tb_gpa_to_ram,
        .entry_done = tb_entry_done,
        .opaque = s,
    };
    struct tb_batch_result res;
    enum tb_cmd_result r;

    r = tb_cmd_check_count(cmd, count);
    if (r != TB_CMD_OK) {
        tb_guest_error(s, "%s: batch count %u not in 1..%u",
                       tb_cmd_names[cmd], count, TB_BATCH_MAX);
        return r;
    }
    if (!tb_batch_in_ram(addr, len)) {
        tb_guest_error(s, "%s: batch 0x%" PRIx64 "+0x%" PRIx64
                       " is not in guest RAM", tb_cmd_names[cmd], addr, len);
        return TB_CMD_ERR_ADDR;
    }
    if (pci_dma_read(&s->pdev, addr, s->batch, len) != MEMTX_OK) {
        tb_guest_error(s, "%s: cannot read batch at 0x%" PRIx64
                       " (bus master off?)", tb_cmd_names[cmd], addr);
        return TB_CMD_ERR_ADDR;
    }

    if (cmd == TB_CMD_DEFLATE) {
        tb_discard_drain(s);    /* no page back before its discard */
    }
    s->n_discards = 0;
    s->win_len = 0;
    tb_batch_locate(s, addr, len);
    r = tb_batch_run(&s->cfg, &s->host, cmd, s->batch, count, &ops, &res);
    assert(r == TB_CMD_OK);     /* command and count checked above */
    tb_discard_flush(s);
    if (s->batch_hit) {
        tb_discard_drain(s);    /* the statuses land after, not before */
    }
    if (cmd == TB_CMD_INFLATE) {
        s->stats.inflated_pages += res.ok_pages;
    } else {
        s->stats.deflated_pages += res.ok_pages;
    }
    s->stats.pages_short += res.short_pages;
    if (res.partial) {
        s->stats.partial_grants++;
    }
    s->cmd_done = res.ok;
    tb_log_cmd(s, cmd, TB_CMD_OK, count);   /* before any hostile garbling */
    if (s->hostile_bad_status) {
        tb_hostile_garble(s, count);
    }

    if (pci_dma_write(&s->pdev, addr, s->batch, len) != MEMTX_OK) {
        /* The decisions stand; the guest sees CMD_DONE only. */
        tb_guest_error(s, "%s: cannot write statuses back at 0x%" PRIx64,
                       tb_cmd_names[cmd], addr);
    }
    if (s->hostile_overgrant) {
        tb_hostile_extra_statuses(s, addr, count);
        s->cmd_done = count + TB_HOSTILE_OVERCOUNT;
        s->stats.overgrants++;
        trace_tb_balloon_hostile_overgrant(tb_cmd_names[cmd], res.ok,
                                           s->cmd_done);
    }
    tb_balloon_changed(s, old_pages);
    return TB_CMD_OK;
}

static enum tb_cmd_result tb_run(TBBalloonState *s, uint32_t cmd,
                                 uint64_t addr, uint32_t count)
{
    s->cmd_done = 0;
    switch (cmd) {
    case TB_CMD_NOP:
        return TB_CMD_OK;
    case TB_CMD_INFLATE:
    case TB_CMD_DEFLATE: {
        enum tb_cmd_result r = tb_do_batch(s, cmd, addr, count);

        if (r != TB_CMD_OK) {
            tb_log_cmd(s, cmd, r, count);   /* refused as a whole */
        }
        return r;
    }
    case TB_CMD_RESET:
        tb_empty(s, true);
        return TB_CMD_OK;
    default:
        g_assert_not_reached();     /* tb_command filtered unknown ones */
    }
}

static void tb_finish(TBBalloonState *s, uint32_t cmd, enum tb_cmd_result r)
{
    s->cmd_status = r;
    s->stats.results[r]++;
    trace_tb_balloon_cmd_done(cmd < TB_CMD_NR ? tb_cmd_names[cmd] : "unknown",
                              tb_cmd_result_names[r], s->cmd_done);
    tb_raise(s, TB_IRQ_CMD_DONE);
}

/* A write to TB_REG_COMMAND. */
static void tb_command(TBBalloonState *s, uint32_t cmd)
{
    uint64_t addr = (uint64_t)s->batch_addr_hi << 32 | s->batch_addr_lo;
    enum tb_cmd_result r;

    trace_tb_balloon_command(cmd, addr, s->batch_count);
    s->stats.cmds[MIN(cmd, TB_CMD_NR)]++;

    r = tb_cmd_admit(cmd, s->driver_status & TB_DRIVER_READY,
                     s->cmd_status & TB_CMD_BUSY);
    switch (r) {
    case TB_CMD_OK:
        break;
    case TB_CMD_ERR_BUSY:
        /* The running command keeps CMD_STATUS; this one is dropped. */
        tb_guest_error(s, "command %u while a command is busy", cmd);
        s->stats.results[TB_CMD_ERR_BUSY]++;
        return;
    default:
        tb_guest_error(s, "command %u: %s", cmd, tb_cmd_result_names[r]);
        s->cmd_done = 0;
        tb_finish(s, cmd, r);
        return;
    }
    if (s->reply_delay_ms) {
        s->pending_cmd = cmd;
        s->pending_addr = addr;
        s->pending_count = s->batch_count;
        s->cmd_status = TB_CMD_BUSY;
        s->cmd_done = 0;
        timer_mod(&s->reply_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + s->reply_delay_ms);
        return;
    }
    tb_finish(s, cmd, tb_run(s, cmd, addr, s->batch_count));
}

static void tb_reply_timer(void *opaque)
{
    TBBalloonState *s = opaque;

    if (!(s->cmd_status & TB_CMD_BUSY)) {
        return;
    }
    tb_finish(s, s->pending_cmd,
              tb_run(s, s->pending_cmd, s->pending_addr, s->pending_count));
}

static void tb_cancel_pending(TBBalloonState *s)
{
    timer_del(&s->reply_timer);
    s->cmd_status &= ~TB_CMD_BUSY;
}

/* MMIO */

static uint64_t tb_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    TBBalloonState *s = opaque;
    uint64_t val = 0;

    switch (addr) {
    case TB_REG_MAGIC:
        val = TB_MAGIC;
        if (s->hostile_bad_magic) {
            /* What a read of a removed device gives. */
            s->hostile_bad_magic--;
            s->stats.bad_magic_reads++;
            trace_tb_balloon_hostile_bad_magic(s->hostile_bad_magic);
            val = UINT32_MAX;
        }
        break;
    case TB_REG_VERSION:
        val = TB_VERSION;
        break;
    case TB_REG_FEATURES:
        val = tb_features(s);
        break;
    case TB_REG_DRIVER_STATUS:
        val = s->driver_status;
        break;
    case TB_REG_TARGET:
        val = tb_pages32(s->target);
        break;
    case TB_REG_BOOT_PAGES:
        /* hostile-boot-pages: overstated (or understated) RAM. */
        val = tb_pages32(s->hostile_boot_pages ? s->hostile_boot_pages :
                         s->ram_size);
        break;
    case TB_REG_MAX_RESERVATION:
        val = tb_pages32(tb_max_reservation_bytes(s));
        break;
    case TB_REG_MAX_BALLOON:
        val = tb_pages32(tb_max_balloon_bytes(s));
        break;
    case TB_REG_BALLOON_PAGES:
        val = MIN(s->host.balloon_pages, UINT32_MAX);
        break;
    case TB_REG_POLL_MS:
        val = s->poll_ms;
        break;
    case TB_REG_BATCH_MAX:
        val = TB_BATCH_MAX;
        break;
    case TB_REG_BATCH_ADDR_LO:
        val = s->batch_addr_lo;
        break;
    case TB_REG_BATCH_ADDR_HI:
        val = s->batch_addr_hi;
        break;
    case TB_REG_BATCH_COUNT:
        val = s->batch_count;
        break;
    case TB_REG_CMD_STATUS:
        val = s->cmd_status;
        break;
    case TB_REG_CMD_DONE:
        val = s->cmd_done;
        break;
    case TB_REG_IRQ_STATUS:
        val = s->irq_status;
        break;
    case TB_REG_IRQ_ENABLE:
        val = s->irq_enable;
        break;
    case TB_REG_GENERATION:
        val = s->generation;
        break;
    case TB_REG_STATS_INTERVAL_MS:
        val = s->stats_interval_ms;
        break;
    case TB_REG_COMMAND:
    case TB_REG_IRQ_ACK:
    case TB_REG_STATS_REPORT:
        tb_guest_error(s, "read of write-only register 0x%" HWADDR_PRIx,
                       addr);
        break;
    default:
        tb_guest_error(s, "read of unknown register 0x%" HWADDR_PRIx, addr);
        break;
    }
    trace_tb_balloon_mmio_read(addr, val);
    return val;
}

/*
 * STATS_REPORT: the guest's figures, read from its stats page now and kept
 * as the last report.  Everything in the page is the guest's word: the
 * decoder (core/tb_gstats.c) clamps the count and skips what it does not
 * know; a page that is not guest RAM is a guest error and changes
 * nothing.  A report costs one read of TB_STATS_READ_SIZE bytes whatever
 * the guest writes, and nothing is queued: a flood of reports only
 * replaces the figures more often.
 */
static void tb_stats_report(TBBalloonState *s, uint32_t pfn)
{
    uint64_t addr = (uint64_t)pfn << TB_PAGE_SHIFT;
    struct tb_gstats gs;

    if (!tb_batch_in_ram(addr, sizeof(s->gs_page)) ||
        pci_dma_read(&s->pdev, addr, s->gs_page, sizeof(s->gs_page)) !=
        MEMTX_OK) {
        s->gs_bad++;
        tb_guest_error(s, "stats page 0x%" PRIx64 " is not in guest RAM "
                       "(or bus master off)", addr);
        return;
    }
    tb_gstats_decode(s->gs_page, sizeof(s->gs_page), &gs);
    s->gstats = gs;
    s->gstats_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    s->gstats_wall = time(NULL);
    s->gs_reports++;
    s->gs_skipped += gs.unknown + gs.invalid;
    s->gs_truncated += gs.truncated;
    trace_tb_balloon_guest_stats(gs.seq, gs.read, gs.unknown + gs.invalid);
}

static void tb_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    TBBalloonState *s = opaque;

    trace_tb_balloon_mmio_write(addr, val);
    switch (addr) {
    case TB_REG_DRIVER_STATUS:
        if ((s->driver_status & TB_DRIVER_READY) && !(val & TB_DRIVER_READY)) {
            /* Driver gone: its pages are the guest's again. */
            tb_cancel_pending(s);
            tb_empty(s, false);
        }
        s->driver_status = val & TB_DRIVER_READY;
        break;
    case TB_REG_BATCH_ADDR_LO:
        s->batch_addr_lo = val;
        break;
    case TB_REG_BATCH_ADDR_HI:
        s->batch_addr_hi = val;
        break;
    case TB_REG_BATCH_COUNT:
        s->batch_count = val;
        break;
    case TB_REG_COMMAND:
        tb_command(s, val);
        break;
    case TB_REG_IRQ_ACK:
        s->irq_status &= ~val;
        if (s->irq_storm) {
            /* The line never drops: a spurious "target changed". */
            s->irq_status |= TB_IRQ_TARGET;
            s->stats.storm_irqs++;
            trace_tb_balloon_hostile_irq_storm(s->irq_status);
        }
        tb_update_irq(s);
        break;
    case TB_REG_IRQ_ENABLE:
        s->irq_enable = val & TB_IRQ_ALL;
        tb_update_irq(s);
        break;
    case TB_REG_STATS_REPORT:
        tb_stats_report(s, val);
        break;
    default:
        tb_guest_error(s, "write 0x%" PRIx64 " to read-only or unknown "
                       "register 0x%" HWADDR_PRIx, val, addr);
        break;
    }
}

static const MemoryRegionOps tb_mmio_ops = {
    .read = tb_mmio_read,
    .write = tb_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,       /* 64-bit BATCH_ADDR writes are split */
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 4,
    },
};

/* QMP/HMP "balloon" and query-balloon */

static void tb_balloon_to_target(void *opaque, ram_addr_t target)
{
    tb_set_target(TB_BALLOON(opaque), target);
}

static void tb_balloon_stat(void *opaque, BalloonInfo *info)
{
    info->actual = tb_actual_bytes(TB_BALLOON(opaque));
}

/* Realize / unrealize / reset */

static void tb_realize(PCIDevice *pdev, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(pdev);
    MachineState *ms = MACHINE(qdev_get_machine());

    if (!ms->ram || !memory_region_size(ms->ram)) {
        error_setg(errp, "tb-balloon needs a machine with main RAM");
        return;
    }
    s->ram_size = memory_region_size(ms->ram);
    if (s->ram_size >> TB_PAGE_SHIFT > (uint64_t)UINT32_MAX * 64) {
        error_setg(errp, "tb-balloon: RAM too large for its bitmap");
        return;
    }
    if (qemu_add_balloon_handler(tb_balloon_to_target, tb_balloon_stat, s)) {
        error_setg(errp, "Only one balloon device is supported");
        return;
    }

    s->host.map_pfns = s->ram_size >> TB_PAGE_SHIFT;
    s->map_words = tb_map_words(s->host.map_pfns);
    s->host.map = g_new0(uint64_t, s->map_words);
    s->blog = g_new0(struct tb_batchlog, 1);
    /* Its id tells it from an unplugged device's or a migration
     * source's: the host's wall clock (us) now. */
    tb_batchlog_init(s->blog, g_get_real_time());
    tb_sync_cfg(s);
    if (s->target == TB_UNSET) {
        s->target = s->ram_size;        /* no balloon asked for */
    }

#if defined(__linux__) && defined(SYS_pidfd_open)
    s->self_pidfd = syscall(SYS_pidfd_open, getpid(), 0u);
#else
    s->self_pidfd = -1;
#endif
    qemu_mutex_init(&s->dq_lock);
    qemu_cond_init(&s->dq_work);
    qemu_cond_init(&s->dq_idle);
    s->dq_stop = false;
    qemu_thread_create(&s->dq_thread, "tb-discard", tb_discard_worker, s,
                       QEMU_THREAD_JOINABLE);
    s->dq_started = true;
    pci_config_set_interrupt_pin(pdev->config, 1);
    timer_init_ms(&s->reply_timer, QEMU_CLOCK_VIRTUAL, tb_reply_timer, s);
    timer_init_ms(&s->flap_timer, QEMU_CLOCK_VIRTUAL, tb_flap_timer, s);
    s->flap_base = s->target;
    s->flap_high = false;
    if (s->flap_ms) {
        tb_flap_arm(s);
    }
    memory_region_init_io(&s->mmio, OBJECT(s), &tb_mmio_ops, s,
                          "tb-balloon-mmio", TB_BAR0_SIZE);
    pci_register_bar(pdev, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, &s->mmio);
}

static void tb_unrealize(PCIDevice *pdev)
{
    TBBalloonState *s = TB_BALLOON(pdev);

    /* Hot-unplug: nothing of ours may fire or answer after this. */
    timer_del(&s->reply_timer);
    timer_del(&s->flap_timer);
    g_free(s->host.map);
    s->host.map = NULL;
    g_free(s->blog);
    s->blog = NULL;
    if (s->dq_started) {
        tb_discard_drain(s);
        qemu_mutex_lock(&s->dq_lock);
        s->dq_stop = true;
        qemu_cond_signal(&s->dq_work);
        qemu_mutex_unlock(&s->dq_lock);
        qemu_thread_join(&s->dq_thread);
        s->dq_started = false;
        qemu_cond_destroy(&s->dq_work);
        qemu_cond_destroy(&s->dq_idle);
        qemu_mutex_destroy(&s->dq_lock);
    }
    if (s->self_pidfd >= 0) {
        close(s->self_pidfd);
        s->self_pidfd = -1;
    }
    qemu_remove_balloon_handler(s);
}

/* System reset: the guest starts over with all its RAM. */
static void tb_reset(DeviceState *dev)
{
    TBBalloonState *s = TB_BALLOON(dev);

    tb_cancel_pending(s);
    tb_empty(s, false);
    s->driver_status = 0;
    s->batch_addr_lo = s->batch_addr_hi = s->batch_count = 0;
    s->cmd_status = 0;
    s->cmd_done = 0;
    s->irq_enable = 0;
    s->irq_status = 0;     /* the driver reads TARGET when it starts */
    tb_update_irq(s);
}

/*
 * Properties (listed in core/tb_knobs.h): sizes in bytes, all settable at
 * run time (qom-set).  The sizes share one accessor pair that goes by name,
 * the u32s one whose opaque is the field, each bool has its own pair.
 */

static void tb_get_size(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    uint64_t val;

    if (!strcmp(name, "target")) {
        val = s->target == TB_UNSET ? 0 : s->target;
    } else if (!strcmp(name, "max-reservation")) {
        val = tb_max_reservation_bytes(s);
    } else if (!strcmp(name, "max-balloon")) {
        val = tb_max_balloon_bytes(s);
    } else if (!strcmp(name, "pool")) {
        val = s->host.pool == TB_POOL_UNLIMITED ? UINT64_MAX :
              s->host.pool << TB_PAGE_SHIFT;
    } else if (!strcmp(name, "actual")) {
        val = tb_realized(s) ? tb_actual_bytes(s) : 0;
    } else if (!strcmp(name, "hostile-boot-pages")) {
        val = s->hostile_boot_pages;
    } else { /* balloon-size */
        val = s->host.balloon_pages << TB_PAGE_SHIFT;
    }
    visit_type_size(v, name, &val, errp);
}

static void tb_set_size(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    uint64_t val;

    if (!visit_type_size(v, name, &val, errp)) {
        return;
    }
    if (!strcmp(name, "target")) {
        tb_set_target(s, val);
    } else if (!strcmp(name, "max-reservation")) {
        s->max_reservation = val;
    } else if (!strcmp(name, "max-balloon")) {
        s->max_balloon = val;
    } else if (!strcmp(name, "hostile-boot-pages")) {
        s->hostile_boot_pages = val;
    } else { /* pool: UINT64_MAX is unlimited */
        s->host.pool = val == UINT64_MAX ? TB_POOL_UNLIMITED :
                       val >> TB_PAGE_SHIFT;
    }
    trace_tb_balloon_set(name, val);
    if (tb_realized(s)) {
        tb_sync_cfg(s);
    }
}

/* flap-ms changed: (re)start or stop flapping; stopping restores the target. */
static void tb_flap_changed(TBBalloonState *s)
{
    if (!tb_realized(s)) {
        return;                 /* realize arms the timer */
    }
    if (s->flap_ms) {
        tb_flap_arm(s);
    } else {
        timer_del(&s->flap_timer);
        if (s->flap_high) {
            tb_set_target(s, s->flap_base);
        }
    }
}

static void tb_get_u32(Object *obj, Visitor *v, const char *name,
                       void *opaque, Error **errp)
{
    visit_type_uint32(v, name, opaque, errp);
}

static void tb_set_u32(Object *obj, Visitor *v, const char *name,
                       void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    uint32_t val;

    if (!visit_type_uint32(v, name, &val, errp)) {
        return;
    }
    *(uint32_t *)opaque = val;
    trace_tb_balloon_set(name, val);
    if (opaque == &s->flap_ms) {
        tb_flap_changed(s);
    } else if (opaque == &s->stats_interval_ms) {
        if (tb_realized(s)) {
            tb_raise(s, TB_IRQ_STATS);  /* the driver reads it again */
        }
    } else {
        tb_sync_cfg(s);
    }
}

#define TB_BOOL_PROP(field)                                             \
static bool tb_get_##field(Object *obj, Error **errp)                   \
{                                                                       \
    return TB_BALLOON(obj)->field;                                      \
}                                                                       \
static void tb_set_##field(Object *obj, bool val, Error **errp)         \
{                                                                       \
    TBBalloonState *s = TB_BALLOON(obj);                                \
    s->field = val;                                                     \
    trace_tb_balloon_set(#field, val);                                  \
    tb_sync_cfg(s);                                                     \
}
TB_BOOL_PROP(refuse_all)
TB_BOOL_PROP(discard)
TB_BOOL_PROP(discard_worker)
TB_BOOL_PROP(page_2m)
TB_BOOL_PROP(enforce_max_balloon)
TB_BOOL_PROP(hostile_overgrant)
TB_BOOL_PROP(hostile_bad_status)
TB_BOOL_PROP(hostile_keep_data)
TB_BOOL_PROP(hostile_forget_on_load)

static bool tb_get_irq_storm(Object *obj, Error **errp)
{
    return TB_BALLOON(obj)->irq_storm;
}

/* Turning the storm on starts it: the line goes up now, not at an ACK. */
static void tb_set_irq_storm(Object *obj, bool val, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);

    s->irq_storm = val;
    trace_tb_balloon_set("irq_storm", val);
    if (val && tb_realized(s)) {
        s->stats.storm_irqs++;
        tb_raise(s, TB_IRQ_TARGET);
    }
}

static bool tb_visit_u64(Visitor *v, const char *name, uint64_t val,
                         Error **errp)
{
    return visit_type_uint64(v, name, &val, errp);
}

/* Pages of machine RAM [pfn, pfn + n) in the balloon. */
static uint64_t tb_map_count(TBBalloonState *s, uint64_t pfn, uint64_t n)
{
    uint64_t end = MIN(pfn + n, s->host.map_pfns), c = 0;

    while (pfn < end) {
        if (pfn % 64 == 0 && end - pfn >= 64) {
            c += ctpop64(s->host.map[pfn / 64]);
            pfn += 64;
        } else {
            c += tb_host_has(&s->host, pfn++);
        }
    }
    return c;
}

/*
 * stats.ram-blocks.NAME for one RAM block of machine RAM (NAME: its
 * memory backend's id, e.g. a NUMA node's memdev, or the machine's own
 * region): host page size, pages, pages in the balloon, and host pages
 * partly in it (kept on the host: tb_discard_host_pages).
 */
static bool tb_visit_block(Visitor *v, TBBalloonState *s, MemoryRegion *mr,
                           uint64_t base, Error **errp)
{
    uint64_t psize = qemu_ram_pagesize(mr->ram_block);
    uint64_t size = memory_region_size(mr), partial = 0, hp;
    uint64_t per = psize >> TB_PAGE_SHIFT;
    bool ok;

    for (hp = 0; per > 1 && hp + psize <= size; hp += psize) {
        uint64_t c = tb_map_count(s, (base + hp) >> TB_PAGE_SHIFT, per);

        partial += c && c < per;
    }
    if (!visit_start_struct(v, memory_region_name(mr), NULL, 0, errp)) {
        return false;
    }
    ok = tb_visit_u64(v, "page-size", psize, errp) &&
         tb_visit_u64(v, "pages", size >> TB_PAGE_SHIFT, errp) &&
         tb_visit_u64(v, "balloon-pages", tb_map_count(s, base >> TB_PAGE_SHIFT,
                      size >> TB_PAGE_SHIFT), errp) &&
         tb_visit_u64(v, "partial-host-pages", partial, errp) &&
         visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
    return ok;
}

static bool tb_visit_blocks(Visitor *v, TBBalloonState *s, Error **errp)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    MemoryRegion *sub;
    bool ok;

    if (!visit_start_struct(v, "ram-blocks", NULL, 0, errp)) {
        return false;
    }
    if (ms->ram->ram_block) {
        ok = tb_visit_block(v, s, ms->ram, 0, errp);
    } else {
        ok = true;
        QTAILQ_FOREACH(sub, &ms->ram->subregions, subregions_link) {
            if (ok && sub->ram_block) {
                ok = tb_visit_block(v, s, sub, sub->addr, errp);
            }
        }
    }
    ok = ok && visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
    return ok;
}

/* "stats": one struct, names from core/tb_proto.h's tables. */
static void tb_get_stats(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    TBBalloonStats *st = &s->stats;
    bool ok;
    int c, i;

    tb_discard_drain(s);        /* discarded-pages: all that was queued */
    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = tb_visit_u64(v, "balloon-pages", s->host.balloon_pages, errp) &&
         tb_visit_u64(v, "inflated-pages", st->inflated_pages, errp) &&
         tb_visit_u64(v, "deflated-pages", st->deflated_pages, errp) &&
         tb_visit_u64(v, "reset-pages", st->reset_pages, errp) &&
         tb_visit_u64(v, "discarded-pages", st->discarded_pages, errp) &&
         tb_visit_u64(v, "discard-failures", st->discard_failures, errp) &&
         tb_visit_u64(v, "discard-ranges", st->discard_ranges, errp) &&
         tb_visit_u64(v, "partial-grants", st->partial_grants, errp) &&
         tb_visit_u64(v, "pages-short", st->pages_short, errp) &&
         tb_visit_u64(v, "guest-errors", st->guest_errors, errp) &&
         tb_visit_u64(v, "discards-held-off", st->held_off_pages, errp);

    /* commands by type */
    ok = ok && visit_start_struct(v, "commands", NULL, 0, errp);
    for (c = 0; ok && c < TB_CMD_NR; c++) {
        ok = tb_visit_u64(v, tb_cmd_names[c], st->cmds[c], errp);
    }
    ok = ok && tb_visit_u64(v, "unknown", st->cmds[TB_CMD_NR], errp);
    ok = ok && visit_check_struct(v, errp);
    if (ok) {
        visit_end_struct(v, NULL);
    }

    /* command results */
    ok = ok && visit_start_struct(v, "results", NULL, 0, errp);
    for (i = 0; ok && i < TB_CMD_RESULT_NR; i++) {
        ok = tb_visit_u64(v, tb_cmd_result_names[i], st->results[i], errp);
    }
    ok = ok && visit_check_struct(v, errp);
    if (ok) {
        visit_end_struct(v, NULL);
    }

    /* entries by command and status, e.g. entries.inflate.max-balloon */
    ok = ok && visit_start_struct(v, "entries", NULL, 0, errp);
    for (c = TB_CMD_INFLATE; ok && c <= TB_CMD_DEFLATE; c++) {
        ok = visit_start_struct(v, tb_cmd_names[c], NULL, 0, errp);
        for (i = TB_ST_OK; ok && i < TB_ST_NR; i++) {
            ok = tb_visit_u64(v, tb_status_names[i], s->host.count[c][i],
                              errp);
        }
        ok = ok && visit_check_struct(v, errp);
        if (ok) {
            visit_end_struct(v, NULL);
        }
    }
    ok = ok && visit_check_struct(v, errp);
    if (ok) {
        visit_end_struct(v, NULL);
    }

    ok = ok && (!s->host.map || tb_visit_blocks(v, s, errp));

    /* what the hostile settings did */
    ok = ok && visit_start_struct(v, "hostile", NULL, 0, errp);
    ok = ok && tb_visit_u64(v, "overgrants", st->overgrants, errp) &&
         tb_visit_u64(v, "extra-statuses", st->extra_statuses, errp) &&
         tb_visit_u64(v, "bad-statuses", st->bad_statuses, errp) &&
         tb_visit_u64(v, "target-flaps", st->target_flaps, errp) &&
         tb_visit_u64(v, "storm-irqs", st->storm_irqs, errp) &&
         tb_visit_u64(v, "kept-pages", st->kept_pages, errp) &&
         tb_visit_u64(v, "bad-magic-reads", st->bad_magic_reads, errp);
    ok = ok && visit_check_struct(v, errp);
    if (ok) {
        visit_end_struct(v, NULL);
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

/*
 * "guest-stats": the guest's last report, as virtio-balloon's guest-stats
 * ("last-update" in host seconds, "stats" by name), with the virtual
 * clock of the report and of now, so a reader knows the figures' age on
 * the clock the batch log uses, and what the device skipped.  "stats"
 * holds only the figures the last report carried.
 */
static void tb_get_guest_stats(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    const struct tb_gstats *gs = &s->gstats;
    bool ok;
    int t;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = tb_visit_u64(v, "last-update", s->gstats_wall, errp) &&
         tb_visit_u64(v, "last-update-ns", s->gstats_ns, errp) &&
         tb_visit_u64(v, "clock-ns", qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL),
                      errp) &&
         tb_visit_u64(v, "interval-ms", s->stats_interval_ms, errp) &&
         tb_visit_u64(v, "reports", s->gs_reports, errp) &&
         tb_visit_u64(v, "seq", gs->seq, errp) &&
         tb_visit_u64(v, "bad-reports", s->gs_bad, errp) &&
         tb_visit_u64(v, "skipped-entries", s->gs_skipped, errp) &&
         tb_visit_u64(v, "truncated-reports", s->gs_truncated, errp);
    ok = ok && visit_start_struct(v, "stats", NULL, 0, errp);
    for (t = 1; ok && t < TB_GS_NR; t++) {
        if (gs->present & (1u << t)) {
            ok = tb_visit_u64(v, tb_gs_names[t], gs->v[t], errp);
        }
    }
    ok = ok && visit_check_struct(v, errp);
    if (ok) {
        visit_end_struct(v, NULL);
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

/* One record of "batch-log". */
static bool tb_visit_batch_rec(Visitor *v, const struct tb_batchlog_rec *r,
                               Error **errp)
{
    char *kind = (char *)tb_batchlog_kind_names[r->kind];
    char *result = (char *)tb_cmd_result_names[r->result];
    bool ok;

    if (!visit_start_struct(v, NULL, NULL, 0, errp)) {
        return false;
    }
    ok = tb_visit_u64(v, "seq", r->seq, errp) &&
         tb_visit_u64(v, "t-ns", r->t_ns, errp) &&
         visit_type_str(v, "kind", &kind, errp) &&
         tb_visit_u64(v, "entries", r->entries, errp) &&
         tb_visit_u64(v, "pages-4k", r->pages_4k, errp) &&
         tb_visit_u64(v, "pages-2m", r->pages_2m, errp) &&
         tb_visit_u64(v, "granted", r->granted, errp) &&
         tb_visit_u64(v, "refused", r->refused, errp) &&
         tb_visit_u64(v, "partial", r->partial, errp) &&
         tb_visit_u64(v, "balloon-pages", r->balloon_pages, errp) &&
         tb_visit_u64(v, "target-pages", r->target_pages, errp);
    if (ok && r->result != TB_CMD_OK) {
        ok = visit_type_str(v, "result", &result, errp);
    }
    ok = ok && visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
    return ok;
}

/*
 * "batch-log": where the log stands, and up to TB_BATCHLOG_READ_MAX
 * records from batch-log-from on.  Reading changes nothing.
 */
static void tb_get_batch_log(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    TBBalloonState *s = TB_BALLOON(obj);
    struct tb_batchlog_rec rec[TB_BATCHLOG_READ_MAX];
    uint64_t id = 0, first = 1, next = 1;
    unsigned int n = 0, i;
    bool ok;

    if (s->blog) {
        id = s->blog->id;
        first = tb_batchlog_first(s->blog);
        next = s->blog->next_seq;
        n = tb_batchlog_read(s->blog, s->batch_log_from, rec,
                             TB_BATCHLOG_READ_MAX);
    }
    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = tb_visit_u64(v, "log-id", id, errp) &&
         tb_visit_u64(v, "clock-ns", qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL),
                      errp) &&
         tb_visit_u64(v, "first-seq", first, errp) &&
         tb_visit_u64(v, "next-seq", next, errp) &&
         tb_visit_u64(v, "from", s->batch_log_from, errp);
    ok = ok && visit_start_list(v, "records", NULL, 0, errp);
    if (ok) {
        for (i = 0; ok && i < n; i++) {
            ok = tb_visit_batch_rec(v, &rec[i], errp);
        }
        ok = ok && visit_check_list(v, errp);
        visit_end_list(v, NULL);
    }
    ok = ok && visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
}

/*
 * How each type of TB_DEVICE_PROPS entry is initialised and added.  The
 * sizes keep their defaults in their own encoding (TB_UNSET: computed from
 * guest RAM at realize; pool in pages), set by tb_instance_init.
 */
#define TB_PROP_INIT_size(s, field, def)    ((void)0)
#define TB_PROP_INIT_u32(s, field, def)     ((s)->field = (def))
#define TB_PROP_INIT_flag(s, field, def)    ((s)->field = (def))
#define TB_PROP_INIT_stats(s, field, def)   ((void)0)
#define TB_PROP_INIT_log(s, field, def)     ((void)0)
#define TB_PROP_INIT_gstats(s, field, def)  ((void)0)

#define TB_PROP_ADD_size(s, field, name, flags)                             \
    object_property_add(OBJECT(s), name, "size", tb_get_size,               \
                        (flags) & TB_KNOB_RO ? NULL : tb_set_size, NULL, NULL)
#define TB_PROP_ADD_u32(s, field, name, flags)                              \
    object_property_add(OBJECT(s), name, "uint32", tb_get_u32, tb_set_u32,  \
                        NULL, &(s)->field)
#define TB_PROP_ADD_flag(s, field, name, flags)                             \
    object_property_add_bool(OBJECT(s), name, tb_get_##field, tb_set_##field)
#define TB_PROP_ADD_stats(s, field, name, flags)                            \
    object_property_add(OBJECT(s), name, "TbBalloonStats", tb_get_stats,    \
                        NULL, NULL, NULL)
#define TB_PROP_ADD_log(s, field, name, flags)                              \
    object_property_add(OBJECT(s), name, "TbBatchLog", tb_get_batch_log,    \
                        NULL, NULL, NULL)
#define TB_PROP_ADD_gstats(s, field, name, flags)                           \
    object_property_add(OBJECT(s), name, "TbGuestStats",                    \
                        tb_get_guest_stats, NULL, NULL, NULL)

/*
 * A property's description and default, as -device tb-balloon,help and
 * device-list-properties show them.  A default that depends on the guest
 * ("guest RAM") is worded in the description; a fixed one becomes the
 * property's default value, which QEMU prints after the description (for
 * instance properties it only informs: nothing is initialised from it).
 */
static void tb_prop_describe(Object *obj, ObjectProperty *op,
                             enum tb_knob_type type, const char *unit,
                             uint64_t def, const char *def_text,
                             unsigned int flags, const char *desc)
{
    const char *sep = *unit ? ", " : "";
    g_autofree char *text = NULL;

    if (flags & TB_KNOB_RO) {
        text = g_strdup_printf("%s%s%s (read-only)", desc, sep, unit);
    } else if (def_text) {
        text = g_strdup_printf("%s%s%s (default: %s)", desc, sep, unit,
                               def_text);
    } else {
        text = g_strdup_printf("%s%s%s", desc, sep, unit);
        if (type == TB_KNOB_BOOL) {
            object_property_set_default_bool(op, def);
        } else {
            object_property_set_default_uint(op, def);
        }
    }
    object_property_set_description(obj, op->name, text);
}

static void tb_instance_init(Object *obj)
{
    TBBalloonState *s = TB_BALLOON(obj);

    s->target = TB_UNSET;
    s->max_reservation = TB_UNSET;
    s->max_balloon = TB_UNSET;
    s->host.pool = TB_POOL_UNLIMITED;
    s->self_pidfd = -1;

    /* The properties: the list is TB_DEVICE_PROPS in core/tb_knobs.h. */
#define TB_PROP(field, name, type, unit, def, def_text, flags, be, desc)    \
    TB_PROP_INIT_##type(s, field, def);                                     \
    tb_prop_describe(obj, TB_PROP_ADD_##type(s, field, name, flags),        \
                     TB_KNOB_TYPE(type), unit, def, def_text, flags, desc);
    TB_DEVICE_PROPS(TB_PROP)
#undef TB_PROP
}

/* Migration */

/* The stats that migrate count every discard queued so far. */
static int tb_pre_save(void *opaque)
{
    tb_discard_drain(opaque);
    return 0;
}

/* Not a command: pending_cmd when the stream had no pending subsection. */
#define TB_NO_PENDING   UINT32_MAX

static int tb_pre_load(void *opaque)
{
    TBBalloonState *s = opaque;

    s->pending_cmd = TB_NO_PENDING;
    return 0;
}

/*
 * The incoming stream is input like any other: a corrupt or hostile one
 * must fail to load (-EINVAL, the migration fails, the source keeps
 * running), never abort QEMU in tb_run() or leave a balloon whose count
 * disagrees with its bitmap (query-balloon's "actual" would wrap).
 */
static int tb_check_loaded(TBBalloonState *s)
{
    uint64_t bits = 0, tail_mask = 0;
    uint32_t result = s->cmd_status & ~TB_CMD_BUSY;
    uint32_t i;

    if (s->host.map_pfns % 64) {
        tail_mask = ~0ull << (s->host.map_pfns % 64);
    }
    for (i = 0; i < s->map_words; i++) {
        bits += ctpop64(s->host.map[i]);
    }
    if (s->map_words && (s->host.map[s->map_words - 1] & tail_mask)) {
        error_report("tb-balloon: incoming balloon bitmap has pages past "
                     "the end of RAM (%" PRIu64 " pages)", s->host.map_pfns);
        return -EINVAL;
    }
    if (s->host.balloon_pages != bits) {
        error_report("tb-balloon: incoming balloon of %" PRIu64 " pages, "
                     "but %" PRIu64 " in its bitmap", s->host.balloon_pages,
                     bits);
        return -EINVAL;
    }
    if (result >= TB_CMD_RESULT_NR) {
        error_report("tb-balloon: incoming CMD_STATUS 0x%x: no such result",
                     s->cmd_status);
        return -EINVAL;
    }
    if (s->cmd_status & TB_CMD_BUSY) {
        if (s->pending_cmd == TB_NO_PENDING) {
            error_report("tb-balloon: incoming command busy, but no "
                         "pending command in the stream");
            return -EINVAL;
        }
        if (s->pending_cmd >= TB_CMD_NR) {
            error_report("tb-balloon: incoming pending command %u: no such "
                         "command", s->pending_cmd);
            return -EINVAL;
        }
        if (!timer_pending(&s->reply_timer)) {
            error_report("tb-balloon: incoming command busy without its "
                         "reply timer");
            return -EINVAL;
        }
    }
    if (s->driver_status & ~TB_DRIVER_READY) {
        error_report("tb-balloon: incoming DRIVER_STATUS 0x%x",
                     s->driver_status);
        return -EINVAL;
    }
    if ((s->irq_enable | s->irq_status) & ~TB_IRQ_ALL) {
        error_report("tb-balloon: incoming IRQ_STATUS 0x%x / IRQ_ENABLE 0x%x",
                     s->irq_status, s->irq_enable);
        return -EINVAL;
    }
    return 0;
}

static int tb_post_load(void *opaque, int version_id)
{
    TBBalloonState *s = opaque;
    int ret = tb_check_loaded(s);

    if (ret) {
        /* Nothing of the stream's may run: no command, no balloon. */
        timer_del(&s->reply_timer);
        s->cmd_status = 0;
        tb_host_reset(&s->host);
        return ret;
    }
    if (s->hostile_forget_on_load) {
        /* As a device whose state did not migrate: no balloon, no
         * command running (the host's accounting forgets the pages). */
        timer_del(&s->reply_timer);
        s->cmd_status = TB_CMD_OK;
        s->cmd_done = 0;
        tb_host_reset(&s->host);
    }
    tb_sync_cfg(s);
    tb_update_irq(s);
    if (s->flap_ms) {
        s->flap_base = s->target;   /* this side's own fault setting */
        tb_flap_arm(s);
    }
    return 0;
}

static bool tb_pending_needed(void *opaque)
{
    TBBalloonState *s = opaque;

    return s->cmd_status & TB_CMD_BUSY;
}

/* A command delayed by reply-delay-ms still running. */
static const VMStateDescription vmstate_tb_pending = {
    .name = "tb-balloon/pending",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = tb_pending_needed,
    .fields = (VMStateField[]) {
        VMSTATE_UINT32(pending_cmd, TBBalloonState),
        VMSTATE_UINT64(pending_addr, TBBalloonState),
        VMSTATE_UINT32(pending_count, TBBalloonState),
        VMSTATE_TIMER(reply_timer, TBBalloonState),
        VMSTATE_END_OF_LIST()
    }
};

static const VMStateDescription vmstate_tb_balloon = {
    .name = TYPE_TB_BALLOON,
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = tb_pre_save,
    .pre_load = tb_pre_load,
    .post_load = tb_post_load,
    .fields = (VMStateField[]) {
        VMSTATE_PCI_DEVICE(pdev, TBBalloonState),
        VMSTATE_UINT64(target, TBBalloonState),
        VMSTATE_UINT32(driver_status, TBBalloonState),
        VMSTATE_UINT32(batch_addr_lo, TBBalloonState),
        VMSTATE_UINT32(batch_addr_hi, TBBalloonState),
        VMSTATE_UINT32(batch_count, TBBalloonState),
        VMSTATE_UINT32(cmd_status, TBBalloonState),
        VMSTATE_UINT32(cmd_done, TBBalloonState),
        VMSTATE_UINT32(irq_status, TBBalloonState),
        VMSTATE_UINT32(irq_enable, TBBalloonState),
        VMSTATE_UINT32(generation, TBBalloonState),
        /* The balloon: same RAM size on both sides, or the bitmap lies. */
        VMSTATE_UINT32_EQUAL(map_words, TBBalloonState,
                             "tb-balloon: guest RAM size differs"),
        VMSTATE_VARRAY_UINT32(host.map, TBBalloonState, map_words, 0,
                              vmstate_info_uint64, uint64_t),
        VMSTATE_UINT64(host.balloon_pages, TBBalloonState),
        VMSTATE_UINT64(host.pool, TBBalloonState),
        VMSTATE_UINT64(host.inflate_seen, TBBalloonState),
        VMSTATE_UINT64_2DARRAY(host.count, TBBalloonState, TB_CMD_NR,
                               TB_ST_NR),
        VMSTATE_UINT64_ARRAY(stats.cmds, TBBalloonState, TB_CMD_NR + 1),
        VMSTATE_UINT64_ARRAY(stats.results, TBBalloonState,
                             TB_CMD_RESULT_NR),
        VMSTATE_UINT64(stats.inflated_pages, TBBalloonState),
        VMSTATE_UINT64(stats.deflated_pages, TBBalloonState),
        VMSTATE_UINT64(stats.reset_pages, TBBalloonState),
        VMSTATE_UINT64(stats.partial_grants, TBBalloonState),
        VMSTATE_UINT64(stats.pages_short, TBBalloonState),
        VMSTATE_UINT64(stats.discarded_pages, TBBalloonState),
        VMSTATE_UINT64(stats.discard_failures, TBBalloonState),
        VMSTATE_UINT64(stats.guest_errors, TBBalloonState),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * []) {
        &vmstate_tb_pending,
        NULL
    }
};

/* Class */

static void tb_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = tb_realize;
    k->exit = tb_unrealize;
    k->vendor_id = TB_PCI_VENDOR_ID;
    k->device_id = TB_PCI_DEVICE_ID;
    k->revision = TB_PCI_REVISION;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "balloon-testbed memory balloon";
    dc->reset = tb_reset;
    dc->vmsd = &vmstate_tb_balloon;
    dc->hotpluggable = true;    /* device_del with a full balloon: tested */
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo tb_balloon_info = {
    .name          = TYPE_TB_BALLOON,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(TBBalloonState),
    .instance_init = tb_instance_init,
    .class_init    = tb_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { },
    },
};

static void tb_register_types(void)
{
    type_register_static(&tb_balloon_info);
}

type_init(tb_register_types)
