/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The userspace half of drivers/dirtytrack/core/dt_compat.h: the same
 * primitives the module gets from the kernel, from GCC's __atomic builtins.
 * The orderings match the kernel's: value-returning RMWs are fully ordered,
 * dt_word_or() is relaxed and ordered by dt_mb_before_rmw().
 */
#ifndef DT_COMPAT_USER_H
#define DT_COMPAT_USER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/dirtytrack.h>
#include <linux/dirtytrack_netlink.h>
#include <linux/kvm.h>

typedef uint32_t u32;
typedef uint64_t u64;
typedef uint16_t u16;

#define U32_MAX				UINT32_MAX
#define ARRAY_SIZE(a)			(sizeof(a) / sizeof((a)[0]))

#define dt_load_acquire(p)		__atomic_load_n(p, __ATOMIC_ACQUIRE)
#define dt_store_release(p, v)		__atomic_store_n(p, v, __ATOMIC_RELEASE)
#define dt_read_once(x)			(*(const volatile __typeof__(x) *)&(x))
#define dt_write_once(x, v)		(*(volatile __typeof__(x) *)&(x) = (v))
#define dt_prefetchw(p)			__builtin_prefetch(p, 1)
#define dt_popcount64(v)		((u64)__builtin_popcountll(v))

/* The kernel's cmpxchg(): fully ordered, returns the value it found. */
static inline u32 dt_cmpxchg32(u32 *p, u32 old, u32 new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;
}
#define dt_ffs64(v)			((unsigned int)__builtin_ctzll(v))

static inline void dt_word_or(u64 *w, u64 bits)
{
	__atomic_fetch_or(w, bits, __ATOMIC_RELAXED);
}

/*
 * The kernel's value-returning RMWs are full barriers; a C11 seq_cst RMW
 * does not order a later plain load after its store (arm64 LL/SC), so the
 * fence makes the claim's word reads come after its summary clear.
 */
static inline u64 dt_word_fetch_andnot(u64 *w, u64 bits)
{
	u64 old = __atomic_fetch_and(w, ~bits, __ATOMIC_SEQ_CST);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return old;
}

static inline u64 dt_word_xchg(u64 *w, u64 v)
{
	u64 old = __atomic_exchange_n(w, v, __ATOMIC_SEQ_CST);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return old;
}

#define dt_mb_before_rmw()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define dt_mb()				__atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif /* DT_COMPAT_USER_H */
