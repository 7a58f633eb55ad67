// SPDX-License-Identifier: GPL-2.0
/*
 * dirtytrack(8), the command line, against a real tracker: a guest whose
 * vCPU 0 stored into K known pages, one sync.  Its --json output must
 * parse whole, say what the test did (owner, state, regions, rings, one
 * sync, K pages from the kvm-ring source and from vCPU 0), and say what
 * the family itself answers, read here over a raw generic netlink socket;
 * top and monitor must stream JSON lines (monitor: the tracker's
 * destruction); the exit status must follow the man page.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <linux/dirtytrack_netlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "dt_guest.h"
#include "dt_json.h"

#define VCPUS		2
#define SLOTS		3
#define SLOT_PAGES	64
#define K		10	/* pages vCPU 0 stores into */
#define CLI_OUT_MAX	(256 * 1024)

static const char *cli_path(void)
{
	const char *p = getenv("DIRTYTRACK_CLI");

	return p ? p : "/bin/dirtytrack";
}

/* --- running the CLI ----------------------------------------------------- */

struct cli_run {
	pid_t pid;
	int out;		/* its stdout */
	int err;		/* its stderr */
};

/* Start the CLI with @args (NULL-ended), its stdout and stderr piped. */
static int cli_start(struct cli_run *r, const char *const *args)
{
	int out[2], err[2];
	const char *argv[16] = { cli_path() };
	int i;

	for (i = 0; args[i] && i < 14; i++)
		argv[i + 1] = args[i];
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	r->pid = fork();
	if (r->pid < 0)
		return -errno;
	if (!r->pid) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		/* No copy of the tracker's fd may outlive the test's close. */
		close_range(3, ~0U, 0);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	r->out = out[0];
	r->err = err[0];
	return 0;
}

/* Read @fd to its end, or for @timeout_ms at most, into @buf (NUL-ended). */
static size_t cli_read(int fd, char *buf, size_t size, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	ssize_t got;

	while (n + 1 < size && poll(&pfd, 1, timeout_ms) > 0) {
		got = read(fd, buf + n, size - 1 - n);
		if (got <= 0)
			break;
		n += got;
	}
	buf[n] = '\0';
	return n;
}

/* Wait for the CLI: its exit status, or -1 if it did not exit normally. */
static int cli_wait(struct cli_run *r, char *err, size_t err_size)
{
	int status;

	cli_read(r->err, err, err_size, 10000);
	close(r->out);
	close(r->err);
	if (waitpid(r->pid, &status, 0) != r->pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Run the CLI to its end: its exit status, its stdout in @out. */
static int cli(char *out, const char *const *args)
{
	char err[4096], *line, *save = NULL;
	struct cli_run r;
	int ret;

	if (cli_start(&r, args))
		return -1;
	cli_read(r.out, out, CLI_OUT_MAX, 30000);
	ret = cli_wait(&r, err, sizeof(err));
	/* What it said, as TAP comments. */
	for (line = strtok_r(err, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "# dirtytrack %s: %s\n", args[0], line);
	return ret;
}

/* --- the family, over a raw socket --------------------------------------- */

struct nlq {
	int fd;
	uint16_t family;
	uint32_t events;	/* the events group */
	uint32_t seq;
};

/* A message's values by attribute type, 4 or 8 bytes read whole. */
#define NLQ_MAX_ATTR	32
#define NLQ_MAX_NESTS	8

struct nlq_msg {
	uint64_t v[NLQ_MAX_ATTR];
	uint64_t present;
	int nr_nests;		/* the tracker's source nests */
	struct nlq_msg *nests;
};

#define NLQ_HAS(m, a)	((m)->present >> (a) & 1)

/* Each attribute @a of the @len bytes at @head; @rem: bytes left. */
#define nlq_for_each_attr(a, head, len, rem)					\
	for (a = (struct nlattr *)(head), rem = (len);				\
	     rem >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= rem; \
	     rem -= NLA_ALIGN(a->nla_len),					\
	     a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len)))

#define NLQ_DATA(a)	((void *)((struct nlattr *)(a) + 1))
#define NLQ_LEN(a)	((int)(a)->nla_len - NLA_HDRLEN)
#define NLQ_ATTRS(nh)	((char *)NLMSG_DATA(nh) + GENL_HDRLEN)
#define NLQ_ATTRS_LEN(nh) ((int)(nh)->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN))

static void nlq_values(struct nlq_msg *m, void *head, int len)
{
	struct nlattr *a;
	int rem;

	nlq_for_each_attr(a, head, len, rem) {
		int type = a->nla_type & NLA_TYPE_MASK;
		uint32_t v32;
		uint16_t v16;

		if (type >= NLQ_MAX_ATTR)
			continue;
		if (type == DIRTYTRACK_A_TRACKER_SOURCE && m->nests &&
		    m->nr_nests < NLQ_MAX_NESTS) {
			nlq_values(&m->nests[m->nr_nests++], NLQ_DATA(a), NLQ_LEN(a));
			continue;
		}
		m->present |= 1ULL << type;
		if (NLQ_LEN(a) == 8) {
			memcpy(&m->v[type], NLQ_DATA(a), 8);
		} else if (NLQ_LEN(a) == 4) {
			memcpy(&v32, NLQ_DATA(a), 4);
			m->v[type] = v32;
		} else if (NLQ_LEN(a) == 2) {
			memcpy(&v16, NLQ_DATA(a), 2);
			m->v[type] = v16;
		}
	}
}

static int nlq_send(struct nlq *q, uint16_t type, uint16_t flags, uint8_t cmd,
		    uint16_t attr, const void *data, uint16_t len)
{
	struct {
		struct nlmsghdr nh;
		struct genlmsghdr gh;
		struct nlattr a;
		char data[64];
	} req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN),
			.nlmsg_type = type, .nlmsg_seq = ++q->seq,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags,
		},
		.gh = { .cmd = cmd, .version = 1 },
	};

	if (len) {
		req.a.nla_type = attr;
		req.a.nla_len = NLA_HDRLEN + len;
		memcpy(req.data, data, len);
		req.nh.nlmsg_len += NLA_ALIGN(req.a.nla_len);
	}
	return send(q->fd, &req, req.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

/*
 * Read the answer to the last request, handing each message to @fn: 0,
 * or the kernel's -errno.
 */
static int nlq_recv(struct nlq *q, void (*fn)(struct nlmsghdr *nh, void *arg), void *arg)
{
	static char buf[64 * 1024];

	for (;;) {
		ssize_t len = recv(q->fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh = (struct nlmsghdr *)buf;

		if (len < 0)
			return -errno;
		for (; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
			int err;

			if (nh->nlmsg_seq != q->seq)
				continue;
			/* The ack of a do, or the end of a dump (never acked). */
			if (nh->nlmsg_type == NLMSG_ERROR || nh->nlmsg_type == NLMSG_DONE) {
				memcpy(&err, NLMSG_DATA(nh), sizeof(err));
				return err;
			}
			fn(nh, arg);
		}
	}
}

/* nlctrl's answer: the family's id, and its events group's. */
static void nlq_on_family(struct nlmsghdr *nh, void *arg)
{
	struct nlattr *a, *grp, *ga;
	struct nlq *q = arg;
	int rem, grem, garem;

	nlq_for_each_attr(a, NLQ_ATTRS(nh), NLQ_ATTRS_LEN(nh), rem) {
		if (a->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&q->family, NLQ_DATA(a), sizeof(q->family));
		if ((a->nla_type & NLA_TYPE_MASK) != CTRL_ATTR_MCAST_GROUPS)
			continue;
		nlq_for_each_attr(grp, NLQ_DATA(a), NLQ_LEN(a), grem) {
			struct nlq_msg g = { 0 };
			bool events = false;

			nlq_values(&g, NLQ_DATA(grp), NLQ_LEN(grp));
			nlq_for_each_attr(ga, NLQ_DATA(grp), NLQ_LEN(grp), garem)
				if (ga->nla_type == CTRL_ATTR_MCAST_GRP_NAME &&
				    !strcmp(NLQ_DATA(ga), DIRTYTRACK_MCGRP_EVENTS))
					events = true;
			if (events)
				q->events = g.v[CTRL_ATTR_MCAST_GRP_ID];
		}
	}
}

static int nlq_open(struct nlq *q)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	memset(q, 0, sizeof(*q));
	q->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (q->fd < 0 || bind(q->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	if (nlq_send(q, GENL_ID_CTRL, 0, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
		     DIRTYTRACK_FAMILY_NAME, sizeof(DIRTYTRACK_FAMILY_NAME)))
		return -errno;
	return nlq_recv(q, nlq_on_family, q);
}

/* Rows of a dump (or the one message of a do), into @rows. */
struct nlq_rows {
	struct nlq_msg row[16];
	struct nlq_msg nests[16][NLQ_MAX_NESTS];
	int n;
};

static void nlq_on_row(struct nlmsghdr *nh, void *arg)
{
	struct nlq_rows *rows = arg;
	struct nlq_msg *m;

	if (rows->n == 16)
		return;
	m = &rows->row[rows->n];
	m->nests = rows->nests[rows->n++];
	nlq_values(m, NLQ_ATTRS(nh), NLQ_ATTRS_LEN(nh));
}

/* Command @cmd with attribute @attr (a tracker's id) @id. */
static int nlq_get(struct nlq *q, uint8_t cmd, uint16_t flags, uint16_t attr,
		   uint32_t id, struct nlq_rows *rows)
{
	int ret;

	memset(rows, 0, sizeof(*rows));
	ret = nlq_send(q, q->family, flags, cmd, attr, &id, sizeof(id));
	return ret ?: nlq_recv(q, nlq_on_row, rows);
}

/* --- the fixture --------------------------------------------------------- */

FIXTURE(cli) {
	struct dt_guest g;
	struct nlq q;
	uint32_t id;		/* our tracker's, found by `list --json` */
	char *out;
};

/* The JSON array @key's object whose @id_key is @id, or NULL. */
static const struct dtj *find_row(const struct dtj *obj, const char *key,
				  const char *id_key, uint64_t id)
{
	const struct dtj *rows = dtj_get(obj, key);
	uint64_t v;
	size_t i;

	for (i = 0; rows && rows->type == DTJ_ARRAY && i < rows->n; i++)
		if (dtj_uint(&rows->items[i], id_key, &v) && v == id)
			return &rows->items[i];
	return NULL;
}

/*
 * Give @g's VM a new tracker, as dtg_create() does, in place of the one it
 * has: every memslot a region, every ring attached.  Closing the old one
 * first lets KVM's rings go to the new one, which takes them where KVM is.
 */
static void replace_tracker(struct __test_metadata *_metadata, struct dt_guest *g)
{
	int i;

	close(g->tr);
	g->tr = dtt_create(g->dev, g->vm);
	ASSERT_LE(0, g->tr) TH_LOG("create tracker: %s", strerror(-g->tr));
	ASSERT_EQ(0, dtt_region_add(g->tr, DTG_CODE_SLOT, DTG_CODE_GPA,
				    DTG_CODE_SIZE / DTG_PAGE));
	for (i = 0; i < g->nr_slots; i++)
		ASSERT_EQ(0, dtt_region_add(g->tr, DTG_FIRST_DATA_SLOT + i,
					    dtg_slot_gpa(g, i), g->slot_pages));
	for (i = 0; i < g->nr_vcpus; i++)
		ASSERT_EQ(0, dtt_attach_ring(g->tr, g->vcpu[i].vc.ring));
}

FIXTURE_SETUP(cli)
{
	const char *const list[] = { "list", "--json", NULL };
	struct dirtytrack_sync s;
	uint32_t pages[K];
	struct dtj doc;
	char why[96];
	uint64_t id;
	int i;

	self->out = malloc(CLI_OUT_MAX);
	ASSERT_NE(NULL, self->out);
	dtg_create(_metadata, &self->g, VCPUS, SLOTS, SLOT_PAGES, 4096);
	/*
	 * x86 KVM logs the code page of a vCPU's first run: run vCPU 0 once
	 * (no store), harvest that, and count with a tracker that never saw it.
	 */
	dtg_vcpu_store_pages(_metadata, &self->g, 0, NULL, 0);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	replace_tracker(_metadata, &self->g);
	ASSERT_EQ(0, dtt_start(self->g.tr, 0));
	for (i = 0; i < K; i++)		/* distinct, over every data slot */
		pages[i] = i * 19 % (SLOTS * SLOT_PAGES);
	dtg_vcpu_store_pages(_metadata, &self->g, 0, pages, K);
	ASSERT_EQ(0, dtt_sync(self->g.tr, &s));
	ASSERT_EQ(K, s.out_harvested);
	ASSERT_EQ(0, nlq_open(&self->q));
	ASSERT_NE(0, self->q.family);

	ASSERT_EQ(0, cli(self->out, list));
	ASSERT_EQ(0, dtj_parse(self->out, &doc, why, sizeof(why)))
		TH_LOG("list --json: %s: %s", why, self->out);
	ASSERT_TRUE(dtj_uint(find_row(&doc, "trackers", "pid", getpid()), "id", &id))
		TH_LOG("no tracker of pid %d in %s", getpid(), self->out);
	self->id = id;
	dtj_free(&doc);
}

FIXTURE_TEARDOWN(cli)
{
	close(self->q.fd);
	dtg_destroy(&self->g);
	free(self->out);
}

static const struct dtj *find_source(const struct dtj *t, const char *kind)
{
	const struct dtj *sources = dtj_get(t, "sources");
	size_t i;

	for (i = 0; sources && sources->type == DTJ_ARRAY && i < sources->n; i++) {
		const char *k = dtj_str(&sources->items[i], "kind");

		if (k && !strcmp(k, kind))
			return &sources->items[i];
	}
	return NULL;
}

/* Run `dirtytrack --json stat ID` into @doc: our tracker's object. */
static const struct dtj *stat_json(struct __test_metadata *_metadata,
				   FIXTURE_DATA(cli) *self, struct dtj *doc)
{
	char id[16], why[96];
	const char *const stat[] = { "--json", "stat", id, NULL };
	const struct dtj *t;

	snprintf(id, sizeof(id), "%u", self->id);
	EXPECT_EQ(0, cli(self->out, stat));
	if (dtj_parse(self->out, doc, why, sizeof(why))) {
		TH_LOG("%s: %s", why, self->out);
		return NULL;
	}
	t = find_row(doc, "trackers", "id", self->id);
	EXPECT_NE(NULL, t) TH_LOG("%s", self->out);
	EXPECT_EQ(1, dtj_get(doc, "trackers")->n);
	return t;
}

TEST_F(cli, stat_json_says_what_the_test_did)
{
	const struct dtj *t, *src, *vcpu;
	uint64_t v = 0;
	struct dtj doc;

	t = stat_json(_metadata, self, &doc);
	ASSERT_NE(NULL, t);
	EXPECT_TRUE(dtj_uint(t, "pid", &v) && v == (uint64_t)getpid());
	EXPECT_TRUE(dtj_uint(t, "uid", &v) && v == geteuid());
	EXPECT_STREQ("tracking", dtj_str(t, "state"));
	/* dtg_create() mirrors the code memslot too. */
	EXPECT_TRUE(dtj_uint(t, "regions", &v) && v == SLOTS + 1);
	EXPECT_TRUE(dtj_uint(t, "rings", &v) && v == VCPUS);
	EXPECT_TRUE(dtj_uint(t, "syncs", &v) && v == 1);
	EXPECT_TRUE(dtj_uint(t, "harvested", &v) && v == K);
	/* No kvm-bitmap source: null, not left out. */
	ASSERT_NE(NULL, dtj_get(t, "kvm_bitmap"));
	EXPECT_EQ(DTJ_NULL, dtj_get(t, "kvm_bitmap")->type);
	src = find_source(t, "kvm-ring");
	ASSERT_NE(NULL, src);
	EXPECT_TRUE(dtj_uint(src, "pages", &v) && v == K);
	vcpu = find_row(t, "vcpus", "id", 0);
	ASSERT_NE(NULL, vcpu);
	EXPECT_TRUE(dtj_uint(vcpu, "harvested", &v) && v == K);
	EXPECT_TRUE(dtj_uint(vcpu, "last", &v) && v == K);
	EXPECT_EQ(VCPUS, dtj_get(t, "vcpus")->n);
	EXPECT_EQ(SLOTS + 1, dtj_get(t, "region_list")->n);
	dtj_free(&doc);
}

/* A JSON key and the attribute it shows. */
struct key_attr {
	const char *key;
	int attr;
};

static const struct key_attr tracker_keys[] = {
	{ "id", DIRTYTRACK_A_TRACKER_ID }, { "pid", DIRTYTRACK_A_TRACKER_PID },
	{ "uid", DIRTYTRACK_A_TRACKER_UID }, { "regions", DIRTYTRACK_A_TRACKER_REGIONS },
	{ "pages", DIRTYTRACK_A_TRACKER_PAGES }, { "rings", DIRTYTRACK_A_TRACKER_RINGS },
	{ "iommus", DIRTYTRACK_A_TRACKER_IOMMUS }, { "syncs", DIRTYTRACK_A_TRACKER_SYNCS },
	{ "harvested", DIRTYTRACK_A_TRACKER_HARVESTED },
	{ "dirty_rate", DIRTYTRACK_A_TRACKER_DIRTY_RATE },
	{ "last_sync_ns", DIRTYTRACK_A_TRACKER_LAST_SYNC_NS },
	{ "max_sync_ns", DIRTYTRACK_A_TRACKER_MAX_SYNC_NS },
	{ "invalid", DIRTYTRACK_A_TRACKER_INVALID },
	{ "foreign", DIRTYTRACK_A_TRACKER_FOREIGN },
	{ "errors", DIRTYTRACK_A_TRACKER_ERRORS },
	{ "ring_overflow", DIRTYTRACK_A_TRACKER_RING_OVERFLOW },
	{ "ring_resets", DIRTYTRACK_A_TRACKER_RING_RESETS },
	{ "ring_partial_resets", DIRTYTRACK_A_TRACKER_RING_PARTIAL_RESETS },
	{ "ring_sticky", DIRTYTRACK_A_TRACKER_RING_STICKY }, { NULL },
};

static const struct key_attr source_keys[] = {
	{ "pages", DIRTYTRACK_A_SOURCE_PAGES }, { "harvests", DIRTYTRACK_A_SOURCE_HARVESTS },
	{ "last_ns", DIRTYTRACK_A_SOURCE_LAST_NS }, { "max_ns", DIRTYTRACK_A_SOURCE_MAX_NS },
	{ "invalid", DIRTYTRACK_A_SOURCE_INVALID }, { "errors", DIRTYTRACK_A_SOURCE_ERRORS },
	{ NULL },
};

static const struct key_attr vcpu_keys[] = {
	{ "id", DIRTYTRACK_A_VCPU_ID }, { "harvested", DIRTYTRACK_A_VCPU_HARVESTED },
	{ "last", DIRTYTRACK_A_VCPU_LAST }, { "dirty_rate", DIRTYTRACK_A_VCPU_DIRTY_RATE },
	{ "ring_size", DIRTYTRACK_A_VCPU_RING_SIZE },
	{ "ring_fill", DIRTYTRACK_A_VCPU_RING_FILL },
	{ "ring_fill_max", DIRTYTRACK_A_VCPU_RING_FILL_MAX },
	{ "fill_events", DIRTYTRACK_A_VCPU_FILL_EVENTS },
	{ "ring_overflow", DIRTYTRACK_A_VCPU_RING_OVERFLOW }, { NULL },
};

static const struct key_attr region_keys[] = {
	{ "slot", DIRTYTRACK_A_REGION_SLOT }, { "first_gfn", DIRTYTRACK_A_REGION_FIRST_GFN },
	{ "pages", DIRTYTRACK_A_REGION_PAGES }, { NULL },
};

/* Every key of @keys in @obj is a number, the value of its attribute in @m. */
static void expect_attrs(struct __test_metadata *_metadata, const char *what,
			 const struct dtj *obj, const struct nlq_msg *m,
			 const struct key_attr *keys)
{
	for (; keys->key; keys++) {
		uint64_t v = ~0ULL;

		EXPECT_TRUE(NLQ_HAS(m, keys->attr)) TH_LOG("%s: no attribute for %s",
							    what, keys->key);
		EXPECT_TRUE(dtj_uint(obj, keys->key, &v)) TH_LOG("%s: no \"%s\"",
								  what, keys->key);
		EXPECT_EQ(m->v[keys->attr], v) TH_LOG("%s: \"%s\"", what, keys->key);
	}
}

/*
 * Each row of a dump is in the JSON array @key, as the object whose first
 * key of @keys (the row's id) has the row's value, with every other one.
 */
static void expect_rows(struct __test_metadata *_metadata, const struct dtj *t,
			const char *key, const struct nlq_rows *rows,
			const struct key_attr *keys)
{
	int i;

	EXPECT_EQ(dtj_get(t, key)->n, rows->n);
	for (i = 0; i < rows->n; i++) {
		const struct nlq_msg *m = &rows->row[i];
		const struct dtj *row = find_row(t, key, keys->key, m->v[keys->attr]);

		ASSERT_NE(NULL, row) TH_LOG("%s: no %s %lu", key, keys->key,
					    (unsigned long)m->v[keys->attr]);
		expect_attrs(_metadata, key, row, m, keys);
	}
}

TEST_F(cli, stat_json_is_what_netlink_answers)
{
	struct nlq_rows tr, rows;
	const struct nlq_msg *m;
	const struct dtj *t;
	struct dtj doc;
	int64_t fd = 0;
	int i;

	t = stat_json(_metadata, self, &doc);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(0, nlq_get(&self->q, DIRTYTRACK_CMD_TRACKER_GET, 0,
			     DIRTYTRACK_A_TRACKER_ID, self->id, &tr));
	ASSERT_EQ(1, tr.n);
	m = &tr.row[0];
	expect_attrs(_metadata, "tracker", t, m, tracker_keys);
	EXPECT_EQ(DIRTYTRACK_STATE_TRACKING, m->v[DIRTYTRACK_A_TRACKER_STATE]);
	EXPECT_FALSE(NLQ_HAS(m, DIRTYTRACK_A_TRACKER_KVM_BITMAP));
	EXPECT_TRUE(dtj_int(t, "vm_fd", &fd));
	EXPECT_EQ((int32_t)m->v[DIRTYTRACK_A_TRACKER_VM_FD], fd);
	EXPECT_EQ(self->g.vm, fd);

	/* The sources: one nest per kind, as many in JSON, by kind's name. */
	EXPECT_EQ(m->nr_nests, dtj_get(t, "sources")->n);
	for (i = 0; i < m->nr_nests; i++) {
		static const char *const kinds[] = {
			[DIRTYTRACK_SOURCE_KVM_RING] = "kvm-ring",
			[DIRTYTRACK_SOURCE_KVM_BITMAP] = "kvm-bitmap",
			[DIRTYTRACK_SOURCE_VMM] = "vmm",
			[DIRTYTRACK_SOURCE_IOMMU] = "iommu",
		};
		uint64_t kind = m->nests[i].v[DIRTYTRACK_A_SOURCE_KIND];
		const struct dtj *src;

		ASSERT_GT(ARRAY_SIZE(kinds), kind);
		src = find_source(t, kinds[kind]);
		ASSERT_NE(NULL, src) TH_LOG("source %s", kinds[kind]);
		expect_attrs(_metadata, kinds[kind], src, &m->nests[i], source_keys);
	}

	ASSERT_EQ(0, nlq_get(&self->q, DIRTYTRACK_CMD_VCPU_GET, NLM_F_DUMP,
			     DIRTYTRACK_A_VCPU_TRACKER_ID, self->id, &rows));
	EXPECT_EQ(VCPUS, rows.n);
	for (i = 0; i < rows.n; i++)
		EXPECT_EQ(self->id, rows.row[i].v[DIRTYTRACK_A_VCPU_TRACKER_ID]);
	expect_rows(_metadata, t, "vcpus", &rows, vcpu_keys);

	ASSERT_EQ(0, nlq_get(&self->q, DIRTYTRACK_CMD_REGION_GET, NLM_F_DUMP,
			     DIRTYTRACK_A_REGION_TRACKER_ID, self->id, &rows));
	EXPECT_EQ(SLOTS + 1, rows.n);
	expect_rows(_metadata, t, "region_list", &rows, region_keys);
	dtj_free(&doc);
}

/* Each line of @text a JSON object listing our tracker: how many lines. */
static int count_frames(struct __test_metadata *_metadata, char *text, uint32_t id)
{
	char *line, *save = NULL, why[96];
	int n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const struct dtj *t;
		struct dtj frame;
		uint64_t v;

		if (dtj_parse(line, &frame, why, sizeof(why))) {
			TH_LOG("frame %d: %s: %s", n, why, line);
			return -1;
		}
		t = find_row(&frame, "trackers", "id", id);
		EXPECT_NE(NULL, t) TH_LOG("frame %d: %s", n, line);
		EXPECT_TRUE(dtj_uint(t, "dirty_rate", &v));
		EXPECT_TRUE(dtj_uint(&frame, "time_ns", &v));
		dtj_free(&frame);
		n++;
	}
	return n;
}

TEST_F(cli, top_json_streams_a_line_per_frame)
{
	const char *const top[] = {
		"top", "--json", "--iterations", "2", "--interval", "0.2", NULL,
	};
	const char *const top_vcpus[] = { "top", "--vcpus", "--iterations", "1", NULL };

	ASSERT_EQ(0, cli(self->out, top));
	EXPECT_EQ(2, count_frames(_metadata, self->out, self->id));
	/* Not a terminal: plain frames, a vCPU row per ring. */
	ASSERT_EQ(0, cli(self->out, top_vcpus));
	EXPECT_NE(NULL, strstr(self->out, "vcpu 0")) TH_LOG("%s", self->out);
	EXPECT_NE(NULL, strstr(self->out, "vcpu 1")) TH_LOG("%s", self->out);
}

/*
 * Wait until a netlink socket is in the events group (/proc/net/netlink
 * shows the first 32 groups of each socket): the monitor listens.
 */
static bool wait_for_listener(uint32_t group)
{
	int tries;

	for (tries = 0; tries < 300; tries++) {
		FILE *f = fopen("/proc/net/netlink", "r");
		unsigned int proto, groups;
		char line[256];
		bool found = false;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %u %*u %x", &proto, &groups) == 2 &&
			    proto == NETLINK_GENERIC && groups >> (group - 1) & 1)
				found = true;
		if (f)
			fclose(f);
		if (found)
			return true;
		usleep(100 * 1000);
	}
	return false;
}

TEST_F(cli, monitor_json_reports_the_tracker_destroyed)
{
	const char *const monitor[] = {
		"monitor", "--json", "--count", "1", "--timeout", "60", NULL,
	};
	char why[96], err[4096];
	struct cli_run r;
	struct dtj ev;
	uint64_t v;

	ASSERT_LT(0, self->q.events);
	ASSERT_GE(32, self->q.events) TH_LOG("group %u: /proc/net/netlink cannot show it",
					     self->q.events);
	ASSERT_EQ(0, cli_start(&r, monitor));
	ASSERT_TRUE(wait_for_listener(self->q.events));
	close(self->g.tr);
	self->g.tr = -1;
	cli_read(r.out, self->out, CLI_OUT_MAX, 30000);
	ASSERT_EQ(0, cli_wait(&r, err, sizeof(err))) TH_LOG("%s", err);
	ASSERT_EQ(0, dtj_parse(self->out, &ev, why, sizeof(why)))
		TH_LOG("%s: %s", why, self->out);
	EXPECT_EQ(DTJ_OBJECT, ev.type);
	EXPECT_STREQ("destroyed", dtj_str(&ev, "event"));
	EXPECT_TRUE(dtj_uint(&ev, "tracker_id", &v) && v == self->id);
	EXPECT_TRUE(dtj_uint(&ev, "time_ns", &v));
	dtj_free(&ev);
}

TEST_F(cli, exit_status_follows_the_man_page)
{
	const char *const missing[] = { "stat", "999999", NULL };
	const char *const junk[] = { "stat", "12x", NULL };
	const char *const unknown[] = { "list", "--bogus", NULL };
	const char *const interval[] = { "top", "--interval", "0.5s", NULL };
	const char *const help[] = { "--help", NULL };
	char id[16];
	const char *const stat[] = { "stat", id, NULL };

	snprintf(id, sizeof(id), "%u", self->id);
	EXPECT_EQ(1, cli(self->out, missing));
	EXPECT_EQ(2, cli(self->out, junk));
	EXPECT_EQ(2, cli(self->out, unknown));
	EXPECT_EQ(2, cli(self->out, interval));
	EXPECT_EQ(0, cli(self->out, help));
	EXPECT_NE(NULL, strstr(self->out, "monitor"));
	EXPECT_EQ(0, cli(self->out, stat));
	EXPECT_NE(NULL, strstr(self->out, "kvm-ring")) TH_LOG("%s", self->out);
}

TEST_HARNESS_MAIN
