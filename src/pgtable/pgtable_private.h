/* SPDX-License-Identifier: MIT */
/* Private definitions of the IO page-table library (src/pgtable). */
#ifndef SIO_PGTABLE_PRIVATE_H
#define SIO_PGTABLE_PRIVATE_H

#include <pthread.h>

#include <softiommu/pgtable.h>

#include "lpae.h"

#define SIO_PROT_ALL                                                   \
	(SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_CACHE |             \
	 SIO_PROT_NOEXEC | SIO_PROT_MMIO | SIO_PROT_PRIV | SIO_PROT_GLOBAL)

struct sio_pgtable {
	struct lpae_fmt fmt;
	unsigned int region;
	unsigned int flags;
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
	bool own_pool;

	uint64_t *root;
	size_t root_size; /* granule * concatenated tables */
	uint64_t input_base;
	uint64_t input_last;
	uint64_t pgsize_bitmap;
	/* Leaf levels usable, smallest level (largest size) first. */
	unsigned int leaf_levels[4];
	unsigned int nr_leaf_levels;

	pthread_mutex_t lock; /* serializes writers; guards what follows */
	uint64_t tables;
	uint64_t leaves;
};

static inline uint64_t *pt_table_ptr(const struct sio_pgtable *pt,
				     uint64_t pte)
{
	return (uint64_t *)(uintptr_t)lpae_pte_to_oa(&pt->fmt, pte);
}

static inline uint64_t pt_table_desc(const uint64_t *table)
{
	return lpae_oa_to_pte((uint64_t)(uintptr_t)table) | LPAE_TYPE_TABLE;
}

/* Number of valid descriptors in a (non-start) table, kept off the bus. */
static inline uint32_t *pt_count(const struct sio_pgtable *pt,
				 uint64_t *table)
{
	return sio_mem_pool_word(pt->pool, table);
}

static inline uint64_t pt_leaf_type(unsigned int level)
{
	return level == 3 ? LPAE_TYPE_PAGE : LPAE_TYPE_BLOCK;
}

/* Attribute bits of a leaf: everything but type and output address. */
static inline uint64_t pt_leaf_attrs(const struct sio_pgtable *pt,
				     uint64_t pte)
{
	return pte & ~(lpae_oa_mask(&pt->fmt) | LPAE_TYPE_MASK);
}

/* Is @iova inside the region and @iova + @size - 1 too? */
static inline bool pt_in_range(const struct sio_pgtable *pt, uint64_t iova,
			       uint64_t size)
{
	uint64_t last = iova + (size - 1);

	return last >= iova && iova >= pt->input_base &&
	       last <= pt->input_last;
}

/* pgtable.c */
uint64_t *pt_table_alloc(struct sio_pgtable *pt);
void pt_table_free(struct sio_pgtable *pt, uint64_t *table);

/* prot.c */
int pt_prot_to_attrs(const struct sio_pgtable *pt, unsigned int prot,
		     uint64_t *attrs);
unsigned int pt_attrs_to_prot(const struct sio_pgtable *pt, uint64_t pte);
bool pt_leaf_dirty(const struct sio_pgtable *pt, uint64_t pte);

/* unmap.c: caller holds pt->lock */
int pt_unmap_locked(struct sio_pgtable *pt, uint64_t iova, uint64_t size,
		    uint64_t *unmapped, struct sio_pgtable_gather *gather);

#endif /* SIO_PGTABLE_PRIVATE_H */
