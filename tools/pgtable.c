// SPDX-License-Identifier: MIT
/*
 * softiommu pgtable: build a stage-1 and a stage-2 IO page table on the
 * memory bus, map ranges with blocks and pages, and show how a hardware
 * walker resolves addresses through every level.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <softiommu/mem.h>
#include <softiommu/pgtable.h>

#include "tools.h"

#define KiB ((uint64_t)1 << 10)
#define MiB ((uint64_t)1 << 20)
#define GiB ((uint64_t)1 << 30)

static const char *stage_name(unsigned int stage)
{
	return stage == SIO_PGT_STAGE1 ? "stage 1" : "stage 2";
}

static void show_info(const struct sio_pgtable_cfg *cfg, struct sio_pgtable *pt)
{
	struct sio_pgtable_info in;

	sio_pgtable_get_info(pt, &in);
	printf("%s, %uK granule, %u-bit input, %u-bit output\n",
	       stage_name(cfg->stage), cfg->granule / 1024, cfg->ias, cfg->oas);
	printf("  start level %u (%u bits, %u table%s), root at %#" PRIx64 "\n",
	       in.start_level, in.start_bits, in.concat,
	       in.concat > 1 ? "s concatenated" : "", in.root);
	if (cfg->stage == SIO_PGT_STAGE1)
		printf("  CD fields: T0SZ=%u TG0=%u IPS=%u MAIR=%#" PRIx64 "\n",
		       in.tsz, in.tg, in.ps, in.mair);
	else
		printf("  STE fields: S2T0SZ=%u S2TG=%u S2SL0=%u S2PS=%u\n",
		       in.tsz, in.tg, in.sl0, in.ps);
}

static int map(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
	       uint64_t size, unsigned int prot, const char *what)
{
	int rc = sio_pgtable_map(pt, iova, pa, size, prot);

	printf("  map   %#14" PRIx64 " -> %#14" PRIx64 " %8" PRIu64 " KiB  "
	       "%s%s\n",
	       iova, pa, size / KiB, what, rc ? "  FAILED" : "");
	if (rc)
		fprintf(stderr, "softiommu pgtable: map failed: %s\n",
			strerror(-rc));
	return rc;
}

static void show_walk(struct sio_pgtable *pt, uint64_t iova)
{
	struct sio_pgtable_walk w;
	char desc[160];

	sio_pgtable_walk(pt, iova, &w);
	printf("  walk of %#" PRIx64 ":\n", iova);
	for (unsigned int i = 0; i < w.nsteps; i++) {
		const struct sio_pgtable_walk_step *s = &w.step[i];

		sio_pgtable_format_desc(pt, s->level, s->desc, desc,
					sizeof(desc));
		printf("    L%u  table %#" PRIx64 " [%4u]  %#018" PRIx64 "  "
		       "%s\n",
		       s->level, s->table, s->index, s->desc, desc);
	}
	if (w.result)
		printf("    => fault: %s\n", w.result == -ENOENT
						     ? "translation (invalid "
						       "descriptor)"
						     : strerror(-w.result));
	else
		printf("    => output address %#" PRIx64 "\n", w.pa);
}

static void show_stats(struct sio_pgtable *pt)
{
	struct sio_pgtable_stats st;

	sio_pgtable_get_stats(pt, &st);
	printf("  tables: %" PRIu64 " (%" PRIu64 " KiB), leaves: %" PRIu64 "\n",
	       st.tables, st.table_bytes / KiB, st.leaves);
}

static int demo_stage1(struct sio_mem_bus *bus)
{
	struct sio_pgtable_cfg cfg = {.stage = SIO_PGT_STAGE1,
				      .granule = 4096,
				      .ias = 48,
				      .oas = 48,
				      .region = SIO_PGT_TTB0,
				      .start_level = SIO_PGT_START_AUTO};
	struct sio_pgtable *pt;
	uint64_t unmapped;
	int rc;

	rc = sio_pgtable_create(&cfg, bus, &pt);
	if (rc)
		return rc;
	show_info(&cfg, pt);
	rc = map(pt, 1 * GiB, 8 * GiB, 1 * GiB,
		 SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_CACHE,
		 "RW cached: one 1G block") ||
	     map(pt, 2 * GiB, 16 * GiB + 2 * MiB, 4 * MiB,
		 SIO_PROT_READ | SIO_PROT_NOEXEC, "RO, XN: two 2M blocks") ||
	     map(pt, 3 * GiB + 4 * KiB, 0x40001000, 12 * KiB,
		 SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_PRIV,
		 "RW privileged: three 4K pages") ||
	     map(pt, 0xffff00000000ull, 0xfe0000000ull, 64 * KiB,
		 SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_MMIO,
		 "device memory: sixteen 4K pages");
	if (!rc) {
		show_walk(pt, 1 * GiB + 0x12345678);
		show_walk(pt, 2 * GiB + 2 * MiB + 0x1234);
		show_walk(pt, 3 * GiB + 8 * KiB + 0x42);
		show_walk(pt, 0xffff0000f000ull);
		show_walk(pt, 5 * GiB);
		printf("  unmap 4K at %#" PRIx64 ", inside the 1G block:\n",
		       1 * GiB + 0x12345000);
		rc = sio_pgtable_unmap(pt, 1 * GiB + 0x12345000, 4 * KiB,
				       &unmapped, NULL);
		if (!rc) {
			printf("    %" PRIu64 " bytes unmapped; the block "
			       "split into a "
			       "level-2 table and a level-3 table\n",
			       unmapped);
			show_walk(pt, 1 * GiB + 0x12345678);
			show_walk(pt, 1 * GiB + 0x12346000);
		}
	}
	show_stats(pt);
	sio_pgtable_destroy(pt);
	return rc;
}

static int demo_stage2(struct sio_mem_bus *bus)
{
	struct sio_pgtable_cfg cfg = {.stage = SIO_PGT_STAGE2,
				      .granule = 4096,
				      .ias = 40,
				      .oas = 44,
				      .start_level = SIO_PGT_START_AUTO};
	struct sio_pgtable *pt;
	int rc;

	rc = sio_pgtable_create(&cfg, bus, &pt);
	if (rc)
		return rc;
	show_info(&cfg, pt);
	rc = map(pt, 0, 0x80000000ull, 2 * MiB + 8 * KiB,
		 SIO_PROT_READ | SIO_PROT_WRITE | SIO_PROT_CACHE,
		 "RW cached: a 2M block and two pages") ||
	     map(pt, 0x8000000000ull, 0x100000000ull, 4 * KiB, SIO_PROT_WRITE,
		 "write-only page in the second root table");
	if (!rc) {
		show_walk(pt, 0x201000);
		show_walk(pt, 0x8000000abcull);
	}
	show_stats(pt);
	sio_pgtable_destroy(pt);
	return rc;
}

int sio_cmd_pgtable(int argc, char **argv)
{
	struct sio_mem_bus *bus;
	int rc;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: softiommu pgtable\n");
		return 2;
	}
	rc = sio_mem_bus_create(&bus);
	if (rc) {
		fprintf(stderr, "softiommu pgtable: %s\n", strerror(-rc));
		return 1;
	}
	printf("softiommu pgtable: Arm VMSAv8-64 IO page tables on the memory "
	       "bus\n\n");
	rc = demo_stage1(bus);
	if (!rc) {
		printf("\n");
		rc = demo_stage2(bus);
	}
	sio_mem_bus_destroy(bus);
	if (rc) {
		fprintf(stderr, "softiommu pgtable: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}
