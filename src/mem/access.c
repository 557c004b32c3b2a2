// SPDX-License-Identifier: MIT
/*
 * Accesses through the bus.  Every one checks the whole access against the
 * view it entered with before touching a byte, so a failed access
 * transfers nothing and an unbacked address is an error, not a fault.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "mem_private.h"

/* The lookup behind sio_mem_ptr(): binary search, then remember. */
void *sio_mem_span(struct sio_mem_guard *g, uint64_t pa, uint64_t max,
		   unsigned int perm, uint64_t *avail)
{
	const struct sio_mem_seg *seg = g->hint;
	uint64_t room;

	if (!seg || pa < seg->start || pa > seg->last) {
		seg = sio_mem_view_find(g->view, pa);
		if (!seg)
			return NULL;
		g->hint = seg;
	}
	if (!max || (seg->perm & perm) != perm)
		return NULL;
	room = seg->last - pa; /* bytes after pa: no overflow at 2^64 - 1 */
	*avail = room < max - 1 ? room + 1 : max;
	return (void *)(uintptr_t)pa;
}

void *sio_mem_ptr_slow(struct sio_mem_guard *g, uint64_t pa, uint64_t len,
		       unsigned int perm)
{
	const struct sio_mem_seg *seg = sio_mem_view_find(g->view, pa);
	const struct sio_mem_seg *end = g->view->seg + g->view->nr;
	uint64_t last = pa + (len ? len - 1 : 0);

	if (!seg || last < pa)
		return NULL;
	g->hint = seg;
	/* Adjacent segments differ in permission; walk them while needed. */
	for (;;) {
		if ((seg->perm & perm) != perm)
			return NULL;
		if (last <= seg->last)
			return (void *)(uintptr_t)pa;
		if (++seg == end || seg->start != seg[-1].last + 1)
			return NULL;
	}
}

void *sio_mem_view_ptr(struct sio_mem_guard *g, uint64_t pa, uint64_t len,
		       unsigned int perm)
{
	return sio_mem_ptr(g, pa, len, perm);
}

unsigned int sio_mem_perm_at(struct sio_mem_bus *bus, uint64_t pa)
{
	struct sio_mem_guard g;
	const struct sio_mem_seg *seg;
	unsigned int perm;

	sio_mem_enter(bus, &g);
	seg = sio_mem_view_find(g.view, pa);
	perm = seg ? seg->perm : 0;
	sio_mem_exit(bus, &g);
	return perm;
}

int sio_mem_read64(struct sio_mem_bus *bus, uint64_t pa, uint64_t *val)
{
	struct sio_mem_guard g;
	uint64_t *p;

	if (pa & 7)
		return -EINVAL;
	sio_mem_enter(bus, &g);
	p = sio_mem_ptr(&g, pa, 8, SIO_MEM_READ);
	if (p)
		*val = le64toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	sio_mem_exit(bus, &g);
	return p ? 0 : -EFAULT;
}

int sio_mem_read_words(struct sio_mem_bus *bus, uint64_t pa, uint64_t *buf,
		       size_t n)
{
	struct sio_mem_guard g;
	uint64_t *p;

	if (pa & 7)
		return -EINVAL;
	if (!n)
		return 0;
	if (n > SIZE_MAX / 8)
		return -EFAULT;
	sio_mem_enter(bus, &g);
	p = sio_mem_ptr(&g, pa, n * 8, SIO_MEM_READ);
	if (p)
		for (size_t i = 0; i < n; i++)
			buf[i] = le64toh(
				__atomic_load_n(&p[i], __ATOMIC_ACQUIRE));
	sio_mem_exit(bus, &g);
	return p ? 0 : -EFAULT;
}

int sio_mem_write64(struct sio_mem_bus *bus, uint64_t pa, uint64_t val)
{
	struct sio_mem_guard g;
	uint64_t *p;

	if (pa & 7)
		return -EINVAL;
	sio_mem_enter(bus, &g);
	p = sio_mem_ptr(&g, pa, 8, SIO_MEM_WRITE);
	if (p)
		__atomic_store_n(p, htole64(val), __ATOMIC_RELEASE);
	sio_mem_exit(bus, &g);
	return p ? 0 : -EFAULT;
}

int sio_mem_cmpxchg64(struct sio_mem_bus *bus, uint64_t pa, uint64_t *expected,
		      uint64_t desired)
{
	struct sio_mem_guard g;
	uint64_t *p, exp = htole64(*expected);
	int rc = -EFAULT;

	if (pa & 7)
		return -EINVAL;
	sio_mem_enter(bus, &g);
	p = sio_mem_ptr(&g, pa, 8, SIO_MEM_RW);
	if (p) {
		if (__atomic_compare_exchange_n(p, &exp, htole64(desired), 0,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST)) {
			rc = 0;
		} else {
			*expected = le64toh(exp);
			rc = -EAGAIN;
		}
	}
	sio_mem_exit(bus, &g);
	return rc;
}

/* A byte run in either direction: check all of it, then copy. */
static int copy_run(struct sio_mem_bus *bus, uint64_t pa, void *buf, size_t len,
		    unsigned int perm)
{
	struct sio_mem_guard g;
	void *p;

	if (!len)
		return 0;
	sio_mem_enter(bus, &g);
	p = sio_mem_ptr(&g, pa, len, perm);
	if (p && perm == SIO_MEM_READ)
		memcpy(buf, p, len);
	else if (p)
		memcpy(p, buf, len);
	sio_mem_exit(bus, &g);
	return p ? 0 : -EFAULT;
}

int sio_mem_read(struct sio_mem_bus *bus, uint64_t pa, void *buf, size_t len)
{
	return copy_run(bus, pa, buf, len, SIO_MEM_READ);
}

int sio_mem_write(struct sio_mem_bus *bus, uint64_t pa, const void *buf,
		  size_t len)
{
	return copy_run(bus, pa, (void *)buf, len, SIO_MEM_WRITE);
}
