// SPDX-License-Identifier: GPL-2.0-only
/*
 * core/tb_gstats.c built inside QEMU: TB_IN_QEMU makes core/tb_compat.h
 * include qemu/osdep.h, which QEMU requires first in every file.
 */
#define TB_IN_QEMU 1
#include "tb_gstats.c"
