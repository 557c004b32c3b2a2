/* SPDX-License-Identifier: MIT */
/* Configuration structures: STEs and CDs, fetched and decoded. */
#ifndef SIO_SMMU_STE_H
#define SIO_SMMU_STE_H

#include <endian.h>

#include "smmu_xlate.h"

/* A stream's decoded STE. */
struct smmu_ste {
	uint64_t s1ctxptr;
	struct smmu_s2 s2cfg; /* valid when s2 */
	bool abort;	      /* Config 0b0xx: terminate silently */
	bool s1, s2;
	uint8_t s1fmt, s1cdmax, s1dss;
	bool s1stalld;
	bool mev;
	uint8_t eats;	 /* STE.EATS; 0 without ATS */
	uint16_t s2vmid; /* STE.S2VMID as written, IGNORED or not */
	bool el2;	 /* StreamWorld NS-EL2 or NS-EL2-E2H (STRW == 0b10) */
	/*
	 * With el2, SMMU_CR2.E2H as the STE was decoded: NS-EL2-E2H if set,
	 * else NS-EL2 (section 5.2, STRW).  E2H may be cached with the
	 * configuration (section 6.3.12): software invalidates the STEs
	 * when it changes it.
	 */
	bool e2h;
};

/*
 * The NS-EL2 StreamWorld, without E2H: the one regime whose stage 1 has a
 * single VA range, no ASID and no EL0 (sections 3.17.5 and 5.4.1).
 * NS-EL2-E2H translates as NS-EL1 does, only tagged EL2.
 */
static inline bool smmu_ste_el2_no_e2h(const struct smmu_ste *ste)
{
	return ste->el2 && !ste->e2h;
}

/*
 * Whether STE.S2VMID tags the stream's translations (IgnoreSTES2VMID(),
 * section 5.2): with stage 2 implemented, every NS-EL1 stream that
 * translates, stage 1 only included (section 3.17).  An EL2 stream has no
 * VMID, whatever the field holds.
 */
static inline bool smmu_ste_s2vmid_used(const struct sio_smmu *smmu,
					const struct smmu_ste *ste)
{
	return smmu->cfg.stage2 && !ste->abort && (ste->s1 || ste->s2) &&
	       !ste->el2;
}

/*
 * A configuration error or fetch abort: the event to record (with its
 * fetch address, for F_STE_FETCH and F_CD_FETCH), or a stage-2 fault
 * of a CD fetch in a nested configuration.
 */
struct smmu_cfg_fault {
	uint8_t id;
	uint64_t fetch;
	uint32_t ssid; /* C_BAD_SUBSTREAMID: the SubstreamID */
	bool s2fault;  /* the fault is a stage-2 fault below */
	struct smmu_fault fault;
};

/*
 * ste.c: 0, or -1 with @cf saying what to record.  @trace (NULL but when
 * explaining) records the reads.
 */
int smmu_ste_fetch(struct sio_smmu *smmu, uint32_t sid, struct smmu_ste *ste,
		   struct smmu_cfg_fault *cf, struct smmu_trace *trace);

/*
 * cd.c: the CD-table index a transaction uses (S1CDMax, S1DSS, its
 * SubstreamID).  Returns 0 with *idx, 1 if the stream's S1DSS makes stage
 * 1 bypass, or -1 with @cf.
 */
int smmu_cd_index(const struct sio_smmu *smmu, unsigned int s1cdmax,
		  unsigned int s1dss, const struct sio_smmu_txn *txn,
		  uint32_t *idx, struct smmu_cfg_fault *cf);

/* cd.c: fetch and decode CD @idx of the stream: 0, or -1 with @cf. */
int smmu_cd_load(struct smmu_walk *w, const struct smmu_ste *ste,
		 const struct sio_smmu_txn *txn, const struct smmu_access *acc,
		 uint32_t idx, struct smmu_s1 *s1, struct smmu_cfg_fault *cf);

#endif /* SIO_SMMU_STE_H */
