/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A fake home for the shared sources (core/dt_io.h): bitmap memory of its
 * own and an ioctl the test supplies, where any operation can be made to
 * fail in turn (fail-nth, as iommufd's selftests do in the kernel): the
 * Nth operation from fake_io_fail_nth() fails, with -EFAULT for a memory
 * access and the test's error for an ioctl.
 */
#ifndef DT_FAKE_IO_H
#define DT_FAKE_IO_H

#include <stdlib.h>
#include <string.h>

#include "dt_io.h"

#define FAKE_PAGE	4096

struct fake_io {
	struct dt_io io;
	u64 *buf;
	int (*ioctl)(struct fake_io *f, unsigned int cmd, void *arg);
	void *ctx;		/* the test's */
	unsigned int ops;	/* operations since fake_io_fail_nth() */
	unsigned int fail_nth;	/* 0: none fails */
	unsigned int failed;	/* operations that were made to fail */
	int ioctl_err;		/* what a failed ioctl answers */
};

static inline struct fake_io *fake_io_of(struct dt_io *io)
{
	return (struct fake_io *)((char *)io - offsetof(struct fake_io, io));
}

/* Does this operation fail? */
static inline bool fake_io_step(struct fake_io *f)
{
	if (!f->fail_nth || ++f->ops != f->fail_nth)
		return false;
	f->failed++;
	return true;
}

static inline int fake_io_ioctl(struct dt_io *io, unsigned int cmd,
				const void *arg, size_t len)
{
	struct fake_io *f = fake_io_of(io);
	u64 copy[8];

	if (fake_io_step(f))
		return f->ioctl_err;
	if (len)
		memcpy(copy, arg, len);
	return f->ioctl(f, cmd, copy);
}

static inline u64 fake_io_addr(struct dt_io *io, u64 w)
{
	return (u64)(uintptr_t)(fake_io_of(io)->buf + w);
}

static inline int fake_io_zero(struct dt_io *io, u64 w, u64 n)
{
	struct fake_io *f = fake_io_of(io);

	if (fake_io_step(f))
		return -EFAULT;
	memset(f->buf + w, 0, n * sizeof(u64));
	return 0;
}

static inline const u64 *fake_io_read(struct dt_io *io, u64 w, u64 n)
{
	struct fake_io *f = fake_io_of(io);

	(void)n;
	return fake_io_step(f) ? NULL : f->buf + w;
}

static inline bool fake_io_stop(struct dt_io *io)
{
	(void)io;
	return false;
}

static inline bool fake_io_same(struct dt_io *a, struct dt_io *b)
{
	return fake_io_of(a)->ctx == fake_io_of(b)->ctx;
}

static const struct dt_io_ops fake_io_ops = {
	.ioctl = fake_io_ioctl, .addr = fake_io_addr, .zero = fake_io_zero,
	.read = fake_io_read, .stop = fake_io_stop, .same = fake_io_same,
};

/* @words of page-aligned memory, read @chunk words at a time. */
static inline void fake_io_init(struct fake_io *f, u64 words, u64 chunk,
				int (*ioctl)(struct fake_io *, unsigned int,
					     void *),
				void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->buf = aligned_alloc(FAKE_PAGE, (words * sizeof(u64) + FAKE_PAGE - 1) &
				      ~(u64)(FAKE_PAGE - 1));
	memset(f->buf, 0, words * sizeof(u64));
	f->io = (struct dt_io){ .ops = &fake_io_ops, .words = words,
				.chunk = chunk, .page_size = FAKE_PAGE };
	f->ioctl = ioctl;
	f->ctx = ctx;
}

/* From now, the @n-th operation fails (0: none). */
static inline void fake_io_fail_nth(struct fake_io *f, unsigned int n,
				    int ioctl_err)
{
	f->ops = 0;
	f->failed = 0;
	f->fail_nth = n;
	f->ioctl_err = ioctl_err;
}

static inline void fake_io_free(struct fake_io *f)
{
	free(f->buf);
}

#endif /* DT_FAKE_IO_H */
