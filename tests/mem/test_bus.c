// SPDX-License-Identifier: MIT
/*
 * The memory bus: registration rules, permissions of overlapping ranges,
 * boundaries, and lookups racing registration changes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "sio_test.h"

#include <softiommu/mem.h>

static const char owner_a, owner_b, owner_c;
#define A (&owner_a)
#define B (&owner_b)
#define C (&owner_c)

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void *page_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static int setup(void **state)
{
	struct sio_mem_bus *bus;

	assert_int_equal(sio_mem_bus_create(&bus), 0);
	*state = bus;
	return 0;
}

static int teardown(void **state)
{
	sio_mem_bus_destroy(*state);
	return 0;
}

static void test_register_rejects_bad_arguments(void **state)
{
	struct sio_mem_bus *bus = *state;
	size_t regs, segs;

	assert_int_equal(sio_mem_register(bus, 0x1000, 0, SIO_MEM_RW, A),
			 -EINVAL);
	assert_int_equal(sio_mem_register(bus, 0x1000, 16, 0, A), -EINVAL);
	assert_int_equal(sio_mem_register(bus, 0x1000, 16, 4, A), -EINVAL);
	assert_int_equal(sio_mem_register(bus, 0x1000, 16, SIO_MEM_RW, NULL),
			 -EINVAL);
	assert_int_equal(sio_mem_register(bus, ~0ull - 4095, 8192, SIO_MEM_RW,
					  A),
			 -EOVERFLOW);
	sio_mem_bus_counts(bus, &regs, &segs);
	assert_int_equal(regs, 0);
	assert_int_equal(segs, 0);
}

static void test_read_write_roundtrip_is_little_endian(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(4096);
	uint64_t v = 0;

	assert_int_equal(sio_mem_register(bus, pa_of(buf), 4096, SIO_MEM_RW, A),
			 0);
	assert_int_equal(
		sio_mem_write64(bus, pa_of(buf) + 8, 0x0102030405060708ull), 0);
	/* Little-endian in memory: least significant byte first. */
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(buf[15], 0x01);
	assert_int_equal(sio_mem_read64(bus, pa_of(buf) + 8, &v), 0);
	assert_true(v == 0x0102030405060708ull);

	assert_int_equal(sio_mem_write(bus, pa_of(buf) + 100, "hello", 5), 0);
	assert_memory_equal(buf + 100, "hello", 5);
	char out[5];
	assert_int_equal(sio_mem_read(bus, pa_of(buf) + 100, out, 5), 0);
	assert_memory_equal(out, "hello", 5);
	/* A zero-length access touches nothing and succeeds. */
	assert_int_equal(sio_mem_read(bus, 0, out, 0), 0);

	assert_int_equal(sio_mem_unregister(bus, pa_of(buf), 4096, A), 0);
	munmap(buf, 4096);
}

static void test_unbacked_and_misaligned(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(8192);
	uint64_t v = 0x55;
	char out[16];

	assert_int_equal(sio_mem_register(bus, pa_of(buf), 4096, SIO_MEM_RW, A),
			 0);
	/* Unbacked: the page after the registration, and address 0. */
	assert_int_equal(sio_mem_read64(bus, pa_of(buf) + 4096, &v), -EFAULT);
	assert_true(v == 0x55);
	assert_int_equal(sio_mem_read64(bus, 0, &v), -EFAULT);
	assert_int_equal(sio_mem_write64(bus, pa_of(buf) - 8, 1), -EFAULT);
	/* Misaligned descriptor accesses are refused before any lookup. */
	assert_int_equal(sio_mem_read64(bus, pa_of(buf) + 4, &v), -EINVAL);
	assert_int_equal(sio_mem_write64(bus, pa_of(buf) + 1, 1), -EINVAL);
	assert_int_equal(sio_mem_cmpxchg64(bus, pa_of(buf) + 2, &v, 1),
			 -EINVAL);
	/* Byte runs have no alignment rule. */
	assert_int_equal(sio_mem_read(bus, pa_of(buf) + 3, out, 5), 0);

	sio_mem_unregister(bus, pa_of(buf), 4096, A);
	munmap(buf, 8192);
}

static void test_boundaries_transfer_nothing_on_failure(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(8192);
	uint64_t base = pa_of(buf);
	uint8_t out[16];
	uint64_t v;

	memset(buf, 0xab, 8192);
	assert_int_equal(sio_mem_register(bus, base, 4096, SIO_MEM_RW, A), 0);
	/* Last descriptor of the range: fine; one past: abort. */
	assert_int_equal(sio_mem_read64(bus, base + 4088, &v), 0);
	assert_int_equal(sio_mem_read64(bus, base + 4096, &v), -EFAULT);
	/* A run ending on the last byte is fine, one byte more is not. */
	assert_int_equal(sio_mem_read(bus, base + 4090, out, 6), 0);
	memset(out, 0x11, sizeof(out));
	assert_int_equal(sio_mem_read(bus, base + 4090, out, 7), -EFAULT);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 0x11);
	/* A failed write leaves the backed part untouched too. */
	memset(out, 0x22, sizeof(out));
	assert_int_equal(sio_mem_write(bus, base + 4088, out, 16), -EFAULT);
	for (int i = 4088; i < 4096; i++)
		assert_int_equal(buf[i], 0xab);
	/* A run starting just below the range. */
	assert_int_equal(sio_mem_read(bus, base - 1, out, 2), -EFAULT);
	/* A run whose length wraps the address space. */
	assert_int_equal(sio_mem_read(bus, base, out, SIZE_MAX), -EFAULT);

	sio_mem_unregister(bus, base, 4096, A);
	munmap(buf, 8192);
}

static void test_permissions_are_enforced(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(8192);
	uint64_t base = pa_of(buf), v = 7, exp;

	buf[0] = 0x5a;
	assert_int_equal(sio_mem_register(bus, base, 4096, SIO_MEM_READ, A), 0);
	assert_int_equal(
		sio_mem_register(bus, base + 4096, 4096, SIO_MEM_WRITE, B), 0);
	assert_int_equal(sio_mem_perm_at(bus, base), SIO_MEM_READ);
	assert_int_equal(sio_mem_perm_at(bus, base + 4096), SIO_MEM_WRITE);

	assert_int_equal(sio_mem_write64(bus, base, 1), -EFAULT);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(sio_mem_read64(bus, base, &v), 0);
	assert_int_equal(v, 0x5a);
	assert_int_equal(sio_mem_read64(bus, base + 4096, &v), -EFAULT);
	assert_int_equal(sio_mem_write64(bus, base + 4096, 3), 0);
	/* Compare-and-swap needs both permissions. */
	exp = 0x5a;
	assert_int_equal(sio_mem_cmpxchg64(bus, base, &exp, 1), -EFAULT);
	exp = 3;
	assert_int_equal(sio_mem_cmpxchg64(bus, base + 4096, &exp, 1), -EFAULT);
	/* A read across both pages needs read permission on both. */
	assert_int_equal(sio_mem_read(bus, base + 4092, &v, 8), -EFAULT);

	sio_mem_unregister_owner(bus, A);
	sio_mem_unregister_owner(bus, B);
	munmap(buf, 8192);
}

static void test_overlapping_registrations_union(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(3 * 4096);
	uint64_t base = pa_of(buf), v;
	size_t regs, segs;

	/* A: [0, 8K) read; B: [4K, 12K) write. */
	assert_int_equal(sio_mem_register(bus, base, 8192, SIO_MEM_READ, A), 0);
	assert_int_equal(
		sio_mem_register(bus, base + 4096, 8192, SIO_MEM_WRITE, B), 0);
	sio_mem_bus_counts(bus, &regs, &segs);
	assert_int_equal(regs, 2);
	assert_int_equal(segs, 3);
	assert_int_equal(sio_mem_perm_at(bus, base), SIO_MEM_READ);
	assert_int_equal(sio_mem_perm_at(bus, base + 4095), SIO_MEM_READ);
	assert_int_equal(sio_mem_perm_at(bus, base + 4096), SIO_MEM_RW);
	assert_int_equal(sio_mem_perm_at(bus, base + 8191), SIO_MEM_RW);
	assert_int_equal(sio_mem_perm_at(bus, base + 8192), SIO_MEM_WRITE);
	assert_int_equal(sio_mem_perm_at(bus, base + 12287), SIO_MEM_WRITE);
	assert_int_equal(sio_mem_perm_at(bus, base + 12288), 0);

	/* Reads may cross from [0,4K) into [4K,8K), not into [8K,12K). */
	assert_int_equal(sio_mem_read(bus, base + 4092, &v, 8), 0);
	assert_int_equal(sio_mem_read(bus, base + 8188, &v, 8), -EFAULT);
	/* Writes may cross from [4K,8K) into [8K,12K). */
	assert_int_equal(sio_mem_write(bus, base + 8188, &v, 8), 0);

	/* Removing A leaves B's range only. */
	assert_int_equal(sio_mem_unregister(bus, base, 8192, A), 0);
	assert_int_equal(sio_mem_perm_at(bus, base), 0);
	assert_int_equal(sio_mem_perm_at(bus, base + 4096), SIO_MEM_WRITE);
	sio_mem_bus_counts(bus, &regs, &segs);
	assert_int_equal(regs, 1);
	assert_int_equal(segs, 1);
	assert_int_equal(sio_mem_unregister(bus, base + 4096, 8192, B), 0);
	munmap(buf, 3 * 4096);
}

static void test_same_range_twice_needs_two_unregisters(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint64_t pa = 0x100000;

	assert_int_equal(sio_mem_register(bus, pa, 4096, SIO_MEM_RW, A), 0);
	assert_int_equal(sio_mem_register(bus, pa, 4096, SIO_MEM_RW, A), 0);
	assert_int_equal(sio_mem_register(bus, pa, 4096, SIO_MEM_READ, B), 0);
	/* Unregistration must repeat owner and exact range. */
	assert_int_equal(sio_mem_unregister(bus, pa, 4096, C), -ENOENT);
	assert_int_equal(sio_mem_unregister(bus, pa, 2048, A), -ENOENT);
	assert_int_equal(sio_mem_unregister(bus, pa + 4096, 4096, A), -ENOENT);
	assert_int_equal(sio_mem_unregister(bus, pa, 0, A), -ENOENT);

	assert_int_equal(sio_mem_unregister(bus, pa, 4096, A), 0);
	assert_int_equal(sio_mem_perm_at(bus, pa), SIO_MEM_RW);
	assert_int_equal(sio_mem_unregister(bus, pa, 4096, A), 0);
	assert_int_equal(sio_mem_perm_at(bus, pa), SIO_MEM_READ);
	assert_int_equal(sio_mem_unregister(bus, pa, 4096, A), -ENOENT);
	assert_int_equal(sio_mem_unregister(bus, pa, 4096, B), 0);
	assert_int_equal(sio_mem_perm_at(bus, pa), 0);
}

static void test_adjacent_ranges_merge_and_split(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(2 * 4096);
	uint64_t base = pa_of(buf), v = 0;
	size_t segs;

	assert_int_equal(sio_mem_register(bus, base, 4096, SIO_MEM_RW, A), 0);
	assert_int_equal(
		sio_mem_register(bus, base + 4096, 4096, SIO_MEM_RW, B), 0);
	sio_mem_bus_counts(bus, NULL, &segs);
	assert_int_equal(segs, 1);
	/* One access may span both registrations. */
	assert_int_equal(sio_mem_write(bus, base + 4090, "twelve bytes", 12),
			 0);
	assert_memory_equal(buf + 4090, "twelve bytes", 12);
	assert_int_equal(sio_mem_unregister(bus, base, 4096, A), 0);
	sio_mem_bus_counts(bus, NULL, &segs);
	assert_int_equal(segs, 1);
	assert_int_equal(sio_mem_read(bus, base + 4090, &v, 8), -EFAULT);
	assert_int_equal(sio_mem_read64(bus, base + 4096, &v), 0);
	sio_mem_unregister(bus, base + 4096, 4096, B);
	munmap(buf, 2 * 4096);
}

static void test_top_of_address_space(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint64_t pa = ~0ull - 4095;

	/* Registering the last page is fine; nothing here dereferences it. */
	assert_int_equal(sio_mem_register(bus, pa, 4096, SIO_MEM_READ, A), 0);
	assert_int_equal(sio_mem_perm_at(bus, ~0ull), SIO_MEM_READ);
	assert_int_equal(sio_mem_perm_at(bus, pa), SIO_MEM_READ);
	assert_int_equal(sio_mem_perm_at(bus, pa - 1), 0);
	assert_int_equal(sio_mem_unregister(bus, pa, 4096, A), 0);
	assert_int_equal(sio_mem_perm_at(bus, ~0ull), 0);
}

static void test_cmpxchg(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint64_t *buf = page_alloc(4096), exp;

	buf[1] = 10;
	assert_int_equal(sio_mem_register(bus, pa_of(buf), 4096, SIO_MEM_RW, A),
			 0);
	exp = 9;
	assert_int_equal(sio_mem_cmpxchg64(bus, pa_of(&buf[1]), &exp, 11),
			 -EAGAIN);
	assert_int_equal(exp, 10);
	assert_int_equal(buf[1], 10);
	assert_int_equal(sio_mem_cmpxchg64(bus, pa_of(&buf[1]), &exp, 11), 0);
	assert_int_equal(buf[1], 11);
	sio_mem_unregister(bus, pa_of(buf), 4096, A);
	exp = 11;
	assert_int_equal(sio_mem_cmpxchg64(bus, pa_of(&buf[1]), &exp, 12),
			 -EFAULT);
	assert_int_equal(buf[1], 11);
	munmap(buf, 4096);
}

static void test_unregister_owner_and_many_ranges(void **state)
{
	struct sio_mem_bus *bus = *state;
	const uint64_t base = 0x40000000, n = 1000;
	size_t regs, segs;

	/* Disjoint pages at a stride of two pages: nothing dereferenced. */
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(sio_mem_register(bus, base + i * 8192, 4096,
						  SIO_MEM_RW, (i & 1) ? A : B),
				 0);
	sio_mem_bus_counts(bus, &regs, &segs);
	assert_int_equal(regs, n);
	assert_int_equal(segs, n);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(sio_mem_perm_at(bus, base + i * 8192 + 4095),
				 SIO_MEM_RW);
		assert_int_equal(sio_mem_perm_at(bus, base + i * 8192 + 4096),
				 0);
	}
	assert_int_equal(sio_mem_unregister_owner(bus, A), n / 2);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(sio_mem_perm_at(bus, base + i * 8192),
				 (i & 1) ? 0 : SIO_MEM_RW);
	assert_int_equal(sio_mem_unregister_owner(bus, A), 0);
	assert_int_equal(sio_mem_unregister_owner(bus, B), n / 2);
	sio_mem_bus_counts(bus, &regs, &segs);
	assert_int_equal(regs, 0);
}

static void test_sections_and_view_ptr(void **state)
{
	struct sio_mem_bus *bus = *state;
	uint8_t *buf = page_alloc(4096);
	struct sio_mem_guard g, inner;

	assert_int_equal(
		sio_mem_register(bus, pa_of(buf), 4096, SIO_MEM_READ, A), 0);
	sio_mem_enter(bus, &g);
	assert_ptr_equal(sio_mem_view_ptr(&g, pa_of(buf) + 16, 64,
					  SIO_MEM_READ),
			 buf + 16);
	assert_null(sio_mem_view_ptr(&g, pa_of(buf) + 16, 64, SIO_MEM_WRITE));
	assert_null(sio_mem_view_ptr(&g, pa_of(buf) + 4095, 2, SIO_MEM_READ));
	assert_non_null(
		sio_mem_view_ptr(&g, pa_of(buf) + 4095, 0, SIO_MEM_READ));
	/* Sections nest. */
	sio_mem_enter(bus, &inner);
	assert_non_null(
		sio_mem_view_ptr(&inner, pa_of(buf), 4096, SIO_MEM_READ));
	sio_mem_exit(bus, &inner);
	sio_mem_exit(bus, &g);
	sio_mem_unregister(bus, pa_of(buf), 4096, A);
	munmap(buf, 4096);
}

/*
 * Readers hammer a range that a writer keeps registering, unregistering
 * and unmapping.  A reader that got past the lookup must never touch
 * memory after its unregistration returned (the process would fault),
 * and readers of a stable range must never see a spurious abort while
 * views are being replaced.
 */
#define STRESS_PAGES 4

struct stress {
	struct sio_mem_bus *bus;
	_Atomic uint64_t flaky_base; /* where the writer maps, or 0 */
	uint64_t stable;
	atomic_bool stop;
	_Atomic uint64_t hits, aborts, spurious;
};

static void *stress_reader(void *arg)
{
	struct stress *s = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed;

	while (!atomic_load(&s->stop)) {
		uint64_t base = atomic_load(&s->flaky_base);
		uint64_t off =
			(sio_test_rand(&seed) % (STRESS_PAGES * 512)) * 8;
		uint64_t v = 0;

		if (sio_mem_read64(s->bus, s->stable + (off & 4095), &v) ||
		    v != 0x5151515151515151ull)
			atomic_fetch_add(&s->spurious, 1);
		if (!base)
			base = 0x1000; /* unmapped: always an abort */
		if (sio_mem_read64(s->bus, base + off, &v) == 0) {
			if (v != 0xa5a5a5a5a5a5a5a5ull)
				atomic_fetch_add(&s->spurious, 1);
			atomic_fetch_add(&s->hits, 1);
		} else {
			atomic_fetch_add(&s->aborts, 1);
		}
	}
	return NULL;
}

static void test_concurrent_lookups_and_unmaps(void **state)
{
	struct sio_mem_bus *bus = *state;
	struct stress s = {.bus = bus};
	uint8_t *stable = page_alloc(4096);
	pthread_t th[3];
	struct timespec t0;
	int rounds = 0;

	memset(stable, 0x51, 4096);
	s.stable = pa_of(stable);
	assert_int_equal(sio_mem_register(bus, s.stable, 4096, SIO_MEM_READ, C),
			 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
			pthread_create(&th[i], NULL, stress_reader, &s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		size_t len = STRESS_PAGES * 4096;
		uint8_t *m = page_alloc(len);

		memset(m, 0xa5, len);
		assert_int_equal(sio_mem_register(bus, pa_of(m), len,
						  SIO_MEM_READ, A),
				 0);
		atomic_store(&s.flaky_base, pa_of(m));
		/* Let readers in, with unrelated churn in between. */
		assert_int_equal(sio_mem_register(bus, 0x7000, 4096,
						  SIO_MEM_READ, B),
				 0);
		assert_int_equal(sio_mem_unregister(bus, 0x7000, 4096, B), 0);
		assert_int_equal(sio_mem_unregister(bus, pa_of(m), len, A), 0);
		/* No reader can still be inside m: unmap it for real. */
		munmap(m, len);
		rounds++;
	} while (sio_test_elapsed(&t0) < 0.4 ||
		 /* a loaded machine starves the unmapper: give it rounds */
		 ((rounds <= 10 || !atomic_load(&s.hits)) &&
		  sio_test_elapsed(&t0) < 20));
	atomic_store(&s.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	print_message("# %d rounds, %llu hits, %llu aborts\n", rounds,
		      (unsigned long long)atomic_load(&s.hits),
		      (unsigned long long)atomic_load(&s.aborts));
	assert_int_equal(atomic_load(&s.spurious), 0);
	assert_true(rounds > 10);
	assert_true(atomic_load(&s.hits) > 0);
	sio_mem_unregister(bus, s.stable, 4096, C);
	munmap(stable, 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_register_rejects_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_read_write_roundtrip_is_little_endian, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_unbacked_and_misaligned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_boundaries_transfer_nothing_on_failure, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_permissions_are_enforced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_overlapping_registrations_union, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_same_range_twice_needs_two_unregisters, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_adjacent_ranges_merge_and_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_top_of_address_space,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmpxchg, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unregister_owner_and_many_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sections_and_view_ptr,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_concurrent_lookups_and_unmaps, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
