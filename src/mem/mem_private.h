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
	size_t cap;	 /* segments the buffer holds */
	uint64_t serial; /* unique per bus: a view's identity, never reused */
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
	uint64_t last_serial;
	/*
	 * What the next view is built in, reserved while registering can
	 * still fail: an unregistration (an unpin, a pool trim) must not,
	 * as the kernel's unpin cannot.  The spare and @scratch hold
	 * cap_regs registrations; @spare2 replaces, once, a published view
	 * built before cap_regs grew.
	 */
	struct sio_mem_view *spare, *spare2;
	void *scratch;
};

/*
 * Pool chunks (pool.c).  The header sits in the page below each 2 MiB
 * chunk, off the bus; it is here so that layers above can reach a block's
 * owner word without a call on their hot paths.
 */
#define SIO_MEM_CHUNK_SHIFT 21
#define SIO_MEM_CHUNK_SIZE  (1ul << SIO_MEM_CHUNK_SHIFT)
#define SIO_MEM_HDR_SIZE    4096ul
#define SIO_MEM_MAX_BLOCKS  (SIO_MEM_CHUNK_SIZE >> 12)

struct sio_mem_chunk {
	uint64_t magic;
	struct sio_mem_pool *pool;
	struct sio_mem_chunk *next, *prev;
	uint8_t *base;
	unsigned int shift;
	unsigned int nblocks;
	unsigned int nfree;
	unsigned int hwm; /* blocks at or above this were never handed out */
	int free_head;
	int16_t next_free[SIO_MEM_MAX_BLOCKS];
	uint32_t word[SIO_MEM_MAX_BLOCKS];
};

_Static_assert(sizeof(struct sio_mem_chunk) <= SIO_MEM_HDR_SIZE, "chunk header "
								 "too big");

static inline struct sio_mem_chunk *sio_mem_chunk_of(const void *block)
{
	uintptr_t base = (uintptr_t)block & ~(SIO_MEM_CHUNK_SIZE - 1);

	return (struct sio_mem_chunk *)(base - SIO_MEM_HDR_SIZE);
}

/*
 * sio_mem_pool_free() of a block the caller knows to be all zeros (a page
 * table its unmap emptied): it skips clearing it again, which costs as
 * much as the rest of a small unmap.  Debug builds check the promise.
 */
void sio_mem_pool_free_zeroed(struct sio_mem_pool *pool, void *block);

static inline uint32_t *sio_mem_pool_word_fast(const void *block)
{
	struct sio_mem_chunk *c = sio_mem_chunk_of(block);

	return &c->word[((uintptr_t)block & (SIO_MEM_CHUNK_SIZE - 1)) >>
			c->shift];
}

/*
 * A lookup hint kept across sections, by a device that keeps reaching the
 * same memory: valid only in the view it was found in, which the serial
 * tells (a pointer could be a new view at a freed one's address).
 */
struct sio_mem_hint {
	uint64_t serial;
	const void *seg;
};

static inline void sio_mem_hint_load(struct sio_mem_guard *g,
				     const struct sio_mem_hint *h)
{
	if (h->seg && h->serial == g->view->serial)
		g->hint = h->seg;
}

static inline void sio_mem_hint_save(const struct sio_mem_guard *g,
				     struct sio_mem_hint *h)
{
	h->seg = g->hint;
	h->serial = g->view->serial;
}

/*
 * The same, packed in one word for a hint several threads share without
 * a lock: the view's serial above, the segment's index + 1 below.  A
 * torn or stale word only misses (the serial must match the section's
 * view and the index be inside it).
 */
#define SIO_MEM_HINT_IDX_BITS 24

static inline void sio_mem_hint_load_word(struct sio_mem_guard *g,
					  uint64_t word)
{
	const struct sio_mem_view *v = g->view;
	uint64_t idx = word & ((1ull << SIO_MEM_HINT_IDX_BITS) - 1);

	if (idx && idx <= v->nr &&
	    (word >> SIO_MEM_HINT_IDX_BITS) ==
		    (v->serial & (~0ull >> SIO_MEM_HINT_IDX_BITS)))
		g->hint = &v->seg[idx - 1];
}

static inline uint64_t sio_mem_hint_word(const struct sio_mem_guard *g,
					 const void *seg)
{
	const struct sio_mem_view *v = g->view;
	uint64_t idx;

	if (!seg)
		return 0;
	idx = (uint64_t)((const struct sio_mem_seg *)seg - v->seg) + 1;
	if (idx >> SIO_MEM_HINT_IDX_BITS)
		return 0;
	return (v->serial << SIO_MEM_HINT_IDX_BITS) | idx;
}

/* grace.c */
void sio_mem_synchronize(struct sio_mem_bus *bus);

/*
 * Wait until every bus section begun before the call has ended.  The
 * caller must not be inside a section of @bus itself.
 */
void sio_mem_barrier(struct sio_mem_bus *bus);

/* view.c */
/* A view buffer for @nr_regs registrations, empty; NULL without memory. */
struct sio_mem_view *sio_mem_view_alloc(size_t nr_regs);
/* The sweep's scratch memory for @nr_regs registrations, or NULL. */
void *sio_mem_view_scratch_alloc(size_t nr_regs);
/*
 * Fold @regs into @v, using @scratch; both were allocated for at least
 * @nr registrations.  Cannot fail.
 */
void sio_mem_view_fill(struct sio_mem_view *v, void *scratch,
		       const struct sio_mem_reg *regs, size_t nr);
const struct sio_mem_seg *sio_mem_view_find(const struct sio_mem_view *v,
					    uint64_t pa);

/* copy.c */
/*
 * A device's copy of @len bytes between two ranges that do not overlap,
 * as memcpy(): the fastest mover this CPU has for a DMA's sizes.
 */
void sio_mem_copy(void *dst, const void *src, size_t len);
/* The same for ranges that may overlap, as memmove(). */
void sio_mem_move(void *dst, const void *src, size_t len);

/* access.c */
/*
 * The host pointer for @pa, and in *@avail how many bytes from it (at
 * most @max, at least 1) one segment granting @perm covers: a device's
 * window onto the memory behind a translation.  NULL if @pa is not there
 * with @perm.  Valid for the section of @g.
 */
void *sio_mem_span(struct sio_mem_guard *g, uint64_t pa, uint64_t max,
		   unsigned int perm, uint64_t *avail);
void *sio_mem_ptr_slow(struct sio_mem_guard *g, uint64_t pa, uint64_t len,
		       unsigned int perm);

/*
 * The hot path of sio_mem_view_ptr(), inline for layers above: an access
 * inside the segment the previous lookup found costs one comparison.
 */
static inline void *sio_mem_ptr(struct sio_mem_guard *g, uint64_t pa,
				uint64_t len, unsigned int perm)
{
	const struct sio_mem_seg *h = g->hint;
	uint64_t last = pa + (len ? len - 1 : 0);

	if (__builtin_expect(h && pa >= h->start && last <= h->last &&
				     last >= pa && (h->perm & perm) == perm,
			     1))
		return (void *)(uintptr_t)pa;
	return sio_mem_ptr_slow(g, pa, len, perm);
}

#endif /* SIO_MEM_PRIVATE_H */
