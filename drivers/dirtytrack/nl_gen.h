/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/dirtytrack.yaml */
/* YNL-GEN kernel header */

#ifndef _LINUX_DIRTYTRACK_GEN_H
#define _LINUX_DIRTYTRACK_GEN_H

#include <net/netlink.h>
#include <net/genetlink.h>

#include <uapi/linux/dirtytrack_netlink.h>

int dirtytrack_nl_tracker_get_doit(struct sk_buff *skb, struct genl_info *info);
int dirtytrack_nl_tracker_get_dumpit(struct sk_buff *skb,
				     struct netlink_callback *cb);
int dirtytrack_nl_region_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb);
int dirtytrack_nl_vcpu_get_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb);

enum {
	DIRTYTRACK_NLGRP_EVENTS,
};

extern struct genl_family dirtytrack_nl_family;

#endif /* _LINUX_DIRTYTRACK_GEN_H */
