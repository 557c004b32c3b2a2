// SPDX-License-Identifier: MIT
/*
 * The register file: 32- and 64-bit MMIO accesses at the offsets of
 * SMMUv3 section 6.3.  Updates that the architecture completes
 * asynchronously (CR0 to CR0ACK, GBPA.UPDATE, IRQ_CTRL to IRQ_CTRLACK)
 * complete before the write returns.
 */
#include "smmu_private.h"

void smmu_raise_irq(struct sio_smmu *smmu, enum sio_smmu_irq irq)
{
	if (smmu->irq)
		smmu->irq(smmu->irq_opaque, irq);
}

/* Flag global errors: a bit is active while GERROR and GERRORN differ. */
void smmu_gerror_toggle(struct sio_smmu *smmu, uint32_t bits)
{
	uint32_t active = atomic_load(&smmu->gerror) ^ smmu->gerrorn;

	bits &= ~active; /* already active: no new edge */
	if (!bits)
		return;
	atomic_fetch_xor(&smmu->gerror, bits);
	if (smmu->irq_ctrl & IRQ_CTRL_GERROR)
		smmu_raise_irq(smmu, SIO_SMMU_IRQ_GERROR);
}

static uint32_t lo(uint64_t v)
{
	return (uint32_t)v;
}

static uint32_t hi(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

static uint64_t set_half(uint64_t reg, bool upper, uint32_t val)
{
	return upper ? (reg & 0xffffffffull) | ((uint64_t)val << 32)
		     : (reg & ~0xffffffffull) | val;
}

/* 64-bit registers, by the offset of their low word. */
static uint64_t *reg64(struct sio_smmu *s, uint64_t off)
{
	switch (off) {
	case SMMU_CMDQ_BASE:
		return &s->cmdq.base;
	case SMMU_EVENTQ_BASE:
		return &s->evtq.base;
	case SMMU_PRIQ_BASE:
		/* the PRI queue's registers are there only with PRI */
		return s->cfg.pri ? &s->priq.base : NULL;
	}
	return NULL;
}

static uint32_t read_locked(struct sio_smmu *s, uint64_t off)
{
	uint64_t *r64;

	if (off <= SMMU_IDR5)
		return s->idr[off / 4];
	r64 = reg64(s, off & ~7ull);
	if (r64)
		return off & 4 ? hi(*r64) : lo(*r64);
	switch (off) {
	case SMMU_IIDR:
		return s->iidr;
	case SMMU_AIDR:
		return s->aidr;
	case SMMU_CR0:
	case SMMU_CR0ACK:
		return atomic_load(&s->cr0);
	case SMMU_CR1:
		return s->cr1;
	case SMMU_CR2:
		return atomic_load(&s->cr2);
	case SMMU_GBPA:
		return atomic_load(&s->gbpa);
	case SMMU_IRQ_CTRL:
	case SMMU_IRQ_CTRLACK:
		return s->irq_ctrl;
	case SMMU_GERROR:
		return atomic_load(&s->gerror);
	case SMMU_GERRORN:
		return s->gerrorn;
	case SMMU_STRTAB_BASE:
		return lo(atomic_load(&s->strtab_base));
	case SMMU_STRTAB_BASE + 4:
		return hi(atomic_load(&s->strtab_base));
	case SMMU_STRTAB_BASE_CFG:
		return atomic_load(&s->strtab_cfg);
	case SMMU_CMDQ_PROD:
		return s->cmdq.prod;
	case SMMU_CMDQ_CONS:
		return s->cmdq.cons;
	case SMMU_PRIQ_PROD:
		return s->cfg.pri ? s->priq.prod : 0;
	case SMMU_PRIQ_CONS:
		return s->cfg.pri ? s->priq.cons : 0;
	}
	/* reserved, and the IRQ_CFG registers without MSI (IDR0.MSI 0) */
	return 0;
}

static uint32_t read_evtq(struct sio_smmu *s, uint64_t off)
{
	uint32_t v;

	pthread_mutex_lock(&s->evtq_lock);
	v = off == SMMU_EVENTQ_PROD ? s->evtq.prod : s->evtq.cons;
	pthread_mutex_unlock(&s->evtq_lock);
	return v;
}

uint32_t sio_smmu_read32(struct sio_smmu *smmu, uint64_t offset)
{
	uint32_t v;

	if ((offset & 3) || offset >= SIO_SMMU_MMIO_SIZE)
		return 0;
	if (offset == SMMU_EVENTQ_PROD || offset == SMMU_EVENTQ_CONS)
		return read_evtq(smmu, offset);
	pthread_mutex_lock(&smmu->lock);
	v = read_locked(smmu, offset);
	pthread_mutex_unlock(&smmu->lock);
	return v;
}

static uint32_t cr0_en(const struct sio_smmu *s)
{
	return atomic_load(&s->cr0);
}

/*
 * The PROD/CONS bits that exist: the index and wrap bits for the queue's
 * size, plus @extra (OVFLG or OVACKFLG).
 */
static uint32_t q_ptr_bits(const struct smmu_queue *q, uint32_t v,
			   uint32_t extra)
{
	return v & (q_ptr_mask(q) | extra);
}

/*
 * The GERROR fields this SMMU has (6.3.20): no MSI (IDR0.MSI is 0), so
 * no MSI abort errors; PRIQ_ABT_ERR only with PRI; bit 1 is RES0.
 */
static uint32_t gerror_fields(const struct sio_smmu *s)
{
	return (uint32_t)(GERROR_CMDQ_ERR | GERROR_EVTQ_ABT_ERR |
			  (s->cfg.pri ? GERROR_PRIQ_ABT_ERR : 0) |
			  GERROR_SFM_ERR);
}

static void write_cr0(struct sio_smmu *s, uint32_t val)
{
	uint32_t old = atomic_load(&s->cr0);

	/* fields of features not implemented are RES0 (IDR0.VMW is 0) */
	val &= (uint32_t)CR0_WRITABLE & ~(uint32_t)CR0_VMW;
	if (!s->cfg.pri)
		val &= ~(uint32_t)CR0_PRIQEN;
	if (!s->cfg.ats)
		val &= ~(uint32_t)CR0_ATSCHK;
	atomic_store(&s->cr0, val);
	/* Disabling translation terminates every stalled transaction. */
	if ((old & CR0_SMMUEN) && !(val & CR0_SMMUEN))
		smmu_stall_term_all(s);
	if ((old ^ val) & CR0_EVTQEN)
		smmu_evtq_kick(s);
	if ((old & CR0_EVTQEN) && !(val & CR0_EVTQEN))
		smmu_evtq_quiesce(s);
	/* A command queue just enabled may already hold commands. */
	if ((val & CR0_CMDQEN) && !(old & CR0_CMDQEN))
		smmu_cmdq_process(s);
}

static void write_evtq(struct sio_smmu *s, uint64_t off, uint32_t val)
{
	pthread_mutex_lock(&s->evtq_lock);
	if (off == SMMU_EVENTQ_CONS)
		s->evtq.cons = q_ptr_bits(&s->evtq, val, Q_OVF);
	else if (!(cr0_en(s) & CR0_EVTQEN))
		s->evtq.prod = q_ptr_bits(&s->evtq, val, Q_OVF);
	pthread_mutex_unlock(&s->evtq_lock);
	/* Room, perhaps, for a stall record that did not fit. */
	smmu_evtq_kick(s);
}

static void write_base64(struct sio_smmu *s, uint64_t *reg, uint64_t off,
			 uint32_t val)
{
	uint32_t en = cr0_en(s);

	/* Queue bases are writable only while their queue is disabled. */
	if ((reg == &s->cmdq.base && (en & CR0_CMDQEN)) ||
	    (reg == &s->priq.base && (en & CR0_PRIQEN)))
		return;
	if (reg == &s->evtq.base) {
		pthread_mutex_lock(&s->evtq_lock);
		if (!(en & CR0_EVTQEN))
			*reg = set_half(*reg, off & 4, val);
		pthread_mutex_unlock(&s->evtq_lock);
		return;
	}
	*reg = set_half(*reg, off & 4, val);
}

static void write_locked(struct sio_smmu *s, uint64_t off, uint32_t val)
{
	uint64_t *r64 = reg64(s, off & ~7ull);
	uint32_t en = cr0_en(s);

	if (r64) {
		write_base64(s, r64, off, val);
		return;
	}
	switch (off) {
	case SMMU_CR0:
		write_cr0(s, val);
		break;
	case SMMU_CR1:
		s->cr1 = val & (uint32_t)GENMASK(11, 0);
		break;
	case SMMU_CR2:
		atomic_store(
			&s->cr2,
			val & (uint32_t)(CR2_RECINVSID |
					 (s->cfg.hyp ? CR2_E2H : 0) |
					 (s->cfg.ats ? CR2_REC_CFG_ATS : 0)));
		break;
	case SMMU_GBPA:
		/* Only a write with UPDATE changes it; done at once. */
		if (val & GBPA_UPDATE)
			atomic_store(&s->gbpa, val & (uint32_t)GBPA_FIELDS);
		break;
	case SMMU_IRQ_CTRL:
		s->irq_ctrl = val &
			      (uint32_t)(IRQ_CTRL_GERROR | IRQ_CTRL_EVTQ |
					 (s->cfg.pri ? IRQ_CTRL_PRIQ : 0));
		break;
	case SMMU_GERRORN:
		s->gerrorn = val & gerror_fields(s);
		smmu_evtq_kick(s);
		/* An acknowledged command-queue error lets it resume. */
		smmu_cmdq_process(s);
		break;
	case SMMU_STRTAB_BASE:
	case SMMU_STRTAB_BASE + 4:
		/* The stream table may not move under an enabled SMMU. */
		if (!(en & CR0_SMMUEN))
			atomic_store(&s->strtab_base,
				     set_half(atomic_load(&s->strtab_base),
					      off & 4, val) &
					     (STRTAB_BASE_ADDR |
					      STRTAB_BASE_RA));
		break;
	case SMMU_STRTAB_BASE_CFG:
		if (!(en & CR0_SMMUEN))
			atomic_store(&s->strtab_cfg,
				     val & (uint32_t)(STRTAB_CFG_LOG2SIZE |
						      STRTAB_CFG_SPLIT |
						      STRTAB_CFG_FMT));
		break;
	case SMMU_CMDQ_PROD:
		s->cmdq.prod = q_ptr_bits(&s->cmdq, val, 0);
		smmu_cmdq_process(s);
		break;
	case SMMU_CMDQ_CONS:
		/* ERR ignores the written value (one of 6.3.28's choices) */
		if (!(en & CR0_CMDQEN))
			s->cmdq.cons = q_ptr_bits(&s->cmdq, val, 0) |
				       (s->cmdq.cons & (uint32_t)CMDQ_CONS_ERR);
		break;
	case SMMU_PRIQ_PROD:
		if (s->cfg.pri && !(en & CR0_PRIQEN))
			s->priq.prod = q_ptr_bits(&s->priq, val, Q_OVF);
		break;
	case SMMU_PRIQ_CONS:
		if (s->cfg.pri)
			s->priq.cons = q_ptr_bits(&s->priq, val, Q_OVF);
		break;
	}
	/* Everything else is read-only or reserved: writes ignored. */
}

void sio_smmu_write32(struct sio_smmu *smmu, uint64_t offset, uint32_t val)
{
	if ((offset & 3) || offset >= SIO_SMMU_MMIO_SIZE)
		return;
	if (offset == SMMU_EVENTQ_PROD || offset == SMMU_EVENTQ_CONS) {
		write_evtq(smmu, offset, val);
		return;
	}
	pthread_mutex_lock(&smmu->lock);
	write_locked(smmu, offset, val);
	pthread_mutex_unlock(&smmu->lock);
}

uint64_t sio_smmu_read64(struct sio_smmu *smmu, uint64_t offset)
{
	if (offset & 7)
		return 0;
	return sio_smmu_read32(smmu, offset) |
	       (uint64_t)sio_smmu_read32(smmu, offset + 4) << 32;
}

void sio_smmu_write64(struct sio_smmu *smmu, uint64_t offset, uint64_t val)
{
	if (offset & 7)
		return;
	sio_smmu_write32(smmu, offset, (uint32_t)val);
	sio_smmu_write32(smmu, offset + 4, (uint32_t)(val >> 32));
}
