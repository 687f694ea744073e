// SPDX-License-Identifier: GPL-2.0-only
/*
 * tb_knobs.c - the device properties and driver parameters of tb_knobs.h
 * as one run-time table, and the look-ups the harness needs: is this a
 * property or a parameter, what type, what default, which backends, the
 * line for --help.  No libc: core/ compiles anywhere.
 */
#include "tb_knobs.h"

#define TB_DEVICE_KNOB(field, name, type, unit, def, def_text, flags,	\
		       backends, desc)					\
	{ TB_KNOB_DEVICE, TB_KNOB_TYPE(type), name, unit, def, def_text, \
	  flags, 0, backends, desc, NULL },
#define TB_DRIVER_KNOB(var, type, perm, unit, def, backends, desc)	\
	{ TB_KNOB_DRIVER, TB_KNOB_TYPE(type), #var, unit, def, NULL, 0, \
	  perm, backends, desc, TB_PARAM_DESC(type, unit, def, desc) },

const struct tb_knob tb_knobs[] = {
	TB_DEVICE_PROPS(TB_DEVICE_KNOB)
	TB_DRIVER_PARAMS(TB_DRIVER_KNOB)
};
const unsigned int tb_knobs_nr = sizeof(tb_knobs) / sizeof(tb_knobs[0]);

static bool tb_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

const struct tb_knob *tb_knob_find(enum tb_knob_kind kind, const char *name)
{
	const struct tb_knob *k;

	if (!name)
		return NULL;
	tb_knob_foreach(k, kind)
		if (tb_streq(k->name, name))
			return k;
	return NULL;
}

const struct tb_knob *tb_knob_next(enum tb_knob_kind kind,
				   const struct tb_knob *prev)
{
	const struct tb_knob *k = prev ? prev + 1 : tb_knobs;

	for (; k < tb_knobs + tb_knobs_nr; k++)
		if (k->kind == kind)
			return k;
	return NULL;
}

unsigned int tb_backend_bit(const char *backend)
{
	static const struct {
		const char *name;
		unsigned int bit;
	} names[] = {
		{ "emu", TB_BE_EMU },
		{ "virtio", TB_BE_VIRTIO },
		{ "libvirt", TB_BE_LIBVIRT },
		{ "sim", TB_BE_SIM },
	};
	unsigned int i;

	for (i = 0; backend && i < sizeof(names) / sizeof(names[0]); i++)
		if (tb_streq(names[i].name, backend))
			return names[i].bit;
	return 0;
}

bool tb_knob_known_by(const struct tb_knob *k, const char *backend)
{
	return (k->backends & tb_backend_bit(backend)) != 0;
}

bool tb_knob_writable(const struct tb_knob *k)
{
	return !(k->flags & TB_KNOB_RO);
}

uint64_t tb_knob_default(const struct tb_knob *k, uint64_t ram_bytes)
{
	/* As the device computes it; 100% is all of RAM, not rounded. */
	if (k->flags & TB_KNOB_DEF_RAM_PCT)
		return k->def == 100 ? ram_bytes : ram_bytes / 100 * k->def;
	return k->def;
}

const char *tb_knob_type_name(const struct tb_knob *k)
{
	switch (k->type) {
	case TB_KNOB_SIZE:
		return "size";
	case TB_KNOB_U32:
		return k->kind == TB_KNOB_DRIVER ? "uint" : "uint32";
	case TB_KNOB_BOOL:
		return "bool";
	case TB_KNOB_STATS:
		return "TbBalloonStats";
	case TB_KNOB_LOG:
		return "TbBatchLog";
	case TB_KNOB_GSTATS:
		return "TbGuestStats";
	}
	return "?";
}

/* Bounded appends that count what did not fit, as snprintf does. */
struct tb_out {
	char *buf;
	unsigned int len, n;
};

static void tb_puts(struct tb_out *o, const char *s)
{
	for (; *s; s++, o->n++)
		if (o->n + 1 < o->len)
			o->buf[o->n] = *s;
}

static void tb_putu(struct tb_out *o, uint64_t v)
{
	char digits[21];
	int i = sizeof(digits) - 1;

	digits[i] = '\0';
	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	tb_puts(o, digits + i);
}

unsigned int tb_knob_describe(const struct tb_knob *k, char *buf,
			      unsigned int len)
{
	struct tb_out o = { buf, len, 0 };

	if (k->kind == TB_KNOB_DRIVER) {
		tb_puts(&o, k->parm_desc);
	} else {
		tb_puts(&o, k->desc);
		if (*k->unit) {
			tb_puts(&o, ", ");
			tb_puts(&o, k->unit);
		}
		if (k->flags & TB_KNOB_RO) {
			tb_puts(&o, " (read-only)");
		} else {
			tb_puts(&o, " (default: ");
			if (k->def_text)
				tb_puts(&o, k->def_text);
			else if (k->type == TB_KNOB_BOOL)
				tb_puts(&o, k->def ? "on" : "off");
			else
				tb_putu(&o, k->def);
			tb_puts(&o, ")");
		}
	}
	if (len)
		buf[o.n < len ? o.n : len - 1] = '\0';
	return o.n;
}
