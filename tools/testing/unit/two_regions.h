/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The iommu tests' guest: two regions of address space 0, frames
 * [0, 256) and [1024, 1280), with their pending and merged sets.
 */
#ifndef DT_TWO_REGIONS_H
#define DT_TWO_REGIONS_H

#include <string.h>

#include "dt_core.h"

#define TWO_NPAGES	256

struct two_regions {
	u64 words[2][2][TWO_NPAGES / 64], sum[2][2][1];
	struct dt_region r[2];
	struct dt_regions rs;
};

static inline void two_regions_init(struct two_regions *w)
{
	int i;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < 2; i++) {
		w->r[i].slot = (struct dt_slot){ DT_SLOT(0, i), TWO_NPAGES,
						 &w->r[i].pending };
		w->r[i].first_gfn = i * 1024;
		w->r[i].pending = (struct dt_bitmap){ w->words[i][0],
						      w->sum[i][0], TWO_NPAGES };
		w->r[i].merged = (struct dt_bitmap){ w->words[i][1],
						     w->sum[i][1], TWO_NPAGES };
		dt_regions_link(&w->rs, i, &w->r[i]);
	}
}

/* Is page @page of region @i pending? */
static inline bool two_regions_pending(const struct two_regions *w, int i,
				       u64 page)
{
	return w->words[i][0][page / 64] >> (page % 64) & 1;
}

#endif /* DT_TWO_REGIONS_H */
