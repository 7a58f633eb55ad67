// SPDX-License-Identifier: GPL-2.0
/*
 * The tracker: one per VM, a file descriptor whose state dies with it.
 * Its ioctls run under the tracker's lock and only from the VM's own mm.
 */
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/nsproxy.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <net/net_namespace.h>

#include "dirtytrack_private.h"

/*
 * Every tracker, by id: a VM gets at most one, and netlink names them.
 * Ids are allocated cyclically, so a monitor does not mistake a new
 * tracker for one just destroyed.
 */
DEFINE_XARRAY_ALLOC1(dt_trackers);
/* Serializes creation, release and every lockless reader of a tracker. */
DEFINE_MUTEX(dt_trackers_lock);
static u32 dt_next_id;

static int dt_tracker_region_add(struct dt_ucmd *ucmd)
{
	struct dirtytrack_region *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	ret = dt_region_add(ucmd->ctx, cmd);
	if (ret)
		return ret;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static int dt_tracker_region_remove(struct dt_ucmd *ucmd)
{
	struct dirtytrack_region_remove *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	ret = dt_region_remove(t, DT_SLOT(cmd->as_id, cmd->slot_id),
			       u64_to_user_ptr(cmd->bitmap), &cmd->out_dirty);
	if (ret)
		return ret;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static int dt_tracker_region_move(struct dt_ucmd *ucmd)
{
	struct dirtytrack_region_move *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	return dt_region_move(ucmd->ctx, DT_SLOT(cmd->as_id, cmd->slot_id),
			      cmd->new_first_gfn);
}

static int dt_tracker_attach_ring(struct dt_ucmd *ucmd)
{
	struct dirtytrack_attach_ring *cmd = ucmd->cmd;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	ret = dt_ring_attach(ucmd->ctx, cmd->ring_addr, &cmd->out_vcpu_id);
	if (ret)
		return ret;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

/* The sync's phase. */
static int dt_tracker_sync_phase(u32 flags, enum dt_sync_phase *phase)
{
	switch (flags) {
	case 0:
		*phase = DT_PHASE_PRECOPY;
		break;
	case DIRTYTRACK_SYNC_FINAL_BEGIN:
		*phase = DT_PHASE_FINAL_BEGIN;
		break;
	case DIRTYTRACK_SYNC_FINAL_END:
		*phase = DT_PHASE_FINAL_END;
		break;
	default:
		return -EINVAL;		/* both */
	}
	return 0;
}

/* A vcpu_stat_size as the caller gives it: 0 is the first layout. */
static int dt_vcpu_stat_size(u32 size, u32 *esz)
{
	*esz = size ?: DT_VCPU_STAT_V0_SIZE;
	return *esz < DT_VCPU_STAT_V0_SIZE ? -EINVAL : 0;
}

/* Elements of the size this module knows go out this many per copy. */
#define DT_VCPU_STAT_BATCH	16

static void dt_vcpu_stat_fill(const struct dt_tracker *t, u32 i,
			      struct dirtytrack_vcpu_stat *st)
{
	*st = (struct dirtytrack_vcpu_stat){
		.vcpu_id = t->rings[i]->vcpu_id,
		.harvested = t->rings[i]->ring.last,
		.overflow = t->rings[i]->ring.last_overflow,
	};
}

/*
 * Each ring's share of the harvest just done, @esz bytes per element (what
 * the module does not know is written 0), at most @nr: how many went.  At
 * the size it knows, one copy per DT_VCPU_STAT_BATCH elements, not one
 * each: a sync pays for the copy of every element it reports.
 */
static int dt_put_vcpu_stats(struct dt_tracker *t, u64 uptr, u32 nr, u32 esz,
			     u32 *written)
{
	struct dirtytrack_vcpu_stat buf[DT_VCPU_STAT_BATCH];
	u8 __user *ustats = u64_to_user_ptr(uptr);
	u32 i, j, k, n = min(nr, t->nr_rings);

	if (esz == sizeof(buf[0])) {
		for (i = 0; i < n; i += k) {
			k = min_t(u32, n - i, DT_VCPU_STAT_BATCH);
			for (j = 0; j < k; j++)
				dt_vcpu_stat_fill(t, i + j, &buf[j]);
			if (copy_to_user(ustats + (size_t)i * esz, buf, k * esz))
				return -EFAULT;
		}
		*written = n;
		return 0;
	}
	for (i = 0; i < n; i++) {
		u8 __user *u = ustats + (size_t)i * esz;

		dt_vcpu_stat_fill(t, i, &buf[0]);
		if (copy_to_user(u, &buf[0], min_t(size_t, esz, sizeof(buf[0]))) ||
		    (esz > sizeof(buf[0]) &&
		     clear_user(u + sizeof(buf[0]), esz - sizeof(buf[0]))))
			return -EFAULT;
	}
	*written = n;
	return 0;
}

static int dt_tracker_sync(struct dt_ucmd *ucmd)
{
	struct dirtytrack_sync *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	struct dt_lifecycle lc = dt_lifecycle_of(t);
	struct dt_harvest h = {};
	enum dt_sync_phase phase;
	u64 before;
	u32 esz;
	int ret;

	ret = dt_tracker_sync_phase(cmd->flags, &phase);
	if (ret)
		return ret;
	/* Refused before anything happens, unlike a fault while writing. */
	if (dt_vcpu_stat_size(cmd->vcpu_stat_size, &esz) || cmd->__reserved)
		return -EINVAL;
	if (cmd->nr_vcpu_stats && t->nr_rings && !cmd->vcpu_stats)
		return -EFAULT;
	before = t->stats.harvested;
	ret = dt_lifecycle_sync(&lc, phase, &h);
	if (ret)
		return ret;
	dt_stats_sync(t, phase, &h, before);

	dt_harvest_to_sync(&h, cmd);

	/* The pages are published: a fault below loses nothing. */
	ret = dt_put_vcpu_stats(t, cmd->vcpu_stats, cmd->nr_vcpu_stats, esz,
				&cmd->nr_vcpu_stats);
	return ret ?: dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static int dt_tracker_harvest_vcpu(struct dt_ucmd *ucmd)
{
	struct dirtytrack_harvest_vcpu *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	struct dt_lifecycle lc = dt_lifecycle_of(t);
	struct dt_harvest h = { .kind = DT_HARVEST_VCPU };
	struct dt_ring_source *rs;
	bool filled = cmd->flags & DIRTYTRACK_HARVEST_FILLED;
	u32 esz;
	int ret;

	if (dt_vcpu_stat_size(cmd->vcpu_stat_size, &esz))
		return -EINVAL;
	if (cmd->nr_vcpu_stats && t->nr_rings && !cmd->vcpu_stats)
		return -EFAULT;
	if (filled) {
		if (cmd->vcpu_id || !cmd->min_fill)
			return -EINVAL;
		h.min_fill = cmd->min_fill;
	} else {
		rs = dt_ring_find(t, cmd->vcpu_id);
		if (!rs)
			return -ENOENT;
		h.vcpu = &rs->ring;
	}
	ret = dt_lifecycle_harvest(&lc, &h);
	if (ret)
		return ret;
	cmd->out_harvested = h.ring_entries + h.ring_invalid;
	cmd->out_overflow = h.ring_overflow;
	ret = dt_put_vcpu_stats(t, cmd->vcpu_stats, cmd->nr_vcpu_stats, esz,
				&cmd->nr_vcpu_stats);
	ret = ret ?: dt_ucmd_respond(ucmd, sizeof(*cmd));
	if (!ret && !filled && dt_ring_stuck(h.vcpu, h.vcpu->last))
		ret = -ENOSPC;
	return ret;
}

static int dt_tracker_start(struct dt_ucmd *ucmd)
{
	struct dirtytrack_start *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	struct dt_lifecycle lc = dt_lifecycle_of(t);
	int ret;

	ret = dt_lifecycle_start(&lc, cmd->flags & DIRTYTRACK_START_ALL_DIRTY);
	if (ret)
		return ret;
	dt_stats_rate_reset(t);
	dt_ring_scan_kick();
	return 0;
}

static int dt_tracker_stop(struct dt_ucmd *ucmd)
{
	struct dt_lifecycle lc = dt_lifecycle_of(ucmd->ctx);

	return dt_lifecycle_stop(&lc);
}

static int dt_tracker_claim(struct dt_ucmd *ucmd)
{
	struct dirtytrack_claim *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	struct dt_region *r;
	int ret;

	if (cmd->__reserved || cmd->first_page % DT_WORD_BITS)
		return -EINVAL;
	r = dt_regions_find(&t->regions, DT_SLOT(cmd->as_id, cmd->slot_id));
	if (!r)
		return -ENOENT;
	if (cmd->first_page >= r->slot.npages || !cmd->npages)
		return -EINVAL;
	ret = dt_region_claim_to_user(r, cmd->first_page, cmd->npages,
				      u64_to_user_ptr(cmd->bitmap),
				      &cmd->out_dirty);
	if (ret)
		return ret;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static int dt_tracker_attach_kvm_bitmap(struct dt_ucmd *ucmd)
{
	return dt_kvm_bitmap_attach(ucmd->ctx, ucmd->cmd);
}

static int dt_tracker_vmm_log_fd(struct dt_ucmd *ucmd)
{
	struct dirtytrack_vmm_log_fd *cmd = ucmd->cmd;
	struct dt_new_file nf;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	ret = dt_vmm_log_fd(ucmd->ctx, &nf, &cmd->out_log_size);
	if (ret)
		return ret;
	cmd->out_fd = nf.fd;
	return dt_ucmd_respond_fd(ucmd, sizeof(*cmd), &nf);
}

static int dt_tracker_vmm_mark(struct dt_ucmd *ucmd)
{
	struct dirtytrack_vmm_mark *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;

	if (cmd->__reserved)
		return -EINVAL;
	/* A write after the final sync would never reach the destination. */
	if (t->state == DT_SEALED)
		return -EBUSY;
	return dt_vmm_mark(t, cmd);
}

static int dt_tracker_attach_iommu(struct dt_ucmd *ucmd)
{
	struct dirtytrack_attach_iommu *cmd = ucmd->cmd;
	int ret;

	ret = dt_iommu_attach(ucmd->ctx, cmd);
	if (ret)
		return ret;
	ret = dt_ucmd_respond(ucmd, sizeof(*cmd));
	/* The VMM never learnt the id: undo. */
	if (ret)
		dt_iommu_detach(ucmd->ctx, cmd->out_source_id);
	return ret;
}

static int dt_tracker_iommu_set_map(struct dt_ucmd *ucmd)
{
	struct dirtytrack_iommu_set_map *cmd = ucmd->cmd;
	int ret;

	ret = dt_state_may_harvest(((struct dt_tracker *)ucmd->ctx)->state);
	if (ret)
		return ret;
	return dt_iommu_set_map(ucmd->ctx, cmd);
}

static int dt_tracker_iommu_peek(struct dt_ucmd *ucmd)
{
	struct dirtytrack_iommu_peek *cmd = ucmd->cmd;
	struct dt_tracker *t = ucmd->ctx;
	int ret;

	if (cmd->__reserved)
		return -EINVAL;
	if (t->state == DT_SEALED)
		return -EBUSY;
	ret = dt_iommu_peek(t, cmd);
	if (ret)
		return ret;
	return dt_ucmd_respond(ucmd, sizeof(*cmd));
}

static int dt_tracker_iommu_detach(struct dt_ucmd *ucmd)
{
	struct dirtytrack_iommu_detach *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	return dt_iommu_detach(ucmd->ctx, cmd->source_id);
}

static const struct dt_ioctl_op dt_tracker_ioctl_ops[] = {
	DT_IOCTL_OP(REGION_ADD, dt_tracker_region_add, struct dirtytrack_region,
		    npages, 0),
	DT_IOCTL_OP(REGION_REMOVE, dt_tracker_region_remove,
		    struct dirtytrack_region_remove, slot_id, 0),
	DT_IOCTL_OP(ATTACH_RING, dt_tracker_attach_ring,
		    struct dirtytrack_attach_ring, ring_addr, 0),
	DT_IOCTL_OP(SYNC, dt_tracker_sync, struct dirtytrack_sync, vcpu_stats,
		    DIRTYTRACK_SYNC_FINAL_BEGIN | DIRTYTRACK_SYNC_FINAL_END),
	DT_IOCTL_OP(CLAIM, dt_tracker_claim, struct dirtytrack_claim,
		    out_dirty, 0),
	DT_IOCTL_OP(HARVEST_VCPU, dt_tracker_harvest_vcpu,
		    struct dirtytrack_harvest_vcpu, out_harvested,
		    DIRTYTRACK_HARVEST_FILLED),
	DT_IOCTL_OP(START, dt_tracker_start, struct dirtytrack_start, flags,
		    DIRTYTRACK_START_ALL_DIRTY),
	DT_IOCTL_OP(STOP, dt_tracker_stop, struct dirtytrack_stop, flags, 0),
	DT_IOCTL_OP(REGION_MOVE, dt_tracker_region_move,
		    struct dirtytrack_region_move, new_first_gfn, 0),
	DT_IOCTL_OP(ATTACH_KVM_BITMAP, dt_tracker_attach_kvm_bitmap,
		    struct dirtytrack_attach_kvm_bitmap, scratch_size,
		    DIRTYTRACK_KVM_RING | DIRTYTRACK_KVM_MANUAL_PROTECT |
		    DIRTYTRACK_KVM_INITIALLY_SET),
	DT_IOCTL_OP(VMM_LOG_FD, dt_tracker_vmm_log_fd,
		    struct dirtytrack_vmm_log_fd, out_log_size, 0),
	DT_IOCTL_OP(VMM_MARK, dt_tracker_vmm_mark, struct dirtytrack_vmm_mark,
		    ranges, 0),
	DT_IOCTL_OP(ATTACH_IOMMU, dt_tracker_attach_iommu,
		    struct dirtytrack_attach_iommu, scratch_size,
		    DIRTYTRACK_IOMMU_TRACKING_ON),
	DT_IOCTL_OP(IOMMU_SET_MAP, dt_tracker_iommu_set_map,
		    struct dirtytrack_iommu_set_map, maps, 0),
	DT_IOCTL_OP(IOMMU_PEEK, dt_tracker_iommu_peek,
		    struct dirtytrack_iommu_peek, out_dirty, 0),
	DT_IOCTL_OP(IOMMU_DETACH, dt_tracker_iommu_detach,
		    struct dirtytrack_iommu_detach, __reserved, 0),
};

static long dt_tracker_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	struct dt_tracker *t = filp->private_data;
	long ret;

	/* KVM answers only the VM's mm; say so before it does. */
	if (current->mm != t->mm)
		return -EPERM;
	/* A VMM killed while another thread's call waits on KVM can go. */
	if (mutex_lock_killable(&t->lock))
		return -EINTR;
	ret = dt_ioctl_dispatch(dt_tracker_ioctl_ops,
				ARRAY_SIZE(dt_tracker_ioctl_ops), t, cmd, arg);
	mutex_unlock(&t->lock);
	return ret;
}

static void dt_tracker_free(struct dt_tracker *t)
{
	put_net(t->net);
	put_pid(t->owner);
	mmdrop(t->mm);
	dt_vmm_log_put_tracker(t);
	kvfree(t);
}

static int dt_tracker_release(struct inode *inode, struct file *filp)
{
	struct dt_tracker *t = filp->private_data;

	/* Netlink and the ring scan look at trackers under this lock only. */
	mutex_lock(&dt_trackers_lock);
	xa_erase(&dt_trackers, t->id);
	mutex_unlock(&dt_trackers_lock);
	dt_nl_notify_destroyed(t);

	dt_rings_free(t);
	dt_iommu_free_all(t);
	dt_kvm_bitmap_free(t);
	dt_regions_free(t);
	fput(t->vm_file);
	mutex_destroy(&t->lock);
	dt_tracker_free(t);
	return 0;
}

static const struct file_operations dt_tracker_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = dt_tracker_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = dt_tracker_release,
	.mmap = dt_tracker_mmap,
	.llseek = noop_llseek,
};

/**
 * dt_tracker_create() - ioctl(DIRTYTRACK_CREATE)
 * @ucmd: the call
 *
 * Return: 0 with the new fd in out_tracker_fd; -EBADF if vm_fd is not a
 * KVM VM; -EIO if it is another process's VM; -EOPNOTSUPP for unknown
 * flags; -EEXIST if the VM has a tracker; -ENOMEM; -EMFILE.
 */
int dt_tracker_create(struct dt_ucmd *ucmd)
{
	struct dirtytrack_create *cmd = ucmd->cmd;
	struct dt_tracker *t, *o;
	struct dt_new_file nf;
	struct file *vm_file;
	unsigned long id;
	int ret;

	vm_file = fget(cmd->vm_fd);
	if (!vm_file)
		return -EBADF;
	ret = dt_kvm_check_vm_file(vm_file);
	if (ret)
		goto err_fput;

	t = kvzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t) {
		ret = -ENOMEM;
		goto err_fput;
	}
	ret = dt_vmm_log_create(t);
	if (ret) {
		kvfree(t);
		goto err_fput;
	}
	mutex_init(&t->lock);
	init_rwsem(&t->map_lock);
	dt_harvest_init(t);
	t->vm_file = vm_file;
	t->mm = current->mm;
	mmgrab(t->mm);
	t->owner = get_task_pid(current, PIDTYPE_TGID);
	t->owner_uid = current_euid();
	t->net = get_net(current->nsproxy->net_ns);
	t->vm_fd = cmd->vm_fd;
	t->kbm_shown = -1;
	t->table.v = t->table_v;

	mutex_lock(&dt_trackers_lock);
	xa_for_each(&dt_trackers, id, o) {
		if (o->vm_file == vm_file) {
			mutex_unlock(&dt_trackers_lock);
			ret = -EEXIST;
			goto err_free;
		}
	}
	ret = xa_alloc_cyclic(&dt_trackers, &t->id, t, xa_limit_31b,
			      &dt_next_id, GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		mutex_unlock(&dt_trackers_lock);
		goto err_free;
	}
	/* Listed before the file exists: its release finds it listed. */
	ret = dt_file_prepare(&nf, t, &dt_tracker_fops, "[dirtytrack]",
			      &t->inode);
	if (ret) {
		xa_erase(&dt_trackers, t->id);
		mutex_unlock(&dt_trackers_lock);
		goto err_free;
	}
	dt_nl_notify_created(t);
	mutex_unlock(&dt_trackers_lock);

	/*
	 * If the reply faults, dropping the file releases the tracker as a
	 * close would, and the VM is free for the next create.
	 */
	cmd->out_tracker_fd = nf.fd;
	return dt_ucmd_respond_fd(ucmd, sizeof(*cmd), &nf);

err_free:
	dt_tracker_free(t);
err_fput:
	fput(vm_file);
	return ret;
}
