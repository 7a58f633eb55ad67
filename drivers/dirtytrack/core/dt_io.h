/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the shared sources need of their home: a VMM file to issue ioctls
 * on, and memory in the VMM's address space for those ioctls to write
 * bitmaps into (KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG and
 * IOMMU_HWPT_GET_DIRTY_BITMAP only work on user memory).
 *
 * The module issues the ioctls on the VMM's files with their arguments in
 * scratch memory the VMM lends, and reads the bitmaps back through a
 * bounce buffer, a chunk at a time (drivers/dirtytrack/scratch.c).  The
 * library issues them itself, on memory of its own that it reads in place
 * (lib/user_io.c).  The unit tests supply a fake whose every operation can
 * be made to fail in turn.
 */
#ifndef DT_CORE_IO_H
#define DT_CORE_IO_H

#include "dt_core.h"

struct dt_io;

/**
 * struct dt_io_ops - a home's operations on one VMM file and its memory
 * @ioctl: issue @cmd on the file with @arg (@len bytes, copied where the
 *         file's owner can read it) as its argument; return what the ioctl
 *         returns (0 or more), or -errno
 * @addr: the VMM address of bitmap word @w, for an ioctl's bitmap pointer
 * @zero: zero bitmap words [@w, @w + @n); 0 or -EFAULT
 * @read: bitmap words [@w, @w + @n), @n at most @io->chunk: where they
 *        can be read (untrusted: only their bits are used), or NULL if
 *        they cannot (a fault)
 * @stop: whether a long read must stop now (a fatal signal); the home may
 *        reschedule here
 * @same: whether two files are one (one iommufd context)
 */
struct dt_io_ops {
	int (*ioctl)(struct dt_io *io, unsigned int cmd, const void *arg,
		     size_t len);
	u64 (*addr)(struct dt_io *io, u64 w);
	int (*zero)(struct dt_io *io, u64 w, u64 n);
	const u64 *(*read)(struct dt_io *io, u64 w, u64 n);
	bool (*stop)(struct dt_io *io);
	bool (*same)(struct dt_io *a, struct dt_io *b);
};

/**
 * struct dt_io - one VMM file and its bitmap memory, embedded in the
 *                home's own structure
 * @ops: the home's operations
 * @words: bitmap words the memory holds
 * @chunk: words one @ops->read() takes at most
 * @page_size: the host's page size (the memory ends on a page boundary)
 */
struct dt_io {
	const struct dt_io_ops *ops;
	u64 words;
	u64 chunk;
	u64 page_size;
};

static inline int dt_io_ioctl(struct dt_io *io, unsigned int cmd,
			      const void *arg, size_t len)
{
	return io->ops->ioctl(io, cmd, arg, len);
}

#endif /* DT_CORE_IO_H */
