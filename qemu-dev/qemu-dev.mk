# SPDX-License-Identifier: GPL-2.0-only
# qemu-dev/: Debian's QEMU source with our "tb-balloon" device grafted in as
# hw/tb-balloon/, built out of tree as a minimal x86_64-softmmu.
#
#   fetch      apt-get source qemu          -> $(QEMU_SRC)    (stamp .tb-fetched)
#   configure  graft.sh + ../configure      -> $(QEMU_OBJ)    (stamp .tb-configured)
#   build      graft.sh + ninja             -> $(QEMU_BIN)
#
# Each stamp is touched only after its step succeeded; a failing step says
# which one failed and where its log is.

QEMU_SRC := $(BUILD)/qemu-src
QEMU_OBJ := $(BUILD)/qemu-build
QEMU_BIN := $(QEMU_OBJ)/qemu-system-x86_64
QEMU_FETCH_STAMP := $(QEMU_SRC)/.tb-fetched
QEMU_CONF_STAMP := $(QEMU_OBJ)/.tb-configured

# An uninstalled build does not know Debian's firmware folders.  It looks
# for every data folder under its qemu-bundle/ (the symlinked install tree),
# so the folders are linked there too, after each build.
QEMU_FIRMWARE := /usr/share/seabios:/usr/lib/ipxe/qemu:/usr/share/qemu
# Headless TCG testbed: no GUI, no Xen, no tools; default devices stay
# (virtio-balloon-pci and friends are needed by the reference backend).
# seccomp (libseccomp-dev): the harness starts QEMU with -sandbox on.
QEMU_CONFIGURE_FLAGS := --target-list=x86_64-softmmu --disable-docs --enable-seccomp \
	--disable-tools --disable-guest-agent --disable-user \
	--disable-gtk --disable-sdl --disable-vnc --disable-opengl \
	--disable-spice --disable-xen --disable-curses --disable-vte \
	--disable-virglrenderer --disable-brlapi --disable-cocoa \
	--disable-libusb --disable-usb-redir --disable-smartcard \
	--firmwarepath=$(QEMU_FIRMWARE)

# Our files copied into the tree, and the core files the device compiles.
QEMU_DEV_FILES := qemu-dev/tb-balloon.c qemu-dev/trace-events qemu-dev/Kconfig \
	qemu-dev/meson.build qemu-dev/tb_host_qemu.c qemu-dev/tb_batch_qemu.c \
	qemu-dev/tb_batchlog_qemu.c qemu-dev/tb_gstats_qemu.c qemu-dev/graft.sh
QEMU_CORE_FILES := core/tb_proto.h core/tb_compat.h core/tb_host.h core/tb_host.c \
	core/tb_batch.h core/tb_batch.c core/tb_batchlog.h core/tb_batchlog.c \
	core/tb_gstats.h core/tb_gstats.c core/tb_knobs.h

NPROC := $(shell nproc 2>/dev/null || echo 2)

$(QEMU_FETCH_STAMP): qemu-dev/fetch-qemu.sh | $(DEPS_STAMP)
	$(msg) FETCH "qemu source (apt-get source qemu)"
	$(Q)qemu-dev/fetch-qemu.sh $(QEMU_SRC) || \
		{ echo "qemu-dev: fetch failed" >&2; exit 1; }
	$(Q)touch $@

# The steps below are recipes with the build as parameters, so the fuzzing
# build (qemu-dev/fuzz-device.mk) runs the same graft, configure and ninja
# on its own folder, flags and target.  FLAGS_VAR is a variable's name (its
# value may hold commas).
#   $(call qemu_flags_file,FLAGS_VAR)      rewrite $@ only when the flags changed
#   $(call qemu_configure,OBJ,FLAGS_VAR)   graft, then configure OBJ afresh
#   $(call qemu_ninja,OBJ,NINJA_TARGET)    graft, then ninja in OBJ
define qemu_flags_file
	$(Q)mkdir -p $(dir $@) && echo '$($(1))' | cmp -s - $@ || echo '$($(1))' > $@
endef
define qemu_configure
	$(msg) CONFIG $(1)
	$(Q)qemu-dev/graft.sh $(QEMU_SRC) || { echo "qemu-dev: graft failed" >&2; exit 1; }
	$(Q)rm -rf $(1) && mkdir -p $(1)
	$(Q)cd $(1) && $(abspath $(QEMU_SRC))/configure $($(2)) > configure.log 2>&1 || \
		{ tail -20 $(1)/configure.log >&2; \
		  echo "qemu-dev: configure failed (log: $(1)/configure.log)" >&2; exit 1; }
endef
define qemu_ninja
	$(msg) GRAFT hw/tb-balloon
	$(Q)qemu-dev/graft.sh $(QEMU_SRC) || { echo "qemu-dev: graft failed" >&2; exit 1; }
	$(msg) NINJA $(1)/$(2)
	$(Q)ninja -C $(1) -j$(NPROC) $(2) > $(1)/build.log 2>&1 || \
		{ grep -E 'error|FAILED' -A3 $(1)/build.log | head -40 >&2; \
		  echo "qemu-dev: build failed (log: $(1)/build.log)" >&2; exit 1; }
	$(Q)for d in $(subst :, ,$(QEMU_FIRMWARE)); do \
		mkdir -p $(1)/qemu-bundle$$(dirname $$d) && \
		ln -sfn $$d $(1)/qemu-bundle$$d || exit 1; done
endef

# The flags file changes only when the flags do, so editing this .mk for
# anything else does not force a full rebuild.
QEMU_FLAGS_FILE := $(BUILD)/qemu-configure.flags
$(QEMU_FLAGS_FILE): qemu-dev-force
	$(call qemu_flags_file,QEMU_CONFIGURE_FLAGS)
qemu-dev-force:

# Only a change of flags reconfigures (a full rebuild); meson itself notices
# edits of the grafted meson.build files and regenerates on the next ninja.
$(QEMU_CONF_STAMP): $(QEMU_FLAGS_FILE) | $(QEMU_FETCH_STAMP)
	$(call qemu_configure,$(QEMU_OBJ),QEMU_CONFIGURE_FLAGS)
	$(Q)touch $@

# ninja decides what to rebuild; touch so make sees the binary as new even
# when ninja had nothing to relink.
$(QEMU_BIN): $(QEMU_CONF_STAMP) $(QEMU_DEV_FILES) $(QEMU_CORE_FILES)
	$(call qemu_ninja,$(QEMU_OBJ),qemu-system-x86_64)
	$(Q)touch $@

.PHONY: qemu test-device qemu-dev-force
qemu: $(QEMU_BIN)
ALL_TARGETS += qemu
TEST_TARGETS += test-device

include qemu-dev/tests/tests.mk
include qemu-dev/fuzz-device.mk
