// SPDX-License-Identifier: GPL-2.0-only
/*
 * lv-tool - small checks against a libvirtd through the C API, used by
 * test-libvirt and by hand:
 *
 *   lv-tool smoke URI EMULATOR   create a transient TCG domain that boots
 *                                nothing, see it run, destroy it, see it gone
 *   lv-tool domains URI [PREFIX] list running domains (PREFIX: only those
 *                                whose name starts with it); exit 1 if any
 *   lv-tool ping URI             exit 0 if the daemon answers
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "lv_conn.h"

static int fail(const char *what)
{
	fprintf(stderr, "lv-tool: %s: %s\n", what, virGetLastErrorMessage());
	return 1;
}

static virConnectPtr open_or_die(const char *uri)
{
	virConnectPtr c = virConnectOpen(uri);

	if (!c)
		fprintf(stderr, "lv-tool: cannot connect to %s: %s\n", uri,
			virGetLastErrorMessage());
	return c;
}

static int smoke(const char *uri, const char *emulator)
{
	char xml[2048];
	char name[64];
	virConnectPtr c;
	virDomainPtr d;
	virDomainInfo info;
	int rc = 1;

	snprintf(name, sizeof(name), "tb-smoke-%ld", (long)getpid());
	/* 64 MiB, no disk, no kernel: SeaBIOS finds nothing and idles. */
	snprintf(xml, sizeof(xml),
		 "<domain type='qemu'>"
		 "<name>%s</name>"
		 "<memory unit='MiB'>64</memory>"
		 "<vcpu>1</vcpu>"
		 "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
		 "<on_reboot>destroy</on_reboot>"
		 "<devices><emulator>%s</emulator>"
		 "<memballoon model='none'/></devices>"
		 "</domain>", name, emulator);

	c = open_or_die(uri);
	if (!c)
		return 1;
	d = virDomainCreateXML(c, xml, VIR_DOMAIN_START_AUTODESTROY);
	if (!d) {
		fail("virDomainCreateXML");
		goto out;
	}
	if (virDomainGetInfo(d, &info) < 0) {
		fail("virDomainGetInfo");
		goto destroy;
	}
	printf("domain %s: state %d, %lu KiB, %u vCPU\n", name, info.state,
	       info.memory, info.nrVirtCpu);
	if (info.state != VIR_DOMAIN_RUNNING) {
		fprintf(stderr, "lv-tool: %s is not running (state %d)\n",
			name, info.state);
		goto destroy;
	}
	rc = 0;
destroy:
	if (virDomainDestroy(d) < 0) {
		fail("virDomainDestroy");
		rc = 1;
	}
	virDomainFree(d);
	/* Transient: once destroyed, the name must be unknown. */
	d = virDomainLookupByName(c, name);
	if (d) {
		fprintf(stderr, "lv-tool: %s still exists after destroy\n",
			name);
		virDomainFree(d);
		rc = 1;
	} else if (!rc) {
		printf("domain %s destroyed and gone\n", name);
	}
out:
	virConnectClose(c);
	return rc;
}

static int domains(const char *uri, const char *prefix)
{
	virConnectPtr c = open_or_die(uri);
	virDomainPtr *list = NULL;
	int n, found = 0;

	if (!c)
		return 2;
	n = virConnectListAllDomains(c, &list, 0);
	if (n < 0) {
		fail("virConnectListAllDomains");
		virConnectClose(c);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(list[i]);
		if (!prefix || !strncmp(name, prefix, strlen(prefix))) {
			printf("%s\n", name);
			found++;
		}
		virDomainFree(list[i]);
	}
	free(list);
	virConnectClose(c);
	return found ? 1 : 0;
}

int main(int argc, char **argv)
{
	lv_quiet_errors();
	if (argc == 4 && !strcmp(argv[1], "smoke"))
		return smoke(argv[2], argv[3]);
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "domains"))
		return domains(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 3 && !strcmp(argv[1], "ping")) {
		virConnectPtr c = open_or_die(argv[2]);
		if (!c)
			return 1;
		virConnectClose(c);
		return 0;
	}
	fprintf(stderr, "usage: lv-tool smoke URI EMULATOR | "
		"domains URI [PREFIX] | ping URI\n");
	return 2;
}
