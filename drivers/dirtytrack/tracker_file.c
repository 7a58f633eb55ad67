// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker's file: each tracker gets an inode of its own on a small
 * pseudo filesystem (as VFIO does), so that removing a region can zap every
 * process's mapping of it with unmap_mapping_range() without touching any
 * other file.  The mapping itself is faulted in page by page from the
 * regions' merged sets.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "dirtytrack_private.h"

#define DIRTYTRACK_MAGIC	0x64747263	/* "dtrc" */

static struct vfsmount *dt_mnt;

static int dt_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, DIRTYTRACK_MAGIC) ? 0 : -ENOMEM;
}

/* No .owner: open tracker files pin the module through their fops. */
static struct file_system_type dt_fs_type = {
	.name = "dirtytrack",
	.init_fs_context = dt_fs_init_fs_context,
	.kill_sb = kill_anon_super,
};

int dt_fs_init(void)
{
	dt_mnt = kern_mount(&dt_fs_type);
	return PTR_ERR_OR_ZERO(dt_mnt);
}

void dt_fs_exit(void)
{
	kern_unmount(dt_mnt);
}

/**
 * dt_file_prepare() - a new file with an inode of its own, and an fd for it
 * @nf: output: the fd, reserved but not installed, and the file
 * @priv: the file's private data
 * @fops: its file operations
 * @name: its name
 * @inode_out: output: the inode, for unmap_mapping_range(); may be NULL
 *
 * The caller copies the fd out to the VMM first, then installs it with
 * dt_file_commit(), or drops both with dt_file_abort() if the copy fails:
 * an fd installed before a reply that faults would be one the VMM cannot
 * know of (iommufd does the same).
 *
 * Return: 0, or a negative errno.
 */
int dt_file_prepare(struct dt_new_file *nf, void *priv,
		    const struct file_operations *fops, const char *name,
		    struct inode **inode_out)
{
	struct inode *inode;
	struct file *file;
	int fd, ret;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	inode = alloc_anon_inode(dt_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		ret = PTR_ERR(inode);
		goto err_fd;
	}
	/* __fput() drops this with fops_put(), as for anon_inode files. */
	if (!try_module_get(fops->owner)) {
		ret = -ENODEV;
		goto err_inode;
	}
	file = alloc_file_pseudo(inode, dt_mnt, name, O_RDWR, fops);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		module_put(fops->owner);
		goto err_inode;
	}
	file->private_data = priv;
	if (inode_out)
		*inode_out = inode;
	nf->fd = fd;
	nf->file = file;
	return 0;

err_inode:
	iput(inode);
err_fd:
	put_unused_fd(fd);
	return ret;
}

/* The reply reached the VMM: the fd it holds now names the file. */
void dt_file_commit(struct dt_new_file *nf)
{
	fd_install(nf->fd, nf->file);
}

/* The reply faulted: the fd was never seen; the file's release runs. */
void dt_file_abort(struct dt_new_file *nf)
{
	put_unused_fd(nf->fd);
	fput(nf->file);
}

static vm_fault_t dt_tracker_fault(struct vm_fault *vmf)
{
	struct dt_tracker *t = vmf->vma->vm_file->private_data;
	struct page *page;
	vm_fault_t ret;

	/*
	 * The page is inserted before map_lock is dropped, so a region
	 * removal (which zaps under map_lock) cannot miss it.
	 */
	down_read(&t->map_lock);
	page = dt_region_map_page(t, vmf->pgoff);
	ret = page ? vmf_insert_page(vmf->vma, vmf->address, page) :
		     VM_FAULT_SIGBUS;
	up_read(&t->map_lock);
	return ret;
}

static const struct vm_operations_struct dt_tracker_vm_ops = {
	.fault = dt_tracker_fault,
};

void dt_vma_set_flags(struct vm_area_struct *vma, unsigned long flags)
{
#ifdef DT_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/**
 * dt_tracker_mmap() - map the regions' merged sets
 * @file: the tracker file
 * @vma: a shared mapping (the consumer claims bits by atomic exchange)
 *
 * Return: 0; -EINVAL for a private mapping; -EPERM from another mm.
 */
int dt_tracker_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct dt_tracker *t = file->private_data;

	if (current->mm != t->mm)
		return -EPERM;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	/* VM_DONTCOPY: a forked child does not inherit the consumer's view. */
	dt_vma_set_flags(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP |
			 VM_DONTCOPY);
	vma->vm_ops = &dt_tracker_vm_ops;
	return 0;
}
