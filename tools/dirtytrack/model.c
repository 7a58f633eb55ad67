// SPDX-License-Identifier: GPL-2.0
/*
 * The family's attribute sets (Documentation/netlink/specs/dirtytrack.yaml)
 * as tables: for each attribute, its type on the wire, the member it fills
 * and its JSON key (the spec's name, '-' written '_').  nl.c parses
 * through them and output.c writes JSON through them, so an attribute is
 * named in one place.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FIELD(s, key, a, t, fl, nm, member) \
	{ .json = key, .attr = a, .type = t, .flags = fl, .name = nm, \
	  .offset = offsetof(struct s, member) }
#define SET(f, max) { .fields = f, .nr_fields = ARRAY_SIZE(f), .maxattr = max }

#define T(key, a, t, fl, nm, member) \
	FIELD(dt_tracker, key, DIRTYTRACK_A_TRACKER_##a, t, fl, nm, member)
static const struct dt_field tracker_fields[] = {
	T("id", ID, DT_U32, 0, NULL, id),
	T("pid", PID, DT_U32, 0, NULL, pid),
	T("uid", UID, DT_U32, 0, NULL, uid),
	T("vm_fd", VM_FD, DT_S32, 0, NULL, vm_fd),
	T("state", STATE, DT_U32, 0, dt_state_name, state),
	T("regions", REGIONS, DT_U32, 0, NULL, regions),
	T("pages", PAGES, DT_UINT, 0, NULL, pages),
	T("rings", RINGS, DT_U32, 0, NULL, rings),
	T("kvm_bitmap", KVM_BITMAP, DT_U32, DT_F_OPTIONAL, NULL, kvm_bitmap),
	T("iommus", IOMMUS, DT_U32, 0, NULL, iommus),
	T("syncs", SYNCS, DT_UINT, 0, NULL, syncs),
	T("harvested", HARVESTED, DT_UINT, 0, NULL, harvested),
	T("dirty_rate", DIRTY_RATE, DT_UINT, 0, NULL, dirty_rate),
	T("last_sync_ns", LAST_SYNC_NS, DT_UINT, 0, NULL, last_sync_ns),
	T("max_sync_ns", MAX_SYNC_NS, DT_UINT, 0, NULL, max_sync_ns),
	T("invalid", INVALID, DT_UINT, 0, NULL, invalid),
	T("foreign", FOREIGN, DT_UINT, 0, NULL, foreign),
	T("errors", ERRORS, DT_UINT, 0, NULL, errors),
	T("ring_overflow", RING_OVERFLOW, DT_UINT, 0, NULL, ring_overflow),
	T("ring_resets", RING_RESETS, DT_UINT, 0, NULL, ring_resets),
	T("ring_partial_resets", RING_PARTIAL_RESETS, DT_UINT, 0, NULL,
	  ring_partial_resets),
	T("ring_sticky", RING_STICKY, DT_UINT, 0, NULL, ring_sticky),
};
const struct dt_set dt_tracker_set = SET(tracker_fields, DIRTYTRACK_A_TRACKER_MAX);

#define S(key, a, t, nm, member) \
	FIELD(dt_source, key, DIRTYTRACK_A_SOURCE_##a, t, 0, nm, member)
static const struct dt_field source_fields[] = {
	S("kind", KIND, DT_U32, dt_source_name, kind),
	S("pages", PAGES, DT_UINT, NULL, pages),
	S("harvests", HARVESTS, DT_UINT, NULL, harvests),
	S("last_ns", LAST_NS, DT_UINT, NULL, last_ns),
	S("max_ns", MAX_NS, DT_UINT, NULL, max_ns),
	S("invalid", INVALID, DT_UINT, NULL, invalid),
	S("errors", ERRORS, DT_UINT, NULL, errors),
};
const struct dt_set dt_source_set = SET(source_fields, DIRTYTRACK_A_SOURCE_MAX);

#define R(key, a, t, fl, member) \
	FIELD(dt_region, key, DIRTYTRACK_A_REGION_##a, t, fl, NULL, member)
static const struct dt_field region_fields[] = {
	R("tracker_id", TRACKER_ID, DT_U32, DT_F_PARENT, tracker_id),
	R("slot", SLOT, DT_U32, 0, slot),
	R("first_gfn", FIRST_GFN, DT_UINT, 0, first_gfn),
	R("pages", PAGES, DT_UINT, 0, pages),
};
const struct dt_set dt_region_set = SET(region_fields, DIRTYTRACK_A_REGION_MAX);

#define V(key, a, t, fl, member) \
	FIELD(dt_vcpu, key, DIRTYTRACK_A_VCPU_##a, t, fl, NULL, member)
static const struct dt_field vcpu_fields[] = {
	V("tracker_id", TRACKER_ID, DT_U32, DT_F_PARENT, tracker_id),
	V("id", ID, DT_U32, 0, id),
	V("harvested", HARVESTED, DT_UINT, 0, harvested),
	V("last", LAST, DT_UINT, 0, last),
	V("dirty_rate", DIRTY_RATE, DT_UINT, 0, dirty_rate),
	V("ring_size", RING_SIZE, DT_U32, 0, ring_size),
	V("ring_fill", RING_FILL, DT_U32, 0, ring_fill),
	V("ring_fill_max", RING_FILL_MAX, DT_U32, 0, ring_fill_max),
	V("fill_events", FILL_EVENTS, DT_UINT, 0, fill_events),
	V("ring_overflow", RING_OVERFLOW, DT_UINT, 0, ring_overflow),
};
const struct dt_set dt_vcpu_set = SET(vcpu_fields, DIRTYTRACK_A_VCPU_MAX);

/* An event carries the attributes its kind has: JSON shows only those. */
#define E(key, a, t, nm, member) \
	FIELD(dt_event, key, DIRTYTRACK_A_EVENT_##a, t, 0, nm, member)
static const struct dt_field event_fields[] = {
	E("tracker_id", TRACKER_ID, DT_U32, NULL, tracker_id),
	E("vcpu", VCPU, DT_U32, NULL, vcpu),
	E("ring_fill", RING_FILL, DT_U32, NULL, ring_fill),
	E("ring_size", RING_SIZE, DT_U32, NULL, ring_size),
	E("threshold", THRESHOLD, DT_U32, NULL, threshold),
	E("source", SOURCE, DT_U32, dt_source_name, source),
	E("error", ERROR, DT_S32, NULL, error),
	E("errors", ERRORS, DT_UINT, NULL, errors),
	E("pages", PAGES, DT_UINT, NULL, pages),
	E("duration_ns", DURATION_NS, DT_UINT, NULL, duration_ns),
};
const struct dt_set dt_event_set = SET(event_fields, DIRTYTRACK_A_EVENT_MAX);

static const char *const dt_states[] = {
	[DIRTYTRACK_STATE_IDLE] = "idle",
	[DIRTYTRACK_STATE_TRACKING] = "tracking",
	[DIRTYTRACK_STATE_FINAL] = "final",
	[DIRTYTRACK_STATE_SEALED] = "sealed",
};

static const char *const dt_sources[] = {
	[DIRTYTRACK_SOURCE_KVM_RING] = "kvm-ring",
	[DIRTYTRACK_SOURCE_KVM_BITMAP] = "kvm-bitmap",
	[DIRTYTRACK_SOURCE_VMM] = "vmm",
	[DIRTYTRACK_SOURCE_IOMMU] = "iommu",
};

/*
 * The spec's enum names; a value a newer module added is "unknown-N", in
 * @buf.
 */
#define DT_ENUM_NAME(names, v, buf) \
	((v) < ARRAY_SIZE(names) ? names[v] : \
	 (snprintf(buf, sizeof(buf), "unknown-%llu", (unsigned long long)(v)), buf))

const char *dt_state_name(uint64_t state)
{
	static char buf[32];

	return DT_ENUM_NAME(dt_states, state, buf);
}

const char *dt_source_name(uint64_t kind)
{
	static char buf[32];

	return DT_ENUM_NAME(dt_sources, kind, buf);
}

/* The notifications' names: the spec's, less "-ntf". */
const char *dt_event_name(uint8_t cmd)
{
	switch (cmd) {
	case DIRTYTRACK_CMD_CREATED_NTF:
		return "created";
	case DIRTYTRACK_CMD_DESTROYED_NTF:
		return "destroyed";
	case DIRTYTRACK_CMD_RING_FILL_NTF:
		return "ring-fill";
	case DIRTYTRACK_CMD_SOURCE_ERROR_NTF:
		return "source-error";
	case DIRTYTRACK_CMD_FINAL_SYNC_NTF:
		return "final-sync";
	}
	return NULL;
}

void *dt_vec_push(struct dt_vec *v)
{
	void *item;

	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 16;
		void *items = realloc(v->items, cap * v->size);

		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	item = (char *)v->items + v->n++ * v->size;
	memset(item, 0, v->size);
	return item;
}

void dt_vec_free(struct dt_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->n = v->cap = 0;
}

void dt_tracker_free(struct dt_tracker *t)
{
	dt_vec_free(&t->region_list);
	dt_vec_free(&t->vcpus);
}
