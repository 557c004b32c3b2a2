/* SPDX-License-Identifier: MIT */
/* Private definitions of the IO page-table library (src/pgtable). */
#ifndef SIO_PGTABLE_PRIVATE_H
#define SIO_PGTABLE_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include <softiommu/pgtable.h>

#include "lpae.h"
#include "mem/mem_private.h"

#define SIO_PROT_ALL                                                         \
	(SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_CACHE | SIO_PROT_NOEXEC | \
	 SIO_PROT_MMIO | SIO_PROT_PRIV | SIO_PROT_GLOBAL)

/* Geometry of one level, precomputed so hot loops only index arrays. */
struct pt_level {
	unsigned int shift; /* log2 of the size one entry maps */
	bool leaf;	    /* a page or block may sit at this level */
	uint64_t mask;	    /* index mask: entries in the table - 1 */
	uint64_t size;	    /* bytes one entry maps */
};

/* Walkers compiled for one granule and start level (lookup.c). */
struct pt_walkers {
	int (*lookup)(const struct sio_pgtable *pt, uint64_t iova,
		      struct sio_pgtable_entry *out);
	int (*to_phys)(const struct sio_pgtable *pt, uint64_t iova,
		       uint64_t *pa);
};

struct sio_pgtable {
	struct pt_walkers walk; /* first: the hot entry points */
	struct lpae_fmt fmt;
	struct pt_level lv[4];
	/*
	 * Output-address bits of the descriptors of our own tables.  Table
	 * memory is process memory, below 2^47, so the 64K granule's
	 * OA[51:48] field is always zero in them.
	 */
	uint64_t table_mask;
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

	/*
	 * Odd while table memory is being handed back to the pool, bumped
	 * each time: a lock-free reader that saw it change may have read a
	 * table that was freed (and reused for another range) under it, and
	 * retries.  Other changes need no count: a reader sees a descriptor
	 * either before or after a single 64-bit store, and a split leaves
	 * every translation as it was.
	 */
	_Atomic uint64_t seq;

	pthread_mutex_t lock; /* serializes writers; guards what follows */
	uint64_t tables;
	uint64_t leaves;

	/* Leaf attributes for each SIO_PROT_* combination; 0 = refused. */
	uint64_t prot_attrs[128];
	/*
	 * The reverse: SIO_PROT_* (and PT_DIRTY) of a leaf, indexed by the
	 * descriptor bits they depend on (see pt_attr_key()).
	 */
	uint8_t leaf_prot[1u << 14];
};

_Static_assert(SIO_PROT_ALL < 128, "prot_attrs too small");

static inline uint64_t *pt_table_ptr(const struct sio_pgtable *pt, uint64_t pte)
{
	return (uint64_t *)(uintptr_t)(pte & pt->table_mask);
}

static inline unsigned int pt_index(const struct sio_pgtable *pt,
				    unsigned int level, uint64_t iova)
{
	return (unsigned int)((iova >> pt->lv[level].shift) &
			      pt->lv[level].mask);
}

static inline uint64_t pt_table_desc(const uint64_t *table)
{
	return lpae_oa_to_pte((uint64_t)(uintptr_t)table) | LPAE_TYPE_TABLE;
}

/* Number of valid descriptors in a table, kept off the bus by the pool. */
static inline uint32_t *pt_count(const struct sio_pgtable *pt, uint64_t *table)
{
	(void)pt;
	return sio_mem_pool_word_fast(table);
}

static inline uint64_t pt_leaf_type(unsigned int level)
{
	return level == 3 ? LPAE_TYPE_PAGE : LPAE_TYPE_BLOCK;
}

/* Attribute bits of a leaf: everything but type and output address. */
static inline uint64_t pt_leaf_attrs(const struct sio_pgtable *pt, uint64_t pte)
{
	return pte & ~(lpae_oa_mask(&pt->fmt) | LPAE_TYPE_MASK);
}

/* Is @iova inside the region and @iova + @size - 1 too? */
static inline bool pt_in_range(const struct sio_pgtable *pt, uint64_t iova,
			       uint64_t size)
{
	uint64_t last = iova + (size - 1);

	return last >= iova && iova >= pt->input_base && last <= pt->input_last;
}

/*
 * Writers (holding pt->lock) around returning tables to the pool.  No
 * fence is needed: every store that could change what a reader sees after
 * this (the pool's zeroing, new descriptors) is a release store, and
 * readers load descriptors with acquire, so a reader that observes any of
 * them observes the odd count too.
 */
static inline void pt_reuse_begin(struct sio_pgtable *pt)
{
	uint64_t s = atomic_load_explicit(&pt->seq, memory_order_relaxed);

	atomic_store_explicit(&pt->seq, s + 1, memory_order_relaxed);
}

static inline void pt_reuse_end(struct sio_pgtable *pt)
{
	uint64_t s = atomic_load_explicit(&pt->seq, memory_order_relaxed);

	atomic_store_explicit(&pt->seq, s + 1, memory_order_release);
}

/*
 * Lock-free readers, a seqlock read side: take pt_read_begin(), walk, and
 * if pt_read_retry() says a writer handed tables back meanwhile (or was
 * doing so), walk again.  The retry path is out of line, in the caller,
 * so the common path stays free of calls.
 */
static inline uint64_t pt_read_begin(const struct sio_pgtable *pt)
{
	return atomic_load_explicit(&pt->seq, memory_order_acquire);
}

/* Descriptor loads are acquire, so this load cannot move above them. */
static inline bool pt_read_retry(const struct sio_pgtable *pt, uint64_t s)
{
	return __builtin_expect(
		(s & 1) |
			(atomic_load_explicit(&pt->seq, memory_order_relaxed) ^
			 s),
		0);
}

/* Wait until no writer is handing tables back (lookup.c). */
void pt_read_wait(const struct sio_pgtable *pt);

/* pgtable.c */
uint64_t *pt_table_alloc(struct sio_pgtable *pt);
void pt_table_free(struct sio_pgtable *pt, uint64_t *table);
void pt_table_free_empty(struct sio_pgtable *pt, uint64_t *table);

/* lookup.c */
const struct pt_walkers *pt_walkers_for(unsigned int gshift,
					unsigned int start_level);

/* prot.c */
void pt_init_prot(struct sio_pgtable *pt);
unsigned int pt_attrs_to_prot(const struct sio_pgtable *pt, uint64_t pte);
bool pt_leaf_dirty(const struct sio_pgtable *pt, uint64_t pte);
/* Fill pt->leaf_prot (part of pt_init_prot()). */
void pt_init_leaf_prot(struct sio_pgtable *pt);

/* Leaf attributes for @prot, or 0 if the table refuses it. */
static inline uint64_t pt_prot_attrs(const struct sio_pgtable *pt,
				     unsigned int prot)
{
	return prot & ~SIO_PROT_ALL ? 0 : pt->prot_attrs[prot];
}

#define PT_DIRTY 0x80 /* in leaf_prot: dirty under SIO_PGT_F_HD */

/*
 * The leaf bits permissions and attributes depend on, as two contiguous
 * fields: [9:0] = desc[11:2] (AttrIndx/NS or MemAttr, AP or S2AP, SH, AF,
 * nG) and [13:10] = desc[54:51] (DBM, Contiguous, PXN/UXN or XN).  Five
 * operations: this sits on the lookup's critical path.
 */
static inline unsigned int pt_attr_key(uint64_t pte)
{
	return (unsigned int)(((pte >> 2) & 0x3ff) | ((pte >> 41) & 0x3c00));
}

static inline uint64_t pt_key_to_attrs(unsigned int key)
{
	return ((uint64_t)(key & 0x3ff) << 2) |
	       ((uint64_t)(key & 0x3c00) << 41);
}

/* unmap.c: caller holds pt->lock */
int pt_unmap_locked(struct sio_pgtable *pt, uint64_t iova, uint64_t size,
		    uint64_t *unmapped, struct sio_pgtable_gather *gather);

#endif /* SIO_PGTABLE_PRIVATE_H */
