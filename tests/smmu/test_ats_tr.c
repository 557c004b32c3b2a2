// SPDX-License-Identifier: MIT
/*
 * PCIe ATS translation (section 3.9.1): Translation Requests answered
 * with the permissions of section 13.7 (its table of example requests),
 * the UR and CA refusals of 3.9.1.2 and the events they record, HTTU on
 * requests (3.13.7), and Translated transactions under CR0.ATSCHK and
 * STE.EATS (3.9.1.3), split-stage ATS (13.6.3) included.  Expected values
 * come from those sections; tables are built with the page-table library.
 */
#include <errno.h>

#include "smmu_test.h"

#define EVT_C_BAD_STREAMID     0x02
#define EVT_C_BAD_STE	       0x04
#define EVT_F_BAD_ATS_TREQ     0x05
#define EVT_F_STREAM_DISABLED  0x06
#define EVT_F_TRANSL_FORBIDDEN 0x07
#define EVT_F_TRANSLATION      0x10
#define EVT_F_ADDR_SIZE	       0x11

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

#define CR0_ON	   (0x1 | 0x4 | 0x8) /* SMMUEN | EVENTQEN | CMDQEN */
#define CR0_ATSCHK 0x10
#define CR2_RECINV 0x2
#define CR2_RECATS 0x8

#define STU 4096ull

struct ats {
	struct smmu_fx *fx;
	struct sio_pgtable *s1, *s2;
	struct sio_pgtable_info i1, i2;
	uint64_t *cd;
};

static void ste_eats(uint64_t *ste, unsigned int eats)
{
	bits_set(ste, 92, 2, eats); /* STE.EATS */
}

static void ats_setup(struct ats *a)
{
	struct sio_smmu_config cfg;

	sio_smmu_config_default(&cfg);
	cfg.ats = true;
	*a = (struct ats){.fx = fx_create(&cfg)};
	a->s1 = sio_test_pgtable(a->fx->bus, SIO_PGT_STAGE1, 4096, 48, 48,
				 SIO_PGT_TTB0, SIO_PGT_F_HD);
	sio_pgtable_get_info(a->s1, &a->i1);
	a->cd = fx_alloc(a->fx, 4096);
	cd_make(a->cd, &a->i1, NULL, 5);
}

static void ats_teardown(struct ats *a)
{
	sio_pgtable_destroy(a->s1);
	if (a->s2)
		sio_pgtable_destroy(a->s2);
	fx_destroy(a->fx);
}

/* StreamID @sid: stage 1 only through a->cd, with @eats. */
static void s1_stream(struct ats *a, uint32_t sid, unsigned int eats)
{
	ste_valid(fx_ste(a->fx, sid), 5);
	ste_s1(fx_ste(a->fx, sid), fx_pa(a->cd), 0, 0, 0);
	ste_eats(fx_ste(a->fx, sid), eats);
	fx_inv_all(a->fx);
}

static void map(struct sio_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size,
		unsigned int prot)
{
	assert_int_equal(sio_pgtable_map(pt, va, pa, size, prot), 0);
}

static int treq(struct ats *a, uint32_t sid, uint64_t addr, bool nw,
		struct sio_smmu_ats_entry *e, unsigned int max, unsigned int *n)
{
	struct sio_smmu_ats_req r = {
		.sid = sid, .addr = addr, .span = 1, .nw = nw};

	return sio_smmu_ats_translate(a->fx->smmu, &r, e, max, n);
}

/* A completion of one entry: translated address, size, R and W. */
static void one_entry(struct ats *a, uint32_t sid, uint64_t addr, bool nw,
		      uint64_t ta, uint64_t size, bool r, bool w)
{
	struct sio_smmu_ats_entry e[4];
	unsigned int n = 99;

	assert_int_equal(treq(a, sid, addr, nw, e, 4, &n), SIO_SMMU_ATS_SC);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].r, r);
	assert_int_equal(e[0].w, w);
	assert_int_equal(e[0].exe, false);
	assert_int_equal(e[0].u, false);
	assert_int_equal(e[0].n, false);
	assert_int_equal(e[0].size, size);
	if (r || w)
		assert_int_equal(e[0].addr, ta);
}

static void test_tr_stage1(void **state)
{
	struct sio_smmu_ats_entry e[4];
	struct sio_smmu_ats_req r = {.sid = 1, .addr = 0x10000, .span = 3};
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	s1_stream(&a, 1, 1);
	map(a.s1, 0x10000, 0x50000, 4096, RW);
	map(a.s1, 0x11000, 0x51000, 4096, SIO_PROT_READ);
	map(a.s1, 0x12000, 0x52000, 4096, RW | SIO_PROT_PRIV);
	map(a.s1, 0x200000, 0x40000000, 0x200000, RW | SIO_PROT_GLOBAL);
	/* User-RW: R and W whatever NW says (13.7: W may be granted). */
	one_entry(&a, 1, 0x10000, false, 0x50000, STU, true, true);
	one_entry(&a, 1, 0x10fff, true, 0x50000, STU, true, true);
	/* User-RO, NW == 0: R only. */
	one_entry(&a, 1, 0x11000, false, 0x51000, STU, true, false);
	/* Priv-only, and a request without a PASID is unprivileged. */
	one_entry(&a, 1, 0x12000, false, 0, STU, false, false);
	/* Unmapped: Success with R == W == 0, one STU, and no event. */
	one_entry(&a, 1, 0x30000, false, 0, STU, false, false);
	/* A 2 MiB block: one entry covering all of it, Global as nG == 0. */
	assert_int_equal(treq(&a, 1, 0x2a5000, false, e, 4, &n),
			 SIO_SMMU_ATS_SC);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].addr, 0x40000000);
	assert_int_equal(e[0].size, 0x200000);
	assert_true(e[0].global && e[0].r && e[0].w);
	/* Three STUs: consecutive entries, ending at the one granting none. */
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 4, &n),
			 SIO_SMMU_ATS_SC);
	assert_int_equal(n, 3);
	assert_int_equal(e[0].addr, 0x50000);
	assert_true(e[1].addr == 0x51000 && e[1].r && !e[1].w);
	assert_true(!e[2].r && !e[2].w && e[2].size == STU);
	/* ...and no more entries than the caller has room for. */
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 2, &n),
			 SIO_SMMU_ATS_SC);
	assert_int_equal(n, 2);
	fx_no_event(a.fx);
	ats_teardown(&a);
}

/* 13.7's example table, for requests with a PASID (CD 1 of two). */
static void test_tr_pasid_permissions(void **state)
{
	struct sio_smmu_ats_entry e[1];
	struct sio_smmu_ats_req r = {
		.sid = 2, .ssv = true, .ssid = 1, .span = 1};
	uint64_t *cds, ev[4];
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	cds = fx_alloc(a.fx, 4096);
	memcpy(cds + 8, a.cd, 64);
	ste_valid(fx_ste(a.fx, 2), 5);
	ste_s1(fx_ste(a.fx, 2), fx_pa(cds), 1, 0, 0);
	ste_eats(fx_ste(a.fx, 2), 1);
	fx_inv_all(a.fx);
	/* User-RO, Priv-RW, executable; User-RW XN; Priv-only executable. */
	map(a.s1, 0x1000, 0x61000, 4096, SIO_PROT_READ | SIO_PROT_GLOBAL);
	map(a.s1, 0x2000, 0x62000, 4096, RW | SIO_PROT_NOEXEC);
	map(a.s1, 0x3000, 0x63000, 4096, RW | SIO_PROT_PRIV);
	/* NW == 1, Exe == 0, Priv == 0 on User-RO: R, and Global == 0. */
	r.addr = 0x1000;
	r.nw = true;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(e[0].r && !e[0].w && !e[0].exe && !e[0].priv &&
		    !e[0].global);
	/* NW == 0, Exe == 1 on executable User-RO: R and Exe. */
	r.nw = false;
	r.exe = true;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(e[0].r && !e[0].w && e[0].exe);
	/* Exe requested on an XN page: R and W, never Exe. */
	r.addr = 0x2000;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(e[0].r && e[0].w && !e[0].exe);
	/* Priv-only: nothing for Priv == 0, RW (and Priv) for Priv == 1. */
	r.addr = 0x3000;
	r.exe = false;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(!e[0].r && !e[0].w);
	r.priv = true;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(e[0].r && e[0].w && e[0].priv && e[0].addr == 0x63000);
	fx_no_event(a.fx);
	/* Without a PASID, S1DSS == 0b00: a configuration error, CA. */
	r.ssv = false;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	assert_int_equal(n, 0);
	fx_no_event(a.fx);
	/* ...recorded as F_STREAM_DISABLED once REC_CFG_ATS asks for it. */
	sio_smmu_write32(a.fx->smmu, R_CR2, CR2_RECATS);
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_STREAM_DISABLED);
	assert_int_equal(EV_SID(ev), 2);
	/* S1DSS == 0b01 and stage 1 only: an identity map, R and W. */
	bits_set(fx_ste(a.fx, 2), 64, 2, 1);
	fx_inv_all(a.fx);
	r.addr = 0x123456789000ull;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n), 0);
	assert_true(e[0].r && e[0].w && e[0].addr == 0 &&
		    e[0].size == 1ull << 48);
	ats_teardown(&a);
}

static void bad_treq_event(struct ats *a, uint32_t sid, uint64_t addr)
{
	uint64_t ev[4];

	fx_one_event(a->fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_BAD_ATS_TREQ);
	assert_int_equal(EV_SID(ev), sid);
	assert_int_equal(EV_SSV(ev), 0);
	assert_int_equal(EV_RNW(ev), 0); /* NW == 0: Write requested */
	assert_int_equal(EV_INPUT(ev), addr);
}

static void test_tr_refused(void **state)
{
	struct sio_smmu_ats_entry e[1];
	struct sio_smmu_ats_req r = {.sid = 1, .addr = 0x1000, .span = 1};
	uint64_t ev[4];
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	map(a.s1, 0x1000, 0x51000, 4096, RW);
	/* EATS == 0b00: UR and F_BAD_ATS_TREQ. */
	s1_stream(&a, 1, 0);
	assert_int_equal(treq(&a, 1, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_UR);
	assert_int_equal(n, 0);
	bad_treq_event(&a, 1, 0x1000);
	/* 0b11 (DPT) is reserved without IDR3.DPT and behaves as 0b00. */
	s1_stream(&a, 1, 3);
	assert_int_equal(treq(&a, 1, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_UR);
	bad_treq_event(&a, 1, 0x1000);
	/* Config 0b100 (bypass): EATS taken as 0b00. */
	ste_valid(fx_ste(a.fx, 3), 4);
	ste_eats(fx_ste(a.fx, 3), 1);
	fx_inv_all(a.fx);
	assert_int_equal(treq(&a, 3, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_UR);
	bad_treq_event(&a, 3, 0x1000);
	/* Config 0b000: UR with no event. */
	ste_valid(fx_ste(a.fx, 4), 0);
	fx_inv_all(a.fx);
	assert_int_equal(treq(&a, 4, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_UR);
	fx_no_event(a.fx);
	/* SMMUEN == 0: UR and the event, even for a stream allowing ATS. */
	s1_stream(&a, 1, 1);
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON & ~1u);
	assert_int_equal(treq(&a, 1, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_UR);
	bad_treq_event(&a, 1, 0x1000);
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON);
	/* A PASID and NW are what the record says was asked for. */
	s1_stream(&a, 1, 0);
	r.nw = true;
	r.ssv = true;
	r.ssid = 9;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n),
			 SIO_SMMU_ATS_UR);
	fx_one_event(a.fx, ev);
	assert_true(EV_ID(ev) == EVT_F_BAD_ATS_TREQ && EV_SSV(ev) &&
		    EV_SSID(ev) == 9 && EV_RNW(ev));
	/* Misuse of the interface, not a request. */
	r.span = 0;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 1, &n),
			 -EINVAL);
	r.span = 1;
	assert_int_equal(sio_smmu_ats_translate(a.fx->smmu, &r, e, 0, &n),
			 -EINVAL);
	ats_teardown(&a);
}

static void test_tr_config_errors(void **state)
{
	struct sio_smmu_ats_entry e[1];
	uint64_t ev[4];
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	/* An invalid STE: CA, and no event without REC_CFG_ATS... */
	memset(fx_ste(a.fx, 5), 0, 64);
	fx_inv_all(a.fx);
	assert_int_equal(treq(&a, 5, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_CA);
	fx_no_event(a.fx);
	/* ...and a StreamID beyond the table: CA, no event either. */
	assert_int_equal(treq(&a, 1u << 10, 0x1000, false, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	fx_no_event(a.fx);
	/* REC_CFG_ATS records C_BAD_STE, C_BAD_STREAMID only with RECINVSID. */
	sio_smmu_write32(a.fx->smmu, R_CR2, CR2_RECATS);
	assert_int_equal(treq(&a, 5, 0x1000, false, e, 1, &n), SIO_SMMU_ATS_CA);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	assert_int_equal(treq(&a, 1u << 10, 0x1000, false, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	fx_no_event(a.fx);
	sio_smmu_write32(a.fx->smmu, R_CR2, CR2_RECATS | CR2_RECINV);
	assert_int_equal(treq(&a, 1u << 10, 0x1000, false, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STREAMID);
	/* Without IDR0.ATS, REC_CFG_ATS is RES0 and requests are misuse. */
	{
		struct smmu_fx *fx = fx_create(NULL);
		struct sio_smmu_ats_req r = {.sid = 1, .span = 1};

		assert_int_equal(sio_smmu_read32(fx->smmu, R_IDR0) & (1u << 23),
				 0);
		sio_smmu_write32(fx->smmu, R_CR2, CR2_RECATS);
		assert_int_equal(sio_smmu_read32(fx->smmu, R_CR2), 0);
		assert_int_equal(sio_smmu_ats_translate(fx->smmu, &r, e, 1, &n),
				 -EINVAL);
		fx_destroy(fx);
	}
	assert_int_not_equal(sio_smmu_read32(a.fx->smmu, R_IDR0) & (1u << 23),
			     0);
	ats_teardown(&a);
}

static void test_tr_httu(void **state)
{
	struct sio_dirty_bitmap bm;
	struct sio_pgtable_walk w;
	uint64_t bits[1], desc, want;
	struct ats a;

	(void)state;
	ats_setup(&a);
	bm = (struct sio_dirty_bitmap){0x10000, 0x1000, 0x1000, bits};
	s1_stream(&a, 1, 1);
	map(a.s1, 0x10000, 0x50000, 4096, RW);
	assert_int_equal(sio_pgtable_walk(a.s1, 0x10000, &w), 0);
	/* AF == 0 without HA: an Access fault, so nothing is granted. */
	desc = w.step[3].desc;
	want = desc & ~(1ull << 10);
	assert_int_equal(
		sio_mem_cmpxchg64(a.fx->bus, w.step[3].addr, &desc, want), 0);
	one_entry(&a, 1, 0x10000, true, 0, STU, false, false);
	/* With CD.HA the request sets AF. */
	bits_set(a.cd, 43, 1, 1);
	fx_inv_all(a.fx);
	one_entry(&a, 1, 0x10000, true, 0x50000, STU, true, true);
	assert_int_equal(sio_mem_read64(a.fx->bus, w.step[3].addr, &desc), 0);
	assert_int_equal((desc >> 10) & 1, 1);
	/* Writable-clean without HD: no W, whatever NW says. */
	bits[0] = 0;
	assert_int_equal(sio_pgtable_read_and_clear_dirty(a.s1, &bm, 0), 0);
	fx_inv_all(a.fx);
	one_entry(&a, 1, 0x10000, false, 0x50000, STU, true, false);
	/* With HD, NW == 1 leaves it clean, and NW == 0 makes it dirty. */
	bits_set(a.cd, 42, 1, 1);
	fx_inv_all(a.fx);
	one_entry(&a, 1, 0x10000, true, 0x50000, STU, true, false);
	bits[0] = 0;
	assert_int_equal(sio_pgtable_read_and_clear_dirty(a.s1, &bm, 0), 0);
	assert_true(bits[0] == 0);
	one_entry(&a, 1, 0x10000, false, 0x50000, STU, true, true);
	assert_int_equal(sio_pgtable_read_and_clear_dirty(a.s1, &bm, 0), 0);
	assert_true(bits[0] == 1);
	fx_no_event(a.fx);
	ats_teardown(&a);
}

/*
 * Nested (Config 0b111): stage 2 maps the CD and stage-1 tables at IPA
 * == PA, and IPA 0x500000 at PA 0x9000000.  StreamID 8.
 */
static void nested_setup(struct ats *a, unsigned int eats)
{
	struct sio_pgtable_walk w;

	a->s2 = sio_test_pgtable(a->fx->bus, SIO_PGT_STAGE2, 4096, 48, 48,
				 SIO_PGT_TTB0, 0);
	sio_pgtable_get_info(a->s2, &a->i2);
	ste_valid(fx_ste(a->fx, 8), 7);
	ste_s1(fx_ste(a->fx, 8), fx_pa(a->cd), 0, 0, 0);
	ste_s2(fx_ste(a->fx, 8), &a->i2, 3);
	ste_eats(fx_ste(a->fx, 8), eats);
	/* A 2 MiB stage-1 block over 4 KiB stage-2 pages. */
	map(a->s1, 0x400000, 0x400000, 0x200000, RW);
	map(a->s2, 0x500000, 0x9000000, 4096, RW);
	map(a->s2, 0x501000, 0x9001000, 4096, SIO_PROT_READ);
	map(a->s2, fx_pa(a->cd), fx_pa(a->cd), 4096, RW);
	assert_int_equal(sio_pgtable_walk(a->s1, 0x500000, &w), 0);
	for (unsigned int i = 0; i < w.nsteps; i++)
		map(a->s2, w.step[i].table, w.step[i].table, 4096, RW);
	fx_inv_all(a->fx);
}

static void test_tr_nested_and_split(void **state)
{
	struct sio_smmu_ats_entry e[1];
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	nested_setup(&a, 1);
	/* Full ATS: the PA, in the smaller of the two leaves. */
	one_entry(&a, 8, 0x500000, false, 0x9000000, STU, true, true);
	/* Stage 2 read-only: R only. */
	one_entry(&a, 8, 0x501000, false, 0x9001000, STU, true, false);
	/* A stage-2 translation fault: nothing granted, no event. */
	one_entry(&a, 8, 0x502000, false, 0, STU, false, false);
	fx_no_event(a.fx);
	/* Split-stage without ATSCHK behaves as EATS == 0b00. */
	ste_eats(fx_ste(a.fx, 8), 2);
	fx_inv_all(a.fx);
	assert_int_equal(treq(&a, 8, 0x500000, false, e, 1, &n),
			 SIO_SMMU_ATS_UR);
	bad_treq_event(&a, 8, 0x500000);
	fx_no_event(a.fx);
	ats_teardown(&a);
}

static void test_tr_split_stage(void **state)
{
	struct sio_smmu_ats_entry e[1];
	struct ats a;
	unsigned int n;

	(void)state;
	ats_setup(&a);
	nested_setup(&a, 2);
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON | CR0_ATSCHK);
	/* The IPA, with permissions of both stages. */
	one_entry(&a, 8, 0x500000, false, 0x500000, STU, true, true);
	one_entry(&a, 8, 0x501000, false, 0x501000, STU, true, false);
	one_entry(&a, 8, 0x502000, false, 0, STU, false, false);
	/* EATS == 0b10 needs Config 0b111: otherwise C_BAD_STE, so CA. */
	s1_stream(&a, 1, 2);
	assert_int_equal(treq(&a, 1, 0x500000, false, e, 1, &n),
			 SIO_SMMU_ATS_CA);
	fx_no_event(a.fx);
	ats_teardown(&a);
}

static int translated(struct ats *a, uint32_t sid, uint64_t addr,
		      unsigned int attr, uint64_t *pa)
{
	struct sio_smmu_txn t = {
		.sid = sid, .addr = addr, .attr = attr | SIO_SMMU_TRANSLATED};
	struct sio_smmu_result res;
	int rc = sio_smmu_translate(a->fx->smmu, &t, &res);

	if (!rc)
		*pa = res.pa;
	return rc;
}

static void forbidden_event(struct ats *a, uint32_t sid, uint64_t addr,
			    bool read)
{
	uint64_t ev[4];

	fx_one_event(a->fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSL_FORBIDDEN);
	assert_int_equal(EV_SID(ev), sid);
	assert_int_equal(EV_SSV(ev), 0);
	assert_int_equal(EV_RNW(ev), read);
	assert_int_equal(EV_INPUT(ev), addr);
}

static void test_translated_atschk(void **state)
{
	struct sio_smmu_txn u = {.sid = 1, .addr = 0x10000};
	struct sio_smmu_result res;
	struct ats a;
	uint64_t pa;

	(void)state;
	ats_setup(&a);
	s1_stream(&a, 1, 0);
	map(a.s1, 0x10000, 0x50000, 4096, RW);
	/* Untranslated, then Translated to the same address: not the TLB's. */
	assert_int_equal(sio_smmu_translate(a.fx->smmu, &u, &res), 0);
	assert_int_equal(res.pa, 0x50000);
	/* ATSCHK == 0: through unchecked, even with EATS == 0b00... */
	assert_int_equal(translated(&a, 1, 0x10000, 0, &pa), 0);
	assert_int_equal(pa, 0x10000);
	/* ...but never beyond the OAS: aborted, no event. */
	assert_int_equal(translated(&a, 1, 1ull << 48, 0, &pa), -EFAULT);
	/* SMMUEN == 0: F_TRANSL_FORBIDDEN, whatever GBPA says. */
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON & ~1u);
	assert_int_equal(translated(&a, 1, 0x7000, SIO_SMMU_WRITE, &pa),
			 -EFAULT);
	forbidden_event(&a, 1, 0x7000, false);
	/* ATSCHK == 1 and EATS == 0b00: forbidden. */
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON | CR0_ATSCHK);
	assert_int_equal(translated(&a, 1, 0x10000, 0, &pa), -EFAULT);
	forbidden_event(&a, 1, 0x10000, true);
	/* Full ATS: through. */
	s1_stream(&a, 1, 1);
	assert_int_equal(translated(&a, 1, 0x10000, 0, &pa), 0);
	assert_int_equal(pa, 0x10000);
	/* Config 0b100: forbidden; Config 0b000: aborted silently. */
	ste_valid(fx_ste(a.fx, 3), 4);
	ste_valid(fx_ste(a.fx, 4), 0);
	fx_inv_all(a.fx);
	assert_int_equal(translated(&a, 3, 0x2000, 0, &pa), -EFAULT);
	forbidden_event(&a, 3, 0x2000, true);
	assert_int_equal(translated(&a, 4, 0x2000, 0, &pa), -EFAULT);
	fx_no_event(a.fx);
	/* Configuration errors: recorded only with REC_CFG_ATS... */
	memset(fx_ste(a.fx, 5), 0, 64);
	fx_inv_all(a.fx);
	assert_int_equal(translated(&a, 5, 0x2000, 0, &pa), -EFAULT);
	assert_int_equal(translated(&a, 1u << 10, 0x2000, 0, &pa), -EFAULT);
	fx_no_event(a.fx);
	/* ...C_BAD_STREAMID then too, RECINVSID or not (3.9.1.3). */
	sio_smmu_write32(a.fx->smmu, R_CR2, CR2_RECATS);
	assert_int_equal(translated(&a, 5, 0x2000, 0, &pa), -EFAULT);
	assert_int_equal(translated(&a, 1u << 10, 0x2000, 0, &pa), -EFAULT);
	{
		uint64_t ev[2][4];

		assert_int_equal(fx_events(a.fx, ev, 2), 2);
		assert_int_equal(EV_ID(ev[0]), EVT_C_BAD_STE);
		assert_int_equal(EV_ID(ev[1]), EVT_C_BAD_STREAMID);
	}
	ats_teardown(&a);
}

static void test_translated_split_stage(void **state)
{
	struct ats a;
	uint64_t pa, ev[4], *buf;
	struct sio_smmu_txn t = {.sid = 8,
				 .attr = SIO_SMMU_WRITE | SIO_SMMU_TRANSLATED};
	size_t done;

	(void)state;
	ats_setup(&a);
	nested_setup(&a, 2);
	sio_smmu_write32(a.fx->smmu, R_CR0, CR0_ON | CR0_ATSCHK);
	/* The address is an IPA: stage 2 only. */
	assert_int_equal(translated(&a, 8, 0x500010, 0, &pa), 0);
	assert_int_equal(pa, 0x9000010);
	/* Stage-2 faults are recorded as for any transaction. */
	assert_int_equal(translated(&a, 8, 0x502000, 0, &pa), -EFAULT);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), 2);
	assert_int_equal(EV_IPA(ev), 0x502000);
	assert_int_equal(EV_SSV(ev), 0);
	assert_int_equal(translated(&a, 8, 0x501000, SIO_SMMU_WRITE, &pa),
			 -EFAULT);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), 0x13);
	/* Beyond the IAS: a stage-1 Address Size fault. */
	assert_int_equal(translated(&a, 8, 1ull << 48, 0, &pa), -EFAULT);
	fx_one_event(a.fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_ADDR_SIZE);
	assert_int_equal(EV_S2(ev), 0);
	/* DMA lands where stage 2 says. */
	buf = fx_alloc(a.fx, 4096);
	map(a.s2, 0x600000, fx_pa(buf), 4096, RW);
	fx_inv_all(a.fx);
	t.addr = 0x600008;
	assert_int_equal(sio_smmu_dma(a.fx->smmu, &t, "translated", 11, &done),
			 0);
	assert_int_equal(done, 11);
	assert_string_equal((char *)buf + 8, "translated");
	fx_no_event(a.fx);
	ats_teardown(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tr_stage1),
		cmocka_unit_test(test_tr_pasid_permissions),
		cmocka_unit_test(test_tr_refused),
		cmocka_unit_test(test_tr_config_errors),
		cmocka_unit_test(test_tr_httu),
		cmocka_unit_test(test_tr_nested_and_split),
		cmocka_unit_test(test_tr_split_stage),
		cmocka_unit_test(test_translated_atschk),
		cmocka_unit_test(test_translated_split_stage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
