// SPDX-License-Identifier: MIT
/*
 * Hardware dirty state.  With DBM set, a stage-1 leaf is writable-clean
 * while AP[2] = 1 and dirty once hardware clears AP[2]; a stage-2 leaf is
 * writable-clean while S2AP[1] = 0 and dirty once hardware sets it.
 * Hardware updates are simulated here as the SMMU makes them: an atomic
 * compare-and-swap through the bus.
 */
#include <errno.h>
#include <string.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

#define RW     (SIO_PROT_READ | SIO_PROT_WRITE)
#define DBM    (1ull << 51)
#define AP2    (1ull << 7) /* stage 1 read-only */
#define S2AP_W (1ull << 7) /* stage 2 write */

static struct sio_pgtable *make(struct sio_test_fx *f, unsigned int stage,
				unsigned int flags)
{
	return sio_test_fx_table(f, stage, 4096, 40, 44, SIO_PGT_TTB0, flags);
}

static uint64_t desc_at(struct sio_pgtable *pt, uint64_t iova, uint64_t *addr)
{
	struct sio_pgtable_walk w;

	assert_int_equal(sio_pgtable_walk(pt, iova, &w), 0);
	*addr = w.step[w.nsteps - 1].addr;
	return w.step[w.nsteps - 1].desc;
}

/* What HTTU does on a write to a writable-clean leaf. */
static void hw_write(struct sio_test_fx *f, uint64_t iova, unsigned int stage)
{
	uint64_t addr, old = desc_at(f->pt, iova, &addr), upd;

	assert_true(old & DBM);
	upd = stage == SIO_PGT_STAGE1 ? old & ~AP2 : old | S2AP_W;
	assert_int_equal(sio_mem_cmpxchg64(f->bus, addr, &old, upd), 0);
}

static int read_dirty(struct sio_pgtable *pt, uint64_t iova, uint64_t len,
		      uint64_t pgsize, uint64_t *bits, unsigned int flags)
{
	struct sio_dirty_bitmap bm = {iova, len, pgsize, bits};

	return sio_pgtable_read_and_clear_dirty(pt, &bm, flags);
}

static void test_needs_hd(void **state)
{
	struct sio_test_fx *f = *state;
	uint64_t bits[1] = {0};

	make(f, SIO_PGT_STAGE1, 0);
	assert_int_equal(sio_pgtable_map(f->pt, 0, 0, 4 * KiB, RW), 0);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 4 * KiB, bits, 0),
			 -EOPNOTSUPP);
}

static void test_stage1_encoding_and_cycle(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_entry e;
	uint64_t bits[1] = {0}, addr;

	make(f, SIO_PGT_STAGE1, SIO_PGT_F_HD);
	assert_int_equal(
		sio_pgtable_map(f->pt, 0x10000, 0x80000000, 8 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_map(f->pt, 0x20000, 0x90000000, 4 * KiB,
					 SIO_PROT_READ),
			 0);
	/*
	 * Writable leaves start writable-dirty, as the kernel maps them:
	 * AF | nG | SH=OSH | AP[1] | DBM | page, AttrIndx 0.
	 */
	assert_true(desc_at(f->pt, 0x10000, &addr) ==
		    (0x80000000ull | DBM | 0xe43));
	/* Read-only leaves carry no DBM: they can never become dirty. */
	assert_true(desc_at(f->pt, 0x20000, &addr) == (0x90000000ull | 0xec3));
	assert_int_equal(sio_pgtable_lookup(f->pt, 0x10000, &e), 0);
	assert_true(e.dirty);

	assert_int_equal(read_dirty(f->pt, 0x10000, 0x20000, 4 * KiB, bits, 0),
			 0);
	assert_true(bits[0] == 0x3); /* the two writable pages */
	/* Cleaned: AP[2] set, DBM kept, still writable. */
	assert_true(desc_at(f->pt, 0x11000, &addr) ==
		    (0x80001000ull | DBM | 0xec3));
	assert_int_equal(sio_pgtable_lookup(f->pt, 0x11000, &e), 0);
	assert_false(e.dirty);
	assert_int_equal(e.prot, RW);

	bits[0] = 0;
	assert_int_equal(read_dirty(f->pt, 0x10000, 0x20000, 4 * KiB, bits, 0),
			 0);
	assert_true(bits[0] == 0);
	hw_write(f, 0x11000, SIO_PGT_STAGE1);
	assert_int_equal(read_dirty(f->pt, 0x10000, 0x20000, 4 * KiB, bits,
				    SIO_DIRTY_NO_CLEAR),
			 0);
	assert_true(bits[0] == 0x2);
	/* NO_CLEAR left it dirty. */
	bits[0] = 0;
	assert_int_equal(read_dirty(f->pt, 0x10000, 0x20000, 4 * KiB, bits, 0),
			 0);
	assert_true(bits[0] == 0x2);
	bits[0] = 0;
	assert_int_equal(read_dirty(f->pt, 0x10000, 0x20000, 4 * KiB, bits, 0),
			 0);
	assert_true(bits[0] == 0);
}

static void test_stage2_encoding_and_cycle(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_entry e;
	uint64_t bits[1] = {0}, addr;

	make(f, SIO_PGT_STAGE2, SIO_PGT_F_HD);
	assert_int_equal(sio_pgtable_map(f->pt, 0, 0x40000000, 4 * KiB,
					 RW | SIO_PROT_CACHE),
			 0);
	/* AF | SH=ISH | S2AP=RW | MemAttr=0xF | page, with DBM. */
	assert_true(desc_at(f->pt, 0, &addr) == (0x40000000ull | DBM | 0x7ff));
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 4 * KiB, bits, 0), 0);
	assert_true(bits[0] == 1);
	/* Clean at stage 2 is S2AP[1] = 0 with DBM set: still writable. */
	assert_true(desc_at(f->pt, 0, &addr) == (0x40000000ull | DBM | 0x77f));
	assert_int_equal(sio_pgtable_lookup(f->pt, 0, &e), 0);
	assert_int_equal(e.prot, RW | SIO_PROT_CACHE);
	assert_false(e.dirty);
	bits[0] = 0;
	hw_write(f, 0, SIO_PGT_STAGE2);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 4 * KiB, bits, 0), 0);
	assert_true(bits[0] == 1);
}

static void test_blocks_and_bitmap_granularity(void **state)
{
	struct sio_test_fx *f = *state;
	uint64_t bits[16], addr;

	make(f, SIO_PGT_STAGE1, SIO_PGT_F_HD);
	assert_int_equal(sio_pgtable_map(f->pt, 2 * MiB, 2 * MiB, 2 * MiB, RW),
			 0);
	/* Bitmap of 4K pages over the second half of the block only. */
	memset(bits, 0, sizeof(bits));
	assert_int_equal(read_dirty(f->pt, 3 * MiB, 1 * MiB, 4 * KiB, bits, 0),
			 0);
	for (int i = 0; i < 4; i++)
		assert_true(bits[i] == ~0ull); /* 256 pages */
	for (int i = 4; i < 16; i++)
		assert_true(bits[i] == 0);
	/* The whole block was cleaned, as the kernel does. */
	assert_true(desc_at(f->pt, 2 * MiB, &addr) & AP2);

	/* A bitmap page larger than the leaves: 64K per bit. */
	assert_int_equal(sio_pgtable_map(f->pt, 64 * MiB, 0, 16 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_map(f->pt, 64 * MiB + 128 * KiB, 0,
					 4 * KiB, RW),
			 0);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(
		read_dirty(f->pt, 64 * MiB, 1 * MiB, 64 * KiB, bits, 0), 0);
	assert_true(bits[0] == 0x5);
}

static void test_split_keeps_dirty_state(void **state)
{
	struct sio_test_fx *f = *state;
	uint64_t bits[8] = {0}, addr, unmapped;

	make(f, SIO_PGT_STAGE1, SIO_PGT_F_HD);
	assert_int_equal(sio_pgtable_map(f->pt, 2 * MiB, 2 * MiB, 2 * MiB, RW),
			 0);
	/* Clean, then dirty it again by hardware, then split it. */
	assert_int_equal(read_dirty(f->pt, 2 * MiB, 2 * MiB, 2 * MiB, bits, 0),
			 0);
	hw_write(f, 2 * MiB, SIO_PGT_STAGE1);
	assert_int_equal(
		sio_pgtable_unmap(f->pt, 3 * MiB, 4 * KiB, &unmapped, NULL), 0);
	assert_false(desc_at(f->pt, 2 * MiB, &addr) & AP2);
	bits[0] = 0;
	assert_int_equal(read_dirty(f->pt, 2 * MiB, 2 * MiB, 2 * MiB, bits, 0),
			 0);
	assert_true(bits[0] == 1);
	/* And the split pages are clean afterwards. */
	assert_true(desc_at(f->pt, 4 * MiB - 4 * KiB, &addr) & AP2);
}

static void test_bad_bitmaps(void **state)
{
	struct sio_test_fx *f = *state;
	uint64_t bits[1];

	make(f, SIO_PGT_STAGE1, SIO_PGT_F_HD);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 0, bits, 0), -EINVAL);
	assert_int_equal(read_dirty(f->pt, 0, 12 * KiB, 3 * KiB, bits, 0),
			 -EINVAL);
	assert_int_equal(read_dirty(f->pt, 4 * KiB, 8 * KiB, 8 * KiB, bits, 0),
			 -EINVAL);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 8 * KiB, bits, 0),
			 -EINVAL);
	assert_int_equal(read_dirty(f->pt, 0, 0, 4 * KiB, bits, 0), -EINVAL);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 4 * KiB, NULL, 0),
			 -EINVAL);
	assert_int_equal(read_dirty(f->pt, 0, 4 * KiB, 4 * KiB, bits, 4),
			 -EINVAL);
	assert_int_equal(read_dirty(f->pt, 1ull << 40, 4 * KiB, 4 * KiB, bits,
				    0),
			 -ERANGE);
}

int main(void)
{
#define T(fn)                                                  \
	cmocka_unit_test_setup_teardown(fn, sio_test_fx_setup, \
					sio_test_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_needs_hd),
		T(test_stage1_encoding_and_cycle),
		T(test_stage2_encoding_and_cycle),
		T(test_blocks_and_bitmap_granularity),
		T(test_split_keeps_dirty_state),
		T(test_bad_bitmaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
