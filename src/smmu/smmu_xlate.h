/* SPDX-License-Identifier: MIT */
/*
 * Translation: stream configurations as decoded from STEs and CDs, and
 * the stage-1, stage-2 and nested walkers that use them.
 */
#ifndef SIO_SMMU_XLATE_H
#define SIO_SMMU_XLATE_H

#include "smmu_event.h"

/* A stage-2 translation regime, from an STE. */
struct smmu_s2 {
	uint64_t ttb;
	struct lpae_fmt fmt; /* ias = 64 - S2T0SZ, oas = effective S2PS */
	uint16_t vmid;
	bool affd;   /* S2AFFD: AF == 0 does not fault */
	bool ha, hd; /* S2HA / S2HD: hardware AF and dirty updates */
	bool ptw;    /* S2PTW: stage-1 walks to Device memory fault */
	bool record; /* S2R */
	bool stall;  /* S2S: translation-related faults stall */
};

/* One stage-1 translation table (TTB0 or TTB1) of a CD. */
struct smmu_tt {
	uint64_t ttb;
	struct lpae_fmt fmt; /* ias = 64 - TxSZ, oas = effective IPS */
	bool enabled;	     /* !EPDx */
	bool had;	     /* HADx: hierarchical attributes disabled */
};

/* A stage-1 translation regime, from a CD. */
struct smmu_s1 {
	struct smmu_tt tt[2];
	uint64_t mair;
	uint16_t asid;
	bool tbi[2];
	bool affd, ha, hd, wxn, pan;
	bool record; /* CD.R */
	bool stall;  /* CD.S */
	/*
	 * Reached from an NS-EL2 stream (smmu_ste_el2_no_e2h()): TTB0 is
	 * the only VA range, and every access is checked as privileged.
	 */
	bool el2;
};

/* A walk's result: a leaf, and what it allows, for the TLB. */
struct smmu_leaf {
	uint64_t oa;	    /* output address of the access */
	uint64_t size;	    /* bytes the leaf maps (block or page) */
	uint64_t base;	    /* input address of the start of the leaf */
	bool device;	    /* stage 2: Device memory */
	bool global;	    /* stage 1: nG == 0 */
	unsigned int level; /* level of the leaf */
	unsigned int tg;    /* its granule, in the TLBI TG encoding */
	uint64_t perm;	    /* TLB_* bits: every access the leaf allows */
};

/*
 * One transaction's walks: the bus section every table read goes
 * through, and the invalidation generation the transaction started in
 * (smmu_cache.h), which its TLB fills are checked against.
 */
struct smmu_walk {
	struct sio_smmu *smmu;
	struct sio_mem_guard *g;
	uint64_t gen;
	uint32_t vmid;	     /* the tag of stage-1 entries: smmu_ste_vmid() */
	const void *hint[2]; /* the bus segment of each stage's last read */
	/* the TLB epochs of epochs_vmid, once a lookup needed them */
	uint64_t epochs;
	uint32_t epochs_vmid;
	bool epochs_loaded;
	/* and the ASID epoch of (aepoch_vmid, aepoch_asid) */
	uint64_t aepoch;
	uint32_t aepoch_vmid;
	uint16_t aepoch_asid;
	bool aepoch_loaded;
	/*
	 * The output's stage-2 leaf is not cached on its own: the combined
	 * entry the nested translation fills holds it (set for the final
	 * stage 2 of a nested translation).
	 */
	bool no_s2_fill;
	/*
	 * NULL, except when the walk is being explained: then every read
	 * is recorded there, and the caches are neither used nor filled.
	 */
	struct smmu_trace *trace;
};

/* An explanation being recorded (explain.c). */
struct smmu_trace {
	struct sio_smmu_explain *ex;
	/* The stage-1 level whose table address stage 2 is translating. */
	uint8_t s1_level;
};

/*
 * explain.c: record one read of @nval words @val at @pa (@ipa as the walk
 * computed it) of kind SIO_SMMU_READ_*, for the walk of @in.
 */
void smmu_trace_read(struct smmu_trace *t, unsigned int kind,
		     unsigned int level, uint64_t in, uint64_t ipa, uint64_t pa,
		     const uint64_t *val, unsigned int nval, bool abort);

/* explain.c: record a stage-2 descriptor read, for a walk of @class. */
void smmu_trace_s2(struct smmu_trace *t, unsigned int level, uint8_t class,
		   bool write, uint64_t ipa, uint64_t pa, uint64_t desc,
		   bool abort);

/*
 * Stage-2 translation of @ipa for an access of kind @class (CD fetch, a
 * stage-1 table walk, or the transaction's input).  @write is the access
 * direction for the permission check (walk reads, HTTU writes, the
 * transaction's own).  Returns 0, or -1 with @f filled in.
 */
int smmu_s2_translate(struct smmu_walk *w, const struct smmu_s2 *s2,
		      uint64_t ipa, uint8_t class, bool write,
		      const struct smmu_access *acc, struct smmu_leaf *out,
		      struct smmu_fault *f);

/*
 * The TLB epoch of (@vmid, @asid)'s bucket for entries of @kind (0 for a
 * stage-2 kind), read once a walk, after it took its generation (walk.c).
 */
uint64_t walk_asid_epoch(struct smmu_walk *w, unsigned int kind, uint32_t vmid,
			 uint16_t asid);

/*
 * Stage-1 translation of acc->input (through @s2 if not NULL).  The TLB is
 * the caller's: this always walks, from the walk cache's last-level table
 * when it has one.
 */
int smmu_s1_translate(struct smmu_walk *w, const struct smmu_s1 *s1,
		      const struct smmu_s2 *s2, const struct smmu_access *acc,
		      struct smmu_leaf *out, struct smmu_fault *f);

#endif /* SIO_SMMU_XLATE_H */
