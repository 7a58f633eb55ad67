# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# libdirtytrack: shared (with soname and symbol versions) and static.
# Included from the top-level Makefile.

LIB_VERSION := 0.1.0
LIB_SONAME := libdirtytrack.so.0
LIB_SRCS := lib/device.c
LIB_OUT := $(O)/lib
LIB_OBJS := $(LIB_SRCS:lib/%.c=$(LIB_OUT)/%.o)

USER_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-I$(CURDIR)/include/uapi $(if $(UAPI_DIR),-isystem $(UAPI_DIR))
LIB_CFLAGS := $(USER_CFLAGS) -fPIC -fvisibility=hidden -I$(CURDIR)/lib/include

LIB_SHARED := $(LIB_OUT)/libdirtytrack.so.$(LIB_VERSION)
LIB_STATIC := $(LIB_OUT)/libdirtytrack.a

lib: $(LIB_SHARED) $(LIB_STATIC)

$(LIB_OUT)/%.o: lib/%.c $(wildcard lib/*.h lib/include/*.h) include/uapi/linux/dirtytrack.h
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIB_SHARED): $(LIB_OBJS) lib/libdirtytrack.map
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libdirtytrack.map -Wl,-z,defs \
		-o $@ $(LIB_OBJS)
	ln -sf $(@F) $(LIB_OUT)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(LIB_OUT)/libdirtytrack.so

$(LIB_STATIC): $(LIB_OBJS)
	$(RM) $@
	$(AR) rcs $@ $^
