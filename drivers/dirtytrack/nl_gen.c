// SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause)
/* Do not edit directly, auto-generated from: */
/*	Documentation/netlink/specs/dirtytrack.yaml */
/* YNL-GEN kernel source */

#include <net/netlink.h>
#include <net/genetlink.h>

#include "nl_gen.h"

#include <uapi/linux/dirtytrack_netlink.h>

/* DIRTYTRACK_CMD_TRACKER_GET - do */
static const struct nla_policy dirtytrack_tracker_get_nl_policy[DIRTYTRACK_A_TRACKER_ID + 1] = {
	[DIRTYTRACK_A_TRACKER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* DIRTYTRACK_CMD_REGION_GET - dump */
static const struct nla_policy dirtytrack_region_get_nl_policy[DIRTYTRACK_A_REGION_TRACKER_ID + 1] = {
	[DIRTYTRACK_A_REGION_TRACKER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* DIRTYTRACK_CMD_VCPU_GET - dump */
static const struct nla_policy dirtytrack_vcpu_get_nl_policy[DIRTYTRACK_A_VCPU_TRACKER_ID + 1] = {
	[DIRTYTRACK_A_VCPU_TRACKER_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Ops table for dirtytrack */
static const struct genl_split_ops dirtytrack_nl_ops[] = {
	{
		.cmd		= DIRTYTRACK_CMD_TRACKER_GET,
		.doit		= dirtytrack_nl_tracker_get_doit,
		.policy		= dirtytrack_tracker_get_nl_policy,
		.maxattr	= DIRTYTRACK_A_TRACKER_ID,
		.flags		= GENL_CMD_CAP_DO,
	},
	{
		.cmd	= DIRTYTRACK_CMD_TRACKER_GET,
		.dumpit	= dirtytrack_nl_tracker_get_dumpit,
		.flags	= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= DIRTYTRACK_CMD_REGION_GET,
		.dumpit		= dirtytrack_nl_region_get_dumpit,
		.policy		= dirtytrack_region_get_nl_policy,
		.maxattr	= DIRTYTRACK_A_REGION_TRACKER_ID,
		.flags		= GENL_CMD_CAP_DUMP,
	},
	{
		.cmd		= DIRTYTRACK_CMD_VCPU_GET,
		.dumpit		= dirtytrack_nl_vcpu_get_dumpit,
		.policy		= dirtytrack_vcpu_get_nl_policy,
		.maxattr	= DIRTYTRACK_A_VCPU_TRACKER_ID,
		.flags		= GENL_CMD_CAP_DUMP,
	},
};

static const struct genl_multicast_group dirtytrack_nl_mcgrps[] = {
	[DIRTYTRACK_NLGRP_EVENTS] = { "events", },
};

struct genl_family dirtytrack_nl_family __ro_after_init = {
	.name		= DIRTYTRACK_FAMILY_NAME,
	.version	= DIRTYTRACK_FAMILY_VERSION,
	.netnsok	= true,
	.parallel_ops	= true,
	.module		= THIS_MODULE,
	.split_ops	= dirtytrack_nl_ops,
	.n_split_ops	= ARRAY_SIZE(dirtytrack_nl_ops),
	.mcgrps		= dirtytrack_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(dirtytrack_nl_mcgrps),
};
