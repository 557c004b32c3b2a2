// SPDX-License-Identifier: MIT
/*
 * Hardware dirty state (HTTU with DBM): reading it into a bitmap and
 * making leaves writable-clean again.
 */
#include <errno.h>

#include "pgtable_private.h"

/* Set bits [first, last] of @bits, a word at a time where possible. */
static void set_bits(uint64_t *bits, uint64_t first, uint64_t last)
{
	uint64_t w = first / 64, wl = last / 64;
	uint64_t head = ~0ull << (first % 64);
	uint64_t tail = ~0ull >> (63 - last % 64);

	if (w == wl) {
		bits[w] |= head & tail;
		return;
	}
	bits[w++] |= head;
	for (; w < wl; w++)
		bits[w] = ~0ull;
	bits[wl] |= tail;
}

static void record(const struct sio_dirty_bitmap *bm, uint64_t from,
		   uint64_t to)
{
	unsigned int pgshift = (unsigned int)__builtin_ctzll(bm->pgsize);

	set_bits(bm->bits, (from - bm->iova) >> pgshift,
		 (to - bm->iova) >> pgshift);
}

/*
 * Clean with an atomic read-modify-write of the permission bit alone, so
 * a dirty update the hardware makes meanwhile is never lost: it either
 * precedes the clean (and was recorded as dirty), or follows it.
 */
static void make_clean(const struct sio_pgtable *pt, uint64_t *ptep)
{
	if (pt->fmt.stage == SIO_PGT_STAGE1)
		__atomic_fetch_or(ptep, htole64(LPAE_S1_AP_RDONLY),
				  __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(ptep, htole64(~LPAE_S2AP_WRITE),
				   __ATOMIC_RELAXED);
}

static void dirty_level(struct sio_pgtable *pt, uint64_t *table,
			unsigned int level, uint64_t first, uint64_t last,
			const struct sio_dirty_bitmap *bm, unsigned int flags)
{
	uint64_t bs = pt->lv[level].size;
	unsigned int i = pt_index(pt, level, first);
	unsigned int end = pt_index(pt, level, last);
	uint64_t base = first & ~(bs - 1);

	for (; i <= end; i++, base += bs) {
		uint64_t pte = lpae_read(&table[i]);
		uint64_t from = first > base ? first : base;
		uint64_t to = last < base + (bs - 1) ? last : base + (bs - 1);

		if (lpae_is_table(pte, level)) {
			dirty_level(pt, pt_table_ptr(pt, pte), level + 1, from,
				    to, bm, flags);
			continue;
		}
		if (!lpae_is_leaf(pte, level) || !pt_leaf_dirty(pt, pte))
			continue;
		record(bm, from, to);
		if (!(flags & SIO_DIRTY_NO_CLEAR))
			make_clean(pt, &table[i]);
	}
}

int sio_pgtable_read_and_clear_dirty(struct sio_pgtable *pt,
				     const struct sio_dirty_bitmap *bm,
				     unsigned int flags)
{
	uint64_t pgsize = bm->pgsize;

	if (!(pt->flags & SIO_PGT_F_HD))
		return -EOPNOTSUPP;
	if (flags & ~SIO_DIRTY_NO_CLEAR)
		return -EINVAL;
	if (!pgsize || (pgsize & (pgsize - 1)) || !bm->length || !bm->bits ||
	    ((bm->iova | bm->length) & (pgsize - 1)))
		return -EINVAL;
	if (!pt_in_range(pt, bm->iova, bm->length))
		return -ERANGE;
	pthread_mutex_lock(&pt->lock);
	dirty_level(pt, pt->root, pt->fmt.start_level, bm->iova,
		    bm->iova + (bm->length - 1), bm, flags);
	pthread_mutex_unlock(&pt->lock);
	return 0;
}
