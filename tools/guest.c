// SPDX-License-Identifier: MIT
/*
 * The guest's stage-1 tables and CD (guest.h): what an OS's IOMMU driver
 * writes, by the VMSAv8-64 descriptor formats and the CD layout of
 * SMMUv3 section 5.4.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "guest.h"

#define DESC_TABLE 3ull
#define DESC_VALID 1ull

static unsigned int stride(const struct guest_s1 *g)
{
	return g->gshift - 3;
}

static unsigned int level_shift(const struct guest_s1 *g, unsigned int level)
{
	return g->gshift + (3 - level) * stride(g);
}

static uint64_t index_of(const struct guest_s1 *g, unsigned int level,
			 uint64_t iova)
{
	unsigned int shift = level_shift(g, level);
	unsigned int bits = level == g->start ? g->ias - shift : stride(g);

	return (iova >> shift) & ((1ull << bits) - 1);
}

/* The output address field of a descriptor: bits [47:gshift]. */
static uint64_t desc_addr(const struct guest_s1 *g, uint64_t desc)
{
	return desc & (((1ull << 48) - 1) & ~((1ull << g->gshift) - 1));
}

static uint64_t *entry(struct guest_s1 *g, uint64_t table, uint64_t idx)
{
	return (uint64_t *)(g->ram + (table - g->base)) + idx;
}

/* A fresh table page: its walker-side address, or 0 when full. */
static uint64_t new_table(struct guest_s1 *g)
{
	uint64_t off = g->next;

	if (off + (1ull << g->gshift) > g->size)
		return 0;
	g->next += 1ull << g->gshift;
	memset(g->ram + off, 0, 1ull << g->gshift);
	return g->base + off;
}

int guest_s1_init(struct guest_s1 *g, uint8_t *ram, uint64_t base,
		  uint64_t first, uint64_t size, unsigned int gshift,
		  unsigned int ias)
{
	unsigned int levels;
	uint64_t root;

	if ((gshift != 12 && gshift != 14 && gshift != 16) || ias > 48 ||
	    ias <= gshift || (first & ((1ull << gshift) - 1)))
		return -EINVAL;
	levels = (ias - gshift + gshift - 4) / (gshift - 3);
	if (levels > 4)
		return -EINVAL;
	*g = (struct guest_s1){.ram = ram,
			       .base = base,
			       .size = size,
			       .next = first,
			       .gshift = gshift,
			       .ias = ias,
			       .start = 4 - levels};
	root = new_table(g);
	if (!root)
		return -EINVAL;
	g->root = root - base;
	return 0;
}

/* The level-3 entry for @iova, creating tables with @create. */
static uint64_t *leaf_entry(struct guest_s1 *g, uint64_t iova, bool create,
			    uint64_t *leaf)
{
	uint64_t table = g->base + g->root;

	for (unsigned int level = g->start; level < 3; level++) {
		uint64_t *e = entry(g, table, index_of(g, level, iova));

		if (!(*e & DESC_VALID)) {
			uint64_t t = create ? new_table(g) : 0;

			if (!t)
				return NULL;
			*e = t | DESC_TABLE;
		}
		table = desc_addr(g, *e);
	}
	if (leaf)
		*leaf = table;
	return entry(g, table, index_of(g, 3, iova));
}

int guest_s1_map(struct guest_s1 *g, uint64_t iova, uint64_t out,
		 uint64_t attrs, uint64_t *leaf)
{
	uint64_t *e = leaf_entry(g, iova, true, leaf);

	if (!e)
		return -ENOMEM;
	if (*e & DESC_VALID)
		return -EEXIST;
	*e = desc_addr(g, out) | attrs;
	return 0;
}

int guest_s1_remap(struct guest_s1 *g, uint64_t iova, uint64_t out,
		   uint64_t attrs)
{
	uint64_t *e = leaf_entry(g, iova, false, NULL);

	if (!e)
		return -ENOENT;
	/* a single-copy atomic store, as the walker may be reading it */
	__atomic_store_n(e, desc_addr(g, out) | attrs, __ATOMIC_RELEASE);
	return 0;
}

void guest_bits(uint64_t *s, unsigned int lo, unsigned int width, uint64_t val)
{
	for (unsigned int i = 0; i < width; i++) {
		uint64_t m = 1ull << ((lo + i) % 64);

		if ((val >> i) & 1)
			s[(lo + i) / 64] |= m;
		else
			s[(lo + i) / 64] &= ~m;
	}
}

void guest_cd(uint64_t cd[8], const struct guest_s1 *g, uint16_t asid)
{
	/* TG0: 0b00 4K, 0b01 64K, 0b10 16K */
	unsigned int tg0 = g->gshift == 12 ? 0 : g->gshift == 16 ? 1 : 2;

	memset(cd, 0, 64);
	guest_bits(cd, 0, 6, 64 - g->ias); /* T0SZ */
	guest_bits(cd, 6, 2, tg0);	   /* TG0 */
	guest_bits(cd, 8, 2, 1);	   /* IR0: write-back */
	guest_bits(cd, 10, 2, 1);	   /* OR0: write-back */
	guest_bits(cd, 12, 2, 3);	   /* SH0: inner shareable */
	guest_bits(cd, 30, 1, 1);	   /* EPD1: no TTB1 */
	guest_bits(cd, 31, 1, 1);	   /* V */
	guest_bits(cd, 32, 3, 5);	   /* IPS: 48 bits */
	guest_bits(cd, 41, 1, 1);	   /* AA64 */
	guest_bits(cd, 45, 1, 1);	   /* R: record faults */
	guest_bits(cd, 46, 1, 1);	   /* A: abort on fault */
	guest_bits(cd, 48, 16, asid);	   /* ASID */
	guest_bits(cd, 68, 48, (g->base + g->root) >> 4); /* TTB0 */
	guest_bits(cd, 192, 64, 0xff); /* MAIR: Attr0 normal write-back */
}
