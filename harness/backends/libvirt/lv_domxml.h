/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * lv_domxml.h - the libvirt domain XML of a scenario's guest.
 *
 * The device trick: libvirt only lets `virsh setmem` through when the domain
 * has a memory balloon, so the domain declares <memballoon model='virtio'>
 * with a user alias, and <qemu:override> replaces that device's QEMU driver
 * with ours.  QEMU then gets our device where virtio-balloon-pci would be,
 * and our device, being QEMU's balloon handler, answers libvirt's QMP
 * `balloon` and `query-balloon`.
 */
#ifndef HARNESS_LV_DOMXML_H
#define HARNESS_LV_DOMXML_H

#include <stdbool.h>
#include <stdint.h>

#define LV_MAX_PROPS 32

enum lv_prop_type { LV_PROP_UNSIGNED, LV_PROP_BOOL, LV_PROP_STRING };

struct lv_prop {
	const char *name;
	const char *value;	/* bools as "on"/"off" (scenario's form) */
	enum lv_prop_type type;
};

struct lv_dom_spec {
	const char *name;
	bool kvm;		/* domain type kvm, else qemu (TCG) */
	const char *emulator;
	uint64_t memory;	/* bytes; rounded down to KiB */
	int vcpus;
	const char *machine;	/* "pc" or "q35" (libvirt adds the root
				   ports PCIe devices need) */
	int numa_nodes;		/* <cpu><numa> cells, RAM split as emu
				   splits it; 0: none */
	const char *mem_source;	/* <memoryBacking><source type=...>:
				   "anonymous", "memfd", "file"; NULL none */
	bool mem_shared;	/* <access mode='shared'/> */
	const char *kernel, *initrd, *cmdline;
	const char *console_log;	/* ttyS0: a pty (virsh console) whose
					   output QEMU also writes here */
	const char *agent_sock;		/* ttyS1: QEMU listens here */
	const char *alias;		/* "ua-..." */
	const char *driver;		/* QEMU device replacing virtio-balloon */
	struct lv_prop props[LV_MAX_PROPS];
	int nprops;
};

/* Returns a malloc'ed XML document, or NULL (out of memory). */
char *lv_domain_xml(const struct lv_dom_spec *s);

#endif /* HARNESS_LV_DOMXML_H */
