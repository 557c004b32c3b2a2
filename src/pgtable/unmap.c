// SPDX-License-Identifier: MIT
/*
 * Unmap: clear leaves, split blocks cut by the range, and take out tables
 * left empty.
 */
#include <errno.h>
#include <stdlib.h>

#include "pgtable_private.h"

struct unmap_state {
	uint64_t unmapped;
	struct sio_pgtable_gather *g;
	int err;
};

static void gather_range(struct sio_pgtable_gather *g, uint64_t start,
			 uint64_t last, uint64_t leaf)
{
	if (!g)
		return;
	if (!g->valid || start < g->start)
		g->start = start;
	if (!g->valid || last > g->last)
		g->last = last;
	g->valid = true;
	if (leaf && (!g->min_leaf || leaf < g->min_leaf))
		g->min_leaf = leaf;
}

/*
 * Hand an unlinked table to the gather, or free it if there is none.
 *
 * The gather keeps its tables in a list threaded through their first
 * word, so retiring one needs no memory and an unmap can always defer
 * the free until the TLB invalidation (as the kernel's gather, a list
 * through the pages).  The table is empty, and the link is a
 * granule-aligned address: bit 0 clear, an invalid descriptor, which is
 * all a walk reaching the table through a stale walk-cache entry reads,
 * as in a zeroed table.
 */
static void retire_table(struct sio_pgtable *pt, uint64_t *table,
			 struct sio_pgtable_gather *g)
{
	if (g) {
		g->tables_freed = true;
		__atomic_store_n(&table[0], (uint64_t)(uintptr_t)g->freed,
				 __ATOMIC_RELEASE);
		g->freed = table;
		pt->tables--;
		return;
	}
	pt_table_free_empty(pt, table);
}

/*
 * Replace the block at *@ptep by a next-level table mapping the same
 * range with the same attributes.  The swap is a compare-and-swap so that
 * an access flag or dirty state set by hardware meanwhile is carried over.
 */
static int split_block(struct sio_pgtable *pt, uint64_t *ptep,
		       unsigned int level)
{
	unsigned int nl = level + 1;
	unsigned int n = (unsigned int)pt->lv[nl].mask + 1;
	uint64_t cbs = pt->lv[nl].size;
	uint64_t *child = pt_table_alloc(pt);
	uint64_t blk = lpae_read(ptep);

	if (!child)
		return -ENOMEM;
	for (;;) {
		uint64_t bits = pt_leaf_attrs(pt, blk) | pt_leaf_type(nl);
		uint64_t oa = lpae_pte_to_oa(&pt->fmt, blk);
		uint64_t want = htole64(blk);

		for (unsigned int i = 0; i < n; i++)
			lpae_write(&child[i],
				   bits | lpae_oa_to_pte(oa + i * cbs));
		if (__atomic_compare_exchange_n(
			    ptep, &want, htole64(pt_table_desc(child)), 0,
			    __ATOMIC_RELEASE, __ATOMIC_ACQUIRE))
			break;
		blk = le64toh(want);
	}
	*pt_count(pt, child) = n;
	pt->leaves += n - 1;
	return 0;
}

static void unmap_level(struct sio_pgtable *pt, uint64_t *table,
			unsigned int level, uint64_t first, uint64_t last,
			struct unmap_state *s)
{
	uint64_t bs = pt->lv[level].size;
	unsigned int i = pt_index(pt, level, first);
	unsigned int end = pt_index(pt, level, last);
	uint64_t base = first & ~(bs - 1);
	uint32_t *count = pt_count(pt, table);

	for (; i <= end; i++, base += bs) {
		uint64_t *ptep = &table[i];
		uint64_t pte = lpae_read(ptep);
		uint64_t from = first > base ? first : base;
		uint64_t to = last < base + (bs - 1) ? last : base + (bs - 1);
		uint64_t *child;

		if (!pte)
			continue;
		if (lpae_is_leaf(pte, level)) {
			if (from == base && to == base + (bs - 1)) {
				lpae_write(ptep, 0);
				(*count)--;
				pt->leaves--;
				s->unmapped += bs;
				gather_range(s->g, base, to, bs);
				continue;
			}
			s->err = split_block(pt, ptep, level);
			if (s->err)
				return;
			pte = lpae_read(ptep);
		}
		child = pt_table_ptr(pt, pte);
		unmap_level(pt, child, level + 1, from, to, s);
		if (!*pt_count(pt, child)) {
			lpae_write(ptep, 0);
			(*count)--;
			gather_range(s->g, base, base + (bs - 1), 0);
			retire_table(pt, child, s->g);
		}
		if (s->err)
			return;
	}
}

int pt_unmap_locked(struct sio_pgtable *pt, uint64_t iova, uint64_t size,
		    uint64_t *unmapped, struct sio_pgtable_gather *gather)
{
	struct unmap_state s = {.g = gather};

	unmap_level(pt, pt->root, pt->fmt.start_level, iova, iova + (size - 1),
		    &s);
	if (unmapped)
		*unmapped = s.unmapped;
	return s.err;
}

int sio_pgtable_unmap(struct sio_pgtable *pt, uint64_t iova, uint64_t size,
		      uint64_t *unmapped, struct sio_pgtable_gather *gather)
{
	int rc;

	if (unmapped)
		*unmapped = 0;
	if (!size || ((iova | size) & ((1ull << pt->fmt.gshift) - 1)))
		return -EINVAL;
	if (!pt_in_range(pt, iova, size))
		return -ERANGE;
	pthread_mutex_lock(&pt->lock);
	rc = pt_unmap_locked(pt, iova, size, unmapped, gather);
	pthread_mutex_unlock(&pt->lock);
	return rc;
}
