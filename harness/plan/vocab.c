// SPDX-License-Identifier: GPL-2.0-only
/*
 * vocab.c - the words of scenario files: expectation names, agent actions, device properties, driver parameters, sysfs files.
 */
#include <stdio.h>
#include <string.h>

#include "plan_int.h"


static const struct {
	const char *name;
	bool is_size, is_bool;
} device_props[] = {
	{ "max-reservation", true, false },
	{ "max-balloon", true, false },
	{ "pool", true, false },
	{ "poll-ms", false, false },
	{ "refuse-every", false, false },
	{ "refuse-all", false, true },
	{ "reply-delay-ms", false, false },
	{ "discard", false, true },
	{ "page-2m", false, true },
	/* Hostile device modes (issue 10): runtime qom-set. */
	{ "hostile-overgrant", false, true },
	{ "hostile-bad-status", false, true },
	{ "hostile-keep-data", false, true },
	{ "irq-storm", false, true },
	{ "flap-ms", false, false },
};

bool device_prop_known(const char *name, bool *is_size, bool *is_bool)
{
	for (size_t i = 0; i < sizeof(device_props) / sizeof(device_props[0]);
	     i++) {
		if (!strcmp(name, device_props[i].name)) {
			if (is_size)
				*is_size = device_props[i].is_size;
			if (is_bool)
				*is_bool = device_props[i].is_bool;
			return true;
		}
	}
	return false;
}

/* Every device property's name, ", " between, for messages. */
void device_prop_names(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(device_props) / sizeof(device_props[0]);
	     i++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      i ? ", " : "", device_props[i].name);
}

/* The driver's parameters as the driver engineer announced them; the real
 * list comes from `modinfo` when the module is built (opts->driver_params). */
const char default_driver_params[] =
	"poll_ms use_irq batch rate_min rate_max backoff_min_ms "
	"backoff_max_ms upgrade_after use_2m min_margin blocking_alloc "
	"deflate_on_pressure pressure_holdoff_ms oom_pages cmd_timeout_ms "
	"irq_storm_limit poison_check";

bool word_in(const char *word, const char *list)
{
	size_t n = strlen(word);
	if (!n)		/* "" is in every list, and the loop never ends */
		return false;
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

const char *const expect_names[EX_NR] = {
	[EX_CONVERGED] = "expect-converged",
	[EX_RESERVATION] = "expect-reservation",
	[EX_BALLOON] = "expect-balloon",
	[EX_NEVER_BELOW] = "expect-never-below",
	[EX_MESSAGE] = "expect-message",
	[EX_NO_MESSAGE] = "expect-no-message",
	[EX_OOM] = "expect-oom",
	[EX_SURVIVES] = "expect-survives",
	[EX_RSS_DROP] = "expect-rss-drop",
	[EX_REFUSALS] = "expect-refusals",
	[EX_PARTIAL] = "expect-partial-grants",
	[EX_FALLBACKS] = "expect-fallbacks",
	[EX_REPLY] = "expect-reply",
	[EX_ACCOUNTING] = "expect-accounting",
	[EX_CHANGE_INTERVAL] = "expect-change-interval",
	[EX_HEALTHY] = "expect-healthy",
	[EX_STAT] = "expect-stat",
};

const char *expect_kind_name(enum expect_kind k)
{
	return k < EX_NR ? expect_names[k] : "?";
}

const char *const action_names[ACT_NR] = {
	[ACT_NONE] = "none", [ACT_PIN] = "pin", [ACT_ALLOC] = "alloc",
	[ACT_PAGECACHE] = "pagecache", [ACT_FRAGMENT] = "fragment",
	[ACT_FREE] = "free", [ACT_EXEC] = "exec",
	[ACT_SYSFS_WRITE] = "sysfs-write", [ACT_SYSFS_READ] = "sysfs-read",
};

const char *agent_action_name(enum agent_action a)
{
	return a < ACT_NR ? action_names[a] : "?";
}

const char *const sysfs_names[4] = { "current", "min", "max", "target" };

