// SPDX-License-Identifier: MIT
/*
 * Views: the flattened, reader-side form of the registrations.
 *
 * Overlapping registrations are folded into disjoint segments carrying the
 * union of their permissions, and adjacent segments with equal permissions
 * are merged, so a lookup is one binary search however the ranges were
 * registered.
 */
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "mem_private.h"

typedef unsigned __int128 u128;

/* A boundary of the sweep: at @pos the read/write coverage changes. */
struct edge {
	u128 pos;
	int dread;
	int dwrite;
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void emit(struct sio_mem_view *v, uint64_t start, uint64_t last,
		 unsigned int perm)
{
	struct sio_mem_seg *prev = v->nr ? &v->seg[v->nr - 1] : NULL;

	if (prev && prev->perm == perm && prev->last + 1 == start) {
		prev->last = last;
		return;
	}
	v->seg[v->nr++] = (struct sio_mem_seg){start, last, perm};
}

/* n registrations cut the space into at most 2n - 1 segments. */
static size_t view_segs(size_t nr_regs)
{
	return nr_regs ? 2 * nr_regs : 1;
}

struct sio_mem_view *sio_mem_view_alloc(size_t nr_regs)
{
	struct sio_mem_view *v =
		sio_malloc(sizeof(*v) + view_segs(nr_regs) * sizeof(v->seg[0]));

	if (v) {
		v->nr = 0;
		v->cap = view_segs(nr_regs);
		v->serial = 0; /* the bus numbers the views it publishes */
	}
	return v;
}

void *sio_mem_view_scratch_alloc(size_t nr_regs)
{
	return sio_malloc(view_segs(nr_regs) * sizeof(struct edge));
}

void sio_mem_view_fill(struct sio_mem_view *v, void *scratch,
		       const struct sio_mem_reg *regs, size_t nr)
{
	struct edge *e = scratch;
	size_t ne = 0;
	int nread = 0, nwrite = 0;

	v->nr = 0;
	v->serial = 0;
	for (size_t i = 0; i < nr; i++) {
		int r = !!(regs[i].perm & SIO_MEM_READ);
		int w = !!(regs[i].perm & SIO_MEM_WRITE);

		e[ne++] = (struct edge){regs[i].start, r, w};
		e[ne++] = (struct edge){(u128)regs[i].last + 1, -r, -w};
	}
	qsort(e, ne, sizeof(*e), edge_cmp);

	for (size_t i = 0; i < ne;) {
		u128 pos = e[i].pos;
		unsigned int perm;

		for (; i < ne && e[i].pos == pos; i++) {
			nread += e[i].dread;
			nwrite += e[i].dwrite;
		}
		perm = (nread ? SIO_MEM_READ : 0) |
		       (nwrite ? SIO_MEM_WRITE : 0);
		/*
		 * A registration without either permission is refused, so
		 * perm == 0 means nobody covers [pos, next edge).
		 */
		if (perm && i < ne)
			emit(v, (uint64_t)pos, (uint64_t)(e[i].pos - 1), perm);
	}
}

const struct sio_mem_seg *sio_mem_view_find(const struct sio_mem_view *v,
					    uint64_t pa)
{
	size_t lo = 0, n = v->nr;

	/* Find the last segment starting at or below pa. */
	while (n > 1) {
		size_t half = n / 2;

		if (v->seg[lo + half].start <= pa)
			lo += half;
		n -= half;
	}
	if (!v->nr || v->seg[lo].start > pa || v->seg[lo].last < pa)
		return NULL;
	return &v->seg[lo];
}
