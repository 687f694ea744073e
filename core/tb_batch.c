// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_batch.c - the guest's commands, decoded and checked (see tb_batch.h).
 *
 * Nothing here trusts the guest: the command number indexes no table
 * before it is checked, the count bounds every loop, and a pfn is shifted
 * into an address only when the whole entry fits in 64 bits.
 */
#include "tb_batch.h"

enum tb_cmd_result tb_cmd_admit(uint32_t cmd, bool ready, bool busy)
{
	if (busy)
		return TB_CMD_ERR_BUSY;
	if (cmd >= TB_CMD_NR)
		return TB_CMD_ERR_UNKNOWN;
	if (!ready)
		return TB_CMD_ERR_NOT_READY;
	return TB_CMD_OK;
}

enum tb_cmd_result tb_cmd_check_count(uint32_t cmd, uint32_t count)
{
	if (cmd != TB_CMD_INFLATE && cmd != TB_CMD_DEFLATE)
		return TB_CMD_OK;	/* the batch registers do not matter */
	if (count == 0 || count > TB_BATCH_MAX)
		return TB_CMD_ERR_COUNT;
	return TB_CMD_OK;
}

bool tb_status_guest_fault(enum tb_status s)
{
	return s == TB_ST_ERR_RANGE || s == TB_ST_ERR_ALIGN ||
	       s == TB_ST_ERR_ORDER || s == TB_ST_ERR_STATE;
}

/*
 * Where does the entry live in the caller's RAM?  Only orders the protocol
 * knows get as far as a lookup; the rest fail in tb_host_entry's order
 * check whatever we say.
 */
static bool entry_in_ram(const struct tb_batch_ops *ops, uint64_t gpa_pfn,
			 unsigned int order, uint64_t *ram_pfn)
{
	uint64_t pages, off;

	if (order != TB_ORDER_4K && order != TB_ORDER_2M)
		return false;
	pages = tb_entry_pages(order);
	/* gpa + len must not wrap: pfn + pages <= 2^52 */
	if (gpa_pfn > (UINT64_MAX >> TB_PAGE_SHIFT) - pages)
		return false;
	if (!ops->gpa_to_ram(ops->opaque, gpa_pfn << TB_PAGE_SHIFT,
			     pages << TB_PAGE_SHIFT, &off))
		return false;
	if (off & (TB_PAGE_SIZE - 1))
		return false;	/* a translation we cannot index by page */
	*ram_pfn = off >> TB_PAGE_SHIFT;
	return true;
}

enum tb_cmd_result tb_batch_run(const struct tb_host_config *cfg,
				struct tb_host_state *st, uint32_t cmd,
				struct tb_entry *e, uint32_t count,
				const struct tb_batch_ops *ops,
				struct tb_batch_result *res)
{
	enum tb_cmd_result r;
	uint32_t i;

	*res = (struct tb_batch_result){ 0 };
	if (cmd != TB_CMD_INFLATE && cmd != TB_CMD_DEFLATE)
		return cmd < TB_CMD_NR ? TB_CMD_OK : TB_CMD_ERR_UNKNOWN;
	r = tb_cmd_check_count(cmd, count);
	if (r != TB_CMD_OK)
		return r;

	for (i = 0; i < count; i++) {
		struct tb_entry_decision d = {
			.cmd = cmd,
			.index = i,
			.gpa_pfn = tb_le64(e[i].pfn),
			.order = e[i].order,
		};
		uint64_t ram_pfn = d.gpa_pfn;
		bool in_ram = entry_in_ram(ops, d.gpa_pfn, d.order, &ram_pfn);

		d.status = tb_host_entry_at(cfg, st, cmd, d.gpa_pfn, ram_pfn,
					    d.order, in_ram);
		e[i].status = d.status;
		if (d.status == TB_ST_OK) {
			d.pages = tb_entry_pages(d.order);
			d.ram_offset = ram_pfn << TB_PAGE_SHIFT;
			res->ok++;
			res->ok_pages += d.pages;
		} else if (d.status == TB_ST_ERR_POOL) {
			res->partial = true;
			res->short_pages += tb_entry_pages(d.order);
		} else if (tb_status_guest_fault(d.status)) {
			res->guest_faults++;
		}
		if (ops->entry_done)
			ops->entry_done(ops->opaque, &d);
	}
	return TB_CMD_OK;
}
