#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages balloon-testbed needs, when any is missing,
# and create the system account QEMU runs as (tb-qemu, TB_QEMU_USER in the
# README).  Only Debian's own archive is used, through the machine's apt
# configuration.
set -eu

# The emu backend starts QEMU as this user when the harness runs as root: a
# system account with no home, no shell, no password, its own group.
QEMU_USER=tb-qemu
qemu_user() {
	if getent passwd $QEMU_USER >/dev/null; then
		qemu_kvm
		return 0
	fi
	if [ "$(id -u)" != 0 ]; then
		# Not needed by a harness that is not root (QEMU runs as
		# that user), only said.
		echo "deps: no account $QEMU_USER (a harness run as root starts QEMU as it). As root:" >&2
		echo "  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin $QEMU_USER" >&2
		return 0
	fi
	echo "  DEPS   account $QEMU_USER"
	useradd --system --user-group --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "balloon-testbed QEMU" \
		$QEMU_USER || { echo "deps: useradd $QEMU_USER failed" >&2; exit 1; }
	qemu_kvm
}
# With KVM, QEMU opens /dev/kvm as that user: the kvm group, where it exists.
qemu_kvm() {
	getent group kvm >/dev/null || return 0
	id -nG $QEMU_USER | tr ' ' '\n' | grep -qx kvm && return 0
	[ "$(id -u)" = 0 ] || { echo "deps: $QEMU_USER is not in group kvm (as root: usermod -aG kvm $QEMU_USER)" >&2; return 0; }
	usermod -aG kvm $QEMU_USER || { echo "deps: usermod -aG kvm $QEMU_USER failed" >&2; exit 1; }
}

PKGS="build-essential pkg-config git dpkg-dev ca-certificates
 check gnuplot-nox libjansson-dev busybox-static kmod cpio
 python3 python3-venv python3-scipy ninja-build meson flex bison
 libglib2.0-dev libpixman-1-dev zlib1g-dev libfdt-dev libseccomp-dev
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
[ -z "$missing" ] && { qemu_user; exit $?; }

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
qemu_user
