// SPDX-License-Identifier: GPL-2.0
/*
 * The vmm source: a dirty log the tracker owns for writers KVM never sees
 * (the VMM's device emulation, vhost and vhost-user backends), in the vhost
 * log layout: bit (gpa >> 12) of a little-endian bit array, set atomically.
 *
 * The log is sparse: its pages are allocated when first marked or faulted
 * in, so it covers the whole guest physical address space below the
 * highest region for the price of the parts that are written.  Its pages
 * are never freed or moved while the log lives, so it grows with memory
 * hotplug without losing a bit: a larger mapping reaches the new part and
 * sees the old part unchanged.
 *
 * Lifetimes: the log is shared by the tracker and by every file that maps
 * it (a vhost-user backend may outlive the tracker), so it is reference
 * counted.  Its fault handler takes no tracker lock.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "dirtytrack_private.h"

/* Log bits per host page (1 on 4 KiB hosts, 16 on 64 KiB ones). */
#define DT_LOG_SHIFT		(PAGE_SHIFT - DIRTYTRACK_VMM_LOG_PAGE_SHIFT)
/* Log bits held by one page of the log. */
#define DT_LOG_BITS_PER_PAGE	((u64)PAGE_SIZE * BITS_PER_BYTE)
/* Ranges one DIRTYTRACK_VMM_MARK may carry. */
#define DT_MAX_MARK_RANGES	4096

/**
 * struct dt_vmm_log - the vmm source's log
 * @ref: one for the tracker, one per file
 * @pages: the log's pages, by page index; present once written or mapped
 * @size: bytes of log the regions need; grows only, read by the fault
 *        handler without a lock
 * @marked: log bits DIRTYTRACK_VMM_MARK set in the regions directly, short
 *          of log pages, since the last harvest: they count as the log's
 *          (under the tracker's lock)
 */
struct dt_vmm_log {
	struct kref ref;
	struct xarray pages;
	u64 size;
	u64 marked;
};

static void dt_vmm_log_release(struct kref *ref)
{
	struct dt_vmm_log *log = container_of(ref, struct dt_vmm_log, ref);
	unsigned long idx;
	struct page *page;

	/* Mappings hold their own page references: these are ours. */
	xa_for_each(&log->pages, idx, page)
		__free_page(page);
	xa_destroy(&log->pages);
	kfree(log);
}

/* The log page @idx, allocated zeroed if it is not there yet. */
static struct page *dt_vmm_log_page(struct dt_vmm_log *log, unsigned long idx)
{
	struct page *page = xa_load(&log->pages, idx), *old;

	if (page)
		return page;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		return ERR_PTR(-ENOMEM);
	old = xa_cmpxchg(&log->pages, idx, NULL, page, GFP_KERNEL_ACCOUNT);
	if (old) {
		/* Lost a race with another fault or mark, or no memory. */
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	return page;
}

static vm_fault_t dt_vmm_log_fault(struct vm_fault *vmf)
{
	struct dt_vmm_log *log = vmf->vma->vm_file->private_data;
	struct page *page;

	/* Past what the regions need: no memory for a stray address. */
	if ((u64)vmf->pgoff << PAGE_SHIFT >= READ_ONCE(log->size))
		return VM_FAULT_SIGBUS;
	page = dt_vmm_log_page(log, vmf->pgoff);
	if (IS_ERR(page))
		return vmf_error(PTR_ERR(page));
	return vmf_insert_page(vmf->vma, vmf->address, page);
}

static const struct vm_operations_struct dt_vmm_log_vm_ops = {
	.fault = dt_vmm_log_fault,
};

/* Any process may map the log: that is what the fd is for. */
static int dt_vmm_log_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	dt_vma_set_flags(vma, VM_MIXEDMAP | VM_DONTDUMP);
	vma->vm_ops = &dt_vmm_log_vm_ops;
	return 0;
}

static int dt_vmm_log_file_release(struct inode *inode, struct file *file)
{
	struct dt_vmm_log *log = file->private_data;

	kref_put(&log->ref, dt_vmm_log_release);
	return 0;
}

static const struct file_operations dt_vmm_log_fops = {
	.owner = THIS_MODULE,
	.mmap = dt_vmm_log_mmap,
	.release = dt_vmm_log_file_release,
	.llseek = noop_llseek,
};

int dt_vmm_log_create(struct dt_tracker *t)
{
	struct dt_vmm_log *log = kzalloc(sizeof(*log), GFP_KERNEL_ACCOUNT);

	if (!log)
		return -ENOMEM;
	kref_init(&log->ref);
	xa_init(&log->pages);
	t->vmm = log;
	return 0;
}

void dt_vmm_log_put_tracker(struct dt_tracker *t)
{
	if (t->vmm)
		kref_put(&t->vmm->ref, dt_vmm_log_release);
	t->vmm = NULL;
}

/**
 * dt_vmm_log_grow() - make the log cover guest frames below @end_gfn
 * @t: the tracker
 * @end_gfn: the end of a region of address space 0, at most 2^52 bytes
 *
 * The pages come later, on first use.
 */
void dt_vmm_log_grow(struct dt_tracker *t, u64 end_gfn)
{
	u64 bits = end_gfn << DT_LOG_SHIFT;
	u64 size = PAGE_ALIGN(DIV_ROUND_UP(bits, BITS_PER_BYTE));

	if (size > t->vmm->size)
		WRITE_ONCE(t->vmm->size, size);
}

/**
 * dt_vmm_log_fd() - ioctl(DIRTYTRACK_VMM_LOG_FD): a file mapping the log
 * @t: the tracker
 * @nf: output: the file and its fd, for dt_file_commit() once the reply is
 *      out (dt_file_abort() otherwise)
 * @log_size: output: the log's size now
 *
 * Return: 0, or a negative errno.
 */
int dt_vmm_log_fd(struct dt_tracker *t, struct dt_new_file *nf,
		  u64 *log_size)
{
	int ret;

	kref_get(&t->vmm->ref);
	ret = dt_file_prepare(nf, t->vmm, &dt_vmm_log_fops,
			      "[dirtytrack-vmm-log]", NULL);
	if (ret) {
		kref_put(&t->vmm->ref, dt_vmm_log_release);
		return ret;
	}
	*log_size = t->vmm->size;
	return 0;
}

/*
 * The log's words are little-endian (vhost sets bits byte by byte), the
 * same as native words on every architecture this module supports today.
 */
static void dt_log_word_or(u64 *w, u64 bits)
{
	atomic64_or((__force s64)cpu_to_le64(bits), (atomic64_t *)w);
}

static u64 dt_log_word_take(u64 *w)
{
	return le64_to_cpu((__force __le64)atomic64_xchg((atomic64_t *)w, 0));
}

/*
 * Set log bits [@first, @end), allocating log pages as needed (or, short
 * of memory, marking the pages pending directly).  A fatal signal stops
 * it between log pages: a range can be 2^28 pages.
 */
static int dt_vmm_log_set(struct dt_tracker *t, u64 first, u64 end)
{
	while (first < end) {
		unsigned long idx = first / DT_LOG_BITS_PER_PAGE;
		u64 pend = min(end, (u64)(idx + 1) * DT_LOG_BITS_PER_PAGE);
		struct page *page = dt_vmm_log_page(t->vmm, idx);
		u64 *words;

		if (IS_ERR(page)) {
			/* Nothing lost: the pages are marked pending directly. */
			dt_regions_mark_gfns(&t->regions, first >> DT_LOG_SHIFT,
					     DIV_ROUND_UP(pend, 1ULL << DT_LOG_SHIFT));
			t->vmm->marked += pend - first;
			first = pend;
			continue;
		}
		words = kmap_local_page(page);
		for (; first < pend; first = round_down(first, 64) + 64) {
			u64 lo = first % 64;
			u64 hi = min_t(u64, 64, lo + (pend - first));

			dt_log_word_or(&words[(first % DT_LOG_BITS_PER_PAGE) / 64],
				       GENMASK_ULL(hi - 1, lo));
		}
		kunmap_local(words);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/**
 * dt_vmm_mark() - ioctl(DIRTYTRACK_VMM_MARK)
 * @t: the tracker
 * @cmd: the call
 *
 * Every range is checked before any is marked.
 *
 * Return: 0; -EINVAL for no range, too many, an empty or wrapping one;
 * -ENOENT if a range is not covered by regions of address space 0;
 * -EFAULT; -ENOMEM; -EINTR for a fatal signal (some pages may then be
 * marked).
 */
int dt_vmm_mark(struct dt_tracker *t, struct dirtytrack_vmm_mark *cmd)
{
	struct dirtytrack_gpa_range *ranges;
	u32 i;
	int ret = 0;

	if (!cmd->nr_ranges || cmd->nr_ranges > DT_MAX_MARK_RANGES)
		return -EINVAL;
	ranges = kvmalloc_array(cmd->nr_ranges, sizeof(*ranges), GFP_KERNEL);
	if (!ranges)
		return -ENOMEM;
	if (copy_from_user(ranges, u64_to_user_ptr(cmd->ranges),
			   cmd->nr_ranges * sizeof(*ranges))) {
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < cmd->nr_ranges; i++) {
		u64 last;

		if (dt_check_gpa_range(ranges[i].gpa, ranges[i].len)) {
			ret = -EINVAL;
			goto out;
		}
		last = ranges[i].gpa + ranges[i].len - 1;
		if (!dt_regions_cover(&t->regions, ranges[i].gpa >> PAGE_SHIFT,
				      (last >> PAGE_SHIFT) + 1)) {
			ret = -ENOENT;
			goto out;
		}
	}
	for (i = 0; !ret && i < cmd->nr_ranges; i++) {
		u64 last = ranges[i].gpa + ranges[i].len - 1;

		ret = dt_vmm_log_set(t,
				     ranges[i].gpa >> DIRTYTRACK_VMM_LOG_PAGE_SHIFT,
				     (last >> DIRTYTRACK_VMM_LOG_PAGE_SHIFT) + 1);
	}
out:
	kvfree(ranges);
	return ret;
}

/*
 * Take every bit of the log with an atomic exchange per word: a bit set
 * meanwhile is either taken or left for the next harvest.  The writer
 * sets its bit after writing the page, so a page taken here is copied
 * after the write.  O(log size / 64) word reads over the pages present:
 * vhost writes no summary.
 */
static int dt_vmm_harvest(void *ctx, struct dt_harvest *h)
{
	struct dt_tracker *t = ctx;
	struct dt_gfn_cursor cur = { .rs = &t->regions };
	const struct dt_log_regions lr = {
		.find = dt_regions_log_find, .ctx = &cur, .shift = DT_LOG_SHIFT,
	};
	struct dt_log_counts c = {};
	unsigned long idx;
	struct page *page;

	xa_for_each(&t->vmm->pages, idx, page) {
		u64 *words = kmap_local_page(page);
		u64 i;

		for (i = 0; i < PAGE_SIZE / sizeof(u64); i++) {
			if (!READ_ONCE(words[i]))
				continue;
			dt_log_take_word(&lr, idx * DT_LOG_BITS_PER_PAGE + i * 64,
					 dt_log_word_take(&words[i]), &c);
		}
		kunmap_local(words);
		cond_resched();
	}
	/* Pages marked in the regions directly count as the log's. */
	h->vmm_pages += c.pages + t->vmm->marked;
	t->vmm->marked = 0;
	h->vmm_outside += c.outside;
	/* The bits addressed to a moved region's old place are in. */
	dt_regions_forget_moves(&t->regions);
	return 0;
}

/* Always there: the log, and the moves it must forget. */
static bool dt_vmm_attached(void *ctx)
{
	return true;
}

const struct dt_source_ops dt_vmm_source_ops = {
	.attached = dt_vmm_attached,
	.harvest = dt_vmm_harvest,
};
