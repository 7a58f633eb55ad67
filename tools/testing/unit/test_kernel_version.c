// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Which kernels' KVM_RESET_DIRTY_RINGS can stop early on a signal, by
 * release string (lib/kvm_files.c): the user backend blocks signals
 * around the reset only there.  A wrong "no" loses pages on 6.17 and
 * later; a wrong "yes" costs one or two system calls per sync.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "libdt.h"

static void before_6_17_never_stops(void **state)
{
	(void)state;
	assert_false(dt_kernel_reset_stops_on_signal("6.1.0-57-amd64"));
	assert_false(dt_kernel_reset_stops_on_signal("6.12.118+deb12-amd64"));
	assert_false(dt_kernel_reset_stops_on_signal("6.16.12"));
	assert_false(dt_kernel_reset_stops_on_signal("5.15.0"));
}

static void from_6_17_stops(void **state)
{
	(void)state;
	assert_true(dt_kernel_reset_stops_on_signal("6.17.0"));
	assert_true(dt_kernel_reset_stops_on_signal("6.18.44-fc-v1272"));
	assert_true(dt_kernel_reset_stops_on_signal("7.3.4+bpo-amd64"));
	assert_true(dt_kernel_reset_stops_on_signal("10.0"));
}

/* What does not parse is taken for a kernel that stops: blocking is safe. */
static void unparsable_counts_as_stopping(void **state)
{
	(void)state;
	assert_true(dt_kernel_reset_stops_on_signal(""));
	assert_true(dt_kernel_reset_stops_on_signal("linux"));
	assert_true(dt_kernel_reset_stops_on_signal("6"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(before_6_17_never_stops),
		cmocka_unit_test(from_6_17_stops),
		cmocka_unit_test(unparsable_counts_as_stopping),
	};

	return cmocka_run_group_tests_name("libdirtytrack: kernels whose reset stops on signals",
					   tests, NULL, NULL);
}
