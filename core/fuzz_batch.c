// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_batch.c - libFuzzer target for the guest's commands (tb_batch.c and
 * the tb_host.c decisions under it), run as the device runs them, over a
 * fake guest RAM map with holes; abort()s when an invariant breaks.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined (make fuzz, core.mk).
 *
 * Input format (all integers little-endian; a short read ends the input):
 *   byte 0           RAM layout, % 3:
 *                      0  pc with 4 GiB: RAM [0, 3G), hole, RAM [4G, 5G)
 *                      1  RAM [0, 128M), hole, RAM [4G, 4G+128M)
 *                      2  RAM [0, 130M+12K), hole, RAM [4G, 4G+126M):
 *                         a boundary that is not 2 MiB aligned
 *   then operations, one opcode byte each (% 10):
 *     0 pool        u32 pages (0xffffffff: unlimited)
 *     1 max-balloon u32 pages
 *     2 max-res     u32 pages
 *     3 faults      u8 refuse-every, u8 refuse-all (bit 0)
 *     4 page-2m     u8 (bit 0)
 *     5 command     u8 cmd, u16 count, u8 flags (bit 0: run later, as
 *                   reply-delay-ms), u8 n, then n entries of 6 bytes:
 *                   u8 how, u32 v, u8 raw order.  how bits 0-2 pick the
 *                   pfn (v; low RAM end; high RAM start + v; high RAM end;
 *                   v << 32 | v; ~v; 2^52 - v; the previous entry's pfn),
 *                   bits 3-4 the order (0; 9; the raw byte; 9 aligned).
 *                   The n entries are written at the start of a persistent
 *                   1024-entry batch buffer; count may say more or fewer.
 *     6 reset       RESET command's effect (tb_host_reset)
 *     7 ready       u8: driver status bit 0 (clearing it resets)
 *     8 timer       a delayed command completes
 *     9 stats       u16 len, then len bytes (what is left when fewer):
 *                   a guest's stats page, decoded by tb_gstats.c as the
 *                   device decodes a STATS_REPORT (the balloon untouched)
 * Seeds: core/fuzz/batch/ (core/fuzz/README says how they were made).
 *
 * Invariants: balloon_pages == bits set in the map == our own model of the
 * map; balloon_pages == accepted inflate pages - granted deflate pages
 * since the last reset; every written status is a real reply (1 ..
 * TB_ST_NR-1) and nothing past BATCH_COUNT or in the entries' other fields
 * is written; every entry is counted exactly once in count[][]; every
 * accepted entry lies wholly in RAM; the pool moves by exactly the pages
 * moved and never wraps; refused commands change nothing and are counted.
 * A stats page: never more than TB_STATS_MAX or the header's count read,
 * only known tags kept (never tag 0), each entry read counted once as a
 * figure, an unknown tag or an invalid value, PSI averages <= 10000, no
 * value above INT64_MAX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_batch.h"
#include "tb_gstats.h"

#define GiB		(1024ull * 1024 * 1024)
#define MiB		(1024ull * 1024)
#define HIGH_BASE	(4 * GiB)
#define MAX_RAM_PAGES	((4 * GiB) >> TB_PAGE_SHIFT)	/* layout 0 */

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_batch: invariant broken: %s "	\
				"(%s:%d)\n", #cond, __FILE__, __LINE__);	\
			abort();					\
		}							\
	} while (0)

struct layout {
	uint64_t low_end;	/* RAM [0, low_end) */
	uint64_t high_size;	/* RAM [HIGH_BASE, HIGH_BASE + high_size) */
};

static const struct layout layouts[] = {
	{ 3 * GiB, 1 * GiB },
	{ 128 * MiB, 128 * MiB },
	{ 130 * MiB + 12 * 1024, 126 * MiB },
};

/* TB_FUZZ_TRACE=1: print each command's outcome (to read a crash). */
static bool trace;

/* The fake machine and device, rebuilt for every input. */
static struct {
	const struct layout *lay;
	struct tb_host_config cfg;
	struct tb_host_state st;
	uint64_t map[MAX_RAM_PAGES / 64];
	uint64_t model[MAX_RAM_PAGES / 64];	/* our own idea of the map */
	uint64_t net_pages;	/* inflated - deflated since reset */
	struct tb_entry batch[TB_BATCH_MAX];
	bool ready, busy;
	uint32_t pending_cmd, pending_count;
	uint64_t results[TB_CMD_RESULT_NR];
	uint64_t commands;
	uint64_t cancelled;	/* busy when the driver went away */
	/* per batch run */
	uint32_t next_index;
	uint64_t run_ok_pages;
} m;

static bool layout_gpa_to_ram(const struct layout *l, uint64_t gpa,
			      uint64_t len, uint64_t *off)
{
	if (gpa < l->low_end && len <= l->low_end - gpa) {
		*off = gpa;
		return true;
	}
	if (gpa >= HIGH_BASE && gpa - HIGH_BASE < l->high_size &&
	    len <= l->high_size - (gpa - HIGH_BASE)) {
		*off = l->low_end + (gpa - HIGH_BASE);
		return true;
	}
	return false;
}

static bool ops_gpa_to_ram(void *opaque, uint64_t gpa, uint64_t len,
			   uint64_t *off)
{
	CHECK(len > 0 && gpa + len > gpa);	/* the ops contract */
	return layout_gpa_to_ram(m.lay, gpa, len, off);
}

static bool model_test(uint64_t pfn)
{
	return m.model[pfn / 64] >> (pfn % 64) & 1;
}

static void model_set(uint64_t pfn, bool on)
{
	if (on)
		m.model[pfn / 64] |= 1ull << (pfn % 64);
	else
		m.model[pfn / 64] &= ~(1ull << (pfn % 64));
}

/*
 * The malformed-entry statuses match the guest's view of the entry: its
 * order, its guest-physical alignment, and the RAM map.
 */
static void check_shape(const struct tb_entry_decision *d)
{
	bool order_ok = d->order == TB_ORDER_4K ||
			(d->order == TB_ORDER_2M && m.cfg.page_2m);
	uint64_t pages = tb_entry_pages(order_ok ? d->order : 0), off;
	bool aligned = !(d->gpa_pfn & (pages - 1));
	bool in_ram = d->gpa_pfn <= (UINT64_MAX >> TB_PAGE_SHIFT) - pages &&
		      layout_gpa_to_ram(m.lay, d->gpa_pfn << TB_PAGE_SHIFT,
					pages << TB_PAGE_SHIFT, &off);

	CHECK((d->status == TB_ST_ERR_ORDER) == !order_ok);
	if (order_ok)
		CHECK((d->status == TB_ST_ERR_ALIGN) == !aligned);
	if (order_ok && aligned)
		CHECK((d->status == TB_ST_ERR_RANGE) == !in_ram);
}

/* Called for each entry, after the balloon was updated. */
static void ops_entry_done(void *opaque, const struct tb_entry_decision *d)
{
	uint64_t off, i, gpa;

	CHECK(d->index == m.next_index);
	m.next_index++;
	CHECK(d->status > TB_ST_PENDING && d->status < TB_ST_NR);
	check_shape(d);
	if (d->status != TB_ST_OK)
		return;

	/* wholly in RAM, by our own reading of the layout */
	CHECK(d->order == TB_ORDER_4K || d->order == TB_ORDER_2M);
	CHECK(d->pages == tb_entry_pages(d->order));
	CHECK(d->gpa_pfn <= (UINT64_MAX >> TB_PAGE_SHIFT) - d->pages);
	gpa = d->gpa_pfn << TB_PAGE_SHIFT;
	CHECK(layout_gpa_to_ram(m.lay, gpa, d->pages << TB_PAGE_SHIFT, &off));
	CHECK(off == d->ram_offset);
	CHECK((off >> TB_PAGE_SHIFT) + d->pages <= m.cfg.ram_pages);
	for (i = 0; i < d->pages; i++) {
		uint64_t pfn = (off >> TB_PAGE_SHIFT) + i;

		/* inflate: was out, now in; deflate: the reverse */
		CHECK(model_test(pfn) == (d->cmd == TB_CMD_DEFLATE));
		CHECK(tb_host_has(&m.st, pfn) == (d->cmd == TB_CMD_INFLATE));
		model_set(pfn, d->cmd == TB_CMD_INFLATE);
	}
	m.run_ok_pages += d->pages;
}

static const struct tb_batch_ops ops = {
	.gpa_to_ram = ops_gpa_to_ram,
	.entry_done = ops_entry_done,
};

static uint64_t popcount_map(const uint64_t *map)
{
	uint64_t w, n = 0;

	for (w = 0; w < tb_map_words(m.st.map_pfns); w++)
		n += (uint64_t)__builtin_popcountll(map[w]);
	return n;
}

/*
 * After every operation; @full also compares the whole map with our model
 * (up to 128 KiB: done every few operations and at the end of the input,
 * so a stray bit cannot hide for long and the fuzzer stays fast).
 */
static void check_balloon(bool full)
{
	uint64_t words = tb_map_words(m.st.map_pfns);

	if (full) {
		CHECK(m.st.balloon_pages == popcount_map(m.map));
		CHECK(memcmp(m.map, m.model, words * sizeof(uint64_t)) == 0);
	}
	CHECK(m.st.balloon_pages == m.net_pages);
	CHECK(m.st.balloon_pages <= m.cfg.ram_pages);
	CHECK(m.st.count[TB_CMD_INFLATE][TB_ST_PENDING] == 0);
	CHECK(m.st.count[TB_CMD_DEFLATE][TB_ST_PENDING] == 0);
}

static void do_reset(void)
{
	uint64_t pool = m.st.pool, pages = m.st.balloon_pages;

	tb_host_reset(&m.st);
	if (pool != TB_POOL_UNLIMITED)
		CHECK(m.st.pool == pool - (pool < pages ? pool : pages));
	else
		CHECK(m.st.pool == TB_POOL_UNLIMITED);
	memset(m.model, 0, tb_map_words(m.st.map_pfns) * sizeof(uint64_t));
	m.net_pages = 0;
}

static uint64_t count_sum(uint32_t cmd)
{
	uint64_t n = 0;
	int s;

	for (s = 0; s < TB_ST_NR; s++)
		n += m.st.count[cmd][s];
	return n;
}

/* The command itself, as the device runs it once admitted. */
static enum tb_cmd_result run_command(uint32_t cmd, uint32_t count)
{
	static struct tb_entry before[TB_BATCH_MAX];
	uint64_t counted[TB_CMD_NR], balloon = m.st.balloon_pages;
	uint64_t pool = m.st.pool, max_balloon = m.cfg.max_balloon;
	uint64_t max_res = m.cfg.max_reservation;
	struct tb_batch_result res;
	enum tb_cmd_result r;
	uint32_t i, ok = 0, c;

	if (cmd == TB_CMD_RESET) {
		do_reset();
		return TB_CMD_OK;
	}
	memcpy(before, m.batch, sizeof(before));
	for (c = 0; c < TB_CMD_NR; c++)
		counted[c] = count_sum(c);
	m.next_index = 0;
	m.run_ok_pages = 0;

	r = tb_batch_run(&m.cfg, &m.st, cmd, m.batch, count, &ops, &res);
	if (trace) {
		fprintf(stderr, "cmd %u count %u: %s, ok %u pages %llu, "
			"balloon %llu:", cmd, count, tb_cmd_result_names[r],
			res.ok, (unsigned long long)res.ok_pages,
			(unsigned long long)m.st.balloon_pages);
		for (i = 0; r == TB_CMD_OK && (cmd == TB_CMD_INFLATE ||
		     cmd == TB_CMD_DEFLATE) && i < count && i < 16; i++)
			fprintf(stderr, " %llx/%u=%s",
				(unsigned long long)m.batch[i].pfn,
				m.batch[i].order,
				m.batch[i].status < TB_ST_NR ?
				tb_status_names[m.batch[i].status] : "?");
		fprintf(stderr, "\n");
	}

	if (r != TB_CMD_OK || (cmd != TB_CMD_INFLATE && cmd != TB_CMD_DEFLATE)) {
		/* refused or entry-less: nothing moved, nothing written */
		CHECK(r == tb_cmd_check_count(cmd, count) ||
		      r == TB_CMD_ERR_UNKNOWN);
		CHECK(memcmp(before, m.batch, sizeof(before)) == 0);
		CHECK(m.st.balloon_pages == balloon && m.st.pool == pool);
		CHECK(m.next_index == 0 && res.ok == 0);
		for (c = 0; c < TB_CMD_NR; c++)
			CHECK(count_sum(c) == counted[c]);
		return r;
	}

	CHECK(count >= 1 && count <= TB_BATCH_MAX);
	CHECK(m.next_index == count);
	for (i = 0; i < TB_BATCH_MAX; i++) {
		struct tb_entry want = before[i];

		if (i < count) {
			CHECK(m.batch[i].status > TB_ST_PENDING &&
			      m.batch[i].status < TB_ST_NR);
			ok += m.batch[i].status == TB_ST_OK;
			want.status = m.batch[i].status;
		}
		/* only status bytes of the first count entries change */
		CHECK(memcmp(&want, &m.batch[i], sizeof(want)) == 0);
	}
	for (c = 0; c < TB_CMD_NR; c++)
		CHECK(count_sum(c) == counted[c] + (c == cmd ? count : 0));
	CHECK(res.ok == ok);
	CHECK(res.ok_pages == m.run_ok_pages);
	CHECK(res.partial == (res.short_pages > 0));

	if (cmd == TB_CMD_INFLATE) {
		m.net_pages += res.ok_pages;
		CHECK(m.st.balloon_pages == balloon + res.ok_pages);
		/* the limit holds, unless the host lowered it under us */
		CHECK(res.ok_pages == 0 || m.st.balloon_pages <= max_balloon);
		if (pool != TB_POOL_UNLIMITED)
			CHECK(m.st.pool == pool + res.ok_pages &&
			      m.st.pool >= pool);
	} else {
		CHECK(res.ok_pages <= m.net_pages);
		m.net_pages -= res.ok_pages;
		CHECK(m.st.balloon_pages == balloon - res.ok_pages);
		CHECK(res.ok_pages == 0 ||
		      m.cfg.ram_pages - m.st.balloon_pages <= max_res);
		if (pool != TB_POOL_UNLIMITED)
			CHECK(res.ok_pages <= pool &&
			      m.st.pool == pool - res.ok_pages);
	}
	return r;
}

/* A write to COMMAND, with the device's admission and delayed replies. */
static void command(uint32_t cmd, uint32_t count, bool later)
{
	enum tb_cmd_result r = tb_cmd_admit(cmd, m.ready, m.busy);

	m.commands++;
	if (r == TB_CMD_ERR_BUSY) {
		CHECK(m.busy);
		m.results[r]++;		/* dropped, but counted */
		return;
	}
	if (r != TB_CMD_OK) {
		CHECK(cmd >= TB_CMD_NR || !m.ready);
		m.results[r]++;
		return;
	}
	if (later) {
		m.busy = true;
		m.pending_cmd = cmd;
		m.pending_count = count;
		return;
	}
	m.results[run_command(cmd, count)]++;
}

/* Input reader: a short read ends the input. */
struct in {
	const uint8_t *p;
	size_t left;
};

static bool take(struct in *in, void *out, size_t n)
{
	if (in->left < n)
		return false;
	memcpy(out, in->p, n);	/* little-endian host assumed, as x86 */
	in->p += n;
	in->left -= n;
	return true;
}

static uint64_t pick_pfn(uint8_t how, uint32_t v, uint64_t prev)
{
	uint64_t low_pfns = m.lay->low_end >> TB_PAGE_SHIFT;
	uint64_t high_pfn = HIGH_BASE >> TB_PAGE_SHIFT;
	uint64_t high_pfns = m.lay->high_size >> TB_PAGE_SHIFT;

	switch (how & 7) {
	case 0: return v;
	case 1: return low_pfns - 1024 + v % 2048;
	case 2: return high_pfn + v;
	case 3: return high_pfn + high_pfns - 1024 + v % 2048;
	case 4: return (uint64_t)v << 32 | v;
	case 5: return ~(uint64_t)v;
	case 6: return (1ull << 52) - v;
	default: return prev;
	}
}

static uint8_t pick_order(uint8_t how, uint8_t raw, uint64_t *pfn)
{
	switch (how >> 3 & 3) {
	case 0: return TB_ORDER_4K;
	case 1: return TB_ORDER_2M;
	case 2: return raw;
	default:
		*pfn &= ~(uint64_t)(TB_PAGES_PER_2M - 1);
		return TB_ORDER_2M;
	}
}

static void op_command(struct in *in)
{
	uint8_t cmd, flags, n, how, raw;
	uint16_t count;
	uint64_t prev = 0;
	uint32_t v, i;

	if (!take(in, &cmd, 1) || !take(in, &count, 2) || !take(in, &flags, 1) ||
	    !take(in, &n, 1))
		return;
	for (i = 0; i < n && i < TB_BATCH_MAX; i++) {
		uint64_t pfn;

		if (!take(in, &how, 1) || !take(in, &v, 4) || !take(in, &raw, 1))
			break;
		pfn = pick_pfn(how, v, prev);
		m.batch[i].order = pick_order(how, raw, &pfn);
		m.batch[i].pfn = pfn;
		m.batch[i].status = TB_ST_PENDING;
		memset(m.batch[i].reserved, how & 0x80 ? 0xff : 0,
		       sizeof(m.batch[i].reserved));
		prev = pfn;
	}
	/* cmd values past the known ones stay in: unknown commands */
	command(cmd < 250 ? cmd % (TB_CMD_NR + 1) : 0xffffff00u | cmd, count,
		flags & 1);
}

static void init(uint8_t layout)
{
	uint64_t pages;

	const struct layout *lay = &layouts[layout % 3];

	pages = (lay->low_end + lay->high_size) >> TB_PAGE_SHIFT;
	/* all but the maps, which are cleared only as far as used */
	memset(&m, 0, offsetof(typeof(m), map));
	memset(m.map, 0, tb_map_words(pages) * sizeof(uint64_t));
	memset(m.model, 0, tb_map_words(pages) * sizeof(uint64_t));
	memset(&m.net_pages, 0, sizeof(m) - offsetof(typeof(m), net_pages));
	trace = getenv("TB_FUZZ_TRACE") != NULL;
	m.lay = lay;
	m.cfg = (struct tb_host_config){
		.ram_pages = pages,
		.max_reservation = pages,
		.max_balloon = pages / 100 * 65,
		.page_2m = true,
	};
	m.st.map = m.map;
	m.st.map_pfns = pages;
	m.st.pool = TB_POOL_UNLIMITED;
}

/* A guest's stats page, as STATS_REPORT reads it (tb_gstats.h). */
static void op_stats(struct in *in)
{
	static unsigned char page[4096];	/* a whole page: the decoder clamps */
	struct tb_gstats gs;
	uint32_t kept;
	uint16_t len;
	size_t n;

	if (!take(in, &len, 2))
		return;
	n = TB_MIN((size_t)len, TB_MIN(in->left, sizeof(page)));
	memcpy(page, in->p, n);
	in->p += n;
	in->left -= n;
	if (tb_gstats_decode(page, n, &gs)) {
		CHECK(n < TB_STATS_HDR_SIZE);
		return;
	}
	CHECK(gs.read <= TB_STATS_MAX && gs.read <= gs.count);
	CHECK(TB_STATS_HDR_SIZE + (size_t)gs.read * TB_STAT_SIZE <= n);
	CHECK(gs.truncated == (gs.count > gs.read));
	CHECK(!(gs.present & 1u) && !(gs.present >> TB_GS_NR));
	kept = (uint32_t)__builtin_popcount(gs.present);
	CHECK(kept + gs.unknown + gs.invalid <= gs.read);
	CHECK(gs.unknown + gs.invalid <= gs.read);
	for (unsigned int t = 1; t < TB_GS_NR; t++)
		if (gs.present & 1u << t)
			CHECK(gs.v[t] <= (uint64_t)INT64_MAX);
	if (gs.present & 1u << TB_GS_PSI_SOME_AVG10)
		CHECK(gs.v[TB_GS_PSI_SOME_AVG10] <= 10000);
	if (gs.present & 1u << TB_GS_PSI_FULL_AVG10)
		CHECK(gs.v[TB_GS_PSI_FULL_AVG10] <= 10000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	uint8_t layout, op, b[2];
	uint32_t v, ops_done = 0;
	uint64_t total;
	int r;

	if (!take(&in, &layout, 1))
		return 0;
	init(layout);

	while (take(&in, &op, 1)) {
		switch (op % 10) {
		case 0:
			if (take(&in, &v, 4))
				m.st.pool = v == UINT32_MAX ? TB_POOL_UNLIMITED : v;
			break;
		case 1:
			if (take(&in, &v, 4))
				m.cfg.max_balloon = v;
			break;
		case 2:
			if (take(&in, &v, 4))
				m.cfg.max_reservation = v;
			break;
		case 3:
			if (take(&in, b, 2)) {
				m.cfg.refuse_every = b[0];
				m.cfg.refuse_all = b[1] & 1;
			}
			break;
		case 4:
			if (take(&in, b, 1))
				m.cfg.page_2m = b[0] & 1;
			break;
		case 5:
			op_command(&in);
			break;
		case 6:
			do_reset();
			break;
		case 7:
			if (take(&in, b, 1)) {
				if (m.ready && !(b[0] & 1)) {
					/* driver gone: as the device does */
					m.cancelled += m.busy;
					m.busy = false;
					do_reset();
				}
				m.ready = b[0] & 1;
			}
			break;
		case 8:
			if (m.busy) {
				m.busy = false;
				m.results[run_command(m.pending_cmd,
						      m.pending_count)]++;
			}
			break;
		default:
			op_stats(&in);
			break;
		}
		check_balloon(++ops_done % 64 == 0);
	}
	check_balloon(true);

	/* every command written was counted under exactly one result */
	for (total = 0, r = 0; r < TB_CMD_RESULT_NR; r++)
		total += m.results[r];
	CHECK(total + m.busy + m.cancelled == m.commands);
	return 0;
}
