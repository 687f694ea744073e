/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_batch.h - decoding and validation of the guest's commands, shared by
 * the QEMU device and the simulator, and fuzzed in user space
 * (core/fuzz_batch.c).  Everything the guest controls passes through here
 * before it touches the balloon: the command number, BATCH_COUNT and each
 * entry's pfn, order and reserved bytes.
 *
 * The caller owns guest memory and timing: it reads the batch buffer
 * (after checking that the buffer itself is guest RAM), passes the entries
 * in, writes them back, and translates guest-physical ranges to offsets in
 * its RAM through struct tb_batch_ops.
 */
#ifndef TB_BATCH_H
#define TB_BATCH_H

#include "tb_host.h"

/* Entry fields are little-endian on the wire. */
static inline uint64_t tb_le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap64(v);
#else
	return v;
#endif
}

/*
 * A write to COMMAND: may it start?  In the device's order: a command
 * while another is busy (TB_CMD_ERR_BUSY: dropped, the running command
 * keeps CMD_STATUS), an unknown command, a command before DRIVER_READY.
 * TB_CMD_OK: start it (now or after reply-delay-ms).
 */
enum tb_cmd_result tb_cmd_admit(uint32_t cmd, bool ready, bool busy);

/* Before reading the batch: INFLATE/DEFLATE need 1..TB_BATCH_MAX entries. */
enum tb_cmd_result tb_cmd_check_count(uint32_t cmd, uint32_t count);

/* One entry's outcome, given to ops->entry_done. */
struct tb_entry_decision {
	enum tb_cmd cmd;
	uint32_t index;		/* in the batch */
	uint64_t gpa_pfn;	/* as the guest wrote it */
	unsigned int order;	/* as the guest wrote it */
	enum tb_status status;
	uint64_t ram_offset;	/* TB_ST_OK only: bytes into the caller's RAM */
	uint64_t pages;		/* TB_ST_OK only: 4 KiB pages */
};

struct tb_batch_ops {
	/*
	 * Is all of [gpa, gpa + len) the guest's main RAM?  If so, set
	 * *ram_offset to where it starts there (the balloon bitmap index is
	 * ram_offset >> TB_PAGE_SHIFT).  len is never 0 and gpa + len never
	 * wraps.
	 */
	bool (*gpa_to_ram)(void *opaque, uint64_t gpa, uint64_t len,
			   uint64_t *ram_offset);
	/*
	 * Optional: called for every entry, in order, after its decision
	 * (the balloon already updated): discard accepted pages, trace, log.
	 */
	void (*entry_done)(void *opaque, const struct tb_entry_decision *d);
	void *opaque;
};

/* What a batch did. */
struct tb_batch_result {
	uint32_t ok;		/* entries TB_ST_OK: CMD_DONE */
	uint64_t ok_pages;	/* pages accepted (inflate) / granted (deflate) */
	uint64_t short_pages;	/* pages refused with TB_ST_ERR_POOL */
	bool partial;		/* some entry refused with TB_ST_ERR_POOL */
	uint32_t guest_faults;	/* entries malformed by the guest */
};

/*
 * Decide the @count entries of an INFLATE or DEFLATE in order, update the
 * balloon (@st) and write each status into @e[i].status.  Any other
 * command, or a count outside 1..TB_BATCH_MAX, returns the command-level
 * error and touches nothing.  Returns TB_CMD_OK when the entries were
 * decided; @res is filled in either case.
 */
enum tb_cmd_result tb_batch_run(const struct tb_host_config *cfg,
				struct tb_host_state *st, uint32_t cmd,
				struct tb_entry *e, uint32_t count,
				const struct tb_batch_ops *ops,
				struct tb_batch_result *res);

/* Statuses that mean the guest sent a malformed entry (logged as such). */
bool tb_status_guest_fault(enum tb_status s);

#endif /* TB_BATCH_H */
