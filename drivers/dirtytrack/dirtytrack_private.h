/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dirtytrack: the private map of the module.  One file per kind of object;
 * this header says which file owns what.
 */
#ifndef _DIRTYTRACK_PRIVATE_H
#define _DIRTYTRACK_PRIVATE_H

#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/build_bug.h>
#include <uapi/linux/dirtytrack.h>

/*
 * ioctl.c: the size-prefixed ioctl convention shared by every dirtytrack
 * file descriptor.
 */

/**
 * struct dt_ucmd - one decoded ioctl call
 * @ctx: the file's private data
 * @ubuffer: the caller's struct
 * @user_size: the size the caller claims for it (its first u32)
 * @cmd: the kernel copy, zero-extended to the kernel's struct size
 */
struct dt_ucmd {
	void *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

/**
 * struct dt_ioctl_op - one row of an ioctl table
 * @size: the kernel's struct size
 * @min_size: the smallest size a caller may pass
 * @ioctl_num: the full ioctl number, checked against the caller's
 * @execute: the handler
 */
struct dt_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct dt_ucmd *ucmd);
};

/* Large enough for any dirtytrack ioctl struct: checked by DT_IOCTL_OP. */
union dt_ucmd_buffer {
	struct dirtytrack_info info;
};

/*
 * One table row for DIRTYTRACK_<_cmd>: DT_IOCTL_OP(GET_INFO, fn, struct
 * dirtytrack_info, features) accepts callers whose struct reaches at least
 * to @_last.
 */
#define DT_IOCTL_OP(_cmd, _fn, _struct, _last)				\
	[DIRTYTRACK_CMD_##_cmd - DIRTYTRACK_CMD_BASE] = {		\
		.size = sizeof(_struct) +					\
			BUILD_BUG_ON_ZERO(sizeof(union dt_ucmd_buffer) <	\
					  sizeof(_struct)),			\
		.min_size = offsetofend(_struct, _last),			\
		.ioctl_num = DIRTYTRACK_##_cmd,					\
		.execute = _fn,							\
	}

long dt_ioctl_dispatch(const struct dt_ioctl_op *ops, size_t nr_ops,
		       void *ctx, unsigned int cmd, unsigned long arg);
int dt_ucmd_respond(struct dt_ucmd *ucmd, size_t cmd_len);

#endif /* _DIRTYTRACK_PRIVATE_H */
