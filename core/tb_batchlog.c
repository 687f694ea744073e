// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_batchlog.c - the ring of served commands and target changes, and its
 * reader (see tb_batchlog.h).  No allocation, no libc: the caller owns the
 * struct (the device allocates it at realize, the simulator with itself).
 */
#include "tb_batchlog.h"

void tb_batchlog_init(struct tb_batchlog *l, uint64_t id)
{
	l->id = id;
	l->next_seq = 1;
}

static struct tb_batchlog_rec *push(struct tb_batchlog *l, uint64_t t_ns,
				    enum tb_batchlog_kind kind)
{
	struct tb_batchlog_rec *rec;

	if (l->next_seq > TB_BATCHLOG_SEQ_MAX)
		tb_batchlog_init(l, l->id + 1);	/* a new log, read anew */
	rec = &l->rec[l->next_seq % TB_BATCHLOG_RECORDS];
	*rec = (struct tb_batchlog_rec){
		.seq = l->next_seq++, .t_ns = t_ns, .kind = (uint8_t)kind,
		.result = TB_CMD_OK,
	};
	return rec;
}

void tb_batchlog_cmd(struct tb_batchlog *l, uint64_t t_ns, enum tb_cmd cmd,
		     enum tb_cmd_result r, const struct tb_entry *e,
		     uint32_t count, uint64_t balloon_pages,
		     uint64_t target_pages)
{
	struct tb_batchlog_rec *rec = push(l, t_ns, cmd == TB_CMD_DEFLATE ?
					   TB_BL_DEFLATE : TB_BL_INFLATE);
	uint32_t i;

	rec->result = (uint8_t)r;
	rec->entries = count;
	rec->balloon_pages = balloon_pages;
	rec->target_pages = target_pages;
	if (r != TB_CMD_OK || !e)
		return;		/* refused as a whole: no entry was decided */
	for (i = 0; i < count; i++) {
		if (e[i].status == TB_ST_OK) {
			rec->granted++;
			if (e[i].order == TB_ORDER_2M)
				rec->pages_2m++;
			else
				rec->pages_4k++;
			continue;
		}
		rec->refused++;
		if (e[i].status == TB_ST_ERR_POOL)
			rec->partial++;
	}
}

void tb_batchlog_reset(struct tb_batchlog *l, uint64_t t_ns,
		       uint64_t balloon_pages, uint64_t target_pages)
{
	struct tb_batchlog_rec *rec = push(l, t_ns, TB_BL_RESET);

	rec->balloon_pages = balloon_pages;
	rec->target_pages = target_pages;
}

void tb_batchlog_target(struct tb_batchlog *l, uint64_t t_ns,
			uint64_t target_pages, uint64_t balloon_pages)
{
	struct tb_batchlog_rec *rec = push(l, t_ns, TB_BL_TARGET);

	rec->balloon_pages = balloon_pages;
	rec->target_pages = target_pages;
}

uint64_t tb_batchlog_first(const struct tb_batchlog *l)
{
	uint64_t kept = l->next_seq - 1;

	return kept > TB_BATCHLOG_RECORDS ? l->next_seq - TB_BATCHLOG_RECORDS :
	       1;
}

unsigned int tb_batchlog_read(const struct tb_batchlog *l, uint64_t from,
			      struct tb_batchlog_rec *out, unsigned int max)
{
	uint64_t seq = TB_MAX(from, tb_batchlog_first(l));
	unsigned int n = 0;

	for (; n < max && seq < l->next_seq; seq++)
		out[n++] = l->rec[seq % TB_BATCHLOG_RECORDS];
	return n;
}

void tb_batchlog_reader_init(struct tb_batchlog_reader *rd)
{
	*rd = (struct tb_batchlog_reader){ .next = 1 };
}

uint64_t tb_batchlog_reader_sync(struct tb_batchlog_reader *rd, uint64_t id,
				 uint64_t first, uint64_t next)
{
	/* Another log, or this one started over: read it from its start. */
	if (rd->id != id || next < rd->next) {
		rd->id = id;
		rd->next = 1;
		rd->logs++;
	}
	if (rd->next < first) {
		rd->lost += first - rd->next;
		rd->next = first;
	}
	return rd->next;
}

bool tb_batchlog_reader_take(struct tb_batchlog_reader *rd, uint64_t seq)
{
	if (seq < rd->next)
		return false;	/* read before */
	rd->lost += seq - rd->next;
	rd->next = seq + 1;
	rd->taken++;
	return true;
}
