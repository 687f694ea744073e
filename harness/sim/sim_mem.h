/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim_mem.h - the simulated guest's physical memory: every 4 KiB page has a
 * state (free, kernel, page cache, tmpfs, anonymous, pinned, balloon) and an
 * owner, and free pages are kept the way Linux's buddy allocator keeps them:
 * naturally aligned blocks of order 0..SIM_MAX_ORDER that merge with their
 * buddy when both are free.  So fragmentation is a property of where pages
 * are, not a number: a 2 MiB (order-9) allocation fails when no aligned
 * 2 MiB block is free even though plenty of 4 KiB pages are.
 *
 * Watermarks follow Linux: an allocation may not take free memory below
 * "min"; when it would go below "low", kswapd (here: at once) reclaims
 * clean page cache up to "high".  Only SIM_CACHE pages are reclaimable:
 * the guest has no swap, so anonymous, pinned, tmpfs and kernel pages stay.
 * Not modelled: migratetypes, compaction, per-CPU lists, zones.
 *
 * Units: 4 KiB pages (pfn = guest-physical address >> 12).
 */
#ifndef SIM_MEM_H
#define SIM_MEM_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_MAX_ORDER	9	/* 2 MiB: the largest block the model keeps */
#define SIM_NO_PFN	UINT64_MAX

enum sim_pstate {
	SIM_FREE = 0,
	SIM_KERNEL,	/* kernel text, slab, page tables: never freed */
	SIM_CACHE,	/* clean page cache: reclaimable */
	SIM_SHMEM,	/* tmpfs/ramfs files: not reclaimable without swap */
	SIM_ANON,	/* anonymous process memory: freed only by its owner */
	SIM_PINNED,	/* mlock()ed: never reclaimable, freed by its owner */
	SIM_BALLOON,	/* held by the balloon driver */
	SIM_PSTATE_NR
};

extern const char *const sim_pstate_names[SIM_PSTATE_NR];

/* Allocation flags (a tiny gfp_t). */
#define SIM_GFP_RECLAIM	(1u << 0)	/* direct reclaim of page cache */
#define SIM_GFP_TOUCH	(1u << 1)	/* the page gets written (host RSS) */
#define SIM_GFP_KSWAPD	(1u << 2)	/* may wake kswapd (background reclaim) */

struct sim_mem {
	uint64_t pages;			/* guest RAM, 4 KiB pages */
	uint8_t *state;			/* enum sim_pstate per pfn, | SIM_IN_LRU */
	uint16_t *owner;		/* who holds the page, 0: nobody */
	uint64_t *free_map[SIM_MAX_ORDER + 1];	/* bit: block free at order */
	uint64_t free_hint[SIM_MAX_ORDER + 1];	/* no set bit below this word */
	uint64_t free_blocks[SIM_MAX_ORDER + 1];
	uint64_t count[SIM_PSTATE_NR];	/* pages per state */
	uint64_t *touched;		/* host has backed the page (RSS) */
	uint64_t touched_pages;
	uint32_t *lru;			/* page cache, oldest first (ring) */
	uint64_t lru_head, lru_len;
	uint64_t wmark_min, wmark_low, wmark_high;	/* free pages */
	uint64_t reserve;		/* free pages no allocation here may
					   take (the DMA zone, kept by
					   lowmem_reserve); 0 after init */
	uint64_t reclaimed;		/* page cache pages reclaimed, total */
};

/* Boot: @kernel_pages at the bottom of memory are the kernel's; the rest is
 * free.  Watermarks as Linux 6.1 computes them for this much memory.
 * Returns 0 or -1 (out of host memory). */
int sim_mem_init(struct sim_mem *m, uint64_t pages, uint64_t kernel_pages);
void sim_mem_destroy(struct sim_mem *m);

/* vm.min_free_kbytes changed (khugepaged does it): new watermarks. */
void sim_mem_set_min_free(struct sim_mem *m, uint64_t min_kb);

/* Allocate one block of 2^order pages as @state for @owner.  Returns its
 * first pfn, or SIM_NO_PFN when the watermark or fragmentation forbids it
 * (after reclaiming page cache if SIM_GFP_RECLAIM). */
uint64_t sim_mem_alloc(struct sim_mem *m, unsigned int order,
		       enum sim_pstate state, uint16_t owner, unsigned int gfp);

/* Give a block back to the buddy allocator (merging with free buddies). */
void sim_mem_free(struct sim_mem *m, uint64_t pfn, unsigned int order);

/* Reclaim up to @want page-cache pages, oldest first; returns how many. */
uint64_t sim_mem_reclaim(struct sim_mem *m, uint64_t want);

/* Host side: the pages were discarded (madvise DONTNEED) / written. */
void sim_mem_untouch(struct sim_mem *m, uint64_t pfn, uint64_t n);
void sim_mem_touch(struct sim_mem *m, uint64_t pfn, uint64_t n);

static inline uint64_t sim_mem_free_pages(const struct sim_mem *m)
{
	return m->count[SIM_FREE];
}

/* /proc/meminfo's MemAvailable, roughly: free above low plus page cache. */
uint64_t sim_mem_available(const struct sim_mem *m);

/* Could @pages more pages be allocated right now, reclaiming cache? */
bool sim_mem_can_satisfy(const struct sim_mem *m, uint64_t pages);

/* Free blocks of at least @order (what /proc/buddyinfo sums). */
uint64_t sim_mem_blocks_at_least(const struct sim_mem *m, unsigned int order);

static inline enum sim_pstate sim_mem_state(const struct sim_mem *m,
					    uint64_t pfn)
{
	return (enum sim_pstate)(m->state[pfn] & 0x7f);
}

/* Self-check of the allocator's invariants (tests): 0 or -1. */
int sim_mem_check(const struct sim_mem *m);

#endif /* SIM_MEM_H */
