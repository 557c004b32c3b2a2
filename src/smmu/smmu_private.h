/* SPDX-License-Identifier: MIT */
/* Private definitions of the SMMUv3 model (src/smmu). */
#ifndef SIO_SMMU_PRIVATE_H
#define SIO_SMMU_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include <softiommu/smmu.h>

#include "mem/mem_private.h"
#include "pgtable/lpae.h"

#define BIT(n)		    (1ull << (n))
#define GENMASK(h, l)	    LPAE_GENMASK(h, l)
#define FIELD_GET(mask, v)  (((v) & (mask)) >> __builtin_ctzll(mask))
#define FIELD_PREP(mask, v) (((uint64_t)(v) << __builtin_ctzll(mask)) & (mask))

/* Register offsets (SMMUv3 section 6.3); page 1 starts at 0x10000. */
#define SMMU_IDR0	     0x00
#define SMMU_IDR1	     0x04
#define SMMU_IDR2	     0x08
#define SMMU_IDR3	     0x0c
#define SMMU_IDR4	     0x10
#define SMMU_IDR5	     0x14
#define SMMU_IIDR	     0x18
#define SMMU_AIDR	     0x1c
#define SMMU_CR0	     0x20
#define SMMU_CR0ACK	     0x24
#define SMMU_CR1	     0x28
#define SMMU_CR2	     0x2c
#define SMMU_STATUSR	     0x40
#define SMMU_GBPA	     0x44
#define SMMU_AGBPA	     0x48
#define SMMU_IRQ_CTRL	     0x50
#define SMMU_IRQ_CTRLACK     0x54
#define SMMU_GERROR	     0x60
#define SMMU_GERRORN	     0x64
#define SMMU_GERROR_IRQ_CFG0 0x68
#define SMMU_GERROR_IRQ_CFG1 0x70
#define SMMU_GERROR_IRQ_CFG2 0x74
#define SMMU_STRTAB_BASE     0x80
#define SMMU_STRTAB_BASE_CFG 0x88
#define SMMU_CMDQ_BASE	     0x90
#define SMMU_CMDQ_PROD	     0x98
#define SMMU_CMDQ_CONS	     0x9c
#define SMMU_EVENTQ_BASE     0xa0
#define SMMU_EVENTQ_IRQ_CFG0 0xb0
#define SMMU_EVENTQ_IRQ_CFG1 0xb8
#define SMMU_EVENTQ_IRQ_CFG2 0xbc
#define SMMU_PRIQ_BASE	     0xc0
#define SMMU_PRIQ_IRQ_CFG0   0xd0
#define SMMU_PRIQ_IRQ_CFG1   0xd8
#define SMMU_PRIQ_IRQ_CFG2   0xdc
#define SMMU_EVENTQ_PROD     0x100a8
#define SMMU_EVENTQ_CONS     0x100ac
#define SMMU_PRIQ_PROD	     0x100c8
#define SMMU_PRIQ_CONS	     0x100cc

/* SMMU_IDR0 */
#define IDR0_S2P	 BIT(0)
#define IDR0_S1P	 BIT(1)
#define IDR0_TTF	 GENMASK(3, 2)
#define IDR0_TTF_AARCH64 2
#define IDR0_COHACC	 BIT(4)
#define IDR0_HTTU	 GENMASK(7, 6)
#define IDR0_HYP	 BIT(9)
#define IDR0_ATS	 BIT(10)
#define IDR0_ASID16	 BIT(12)
#define IDR0_PRI	 BIT(16)
#define IDR0_VMID16	 BIT(18)
#define IDR0_CD2L	 BIT(19)
#define IDR0_TTENDIAN	 GENMASK(22, 21)
#define IDR0_ATSRECERR	 BIT(23)
#define IDR0_TTENDIAN_LE 2
#define IDR0_STALL_MODEL GENMASK(25, 24)
#define IDR0_TERM_MODEL	 BIT(26)
#define IDR0_ST_LEVEL	 GENMASK(28, 27)

/* SMMU_IDR1 */
#define IDR1_SIDSIZE  GENMASK(5, 0)
#define IDR1_SSIDSIZE GENMASK(10, 6)
#define IDR1_PRIQS    GENMASK(15, 11)
#define IDR1_EVTQS    GENMASK(20, 16)
#define IDR1_CMDQS    GENMASK(25, 21)

/* SMMU_IDR3 */
#define IDR3_HAD  BIT(2)
#define IDR3_PPS  BIT(5)
#define IDR3_XNX  BIT(4)
#define IDR3_RIL  BIT(10)
#define IDR3_BBML GENMASK(12, 11)

/* SMMU_IDR5 */
#define IDR5_OAS     GENMASK(2, 0)
#define IDR5_GRAN4K  BIT(4)
#define IDR5_GRAN16K BIT(5)
#define IDR5_GRAN64K BIT(6)
#define IDR5_VAX     GENMASK(11, 10)

/* SMMU_CR0 / CR0ACK */
#define CR0_SMMUEN BIT(0)
#define CR0_PRIQEN BIT(1)
#define CR0_EVTQEN BIT(2)
#define CR0_CMDQEN BIT(3)
#define CR0_ATSCHK BIT(4)
#define CR0_VMW	   GENMASK(8, 6)
#define CR0_WRITABLE                                                      \
	(CR0_SMMUEN | CR0_PRIQEN | CR0_EVTQEN | CR0_CMDQEN | CR0_ATSCHK | \
	 CR0_VMW)

/* SMMU_CR2 */
#define CR2_E2H		BIT(0)
#define CR2_RECINVSID	BIT(1)
#define CR2_REC_CFG_ATS BIT(3)

/* SMMU_GBPA */
#define GBPA_ABORT  BIT(20)
#define GBPA_UPDATE BIT(31)
#define GBPA_FIELDS                                                  \
	(GENMASK(3, 0) | BIT(4) | GENMASK(11, 8) | GENMASK(13, 12) | \
	 GENMASK(17, 16) | GENMASK(19, 18) | GBPA_ABORT)
#define GBPA_RESET 0x1000 /* SHCFG = use incoming */

/* SMMU_IRQ_CTRL */
#define IRQ_CTRL_GERROR BIT(0)
#define IRQ_CTRL_PRIQ	BIT(1)
#define IRQ_CTRL_EVTQ	BIT(2)

/* SMMU_GERROR / GERRORN */
#define GERROR_CMDQ_ERR	      BIT(0)
#define GERROR_EVTQ_ABT_ERR   BIT(2)
#define GERROR_PRIQ_ABT_ERR   BIT(3)
#define GERROR_MSI_CMDQ_ABT   BIT(4)
#define GERROR_MSI_EVTQ_ABT   BIT(5)
#define GERROR_MSI_PRIQ_ABT   BIT(6)
#define GERROR_MSI_GERROR_ABT BIT(7)
#define GERROR_SFM_ERR	      BIT(8)
#define GERROR_MASK	      GENMASK(8, 0)

/* SMMU_STRTAB_BASE / _CFG */
#define STRTAB_BASE_ADDR      GENMASK(51, 6)
#define STRTAB_BASE_RA	      BIT(62)
#define STRTAB_CFG_LOG2SIZE   GENMASK(5, 0)
#define STRTAB_CFG_SPLIT      GENMASK(10, 6)
#define STRTAB_CFG_FMT	      GENMASK(17, 16)
#define STRTAB_CFG_FMT_LINEAR 0
#define STRTAB_CFG_FMT_2LVL   1

/* Queue base registers and PROD/CONS */
#define Q_BASE_ADDR	      GENMASK(51, 5)
#define Q_BASE_LOG2SIZE	      GENMASK(4, 0)
#define Q_BASE_RA	      BIT(62)
#define Q_OVF		      BIT(31) /* PROD.OVFLG / CONS.OVACKFLG */
#define CMDQ_CONS_ERR	      GENMASK(30, 24)
#define CMDQ_ERR_NONE	      0
#define CMDQ_ERR_ILL	      1
#define CMDQ_ERR_ABT	      2
#define CMDQ_ERR_ATC_INV_SYNC 3

/* A circular queue as the registers describe it. */
struct smmu_queue {
	uint64_t base; /* the Q_BASE register */
	uint32_t prod;
	uint32_t cons;
	unsigned int max_bits; /* IDR1 limit on LOG2SIZE */
	unsigned int entry;    /* bytes per entry */
};

static inline unsigned int q_log2(const struct smmu_queue *q)
{
	unsigned int n = (unsigned int)FIELD_GET(Q_BASE_LOG2SIZE, q->base);

	/* Sizes beyond the implemented maximum behave as the maximum. */
	return n > q->max_bits ? q->max_bits : n;
}

/* Index and wrap bits of a PROD/CONS value. */
static inline uint32_t q_idx(const struct smmu_queue *q, uint32_t v)
{
	return v & ((1u << q_log2(q)) - 1);
}

static inline uint32_t q_wrap(const struct smmu_queue *q, uint32_t v)
{
	return v & (1u << q_log2(q));
}

static inline uint32_t q_ptr_mask(const struct smmu_queue *q)
{
	return (2u << q_log2(q)) - 1;
}

static inline bool q_empty(const struct smmu_queue *q)
{
	return ((q->prod ^ q->cons) & q_ptr_mask(q)) == 0;
}

static inline bool q_full(const struct smmu_queue *q)
{
	return q_idx(q, q->prod) == q_idx(q, q->cons) &&
	       q_wrap(q, q->prod) != q_wrap(q, q->cons);
}

/*
 * The effective base: ADDR aligned to the larger of the queue's size in
 * bytes and 32, its low bits ignored (6.3.26 and the other queues').
 */
static inline uint64_t q_base_addr(const struct smmu_queue *q)
{
	uint64_t size = (uint64_t)q->entry << q_log2(q);

	return q->base & Q_BASE_ADDR & ~((size > 32 ? size : 32) - 1);
}

static inline uint64_t q_slot_addr(const struct smmu_queue *q, uint32_t v)
{
	return q_base_addr(q) + (uint64_t)q_idx(q, v) * q->entry;
}

static inline uint32_t q_inc(const struct smmu_queue *q, uint32_t v)
{
	return (v & ~q_ptr_mask(q)) | ((v + 1) & q_ptr_mask(q));
}

struct smmu_cfgc;
struct smmu_tlb;
struct smmu_utlb;
struct smmu_stall;
struct smmu_event;

/*
 * Where a test may hold a thread (struct sio_smmu's test_hook): the
 * interleavings of the Stall model that no timing reaches reliably.
 */
enum smmu_test_point {
	/* a transaction left its section, with its event still to write */
	SMMU_TEST_UNRECORDED,
	/* a CMD_SYNC is about to wait for such events (stall.c) */
	SMMU_TEST_FLUSH,
	/* a record was written (or its write aborted), its signals to come */
	SMMU_TEST_WRITTEN,
};

struct sio_smmu {
	struct sio_smmu_config cfg;
	struct sio_mem_bus *bus;
	uint32_t idr[6];
	uint32_t iidr, aidr;
	unsigned int oas; /* IDR5.OAS in bits */

	/*
	 * Serializes MMIO and command processing; guards the registers
	 * below that translations do not read.
	 */
	pthread_mutex_t lock;
	uint32_t cr1;
	_Atomic uint32_t irq_ctrl;
	_Atomic uint32_t gerrorn; /* written under lock, read anywhere */
	struct smmu_queue cmdq;
	struct smmu_queue priq;

	/* Read by translating threads too. */
	_Atomic uint32_t cr0;
	_Atomic uint32_t cr2;
	_Atomic uint32_t gbpa;
	_Atomic uint32_t gerror;
	_Atomic uint64_t strtab_base;
	_Atomic uint32_t strtab_cfg;

	/* The event queue: written by translating threads. */
	pthread_mutex_t evtq_lock;
	struct smmu_queue evtq;

	sio_smmu_irq_fn irq;
	void *irq_opaque;
	sio_smmu_prg_fn prg; /* PRG Responses to devices (priq.c) */
	void *prg_opaque;
	sio_smmu_atc_inv_fn atc_inv; /* ATS Invalidate Requests (cmdq.c) */
	void *atc_opaque;
	bool atc_failed; /* one did not complete: the next CMD_SYNC fails */

	/* Caches (smmu_cache.h), and the invalidation generation. */
	struct smmu_cfgc *cfgc;
	struct smmu_tlb *tlb;
	_Atomic uint64_t inv_gen;
	_Atomic uint64_t utlb_gen; /* advanced after invalidations: utlb.c */
	struct smmu_utlb *utlb;
	/* each stage's table segment, for walks to start from (walk.c) */
	_Atomic uint64_t walk_hint[2];
	/* the segment the last portless transfer reached (translate.c) */
	_Atomic uint64_t dma_hint;
	bool sync_wait; /* an invalidation since the last CMD_SYNC */

	/*
	 * Stalled transactions (stall.c), a count of event-queue state
	 * changes that stalls waiting for room in the queue watch, and the
	 * events decided in bus sections and not yet written, counted by
	 * the parity of the CMD_SYNC that is to wait for them.
	 */
	pthread_mutex_t stall_lock;
	pthread_cond_t stall_cv;
	struct smmu_stall *stalls;
	uint64_t evtq_epoch;
	unsigned int unrecorded[2];
	unsigned int unrecorded_phase;

	/*
	 * Under evtq_lock: a write to the event queue aborted, and
	 * GERROR.EVENTQ_ABT_ERR is still to be activated (by the writer, or
	 * by an EVENTQEN 1 -> 0 update, which must show it: evtq.c).
	 */
	bool evtq_abort_pending;

	/* Tests only (tests/smmu/test_stall.c); NULL otherwise. */
	void (*test_hook)(void *opaque, enum smmu_test_point at);
	void *test_opaque;
};

/* Does IDR5 advertise this granule (a shift of 12, 14 or 16)? */
static inline bool smmu_granule_ok(const struct sio_smmu *smmu,
				   unsigned int gshift)
{
	return (gshift == 12 && smmu->cfg.gran4k) ||
	       (gshift == 14 && smmu->cfg.gran16k) ||
	       (gshift == 16 && smmu->cfg.gran64k);
}

/*
 * The effective output size of a CD.IPS or STE.S2PS encoding: capped to
 * the OAS, which reserved encodings also behave as.
 */
static inline unsigned int smmu_eff_ps(const struct sio_smmu *smmu,
				       unsigned int ps)
{
	int bits = lpae_ps_decode(ps);

	return bits < 0 || (unsigned int)bits > smmu->oas ? smmu->oas
							  : (unsigned int)bits;
}

/* regs.c */
void smmu_raise_irq(struct sio_smmu *smmu, enum sio_smmu_irq irq);
void smmu_gerror_toggle(struct sio_smmu *smmu, uint32_t bits);

/* cmdq.c: caller holds smmu->lock */
void smmu_cmdq_process(struct sio_smmu *smmu);

/* priq.c: CMD_PRI_RESP, under smmu->lock; returns a CONS.ERR code */
unsigned int smmu_pri_resp(struct sio_smmu *smmu, const uint64_t *cmd);

/* A test's seam: a branch not taken outside the tests. */
static inline void smmu_test_point(struct sio_smmu *smmu,
				   enum smmu_test_point at)
{
	if (__builtin_expect(smmu->test_hook != NULL, 0))
		smmu->test_hook(smmu->test_opaque, at);
}

/* stall.c */
int smmu_stall_init(struct sio_smmu *smmu);
void smmu_stall_fini(struct sio_smmu *smmu);
/*
 * Inside the bus section that decided it: a slot for a stall of @sid,
 * pending until smmu_stall_run(); false if none is free.
 */
bool smmu_stall_reserve(struct sio_smmu *smmu, uint32_t sid, uint16_t *stag);
/* After the section, when none was free: wait until one may be. */
void smmu_stall_wait_slot(struct sio_smmu *smmu);
/*
 * After the section: write the pending stall's record @ev and wait for
 * the answer; 0 to retry, -EFAULT terminated.
 */
int smmu_stall_run(struct sio_smmu *smmu, uint16_t stag, struct smmu_event *ev);
void smmu_stall_resume(struct sio_smmu *smmu, uint32_t sid, uint32_t stag,
		       bool retry);
void smmu_stall_term(struct sio_smmu *smmu, uint32_t sid);
/* SMMUEN 1 -> 0, under smmu->lock, outside any section. */
void smmu_stall_term_all(struct sio_smmu *smmu);
void smmu_evtq_kick(struct sio_smmu *smmu);
/* evtq.c: EVENTQEN 1 -> 0, under smmu->lock, once CR0 says so. */
void smmu_evtq_quiesce(struct sio_smmu *smmu);
/*
 * Another event record decided in a bus section: counted inside it, done
 * once written or discarded (and before anything that can call software).
 */
unsigned int smmu_unrecorded_add(struct sio_smmu *smmu);
void smmu_unrecorded_done(struct sio_smmu *smmu, unsigned int ticket);
/*
 * A CMD_SYNC completing invalidations, under smmu->lock, after the
 * sections begun before it: wait for the events counted until now.
 */
void smmu_unrecorded_flush(struct sio_smmu *smmu);

#endif /* SIO_SMMU_PRIVATE_H */
