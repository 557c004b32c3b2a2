// SPDX-License-Identifier: MIT
/*
 * SMMU translation benchmark.  In one run, ns per translation through the
 * model for: a TLB hit (stage 1, stage 2, nested); TLB misses of stage 1
 * (4 levels, 4K), stage 2 and nested, with the STE and CD cached; the
 * nested miss against a naive two-dimensional walk of the same tables
 * (24 dependent loads straight from memory, no checks); DMA of 64 B,
 * 4 KiB and 64 KiB through a nested translation against a plain memcpy of
 * the same size (and the DMA's own mover, mem/copy.c, alone, which is
 * what the DMA's copy costs without its translation); and two threads of TLB
 * hits against one.  Medians of several runs.  Last, TLBI_NH_ALL of a VMID (a
 * per-VMID epoch) and TLBI_NH_ASID (a per-ASID epoch) against TLBI_NH_VA of
 * the whole 1 GiB (a scan of every entry, as the first two once were), each
 * with its CMD_SYNC.
 *
 * The IOVA space is 1 GiB of 4K pages (262144 translations, 16 times the
 * TLB), all backed by the same 1 MiB so that data stays in the CPU cache.
 * Misses are measured over pages not translated since the last
 * TLBI_NSNH_ALL, so every one walks.  A warm pass (2048 misses) takes a
 * few hundred microseconds, short enough for one preemption to double
 * it, so a run's warm figure is the median of 15 passes.
 *
 * Usage: bench-smmu [runs]   (default 7, at least 5)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#include <softiommu/pgtable.h>
#include <softiommu/smmu.h>
#include "mem/mem_private.h"

#define PAGES	  (1u << 18) /* 1 GiB of IOVA */
#define DATA	  (1u << 20)
#define IPA_BASE  (1ull << 40)
#define HOT_PAGES 1024
#define MISSES	  (1 << 15)
#define NEAR	  2048 /* pages of the first 8 MiB: tables stay in cache */
#define PASSES	  15   /* warm passes a run, the run's figure their median */
#define RW	  (SIO_PROT_READ | SIO_PROT_WRITE)

struct bench {
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
	struct sio_smmu *smmu;
	uint64_t *cmdq;
	uint32_t prod;
	struct sio_pgtable *s1, *s2, *n1;
	uint8_t *data;
	uint64_t *hot, *order, *near;
};

static volatile uint64_t sink;

static void *alloc(struct bench *b, size_t size)
{
	void *p = sio_mem_pool_alloc(b->pool, size);

	if (!p)
		exit(1);
	return p;
}

static struct sio_pgtable *table(struct bench *b, unsigned int stage)
{
	struct sio_pgtable_cfg cfg = {.stage = stage,
				      .granule = 4096,
				      .ias = 48,
				      .oas = 48,
				      .start_level = SIO_PGT_START_AUTO};
	struct sio_pgtable *pt;

	if (sio_pgtable_create(&cfg, b->bus, &pt))
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
	set(cd, 41, 1, 1);  /* AA64 */
	set(cd, 45, 1, 1);  /* R */
	set(cd, 46, 1, 1);  /* A */
	set(cd, 48, 16, 1); /* ASID */
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

static void command(struct bench *b, uint64_t d0, uint64_t d1)
{
	uint32_t idx = b->prod & 255;

	b->cmdq[2 * idx] = d0;
	b->cmdq[2 * idx + 1] = d1;
	b->prod = (b->prod + 1) & 511;
	sio_smmu_write32(b->smmu, 0x98, b->prod);
}

/* TLBI_NSNH_ALL and CMD_SYNC: an empty TLB, configuration still cached. */
static void flush_tlb(struct bench *b)
{
	command(b, 0x30, 0);
	command(b, 0x46, 0);
}

/*
 * ns per translation of @n addresses, @reps times over; with @reps > 1
 * after one untimed pass, so that a TLB hit is measured as one.
 */
static double per_translation(struct bench *b, uint32_t sid, uint64_t offset,
			      const uint64_t *addr, int n, int reps)
{
	struct sio_smmu_result res;
	uint64_t t0 = 0, sum = 0;

	for (int r = reps > 1 ? -1 : 0; r < reps; r++) {
		if (r == 0)
			t0 = now_ns();
		for (int i = 0; i < n; i++) {
			struct sio_smmu_txn t = {.sid = sid,
						 .addr = addr[i] + offset};

			if (sio_smmu_translate(b->smmu, &t, &res))
				exit(2);
			sum += res.pa;
		}
	}
	sink += sum;
	return (double)(now_ns() - t0) / ((double)n * reps);
}

/*
 * The naive two-dimensional walk: every stage-1 table address through a
 * 4-level stage-2 walk, then the output IPA too — loads straight from the
 * pool (its PAs are host addresses), no checks of any kind.
 */
static uint64_t naive_s2(uint64_t root, uint64_t ipa)
{
	uint64_t table = root;

	for (int level = 0; level < 4; level++) {
		uint64_t *t = (uint64_t *)(uintptr_t)table;
		uint64_t d = __atomic_load_n(
			&t[(ipa >> (39 - 9 * level)) & 511], __ATOMIC_ACQUIRE);

		table = d & 0xfffffffff000ull;
	}
	return table | (ipa & 0xfff);
}

static uint64_t naive_nested(uint64_t s1root, uint64_t s2root, uint64_t va)
{
	uint64_t table = s1root;

	for (int level = 0; level < 4; level++) {
		uint64_t *t = (uint64_t *)(uintptr_t)naive_s2(s2root, table);
		uint64_t d = __atomic_load_n(&t[(va >> (39 - 9 * level)) & 511],
					     __ATOMIC_ACQUIRE);

		table = d & 0xfffffffff000ull;
	}
	return naive_s2(s2root, table | (va & 0xfff));
}

/*
 * Threads of nested TLB hits, started together and stopped together: each
 * counts what it translated in a fixed window, so a thread the scheduler
 * starts late cannot make the other look alone.
 */
#define WINDOW_NS 100000000ull

struct hit_run {
	struct bench *b;
	pthread_barrier_t start;
	_Atomic int stop;
	_Atomic uint64_t done;
};

static void *hit_worker(void *arg)
{
	struct hit_run *h = arg;
	struct sio_smmu_result res;
	uint64_t n = 0, sum = 0;

	pthread_barrier_wait(&h->start);
	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		for (int i = 0; i < HOT_PAGES; i++) {
			struct sio_smmu_txn t = {.sid = 3,
						 .addr = h->b->hot[i]};

			if (sio_smmu_translate(h->b->smmu, &t, &res))
				exit(2);
			sum += res.pa;
		}
		n += HOT_PAGES;
	}
	atomic_fetch_add(&h->done, n);
	sink += sum;
	return NULL;
}

/* Translations per ns of @threads threads of nested TLB hits. */
static double hit_rate(struct bench *b, int threads)
{
	struct hit_run h = {.b = b};
	pthread_t tid[2];
	uint64_t t0;

	pthread_barrier_init(&h.start, NULL, (unsigned int)threads + 1);
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, hit_worker, &h);
	pthread_barrier_wait(&h.start);
	t0 = now_ns();
	/* Asleep, so the workers have the CPUs to themselves. */
	nanosleep(&(struct timespec){.tv_nsec = WINDOW_NS}, NULL);
	atomic_store(&h.stop, 1);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&h.start);
	return (double)atomic_load(&h.done) / (double)(now_ns() - t0);
}

static void map_everything(struct bench *b)
{
	struct sio_pgtable_info i1, i2, in1;
	uint64_t *strtab = alloc(b, 4096), *cd1 = alloc(b, 4096);
	uint64_t *cdn = alloc(b, 4096);

	b->cmdq = alloc(b, 4096);
	b->data = alloc(b, DATA);
	b->s1 = table(b, 1);
	b->s2 = table(b, 2);
	b->n1 = table(b, 1);
	/* Page i of every space is data page i % 256. */
	for (uint64_t i = 0; i < PAGES; i++) {
		uint64_t pa = (uintptr_t)b->data + (i % (DATA / 4096)) * 4096;

		if (sio_pgtable_map(b->s1, i * 4096, pa, 4096, RW) ||
		    sio_pgtable_map(b->n1, i * 4096, IPA_BASE + i * 4096, 4096,
				    RW) ||
		    sio_pgtable_map(b->s2, IPA_BASE + i * 4096, pa, 4096, RW))
			exit(1);
	}
	/* Stage 2 maps the nested stream's tables and CD at their PAs. */
	for (uint64_t i = 0; i < PAGES; i += 512) {
		struct sio_pgtable_walk w;

		sio_pgtable_walk(b->n1, i * 4096, &w);
		for (unsigned int s = 0; s < w.nsteps; s++)
			sio_pgtable_map(b->s2, w.step[s].table, w.step[s].table,
					4096, RW);
	}
	sio_pgtable_map(b->s2, (uintptr_t)cdn, (uintptr_t)cdn, 4096, RW);
	sio_pgtable_get_info(b->s1, &i1);
	sio_pgtable_get_info(b->s2, &i2);
	sio_pgtable_get_info(b->n1, &in1);
	cd_for(cd1, &i1);
	cd_for(cdn, &in1);
	/* Stream 1: stage 1; stream 2: stage 2; stream 3: nested. */
	ste_for(strtab + 8, 5, (uintptr_t)cd1, NULL);
	ste_for(strtab + 16, 6, 0, &i2);
	ste_for(strtab + 24, 7, (uintptr_t)cdn, &i2);
	sio_smmu_write64(b->smmu, 0x80, (uintptr_t)strtab);
	sio_smmu_write32(b->smmu, 0x88, 6);
	sio_smmu_write64(b->smmu, 0x90, (uintptr_t)b->cmdq | 8);
	sio_smmu_write32(b->smmu, 0x20, 1 | 8); /* SMMUEN, CMDQEN */
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 7;
	const size_t sizes[3] = {64, 4096, 65536};
	double hit[3][MAX_RUNS], miss[3][MAX_RUNS], naive[MAX_RUNS];
	double warm[3][MAX_RUNS], naive_warm[MAX_RUNS];
	double ratio[MAX_RUNS * PASSES];
	double dma[3][3][MAX_RUNS], one[MAX_RUNS], two[MAX_RUNS];
	double nh_all[MAX_RUNS], nh_asid[MAX_RUNS], nh_scan[MAX_RUNS];
	struct sio_smmu_config cfg;
	struct sio_pgtable_info in1, i2;
	struct bench b = {0};
	uint8_t *buf;

	if (runs < 5 || runs > MAX_RUNS)
		return 2;
	sio_smmu_config_default(&cfg);
	if (sio_mem_bus_create(&b.bus) ||
	    sio_mem_pool_create(b.bus, 48, &b.pool) ||
	    sio_smmu_create(&cfg, b.bus, &b.smmu))
		return 1;
	map_everything(&b);
	sio_pgtable_get_info(b.n1, &in1);
	sio_pgtable_get_info(b.s2, &i2);
	buf = malloc(1 << 16);
	b.hot = malloc(HOT_PAGES * sizeof(*b.hot));
	b.order = malloc(PAGES * sizeof(*b.order));
	/* A random order of all pages; the hot set is its first pages. */
	for (uint32_t i = 0; i < PAGES; i++)
		b.order[i] = (uint64_t)i * 4096 + 8 * (rand() % 512);
	for (uint32_t i = PAGES - 1; i > 0; i--) {
		uint32_t j = (uint32_t)rand() % (i + 1);
		uint64_t t = b.order[i];

		b.order[i] = b.order[j];
		b.order[j] = t;
	}
	memcpy(b.hot, b.order, HOT_PAGES * sizeof(*b.hot));
	b.near = malloc(NEAR * sizeof(*b.near));
	for (uint32_t i = 0, n = 0; i < PAGES && n < NEAR; i++)
		if (b.order[i] < NEAR * 4096ull)
			b.near[n++] = b.order[i];

	for (int r = 0; r < runs; r++) {
		const uint64_t *m = b.order + (r * MISSES) % PAGES;
		uint64_t t0, sum = 0;

		/* The naive walk's pages are as cold as the model's. */
		const uint64_t *mn = b.order + (r * MISSES + PAGES / 2) % PAGES;

		flush_tlb(&b);
		miss[0][r] = per_translation(&b, 1, 0, m, MISSES, 1);
		miss[1][r] = per_translation(&b, 2, IPA_BASE, m, MISSES, 1);
		miss[2][r] = per_translation(&b, 3, 0, m, MISSES, 1);
		t0 = now_ns();
		for (int i = 0; i < MISSES; i++)
			sum += naive_nested(in1.root, i2.root, mn[i]);
		naive[r] = (double)(now_ns() - t0) / MISSES;
		/*
		 * Misses whose tables are in the CPU cache: after a first
		 * pass, PASSES passes each after TLBI_NSNH_ALL; a pass is
		 * short (2048 misses), so the run's figure is the median of
		 * its passes, as the naive walk's is of its own.
		 */
		for (int k = 0; k < 3; k++) {
			uint64_t off = k == 1 ? IPA_BASE : 0;
			double pass[PASSES], npass[PASSES];

			per_translation(&b, (uint32_t)k + 1, off, b.near, NEAR,
					1);
			for (int q = 0; q < PASSES; q++) {
				flush_tlb(&b);
				pass[q] = per_translation(&b, (uint32_t)k + 1,
							  off, b.near, NEAR, 1);
				if (k != 2)
					continue;
				/*
				 * The naive walk right after each nested pass:
				 * this VM's speed changes within milliseconds,
				 * so only a pair measured together gives a
				 * ratio that is the model's own.
				 */
				t0 = now_ns();
				for (int i = 0; i < NEAR; i++)
					sum += naive_nested(in1.root, i2.root,
							    b.near[i]);
				npass[q] = (double)(now_ns() - t0) / NEAR;
				ratio[r * PASSES + q] = pass[q] / npass[q];
			}
			warm[k][r] = median(pass, PASSES);
			if (k == 2)
				naive_warm[r] = median(npass, PASSES);
		}
		sink += sum;
		hit[0][r] = per_translation(&b, 1, 0, b.hot, HOT_PAGES, 64);
		hit[1][r] =
			per_translation(&b, 2, IPA_BASE, b.hot, HOT_PAGES, 64);
		hit[2][r] = per_translation(&b, 3, 0, b.hot, HOT_PAGES, 64);
		for (int k = 0; k < 3; k++) {
			struct sio_smmu_txn t = {.sid = 3};
			int reps = (int)((64u << 20) / sizes[k] / 64);

			t0 = now_ns();
			for (int i = 0; i < reps; i++) {
				memcpy(buf, b.data + (i * sizes[k]) % DATA,
				       sizes[k]);
				__asm__ volatile("" : : "r"(buf) : "memory");
			}
			dma[k][0][r] = (double)(now_ns() - t0) / reps;
			t0 = now_ns();
			for (int i = 0; i < reps; i++) {
				t.addr = (i * sizes[k]) % DATA;
				if (sio_smmu_dma(b.smmu, &t, buf, sizes[k],
						 NULL))
					return 3;
			}
			dma[k][1][r] = (double)(now_ns() - t0) / reps;
			/* the device's own mover, untranslated (mem/copy.c) */
			t0 = now_ns();
			for (int i = 0; i < reps; i++) {
				sio_mem_copy(buf,
					     b.data + (i * sizes[k]) % DATA,
					     sizes[k]);
				__asm__ volatile("" : : "r"(buf) : "memory");
			}
			dma[k][2][r] = (double)(now_ns() - t0) / reps;
		}
		one[r] = hit_rate(&b, 1);
		two[r] = hit_rate(&b, 2);
		/*
		 * A VMID's whole stage 1 (TLBI_NH_ALL, what a nesting
		 * parent's every unmap ends in) and one ASID's (TLBI_NH_ASID)
		 * against a range of 1 GiB (TLBI_NH_VA, NUM 0, SCALE 18, TG
		 * 4K: too many pages to probe, so it looks at every entry):
		 * each with its CMD_SYNC, the TLB refilled by the nested
		 * misses before each kind.
		 */
		per_translation(&b, 3, 0, b.order, MISSES, 1);
		t0 = now_ns();
		for (int i = 0; i < 64; i++) {
			command(&b, 0x10 | 1ull << 32, 0);
			command(&b, 0x46, 0);
		}
		nh_all[r] = (double)(now_ns() - t0) / 64;
		t0 = now_ns();
		for (int i = 0; i < 8; i++) {
			command(&b, 0x11 | 1ull << 32 | 2ull << 48, 0);
			command(&b, 0x46, 0);
		}
		nh_asid[r] = (double)(now_ns() - t0) / 8;
		per_translation(&b, 3, 0, b.order, MISSES, 1);
		t0 = now_ns();
		for (int i = 0; i < 8; i++) {
			command(&b,
				0x12 | 18ull << 20 | 1ull << 32 | 2ull << 48,
				1ull << 10);
			command(&b, 0x46, 0);
		}
		nh_scan[r] = (double)(now_ns() - t0) / 8;
	}
	printf("softiommu SMMU benchmark, medians of %d runs\n\n", runs);
	printf("  %-46s %8.1f ns\n", "TLB hit, stage 1", median(hit[0], runs));
	printf("  %-46s %8.1f ns\n", "TLB hit, stage 2", median(hit[1], runs));
	printf("  %-46s %8.1f ns   (target < 10)\n", "TLB hit, nested",
	       median(hit[2], runs));
	printf("  TLB misses, walk caches warm, tables in the CPU cache:\n");
	printf("  %-46s %8.1f ns\n", "  stage 1 (4 levels, 4K)",
	       median(warm[0], runs));
	printf("  %-46s %8.1f ns\n", "  stage 2 (4 levels, 4K)",
	       median(warm[1], runs));
	{
		double n = median(warm[2], runs), nv = median(naive_warm, runs);

		printf("  %-46s %8.1f ns   (target < 150)\n",
		       "  nested (S1 4 x S2 4 levels)", n);
		printf("  %-46s %8.1f ns   model %.2fx naive\n",
		       "  naive 2-D walk, 24 unchecked loads", nv, n / nv);
		printf("  %-46s %8.2fx\n",
		       "  model / naive, each pass with the next",
		       median(ratio, runs * PASSES));
	}
	printf("  TLB misses over 1 GiB of pages, tables mostly in DRAM:\n");
	printf("  %-46s %8.1f ns\n", "  stage 1", median(miss[0], runs));
	printf("  %-46s %8.1f ns\n", "  stage 2", median(miss[1], runs));
	{
		double n = median(miss[2], runs), nv = median(naive, runs);

		printf("  %-46s %8.1f ns\n", "  nested", n);
		printf("  %-46s %8.1f ns   model %.2fx naive\n",
		       "  naive 2-D walk, other pages as cold", nv, n / nv);
	}
	for (int k = 0; k < 3; k++) {
		double m = median(dma[k][0], runs), d = median(dma[k][1], runs);
		double c = median(dma[k][2], runs);

		printf("  DMA %6zu B nested: %8.1f ns, memcpy %8.1f ns: "
		       "%5.1f%% of memcpy (its mover alone %.1f ns)\n",
		       sizes[k], d, m, 100.0 * m / d, c);
	}
	printf("  %-46s %8.2fx one thread   (target >= 1.7)\n",
	       "two threads of nested TLB hits",
	       median(two, runs) / median(one, runs));
	{
		double a = median(nh_all, runs), n = median(nh_asid, runs);
		double sc = median(nh_scan, runs);

		printf("  %-46s %8.1f ns   %.4fx the scan\n",
		       "TLBI_NH_ALL (a VMID) + CMD_SYNC", a, a / sc);
		printf("  %-46s %8.1f ns   %.4fx the scan\n",
		       "TLBI_NH_ASID (an ASID) + CMD_SYNC", n, n / sc);
		printf("  %-46s %8.1f ns\n",
		       "TLBI_NH_VA of 1 GiB (every entry) + CMD_SYNC", sc);
	}
	sio_pgtable_destroy(b.s1);
	sio_pgtable_destroy(b.s2);
	sio_pgtable_destroy(b.n1);
	sio_smmu_destroy(b.smmu);
	sio_mem_pool_destroy(b.pool);
	sio_mem_bus_destroy(b.bus);
	free(buf);
	free(b.hot);
	free(b.near);
	free(b.order);
	return 0;
}
