// SPDX-License-Identifier: MIT
/*
 * Walks through the bus, as hardware sees a table: the levels visited,
 * the index used at each (computed here by hand from the architecture's
 * level shifts), the descriptor addresses, walks ending at every level,
 * and an external abort when table memory is not on the bus.
 */
#include <errno.h>
#include <string.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static struct sio_pgtable *make(struct sio_test_fx *f, unsigned int stage,
				unsigned int granule, unsigned int ias,
				unsigned int oas)
{
	return sio_test_fx_table(f, stage, granule, ias, oas, SIO_PGT_TTB0, 0);
}

/* Table address of a table descriptor (4K/16K: bits [47:granule]). */
static uint64_t next_table(uint64_t desc, unsigned int granule)
{
	return desc & 0x0000ffffffffffffull & ~((uint64_t)granule - 1);
}

static void check_chain(const struct sio_test_fx *f,
			const struct sio_pgtable_walk *w, unsigned int granule,
			const unsigned int *idx)
{
	assert_true(w->step[0].table == f->in.root);
	for (unsigned int i = 0; i < w->nsteps; i++) {
		const struct sio_pgtable_walk_step *s = &w->step[i];

		assert_int_equal(s->level, f->in.start_level + i);
		assert_int_equal(s->index, idx[i]);
		assert_true(s->addr == s->table + 8ull * s->index);
		if (i + 1 < w->nsteps) {
			assert_int_equal(s->desc & 3, 3); /* a table */
			assert_true(w->step[i + 1].table ==
				    next_table(s->desc, granule));
		}
	}
}

static void test_walks_end_at_every_level_4k(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_walk w;
	/* Indices 1, 2, 3, 4 at levels 0..3 (shifts 39, 30, 21, 12). */
	const uint64_t va = (1ull << 39) | (2ull << 30) | (3ull << 21) |
			    (4ull << 12) | 0x56;
	const unsigned int idx[] = {1, 2, 3, 4};

	make(f, SIO_PGT_STAGE1, 4096, 48, 48);
	assert_int_equal(f->in.start_level, 0);

	/* Page: four steps. */
	assert_int_equal(
		sio_pgtable_map(f->pt, va & ~0xfffull, 0x7000, 4 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_walk(f->pt, va, &w), 0);
	assert_int_equal(w.nsteps, 4);
	check_chain(f, &w, 4096, idx);
	assert_int_equal(w.step[3].desc & 3, 3);
	assert_true(w.pa == 0x7056);
	assert_true(w.size == 4 * KiB);

	/* 2M block in the next level-2 slot: three steps. */
	assert_int_equal(sio_pgtable_map(f->pt, (va & ~(2 * MiB - 1)) + 2 * MiB,
					 8 * MiB, 2 * MiB, RW),
			 0);
	assert_int_equal(sio_pgtable_walk(f->pt, va + 2 * MiB, &w), 0);
	assert_int_equal(w.nsteps, 3);
	assert_int_equal(w.step[2].index, 4);
	assert_int_equal(w.step[2].desc & 3, 1);
	assert_true(w.pa == 8 * MiB + (va & (2 * MiB - 1)));
	assert_true(w.size == 2 * MiB);

	/* 1G block in the next level-1 slot: two steps. */
	assert_int_equal(sio_pgtable_map(f->pt, (va & ~(GiB - 1)) + GiB, 0,
					 1 * GiB, RW),
			 0);
	assert_int_equal(sio_pgtable_walk(f->pt, va + GiB, &w), 0);
	assert_int_equal(w.nsteps, 2);
	assert_int_equal(w.step[1].index, 3);
	assert_true(w.size == 1 * GiB);

	/* Invalid at level 0, at level 1, at level 3. */
	assert_int_equal(sio_pgtable_walk(f->pt, 5ull << 39, &w), -ENOENT);
	assert_int_equal(w.nsteps, 1);
	assert_int_equal(w.step[0].index, 5);
	assert_true(w.step[0].desc == 0);
	assert_int_equal(sio_pgtable_walk(f->pt, (1ull << 39) | (7ull << 30),
					  &w),
			 -ENOENT);
	assert_int_equal(w.nsteps, 2);
	assert_int_equal(sio_pgtable_walk(f->pt, va + 4 * KiB, &w), -ENOENT);
	assert_int_equal(w.nsteps, 4);
	assert_int_equal(w.step[3].index, 5);

	/* Outside the input range: no step at all. */
	assert_int_equal(sio_pgtable_walk(f->pt, 1ull << 48, &w), -ERANGE);
	assert_int_equal(w.nsteps, 0);
}

static void test_stage2_concatenated_start(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_walk w;
	/*
	 * 4K, 40-bit IPA: level 1 resolves IPA[39:30], 10 bits, so two
	 * concatenated tables; IPA bit 39 selects the second one.
	 */
	const uint64_t ipa = (1ull << 39) | (5ull << 30) | 0x1000;

	make(f, SIO_PGT_STAGE2, 4096, 40, 40);
	assert_int_equal(f->in.start_level, 1);
	assert_int_equal(f->in.concat, 2);
	assert_int_equal(f->in.sl0, 1);
	assert_int_equal(sio_pgtable_map(f->pt, ipa, 0x3000, 4 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_walk(f->pt, ipa, &w), 0);
	assert_int_equal(w.nsteps, 3);
	assert_int_equal(w.step[0].index, 512 + 5);
	assert_true(w.step[0].addr == f->in.root + 4096 + 5 * 8);
	assert_true(w.pa == 0x3000);
}

static void test_other_granules(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_walk w;
	uint64_t va;

	/* 16K, 48 bits: level 0 resolves VA[47] alone, two entries. */
	make(f, SIO_PGT_STAGE1, 16384, 48, 48);
	assert_int_equal(f->in.start_level, 0);
	assert_int_equal(f->in.start_bits, 1);
	/* Levels 1..3 shift 36, 25, 14, 11 bits each. */
	va = (1ull << 47) | (3ull << 36) | (5ull << 25) | (7ull << 14);
	assert_int_equal(sio_pgtable_map(f->pt, va, 1ull << 40, 16 * KiB, RW),
			 0);
	assert_int_equal(sio_pgtable_walk(f->pt, va + 9, &w), 0);
	assert_int_equal(w.nsteps, 4);
	{
		const unsigned int idx[] = {1, 3, 5, 7};

		check_chain(f, &w, 16384, idx);
	}
	assert_true(w.pa == (1ull << 40) + 9);
	/* 32M blocks at level 2. */
	assert_int_equal(sio_pgtable_map(f->pt, 32 * MiB, 0, 32 * MiB, RW), 0);
	assert_int_equal(sio_pgtable_walk(f->pt, 33 * MiB, &w), 0);
	assert_int_equal(w.nsteps, 3);
	assert_true(w.size == 32 * MiB);

	/* 64K, 42 bits: start at level 2 with 13 bits (shifts 29, 16). */
	make(f, SIO_PGT_STAGE1, 65536, 42, 48);
	assert_int_equal(f->in.start_level, 2);
	assert_int_equal(f->in.start_bits, 13);
	va = (4097ull << 29) | (11ull << 16);
	assert_int_equal(sio_pgtable_map(f->pt, va, 64 * KiB, 64 * KiB, RW), 0);
	assert_int_equal(sio_pgtable_walk(f->pt, va, &w), 0);
	assert_int_equal(w.nsteps, 2);
	assert_int_equal(w.step[0].index, 4097);
	assert_int_equal(w.step[1].index, 11);
	assert_true(w.size == 64 * KiB);
	/* 512M blocks at level 2, the start level. */
	assert_int_equal(sio_pgtable_map(f->pt, 512 * MiB, 0, 512 * MiB, RW),
			 0);
	assert_int_equal(sio_pgtable_walk(f->pt, 512 * MiB + 1, &w), 0);
	assert_int_equal(w.nsteps, 1);
	assert_true(w.size == 512 * MiB);
}

static void test_unbacked_table_is_an_external_abort(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_walk w;
	struct sio_pgtable_entry e;

	make(f, SIO_PGT_STAGE1, 4096, 48, 48);
	assert_int_equal(sio_pgtable_map(f->pt, 0, 0, 4 * KiB, RW), 0);
	/* The pool registers its chunks with itself as owner. */
	assert_true(sio_mem_unregister_owner(f->bus, sio_pgtable_pool(f->pt)) >
		    0);
	assert_int_equal(sio_pgtable_walk(f->pt, 0, &w), -EFAULT);
	assert_int_equal(w.nsteps, 1);
	/* The driver's own lookup does not go through the bus. */
	assert_int_equal(sio_pgtable_lookup(f->pt, 0, &e), 0);
}

static void test_walk_agrees_with_lookup(void **state)
{
	struct sio_test_fx *f = *state;
	struct sio_pgtable_walk w;
	struct sio_pgtable_entry e;
	uint64_t seed = 7, pa;

	make(f, SIO_PGT_STAGE2, 4096, 44, 44);
	assert_int_equal(sio_pgtable_map(f->pt, 0, 1 * TiB,
					 1 * GiB + 2 * MiB + 12 * KiB, RW),
			 0);
	for (int i = 0; i < 2000; i++) {
		uint64_t ipa = sio_test_rand(&seed) % (2 * GiB);
		int rl = sio_pgtable_lookup(f->pt, ipa, &e);
		int rp = sio_pgtable_iova_to_phys(f->pt, ipa, &pa);
		int rw = sio_pgtable_walk(f->pt, ipa, &w);

		assert_int_equal(rl, rw);
		assert_int_equal(rl, rp);
		if (!rl) {
			assert_true(e.pa == w.pa);
			assert_true(pa == w.pa);
			assert_true(e.size == w.size);
			assert_true(e.desc == w.step[w.nsteps - 1].desc);
			assert_int_equal(e.level, w.step[w.nsteps - 1].level);
		}
	}
}

static void test_descriptions(void **state)
{
	struct sio_test_fx *f = *state;
	char buf[160];

	make(f, SIO_PGT_STAGE1, 4096, 48, 48);
	sio_pgtable_format_desc(f->pt, 2, 0x40000000ull | 0xf41, buf,
				sizeof(buf));
	assert_string_equal(buf, "block 2M -> 0x40000000 AttrIndx=0 AP=RW+EL0 "
				 "SH=ISH AF nG");
	sio_pgtable_format_desc(f->pt, 0, 0x12345000ull | 3, buf, sizeof(buf));
	assert_string_equal(buf, "table -> 0x12345000");
	sio_pgtable_format_desc(f->pt, 3, 0x5000ull | 1, buf, sizeof(buf));
	assert_string_equal(buf, "invalid");
	make(f, SIO_PGT_STAGE2, 4096, 40, 40);
	sio_pgtable_format_desc(f->pt, 3, (1ull << 54) | 0x6ff | 0x1000, buf,
				sizeof(buf));
	assert_string_equal(buf, "page 4K -> 0x1000 MemAttr=0xf S2AP=RW SH=OSH "
				 "AF "
				 "XN=2");
	/* Truncation is safe and reports the full length. */
	assert_true(sio_pgtable_format_desc(f->pt, 3, 0x6ff | 0x1000, buf, 8) >
		    8);
	assert_int_equal(strlen(buf), 7);
}

int main(void)
{
#define T(fn)                                                  \
	cmocka_unit_test_setup_teardown(fn, sio_test_fx_setup, \
					sio_test_fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_walks_end_at_every_level_4k),
		T(test_stage2_concatenated_start),
		T(test_other_granules),
		T(test_unbacked_table_is_an_external_abort),
		T(test_walk_agrees_with_lookup),
		T(test_descriptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
