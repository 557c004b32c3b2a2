// SPDX-License-Identifier: MIT
/*
 * The table-memory pool: alignment, zeroing, placement below an address
 * limit, bookkeeping kept off the bus, and returning memory.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "sio_test.h"

#include <softiommu/mem.h>

#define CHUNK (2 * MiB)

struct fixture {
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
};

static int setup(void **state)
{
	static struct fixture f;

	assert_int_equal(sio_mem_bus_create(&f.bus), 0);
	assert_int_equal(sio_mem_pool_create(f.bus, 64, &f.pool), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	size_t regs;

	sio_mem_pool_destroy(f->pool);
	sio_mem_bus_counts(f->bus, &regs, NULL);
	assert_int_equal(regs, 0);
	sio_mem_bus_destroy(f->bus);
	return 0;
}

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return 0;
	return 1;
}

static void test_create_rejects_bad_limits(void **state)
{
	struct fixture *f = *state;
	struct sio_mem_pool *p;

	assert_int_equal(sio_mem_pool_create(f->bus, 23, &p), -EINVAL);
	assert_int_equal(sio_mem_pool_create(f->bus, 65, &p), -EINVAL);
	assert_int_equal(sio_mem_pool_create(NULL, 48, &p), -EINVAL);
}

static void test_every_size_is_aligned_zeroed_and_on_the_bus(void **state)
{
	struct fixture *f = *state;

	for (size_t size = 4 * KiB; size <= 1 * MiB; size *= 2) {
		uint8_t *p = sio_mem_pool_alloc(f->pool, size);
		uint64_t chunk;

		assert_non_null(p);
		assert_int_equal(pa_of(p) & (size - 1), 0);
		assert_true(all_zero(p, size));
		assert_int_equal(sio_mem_perm_at(f->bus, pa_of(p)), SIO_MEM_RW);
		assert_int_equal(sio_mem_perm_at(f->bus, pa_of(p) + size - 1),
				 SIO_MEM_RW);
		/* The bookkeeping page below each chunk is not reachable. */
		chunk = pa_of(p) & ~(CHUNK - 1);
		assert_int_equal(sio_mem_perm_at(f->bus, chunk - 1), 0);
		assert_int_equal(sio_mem_perm_at(f->bus, chunk - 4096), 0);
		memset(p, 0xee, size);
		sio_mem_pool_free(f->pool, p);
	}
}

static void test_bad_sizes_fail_with_einval(void **state)
{
	struct fixture *f = *state;
	const size_t bad[] = {0, 1, 2048, 3000, 8193, 2 * MiB, 4 * MiB};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(sio_mem_pool_alloc(f->pool, bad[i]));
		assert_int_equal(errno, EINVAL);
	}
}

static void test_reuse_is_zeroed_and_words_are_private(void **state)
{
	struct fixture *f = *state;
	void *blk[64];
	struct sio_mem_pool_stats st;

	for (int i = 0; i < 64; i++) {
		blk[i] = sio_mem_pool_alloc(f->pool, 4096);
		assert_non_null(blk[i]);
		assert_int_equal(*sio_mem_pool_word(f->pool, blk[i]), 0);
		*sio_mem_pool_word(f->pool, blk[i]) = (uint32_t)i + 100;
		memset(blk[i], i + 1, 4096);
	}
	for (int i = 0; i < 64; i++)
		assert_int_equal(*sio_mem_pool_word(f->pool, blk[i]),
				 (uint32_t)i + 100);
	sio_mem_pool_get_stats(f->pool, &st);
	assert_int_equal(st.in_use, 64 * 4096);
	for (int i = 0; i < 64; i += 2)
		sio_mem_pool_free(f->pool, blk[i]);
	for (int i = 0; i < 64; i += 2) {
		blk[i] = sio_mem_pool_alloc(f->pool, 4096);
		assert_true(all_zero(blk[i], 4096));
		assert_int_equal(*sio_mem_pool_word(f->pool, blk[i]), 0);
	}
	for (int i = 1; i < 64; i += 2)
		assert_int_equal(*sio_mem_pool_word(f->pool, blk[i]),
				 (uint32_t)i + 100);
	for (int i = 0; i < 64; i++)
		sio_mem_pool_free(f->pool, blk[i]);
	sio_mem_pool_get_stats(f->pool, &st);
	assert_int_equal(st.in_use, 0);
	assert_int_equal(st.allocs, st.frees);
}

static void test_low_placement_stays_below_the_limit(void **state)
{
	struct fixture *f = *state;
	struct sio_mem_pool *low;
	static void *blk[600];
	struct sio_mem_pool_stats st;

	assert_int_equal(sio_mem_pool_create(f->bus, 32, &low), 0);
	assert_int_equal(sio_mem_pool_addr_bits(low), 32);
	/* More than one chunk's worth of 4K blocks, plus big ones. */
	for (int i = 0; i < 600; i++) {
		blk[i] = sio_mem_pool_alloc(low, i % 100 ? 4096 : 1 * MiB);
		assert_non_null(blk[i]);
		assert_true(pa_of(blk[i]) + (i % 100 ? 4096 : MiB) <=
			    (1ull << 32));
	}
	sio_mem_pool_get_stats(low, &st);
	assert_true(st.chunks >= 3);
	for (int i = 0; i < 600; i++)
		sio_mem_pool_free(low, blk[i]);
	assert_int_equal(sio_mem_pool_trim(low), st.chunks);
	sio_mem_pool_get_stats(low, &st);
	assert_int_equal(st.mapped, 0);
	sio_mem_pool_destroy(low);
}

static void test_trim_returns_only_empty_chunks(void **state)
{
	struct fixture *f = *state;
	struct sio_mem_pool_stats st;
	void *a, *b[512];
	size_t regs;

	a = sio_mem_pool_alloc(f->pool, 4096);
	for (int i = 0; i < 512; i++)
		b[i] = sio_mem_pool_alloc(f->pool, 4096);
	sio_mem_pool_get_stats(f->pool, &st);
	assert_int_equal(st.chunks, 2);
	for (int i = 0; i < 512; i++)
		sio_mem_pool_free(f->pool, b[i]);
	/* One chunk still holds a: only the other one goes. */
	assert_int_equal(sio_mem_pool_trim(f->pool), 1);
	sio_mem_pool_get_stats(f->pool, &st);
	assert_int_equal(st.chunks, 1);
	assert_int_equal(st.mapped, CHUNK);
	assert_int_equal(sio_mem_perm_at(f->bus, pa_of(a)), SIO_MEM_RW);
	sio_mem_pool_free(f->pool, a);
	assert_int_equal(sio_mem_pool_trim(f->pool), 1);
	sio_mem_bus_counts(f->bus, &regs, NULL);
	assert_int_equal(regs, 0);
	assert_int_equal(sio_mem_perm_at(f->bus, pa_of(a)), 0);
}

static void test_destroy_releases_blocks_in_use(void **state)
{
	struct fixture *f = *state;
	struct sio_mem_pool *p;
	size_t regs;

	assert_int_equal(sio_mem_pool_create(f->bus, 48, &p), 0);
	for (int i = 0; i < 10; i++)
		assert_non_null(sio_mem_pool_alloc(p, 16 * KiB << (i % 3)));
	sio_mem_bus_counts(f->bus, &regs, NULL);
	assert_int_equal(regs, 3);
	sio_mem_pool_destroy(p);
	sio_mem_bus_counts(f->bus, &regs, NULL);
	assert_int_equal(regs, 0);
}

static void *churn(void *arg)
{
	struct sio_mem_pool *pool = arg;
	void *held[32] = {0};
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;

	for (int i = 0; i < 20000; i++) {
		unsigned int k = sio_test_rand(&seed) % 32;

		if (held[k]) {
			*(volatile uint64_t *)held[k] = 1;
			sio_mem_pool_free(pool, held[k]);
			held[k] = NULL;
		} else {
			held[k] = sio_mem_pool_alloc(pool, 4096 << (k % 3));
			if (!held[k] || *(volatile uint64_t *)held[k])
				return (void *)1;
			*sio_mem_pool_word(pool, held[k]) = k;
		}
	}
	for (int k = 0; k < 32; k++)
		sio_mem_pool_free(pool, held[k]);
	return NULL;
}

static void test_concurrent_alloc_free(void **state)
{
	struct fixture *f = *state;
	pthread_t th[2];
	void *ret;
	struct sio_mem_pool_stats st;

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, churn, f->pool),
				 0);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	sio_mem_pool_get_stats(f->pool, &st);
	assert_int_equal(st.in_use, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_rejects_bad_limits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_every_size_is_aligned_zeroed_and_on_the_bus, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_bad_sizes_fail_with_einval,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_reuse_is_zeroed_and_words_are_private, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_low_placement_stays_below_the_limit, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_trim_returns_only_empty_chunks, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_destroy_releases_blocks_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_alloc_free,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
