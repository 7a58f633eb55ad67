// SPDX-License-Identifier: GPL-2.0
/*
 * The dirtytrack generic netlink family against a real guest: the stats a
 * dump reports are exactly what the guest stored and the syncs harvested;
 * a tracker's life, a final sync, a failed source and a filling ring are
 * events; a tracker is seen only from its network namespace, by callers
 * that see its owner's process, run as its owner or hold CAP_NET_ADMIN;
 * and every attribute has the size its type says.
 */
#include <grp.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "dt_guest.h"
#include "dt_nl.h"

#define NR_VCPUS	2
#define NR_SLOTS	4
#define SLOT_PAGES	1024
#define RING_ENTRIES	4096
#define CODE_PAGES	(DTG_CODE_SIZE / DTG_PAGE)
#define EVENT_MS	5000	/* the longest an event may take */
#define NOBODY		65534
#define MAX_MSGS	16
#define PARAMS		"/sys/module/dirtytrack/parameters/"

#define TR(m, x)	dtnl_get(&(m)->a, DIRTYTRACK_A_TRACKER_##x)
#define HAS_TR(m, x)	dtnl_has(&(m)->a, DIRTYTRACK_A_TRACKER_##x)
#define SRC(s, x)	dtnl_get(s, DIRTYTRACK_A_SOURCE_##x)
#define RG(m, x)	dtnl_get(&(m)->a, DIRTYTRACK_A_REGION_##x)
#define VC(m, x)	dtnl_get(&(m)->a, DIRTYTRACK_A_VCPU_##x)
#define EV(m, x)	dtnl_get(&(m)->a, DIRTYTRACK_A_EVENT_##x)

struct saved_param {
	const char *name;
	long val;
};

FIXTURE(nl) {
	struct dt_guest g;
	struct dtnl q;		/* queries */
	struct dtnl ev;		/* events, subscribed before the tracker */
	uint32_t id;		/* the tracker's */
	struct saved_param saved[4];
	int nr_saved;
};

static FILE *param_open(const char *name, const char *mode)
{
	char path[128];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	return fopen(path, mode);
}

static int param_read(const char *name, long *val)
{
	FILE *f = param_open(name, "r");
	int ret;

	if (!f)
		return -errno;
	ret = fscanf(f, "%ld", val) == 1 ? 0 : -EIO;
	fclose(f);
	return ret;
}

static int param_write(const char *name, long val)
{
	FILE *f = param_open(name, "w");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%ld\n", val) > 0 ? 0 : -EIO;
	return fclose(f) ? -errno : ret;
}

/* Set a module parameter; the teardown puts the old value back. */
static void set_param(struct __test_metadata *_metadata,
		      FIXTURE_DATA(nl) *self, const char *name, long val)
{
	struct saved_param *s = &self->saved[self->nr_saved];

	ASSERT_GT(ARRAY_SIZE(self->saved), self->nr_saved);
	ASSERT_EQ(0, param_read(name, &s->val)) TH_LOG("parameter %s", name);
	s->name = name;
	self->nr_saved++;
	ASSERT_EQ(0, param_write(name, val)) TH_LOG("parameter %s", name);
}

/* The id of the one tracker of @pid whose VM fd is @vm_fd. */
static uint32_t find_tracker(struct __test_metadata *_metadata,
			     struct dtnl *q, pid_t pid, int vm_fd)
{
	struct dtnl_msg m[MAX_MSGS];
	uint32_t id = 0;
	int n, i, found = 0;

	n = dtnl_query(q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m, MAX_MSGS);
	EXPECT_LE(0, n) TH_LOG("tracker dump: %s", strerror(-n));
	EXPECT_GE(MAX_MSGS, n);
	for (i = 0; i < n && i < MAX_MSGS; i++) {
		if (TR(&m[i], PID) != (uint32_t)pid ||
		    (int32_t)TR(&m[i], VM_FD) != vm_fd)
			continue;
		id = TR(&m[i], ID);
		found++;
	}
	EXPECT_EQ(1, found) TH_LOG("trackers of pid %d, vm fd %d", pid, vm_fd);
	EXPECT_LE(1, id);
	return id;
}

FIXTURE_SETUP(nl)
{
	int ret;

	ret = dtnl_open(&self->q, false);
	ASSERT_EQ(0, ret) TH_LOG("the dirtytrack family: %s", strerror(-ret));
	ret = dtnl_open(&self->ev, true);
	ASSERT_EQ(0, ret) TH_LOG("the events group: %s", strerror(-ret));
	dtg_create(_metadata, &self->g, NR_VCPUS, NR_SLOTS, SLOT_PAGES,
		   RING_ENTRIES);
	self->id = find_tracker(_metadata, &self->q, getpid(), self->g.vm);
	ASSERT_LE(1, self->id);
}

FIXTURE_TEARDOWN(nl)
{
	int i;

	for (i = self->nr_saved - 1; i >= 0; i--)
		param_write(self->saved[i].name, self->saved[i].val);
	dtg_destroy(&self->g);
	/* Every message any test received kept to the spec. */
	EXPECT_STREQ("", self->q.bad);
	EXPECT_STREQ("", self->ev.bad);
	dtnl_close(&self->q);
	dtnl_close(&self->ev);
}

/*
 * Entries KVM pushed to vCPU @i's ring that nobody harvested yet; those
 * naming a data slot in *@data.  (On x86 the ring can also hold the code
 * page the guest only executed.)
 */
static uint32_t ring_pending(struct dt_guest *g, int i, uint32_t *data)
{
	struct kvm_dirty_gfn *r = g->vcpu[i].vc.ring;
	uint32_t e, n = 0, d = 0;

	for (e = 0; e < g->ring_entries; e++) {
		uint32_t flags = __atomic_load_n(&r[e].flags, __ATOMIC_ACQUIRE);
		uint32_t slot = r[e].slot & 0xffff;

		if (flags != KVM_DIRTY_GFN_F_DIRTY)
			continue;
		n++;
		d += slot >= DTG_FIRST_DATA_SLOT &&
		     slot < DTG_FIRST_DATA_SLOT + (uint32_t)g->nr_slots;
	}
	if (data)
		*data = d;
	return n;
}

/*
 * vCPU @v stores to @n distinct data pages, @first, @first + @step, ...
 * (@step odd: the data pages are a power of two).  Returns the entries its
 * ring gained: what the next harvest of it takes.
 */
static uint32_t store_distinct(struct __test_metadata *_metadata,
			       struct dt_guest *g, int v, uint32_t first,
			       uint32_t step, int n)
{
	uint32_t *pages = calloc(n, sizeof(*pages));
	uint32_t before, after, data_before, data_after;
	int i;

	for (i = 0; i < n; i++)
		pages[i] = (first + i * step) % g->data_pages;
	before = ring_pending(g, v, &data_before);
	dtg_vcpu_store_pages(_metadata, g, v, pages, n);
	free(pages);
	after = ring_pending(g, v, &data_after);
	EXPECT_EQ(n, data_after - data_before)
		TH_LOG("vCPU %d logged %u data pages", v, data_after - data_before);
	return after - before;
}

static void expect_same_tracker(struct __test_metadata *_metadata,
				const struct dtnl_msg *a,
				const struct dtnl_msg *b)
{
	int t, i;

	for (t = 1; t <= DIRTYTRACK_A_TRACKER_MAX; t++) {
		EXPECT_EQ(a->a.count[t], b->a.count[t]) TH_LOG("attribute %d", t);
		EXPECT_EQ(a->a.val[t], b->a.val[t]) TH_LOG("attribute %d", t);
	}
	ASSERT_EQ(a->nr_sources, b->nr_sources);
	for (i = 0; i < a->nr_sources; i++) {
		const struct dtnl_attrs *sa = &a->source[i];
		const struct dtnl_attrs *sb = dtnl_source(b, SRC(sa, KIND));

		ASSERT_NE(NULL, sb);
		for (t = 1; t <= DIRTYTRACK_A_SOURCE_MAX; t++)
			EXPECT_EQ(sa->val[t], sb->val[t])
				TH_LOG("source %lu attribute %d",
				       (unsigned long)SRC(sa, KIND), t);
	}
}

/*
 * What every reply about the fixture's tracker says: it is ours, it has
 * the guest's regions and rings and no other source, one source nest per
 * kind, nothing invalid, foreign or failed, and the kvm-ring source
 * harvested every page.
 */
static void expect_our_tracker(struct __test_metadata *_metadata,
			       FIXTURE_DATA(nl) *self,
			       const struct dtnl_msg *m)
{
	struct dt_guest *g = &self->g;
	const struct dtnl_attrs *ring, *vmm, *bitmap, *iommu;
	uint32_t kind;

	EXPECT_STREQ("", m->bad);
	EXPECT_EQ(DIRTYTRACK_CMD_TRACKER_GET, m->cmd);
	EXPECT_EQ(self->id, TR(m, ID));
	EXPECT_EQ(getpid(), (pid_t)TR(m, PID));
	EXPECT_EQ(geteuid(), TR(m, UID));
	EXPECT_EQ(g->vm, (int32_t)TR(m, VM_FD));
	EXPECT_EQ(1 + NR_SLOTS, TR(m, REGIONS));
	EXPECT_EQ(CODE_PAGES + g->data_pages, TR(m, PAGES));
	EXPECT_EQ(NR_VCPUS, TR(m, RINGS));
	EXPECT_FALSE(HAS_TR(m, KVM_BITMAP));
	EXPECT_EQ(0, TR(m, IOMMUS));
	EXPECT_EQ(0, TR(m, INVALID));
	EXPECT_EQ(0, TR(m, FOREIGN));
	EXPECT_LE(TR(m, LAST_SYNC_NS), TR(m, MAX_SYNC_NS));
	for (kind = DIRTYTRACK_SOURCE_KVM_RING; kind <= DIRTYTRACK_SOURCE_IOMMU;
	     kind++)
		EXPECT_NE(NULL, dtnl_source(m, kind))
			TH_LOG("no source nest of kind %u", kind);
	EXPECT_EQ(4, m->nr_sources);
	ring = dtnl_source(m, DIRTYTRACK_SOURCE_KVM_RING);
	vmm = dtnl_source(m, DIRTYTRACK_SOURCE_VMM);
	bitmap = dtnl_source(m, DIRTYTRACK_SOURCE_KVM_BITMAP);
	iommu = dtnl_source(m, DIRTYTRACK_SOURCE_IOMMU);
	ASSERT_TRUE(ring && vmm && bitmap && iommu);
	EXPECT_EQ(TR(m, HARVESTED), SRC(ring, PAGES));
	EXPECT_EQ(0, SRC(ring, INVALID));
	EXPECT_LE(SRC(ring, LAST_NS), SRC(ring, MAX_NS));
	/* Both are attached from the start: they took part in every harvest. */
	EXPECT_EQ(SRC(vmm, HARVESTS), SRC(ring, HARVESTS));
	EXPECT_LE(TR(m, SYNCS), SRC(ring, HARVESTS));
	EXPECT_EQ(0, SRC(vmm, PAGES));
	EXPECT_EQ(0, SRC(bitmap, PAGES));
	EXPECT_EQ(0, SRC(bitmap, HARVESTS));
	EXPECT_EQ(0, SRC(iommu, PAGES));
	EXPECT_EQ(0, SRC(iommu, HARVESTS));
	EXPECT_EQ(0, SRC(vmm, ERRORS));
	EXPECT_EQ(0, SRC(bitmap, ERRORS));
	EXPECT_EQ(0, SRC(iommu, ERRORS));
}

/* The fixture's tracker, found in a dump by its owner, and by a get. */
static void dump_and_get(struct __test_metadata *_metadata,
			 FIXTURE_DATA(nl) *self, struct dtnl_msg *out)
{
	struct dtnl_msg m[MAX_MSGS], got;
	int n, i, found = 0;

	n = dtnl_query(&self->q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
		       MAX_MSGS);
	ASSERT_LE(1, n) TH_LOG("tracker dump: %s", strerror(-n));
	ASSERT_GE(MAX_MSGS, n);
	for (i = 0; i < n; i++) {
		if (TR(&m[i], PID) != (uint32_t)getpid())
			continue;
		*out = m[i];
		found++;
	}
	ASSERT_EQ(1, found);
	expect_our_tracker(_metadata, self, out);
	ASSERT_EQ(0, dtnl_tracker_get(&self->q, self->id, &got));
	expect_same_tracker(_metadata, out, &got);
}

/* The tracker's vCPU rows, in vCPU order. */
static void dump_vcpus(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nl) *self, struct dtnl_msg *rows)
{
	struct dtnl_msg m[MAX_MSGS];
	int n, i;

	n = dtnl_query(&self->q, DIRTYTRACK_CMD_VCPU_GET, true,
		       DIRTYTRACK_A_VCPU_TRACKER_ID, self->id, m, MAX_MSGS);
	ASSERT_EQ(NR_VCPUS, n) TH_LOG("vcpu dump: %d", n);
	memset(rows, 0, NR_VCPUS * sizeof(*rows));
	for (i = 0; i < n; i++) {
		uint32_t v = VC(&m[i], ID);

		EXPECT_STREQ("", m[i].bad);
		EXPECT_EQ(self->id, VC(&m[i], TRACKER_ID));
		ASSERT_GT(NR_VCPUS, v);
		ASSERT_EQ(0, rows[v].cmd) TH_LOG("vCPU %u twice", v);
		rows[v] = m[i];
		EXPECT_EQ(RING_ENTRIES, VC(&m[i], RING_SIZE));
		EXPECT_LE(VC(&m[i], RING_FILL), VC(&m[i], RING_FILL_MAX));
	}
}

TEST_F(nl, the_stats_count_exactly_what_the_guest_stored)
{
	enum { K = 300, K2 = 200 };
	struct dt_guest *g = &self->g;
	struct dtnl_msg t, t2, v[NR_VCPUS], m[MAX_MSGS];
	const struct dtnl_attrs *ring;
	struct dirtytrack_sync s;
	uint32_t n0, n1, data;
	uint64_t ring_harvests;
	int n, i;

	ASSERT_EQ(0, dtt_start(g->tr, 0));
	n0 = store_distinct(_metadata, g, 0, 0, 13, K);
	EXPECT_EQ(0, ring_pending(g, 1, NULL));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(n0, s.out_harvested);

	dump_and_get(_metadata, self, &t);
	EXPECT_EQ(DIRTYTRACK_STATE_TRACKING, TR(&t, STATE));
	EXPECT_EQ(1, TR(&t, SYNCS));
	EXPECT_EQ(n0, TR(&t, HARVESTED));
	EXPECT_EQ(0, TR(&t, ERRORS));
	ring = dtnl_source(&t, DIRTYTRACK_SOURCE_KVM_RING);
	ASSERT_NE(NULL, ring);
	EXPECT_EQ(n0, SRC(ring, PAGES));
	EXPECT_EQ(0, SRC(ring, ERRORS));
	ring_harvests = SRC(ring, HARVESTS);
	EXPECT_LE(1, ring_harvests);

	dump_vcpus(_metadata, self, v);
	EXPECT_EQ(n0, VC(&v[0], HARVESTED));
	EXPECT_EQ(n0, VC(&v[0], LAST));
	EXPECT_EQ(0, VC(&v[1], HARVESTED));
	EXPECT_EQ(0, VC(&v[1], LAST));
	for (i = 0; i < NR_VCPUS; i++)
		EXPECT_EQ(0, VC(&v[i], FILL_EVENTS));

	/* Every region, code slot included, as it was added. */
	n = dtnl_query(&self->q, DIRTYTRACK_CMD_REGION_GET, true,
		       DIRTYTRACK_A_REGION_TRACKER_ID, self->id, m, MAX_MSGS);
	ASSERT_EQ(1 + NR_SLOTS, n) TH_LOG("region dump: %d", n);
	for (i = 0; i < n; i++) {
		uint32_t slot = RG(&m[i], SLOT);

		EXPECT_STREQ("", m[i].bad);
		EXPECT_EQ(self->id, RG(&m[i], TRACKER_ID));
		ASSERT_GE(NR_SLOTS, slot) TH_LOG("slot %#x", slot);
		if (slot == DTG_CODE_SLOT) {
			EXPECT_EQ(DTG_CODE_GPA / DTG_PAGE, RG(&m[i], FIRST_GFN));
			EXPECT_EQ(CODE_PAGES, RG(&m[i], PAGES));
		} else {
			EXPECT_EQ(dtg_slot_gpa(g, slot - DTG_FIRST_DATA_SLOT) /
				  DTG_PAGE, RG(&m[i], FIRST_GFN));
			EXPECT_EQ(SLOT_PAGES, RG(&m[i], PAGES));
		}
	}

	/* A second round on the other vCPU adds exactly its pages. */
	n1 = store_distinct(_metadata, g, 1, 7, 11, K2);
	EXPECT_EQ(0, ring_pending(g, 0, &data));
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(n1, s.out_harvested);
	dump_and_get(_metadata, self, &t2);
	EXPECT_EQ(2, TR(&t2, SYNCS));
	EXPECT_EQ(n0 + n1, TR(&t2, HARVESTED));
	EXPECT_LT(0, TR(&t2, DIRTY_RATE));
	ring = dtnl_source(&t2, DIRTYTRACK_SOURCE_KVM_RING);
	ASSERT_NE(NULL, ring);
	EXPECT_EQ(ring_harvests + 1, SRC(ring, HARVESTS));
	dump_vcpus(_metadata, self, v);
	EXPECT_EQ(n0, VC(&v[0], HARVESTED));
	EXPECT_EQ(0, VC(&v[0], LAST));
	EXPECT_EQ(n1, VC(&v[1], HARVESTED));
	EXPECT_EQ(n1, VC(&v[1], LAST));
	EXPECT_LT(0, VC(&v[1], DIRTY_RATE));
}

/* A tracker of its own VM with @n regions of one page each. */
static int tracker_with_regions(struct __test_metadata *_metadata, int dev,
				int *vm, int n)
{
	int tr, i;

	*vm = dtvm_vm_create(dtvm_kvm());
	EXPECT_LE(0, *vm);
	tr = dtt_create(dev, *vm);
	EXPECT_LE(0, tr) TH_LOG("create: %s", strerror(-tr));
	for (i = 0; i < n; i++)
		EXPECT_EQ(0, dtt_region_add(tr, i, (uint64_t)i * DTT_PAGE, 1));
	return tr;
}

/*
 * An unfiltered region dump goes on, part after part, from a tracker and
 * a row in it.  A tracker destroyed between two parts must cost the next
 * tracker none of its rows.  The first part is made when the dump is
 * asked for and the next when the first is read, so the tracker goes in
 * between: it has rows enough that the first part ends among them.
 */
TEST_F(nl, a_tracker_gone_between_dump_parts_costs_the_next_no_row)
{
	int dev, vm_gone, vm_next, gone, next, ret, rows = 0, parts = 0;
	struct dtnl_msg m;
	struct dtnl d;
	uint32_t next_id;

	dev = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, dev);
	/* Tracker ids grow: the one that goes is dumped first. */
	gone = tracker_with_regions(_metadata, dev, &vm_gone, 200);
	next = tracker_with_regions(_metadata, dev, &vm_next, 100);
	next_id = find_tracker(_metadata, &self->q, getpid(), vm_next);
	/*
	 * A socket that has received nothing yet (the family resolved on
	 * another): its first part is the smallest the kernel makes
	 * (NLMSG_GOODSIZE), far from 300 rows.
	 */
	memset(&d, 0, sizeof(d));
	d.family = self->q.family;
	d.buf = malloc(DTNL_BUF_SIZE);
	ASSERT_NE(NULL, d.buf);
	d.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, d.fd);
	ASSERT_EQ(0, dtnl_send(&d, d.family, DIRTYTRACK_CMD_REGION_GET,
			       NLM_F_DUMP, 0, NULL, 0));
	close(gone);
	for (;;) {
		const struct nlmsghdr *nh = dtnl_next(&d, 10000, &ret);

		ASSERT_NE(NULL, nh) TH_LOG("dump: %s", strerror(-ret));
		if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
			break;
		if (d.off == NLMSG_ALIGN(nh->nlmsg_len))
			parts++;	/* the first message of a part */
		dtnl_take(&d, nh, &m);
		if (RG(&m, TRACKER_ID) == next_id)
			rows++;
	}
	EXPECT_STREQ("", d.bad);
	dtnl_close(&d);
	EXPECT_LT(1, parts);
	EXPECT_EQ(100, rows);
	close(next);
	close(vm_gone);
	close(vm_next);
	close(dev);
}

/* A sync with the two-phase flags. */
static int final_sync(int tr)
{
	struct dirtytrack_sync s;

	return dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s) ?:
	       dtt_sync_flags(tr, DIRTYTRACK_SYNC_FINAL_END, &s);
}

TEST_F_TIMEOUT(nl, a_tracker_life_is_a_series_of_events, 120)
{
	struct dt_guest *g = &self->g;
	struct dtnl_msg e, t;
	struct dirtytrack_sync s;
	uint32_t precopy, last, id2;

	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_CREATED_NTF,
				     self->id, &e, EVENT_MS, NULL));

	ASSERT_EQ(0, dtt_start(g->tr, 0));
	precopy = store_distinct(_metadata, g, 0, 0, 5, 50);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	/* The final sync reports what was stored since that one. */
	last = store_distinct(_metadata, g, 0, 1, 3, 70);
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_BEGIN, &s));
	ASSERT_EQ(0, dtnl_tracker_get(&self->q, self->id, &t));
	EXPECT_EQ(DIRTYTRACK_STATE_FINAL, TR(&t, STATE));
	ASSERT_EQ(0, dtt_sync_flags(g->tr, DIRTYTRACK_SYNC_FINAL_END, &s));
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_FINAL_SYNC_NTF,
				     self->id, &e, EVENT_MS, NULL));
	EXPECT_EQ(last, EV(&e, PAGES));
	EXPECT_LT(0, EV(&e, DURATION_NS));
	dump_and_get(_metadata, self, &t);
	EXPECT_EQ(DIRTYTRACK_STATE_SEALED, TR(&t, STATE));
	EXPECT_EQ(3, TR(&t, SYNCS));
	EXPECT_EQ(precopy + last, TR(&t, HARVESTED));

	/* The last reference goes: destroyed, and gone from the family. */
	close(g->tr);
	g->tr = -1;
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_DESTROYED_NTF,
				     self->id, &e, EVENT_MS, NULL));
	EXPECT_EQ(-ENOENT, dtnl_tracker_get(&self->q, self->id, &t));

	/* A new tracker of the same VM: a new id, never the old one. */
	g->tr = dtt_create(g->dev, g->vm);
	ASSERT_LE(0, g->tr);
	id2 = find_tracker(_metadata, &self->q, getpid(), g->vm);
	EXPECT_LT(self->id, id2);
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_CREATED_NTF,
				     id2, &e, EVENT_MS, NULL));
	ASSERT_EQ(0, dtnl_tracker_get(&self->q, id2, &t));
	EXPECT_EQ(DIRTYTRACK_STATE_IDLE, TR(&t, STATE));
	EXPECT_EQ(0, TR(&t, REGIONS));
	EXPECT_EQ(0, TR(&t, SYNCS));
	EXPECT_EQ(0, TR(&t, HARVESTED));
}

TEST_F_TIMEOUT(nl, a_failed_ring_reset_is_an_event, 120)
{
	struct dt_guest *g = &self->g;
	const struct dtnl_attrs *ring;
	struct dirtytrack_sync s;
	struct dtnl_msg e, t;
	uint32_t n;

	ASSERT_EQ(0, dtt_start(g->tr, 0));
	n = store_distinct(_metadata, g, 0, 3, 9, 40);
	ASSERT_EQ(0, dtt_hook("reset_partial", 1000));
	EXPECT_EQ(-EAGAIN, dtt_sync(g->tr, &s));
	ASSERT_EQ(0, dtt_hook("reset_partial", 0));
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_SOURCE_ERROR_NTF,
				     self->id, &e, EVENT_MS, NULL));
	EXPECT_EQ(DIRTYTRACK_SOURCE_KVM_RING, EV(&e, SOURCE));
	EXPECT_EQ(-EAGAIN, (int32_t)EV(&e, ERROR));
	EXPECT_LE(1, EV(&e, ERRORS));

	ASSERT_EQ(0, dtnl_tracker_get(&self->q, self->id, &t));
	EXPECT_LE(1, TR(&t, ERRORS));
	ring = dtnl_source(&t, DIRTYTRACK_SOURCE_KVM_RING);
	ASSERT_NE(NULL, ring);
	EXPECT_LE(1, SRC(ring, ERRORS));

	/* The pages stayed pending: the next sync harvests them all. */
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	ASSERT_EQ(0, dtnl_tracker_get(&self->q, self->id, &t));
	EXPECT_EQ(n, TR(&t, HARVESTED));
	/* 16 calls that ended early, then a whole one. */
	EXPECT_EQ(16, TR(&t, RING_PARTIAL_RESETS));
	EXPECT_LE(17, TR(&t, RING_RESETS));
}

/*
 * Dump the vCPU rows until a scan found vCPU @v's fill in [@lo, @hi], for
 * up to EVENT_MS.
 */
static bool wait_fill(struct __test_metadata *_metadata,
		      FIXTURE_DATA(nl) *self, int v, uint32_t lo, uint32_t hi,
		      struct dtnl_msg *rows)
{
	int64_t end = dtnl_now_ms() + EVENT_MS;

	for (;;) {
		uint32_t fill;

		dump_vcpus(_metadata, self, rows);
		fill = VC(&rows[v], RING_FILL);
		if (fill >= lo && fill <= hi)
			return true;
		if (dtnl_now_ms() > end)
			return false;
		usleep(20 * 1000);
	}
}

#define FILL_THRESHOLD	50	/* percent */
#define FILL_LIMIT	(RING_ENTRIES * FILL_THRESHOLD / 100)
#define FILL_STORES	2600	/* above it, well below KVM's soft-full limit */

/* The fill threshold at FILL_THRESHOLD; returns the scan period. */
static long fill_setup(struct __test_metadata *_metadata,
		       FIXTURE_DATA(nl) *self)
{
	long scan_ms = 0;

	EXPECT_EQ(0, param_read("ring_scan_ms", &scan_ms));
	EXPECT_LT(0, scan_ms);
	EXPECT_GT(1000, scan_ms);
	set_param(_metadata, self, "ring_fill_threshold", FILL_THRESHOLD);
	return scan_ms;
}

/*
 * vCPU 0 stores to FILL_STORES pages: a ring-fill event about it must
 * come.  Returns the entries pushed.
 */
static uint32_t fill_past_threshold(struct __test_metadata *_metadata,
				    FIXTURE_DATA(nl) *self, struct dtnl_msg *e)
{
	uint32_t pushed = store_distinct(_metadata, &self->g, 0, 0, 1,
					 FILL_STORES);
	int ret;

	EXPECT_LT(FILL_LIMIT, pushed);
	/* KVM's soft-full limit: size - 64 - 512 (Intel PML) at worst. */
	EXPECT_GT(RING_ENTRIES - 64 - 512, pushed);
	ret = dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_RING_FILL_NTF, self->id,
			      e, EVENT_MS, NULL);
	EXPECT_EQ(0, ret) TH_LOG("no ring-fill event: %s", strerror(-ret));
	if (ret)
		return pushed;
	EXPECT_EQ(0, EV(e, VCPU));
	EXPECT_EQ(RING_ENTRIES, EV(e, RING_SIZE));
	EXPECT_EQ(FILL_THRESHOLD, EV(e, THRESHOLD));
	EXPECT_LE(FILL_LIMIT, EV(e, RING_FILL));
	EXPECT_GE(pushed, EV(e, RING_FILL));
	return pushed;
}

/*
 * The first round of a migration dirties the most: a ring that fills
 * before any sync found an entry in it must be seen too.
 */
TEST_F_TIMEOUT(nl, a_ring_filling_before_its_first_sync_is_an_event, 120)
{
	struct dtnl_msg e, v[NR_VCPUS];
	uint32_t pushed;

	fill_setup(_metadata, self);
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	pushed = fill_past_threshold(_metadata, self, &e);
	EXPECT_TRUE(wait_fill(_metadata, self, 0, pushed, pushed, v))
		TH_LOG("fill %lu", (unsigned long)VC(&v[0], RING_FILL));
	EXPECT_EQ(1, VC(&v[0], FILL_EVENTS));
}

TEST_F_TIMEOUT(nl, a_filling_ring_is_an_event_once_per_crossing, 120)
{
	struct dt_guest *g = &self->g;
	struct dtnl_msg e, v[NR_VCPUS];
	struct dirtytrack_sync s;
	uint32_t pushed;
	long scan_ms;

	scan_ms = fill_setup(_metadata, self);
	ASSERT_EQ(0, dtt_start(g->tr, 0));
	/* A first round: the tracker knows where KVM is in the ring. */
	store_distinct(_metadata, g, 0, 0, 1, 1);
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	pushed = fill_past_threshold(_metadata, self, &e);

	/* Once per crossing: later scans find it full, and say nothing. */
	EXPECT_TRUE(wait_fill(_metadata, self, 0, pushed, pushed, v))
		TH_LOG("fill %lu", (unsigned long)VC(&v[0], RING_FILL));
	EXPECT_EQ(-EAGAIN, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_RING_FILL_NTF,
					   self->id, &e, 4 * scan_ms, NULL));
	dump_vcpus(_metadata, self, v);
	EXPECT_EQ(pushed, VC(&v[0], RING_FILL_MAX));
	EXPECT_EQ(1, VC(&v[0], FILL_EVENTS));
	EXPECT_EQ(0, VC(&v[1], FILL_EVENTS));
	EXPECT_EQ(0, VC(&v[1], RING_FILL));

	/* A sync empties the ring; a later scan sees it below again... */
	ASSERT_EQ(0, dtt_sync(g->tr, &s));
	EXPECT_EQ(pushed, s.out_harvested);
	EXPECT_TRUE(wait_fill(_metadata, self, 0, 0, FILL_LIMIT - 1, v))
		TH_LOG("fill %lu after the sync", (unsigned long)VC(&v[0], RING_FILL));
	EXPECT_EQ(pushed, VC(&v[0], RING_FILL_MAX));
	EXPECT_EQ(1, VC(&v[0], FILL_EVENTS));

	/* ...which re-arms it: the next crossing is an event again. */
	fill_past_threshold(_metadata, self, &e);
	dump_vcpus(_metadata, self, v);
	EXPECT_EQ(2, VC(&v[0], FILL_EVENTS));
}

/* --- who sees what ---------------------------------------------------- */

/*
 * Run @fn in a child process with its own test metadata, so that its
 * ASSERTs end the child, not the test.  The child exits 0 if nothing
 * failed.
 */
static pid_t start_child(void (*fn)(struct __test_metadata *, void *),
			 void *arg)
{
	static struct __test_metadata md;
	pid_t pid = fork();

	if (pid)
		return pid;
	memset(&md, 0, sizeof(md));
	md.name = "child";
	if (!setjmp(md.env))
		fn(&md, arg);
	_exit(md.exit_code == KSFT_FAIL || md.aborted);
}

static int wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_child(void (*fn)(struct __test_metadata *, void *), void *arg)
{
	return wait_child(start_child(fn, arg));
}

static void drop_to_nobody(struct __test_metadata *_metadata)
{
	ASSERT_EQ(0, setgroups(0, NULL));
	ASSERT_EQ(0, setgid(NOBODY));
	ASSERT_EQ(0, setuid(NOBODY));
	ASSERT_EQ(NOBODY, geteuid());
}

/* A caller who may not see tracker *@arg finds no tracker at all. */
static void sees_nothing(struct __test_metadata *_metadata, void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	struct dtnl_msg m[MAX_MSGS];
	struct dtnl q;
	int ret;

	ret = dtnl_open(&q, false);
	ASSERT_EQ(0, ret) TH_LOG("the dirtytrack family: %s", strerror(-ret));
	EXPECT_EQ(0, dtnl_query(&q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
				MAX_MSGS));
	EXPECT_EQ(-ENOENT, dtnl_tracker_get(&q, id, m));
	EXPECT_EQ(-ENOENT, dtnl_query(&q, DIRTYTRACK_CMD_REGION_GET, true,
				      DIRTYTRACK_A_REGION_TRACKER_ID, id, m,
				      MAX_MSGS));
	EXPECT_EQ(-ENOENT, dtnl_query(&q, DIRTYTRACK_CMD_VCPU_GET, true,
				      DIRTYTRACK_A_VCPU_TRACKER_ID, id, m,
				      MAX_MSGS));
	EXPECT_EQ(0, dtnl_query(&q, DIRTYTRACK_CMD_REGION_GET, true, 0, 0, m,
				MAX_MSGS));
	EXPECT_EQ(0, dtnl_query(&q, DIRTYTRACK_CMD_VCPU_GET, true, 0, 0, m,
				MAX_MSGS));
	EXPECT_STREQ("", q.bad);
	dtnl_close(&q);
}

/* The control: another root process sees the tracker, all of it. */
static void root_sees_it(struct __test_metadata *_metadata, void *arg)
{
	uint32_t id = *(uint32_t *)arg;
	struct dtnl_msg m[MAX_MSGS];
	struct dtnl q;

	ASSERT_EQ(0, dtnl_open(&q, false));
	ASSERT_EQ(0, dtnl_tracker_get(&q, id, m));
	EXPECT_EQ(getppid(), (pid_t)TR(&m[0], PID));
	EXPECT_EQ(1 + NR_SLOTS, dtnl_query(&q, DIRTYTRACK_CMD_REGION_GET, true,
					   DIRTYTRACK_A_REGION_TRACKER_ID, id,
					   m, MAX_MSGS));
	EXPECT_EQ(NR_VCPUS, dtnl_query(&q, DIRTYTRACK_CMD_VCPU_GET, true,
				       DIRTYTRACK_A_VCPU_TRACKER_ID, id, m,
				       MAX_MSGS));
	dtnl_close(&q);
}

/* ...and one it creates, it sees, with its pid as it knows it. */
static void sees_its_own(struct __test_metadata *_metadata)
{
	struct dtnl_msg m[MAX_MSGS];
	struct dt_guest g;
	struct dtnl q;

	dtg_create(_metadata, &g, 1, 1, 64, RING_ENTRIES);
	ASSERT_EQ(0, dtnl_open(&q, false));
	ASSERT_EQ(1, dtnl_query(&q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
				MAX_MSGS));
	EXPECT_EQ(getpid(), (pid_t)TR(&m[0], PID));
	EXPECT_EQ(g.vm, (int32_t)TR(&m[0], VM_FD));
	EXPECT_STREQ("", q.bad);
	dtnl_close(&q);
	dtg_destroy(&g);
}

static void nobody_sees_nothing(struct __test_metadata *_metadata, void *arg)
{
	drop_to_nobody(_metadata);
	sees_nothing(_metadata, arg);
}

static void other_netns_sees_nothing(struct __test_metadata *_metadata,
				     void *arg)
{
	ASSERT_EQ(0, unshare(CLONE_NEWNET)) TH_LOG("%s", strerror(errno));
	sees_nothing(_metadata, arg);
	sees_its_own(_metadata);
}

static void sees_nothing_but_its_own(struct __test_metadata *_metadata,
				     void *arg)
{
	sees_nothing(_metadata, arg);
	sees_its_own(_metadata);	/* as pid 1 */
}

/* The new PID namespace is its children's: the grandchild looks. */
static void other_pidns_sees_nothing(struct __test_metadata *_metadata,
				     void *arg)
{
	ASSERT_EQ(0, unshare(CLONE_NEWPID)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, run_child(sees_nothing_but_its_own, arg));
}

TEST_F(nl, a_root_tracker_is_hidden_from_nobody)
{
	EXPECT_EQ(0, run_child(root_sees_it, &self->id));
	EXPECT_EQ(0, run_child(nobody_sees_nothing, &self->id));
}

TEST_F(nl, another_network_namespace_sees_no_tracker)
{
	EXPECT_EQ(0, run_child(other_netns_sees_nothing, &self->id));
}

TEST_F(nl, another_pid_namespace_sees_no_tracker)
{
	EXPECT_EQ(0, run_child(other_pidns_sees_nothing, &self->id));
}

/*
 * A child that will own a tracker as nobody, and the pipes it talks to
 * the test through.  Each side closes the other's ends, so that either
 * one's death is the other's EOF, not a hang.
 */
struct owner {
	int kvm, dev;		/* opened as root */
	int to_parent[2], to_child[2];
	uint32_t root_id;	/* a root tracker the child must not see */
};

static void say(struct __test_metadata *_metadata, int fd, uint32_t v)
{
	ASSERT_EQ(sizeof(v), write(fd, &v, sizeof(v)));
}

static uint32_t hear(struct __test_metadata *_metadata, int fd)
{
	uint32_t v = 0;

	ASSERT_EQ(sizeof(v), read(fd, &v, sizeof(v)));
	return v;
}

/* The child's side of @o: the parent's ends closed. */
static void owner_child(struct owner *o)
{
	close(o->to_parent[0]);
	close(o->to_child[1]);
}

/* The one tracker nobody's dump shows: its own, whose id it returns. */
static uint32_t nobody_finds_its_own(struct __test_metadata *_metadata,
				     struct dtnl *q, struct dt_guest *g)
{
	struct dtnl_msg m[MAX_MSGS];

	ASSERT_EQ(1, dtnl_query(q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
				MAX_MSGS));
	EXPECT_EQ(NOBODY, TR(&m[0], UID));
	EXPECT_EQ(getpid(), (pid_t)TR(&m[0], PID));
	EXPECT_EQ(g->vm, (int32_t)TR(&m[0], VM_FD));
	return TR(&m[0], ID);
}

/* Nobody, on the devices root opened, makes and sees its own tracker. */
static void nobody_owns_one(struct __test_metadata *_metadata, void *arg)
{
	struct owner *o = arg;
	struct dtnl_msg m[MAX_MSGS];
	struct dt_guest g;
	struct dtnl q;
	uint32_t id;

	owner_child(o);
	drop_to_nobody(_metadata);
	dtg_create_mode_on(_metadata, &g, o->kvm, o->dev, 1, 1, 64,
			   RING_ENTRIES, DTG_RING);
	ASSERT_EQ(0, dtnl_open(&q, false));
	id = nobody_finds_its_own(_metadata, &q, &g);
	ASSERT_EQ(0, dtnl_tracker_get(&q, id, m));
	EXPECT_EQ(NOBODY, TR(&m[0], UID));
	EXPECT_EQ(2, dtnl_query(&q, DIRTYTRACK_CMD_REGION_GET, true,
				DIRTYTRACK_A_REGION_TRACKER_ID, id, m, MAX_MSGS));
	EXPECT_EQ(1, dtnl_query(&q, DIRTYTRACK_CMD_VCPU_GET, true,
				DIRTYTRACK_A_VCPU_TRACKER_ID, id, m, MAX_MSGS));
	EXPECT_EQ(-ENOENT, dtnl_tracker_get(&q, o->root_id, m));
	EXPECT_EQ(-ENOENT, dtnl_query(&q, DIRTYTRACK_CMD_VCPU_GET, true,
				      DIRTYTRACK_A_VCPU_TRACKER_ID, o->root_id,
				      m, MAX_MSGS));
	EXPECT_STREQ("", q.bad);
	/* The parent looks while the tracker lives. */
	say(_metadata, o->to_parent[1], id);
	hear(_metadata, o->to_child[0]);
	dtnl_close(&q);
	dtg_destroy(&g);
}

static void open_owner(struct __test_metadata *_metadata, struct owner *o,
		       uint32_t root_id)
{
	memset(o, 0, sizeof(*o));
	o->root_id = root_id;
	o->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, o->kvm);
	o->dev = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, o->dev);
	ASSERT_EQ(0, pipe(o->to_parent));
	ASSERT_EQ(0, pipe(o->to_child));
}

/* Fork the child running @fn; the parent keeps its own ends. */
static pid_t start_owner(struct owner *o,
			 void (*fn)(struct __test_metadata *, void *))
{
	pid_t pid = start_child(fn, o);

	close(o->to_parent[1]);
	close(o->to_child[0]);
	return pid;
}

static void close_owner(struct owner *o)
{
	close(o->kvm);
	close(o->dev);
	close(o->to_parent[0]);
	close(o->to_child[1]);
}

TEST_F(nl, an_unprivileged_owner_sees_only_its_own_tracker)
{
	struct dtnl_msg m[MAX_MSGS];
	int n, i, ours = 0, theirs = 0;
	struct owner o;
	uint32_t id;
	pid_t pid;

	open_owner(_metadata, &o, self->id);
	pid = start_owner(&o, nobody_owns_one);
	ASSERT_LT(0, pid);
	id = hear(_metadata, o.to_parent[0]);
	EXPECT_LT(self->id, id);

	/* Root sees both, each with its owner. */
	n = dtnl_query(&self->q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
		       MAX_MSGS);
	EXPECT_LE(2, n);
	for (i = 0; i < n && i < MAX_MSGS; i++) {
		if (TR(&m[i], ID) == self->id) {
			EXPECT_EQ(0, TR(&m[i], UID));
			EXPECT_EQ(getpid(), (pid_t)TR(&m[i], PID));
			ours++;
		} else if (TR(&m[i], ID) == id) {
			EXPECT_EQ(NOBODY, TR(&m[i], UID));
			EXPECT_EQ(pid, (pid_t)TR(&m[i], PID));
			EXPECT_EQ(1, TR(&m[i], RINGS));
			theirs++;
		}
	}
	EXPECT_EQ(1, ours);
	EXPECT_EQ(1, theirs);
	say(_metadata, o.to_child[1], 0);
	EXPECT_EQ(0, wait_child(pid));
	close_owner(&o);
}

/*
 * Nobody listens while root and nobody create and destroy trackers: it
 * hears only of its own.  Each root event is known to have been sent
 * (root's own listener had it) before nobody's next one is made, and
 * events are queued in order, so a leak would come first.
 */
static void nobody_listens(struct __test_metadata *_metadata, void *arg)
{
	struct owner *o = arg;
	struct dtnl q, ev;
	struct dtnl_msg e;
	struct dt_guest g;
	uint32_t id, root_id;
	int skipped = 0;

	owner_child(o);
	drop_to_nobody(_metadata);
	ASSERT_EQ(0, dtnl_open(&q, false));
	ASSERT_EQ(0, dtnl_open(&ev, true));
	say(_metadata, o->to_parent[1], 0);
	root_id = hear(_metadata, o->to_child[0]);	/* created by now */

	dtg_create_mode_on(_metadata, &g, o->kvm, o->dev, 1, 1, 64,
			   RING_ENTRIES, DTG_RING);
	id = nobody_finds_its_own(_metadata, &q, &g);
	EXPECT_LT(root_id, id);
	ASSERT_EQ(0, dtnl_wait_event(&ev, DIRTYTRACK_CMD_CREATED_NTF, id, &e,
				     EVENT_MS, &skipped));
	EXPECT_EQ(0, skipped) TH_LOG("heard of %d other events", skipped);

	say(_metadata, o->to_parent[1], id);
	hear(_metadata, o->to_child[0]);	/* root's is destroyed by now */
	close(g.tr);
	g.tr = -1;
	ASSERT_EQ(0, dtnl_wait_event(&ev, DIRTYTRACK_CMD_DESTROYED_NTF, id, &e,
				     EVENT_MS, &skipped));
	EXPECT_EQ(0, skipped) TH_LOG("heard of %d other events", skipped);
	EXPECT_STREQ("", ev.bad);
	dtnl_close(&q);
	dtnl_close(&ev);
	dtg_destroy(&g);
}

TEST_F_TIMEOUT(nl, an_unprivileged_listener_hears_only_of_its_own, 60)
{
	struct dtnl_msg e;
	struct dt_guest g2;
	struct owner o;
	uint32_t root_id, id;
	pid_t pid;

	open_owner(_metadata, &o, self->id);
	pid = start_owner(&o, nobody_listens);
	ASSERT_LT(0, pid);
	hear(_metadata, o.to_parent[0]);	/* nobody listens */

	dtg_create(_metadata, &g2, 1, 1, 64, RING_ENTRIES);
	root_id = find_tracker(_metadata, &self->q, getpid(), g2.vm);
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_CREATED_NTF,
				     root_id, &e, EVENT_MS, NULL));
	say(_metadata, o.to_child[1], root_id);

	/* Root hears of nobody's tracker too. */
	id = hear(_metadata, o.to_parent[0]);
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_CREATED_NTF, id,
				     &e, EVENT_MS, NULL));
	close(g2.tr);
	g2.tr = -1;
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_DESTROYED_NTF,
				     root_id, &e, EVENT_MS, NULL));
	say(_metadata, o.to_child[1], 0);
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_DESTROYED_NTF, id,
				     &e, EVENT_MS, NULL));
	EXPECT_EQ(0, wait_child(pid));
	dtg_destroy(&g2);
	close_owner(&o);
}

/* --- the wire ---------------------------------------------------------- */

/*
 * Every message kind, with every optional attribute present somewhere:
 * each attribute is one the spec lists for that message, once, of its
 * type's size.  A u32 grown to 8 bytes would be how a kernel pointer
 * slips out.  (dtnl_parse() checks the sizes; here every kind is made to
 * appear.)
 */
TEST_F_TIMEOUT(nl, every_attribute_has_the_size_its_type_says, 120)
{
	struct dtnl_msg m[MAX_MSGS], e;
	struct dirtytrack_sync s;
	struct dt_guest b;
	int n, i, ours = 0, with_bitmap = 0, bitmap_id;

	/* A second VM with the plain KVM bitmap: the kvm-bitmap attribute. */
	dtg_create_mode(_metadata, &b, 1, 1, 64, 0, DTG_BITMAP);
	bitmap_id = find_tracker(_metadata, &self->q, getpid(), b.vm);
	ASSERT_EQ(0, dtt_start(b.tr, 0));
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	store_distinct(_metadata, &self->g, 1, 0, 1, 8);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_sync(b.tr, &s));

	n = dtnl_query(&self->q, DIRTYTRACK_CMD_TRACKER_GET, true, 0, 0, m,
		       MAX_MSGS);
	ASSERT_LE(2, n);
	ASSERT_GE(MAX_MSGS, n);
	for (i = 0; i < n; i++) {
		int t;

		EXPECT_STREQ("", m[i].bad);
		if (TR(&m[i], PID) != (uint32_t)getpid())
			continue;
		ours++;
		for (t = 1; t <= DIRTYTRACK_A_TRACKER_MAX; t++) {
			if (t == DIRTYTRACK_A_TRACKER_KVM_BITMAP) {
				with_bitmap += dtnl_has(&m[i].a, t);
				continue;
			}
			EXPECT_TRUE(dtnl_has(&m[i].a, t)) TH_LOG("attribute %d", t);
		}
		EXPECT_EQ(4, m[i].nr_sources);
	}
	EXPECT_EQ(2, ours);
	EXPECT_EQ(1, with_bitmap);
	ASSERT_EQ(0, dtnl_tracker_get(&self->q, bitmap_id, m));
	EXPECT_EQ(0, TR(&m[0], KVM_BITMAP));	/* no manual protect */
	EXPECT_EQ(0, TR(&m[0], RINGS));
	EXPECT_STREQ("", m[0].bad);

	ASSERT_LE(1 + NR_SLOTS + 2, dtnl_query(&self->q, DIRTYTRACK_CMD_REGION_GET,
					       true, 0, 0, m, MAX_MSGS));
	ASSERT_LE(NR_VCPUS, dtnl_query(&self->q, DIRTYTRACK_CMD_VCPU_GET, true,
				       0, 0, m, MAX_MSGS));

	/* Every event but ring-fill (its own test has it). */
	ASSERT_EQ(0, dtt_hook("reset_partial", 1000));
	store_distinct(_metadata, &self->g, 0, 0, 1, 8);
	EXPECT_EQ(-EAGAIN, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_hook("reset_partial", 0));
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_SOURCE_ERROR_NTF,
				     self->id, &e, EVENT_MS, NULL));
	ASSERT_EQ(0, final_sync(self->g.tr));
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_FINAL_SYNC_NTF,
				     self->id, &e, EVENT_MS, NULL));
	dtg_destroy(&b);
	ASSERT_EQ(0, dtnl_wait_event(&self->ev, DIRTYTRACK_CMD_DESTROYED_NTF,
				     bitmap_id, &e, EVENT_MS, NULL));
	EXPECT_STREQ("", self->q.bad);
	EXPECT_STREQ("", self->ev.bad);
}

TEST_HARNESS_MAIN
