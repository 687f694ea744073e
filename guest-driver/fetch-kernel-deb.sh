#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# fetch-kernel-deb.sh DIR VERSION: a Debian kernel other than the host
# release's, for GUEST_KERNEL=VERSION (e.g. 6.12).  Nothing of it is ever
# installed on the host and the host's /etc/apt is never written:
#   - apt runs on a private state, cache and source list under DIR/apt; the
#     list is derived from the machine's own apt configuration (its Debian
#     entries for the host release, e.g. bookworm, bookworm-updates,
#     bookworm-security, with the release renamed to TB_GUEST_SUITE, default
#     trixie), so no archive host name appears in this repository;
#   - VERSION resolves to the newest linux-image-VERSION.*-amd64 there;
#   - the image is downloaded by package name and unpacked into DIR/kernel
#     (depmod makes modules.dep);
#   - the headers ask for that release's compiler (Debian 13: gcc-14, whose
#     flags such as -fmin-function-alignment gcc-12 rejects), so the module
#     is built in a build root of that release, DIR/root (mmdebstrap from
#     the same archive: gcc, make, libc6-dev, dwarves for BTF), with the
#     headers and kbuild packages unpacked into it.
# Writes DIR/buildroot, DIR/vmlinuz and DIR/kver (e.g. 6.12.N+deb13-amd64),
# kver last, only after everything succeeded.
set -eu

dir=${1:?usage: fetch-kernel-deb.sh DIR VERSION}
want=${2:?usage: fetch-kernel-deb.sh DIR VERSION}
suite=${TB_GUEST_SUITE:-trixie}
die() { echo "fetch-kernel: $*" >&2; exit 1; }
case $want in *[!0-9.]* | .* | *. | '') die "GUEST_KERNEL=$want: expected a version such as 6.12, or a path" ;; esac
[ "$(id -u)" = 0 ] || die "GUEST_KERNEL=$want needs root once (build root under $dir)"

. /etc/os-release
host=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
apt=$dir/apt
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$apt/prefs.d" "$apt/parts.d"
: > "$apt/state/status"

# The machine's Debian entries for its own release, renamed: one-line
# "deb [opts] URI SUITE COMPS" and deb822 stanzas with Types: deb.
{
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v host="$host" -v to="$suite" '
			$1 == "deb" {
				i = 2; opts = ""
				if ($2 ~ /^\[/) {
					while (i <= NF) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } i++ }
				}
				uri = $i; s = $(i + 1)
				if (s != host && index(s, host "-") != 1) next
				sub("^" host, to, s)
				line = "deb" opts " " uri " " s
				for (j = i + 2; j <= NF; j++) line = line " " $j
				print line
			}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v host="$host" -v to="$suite" '
			BEGIN { RS = ""; ORS = "\n" }
			{
				types = uris = suites = comps = sb = ""; off = 0
				n = split($0, l, "\n")
				for (k = 1; k <= n; k++) {
					if (l[k] ~ /^#/) continue
					if (sub(/^Types:[ \t]*/, "", l[k])) types = l[k]
					else if (sub(/^URIs:[ \t]*/, "", l[k])) uris = l[k]
					else if (sub(/^Suites:[ \t]*/, "", l[k])) suites = l[k]
					else if (sub(/^Components:[ \t]*/, "", l[k])) comps = l[k]
					else if (sub(/^Signed-By:[ \t]*/, "", l[k])) sb = l[k]
					else if (l[k] ~ /^Enabled:[ \t]*no/) off = 1
				}
				if (off || (" " types " ") !~ / deb /) next
				ns = split(suites, ss, /[ \t]+/); nu = split(uris, us, /[ \t]+/)
				for (a = 1; a <= ns; a++) {
					s = ss[a]
					if (s != host && index(s, host "-") != 1) continue
					sub("^" host, to, s)
					for (b = 1; b <= nu; b++)
						print "deb" (sb != "" ? " [signed-by=" sb "]" : "") " " us[b] " " s " " comps
				}
			}' "$f"
	done
} > "$apt/sources.list.tmp"
[ -s "$apt/sources.list.tmp" ] || die "no Debian entry for $host in the machine's apt configuration"
mv "$apt/sources.list.tmp" "$apt/sources.list"

aptopts() {
	echo "-o Dir::State=$apt/state -o Dir::State::status=$apt/state/status" \
		"-o Dir::Cache=$apt/cache -o Dir::Etc::SourceList=$apt/sources.list" \
		"-o Dir::Etc::SourceParts=$apt/parts.d -o Dir::Etc::PreferencesParts=$apt/prefs.d" \
		"-o Dir::Etc::Preferences=$apt/prefs -o APT::Architecture=amd64 -o Acquire::Languages=none"
}
# The list is refreshed when older than a day (a new kernel may be out).
if [ -z "$(find "$apt/updated" -mtime -1 2>/dev/null)" ]; then
	echo "  APT     update ($suite, private state in $apt)" >&2
	# shellcheck disable=SC2046
	apt-get $(aptopts) update -q >"$apt/update.log" 2>&1 ||
		{ tail -20 "$apt/update.log" >&2; die "apt-get update of $apt/sources.list failed"; }
	touch "$apt/updated"
fi

# Newest plain amd64 flavour (not cloud, rt, unsigned or dbg) of VERSION.
# shellcheck disable=SC2046
kver=$(apt-cache $(aptopts) search --names-only "^linux-image-$want[.+-]" 2>/dev/null |
	sed -n 's/^linux-image-\([^ ]*-amd64\) .*/\1/p' |
	grep -v -e '-cloud-amd64$' -e '-rt-amd64$' | sort -V | tail -1)
[ -n "$kver" ] || die "no linux-image-$want.*-amd64 in $suite (see $apt/sources.list)"
case $kver in "$want".* | "$want"+* | "$want"-*) ;; *) die "resolved '$kver' for $want" ;; esac

if [ -f "$dir/kver" ] && [ "$(cat "$dir/kver")" = "$kver" ] && [ -f "$dir/vmlinuz" ] &&
	[ -f "$dir/kernel/lib/modules/$kver/modules.dep" ] &&
	[ -f "$dir/root/usr/src/linux-headers-$kver/Makefile" ]; then
	exit 0
fi
echo "  KERNEL  $want -> $kver ($suite)" >&2

depends() { # depends PKG PREFIX: PKG's first dependency named PREFIX*
	# shellcheck disable=SC2046
	apt-cache $(aptopts) depends "$1" 2>/dev/null |
		sed -n "s/^ *|\{0,1\}Depends: \($2[^ ]*\)\$/\1/p" | head -1
}
common=$(depends "linux-headers-$kver" linux-headers-)
kbuild=$(depends "linux-headers-$kver" linux-kbuild-)
cc=$(depends "linux-headers-$kver" gcc-)
[ -n "$common" ] && [ -n "$kbuild" ] && [ -n "$cc" ] ||
	die "linux-headers-$kver: headers '$common', kbuild '$kbuild', compiler '$cc' not all found"

dl=$dir/deb
rm -rf "$dl" && mkdir -p "$dl"
echo "  APT     download linux-image-$kver linux-headers-$kver $common $kbuild" >&2
# shellcheck disable=SC2046
(cd "$dl" && apt-get $(aptopts) download -q "linux-image-$kver" "linux-headers-$kver" \
	"$common" "$kbuild" >log 2>&1) || { tail -20 "$dl/log" >&2; die "apt-get download failed"; }

# Image: unpacked, not installed.
kdir=$dir/kernel
rm -rf "$kdir" "$kdir.tmp" && mkdir -p "$kdir.tmp"
dpkg-deb -x "$dl"/linux-image-"$kver"_*.deb "$kdir.tmp" || die "dpkg-deb -x linux-image-$kver failed"
[ -f "$kdir.tmp/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in linux-image-$kver"
# Debian 13 ships modules in usr/lib (merged /usr): depmod -b wants lib/.
[ -e "$kdir.tmp/lib" ] || [ ! -d "$kdir.tmp/usr/lib/modules" ] || ln -s usr/lib "$kdir.tmp/lib"
depmod -b "$kdir.tmp" "$kver" || die "depmod -b $kdir.tmp $kver failed"
mv "$kdir.tmp" "$kdir"

# Build root: that release's compiler, with the headers unpacked into it.
root=$dir/root
if [ ! -x "$root/usr/bin/$cc" ] || [ ! -x "$root/usr/bin/make" ]; then
	command -v mmdebstrap >/dev/null || die "mmdebstrap missing (make deps installs it)"
	rm -rf "$root" "$root.tmp"
	echo "  ROOT    $suite build root ($cc) in $root" >&2
	grep -v '^#' "$apt/sources.list" > "$dir/root.list"
	mmdebstrap --variant=apt --include="$cc,make,libc6-dev,dwarves,kmod,bc" \
		--aptopt='Acquire::Languages "none"' "$suite" "$root.tmp" "$dir/root.list" \
		>"$dir/root.log" 2>&1 || { tail -20 "$dir/root.log" >&2; die "mmdebstrap $suite failed (log: $dir/root.log)"; }
	mv "$root.tmp" "$root"
fi
for d in "$dl"/linux-headers-*.deb "$dl"/linux-kbuild-*.deb; do
	dpkg-deb -x "$d" "$root" || die "dpkg-deb -x $d failed"
done
[ -f "$root/usr/src/linux-headers-$kver/Makefile" ] || die "no headers for $kver in $root"
rm -rf "$dl"

echo "$root" > "$dir/buildroot"
cp "$kdir/boot/vmlinuz-$kver" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
echo "$kver" > "$dir/kver.tmp" && mv "$dir/kver.tmp" "$dir/kver"
