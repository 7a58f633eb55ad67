// SPDX-License-Identifier: GPL-2.0
/*
 * Every ioctl of the device, the tracker and the vmm log with boundary and
 * garbage arguments, and on bad fds of every kind.
 *
 * On the live tracker (the model's) only calls that must be refused before
 * they do anything are made, each one mutation of a well-formed call: a
 * size below any minimum (EINVAL), bytes past the kernel's struct (E2BIG),
 * an unknown flag (EOPNOTSUPP), a reserved field (EINVAL), an unreadable
 * struct (EFAULT), the wrong ioctl number or the wrong file (ENOTTY), a
 * closed fd (EBADF).  A module that took one anyway would show as a wrong
 * errno here, and as a loss or a state change to the model.
 *
 * Fully random fields go to a scratch tracker of a second VM, which no
 * model follows: there every answer must be 0 or an errno the uAPI
 * document lists for that ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

#define NO_RES	0xffff
/* Errnos as bits: every one the document lists is below 128. */
#define E(x)	((unsigned __int128)1 << (x))
#define COMMON	(E(EFAULT) | E(EINVAL) | E(E2BIG) | E(EOPNOTSUPP))
#define SYNCERR	(E(EAGAIN) | E(ENOSPC))

struct arg_desc {
	unsigned long cmd;
	const char *name;
	uint32_t ksize;
	uint32_t flags;		/* the flags the command knows */
	uint16_t res[2];	/* offsets of __u32 reserved fields */
	bool dev;		/* a device ioctl, not a tracker's */
	unsigned __int128 errs;	/* errnos documented besides COMMON */
};

#define D(c, s, f, r0, r1, d, e) \
	{ DIRTYTRACK_##c, #c, sizeof(struct s), f, { r0, r1 }, d, e }
#define OFF(s, f)	offsetof(struct s, f)

static const struct arg_desc descs[] = {
	D(GET_INFO, dirtytrack_info, 0, NO_RES, NO_RES, true, 0),
	D(CREATE, dirtytrack_create, 0, NO_RES, NO_RES, true,
	  E(EBADF) | E(EIO) | E(EEXIST) | E(ENOMEM) | E(EMFILE)),
	D(REGION_ADD, dirtytrack_region, 0, OFF(dirtytrack_region, __reserved),
	  NO_RES, false, E(EEXIST) | E(ENOSPC) | E(ENOBUFS) | E(ENOMEM)),
	D(REGION_REMOVE, dirtytrack_region_remove, 0,
	  OFF(dirtytrack_region_remove, __reserved), NO_RES, false,
	  E(ENOENT) | E(EBUSY) | SYNCERR),
	D(ATTACH_RING, dirtytrack_attach_ring, 0,
	  OFF(dirtytrack_attach_ring, __reserved), NO_RES, false,
	  E(EEXIST) | E(ENOSPC) | E(ENOMEM)),
	D(SYNC, dirtytrack_sync,
	  DIRTYTRACK_SYNC_FINAL_BEGIN | DIRTYTRACK_SYNC_FINAL_END,
	  OFF(dirtytrack_sync, __reserved), NO_RES, false, E(EBUSY) | SYNCERR),
	D(CLAIM, dirtytrack_claim, 0, OFF(dirtytrack_claim, __reserved), NO_RES,
	  false, E(ENOENT) | E(ENOMEM)),
	D(HARVEST_VCPU, dirtytrack_harvest_vcpu, DIRTYTRACK_HARVEST_FILLED,
	  NO_RES, NO_RES, false, E(ENOENT) | E(EBUSY) | SYNCERR),
	D(START, dirtytrack_start, DIRTYTRACK_START_ALL_DIRTY, NO_RES, NO_RES,
	  false, E(EBUSY) | SYNCERR),
	D(STOP, dirtytrack_stop, 0, NO_RES, NO_RES, false, SYNCERR),
	D(REGION_MOVE, dirtytrack_region_move, 0,
	  OFF(dirtytrack_region_move, __reserved), NO_RES, false,
	  E(ENOENT) | E(EEXIST) | E(EBUSY) | SYNCERR),
	D(ATTACH_KVM_BITMAP, dirtytrack_attach_kvm_bitmap,
	  DIRTYTRACK_KVM_RING | DIRTYTRACK_KVM_MANUAL_PROTECT |
	  DIRTYTRACK_KVM_INITIALLY_SET, NO_RES, NO_RES, false,
	  E(EEXIST) | E(ENXIO) | E(ENOBUFS) | E(ENOMEM)),
	D(VMM_LOG_FD, dirtytrack_vmm_log_fd, 0,
	  OFF(dirtytrack_vmm_log_fd, __reserved), NO_RES, false,
	  E(EMFILE) | E(ENOMEM)),
	D(VMM_MARK, dirtytrack_vmm_mark, 0, OFF(dirtytrack_vmm_mark, __reserved),
	  NO_RES, false, E(ENOENT) | E(EBUSY) | E(ENOMEM)),
	D(ATTACH_IOMMU, dirtytrack_attach_iommu, DIRTYTRACK_IOMMU_TRACKING_ON,
	  NO_RES, NO_RES, false,
	  E(EBADF) | E(ENOENT) | E(EEXIST) | E(ENOSPC) | E(ENOMEM)),
	D(IOMMU_SET_MAP, dirtytrack_iommu_set_map, 0, NO_RES, NO_RES, false,
	  E(ENOENT) | E(EBUSY) | E(ENOMEM)),
	D(IOMMU_PEEK, dirtytrack_iommu_peek, 0,
	  OFF(dirtytrack_iommu_peek, __reserved), NO_RES, false,
	  E(ENOENT) | E(EBUSY) | E(ENOMEM)),
	D(IOMMU_DETACH, dirtytrack_iommu_detach, 0,
	  OFF(dirtytrack_iommu_detach, __reserved), NO_RES, false,
	  E(ENOENT) | E(ENOMEM)),
};
#define NR_DESCS	((int)(sizeof(descs) / sizeof(descs[0])))

/* The scratch VM: a second VM, its tracker, a vCPU with a ring, memory. */
static struct {
	int vm, tr;
	struct dtvm_vcpu vc;
	uint8_t *mem;		/* FZ_SCRATCH_BYTES: buffers for pointers */
} sc = { .vm = -1, .tr = -1 };
#define FZ_SCRATCH_BYTES	(1 << 20)
#define FZ_SCRATCH_GUARD	(256 << 20)

/* The bad fds: every kind of file that is not what the call wants. */
enum { BAD_NEG, BAD_HUGE, BAD_CLOSED, BAD_NULL, BAD_EVENTFD, BAD_MEMFD,
       BAD_PIPE, BAD_SOCKET, BAD_KVM, BAD_VCPU, BAD_DEV, BAD_TRACKER,
       BAD_LOG, NR_BAD };

static int bad_fd(int kind, int *tmp)
{
	int p[2], fd = -1;

	*tmp = -1;
	switch (kind) {
	case BAD_NEG: return -1;
	case BAD_HUGE: return 1 << 20;
	case BAD_CLOSED:
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		close(fd);
		return fd;
	case BAD_NULL: fd = open("/dev/null", O_RDWR | O_CLOEXEC); break;
	case BAD_EVENTFD: fd = eventfd(0, EFD_CLOEXEC); break;
	case BAD_MEMFD: fd = memfd_create("dtfuzz", MFD_CLOEXEC); break;
	case BAD_PIPE:
		if (pipe2(p, O_CLOEXEC))
			return -1;
		close(p[1]);
		fd = p[0];
		break;
	case BAD_SOCKET: fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); break;
	case BAD_KVM: return fz.w.kvm;
	case BAD_VCPU: return fz.w.vcpu[0].vc.fd;
	case BAD_DEV: return fz.w.dev;
	case BAD_TRACKER: return fz_tr();
	case BAD_LOG: return fz.w.log_fd;
	}
	*tmp = fd;
	return fd;
}

static bool errno_documented(const struct arg_desc *d, int ret)
{
	return !ret || (-ret < 128 && ((COMMON | d->errs) & E(-ret)));
}

/* A pointer for a field: a buffer, NULL, unmapped, kernel, misaligned. */
static uint64_t garbage_ptr(struct fz_rng *r)
{
	switch (fz_below(r, 6)) {
	case 0: return 0;
	case 1: return 0xffff800000000000ULL + fz_below(r, 1 << 20);
	case 2: return 1 + fz_below(r, 4096);
	case 3: return (uintptr_t)sc.mem + FZ_SCRATCH_BYTES - fz_below(r, 64);
	}
	return (uintptr_t)sc.mem + fz_below(r, FZ_SCRATCH_BYTES / 2);
}

static int scratch_setup(void)
{
	struct dirtytrack_create c = { .size = sizeof(c) };
	int ret;

	if (sc.vm < 0) {
		sc.vm = dtvm_vm_create(fz.w.kvm);
		if (sc.vm < 0)
			return sc.vm;
		ret = dtvm_enable_ring(sc.vm, DTVM_RING_CAP, 512);
		ret = ret ?: dtvm_vcpu_create(&sc.vc, fz.w.kvm, sc.vm, 0);
		ret = ret ?: dtvm_vcpu_map_ring(&sc.vc, 512);
		if (ret)
			return ret;
		/*
		 * Inside a PROT_NONE reservation: whatever a garbage length
		 * makes the kernel write past it faults, and never reaches
		 * the fuzzer's own memory.
		 */
		sc.mem = mmap(NULL, FZ_SCRATCH_GUARD, PROT_NONE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (sc.mem == MAP_FAILED)
			return -errno;
		sc.mem += (FZ_SCRATCH_GUARD - FZ_SCRATCH_BYTES) / 2;
		if (mprotect(sc.mem, FZ_SCRATCH_BYTES, PROT_READ | PROT_WRITE))
			return -errno;
	}
	if (sc.tr >= 0)
		return 0;
	c.vm_fd = sc.vm;
	ret = fz_ioctl(fz.w.dev, DIRTYTRACK_CREATE, &c);
	if (ret)
		return ret;
	sc.tr = c.out_tracker_fd;
	return 0;
}

/* A valid-looking struct of @d, with pointers into the scratch memory. */
static void fill_template(const struct arg_desc *d, uint8_t *buf)
{
	memset(buf, 0, 256);
	*(uint32_t *)buf = d->ksize;
	switch (d->cmd) {
	case DIRTYTRACK_CREATE:
		((struct dirtytrack_create *)buf)->vm_fd = fz.w.vm;
		break;
	case DIRTYTRACK_REGION_ADD:
		((struct dirtytrack_region *)buf)->slot_id = 100;
		((struct dirtytrack_region *)buf)->first_gfn = 1 << 20;
		((struct dirtytrack_region *)buf)->npages = 64;
		break;
	case DIRTYTRACK_CLAIM:
		((struct dirtytrack_claim *)buf)->slot_id = FZ_FIRST_DATA_SLOT;
		((struct dirtytrack_claim *)buf)->npages = 64;
		((struct dirtytrack_claim *)buf)->bitmap = (uintptr_t)sc.mem;
		break;
	case DIRTYTRACK_VMM_MARK:
		((struct dirtytrack_vmm_mark *)buf)->nr_ranges = 1;
		((struct dirtytrack_vmm_mark *)buf)->ranges = (uintptr_t)sc.mem;
		break;
	}
}

/* Random values in every field past size: the scratch tracker only. */
static void fill_garbage(struct fz_rng *r, const struct arg_desc *d,
			 uint8_t *buf)
{
	uint32_t off;

	for (off = 4; off + 8 <= d->ksize; off += 8) {
		uint64_t v = fz_one_in(r, 3) ? garbage_ptr(r) : fz_boundary(r);

		if (fz_one_in(r, 3))
			v = 0;
		memcpy(buf + off, &v, 8);
	}
	if (off + 4 <= d->ksize) {
		uint32_t v = fz_boundary(r);

		memcpy(buf + off, &v, 4);
	}
	/* Flags mostly known, so the calls reach their handlers. */
	((uint32_t *)buf)[1] &= fz_one_in(r, 8) ? ~0u : d->flags;
	if (fz_one_in(r, 2) && d->res[0] != NO_RES)
		memset(buf + d->res[0], 0, 4);
	/* Garbage in the scratch memory the pointers reach. */
	for (off = 0; off < 64; off++)
		((uint64_t *)sc.mem)[fz_below(r, 4096)] = fz_boundary(r);
}

/* One mutation of a well-formed call on the live tracker or device. */
static void op_mutate(struct fz_rng *r)
{
	const struct arg_desc *d = &descs[fz_below(r, NR_DESCS)];
	uint8_t buf[8192] __attribute__((aligned(8)));
	int fd = d->dev ? fz.w.dev : fz_tr(), tmp = -1, ret, want;
	unsigned long cmd = d->cmd;
	bool reserved = false;
	void *arg = buf;
	char what[96];

	if (fd < 0 || scratch_setup())
		return;
	fill_template(d, buf);
	switch (fz_below(r, 8)) {
	case 0:	/* below any minimum: size and flags at least */
		*(uint32_t *)buf = fz_below(r, 8);
		want = EINVAL;
		snprintf(what, sizeof(what), "%s with size %u", d->name,
			 *(uint32_t *)buf);
		break;
	case 1: {	/* longer than the kernel's, a byte past it set */
		uint32_t extra = 1 + fz_below(r, 4096);

		memset(buf + d->ksize, 0, extra);
		buf[d->ksize + fz_below(r, extra)] = 1 + fz_below(r, 255);
		*(uint32_t *)buf = d->ksize + extra;
		want = E2BIG;
		snprintf(what, sizeof(what), "%s with %u bytes past its struct",
			 d->name, extra);
		break;
	}
	case 2:	/* an unknown flag */
		((uint32_t *)buf)[1] |= (~d->flags) & (1u << fz_below(r, 32) |
					  (fz_one_in(r, 2) ? 0x80000000u : 0));
		if (!(((uint32_t *)buf)[1] & ~d->flags))
			((uint32_t *)buf)[1] |= 0x80000000u;
		want = EOPNOTSUPP;
		snprintf(what, sizeof(what), "%s with flags 0x%x", d->name,
			 ((uint32_t *)buf)[1]);
		break;
	case 3:	/* a reserved field */
		if (d->res[0] == NO_RES)
			return;
		*(uint32_t *)(buf + d->res[0]) = 1 + fz_below(r, 0xffffffffu);
		want = EINVAL;
		reserved = true;
		snprintf(what, sizeof(what), "%s with a reserved field set",
			 d->name);
		break;
	case 4:	/* an unreadable struct */
		arg = (void *)(uintptr_t)(fz_one_in(r, 2) ? 0 :
					  0xffff800000001000ULL);
		want = EFAULT;
		snprintf(what, sizeof(what), "%s with its struct at %p", d->name,
			 arg);
		break;
	case 5:	/* not this file's ioctl number */
		switch (fz_below(r, 3)) {
		case 0: cmd = _IOWR(DIRTYTRACK_TYPE, _IOC_NR(d->cmd), uint64_t); break;
		case 1: cmd = _IO(DIRTYTRACK_TYPE, DIRTYTRACK_CMD_IOMMU_DETACH + 1 +
				  fz_below(r, 0x7e - DIRTYTRACK_CMD_IOMMU_DETACH)); break;
		case 2: cmd = _IO(DIRTYTRACK_TYPE, fz_below(r, DIRTYTRACK_CMD_BASE)); break;
		}
		want = ENOTTY;
		snprintf(what, sizeof(what), "%s as ioctl 0x%lx", d->name, cmd);
		break;
	case 6:	/* the other dirtytrack file, or the vmm log */
		fd = d->dev ? fz_tr() : fz.w.dev;
		if (fz_one_in(r, 2) && fz.w.log_fd >= 0)
			fd = fz.w.log_fd;
		if (fd < 0)
			return;
		want = ENOTTY;
		snprintf(what, sizeof(what), "%s on the wrong dirtytrack file",
			 d->name);
		break;
	default: {	/* a file that is not dirtytrack's at all */
		int kind = BAD_NEG + fz_below(r, BAD_KVM);

		fd = bad_fd(kind, &tmp);
		want = kind <= BAD_CLOSED ? EBADF : kind == BAD_NULL ? ENOTTY : -1;
		snprintf(what, sizeof(what), "%s on bad fd kind %d", d->name, kind);
		break;
	}
	}
	ret = fz_ioctl(fd, cmd, arg);
	/*
	 * Which comes first, a reserved field or the state, is not
	 * documented (SYNC answers EBUSY first): either is a refusal.
	 */
	if (reserved)
		fz_expect(what, ret, want,
			  -fz_state_expect(fz.w.state, d->cmd, 0), -1);
	else if (want >= 0)
		fz_expect(what, ret, want, -1);
	if (tmp >= 0)
		close(tmp);
}

/* DIRTYTRACK_CREATE and ATTACH_IOMMU with every kind of bad fd. */
static void op_bad_fds(struct fz_rng *r)
{
	int kind = fz_below(r, NR_BAD), tmp, fd, ret;
	struct dirtytrack_create c = { .size = sizeof(c) };
	char what[64];

	if (scratch_setup())
		return;
	fd = bad_fd(kind, &tmp);
	if (fz_one_in(r, 2)) {
		c.vm_fd = fd;
		ret = fz_ioctl(fz.w.dev, DIRTYTRACK_CREATE, &c);
		snprintf(what, sizeof(what), "CREATE on bad fd kind %d", kind);
		fz_expect(what, ret, EBADF, -1);
		if (!ret)
			close(c.out_tracker_fd);
	} else {
		/* A scratch that passes every check: 1 GiB of bits, page end. */
		size_t len = DIRTYTRACK_SCRATCH_HEADER + (1 << 18) / 8;
		struct dirtytrack_attach_iommu a = {
			.size = sizeof(a), .iommufd = fd,
			.scratch_addr = (uintptr_t)sc.mem + FZ_SCRATCH_BYTES - len,
			.scratch_size = len,
		};
		int tr = fz_one_in(r, 2) ? sc.tr : fz_tr();

		if (tr < 0)
			goto out;
		ret = fz_ioctl(tr, DIRTYTRACK_ATTACH_IOMMU, &a);
		snprintf(what, sizeof(what), "ATTACH_IOMMU on bad fd kind %d", kind);
		fz_expect(what, ret, EBADF, -1);
	}
out:
	if (tmp >= 0)
		close(tmp);
}

/* CREATE on VMs that have a tracker already. */
static void op_create_twice(struct fz_rng *r)
{
	struct dirtytrack_create c = { .size = sizeof(c) };
	int ret;

	if (scratch_setup() || fz_tr() < 0)
		return;
	c.vm_fd = fz_one_in(r, 2) ? fz.w.vm : sc.vm;
	ret = fz_ioctl(fz.w.dev, DIRTYTRACK_CREATE, &c);
	fz_expect("CREATE for a VM that has a tracker", ret, EEXIST, -1);
	if (!ret)
		close(c.out_tracker_fd);
}

/* Fully random calls on the scratch tracker: documented answers only. */
static void op_garbage(struct fz_rng *r)
{
	const struct arg_desc *d = &descs[fz_below(r, NR_DESCS)];
	uint8_t buf[512] __attribute__((aligned(8)));
	int fd, ret;

	if (scratch_setup())
		return;
	fd = d->dev ? fz.w.dev : sc.tr;
	fill_template(d, buf);
	fill_garbage(r, d, buf);
	if (fz_one_in(r, 4))
		*(uint32_t *)buf = fz_below(r, d->ksize + 64);
	if (d->cmd == DIRTYTRACK_CREATE)
		((struct dirtytrack_create *)buf)->vm_fd = fz_below(r, 64);
	/* Regions small enough that 512 of them fit a 1 GiB guest. */
	if (d->cmd == DIRTYTRACK_REGION_ADD && !fz_one_in(r, 16))
		((struct dirtytrack_region *)buf)->npages %= 1 << 16;
	if (d->cmd == DIRTYTRACK_ATTACH_RING && fz_one_in(r, 2))
		((struct dirtytrack_attach_ring *)buf)->ring_addr =
			(uintptr_t)sc.vc.ring + (fz_one_in(r, 2) ? 0 : 64 * fz_below(r, 64));
	ret = fz_ioctl(fd, d->cmd, buf);
	fz_count_checks("errno documented for the ioctl", 1);
	fz_check(errno_documented(d, ret), "%s with garbage: %s is not documented",
		 d->name, strerror(-ret));
	if (ret)
		return;
	if (d->cmd == DIRTYTRACK_CREATE)
		close(((struct dirtytrack_create *)buf)->out_tracker_fd);
	if (d->cmd == DIRTYTRACK_VMM_LOG_FD)
		close(((struct dirtytrack_vmm_log_fd *)buf)->out_fd);
	if (d->cmd == DIRTYTRACK_SYNC && fz_one_in(r, 2)) {
		/* Back to a state where most calls reach their handlers. */
		struct dirtytrack_stop sp = { .size = sizeof(sp) };

		fz_ioctl(sc.tr, DIRTYTRACK_STOP, &sp);
	}
}

/* The scratch tracker's lifetime: closed, and made again. */
static void op_scratch_recreate(struct fz_rng *r)
{
	(void)r;
	if (sc.tr >= 0)
		close(sc.tr);
	sc.tr = -1;
	scratch_setup();
}

/* Limits: VMM_MARK's 4096 ranges, the largest region. */
static void op_limits(struct fz_rng *r)
{
	struct dirtytrack_vmm_mark mk = { .size = sizeof(mk) };
	struct dirtytrack_region rg = { .size = sizeof(rg) };
	struct dirtytrack_gpa_range *ranges;
	uint32_t i, n;
	int ret, want_out;

	if (scratch_setup())
		return;
	ranges = (struct dirtytrack_gpa_range *)sc.mem;
	if (fz_one_in(r, 2)) {
		/* The scratch tracker's region at 1 GiB: 4096 ranges in it. */
		rg.slot_id = 7;
		rg.first_gfn = (1ULL << 30) / FZ_PAGE;
		rg.npages = 4096;
		ret = fz_ioctl(sc.tr, DIRTYTRACK_REGION_ADD, &rg);
		fz_expect("REGION_ADD of the limit test's region", ret, 0, EEXIST, -1);
		/* A garbage region may hold slot 7 or that place: then the
		 * ranges may fall outside every region. */
		want_out = ret ? ENOENT : 0;
		n = fz_one_in(r, 2) ? 4096 : 4097;
		for (i = 0; i < n; i++)
			ranges[i] = (struct dirtytrack_gpa_range){
				(1ULL << 30) + (uint64_t)(i % 4096) * FZ_PAGE, 1 };
		mk.nr_ranges = n;
		mk.ranges = (uintptr_t)ranges;
		ret = fz_ioctl(sc.tr, DIRTYTRACK_VMM_MARK, &mk);
		fz_expect(n == 4096 ? "VMM_MARK of 4096 ranges" :
			  "VMM_MARK of 4097 ranges", ret, n == 4096 ? 0 : EINVAL,
			  EBUSY, n == 4096 ? want_out : EINVAL, -1);
		return;
	}
	/* Regions of 2^28 pages (the default limit) and one more. */
	rg.slot_id = 200 + fz_below(r, 50);
	rg.first_gfn = (1ULL << 40) / FZ_PAGE * (1 + fz_below(r, 4));
	rg.npages = (1ULL << 28) + fz_below(r, 2);
	ret = fz_ioctl(sc.tr, DIRTYTRACK_REGION_ADD, &rg);
	if (rg.npages > 1ULL << 28)
		fz_expect("REGION_ADD past max_region_pages", ret, EINVAL, -1);
	else
		fz_expect("REGION_ADD of max_region_pages", ret, 0, EEXIST,
			  ENOMEM, -1);
	if (!ret) {
		struct dirtytrack_region_remove rm = {
			.size = sizeof(rm), .slot_id = rg.slot_id,
		};

		/* Its harvest fails as a sync does on a scribbled ring. */
		ret = fz_ioctl(sc.tr, DIRTYTRACK_REGION_REMOVE, &rm);
		fz_expect("REGION_REMOVE of the largest region", ret, 0, ENOSPC,
			  EAGAIN, EBUSY, -1);
		if (ret) {	/* 64 MiB of sets: the tracker goes instead */
			close(sc.tr);
			sc.tr = -1;
		}
	}
}

/*
 * Scribble on the scratch vCPU's dirty ring, then harvest it: the ring is
 * untrusted (rule untrusted-ring).  That vCPU never runs and its VM has no
 * memslot, so KVM never pushes onto the ring (a push past a scribbled
 * reset index is what makes KVM itself warn) and its reset of whatever
 * the scribbles name re-protects nothing.
 */
static void op_ring_scribble(struct fz_rng *r)
{
	struct dirtytrack_attach_ring a = { .size = sizeof(a) };
	struct dirtytrack_sync s = { .size = sizeof(s) };
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };
	const struct arg_desc *d;
	uint32_t n = 1 + fz_below(r, 64), i;
	int ret;

	if (scratch_setup())
		return;
	/* Mapped by the first scratch_setup(), maybe this one. */
	a.ring_addr = (uintptr_t)sc.vc.ring;
	ret = fz_ioctl(sc.tr, DIRTYTRACK_ATTACH_RING, &a);
	fz_expect("ATTACH_RING of the scratch vCPU", ret, 0, EEXIST, -1);
	for (i = 0; i < n; i++) {
		struct kvm_dirty_gfn *e =
			&sc.vc.ring[fz_below(r, sc.vc.ring_entries)];

		e->slot = fz_one_in(r, 2) ? fz_below(r, 8) : fz_boundary(r);
		e->offset = fz_one_in(r, 2) ? fz_below(r, 4096) : fz_boundary(r);
		__atomic_store_n(&e->flags, fz_one_in(r, 2) ? KVM_DIRTY_GFN_F_DIRTY :
				 fz_below(r, 4), __ATOMIC_RELEASE);
	}
	if (fz_one_in(r, 2)) {
		d = &descs[DIRTYTRACK_CMD_SYNC - DIRTYTRACK_CMD_BASE];
		ret = fz_ioctl(sc.tr, DIRTYTRACK_SYNC, &s);
	} else {
		d = &descs[DIRTYTRACK_CMD_HARVEST_VCPU - DIRTYTRACK_CMD_BASE];
		ret = fz_ioctl(sc.tr, DIRTYTRACK_HARVEST_VCPU, &h);
	}
	fz_count_checks("errno documented for the ioctl", 1);
	fz_check(errno_documented(d, ret), "%s of a scribbled ring: %s is not "
		 "documented", d->name, strerror(-ret));
}

const struct fz_op fz_args_ops[] = {
	{ "args: scribbles on an idle vCPU's ring", op_ring_scribble, 4 },
	{ "args: one mutation of a valid call", op_mutate, 30 },
	{ "args: bad fds for CREATE/ATTACH_IOMMU", op_bad_fds, 6 },
	{ "args: CREATE twice", op_create_twice, 2 },
	{ "args: garbage on the scratch tracker", op_garbage, 30 },
	{ "args: scratch tracker re-created", op_scratch_recreate, 1 },
	{ "args: limits (ranges, region size)", op_limits, 2 },
};
const int fz_nr_args_ops = sizeof(fz_args_ops) / sizeof(fz_args_ops[0]);
