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
#include <sched.h>
#include <string.h>
#include <time.h>

#include "ioat_private.h"


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
	/* sent by send_due_irq(), after the mapped BAR shows the status */
	d->irq_due = true;
}

/*
 * The MSI-X write is posted after the status it reports, so on hardware
 * a handler's read of CHANSTS sees that status; here the mapped BAR's
 * image must be republished first, or a load there reads the old one.
 */
static void send_due_irq(struct sio_ioat *d)
{
	if (!d->irq_due)
		return;
	d->irq_due = false;
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

/*
 * Inside a batch, a port that maps lets the engine reach memory directly:
 * the descriptor read and the copy touch the memory behind the
 * translations, no transfer call per access.
 */
static bool mapped(const struct sio_ioat *d)
{
	return d->dma.map && d->dma.begin;
}

/*
 * What the engine has mapped in this batch: the descriptor ring, the
 * source and the destination each stay in one translation for many
 * descriptors.  Valid until the batch ends or a map had to wait outside
 * it (then what it mapped before is gone).
 */
#define IOAT_WINDOWS 3

struct dma_window {
	bool valid, write;
	uint64_t iova, end; /* [iova, end) */
	uint8_t *host;
};

struct dma_view {
	struct dma_window w[IOAT_WINDOWS];
	unsigned int next;
};

static void view_drop(struct dma_view *v)
{
	for (unsigned int i = 0; i < IOAT_WINDOWS; i++)
		v->w[i].valid = false;
}

/* The port's map, through the windows: 0, 1 (waited: remap) or -errno. */
static int view_map(struct sio_ioat *d, struct dma_view *v, uint64_t iova,
		    bool write, uint8_t **host, size_t *avail)
{
	struct dma_window *w;
	void *h;
	size_t n;
	int rc;

	for (unsigned int i = 0; i < IOAT_WINDOWS; i++) {
		w = &v->w[i];
		if (w->valid && w->write == write && iova >= w->iova &&
		    iova < w->end) {
			*host = w->host + (iova - w->iova);
			*avail = (size_t)(w->end - iova);
			return 0;
		}
	}
	rc = d->dma.map(d->dma.opaque, iova, write, &h, &n);
	if (rc)
		view_drop(v);
	if (rc < 0)
		return rc;
	w = &v->w[v->next++ % IOAT_WINDOWS];
	*w = (struct dma_window){.valid = true,
				 .write = write,
				 .iova = iova,
				 .end = iova + n,
				 .host = h};
	if (w->end < iova) /* to the top of the address space */
		w->end = UINT64_MAX;
	*host = h;
	*avail = n;
	return rc;
}

/* Read a descriptor; 0 or the CHANERR bit its failure sets. */
static uint32_t fetch(struct sio_ioat *d, struct dma_view *v, uint64_t addr,
		      bool first, struct ioat_dma_descriptor *desc)
{
	uint32_t addr_err = first ? IOAT_CHANERR_CHAIN_ADDR_VALUE_ERR
				  : IOAT_CHANERR_NEXT_ADDR_ERR;

	if (addr & 0x3f)
		return first ? IOAT_CHANERR_CHAIN_ADDR_VALUE_ERR
			     : IOAT_CHANERR_NEXT_DESC_ALIGN_ERR;
	/* Without Bus Master Enable the request never leaves the function. */
	if (!d->bus_master)
		return addr_err;
	if (mapped(d)) {
		uint8_t *h;
		size_t n;

		if (view_map(d, v, addr, false, &h, &n) < 0)
			return addr_err;
		if (n >= sizeof(*desc)) {
			memcpy(desc, h, sizeof(*desc));
			return 0;
		}
		/* it straddles two translations: the general path */
	}
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

/* The copy through a buffer, for a port that cannot map. */
static uint32_t copy_bounced(struct sio_ioat *d, uint64_t src, uint64_t dst,
			     uint32_t left)
{
	uint8_t *bounce = d->bounce;
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

/* The copy straight between the memories behind src and dst. */
static uint32_t copy_mapped(struct sio_ioat *d, struct dma_view *v,
			    uint64_t src, uint64_t dst, uint32_t left)
{
	while (left) {
		size_t ns, nd, n = left;
		uint8_t *s, *t;
		int rc;

		rc = view_map(d, v, src, false, &s, &ns);
		if (rc < 0)
			return rc == -EIO ? IOAT_CHANERR_READ_DATA_ERR
					  : IOAT_CHANERR_SRC_ADDR_ERR;
		rc = view_map(d, v, dst, true, &t, &nd);
		if (rc < 0)
			return rc == -EIO ? IOAT_CHANERR_WRITE_DATA_ERR
					  : IOAT_CHANERR_DEST_ADDR_ERR;
		if (rc > 0)
			continue; /* it waited: the source's memory again */
		if (ns < n)
			n = ns;
		if (nd < n)
			n = nd;
		/* source and destination may overlap, as the engine allows */
		sio_mem_move(t, s, n);
		src += n;
		dst += n;
		left -= (uint32_t)n;
	}
	return 0;
}

/* The copy itself, lock dropped; 0 or the CHANERR bit of its failure. */
static uint32_t copy(struct sio_ioat *d, struct dma_view *v,
		     const struct ioat_dma_descriptor *desc)
{
	if (!d->bus_master)
		return IOAT_CHANERR_SRC_ADDR_ERR;
	if (mapped(d))
		return copy_mapped(d, v, desc->src_addr, desc->dst_addr,
				   desc->size);
	return copy_bounced(d, desc->src_addr, desc->dst_addr, desc->size);
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
 * section of the port's: at most this many, or this many bytes (a
 * CMD_SYNC waits for the section: about 100 µs at most), and a batch
 * ends after a descriptor that asks for a completion write or an
 * interrupt, so those still come in order with the copies before and
 * after them.
 */
#define IOAT_BATCH	 128
#define IOAT_BATCH_BYTES (1u << 20)

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
	uint64_t bytes = 0;
	struct dma_view v;

	view_drop(&v);
	v.next = 0;
	if (d->dma.begin)
		d->dma.begin(d->dma.opaque);
	for (b->n = 0, b->err = 0; b->n < budget;) {
		b->err = fetch(d, &v, addr, first && !b->n, &desc);
		if (!b->err)
			b->err = check(&desc);
		if (!b->err && !(desc.ctl & IOAT_DESC_NULL))
			b->err = copy(d, &v, &desc);
		if (b->err)
			break;
		b->addr[b->n] = addr;
		b->next[b->n] = desc.next;
		b->ctl[b->n++] = desc.ctl;
		bytes += desc.size;
		if (desc.ctl & (IOAT_DESC_COMPL_WRITE | IOAT_DESC_INT_EN) ||
		    bytes >= IOAT_BATCH_BYTES)
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

/*
 * A driver mostly rings again right after it saw the last work done, and
 * hardware takes that doorbell at once; a sleeping thread takes tens of
 * microseconds to wake on a VM.  So after activity the engine first
 * waits a little awake, yielding the CPU, for the next signal.
 */
#define IOAT_SPIN_NS 50000L

static long elapsed_ns(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000000L +
	       (t.tv_nsec - t0->tv_nsec);
}

/* True if a signal came within the spin; called with the lock held. */
static bool spin_for_work(struct sio_ioat *d)
{
	unsigned int seq = atomic_load(&d->wake_seq);
	struct timespec t0;
	bool woke = false;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_unlock(&d->lock);
	while (!woke && elapsed_ns(&t0) < IOAT_SPIN_NS) {
		sched_yield();
		woke = atomic_load(&d->wake_seq) != seq;
	}
	pthread_mutex_lock(&d->lock);
	/* a signal between the last look and the lock: signals are sent
	 * under the lock, so it shows now, and none can be missed after */
	return atomic_load(&d->wake_seq) != seq;
}

static void wait_for_work(struct sio_ioat *d, long *backoff_ns, bool *spun)
{
	struct timespec t;

	if (!*spun) {
		*spun = true;
		if (spin_for_work(d))
			return;
	}

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
	bool spun = false; /* since the last activity */

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
		send_due_irq(d);
		if (busy) {
			backoff = 10000;
			spun = false;
			continue;
		}
		wait_for_work(d, &backoff, &spun);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}
