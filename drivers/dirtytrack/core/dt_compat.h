/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The few primitives the shared core needs, for its two homes: the module
 * (__KERNEL__, here) and libdirtytrack's user backend and unit tests
 * (lib/dt_compat_user.h).  Nothing else in core/ may include a kernel or
 * libc header directly.
 *
 * Every bitmap word is a u64 on both sides, so the layout a VMM mmaps is the
 * same whatever the kernel's word size.
 */
#ifndef DT_CORE_COMPAT_H
#define DT_CORE_COMPAT_H

#ifdef __KERNEL__
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/prefetch.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <uapi/linux/dirtytrack.h>
#include <uapi/linux/dirtytrack_netlink.h>

/* Ring flags: pairs with KVM's smp_wmb() before it publishes an entry. */
#define dt_load_acquire(p)		smp_load_acquire(p)
/* Ring flags: KVM's reset reads RESET with smp_load_acquire(). */
#define dt_store_release(p, v)		smp_store_release(p, v)
#define dt_read_once(x)			READ_ONCE(x)
#define dt_write_once(x, v)		WRITE_ONCE(x, v)
/* A line about to be read and written. */
#define dt_prefetchw(p)			prefetchw(p)
/* Ring flags: takes back a mark of ours only if KVM left it there. */
#define dt_cmpxchg32(p, old, new)	cmpxchg(p, old, new)
#define dt_popcount64(v)		hweight64(v)
#define dt_ffs64(v)			__ffs64(v)	/* v != 0 */

/* Word RMWs.  The or/andnot forms are unordered; see dt_mb_before_rmw(). */
static inline void dt_word_or(u64 *w, u64 bits)
{
	atomic64_or(bits, (atomic64_t *)w);
}

static inline u64 dt_word_fetch_andnot(u64 *w, u64 bits)
{
	return atomic64_fetch_andnot(bits, (atomic64_t *)w);
}

static inline u64 dt_word_xchg(u64 *w, u64 v)
{
	return atomic64_xchg((atomic64_t *)w, v);
}

/* Orders a word's bits before its summary bit (claim protocol, bitmap.c). */
#define dt_mb_before_rmw()		smp_mb__before_atomic()
/* The same, where a plain read of the summary word follows (bitmap.c). */
#define dt_mb()				smp_mb()

#else
/* The userspace home: lib/dt_compat_user.h, found on the include path. */
#include "dt_compat_user.h"
#endif

#endif /* DT_CORE_COMPAT_H */
