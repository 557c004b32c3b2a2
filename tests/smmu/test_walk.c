// SPDX-License-Identifier: MIT
/*
 * Translation by the SMMU model: stage 1 (TTB0 and TTB1), stage 2,
 * nested, substreams and CD tables, CD validity, hardware AF and dirty
 * updates, and stage-1 permissions — each fault checked against the
 * event record section 7.3 defines for it.  Tables are built with the
 * page-table library, a separate path with its own conformance tests.
 */
#include <errno.h>

#include "smmu_test.h"

#define EVT_C_BAD_SUBSTREAMID 0x08
#define EVT_F_STREAM_DISABLED 0x06
#define EVT_C_BAD_CD	      0x0a
#define EVT_F_TRANSLATION     0x10
#define EVT_F_ADDR_SIZE	      0x11
#define EVT_F_ACCESS	      0x12
#define EVT_F_PERMISSION      0x13
#define CLASS_CD	      0
#define CLASS_TT	      1
#define CLASS_IN	      2

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

static int xlate(struct smmu_fx *fx, uint32_t sid, bool ssv, uint32_t ssid,
		 uint64_t addr, unsigned int attr, uint64_t *pa)
{
	struct sio_smmu_txn t = {.sid = sid,
				 .ssv = ssv,
				 .ssid = ssid,
				 .addr = addr,
				 .attr = attr};
	struct sio_smmu_result res;
	int rc = sio_smmu_translate(fx->smmu, &t, &res);

	if (!rc && pa)
		*pa = res.pa;
	return rc;
}

static struct sio_pgtable *s1_table(struct smmu_fx *fx, unsigned int ias,
				    unsigned int region, unsigned int flags,
				    struct sio_pgtable_info *in)
{
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096,
						  ias, 48, region, flags);

	sio_pgtable_get_info(pt, in);
	return pt;
}

/* StreamID 1: stage 1 only, one CD for TTB0. */
static uint64_t *s1_stream(struct smmu_fx *fx,
			   const struct sio_pgtable_info *in)
{
	uint64_t *cd = fx_alloc(fx, 4096);

	cd_make(cd, in, NULL, 7);
	ste_valid(fx_ste(fx, 1), 5);
	ste_s1(fx_ste(fx, 1), fx_pa(cd), 0, 0, 0);
	return cd;
}

static void test_stage1(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t *cd = s1_stream(fx, &in), ev[4], pa;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0x80000000, 0x2000, RW),
			 0);
	assert_int_equal(sio_pgtable_map(pt, 0x20000, 0x90000000, 0x1000,
					 SIO_PROT_READ),
			 0);
	assert_int_equal(
		sio_pgtable_map(pt, 1ull << 30, 1ull << 31, 1ull << 30, RW), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x11234, 0, &pa), 0);
	assert_true(pa == 0x80001234);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10008, SIO_SMMU_WRITE, &pa),
			 0);
	assert_true(pa == 0x80000008);
	/* A 1G block. */
	assert_int_equal(
		xlate(fx, 1, false, 0, (1ull << 30) + 0x345678, 0, &pa), 0);
	assert_true(pa == (1ull << 31) + 0x345678);
	fx_no_event(fx);
	/* Write to a read-only page: stage-1 permission fault, CLASS IN. */
	assert_int_equal(xlate(fx, 1, false, 0, 0x20010, SIO_SMMU_WRITE, NULL),
			 -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(EV_SID(ev), 1);
	assert_int_equal(EV_RNW(ev), 0);
	assert_int_equal(EV_S2(ev), 0);
	assert_int_equal(EV_CLASS(ev), CLASS_IN);
	assert_true(EV_INPUT(ev) == 0x20010);
	/* Unmapped: translation fault, a read. */
	assert_int_equal(xlate(fx, 1, false, 0, 0x30000, SIO_SMMU_PRIV, NULL),
			 -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_RNW(ev), 1);
	assert_int_equal(EV_PNU(ev), 1);
	/* Beyond T0SZ's range, the upper half with no TTB1 (EPD1). */
	assert_int_equal(xlate(fx, 1, false, 0, 1ull << 48, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(xlate(fx, 1, false, 0, ~0ull << 40, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	/* CD.R == 0: the fault aborts but is not recorded. */
	bits_set(cd, 45, 1, 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x30000, 0, NULL), -EFAULT);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_stage1_ttb1_and_tbi(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info lo, hi;
	struct sio_pgtable *p0 = s1_table(fx, 39, SIO_PGT_TTB0, 0, &lo);
	struct sio_pgtable *p1 = s1_table(fx, 39, SIO_PGT_TTB1, 0, &hi);
	uint64_t *cd = fx_alloc(fx, 4096), ev[4], pa;

	(void)state;
	cd_make(cd, &lo, &hi, 3);
	ste_valid(fx_ste(fx, 4), 5);
	ste_s1(fx_ste(fx, 4), fx_pa(cd), 0, 0, 0);
	assert_int_equal(sio_pgtable_map(p0, 0x5000, 0x1000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(p1, ~0ull - 0xfff, 0x2000, 4096, RW),
			 0);
	assert_int_equal(xlate(fx, 4, false, 0, 0x5008, 0, &pa), 0);
	assert_true(pa == 0x1008);
	assert_int_equal(xlate(fx, 4, false, 0, ~0ull - 7, 0, &pa), 0);
	assert_true(pa == 0x2ff8);
	/* Between the regions: neither TTB covers it. */
	assert_int_equal(xlate(fx, 4, false, 0, 1ull << 39, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	/* A tagged pointer faults without TBI0, translates with it. */
	assert_int_equal(xlate(fx, 4, false, 0, 0x5a00000000005008ull, 0, NULL),
			 -EFAULT);
	fx_one_event(fx, ev);
	assert_true(EV_INPUT(ev) == 0x5a00000000005008ull);
	bits_set(cd, 38, 1, 1); /* TBI0 */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 4, false, 0, 0x5a00000000005008ull, 0, &pa),
			 0);
	assert_true(pa == 0x1008);
	sio_pgtable_destroy(p0);
	sio_pgtable_destroy(p1);
	fx_destroy(fx);
}

static void test_stage2(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096,
						  40, 48, SIO_PGT_TTB0, 0);
	struct sio_pgtable_info in;
	uint64_t ev[4], pa;

	(void)state;
	sio_pgtable_get_info(pt, &in);
	ste_valid(fx_ste(fx, 2), 6);
	ste_s2(fx_ste(fx, 2), &in, 9);
	/* 40-bit IPA: level 1 start with two concatenated tables. */
	assert_int_equal(sio_pgtable_map(pt, 0x8000000000ull - 0x200000,
					 0x40000000, 0x400000, RW),
			 0);
	assert_int_equal(xlate(fx, 2, false, 0, 0x8000100123ull, 0, &pa), 0);
	assert_true(pa == 0x40300123);
	assert_int_equal(
		sio_pgtable_map(pt, 0x1000, 0x7000, 0x1000, SIO_PROT_READ), 0);
	assert_int_equal(xlate(fx, 2, false, 0, 0x1000, SIO_SMMU_WRITE, NULL),
			 -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), CLASS_IN);
	assert_true(EV_IPA(ev) == 0x1000);
	assert_true(EV_INPUT(ev) == 0x1000);
	/* Beyond the 40-bit IPA space: stage-2 translation fault. */
	assert_int_equal(xlate(fx, 2, false, 0, 1ull << 40, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	/* Beyond the IAS (== OAS, 48 bits): stage-1 bypass address size. */
	assert_int_equal(xlate(fx, 2, false, 0, 1ull << 48, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_ADDR_SIZE);
	assert_int_equal(EV_S2(ev), 0);
	assert_int_equal(EV_CLASS(ev), CLASS_IN);
	/* A SubstreamID without stage 1. */
	assert_int_equal(xlate(fx, 2, true, 5, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_SUBSTREAMID);
	assert_int_equal(EV_SSID(ev), 5);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Nested: stage 2 maps the pages holding the CD and the stage-1 tables
 * at IPA == PA, and maps the stage-1 output IPAs elsewhere.
 */
struct nested {
	struct sio_pgtable *s1, *s2;
	struct sio_pgtable_info i1, i2;
	uint64_t *cd;
};

static void identity(struct sio_pgtable *s2, uint64_t pa)
{
	assert_int_equal(sio_pgtable_map(s2, pa & ~0xfffull, pa & ~0xfffull,
					 4096, RW),
			 0);
}

static void nested_setup(struct smmu_fx *fx, struct nested *n)
{
	struct sio_pgtable_walk w;

	n->s1 = s1_table(fx, 48, SIO_PGT_TTB0, 0, &n->i1);
	n->s2 = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096, 48, 48,
				 SIO_PGT_TTB0, 0);
	sio_pgtable_get_info(n->s2, &n->i2);
	n->cd = fx_alloc(fx, 4096);
	cd_make(n->cd, &n->i1, NULL, 11);
	ste_valid(fx_ste(fx, 8), 7);
	ste_s1(fx_ste(fx, 8), fx_pa(n->cd), 0, 0, 0);
	ste_s2(fx_ste(fx, 8), &n->i2, 3);
	/* VA 0x40000 -> IPA 0x500000 -> PA 0x9000000. */
	assert_int_equal(sio_pgtable_map(n->s1, 0x40000, 0x500000, 4096, RW),
			 0);
	assert_int_equal(sio_pgtable_map(n->s2, 0x500000, 0x9000000, 4096, RW),
			 0);
	identity(n->s2, fx_pa(n->cd));
	assert_int_equal(sio_pgtable_walk(n->s1, 0x40000, &w), 0);
	for (unsigned int i = 0; i < w.nsteps; i++)
		identity(n->s2, w.step[i].table);
}

static void test_nested(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct nested n;
	struct sio_pgtable_walk w;
	uint64_t ev[4], pa, unmapped;

	(void)state;
	nested_setup(fx, &n);
	assert_int_equal(xlate(fx, 8, false, 0, 0x40abc, 0, &pa), 0);
	assert_true(pa == 0x9000abc);
	fx_no_event(fx);

	/* Stage 2 misses the final IPA: S2 fault, CLASS IN, the IPA. */
	assert_int_equal(sio_pgtable_map(n.s1, 0x41000, 0x600000, 4096, RW), 0);
	assert_int_equal(xlate(fx, 8, false, 0, 0x41010, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), CLASS_IN);
	assert_true(EV_IPA(ev) == 0x600000);
	assert_true(EV_INPUT(ev) == 0x41010);

	/* Stage 2 misses a stage-1 table: CLASS TT, IPA of the descriptor. */
	assert_int_equal(sio_pgtable_walk(n.s1, 0x40000, &w), 0);
	assert_int_equal(sio_pgtable_unmap(n.s2, w.step[2].table, 4096,
					   &unmapped, NULL),
			 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 8, false, 0, 0x40abc, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), CLASS_TT);
	assert_true(EV_IPA(ev) == (w.step[2].addr & ~0xfffull));
	assert_int_equal(EV_TTRNW(ev), 1); /* the walk was reading */
	identity(n.s2, w.step[2].table);

	/* Stage 2 read-only for a table page, with HTTU setting AF. */
	bits_set(n.cd, 43, 1, 1); /* CD.HA */
	fx_inv_all(fx);
	assert_int_equal(sio_pgtable_unmap(n.s2, w.step[3].table, 4096,
					   &unmapped, NULL),
			 0);
	assert_int_equal(sio_pgtable_map(n.s2, w.step[3].table, w.step[3].table,
					 4096, SIO_PROT_READ),
			 0);
	{
		/* Clear AF of the stage-1 leaf so HTTU must write it. */
		uint64_t desc = w.step[3].desc, want = desc & ~(1ull << 10);

		assert_int_equal(sio_mem_cmpxchg64(fx->bus, w.step[3].addr,
						   &desc, want),
				 0);
	}
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 8, false, 0, 0x40abc, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), CLASS_TT);
	assert_int_equal(EV_TTRNW(ev), 0); /* the HTTU write faulted */

	/* Stage 2 misses the CD: CLASS CD, IPA of the CD. */
	assert_int_equal(
		sio_pgtable_unmap(n.s2, fx_pa(n.cd), 4096, &unmapped, NULL), 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 8, false, 0, 0x40abc, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), CLASS_CD);
	assert_true(EV_IPA(ev) == fx_pa(n.cd));
	sio_pgtable_destroy(n.s1);
	sio_pgtable_destroy(n.s2);
	fx_destroy(fx);
}

static void test_substreams(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info a, b;
	struct sio_pgtable *pa_ = s1_table(fx, 48, SIO_PGT_TTB0, 0, &a);
	struct sio_pgtable *pb = s1_table(fx, 48, SIO_PGT_TTB0, 0, &b);
	uint64_t *cds = fx_alloc(fx, 4096), *ste = fx_ste(fx, 12);
	uint64_t ev[4], pa;

	(void)state;
	assert_int_equal(sio_pgtable_map(pa_, 0x1000, 0xa000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pb, 0x1000, 0xb000, 4096, RW), 0);
	/* Four CDs in a linear table: 0 and 2 use table a, 1 and 3 b. */
	for (int i = 0; i < 4; i++)
		cd_make(cds + 8 * i, i & 1 ? &b : &a, NULL, (uint16_t)(i + 1));
	ste_valid(ste, 5);
	ste_s1(ste, fx_pa(cds), 2, 0, 0);
	assert_int_equal(xlate(fx, 12, true, 1, 0x1000, 0, &pa), 0);
	assert_true(pa == 0xb000);
	assert_int_equal(xlate(fx, 12, true, 2, 0x1000, 0, &pa), 0);
	assert_true(pa == 0xa000);
	/* SubstreamID 4 >= 2^S1CDMax. */
	assert_int_equal(xlate(fx, 12, true, 4, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_SUBSTREAMID);
	assert_int_equal(EV_SSID(ev), 4);
	/* No SubstreamID: S1DSS decides. */
	assert_int_equal(xlate(fx, 12, false, 0, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_STREAM_DISABLED);
	bits_set(ste, 64, 2, 1); /* bypass stage 1 */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 12, false, 0, 0x1234, 0, &pa), 0);
	assert_true(pa == 0x1234);
	bits_set(ste, 64, 2, 2); /* substream 0 */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 12, false, 0, 0x1000, 0, &pa), 0);
	assert_true(pa == 0xa000);
	assert_int_equal(xlate(fx, 12, true, 0, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_STREAM_DISABLED);
	/* S1CDMax == 0: no substreams at all. */
	ste_s1(ste, fx_pa(cds), 0, 0, 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 12, true, 0, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_SUBSTREAMID);
	sio_pgtable_destroy(pa_);
	sio_pgtable_destroy(pb);
	fx_destroy(fx);
}

static void test_two_level_cd_table(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info a;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &a);
	uint64_t *l1 = fx_alloc(fx, 4096), *l2 = fx_alloc(fx, 4096);
	uint64_t *ste = fx_ste(fx, 13), ev[4], pa;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x3000, 0xc000, 4096, RW), 0);
	/* S1Fmt 0b01: 4K L2 tables of 64 CDs; S1CDMax 8 = 256 SSIDs. */
	ste_valid(ste, 5);
	ste_s1(ste, fx_pa(l1), 8, 1, 0);
	l1[1] = fx_pa(l2) | 1; /* L1CD.V */
	cd_make(l2 + 8 * 3, &a, NULL, 5);
	/* SubstreamID 67 = L1 index 1, L2 index 3. */
	assert_int_equal(xlate(fx, 13, true, 67, 0x3004, 0, &pa), 0);
	assert_true(pa == 0xc004);
	/* L2 index 4 holds no valid CD; L1 index 2 is not valid. */
	assert_int_equal(xlate(fx, 13, true, 68, 0x3004, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_CD);
	assert_int_equal(EV_SSV(ev), 1);
	assert_int_equal(EV_SSID(ev), 68);
	assert_int_equal(xlate(fx, 13, true, 130, 0x3004, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_SUBSTREAMID);
	assert_int_equal(EV_SSID(ev), 130);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* On an SMMU without the Stall model (IDR0.STALL_MODEL == 0b01). */
static void test_illegal_cds(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable_info in;
	struct sio_pgtable *pt;
	uint64_t *cd, good[8], ev[4];
	static const struct {
		const char *what;
		unsigned int lo, width;
		uint64_t val;
	} bad[] = {
		{"V = 0", 31, 1, 0},
		{"A = 0 (TERM_MODEL)", 46, 1, 0},
		{"S = 1 (no stalls)", 44, 1, 1},
		{"AA64 = 0", 41, 1, 0},
		{"ENDI = 1", 15, 1, 1},
		{"T0SZ 15", 0, 6, 15},
		{"T0SZ 40", 0, 6, 40},
		{"TG0 reserved", 6, 2, 3},
		{"TTB0 beyond IPS", 68 + 44, 4, 0xf},
	};

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.stall_model = 1;
	fx = fx_create(&cfg);
	pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	cd = s1_stream(fx, &in);
	assert_int_equal(sio_pgtable_map(pt, 0, 0x1000, 4096, RW), 0);
	memcpy(good, cd, 64);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# %s\n", bad[i].what);
		memcpy(cd, good, 64);
		bits_set(cd, bad[i].lo, bad[i].width, bad[i].val);
		assert_int_equal(xlate(fx, 1, false, 0, 0, 0, NULL), -EFAULT);
		fx_one_event(fx, ev);
		assert_int_equal(EV_ID(ev), EVT_C_BAD_CD);
	}
	/* Both halves disabled is valid: every access faults in translation. */
	memcpy(cd, good, 64);
	bits_set(cd, 14, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	/* Invalid fields of a disabled half do not matter. */
	bits_set(cd, 6, 2, 3);
	assert_int_equal(xlate(fx, 1, false, 0, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_access_flag_and_dirty_state(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt =
		s1_table(fx, 48, SIO_PGT_TTB0, SIO_PGT_F_HD, &in);
	uint64_t *cd = s1_stream(fx, &in), ev[4], bits[1];
	struct sio_dirty_bitmap bm = {0x10000, 0x1000, 0x1000, bits};
	struct sio_pgtable_walk w;
	uint64_t desc, want;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0x50000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_walk(pt, 0x10000, &w), 0);
	/* AF == 0 without HA (and AFFD == 0): access flag fault. */
	desc = w.step[3].desc;
	want = desc & ~(1ull << 10);
	assert_int_equal(
		sio_mem_cmpxchg64(fx->bus, w.step[3].addr, &desc, want), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_ACCESS);
	/* With CD.AFFD the access passes and AF stays 0. */
	bits_set(cd, 35, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, 0, NULL), 0);
	assert_int_equal(sio_mem_read64(fx->bus, w.step[3].addr, &desc), 0);
	assert_int_equal((desc >> 10) & 1, 0);
	/* With CD.HA, hardware sets AF. */
	bits_set(cd, 35, 1, 0);
	bits_set(cd, 43, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, 0, NULL), 0);
	assert_int_equal(sio_mem_read64(fx->bus, w.step[3].addr, &desc), 0);
	assert_int_equal((desc >> 10) & 1, 1);
	/* Clean the page; a write without HD is a permission fault... */
	bits[0] = 0;
	assert_int_equal(sio_pgtable_read_and_clear_dirty(pt, &bm, 0), 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, SIO_SMMU_WRITE, NULL),
			 -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	bits[0] = 0;
	assert_int_equal(sio_pgtable_read_and_clear_dirty(pt, &bm, 0), 0);
	assert_true(bits[0] == 0);
	/* ...and with HD it marks the page dirty for the driver to see. */
	bits_set(cd, 42, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, 0, NULL), 0);
	assert_int_equal(sio_pgtable_read_and_clear_dirty(pt, &bm, 0), 0);
	assert_true(bits[0] == 0); /* reads do not dirty */
	assert_int_equal(xlate(fx, 1, false, 0, 0x10000, SIO_SMMU_WRITE, NULL),
			 0);
	assert_int_equal(sio_pgtable_read_and_clear_dirty(pt, &bm, 0), 0);
	assert_true(bits[0] == 1);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_stage1_permissions(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t *cd = s1_stream(fx, &in), ev[4];
	const unsigned int P = SIO_SMMU_PRIV, X = SIO_SMMU_EXEC;

	(void)state;
	/* 0x1000: EL1-only RW; 0x2000: EL0 RW; 0x3000: RO, execute-never. */
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096,
					 RW | SIO_PROT_PRIV),
			 0);
	assert_int_equal(sio_pgtable_map(pt, 0x2000, 0x2000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x3000, 0x3000, 4096,
					 SIO_PROT_READ | SIO_PROT_NOEXEC),
			 0);
	assert_int_equal(sio_pgtable_map(pt, 0x4000, 0x4000, 4096,
					 SIO_PROT_READ | SIO_PROT_PRIV),
			 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x1000, P, NULL), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(EV_PNU(ev), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, SIO_SMMU_WRITE, NULL),
			 0);
	/* Instruction fetches: XN pages never; EL0-writable never at EL1. */
	assert_int_equal(xlate(fx, 1, false, 0, 0x3000, X | P, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_IND(ev), 1);
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, X, NULL), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, X | P, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(xlate(fx, 1, false, 0, 0x4000, X | P, NULL), 0);
	/* WXN: writable memory is never executable. */
	bits_set(cd, 36, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, X, NULL), -EFAULT);
	fx_one_event(fx, ev);
	bits_set(cd, 36, 1, 0);
	fx_inv_all(fx);
	/* PAN: privileged data accesses to EL0 memory fault. */
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, P, NULL), 0);
	bits_set(cd, 40, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x2000, P, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	assert_int_equal(xlate(fx, 1, false, 0, 0x1000, P, NULL), 0);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * After an access @prime that the page allows (the walk caches what the
 * leaf allows every kind of access), @attr must still fault with a
 * permission fault: answered now from the TLB, it must agree with the
 * walk.
 */
static void faults_after(struct smmu_fx *fx, uint64_t addr, unsigned int prime,
			 unsigned int attr)
{
	uint64_t ev[4];

	assert_int_equal(xlate(fx, 1, false, 0, addr, prime, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(xlate(fx, 1, false, 0, addr, attr, NULL),
				 -EFAULT);
		fx_one_event(fx, ev);
		assert_int_equal(EV_ID(ev), EVT_F_PERMISSION);
	}
	assert_int_equal(xlate(fx, 1, false, 0, addr, prime, NULL), 0);
}

/* Set @bits in the level-2 table descriptor above @addr. */
static void table_bits(struct smmu_fx *fx, struct sio_pgtable *pt,
		       uint64_t addr, uint64_t bits)
{
	struct sio_pgtable_walk w;
	uint64_t desc;

	assert_int_equal(sio_pgtable_walk(pt, addr, &w), 0);
	desc = w.step[2].desc;
	assert_int_equal(sio_mem_cmpxchg64(fx->bus, w.step[2].addr, &desc,
					   desc | bits),
			 0);
	fx_inv_all(fx);
}

/*
 * Stage-1 permissions a TLB hit decides: the same rules as the walk's
 * (test_stage1_permissions), each checked after another access has
 * filled the TLB.  WXN and PAN from the CD; APTable[1] (read-only),
 * APTable[0] (no EL0), UXNTable and PXNTable from a table descriptor
 * (D8.4.2); EL0-writable memory never executable at EL1.
 */
static void test_stage1_permissions_on_hits(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t *cd = s1_stream(fx, &in);
	const unsigned int P = SIO_SMMU_PRIV, X = SIO_SMMU_EXEC,
			   W = SIO_SMMU_WRITE;

	(void)state;
	/* 2 MiB apart, so that each has a level-3 table of its own */
	assert_int_equal(sio_pgtable_map(pt, 0x000000, 0x1000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x200000, 0x2000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x400000, 0x3000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x600000, 0x4000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x800000, 0x5000, 4096,
					 SIO_PROT_READ | SIO_PROT_PRIV),
			 0);
	/* EL0 RW: executable at EL0, never at EL1 */
	faults_after(fx, 0x000000, X, X | P);
	/* WXN: writable memory is never executable */
	bits_set(cd, 36, 1, 1);
	fx_inv_all(fx);
	faults_after(fx, 0x000000, 0, X);
	bits_set(cd, 36, 1, 0);
	/* PAN: privileged data accesses to EL0 memory fault */
	bits_set(cd, 40, 1, 1);
	fx_inv_all(fx);
	faults_after(fx, 0x000000, 0, P);
	faults_after(fx, 0x000000, W, P | W);
	bits_set(cd, 40, 1, 0);
	fx_inv_all(fx);
	/* APTable[1]: read-only below, at either privilege */
	table_bits(fx, pt, 0x200000, 1ull << 62);
	faults_after(fx, 0x200000, 0, W);
	faults_after(fx, 0x200000, P, P | W);
	/* APTable[0]: no EL0 access below */
	table_bits(fx, pt, 0x400000, 1ull << 61);
	faults_after(fx, 0x400000, P, 0);
	/* UXNTable: not executable at EL0 below */
	table_bits(fx, pt, 0x600000, 1ull << 60);
	faults_after(fx, 0x600000, 0, X);
	/* PXNTable: not executable at EL1 below */
	assert_int_equal(xlate(fx, 1, false, 0, 0x800000, X | P, NULL), 0);
	table_bits(fx, pt, 0x800000, 1ull << 59);
	faults_after(fx, 0x800000, P, X | P);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Hostile tables: a descriptor pointing outside the bus is an external
 * abort (F_WALK_EABT, stage 1, CLASS TT, with the fetch address); tables
 * that point at themselves or hold garbage end in an architectural fault
 * within the levels of the format, touching nothing outside the bus.
 */
static void test_hostile_tables(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t ev[4], seed = 3, *garbage = fx_alloc(fx, 4096);
	struct sio_pgtable_walk w;
	uint64_t desc, want;

	(void)state;
	s1_stream(fx, &in);
	assert_int_equal(sio_pgtable_map(pt, 0x5000, 0x6000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_walk(pt, 0x5000, &w), 0);
	/* The level-2 descriptor now points at unbacked memory. */
	desc = w.step[2].desc;
	want = 0x7000 | 3;
	assert_int_equal(
		sio_mem_cmpxchg64(fx->bus, w.step[2].addr, &desc, want), 0);
	assert_int_equal(xlate(fx, 1, false, 0, 0x5000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), 0x0b); /* F_WALK_EABT */
	assert_int_equal(EV_S2(ev), 0);
	assert_int_equal(EV_CLASS(ev), CLASS_TT);
	assert_true(EV_FETCH(ev) == 0x7000 + 8 * 5);
	assert_true(EV_INPUT(ev) == 0x5000);
	/* A table whose entry points back at the table itself. */
	desc = want;
	want = w.step[2].table | 3;
	assert_int_equal(
		sio_mem_cmpxchg64(fx->bus, w.step[2].addr, &desc, want), 0);
	/* The walk cache holds the last table: invalidate it first. */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, false, 0, 0x5000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	/*
	 * Random garbage as the level-1 table, many times over: its table
	 * descriptors send the walk to random addresses.  Every outcome is
	 * a translation or an architectural fault, never a crash.
	 */
	desc = w.step[0].desc;
	want = fx_pa(garbage) | 3;
	assert_int_equal(
		sio_mem_cmpxchg64(fx->bus, w.step[0].addr, &desc, want), 0);
	for (int round = 0; round < 2000; round++) {
		uint64_t pa;
		int rc;

		for (int i = 0; i < 512; i++)
			garbage[i] = sio_test_rand(&seed);
		fx_inv_all(fx);
		rc = xlate(fx, 1, false, 0,
			   (uint64_t)(round % 512) << 30 | 0x5000, 0, &pa);
		assert_true(rc == 0 || rc == -EFAULT);
		/* Drop whatever was recorded (and any overflow). */
		sio_smmu_write32(fx->smmu, R_EVENTQ_CONS,
				 sio_smmu_read32(fx->smmu, R_EVENTQ_PROD));
	}
	/*
	 * Give the driver its own table back before it frees it: the page
	 * table library trusts the tables it owns, which no device can
	 * reach (only a bypass stream could, and drivers give none).
	 */
	assert_int_equal(
		sio_mem_write64(fx->bus, w.step[0].addr, w.step[0].desc), 0);
	assert_int_equal(
		sio_mem_write64(fx->bus, w.step[2].addr, w.step[2].desc), 0);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void set_e2h(struct smmu_fx *fx, bool e2h)
{
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_CR2, e2h ? 0x1 : 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	/* E2H is cached with the configuration: invalidate it all. */
	fx_cmd(fx, CMD_TLBI_EL2_ALL, 0);
	fx_inv_all(fx);
}

/*
 * An SMMU with IDR0.Hyp (both stages), 8-bit ASIDs unless @asid16, and
 * CR2.E2H == @e2h, written while SMMUEN == 0 (section 6.3.12).
 */
static struct smmu_fx *hyp_fx(bool asid16, bool e2h)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;

	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	cfg.asid16 = asid16;
	fx = fx_create(&cfg);
	if (e2h)
		set_e2h(fx, true);
	return fx;
}

/* StreamWorld NS-EL2 or NS-EL2-E2H: STE.STRW == 0b10 (section 5.2). */
static void ste_el2(struct smmu_fx *fx, uint32_t sid)
{
	bits_set(fx_ste(fx, sid), 94, 2, 2);
}

/* A faulting translation, twice (a walk, then nothing cached), and its event.
 */
static void expect_fault(struct smmu_fx *fx, uint32_t sid, uint64_t addr,
			 unsigned int attr, uint64_t id)
{
	uint64_t ev[4];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(xlate(fx, sid, false, 0, addr, attr, NULL),
				 -EFAULT);
		fx_one_event(fx, ev);
		assert_int_equal(EV_ID(ev), id);
		/* A configuration error's record has no input address. */
		if (id != EVT_C_BAD_CD)
			assert_true(EV_INPUT(ev) == addr);
	}
}

/* A translation to @pa, twice: by a walk, then from the TLB. */
static void expect_pa(struct smmu_fx *fx, uint32_t sid, uint64_t addr,
		      unsigned int attr, uint64_t want)
{
	uint64_t pa;

	for (int i = 0; i < 2; i++) {
		pa = 0;
		assert_int_equal(xlate(fx, sid, false, 0, addr, attr, &pa), 0);
		assert_true(pa == want);
	}
}

/*
 * NS-EL2 (section 3.17.5: "one translation table"; 5.4.1: only TTB0,
 * TTB1 unreachable): with a CD that enables both TTBs of a 39-bit range
 * (T0SZ == T1SZ == 25), the top address, which NS-EL1 walks through TTB1,
 * has VA[63:39] != 0 and is a Translation fault (3.4, 3.4.1).  TBI0 is
 * the one TBI: a tagged pointer of the low range translates, while VA[55]
 * set still faults, as bits [55:39] must be 0.
 */
static void test_el2_one_va_range(void **state)
{
	struct smmu_fx *fx = hyp_fx(true, false);
	struct sio_pgtable_info lo, hi;
	struct sio_pgtable *p0 = s1_table(fx, 39, SIO_PGT_TTB0, 0, &lo);
	struct sio_pgtable *p1 = s1_table(fx, 39, SIO_PGT_TTB1, 0, &hi);
	uint64_t *cd = fx_alloc(fx, 4096);

	(void)state;
	cd_make(cd, &lo, &hi, 3);
	ste_valid(fx_ste(fx, 4), 5);
	ste_s1(fx_ste(fx, 4), fx_pa(cd), 0, 0, 0);
	ste_el2(fx, 4);
	assert_int_equal(sio_pgtable_map(p0, 0x5000, 0x1000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(p1, ~0ull - 0xfff, 0x2000, 4096, RW),
			 0);
	expect_pa(fx, 4, 0x5008, 0, 0x1008);
	expect_fault(fx, 4, ~0ull - 7, 0, EVT_F_TRANSLATION);
	bits_set(cd, 38, 1, 1); /* TBI0 */
	fx_inv_all(fx);
	expect_pa(fx, 4, 0x5a00000000005008ull, 0, 0x1008);
	expect_fault(fx, 4, 0xff80000000005008ull, 0, EVT_F_TRANSLATION);
	fx_no_event(fx);
	sio_pgtable_destroy(p0);
	sio_pgtable_destroy(p1);
	fx_destroy(fx);
}

/* Rewrite CD bits [@lo + @width - 1:@lo] to @val, and invalidate. */
static void cd_set(struct smmu_fx *fx, uint64_t *cd, unsigned int lo,
		   unsigned int width, uint64_t val)
{
	bits_set(cd, lo, width, val);
	fx_cmd(fx, CMD_TLBI_EL2_ALL, 0);
	fx_inv_all(fx);
}

/*
 * The CD fields of an NS-EL2 stream (section 5.4 and 5.4.1), on an SMMU
 * with 8-bit ASIDs: EPD0 is IGNORED with effective value 0, so TTB0
 * walks anyway, its fields must be valid, and ENDI is checked (NS-EL1
 * with EPD0 == EPD1 == 1 ignores both); TTB1's fields are RES0 (T1SZ 0
 * and TG1 0b00 with EPD1 == 0 are not ILLEGAL); the ASID is IGNORED, so
 * ASID[15:8] != 0 is not ILLEGAL as it is for NS-EL1 (CdIllegal()).
 */
static void test_el2_cd_fields(void **state)
{
	struct smmu_fx *fx = hyp_fx(false, false);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t *cd = s1_stream(fx, &in), good[8];

	(void)state;
	ste_el2(fx, 1);
	assert_int_equal(sio_pgtable_map(pt, 0, 0x1000, 4096, RW), 0);
	memcpy(good, cd, 64);
	cd_set(fx, cd, 14, 1, 1); /* EPD0 */
	expect_pa(fx, 1, 0x8, 0, 0x1008);
	cd_set(fx, cd, 16, 8, 0); /* T1SZ 0, TG1 0b00 */
	cd_set(fx, cd, 30, 1, 0); /* EPD1 0 */
	expect_pa(fx, 1, 0x8, 0, 0x1008);
	cd_set(fx, cd, 48, 16, 0x1234); /* ASID, 16 bits */
	expect_pa(fx, 1, 0x8, 0, 0x1008);
	memcpy(cd, good, 64);
	cd_set(fx, cd, 14, 1, 1); /* EPD0 */
	cd_set(fx, cd, 15, 1, 1); /* ENDI, big-endian: ILLEGAL here */
	expect_fault(fx, 1, 0x8, 0, EVT_C_BAD_CD);
	cd_set(fx, cd, 15, 1, 0);
	cd_set(fx, cd, 6, 2, 3); /* TG0 reserved, EPD0 or not */
	expect_fault(fx, 1, 0x8, 0, EVT_C_BAD_CD);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* Set @set and clear @clear in the leaf of @addr, and invalidate. */
static void leaf_bits(struct smmu_fx *fx, struct sio_pgtable *pt, uint64_t addr,
		      uint64_t set, uint64_t clear)
{
	fx_leaf_change(fx, pt, addr, set, clear);
	fx_cmd(fx, CMD_TLBI_EL2_ALL, 0);
	fx_inv_all(fx);
}

/*
 * NS-EL2 stage-1 permissions (sections 3.17.5, 5.4.1 and 13.4.1): AP[1]
 * is treated as 1 and PRIV is not used, so both privileges get the same
 * answer, whatever AP[1]; bit 54 is the one XN (PXN, bit 53, is for a
 * second privilege the regime lacks); PAN is IGNORED (5.4); WXN applies.
 * Each answer is checked from a walk and from the TLB.
 */
static void test_el2_permissions(void **state)
{
	struct smmu_fx *fx = hyp_fx(true, false);
	struct sio_pgtable_info in;
	struct sio_pgtable *pt = s1_table(fx, 48, SIO_PGT_TTB0, 0, &in);
	uint64_t *cd = s1_stream(fx, &in);
	const unsigned int P = SIO_SMMU_PRIV, X = SIO_SMMU_EXEC,
			   W = SIO_SMMU_WRITE;

	(void)state;
	ste_el2(fx, 1);
	/* AP[2:1] 0b00 (EL1-only for NS-EL1), 0b01 (EL0 too), 0b10 (RO) */
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x1000, 4096,
					 RW | SIO_PROT_PRIV),
			 0);
	assert_int_equal(sio_pgtable_map(pt, 0x2000, 0x2000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x3000, 0x3000, 4096,
					 SIO_PROT_READ | SIO_PROT_PRIV),
			 0);
	/* AP[1] == 0: unprivileged accesses allowed as privileged ones */
	expect_pa(fx, 1, 0x1010, 0, 0x1010);
	expect_pa(fx, 1, 0x1010, W, 0x1010);
	expect_pa(fx, 1, 0x1010, P | W, 0x1010);
	expect_pa(fx, 1, 0x1010, X, 0x1010);
	/* AP[1] == 1: writable by "EL0" yet executable privileged */
	expect_pa(fx, 1, 0x2010, P | X, 0x2010);
	expect_pa(fx, 1, 0x2010, X, 0x2010);
	/* AP[2] == 1: read-only at either privilege */
	expect_pa(fx, 1, 0x3010, 0, 0x3010);
	expect_fault(fx, 1, 0x3010, W, EVT_F_PERMISSION);
	expect_fault(fx, 1, 0x3010, P | W, EVT_F_PERMISSION);
	/* Bit 54 (UXN for NS-EL1) is XN: no execution at all */
	expect_pa(fx, 1, 0x3010, P | X, 0x3010);
	leaf_bits(fx, pt, 0x3000, 1ull << 54, 1ull << 53);
	expect_fault(fx, 1, 0x3010, P | X, EVT_F_PERMISSION);
	expect_fault(fx, 1, 0x3010, X, EVT_F_PERMISSION);
	expect_pa(fx, 1, 0x3010, 0, 0x3010);
	/* PAN is IGNORED: privileged data access to an AP[1] page */
	cd_set(fx, cd, 40, 1, 1);
	expect_pa(fx, 1, 0x2010, P, 0x2010);
	expect_pa(fx, 1, 0x2010, P | W, 0x2010);
	/* WXN: writable memory is never executable */
	cd_set(fx, cd, 36, 1, 1);
	expect_fault(fx, 1, 0x2010, P | X, EVT_F_PERMISSION);
	expect_fault(fx, 1, 0x1010, X, EVT_F_PERMISSION);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * The same STE and CD, with CR2.E2H == 1 then 0 (section 5.2, STRW):
 * NS-EL2-E2H translates as NS-EL1 (3.17.5, "function the same way as
 * those for an EL1 stage 1"): TTB1 walks, AP[1] == 0 denies unprivileged
 * accesses (13.4.1) and an ASID above 8 bits is ILLEGAL (CdIllegal()).
 * NS-EL2 then has none of these.
 */
static void test_el2_e2h_and_not(void **state)
{
	struct smmu_fx *fx = hyp_fx(false, true);
	struct sio_pgtable_info lo, hi;
	struct sio_pgtable *p0 = s1_table(fx, 39, SIO_PGT_TTB0, 0, &lo);
	struct sio_pgtable *p1 = s1_table(fx, 39, SIO_PGT_TTB1, 0, &hi);
	uint64_t *cd = fx_alloc(fx, 4096);

	(void)state;
	cd_make(cd, &lo, &hi, 3);
	ste_valid(fx_ste(fx, 4), 5);
	ste_s1(fx_ste(fx, 4), fx_pa(cd), 0, 0, 0);
	ste_el2(fx, 4);
	assert_int_equal(sio_pgtable_map(p0, 0x5000, 0x1000, 4096,
					 RW | SIO_PROT_PRIV),
			 0);
	assert_int_equal(sio_pgtable_map(p1, ~0ull - 0xfff, 0x2000, 4096, RW),
			 0);
	expect_pa(fx, 4, ~0ull - 7, 0, 0x2ff8);
	expect_pa(fx, 4, 0x5008, SIO_SMMU_PRIV, 0x1008);
	expect_fault(fx, 4, 0x5008, 0, EVT_F_PERMISSION);
	cd_set(fx, cd, 48, 16, 0x103);
	expect_fault(fx, 4, 0x5008, SIO_SMMU_PRIV, EVT_C_BAD_CD);
	set_e2h(fx, false);
	expect_pa(fx, 4, 0x5008, 0, 0x1008);
	expect_fault(fx, 4, ~0ull - 7, 0, EVT_F_TRANSLATION);
	fx_no_event(fx);
	sio_pgtable_destroy(p0);
	sio_pgtable_destroy(p1);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage1),
		cmocka_unit_test(test_stage1_ttb1_and_tbi),
		cmocka_unit_test(test_stage2),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_substreams),
		cmocka_unit_test(test_two_level_cd_table),
		cmocka_unit_test(test_illegal_cds),
		cmocka_unit_test(test_access_flag_and_dirty_state),
		cmocka_unit_test(test_stage1_permissions),
		cmocka_unit_test(test_stage1_permissions_on_hits),
		cmocka_unit_test(test_hostile_tables),
		cmocka_unit_test(test_el2_one_va_range),
		cmocka_unit_test(test_el2_cd_fields),
		cmocka_unit_test(test_el2_permissions),
		cmocka_unit_test(test_el2_e2h_and_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
