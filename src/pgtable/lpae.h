/* SPDX-License-Identifier: MIT */
/*
 * VMSAv8-64 long-descriptor translation table format: geometry and
 * descriptor encodings.  Used by the page-table library to build tables
 * and by the SMMU model to walk them, so both read the same definitions
 * of the architecture.
 */
#ifndef SIO_LPAE_H
#define SIO_LPAE_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#define LPAE_GENMASK(h, l) ((~0ull >> (63 - (h))) & (~0ull << (l)))

/* Descriptor type, bits [1:0]. */
#define LPAE_TYPE_MASK	3ull
#define LPAE_TYPE_BLOCK 1ull /* levels 0-2 */
#define LPAE_TYPE_TABLE 3ull /* levels 0-2 */
#define LPAE_TYPE_PAGE	3ull /* level 3 */

/* Lower attributes of block and page descriptors. */
#define LPAE_S1_ATTRINDX_SHIFT 2 /* [4:2] */
#define LPAE_S1_NS	       (1ull << 5)
#define LPAE_S1_AP_UNPRIV      (1ull << 6) /* AP[1]: EL0 access */
#define LPAE_S1_AP_RDONLY      (1ull << 7) /* AP[2]: read-only */
#define LPAE_S2_MEMATTR_SHIFT  2	   /* [5:2] */
#define LPAE_S2_MEMATTR_MASK   (0xfull << LPAE_S2_MEMATTR_SHIFT)
#define LPAE_S2AP_READ	       (1ull << 6) /* S2AP[0] */
#define LPAE_S2AP_WRITE	       (1ull << 7) /* S2AP[1] */
#define LPAE_SH_SHIFT	       8	   /* [9:8] */
#define LPAE_SH_MASK	       (3ull << LPAE_SH_SHIFT)
#define LPAE_SH_NS	       0ull
#define LPAE_SH_OS	       2ull
#define LPAE_SH_IS	       3ull
#define LPAE_AF		       (1ull << 10)
#define LPAE_S1_NG	       (1ull << 11)

/* Upper attributes. */
#define LPAE_DBM    (1ull << 51)
#define LPAE_CONT   (1ull << 52)
#define LPAE_S1_PXN (1ull << 53)
#define LPAE_S1_UXN (1ull << 54)
#define LPAE_S2_XN0 (1ull << 53) /* XN[0], FEAT_XNX */
#define LPAE_S2_XN1 (1ull << 54) /* XN[1]: the XN of Armv8.0 */

/* Table descriptor attributes (stage 1; stage 2 ignores them). */
#define LPAE_TBL_PXN	  (1ull << 59)
#define LPAE_TBL_XN	  (1ull << 60)
#define LPAE_TBL_AP_SHIFT 61 /* APTable [62:61] */
#define LPAE_TBL_NS	  (1ull << 63)

/* Stage 1 MAIR: the attribute indexes the kernel's io-pgtable uses. */
#define LPAE_MAIR_ATTR_NC	 0x44ull /* Normal, Inner/Outer NC */
#define LPAE_MAIR_ATTR_WBRWA	 0xffull /* Normal, Inner/Outer WB RW-alloc */
#define LPAE_MAIR_ATTR_DEVICE	 0x04ull /* Device-nGnRE */
#define LPAE_MAIR_ATTR_INC_OWB	 0xf4ull /* Inner NC, Outer WB */
#define LPAE_MAIR_IDX_NC	 0
#define LPAE_MAIR_IDX_CACHE	 1
#define LPAE_MAIR_IDX_DEV	 2
#define LPAE_MAIR_IDX_INC_OCACHE 3
#define LPAE_MAIR_VALUE                                        \
	((LPAE_MAIR_ATTR_NC << (8 * LPAE_MAIR_IDX_NC)) |       \
	 (LPAE_MAIR_ATTR_WBRWA << (8 * LPAE_MAIR_IDX_CACHE)) | \
	 (LPAE_MAIR_ATTR_DEVICE << (8 * LPAE_MAIR_IDX_DEV)) |  \
	 (LPAE_MAIR_ATTR_INC_OWB << (8 * LPAE_MAIR_IDX_INC_OCACHE)))

/* Stage 2 MemAttr[3:0] values. */
#define LPAE_S2_MEMATTR_DEV  0x1ull /* Device-nGnRE */
#define LPAE_S2_MEMATTR_NC   0x5ull /* Normal, Inner/Outer NC */
#define LPAE_S2_MEMATTR_OIWB 0xfull /* Normal, Inner/Outer WB */

/* Output-address fields of descriptors.  With the 64K granule and 52-bit
 * addresses (FEAT_LPA), OA[51:48] sits in descriptor bits [15:12]. */
#define LPAE_OA_LO_MASK LPAE_GENMASK(47, 12)
#define LPAE_OA_HI_MASK LPAE_GENMASK(15, 12)

/* The geometry of one table: what a TCR/VTCR (a CD or STE) describes. */
struct lpae_fmt {
	uint8_t stage;	     /* 1 or 2 */
	uint8_t gshift;	     /* 12, 14 or 16 */
	uint8_t stride;	     /* gshift - 3: bits resolved per level */
	uint8_t ias;	     /* input address bits */
	uint8_t oas;	     /* output address bits */
	uint8_t start_level; /* 0..3 */
	uint8_t start_bits;  /* bits resolved at the start level */
};

static inline unsigned int lpae_level_shift(const struct lpae_fmt *f,
					    unsigned int level)
{
	return f->gshift + (3 - level) * f->stride;
}

static inline uint64_t lpae_level_size(const struct lpae_fmt *f,
				       unsigned int level)
{
	return 1ull << lpae_level_shift(f, level);
}

static inline unsigned int lpae_level_bits(const struct lpae_fmt *f,
					   unsigned int level)
{
	return level == f->start_level ? f->start_bits : f->stride;
}

static inline unsigned int lpae_level_entries(const struct lpae_fmt *f,
					      unsigned int level)
{
	return 1u << lpae_level_bits(f, level);
}

static inline unsigned int lpae_index(const struct lpae_fmt *f,
				      unsigned int level, uint64_t ia)
{
	return (unsigned int)((ia >> lpae_level_shift(f, level)) &
			      ((1ull << lpae_level_bits(f, level)) - 1));
}

/* Output address field of a table, block or page descriptor. */
static inline uint64_t lpae_oa_mask(const struct lpae_fmt *f)
{
	uint64_t m = LPAE_GENMASK(47, f->gshift);

	return f->gshift == 16 ? m | LPAE_OA_HI_MASK : m;
}

static inline uint64_t lpae_pte_to_oa(const struct lpae_fmt *f, uint64_t pte)
{
	uint64_t oa = pte & LPAE_GENMASK(47, f->gshift);

	if (f->gshift == 16)
		oa |= (pte & LPAE_OA_HI_MASK) << 36;
	return oa;
}

/* @oa is aligned to the granule and below 2^52 (2^48 unless 64K). */
static inline uint64_t lpae_oa_to_pte(uint64_t oa)
{
	return (oa & LPAE_OA_LO_MASK) | ((oa >> 36) & LPAE_OA_HI_MASK);
}

/*
 * May a block descriptor appear at @level?  Without FEAT_LPA2: 4K at
 * levels 1 and 2, 16K at level 2, 64K at level 2 and, with 52-bit output
 * addresses (FEAT_LPA), at level 1.
 */
static inline bool lpae_block_allowed(unsigned int gshift, unsigned int oas,
				      unsigned int level)
{
	switch (gshift) {
	case 12:
		return level == 1 || level == 2;
	case 14:
		return level == 2;
	case 16:
		return level == 2 || (level == 1 && oas == 52);
	}
	return false;
}

static inline bool lpae_is_leaf(uint64_t pte, unsigned int level)
{
	return level == 3 ? (pte & LPAE_TYPE_MASK) == LPAE_TYPE_PAGE
			  : (pte & LPAE_TYPE_MASK) == LPAE_TYPE_BLOCK;
}

/* A leaf as a walker must judge it: blocks only where the format has them. */
static inline bool lpae_leaf_valid(const struct lpae_fmt *f, uint64_t pte,
				   unsigned int level)
{
	return lpae_is_leaf(pte, level) &&
	       (level == 3 || lpae_block_allowed(f->gshift, f->oas, level));
}

static inline bool lpae_is_table(uint64_t pte, unsigned int level)
{
	return level < 3 && (pte & LPAE_TYPE_MASK) == LPAE_TYPE_TABLE;
}

/* Descriptor memory is little-endian; these are single-copy atomic. */
static inline uint64_t lpae_read(const uint64_t *p)
{
	return le64toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void lpae_write(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, htole64(v), __ATOMIC_RELEASE);
}

/* Field encodings of CD / STE (see format.c). */
int lpae_ps_encode(unsigned int oas);
int lpae_ps_decode(unsigned int ps);
int lpae_tg0_encode(unsigned int gshift);
int lpae_tg1_encode(unsigned int gshift);
int lpae_s2tg_encode(unsigned int gshift);
unsigned int lpae_tg0_decode(unsigned int tg); /* also STE.S2TG */
unsigned int lpae_tg1_decode(unsigned int tg);
int lpae_sl0_encode(unsigned int gshift, unsigned int start_level);
int lpae_sl0_decode(unsigned int gshift, unsigned int sl0);

/* Geometry rules (format.c). */
int lpae_s1_start_level(unsigned int gshift, unsigned int ias);
bool lpae_s2_start_valid(unsigned int gshift, unsigned int ias,
			 unsigned int oas, unsigned int level);
int lpae_s2_start_auto(unsigned int gshift, unsigned int ias, unsigned int oas);
bool lpae_ias_valid(unsigned int stage, unsigned int gshift, unsigned int ias);
bool lpae_oas_valid(unsigned int gshift, unsigned int oas);
int lpae_fmt_init(struct lpae_fmt *f, unsigned int stage, unsigned int gshift,
		  unsigned int ias, unsigned int oas, int start_level);
uint64_t lpae_pgsize_bitmap(unsigned int gshift, unsigned int oas);

#endif /* SIO_LPAE_H */
