// SPDX-License-Identifier: GPL-2.0
/*
 * Test hooks: knobs in debugfs (dirtytrack/) that the selftests turn to
 * make the module or the kernel misbehave on purpose.  Compiled only into
 * the test build (DT_TEST_HOOKS=y, which the test guests load); the module
 * built for users (make, make modules_install, dkms) has none of this.
 *
 *  - warn: writing 1 raises a WARN_ON_ONCE(), so that the guest runner can
 *    show that a kernel warning fails the guest it happens in.
 */
#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>

#include "dirtytrack_private.h"

static struct dentry *dt_test_dir;

static ssize_t dt_test_warn_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	bool warn;
	int ret;

	ret = kstrtobool_from_user(ubuf, len, &warn);
	if (ret)
		return ret;
	WARN_ON_ONCE(warn);
	return len;
}

static const struct file_operations dt_test_warn_fops = {
	.owner = THIS_MODULE,
	.write = dt_test_warn_write,
	.llseek = noop_llseek,
};

void dt_test_hooks_init(void)
{
	/* debugfs errors are not the module's to handle: a missing knob fails its test. */
	dt_test_dir = debugfs_create_dir("dirtytrack", NULL);
	debugfs_create_file("warn", 0200, dt_test_dir, NULL, &dt_test_warn_fops);
}

void dt_test_hooks_exit(void)
{
	debugfs_remove_recursive(dt_test_dir);
}
