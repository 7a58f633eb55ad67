# SPDX-License-Identifier: GPL-2.0
# dtbench, the benchmark suite (x86_64 only; tools/bench/bench.h maps its
# files), in two builds: the host's, linked with the static libdirtytrack,
# and the x86 test guest's, fully static (the guests have no libc), in
# $(OUT)/testguest/, which run-guest copies to the guest's /bin.  Not in
# selftests/: every binary there runs as a selftest.  `make bench` runs
# tools/bench/bench.sh.  Included from the top-level Makefile.

ifeq ($(ARCH),x86_64)
BENCH_DIR := tools/bench
DTBENCH := $(OUT)/bench/dtbench
DTBENCH_GUEST := $(OUT)/testguest/dtbench
BENCH_SRCS := $(addprefix $(BENCH_DIR)/,dtbench.c bench_vm.c bench_guest.c \
	bench_lib.c stats.c ring_bench.c bitmap_bench.c claim_bench.c \
	final_bench.c) $(DTVM_SRCS)
BENCH_DEPS := $(BENCH_SRCS) $(BENCH_DIR)/bench.h $(DTVM_HDRS) \
	lib/include/dirtytrack.h
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-I$(CURDIR)/lib/include $(DTVM_CFLAGS) \
	$(if $(UAPI_DIR),-isystem $(UAPI_DIR)) -Wl,-z,noexecstack

$(DTBENCH): $(BENCH_DEPS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $(BENCH_SRCS) $(LIB_STATIC) -lm

$(DTBENCH_GUEST): $(BENCH_DEPS) $(SELFTEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(BENCH_CFLAGS) -static -o $@ $(BENCH_SRCS) \
		$(SELFTEST_LIB_OBJS) -lm

tools: $(DTBENCH) $(DTBENCH_GUEST)
endif
