// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * precopy: the calls of a precopy live migration, in order, on a real KVM
 * VM with one 16 MiB memslot and the plain KVM dirty bitmap (no dirty
 * ring, so no vCPU is needed).  The "guest memory" is written by the VMM
 * itself, which reports its writes with dirtytrack_vmm_mark(); the pages
 * each round claims are printed and counted against what was written.
 *
 *   cc -o precopy precopy.c $(pkg-config --cflags --libs libdirtytrack)
 *
 * The backend is chosen by dirtytrack_open(): the dirtytrack module if it
 * is loaded, else the user backend; DIRTYTRACK_BACKEND=kernel|user|auto
 * forces one.  Needs read and write access to /dev/kvm.
 *
 * Exit status: 0; 1 if a round claimed other pages than were written; 2
 * if /dev/kvm is unavailable or a call fails (the error is printed).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include <dirtytrack.h>

#define MEM_GPA		0x40000000ULL	/* the memslot's guest address: 1 GiB */
#define MEM_SIZE	(16ULL << 20)	/* and its size */
#define MEM_SLOT	DIRTYTRACK_SLOT(0, 0)

/* What one claim saw. */
struct round {
	uint64_t ranges;
	uint64_t pages;
};

static int fail(const char *what, int ret)
{
	fprintf(stderr, "%s: %s\n", what, strerror(-ret));
	return 2;
}

/* Send the pages of one run: here, print it and count it. */
static int send_range(const struct dirtytrack_dirty_range *r, void *ctx)
{
	struct round *rd = ctx;

	printf("  slot %" PRIu32 " pages %" PRIu64 "..%" PRIu64
	       " (%" PRIu64 ") gpa %#" PRIx64 "\n", r->slot, r->first_page,
	       r->first_page + r->npages - 1, r->npages, r->gpa);
	rd->ranges++;
	rd->pages += r->npages;
	return 0;		/* consumed: the pages were sent */
}

/*
 * The VMM writes guest memory (device emulation, here a memset) and then
 * reports the write; the next sync publishes it.
 */
static int vmm_write(struct dirtytrack_tracker *t, uint8_t *mem, uint64_t off,
		     uint64_t len, int value)
{
	memset(mem + off, value, len);
	return dirtytrack_vmm_mark(t, MEM_GPA + off, len);
}

/* Sync, claim everything, and compare with the pages expected. */
static int sync_and_claim(struct dirtytrack_tracker *t, const char *name,
			  uint64_t expect)
{
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	struct round rd = { 0 };
	uint64_t claimed = 0;
	int ret;

	ret = dirtytrack_sync(t, &st);
	if (ret)
		return fail("dirtytrack_sync", ret);
	printf("%s: sync took %" PRIu64 " us: vmm log %" PRIu64
	       " pages, kvm bitmap %" PRIu64 " pages\n", name,
	       st.duration_ns / 1000, st.vmm_pages, st.kvm_bitmap_pages);
	ret = dirtytrack_claim_ranges(t, send_range, &rd, &claimed);
	if (ret)
		return fail("dirtytrack_claim_ranges", ret);
	printf("%s: claimed %" PRIu64 " pages in %" PRIu64 " ranges (expected %"
	       PRIu64 ")\n", name, claimed, rd.ranges, expect);
	return claimed == expect ? 0 : 1;
}

static const char *backend_name(enum dirtytrack_backend b)
{
	return b == DIRTYTRACK_BACKEND_KERNEL ? "kernel (/dev/dirtytrack)" :
	       b == DIRTYTRACK_BACKEND_USER ? "user (in this process)" : "?";
}

static int migrate(int vm_fd, uint8_t *mem)
{
	struct dirtytrack_kvm_bitmap_opts kopts = DIRTYTRACK_OPTS_INIT(
		dirtytrack_kvm_bitmap_opts,
		.ring_with_bitmap = false,	/* no ring: the plain bitmap */
		.max_region_bytes = MEM_SIZE);
	struct dirtytrack_start_opts sopts = DIRTYTRACK_OPTS_INIT(
		dirtytrack_start_opts, .all_dirty = true);
	struct dirtytrack_sync_stats st = DIRTYTRACK_OPTS_INIT(dirtytrack_sync_stats);
	uint64_t page = (uint64_t)getpagesize(), claimed = 0;
	struct dirtytrack_tracker *t = NULL;
	struct dirtytrack *dt = NULL;
	struct round rd = { 0 };
	int ret, rc = 2;

	/* Set-up: the connection, the VM's tracker, its memslot, its sources. */
	ret = dirtytrack_open(NULL, &dt);
	if (ret)
		return fail("dirtytrack_open", ret);
	printf("backend: %s\n", backend_name(dirtytrack_get_backend(dt)));
	ret = dirtytrack_tracker_create(dt, vm_fd, &t);
	/* The tracker keeps the connection: the handle is not needed any more. */
	dirtytrack_close(dt);
	if (ret)
		return fail("dirtytrack_tracker_create", ret);
	ret = dirtytrack_region_add(t, MEM_SLOT, MEM_GPA, MEM_SIZE);
	if (ret) {
		rc = fail("dirtytrack_region_add", ret);
		goto out;
	}
	ret = dirtytrack_attach_kvm_bitmap(t, &kopts);
	if (ret) {
		rc = fail("dirtytrack_attach_kvm_bitmap", ret);
		goto out;
	}

	/* Precopy: everything is dirty at first, so round 0 sends it all. */
	ret = dirtytrack_start(t, &sopts);
	if (ret) {
		rc = fail("dirtytrack_start", ret);
		goto out;
	}
	rc = sync_and_claim(t, "round 0", MEM_SIZE / page);
	if (rc)
		goto out;

	/* Round 1: four pages in a row, and one apart. */
	if ((ret = vmm_write(t, mem, 0, 4 * page, 1)) ||
	    (ret = vmm_write(t, mem, 100 * page, page, 1))) {
		rc = fail("dirtytrack_vmm_mark", ret);
		goto out;
	}
	rc = sync_and_claim(t, "round 1", 5);
	if (rc)
		goto out;

	/* Round 2: a few bytes across a page boundary, and the last page. */
	if ((ret = vmm_write(t, mem, 2048 * page - 8, 16, 2)) ||
	    (ret = vmm_write(t, mem, MEM_SIZE - page, page, 2))) {
		rc = fail("dirtytrack_vmm_mark", ret);
		goto out;
	}
	rc = sync_and_claim(t, "round 2", 3);
	if (rc)
		goto out;

	/* Round 3: nothing was written. */
	rc = sync_and_claim(t, "round 3", 0);
	if (rc)
		goto out;

	/*
	 * Stop-copy.  The vCPUs (none here) are out of KVM_RUN for good and
	 * device DMA is stopped; then the final sync's first phase, the device
	 * state saves (which may write guest memory: one page here), and the
	 * second phase, which seals the tracker.
	 */
	rc = 2;
	ret = dirtytrack_final_begin(t, NULL);
	if (ret) {
		rc = fail("dirtytrack_final_begin", ret);
		goto out;
	}
	ret = vmm_write(t, mem, 10 * page, page, 3);
	if (ret) {
		rc = fail("dirtytrack_vmm_mark", ret);
		goto out;
	}
	ret = dirtytrack_final_end(t, &st);
	if (ret) {
		rc = fail("dirtytrack_final_end", ret);
		goto out;
	}
	ret = dirtytrack_claim_ranges(t, send_range, &rd, &claimed);
	if (ret) {
		rc = fail("dirtytrack_claim_ranges", ret);
		goto out;
	}
	/* Round 0 to 3 claimed everything else: only the device's page is left. */
	printf("final: claimed %" PRIu64 " pages (expected %" PRIu64 ")\n",
	       claimed, (uint64_t)1);
	if (claimed != 1) {
		rc = 1;
		goto out;
	}

	/* Success: the destination runs the guest.  (Failure: start again.) */
	ret = dirtytrack_stop(t);
	if (ret) {
		rc = fail("dirtytrack_stop", ret);
		goto out;
	}
	printf("migrated\n");
	rc = 0;
out:
	dirtytrack_tracker_destroy(t);
	return rc;
}

int main(void)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.flags = KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = MEM_GPA,
		.memory_size = MEM_SIZE,
	};
	int kvm_fd, vm_fd, rc;
	void *mem;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		perror("open /dev/kvm");
		return 2;
	}
	vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0) {
		perror("KVM_CREATE_VM");
		close(kvm_fd);
		return 2;
	}
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		rc = 2;
		goto out;
	}
	slot.userspace_addr = (uintptr_t)mem;
	/* Dirty logging on from the start: the tracker reads KVM's bitmap. */
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &slot)) {
		perror("KVM_SET_USER_MEMORY_REGION");
		rc = 2;
		goto out_unmap;
	}
	rc = migrate(vm_fd, mem);
out_unmap:
	munmap(mem, MEM_SIZE);
out:
	close(vm_fd);
	close(kvm_fd);
	return rc;
}
