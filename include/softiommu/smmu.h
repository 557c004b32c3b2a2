/* SPDX-License-Identifier: MIT */
/*
 * softiommu: an Arm SMMUv3 model.
 *
 * The model is hardware: software drives it only through its registers
 * (32- and 64-bit MMIO accesses at the architectural offsets of pages 0
 * and 1) and the structures it reads from memory through the bus (stream
 * table, context descriptors, translation tables, queues).  Devices
 * present transactions to it; each is translated and performed through
 * the bus, or aborted with the architecture's event recorded.
 *
 * Thread safety: MMIO accesses may come from any thread and are
 * serialized inside the model; transactions may run concurrently from
 * any number of threads, concurrently with MMIO.
 */
#ifndef SOFTIOMMU_SMMU_H
#define SOFTIOMMU_SMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/common.h>
#include <softiommu/mem.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_smmu;

/* The MMIO frame: page 0 and page 1, 64 KiB each. */
#define SIO_SMMU_MMIO_SIZE 0x20000

/* What the implementation supports; reflected in SMMU_IDR0..5. */
struct sio_smmu_config {
	bool stage1;	  /* IDR0.S1P */
	bool stage2;	  /* IDR0.S2P */
	unsigned int oas; /* IDR5.OAS: 32, 36, 40, 42, 44, 48 or 52 */
	bool gran4k, gran16k, gran64k; /* IDR5.GRAN4K/16K/64K */
	unsigned int sid_bits;	       /* IDR1.SIDSIZE, 0..32 */
	unsigned int ssid_bits;	       /* IDR1.SSIDSIZE, 0..20 */
	bool st_2lvl;	   /* IDR0.ST_LEVEL = 2-level stream tables */
	bool cd_2lvl;	   /* IDR0.CD2L */
	bool asid16;	   /* IDR0.ASID16 */
	bool vmid16;	   /* IDR0.VMID16 */
	unsigned int httu; /* IDR0.HTTU: 0 none, 1 AF, 2 AF and dirty */
	bool ats;	   /* IDR0.ATS */
	bool pri;	   /* IDR0.PRI */
	bool hyp;	   /* IDR0.HYP (EL2 and E2H stage 1); both stages */
	/* IDR0.STALL_MODEL: 0 stall and terminate (the default), 1
	 * terminate only, 2 stall forced. */
	unsigned int stall_model;
	bool ril;		/* IDR3.RIL: range invalidation */
	unsigned int cmdq_bits; /* IDR1.CMDQS: log2 of the largest queue */
	unsigned int evtq_bits; /* IDR1.EVTQS */
	unsigned int priq_bits; /* IDR1.PRIQS */
};

/* The default: every feature the model implements, 48-bit OAS. */
SIO_API void sio_smmu_config_default(struct sio_smmu_config *cfg);

/*
 * Wired interrupts the model raises (IRQ_CTRL enables them); called from
 * whatever thread caused them.  The event queue's marks the queue going
 * from empty to non-empty (3.18.2): a handler drains it until empty.
 */
enum sio_smmu_irq {
	SIO_SMMU_IRQ_EVTQ,
	SIO_SMMU_IRQ_PRIQ,
	SIO_SMMU_IRQ_GERROR,
	SIO_SMMU_IRQ_CMD_SYNC,
};

/*
 * Set the callback before enabling interrupts and leave it while the SMMU
 * is in use.  It may run with the model's locks held: it must not access
 * the SMMU itself (signal an eventfd or a condition instead).
 */
typedef void (*sio_smmu_irq_fn)(void *opaque, enum sio_smmu_irq irq);

/*
 * Create an SMMU whose memory accesses go through @bus.  Returns 0, or
 * -EINVAL for a configuration the architecture does not allow (no stage,
 * no granule, a bad OAS, sizes out of range), -ENOMEM.
 */
SIO_API int sio_smmu_create(const struct sio_smmu_config *cfg,
			    struct sio_mem_bus *bus, struct sio_smmu **out);
SIO_API void sio_smmu_destroy(struct sio_smmu *smmu);
SIO_API void sio_smmu_set_irq(struct sio_smmu *smmu, sio_smmu_irq_fn fn,
			      void *opaque);

/*
 * MMIO.  @offset is within the 128 KiB frame.  Reserved and unimplemented
 * locations read as zero and ignore writes; so do accesses that are not
 * naturally aligned.  A 64-bit access to a pair of 32-bit registers
 * accesses both, low word first.
 */
SIO_API uint32_t sio_smmu_read32(struct sio_smmu *smmu, uint64_t offset);
SIO_API void sio_smmu_write32(struct sio_smmu *smmu, uint64_t offset,
			      uint32_t val);
SIO_API uint64_t sio_smmu_read64(struct sio_smmu *smmu, uint64_t offset);
SIO_API void sio_smmu_write64(struct sio_smmu *smmu, uint64_t offset,
			      uint64_t val);

/* A transaction a device presents. */
#define SIO_SMMU_WRITE (1u << 0) /* else a read */
#define SIO_SMMU_EXEC  (1u << 1) /* an instruction fetch (reads only) */
#define SIO_SMMU_PRIV  (1u << 2) /* privileged */
/*
 * PCIe ATS Translated: the address is the output of an earlier ATS
 * Translation Request (a PA, or an IPA with split-stage ATS).  Without
 * SMMU_CR0.ATSCHK it bypasses translation (an address beyond the OAS is
 * aborted silently); with it the STE's EATS decides (section 3.9.1.3).
 * Such a transaction carries no PASID for the SMMU (IDR3.PASIDTT == 0):
 * ssv and SIO_SMMU_EXEC / SIO_SMMU_PRIV are ignored.
 */
#define SIO_SMMU_TRANSLATED (1u << 3)

struct sio_smmu_txn {
	uint32_t sid;	   /* StreamID */
	uint32_t ssid;	   /* SubstreamID, if ssv */
	bool ssv;	   /* a SubstreamID is present */
	uint64_t addr;	   /* input address */
	unsigned int attr; /* SIO_SMMU_* */
};

/* The outcome of a translation. */
struct sio_smmu_result {
	uint64_t pa;	   /* output address */
	uint64_t size;	   /* bytes from pa the translation covers */
	unsigned int perm; /* SIO_MEM_READ / SIO_MEM_WRITE granted */
	uint8_t event;	   /* if aborted: the event id recorded (0 if none) */
};

/*
 * Translate one access.  Returns 0 with @res filled, or -EFAULT when the
 * transaction is aborted (terminated); the fault was recorded in the
 * event queue if the configuration says so, and res->event tells which.
 *
 * Stalls: a translation-related fault on a stage configured to stall
 * (CD.S, STE.S2S) blocks the calling thread, as it holds a device's
 * transaction, until software answers the stall record: CMD_RESUME with
 * Retry translates it again from the start; CMD_RESUME with Terminate,
 * CMD_STALL_TERM for its StreamID, or clearing SMMUEN abort it (-EFAULT).
 * The record waits for room if the event queue is full or disabled.  So
 * a device that can stall must present its transactions from a thread of
 * its own, never from the thread that drives the SMMU.
 */
SIO_API int sio_smmu_translate(struct sio_smmu *smmu,
			       const struct sio_smmu_txn *txn,
			       struct sio_smmu_result *res);

/*
 * Device DMA: translate and perform a transfer of @len bytes between
 * @buf and the input range starting at txn->addr, split at translation
 * boundaries.  Returns 0, or -EFAULT if any part aborted (the parts
 * before it were performed, as on hardware; *@done says how many bytes),
 * or -EIO if the memory behind a translation aborted.  A part that
 * stalls blocks as sio_smmu_translate() does, then continues.
 */
SIO_API int sio_smmu_dma(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
			 void *buf, size_t len, size_t *done);

/*
 * A device's copy of @len bytes from the input range at src->addr to the
 * one at dst->addr (a DMA engine's memory-to-memory descriptor): both
 * translated (src as a read, dst as a write, whatever their attr says
 * of direction), the bytes moved straight between the two memories,
 * without a buffer of the caller's.  The two transactions may carry
 * different StreamIDs, SubstreamIDs and attributes.  Returns 0, -EFAULT
 * or -EIO as sio_smmu_dma() does, with *@done the bytes copied before
 * the failure and *@dst_failed telling whether it was the write side.
 */
SIO_API int sio_smmu_dma_copy(struct sio_smmu *smmu,
			      const struct sio_smmu_txn *dst,
			      const struct sio_smmu_txn *src, size_t len,
			      size_t *done, bool *dst_failed);

/*
 * PCIe PRI (chapter 8).  A device presents a Page Request; it lands in
 * the PRI queue for software, which answers the whole group with
 * CMD_PRI_RESP.  The answer reaches the device through the PRG Response
 * callback, with the response code of section 8.3 (0 Success, 1 Invalid
 * Request, 0xf Response Failure); so do the SMMU's automatic answers to
 * requests it cannot queue.  Like the interrupt callback, the PRG
 * callback may run with the model's locks held: it must not call into
 * the SMMU.
 */
#define SIO_SMMU_PRI_READ  (1u << 0)
#define SIO_SMMU_PRI_WRITE (1u << 1)
#define SIO_SMMU_PRI_EXEC  (1u << 2) /* with a PASID only */
#define SIO_SMMU_PRI_PRIV  (1u << 3) /* with a PASID only */

#define SIO_SMMU_PRG_SUCCESS	      0x0
#define SIO_SMMU_PRG_INVALID_REQUEST  0x1
#define SIO_SMMU_PRG_RESPONSE_FAILURE 0xf

struct sio_smmu_page_req {
	uint32_t sid;
	uint32_t ssid;	   /* the PASID, if ssv */
	bool ssv;	   /* issued with a PASID prefix */
	uint64_t addr;	   /* the page; bits [11:0] ignored */
	uint16_t prgi;	   /* Page Request Group Index, 0..511 */
	bool last;	   /* the last request of its group */
	unsigned int perm; /* SIO_SMMU_PRI_*; none with last and a PASID
			      is a Stop PASID marker */
};

typedef void (*sio_smmu_prg_fn)(void *opaque, uint32_t sid, bool ssv,
				uint32_t ssid, uint16_t prgi,
				unsigned int code);

SIO_API void sio_smmu_set_prg_response(struct sio_smmu *smmu,
				       sio_smmu_prg_fn fn, void *opaque);

/*
 * Present a Page Request.  Returns 0 when it was queued; -ENOSPC when the
 * queue is full or overflowed (dropped; a Last request is answered
 * Success); -EIO when the queue is disabled or aborted (every request
 * but a stop marker is answered Response Failure); -EINVAL without PRI or for a
 * PRGI beyond 9 bits.
 */
SIO_API int sio_smmu_page_request(struct sio_smmu *smmu,
				  const struct sio_smmu_page_req *req);

/*
 * ATS invalidation: CMD_ATC_INV reaches the device's Address Translation
 * Cache through this callback — StreamID, the PASID if @ssv (and the
 * Global flag, meaningful only then), and the span of 2^@log2size bytes
 * at @addr (aligned to it; @log2size 64 is everything).  Return 0 once
 * the ATC no longer holds translations in the span (also for requests
 * the device rejects as unsupported), or a negative errno if the
 * invalidation did not complete (a timeout): the next CMD_SYNC then
 * stops the command queue with CERROR_ATC_INV_SYNC.  Called with the
 * model's locks held: it must not call into the SMMU.
 */
typedef int (*sio_smmu_atc_inv_fn)(void *opaque, uint32_t sid, bool ssv,
				   uint32_t ssid, bool global, uint64_t addr,
				   unsigned int log2size);

SIO_API void sio_smmu_set_atc_inv(struct sio_smmu *smmu, sio_smmu_atc_inv_fn fn,
				  void *opaque);

/*
 * PCIe ATS Translation Requests (section 3.9.1).  A device asks for the
 * translation of @span Smallest Translation Units (the smallest granule
 * IDR5 advertises) from @addr, for reading, or reading and writing (NW
 * == 0), and with a PASID for execution and a privilege level.
 */
struct sio_smmu_ats_req {
	uint32_t sid;
	uint32_t ssid; /* the PASID, if ssv */
	bool ssv;      /* a PASID TLP prefix is present */
	uint64_t addr; /* untranslated address; low bits below STU ignored */
	unsigned int span; /* STUs requested, >= 1 */
	bool nw;	   /* No Write: read-only intention */
	bool exe;	   /* Execute_Requested (with a PASID only) */
	bool priv;	   /* Privileged_Mode_Requested (with a PASID only) */
};

/*
 * One Translation Completion Data Entry.  Entry i covers the untranslated
 * range that follows entry i - 1 (the first contains the request's
 * address): @size bytes (a power of two, at least the STU), aligned to
 * @size in both address spaces.  An entry granting nothing (r == w ==
 * exe == 0) covers one STU and ends the completion.
 */
struct sio_smmu_ats_entry {
	uint64_t addr; /* translated address (IPA with split-stage ATS) */
	uint64_t size;
	bool r, w, exe;
	bool priv;   /* as requested: the level the permissions are for */
	bool global; /* only for requests without a PASID */
	bool u;	     /* Untranslated access only: never set by the SMMU */
	bool n;	     /* No_snoop: always 0 (section 13.6.2.1) */
};

/* Translation Completion status, as PCIe encodes it. */
#define SIO_SMMU_ATS_SC 0 /* Successful Completion, with entries */
#define SIO_SMMU_ATS_UR 1 /* Unsupported Request: ATS not allowed */
#define SIO_SMMU_ATS_CA 4 /* Completer Abort: a configuration error */

/*
 * Serve an ATS Translation Request: up to @max entries into @ent, their
 * number in *@count.  Returns the completion status (SIO_SMMU_ATS_*):
 * faults of the walk give SC with an entry granting nothing and record no
 * event; UR (with F_BAD_ATS_TREQ) when ATS is disabled for the stream or
 * SMMUEN is 0; CA for configuration errors, recorded only with
 * SMMU_CR2.REC_CFG_ATS.  Translation tables' Access flag and dirty state
 * are updated as HTTU allows (dirty only when NW == 0).  Returns -EINVAL
 * without ATS in the configuration, or for span or max 0.
 */
SIO_API int sio_smmu_ats_translate(struct sio_smmu *smmu,
				   const struct sio_smmu_ats_req *req,
				   struct sio_smmu_ats_entry *ent,
				   unsigned int max, unsigned int *count);

/*
 * Explaining one translation: every descriptor the SMMU reads for it, in
 * order — the STE, the CD (each through stage 2 when the stream nests),
 * each stage-1 table descriptor with its IPA and the PA stage 2 gave it,
 * each stage-2 descriptor — then the output, or the event of the fault
 * and the read it happened at.  The reads are recorded by the model's
 * own walkers as they go (a trace sink in the walk, NULL for ordinary
 * transactions), so the explanation is the translation.
 */

/* What a read fetched. */
enum sio_smmu_read_kind {
	SIO_SMMU_READ_L1STD = 1, /* a level-1 stream table descriptor */
	SIO_SMMU_READ_STE,	 /* the STE (8 words) */
	SIO_SMMU_READ_L1CD,	 /* a level-1 CD table descriptor */
	SIO_SMMU_READ_CD,	 /* the CD (8 words) */
	SIO_SMMU_READ_S1,	 /* a stage-1 translation table descriptor */
	SIO_SMMU_READ_S2,	 /* a stage-2 translation table descriptor */
};

/* What a stage-2 walk translates: the CLASS of its fault (section 7.3). */
#define SIO_SMMU_CLASS_CD 0 /* the address of a CD or L1CD */
#define SIO_SMMU_CLASS_TT 1 /* the address of a stage-1 table */
#define SIO_SMMU_CLASS_IN 2 /* the transaction's IPA (stage-1 output) */

struct sio_smmu_read {
	uint8_t kind;	  /* SIO_SMMU_READ_* */
	uint8_t level;	  /* S1, S2: the translation table level, 0..3 */
	uint8_t class;	  /* S2: SIO_SMMU_CLASS_* */
	uint8_t s1_level; /* S2 of CLASS TT: the stage-1 level whose table
			     address this stage-2 walk translates */
	bool write;	  /* S2: for an HTTU update of a stage-1 descriptor */
	bool abort;	  /* the read aborted (nothing backs @pa) */
	/*
	 * What the walk translates: the input address (S1), the IPA (S2);
	 * the StreamID (STE, L1STD); the CD-table index (CD, L1CD).
	 */
	uint64_t in;
	/*
	 * The address of what was read as the walk computed it: an IPA for
	 * stage-1 descriptors, CDs and L1CDs of a nested stream (stage 2
	 * then gave @pa), else equal to @pa.
	 */
	uint64_t ipa;
	uint64_t pa;	   /* the physical address read */
	unsigned int nval; /* words in @val: 8 for an STE or a CD, else 1 */
	uint64_t val[8];   /* what was read, in host order */
};

#define SIO_SMMU_EXPLAIN_MAX 64

struct sio_smmu_explain {
	int rc;			    /* as sio_smmu_translate() would return */
	struct sio_smmu_result res; /* its result */
	/* The stage-1 output: the IPA of a nested stream (else res.pa). */
	uint64_t ipa;
	/* What the TLB holds for the address now, if anything (it may be
	 * stale: the reads below are what memory says). */
	bool cached;
	uint64_t cached_pa;
	/*
	 * The fault (evt_id != 0): the record as the SMMU builds it, with
	 * its main fields decoded, and whether a transaction would have
	 * written it to the event queue (CD.R, STE.S2R, always for aborts
	 * and configuration errors).  rc == -EFAULT with evt_id 0 is an STE
	 * that aborts silently (Config 0b000).  A fault that would stall
	 * the transaction (CD.S, STE.S2S) is shown without Stall and STAG:
	 * an explanation never stalls.
	 */
	uint8_t evt_id;
	bool evt_recorded;
	bool evt_s2;	    /* S2: stage 2 faulted */
	uint8_t evt_class;  /* CLASS: SIO_SMMU_CLASS_* */
	uint64_t evt_input; /* InputAddr */
	uint64_t evt_ipa;   /* IPA (stage-2 faults) */
	uint64_t evt_fetch; /* FetchAddr (fetch aborts, F_WALK_EABT) */
	uint64_t evt[4];
	/* The reads in order; more than SIO_SMMU_EXPLAIN_MAX: truncated. */
	unsigned int nreads;
	bool truncated;
	struct sio_smmu_read read[SIO_SMMU_EXPLAIN_MAX];
};

/*
 * Translate @txn as a TLB miss would, and explain it into @ex.  Nothing
 * of the caches is used or filled (the configuration cache, the TLB and
 * the walk caches are left as they are), no event is recorded, nothing
 * stalls, and HTTU updates of the Access flag or dirty state are
 * computed but not written: explaining an access changes nothing.
 * Returns 0, or -EINVAL for a Translated (SIO_SMMU_TRANSLATED)
 * transaction, which nothing walks.  With SMMUEN == 0 there are no
 * reads; ex->rc and ex->res say what GBPA does.
 */
SIO_API int sio_smmu_translate_explain(struct sio_smmu *smmu,
				       const struct sio_smmu_txn *txn,
				       struct sio_smmu_explain *ex);

/* The name of event @id ("F_TRANSLATION"), or NULL if it has none. */
SIO_API const char *sio_smmu_event_name(uint8_t id);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_SMMU_H */
