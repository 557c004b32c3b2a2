// SPDX-License-Identifier: MIT
/*
 * The memory-backed BAR0: a memfd page that a program maps and drives
 * with plain loads and stores, as it drives a real BAR after mmap().
 * Nothing traps those stores, so the device thread polls the page:
 *
 *  - a writable register whose bytes differ from what the device last
 *    published there was written by the program, and is written to the
 *    model with that value;
 *  - then the device publishes every register: read-only ones (CHANSTS,
 *    ATTNSTATUS, ...) by a plain store, writable ones by compare-and-swap
 *    from the value it last saw, so a store that lands meanwhile is not
 *    overwritten but seen by the next poll.
 *
 * What polling cannot see, and what the model does about it (also in
 * docs/devices.md):
 *  - a store that leaves the bytes unchanged.  DMACOUNT is a level (the
 *    channel runs while completed != DMACOUNT), so rewriting the same
 *    count after a new CHAINADDR still runs the chain; CHAINADDR is
 *    published with bits 5:0 set (descriptors are 64-byte aligned, so no
 *    program writes those), so rewriting the same chain address is seen;
 *    CHANCMD bits are cleared by the device once carried out, and
 *    CHANCTRL.INT_REARM once consumed, so each new command or re-arm is
 *    a change.  CHANERR is write-1-to-clear: writing back the value read
 *    changes nothing in the page and is not seen; CHANCMD RESET clears it.
 *    A CHAINADDR taken by a poll waits for DMACOUNT to change, or
 *    IOAT_HOLD_NS for a rewrite of the same count, before it runs.
 *  - reads: a load right after a doorbell store may return the status
 *    from before it (the device has not polled yet); a program must poll
 *    until the state it waits for, not test the first read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "ioat_private.h"

#define IOAT_HOLD_NS 200000L

#define CH(r) (IOAT_CHAN_BASE + (r))

/* Writable registers, in the order a driver writes them to start work. */
static const struct {
	uint8_t off, width;
} polled[] = {
	{IOAT_GENCTRL_OFFSET, 1},	 {IOAT_INTRCTRL_OFFSET, 1},
	{IOAT_INTRDELAY_OFFSET, 2},	 {CH(IOAT_CHANCMP_OFFSET), 8},
	{CH(IOAT_CHANERR_OFFSET), 4},	 {CH(IOAT_CHANERR_MASK_OFFSET), 4},
	{CH(IOAT_DCACTRL_OFFSET), 4},	 {CH(IOAT_CHANCTRL_OFFSET), 2},
	{CH(IOAT2_CHAINADDR_OFFSET), 8}, {CH(IOAT_CHAN_DMACOUNT_OFFSET), 2},
	{CH(IOAT2_CHANCMD_OFFSET), 1},
};

#define NPOLLED (sizeof(polled) / sizeof(polled[0]))
_Static_assert(NPOLLED <= 16, "shadow has room");

/* Read-only registers: the device's alone. */
static const struct {
	uint8_t off, width;
} owned[] = {
	{IOAT_CHANCNT_OFFSET, 1},	{IOAT_XFERCAP_OFFSET, 1},
	{IOAT_ATTNSTATUS_OFFSET, 4},	{IOAT_VER_OFFSET, 1},
	{IOAT_DEVICE_STATUS_OFFSET, 2}, {IOAT_DMA_CAP_OFFSET, 4},
	{CH(IOAT_DMA_COMP_OFFSET), 2},	{CH(IOAT_CDAR_OFFSET), 8},
	{CH(IOAT_CHANSTS_OFFSET), 8},
};

static uint64_t page_load(struct sio_ioat *d, unsigned int off, unsigned int w)
{
	void *p = d->bar + off;

	switch (w) {
	case 1:
		return __atomic_load_n((uint8_t *)p, __ATOMIC_ACQUIRE);
	case 2:
		return __atomic_load_n((uint16_t *)p, __ATOMIC_ACQUIRE);
	case 4:
		return __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);
	default:
		return __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE);
	}
}

static void page_store(struct sio_ioat *d, unsigned int off, unsigned int w,
		       uint64_t v)
{
	void *p = d->bar + off;

	switch (w) {
	case 1:
		__atomic_store_n((uint8_t *)p, v, __ATOMIC_RELEASE);
		break;
	case 2:
		__atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
		break;
	case 4:
		__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE);
		break;
	default:
		__atomic_store_n((uint64_t *)p, v, __ATOMIC_RELEASE);
		break;
	}
}

static bool page_cas(struct sio_ioat *d, unsigned int off, unsigned int w,
		     uint64_t old, uint64_t v)
{
	void *p = d->bar + off;
	uint8_t o1 = old;
	uint16_t o2 = old;
	uint32_t o4 = old;

	switch (w) {
	case 1:
		return __atomic_compare_exchange_n((uint8_t *)p, &o1, v, false,
						   __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
	case 2:
		return __atomic_compare_exchange_n((uint16_t *)p, &o2, v, false,
						   __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
	case 4:
		return __atomic_compare_exchange_n((uint32_t *)p, &o4, v, false,
						   __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
	default:
		return __atomic_compare_exchange_n((uint64_t *)p, &old, v,
						   false, __ATOMIC_ACQ_REL,
						   __ATOMIC_ACQUIRE);
	}
}

/* What the device shows in the page for a register. */
static uint64_t view(struct sio_ioat *d, unsigned int off, unsigned int w)
{
	uint64_t v = ioat_reg_read(d, off, w);

	if (off == CH(IOAT2_CHAINADDR_OFFSET))
		v |= 0x3f; /* taken: see the comment at the top */
	return v;
}

/*
 * Loads go in the reverse of the order a driver stores (doorbells first),
 * changes are applied in that order.  A driver stores CHAINADDR before
 * DMACOUNT; had we loaded CHAINADDR first, the program could store both
 * in between, and we would ring a doorbell for a chain whose address we
 * had not seen.  Loaded doorbell first, any store that came before it is
 * visible to the loads after it (each load is an acquire).
 */
static bool sync_pass(struct sio_ioat *d)
{
	uint64_t p[NPOLLED];
	bool seen = false;
	size_t i;

	for (i = NPOLLED; i-- > 0;)
		p[i] = page_load(d, polled[i].off, polled[i].width);
	for (i = 0; i < NPOLLED; i++) {
		unsigned int off = polled[i].off, w = polled[i].width;

		if (p[i] == d->shadow[i])
			continue;
		d->shadow[i] = p[i];
		ioat_reg_write(d, off, w, p[i]);
		seen = true;
		if (off == CH(IOAT2_CHAINADDR_OFFSET) && d->need_kick) {
			d->hold = true;
			clock_gettime(CLOCK_MONOTONIC, &d->latched_at);
		}
	}
	return seen;
}

/*
 * Until a pass sees nothing new: the program may go on storing while a
 * pass applies what it loaded.
 */
bool ioat_bar_sync(struct sio_ioat *d)
{
	bool seen = false;

	while (sync_pass(d))
		seen = true;
	return seen;
}

/*
 * A DMACOUNT store of the value already there is invisible: once a polled
 * CHAINADDR has waited IOAT_HOLD_NS without DMACOUNT changing, take it
 * that the program wrote the same count again.
 */
void ioat_bar_timeout(struct sio_ioat *d)
{
	struct timespec t;
	long ns;

	if (!d->hold)
		return;
	if (!d->need_kick) {
		d->hold = false;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	ns = (t.tv_sec - d->latched_at.tv_sec) * 1000000000L +
	     (t.tv_nsec - d->latched_at.tv_nsec);
	if (ns >= IOAT_HOLD_NS) {
		d->hold = false;
		d->need_kick = false;
		d->kicked = true;
	}
}

static void publish_polled(struct sio_ioat *d, size_t i)
{
	unsigned int off = polled[i].off, w = polled[i].width;
	uint64_t v = view(d, off, w);

	if (v != d->shadow[i] && page_cas(d, off, w, d->shadow[i], v))
		d->shadow[i] = v;
}

/*
 * Order matters to a program that polls: a status it can act on must not
 * appear before the device's own changes to registers the program then
 * writes.  So the device's clearing of INT_REARM (and the rest) lands
 * before CHANSTS says DONE, or a re-arm written right after DONE could be
 * mistaken for the old value and overwritten; and CHANCMD is cleared
 * last, so a program that sees RESET done sees HALTED.
 */
void ioat_bar_publish(struct sio_ioat *d)
{
	size_t i;

	for (i = 0; i < NPOLLED - 1; i++)
		publish_polled(d, i);
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		page_store(d, owned[i].off, owned[i].width,
			   view(d, owned[i].off, owned[i].width));
	publish_polled(d, NPOLLED - 1); /* CHANCMD */
}

int ioat_bar_init(struct sio_ioat *d)
{
	d->memfd = sio_should_fail_fd()
			   ? -1
			   : memfd_create("sio-ioat-bar0", MFD_CLOEXEC);
	if (d->memfd < 0)
		return -errno;
	if (ftruncate(d->memfd, SIO_IOAT_BAR0_SIZE))
		goto err;
	d->bar = sio_mmap(NULL, SIO_IOAT_BAR0_SIZE, PROT_READ | PROT_WRITE,
			  MAP_SHARED, d->memfd, 0);
	if (d->bar == MAP_FAILED)
		goto err;
	return 0;
err:
	close(d->memfd);
	return -ENOMEM;
}

void ioat_bar_fini(struct sio_ioat *d)
{
	munmap(d->bar, SIO_IOAT_BAR0_SIZE);
	close(d->memfd);
}
