// SPDX-License-Identifier: MIT
/*
 * The I/OAT channel engine: one thread per function that carries out
 * CHANCMD commands and walks the descriptor chain.  It fetches the
 * descriptor at CHAINADDR (then at each descriptor's next field) and
 * performs it while fewer descriptors than DMACOUNT have completed since
 * the chain was set; DMACOUNT is a level, not an edge, so a count written
 * twice is one doorbell, as on hardware.
 *
 * The device lock is dropped around the DMA of a batch of descriptors,
 * which may be slow or stall in the SMMU: MMIO keeps working meanwhile,
 * and a reset that lands during it (gen changes) discards what the batch
 * would have recorded.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ioat_private.h"

#define IOAT_BOUNCE 65536 /* bytes moved per DMA read/write pair */

static void raise_irq(struct sio_ioat *d)
{
	d->attnstatus |= 1u;
	/* INT_REARM arms one interrupt; software re-arms after each. */
	if (!(d->chanctrl & IOAT_CHANCTRL_INT_REARM))
		return;
	d->chanctrl &= ~IOAT_CHANCTRL_INT_REARM;
	if (!(d->intrctrl & (IOAT_INTRCTRL_MASTER_INT_EN |
			     IOAT_INTRCTRL_MSIX_VECTOR_CONTROL)))
		return;
	if (d->irq)
		d->irq(d->irq_opaque, 0);
}

/*
 * Write the status @sts to CHANCMP, lock dropped; false if the write
 * faulted.  It lands before CHANSTS shows @sts: a driver that sees the
 * new status may read the writeback at once.
 */
static bool write_completion(struct sio_ioat *d, uint64_t sts)
{
	uint64_t addr = d->chancmp;
	int rc;

	pthread_mutex_unlock(&d->lock);
	rc = d->bus_master ? sio_dma_write(&d->dma, addr, &sts, sizeof(sts))
			   : -EFAULT;
	pthread_mutex_lock(&d->lock);
	return rc == 0;
}

/* An error halts the channel; the last completed descriptor stays. */
static void halt(struct sio_ioat *d, uint32_t err)
{
	uint64_t sts = (d->chansts & IOAT_CHANSTS_COMPLETED_DESCRIPTOR_ADDR) |
		       IOAT_CHANSTS_HALTED;
	uint64_t gen = d->gen;

	if (d->chanctrl & IOAT_CHANCTRL_ERR_COMPLETION_EN &&
	    !write_completion(d, sts))
		err |= IOAT_CHANERR_COMPLETION_ADDR_ERR;
	if (gen != d->gen)
		return; /* reset while the lock was dropped */
	d->chanerr |= err;
	d->chansts = sts;
	if (d->chanctrl & IOAT_CHANCTRL_ERR_INT_EN)
		raise_irq(d);
}

static void do_commands(struct sio_ioat *d)
{
	uint8_t cmd = d->chancmd;
	unsigned int st = ioat_status(d);

	if (cmd & IOAT_CHANCMD_RESET) {
		ioat_chan_reset(d);
		return;
	}
	if (cmd & IOAT_CHANCMD_ABORT && st != IOAT_CHANSTS_HALTED)
		d->chansts = (d->chansts & ~IOAT_CHANSTS_STATUS) |
			     IOAT_CHANSTS_HALTED;
	else if (cmd & IOAT_CHANCMD_SUSPEND &&
		 (st == IOAT_CHANSTS_ACTIVE || st == IOAT_CHANSTS_DONE))
		d->chansts = (d->chansts & ~IOAT_CHANSTS_STATUS) |
			     IOAT_CHANSTS_SUSPENDED;
	else if (cmd & IOAT_CHANCMD_RESUME && st == IOAT_CHANSTS_SUSPENDED)
		d->chansts = (d->chansts & ~IOAT_CHANSTS_STATUS) |
			     IOAT_CHANSTS_DONE;
	d->chancmd = 0;
}

/* Read a descriptor; 0 or the CHANERR bit its failure sets. */
static uint32_t fetch(struct sio_ioat *d, uint64_t addr, bool first,
		      struct ioat_dma_descriptor *desc)
{
	uint32_t addr_err = first ? IOAT_CHANERR_CHAIN_ADDR_VALUE_ERR
				  : IOAT_CHANERR_NEXT_ADDR_ERR;

	if (addr & 0x3f)
		return first ? IOAT_CHANERR_CHAIN_ADDR_VALUE_ERR
			     : IOAT_CHANERR_NEXT_DESC_ALIGN_ERR;
	/* Without Bus Master Enable the request never leaves the function. */
	if (!d->bus_master)
		return addr_err;
	if (sio_dma_read(&d->dma, addr, desc, sizeof(*desc)))
		return addr_err;
	return 0;
}

static uint32_t check(const struct ioat_dma_descriptor *desc)
{
	if (desc->ctl & IOAT_DESC_NULL)
		return 0;
	if (desc->ctl >> IOAT_DESC_OP_SHIFT != IOAT_OP_COPY)
		return IOAT_CHANERR_CONTROL_ERR;
	if (desc->size > (1u << SIO_IOAT_XFERCAP_LOG))
		return IOAT_CHANERR_LENGTH_ERR;
	return 0;
}

/* The copy through a buffer, for a port that cannot copy by itself. */
static uint32_t copy_bounced(struct sio_ioat *d, uint64_t src, uint64_t dst,
			     uint32_t left)
{
	static __thread uint8_t bounce[IOAT_BOUNCE];
	int rc;

	while (left) {
		uint32_t n = left < IOAT_BOUNCE ? left : IOAT_BOUNCE;

		rc = sio_dma_read(&d->dma, src, bounce, n);
		if (rc)
			return rc == -EIO ? IOAT_CHANERR_READ_DATA_ERR
					  : IOAT_CHANERR_SRC_ADDR_ERR;
		rc = sio_dma_write(&d->dma, dst, bounce, n);
		if (rc)
			return rc == -EIO ? IOAT_CHANERR_WRITE_DATA_ERR
					  : IOAT_CHANERR_DEST_ADDR_ERR;
		src += n;
		dst += n;
		left -= n;
	}
	return 0;
}

/* The copy itself, lock dropped; 0 or the CHANERR bit of its failure. */
static uint32_t copy(struct sio_ioat *d, const struct ioat_dma_descriptor *desc)
{
	size_t done;
	bool dst_failed;
	int rc;

	if (!d->bus_master)
		return IOAT_CHANERR_SRC_ADDR_ERR;
	if (!d->dma.copy)
		return copy_bounced(d, desc->src_addr, desc->dst_addr,
				    desc->size);
	rc = d->dma.copy(d->dma.opaque, desc->dst_addr, desc->src_addr,
			 desc->size, &done, &dst_failed);
	if (!rc)
		return 0;
	if (dst_failed)
		return rc == -EIO ? IOAT_CHANERR_WRITE_DATA_ERR
				  : IOAT_CHANERR_DEST_ADDR_ERR;
	return rc == -EIO ? IOAT_CHANERR_READ_DATA_ERR
			  : IOAT_CHANERR_SRC_ADDR_ERR;
}

/* Record one descriptor done at @addr; its side effects follow. */
static void complete(struct sio_ioat *d, uint64_t addr, uint32_t ctl,
		     uint64_t next)
{
	uint64_t sts = (addr & IOAT_CHANSTS_COMPLETED_DESCRIPTOR_ADDR) |
		       (d->completed + 1 == d->dmacount ? IOAT_CHANSTS_DONE
							: IOAT_CHANSTS_ACTIVE);
	uint64_t gen = d->gen;

	if (ctl & IOAT_DESC_COMPL_WRITE && !write_completion(d, sts)) {
		if (gen == d->gen)
			halt(d, IOAT_CHANERR_COMPLETION_ADDR_ERR);
		return;
	}
	if (gen != d->gen)
		return;
	d->completed++;
	d->next = next;
	d->first = false;
	d->chansts = sts;
	if (ctl & IOAT_DESC_INT_EN)
		raise_irq(d);
}

/*
 * Descriptors performed back to back without the lock, in one bus
 * section of the port's: at most this many, and a batch ends after a
 * descriptor that asks for a completion write or an interrupt, so those
 * still come in order with the copies before and after them.
 */
#define IOAT_BATCH 32

struct batch {
	unsigned int n; /* descriptors performed */
	uint32_t err;	/* and the CHANERR bit the next one failed with */
	uint64_t addr[IOAT_BATCH], next[IOAT_BATCH];
	uint32_t ctl[IOAT_BATCH];
};

static void perform(struct sio_ioat *d, uint64_t addr, bool first,
		    unsigned int budget, struct batch *b)
{
	struct ioat_dma_descriptor desc;

	if (d->dma.begin)
		d->dma.begin(d->dma.opaque);
	for (b->n = 0, b->err = 0; b->n < budget;) {
		b->err = fetch(d, addr, first && !b->n, &desc);
		if (!b->err)
			b->err = check(&desc);
		if (!b->err && !(desc.ctl & IOAT_DESC_NULL))
			b->err = copy(d, &desc);
		if (b->err)
			break;
		b->addr[b->n] = addr;
		b->next[b->n] = desc.next;
		b->ctl[b->n++] = desc.ctl;
		if (desc.ctl & (IOAT_DESC_COMPL_WRITE | IOAT_DESC_INT_EN))
			break;
		addr = desc.next;
	}
	if (d->dma.end)
		d->dma.end(d->dma.opaque);
}

/* Perform the next descriptors; called and returns with the lock held. */
static void run_batch(struct sio_ioat *d)
{
	struct batch b;
	uint64_t gen = d->gen, addr = d->next;
	unsigned int budget = (uint16_t)(d->dmacount - d->completed);
	bool first = d->first;

	if (budget > IOAT_BATCH)
		budget = IOAT_BATCH;
	d->kicked = false;
	d->chansts &= ~IOAT_CHANSTS_STATUS; /* ACTIVE */
	d->cdar = addr;
	if (d->polling)
		ioat_bar_publish(d);

	pthread_mutex_unlock(&d->lock);
	perform(d, addr, first, budget, &b);
	pthread_mutex_lock(&d->lock);

	/* A reset meanwhile: this work never happened. */
	for (unsigned int i = 0; i < b.n && gen == d->gen; i++) {
		d->cdar = b.addr[i];
		complete(d, b.addr[i], b.ctl[i], b.next[i]);
	}
	if (gen != d->gen || !b.err)
		return;
	d->cdar = b.n ? b.next[b.n - 1] : addr;
	halt(d, b.err);
}

static void wait_for_work(struct sio_ioat *d, long *backoff_ns)
{
	struct timespec t;

	if (!d->polling) {
		pthread_cond_wait(&d->wake, &d->lock);
		return;
	}
	/*
	 * Polling a mapped BAR: nothing announces a program's store, so
	 * look again soon after activity and back off to a few ms when
	 * idle, which keeps an idle device at a few hundred wakeups/s.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += *backoff_ns;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&d->wake, &d->lock, &t);
	if (*backoff_ns < 4000000L)
		*backoff_ns *= 2;
}

void *ioat_engine(void *arg)
{
	struct sio_ioat *d = arg;
	long backoff = 10000;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		bool busy = false;

		if (d->polling) {
			busy = ioat_bar_sync(d);
			ioat_bar_timeout(d);
		}
		if (d->chancmd) {
			do_commands(d);
			busy = true;
		} else if (ioat_runnable(d)) {
			run_batch(d);
			busy = true;
		}
		if (d->polling)
			ioat_bar_publish(d);
		if (busy) {
			backoff = 10000;
			continue;
		}
		wait_for_work(d, &backoff);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}
