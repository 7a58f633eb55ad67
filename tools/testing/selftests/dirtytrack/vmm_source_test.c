// SPDX-License-Identifier: GPL-2.0
/*
 * The vmm source: the tracker-owned log in the vhost layout, written by
 * DIRTYTRACK_VMM_MARK and through mappings of its own fd (in this process
 * or another one, as a vhost-user backend would), harvested by every sync.
 * Marks outside the regions are refused (ioctl) or counted (mapping); the
 * log grows with memory hotplug and keeps its bits; concurrent writers
 * lose nothing; a page several sources report is one dirty page.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "dt_guest.h"

#define SLOTS		2
#define SLOT_PAGES	256
#define PAGE		DTG_PAGE

FIXTURE(vmm) {
	struct dt_guest g;
};

FIXTURE_SETUP(vmm)
{
	dtg_create(_metadata, &self->g, 1, SLOTS, SLOT_PAGES, 4096);
}

FIXTURE_TEARDOWN(vmm)
{
	dtg_destroy(&self->g);
}

static int mark_ranges(int tr, const struct dirtytrack_gpa_range *r, uint32_t n)
{
	struct dirtytrack_vmm_mark m = {
		.size = sizeof(m), .nr_ranges = n, .ranges = (uintptr_t)r,
	};

	return ioctl(tr, DIRTYTRACK_VMM_MARK, &m) ? -errno : 0;
}

static int mark(int tr, uint64_t gpa, uint64_t len)
{
	struct dirtytrack_gpa_range r = { .gpa = gpa, .len = len };

	return mark_ranges(tr, &r, 1);
}

static int log_fd(int tr, uint64_t *size)
{
	struct dirtytrack_vmm_log_fd l = { .size = sizeof(l) };

	if (ioctl(tr, DIRTYTRACK_VMM_LOG_FD, &l))
		return -errno;
	*size = l.out_log_size;
	return l.out_fd;
}

static uint64_t page_align(uint64_t x)
{
	return (x + getpagesize() - 1) & ~(uint64_t)(getpagesize() - 1);
}

/* The log bit of guest physical address @gpa, set as vhost does. */
static void log_set(uint64_t *log, uint64_t gpa)
{
	uint64_t bit = gpa >> DIRTYTRACK_VMM_LOG_PAGE_SHIFT;

	__atomic_fetch_or(&log[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELEASE);
}

/* Claim every data slot: @want is indexed by page of the data area. */
static void expect_data(struct __test_metadata *_metadata, struct dt_guest *g,
			const uint8_t *want)
{
	int i;

	for (i = 0; i < g->nr_slots; i++)
		dtg_expect_slot(_metadata, g->tr, i, g->slot_pages,
				want + i * g->slot_pages);
}

TEST_F(vmm, marks_are_reported_by_the_next_sync)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 }, none[SLOTS * SLOT_PAGES] = { 0 };
	struct dirtytrack_gpa_range r[] = {
		{ DTG_DATA_GPA + 3 * PAGE, 1 },			/* one byte */
		{ DTG_DATA_GPA + 10 * PAGE + 100, PAGE },	/* two pages */
		/* across the boundary of the two slots */
		{ DTG_DATA_GPA + (SLOT_PAGES - 2) * PAGE, 4 * PAGE },
	};
	struct dirtytrack_sync s;

	want[3] = 1;
	want[10] = want[11] = 1;
	want[SLOT_PAGES - 2] = want[SLOT_PAGES - 1] = 1;
	want[SLOT_PAGES] = want[SLOT_PAGES + 1] = 1;
	ASSERT_EQ(0, mark_ranges(g->tr, r, 3));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(7, s.out_vmm_pages);
	EXPECT_EQ(0, s.out_vmm_outside);
	expect_data(_metadata, g, want);
	/* Taken: the next sync finds nothing. */
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(0, s.out_vmm_pages);
	expect_data(_metadata, g, none);
}

TEST_F(vmm, mark_refusals)
{
	struct dt_guest *g = &self->g;
	struct dirtytrack_gpa_range r[2] = {
		{ DTG_DATA_GPA, PAGE },
		{ DTG_DATA_GPA + SLOTS * SLOT_PAGES * PAGE - PAGE, 2 * PAGE },
	};
	struct dirtytrack_vmm_mark m = {
		.size = sizeof(m), .nr_ranges = 1, .ranges = (uintptr_t)r,
	};
	struct dirtytrack_sync s;
	static struct dirtytrack_gpa_range many[4097];

	/* The second range runs past the last region: nothing is marked. */
	EXPECT_EQ(-ENOENT, mark_ranges(g->tr, r, 2));
	EXPECT_EQ(-ENOENT, mark(g->tr, DTG_DATA_GPA - PAGE, 1));
	EXPECT_EQ(-ENOENT, mark(g->tr, 1ULL << 40, 1));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(0, s.out_vmm_pages);

	EXPECT_EQ(-EINVAL, mark(g->tr, DTG_DATA_GPA, 0));
	EXPECT_EQ(-EINVAL, mark(g->tr, -PAGE, 2 * PAGE));
	EXPECT_EQ(-EINVAL, mark_ranges(g->tr, r, 0));
	EXPECT_EQ(-EINVAL, mark_ranges(g->tr, many, 4097));
	EXPECT_EQ(-EFAULT, mark_ranges(g->tr, (void *)8, 1));
	m.flags = 1;
	EXPECT_EQ(-1, ioctl(g->tr, DIRTYTRACK_VMM_MARK, &m));
	EXPECT_EQ(EOPNOTSUPP, errno);
	m.flags = 0;
	m.__reserved = 1;
	EXPECT_EQ(-1, ioctl(g->tr, DIRTYTRACK_VMM_MARK, &m));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vmm, writes_through_the_log_mapping)
{
	struct dt_guest *g = &self->g;
	uint64_t size, expect_size, end = DTG_DATA_GPA + SLOTS * SLOT_PAGES * PAGE;
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 };
	struct dirtytrack_sync s;
	uint64_t *log;
	int fd, i;

	fd = log_fd(g->tr, &size);
	ASSERT_LE(0, fd);
	expect_size = page_align((end >> 12) / 8);
	EXPECT_EQ(expect_size, size);
	/* The fd maps the log and does nothing else. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, fd, 0));
	EXPECT_EQ(-1, ioctl(fd, DIRTYTRACK_SYNC, &s));
	EXPECT_EQ(ENOTTY, errno);
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);

	for (i = 0; i < SLOTS * SLOT_PAGES; i += 7) {
		log_set(log, DTG_DATA_GPA + (uint64_t)i * PAGE);
		want[i] = 1;
	}
	/* A hole between the code and the data slots: counted, dropped. */
	log_set(log, DTG_DATA_GPA - PAGE);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ((SLOTS * SLOT_PAGES + 6) / 7, s.out_vmm_pages);
	EXPECT_EQ(1, s.out_vmm_outside);
	expect_data(_metadata, g, want);
	/* The sync took the bits out of the log. */
	for (i = 0; i < (int)(size / 8); i++)
		ASSERT_EQ(0, log[i]) TH_LOG("log word %d", i);
	munmap(log, size);
	close(fd);
}

TEST_F(vmm, the_log_ends_where_the_regions_end)
{
	uint64_t size;
	int fd = log_fd(self->g.tr, &size);
	pid_t pid;
	int status;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		volatile uint8_t *log = mmap(NULL, size + 4096, PROT_READ |
					     PROT_WRITE, MAP_SHARED, fd, 0);

		if (log == MAP_FAILED)
			_exit(1);
		log[size - 1] = 1;	/* fine */
		log[size] = 1;		/* SIGBUS */
		_exit(2);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		TH_LOG("status %#x", status);
	close(fd);
}

/* Memory hotplug above the log: it grows, and its old bits stay. */
TEST_F(vmm, the_log_grows_with_hotplug)
{
	struct dt_guest *g = &self->g;
	const uint64_t hot_gpa = 1ULL << 32, hot_pages = 64;
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 };
	uint64_t size0, size1, *log0, *log1;
	struct dirtytrack_sync s;
	void *hot;
	int fd0, fd1;

	fd0 = log_fd(g->tr, &size0);
	ASSERT_LE(0, fd0);
	log0 = mmap(NULL, size0, PROT_READ | PROT_WRITE, MAP_SHARED, fd0, 0);
	ASSERT_NE(MAP_FAILED, log0);
	log_set(log0, DTG_DATA_GPA + 5 * PAGE);
	want[5] = 1;

	hot = mmap(NULL, hot_pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hot);
	ASSERT_EQ(0, dtvm_set_memslot(g->vm, 20, KVM_MEM_LOG_DIRTY_PAGES,
				      hot_gpa, hot_pages * PAGE, hot));
	ASSERT_EQ(0, dtt_region_add(g->tr, 20, hot_gpa, hot_pages));

	fd1 = log_fd(g->tr, &size1);
	ASSERT_LE(0, fd1);
	EXPECT_EQ(page_align(((hot_gpa >> 12) + hot_pages) / 8), size1);
	log1 = mmap(NULL, size1, PROT_READ | PROT_WRITE, MAP_SHARED, fd1, 0);
	ASSERT_NE(MAP_FAILED, log1);
	/* One log: the bit set through the old mapping is in the new one. */
	EXPECT_EQ(1ULL << (((DTG_DATA_GPA >> 12) + 5) % 64),
		  log1[((DTG_DATA_GPA >> 12) + 5) / 64]);
	log_set(log1, hot_gpa + 9 * PAGE);

	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(2, s.out_vmm_pages);
	expect_data(_metadata, g, want);
	{
		uint64_t words[1], n;

		ASSERT_EQ(0, dtt_claim(g->tr, 20, 0, hot_pages, words, &n));
		EXPECT_EQ(1, n);
		EXPECT_EQ(1ULL << 9, words[0]);
	}
	munmap(log0, size0);
	munmap(log1, size1);
	close(fd0);
	close(fd1);
	munmap(hot, hot_pages * PAGE);
}

/*
 * A memslot moves: log bits addressed to its old place until the next
 * sync are still its own; after that sync they are in no region.
 */
TEST_F(vmm, a_moved_region_keeps_its_old_log_bits_until_the_next_sync)
{
	struct dt_guest *g = &self->g;
	const uint64_t old_gpa = dtg_slot_gpa(g, 1), new_gpa = 1ULL << 30;
	struct dirtytrack_region_move mv = {
		.size = sizeof(mv), .slot_id = DTG_FIRST_DATA_SLOT + 1,
		.new_first_gfn = new_gpa / PAGE,
	};
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 };
	struct dirtytrack_sync s;
	uint64_t size, *log;
	int fd;

	ASSERT_EQ(0, ioctl(g->tr, DIRTYTRACK_REGION_MOVE, &mv));
	ASSERT_EQ(0, dtvm_set_memslot(g->vm, DTG_FIRST_DATA_SLOT + 1,
				      KVM_MEM_LOG_DIRTY_PAGES, new_gpa,
				      SLOT_PAGES * PAGE,
				      g->data + SLOT_PAGES * PAGE));
	fd = log_fd(g->tr, &size);
	ASSERT_LE(0, fd);
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);

	/* Written just before the move reached the writer. */
	log_set(log, old_gpa + 7 * PAGE);
	log_set(log, new_gpa + 9 * PAGE);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(2, s.out_vmm_pages);
	EXPECT_EQ(0, s.out_vmm_outside);
	want[SLOT_PAGES + 7] = want[SLOT_PAGES + 9] = 1;
	expect_data(_metadata, g, want);

	/* The next sync knows only the new place. */
	log_set(log, old_gpa + 7 * PAGE);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(0, s.out_vmm_pages);
	EXPECT_EQ(1, s.out_vmm_outside);
	munmap(log, size);
	close(fd);
}

/*
 * A vhost-user backend: another process, holding only the log's fd, maps
 * it and marks pages; it cannot reach the tracker.  The log also outlives
 * the tracker for a backend that still maps it.
 */
TEST_F(vmm, another_process_writes_through_its_own_fd)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 };
	struct dirtytrack_sync s;
	uint64_t size, *log;
	int fd = log_fd(g->tr, &size), status, i;
	pid_t pid;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct dirtytrack_sync cs = { .size = sizeof(cs) };

		log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (log == MAP_FAILED)
			_exit(1);
		for (i = 0; i < SLOTS * SLOT_PAGES; i += 3)
			log_set(log, DTG_DATA_GPA + (uint64_t)i * PAGE);
		/* The tracker answers only its own process. */
		if (!ioctl(g->tr, DIRTYTRACK_SYNC, &cs) || errno != EPERM)
			_exit(2);
		if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, g->tr, 0) != MAP_FAILED)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	for (i = 0; i < SLOTS * SLOT_PAGES; i += 3)
		want[i] = 1;
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ((SLOTS * SLOT_PAGES + 2) / 3, s.out_vmm_pages);
	expect_data(_metadata, g, want);

	/* The tracker goes; the backend's mapping stays usable. */
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);
	close(fd);
	close(g->tr);
	g->tr = -1;
	log_set(log, DTG_DATA_GPA);
	EXPECT_EQ(1, log[(DTG_DATA_GPA >> 12) / 64] >> ((DTG_DATA_GPA >> 12) % 64) & 1);
	munmap(log, size);
}

struct writer {
	pthread_t thread;
	int tr;
	uint64_t *log;
	unsigned int seed;
	volatile int *stop;
	uint8_t want[SLOTS * SLOT_PAGES];
	unsigned long marks;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;

	while (!*w->stop) {
		uint64_t p = rand_r(&w->seed) % (SLOTS * SLOT_PAGES);
		uint64_t gpa = DTG_DATA_GPA + p * PAGE;

		/* Half through the ioctl, half through the mapping. */
		if (p & 1)
			log_set(w->log, gpa);
		else if (mark(w->tr, gpa, 1))
			break;
		w->want[p] = 1;
		w->marks++;
	}
	return NULL;
}

TEST_F(vmm, concurrent_writers_lose_nothing)
{
	enum { WRITERS = 3, ROUNDS = 300 };
	struct dt_guest *g = &self->g;
	static struct writer w[WRITERS];
	uint8_t got[SLOTS * SLOT_PAGES] = { 0 };
	uint64_t words[SLOT_PAGES / 64], n, size, *log, p;
	unsigned long marks = 0;
	volatile int stop = 0;
	int fd, i, round, slot;

	fd = log_fd(g->tr, &size);
	ASSERT_LE(0, fd);
	log = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, log);
	for (i = 0; i < WRITERS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].tr = g->tr;
		w[i].log = log;
		w[i].seed = 100 + i;
		w[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, writer_thread, &w[i]));
	}
	for (round = 0; round <= ROUNDS; round++) {
		struct dirtytrack_sync s;

		if (round == ROUNDS) {
			stop = 1;
			for (i = 0; i < WRITERS; i++)
				pthread_join(w[i].thread, NULL);
		}
		ASSERT_EQ(0, dtt_sync(g->tr, &s));
		EXPECT_EQ(0, s.out_vmm_outside);
		for (slot = 0; slot < SLOTS; slot++) {
			ASSERT_EQ(0, dtt_claim(g->tr, DTG_FIRST_DATA_SLOT + slot,
					       0, SLOT_PAGES, words, &n));
			for (p = 0; p < SLOT_PAGES; p++)
				got[slot * SLOT_PAGES + p] |= dtt_bit(words, p);
		}
	}
	for (i = 0; i < WRITERS; i++)
		marks += w[i].marks;
	TH_LOG("%lu marks by %d writers over %d syncs", marks, WRITERS, ROUNDS);
	for (p = 0; p < SLOTS * SLOT_PAGES; p++) {
		uint8_t want = 0;

		for (i = 0; i < WRITERS; i++)
			want |= w[i].want[p];
		EXPECT_EQ(want, got[p]) TH_LOG("page %lu", (unsigned long)p);
	}
	munmap(log, size);
	close(fd);
}

/* A page the guest wrote and the VMM marked is one dirty page. */
TEST_F(vmm, a_page_from_two_sources_is_reported_once)
{
	struct dt_guest *g = &self->g;
	uint8_t want[SLOTS * SLOT_PAGES] = { 0 };
	uint32_t page = 17;
	struct dirtytrack_sync s;

	dtg_store_pages(_metadata, g, &page, 1);
	ASSERT_EQ(0, mark(g->tr, DTG_DATA_GPA + page * PAGE, PAGE));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(1, s.out_vmm_pages);
	EXPECT_LE(1, s.out_harvested);
	want[page] = 1;
	expect_data(_metadata, g, want);
}

TEST_HARNESS_MAIN
