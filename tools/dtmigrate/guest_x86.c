// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's guest program (x86_64, long mode, no firmware): every vCPU
 * stores an increasing counter into pages of the data area, picked by the
 * workload, at the rate the VMM asked; on DTM_CMD_CHECKSUM vCPU 0 sums
 * the data area (dtm_checksum()) and every vCPU halts.  Built
 * freestanding and loaded at DTM_CODE_GPA; the VMM enters _start with the
 * vCPU index in %rdi and the stack set.
 */
#include "dtm_guest.h"

typedef unsigned long long u64;

static inline u64 rdtsc(void)
{
	unsigned int lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline u64 xorshift(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void __attribute__((noreturn, section(".text.start"))) _start(u64 vcpu)
{
	struct dtm_params *p = (struct dtm_params *)DTM_PARAMS_GPA;
	u64 seed = p->seed * (vcpu + 1) + 0x9e3779b97f4a7c15ULL;
	u64 page = vcpu, count = p->stores[vcpu], next = rdtsc();

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
			while (rdtsc() < next)
				__asm__ volatile("pause");
		}
	}
	__atomic_fetch_add(&p->stopped, 1, __ATOMIC_SEQ_CST);
	if (vcpu == 0 && p->command == DTM_CMD_CHECKSUM) {
		/* Not before every store has landed. */
		while (p->stopped < p->vcpus)
			__asm__ volatile("pause");
		p->checksum = dtm_checksum((volatile u64 *)p->data_gpa,
					   p->data_pages, p->vcpus);
		p->checksum_done = 1;
	}
	for (;;)
		__asm__ volatile("hlt");
}
