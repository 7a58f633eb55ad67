/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What dtmigrate and its guest share: the guest's memory layout and the
 * parameter page through which the VMM drives the workload.  Included by
 * the host side and by the freestanding guest programs.
 */
#ifndef DTM_GUEST_H
#define DTM_GUEST_H

#define DTM_PAGE		4096ULL
#define DTM_MAX_VCPUS		16

/*
 * The system memslot: parameters, page tables, code, stacks.  The same
 * on both architectures; each uses the parts it needs.
 */
#define DTM_SYS_GPA		0x0ULL
#define DTM_SYS_SIZE		(2ULL << 20)
#define DTM_GDT_GPA		0x1000ULL	/* x86_64 */
#define DTM_PARAMS_GPA		0x2000ULL
#define DTM_PML4_GPA		0x3000ULL	/* x86_64 PML4, arm64 level 0 */
#define DTM_PDPT_GPA		0x4000ULL	/* x86_64 PDPT, arm64 level 1 */
#define DTM_VECTORS_GPA		0x8000ULL	/* arm64 VBAR_EL1, 2 KiB */
#define DTM_CODE_GPA		0x10000ULL
#define DTM_CODE_MAX		0x60000ULL
#define DTM_STACK_TOP		0x100000ULL	/* vCPU i: - i * DTM_STACK_SIZE */
#define DTM_STACK_SIZE		0x4000ULL
/* x86_64: a page per GiB mapped; arm64: GiB 0's level-2 table only. */
#define DTM_PD_GPA		0x100000ULL
#define DTM_MAX_GIB		256ULL
/*
 * arm64 --its: the ITS collection table, which only the ITS's table save
 * writes, 64 KiB aligned as the ITS requires; in the PD area's part that
 * arm64 leaves free (it maps GiB 0 with the first PD page, the others
 * with 1 GiB blocks).
 */
#define DTM_ITS_TABLE_GPA	0x180000ULL
#define DTM_ITS_TABLE_SIZE	0x80000ULL
/*
 * Guest memory for the workload starts here, in several memslots (and
 * the hotplugged ones after them): at 4 GiB, clear of the x86 32-bit
 * hole, where the local APIC (0xfee00000) and the VMX TSS KVM_SET_TSS_ADDR
 * places (0xfffbd000) would shadow pages of a memslot.
 */
#define DTM_DATA_GPA		(4ULL << 30)

/*
 * arm64: MMIO outside every memslot (and clear of the vGIC's frames at
 * 0x08000000), mapped as Device memory.  The program ends storing its
 * vCPU index to DTM_DONE_GPA (wfi would block inside KVM_RUN); an
 * exception stores ESR_EL1 to DTM_FAULT_GPA + 8 * its vector's number
 * (0-15, in the order of the vector table), so it ends the run visibly
 * instead of hanging.
 */
#define DTM_MMIO_GPA		0x20000000ULL	/* one 2 MiB block */
#define DTM_DONE_GPA		DTM_MMIO_GPA
#define DTM_FAULT_GPA		(DTM_MMIO_GPA + 0x1000)

/* Workloads. */
#define DTM_UNIFORM		0	/* uniformly random pages */
#define DTM_HOT			1	/* random pages of the first hot_pages */
#define DTM_SWEEP		2	/* one page after the other */

/* Commands, from the VMM. */
#define DTM_CMD_RUN		0
#define DTM_CMD_CHECKSUM	1	/* all stop storing, vCPU 0 sums */

struct dtm_params {
	unsigned long long data_gpa;
	/* Grows when memory is hotplugged; the workload reads it each store. */
	volatile unsigned long long data_pages;
	unsigned long long workload;
	unsigned long long hot_pages;
	unsigned long long seed;
	unsigned long long vcpus;
	/* Counter ticks between two stores of one vCPU; 0: flat out. */
	unsigned long long ticks_per_store;
	volatile unsigned long long command;
	volatile unsigned long long stores[DTM_MAX_VCPUS];
	/* vCPUs out of the workload's loop: vCPU 0 sums once all are. */
	volatile unsigned long long stopped;
	volatile unsigned long long checksum;
	volatile unsigned long long checksum_done;
};

/*
 * The data area's checksum, as the guest computes it on the destination
 * and the VMM checks it: per page, the words the workload writes (vCPU i
 * writes word i) and the last one, weighted by their place.  A sample,
 * not every word: it shows the guest reads on the destination the memory
 * the VMM copied there (the byte-for-byte comparison is the VMM's), at a
 * cost that stays small where KVM emulates the guest's instructions.
 */
static inline unsigned long long
dtm_checksum(const volatile unsigned long long *w, unsigned long long pages,
	     unsigned long long vcpus)
{
	const unsigned long long wpp = DTM_PAGE / 8;
	unsigned long long p, i, sum = 0;

	for (p = 0; p < pages; p++, w += wpp) {
		for (i = 0; i < vcpus; i++)
			sum += w[i] * (p * wpp + i + 1);
		sum += w[wpp - 1] * (p * wpp + wpp);
	}
	return sum;
}

#endif /* DTM_GUEST_H */
