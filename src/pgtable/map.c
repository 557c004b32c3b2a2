// SPDX-License-Identifier: MIT
/*
 * Map: install leaves, largest block first, a whole table's worth of
 * entries per walk from the root.
 */
#include <errno.h>

#include "pgtable_private.h"

static void undo_new_tables(struct sio_pgtable *pt, uint64_t **pteps,
			    uint64_t **parents, unsigned int n)
{
	while (n--) {
		uint64_t *child = pt_table_ptr(pt, lpae_read(pteps[n]));

		lpae_write(pteps[n], 0);
		(*pt_count(pt, parents[n]))--;
		pt_table_free_empty(pt, child);
	}
}

/*
 * Find the table holding @level's entry for @iova, creating the tables on
 * the way.  A failed walk removes what it created, so it leaves the tree
 * as it found it.
 */
static int walk_alloc(struct sio_pgtable *pt, uint64_t iova, unsigned int level,
		      uint64_t **out)
{
	uint64_t *pteps[3], *parents[3];
	uint64_t *table = pt->root;
	unsigned int created = 0;

	for (unsigned int lvl = pt->fmt.start_level; lvl < level; lvl++) {
		uint64_t *ptep = table + pt_index(pt, lvl, iova);
		uint64_t pte = lpae_read(ptep);

		if (!pte) {
			uint64_t *child = pt_table_alloc(pt);

			if (!child) {
				undo_new_tables(pt, pteps, parents, created);
				return -ENOMEM;
			}
			/* The pool hands out zeroed tables: publish at once. */
			lpae_write(ptep, pt_table_desc(child));
			(*pt_count(pt, table))++;
			pteps[created] = ptep;
			parents[created++] = table;
			table = child;
			continue;
		}
		if (!lpae_is_table(pte, lvl))
			return -EEXIST; /* a block already covers iova */
		table = pt_table_ptr(pt, pte);
	}
	*out = table;
	return 0;
}

/* Write up to @n leaves from @idx; stops at the first live entry. */
static uint64_t fill(struct sio_pgtable *pt, uint64_t *table,
		     unsigned int level, unsigned int idx, uint64_t pa,
		     uint64_t n, uint64_t attrs)
{
	uint64_t bs = pt->lv[level].size;
	uint64_t bits = attrs | pt_leaf_type(level);
	uint64_t *ptep = table + idx;
	uint64_t i;

	for (i = 0; i < n; i++, pa += bs) {
		if (lpae_read(&ptep[i]))
			break;
		lpae_write(&ptep[i], bits | lpae_oa_to_pte(pa));
	}
	*pt_count(pt, table) += (uint32_t)i;
	pt->leaves += i;
	return i;
}

/* The largest leaf that alignment and the remaining size allow. */
static unsigned int best_level(const struct sio_pgtable *pt, uint64_t iova,
			       uint64_t pa, uint64_t size)
{
	unsigned int i;

	for (i = 0; i + 1 < pt->nr_leaf_levels; i++) {
		uint64_t bs = pt->lv[pt->leaf_levels[i]].size;

		if (size >= bs && !((iova | pa) & (bs - 1)))
			break;
	}
	return pt->leaf_levels[i];
}

/* @level < 0: choose per step.  *done receives the bytes mapped. */
static int map_locked(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
		      uint64_t size, int level, uint64_t attrs, uint64_t *done)
{
	*done = 0;
	while (size) {
		unsigned int lvl = level >= 0 ? (unsigned int)level
					      : best_level(pt, iova, pa, size);
		unsigned int shift = pt->lv[lvl].shift;
		unsigned int idx = pt_index(pt, lvl, iova);
		uint64_t room = pt->lv[lvl].mask + 1 - idx;
		uint64_t n = size >> shift, filled;
		uint64_t *table;
		int rc;

		if (n > room)
			n = room;
		rc = walk_alloc(pt, iova, lvl, &table);
		if (rc)
			return rc;
		filled = fill(pt, table, lvl, idx, pa, n, attrs);
		*done += filled << shift;
		iova += filled << shift;
		pa += filled << shift;
		size -= filled << shift;
		if (filled < n)
			return -EEXIST;
	}
	return 0;
}

static int check_map(const struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
		     uint64_t size, uint64_t align, unsigned int prot,
		     uint64_t *attrs)
{
	uint64_t pa_last = pa + (size - 1);

	if (!size || ((iova | pa) & (align - 1)) ||
	    (size & ((1ull << pt->fmt.gshift) - 1)))
		return -EINVAL;
	*attrs = pt_prot_attrs(pt, prot);
	if (!*attrs)
		return -EINVAL;
	if (!pt_in_range(pt, iova, size) || pa_last < pa ||
	    (pt->fmt.oas < 64 && (pa_last >> pt->fmt.oas)))
		return -ERANGE;
	return 0;
}

static int do_map(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
		  uint64_t size, int level, uint64_t attrs)
{
	uint64_t done;
	int rc;

	pthread_mutex_lock(&pt->lock);
	rc = map_locked(pt, iova, pa, size, level, attrs, &done);
	if (rc && done)
		pt_unmap_locked(pt, iova, done, NULL, NULL);
	pthread_mutex_unlock(&pt->lock);
	return rc;
}

int sio_pgtable_map(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
		    uint64_t size, unsigned int prot)
{
	uint64_t attrs;
	int rc;

	rc = check_map(pt, iova, pa, size, 1ull << pt->fmt.gshift, prot,
		       &attrs);
	if (rc)
		return rc;
	return do_map(pt, iova, pa, size, -1, attrs);
}

int sio_pgtable_map_pages(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
			  uint64_t pgsize, uint64_t pgcount, unsigned int prot)
{
	uint64_t attrs;
	int level = -1, rc;

	for (unsigned int i = 0; i < pt->nr_leaf_levels; i++)
		if (pt->lv[pt->leaf_levels[i]].size == pgsize)
			level = (int)pt->leaf_levels[i];
	if (level < 0 || !pgcount)
		return -EINVAL;
	if (pgcount > (~0ull >> pt->fmt.gshift) / (pgsize >> pt->fmt.gshift))
		return -ERANGE;
	rc = check_map(pt, iova, pa, pgsize * pgcount, pgsize, prot, &attrs);
	if (rc)
		return rc;
	return do_map(pt, iova, pa, pgsize * pgcount, level, attrs);
}
