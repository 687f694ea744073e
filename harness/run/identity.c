// SPDX-License-Identifier: GPL-2.0-only
/*
 * identity.c - which parts a run used, for summary.json's "identity": the
 * balloon module the guest loaded (its TB-DRIVER line), the device's
 * version register, the emulator binary, guest kernel and initramfs (by
 * sha256), the command line, the accelerator and the host's CPU.  Two runs
 * with equal identities differ only in what their scenarios set; `make
 * compare` refuses to call them A and B otherwise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "run_int.h"

extern char **environ;

/* sha256 of the file at @path as hex, or NULL (no path, no sha256sum). */
static json_t *sha256_of(const char *path)
{
	char *argv[] = { "sha256sum", "--", (char *)path, NULL };
	char out[160] = "";
	posix_spawn_file_actions_t fa;
	int fd[2];
	pid_t pid;
	ssize_t n, got = 0;

	if (!path || pipe2(fd, O_CLOEXEC))
		return json_null();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null",
					 O_WRONLY, 0);
	if (posix_spawnp(&pid, "sha256sum", &fa, NULL, argv, environ)) {
		pid = -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	while (pid > 0 && got < (ssize_t)sizeof(out) - 1 &&
	       (n = read(fd[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	close(fd[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	out[got] = '\0';
	out[strcspn(out, " \n")] = '\0';
	return strlen(out) == 64 ? json_string(out) : json_null();
}

/* The path's file with its sha256, or null. */
static json_t *file_json(const char *path)
{
	if (!path)
		return json_null();
	return json_pack("{s:s, s:o}", "path", path, "sha256",
			 sha256_of(path));
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* /proc/cpuinfo's first "model name", or NULL. */
static json_t *cpu_model(void)
{
	char line[512];
	json_t *v = json_null();
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && c) {
			c += 1 + strspn(c + 1, " \t");
			c[strcspn(c, "\n")] = '\0';
			json_decref(v);
			v = json_string(c);
			break;
		}
	}
	if (f)
		fclose(f);
	return v;
}

json_t *identity_json(struct run *r)
{
	const struct guest_state *g = &r->guest;
	const bool sim = !r->be.program;
	struct utsname u;
	json_t *drv, *kernel, *emulator;
	char pkg[192];

	if (g->drv_module[0])
		drv = json_pack("{s:s, s:o, s:o, s:o}", "module", g->drv_module,
				"version", str_or_null(g->drv_version),
				"srcversion", str_or_null(g->drv_srcversion),
				"sha256", str_or_null(g->drv_sha256));
	else
		drv = json_null();
	snprintf(pkg, sizeof(pkg), "linux-image-%s", g->kernel);
	kernel = file_json(sim ? NULL : r->env->kernel);
	if (json_is_object(kernel)) {
		json_object_set_new(kernel, "release", json_string(g->kernel));
		json_object_set_new(kernel, "package", json_string(pkg));
		json_object_set_new(kernel, "package_version",
				    str_or_null(g->kernel_pkg));
	}
	emulator = file_json(r->be.program);
	if (json_is_object(emulator))
		json_object_set_new(emulator, "version",
				    json_string(r->be.host_version));
	uname(&u);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:{s:o, s:i, s:s}}",
			 "driver", drv,
			 "device_version", g->device_version >= 0 ?
				json_integer(g->device_version) : json_null(),
			 "emulator", emulator,
			 "kernel", kernel,
			 "initrd", file_json(sim ? NULL : r->env->initrd),
			 "cmdline", g->cmdline[0] ? g->cmdline :
				r->be.kernel_cmdline,
			 "accel", r->be.accel,
			 "host", "cpu_model", cpu_model(),
			 "cores", (int)sysconf(_SC_NPROCESSORS_ONLN),
			 "kernel", u.release);
}
