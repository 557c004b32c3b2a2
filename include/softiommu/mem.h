/* SPDX-License-Identifier: MIT */
/*
 * softiommu: the physical-memory bus and the table-memory pool.
 *
 * The bus is the registry of backed "physical" ranges.  A physical address
 * is an address of this process; it is backed when some registration covers
 * it.  Every access the SMMU model makes (table walks, HTTU updates, queue
 * entries, device DMA) goes through the bus, so an address nobody
 * registered is an external abort (-EFAULT), never a fault of the process.
 *
 * Registrations may overlap (the same user buffer pinned by two mappings).
 * A byte is readable if any registration covering it grants SIO_MEM_READ,
 * writable if any grants SIO_MEM_WRITE.
 *
 * Thread safety: every function may be called from any thread.  Lookups
 * are lock-free; registration changes are serialized internally.  When
 * sio_mem_unregister() returns, no access that could still reach the
 * unregistered range is in flight, so the caller may unmap the memory.
 *
 * Descriptor accesses (the 64-bit ones) are single-copy atomic and
 * little-endian in memory, as the architecture's are; values are returned
 * in host order.
 */
#ifndef SOFTIOMMU_MEM_H
#define SOFTIOMMU_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_mem_bus;
struct sio_mem_view;

/* Permissions of a registration (and required by an access). */
#define SIO_MEM_READ  (1u << 0)
#define SIO_MEM_WRITE (1u << 1)
#define SIO_MEM_RW    (SIO_MEM_READ | SIO_MEM_WRITE)

/* Create an empty bus.  Returns 0, -ENOMEM. */
SIO_API int sio_mem_bus_create(struct sio_mem_bus **out);

/*
 * Destroy a bus.  Remaining registrations are dropped; the memory they
 * describe is not touched.  No access may be in progress.
 */
SIO_API void sio_mem_bus_destroy(struct sio_mem_bus *bus);

/*
 * Register [pa, pa + size) as backed with @perm (SIO_MEM_*) on behalf of
 * @owner, an opaque non-NULL tag that unregistration must repeat.
 * The caller guarantees the memory stays mapped until it is unregistered.
 *
 * Returns 0, or -EINVAL (size 0, no or unknown perm bits, NULL owner),
 * -EOVERFLOW (the range wraps past 2^64), -ENOMEM.
 */
SIO_API int sio_mem_register(struct sio_mem_bus *bus, uint64_t pa,
			     uint64_t size, unsigned int perm,
			     const void *owner);

/*
 * Remove the registration made with exactly (@pa, @size, @owner).  Waits
 * until no bus access that started before the call can still use it.
 * Returns 0 or -ENOENT.
 */
SIO_API int sio_mem_unregister(struct sio_mem_bus *bus, uint64_t pa,
			       uint64_t size, const void *owner);

/* Remove every registration of @owner; returns how many were removed. */
SIO_API size_t sio_mem_unregister_owner(struct sio_mem_bus *bus,
					const void *owner);

/* Number of registrations, and of disjoint backed segments. */
SIO_API void sio_mem_bus_counts(struct sio_mem_bus *bus, size_t *nr_regs,
				size_t *nr_segments);

/*
 * Permissions granted at @pa (0 if unbacked).  A snapshot: it may change
 * as soon as it is returned.
 */
SIO_API unsigned int sio_mem_perm_at(struct sio_mem_bus *bus, uint64_t pa);

/*
 * Single accesses.  Each returns 0, or -EFAULT if any byte of the access is
 * unbacked or lacks the permission the access needs (the external abort),
 * or -EINVAL for a 64-bit access that is not 8-byte aligned.  A failed
 * access transfers nothing.
 */
SIO_API int sio_mem_read64(struct sio_mem_bus *bus, uint64_t pa, uint64_t *val);
SIO_API int sio_mem_write64(struct sio_mem_bus *bus, uint64_t pa, uint64_t val);
/*
 * Atomically replace *@expected with @desired at @pa.  Returns 0 when
 * swapped, -EAGAIN when memory held another value (now in *@expected),
 * -EFAULT or -EINVAL as above (needs read and write permission).
 */
SIO_API int sio_mem_cmpxchg64(struct sio_mem_bus *bus, uint64_t pa,
			      uint64_t *expected, uint64_t desired);
SIO_API int sio_mem_read(struct sio_mem_bus *bus, uint64_t pa, void *buf,
			 size_t len);
/*
 * Read @n little-endian 64-bit words from 8-byte-aligned @pa, each one
 * single-copy atomic (how an SMMU fetches STEs and CDs while software may
 * be rewriting them), into host order.  0, -EINVAL (unaligned) or -EFAULT
 * as above.
 */
SIO_API int sio_mem_read_words(struct sio_mem_bus *bus, uint64_t pa,
			       uint64_t *buf, size_t n);
SIO_API int sio_mem_write(struct sio_mem_bus *bus, uint64_t pa, const void *buf,
			  size_t len);

/*
 * Read-side sections, for a sequence of accesses (a whole walk, a whole
 * DMA transaction) at the cost of one entry and exit.  Inside a section
 * the registrations seen stay valid and their memory stays mapped, so
 * sio_mem_view_ptr() may return a direct pointer that is usable until
 * sio_mem_exit().  Sections may nest and may be held by many threads, but
 * must be short: unregistration waits for them.
 */
struct sio_mem_guard {
	const struct sio_mem_view *view;
	const void *hint; /* the segment the last lookup found */
	unsigned int slot;
	unsigned int idx;
};

SIO_API void sio_mem_enter(struct sio_mem_bus *bus, struct sio_mem_guard *g);
SIO_API void sio_mem_exit(struct sio_mem_bus *bus, struct sio_mem_guard *g);

/*
 * Host pointer for [pa, pa + len) if all of it is backed with @perm in the
 * section's view, else NULL.  len 0 is treated as 1.  The section
 * remembers the segment found, so runs of nearby accesses cost one
 * comparison each.
 */
SIO_API void *sio_mem_view_ptr(struct sio_mem_guard *g, uint64_t pa,
			       uint64_t len, unsigned int perm);

/*
 * The table-memory pool: zeroed, naturally aligned blocks of 4 KiB to
 * 1 MiB (powers of two), carved from chunks that are registered on a bus
 * read-write, so an SMMU model can walk and update them.  All blocks lie
 * below 2^addr_bits (for output-address sizes smaller than the process's
 * address space).  Each block has one 32-bit word of owner metadata, kept
 * off the bus so no device can reach it.
 *
 * Freed blocks stay mapped (and registered) until sio_mem_pool_trim() or
 * destruction, so lock-free readers of a table never touch unmapped memory.
 */
struct sio_mem_pool;

struct sio_mem_pool_stats {
	uint64_t chunks;     /* chunks currently mapped */
	uint64_t mapped;     /* bytes of chunk memory mapped */
	uint64_t in_use;     /* bytes handed out and not freed */
	uint64_t allocs;     /* allocations since creation */
	uint64_t frees;	     /* frees since creation */
	uint64_t chunk_maps; /* chunk mmap calls since creation */
};

/*
 * Create a pool placing its memory below 2^@addr_bits (24..64; 64 means
 * anywhere).  Returns 0, -EINVAL, -ENOMEM.
 */
SIO_API int sio_mem_pool_create(struct sio_mem_bus *bus, unsigned int addr_bits,
				struct sio_mem_pool **out);
/* Destroy; unregisters and unmaps all chunks, even those still in use. */
SIO_API void sio_mem_pool_destroy(struct sio_mem_pool *pool);
/*
 * Allocate a zeroed block of @size bytes (a power of two, 4 KiB..1 MiB),
 * aligned to @size.  Returns NULL with errno set on failure.
 */
SIO_API void *sio_mem_pool_alloc(struct sio_mem_pool *pool, size_t size);
/* Free a block from sio_mem_pool_alloc() (NULL is ignored). */
SIO_API void sio_mem_pool_free(struct sio_mem_pool *pool, void *block);
/* The owner word of a block handed out by this pool. */
SIO_API uint32_t *sio_mem_pool_word(struct sio_mem_pool *pool, void *block);
/* Unregister and unmap chunks with no block in use; returns chunks freed. */
SIO_API size_t sio_mem_pool_trim(struct sio_mem_pool *pool);
SIO_API void sio_mem_pool_get_stats(struct sio_mem_pool *pool,
				    struct sio_mem_pool_stats *st);
SIO_API unsigned int sio_mem_pool_addr_bits(const struct sio_mem_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_MEM_H */
