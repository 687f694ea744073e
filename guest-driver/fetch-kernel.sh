#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fetch-kernel.sh DIR: resolve Debian's current linux-image-amd64 to its
# versioned package, download it (never install it on the host) and unpack
# it into DIR/kernel; make sure the matching headers package is installed so
# the module can be built with Kbuild.  Writes DIR/kver (e.g. "6.1.0-N-amd64")
# last, only after everything succeeded.
set -eu

dir=${1:?usage: fetch-kernel.sh DIR}
die() { echo "fetch-kernel: $*" >&2; exit 1; }

mkdir -p "$dir"
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(.*\)$/\1/p' | head -1
}
kver=$(resolve)
if [ -z "$kver" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	kver=$(resolve)
fi
[ -n "$kver" ] || die "apt-cache does not know linux-image-amd64 (run apt-get update)"
case $kver in *-amd64) ;; *) die "unexpected dependency of linux-image-amd64: '$kver'" ;; esac

# Headers: built against on the host, so they are installed (as root).
hdr=/usr/src/linux-headers-$kver
if [ ! -f "$hdr/Makefile" ]; then
	[ "$(id -u)" = 0 ] || die "missing linux-headers-$kver; run as root: apt-get install linux-headers-$kver"
	echo "  APT     linux-headers-$kver" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"linux-headers-$kver" >"$dir/apt-headers.log" 2>&1 ||
		{ tail -20 "$dir/apt-headers.log" >&2; die "apt-get install linux-headers-$kver failed"; }
fi
[ -f "$hdr/Makefile" ] || die "$hdr/Makefile missing after install"

# Image: downloaded as a .deb and unpacked, not installed.
kdir=$dir/kernel
if [ ! -f "$kdir/boot/vmlinuz-$kver" ] || [ ! -f "$kdir/lib/modules/$kver/modules.dep" ]; then
	dl=$dir/deb
	rm -rf "$dl" "$kdir"
	mkdir -p "$dl"
	echo "  APT     download linux-image-$kver" >&2
	(cd "$dl" && apt-get download -q "linux-image-$kver" >log 2>&1) ||
		{ tail -20 "$dl/log" >&2; die "apt-get download linux-image-$kver failed"; }
	deb=$(ls "$dl"/linux-image-"$kver"_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || die "downloaded .deb not found in $dl"
	mkdir -p "$kdir.tmp"
	dpkg-deb -x "$deb" "$kdir.tmp" || die "dpkg-deb -x $deb failed"
	[ -f "$kdir.tmp/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $deb"
	# The package ships no modules.dep (depmod runs at install): make one.
	depmod -b "$kdir.tmp" "$kver" || die "depmod -b $kdir.tmp $kver failed"
	mv "$kdir.tmp" "$kdir"
	rm -rf "$dl"
fi
cp "$kdir/boot/vmlinuz-$kver" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "$kver" > "$dir/kver.tmp" && mv "$dir/kver.tmp" "$dir/kver"
