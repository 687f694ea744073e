// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_host.c - host decisions on balloon entries (see tb_host.h).
 *
 * The order of checks is the order a driver writer debugs in: malformed
 * entry (order, alignment, range), then the balloon's own state, then the
 * host's limits and fault injection.  Only an accepted entry changes state.
 */
#include "tb_host.h"

static bool map_test(const uint64_t *map, uint64_t pfn)
{
	return map[pfn / 64] >> (pfn % 64) & 1;
}

static uint64_t map_count(const uint64_t *map, uint64_t pfn, uint64_t n)
{
	uint64_t i, set = 0;

	for (i = 0; i < n; i++)
		set += map_test(map, pfn + i);
	return set;
}

static void map_assign(uint64_t *map, uint64_t pfn, uint64_t n, bool on)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		uint64_t bit = (uint64_t)1 << ((pfn + i) % 64);

		if (on)
			map[(pfn + i) / 64] |= bit;
		else
			map[(pfn + i) / 64] &= ~bit;
	}
}

/* Alignment is the guest's (@gpa_pfn), the range the map's (@pfn). */
static enum tb_status check_shape(const struct tb_host_config *cfg,
				  const struct tb_host_state *st,
				  uint64_t gpa_pfn, uint64_t pfn,
				  unsigned int order, bool in_ram)
{
	uint64_t n;

	if (order != TB_ORDER_4K && (order != TB_ORDER_2M || !cfg->page_2m))
		return TB_ST_ERR_ORDER;
	n = tb_entry_pages(order);
	if (gpa_pfn & (n - 1))
		return TB_ST_ERR_ALIGN;
	if (!in_ram || pfn >= st->map_pfns || st->map_pfns - pfn < n)
		return TB_ST_ERR_RANGE;
	return TB_ST_OK;
}

static enum tb_status inflate(const struct tb_host_config *cfg,
			      struct tb_host_state *st, uint64_t pfn,
			      uint64_t n)
{
	if (map_count(st->map, pfn, n))
		return TB_ST_ERR_STATE;
	if (!cfg->max_balloon_advisory &&
	    st->balloon_pages + n > cfg->max_balloon)
		return TB_ST_ERR_MAX_BALLOON;
	st->inflate_seen++;
	if (cfg->refuse_all ||
	    (cfg->refuse_every && st->inflate_seen % cfg->refuse_every == 0))
		return TB_ST_ERR_FAULT;

	map_assign(st->map, pfn, n, true);
	st->balloon_pages += n;
	if (st->pool != TB_POOL_UNLIMITED)
		st->pool += n;
	return TB_ST_OK;
}

static enum tb_status deflate(const struct tb_host_config *cfg,
			      struct tb_host_state *st, uint64_t pfn,
			      uint64_t n)
{
	uint64_t reservation = cfg->ram_pages - st->balloon_pages;

	if (map_count(st->map, pfn, n) != n)
		return TB_ST_ERR_STATE;
	if (reservation + n > cfg->max_reservation)
		return TB_ST_ERR_MAX_RES;
	if (st->pool != TB_POOL_UNLIMITED && st->pool < n)
		return TB_ST_ERR_POOL;

	map_assign(st->map, pfn, n, false);
	st->balloon_pages -= n;
	if (st->pool != TB_POOL_UNLIMITED)
		st->pool -= n;
	return TB_ST_OK;
}

enum tb_status tb_host_entry(const struct tb_host_config *cfg,
			     struct tb_host_state *st, enum tb_cmd cmd,
			     uint64_t pfn, unsigned int order, bool in_ram)
{
	return tb_host_entry_at(cfg, st, cmd, pfn, pfn, order, in_ram);
}

enum tb_status tb_host_entry_at(const struct tb_host_config *cfg,
				struct tb_host_state *st, enum tb_cmd cmd,
				uint64_t gpa_pfn, uint64_t pfn,
				unsigned int order, bool in_ram)
{
	enum tb_status s;

	if (cmd != TB_CMD_INFLATE && cmd != TB_CMD_DEFLATE)
		return TB_ST_ERR_STATE;	/* not a command that carries entries */

	s = check_shape(cfg, st, gpa_pfn, pfn, order, in_ram);
	if (s == TB_ST_OK && cmd == TB_CMD_INFLATE)
		s = inflate(cfg, st, pfn, tb_entry_pages(order));
	else if (s == TB_ST_OK)
		s = deflate(cfg, st, pfn, tb_entry_pages(order));
	st->count[cmd][s]++;
	return s;
}

void tb_host_reset(struct tb_host_state *st)
{
	uint64_t w;

	for (w = 0; w < tb_map_words(st->map_pfns); w++)
		st->map[w] = 0;
	/* The guest takes every page back: the host has that much less to give. */
	if (st->pool != TB_POOL_UNLIMITED)
		st->pool -= TB_MIN(st->pool, st->balloon_pages);
	st->balloon_pages = 0;
}

bool tb_host_has(const struct tb_host_state *st, uint64_t pfn)
{
	return pfn < st->map_pfns && map_test(st->map, pfn);
}
