// SPDX-License-Identifier: MIT
/*
 * Property test: random sequences of map, map_pages and unmap (cutting
 * blocks, covering holes, spanning mappings) against a shadow model, a
 * plain interval list written independently of the library.  After every
 * step lookups agree with the shadow at the edges of the range touched,
 * just outside it and at random addresses; bus walks agree with lookups;
 * and when everything is unmapped, table memory returns to the start
 * table alone, then to nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

/* The shadow: disjoint intervals, unsorted (a handful at a time). */
struct ival {
	uint64_t iova, size, pa;
	unsigned int prot;
	bool whole_blocks; /* one map of largest blocks, never cut since */
};

struct shadow {
	struct ival *v;
	size_t n, cap;
};

static void sh_add(struct shadow *s, struct ival iv)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n++] = iv;
}

static const struct ival *sh_find(const struct shadow *s, uint64_t a)
{
	for (size_t i = 0; i < s->n; i++)
		if (a >= s->v[i].iova && a - s->v[i].iova < s->v[i].size)
			return &s->v[i];
	return NULL;
}

/* Inclusive ends throughout: a TTB1 range may end at 2^64. */
static bool sh_overlaps(const struct shadow *s, uint64_t iova, uint64_t size)
{
	for (size_t i = 0; i < s->n; i++)
		if (iova <= s->v[i].iova + (s->v[i].size - 1) &&
		    s->v[i].iova <= iova + (size - 1))
			return true;
	return false;
}

/* Remove [iova, iova + size); returns the bytes that were mapped. */
static uint64_t sh_cut(struct shadow *s, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + (size - 1), removed = 0;
	size_t n = s->n;

	for (size_t i = 0; i < n; i++) {
		struct ival iv = s->v[i];
		uint64_t il = iv.iova + (iv.size - 1);
		uint64_t lo = iv.iova > iova ? iv.iova : iova;
		uint64_t hi = il < last ? il : last;

		if (lo > hi)
			continue;
		removed += hi - lo + 1;
		/* Keep the part below and the part above the cut. */
		s->v[i].size = 0;
		if (iv.iova < lo)
			sh_add(s, (struct ival){iv.iova, lo - iv.iova, iv.pa,
						iv.prot, false});
		if (hi < il)
			sh_add(s, (struct ival){hi + 1, il - hi,
						iv.pa + (hi + 1 - iv.iova),
						iv.prot, false});
	}
	/* Compact away the emptied entries. */
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].size)
			s->v[k++] = s->v[i];
	s->n = k;
	return removed;
}

struct config {
	const char *name;
	unsigned int stage, granule, ias, oas, region;
	int start;
	uint64_t window; /* the active input window */
	uint64_t max_size;
	unsigned int ops;
};

struct run {
	const struct config *c;
	struct sio_pgtable *pt;
	struct sio_pgtable_info in;
	struct shadow sh;
	uint64_t seed, base, g, biggest;
	uint64_t sizes[4];
	unsigned int nsizes;
};

static uint64_t rnd(struct run *r, uint64_t n)
{
	return n ? sio_test_rand(&r->seed) % n : 0;
}

/* What lookup must report as prot for what was mapped. */
static unsigned int expected_prot(const struct run *r, unsigned int prot)
{
	if (r->c->stage == SIO_PGT_STAGE1 && (prot & SIO_PROT_WRITE))
		prot |= SIO_PROT_READ; /* no write-only at stage 1 */
	return prot;
}

static unsigned int random_prot(struct run *r)
{
	static const unsigned int rw[] = {SIO_PROT_READ, SIO_PROT_WRITE,
					  SIO_PROT_READ | SIO_PROT_WRITE};
	unsigned int prot = rw[rnd(r, 3)];

	if (rnd(r, 2))
		prot |= SIO_PROT_CACHE;
	if (rnd(r, 3) == 0)
		prot |= SIO_PROT_NOEXEC;
	return prot;
}

static void check_addr(struct run *r, uint64_t a)
{
	struct sio_pgtable_entry e;
	const struct ival *iv;
	int rc;

	if (a < r->in.input_base || a > r->in.input_last)
		return;
	iv = sh_find(&r->sh, a);
	rc = sio_pgtable_lookup(r->pt, a, &e);
	if (!iv) {
		if (rc != -ENOENT)
			fail_msg("%s seed %llu: %#llx should be unmapped "
				 "(rc %d pa %#llx)",
				 r->c->name, (unsigned long long)r->seed,
				 (unsigned long long)a, rc,
				 (unsigned long long)e.pa);
		return;
	}
	if (rc != 0 || e.pa != iv->pa + (a - iv->iova))
		fail_msg("%s: %#llx should map to %#llx (rc %d pa %#llx)",
			 r->c->name, (unsigned long long)a,
			 (unsigned long long)(iv->pa + (a - iv->iova)), rc,
			 (unsigned long long)e.pa);
	assert_int_equal(e.prot, expected_prot(r, iv->prot));
	assert_true(e.size & r->in.pgsize_bitmap);
	assert_true((e.size & (e.size - 1)) == 0);
	assert_true(e.iova_base == (a & ~(e.size - 1)));
	/* The leaf lies inside one shadow interval... */
	assert_true(e.iova_base >= iv->iova);
	assert_true(e.iova_base + e.size <= iv->iova + iv->size);
	/* ...and one map of whole largest blocks is made of them. */
	if (iv->whole_blocks)
		assert_true(e.size == r->biggest);
}

static void check_walk(struct run *r, uint64_t a)
{
	struct sio_pgtable_walk w;
	struct sio_pgtable_entry e;
	int rl, rw;

	if (a < r->in.input_base || a > r->in.input_last)
		return;
	rl = sio_pgtable_lookup(r->pt, a, &e);
	rw = sio_pgtable_walk(r->pt, a, &w);
	assert_int_equal(rl, rw);
	if (!rl) {
		assert_true(w.pa == e.pa);
		assert_true(w.size == e.size);
	}
}

static void check_around(struct run *r, uint64_t iova, uint64_t size)
{
	check_addr(r, iova);
	check_addr(r, iova + size - 1);
	check_addr(r, iova - 1);
	check_addr(r, iova + size);
	check_addr(r, iova + size / 2);
	for (int i = 0; i < 32; i++)
		check_addr(r, r->base + rnd(r, r->c->window));
	if (rnd(r, 8) == 0)
		for (int i = 0; i < 8; i++)
			check_walk(r, r->base + rnd(r, r->c->window));
}

static void stats(struct run *r, struct sio_pgtable_stats *st)
{
	sio_pgtable_get_stats(r->pt, st);
}

/* A granule-aligned range in the window, aligned to a random leaf size. */
static void pick(struct run *r, uint64_t *iova, uint64_t *pa, uint64_t *size)
{
	uint64_t align = r->sizes[rnd(r, r->nsizes)];
	uint64_t max = r->c->max_size < r->c->window ? r->c->max_size
						     : r->c->window;

	if (align > max)
		align = r->g;
	*size = (1 + rnd(r, max / align)) * align;
	if (rnd(r, 3) == 0)
		*size = (1 + rnd(r, 4)) * r->g; /* small ones often */
	if (*size > max)
		*size = max;
	*iova = r->base + rnd(r, (r->c->window - *size) / align + 1) * align;
	*pa = (rnd(r, 1ull << (r->c->oas - 2)) & ~(align - 1));
	if (rnd(r, 4) == 0)
		*pa += r->g; /* misaligned output: forces smaller leaves */
	if (*pa + *size > (1ull << r->c->oas))
		*pa = 0;
}

static void op_map(struct run *r)
{
	uint64_t iova, pa, size;
	unsigned int prot = random_prot(r);
	struct sio_pgtable_stats before, after;
	bool overlap;
	int rc;

	pick(r, &iova, &pa, &size);
	overlap = sh_overlaps(&r->sh, iova, size);
	stats(r, &before);
	rc = sio_pgtable_map(r->pt, iova, pa, size, prot);
	if (overlap) {
		/* Refused, and the table is exactly as it was. */
		assert_int_equal(rc, -EEXIST);
		stats(r, &after);
		assert_int_equal(before.leaves, after.leaves);
		assert_int_equal(before.tables, after.tables);
	} else {
		bool whole = !((iova | pa | size) & (r->biggest - 1));

		assert_int_equal(rc, 0);
		sh_add(&r->sh, (struct ival){iova, size, pa, prot, whole});
	}
	check_around(r, iova, size);
}

static void op_map_pages(struct run *r)
{
	uint64_t pgsize = r->sizes[rnd(r, r->nsizes)];
	uint64_t count = 1 + rnd(r, 4), iova, pa;
	unsigned int prot = random_prot(r);
	int rc;

	if (pgsize * count > r->c->window)
		pgsize = r->g;
	iova = r->base +
	       rnd(r, (r->c->window - pgsize * count) / pgsize + 1) * pgsize;
	pa = rnd(r, 1ull << (r->c->oas - 2)) & ~(pgsize - 1);
	rc = sio_pgtable_map_pages(r->pt, iova, pa, pgsize, count, prot);
	if (sh_overlaps(&r->sh, iova, pgsize * count)) {
		assert_int_equal(rc, -EEXIST);
	} else {
		assert_int_equal(rc, 0);
		sh_add(&r->sh, (struct ival){iova, pgsize * count, pa, prot,
					     pgsize == r->biggest});
	}
	check_around(r, iova, pgsize * count);
}

static void op_unmap(struct run *r)
{
	uint64_t iova, pa, size, unmapped = 0, expect;

	pick(r, &iova, &pa, &size);
	/* Often start or end inside a block, to force splits. */
	if (rnd(r, 2) && iova + r->g < r->base + r->c->window && size > r->g) {
		iova += r->g * (1 + rnd(r, 3));
		size -= r->g;
		if (iova + size > r->base + r->c->window)
			size = r->base + r->c->window - iova;
	}
	expect = sh_cut(&r->sh, iova, size);
	assert_int_equal(sio_pgtable_unmap(r->pt, iova, size, &unmapped, NULL),
			 0);
	if (unmapped != expect)
		fail_msg("%s: unmap %#llx+%#llx gave %llu, expected %llu",
			 r->c->name, (unsigned long long)iova,
			 (unsigned long long)size, (unsigned long long)unmapped,
			 (unsigned long long)expect);
	check_around(r, iova, size);
}

static void run_config(const struct config *c, uint64_t seed,
		       bool piecewise_teardown)
{
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
	struct sio_mem_pool_stats ps;
	struct sio_pgtable_stats st;
	struct sio_pgtable_cfg cfg = {.stage = c->stage,
				      .granule = c->granule,
				      .ias = c->ias,
				      .oas = c->oas,
				      .region = c->region,
				      .start_level = c->start};
	struct run r = {.c = c, .seed = seed};
	size_t regs;

	print_message("# %s, seed %llu\n", c->name, (unsigned long long)seed);
	assert_int_equal(sio_mem_bus_create(&bus), 0);
	assert_int_equal(sio_mem_pool_create(bus, c->oas, &pool), 0);
	cfg.pool = pool;
	assert_int_equal(sio_pgtable_create(&cfg, bus, &r.pt), 0);
	sio_pgtable_get_info(r.pt, &r.in);
	r.g = c->granule;
	for (uint64_t b = r.in.pgsize_bitmap; b; b &= b - 1) {
		r.sizes[r.nsizes++] = b & -b;
		r.biggest = b & -b;
	}
	/* A window a little into the region, so edges stay covered. */
	r.base = r.in.input_base +
		 (c->region == SIO_PGT_TTB1
			  ? r.in.input_last - r.in.input_base + 1 - c->window
			  : r.biggest);

	for (unsigned int i = 0; i < c->ops; i++) {
		switch (rnd(&r, 5)) {
		case 0:
		case 1:
			op_map(&r);
			break;
		case 2:
			op_map_pages(&r);
			break;
		default:
			op_unmap(&r);
		}
	}

	/* Tear down: all at once, or in random pieces. */
	if (piecewise_teardown) {
		while (r.sh.n) {
			uint64_t unmapped, a = r.sh.v[0].iova;
			uint64_t len = r.sh.v[0].size / 2 ? r.sh.v[0].size / 2
							  : r.sh.v[0].size;

			len = (len + r.g - 1) & ~(r.g - 1);
			sh_cut(&r.sh, a, len);
			assert_int_equal(sio_pgtable_unmap(r.pt, a, len,
							   &unmapped, NULL),
					 0);
		}
	} else {
		uint64_t unmapped;

		assert_int_equal(
			sio_pgtable_unmap(r.pt, r.in.input_base,
					  r.in.input_last - r.in.input_base + 1,
					  &unmapped, NULL),
			0);
		assert_true(unmapped == sh_cut(&r.sh, r.base, c->window));
	}
	stats(&r, &st);
	assert_int_equal(st.leaves, 0);
	/* Only the start table(s) remain... */
	assert_int_equal(st.tables, r.in.concat);
	sio_mem_pool_get_stats(pool, &ps);
	assert_true(ps.in_use == (uint64_t)r.in.concat * c->granule ||
		    (r.in.concat == 1 && ps.in_use == c->granule));
	sio_pgtable_destroy(r.pt);
	/* ...then nothing: the pool is empty, then unmapped and unregistered.
	 */
	sio_mem_pool_get_stats(pool, &ps);
	assert_int_equal(ps.in_use, 0);
	assert_true(sio_mem_pool_trim(pool) > 0);
	sio_mem_pool_get_stats(pool, &ps);
	assert_int_equal(ps.mapped, 0);
	sio_mem_bus_counts(bus, &regs, NULL);
	assert_int_equal(regs, 0);
	sio_mem_pool_destroy(pool);
	sio_mem_bus_destroy(bus);
	free(r.sh.v);
}

static const struct config configs[] = {
	{"S1 4K 48/48 TTB0", SIO_PGT_STAGE1, 4096, 48, 48, SIO_PGT_TTB0, -1,
	 4 * GiB, 8 * MiB, 2500},
	{"S1 4K 39/48 TTB1", SIO_PGT_STAGE1, 4096, 39, 48, SIO_PGT_TTB1, -1,
	 4 * GiB, 8 * MiB, 2000},
	{"S1 16K 47/48", SIO_PGT_STAGE1, 16384, 47, 48, SIO_PGT_TTB0, -1,
	 1 * GiB, 96 * MiB, 1500},
	{"S1 64K 42/48", SIO_PGT_STAGE1, 65536, 42, 48, SIO_PGT_TTB0, -1,
	 4 * GiB, 1 * GiB + 64 * MiB, 1000},
	{"S2 4K 40/44", SIO_PGT_STAGE2, 4096, 40, 44, SIO_PGT_TTB0, -1, 4 * GiB,
	 8 * MiB, 2000},
	{"S2 4K 32/32", SIO_PGT_STAGE2, 4096, 32, 32, SIO_PGT_TTB0, -1, 1 * GiB,
	 8 * MiB, 1500},
	{"S2 16K 36/40 start 2", SIO_PGT_STAGE2, 16384, 36, 40, SIO_PGT_TTB0, 2,
	 1 * GiB, 96 * MiB, 1500},
	{"S2 64K 52/52", SIO_PGT_STAGE2, 65536, 52, 52, SIO_PGT_TTB0, -1,
	 8 * GiB, 1 * GiB + 64 * MiB, 800},
};

static void test_all_at_once_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		run_config(&configs[i], 1000 + i, false);
}

static void test_piecewise_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		run_config(&configs[i], 2000 + i, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_at_once_teardown),
		cmocka_unit_test(test_piecewise_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
