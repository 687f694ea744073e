/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_gstats.h - the device's reading of a guest's stats page (TB_F_STATS,
 * core/tb_proto.h): shared by the QEMU device and the simulator, fuzzed in
 * user space (core/fuzz_batch.c).  Everything in the page is the guest's:
 * the count is clamped, unknown tags are skipped and counted, a figure out
 * of its range (a PSI average above 100 %, anything above INT64_MAX) is
 * dropped and counted, a tag
 * sent twice keeps its last value.  Nothing the guest writes fails the
 * report; a page too short for its header does (the caller's read failed).
 */
#ifndef TB_GSTATS_H
#define TB_GSTATS_H

#include "tb_proto.h"

#define TB_STATS_HDR_SIZE	16u
#define TB_STAT_SIZE		16u
/* Bytes the device reads from the stats page: header + TB_STATS_MAX. */
#define TB_STATS_READ_SIZE	(TB_STATS_HDR_SIZE + TB_STATS_MAX * TB_STAT_SIZE)

/**
 * struct tb_gstats - one decoded report.
 * @v:		the figures, by tag (meaningful where @present has the bit)
 * @present:	bit (1 << tag) for every figure the report carried
 * @seq:	the driver's report number
 * @count:	the header's count, as the guest wrote it
 * @read:	entries read: min(@count, TB_STATS_MAX, what @len holds)
 * @unknown:	entries skipped for their tag (0, or >= TB_GS_NR)
 * @invalid:	entries dropped for their value
 * @truncated:	@count was more than was read
 */
struct tb_gstats {
	uint64_t v[TB_GS_NR];
	uint32_t present;
	uint32_t seq;
	uint32_t count;
	uint32_t read;
	uint32_t unknown;
	uint32_t invalid;
	bool truncated;
};

/*
 * Decode the first @len bytes of a stats page at @page into @out (zeroed
 * first).  Returns 0, or -1 when @len is shorter than the header (@out
 * then says nothing).  Never reads past @len.
 */
int tb_gstats_decode(const void *page, size_t len, struct tb_gstats *out);

/*
 * Encode (the driver's side and the simulator's): entry @i of a stats
 * page at @page, @i < TB_STATS_MAX; tb_gstats_put_hdr() writes the header.
 */
void tb_gstats_put(void *page, unsigned int i, uint16_t tag, uint64_t value);
void tb_gstats_put_hdr(void *page, uint32_t count, uint32_t seq);

#endif /* TB_GSTATS_H */
