// SPDX-License-Identifier: MIT
/*
 * The SMMU object: what the implementation supports, as ID registers,
 * and its reset state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "smmu_cache.h"

void sio_smmu_config_default(struct sio_smmu_config *cfg)
{
	*cfg = (struct sio_smmu_config){
		.stage1 = true,
		.stage2 = true,
		.oas = 48,
		.gran4k = true,
		.gran16k = true,
		.gran64k = true,
		.sid_bits = 16,
		.ssid_bits = 20,
		.st_2lvl = true,
		.cd_2lvl = true,
		.asid16 = true,
		.vmid16 = true,
		.httu = 2,
		.stall_model = 0,
		.ril = true,
		.cmdq_bits = 19,
		.evtq_bits = 19,
		.priq_bits = 19,
	};
}

static int check_config(const struct sio_smmu_config *c)
{
	if (!c->stage1 && !c->stage2)
		return -EINVAL;
	if (!c->gran4k && !c->gran16k && !c->gran64k)
		return -EINVAL;
	if (lpae_ps_encode(c->oas) < 0 || (c->oas == 52 && !c->gran64k))
		return -EINVAL;
	if (c->sid_bits > 32 || c->ssid_bits > 20 || c->httu > 2 ||
	    c->stall_model > 2)
		return -EINVAL;
	/* IDR1 queue sizes are at most 19 (CMDQS, EVENTQS, PRIQS). */
	if (c->cmdq_bits > 19 || c->evtq_bits > 19 || c->priq_bits > 19)
		return -EINVAL;
	/* Substreams need stage 1; PRI needs ATS. */
	if ((c->ssid_bits && !c->stage1) || (c->pri && !c->ats))
		return -EINVAL;
	/*
	 * IDR0.Hyp is RES0 unless both stages are implemented (section
	 * 6.3.1): the EL2 StreamWorlds and their TLBIs need them.
	 */
	if (c->hyp && (!c->stage1 || !c->stage2))
		return -EINVAL;
	return 0;
}

static void init_idr(struct sio_smmu *s)
{
	const struct sio_smmu_config *c = &s->cfg;

	s->idr[0] = (uint32_t)((c->stage2 ? IDR0_S2P : 0) |
			       (c->stage1 ? IDR0_S1P : 0) |
			       FIELD_PREP(IDR0_TTF, IDR0_TTF_AARCH64) |
			       IDR0_COHACC | FIELD_PREP(IDR0_HTTU, c->httu) |
			       (c->hyp ? IDR0_HYP : 0) |
			       (c->ats ? IDR0_ATS | IDR0_ATSRECERR : 0) |
			       (c->asid16 ? IDR0_ASID16 : 0) |
			       (c->pri ? IDR0_PRI : 0) |
			       (c->vmid16 ? IDR0_VMID16 : 0) |
			       (c->cd_2lvl ? IDR0_CD2L : 0) |
			       FIELD_PREP(IDR0_TTENDIAN, IDR0_TTENDIAN_LE) |
			       FIELD_PREP(IDR0_STALL_MODEL, c->stall_model) |
			       IDR0_TERM_MODEL |
			       FIELD_PREP(IDR0_ST_LEVEL, c->st_2lvl ? 1 : 0));
	s->idr[1] =
		(uint32_t)(FIELD_PREP(IDR1_SIDSIZE, c->sid_bits) |
			   FIELD_PREP(IDR1_SSIDSIZE, c->ssid_bits) |
			   FIELD_PREP(IDR1_PRIQS, c->pri ? c->priq_bits : 0) |
			   FIELD_PREP(IDR1_EVTQS, c->evtq_bits) |
			   FIELD_PREP(IDR1_CMDQS, c->cmdq_bits));
	s->idr[2] = 0;
	s->idr[3] =
		(uint32_t)(IDR3_HAD | (c->stage2 ? IDR3_XNX : 0) |
			   (c->pri ? IDR3_PPS : 0) | (c->ril ? IDR3_RIL : 0));
	s->idr[4] = 0;
	s->idr[5] = (uint32_t)(FIELD_PREP(IDR5_OAS, lpae_ps_encode(c->oas)) |
			       (c->gran4k ? IDR5_GRAN4K : 0) |
			       (c->gran16k ? IDR5_GRAN16K : 0) |
			       (c->gran64k ? IDR5_GRAN64K : 0) |
			       /* 52-bit VAs, with the 64K granule */
			       FIELD_PREP(IDR5_VAX, c->gran64k ? 1 : 0));
	s->iidr = 0;
	/* SMMUv3.1, or v3.2 with range invalidation. */
	s->aidr = c->ril ? 2 : 1;
	s->oas = c->oas;
}

static void reset(struct sio_smmu *s)
{
	atomic_init(&s->cr0, 0);
	atomic_init(&s->cr2, 0);
	atomic_init(&s->gbpa, GBPA_RESET);
	atomic_init(&s->gerror, 0);
	atomic_init(&s->strtab_base, 0);
	atomic_init(&s->strtab_cfg, 0);
	s->cmdq =
		(struct smmu_queue){.max_bits = s->cfg.cmdq_bits, .entry = 16};
	s->evtq =
		(struct smmu_queue){.max_bits = s->cfg.evtq_bits, .entry = 32};
	s->priq =
		(struct smmu_queue){.max_bits = s->cfg.priq_bits, .entry = 16};
}

int sio_smmu_create(const struct sio_smmu_config *cfg, struct sio_mem_bus *bus,
		    struct sio_smmu **out)
{
	struct sio_smmu *s;
	int rc;

	if (!cfg || !bus || !out)
		return -EINVAL;
	rc = check_config(cfg);
	if (rc)
		return rc;
	s = sio_calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* Zeroed caches are empty ones. */
	if (sio_posix_memalign((void **)&s->cfgc, 64, sizeof(*s->cfgc)))
		s->cfgc = NULL;
	if (sio_posix_memalign((void **)&s->tlb, 64, sizeof(*s->tlb)))
		s->tlb = NULL;
	if (sio_posix_memalign((void **)&s->utlb, 64, sizeof(*s->utlb)))
		s->utlb = NULL;
	if (!s->cfgc || !s->tlb || !s->utlb || smmu_stall_init(s)) {
		free(s->cfgc);
		free(s->tlb);
		free(s->utlb);
		free(s);
		return -ENOMEM;
	}
	memset(s->cfgc, 0, sizeof(*s->cfgc));
	memset(s->tlb, 0, sizeof(*s->tlb));
	memset(s->utlb, 0, sizeof(*s->utlb));
	s->cfg = *cfg;
	s->bus = bus;
	init_idr(s);
	reset(s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->evtq_lock, NULL);
	*out = s;
	return 0;
}

void sio_smmu_destroy(struct sio_smmu *smmu)
{
	if (!smmu)
		return;
	pthread_mutex_destroy(&smmu->lock);
	pthread_mutex_destroy(&smmu->evtq_lock);
	smmu_stall_fini(smmu);
	free(smmu->cfgc);
	free(smmu->tlb);
	free(smmu->utlb);
	free(smmu);
}

void sio_smmu_set_irq(struct sio_smmu *smmu, sio_smmu_irq_fn fn, void *opaque)
{
	pthread_mutex_lock(&smmu->lock);
	smmu->irq = fn;
	smmu->irq_opaque = opaque;
	pthread_mutex_unlock(&smmu->lock);
}

void sio_smmu_set_atc_inv(struct sio_smmu *smmu, sio_smmu_atc_inv_fn fn,
			  void *opaque)
{
	pthread_mutex_lock(&smmu->lock);
	smmu->atc_inv = fn;
	smmu->atc_opaque = opaque;
	pthread_mutex_unlock(&smmu->lock);
}
