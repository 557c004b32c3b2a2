/* SPDX-License-Identifier: MIT */
/* The I/OAT model's state, shared by its registers, engine and BAR. */
#ifndef SIO_DEVICES_IOAT_PRIVATE_H
#define SIO_DEVICES_IOAT_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ioat.h"
#include "ioat_regs.h"

#define IOAT_CHAN_BASE IOAT_CHANNEL_MMIO_SIZE /* channel 0 */
#define IOAT_REGS_END  (IOAT_CHAN_BASE + IOAT_CHANNEL_MMIO_SIZE)

struct sio_ioat {
	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;  /* the engine has something to look at */
	atomic_uint wake_seq; /* counts those signals, read without the lock */
	pthread_t thread;
	bool stop;

	struct sio_dma_port dma;
	void (*irq)(void *opaque, unsigned int vector);
	void *irq_opaque;
	bool bus_master;

	/* General registers. */
	uint8_t genctrl;
	uint8_t intrctrl; /* the writable bits */
	uint16_t intrdelay;
	uint32_t attnstatus;

	/* Channel 0. */
	uint16_t chanctrl;
	uint8_t chancmd; /* commands written and not yet carried out */
	uint16_t dmacount;
	uint64_t chansts;
	uint64_t chainaddr;
	uint64_t chancmp;
	uint64_t cdar;
	uint32_t chanerr;
	uint32_t chanerr_mask;
	uint32_t dcactrl;

	/* The engine's position in the chain. */
	uint64_t next;	    /* address of the descriptor to fetch */
	uint16_t completed; /* descriptors done since the chain was set */
	bool first;	    /* next came from CHAINADDR, not a next field */
	bool need_kick;	    /* CHAINADDR taken: wait for a DMACOUNT write */
	bool kicked;	    /* DMACOUNT written: may leave HALTED or
			       SUSPENDED */
	uint64_t gen;	    /* bumped by reset: work in flight is dropped */
	bool irq_due;	    /* MSI-X to send once the status is published */

	/*
	 * The copy buffer of a port that cannot map: the engine thread's
	 * alone.  Not thread-local, so that the library's TLS stays small
	 * enough to be dlopen()ed.
	 */
#define IOAT_BOUNCE 65536 /* bytes moved per DMA read/write pair */
	uint8_t bounce[IOAT_BOUNCE];

	/* BAR0 memory: the registers' published image and the rest. */
	int memfd;
	uint8_t *bar;
	bool polling;		    /* a program may have mapped it */
	uint64_t shadow[16];	    /* writable registers as last seen */
	bool hold;		    /* a polled CHAINADDR awaits DMACOUNT */
	struct timespec latched_at; /* when polling took that CHAINADDR */
};

/* ioat.c: register semantics; the caller holds d->lock. */
uint64_t ioat_reg_read(struct sio_ioat *d, uint64_t off, unsigned int size);
void ioat_reg_write(struct sio_ioat *d, uint64_t off, unsigned int size,
		    uint64_t val);
void ioat_chan_reset(struct sio_ioat *d);
unsigned int ioat_status(const struct sio_ioat *d);
bool ioat_runnable(const struct sio_ioat *d);
/* Tell the engine to look again; caller holds d->lock. */
void ioat_wake(struct sio_ioat *d);

/* engine.c: the device thread. */
void *ioat_engine(void *arg);

/* bar.c: the memory-backed BAR; the caller holds d->lock. */
int ioat_bar_init(struct sio_ioat *d);
void ioat_bar_fini(struct sio_ioat *d);
void ioat_bar_publish(struct sio_ioat *d);
bool ioat_bar_sync(struct sio_ioat *d);
void ioat_bar_timeout(struct sio_ioat *d);

#endif /* SIO_DEVICES_IOAT_PRIVATE_H */
