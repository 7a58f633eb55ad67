/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dirtytrack generic netlink family over a raw socket, for guests with
 * no libnl (static binaries, a busybox initramfs): resolve the family and
 * its "events" group through nlctrl, send a do or a dump, parse every
 * reply or event into flat attribute tables, and wait for an event.
 *
 * Every message parsed is also checked against the spec
 * (Documentation/netlink/specs/dirtytrack.yaml): only the attributes its
 * command lists, each once (the source nest excepted), each of the size
 * its type says (u32 and s32: 4 bytes, uint: 4 or 8).  The first
 * breach is described in dtnl_msg.bad, and the first a socket ever
 * received in dtnl.bad.
 *
 * A socket subscribed to the events group is for events only: a query on
 * it would drop the events that arrive meanwhile.
 */
#ifndef DT_NL_H
#define DT_NL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/dirtytrack_netlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#define DTNL_MAX_ATTR		24	/* above every set's largest type */
#define DTNL_MAX_SOURCES	8
#define DTNL_BUF_SIZE		(64 * 1024)

struct dtnl {
	int fd;
	uint16_t family;
	uint32_t events;	/* the events group's id */
	uint32_t seq;
	char *buf;		/* received, not yet parsed: [off, len) */
	size_t off, len;
	char bad[160];		/* the first breach of the spec seen, or "" */
};

/* One attribute set's values; an attribute of 4 or 8 bytes is read whole. */
struct dtnl_attrs {
	uint64_t val[DTNL_MAX_ATTR];
	uint16_t len[DTNL_MAX_ATTR];	/* payload bytes */
	uint8_t count[DTNL_MAX_ATTR];	/* 0: absent */
};

struct dtnl_msg {
	uint8_t cmd;
	struct dtnl_attrs a;
	int nr_sources;		/* tracker replies: the source nests */
	struct dtnl_attrs source[DTNL_MAX_SOURCES];
	char bad[160];		/* the first breach of the spec, or "" */
};

/*
 * The spec's attribute types, indexed by attribute type: 'u' u32, 's'
 * s32, 'U' uint, 'n' nest, '-' none.
 */
static const char dtnl_tracker_types[] = "-uuusuuUuuuUUUUUUUUnUUUU";
static const char dtnl_source_types[] = "-uUUUUUU";
static const char dtnl_region_types[] = "-uuUU";
static const char dtnl_vcpu_types[] = "-uuUUUuuuUU";
static const char dtnl_event_types[] = "-uuuuuusUUU";

#define DTNL_TYPES_COVER(types, max) \
	_Static_assert(sizeof(types) - 1 == (max) + 1, #types " misses types")
DTNL_TYPES_COVER(dtnl_tracker_types, DIRTYTRACK_A_TRACKER_MAX);
DTNL_TYPES_COVER(dtnl_source_types, DIRTYTRACK_A_SOURCE_MAX);
DTNL_TYPES_COVER(dtnl_region_types, DIRTYTRACK_A_REGION_MAX);
DTNL_TYPES_COVER(dtnl_vcpu_types, DIRTYTRACK_A_VCPU_MAX);
DTNL_TYPES_COVER(dtnl_event_types, DIRTYTRACK_A_EVENT_MAX);

/* Bit t set: the command's messages may carry attribute t. */
#define DTNL_BIT(t)	(1u << (t))
#define DTNL_ALL(max)	(((1u << ((max) + 1)) - 1) & ~1u)

static inline uint32_t dtnl_event_attrs(uint8_t cmd)
{
	switch (cmd) {
	case DIRTYTRACK_CMD_CREATED_NTF:
	case DIRTYTRACK_CMD_DESTROYED_NTF:
		return DTNL_BIT(DIRTYTRACK_A_EVENT_TRACKER_ID);
	case DIRTYTRACK_CMD_RING_FILL_NTF:
		return DTNL_BIT(DIRTYTRACK_A_EVENT_TRACKER_ID) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_VCPU) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_RING_FILL) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_RING_SIZE) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_THRESHOLD);
	case DIRTYTRACK_CMD_SOURCE_ERROR_NTF:
		return DTNL_BIT(DIRTYTRACK_A_EVENT_TRACKER_ID) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_SOURCE) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_ERROR) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_ERRORS);
	case DIRTYTRACK_CMD_FINAL_SYNC_NTF:
		return DTNL_BIT(DIRTYTRACK_A_EVENT_TRACKER_ID) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_PAGES) |
		       DTNL_BIT(DIRTYTRACK_A_EVENT_DURATION_NS);
	}
	return 0;
}

/* For each attribute @na in the @len bytes at @start; @rem: what is left. */
#define dtnl_for_each_attr(na, start, len, rem)				\
	for (na = (const struct nlattr *)(start), rem = (len);		\
	     rem >= NLA_HDRLEN && na->nla_len >= NLA_HDRLEN &&		\
	     na->nla_len <= rem;					\
	     rem -= NLA_ALIGN(na->nla_len),				\
	     na = (const struct nlattr *)((const uint8_t *)na +	\
					  NLA_ALIGN(na->nla_len)))
#define dtnl_data(na)	((const uint8_t *)(na) + NLA_HDRLEN)
#define dtnl_len(na)	((int)(na)->nla_len - NLA_HDRLEN)

static inline uint64_t dtnl_get(const struct dtnl_attrs *a, int type)
{
	return type < DTNL_MAX_ATTR ? a->val[type] : 0;
}

static inline bool dtnl_has(const struct dtnl_attrs *a, int type)
{
	return type < DTNL_MAX_ATTR && a->count[type];
}

/* The source nest of @kind in a tracker reply, or NULL. */
static inline const struct dtnl_attrs *dtnl_source(const struct dtnl_msg *m,
						   uint32_t kind)
{
	int i;

	for (i = 0; i < m->nr_sources; i++)
		if (dtnl_has(&m->source[i], DIRTYTRACK_A_SOURCE_KIND) &&
		    dtnl_get(&m->source[i], DIRTYTRACK_A_SOURCE_KIND) == kind)
			return &m->source[i];
	return NULL;
}

static inline void dtnl_bad(struct dtnl_msg *m, const char *what, int type,
			    int len)
{
	if (!m->bad[0])
		snprintf(m->bad, sizeof(m->bad),
			 "cmd %u: attribute %d (%d bytes): %s", m->cmd, type,
			 len, what);
}

/*
 * Parse the attributes in [@p, @p + @len) into @a against @types (of
 * @ntypes entries) and the allowed mask @allowed.  A tracker's source
 * nests go to @m->source when @nest_type is theirs.
 */
static inline void dtnl_parse_attrs(struct dtnl_msg *m, struct dtnl_attrs *a,
				    const uint8_t *p, int len,
				    const char *types, int ntypes,
				    uint32_t allowed, int nest_type)
{
	const struct nlattr *na;
	int rem;

	memset(a, 0, sizeof(*a));
	dtnl_for_each_attr(na, p, len, rem) {
		int type = na->nla_type & NLA_TYPE_MASK;
		int plen = dtnl_len(na);
		const uint8_t *data = dtnl_data(na);
		char t;

		if (type <= 0 || type >= ntypes || type >= DTNL_MAX_ATTR) {
			dtnl_bad(m, "not in the spec", type, plen);
			continue;
		}
		t = types[type];
		if (!(allowed & DTNL_BIT(type)))
			dtnl_bad(m, "not in this message's attribute list", type, plen);
		if (t == 'n') {
			if (type != nest_type || m->nr_sources >= DTNL_MAX_SOURCES) {
				dtnl_bad(m, "an unexpected nest", type, plen);
				continue;
			}
			dtnl_parse_attrs(m, &m->source[m->nr_sources++], data, plen,
					 dtnl_source_types,
					 sizeof(dtnl_source_types) - 1,
					 DTNL_ALL(DIRTYTRACK_A_SOURCE_MAX), 0);
			a->count[type]++;
			continue;
		}
		if (a->count[type]++)
			dtnl_bad(m, "repeated", type, plen);
		if (plen == 4) {
			uint32_t v;

			memcpy(&v, data, 4);
			a->val[type] = v;
		} else if (plen == 8 && t == 'U') {
			memcpy(&a->val[type], data, 8);
		} else {
			dtnl_bad(m, t == 'U' ? "a uint of neither 4 nor 8 bytes" :
				 "a u32/s32 of other than 4 bytes", type, plen);
		}
		a->len[type] = plen;
	}
	if (rem > 0)
		dtnl_bad(m, "a truncated attribute", 0, rem);
}

/* Parse one dirtytrack message (a reply or an event) into @m. */
static inline void dtnl_parse(const struct nlmsghdr *nh, struct dtnl_msg *m)
{
	const struct genlmsghdr *gh = NLMSG_DATA(nh);
	const uint8_t *p = (const uint8_t *)gh + GENL_HDRLEN;
	int len = nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

	memset(m, 0, sizeof(*m));
	m->cmd = gh->cmd;
	switch (gh->cmd) {
	case DIRTYTRACK_CMD_TRACKER_GET:
		dtnl_parse_attrs(m, &m->a, p, len, dtnl_tracker_types,
				 sizeof(dtnl_tracker_types) - 1,
				 DTNL_ALL(DIRTYTRACK_A_TRACKER_MAX),
				 DIRTYTRACK_A_TRACKER_SOURCE);
		break;
	case DIRTYTRACK_CMD_REGION_GET:
		dtnl_parse_attrs(m, &m->a, p, len, dtnl_region_types,
				 sizeof(dtnl_region_types) - 1,
				 DTNL_ALL(DIRTYTRACK_A_REGION_MAX), 0);
		break;
	case DIRTYTRACK_CMD_VCPU_GET:
		dtnl_parse_attrs(m, &m->a, p, len, dtnl_vcpu_types,
				 sizeof(dtnl_vcpu_types) - 1,
				 DTNL_ALL(DIRTYTRACK_A_VCPU_MAX), 0);
		break;
	default:
		if (!dtnl_event_attrs(gh->cmd)) {
			dtnl_bad(m, "an unknown command", 0, len);
			break;
		}
		dtnl_parse_attrs(m, &m->a, p, len, dtnl_event_types,
				 sizeof(dtnl_event_types) - 1,
				 dtnl_event_attrs(gh->cmd), 0);
	}
}

/* Parse @nh into @m, and keep the first breach of the spec in @nl. */
static inline void dtnl_take(struct dtnl *nl, const struct nlmsghdr *nh,
			     struct dtnl_msg *m)
{
	dtnl_parse(nh, m);
	if (m->bad[0] && !nl->bad[0])
		memcpy(nl->bad, m->bad, sizeof(nl->bad));
}

static inline void dtnl_put_attr(uint8_t *buf, size_t *off, uint16_t type,
				 const void *data, uint16_t len)
{
	struct nlattr *na = (struct nlattr *)(buf + *off);

	na->nla_type = type;
	na->nla_len = NLA_HDRLEN + len;
	memcpy((uint8_t *)na + NLA_HDRLEN, data, len);
	*off += NLA_ALIGN(na->nla_len);
}

/* Send a request of @cmd to @family, with one attribute if @attr_len. */
static inline int dtnl_send(struct dtnl *nl, uint16_t family, uint8_t cmd,
			    uint16_t flags, uint16_t attr, const void *data,
			    uint16_t attr_len)
{
	uint8_t buf[256] __attribute__((aligned(4))) = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;

	gh->cmd = cmd;
	gh->version = 1;
	if (attr_len)
		dtnl_put_attr(buf, &off, attr, data, attr_len);
	nh->nlmsg_len = off;
	nh->nlmsg_type = family;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++nl->seq;
	if (sendto(nl->fd, buf, off, 0, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)off)
		return -errno;
	return 0;
}

/*
 * Receive the next message into @nl->buf and return it, or NULL with
 * *@err set (-EAGAIN: nothing within @timeout_ms; -1 waits forever).
 */
static inline const struct nlmsghdr *dtnl_next(struct dtnl *nl,
					       int timeout_ms, int *err)
{
	const struct nlmsghdr *nh;
	struct pollfd pfd = { .fd = nl->fd, .events = POLLIN };
	ssize_t n;

	if (nl->off >= nl->len) {
		n = poll(&pfd, 1, timeout_ms);
		if (n <= 0) {
			*err = n ? -errno : -EAGAIN;
			return NULL;
		}
		n = recv(nl->fd, nl->buf, DTNL_BUF_SIZE, MSG_TRUNC);
		if (n < 0) {
			*err = -errno;
			return NULL;
		}
		if (n > DTNL_BUF_SIZE) {
			*err = -EMSGSIZE;
			return NULL;
		}
		nl->off = 0;
		nl->len = n;
	}
	nh = (const struct nlmsghdr *)(nl->buf + nl->off);
	if (!NLMSG_OK(nh, nl->len - nl->off)) {
		nl->off = nl->len;
		*err = -EBADMSG;
		return NULL;
	}
	nl->off += NLMSG_ALIGN(nh->nlmsg_len);
	return nh;
}

/*
 * Send a do (@dump false) or dump request of @cmd, with a u32 attribute
 * @attr = @val unless @attr is 0, and collect the replies: the first @max
 * go to @out.  Returns how many replies came (possibly more than @max),
 * or -errno: the kernel's error (for a dump, the one NLMSG_DONE carries)
 * or a socket's.  A do asks for no ACK: its answer is one reply or an
 * error.
 */
static inline int dtnl_query(struct dtnl *nl, uint8_t cmd, bool dump,
			     uint16_t attr, uint32_t val,
			     struct dtnl_msg *out, int max)
{
	int ret, n = 0;

	ret = dtnl_send(nl, nl->family, cmd, dump ? NLM_F_DUMP : 0, attr,
			&val, attr ? sizeof(val) : 0);
	if (ret)
		return ret;
	for (;;) {
		const struct nlmsghdr *nh = dtnl_next(nl, 10000, &ret);

		if (!nh)
			return ret == -EAGAIN ? -ETIMEDOUT : ret;
		if (nh->nlmsg_seq != nl->seq)
			continue;	/* a late reply to an earlier request */
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			return e->error ? e->error : n;
		}
		if (nh->nlmsg_type == NLMSG_DONE) {
			int err = 0;

			if (nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
				memcpy(&err, NLMSG_DATA(nh), sizeof(int));
			return err < 0 ? err : n;
		}
		if (nh->nlmsg_type != nl->family)
			return -EPROTO;
		if (n < max) {
			dtnl_take(nl, nh, &out[n]);
		} else {
			struct dtnl_msg extra;

			dtnl_take(nl, nh, &extra);
		}
		n++;
		if (!dump)
			return n;
	}
}

/* A do of tracker-get for tracker @id: 0 or -errno. */
static inline int dtnl_tracker_get(struct dtnl *nl, uint32_t id,
				   struct dtnl_msg *m)
{
	int n = dtnl_query(nl, DIRTYTRACK_CMD_TRACKER_GET, false,
			   DIRTYTRACK_A_TRACKER_ID, id, m, 1);

	return n < 0 ? n : n == 1 ? 0 : -EPROTO;
}

/* The id of group @name in nlctrl's CTRL_ATTR_MCAST_GROUPS @groups, or 0. */
static inline uint32_t dtnl_group_id(const struct nlattr *groups,
				     const char *name)
{
	const struct nlattr *grp, *ga;
	int rem, grem;

	dtnl_for_each_attr(grp, dtnl_data(groups), dtnl_len(groups), rem) {
		bool match = false;
		uint32_t id = 0;

		dtnl_for_each_attr(ga, dtnl_data(grp), dtnl_len(grp), grem) {
			if (ga->nla_type == CTRL_ATTR_MCAST_GRP_NAME)
				match = !strncmp((const char *)dtnl_data(ga), name,
						 dtnl_len(ga));
			else if (ga->nla_type == CTRL_ATTR_MCAST_GRP_ID)
				memcpy(&id, dtnl_data(ga), sizeof(id));
		}
		if (match)
			return id;
	}
	return 0;
}

/* Resolve family @name and its group @group through nlctrl. */
static inline int dtnl_resolve(struct dtnl *nl, const char *name,
			       const char *group)
{
	const struct nlmsghdr *nh;
	const struct nlattr *na;
	int ret, rem;

	ret = dtnl_send(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0,
			CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	if (ret)
		return ret;
	do {
		nh = dtnl_next(nl, 10000, &ret);
		if (!nh)
			return ret;
	} while (nh->nlmsg_seq != nl->seq);
	if (nh->nlmsg_type == NLMSG_ERROR)
		return ((const struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -EPROTO;
	if (nh->nlmsg_type != GENL_ID_CTRL)
		return -EPROTO;
	dtnl_for_each_attr(na, (const uint8_t *)NLMSG_DATA(nh) + GENL_HDRLEN,
			   nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem) {
		if (na->nla_type == CTRL_ATTR_FAMILY_ID)
			memcpy(&nl->family, dtnl_data(na), sizeof(nl->family));
		else if ((na->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_MCAST_GROUPS)
			nl->events = dtnl_group_id(na, group);
	}
	return nl->family ? 0 : -ENOENT;
}

/*
 * Open a socket on the dirtytrack family, in the caller's network
 * namespace, as the caller; with @events, subscribed to the events group.
 */
static inline int dtnl_open(struct dtnl *nl, bool events)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK };
	int rcvbuf = 1 << 20, ret;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	nl->buf = malloc(DTNL_BUF_SIZE);
	if (!nl->buf)
		return -ENOMEM;
	setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(nl->fd, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	ret = dtnl_resolve(nl, DIRTYTRACK_FAMILY_NAME, DIRTYTRACK_MCGRP_EVENTS);
	if (ret)
		return ret;
	if (!events)
		return 0;
	if (!nl->events)
		return -ENOENT;
	if (setsockopt(nl->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &nl->events,
		       sizeof(nl->events)))
		return -errno;
	return 0;
}

static inline void dtnl_close(struct dtnl *nl)
{
	if (nl->fd > 0)
		close(nl->fd);
	free(nl->buf);
	memset(nl, 0, sizeof(*nl));
}

static inline int64_t dtnl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * The next event on an events socket, within @timeout_ms: 0, -EAGAIN
 * when none came, or -errno (-ENOBUFS: events were lost).
 */
static inline int dtnl_next_event(struct dtnl *nl, struct dtnl_msg *m,
				  int timeout_ms)
{
	int64_t end = dtnl_now_ms() + timeout_ms;
	const struct nlmsghdr *nh;
	int ret;

	for (;;) {
		int64_t left = end - dtnl_now_ms();

		nh = dtnl_next(nl, left < 0 ? 0 : left, &ret);
		if (!nh)
			return ret;
		if (nh->nlmsg_type != nl->family)
			continue;
		dtnl_take(nl, nh, m);
		return 0;
	}
}

/*
 * Wait up to @timeout_ms for event @cmd about tracker @id, passing over
 * the others (their count in *@skipped if not NULL): 0, -EAGAIN or -errno.
 */
static inline int dtnl_wait_event(struct dtnl *nl, uint8_t cmd, uint32_t id,
				  struct dtnl_msg *m, int timeout_ms,
				  int *skipped)
{
	int64_t end = dtnl_now_ms() + timeout_ms;
	int ret;

	for (;;) {
		int64_t left = end - dtnl_now_ms();

		ret = dtnl_next_event(nl, m, left < 0 ? 0 : left);
		if (ret)
			return ret;
		if (m->cmd == cmd &&
		    dtnl_get(&m->a, DIRTYTRACK_A_EVENT_TRACKER_ID) == id)
			return 0;
		if (skipped)
			(*skipped)++;
	}
}

#endif /* DT_NL_H */
