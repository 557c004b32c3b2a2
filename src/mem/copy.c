// SPDX-License-Identifier: MIT
/*
 * The data mover behind device DMA: the bytes of a transaction, once the
 * SMMU has translated it and the bus granted the range.
 *
 * glibc's memcpy() moves 2 KiB and more with REP MOVSB on CPUs with ERMS.
 * On the AMD Zen cores this project is measured on, that is 10-20%
 * slower for the 4 KiB of a page than a plain loop of 32-byte vector
 * moves (docs/benchmarks.md, "The DMA's copy"), and a page is what most
 * DMA moves.  So a device's copy of 256 bytes or more takes the vector
 * loop where the CPU has AVX2, and memcpy() otherwise; below 256 bytes
 * memcpy()'s own small-size paths are as fast.
 */
#include <stdint.h>
#include <string.h>

#include "mem/mem_private.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define COPY_VEC_MIN 256

/*
 * The first 32 bytes, then 128 bytes an iteration from the destination's
 * next 32-byte boundary (a store that splits a cache line costs two, and
 * memcpy() aligns its stores too), then the last 128 bytes again from the
 * end, overlapping what the loop copied: no byte loops.  The ranges must
 * not overlap (as for memcpy()), and len must be at least 256.
 */
__attribute__((target("avx2"))) static void
copy_avx2(void *dst, const void *src, size_t len)
{
	const uint8_t *s = src;
	uint8_t *d = dst;
	size_t i = 32 - ((uintptr_t)d & 31), tail = len - 128;

	_mm256_storeu_si256((__m256i *)d,
			    _mm256_loadu_si256((const __m256i *)s));
	for (; i + 128 <= len; i += 128) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(s + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(s + i + 32));
		__m256i c = _mm256_loadu_si256((const __m256i *)(s + i + 64));
		__m256i e = _mm256_loadu_si256((const __m256i *)(s + i + 96));

		_mm256_store_si256((__m256i *)(d + i), a);
		_mm256_store_si256((__m256i *)(d + i + 32), b);
		_mm256_store_si256((__m256i *)(d + i + 64), c);
		_mm256_store_si256((__m256i *)(d + i + 96), e);
	}
	if (i == len)
		return;
	for (i = 0; i < 128; i += 32)
		_mm256_storeu_si256(
			(__m256i *)(d + tail + i),
			_mm256_loadu_si256((const __m256i *)(s + tail + i)));
}

void sio_mem_copy(void *dst, const void *src, size_t len)
{
	if (len >= COPY_VEC_MIN && __builtin_cpu_supports("avx2"))
		copy_avx2(dst, src, len);
	else
		memcpy(dst, src, len);
}
#else
void sio_mem_copy(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
}
#endif

void sio_mem_move(void *dst, const void *src, size_t len)
{
	/* as integers: the two ranges may be parts of different objects */
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d + len <= s || s + len <= d)
		sio_mem_copy(dst, src, len);
	else
		memmove(dst, src, len);
}
