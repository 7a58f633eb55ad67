// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The iommu source's arithmetic, shared by both homes: which maps are
 * accepted, how a read's IOVA becomes a region's page, what an error
 * marks dirty, and where a read is cut into calls.  Each home issues
 * IOMMU_HWPT_GET_DIRTY_BITMAP itself (the module on the VMM's scratch,
 * the library on its own buffer) and hands the bits it got to
 * dt_iommu_take_words().
 */
#include "dt_iommufd.h"

/**
 * dt_iommu_map_check() - is one map entry acceptable?
 * @m: the entry
 * @prev_end: the end of the IOVA of the entries before it (0 for none)
 * @page_shift: the host's page size, log2
 *
 * The entry is non-empty and page-aligned, its IOVA below
 * DT_IOMMU_MAX_IOVA and its GPA below DT_IOMMU_MAX_GPA without wrapping,
 * and it starts at or after @prev_end: entries are sorted by IOVA and do
 * not overlap.
 *
 * Return: 0, or -EINVAL.
 */
int dt_iommu_map_check(const struct dt_iommu_map *m, u64 prev_end,
		       unsigned int page_shift)
{
	u64 mask = ((u64)1 << page_shift) - 1, len = m->length;

	if (!len || ((m->iova | m->gpa | len) & mask) ||
	    m->iova + (len - 1) < m->iova ||
	    m->iova + (len - 1) >= DT_IOMMU_MAX_IOVA ||
	    m->gpa + (len - 1) < m->gpa ||
	    m->gpa + (len - 1) >= DT_IOMMU_MAX_GPA || m->iova < prev_end)
		return -EINVAL;
	return 0;
}

/**
 * dt_iommu_maps_check() - is a map one both homes accept?
 * @m: the entries
 * @nr: how many, at most DT_MAX_IOMMU_MAPS
 * @page_shift: the host's page size, log2
 *
 * Return: 0, or -EINVAL (dt_iommu_map_check() of each entry).
 */
int dt_iommu_maps_check(const struct dt_iommu_map *m, u32 nr,
			unsigned int page_shift)
{
	u64 end = 0;
	u32 i;

	if (nr > DT_MAX_IOMMU_MAPS)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (dt_iommu_map_check(&m[i], end, page_shift))
			return -EINVAL;
		end = m[i].iova + m[i].length;
	}
	return 0;
}

/* The map entry holding @iova, or NULL (binary search). */
static const struct dt_iommu_map *
dt_iommu_map_find(const struct dt_iommu_xlate *x, u64 iova)
{
	u32 lo = 0, hi = x->nr_maps;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct dt_iommu_map *m = &x->maps[mid];

		if (iova < m->iova)
			hi = mid;
		else if (iova - m->iova >= m->length)
			lo = mid + 1;
		else
			return m;
	}
	return NULL;
}

/* The guest frame @iova maps to; false if the map holds no such IOVA. */
bool dt_iommu_gfn(const struct dt_iommu_xlate *x, u64 iova, u64 *gfn)
{
	const struct dt_iommu_map *m;

	if (!x->maps) {
		*gfn = iova >> x->page_shift;	/* the identity */
		return true;
	}
	m = dt_iommu_map_find(x, iova);
	if (!m)
		return false;
	*gfn = (m->gpa + (iova - m->iova)) >> x->page_shift;
	return true;
}

/*
 * Rule errors-mean-dirty: every page [@iova, @end) maps is dirty
 * (pending).  O(map entries + regions per entry), whatever the range.
 */
void dt_iommu_mark_range(const struct dt_iommu_xlate *x, u64 iova, u64 end)
{
	unsigned int s = x->page_shift;
	u32 i;

	if (!x->maps) {
		dt_regions_mark_gfns(x->rs, iova >> s, end >> s);
		return;
	}
	for (i = 0; i < x->nr_maps; i++) {
		const struct dt_iommu_map *m = &x->maps[i];
		u64 lo = iova > m->iova ? iova : m->iova;
		u64 hi = m->iova + m->length;

		hi = end < hi ? end : hi;
		if (lo < hi)
			dt_regions_mark_gfns(x->rs, (m->gpa + (lo - m->iova)) >> s,
					     (m->gpa + (hi - m->iova)) >> s);
	}
}

/* Everything the source maps is dirty (pending). */
void dt_iommu_mark_all(const struct dt_iommu_xlate *x)
{
	dt_iommu_mark_range(x, 0, DT_IOMMU_MAX_IOVA);
}

/**
 * dt_iommu_take_words() - bits of a read into the regions' pending sets
 * @x: the translation
 * @iova: the IOVA of bit 0 of the read
 * @first_word: the index of @words[0] in the read's bitmap
 * @words: bits as iommufd wrote them, untrusted: only their positions are
 *         used, translated and looked up
 * @n: words in @words
 * @hint: the region the last page resolved to, kept between calls
 *
 * Return: pages that fell in a region.
 */
u64 dt_iommu_take_words(const struct dt_iommu_xlate *x, u64 iova,
			u64 first_word, const u64 *words, u64 n,
			struct dt_gfn_hint *hint)
{
	u64 i, pages = 0;

	for (i = 0; i < n; i++) {
		u64 v = words[i];

		while (v) {
			u64 page = (first_word + i) * DT_WORD_BITS + dt_ffs64(v);
			u64 gfn;

			v &= v - 1;
			if (!dt_iommu_gfn(x, iova + (page << x->page_shift),
					  &gfn))
				continue;
			if (dt_regions_mark_gfn(x->rs, gfn, hint))
				pages++;
		}
	}
	return pages;
}

/*
 * Where the call that reads from @iova towards @end ends: at @end if it
 * is at most @max_pages away, else at the last DT_IOMMU_MAX_IO_PAGE
 * boundary within @max_pages (which holds at least one such page), so
 * no huge IO page is read and cleared by one call and reported by half.
 */
u64 dt_iommu_cut(u64 iova, u64 end, u64 max_pages, unsigned int page_shift)
{
	if ((end - iova) >> page_shift <= max_pages)
		return end;
	return (iova + (max_pages << page_shift)) & ~(DT_IOMMU_MAX_IO_PAGE - 1);
}
