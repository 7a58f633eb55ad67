/* SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause */
/*
 * The user backend: the module's tracker, in this process.  The same sources
 * (KVM rings and bitmaps, the vmm log, iommufd), harvested in the same order
 * under the same rules (Documentation/rules.rst), with the same state machine
 * and the same answer to every misuse, so a VMM can switch backends without a
 * change.  The ring walk and the merged set are the module's own code
 * (drivers/dirtytrack/core/).
 *
 * Everything here runs with the tracker's lock held.
 */
#ifndef DT_USER_BACKEND_H
#define DT_USER_BACKEND_H

#include <signal.h>

#include "dt_harvest.h"
#include "dt_io.h"
#include "dt_iommufd.h"
#include "libdt.h"

/* A VMM file and memory of this process for its bitmaps (user_io.c). */
struct dt_u_io {
	struct dt_io io;
	int fd;
	uint64_t *buf;		/* io.words words */
	void *map;		/* the mapping holding them */
	size_t map_len;
};

struct dt_u_kvm_bitmap {
	struct dt_kvm_bitmap_src src;
	struct dt_u_io io;	/* the largest region's words and the guard */
};

struct dt_u_vmm_log {
	int fd;			/* a sealed memfd: it can grow, not shrink */
	uint64_t *map;
	uint64_t size;
	uint64_t marked;	/* pages marked in the regions directly */
	bool shared;		/* its fd was handed out: others may write it */
	bool written;		/* dt_u_vmm_mark() wrote it since the harvest */
};


struct dt_user {
	int vm_fd;
	struct dt_user *next_vm;	/* the process's trackers (one per VM) */
	enum dt_state state;	/* the module's state machine (core/state.c) */
	struct dt_sticky sticky;	/* pages KVM may not log (core/ring.c) */
	bool reset_blocks_signals;	/* KVM's reset stops on them */
	sigset_t blocked_all;	/* a thread's mask once it blocks all it can */
	struct dt_slot_table table;	/* the ring walk's view of the regions */
	uint64_t table_gen;
	struct dt_u_kvm_bitmap *kbm;
	struct dt_u_vmm_log vmm;
	struct dt_iommu_srcs iommu;	/* struct dt_u_iommu, by id */
};

static inline struct dt_user *dt_u(struct dirtytrack_tracker *t)
{
	return t->priv;
}

/* kcmp(2)'s KCMP_FILE (linux/kcmp.h). */
#define DT_KCMP_FILE	0

/* user_backend.c */
int dt_u_kcmp_files(int a, int b);

/* user_io.c */
int dt_u_io_init(struct dt_u_io *io, int fd, u64 words, u64 pg, bool guard);
void dt_u_io_free(struct dt_u_io *io);

/* user_kvm_bitmap.c */
int dt_u_kvm_bitmap_attach(struct dirtytrack_tracker *t, uint32_t flags,
			   uint64_t max_pages);
int dt_u_kvm_bitmap_check_region(struct dirtytrack_tracker *t, uint64_t npages);
extern const struct dt_source_ops dt_u_kvm_bitmap_source;
void dt_u_kvm_bitmap_free(struct dirtytrack_tracker *t);

/* user_vmm_log.c */
int dt_u_vmm_init(struct dirtytrack_tracker *t);
int dt_u_vmm_grow(struct dirtytrack_tracker *t, uint64_t end_gfn);
int dt_u_vmm_mark(struct dirtytrack_tracker *t, uint64_t gpa, uint64_t len);
int dt_u_vmm_log_fd(struct dirtytrack_tracker *t, int *out_fd,
		    uint64_t *out_size);
extern const struct dt_source_ops dt_u_vmm_source;
void dt_u_vmm_free(struct dirtytrack_tracker *t);

/* user_iommu.c */
int dt_u_iommu_attach(struct dirtytrack_tracker *t,
		      const struct dirtytrack_iommu_opts *o, uint32_t *out_id);
int dt_u_iommu_set_map(struct dirtytrack_tracker *t, uint32_t id,
		       const struct dirtytrack_iova_map *maps, uint32_t nr);
int dt_u_iommu_peek(struct dirtytrack_tracker *t, uint32_t id, uint64_t iova,
		    uint64_t length, uint64_t *out_dirty);
int dt_u_iommu_detach(struct dirtytrack_tracker *t, uint32_t id);
extern const struct dt_source_ops dt_u_iommu_source;
void dt_u_iommu_free_all(struct dirtytrack_tracker *t);

#endif /* DT_USER_BACKEND_H */
