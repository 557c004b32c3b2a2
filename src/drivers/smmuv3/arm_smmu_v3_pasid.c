// SPDX-License-Identifier: MIT
/*
 * SubstreamIDs (PASIDs) of the SMMUv3 driver, as the kernel's
 * arm-smmu-v3 has them: a device that uses PASIDs gets its own CD table
 * (the kernel's arm_smmu_ctx_desc_cfg) of 2^S1CDMax CDs, linear or, past
 * 1024 CDs with IDR0.CD2L, two-level with 64 KiB leaves allocated as
 * PASIDs arrive; its STE points at the table, with S1DSS saying what
 * transactions without a PASID get: substream 0's CD when the RID is on
 * a stage-1 domain (its CD is CD 0), terminate when the RID is blocked.
 * A PASID on a stage-1 domain is that domain's CD in the PASID's slot;
 * every CD change is followed by CFGI_CD + CMD_SYNC.  A RID on stage 2
 * or a nested domain leaves no room for a CD table of the host's: PASIDs
 * are refused then, and such a RID domain while PASIDs are in use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arm_smmu_v3.h"
#include "fault/fault_inject.h"

/* Commands (section 4.1.1) and the structures' fields (5.2, 5.3). */
#define CD_L2_BITS	  10 /* a 64 KiB leaf: 1024 CDs (S1Fmt 0b10) */
#define S1FMT_LINEAR	  0
#define S1FMT_64K_L2	  2
#define L1CD_V		  1ull
#define L1CD_L2PTR	  (((1ull << 40) - 1) << 12) /* bits 51:12 */
#define STE1_S1DSS_TERM	  0
#define STE1_S1DSS_SSID0  2
#define IDR0_CD2L	  (1u << 19)
#define IDR0_ATS	  (1u << 10)
#define IDR1_SSIDSIZE(i1) (((i1) >> 6) & 0x1f)

static uint64_t pa_of(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

struct arm_smmu_stream *arm_smmu_stream(struct arm_smmu_device *dev,
					uint32_t sid)
{
	if (sid >= (1u << dev->strtab_log2))
		return NULL;
	return &dev->streams[sid];
}

unsigned int arm_smmu_probe_device(struct sio_iommu_dev *iommu, uint32_t sid,
				   const struct sio_iommu_pci_caps *caps)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);
	unsigned int bits = IDR1_SSIDSIZE(dev->idr[1]);

	if (!st)
		return 0;
	/*
	 * Without two-level CD tables, one linear table of 64 KiB: 2^10
	 * CDs (the kernel's CTXDESC_LINEAR_CDMAX), so PASIDs beyond it are
	 * refused at attach (EINVAL) and not offered by GET_HW_INFO.
	 */
	if (!(dev->idr[0] & IDR0_CD2L) && bits > CD_L2_BITS)
		bits = CD_L2_BITS;
	if (caps->pasid_bits < bits)
		bits = caps->pasid_bits;
	pthread_mutex_lock(&dev->group_lock);
	/* substreams need stage 1: the CDs are stage-1 contexts */
	st->ssid_bits = dev->s1 ? bits : 0;
	st->ats_supported = caps->ats && (dev->idr[0] & IDR0_ATS);
	bits = st->ssid_bits;
	pthread_mutex_unlock(&dev->group_lock);
	return bits;
}

bool arm_smmu_ssids_in_use(const struct arm_smmu_stream *st)
{
	return st->ssids_in_use != 0;
}

/* Issue one command and a CMD_SYNC; dev->lock taken here. */
static int issue_one(struct arm_smmu_device *dev, uint64_t c0, uint64_t c1)
{
	const uint64_t cmd[1][2] = {{c0, c1}};

	return arm_smmu_cmdq_issue_cmdlist(dev, cmd, 1);
}

/* CFGI_CD of one CD (Leaf 0: any L1CD the SMMU cached goes too). */
static int sync_cd(struct arm_smmu_device *dev, uint32_t sid, uint32_t ssid)
{
	return issue_one(dev,
			 CMD_CFGI_CD | ((uint64_t)ssid << CMD_SSID_SHIFT) |
				 ((uint64_t)sid << CMD_SID_SHIFT),
			 0);
}

int arm_smmu_atc_inv_master(struct arm_smmu_device *dev, uint32_t sid, bool ssv,
			    uint32_t ssid)
{
	uint64_t cmd[2];

	arm_smmu_make_atc_inv_cmd(cmd, sid, ssv, ssid, 0, ATC_INV_SIZE_ALL);
	return issue_one(dev, cmd[0], cmd[1]);
}

/*
 * The table for the stream's PASID width, as arm_smmu_alloc_cd_tables():
 * two levels when the SMMU has them and one 64 KiB leaf is not enough.
 */
static int cdtab_alloc(struct arm_smmu_device *dev, struct arm_smmu_stream *st)
{
	unsigned int bits = st->ssid_bits;
	size_t size;

	if ((dev->idr[0] & IDR0_CD2L) && bits > CD_L2_BITS) {
		st->s1fmt = S1FMT_64K_L2;
		st->nr_l1 = 1u << (bits - CD_L2_BITS);
		size = 8ull * st->nr_l1;
		st->l2 = sio_calloc(st->nr_l1, sizeof(*st->l2));
		if (!st->l2)
			return -ENOMEM;
	} else {
		/* at most CD_L2_BITS without CD2L (probe_device) */
		st->s1fmt = S1FMT_LINEAR;
		size = 64ull << bits;
	}
	if (size < 4096)
		size = 4096;
	st->cdtab = sio_mem_pool_alloc(dev->pool, size);
	if (!st->cdtab) {
		free(st->l2);
		st->l2 = NULL;
		return -ENOMEM;
	}
	st->s1cdmax = bits;
	return 0;
}

/* The CD slot of @ssid, its leaf allocated if @alloc; NULL if none. */
static uint64_t *cd_ptr(struct arm_smmu_device *dev, struct arm_smmu_stream *st,
			uint32_t ssid, bool alloc)
{
	uint64_t *l2;
	uint32_t i;

	if (ssid >> st->s1cdmax)
		return NULL;
	if (st->s1fmt == S1FMT_LINEAR)
		return st->cdtab + 8 * (size_t)ssid;
	i = ssid >> CD_L2_BITS;
	l2 = st->l2[i];
	if (!l2 && alloc) {
		l2 = sio_mem_pool_alloc(dev->pool, 64u << CD_L2_BITS);
		if (!l2)
			return NULL;
		st->l2[i] = l2;
		/* a valid L1CD once the leaf (all CDs invalid) is there */
		__atomic_store_n(&st->cdtab[i], pa_of(l2) | L1CD_V,
				 __ATOMIC_RELEASE);
	}
	return l2 ? l2 + 8 * (size_t)(ssid & ((1u << CD_L2_BITS) - 1)) : NULL;
}

static void cdtab_free(struct arm_smmu_device *dev, struct arm_smmu_stream *st)
{
	for (uint32_t i = 0; st->l2 && i < st->nr_l1; i++)
		sio_mem_pool_free(dev->pool, st->l2[i]);
	free(st->l2);
	st->l2 = NULL;
	sio_mem_pool_free(dev->pool, st->cdtab);
	st->cdtab = NULL;
}

/*
 * Write @src (NULL: an invalid CD) as the CD of @ssid, so the SMMU reads
 * the old CD or the new one: a live CD is made invalid and synced first
 * (its ASID and TTB0 change together, no single-word update exists),
 * then the other words, then word 0 with V, then CFGI_CD + CMD_SYNC.
 */
static int cd_write(struct arm_smmu_device *dev, uint32_t sid, uint64_t *cd,
		    uint32_t ssid, const uint64_t *src)
{
	int rc;

	if (__atomic_load_n(&cd[0], __ATOMIC_RELAXED)) {
		__atomic_store_n(&cd[0], 0, __ATOMIC_RELEASE);
		rc = sync_cd(dev, sid, ssid);
		if (rc || !src)
			return rc;
	}
	if (!src)
		return 0;
	for (int i = 1; i < 8; i++)
		__atomic_store_n(&cd[i],
				 __atomic_load_n(&src[i], __ATOMIC_RELAXED),
				 __ATOMIC_RELAXED);
	__atomic_store_n(&cd[0], __atomic_load_n(&src[0], __ATOMIC_RELAXED),
			 __ATOMIC_RELEASE);
	return sync_cd(dev, sid, ssid);
}

void arm_smmu_make_cdtable_ste(uint64_t *ste, const struct arm_smmu_stream *st,
			       unsigned int s1dss, bool ats)
{
	memset(ste, 0, 8 * sizeof(*ste));
	arm_smmu_set_bits(ste, 0, 1, 1); /* V */
	arm_smmu_set_bits(ste, 1, 3, STE_CFG_S1);
	arm_smmu_set_bits(ste, 4, 2, st->s1fmt);
	arm_smmu_set_bits(ste, 6, 50, pa_of(st->cdtab) >> 6); /* S1ContextPtr */
	arm_smmu_set_bits(ste, 59, 5, st->s1cdmax);
	arm_smmu_set_bits(ste, 64, 2, s1dss);
	arm_smmu_set_bits(ste, 66, 2, 1); /* S1CIR: write-back */
	arm_smmu_set_bits(ste, 68, 2, 1); /* S1COR */
	arm_smmu_set_bits(ste, 70, 2, 3); /* S1CSH */
	if (ats)
		ste[1] |= STE1_EATS_TRANS;
}

int arm_smmu_set_rid_cd(struct arm_smmu_device *dev, uint32_t sid,
			struct arm_smmu_stream *st, struct arm_smmu_domain *sd)
{
	uint64_t *cd0 = cd_ptr(dev, st, 0, true);

	if (!cd0)
		return -ENOMEM;
	return cd_write(dev, sid, cd0, 0, sd ? sd->cd : NULL);
}

/*
 * The STE the stream needs now that its CD table changed: the table,
 * with the RID's CD as substream 0 or, for a blocked RID, terminating
 * transactions without a PASID; back to abort when a blocked RID's
 * last PASID went (the kernel downgrades it too).
 */
static int update_ste(struct arm_smmu_device *dev, uint32_t sid,
		      struct arm_smmu_stream *st)
{
	uint64_t ste[8];
	int rc;

	if (st->rid == ARM_SMMU_RID_BLOCKED && !arm_smmu_ssids_in_use(st)) {
		arm_smmu_make_abort_ste(ste);
		rc = arm_smmu_install_ste(dev, sid, ste);
		if (!rc) {
			st->cd_in_ste = false;
			arm_smmu_ats_commit(dev, sid, st, false);
		}
		return rc;
	}
	if (st->cd_in_ste)
		return 0;
	if (st->rid == ARM_SMMU_RID_S1) {
		rc = arm_smmu_set_rid_cd(dev, sid, st, st->rid_s1);
		if (rc)
			return rc;
	}
	/* a CD table in use runs with ATS where the device has it */
	arm_smmu_make_cdtable_ste(ste, st,
				  st->rid == ARM_SMMU_RID_S1 ? STE1_S1DSS_SSID0
							     : STE1_S1DSS_TERM,
				  st->ats_supported);
	rc = arm_smmu_install_ste(dev, sid, ste);
	if (!rc) {
		st->cd_in_ste = true;
		arm_smmu_ats_commit(dev, sid, st, st->ats_supported);
	}
	return rc;
}

/*
 * The kernel's arm_smmu_s1_set_dev_pasid() and arm_smmu_set_pasid(): a
 * stage-1 domain's CD in the PASID's slot.  The RID must be on a
 * stage-1 domain (the table is in its STE) or blocked: -EINVAL else.
 */
int arm_smmu_set_dev_pasid(struct sio_iommu_domain *d, uint32_t sid,
			   uint32_t pasid, struct sio_iommu_domain *old)
{
	struct arm_smmu_domain *sd = to_smmu_domain(d);
	struct arm_smmu_device *dev = sd->dev;
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);
	uint64_t *cd;
	int rc;

	if (!st || d->iommu != &dev->iommu || sd->stage != SIO_PGT_STAGE1 ||
	    !pasid)
		return -EINVAL;
	pthread_mutex_lock(&dev->group_lock);
	rc = -EINVAL;
	if (st->rid == ARM_SMMU_RID_OTHER || (pasid >> st->ssid_bits))
		goto out_unlock;
	rc = -ENOMEM;
	if (!st->cdtab && cdtab_alloc(dev, st))
		goto out_unlock;
	cd = cd_ptr(dev, st, pasid, true);
	if (!cd)
		goto out_unlock;
	/* on the domain's ATS list before the PASID can fill an ATC */
	if (st->ats_supported) {
		rc = arm_smmu_domain_ats_add(sd, sid, true, pasid, false);
		if (rc)
			goto out_unlock;
	}
	rc = cd_write(dev, sid, cd, pasid, sd->cd);
	if (!rc) {
		if (!old)
			st->ssids_in_use++;
		rc = update_ste(dev, sid, st);
		if (rc && !old)
			st->ssids_in_use--;
	}
	if (rc) {
		/* the PASID stays as it was: invalid, or the old CD */
		cd_write(dev, sid, cd, pasid,
			 old ? to_smmu_domain(old)->cd : NULL);
		if (st->ats_supported)
			arm_smmu_domain_ats_del(sd, sid, true, pasid, false);
		goto out_unlock;
	}
	if (old && st->ats_supported)
		arm_smmu_domain_ats_del(to_smmu_domain(old), sid, true, pasid,
					false);
	/* the PASID's translation changed under the device's ATC */
	if (st->ats_enabled)
		rc = arm_smmu_atc_inv_master(dev, sid, true, pasid);
out_unlock:
	pthread_mutex_unlock(&dev->group_lock);
	return rc;
}

/* The kernel's arm_smmu_blocking_set_dev_pasid(): the PASID's CD goes. */
int arm_smmu_block_dev_pasid(struct sio_iommu_dev *iommu, uint32_t sid,
			     uint32_t pasid, struct sio_iommu_domain *old)
{
	struct arm_smmu_device *dev = (struct arm_smmu_device *)iommu;
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);
	uint64_t *cd;
	int rc = 0;

	if (!st || !pasid)
		return -EINVAL;
	pthread_mutex_lock(&dev->group_lock);
	cd = st->cdtab ? cd_ptr(dev, st, pasid, false) : NULL;
	if (cd && __atomic_load_n(&cd[0], __ATOMIC_RELAXED)) {
		rc = cd_write(dev, sid, cd, pasid, NULL);
		if (st->ats_enabled)
			arm_smmu_atc_inv_master(dev, sid, true, pasid);
		if (old && st->ats_supported)
			arm_smmu_domain_ats_del(to_smmu_domain(old), sid, true,
						pasid, false);
		if (old && st->ssids_in_use)
			st->ssids_in_use--;
		if (!rc)
			rc = update_ste(dev, sid, st);
	}
	pthread_mutex_unlock(&dev->group_lock);
	return rc;
}

void arm_smmu_streams_free(struct arm_smmu_device *dev)
{
	if (!dev->streams)
		return;
	for (uint32_t sid = 0; sid < (1u << dev->strtab_log2); sid++)
		if (dev->streams[sid].cdtab)
			cdtab_free(dev, &dev->streams[sid]);
	free(dev->streams);
	dev->streams = NULL;
}
