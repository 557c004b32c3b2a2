// SPDX-License-Identifier: MIT
/*
 * Context descriptors: choosing the CD of a transaction (S1CDMax, S1DSS,
 * linear and two-level CD tables, section 5.2 and 5.3), fetching it —
 * through stage 2 in a nested configuration — and decoding it with the
 * validity rules of section 5.4.2 (CdIllegal()).
 */
#include <string.h>

#include "smmu_ste.h"

/* CD fields (section 5.4), by 64-bit word. */
#define CD0_T0SZ GENMASK(5, 0)
#define CD0_TG0	 GENMASK(7, 6)
#define CD0_EPD0 BIT(14)
#define CD0_ENDI BIT(15)
#define CD0_T1SZ GENMASK(21, 16)
#define CD0_TG1	 GENMASK(23, 22)
#define CD0_EPD1 BIT(30)
#define CD0_V	 BIT(31)
#define CD0_IPS	 GENMASK(34, 32)
#define CD0_AFFD BIT(35)
#define CD0_WXN	 BIT(36)
#define CD0_TBI0 BIT(38)
#define CD0_TBI1 BIT(39)
#define CD0_PAN	 BIT(40)
#define CD0_AA64 BIT(41)
#define CD0_HD	 BIT(42)
#define CD0_HA	 BIT(43)
#define CD0_S	 BIT(44)
#define CD0_R	 BIT(45)
#define CD0_A	 BIT(46)
#define CD0_ASID GENMASK(63, 48)
#define CD1_HAD0 BIT(1)
#define CD1_TTB0 GENMASK(51, 4)
#define CD2_HAD1 BIT(1)
#define CD2_TTB1 GENMASK(51, 4)

/* Level-1 CD table descriptor. */
#define L1CD_V	   BIT(0)
#define L1CD_L2PTR GENMASK(51, 12)

static int cd_fail(struct smmu_cfg_fault *cf, uint8_t id, uint64_t fetch,
		   uint32_t ssid)
{
	cf->id = id;
	cf->fetch = fetch;
	cf->ssid = ssid;
	return -1;
}

/*
 * Read @n 64-bit words of configuration at @addr (a PA, or an IPA
 * translated by stage 2, CLASS CD, when the stream nests), each single-
 * copy atomic as the SMMU fetches them, into host order.  @kind and @idx
 * say what it is for an explanation: an L1CD or the CD, of CD index @idx.
 */
static int cfg_read(struct smmu_walk *w, const struct smmu_ste *ste,
		    const struct smmu_access *acc, unsigned int kind,
		    uint32_t idx, uint64_t addr, uint64_t *buf, size_t n,
		    struct smmu_cfg_fault *cf, uint32_t ssid)
{
	size_t len = n * 8;
	struct sio_smmu *smmu = w->smmu;
	uint64_t pa = addr;
	bool bad;

	if (ste->s2) {
		struct smmu_leaf leaf;

		if (smmu_s2_translate(w, &ste->s2cfg, addr, EVT_CLASS_CD, false,
				      acc, &leaf, &cf->fault)) {
			cf->s2fault = true;
			return -1;
		}
		pa = leaf.oa;
	}
	bad = (smmu->oas < 64 && ((pa + len - 1) >> smmu->oas)) ||
	      sio_mem_read_words(smmu->bus, pa, buf, n);
	if (w->trace)
		smmu_trace_read(w->trace, kind, 0, idx, addr, pa, buf,
				(unsigned int)n, bad);
	if (bad)
		return cd_fail(cf, EVT_F_CD_FETCH, pa, ssid);
	return 0;
}

/* The address of the CD for @ssid in a two-level table (S1Fmt 1 or 2). */
static int cd_table_2lvl(struct smmu_walk *w, const struct smmu_ste *ste,
			 const struct smmu_access *acc, uint32_t ssid,
			 uint32_t rec_ssid, uint64_t *addr,
			 struct smmu_cfg_fault *cf)
{
	struct sio_smmu *smmu = w->smmu;
	unsigned int l2bits = ste->s1fmt == 1 ? 6 : 10;
	uint64_t l1idx = ste->s1cdmax <= l2bits ? 0 : ssid >> l2bits;
	uint64_t l1cd = 0, l2ptr;

	if (cfg_read(w, ste, acc, SIO_SMMU_READ_L1CD, ssid,
		     ste->s1ctxptr + 8 * l1idx, &l1cd, 1, cf, rec_ssid))
		return -1;
	l2ptr = l1cd & L1CD_L2PTR;
	if (l2bits == 10)
		l2ptr &= ~GENMASK(15, 12); /* 64K-aligned L2 tables */
	/* An invalid or out-of-range L1CD: the SubstreamID is bad. */
	if (!(l1cd & L1CD_V) || (smmu->oas < 64 && (l2ptr >> smmu->oas)))
		return cd_fail(cf, EVT_C_BAD_SUBSTREAMID, 0, rec_ssid);
	*addr = l2ptr + 64ull * (ssid & ((1u << l2bits) - 1));
	return 0;
}

/*
 * One translation table of a CD: false if ILLEGAL.  @tg is the granule
 * shift (0 for a reserved encoding), @eff_ips the effective IPS.
 */
static bool decode_tt(const struct sio_smmu *smmu, struct smmu_tt *tt,
		      unsigned int tsz, unsigned int gshift, uint64_t ttb,
		      unsigned int eff_ips, bool had)
{
	/* 52-bit VAs only with the 64K granule (IDR5.VAX). */
	unsigned int min_tsz = gshift == 16 && smmu->cfg.gran64k ? 12 : 16;
	int level;

	if (!gshift || !smmu_granule_ok(smmu, gshift))
		return false;
	if (tsz < min_tsz || tsz > 39)
		return false;
	if ((eff_ips < 64 && (ttb >> eff_ips)) || (gshift != 16 && (ttb >> 48)))
		return false;
	level = lpae_s1_start_level(gshift, 64 - tsz);
	if (level < 0)
		return false;
	tt->fmt = (struct lpae_fmt){.stage = 1,
				    .gshift = gshift,
				    .stride = gshift - 3,
				    .ias = 64 - tsz,
				    .oas = eff_ips,
				    .start_level = (unsigned int)level};
	tt->fmt.start_bits =
		tt->fmt.ias - lpae_level_shift(&tt->fmt, (unsigned int)level);
	/* The start table is aligned to its size, at least 64 bytes. */
	tt->ttb =
		ttb &
		~((8ull << (tt->fmt.start_bits > 3 ? tt->fmt.start_bits : 3)) -
		  1);
	tt->had = had;
	tt->enabled = true;
	return true;
}

/*
 * The CD fields an NS-EL2 stream (no E2H) reads differently (section
 * 5.4, section 5.4.1 "CD notes"):
 * - EPD0 and EPD1 are IGNORED with an effective value of 0 (5.4, EPD0):
 *   TTB0 is always walked, so its fields must always be valid.
 * - Only TTB0 exists and TTB1 is unreachable (5.4.1): TTB1, TBI1, TG1,
 *   SH1, OR1, IR1, T1SZ and HAD1 are RES0, so nothing of them is checked
 *   (CdIllegal() takes TTB1 as disabled, or every such CD, its T1SZ and
 *   TG1 RES0, would be ILLEGAL).
 * - ASID is IGNORED (5.4.1, ASID): its ASID16 check does not apply, and
 *   the regime has no ASID to tag with (3.17.5), so it is taken as 0.
 * - PAN is IGNORED: every access is privileged (5.4, PAN).
 * ENDI still must match, as TTB0 walks (5.4, ENDI).
 */
static void cd_el2_fixup(struct smmu_s1 *s1)
{
	s1->el2 = true;
	s1->tbi[1] = false;
	s1->pan = false;
	s1->asid = 0;
}

static bool cd_decode(struct sio_smmu *smmu, const struct smmu_ste *ste,
		      const uint64_t *d, struct smmu_s1 *s1)
{
	const struct sio_smmu_config *c = &smmu->cfg;
	unsigned int ips = (unsigned int)FIELD_GET(CD0_IPS, d[0]);
	/* NS-EL2 has no ASID and one table (CdIllegal()'s EffectiveCDEPDx()) */
	bool el2 = smmu_ste_el2_no_e2h(ste);
	bool en0 = el2 || !(d[0] & CD0_EPD0), en1 = !el2 && !(d[0] & CD0_EPD1);
	unsigned int eff_ips;
	if (!(d[0] & CD0_V))
		return false;
	/* Stall: forbidden by the STE or the model, or forced. */
	if ((ste->s1stalld && (d[0] & CD0_S)) ||
	    (c->stall_model == 1 && (d[0] & CD0_S)) ||
	    (c->stall_model == 2 && !(d[0] & CD0_S)))
		return false;
	/* IDR0.TERM_MODEL == 1: terminated transactions abort; A must be 1. */
	if (!(d[0] & CD0_A))
		return false;
	if ((en0 || en1) && (d[0] & CD0_ENDI))
		return false; /* little-endian tables only */
	if (!(d[0] & CD0_AA64))
		return false; /* no VMSAv8-32 tables */
	if (((d[0] & (CD0_HA | CD0_HD)) && !c->httu) ||
	    ((d[0] & CD0_HD) && c->httu < 2))
		return false;
	if (!el2 && !c->asid16 && (FIELD_GET(CD0_ASID, d[0]) >> 8))
		return false;
	eff_ips = smmu_eff_ps(smmu, ips);
	memset(s1, 0, sizeof(*s1));
	if (en0 &&
	    !decode_tt(smmu, &s1->tt[0],
		       (unsigned int)FIELD_GET(CD0_T0SZ, d[0]),
		       lpae_tg0_decode((unsigned int)FIELD_GET(CD0_TG0, d[0])),
		       d[1] & CD1_TTB0, eff_ips, d[1] & CD1_HAD0))
		return false;
	if (en1 &&
	    !decode_tt(smmu, &s1->tt[1],
		       (unsigned int)FIELD_GET(CD0_T1SZ, d[0]),
		       lpae_tg1_decode((unsigned int)FIELD_GET(CD0_TG1, d[0])),
		       d[2] & CD2_TTB1, eff_ips, d[2] & CD2_HAD1))
		return false;
	s1->tbi[0] = d[0] & CD0_TBI0;
	s1->tbi[1] = d[0] & CD0_TBI1;
	s1->affd = d[0] & CD0_AFFD;
	s1->ha = d[0] & CD0_HA;
	s1->hd = s1->ha && (d[0] & CD0_HD);
	s1->wxn = d[0] & CD0_WXN;
	s1->pan = d[0] & CD0_PAN;
	s1->record = d[0] & CD0_R;
	s1->stall = d[0] & CD0_S;
	s1->asid = (uint16_t)FIELD_GET(CD0_ASID, d[0]);
	s1->mair = d[3];
	if (el2)
		cd_el2_fixup(s1);
	return true;
}

int smmu_cd_index(const struct sio_smmu *smmu, unsigned int s1cdmax,
		  unsigned int s1dss, const struct sio_smmu_txn *txn,
		  uint32_t *idx, struct smmu_cfg_fault *cf)
{
	uint32_t rec_ssid = txn->ssv ? txn->ssid : 0;

	*idx = 0;
	if (!s1cdmax || !smmu->cfg.ssid_bits) {
		/* One CD; substreams disabled or unsupported. */
		return txn->ssv
			       ? cd_fail(cf, EVT_C_BAD_SUBSTREAMID, 0, rec_ssid)
			       : 0;
	}
	if (!txn->ssv) {
		if (s1dss == 1)
			return 1; /* stage 1 bypasses */
		if (s1dss == 0)
			return cd_fail(cf, EVT_F_STREAM_DISABLED, 0, 0);
		return 0; /* S1DSS 0b10: substream 0's CD */
	}
	if (txn->ssid >> s1cdmax)
		return cd_fail(cf, EVT_C_BAD_SUBSTREAMID, 0, rec_ssid);
	/* With S1DSS 0b10, CD 0 is not for substreams. */
	if (s1dss == 2 && txn->ssid == 0)
		return cd_fail(cf, EVT_F_STREAM_DISABLED, 0, 0);
	*idx = txn->ssid;
	return 0;
}

int smmu_cd_load(struct smmu_walk *w, const struct smmu_ste *ste,
		 const struct sio_smmu_txn *txn, const struct smmu_access *acc,
		 uint32_t idx, struct smmu_s1 *s1, struct smmu_cfg_fault *cf)
{
	uint32_t rec_ssid = txn->ssv ? txn->ssid : 0;
	uint64_t addr = ste->s1ctxptr, d[8] = {0};

	if (ste->s1cdmax && w->smmu->cfg.ssid_bits) {
		if (ste->s1fmt == 0)
			addr += 64ull * idx;
		else if (cd_table_2lvl(w, ste, acc, idx, rec_ssid, &addr, cf))
			return -1;
	}
	if (cfg_read(w, ste, acc, SIO_SMMU_READ_CD, idx, addr, d, 8, cf,
		     rec_ssid))
		return -1;
	if (!cd_decode(w->smmu, ste, d, s1))
		return cd_fail(cf, EVT_C_BAD_CD, 0, rec_ssid);
	return 0;
}
