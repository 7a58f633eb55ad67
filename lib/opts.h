/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * Validation of size-prefixed options structs, shared by every public
 * function that takes one.
 */
#ifndef DT_LIB_OPTS_H
#define DT_LIB_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define dt_offsetofend(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

#define DT_OPTS_MAX_SZ	4096

/*
 * A caller's struct of @user_sz bytes is acceptable to a library that knows
 * @known_sz bytes of it and needs at least @min_sz: too small is -EINVAL, a
 * larger struct must have an all-zero tail (-E2BIG otherwise, so a newer
 * caller's option is never silently ignored).
 */
static inline int dt_opts_check(const void *opts, size_t user_sz,
				size_t min_sz, size_t known_sz)
{
	const uint8_t *p = opts;
	size_t i;

	if (user_sz < min_sz)
		return -EINVAL;
	/* No struct of this API will ever be a page: garbage, not a newer one. */
	if (user_sz > DT_OPTS_MAX_SZ)
		return -E2BIG;
	for (i = known_sz; i < user_sz; i++)
		if (p[i])
			return -E2BIG;
	return 0;
}

/* Check an options struct whose first field is `size_t sz`. */
#define DT_OPTS_CHECK(opts, type, last_needed)				\
	dt_opts_check(opts, (opts)->sz,					\
		      dt_offsetofend(struct type, last_needed),		\
		      sizeof(struct type))

/* Read a field only if the caller's struct is large enough to hold it. */
#define DT_OPTS_GET(opts, type, field, fallback)			\
	((opts) && (opts)->sz >= dt_offsetofend(struct type, field) ?	\
	 (opts)->field : (fallback))

/*
 * Copy a result struct whose first field is `size_t sz` out to the
 * caller's, up to the size the caller knows (@dst_sz, checked already).
 */
static inline void dt_opts_copy_out(void *dst, size_t dst_sz, const void *src,
				    size_t src_sz)
{
	size_t n = dst_sz < src_sz ? dst_sz : src_sz;

	__builtin_memcpy((char *)dst + sizeof(size_t),
			 (const char *)src + sizeof(size_t), n - sizeof(size_t));
}

#endif /* DT_LIB_OPTS_H */
