# SPDX-License-Identifier: GPL-2.0-only
# harness/backends/libvirt/: the "libvirt" backend (included by harness/harness.mk).
#
#   make scenario NAME=x BACKEND=libvirt   a scenario through libvirtd
#   make libvirtd-start / libvirtd-stop    a private libvirtd by hand
#   make test-libvirt                      one short scenario against a
#                                          libvirtd the test starts, and
#                                          checks that nothing is left
#   make test-libvirt-remote               one CI scenario through a
#                                          qemu+ssh:// URI (loopback sshd)
#
# Which libvirtd: LIBVIRT_URI if set, else qemu:///system if it answers,
# else a private one (harness/backends/libvirt/libvirtd-run.sh) for the run;
# TB_LIBVIRTD=own always starts a private one.

LV_DIR		:= harness/backends/libvirt
LV_BUILD	:= $(TB_OBJ)/harness/backends/libvirt
LV_STATE	:= $(BUILD)/libvirt
LV_RUN		:= $(LV_DIR)/libvirtd-run.sh
LV_TOOL		:= $(LV_BUILD)/lv-tool
LV_PKGS		:= libvirt libvirt-qemu
LV_CFLAGS	= -Iharness -I$(LV_DIR) $(shell pkg-config --cflags $(LV_PKGS) 2>/dev/null) \
		  -DTB_LIBVIRTD_RUN='"$(abspath $(LV_RUN))"' \
		  -DTB_LIBVIRT_STATE='"$(abspath $(LV_STATE))"'
LV_LIBS		= $(shell pkg-config --libs $(LV_PKGS) 2>/dev/null || echo -lvirt-qemu -lvirt) -lpthread
LV_OBJS		:= $(LV_BUILD)/libvirt.o $(LV_BUILD)/lv_conn.o $(LV_BUILD)/lv_domxml.o

HARNESS_BACKEND_OBJS += $(LV_OBJS)
HARNESS_BACKEND_LIBS += $(LV_LIBS)

$(LV_BUILD)/%.o: $(LV_DIR)/%.c $(wildcard $(LV_DIR)/*.h) $(HARNESS_HDRS) | $(DEPS_STAMP)
	$(msg) CC $@
	$(Q)mkdir -p $(dir $@) && $(TB_SAN_CC) $(LV_CFLAGS) -c -o $@ $<

$(LV_TOOL): $(LV_BUILD)/lv-tool.o $(LV_BUILD)/lv_conn.o
	$(msg) CCLD $@
	$(Q)$(TB_SAN_CC) -o $@ $^ $(LV_LIBS)

# `make scenario BACKEND=libvirt` runs our QEMU too (harness.mk adds it for
# emu only).
scenario: $(if $(filter libvirt,$(BACKEND)),$(QEMU_BIN))

.PHONY: lv-tool libvirtd-start libvirtd-stop test-libvirt test-libvirt-remote
lv-tool: $(LV_TOOL)
ALL_TARGETS += lv-tool
TEST_TARGETS += test-libvirt test-libvirt-remote

# A private daemon for manual use: prints the URI to export as LIBVIRT_URI.
libvirtd-start:
	$(Q)sh $(LV_RUN) start $(LV_STATE)/manual
libvirtd-stop:
	$(Q)sh $(LV_RUN) clean $(LV_STATE)/manual

test-libvirt: $(HARNESS) $(LV_TOOL) $(QEMU_BIN) $(KERNEL_IMAGE) $(INITRAMFS)
	$(Q)sh $(LV_DIR)/test-libvirt.sh $(HARNESS) $(LV_TOOL) $(LV_STATE) $(HARNESS_ARGS)

test-libvirt-remote: $(HARNESS) $(LV_TOOL) $(QEMU_BIN) $(KERNEL_IMAGE) $(INITRAMFS)
	$(Q)timeout 420 sh $(LV_DIR)/test-libvirt-remote.sh $(HARNESS) $(LV_TOOL) $(LV_STATE) $(HARNESS_ARGS)
