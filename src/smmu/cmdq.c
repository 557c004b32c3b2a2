// SPDX-License-Identifier: MIT
/*
 * The command queue (SMMUv3 chapter 4).  Commands are consumed when
 * software moves CMDQ_PROD (or enables the queue, or acknowledges an
 * error), in the writer's thread, so every command has completed by the
 * time the register write returns — CMD_SYNC completion included.  An
 * illegal command, or an abort reading one, stops consumption with
 * CMDQ_CONS pointing at it, CONS.ERR saying why and GERROR.CMDQ_ERR
 * active until software acknowledges it in GERRORN.
 *
 * Invalidations take effect on the caches at once; the CMD_SYNC after
 * them waits until no walk or DMA that started before them is still in
 * flight, which is what completion of an invalidation means (section
 * 4.3.8).
 */
#include <endian.h>

#include "smmu_cache.h"

/* Opcodes (section 4.1.1). */
#define CMD_PREFETCH_CONFIG 0x01
#define CMD_PREFETCH_ADDR   0x02
#define CMD_CFGI_STE	    0x03
#define CMD_CFGI_STE_RANGE  0x04
#define CMD_CFGI_CD	    0x05
#define CMD_CFGI_CD_ALL	    0x06
#define CMD_TLBI_NH_ALL	    0x10
#define CMD_TLBI_NH_ASID    0x11
#define CMD_TLBI_NH_VA	    0x12
#define CMD_TLBI_NH_VAA	    0x13
#define CMD_TLBI_EL2_ALL    0x20
#define CMD_TLBI_EL2_ASID   0x21
#define CMD_TLBI_EL2_VA	    0x22
#define CMD_TLBI_EL2_VAA    0x23
#define CMD_TLBI_S12_VMALL  0x28
#define CMD_TLBI_S2_IPA	    0x2a
#define CMD_TLBI_NSNH_ALL   0x30
#define CMD_ATC_INV	    0x40
#define CMD_PRI_RESP	    0x41
#define CMD_RESUME	    0x44
#define CMD_STALL_TERM	    0x45
#define CMD_SYNC	    0x46

#define CMD0_OP		 GENMASK(7, 0)
#define CMD0_ATC_GLOBAL	 BIT(9)
#define CMD0_SSEC	 BIT(10)
#define CMD0_SSV	 BIT(11)
#define CMD0_RANGE_NUM	 GENMASK(16, 12)
#define CMD0_RANGE_SCALE GENMASK(24, 20)
#define CMD0_SSID	 GENMASK(31, 12)
#define CMD0_VMID	 GENMASK(47, 32)
#define CMD0_ASID	 GENMASK(63, 48)
#define CMD0_SID	 GENMASK(63, 32)
#define CMD1_STE_RANGE	 GENMASK(4, 0)
#define CMD1_LEAF	 BIT(0)
#define CMD1_ATC_SIZE	 GENMASK(5, 0)
#define CMD1_TTL	 GENMASK(9, 8)
#define CMD1_TG		 GENMASK(11, 10)
#define CMD1_VA		 GENMASK(63, 12)
#define CMD1_IPA	 GENMASK(51, 12)
#define CMD0_SYNC_CS	 GENMASK(13, 12)
#define SYNC_CS_NONE	 0
#define SYNC_CS_IRQ	 1
#define SYNC_CS_SEV	 2
#define CMD0_RESUME_AC	 BIT(12) /* Retry, else terminate */
#define CMD1_STAG	 GENMASK(15, 0)

/*
 * The range and level hint of TLBI_NH_VA/VAA, EL2_VA/VAA and S2_IPA
 * (section 4.4.1.1).  Without IDR3.RIL the fields are RES0 and ignored;
 * with TG == 0 there is no range and no hint.  Otherwise the range is
 * ((NUM + 1) << SCALE) granules from the address, and TTL names the level
 * of the leaves, except that with the 16K granule level 1 is reserved and
 * taken as "any".  Returns false for the reserved NUM == SCALE == TTL == 0.
 */
static bool decode_range(const struct sio_smmu *smmu, const uint64_t *cmd,
			 uint64_t addr, struct tlb_inv *inv)
{
	unsigned int tg = (unsigned int)FIELD_GET(CMD1_TG, cmd[1]);
	unsigned int ttl = (unsigned int)FIELD_GET(CMD1_TTL, cmd[1]);
	uint64_t num = FIELD_GET(CMD0_RANGE_NUM, cmd[0]);
	unsigned int scale = (unsigned int)FIELD_GET(CMD0_RANGE_SCALE, cmd[0]);
	unsigned int gshift = 10 + 2 * tg;
	uint64_t span_hi;

	inv->by_addr = true;
	inv->first = inv->last = addr;
	inv->tg = inv->ttl = 0;
	if (!smmu->cfg.ril || !tg)
		return true;
	if (tg == 2 && ttl == 1)
		ttl = 0;
	if (!num && !scale && !ttl)
		return false;
	inv->tg = tg;
	inv->ttl = ttl;
	/* (num + 1) << (scale + gshift) bytes, at most 2^(5 + 31 + 16). */
	span_hi = ((num + 1) << (scale + gshift)) - 1;
	/* The range does not wrap past the top of the address space. */
	inv->last = addr + span_hi < addr ? ~0ull : addr + span_hi;
	return true;
}

static void invalidation_begins(struct sio_smmu *smmu)
{
	/* Before any scan: see smmu_cache.h. */
	atomic_fetch_add(&smmu->inv_gen, 1);
	smmu->sync_wait = true;
}

/* The VMID of a TLBI: matched only when stage 2 is implemented. */
static void inv_vmid(const struct sio_smmu *smmu, const uint64_t *cmd,
		     struct tlb_inv *inv)
{
	inv->match_vmid = smmu->cfg.stage2;
	inv->vmid = inv->match_vmid ? (uint16_t)FIELD_GET(CMD0_VMID, cmd[0])
				    : 0;
}

static unsigned int cfgi(struct sio_smmu *smmu, const uint64_t *cmd,
			 unsigned int op)
{
	uint32_t sid = (uint32_t)FIELD_GET(CMD0_SID, cmd[0]);
	unsigned int range;
	uint32_t mask;

	/* The Non-secure queue cannot name Secure streams. */
	if (cmd[0] & CMD0_SSEC)
		return CMDQ_ERR_ILL;
	if ((op == CMD_CFGI_CD || op == CMD_CFGI_CD_ALL) && !smmu->cfg.stage1)
		return CMDQ_ERR_ILL;
	invalidation_begins(smmu);
	switch (op) {
	case CMD_CFGI_STE:
		cfgc_inv_ste(smmu, sid, sid);
		break;
	case CMD_CFGI_STE_RANGE:
		/* 2^(Range + 1) StreamIDs, aligned; Range 31 is CFGI_ALL. */
		range = (unsigned int)FIELD_GET(CMD1_STE_RANGE, cmd[1]);
		mask = range >= 31 ? ~0u : (2u << range) - 1;
		cfgc_inv_ste(smmu, sid & ~mask, sid | mask);
		break;
	case CMD_CFGI_CD:
		cfgc_inv_cd(smmu, sid, (uint32_t)FIELD_GET(CMD0_SSID, cmd[0]));
		break;
	case CMD_CFGI_CD_ALL:
		cfgc_inv_cd_all(smmu, sid);
		break;
	}
	return CMDQ_ERR_NONE;
}

/* The address, range and Leaf of a TLBI by VA; false for CERROR_ILL. */
static bool inv_by_va(const struct sio_smmu *smmu, const uint64_t *cmd,
		      struct tlb_inv *inv, bool *leaf)
{
	*leaf = cmd[1] & CMD1_LEAF;
	return decode_range(smmu, cmd, tlb_va_key(cmd[1] & CMD1_VA), inv);
}

/*
 * Invalidate @inv's kind and, unless @leaf, the same scope among the walk
 * entries of that stage.  A walk entry is not a leaf: TG and TTL, which
 * describe leaves, do not narrow its invalidation.
 */
static void tlb_inv_with_walks(struct sio_smmu *smmu, struct tlb_inv *inv,
			       bool leaf)
{
	struct tlb_inv all[3] = {*inv, *inv, *inv};
	unsigned int n = 1;

	if (!leaf) {
		all[1].kind += TLB_KIND_S1_WALK;
		all[1].tg = all[1].ttl = 0;
		n = 2;
		if (inv->kind == TLB_KIND_S1) {
			all[2] = all[1];
			all[2].kind = TLB_KIND_S1_WALK_PA;
			n = 3;
		}
	}
	/* one pass over the TLB for all of them, if they need a scan */
	tlb_invalidate_many(smmu, all, n);
}

static unsigned int tlbi(struct sio_smmu *smmu, const uint64_t *cmd,
			 unsigned int op)
{
	struct tlb_inv inv = {.kind = TLB_KIND_S1};
	bool leaf = false;

	switch (op) {
	case CMD_TLBI_NH_ALL:
		inv_vmid(smmu, cmd, &inv);
		break;
	case CMD_TLBI_NH_ASID:
		/* Walk entries are never global: they all go. */
		inv_vmid(smmu, cmd, &inv);
		inv.match_asid = inv.keep_global = true;
		inv.asid = (uint16_t)FIELD_GET(CMD0_ASID, cmd[0]);
		break;
	case CMD_TLBI_NH_VA:
		/* Global entries go too, whatever their ASID. */
		inv.match_asid = true;
		inv.asid = (uint16_t)FIELD_GET(CMD0_ASID, cmd[0]);
		/* fallthrough */
	case CMD_TLBI_NH_VAA:
		inv_vmid(smmu, cmd, &inv);
		if (!inv_by_va(smmu, cmd, &inv, &leaf))
			return CMDQ_ERR_ILL;
		break;
	case CMD_TLBI_S2_IPA:
		/* Stage-2-only entries: combined ones are not required. */
		inv.kind = TLB_KIND_S2;
		inv_vmid(smmu, cmd, &inv);
		if (!decode_range(smmu, cmd, cmd[1] & CMD1_IPA, &inv))
			return CMDQ_ERR_ILL;
		leaf = cmd[1] & CMD1_LEAF;
		break;
	case CMD_TLBI_S12_VMALL:
		inv_vmid(smmu, cmd, &inv);
		invalidation_begins(smmu);
		tlb_inv_with_walks(smmu, &inv, false);
		inv.kind = TLB_KIND_S2;
		tlb_inv_with_walks(smmu, &inv, false);
		return CMDQ_ERR_NONE;
	case CMD_TLBI_NSNH_ALL:
		invalidation_begins(smmu);
		tlb_invalidate_all(smmu);
		return CMDQ_ERR_NONE;
	}
	invalidation_begins(smmu);
	tlb_inv_with_walks(smmu, &inv, leaf);
	return CMDQ_ERR_NONE;
}

/*
 * TLBI_EL2_* (sections 4.4.2.7-10), on the NS-EL2 and NS-EL2-E2H entries
 * that STEs with STRW == 0b10 insert, tagged TLB_VMID_EL2: the scopes of
 * the NH commands (walk entries too unless Leaf) in that tag instead of
 * a VMID, so no NS-EL1 entry goes with them.
 */
static unsigned int tlbi_el2(struct sio_smmu *smmu, const uint64_t *cmd,
			     unsigned int op)
{
	struct tlb_inv inv = {
		.kind = TLB_KIND_S1, .match_vmid = true, .vmid = TLB_VMID_EL2};
	uint16_t asid = (uint16_t)FIELD_GET(CMD0_ASID, cmd[0]);
	bool leaf = false;

	if (!smmu->cfg.hyp)
		return CMDQ_ERR_ILL;
	switch (op) {
	case CMD_TLBI_EL2_ASID:
		/* E2H entries; EL2 ones, untagged, need not go (4.4.2.10). */
		inv.match_asid = inv.keep_global = true;
		inv.asid = asid;
		break;
	case CMD_TLBI_EL2_VA:
		/* Without E2H the ASID is ignored (4.4.2.8): every ASID. */
		if (atomic_load(&smmu->cr2) & CR2_E2H) {
			inv.match_asid = true;
			inv.asid = asid;
		}
		/* fallthrough */
	case CMD_TLBI_EL2_VAA:
		if (!inv_by_va(smmu, cmd, &inv, &leaf))
			return CMDQ_ERR_ILL;
		break;
	}
	invalidation_begins(smmu);
	tlb_inv_with_walks(smmu, &inv, leaf);
	return CMDQ_ERR_NONE;
}

/*
 * CMD_ATC_INV (section 4.5.1): an ATS Invalidate Request to the device's
 * ATC for 4096 << Size bytes at Address, aligned to the span (Size 52:
 * everything; beyond 52 CERROR_ILL, as permitted).  The device answers
 * at once; one that did not complete fails the next CMD_SYNC with
 * CERROR_ATC_INV_SYNC (3.9.1.4).
 */
static unsigned int atc_inv(struct sio_smmu *smmu, const uint64_t *cmd)
{
	unsigned int size = (unsigned int)FIELD_GET(CMD1_ATC_SIZE, cmd[1]);
	unsigned int log2 = size >= 52 ? 64 : 12 + size;
	bool ssv = (cmd[0] & CMD0_SSV) && smmu->cfg.ssid_bits;
	uint64_t addr = log2 >= 64 ? 0
				   : cmd[1] & CMD1_VA & ~((1ull << log2) - 1);

	if (!smmu->cfg.ats || (cmd[0] & CMD0_SSEC) || size > 52)
		return CMDQ_ERR_ILL;
	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN) || !smmu->atc_inv)
		return CMDQ_ERR_NONE; /* IGNORED */
	/* Global is meaningful only with a PASID. */
	if (smmu->atc_inv(smmu->atc_opaque,
			  (uint32_t)FIELD_GET(CMD0_SID, cmd[0]), ssv,
			  ssv ? (uint32_t)FIELD_GET(CMD0_SSID, cmd[0]) : 0,
			  ssv && (cmd[0] & CMD0_ATC_GLOBAL), addr, log2))
		smmu->atc_failed = true;
	return CMDQ_ERR_NONE;
}

/*
 * CMD_RESUME and CMD_STALL_TERM (section 4.7).  Terminate means abort
 * whatever Ab says: IDR0.TERM_MODEL == 1.
 */
static unsigned int stall_cmd(struct sio_smmu *smmu, const uint64_t *cmd,
			      unsigned int op)
{
	uint32_t sid = (uint32_t)FIELD_GET(CMD0_SID, cmd[0]);

	if (smmu->cfg.stall_model == 1 || (cmd[0] & CMD0_SSEC))
		return CMDQ_ERR_ILL;
	if (op == CMD_RESUME)
		smmu_stall_resume(smmu, sid,
				  (uint32_t)FIELD_GET(CMD1_STAG, cmd[1]),
				  cmd[0] & CMD0_RESUME_AC);
	else
		smmu_stall_term(smmu, sid);
	return CMDQ_ERR_NONE;
}

static unsigned int sync(struct sio_smmu *smmu, const uint64_t *cmd)
{
	unsigned int cs = (unsigned int)FIELD_GET(CMD0_SYNC_CS, cmd[0]);

	if (cs != SYNC_CS_NONE && cs != SYNC_CS_IRQ && cs != SYNC_CS_SEV)
		return CMDQ_ERR_ILL;
	/*
	 * An ATC invalidation before it did not complete.  Reported once: a
	 * retried CMD_SYNC after the error is acknowledged completes.
	 */
	if (smmu->atc_failed) {
		smmu->atc_failed = false;
		return CMDQ_ERR_ATC_INV_SYNC;
	}
	/*
	 * Complete the invalidations before it: wait out older walks, then
	 * the events they decided, which are written after their sections.
	 */
	if (smmu->sync_wait) {
		sio_mem_barrier(smmu->bus);
		smmu_unrecorded_flush(smmu);
		smmu->sync_wait = false;
	}
	/* No MSIs (IDR0.MSI == 0): CS == IRQ is the wired interrupt. */
	if (cs == SYNC_CS_IRQ)
		smmu_raise_irq(smmu, SIO_SMMU_IRQ_CMD_SYNC);
	return CMDQ_ERR_NONE;
}

/* Execute one command; returns a CONS.ERR code (0 on success). */
static unsigned int execute_one(struct sio_smmu *smmu, const uint64_t *cmd)
{
	const struct sio_smmu_config *c = &smmu->cfg;
	unsigned int op = (unsigned int)FIELD_GET(CMD0_OP, cmd[0]);

	switch (op) {
	case CMD_PREFETCH_CONFIG:
	case CMD_PREFETCH_ADDR:
		/* hints; but SSec on the Non-secure queue is ILLEGAL (4.1.6) */
		return cmd[0] & CMD0_SSEC ? CMDQ_ERR_ILL : CMDQ_ERR_NONE;
	case CMD_CFGI_STE:
	case CMD_CFGI_STE_RANGE:
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		return cfgi(smmu, cmd, op);
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NH_ASID:
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
		return c->stage1 ? tlbi(smmu, cmd, op) : CMDQ_ERR_ILL;
	case CMD_TLBI_EL2_ALL:
	case CMD_TLBI_EL2_ASID:
	case CMD_TLBI_EL2_VA:
	case CMD_TLBI_EL2_VAA:
		return tlbi_el2(smmu, cmd, op);
	case CMD_TLBI_S12_VMALL:
	case CMD_TLBI_S2_IPA:
		return c->stage2 ? tlbi(smmu, cmd, op) : CMDQ_ERR_ILL;
	case CMD_TLBI_NSNH_ALL:
		return tlbi(smmu, cmd, op);
	case CMD_ATC_INV:
		return atc_inv(smmu, cmd);
	case CMD_PRI_RESP:
		return smmu_pri_resp(smmu, cmd);
	case CMD_RESUME:
	case CMD_STALL_TERM:
		return stall_cmd(smmu, cmd, op);
	case CMD_SYNC:
		return sync(smmu, cmd);
	}
	/* Unknown, Secure-only, or unimplemented (VMS, DPT) opcodes. */
	return CMDQ_ERR_ILL;
}

static unsigned int execute(struct sio_smmu *smmu, const uint64_t *cmd)
{
	uint64_t gen = atomic_load(&smmu->inv_gen);
	unsigned int err = execute_one(smmu, cmd);

	/* An invalidation's scans are done: retire the micro-TLB. */
	if (atomic_load(&smmu->inv_gen) != gen)
		utlb_advance(smmu);
	return err;
}

static void stop(struct sio_smmu *smmu, unsigned int err)
{
	smmu->cmdq.cons = (smmu->cmdq.cons & ~(uint32_t)CMDQ_CONS_ERR) |
			  (uint32_t)FIELD_PREP(CMDQ_CONS_ERR, err);
	smmu_gerror_toggle(smmu, GERROR_CMDQ_ERR);
}

void smmu_cmdq_process(struct sio_smmu *smmu)
{
	struct smmu_queue *q = &smmu->cmdq;

	if (!(atomic_load(&smmu->cr0) & CR0_CMDQEN))
		return;
	/* Halted while an error is active (GERROR != GERRORN). */
	if ((atomic_load(&smmu->gerror) ^ smmu->gerrorn) & GERROR_CMDQ_ERR)
		return;
	while (!q_empty(q)) {
		uint64_t cmd[2];
		unsigned int err;

		if (sio_mem_read(smmu->bus, q_slot_addr(q, q->cons), cmd,
				 sizeof(cmd))) {
			stop(smmu, CMDQ_ERR_ABT);
			return;
		}
		cmd[0] = le64toh(cmd[0]);
		cmd[1] = le64toh(cmd[1]);
		err = execute(smmu, cmd);
		if (err) {
			stop(smmu, err);
			return;
		}
		q->cons = q_inc(q, q->cons);
	}
}
