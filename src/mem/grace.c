// SPDX-License-Identifier: MIT
/*
 * Read-side sections and grace periods of the memory bus.
 *
 * The scheme is sleepable RCU with per-CPU counters.  A reader picks the
 * slot of the CPU it runs on, increments the counter selected by the low
 * bit of the epoch and then loads the current view.  A writer publishes a
 * new view, flips the epoch and waits until every slot's counter for the
 * old epoch is zero: any reader it does not wait for incremented after the
 * writer's scan, and so (all of these being sequentially consistent) loads
 * the new view.  Waiting first for the other epoch's readers bounds the
 * wait even when readers keep arriving.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <time.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif

#include "mem_private.h"

/*
 * The CPU we run on, from the rseq area glibc registered for the thread
 * (what sched_getcpu() reads, without its call): every bus access pays
 * for it.
 */
static inline int current_cpu(void)
{
#if defined(RSEQ_SIG) && __has_builtin(__builtin_thread_pointer)
	if (__rseq_size) {
		const struct rseq *rs =
			(const struct rseq
				 *)((const char *)__builtin_thread_pointer() +
				    __rseq_offset);
		int cpu = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);

		if (cpu >= 0)
			return cpu;
	}
#endif
	return sched_getcpu();
}

static unsigned int current_slot(void)
{
	int cpu = current_cpu();

	/* -1 (no rseq, no vDSO) only costs sharing slot 0. */
	return cpu < 0 ? 0 : (unsigned int)cpu % SIO_MEM_SLOTS;
}

void sio_mem_enter(struct sio_mem_bus *bus, struct sio_mem_guard *g)
{
	unsigned int slot = current_slot();
	unsigned int idx =
		atomic_load_explicit(&bus->epoch, memory_order_relaxed) & 1;

	atomic_fetch_add_explicit(&bus->slots[slot].cnt[idx], 1,
				  memory_order_seq_cst);
	g->slot = slot;
	g->idx = idx;
	g->hint = NULL;
	g->view = atomic_load_explicit(&bus->view, memory_order_seq_cst);
}

void sio_mem_exit(struct sio_mem_bus *bus, struct sio_mem_guard *g)
{
	atomic_fetch_sub_explicit(&bus->slots[g->slot].cnt[g->idx], 1,
				  memory_order_release);
	g->view = NULL;
}

static int readers_active(struct sio_mem_bus *bus, unsigned int idx)
{
	for (unsigned int i = 0; i < SIO_MEM_SLOTS; i++)
		if (atomic_load_explicit(&bus->slots[i].cnt[idx],
					 memory_order_seq_cst))
			return 1;
	return 0;
}

static void wait_readers(struct sio_mem_bus *bus, unsigned int idx)
{
	unsigned int spins = 0;

	while (readers_active(bus, idx)) {
		if (++spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = {.tv_nsec = 50 * 1000};

			nanosleep(&ts, NULL);
		}
	}
}

/* Caller holds bus->lock, so epoch flips are serialized. */
void sio_mem_synchronize(struct sio_mem_bus *bus)
{
	unsigned int idx =
		atomic_load_explicit(&bus->epoch, memory_order_seq_cst) & 1;

	wait_readers(bus, idx ^ 1);
	atomic_fetch_add_explicit(&bus->epoch, 1, memory_order_seq_cst);
	wait_readers(bus, idx);
}

void sio_mem_barrier(struct sio_mem_bus *bus)
{
	pthread_mutex_lock(&bus->lock);
	sio_mem_synchronize(bus);
	pthread_mutex_unlock(&bus->lock);
}
