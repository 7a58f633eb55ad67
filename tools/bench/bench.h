/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtbench: what libdirtytrack's collection costs against what a VMM does
 * without it, measured on real KVM guests in the same run.  This header
 * is the map: which file owns what.
 *
 *   dtbench.c      options, the modes in turn
 *   bench_vm.c     KVM VMs (on tools/lib/dtvm) and their vCPU threads,
 *                  driven round by round
 *   bench_guest.c  the guest's store loop (x86_64)
 *   bench_lib.c    the library side: trackers, and checking a claim
 *   stats.c        timing, min/median, the tables and the CSV files
 *   ring_bench.c   mode ring:   dirty rings, QEMU-style reaper vs the library
 *   bitmap_bench.c mode bitmap: KVM_GET_DIRTY_LOG (+ CLEAR) vs the library
 *   claim_bench.c  mode claim:  claims vs a memcpy of the bitmap
 *   final_bench.c  mode final:  the final sync, sources alone and together
 */
#ifndef DTBENCH_H
#define DTBENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/kvm.h>

#include <dirtytrack.h>

#include "dtvm.h"

#define DTB_PAGE		4096ULL

/*
 * Guest physical layout.  Memslot 0 (not logged) holds the GDT, the page
 * tables and the code, so that only the pages the loop stores to are ever
 * reported: the CPU's accessed/dirty-bit updates of the page tables and
 * instruction fetches land in a memslot KVM does not log.  Memslot 1, the
 * data, starts at 4 GiB, clear of the 32-bit hole (local APIC, VMX TSS).
 */
#define DTB_SYS_SLOT		0
#define DTB_SYS_SIZE		(2ULL << 20)
#define DTB_GDT_GPA		0x1000ULL
#define DTB_PML4_GPA		0x3000ULL
#define DTB_PDPT_GPA		0x4000ULL
#define DTB_CODE_GPA		0x10000ULL
#define DTB_PD_GPA		0x100000ULL	/* a page per GiB mapped */
#define DTB_MAX_GPA		(256ULL << 30)	/* the PD pages that fit */
#define DTB_DATA_SLOT		1
#define DTB_DATA_GPA		(4ULL << 30)

/* KVM keeps 64 ring entries in reserve, plus Intel PML's 512. */
#define DTB_RING_RESERVED	(64 + 512)

#define DTB_MAX_VCPUS		64
#define DTB_MAX_LIST		16
#define DTB_MAX_REPS		64

enum {
	DTB_MODE_RING = 1 << 0,
	DTB_MODE_BITMAP = 1 << 1,
	DTB_MODE_CLAIM = 1 << 2,
	DTB_MODE_FINAL = 1 << 3,
	DTB_MODE_ALL = (1 << 4) - 1,
};

struct dtb_list {
	int n;
	uint64_t v[DTB_MAX_LIST];
};

struct dtb_config {
	bool quick;
	const char *out_dir;
	const char *where;		/* "native", "guest-x86": the CSVs' first column */
	unsigned int modes;
	int reps;			/* timed rounds per collector and point */
	int warmup;			/* untimed rounds per collector first */
	bool user;			/* the library's backends to measure */
	bool kernel;			/* ... only if /dev/dirtytrack exists */
	uint64_t max_mem;		/* guest memory touched at once, bytes */
	/* ring */
	bool signals_open;		/* collect with signals unblocked */
	struct dtb_list vcpus;
	struct dtb_list ring_entries;
	struct dtb_list ring_pages;	/* dirty pages per vCPU per round */
	/* bitmap */
	struct dtb_list slot_bytes;
	int nr_fractions;
	double fractions[DTB_MAX_LIST];	/* percent of the slot's pages */
	int bitmap_vcpus;
	double point_budget_s;		/* guest time that sets a point's rounds */
	double point_max_s;		/* guest time over which it is skipped */
	/* claim */
	uint64_t claim_bytes;
	/* final */
	struct dtb_list final_pages;
	uint32_t final_ring_entries;
	int final_vcpus;
};

/* ---- bench_vm.c -------------------------------------------------------- */

/* What one vCPU stores to in a round: @npages pages, @stride pages apart. */
struct dtb_job {
	uint64_t first_page;		/* from the data memslot's start */
	uint64_t npages;
	uint64_t stride;
};

struct dtb_vm;

struct dtb_vcpu {
	struct dtb_vm *vm;
	int index;
	struct dtvm_vcpu vc;		/* its ring: dtb_vm_map_rings() only */
	struct kvm_regs regs;		/* the entry state, set every round */
	uint32_t fetch;			/* the reaper's fetch index */
	pthread_t thread;
	bool started;
	struct dtb_job job;
};

struct dtb_vm_opts {
	int vcpus;
	uint64_t data_bytes;
	uint32_t ring_entries;		/* 0: no dirty ring */
	bool manual_protect;		/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 */
	bool log_dirty;			/* KVM_MEM_LOG_DIRTY_PAGES on the data */
};

struct dtb_vm {
	int fd;
	uint8_t *sys;
	uint8_t *data;
	uint64_t data_bytes;
	uint64_t data_pages;
	uint32_t ring_entries;
	int nr_vcpus;
	struct dtb_vcpu vcpu[DTB_MAX_VCPUS];
	/* Round driving: the vCPU threads wait for @gen to move. */
	pthread_mutex_t lock;
	pthread_cond_t go;
	pthread_cond_t done;
	bool sync_init;
	uint64_t gen;
	int pending;
	bool quit;
	int error;			/* a vCPU's, -errno */
	uint32_t bad_exit;
	uint64_t value;			/* what the guest stores, per round */
};

int dtb_vm_create(struct dtb_vm *vm, const struct dtb_vm_opts *o);
void dtb_vm_destroy(struct dtb_vm *vm);
int dtb_vm_map_rings(struct dtb_vm *vm);
/* Run every vCPU through its job until it halts.  0, or -errno. */
int dtb_vm_round(struct dtb_vm *vm, const struct dtb_job *jobs,
		 uint64_t *out_ns);
/* Is KVM's dirty ring supported, and its largest size in entries. */
uint32_t dtb_ring_max_entries(void);

/* bench_guest.c: the store loop, copied to DTB_CODE_GPA. */
extern const unsigned char dtb_guest_code[];
extern const unsigned char dtb_guest_code_end[];

/* ---- bench_lib.c ------------------------------------------------------- */

struct dtb_tracker {
	const char *backend_name;	/* "user", "kernel" */
	struct dirtytrack *dt;
	struct dirtytrack_tracker *t;
	uint32_t slot;
	uint64_t npages;
	uint64_t *claimed;		/* claim scratch, a bitmap of the region */
};

int dtb_tracker_open(struct dtb_tracker *tr, enum dirtytrack_backend b,
		     struct dtb_vm *vm);
void dtb_tracker_close(struct dtb_tracker *tr);
int dtb_tracker_start(struct dtb_tracker *tr);
/* Claim the whole region and compare it with @expect. */
int dtb_tracker_check(struct dtb_tracker *tr, const uint64_t *expect,
		      const char *what);
const char *dtb_backend_name(enum dirtytrack_backend b);
bool dtb_have_kernel(void);

/* Bitmaps of the data memslot. */
uint64_t *dtb_bitmap_alloc(uint64_t npages);
void dtb_bitmap_free(uint64_t *b);
void dtb_bitmap_from_jobs(uint64_t *b, uint64_t npages,
			  const struct dtb_job *jobs, int n);
uint64_t dtb_bitmap_weight(const uint64_t *b, uint64_t npages);
/* 0 if equal; else say how @got differs from @want on stderr, -EBADMSG. */
int dtb_bitmap_compare(const uint64_t *got, const uint64_t *want,
		       uint64_t npages, const char *who, const char *what);

/* ---- stats.c ----------------------------------------------------------- */

struct dtb_samples {
	int n;
	uint64_t ns[DTB_MAX_REPS];
};

struct dtb_result {
	const char *collector;
	struct dtb_samples t;
	uint64_t items;			/* entries or pages per round */
	uint64_t bytes;			/* bytes per round, for GB/s; 0: none */
};

struct dtb_report {
	const char *mode;
	const char *key_header;		/* the table's key columns */
	const char *item;		/* "entry", "page" */
	bool gbps;
	FILE *csv;
	const struct dtb_config *cfg;
};

uint64_t dtb_now_ns(void);
void dtb_samples_add(struct dtb_samples *s, uint64_t ns);
uint64_t dtb_samples_min(const struct dtb_samples *s);
uint64_t dtb_samples_median(const struct dtb_samples *s);

int dtb_report_open(struct dtb_report *r, const struct dtb_config *cfg,
		    const char *mode, const char *title,
		    const char *key_header, const char *key_csv,
		    const char *item, bool gbps);
/* A row; ratios to @base_med and @base_min (0: none, printed "-"). */
void dtb_report_row(struct dtb_report *r, const char *key_tab,
		    const char *key_csv, const struct dtb_result *res,
		    uint64_t base_med, uint64_t base_min, const char *note);
/* Every result of a point, with ratios to @res[0], the baseline. */
void dtb_report_point(struct dtb_report *r, const char *key_tab,
		      const char *key_csv, const struct dtb_result *res, int n);
void dtb_report_skip(struct dtb_report *r, const char *key_tab,
		     const char *key_csv, const char *reason);
void dtb_report_note(struct dtb_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));	/* a userspace __printf() */
void dtb_report_close(struct dtb_report *r);
/* "16G", "256M", "64K": for keys. */
const char *dtb_size_str(char *buf, size_t len, uint64_t bytes);

/* ---- the modes --------------------------------------------------------- */

int dtb_ring_bench(const struct dtb_config *cfg);
int dtb_bitmap_bench(const struct dtb_config *cfg);
int dtb_claim_bench(const struct dtb_config *cfg);
int dtb_final_bench(const struct dtb_config *cfg);

/* Errors say what failed; the modes return -errno. */
#define dtb_err(fmt, ...) fprintf(stderr, "dtbench: " fmt "\n", ##__VA_ARGS__)

#define DTB_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline uint64_t dtb_min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t dtb_words(uint64_t npages)
{
	return (npages + 63) / 64;
}

#endif /* DTBENCH_H */
