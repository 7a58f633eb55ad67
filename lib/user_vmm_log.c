// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's vmm source: the VMM's own writes (device emulation,
 * vhost), in the vhost log layout (bit gpa >> 12 of a little-endian bit
 * array, set with an atomic OR), in a memfd that any process may map, as
 * the module's log fd.  The memfd is sealed against shrinking and against
 * further seals, so no holder of it can cut a mapping from under this
 * process or stop it from growing.  A writer must map it MAP_SHARED (a
 * private mapping's bits are its own: the module refuses one, a memfd
 * cannot).
 *
 * A sync takes every word with an atomic exchange, visiting only the
 * parts of the memfd that hold pages (SEEK_DATA): a page never written
 * costs nothing.  A log that only this process writes, and that it did not
 * write since the last sync, costs no syscall at all.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "user_backend.h"

#define DT_LOG_SHIFT	12	/* DIRTYTRACK_VMM_LOG_PAGE_SHIFT */

int dt_u_vmm_init(struct dirtytrack_tracker *t)
{
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;

	log->fd = memfd_create("dirtytrack-vmm-log", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (log->fd < 0)
		return -errno;
	/* It may grow; no holder of the fd may shrink it or seal it further. */
	if (fcntl(log->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL)) {
		int ret = -errno;

		close(log->fd);
		return ret;
	}
	return 0;
}

void dt_u_vmm_free(struct dirtytrack_tracker *t)
{
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;

	if (log->map)
		munmap(log->map, log->size);
	close(log->fd);
}

/* Make the log cover frames below @end_gfn (page-sized steps). */
int dt_u_vmm_grow(struct dirtytrack_tracker *t, uint64_t end_gfn)
{
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;
	uint64_t pg = dt_lib_page_size(t);
	uint64_t bits = (end_gfn << t->dt->page_shift) >> DT_LOG_SHIFT;
	uint64_t size = ((bits + 7) / 8 + pg - 1) & ~(pg - 1);
	void *map;

	if (size <= log->size)
		return 0;
	if (ftruncate(log->fd, (off_t)size))
		return -errno;
	map = log->map ? mremap(log->map, log->size, size, MREMAP_MAYMOVE) :
			 mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			      log->fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	log->map = map;
	log->size = size;
	return 0;
}

/*
 * Set the log bits of [@gpa, @gpa + @len).  The log pages are allocated
 * first (fallocate), so running out of memory is an error here, never a
 * SIGBUS on the store; then the pages are marked in their regions
 * directly: none is lost.
 */
int dt_u_vmm_mark(struct dirtytrack_tracker *t, uint64_t gpa, uint64_t len)
{
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;
	uint64_t last = gpa + len - 1, b, e;
	uint64_t ps = t->dt->page_shift;

	if (!dt_regions_cover(&t->regions, gpa >> ps, (last >> ps) + 1))
		return -ENOENT;
	b = gpa >> DT_LOG_SHIFT;
	e = (last >> DT_LOG_SHIFT) + 1;
	if (!log->map || ((e + 63) / 64) * 8 > log->size ||
	    fallocate(log->fd, 0, (off_t)(b / 64 * 8),
		      (off_t)(((e + 63) / 64 - b / 64) * 8))) {
		dt_regions_mark_gfns(&t->regions, gpa >> ps, (last >> ps) + 1);
		log->marked += e - b;
		return 0;
	}
	while (b < e) {
		uint64_t n = 64 - b % 64 < e - b ? 64 - b % 64 : e - b;
		uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << (b % 64);

		__atomic_fetch_or(&log->map[b / 64], htole64(mask),
				  __ATOMIC_RELEASE);
		b += n;
	}
	log->written = true;
	return 0;
}

int dt_u_vmm_log_fd(struct dirtytrack_tracker *t, int *out_fd,
		    uint64_t *out_size)
{
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;
	int fd = fcntl(log->fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	log->shared = true;
	*out_fd = fd;
	if (out_size)
		*out_size = log->size;
	return 0;
}

static bool dt_u_vmm_attached(void *ctx)
{
	(void)ctx;
	return true;	/* always there */
}

static int dt_u_vmm_harvest(void *ctx, struct dt_harvest *h)
{
	struct dirtytrack_tracker *t = ctx;
	struct dt_u_vmm_log *log = &dt_u(t)->vmm;
	struct dt_gfn_cursor cur = { .rs = &t->regions };
	const struct dt_log_regions lr = {
		.find = dt_regions_log_find, .ctx = &cur,
		.shift = t->dt->page_shift - DT_LOG_SHIFT,
	};
	struct dt_log_counts c = { 0 };
	off_t off = 0, end;
	uint64_t i, i_end;

	/* Pages marked in the regions directly count as the log's. */
	h->vmm_pages += log->marked;
	log->marked = 0;
	if (!log->shared && !log->written)
		off = (off_t)log->size;		/* nothing can be in it */
	log->written = false;
	while (log->map && (uint64_t)off < log->size) {
		off = lseek(log->fd, off, SEEK_DATA);
		if (off < 0)
			break;		/* ENXIO: no data past here */
		end = lseek(log->fd, off, SEEK_HOLE);
		if (end < 0 || (uint64_t)end > log->size)
			end = (off_t)log->size;
		i_end = (uint64_t)end / 8;
		for (i = (uint64_t)off / 8; i < i_end; i++) {
			uint64_t v;

			if (!__atomic_load_n(&log->map[i], __ATOMIC_RELAXED))
				continue;
			v = le64toh(__atomic_exchange_n(&log->map[i], 0,
							__ATOMIC_ACQUIRE));
			dt_log_take_word(&lr, i * 64, v, &c);
		}
		off = end;
	}
	h->vmm_pages += c.pages;
	h->vmm_outside += c.outside;
	/* The bits addressed to a moved region's old place are in. */
	dt_regions_forget_moves(&t->regions);
	return 0;
}

const struct dt_source_ops dt_u_vmm_source = {
	.attached = dt_u_vmm_attached,
	.harvest = dt_u_vmm_harvest,
};
