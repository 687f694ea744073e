// SPDX-License-Identifier: GPL-2.0-only
/*
 * membacking.c - a scenario's memory backend made real (membacking.h).
 *
 *   ram, memfd, memfd-shared  memory-backend-ram / -memfd (share=on)
 *   file, file-shared         memory-backend-file on tmpfs (/dev/shm), in
 *                             a private directory, share=off / on
 *   hugetlbfs                 memory-backend-file on hugetlbfs (share=on),
 *                             the host's default huge page size; a private
 *                             mount (root), else a private directory in a
 *                             mount the host has; the host's free huge
 *                             pages must hold the guest's RAM
 *   thp                       memory-backend-ram, which QEMU madvises
 *                             MADV_HUGEPAGE: THP must not be "never"
 *   hugepages                 hugetlbfs when the host's free huge pages
 *                             hold the guest's RAM, else thp
 *
 * Nothing is reserved: huge pages are the host's (/proc/meminfo); the
 * harness only checks there are enough before QEMU asks for them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "backends/membacking.h"

#define TMPFS_MAGIC_	0x01021994
#define HUGETLBFS_MAGIC_ 0x958458f6
#define SHM_DIR		"/dev/shm"

static int errf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* A /proc/meminfo figure (kB, or a count), -1 when missing. */
static long long meminfo(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtoll(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

const char *mem_backing_thp_mode(char *buf, size_t len)
{
	char line[128], *a, *b;
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	buf[0] = 0;
	if (!f)
		return buf;
	if (fgets(line, sizeof(line), f) && (a = strchr(line, '[')) &&
	    (b = strchr(a, ']')))
		snprintf(buf, len, "%.*s", (int)(b - a - 1), a + 1);
	fclose(f);
	return buf;
}

/* Free huge pages of the default size, bytes (free less reserved). */
static uint64_t huge_free(uint64_t *page)
{
	long long fr = meminfo("HugePages_Free"), rs = meminfo("HugePages_Rsvd");
	long long kb = meminfo("Hugepagesize");

	*page = kb > 0 ? (uint64_t)kb << 10 : 0;
	if (fr <= 0 || kb <= 0)
		return 0;
	return (uint64_t)(fr - (rs > 0 ? rs : 0)) * *page;
}

/* A hugetlbfs mount of the host (of the default size), for a non-root
 * harness that cannot mount its own. */
static int hugetlbfs_mount_of_host(char *path, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f = fopen("/proc/mounts", "r");
	int found = -1;

	if (!f)
		return -1;
	while (found && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir,
			       type) == 3)
		if (!strcmp(type, "hugetlbfs") && !access(dir, W_OK)) {
			snprintf(path, len, "%s", dir);
			found = 0;
		}
	fclose(f);
	return found;
}

static int hugetlbfs_dir(struct mem_backing *m, char *err, size_t errlen)
{
	char host[PATH_MAX];

	snprintf(m->dir, sizeof(m->dir), "/tmp/tbhuge.XXXXXX");
	if (!mkdtemp(m->dir))
		return errf(err, errlen, "mkdtemp %s: %s", m->dir,
			    strerror(errno));
	m->made_dir = true;
	if (!mount("none", m->dir, "hugetlbfs", 0, NULL)) {
		m->mounted = true;
		return 0;
	}
	int e = errno;
	rmdir(m->dir);
	m->made_dir = false;
	if (hugetlbfs_mount_of_host(host, sizeof(host)))
		return errf(err, errlen, "memory-backend hugetlbfs: cannot "
			    "mount hugetlbfs (%s) and the host has no "
			    "writable hugetlbfs mount", strerror(e));
	snprintf(m->dir, sizeof(m->dir), "%.4000s/tbhuge.XXXXXX", host);
	if (!mkdtemp(m->dir))
		return errf(err, errlen, "mkdtemp %s: %s", m->dir,
			    strerror(errno));
	m->made_dir = true;
	return 0;
}

int mem_backing_prepare(struct mem_backing *m, const char *name,
			uint64_t memory, char *err, size_t errlen)
{
	char thp[32];
	uint64_t hpage = 0, hfree = huge_free(&hpage);
	struct statfs sf;

	memset(m, 0, sizeof(*m));
	m->page_size = 4096;
	mem_backing_thp_mode(thp, sizeof(thp));
	if (!strcmp(name, "hugepages"))
		name = hfree >= memory ? "hugetlbfs" : "thp";
	if (!*name || !strcmp(name, "ram") || !strncmp(name, "memfd", 5)) {
		m->object = !strncmp(name, "memfd", 5) ? "memfd" : "ram";
		m->share = !strcmp(name, "memfd-shared");
		snprintf(m->what, sizeof(m->what), "%s%s (4 KiB pages; host "
			 "THP %s)", *name ? "memory-backend-" : "QEMU's "
			 "default RAM", *name ? m->object : "", thp);
		if (m->share)
			strncat(m->what, ", share=on",
				sizeof(m->what) - strlen(m->what) - 1);
		return 0;
	}
	if (!strcmp(name, "thp")) {
		if (!strcmp(thp, "never") || !thp[0])
			return errf(err, errlen, "memory-backend thp: the host's "
				    "transparent huge pages are '%s' "
				    "(/sys/kernel/mm/transparent_hugepage/"
				    "enabled)", thp[0] ? thp : "not there");
		m->object = "ram";
		snprintf(m->what, sizeof(m->what), "memory-backend-ram, THP "
			 "(host mode %s; QEMU madvises MADV_HUGEPAGE)", thp);
		return 0;
	}
	if (!strcmp(name, "hugetlbfs")) {
		if (hfree < memory)
			return errf(err, errlen, "memory-backend hugetlbfs: the "
				    "host has %llu MiB of free huge pages "
				    "(/proc/meminfo HugePages_Free - Rsvd, %llu "
				    "KiB each), the guest needs %llu MiB",
				    (unsigned long long)(hfree >> 20),
				    (unsigned long long)(hpage >> 10),
				    (unsigned long long)(memory >> 20));
		if (hugetlbfs_dir(m, err, errlen))
			return -1;
		m->object = "file";
		m->share = true;
		m->page_size = hpage;
		snprintf(m->what, sizeof(m->what), "memory-backend-file on "
			 "hugetlbfs, %llu KiB pages, share=on",
			 (unsigned long long)(hpage >> 10));
		return 0;
	}
	if (!strcmp(name, "file") || !strcmp(name, "file-shared")) {
		if (statfs(SHM_DIR, &sf) || sf.f_type != TMPFS_MAGIC_)
			return errf(err, errlen, "memory-backend %s: %s is not "
				    "a tmpfs", name, SHM_DIR);
		snprintf(m->dir, sizeof(m->dir), SHM_DIR "/tbmem.XXXXXX");
		if (!mkdtemp(m->dir))
			return errf(err, errlen, "mkdtemp %s: %s", m->dir,
				    strerror(errno));
		m->made_dir = true;
		m->object = "file";
		m->share = !strcmp(name, "file-shared");
		snprintf(m->what, sizeof(m->what), "memory-backend-file on "
			 "tmpfs (%s), 4 KiB pages, share=%s; host THP %s",
			 SHM_DIR, m->share ? "on" : "off", thp);
		return 0;
	}
	return errf(err, errlen, "unknown memory backend '%s'", name);
}

void mem_backing_opened(struct mem_backing *m)
{
	if (m->mounted && !umount2(m->dir, MNT_DETACH))
		m->mounted = false;
	if (m->made_dir && !m->mounted && (!rmdir(m->dir) || errno == ENOENT))
		m->made_dir = false;
}

void mem_backing_release(struct mem_backing *m)
{
	mem_backing_opened(m);
}
