// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracker's operations that harvest, for both homes: which harvest
 * each makes, what the state machine allows first and where it leads
 * after, and in what order with the IOMMU's tracking.  Called with the
 * tracker's lock held.
 */
#include "dt_harvest.h"

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
	struct dt_harvest h = { .kind = DT_HARVEST_SYNC };
	int ret;

	ret = dt_state_start(*lc->state);
	if (!ret)
		ret = lc->harvest(lc->ctx, &h);
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
	struct dt_harvest h = { .kind = DT_HARVEST_ALL };
	int ret;

	ret = dt_state_stop(*lc->state);
	if (!ret && *lc->state != DT_SEALED)
		ret = lc->harvest(lc->ctx, &h);
	if (ret)
		return ret;
	dt_iommu_srcs_stop(lc->iommu);
	dt_write_once(*lc->state, DT_IDLE);
	return 0;
}

/**
 * dt_lifecycle_sync() - DIRTYTRACK_SYNC, of one phase
 * @lc: the tracker
 * @phase: precopy, or the final sync's first or second half
 * @h: the harvest; its kind is set here, its figures are the sync's
 *
 * A precopy sync and FINAL_BEGIN harvest every source but the backup
 * bitmap; FINAL_END harvests every source, the backup bitmap last (rule
 * backup-bitmap-last), and seals the tracker.
 *
 * Return: 0; -EBUSY or -EINVAL for a phase the state does not allow
 * (core/state.c); the harvest's error, the state unchanged.
 */
int dt_lifecycle_sync(const struct dt_lifecycle *lc, enum dt_sync_phase phase,
		      struct dt_harvest *h)
{
	int ret;

	h->kind = phase == DT_PHASE_FINAL_END ? DT_HARVEST_ALL :
						DT_HARVEST_SYNC;
	ret = dt_state_sync(*lc->state, phase);
	if (!ret)
		ret = lc->harvest(lc->ctx, h);
	if (!ret)
		dt_write_once(*lc->state, dt_state_synced(*lc->state, phase));
	return ret;
}

/**
 * dt_lifecycle_harvest() - a harvest an operation makes on its way
 * @lc: the tracker
 * @h: the harvest (a vCPU's ring, a region's removal)
 *
 * Nothing may be harvested between FINAL_BEGIN and FINAL_END but by
 * FINAL_END, and nothing after it until a restart: a vCPU that runs, or a
 * memslot that changes, during the final sync broke its precondition.
 *
 * Return: 0; -EBUSY then; the harvest's error.
 */
int dt_lifecycle_harvest(const struct dt_lifecycle *lc, struct dt_harvest *h)
{
	int ret = dt_state_may_harvest(*lc->state);

	return ret ? ret : lc->harvest(lc->ctx, h);
}

/**
 * dt_lifecycle_move() - a region's memslot is about to move
 * @lc: the tracker
 * @r: the region
 * @new_first_gfn: where it goes (checked by the caller)
 *
 * Rule reap-before-memslot-change: every ring entry is read against the
 * old place first.  The region keeps its bits: they are slot-relative.
 *
 * Return: 0, or dt_lifecycle_harvest()'s error with the region in place.
 */
int dt_lifecycle_move(const struct dt_lifecycle *lc, struct dt_region *r,
		      u64 new_first_gfn)
{
	struct dt_harvest h = { .kind = DT_HARVEST_SYNC };
	int ret = dt_lifecycle_harvest(lc, &h);

	if (!ret)
		dt_region_moved(r, new_first_gfn);
	return ret;
}
