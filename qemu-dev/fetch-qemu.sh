#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fetch-qemu.sh DEST: unpack Debian's "qemu" source package (Debian patches
# applied) into DEST.  Nothing is done when DEST already holds a tree.
# When apt has no deb-src entry, one is derived from the machine's own apt
# configuration (deb822 *.sources or one-line sources.list), so no archive
# host name ever appears in this repository.
set -eu

dest=${1:?usage: fetch-qemu.sh DEST}
if [ -f "$dest/configure" ] && [ -d "$dest/hw" ]; then
	exit 0
fi

die() { echo "fetch-qemu: $*" >&2; exit 1; }

have_src() {
	apt-cache showsrc qemu 2>/dev/null | grep -q '^Package: qemu$'
}

add_deb_src() {
	[ "$(id -u)" = 0 ] || die "no deb-src entry for qemu; run as root once so one can be added"
	out=/etc/apt/sources.list.d/balloon-testbed-src.sources
	tmp=$out.tmp
	: > "$tmp"
	# deb822 files: copy each stanza that has "Types: deb", as deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$out" ] && continue
		awk '
			BEGIN { RS = ""; ORS = "\n\n" }
			/(^|\n)Types:[^\n]*[ \t]deb([ \t]|\n|$)/ || /(^|\n)Types:[ \t]*deb[ \t]*(\n|$)/ {
				out = ""
				n = split($0, l, "\n")
				for (i = 1; i <= n; i++) {
					if (l[i] ~ /^#/) continue
					if (l[i] ~ /^Types:/) l[i] = "Types: deb-src"
					if (l[i] ~ /^Enabled:[ \t]*no/) { out = ""; break }
					out = out l[i] "\n"
				}
				if (out != "") printf "%s\n", out
			}' "$f" >> "$tmp"
	done
	# One-line format: "deb [opts] URI suite comps" becomes a deb822 stanza.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '
			$1 == "deb" {
				i = 2; opts = ""
				if ($2 ~ /^\[/) {
					while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ }
				}
				uri = $i; suite = $(i + 1); comps = ""
				for (j = i + 2; j <= NF; j++) comps = comps " " $j
				print "Types: deb-src"
				print "URIs: " uri
				print "Suites: " suite
				print "Components:" comps
				if (match(opts, /signed-by=[^] ]+/))
					print "Signed-By: " substr(opts, RSTART + 10, RLENGTH - 10)
				print ""
			}' "$f" >> "$tmp"
	done
	[ -s "$tmp" ] || { rm -f "$tmp"; die "no deb entry found in the apt configuration"; }
	mv "$tmp" "$out"
	echo "  FETCH   added $out" >&2
	apt-get update -qq || die "apt-get update failed"
}

command -v dpkg-source >/dev/null || die "dpkg-source missing (install dpkg-dev)"
if ! have_src; then
	[ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
	have_src || add_deb_src
	have_src || die "apt still has no source for qemu after adding deb-src"
fi

work=$dest.fetch
rm -rf "$work"
mkdir -p "$work"
# apt-get source unpacks into the current directory and applies the patches.
(cd "$work" && apt-get source -q qemu >log 2>&1) || {
	tail -20 "$work/log" >&2
	die "apt-get source qemu failed (log: $work/log)"
}
tree=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'qemu-*' | head -1)
[ -n "$tree" ] && [ -f "$tree/configure" ] || die "unpacked tree not found in $work"
rm -rf "$dest"
mv "$tree" "$dest"
rm -rf "$work"
