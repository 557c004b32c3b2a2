/* SPDX-License-Identifier: MIT */
/* What every cmocka suite of softiommu includes. */
#ifndef SIO_TEST_H
#define SIO_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <time.h>

#include <softiommu/pgtable.h>

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define TiB ((uint64_t)1 << 40)

/* A small, seedable generator (xorshift64*) for property tests. */
static inline uint64_t sio_test_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Seconds since @t0 (CLOCK_MONOTONIC). */
static inline double sio_test_elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A page table the test needs: creation must succeed. */
static inline struct sio_pgtable *
sio_test_pgtable(struct sio_mem_bus *bus, unsigned int stage,
		 unsigned int granule, unsigned int ias, unsigned int oas,
		 unsigned int region, unsigned int flags)
{
	struct sio_pgtable_cfg cfg = {.stage = stage,
				      .granule = granule,
				      .ias = ias,
				      .oas = oas,
				      .region = region,
				      .start_level = SIO_PGT_START_AUTO,
				      .flags = flags};
	struct sio_pgtable *pt = NULL;

	assert_int_equal(sio_pgtable_create(&cfg, bus, &pt), 0);
	return pt;
}

/*
 * The fixture most suites share: a bus and, once a test makes one, a
 * table.  Teardown also checks that nothing is left on the bus.
 */
struct sio_test_fx {
	struct sio_mem_bus *bus;
	struct sio_pgtable *pt;
	struct sio_pgtable_info in;
};

static inline int sio_test_fx_setup(void **state)
{
	struct sio_test_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_mem_bus_create(&f->bus), 0);
	*state = f;
	return 0;
}

static inline int sio_test_fx_teardown(void **state)
{
	struct sio_test_fx *f = *state;
	size_t regs;

	sio_pgtable_destroy(f->pt);
	sio_mem_bus_counts(f->bus, &regs, NULL);
	assert_int_equal(regs, 0);
	sio_mem_bus_destroy(f->bus);
	free(f);
	return 0;
}

/* Replace the fixture's table (private pool, automatic start level). */
static inline struct sio_pgtable *
sio_test_fx_table(struct sio_test_fx *f, unsigned int stage,
		  unsigned int granule, unsigned int ias, unsigned int oas,
		  unsigned int region, unsigned int flags)
{
	sio_pgtable_destroy(f->pt);
	f->pt = sio_test_pgtable(f->bus, stage, granule, ias, oas, region,
				 flags);
	sio_pgtable_get_info(f->pt, &f->in);
	return f->pt;
}

#endif /* SIO_TEST_H */
