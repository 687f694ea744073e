#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages balloon-testbed needs, when any is missing.
# Only Debian's own archive is used, through the machine's apt configuration.
set -eu

PKGS="build-essential pkg-config git dpkg-dev ca-certificates
 check gnuplot-nox libjansson-dev busybox-static kmod cpio
 python3 python3-venv python3-scipy ninja-build meson flex bison
 libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev
 qemu-system-x86 seabios ipxe-qemu qemu-utils
 libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
 linux-perf
 clang libclang-rt-14-dev
 parallel rsync openssh-server openssh-client libxml2-utils netcat-openbsd
 chromium python3-websocket
 mmdebstrap"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages. Run as root:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi

echo "  DEPS   installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
# libvirt's postinst wants to start services; there may be no init system here.
apt-get install -y -q --no-install-recommends $missing >/dev/null ||
	{ echo "deps: apt-get install failed for:$missing" >&2; exit 1; }
