# SPDX-License-Identifier: GPL-2.0
# dirtytrack(8), the command line over the module's generic netlink
# family, in two builds: the test guests' (static, for $(ARCH), against
# libnl's static libraries: the host's for x86_64, and for arm64 those
# tools/setup/setup.sh extracts from Debian's arm64 packages, never
# installed on the host) and the installed one (for the host, linked with
# its shared libnl through pkg-config).  Included from the top-level
# Makefile.

DTCLI_DIR := tools/dirtytrack
DTCLI_OUT := $(OUT)/dirtytrack
DTCLI_GUEST := $(OUT)/testguest/dirtytrack
DTCLI_SRCS := $(filter-out $(DTCLI_DIR)/static_nss.c,$(wildcard $(DTCLI_DIR)/*.c))
DTCLI_DEPS := $(DTCLI_SRCS) $(wildcard $(DTCLI_DIR)/*.h) \
	include/uapi/linux/dirtytrack_netlink.h
DTCLI_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-DDT_VERSION='"$(LIB_VERSION)"' -I$(CURDIR)/include/uapi \
	$(if $(UAPI_DIR),-isystem $(UAPI_DIR)) -Wl,-z,noexecstack
PKG_CONFIG ?= pkg-config

# The guests' libnl: headers and static libraries for $(ARCH).
ifeq ($(ARCH),arm64)
DTCLI_NL_INC = $(DT_LIBNL_ARM64_INC)
DTCLI_NL_LIBDIR = $(DT_LIBNL_ARM64_LIB)
else
DTCLI_NL_INC = $(shell $(PKG_CONFIG) --variable=includedir libnl-3.0)/libnl3
DTCLI_NL_LIBDIR = $(shell $(PKG_CONFIG) --variable=libdir libnl-3.0)
endif
DTCLI_NL_STATIC = $(DTCLI_NL_LIBDIR)/libnl-genl-3.a $(DTCLI_NL_LIBDIR)/libnl-3.a

$(DTCLI_GUEST): $(DTCLI_DEPS) $(DTCLI_DIR)/static_nss.c
	@for a in $(DTCLI_NL_STATIC); do test -f "$$a" || { \
		echo "dirtytrack: no static libnl for $(ARCH) ($$a): run 'make setup'" >&2; \
		exit 1; }; done
	@mkdir -p $(@D)
	$(TARGET_CC) $(DTCLI_CFLAGS) -I$(DTCLI_NL_INC) -static -o $@ $(DTCLI_SRCS) \
		$(DTCLI_DIR)/static_nss.c $(DTCLI_NL_STATIC) -pthread

# The installed one: dynamically linked with the host's libnl.
DTCLI_INSTALLED := $(DTCLI_OUT)/dirtytrack
DTCLI_MAN8 := Documentation/man/man8/dirtytrack.8

$(DTCLI_INSTALLED): $(DTCLI_DEPS)
	@mkdir -p $(@D)
	$(CC) $(DTCLI_CFLAGS) $(shell $(PKG_CONFIG) --cflags libnl-genl-3.0) -o $@ \
		$(DTCLI_SRCS) $(shell $(PKG_CONFIG) --libs libnl-genl-3.0)

install-dirtytrack: $(DTCLI_INSTALLED)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(DTCLI_INSTALLED) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(DTCLI_MAN8) $(DESTDIR)$(MANDIR)/man8/

uninstall-dirtytrack:
	$(RM) $(DESTDIR)$(BINDIR)/dirtytrack $(DESTDIR)$(MANDIR)/man8/dirtytrack.8

tools: $(DTCLI_GUEST)
ifeq ($(ARCH),x86_64)
tools: $(DTCLI_INSTALLED)
endif
