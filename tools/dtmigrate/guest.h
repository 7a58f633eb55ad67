/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtmigrate's guest program, freestanding: the workload (guest.c) is the
 * same on every architecture; guest_<arch>.c enters it from _start (the
 * VMM sets the stack and passes the vCPU index) and gives it its counter.
 */
#ifndef DTM_GUEST_PROGRAM_H
#define DTM_GUEST_PROGRAM_H

#include "dtm_guest.h"

typedef unsigned long long u64;

/* guest_<arch>.c: the counter the stores are paced by, and a spin hint. */
u64 dtm_guest_counter(void);
void dtm_guest_relax(void);

/*
 * guest.c: store until the VMM's command is no longer DTM_CMD_RUN (and,
 * for DTM_CMD_CHECKSUM, vCPU 0 sums the data area once every vCPU has
 * stopped), then return: the caller ends the program its architecture's
 * way.
 */
void dtm_guest_run(u64 vcpu);

#endif /* DTM_GUEST_PROGRAM_H */
