// SPDX-License-Identifier: MIT
/*
 * Conformance of table geometry with the architecture (Arm ARM, VMSAv8-64
 * translation: TCR/VTCR; SMMUv3 CD and STE fields).  Every expected value
 * here is worked out by hand from these rules, not taken from the code:
 *
 *  - A level resolves (granule shift - 3) bits: 9 (4K), 11 (16K), 13 (64K).
 *    Level n maps 2^(g + (3 - n) * (g - 3)) bytes per entry.
 *  - Stage 1 starts at the level whose table resolves the top 1..stride
 *    input bits: levels = ceil((ias - g) / stride), start = 4 - levels.
 *  - Stage 2 may start where the initial table resolves 1..stride+4 bits
 *    (up to 16 concatenated tables), with VTCR_EL2.SL0 selecting it:
 *      4K:  SL0=0 level 2 (IPA 22..34 bits), 1 level 1 (31..43),
 *           2 level 0 (40..48, only if PA > 42 bits);
 *      16K: SL0=0 level 3 (15..29), 1 level 2 (26..40), 2 level 1
 *           (37..48, only if PA > 40 bits);
 *      64K: SL0=0 level 3 (17..33), 1 level 2 (30..46), 2 level 1
 *           (43..52, only if PA > 42 bits).
 *    The automatic choice is the deepest valid start (fewest levels).
 *  - Blocks (without FEAT_LPA2): 4K at levels 1 (1G) and 2 (2M); 16K at
 *    level 2 (32M); 64K at level 2 (512M) and, with 52-bit PAs, level 1
 *    (4T).
 *  - Encodings: TG0/S2TG 0=4K 1=64K 2=16K; TG1 1=16K 2=4K 3=64K;
 *    IPS/PS 0..6 = 32, 36, 40, 42, 44, 48, 52 bits; TxSZ = 64 - size.
 */
#include <errno.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

static int info_of(struct sio_mem_bus *bus, unsigned int stage,
		   unsigned int granule, unsigned int ias, unsigned int oas,
		   int start, unsigned int region, struct sio_pgtable_info *in)
{
	struct sio_pgtable_cfg cfg = {.stage = stage,
				      .granule = granule,
				      .ias = ias,
				      .oas = oas,
				      .region = region,
				      .start_level = start};
	struct sio_pgtable *pt;
	int rc = sio_pgtable_create(&cfg, bus, &pt);

	if (rc)
		return rc;
	sio_pgtable_get_info(pt, in);
	sio_pgtable_destroy(pt);
	return 0;
}

struct s1_case {
	unsigned int granule, ias, start, bits;
};

static void test_stage1_start_levels(void **state)
{
	const struct s1_case cases[] = {
		/* 4K: 9 bits per level above the 12-bit page offset. */
		{4096, 48, 0, 9}, /* 36 bits: 4 levels */
		{4096, 40, 0, 1}, /* 28: 4 levels, level 0 resolves 1 */
		{4096, 39, 1, 9}, /* 27: 3 levels */
		{4096, 32, 1, 2}, /* 20: 3 levels, level 1 resolves 2 */
		{4096, 31, 1, 1}, /* 19: 3 levels */
		{4096, 30, 2, 9}, /* 18: 2 levels */
		{4096, 25, 2, 4}, /* 13: 2 levels */
		/* 16K: 11 bits per level above 14. */
		{16384, 48, 0, 1},  /* 34: 4 levels, level 0 resolves VA[47] */
		{16384, 47, 1, 11}, /* 33: 3 levels */
		{16384, 37, 1, 1},  /* 23: 3 levels */
		{16384, 36, 2, 11}, /* 22: 2 levels */
		{16384, 25, 3, 11}, /* 11: 1 level */
		/* 64K: 13 bits per level above 16. */
		{65536, 52, 1, 10}, /* 36: 3 levels (FEAT_LVA) */
		{65536, 48, 1, 6},  /* 32: 3 levels */
		{65536, 43, 1, 1},  /* 27: 3 levels */
		{65536, 42, 2, 13}, /* 26: 2 levels */
		{65536, 29, 3, 13}, /* 13: 1 level */
		{65536, 25, 3, 9},  /* 9: 1 level */
	};
	struct sio_pgtable_info in;

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct s1_case *c = &cases[i];
		unsigned int oas = c->granule == 65536 ? 52 : 48;

		print_message("# S1 %u ias %u\n", c->granule, c->ias);
		assert_int_equal(info_of(bus, SIO_PGT_STAGE1, c->granule,
					 c->ias, oas, SIO_PGT_START_AUTO,
					 SIO_PGT_TTB0, &in),
				 0);
		assert_int_equal(in.start_level, c->start);
		assert_int_equal(in.start_bits, c->bits);
		assert_int_equal(in.concat, 1);
		assert_int_equal(in.tsz, 64 - c->ias);
	}
}

struct s2_case {
	unsigned int granule, ias, oas, start, concat, sl0;
};

static void test_stage2_automatic_start_and_concatenation(void **state)
{
	const struct s2_case cases[] = {
		/* 4K.  Level 2 takes IPA 22..34, level 1 31..43, level 0
		 * 40..48 with PA > 42: the deepest that fits wins. */
		{4096, 48, 48, 0, 1, 2},  /* L1 would need 18 bits */
		{4096, 44, 44, 0, 1, 2},  /* L1 would need 14 bits */
		{4096, 43, 44, 1, 16, 1}, /* 13 bits at L1: 16 tables */
		{4096, 42, 42, 1, 8, 1},
		{4096, 40, 40, 1, 2, 1},
		{4096, 35, 40, 1, 1, 1}, /* L2 would need 14 bits */
		{4096, 34, 40, 2, 16, 0},
		{4096, 33, 36, 2, 8, 0},
		{4096, 32, 32, 2, 4, 0},
		{4096, 30, 32, 2, 1, 0},
		{4096, 25, 32, 2, 1, 0}, /* 4 bits: a part-filled table */
		/* 16K.  Level 3 takes 15..29, level 2 26..40, level 1
		 * 37..48 with PA > 40. */
		{16384, 48, 48, 1, 2, 2}, /* 12 bits at L1 */
		{16384, 42, 42, 1, 1, 2}, /* L2 would need 17 bits */
		{16384, 41, 44, 1, 1, 2},
		{16384, 40, 40, 2, 16, 1},
		{16384, 36, 40, 2, 1, 1},
		{16384, 30, 32, 2, 1, 1}, /* L3 would need 16 bits */
		{16384, 29, 32, 3, 16, 0},
		{16384, 25, 32, 3, 1, 0},
		/* 64K.  Level 3 takes 17..33, level 2 30..46, level 1
		 * 43..52 with PA > 42. */
		{65536, 52, 52, 1, 1, 2}, /* 10 bits at L1 */
		{65536, 48, 48, 1, 1, 2}, /* L2 would need 19 bits */
		{65536, 47, 48, 1, 1, 2},
		{65536, 46, 48, 2, 16, 1}, /* 17 bits at L2 */
		{65536, 42, 42, 2, 1, 1},
		{65536, 34, 36, 2, 1, 1}, /* L3 would need 18 bits */
		{65536, 33, 36, 3, 16, 0},
		{65536, 32, 32, 3, 8, 0},
		{65536, 25, 32, 3, 1, 0},
	};
	struct sio_pgtable_info in;

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct s2_case *c = &cases[i];

		print_message("# S2 %u ias %u oas %u\n", c->granule, c->ias,
			      c->oas);
		assert_int_equal(info_of(bus, SIO_PGT_STAGE2, c->granule,
					 c->ias, c->oas, SIO_PGT_START_AUTO,
					 SIO_PGT_TTB0, &in),
				 0);
		assert_int_equal(in.start_level, c->start);
		assert_int_equal(in.concat, c->concat);
		assert_int_equal(in.sl0, c->sl0);
		assert_int_equal(in.tsz, 64 - c->ias);
	}
}

struct s2_forced {
	unsigned int granule, ias, oas;
	int start;
	int rc;
	unsigned int concat;
};

static void test_stage2_explicit_start_levels(void **state)
{
	const struct s2_forced cases[] = {
		{4096, 40, 44, 0, 0, 1},       /* 1 bit at L0, PA > 42 */
		{4096, 40, 42, 0, -EINVAL, 0}, /* L0 needs PA > 42 */
		{4096, 40, 44, 1, 0, 2},
		{4096, 40, 44, 2, -EINVAL, 0},	/* 19 bits at L2 */
		{4096, 30, 32, 3, -EINVAL, 0},	/* 4K L3 needs FEAT_TTST */
		{4096, 34, 40, 1, 0, 1},	/* 4 bits at L1 */
		{4096, 30, 40, 1, -EINVAL, 0},	/* 0 bits at L1 */
		{16384, 40, 42, 1, 0, 1},	/* 4 bits at L1, PA > 40 */
		{16384, 40, 40, 1, -EINVAL, 0}, /* L1 needs PA > 40 */
		{16384, 48, 48, 0, -EINVAL, 0}, /* 16K L0 needs FEAT_LPA2 */
		{16384, 29, 32, 2, 0, 1},	/* 4 bits at L2 */
		{65536, 44, 44, 1, 0, 1},	/* 2 bits at L1, PA > 42 */
		{65536, 44, 42, 1, -EINVAL, 0}, /* L1 needs PA > 42 */
		{65536, 52, 52, 0, -EINVAL, 0}, /* no L0 with 64K */
		{65536, 33, 36, 2, 0, 1},	/* 4 bits at L2 */
		{65536, 34, 36, 3, -EINVAL, 0}, /* 18 bits at L3 */
	};
	struct sio_pgtable_info in;

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct s2_forced *c = &cases[i];

		print_message("# S2 %u ias %u oas %u start %d\n", c->granule,
			      c->ias, c->oas, c->start);
		assert_int_equal(info_of(bus, SIO_PGT_STAGE2, c->granule,
					 c->ias, c->oas, c->start, SIO_PGT_TTB0,
					 &in),
				 c->rc);
		if (!c->rc) {
			assert_int_equal(in.start_level, c->start);
			assert_int_equal(in.concat, c->concat);
		}
	}
}

static void test_field_encodings(void **state)
{
	const unsigned int sizes[] = {32, 36, 40, 42, 44, 48, 52};
	struct sio_pgtable_info in;

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	for (unsigned int ps = 0; ps < 7; ps++) {
		assert_int_equal(info_of(bus, SIO_PGT_STAGE2, 65536, 32,
					 sizes[ps], SIO_PGT_START_AUTO,
					 SIO_PGT_TTB0, &in),
				 0);
		assert_int_equal(in.ps, ps);
	}
	/* TG0 / TG1 / S2TG. */
	assert_int_equal(info_of(bus, 1, 4096, 48, 48, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 0);
	assert_true(in.mair == 0xf404ff44ull);
	assert_int_equal(info_of(bus, 1, 65536, 48, 48, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 1);
	assert_int_equal(info_of(bus, 1, 16384, 48, 48, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 2);
	assert_int_equal(info_of(bus, 1, 16384, 48, 48, -1, SIO_PGT_TTB1, &in),
			 0);
	assert_int_equal(in.tg, 1);
	assert_int_equal(info_of(bus, 1, 4096, 48, 48, -1, SIO_PGT_TTB1, &in),
			 0);
	assert_int_equal(in.tg, 2);
	assert_int_equal(info_of(bus, 1, 65536, 48, 48, -1, SIO_PGT_TTB1, &in),
			 0);
	assert_int_equal(in.tg, 3);
	assert_int_equal(info_of(bus, 2, 4096, 40, 40, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 0);
	assert_int_equal(info_of(bus, 2, 65536, 40, 40, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 1);
	assert_int_equal(info_of(bus, 2, 16384, 40, 40, -1, SIO_PGT_TTB0, &in),
			 0);
	assert_int_equal(in.tg, 2);
}

static void test_page_and_block_sizes(void **state)
{
	struct sio_pgtable_info in;

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	assert_int_equal(info_of(bus, 1, 4096, 48, 48, -1, 0, &in), 0);
	assert_true(in.pgsize_bitmap == (4 * KiB | 2 * MiB | 1 * GiB));
	assert_int_equal(info_of(bus, 1, 16384, 48, 48, -1, 0, &in), 0);
	assert_true(in.pgsize_bitmap == (16 * KiB | 32 * MiB));
	assert_int_equal(info_of(bus, 1, 65536, 48, 48, -1, 0, &in), 0);
	assert_true(in.pgsize_bitmap == (64 * KiB | 512 * MiB));
	assert_int_equal(info_of(bus, 1, 65536, 52, 52, -1, 0, &in), 0);
	assert_true(in.pgsize_bitmap == (64 * KiB | 512 * MiB | 4 * TiB));
	/* A table starting below a block level cannot use it. */
	assert_int_equal(info_of(bus, 1, 4096, 30, 48, -1, 0, &in), 0);
	assert_true(in.pgsize_bitmap == (4 * KiB | 2 * MiB));
}

static void test_map_pages_honours_block_levels(void **state)
{
	struct {
		unsigned int granule, oas;
		uint64_t size;
		int rc;
	} cases[] = {
		{4096, 48, 4 * KiB, 0},
		{4096, 48, 2 * MiB, 0},
		{4096, 48, 1 * GiB, 0},
		{4096, 48, 512 * GiB, -EINVAL}, /* L0 block: FEAT_LPA2 */
		{16384, 48, 16 * KiB, 0},
		{16384, 48, 32 * MiB, 0},
		{16384, 48, 64 * GiB, -EINVAL}, /* L1 block: FEAT_LPA2 */
		{65536, 48, 64 * KiB, 0},
		{65536, 48, 512 * MiB, 0},
		{65536, 48, 4 * TiB, -EINVAL}, /* L1 block: 52-bit PA only */
		{65536, 52, 4 * TiB, 0},
	};

	struct sio_mem_bus *bus = ((struct sio_test_fx *)*state)->bus;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sio_pgtable_cfg cfg = {.stage = SIO_PGT_STAGE1,
					      .granule = cases[i].granule,
					      .ias = 48,
					      .oas = cases[i].oas,
					      .start_level =
						      SIO_PGT_START_AUTO};
		struct sio_pgtable *pt;
		struct sio_pgtable_entry e;

		assert_int_equal(sio_pgtable_create(&cfg, bus, &pt), 0);
		assert_int_equal(
			sio_pgtable_map_pages(pt, cases[i].size, cases[i].size,
					      cases[i].size, 1, SIO_PROT_READ),
			cases[i].rc);
		if (!cases[i].rc) {
			assert_int_equal(
				sio_pgtable_lookup(pt, cases[i].size, &e), 0);
			assert_true(e.size == cases[i].size);
		}
		sio_pgtable_destroy(pt);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage1_start_levels),
		cmocka_unit_test(test_stage2_automatic_start_and_concatenation),
		cmocka_unit_test(test_stage2_explicit_start_levels),
		cmocka_unit_test(test_field_encodings),
		cmocka_unit_test(test_page_and_block_sizes),
		cmocka_unit_test(test_map_pages_honours_block_levels),
	};

	return cmocka_run_group_tests(tests, sio_test_fx_setup,
				      sio_test_fx_teardown);
}
