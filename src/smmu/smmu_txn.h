/* SPDX-License-Identifier: MIT */
/*
 * A transaction's path through the SMMU, shared by untranslated traffic
 * (translate.c) and PCIe ATS (ats.c).
 */
#ifndef SIO_SMMU_TXN_H
#define SIO_SMMU_TXN_H

#include "smmu_cache.h"

/* A transaction's event, held until its bus section ends. */
struct smmu_pending {
	struct smmu_event ev;
	bool set;
	bool stall;	     /* the transaction stalls on it */
	bool counted;	     /* by smmu_pending_hold(): unrecorded (stall.c) */
	unsigned int ticket; /* a record's count */
	uint16_t stag;	     /* a stall's slot */
};

/*
 * Inside the bus section that decided @p, before it ends: count its
 * record, or take its stall's slot, as an event not yet written, which a
 * CMD_SYNC completing invalidations waits for and which CMD_STALL_TERM
 * or SMMUEN = 0 can still terminate (stall.c).
 */
void smmu_pending_hold(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		       struct smmu_pending *p);

/* After the section: write @p's record, unless it stalls (stall.c). */
void smmu_pending_record(struct sio_smmu *smmu, struct smmu_pending *p);

/*
 * Hold the record of walk fault @f for after the section, if CD.R or
 * STE.S2R ask for it or the transaction stalls on it.
 */
void smmu_record_fault(struct smmu_pending *p, const struct sio_smmu_txn *txn,
		       const struct smmu_access *acc,
		       const struct smmu_fault *f);

/* Bytes from @addr to the end of the region [base, base + size). */
static inline uint64_t smmu_remaining(uint64_t base, uint64_t size,
				      uint64_t addr)
{
	return base + (size - 1) - addr + 1;
}

/* The STE, from the configuration cache or from memory: 0 or -1. */
int smmu_get_ste(struct smmu_walk *w, uint32_t sid, struct smmu_ste *ste,
		 struct smmu_cfg_fault *cf);

/* The stage-1 regime: 0, 1 if stage 1 bypasses, or -1 with @cf. */
int smmu_get_cd(struct smmu_walk *w, const struct smmu_ste *ste,
		const struct sio_smmu_txn *txn, const struct smmu_access *acc,
		struct smmu_s1 *s1, struct smmu_cfg_fault *cf);

/* The record of configuration error @cf (not a stage-2 fault). */
void smmu_cfg_event(struct smmu_event *ev, const struct sio_smmu_txn *txn,
		    const struct smmu_cfg_fault *cf);

/* Is @id one of the four translation-related faults? */
static inline bool smmu_xlate_fault(uint8_t id)
{
	return id >= EVT_F_TRANSLATION && id <= EVT_F_PERMISSION;
}

/*
 * ats.c: an ATS Translated transaction, inside the caller's bus section;
 * as translate.c's walk: 0 with @res, or -EFAULT with @p's event.
 */
int smmu_translated_walk(struct sio_smmu *smmu, struct sio_mem_guard *g,
			 const struct sio_smmu_txn *txn,
			 struct sio_smmu_result *res, struct smmu_pending *p);

#endif /* SIO_SMMU_TXN_H */
