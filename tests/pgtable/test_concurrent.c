// SPDX-License-Identifier: MIT
/*
 * Concurrency: lock-free lookups and hardware-style walks through the bus
 * racing map, unmap and block splits; simulated HTTU dirty updates racing
 * read-and-clear.  Run under ThreadSanitizer by `make check`.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "sio_test.h"

#include <softiommu/pgtable.h>

#define RW   (SIO_PROT_READ | SIO_PROT_WRITE)
#define SPAN (8 * MiB)
#define BASE (1 * GiB)
/* Every mapping in these tests sends iova to iova + OFFSET. */
#define OFFSET (64 * GiB)

/* Overlap needed before a race test counts, and the most time it gets. */
#define MIN_MARKS  2000
#define TIME_LIMIT 20.0

struct race {
	struct sio_pgtable *pt;
	atomic_bool stop;
	_Atomic uint64_t hits, misses, bad;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;

	while (!atomic_load(&r->stop)) {
		uint64_t iova = BASE + sio_test_rand(&seed) % SPAN, pa;
		struct sio_pgtable_entry e;
		struct sio_pgtable_walk w;
		int rc = sio_pgtable_iova_to_phys(r->pt, iova, &pa);

		if (rc == 0 && pa != iova + OFFSET)
			atomic_fetch_add(&r->bad, 1);
		rc = sio_pgtable_lookup(r->pt, iova, &e);
		if (rc == 0 &&
		    (e.pa != iova + OFFSET || e.prot != RW ||
		     e.iova_base > iova || e.iova_base + e.size <= iova))
			atomic_fetch_add(&r->bad, 1);
		if (rc != 0 && rc != -ENOENT)
			atomic_fetch_add(&r->bad, 1);
		/* Through the bus: the table memory never leaves it. */
		rc = sio_pgtable_walk(r->pt, iova, &w);
		if (rc == 0 && w.pa != iova + OFFSET)
			atomic_fetch_add(&r->bad, 1);
		if (rc != 0 && rc != -ENOENT)
			atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(rc ? &r->misses : &r->hits, 1);
	}
	return NULL;
}

static uint64_t reads(struct race *r)
{
	return atomic_load(&r->hits) + atomic_load(&r->misses);
}

/*
 * Let the readers make progress in the state just built, whatever the
 * scheduler does, so every state is both raced into and observed.
 */
static void let_readers_in(struct race *r, uint64_t n)
{
	uint64_t target = reads(r) + n;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (reads(r) < target && sio_test_elapsed(&t0) < 1.0)
		sched_yield();
}

static void test_lookups_race_map_unmap_and_splits(void **state)
{
	struct sio_mem_bus *bus;
	struct race r = {0};
	pthread_t th[2];
	uint64_t seed = 42, unmapped;
	struct timespec t0;
	int rounds = 0;

	(void)state;
	assert_int_equal(sio_mem_bus_create(&bus), 0);
	r.pt = sio_test_pgtable(bus, SIO_PGT_STAGE1, 4096, 48, 48, SIO_PGT_TTB0,
				0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rounds++ < 120 && sio_test_elapsed(&t0) < TIME_LIMIT) {
		/* Blocks, then cut pages out of them (splits), then clear. */
		assert_int_equal(sio_pgtable_map(r.pt, BASE, BASE + OFFSET,
						 SPAN, RW),
				 0);
		let_readers_in(&r, 64);
		for (int k = 0; k < 8; k++) {
			uint64_t off =
				(sio_test_rand(&seed) % (SPAN / 4096)) * 4096;

			assert_int_equal(sio_pgtable_unmap(r.pt, BASE + off,
							   4096, &unmapped,
							   NULL),
					 0);
		}
		let_readers_in(&r, 64);
		assert_int_equal(sio_pgtable_unmap(r.pt, BASE, SPAN, &unmapped,
						   NULL),
				 0);
		let_readers_in(&r, 16);
		/* And pages, freeing every table again. */
		assert_int_equal(sio_pgtable_map_pages(r.pt, BASE,
						       BASE + OFFSET, 4096,
						       SPAN / 8192, RW),
				 0);
		let_readers_in(&r, 64);
		assert_int_equal(sio_pgtable_unmap(r.pt, BASE, SPAN / 2,
						   &unmapped, NULL),
				 0);
		assert_true(unmapped == SPAN / 2);
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	print_message("# %d rounds, %llu hits, %llu misses\n", rounds,
		      (unsigned long long)atomic_load(&r.hits),
		      (unsigned long long)atomic_load(&r.misses));
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(rounds > 20);
	assert_true(atomic_load(&r.hits) > 1000);
	assert_true(atomic_load(&r.misses) > 100);
	sio_pgtable_destroy(r.pt);
	sio_mem_bus_destroy(bus);
}

/*
 * One thread plays the SMMU: for each "write" it makes to a page it marks
 * the page dirty the way HTTU does (compare-and-swap of AP[2] through the
 * bus) and counts it; the other reads and clears.  Every write that
 * happened before a read-and-clear must be reported by it or a later one:
 * no dirty state may be lost, even while blocks split under the writer.
 */
struct httu {
	struct sio_mem_bus *bus;
	struct sio_pgtable *pt;
	atomic_bool stop;
	_Atomic uint64_t marks;
};

static void *httu_writer(void *arg)
{
	struct httu *h = arg;
	uint64_t seed = 99;

	while (!atomic_load(&h->stop)) {
		uint64_t iova = BASE + (sio_test_rand(&seed) % 512) * 4096;
		struct sio_pgtable_walk w;
		uint64_t old, addr;

		if (sio_pgtable_walk(h->pt, iova, &w))
			continue;
		addr = w.step[w.nsteps - 1].addr;
		old = w.step[w.nsteps - 1].desc;
		for (;;) {
			int rc;

			if (!(old & 1) || !(old & (1ull << 7)))
				break; /* gone, or already dirty */
			rc = sio_mem_cmpxchg64(h->bus, addr, &old,
					       old & ~(1ull << 7));
			if (rc == 0) {
				atomic_fetch_add(&h->marks, 1);
				break;
			}
			if (rc != -EAGAIN)
				break;
		}
	}
	return NULL;
}

static void test_dirty_updates_race_read_and_clear(void **state)
{
	struct httu h = {0};
	static uint64_t bits[512 / 64];
	struct sio_dirty_bitmap bm = {BASE, 2 * MiB, 4096, bits};
	uint64_t reported = 0, unmapped;
	struct timespec t0;
	pthread_t th;
	int i = 0;

	(void)state;
	assert_int_equal(sio_mem_bus_create(&h.bus), 0);
	h.pt = sio_test_pgtable(h.bus, SIO_PGT_STAGE1, 4096, 48, 48,
				SIO_PGT_TTB0, SIO_PGT_F_HD);
	assert_int_equal(
		sio_pgtable_map(h.pt, BASE, BASE + OFFSET, 2 * MiB, RW), 0);
	/* Start clean; the mapping starts writable-dirty. */
	assert_int_equal(sio_pgtable_read_and_clear_dirty(h.pt, &bm, 0), 0);
	/* Pages, so each mark is one bit. */
	assert_int_equal(sio_pgtable_unmap(h.pt, BASE + 2 * MiB - 4096, 4096,
					   &unmapped, NULL),
			 0);
	assert_int_equal(sio_pgtable_map(h.pt, BASE + 2 * MiB - 4096,
					 BASE + OFFSET + 2 * MiB - 4096, 4096,
					 RW),
			 0);
	assert_int_equal(sio_pgtable_read_and_clear_dirty(h.pt, &bm, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, httu_writer, &h), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((i++ < 2000 || atomic_load(&h.marks) < MIN_MARKS) &&
	       sio_test_elapsed(&t0) < TIME_LIMIT) {
		memset(bits, 0, sizeof(bits));
		assert_int_equal(sio_pgtable_read_and_clear_dirty(h.pt, &bm, 0),
				 0);
		for (int w = 0; w < 8; w++)
			reported += (uint64_t)__builtin_popcountll(bits[w]);
	}
	atomic_store(&h.stop, true);
	pthread_join(th, NULL);
	memset(bits, 0, sizeof(bits));
	assert_int_equal(sio_pgtable_read_and_clear_dirty(h.pt, &bm, 0), 0);
	for (int w = 0; w < 8; w++)
		reported += (uint64_t)__builtin_popcountll(bits[w]);
	/* Each mark made a clean page dirty; each report cleaned one. */
	print_message("# %llu marks, %llu reported\n",
		      (unsigned long long)atomic_load(&h.marks),
		      (unsigned long long)reported);
	assert_true(reported == atomic_load(&h.marks));
	assert_true(reported >= MIN_MARKS);
	sio_pgtable_destroy(h.pt);
	sio_mem_bus_destroy(h.bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups_race_map_unmap_and_splits),
		cmocka_unit_test(test_dirty_updates_race_read_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
