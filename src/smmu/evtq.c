// SPDX-License-Identifier: MIT
/*
 * The event queue: building the 32-byte records of SMMUv3 section 7.3 and
 * writing them.  A full queue drops the event and flags the overflow by
 * toggling EVENTQ_PROD.OVFLG (once, until software acknowledges it by
 * copying it to EVENTQ_CONS.OVACKFLG); an external abort on the write
 * activates GERROR.EVTQ_ABT_ERR and loses the event, and the events
 * after it until software acknowledges the error.  The record of a
 * stalled transaction is never dropped for want of room: the caller is
 * told, and retries the transaction later (stall.c).
 */
#include <endian.h>
#include <string.h>

#include "smmu_private.h"
#include "smmu_event.h"

void smmu_event_init(struct smmu_event *ev, uint8_t id,
		     const struct sio_smmu_txn *txn)
{
	memset(ev, 0, sizeof(*ev));
	ev->d[0] = FIELD_PREP(EVT0_ID, id) | FIELD_PREP(EVT0_SID, txn->sid);
	if (txn->ssv)
		ev->d[0] |= EVT0_SSV | FIELD_PREP(EVT0_SSID, txn->ssid);
}

/* The fields of translation-related faults (section 7.3.12-16). */
void smmu_event_fault(struct smmu_event *ev, const struct smmu_access *acc,
		      const struct smmu_fault *f)
{
	ev->d[1] |= (acc->priv ? EVT1_PNU : 0) | (acc->instr ? EVT1_IND : 0) |
		    (acc->write ? 0 : EVT1_RNW);
	ev->d[2] = acc->input;
	if (f->s2) {
		ev->d[1] |= EVT1_S2;
		ev->d[3] |= f->ipa & EVT3_IPA;
	}
	ev->d[1] |= FIELD_PREP(EVT1_CLASS, f->class);
	if (f->class == EVT_CLASS_TT && !f->tt_write)
		ev->d[1] |= EVT1_TTRNW;
	if (f->id == EVT_F_WALK_EABT)
		ev->d[3] = f->fetch & EVT3_FETCH;
}

static void flag_overflow(struct smmu_queue *q)
{
	/* Overflow is flagged while PROD.OVFLG differs from CONS.OVACKFLG. */
	if (!((q->prod ^ q->cons) & Q_OVF))
		q->prod ^= Q_OVF;
}

/*
 * An unacknowledged GERROR.EVENTQ_ABT_ERR leaves the queue not writable
 * (7.2.1): delivery stops until software acknowledges it (7.5).
 */
static bool abort_active(struct sio_smmu *smmu)
{
	return (atomic_load(&smmu->gerror) ^ atomic_load(&smmu->gerrorn)) &
	       GERROR_EVTQ_ABT_ERR;
}

bool smmu_event_put(struct sio_smmu *smmu, const struct smmu_event *ev,
		    struct smmu_evt_after *after)
{
	struct smmu_queue *q = &smmu->evtq;
	bool stall = ev->d[1] & EVT1_STALL;
	bool raise = false, abort = false, written = true;
	uint64_t rec[4];

	for (int i = 0; i < 4; i++)
		rec[i] = htole64(ev->d[i]);
	pthread_mutex_lock(&smmu->evtq_lock);
	if (!(atomic_load(&smmu->cr0) & CR0_EVTQEN) || abort_active(smmu) ||
	    smmu->evtq_abort_pending) {
		/* A disabled or aborted queue records nothing. */
		written = !stall;
	} else if (q_full(q) && stall) {
		written = false;
	} else if (q_full(q)) {
		flag_overflow(q);
	} else if (sio_mem_write(smmu->bus, q_slot_addr(q, q->prod), rec,
				 sizeof(rec))) {
		abort = true;
		smmu->evtq_abort_pending = true;
		/* no record: a stall waits for the queue, as when not writable
		 */
		written = !stall;
	} else {
		/* the interrupt marks empty to non-empty (3.18.2) */
		raise = q_empty(q);
		q->prod = (q->prod & Q_OVF) | q_inc(q, q->prod & ~Q_OVF);
	}
	pthread_mutex_unlock(&smmu->evtq_lock);
	after->raise = raise;
	after->abort = abort;
	return written;
}

/*
 * Under smmu->lock: activate GERROR.EVENTQ_ABT_ERR for an aborted write
 * not yet shown, once: by its writer, or by an EVENTQEN update first.
 */
static void abort_show(struct sio_smmu *smmu)
{
	bool pending;

	pthread_mutex_lock(&smmu->evtq_lock);
	pending = smmu->evtq_abort_pending;
	smmu->evtq_abort_pending = false;
	pthread_mutex_unlock(&smmu->evtq_lock);
	if (pending)
		smmu_gerror_toggle(smmu, GERROR_EVTQ_ABT_ERR);
}

/*
 * EVENTQEN 1 -> 0 completes once the records being written are visible
 * and an abort among them is visible in GERROR (6.3.9.4): taking the
 * queue's lock waits for a write in progress; later ones see CR0.
 */
void smmu_evtq_quiesce(struct sio_smmu *smmu)
{
	abort_show(smmu);
}

void smmu_event_after(struct sio_smmu *smmu, const struct smmu_evt_after *after)
{
	if (after->abort) {
		pthread_mutex_lock(&smmu->lock);
		abort_show(smmu);
		pthread_mutex_unlock(&smmu->lock);
	}
	if (after->raise && (atomic_load(&smmu->irq_ctrl) & IRQ_CTRL_EVTQ))
		smmu_raise_irq(smmu, SIO_SMMU_IRQ_EVTQ);
}
