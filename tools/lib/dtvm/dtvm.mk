# SPDX-License-Identifier: GPL-2.0
# dtvm, the small KVM VMs of the tools and tests (tools/lib/dtvm/dtvm.h
# maps its files).  Each user compiles the sources it needs into its own
# binary, with its own compiler and flags: dtmigrate, the selftests and
# dtbench for $(ARCH); the unit tests, with the host's compiler and the
# sanitizers, only the architecture-neutral part.  Included from the
# top-level Makefile.

DTVM_DIR := tools/lib/dtvm
DTVM_COMMON_SRCS := $(addprefix $(DTVM_DIR)/,dtvm_vm.c dtvm_mem.c dtvm_vcpu.c)
ifeq ($(ARCH),arm64)
DTVM_ARCH_SRCS := $(DTVM_DIR)/dtvm_arm64.c
else
DTVM_ARCH_SRCS := $(DTVM_DIR)/dtvm_x86.c
endif
# dtvm_its.c fails every call with EOPNOTSUPP but on arm64.
DTVM_SRCS := $(DTVM_COMMON_SRCS) $(DTVM_ARCH_SRCS) $(DTVM_DIR)/dtvm_its.c
DTVM_HDRS := $(wildcard $(DTVM_DIR)/*.h)
DTVM_CFLAGS := -I$(CURDIR)/$(DTVM_DIR)
