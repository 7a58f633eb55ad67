// SPDX-License-Identifier: GPL-2.0
/*
 * Test hooks: knobs in debugfs (dirtytrack/) that the selftests turn to
 * make the module or the kernel misbehave on purpose.  Compiled only into
 * the test build (DT_TEST_HOOKS=y, which the test guests load); the module
 * built for users (make, make modules_install, dkms) has none of this.
 *
 *  - warn: writing 1 raises a WARN_ON_ONCE(), so that the guest runner can
 *    show that a kernel warning fails the guest it happens in;
 *  - reset_partial: the next this-many KVM_RESET_DIRTY_RINGS calls stop
 *    early, as a 6.17+ KVM stopped by a signal does (core/ring.c): the
 *    second half (rounded up) of the marks of the last ring that has any
 *    is made DIRTY again just before the call, so KVM's reset stops in
 *    front of them, and RESET again after it, which KVM left them as; the
 *    call counts as stopped on a signal.  A count above the harvest's
 *    limit of calls makes the sync fail (EAGAIN);
 *  - reset_unblocked: KVM_RESET_DIRTY_RINGS is issued with signals
 *    unblocked, so that a 6.17+ KVM stops on them for real (signal_test).
 */
#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>

#include "dirtytrack_private.h"

static struct dentry *dt_test_dir;
static atomic_t dt_reset_partial = ATOMIC_INIT(0);
static bool dt_reset_unblocked;

bool dt_test_reset_unblocked(void)
{
	return READ_ONCE(dt_reset_unblocked);
}

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

static struct kvm_dirty_gfn *dt_test_gfn(struct dt_ring *r, u32 i)
{
	return &r->gfns[i & (r->size - 1)];
}

/* One call of the knob's count: take it, unless it is 0. */
static bool dt_test_take(atomic_t *count)
{
	return atomic_add_unless(count, -1, 0);
}

void dt_test_reset_partial_begin(struct dt_tracker *t,
				 struct dt_test_hidden *hid)
{
	u32 i, k;

	if (!atomic_read(&dt_reset_partial))
		return;
	for (i = t->nr_rings; i-- > 0;) {
		struct dt_ring *r = &t->rings[i]->ring;

		if (!r->unreset)
			continue;
		if (!dt_test_take(&dt_reset_partial))
			return;
		hid->ring = r;
		hid->n = (r->unreset + 1) / 2;
		hid->from = r->fetch - hid->n;
		for (k = 0; k < hid->n; k++) {
			/* Pairs with KVM's acquire of the flags in its reset. */
			smp_store_release(&dt_test_gfn(r, hid->from + k)->flags,
					  KVM_DIRTY_GFN_F_DIRTY);
		}
		return;
	}
}

bool dt_test_reset_partial_end(struct dt_test_hidden *hid)
{
	struct dt_ring *r = hid->ring;
	u32 k;

	if (!r)
		return false;
	for (k = 0; k < hid->n; k++) {
		/* Pairs with the next reset's acquire, as a walk's marks do. */
		smp_store_release(&dt_test_gfn(r, hid->from + k)->flags,
				  KVM_DIRTY_GFN_F_RESET);
	}
	return true;
}

void dt_test_hooks_init(void)
{
	/* debugfs errors are not the module's to handle: a missing knob fails its test. */
	dt_test_dir = debugfs_create_dir("dirtytrack", NULL);
	debugfs_create_file("warn", 0200, dt_test_dir, NULL, &dt_test_warn_fops);
	debugfs_create_atomic_t("reset_partial", 0600, dt_test_dir,
				&dt_reset_partial);
	debugfs_create_bool("reset_unblocked", 0600, dt_test_dir,
			    &dt_reset_unblocked);
}

void dt_test_hooks_exit(void)
{
	debugfs_remove_recursive(dt_test_dir);
}
