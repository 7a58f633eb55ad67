// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl convention of every dirtytrack file descriptor, after iommufd:
 * one table per file type, each command a size-prefixed struct copied with
 * copy_struct_from_user() so the ABI can grow in both directions.
 */
#include <linux/uaccess.h>
#include <linux/minmax.h>

#include "dirtytrack_private.h"

/**
 * dt_ioctl_dispatch() - decode one ioctl and run its handler
 * @ops: the file's ioctl table, indexed by _IOC_NR() - DIRTYTRACK_CMD_BASE
 * @nr_ops: its length
 * @ctx: the file's private data, handed to the handler
 * @cmd: the ioctl number
 * @arg: the user pointer to the command's struct
 *
 * Return: the handler's result; -ENOTTY for a command not in @ops, -EFAULT
 * for an unreadable struct, -EINVAL if the caller's size is below the
 * command's minimum, -E2BIG if the struct is larger than the kernel's and
 * the extra bytes are not zero, -EOPNOTSUPP for a flag the command does
 * not know.
 */
long dt_ioctl_dispatch(const struct dt_ioctl_op *ops, size_t nr_ops,
		       void *ctx, unsigned int cmd, unsigned long arg)
{
	struct dt_ucmd ucmd = { .ctx = ctx, .ubuffer = (void __user *)arg };
	const struct dt_ioctl_op *op;
	union dt_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	int ret;

	if (nr < DIRTYTRACK_CMD_BASE || nr - DIRTYTRACK_CMD_BASE >= nr_ops)
		return -ENOTTY;
	op = &ops[nr - DIRTYTRACK_CMD_BASE];
	if (!op->execute || op->ioctl_num != cmd)
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;

	ucmd.cmd = &buf;
	ret = copy_struct_from_user(ucmd.cmd, op->size, ucmd.ubuffer,
				    ucmd.user_size);
	if (ret)
		return ret;
	/* Unknown flags are refused, never ignored: the same for every op. */
	if (((u32 *)ucmd.cmd)[1] & ~op->flags)
		return -EOPNOTSUPP;
	return op->execute(&ucmd);
}

/**
 * dt_ucmd_respond() - copy a command's output back to the caller
 * @ucmd: the decoded call
 * @cmd_len: the kernel's struct size
 *
 * Writes no more than the caller's @ucmd->user_size bytes.
 *
 * Return: 0, or -EFAULT.
 */
int dt_ucmd_respond(struct dt_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

/**
 * dt_ucmd_respond_fd() - copy a command's output back, then install its fd
 * @ucmd: the decoded call, whose output names @nf's fd
 * @cmd_len: the kernel's struct size
 * @nf: the new file: installed if the reply landed, dropped if it faulted
 *
 * An fd installed before a reply that faults is one the VMM cannot know
 * of, and so can never close; iommufd orders it the same way.
 *
 * Return: 0, or -EFAULT.
 */
int dt_ucmd_respond_fd(struct dt_ucmd *ucmd, size_t cmd_len,
		       struct dt_new_file *nf)
{
	int ret = dt_ucmd_respond(ucmd, cmd_len);

	if (ret)
		dt_file_abort(nf);
	else
		dt_file_commit(nf);
	return ret;
}
