// SPDX-License-Identifier: GPL-2.0
/*
 * dtfuzz's world: one KVM VM (tools/lib/dtvm) whose vCPUs sweep the first
 * FZ_HOT_PAGES data pages forever, storing an increasing counter; its
 * tracker, with a region per memslot and every ring attached; the
 * regions' mappings; and the pausing of the vCPUs the model's checkpoints
 * need.  A vCPU whose ring is full harvests it (HARVEST_VCPU); if that
 * fails (the tracker is sealed, closed, replaced) it retries, so a vCPU
 * never stops for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#if defined(__x86_64__)
#include "dtvm_x86.h"
#elif defined(__aarch64__)
#include "dtvm_arm64.h"
#endif

uint64_t fz_slot_gpa(int i)
{
	return FZ_DATA_GPA + (uint64_t)i * FZ_SLOT_PAGES * FZ_PAGE;
}

uint8_t *fz_page(struct fz_world *w, int page)
{
	return w->data + (size_t)page * FZ_PAGE;
}

#if defined(__x86_64__)
/*
 * esi: counter, ebx: page, edi: stride
 * loop: mov eax, ebx; shl eax, 12; inc esi; mov [eax + DATA], esi;
 *       add ebx, edi; and ebx, mask; jmp loop
 */
static void write_sweep(struct fz_world *w)
{
	uint8_t *c = w->code + (FZ_ENTRY - FZ_CODE_GPA);
	uint32_t data = FZ_DATA_GPA, mask = FZ_HOT_PAGES - 1;
	uint8_t prog[] = {
		0x89, 0xd8, 0xc1, 0xe0, 0x0c, 0x46, 0x89, 0xb0, 0, 0, 0, 0,
		0x01, 0xfb, 0x81, 0xe3, 0, 0, 0, 0, 0xeb, 0,
	};

	memcpy(&prog[8], &data, 4);
	memcpy(&prog[16], &mask, 4);
	prog[21] = (uint8_t)-(int)sizeof(prog);
	dtvm_load_code(c, prog, sizeof(prog));
}

static int vcpu_setup(struct fz_world *w, int i)
{
	struct kvm_regs regs = {
		.rip = FZ_ENTRY, .rflags = 2, .rsi = (uint32_t)i << 24,
		.rbx = i * 7, .rdi = 2 * i + 1,
	};

	return dtvm_x86_flat32(w->vcpu[i].vc.fd, &regs);
}
#elif defined(__aarch64__)
/* x0: counter, x1: page, x2: stride, x3: mask, x4: data base. */
static void write_sweep(struct fz_world *w)
{
	static const uint32_t prog[] = {
		0x91000400,	/* add x0, x0, #1 */
		0xd374cc25,	/* lsl x5, x1, #12 */
		0x8b0400a5,	/* add x5, x5, x4 */
		0xf90000a0,	/* str x0, [x5] */
		0x8b020021,	/* add x1, x1, x2 */
		0x8a030021,	/* and x1, x1, x3 */
		0x17fffffa,	/* b   loop */
	};

	dtvm_load_code(w->code + (FZ_ENTRY - FZ_CODE_GPA), prog, sizeof(prog));
}

#define FZ_X(n)	DTVM_ARM64_CORE_REG(regs.regs[n])

static int vcpu_setup(struct fz_world *w, int i)
{
	int fd = w->vcpu[i].vc.fd;
	int ret = dtvm_arm64_vcpu_init(w->vm, fd);

	ret = ret ?: dtvm_arm64_set_reg64(fd, DTVM_ARM64_CORE_REG(regs.pc),
					  FZ_ENTRY);
	ret = ret ?: dtvm_arm64_set_reg64(fd, FZ_X(0), (uint64_t)i << 24);
	ret = ret ?: dtvm_arm64_set_reg64(fd, FZ_X(1), i * 7);
	ret = ret ?: dtvm_arm64_set_reg64(fd, FZ_X(2), 2 * i + 1);
	ret = ret ?: dtvm_arm64_set_reg64(fd, FZ_X(3), FZ_HOT_PAGES - 1);
	return ret ?: dtvm_arm64_set_reg64(fd, FZ_X(4), FZ_DATA_GPA);
}
#else
#error "unsupported architecture"
#endif

static void kick(int sig)
{
	(void)sig;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void *vcpu_thread(void *arg)
{
	struct fz_vcpu *v = arg;
	struct fz_world *w = &fz.w;
	struct dirtytrack_harvest_vcpu h = { .size = sizeof(h) };

	h.vcpu_id = v - w->vcpu;
	while (!w->stop) {
		if (w->pause) {
			pthread_mutex_lock(&w->pause_lock);
			v->paused = true;
			pthread_cond_broadcast(&w->pause_cond);
			while (w->pause && !w->stop)
				pthread_cond_wait(&w->pause_cond, &w->pause_lock);
			v->paused = w->stop;
			pthread_mutex_unlock(&w->pause_lock);
			continue;
		}
		if (ioctl(v->vc.fd, KVM_RUN, 0)) {
			if (errno == EINTR)
				continue;
			fz_check(false, "vCPU %d: KVM_RUN: %s", (int)h.vcpu_id,
				 strerror(errno));
			goto out;
		}
		switch (v->vc.run->exit_reason) {
		case KVM_EXIT_MMIO:
			/* A store into an unplugged slot: dropped. */
			v->mmio++;
			break;
		case KVM_EXIT_DIRTY_RING_FULL:
			v->ring_full++;
			h.size = sizeof(h);
			if (fz_ioctl(fz_tr(), DIRTYTRACK_HARVEST_VCPU, &h))
				sleep_us(1000);	/* sealed, closed: later */
			break;
		default:
			fz_check(false, "vCPU %d: exit reason %u", (int)h.vcpu_id,
				 v->vc.run->exit_reason);
			goto out;
		}
	}
out:
	/* A vCPU that stopped for good counts as paused from now on. */
	pthread_mutex_lock(&w->pause_lock);
	v->paused = true;
	pthread_cond_broadcast(&w->pause_cond);
	pthread_mutex_unlock(&w->pause_lock);
	return NULL;
}

void fz_vcpus_pause(struct fz_world *w)
{
	int i;

	pthread_mutex_lock(&w->pause_lock);
	w->pause = 1;
	for (i = 0; i < FZ_NR_VCPUS; i++)
		w->vcpu[i].vc.run->immediate_exit = 1;
	pthread_mutex_unlock(&w->pause_lock);
	for (i = 0; i < FZ_NR_VCPUS; i++) {
		pthread_mutex_lock(&w->pause_lock);
		while (w->vcpu[i].running && !w->vcpu[i].paused) {
			struct timespec ts;

			pthread_kill(w->vcpu[i].thread, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 10000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&w->pause_cond, &w->pause_lock, &ts);
		}
		pthread_mutex_unlock(&w->pause_lock);
	}
}

void fz_vcpus_resume(struct fz_world *w)
{
	int i;

	pthread_mutex_lock(&w->pause_lock);
	for (i = 0; i < FZ_NR_VCPUS; i++)
		w->vcpu[i].vc.run->immediate_exit = 0;
	w->pause = 0;
	pthread_cond_broadcast(&w->pause_cond);
	pthread_mutex_unlock(&w->pause_lock);
}

int fz_slot_map(struct fz_world *w, int i)
{
	struct fz_slot *s = &w->slot[i];
	void *p;

	if (s->map || !s->region)
		return 0;
	p = mmap(NULL, s->r.out_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 w->tr, s->r.out_mmap_offset);
	if (p == MAP_FAILED)
		return -errno;
	s->map = p;
	s->map_len = s->r.out_mmap_size;
	return 0;
}

void fz_slot_unmap(struct fz_world *w, int i)
{
	struct fz_slot *s = &w->slot[i];

	if (s->map)
		munmap(s->map, s->map_len);
	s->map = NULL;
}

static int region_add(int tr, uint16_t slot, uint64_t gpa, uint64_t npages,
		      struct dirtytrack_region *out)
{
	struct dirtytrack_region r = {
		.size = sizeof(r), .slot_id = slot,
		.first_gfn = gpa / FZ_PAGE, .npages = npages,
	};
	int ret = fz_ioctl(tr, DIRTYTRACK_REGION_ADD, &r);

	if (!ret && out)
		*out = r;
	return ret;
}

int fz_tracker_setup(struct fz_world *w)
{
	struct dirtytrack_create c = { .size = sizeof(c), .vm_fd = w->vm };
	int i, ret, tries;

	/* The old tracker's last reference may still be on its way out. */
	for (tries = 0; tries < 100; tries++) {
		ret = fz_ioctl(w->dev, DIRTYTRACK_CREATE, &c);
		if (ret != -EEXIST)
			break;
		sleep_us(10000);
	}
	if (ret)
		return ret;
	w->state = FZ_IDLE;
	w->nl_id = 0;
	w->syncs = w->overflows = w->foreign = 0;
	ret = region_add(c.out_tracker_fd, FZ_CODE_SLOT, FZ_CODE_GPA,
			 FZ_CODE_SIZE / FZ_PAGE, NULL);
	for (i = 0; !ret && i < FZ_NR_SLOTS; i++) {
		w->slot[i].region = false;
		if (!w->slot[i].plugged)
			continue;
		ret = region_add(c.out_tracker_fd, FZ_FIRST_DATA_SLOT + i,
				 fz_slot_gpa(i), FZ_SLOT_PAGES, &w->slot[i].r);
		w->slot[i].region = !ret;
	}
	for (i = 0; !ret && i < FZ_NR_VCPUS; i++) {
		struct dirtytrack_attach_ring a = {
			.size = sizeof(a),
			.ring_addr = (uintptr_t)w->vcpu[i].vc.ring,
		};

		ret = fz_ioctl(c.out_tracker_fd, DIRTYTRACK_ATTACH_RING, &a);
	}
	__atomic_store_n(&w->tr, c.out_tracker_fd, __ATOMIC_RELEASE);
	return ret;
}

void fz_tracker_teardown(struct fz_world *w)
{
	int i, tr = w->tr;

	for (i = 0; i < FZ_NR_SLOTS; i++) {
		fz_slot_unmap(w, i);
		w->slot[i].region = false;
	}
	if (w->log_map)
		munmap(w->log_map, w->log_len);
	w->log_map = NULL;
	if (w->log_fd >= 0)
		close(w->log_fd);
	w->log_fd = -1;
	__atomic_store_n(&w->tr, -1, __ATOMIC_RELEASE);
	if (tr >= 0)
		close(tr);
}

int fz_world_create(struct fz_world *w, struct fz_rng *r)
{
	static const uint32_t entries[] = { 512, 1024, 4096 };
	struct sigaction sa = { .sa_handler = kick };	/* no SA_RESTART */
	int i, ret;

	memset(w, 0, sizeof(*w));
	w->tr = w->log_fd = -1;
	pthread_mutex_init(&w->pause_lock, NULL);
	pthread_cond_init(&w->pause_cond, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	w->ring_entries = entries[fz_below(r, 3)];
	w->kvm = dtvm_kvm_open();
	if (w->kvm < 0)
		return w->kvm;
	w->vm = dtvm_vm_create(w->kvm);
	if (w->vm < 0)
		return w->vm;
	ret = dtvm_enable_ring(w->vm, DTVM_RING_CAP, w->ring_entries);
	if (ret)
		return ret;
	w->code = dtvm_mem_alloc(FZ_CODE_SIZE);
	w->data = dtvm_mem_alloc((size_t)FZ_DATA_PAGES * FZ_PAGE);
	if (!w->code || !w->data)
		return -ENOMEM;
	ret = dtvm_set_memslot(w->vm, FZ_CODE_SLOT, KVM_MEM_LOG_DIRTY_PAGES,
			       FZ_CODE_GPA, FZ_CODE_SIZE, w->code);
	for (i = 0; !ret && i < FZ_NR_SLOTS; i++) {
		ret = dtvm_set_memslot(w->vm, FZ_FIRST_DATA_SLOT + i,
				       KVM_MEM_LOG_DIRTY_PAGES, fz_slot_gpa(i),
				       FZ_SLOT_PAGES * FZ_PAGE,
				       fz_page(w, i * FZ_SLOT_PAGES));
		w->slot[i].plugged = !ret;
	}
	if (ret)
		return ret;
	write_sweep(w);
	for (i = 0; i < FZ_NR_VCPUS; i++) {
		ret = dtvm_vcpu_create(&w->vcpu[i].vc, w->kvm, w->vm, i);
		ret = ret ?: dtvm_vcpu_map_ring(&w->vcpu[i].vc, w->ring_entries);
		ret = ret ?: vcpu_setup(w, i);
		if (ret)
			return ret;
	}
	w->dev = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC);
	if (w->dev < 0)
		return -errno;
	ret = fz_tracker_setup(w);
	if (ret)
		return ret;
	for (i = 0; i < FZ_NR_VCPUS; i++) {
		ret = -pthread_create(&w->vcpu[i].thread, NULL, vcpu_thread,
				      &w->vcpu[i]);
		if (ret)
			return ret;
		w->vcpu[i].running = true;
	}
	return 0;
}

void fz_world_destroy(struct fz_world *w)
{
	int i;

	w->stop = 1;
	pthread_mutex_lock(&w->pause_lock);
	pthread_cond_broadcast(&w->pause_cond);
	pthread_mutex_unlock(&w->pause_lock);
	for (i = 0; i < FZ_NR_VCPUS; i++) {
		if (!w->vcpu[i].running)
			continue;
		w->vcpu[i].vc.run->immediate_exit = 1;
		pthread_kill(w->vcpu[i].thread, SIGUSR1);
		pthread_join(w->vcpu[i].thread, NULL);
		w->vcpu[i].running = false;
	}
	fz_tracker_teardown(w);
	for (i = 0; i < FZ_NR_VCPUS; i++)
		dtvm_vcpu_destroy(&w->vcpu[i].vc);
	if (w->dev > 0)
		close(w->dev);
	if (w->vm > 0)
		close(w->vm);
	if (w->kvm > 0)
		close(w->kvm);
	dtvm_mem_free(w->code, FZ_CODE_SIZE);
	dtvm_mem_free(w->data, (size_t)FZ_DATA_PAGES * FZ_PAGE);
}
