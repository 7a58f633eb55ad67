/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny KVM guest for the dirtytrack selftests, with no firmware: a code
 * memslot, a data area split over several memslots (one host mapping, so
 * the test can compare it as a whole), N vCPUs each with a dirty ring, and
 * a tracker that mirrors it all.
 *
 * The guest runs one of two programs:
 *  - a store list: one store to each listed data page, then stop
 *    (x86: hlt; arm64: an MMIO store);
 *  - a sweep: forever, page = (page + stride) & mask, store an increasing
 *    counter there; each vCPU has its own start and stride.
 *
 * x86 runs in flat 32-bit protected mode (dtvm_x86_flat32()); arm64 runs
 * at EL1 with the MMU off.  The VM, its memslots and vCPUs come from
 * tools/lib/dtvm, the tracker's ioctls from dt_tracker.h.
 */
#ifndef DT_GUEST_H
#define DT_GUEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dirtytrack.h>
#include <linux/kvm.h>

#include "dt_tracker.h"
#include "dtvm.h"
#if defined(__x86_64__)
#include "dtvm_x86.h"
#elif defined(__aarch64__)
#include "dtvm_arm64.h"
#endif
#include "kselftest_harness.h"

#define DTG_PAGE	DTT_PAGE
#define DTG_MAX_VCPUS	4
#define DTG_MAX_SLOTS	8
#define DTG_CODE_SLOT	0
#define DTG_CODE_SIZE	0x10000
#define DTG_FIRST_DATA_SLOT 1

/*
 * Guest memory starts at 16 MiB on x86 too, where the iommufd mock's
 * aperture does: the iommu tests map it at IOVA == GPA, as a VMM without
 * a vIOMMU maps guest RAM for a device it passes through.
 */
#if defined(__x86_64__)
#define DTG_CODE_GPA	0x1000000
#define DTG_DATA_GPA	0x1100000
#elif defined(__aarch64__)
#define DTG_CODE_GPA	0x10000000
#define DTG_DATA_GPA	0x10100000
#define DTG_DONE_MMIO	0x20000000
#else
#error "unsupported architecture"
#endif
#define DTG_ENTRY	(DTG_CODE_GPA + 0x1000)
/*
 * How the VM logs dirty pages (dtg_create_mode()); the tracker gets the
 * matching kvm-bitmap source.
 */
#define DTG_RING		0	/* dirty rings only */
#define DTG_RING_BITMAP		(1 << 0)	/* rings + backup bitmap (arm64) */
#define DTG_BITMAP		(1 << 1)	/* no ring: the plain bitmap */
#define DTG_MANUAL		(1 << 2)	/* DTG_BITMAP + manual protect */
#define DTG_INIT_SET		(1 << 3)	/* DTG_MANUAL + INITIALLY_SET */

/* vCPU i's store list; the sweep, shared by all vCPUs, is at DTG_ENTRY. */
#define DTG_LIST_ENTRY(i)	(DTG_ENTRY + 0x1000 * (1 + (i)))

struct dtg_vcpu {
	struct dtvm_vcpu vc;
	pthread_t thread;
	bool running;
	unsigned long ring_full_exits;
	struct dt_guest *g;
};

struct dt_guest {
	int kvm, vm, dev, tr;
	int nr_vcpus, nr_slots;
	uint64_t slot_pages, data_pages;
	uint64_t hot_pages;	/* the sweep's pages (a power of 2); 0: all */
	uint32_t ring_entries;
	uint8_t *code, *data;
	struct dtg_vcpu vcpu[DTG_MAX_VCPUS];
	struct dirtytrack_region region[DTG_MAX_SLOTS];	/* data slots */
	volatile int stop;
	volatile int error;	/* first vCPU thread error, as -errno */
	unsigned int bad_exit;	/* the exit reason behind -EPROTO */
	bool allow_mmio;	/* sweeps may hit an unplugged data slot */
	bool own_pages;		/* vCPU i sweeps only pages p % nr_vcpus == i */
	unsigned long mmio_exits;
	unsigned int mode;	/* DTG_RING, DTG_BITMAP, ... */
	uint8_t *scratch;	/* the kvm-bitmap source's scratch */
	size_t scratch_size;
	/* A vCPU's ring is full: harvest it (0 or -errno); NULL: the ioctl. */
	int (*ring_full)(struct dtg_vcpu *v);
	void *priv;		/* the ring_full hook's */
};

static inline uint64_t dtg_slot_gpa(struct dt_guest *g, int i)
{
	return DTG_DATA_GPA + i * g->slot_pages * DTG_PAGE;
}

/* Claim data slot @i: exactly the pages with @want[page] set are dirty. */
static inline void dtg_expect_slot(struct __test_metadata *_metadata,
				   int tr, int i, uint64_t npages,
				   const uint8_t *want)
{
	uint64_t words[(npages + 63) / 64], dirty = 0, p, nwant = 0;

	ASSERT_EQ(0, dtt_claim(tr, DTG_FIRST_DATA_SLOT + i, 0, npages, words,
			       &dirty));
	for (p = 0; p < npages; p++) {
		nwant += want[p];
		EXPECT_EQ(want[p], dtt_bit(words, p))
			TH_LOG("slot %d page %lu", i, (unsigned long)p);
	}
	EXPECT_EQ(nwant, dirty);
}

static inline void dtg_map_slot(struct __test_metadata *_metadata,
				struct dt_guest *g, uint32_t slot, uint64_t gpa,
				uint64_t size, void *mem)
{
	int ret = dtvm_set_memslot(g->vm, slot, KVM_MEM_LOG_DIRTY_PAGES, gpa,
				   size, mem);

	ASSERT_EQ(0, ret) TH_LOG("memslot %u: %s", slot, strerror(-ret));
}

/* The VM's dirty-log capabilities for @mode, before any memslot. */
static inline void dtg_enable_logging(struct __test_metadata *_metadata,
				      struct dt_guest *g)
{
	uint64_t manual = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
	int ret;

	if (g->mode & DTG_BITMAP) {
		if (!(g->mode & DTG_MANUAL))
			return;
		if (g->mode & DTG_INIT_SET)
			manual |= KVM_DIRTY_LOG_INITIALLY_SET;
		ret = dtvm_enable_cap(g->vm, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
				      manual);
		ASSERT_EQ(0, ret) TH_LOG("manual protect: %s", strerror(-ret));
		return;
	}
	ret = dtvm_enable_ring(g->vm, DTVM_RING_CAP, g->ring_entries);
	ASSERT_EQ(0, ret) TH_LOG("enable ring: %s", strerror(-ret));
	if (g->mode & DTG_RING_BITMAP) {
		ret = dtvm_enable_cap(g->vm, KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP, 0);
		ASSERT_EQ(0, ret) TH_LOG("ring with bitmap: %s", strerror(-ret));
	}
}

/* The kvm-bitmap flags that declare @mode to the tracker. */
static inline uint32_t dtg_bitmap_flags(unsigned int mode)
{
	uint32_t f = 0;

	if (mode & DTG_RING_BITMAP)
		f |= DIRTYTRACK_KVM_RING;
	if (mode & DTG_MANUAL)
		f |= DIRTYTRACK_KVM_MANUAL_PROTECT;
	if (mode & DTG_INIT_SET)
		f |= DIRTYTRACK_KVM_INITIALLY_SET;
	return f;
}

/*
 * Create the VM, its memslots and vCPUs (with rings unless DTG_BITMAP),
 * with no tracker: dtg_create_mode() adds one through the ioctls, the
 * library's tests through libdirtytrack.
 *
 * On @kvm, a /dev/kvm descriptor the caller opened (and @g now owns), or
 * -1 to open one: a test that drops its privileges opens the devices
 * first.
 */
static inline void dtg_create_vm_on(struct __test_metadata *_metadata,
				    struct dt_guest *g, int kvm, int nr_vcpus,
				    int nr_slots, uint64_t slot_pages,
				    uint32_t ring_entries, unsigned int mode)
{
	bool rings = !(mode & DTG_BITMAP);
	int i;

	memset(g, 0, sizeof(*g));
	g->nr_vcpus = nr_vcpus;
	g->nr_slots = nr_slots;
	g->slot_pages = slot_pages;
	g->data_pages = nr_slots * slot_pages;
	g->ring_entries = rings ? ring_entries : 0;
	g->mode = mode;

	g->kvm = kvm < 0 ? dtvm_kvm_open() : kvm;
	ASSERT_LE(0, g->kvm) TH_LOG("/dev/kvm: %s", strerror(-g->kvm));
	g->vm = dtvm_vm_create(g->kvm);
	ASSERT_LE(0, g->vm) TH_LOG("KVM_CREATE_VM: %s", strerror(-g->vm));
	dtg_enable_logging(_metadata, g);

	g->code = dtvm_mem_alloc(DTG_CODE_SIZE);
	ASSERT_NE(NULL, g->code);
	dtg_map_slot(_metadata, g, DTG_CODE_SLOT, DTG_CODE_GPA, DTG_CODE_SIZE,
		     g->code);
	g->data = dtvm_mem_alloc(g->data_pages * DTG_PAGE);
	ASSERT_NE(NULL, g->data);
	for (i = 0; i < nr_slots; i++)
		dtg_map_slot(_metadata, g, DTG_FIRST_DATA_SLOT + i,
			     dtg_slot_gpa(g, i), slot_pages * DTG_PAGE,
			     g->data + i * slot_pages * DTG_PAGE);

	for (i = 0; i < nr_vcpus; i++) {
		struct dtg_vcpu *v = &g->vcpu[i];
		int ret;

		v->g = g;
		ret = dtvm_vcpu_create(&v->vc, g->kvm, g->vm, i);
		ASSERT_EQ(0, ret) TH_LOG("vCPU %d: %s", i, strerror(-ret));
		if (!rings)
			continue;
		ret = dtvm_vcpu_map_ring(&v->vc, ring_entries);
		ASSERT_EQ(0, ret) TH_LOG("vCPU %d's ring: %s", i, strerror(-ret));
	}
}

static inline void dtg_create_vm(struct __test_metadata *_metadata,
				 struct dt_guest *g, int nr_vcpus,
				 int nr_slots, uint64_t slot_pages,
				 uint32_t ring_entries, unsigned int mode)
{
	dtg_create_vm_on(_metadata, g, -1, nr_vcpus, nr_slots, slot_pages,
			 ring_entries, mode);
}

/*
 * Create the VM (dtg_create_vm_on()) and a tracker that mirrors every
 * memslot and has every ring, and for DTG_RING_BITMAP or DTG_BITMAP the
 * kvm-bitmap source, attached.  @kvm and @dev: descriptors of /dev/kvm
 * and /dev/dirtytrack the caller opened, or -1 to open them.
 */
static inline void dtg_create_mode_on(struct __test_metadata *_metadata,
				      struct dt_guest *g, int kvm, int dev,
				      int nr_vcpus, int nr_slots,
				      uint64_t slot_pages,
				      uint32_t ring_entries, unsigned int mode)
{
	bool rings = !(mode & DTG_BITMAP);
	int i;

	dtg_create_vm_on(_metadata, g, kvm, nr_vcpus, nr_slots, slot_pages,
			 ring_entries, mode);
	g->dev = dev < 0 ? open("/dev/dirtytrack", O_RDWR | O_CLOEXEC) : dev;
	ASSERT_LE(0, g->dev);
	g->tr = dtt_create(g->dev, g->vm);
	ASSERT_LE(0, g->tr) TH_LOG("create tracker: %s", strerror(-g->tr));
	ASSERT_EQ(0, dtt_region_add(g->tr, DTG_CODE_SLOT, DTG_CODE_GPA,
				    DTG_CODE_SIZE / DTG_PAGE));
	ASSERT_GE(DTG_MAX_SLOTS, nr_slots);
	for (i = 0; i < nr_slots; i++)
		ASSERT_EQ(0, dtt_region_add_out(g->tr, DTG_FIRST_DATA_SLOT + i,
						dtg_slot_gpa(g, i), slot_pages,
						&g->region[i]));
	for (i = 0; rings && i < nr_vcpus; i++)
		ASSERT_EQ(0, dtt_attach_ring(g->tr, g->vcpu[i].vc.ring));
	if (mode == DTG_RING)
		return;
	g->scratch_size = dtt_scratch_size(slot_pages > DTG_CODE_SIZE / DTG_PAGE ?
					   slot_pages : DTG_CODE_SIZE / DTG_PAGE);
	g->scratch = mmap(NULL, g->scratch_size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g->scratch);
	ASSERT_EQ(0, dtt_attach_bitmap(g->tr, dtg_bitmap_flags(mode), g->scratch,
				       g->scratch_size));
}

static inline void dtg_create_mode(struct __test_metadata *_metadata,
				   struct dt_guest *g, int nr_vcpus,
				   int nr_slots, uint64_t slot_pages,
				   uint32_t ring_entries, unsigned int mode)
{
	dtg_create_mode_on(_metadata, g, -1, -1, nr_vcpus, nr_slots,
			   slot_pages, ring_entries, mode);
}

static inline void dtg_create(struct __test_metadata *_metadata,
			      struct dt_guest *g, int nr_vcpus, int nr_slots,
			      uint64_t slot_pages, uint32_t ring_entries)
{
	dtg_create_mode(_metadata, g, nr_vcpus, nr_slots, slot_pages,
			ring_entries, DTG_RING);
}

static inline void dtg_destroy(struct dt_guest *g)
{
	int i;

	if (g->tr > 0)
		close(g->tr);
	if (g->dev > 0)
		close(g->dev);
	for (i = 0; i < g->nr_vcpus; i++)
		dtvm_vcpu_destroy(&g->vcpu[i].vc);
	if (g->vm > 0)
		close(g->vm);
	if (g->kvm > 0)
		close(g->kvm);
	dtvm_mem_free(g->code, DTG_CODE_SIZE);
	dtvm_mem_free(g->data, g->data_pages * DTG_PAGE);
	if (g->scratch && g->scratch != MAP_FAILED)
		munmap(g->scratch, g->scratch_size);
}

#if defined(__x86_64__)
/* esi, ebx, edi: the program's three arguments. */
static inline int dtg_vcpu_setup(struct dt_guest *g, int i, uint64_t entry,
				 uint32_t a, uint32_t b, uint32_t c)
{
	struct kvm_regs regs = {
		.rip = entry, .rflags = 2, .rsi = a, .rbx = b, .rdi = c,
	};

	return dtvm_x86_flat32(g->vcpu[i].vc.fd, &regs);
}

/* mov dword [DATA + p * PAGE], esi (per page); hlt */
static inline void dtg_write_store_list(struct dt_guest *g, uint64_t entry,
					const uint32_t *pages, int n)
{
	uint8_t *c = g->code + (entry - DTG_CODE_GPA);
	int i;

	for (i = 0; i < n; i++) {
		uint32_t a = DTG_DATA_GPA + pages[i] * DTG_PAGE;

		*c++ = 0x89;	/* mov [disp32], esi */
		*c++ = 0x35;
		memcpy(c, &a, 4);
		c += 4;
	}
	*c = 0xf4;
}

/*
 * esi: counter, ebx: page, edi: stride
 * loop: mov eax, ebx; shl eax, 12; inc esi; mov [eax + DATA], esi;
 *       add ebx, edi; and ebx, mask; jmp loop
 */
static inline void dtg_write_sweep(struct dt_guest *g)
{
	uint8_t *c = g->code + (DTG_ENTRY - DTG_CODE_GPA);
	uint32_t data = DTG_DATA_GPA;
	uint32_t mask = (g->hot_pages ? g->hot_pages : g->data_pages) - 1;
	uint8_t prog[] = {
		0x89, 0xd8, 0xc1, 0xe0, 0x0c, 0x46, 0x89, 0xb0, 0, 0, 0, 0,
		0x01, 0xfb, 0x81, 0xe3, 0, 0, 0, 0, 0xeb, 0,
	};

	memcpy(&prog[8], &data, 4);
	memcpy(&prog[16], &mask, 4);
	prog[21] = (uint8_t)-(int)sizeof(prog);
	memcpy(c, prog, sizeof(prog));
}

static inline bool dtg_stopped_at_end(struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_HLT;
}
#else
#define DTG_X(n)	DTVM_ARM64_CORE_REG(regs.regs[n])

/*
 * x0: counter, x1: page, x2: stride, x3: mask, x4: data base.  The
 * KVM_ARM_VCPU_INIT resets the vCPU from whatever program it last ran.
 */
static inline int dtg_vcpu_setup(struct dt_guest *g, int i, uint64_t entry,
				 uint32_t a, uint32_t b, uint32_t c)
{
	uint64_t mask = (g->hot_pages ? g->hot_pages : g->data_pages) - 1;
	int fd = g->vcpu[i].vc.fd;
	int ret = dtvm_arm64_vcpu_init(g->vm, fd);

	ret = ret ?: dtvm_arm64_set_reg64(fd, DTVM_ARM64_CORE_REG(regs.pc),
					  entry);
	ret = ret ?: dtvm_arm64_set_reg64(fd, DTG_X(0), a);
	ret = ret ?: dtvm_arm64_set_reg64(fd, DTG_X(1), b);
	ret = ret ?: dtvm_arm64_set_reg64(fd, DTG_X(2), c);
	ret = ret ?: dtvm_arm64_set_reg64(fd, DTG_X(3), mask);
	return ret ?: dtvm_arm64_set_reg64(fd, DTG_X(4), DTG_DATA_GPA);
}

/*
 * nop; per page: x1 = address; str x0, [x1]; then an MMIO store.
 *
 * The nop first: the previous run ended in an MMIO write KVM completes on
 * the next KVM_RUN by stepping over the instruction at the PC, which is by
 * then the first instruction of this program.
 */
static inline void dtg_write_store_list(struct dt_guest *g, uint64_t entry,
					const uint32_t *pages, int n)
{
	uint32_t *c = (uint32_t *)(g->code + (entry - DTG_CODE_GPA));
	int i;

	*c++ = 0xd503201f;				/* nop */
	for (i = 0; i < n; i++) {
		uint32_t a = DTG_DATA_GPA + pages[i] * DTG_PAGE;

		*c++ = 0xd2800000 | (a & 0xffff) << 5 | 1;	/* movz x1 */
		*c++ = 0xf2a00000 | (a >> 16) << 5 | 1;	/* movk x1, lsl 16 */
		*c++ = 0xf9000020;			/* str x0, [x1] */
	}
	*c++ = 0xd2a40003;				/* movz x3, DONE_MMIO */
	*c++ = 0xf9000060;				/* str x0, [x3] */
	*c++ = 0x14000000;				/* b . */
	dtvm_code_written(g->code, c);
}

static inline void dtg_write_sweep(struct dt_guest *g)
{
	uint32_t *c = (uint32_t *)(g->code + (DTG_ENTRY - DTG_CODE_GPA));
	static const uint32_t prog[] = {
		0x91000400,	/* add x0, x0, #1 */
		0xd374cc25,	/* lsl x5, x1, #12 */
		0x8b0400a5,	/* add x5, x5, x4 */
		0xf90000a0,	/* str x0, [x5] */
		0x8b020021,	/* add x1, x1, x2 */
		0x8a030021,	/* and x1, x1, x3 */
		0x17fffffa,	/* b   loop */
	};

	memcpy(c, prog, sizeof(prog));
	dtvm_code_written(g->code, c + sizeof(prog) / sizeof(prog[0]));
}

static inline bool dtg_stopped_at_end(struct kvm_run *run)
{
	return run->exit_reason == KVM_EXIT_MMIO &&
	       run->mmio.phys_addr == DTG_DONE_MMIO;
}
#endif

/* Run vCPU @i through a store list: one store to each listed data page. */
static inline void dtg_vcpu_store_pages(struct __test_metadata *_metadata,
					struct dt_guest *g, int i,
					const uint32_t *pages, int n)
{
	dtg_write_store_list(g, DTG_LIST_ENTRY(i), pages, n);
	ASSERT_EQ(0, dtg_vcpu_setup(g, i, DTG_LIST_ENTRY(i), 0x5a, 0, 0));
	ASSERT_EQ(0, ioctl(g->vcpu[i].vc.fd, KVM_RUN, 0));
	ASSERT_TRUE(dtg_stopped_at_end(g->vcpu[i].vc.run))
		TH_LOG("exit reason %u", g->vcpu[i].vc.run->exit_reason);
}

static inline void dtg_store_pages(struct __test_metadata *_metadata,
				   struct dt_guest *g, const uint32_t *pages,
				   int n)
{
	dtg_vcpu_store_pages(_metadata, g, 0, pages, n);
}

/*
 * Unplug (delete) or replug data slot @i, keeping its host memory.  The
 * tracker's region goes first and comes back after (rule
 * reap-before-memslot-change).
 */
static inline int dtg_slot_unplug(struct dt_guest *g, int i)
{
	struct dirtytrack_region_remove rm = {
		.size = sizeof(rm), .slot_id = DTG_FIRST_DATA_SLOT + i,
	};

	if (ioctl(g->tr, DIRTYTRACK_REGION_REMOVE, &rm))
		return -errno;
	return dtvm_set_memslot(g->vm, DTG_FIRST_DATA_SLOT + i, 0,
				dtg_slot_gpa(g, i), 0, NULL);
}

static inline int dtg_slot_replug(struct dt_guest *g, int i)
{
	uint64_t bytes = g->slot_pages * DTG_PAGE;
	int ret = dtvm_set_memslot(g->vm, DTG_FIRST_DATA_SLOT + i,
				   KVM_MEM_LOG_DIRTY_PAGES, dtg_slot_gpa(g, i),
				   bytes, g->data + i * bytes);

	if (ret)
		return ret;
	return dtt_region_add_out(g->tr, DTG_FIRST_DATA_SLOT + i,
				  dtg_slot_gpa(g, i), g->slot_pages,
				  &g->region[i]);
}

static inline void dtg_kick_handler(int sig)
{
	(void)sig;
}

/*
 * A sweeping vCPU's thread: run until told to stop, harvesting its own
 * ring whenever KVM says it is full.
 */
static inline void *dtg_vcpu_thread(void *arg)
{
	struct dtg_vcpu *v = arg;
	struct dt_guest *g = v->g;
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };

	h.vcpu_id = v - g->vcpu;
	while (!g->stop) {
		if (ioctl(v->vc.fd, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			g->error = -errno;
			break;
		}
		if (v->vc.run->exit_reason == KVM_EXIT_MMIO && g->allow_mmio) {
			/* A store into an unplugged slot: drop it, go on. */
			__atomic_fetch_add(&g->mmio_exits, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (v->vc.run->exit_reason != KVM_EXIT_DIRTY_RING_FULL) {
			g->bad_exit = v->vc.run->exit_reason;
			g->error = -EPROTO;
			break;
		}
		v->ring_full_exits++;
		if (g->ring_full) {
			int ret = g->ring_full(v);

			if (ret) {
				g->error = ret;
				break;
			}
		} else if (ioctl(g->tr, DIRTYTRACK_HARVEST_VCPU, &h)) {
			g->error = -errno;
			break;
		}
	}
	return NULL;
}

/*
 * Start every vCPU sweeping, each from its own page with its own odd
 * stride, so each visits every page.  With own_pages, vCPU i starts at page
 * i and strides by nr_vcpus times an odd number: it visits exactly the
 * pages p % nr_vcpus == i (nr_vcpus a power of two), and no two vCPUs
 * ever fault on the same page.
 */
static inline void dtg_start_sweep(struct __test_metadata *_metadata,
			    struct dt_guest *g)
{
	struct sigaction sa = { .sa_handler = dtg_kick_handler };
	uint32_t n = g->own_pages ? g->nr_vcpus : 1;
	int i;

	ASSERT_EQ(0, n & (n - 1));
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));	/* no SA_RESTART */
	dtg_write_sweep(g);
	for (i = 0; i < g->nr_vcpus; i++) {
		ASSERT_EQ(0, dtg_vcpu_setup(g, i, DTG_ENTRY, i << 24,
					    g->own_pages ? i : i * 7,
					    n * (2 * i + 1)));
		ASSERT_EQ(0, pthread_create(&g->vcpu[i].thread, NULL,
					    dtg_vcpu_thread, &g->vcpu[i]));
		g->vcpu[i].running = true;
	}
}

/* Stop every vCPU: out of KVM_RUN, and not entering it again. */
static inline void dtg_stop(struct dt_guest *g)
{
	int i;

	g->stop = 1;
	for (i = 0; i < g->nr_vcpus; i++) {
		if (!g->vcpu[i].running)
			continue;
		g->vcpu[i].vc.run->immediate_exit = 1;
		pthread_kill(g->vcpu[i].thread, SIGUSR1);
		pthread_join(g->vcpu[i].thread, NULL);
		g->vcpu[i].running = false;
	}
}

#endif /* DT_GUEST_H */
