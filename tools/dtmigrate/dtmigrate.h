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
#include "dtvm.h"

struct dtm_config {
	int vcpus;
	uint64_t mem_mib;
	int slots;
	int hotplug_slots;		/* memslots added mid-migration */
	unsigned int workload;
	double hot_fraction;
	uint64_t rate;			/* pages/s over all vCPUs; 0: flat out */
	uint32_t ring_entries;		/* 0: the plain bitmap, no ring */
	uint64_t threshold;		/* pages left that end precopy */
	int max_rounds;
	int warmup_ms;
	int run_after_ms;
	uint64_t seed;
	unsigned int its;		/* arm64: ITS collections; 0: no vGIC */
	const char *backend;
	const char *format;		/* table, csv, json */
	int hotplug_round;		/* add a memslot before it; 0: never */
	bool rollback;			/* fail the first stop phase */
	int reap_ms;			/* reaper period; 0: no reaper */
	unsigned int reap_fill;		/* percent of a ring that is reaped */
	bool drop_page;			/* fault injection (test builds) */
};

struct dtm_vm;

struct dtm_vcpu {
	struct dtm_vm *vm;
	int index;
	uint32_t kvm_id;		/* KVM's vCPU id, for the tracker */
	struct dtvm_vcpu vc;
	pthread_t thread;
	bool running;
	bool exited;			/* its thread returned (atomic) */
	unsigned long ring_full;
};

struct dtm_vm {
	const struct dtm_config *cfg;
	bool source;
	int fd;
	uint8_t *sys;			/* the system memslot */
	uint8_t *data;			/* the data memslots, contiguous here */
	uint64_t data_bytes;		/* in memslots now */
	uint64_t data_max;		/* mapped, hotplug included */
	uint64_t slot_bytes;
	int nr_slots;			/* data memslots */
	bool ring_with_bitmap;		/* KVM also keeps a backup bitmap */
	struct dtm_vcpu vcpu[DTM_MAX_VCPUS];
	struct dirtytrack_tracker *tracker;	/* source only */
	struct dtm_arch_vm *arch;
	volatile int stop;
	volatile int error;		/* a vCPU's or the reaper's error, -errno */
	volatile int error_vcpu;	/* the vCPU whose ring stays full */
	pthread_t reaper;
	volatile int reaper_stop;
	bool reaping;
	uint64_t reaped;		/* entries the reaper harvested */
	volatile unsigned int bad_exit;
	volatile uint64_t bad_addr;	/* its MMIO address, if any */
	uint64_t drop_gpa;		/* --drop-page: the page planted */
	bool dropped;			/* and left out of a copy */
};

/* vm.c: the VMs, their memslots and vCPUs. */
int dtm_vm_create(struct dtm_vm *vm, const struct dtm_config *cfg, bool source);
void dtm_vm_destroy(struct dtm_vm *vm);
int dtm_vm_add_slot(struct dtm_vm *vm);

/* The bytes of one vCPU's dirty ring. */
static inline uint64_t dtm_ring_bytes(const struct dtm_config *cfg)
{
	return dtvm_ring_bytes(cfg->ring_entries);
}

/*
 * arch_*.c: what differs between x86_64 and arm64, called in this order:
 *  - check: the options, before anything is created (0, or -EINVAL after
 *    saying why on stderr);
 *  - vm_init: after KVM_CREATE_VM, before any memslot (the ring's caps);
 *  - load (source): page tables and the like, into the system memslot,
 *    once the guest program is there;
 *  - vcpu_init: after each KVM_CREATE_VCPU (source: the entry state);
 *  - vm_ready: after the last vCPU (arm64: the vGIC);
 *  - save_devices: stop phase, between the final sync's two halves;
 *  - vcpu_transfer: source to destination, both stopped;
 *  - destroy: before the VM's fd is closed.
 */
int dtm_arch_check(const struct dtm_config *cfg);
int dtm_arch_vm_init(struct dtm_vm *vm);
void dtm_arch_load(struct dtm_vm *vm);
int dtm_arch_vcpu_init(struct dtm_vm *vm, int i);
int dtm_arch_vm_ready(struct dtm_vm *vm);
int dtm_arch_save_devices(struct dtm_vm *vm);
int dtm_arch_vcpu_transfer(struct dtm_vcpu *from, struct dtm_vcpu *to);
void dtm_arch_destroy(struct dtm_vm *vm);
/* The rate of the counter the guest paces its stores by. */
uint64_t dtm_arch_counter_hz(struct dtm_vm *vm);
/* Did the vCPU stop where the guest program ends? */
bool dtm_arch_vcpu_done(struct dtm_vcpu *v);

static inline struct dtm_params *dtm_params(struct dtm_vm *vm)
{
	return (struct dtm_params *)(vm->sys + DTM_PARAMS_GPA);
}

#endif /* DTMIGRATE_H */
