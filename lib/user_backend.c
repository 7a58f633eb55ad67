// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The user backend's tracker: states, regions, the harvest order, and the
 * kvm-ring source.  The module's drivers/dirtytrack/{tracker,region,
 * harvest,ring_source}.c, in this process; see user_backend.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "user_backend.h"

/* ---- regions ------------------------------------------------------------ */

static int dt_bitmap_alloc(struct dt_bitmap *b, uint64_t npages)
{
	b->words = calloc(dt_bitmap_words(npages), sizeof(uint64_t));
	b->summary = calloc(dt_summary_words(npages), sizeof(uint64_t));
	b->npages = npages;
	if (b->words && b->summary)
		return 0;
	free(b->words);
	free(b->summary);
	return -ENOMEM;
}

static void dt_bitmap_free(struct dt_bitmap *b)
{
	free(b->words);
	free(b->summary);
	b->words = b->summary = NULL;
}

/* The ring walk's table, rebuilt after regions came or went. */
static int dt_u_table_sync(struct dirtytrack_tracker *t)
{
	struct dt_user *u = dt_u(t);
	struct dt_slot *v;

	if (u->table_gen == t->regions_gen && u->table.v)
		return 0;
	v = calloc(DT_MAX_REGIONS, sizeof(*v));
	if (!v)
		return -ENOMEM;
	free(u->table.v);
	dt_regions_table(&t->regions, v, &u->table);
	u->table_gen = t->regions_gen;
	return 0;
}

/* ---- the kvm-ring source ------------------------------------------------- */

/* KVM_RESET_DIRTY_RINGS calls one harvest makes at most (the module's). */
#define DT_U_RESET_MAX_CALLS	16

/* Test only: issue the reset with signals unblocked (see dt_u_reset_kvm()). */
bool dt_lib_reset_unblocked;

static struct dt_ring *dt_u_ring_nth(void *ctx, uint32_t i)
{
	struct dirtytrack_tracker *t = ctx;

	return &t->vcpus[i].ring;
}

/*
 * The mask of a thread that blocks every signal it can, as
 * pthread_sigmask(2) reports it, zero past the kernel's words: what a
 * reset need not restore.  The same for every thread of the process.
 */
static void dt_u_blocked_all(sigset_t *mask)
{
	sigset_t all, old;

	sigfillset(&all);
	memset(mask, 0, sizeof(*mask));
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_sigmask(SIG_SETMASK, &old, mask);
}

/*
 * KVM_RESET_DIRTY_RINGS with every signal blocked that can be (the
 * module's dt_ring_reset_kvm(); core/ring.c says why), where KVM's reset
 * stops on signals (from Linux 6.17): a signal that arrives meanwhile
 * waits for the unblock.  What cannot be blocked (SIGKILL, SIGSTOP,
 * io_uring's task work) can still end the reset early; the count shows it
 * unless it fell after a ring's last entry, which this process cannot
 * tell (the module can).  An older KVM never stops early: its reset costs
 * no rt_sigprocmask(2) pair, and a thread that blocks every signal already
 * (as every thread QEMU creates does) only one.
 *
 * With dt_lib_reset_unblocked (tests only), every signal can end it, and
 * a reset that takes fewer entries than were marked is taken for such a
 * stop, never for a ring that cannot be reset: a storm of signals can
 * stop it at its first entry twice running.
 */
static int dt_u_reset_kvm(void *ctx, bool *bailed)
{
	struct dirtytrack_tracker *t = ctx;
	bool block = dt_u(t)->reset_blocks_signals && !dt_lib_reset_unblocked;
	bool restore = false;
	uint32_t marked = 0, i;
	sigset_t all, saved;
	int cleared, err;

	for (i = 0; i < t->nr_vcpus; i++)
		marked += t->vcpus[i].ring.unreset;
	if (block) {
		sigfillset(&all);
		/* The kernel writes only its own words of the old mask. */
		memset(&saved, 0, sizeof(saved));
		pthread_sigmask(SIG_BLOCK, &all, &saved);
		restore = memcmp(&saved, &dt_u(t)->blocked_all, sizeof(saved));
	}
	cleared = ioctl(dt_u(t)->vm_fd, KVM_RESET_DIRTY_RINGS, 0);
	err = errno;
	if (restore)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (dt_lib_reset_unblocked)
		*bailed = cleared >= 0 && (uint32_t)cleared < marked;
	return cleared < 0 ? -err : cleared;
}

/* The home's rings, for the core's walk and reset. */
static struct dt_rings_ops dt_u_rings(struct dirtytrack_tracker *t)
{
	return (struct dt_rings_ops){
		.nr = t->nr_vcpus, .ring = dt_u_ring_nth,
		.reset = dt_u_reset_kvm, .ctx = t,
		.table = &dt_u(t)->table,
	};
}

static bool dt_u_rings_attached(void *ctx)
{
	return ((struct dirtytrack_tracker *)ctx)->nr_vcpus;
}

static void dt_u_rings_collect(void *ctx, struct dt_harvest *h)
{
	struct dt_rings_ops ops = dt_u_rings(ctx);

	dt_ring_src_collect(&ops, h);
}

static int dt_u_rings_reset(void *ctx, struct dt_harvest *h)
{
	struct dirtytrack_tracker *t = ctx;
	struct dt_rings_ops ops = dt_u_rings(t);
	struct dt_ring_stats st = { 0 };

	return dt_ring_src_reset(&ops, DT_U_RESET_MAX_CALLS, &dt_u(t)->sticky,
				 &t->regions, h, &st);
}

static const struct dt_source_ops dt_u_ring_source = {
	.attached = dt_u_rings_attached,
	.collect = dt_u_rings_collect,
	.harvest = dt_u_rings_reset,
};

/* ---- one harvest ---------------------------------------------------------- */

/* The core's harvest (core/harvest.c), of this process's sources. */
static int dt_u_harvest(void *ctx, struct dt_harvest *h)
{
	struct dirtytrack_tracker *t = ctx;
	const struct dt_harvest_host host = {
		.src = {
			[DIRTYTRACK_SOURCE_IOMMU] = &dt_u_iommu_source,
			[DIRTYTRACK_SOURCE_KVM_RING] = &dt_u_ring_source,
			[DIRTYTRACK_SOURCE_VMM] = &dt_u_vmm_source,
			[DIRTYTRACK_SOURCE_KVM_BITMAP] = &dt_u_kvm_bitmap_source,
		},
		.ctx = t, .regions = &t->regions, .now_ns = dt_now_ns,
	};
	int ret = dt_u_table_sync(t);

	return ret ? ret : dt_harvest_run(&host, h);
}

/* The tracker, for the core's operations that harvest (core/lifecycle.c). */
static struct dt_lifecycle dt_u_lifecycle(struct dirtytrack_tracker *t)
{
	return (struct dt_lifecycle){
		.state = &dt_u(t)->state, .harvest = dt_u_harvest,
		.ctx = t, .iommu = &dt_u(t)->iommu, .rs = &t->regions,
	};
}

/* ---- the backend operations ------------------------------------------------ */

/*
 * Is @fd a KVM VM of this process?  Its file is KVM's anon inode
 * "kvm-vm" (what the module checks), and it answers KVM_CHECK_EXTENSION,
 * which KVM refuses (EIO) to any other process.
 */
static int dt_u_check_vm(int fd)
{
	int ret = dt_kvm_fd_is_vm(fd);

	if (ret)
		return ret;
	if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) < 0)
		return errno == EIO ? -EIO : -EBADF;
	return 0;
}

/*
 * At most one tracker per VM, as the module enforces: two would split
 * KVM's get-and-clear bitmap and each lose the other's pages.  KVM answers
 * only the process that created the VM, so every user-backend tracker of a
 * VM is in this process: they are listed here, and a VM file is compared
 * with kcmp(2) (without it, as on a kernel without
 * CONFIG_CHECKPOINT_RESTORE, VM files cannot be told apart: not checked).
 */
static pthread_mutex_t dt_u_vms_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dt_user *dt_u_vms;

/* kcmp(2) of two of our files: 0 the same, > 0 not, < 0 cannot tell. */
int dt_u_kcmp_files(int a, int b)
{
	pid_t pid = getpid();
	long ret = syscall(SYS_kcmp, pid, pid, DT_KCMP_FILE, a, b);

	return ret < 0 ? -1 : (int)ret;
}

static int dt_u_vms_add(struct dt_user *u)
{
	struct dt_user *o;

	pthread_mutex_lock(&dt_u_vms_lock);
	for (o = dt_u_vms; o; o = o->next_vm) {
		if (!dt_u_kcmp_files(o->vm_fd, u->vm_fd)) {
			pthread_mutex_unlock(&dt_u_vms_lock);
			return -EEXIST;
		}
	}
	u->next_vm = dt_u_vms;
	dt_u_vms = u;
	pthread_mutex_unlock(&dt_u_vms_lock);
	return 0;
}

static void dt_u_vms_del(struct dt_user *u)
{
	struct dt_user **p;

	pthread_mutex_lock(&dt_u_vms_lock);
	for (p = &dt_u_vms; *p; p = &(*p)->next_vm) {
		if (*p == u) {
			*p = u->next_vm;
			break;
		}
	}
	pthread_mutex_unlock(&dt_u_vms_lock);
}

static int dt_u_create(struct dirtytrack_tracker *t, int vm_fd)
{
	struct dt_user *u;
	int ret;

	ret = dt_u_check_vm(vm_fd);
	if (ret)
		return ret;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	t->priv = u;
	u->reset_blocks_signals = dt_kvm_reset_stops_on_signal();
	if (u->reset_blocks_signals)
		dt_u_blocked_all(&u->blocked_all);
	/* Ours, like the module's reference on the VM file. */
	u->vm_fd = fcntl(vm_fd, F_DUPFD_CLOEXEC, 0);
	if (u->vm_fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = dt_u_vms_add(u);
	if (ret)
		goto err_close;
	ret = dt_u_vmm_init(t);
	if (!ret)
		return 0;
	dt_u_vms_del(u);
err_close:
	close(u->vm_fd);
err_free:
	free(u);
	t->priv = NULL;
	return ret;
}

static void dt_u_destroy(struct dirtytrack_tracker *t)
{
	struct dt_user *u = dt_u(t);

	dt_u_vms_del(u);
	dt_u_iommu_free_all(t);
	dt_u_kvm_bitmap_free(t);
	dt_u_vmm_free(t);
	free(u->table.v);
	close(u->vm_fd);
	free(u);
}

static int dt_u_region_add(struct dirtytrack_tracker *t, struct dt_region *r)
{
	int ret;

	/* The module's default max_region_pages. */
	if (r->slot.npages > DT_LIB_MAX_REGION_PAGES)
		return -EINVAL;
	ret = dt_u_kvm_bitmap_check_region(t, r->slot.npages);
	if (ret)
		return ret;
	ret = dt_bitmap_alloc(&r->merged, r->slot.npages);
	if (ret)
		return ret;
	ret = dt_bitmap_alloc(&r->pending, r->slot.npages);
	if (ret) {
		dt_bitmap_free(&r->merged);
		return ret;
	}
	r->slot.dirty = &r->pending;
	/* Short of log memory, marks go to the regions directly: no error. */
	if (!(r->slot.slot >> 16))
		dt_u_vmm_grow(t, r->first_gfn + r->slot.npages);
	/* Hotplugged while tracking: the destination has none of it. */
	if (dt_u(t)->state != DT_IDLE)
		dt_bitmap_set_range(&r->merged, 0, r->slot.npages);
	return 0;
}

static void dt_u_region_free(struct dirtytrack_tracker *t,
			     struct dt_region *r)
{
	(void)t;
	dt_bitmap_free(&r->merged);
	dt_bitmap_free(&r->pending);
}

/*
 * Rule reap-before-memslot-change and rule backup-bitmap-last: ring entries and
 * KVM's bitmap go with the memslot.
 */
static int dt_u_region_remove(struct dirtytrack_tracker *t,
			      struct dt_region *r, uint64_t *bitmap,
			      uint64_t *out_dirty)
{
	struct dt_harvest h = { .kind = DT_HARVEST_REMOVE, .region = r };
	struct dt_lifecycle lc = dt_u_lifecycle(t);
	int ret;

	ret = dt_lifecycle_harvest(&lc, &h);
	if (ret)
		return ret;
	/* The memslot goes, and its mappings with it: nothing stays unlogged. */
	dt_sticky_forget_slot(&dt_u(t)->sticky, r->slot.slot);
	if (!bitmap)
		return 0;
	return dt_lib_claim_region(r, 0, r->slot.npages, bitmap, out_dirty);
}

/*
 * Rule reap-before-memslot-change: no entry may be left to be read against the
 * old place.
 */
static int dt_u_region_move(struct dirtytrack_tracker *t,
			    struct dt_region *r, uint64_t new_gfn)
{
	struct dt_lifecycle lc = dt_u_lifecycle(t);
	int ret;

	ret = dt_lifecycle_move(&lc, r, new_gfn);
	if (ret)
		return ret;
	if (!(r->slot.slot >> 16))
		dt_u_vmm_grow(t, new_gfn + r->slot.npages);
	return 0;
}

static int dt_u_attach_ring(struct dirtytrack_tracker *t, struct dt_lib_vcpu *v)
{
	struct dt_user *u = dt_u(t);

	/* A VM declared ringless has no ring to attach. */
	if (u->kbm && !(u->kbm->src.flags & DIRTYTRACK_KVM_RING))
		return -EINVAL;
	v->ring.gfns = v->map;
	v->ring.size = v->map_size / sizeof(struct kvm_dirty_gfn);
	/* KVM may be anywhere in a ring used before: found at first harvest. */
	v->ring.synced = false;
	return 0;
}

static int dt_u_harvest_vcpu(struct dirtytrack_tracker *t,
			     struct dt_lib_vcpu *v, uint32_t min_fill,
			     uint64_t *out)
{
	struct dt_harvest h = {
		.kind = DT_HARVEST_VCPU, .vcpu = v ? &v->ring : NULL,
		.min_fill = min_fill,
	};
	struct dt_lifecycle lc = dt_u_lifecycle(t);
	uint32_t i;
	int ret;

	ret = dt_lifecycle_harvest(&lc, &h);
	if (ret)
		return ret;
	for (i = 0; i < t->nr_vcpus; i++)
		dt_lib_vcpu_took(&t->vcpus[i], t->vcpus[i].ring.last,
				 t->vcpus[i].ring.last_overflow);
	*out = h.ring_entries + h.ring_invalid;
	return v && dt_ring_stuck(&v->ring, v->ring.last) ? -ENOSPC : 0;
}

static int dt_u_start(struct dirtytrack_tracker *t, bool all_dirty)
{
	struct dt_lifecycle lc = dt_u_lifecycle(t);

	return dt_lifecycle_start(&lc, all_dirty);
}

static int dt_u_stop(struct dirtytrack_tracker *t)
{
	struct dt_lifecycle lc = dt_u_lifecycle(t);

	return dt_lifecycle_stop(&lc);
}

static int dt_u_sync(struct dirtytrack_tracker *t, enum dt_sync_phase phase,
		     struct dirtytrack_sync_stats *st)
{
	struct dt_lifecycle lc = dt_u_lifecycle(t);
	struct dirtytrack_sync c = { 0 };
	struct dt_harvest h = { 0 };
	uint32_t i;
	int ret;

	ret = dt_lifecycle_sync(&lc, phase, &h);
	if (ret)
		return ret;
	for (i = 0; i < t->nr_vcpus; i++)
		dt_lib_vcpu_took(&t->vcpus[i], t->vcpus[i].ring.last,
				 t->vcpus[i].ring.last_overflow);
	dt_harvest_to_sync(&h, &c);
	dt_lib_sync_stats(&c, st);
	return 0;
}

static int dt_u_vmm_mark_op(struct dirtytrack_tracker *t, uint64_t gpa,
			    uint64_t len)
{
	/* A write after the final sync would never reach the destination. */
	if (dt_u(t)->state == DT_SEALED)
		return -EBUSY;
	return dt_u_vmm_mark(t, gpa, len);
}

static int dt_u_iommu_set_map_op(struct dirtytrack_tracker *t, uint32_t id,
				 const struct dirtytrack_iova_map *maps,
				 uint32_t nr)
{
	int ret = dt_state_may_harvest(dt_u(t)->state);

	return ret ? ret : dt_u_iommu_set_map(t, id, maps, nr);
}

static int dt_u_iommu_peek_op(struct dirtytrack_tracker *t, uint32_t id,
			      uint64_t iova, uint64_t length,
			      uint64_t *out_dirty)
{
	if (dt_u(t)->state == DT_SEALED)
		return -EBUSY;
	return dt_u_iommu_peek(t, id, iova, length, out_dirty);
}

const struct dt_backend_ops dt_user_backend = {
	.create = dt_u_create,
	.destroy = dt_u_destroy,
	.region_add = dt_u_region_add,
	.region_remove = dt_u_region_remove,
	.region_free = dt_u_region_free,
	.region_move = dt_u_region_move,
	.attach_ring = dt_u_attach_ring,
	.harvest_vcpu = dt_u_harvest_vcpu,
	.attach_kvm_bitmap = dt_u_kvm_bitmap_attach,
	.vmm_mark = dt_u_vmm_mark_op,
	.vmm_log_fd = dt_u_vmm_log_fd,
	.attach_iommu = dt_u_iommu_attach,
	.iommu_set_map = dt_u_iommu_set_map_op,
	.iommu_peek = dt_u_iommu_peek_op,
	.iommu_detach = dt_u_iommu_detach,
	.start = dt_u_start,
	.stop = dt_u_stop,
	.sync = dt_u_sync,
};
