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
 * The walk decides inside its bus section that the transaction stalls,
 * and takes its slot there, pending: the record is written only after the
 * section, as recording may call back into software.  So a stall whose
 * record is not yet written is still one that CMD_STALL_TERM and SMMUEN
 * going to 0 find, and mark for termination; it then writes no record
 * (sections 4.7.2.1, 6.3.9.6).  The record is written under the lock that
 * marks stalls, so a stall is marked either before its record or with the
 * held ones after it.
 *
 * Events decided in a section and not yet written are counted, a pending
 * stall's and any other record alike: a CMD_SYNC that completes
 * invalidations waits, after the sections that might have used what was
 * invalidated, for the ones counted before it, so that no event of
 * out-of-date configuration becomes visible after it (4.7.3).  Nothing
 * counted waits for software, so neither does the CMD_SYNC.
 *
 * A stall record is never lost to a full or disabled event queue: the
 * transaction keeps its slot, waits until the queue's state changes
 * (CONS moves, the queue is enabled or moved, an EVENTQ_ABT_ERR is
 * acknowledged) and is retried then, which records a new fault if it
 * still has one (section 7.2.1).  Until then it
 * is a stall whose record is not written, which CMD_STALL_TERM and
 * SMMUEN going to 0 terminate (4.7.2.1 step 2d), and which a CMD_SYNC
 * does not wait for: only software makes room.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "smmu_event.h"

/* Stalled transactions the SMMU can hold at once; more wait for a slot. */
#define STALL_SLOTS 64

enum stall_state {
	STALL_FREE,
	STALL_PENDING, /* taken in a section, its record not yet written */
	STALL_HELD,    /* its record written: software answers */
	STALL_ROOM,    /* its record did not fit: waits for the queue */
	STALL_RETRY,
	STALL_ABORT,
};

struct smmu_stall {
	uint32_t sid;
	enum stall_state state;
	unsigned int ticket; /* PENDING: its count of the unrecorded */
	uint64_t epoch;	     /* ROOM: the queue's state it did not fit */
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

void smmu_evtq_kick(struct sio_smmu *smmu)
{
	pthread_mutex_lock(&smmu->stall_lock);
	smmu->evtq_epoch++;
	pthread_cond_broadcast(&smmu->stall_cv);
	pthread_mutex_unlock(&smmu->stall_lock);
}

/* Under stall_lock: one more event unrecorded; its ticket. */
static unsigned int unrecorded_add(struct sio_smmu *smmu)
{
	unsigned int ticket = smmu->unrecorded_phase;

	smmu->unrecorded[ticket]++;
	return ticket;
}

/* Under stall_lock: the event of @ticket is written, or discarded. */
static void unrecorded_done(struct sio_smmu *smmu, unsigned int ticket)
{
	if (!--smmu->unrecorded[ticket])
		pthread_cond_broadcast(&smmu->stall_cv);
}

unsigned int smmu_unrecorded_add(struct sio_smmu *smmu)
{
	unsigned int ticket;

	pthread_mutex_lock(&smmu->stall_lock);
	ticket = unrecorded_add(smmu);
	pthread_mutex_unlock(&smmu->stall_lock);
	return ticket;
}

void smmu_unrecorded_done(struct sio_smmu *smmu, unsigned int ticket)
{
	pthread_mutex_lock(&smmu->stall_lock);
	unrecorded_done(smmu, ticket);
	pthread_mutex_unlock(&smmu->stall_lock);
}

/*
 * Events counted from now on go to the other count, so that transactions
 * faulting all the time cannot keep this wait from ending.  Callers are
 * serialized by smmu->lock, and each empties its count before the next
 * switches back to it.
 */
void smmu_unrecorded_flush(struct sio_smmu *smmu)
{
	unsigned int old;
	bool some;

	pthread_mutex_lock(&smmu->stall_lock);
	old = smmu->unrecorded_phase;
	smmu->unrecorded_phase ^= 1;
	some = smmu->unrecorded[old];
	pthread_mutex_unlock(&smmu->stall_lock);
	if (!some)
		return;
	smmu_test_point(smmu, SMMU_TEST_FLUSH);
	pthread_mutex_lock(&smmu->stall_lock);
	while (smmu->unrecorded[old])
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	pthread_mutex_unlock(&smmu->stall_lock);
}

bool smmu_stall_reserve(struct sio_smmu *smmu, uint32_t sid, uint16_t *stag)
{
	bool found = false;

	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++) {
		if (smmu->stalls[i].state == STALL_FREE) {
			smmu->stalls[i] = (struct smmu_stall){
				.sid = sid,
				.state = STALL_PENDING,
				.ticket = unrecorded_add(smmu),
			};
			*stag = (uint16_t)i;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&smmu->stall_lock);
	return found;
}

static bool slot_free(const struct sio_smmu *smmu)
{
	for (unsigned int i = 0; i < STALL_SLOTS; i++)
		if (smmu->stalls[i].state == STALL_FREE)
			return true;
	return false;
}

void smmu_stall_wait_slot(struct sio_smmu *smmu)
{
	pthread_mutex_lock(&smmu->stall_lock);
	while (!slot_free(smmu))
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	pthread_mutex_unlock(&smmu->stall_lock);
}

static void release(struct sio_smmu *smmu, uint16_t stag)
{
	smmu->stalls[stag].state = STALL_FREE;
	/* Someone may be waiting for a slot. */
	pthread_cond_broadcast(&smmu->stall_cv);
}

/*
 * Under stall_lock: write the record of the stall pending in @s, unless
 * it was marked for termination first.  Held then, or waiting for room;
 * either way no longer an event a CMD_SYNC waits for.
 */
static void commit(struct sio_smmu *smmu, struct smmu_stall *s,
		   const struct smmu_event *ev, struct smmu_evt_after *after)
{
	if (s->state == STALL_PENDING)
		s->state = smmu_event_put(smmu, ev, after) ? STALL_HELD
							   : STALL_ROOM;
	/* Under the lock kicks take: a change after the put is seen. */
	s->epoch = smmu->evtq_epoch;
	unrecorded_done(smmu, s->ticket);
}

/* Still waiting: for software, or for the queue's state to change. */
static bool waiting(const struct sio_smmu *smmu, const struct smmu_stall *s)
{
	return s->state == STALL_HELD ||
	       (s->state == STALL_ROOM && smmu->evtq_epoch == s->epoch);
}

/*
 * Under stall_lock: the end of the stall in @stag.  0 to retry, as
 * software said or as the queue may have room now; -EFAULT terminated.
 */
static int await_end(struct sio_smmu *smmu, uint16_t stag)
{
	struct smmu_stall *s = &smmu->stalls[stag];
	int rc;

	while (waiting(smmu, s))
		pthread_cond_wait(&smmu->stall_cv, &smmu->stall_lock);
	rc = s->state == STALL_ABORT ? -EFAULT : 0;
	release(smmu, stag);
	return rc;
}

int smmu_stall_run(struct sio_smmu *smmu, uint16_t stag, struct smmu_event *ev)
{
	struct smmu_evt_after after = {0};
	int rc;

	ev->d[1] |= EVT1_STALL | FIELD_PREP(EVT1_STAG, stag);
	pthread_mutex_lock(&smmu->stall_lock);
	commit(smmu, &smmu->stalls[stag], ev, &after);
	pthread_mutex_unlock(&smmu->stall_lock);
	smmu_test_point(smmu, SMMU_TEST_WRITTEN);
	/* Outside the lock: the interrupt may have software answer. */
	smmu_event_after(smmu, &after);
	pthread_mutex_lock(&smmu->stall_lock);
	rc = await_end(smmu, stag);
	pthread_mutex_unlock(&smmu->stall_lock);
	return rc;
}

/*
 * Under stall_lock: may CMD_STALL_TERM or SMMUEN = 0 mark @s?  Any stall
 * not yet answered, its record written or not.
 */
static bool terminable(const struct smmu_stall *s)
{
	return s->state == STALL_HELD || s->state == STALL_PENDING ||
	       s->state == STALL_ROOM;
}

/* Answer the stalls of @sid (all, or the one of @stag if @one). */
static void answer(struct sio_smmu *smmu, uint32_t sid, bool one, uint32_t stag,
		   enum stall_state how)
{
	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++) {
		struct smmu_stall *s = &smmu->stalls[i];

		if (s->sid != sid || (one && i != stag))
			continue;
		/*
		 * A RESUME names a STAG software read in a record: a stall
		 * whose record is not written yet is not its to answer.
		 */
		if (one ? s->state == STALL_HELD : terminable(s))
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
	/*
	 * A walk that began while SMMUEN was 1 may still be about to take a
	 * slot: once its section is over, it has, and is marked below.
	 */
	sio_mem_barrier(smmu->bus);
	pthread_mutex_lock(&smmu->stall_lock);
	for (unsigned int i = 0; i < STALL_SLOTS; i++)
		if (terminable(&smmu->stalls[i]))
			smmu->stalls[i].state = STALL_ABORT;
	pthread_cond_broadcast(&smmu->stall_cv);
	pthread_mutex_unlock(&smmu->stall_lock);
}
