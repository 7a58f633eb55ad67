# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# libdirtytrack: shared (with soname and symbol versions) and static.
# Included from the top-level Makefile.

LIB_VERSION := 0.1.0
LIB_SONAME := libdirtytrack.so.0
# The core shared with the module (drivers/dirtytrack/core/) is the user
# backend's harvest and merge logic.
CORE_DIR := drivers/dirtytrack/core
CORE_SRCS := $(wildcard $(CORE_DIR)/*.c)
CORE_HDRS := $(wildcard $(CORE_DIR)/*.h) lib/dt_compat_user.h
LIB_SRCS := $(wildcard lib/*.c) $(CORE_SRCS)
LIB_OUT := $(O)/lib
LIB_OBJS := $(patsubst %.c,$(LIB_OUT)/%.o,$(notdir $(LIB_SRCS)))

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(CURDIR)/include/uapi $(if $(UAPI_DIR),-isystem $(UAPI_DIR))
LIB_CFLAGS := $(USER_CFLAGS) -fPIC -fvisibility=hidden -I$(CURDIR)/lib/include \
	-I$(CURDIR)/lib -I$(CURDIR)/$(CORE_DIR)

LIB_SHARED := $(LIB_OUT)/libdirtytrack.so.$(LIB_VERSION)
LIB_STATIC := $(LIB_OUT)/libdirtytrack.a

lib: $(LIB_SHARED) $(LIB_STATIC)

LIB_DEPS := $(wildcard lib/*.h lib/include/*.h) $(CORE_HDRS) \
	include/uapi/linux/dirtytrack.h

$(LIB_OUT)/%.o: lib/%.c $(LIB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_OUT)/%.o: $(CORE_DIR)/%.c $(LIB_DEPS)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_SHARED): $(LIB_OBJS) lib/libdirtytrack.map
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libdirtytrack.map -Wl,-z,defs \
		-o $@ $(LIB_OBJS) -pthread
	ln -sf $(@F) $(LIB_OUT)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(LIB_OUT)/libdirtytrack.so

$(LIB_STATIC): $(LIB_OBJS)
	$(RM) $@
	$(AR) rcs $@ $^

# --- pkg-config and installation ------------------------------------------

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/libdirtytrack
LIB_PC := $(LIB_OUT)/libdirtytrack.pc
LIB_MAN3 := $(wildcard Documentation/man/man3/*.3)
LIB_MAN7 := $(wildcard Documentation/man/man7/*.7)
LIB_EXAMPLES := $(wildcard Documentation/examples/*.c)

lib: $(LIB_PC)

# Regenerated every time: it records PREFIX and friends of this call.
$(LIB_PC): lib/libdirtytrack.pc.in FORCE
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(LIB_VERSION)|' \
	    -e '/^# SPDX/d' $< >$@

install-lib: lib
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(LIB_SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libdirtytrack.so.$(LIB_VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libdirtytrack.so
	install -m 0644 $(LIB_STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 0644 lib/include/dirtytrack.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(LIB_PC) $(DESTDIR)$(PKGCONFIGDIR)/
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(LIB_MAN3) $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 $(LIB_MAN7) $(DESTDIR)$(MANDIR)/man7/
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(LIB_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/

# The doc directory is libdirtytrack's alone: it goes when empty.
uninstall-lib:
	$(RM) $(DESTDIR)$(LIBDIR)/libdirtytrack.so.$(LIB_VERSION) \
	      $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libdirtytrack.so \
	      $(DESTDIR)$(LIBDIR)/libdirtytrack.a \
	      $(DESTDIR)$(INCLUDEDIR)/dirtytrack.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/libdirtytrack.pc \
	      $(addprefix $(DESTDIR)$(MANDIR)/man3/,$(notdir $(LIB_MAN3))) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(notdir $(LIB_MAN7))) \
	      $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(LIB_EXAMPLES)))
	rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null || true
