/* SPDX-License-Identifier: MIT */
/*
 * SMMU test fixture.  Structures are encoded here by the absolute bit
 * numbers of the SMMUv3 specification (STE section 5.2, CD 5.4, events
 * 7.3, commands 4.1), independently of the model's own definitions.
 */
#ifndef SIO_SMMU_TEST_H
#define SIO_SMMU_TEST_H

#include <string.h>

#include "sio_test.h"

#include <softiommu/smmu.h>

/* Register offsets (section 6.3). */
#define R_IDR0		  0x00
#define R_IDR1		  0x04
#define R_IDR3		  0x0c
#define R_IDR5		  0x14
#define R_AIDR		  0x1c
#define R_CR0		  0x20
#define R_CR0ACK	  0x24
#define R_CR1		  0x28
#define R_CR2		  0x2c
#define R_GBPA		  0x44
#define R_IRQ_CTRL	  0x50
#define R_IRQ_CTRLACK	  0x54
#define R_GERROR	  0x60
#define R_GERRORN	  0x64
#define R_STRTAB_BASE	  0x80
#define R_STRTAB_BASE_CFG 0x88
#define R_CMDQ_BASE	  0x90
#define R_CMDQ_PROD	  0x98
#define R_CMDQ_CONS	  0x9c
#define R_EVENTQ_BASE	  0xa0
#define R_EVENTQ_PROD	  0x100a8
#define R_EVENTQ_CONS	  0x100ac

/* Set bits [lo + width - 1 : lo] of a little structure of 64-bit words. */
static inline void bits_set(uint64_t *s, unsigned int lo, unsigned int width,
			    uint64_t val)
{
	for (unsigned int i = 0; i < width; i++) {
		unsigned int b = lo + i;
		uint64_t m = 1ull << (b % 64);

		if ((val >> i) & 1)
			s[b / 64] |= m;
		else
			s[b / 64] &= ~m;
	}
}

static inline uint64_t bits_get(const uint64_t *s, unsigned int hi,
				unsigned int lo)
{
	uint64_t v = 0;

	for (unsigned int b = hi + 1; b-- > lo;)
		v = (v << 1) | ((s[b / 64] >> (b % 64)) & 1);
	return v;
}

struct smmu_fx {
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool;
	struct sio_smmu *smmu;
	uint64_t *strtab; /* linear, 2^strtab_log2 STEs */
	unsigned int strtab_log2;
	uint64_t *evtq; /* 2^evtq_log2 records of 4 words */
	unsigned int evtq_log2;
	uint64_t *cmdq; /* 2^cmdq_log2 commands of 2 words */
	unsigned int cmdq_log2;
	int irqs[4];
};

static inline uint64_t fx_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline void fx_irq(void *opaque, enum sio_smmu_irq irq)
{
	struct smmu_fx *fx = opaque;

	__atomic_fetch_add(&fx->irqs[irq], 1, __ATOMIC_RELAXED);
}

static inline void *fx_alloc(struct smmu_fx *fx, size_t size)
{
	void *p = sio_mem_pool_alloc(fx->pool, size);

	assert_non_null(p);
	return p;
}

/*
 * Bring up an SMMU with @cfg (or the default): a linear stream table of
 * 64 STEs, a 128-entry event queue and a 256-entry command queue, all
 * enabled with SMMUEN.
 */
static inline struct smmu_fx *fx_create(const struct sio_smmu_config *cfg)
{
	struct smmu_fx *fx = calloc(1, sizeof(*fx));
	struct sio_smmu_config def;

	assert_non_null(fx);
	if (!cfg) {
		sio_smmu_config_default(&def);
		cfg = &def;
	}
	assert_int_equal(sio_mem_bus_create(&fx->bus), 0);
	assert_int_equal(sio_mem_pool_create(fx->bus, 48, &fx->pool), 0);
	assert_int_equal(sio_smmu_create(cfg, fx->bus, &fx->smmu), 0);
	sio_smmu_set_irq(fx->smmu, fx_irq, fx);
	fx->strtab_log2 = 6;
	fx->strtab = fx_alloc(fx, 64 << fx->strtab_log2);
	fx->evtq_log2 = 7;
	fx->evtq = fx_alloc(fx, 32 << fx->evtq_log2);
	fx->cmdq_log2 = 8;
	fx->cmdq = fx_alloc(fx, 16 << fx->cmdq_log2);
	sio_smmu_write64(fx->smmu, R_STRTAB_BASE, fx_pa(fx->strtab));
	sio_smmu_write32(fx->smmu, R_STRTAB_BASE_CFG, fx->strtab_log2);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE,
			 fx_pa(fx->evtq) | fx->evtq_log2);
	sio_smmu_write64(fx->smmu, R_CMDQ_BASE,
			 fx_pa(fx->cmdq) | fx->cmdq_log2);
	sio_smmu_write32(fx->smmu, R_IRQ_CTRL, 0x7);
	/* SMMUEN | EVENTQEN | CMDQEN */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	return fx;
}

static inline void fx_destroy(struct smmu_fx *fx)
{
	sio_smmu_destroy(fx->smmu);
	sio_mem_pool_destroy(fx->pool);
	sio_mem_bus_destroy(fx->bus);
	free(fx);
}

static inline uint64_t *fx_ste(struct smmu_fx *fx, uint32_t sid)
{
	return fx->strtab + 8 * sid;
}

/* Fetch the events recorded since the last call; returns how many. */
static inline int fx_events(struct smmu_fx *fx, uint64_t (*out)[4], int max)
{
	uint32_t prod = sio_smmu_read32(fx->smmu, R_EVENTQ_PROD);
	uint32_t cons = sio_smmu_read32(fx->smmu, R_EVENTQ_CONS);
	uint32_t mask = (2u << fx->evtq_log2) - 1;
	int n = 0;

	while (((prod ^ cons) & mask) && n < max) {
		uint32_t idx = cons & ((1u << fx->evtq_log2) - 1);

		memcpy(out[n++], &fx->evtq[4 * idx], 32);
		cons = (cons & ~mask) | ((cons + 1) & mask);
	}
	sio_smmu_write32(fx->smmu, R_EVENTQ_CONS, cons);
	return n;
}

/* The single event expected since the last call. */
static inline void fx_one_event(struct smmu_fx *fx, uint64_t *ev)
{
	uint64_t evs[4][4];

	assert_int_equal(fx_events(fx, evs, 4), 1);
	memcpy(ev, evs[0], 32);
}

static inline void fx_no_event(struct smmu_fx *fx)
{
	uint64_t evs[4][4];

	assert_int_equal(fx_events(fx, evs, 4), 0);
}

/* Queue one command and let the SMMU consume it. */
static inline void fx_cmd(struct smmu_fx *fx, uint64_t d0, uint64_t d1)
{
	uint32_t prod = sio_smmu_read32(fx->smmu, R_CMDQ_PROD);
	uint32_t mask = (2u << fx->cmdq_log2) - 1;
	uint32_t idx = prod & ((1u << fx->cmdq_log2) - 1);

	fx->cmdq[2 * idx] = d0;
	fx->cmdq[2 * idx + 1] = d1;
	sio_smmu_write32(fx->smmu, R_CMDQ_PROD,
			 (prod & ~mask) | ((prod + 1) & mask));
}

/* Opcodes (section 4.1.1). */
#define CMD_CFGI_STE	   0x03
#define CMD_CFGI_STE_RANGE 0x04
#define CMD_CFGI_CD	   0x05
#define CMD_CFGI_CD_ALL	   0x06
#define CMD_TLBI_NH_ALL	   0x10
#define CMD_TLBI_NH_ASID   0x11
#define CMD_TLBI_NH_VA	   0x12
#define CMD_TLBI_NH_VAA	   0x13
#define CMD_TLBI_EL2_ALL   0x20
#define CMD_TLBI_EL2_ASID  0x21
#define CMD_TLBI_EL2_VA	   0x22
#define CMD_TLBI_EL2_VAA   0x23
#define CMD_TLBI_S12_VMALL 0x28
#define CMD_TLBI_S2_IPA	   0x2a
#define CMD_TLBI_NSNH_ALL  0x30
#define CMD_ATC_INV	   0x40
#define CMD_PRI_RESP	   0x41
#define CMD_RESUME	   0x44
#define CMD_STALL_TERM	   0x45
#define CMD_SYNC	   0x46

/* Command fields shared by several commands (section 4.1.6), CMDQ_CONS.ERR. */
#define C0_SID(s)   ((uint64_t)(s) << 32)
#define C0_SSID(s)  ((uint64_t)(s) << 12)
#define C0_SSV	    (1ull << 11)
#define CONS_ERR(c) (((c) >> 24) & 0x7f)

/*
 * What software does after changing structures the SMMU may have cached:
 * CMD_CFGI_ALL (CFGI_STE_RANGE with Range 31), TLBI_NSNH_ALL, CMD_SYNC.
 */
static inline void fx_inv_all(struct smmu_fx *fx)
{
	fx_cmd(fx, CMD_CFGI_STE_RANGE, 31);
	fx_cmd(fx, CMD_TLBI_NSNH_ALL, 0);
	fx_cmd(fx, CMD_SYNC, 0);
}

/* STE helpers, by the field positions of section 5.2. */
static inline void ste_valid(uint64_t *ste, unsigned int config)
{
	memset(ste, 0, 64);
	bits_set(ste, 0, 1, 1);	     /* V */
	bits_set(ste, 1, 3, config); /* Config */
}

static inline void ste_s1(uint64_t *ste, uint64_t cd, unsigned int cdmax,
			  unsigned int fmt, unsigned int dss)
{
	bits_set(ste, 4, 2, fmt);      /* S1Fmt */
	bits_set(ste, 6, 50, cd >> 6); /* S1ContextPtr[55:6] */
	bits_set(ste, 59, 5, cdmax);   /* S1CDMax */
	bits_set(ste, 64, 2, dss);     /* S1DSS */
}

/* Stage 2 from a page table's info (S2T0SZ, S2SL0, S2TG, S2PS, S2TTB). */
static inline void ste_s2(uint64_t *ste, const struct sio_pgtable_info *in,
			  uint16_t vmid)
{
	bits_set(ste, 128, 16, vmid);	       /* S2VMID */
	bits_set(ste, 160, 6, in->tsz);	       /* S2T0SZ */
	bits_set(ste, 166, 2, in->sl0);	       /* S2SL0 */
	bits_set(ste, 174, 2, in->tg);	       /* S2TG */
	bits_set(ste, 176, 3, in->ps);	       /* S2PS */
	bits_set(ste, 179, 1, 1);	       /* S2AA64 */
	bits_set(ste, 182, 1, 1);	       /* S2PTW */
	bits_set(ste, 186, 1, 1);	       /* S2R */
	bits_set(ste, 196, 48, in->root >> 4); /* S2TTB[51:4] */
}

/* A CD for a stage-1 table in TTB0 (and optionally TTB1), section 5.4. */
static inline void cd_make(uint64_t *cd, const struct sio_pgtable_info *tt0,
			   const struct sio_pgtable_info *tt1, uint16_t asid)
{
	memset(cd, 0, 64);
	bits_set(cd, 0, 6, tt0 ? tt0->tsz : 0);	 /* T0SZ */
	bits_set(cd, 6, 2, tt0 ? tt0->tg : 0);	 /* TG0 */
	bits_set(cd, 14, 1, tt0 ? 0 : 1);	 /* EPD0 */
	bits_set(cd, 16, 6, tt1 ? tt1->tsz : 0); /* T1SZ */
	bits_set(cd, 22, 2, tt1 ? tt1->tg : 2);	 /* TG1 */
	bits_set(cd, 30, 1, tt1 ? 0 : 1);	 /* EPD1 */
	bits_set(cd, 31, 1, 1);			 /* V */
	bits_set(cd, 32, 3, tt0 ? tt0->ps : 5);	 /* IPS */
	bits_set(cd, 41, 1, 1);			 /* AA64 */
	bits_set(cd, 45, 1, 1);			 /* R */
	bits_set(cd, 46, 1, 1);			 /* A */
	bits_set(cd, 48, 16, asid);		 /* ASID */
	if (tt0)
		bits_set(cd, 68, 48, tt0->root >> 4); /* TTB0[51:4] */
	if (tt1)
		bits_set(cd, 132, 48, tt1->root >> 4); /* TTB1[51:4] */
	bits_set(cd, 192, 64, tt0 ? tt0->mair : 0);    /* MAIR */
}

/*
 * Set @set and clear @clear in the leaf descriptor of @iova in @pt, in
 * place, as software rewriting its tables would (no invalidation).
 */
static inline void fx_leaf_change(struct smmu_fx *fx, struct sio_pgtable *pt,
				  uint64_t iova, uint64_t set, uint64_t clear)
{
	struct sio_pgtable_walk w;
	uint64_t desc;

	assert_int_equal(sio_pgtable_walk(pt, iova, &w), 0);
	desc = w.step[w.nsteps - 1].desc;
	assert_int_equal(sio_mem_cmpxchg64(fx->bus, w.step[w.nsteps - 1].addr,
					   &desc, (desc | set) & ~clear),
			 0);
}

/* Event fields (section 7.3), by absolute bit number. */
#define EV_ID(e)    bits_get(e, 7, 0)
#define EV_SSV(e)   bits_get(e, 11, 11)
#define EV_SSID(e)  bits_get(e, 31, 12)
#define EV_SID(e)   bits_get(e, 63, 32)
#define EV_PNU(e)   bits_get(e, 97, 97)
#define EV_IND(e)   bits_get(e, 98, 98)
#define EV_RNW(e)   bits_get(e, 99, 99)
#define EV_S2(e)    bits_get(e, 103, 103)
#define EV_CLASS(e) bits_get(e, 105, 104)
#define EV_TTRNW(e) bits_get(e, 108, 108)
#define EV_INPUT(e) bits_get(e, 191, 128)
#define EV_IPA(e)   (bits_get(e, 247, 204) << 12)
#define EV_FETCH(e) (bits_get(e, 247, 195) << 3)

#endif /* SIO_SMMU_TEST_H */
