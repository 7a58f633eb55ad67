// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The tracker's state machine: which call each state allows, and where a
 * sync leads.  Shared by the module and libdirtytrack's user backend, so
 * both refuse a call out of order with the same errno.
 */
#include "dt_core.h"

/*
 * Nothing may be harvested between FINAL_BEGIN and FINAL_END but by
 * FINAL_END, and nothing after it until a restart.
 */
int dt_state_may_harvest(enum dt_state s)
{
	return s == DT_FINAL || s == DT_SEALED ? -EBUSY : 0;
}

int dt_state_sync(enum dt_state s, enum dt_sync_phase p)
{
	switch (p) {
	case DT_PHASE_PRECOPY:
		return dt_state_may_harvest(s);
	case DT_PHASE_FINAL_BEGIN:
		if (dt_state_may_harvest(s))
			return -EBUSY;
		/* The final sync ends a tracking period. */
		return s == DT_TRACKING ? 0 : -EINVAL;
	case DT_PHASE_FINAL_END:
		if (s == DT_SEALED)
			return -EBUSY;
		return s == DT_FINAL ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Where a sync that dt_state_sync() allowed, and that succeeded, leads. */
enum dt_state dt_state_synced(enum dt_state s, enum dt_sync_phase p)
{
	if (p == DT_PHASE_FINAL_BEGIN)
		return DT_FINAL;
	if (p == DT_PHASE_FINAL_END)
		return DT_SEALED;
	return s;
}

/* START begins tracking, or restarts a sealed tracker. */
int dt_state_start(enum dt_state s)
{
	return s == DT_TRACKING || s == DT_FINAL ? -EBUSY : 0;
}

int dt_state_stop(enum dt_state s)
{
	return s == DT_IDLE ? -EINVAL : 0;
}
