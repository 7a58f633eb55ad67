// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's kvm-bitmap source: KVM's per-memslot bitmap, the
 * arm64 backup bitmap beside the rings or the plain log of a ringless VM.
 * The module's bitmap_source.c, with this process's memory as the scratch.
 *
 * KVM_GET_DIRTY_LOG copies the whole memslot's bitmap, whatever size the
 * VMM declared for the region.  So KVM writes a region's bitmap where its
 * words and a cache line of guard words end at an inaccessible page: a
 * memslot up to 512 pages larger than declared shows in the guard words, a
 * larger one makes KVM's copy fault (-EFAULT).  Either is an error that
 * marks the region dirty; neither costs a call before the read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/kvm.h>

#include "user_backend.h"

/*
 * Manual-protect clears go in chunks of 1 GiB of 4 KiB pages (QEMU's), only
 * where bits were read.
 */
#define DT_U_CLEAR_WORDS	4096

static int dt_kvm(struct dirtytrack_tracker *t, unsigned long cmd, void *arg)
{
	return ioctl(dt_u(t)->vm_fd, cmd, arg) < 0 ? -errno : 0;
}

/*
 * Guard words: a whole cache line, so that the window starts on one.  KVM
 * copies bitmaps with copy_to_user() and copy_from_user(), which on the
 * AMD hosts measured here take twice as long from a source 8 bytes off a
 * cache line: one guard word made KVM_CLEAR_DIRTY_LOG of 1 GiB cost 35 us
 * instead of 15.
 */
#define DT_U_GUARD_WORDS	8

/*
 * Where KVM writes a bitmap of @nwords words: they and the guard words end
 * at the inaccessible page.
 */
static uint64_t *dt_u_window(struct dt_u_kvm_bitmap *kbm, uint64_t nwords)
{
	return kbm->end - (nwords + DT_U_GUARD_WORDS);
}

/* Bits past the region's declared end: pages the tracker cannot hold. */
static bool dt_u_past_end(const uint64_t *buf, uint64_t npages)
{
	uint64_t nwords = dt_bitmap_words(npages), used = npages % DT_WORD_BITS;
	uint64_t guard = 0;
	int i;

	for (i = 0; i < DT_U_GUARD_WORDS; i++)
		guard |= buf[nwords + i];
	return guard || (used && buf[nwords - 1] >> used);
}

/*
 * Read one memslot's bitmap and publish it.  The bitmap is the last source a
 * harvest reads (rule backup-bitmap-last): the rings' reset is done, so its
 * bits go straight to the merged set instead of through the pending one, each
 * chunk once KVM protects its pages again (manual protect), not before.  Any
 * error marks the whole region dirty (rule errors-mean-dirty): without manual
 * protect KVM may already have cleared bits it could not hand over.
 */
static void dt_u_bitmap_read(struct dirtytrack_tracker *t,
			     struct dt_region *r, struct dt_u_harvest *h)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;
	bool manual = kbm->flags & DIRTYTRACK_KVM_MANUAL_PROTECT;
	uint64_t nwords = dt_bitmap_words(r->slot.npages), w, i;
	uint64_t *buf = dt_u_window(kbm, nwords);
	struct kvm_dirty_log log = { .slot = r->slot.slot, .dirty_bitmap = buf };
	int ret;

	/*
	 * KVM writes the guard words only for a longer memslot, and only the
	 * memslot's words: none may be left from another region.
	 */
	memset(buf, 0, (nwords + DT_U_GUARD_WORDS) * sizeof(uint64_t));
	ret = dt_kvm(t, KVM_GET_DIRTY_LOG, &log);
	if (!ret && dt_u_past_end(buf, r->slot.npages))
		h->st.kvm_bitmap_errors++;
	for (w = 0; !ret && w < nwords; w += DT_U_CLEAR_WORDS) {
		uint64_t n = nwords - w < DT_U_CLEAR_WORDS ? nwords - w :
							     DT_U_CLEAR_WORDS;
		uint64_t any = 0;

		/* Without manual protect, nothing to do before publishing. */
		for (i = 0; manual && i < n; i++)
			any |= buf[w + i];
		if (manual && !any)
			continue;
		if (manual) {
			/* Exactly the bits read: protected again before publishing. */
			uint64_t first = w * DT_WORD_BITS;
			struct kvm_clear_dirty_log clr = {
				.slot = r->slot.slot, .first_page = first,
				.num_pages = n * DT_WORD_BITS < r->slot.npages - first ?
					     n * DT_WORD_BITS : r->slot.npages - first,
				.dirty_bitmap = buf + w,
			};

			/* A failed clear leaves the bits in KVM: read again. */
			if (dt_kvm(t, KVM_CLEAR_DIRTY_LOG, &clr))
				h->st.kvm_bitmap_errors++;
		}
		h->st.kvm_bitmap_pages += dt_bitmap_or_words(&r->merged, w,
							     buf + w, n);
	}
	if (ret) {
		dt_bitmap_set_range(&r->pending, 0, r->slot.npages);
		h->st.kvm_bitmap_errors++;
	}
}

void dt_u_kvm_bitmap_harvest(struct dirtytrack_tracker *t,
			     struct dt_u_harvest *h)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;
	uint32_t i;

	if (!kbm || h->kind == DT_U_VCPU)
		return;
	if (h->kind == DT_U_REMOVE) {
		/*
		 * Rule backup-bitmap-last: a deleted memslot takes its bitmap
		 * with it.
		 */
		dt_u_bitmap_read(t, h->region, h);
		return;
	}
	/*
	 * The backup bitmap is read last, by the final sync (rule
	 * backup-bitmap-last).
	 */
	if ((kbm->flags & DIRTYTRACK_KVM_RING) && h->kind != DT_U_ALL)
		return;
	for (i = 0; i < t->regions.end; i++)
		if (t->regions.v[i])
			dt_u_bitmap_read(t, t->regions.v[i], h);
}

int dt_u_kvm_bitmap_check_region(struct dirtytrack_tracker *t, uint64_t npages)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;

	return kbm && dt_bitmap_words(npages) + DT_U_GUARD_WORDS > kbm->words ?
	       -ENOBUFS : 0;
}

/*
 * Does the VM keep a bitmap, and does it use a ring, as declared?  The
 * module's two probes: KVM_GET_DIRTY_LOG of an address space no VM has
 * (-ENXIO: no bitmap; -EINVAL: one), and with no ring attached yet
 * KVM_RESET_DIRTY_RINGS (-EINVAL: no ring).
 */
static int dt_u_probe(struct dirtytrack_tracker *t, bool ring)
{
	struct kvm_dirty_log log = {
		.slot = DT_SLOT(0xffff, 0), .dirty_bitmap = dt_u(t)->kbm->buf,
	};
	int ret;

	ret = dt_kvm_bitmap_probe_log(dt_kvm(t, KVM_GET_DIRTY_LOG, &log), ring);
	if (ret || t->nr_vcpus)
		return ret;
	ret = ioctl(dt_u(t)->vm_fd, KVM_RESET_DIRTY_RINGS, 0);
	return dt_kvm_bitmap_probe_reset(ret < 0 ? -errno : ret, ring);
}

/*
 * The buffer KVM writes bitmaps into, followed by an inaccessible page: a
 * memslot re-created larger between the fit check and the read (the VMM
 * breaking its side of the protocol) makes KVM's copy fault (-EFAULT, the
 * region marked dirty), never overrun the heap.
 */
static int dt_u_kvm_bitmap_buf(struct dirtytrack_tracker *t,
			       struct dt_u_kvm_bitmap *kbm)
{
	size_t pg = dt_lib_page_size(t);
	size_t len = (kbm->words * sizeof(uint64_t) + pg - 1) & ~(pg - 1);
	char *p;

	p = mmap(NULL, len + pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	if (mprotect(p + len, pg, PROT_NONE)) {
		munmap(p, len + pg);
		return -ENOMEM;
	}
	kbm->buf = (uint64_t *)p;
	kbm->end = (uint64_t *)(p + len);
	kbm->buf_len = len + pg;
	return 0;
}

int dt_u_kvm_bitmap_attach(struct dirtytrack_tracker *t, uint32_t flags,
			   uint64_t max_pages)
{
	bool ring = flags & DIRTYTRACK_KVM_RING;
	struct dt_u_kvm_bitmap *kbm;
	uint32_t i;
	int ret;

	ret = dt_check_kvm_bitmap_flags(flags, t->nr_vcpus);
	if (ret)
		return ret;
	if (dt_u(t)->kbm)
		return -EEXIST;
	kbm = calloc(1, sizeof(*kbm));
	if (!kbm)
		return -ENOMEM;
	kbm->words = dt_bitmap_words(max_pages) + DT_U_GUARD_WORDS;
	ret = dt_u_kvm_bitmap_buf(t, kbm);
	if (ret) {
		free(kbm);
		return ret;
	}
	kbm->flags = flags;
	dt_u(t)->kbm = kbm;
	ret = dt_u_probe(t, ring);
	for (i = 0; !ret && i < t->regions.end; i++)
		if (t->regions.v[i])
			ret = dt_u_kvm_bitmap_check_region(t,
					t->regions.v[i]->slot.npages);
	if (ret)
		dt_u_kvm_bitmap_free(t);
	return ret;
}

void dt_u_kvm_bitmap_free(struct dirtytrack_tracker *t)
{
	struct dt_u_kvm_bitmap *kbm = dt_u(t)->kbm;

	if (!kbm)
		return;
	munmap(kbm->buf, kbm->buf_len);
	free(kbm);
	dt_u(t)->kbm = NULL;
}
