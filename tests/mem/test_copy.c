// SPDX-License-Identifier: MIT
/*
 * The device's data mover (sio_mem_copy()): every size around its vector
 * loop's edges (128-byte iterations, the 256-byte switch from memcpy(),
 * the overlapping tail), at every misalignment class of either side.  The
 * expected bytes come from the fill's formula, not from another copy, and
 * guard bytes around the destination must stay as they were.
 */
#include <string.h>
#include <sys/mman.h>

#include "sio_test.h"

#include "mem/mem_private.h"

#define GUARD  128 /* a multiple of 32: the offsets are the misalignments */
#define MAXLEN (64 * 1024 + 300)

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131 + 7 + (i >> 8));
}

static void check_copy(uint8_t *src_base, uint8_t *dst_base, size_t len,
		       size_t s_off, size_t d_off)
{
	uint8_t *src = src_base + s_off, *dst = dst_base + GUARD + d_off;

	memset(dst_base, 0xa5, GUARD + d_off + len + GUARD);
	for (size_t i = 0; i < len; i++)
		src[i] = pattern(i);
	sio_mem_copy(dst, src, len);
	for (size_t i = 0; i < GUARD + d_off; i++)
		if (dst_base[i] != 0xa5)
			fail_msg("len %zu: byte %zd before the copy written",
				 len, (ssize_t)i - (ssize_t)(GUARD + d_off));
	for (size_t i = 0; i < len; i++)
		if (dst[i] != pattern(i))
			fail_msg("len %zu (src +%zu, dst +%zu): byte %zu is "
				 "%#x, not %#x",
				 len, s_off, d_off, i, dst[i], pattern(i));
	for (size_t i = 0; i < GUARD; i++)
		if (dst[len + i] != 0xa5)
			fail_msg("len %zu: byte %zu after the copy written",
				 len, i);
}

static void test_copy_every_edge(void **state)
{
	static const size_t offs[] = {0, 1, 8, 31, 32, 63};
	static const size_t big[] = {383,  384,	 385,	511,   512,  513,
				     1000, 2048, 2111,	2112,  4095, 4096,
				     4097, 8191, 65536, MAXLEN};
	/* page-aligned, so that the offsets are the misalignments */
	size_t src_len = MAXLEN + 128, dst_len = MAXLEN + 128 + 2 * GUARD;
	uint8_t *src = mmap(NULL, src_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *dst = mmap(NULL, dst_len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	assert_true(src != MAP_FAILED);
	assert_true(dst != MAP_FAILED);
	for (size_t s = 0; s < sizeof(offs) / sizeof(offs[0]); s++)
		for (size_t d = 0; d < sizeof(offs) / sizeof(offs[0]); d++) {
			for (size_t len = 0; len <= 300; len++)
				check_copy(src, dst, len, offs[s], offs[d]);
			for (size_t k = 0; k < sizeof(big) / sizeof(big[0]);
			     k++)
				check_copy(src, dst, big[k], offs[s], offs[d]);
		}
	munmap(src, src_len);
	munmap(dst, dst_len);
}

/*
 * A copy that ends at the last byte of a mapping, and one that starts at
 * the first byte of one, with nothing mapped beyond: the tail and head
 * must not read or write past the range (a fault here is a crash).
 */
static void test_copy_at_mapping_edges(void **state)
{
	size_t pg = 4096, len = 4096 + 200;
	uint8_t *m = mmap(NULL, 4 * pg * 2, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a, *b;

	(void)state;
	assert_true(m != MAP_FAILED);
	a = m;		/* pages 1-2 readable and writable, 0 and 3 not */
	b = m + 4 * pg; /* the same, for the other side */
	assert_int_equal(mprotect(a + pg, 2 * pg, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(mprotect(b + pg, 2 * pg, PROT_READ | PROT_WRITE), 0);
	for (size_t i = 0; i < len; i++)
		a[3 * pg - len + i] = pattern(i);
	/* source ends at the guard page, destination starts at one */
	sio_mem_copy(b + pg, a + 3 * pg - len, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(b[pg + i], pattern(i));
	/* and the other way round */
	memset(a + pg, 0, 2 * pg);
	sio_mem_copy(a + 3 * pg - len, b + pg, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(a[3 * pg - len + i], pattern(i));
	munmap(m, 4 * pg * 2);
}

/*
 * sio_mem_move(): overlapping ranges either way round (a DMA engine's copy
 * may overlap) come out as memmove() defines, and disjoint ones take the
 * copy.  Expected bytes from the fill's formula.
 */
static void test_move_overlapping(void **state)
{
	static const long shifts[] = {-4097, -300, -33, -1, 1, 32, 129, 4096};
	size_t len = 8192 + 77, area = len + 2 * 8192;
	uint8_t *m = malloc(area);

	(void)state;
	assert_non_null(m);
	for (size_t k = 0; k < sizeof(shifts) / sizeof(shifts[0]); k++) {
		uint8_t *src = m + 8192, *dst = src + shifts[k];

		for (size_t i = 0; i < area; i++)
			m[i] = (uint8_t)~pattern(i);
		for (size_t i = 0; i < len; i++)
			src[i] = pattern(i);
		sio_mem_move(dst, src, len);
		for (size_t i = 0; i < len; i++)
			if (dst[i] != pattern(i))
				fail_msg("shift %ld: byte %zu is %#x, not %#x",
					 shifts[k], i, dst[i], pattern(i));
	}
	/* disjoint, adjacent on either side */
	for (size_t i = 0; i < len; i++)
		m[i] = pattern(i);
	sio_mem_move(m + len, m, len);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(m[len + i], pattern(i));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_every_edge),
		cmocka_unit_test(test_copy_at_mapping_edges),
		cmocka_unit_test(test_move_overlapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
