// SPDX-License-Identifier: MIT
/*
 * The table-memory pool.
 *
 * Memory comes in 2 MiB chunks, each carved into blocks of a single size
 * class.  A chunk's bookkeeping lives in the page just below it, inside the
 * same mapping but outside the bus registration: a device (or a hostile
 * table pointer followed by the SMMU model) can reach every block, but
 * never the free lists or the owner words, so nothing it writes can make
 * the allocator or a page-table's bookkeeping fault.
 *
 * Blocks are zeroed when freed (with atomic release stores: lock-free
 * walkers may still read a table being freed, and must see zeros or old
 * descriptors, never a torn one, and seqlock readers rely on the order), and
 * chunks past their high-water mark are fresh anonymous memory, so allocation
 * never has to clear anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "fault/fault_inject.h"
#include "mem_private.h"

#define MIN_SHIFT     12
#define MAX_SHIFT     20
#define NR_CLASSES    (MAX_SHIFT - MIN_SHIFT + 1)
#define CHUNK_MAGIC   0x736f6674696f6d63ull /* "softiomc" */
#define USER_VA_LIMIT (1ull << 47)
/* First address tried when memory must lie low (below 4 GiB, say). */
#define LOW_HINT (1ull << 28)

/* Per class: chunks with a free block, and chunks without. */
struct chunk_list {
	struct sio_mem_chunk *avail;
	struct sio_mem_chunk *full;
};

struct sio_mem_pool {
	struct sio_mem_bus *bus;
	unsigned int addr_bits;
	uint64_t limit; /* one past the highest usable address; 0 = 2^64 */
	uint64_t hint;	/* next address to try for low placement */
	pthread_mutex_t lock;
	struct chunk_list cls[NR_CLASSES];
	struct sio_mem_pool_stats st;
};

static void list_del(struct sio_mem_chunk **head, struct sio_mem_chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void list_add(struct sio_mem_chunk **head, struct sio_mem_chunk *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

int sio_mem_pool_create(struct sio_mem_bus *bus, unsigned int addr_bits,
			struct sio_mem_pool **out)
{
	struct sio_mem_pool *pool;

	if (!bus || addr_bits < 24 || addr_bits > 64)
		return -EINVAL;
	pool = sio_calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->bus = bus;
	pool->addr_bits = addr_bits;
	pool->limit = addr_bits == 64 ? 0 : 1ull << addr_bits;
	pool->hint = LOW_HINT;
	pthread_mutex_init(&pool->lock, NULL);
	*out = pool;
	return 0;
}

static int below_limit(const struct sio_mem_pool *pool, uint64_t end)
{
	return !pool->limit || end <= pool->limit;
}

/* Map header + chunk anywhere, trimming the slack used for alignment. */
static uint8_t *map_anywhere(void)
{
	size_t len = SIO_MEM_HDR_SIZE + 2 * SIO_MEM_CHUNK_SIZE;
	uint8_t *m, *base;

	m = sio_mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	base = (uint8_t *)(((uintptr_t)m + SIO_MEM_HDR_SIZE +
			    SIO_MEM_CHUNK_SIZE - 1) &
			   ~(SIO_MEM_CHUNK_SIZE - 1));
	if (base - SIO_MEM_HDR_SIZE > m)
		munmap(m, (size_t)(base - SIO_MEM_HDR_SIZE - m));
	if (m + len > base + SIO_MEM_CHUNK_SIZE)
		munmap(base + SIO_MEM_CHUNK_SIZE,
		       (size_t)(m + len - base - SIO_MEM_CHUNK_SIZE));
	return base;
}

/*
 * Map below pool->limit: walk candidate addresses upward from a low hint,
 * asking for each without displacing anything already mapped.
 */
static uint8_t *map_low(struct sio_mem_pool *pool)
{
	for (uint64_t base = pool->hint;
	     base + SIO_MEM_CHUNK_SIZE <= pool->limit;
	     base += SIO_MEM_CHUNK_SIZE) {
		void *want = (void *)(uintptr_t)(base - SIO_MEM_HDR_SIZE);
		void *m = sio_mmap(want, SIO_MEM_HDR_SIZE + SIO_MEM_CHUNK_SIZE,
				   PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
					   MAP_FIXED_NOREPLACE,
				   -1, 0);

		if (m == want) {
			pool->hint = base + SIO_MEM_CHUNK_SIZE;
			return (uint8_t *)(uintptr_t)base;
		}
		if (m != MAP_FAILED)
			munmap(m,
			       SIO_MEM_HDR_SIZE + SIO_MEM_CHUNK_SIZE); /* old
									  kernel
									  hint
									*/
	}
	return NULL;
}

static struct sio_mem_chunk *chunk_new(struct sio_mem_pool *pool,
				       unsigned int shift)
{
	uint8_t *base = NULL;
	struct sio_mem_chunk *c;

	if (below_limit(pool, USER_VA_LIMIT))
		base = map_anywhere();
	else
		base = map_low(pool);
	if (!base)
		return NULL;
	if (!below_limit(pool,
			 (uint64_t)(uintptr_t)base + SIO_MEM_CHUNK_SIZE) ||
	    sio_mem_register(pool->bus, (uintptr_t)base, SIO_MEM_CHUNK_SIZE,
			     SIO_MEM_RW, pool)) {
		munmap(base - SIO_MEM_HDR_SIZE,
		       SIO_MEM_HDR_SIZE + SIO_MEM_CHUNK_SIZE);
		return NULL;
	}
	c = (struct sio_mem_chunk *)(base - SIO_MEM_HDR_SIZE);
	c->magic = CHUNK_MAGIC;
	c->pool = pool;
	c->base = base;
	c->shift = shift;
	c->nblocks = (unsigned int)(SIO_MEM_CHUNK_SIZE >> shift);
	c->nfree = c->nblocks;
	c->hwm = 0;
	c->free_head = -1;
	pool->st.chunks++;
	pool->st.mapped += SIO_MEM_CHUNK_SIZE;
	pool->st.chunk_maps++;
	return c;
}

static void chunk_release(struct sio_mem_pool *pool, struct sio_mem_chunk *c)
{
	uint8_t *base = c->base;

	sio_mem_unregister(pool->bus, (uintptr_t)base, SIO_MEM_CHUNK_SIZE,
			   pool);
	c->magic = 0;
	munmap(base - SIO_MEM_HDR_SIZE, SIO_MEM_HDR_SIZE + SIO_MEM_CHUNK_SIZE);
	pool->st.chunks--;
	pool->st.mapped -= SIO_MEM_CHUNK_SIZE;
}

static unsigned int take_block(struct sio_mem_chunk *c)
{
	unsigned int i;

	if (c->free_head >= 0) {
		i = (unsigned int)c->free_head;
		c->free_head = c->next_free[i];
	} else {
		i = c->hwm++;
	}
	c->nfree--;
	c->word[i] = 0;
	return i;
}

void *sio_mem_pool_alloc(struct sio_mem_pool *pool, size_t size)
{
	unsigned int shift = size ? (unsigned int)__builtin_ctzl(size) : 0;
	struct chunk_list *cl;
	struct sio_mem_chunk *c;
	void *p;

	if (size != (1ul << shift) || shift < MIN_SHIFT || shift > MAX_SHIFT) {
		errno = EINVAL;
		return NULL;
	}
	/* table memory is the kernel's page allocation: a fault point */
	if (sio_should_fail())
		return sio_fail_enomem();
	cl = &pool->cls[shift - MIN_SHIFT];
	pthread_mutex_lock(&pool->lock);
	c = cl->avail;
	if (!c) {
		c = chunk_new(pool, shift);
		if (!c) {
			pthread_mutex_unlock(&pool->lock);
			errno = ENOMEM;
			return NULL;
		}
		list_add(&cl->avail, c);
	}
	p = c->base + ((size_t)take_block(c) << shift);
	if (!c->nfree) {
		list_del(&cl->avail, c);
		list_add(&cl->full, c);
	}
	pool->st.in_use += size;
	pool->st.allocs++;
	pthread_mutex_unlock(&pool->lock);
	return p;
}

static void zero_block(void *block, size_t size)
{
	uint64_t *q = block;

	for (size_t i = 0; i < size / 8; i++)
		__atomic_store_n(&q[i], 0, __ATOMIC_RELEASE);
}

/* Back on its chunk's free list; @block is all zeros by now. */
static void put_block(struct sio_mem_pool *pool, struct sio_mem_chunk *c,
		      void *block)
{
	unsigned int i =
		(unsigned int)(((uint8_t *)block - c->base) >> c->shift);
	struct chunk_list *cl = &pool->cls[c->shift - MIN_SHIFT];

	pthread_mutex_lock(&pool->lock);
	if (!c->nfree) {
		list_del(&cl->full, c);
		list_add(&cl->avail, c);
	}
	c->next_free[i] = (int16_t)c->free_head;
	c->free_head = (int)i;
	c->nfree++;
	pool->st.in_use -= 1ul << c->shift;
	pool->st.frees++;
	pthread_mutex_unlock(&pool->lock);
}

static struct sio_mem_chunk *owning_chunk(struct sio_mem_pool *pool,
					  void *block)
{
	struct sio_mem_chunk *c = sio_mem_chunk_of(block);

	if (c->magic != CHUNK_MAGIC || c->pool != pool)
		abort(); /* not ours: a bug in the caller, not outside input */
	return c;
}

void sio_mem_pool_free(struct sio_mem_pool *pool, void *block)
{
	struct sio_mem_chunk *c;

	if (!block)
		return;
	c = owning_chunk(pool, block);
	zero_block(block, 1ul << c->shift);
	put_block(pool, c, block);
}

void sio_mem_pool_free_zeroed(struct sio_mem_pool *pool, void *block)
{
	struct sio_mem_chunk *c = owning_chunk(pool, block);

#ifndef NDEBUG
	const uint64_t *q = block;

	for (size_t i = 0; i < (1ul << c->shift) / 8; i++)
		if (__atomic_load_n(&q[i], __ATOMIC_RELAXED))
			abort(); /* the caller's promise broken */
#endif
	put_block(pool, c, block);
}

uint32_t *sio_mem_pool_word(struct sio_mem_pool *pool, void *block)
{
	(void)pool;
	return sio_mem_pool_word_fast(block);
}

size_t sio_mem_pool_trim(struct sio_mem_pool *pool)
{
	size_t n = 0;

	pthread_mutex_lock(&pool->lock);
	for (unsigned int k = 0; k < NR_CLASSES; k++) {
		struct sio_mem_chunk *c = pool->cls[k].avail, *next;

		for (; c; c = next) {
			next = c->next;
			if (c->nfree != c->nblocks)
				continue;
			list_del(&pool->cls[k].avail, c);
			chunk_release(pool, c);
			n++;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void sio_mem_pool_destroy(struct sio_mem_pool *pool)
{
	if (!pool)
		return;
	for (unsigned int k = 0; k < NR_CLASSES; k++) {
		struct sio_mem_chunk **heads[] = {&pool->cls[k].avail,
						  &pool->cls[k].full};

		for (unsigned int h = 0; h < 2; h++)
			while (*heads[h]) {
				struct sio_mem_chunk *c = *heads[h];

				list_del(heads[h], c);
				chunk_release(pool, c);
			}
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

void sio_mem_pool_get_stats(struct sio_mem_pool *pool,
			    struct sio_mem_pool_stats *st)
{
	pthread_mutex_lock(&pool->lock);
	*st = pool->st;
	pthread_mutex_unlock(&pool->lock);
}

unsigned int sio_mem_pool_addr_bits(const struct sio_mem_pool *pool)
{
	return pool->addr_bits;
}
