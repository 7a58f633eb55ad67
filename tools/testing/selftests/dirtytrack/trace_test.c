// SPDX-License-Identifier: GPL-2.0
/*
 * The tracepoints, read through ftrace while a real guest dirties known
 * pages: a sync's start and end, and one harvest line per attached source
 * with the pages it gave, in that order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "dt_guest.h"

#define SLOT_PAGES	64
#define NR_PAGES	37

static const char *tracefs(void)
{
	static const char *const dirs[] = {
		"/sys/kernel/tracing", "/sys/kernel/debug/tracing",
	};
	struct stat st;
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[64];

		snprintf(path, sizeof(path), "%s/trace", dirs[i]);
		if (!stat(path, &st))
			return dirs[i];
	}
	if (!mount("tracefs", dirs[0], "tracefs", 0, NULL))
		return dirs[0];
	return NULL;
}

static int trace_write(const char *dir, const char *file, const char *val)
{
	char path[128];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fputs(val, f) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* The trace buffer's text, NUL-terminated, or NULL. */
static char *trace_read(const char *dir)
{
	size_t len = 0, cap = 1 << 16, n;
	char path[128], *buf = malloc(cap);
	FILE *f;

	snprintf(path, sizeof(path), "%s/trace", dir);
	f = fopen(path, "r");
	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			char *more = realloc(buf, cap *= 2);

			if (!more)
				break;
			buf = more;
		}
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

FIXTURE(trace) {
	struct dt_guest g;
	const char *dir;
};

FIXTURE_SETUP(trace)
{
	self->dir = tracefs();
	ASSERT_NE(NULL, self->dir) TH_LOG("no tracefs");
	ASSERT_EQ(0, trace_write(self->dir, "events/dirtytrack/enable", "0"));
	dtg_create(_metadata, &self->g, 1, 2, SLOT_PAGES, 4096);
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	/*
	 * A first run and sync: KVM may write guest memory once on a first
	 * KVM_RUN (x86 without unrestricted guest builds its identity page
	 * table there), a page the tests below do not count.
	 */
	dtg_store_pages(_metadata, &self->g, &(uint32_t){ 0 }, 1);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &(struct dirtytrack_sync){}));
}

FIXTURE_TEARDOWN(trace)
{
	trace_write(self->dir, "events/dirtytrack/enable", "0");
	dtg_destroy(&self->g);
}

/* A sync's lines: start, one per attached source, end; exact pages. */
TEST_F(trace, sync_start_harvest_end)
{
	struct dirtytrack_sync s;
	uint32_t pages[NR_PAGES];
	char want[160], *buf, *start, *ring, *vmm, *end;
	unsigned int id;
	int i;

	for (i = 0; i < NR_PAGES; i++)
		pages[i] = i * 3;	/* across both data slots */
	dtg_store_pages(_metadata, &self->g, pages, NR_PAGES);

	ASSERT_EQ(0, trace_write(self->dir, "trace", ""));
	ASSERT_EQ(0, trace_write(self->dir, "events/dirtytrack/enable", "1"));
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, trace_write(self->dir, "events/dirtytrack/enable", "0"));
	ASSERT_EQ(NR_PAGES, s.out_harvested);

	buf = trace_read(self->dir);
	ASSERT_NE(NULL, buf);
	start = strstr(buf, "dirtytrack_sync_start: tracker=");
	ASSERT_NE(NULL, start) TH_LOG("trace:\n%s", buf);
	ASSERT_EQ(1, sscanf(start, "dirtytrack_sync_start: tracker=%u", &id));
	snprintf(want, sizeof(want), "dirtytrack_sync_start: tracker=%u kind=sync\n",
		 id);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("trace:\n%s", buf);

	snprintf(want, sizeof(want),
		 "dirtytrack_harvest: tracker=%u source=kvm-ring pages=%d invalid=0 errors=0 ns=",
		 id, NR_PAGES);
	ring = strstr(buf, want);
	EXPECT_NE(NULL, ring) TH_LOG("no '%s' in:\n%s", want, buf);
	snprintf(want, sizeof(want),
		 "dirtytrack_harvest: tracker=%u source=vmm pages=0 invalid=0 errors=0 ns=",
		 id);
	vmm = strstr(buf, want);
	EXPECT_NE(NULL, vmm) TH_LOG("no '%s' in:\n%s", want, buf);
	/* Neither the kvm-bitmap nor the iommu source is attached. */
	EXPECT_EQ(NULL, strstr(buf, "source=kvm-bitmap"));
	EXPECT_EQ(NULL, strstr(buf, "source=iommu"));
	snprintf(want, sizeof(want),
		 "dirtytrack_sync_end: tracker=%u kind=sync ret=0 pages=%d ns=",
		 id, NR_PAGES);
	end = strstr(buf, want);
	EXPECT_NE(NULL, end) TH_LOG("no '%s' in:\n%s", want, buf);
	if (ring && vmm && end) {
		EXPECT_LT(start, ring);
		EXPECT_LT(ring, end);
		EXPECT_LT(vmm, end);
	}
	free(buf);
}

/* A failed harvest ends with its error; its source counts one error. */
TEST_F(trace, failed_reset_traces_the_error)
{
	struct dirtytrack_sync s;
	uint32_t page = 5;
	char *buf;

	dtg_store_pages(_metadata, &self->g, &page, 1);
	ASSERT_EQ(0, trace_write(self->dir, "trace", ""));
	ASSERT_EQ(0, trace_write(self->dir, "events/dirtytrack/enable", "1"));
	/* KVM ends every reset early (the test hook): the sync gives up. */
	ASSERT_EQ(0, dtt_hook("reset_partial", 1000));
	EXPECT_EQ(-EAGAIN, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(0, dtt_hook("reset_partial", 0));
	ASSERT_EQ(0, trace_write(self->dir, "events/dirtytrack/enable", "0"));

	buf = trace_read(self->dir);
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "source=kvm-ring pages=1 invalid=0 errors=1 "))
		TH_LOG("trace:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, "kind=sync ret=-11 pages=1 "))
		TH_LOG("trace:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, "dirtytrack_ring_reset: tracker="))
		TH_LOG("trace:\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, " ret=-11 calls=16 partial=16 "))
		TH_LOG("trace:\n%s", buf);
	free(buf);

	/* The page stayed pending: the next sync publishes it. */
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
}

TEST_HARNESS_MAIN
