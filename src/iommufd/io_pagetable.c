// SPDX-License-Identifier: MIT
/*
 * The io_pagetable: which IOVA ranges hold which pages.  Areas never
 * overlap; allowed ranges (IOAS_ALLOW_IOVAS) bound where the kernel may
 * place an IOVA of its choosing; reserved ranges (devices' regions,
 * domain apertures) may never be mapped.  The rules and their errnos
 * are the kernel's io_pagetable.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd_private.h"

#define HPAGE_SIZE (2ull << 20) /* the x86-64 THP size the kernel caps at */

static struct iopt_area *to_area(struct sio_itree_node *n)
{
	return n ? (struct iopt_area *)((char *)n -
					offsetof(struct iopt_area, node))
		 : NULL;
}

static uint64_t area_iova(const struct iopt_area *a)
{
	return a->node.start;
}

static uint64_t area_last(const struct iopt_area *a)
{
	return a->node.last;
}

static uint64_t area_start_byte(const struct iopt_area *a, uint64_t iova)
{
	return a->start_byte + (iova - area_iova(a));
}

void iopt_init_table(struct io_pagetable *iopt)
{
	pthread_rwlock_init(&iopt->iova_rwsem, NULL);
	iopt->area_itree.root = NULL;
	iopt->allowed_itree.root = NULL;
	iopt->reserved_itree.root = NULL;
	/* A table without a domain accepts any byte alignment. */
	iopt->iova_alignment = 1;
	iopt->disable_large_pages = false;
	iopt->nr_domains = 0;
}

/* Free every node of a tree of iopt_allowed or iopt_reserved. */
void iopt_free_itree(struct sio_itree *t)
{
	struct sio_itree_node *n;

	while ((n = sio_itree_first(t, 0, UINT64_MAX))) {
		sio_itree_remove(t, n);
		free(n); /* the node is the first member of both */
	}
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	iopt_free_itree(&iopt->allowed_itree);
	iopt_free_itree(&iopt->reserved_itree);
	pthread_rwlock_destroy(&iopt->iova_rwsem);
}

/* ALIGN(*start, align) | page_offset, if [start, last] still fits length. */
static bool fit_aligned(uint64_t *start, uint64_t last, uint64_t length,
			uint64_t align, uint64_t page_offset)
{
	uint64_t s;

	if (last - *start < length - 1)
		return false;
	if (*start + (align - 1) < *start)
		return false;
	s = ((*start + (align - 1)) & ~(align - 1)) | page_offset;
	if (s > last || last - s < length - 1)
		return false;
	*start = s;
	return true;
}

/* The furthest last of the reserved ranges and areas that contain @p. */
static uint64_t used_run_end(struct io_pagetable *iopt, uint64_t p)
{
	struct sio_itree *trees[2] = {&iopt->reserved_itree, &iopt->area_itree};
	struct sio_itree_node *n;
	uint64_t end = p;

	for (int t = 0; t < 2; t++)
		sio_itree_for_each(n, trees[t], p, p) if (n->last > end)
			end = n->last;
	return end;
}

/* Search [lo, hi] for a hole of the union of reserved ranges and areas. */
static bool find_hole(struct io_pagetable *iopt, uint64_t lo, uint64_t hi,
		      uint64_t length, uint64_t align, uint64_t page_offset,
		      uint64_t *iova)
{
	uint64_t p = lo;

	while (p <= hi) {
		struct sio_itree_node *r, *a;
		uint64_t next = hi, hole_start, end;
		bool used_here = false;

		r = sio_itree_first(&iopt->reserved_itree, p, hi);
		a = sio_itree_first(&iopt->area_itree, p, hi);
		if (r) {
			if (r->start <= p)
				used_here = true;
			else if (r->start - 1 < next)
				next = r->start - 1;
		}
		if (a) {
			if (a->start <= p)
				used_here = true;
			else if (a->start - 1 < next)
				next = a->start - 1;
		}
		if (used_here) {
			end = used_run_end(iopt, p);
			if (end >= hi)
				return false;
			p = end + 1;
			continue;
		}
		hole_start = p;
		if (fit_aligned(&hole_start, next, length, align,
				page_offset)) {
			*iova = hole_start;
			return true;
		}
		if (next >= hi)
			return false;
		p = next + 1;
	}
	return false;
}

static uint64_t roundup_pow_of_two(uint64_t v)
{
	return v <= 1 ? 1 : 1ull << (64 - __builtin_clzll(v - 1));
}

/*
 * The kernel's iopt_alloc_iova(): keep the alignment the source address
 * has (so huge pages stay possible), up to the length rounded to a power
 * of two and at most HPAGE_SIZE; search the allowed ranges (all of
 * [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] when none are set, so 0 is never
 * returned) for the first fitting hole.
 */
static int iopt_alloc_iova(struct io_pagetable *iopt, uint64_t page_size,
			   uint64_t *iova, uint64_t addr, uint64_t length)
{
	uint64_t page_offset = addr % page_size;
	uint64_t align;
	struct sio_itree_span span;

	if (length == 0 || length >= UINT64_MAX / 2)
		return -EOVERFLOW;
	align = roundup_pow_of_two(length);
	if (addr && (1ull << __builtin_ctzll(addr)) < align)
		align = 1ull << __builtin_ctzll(addr);
	if (align >= HPAGE_SIZE)
		align = HPAGE_SIZE;
	if (align < iopt->iova_alignment)
		return -EINVAL;

	if (sio_itree_empty(&iopt->allowed_itree))
		return find_hole(iopt, page_size, UINT64_MAX - page_size,
				 length, align, page_offset, iova)
			       ? 0
			       : -ENOSPC;

	sio_itree_for_each_span(&span, &iopt->allowed_itree, page_size,
				UINT64_MAX - page_size)
	{
		uint64_t s = span.start;

		if (span.is_hole ||
		    !fit_aligned(&s, span.last, length, align, page_offset))
			continue;
		if (find_hole(iopt, s, span.last, length, align, page_offset,
			      iova))
			return 0;
	}
	return -ENOSPC;
}

static int iopt_check_iova(struct io_pagetable *iopt, uint64_t iova,
			   uint64_t length)
{
	uint64_t last;

	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (sio_itree_first(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (sio_itree_first(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

static int iopt_insert_area(struct io_pagetable *iopt, struct iopt_area *area,
			    struct iopt_pages *pages, uint64_t iova,
			    uint64_t start_byte, uint64_t length,
			    int iommu_prot)
{
	uint64_t page_offset = start_byte & (pages->host->page_size - 1);

	if ((iommu_prot & IOMMU_WRITE) && !pages->writable)
		return -EPERM;
	if (page_offset & (iopt->iova_alignment - 1))
		return -EINVAL;
	area->node.start = iova;
	if (__builtin_add_overflow(iova, length - 1, &area->node.last))
		return -EOVERFLOW;
	area->iommu_prot = iommu_prot;
	area->start_byte = start_byte;
	area->iopt = iopt;
	sio_itree_insert(&iopt->area_itree, &area->node);
	return 0;
}

int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_list *list,
		   unsigned int nr, uint64_t length, uint64_t *dst_iova,
		   int iommu_prot, unsigned int flags)
{
	struct iopt_area **areas, *one = NULL;
	uint64_t iova, page_size = list[0].pages->host->page_size;
	unsigned int i, inserted = 0;
	int rc = 0;

	/* IOAS_MAP has one slice: keep its pointer off the heap */
	areas = nr == 1 ? &one : calloc(nr, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		areas[i] = calloc(1, sizeof(**areas));
		if (!areas[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	if ((length & (iopt->iova_alignment - 1)) || !length) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (flags & IOPT_ALLOC_IOVA)
		/* the first slice's address guides the alignment */
		rc = iopt_alloc_iova(iopt, page_size, dst_iova,
				     list[0].pages->uptr + list[0].start_byte,
				     length);
	else
		rc = iopt_check_iova(iopt, *dst_iova, length);
	if (rc)
		goto out_unlock;

	iova = *dst_iova;
	for (i = 0; i < nr; i++) {
		rc = iopt_insert_area(iopt, areas[i], list[i].pages, iova,
				      list[i].start_byte, list[i].length,
				      iommu_prot);
		if (rc)
			break;
		inserted++;
		iova += list[i].length;
	}
	if (rc) {
		for (i = 0; i < inserted; i++)
			sio_itree_remove(&iopt->area_itree, &areas[i]->node);
		goto out_unlock;
	}
	/* The areas take the list's references on their pages. */
	for (i = 0; i < nr; i++) {
		areas[i]->pages = list[i].pages;
		list[i].pages = NULL;
		areas[i] = NULL;
	}
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
out_free:
	for (i = 0; i < nr; i++)
		free(areas[i]);
	if (areas != &one)
		free(areas);
	return rc;
}

static int iopt_map_common(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			   struct iopt_pages *pages, uint64_t *iova,
			   uint64_t length, uint64_t start_byte, int iommu_prot,
			   unsigned int flags)
{
	struct iopt_pages_list elm = {
		.pages = pages,
		.start_byte = start_byte,
		.length = length,
	};
	int rc;

	if (ictx->account_mode == IOPT_PAGES_ACCOUNT_MM &&
	    pages->account_mode == IOPT_PAGES_ACCOUNT_USER)
		pages->account_mode = IOPT_PAGES_ACCOUNT_MM;
	rc = iopt_map_pages(iopt, &elm, 1, length, iova, iommu_prot, flags);
	if (elm.pages)
		iopt_put_pages(elm.pages);
	return rc;
}

int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			uint64_t *iova, uint64_t uptr, uint64_t length,
			int iommu_prot, unsigned int flags)
{
	struct iopt_pages *pages;
	int rc;

	rc = iopt_alloc_user_pages(ictx->host, uptr, length,
				   iommu_prot & IOMMU_WRITE, &pages);
	if (rc)
		return rc;
	return iopt_map_common(ictx, iopt, pages, iova, length,
			       uptr - pages->uptr, iommu_prot, flags);
}

int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			uint64_t *iova, int fd, uint64_t start, uint64_t length,
			int iommu_prot, unsigned int flags)
{
	struct iopt_pages *pages;
	uint64_t start_byte;
	int rc;

	rc = iopt_alloc_file_pages(ictx->host, fd, start, length,
				   iommu_prot & IOMMU_WRITE, &pages,
				   &start_byte);
	if (rc)
		return rc;
	return iopt_map_common(ictx, iopt, pages, iova, length, start_byte,
			       iommu_prot, flags);
}

void iopt_free_pages_list(struct iopt_pages_list *list, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		if (list[i].pages)
			iopt_put_pages(list[i].pages);
	free(list);
}

/*
 * The slices of pages behind [iova, iova + length - 1], which must be
 * covered by areas without a gap (-ENOENT otherwise).
 */
int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_list **out, unsigned int *out_nr)
{
	struct iopt_pages_list *list = NULL;
	struct sio_itree_node *n;
	unsigned int nr = 0, cap = 0;
	uint64_t last_iova, cur = iova;
	int rc = -ENOENT;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last_iova))
		return -EOVERFLOW;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	sio_itree_for_each(n, &iopt->area_itree, iova, last_iova)
	{
		struct iopt_area *area = to_area(n);
		uint64_t last = area_last(area) < last_iova ? area_last(area)
							    : last_iova;

		if (area_iova(area) > cur || !area->pages)
			break;
		if (nr == cap) {
			struct iopt_pages_list *l;

			cap = cap ? cap * 2 : 4;
			l = realloc(list, cap * sizeof(*l));
			if (!l) {
				rc = -ENOMEM;
				goto err;
			}
			list = l;
		}
		list[nr].pages = area->pages;
		list[nr].start_byte = area_start_byte(area, cur);
		list[nr].length = last - cur + 1;
		iopt_get_pages_ref(area->pages);
		nr++;
		if (last == last_iova) {
			rc = 0;
			break;
		}
		cur = last + 1;
	}
	if (rc)
		goto err;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	*out = list;
	*out_nr = nr;
	return 0;
err:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	iopt_free_pages_list(list, nr);
	return rc;
}

/* Unmap the areas inside [start, last]; an area crossing a bound fails. */
static int iopt_unmap_iova_range(struct io_pagetable *iopt, uint64_t start,
				 uint64_t last, uint64_t *unmapped)
{
	uint64_t unmapped_bytes = 0;
	struct sio_itree_node *n;
	int rc = -ENOENT;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	while ((n = sio_itree_first(&iopt->area_itree, start, last))) {
		struct iopt_area *area = to_area(n);
		uint64_t first = area_iova(area), alast = area_last(area);

		if (!area->pages) {
			rc = -EBUSY;
			goto out;
		}
		if (first < start || alast > last) {
			rc = -ENOENT;
			goto out;
		}
		sio_itree_remove(&iopt->area_itree, &area->node);
		iopt_put_pages(area->pages);
		free(area);
		unmapped_bytes += alast - first + 1;
	}
	if (unmapped_bytes)
		rc = 0;
out:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	if (unmapped)
		*unmapped = unmapped_bytes;
	return rc;
}

int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped)
{
	uint64_t last;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_iova_range(iopt, iova, last, unmapped);
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	int rc = iopt_unmap_iova_range(iopt, 0, UINT64_MAX, unmapped);

	/* an empty IOAS unmaps all successfully */
	return rc == -ENOENT ? 0 : rc;
}

/*
 * Swap in a new allowed list unless a reserved range intersects it; the
 * caller frees whatever @allowed holds afterwards (the old list on
 * success, its own on failure).
 */
int iopt_set_allow_iova(struct io_pagetable *iopt, struct sio_itree *allowed)
{
	struct sio_itree_node *n;
	struct sio_itree tmp;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	sio_itree_for_each(n, allowed, 0, UINT64_MAX)
	{
		if (sio_itree_first(&iopt->reserved_itree, n->start, n->last)) {
			pthread_rwlock_unlock(&iopt->iova_rwsem);
			return -EADDRINUSE;
		}
	}
	tmp = iopt->allowed_itree;
	iopt->allowed_itree = *allowed;
	*allowed = tmp;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return 0;
}

static int __iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start,
			       uint64_t last, const void *owner)
{
	struct iopt_reserved *r;

	if (sio_itree_first(&iopt->area_itree, start, last) ||
	    sio_itree_first(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->node.start = start;
	r->node.last = last;
	r->owner = owner;
	sio_itree_insert(&iopt->reserved_itree, &r->node);
	return 0;
}

int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner)
{
	int rc;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	rc = __iopt_reserve_iova(iopt, start, last, owner);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	struct sio_itree_node *n, *next;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (n = sio_itree_first(&iopt->reserved_itree, 0, UINT64_MAX); n;
	     n = next) {
		next = sio_itree_next(&iopt->reserved_itree, n, 0, UINT64_MAX);
		if (((struct iopt_reserved *)n)->owner == owner) {
			sio_itree_remove(&iopt->reserved_itree, n);
			free(n);
		}
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

/* Every area must conform to a larger alignment (-EADDRINUSE if not). */
static int iopt_check_iova_alignment(struct io_pagetable *iopt, uint64_t align)
{
	uint64_t mask = align - 1;
	struct sio_itree_node *n;

	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);
		uint64_t page_mask = area->pages->host->page_size - 1;

		if ((area_iova(area) & mask) ||
		    ((area_last(area) - area_iova(area) + 1) & mask) ||
		    ((area->start_byte & page_mask) & mask))
			return -EADDRINUSE;
	}
	return 0;
}

static int iopt_calculate_iova_alignment(struct io_pagetable *iopt,
					 uint64_t page_size)
{
	uint64_t align = iopt->disable_large_pages ? page_size : 1;
	int rc;

	if (align > iopt->iova_alignment) {
		rc = iopt_check_iova_alignment(iopt, align);
		if (rc)
			return rc;
	}
	iopt->iova_alignment = align;
	return 0;
}

int iopt_disable_large_pages(struct io_pagetable *iopt, uint64_t page_size)
{
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	if (iopt->disable_large_pages)
		goto out;
	/* Not once domains may hold huge mappings of existing areas. */
	if (iopt->nr_domains && !sio_itree_empty(&iopt->area_itree)) {
		rc = -EINVAL;
		goto out;
	}
	iopt->disable_large_pages = true;
	rc = iopt_calculate_iova_alignment(iopt, page_size);
	if (rc)
		iopt->disable_large_pages = false;
out:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_enable_large_pages(struct io_pagetable *iopt, uint64_t page_size)
{
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	iopt->disable_large_pages = false;
	iopt_calculate_iova_alignment(iopt, page_size);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}
