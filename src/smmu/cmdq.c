// SPDX-License-Identifier: MIT
/*
 * The command queue (SMMUv3 chapter 4).  Commands are consumed when
 * software moves CMDQ_PROD (or enables the queue, or acknowledges an
 * error), in the writer's thread, so every command has completed by the
 * time the register write returns — CMD_SYNC completion included.  An
 * illegal command, or an abort reading one, stops consumption with
 * CMDQ_CONS pointing at it, CONS.ERR saying why and GERROR.CMDQ_ERR
 * active until software acknowledges it in GERRORN.
 */
#include <endian.h>

#include "smmu_private.h"

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
#define CMD0_SSEC	 BIT(10)
#define CMD0_RANGE_NUM	 GENMASK(16, 12)
#define CMD0_RANGE_SCALE GENMASK(24, 20)
#define CMD1_TTL	 GENMASK(9, 8)
#define CMD1_TG		 GENMASK(11, 10)
#define CMD0_SYNC_CS	 GENMASK(13, 12)
#define SYNC_CS_NONE	 0
#define SYNC_CS_IRQ	 1
#define SYNC_CS_SEV	 2

/*
 * Range invalidation fields of TLBI_NH_VA/VAA, EL2_VA/VAA and S2_IPA
 * (section 4.4): with TG == 0 there is no range and no TTL; TG != 0
 * needs IDR3.RIL, and NUM == SCALE == TTL == 0 with it is reserved.
 */
static bool range_ok(const struct sio_smmu *smmu, const uint64_t *cmd)
{
	uint64_t tg = FIELD_GET(CMD1_TG, cmd[1]);

	if (!tg)
		return true;
	if (!smmu->cfg.ril)
		return true; /* TG, NUM, SCALE are RES0: not used */
	return FIELD_GET(CMD0_RANGE_NUM, cmd[0]) ||
	       FIELD_GET(CMD0_RANGE_SCALE, cmd[0]) ||
	       FIELD_GET(CMD1_TTL, cmd[1]);
}

/* Execute one command; returns a CONS.ERR code (0 on success). */
static unsigned int execute(struct sio_smmu *smmu, const uint64_t *cmd)
{
	const struct sio_smmu_config *c = &smmu->cfg;

	switch (FIELD_GET(CMD0_OP, cmd[0])) {
	case CMD_PREFETCH_CONFIG:
	case CMD_PREFETCH_ADDR:
		return CMDQ_ERR_NONE; /* hints */
	case CMD_CFGI_STE:
	case CMD_CFGI_STE_RANGE:
	case CMD_CFGI_CD:
	case CMD_CFGI_CD_ALL:
		/* The Non-secure queue cannot name Secure streams. */
		return (cmd[0] & CMD0_SSEC) ? CMDQ_ERR_ILL : CMDQ_ERR_NONE;
	case CMD_TLBI_NH_ALL:
	case CMD_TLBI_NH_ASID:
		return c->stage1 ? CMDQ_ERR_NONE : CMDQ_ERR_ILL;
	case CMD_TLBI_NH_VA:
	case CMD_TLBI_NH_VAA:
		return c->stage1 && range_ok(smmu, cmd) ? CMDQ_ERR_NONE
							: CMDQ_ERR_ILL;
	case CMD_TLBI_EL2_ALL:
	case CMD_TLBI_EL2_ASID:
		return c->hyp ? CMDQ_ERR_NONE : CMDQ_ERR_ILL;
	case CMD_TLBI_EL2_VA:
	case CMD_TLBI_EL2_VAA:
		return c->hyp && range_ok(smmu, cmd) ? CMDQ_ERR_NONE
						     : CMDQ_ERR_ILL;
	case CMD_TLBI_S12_VMALL:
		return c->stage2 ? CMDQ_ERR_NONE : CMDQ_ERR_ILL;
	case CMD_TLBI_S2_IPA:
		return c->stage2 && range_ok(smmu, cmd) ? CMDQ_ERR_NONE
							: CMDQ_ERR_ILL;
	case CMD_TLBI_NSNH_ALL:
		return CMDQ_ERR_NONE;
	case CMD_ATC_INV:
		return c->ats ? CMDQ_ERR_NONE : CMDQ_ERR_ILL;
	case CMD_PRI_RESP:
		return c->pri ? CMDQ_ERR_NONE : CMDQ_ERR_ILL;
	case CMD_RESUME:
	case CMD_STALL_TERM:
		/* Nothing stalls: there is nothing to resume. */
		return CMDQ_ERR_NONE;
	case CMD_SYNC:
		switch (FIELD_GET(CMD0_SYNC_CS, cmd[0])) {
		case SYNC_CS_NONE:
		case SYNC_CS_SEV:
			return CMDQ_ERR_NONE;
		case SYNC_CS_IRQ:
			/* No MSIs (IDR0.MSI == 0): the wired interrupt. */
			smmu_raise_irq(smmu, SIO_SMMU_IRQ_CMD_SYNC);
			return CMDQ_ERR_NONE;
		}
		return CMDQ_ERR_ILL;
	}
	/* Unknown, Secure-only, or unimplemented (VMS, DPT) opcodes. */
	return CMDQ_ERR_ILL;
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
