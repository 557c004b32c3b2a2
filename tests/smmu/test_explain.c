// SPDX-License-Identifier: MIT
/*
 * sio_smmu_translate_explain(): the reads of a translation, in order.
 *
 * The expected reads come from the architecture, not from the model: a
 * nested translation fetches the STE, then the CD at an IPA (a stage-2
 * walk, then the CD), then for every stage-1 level the stage-2 walk of
 * the table descriptor's IPA and the descriptor itself, then the stage-2
 * walk of the output IPA — (S1 levels) * (S2 levels + 1) + S2 levels
 * table reads, plus the STE and the CD's S2 levels + 1.  Every address
 * below is computed by hand from table bases and the VMSAv8-64 index
 * arithmetic (4K granule: level n indexes IA[47 - 9n : 39 - 9n]); the
 * tables are written by hand too, with the descriptor encodings of the
 * Arm ARM (smmu-facts.md section 2.7), and the event fields checked are
 * those of SMMUv3 section 7.3.
 */
#include <errno.h>
#include <inttypes.h>

#include "smmu_test.h"

/* Guest RAM: 16 pages at IPA G. */
#define G	    0x40000000ull
#define CD_OFF	    0x0000
#define S1L1_OFF    0x1000
#define S1L2_OFF    0x2000
#define S1L3_OFF    0x3000
#define DATA_OFF    0x8000
#define GUEST_PAGES 16
/* IOVA: stage-1 (39-bit, levels 1-3) indices 1, 2, 3. */
#define IOVA ((1ull << 30) | (2ull << 21) | (3ull << 12))

/* Stage 2 page: valid page, MemAttr 0xf, S2AP RW, SH inner, AF. */
#define S2_PAGE 0x7ffull
/* Stage 1 page: valid page, AttrIndx 0, AP[1], SH inner, AF. */
#define S1_PAGE 0x743ull
#define TABLE	0x3ull

#define SID 1

enum { K_STE = SIO_SMMU_READ_STE, K_CD = SIO_SMMU_READ_CD };
enum { K_S1 = SIO_SMMU_READ_S1, K_S2 = SIO_SMMU_READ_S2 };

struct nfx {
	struct smmu_fx *fx;
	uint8_t *ram;	 /* guest RAM: host pages behind IPA G */
	uint64_t *s2l1;	 /* stage-2 start: level 1, two tables (IAS 40) */
	uint64_t *s2l2;	 /* level 2 table for IPA [1 GiB, 2 GiB) */
	uint64_t *s2l3;	 /* level 3 table for IPA [G, G + 2 MiB) */
	uint64_t *guest; /* ram as words */
};

static uint64_t ram_pa(struct nfx *n, uint64_t off)
{
	return fx_pa(n->ram) + off;
}

static void gwr(struct nfx *n, uint64_t off, uint64_t v)
{
	n->guest[off / 8] = v;
}

/* The stream's STE: nested (or @config), stage 2 as above, VMID 1. */
static void write_ste(struct nfx *n, unsigned int config)
{
	uint64_t *ste = fx_ste(n->fx, SID);

	ste_valid(ste, config);
	if (config & 1)
		ste_s1(ste, config == 5 ? ram_pa(n, CD_OFF) : G + CD_OFF, 0, 0,
		       0);
	if (config & 2) {
		bits_set(ste, 128, 16, 1); /* S2VMID */
		bits_set(ste, 160, 6, 24); /* S2T0SZ: IAS 40 */
		bits_set(ste, 166, 2, 1);  /* S2SL0: level 1 */
		bits_set(ste, 174, 2, 0);  /* S2TG: 4K */
		bits_set(ste, 176, 3, 5);  /* S2PS: 48 bits */
		bits_set(ste, 179, 1, 1);  /* S2AA64 */
		bits_set(ste, 186, 1, 1);  /* S2R */
		bits_set(ste, 196, 48, fx_pa(n->s2l1) >> 4); /* S2TTB */
	}
}

/* The guest's CD: TTB0 at @ttb0 (an IPA when nested), T0SZ 25, R. */
static void write_cd(struct nfx *n, uint64_t ttb0)
{
	uint64_t cd[8] = {0};

	bits_set(cd, 0, 6, 25);		 /* T0SZ: 39-bit input, level 1 start */
	bits_set(cd, 6, 2, 0);		 /* TG0: 4K */
	bits_set(cd, 30, 1, 1);		 /* EPD1 */
	bits_set(cd, 31, 1, 1);		 /* V */
	bits_set(cd, 32, 3, 5);		 /* IPS: 48 bits */
	bits_set(cd, 41, 1, 1);		 /* AA64 */
	bits_set(cd, 45, 1, 1);		 /* R */
	bits_set(cd, 46, 1, 1);		 /* A */
	bits_set(cd, 48, 16, 3);	 /* ASID */
	bits_set(cd, 68, 48, ttb0 >> 4); /* TTB0 */
	bits_set(cd, 192, 64, 0xff);	 /* MAIR: Attr0 normal WB */
	memcpy(n->ram + CD_OFF, cd, sizeof(cd));
}

/*
 * Guest stage 1 at @base (IPA G when nested, the RAM's PA otherwise):
 * IOVA -> base + DATA_OFF.
 */
static void write_s1(struct nfx *n, uint64_t base)
{
	gwr(n, S1L1_OFF + 8 * 1, (base + S1L2_OFF) | TABLE);
	gwr(n, S1L2_OFF + 8 * 2, (base + S1L3_OFF) | TABLE);
	gwr(n, S1L3_OFF + 8 * 3, (base + DATA_OFF) | S1_PAGE);
}

static int setup(void **state)
{
	struct nfx *n = calloc(1, sizeof(*n));

	assert_non_null(n);
	n->fx = fx_create(NULL);
	n->ram = fx_alloc(n->fx, GUEST_PAGES * 4096);
	n->guest = (uint64_t *)n->ram;
	n->s2l1 = fx_alloc(n->fx, 8192);
	n->s2l2 = fx_alloc(n->fx, 4096);
	n->s2l3 = fx_alloc(n->fx, 4096);
	/* IPA G: level 1 index 1, level 2 index 0, level 3 index page */
	n->s2l1[1] = fx_pa(n->s2l2) | TABLE;
	n->s2l2[0] = fx_pa(n->s2l3) | TABLE;
	for (uint64_t i = 0; i < GUEST_PAGES; i++)
		n->s2l3[i] = ram_pa(n, i * 4096) | S2_PAGE;
	write_cd(n, G + S1L1_OFF);
	write_s1(n, G);
	write_ste(n, 7);
	*state = n;
	return 0;
}

static int teardown(void **state)
{
	struct nfx *n = *state;

	fx_destroy(n->fx);
	free(n);
	return 0;
}

static void explain(struct nfx *n, uint64_t iova, bool write,
		    struct sio_smmu_explain *ex)
{
	struct sio_smmu_txn t = {
		.sid = SID, .addr = iova, .attr = write ? SIO_SMMU_WRITE : 0};

	assert_int_equal(sio_smmu_translate_explain(n->fx->smmu, &t, ex), 0);
	assert_false(ex->truncated);
}

/* One expected read. */
struct want {
	uint8_t kind, level, class, s1_level;
	uint64_t in, ipa, pa;
};

static void check_read(const struct sio_smmu_read *r, const struct want *w,
		       unsigned int i)
{
	if (r->kind != w->kind || r->level != w->level || r->pa != w->pa ||
	    r->ipa != w->ipa || r->in != w->in ||
	    (w->kind == K_S2 &&
	     (r->class != w->class || r->s1_level != w->s1_level)))
		fail_msg("read %u: kind %u level %u class %u s1 %u in %#" PRIx64
			 " ipa %#" PRIx64 " pa %#" PRIx64 ", want kind %u "
			 "level %u class %u "
			 "s1 %u in %#" PRIx64 " ipa %#" PRIx64 " pa %#" PRIx64,
			 i + 1, r->kind, r->level, r->class, r->s1_level, r->in,
			 r->ipa, r->pa, w->kind, w->level, w->class,
			 w->s1_level, w->in, w->ipa, w->pa);
}

/* The three stage-2 reads (levels 1-3) of a walk of @ipa in guest RAM. */
static unsigned int s2_walk(struct nfx *n, struct want *w, uint8_t class,
			    uint8_t s1_level, uint64_t ipa)
{
	uint64_t l1 = fx_pa(n->s2l1) + 8 * (ipa >> 30);
	uint64_t l2 = fx_pa(n->s2l2) + 8 * ((ipa >> 21) & 511);
	uint64_t l3 = fx_pa(n->s2l3) + 8 * ((ipa >> 12) & 511);

	w[0] = (struct want){K_S2, 1, class, s1_level, ipa, l1, l1};
	w[1] = (struct want){K_S2, 2, class, s1_level, ipa, l2, l2};
	w[2] = (struct want){K_S2, 3, class, s1_level, ipa, l3, l3};
	return 3;
}

/* The whole nested walk of @iova, by hand: returns the count. */
static unsigned int nested_reads(struct nfx *n, uint64_t iova, struct want *w)
{
	uint64_t ste = fx_pa(fx_ste(n->fx, SID));
	const uint64_t table[3] = {G + S1L1_OFF, G + S1L2_OFF, G + S1L3_OFF};
	unsigned int k = 0;

	w[k++] = (struct want){.kind = K_STE, .in = SID, .ipa = ste, .pa = ste};
	k += s2_walk(n, &w[k], SIO_SMMU_CLASS_CD, 0, G + CD_OFF);
	w[k++] = (struct want){.kind = K_CD,
			       .in = 0,
			       .ipa = G + CD_OFF,
			       .pa = ram_pa(n, CD_OFF)};
	for (unsigned int l = 1; l <= 3; l++) {
		uint64_t idx = (iova >> (39 - 9 * l)) & 511;
		uint64_t ipa = table[l - 1] + 8 * idx;

		k += s2_walk(n, &w[k], SIO_SMMU_CLASS_TT, (uint8_t)l, ipa);
		w[k++] = (struct want){.kind = K_S1,
				       .level = (uint8_t)l,
				       .in = iova,
				       .ipa = ipa,
				       .pa = ram_pa(n, ipa - G)};
	}
	k += s2_walk(n, &w[k], SIO_SMMU_CLASS_IN, 0,
		     G + DATA_OFF + (iova & 0xfff));
	return k;
}

static void check_reads(const struct sio_smmu_explain *ex, const struct want *w,
			unsigned int count)
{
	if (ex->nreads != count)
		fail_msg("%u reads, want %u", ex->nreads, count);
	for (unsigned int i = 0; i < count; i++)
		check_read(&ex->read[i], &w[i], i);
}

/*
 * The full two-dimensional walk: 3 stage-1 levels, 3 stage-2 levels:
 * 3 * (3 + 1) + 3 = 15 table reads, plus the STE and the CD through
 * stage 2 (3 + 1): 20.
 */
static void test_nested_walk_reads(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, IOVA + 0x10, w);

	assert_int_equal(k, 20);
	explain(n, IOVA + 0x10, false, &ex);
	check_reads(&ex, w, k);
	assert_int_equal(ex.rc, 0);
	assert_int_equal(ex.evt_id, 0);
	assert_int_equal(ex.ipa, G + DATA_OFF + 0x10);
	assert_int_equal(ex.res.pa, ram_pa(n, DATA_OFF + 0x10));
	/* The values read: the descriptors the test wrote. */
	assert_int_equal(ex.read[0].nval, 8);
	assert_memory_equal(ex.read[0].val, fx_ste(n->fx, SID), 64);
	assert_int_equal(ex.read[4].nval, 8);
	assert_memory_equal(ex.read[4].val, n->ram + CD_OFF, 64);
	assert_int_equal(ex.read[8].val[0], (G + S1L2_OFF) | TABLE);
	assert_int_equal(ex.read[16].val[0], (G + DATA_OFF) | S1_PAGE);
	assert_int_equal(ex.read[19].val[0], ram_pa(n, DATA_OFF) | S2_PAGE);
	/* Nothing was recorded: an explanation records no event. */
	fx_no_event(n->fx);
}

/*
 * An explanation neither uses nor fills the caches: after a real
 * translation filled them, the same 20 reads, and the TLB's answer.
 */
static void test_caches_untouched(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_txn t = {.sid = SID, .addr = IOVA};
	struct sio_smmu_result res;
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, IOVA, w);

	/* the stream's STE and CD cached, as the TLB's hit path needs */
	t.addr = IOVA + 0x1000;
	assert_int_equal(sio_smmu_translate(n->fx->smmu, &t, &res), -EFAULT);
	fx_one_event(n->fx, (uint64_t[4]){0});
	t.addr = IOVA;
	explain(n, IOVA, false, &ex);
	assert_false(ex.cached);
	/* the explanation filled nothing: still not cached */
	explain(n, IOVA, false, &ex);
	assert_false(ex.cached);
	assert_int_equal(sio_smmu_translate(n->fx->smmu, &t, &res), 0);
	explain(n, IOVA, false, &ex);
	assert_true(ex.cached);
	assert_int_equal(ex.cached_pa, ram_pa(n, DATA_OFF));
	check_reads(&ex, w, k);
}

/* A stage-1 fault: the guest's level-3 descriptor is invalid. */
static void test_stage1_fault(void **state)
{
	struct nfx *n = *state;
	uint64_t iova = IOVA + 0x1000 + 0x20; /* level-3 index 4 */
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, iova, w);

	/* everything up to the stage-1 level-3 read, not the output's S2 */
	k -= 3;
	explain(n, iova, true, &ex);
	check_reads(&ex, w, k);
	assert_int_equal(ex.read[k - 1].val[0], 0);
	assert_int_equal(ex.rc, -EFAULT);
	assert_int_equal(ex.evt_id, 0x10); /* F_TRANSLATION */
	assert_true(ex.evt_recorded);	   /* CD.R */
	assert_false(ex.evt_s2);
	assert_int_equal(ex.evt_class, SIO_SMMU_CLASS_IN);
	assert_int_equal(ex.evt_input, iova);
	assert_int_equal(EV_ID(ex.evt), 0x10);
	assert_int_equal(EV_SID(ex.evt), SID);
	assert_int_equal(EV_RNW(ex.evt), 0);
	assert_int_equal(EV_S2(ex.evt), 0);
	assert_int_equal(EV_INPUT(ex.evt), iova);
	assert_string_equal(sio_smmu_event_name(ex.evt_id), "F_TRANSLATION");
	fx_no_event(n->fx);
}

/*
 * Stage 2 faults while translating the address of the guest's level-3
 * table: S2 = 1, CLASS = TT, the table descriptor's IPA, TTRnW (a read).
 */
static void test_stage2_fault_on_table(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, IOVA, w);

	n->s2l3[S1L3_OFF / 4096] = 0;
	/* through the stage-2 walk of the stage-1 level-3 table's IPA */
	k -= 3 + 1;
	explain(n, IOVA, false, &ex);
	check_reads(&ex, w, k);
	assert_int_equal(ex.read[k - 1].val[0], 0);
	assert_int_equal(ex.read[k - 1].s1_level, 3);
	assert_int_equal(ex.rc, -EFAULT);
	assert_int_equal(ex.evt_id, 0x10);
	assert_true(ex.evt_s2);
	assert_int_equal(ex.evt_class, SIO_SMMU_CLASS_TT);
	assert_int_equal(ex.evt_ipa, G + S1L3_OFF);
	assert_int_equal(ex.evt_input, IOVA);
	assert_int_equal(EV_S2(ex.evt), 1);
	assert_int_equal(EV_CLASS(ex.evt), 1);
	assert_int_equal(EV_TTRNW(ex.evt), 1);
	assert_int_equal(EV_IPA(ex.evt), G + S1L3_OFF);
	assert_true(ex.evt_recorded); /* STE.S2R */
}

/* Stage 2 faults on the output IPA: S2 = 1, CLASS = IN. */
static void test_stage2_fault_on_output(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, IOVA + 0x40, w);

	n->s2l3[DATA_OFF / 4096] = 0;
	explain(n, IOVA + 0x40, true, &ex);
	check_reads(&ex, w, k);
	assert_int_equal(ex.read[k - 1].val[0], 0);
	assert_int_equal(ex.evt_id, 0x10);
	assert_true(ex.evt_s2);
	assert_int_equal(ex.evt_class, SIO_SMMU_CLASS_IN);
	assert_int_equal(ex.evt_ipa, G + DATA_OFF);
	assert_int_equal(EV_RNW(ex.evt), 0); /* a write */
	assert_int_equal(EV_IPA(ex.evt), G + DATA_OFF);
}

/* Stage 2 faults on the CD's IPA: S2 = 1, CLASS = CD, after 4 reads. */
static void test_stage2_fault_on_cd(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_explain ex;
	struct want w[32];

	nested_reads(n, IOVA, w);
	n->s2l3[CD_OFF / 4096] = 0;
	explain(n, IOVA, false, &ex);
	check_reads(&ex, w, 4);
	assert_int_equal(ex.evt_id, 0x10);
	assert_true(ex.evt_s2);
	assert_int_equal(ex.evt_class, SIO_SMMU_CLASS_CD);
	assert_int_equal(ex.evt_ipa, G + CD_OFF);
}

/*
 * A stage-1 table that stage 2 maps to memory that is not there: the
 * descriptor read aborts, F_WALK_EABT with the FetchAddr of the read.
 */
static void test_walk_abort(void **state)
{
	struct nfx *n = *state;
	const uint64_t nowhere = 0x500000000000ull; /* not on the bus */
	struct sio_smmu_explain ex;
	struct want w[32];
	unsigned int k = nested_reads(n, IOVA, w);

	n->s2l3[S1L2_OFF / 4096] = nowhere | S2_PAGE;
	k = 1 + 4 + 4 + 4; /* STE, CD, S1 L1, S1 L2 with its stage 2 */
	w[k - 1].pa = nowhere + 8 * 2;
	explain(n, IOVA, false, &ex);
	check_reads(&ex, w, k);
	assert_true(ex.read[k - 1].abort);
	assert_int_equal(ex.evt_id, 0x0b); /* F_WALK_EABT */
	assert_int_equal(ex.evt_fetch, nowhere + 8 * 2);
	assert_int_equal(EV_FETCH(ex.evt), nowhere + 8 * 2);
	assert_true(ex.evt_recorded);
}

/*
 * A two-level CD table (S1Fmt 0b01: 64 CDs per leaf table) and a
 * SubstreamID: the L1CD is fetched through stage 2 as the CD is, so
 * two stage-2 walks of CLASS CD come before the stage-1 walk.
 */
static void test_two_level_cd(void **state)
{
	struct nfx *n = *state;
	const uint32_t ssid = 0x41; /* L1 index 1, CD 1 of its leaf table */
	const uint64_t l1cd = G + 0x4000 + 8 * 1, cd = G + 0x5000 + 64 * 1;
	uint64_t *ste = fx_ste(n->fx, SID);
	struct sio_smmu_txn t = {
		.sid = SID, .ssid = ssid, .ssv = true, .addr = IOVA};
	struct sio_smmu_explain ex;
	struct want w[40];
	unsigned int k;

	gwr(n, 0x4000 + 8 * 1, (G + 0x5000) | 1); /* L1CD: L2Ptr, V */
	memcpy(n->ram + (cd - G), n->ram + CD_OFF, 64);
	ste_s1(ste, G + 0x4000, 8, 1, 0); /* S1CDMax 8, S1Fmt 1 */
	k = nested_reads(n, IOVA, w);
	/* the STE, then the L1CD and its walk in place of the CD's */
	memmove(&w[9], &w[5], (k - 5) * sizeof(w[0]));
	s2_walk(n, &w[1], SIO_SMMU_CLASS_CD, 0, l1cd);
	w[4] = (struct want){.kind = SIO_SMMU_READ_L1CD,
			     .in = ssid,
			     .ipa = l1cd,
			     .pa = ram_pa(n, l1cd - G)};
	s2_walk(n, &w[5], SIO_SMMU_CLASS_CD, 0, cd);
	w[8] = (struct want){
		.kind = K_CD, .in = ssid, .ipa = cd, .pa = ram_pa(n, cd - G)};
	k += 4;
	assert_int_equal(sio_smmu_translate_explain(n->fx->smmu, &t, &ex), 0);
	check_reads(&ex, w, k);
	assert_int_equal(ex.rc, 0);
	assert_int_equal(ex.res.pa, ram_pa(n, DATA_OFF));
}

/*
 * With CD.R = 0 a stage-1 fault is not recorded, yet the explanation
 * has its record, and says it would not be written.
 */
static void test_unrecorded_fault(void **state)
{
	struct nfx *n = *state;
	uint64_t iova = IOVA + 0x1000; /* level-3 index 4: invalid */
	struct sio_smmu_txn t = {.sid = SID, .addr = iova};
	struct sio_smmu_result res;
	struct sio_smmu_explain ex;

	bits_set((uint64_t *)(n->ram + CD_OFF), 45, 1, 0); /* CD.R */
	explain(n, iova, false, &ex);
	assert_int_equal(ex.rc, -EFAULT);
	assert_int_equal(ex.evt_id, 0x10);
	assert_false(ex.evt_recorded);
	assert_int_equal(EV_INPUT(ex.evt), iova);
	assert_int_equal(EV_RNW(ex.evt), 1);
	/* and a real transaction indeed records nothing */
	assert_int_equal(sio_smmu_translate(n->fx->smmu, &t, &res), -EFAULT);
	assert_int_equal(res.event, 0x10);
	fx_no_event(n->fx);
}

/*
 * HTTU: with CD.HA a leaf with AF == 0 is updated by the walk — a write
 * to the descriptor, which stage 2 must allow (a stage-2 walk of its
 * IPA for writing, after the read).  Explained, the update is not made.
 */
static void test_httu_not_written(void **state)
{
	struct nfx *n = *state;
	uint64_t *l3 = &n->guest[(S1L3_OFF + 8 * 3) / 8];
	struct sio_smmu_explain ex;

	bits_set((uint64_t *)(n->ram + CD_OFF), 43, 1, 1); /* CD.HA */
	*l3 &= ~(1ull << 10);				   /* AF = 0 */
	explain(n, IOVA, false, &ex);
	assert_int_equal(ex.rc, 0);
	assert_int_equal(ex.nreads, 20 + 3);
	for (unsigned int i = 17; i < 20; i++) {
		assert_int_equal(ex.read[i].kind, K_S2);
		assert_true(ex.read[i].write);
		assert_int_equal(ex.read[i].s1_level, 3);
		assert_int_equal(ex.read[i].in, G + S1L3_OFF + 8 * 3);
	}
	assert_false(*l3 & (1ull << 10)); /* still AF == 0 */
}

/* Stage 1 alone: STE, CD, three levels, at PAs. */
static void test_stage1_only(void **state)
{
	struct nfx *n = *state;
	uint64_t ste = fx_pa(fx_ste(n->fx, SID)), r = fx_pa(n->ram);
	struct sio_smmu_explain ex;
	const struct want w[5] = {
		{.kind = K_STE, .in = SID, .ipa = ste, .pa = ste},
		{.kind = K_CD, .ipa = r + CD_OFF, .pa = r + CD_OFF},
		{K_S1, 1, 0, 0, IOVA, r + S1L1_OFF + 8, r + S1L1_OFF + 8},
		{K_S1, 2, 0, 0, IOVA, r + S1L2_OFF + 16, r + S1L2_OFF + 16},
		{K_S1, 3, 0, 0, IOVA, r + S1L3_OFF + 24, r + S1L3_OFF + 24},
	};

	write_cd(n, r + S1L1_OFF);
	write_s1(n, r);
	write_ste(n, 5);
	explain(n, IOVA, false, &ex);
	check_reads(&ex, w, 5);
	assert_int_equal(ex.rc, 0);
	assert_int_equal(ex.res.pa, r + DATA_OFF);
	assert_int_equal(ex.ipa, r + DATA_OFF);
}

/* Stage 2 alone: the STE, then three levels for the IPA. */
static void test_stage2_only(void **state)
{
	struct nfx *n = *state;
	uint64_t ste = fx_pa(fx_ste(n->fx, SID));
	struct sio_smmu_explain ex;
	struct want w[4] = {{.kind = K_STE, .in = SID, .ipa = ste, .pa = ste}};

	write_ste(n, 6);
	s2_walk(n, &w[1], SIO_SMMU_CLASS_IN, 0, G + DATA_OFF + 8);
	explain(n, G + DATA_OFF + 8, false, &ex);
	check_reads(&ex, w, 4);
	assert_int_equal(ex.res.pa, ram_pa(n, DATA_OFF + 8));
}

/* An invalid STE: one read and C_BAD_STE; SMMUEN == 0: no reads. */
static void test_config_fault_and_disabled(void **state)
{
	struct nfx *n = *state;
	struct sio_smmu_explain ex;
	struct sio_smmu_txn tr = {.sid = SID, .attr = SIO_SMMU_TRANSLATED};

	fx_ste(n->fx, SID)[0] = 0;
	explain(n, IOVA, false, &ex);
	assert_int_equal(ex.nreads, 1);
	assert_int_equal(ex.read[0].kind, K_STE);
	assert_int_equal(ex.evt_id, 0x04);
	assert_true(ex.evt_recorded);
	assert_int_equal(sio_smmu_translate_explain(n->fx->smmu, &tr, &ex),
			 -EINVAL);
	sio_smmu_write32(n->fx->smmu, R_CR0, 0x4 | 0x8);
	explain(n, IOVA, false, &ex);
	assert_int_equal(ex.nreads, 0);
	/* GBPA decides: bypass, or abort without an event */
	if (ex.rc == 0)
		assert_int_equal(ex.res.pa, IOVA);
	else
		assert_int_equal(ex.evt_id, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nested_walk_reads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_caches_untouched, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage1_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage2_fault_on_table,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage2_fault_on_output,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stage2_fault_on_cd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_walk_abort, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_level_cd, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unrecorded_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_httu_not_written, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage1_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage2_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config_fault_and_disabled,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
