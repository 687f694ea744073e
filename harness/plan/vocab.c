// SPDX-License-Identifier: GPL-2.0-only
/*
 * vocab.c - the words of scenario files: expectation names, agent actions, device properties, driver parameters, sysfs files.
 */
#include <stdio.h>
#include <string.h>

#include "plan_int.h"
#include "tb_knobs.h"


/*
 * Device properties and driver parameters come from core/tb_knobs.h, the
 * one list the device and the driver are built from.  The backends set
 * the writable properties; a scenario all of them but "target", which it
 * sets through its steps, and "batch-log-from", the harness's own cursor
 * into the batch log.
 */
static const struct tb_knob *device_prop(const char *name)
{
	const struct tb_knob *k = tb_knob_find(TB_KNOB_DEVICE, name);

	return k && tb_knob_writable(k) ? k : NULL;
}

bool device_prop_known(const char *name, bool *is_size, bool *is_bool)
{
	const struct tb_knob *k = device_prop(name);

	if (!k)
		return false;
	if (is_size)
		*is_size = k->type == TB_KNOB_SIZE;
	if (is_bool)
		*is_bool = k->type == TB_KNOB_BOOL;
	return true;
}

bool device_prop_settable(const char *name, bool *is_size, bool *is_bool)
{
	return device_prop_known(name, is_size, is_bool) &&
	       strcmp(name, "target") && strcmp(name, "batch-log-from");
}

/* Every device property a scenario can set, ", " between, for messages. */
void device_prop_names(char *buf, size_t len)
{
	const struct tb_knob *k;
	size_t n = 0;

	buf[0] = 0;
	tb_knob_foreach(k, TB_KNOB_DEVICE)
		if (device_prop_settable(k->name, NULL, NULL))
			n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
				      n ? ", " : "", k->name);
}

const char *driver_param_names(void)
{
	static char names[1024];
	const struct tb_knob *k;
	size_t n = 0;

	if (!names[0])
		tb_knob_foreach(k, TB_KNOB_DRIVER)
			n += snprintf(names + n, n < sizeof(names) ?
				      sizeof(names) - n : 0, "%s%s",
				      n ? " " : "", k->name);
	return names;
}

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
	[EX_TIME_TO_90] = "expect-time-to-90",
	[EX_RATE] = "expect-rate",
	[EX_CYCLES] = "expect-cycles",
	[EX_BAND] = "expect-band",
	[EX_OVERSHOOT] = "expect-overshoot",
	[EX_RSS_RETURNED] = "expect-rss-returned",
	[EX_RSS_NEAR] = "expect-rss-near",
	[EX_OUTSIDE] = "expect-outside",
	[EX_TARGET_CYCLES] = "expect-target-cycles",
	[EX_STUCK] = "expect-stuck",
	[EX_FIGURES_AGE] = "expect-figures-age",
};

bool expect_is_policy(enum expect_kind k)
{
	return k == EX_OUTSIDE || k == EX_TARGET_CYCLES || k == EX_STUCK ||
	       k == EX_FIGURES_AGE;
}

bool expect_is_metric(enum expect_kind k)
{
	return k == EX_TIME_TO_90 || k == EX_RATE || k == EX_CYCLES ||
	       k == EX_BAND || k == EX_OVERSHOOT || k == EX_RSS_RETURNED;
}

const char *expect_kind_name(enum expect_kind k)
{
	return k < EX_NR ? expect_names[k] : "?";
}

const char *const action_names[ACT_NR] = {
	[ACT_NONE] = "none", [ACT_PIN] = "pin", [ACT_ALLOC] = "alloc",
	[ACT_PAGECACHE] = "pagecache", [ACT_FRAGMENT] = "fragment",
	[ACT_BUSY] = "busy",
	[ACT_FREE] = "free", [ACT_EXEC] = "exec",
	[ACT_SYSFS_WRITE] = "sysfs-write", [ACT_SYSFS_READ] = "sysfs-read",
};

const char *agent_action_name(enum agent_action a)
{
	return a < ACT_NR ? action_names[a] : "?";
}

const char *const lifecycle_names[LC_NR] = {
	[LC_NONE] = "none", [LC_SAVE_RESTORE] = "save-restore",
	[LC_SAVE_RESTORE_BUSY] = "save-restore busy", [LC_RESET] = "reset",
	[LC_UNBIND] = "unbind", [LC_BIND] = "bind",
};

const char *const sysfs_names[4] = { "current", "min", "max", "target" };

/* QEMU machine types a scenario may name (`machine =`); the first is the
 * default: q35, what current stacks create. */
const char *const machine_names[] = { "q35", "pc", NULL };

/* What backs guest RAM (`memory-backend =`, backends/membacking.c). */
const char *const memory_backend_names[] = {
	"ram", "memfd", "memfd-shared", "file", "file-shared", "hugetlbfs",
	"thp", "hugepages", NULL };

/* @names (NULL-ended) as "a, b or c", for messages. */
const char *names_or(const char *const *names, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; names[i]; i++)
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s",
			      !i ? "" : names[i + 1] ? ", " : " or ",
			      names[i]);
	return buf;
}

bool name_in(const char *name, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

