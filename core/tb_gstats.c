// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_gstats.c - a guest's stats page read by the host (tb_gstats.h).
 * Byte by byte little-endian, so neither alignment nor the host's byte
 * order matters.
 */
#include "tb_gstats.h"

/* @present has a bit for every tag. */
typedef char tb_gs_present_fits[TB_GS_NR <= 32 ? 1 : -1];

static uint64_t tb_get_le(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void tb_put_le(unsigned char *p, unsigned int n, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < n; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static bool tb_gs_valid(unsigned int tag, uint64_t v)
{
	/* no figure is that large, and JSON readers take int64 */
	if (v > (~(uint64_t)0 >> 1))
		return false;
	if (tag == TB_GS_PSI_SOME_AVG10 || tag == TB_GS_PSI_FULL_AVG10)
		return v <= 10000;
	return true;
}

int tb_gstats_decode(const void *page, size_t len, struct tb_gstats *out)
{
	const unsigned char *p = page;
	uint32_t i, fit;

	*out = (struct tb_gstats){ 0 };
	if (len < TB_STATS_HDR_SIZE)
		return -1;
	out->count = (uint32_t)tb_get_le(p, 4);
	out->seq = (uint32_t)tb_get_le(p + 4, 4);
	fit = (uint32_t)TB_MIN((len - TB_STATS_HDR_SIZE) / TB_STAT_SIZE,
			       (size_t)TB_STATS_MAX);
	out->read = TB_MIN(out->count, fit);
	out->truncated = out->count > out->read;
	for (i = 0; i < out->read; i++) {
		const unsigned char *e = p + TB_STATS_HDR_SIZE + i * TB_STAT_SIZE;
		unsigned int tag = (unsigned int)tb_get_le(e, 2);
		uint64_t v = tb_get_le(e + 8, 8);

		if (tag == TB_GS_NONE || tag >= TB_GS_NR) {
			out->unknown++;
			continue;
		}
		if (!tb_gs_valid(tag, v)) {
			out->invalid++;
			continue;
		}
		out->v[tag] = v;
		out->present |= 1u << tag;
	}
	return 0;
}

void tb_gstats_put(void *page, unsigned int i, uint16_t tag, uint64_t value)
{
	unsigned char *e = (unsigned char *)page + TB_STATS_HDR_SIZE +
			   i * TB_STAT_SIZE;

	tb_put_le(e, 2, tag);
	tb_put_le(e + 2, 6, 0);
	tb_put_le(e + 8, 8, value);
}

void tb_gstats_put_hdr(void *page, uint32_t count, uint32_t seq)
{
	unsigned char *p = page;

	tb_put_le(p, 4, count);
	tb_put_le(p + 4, 4, seq);
	tb_put_le(p + 8, 8, 0);
}
