// SPDX-License-Identifier: GPL-2.0
/*
 * dtmigrate's guest program on arm64 (EL1, MMU on, no firmware): the
 * workload (guest.c) paced by the virtual counter, then an MMIO store to
 * DTM_DONE_GPA.  The VMM enters _start with the vCPU index in x0, SP_EL1
 * set and the translation tables of dtm_arch_load() in TTBR0_EL1.
 */
#include "guest.h"

u64 dtm_guest_counter(void)
{
	u64 cnt;

	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(cnt));
	return cnt;
}

void dtm_guest_relax(void)
{
	__asm__ volatile("yield");
}

/*
 * Not wfi: it would block inside KVM_RUN and never reach the VMM.  The
 * store exits to the VMM as KVM_EXIT_MMIO; should it enter KVM_RUN again,
 * KVM completes the store, steps over it, and the loop exits once more.
 */
void __attribute__((noreturn, section(".text.start"))) _start(u64 vcpu)
{
	dtm_guest_run(vcpu);
	for (;;)
		*(volatile u64 *)DTM_DONE_GPA = vcpu;
}
