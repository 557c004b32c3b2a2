/* SPDX-License-Identifier: MIT */
/*
 * Event records (SMMUv3 section 7.3) and the faults translation reports.
 */
#ifndef SIO_SMMU_EVENT_H
#define SIO_SMMU_EVENT_H

#include "smmu_private.h"

/* Event numbers. */
#define EVT_F_UUT	       0x01
#define EVT_C_BAD_STREAMID     0x02
#define EVT_F_STE_FETCH	       0x03
#define EVT_C_BAD_STE	       0x04
#define EVT_F_BAD_ATS_TREQ     0x05
#define EVT_F_STREAM_DISABLED  0x06
#define EVT_F_TRANSL_FORBIDDEN 0x07
#define EVT_C_BAD_SUBSTREAMID  0x08
#define EVT_F_CD_FETCH	       0x09
#define EVT_C_BAD_CD	       0x0a
#define EVT_F_WALK_EABT	       0x0b
#define EVT_F_TRANSLATION      0x10
#define EVT_F_ADDR_SIZE	       0x11
#define EVT_F_ACCESS	       0x12
#define EVT_F_PERMISSION       0x13
#define EVT_F_TLB_CONFLICT     0x20
#define EVT_F_CFG_CONFLICT     0x21

/* Record fields, by 64-bit word. */
#define EVT0_ID	   GENMASK(7, 0)
#define EVT0_SSV   BIT(11)
#define EVT0_SSID  GENMASK(31, 12)
#define EVT0_SID   GENMASK(63, 32)
#define EVT1_STAG  GENMASK(15, 0)
#define EVT1_STALL BIT(31)
#define EVT1_PNU   BIT(33)
#define EVT1_IND   BIT(34)
#define EVT1_RNW   BIT(35)
#define EVT1_S2	   BIT(39)
#define EVT1_CLASS GENMASK(41, 40)
#define EVT1_TTRNW BIT(44)
#define EVT3_IPA   GENMASK(55, 12)
#define EVT3_FETCH GENMASK(55, 3)

/* CLASS: what the faulting stage was translating. */
#define EVT_CLASS_CD 0
#define EVT_CLASS_TT 1
#define EVT_CLASS_IN 2

struct smmu_event {
	uint64_t d[4];
};

/* A transaction's access, after the STE's attribute overrides. */
struct smmu_access {
	uint64_t input; /* the address input to the SMMU */
	bool write;
	bool instr;
	bool priv;
};

/*
 * A translation fault, as the walkers report it: which event, at which
 * stage, for what (CLASS), with the IPA (stage 2) or the descriptor
 * address (walk aborts), and whether it is to be recorded.
 */
struct smmu_fault {
	uint8_t id;
	bool s2;
	uint8_t class;
	bool tt_write; /* CLASS TT: the walk access was an HTTU write */
	bool record;   /* CD.R / STE.S2R say so (aborts always record) */
	bool stall;    /* CD.S / STE.S2S: the transaction stalls */
	uint64_t ipa;
	uint64_t fetch;
};

void smmu_event_init(struct smmu_event *ev, uint8_t id,
		     const struct sio_smmu_txn *txn);
void smmu_event_fault(struct smmu_event *ev, const struct smmu_access *acc,
		      const struct smmu_fault *f);
/*
 * Record @ev, in two steps, for a writer that must say its record is in
 * the queue before anything can call back into software or
 * wait for smmu->lock (stall.c: a CMD_SYNC waits for that, holding the
 * lock).  The put takes evtq_lock and no other lock, calls nothing; the
 * rest (GERROR.EVENTQ_ABT_ERR, the interrupt) follows in
 * smmu_event_after().
 */
struct smmu_evt_after {
	bool raise; /* the queue's interrupt */
	bool abort; /* the write aborted: GERROR.EVENTQ_ABT_ERR */
};

bool smmu_event_put(struct sio_smmu *smmu, const struct smmu_event *ev,
		    struct smmu_evt_after *after);
void smmu_event_after(struct sio_smmu *smmu,
		      const struct smmu_evt_after *after);

#endif /* SIO_SMMU_EVENT_H */
