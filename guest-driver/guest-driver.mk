# SPDX-License-Identifier: GPL-2.0-only
# guest-driver/: the guest side.  Debian's current kernel (downloaded by
# package name, unpacked, never installed), the tb_balloon module built with
# Kbuild against the matching headers, the static agent, and the initramfs.
#
# Exported for the other .mk files and scripts:
#   KERNEL_IMAGE     the guest vmlinuz
#   INITRAMFS        cpio newc + gzip: busybox, modules, agent, /init
#   GUEST_KVER_FILE  file holding the guest kernel version
#   MODULE_KO        the built tb_balloon.ko
#   GUEST_AGENT      the static agent binary
#   GUEST_RUN        guest-driver/run-guest.sh (boot helper, see its header)
#   ACCEL_FILE       cached accelerator answer (kvm|tcg), see scripts/accel.sh
#   GUEST_ACCEL      make function: $(call GUEST_ACCEL) prints kvm or tcg
# Targets: guest (in all), boot (in test), test-driver (in test).

GUEST_DIR	:= $(BUILD)/guest
GUEST_KVER_FILE	:= $(GUEST_DIR)/kver
KERNEL_IMAGE	:= $(GUEST_DIR)/vmlinuz
GUEST_KTREE	:= $(GUEST_DIR)/kernel
GUEST_MODDIR	:= $(GUEST_DIR)/module
MODULE_KO	:= $(GUEST_MODDIR)/tb_balloon.ko
GUEST_AGENT	:= $(GUEST_DIR)/tb-agent
INITRAMFS	:= $(GUEST_DIR)/initramfs.cpio.gz
GUEST_RUN	:= guest-driver/run-guest.sh
ACCEL_FILE	:= $(BUILD)/accel
GUEST_ACCEL	= $(shell scripts/accel.sh $(QEMU_BIN) $(ACCEL_FILE) $(KERNEL_IMAGE) $(INITRAMFS))

# Sources compiled into the module: ours plus the core decisions, policy and
# protocol.
GUEST_MOD_CORE	:= core/tb_guest.c core/tb_guest.h core/tb_policy.c core/tb_policy.h \
		   core/tb_proto.h core/tb_compat.h core/tb_knobs.h
GUEST_MOD_SRCS	:= guest-driver/tb_balloon.c guest-driver/Kbuild $(GUEST_MOD_CORE)

# The fetch script writes vmlinuz, then kver, each only after success.
$(KERNEL_IMAGE): guest-driver/fetch-kernel.sh | $(DEPS_STAMP)
	$(msg) FETCH "guest kernel (linux-image-amd64)"
	$(Q)guest-driver/fetch-kernel.sh $(GUEST_DIR)
	$(Q)touch $@
$(GUEST_KVER_FILE): $(KERNEL_IMAGE)
	$(Q)test -s $@ || guest-driver/fetch-kernel.sh $(GUEST_DIR)
	$(Q)touch $@

# Kbuild runs in a directory of links so nothing is generated in the tree.
# -Werror in Kbuild keeps the module warning-free.
$(MODULE_KO): $(GUEST_MOD_SRCS) $(GUEST_KVER_FILE)
	$(msg) KBUILD $@
	$(Q)rm -rf $(GUEST_MODDIR) && mkdir -p $(GUEST_MODDIR)
	$(Q)ln -s $(abspath guest-driver/Kbuild) $(GUEST_MODDIR)/Kbuild
	$(Q)ln -s $(abspath guest-driver/tb_balloon.c) $(GUEST_MODDIR)/tb_balloon_drv.c
	$(Q)for f in $(GUEST_MOD_CORE); do \
		ln -s $(abspath $$f) $(GUEST_MODDIR)/; done
	$(Q)kver=$$(cat $(GUEST_KVER_FILE)); \
	test -f /usr/src/linux-headers-$$kver/Makefile || guest-driver/fetch-kernel.sh $(GUEST_DIR); \
	id=$$(git rev-parse --short=12 HEAD 2>/dev/null) && \
		{ git diff --quiet HEAD -- $(GUEST_MOD_SRCS) || id=$$id-dirty; } || id=unknown; \
	$(MAKE) -s -C /usr/src/linux-headers-$$kver M=$(abspath $(GUEST_MODDIR)) \
		TB_BUILD_ID=$$id modules > $(GUEST_MODDIR)/kbuild.log 2>&1 || \
		{ cat $(GUEST_MODDIR)/kbuild.log >&2; \
		  echo "guest-driver: module build failed (log: $(GUEST_MODDIR)/kbuild.log)" >&2; exit 1; }
	$(Q)if grep -q 'warning:' $(GUEST_MODDIR)/kbuild.log; then \
		cat $(GUEST_MODDIR)/kbuild.log >&2; echo "guest-driver: module build has warnings" >&2; \
		rm -f $@; exit 1; fi
	$(Q)test -f $@

$(GUEST_AGENT): guest-driver/agent.c | $(DEPS_STAMP)
	$(msg) CCLD $@
	$(Q)mkdir -p $(dir $@) && $(TB_CC) -static -o $@ $<

$(INITRAMFS): guest-driver/mkinitramfs.sh guest-driver/init guest-driver/tests/selftest.sh \
		$(MODULE_KO) $(GUEST_AGENT) $(GUEST_KVER_FILE)
	$(msg) CPIO $@
	$(Q)guest-driver/mkinitramfs.sh $@ $$(cat $(GUEST_KVER_FILE)) $(GUEST_KTREE) \
		$(MODULE_KO) $(GUEST_AGENT) guest-driver/init guest-driver/tests/selftest.sh

.PHONY: guest boot test-driver
guest: $(KERNEL_IMAGE) $(INITRAMFS)
ALL_TARGETS += guest
TEST_TARGETS += boot test-driver

# Smoke: our QEMU with the device, our kernel and initramfs; the driver must
# find the device and read its registers.
boot: guest $(QEMU_BIN)
	$(Q)guest-driver/boot-smoke.sh $(QEMU_BIN) $(KERNEL_IMAGE) $(INITRAMFS) \
		"$(call GUEST_ACCEL)" $(GUEST_DIR)/boot

# In-guest tests: init runs guest-driver/tests/selftest.sh, which prints TAP
# lines and TB-SELFTEST: PASS|FAIL.
test-driver: guest $(QEMU_BIN)
	$(Q)guest-driver/tests/run-selftest.sh $(QEMU_BIN) $(KERNEL_IMAGE) $(INITRAMFS) \
		"$(call GUEST_ACCEL)" $(GUEST_DIR)/selftest
include guest-driver/tests/tests.mk
