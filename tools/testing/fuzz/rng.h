/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtfuzz's generator: splitmix64.  Every op draws from a stream of its
 * own, seeded by (seed, op index), so which op runs at step i and what it
 * draws first never depend on what the kernel answered before: a seed
 * replays the same op sequence.
 */
#ifndef DTFUZZ_RNG_H
#define DTFUZZ_RNG_H

#include <stdint.h>

struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_next(struct fz_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline struct fz_rng fz_rng_for(uint64_t seed, uint64_t index,
				       uint64_t stream)
{
	struct fz_rng r = { seed ^ (index * 0xd1b54a32d192ed03ULL) ^
			    (stream << 56) };

	fz_next(&r);
	return r;
}

/* Uniform in [0, n); 0 when n is 0. */
static inline uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
	return n ? fz_next(r) % n : 0;
}

/* True one time in @n. */
static inline int fz_one_in(struct fz_rng *r, uint64_t n)
{
	return fz_below(r, n) == 0;
}

/* A value where the bugs live: 0, 1, small, powers of two and their
 * neighbours, all ones, or anything. */
static inline uint64_t fz_boundary(struct fz_rng *r)
{
	unsigned int b = fz_below(r, 64);

	switch (fz_below(r, 8)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return fz_below(r, 16);
	case 3: return 1ULL << b;
	case 4: return (1ULL << b) - 1;
	case 5: return (1ULL << b) + 1;
	case 6: return ~0ULL >> fz_below(r, 64);
	}
	return fz_next(r);
}

#endif /* DTFUZZ_RNG_H */
