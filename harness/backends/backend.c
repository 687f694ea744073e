// SPDX-License-Identifier: GPL-2.0-only
/*
 * backend.c - the table of backends.  emu and virtio live in qemu.c, sim
 * in sim.c, libvirt in libvirt/; libvirt and sim are declared weak here,
 * so a build without one of them (no libvirt development files) still
 * links: each only has to define its `const struct backend_ops
 * backend_<name>` and be compiled in.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "tb_knobs.h"

extern const struct backend_ops backend_emu, backend_virtio;
extern const struct backend_ops backend_libvirt __attribute__((weak));
extern const struct backend_ops backend_sim __attribute__((weak));

static const struct backend_ops *table(size_t i)
{
	switch (i) {
	case 0: return &backend_emu;
	case 1: return &backend_virtio;
	case 2: return &backend_libvirt;	/* NULL unless linked in */
	case 3: return &backend_sim;
	default: return (const struct backend_ops *)-1;
	}
}

const struct backend_ops *backend_find(const char *name)
{
	const struct backend_ops *b;
	for (size_t i = 0; (b = table(i)) != (const struct backend_ops *)-1;
	     i++)
		if (b && !strcmp(b->name, name))
			return b;
	return NULL;
}

const char *backend_names(void)
{
	static char names[128];
	const struct backend_ops *b;
	names[0] = 0;
	for (size_t i = 0; (b = table(i)) != (const struct backend_ops *)-1;
	     i++) {
		if (!b)
			continue;
		if (names[0])
			strcat(names, " ");
		strcat(names, b->name);
	}
	return names;
}

int64_t be_kv(const char *line, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = line; (p = strstr(p, key)); p += n)
		if ((p == line || p[-1] == ' ') && p[n] == '=')
			return strtoll(p + n + 1, NULL, 0);
	return -1;
}

int be_knob_feature(const char *name, const char *feature)
{
	const struct tb_knob *k;

	if (!strncmp(feature, "device-prop:", 12))
		k = tb_knob_find(TB_KNOB_DEVICE, feature + 12);
	else if (!strncmp(feature, "driver-param:", 13))
		k = tb_knob_find(TB_KNOB_DRIVER, feature + 13);
	else
		return -1;
	return k ? tb_knob_known_by(k, name) : -1;
}
