# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
# Host unit tests (cmocka) of the library's own logic, built with ASan and
# UBSan and linked against the library sources compiled the same way.

UNIT_OUT := $(O)/unit
UNIT_TESTS := $(patsubst tools/testing/unit/%.c,$(UNIT_OUT)/%,$(wildcard tools/testing/unit/test_*.c))
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
UNIT_CFLAGS := $(filter-out -O2,$(LIB_CFLAGS)) -O1 $(SAN_FLAGS) $(DTVM_CFLAGS) \
	$(shell pkg-config --cflags cmocka 2>/dev/null)

# The tests that run a VM build it with dtvm's architecture-neutral part.
$(UNIT_OUT)/%: tools/testing/unit/%.c $(LIB_SRCS) $(LIB_DEPS) $(wildcard tools/testing/unit/*.h) \
		$(DTVM_COMMON_SRCS) $(DTVM_HDRS)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(LIB_SRCS) $(DTVM_COMMON_SRCS) $(SAN_FLAGS) \
		-lcmocka -pthread

# It counts the ring entries the core reads (core/ring.c).
$(UNIT_OUT)/test_core_ring_reads: UNIT_CFLAGS += -DDT_RING_COUNT_READS

unit-build: $(UNIT_TESTS)

# Runs every unit test with TAP output into $(O)/results/unit.tap.
unit: $(UNIT_TESTS)
	@mkdir -p $(O)/results
	@rc=0; : >$(O)/results/unit.tap; \
	for t in $(UNIT_TESTS); do \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t >>$(O)/results/unit.tap 2>&1 || rc=1; \
	done; \
	cat $(O)/results/unit.tap; exit $$rc
.PHONY: unit-build
