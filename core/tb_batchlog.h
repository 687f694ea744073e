/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_batchlog.h - the device's record of every command it serves and every
 * target the host sets, on one clock, in a bounded ring; and the reader's
 * side, which drains it without consuming it.  Shared by the QEMU device
 * (the "batch-log" property, QEMU_CLOCK_VIRTUAL), the simulator (its
 * virtual clock) and the harness (harness/run/batches.c reads either).
 *
 * The ring keeps the last TB_BATCHLOG_RECORDS records whatever the guest
 * does: a guest that floods commands only pushes the oldest records out,
 * which the reader counts as lost (records carry a sequence number).
 * Reading never changes the log: a reader asks for the records from a
 * sequence number on, at most TB_BATCHLOG_READ_MAX at a time, and keeps
 * the number it wants next itself.
 *
 * Units: 4 KiB pages for the balloon and targets, entries for counts, the
 * caller's clock in ns.
 */
#ifndef TB_BATCHLOG_H
#define TB_BATCHLOG_H

#include "tb_proto.h"

#define TB_BATCHLOG_RECORDS	4096	/* records the ring keeps */
/* Records one read returns: a QMP reply of that many stays under 4 KiB. */
#define TB_BATCHLOG_READ_MAX	12
/* The last sequence number of a log: the next record starts a new log. */
#define TB_BATCHLOG_SEQ_MAX	UINT32_MAX

enum tb_batchlog_kind {
	TB_BL_INFLATE,		/* an INFLATE command was served */
	TB_BL_DEFLATE,		/* a DEFLATE command was served */
	TB_BL_RESET,		/* the balloon was emptied: RESET, driver
				   unload (DRIVER_READY cleared), system
				   reset */
	TB_BL_TARGET,		/* the target changed: the host set it, or
				   flap-ms toggled it */
	TB_BL_KIND_NR
};

static const char *const tb_batchlog_kind_names[TB_BL_KIND_NR] = {
	[TB_BL_INFLATE] = "inflate",
	[TB_BL_DEFLATE] = "deflate",
	[TB_BL_RESET] = "reset",
	[TB_BL_TARGET] = "target",
};

struct tb_batchlog_rec {
	uint64_t seq;		/* 1, 2, ... within one log */
	uint64_t t_ns;		/* when it was served, the owner's clock */
	uint64_t balloon_pages;	/* the balloon after it, 4 KiB pages */
	uint64_t target_pages;	/* the target in force after it, pages */
	uint32_t entries;	/* BATCH_COUNT (0: reset, target) */
	uint32_t pages_4k;	/* 4 KiB entries granted */
	uint32_t pages_2m;	/* 2 MiB entries granted */
	uint32_t granted;	/* entries OK: pages_4k + pages_2m */
	uint32_t refused;	/* entries with any other status */
	uint32_t partial;	/* of those, refused for the host's pool
				   (TB_ST_ERR_POOL): a partial grant */
	uint8_t kind;		/* enum tb_batchlog_kind */
	uint8_t result;		/* enum tb_cmd_result of the command */
};

struct tb_batchlog {
	uint64_t id;		/* tells this log from an earlier one */
	uint64_t next_seq;	/* the next record's; the first is 1 */
	struct tb_batchlog_rec rec[TB_BATCHLOG_RECORDS];
};

/* An empty log called @id (the device uses the clock at realize, + 1). */
void tb_batchlog_init(struct tb_batchlog *l, uint64_t id);

/*
 * An INFLATE or DEFLATE that was served (@r its result; the entries'
 * statuses are what the device decided, before any hostile garbling).
 * @e may be NULL when the command failed before its entries were read.
 */
void tb_batchlog_cmd(struct tb_batchlog *l, uint64_t t_ns, enum tb_cmd cmd,
		     enum tb_cmd_result r, const struct tb_entry *e,
		     uint32_t count, uint64_t balloon_pages,
		     uint64_t target_pages);

/* The balloon was emptied (@balloon_pages: what is left, normally 0). */
void tb_batchlog_reset(struct tb_batchlog *l, uint64_t t_ns,
		       uint64_t balloon_pages, uint64_t target_pages);

/* The target became @target_pages. */
void tb_batchlog_target(struct tb_batchlog *l, uint64_t t_ns,
			uint64_t target_pages, uint64_t balloon_pages);

/* The oldest sequence number still kept (next_seq when empty). */
uint64_t tb_batchlog_first(const struct tb_batchlog *l);

/*
 * Up to @max records from sequence number @from on (the oldest kept when
 * @from is older, or 0) into @out, oldest first.  Returns how many.
 */
unsigned int tb_batchlog_read(const struct tb_batchlog *l, uint64_t from,
			      struct tb_batchlog_rec *out, unsigned int max);

/*
 * The reader.  Each read of the log says its id, the oldest record kept
 * and the next sequence number; tb_batchlog_reader_sync() takes that and
 * says from which number to read, counting what the ring dropped before
 * it was read and logs that replaced the one being read (a hot-plugged
 * device, a migration: both start a new log).  tb_batchlog_reader_take()
 * then says, for each record read, whether it is new.
 */
struct tb_batchlog_reader {
	uint64_t id;		/* the log being read; 0: none yet */
	uint64_t next;		/* the next sequence number wanted */
	uint64_t lost;		/* records gone before they were read */
	uint64_t logs;		/* logs read from (1 + restarts) */
	uint64_t taken;		/* records taken */
};

void tb_batchlog_reader_init(struct tb_batchlog_reader *rd);
uint64_t tb_batchlog_reader_sync(struct tb_batchlog_reader *rd, uint64_t id,
				 uint64_t first, uint64_t next);
bool tb_batchlog_reader_take(struct tb_batchlog_reader *rd, uint64_t seq);

#endif /* TB_BATCHLOG_H */
