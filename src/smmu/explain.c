// SPDX-License-Identifier: MIT
/*
 * Explanations of translations: the sink the walkers record their reads
 * into when a walk is explained (smmu_walk.trace), and the names of
 * events.  The walk itself is translate.c's and walk.c's: an explanation
 * is the translation, recorded, not a second walker's opinion of it.
 */
#include <string.h>

#include "smmu_event.h"
#include "smmu_xlate.h"

/* The next free read, or NULL (and the explanation truncated). */
static struct sio_smmu_read *next_read(struct smmu_trace *t)
{
	struct sio_smmu_explain *ex = t->ex;

	if (ex->nreads == SIO_SMMU_EXPLAIN_MAX) {
		ex->truncated = true;
		return NULL;
	}
	return &ex->read[ex->nreads++];
}

void smmu_trace_read(struct smmu_trace *t, unsigned int kind,
		     unsigned int level, uint64_t in, uint64_t ipa, uint64_t pa,
		     const uint64_t *val, unsigned int nval, bool abort)
{
	struct sio_smmu_read *r = next_read(t);

	if (!r)
		return;
	*r = (struct sio_smmu_read){.kind = (uint8_t)kind,
				    .level = (uint8_t)level,
				    .abort = abort,
				    .in = in,
				    .ipa = ipa,
				    .pa = pa,
				    .nval = nval};
	/* An aborted read returned nothing. */
	if (!abort)
		memcpy(r->val, val, nval * sizeof(*val));
}

void smmu_trace_s2(struct smmu_trace *t, unsigned int level, uint8_t class,
		   bool write, uint64_t ipa, uint64_t pa, uint64_t desc,
		   bool abort)
{
	struct sio_smmu_read *r = next_read(t);

	if (!r)
		return;
	*r = (struct sio_smmu_read){
		.kind = SIO_SMMU_READ_S2,
		.level = (uint8_t)level,
		.class = class,
		/* Only a stage-1 table walk has a stage-1 level. */
		.s1_level = class == EVT_CLASS_TT ? t->s1_level : 0,
		.write = write,
		.abort = abort,
		.in = ipa,
		.ipa = pa,
		.pa = pa,
		.nval = 1,
		.val = {abort ? 0 : desc},
	};
}

const char *sio_smmu_event_name(uint8_t id)
{
	static const char *const names[] = {
		[EVT_F_UUT] = "F_UUT",
		[EVT_C_BAD_STREAMID] = "C_BAD_STREAMID",
		[EVT_F_STE_FETCH] = "F_STE_FETCH",
		[EVT_C_BAD_STE] = "C_BAD_STE",
		[EVT_F_BAD_ATS_TREQ] = "F_BAD_ATS_TREQ",
		[EVT_F_STREAM_DISABLED] = "F_STREAM_DISABLED",
		[EVT_F_TRANSL_FORBIDDEN] = "F_TRANSL_FORBIDDEN",
		[EVT_C_BAD_SUBSTREAMID] = "C_BAD_SUBSTREAMID",
		[EVT_F_CD_FETCH] = "F_CD_FETCH",
		[EVT_C_BAD_CD] = "C_BAD_CD",
		[EVT_F_WALK_EABT] = "F_WALK_EABT",
		[EVT_F_TRANSLATION] = "F_TRANSLATION",
		[EVT_F_ADDR_SIZE] = "F_ADDR_SIZE",
		[EVT_F_ACCESS] = "F_ACCESS",
		[EVT_F_PERMISSION] = "F_PERMISSION",
		[EVT_F_TLB_CONFLICT] = "F_TLB_CONFLICT",
		[EVT_F_CFG_CONFLICT] = "F_CFG_CONFLICT",
		[0x24] = "E_PAGE_REQUEST",
		[0x25] = "F_VMS_FETCH",
	};

	return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}
