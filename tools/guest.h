/* SPDX-License-Identifier: MIT */
/*
 * A guest's side of nesting, for the tools that play one: the stage-1
 * translation tables and the context descriptor a guest OS's SMMUv3
 * driver writes into its own RAM, in the VMSAv8-64 and SMMUv3 formats.
 * Table descriptors hold addresses in the space the walker sees the
 * tables in: IPAs when stage 2 translates them, PAs otherwise.
 */
#ifndef SIO_TOOLS_GUEST_H
#define SIO_TOOLS_GUEST_H

#include <stdint.h>

/* Stage-1 page attributes: page, AttrIndx 0, AP[1], inner shareable, AF. */
#define GUEST_S1_RW 0x743ull
/* The same, read-only (AP[2]). */
#define GUEST_S1_RO (GUEST_S1_RW | (1ull << 7))

struct guest_s1 {
	uint8_t *ram;	     /* the guest's RAM, as this process sees it */
	uint64_t base;	     /* its address where the walker reads it */
	uint64_t size;	     /* bytes of it the tables may use */
	uint64_t next;	     /* offset of the next free table page */
	unsigned int gshift; /* granule: 12, 14 or 16 */
	unsigned int ias;    /* input address bits: 64 - T0SZ */
	unsigned int start;  /* the start level */
	uint64_t root;	     /* offset of the start-level table */
};

/*
 * Stage-1 tables in @ram (seen by the walker at @base), tables taken
 * from granule pages at @first and up to @size.  Returns 0, -EINVAL.
 */
int guest_s1_init(struct guest_s1 *g, uint8_t *ram, uint64_t base,
		  uint64_t first, uint64_t size, unsigned int gshift,
		  unsigned int ias);

/*
 * Map the granule page at @iova to @out with @attrs (GUEST_S1_*); the
 * walker-side address of the last-level table it went into in *@leaf
 * (if not NULL).  Returns 0, -ENOMEM (no room for a table), -EEXIST.
 */
int guest_s1_map(struct guest_s1 *g, uint64_t iova, uint64_t out,
		 uint64_t attrs, uint64_t *leaf);

/* Point an L3 entry elsewhere without telling anyone: what a guest does
 * before its invalidation.  Returns 0, -ENOENT if no table covers it. */
int guest_s1_remap(struct guest_s1 *g, uint64_t iova, uint64_t out,
		   uint64_t attrs);

/* The CD of these tables (TTB0 only; IPS 48 bits; R and A set). */
void guest_cd(uint64_t cd[8], const struct guest_s1 *g, uint16_t asid);

/* Set bits [lo + width - 1 : lo] of a structure of 64-bit words. */
void guest_bits(uint64_t *s, unsigned int lo, unsigned int width, uint64_t val);

#endif
