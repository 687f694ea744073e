/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_guest.h - the guest driver's decisions between passes, shared by the
 * Linux driver (guest-driver/tb_balloon.c) and the simulator (harness/sim/):
 * which host target is taken, the limits it is clipped to (max reservation,
 * max balloon, min and its safeguard, the floor of available memory), when
 * an episode begins and ends, how much memory pressure gets back and when
 * inflation is held off after it, what an admin's sysfs
 * write may set, which page size each entry gets, and which console
 * message is due with which numbers.
 *
 * The split with tb_policy.[ch]: tb_policy is the rate policy, pure
 * functions of one pass (clip a target, plan a step, adapt rate, order and
 * back-off to its outcome); tb_guest holds the state that lives across
 * passes (struct tb_guest embeds struct tb_policy) and calls tb_policy for
 * each step.  Mechanism stays with the callers: allocating pages, talking
 * to the device, locking, timers, the shrinker and the OOM notifier, and
 * printing.  A caller reads what the device says into struct tb_guest_regs,
 * calls in here, and acts on the flags that come back.
 *
 * Messages: each text exists once, as a TB_MSG_* printf format below; the
 * caller prints it (printk adds "\n"; the simulator's console does not
 * want one) with the arguments listed beside it, of the types given.
 *
 * Units: 4 KiB pages unless a name says KiB; times in the caller's clock
 * (jiffies in the driver, ns in the simulator): only compared, never
 * converted here.
 */
#ifndef TB_GUEST_H
#define TB_GUEST_H

#include "tb_policy.h"

/* Console messages (without the "tb_balloon: " prefix and newline). */

/* A target above boot memory (balloon(4): hot-plug would be needed):
 * (size_t) asked pages, (size_t) clipped pages.  Once per asked value. */
#define TB_MSG_CLIP \
	"memory 'hot-plug' unsupported - clipping reservation %zu => %zu pages."
/* A target above the host's maximum reservation (MAX_RESERVATION) but
 * within boot memory: (size_t) asked pages, (size_t) clipped pages.  Once
 * per asked value. */
#define TB_MSG_MAXRES \
	"target above the host's maximum reservation - clipping reservation " \
	"%zu => %zu pages."
/* balloon(4)'s diagnostic: (size_t) target KiB, (size_t) current KiB. */
#define TB_MSG_UNREACHED \
	"WARNING: balloon could not reach target %zu (current %zu)"
/* (unsigned long long) target KiB, balloon KiB.  Once per episode. */
#define TB_MSG_REACHED	"reached target %llu KiB (balloon %llu KiB)"
/* A deflate pass got less than it asked: (size_t) asked pages,
 * (int) granted pages. */
#define TB_MSG_PARTIAL	"increase reservation incomplete: was %zu, returned %d"
/* (unsigned long long) host target pages, boot pages. */
#define TB_MSG_ABSURD	"absurd host target %llu pages (boot %llu pages)"
/* At probe: (const char *) PCI name, (unsigned int) magic, version,
 * features, (unsigned long long) boot pages, host target, max reservation,
 * max balloon, (unsigned int) poll ms, all as the registers say. */
#define TB_MSG_PROBE \
	"probe %s: magic=0x%08x version=%u features=0x%x boot_pages=%llu " \
	"target=%llu max_reservation=%llu max_balloon=%llu poll_ms=%u " \
	"(4 KiB pages)"
/* Probe done: (unsigned long long) floor, band, min, max, safeguard,
 * target KiB, (unsigned int) batch, (const char *) "on"/"off" for irq,
 * discard and 2m, (int) blocking_alloc. */
#define TB_MSG_READY \
	"ready: floor=%llu KiB band=%llu KiB min=%llu KiB max=%llu KiB " \
	"safeguard=%llu KiB target=%llu KiB " \
	"batch=%u irq=%s discard=%s 2m=%s blocking_alloc=%d"

/* BOOT_PAGES above the memory the guest found (tb_guest_boot_pages):
 * (unsigned long long) device's boot pages, present pages, pages taken. */
#define TB_MSG_BOOT_CLAMP \
	"device overstates boot memory: BOOT_PAGES %llu, the guest has %llu " \
	"pages: taking %llu"

/* Poll interval bounds, ms: a zero or absurd interval is clamped. */
#define TB_POLL_MS_MIN	10u
#define TB_POLL_MS_MAX	600000u

/*
 * The floor: the memory the balloon leaves the guest to work in, as the
 * kernel counts it available (MemAvailable, si_mem_available()).  One rule
 * sets three limits:
 *
 *   - inflation stops where available memory would fall below floor +
 *     band (Xen caps a decrease at si_mem_available(), Hyper-V's
 *     balloon_up() refuses to go below compute_balloon_floor());
 *   - memory pressure gives back only once available memory is below the
 *     floor, and then as much as brings it back to floor + band: the band
 *     is the hysteresis between the two, so the guest may use up to a band
 *     of memory without the balloon moving, and the next pass takes back
 *     none of what pressure got (the driver asks from its shrinker, in
 *     direct reclaim, and at the start of every pass);
 *   - the safeguard, the lowest min (a reservation), is the floor: a
 *     reservation below it could not leave the floor available even with
 *     nothing else running; min starts there.
 *
 * By default the floor grows with memory size: half of Hyper-V's
 * compute_balloon_floor(), a continuous piecewise-linear curve whose
 * gradient halves as memory grows four-fold:
 *
 *     memory   floor            gradient
 *     128 MiB   36 MiB            1/4
 *     512 MiB   84 MiB            1/8
 *       2 GiB  180 MiB            1/16
 *       8 GiB  372 MiB            1/32
 *     above                       1/64
 *
 * (1 GiB: 116 MiB; 4 GiB: 244 MiB), never below the kernel's min watermark
 * plus min_margin, never above the memory itself.  The band is a quarter
 * of the floor.  Both can be set instead (floor_pages, band_pages).
 */
uint64_t tb_guest_floor_curve(uint64_t boot_pages);

/*
 * The boot pages to count with: the device's BOOT_PAGES (@device), unless
 * it is more than the memory the guest itself found (@present: the
 * present pages of its memory map, the kernel's own reserved memory
 * included) by over TB_BOOT_SLACK(@present); then @present, and
 * *@overstated is set.  An honest device reports the machine's RAM, a
 * little more than @present (firmware holes, ACPI tables); one that
 * overstates it would make the reservation, min and safeguard fictitious.
 */
#define TB_BOOT_SLACK(present)	((present) / 64 + (16ull << (20 - TB_PAGE_SHIFT)))
uint64_t tb_guest_boot_pages(uint64_t device, uint64_t present, bool *overstated);

/* What the device's registers say, read by the caller. */
struct tb_guest_regs {
	uint64_t gen;		/* GENERATION */
	uint64_t target;	/* TARGET */
	uint64_t max_reservation; /* MAX_RESERVATION; 0: no limit */
	uint64_t max_balloon;	/* MAX_BALLOON */
};

/**
 * struct tb_guest - the driver's decision state; the caller serialises.
 * @pol:	rate policy state (tb_policy.h)
 * @boot_pages:	reservation with an empty balloon
 * @max_res:	maximum reservation: min(boot pages, MAX_RESERVATION),
 *		never below @min (sysfs "max")
 * @max_balloon: the device's maximum balloon size, at most boot pages
 * @floor:	available memory the balloon leaves the guest (sysfs "floor")
 * @band:	hysteresis above @floor: the inflater leaves @floor + @band
 *		available, pressure gives back up to there
 * @no_floor:	tb_floor_params.none: the inflater ignores @floor
 * @safeguard:	lowest allowed @min: @floor
 * @min:	lowest reservation accepted (sysfs "min")
 * @asked:	target asked by the host or the admin, whichever came last
 * @target:	@asked after clipping (sysfs "target")
 * @host_gen:	GENERATION seen last
 * @host_target: TARGET seen last
 * @clip_logged: @asked value TB_MSG_CLIP or TB_MSG_MAXRES was given for
 * @pressure_until: before this time (caller's clock) no inflation happens
 * @settled:	the target is reached; the next move starts an episode
 * @warn_at_min: a target held at @min gives TB_MSG_UNREACHED once per
 *		episode (the driver does; the simulator does not)
 */
struct tb_guest {
	struct tb_policy pol;
	uint64_t boot_pages;
	uint64_t max_res;
	uint64_t max_balloon;
	uint64_t floor;
	uint64_t band;
	uint64_t safeguard;
	uint64_t min;
	uint64_t asked;
	uint64_t target;
	uint64_t host_gen;
	uint64_t host_target;
	uint64_t clip_logged;
	uint64_t pressure_until;
	bool settled;
	bool no_floor;
	bool warn_at_min;
};

/* The floor's settings at probe (module parameters; pages). */
struct tb_floor_params {
	uint64_t min_free;	/* the kernel's min watermarks */
	uint64_t min_margin;	/* the floor is at least min_free + this */
	uint64_t floor;		/* 0: tb_guest_floor_curve() */
	uint64_t band;		/* 0: a quarter of the floor */
	bool none;		/* blocking_alloc, as old drivers: no floor
				   (the safeguard is min_free + min_margin,
				   inflation takes what it can allocate) */
};

/*
 * Set up at probe.  @set holds the tunables as given (module parameters):
 * a zero count means tb_policy_defaults' value, use_2m is taken as is.
 * The floor and band come from @fp (see tb_guest_floor_curve()); the
 * safeguard is the floor, and min starts there.
 */
void tb_guest_init(struct tb_guest *g, const struct tb_policy_params *set,
		   uint64_t boot_pages, const struct tb_floor_params *fp);

/* The first look at the device: its target is taken as asked. */
void tb_guest_probe(struct tb_guest *g, const struct tb_guest_regs *r);

/* tb_guest_refresh() flags. */
#define TB_REFRESH_NEW		0x1u	/* a new host target was taken */
#define TB_REFRESH_ABSURD	0x2u	/* ... and it is 0 or over 2x boot:
					   TB_MSG_ABSURD (taken anyway) */

/*
 * Every pass: a new host target (GENERATION or TARGET changed) wins over
 * the admin's and starts an episode; the limits are re-read.
 */
unsigned int tb_guest_refresh(struct tb_guest *g, const struct tb_guest_regs *r);

/* The idle poll interval, ms: @poll_ms (the parameter, or the device's
 * advice when that is 0) clamped to TB_POLL_MS_MIN..TB_POLL_MS_MAX. */
uint32_t tb_guest_poll_ms(uint32_t poll_ms);

/* The start of a pass: what to do and what to say. */
struct tb_guest_step {
	struct tb_pass pass;	/* TB_DIR_NONE: nothing to move */
	bool held_off;		/* inflation waits until pressure_until */
	bool clip_msg;		/* TB_MSG_CLIP: g->asked => g->target */
	bool maxres_msg;	/* TB_MSG_MAXRES: g->asked => g->target */
	bool reached_msg;	/* TB_MSG_REACHED: g->target */
	bool min_msg;		/* TB_MSG_UNREACHED for g->asked (held at min) */
};

/*
 * Clip the asked target, note an episode's end, and plan the pass from the
 * reservation @cur at time @now; @balloon_4k is the 4 KiB entries in the
 * balloon.  Call tb_guest_refresh() first.
 */
struct tb_guest_step tb_guest_begin(struct tb_guest *g, uint64_t cur,
				    uint64_t now, uint64_t balloon_4k);

/*
 * The delay before the next pass, ms, after one that moved pages: the
 * back-off when there is one; else with the interrupt 0, at once, and
 * polling (@polling: use_irq=0) the next poll, @poll_ms (as
 * tb_guest_poll_ms() gives it) or the back-off if longer: one pass a poll,
 * so the rate (tb_policy.h) is pages per poll.
 */
uint32_t tb_guest_next_ms(const struct tb_guest *g, bool polling,
			  uint32_t poll_ms);

/* The available memory the inflater leaves: @floor + @band. */
uint64_t tb_guest_inflate_floor(const struct tb_guest *g);

/* Inflate pages to ask for this pass: the planned ones within the device's
 * maximum balloon size (*@clamped when that room is short) and within
 * @avail (available memory now) less tb_guest_inflate_floor() (*@at_floor
 * when that is short: the pass stops there, short of its target). */
uint64_t tb_guest_inflate_want(const struct tb_guest *g,
			       const struct tb_pass *pass,
			       uint64_t balloon_pages, uint64_t avail,
			       bool *clamped, bool *at_floor);

/* The page size of the next inflate entry: 2 MiB when the pass asks for
 * it, @rem (pages still to queue) has room and the device offers it. */
unsigned int tb_guest_inflate_order(const struct tb_pass *pass, uint64_t rem,
				    bool dev_2m);

/* The page size of the next deflate entry, @order first, out of a balloon
 * that has 4 KiB (@have4k) and 2 MiB (@have2m) entries (one at least):
 * a 2 MiB page overshoots @rem only when no 4 KiB page is left. */
unsigned int tb_guest_deflate_order(unsigned int order, uint64_t rem,
				    bool have4k, bool have2m);

/*
 * What an entry's status means for its page.  Inflate: OK, or PENDING (no
 * valid answer: the host may hold the page, and it counts as progress so a
 * lying device cannot make us overshoot), keeps the page in the balloon;
 * anything else is a refusal.  Deflate: OK, or ERR_STATE (the host says the
 * page is not in its balloon), gives the page back to the guest; anything
 * else keeps it in the balloon and ends the pass short.
 */
bool tb_guest_inflate_kept(unsigned int status);
bool tb_guest_deflate_freed(unsigned int status);

/* After an INFLATE command, whether the pass stops: @capped (the device's
 * maximum balloon size was met), or @nrefused refusals reached @batch, so
 * a device refusing everything cannot make us allocate forever. */
bool tb_guest_inflate_stop(bool capped, uint32_t nrefused, uint32_t batch);

/* The end of a pass: what to count and say. */
struct tb_guest_end {
	bool backoff;		/* the pass backs off (stats "backoffs") */
	bool partial;		/* deflate: TB_MSG_PARTIAL */
	bool unreached_msg;	/* inflate: TB_MSG_UNREACHED for g->target */
};

/* An inflate pass placed @placed of @pass->pages; @alloc_failed: the guest
 * ran out; @capped: the device's maximum balloon size stopped it. */
struct tb_guest_end tb_guest_inflated(struct tb_guest *g,
				      const struct tb_pass *pass,
				      uint64_t placed, bool alloc_failed,
				      bool capped);

/* A deflate pass got @granted of @pass->pages; @short_grant: a command
 * failed or an entry was denied.  Short of either: back off. */
struct tb_guest_end tb_guest_deflated(struct tb_guest *g,
				      const struct tb_pass *pass,
				      uint64_t granted, bool short_grant);

/* Memory pressure with @avail available: the pages to give back, 0 while
 * @avail is at the floor or above, else up to @floor + @band, at most
 * @balloon_pages.  The driver asks in direct reclaim (its shrinker) and at
 * the start of a pass (pressure that reclaim did not see, kswapd's). */
uint64_t tb_guest_pressure_want(const struct tb_guest *g, uint64_t avail,
				uint64_t balloon_pages);

/* Memory pressure made the caller give @got pages back: when any, slow
 * down and hold inflation off, for @holdoff_ms and until @until (the same
 * span on the caller's clock). */
void tb_guest_pressure(struct tb_guest *g, uint64_t got, uint32_t holdoff_ms,
		       uint64_t until);

/* The sysfs files, in KiB (as NetBSD's balloon(4) sysctls). */
enum tb_guest_attr {
	TB_ATTR_CURRENT,	/* RO reservation */
	TB_ATTR_MIN,		/* RW min */
	TB_ATTR_MAX,		/* RO max reservation */
	TB_ATTR_TARGET,		/* RW target */
	TB_ATTR_FLOOR,		/* RO floor (available memory kept) */
	TB_ATTR_NR
};
extern const char *const tb_guest_attr_names[TB_ATTR_NR];

/* The attribute called @name, or TB_ATTR_NR. */
enum tb_guest_attr tb_guest_attr_lookup(const char *name);
bool tb_guest_attr_writable(enum tb_guest_attr a);

/* A read: @cur is the current reservation.  Pages. */
uint64_t tb_guest_show(const struct tb_guest *g, enum tb_guest_attr a,
		       uint64_t cur);

enum tb_store_result {
	TB_STORE_OK,
	TB_STORE_EPERM,		/* beyond limits (balloon(4) ERRORS) */
	TB_STORE_EACCES,	/* read-only */
};

/*
 * A write of @kib: min must lie in safeguard..max, target in min..max
 * (else EPERM and nothing changes).  A new min or target starts an episode;
 * a target is taken as asked and as the target at once.
 */
enum tb_store_result tb_guest_store(struct tb_guest *g, enum tb_guest_attr a,
				    uint64_t kib);

#endif /* TB_GUEST_H */
