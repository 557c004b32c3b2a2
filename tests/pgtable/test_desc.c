// SPDX-License-Identifier: MIT
/*
 * Conformance of descriptor bits with the architecture (VMSAv8-64 block,
 * page and table descriptors) and with the attribute choices of the
 * kernel's io-pgtable-arm.  Expected values are assembled by hand:
 *
 *   [1:0]  0b11 table (levels 0-2) or page (level 3), 0b01 block
 *   stage 1: [4:2] AttrIndx (MAIR 0x..f404ff44: 0 Normal NC, 1 Normal WB,
 *            2 Device-nGnRE), [6] AP[1] EL0 access, [7] AP[2] read-only,
 *            [11] nG, [53] PXN, [54] UXN
 *   stage 2: [5:2] MemAttr (0x5 Normal NC, 0xf Normal WB, 0x1 Device-nGnRE),
 *            [6] S2AP read, [7] S2AP write, [54] XN[1]
 *   both:    [9:8] SH (0b10 outer, 0b11 inner), [10] AF, [51] DBM,
 *            [47:12] output address; with 64K, OA[51:48] in [15:12]
 */
#include <errno.h>
#include <string.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

#define R  SIO_PROT_READ
#define W  SIO_PROT_WRITE
#define RW (R | W)

#define T_PAGE	0x3ull
#define T_BLOCK 0x1ull
#define AF	(1ull << 10)
#define NG	(1ull << 11)
#define SH_OS	(2ull << 8)
#define SH_IS	(3ull << 8)
#define AP_EL0	(1ull << 6)
#define AP_RO	(1ull << 7)
#define IDX(n)	((uint64_t)(n) << 2)
#define PXN	(1ull << 53)
#define UXN	(1ull << 54)
#define DBM	(1ull << 51)
#define MEM(n)	((uint64_t)(n) << 2)
#define S2R	(1ull << 6)
#define S2W	(1ull << 7)
#define XN1	(1ull << 54)

/* The suite's bus, from the group fixture. */
#define BUS(state) (((struct sio_test_fx *)*(state))->bus)

static struct sio_pgtable *make(struct sio_mem_bus *bus, unsigned int stage,
				unsigned int granule, unsigned int ias,
				unsigned int oas, unsigned int flags)
{
	return sio_test_pgtable(bus, stage, granule, ias, oas, SIO_PGT_TTB0,
				flags);
}

/* Map one leaf of @size and return its descriptor as the bus shows it. */
static uint64_t leaf_desc(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
			  uint64_t size, unsigned int prot, unsigned int level)
{
	struct sio_pgtable_walk w;

	assert_int_equal(sio_pgtable_map_pages(pt, iova, pa, size, 1, prot), 0);
	assert_int_equal(sio_pgtable_walk(pt, iova, &w), 0);
	assert_int_equal(w.step[w.nsteps - 1].level, level);
	return w.step[w.nsteps - 1].desc;
}

struct leaf_case {
	unsigned int prot;
	uint64_t bits;
};

static void test_stage1_4k_page_attributes(void **state)
{
	const struct leaf_case cases[] = {
		{RW, AF | NG | SH_OS | AP_EL0 | IDX(0)},
		{R, AF | NG | SH_OS | AP_EL0 | AP_RO | IDX(0)},
		/* Write-only has no stage-1 encoding: read-write. */
		{W, AF | NG | SH_OS | AP_EL0 | IDX(0)},
		{RW | SIO_PROT_CACHE, AF | NG | SH_IS | AP_EL0 | IDX(1)},
		{RW | SIO_PROT_MMIO, AF | NG | SH_OS | AP_EL0 | IDX(2)},
		{R | SIO_PROT_NOEXEC,
		 AF | NG | SH_OS | AP_EL0 | AP_RO | IDX(0) | PXN | UXN},
		{RW | SIO_PROT_PRIV, AF | NG | SH_OS | IDX(0)},
		{RW | SIO_PROT_GLOBAL, AF | SH_OS | AP_EL0 | IDX(0)},
		{R | SIO_PROT_PRIV | SIO_PROT_CACHE | SIO_PROT_NOEXEC,
		 AF | NG | SH_IS | AP_RO | IDX(1) | PXN | UXN},
	};
	struct sio_pgtable *pt =
		make(BUS(state), SIO_PGT_STAGE1, 4096, 48, 48, 0);

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t iova = (uint64_t)(i + 1) << 12;
		uint64_t pa = 0x123456000ull + iova;

		assert_true(leaf_desc(pt, iova, pa, 4 * KiB, cases[i].prot,
				      3) == (pa | cases[i].bits | T_PAGE));
	}
	/* RW 0xe43, RW cached 0xf47: the values io-pgtable writes. */
	assert_true((AF | NG | SH_OS | AP_EL0 | T_PAGE) == 0xe43);
	assert_true((AF | NG | SH_IS | AP_EL0 | IDX(1) | T_PAGE) == 0xf47);
	sio_pgtable_destroy(pt);
}

static void test_stage2_4k_page_attributes(void **state)
{
	const struct leaf_case cases[] = {
		{RW, AF | SH_OS | S2R | S2W | MEM(0x5)},
		{R, AF | SH_OS | S2R | MEM(0x5)},
		{W, AF | SH_OS | S2W | MEM(0x5)},
		{RW | SIO_PROT_CACHE, AF | SH_IS | S2R | S2W | MEM(0xf)},
		{RW | SIO_PROT_MMIO, AF | SH_OS | S2R | S2W | MEM(0x1)},
		{R | SIO_PROT_NOEXEC, AF | SH_OS | S2R | MEM(0x5) | XN1},
	};
	struct sio_pgtable *pt =
		make(BUS(state), SIO_PGT_STAGE2, 4096, 40, 40, 0);

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t ipa = (uint64_t)(i + 1) << 12;
		uint64_t pa = 0x80000000ull + ipa;

		assert_true(leaf_desc(pt, ipa, pa, 4 * KiB, cases[i].prot, 3) ==
			    (pa | cases[i].bits | T_PAGE));
	}
	/* RW 0x6d7 and RW cached 0x7ff. */
	assert_true((AF | SH_OS | S2R | S2W | MEM(0x5) | T_PAGE) == 0x6d7);
	assert_true((AF | SH_IS | S2R | S2W | MEM(0xf) | T_PAGE) == 0x7ff);
	sio_pgtable_destroy(pt);
}

static void test_blocks_at_every_level(void **state)
{
	struct sio_pgtable *pt;
	const uint64_t s1 = AF | NG | SH_OS | AP_EL0 | IDX(0);
	const uint64_t s2 = AF | SH_OS | S2R | S2W | MEM(0x5);

	/* 4K: 1G at level 1, 2M at level 2. */
	pt = make(BUS(state), SIO_PGT_STAGE1, 4096, 48, 48, 0);
	assert_true(leaf_desc(pt, 1 * GiB, 5 * GiB, 1 * GiB, RW, 1) ==
		    (5 * GiB | s1 | T_BLOCK));
	assert_true(leaf_desc(pt, 4 * GiB + 2 * MiB, 6 * MiB, 2 * MiB, RW, 2) ==
		    (6 * MiB | s1 | T_BLOCK));
	sio_pgtable_destroy(pt);
	/* 16K: 32M at level 2, 16K pages. */
	pt = make(BUS(state), SIO_PGT_STAGE1, 16384, 47, 48, 0);
	assert_true(leaf_desc(pt, 32 * MiB, 96 * MiB, 32 * MiB, RW, 2) ==
		    (96 * MiB | s1 | T_BLOCK));
	assert_true(leaf_desc(pt, 16 * KiB, 48 * KiB, 16 * KiB, RW, 3) ==
		    (48 * KiB | s1 | T_PAGE));
	sio_pgtable_destroy(pt);
	/* 64K: 512M at level 2, and 4T at level 1 with 52-bit PAs. */
	pt = make(BUS(state), SIO_PGT_STAGE2, 65536, 52, 52, 0);
	assert_true(leaf_desc(pt, 512 * MiB, 3 * 512 * MiB, 512 * MiB, RW, 2) ==
		    (3 * 512 * MiB | s2 | T_BLOCK));
	assert_true(leaf_desc(pt, 4 * TiB, 8 * TiB, 4 * TiB, RW, 1) ==
		    (8 * TiB | s2 | T_BLOCK));
	sio_pgtable_destroy(pt);
}

static void test_52bit_output_addresses_with_64k(void **state)
{
	struct sio_pgtable *pt =
		make(BUS(state), SIO_PGT_STAGE2, 65536, 52, 52, 0);
	const uint64_t s2 = AF | SH_OS | S2R | S2W | MEM(0x5);
	struct sio_pgtable_entry e;

	/* PA 0xf_1234_5678_0000: [47:16] in place, [51:48] = 0xf at [15:12]. */
	assert_true(leaf_desc(pt, 0x10000, 0xf123456780000ull, 64 * KiB, RW,
			      3) == (0x123456780000ull | 0xf000 | s2 | T_PAGE));
	assert_int_equal(sio_pgtable_lookup(pt, 0x10042, &e), 0);
	assert_true(e.pa == 0xf123456780042ull);
	/* A 512M block at PA 0x8_0000_2000_0000 (OA[51:48] = 8). */
	assert_true(leaf_desc(pt, 512 * MiB, 0x8000020000000ull, 512 * MiB, RW,
			      2) == (0x20000000ull | 0x8000 | s2 | T_BLOCK));
	sio_pgtable_destroy(pt);
}

static void test_table_descriptors(void **state)
{
	struct sio_pgtable *pt =
		make(BUS(state), SIO_PGT_STAGE1, 4096, 48, 48, 0);
	struct sio_pgtable_walk w;

	assert_int_equal(sio_pgtable_map(pt, 0, 0, 4 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_walk(pt, 0, &w), 0);
	assert_int_equal(w.nsteps, 4);
	/*
	 * The kernel writes table descriptors as the next table's address
	 * with type 0b11 and no attributes (NSTable, APTable, XNTable,
	 * PXNTable all 0, so they restrict nothing).
	 */
	for (unsigned int i = 0; i < 3; i++)
		assert_true(w.step[i].desc == (w.step[i + 1].table | 3));
	sio_pgtable_destroy(pt);
}

static void test_dbm_with_hardware_dirty_tracking(void **state)
{
	struct sio_pgtable *pt;

	pt = make(BUS(state), SIO_PGT_STAGE1, 4096, 48, 48, SIO_PGT_F_HD);
	/* Writable leaves carry DBM (and start writable-dirty). */
	assert_true(leaf_desc(pt, 4 * KiB, 0x9000, 4 * KiB, RW, 3) ==
		    (0x9000 | AF | NG | SH_OS | AP_EL0 | DBM | T_PAGE));
	/* Read-only ones do not: they must never become writable. */
	assert_true(leaf_desc(pt, 8 * KiB, 0x9000, 4 * KiB, R, 3) ==
		    (0x9000 | AF | NG | SH_OS | AP_EL0 | AP_RO | T_PAGE));
	sio_pgtable_destroy(pt);
	pt = make(BUS(state), SIO_PGT_STAGE2, 4096, 40, 40, SIO_PGT_F_HD);
	assert_true(
		leaf_desc(pt, 4 * KiB, 0x9000, 4 * KiB, RW, 3) ==
		(0x9000 | AF | SH_OS | S2R | S2W | MEM(0x5) | DBM | T_PAGE));
	assert_true(leaf_desc(pt, 8 * KiB, 0x9000, 4 * KiB, R, 3) ==
		    (0x9000 | AF | SH_OS | S2R | MEM(0x5) | T_PAGE));
	sio_pgtable_destroy(pt);
}

/* What a leaf grants, decoded from the bit layout above. */
static unsigned int expect_prot(unsigned int stage, bool hd, uint64_t d,
				bool *dirty)
{
	unsigned int prot = 0;
	bool dbm = hd && (d & DBM);

	if (stage == SIO_PGT_STAGE1) {
		uint64_t idx = (d >> 2) & 7;

		prot = R | (!(d & AP_RO) || dbm ? W : 0) |
		       (d & AP_EL0 ? 0 : SIO_PROT_PRIV) |
		       (d & NG ? 0 : SIO_PROT_GLOBAL) |
		       ((d & PXN) && (d & UXN) ? SIO_PROT_NOEXEC : 0) |
		       (idx == 1 ? SIO_PROT_CACHE : 0) |
		       (idx == 2 ? SIO_PROT_MMIO : 0);
		*dirty = dbm && !(d & AP_RO);
	} else {
		uint64_t mem = (d >> 2) & 0xf;

		prot = (d & S2R ? R : 0) | (d & S2W || dbm ? W : 0) |
		       (d & XN1 ? SIO_PROT_NOEXEC : 0) |
		       (mem == 0xf ? SIO_PROT_CACHE : 0) |
		       (mem == 0x1 ? SIO_PROT_MMIO : 0);
		*dirty = dbm && (d & S2W);
	}
	return prot;
}

/*
 * Every combination of the attribute bits of a page descriptor, written
 * straight into the table, reads back through lookup as the bit layout
 * says: permissions, attributes and (with HD) the dirty state, for both
 * stages with and without hardware dirty tracking.
 */
static void test_every_attribute_combination(void **state)
{
	const uint64_t pa = 0x40000000ull;
	/* desc[11:2] and desc[54:51]: what a leaf's meaning depends on */
	const uint64_t lo_bits = 0xffcull & ~AF, hi_bits = 0xfull << 51;

	for (unsigned int c = 0; c < 4; c++) {
		unsigned int stage = c & 1 ? SIO_PGT_STAGE2 : SIO_PGT_STAGE1;
		bool hd = c & 2;
		struct sio_pgtable *pt = make(BUS(state), stage, 4096, 40, 40,
					      hd ? SIO_PGT_F_HD : 0);
		struct sio_pgtable_walk w;
		uint64_t at, n = 0;

		assert_int_equal(sio_pgtable_map(pt, 0x1000, pa, 4 * KiB, R),
				 0);
		assert_int_equal(sio_pgtable_walk(pt, 0x1000, &w), 0);
		at = w.step[w.nsteps - 1].addr;
		/* every subset of the other 13 bits */
		for (uint64_t bits = 0;;
		     bits = ((bits | ~(lo_bits | hi_bits)) + 1) &
			    (lo_bits | hi_bits)) {
			struct sio_pgtable_entry e;
			uint64_t d = pa | T_PAGE | AF | bits;
			bool dirty;
			unsigned int want = expect_prot(stage, hd, d, &dirty);

			assert_int_equal(sio_mem_write64(BUS(state), at, d), 0);
			assert_int_equal(sio_pgtable_lookup(pt, 0x1000, &e), 0);
			if (e.prot != want || e.dirty != dirty)
				fail_msg("stage %u hd %d desc %#llx: prot %#x "
					 "dirty %d, want %#x %d",
					 stage, hd, (unsigned long long)d,
					 e.prot, e.dirty, want, dirty);
			n++;
			if (bits == (lo_bits | hi_bits))
				break;
		}
		assert_true(n == 1u << 13); /* AF is always set */
		sio_pgtable_destroy(pt);
	}
}

static void test_split_copies_attributes(void **state)
{
	struct sio_pgtable *pt =
		make(BUS(state), SIO_PGT_STAGE1, 4096, 48, 48, 0);
	const uint64_t a = AF | NG | SH_IS | AP_RO | IDX(1) | PXN | UXN;
	struct sio_pgtable_walk w;
	uint64_t unmapped;

	assert_int_equal(sio_pgtable_map(pt, 1 * GiB, 3 * GiB, 1 * GiB,
					 R | SIO_PROT_CACHE | SIO_PROT_PRIV |
						 SIO_PROT_NOEXEC),
			 0);
	assert_int_equal(
		sio_pgtable_unmap(pt, 1 * GiB, 4 * KiB, &unmapped, NULL), 0);
	/* 1G -> level-2 blocks of 2M -> level-3 pages, same attributes. */
	assert_int_equal(sio_pgtable_walk(pt, 1 * GiB + 2 * MiB, &w), 0);
	assert_true(w.step[w.nsteps - 1].desc ==
		    ((3 * GiB + 2 * MiB) | a | T_BLOCK));
	assert_int_equal(sio_pgtable_walk(pt, 1 * GiB + 4 * KiB, &w), 0);
	assert_true(w.step[w.nsteps - 1].desc ==
		    ((3 * GiB + 4 * KiB) | a | T_PAGE));
	sio_pgtable_destroy(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage1_4k_page_attributes),
		cmocka_unit_test(test_stage2_4k_page_attributes),
		cmocka_unit_test(test_blocks_at_every_level),
		cmocka_unit_test(test_52bit_output_addresses_with_64k),
		cmocka_unit_test(test_table_descriptors),
		cmocka_unit_test(test_dbm_with_hardware_dirty_tracking),
		cmocka_unit_test(test_every_attribute_combination),
		cmocka_unit_test(test_split_copies_attributes),
	};

	return cmocka_run_group_tests(tests, sio_test_fx_setup,
				      sio_test_fx_teardown);
}
