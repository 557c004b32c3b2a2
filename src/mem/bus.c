// SPDX-License-Identifier: MIT
/*
 * The bus: registration and unregistration of backed ranges.
 *
 * Writers keep the registrations in an array and, on every change, build
 * a new view, publish it, wait for a grace period and free the old view.
 * Changes are rare next to lookups (a pinned range or a chunk of table
 * memory per change, against a lookup per descriptor read), so the
 * writer side pays for everything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "mem_private.h"

int sio_mem_bus_create(struct sio_mem_bus **out)
{
	struct sio_mem_bus *bus;

	bus = sio_aligned_alloc(_Alignof(struct sio_mem_bus), sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	memset(bus, 0, sizeof(*bus));
	atomic_init(&bus->view, sio_mem_view_alloc(0));
	bus->spare = sio_mem_view_alloc(0);
	bus->scratch = sio_mem_view_scratch_alloc(0);
	if (!atomic_load(&bus->view) || !bus->spare || !bus->scratch) {
		free(atomic_load(&bus->view));
		free(bus->spare);
		free(bus->scratch);
		free(bus);
		return -ENOMEM;
	}
	atomic_init(&bus->epoch, 0);
	for (unsigned int i = 0; i < SIO_MEM_SLOTS; i++) {
		atomic_init(&bus->slots[i].cnt[0], 0);
		atomic_init(&bus->slots[i].cnt[1], 0);
	}
	pthread_mutex_init(&bus->lock, NULL);
	*out = bus;
	return 0;
}

void sio_mem_bus_destroy(struct sio_mem_bus *bus)
{
	if (!bus)
		return;
	free(atomic_load(&bus->view));
	free(bus->spare);
	free(bus->spare2);
	free(bus->scratch);
	free(bus->regs);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/*
 * Make room for @cap registrations: the array, and what republish() will
 * build in.  The only step of a change that can fail, so it comes first;
 * caller holds bus->lock.
 */
static int reserve_regs(struct sio_mem_bus *bus, size_t cap)
{
	struct sio_mem_view *spare, *spare2;
	struct sio_mem_reg *r;
	void *scratch;

	if (cap <= bus->cap_regs)
		return 0;
	cap = cap < 16 ? 16 : 2 * cap;
	r = sio_realloc(bus->regs, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	bus->regs = r; /* bigger is harmless: cap_regs says what counts */
	spare = sio_mem_view_alloc(cap);
	spare2 = sio_mem_view_alloc(cap);
	scratch = sio_mem_view_scratch_alloc(cap);
	if (!spare || !spare2 || !scratch) {
		free(spare);
		free(spare2);
		free(scratch);
		return -ENOMEM;
	}
	free(bus->spare);
	free(bus->spare2);
	free(bus->scratch);
	bus->spare = spare;
	bus->spare2 = spare2;
	bus->scratch = scratch;
	bus->cap_regs = cap;
	return 0;
}

/*
 * Publish a view of the current registrations, built in the spare; the
 * view it replaces is the next spare once no reader can hold it (or,
 * built for fewer registrations, gives way to spare2).  Cannot fail;
 * caller holds bus->lock.
 */
static void republish(struct sio_mem_bus *bus)
{
	struct sio_mem_view *nv = bus->spare, *old;

	sio_mem_view_fill(nv, bus->scratch, bus->regs, bus->nr_regs);
	nv->serial = ++bus->last_serial;
	old = atomic_exchange_explicit(&bus->view, nv, memory_order_seq_cst);
	sio_mem_synchronize(bus);
	if (old->cap >= nv->cap) {
		bus->spare = old;
	} else {
		free(old);
		bus->spare = bus->spare2;
		bus->spare2 = NULL;
	}
}

int sio_mem_register(struct sio_mem_bus *bus, uint64_t pa, uint64_t size,
		     unsigned int perm, const void *owner)
{
	int rc;

	if (!size || !owner || !perm || (perm & ~SIO_MEM_RW))
		return -EINVAL;
	if (pa + (size - 1) < pa)
		return -EOVERFLOW;

	pthread_mutex_lock(&bus->lock);
	rc = reserve_regs(bus, bus->nr_regs + 1);
	if (!rc) {
		bus->regs[bus->nr_regs++] =
			(struct sio_mem_reg){.start = pa,
					     .last = pa + (size - 1),
					     .perm = perm,
					     .owner = owner};
		republish(bus);
	}
	pthread_mutex_unlock(&bus->lock);
	return rc;
}

/*
 * Drop registrations matching @match; caller holds bus->lock.  Needs no
 * memory, so it cannot fail: an unpin always takes the memory off the
 * bus.
 */
static size_t remove_matching(struct sio_mem_bus *bus,
			      int (*match)(const struct sio_mem_reg *, void *),
			      void *arg)
{
	size_t kept = 0, n = bus->nr_regs;

	for (size_t i = 0; i < n; i++)
		if (!match(&bus->regs[i], arg))
			bus->regs[kept++] = bus->regs[i];
	bus->nr_regs = kept;
	if (kept != n)
		republish(bus);
	return n - kept;
}

struct exact {
	uint64_t start, last;
	const void *owner;
	int found; /* unregister removes one registration only */
};

static int match_exact(const struct sio_mem_reg *r, void *arg)
{
	struct exact *x = arg;

	if (x->found || r->start != x->start || r->last != x->last ||
	    r->owner != x->owner)
		return 0;
	x->found = 1;
	return 1;
}

int sio_mem_unregister(struct sio_mem_bus *bus, uint64_t pa, uint64_t size,
		       const void *owner)
{
	struct exact x = {pa, pa + (size - 1), owner, 0};
	size_t n;

	if (!size || pa + (size - 1) < pa)
		return -ENOENT;
	pthread_mutex_lock(&bus->lock);
	n = remove_matching(bus, match_exact, &x);
	pthread_mutex_unlock(&bus->lock);
	return n ? 0 : -ENOENT;
}

struct by_owner {
	const void *owner;
};

static int match_owner(const struct sio_mem_reg *r, void *arg)
{
	return r->owner == ((struct by_owner *)arg)->owner;
}

size_t sio_mem_unregister_owner(struct sio_mem_bus *bus, const void *owner)
{
	struct by_owner o = {owner};
	size_t n;

	pthread_mutex_lock(&bus->lock);
	n = remove_matching(bus, match_owner, &o);
	pthread_mutex_unlock(&bus->lock);
	return n;
}

void sio_mem_bus_counts(struct sio_mem_bus *bus, size_t *nr_regs,
			size_t *nr_segments)
{
	pthread_mutex_lock(&bus->lock);
	if (nr_regs)
		*nr_regs = bus->nr_regs;
	if (nr_segments)
		*nr_segments = atomic_load(&bus->view)->nr;
	pthread_mutex_unlock(&bus->lock);
}
