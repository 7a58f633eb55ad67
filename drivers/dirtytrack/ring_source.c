// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm-ring source: each vCPU's dirty ring, found through the VMM's own
 * mapping of it, pinned once and walked by the shared core.  Called with
 * the tracker's lock held.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/moduleparam.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "dirtytrack_private.h"
#include "trace.h"

/* KVM_DIRTY_RING_MAX_ENTRIES of include/linux/kvm_host.h, not uapi. */
#define DT_RING_MAX_ENTRIES	65536

/*
 * KVM_RESET_DIRTY_RINGS calls one harvest makes at most while KVM stops
 * early; then the harvest fails with its pages pending (-EAGAIN).
 */
#define DT_RESET_MAX_CALLS	16

static void dt_ring_source_free(struct mm_struct *mm, struct dt_ring_source *rs)
{
	if (rs->ring.gfns)
		vunmap(rs->ring.gfns);
	if (rs->pages) {
		unpin_user_pages(rs->pages, rs->npages);
		account_locked_vm(mm, rs->npages, false);
		kvfree(rs->pages);
	}
	if (rs->vcpu_file)
		fput(rs->vcpu_file);
	kfree(rs);
}

/* Is @vma a mapping of a vCPU's dirty ring from its start, at @addr? */
static bool dt_ring_vma_ok(struct vm_area_struct *vma, u64 addr)
{
	return vma && vma->vm_start == addr && vma->vm_file &&
	       (vma->vm_flags & VM_SHARED) &&
	       vma->vm_pgoff == KVM_DIRTY_LOG_PAGE_OFFSET &&
	       dt_kvm_vcpu_id(vma->vm_file) >= 0;
}

/*
 * Check that [@addr, end of its VMA) is a vCPU's dirty ring mapping and
 * take a reference on the vCPU file.  Return the ring's byte size.
 */
static long dt_ring_vma_check(u64 addr, struct file **vcpu_file)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	long len = -EINVAL;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (dt_ring_vma_ok(vma, addr)) {
		len = vma->vm_end - vma->vm_start;
		*vcpu_file = get_file(vma->vm_file);
	}
	mmap_read_unlock(mm);
	return len;
}

/*
 * Pin the @len bytes of ring at @addr, with the mmap lock held from the
 * check to the pin: the VMA is checked again (the VMM may have mapped
 * something else there since dt_ring_vma_check()), and the pages pinned
 * are that VMA's.  Return the pages pinned, or a negative errno.
 */
static long dt_ring_pin(u64 addr, long len, struct file *vcpu_file,
			struct page **pages)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	long pinned = -EINVAL;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, addr);
	if (dt_ring_vma_ok(vma, addr) && vma->vm_file == vcpu_file &&
	    vma->vm_end - vma->vm_start == len) {
		/* Linux 6.5 dropped the vmas argument. */
#if KERNEL_VERSION(6, 5, 0) > LINUX_VERSION_CODE
		pinned = pin_user_pages(addr, len >> PAGE_SHIFT,
					FOLL_WRITE | FOLL_LONGTERM, pages, NULL);
#else
		pinned = pin_user_pages(addr, len >> PAGE_SHIFT,
					FOLL_WRITE | FOLL_LONGTERM, pages);
#endif
	}
	mmap_read_unlock(mm);
	return pinned;
}

/*
 * Does KVM serve the page right after the @len bytes the VMM mapped?  Then
 * the ring is longer than the mapping (KVM lets a VMM map a prefix of its
 * ring), and a walk of the prefix would never see the entries past it.
 * The page is mapped for a moment and read: KVM's fault handler answers
 * SIGBUS past the ring's end, which a kernel read takes as -EFAULT.
 */
static int dt_ring_check_end(struct file *vcpu_file, long len)
{
	unsigned long addr;
	u8 byte;
	int ret;

	addr = vm_mmap(vcpu_file, 0, PAGE_SIZE, PROT_READ, MAP_SHARED,
		       ((unsigned long)KVM_DIRTY_LOG_PAGE_OFFSET << PAGE_SHIFT) +
		       len);
	if (IS_ERR_VALUE(addr))
		return addr == -ENOMEM ? -ENOMEM : -EINVAL;
	ret = copy_from_user(&byte, (u8 __user *)addr, 1) ? 0 : -EINVAL;
	vm_munmap(addr, PAGE_SIZE);
	return ret;
}

/**
 * dt_ring_attach() - pin a vCPU's dirty ring and start tracking it
 * @t: the tracker
 * @addr: the VMM's mapping of the ring
 * @vcpu_id: output: the ring's vCPU
 *
 * Return: 0; -EINVAL if @addr is not the start of a vCPU's ring mapping,
 * its size is not a power of two or it maps only part of the ring, or if
 * the VMM declared a VM without ring
 * (DIRTYTRACK_ATTACH_KVM_BITMAP); -EEXIST if that vCPU's ring is attached;
 * -ENOSPC past DT_MAX_RINGS; -ENOMEM when RLIMIT_MEMLOCK or memory runs
 * out; or the pinning's error.
 */
int dt_ring_attach(struct dt_tracker *t, u64 addr, u32 *vcpu_id)
{
	struct dt_ring_source *rs;
	struct file *vcpu_file;
	long len, pinned;
	u32 entries, i;
	int ret;

	if (t->kbm && !(t->kbm->src.flags & DIRTYTRACK_KVM_RING))
		return -EINVAL;
	len = dt_ring_vma_check(addr, &vcpu_file);
	if (len < 0)
		return len;
	/* KVM's own bound: the mapping's length is not checked by KVM. */
	if (len < PAGE_SIZE || len > DT_RING_MAX_ENTRIES *
				     (long)sizeof(struct kvm_dirty_gfn) ||
	    !is_power_of_2(len / sizeof(struct kvm_dirty_gfn))) {
		fput(vcpu_file);
		return -EINVAL;
	}
	ret = dt_ring_check_end(vcpu_file, len);
	if (ret) {
		fput(vcpu_file);
		return ret;
	}
	entries = len / sizeof(struct kvm_dirty_gfn);
	for (i = 0; i < t->nr_rings; i++) {
		if (t->rings[i]->vcpu_file == vcpu_file) {
			fput(vcpu_file);
			return -EEXIST;
		}
	}
	if (t->nr_rings == DT_MAX_RINGS) {
		fput(vcpu_file);
		return -ENOSPC;
	}

	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs) {
		fput(vcpu_file);
		return -ENOMEM;
	}
	rs->vcpu_file = vcpu_file;
	rs->vcpu_id = dt_kvm_vcpu_id(vcpu_file);
	/* RLIMIT_MEMLOCK first, so the limit is hit before the allocator. */
	ret = account_locked_vm(current->mm, len >> PAGE_SHIFT, true);
	if (ret)
		goto err;
	rs->pages = kvcalloc(len >> PAGE_SHIFT, sizeof(*rs->pages),
			     GFP_KERNEL_ACCOUNT);
	if (!rs->pages) {
		account_locked_vm(current->mm, len >> PAGE_SHIFT, false);
		ret = -ENOMEM;
		goto err;
	}
	pinned = dt_ring_pin(addr, len, vcpu_file, rs->pages);
	if (pinned != len >> PAGE_SHIFT) {
		if (pinned > 0)
			unpin_user_pages(rs->pages, pinned);
		account_locked_vm(current->mm, len >> PAGE_SHIFT, false);
		kvfree(rs->pages);
		rs->pages = NULL;
		ret = pinned < 0 ? pinned : -EFAULT;
		goto err;
	}
	rs->npages = len >> PAGE_SHIFT;
	rs->ring.gfns = vmap(rs->pages, rs->npages, VM_MAP, PAGE_KERNEL);
	if (!rs->ring.gfns) {
		ret = -ENOMEM;
		goto err;
	}
	rs->ring.size = entries;
	t->rings[t->nr_rings] = rs;
	/* Netlink and the ring scan read the array without the lock. */
	smp_store_release(&t->nr_rings, t->nr_rings + 1);
	*vcpu_id = rs->vcpu_id;
	if (t->state == DT_TRACKING)
		dt_ring_scan_kick();
	return 0;

err:
	dt_ring_source_free(current->mm, rs);
	return ret;
}

void dt_rings_free(struct dt_tracker *t)
{
	u32 i;

	for (i = 0; i < t->nr_rings; i++)
		dt_ring_source_free(t->mm, t->rings[i]);
	t->nr_rings = 0;
}

struct dt_ring_source *dt_ring_find(struct dt_tracker *t, u32 vcpu_id)
{
	u32 i;

	for (i = 0; i < t->nr_rings; i++)
		if (t->rings[i]->vcpu_id == vcpu_id)
			return t->rings[i];
	return NULL;
}

static struct dt_ring *dt_ring_nth(void *ctx, u32 i)
{
	struct dt_tracker *t = ctx;

	return &t->rings[i]->ring;
}

/*
 * Walk the rings @h asks for: pinned memory only, so this may run on a
 * worker while the caller harvests other sources (core/harvest.c).
 */
static void dt_ring_source_collect(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	struct dt_rings_ops ops = {
		.nr = t->nr_rings, .ring = dt_ring_nth, .ctx = t,
		.table = &t->table,
	};
	u32 i;

	dt_ring_src_collect(&ops, h);
	for (i = 0; i < t->nr_rings; i++) {
		struct dt_ring_source *rs = t->rings[i];

		WRITE_ONCE(rs->harvested, rs->harvested + rs->ring.last);
		if (rs->ring.last_overflow) {
			WRITE_ONCE(rs->overflows, rs->overflows + 1);
			trace_dirtytrack_ring_overflow(t->id, rs->vcpu_id);
		}
	}
}

/* Whether the KVM this module is built for stops its reset on a signal. */
#define DT_KVM_RESET_MAY_STOP \
	dt_kvm_reset_may_stop(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL)

/*
 * KVM_RESET_DIRTY_RINGS, where KVM stops it on a pending signal (from
 * 6.17, core/ring.c, "A reset that stops early": up to 64 pages left
 * unlogged), with every signal blocked that can be.  What cannot be
 * blocked (SIGKILL, SIGSTOP, task work) and is pending already is
 * delivered first: the ioctl restarts after it (-ERESTARTNOINTR), the VMM
 * never sees it, and the marks and pending pages stay for the restarted
 * call.  Pending after the call, it may have stopped KVM.  An older KVM
 * never looks: no signal to block, and none stops it.
 */
static int dt_ring_reset_kvm(void *ctx, bool *bailed)
{
	struct dt_test_hidden hid = {};
	bool unblocked = dt_test_reset_unblocked();
	bool block = DT_KVM_RESET_MAY_STOP && !unblocked;
	struct dt_tracker *t = ctx;
	sigset_t blocked, saved;
	int cleared;

	if (block) {
		siginitsetinv(&blocked, sigmask(SIGKILL) | sigmask(SIGSTOP));
		sigprocmask(SIG_BLOCK, &blocked, &saved);
	}
	/*
	 * Unblocked (the test build's model of a VMM whose signals reach
	 * KVM), the call goes ahead and KVM stops as it would: restarting
	 * the ioctl instead would never end under a storm faster than a sync.
	 */
	if (fatal_signal_pending(current)) {
		cleared = -EINTR;
	} else if (block && signal_pending(current)) {
		cleared = -ERESTARTNOINTR;
	} else {
		dt_test_reset_partial_begin(t, &hid);
		cleared = dt_kvm_ioctl(t->vm_file, KVM_RESET_DIRTY_RINGS, 0);
		*bailed = (DT_KVM_RESET_MAY_STOP && signal_pending(current)) |
			  dt_test_reset_partial_end(&hid);
	}
	if (block)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	return cleared;
}

/*
 * Reset what the walk marked (core/harvest.c, dt_ring_src_reset()).  The
 * harvested pages stay pending: the core publishes them once every source
 * is done.  A failed reset returns its error with the pages still pending.
 */
static int dt_ring_source_harvest(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	struct dt_rings_ops ops = {
		.nr = t->nr_rings, .ring = dt_ring_nth,
		.reset = dt_ring_reset_kvm, .ctx = t, .table = &t->table,
	};
	struct dt_ring_stats st = {};
	int ret;

	might_sleep();
	ret = dt_ring_src_reset(&ops, DT_RESET_MAX_CALLS, &t->sticky,
				&t->regions, h, &st);
	trace_dirtytrack_ring_reset(t->id, ret, st.resets, st.partial_resets,
				    st.sticky);
	if (ret && ret != -ERESTARTNOINTR)
		h->ring_reset_errors++;
	return ret;
}

/* No ring: nothing to walk, and KVM refuses the reset of a ringless VM. */
static bool dt_ring_source_attached(void *ctx)
{
	return ((struct dt_tracker *)ctx)->nr_rings;
}

const struct dt_source_ops dt_ring_source_ops = {
	.attached = dt_ring_source_attached,
	.collect = dt_ring_source_collect,
	.harvest = dt_ring_source_harvest,
};
