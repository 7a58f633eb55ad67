/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The dirtytrack core: the merged dirty set with its summary level, the
 * memslot lookup, and the KVM dirty-ring walk.  Plain C shared by the module
 * and libdirtytrack's user backend (one core, two homes), so the rules it
 * enforces are the same whichever side collects.
 */
#ifndef DT_CORE_H
#define DT_CORE_H

#include "dt_compat.h"

/* ---- the merged set ---------------------------------------------------- */

#define DT_WORD_BITS		64
/* One summary bit covers this many bitmap words (4096 pages). */
#define DT_SUMMARY_SPAN		64
#define DT_CHUNK_PAGES		(DT_WORD_BITS * DT_SUMMARY_SPAN)

static inline u64 dt_bitmap_words(u64 npages)
{
	return (npages + DT_WORD_BITS - 1) / DT_WORD_BITS;
}

static inline u64 dt_summary_bits(u64 npages)
{
	return (dt_bitmap_words(npages) + DT_SUMMARY_SPAN - 1) / DT_SUMMARY_SPAN;
}

static inline u64 dt_summary_words(u64 npages)
{
	return (dt_summary_bits(npages) + DT_WORD_BITS - 1) / DT_WORD_BITS;
}

/**
 * struct dt_bitmap - one region's dirty pages
 * @words: bit p is page p of the region
 * @summary: bit c is set whenever a word in [c * 64, c * 64 + 64) may be
 *           non-zero
 * @npages: pages in the region
 *
 * The claim protocol (sources and a consumer running concurrently, possibly
 * a VMM through mmap):
 *  - a source sets a page's word bit, then (ordered after it) its summary
 *    bit, both with atomic OR;
 *  - a consumer clears a summary bit with a fully ordered RMW first, then
 *    takes each word of its chunk with an atomic exchange (or fetch-andnot
 *    for part of a word), and sets the summary bit again if it leaves bits
 *    behind.
 * So every set word bit has its summary bit set, or about to be set by the
 * source that set it, and a bit set concurrently with a claim is either
 * claimed or left for the next one: never lost.
 */
struct dt_bitmap {
	u64 *words;
	u64 *summary;
	u64 npages;
};

void dt_bitmap_set(struct dt_bitmap *b, u64 page);
void dt_bitmap_set_range(struct dt_bitmap *b, u64 first, u64 npages);
u64 dt_bitmap_or_words(struct dt_bitmap *b, u64 first_word, const u64 *src,
		       u64 nwords);
u64 dt_bitmap_claim(struct dt_bitmap *b, u64 first, u64 npages, u64 *out);
u64 dt_bitmap_move(struct dt_bitmap *dst, struct dt_bitmap *src);
u64 dt_bitmap_weight(const struct dt_bitmap *b);

/* One word of a pending set OR-ed with @bits, then its summary bit. */
static inline void dt_pending_word_or(struct dt_bitmap *b, u64 w, u64 bits)
{
	u64 c = w / DT_SUMMARY_SPAN, bit = (u64)1 << (c % DT_WORD_BITS);
	u64 *s = &b->summary[c / DT_WORD_BITS];

	dt_word_or(&b->words[w], bits);
	if (!(dt_read_once(*s) & bit))
		dt_word_or(s, bit);
}

/**
 * dt_bitmap_or_pending() - set up to 64 pages of a set no consumer reads yet
 * @b: a region's pending set
 * @page: the page of bit 0 of @bits
 * @bits: bit i sets page @page + i; pages past the set's end are ignored
 *
 * The pending set's only reader is dt_bitmap_move(), which runs after its
 * writers (the harvest's sources) are done and ordered after them by their
 * join.  Sources running at once still need atomic ORs (their bits must not
 * overwrite each other's), but not the barrier between the word and its
 * summary bit that a concurrent claim needs.  Inline: the vmm log's
 * harvest calls it once per word.
 *
 * Return: the bits of @bits set (those in the set).
 */
static inline u64 dt_bitmap_or_pending(struct dt_bitmap *b, u64 page,
				       u64 bits)
{
	u64 w = page / DT_WORD_BITS, s = page % DT_WORD_BITS;

	if (page >= b->npages)
		return 0;
	if (b->npages - page < DT_WORD_BITS)
		bits &= ((u64)1 << (b->npages - page)) - 1;
	if (!bits)
		return 0;
	dt_pending_word_or(b, w, bits << s);
	if (s && bits >> (DT_WORD_BITS - s))
		dt_pending_word_or(b, w + 1, bits >> (DT_WORD_BITS - s));
	return bits;
}

/*
 * dt_bitmap_or_pending() of one page, as lean as the ring walk needs: it
 * calls it once per entry.
 */
static inline void dt_bitmap_set_pending(struct dt_bitmap *b, u64 page)
{
	if (page < b->npages)
		dt_pending_word_or(b, page / DT_WORD_BITS,
				   (u64)1 << (page % DT_WORD_BITS));
}

/* ---- the vmm log ---------------------------------------------------------- */

/**
 * struct dt_log_regions - a home's regions, as the vmm log's harvest sees them
 * @find: the pending set of the region of address space 0 holding frame
 *        @gfn, with the frame of its bit 0 in @base; or NULL
 * @ctx: the home's, passed to @find
 * @shift: log bits per frame, log2: 0 where host pages are the log's 4 KiB
 */
struct dt_log_regions {
	struct dt_bitmap *(*find)(void *ctx, u64 gfn, u64 *base);
	void *ctx;
	unsigned int shift;
};

/* What a harvest of the log found: pages set, bits in no region. */
struct dt_log_counts {
	u64 pages;
	u64 outside;
};

void dt_log_take_word(const struct dt_log_regions *lr, u64 first_bit, u64 v,
		      struct dt_log_counts *c);

/* ---- memslots ------------------------------------------------------------ */

/* KVM's ring slot encoding: (address space << 16) | slot id. */
#define DT_SLOT(as_id, id)	(((u32)(as_id) << 16) | (u16)(id))

/**
 * struct dt_slot - one region as the ring walk sees it
 * @slot: DT_SLOT(as_id, id) of the KVM memslot the region mirrors
 * @npages: its size in host pages
 * @dirty: where its dirty bits go: the region's pending set, written with
 *         dt_bitmap_set_pending()
 */
struct dt_slot {
	u32 slot;
	u64 npages;
	struct dt_bitmap *dirty;
};

/**
 * struct dt_slot_table - the regions, sorted by @slot
 * @v: the regions
 * @n: how many
 * @hint: index of the last hit (ring entries come in runs of one slot)
 */
struct dt_slot_table {
	struct dt_slot *v;
	u32 n;
	u32 hint;
};

struct dt_slot *dt_slot_lookup(struct dt_slot_table *t, u32 slot);

/* ---- regions --------------------------------------------------------------- */

/* Regions a tracker holds at most, in both homes. */
#define DT_MAX_REGIONS		512

/**
 * struct dt_region - a memslot the tracker mirrors, as the policy sees it
 * @slot: the memslot (DT_SLOT()) and its size; @slot.dirty is @pending
 * @first_gfn: the region's first guest frame now
 * @merged: published bits, the consumer's (the claim protocol, bitmap.c)
 * @pending: harvested bits whose reset has not completed yet
 * @moved_from_gfn: @first_gfn before the last move, while @moved
 * @moved: moved since the vmm log was last taken: the log may still name
 *         the region's pages by their old frames
 *
 * Each home embeds it in its own region (the module's mapping, the
 * library's) and allocates @merged and @pending.
 */
struct dt_region {
	struct dt_slot slot;
	u64 first_gfn;
	struct dt_bitmap merged;
	struct dt_bitmap pending;
	u64 moved_from_gfn;
	bool moved;
};

/**
 * struct dt_regions - a tracker's regions, in no order
 * @v: the regions; NULL where none is
 * @end: one past the last used entry of @v, where loops over it stop
 */
struct dt_regions {
	struct dt_region *v[DT_MAX_REGIONS];
	u32 end;
};

/**
 * struct dt_gfn_hint - the last region a run of guest frames resolved to
 * @r: that region, or NULL
 * @base: the frame of its bit 0 where it was found (its old place if moved)
 */
struct dt_gfn_hint {
	struct dt_region *r;
	u64 base;
};

struct dt_region *dt_regions_find(const struct dt_regions *rs, u32 slot);
int dt_regions_check_new(const struct dt_regions *rs, u32 slot, u64 first_gfn,
			 u64 npages);
bool dt_regions_overlap(const struct dt_regions *rs,
			const struct dt_region *skip, u16 as_id, u64 first,
			u64 end);
void dt_regions_link(struct dt_regions *rs, int i, struct dt_region *r);
void dt_regions_unlink(struct dt_regions *rs, const struct dt_region *r);
void dt_regions_table(const struct dt_regions *rs, struct dt_slot *v,
		      struct dt_slot_table *table);
void dt_region_moved(struct dt_region *r, u64 new_first_gfn);
struct dt_region *dt_regions_find_gfn(const struct dt_regions *rs, u64 gfn,
				      u64 *base);
bool dt_regions_cover(const struct dt_regions *rs, u64 first, u64 end);
struct dt_region *dt_regions_hint_find(const struct dt_regions *rs, u64 gfn,
				       struct dt_gfn_hint *hint);
bool dt_regions_mark_gfn(const struct dt_regions *rs, u64 gfn,
			 struct dt_gfn_hint *hint);
void dt_regions_mark_gfns(const struct dt_regions *rs, u64 gfn, u64 end_gfn);
void dt_regions_forget_moves(struct dt_regions *rs);
void dt_regions_mark_all(const struct dt_regions *rs, bool publish);
void dt_regions_publish(const struct dt_regions *rs);

/**
 * struct dt_gfn_cursor - the regions, resolving a run of frames
 * @rs: the regions
 * @hint: the last answer
 */
struct dt_gfn_cursor {
	const struct dt_regions *rs;
	struct dt_gfn_hint hint;
};

struct dt_bitmap *dt_regions_log_find(void *ctx, u64 gfn, u64 *base);

/* ---- the KVM dirty ring ---------------------------------------------- */

/*
 * Entries past the fetch index a sync reads for a foreign collector's gap
 * (ring.c): the rest of the 64-byte line the walk stopped in, at most.
 */
#define DT_RING_GAP_WINDOW	4

/**
 * struct dt_ring - a collector's view of one vCPU's dirty ring
 * @gfns: the ring, shared with KVM (and with userspace, so untrusted)
 * @size: entries, a power of two
 * @fetch: free-running index of the next entry to harvest
 * @unreset: entries from @fetch backwards that were marked RESET and not
 *           yet reset by KVM_RESET_DIRTY_RINGS; the walk never laps them
 * @consumed: entries the last KVM_RESET_DIRTY_RINGS took from this ring
 * @freed: entries KVM_RESET_DIRTY_RINGS took from it, ever
 * @freed_mark: @freed at the last dt_ring_stuck() of this ring
 * @alone_took: entries the last harvest for a RING_FULL exit took
 * @overflow: the ring was seen full, and the zeroed entries KVM may still
 *            count after it were not all found yet (see ring.c)
 * @overflowed: the ring was seen full at least once
 * @synced: @fetch is where KVM's next entry goes.  False for a ring just
 *          attached (KVM may be anywhere in it) and after a foreign
 *          collector was found; dt_ring_harvest() resyncs first.
 * @last: entries the last harvest took (dt_rings_collect())
 * @last_overflow: the last harvest found the ring full
 *
 * Written by the harvest, under its caller's lock; the fill scan reads
 * @size, @fetch, @unreset and @synced without it (dt_read_once()).
 */
struct dt_ring {
	struct kvm_dirty_gfn *gfns;
	u32 size;
	u32 fetch;
	u32 unreset;
	u32 consumed;
	u64 freed;
	u64 freed_mark;
	u32 alone_took;
	bool overflow;
	bool overflowed;
	bool synced;
	u32 last;
	bool last_overflow;
};

/**
 * struct dt_ring_stats - what a harvest found (accumulated)
 * @harvested: valid entries taken and handed back to KVM
 * @invalid: entries whose slot or offset matched no region: counted, handed
 *           back to KVM (which validates them again), never followed
 * @foreign: entries someone else harvested or reset: RESET already set
 *           where we expected DIRTY, skipped by a gap before a dirty
 *           entry, or a reset count our marks cannot explain.  Their pages
 *           are lost to us; the caller must treat every region as dirty.
 * @overflow: rings found full (KVM pushed past their end, overwriting
 *            entries nobody harvested): the caller must treat every region
 *            as dirty
 * @recovered: zeroed entries marked for KVM's reset after an overflow, so
 *             that its reset index moves again (no page of ours)
 * @resets: KVM_RESET_DIRTY_RINGS calls
 * @partial_resets: calls that stopped before every marked entry was reset
 *                  (a signal, from Linux 6.17); they were issued again
 * @sticky: pages that became always dirty (see dt_sticky)
 */
struct dt_ring_stats {
	u32 harvested;
	u32 invalid;
	u32 foreign;
	u32 overflow;
	u32 recovered;
	u32 resets;
	u32 partial_resets;
	u32 sticky;
};

void dt_ring_harvest(struct dt_ring *r, struct dt_slot_table *t,
		     struct dt_ring_stats *st);
bool dt_ring_check_gap(struct dt_ring *r, u32 window, struct dt_ring_stats *st);
u32 dt_ring_collect(struct dt_ring *r, struct dt_slot_table *t, bool alone,
		    struct dt_ring_stats *st);
u32 dt_ring_fill(const struct dt_ring *r);
bool dt_ring_wanted(const struct dt_ring *r, bool vcpu_harvest,
		    const struct dt_ring *want, u32 min_fill);
bool dt_ring_stuck(struct dt_ring *r, u32 took);
bool dt_ring_resync(struct dt_ring *r);

/*
 * Pages whose dirty logging KVM may have left off (see ring.c, "A reset
 * that stops early"): reported dirty by every harvest from then on, until
 * their region goes.  Past DT_STICKY_MAX of them, every page is.
 */
#define DT_STICKY_MAX	256

/**
 * struct dt_sticky - the pages every harvest reports dirty
 * @n: entries in @slot and @offset
 * @all: more than DT_STICKY_MAX, or one that could not be read: every
 *       page of every region is dirty at every harvest
 * @slot: their memslots (DT_SLOT())
 * @offset: their page within it
 */
struct dt_sticky {
	u32 n;
	bool all;
	u32 slot[DT_STICKY_MAX];
	u64 offset[DT_STICKY_MAX];
};

void dt_sticky_mark(const struct dt_sticky *s, struct dt_slot_table *t);
void dt_sticky_forget_slot(struct dt_sticky *s, u32 slot);

/**
 * struct dt_rings_ops - the home's rings, for the walk and the reset
 * @nr: how many rings
 * @ring: the @i-th
 * @reset: issue KVM_RESET_DIRTY_RINGS on the VM (the walk needs none);
 *         return the count KVM answered or -errno, and set *@bailed if
 *         KVM may have stopped early on a signal although the count does
 *         not show it (the module can tell; the library cannot).  A home
 *         that must let a signal be delivered first returns an error
 *         without calling KVM.
 * @ctx: the home's, passed to @ring and @reset
 * @table: the regions, for entries KVM pushed over our marks (an overflow
 *         in progress), which are taken again
 */
struct dt_rings_ops {
	u32 nr;
	struct dt_ring *(*ring)(void *ctx, u32 i);
	int (*reset)(void *ctx, bool *bailed);
	void *ctx;
	struct dt_slot_table *table;
};

void dt_rings_collect(const struct dt_rings_ops *ops, bool vcpu_harvest,
		      const struct dt_ring *want, u32 min_fill,
		      struct dt_ring_stats *st);
int dt_rings_reset(const struct dt_rings_ops *ops, u32 max_calls,
		   struct dt_sticky *sticky, struct dt_ring_stats *st);
int dt_rings_reset_and_mark(const struct dt_rings_ops *ops, u32 max_calls,
			    struct dt_sticky *sticky,
			    const struct dt_regions *rs, bool lost,
			    struct dt_ring_stats *st);

/*
 * Can KVM_RESET_DIRTY_RINGS of Linux @major.@minor stop early on a signal
 * (ring.c, "A reset that stops early")?  From 6.17 it checks
 * signal_pending() before every entry; before, it never looks.  Nothing in
 * the uAPI tells them apart, so the version does.
 */
static inline bool dt_kvm_reset_may_stop(unsigned int major,
					 unsigned int minor)
{
	return major > 6 || (major == 6 && minor >= 17);
}

/* ---- the tracker's states ------------------------------------------------ */

/**
 * enum dt_state - where a tracker is in a migration
 * @DT_IDLE: not tracking (before DIRTYTRACK_START, after STOP)
 * @DT_TRACKING: precopy: syncs harvest every source but the backup bitmap
 * @DT_FINAL: between SYNC_FINAL_BEGIN and SYNC_FINAL_END: the rings are
 *            reaped, the VMM saves device state
 * @DT_SEALED: after SYNC_FINAL_END: nothing may be harvested until START
 */
enum dt_state {
	DT_IDLE,
	DT_TRACKING,
	DT_FINAL,
	DT_SEALED,
};

/**
 * enum dt_sync_phase - what a sync is
 * @DT_PHASE_PRECOPY: a precopy round
 * @DT_PHASE_FINAL_BEGIN: the first half of the final sync
 * @DT_PHASE_FINAL_END: the second half, which seals the tracker
 */
enum dt_sync_phase {
	DT_PHASE_PRECOPY,
	DT_PHASE_FINAL_BEGIN,
	DT_PHASE_FINAL_END,
};

int dt_state_may_harvest(enum dt_state s);
int dt_state_sync(enum dt_state s, enum dt_sync_phase p);
enum dt_state dt_state_synced(enum dt_state s, enum dt_sync_phase p);
int dt_state_start(enum dt_state s);
int dt_state_stop(enum dt_state s);

/* ---- harvests ------------------------------------------------------------ */

/**
 * enum dt_harvest_kind - which harvest, and so which sources take part
 * @DT_HARVEST_SYNC: a precopy sync: every source but the backup bitmap
 * @DT_HARVEST_VCPU: one vCPU's ring only (KVM_EXIT_DIRTY_RING_FULL)
 * @DT_HARVEST_ALL: every source, the backup bitmap last (FINAL_END, STOP)
 * @DT_HARVEST_REMOVE: before a region goes: every source, and the
 *                     region's KVM bitmap (backup or plain) only
 */
enum dt_harvest_kind {
	DT_HARVEST_SYNC,
	DT_HARVEST_VCPU,
	DT_HARVEST_ALL,
	DT_HARVEST_REMOVE,
};

/* ---- the kvm-bitmap source (kvm_bitmap.c) --------------------------------- */

struct dt_io;

/**
 * struct dt_kvm_bitmap_src - KVM's per-memslot bitmaps, read by a tracker
 * @io: the VM's file and the memory KVM writes bitmaps into (the home's)
 * @flags: the VM's dirty-log configuration, enum dirtytrack_kvm_bitmap_flags
 * @guard_words: words after a region's that show a longer memslot; with
 *               one more, at most @io's chunk
 * @guarded: an inaccessible page follows the memory (see kvm_bitmap.c)
 */
struct dt_kvm_bitmap_src {
	struct dt_io *io;
	u32 flags;
	u32 guard_words;
	bool guarded;
};

/**
 * struct dt_kvm_bitmap_read - what the kvm-bitmap source found
 * @pages: pages it published
 * @errors: failed reads (their regions marked dirty), failed clears, and
 *          bits past a region's end
 */
struct dt_kvm_bitmap_read {
	u64 pages;
	u32 errors;
};

void dt_kvm_bitmap_src_harvest(struct dt_kvm_bitmap_src *kbm,
			       const struct dt_regions *rs,
			       enum dt_harvest_kind kind,
			       struct dt_region *region,
			       struct dt_kvm_bitmap_read *rd);
int dt_kvm_bitmap_src_holds(const struct dt_kvm_bitmap_src *kbm, u64 npages);
int dt_kvm_bitmap_src_attach(struct dt_kvm_bitmap_src *kbm,
			     const struct dt_regions *rs, bool rings);

/* ---- argument checks (validate.c) ----------------------------------------- */

/* Guest physical addresses end below 2^52 in every KVM architecture. */
#define DT_MAX_GPA_BITS		52

int dt_check_gfn_range(u64 first, u64 npages, unsigned int page_shift);
int dt_check_gpa_range(u64 gpa, u64 len);
int dt_check_iommu_range(u64 iova, u64 length, unsigned int page_shift);
int dt_check_kvm_bitmap_flags(u32 flags, bool rings);
int dt_kvm_bitmap_probe_log(int ret, bool ring);
int dt_kvm_bitmap_probe_reset(int ret, bool ring);

#endif /* DT_CORE_H */
