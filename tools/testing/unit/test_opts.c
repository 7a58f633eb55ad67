// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * Unit tests of the library's option handling and argument validation:
 * everything that must be refused before any syscall is made.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dirtytrack.h"
#include "opts.h"

/* A newer caller's options: this library's, then a field it does not know. */
struct opts_v2 {
	struct dirtytrack_open_opts base;
	uint64_t newer_field;
};

static void opts_exact_size_accepted(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts);

	(void)state;
	assert_int_equal(DT_OPTS_CHECK(&o, dirtytrack_open_opts, sz), 0);
}

static void opts_too_small_refused(void **state)
{
	struct dirtytrack_open_opts o = { .sz = sizeof(size_t) - 1 };

	(void)state;
	assert_int_equal(DT_OPTS_CHECK(&o, dirtytrack_open_opts, sz), -EINVAL);
	o.sz = 0;
	assert_int_equal(DT_OPTS_CHECK(&o, dirtytrack_open_opts, sz), -EINVAL);
}

static void opts_larger_zero_tail_accepted(void **state)
{
	struct opts_v2 o = { .base.sz = sizeof(o) };

	(void)state;
	assert_int_equal(dt_opts_check(&o, o.base.sz, sizeof(size_t),
				       sizeof(struct dirtytrack_open_opts)), 0);
}

static void opts_larger_nonzero_tail_refused(void **state)
{
	struct opts_v2 o = { .base.sz = sizeof(o), .newer_field = 1 };

	(void)state;
	assert_int_equal(dt_opts_check(&o, o.base.sz, sizeof(size_t),
				       sizeof(struct dirtytrack_open_opts)), -E2BIG);
}

static void opts_get_reads_only_present_fields(void **state)
{
	/* A caller built against a version without .path. */
	struct dirtytrack_open_opts o = { .sz = sizeof(size_t),
					  .path = "/must/not/be/read" };
	const struct dirtytrack_open_opts *op = &o, *none = NULL;

	(void)state;
	assert_null(DT_OPTS_GET(op, dirtytrack_open_opts, path, NULL));
	o.sz = sizeof(o);
	assert_string_equal(DT_OPTS_GET(op, dirtytrack_open_opts, path, NULL),
			    "/must/not/be/read");
	assert_null(DT_OPTS_GET(none, dirtytrack_open_opts, path, NULL));
}

static void open_null_out_refused(void **state)
{
	(void)state;
	assert_int_equal(dirtytrack_open(NULL, NULL), -EINVAL);
}

static void open_bad_opts_refused_before_open(void **state)
{
	struct dirtytrack_open_opts o = { .sz = 1 };
	struct opts_v2 big = { .base.sz = sizeof(big), .newer_field = 7 };
	struct dirtytrack *dt = (void *)1;

	(void)state;
	assert_int_equal(dirtytrack_open(&o, &dt), -EINVAL);
	assert_null(dt);
	assert_int_equal(dirtytrack_open(&big.base, &dt), -E2BIG);
	assert_null(dt);
}

/* The kernel backend, forced: a missing node is not a fallback to user. */
static void open_missing_node_is_enoent(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = "/nonexistent/dirtytrack",
		.backend = DIRTYTRACK_BACKEND_KERNEL);
	struct dirtytrack *dt;

	(void)state;
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOENT);
	assert_null(dt);
}

static void open_wrong_device_is_enotty(void **state)
{
	struct dirtytrack_open_opts o = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = "/dev/null", .backend = DIRTYTRACK_BACKEND_KERNEL);
	struct dirtytrack *dt;

	(void)state;
	assert_int_equal(dirtytrack_open(&o, &dt), -ENOTTY);
	assert_null(dt);
}

static void close_null_is_noop(void **state)
{
	(void)state;
	dirtytrack_close(NULL);
}

static void module_info_null_refused(void **state)
{
	struct dirtytrack_module_info info = { .sz = sizeof(info) };

	(void)state;
	assert_int_equal(dirtytrack_get_module_info(NULL, &info), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_exact_size_accepted),
		cmocka_unit_test(opts_too_small_refused),
		cmocka_unit_test(opts_larger_zero_tail_accepted),
		cmocka_unit_test(opts_larger_nonzero_tail_refused),
		cmocka_unit_test(opts_get_reads_only_present_fields),
		cmocka_unit_test(open_null_out_refused),
		cmocka_unit_test(open_bad_opts_refused_before_open),
		cmocka_unit_test(open_missing_node_is_enoent),
		cmocka_unit_test(open_wrong_device_is_enotty),
		cmocka_unit_test(close_null_is_noop),
		cmocka_unit_test(module_info_null_refused),
	};

	return cmocka_run_group_tests_name("libdirtytrack options", tests,
					   NULL, NULL);
}
