// SPDX-License-Identifier: MIT
/*
 * A transaction's path through the SMMU (section 3.3): global bypass or
 * abort while SMMUEN == 0, the STE, SubstreamID checks, the CD, stage 1,
 * stage 2 — recording the event of whatever stops it — and the access
 * itself through the bus.
 */
#include <errno.h>

#include "smmu_ste.h"

static void record_fault(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
			 const struct smmu_access *acc,
			 const struct smmu_fault *f)
{
	struct smmu_event ev;

	if (!f->record)
		return;
	smmu_event_init(&ev, f->id, txn);
	smmu_event_fault(&ev, acc, f);
	smmu_event_record(smmu, &ev);
}

static void record_cfg(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		       const struct smmu_access *acc,
		       const struct smmu_cfg_fault *cf)
{
	struct smmu_event ev;

	if (cf->s2fault) {
		record_fault(smmu, txn, acc, &cf->fault);
		return;
	}
	/* C_BAD_STREAMID is recorded only when software asks for it. */
	if (cf->id == EVT_C_BAD_STREAMID &&
	    !(atomic_load(&smmu->cr2) & CR2_RECINVSID))
		return;
	smmu_event_init(&ev, cf->id, txn);
	switch (cf->id) {
	case EVT_F_STE_FETCH:
	case EVT_F_CD_FETCH:
		ev.d[3] = cf->fetch & EVT3_FETCH;
		break;
	case EVT_C_BAD_SUBSTREAMID:
		/* Always the SubstreamID, with no SSV qualifier. */
		ev.d[0] &= ~(EVT0_SSV | EVT0_SSID);
		ev.d[0] |= FIELD_PREP(EVT0_SSID, cf->ssid);
		break;
	case EVT_F_STREAM_DISABLED:
		ev.d[0] &= ~(EVT0_SSV | EVT0_SSID);
		break;
	}
	smmu_event_record(smmu, &ev);
	/* The record of a configuration error carries nothing else. */
}

/* Bytes from @addr to the end of the region [base, base + size). */
static uint64_t remaining(uint64_t base, uint64_t size, uint64_t addr)
{
	return base + (size - 1) - addr + 1;
}

static int abort_with(struct sio_smmu_result *res, uint8_t id)
{
	res->event = id;
	return -EFAULT;
}

int sio_smmu_translate(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		       struct sio_smmu_result *res)
{
	struct smmu_access acc = {
		.input = txn->addr,
		.write = txn->attr & SIO_SMMU_WRITE,
		/* Writes are data, whatever the transaction says. */
		.instr = (txn->attr & SIO_SMMU_EXEC) &&
			 !(txn->attr & SIO_SMMU_WRITE),
		.priv = txn->attr & SIO_SMMU_PRIV,
	};
	struct smmu_cfg_fault cf = {0};
	struct smmu_fault f;
	struct smmu_leaf leaf;
	struct smmu_ste ste;
	struct smmu_s1 s1;
	uint64_t ipa = txn->addr, size = ~0ull;
	bool s1_on;
	int rc;

	res->event = 0;
	res->perm = acc.write ? SIO_MEM_WRITE : SIO_MEM_READ;
	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN)) {
		/* Disabled: GBPA decides, and no event is recorded. */
		if (atomic_load(&smmu->gbpa) & GBPA_ABORT)
			return -EFAULT;
		res->pa = txn->addr;
		res->size = -txn->addr ? -txn->addr : ~0ull;
		return 0;
	}
	if (smmu_ste_fetch(smmu, txn->sid, &ste, &cf)) {
		record_cfg(smmu, txn, &acc, &cf);
		return abort_with(res, cf.id);
	}
	if (ste.abort)
		return -EFAULT; /* Config 0b000: silently */
	s1_on = ste.s1;
	if (s1_on) {
		rc = smmu_cd_fetch(smmu, &ste, txn, &acc, &s1, &cf);
		if (rc < 0) {
			record_cfg(smmu, txn, &acc, &cf);
			return abort_with(res,
					  cf.s2fault ? cf.fault.id : cf.id);
		}
		s1_on = rc == 0;
	} else if (txn->ssv) {
		/* A SubstreamID without stage 1. */
		cf.id = EVT_C_BAD_SUBSTREAMID;
		cf.ssid = txn->ssid;
		record_cfg(smmu, txn, &acc, &cf);
		return abort_with(res, cf.id);
	}
	if (s1_on) {
		if (smmu_s1_translate(smmu, &s1, ste.s2 ? &ste.s2cfg : NULL,
				      &acc, &leaf, &f)) {
			record_fault(smmu, txn, &acc, &f);
			return abort_with(res, f.id);
		}
		ipa = leaf.oa;
		size = remaining(leaf.base, leaf.size, txn->addr);
	} else if (ste.s2 && smmu->oas < 64 && (txn->addr >> smmu->oas)) {
		/* Stage 1 bypassed: the input must fit the IAS (== OAS). */
		f = (struct smmu_fault){.id = EVT_F_ADDR_SIZE,
					.class = EVT_CLASS_IN,
					.record = true};
		record_fault(smmu, txn, &acc, &f);
		return abort_with(res, f.id);
	}
	if (ste.s2) {
		if (smmu_s2_translate(smmu, &ste.s2cfg, ipa, EVT_CLASS_IN,
				      acc.write, &acc, &leaf, &f)) {
			record_fault(smmu, txn, &acc, &f);
			return abort_with(res, f.id);
		}
		if (remaining(leaf.base, leaf.size, ipa) < size)
			size = remaining(leaf.base, leaf.size, ipa);
		ipa = leaf.oa;
	}
	res->pa = ipa;
	res->size = size;
	return 0;
}

int sio_smmu_dma(struct sio_smmu *smmu, const struct sio_smmu_txn *txn,
		 void *buf, size_t len, size_t *done)
{
	struct sio_smmu_txn t = *txn;
	size_t off = 0;

	if (done)
		*done = 0;
	while (off < len) {
		struct sio_smmu_result res;
		size_t chunk = len - off;
		int rc;

		t.addr = txn->addr + off;
		if (sio_smmu_translate(smmu, &t, &res))
			return -EFAULT;
		if (res.size < chunk)
			chunk = (size_t)res.size;
		rc = (txn->attr & SIO_SMMU_WRITE)
			     ? sio_mem_write(smmu->bus, res.pa,
					     (uint8_t *)buf + off, chunk)
			     : sio_mem_read(smmu->bus, res.pa,
					    (uint8_t *)buf + off, chunk);
		/* The target aborted: the device sees an external abort. */
		if (rc)
			return -EIO;
		off += chunk;
		if (done)
			*done = off;
	}
	return 0;
}
