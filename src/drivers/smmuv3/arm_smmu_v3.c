// SPDX-License-Identifier: MIT
/*
 * The SMMUv3 driver.  Like the kernel's arm-smmu-v3: it reads the ID
 * registers, allocates a linear stream table whose entries start as
 * abort (no bypass for unattached devices), a command and an event
 * queue, and enables translation; paging domains are stage-1 LPAE tables
 * behind one context descriptor, or stage-2 tables with a VMID for
 * NEST_PARENT; attaching rewrites the device's STE and issues CFGI_STE +
 * CMD_SYNC; unmapping issues a TLBI for the domain's ASID or VMID and
 * CMD_SYNC before it returns, so no DMA reaches an unmapped page.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "arm_smmu_v3.h"

/* Registers (section 6.3). */
#define IDR0		    0x00
#define IDR1		    0x04
#define IDR5		    0x14
#define CR0		    0x20
#define CR0ACK		    0x24
#define CR1		    0x28
#define GERROR		    0x60
#define GERRORN		    0x64
#define STRTAB_BASE	    0x80
#define STRTAB_BASE_CFG	    0x88
#define CMDQ_BASE	    0x90
#define CMDQ_PROD	    0x98
#define CMDQ_CONS	    0x9c
#define EVENTQ_BASE	    0xa0
#define EVENTQ_PROD	    0x100a8
#define IRQ_CTRL	    0x50
#define IRQ_CTRLACK	    0x54
#define IRQ_CTRL_EVTQ_IRQEN (1u << 2)
#define EVENTQ_CONS	    0x100ac

#define CR0_SMMUEN   (1u << 0)
#define CR0_EVENTQEN (1u << 2)
#define CR0_CMDQEN   (1u << 3)

/* Command opcodes (section 4.1.1). */

#define STRTAB_MAX_LOG2 10 /* 1024 StreamIDs: 64 KiB of STEs */

static uint64_t field(uint32_t reg, unsigned int lo, unsigned int width)
{
	return (reg >> lo) & ((1u << width) - 1);
}

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* CMDQ_CONS.ERR: why the queue stopped (section 4.8.4). */
#define CONS_ERR(c)	    (((c) >> 24) & 0x7f)
#define CERROR_ABT	    2
#define CERROR_ATC_INV_SYNC 3

/*
 * The queue stopped at CONS on an erroneous command (GERROR.CMDQ_ERR):
 * the kernel's arm_smmu_cmdq_skip_err().  An illegal command is turned
 * into a CMD_SYNC in place; a fetch abort is retried; a CMD_SYNC whose
 * ATC invalidations did not complete is retried as it is.  Then the
 * error is acknowledged and the SMMU goes on from CONS.  So a command
 * the hardware refuses (one a guest sent through its vIOMMU, say) costs
 * that command only, never the queue.
 */
static void cmdq_skip_err(struct arm_smmu_device *dev)
{
	uint32_t cons = sio_smmu_read32(dev->smmu, CMDQ_CONS);
	uint32_t idx = cons & ((1u << dev->cmdq_log2) - 1);
	unsigned int err = CONS_ERR(cons);

	if (err != CERROR_ABT && err != CERROR_ATC_INV_SYNC) {
		__atomic_store_n(&dev->cmdq[2 * idx], CMD_SYNC,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&dev->cmdq[2 * idx + 1], 0, __ATOMIC_RELAXED);
	}
	dev->cmdq_errors++;
	sio_smmu_write32(dev->smmu, GERRORN,
			 sio_smmu_read32(dev->smmu, GERROR));
}

/*
 * Issue commands and wait for them: the model consumes the queue when
 * PROD moves.  Called with dev->lock held.  0 once the SMMU consumed
 * them all, erroneous ones skipped; -EIO if it could not be made to.
 */
static int cmdq_issue(struct arm_smmu_device *dev, const uint64_t (*cmds)[2],
		      unsigned int n)
{
	uint32_t wrap_mask = (2u << dev->cmdq_log2) - 1;
	uint32_t idx_mask = (1u << dev->cmdq_log2) - 1;
	uint32_t prod = sio_smmu_read32(dev->smmu, CMDQ_PROD);

	/* the batches here are a few commands; the queue holds 2^log2 */
	if (n >= (1u << dev->cmdq_log2))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		uint32_t idx = prod & idx_mask;

		__atomic_store_n(&dev->cmdq[2 * idx], cmds[i][0],
				 __ATOMIC_RELAXED);
		__atomic_store_n(&dev->cmdq[2 * idx + 1], cmds[i][1],
				 __ATOMIC_RELAXED);
		prod = (prod & ~wrap_mask) | ((prod + 1) & wrap_mask);
	}
	/* the SMMU consumes what PROD publishes, CMD_SYNC last */
	sio_smmu_write32(dev->smmu, CMDQ_PROD, prod);
	for (unsigned int tries = 0; tries <= n; tries++) {
		if ((sio_smmu_read32(dev->smmu, CMDQ_CONS) & wrap_mask) ==
		    (prod & wrap_mask))
			return 0;
		if (!((sio_smmu_read32(dev->smmu, GERROR) ^
		       sio_smmu_read32(dev->smmu, GERRORN)) &
		      1))
			return -EIO; /* stopped for another reason */
		cmdq_skip_err(dev);
	}
	return -EIO;
}

int arm_smmu_cmdq_issue_cmdlist(struct arm_smmu_device *dev,
				const uint64_t (*cmds)[2], unsigned int n)
{
	uint64_t batch[ARM_SMMU_CMDQ_BATCH + 1][2];
	int rc;

	if (n > ARM_SMMU_CMDQ_BATCH)
		return -EINVAL;
	memcpy(batch, cmds, n * sizeof(batch[0]));
	batch[n][0] = CMD_SYNC;
	batch[n][1] = 0;
	pthread_mutex_lock(&dev->lock);
	rc = cmdq_issue(dev, batch, n + 1);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

static int cmd_sync_one(struct arm_smmu_device *dev, uint64_t d0, uint64_t d1)
{
	const uint64_t cmds[2][2] = {{d0, d1}, {CMD_SYNC, 0}};

	return cmdq_issue(dev, cmds, 2);
}

static uint64_t *ste_of(struct arm_smmu_device *dev, uint32_t sid)
{
	return dev->strtab + 8 * (size_t)sid;
}

/*
 * Replace a live STE so the SMMU only ever fetches the old or the new one,
 * as the kernel's arm_smmu_write_entry() does.  One 64-bit store is
 * single-copy atomic, so when a single word changes it is stored alone:
 * a hitless update (a replace between stage-1 domains changes only
 * S1ContextPtr).  When the current STE is abort or invalid, none of its
 * other words are used: write them, then word 0.  Otherwise break before
 * make: abort, CFGI + SYNC, then the new STE.
 */
static int ste_write(struct arm_smmu_device *dev, uint32_t sid,
		     const uint64_t *ste)
{
	uint64_t *dst = ste_of(dev, sid);
	uint64_t abort_w0 = 1 | (STE_CFG_ABORT << 1);
	uint64_t cur0 = __atomic_load_n(&dst[0], __ATOMIC_RELAXED);
	uint64_t cfgi = CMD_CFGI_STE | ((uint64_t)sid << 32);
	int changed = 0, last = -1, rc;

	for (int i = 0; i < 8; i++)
		if (__atomic_load_n(&dst[i], __ATOMIC_RELAXED) != ste[i]) {
			changed++;
			last = i;
		}
	if (!changed)
		return 0;
	if (changed == 1) {
		__atomic_store_n(&dst[last], ste[last], __ATOMIC_RELEASE);
		return cmd_sync_one(dev, cfgi, 1);
	}
	/* V=0, or V=1 with Config abort (0b000): only word 0 is in use */
	if ((cur0 & 1) && ((cur0 >> 1) & 7) != 0) {
		__atomic_store_n(&dst[0], abort_w0, __ATOMIC_RELEASE);
		rc = cmd_sync_one(dev, cfgi, 1);
		if (rc)
			return rc;
	}
	for (int i = 1; i < 8; i++)
		__atomic_store_n(&dst[i], ste[i], __ATOMIC_RELAXED);
	__atomic_store_n(&dst[0], ste[0], __ATOMIC_RELEASE);
	return cmd_sync_one(dev, cfgi, 1);
}

/* Lowest free id from 1 in a bitmap of 2^bits. */
static int id_alloc(uint64_t *map, unsigned int bits)
{
	for (uint32_t id = 1; id < (1u << bits); id++) {
		if (!(map[id / 64] & (1ull << (id % 64)))) {
			map[id / 64] |= 1ull << (id % 64);
			return (int)id;
		}
	}
	return -ENOSPC;
}

static void id_free(uint64_t *map, uint32_t id)
{
	map[id / 64] &= ~(1ull << (id % 64));
}

static unsigned int to_pgt_prot(int prot)
{
	unsigned int p = 0;

	if (prot & SIO_IOMMU_READ)
		p |= SIO_PROT_READ;
	if (prot & SIO_IOMMU_WRITE)
		p |= SIO_PROT_WRITE;
	if (prot & SIO_IOMMU_CACHE)
		p |= SIO_PROT_CACHE;
	return p;
}

static int domain_map(struct sio_iommu_domain *d, uint64_t iova, uint64_t pa,
		      uint64_t size, int prot)
{
	return sio_pgtable_map(to_smmu_domain(d)->pgtbl, iova, pa, size,
			       to_pgt_prot(prot));
}

/* Invalidate everything the domain's tag may have cached, and wait. */
static int domain_flush(struct arm_smmu_domain *sd)
{
	struct arm_smmu_device *dev = sd->dev;
	uint64_t cmd;
	int rc, irc;

	if (sd->stage == SIO_PGT_STAGE1)
		cmd = CMD_TLBI_NH_ASID | ((uint64_t)sd->asid << 48);
	else
		cmd = CMD_TLBI_S12_VMALL | ((uint64_t)sd->vmid << 32);
	pthread_mutex_lock(&dev->lock);
	rc = cmd_sync_one(dev, cmd, 0);
	pthread_mutex_unlock(&dev->lock);
	/* then the devices' ATCs, which the TLB may have refilled */
	irc = arm_smmu_atc_inv_domain(sd, 0, 0);
	return rc ? rc : irc;
}

/* Without range invalidation, this many pages get a TLBI each, no more. */
#define TLBI_MAX_PAGES	   16
#define TLBI_RANGE_NUM_MAX 31

/*
 * Invalidate [start, last] of the domain, as the kernel's
 * __arm_smmu_tlb_inv_range(): with IDR3.RIL, range commands each
 * covering NUM+1 chunks of 2^SCALE granules, at most a dozen for any
 * range; without it one command per granule, or the whole ASID/VMID when
 * that would be many.  @leaf: only leaf entries changed (no table was
 * freed), so walk caches may stay.
 */
static int domain_flush_range(struct arm_smmu_domain *sd, uint64_t start,
			      uint64_t last, bool leaf)
{
	struct arm_smmu_device *dev = sd->dev;
	unsigned int tg_shift =
		(unsigned int)__builtin_ctzll(sd->info.pgsize_bitmap);
	uint64_t pages = ((last - start) >> tg_shift) + 1;
	bool ril = field(dev->idr[3], 10, 1);
	uint64_t cmds[TLBI_MAX_PAGES + 3][2], w0, w1,
		iova = start & ~((1ull << tg_shift) - 1);
	unsigned int n = 0;
	int rc, irc;

	if (!ril && pages > TLBI_MAX_PAGES)
		return domain_flush(sd);
	if (sd->stage == SIO_PGT_STAGE1)
		w0 = CMD_TLBI_NH_VA | ((uint64_t)sd->asid << 48);
	else
		w0 = CMD_TLBI_S2_IPA | ((uint64_t)sd->vmid << 32);
	w1 = leaf ? 1 : 0;
	if (ril) {
		/* TG: 4K 1, 16K 2, 64K 3 */
		w1 |= (uint64_t)((tg_shift - 10) / 2) << 10;
		/*
		 * TTL stays 0 (any level): one range may hold leaves of
		 * several sizes.  NUM == SCALE == TTL == 0 is reserved, so a
		 * lone chunk of one granule grows to two, as the kernel's
		 * non-leaf ranges do.
		 */
		if ((pages & TLBI_RANGE_NUM_MAX) == 1)
			pages++;
	}
	while (pages) {
		uint64_t c0 = w0, chunk = 1;

		if (ril) {
			unsigned int scale =
				(unsigned int)__builtin_ctzll(pages);
			uint64_t num = (pages >> scale) & TLBI_RANGE_NUM_MAX;

			c0 |= ((num - 1) << 12) | ((uint64_t)scale << 20);
			chunk = num << scale;
		}
		cmds[n][0] = c0;
		cmds[n][1] = w1 | (iova & ~0xfffull);
		n++;
		pages -= chunk;
		iova += chunk << tg_shift;
	}
	/*
	 * A nest parent's IPAs are cached in the combined stage-1 + stage-2
	 * entries of every nested domain on its VMID too: the kernel's
	 * driver drops them all with TLBI_NH_ALL after the IPA range.
	 */
	if (sd->domain.flags & SIO_DOMAIN_NEST_PARENT) {
		cmds[n][0] = CMD_TLBI_NH_ALL | ((uint64_t)sd->vmid << 32);
		cmds[n][1] = 0;
		n++;
	}
	cmds[n][0] = CMD_SYNC;
	cmds[n][1] = 0;
	pthread_mutex_lock(&dev->lock);
	rc = cmdq_issue(dev, cmds, n + 1);
	pthread_mutex_unlock(&dev->lock);
	/*
	 * The kernel's arm_smmu_atc_inv_domain() after the TLBI's sync: an
	 * ATS request racing the unmap may have refilled an ATC from the
	 * TLB until then.
	 */
	irc = arm_smmu_atc_inv_domain(sd, start, last - start + 1);
	return rc ? rc : irc;
}

static int domain_unmap(struct sio_iommu_domain *d, uint64_t iova,
			uint64_t size, uint64_t *unmapped)
{
	struct arm_smmu_domain *sd = to_smmu_domain(d);
	struct sio_pgtable_gather g = SIO_PGTABLE_GATHER_INIT;
	int rc, frc;

	rc = sio_pgtable_unmap(sd->pgtbl, iova, size, unmapped, &g);
	/*
	 * Whatever went, the TLB must forget before the tables are reused.
	 * The gather spans whole freed tables; the unmapped range is enough:
	 * every freed table held a leaf in it, so a non-leaf invalidation of
	 * the range reaches the walk entries of every freed table.
	 */
	frc = 0;
	if (g.valid) {
		uint64_t first = iova > g.start ? iova : g.start;
		uint64_t last = iova + (size - 1) < g.last ? iova + (size - 1)
							   : g.last;

		frc = domain_flush_range(sd, first, last, !g.tables_freed);
	}
	sio_pgtable_gather_finish(sd->pgtbl, &g);
	return rc ? rc : frc;
}

static int domain_iova_to_phys(struct sio_iommu_domain *d, uint64_t iova,
			       uint64_t *pa)
{
	return sio_pgtable_iova_to_phys(to_smmu_domain(d)->pgtbl, iova, pa);
}

static void domain_free(struct sio_iommu_domain *d)
{
	struct arm_smmu_domain *sd = to_smmu_domain(d);
	struct arm_smmu_device *dev = sd->dev;

	sio_pgtable_destroy(sd->pgtbl);
	sio_mem_pool_free(dev->pool, sd->cd);
	arm_smmu_domain_ats_destroy(sd);
	pthread_mutex_lock(&dev->lock);
	if (sd->stage == SIO_PGT_STAGE1)
		id_free(dev->asid_map, sd->asid);
	else
		id_free(dev->vmid_map, sd->vmid);
	pthread_mutex_unlock(&dev->lock);
	free(sd);
}

/*
 * HTTU keeps dirty state in the descriptors all the time, so there is
 * nothing to switch: iommufd cleans the table before it enables
 * tracking, which is all "enable" means (as in the kernel's driver).
 */
static int domain_set_dirty_tracking(struct sio_iommu_domain *d, bool enable)
{
	(void)d;
	(void)enable;
	return 0;
}

static int domain_read_and_clear_dirty(struct sio_iommu_domain *d,
				       const struct sio_dirty_bitmap *bm,
				       unsigned int flags)
{
	struct arm_smmu_domain *sd = to_smmu_domain(d);
	struct sio_dirty_bitmap clean;
	uint64_t scratch[64];
	int rc;

	/* a clean without a bitmap: the walker records into a scratch one */
	if (!bm->bits) {
		clean = *bm;
		clean.bits = scratch;
		if (clean.length > clean.pgsize * 64 * 64)
			return -EINVAL;
		bm = &clean;
	}
	rc = sio_pgtable_read_and_clear_dirty(sd->pgtbl, bm, flags);
	if (rc || (flags & SIO_DIRTY_NO_CLEAR))
		return rc;
	/* a cached writable-dirty entry would let the next write go unseen */
	return domain_flush_range(sd, bm->iova, bm->iova + bm->length - 1,
				  true);
}

static const struct sio_iommu_domain_ops arm_smmu_domain_ops = {
	.map = domain_map,
	.unmap = domain_unmap,
	.iova_to_phys = domain_iova_to_phys,
	.free = domain_free,
	.set_dev_pasid = arm_smmu_set_dev_pasid,
};

static const struct sio_iommu_domain_ops arm_smmu_dirty_domain_ops = {
	.map = domain_map,
	.unmap = domain_unmap,
	.iova_to_phys = domain_iova_to_phys,
	.free = domain_free,
	.set_dirty_tracking = domain_set_dirty_tracking,
	.read_and_clear_dirty = domain_read_and_clear_dirty,
	.set_dev_pasid = arm_smmu_set_dev_pasid,
};

/* A context descriptor for a stage-1 table in TTB0 (section 5.4). */
static void cd_build(uint64_t *cd, const struct sio_pgtable_info *in,
		     uint16_t asid, bool hd)
{
	uint64_t w[8] = {0};

	arm_smmu_set_bits(w, 0, 6, in->tsz);	     /* T0SZ */
	arm_smmu_set_bits(w, 6, 2, in->tg);	     /* TG0 */
	arm_smmu_set_bits(w, 8, 2, 1);		     /* IR0: write-back */
	arm_smmu_set_bits(w, 10, 2, 1);		     /* OR0 */
	arm_smmu_set_bits(w, 12, 2, 3);		     /* SH0: inner shareable */
	arm_smmu_set_bits(w, 30, 1, 1);		     /* EPD1: no TTB1 walks */
	arm_smmu_set_bits(w, 32, 3, in->ps);	     /* IPS */
	arm_smmu_set_bits(w, 41, 1, 1);		     /* AA64 */
	arm_smmu_set_bits(w, 42, 1, hd);	     /* HD */
	arm_smmu_set_bits(w, 43, 1, hd);	     /* HA */
	arm_smmu_set_bits(w, 45, 1, 1);		     /* R: record faults */
	arm_smmu_set_bits(w, 46, 1, 1);		     /* A: abort on fault */
	arm_smmu_set_bits(w, 48, 16, asid);	     /* ASID */
	arm_smmu_set_bits(w, 68, 48, in->root >> 4); /* TTB0[51:4] */
	arm_smmu_set_bits(w, 192, 64, in->mair);     /* MAIR */
	for (int i = 1; i < 8; i++)
		__atomic_store_n(&cd[i], w[i], __ATOMIC_RELAXED);
	arm_smmu_set_bits(w, 31, 1, 1); /* V, written last */
	__atomic_store_n(&cd[0], w[0], __ATOMIC_RELEASE);
}

/* HTTU with dirty state (IDR0.HTTU == 2) on coherent walks (COHACC). */
static bool arm_smmu_dbm_capable(struct arm_smmu_device *dev)
{
	return field(dev->idr[0], 6, 2) == 2 && field(dev->idr[0], 4, 1);
}

static int arm_smmu_domain_alloc_paging(struct sio_iommu_dev *iommu,
					unsigned int flags,
					struct sio_iommu_domain **out)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	bool s2 = flags & SIO_DOMAIN_NEST_PARENT;
	bool hd = flags & SIO_DOMAIN_DIRTY_TRACKING;
	struct sio_pgtable_cfg cfg = {
		.granule = dev->granule,
		.oas = dev->oas,
		.region = SIO_PGT_TTB0,
		.start_level = SIO_PGT_START_AUTO,
		.flags = hd ? SIO_PGT_F_HD : 0,
		.pool = dev->pool,
	};
	struct arm_smmu_domain *sd;
	int id, rc;

	/*
	 * The kernel's choices: NEST_PARENT is a stage-2 domain, dirty
	 * tracking a stage-1 one, and the two together are refused.
	 */
	if (flags & ~(SIO_DOMAIN_NEST_PARENT | SIO_DOMAIN_DIRTY_TRACKING |
		      SIO_DOMAIN_PASID) ||
	    (s2 && (flags & ~SIO_DOMAIN_NEST_PARENT)))
		return -EOPNOTSUPP;
	if (hd && (!dev->s1 || !arm_smmu_dbm_capable(dev)))
		return -EOPNOTSUPP;
	if ((s2 && !dev->s2) || (!s2 && !dev->s1 && !dev->s2))
		return -EOPNOTSUPP;
	/* PASIDs need stage 1 (context descriptors) */
	if ((flags & SIO_DOMAIN_PASID) && !dev->s1)
		return -EOPNOTSUPP;
	/* without stage 1 a plain paging domain is a stage-2 one */
	if (!s2 && !dev->s1)
		s2 = true;
	sd = sio_calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	arm_smmu_domain_ats_init(sd);
	sd->dev = dev;
	sd->stage = s2 ? SIO_PGT_STAGE2 : SIO_PGT_STAGE1;
	cfg.stage = sd->stage;
	/* stage 1 takes 48-bit VAs; stage 2 IPAs up to the OAS */
	cfg.ias = s2 ? (dev->oas < 48 ? dev->oas : 48) : 48;
	rc = sio_pgtable_create(&cfg, dev->bus, &sd->pgtbl);
	if (rc)
		goto err_free;
	sio_pgtable_get_info(sd->pgtbl, &sd->info);

	pthread_mutex_lock(&dev->lock);
	id = s2 ? id_alloc(dev->vmid_map, dev->vmid_bits)
		: id_alloc(dev->asid_map, dev->asid_bits);
	pthread_mutex_unlock(&dev->lock);
	if (id < 0) {
		rc = id;
		goto err_pgtbl;
	}
	if (s2) {
		sd->vmid = (uint16_t)id;
	} else {
		sd->asid = (uint16_t)id;
		sd->cd = sio_mem_pool_alloc(dev->pool, 4096);
		if (!sd->cd) {
			rc = -ENOMEM;
			pthread_mutex_lock(&dev->lock);
			id_free(dev->asid_map, sd->asid);
			pthread_mutex_unlock(&dev->lock);
			goto err_pgtbl;
		}
		cd_build(sd->cd, &sd->info, sd->asid, hd);
	}
	sd->domain.ops = hd ? &arm_smmu_dirty_domain_ops : &arm_smmu_domain_ops;
	sd->domain.iommu = iommu;
	sd->domain.pgsize_bitmap = sd->info.pgsize_bitmap;
	sd->domain.aperture_start = sd->info.input_base;
	sd->domain.aperture_last = sd->info.input_last;
	sd->domain.flags = flags;
	*out = &sd->domain;
	return 0;
err_pgtbl:
	sio_pgtable_destroy(sd->pgtbl);
err_free:
	arm_smmu_domain_ats_destroy(sd);
	free(sd);
	return rc;
}

static bool sid_valid(struct arm_smmu_device *dev, uint32_t sid)
{
	return sid < (1u << dev->strtab_log2);
}

void arm_smmu_make_abort_ste(uint64_t *ste)
{
	memset(ste, 0, 8 * sizeof(*ste));
	ste[0] = 1 | (STE_CFG_ABORT << 1);
}

void arm_smmu_make_s2_domain_ste(uint64_t *ste, struct arm_smmu_domain *sd)
{
	memset(ste, 0, 8 * sizeof(*ste));
	arm_smmu_set_bits(ste, 0, 1, 1); /* V */
	arm_smmu_set_bits(ste, 1, 3, STE_CFG_S2);
	arm_smmu_set_bits(ste, 128, 16, sd->vmid);	     /* S2VMID */
	arm_smmu_set_bits(ste, 160, 6, sd->info.tsz);	     /* S2T0SZ */
	arm_smmu_set_bits(ste, 166, 2, sd->info.sl0);	     /* S2SL0 */
	arm_smmu_set_bits(ste, 168, 2, 1);		     /* S2IR0 */
	arm_smmu_set_bits(ste, 170, 2, 1);		     /* S2OR0 */
	arm_smmu_set_bits(ste, 172, 2, 3);		     /* S2SH0 */
	arm_smmu_set_bits(ste, 174, 2, sd->info.tg);	     /* S2TG */
	arm_smmu_set_bits(ste, 176, 3, sd->info.ps);	     /* S2PS */
	arm_smmu_set_bits(ste, 179, 1, 1);		     /* S2AA64 */
	arm_smmu_set_bits(ste, 182, 1, 1);		     /* S2PTW */
	arm_smmu_set_bits(ste, 186, 1, 1);		     /* S2R */
	arm_smmu_set_bits(ste, 196, 48, sd->info.root >> 4); /* S2TTB */
	if (sd->domain.flags & SIO_DOMAIN_DIRTY_TRACKING) {
		arm_smmu_set_bits(ste, 183, 1, 1); /* S2HD */
		arm_smmu_set_bits(ste, 184, 1, 1); /* S2HA */
	}
}

static void make_cdtable_ste(uint64_t *ste, struct arm_smmu_domain *sd)
{
	memset(ste, 0, 8 * sizeof(*ste));
	arm_smmu_set_bits(ste, 0, 1, 1); /* V */
	arm_smmu_set_bits(ste, 1, 3, STE_CFG_S1);
	arm_smmu_set_bits(ste, 6, 50, pa_of(sd->cd) >> 6); /* S1ContextPtr */
	arm_smmu_set_bits(ste, 66, 2, 1); /* S1CIR: write-back */
	arm_smmu_set_bits(ste, 68, 2, 1); /* S1COR */
	arm_smmu_set_bits(ste, 70, 2, 3); /* S1CSH */
}

int arm_smmu_install_ste(struct arm_smmu_device *dev, uint32_t sid,
			 const uint64_t *ste)
{
	int rc;

	if (!sid_valid(dev, sid))
		return -EINVAL;
	pthread_mutex_lock(&dev->lock);
	rc = ste_write(dev, sid, ste);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

void arm_smmu_ats_commit(struct arm_smmu_device *dev, uint32_t sid,
			 struct arm_smmu_stream *st, bool ats)
{
	/*
	 * The kernel's arm_smmu_attach_commit(): the translation changed,
	 * so the ATC forgets what it holds, before ATS is enabled and
	 * after it is disabled or the domain under it replaced.
	 */
	if (st->ats_enabled || ats)
		arm_smmu_atc_inv_master(dev, sid, false, 0);
	__atomic_store_n(&st->ats_enabled, ats, __ATOMIC_RELEASE);
}

/*
 * The STE of a RID on a paging domain.  With a CD table in use (PASIDs,
 * or one there since), a stage-1 domain's CD becomes CD 0 of the table,
 * which non-PASID transactions use (S1DSS 0b10): the caller writes it
 * (arm_smmu_attach_rid()); a stage-2 domain has no CDs and would leave the
 * PASIDs nowhere: -EBUSY, as the kernel's arm_smmu_attach_dev() says while
 * SSIDs are in use.
 */
static int rid_paging_ste(struct arm_smmu_domain *sd,
			  struct arm_smmu_stream *st, uint64_t *ste)
{
	if (sd->stage != SIO_PGT_STAGE1) {
		if (arm_smmu_ssids_in_use(st))
			return -EBUSY;
		arm_smmu_make_s2_domain_ste(ste, sd);
	} else if (!st->cdtab) {
		make_cdtable_ste(ste, sd);
	} else {
		arm_smmu_make_cdtable_ste(ste, st, 2 /* S1DSS: substream 0 */,
					  false);
	}
	/* paging domains use ATS wherever the device has it (the kernel) */
	if (st->ats_supported)
		ste[1] |= STE1_EATS_TRANS;
	return 0;
}

/*
 * The event thread's record, CD 0 and the STE, in that order.  CD 0 only
 * once nothing else can fail but the STE, and back to the RID's domain
 * before (NULL: cleared) if that does: a failed attach leaves the RID
 * translating as it did, not through a domain its caller is about to
 * free.
 */
static int attach_rid_install(struct arm_smmu_device *dev, uint32_t sid,
			      struct arm_smmu_stream *st, const uint64_t *ste,
			      const struct arm_smmu_rid_attach *a)
{
	struct arm_smmu_master prev;
	int rc;

	rc = arm_smmu_set_master(dev, sid, a->domain, a->vsmmu, a->vsid, &prev);
	if (rc)
		return rc;
	if (a->cd0)
		rc = arm_smmu_set_rid_cd(dev, sid, st, a->rid_s1);
	if (!rc)
		rc = arm_smmu_install_ste(dev, sid, ste);
	if (rc && a->cd0)
		arm_smmu_set_rid_cd(dev, sid, st, st->rid_s1);
	if (rc)
		arm_smmu_restore_master(dev, &prev);
	return rc;
}

/*
 * The new STE is live: the RID leaves its old domain's ATS list, and
 * its ATC forgets what the old translation filled it with.
 */
static void attach_rid_commit(struct arm_smmu_device *dev, uint32_t sid,
			      struct arm_smmu_stream *st,
			      const struct arm_smmu_rid_attach *a)
{
	arm_smmu_rid_ats_commit(st, sid, a->ats_domain, a->ats_full);
	st->cd_in_ste = a->cd0;
	st->rid = a->rid;
	st->rid_s1 = a->rid_s1;
	arm_smmu_ats_commit(dev, sid, st, a->ats);
}

int arm_smmu_attach_rid(struct arm_smmu_device *dev, uint32_t sid,
			struct arm_smmu_stream *st, const uint64_t *ste,
			const struct arm_smmu_rid_attach *a)
{
	int rc;

	rc = arm_smmu_rid_ats_prepare(st, sid, a->ats_domain, a->ats_full);
	if (rc)
		return rc;
	rc = attach_rid_install(dev, sid, st, ste, a);
	if (rc) {
		arm_smmu_rid_ats_abort(st, sid, a->ats_domain, a->ats_full);
		return rc;
	}
	attach_rid_commit(dev, sid, st, a);
	return 0;
}

static int arm_smmu_attach_dev(struct sio_iommu_domain *d, uint32_t sid)
{
	struct arm_smmu_domain *sd = to_smmu_domain(d);
	struct arm_smmu_device *dev = sd->dev;
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);
	bool s1 = sd->stage == SIO_PGT_STAGE1;
	uint64_t ste[8];
	int rc;

	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&dev->group_lock);
	rc = rid_paging_ste(sd, st, ste);
	if (!rc) {
		const struct arm_smmu_rid_attach a = {
			.domain = d,
			.ats_domain = sd,
			.rid = s1 ? ARM_SMMU_RID_S1 : ARM_SMMU_RID_OTHER,
			.rid_s1 = s1 ? sd : NULL,
			/* a CD table in use: the STE points at it */
			.cd0 = s1 && st->cdtab,
			.ats = st->ats_supported,
		};

		rc = arm_smmu_attach_rid(dev, sid, st, ste, &a);
	}
	pthread_mutex_unlock(&dev->group_lock);
	return rc;
}

/*
 * The kernel's blocked domain: an abort STE, or with PASIDs in use the
 * CD table terminating transactions without a PASID (S1DSS 0b00) and
 * CD 0 cleared.
 */
static int arm_smmu_block_dev(struct sio_iommu_dev *iommu, uint32_t sid)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);
	bool cdtab;
	uint64_t ste[8];
	int rc;

	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&dev->group_lock);
	/*
	 * A CD table kept for PASIDs keeps ATS on, as the kernel assumes a
	 * PASID uses it (cd_needs_ats).
	 */
	cdtab = arm_smmu_ssids_in_use(st);
	if (cdtab)
		arm_smmu_make_cdtable_ste(ste, st, 0 /* S1DSS: terminate */,
					  st->ats_supported);
	else
		arm_smmu_make_abort_ste(ste);
	rc = arm_smmu_install_ste(dev, sid, ste);
	if (!rc) {
		arm_smmu_set_master(dev, sid, NULL, NULL, 0, NULL);
		arm_smmu_rid_ats_commit(st, sid, NULL, false);
		if (st->cdtab)
			arm_smmu_set_rid_cd(dev, sid, st, NULL);
		st->cd_in_ste = cdtab;
		st->rid = ARM_SMMU_RID_BLOCKED;
		st->rid_s1 = NULL;
		arm_smmu_ats_commit(dev, sid, st, cdtab && st->ats_supported);
	}
	pthread_mutex_unlock(&dev->group_lock);
	return rc;
}

/* struct iommu_hw_info_arm_smmuv3: flags, __reserved, idr[6], iidr, aidr */
static size_t arm_smmu_hw_info(struct sio_iommu_dev *iommu, void *data,
			       size_t len, uint32_t *type)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	uint32_t blob[10] = {0};

	for (int i = 0; i < 6; i++)
		blob[2 + i] = dev->idr[i];
	blob[8] = sio_smmu_read32(dev->smmu, 0x18); /* IIDR */
	blob[9] = sio_smmu_read32(dev->smmu, 0x1c); /* AIDR */
	memcpy(data, blob, len < sizeof(blob) ? len : sizeof(blob));
	*type = 2; /* IOMMU_HW_INFO_TYPE_ARM_SMMUV3 */
	return sizeof(blob);
}

/*
 * The kernel's arm-smmu-v3 reserves one software-managed MSI window
 * (MSI_IOVA_BASE, MSI_IOVA_LENGTH) in every device's IOVA space.
 */
#define MSI_IOVA_BASE	0x8000000ull
#define MSI_IOVA_LENGTH 0x100000ull

static int arm_smmu_get_resv_regions(struct sio_iommu_dev *iommu, uint32_t sid,
				     struct sio_resv_region *out, int max)
{
	(void)iommu;
	(void)sid;
	if (max >= 1)
		out[0] = (struct sio_resv_region){
			.start = MSI_IOVA_BASE,
			.length = MSI_IOVA_LENGTH,
			.type = SIO_RESV_SW_MSI,
		};
	return 1;
}

static unsigned int arm_smmu_capabilities(struct sio_iommu_dev *iommu,
					  uint32_t sid)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;

	unsigned int caps = 0;

	(void)sid;
	if (arm_smmu_dbm_capable(dev))
		caps |= SIO_IOMMU_CAP_DIRTY_TRACKING;
	/* COHACC: the SMMU's and devices' accesses are coherent */
	if (field(dev->idr[0], 4, 1))
		caps |= SIO_IOMMU_CAP_CACHE_COHERENCY;
	return caps;
}

bool arm_smmu_nesting_capable(struct arm_smmu_device *dev)
{
	return dev->s1 && dev->s2;
}

static void arm_smmu_remove_op(struct sio_iommu_dev *iommu)
{
	arm_smmu_remove((struct arm_smmu_device *)iommu);
}

static void arm_smmu_page_response(struct sio_iommu_dev *iommu, uint32_t sid,
				   const struct sio_iopf_fault *fault,
				   enum sio_iopf_resp code);

static const struct sio_iommu_ops arm_smmu_ops = {
	.domain_alloc_paging = arm_smmu_domain_alloc_paging,
	.attach_dev = arm_smmu_attach_dev,
	.block_dev = arm_smmu_block_dev,
	.probe_device = arm_smmu_probe_device,
	.block_dev_pasid = arm_smmu_block_dev_pasid,
	.page_response = arm_smmu_page_response,
	.hw_info = arm_smmu_hw_info,
	.get_resv_regions = arm_smmu_get_resv_regions,
	.capabilities = arm_smmu_capabilities,
	.viommu_supported = arm_vsmmu_supported,
	.viommu_alloc = arm_vsmmu_alloc,
	.remove = arm_smmu_remove_op,
};

static void read_features(struct arm_smmu_device *dev)
{
	static const unsigned int oas_bits[] = {32, 36, 40, 42, 44, 48, 52};
	uint32_t idr5;

	for (int i = 0; i < 6; i++)
		dev->idr[i] = sio_smmu_read32(dev->smmu, (uint64_t)i * 4);
	idr5 = dev->idr[5];
	dev->s2 = field(dev->idr[0], 0, 1);
	dev->s1 = field(dev->idr[0], 1, 1);
	dev->asid_bits = field(dev->idr[0], 12, 1) ? 16 : 8;
	dev->vmid_bits = field(dev->idr[0], 18, 1) ? 16 : 8;
	dev->oas = field(idr5, 0, 3) < 7 ? oas_bits[field(idr5, 0, 3)] : 48;
	/* the host's page size first, as the kernel prefers PAGE_SIZE */
	dev->granule = field(idr5, 4, 1)   ? 4096
		       : field(idr5, 5, 1) ? 16384
					   : 65536;
}

int arm_smmu_probe(struct sio_smmu *smmu, struct sio_mem_bus *bus,
		   struct arm_smmu_device **out)
{
	struct arm_smmu_device *dev = sio_calloc(1, sizeof(*dev));
	unsigned int sid_bits, cmdq_max, evtq_max;
	int rc = -ENOMEM;

	if (!dev)
		return -ENOMEM;
	dev->smmu = smmu;
	dev->bus = bus;
	dev->iommu.ops = &arm_smmu_ops;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->evt_start_lock, NULL);
	pthread_mutex_init(&dev->evt_lock, NULL);
	pthread_cond_init(&dev->evt_cond, NULL);
	pthread_mutex_init(&dev->streams_lock, NULL);
	pthread_mutex_init(&dev->group_lock, NULL);
	read_features(dev);
	if (!dev->s1 && !dev->s2) {
		rc = -ENODEV;
		goto err;
	}
	rc = sio_mem_pool_create(bus, dev->oas, &dev->pool);
	if (rc)
		goto err;
	rc = -ENOMEM;

	sid_bits = field(dev->idr[1], 0, 6);
	dev->strtab_log2 = sid_bits < STRTAB_MAX_LOG2 ? sid_bits
						      : STRTAB_MAX_LOG2;
	cmdq_max = field(dev->idr[1], 21, 5);
	evtq_max = field(dev->idr[1], 16, 5);
	dev->cmdq_log2 = cmdq_max < 8 ? cmdq_max : 8;
	dev->evtq_log2 = evtq_max < 7 ? evtq_max : 7;
	dev->strtab = sio_mem_pool_alloc(
		dev->pool,
		64u << (dev->strtab_log2 < 6 ? 6 : dev->strtab_log2));
	dev->cmdq = sio_mem_pool_alloc(dev->pool, 4096);
	dev->evtq = sio_mem_pool_alloc(dev->pool, 4096);
	dev->asid_map = sio_calloc(1024, sizeof(uint64_t));
	dev->vmid_map = sio_calloc(1024, sizeof(uint64_t));
	dev->streams =
		sio_calloc(1u << dev->strtab_log2, sizeof(*dev->streams));
	if (!dev->strtab || !dev->cmdq || !dev->evtq || !dev->asid_map ||
	    !dev->vmid_map || !dev->streams)
		goto err;
	/* every StreamID aborts until a domain is attached */
	for (uint32_t sid = 0; sid < (1u << dev->strtab_log2); sid++)
		ste_of(dev, sid)[0] = 1 | (STE_CFG_ABORT << 1);

	sio_smmu_write64(smmu, STRTAB_BASE, pa_of(dev->strtab));
	sio_smmu_write32(smmu, STRTAB_BASE_CFG, dev->strtab_log2);
	sio_smmu_write64(smmu, CMDQ_BASE, pa_of(dev->cmdq) | dev->cmdq_log2);
	sio_smmu_write64(smmu, EVENTQ_BASE, pa_of(dev->evtq) | dev->evtq_log2);
	/* table walks and queues: write-back, inner shareable (CR1) */
	sio_smmu_write32(smmu, CR1, 0xd75);
	sio_smmu_write32(smmu, CR0, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
	if (sio_smmu_read32(smmu, CR0ACK) !=
	    (CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN)) {
		rc = -EIO;
		goto err;
	}
	*out = dev;
	return 0;
err:
	arm_smmu_remove(dev);
	return rc;
}

static void arm_smmu_stop_events(struct arm_smmu_device *dev);

void arm_smmu_remove(struct arm_smmu_device *dev)
{
	if (!dev)
		return;
	arm_smmu_stop_events(dev);
	pthread_cond_destroy(&dev->evt_cond);
	pthread_mutex_destroy(&dev->evt_lock);
	pthread_mutex_destroy(&dev->evt_start_lock);
	pthread_mutex_destroy(&dev->streams_lock);
	free(dev->masters);
	if (dev->pool)
		arm_smmu_streams_free(dev);
	else
		free(dev->streams);
	pthread_mutex_destroy(&dev->group_lock);
	if (dev->pool) {
		sio_smmu_write32(dev->smmu, CR0, 0);
		sio_mem_pool_destroy(dev->pool);
	}
	free(dev->asid_map);
	free(dev->vmid_map);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

/* The model's interrupt line: only a signal, the thread does the work. */
static void arm_smmu_irq(void *opaque, enum sio_smmu_irq irq)
{
	struct arm_smmu_device *dev = opaque;

	if (irq != SIO_SMMU_IRQ_EVTQ)
		return;
	pthread_mutex_lock(&dev->evt_lock);
	dev->evt_pending = true;
	pthread_cond_signal(&dev->evt_cond);
	pthread_mutex_unlock(&dev->evt_lock);
}

/* Event IDs (section 7.3) the kernel may hand to a guest. */
#define EVT_ID_BAD_STE_CONFIG	      0x04
#define EVT_ID_STREAM_DISABLED_FAULT  0x06
#define EVT_ID_BAD_SUBSTREAMID_CONFIG 0x08
#define EVT_ID_BAD_CD_CONFIG	      0x0a
#define EVT_ID_TRANSLATION_FAULT      0x10
#define EVT_ID_PERMISSION_FAULT	      0x13
#define EVTQ_0_SSV		      (1ull << 11)
#define EVTQ_1_STALL		      (1ull << 31)
#define EVTQ_1_PNU		      (1ull << 33)
#define EVTQ_1_IND		      (1ull << 34)
#define EVTQ_1_RNW		      (1ull << 35)
#define EVTQ_1_S2		      (1ull << 39)

static struct arm_smmu_master *find_master(struct arm_smmu_device *dev,
					   uint32_t sid)
{
	for (unsigned int i = 0; i < dev->nr_masters; i++)
		if (dev->masters[i].sid == sid)
			return &dev->masters[i];
	return NULL;
}

#define CMDQ_OP_RESUME	       0x44
#define CMDQ_RESUME_RESP_RETRY 1ull
#define CMDQ_RESUME_RESP_ABORT 2ull

/*
 * The kernel's arm_smmu_page_response(): CMD_RESUME for the stall's STAG,
 * retry on success, abort otherwise; no CMD_SYNC (it does nothing for a
 * RESUME).
 */
static void arm_smmu_page_response(struct sio_iommu_dev *iommu, uint32_t sid,
				   const struct sio_iopf_fault *fault,
				   enum sio_iopf_resp code)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	uint64_t cmd[1][2] = {{CMDQ_OP_RESUME | ((uint64_t)sid << 32),
			       fault->grpid & 0xffff}};

	cmd[0][0] |= (code == SIO_IOPF_RESP_SUCCESS ? CMDQ_RESUME_RESP_RETRY
						    : CMDQ_RESUME_RESP_ABORT)
		     << 12;
	pthread_mutex_lock(&dev->lock);
	cmdq_issue(dev, cmd, 1);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * A stall record as an I/O page fault (the kernel's arm_smmu_handle_evt()):
 * a read or else a write, exec, privileged; the STAG is the group.
 * Handed to the attached domain's handler; without one, or if it cannot
 * take it, the transaction is aborted at once, so no device waits for an
 * answer nobody will give.  streams_lock held.
 */
static int arm_smmu_report_iopf(struct arm_smmu_device *dev,
				const uint64_t ev[4])
{
	uint32_t sid = (uint32_t)(ev[0] >> 32);
	struct sio_iopf_fault fault = {
		.flags = SIO_IOPF_LAST_PAGE,
		.grpid = (uint32_t)(ev[1] & 0xffff),
		.addr = ev[2],
	};
	struct arm_smmu_master *master = find_master(dev, sid);
	int rc = -ENODEV;

	fault.perm = (ev[1] & EVTQ_1_RNW) ? SIO_IOPF_PERM_READ
					  : SIO_IOPF_PERM_WRITE;
	if (ev[1] & EVTQ_1_IND)
		fault.perm |= SIO_IOPF_PERM_EXEC;
	if (ev[1] & EVTQ_1_PNU)
		fault.perm |= SIO_IOPF_PERM_PRIV;
	if (ev[0] & EVTQ_0_SSV) {
		fault.flags |= SIO_IOPF_PASID_VALID;
		fault.pasid = (uint32_t)((ev[0] >> 12) & 0xfffff);
	}
	if (master && master->domain && master->domain->iopf_handler)
		rc = master->domain->iopf_handler(master->domain, sid, &fault);
	if (rc)
		arm_smmu_page_response(&dev->iommu, sid, &fault,
				       SIO_IOPF_RESP_FAILURE);
	return rc;
}

/*
 * The kernel's arm_smmu_handle_evt(): configuration errors and
 * translation faults of a guest's device, outside a stall and not of
 * stage 2 (the host's own table), go to the guest; the rest stays with
 * the host.  streams_lock held.
 */
static int arm_smmu_handle_evt(struct arm_smmu_device *dev,
			       const uint64_t ev[4])
{
	unsigned int id = ev[0] & 0xff;
	struct arm_smmu_master *master;

	switch (id) {
	case EVT_ID_BAD_STE_CONFIG:
	case EVT_ID_STREAM_DISABLED_FAULT:
	case EVT_ID_BAD_SUBSTREAMID_CONFIG:
	case EVT_ID_BAD_CD_CONFIG:
	case EVT_ID_TRANSLATION_FAULT ... EVT_ID_PERMISSION_FAULT:
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (ev[1] & EVTQ_1_STALL)
		return arm_smmu_report_iopf(dev, ev);
	master = find_master(dev, (uint32_t)(ev[0] >> 32));
	if (!master || !master->vsmmu || (ev[1] & EVTQ_1_S2))
		return -EOPNOTSUPP;
	return arm_vmaster_report_event(master, ev);
}

static void *arm_smmu_evtq_thread(void *arg)
{
	struct arm_smmu_device *dev = arg;
	uint64_t ev[8][4];
	int n;

	pthread_mutex_lock(&dev->evt_lock);
	while (!dev->evt_stop) {
		if (!dev->evt_pending) {
			pthread_cond_wait(&dev->evt_cond, &dev->evt_lock);
			continue;
		}
		dev->evt_pending = false;
		pthread_mutex_unlock(&dev->evt_lock);
		while ((n = arm_smmu_read_events(dev, ev, 8)) > 0) {
			pthread_mutex_lock(&dev->streams_lock);
			for (int i = 0; i < n; i++)
				if (arm_smmu_handle_evt(dev, ev[i]) &&
				    dev->evt_handler)
					dev->evt_handler(dev->evt_opaque,
							 ev[i]);
			pthread_mutex_unlock(&dev->streams_lock);
		}
		pthread_mutex_lock(&dev->evt_lock);
	}
	pthread_mutex_unlock(&dev->evt_lock);
	return NULL;
}

int arm_smmu_events_start(struct arm_smmu_device *dev)
{
	uint32_t want;
	int rc = 0;

	pthread_mutex_lock(&dev->evt_start_lock);
	if (dev->evt_running)
		goto out_unlock;
	rc = -sio_pthread_create(&dev->evt_thread, NULL, arm_smmu_evtq_thread,
				 dev);
	if (rc)
		goto out_unlock;
	dev->evt_running = true;
	sio_smmu_set_irq(dev->smmu, arm_smmu_irq, dev);
	/* IRQ_CTRL.EVENTQ_IRQEN, acknowledged through IRQ_CTRLACK */
	want = sio_smmu_read32(dev->smmu, IRQ_CTRL) | IRQ_CTRL_EVTQ_IRQEN;
	sio_smmu_write32(dev->smmu, IRQ_CTRL, want);
	rc = -ETIMEDOUT;
	for (int i = 0; i < 1000000; i++) {
		if (sio_smmu_read32(dev->smmu, IRQ_CTRLACK) == want) {
			rc = 0;
			break;
		}
	}
	/* events queued before the line was enabled raised no interrupt */
	arm_smmu_irq(dev, SIO_SMMU_IRQ_EVTQ);
out_unlock:
	pthread_mutex_unlock(&dev->evt_start_lock);
	return rc;
}

int arm_smmu_set_event_handler(struct arm_smmu_device *dev,
			       void (*fn)(void *opaque, const uint64_t ev[4]),
			       void *opaque)
{
	pthread_mutex_lock(&dev->streams_lock);
	if (dev->evt_handler) {
		pthread_mutex_unlock(&dev->streams_lock);
		return -EBUSY;
	}
	dev->evt_handler = fn;
	dev->evt_opaque = opaque;
	pthread_mutex_unlock(&dev->streams_lock);
	return arm_smmu_events_start(dev);
}

int arm_smmu_set_master(struct arm_smmu_device *dev, uint32_t sid,
			struct sio_iommu_domain *domain,
			struct arm_vsmmu *vsmmu, uint64_t vsid,
			struct arm_smmu_master *prev)
{
	struct arm_smmu_master *master;
	int rc = 0;

	pthread_mutex_lock(&dev->streams_lock);
	master = find_master(dev, sid);
	if (prev)
		*prev = master ? *master : (struct arm_smmu_master){.sid = sid};
	if (!domain) {
		if (master)
			*master = dev->masters[--dev->nr_masters];
		goto out_unlock;
	}
	if (!master && dev->nr_masters == dev->masters_cap) {
		unsigned int cap = dev->masters_cap ? 2 * dev->masters_cap : 4;
		void *p =
			sio_realloc(dev->masters, cap * sizeof(*dev->masters));

		if (!p) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		dev->masters = p;
		dev->masters_cap = cap;
	}
	if (!master)
		master = &dev->masters[dev->nr_masters++];
	*master = (struct arm_smmu_master){
		.sid = sid, .domain = domain, .vsmmu = vsmmu, .vsid = vsid};
out_unlock:
	pthread_mutex_unlock(&dev->streams_lock);
	return rc;
}

void arm_smmu_restore_master(struct arm_smmu_device *dev,
			     const struct arm_smmu_master *prev)
{
	/* the entry is there or goes: no allocation, so no failure */
	arm_smmu_set_master(dev, prev->sid, prev->domain, prev->vsmmu,
			    prev->vsid, NULL);
}

static void arm_smmu_stop_events(struct arm_smmu_device *dev)
{
	if (!dev->evt_running)
		return;
	sio_smmu_write32(dev->smmu, IRQ_CTRL, 0);
	sio_smmu_set_irq(dev->smmu, NULL, NULL);
	pthread_mutex_lock(&dev->evt_lock);
	dev->evt_stop = true;
	pthread_cond_signal(&dev->evt_cond);
	pthread_mutex_unlock(&dev->evt_lock);
	pthread_join(dev->evt_thread, NULL);
	dev->evt_running = false;
}

int arm_smmu_read_events(struct arm_smmu_device *dev, uint64_t (*ev)[4],
			 int max)
{
	uint32_t wrap_mask = (2u << dev->evtq_log2) - 1;
	uint32_t prod, cons;
	int n = 0;

	pthread_mutex_lock(&dev->lock);
	prod = sio_smmu_read32(dev->smmu, EVENTQ_PROD);
	cons = sio_smmu_read32(dev->smmu, EVENTQ_CONS);
	while (((prod ^ cons) & wrap_mask) && n < max) {
		uint32_t idx = cons & ((1u << dev->evtq_log2) - 1);

		for (int w = 0; w < 4; w++)
			ev[n][w] = __atomic_load_n(&dev->evtq[4 * idx + w],
						   __ATOMIC_ACQUIRE);
		n++;
		cons = (cons & ~wrap_mask) | ((cons + 1) & wrap_mask);
	}
	sio_smmu_write32(dev->smmu, EVENTQ_CONS, cons);
	pthread_mutex_unlock(&dev->lock);
	return n;
}
