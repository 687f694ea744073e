#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# What a remote host needs to run scenarios, as one tarball of this tree's
# layout (paths relative to the top): the harness and its scripts, the
# scenarios, and the given build outputs (for a guest backend: our QEMU
# and its pc-bios, the guest kernel, initramfs and module).  Writes OUT and
# OUT.sha256 (what harness/report/remote.sh keys its unpacked copy by).
#   sh harness/report/dist.sh OUT FILE...
# The remote host needs Debian 12 with scripts/deps.sh's packages (the
# harness links libjansson; QEMU takes its firmware from seabios/ipxe).
set -eu
out=$1
shift
list=$(mktemp /tmp/tb-dist.XXXXXX)
trap 'rm -f "$list"' EXIT
git ls-files --cached --others --exclude-standard harness scenarios >"$list"
for f in "$@"; do
	case $f in "$PWD"/*) f=${f#"$PWD"/} ;; /*)
		echo "dist: $f is outside the tree (BUILD must be inside it)" >&2; exit 1 ;;
	esac
	[ -e "$f" ] || { echo "dist: $f: missing (build it first)" >&2; exit 1; }
	echo "$f" >>"$list"
done
mkdir -p "$(dirname "$out")"
tar -czf "$out.part" --files-from="$list"
mv "$out.part" "$out"
sha256sum "$out" | cut -d' ' -f1 >"$out.sha256"
echo "dist: $out ($(du -h "$out" | cut -f1), $(wc -l <"$list") files)"
