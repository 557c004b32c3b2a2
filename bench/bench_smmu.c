// SPDX-License-Identifier: MIT
/*
 * SMMU translation benchmark: ns per translation through the model for
 * stage 1 (4 levels, 4K), stage 2 and nested, and DMA of 64 B, 4 KiB and
 * 64 KiB through a nested translation against a plain memcpy of the same
 * size in the same run.  Medians of several runs.
 *
 * The model has no TLB yet: every translation fetches the STE and CD and
 * walks, so these are the miss costs a TLB will be measured against.
 *
 * Usage: bench-smmu [runs]   (default 7, at least 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#include <softiommu/pgtable.h>
#include <softiommu/smmu.h>

#define SPAN (64u << 20)
#define RW   (SIO_PROT_READ | SIO_PROT_WRITE)

static struct sio_mem_bus *bus;
static struct sio_mem_pool *pool;
static struct sio_smmu *smmu;
static volatile uint64_t sink;

static void *alloc(size_t size)
{
	void *p = sio_mem_pool_alloc(pool, size);

	if (!p)
		exit(1);
	return p;
}

static struct sio_pgtable *table(unsigned int stage, unsigned int ias)
{
	struct sio_pgtable_cfg cfg = {.stage = stage,
				      .granule = 4096,
				      .ias = ias,
				      .oas = 48,
				      .start_level = SIO_PGT_START_AUTO};
	struct sio_pgtable *pt;

	if (sio_pgtable_create(&cfg, bus, &pt))
		exit(1);
	return pt;
}

static void set(uint64_t *s, unsigned int lo, unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++) {
		uint64_t m = 1ull << ((lo + i) % 64);

		if ((v >> i) & 1)
			s[(lo + i) / 64] |= m;
		else
			s[(lo + i) / 64] &= ~m;
	}
}

static void cd_for(uint64_t *cd, const struct sio_pgtable_info *in)
{
	memset(cd, 0, 64);
	set(cd, 0, 6, in->tsz);
	set(cd, 6, 2, in->tg);
	set(cd, 30, 1, 1); /* EPD1 */
	set(cd, 31, 1, 1); /* V */
	set(cd, 32, 3, in->ps);
	set(cd, 41, 1, 1); /* AA64 */
	set(cd, 45, 1, 1); /* R */
	set(cd, 46, 1, 1); /* A */
	set(cd, 68, 48, in->root >> 4);
}

static void ste_for(uint64_t *ste, unsigned int config, uint64_t cd,
		    const struct sio_pgtable_info *s2)
{
	memset(ste, 0, 64);
	set(ste, 0, 1, 1);
	set(ste, 1, 3, config);
	set(ste, 6, 50, cd >> 6);
	if (s2) {
		set(ste, 128, 16, 1);
		set(ste, 160, 6, s2->tsz);
		set(ste, 166, 2, s2->sl0);
		set(ste, 174, 2, s2->tg);
		set(ste, 176, 3, s2->ps);
		set(ste, 179, 1, 1);
		set(ste, 186, 1, 1);
		set(ste, 196, 48, s2->root >> 4);
	}
}

static double per_translation(uint32_t sid, const uint64_t *addr, int n)
{
	struct sio_smmu_result res;
	uint64_t t0 = now_ns(), sum = 0;

	for (int i = 0; i < n; i++) {
		struct sio_smmu_txn t = {.sid = sid, .addr = addr[i]};

		if (sio_smmu_translate(smmu, &t, &res))
			exit(2);
		sum += res.pa;
	}
	sink += sum;
	return (double)(now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	struct sio_smmu_config cfg;
	struct sio_pgtable *s1, *s2, *n1;
	struct sio_pgtable_info i1, i2, in1;
	uint64_t *strtab, *cd1, *cdn, *addr;
	uint8_t *data, *buf;
	double v[3][MAX_RUNS], dma[3][2][MAX_RUNS];
	const size_t sizes[3] = {64, 4096, 65536};
	const int n = 1 << 16;

	if (runs < 5 || runs > MAX_RUNS)
		return 2;
	sio_smmu_config_default(&cfg);
	if (sio_mem_bus_create(&bus) || sio_mem_pool_create(bus, 48, &pool) ||
	    sio_smmu_create(&cfg, bus, &smmu))
		return 1;
	strtab = alloc(4096);
	data = alloc(1 << 20);
	buf = malloc(1 << 16);
	addr = malloc(n * sizeof(*addr));
	/* Stream 1: stage 1; stream 2: stage 2; stream 3: nested. */
	s1 = table(1, 48);
	s2 = table(2, 48);
	n1 = table(1, 48);
	sio_pgtable_get_info(s1, &i1);
	sio_pgtable_get_info(s2, &i2);
	sio_pgtable_get_info(n1, &in1);
	cd1 = alloc(4096);
	cdn = alloc(4096);
	cd_for(cd1, &i1);
	cd_for(cdn, &in1);
	/* Data: 1 MiB of pool memory, at IOVA/IPA 0 in 4K pages. */
	sio_pgtable_map_pages(s1, 0, (uintptr_t)data, 4096, 256, RW);
	sio_pgtable_map_pages(n1, 0, 1ull << 40, 4096, 256, RW);
	/* Stage 2: IPA 2^40.. is the data; the rest of the pool 1:1. */
	sio_pgtable_map_pages(s2, 1ull << 40, (uintptr_t)data, 4096, 256, RW);
	{
		/* Identity stage 2 for the CD and stage-1 tables (the pool). */
		struct sio_mem_pool_stats st;
		uint64_t lo = (uintptr_t)strtab & ~((2ull << 20) - 1);

		sio_mem_pool_get_stats(pool, &st);
		(void)st;
		sio_pgtable_map(s2, lo, lo, 2ull << 20, RW);
		sio_pgtable_map(s2, (uintptr_t)in1.root & ~((2ull << 20) - 1),
				(uintptr_t)in1.root & ~((2ull << 20) - 1),
				2ull << 20, RW);
		sio_pgtable_map(s2, (uintptr_t)cdn & ~((2ull << 20) - 1),
				(uintptr_t)cdn & ~((2ull << 20) - 1),
				2ull << 20, RW);
	}
	ste_for(strtab + 8, 5, (uintptr_t)cd1, NULL);
	ste_for(strtab + 16, 6, 0, &i2);
	ste_for(strtab + 24, 7, (uintptr_t)cdn, &i2);
	sio_smmu_write64(smmu, 0x80, (uintptr_t)strtab);
	sio_smmu_write32(smmu, 0x88, 6);
	sio_smmu_write32(smmu, 0x20, 1);
	for (int i = 0; i < n; i++)
		addr[i] = (uint64_t)(rand() % (1 << 20)) & ~7ull;

	for (int r = 0; r < runs; r++) {
		v[0][r] = per_translation(1, addr, n);
		for (int i = 0; i < n; i++)
			addr[i] += 1ull << 40;
		v[1][r] = per_translation(2, addr, n);
		for (int i = 0; i < n; i++)
			addr[i] -= 1ull << 40;
		v[2][r] = per_translation(3, addr, n);
		for (int k = 0; k < 3; k++) {
			struct sio_smmu_txn t = {.sid = 3};
			int reps = (int)(SPAN / sizes[k] / 64);
			uint64_t t0 = now_ns();

			for (int i = 0; i < reps; i++) {
				memcpy(buf, data + (i * sizes[k]) % (1 << 20),
				       sizes[k]);
				__asm__ volatile("" : : "r"(buf) : "memory");
			}
			dma[k][0][r] = (double)(now_ns() - t0) / reps;
			t0 = now_ns();
			for (int i = 0; i < reps; i++) {
				t.addr = (i * sizes[k]) % (1 << 20);
				if (sio_smmu_dma(smmu, &t, buf, sizes[k], NULL))
					return 3;
			}
			dma[k][1][r] = (double)(now_ns() - t0) / reps;
		}
	}
	printf("softiommu SMMU benchmark (no TLB yet: every translation "
	       "fetches STE and CD and walks), medians of %d runs\n\n",
	       runs);
	printf("  %-44s %9.1f ns\n", "stage 1 translation, 4 levels, 4K",
	       median(v[0], runs));
	printf("  %-44s %9.1f ns\n", "stage 2 translation, 4 levels, 4K",
	       median(v[1], runs));
	printf("  %-44s %9.1f ns\n", "nested translation (S1 4 x S2 4 levels)",
	       median(v[2], runs));
	for (int k = 0; k < 3; k++) {
		double m = median(dma[k][0], runs), d = median(dma[k][1], runs);

		printf("  DMA %6zu B nested: %9.1f ns, memcpy %8.1f ns: "
		       "%5.1f%% of memcpy\n",
		       sizes[k], d, m, 100.0 * m / d);
	}
	sio_pgtable_destroy(s1);
	sio_pgtable_destroy(s2);
	sio_pgtable_destroy(n1);
	sio_smmu_destroy(smmu);
	sio_mem_pool_destroy(pool);
	sio_mem_bus_destroy(bus);
	free(buf);
	free(addr);
	return 0;
}
