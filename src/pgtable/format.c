// SPDX-License-Identifier: MIT
/*
 * Geometry of VMSAv8-64 translation tables: which sizes and start levels
 * the architecture allows, and how a CD or STE encodes them.
 */
#include <errno.h>

#include "lpae.h"

static const unsigned int ps_bits[] = {32, 36, 40, 42, 44, 48, 52};

/* CD.IPS / STE.S2PS / SMMU_IDR5.OAS all use this encoding. */
int lpae_ps_encode(unsigned int oas)
{
	for (unsigned int i = 0; i < sizeof(ps_bits) / sizeof(ps_bits[0]); i++)
		if (ps_bits[i] == oas)
			return (int)i;
	return -EINVAL;
}

int lpae_ps_decode(unsigned int ps)
{
	return ps < sizeof(ps_bits) / sizeof(ps_bits[0]) ? (int)ps_bits[ps]
							 : -EINVAL;
}

/* CD.TG0 and STE.S2TG: 0b00 4K, 0b01 64K, 0b10 16K. */
int lpae_tg0_encode(unsigned int gshift)
{
	switch (gshift) {
	case 12:
		return 0;
	case 16:
		return 1;
	case 14:
		return 2;
	}
	return -EINVAL;
}

int lpae_s2tg_encode(unsigned int gshift)
{
	return lpae_tg0_encode(gshift);
}

/* CD.TG1 differs: 0b01 16K, 0b10 4K, 0b11 64K. */
int lpae_tg1_encode(unsigned int gshift)
{
	switch (gshift) {
	case 14:
		return 1;
	case 12:
		return 2;
	case 16:
		return 3;
	}
	return -EINVAL;
}

/* Decoders of the same fields: the granule shift, or 0 if reserved. */
unsigned int lpae_tg0_decode(unsigned int tg)
{
	static const unsigned int shift[] = {12, 16, 14, 0};

	return shift[tg & 3];
}

unsigned int lpae_tg1_decode(unsigned int tg)
{
	static const unsigned int shift[] = {0, 14, 12, 16};

	return shift[tg & 3];
}

/*
 * STE.S2SL0 (as VTCR_EL2.SL0): with 4K, 0 = level 2, 1 = level 1,
 * 2 = level 0 (3 = level 3 needs FEAT_TTST); with 16K and 64K, 0 = level 3,
 * 1 = level 2, 2 = level 1 (3 = level 0 needs FEAT_LPA2 with 16K).
 */
int lpae_sl0_encode(unsigned int gshift, unsigned int start_level)
{
	if (gshift == 12)
		return start_level <= 2 ? (int)(2 - start_level) : -EINVAL;
	return start_level >= 1 && start_level <= 3 ? (int)(3 - start_level)
						    : -EINVAL;
}

int lpae_sl0_decode(unsigned int gshift, unsigned int sl0)
{
	if (gshift == 12)
		return sl0 <= 2 ? (int)(2 - sl0) : -EINVAL;
	return sl0 <= 2 ? (int)(3 - sl0) : -EINVAL;
}

static bool granule_valid(unsigned int gshift)
{
	return gshift == 12 || gshift == 14 || gshift == 16;
}

/*
 * Input sizes: TxSZ from 16 to 39 (25..48 bits); 52 bits only with the
 * 64K granule (FEAT_LVA for stage 1, 52-bit IPA for stage 2).
 */
bool lpae_ias_valid(unsigned int stage, unsigned int gshift, unsigned int ias)
{
	(void)stage;
	if (!granule_valid(gshift))
		return false;
	if (ias == 52)
		return gshift == 16;
	return ias >= 25 && ias <= 48;
}

bool lpae_oas_valid(unsigned int gshift, unsigned int oas)
{
	if (!granule_valid(gshift) || lpae_ps_encode(oas) < 0)
		return false;
	return oas != 52 || gshift == 16;
}

/*
 * Stage 1 has no concatenation: the walk starts at the level whose table
 * resolves the top 1..stride bits of the input address.
 */
int lpae_s1_start_level(unsigned int gshift, unsigned int ias)
{
	unsigned int stride = gshift - 3;
	unsigned int levels = (ias - gshift + stride - 1) / stride;

	if (!granule_valid(gshift) || ias <= gshift || levels > 4)
		return -EINVAL;
	return (int)(4 - levels);
}

/*
 * Stage 2 may start at a level that resolves up to 4 more bits than a
 * table holds, by concatenating up to 16 tables; it must resolve at least
 * one bit.  Some start levels also need a large enough output size, and
 * level 0 exists only for 4K (level 3 with 4K needs FEAT_TTST).
 */
bool lpae_s2_start_valid(unsigned int gshift, unsigned int ias,
			 unsigned int oas, unsigned int level)
{
	unsigned int stride = gshift - 3;
	int bits;

	if (!granule_valid(gshift) || level > 3)
		return false;
	bits = (int)ias - (int)(gshift + (3 - level) * stride);
	if (bits < 1 || bits > (int)stride + 4)
		return false;
	switch (gshift) {
	case 12:
		return level != 3 && (level != 0 || oas > 42);
	case 14:
		return level != 0 && (level != 1 || oas > 40);
	default:
		return level != 0 && (level != 1 || oas > 42);
	}
}

/* The fewest levels: the deepest valid start level (KVM's choice). */
int lpae_s2_start_auto(unsigned int gshift, unsigned int ias, unsigned int oas)
{
	for (int level = 3; level >= 0; level--)
		if (lpae_s2_start_valid(gshift, ias, oas, (unsigned int)level))
			return level;
	return -EINVAL;
}

int lpae_fmt_init(struct lpae_fmt *f, unsigned int stage, unsigned int gshift,
		  unsigned int ias, unsigned int oas, int start_level)
{
	int level;

	if ((stage != 1 && stage != 2) || !lpae_ias_valid(stage, gshift, ias) ||
	    !lpae_oas_valid(gshift, oas))
		return -EINVAL;
	if (stage == 1) {
		if (start_level >= 0)
			return -EINVAL;
		level = lpae_s1_start_level(gshift, ias);
	} else {
		/* An IPA wider than the PA is CONSTRAINED UNPREDICTABLE. */
		if (ias > oas)
			return -EINVAL;
		if (start_level < 0)
			level = lpae_s2_start_auto(gshift, ias, oas);
		else if (lpae_s2_start_valid(gshift, ias, oas,
					     (unsigned int)start_level))
			level = start_level;
		else
			level = -EINVAL;
	}
	if (level < 0)
		return -EINVAL;
	f->stage = stage;
	f->gshift = gshift;
	f->stride = gshift - 3;
	f->ias = ias;
	f->oas = oas;
	f->start_level = (unsigned int)level;
	f->start_bits = ias - lpae_level_shift(f, (unsigned int)level);
	return 0;
}

uint64_t lpae_pgsize_bitmap(unsigned int gshift, unsigned int oas)
{
	unsigned int stride = gshift - 3;
	uint64_t bm = 1ull << gshift;

	for (unsigned int level = 1; level <= 2; level++)
		if (lpae_block_allowed(gshift, oas, level))
			bm |= 1ull << (gshift + (3 - level) * stride);
	return bm;
}
