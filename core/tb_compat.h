/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tb_compat.h - the only environment-specific part of core/: fixed-width
 * types and bool, from the kernel, QEMU or libc.
 */
#ifndef TB_COMPAT_H
#define TB_COMPAT_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/kernel.h>
#elif defined(TB_IN_QEMU)
#include "qemu/osdep.h"
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#define TB_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TB_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif /* TB_COMPAT_H */
