// SPDX-License-Identifier: GPL-2.0-only
/*
 * lv_domxml.c - write the domain XML (see lv_domxml.h for the device trick).
 */
#define _GNU_SOURCE
#include "lv_domxml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XML attribute/text escaping: paths and the command line are the user's. */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The console: a pty, so `virsh console` works as usual, with everything
 * QEMU writes to it also logged to a file the harness follows (QEMU logs
 * output even while nobody is attached to the pty). */
static void console(FILE *f, const char *log)
{
	fputs("    <serial type='pty'>\n      <log file='", f);
	esc(f, log);
	fputs("' append='off'/>\n      <target port='0'/>\n    </serial>\n", f);
	fputs("    <console type='pty'>\n"
	      "      <target type='serial' port='0'/>\n    </console>\n", f);
}

/* The agent: QEMU listens (mode='bind'); the harness connects while the
 * domain is still paused, so nothing is lost. */
static void serial_unix(FILE *f, const char *path, int port)
{
	fputs("    <serial type='unix'>\n      <source mode='bind' path='", f);
	esc(f, path);
	fprintf(f, "'/>\n      <target port='%d'/>\n    </serial>\n", port);
}

char *lv_domain_xml(const struct lv_dom_spec *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned long long kib = (unsigned long long)(s->memory / 1024);

	if (!f)
		return NULL;
	fprintf(f, "<domain type='%s' "
		"xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n",
		s->kvm ? "kvm" : "qemu");
	fputs("  <name>", f);
	esc(f, s->name);
	fputs("</name>\n", f);
	fputs("  <description>balloon-testbed guest</description>\n", f);
	fprintf(f, "  <memory unit='KiB'>%llu</memory>\n", kib);
	fprintf(f, "  <currentMemory unit='KiB'>%llu</currentMemory>\n", kib);
	fprintf(f, "  <vcpu placement='static'>%d</vcpu>\n", s->vcpus);
	if (s->mem_source)
		fprintf(f, "  <memoryBacking>\n    <source type='%s'/>\n"
			"    <access mode='%s'/>\n  </memoryBacking>\n",
			s->mem_source, s->mem_shared ? "shared" : "private");
	if (s->numa_nodes > 0) {
		/* As backends/qemu.c: whole 2 MiB a node, the last the rest;
		 * vCPUs split in order (a node may have none). */
		int n = s->numa_nodes;
		unsigned long long mib = s->memory >> 20;
		unsigned long long each = mib / n & ~1ull;
		fputs("  <cpu>\n    <numa>\n", f);
		for (int i = 0; i < n; i++) {
			int c0 = i * s->vcpus / n, c1 = (i + 1) * s->vcpus / n;
			fprintf(f, "      <cell id='%d'", i);
			if (c1 > c0 + 1)
				fprintf(f, " cpus='%d-%d'", c0, c1 - 1);
			else if (c1 > c0)
				fprintf(f, " cpus='%d'", c0);
			fprintf(f, " memory='%llu' unit='MiB'%s/>\n",
				i < n - 1 ? each : mib - each * (n - 1),
				s->mem_shared ? " memAccess='shared'" : "");
		}
		fputs("    </numa>\n  </cpu>\n", f);
	}
	fputs("  <os>\n    <type arch='x86_64' machine='", f);
	esc(f, s->machine ? s->machine : "pc");
	fputs("'>hvm</type>\n", f);
	fputs("    <kernel>", f);
	esc(f, s->kernel);
	fputs("</kernel>\n    <initrd>", f);
	esc(f, s->initrd);
	fputs("</initrd>\n    <cmdline>", f);
	esc(f, s->cmdline);
	fputs("</cmdline>\n  </os>\n", f);
	fputs("  <features><acpi/></features>\n", f);
	fputs("  <clock offset='utc'/>\n", f);
	/* A guest that resets or panics (panic=-1) ends the run: the
	 * lifecycle event is the verdict, as QEMU's -no-reboot in emu. */
	fputs("  <on_poweroff>destroy</on_poweroff>\n"
	      "  <on_reboot>destroy</on_reboot>\n"
	      "  <on_crash>destroy</on_crash>\n", f);
	fputs("  <devices>\n    <emulator>", f);
	esc(f, s->emulator);
	fputs("</emulator>\n", f);
	console(f, s->console_log);
	serial_unix(f, s->agent_sock, 1);
	/* As emu's -nodefaults: nothing the scenario did not ask for. */
	fputs("    <controller type='usb' model='none'/>\n"
	      "    <video><model type='none'/></video>\n", f);
	fputs("    <memballoon model='virtio'>\n      <alias name='", f);
	esc(f, s->alias);
	fputs("'/>\n    </memballoon>\n  </devices>\n", f);

	fputs("  <qemu:override>\n    <qemu:device alias='", f);
	esc(f, s->alias);
	fputs("'>\n      <qemu:frontend>\n", f);
	fputs("        <qemu:property name='driver' type='string' value='", f);
	esc(f, s->driver);
	fputs("'/>\n", f);
	for (int i = 0; i < s->nprops; i++) {
		const struct lv_prop *p = &s->props[i];
		const char *type = p->type == LV_PROP_BOOL ? "bool" :
				   p->type == LV_PROP_UNSIGNED ? "unsigned" :
				   "string";
		const char *v = p->value;
		if (p->type == LV_PROP_BOOL)
			v = !strcmp(v, "on") || !strcmp(v, "true") ||
			    !strcmp(v, "yes") || !strcmp(v, "1") ?
			    "true" : "false";
		fputs("        <qemu:property name='", f);
		esc(f, p->name);
		fprintf(f, "' type='%s' value='", type);
		esc(f, v);
		fputs("'/>\n", f);
	}
	fputs("      </qemu:frontend>\n    </qemu:device>\n"
	      "  </qemu:override>\n</domain>\n", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
