#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# mkinitramfs.sh OUT KVER KERNEL_TREE MODULE_KO AGENT INIT SELFTEST
# Build the guest's initramfs (cpio newc, gzip): busybox-static with its
# applet links, our module, the Debian kernel's virtio_balloon and the
# modules it needs (listed in load order in /lib/tb/virtio.order), zram and
# zsmalloc for guest swap (/lib/tb/zram.order), the agent, /init and the
# in-guest self-test.
set -eu
[ $# -eq 7 ] || { echo "usage: mkinitramfs.sh OUT KVER KERNEL_TREE MODULE_KO AGENT INIT SELFTEST" >&2; exit 2; }
out=$1 kver=$2 ktree=$3 ko=$4 agent=$5 init=$6 selftest=$7
die() { echo "mkinitramfs: $*" >&2; exit 1; }

bb=/bin/busybox
[ -x "$bb" ] && "$bb" --list-full >/dev/null 2>&1 || die "busybox-static missing ($bb)"
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || ldd "$bb" 2>&1 | grep -q 'not a dynamic' ||
	die "$bb is not static (install busybox-static)"
moddir=$ktree/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "no modules.dep in $moddir"

stage=$out.d
rm -rf "$stage"
mkdir -p "$stage"/bin "$stage"/sbin "$stage"/usr/bin "$stage"/usr/sbin \
	"$stage"/proc "$stage"/sys "$stage"/dev "$stage"/tmp "$stage"/root \
	"$stage"/lib/tb "$stage"/lib/modules "$stage"/etc "$stage"/tests
cp "$bb" "$stage/bin/busybox"
for a in $("$bb" --list-full); do
	[ "$a" = bin/busybox ] && continue
	mkdir -p "$stage/$(dirname "$a")"
	ln -sf /bin/busybox "$stage/$a"
done
cp "$ko" "$stage/lib/modules/tb_balloon.ko"
cp "$agent" "$stage/bin/tb-agent"
cp "$init" "$stage/init"
cp "$selftest" "$stage/tests/selftest.sh"
chmod 755 "$stage/init" "$stage/tests/selftest.sh" "$stage/bin/tb-agent"

# virtio_balloon and its dependencies, in load order (deepest first), from
# the kernel's own modules.dep; .ko, .ko.xz or .ko.zst are all accepted and
# decompressed here since busybox insmod wants plain ELF.
deps_of() {
	awk -v m="$1" -F': *' '{ n = $1; sub(/.*\//, "", n); sub(/\.ko.*/, "", n)
		if (n == m) { print $1; print $2 } }' "$moddir/modules.dep" | tr ' ' '\n' | sed '/^$/d'
}
order=""
add_mod() { # add_mod PATH: dependencies first (recursive, hence local)
	local p n d src
	p=$1
	n=$(basename "$p"); n=${n%%.ko*}
	case " $order " in *" $n "*) return 0 ;; esac
	for d in $(deps_of "$n" | tail -n +2); do add_mod "$d"; done
	case " $order " in *" $n "*) return 0 ;; esac
	src=$moddir/$p
	[ -f "$src" ] || die "module file $src missing"
	case $src in
	*.ko) cp "$src" "$stage/lib/modules/$n.ko" ;;
	*.ko.xz) xz -dc "$src" > "$stage/lib/modules/$n.ko" ;;
	*.ko.zst) zstd -qdc "$src" > "$stage/lib/modules/$n.ko" ;;
	*.ko.gz) gzip -dc "$src" > "$stage/lib/modules/$n.ko" ;;
	*) die "unknown module format $src" ;;
	esac
	order="$order $n"
}
# Built into the kernel (modules.builtin; 6.12 has virtio_pci there): none.
builtin() {
	[ -f "$moddir/modules.builtin" ] && sed 's/.*\///; s/\.ko$//' "$moddir/modules.builtin" |
		tr - _ | grep -qx "$(echo "$1" | tr - _)"
}
for m in virtio_pci virtio_balloon; do
	builtin "$m" && continue
	p=$(deps_of "$m" | head -1)
	[ -n "$p" ] || die "$m not found in $moddir/modules.dep"
	add_mod "$p"
done
for n in $order; do echo "$n"; done > "$stage/lib/tb/virtio.order"
# zram and its zsmalloc, for guest swap (the agent's `swap` request loads
# them in this order; lzo-rle, zram's default, is built in).
order=""
if ! builtin zram; then
	p=$(deps_of zram | head -1)
	[ -n "$p" ] || die "zram not found in $moddir/modules.dep"
	add_mod "$p"
fi
for n in $order; do echo "$n"; done > "$stage/lib/tb/zram.order"
echo "$kver" > "$stage/lib/tb/kver"

(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9n > "$out.tmp" ||
	die "cpio/gzip failed"
mv "$out.tmp" "$out"
rm -rf "$stage"
