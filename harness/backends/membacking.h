/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * membacking.h - what backs a real guest's RAM when a scenario names a
 * memory backend (`memory-backend =`, scenarios/README): which QEMU
 * memory-backend-* object, shared or private, on which tmpfs or hugetlbfs
 * path.  The path is the harness's own (a private directory, a private
 * hugetlbfs mount when the host has none), gone as soon as QEMU has its
 * files open, and in any case at the end of the run.
 */
#ifndef HARNESS_BACKENDS_MEMBACKING_H
#define HARNESS_BACKENDS_MEMBACKING_H
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mem_backing {
	const char *object;	/* "ram", "memfd" or "file": memory-backend-* */
	bool share;		/* share=on */
	char dir[PATH_MAX];	/* mem-path (a directory: QEMU makes and
				   unlinks its file there); "" none */
	bool made_dir;		/* dir is ours: removed by release */
	bool mounted;		/* our own hugetlbfs mount on dir */
	uint64_t page_size;	/* host page size of the backing, bytes */
	char what[200];		/* for summary.json: what backs the RAM */
};

/*
 * Resolve scenario backend @name ("" for QEMU's default RAM) for @memory
 * bytes of guest RAM and make what it needs.  0, or -1 with @err set (the
 * host cannot give it: no huge pages, THP off, no tmpfs).
 */
int mem_backing_prepare(struct mem_backing *m, const char *name,
			uint64_t memory, char *err, size_t errlen);
/* QEMU has opened its files: the names (directory, mount) can go now. */
void mem_backing_opened(struct mem_backing *m);
/* The end of the run: whatever prepare made is gone. */
void mem_backing_release(struct mem_backing *m);
/* The host's THP mode ("always", "madvise", "never"; "" unknown). */
const char *mem_backing_thp_mode(char *buf, size_t len);

#endif /* HARNESS_BACKENDS_MEMBACKING_H */
