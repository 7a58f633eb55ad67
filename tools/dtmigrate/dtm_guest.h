/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What dtmigrate and its guest share: the guest's memory layout and the
 * parameter page through which the VMM drives the workload.  Included by
 * the host side and by the freestanding guest program.
 */
#ifndef DTM_GUEST_H
#define DTM_GUEST_H

#define DTM_PAGE		4096ULL
#define DTM_MAX_VCPUS		16

/* The system memslot: GDT, parameters, page tables, code, stacks. */
#define DTM_SYS_GPA		0x0ULL
#define DTM_SYS_SIZE		(2ULL << 20)
#define DTM_GDT_GPA		0x1000ULL
#define DTM_PARAMS_GPA		0x2000ULL
#define DTM_PML4_GPA		0x3000ULL
#define DTM_PDPT_GPA		0x4000ULL
#define DTM_CODE_GPA		0x10000ULL
#define DTM_CODE_MAX		0x60000ULL
#define DTM_STACK_TOP		0x100000ULL	/* vCPU i: - i * DTM_STACK_SIZE */
#define DTM_STACK_SIZE		0x4000ULL
#define DTM_PD_GPA		0x100000ULL	/* one page per GiB mapped */
#define DTM_MAX_GIB		256ULL
/* Guest memory for the workload starts here, in several memslots. */
#define DTM_DATA_GPA		(1ULL << 30)

/* Workloads. */
#define DTM_UNIFORM		0	/* uniformly random pages */
#define DTM_HOT			1	/* random pages of the first hot_pages */
#define DTM_SWEEP		2	/* one page after the other */

/* Commands, from the VMM. */
#define DTM_CMD_RUN		0
#define DTM_CMD_CHECKSUM	1	/* vCPU 0 sums the data, all halt */

struct dtm_params {
	unsigned long long data_gpa;
	unsigned long long data_pages;
	unsigned long long workload;
	unsigned long long hot_pages;
	unsigned long long seed;
	/* TSC cycles between two stores of one vCPU; 0: as fast as it can. */
	unsigned long long cycles_per_store;
	volatile unsigned long long command;
	volatile unsigned long long stores[DTM_MAX_VCPUS];
	volatile unsigned long long checksum;
	volatile unsigned long long checksum_done;
};

#endif /* DTM_GUEST_H */
