// SPDX-License-Identifier: GPL-2.0-only
/*
 * sim_mem.c - buddy-allocator model of the guest's memory (see sim_mem.h).
 *
 * Free blocks live in one bitmap per order; the lowest free block of the
 * smallest sufficient order is taken, and the upper halves of a split go
 * back one order down, as in Linux's expand().  Lowest-address-first keeps
 * the model deterministic and makes fragmentation depend on what was
 * allocated where, which is what the fragmentation scenario exercises.
 */
#include <stdlib.h>
#include <string.h>

#include "sim_mem.h"

#define SIM_IN_LRU	0x80	/* state flag: the pfn sits in the LRU ring */

const char *const sim_pstate_names[SIM_PSTATE_NR] = {
	[SIM_FREE] = "free", [SIM_KERNEL] = "kernel", [SIM_CACHE] = "cache",
	[SIM_SHMEM] = "shmem", [SIM_ANON] = "anon", [SIM_PINNED] = "pinned",
	[SIM_BALLOON] = "balloon",
};

static uint64_t words(uint64_t bits)
{
	return (bits + 63) / 64;
}

static bool bit_test(const uint64_t *map, uint64_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static void block_put(struct sim_mem *m, unsigned int o, uint64_t idx)
{
	m->free_map[o][idx / 64] |= (uint64_t)1 << (idx % 64);
	m->free_blocks[o]++;
	if (idx / 64 < m->free_hint[o])
		m->free_hint[o] = idx / 64;
}

static void block_del(struct sim_mem *m, unsigned int o, uint64_t idx)
{
	m->free_map[o][idx / 64] &= ~((uint64_t)1 << (idx % 64));
	m->free_blocks[o]--;
}

/* Lowest free block of order @o; the caller knows there is one. */
static uint64_t block_first(struct sim_mem *m, unsigned int o)
{
	uint64_t w = m->free_hint[o];

	while (!m->free_map[o][w])
		w++;
	m->free_hint[o] = w;
	return w * 64 + (uint64_t)__builtin_ctzll(m->free_map[o][w]);
}

/* Free a block, merging with its buddy while the buddy is free. */
static void buddy_free(struct sim_mem *m, uint64_t pfn, unsigned int o)
{
	uint64_t idx = pfn >> o;

	while (o < SIM_MAX_ORDER) {
		uint64_t buddy = idx ^ 1;

		if (((buddy + 1) << o) > m->pages ||
		    !bit_test(m->free_map[o], buddy))
			break;
		block_del(m, o, buddy);
		idx >>= 1;
		o++;
	}
	block_put(m, o, idx);
}

int sim_mem_init(struct sim_mem *m, uint64_t pages, uint64_t kernel_pages)
{
	uint64_t kb = pages * 4, min_kb;
	uint64_t pfn;
	unsigned int o;

	memset(m, 0, sizeof(*m));
	if (!pages || pages > UINT32_MAX || kernel_pages >= pages)
		return -1;
	m->pages = pages;
	m->state = calloc(pages, 1);
	m->owner = calloc(pages, sizeof(*m->owner));
	m->touched = calloc(words(pages), sizeof(uint64_t));
	m->lru = malloc(pages * sizeof(*m->lru));
	for (o = 0; o <= SIM_MAX_ORDER; o++)
		m->free_map[o] = calloc(words((pages >> o) + 1),
					sizeof(uint64_t));
	if (!m->state || !m->owner || !m->touched || !m->lru) {
		sim_mem_destroy(m);
		return -1;
	}
	for (o = 0; o <= SIM_MAX_ORDER; o++)
		if (!m->free_map[o]) {
			sim_mem_destroy(m);
			return -1;
		}

	/* The kernel image, memmap and early allocations: written at boot. */
	memset(m->state, SIM_KERNEL, kernel_pages);
	m->count[SIM_KERNEL] = kernel_pages;
	sim_mem_touch(m, 0, kernel_pages);
	for (pfn = kernel_pages; pfn < pages;) {
		o = SIM_MAX_ORDER;
		while (o && ((pfn & ((1ull << o) - 1)) ||
			     pfn + (1ull << o) > pages))
			o--;
		block_put(m, o, pfn >> o);
		pfn += 1ull << o;
	}
	m->count[SIM_FREE] = pages - kernel_pages;

	/* mm/page_alloc.c: min_free_kbytes = sqrt(16 * lowmem KiB), clamped.
	 * (khugepaged may raise it: sim_mem_set_min_free().) */
	min_kb = 1;
	while ((min_kb + 1) * (min_kb + 1) <= 16 * kb)
		min_kb++;
	min_kb = min_kb < 128 ? 128 : min_kb > 262144 ? 262144 : min_kb;
	sim_mem_set_min_free(m, min_kb);
	return 0;
}

void sim_mem_set_min_free(struct sim_mem *m, uint64_t min_kb)
{
	uint64_t delta;

	/* low and high add watermark_scale_factor (0.1%) of memory. */
	m->wmark_min = min_kb / 4;
	delta = m->pages * 10 / 10000;
	if (delta < m->wmark_min / 4)
		delta = m->wmark_min / 4;
	m->wmark_low = m->wmark_min + delta;
	m->wmark_high = m->wmark_min + 2 * delta;
}

void sim_mem_destroy(struct sim_mem *m)
{
	unsigned int o;

	free(m->state);
	free(m->owner);
	free(m->touched);
	free(m->lru);
	for (o = 0; o <= SIM_MAX_ORDER; o++)
		free(m->free_map[o]);
	memset(m, 0, sizeof(*m));
}

void sim_mem_touch(struct sim_mem *m, uint64_t pfn, uint64_t n)
{
	for (; n; n--, pfn++)
		if (!bit_test(m->touched, pfn)) {
			m->touched[pfn / 64] |= (uint64_t)1 << (pfn % 64);
			m->touched_pages++;
		}
}

void sim_mem_untouch(struct sim_mem *m, uint64_t pfn, uint64_t n)
{
	for (; n; n--, pfn++)
		if (bit_test(m->touched, pfn)) {
			m->touched[pfn / 64] &= ~((uint64_t)1 << (pfn % 64));
			m->touched_pages--;
		}
}

static void set_pages(struct sim_mem *m, uint64_t pfn, uint64_t n,
		      enum sim_pstate state, uint16_t owner)
{
	uint64_t i;

	for (i = pfn; i < pfn + n; i++) {
		m->count[sim_mem_state(m, i)]--;
		m->state[i] = (uint8_t)state | (m->state[i] & SIM_IN_LRU);
		m->owner[i] = owner;
	}
	m->count[state] += n;
}

uint64_t sim_mem_reclaim(struct sim_mem *m, uint64_t want)
{
	uint64_t got = 0;

	while (got < want && m->lru_len) {
		uint64_t pfn = m->lru[m->lru_head];

		m->lru_head = (m->lru_head + 1) % m->pages;
		m->lru_len--;
		m->state[pfn] &= (uint8_t)~SIM_IN_LRU;
		if (sim_mem_state(m, pfn) != SIM_CACHE)
			continue;	/* freed since: a stale entry */
		set_pages(m, pfn, 1, SIM_FREE, 0);
		buddy_free(m, pfn, 0);
		got++;
	}
	m->reclaimed += got;
	return got;
}

static void lru_add(struct sim_mem *m, uint64_t pfn)
{
	if (m->state[pfn] & SIM_IN_LRU)
		return;		/* still queued from an earlier life */
	m->lru[(m->lru_head + m->lru_len) % m->pages] = (uint32_t)pfn;
	m->lru_len++;
	m->state[pfn] |= SIM_IN_LRU;
}

static uint64_t take(struct sim_mem *m, unsigned int order)
{
	unsigned int o;
	uint64_t idx;

	for (o = order; o <= SIM_MAX_ORDER && !m->free_blocks[o]; o++)
		;
	if (o > SIM_MAX_ORDER)
		return SIM_NO_PFN;
	idx = block_first(m, o);
	block_del(m, o, idx);
	while (o > order) {		/* expand(): upper halves go back */
		o--;
		idx <<= 1;
		block_put(m, o, idx + 1);
	}
	return idx << order;
}

static bool above_min(const struct sim_mem *m, uint64_t n)
{
	return m->count[SIM_FREE] >= n + m->wmark_min + m->reserve;
}

uint64_t sim_mem_alloc(struct sim_mem *m, unsigned int order,
		       enum sim_pstate state, uint16_t owner, unsigned int gfp)
{
	uint64_t n = 1ull << order, pfn = SIM_NO_PFN;
	int attempt;

	if (order > SIM_MAX_ORDER || state == SIM_FREE)
		return SIM_NO_PFN;
	/* kswapd wakes below "low" and reclaims to "high". */
	if ((gfp & (SIM_GFP_KSWAPD | SIM_GFP_RECLAIM)) &&
	    m->count[SIM_FREE] < n + m->wmark_low + m->reserve)
		sim_mem_reclaim(m, m->wmark_high + m->reserve + n -
				m->count[SIM_FREE]);

	for (attempt = 0; attempt < 2; attempt++) {
		if (above_min(m, n))
			pfn = take(m, order);
		if (pfn != SIM_NO_PFN || !(gfp & SIM_GFP_RECLAIM))
			break;
		/* Direct reclaim: enough for the watermark, and for a high
		 * order the 2 << order that compaction would want. */
		if (!sim_mem_reclaim(m, above_min(m, n) ? 2 * n :
				     n + m->wmark_min + m->reserve -
				     m->count[SIM_FREE]))
			break;
	}
	if (pfn == SIM_NO_PFN)
		return SIM_NO_PFN;

	set_pages(m, pfn, n, state, owner);
	if (gfp & SIM_GFP_TOUCH)
		sim_mem_touch(m, pfn, n);
	if (state == SIM_CACHE)
		for (uint64_t i = 0; i < n; i++)
			lru_add(m, pfn + i);
	return pfn;
}

void sim_mem_free(struct sim_mem *m, uint64_t pfn, unsigned int order)
{
	set_pages(m, pfn, 1ull << order, SIM_FREE, 0);
	buddy_free(m, pfn, order);
}

uint64_t sim_mem_available(const struct sim_mem *m)
{
	uint64_t free = m->count[SIM_FREE], low = m->wmark_low + m->reserve;

	return (free > low ? free - low : 0) + m->count[SIM_CACHE];
}

bool sim_mem_can_satisfy(const struct sim_mem *m, uint64_t pages)
{
	return m->count[SIM_FREE] + m->count[SIM_CACHE] >=
	       pages + m->wmark_min + m->reserve;
}

uint64_t sim_mem_blocks_at_least(const struct sim_mem *m, unsigned int order)
{
	uint64_t n = 0;
	unsigned int o;

	for (o = order; o <= SIM_MAX_ORDER; o++)
		n += m->free_blocks[o] << (o - order);
	return n;
}

int sim_mem_check(const struct sim_mem *m)
{
	uint64_t count[SIM_PSTATE_NR] = { 0 }, free_in_blocks = 0, pfn;
	unsigned int o, s;

	for (pfn = 0; pfn < m->pages; pfn++)
		count[sim_mem_state(m, pfn)]++;
	for (s = 0; s < SIM_PSTATE_NR; s++)
		if (count[s] != m->count[s])
			return -1;
	for (o = 0; o <= SIM_MAX_ORDER; o++) {
		uint64_t blocks = 0, idx;

		for (idx = 0; idx < (m->pages >> o); idx++) {
			if (!bit_test(m->free_map[o], idx))
				continue;
			blocks++;
			for (pfn = idx << o; pfn < (idx + 1) << o; pfn++)
				if (sim_mem_state(m, pfn) != SIM_FREE)
					return -1;
			/* A free buddy would have been merged. */
			if (o < SIM_MAX_ORDER &&
			    (((idx ^ 1) + 1) << o) <= m->pages &&
			    bit_test(m->free_map[o], idx ^ 1))
				return -1;
		}
		if (blocks != m->free_blocks[o])
			return -1;
		free_in_blocks += blocks << o;
	}
	return free_in_blocks == m->count[SIM_FREE] ? 0 : -1;
}
