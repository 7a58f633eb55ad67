// SPDX-License-Identifier: GPL-2.0
/*
 * KVM tells nobody that a dirty ring is filling up until the vCPU exits
 * with KVM_EXIT_DIRTY_RING_FULL.  While any tracker is tracking, one
 * delayed work looks at every attached ring's fill level every
 * ring_scan_ms, and raises a ring-fill event when a ring crosses
 * ring_fill_threshold percent.  The scan reads the pinned rings only (a
 * binary search, log2(entries) reads each; a ring not yet found by a
 * harvest is read whole) and takes no tracker's lock,
 * so it never delays a sync; it stops when no tracker is tracking.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "dirtytrack_private.h"

static int dt_scan_ms_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 10, 10000);
}

static int dt_threshold_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, 100);
}

static const struct kernel_param_ops dt_scan_ms_ops = {
	.set = dt_scan_ms_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops dt_threshold_ops = {
	.set = dt_threshold_set,
	.get = param_get_uint,
};

static unsigned int ring_scan_ms = 100;
module_param_cb(ring_scan_ms, &dt_scan_ms_ops, &ring_scan_ms, 0644);
MODULE_PARM_DESC(ring_scan_ms,
		 "Milliseconds between scans of the dirty rings' fill level (10-10000)");

static unsigned int ring_fill_threshold = 75;
module_param_cb(ring_fill_threshold, &dt_threshold_ops, &ring_fill_threshold,
		0644);
MODULE_PARM_DESC(ring_fill_threshold,
		 "Ring fill, in percent of its entries, that raises a ring-fill event (1-100)");

static void dt_ring_scan_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(dt_ring_scan_work, dt_ring_scan_fn);

/* One ring: its fill, and an event on each rise above the threshold. */
static void dt_ring_scan_one(struct dt_tracker *t, struct dt_ring_source *rs,
			     unsigned int threshold)
{
	u32 fill = dt_ring_fill(&rs->ring);
	u32 limit = DIV_ROUND_UP((u64)rs->ring.size * threshold, 100);

	WRITE_ONCE(rs->fill, fill);
	if (fill > rs->fill_max)
		WRITE_ONCE(rs->fill_max, fill);
	if (fill < limit) {
		rs->above = false;
		return;
	}
	if (rs->above)
		return;
	rs->above = true;
	WRITE_ONCE(rs->fill_events, rs->fill_events + 1);
	dt_nl_notify_ring_fill(t, rs, fill, threshold);
}

static void dt_ring_scan_fn(struct work_struct *work)
{
	unsigned int threshold = READ_ONCE(ring_fill_threshold);
	struct dt_tracker *t;
	unsigned long id;
	bool again = false;

	mutex_lock(&dt_trackers_lock);
	xa_for_each(&dt_trackers, id, t) {
		/* Rings are only added: the first n stay while listed. */
		u32 n = smp_load_acquire(&t->nr_rings), i;

		if (READ_ONCE(t->state) != DT_TRACKING || !n)
			continue;
		again = true;
		for (i = 0; i < n; i++)
			dt_ring_scan_one(t, t->rings[i], threshold);
	}
	mutex_unlock(&dt_trackers_lock);
	if (again)
		dt_ring_scan_kick();
}

/* A tracker may track rings now: scan (a no-op if a scan is queued). */
void dt_ring_scan_kick(void)
{
	queue_delayed_work(system_wq, &dt_ring_scan_work,
			   msecs_to_jiffies(READ_ONCE(ring_scan_ms)));
}

void dt_ring_scan_exit(void)
{
	cancel_delayed_work_sync(&dt_ring_scan_work);
}
