/* SPDX-License-Identifier: MIT */
/*
 * The SMMUv3 driver: programs an SMMUv3 model only through its registers
 * and the structures it reads from memory, as the kernel's arm-smmu-v3
 * driver programs the hardware.
 */
#ifndef SIO_DRIVERS_ARM_SMMU_V3_H
#define SIO_DRIVERS_ARM_SMMU_V3_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <softiommu/mem.h>
#include <softiommu/pgtable.h>
#include <softiommu/smmu.h>

#include "drivers/iommu_driver.h"

/* What a StreamID's RID is attached to, for its PASIDs' sake. */
enum arm_smmu_rid {
	ARM_SMMU_RID_BLOCKED, /* abort, or a CD table terminating it */
	ARM_SMMU_RID_S1,      /* a stage-1 domain: its CD is CD 0 */
	ARM_SMMU_RID_OTHER,   /* stage 2 or nested: no CD table of ours */
};

/*
 * A StreamID as the kernel's arm_smmu_master knows it beyond its STE:
 * how many PASID bits its device may use, whether it has ATS and its
 * STE enables it, and its CD table once a PASID needed one (the
 * kernel's cd_table).  Under the device's group_lock.
 */
struct arm_smmu_stream {
	unsigned int ssid_bits;
	bool ats_supported, ats_enabled;
	enum arm_smmu_rid rid;
	struct arm_smmu_domain *rid_s1; /* with ARM_SMMU_RID_S1 */
	/* the domain whose ATS list holds the RID (NULL: none) */
	struct arm_smmu_domain *rid_ats;
	bool rid_ats_full;
	uint64_t *cdtab; /* linear CDs, or the L1CDs */
	uint64_t **l2;	 /* two levels: the leaves */
	unsigned int nr_l1, s1fmt, s1cdmax;
	unsigned int ssids_in_use; /* PASIDs other than 0 with a CD */
	bool cd_in_ste;		   /* the STE points at cdtab */
};

struct arm_smmu_device {
	struct sio_iommu_dev iommu;
	struct sio_smmu *smmu;
	struct sio_mem_bus *bus;
	struct sio_mem_pool *pool; /* queues, stream table, CDs, page tables */
	uint32_t idr[6];
	bool s1, s2;
	unsigned int oas;
	unsigned int granule; /* the smallest granule offered */
	unsigned int asid_bits, vmid_bits;

	uint64_t *strtab; /* linear, 2^strtab_log2 STEs */
	unsigned int strtab_log2;
	pthread_mutex_t lock; /* command queue, STEs, id allocators */
	uint64_t *cmdq;
	unsigned int cmdq_log2;
	unsigned long cmdq_errors; /* erroneous commands skipped (dev->lock) */
	uint64_t *evtq;
	unsigned int evtq_log2;
	uint64_t *asid_map, *vmid_map; /* allocation bitmaps */
	/*
	 * group_lock (the kernel's group mutex): what each StreamID is
	 * attached to, its CD table; taken before lock.
	 */
	pthread_mutex_t group_lock;
	struct arm_smmu_stream *streams; /* 2^strtab_log2 */

	/* the event thread (the kernel's arm_smmu_evtq_thread), if started */
	pthread_mutex_t evt_start_lock; /* starting and stopping it */
	pthread_mutex_t evt_lock;
	pthread_cond_t evt_cond;
	pthread_t evt_thread;
	bool evt_running, evt_pending, evt_stop;

	/*
	 * streams_lock (the kernel's streams_mutex): the devices a guest
	 * knows, and the host's handler, as the event thread looks them up.
	 */
	pthread_mutex_t streams_lock;
	struct arm_smmu_master *masters;
	unsigned int nr_masters, masters_cap;
	void (*evt_handler)(void *opaque, const uint64_t ev[4]);
	void *evt_opaque;
};

struct arm_vsmmu;

/*
 * An attached device as the event thread needs it (the kernel's
 * arm_smmu_master): its domain, whose iopf handler takes its stalls, and
 * for a nested domain with a vDEVICE its vmaster (the kernel's
 * arm_smmu_vmaster): the vSMMU whose user gets its events, by the vSID.
 */
struct arm_smmu_master {
	uint32_t sid;
	struct sio_iommu_domain *domain;
	struct arm_vsmmu *vsmmu; /* NULL: no vmaster */
	uint64_t vsid;
};

/*
 * A StreamID (with a PASID if @ssv) whose device may hold a domain's
 * translations in its ATC; @full: a nested device on a stage-2 parent,
 * whose ATC only a full invalidation reaches.
 */
struct arm_smmu_ats_ent {
	uint32_t sid, ssid;
	bool ssv, full;
};

/* A paging domain: stage-1 (ASID, one CD) or stage-2 (VMID) tables. */
struct arm_smmu_domain {
	struct sio_iommu_domain domain;
	struct arm_smmu_device *dev;
	unsigned int stage;
	struct sio_pgtable *pgtbl;
	struct sio_pgtable_info info;
	uint64_t *cd; /* stage 1: the one context descriptor */
	uint16_t asid, vmid;
	/* the attachments whose ATCs its unmaps reach (arm_smmu_v3_ats.c) */
	pthread_mutex_t ats_lock;
	struct arm_smmu_ats_ent *ats;
	unsigned int nr_ats, ats_cap;
};

static inline struct arm_smmu_domain *to_smmu_domain(struct sio_iommu_domain *d)
{
	return (struct arm_smmu_domain *)d;
}

/* STE.Config (section 5.2). */
/* Command opcodes and fields the driver's files share (section 4.1.1). */
#define CMD_CFGI_STE	   0x03
#define CMD_CFGI_CD	   0x05
#define CMD_CFGI_CD_ALL	   0x06
#define CMD_TLBI_NH_ALL	   0x10
#define CMD_TLBI_NH_ASID   0x11
#define CMD_TLBI_NH_VA	   0x12
#define CMD_TLBI_NH_VAA	   0x13
#define CMD_TLBI_S12_VMALL 0x28
#define CMD_TLBI_S2_IPA	   0x2a
#define CMD_TLBI_NSNH_ALL  0x30
#define CMD_ATC_INV	   0x40
#define CMD_SYNC	   0x46
#define CMD_SSV		   (1ull << 11)
#define CMD_SSID_SHIFT	   12
#define CMD_SID_SHIFT	   32
#define ATC_INV_SIZE_ALL   52 /* CMD_ATC_INV Size: the whole ATC */

/* STE word 1's EATS (section 5.2): 0b01, full ATS */
#define STE1_EATS_SHIFT 28
#define STE1_EATS_TRANS (1ull << STE1_EATS_SHIFT)

#define STE_CFG_ABORT  0x0
#define STE_CFG_BYPASS 0x4
#define STE_CFG_S1     0x5
#define STE_CFG_S2     0x6
#define STE_CFG_NESTED 0x7

/* Set bits [lo, lo + width) of a little-endian multi-word structure. */
static inline void arm_smmu_set_bits(uint64_t *s, unsigned int lo,
				     unsigned int width, uint64_t v)
{
	for (unsigned int i = 0; i < width; i++) {
		unsigned int b = lo + i;
		uint64_t bit = (v >> i) & 1;

		s[b / 64] = (s[b / 64] & ~(1ull << (b % 64))) |
			    (bit << (b % 64));
	}
}

/* The 8 words of an STE that aborts every transaction without an event. */
void arm_smmu_make_abort_ste(uint64_t *ste);
/* The STE of a device attached to the stage-2 domain @sd. */
void arm_smmu_make_s2_domain_ste(uint64_t *ste, struct arm_smmu_domain *sd);
/* Write @ste as the StreamID's, with CFGI_STE + CMD_SYNC; -EINVAL, -EIO. */
int arm_smmu_install_ste(struct arm_smmu_device *dev, uint32_t sid,
			 const uint64_t *ste);
/*
 * The StreamID's STE now enables ATS if @ats: its device's ATC is
 * invalidated whenever the old or the new translation used ATS.
 * group_lock held.
 */
void arm_smmu_ats_commit(struct arm_smmu_device *dev, uint32_t sid,
			 struct arm_smmu_stream *st, bool ats);
/* Stage 1 and stage 2 both (the kernel's ARM_SMMU_FEAT_NESTING). */
bool arm_smmu_nesting_capable(struct arm_smmu_device *dev);

/*
 * Commands a batch carries at most before its CMD_SYNC: the kernel's
 * CMDQ_BATCH_ENTRIES - 1 on a 64-bit machine.
 */
#define ARM_SMMU_CMDQ_BATCH 63
/*
 * Issue @n commands and a CMD_SYNC, and wait for them; a command the
 * SMMU refuses is skipped (the kernel's arm_smmu_cmdq_skip_err()).
 * 0, -EINVAL for a batch over ARM_SMMU_CMDQ_BATCH, -EIO.
 */
int arm_smmu_cmdq_issue_cmdlist(struct arm_smmu_device *dev,
				const uint64_t (*cmds)[2], unsigned int n);

/*
 * Record what the StreamID is attached to, for the event thread: @domain
 * NULL when blocked; @vsmmu NULL without a vmaster (a paging domain, a
 * nested one without a vDEVICE).  Once it returns, no event is handed to
 * what was recorded before.  With @prev, what was recorded (domain NULL:
 * nothing), for arm_smmu_restore_master() if the attach then fails.
 */
int arm_smmu_set_master(struct arm_smmu_device *dev, uint32_t sid,
			struct sio_iommu_domain *domain,
			struct arm_vsmmu *vsmmu, uint64_t vsid,
			struct arm_smmu_master *prev);
void arm_smmu_restore_master(struct arm_smmu_device *dev,
			     const struct arm_smmu_master *prev);

/*
 * What attaching a domain makes of a StreamID's RID, for
 * arm_smmu_attach_rid(): the event thread's record of it (@domain,
 * @vsmmu, @vsid as arm_smmu_set_master() takes them), the domain whose
 * ATS list takes it (@ats_full as arm_smmu_rid_ats_prepare() says; NULL:
 * none), what it is attached to (@rid_s1 with ARM_SMMU_RID_S1), whether
 * @rid_s1's CD becomes CD 0 of the stream's CD table, which the STE
 * then points at (@cd0), and whether the STE enables ATS.
 */
struct arm_smmu_rid_attach {
	struct sio_iommu_domain *domain;
	struct arm_vsmmu *vsmmu;
	uint64_t vsid;
	struct arm_smmu_domain *ats_domain;
	bool ats_full;
	enum arm_smmu_rid rid;
	struct arm_smmu_domain *rid_s1;
	bool cd0;
	bool ats;
};
/*
 * Attach as @a says, with @ste as the StreamID's new STE, group_lock
 * held: on @a->ats_domain's ATS list first, then the event thread's
 * record, CD 0 and the STE; once the STE is live, off the old domain's
 * ATS list and the ATC invalidated.  On a failure everything is as it
 * was, the RID translating through its old domain.  0 or -errno.
 */
int arm_smmu_attach_rid(struct arm_smmu_device *dev, uint32_t sid,
			struct arm_smmu_stream *st, const uint64_t *ste,
			const struct arm_smmu_rid_attach *a);
/*
 * Run the event thread (once started it stays until remove): events
 * then reach vEVENTQs and the handler, no longer arm_smmu_read_events().
 */
int arm_smmu_events_start(struct arm_smmu_device *dev);

/* arm_smmu_v3_pasid.c: CD tables and PASIDs. */
struct arm_smmu_stream *arm_smmu_stream(struct arm_smmu_device *dev,
					uint32_t sid);
unsigned int arm_smmu_probe_device(struct sio_iommu_dev *iommu, uint32_t sid,
				   const struct sio_iommu_pci_caps *caps);
bool arm_smmu_ssids_in_use(const struct arm_smmu_stream *st);
/* The STE of a CD table: S1DSS @s1dss, EATS full ATS if @ats. */
void arm_smmu_make_cdtable_ste(uint64_t *ste, const struct arm_smmu_stream *st,
			       unsigned int s1dss, bool ats);
/* CD 0 of the stream's table: @sd's CD, or invalid for NULL. */
int arm_smmu_set_rid_cd(struct arm_smmu_device *dev, uint32_t sid,
			struct arm_smmu_stream *st, struct arm_smmu_domain *sd);
int arm_smmu_set_dev_pasid(struct sio_iommu_domain *d, uint32_t sid,
			   uint32_t pasid, struct sio_iommu_domain *old);
int arm_smmu_block_dev_pasid(struct sio_iommu_dev *iommu, uint32_t sid,
			     uint32_t pasid, struct sio_iommu_domain *old);
/* CMD_ATC_INV of everything the device's ATC holds (for @ssid if @ssv). */
int arm_smmu_atc_inv_master(struct arm_smmu_device *dev, uint32_t sid, bool ssv,
			    uint32_t ssid);
void arm_smmu_streams_free(struct arm_smmu_device *dev);

/* arm_smmu_v3_ats.c: the ATCs a domain's changes must reach. */
void arm_smmu_domain_ats_init(struct arm_smmu_domain *sd);
void arm_smmu_domain_ats_destroy(struct arm_smmu_domain *sd);
int arm_smmu_domain_ats_add(struct arm_smmu_domain *sd, uint32_t sid, bool ssv,
			    uint32_t ssid, bool full);
void arm_smmu_domain_ats_del(struct arm_smmu_domain *sd, uint32_t sid, bool ssv,
			     uint32_t ssid, bool full);
/*
 * CMD_ATC_INV of the StreamID's ATC (only @ssid's entries if @ssv) for
 * the 2^@log2 pages at @addr, as its Size field encodes a span;
 * @addr 0 and ATC_INV_SIZE_ALL: everything.  Into @cmd[0..1].
 */
void arm_smmu_make_atc_inv_cmd(uint64_t *cmd, uint32_t sid, bool ssv,
			       uint32_t ssid, uint64_t addr, unsigned int log2);
/*
 * After a TLB invalidation of [iova, iova + size) (size 0: all) and its
 * CMD_SYNC: CMD_ATC_INV to every ATS-enabled attachment, + CMD_SYNC.
 */
int arm_smmu_atc_inv_domain(struct arm_smmu_domain *sd, uint64_t iova,
			    uint64_t size);
/*
 * Moving a device's RID to @sd (@full: a nested device on the stage-2
 * parent @sd; NULL: blocked), for a device with ATS, group_lock held:
 * prepare puts it on @sd's list before the STE changes (0 or -ENOMEM),
 * abort takes it off again if the STE could not be installed, commit
 * takes it off the list it was on before.
 */
int arm_smmu_rid_ats_prepare(struct arm_smmu_stream *st, uint32_t sid,
			     struct arm_smmu_domain *sd, bool full);
void arm_smmu_rid_ats_abort(struct arm_smmu_stream *st, uint32_t sid,
			    struct arm_smmu_domain *sd, bool full);
void arm_smmu_rid_ats_commit(struct arm_smmu_stream *st, uint32_t sid,
			     struct arm_smmu_domain *sd, bool full);

/* arm_smmu_v3_iommufd.c: the vSMMU and its nested domains. */
bool arm_vsmmu_supported(struct sio_iommu_dev *iommu, uint32_t sid,
			 uint32_t type);
int arm_vsmmu_alloc(struct sio_iommu_dev *iommu,
		    struct sio_iommu_domain *parent, uint32_t type,
		    struct sio_iommu_viommu **out);
/* Forward an event of a guest's device to its vSMMU's user; 0 or -errno. */
int arm_vmaster_report_event(const struct arm_smmu_master *master,
			     const uint64_t ev[4]);

/* Bring up @smmu: stream table (all STEs abort), queues, SMMUEN. */
int arm_smmu_probe(struct sio_smmu *smmu, struct sio_mem_bus *bus,
		   struct arm_smmu_device **out);
void arm_smmu_remove(struct arm_smmu_device *dev);
/* Copy out up to @max pending event records; returns how many. */
int arm_smmu_read_events(struct arm_smmu_device *dev, uint64_t (*ev)[4],
			 int max);

/*
 * Hand every event record to @fn as the SMMU raises its event-queue
 * interrupt, from a thread of the driver's (the kernel logs them from
 * its evtq thread).  Once per device; the records no longer reach
 * arm_smmu_read_events().  0 or -errno.
 */
int arm_smmu_set_event_handler(struct arm_smmu_device *dev,
			       void (*fn)(void *opaque, const uint64_t ev[4]),
			       void *opaque);

#endif /* SIO_DRIVERS_ARM_SMMU_V3_H */
