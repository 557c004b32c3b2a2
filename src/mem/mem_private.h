/* SPDX-License-Identifier: MIT */
/* Private definitions of the memory bus (src/mem). */
#ifndef SIO_MEM_PRIVATE_H
#define SIO_MEM_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include <softiommu/mem.h>

/*
 * A view is an immutable, sorted array of disjoint backed segments, each
 * with the union of the permissions of the registrations covering it.
 * Readers binary-search the view they entered with; writers publish a new
 * view and retire the old one after a grace period.
 */
struct sio_mem_seg {
	uint64_t start;
	uint64_t last; /* inclusive, so a segment may end at 2^64 - 1 */
	unsigned int perm;
};

struct sio_mem_view {
	size_t nr;
	struct sio_mem_seg seg[];
};

/* One registration, as the writer side keeps it. */
struct sio_mem_reg {
	uint64_t start;
	uint64_t last;
	unsigned int perm;
	const void *owner;
};

/*
 * Reader slots: sleepable-RCU style counters, one cache line per slot so
 * readers on different CPUs never share a line.  A reader increments
 * cnt[idx] of the slot of the CPU it runs on and decrements the same slot
 * on exit, so each slot's count is exact.
 */
#define SIO_MEM_SLOTS 64

struct sio_mem_slot {
	_Atomic uint64_t cnt[2];
} __attribute__((aligned(64)));

struct sio_mem_bus {
	_Atomic(struct sio_mem_view *) view;
	_Atomic unsigned int epoch; /* low bit selects the counters in use */
	struct sio_mem_slot slots[SIO_MEM_SLOTS];

	pthread_mutex_t lock; /* serializes writers; guards what follows */
	struct sio_mem_reg *regs;
	size_t nr_regs;
	size_t cap_regs;
};

/* grace.c */
void sio_mem_synchronize(struct sio_mem_bus *bus);

/* view.c */
struct sio_mem_view *sio_mem_view_build(const struct sio_mem_reg *regs,
					size_t nr);
const struct sio_mem_seg *sio_mem_view_find(const struct sio_mem_view *v,
					    uint64_t pa);

#endif /* SIO_MEM_PRIVATE_H */
