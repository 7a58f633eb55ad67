// SPDX-License-Identifier: GPL-2.0
/*
 * The dirtytrack generic netlink family through libnl: one request (a do
 * or a dump) at a time on one socket, each message parsed into the tool's
 * objects through the attribute tables of model.c, and the kernel's
 * errors kept with their extended-ack message for dtnl_perror().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "cli.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct dtnl {
	struct nl_sock *sk;
	int family;
	int err;		/* the last error, -errno */
	const char *why;	/* libnl's words for it, when not the kernel's */
	char extack[256];	/* the kernel's message for it, if any */
};

/* One request: what parses its messages, and how it ended. */
struct dtnl_req {
	struct dtnl *nl;
	int (*parse)(struct nlattr **tb, struct nlmsghdr *nlh, void *out);
	const struct dt_set *set;
	void *out;
	bool done;
	int err;
};

static void dtnl_set_error(struct dtnl *nl, int err, const char *why)
{
	nl->err = err;
	nl->why = why;
	nl->extack[0] = '\0';
}

/* A libnl failure that is not the kernel's answer. */
static int dtnl_lib_error(struct dtnl *nl, int nlerr)
{
	dtnl_set_error(nl, -EIO, nl_geterror(nlerr));
	return -EIO;
}

/* The extended ack's message, in TLVs at @offset of @nlh's payload. */
static void dtnl_read_extack(struct dtnl *nl, struct nlmsghdr *nlh, size_t offset)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	size_t len = nlh->nlmsg_len - NLMSG_HDRLEN;

	offset = NLMSG_ALIGN(offset);
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || offset >= len)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + offset),
		      len - offset, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		nla_strlcpy(nl->extack, tb[NLMSGERR_ATTR_MSG], sizeof(nl->extack));
}

static int dtnl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct dtnl_req *req = arg;
	size_t offset = sizeof(*e);

	(void)who;
	dtnl_set_error(req->nl, e->error, NULL);
	/* Past the request the error echoes, unless the kernel capped it. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
	dtnl_read_extack(req->nl, nlh, offset);
	req->err = e->error;
	req->done = true;
	return NL_STOP;
}

/* The end of a dump: its payload is the dump's error, 0 or -errno. */
static int dtnl_on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dtnl_req *req = arg;
	int err = 0;

	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(err))
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
	if (err < 0) {
		dtnl_set_error(req->nl, err, NULL);
		dtnl_read_extack(req->nl, nlh, sizeof(err));
		req->err = err;
	}
	req->done = true;
	return NL_STOP;
}

static int dtnl_on_ack(struct nl_msg *msg, void *arg)
{
	struct dtnl_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

/* Whatever the attribute set says: 4 or 8 bytes for a uint, 4 otherwise. */
static void dtnl_policy(const struct dt_set *set, struct nla_policy *policy)
{
	size_t i;

	memset(policy, 0, (set->maxattr + 1) * sizeof(*policy));
	for (i = 0; i < set->nr_fields; i++) {
		struct nla_policy *p = &policy[set->fields[i].attr];

		if (set->fields[i].type == DT_UINT) {
			p->minlen = 4;
			p->maxlen = 8;
		} else {
			p->type = NLA_U32;
		}
	}
}

/* An NLA_UINT: the kernel sends 4 bytes when the value fits, else 8. */
static uint64_t dtnl_get_uint(const struct nlattr *a)
{
	uint64_t v64;

	if (nla_len(a) == sizeof(v64)) {
		memcpy(&v64, nla_data(a), sizeof(v64));
		return v64;
	}
	return nla_get_u32((struct nlattr *)a);
}

/* Fill @obj's members from @tb as the set's table says. */
static void dtnl_fill(const struct dt_set *set, struct nlattr **tb, void *obj)
{
	uint64_t *present = obj;	/* every object begins with it */
	size_t i;

	for (i = 0; i < set->nr_fields; i++) {
		const struct dt_field *f = &set->fields[i];
		char *member = (char *)obj + f->offset;
		struct nlattr *a = tb[f->attr];
		int64_t s;
		uint64_t u;

		if (!a)
			continue;
		*present |= 1ULL << f->attr;
		switch (f->type) {
		case DT_S32:
			s = (int32_t)nla_get_u32(a);
			memcpy(member, &s, sizeof(s));
			break;
		case DT_UINT:
			u = dtnl_get_uint(a);
			memcpy(member, &u, sizeof(u));
			break;
		default:
			u = nla_get_u32(a);
			memcpy(member, &u, sizeof(u));
			break;
		}
	}
}

static int dtnl_parse_nested(const struct dt_set *set, struct nlattr *nest, void *obj)
{
	struct nla_policy policy[set->maxattr + 1];
	struct nlattr *tb[set->maxattr + 1];

	dtnl_policy(set, policy);
	if (nla_parse_nested(tb, set->maxattr, nest, policy) < 0)
		return -EBADMSG;
	dtnl_fill(set, tb, obj);
	return 0;
}

static int dtnl_on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct dtnl_req *req = arg;
	const struct dt_set *set = req->set;
	struct nla_policy policy[set->maxattr + 1];
	struct nlattr *tb[set->maxattr + 1];
	int err;

	dtnl_policy(set, policy);
	if (genlmsg_parse(nlh, 0, tb, set->maxattr, policy) < 0)
		err = -EBADMSG;
	else
		err = req->parse(tb, nlh, req->out);
	if (err) {
		dtnl_set_error(req->nl, err, err == -EBADMSG ?
			       "malformed message from the kernel" : NULL);
		req->err = err;
		req->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

/* Send @msg, then read until its answer is complete. */
static int dtnl_run(struct dtnl *nl, struct nl_msg *msg, struct dtnl_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	req->nl = nl;
	if (!cb) {
		nlmsg_free(msg);
		dtnl_set_error(nl, -ENOMEM, NULL);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dtnl_on_valid, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, dtnl_on_finish, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, dtnl_on_ack, req);
	nl_cb_err(cb, NL_CB_CUSTOM, dtnl_on_error, req);

	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(cb);
		return dtnl_lib_error(nl, ret);
	}
	while (!req->done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && !req->done) {
			nl_cb_put(cb);
			return dtnl_lib_error(nl, ret);
		}
	}
	nl_cb_put(cb);
	return req->err;
}

/* A request for @cmd, with a u32 @attr of value @id unless @id is 0. */
static int dtnl_request(struct dtnl *nl, uint8_t cmd, int flags, uint16_t attr,
			uint32_t id, struct dtnl_req *req)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg ||
	    !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, DIRTYTRACK_FAMILY_VERSION) ||
	    (id && nla_put_u32(msg, attr, id) < 0)) {
		nlmsg_free(msg);
		dtnl_set_error(nl, -ENOMEM, NULL);
		return -ENOMEM;
	}
	return dtnl_run(nl, msg, req);
}

static int dtnl_parse_tracker(struct nlattr **tb, struct nlmsghdr *nlh, void *out)
{
	struct dt_tracker *t = out;
	struct nlattr *a;
	int rem, err;

	if (!tb[DIRTYTRACK_A_TRACKER_ID])
		return -EBADMSG;
	dtnl_fill(&dt_tracker_set, tb, t);
	/* source is a multi-attr nest: tb[] kept only the last one. */
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		if (nla_type(a) != DIRTYTRACK_A_TRACKER_SOURCE)
			continue;
		if (t->nr_sources == DT_MAX_SOURCES)
			break;
		err = dtnl_parse_nested(&dt_source_set, a, &t->source[t->nr_sources]);
		if (err)
			return err;
		t->nr_sources++;
	}
	return 0;
}

static int dtnl_parse_tracker_row(struct nlattr **tb, struct nlmsghdr *nlh, void *out)
{
	struct dt_tracker *t = dt_vec_push(out);

	return t ? dtnl_parse_tracker(tb, nlh, t) : -ENOMEM;
}

/* A region or vCPU row: the set's attributes, its tracker's id among them. */
static int dtnl_parse_row(struct nlattr **tb, void *out, const struct dt_set *set,
			  uint16_t tracker_id)
{
	void *row;

	if (!tb[tracker_id])
		return -EBADMSG;
	row = dt_vec_push(out);
	if (!row)
		return -ENOMEM;
	dtnl_fill(set, tb, row);
	return 0;
}

static int dtnl_parse_region(struct nlattr **tb, struct nlmsghdr *nlh, void *out)
{
	(void)nlh;
	return dtnl_parse_row(tb, out, &dt_region_set, DIRTYTRACK_A_REGION_TRACKER_ID);
}

static int dtnl_parse_vcpu(struct nlattr **tb, struct nlmsghdr *nlh, void *out)
{
	(void)nlh;
	return dtnl_parse_row(tb, out, &dt_vcpu_set, DIRTYTRACK_A_VCPU_TRACKER_ID);
}

int dtnl_tracker_get(struct dtnl *nl, uint32_t id, struct dt_tracker *t)
{
	struct dtnl_req req = {
		.parse = dtnl_parse_tracker, .set = &dt_tracker_set, .out = t,
	};

	memset(t, 0, sizeof(*t));
	t->region_list.size = sizeof(struct dt_region);
	t->vcpus.size = sizeof(struct dt_vcpu);
	return dtnl_request(nl, DIRTYTRACK_CMD_TRACKER_GET, 0,
			    DIRTYTRACK_A_TRACKER_ID, id, &req);
}

int dtnl_tracker_dump(struct dtnl *nl, struct dt_vec *trackers)
{
	struct dtnl_req req = {
		.parse = dtnl_parse_tracker_row, .set = &dt_tracker_set,
		.out = trackers,
	};
	size_t i;
	int err;

	err = dtnl_request(nl, DIRTYTRACK_CMD_TRACKER_GET, NLM_F_DUMP, 0, 0, &req);
	for (i = 0; i < trackers->n; i++) {
		struct dt_tracker *t = DT_VEC_AT(trackers, struct dt_tracker, i);

		t->region_list.size = sizeof(struct dt_region);
		t->vcpus.size = sizeof(struct dt_vcpu);
	}
	return err;
}

int dtnl_region_dump(struct dtnl *nl, uint32_t tracker_id, struct dt_vec *regions)
{
	struct dtnl_req req = {
		.parse = dtnl_parse_region, .set = &dt_region_set, .out = regions,
	};

	return dtnl_request(nl, DIRTYTRACK_CMD_REGION_GET, NLM_F_DUMP,
			    DIRTYTRACK_A_REGION_TRACKER_ID, tracker_id, &req);
}

int dtnl_vcpu_dump(struct dtnl *nl, uint32_t tracker_id, struct dt_vec *vcpus)
{
	struct dtnl_req req = {
		.parse = dtnl_parse_vcpu, .set = &dt_vcpu_set, .out = vcpus,
	};

	return dtnl_request(nl, DIRTYTRACK_CMD_VCPU_GET, NLM_F_DUMP,
			    DIRTYTRACK_A_VCPU_TRACKER_ID, tracker_id, &req);
}

/* --- events -------------------------------------------------------------- */

struct dtnl_events {
	int (*fn)(const struct dt_event *ev, void *arg);
	void *arg;
	int stopped;
};

static int dtnl_on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nla_policy policy[DIRTYTRACK_A_EVENT_MAX + 1];
	struct nlattr *tb[DIRTYTRACK_A_EVENT_MAX + 1];
	struct dtnl_events *evs = arg;
	struct dt_event ev = { .time_ns = dt_now_ns(CLOCK_REALTIME) };

	ev.cmd = genlmsg_hdr(nlh)->cmd;
	/* Not ours to show: another kind a newer module sends, or garbage. */
	dtnl_policy(&dt_event_set, policy);
	if (!dt_event_name(ev.cmd) ||
	    genlmsg_parse(nlh, 0, tb, DIRTYTRACK_A_EVENT_MAX, policy) < 0)
		return NL_OK;
	dtnl_fill(&dt_event_set, tb, &ev);
	if (evs->fn(&ev, evs->arg)) {
		evs->stopped = 1;
		return NL_STOP;
	}
	return NL_OK;
}

int dtnl_subscribe(struct dtnl *nl)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, DIRTYTRACK_FAMILY_NAME,
				    DIRTYTRACK_MCGRP_EVENTS);
	if (grp < 0)
		return dtnl_lib_error(nl, grp);
	/* Events are not answers to a request: no sequence to check. */
	nl_socket_disable_seq_check(nl->sk);
	nl_socket_set_buffer_size(nl->sk, 1 << 20, 0);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0)
		return dtnl_lib_error(nl, ret);
	ret = nl_socket_set_nonblocking(nl->sk);
	if (ret < 0)
		return dtnl_lib_error(nl, ret);
	return 0;
}

int dtnl_fd(const struct dtnl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

int dtnl_recv_events(struct dtnl *nl, int (*fn)(const struct dt_event *ev, void *arg),
		     void *arg)
{
	struct dtnl_events evs = { .fn = fn, .arg = arg };
	struct nl_cb *sk_cb = nl_socket_get_cb(nl->sk);
	/* The socket's, with no sequence check: events answer no request. */
	struct nl_cb *cb = nl_cb_clone(sk_cb);
	int ret;

	nl_cb_put(sk_cb);
	if (!cb) {
		dtnl_set_error(nl, -ENOMEM, NULL);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dtnl_on_event, &evs);
	/* Messages read, until none is left (the socket does not block). */
	do {
		ret = nl_recvmsgs_report(nl->sk, cb);
	} while (ret > 0 && !evs.stopped);
	nl_cb_put(cb);
	if (evs.stopped)
		return 1;
	if (ret == 0 || ret == -NLE_AGAIN)
		return 0;
	/* libnl reports a receive queue that overflowed (ENOBUFS) so. */
	if (ret == -NLE_NOMEM) {
		dtnl_set_error(nl, -ENOBUFS, NULL);
		return -ENOBUFS;
	}
	return dtnl_lib_error(nl, ret);
}

/* --- the socket ---------------------------------------------------------- */

int dtnl_open(struct dtnl **out)
{
	struct dtnl *nl = calloc(1, sizeof(*nl));
	int one = 1, ret;

	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = -EPROTONOSUPPORT;
		goto fail;
	}
	/* The kernel's reason for a refusal, not only its errno. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, DIRTYTRACK_FAMILY_NAME);
	if (nl->family < 0) {
		ret = nl->family == -NLE_OBJ_NOTFOUND ? -ENOENT : -EIO;
		goto fail;
	}
	*out = nl;
	return 0;
fail:
	nl_socket_free(nl->sk);
	free(nl);
	return ret;
}

void dtnl_close(struct dtnl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

void dtnl_open_perror(int err)
{
	if (err == -ENOENT)
		fprintf(stderr, "dirtytrack: the kernel has no \"%s\" generic netlink family: is the dirtytrack module loaded?\n",
			DIRTYTRACK_FAMILY_NAME);
	else
		fprintf(stderr, "dirtytrack: cannot talk to the %s netlink family: %s\n",
			DIRTYTRACK_FAMILY_NAME, strerror(-err));
}

void dtnl_perror(const struct dtnl *nl, const char *what)
{
	fprintf(stderr, "dirtytrack: %s: %s%s%s\n", what,
		nl->why ? nl->why : strerror(-nl->err),
		nl->extack[0] ? ": " : "", nl->extack);
}
