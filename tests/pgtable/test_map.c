// SPDX-License-Identifier: MIT
/*
 * Map, unmap and lookup: block choice, argument checking, refusal to
 * overwrite, splitting, freeing of empty tables, the TTB1 region, and the
 * unmap gather.  Expected leaf sizes and levels follow from the
 * architecture's geometry (4K granule: level 1 = 1G, level 2 = 2M).
 */
#include <errno.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static struct sio_pgtable *make(struct sio_test_fx *f, unsigned int stage,
				unsigned int granule, unsigned int ias,
				unsigned int oas, unsigned int region)
{
	return sio_test_fx_table(f, stage, granule, ias, oas, region, 0);
}

/* Most tests start from a stage-1, 4K, 48-bit table. */
static int setup(void **state)
{
	sio_test_fx_setup(state);
	make(*state, SIO_PGT_STAGE1, 4096, 48, 48, SIO_PGT_TTB0);
	return 0;
}

static void expect_leaf(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
			uint64_t size, unsigned int level)
{
	struct sio_pgtable_entry e;

	assert_int_equal(sio_pgtable_lookup(pt, iova, &e), 0);
	assert_true(e.pa == pa);
	assert_true(e.size == size);
	assert_int_equal(e.level, level);
	assert_true(e.iova_base == (iova & ~(size - 1)));
}

static void expect_hole(struct sio_pgtable *pt, uint64_t iova)
{
	struct sio_pgtable_entry e;

	assert_int_equal(sio_pgtable_lookup(pt, iova, &e), -ENOENT);
}

static void stats(struct sio_pgtable *pt, uint64_t tables, uint64_t leaves)
{
	struct sio_pgtable_stats st;

	sio_pgtable_get_stats(pt, &st);
	assert_int_equal(st.tables, tables);
	assert_int_equal(st.leaves, leaves);
}

static void test_largest_blocks_alignment_allows(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;

	/* 1G-aligned both sides, 1G + 2M + 4K long: one of each size. */
	assert_int_equal(sio_pgtable_map(pt, 1 * GiB, 4 * GiB,
					 1 * GiB + 2 * MiB + 4 * KiB, RW),
			 0);
	expect_leaf(pt, 1 * GiB, 4 * GiB, 1 * GiB, 1);
	expect_leaf(pt, 2 * GiB - 1, 5 * GiB - 1, 1 * GiB, 1);
	expect_leaf(pt, 2 * GiB, 5 * GiB, 2 * MiB, 2);
	expect_leaf(pt, 2 * GiB + 2 * MiB + 0x123, 5 * GiB + 2 * MiB + 0x123,
		    4 * KiB, 3);
	expect_hole(pt, 2 * GiB + 2 * MiB + 4 * KiB);
	expect_hole(pt, 1 * GiB - 1);
	/* Root + L1 + L2 + L3 tables; 3 leaves. */
	stats(pt, 4, 3);

	/* Output misaligned to 2M by 4K: pages only, despite iova. */
	assert_int_equal(sio_pgtable_map(pt, 8 * GiB, 16 * GiB + 4 * KiB,
					 4 * MiB, RW),
			 0);
	expect_leaf(pt, 8 * GiB + 3 * MiB, 16 * GiB + 3 * MiB + 4 * KiB,
		    4 * KiB, 3);
	/* Starts 4K before a 2M boundary: page, then blocks, then pages. */
	assert_int_equal(sio_pgtable_map(pt, 10 * GiB - 4 * KiB,
					 32 * GiB - 4 * KiB,
					 4 * KiB + 4 * MiB + 8 * KiB, RW),
			 0);
	expect_leaf(pt, 10 * GiB - 4 * KiB, 32 * GiB - 4 * KiB, 4 * KiB, 3);
	expect_leaf(pt, 10 * GiB, 32 * GiB, 2 * MiB, 2);
	expect_leaf(pt, 10 * GiB + 2 * MiB, 32 * GiB + 2 * MiB, 2 * MiB, 2);
	expect_leaf(pt, 10 * GiB + 4 * MiB + 4 * KiB,
		    32 * GiB + 4 * MiB + 4 * KiB, 4 * KiB, 3);
}

static void test_map_pages_uses_the_size_given(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;

	/* 4M of 4K pages even though 2M blocks would fit. */
	assert_int_equal(sio_pgtable_map_pages(pt, 0, 0, 4 * KiB, 1024, RW), 0);
	expect_leaf(pt, 2 * MiB, 2 * MiB, 4 * KiB, 3);
	stats(pt, 5, 1024); /* root, L1, L2, two L3 */
	assert_int_equal(
		sio_pgtable_map_pages(pt, 1 * GiB, 1 * GiB, 2 * MiB, 3, RW), 0);
	expect_leaf(pt, 1 * GiB + 5 * MiB, 1 * GiB + 5 * MiB, 2 * MiB, 2);
	/* Not a page or block size; misaligned to the size; zero count. */
	assert_int_equal(sio_pgtable_map_pages(pt, 4 * GiB, 0, 8 * KiB, 1, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map_pages(pt, 4 * GiB, 0, 64 * KiB, 1, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map_pages(pt, 4 * GiB + 4 * KiB, 0,
					       2 * MiB, 1, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map_pages(pt, 4 * GiB, 0, 4 * KiB, 0, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map_pages(pt, 4 * GiB, 0, 1 * GiB,
					       ~0ull >> 20, RW),
			 -ERANGE);
}

static void test_bad_arguments(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;
	struct sio_pgtable_entry e;

	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 0, RW), -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1800, 0x1000, 4096, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1004, 4096, RW),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4097, RW),
			 -EINVAL);
	/* prot: none, unknown bits, cache and device at once. */
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096, 0), -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096,
					 SIO_PROT_NOEXEC),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096, RW | 0x80),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096,
					 RW | SIO_PROT_CACHE | SIO_PROT_MMIO),
			 -EINVAL);
	/* Input beyond 48 bits, a range wrapping 2^64, output beyond OAS. */
	assert_int_equal(sio_pgtable_map(pt, 1ull << 48, 0, 4096, RW), -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, (1ull << 48) - 4096, 0, 8192, RW),
			 -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, ~0ull - 4095, 0, 8192, RW),
			 -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, 0, (1ull << 48) - 4096, 8192, RW),
			 -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, 0, ~0ull - 4095, 8192, RW),
			 -ERANGE);
	/* The last page of the input range is fine. */
	assert_int_equal(sio_pgtable_map(pt, (1ull << 48) - 4096,
					 (1ull << 48) - 4096, 4096, RW),
			 0);
	expect_leaf(pt, (1ull << 48) - 1, (1ull << 48) - 1, 4096, 3);
	assert_int_equal(sio_pgtable_lookup(pt, 1ull << 48, &e), -ERANGE);
	/* Unmap checks too. */
	assert_int_equal(sio_pgtable_unmap(pt, 0, 0, NULL, NULL), -EINVAL);
	assert_int_equal(sio_pgtable_unmap(pt, 0x800, 4096, NULL, NULL),
			 -EINVAL);
	assert_int_equal(sio_pgtable_unmap(pt, 1ull << 48, 4096, NULL, NULL),
			 -ERANGE);
	stats(pt, 4, 1);
}

static void test_never_overwrites_a_live_mapping(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;
	struct sio_pgtable_stats before, after;

	assert_int_equal(sio_pgtable_map(pt, 2 * MiB, 2 * MiB, 2 * MiB, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 8 * MiB + 4 * KiB, 0, 4 * KiB, RW),
			 0);
	sio_pgtable_get_stats(pt, &before);
	/* A page inside the block. */
	assert_int_equal(sio_pgtable_map(pt, 3 * MiB, 0, 4 * KiB, RW), -EEXIST);
	/* A block over a table holding a page. */
	assert_int_equal(sio_pgtable_map(pt, 8 * MiB, 8 * MiB, 2 * MiB, RW),
			 -EEXIST);
	/* A long range whose tail hits the block: all or nothing. */
	assert_int_equal(sio_pgtable_map(pt, 0, 64 * MiB, 3 * MiB, RW),
			 -EEXIST);
	expect_hole(pt, 0);
	expect_hole(pt, 2 * MiB - 4 * KiB);
	/* A range whose tail hits the page, after filling many entries. */
	assert_int_equal(sio_pgtable_map(pt, 4 * MiB, 64 * MiB,
					 4 * MiB + 8 * KiB, RW),
			 -EEXIST);
	expect_hole(pt, 4 * MiB);
	expect_hole(pt, 8 * MiB);
	sio_pgtable_get_stats(pt, &after);
	assert_int_equal(before.tables, after.tables);
	assert_int_equal(before.leaves, after.leaves);
	expect_leaf(pt, 2 * MiB, 2 * MiB, 2 * MiB, 2);
	expect_leaf(pt, 8 * MiB + 4 * KiB, 0, 4 * KiB, 3);
}

static void test_unmap_splits_blocks_and_frees_tables(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;
	uint64_t unmapped;

	assert_int_equal(sio_pgtable_map(pt, 1 * GiB, 1 * GiB, 1 * GiB, RW), 0);
	stats(pt, 2, 1);
	/* One page out of the 1G block: 1G -> 511 2M + 511 4K. */
	assert_int_equal(sio_pgtable_unmap(pt, 1 * GiB + 6 * MiB + 8 * KiB,
					   4 * KiB, &unmapped, NULL),
			 0);
	assert_true(unmapped == 4 * KiB);
	stats(pt, 4, 511 + 511);
	expect_hole(pt, 1 * GiB + 6 * MiB + 8 * KiB);
	expect_leaf(pt, 1 * GiB + 6 * MiB + 4 * KiB,
		    1 * GiB + 6 * MiB + 4 * KiB, 4 * KiB, 3);
	expect_leaf(pt, 1 * GiB + 6 * MiB + 12 * KiB,
		    1 * GiB + 6 * MiB + 12 * KiB, 4 * KiB, 3);
	expect_leaf(pt, 1 * GiB + 4 * MiB, 1 * GiB + 4 * MiB, 2 * MiB, 2);
	expect_leaf(pt, 2 * GiB - 1, 2 * GiB - 1, 2 * MiB, 2);

	/* A range cutting a 2M block at both ends. */
	assert_int_equal(sio_pgtable_unmap(pt, 1 * GiB + 12 * KiB,
					   2 * MiB + 8 * KiB, &unmapped, NULL),
			 0);
	assert_true(unmapped == 2 * MiB + 8 * KiB);
	expect_leaf(pt, 1 * GiB + 8 * KiB, 1 * GiB + 8 * KiB, 4 * KiB, 3);
	expect_hole(pt, 1 * GiB + 12 * KiB);
	expect_hole(pt, 1 * GiB + 2 * MiB + 16 * KiB);
	expect_leaf(pt, 1 * GiB + 2 * MiB + 20 * KiB,
		    1 * GiB + 2 * MiB + 20 * KiB, 4 * KiB, 3);

	/* Everything, holes included: tables go, the root stays. */
	assert_int_equal(sio_pgtable_unmap(pt, 0, 1ull << 48, &unmapped, NULL),
			 0);
	assert_true(unmapped == 1 * GiB - 4 * KiB - (2 * MiB + 8 * KiB));
	stats(pt, 1, 0);
	assert_int_equal(sio_pgtable_unmap(pt, 0, 1ull << 48, &unmapped, NULL),
			 0);
	assert_true(unmapped == 0);
}

static void test_unmap_reports_the_gather(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt = f->pt;
	struct sio_pgtable_gather g = SIO_PGTABLE_GATHER_INIT;
	struct sio_mem_pool_stats st0, st1;
	uint64_t unmapped;

	assert_int_equal(sio_pgtable_map(pt, 4 * MiB, 4 * MiB,
					 2 * MiB + 4 * KiB, RW),
			 0);
	sio_mem_pool_get_stats(sio_pgtable_pool(pt), &st0);
	/* Remove the trailing page: its table empties. */
	assert_int_equal(sio_pgtable_unmap(pt, 6 * MiB, 4 * KiB, &unmapped, &g),
			 0);
	assert_true(g.valid);
	assert_true(g.start == 6 * MiB);
	assert_true(g.last == 8 * MiB - 1); /* the freed table's whole span */
	assert_true(g.min_leaf == 4 * KiB);
	assert_true(g.tables_freed);
	/* Freed tables wait for the invalidation. */
	sio_mem_pool_get_stats(sio_pgtable_pool(pt), &st1);
	assert_true(st1.in_use == st0.in_use);
	stats(pt, 3, 1);
	assert_int_equal(sio_pgtable_unmap(pt, 4 * MiB, 2 * MiB, &unmapped, &g),
			 0);
	/*
	 * The block's removal empties the level-2 table, whose removal
	 * empties the level-1 table: walk caches for the whole 512G span of
	 * the level-0 entry must go.
	 */
	assert_true(g.start == 0);
	assert_true(g.last == 512 * GiB - 1);
	assert_true(g.min_leaf == 4 * KiB);
	stats(pt, 1, 0);
	sio_pgtable_gather_finish(pt, &g);
	assert_false(g.valid);
	assert_null(g.freed);
	sio_mem_pool_get_stats(sio_pgtable_pool(pt), &st1);
	assert_true(st1.in_use == 4 * KiB); /* the root alone */

	/* A leaf-only unmap frees no table. */
	assert_int_equal(sio_pgtable_map(pt, 0, 0, 8 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_unmap(pt, 0, 4 * KiB, &unmapped, &g), 0);
	assert_false(g.tables_freed);
	assert_true(g.start == 0 && g.last == 4 * KiB - 1);
	sio_pgtable_gather_finish(pt, &g);
}

static void test_ttb1_region(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt;
	struct sio_pgtable_info in;
	const uint64_t top = 0ull - 4 * KiB; /* the last page of 2^64 */

	pt = make(f, SIO_PGT_STAGE1, 4096, 39, 48, SIO_PGT_TTB1);
	sio_pgtable_get_info(pt, &in);
	assert_true(in.input_base == 0xffffff8000000000ull);
	assert_true(in.input_last == ~0ull);
	assert_int_equal(in.tg, 2); /* TG1 encodes 4K as 0b10 */
	assert_int_equal(in.tsz, 25);
	assert_int_equal(in.start_level, 1);

	assert_int_equal(sio_pgtable_map(pt, top, 0x80000000, 4 * KiB, RW), 0);
	expect_leaf(pt, ~0ull, 0x80000fff, 4 * KiB, 3);
	assert_int_equal(sio_pgtable_map(pt, in.input_base, 0, 1 * GiB, RW), 0);
	expect_leaf(pt, in.input_base + 5, 5, 1 * GiB, 1);
	/* Below the region, and a range running off the end. */
	assert_int_equal(sio_pgtable_map(pt, in.input_base - 4 * KiB, 0,
					 4 * KiB, RW),
			 -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, 0, 0, 4 * KiB, RW), -ERANGE);
	assert_int_equal(sio_pgtable_map(pt, top, 0, 8 * KiB, RW), -ERANGE);
	/* Unmapping up to the very last byte. */
	uint64_t unmapped;

	assert_int_equal(sio_pgtable_unmap(pt, in.input_base, 1ull << 39,
					   &unmapped, NULL),
			 0);
	assert_true(unmapped == 1 * GiB + 4 * KiB);
	stats(pt, 1, 0);
}

static void test_prot_round_trips(void **state)
{
	struct sio_test_fx *f = *state;
	const unsigned int s1[] = {
		SIO_PROT_READ,
		RW,
		RW | SIO_PROT_CACHE,
		SIO_PROT_READ | SIO_PROT_MMIO | SIO_PROT_NOEXEC,
		RW | SIO_PROT_PRIV | SIO_PROT_GLOBAL,
	};
	const unsigned int s2[] = {
		SIO_PROT_READ,
		SIO_PROT_WRITE,
		RW | SIO_PROT_CACHE | SIO_PROT_NOEXEC,
		RW | SIO_PROT_MMIO,
	};
	struct sio_pgtable_entry e;
	struct sio_pgtable *pt = f->pt;

	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(
			sio_pgtable_map(pt, i * 4 * KiB, 0, 4 * KiB, s1[i]), 0);
		assert_int_equal(sio_pgtable_lookup(pt, i * 4 * KiB, &e), 0);
		assert_int_equal(e.prot, s1[i]);
	}
	/* Write-only has no stage-1 encoding: it maps read-write. */
	assert_int_equal(
		sio_pgtable_map(pt, 1 * MiB, 0, 4 * KiB, SIO_PROT_WRITE), 0);
	assert_int_equal(sio_pgtable_lookup(pt, 1 * MiB, &e), 0);
	assert_int_equal(e.prot, RW);

	pt = make(f, SIO_PGT_STAGE2, 4096, 40, 40, SIO_PGT_TTB0);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(
			sio_pgtable_map(pt, i * 4 * KiB, 0, 4 * KiB, s2[i]), 0);
		assert_int_equal(sio_pgtable_lookup(pt, i * 4 * KiB, &e), 0);
		assert_int_equal(e.prot, s2[i]);
	}
	/* Privilege and global do not exist at stage 2. */
	assert_int_equal(sio_pgtable_map(pt, 1 * MiB, 0, 4 * KiB,
					 RW | SIO_PROT_PRIV),
			 -EINVAL);
	assert_int_equal(sio_pgtable_map(pt, 1 * MiB, 0, 4 * KiB,
					 RW | SIO_PROT_GLOBAL),
			 -EINVAL);
}

static void test_create_rejects_bad_configs(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt;
	struct {
		unsigned int stage, granule, ias, oas, region;
		int start, flags;
	} bad[] = {
		{0, 4096, 48, 48, 0, -1, 0}, /* stage */
		{3, 4096, 48, 48, 0, -1, 0},
		{1, 8192, 48, 48, 0, -1, 0}, /* granule */
		{1, 4096, 49, 48, 0, -1, 0}, /* ias */
		{1, 4096, 24, 48, 0, -1, 0},
		{1, 4096, 52, 48, 0, -1, 0}, /* 52-bit VA needs 64K */
		{1, 4096, 48, 46, 0, -1, 0}, /* not a PA size */
		{1, 4096, 48, 52, 0, -1, 0}, /* 52-bit PA needs 64K */
		{1, 4096, 48, 48, 2, -1, 0}, /* region */
		{1, 4096, 48, 48, 0, 1, 0},  /* S1 start is implied */
		{1, 4096, 48, 48, 0, -1, 2}, /* flags */
		{2, 4096, 40, 40, 1, -1, 0}, /* no TTB1 at stage 2 */
		{2, 4096, 44, 40, 0, -1, 0}, /* IPA wider than PA */
		{2, 4096, 40, 40, 0, 3, 0},  /* 4K level 3: FEAT_TTST */
		{2, 4096, 40, 40, 0, 2, 0},  /* 19 bits at level 2 */
		{2, 4096, 40, 40, 0, 0, 0},  /* level 0 needs PA > 42 */
		{2, 65536, 40, 40, 0, 1, 0}, /* 64K level 1 */
		{2, 4096, 40, 40, 0, -2, 0},
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sio_pgtable_cfg cfg = {
			.stage = bad[i].stage,
			.granule = bad[i].granule,
			.ias = bad[i].ias,
			.oas = bad[i].oas,
			.region = bad[i].region,
			.start_level = bad[i].start,
			.flags = (unsigned int)bad[i].flags};

		pt = (void *)1;
		assert_int_equal(sio_pgtable_create(&cfg, f->bus, &pt),
				 -EINVAL);
		assert_ptr_equal(pt, (void *)1);
	}
}

static void test_lookup_is_exact_at_every_level(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable *pt;

	/* 64K granule, 52-bit: pages, 512M blocks and a 4T block. */
	pt = make(f, SIO_PGT_STAGE2, 65536, 52, 52, SIO_PGT_TTB0);
	assert_int_equal(
		sio_pgtable_map(pt, 4 * TiB, (1ull << 51), 4 * TiB, RW), 0);
	expect_leaf(pt, 5 * TiB + 0x1234, (1ull << 51) + 1 * TiB + 0x1234,
		    4 * TiB, 1);
	assert_int_equal(sio_pgtable_map(pt, 512 * MiB, 3 * TiB + 512 * MiB,
					 512 * MiB + 64 * KiB, RW),
			 0);
	expect_leaf(pt, 512 * MiB + 1, 3 * TiB + 512 * MiB + 1, 512 * MiB, 2);
	expect_leaf(pt, 1 * GiB + 65535, 3 * TiB + 1 * GiB + 65535, 64 * KiB,
		    3);
	/* Output addresses above 2^48 survive the 52-bit encoding. */
	assert_int_equal(sio_pgtable_map(pt, 0, (0xfull << 48) | 0x10000,
					 64 * KiB, RW),
			 0);
	expect_leaf(pt, 0x42, (0xfull << 48) | 0x10042, 64 * KiB, 3);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, sio_test_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_largest_blocks_alignment_allows),
		T(test_map_pages_uses_the_size_given),
		T(test_bad_arguments),
		T(test_never_overwrites_a_live_mapping),
		T(test_unmap_splits_blocks_and_frees_tables),
		T(test_unmap_reports_the_gather),
		T(test_ttb1_region),
		T(test_prot_round_trips),
		T(test_create_rejects_bad_configs),
		T(test_lookup_is_exact_at_every_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
