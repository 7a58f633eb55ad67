// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's side of core/dt_io.h: ioctls issued by this process
 * on its own copy of a VMM file, with bitmaps written to memory of its
 * own, read in place.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "user_backend.h"

static struct dt_u_io *dt_u_io(struct dt_io *io)
{
	return (struct dt_u_io *)((char *)io - offsetof(struct dt_u_io, io));
}

/* The argument goes in a copy, as the module's goes through its scratch. */
static int dt_u_io_ioctl(struct dt_io *io, unsigned int cmd, const void *arg,
			 size_t len)
{
	uint64_t copy[8];
	int ret;

	if (len > sizeof(copy))
		return -EINVAL;
	if (len)
		memcpy(copy, arg, len);
	ret = ioctl(dt_u_io(io)->fd, cmd, copy);
	return ret < 0 ? -errno : ret;
}

static u64 dt_u_io_addr(struct dt_io *io, u64 w)
{
	return (u64)(uintptr_t)(dt_u_io(io)->buf + w);
}

static int dt_u_io_zero(struct dt_io *io, u64 w, u64 n)
{
	memset(dt_u_io(io)->buf + w, 0, n * sizeof(u64));
	return 0;
}

static const u64 *dt_u_io_read(struct dt_io *io, u64 w, u64 n)
{
	(void)n;
	return dt_u_io(io)->buf + w;
}

static bool dt_u_io_stop(struct dt_io *io)
{
	(void)io;
	return false;
}

/*
 * Are two files one open file (one iommufd context)?  The module compares
 * files; here kcmp(2) does.  Without kcmp (a kernel built without
 * CONFIG_CHECKPOINT_RESTORE, or a seccomp filter) two opens of one device
 * cannot be told apart, and they count as one: refusing a second source
 * is an error the VMM sees, two sources on one HWPT would silently turn
 * its tracking off for each other.
 */
static bool dt_u_io_same(struct dt_io *a, struct dt_io *b)
{
	int fa = dt_u_io(a)->fd, fb = dt_u_io(b)->fd;
	struct stat sa, sb;

	if (fstat(fa, &sa) || fstat(fb, &sb) || sa.st_rdev != sb.st_rdev ||
	    sa.st_ino != sb.st_ino)
		return false;
	return dt_u_kcmp_files(fa, fb) <= 0;
}

static const struct dt_io_ops dt_u_io_ops = {
	.ioctl = dt_u_io_ioctl,
	.addr = dt_u_io_addr,
	.zero = dt_u_io_zero,
	.read = dt_u_io_read,
	.stop = dt_u_io_stop,
	.same = dt_u_io_same,
};

/**
 * dt_u_io_init() - memory for @words bitmap words, for ioctls on @fd
 * @io: the io
 * @fd: the file (not owned)
 * @words: bitmap words
 * @pg: the page size
 * @guard: an inaccessible page follows exactly @words words: a kernel
 *         that writes past them faults (-EFAULT) instead of overrunning
 *         the heap.  Without, the words start on a page and are rounded
 *         up to a page end.
 *
 * Return: 0, or -ENOMEM.
 */
int dt_u_io_init(struct dt_u_io *io, int fd, u64 words, u64 pg, bool guard)
{
	size_t len = (words * sizeof(u64) + pg - 1) & ~(pg - 1);
	size_t map_len = len + (guard ? pg : 0);
	char *p;

	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (guard && mprotect(p + len, pg, PROT_NONE)) {
		munmap(p, map_len);
		return -ENOMEM;
	}
	if (!guard)
		words = len / sizeof(u64);
	*io = (struct dt_u_io){
		.io = { .ops = &dt_u_io_ops, .words = words, .chunk = words,
			.page_size = pg },
		.fd = fd, .buf = (u64 *)(p + len) - words, .map = p,
		.map_len = map_len,
	};
	return 0;
}

void dt_u_io_free(struct dt_u_io *io)
{
	if (io->map)
		munmap(io->map, io->map_len);
	io->map = NULL;
}
