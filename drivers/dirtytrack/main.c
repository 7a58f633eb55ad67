// SPDX-License-Identifier: GPL-2.0
/*
 * dirtytrack: the /dev/dirtytrack misc device, its ioctl table and the
 * module's lifecycle.
 *
 * See Documentation/userspace-api/dirtytrack.rst for the interface.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "dirtytrack_private.h"

#ifdef DT_HAVE_NETLINK
#define DT_FEATURE_NETLINK	DIRTYTRACK_FEATURE_NETLINK
#else
#define DT_FEATURE_NETLINK	0
#endif

#define DT_FEATURES_SUPPORTED (DIRTYTRACK_FEATURE_TRACKER | \
			       DIRTYTRACK_FEATURE_KVM_RING | \
			       DIRTYTRACK_FEATURE_MMAP | \
			       DIRTYTRACK_FEATURE_KVM_BITMAP | \
			       DIRTYTRACK_FEATURE_FINAL_SYNC | \
			       DIRTYTRACK_FEATURE_VMM_LOG | \
			       DIRTYTRACK_FEATURE_REGION_REMOVE_CLAIM | \
			       DIRTYTRACK_FEATURE_IOMMU | \
			       DIRTYTRACK_FEATURE_RING_RESET | \
			       DT_FEATURE_NETLINK)

static int dt_get_info(struct dt_ucmd *ucmd)
{
	struct dirtytrack_info *cmd = ucmd->cmd;

	cmd->api_version = DIRTYTRACK_API_VERSION;
	cmd->page_shift = PAGE_SHIFT;
	cmd->features = DT_FEATURES_SUPPORTED;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static const struct dt_ioctl_op dt_dev_ioctl_ops[] = {
	DT_IOCTL_OP(GET_INFO, dt_get_info, struct dirtytrack_info,
		    features, 0),
	DT_IOCTL_OP(CREATE, dt_tracker_create, struct dirtytrack_create,
		    out_tracker_fd, 0),
};

static long dt_dev_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	return dt_ioctl_dispatch(dt_dev_ioctl_ops,
				 ARRAY_SIZE(dt_dev_ioctl_ops),
				 filp->private_data, cmd, arg);
}

static const struct file_operations dt_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dt_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice dt_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "dirtytrack",
	.fops = &dt_dev_fops,
	.mode = 0660,
};

static int __init dt_init(void)
{
	int ret = dt_fs_init();

	if (ret)
		return ret;
	ret = dt_nl_init();
	if (ret)
		goto err_fs;
	ret = misc_register(&dt_misc_dev);
	if (ret)
		goto err_nl;
	dt_test_hooks_init();
	return 0;

err_nl:
	dt_nl_exit();
err_fs:
	dt_fs_exit();
	return ret;
}

/* No tracker is left (each holds the module): the scan is not queued again. */
static void __exit dt_exit(void)
{
	dt_test_hooks_exit();
	misc_deregister(&dt_misc_dev);
	dt_ring_scan_exit();
	dt_nl_exit();
	dt_fs_exit();
}

module_init(dt_init);
module_exit(dt_exit);

MODULE_DESCRIPTION("dirtytrack: merged dirty page tracking for VM live migration");
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The dirtytrack developers");
MODULE_VERSION("0.1");
