/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * libdirtytrack: the library VMMs link to collect guest dirty pages through
 * /dev/dirtytrack.
 *
 * Conventions (after libbpf and liburing):
 *  - handles are opaque;
 *  - every function that can fail returns 0 or a negative errno, never
 *    aborts and never sets errno as its only report;
 *  - options structs start with a size field, @sz, set with
 *    DIRTYTRACK_OPTS_INIT(); a struct smaller than the first field the
 *    library needs is -EINVAL, a larger one whose unknown tail is not zero is
 *    -E2BIG, so old binaries keep working against newer libraries and the
 *    other way round.
 */
#ifndef DIRTYTRACK_H
#define DIRTYTRACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIRTYTRACK_API __attribute__((visibility("default")))

/* Declare and size an options struct: DIRTYTRACK_OPTS_INIT(x_opts, .a = 1) */
#define DIRTYTRACK_OPTS_INIT(type, ...) \
	((struct type){ .sz = sizeof(struct type), __VA_ARGS__ })

/* The default device node. */
#define DIRTYTRACK_DEV_PATH "/dev/dirtytrack"

struct dirtytrack;

/**
 * struct dirtytrack_open_opts - options of dirtytrack_open()
 * @sz: sizeof(struct dirtytrack_open_opts)
 * @path: the device node; NULL means DIRTYTRACK_DEV_PATH
 */
struct dirtytrack_open_opts {
	size_t sz;
	const char *path;
};

/**
 * struct dirtytrack_module_info - what the running module supports
 * @sz: sizeof(struct dirtytrack_module_info), set by the caller
 * @api_version: the module's DIRTYTRACK_API_VERSION
 * @page_shift: log2 of the host page size, the unit of every page number
 * @features: the module's DIRTYTRACK_FEATURE_* bits
 */
struct dirtytrack_module_info {
	size_t sz;
	unsigned int api_version;
	unsigned int page_shift;
	uint64_t features;
};

/**
 * dirtytrack_open() - connect to the dirtytrack module
 * @opts: options, or NULL for the defaults
 * @out: on success, the new handle
 *
 * Opens the device node close-on-exec and checks that it answers the
 * dirtytrack version query.
 *
 * Return: 0; -EINVAL for a NULL @out or a too small @opts->sz; -E2BIG for
 * unknown non-zero options; -ENOTTY if the node is not a dirtytrack device;
 * -EPROTO if the module speaks an older interface than this library needs;
 * -ENOMEM; or the errno of open(2) (-ENOENT: the module is not loaded).
 */
DIRTYTRACK_API int dirtytrack_open(const struct dirtytrack_open_opts *opts,
				   struct dirtytrack **out);

/**
 * dirtytrack_close() - close a handle and free it
 * @dt: the handle, or NULL (a no-op)
 */
DIRTYTRACK_API void dirtytrack_close(struct dirtytrack *dt);

/**
 * dirtytrack_get_module_info() - what the running module supports
 * @dt: the handle
 * @info: filled in up to @info->sz, which the caller sets
 *
 * Return: 0; -EINVAL for a NULL argument or a too small @info->sz; or the
 * errno of the query ioctl.
 */
DIRTYTRACK_API int
dirtytrack_get_module_info(struct dirtytrack *dt,
			   struct dirtytrack_module_info *info);

#ifdef __cplusplus
}
#endif

#endif /* DIRTYTRACK_H */
