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
	struct sio_mem_view *v;

	bus = sio_aligned_alloc(_Alignof(struct sio_mem_bus), sizeof(*bus));
	v = sio_mem_view_build(NULL, 0);
	if (!bus || !v) {
		free(bus);
		free(v);
		return -ENOMEM;
	}
	memset(bus, 0, sizeof(*bus));
	atomic_init(&bus->view, v);
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
	free(bus->regs);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

/* Publish a view of the current registrations; caller holds bus->lock. */
static int republish(struct sio_mem_bus *bus)
{
	struct sio_mem_view *nv, *old;

	nv = sio_mem_view_build(bus->regs, bus->nr_regs);
	if (!nv)
		return -ENOMEM;
	nv->serial = ++bus->last_serial;
	old = atomic_exchange_explicit(&bus->view, nv, memory_order_seq_cst);
	sio_mem_synchronize(bus);
	free(old);
	return 0;
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
	if (bus->nr_regs == bus->cap_regs) {
		size_t cap = bus->cap_regs ? 2 * bus->cap_regs : 16;
		struct sio_mem_reg *r =
			sio_realloc(bus->regs, cap * sizeof(*r));

		if (!r) {
			pthread_mutex_unlock(&bus->lock);
			return -ENOMEM;
		}
		bus->regs = r;
		bus->cap_regs = cap;
	}
	bus->regs[bus->nr_regs++] =
		(struct sio_mem_reg){.start = pa,
				     .last = pa + (size - 1),
				     .perm = perm,
				     .owner = owner};
	rc = republish(bus);
	if (rc)
		bus->nr_regs--;
	pthread_mutex_unlock(&bus->lock);
	return rc;
}

/*
 * Drop registrations matching @match; caller holds bus->lock.  If the new
 * view cannot be built the registrations are restored, so a failure loses
 * nothing (and the memory stays reachable, which is the safe direction).
 */
static size_t remove_matching(struct sio_mem_bus *bus,
			      int (*match)(const struct sio_mem_reg *, void *),
			      void *arg, int *rc)
{
	struct sio_mem_reg *saved;
	size_t kept = 0, n = bus->nr_regs;

	saved = sio_malloc((n ? n : 1) * sizeof(*saved));
	if (!saved) {
		*rc = -ENOMEM;
		return 0;
	}
	memcpy(saved, bus->regs, n * sizeof(*saved));
	for (size_t i = 0; i < n; i++)
		if (!match(&saved[i], arg))
			bus->regs[kept++] = saved[i];
	bus->nr_regs = kept;
	*rc = 0;
	if (kept != n) {
		*rc = republish(bus);
		if (*rc) {
			memcpy(bus->regs, saved, n * sizeof(*saved));
			bus->nr_regs = n;
			kept = n;
		}
	}
	free(saved);
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
	int rc;

	if (!size || pa + (size - 1) < pa)
		return -ENOENT;
	pthread_mutex_lock(&bus->lock);
	n = remove_matching(bus, match_exact, &x, &rc);
	pthread_mutex_unlock(&bus->lock);
	if (rc)
		return rc;
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
	int rc;

	pthread_mutex_lock(&bus->lock);
	n = remove_matching(bus, match_owner, &o, &rc);
	pthread_mutex_unlock(&bus->lock);
	return rc ? 0 : n;
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
