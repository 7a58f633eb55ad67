// SPDX-License-Identifier: GPL-2.0
/*
 * The dirtytrack generic netlink family (Documentation/netlink/specs/
 * dirtytrack.yaml; nl_gen.c is generated from it): a read-only view of
 * every tracker the caller may see, and their events.
 *
 * Who sees a tracker: callers in the network namespace it was created in,
 * to whom its owner process is visible (PID namespace), running as its
 * owner (effective uid) or with CAP_NET_ADMIN over that network namespace.
 * Event listeners: the same, judged on the credentials the socket was
 * opened with (events carry no pid).  A tracker is named by its id, never
 * by a kernel pointer.
 *
 * Trackers are read under dt_trackers_lock, never under their own lock:
 * a monitor never waits on, or delays, a sync.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid_namespace.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "dirtytrack_private.h"
#include "nl_gen.h"

/* Whose request this is, taken once per request. */
struct dt_nl_caller {
	struct net *net;
	struct pid_namespace *pid_ns;
	struct user_namespace *user_ns;
	kuid_t euid;
	bool admin;
};

static void dt_nl_caller_init(struct dt_nl_caller *c, struct sk_buff *req)
{
	c->net = sock_net(req->sk);
	c->pid_ns = task_active_pid_ns(current);
	c->user_ns = current_user_ns();
	c->euid = current_euid();
	c->admin = netlink_ns_capable(req, c->net->user_ns, CAP_NET_ADMIN);
}

static bool dt_nl_visible(const struct dt_nl_caller *c,
			  const struct dt_tracker *t)
{
	return net_eq(t->net, c->net) && pid_nr_ns(t->owner, c->pid_ns) &&
	       (c->admin || uid_eq(t->owner_uid, c->euid));
}

/* The tracker with @id if the caller may see it. */
static struct dt_tracker *dt_nl_find(const struct dt_nl_caller *c, u32 id)
{
	struct dt_tracker *t;

	lockdep_assert_held(&dt_trackers_lock);
	t = xa_load(&dt_trackers, id);
	return t && dt_nl_visible(c, t) ? t : NULL;
}

static int dt_nl_put_source(struct sk_buff *skb, const struct dt_stats *st,
			    enum dirtytrack_source id)
{
	const struct dt_source_stats *s = &st->src[id];
	struct nlattr *nest;

	nest = nla_nest_start(skb, DIRTYTRACK_A_TRACKER_SOURCE);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(skb, DIRTYTRACK_A_SOURCE_KIND, id) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_PAGES, READ_ONCE(s->pages)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_HARVESTS,
			 READ_ONCE(s->harvests)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_LAST_NS,
			 READ_ONCE(s->last_ns)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_MAX_NS,
			 READ_ONCE(s->max_ns)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_INVALID,
			 READ_ONCE(s->invalid)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_SOURCE_ERRORS,
			 READ_ONCE(s->errors))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int dt_nl_put_tracker_attrs(struct sk_buff *skb,
				   const struct dt_nl_caller *c,
				   struct dt_tracker *t)
{
	const struct dt_stats *st = &t->stats;
	s64 kbm = READ_ONCE(t->kbm_shown);
	u32 nr_regions = 0, nr_rings, i;
	u64 pages = 0;

	/* Pairs with dt_ring_attach()'s release: see struct dt_tracker. */
	nr_rings = smp_load_acquire(&t->nr_rings);

	down_read(&t->map_lock);
	for (i = 0; i < t->regions.end; i++) {
		if (t->regions.v[i]) {
			nr_regions++;
			pages += t->regions.v[i]->slot.npages;
		}
	}
	up_read(&t->map_lock);

	if (nla_put_u32(skb, DIRTYTRACK_A_TRACKER_ID, t->id) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_PID,
			pid_nr_ns(t->owner, c->pid_ns)) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_UID,
			from_kuid_munged(c->user_ns, t->owner_uid)) ||
	    nla_put_s32(skb, DIRTYTRACK_A_TRACKER_VM_FD, t->vm_fd) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_STATE, READ_ONCE(t->state)) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_REGIONS, nr_regions) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_PAGES, pages) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_RINGS, nr_rings) ||
	    (kbm >= 0 && nla_put_u32(skb, DIRTYTRACK_A_TRACKER_KVM_BITMAP, kbm)) ||
	    nla_put_u32(skb, DIRTYTRACK_A_TRACKER_IOMMUS, READ_ONCE(t->iommu.nr)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_SYNCS, READ_ONCE(st->syncs)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_HARVESTED,
			 READ_ONCE(st->harvested)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_DIRTY_RATE,
			 dt_stats_rate(READ_ONCE(st->rate_pages),
				       READ_ONCE(st->rate_interval))) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_LAST_SYNC_NS,
			 READ_ONCE(st->last_sync_ns)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_MAX_SYNC_NS,
			 READ_ONCE(st->max_sync_ns)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_INVALID,
			 READ_ONCE(st->invalid)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_FOREIGN,
			 READ_ONCE(st->foreign)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_ERRORS,
			 READ_ONCE(st->errors)))
		return -EMSGSIZE;
	for (i = 0; i < DT_NR_SOURCES; i++)
		if (dt_nl_put_source(skb, st, i))
			return -EMSGSIZE;
	if (nla_put_uint(skb, DIRTYTRACK_A_TRACKER_RING_OVERFLOW,
			 READ_ONCE(st->ring_overflow)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_RING_RESETS,
			 READ_ONCE(st->ring_resets)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_RING_PARTIAL_RESETS,
			 READ_ONCE(st->ring_partial_resets)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_TRACKER_RING_STICKY,
			 READ_ONCE(st->ring_sticky)))
		return -EMSGSIZE;
	return 0;
}

static int dt_nl_fill_tracker(struct sk_buff *skb, const struct dt_nl_caller *c,
			      struct dt_tracker *t, u32 portid, u32 seq,
			      int flags)
{
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &dirtytrack_nl_family, flags,
			  DIRTYTRACK_CMD_TRACKER_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (dt_nl_put_tracker_attrs(skb, c, t)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

int dirtytrack_nl_tracker_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct dt_nl_caller c;
	struct dt_tracker *t;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, DIRTYTRACK_A_TRACKER_ID))
		return -EINVAL;
	dt_nl_caller_init(&c, skb);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;

	mutex_lock(&dt_trackers_lock);
	t = dt_nl_find(&c, nla_get_u32(info->attrs[DIRTYTRACK_A_TRACKER_ID]));
	if (!t) {
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[DIRTYTRACK_A_TRACKER_ID]);
		ret = -ENOENT;
	} else {
		ret = dt_nl_fill_tracker(msg, &c, t, info->snd_portid,
					 info->snd_seq, 0);
	}
	mutex_unlock(&dt_trackers_lock);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

/* Where a dump stopped: the tracker, and the row within it. */
struct dt_nl_dump_ctx {
	unsigned long id;
	u32 row;
	bool started;
};

static struct dt_nl_dump_ctx *dt_nl_dump_ctx(struct netlink_callback *cb)
{
	BUILD_BUG_ON(sizeof(struct dt_nl_dump_ctx) > sizeof(cb->ctx));
	return (struct dt_nl_dump_ctx *)cb->ctx;
}

/* A dump that filled part of a message goes on in the next one. */
static int dt_nl_dump_done(struct sk_buff *skb, int ret)
{
	return ret == -EMSGSIZE && skb->len ? skb->len : ret;
}

int dirtytrack_nl_tracker_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb)
{
	struct dt_nl_dump_ctx *ctx = dt_nl_dump_ctx(cb);
	struct dt_nl_caller c;
	struct dt_tracker *t;
	int ret = 0;

	dt_nl_caller_init(&c, cb->skb);
	mutex_lock(&dt_trackers_lock);
	xa_for_each_start(&dt_trackers, ctx->id, t, ctx->id) {
		if (!dt_nl_visible(&c, t))
			continue;
		ret = dt_nl_fill_tracker(skb, &c, t, NETLINK_CB(cb->skb).portid,
					 cb->nlh->nlmsg_seq, NLM_F_MULTI);
		if (ret)
			break;
	}
	mutex_unlock(&dt_trackers_lock);
	return dt_nl_dump_done(skb, ret);
}

/*
 * Put row @row of tracker @t in @skb: 0, -EMSGSIZE, or -ENOENT past its
 * last row.
 */
typedef int (*dt_nl_row_fn)(struct sk_buff *skb, struct dt_tracker *t,
			    u32 row);

static int dt_nl_put_region(struct sk_buff *skb, struct dt_tracker *t, u32 row)
{
	struct dt_region *r;
	int ret = 0;

	if (row >= DT_MAX_REGIONS)
		return -ENOENT;
	down_read(&t->map_lock);
	r = t->regions.v[row];
	if (r && (nla_put_u32(skb, DIRTYTRACK_A_REGION_TRACKER_ID, t->id) ||
		  nla_put_u32(skb, DIRTYTRACK_A_REGION_SLOT, r->slot.slot) ||
		  nla_put_uint(skb, DIRTYTRACK_A_REGION_FIRST_GFN,
			       READ_ONCE(r->first_gfn)) ||
		  nla_put_uint(skb, DIRTYTRACK_A_REGION_PAGES, r->slot.npages)))
		ret = -EMSGSIZE;
	else if (!r)
		ret = -ESRCH;		/* a free slot: no row */
	up_read(&t->map_lock);
	return ret;
}

static int dt_nl_put_vcpu(struct sk_buff *skb, struct dt_tracker *t, u32 row)
{
	struct dt_ring_source *rs;

	/* Pairs with dt_ring_attach()'s release: rings[row] is set. */
	if (row >= smp_load_acquire(&t->nr_rings))
		return -ENOENT;
	rs = t->rings[row];
	if (nla_put_u32(skb, DIRTYTRACK_A_VCPU_TRACKER_ID, t->id) ||
	    nla_put_u32(skb, DIRTYTRACK_A_VCPU_ID, rs->vcpu_id) ||
	    nla_put_uint(skb, DIRTYTRACK_A_VCPU_HARVESTED,
			 READ_ONCE(rs->harvested)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_VCPU_LAST, READ_ONCE(rs->ring.last)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_VCPU_DIRTY_RATE,
			 dt_stats_rate(READ_ONCE(rs->rate_entries),
				       READ_ONCE(t->stats.rate_interval))) ||
	    nla_put_u32(skb, DIRTYTRACK_A_VCPU_RING_SIZE, rs->ring.size) ||
	    nla_put_u32(skb, DIRTYTRACK_A_VCPU_RING_FILL, READ_ONCE(rs->fill)) ||
	    nla_put_u32(skb, DIRTYTRACK_A_VCPU_RING_FILL_MAX,
			READ_ONCE(rs->fill_max)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_VCPU_FILL_EVENTS,
			 READ_ONCE(rs->fill_events)) ||
	    nla_put_uint(skb, DIRTYTRACK_A_VCPU_RING_OVERFLOW,
			 READ_ONCE(rs->overflows)))
		return -EMSGSIZE;
	return 0;
}

/* One tracker's rows from ctx->row on; 0 when they are all in. */
static int dt_nl_dump_tracker_rows(struct sk_buff *skb,
				   struct netlink_callback *cb,
				   struct dt_tracker *t, u8 cmd, dt_nl_row_fn fn)
{
	struct dt_nl_dump_ctx *ctx = dt_nl_dump_ctx(cb);

	for (;; ctx->row++) {
		void *hdr;
		int ret;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &dirtytrack_nl_family,
				  NLM_F_MULTI, cmd);
		if (!hdr)
			return -EMSGSIZE;
		ret = fn(skb, t, ctx->row);
		if (ret) {
			genlmsg_cancel(skb, hdr);
			if (ret == -ESRCH)
				continue;
			if (ret == -ENOENT)
				return 0;
			return ret;
		}
		genlmsg_end(skb, hdr);
	}
}

/*
 * A dump of rows (regions, vCPUs): of the tracker named by @id_attr, which
 * must be visible, or of every visible tracker.
 */
static int dt_nl_dump_rows(struct sk_buff *skb, struct netlink_callback *cb,
			   unsigned int id_attr, u8 cmd, dt_nl_row_fn fn)
{
	const struct genl_info *info = genl_info_dump(cb);
	struct dt_nl_dump_ctx *ctx = dt_nl_dump_ctx(cb);
	struct nlattr *only = info->attrs[id_attr];
	unsigned long resume = ctx->id;
	struct dt_nl_caller c;
	struct dt_tracker *t;
	int ret = 0;

	dt_nl_caller_init(&c, cb->skb);
	mutex_lock(&dt_trackers_lock);
	if (only) {
		/* Gone after the first part of its dump: the dump ends. */
		t = dt_nl_find(&c, nla_get_u32(only));
		if (t) {
			ret = dt_nl_dump_tracker_rows(skb, cb, t, cmd, fn);
		} else if (!ctx->started) {
			NL_SET_BAD_ATTR(cb->extack, only);
			ret = -ENOENT;
		}
		ctx->started = true;
		goto out;
	}
	xa_for_each_start(&dt_trackers, ctx->id, t, ctx->id) {
		/*
		 * The row to go on from is the resumed tracker's: one
		 * destroyed since the last part leaves the next its rows.
		 */
		if (ctx->id != resume)
			ctx->row = 0;
		if (!dt_nl_visible(&c, t))
			continue;
		ret = dt_nl_dump_tracker_rows(skb, cb, t, cmd, fn);
		if (ret)
			break;
	}
out:
	mutex_unlock(&dt_trackers_lock);
	return dt_nl_dump_done(skb, ret);
}

int dirtytrack_nl_region_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	return dt_nl_dump_rows(skb, cb, DIRTYTRACK_A_REGION_TRACKER_ID,
			       DIRTYTRACK_CMD_REGION_GET, dt_nl_put_region);
}

int dirtytrack_nl_vcpu_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	return dt_nl_dump_rows(skb, cb, DIRTYTRACK_A_VCPU_TRACKER_ID,
			       DIRTYTRACK_CMD_VCPU_GET, dt_nl_put_vcpu);
}

/* ---- events ------------------------------------------------------------ */

/*
 * Deliver to @dsk only if its opener may see the tracker (0 delivers).
 * Called in atomic context; the capability check is the LSM's, which
 * audits with GFP_ATOMIC.
 */
static int dt_nl_event_filter(struct sock *dsk, struct sk_buff *skb,
			      void *data)
{
	const struct dt_tracker *t = data;
	const struct file *file = dsk->sk_socket ? dsk->sk_socket->file : NULL;

	if (!file)
		return 1;
	if (uid_eq(file->f_cred->euid, t->owner_uid))
		return 0;
	return !file_ns_capable(file, sock_net(dsk)->user_ns, CAP_NET_ADMIN);
}

/* An event about @t, or NULL if nobody listens or memory is short. */
static struct sk_buff *dt_nl_event_new(struct dt_tracker *t, u8 cmd,
				       void **hdr)
{
	struct sk_buff *skb;

	if (!genl_has_listeners(&dirtytrack_nl_family, t->net,
				DIRTYTRACK_NLGRP_EVENTS))
		return NULL;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &dirtytrack_nl_family, 0, cmd);
	if (!*hdr || nla_put_u32(skb, DIRTYTRACK_A_EVENT_TRACKER_ID, t->id)) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void dt_nl_event_send(struct dt_tracker *t, struct sk_buff *skb,
			     void *hdr, bool ok)
{
	if (!ok) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns_filtered(&dirtytrack_nl_family, t->net, skb,
					 0, DIRTYTRACK_NLGRP_EVENTS, GFP_KERNEL,
					 dt_nl_event_filter, t);
}

/* An event that names the tracker only. */
static void dt_nl_notify_id(struct dt_tracker *t, u8 cmd)
{
	void *hdr;
	struct sk_buff *skb = dt_nl_event_new(t, cmd, &hdr);

	if (skb)
		dt_nl_event_send(t, skb, hdr, true);
}

void dt_nl_notify_created(struct dt_tracker *t)
{
	dt_nl_notify_id(t, DIRTYTRACK_CMD_CREATED_NTF);
}

void dt_nl_notify_destroyed(struct dt_tracker *t)
{
	dt_nl_notify_id(t, DIRTYTRACK_CMD_DESTROYED_NTF);
}

void dt_nl_notify_ring_fill(struct dt_tracker *t, struct dt_ring_source *rs,
			    u32 fill, u32 threshold)
{
	void *hdr;
	struct sk_buff *skb = dt_nl_event_new(t, DIRTYTRACK_CMD_RING_FILL_NTF,
					      &hdr);

	if (skb)
		dt_nl_event_send(t, skb, hdr,
				 !nla_put_u32(skb, DIRTYTRACK_A_EVENT_VCPU,
					      rs->vcpu_id) &&
				 !nla_put_u32(skb, DIRTYTRACK_A_EVENT_RING_FILL,
					      fill) &&
				 !nla_put_u32(skb, DIRTYTRACK_A_EVENT_RING_SIZE,
					      rs->ring.size) &&
				 !nla_put_u32(skb, DIRTYTRACK_A_EVENT_THRESHOLD,
					      threshold));
}

void dt_nl_notify_source_error(struct dt_tracker *t,
			       enum dirtytrack_source src, int error,
			       u64 errors)
{
	void *hdr;
	struct sk_buff *skb =
		dt_nl_event_new(t, DIRTYTRACK_CMD_SOURCE_ERROR_NTF, &hdr);

	if (skb)
		dt_nl_event_send(t, skb, hdr,
				 !nla_put_u32(skb, DIRTYTRACK_A_EVENT_SOURCE,
					      src) &&
				 !nla_put_s32(skb, DIRTYTRACK_A_EVENT_ERROR,
					      error) &&
				 !nla_put_uint(skb, DIRTYTRACK_A_EVENT_ERRORS,
					       errors));
}

void dt_nl_notify_final_sync(struct dt_tracker *t, u64 pages, u64 ns)
{
	void *hdr;
	struct sk_buff *skb =
		dt_nl_event_new(t, DIRTYTRACK_CMD_FINAL_SYNC_NTF, &hdr);

	if (skb)
		dt_nl_event_send(t, skb, hdr,
				 !nla_put_uint(skb, DIRTYTRACK_A_EVENT_PAGES,
					       pages) &&
				 !nla_put_uint(skb,
					       DIRTYTRACK_A_EVENT_DURATION_NS,
					       ns));
}

int dt_nl_init(void)
{
	return genl_register_family(&dirtytrack_nl_family);
}

void dt_nl_exit(void)
{
	genl_unregister_family(&dirtytrack_nl_family);
}
