// SPDX-License-Identifier: MIT
/*
 * The Stall model (section 3.12.2).  A transaction that takes a
 * translation-related fault on a stage configured to stall (CD.S, STE.S2S)
 * holds a stall slot, whose index is the STAG of its event record, and
 * its device's thread waits — outside any bus section, so that a CMD_SYNC
 * never waits for it — until software answers: CMD_RESUME with Retry
 * makes it start again as though it had just arrived, CMD_RESUME with
 * Terminate, CMD_STALL_TERM for its StreamID, or SMMUEN going to 0 end it
 * with an abort (IDR0.TERM_MODEL == 1: no RAZ/WI).
 *
 * A stall record is never lost to a full or disabled event queue: the
 * transaction gives its slot back, waits until the queue's state changes
 * (CONS moves, the queue is enabled or moved, SMMUEN changes) and is
 * retried then, which records a new fault if it still has one
 * (section 7.2.1).
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "smmu_private.h"

/* Stalled transactions the SMMU can hold at once; more wait for a slot. */
#define STALL_SLOTS 64

enum stall_state { STALL_FREE, STALL_HELD, STALL_RETRY, STALL_ABORT };

struct smmu_stall {
	uint32_t sid;
	enum stall_state state;
};

int smmu_stall_init(struct sio_smmu *smmu)
{
	smmu->stalls = sio_calloc(STALL_SLOTS, sizeof(*smmu->stalls));
	if (!smmu->stalls)
		return -ENOMEM;
	pthread_mutex_init(&smmu->stall_lock, NULL);
	pthread_cond_init(&smmu->stall_cv, NULL);
	return 0;
}

void smmu_stall_fini(struct sio_smmu *smmu)
{
	if (!smmu->stalls)
		return;
	pthread_cond_destroy(&smmu->stall_cv);
	pthread_mutex_destroy(&smmu->stall_lock);
	free(smmu->stalls);
}

uint64_t smmu_evtq_epoch(struct sio_smmu *smmu)
{
	uint64_t e;

	pthread_mutex_lock(&smmu->stall_lock);
	e = smmu->evtq_epoch;
	pthread_mutex_unlock(&smmu->stall_lock);
	return e;
}

void smmu_evtq_kick(struct sio_smmu *smmu)
{
	pthread_mutex_lock(&smmu->stall_lock);
	smmu->evtq_epoch++;
	pthread_cond_broadcast(&smmu->stall_cv);
	pthread_mutex_unlock(&smmu->stall_lock);
}

void smmu_evtq_wait(struct sio_smmu *smmu, uint64_t epoch)
{
	pthread_mutex_lock(&smmu->stall_lock);
	while (smmu->evtq_epoch == epoch)
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	pthread_mutex_unlock(&smmu->stall_lock);
}

/*
 * A slot for a transaction of @sid about to stall: 0 with *@stag, or
 * -EAGAIN after waiting for something to change (retry the transaction).
 */
int smmu_stall_hold(struct sio_smmu *smmu, uint32_t sid, uint16_t *stag)
{
	int rc = -EAGAIN;

	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++) {
		if (smmu->stalls[i].state == STALL_FREE) {
			smmu->stalls[i] = (struct smmu_stall){
				.sid = sid, .state = STALL_HELD};
			*stag = (uint16_t)i;
			rc = 0;
			break;
		}
	}
	if (rc)
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	pthread_mutex_unlock(&smmu->stall_lock);
	return rc;
}

static void release(struct sio_smmu *smmu, uint16_t stag)
{
	smmu->stalls[stag].state = STALL_FREE;
	/* Someone may be waiting for a slot. */
	pthread_cond_broadcast(&smmu->stall_cv);
}

void smmu_stall_drop(struct sio_smmu *smmu, uint16_t stag)
{
	pthread_mutex_lock(&smmu->stall_lock);
	release(smmu, stag);
	pthread_mutex_unlock(&smmu->stall_lock);
}

int smmu_stall_wait(struct sio_smmu *smmu, uint16_t stag)
{
	struct smmu_stall *s = &smmu->stalls[stag];
	int rc;

	pthread_mutex_lock(&smmu->stall_lock);
	while (s->state == STALL_HELD)
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	rc = s->state == STALL_RETRY ? 0 : -EFAULT;
	release(smmu, stag);
	pthread_mutex_unlock(&smmu->stall_lock);
	return rc;
}

/* Answer the stalls of @sid (all, or the one of @stag if @one). */
static void answer(struct sio_smmu *smmu, uint32_t sid, bool one, uint32_t stag,
		   enum stall_state how)
{
	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++) {
		struct smmu_stall *s = &smmu->stalls[i];

		/* A STAG that is not a stall of this StreamID: no effect. */
		if (s->state != STALL_HELD || s->sid != sid ||
		    (one && i != stag))
			continue;
		s->state = how;
	}
	pthread_cond_broadcast(&smmu->stall_cv);
	pthread_mutex_unlock(&smmu->stall_lock);
}

void smmu_stall_resume(struct sio_smmu *smmu, uint32_t sid, uint32_t stag,
		       bool retry)
{
	answer(smmu, sid, true, stag, retry ? STALL_RETRY : STALL_ABORT);
}

void smmu_stall_term(struct sio_smmu *smmu, uint32_t sid)
{
	answer(smmu, sid, false, 0, STALL_ABORT);
}

void smmu_stall_term_all(struct sio_smmu *smmu)
{
	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++)
		if (smmu->stalls[i].state == STALL_HELD)
			smmu->stalls[i].state = STALL_ABORT;
	smmu->evtq_epoch++;
	pthread_cond_broadcast(&smmu->stall_cv);
	pthread_mutex_unlock(&smmu->stall_lock);
}
