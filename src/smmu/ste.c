// SPDX-License-Identifier: MIT
/*
 * The stream table: locating a StreamID's STE (linear or two-level) and
 * decoding it, with the validity rules of SMMUv3 section 5.2.2
 * (SteIllegal(), for a Non-secure stream).
 */
#include "smmu_ste.h"

/* STE fields (section 5.2), by 64-bit word. */
#define STE0_V	      BIT(0)
#define STE0_CONFIG   GENMASK(3, 1)
#define STE0_S1FMT    GENMASK(5, 4)
#define STE0_S1CTXPTR GENMASK(55, 6)
#define STE0_S1CDMAX  GENMASK(63, 59)
#define STE1_S1DSS    GENMASK(1, 0)
#define STE1_MEV      BIT(19)
#define STE1_S1STALLD BIT(27)
#define STE1_EATS     GENMASK(29, 28)
#define STE1_STRW     GENMASK(31, 30)
#define STRW_EL2      2
#define STE2_S2VMID   GENMASK(15, 0)
#define STE2_S2T0SZ   GENMASK(37, 32)
#define STE2_S2SL0    GENMASK(39, 38)
#define STE2_S2TG     GENMASK(47, 46)
#define STE2_S2PS     GENMASK(50, 48)
#define STE2_S2AA64   BIT(51)
#define STE2_S2ENDI   BIT(52)
#define STE2_S2AFFD   BIT(53)
#define STE2_S2PTW    BIT(54)
#define STE2_S2HD     BIT(55)
#define STE2_S2HA     BIT(56)
#define STE2_S2S      BIT(57)
#define STE2_S2R      BIT(58)
#define STE3_S2TTB    GENMASK(51, 4)

/* Level-1 stream table descriptor. */
#define L1STD_SPAN  GENMASK(4, 0)
#define L1STD_L2PTR GENMASK(51, 6)

static int ste_fail(struct smmu_cfg_fault *cf, uint8_t id, uint64_t fetch)
{
	cf->id = id;
	cf->fetch = fetch;
	return -1;
}

/* Is @addr beyond an output size of @bits? */
static bool out_of_range(uint64_t addr, unsigned int bits)
{
	return bits < 64 && (addr >> bits);
}

/*
 * Find the STE of @sid.  Returns 0 with its address, or -1 with a
 * C_BAD_STREAMID or F_STE_FETCH fault.
 */
static int locate(struct sio_smmu *smmu, uint32_t sid, uint64_t *addr,
		  struct smmu_cfg_fault *cf, struct smmu_trace *trace)
{
	uint64_t base = atomic_load(&smmu->strtab_base) & STRTAB_BASE_ADDR;
	uint32_t cfg = atomic_load(&smmu->strtab_cfg);
	unsigned int log2 = (unsigned int)FIELD_GET(STRTAB_CFG_LOG2SIZE, cfg);
	unsigned int split = (unsigned int)FIELD_GET(STRTAB_CFG_SPLIT, cfg);
	uint64_t l1, l1std = 0, l2;
	unsigned int span;
	bool bad;

	/* Sizes beyond the implemented SIDSIZE behave as SIDSIZE. */
	if (log2 > smmu->cfg.sid_bits)
		log2 = smmu->cfg.sid_bits;
	if (log2 < 32 && (sid >> log2))
		return ste_fail(cf, EVT_C_BAD_STREAMID, 0);
	if (!smmu->cfg.st_2lvl ||
	    FIELD_GET(STRTAB_CFG_FMT, cfg) != STRTAB_CFG_FMT_2LVL) {
		*addr = base + 64ull * sid;
		return out_of_range(*addr, smmu->oas)
			       ? ste_fail(cf, EVT_F_STE_FETCH, *addr)
			       : 0;
	}
	/* SPLIT is 6, 8 or 10; other values behave as 6. */
	if (split != 8 && split != 10)
		split = 6;
	if (split > log2)
		split = log2;
	l1 = base + 8ull * (sid >> split);
	bad = out_of_range(l1, smmu->oas) ||
	      sio_mem_read64(smmu->bus, l1, &l1std);
	if (trace)
		smmu_trace_read(trace, SIO_SMMU_READ_L1STD, 0, sid, l1, l1,
				&l1std, 1, bad);
	if (bad)
		return ste_fail(cf, EVT_F_STE_FETCH, l1);
	span = (unsigned int)FIELD_GET(L1STD_SPAN, l1std);
	/* Span 0 (invalid), reserved, or too small for this StreamID. */
	if (!span || span > 12 || span > split + 1 ||
	    (sid & ((1u << split) - 1)) >= (1u << (span - 1)))
		return ste_fail(cf, EVT_C_BAD_STREAMID, 0);
	l2 = l1std & L1STD_L2PTR;
	*addr = l2 + 64ull * (sid & ((1u << split) - 1));
	return out_of_range(*addr, smmu->oas)
		       ? ste_fail(cf, EVT_F_STE_FETCH, *addr)
		       : 0;
}

/* The stage-2 regime an STE describes; false if ILLEGAL. */
static bool decode_s2(struct sio_smmu *smmu, const uint64_t *d,
		      struct smmu_s2 *s2)
{
	unsigned int gshift =
		lpae_tg0_decode((unsigned int)FIELD_GET(STE2_S2TG, d[2]));
	unsigned int t0sz = (unsigned int)FIELD_GET(STE2_S2T0SZ, d[2]);
	unsigned int ps = (unsigned int)FIELD_GET(STE2_S2PS, d[2]);
	unsigned int ias = smmu->oas; /* AArch64 tables only: IAS == OAS */
	unsigned int min_tsz, eff_ps;
	int level;
	uint64_t ttb;

	/* VMSAv8-32 LPAE is not implemented (IDR0.TTF == AArch64). */
	if (!(d[2] & STE2_S2AA64) || (d[2] & STE2_S2ENDI))
		return false;
	if ((d[2] & (STE2_S2HA | STE2_S2HD)) && !smmu->cfg.httu)
		return false;
	if ((d[2] & STE2_S2HD) && smmu->cfg.httu < 2)
		return false;
	if (!gshift || !smmu_granule_ok(smmu, gshift))
		return false;
	eff_ps = smmu_eff_ps(smmu, ps);
	ttb = d[3] & STE3_S2TTB;
	if ((ttb >> eff_ps) || (gshift != 16 && (ttb >> 48)))
		return false;
	/* S2T0SZ: at most 39 (no STT), at least MAX(16 or 12, 64 - IAS). */
	min_tsz = gshift == 16 ? 12 : 16;
	if (64 - ias > min_tsz)
		min_tsz = 64 - ias;
	if (t0sz > 39 || t0sz < min_tsz)
		return false;
	/* S2SL0 must be consistent with S2T0SZ and S2TG. */
	level = lpae_sl0_decode(gshift,
				(unsigned int)FIELD_GET(STE2_S2SL0, d[2]));
	if (level < 0 || !lpae_s2_start_valid(gshift, 64 - t0sz, smmu->oas,
					      (unsigned int)level))
		return false;
	s2->fmt = (struct lpae_fmt){.stage = 2,
				    .gshift = gshift,
				    .stride = gshift - 3,
				    .ias = 64 - t0sz,
				    .oas = eff_ps,
				    .start_level = (unsigned int)level};
	s2->fmt.start_bits =
		s2->fmt.ias - lpae_level_shift(&s2->fmt, (unsigned int)level);
	/* The start table is aligned to its size: low bits read as zero. */
	s2->ttb = ttb & ~((8ull << s2->fmt.start_bits) - 1);
	s2->vmid = (uint16_t)FIELD_GET(STE2_S2VMID, d[2]);
	s2->affd = d[2] & STE2_S2AFFD;
	/* {S2HA, S2HD} == 0b01 behaves as both clear. */
	s2->ha = d[2] & STE2_S2HA;
	s2->hd = s2->ha && (d[2] & STE2_S2HD);
	s2->ptw = d[2] & STE2_S2PTW;
	s2->record = d[2] & STE2_S2R;
	s2->stall = d[2] & STE2_S2S;
	return true;
}

/*
 * Whether STE.STRW is used (IgnoreSTESTRW(), section 5.2): only by a
 * stage-1-only stream, and only on an SMMU with EL2 StreamWorlds.
 */
static bool strw_used(const struct sio_smmu_config *c,
		      const struct smmu_ste *ste)
{
	return c->stage1 && c->hyp && ste->s1 && !ste->s2;
}

static bool ste_illegal(struct sio_smmu *smmu, const uint64_t *d,
			struct smmu_ste *ste)
{
	const struct sio_smmu_config *c = &smmu->cfg;
	bool s1 = ste->s1, s2 = ste->s2;
	unsigned int eats = (unsigned int)FIELD_GET(STE1_EATS, d[1]);
	bool s2s = d[2] & STE2_S2S;

	if ((s1 && !c->stage1) || (s2 && !c->stage2))
		return true;
	/* ATS configuration, when ATS is implemented and not bypassing. */
	if (c->ats && (s1 || s2)) {
		if (eats == 2 && (!s1 || !s2 || s2s))
			return true;
		if (eats == 1 && s2s && s2)
			return true;
	}
	if (strw_used(c, ste) && (FIELD_GET(STE1_STRW, d[1]) & 1))
		return true;
	/* 8-bit VMIDs: checked wherever S2VMID tags, stage 1 only too. */
	if (!c->vmid16 && smmu_ste_s2vmid_used(smmu, ste) && (ste->s2vmid >> 8))
		return true;
	if (s1) {
		if ((d[1] & STE1_S1STALLD) && c->stall_model != 0)
			return true;
		if (c->ssid_bits && ste->s1cdmax > c->ssid_bits)
			return true;
		if (c->ssid_bits && ste->s1cdmax && !c->cd_2lvl &&
		    (ste->s1fmt == 1 || ste->s1fmt == 2))
			return true;
		/* A PA within the OAS, or an IPA within the IAS (== OAS). */
		if (out_of_range(ste->s1ctxptr, smmu->oas))
			return true;
	}
	if (s2) {
		if (s2s && c->stall_model == 1)
			return true;
		if (!s2s && c->stall_model == 2)
			return true;
		if (!decode_s2(smmu, d, &ste->s2cfg))
			return true;
	}
	return false;
}

int smmu_ste_fetch(struct sio_smmu *smmu, uint32_t sid, struct smmu_ste *ste,
		   struct smmu_cfg_fault *cf, struct smmu_trace *trace)
{
	uint64_t addr, d[8] = {0};
	unsigned int config;
	bool bad;

	if (locate(smmu, sid, &addr, cf, trace))
		return -1;
	/* 64-bit single-copy atomic words: software may be rewriting it */
	bad = sio_mem_read_words(smmu->bus, addr, d, 8) != 0;
	if (trace)
		smmu_trace_read(trace, SIO_SMMU_READ_STE, 0, sid, addr, addr, d,
				8, bad);
	if (bad)
		return ste_fail(cf, EVT_F_STE_FETCH, addr);
	if (!(d[0] & STE0_V))
		return ste_fail(cf, EVT_C_BAD_STE, 0);
	config = (unsigned int)FIELD_GET(STE0_CONFIG, d[0]);
	*ste = (struct smmu_ste){
		.abort = !(config & 4),
		.s1 = (config & 5) == 5,
		.s2 = (config & 6) == 6,
		.s1fmt = (unsigned int)FIELD_GET(STE0_S1FMT, d[0]),
		.s1ctxptr = d[0] & STE0_S1CTXPTR,
		.s1cdmax = (unsigned int)FIELD_GET(STE0_S1CDMAX, d[0]),
		.s1dss = (unsigned int)FIELD_GET(STE1_S1DSS, d[1]),
		.s1stalld = d[1] & STE1_S1STALLD,
		.mev = d[1] & STE1_MEV,
		.eats = smmu->cfg.ats ? (uint8_t)FIELD_GET(STE1_EATS, d[1]) : 0,
		.s2vmid = (uint16_t)FIELD_GET(STE2_S2VMID, d[2]),
	};
	/* Config 0b0xx: abort without an event; nothing else matters. */
	if (ste->abort)
		return 0;
	/* Before the checks: an EL2 stream's S2VMID is IGNORED. */
	ste->el2 = strw_used(&smmu->cfg, ste) &&
		   FIELD_GET(STE1_STRW, d[1]) == STRW_EL2;
	ste->e2h = ste->el2 && (atomic_load(&smmu->cr2) & CR2_E2H);
	if (ste_illegal(smmu, d, ste))
		return ste_fail(cf, EVT_C_BAD_STE, 0);
	/* S1Fmt 0b11 and S1DSS 0b11 are reserved and behave as 0b00. */
	if (ste->s1fmt == 3)
		ste->s1fmt = 0;
	if (ste->s1dss == 3)
		ste->s1dss = 0;
	return 0;
}
