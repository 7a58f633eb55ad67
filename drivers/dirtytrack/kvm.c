// SPDX-License-Identifier: GPL-2.0
/*
 * KVM through its public uAPI only.  Linux 6.18+ exports no KVM internals
 * to other modules, so the tracker recognizes KVM files by what they
 * answer and by their anon-inode names, and issues KVM's own ioctls on
 * them in the VMM's context, through the same security hook a syscall
 * passes.  KVM itself refuses every VM ioctl from another mm (-EIO).
 */
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/magic.h>
#include <linux/security.h>
#include <linux/string.h>

#include "dirtytrack_private.h"

/**
 * dt_kvm_ioctl() - issue a KVM ioctl whose argument is not a pointer
 * @file: a KVM file
 * @cmd: the ioctl
 * @arg: its integer argument
 *
 * What the ioctl syscall does past its generic commands.  vfs_ioctl() did
 * this for modules up to 6.12 at least, and is static by 7.3; calling
 * ->unlocked_ioctl here works on both.
 *
 * Return: what KVM returns, with -ENOIOCTLCMD as -ENOTTY.
 */
int dt_kvm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	long ret = security_file_ioctl(file, cmd, arg);

	if (ret)
		return ret;
	if (!file->f_op->unlocked_ioctl)
		return -ENOTTY;
	ret = file->f_op->unlocked_ioctl(file, cmd, arg);
	return ret == -ENOIOCTLCMD ? -ENOTTY : ret;
}

/* An anon-inode file's name, or "" for any other file (tmpfs, FUSE, ...). */
static const char *dt_anon_name(struct file *file)
{
	if (file_inode(file)->i_sb->s_magic != ANON_INODE_FS_MAGIC)
		return "";
	return file->f_path.dentry->d_name.name;
}

/**
 * dt_kvm_check_vm_file() - is @file a KVM VM of the calling process?
 * @file: the file the VMM says is its VM
 *
 * Whether the VM uses a dirty ring shows later: at DIRTYTRACK_ATTACH_RING
 * (a ring mapping exists only if it does) or DIRTYTRACK_ATTACH_KVM_BITMAP.
 *
 * Return: 0; -EBADF if it is not a KVM VM file; -EIO if it is another
 * process's VM (KVM's own answer).
 */
int dt_kvm_check_vm_file(struct file *file)
{
	int ret;

	if (strcmp(dt_anon_name(file), "kvm-vm"))
		return -EBADF;
	/* A VM answers KVM_CHECK_EXTENSION, and only to its own mm. */
	ret = dt_kvm_ioctl(file, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY);
	return ret < 0 ? ret : 0;
}

/**
 * dt_kvm_vcpu_id() - the vCPU id of a KVM vCPU file
 * @file: the file
 *
 * Return: the id, or -EBADF if @file is not a KVM vCPU file.
 */
int dt_kvm_vcpu_id(struct file *file)
{
	const char *name = dt_anon_name(file);
	unsigned int id;

	if (strncmp(name, "kvm-vcpu:", 9) || kstrtouint(name + 9, 10, &id) ||
	    id > INT_MAX)
		return -EBADF;
	return id;
}
