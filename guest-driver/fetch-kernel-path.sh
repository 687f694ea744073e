#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fetch-kernel-path.sh DIR VMLINUZ: a guest kernel given by path, for
# GUEST_KERNEL=/path/to/vmlinuz.  Its release comes from the image (or a
# vmlinuz-RELEASE name); its modules from RELEASE's modules directory
# beside it (../lib/modules/RELEASE or ../usr/lib/modules/RELEASE, as in an
# unpacked package or a `make modules_install INSTALL_MOD_PATH=` tree) or
# /lib/modules/RELEASE; its headers or build tree from GUEST_KERNEL_BUILD,
# else the modules directory's build link, else /usr/src/linux-headers-RELEASE.
# The module is built on the host, so the host must have the compiler the
# kernel was built with (CONFIG_CC_VERSION_TEXT): otherwise this stops,
# since a module built with other flags is not one this kernel was tested
# with (for another Debian release use GUEST_KERNEL=VERSION).
# Writes DIR/headers, DIR/vmlinuz, DIR/kernel/lib/modules/RELEASE (a link)
# and DIR/kver last.
set -eu

dir=${1:?usage: fetch-kernel-path.sh DIR VMLINUZ}
img=${2:?usage: fetch-kernel-path.sh DIR VMLINUZ}
die() { echo "fetch-kernel: GUEST_KERNEL=$img: $*" >&2; exit 1; }
[ -f "$img" ] || die "no such file"
img=$(cd "$(dirname "$img")" && pwd)/$(basename "$img")

kver=$(file -bL "$img" | sed -n 's/.*Linux kernel.* version \([^ ,]*\).*/\1/p')
[ -n "$kver" ] || case $(basename "$img") in vmlinuz-?*) kver=${img##*/vmlinuz-} ;; esac
[ -n "$kver" ] || die "not a Linux kernel image (file(1) finds no version)"

base=$(dirname "$img")/..
moddir=
for m in "$base/lib/modules/$kver" "$base/usr/lib/modules/$kver" "/lib/modules/$kver"; do
	[ -d "$m" ] && { moddir=$(cd "$m" && pwd); break; }
done
[ -n "$moddir" ] || die "no modules directory for $kver beside it or in /lib/modules"
[ -f "$moddir/modules.dep" ] || die "$moddir has no modules.dep (run depmod -b)"

hdr=${GUEST_KERNEL_BUILD:-}
[ -n "$hdr" ] || { [ -f "$moddir/build/Makefile" ] && hdr=$moddir/build; } || :
[ -n "$hdr" ] || hdr=/usr/src/linux-headers-$kver
[ -f "$hdr/Makefile" ] || die "no headers or build tree for $kver ($hdr; set GUEST_KERNEL_BUILD=)"
hdr=$(cd "$hdr" && pwd)

conf=$hdr/include/config/auto.conf
[ -f "$conf" ] || die "$conf missing (headers not prepared)"
built=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\{0,1\}\(.*[^"]\)"\{0,1\}$/\1/p' "$conf")
cc=${built%% *}
have=$(command -v "$cc" >/dev/null 2>&1 && LC_ALL=C "$cc" --version 2>/dev/null | head -1 || :)
[ "$have" = "$built" ] ||
	die "built by '$built', the host has '${have:-no $cc}': refusing to build the module with another compiler's flags"

mkdir -p "$dir/kernel/lib/modules"
ln -sfn "$moddir" "$dir/kernel/lib/modules/$kver"
echo "$hdr" > "$dir/headers"
cp "$img" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "$kver" > "$dir/kver.tmp" && mv "$dir/kver.tmp" "$dir/kver"
