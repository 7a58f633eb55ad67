// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's guest workload, the same on every architecture: every vCPU
 * stores an increasing counter into pages of the data area, picked by the
 * workload, at the rate the VMM asked; on DTM_CMD_CHECKSUM every vCPU
 * stops storing and vCPU 0, once all have, sums the data area
 * (dtm_checksum()).
 */
#include "guest.h"

static inline u64 xorshift(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void dtm_guest_run(u64 vcpu)
{
	struct dtm_params *p = (struct dtm_params *)DTM_PARAMS_GPA;
	u64 seed = p->seed * (vcpu + 1) + 0x9e3779b97f4a7c15ULL;
	u64 page = vcpu, count = p->stores[vcpu], next = dtm_guest_counter();

	while (p->command == DTM_CMD_RUN) {
		/* Read each time: hotplugged memory joins the workload. */
		u64 pages = p->data_pages;
		volatile u64 *w;

		if (p->workload == DTM_SWEEP)
			page = (page + 1) % pages;
		else
			page = xorshift(&seed) %
			       (p->workload == DTM_HOT ? p->hot_pages : pages);
		w = (volatile u64 *)(p->data_gpa + page * DTM_PAGE) + vcpu;
		*w = ++count;
		p->stores[vcpu] = count;
		if (p->ticks_per_store) {
			next += p->ticks_per_store;
			while (dtm_guest_counter() < next)
				dtm_guest_relax();
		}
	}
	__atomic_fetch_add(&p->stopped, 1, __ATOMIC_SEQ_CST);
	if (vcpu == 0 && p->command == DTM_CMD_CHECKSUM) {
		/*
		 * Not before every store has landed: the acquire pairs with
		 * each vCPU's increment, which follows its last store (arm64
		 * would otherwise let the sum's loads pass the count's).
		 */
		while (__atomic_load_n(&p->stopped, __ATOMIC_ACQUIRE) < p->vcpus)
			dtm_guest_relax();
		p->checksum = dtm_checksum((volatile u64 *)p->data_gpa,
					   p->data_pages, p->vcpus);
		p->checksum_done = 1;
	}
}
