// SPDX-License-Identifier: MIT
/*
 * The SMMUv3 driver's half of nesting, as the kernel's
 * arm-smmu-v3-iommufd.c: a vSMMU on a stage-2 (NEST_PARENT) domain, and
 * nested domains made from the STE a guest wrote for its device (the
 * vSTE).  Only the vSTE fields a guest may own reach the hardware; the
 * physical STE keeps the parent's stage 2 and takes the guest's CD table
 * pointer, an IPA the SMMU translates through that stage 2.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "arm_smmu_v3.h"
#include "uapi/iommufd_abi.h"

/* vSTE fields a guest may set (the kernel's STRTAB_STE_*_NESTING_ALLOWED). */
#define VSTE0_V		(1ull << 0)
#define VSTE0_CFG_SHIFT 1
#define VSTE0_CFG	(7ull << VSTE0_CFG_SHIFT)
#define VSTE0_S1FMT	(3ull << 4)
#define VSTE0_S1CTXPTR	(((1ull << 46) - 1) << 6) /* bits 51:6 */
#define VSTE0_S1CDMAX	(31ull << 59)
#define VSTE0_ALLOWED \
	(VSTE0_V | VSTE0_CFG | VSTE0_S1FMT | VSTE0_S1CTXPTR | VSTE0_S1CDMAX)
#define VSTE1_S1DSS	 (3ull << 0)
#define VSTE1_S1CIR	 (3ull << 2)
#define VSTE1_S1COR	 (3ull << 4)
#define VSTE1_S1CSH	 (3ull << 6)
#define VSTE1_MEV	 (1ull << 19)
#define VSTE1_S1STALLD	 (1ull << 27)
#define VSTE1_EATS_SHIFT 28
#define VSTE1_EATS	 (3ull << VSTE1_EATS_SHIFT)
#define VSTE1_ALLOWED                                            \
	(VSTE1_S1DSS | VSTE1_S1CIR | VSTE1_S1COR | VSTE1_S1CSH | \
	 VSTE1_S1STALLD | VSTE1_EATS)
#define VSTE1_EATS_ABT	 0
#define VSTE1_EATS_TRANS 1

struct arm_vsmmu {
	struct sio_iommu_viommu core;
	struct arm_smmu_device *smmu;
	struct arm_smmu_domain *s2_parent;
	/*
	 * The tag of the guest's stage-1 entries in TLB commands.  The
	 * kernel's vSMMU shares its parent's VMID (its arm_vsmmu_init()
	 * marks moving the allocation here as a FIXME), so one stage 2
	 * and all its vSMMUs are one VMID.
	 */
	uint16_t vmid;
};

struct arm_smmu_nested_domain {
	struct sio_iommu_domain domain;
	struct arm_vsmmu *vsmmu;
	uint64_t ste[2]; /* the validated vSTE, EATS cleared */
	bool enable_ats;
};

static struct arm_smmu_nested_domain *to_nested(struct sio_iommu_domain *d)
{
	return (struct arm_smmu_nested_domain *)d;
}

static unsigned int vste_cfg(const uint64_t *ste)
{
	return (unsigned int)((ste[0] & VSTE0_CFG) >> VSTE0_CFG_SHIFT);
}

/*
 * The physical STE for a nested domain, as arm_smmu_make_nested_domain_ste():
 * an invalid or aborting vSTE aborts (the guest sees its own STE as
 * broken), a bypassing one leaves the parent's stage 2 alone, and a
 * translating one is the parent's stage 2 with the guest's stage-1
 * fields and Config nested.  MEV: a guest cannot flood the event queue
 * with one fault repeated.
 */
static void make_nested_domain_ste(uint64_t *ste,
				   struct arm_smmu_nested_domain *nd)
{
	unsigned int cfg = vste_cfg(nd->ste);

	if (!(nd->ste[0] & VSTE0_V))
		cfg = STE_CFG_ABORT;
	switch (cfg) {
	case STE_CFG_S1:
		arm_smmu_make_s2_domain_ste(ste, nd->vsmmu->s2_parent);
		ste[0] = VSTE0_V |
			 ((uint64_t)STE_CFG_NESTED << VSTE0_CFG_SHIFT);
		ste[0] |= nd->ste[0] & ~VSTE0_CFG;
		ste[1] |= nd->ste[1];
		ste[1] |= VSTE1_MEV;
		break;
	case STE_CFG_BYPASS:
		arm_smmu_make_s2_domain_ste(ste, nd->vsmmu->s2_parent);
		break;
	default:
		arm_smmu_make_abort_ste(ste);
		break;
	}
}

static int arm_smmu_attach_dev_nested(struct sio_iommu_domain *d, uint32_t sid)
{
	struct arm_smmu_nested_domain *nd = to_nested(d);
	struct sio_iommu_viommu *v = &nd->vsmmu->core;
	struct arm_smmu_device *smmu = nd->vsmmu->smmu;
	struct arm_smmu_rid_attach a;
	struct arm_smmu_stream *st;
	unsigned int cfg = vste_cfg(nd->ste);
	uint64_t vsid = 0, ste[8];
	bool ats;
	int rc, vsid_rc;

	/*
	 * A translating vSTE needs the device's vSID (a vDEVICE) first:
	 * the guest's CD and ATC invalidations and its events name the
	 * device by it.  Abort and bypass need none (the guest's GBPA).
	 */
	vsid_rc = v->get_vdev_id(v, sid, &vsid);
	if (vsid_rc && cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS)
		return vsid_rc;
	st = arm_smmu_stream(smmu, sid);
	if (!st)
		return -EINVAL;
	pthread_mutex_lock(&smmu->group_lock);
	/* the guest's CD table takes the place of the host's PASIDs' one */
	if (arm_smmu_ssids_in_use(st)) {
		rc = -EBUSY;
		goto out_unlock;
	}
	make_nested_domain_ste(ste, nd);
	/*
	 * ATS as the kernel's nested attach enables it: the guest asked
	 * for it (enable_ats: a translating vSTE with EATS 0b01) and the
	 * device and SMMU have it; EATS is the host's to set, never the
	 * guest's bits.  The guest then keeps the device's ATC coherent
	 * with its own ATC_INV commands.
	 */
	ats = nd->enable_ats && st->ats_supported && (ste[0] & VSTE0_V) &&
	      ((ste[0] & VSTE0_CFG) >> VSTE0_CFG_SHIFT) == STE_CFG_NESTED;
	if (ats)
		ste[1] |= (uint64_t)VSTE1_EATS_TRANS << VSTE1_EATS_SHIFT;
	/*
	 * A guest that may stall its device (S1STALLD = 0 and its CD's S)
	 * needs the event thread to answer: the fault queue's user, or an
	 * abort when there is none.
	 */
	if (!(ste[1] & VSTE1_S1STALLD) && vste_cfg(nd->ste) == STE_CFG_S1 &&
	    (nd->ste[0] & VSTE0_V)) {
		rc = arm_smmu_events_start(smmu);
		if (rc)
			goto out_unlock;
	}
	/*
	 * With ATS the device joins its parent's ATS list for full
	 * invalidations: its ATC holds guest IOVAs through the parent, so
	 * an unmap of an IPA can only empty all of it (the kernel's
	 * nested_ats_flush).
	 */
	a = (struct arm_smmu_rid_attach){
		.domain = d,
		/* events name the device by its vSID from the first one on */
		.vsmmu = vsid_rc ? NULL : nd->vsmmu,
		.vsid = vsid,
		.ats_domain = ats ? nd->vsmmu->s2_parent : NULL,
		.ats_full = true,
		.rid = ARM_SMMU_RID_OTHER,
		.ats = ats,
	};
	rc = arm_smmu_attach_rid(smmu, sid, st, ste, &a);
out_unlock:
	pthread_mutex_unlock(&smmu->group_lock);
	return rc;
}

static void arm_smmu_domain_nested_free(struct sio_iommu_domain *d)
{
	free(to_nested(d));
}

static const struct sio_iommu_domain_ops arm_smmu_nested_ops = {
	.attach_dev = arm_smmu_attach_dev_nested,
	.free = arm_smmu_domain_nested_free,
};

/*
 * The kernel's arm_smmu_validate_vste(): a vSTE with V=0 is taken as all
 * zero (an abort); otherwise any field outside the allowed ones, a
 * Config other than abort, bypass or stage-1, or an EATS other than
 * abort or full ATS is invalid STE data: -EIO, reserved for that.
 */
static int validate_vste(struct sio_iommu_hwpt_arm_smmuv3 *arg,
			 bool *enable_ats)
{
	unsigned int cfg, eats;

	if (!(arg->ste[0] & VSTE0_V)) {
		arg->ste[0] = arg->ste[1] = 0;
		return 0;
	}
	if ((arg->ste[0] & ~VSTE0_ALLOWED) || (arg->ste[1] & ~VSTE1_ALLOWED))
		return -EIO;
	cfg = vste_cfg(arg->ste);
	if (cfg != STE_CFG_ABORT && cfg != STE_CFG_BYPASS && cfg != STE_CFG_S1)
		return -EIO;
	eats = (unsigned int)((arg->ste[1] & VSTE1_EATS) >> VSTE1_EATS_SHIFT);
	arg->ste[1] &= ~VSTE1_EATS;
	if (eats != VSTE1_EATS_ABT && eats != VSTE1_EATS_TRANS)
		return -EIO;
	if (cfg == STE_CFG_S1)
		*enable_ats = eats == VSTE1_EATS_TRANS;
	return 0;
}

static int arm_vsmmu_alloc_domain_nested(struct sio_iommu_viommu *v,
					 unsigned int flags,
					 const struct sio_iommu_user_data *data,
					 struct sio_iommu_domain **out)
{
	struct arm_vsmmu *vsmmu = (struct arm_vsmmu *)v;
	struct sio_iommu_hwpt_arm_smmuv3 arg;
	struct arm_smmu_nested_domain *nd;
	bool enable_ats = false;
	int rc;

	if (flags)
		return -EOPNOTSUPP;
	rc = sio_iommu_copy_struct_from_user(
		&arg, sizeof(arg),
		offsetof(struct sio_iommu_hwpt_arm_smmuv3, ste) +
			sizeof(arg.ste),
		data, SIO_IOMMU_HWPT_DATA_ARM_SMMUV3);
	if (rc)
		return rc;
	/* the vSTE words are little-endian, as this host */
	rc = validate_vste(&arg, &enable_ats);
	if (rc)
		return rc;
	nd = sio_calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	nd->domain.ops = &arm_smmu_nested_ops;
	nd->domain.iommu = v->iommu;
	nd->domain.type = SIO_DOMAIN_NESTED;
	nd->vsmmu = vsmmu;
	nd->enable_ats = enable_ats;
	nd->ste[0] = arg.ste[0];
	nd->ste[1] = arg.ste[1] & ~VSTE1_EATS;
	*out = &nd->domain;
	return 0;
}

#define VSMMU_INVALIDATE_MAX_BYTES (4u << 20)

/* Command fields a guest's invalidation names (section 4.4, 4.5). */
#define CMD_OP(c0)     ((c0)&0xff)
#define CMD_VMID_SHIFT 32
#define CMD_VMID       (0xffffull << CMD_VMID_SHIFT)
#define CMD_SID	       (0xffffffffull << CMD_SID_SHIFT)

/*
 * One guest command made safe to issue, as the kernel's
 * arm_vsmmu_convert_user_cmd(): a guest may invalidate only what its
 * vSMMU caches.  Its stage-1 TLBIs get the vSMMU's VMID, TLBI_NSNH_ALL
 * shrinks to TLBI_NH_ALL of that VMID, and commands naming a device get
 * its physical StreamID for the virtual one.  Anything else (stage-2
 * and STE invalidations, CMD_SYNC, PRI or stall answers) is -EIO.
 */
static int convert_user_cmd(struct arm_vsmmu *vsmmu, uint64_t *cmd)
{
	uint32_t sid;

	switch (CMD_OP(cmd[0])) {
	case CMD_TLBI_NSNH_ALL:
		cmd[0] = CMD_TLBI_NH_ALL |
			 ((uint64_t)vsmmu->vmid << CMD_VMID_SHIFT);
		cmd[1] = 0;
		return 0;
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NH_ASID:
		cmd[0] = (cmd[0] & ~CMD_VMID) |
			 ((uint64_t)vsmmu->vmid << CMD_VMID_SHIFT);
		return 0;
	case CMD_ATC_INV:
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		if (vsmmu->core.vdev_to_sid(&vsmmu->core,
					    cmd[0] >> CMD_SID_SHIFT, &sid))
			return -EIO;
		cmd[0] = (cmd[0] & ~CMD_SID) | ((uint64_t)sid << CMD_SID_SHIFT);
		return 0;
	default:
		return -EIO;
	}
}

/*
 * The kernel's arm_vsmmu_cache_invalidate(): the whole array copied in
 * first (the guest cannot change an entry between its check and its
 * issue), converted in order, issued in batches with a CMD_SYNC each.
 * The count handled stops at the first entry refused.
 */
static int arm_vsmmu_cache_invalidate(struct sio_iommu_viommu *v,
				      struct sio_iommu_user_data_array *array)
{
	struct arm_vsmmu *vsmmu = (struct arm_vsmmu *)v;
	uint32_t n = array->entry_num, cur = 0, last = 0;
	uint64_t(*cmds)[2] = NULL;
	int rc;

	/*
	 * The kernel's one kzalloc of the array fails past KMALLOC_MAX_SIZE
	 * (4 MiB with 4 KiB pages): an entry_num no guest needs is ENOMEM
	 * there, and must not become a huge allocation here.
	 */
	if ((uint64_t)n * sizeof(*cmds) <= VSMMU_INVALIDATE_MAX_BYTES)
		cmds = sio_calloc(n ? n : 1, sizeof(*cmds));
	if (!cmds) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	rc = sio_iommu_copy_full_user_array(
		cmds, sizeof(*cmds), array,
		SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3);
	while (!rc && cur != n) {
		rc = convert_user_cmd(vsmmu, cmds[cur]);
		if (rc)
			break;
		cur++;
		if (cur != n && cur - last != ARM_SMMU_CMDQ_BATCH)
			continue;
		rc = arm_smmu_cmdq_issue_cmdlist(
			vsmmu->smmu, (const uint64_t(*)[2])cmds + last,
			cur - last);
		if (rc) {
			cur--;
			break;
		}
		last = cur;
	}
	array->entry_num = cur;
	free(cmds);
	return rc;
}

/*
 * The kernel's arm_vmaster_report_event(): the raw record with the
 * guest's StreamID (the vSID) in place of the physical one.
 */
int arm_vmaster_report_event(const struct arm_smmu_master *vmaster,
			     const uint64_t ev[4])
{
	struct sio_iommu_viommu *v = &vmaster->vsmmu->core;
	struct sio_iommu_vevent_arm_smmuv3 vevt;

	vevt.evt[0] = (ev[0] & 0xffffffffull) | (vmaster->vsid << 32);
	vevt.evt[1] = ev[1];
	vevt.evt[2] = ev[2];
	vevt.evt[3] = ev[3];
	return v->report_event(v, SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, &vevt,
			       sizeof(vevt));
}

/* A vEVENTQ exists: the event thread must run to fill it. */
static int arm_vsmmu_veventq_enable(struct sio_iommu_viommu *v)
{
	return arm_smmu_events_start(((struct arm_vsmmu *)v)->smmu);
}

static void arm_vsmmu_destroy(struct sio_iommu_viommu *v)
{
	free(v);
}

static const struct sio_iommu_viommu_ops arm_vsmmu_ops = {
	.alloc_domain_nested = arm_vsmmu_alloc_domain_nested,
	.cache_invalidate = arm_vsmmu_cache_invalidate,
	.veventq_enable = arm_vsmmu_veventq_enable,
	.destroy = arm_vsmmu_destroy,
};

/*
 * The kernel's arm_smmu_get_viommu_size(): a vSMMU needs both stages,
 * and a way to keep the guest from making DMA non-coherent (VFIO does
 * no cache maintenance): a coherent device (canwbs: COHACC here) or
 * S2FWB, which this driver never uses.
 */
bool arm_vsmmu_supported(struct sio_iommu_dev *iommu, uint32_t sid,
			 uint32_t type)
{
	struct arm_smmu_device *smmu = (struct arm_smmu_device *)iommu;

	(void)sid;
	if (!arm_smmu_nesting_capable(smmu))
		return false;
	if (!((smmu->idr[0] >> 4) & 1)) /* IDR0.COHACC */
		return false;
	return type == SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
}

int arm_vsmmu_alloc(struct sio_iommu_dev *iommu,
		    struct sio_iommu_domain *parent, uint32_t type,
		    struct sio_iommu_viommu **out)
{
	struct arm_smmu_device *smmu = (struct arm_smmu_device *)iommu;
	struct arm_smmu_domain *s2_parent = to_smmu_domain(parent);
	struct arm_vsmmu *vsmmu;

	if (type != SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3)
		return -EOPNOTSUPP;
	/* a parent of another SMMU instance: its stage 2 is not ours */
	if (parent->iommu != iommu || parent->type != SIO_DOMAIN_PAGING ||
	    s2_parent->stage != SIO_PGT_STAGE2)
		return -EINVAL;
	vsmmu = sio_calloc(1, sizeof(*vsmmu));
	if (!vsmmu)
		return -ENOMEM;
	vsmmu->core.ops = &arm_vsmmu_ops;
	vsmmu->core.iommu = iommu;
	vsmmu->smmu = smmu;
	vsmmu->s2_parent = s2_parent;
	vsmmu->vmid = s2_parent->vmid;
	*out = &vsmmu->core;
	return 0;
}
