// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The KVM dirty-ring walk (Documentation/virt/kvm/api.rst, "dirty ring"):
 *
 *   KVM (vCPU thread)              collector
 *   slot, offset = ...             flags = load_acquire(&e->flags)
 *   smp_wmb()                      if flags != DIRTY: stop
 *   flags = DIRTY                  slot, offset = e->slot, e->offset
 *                                  store_release(&e->flags, RESET)
 *                                  ... KVM_RESET_DIRTY_RINGS
 *
 * Entries are taken strictly in order from where the last walk stopped,
 * none is skipped, and each is validated against the regions before it is
 * followed: the ring is mapped into the VMM, which can write anything.
 *
 * KVM keeps two indices per ring: its dirty index (the next push) and its
 * reset index (the next entry KVM_RESET_DIRTY_RINGS takes back, if it is
 * RESET).  In step with KVM, our fetch index minus our marked entries
 * (@unreset) is KVM's reset index, and the entries from there to KVM's
 * dirty index are ours (RESET) then DIRTY.  Three things break that step,
 * and each is handled here:
 *
 * A reset that stops early.  From Linux 6.17, KVM_RESET_DIRTY_RINGS
 * returns early when the calling thread has a signal pending, answering
 * the count it reset so far; the entries it did not reach stay RESET, and
 * the next call takes them.  dt_rings_reset() finds from the rings which
 * of our marks are left (a contiguous tail of what we marked, in each
 * ring) and issues the reset again until none is; a count that our marks
 * do not explain is the only evidence of a foreign collector.  KVM also
 * batches the entries it takes (up to 64 pages of one memslot) and
 * re-enables dirty logging for a batch only when the next entry cannot
 * join it: in 6.17 to 7.3 the batch it holds when it stops on the signal
 * is dropped, so those pages are never logged again while their mapping
 * lives.  No count shows it when the stop falls after a ring's last
 * entry.  The homes block every signal they can around the call (the
 * library only where the kernel is 6.17 or later: it costs two system
 * calls), so only SIGKILL, SIGSTOP and task work (io_uring's TWA_SIGNAL)
 * can stop it; when the home can tell (the module) or the count shows
 * it, the pages that batch may hold become sticky: reported dirty by
 * every harvest from then on (struct dt_sticky).
 *
 * An overflow.  Upstream KVM exits to the VMM when a ring reaches its soft
 * limit and never pushes past its size, but some hosts' KVMs do (this
 * project's paravirtual one pushes 200 to 400 entries past it): a push
 * into a full ring overwrites the oldest entry, whose page nobody
 * harvested, and once our walk has taken and reset the whole ring, KVM's
 * dirty index is still that many entries past its reset index, which now
 * points at entries that are zero: "phantoms" KVM counts as used and will
 * only take back RESET.  Unhandled, every reset from then on takes nothing
 * and the vCPU stalls at RING_FULL for good.  A walk that finds the ring
 * full records an overflow (the caller marks every region dirty, for the
 * overwritten pages).  KVM's next pushes land after the phantoms, and may
 * wrap over the first of them before we look, so a later walk finds, from
 * the fetch index: maybe dirty entries, then the rest of the phantoms,
 * then dirty entries again.  The first walk after an overflow that stops
 * at a zeroed entry looks past it over the ring (dt_ring_recover()):
 * zeroed entries before a used one are marked RESET and the walk goes on,
 * so that KVM's next reset takes them and its reset index moves again.
 * Phantoms KVM pushes past only later look like a foreign collector's gap,
 * and in a ring that ever overflowed a gap is marked the same way.  If
 * KVM does not take such marks, they were not its to take (a foreign
 * collector made the hole): dt_rings_reset() finds them still RESET
 * behind the entries KVM took, withdraws them and counts them as foreign.
 * (What such a ring cannot tell apart: a VMM that zeroed the entry at
 * KVM's reset index, whose page is then lost unseen.  Elsewhere that is
 * foreign.)  Such a KVM also pushes over our marks before its reset takes
 * them, and its reset then stops at the first it pushed over: the reset
 * takes those entries again (dt_ring_retake()), an overflow too.
 *
 * A foreign collector.  The VMM must not harvest or reset an attached ring
 * itself.  If it does, the entries it took are lost to us, and the caller
 * marks every region dirty.  What shows it, and what it costs:
 *
 *  - a RESET entry where DIRTY was expected: it harvested and has not
 *    reset yet.  The walk reads that entry anyway (dt_ring_harvest()).
 *  - a reset count our marks cannot explain: it reset, ours or its own
 *    marks, while we had marks out or before our reset.  The count is
 *    free; only then are the marks read back (dt_rings_reset()).
 *  - a hole at our fetch index with dirty entries past it: it harvested
 *    and reset between two of our harvests.  A sync looks
 *    DT_RING_GAP_WINDOW entries past the fetch index, within the cache
 *    line it stopped in; a harvest of one vCPU for its RING_FULL exit that
 *    finds nothing, with nothing freed since the previous one, looks at
 *    the whole ring (dt_ring_collect()).
 *
 * A sync therefore reads the entries it takes and a constant more per
 * ring, never the ring.  What a VMM that breaks the rule can still get
 * away with: harvesting and resetting a run longer than the window at our
 * fetch index, between two syncs, goes unseen until its vCPU fills the
 * ring and exits RING_FULL (the harvest for that exit finds it); a
 * migration that ends first has lost those pages.  The rule is the VMM's
 * to keep (Documentation/userspace-api/dirtytrack.rst, ATTACH_RING).
 */
#include "dt_core.h"

/* Entries ahead of the walk it prefetches: four cache lines. */
#define DT_RING_PREFETCH	16

/* KVM batches the pages it re-protects by this many (BITS_PER_LONG). */
#define DT_KVM_RESET_BATCH	64

#ifdef DT_RING_COUNT_READS
extern unsigned long dt_ring_reads;	/* tools/testing/unit: the count */
#define dt_ring_count_read()	(dt_ring_reads++)
#else
#define dt_ring_count_read()	do { } while (0)
#endif

/*
 * Every read of an entry's flags, the cost of a harvest, goes through
 * here; the unit tests count them.
 */
static inline u32 dt_gfn_flags(const struct dt_ring *r, u32 i)
{
	dt_ring_count_read();
	return dt_load_acquire(&r->gfns[i & (r->size - 1)].flags);
}

static inline struct kvm_dirty_gfn *dt_gfn(const struct dt_ring *r, u32 i)
{
	return &r->gfns[i & (r->size - 1)];
}

/* dt_gfn_flags() on a ring's entries and index mask held in locals. */
static inline u32 dt_gfns_flags(const struct kvm_dirty_gfn *gfns, u32 mask,
				u32 i)
{
	dt_ring_count_read();
	return dt_load_acquire(&gfns[i & mask].flags);
}

/**
 * dt_ring_resync() - find where KVM is in a ring we were not following
 * @r: the ring
 *
 * The used entries of a ring (DIRTY, or RESET and not yet reset) form one
 * run in ring order, from KVM's reset index to its dirty index; every other
 * entry is zero.  The fetch index moves to the start of that run.  An entry
 * seen used while the one before it is zero is that start: KVM publishes
 * entries in order, so a run is never seen with a hole, and an entry pushed
 * during the scan can only extend it.  A ring with no used entry leaves the
 * position unknown: the next harvest scans again.
 *
 * Return: true if the position is known now.
 */
bool dt_ring_resync(struct dt_ring *r)
{
	u32 i;

	for (i = 0; i < r->size; i++) {
		if (dt_gfn_flags(r, i) && !dt_gfn_flags(r, i - 1)) {
			dt_write_once(r->fetch, i);
			dt_write_once(r->unreset, 0);
			dt_write_once(r->synced, true);
			return true;
		}
	}
	/* Every entry used cannot happen below KVM's soft limit: start at 0. */
	if (dt_gfn_flags(r, 0)) {
		dt_write_once(r->fetch, 0);
		dt_write_once(r->unreset, 0);
		dt_write_once(r->synced, true);
	}
	return r->synced;
}

/*
 * Mark the @g zeroed entries at the fetch index RESET for KVM's reset:
 * phantoms of an overflow (see ring.c's head).  An entry KVM pushes
 * meanwhile keeps its push and ends the run there.
 *
 * Return: true if any was marked (the walk goes on).
 */
static bool dt_ring_mark_phantoms(struct dt_ring *r, u32 g,
				  struct dt_ring_stats *st)
{
	u32 i;

	for (i = 0; i < g; i++)
		if (dt_cmpxchg32(&dt_gfn(r, r->fetch + i)->flags, 0,
				 KVM_DIRTY_GFN_F_RESET))
			break;
	dt_write_once(r->fetch, r->fetch + i);
	dt_write_once(r->unreset, r->unreset + i);
	st->recovered += i;
	return i > 0;
}

/*
 * The first walk after an overflow stopped at a zeroed entry: the phantoms
 * KVM may still count, if it pushed past them already.  Looked for once,
 * over the ring (O(ring), once per overflow); phantoms KVM pushes past
 * later are found as gaps are (dt_ring_check_gap()).
 *
 * Return: true if phantoms were marked and the walk goes on.
 */
static bool dt_ring_recover(struct dt_ring *r, struct dt_ring_stats *st)
{
	u32 limit = r->size - r->unreset, g;

	r->overflow = false;
	for (g = 1; g < limit && !dt_gfn_flags(r, r->fetch + g); g++)
		;
	return g < limit && dt_ring_mark_phantoms(r, g, st);
}

/*
 * Taking DIRTY entries: each page to its region's pending set (validated:
 * the ring is the VMM's to write), then the entry RESET for KVM's reset.
 * A run of entries mostly shares one memslot, so the last lookup is kept;
 * the table does not change during a harvest.  A run also mostly shares a
 * word of the set (a guest writes neighbouring pages): the bits of the
 * current word gather in @bits and go to the set with one atomic OR when
 * the next page is in another word or slot, or the walk ends.  Nothing
 * reads the pending set before the harvest is done (dt_bitmap_move()).
 */
struct dt_taker {
	struct dt_slot_table *t;
	struct dt_slot *s;		/* the region of @slot, or NULL */
	u32 slot;
	bool looked;			/* @s and @slot are valid */
	u32 harvested, invalid;
	u64 word, bits;			/* @s's word @word gets @bits */
};

static inline void dt_taker_flush(struct dt_taker *k)
{
	if (k->bits)
		dt_pending_word_or(k->s->dirty, k->word, k->bits);
	k->bits = 0;
}

static inline void dt_ring_take(struct dt_taker *k, struct kvm_dirty_gfn *e)
{
	u32 slot = dt_read_once(e->slot);
	u64 offset = dt_read_once(e->offset);

	if (!k->looked || slot != k->slot) {
		dt_taker_flush(k);
		k->s = dt_slot_lookup(k->t, slot);
		k->slot = slot;
		k->looked = true;
	}
	if (k->s && offset < k->s->npages) {
		if (offset / DT_WORD_BITS != k->word) {
			dt_taker_flush(k);
			k->word = offset / DT_WORD_BITS;
		}
		k->bits |= (u64)1 << (offset % DT_WORD_BITS);
		k->harvested++;
	} else {
		k->invalid++;
	}
	dt_store_release(&e->flags, KVM_DIRTY_GFN_F_RESET);
}

static void dt_taker_done(struct dt_taker *k, struct dt_ring_stats *st)
{
	dt_taker_flush(k);
	st->harvested += k->harvested;
	st->invalid += k->invalid;
}

/**
 * dt_ring_harvest() - take every dirty entry from the fetch index on
 * @r: the ring
 * @t: the regions entries are resolved against
 * @st: counters, accumulated
 *
 * Dirty pages go to their region's bitmap; entries are marked RESET, to be
 * handed back by dt_rings_reset().  Stops at the first entry that is not
 * exactly DIRTY (past the phantoms of a recent overflow), or when the next
 * entry is one of our own not yet reset: a ring full of used entries,
 * which upstream KVM never lets happen, is an overflow (@st->overflow).  A
 * ring whose position is not known is resynced first.
 */
void dt_ring_harvest(struct dt_ring *r, struct dt_slot_table *t,
		     struct dt_ring_stats *st)
{
	struct dt_taker k = { .t = t };
	struct kvm_dirty_gfn *gfns = r->gfns;
	u32 fetch, unreset, size = r->size, mask = size - 1;
	bool took = false;

	if (!r->synced && !dt_ring_resync(r))
		return;
	/* The ring in locals: the compiler must assume the stores alias @r. */
	fetch = r->fetch;
	unreset = r->unreset;
	while (unreset < size) {
		u32 flags = dt_gfns_flags(gfns, mask, fetch);

		/*
		 * KVM wrote the entries on the vCPU's CPU: fetch the lines a
		 * few ahead, which the walk reads and marks (10 to 20 % of a
		 * harvest at 1024 entries a ring, measured natively).
		 */
		dt_prefetchw(&gfns[(fetch + DT_RING_PREFETCH) & mask]);

		if (flags == KVM_DIRTY_GFN_F_DIRTY) {
			dt_ring_take(&k, &gfns[fetch & mask]);
			fetch++;
			unreset++;
			took = true;
			continue;
		}
		if (flags == KVM_DIRTY_GFN_F_RESET) {
			/*
			 * Harvested by someone else and not yet reset: skip
			 * it (KVM's next reset frees it), its page is lost.
			 */
			st->foreign++;
			fetch++;
			unreset++;
			continue;
		}
		if (flags || !r->overflow)
			break;
		dt_write_once(r->fetch, fetch);
		dt_write_once(r->unreset, unreset);
		if (!dt_ring_recover(r, st))
			break;
		fetch = r->fetch;
		unreset = r->unreset;
	}
	dt_write_once(r->fetch, fetch);
	dt_write_once(r->unreset, unreset);
	dt_taker_done(&k, st);
	/*
	 * Full: every entry is used, so KVM pushed past its soft limit.  A
	 * ring that was full already (its reset failed) was counted then.
	 */
	if (r->unreset == r->size && took) {
		st->overflow++;
		r->overflow = true;
		r->overflowed = true;
	}
}

/**
 * dt_ring_check_gap() - detect entries harvested and reset behind our back
 * @r: the ring, just harvested (its fetch entry is not DIRTY)
 * @window: how many entries past the fetch index to look at
 * @st: counters; @st->foreign grows by the length of a gap found
 *
 * A collector that harvested and reset entries at our fetch index leaves
 * them zero, and KVM goes on pushing after them: a gap, then DIRTY entries
 * we would never reach.  KVM publishes entries in order (smp_wmb between
 * them), so once a later entry is seen DIRTY with acquire, an earlier entry
 * still not DIRTY was taken by someone else, never a race with the push.
 * On a gap the fetch index moves to the first dirty entry after it.  In a
 * ring that ever overflowed, a gap may be phantoms KVM pushed past late:
 * it is marked for KVM's reset, which takes phantoms and passes over a
 * foreign collector's hole (dt_ring_settle() then counts it foreign).
 *
 * Return: true if a gap was found (the caller walks on).
 */
bool dt_ring_check_gap(struct dt_ring *r, u32 window, struct dt_ring_stats *st)
{
	u32 limit = r->size - r->unreset, i;

	if (!r->synced)
		return false;
	if (!window || window > limit)
		window = limit;
	for (i = 1; i < window; i++) {
		u32 j;

		if (dt_gfn_flags(r, r->fetch + i) != KVM_DIRTY_GFN_F_DIRTY)
			continue;
		/* Every entry before it was published first. */
		for (j = 0; j < i; j++) {
			if (dt_gfn_flags(r, r->fetch + j) == KVM_DIRTY_GFN_F_DIRTY)
				return false;	/* pushed meanwhile: no gap */
		}
		if (r->overflowed)
			return dt_ring_mark_phantoms(r, i, st);
		st->foreign += i;
		dt_write_once(r->fetch, r->fetch + i);
		return true;
	}
	return false;
}

/**
 * dt_ring_collect() - one ring's part of a harvest
 * @r: the ring
 * @t: the regions entries are resolved against
 * @alone: the harvest is of this ring alone, for its vCPU's RING_FULL exit
 * @st: counters, accumulated
 *
 * The walk, then a look for a foreign collector's gap: the next
 * DT_RING_GAP_WINDOW entries, or the whole ring when KVM calls it full
 * (@alone) and neither this walk nor any reset since the last such
 * harvest (dt_ring_stuck()) freed anything in it, which is what a gap
 * longer than the window looks like.  A gap found is walked past.
 *
 * Return: the entries taken.
 */
u32 dt_ring_collect(struct dt_ring *r, struct dt_slot_table *t, bool alone,
		    struct dt_ring_stats *st)
{
	u32 before = st->harvested + st->invalid, window = DT_RING_GAP_WINDOW;

	dt_ring_harvest(r, t, st);
	if (alone && st->harvested + st->invalid == before &&
	    r->freed == r->freed_mark)
		window = r->size;
	if (dt_ring_check_gap(r, window, st))
		dt_ring_harvest(r, t, st);
	return st->harvested + st->invalid - before;
}

/**
 * dt_rings_collect() - the walk of the rings a harvest takes
 * @ops: the home's rings (@nr, @ring, @table)
 * @vcpu_harvest: the harvest is a vCPU's (dt_ring_wanted())
 * @want: its ring, or NULL for every ring holding @min_fill entries
 * @min_fill: see @want
 * @st: counters, accumulated
 *
 * Each ring's @last and @last_overflow tell what it gave (nothing for a
 * ring not taken).  Pinned or mapped ring memory only: the module runs it
 * on a worker while the caller reads other sources.
 */
void dt_rings_collect(const struct dt_rings_ops *ops, bool vcpu_harvest,
		      const struct dt_ring *want, u32 min_fill,
		      struct dt_ring_stats *st)
{
	u32 i;

	for (i = 0; i < ops->nr; i++) {
		struct dt_ring *r = ops->ring(ops->ctx, i);
		u32 overflow = st->overflow;

		dt_write_once(r->last, 0);
		r->last_overflow = false;
		if (!dt_ring_wanted(r, vcpu_harvest, want, min_fill))
			continue;
		dt_write_once(r->last, dt_ring_collect(r, ops->table, r == want,
						       st));
		r->last_overflow = st->overflow != overflow;
	}
}

/**
 * dt_ring_fill() - how full KVM sees a ring, for monitoring
 * @r: the ring; may be harvested meanwhile (the figure is then stale)
 *
 * KVM counts an entry as used from its push until its reset: our entries
 * not yet reset, then the DIRTY run from the fetch index.  That run is
 * contiguous (KVM publishes in order, and the entry after it is zero or
 * one of ours), so a binary search over it costs log2(size) reads.  A
 * ring whose position is not known yet (no harvest has found an entry
 * since it was attached) is read whole: its used entries are the nonzero
 * ones.
 *
 * Return: the used entries.
 */
u32 dt_ring_fill(const struct dt_ring *r)
{
	u32 size = dt_read_once(r->size), fetch = dt_read_once(r->fetch);
	u32 unreset = dt_read_once(r->unreset), lo = 0, hi;

	if (!size)
		return 0;
	if (!dt_read_once(r->synced)) {
		for (hi = 0; hi < size; hi++)
			lo += !!dt_gfn_flags(r, hi);
		return lo;
	}
	if (unreset >= size)
		return size;
	hi = size - unreset;
	while (lo < hi) {
		u32 mid = lo + (hi - lo + 1) / 2;

		if (dt_gfn_flags(r, fetch + mid - 1) == KVM_DIRTY_GFN_F_DIRTY)
			lo = mid;
		else
			hi = mid - 1;
	}
	return unreset + lo;
}

/**
 * dt_ring_stuck() - will the vCPU exit RING_FULL again at once, for good?
 * @r: the ring, just harvested on its own for a KVM_EXIT_DIRTY_RING_FULL
 * @took: the entries that harvest took
 *
 * After an overflow, KVM counts zeroed entries until a reset takes them,
 * and it pushes after them (dt_ring_recover()).  When they are as many as
 * its soft limit it never will: the vCPU exits RING_FULL without pushing,
 * every harvest finds nothing and every reset takes nothing.  That is a
 * ring that overflowed, whose last two harvests for RING_FULL took nothing
 * with nothing freed between them.  Any other harvest that frees nothing
 * found an empty ring (a second harvest for one exit, or one without an
 * exit): no error.  A ring whose reset cannot move past an entry the VMM
 * wrote is dt_rings_reset()'s -ENOSPC.
 *
 * Return: true if so; the next call measures from here.
 */
bool dt_ring_stuck(struct dt_ring *r, u32 took)
{
	bool stuck = r->overflowed && !took && !r->alone_took &&
		     r->freed == r->freed_mark;

	r->alone_took = took;
	r->freed_mark = r->freed;
	return stuck;
}

/*
 * Entries of ours, from @from on, that read DIRTY again: KVM pushed over
 * our marks, past the ring's end (only a KVM that overflows does), and its
 * reset index may be on one of them, where its reset stops.  Take them as
 * the walk does (they are our marks again) and count an overflow: the
 * entries KVM pushed over held pages nobody else will report.
 *
 * Return: true if any was taken.
 */
static bool dt_ring_retake(struct dt_ring *r, u32 from, struct dt_slot_table *t,
			   struct dt_ring_stats *st)
{
	struct dt_taker k = { .t = t };
	u32 n = 0;

	for (; from != r->fetch; from++) {
		if (dt_gfn_flags(r, from) != KVM_DIRTY_GFN_F_DIRTY)
			continue;
		dt_ring_take(&k, dt_gfn(r, from));
		n++;
	}
	dt_taker_done(&k, st);
	if (!n)
		return false;
	st->overflow++;
	r->overflow = true;
	r->overflowed = true;
	return true;
}

/*
 * What KVM_RESET_DIRTY_RINGS took from one ring, read from the ring: our
 * marks run from @start for @unreset entries, and KVM takes them in order
 * from its reset index, zeroing their flags.  So they read, in order: marks
 * still RESET that KVM was already past (only recovery marks over a hole
 * a foreign collector made: withdrawn, and foreign), the run KVM took, and
 * the marks it has not reached yet (left for the next call), some of which
 * KVM may have pushed over (dt_ring_retake()).  A ring none of whose marks
 * KVM took keeps them all.  O(marks).
 *
 * Return: true if entries KVM pushed over were taken again.
 */
static bool dt_ring_settle(struct dt_ring *r, struct dt_slot_table *t,
			   struct dt_ring_stats *st)
{
	u32 start = r->fetch - r->unreset, passed = 0, took = 0, i;
	bool pushed;

	while (passed < r->unreset &&
	       dt_gfn_flags(r, start + passed) == KVM_DIRTY_GFN_F_RESET)
		passed++;
	while (passed + took < r->unreset && !dt_gfn_flags(r, start + passed + took))
		took++;
	pushed = dt_ring_retake(r, start + passed + took, t, st);
	if (!took) {
		r->consumed = 0;
		return pushed;
	}
	for (i = 0; i < passed; i++)
		dt_cmpxchg32(&dt_gfn(r, start + i)->flags,
			     KVM_DIRTY_GFN_F_RESET, 0);
	st->foreign += passed;
	r->consumed = took;
	r->freed += took;
	dt_write_once(r->unreset, r->unreset - (passed + took));
	return pushed;
}

/* KVM took every mark of every ring. */
static void dt_ring_settle_all(struct dt_ring *r)
{
	r->consumed = r->unreset;
	r->freed += r->unreset;
	dt_write_once(r->unreset, 0);
}

/*
 * Make sticky the pages of the batch KVM may have dropped in @r: the last
 * entry it took, and those before it of the same memslot within a batch's
 * span, back to the first that could not share its batch (another slot, or
 * too far).  Their flags are zero, their slot and offset as KVM read them;
 * an entry KVM has pushed again since cannot be read back, and then every
 * page becomes sticky.
 */
static void dt_ring_stick_batch(struct dt_ring *r, struct dt_sticky *s,
				struct dt_ring_stats *st)
{
	u32 last = r->fetch - r->unreset - 1, i, slot;
	u64 offset;

	if (!r->consumed)
		return;
	slot = dt_read_once(dt_gfn(r, last)->slot);
	offset = dt_read_once(dt_gfn(r, last)->offset);
	for (i = 0; i < r->consumed && i < DT_KVM_RESET_BATCH; i++) {
		struct kvm_dirty_gfn *e = dt_gfn(r, last - i);
		u64 o = dt_read_once(e->offset);
		u32 j;

		if (dt_gfn_flags(r, last - i)) {
			s->all = true;
			return;
		}
		/* Within a batch's span either side of the last: |o - offset| < 64. */
		if (dt_read_once(e->slot) != slot ||
		    o - offset + (DT_KVM_RESET_BATCH - 1) >
		    2 * (DT_KVM_RESET_BATCH - 1))
			break;
		for (j = 0; j < s->n; j++)
			if (s->slot[j] == slot && s->offset[j] == o)
				break;
		if (j < s->n)
			continue;
		if (s->n == DT_STICKY_MAX) {
			s->all = true;
			return;
		}
		s->slot[s->n] = slot;
		s->offset[s->n++] = o;
		st->sticky++;
	}
}

/**
 * dt_rings_reset() - hand every marked entry back to KVM
 * @ops: the home's rings and KVM_RESET_DIRTY_RINGS
 * @max_calls: calls to make at most while the reset stops early
 * @sticky: where pages KVM may have stopped logging go
 * @st: counters, accumulated
 *
 * Rule reset-before-copy: the caller publishes what it harvested only once this
 * returned 0, every mark reset.  Issued even with nothing marked: the count
 * then shows a foreign collector's marks.  O(rings) per call, plus O(marks)
 * when the count is not what was marked.
 *
 * Return: 0; -EAGAIN if the reset still stopped early after @max_calls
 * calls; -ENOSPC if two calls running took none of our marks and nothing
 * stopped them (the ring cannot be reset any more); or the home's error.  Either way
 * what is not yet reset stays marked, and the harvested pages stay pending
 * for the next call.
 */
int dt_rings_reset(const struct dt_rings_ops *ops, u32 max_calls,
		   struct dt_sticky *sticky, struct dt_ring_stats *st)
{
	u32 n = ops->nr, calls, stuck = 0, i;

	for (calls = 0; calls < max_calls; calls++) {
		u32 marked = 0, took = 0, left = 0, touched = 0, part = n;
		bool bailed = false, pushed = false;
		int cleared;

		for (i = 0; i < n; i++)
			marked += ops->ring(ops->ctx, i)->unreset;
		cleared = ops->reset(ops->ctx, &bailed);
		if (cleared < 0)
			return cleared;
		st->resets++;
		for (i = 0; i < n; i++) {
			struct dt_ring *r = ops->ring(ops->ctx, i);

			if ((u32)cleared == marked)
				dt_ring_settle_all(r);
			else
				pushed |= dt_ring_settle(r, ops->table, st);
			took += r->consumed;
			left += r->unreset;
			touched += !!r->consumed;
			if (r->consumed && r->unreset)
				part = i;
		}
		/* More than our marks, or ours gone uncounted: someone else. */
		if ((u32)cleared != took) {
			st->foreign += (u32)cleared > took ? (u32)cleared - took :
							     took - (u32)cleared;
			for (i = 0; i < n; i++)
				ops->ring(ops->ctx, i)->synced = false;
		}
		/*
		 * Stopped early: KVM stopped in the ring it took part of, or
		 * (none) after the last of those it took all of, which the
		 * order of its vCPUs would tell and we do not know.
		 */
		if (left || bailed) {
			for (i = 0; i < n; i++) {
				struct dt_ring *r = ops->ring(ops->ctx, i);

				if (part == i || (part == n && touched &&
						  r->consumed))
					dt_ring_stick_batch(r, sticky, st);
			}
		}
		if (!left)
			return 0;
		/*
		 * Nothing taken twice running, no signal seen, and nothing
		 * KVM pushed over our marks taken again: KVM's reset index
		 * sits on an entry that is not RESET (a VMM that wrote its
		 * ring), and no call will move it.  The vCPU stalls at
		 * RING_FULL for good.  (Once could be a signal the library
		 * cannot see, which the return to userspace delivers.)
		 */
		stuck = !took && !bailed && !pushed ? stuck + 1 : 0;
		if (stuck == 2)
			return -ENOSPC;
		st->partial_resets++;
	}
	return -EAGAIN;
}

/**
 * dt_ring_wanted() - does a harvest take this ring?
 * @r: the ring
 * @vcpu_harvest: the harvest is a per-vCPU one (a RING_FULL exit, or a
 *                harvest of the rings filled enough); every other takes
 *                every ring
 * @want: for a per-vCPU harvest, the one ring it takes, or NULL for every
 *        ring with at least @min_fill used entries
 * @min_fill: see @want
 *
 * Return: true if the harvest walks @r.
 */
bool dt_ring_wanted(const struct dt_ring *r, bool vcpu_harvest,
		    const struct dt_ring *want, u32 min_fill)
{
	if (!vcpu_harvest)
		return true;
	if (want)
		return want == r;
	return dt_ring_fill(r) >= min_fill;
}

/**
 * dt_rings_reset_and_mark() - the end of a harvest's rings
 * @ops: the home's rings and KVM_RESET_DIRTY_RINGS
 * @max_calls: as for dt_rings_reset()
 * @sticky: the tracker's sticky pages
 * @rs: the regions
 * @lost: the walk found an overflow or a foreign collector: entries may
 *        be lost to us
 * @st: counters, accumulated
 *
 * Every mark reset (dt_rings_reset()).  If entries may be lost (@lost, or
 * a foreign collector the reset's count shows), every region is dirty
 * (rule ring-overflow): published at once if the reset completed, else
 * pending, so the next harvest that completes one publishes it.  Then the
 * sticky pages are reported dirty.
 *
 * Return: 0, or dt_rings_reset()'s error; the harvested pages stay pending.
 */
int dt_rings_reset_and_mark(const struct dt_rings_ops *ops, u32 max_calls,
			    struct dt_sticky *sticky,
			    const struct dt_regions *rs, bool lost,
			    struct dt_ring_stats *st)
{
	u32 foreign = st->foreign;
	int ret;

	ret = dt_rings_reset(ops, max_calls, sticky, st);
	if (lost || st->foreign != foreign)
		dt_regions_mark_all(rs, !ret);
	if (ret)
		return ret;
	dt_sticky_mark(sticky, ops->table);
	return 0;
}

/**
 * dt_sticky_mark() - report the sticky pages dirty
 * @s: the sticky pages
 * @t: the regions (their pending bitmaps)
 *
 * A page whose region is gone (or never was) is skipped.
 */
void dt_sticky_mark(const struct dt_sticky *s, struct dt_slot_table *t)
{
	u32 i;

	if (s->all) {
		for (i = 0; i < t->n; i++)
			dt_bitmap_set_range(t->v[i].dirty, 0, t->v[i].npages);
		return;
	}
	for (i = 0; i < s->n; i++) {
		struct dt_slot *r = dt_slot_lookup(t, s->slot[i]);

		if (r && s->offset[i] < r->npages)
			dt_bitmap_set_pending(r->dirty, s->offset[i]);
	}
}

/**
 * dt_sticky_forget_slot() - a memslot was deleted: its mappings went too
 * @s: the sticky pages
 * @slot: DT_SLOT() of the memslot
 */
void dt_sticky_forget_slot(struct dt_sticky *s, u32 slot)
{
	u32 i = 0;

	while (i < s->n) {
		if (s->slot[i] == slot) {
			s->n--;
			s->slot[i] = s->slot[s->n];
			s->offset[i] = s->offset[s->n];
		} else {
			i++;
		}
	}
}
