// SPDX-License-Identifier: MIT
/*
 * The configuration path of a transaction: SMMUEN and GBPA, stream table
 * lookup (linear and two-level), STE validity (section 5.2.2), the
 * events each failure records (section 7.3), and the event queue's own
 * overflow and abort behaviour.
 */
#include <errno.h>

#include "smmu_test.h"

#define EVT_C_BAD_STREAMID 0x02
#define EVT_F_STE_FETCH	   0x03
#define EVT_C_BAD_STE	   0x04
#define EVT_F_TRANSLATION  0x10

static int xlate(struct smmu_fx *fx, uint32_t sid, uint64_t addr,
		 unsigned int attr, uint64_t *pa)
{
	struct sio_smmu_txn t = {.sid = sid, .addr = addr, .attr = attr};
	struct sio_smmu_result res;
	int rc = sio_smmu_translate(fx->smmu, &t, &res);

	if (!rc && pa)
		*pa = res.pa;
	return rc;
}

static void test_disabled_smmu_follows_gbpa(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t pa = 0;

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8); /* SMMUEN off */
	assert_int_equal(xlate(fx, 5, 0x123456789000ull, 0, &pa), 0);
	assert_true(pa == 0x123456789000ull);
	sio_smmu_write32(fx->smmu, R_GBPA, (1u << 31) | (1u << 20));
	assert_int_equal(xlate(fx, 5, 0x1000, 0, &pa), -EFAULT);
	fx_no_event(fx);
	fx_destroy(fx);
}

static void test_ste_valid_and_config(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t ev[4], pa;

	(void)state;
	/* V == 0: abort with C_BAD_STE. */
	assert_int_equal(xlate(fx, 3, 0x1000, SIO_SMMU_WRITE, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	assert_int_equal(EV_SID(ev), 3);
	assert_int_equal(EV_SSV(ev), 0);
	/* Config 0b000 and the reserved 0b0xx: abort, no event. */
	for (unsigned int config = 0; config < 4; config++) {
		ste_valid(fx_ste(fx, 3), config);
		fx_inv_all(fx);
		assert_int_equal(xlate(fx, 3, 0x1000, 0, NULL), -EFAULT);
		fx_no_event(fx);
	}
	/* Config 0b100: bypass both stages. */
	ste_valid(fx_ste(fx, 3), 4);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 3, 0xabcdef000ull, 0, &pa), 0);
	assert_true(pa == 0xabcdef000ull);
	fx_no_event(fx);
	fx_destroy(fx);
}

static void test_streamid_out_of_range(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t ev[4];

	(void)state;
	/* LOG2SIZE 6: StreamID 64 is out of range, silently by default... */
	assert_int_equal(xlate(fx, 64, 0, 0, NULL), -EFAULT);
	fx_no_event(fx);
	/* ...and recorded with CR2.RECINVSID. */
	sio_smmu_write32(fx->smmu, R_CR2, 0x2);
	assert_int_equal(xlate(fx, 0x40000, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STREAMID);
	assert_int_equal(EV_SID(ev), 0x40000);
	fx_destroy(fx);
}

static void test_two_level_stream_table(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t *l1 = fx_alloc(fx, 4096), *l2 = fx_alloc(fx, 4096);
	uint64_t ev[4], pa;

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_CR2, 0x2);
	sio_smmu_write64(fx->smmu, R_STRTAB_BASE, fx_pa(l1));
	/* FMT[17:16] = 2-level, SPLIT[10:6] = 8, LOG2SIZE = 16. */
	sio_smmu_write32(fx->smmu, R_STRTAB_BASE_CFG, 1u << 16 | 8 << 6 | 16);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	/* L1STD[1]: Span 4 (2^3 = 8 STEs) at l2. */
	l1[1] = fx_pa(l2) | 4;
	ste_valid(&l2[8 * 5], 4); /* StreamID 0x105: bypass */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 0x105, 0x7000, 0, &pa), 0);
	assert_true(pa == 0x7000);
	/* StreamID 0x104: the STE is invalid. */
	assert_int_equal(xlate(fx, 0x104, 0x7000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	/* StreamID 0x108 is beyond the span; L1STD[2] has Span 0. */
	assert_int_equal(xlate(fx, 0x108, 0x7000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STREAMID);
	assert_int_equal(xlate(fx, 0x205, 0x7000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STREAMID);
	/* A span larger than SPLIT + 1 is invalid too. */
	l1[3] = fx_pa(l2) | 10;
	assert_int_equal(xlate(fx, 0x300, 0x7000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STREAMID);
	/* An L2 table outside the bus: F_STE_FETCH of the STE address. */
	l1[4] = 0x1000 | 4;
	assert_int_equal(xlate(fx, 0x402, 0x7000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_STE_FETCH);
	assert_true(EV_FETCH(ev) == 0x1000 + 2 * 64);
	fx_destroy(fx);
}

static void test_stream_table_outside_the_bus(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t ev[4];

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	sio_smmu_write64(fx->smmu, R_STRTAB_BASE, 0x40000);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(xlate(fx, 7, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_STE_FETCH);
	assert_int_equal(EV_SID(ev), 7);
	assert_true(EV_FETCH(ev) == 0x40000 + 7 * 64);
	fx_destroy(fx);
}

/* A stage-2 STE built from a real stage-2 table. */
static void s2_ste(struct smmu_fx *fx, uint64_t *ste, struct sio_pgtable **pt)
{
	struct sio_pgtable_info in;

	*pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096, 40, 48,
			       SIO_PGT_TTB0, 0);
	sio_pgtable_get_info(*pt, &in);
	ste_valid(ste, 6);
	ste_s2(ste, &in, 1);
}

/* On an SMMU without the Stall model (IDR0.STALL_MODEL == 0b01). */
static void test_illegal_stes(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;
	uint64_t *ste, good[8], ev[4];
	static const struct {
		const char *what;
		unsigned int lo, width;
		uint64_t val;
	} bad[] = {
		{"S2AA64 = 0 (VMSAv8-32)", 179, 1, 0},
		{"S2ENDI = 1 (big-endian)", 180, 1, 1},
		{"S2TG reserved", 174, 2, 3},
		{"S2T0SZ 40 > 39", 160, 6, 40},
		{"S2T0SZ 15 < 16", 160, 6, 15},
		{"S2SL0 inconsistent", 166, 2, 0},
		{"S2SL0 reserved", 166, 2, 3},
		{"S2TTB beyond S2PS", 196 + 48 - 4, 4, 0xf},
		{"S2S with terminate-only stall model", 185, 1, 1},
		{"S2HD without S2HA is fine: not here", 0, 0, 0},
	};

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.stall_model = 1;
	fx = fx_create(&cfg);
	ste = fx_ste(fx, 9);
	s2_ste(fx, ste, &pt);
	memcpy(good, ste, 64);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 9, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION); /* valid, unmapped */
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!bad[i].width)
			continue;
		print_message("# %s\n", bad[i].what);
		memcpy(ste, good, 64);
		bits_set(ste, bad[i].lo, bad[i].width, bad[i].val);
		fx_inv_all(fx);
		assert_int_equal(xlate(fx, 9, 0x1000, 0, NULL), -EFAULT);
		fx_one_event(fx, ev);
		assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	}
	/* Stage 1 fields: S1CDMax beyond SSIDSIZE, S1STALLD (no stalls). */
	ste_valid(ste, 5);
	ste_s1(ste, fx_pa(fx->cmdq), 21, 0, 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 9, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	ste_s1(ste, fx_pa(fx->cmdq), 0, 0, 0);
	bits_set(ste, 91, 1, 1); /* S1STALLD */
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 9, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	/* S1ContextPtr beyond the OAS. */
	ste_valid(ste, 5);
	ste_s1(ste, 1ull << 50, 0, 0, 0);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 9, 0x1000, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_illegal_stes_by_feature(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;
	uint64_t ev[4];

	(void)state;
	/* No stage 2: Config 0b11x is ILLEGAL. */
	sio_smmu_config_default(&cfg);
	cfg.stage2 = false;
	fx = fx_create(&cfg);
	s2_ste(fx, fx_ste(fx, 1), &pt);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
	/* No HTTU: S2HA is ILLEGAL; 8-bit VMIDs: VMID 0x100 is. */
	sio_smmu_config_default(&cfg);
	cfg.httu = 0;
	cfg.vmid16 = false;
	fx = fx_create(&cfg);
	s2_ste(fx, fx_ste(fx, 1), &pt);
	bits_set(fx_ste(fx, 1), 184, 1, 1);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	bits_set(fx_ste(fx, 1), 184, 1, 0);
	bits_set(fx_ste(fx, 1), 128, 16, 0x100);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_STE);
	bits_set(fx_ste(fx, 1), 128, 16, 0xff);
	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* A stage-1-only STE (Config 0b101) with one CD for a fresh table. */
static void s1_ste(struct smmu_fx *fx, uint64_t *ste, struct sio_pgtable **pt)
{
	struct sio_pgtable_info in;
	uint64_t *cd = fx_alloc(fx, 4096);

	*pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096, 48, 48,
			       SIO_PGT_TTB0, 0);
	sio_pgtable_get_info(*pt, &in);
	cd_make(cd, &in, NULL, 1);
	ste_valid(ste, 5);
	ste_s1(ste, fx_pa(cd), 0, 0, 0);
}

/* The event of a translation of unmapped address 0 of StreamID 1. */
static uint64_t event_of_sid1(struct smmu_fx *fx)
{
	uint64_t ev[4];

	fx_inv_all(fx);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	fx_one_event(fx, ev);
	return EV_ID(ev);
}

/*
 * 8-bit VMIDs (IDR0.VMID16 == 0): S2VMID[15:8] != 0 is ILLEGAL unless the
 * field is IGNORED (section 5.2, S2VMID and SteIllegal()).  A stage-1-only
 * NS-EL1 stream uses it when stage 2 is implemented; without stage 2, or
 * in an EL2 StreamWorld (STRW == 0b10), it is IGNORED.
 */
static void test_stage1_only_s2vmid_width(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.vmid16 = false;
	cfg.hyp = true;
	fx = fx_create(&cfg);
	s1_ste(fx, fx_ste(fx, 1), &pt);
	bits_set(fx_ste(fx, 1), 128, 16, 0xff);
	assert_int_equal(event_of_sid1(fx), EVT_F_TRANSLATION);
	bits_set(fx_ste(fx, 1), 128, 16, 0x100);
	assert_int_equal(event_of_sid1(fx), EVT_C_BAD_STE);
	bits_set(fx_ste(fx, 1), 94, 2, 2); /* STRW: EL2 */
	assert_int_equal(event_of_sid1(fx), EVT_F_TRANSLATION);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);

	sio_smmu_config_default(&cfg);
	cfg.vmid16 = false;
	cfg.stage2 = false;
	fx = fx_create(&cfg);
	s1_ste(fx, fx_ste(fx, 1), &pt);
	bits_set(fx_ste(fx, 1), 128, 16, 0x100);
	assert_int_equal(event_of_sid1(fx), EVT_F_TRANSLATION);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_event_queue_overflow(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint32_t prod;
	uint64_t evs[8][4];

	(void)state;
	/* A 4-entry queue. */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, fx_pa(fx->evtq) | 2);
	sio_smmu_write32(fx->smmu, R_EVENTQ_PROD, 0);
	sio_smmu_write32(fx->smmu, R_EVENTQ_CONS, 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	fx->evtq_log2 = 2;
	for (int i = 0; i < 6; i++)
		assert_int_equal(xlate(fx, 10 + i, 0, 0, NULL), -EFAULT);
	/* One interrupt: the queue went from empty to non-empty once. */
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_EVTQ], 1);
	/* Full after four; the rest were lost and the overflow flagged. */
	prod = sio_smmu_read32(fx->smmu, R_EVENTQ_PROD);
	assert_int_equal(prod & 0x7, 0x4); /* index 0, wrapped */
	assert_int_equal(prod >> 31, 1);   /* OVFLG */
	assert_int_equal(fx_events(fx, evs, 8), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(EV_SID(evs[i]), 10 + i);
	/* Flagged once until acknowledged: more losses do not toggle it. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(xlate(fx, 20 + i, 0, 0, NULL), -EFAULT);
	assert_int_equal(xlate(fx, 30, 0, 0, NULL), -EFAULT);
	prod = sio_smmu_read32(fx->smmu, R_EVENTQ_PROD);
	assert_int_equal(prod >> 31, 1);
	assert_int_equal(fx_events(fx, evs, 8), 4);
	/* Acknowledge: copy OVFLG to OVACKFLG. */
	sio_smmu_write32(fx->smmu, R_EVENTQ_CONS,
			 sio_smmu_read32(fx->smmu, R_EVENTQ_CONS) | 1u << 31);
	for (int i = 0; i < 5; i++)
		assert_int_equal(xlate(fx, 40 + i, 0, 0, NULL), -EFAULT);
	prod = sio_smmu_read32(fx->smmu, R_EVENTQ_PROD);
	assert_int_equal(prod >> 31, 0); /* toggled again: a new overflow */
	/* emptied twice by fx_events(), so twice more */
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_EVTQ], 3);
	fx_destroy(fx);
}

static void test_event_queue_abort(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, 0x10000 | 4);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(xlate(fx, 1, 0, 0, NULL), -EFAULT);
	/* GERROR.EVTQ_ABT_ERR[2] active: differs from GERRORN. */
	assert_int_equal(sio_smmu_read32(fx->smmu, R_GERROR) ^
				 sio_smmu_read32(fx->smmu, R_GERRORN),
			 0x4);
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_GERROR], 1);
	/*
	 * A queue moved to good memory is still not writable until the
	 * error is acknowledged (7.2.1, 7.5): the next event is lost.
	 */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE,
			 fx_pa(fx->evtq) | fx->evtq_log2);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(xlate(fx, 2, 0, 0, NULL), -EFAULT);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_EVENTQ_PROD), 0);
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	assert_int_equal(xlate(fx, 3, 0, 0, NULL), -EFAULT);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_EVENTQ_PROD), 1);
	fx_destroy(fx);
}

static void test_dma_splits_and_stops_at_faults(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint8_t *mem = fx_alloc(fx, 16384);
	uint8_t buf[12288];
	struct sio_smmu_txn t = {.sid = 2, .attr = SIO_SMMU_WRITE};
	size_t done;

	(void)state;
	/* Bypass: DMA lands at the input address, i.e. in mem. */
	ste_valid(fx_ste(fx, 2), 4);
	memset(buf, 0x5a, sizeof(buf));
	t.addr = fx_pa(mem) + 100;
	assert_int_equal(sio_smmu_dma(fx->smmu, &t, buf, 12000, &done), 0);
	assert_int_equal(done, 12000);
	assert_int_equal(mem[99], 0);
	assert_int_equal(mem[100], 0x5a);
	assert_int_equal(mem[12099], 0x5a);
	/* A read from outside the bus: the target aborts, nothing copied. */
	t.attr = 0;
	t.addr = 0x1000;
	assert_int_equal(sio_smmu_dma(fx->smmu, &t, buf, 16, &done), -EIO);
	assert_int_equal(done, 0);
	/* An invalid STE: the translation aborts. */
	t.sid = 3;
	assert_int_equal(sio_smmu_dma(fx->smmu, &t, buf, 16, &done), -EFAULT);
	fx_destroy(fx);
}

/*
 * A copy from one input address to another: each side translated as its
 * own transaction (its StreamID, a read and a write), and a failure
 * names the side that failed.
 */
static void test_dma_copy(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint8_t *mem = fx_alloc(fx, 16384);
	struct sio_smmu_txn src = {.sid = 2}, dst = {.sid = 2};
	uint64_t ev[4];
	size_t done;
	bool dst_failed;

	(void)state;
	ste_valid(fx_ste(fx, 2), 4); /* bypass */
	for (int i = 0; i < 8192; i++)
		mem[i] = (uint8_t)(i * 13 + 1);
	src.addr = fx_pa(mem) + 5;
	dst.addr = fx_pa(mem) + 8192 + 3;
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 6000, &done,
					   &dst_failed),
			 0);
	assert_int_equal(done, 6000);
	assert_memory_equal(mem + 8192 + 3, mem + 5, 6000);
	assert_int_equal(mem[8192 + 2], 0);
	assert_int_equal(mem[8192 + 6003], 0);
	/* Overlapping ranges copy as memmove does: the engine allows it. */
	memcpy(mem + 12288, mem, 64);
	src.addr = fx_pa(mem);
	dst.addr = fx_pa(mem) + 8;
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 64, &done,
					   &dst_failed),
			 0);
	assert_memory_equal(mem + 8, mem + 12288, 64);
	/* Outside the bus: the read's target aborts, then the write's. */
	src.addr = 0x1000;
	dst.addr = fx_pa(mem);
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 16, &done,
					   &dst_failed),
			 -EIO);
	assert_false(dst_failed);
	assert_int_equal(done, 0);
	src.addr = fx_pa(mem);
	dst.addr = 0x1000;
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 16, &done,
					   &dst_failed),
			 -EIO);
	assert_true(dst_failed);
	/* The write side's StreamID has no valid STE: its fault, its event. */
	fx_no_event(fx);
	dst.sid = 3;
	dst.addr = fx_pa(mem) + 4096;
	memset(mem + 4096, 0xee, 16);
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 16, &done,
					   &dst_failed),
			 -EFAULT);
	assert_true(dst_failed);
	assert_int_equal(done, 0);
	assert_int_equal(mem[4096], 0xee);
	fx_one_event(fx, ev);
	assert_int_equal(ev[0] & 0xff, 0x04); /* C_BAD_STE */
	assert_int_equal(ev[0] >> 32, 3);     /* its StreamID */
	/* And the read side's. */
	src.sid = 3;
	dst.sid = 2;
	assert_int_equal(sio_smmu_dma_copy(fx->smmu, &dst, &src, 16, &done,
					   &dst_failed),
			 -EFAULT);
	assert_false(dst_failed);
	fx_one_event(fx, ev);
	assert_int_equal(ev[0] >> 32, 3);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disabled_smmu_follows_gbpa),
		cmocka_unit_test(test_ste_valid_and_config),
		cmocka_unit_test(test_streamid_out_of_range),
		cmocka_unit_test(test_two_level_stream_table),
		cmocka_unit_test(test_stream_table_outside_the_bus),
		cmocka_unit_test(test_illegal_stes),
		cmocka_unit_test(test_illegal_stes_by_feature),
		cmocka_unit_test(test_stage1_only_s2vmid_width),
		cmocka_unit_test(test_event_queue_overflow),
		cmocka_unit_test(test_event_queue_abort),
		cmocka_unit_test(test_dma_splits_and_stops_at_faults),
		cmocka_unit_test(test_dma_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
