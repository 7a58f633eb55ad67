// SPDX-License-Identifier: GPL-2.0
/*
 * Scratch memory the VMM lends to sources whose kernel interfaces only
 * work on user memory (KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG,
 * IOMMU_HWPT_GET_DIRTY_BITMAP read their arguments from, and write their
 * bitmaps to, the caller's address space).  Layout: a header of ioctl
 * arguments, then a bitmap.  The contents are untrusted: read back in
 * bounded chunks through a kernel bounce buffer, never used as an index or
 * a length.
 */
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dirtytrack_private.h"

/**
 * dt_scratch_init() - check and take the VMM's scratch
 * @s: the scratch
 * @addr: its start, 8-byte aligned
 * @size: its size, a multiple of 8: the header and at least @min_words
 * @min_words: bitmap words it must hold at least
 * @max_words: bitmap words it may hold at most
 *
 * Return: 0; -EINVAL for a misaligned, too small or too large scratch;
 * -EFAULT if it is not user memory; -ENOMEM.
 */
int dt_scratch_init(struct dt_scratch *s, u64 addr, u64 size, u64 min_words,
		    u64 max_words)
{
	if (addr % sizeof(u64) || size % sizeof(u64) ||
	    size < DIRTYTRACK_SCRATCH_HEADER + min_words * sizeof(u64) ||
	    size > DIRTYTRACK_SCRATCH_HEADER + max_words * sizeof(u64))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(addr), size))
		return -EFAULT;
	s->bounce = kmalloc_array(DT_SCRATCH_CHUNK_WORDS, sizeof(u64),
				  GFP_KERNEL_ACCOUNT);
	if (!s->bounce)
		return -ENOMEM;
	s->base = u64_to_user_ptr(addr);
	s->words = (size - DIRTYTRACK_SCRATCH_HEADER) / sizeof(u64);
	s->io = (struct dt_io){
		.ops = &dt_scratch_io_ops, .words = s->words,
		.chunk = DT_SCRATCH_CHUNK_WORDS, .page_size = PAGE_SIZE,
	};
	return 0;
}

void dt_scratch_free(struct dt_scratch *s)
{
	kfree(s->bounce);
	s->bounce = NULL;
}

/* The bitmap part of the scratch. */
u64 __user *dt_scratch_bitmap(struct dt_scratch *s)
{
	return (u64 __user *)(s->base + DIRTYTRACK_SCRATCH_HEADER);
}

/**
 * dt_scratch_ioctl() - issue an ioctl whose argument must be user memory
 * @s: the scratch; its header receives @arg
 * @file: the file to issue it on (KVM's, iommufd's)
 * @cmd: the ioctl
 * @arg: the argument, at most DIRTYTRACK_SCRATCH_HEADER bytes
 * @len: its size
 *
 * Return: what the ioctl returns, or -EFAULT.
 */
int dt_scratch_ioctl(struct dt_scratch *s, struct file *file,
		     unsigned int cmd, const void *arg, size_t len)
{
	if (WARN_ON_ONCE(len > DIRTYTRACK_SCRATCH_HEADER))
		return -EINVAL;
	if (copy_to_user(s->base, arg, len))
		return -EFAULT;
	return dt_kvm_ioctl(file, cmd, (unsigned long)s->base);
}

/**
 * dt_scratch_read() - copy bitmap words into the bounce buffer
 * @s: the scratch
 * @first_word: the first bitmap word
 * @n: words, at most DT_SCRATCH_CHUNK_WORDS
 *
 * Return: 0, or -EFAULT.
 */
int dt_scratch_read(struct dt_scratch *s, u64 first_word, u64 n)
{
	if (copy_from_user(s->bounce, dt_scratch_bitmap(s) + first_word,
			   n * sizeof(u64)))
		return -EFAULT;
	return 0;
}

/* ---- the core's view of a file and its scratch (core/dt_io.h) ---------- */

static struct dt_scratch *dt_io_scratch(struct dt_io *io)
{
	return container_of(io, struct dt_scratch, io);
}

static int dt_scratch_io_ioctl(struct dt_io *io, unsigned int cmd,
			       const void *arg, size_t len)
{
	struct dt_scratch *s = dt_io_scratch(io);

	return dt_scratch_ioctl(s, s->file, cmd, arg, len);
}

static u64 dt_scratch_io_addr(struct dt_io *io, u64 w)
{
	return (u64)(uintptr_t)(dt_scratch_bitmap(dt_io_scratch(io)) + w);
}

static int dt_scratch_io_zero(struct dt_io *io, u64 w, u64 n)
{
	u64 __user *p = dt_scratch_bitmap(dt_io_scratch(io)) + w;

	return clear_user(p, n * sizeof(u64)) ? -EFAULT : 0;
}

static const u64 *dt_scratch_io_read(struct dt_io *io, u64 w, u64 n)
{
	struct dt_scratch *s = dt_io_scratch(io);

	return dt_scratch_read(s, w, n) ? NULL : s->bounce;
}

static bool dt_scratch_io_stop(struct dt_io *io)
{
	cond_resched();
	return fatal_signal_pending(current);
}

static bool dt_scratch_io_same(struct dt_io *a, struct dt_io *b)
{
	return dt_io_scratch(a)->file == dt_io_scratch(b)->file;
}

const struct dt_io_ops dt_scratch_io_ops = {
	.ioctl = dt_scratch_io_ioctl,
	.addr = dt_scratch_io_addr,
	.zero = dt_scratch_io_zero,
	.read = dt_scratch_io_read,
	.stop = dt_scratch_io_stop,
	.same = dt_scratch_io_same,
};

/**
 * dt_scratch_check_pinnable() - can an interface that pins it use it?
 * @s: the scratch
 *
 * iommufd pins the bitmap's pages and silently drops the bits it cannot
 * write, so a scratch it cannot pin (VM_IO, VM_PFNMAP, secret memory)
 * would lose pages without an error.  Pin every page once, writable, and
 * let go.
 *
 * Return: 0, or -EFAULT.
 */
int dt_scratch_check_pinnable(struct dt_scratch *s)
{
	unsigned long start = (unsigned long)s->base & PAGE_MASK;
	unsigned long end = PAGE_ALIGN((unsigned long)s->base +
				       DIRTYTRACK_SCRATCH_HEADER +
				       s->words * sizeof(u64));
	struct page *pages[16];

	while (start < end) {
		int n = min_t(unsigned long, ARRAY_SIZE(pages),
			      (end - start) >> PAGE_SHIFT);
		int got = pin_user_pages_fast(start, n, FOLL_WRITE, pages);

		if (got > 0)
			unpin_user_pages(pages, got);
		if (got != n)
			return -EFAULT;
		start += (unsigned long)n << PAGE_SHIFT;
	}
	return 0;
}
