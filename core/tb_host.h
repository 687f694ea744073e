/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_host.h - the host's decisions on balloon entries, shared by the QEMU
 * device and the simulator.  The caller owns the guest's memory: it says
 * whether an entry lies in guest RAM, and discards or restores the pages
 * after an entry is accepted.  Everything else is decided here.
 */
#ifndef TB_HOST_H
#define TB_HOST_H

#include "tb_proto.h"

#define TB_POOL_UNLIMITED	UINT64_MAX

/* Host settings, all in 4 KiB pages; the host may change them at any time. */
struct tb_host_config {
	uint64_t ram_pages;		/* boot reservation */
	uint64_t max_reservation;	/* "mem-max": deflate stops here */
	uint64_t max_balloon;		/* "sched.mem.maxmemctl" */
	bool max_balloon_advisory;	/* "enforce-max-balloon=off": entries
					 * past max_balloon are accepted, the
					 * driver alone keeps to it */
	uint32_t refuse_every;		/* refuse every Nth inflate entry, 0: off */
	bool refuse_all;		/* refuse every inflate entry */
	bool page_2m;			/* 2 MiB entries offered */
};

/* Host state: the balloon itself. */
struct tb_host_state {
	uint64_t *map;			/* one bit per guest pfn: in the balloon */
	uint64_t map_pfns;		/* pfns covered by map */
	uint64_t balloon_pages;		/* bits set in map */
	uint64_t pool;			/* pages the host can give back */
	uint64_t inflate_seen;		/* inflate entries, for refuse_every */
	uint64_t count[TB_CMD_NR][TB_ST_NR]; /* entries by command and status */
};

/* Words of map needed for @pfns pfns. */
static inline uint64_t tb_map_words(uint64_t pfns)
{
	return (pfns + 63) / 64;
}

/*
 * Decide one entry of an inflate or deflate command and, when accepted,
 * update the balloon (map, balloon_pages, pool).  @in_ram: the whole entry
 * lies in guest RAM.  Returns the status to write back.
 */
enum tb_status tb_host_entry(const struct tb_host_config *cfg,
			     struct tb_host_state *st, enum tb_cmd cmd,
			     uint64_t pfn, unsigned int order, bool in_ram);

/*
 * The same, where the guest's pfn (@gpa_pfn: what 2 MiB alignment is
 * judged on) and the map's (@pfn: the page's offset in RAM) differ, as
 * above an x86 PCI hole whose RAM below it is not a 2 MiB multiple.
 */
enum tb_status tb_host_entry_at(const struct tb_host_config *cfg,
				struct tb_host_state *st, enum tb_cmd cmd,
				uint64_t gpa_pfn, uint64_t pfn,
				unsigned int order, bool in_ram);

/* Empty the balloon (reset, driver reload); the pool shrinks by its pages. */
void tb_host_reset(struct tb_host_state *st);

/* Is @pfn in the balloon? */
bool tb_host_has(const struct tb_host_state *st, uint64_t pfn);

#endif /* TB_HOST_H */
