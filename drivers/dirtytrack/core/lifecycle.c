// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracker's START and STOP, for both homes: which harvest each makes,
 * and in what order with the IOMMU's tracking.  Called with the tracker's
 * lock held.
 */
#include "dt_iommufd.h"

/**
 * dt_lifecycle_start() - DIRTYTRACK_START: tracking begins, or restarts
 * @lc: the tracker
 * @all_dirty: every page is dirty to begin with
 *
 * A harvest first: what KVM logged before is the round's, not lost.  Then
 * IOMMU tracking is enabled where it is off, which clears its bits: a
 * clean snapshot.  A restart of a sealed tracker (a failed migration)
 * keeps the unclaimed bits, so the next round sends them.
 *
 * Return: 0; -EBUSY while tracking; the harvest's or the enable's error.
 */
int dt_lifecycle_start(const struct dt_lifecycle *lc, bool all_dirty)
{
	int ret;

	ret = dt_state_start(*lc->state);
	if (!ret)
		ret = lc->harvest(lc->ctx, DT_HARVEST_SYNC);
	if (!ret)
		ret = dt_iommu_srcs_start(lc->iommu);
	if (ret)
		return ret;
	if (all_dirty)
		dt_regions_mark_all(lc->rs, true);
	dt_write_once(*lc->state, DT_TRACKING);
	return 0;
}

/**
 * dt_lifecycle_stop() - DIRTYTRACK_STOP: tracking ends
 * @lc: the tracker
 *
 * A last harvest of everything, the backup bitmap too (clearing
 * KVM_MEM_LOG_DIRTY_PAGES drops it), unless sealed: then everything was
 * harvested, and nothing more may be.  IOMMU tracking is turned off where
 * the tracker turned it on.
 *
 * Return: 0; -EINVAL when idle; the harvest's error.
 */
int dt_lifecycle_stop(const struct dt_lifecycle *lc)
{
	int ret;

	ret = dt_state_stop(*lc->state);
	if (!ret && *lc->state != DT_SEALED)
		ret = lc->harvest(lc->ctx, DT_HARVEST_ALL);
	if (ret)
		return ret;
	dt_iommu_srcs_stop(lc->iommu);
	dt_write_once(*lc->state, DT_IDLE);
	return 0;
}
