#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# graft.sh SRC_TREE: add our device to an unpacked QEMU tree as hw/tb-balloon/.
# The files there are generated copies (never edit them): a file is copied
# only when its content changed, so ninja rebuilds only what depends on it.
# The hooks in hw/meson.build, hw/Kconfig and meson.build are added once.
set -eu

tree=${1:?usage: graft.sh QEMU_SRC_TREE}
here=$(cd "$(dirname "$0")" && pwd)
core=$here/../core
dst=$tree/hw/tb-balloon

die() { echo "graft: $*" >&2; exit 1; }
[ -f "$tree/hw/meson.build" ] || die "$tree is not a QEMU source tree"

mkdir -p "$dst"
copy() {
	if ! cmp -s "$1" "$2"; then
		cp "$1" "$2.tmp" && mv "$2.tmp" "$2"
	fi
}
copy "$here/tb-balloon.c" "$dst/tb-balloon.c"
copy "$here/trace-events" "$dst/trace-events"
copy "$here/Kconfig" "$dst/Kconfig"
copy "$here/meson.build" "$dst/meson.build"
copy "$here/tb_host_qemu.c" "$dst/tb_host_qemu.c"
copy "$here/tb_batch_qemu.c" "$dst/tb_batch_qemu.c"
copy "$here/tb_batchlog_qemu.c" "$dst/tb_batchlog_qemu.c"
copy "$here/tb_gstats_qemu.c" "$dst/tb_gstats_qemu.c"
for f in tb_proto.h tb_compat.h tb_host.h tb_host.c tb_batch.h tb_batch.c \
	tb_batchlog.h tb_batchlog.c tb_gstats.h tb_gstats.c tb_knobs.h; do
	[ -f "$core/$f" ] || die "core/$f missing"
	copy "$core/$f" "$dst/$f"
done
# The trace wrapper header every QEMU directory has.
printf '#include "trace/trace-hw_tb_balloon.h"\n' > "$dst/trace.h.new"
copy "$dst/trace.h.new" "$dst/trace.h"
rm -f "$dst/trace.h.new"

# Hooks: each added once, checked by an exact line.
grep -qx "subdir('tb-balloon')" "$tree/hw/meson.build" ||
	printf "subdir('tb-balloon')\n" >> "$tree/hw/meson.build"
grep -qx "source tb-balloon/Kconfig" "$tree/hw/Kconfig" ||
	printf "source tb-balloon/Kconfig\n" >> "$tree/hw/Kconfig"
if ! grep -q "'hw/tb-balloon'" "$tree/meson.build"; then
	# Append to the list right after the first "trace_events_subdirs = [".
	awk '
		!done && /^trace_events_subdirs = \[/ { print; print "  '\''hw/tb-balloon'\'',"; done = 1; next }
		{ print }
		END { if (!done) exit 1 }' "$tree/meson.build" > "$tree/meson.build.tmp" ||
		{ rm -f "$tree/meson.build.tmp"; die "trace_events_subdirs not found in meson.build"; }
	mv "$tree/meson.build.tmp" "$tree/meson.build"
fi
