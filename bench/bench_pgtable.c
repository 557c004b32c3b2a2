// SPDX-License-Identifier: MIT
/*
 * Page-table benchmark: map, unmap and lookup rates of the LPAE library
 * against same-run baselines (storing the same number of descriptors into
 * memory that is already touched; a naive 4-level walk of the same
 * addresses).  Every figure is the median of several runs.  Table-memory
 * allocation and its page faults are measured apart from the table work:
 * a cold run on a fresh pool against warm runs whose pool already holds
 * the chunks.
 *
 * Usage: bench-pgtable [runs]   (default 7, at least 5)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)
#define RW  (SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_CACHE)

#define MAP_SPAN    (256 * MiB)
#define BLOCK_SPAN  (64 * GiB)
#define LOOKUP_SPAN (1 * GiB)
#define NR_LOOKUPS  (1u << 21)

static int runs = 7;
static struct sio_mem_bus *bus;
static volatile uint64_t sink;

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-pgtable: %s failed: %d\n", what, rc);
	exit(1);
}

static struct sio_pgtable *new_table(void)
{
	struct sio_pgtable_cfg cfg = {.stage = SIO_PGT_STAGE1,
				      .granule = 4096,
				      .ias = 48,
				      .oas = 48,
				      .region = SIO_PGT_TTB0,
				      .start_level = SIO_PGT_START_AUTO};
	struct sio_pgtable *pt;
	int rc = sio_pgtable_create(&cfg, bus, &pt);

	if (rc)
		die("sio_pgtable_create", rc);
	return pt;
}

/* The operations measured; each returns nanoseconds per entry. */
static double map_each(struct sio_pgtable *pt, uint64_t base, uint64_t span,
		       uint64_t size)
{
	uint64_t t0 = now_ns();

	for (uint64_t off = 0; off < span; off += size) {
		int rc = sio_pgtable_map(pt, base + off, base + off, size, RW);

		if (rc)
			die("map", rc);
	}
	return (double)(now_ns() - t0) / (double)(span / size);
}

static double map_batch(struct sio_pgtable *pt, uint64_t base, uint64_t span,
			uint64_t size)
{
	uint64_t t0 = now_ns();
	int rc = sio_pgtable_map_pages(pt, base, base, size, span / size, RW);

	if (rc)
		die("map_pages", rc);
	return (double)(now_ns() - t0) / (double)(span / size);
}

static double unmap_each(struct sio_pgtable *pt, uint64_t base, uint64_t span,
			 uint64_t size)
{
	uint64_t t0 = now_ns(), done, total = 0;

	for (uint64_t off = 0; off < span; off += size) {
		int rc = sio_pgtable_unmap(pt, base + off, size, &done, NULL);

		if (rc)
			die("unmap", rc);
		total += done;
	}
	if (total != span)
		die("unmap (short)", -1);
	return (double)(now_ns() - t0) / (double)(span / size);
}

static double unmap_batch(struct sio_pgtable *pt, uint64_t base, uint64_t span,
			  uint64_t size)
{
	uint64_t t0 = now_ns(), done;
	int rc = sio_pgtable_unmap(pt, base, span, &done, NULL);

	if (rc || done != span)
		die("unmap (batch)", rc);
	return (double)(now_ns() - t0) / (double)(span / size);
}

/* Baseline: write the same descriptors into already-touched memory. */
static double store_baseline(uint64_t *arr, uint64_t n, uint64_t size)
{
	uint64_t t0 = now_ns();

	for (uint64_t i = 0; i < n; i++)
		__atomic_store_n(&arr[i], (i * size) | 0x0000000000000f47ull,
				 __ATOMIC_RELAXED);
	__asm__ volatile("" : : "r"(arr) : "memory");
	return (double)(now_ns() - t0) / (double)n;
}

/*
 * Baseline: the simplest walk of a 4-level 4K table, no checks beyond
 * the valid bit.  Timed twice: inlined into the loop (a lower bound no
 * library call can reach) and as a function, like the library's.
 */
static inline uint64_t naive_walk(const uint64_t *root, uint64_t va)
{
	const uint64_t *t = root;

	for (int shift = 39; shift >= 12; shift -= 9) {
		uint64_t e = t[(va >> shift) & 511];

		if (!(e & 1))
			return 0;
		if (shift == 12 || (e & 3) == 1)
			return (e & 0x0000fffffffff000ull) |
			       (va & ((1ull << shift) - 1));
		t = (const uint64_t *)(uintptr_t)(e & 0x0000fffffffff000ull);
	}
	return 0;
}

__attribute__((noinline)) static uint64_t naive_walk_fn(const uint64_t *root,
							uint64_t va)
{
	return naive_walk(root, va);
}

struct row {
	const char *name;
	double v[MAX_RUNS];
	double med;
};

enum {
	R_STORE,
	R_WALK_INL,
	R_WALK,
	R_MAP1,
	R_UNMAP1,
	R_MAPB,
	R_UNMAPB,
	R_MAP2M,
	R_UNMAP2M,
	R_MAP2MB,
	R_UNMAP2MB,
	R_MAP1G,
	R_UNMAP1G,
	R_IOVA2PHYS,
	R_LOOKUP,
	NR_ROWS
};

static struct row rows[NR_ROWS] = {
	[R_STORE] = {"baseline: store 65536 descriptors"},
	[R_WALK_INL] = {"baseline: naive walk, inlined loop"},
	[R_WALK] = {"baseline: naive walk function"},
	[R_MAP1] = {"map 4K, one page per call"},
	[R_UNMAP1] = {"unmap 4K, one page per call"},
	[R_MAPB] = {"map 4K pages, one call for 256M"},
	[R_UNMAPB] = {"unmap 4K pages, one call for 256M"},
	[R_MAP2M] = {"map 2M block, one per call (64G)"},
	[R_UNMAP2M] = {"unmap 2M block, one per call"},
	[R_MAP2MB] = {"map 2M blocks, one call for 64G"},
	[R_UNMAP2MB] = {"unmap 2M blocks, one call for 64G"},
	[R_MAP1G] = {"map 1G block, one per call (64G)"},
	[R_UNMAP1G] = {"unmap 1G block, one per call"},
	[R_IOVA2PHYS] = {"iova_to_phys, random in 1G of 4K"},
	[R_LOOKUP] = {"lookup (pa, prot, size), random"},
};

static void run_lookups(struct sio_pgtable *pt, const uint64_t *addr, int r)
{
	struct sio_pgtable_info in;
	struct sio_pgtable_entry e;
	const uint64_t *root;
	uint64_t sum[4] = {0}, t0, pa;

	sio_pgtable_get_info(pt, &in);
	root = (const uint64_t *)(uintptr_t)in.root;
	t0 = now_ns();
	for (unsigned int i = 0; i < NR_LOOKUPS; i++)
		sum[0] += naive_walk(root, addr[i]);
	rows[R_WALK_INL].v[r] = (double)(now_ns() - t0) / NR_LOOKUPS;
	t0 = now_ns();
	for (unsigned int i = 0; i < NR_LOOKUPS; i++)
		sum[1] += naive_walk_fn(root, addr[i]);
	rows[R_WALK].v[r] = (double)(now_ns() - t0) / NR_LOOKUPS;
	t0 = now_ns();
	for (unsigned int i = 0; i < NR_LOOKUPS; i++) {
		if (sio_pgtable_iova_to_phys(pt, addr[i], &pa))
			die("iova_to_phys", -1);
		sum[2] += pa;
	}
	rows[R_IOVA2PHYS].v[r] = (double)(now_ns() - t0) / NR_LOOKUPS;
	t0 = now_ns();
	for (unsigned int i = 0; i < NR_LOOKUPS; i++) {
		if (sio_pgtable_lookup(pt, addr[i], &e))
			die("lookup", -1);
		sum[3] += e.pa;
	}
	rows[R_LOOKUP].v[r] = (double)(now_ns() - t0) / NR_LOOKUPS;
	if (sum[0] != sum[1] || sum[0] != sum[2] || sum[0] != sum[3])
		die("lookup (disagrees with the naive walk)", -1);
	sink += sum[0];
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* One cold run on a fresh pool: allocation and faults included. */
static void cold_run(void)
{
	struct sio_pgtable *pt = new_table();
	struct sio_pgtable_stats st;
	struct sio_mem_pool_stats ps;
	long f0 = minflt();
	double cold = map_each(pt, 0, MAP_SPAN, 4 * KiB);
	long faults = minflt() - f0;
	double warm;

	sio_pgtable_get_stats(pt, &st);
	sio_mem_pool_get_stats(sio_pgtable_pool(pt), &ps);
	unmap_batch(pt, 0, MAP_SPAN, 4 * KiB);
	f0 = minflt();
	warm = map_each(pt, 0, MAP_SPAN, 4 * KiB);
	printf("table memory for 256M of 4K pages: %" PRIu64 " tables, %" PRIu64
	       " KiB, %" PRIu64 " chunk mmap(s)\n",
	       st.tables, st.table_bytes / KiB, ps.chunk_maps);
	printf("  cold map (fresh pool): %.2f ns/page, %ld page faults "
	       "(%.0f ns per table of allocation + first touch)\n",
	       cold, faults,
	       (cold - warm) * (double)(MAP_SPAN / (4 * KiB)) /
		       (double)st.tables);
	printf("  warm map (pool holds the chunks): %.2f ns/page, %ld page "
	       "faults\n\n",
	       warm, minflt() - f0);
	sio_pgtable_destroy(pt);
}

static void print_row(int i, int base, const char *target)
{
	printf("  %-38s %8.2f", rows[i].name, rows[i].med);
	if (base >= 0)
		printf("  %7.2fx %-9s", rows[i].med / rows[base].med,
		       base == R_STORE ? "store" : "walk");
	else
		printf("  %17s", "");
	printf("  %s\n", target ? target : "");
}

int main(int argc, char **argv)
{
	struct sio_pgtable *pt;
	uint64_t *arr, *addr, seed = 0x9e3779b97f4a7c15ull;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 5 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-pgtable [runs: 5..%d]\n",
			MAX_RUNS);
		return 2;
	}
	if (sio_mem_bus_create(&bus))
		die("sio_mem_bus_create", -1);
	arr = calloc(MAP_SPAN / (4 * KiB), sizeof(*arr));
	addr = malloc(NR_LOOKUPS * sizeof(*addr));
	if (!arr || !addr)
		die("malloc", -1);
	memset(arr, 1, MAP_SPAN / (4 * KiB) * sizeof(*arr));
	for (unsigned int i = 0; i < NR_LOOKUPS; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		addr[i] = 8 * GiB + (seed % LOOKUP_SPAN);
	}

	printf("softiommu page-table benchmark: stage 1, 4K granule, 48-bit "
	       "input; medians of %d runs\n\n",
	       runs);
	cold_run();

	pt = new_table();
	for (int r = 0; r < runs; r++) {
		rows[R_STORE].v[r] =
			store_baseline(arr, MAP_SPAN / (4 * KiB), 4 * KiB);
		rows[R_MAP1].v[r] = map_each(pt, 0, MAP_SPAN, 4 * KiB);
		rows[R_UNMAP1].v[r] = unmap_each(pt, 0, MAP_SPAN, 4 * KiB);
		rows[R_MAPB].v[r] = map_batch(pt, 0, MAP_SPAN, 4 * KiB);
		rows[R_UNMAPB].v[r] = unmap_batch(pt, 0, MAP_SPAN, 4 * KiB);
		rows[R_MAP2M].v[r] = map_each(pt, 0, BLOCK_SPAN, 2 * MiB);
		rows[R_UNMAP2M].v[r] = unmap_each(pt, 0, BLOCK_SPAN, 2 * MiB);
		rows[R_MAP2MB].v[r] = map_batch(pt, 0, BLOCK_SPAN, 2 * MiB);
		rows[R_UNMAP2MB].v[r] = unmap_batch(pt, 0, BLOCK_SPAN, 2 * MiB);
		rows[R_MAP1G].v[r] = map_each(pt, 0, BLOCK_SPAN, 1 * GiB);
		rows[R_UNMAP1G].v[r] = unmap_each(pt, 0, BLOCK_SPAN, 1 * GiB);
	}
	map_batch(pt, 8 * GiB, LOOKUP_SPAN, 4 * KiB);
	for (int r = 0; r < runs; r++)
		run_lookups(pt, addr, r);
	sio_pgtable_destroy(pt);

	for (int i = 0; i < NR_ROWS; i++)
		rows[i].med = median(rows[i].v, runs);

	printf("  %-38s %8s  %17s  %s\n", "operation", "ns/entry", "ratio",
	       "target");
	print_row(R_STORE, -1, NULL);
	print_row(R_WALK_INL, -1, NULL);
	print_row(R_WALK, -1, NULL);
	print_row(R_MAP1, R_STORE, "< 40 ns");
	print_row(R_UNMAP1, R_STORE, "< 40 ns");
	print_row(R_MAPB, R_STORE, "< 5 ns");
	print_row(R_UNMAPB, R_STORE, NULL);
	print_row(R_MAP2M, R_STORE, NULL);
	print_row(R_UNMAP2M, R_STORE, NULL);
	print_row(R_MAP2MB, R_STORE, NULL);
	print_row(R_UNMAP2MB, R_STORE, NULL);
	print_row(R_MAP1G, R_STORE, NULL);
	print_row(R_UNMAP1G, R_STORE, NULL);
	print_row(R_IOVA2PHYS, R_WALK, "<= 1.00x walk");
	print_row(R_LOOKUP, R_WALK, NULL);

	free(arr);
	free(addr);
	sio_mem_bus_destroy(bus);
	return 0;
}
