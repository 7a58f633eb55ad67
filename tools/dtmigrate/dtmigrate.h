/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtmigrate: a small VMM that live-migrates its guest, through
 * libdirtytrack, to a second VM in the same process, and proves byte for
 * byte that nothing was lost.
 */
#ifndef DTMIGRATE_H
#define DTMIGRATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <linux/kvm.h>

#include "dtm_guest.h"

struct dtm_config {
	int vcpus;
	uint64_t mem_mib;
	int slots;
	unsigned int workload;
	double hot_fraction;
	uint64_t rate;			/* pages/s over all vCPUs; 0: flat out */
	uint32_t ring_entries;		/* 0: the plain bitmap, no ring */
	uint64_t threshold;		/* pages left that end precopy */
	int max_rounds;
	int warmup_ms;
	int run_after_ms;
	uint64_t seed;
	const char *backend;
	const char *format;		/* table, csv, json */
};

struct dtm_vm;

struct dtm_vcpu {
	struct dtm_vm *vm;
	int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool running;
	unsigned long ring_full;
};

struct dtm_vm {
	const struct dtm_config *cfg;
	int fd;
	uint8_t *sys;			/* the system memslot */
	uint8_t *data;			/* the data memslots, contiguous here */
	uint64_t data_bytes;
	uint64_t slot_bytes;
	int run_size;
	struct dtm_vcpu vcpu[DTM_MAX_VCPUS];
	struct dirtytrack_tracker *tracker;	/* source only */
	volatile int stop;
	volatile int error;		/* the first vCPU error, -errno */
	volatile unsigned int bad_exit;
};

/* vm_x86.c (the architecture's part) */
int dtm_vm_create(struct dtm_vm *vm, const struct dtm_config *cfg, bool source);
void dtm_vm_destroy(struct dtm_vm *vm);
int dtm_vcpu_transfer(struct dtm_vcpu *from, struct dtm_vcpu *to);
uint64_t dtm_tsc_hz(struct dtm_vm *vm);
bool dtm_vcpu_halted(struct dtm_vcpu *v);

static inline struct dtm_params *dtm_params(struct dtm_vm *vm)
{
	return (struct dtm_params *)(vm->sys + DTM_PARAMS_GPA);
}

#endif /* DTMIGRATE_H */
