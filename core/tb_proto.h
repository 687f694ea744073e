/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_proto.h - the balloon-testbed device protocol ("tb-balloon").
 *
 * The one copy of the register map, commands, status codes and units shared
 * by the QEMU device (qemu-dev/), the Linux driver (guest-driver/), the
 * harness and the simulator.  qemu-dev/tb-balloon.txt is the prose spec.
 *
 * Units: every page count is in 4 KiB pages (TB_PAGE_SHIFT), whatever the
 * page size of an entry.  Guest-physical addresses are bytes.
 */
#ifndef TB_PROTO_H
#define TB_PROTO_H

#include "tb_compat.h"

/* PCI identity: QEMU's experimental vendor id, as edu uses. */
#define TB_PCI_VENDOR_ID	0x1234
#define TB_PCI_DEVICE_ID	0xba11
#define TB_PCI_REVISION		0x01
#define TB_BAR0_SIZE		0x1000	/* BAR0: registers, 32-bit MMIO */

#define TB_MAGIC		0x74626c6eu	/* "tbln" */
#define TB_VERSION		1u

#define TB_PAGE_SHIFT		12
#define TB_PAGE_SIZE		(1u << TB_PAGE_SHIFT)
#define TB_ORDER_4K		0	/* a 4 KiB page */
#define TB_ORDER_2M		9	/* a 2 MiB page: 512 x 4 KiB */
#define TB_PAGES_PER_2M		(1u << TB_ORDER_2M)

/* Entries one command may carry; the batch buffer holds this many. */
#define TB_BATCH_MAX		1024u

/* Register offsets in BAR0; all registers are 32 bits wide. */
enum tb_reg {
	TB_REG_MAGIC		= 0x00,	/* RO TB_MAGIC */
	TB_REG_VERSION		= 0x04,	/* RO TB_VERSION */
	TB_REG_FEATURES		= 0x08,	/* RO TB_F_* the device offers */
	TB_REG_DRIVER_STATUS	= 0x0c,	/* RW TB_DRIVER_* */
	TB_REG_TARGET		= 0x10,	/* RO target reservation, pages */
	TB_REG_BOOT_PAGES	= 0x14,	/* RO boot-time reservation (RAM), pages */
	TB_REG_MAX_RESERVATION	= 0x18,	/* RO maximum reservation, pages */
	TB_REG_MAX_BALLOON	= 0x1c,	/* RO maximum balloon size, pages */
	TB_REG_BALLOON_PAGES	= 0x20,	/* RO device's balloon accounting, pages */
	TB_REG_POLL_MS		= 0x24,	/* RO poll interval advised, ms */
	TB_REG_BATCH_MAX	= 0x28,	/* RO entries per command (TB_BATCH_MAX) */
	TB_REG_BATCH_ADDR_LO	= 0x30,	/* RW batch buffer guest-physical addr */
	TB_REG_BATCH_ADDR_HI	= 0x34,	/* RW   (bits 63..32) */
	TB_REG_BATCH_COUNT	= 0x38,	/* RW entries in the batch */
	TB_REG_COMMAND		= 0x3c,	/* WO enum tb_cmd: starts a command */
	TB_REG_CMD_STATUS	= 0x40,	/* RO TB_CMD_BUSY | enum tb_cmd_result */
	TB_REG_CMD_DONE		= 0x44,	/* RO entries accepted/granted by last cmd */
	TB_REG_IRQ_STATUS	= 0x48,	/* RO TB_IRQ_* pending */
	TB_REG_IRQ_ACK		= 0x4c,	/* WO write 1s to clear TB_IRQ_* */
	TB_REG_IRQ_ENABLE	= 0x50,	/* RW TB_IRQ_* enabled (default none) */
	TB_REG_GENERATION	= 0x54,	/* RO bumped on every target change */
	TB_REG_STATS_INTERVAL_MS = 0x58, /* RO guest figures wanted this often,
					   ms; 0: none (TB_F_STATS) */
	TB_REG_STATS_REPORT	= 0x5c,	/* WO pfn of a stats page: the device
					   reads the figures in it now */
};

/* TB_REG_FEATURES */
#define TB_F_DISCARD		(1u << 0) /* accepted pages are freed on the host;
					     clear: guest must zero before inflate */
#define TB_F_PAGE_2M		(1u << 1) /* 2 MiB entries accepted */
#define TB_F_CMD_IRQ		(1u << 2) /* TB_IRQ_CMD_DONE is raised */
#define TB_F_STATS		(1u << 3) /* guest figures: STATS_INTERVAL_MS,
					     STATS_REPORT, TB_IRQ_STATS */

/* TB_REG_DRIVER_STATUS */
#define TB_DRIVER_READY		(1u << 0) /* driver bound; commands allowed */

/* TB_REG_IRQ_* bits (INTx, level, asserted while STATUS & ENABLE) */
#define TB_IRQ_TARGET		(1u << 0) /* the host changed the target */
#define TB_IRQ_CMD_DONE		(1u << 1) /* a command finished */
#define TB_IRQ_STATS		(1u << 2) /* the host set STATS_INTERVAL_MS */
#define TB_IRQ_ALL		(TB_IRQ_TARGET | TB_IRQ_CMD_DONE | TB_IRQ_STATS)

/* TB_REG_COMMAND */
enum tb_cmd {
	TB_CMD_NOP = 0,
	TB_CMD_INFLATE,		/* entries: pages the guest hands to the host */
	TB_CMD_DEFLATE,		/* entries: pages the guest asks back */
	TB_CMD_RESET,		/* forget the whole balloon (driver (re)load) */
	TB_CMD_NR
};

/* TB_REG_CMD_STATUS: bit 31 busy, low byte the command's result */
#define TB_CMD_BUSY		(1u << 31)
enum tb_cmd_result {
	TB_CMD_OK = 0,
	TB_CMD_ERR_UNKNOWN,	/* unknown command */
	TB_CMD_ERR_COUNT,	/* batch count 0 or above TB_BATCH_MAX */
	TB_CMD_ERR_ADDR,	/* batch buffer not in guest RAM */
	TB_CMD_ERR_NOT_READY,	/* TB_DRIVER_READY not set */
	TB_CMD_ERR_BUSY,	/* a command is still running */
	TB_CMD_RESULT_NR
};

/* Per-entry status, written back by the device into each entry. */
enum tb_status {
	TB_ST_PENDING = 0,	/* written by the guest; never a reply */
	TB_ST_OK,		/* inflate: accepted; deflate: granted */
	TB_ST_ERR_RANGE,	/* not in guest RAM */
	TB_ST_ERR_ALIGN,	/* 2 MiB entry not 2 MiB aligned */
	TB_ST_ERR_ORDER,	/* order neither 0 nor 9 (or 9 not offered) */
	TB_ST_ERR_STATE,	/* inflate: already in balloon;
				   deflate: not in balloon */
	TB_ST_ERR_MAX_BALLOON,	/* inflate: over the maximum balloon size */
	TB_ST_ERR_FAULT,	/* inflate: refused by fault injection */
	TB_ST_ERR_POOL,		/* deflate: host pool empty (partial grant) */
	TB_ST_ERR_MAX_RES,	/* deflate: over the maximum reservation */
	TB_ST_NR
};

/*
 * One batch entry, little-endian, 16 bytes; the batch buffer is an array of
 * TB_REG_BATCH_COUNT of them, physically contiguous.
 */
struct tb_entry {
	uint64_t pfn;		/* guest-physical address >> TB_PAGE_SHIFT */
	uint8_t order;		/* TB_ORDER_4K or TB_ORDER_2M */
	uint8_t status;		/* enum tb_status, written by the device */
	uint8_t reserved[6];	/* zero */
};

/*
 * Guest figures (TB_F_STATS), in the spirit of virtio-balloon's statistics
 * queue: the driver fills one 4 KiB page, guest RAM, with a header and
 * tagged entries, and writes its pfn to STATS_REPORT every
 * STATS_INTERVAL_MS.  The device reads min(count, TB_STATS_MAX) entries
 * and skips every entry whose tag it does not know (a newer driver's), so
 * a report is never refused for what is in it.  Each report replaces the
 * figures of the one before: a figure the driver stops sending is gone.
 * Little-endian, 16 bytes an entry, the header 16 bytes.
 */
#define TB_STATS_MAX		64u	/* entries the device reads at most */

struct tb_gs_hdr {
	uint32_t count;		/* entries that follow */
	uint32_t seq;		/* the driver's report number (informative) */
	uint8_t reserved[8];	/* zero */
};

struct tb_gs_entry {
	uint16_t tag;		/* enum tb_gs_tag */
	uint8_t reserved[6];	/* zero */
	uint64_t value;
};

/*
 * The tags.  Memory in bytes, events as counts since boot, PSI's 10 s
 * averages in hundredths of a percent (0..10000) and its totals in us.
 * Tag 0 is never a figure (skipped, as unknown tags are).
 */
enum tb_gs_tag {
	TB_GS_NONE = 0,
	TB_GS_FREE,		/* si_meminfo freeram (MemFree) */
	TB_GS_AVAILABLE,	/* si_mem_available (MemAvailable) */
	TB_GS_CACHE,		/* NR_FILE_PAGES: page cache (Cached+...) */
	TB_GS_TOTAL,		/* totalram (MemTotal) */
	TB_GS_MAJOR_FAULTS,	/* vm event PGMAJFAULT */
	TB_GS_MINOR_FAULTS,	/* PGFAULT - PGMAJFAULT */
	TB_GS_OOM_KILLS,	/* vm event OOM_KILL */
	TB_GS_ALLOC_STALLS,	/* vm events ALLOCSTALL_*, summed */
	TB_GS_SWAP_IN,		/* PSWPIN, bytes */
	TB_GS_SWAP_OUT,		/* PSWPOUT, bytes */
	TB_GS_PSI_SOME_AVG10,	/* /proc/pressure/memory "some avg10" */
	TB_GS_PSI_FULL_AVG10,	/* "full avg10" */
	TB_GS_PSI_SOME_US,	/* "some total", us */
	TB_GS_PSI_FULL_US,	/* "full total", us */
	TB_GS_NR
};

/* The figures' names in QMP's guest-stats (virtio-balloon's where it has
 * one), indexed by tag. */
static const char *const tb_gs_names[TB_GS_NR] = {
	[TB_GS_NONE] = "none",
	[TB_GS_FREE] = "stat-free-memory",
	[TB_GS_AVAILABLE] = "stat-available-memory",
	[TB_GS_CACHE] = "stat-disk-caches",
	[TB_GS_TOTAL] = "stat-total-memory",
	[TB_GS_MAJOR_FAULTS] = "stat-major-faults",
	[TB_GS_MINOR_FAULTS] = "stat-minor-faults",
	[TB_GS_OOM_KILLS] = "stat-oom-kills",
	[TB_GS_ALLOC_STALLS] = "stat-alloc-stalls",
	[TB_GS_SWAP_IN] = "stat-swap-in",
	[TB_GS_SWAP_OUT] = "stat-swap-out",
	[TB_GS_PSI_SOME_AVG10] = "stat-psi-some-avg10",
	[TB_GS_PSI_FULL_AVG10] = "stat-psi-full-avg10",
	[TB_GS_PSI_SOME_US] = "stat-psi-some-total-us",
	[TB_GS_PSI_FULL_US] = "stat-psi-full-total-us",
};

static inline uint64_t tb_entry_pages(unsigned int order)
{
	return (uint64_t)1 << order;
}

/* Names for logs and stats, indexed by the enums above. */
static const char *const tb_cmd_names[TB_CMD_NR] = {
	[TB_CMD_NOP] = "nop",
	[TB_CMD_INFLATE] = "inflate",
	[TB_CMD_DEFLATE] = "deflate",
	[TB_CMD_RESET] = "reset",
};

static const char *const tb_status_names[TB_ST_NR] = {
	[TB_ST_PENDING] = "pending",
	[TB_ST_OK] = "ok",
	[TB_ST_ERR_RANGE] = "range",
	[TB_ST_ERR_ALIGN] = "align",
	[TB_ST_ERR_ORDER] = "order",
	[TB_ST_ERR_STATE] = "state",
	[TB_ST_ERR_MAX_BALLOON] = "max-balloon",
	[TB_ST_ERR_FAULT] = "fault",
	[TB_ST_ERR_POOL] = "pool",
	[TB_ST_ERR_MAX_RES] = "max-reservation",
};

static const char *const tb_cmd_result_names[TB_CMD_RESULT_NR] = {
	[TB_CMD_OK] = "ok",
	[TB_CMD_ERR_UNKNOWN] = "unknown-command",
	[TB_CMD_ERR_COUNT] = "bad-count",
	[TB_CMD_ERR_ADDR] = "bad-address",
	[TB_CMD_ERR_NOT_READY] = "not-ready",
	[TB_CMD_ERR_BUSY] = "busy",
};

#endif /* TB_PROTO_H */
