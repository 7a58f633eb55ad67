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
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dirtytrack_private.h"

/* KVM_DIRTY_RING_MAX_ENTRIES of include/linux/kvm_host.h, not uapi. */
#define DT_RING_MAX_ENTRIES	65536

/*
 * How far past the fetch index a sync looks for a gap left by a foreign
 * harvest; 0, the default, is the whole ring (a scan of its flags).
 */
static unsigned int ring_gap_window;
module_param(ring_gap_window, uint, 0644);
MODULE_PARM_DESC(ring_gap_window,
		 "Ring entries past the fetch index checked for a gap per sync (0: all)");

/*
 * Fault injection for tests: the next this-many ring resets report -EINTR
 * after KVM_RESET_DIRTY_RINGS ran, the way a 6.17+ reset that a signal
 * stopped partway does.  The sync then fails with its pages pending.
 */
static unsigned int fail_resets;
module_param(fail_resets, uint, 0600);
MODULE_PARM_DESC(fail_resets,
		 "Testing only: fail this many ring resets with -EINTR");

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
	if (!vma || vma->vm_start != addr || !vma->vm_file ||
	    !(vma->vm_flags & VM_SHARED) ||
	    vma->vm_pgoff != KVM_DIRTY_LOG_PAGE_OFFSET ||
	    dt_kvm_vcpu_id(vma->vm_file) < 0)
		goto out;
	len = vma->vm_end - vma->vm_start;
	*vcpu_file = get_file(vma->vm_file);
out:
	mmap_read_unlock(mm);
	return len;
}

/**
 * dt_ring_attach() - pin a vCPU's dirty ring and start tracking it
 * @t: the tracker
 * @addr: the VMM's mapping of the ring
 * @vcpu_id: output: the ring's vCPU
 *
 * Return: 0; -EINVAL if @addr is not the start of a vCPU's ring mapping or
 * its size is not a power of two, or if the VMM declared a VM without ring
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

	if (t->kbm && !(t->kbm->flags & DIRTYTRACK_KVM_RING))
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
	pinned = pin_user_pages_fast(addr, len >> PAGE_SHIFT,
				     FOLL_WRITE | FOLL_LONGTERM, rs->pages);
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

/*
 * Walk the rings @h asks for: pinned memory only, so this may run on a
 * worker while the caller harvests other sources (dt_harvest()).
 */
static void dt_ring_source_collect(struct dt_tracker *t, struct dt_harvest *h)
{
	struct dt_ring_source *only = h->kind == DT_HARVEST_VCPU ? h->ring : NULL;
	struct dt_ring_stats st = {};
	u32 i;

	for (i = 0; i < t->nr_rings; i++) {
		struct dt_ring_source *rs = t->rings[i];
		u32 before = st.harvested + st.invalid;

		WRITE_ONCE(rs->last, 0);
		if (only && rs != only)
			continue;
		dt_ring_harvest(&rs->ring, &t->table, &st);
		if (dt_ring_check_gap(&rs->ring, ring_gap_window, &st))
			dt_ring_harvest(&rs->ring, &t->table, &st);
		WRITE_ONCE(rs->last, st.harvested + st.invalid - before);
		WRITE_ONCE(rs->harvested, rs->harvested + rs->last);
	}
	h->ring_entries += st.harvested;
	h->ring_invalid += st.invalid;
	h->ring_foreign += st.foreign;
}

/*
 * Reset what the walk marked.  The harvested pages stay pending:
 * dt_harvest() publishes them once every source is done.  A failed reset
 * returns its error with the pages still pending.
 */
static int dt_ring_source_harvest(struct dt_tracker *t, struct dt_harvest *h)
{
	u32 i, marked = 0, foreign = 0;
	int cleared;

	/* No ring: nothing marked, and KVM refuses the reset of a ringless VM. */
	if (!t->nr_rings)
		return 0;
	/* Every ring's marked entries are reset, not only the walked ones. */
	for (i = 0; i < t->nr_rings; i++)
		marked += t->rings[i]->ring.unreset;

	/* Rule 3: the reset completes before any harvested page is copied. */
	cleared = dt_kvm_ioctl(t->vm_file, KVM_RESET_DIRTY_RINGS, 0);
	if (cleared >= 0 && READ_ONCE(fail_resets)) {
		WRITE_ONCE(fail_resets, READ_ONCE(fail_resets) - 1);
		cleared = -EINTR;
	}
	/*
	 * A failed or partial reset: nothing is published, and the marked
	 * entries stay counted, so the ring walk never laps one KVM may not
	 * have reset; the next harvest publishes after its own reset.
	 */
	if (cleared < 0) {
		t->reset_failed = true;
		h->ring_reset_errors++;
		/*
		 * The walk already passed the entries a foreign collector
		 * took: everything is dirty, published after a reset that
		 * completes.
		 */
		if (h->ring_foreign)
			dt_regions_mark_all_dirty(t, false);
		return cleared;
	}
	for (i = 0; i < t->nr_rings; i++)
		dt_ring_reset_done(&t->rings[i]->ring);
	/*
	 * KVM reset other than what we marked: more, and someone else
	 * harvested too; fewer, and some entries we marked were not reset
	 * (their pages are not write-protected again).  Either way we lost
	 * sync: everything is dirty, and every ring finds KVM again.  After
	 * a failed reset fewer is expected: that call reset some already.
	 */
	if ((u32)cleared > marked ||
	    ((u32)cleared < marked && !t->reset_failed)) {
		foreign = cleared > marked ? cleared - marked : marked - cleared;
		for (i = 0; i < t->nr_rings; i++)
			t->rings[i]->ring.synced = false;
	}

	t->reset_failed = false;
	h->ring_foreign += foreign;
	if (h->ring_foreign)
		dt_regions_mark_all_dirty(t, true);
	return 0;
}

const struct dt_source_ops dt_ring_source_ops = {
	.id = DIRTYTRACK_SOURCE_KVM_RING,
	.collect = dt_ring_source_collect,
	.harvest = dt_ring_source_harvest,
};
