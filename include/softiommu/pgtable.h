/* SPDX-License-Identifier: MIT */
/*
 * softiommu: Arm VMSAv8-64 long-descriptor IO page tables.
 *
 * The tables an SMMU walks: stage 1 (AArch64, for the TTB0 or the TTB1
 * region of a context descriptor) and stage 2 (including concatenated
 * initial-level tables), with 4K, 16K and 64K granules, as the kernel's
 * io-pgtable-arm builds them for the arm-smmu-v3 driver.  Table memory
 * comes from a pool on the memory bus (mem.h), so the table's "physical"
 * addresses are what an SMMU model walks.
 *
 * Sizes: input addresses of 25..48 bits (52 with the 64K granule, FEAT_LVA
 * / 52-bit IPA), output sizes 32, 36, 40, 42, 44, 48 and 52 (64K granule
 * only, FEAT_LPA).  Mappings use pages and every block size the
 * architecture permits without FEAT_LPA2:
 *
 *   granule  page   level 2   level 1
 *   4K       4K     2M        1G
 *   16K      16K    32M       -
 *   64K      64K    512M      4T (output size 52 only)
 *
 * Thread safety: map, unmap and dirty read-and-clear serialize on a lock
 * inside the table.  Lookup takes no lock and may run concurrently with
 * them, as may hardware walks through the bus: every descriptor is
 * written with a single 64-bit store, new tables are published only once
 * initialized, and freed tables stay mapped (see sio_mem_pool_trim()).
 */
#ifndef SOFTIOMMU_PGTABLE_H
#define SOFTIOMMU_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/common.h>
#include <softiommu/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_pgtable;

#define SIO_PGT_STAGE1 1
#define SIO_PGT_STAGE2 2

/* Stage 1 input regions: TTB0 covers [0, 2^ias), TTB1 [2^64 - 2^ias, 2^64). */
#define SIO_PGT_TTB0 0
#define SIO_PGT_TTB1 1

/* Let the table choose the stage-2 start level (see sio_pgtable_cfg). */
#define SIO_PGT_START_AUTO (-1)

/* cfg.flags */
/*
 * Hardware dirty tracking (CD.HD / STE.S2HD): writable leaves are written
 * with DBM set, so their write permission doubles as dirty state.
 */
#define SIO_PGT_F_HD (1u << 0)

/*
 * Mapping attributes (the values match the kernel's IOMMU_* prot flags).
 * One of READ or WRITE is required.  With neither CACHE nor MMIO the
 * memory is Normal Non-cacheable.
 */
#define SIO_PROT_READ	(1u << 0)
#define SIO_PROT_WRITE	(1u << 1)
#define SIO_PROT_CACHE	(1u << 2) /* Normal Write-Back, Inner Shareable */
#define SIO_PROT_NOEXEC (1u << 3) /* S1: UXN and PXN; S2: XN[1:0] = 0b10 */
#define SIO_PROT_MMIO	(1u << 4) /* Device-nGnRE */
#define SIO_PROT_PRIV	(1u << 5) /* stage 1 only: no unprivileged access */
#define SIO_PROT_GLOBAL (1u << 6) /* stage 1 only: nG = 0 */

struct sio_pgtable_cfg {
	unsigned int stage;   /* SIO_PGT_STAGE1 or SIO_PGT_STAGE2 */
	unsigned int granule; /* 4096, 16384 or 65536 */
	unsigned int ias;     /* input address size in bits */
	unsigned int oas;     /* output address size in bits */
	unsigned int region;  /* stage 1: SIO_PGT_TTB0 or SIO_PGT_TTB1 */
	/*
	 * Stage 2 start level, or SIO_PGT_START_AUTO for the fewest levels
	 * the architecture allows (concatenating up to 16 initial tables, as
	 * KVM does).  Must be SIO_PGT_START_AUTO for stage 1, whose start
	 * level follows from ias and granule.
	 */
	int start_level;
	unsigned int flags; /* SIO_PGT_F_* */
	/*
	 * Where table memory comes from; NULL for a pool private to this
	 * table.  A shared pool must place memory below 2^oas and serve only
	 * page tables: lock-free lookups may read a block just freed.
	 */
	struct sio_mem_pool *pool;
};

/*
 * What a context descriptor or stream table entry needs to point an SMMU
 * at the table.
 */
struct sio_pgtable_info {
	uint64_t root;		  /* PA of the start-level table */
	unsigned int start_level; /* 0..3 */
	unsigned int concat;	  /* stage 2: concatenated start tables */
	unsigned int start_bits;  /* input bits resolved at the start level */
	unsigned int tsz;	  /* T0SZ / T1SZ / S2T0SZ: 64 - ias */
	unsigned int tg;	  /* CD.TG0, CD.TG1 or STE.S2TG encoding */
	unsigned int sl0;	  /* stage 2: STE.S2SL0 */
	unsigned int ps;	  /* CD.IPS / STE.S2PS encoding of oas */
	uint64_t mair;		  /* stage 1: MAIR the AttrIndx refer to */
	uint64_t pgsize_bitmap;	  /* page and block sizes used */
	uint64_t input_base;	  /* lowest input address */
	uint64_t input_last;	  /* highest input address */
};

/*
 * Create an empty table.  Returns 0, or -EINVAL (unsupported stage,
 * granule, sizes, region, start level or flags; see the table above),
 * -ENOMEM.
 */
SIO_API int sio_pgtable_create(const struct sio_pgtable_cfg *cfg,
			       struct sio_mem_bus *bus,
			       struct sio_pgtable **out);
/* Destroy a table and every table below it. */
SIO_API void sio_pgtable_destroy(struct sio_pgtable *pt);

SIO_API void sio_pgtable_get_info(const struct sio_pgtable *pt,
				  struct sio_pgtable_info *info);

/*
 * Map [iova, iova + size) to [pa, pa + size) with @prot, using the largest
 * blocks alignment allows.  All or nothing: on error the table is as
 * before.  Returns 0, or
 *   -EINVAL    iova, pa or size not granule-aligned, size 0, bad prot;
 *   -ERANGE    the input range leaves the table's region, or the output
 *              range leaves 2^oas;
 *   -EEXIST    part of the range is already mapped;
 *   -ENOMEM    no table memory.
 */
SIO_API int sio_pgtable_map(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
			    uint64_t size, unsigned int prot);

/*
 * Map @pgcount entries of exactly @pgsize (a page or block size of the
 * table), as the kernel's map_pages does.  Same errors as
 * sio_pgtable_map(); iova and pa must be aligned to @pgsize.
 */
SIO_API int sio_pgtable_map_pages(struct sio_pgtable *pt, uint64_t iova,
				  uint64_t pa, uint64_t pgsize,
				  uint64_t pgcount, unsigned int prot);

/*
 * What an unmap asks of the TLB, accumulated over any number of unmaps:
 * the affected input range, the smallest leaf size removed (a TTL hint)
 * and whether tables were freed (so walk caches must be invalidated too,
 * not only leaf entries).  Tables an unmap removes are not reused until
 * sio_pgtable_gather_finish(): a walker holding a stale walk must not land
 * in a recycled table before its TLB entry is invalidated, which is why
 * the kernel's io-pgtable gathers freed tables too.
 *
 * Start from SIO_PGTABLE_GATHER_INIT (all zero).
 */
struct sio_pgtable_gather {
	bool valid; /* start and last describe a range */
	uint64_t start;
	uint64_t last;
	uint64_t min_leaf; /* 0 if no leaf was removed */
	bool tables_freed;
	/* private: the retired tables, linked through their first word */
	void *freed;
};

#define SIO_PGTABLE_GATHER_INIT \
	{                       \
		0               \
	}

/*
 * Call once the TLB invalidation @g asks for is complete: releases the
 * tables the unmaps removed and resets @g to empty.
 */
SIO_API void sio_pgtable_gather_finish(struct sio_pgtable *pt,
				       struct sio_pgtable_gather *g);

/*
 * Unmap every mapping inside [iova, iova + size), splitting blocks that
 * straddle its ends into next-level tables, and remove tables that become
 * empty.  Holes are skipped.  *@unmapped (if not NULL) receives the bytes
 * that were mapped and no longer are.  With @gather NULL, removed tables
 * are freed at once (for tables no hardware walks); otherwise they are
 * added to @gather.  Returns 0, or -EINVAL (misaligned, size 0), -ERANGE,
 * -ENOMEM (a split needed a table: the block being split is untouched,
 * parts of the range before it stay unmapped and are counted).
 */
SIO_API int sio_pgtable_unmap(struct sio_pgtable *pt, uint64_t iova,
			      uint64_t size, uint64_t *unmapped,
			      struct sio_pgtable_gather *gather);

/* One leaf, as lookup reports it. */
struct sio_pgtable_entry {
	uint64_t pa;	    /* output address of the looked-up iova */
	uint64_t iova_base; /* first input address of the leaf */
	uint64_t size;	    /* page or block size */
	uint64_t desc;	    /* the descriptor */
	unsigned int prot;  /* SIO_PROT_* it grants */
	unsigned int level; /* level of the leaf */
	bool dirty;	    /* with SIO_PGT_F_HD: written since cleaned */
};

/* Translate @iova.  Returns 0, -ENOENT (not mapped) or -ERANGE. */
SIO_API int sio_pgtable_lookup(const struct sio_pgtable *pt, uint64_t iova,
			       struct sio_pgtable_entry *out);

/*
 * The output address alone (the kernel's iova_to_phys): the cheapest
 * translation, for hot paths.  Returns 0, -ENOENT or -ERANGE.
 */
SIO_API int sio_pgtable_iova_to_phys(const struct sio_pgtable *pt,
				     uint64_t iova, uint64_t *pa);

/*
 * A walk through the bus, as a hardware walker sees the table: each level
 * visited, with the address and value of its descriptor.
 */
struct sio_pgtable_walk_step {
	unsigned int level;
	unsigned int index;
	uint64_t table; /* PA of the table read at this level */
	uint64_t addr;	/* PA of the descriptor */
	uint64_t desc;
};

struct sio_pgtable_walk {
	unsigned int nsteps;
	struct sio_pgtable_walk_step step[4];
	/*
	 * 0: the last step is a leaf (pa and size valid); -ENOENT: an invalid
	 * descriptor; -EFAULT: a descriptor read was an external abort;
	 * -ERANGE: iova outside the region.
	 */
	int result;
	uint64_t pa;
	uint64_t size;
};

/* Walk @iova through the bus; returns w->result. */
SIO_API int sio_pgtable_walk(const struct sio_pgtable *pt, uint64_t iova,
			     struct sio_pgtable_walk *w);

/*
 * Describe a descriptor of @pt's format found at @level in words
 * ("block 2M pa=0x... AF SH=IS AttrIndx=1 ...").  Returns the length
 * snprintf would have written.
 */
SIO_API int sio_pgtable_format_desc(const struct sio_pgtable *pt,
				    unsigned int level, uint64_t desc,
				    char *buf, size_t len);

/*
 * Dirty tracking.  Bit i of @bits stands for [iova + i * pgsize,
 * iova + (i + 1) * pgsize); bits of dirty pages are set, others left
 * alone (callers clear the bitmap first, as iommufd does).
 */
struct sio_dirty_bitmap {
	uint64_t iova;
	uint64_t length;
	uint64_t pgsize; /* a power of two */
	uint64_t *bits;
};

/* Report dirty state without cleaning it. */
#define SIO_DIRTY_NO_CLEAR (1u << 0)

/*
 * Record the leaves of [bm->iova, bm->iova + bm->length) that are dirty
 * and (unless SIO_DIRTY_NO_CLEAR) make them writable-clean again.  A
 * block is cleaned whole even where it extends past the range, as the
 * kernel's io-pgtable does.  Returns 0, -EOPNOTSUPP (table created without
 * SIO_PGT_F_HD), -EINVAL (pgsize not a power of two, iova or length not
 * multiples of it, length 0), -ERANGE.
 */
SIO_API int sio_pgtable_read_and_clear_dirty(struct sio_pgtable *pt,
					     const struct sio_dirty_bitmap *bm,
					     unsigned int flags);

struct sio_pgtable_stats {
	uint64_t tables;      /* tables in use, the start table included */
	uint64_t table_bytes; /* their memory */
	uint64_t leaves;      /* valid leaf descriptors */
};

SIO_API void sio_pgtable_get_stats(const struct sio_pgtable *pt,
				   struct sio_pgtable_stats *st);

/* The pool the table allocates from (its own or the one it was given). */
SIO_API struct sio_mem_pool *sio_pgtable_pool(const struct sio_pgtable *pt);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_PGTABLE_H */
