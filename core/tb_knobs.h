/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_knobs.h - every tb-balloon device property and every tb_balloon driver
 * parameter, listed once.  The lists are X-macros, so the places that need
 * compile-time declarations expand them directly:
 *
 *   qemu-dev/tb-balloon.c     adds a QOM property per TB_DEVICE_PROPS entry,
 *                             with its description and default value
 *   guest-driver/tb_balloon.c declares, module_param()s and describes a
 *                             variable per TB_DRIVER_PARAMS entry
 *   core/tb_knobs.c           the run-time table below (user space: the
 *                             harness's resolver, simulator and --help)
 *
 * The tests compare the lists with what the built device reports
 * (qemu-dev/tests/check_tb_knobs.c: device-list-properties, qom-list,
 * qom-get, and the spec qemu-dev/tb-balloon.txt) and with `modinfo -F parm`
 * of the built module (guest-driver/tests/check_params.c).
 *
 * Units: device sizes are bytes (QEMU's "size" type, suffixes accepted);
 * driver counts of memory are 4 KiB pages; times are ms.
 */
#ifndef TB_KNOBS_H
#define TB_KNOBS_H

#include "tb_compat.h"

/* Backends that accept a knob (struct tb_knob.backends). */
#define TB_BE_EMU	(1u << 0)	/* our QEMU + device + driver */
#define TB_BE_VIRTIO	(1u << 1)	/* stock virtio-balloon: none of ours */
#define TB_BE_LIBVIRT	(1u << 2)	/* our QEMU + driver under libvirtd */
#define TB_BE_SIM	(1u << 3)	/* the simulator */
#define TB_BE_OURS	(TB_BE_EMU | TB_BE_LIBVIRT)

/* Flags of a device property (struct tb_knob.flags). */
#define TB_KNOB_RO		(1u << 0)	/* read-only: qom-get only */
#define TB_KNOB_DEF_RAM_PCT	(1u << 1)	/* default: def % of guest RAM */

/* Defaults the device and the simulator also compute with. */
#define TB_MAX_BALLOON_PCT	65	/* ESX 3.0.1's sched.mem.maxmemctl */

/*
 * TB_DEVICE_PROPS(X): X(field, name, type, unit, def, def_text, flags,
 *                       backends, desc)
 *
 * field	C identifier: the TBBalloonState field of u32 and flag
 *		properties (a flag's accessors are tb_get_<field> and
 *		tb_set_<field>)
 * name		the QOM property name (-device tb-balloon,name=...)
 * type		size (uint64 bytes), u32, flag, stats (the read-only
 *		TbBalloonStats dict), log (the read-only TbBatchLog) or
 *		gstats (the read-only TbGuestStats dict)
 * unit		"bytes", "ms", or "" (a flag or a plain count)
 * def		the default (bools 0 or 1); with TB_KNOB_DEF_RAM_PCT a percent
 *		of guest RAM
 * def_text	the default in words when it is not just the number ("guest
 *		RAM", "unlimited"), else NULL
 * flags	TB_KNOB_RO, TB_KNOB_DEF_RAM_PCT
 * backends	TB_BE_* that accept the property
 * desc		one line, lower case, QEMU's style; the unit is appended
 *
 * "target" is the host's target reservation: the scenario sets it through
 * its steps, not as a property.  Every writable property can be changed at
 * run time (qom-set).
 */
#define TB_SIM_AND_OURS	(TB_BE_OURS | TB_BE_SIM)
#define TB_DEVICE_PROPS(X)						\
	X(target, "target", size, "bytes", 100, "guest RAM",		\
	  TB_KNOB_DEF_RAM_PCT, TB_SIM_AND_OURS,				\
	  "target reservation")						\
	X(max_reservation, "max-reservation", size, "bytes", 100,	\
	  "guest RAM", TB_KNOB_DEF_RAM_PCT, TB_SIM_AND_OURS,		\
	  "deflate stops at this reservation")				\
	X(max_balloon, "max-balloon", size, "bytes", TB_MAX_BALLOON_PCT, \
	  "65% of guest RAM", TB_KNOB_DEF_RAM_PCT, TB_SIM_AND_OURS,	\
	  "maximum balloon size")					\
	X(enforce_max_balloon, "enforce-max-balloon", flag, "", 1, NULL, 0, \
	  TB_SIM_AND_OURS,						\
	  "refuse inflate entries past max-balloon (off: the driver "	\
	  "alone keeps to MAX_BALLOON)")				\
	X(pool, "pool", size, "bytes", UINT64_MAX, "unlimited", 0,	\
	  TB_SIM_AND_OURS,						\
	  "host memory to give back on deflate")			\
	X(actual, "actual", size, "bytes", 0, NULL, TB_KNOB_RO,		\
	  TB_BE_OURS,							\
	  "guest RAM minus the balloon")				\
	X(balloon_size, "balloon-size", size, "bytes", 0, NULL,		\
	  TB_KNOB_RO, TB_BE_OURS,					\
	  "balloon size")						\
	X(poll_ms, "poll-ms", u32, "ms", 1000, NULL, 0,			\
	  TB_SIM_AND_OURS,						\
	  "poll interval advised to the driver")			\
	X(refuse_every, "refuse-every", u32, "", 0, NULL, 0,		\
	  TB_SIM_AND_OURS,						\
	  "refuse every Nth inflate entry, 0: off")			\
	X(reply_delay_ms, "reply-delay-ms", u32, "ms", 0, NULL, 0,	\
	  TB_SIM_AND_OURS,						\
	  "commands complete after this virtual time")			\
	X(refuse_all, "refuse-all", flag, "", 0, NULL, 0,		\
	  TB_SIM_AND_OURS,						\
	  "refuse every inflate entry")					\
	X(discard, "discard", flag, "", 1, NULL, 0, TB_SIM_AND_OURS,	\
	  "free accepted pages on the host")				\
	X(page_2m, "page-2m", flag, "", 1, NULL, 0, TB_SIM_AND_OURS,	\
	  "accept 2 MiB entries")					\
	X(discard_worker, "discard-worker", flag, "", 1, NULL, 0,	\
	  TB_BE_OURS,							\
	  "free accepted pages on a worker thread, in ranges (off: one "	\
	  "discard per entry on the vCPU, before the command completes)") \
	X(stats, "stats", stats, "", 0, NULL, TB_KNOB_RO, TB_BE_OURS,	\
	  "counters by command, result and entry status")		\
	X(batch_log, "batch-log", log, "", 0, NULL, TB_KNOB_RO,		\
	  TB_BE_OURS,							\
	  "commands served and target changes, virtual time, from "	\
	  "batch-log-from on")						\
	X(batch_log_from, "batch-log-from", u32, "", 0, NULL, 0,	\
	  TB_BE_OURS,							\
	  "first sequence number batch-log returns, 0: the oldest kept") \
	X(stats_interval_ms, "guest-stats-interval-ms", u32, "ms", 0,	\
	  NULL, 0, TB_SIM_AND_OURS,					\
	  "the driver reports guest memory figures this often, 0: off")	\
	X(guest_stats, "guest-stats", gstats, "", 0, NULL, TB_KNOB_RO,	\
	  TB_SIM_AND_OURS,						\
	  "the guest's last reported memory figures and their age")	\
	X(hostile_overgrant, "hostile-overgrant", flag, "", 0, NULL, 0,	\
	  TB_BE_OURS,							\
	  "hostile: CMD_DONE = BATCH_COUNT + 7, OK statuses past the "	\
	  "batch")							\
	X(hostile_bad_status, "hostile-bad-status", flag, "", 0, NULL, 0, \
	  TB_BE_OURS,							\
	  "hostile: garbage entry statuses (0xee, pending)")		\
	X(hostile_keep_data, "hostile-keep-data", flag, "", 0, NULL, 0,	\
	  TB_BE_OURS,							\
	  "hostile: offer TB_F_DISCARD but keep page contents")		\
	X(irq_storm, "irq-storm", flag, "", 0, NULL, 0, TB_BE_OURS,	\
	  "hostile: TB_IRQ_TARGET back after every IRQ_ACK")		\
	X(flap_ms, "flap-ms", u32, "ms", 0, NULL, 0, TB_BE_OURS,	\
	  "hostile: toggle the target with boot RAM at this period of "	\
	  "virtual time, 0: off")					\
	X(hostile_boot_pages, "hostile-boot-pages", size, "bytes", 0,	\
	  NULL, 0, TB_BE_OURS,						\
	  "hostile: BOOT_PAGES reads this instead of guest RAM, 0: off") \
	X(hostile_bad_magic, "hostile-bad-magic", u32, "", 0, NULL, 0,	\
	  TB_BE_OURS,							\
	  "hostile: the next N reads of MAGIC return 0xffffffff, 0: off") \
	X(hostile_forget_on_load, "hostile-forget-on-load", flag, "", 0,	\
	  NULL, 0, TB_BE_OURS,						\
	  "hostile: an incoming migration drops the balloon and a "	\
	  "command in flight")

/*
 * TB_DRIVER_PARAMS(X): X(var, type, perm, unit, def, backends, desc)
 *
 * var		the module parameter and its variable in the driver
 * type		u32 or flag (module_param's uint and bool)
 * perm		sysfs permissions: 0444 read-only, 0644 writable at run time
 * unit		"ms", "4 KiB pages", ...; "" for bools
 * def		the default (bools 0 or 1); for the policy tunables 0 means
 *		core/tb_policy.c's default
 * backends	TB_BE_* that accept the parameter (the simulator accepts
 *		cmd_timeout_ms and irq_storm_limit and models neither)
 * desc		one line, Linux's style; TB_PARAM_DESC() appends the unit
 *		and the default
 */
#define TB_DRIVER_PARAMS(X)						\
	X(poll_ms, u32, 0644, "ms", 1000, TB_SIM_AND_OURS,		\
	  "Poll the target this often; 0: the device's POLL_MS advice")	\
	X(use_irq, flag, 0444, "", 1, TB_SIM_AND_OURS,			\
	  "Wake up on the device's target interrupt (0: polling only)")	\
	X(batch, u32, 0444, "entries", 0, TB_SIM_AND_OURS,		\
	  "Entries per command, 1..1024; 0: policy default, 512")	\
	X(rate_min, u32, 0444, "4 KiB pages", 0, TB_SIM_AND_OURS,	\
	  "Pages per pass (inflate, deflate) at start and the lowest "	\
	  "the rate falls to; polling, per poll; 0: policy default, 2048") \
	X(rate_max, u32, 0444, "4 KiB pages", 0, TB_SIM_AND_OURS,	\
	  "Pages per pass (inflate, deflate) at most; 0: policy "	\
	  "default, 262144")						\
	X(rate_inc, u32, 0444, "4 KiB pages", 0, TB_SIM_AND_OURS,	\
	  "Rate growth after a pass that moved its whole rate (failed, "	\
	  "sleeping or short-granted passes halve it); 0: doubles")	\
	X(backoff_min_ms, u32, 0444, "ms", 0, TB_SIM_AND_OURS,		\
	  "First back-off after a failed pass; 0: policy default")	\
	X(backoff_max_ms, u32, 0444, "ms", 0, TB_SIM_AND_OURS,		\
	  "Back-off ceiling; 0: policy default")			\
	X(upgrade_after, u32, 0444, "passes", 0, TB_SIM_AND_OURS,	\
	  "Good 4 KiB passes before 2 MiB pages are tried again; "	\
	  "0: policy default")						\
	X(use_2m, flag, 0444, "", 1, TB_SIM_AND_OURS,			\
	  "Inflate with 2 MiB pages first when the device offers them")	\
	X(fallback_4k, flag, 0444, "", 1, TB_SIM_AND_OURS,		\
	  "Fall back to 4 KiB pages when a 2 MiB allocation fails "	\
	  "(0: 2 MiB pages only; a failed one backs off as a stall)")	\
	X(blocking_alloc, flag, 0644, "", 0, TB_SIM_AND_OURS,		\
	  "1: behave like old drivers: GFP_HIGHUSER allocations that "	\
	  "may retry and wake the OOM killer, no deflate on pressure")	\
	X(min_margin, u32, 0444, "4 KiB pages", 256, TB_SIM_AND_OURS,	\
	  "Pages added to the kernel's min watermark: the lowest the "	\
	  "floor can be")						\
	X(floor_pages, u32, 0444, "4 KiB pages", 0, TB_SIM_AND_OURS,	\
	  "Available memory the balloon leaves the guest, also the "	\
	  "lowest min; 0: grows with memory size (half Hyper-V's "	\
	  "balloon floor)")						\
	X(band_pages, u32, 0444, "4 KiB pages", 0, TB_SIM_AND_OURS,	\
	  "Hysteresis above the floor: pressure gives back up to floor "	\
	  "+ band, and inflation then stops there; 0: a quarter of the "	\
	  "floor")							\
	X(deflate_on_pressure, flag, 0644, "", 1, TB_SIM_AND_OURS,	\
	  "Give pages back from the shrinker when tasks are stuck in "	\
	  "direct reclaim")						\
	X(oom_pages, u32, 0644, "4 KiB pages", 1024, TB_BE_OURS,	\
	  "Pages given back each time the OOM killer is about to run "	\
	  "(with deflate_on_pressure)")					\
	X(pressure_holdoff_ms, u32, 0644, "ms", 5000, TB_SIM_AND_OURS,	\
	  "No inflation for this long after a pressure deflate")	\
	X(cmd_timeout_ms, u32, 0644, "ms", 5000, TB_SIM_AND_OURS,	\
	  "A device command not done after this long has failed")	\
	X(stats_report, flag, 0644, "", 1, TB_SIM_AND_OURS,		\
	  "Report guest memory figures to the device every "		\
	  "STATS_INTERVAL_MS it sets (0: never)")			\
	X(irq_storm_limit, u32, 0644, "interrupts/s", 10000,		\
	  TB_SIM_AND_OURS,						\
	  "Interrupt rate above which the interrupt is given up for "	\
	  "polling; 0: no limit")					\
	X(irq_empty_limit, u32, 0644, "interrupts/s", 100, TB_BE_OURS,	\
	  "Rate of target interrupts that bring no new target "		\
	  "(GENERATION unchanged) above which the interrupt is given up " \
	  "for polling; 0: no limit")					\
	X(bulk_alloc, flag, 0644, "", 1, TB_BE_OURS,			\
	  "Take 4 KiB inflate pages from the bulk allocator, 64 a call, "	\
	  "without direct reclaim (0: one allocation a page)")		\
	X(zero_on_inflate, flag, 0644, "", 0, TB_BE_OURS,		\
	  "Clear every page before it is given to the host, even when "	\
	  "the device discards (NetBSD's balloon(4))")			\
	X(poison_check, flag, 0444, "", 0, TB_BE_OURS,			\
	  "Test only: fill every page taken for the balloon with a "	\
	  "pattern (standing in for old data) and, on deflate, count "	\
	  "returned pages that are not all zeroes (debugfs: stale pages)")

/*
 * A driver parameter's MODULE_PARM_DESC text, a string literal: desc, then
 * "(unit, default: N)" for u32 and "(default: Y|N)" for flag, e.g.
 * "Back-off ceiling; 0: policy default (ms, default: 0)".
 */
#define TB_PARAM_DESC(type, unit, def, desc)				\
	TB_PARAM_DESC_##type(unit, def, desc)
#define TB_PARAM_DESC_u32(unit, def, desc)				\
	desc " (" unit ", default: " #def ")"
#define TB_PARAM_DESC_flag(unit, def, desc)				\
	desc " (default: " TB_PARAM_YN_##def ")"
#define TB_PARAM_YN_0 "N"
#define TB_PARAM_YN_1 "Y"

/* ---- the run-time table (core/tb_knobs.c) ---- */

/* The enum tb_knob_type of a list's type token: TB_KNOB_TYPE(flag). */
#define TB_KNOB_TYPE(type)	TB_KNOB_TYPE_##type
#define TB_KNOB_TYPE_size	TB_KNOB_SIZE
#define TB_KNOB_TYPE_u32	TB_KNOB_U32
#define TB_KNOB_TYPE_flag	TB_KNOB_BOOL
#define TB_KNOB_TYPE_stats	TB_KNOB_STATS
#define TB_KNOB_TYPE_log	TB_KNOB_LOG
#define TB_KNOB_TYPE_gstats	TB_KNOB_GSTATS

enum tb_knob_kind {
	TB_KNOB_DEVICE,		/* a tb-balloon QOM property */
	TB_KNOB_DRIVER,		/* a tb_balloon module parameter */
};

enum tb_knob_type {
	TB_KNOB_SIZE,		/* device: uint64 bytes, QOM "size" */
	TB_KNOB_U32,		/* device "uint32", driver "uint" */
	TB_KNOB_BOOL,		/* "bool": on/off, Y/N, 1/0 */
	TB_KNOB_STATS,		/* device: the read-only "stats" dict */
	TB_KNOB_LOG,		/* device: the read-only "batch-log" */
	TB_KNOB_GSTATS,		/* device: the read-only "guest-stats" */
};

/**
 * struct tb_knob - one device property or driver parameter.
 * @kind:	device property or driver parameter
 * @type:	what its value is
 * @name:	"max-balloon", "poll_ms"
 * @unit:	"bytes", "ms", "4 KiB pages", ...; "" for flags and counts
 * @def:	the default; bools 0 or 1; with TB_KNOB_DEF_RAM_PCT a percent
 *		of guest RAM (use tb_knob_default())
 * @def_text:	the default in words, or NULL when it is @def itself
 * @flags:	TB_KNOB_RO, TB_KNOB_DEF_RAM_PCT
 * @perm:	driver: sysfs permissions (0444, 0644); device: 0
 * @backends:	TB_BE_* that accept it
 * @desc:	one line without unit and default
 * @parm_desc:	driver: the MODULE_PARM_DESC text (what modinfo prints);
 *		device: NULL
 */
struct tb_knob {
	enum tb_knob_kind kind;
	enum tb_knob_type type;
	const char *name;
	const char *unit;
	uint64_t def;
	const char *def_text;
	unsigned int flags;
	unsigned int perm;
	unsigned int backends;
	const char *desc;
	const char *parm_desc;
};

/* Every knob: the device properties, then the driver parameters. */
extern const struct tb_knob tb_knobs[];
extern const unsigned int tb_knobs_nr;

/* The knob of @kind called @name, or NULL. */
const struct tb_knob *tb_knob_find(enum tb_knob_kind kind, const char *name);

/*
 * The knob of @kind after @prev (NULL: the first), in table order, or NULL
 * after the last.  tb_knob_foreach(k, TB_KNOB_DRIVER) { ... } walks them.
 */
const struct tb_knob *tb_knob_next(enum tb_knob_kind kind,
				   const struct tb_knob *prev);
#define tb_knob_foreach(k, kind)					\
	for ((k) = tb_knob_next((kind), NULL); (k);			\
	     (k) = tb_knob_next((kind), (k)))

/* TB_BE_* of a backend name ("emu", "virtio", "libvirt", "sim"), or 0. */
unsigned int tb_backend_bit(const char *backend);

/* Does @backend (a name as above) accept @k?  False for unknown names. */
bool tb_knob_known_by(const struct tb_knob *k, const char *backend);

/* Can a scenario set @k (a device property not TB_KNOB_RO, any param)? */
bool tb_knob_writable(const struct tb_knob *k);

/*
 * The default value: @def, or @def percent of @ram_bytes for
 * TB_KNOB_DEF_RAM_PCT as the device computes it (ram / 100 * pct; 100 is
 * ram itself).
 * Device sizes are bytes; "pool" is UINT64_MAX (unlimited).
 */
uint64_t tb_knob_default(const struct tb_knob *k, uint64_t ram_bytes);

/*
 * The type's name as QEMU or the kernel spells it: "size", "uint32",
 * "bool", "TbBalloonStats", "TbBatchLog", "TbGuestStats" for device
 * properties; "uint",
 * "bool" for driver parameters.
 */
const char *tb_knob_type_name(const struct tb_knob *k);

/*
 * One line of help into @buf (always NUL-terminated when @len > 0):
 *   device: "desc[, unit] (default: D)" or "... (read-only)", D being
 *           @def_text, the number, or on/off
 *   driver: @parm_desc, the text modinfo prints
 * Returns the length of the whole line, as snprintf does.
 */
unsigned int tb_knob_describe(const struct tb_knob *k, char *buf,
			      unsigned int len);

#endif /* TB_KNOBS_H */
