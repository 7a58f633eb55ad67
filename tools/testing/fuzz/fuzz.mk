# SPDX-License-Identifier: GPL-2.0
# dtfuzz, the fuzzer and shadow model of the module (tools/testing/fuzz/
# README): a static binary for $(ARCH), installed with the guest helpers so
# that it lands in the test guests' /bin.  `make fuzz DURATION=secs` runs it
# in the x86 guest (run-fuzz.sh).  Included from the top-level Makefile.

FUZZ_DIR := tools/testing/fuzz
FUZZ_SRCS := $(addprefix $(FUZZ_DIR)/,dtfuzz.c stats.c world.c model.c \
	ops_args.c ops_live.c ops_proc.c ops_race.c nl.c)
DTFUZZ := $(OUT)/testguest/dtfuzz
# -static-pie: the process's own memory sits at random high addresses, far
# from the small values a garbage pointer field holds.
FUZZ_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-I$(CURDIR)/include/uapi -I$(CURDIR)/$(FUZZ_DIR) \
	-I$(CURDIR)/$(SELFTEST_DIR) $(DTVM_CFLAGS) -isystem $(UAPI_DIR)

tools: $(DTFUZZ)

$(DTFUZZ): $(FUZZ_SRCS) $(wildcard $(FUZZ_DIR)/*.h) $(SELFTEST_DIR)/dt_nl.h \
		include/uapi/linux/dirtytrack.h include/uapi/linux/dirtytrack_netlink.h \
		$(DTVM_SRCS) $(DTVM_HDRS)
	@mkdir -p $(@D)
	$(TARGET_CC) $(FUZZ_CFLAGS) -static-pie -o $@ $(FUZZ_SRCS) $(DTVM_SRCS)

# DURATION: seconds of fuzzing; SEED: the seed (a new one by default);
# FUZZ_GUESTS: x86 (default), debug, or "x86 debug"; FUZZ_ARGS: more
# arguments for dtfuzz (--skip NAME).
DURATION ?= 60
fuzz: need-setup
	DURATION=$(DURATION) SEED=$(SEED) FUZZ_GUESTS="$(FUZZ_GUESTS)" \
		FUZZ_ARGS="$(FUZZ_ARGS)" \
		bash $(FUZZ_DIR)/run-fuzz.sh
