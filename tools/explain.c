// SPDX-License-Identifier: MIT
/*
 * softiommu explain: one translation, read by read.
 *
 * The command builds a small machine on the SMMUv3 model — guest RAM
 * behind stage 2, the guest's CD and stage-1 tables in it, one stream —
 * and explains one IOVA with sio_smmu_translate_explain(): the model's
 * own walk, recorded.  The output is the two-dimensional walk as the Arm
 * ARM draws it (stage-1 levels down, stage-2 levels across; each cell
 * names the read), the reads in order with their addresses in both
 * spaces and their values, and the output address or the fault with its
 * event record; or the same as JSON (--json).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <softiommu/mem.h>
#include <softiommu/pgtable.h>
#include <softiommu/smmu.h>

#include "guest.h"
#include "tools.h"

/* The scenario: guest RAM at IPA GUEST_IPA, tables first, data at 512K. */
#define GUEST_IPA  0x40000000ull
#define GUEST_SIZE 0x100000ull
#define DATA_OFF   0x80000ull
#define S2_IAS	   40
#define S1_IAS	   39
#define SID	   1
#define MAX_UNMAP  8

/* The scenario's IOVAs (see usage()). */
#define IOVA_DATA    0x10000000ull
#define IOVA_OUTSIDE 0x20000000ull
#define IOVA_BALLOON 0x40000000ull
#define IPA_OUTSIDE  0x80000000ull

enum mode { MODE_NESTED, MODE_STAGE1, MODE_STAGE2 };

struct opts {
	enum mode mode;
	unsigned int gshift;
	bool json, write;
	uint64_t iova;
	uint64_t unmap[MAX_UNMAP];
	unsigned int nunmap;
};

struct machine {
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
	struct sio_smmu *smmu;
	struct sio_pgtable *s2;
	uint64_t *strtab;
	uint8_t *ram;
	uint64_t balloon; /* the guest page stage 2 leaves out (an IPA) */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: softiommu explain [--json] [--nested|--stage1|--stage2]"
		" [--granule 4k|16k|64k]\n"
		"                         [--write] [--unmap-ipa ADDR]... "
		"IOVA\n\n"
		"Explain the SMMUv3's translation of IOVA for a device of a "
		"built-in scenario:\n"
		"every descriptor read (STE, CD, stage-1 and stage-2 tables), "
		"its address in\n"
		"both spaces and its value, and the output or the fault.\n\n"
		"The scenario: a guest with 1 MiB of RAM at IPA %#llx, "
		"which its VMM maps\n"
		"with stage 2; the guest's CD and stage-1 tables (39-bit "
		"input) are in it.\n"
		"  %#-12llx  -> IPA %#llx (read/write)\n"
		"  %#-12llx  + one granule: read-only (try --write)\n"
		"  %#-12llx  + 1 MiB: not mapped by the guest: stage-1 "
		"fault\n"
		"  %#-12llx  -> IPA %#llx, which stage 2 does not map: "
		"stage-2 fault, CLASS IN\n"
		"  %#-12llx  its last-level stage-1 table is in a guest page "
		"stage 2 leaves\n"
		"                out (ballooned): stage-2 fault on the walk, "
		"CLASS TT\n\n"
		"  --nested     both stages (the default)\n"
		"  --stage1     stage 1 only: the tables and outputs are "
		"physical addresses\n"
		"  --stage2     stage 2 only: IOVA is an IPA\n"
		"  --granule G  4k (default), 16k or 64k, for both stages\n"
		"  --write      explain a write (default: a read)\n"
		"  --unmap-ipa ADDR  remove the stage-2 page at ADDR first "
		"(repeatable)\n"
		"  --json       JSON for tools instead of the grid\n",
		GUEST_IPA, IOVA_DATA, GUEST_IPA + DATA_OFF, IOVA_DATA,
		IOVA_DATA, IOVA_OUTSIDE, IPA_OUTSIDE, IOVA_BALLOON);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "softiommu explain: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(softiommu explain --help for usage)\n");
	return 2;
}

/* A whole unsigned number, decimal or 0x-hex: 0, or -1. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

static int parse_granule(const char *s, unsigned int *gshift)
{
	if (!strcmp(s, "4k") || !strcmp(s, "4K") || !strcmp(s, "4096"))
		*gshift = 12;
	else if (!strcmp(s, "16k") || !strcmp(s, "16K") || !strcmp(s, "16384"))
		*gshift = 14;
	else if (!strcmp(s, "64k") || !strcmp(s, "64K") || !strcmp(s, "65536"))
		*gshift = 16;
	else
		return -1;
	return 0;
}

/* 0, 1 for --help, 2 after a message on stderr. */
static int parse(int argc, char **argv, struct opts *o)
{
	bool have_iova = false, have_mode = false;

	*o = (struct opts){.mode = MODE_NESTED, .gshift = 12};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		enum mode m;

		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return 1;
		if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--write")) {
			o->write = true;
		} else if (!strcmp(a, "--nested") || !strcmp(a, "--stage1") ||
			   !strcmp(a, "--stage2")) {
			m = a[2] == 'n'	  ? MODE_NESTED
			    : a[7] == '1' ? MODE_STAGE1
					  : MODE_STAGE2;
			if (have_mode && m != o->mode)
				return bad("%s: choose one of --nested, "
					   "--stage1, --stage2",
					   a);
			o->mode = m;
			have_mode = true;
		} else if (!strcmp(a, "--granule")) {
			if (++i == argc)
				return bad("%s needs a value: 4k, 16k or 64k",
					   a);
			if (parse_granule(argv[i], &o->gshift))
				return bad("bad granule '%s': use 4k, 16k or "
					   "64k",
					   argv[i]);
		} else if (!strcmp(a, "--unmap-ipa")) {
			if (++i == argc)
				return bad("%s needs an address", a);
			if (o->nunmap == MAX_UNMAP)
				return bad("%s: at most 8 of them", a);
			if (parse_u64(argv[i], &o->unmap[o->nunmap++]))
				return bad("bad IPA '%s': not a number",
					   argv[i]);
		} else if (a[0] == '-' && a[1] &&
			   !(a[1] >= '0' && a[1] <= '9')) {
			return bad("unknown option '%s'", a);
		} else if (have_iova) {
			return bad("one IOVA only: '%s' is extra", a);
		} else {
			if (parse_u64(a, &o->iova))
				return bad("bad IOVA '%s': not a 64-bit "
					   "number (decimal or 0x-hex)",
					   a);
			have_iova = true;
		}
	}
	if (!have_iova)
		return bad("%s", "no IOVA to explain");
	if (o->nunmap && o->mode == MODE_STAGE1)
		return bad("%s", "--unmap-ipa needs stage 2 (not --stage1)");
	return 0;
}

/* ---- the machine ---- */

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int make_s2(struct machine *m, unsigned int gshift)
{
	struct sio_pgtable_cfg cfg = {.stage = SIO_PGT_STAGE2,
				      .granule = 1u << gshift,
				      .ias = S2_IAS,
				      .oas = 48,
				      .start_level = SIO_PGT_START_AUTO};
	uint64_t page = 1ull << gshift;
	int rc = sio_pgtable_create(&cfg, m->bus, &m->s2);

	/* page by page: the walk shows every level, no blocks */
	for (uint64_t off = 0; !rc && off < GUEST_SIZE; off += page)
		if (GUEST_IPA + off != m->balloon)
			rc = sio_pgtable_map(m->s2, GUEST_IPA + off,
					     pa_of(m->ram) + off, page,
					     SIO_PROT_READ | SIO_PROT_WRITE);
	return rc;
}

/* The guest's CD and stage-1 tables, seen at @base (IPA or PA). */
static int make_s1(struct machine *m, const struct opts *o, uint64_t base)
{
	uint64_t page = 1ull << o->gshift, cd[8], leaf;
	struct guest_s1 g;
	int rc;

	rc = guest_s1_init(&g, m->ram, base, page, DATA_OFF, o->gshift, S1_IAS);
	if (!rc)
		rc = guest_s1_map(&g, IOVA_DATA, base + DATA_OFF, GUEST_S1_RW,
				  NULL);
	if (!rc)
		rc = guest_s1_map(&g, IOVA_DATA + page, base + DATA_OFF + page,
				  GUEST_S1_RO, NULL);
	if (!rc)
		rc = guest_s1_map(&g, IOVA_OUTSIDE,
				  base - GUEST_IPA + IPA_OUTSIDE, GUEST_S1_RW,
				  NULL);
	if (!rc)
		rc = guest_s1_map(&g, IOVA_BALLOON, base + DATA_OFF,
				  GUEST_S1_RW, &leaf);
	if (rc)
		return rc;
	/* the page holding that last table: stage 2 leaves it out */
	if (o->mode == MODE_NESTED)
		m->balloon = leaf;
	guest_cd(cd, &g, 1);
	memcpy(m->ram, cd, sizeof(cd));
	return 0;
}

static void make_ste(struct machine *m, const struct opts *o)
{
	uint64_t *ste = m->strtab + 8 * SID;
	struct sio_pgtable_info in;
	unsigned int config = o->mode == MODE_NESTED   ? 7
			      : o->mode == MODE_STAGE1 ? 5
						       : 6;

	memset(ste, 0, 64);
	guest_bits(ste, 0, 1, 1);      /* V */
	guest_bits(ste, 1, 3, config); /* Config */
	if (config & 1)		       /* S1ContextPtr: the CD, first page */
		guest_bits(ste, 6, 50,
			   (config == 7 ? GUEST_IPA : pa_of(m->ram)) >> 6);
	if (!(config & 2))
		return;
	sio_pgtable_get_info(m->s2, &in);
	guest_bits(ste, 128, 16, 1);		/* S2VMID */
	guest_bits(ste, 160, 6, in.tsz);	/* S2T0SZ */
	guest_bits(ste, 166, 2, in.sl0);	/* S2SL0 */
	guest_bits(ste, 174, 2, in.tg);		/* S2TG */
	guest_bits(ste, 176, 3, in.ps);		/* S2PS */
	guest_bits(ste, 179, 1, 1);		/* S2AA64 */
	guest_bits(ste, 182, 1, 1);		/* S2PTW */
	guest_bits(ste, 186, 1, 1);		/* S2R */
	guest_bits(ste, 196, 48, in.root >> 4); /* S2TTB */
}

static int unmap_ipas(struct machine *m, const struct opts *o)
{
	uint64_t page = 1ull << o->gshift;

	for (unsigned int i = 0; i < o->nunmap; i++) {
		uint64_t done = 0;
		int rc = sio_pgtable_unmap(m->s2, o->unmap[i] & ~(page - 1),
					   page, &done, NULL);

		if (rc || !done) {
			fprintf(stderr,
				"softiommu explain: --unmap-ipa %#" PRIx64
				": stage 2 maps nothing there (guest RAM is "
				"%#llx-%#llx)\n",
				o->unmap[i], GUEST_IPA,
				GUEST_IPA + GUEST_SIZE - 1);
			return -1;
		}
	}
	return 0;
}

static int machine_up(struct machine *m, const struct opts *o)
{
	struct sio_smmu_config cfg;

	sio_smmu_config_default(&cfg);
	if (sio_mem_bus_create(&m->bus) ||
	    sio_mem_pool_create(m->bus, 48, &m->pool) ||
	    sio_smmu_create(&cfg, m->bus, &m->smmu))
		return -1;
	m->strtab = sio_mem_pool_alloc(m->pool, 4096);
	m->ram = sio_mem_pool_alloc(m->pool, GUEST_SIZE);
	if (!m->strtab || !m->ram)
		return -1;
	if (make_s1(m, o, o->mode == MODE_NESTED ? GUEST_IPA : pa_of(m->ram)))
		return -1;
	if (o->mode != MODE_STAGE1 && make_s2(m, o->gshift))
		return -1;
	make_ste(m, o);
	/* a linear stream table of 64 STEs, then SMMUEN */
	sio_smmu_write64(m->smmu, 0x80, pa_of(m->strtab));
	sio_smmu_write32(m->smmu, 0x88, 6);
	sio_smmu_write32(m->smmu, 0x20, 1);
	return 0;
}

static void machine_down(struct machine *m)
{
	if (m->s2)
		sio_pgtable_destroy(m->s2);
	if (m->smmu)
		sio_smmu_destroy(m->smmu);
	if (m->pool)
		sio_mem_pool_destroy(m->pool);
	if (m->bus)
		sio_mem_bus_destroy(m->bus);
}

int sio_cmd_explain(int argc, char **argv)
{
	struct machine m = {0};
	struct sio_smmu_explain *ex = malloc(sizeof(*ex));
	struct opts o;
	struct sio_smmu_txn txn;
	int rc = parse(argc, argv, &o);

	if (rc == 1)
		usage(stdout);
	if (rc || !ex) {
		free(ex);
		return rc == 1 ? 0 : rc ? rc : 1;
	}
	txn = (struct sio_smmu_txn){.sid = SID,
				    .addr = o.iova,
				    .attr = o.write ? SIO_SMMU_WRITE : 0};
	if (machine_up(&m, &o)) {
		fprintf(stderr, "softiommu explain: cannot build the "
				"scenario\n");
		rc = 1;
	} else if (unmap_ipas(&m, &o)) {
		rc = 2;
	} else if (sio_smmu_translate_explain(m.smmu, &txn, ex)) {
		fprintf(stderr, "softiommu explain: nothing to explain\n");
		rc = 1;
	} else if (o.json) {
		sio_explain_json(stdout, &txn, ex);
	} else {
		printf("softiommu explain: %s, %uK granule\n",
		       o.mode == MODE_NESTED   ? "nested (stage 1 + stage 2)"
		       : o.mode == MODE_STAGE1 ? "stage 1 only"
					       : "stage 2 only",
		       (1u << o.gshift) / 1024);
		sio_explain_print(stdout, &txn, ex);
	}
	machine_down(&m);
	free(ex);
	return rc;
}
