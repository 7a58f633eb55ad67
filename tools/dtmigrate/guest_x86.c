// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's guest program on x86_64 (long mode, no firmware): the
 * workload (guest.c) paced by the TSC, then hlt.  The VMM enters _start
 * with the vCPU index in %rdi and the stack set.
 */
#include "guest.h"

u64 dtm_guest_counter(void)
{
	unsigned int lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

void dtm_guest_relax(void)
{
	__asm__ volatile("pause");
}

void __attribute__((noreturn, section(".text.start"))) _start(u64 vcpu)
{
	dtm_guest_run(vcpu);
	for (;;)
		__asm__ volatile("hlt");
}
