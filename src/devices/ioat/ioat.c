// SPDX-License-Identifier: MIT
/*
 * The I/OAT model's registers: what a read returns and what a write does,
 * register by register, at the offsets of drivers/dma/ioat/registers.h.
 * Reads have no side effects.  Commands (CHANCMD) and doorbells
 * (DMACOUNT) only record the request and wake the engine thread, which
 * carries them out: a program sees CHANCMD.RESET set until the reset is
 * done, as the kernel's and the selftest's drivers poll for.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "ioat_private.h"

unsigned int ioat_status(const struct sio_ioat *d)
{
	return d->chansts & IOAT_CHANSTS_STATUS;
}

static uint8_t intrctrl_read(const struct sio_ioat *d)
{
	uint8_t v = d->intrctrl;

	/* INT_STATUS: some channel wants attention; INT: and it may say so. */
	if (d->attnstatus) {
		v |= IOAT_INTRCTRL_INT_STATUS;
		if (d->intrctrl & IOAT_INTRCTRL_MASTER_INT_EN)
			v |= IOAT_INTRCTRL_INT;
	}
	return v;
}

/* The little-endian image of the general and channel registers. */
static void regs_image(const struct sio_ioat *d, uint8_t img[IOAT_REGS_END])
{
	uint8_t *c = img + IOAT_CHAN_BASE;
	uint32_t cap = 0; /* COPY only: no optional operation */
	uint16_t comp = IOAT_DMA_COMP_V2;

	memset(img, 0, IOAT_REGS_END);
	img[IOAT_CHANCNT_OFFSET] = 1;
	img[IOAT_XFERCAP_OFFSET] = SIO_IOAT_XFERCAP_LOG;
	img[IOAT_GENCTRL_OFFSET] = d->genctrl;
	img[IOAT_INTRCTRL_OFFSET] = intrctrl_read(d);
	memcpy(img + IOAT_ATTNSTATUS_OFFSET, &d->attnstatus, 4);
	img[IOAT_VER_OFFSET] = IOAT_VER_3_2;
	memcpy(img + IOAT_INTRDELAY_OFFSET, &d->intrdelay, 2);
	memcpy(img + IOAT_DMA_CAP_OFFSET, &cap, 4);

	memcpy(c + IOAT_CHANCTRL_OFFSET, &d->chanctrl, 2);
	memcpy(c + IOAT_DMA_COMP_OFFSET, &comp, 2);
	c[IOAT2_CHANCMD_OFFSET] = d->chancmd;
	memcpy(c + IOAT_CHAN_DMACOUNT_OFFSET, &d->dmacount, 2);
	memcpy(c + IOAT_CHANSTS_OFFSET, &d->chansts, 8);
	memcpy(c + IOAT2_CHAINADDR_OFFSET, &d->chainaddr, 8);
	memcpy(c + IOAT_CHANCMP_OFFSET, &d->chancmp, 8);
	memcpy(c + IOAT_CDAR_OFFSET, &d->cdar, 8);
	memcpy(c + IOAT_CHANERR_OFFSET, &d->chanerr, 4);
	memcpy(c + IOAT_CHANERR_MASK_OFFSET, &d->chanerr_mask, 4);
	memcpy(c + IOAT_DCACTRL_OFFSET, &d->dcactrl, 4);
}

uint64_t ioat_reg_read(struct sio_ioat *d, uint64_t off, unsigned int size)
{
	uint8_t img[IOAT_REGS_END];
	uint64_t v = 0;

	if (off >= IOAT_REGS_END) {
		/* MSI-X table, PBA and reserved space: plain memory. */
		memcpy(&v, d->bar + off, size);
		return v;
	}
	regs_image(d, img);
	memcpy(&v, img + off, size);
	return v;
}

/*
 * Work to do: descriptors owed, and a channel that may run them: one
 * running or idle (DONE), or one halted without an error or suspended to
 * which software has given a chain since.
 */
void ioat_wake(struct sio_ioat *d)
{
	atomic_fetch_add(&d->wake_seq, 1);
	pthread_cond_signal(&d->wake);
}

bool ioat_runnable(const struct sio_ioat *d)
{
	unsigned int st = ioat_status(d);

	if (d->completed == d->dmacount || d->chanerr || d->need_kick)
		return false;
	if (st == IOAT_CHANSTS_ACTIVE || st == IOAT_CHANSTS_DONE)
		return true;
	return d->kicked;
}

/*
 * A doorbell that gives the channel work makes it ACTIVE before the write
 * returns: PCIe orders a later read of CHANSTS after the write, so no
 * program can see the state from before its doorbell.
 */
static void doorbell(struct sio_ioat *d)
{
	d->need_kick = false;
	d->kicked = true;
	if (ioat_runnable(d))
		d->chansts &= ~IOAT_CHANSTS_STATUS;
}

/*
 * CHAINADDR: taken as the start of a new chain only while the channel is
 * not running, as the kernel's restart path writes it after a reset or a
 * suspend; the count of completed descriptors starts again at zero, so
 * the next DMACOUNT counts from this chain.
 */
static void chainaddr_write(struct sio_ioat *d, uint64_t v)
{
	d->chainaddr = v;
	if (ioat_status(d) == IOAT_CHANSTS_ACTIVE &&
	    d->completed != d->dmacount)
		return;
	d->next = v;
	d->completed = 0;
	d->first = true;
	/* The count is the old chain's until DMACOUNT is written again. */
	d->need_kick = true;
}

static void chanctrl_write(struct sio_ioat *d, uint16_t v)
{
	d->chanctrl = v;
	/* Re-arming the interrupt acknowledges the channel's attention. */
	if (v & IOAT_CHANCTRL_INT_REARM)
		d->attnstatus &= ~1u;
}

/* One register's new value @v (the whole register), after a write. */
static void reg_store(struct sio_ioat *d, uint64_t reg, uint64_t v)
{
	switch (reg) {
	case IOAT_GENCTRL_OFFSET:
		d->genctrl = v & IOAT_GENCTRL_DEBUG_EN;
		break;
	case IOAT_INTRCTRL_OFFSET:
		d->intrctrl = v & (IOAT_INTRCTRL_MASTER_INT_EN |
				   IOAT_INTRCTRL_MSIX_VECTOR_CONTROL);
		break;
	case IOAT_INTRDELAY_OFFSET:
		d->intrdelay = v & IOAT_INTRDELAY_MASK;
		break;
	case IOAT_CHAN_BASE + IOAT_CHANCTRL_OFFSET:
		chanctrl_write(d, v);
		break;
	case IOAT_CHAN_BASE + IOAT2_CHANCMD_OFFSET:
		d->chancmd |= v & (IOAT_CHANCMD_RESET | IOAT_CHANCMD_RESUME |
				   IOAT_CHANCMD_ABORT | IOAT_CHANCMD_SUSPEND);
		break;
	case IOAT_CHAN_BASE + IOAT_CHAN_DMACOUNT_OFFSET:
		d->dmacount = v;
		doorbell(d);
		break;
	case IOAT_CHAN_BASE + IOAT2_CHAINADDR_OFFSET:
		chainaddr_write(d, v);
		break;
	case IOAT_CHAN_BASE + IOAT_CHANCMP_OFFSET:
		d->chancmp = v;
		break;
	case IOAT_CHAN_BASE + IOAT_CHANERR_OFFSET:
		d->chanerr &= ~(uint32_t)v; /* write 1 to clear */
		break;
	case IOAT_CHAN_BASE + IOAT_CHANERR_MASK_OFFSET:
		d->chanerr_mask = v;
		break;
	case IOAT_CHAN_BASE + IOAT_DCACTRL_OFFSET:
		d->dcactrl = v;
		break;
	default:
		break; /* read-only or reserved */
	}
}

/* Writable registers: offset and width. */
static const struct {
	uint8_t off, width;
} wregs[] = {
	{IOAT_GENCTRL_OFFSET, 1},
	{IOAT_INTRCTRL_OFFSET, 1},
	{IOAT_INTRDELAY_OFFSET, 2},
	{IOAT_CHAN_BASE + IOAT_CHANCTRL_OFFSET, 2},
	{IOAT_CHAN_BASE + IOAT2_CHANCMD_OFFSET, 1},
	{IOAT_CHAN_BASE + IOAT_CHAN_DMACOUNT_OFFSET, 2},
	{IOAT_CHAN_BASE + IOAT2_CHAINADDR_OFFSET, 8},
	{IOAT_CHAN_BASE + IOAT_CHANCMP_OFFSET, 8},
	{IOAT_CHAN_BASE + IOAT_CHANERR_OFFSET, 4},
	{IOAT_CHAN_BASE + IOAT_CHANERR_MASK_OFFSET, 4},
	{IOAT_CHAN_BASE + IOAT_DCACTRL_OFFSET, 4},
};

/*
 * A write of @size bytes reaches every register it overlaps; a register
 * written in part keeps its other bytes (a 32-bit write to one half of
 * CHAINADDR, as drivers of older versions do).  W1C bytes not written
 * must count as zeros, not as the current value.
 */
void ioat_reg_write(struct sio_ioat *d, uint64_t off, unsigned int size,
		    uint64_t val)
{
	uint8_t img[IOAT_REGS_END];
	size_t i;

	if (off >= IOAT_REGS_END) {
		memcpy(d->bar + off, &val, size);
		return;
	}
	regs_image(d, img);
	img[IOAT_INTRCTRL_OFFSET] = d->intrctrl;
	memset(img + IOAT_CHAN_BASE + IOAT_CHANERR_OFFSET, 0, 4);
	img[IOAT_CHAN_BASE + IOAT2_CHANCMD_OFFSET] = 0;
	memcpy(img + off, &val, size);
	for (i = 0; i < sizeof(wregs) / sizeof(wregs[0]); i++) {
		uint64_t r = wregs[i].off, v = 0;

		if (r + wregs[i].width <= off || r >= off + size)
			continue;
		memcpy(&v, img + r, wregs[i].width);
		reg_store(d, r, v);
	}
	ioat_wake(d);
}

/* The channel after CHANCMD.RESET: HALTED, no error, nothing pending. */
void ioat_chan_reset(struct sio_ioat *d)
{
	d->chanctrl = 0;
	d->chancmd = 0;
	d->dmacount = 0;
	d->chansts = IOAT_CHANSTS_HALTED;
	d->chainaddr = 0;
	d->chancmp = 0;
	d->cdar = 0;
	d->chanerr = 0;
	d->attnstatus = 0;
	d->next = 0;
	d->completed = 0;
	d->first = true;
	d->kicked = false;
	d->need_kick = false;
	d->gen++;
}

static bool mmio_ok(uint64_t off, unsigned int size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return off < SIO_IOAT_BAR0_SIZE && size <= SIO_IOAT_BAR0_SIZE - off &&
	       !(off & (size - 1));
}

uint64_t sio_ioat_mmio_read(struct sio_ioat *d, uint64_t off, unsigned int size)
{
	uint64_t v;

	if (!mmio_ok(off, size))
		return ~0ull;
	pthread_mutex_lock(&d->lock);
	if (d->polling)
		ioat_bar_sync(d);
	v = ioat_reg_read(d, off, size);
	pthread_mutex_unlock(&d->lock);
	return v;
}

void sio_ioat_mmio_write(struct sio_ioat *d, uint64_t off, unsigned int size,
			 uint64_t val)
{
	if (!mmio_ok(off, size))
		return;
	pthread_mutex_lock(&d->lock);
	if (d->polling)
		ioat_bar_sync(d);
	ioat_reg_write(d, off, size, val);
	if (d->polling)
		ioat_bar_publish(d);
	pthread_mutex_unlock(&d->lock);
}

void sio_ioat_flr(struct sio_ioat *d)
{
	pthread_mutex_lock(&d->lock);
	ioat_chan_reset(d);
	d->genctrl = 0;
	d->intrctrl = 0;
	d->intrdelay = 0;
	d->chanerr_mask = 0;
	d->dcactrl = 0;
	memset(d->bar + IOAT_REGS_END, 0, SIO_IOAT_BAR0_SIZE - IOAT_REGS_END);
	if (d->polling)
		ioat_bar_publish(d);
	ioat_wake(d);
	pthread_mutex_unlock(&d->lock);
}

void sio_ioat_set_bus_master(struct sio_ioat *d, bool on)
{
	pthread_mutex_lock(&d->lock);
	d->bus_master = on;
	ioat_wake(d);
	pthread_mutex_unlock(&d->lock);
}

int sio_ioat_bar_memfd(struct sio_ioat *d)
{
	pthread_mutex_lock(&d->lock);
	if (!d->polling) {
		d->polling = true;
		ioat_bar_publish(d);
	}
	ioat_wake(d);
	pthread_mutex_unlock(&d->lock);
	return d->memfd;
}

int sio_ioat_create(const struct sio_ioat_cfg *cfg, struct sio_ioat **out)
{
	struct sio_ioat *d = sio_calloc(1, sizeof(*d));
	pthread_condattr_t ca;
	int rc;

	if (!d)
		return -ENOMEM;
	d->dma = cfg->dma;
	d->irq = cfg->irq;
	d->irq_opaque = cfg->irq_opaque;
	rc = ioat_bar_init(d);
	if (rc)
		goto err_free;
	pthread_mutex_init(&d->lock, NULL);
	/* Timed waits of the polling engine must not jump with the clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	ioat_chan_reset(d);
	rc = -sio_pthread_create(&d->thread, NULL, ioat_engine, d);
	if (rc)
		goto err_sync;
	*out = d;
	return 0;

err_sync:
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	ioat_bar_fini(d);
err_free:
	free(d);
	return rc;
}

void sio_ioat_destroy(struct sio_ioat *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	ioat_wake(d);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->thread, NULL);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	ioat_bar_fini(d);
	free(d);
}
