/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dtfuzz: hostile userspace against /dev/dirtytrack, with a shadow model.
 *
 *   dtfuzz.c    arguments, the op table, the main loop, the verdict
 *   rng.h       the seeded generator (one stream per op, so a seed replays)
 *   stats.c     ioctls by command and errno, model checks, over-reports
 *   world.c     the VM, its sweeping vCPUs, the tracker and its mappings
 *   model.c     the shadow of guest memory and the tracker's state machine
 *   ops_args.c  every ioctl with boundary and garbage arguments, bad fds
 *   ops_live.c  the valid ops the model follows (sync, claim, start, ...)
 *   ops_proc.c  fork() children and SCM_RIGHTS
 *   ops_race.c  racing threads, netlink dumps racing destruction, limits
 *   nl.c        netlink figures against the ioctls'
 */
#ifndef DTFUZZ_H
#define DTFUZZ_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include <linux/dirtytrack.h>
#include <linux/kvm.h>

#include "dtvm.h"
#include "rng.h"

#define FZ_PAGE		4096
#define FZ_NR_VCPUS	2
#define FZ_NR_SLOTS	4		/* data slots */
#define FZ_SLOT_PAGES	64
#define FZ_DATA_PAGES	(FZ_NR_SLOTS * FZ_SLOT_PAGES)
#define FZ_HOT_PAGES	128		/* the sweep's pages: slots 0 and 1 */
#define FZ_CODE_SLOT	0
#define FZ_FIRST_DATA_SLOT 1
#define FZ_CODE_SIZE	0x10000
#if defined(__aarch64__)
#define FZ_CODE_GPA	0x10000000UL
#define FZ_DATA_GPA	0x10100000UL
#else
#define FZ_CODE_GPA	0x1000000UL
#define FZ_DATA_GPA	0x1100000UL
#endif
#define FZ_ENTRY	(FZ_CODE_GPA + 0x1000)
/* The VMM's own writes go at this offset of a page; the guest's at 0. */
#define FZ_VMM_OFF	64

/* The tracker's states, as the model keeps them (enum dirtytrack_state). */
enum fz_state { FZ_IDLE, FZ_TRACKING, FZ_FINAL, FZ_SEALED };

/* Why a page may be reported although nobody wrote it (model.c). */
enum fz_cause {
	FZ_CAUSE_ALL_DIRTY,	/* START_ALL_DIRTY, hotplug while tracking,
				 * an overflow, a foreign or error count */
	FZ_CAUSE_LIVE_COPY,	/* claimed and copied while vCPUs ran */
	FZ_CAUSE_VMM_MARK,	/* in a VMM mark or log bits past its writes
				 * (wide ranges, scribbles on the log) */
	FZ_CAUSE_KVM_RELOG,	/* a guest-written page KVM logged again, or a
				 * store logged at its fault but not retired */
	FZ_CAUSE_UNEXPLAINED,
	FZ_NR_CAUSES,
};

struct fz_vcpu {
	struct dtvm_vcpu vc;
	pthread_t thread;
	bool running;
	volatile bool paused;	/* acknowledged a pause */
	unsigned long ring_full, mmio;
};

/* One data slot: its memslot, its region and the region's mapping. */
struct fz_slot {
	bool plugged;		/* the KVM memslot exists */
	bool region;		/* the tracker has the region */
	struct dirtytrack_region r;
	uint8_t *map;		/* the merged set mapped, or NULL */
	size_t map_len;
};

struct fz_world {
	int kvm, vm, dev, tr;
	uint32_t ring_entries;
	uint8_t *code, *data;
	struct fz_vcpu vcpu[FZ_NR_VCPUS];
	struct fz_slot slot[FZ_NR_SLOTS];
	int log_fd;		/* the vmm log's fd, or -1 */
	uint64_t *log_map;	/* its mapping, or NULL */
	size_t log_len;
	volatile int stop, pause;
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	enum fz_state state;
	uint32_t nl_id;		/* the tracker's netlink id, 0: unknown */
	/* What the ioctls said, for netlink to agree with. */
	uint64_t syncs, overflows, foreign;
};

/* The shadow model (model.c). */
struct fz_model {
	pthread_mutex_t lock;	/* shadow copies and VMM write+mark */
	uint8_t *shadow;	/* what each data page held at its last report */
	uint8_t cause[FZ_DATA_PAGES];	/* bits of enum fz_cause */
	bool tainted;		/* the VMM broke a rule that lets pages go (no
				 * op of this version does) */
	uint64_t vmm_nonce;
};

struct fz_opts {
	uint64_t seed;
	double duration;
	uint64_t max_ops;
	const char *skip[8];	/* ops whose name holds one of these */
	int nr_skip;
	bool verbose;
};

struct fz {
	struct fz_opts o;
	struct fz_world w;
	struct fz_model m;
	uint64_t op_index;
	uint64_t seqhash;
};

extern struct fz fz;

/* ---- stats.c ----------------------------------------------------------- */

/* ioctl() through the counters: returns 0 or -errno. */
int fz_ioctl(int fd, unsigned long cmd, void *arg);
void fz_count_op(const char *name);
void fz_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fz_count_checks(const char *what, uint64_t n);
void fz_count_cause(enum fz_cause c, uint64_t n);
void fz_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t fz_failures(void);
void fz_report(void);

/* Assert @got is one of the errnos (0 included) listed, -1 terminated. */
void fz_expect(const char *what, int got, ...);

/* ---- world.c ----------------------------------------------------------- */

int fz_world_create(struct fz_world *w, struct fz_rng *r);
void fz_world_destroy(struct fz_world *w);
/* A new tracker with every region and ring; 0 or -errno. */
int fz_tracker_setup(struct fz_world *w);
/* Close the tracker and every mapping of it. */
void fz_tracker_teardown(struct fz_world *w);
int fz_slot_map(struct fz_world *w, int i);
void fz_slot_unmap(struct fz_world *w, int i);
void fz_vcpus_pause(struct fz_world *w);
void fz_vcpus_resume(struct fz_world *w);
uint64_t fz_slot_gpa(int i);
uint8_t *fz_page(struct fz_world *w, int page);

/* ---- model.c ----------------------------------------------------------- */

void fz_model_init(struct fz_model *m);
/* Pages of slot @i were reported: @bits, region-relative. */
void fz_model_reported(struct fz_model *m, struct fz_world *w, int i,
		       const uint64_t *bits, bool live);
/* The model's baseline for slot @i (-1: all) is guest memory as it is. */
void fz_model_rebase(struct fz_model *m, struct fz_world *w, int i);
void fz_model_excuse(int page, enum fz_cause c);
void fz_model_excuse_all(enum fz_cause c);
/* A sync's answer: all-dirty events in it excuse every page. */
void fz_model_synced(struct fz_world *w, const struct dirtytrack_sync *s);
/* Pause, harvest, claim everything and compare (the under-report check). */
void fz_model_checkpoint(struct fz_world *w);
/* The errno the state machine documents for a valid call. */
int fz_state_expect(enum fz_state s, unsigned long cmd, uint32_t flags);
enum fz_state fz_state_after(enum fz_state s, unsigned long cmd, uint32_t flags);

/* ---- nl.c -------------------------------------------------------------- */

/* Tracker, region and vCPU figures over netlink against the world's. */
void fz_nl_check(struct fz_world *w);
/* Dumps racing tracker destruction, and the 512-region limit. */
void fz_nl_race(struct fz_rng *r);

/* ---- the op tables ----------------------------------------------------- */

struct fz_op {
	const char *name;
	void (*fn)(struct fz_rng *r);
	unsigned int weight;
};

extern const struct fz_op fz_args_ops[], fz_live_ops[], fz_proc_ops[],
	fz_race_ops[];
extern const int fz_nr_args_ops, fz_nr_live_ops, fz_nr_proc_ops,
	fz_nr_race_ops;

/* A tracker fd of the world, or -1 (closed). */
static inline int fz_tr(void)
{
	return __atomic_load_n(&fz.w.tr, __ATOMIC_ACQUIRE);
}

#endif /* DTFUZZ_H */
