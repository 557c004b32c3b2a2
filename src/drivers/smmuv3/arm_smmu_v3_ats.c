// SPDX-License-Identifier: MIT
/*
 * ATS of the SMMUv3 driver, as the kernel's arm-smmu-v3 keeps it: every
 * domain knows the StreamIDs (and PASIDs) attached to it whose devices
 * may cache its translations in their ATCs (the kernel's
 * arm_smmu_master_domain list), and after the TLB invalidation of an
 * unmap it sends each of them CMD_ATC_INV for the range, then CMD_SYNC,
 * which completes only once the devices answered.  A stage-2 domain
 * under a nested device with ATS has no way to name the ATC's entries
 * (they hold guest IOVAs), so those devices lose their whole ATC on any
 * change to it.
 */
#include <errno.h>
#include <stdlib.h>

#include "arm_smmu_v3.h"
#include "fault/fault_inject.h"

void arm_smmu_domain_ats_init(struct arm_smmu_domain *sd)
{
	pthread_mutex_init(&sd->ats_lock, NULL);
}

void arm_smmu_domain_ats_destroy(struct arm_smmu_domain *sd)
{
	free(sd->ats);
	pthread_mutex_destroy(&sd->ats_lock);
}

int arm_smmu_domain_ats_add(struct arm_smmu_domain *sd, uint32_t sid, bool ssv,
			    uint32_t ssid, bool full)
{
	int rc = 0;

	pthread_mutex_lock(&sd->ats_lock);
	if (sd->nr_ats == sd->ats_cap) {
		unsigned int cap = sd->ats_cap ? 2 * sd->ats_cap : 4;
		void *p = sio_realloc(sd->ats, cap * sizeof(*sd->ats));

		if (!p) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		sd->ats = p;
		sd->ats_cap = cap;
	}
	sd->ats[sd->nr_ats] = (struct arm_smmu_ats_ent){
		.sid = sid, .ssid = ssid, .ssv = ssv, .full = full};
	__atomic_store_n(&sd->nr_ats, sd->nr_ats + 1, __ATOMIC_RELEASE);
out_unlock:
	pthread_mutex_unlock(&sd->ats_lock);
	return rc;
}

void arm_smmu_domain_ats_del(struct arm_smmu_domain *sd, uint32_t sid, bool ssv,
			     uint32_t ssid, bool full)
{
	pthread_mutex_lock(&sd->ats_lock);
	for (unsigned int i = 0; i < sd->nr_ats; i++) {
		struct arm_smmu_ats_ent *e = &sd->ats[i];

		if (e->sid == sid && e->ssv == ssv && e->full == full &&
		    (!ssv || e->ssid == ssid)) {
			*e = sd->ats[sd->nr_ats - 1];
			__atomic_store_n(&sd->nr_ats, sd->nr_ats - 1,
					 __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_mutex_unlock(&sd->ats_lock);
}

/*
 * The ATC_INV span for [iova, iova + size): the smallest naturally
 * aligned power of two of 4 KiB pages holding it, as Size encodes it
 * (section 4.5.1); size 0 is everything.
 */
static void atc_span(uint64_t iova, uint64_t size, uint64_t *addr,
		     unsigned int *log2)
{
	uint64_t first = iova >> 12, last = (iova + size - 1) >> 12;
	unsigned int span = 0;

	if (!size || last < first) {
		*addr = 0;
		*log2 = ATC_INV_SIZE_ALL;
		return;
	}
	while (span < 64 && (first >> span) != (last >> span))
		span++;
	if (span >= ATC_INV_SIZE_ALL) {
		*addr = 0;
		*log2 = ATC_INV_SIZE_ALL;
		return;
	}
	*addr = (first >> span) << span << 12;
	*log2 = span;
}

void arm_smmu_make_atc_inv_cmd(uint64_t *cmd, uint32_t sid, bool ssv,
			       uint32_t ssid, uint64_t addr, unsigned int log2)
{
	cmd[0] = CMD_ATC_INV | ((uint64_t)sid << CMD_SID_SHIFT);
	if (ssv)
		cmd[0] |= CMD_SSV | ((uint64_t)ssid << CMD_SSID_SHIFT);
	cmd[1] = addr | log2;
}

static bool stream_ats_on(struct arm_smmu_device *dev, uint32_t sid)
{
	struct arm_smmu_stream *st = arm_smmu_stream(dev, sid);

	return st && __atomic_load_n(&st->ats_enabled, __ATOMIC_ACQUIRE);
}

int arm_smmu_atc_inv_domain(struct arm_smmu_domain *sd, uint64_t iova,
			    uint64_t size)
{
	uint64_t cmds[ARM_SMMU_CMDQ_BATCH][2], addr;
	unsigned int n = 0, log2;
	int rc = 0, irc;

	/* no list: nothing to look at (the common case, cheaply) */
	if (!__atomic_load_n(&sd->nr_ats, __ATOMIC_RELAXED))
		return 0;
	atc_span(iova, size, &addr, &log2);
	pthread_mutex_lock(&sd->ats_lock);
	for (unsigned int i = 0; i < sd->nr_ats; i++) {
		const struct arm_smmu_ats_ent *e = &sd->ats[i];

		if (!stream_ats_on(sd->dev, e->sid))
			continue;
		/* guest IOVAs, which no IPA range names: the whole ATC */
		if (e->full)
			arm_smmu_make_atc_inv_cmd(cmds[n], e->sid, false, 0, 0,
						  ATC_INV_SIZE_ALL);
		else
			arm_smmu_make_atc_inv_cmd(cmds[n], e->sid, e->ssv,
						  e->ssid, addr, log2);
		if (++n < ARM_SMMU_CMDQ_BATCH)
			continue;
		irc = arm_smmu_cmdq_issue_cmdlist(
			sd->dev, (const uint64_t(*)[2])cmds, n);
		rc = rc ? rc : irc;
		n = 0;
	}
	if (n) {
		irc = arm_smmu_cmdq_issue_cmdlist(
			sd->dev, (const uint64_t(*)[2])cmds, n);
		rc = rc ? rc : irc;
	}
	pthread_mutex_unlock(&sd->ats_lock);
	return rc;
}

int arm_smmu_rid_ats_prepare(struct arm_smmu_stream *st, uint32_t sid,
			     struct arm_smmu_domain *sd, bool full)
{
	if (!sd || !st->ats_supported)
		return 0;
	return arm_smmu_domain_ats_add(sd, sid, false, 0, full);
}

void arm_smmu_rid_ats_abort(struct arm_smmu_stream *st, uint32_t sid,
			    struct arm_smmu_domain *sd, bool full)
{
	if (sd && st->ats_supported)
		arm_smmu_domain_ats_del(sd, sid, false, 0, full);
}

void arm_smmu_rid_ats_commit(struct arm_smmu_stream *st, uint32_t sid,
			     struct arm_smmu_domain *sd, bool full)
{
	if (st->rid_ats)
		arm_smmu_domain_ats_del(st->rid_ats, sid, false, 0,
					st->rid_ats_full);
	st->rid_ats = st->ats_supported ? sd : NULL;
	st->rid_ats_full = full;
}
