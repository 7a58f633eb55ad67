// SPDX-License-Identifier: GPL-2.0
/*
 * Trackers, their regions and vCPUs, and events, for people (tables) and
 * for programs (JSON, keys from model.c's tables).
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli.h"

const char *dt_fmt_ns(char *buf, size_t size, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, size, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, size, "%.3f s", ns / 1e9);
	return buf;
}

/* A KVM memslot: "id", or "as:id" outside address space 0. */
static const char *dt_fmt_slot(char *buf, size_t size, uint64_t slot)
{
	if (slot >> 16)
		snprintf(buf, size, "%" PRIu64 ":%" PRIu64, slot >> 16, slot & 0xffff);
	else
		snprintf(buf, size, "%" PRIu64, slot);
	return buf;
}

/* --- JSON ---------------------------------------------------------------- */

/* Every attribute of @obj the set names, and that the kernel sent. */
static void dt_json_fields(struct dt_json *j, const struct dt_set *set, const void *obj)
{
	uint64_t present;
	size_t i;

	memcpy(&present, obj, sizeof(present));
	for (i = 0; i < set->nr_fields; i++) {
		const struct dt_field *f = &set->fields[i];
		const char *member = (const char *)obj + f->offset;
		uint64_t u;
		int64_t s;

		if (f->flags & DT_F_PARENT)
			continue;
		if (!(present >> f->attr & 1)) {
			if (f->flags & DT_F_OPTIONAL)
				dt_json_null(j, f->json);
			continue;
		}
		if (f->type == DT_S32) {
			memcpy(&s, member, sizeof(s));
			dt_json_s64(j, f->json, s);
			continue;
		}
		memcpy(&u, member, sizeof(u));
		if (f->name)
			dt_json_string(j, f->json, f->name(u));
		else
			dt_json_u64(j, f->json, u);
	}
}

/* An array @key of the vector's objects, each of the set's attributes. */
static void dt_json_rows(struct dt_json *j, const char *key, const struct dt_set *set,
			 const struct dt_vec *rows)
{
	size_t i;

	dt_json_array(j, key);
	for (i = 0; i < rows->n; i++) {
		dt_json_object(j, NULL);
		dt_json_fields(j, set, (const char *)rows->items + i * rows->size);
		dt_json_end(j);
	}
	dt_json_end(j);
}

void dt_json_tracker(struct dt_json *j, const struct dt_tracker *t, unsigned int show)
{
	const struct dt_vec sources = {
		.items = (void *)t->source, .n = t->nr_sources,
		.size = sizeof(t->source[0]),
	};

	dt_json_object(j, NULL);
	dt_json_fields(j, &dt_tracker_set, t);
	dt_json_rows(j, "sources", &dt_source_set, &sources);
	if (show & DT_SHOW_REGIONS)
		dt_json_rows(j, "region_list", &dt_region_set, &t->region_list);
	if (show & DT_SHOW_VCPUS)
		dt_json_rows(j, "vcpus", &dt_vcpu_set, &t->vcpus);
	dt_json_end(j);
}

/* --- tables -------------------------------------------------------------- */

void dt_print_list(FILE *f, const struct dt_vec *trackers)
{
	size_t i;

	fprintf(f, "%6s %8s %6s %5s %-9s %7s %10s %5s %7s %6s %8s %10s %6s\n",
		"ID", "PID", "UID", "VM-FD", "STATE", "REGIONS", "PAGES", "RINGS",
		"BITMAP", "IOMMUS", "SYNCS", "DIRTY/S", "ERRORS");
	for (i = 0; i < trackers->n; i++) {
		const struct dt_tracker *t = DT_VEC_AT(trackers, struct dt_tracker, i);
		char bitmap[16] = "-";

		if (DT_HAS(t, DIRTYTRACK_A_TRACKER_KVM_BITMAP))
			snprintf(bitmap, sizeof(bitmap), "%#" PRIx64, t->kvm_bitmap);
		fprintf(f, "%6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %5" PRId64
			" %-9s %7" PRIu64 " %10" PRIu64 " %5" PRIu64 " %7s %6" PRIu64
			" %8" PRIu64 " %10" PRIu64 " %6" PRIu64 "\n",
			t->id, t->pid, t->uid, t->vm_fd, dt_state_name(t->state),
			t->regions, t->pages, t->rings, bitmap, t->iommus, t->syncs,
			t->dirty_rate, t->errors);
	}
}

static void dt_print_sources(FILE *f, const struct dt_tracker *t)
{
	char last[24], max[24];
	int i;

	fprintf(f, "\n  %-10s %12s %9s %10s %10s %8s %7s\n", "SOURCE", "PAGES",
		"HARVESTS", "LAST", "MAX", "INVALID", "ERRORS");
	for (i = 0; i < t->nr_sources; i++) {
		const struct dt_source *s = &t->source[i];

		fprintf(f, "  %-10s %12" PRIu64 " %9" PRIu64 " %10s %10s %8" PRIu64
			" %7" PRIu64 "\n", dt_source_name(s->kind), s->pages,
			s->harvests, dt_fmt_ns(last, sizeof(last), s->last_ns),
			dt_fmt_ns(max, sizeof(max), s->max_ns), s->invalid, s->errors);
	}
}

static void dt_print_regions(FILE *f, const struct dt_vec *regions)
{
	char slot[24];
	size_t i;

	fprintf(f, "\n  %-8s %18s %12s\n", "SLOT", "FIRST-GFN", "PAGES");
	for (i = 0; i < regions->n; i++) {
		const struct dt_region *r = DT_VEC_AT(regions, struct dt_region, i);

		fprintf(f, "  %-8s %#18" PRIx64 " %12" PRIu64 "\n",
			dt_fmt_slot(slot, sizeof(slot), r->slot), r->first_gfn,
			r->pages);
	}
}

static void dt_print_vcpus(FILE *f, const struct dt_vec *vcpus)
{
	char fill[32];
	size_t i;

	fprintf(f, "\n  %-6s %12s %9s %10s %13s %9s %11s %9s\n", "VCPU",
		"HARVESTED", "LAST", "DIRTY/S", "FILL/SIZE", "FILL-MAX",
		"FILL-EVENTS", "OVERFLOW");
	for (i = 0; i < vcpus->n; i++) {
		const struct dt_vcpu *v = DT_VEC_AT(vcpus, struct dt_vcpu, i);

		snprintf(fill, sizeof(fill), "%" PRIu64 "/%" PRIu64, v->ring_fill,
			 v->ring_size);
		fprintf(f, "  %-6" PRIu64 " %12" PRIu64 " %9" PRIu64 " %10" PRIu64
			" %13s %9" PRIu64 " %11" PRIu64 " %9" PRIu64 "\n", v->id,
			v->harvested, v->last, v->dirty_rate, fill, v->ring_fill_max,
			v->fill_events, v->ring_overflow);
	}
}

void dt_print_stat(FILE *f, const struct dt_tracker *t)
{
	char last[24], max[24], bitmap[24] = "none";

	if (DT_HAS(t, DIRTYTRACK_A_TRACKER_KVM_BITMAP))
		snprintf(bitmap, sizeof(bitmap), "flags %#" PRIx64, t->kvm_bitmap);
	fprintf(f, "tracker %" PRIu64 ": %s, pid %" PRIu64 ", uid %" PRIu64
		", vm-fd %" PRId64 "\n", t->id, dt_state_name(t->state), t->pid,
		t->uid, t->vm_fd);
	fprintf(f, "  regions %" PRIu64 " (%" PRIu64 " pages), rings %" PRIu64
		", kvm-bitmap %s, iommus %" PRIu64 "\n", t->regions, t->pages,
		t->rings, bitmap, t->iommus);
	fprintf(f, "  syncs %" PRIu64 ", harvested %" PRIu64 " pages, dirty rate %"
		PRIu64 " pages/s\n", t->syncs, t->harvested, t->dirty_rate);
	fprintf(f, "  sync harvest: last %s, max %s\n",
		dt_fmt_ns(last, sizeof(last), t->last_sync_ns),
		dt_fmt_ns(max, sizeof(max), t->max_sync_ns));
	fprintf(f, "  invalid %" PRIu64 ", foreign %" PRIu64 ", errors %" PRIu64 "\n",
		t->invalid, t->foreign, t->errors);
	fprintf(f, "  ring resets %" PRIu64 " (%" PRIu64 " ended early), "
		"overflows %" PRIu64 ", sticky pages %" PRIu64 "\n",
		t->ring_resets, t->ring_partial_resets, t->ring_overflow,
		t->ring_sticky);
	dt_print_sources(f, t);
	dt_print_regions(f, &t->region_list);
	dt_print_vcpus(f, &t->vcpus);
}

void dt_print_top(FILE *f, const struct dt_vec *trackers, unsigned int show)
{
	char last[24], fill[32];
	size_t i, k;

	fprintf(f, "%6s %8s %6s %-9s %10s %12s %8s %10s %5s %6s\n", "ID", "PID",
		"UID", "STATE", "DIRTY/S", "HARVESTED", "SYNCS", "LAST-SYNC",
		"RINGS", "ERRORS");
	for (i = 0; i < trackers->n; i++) {
		const struct dt_tracker *t = DT_VEC_AT(trackers, struct dt_tracker, i);

		fprintf(f, "%6" PRIu64 " %8" PRIu64 " %6" PRIu64 " %-9s %10" PRIu64
			" %12" PRIu64 " %8" PRIu64 " %10s %5" PRIu64 " %6" PRIu64 "\n",
			t->id, t->pid, t->uid, dt_state_name(t->state), t->dirty_rate,
			t->harvested, t->syncs,
			dt_fmt_ns(last, sizeof(last), t->last_sync_ns), t->rings,
			t->errors);
		for (k = 0; (show & DT_SHOW_VCPUS) && k < t->vcpus.n; k++) {
			const struct dt_vcpu *v = DT_VEC_AT(&t->vcpus, struct dt_vcpu, k);

			snprintf(fill, sizeof(fill), "%" PRIu64 "/%" PRIu64,
				 v->ring_fill, v->ring_size);
			fprintf(f, "%15s %-6" PRIu64 " %-9s %10" PRIu64 " %12" PRIu64
				"   last %-8" PRIu64 " fill %s\n", "vcpu", v->id, "",
				v->dirty_rate, v->harvested, v->last, fill);
		}
	}
}

/* --- events -------------------------------------------------------------- */

static void dt_print_event_text(FILE *f, const struct dt_event *ev)
{
	time_t sec = ev->time_ns / 1000000000;
	char when[16], dur[24];
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	fprintf(f, "%s.%03u %s tracker %" PRIu64, when,
		(unsigned int)(ev->time_ns / 1000000 % 1000), dt_event_name(ev->cmd),
		ev->tracker_id);
	switch (ev->cmd) {
	case DIRTYTRACK_CMD_RING_FILL_NTF:
		fprintf(f, " vcpu %" PRIu64 ": %" PRIu64 " of %" PRIu64
			" entries (threshold %" PRIu64 "%%)", ev->vcpu, ev->ring_fill,
			ev->ring_size, ev->threshold);
		break;
	case DIRTYTRACK_CMD_SOURCE_ERROR_NTF:
		fprintf(f, " %s: %s, %" PRIu64 " errors", dt_source_name(ev->source),
			ev->error ? strerror((int)-ev->error) : "recovered (pages marked dirty)",
			ev->errors);
		break;
	case DIRTYTRACK_CMD_FINAL_SYNC_NTF:
		fprintf(f, ": %" PRIu64 " pages in %s", ev->pages,
			dt_fmt_ns(dur, sizeof(dur), ev->duration_ns));
		break;
	}
	fputc('\n', f);
}

void dt_print_event(FILE *f, const struct dt_event *ev, bool json)
{
	struct dt_json j;

	if (!json) {
		dt_print_event_text(f, ev);
		return;
	}
	dt_json_init(&j, f);
	dt_json_object(&j, NULL);
	dt_json_u64(&j, "time_ns", ev->time_ns);
	dt_json_string(&j, "event", dt_event_name(ev->cmd));
	dt_json_fields(&j, &dt_event_set, ev);
	dt_json_end(&j);
	fputc('\n', f);
}
