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
#include <string.h>
#include <sys/stat.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/uapi.h"

#define HPAGE_SIZE (2ull << 20) /* the x86-64 THP size the kernel caps at */

static struct iopt_area *to_area(struct sio_itree_node *n)
{
	return n ? (struct iopt_area *)((char *)n -
					offsetof(struct iopt_area, node))
		 : NULL;
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
	iopt->domains = NULL;
	iopt->nr_domains = 0;
	iopt->domains_cap = 0;
	iopt->host_page_size = 1;
	pthread_mutex_init(&iopt->access_lock, NULL);
	iopt->accesses = NULL;
	iopt->accesses_cap = 0;
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
	free(iopt->domains);
	free(iopt->accesses);
	pthread_mutex_destroy(&iopt->access_lock);
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

/*
 * Large pages off (IOMMU_OPTION_HUGE_PAGES 0, VFIO compat TYPE1): one
 * host page at a time, as the kernel's batch_iommu_map_small() does, so
 * the domain holds no block that any page-sized unmap would split, and
 * dirty tracking sees pages, not blocks.  All or nothing.
 */
static int area_map_domain_small(struct iopt_area *area, uint64_t pa,
				 uint64_t len, struct sio_iommu_domain *d)
{
	uint64_t step = area->iopt->host_page_size, iova = iopt_area_iova(area);
	uint64_t done, unmapped;
	int rc = 0;

	for (done = 0; done < len; done += step) {
		rc = d->ops->map(d, iova + done, pa + done, step,
				 area->iommu_prot);
		if (rc)
			break;
	}
	if (rc && done)
		d->ops->unmap(d, iova, done, &unmapped);
	return rc;
}

static int area_map_domain(struct iopt_area *area, struct iopt_pages *pages,
			   struct sio_iommu_domain *d)
{
	uint64_t pa = pages->uptr + area->start_byte;
	uint64_t len = iopt_area_last_iova(area) - iopt_area_iova(area) + 1;

	/* a revoked dma-buf maps nowhere, in no domain added later either */
	if (iopt_pages_revoked(pages))
		return 0;
	if (area->iopt->disable_large_pages)
		return area_map_domain_small(area, pa, len, d);
	return d->ops->map(d, iopt_area_iova(area), pa, len, area->iommu_prot);
}

static void area_unmap_domain(struct iopt_area *area,
			      struct sio_iommu_domain *d)
{
	uint64_t len = iopt_area_last_iova(area) - iopt_area_iova(area) + 1,
		 unmapped;

	/* the driver has invalidated its TLB for the range when this returns */
	d->ops->unmap(d, iopt_area_iova(area), len, &unmapped);
}

/*
 * The page indices of @pages that @area's bytes lie in (the kernel's
 * iopt_area_index() and iopt_area_last_index()): what the domains need
 * pinned for it, and no more.
 */
static uint64_t area_index(const struct iopt_area *area,
			   const struct iopt_pages *pages)
{
	return iopt_area_iova_to_index(area, pages, iopt_area_iova(area));
}

static uint64_t area_last_index(const struct iopt_area *area,
				const struct iopt_pages *pages)
{
	return iopt_area_iova_to_index(area, pages, iopt_area_last_iova(area));
}

static int area_pin(struct iopt_area *area, struct iopt_pages *pages)
{
	return iopt_pages_pin(pages, area_index(area, pages),
			      area_last_index(area, pages));
}

static void area_unpin(struct iopt_area *area, struct iopt_pages *pages)
{
	iopt_pages_unpin(pages, area_index(area, pages),
			 area_last_index(area, pages));
}

/*
 * Pin @area's pages and map them into every domain; all or nothing.
 * The kernel's iopt_fill_domains_pages().
 */
static int iopt_area_fill_domains(struct io_pagetable *iopt,
				  struct iopt_area *area,
				  struct iopt_pages *pages)
{
	unsigned int i;
	int rc;

	if (!iopt->nr_domains)
		return 0;
	rc = area_pin(area, pages);
	if (rc)
		return rc;
	for (i = 0; i < iopt->nr_domains; i++) {
		rc = area_map_domain(area, pages, iopt->domains[i]);
		if (rc)
			goto err;
	}
	area->pinned = true;
	return 0;
err:
	while (i--)
		area_unmap_domain(area, iopt->domains[i]);
	area_unpin(area, pages);
	return rc;
}

/* Unmap @area from every domain, then let its pages go. */
static void iopt_area_unfill_domains(struct io_pagetable *iopt,
				     struct iopt_area *area,
				     struct iopt_pages *pages)
{
	for (unsigned int i = 0; i < iopt->nr_domains; i++)
		area_unmap_domain(area, iopt->domains[i]);
	if (area->pinned) {
		/* only now: a DMA may still have been using the mapping */
		area_unpin(area, pages);
		area->pinned = false;
	}
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
	areas = nr == 1 ? &one : sio_calloc(nr, sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		areas[i] = sio_calloc(1, sizeof(**areas));
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
	/* with domains attached the new pages are pinned and mapped now */
	for (i = 0; !rc && i < inserted; i++) {
		rc = iopt_area_fill_domains(iopt, areas[i], list[i].pages);
		if (rc)
			while (i--)
				iopt_area_unfill_domains(iopt, areas[i],
							 list[i].pages);
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
	struct iommufd_dmabuf *dmabuf;
	struct iopt_pages *pages;
	uint64_t start_byte;
	struct stat st;
	int rc;

	if (fstat(fd, &st))
		return -EBADF;
	dmabuf = iommufd_dmabuf_find(ictx, &st);
	rc = iopt_alloc_file_pages(ictx->host, fd, &st, start, length,
				   iommu_prot & IOMMU_WRITE, dmabuf, &pages,
				   &start_byte);
	if (rc) {
		if (dmabuf)
			iommufd_dmabuf_put(dmabuf);
		return rc;
	}
	return iopt_map_common(ictx, iopt, pages, iova, length, start_byte,
			       iommu_prot, flags);
}

/*
 * Take every area of @dmabuf's pages out of the domains, for good: the
 * kernel's iopt_revoke_notify() for the areas of one IOAS.  The areas
 * stay (IOAS_UNMAP removes them) and keep their pin count.
 */
void iopt_revoke_dmabuf(struct io_pagetable *iopt,
			struct iommufd_dmabuf *dmabuf)
{
	struct sio_itree_node *n;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);

		/* an IOAS_COPY's areas share pages: each one leaves */
		if (!area->pages || area->pages->dmabuf != dmabuf)
			continue;
		iopt_pages_revoke(area->pages);
		for (unsigned int i = 0; i < iopt->nr_domains; i++)
			area_unmap_domain(area, iopt->domains[i]);
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
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
		uint64_t last = iopt_area_last_iova(area) < last_iova
					? iopt_area_last_iova(area)
					: last_iova;

		if (iopt_area_iova(area) > cur || !area->pages)
			break;
		if (nr == cap) {
			struct iopt_pages_list *l;

			cap = cap ? cap * 2 : 4;
			l = sio_realloc(list, cap * sizeof(*l));
			if (!l) {
				rc = -ENOMEM;
				goto err;
			}
			list = l;
		}
		list[nr].pages = area->pages;
		list[nr].start_byte = iopt_area_start_byte(area, cur);
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

struct iopt_area *iopt_area_contig_init(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt,
					uint64_t iova, uint64_t last_iova)
{
	iter->cur_iova = iova;
	iter->last_iova = last_iova;
	iter->area = to_area(sio_itree_first(&iopt->area_itree, iova, iova));
	if (iter->area && !iter->area->pages)
		iter->area = NULL;
	return iter->area;
}

struct iopt_area *iopt_area_contig_next(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt)
{
	uint64_t last;

	if (!iter->area)
		return NULL;
	last = iopt_area_last_iova(iter->area);
	if (iter->last_iova <= last)
		return NULL;
	iter->cur_iova = last + 1;
	/* areas do not overlap: the next one must start right here */
	iter->area = to_area(sio_itree_first(&iopt->area_itree, iter->cur_iova,
					     iter->last_iova));
	if (iter->area && (iopt_area_iova(iter->area) != iter->cur_iova ||
			   !iter->area->pages))
		iter->area = NULL;
	return iter->area;
}

/* An access that does not let its pins go is given this many chances. */
#define UNMAP_NOTIFY_TRIES 100

/*
 * Unmap the areas inside [start, last]; an area crossing a bound fails.
 * An area accesses have pinned is closed to new pins, and the accesses
 * are told (without the lock, so their callbacks may unpin) until they
 * have let go: the kernel's loop, with its -EDEADLOCK for an access
 * that never does.  Nothing mapped there is success, as the kernel's:
 * IOMMU_IOAS_UNMAP makes that -ENOENT itself, VFIO's compat unmap does
 * not.
 */
static int iopt_unmap_iova_range(struct io_pagetable *iopt, uint64_t start,
				 uint64_t last, uint64_t *unmapped)
{
	uint64_t unmapped_bytes = 0;
	struct sio_itree_node *n;
	unsigned int tries = 0;
	int rc = 0;

again:
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	while ((n = sio_itree_first(&iopt->area_itree, start, last))) {
		struct iopt_area *area = to_area(n);
		uint64_t first = iopt_area_iova(area),
			 alast = iopt_area_last_iova(area);

		if (!area->pages) {
			rc = -EBUSY;
			goto out;
		}
		if (first < start || alast > last) {
			rc = -ENOENT;
			goto out;
		}
		/* a HW queue's memory (an internal access) cannot go */
		if (area->num_locks) {
			rc = -EBUSY;
			goto out;
		}
		if (first != start)
			tries = 0;
		if (area->num_accesses) {
			start = first;
			area->prevent_access = true;
			pthread_rwlock_unlock(&iopt->iova_rwsem);
			iommufd_access_notify_unmap(iopt, first,
						    alast - first + 1);
			if (++tries > UNMAP_NOTIFY_TRIES) {
				rc = -EDEADLOCK;
				goto out_unmapped;
			}
			goto again;
		}
		iopt_area_unfill_domains(iopt, area, area->pages);
		sio_itree_remove(&iopt->area_itree, &area->node);
		iopt_put_pages(area->pages);
		free(area);
		unmapped_bytes += alast - first + 1;
	}
out:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
out_unmapped:
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

/*
 * Move the domains' pin of @area (not yet cut) to its two parts: the
 * pages stay pinned and counted once, but each part now holds its own
 * range, so unmapping one lets go of exactly its pages (the kernel moves
 * the area's node in domains_itree to the two parts).  The new pins
 * first, which only record the ranges and register them on the bus;
 * then the old one goes.  All or nothing.
 */
static int split_pin(struct iopt_area *area, struct iopt_area *upper,
		     uint64_t iova)
{
	struct iopt_pages *pages = area->pages;
	uint64_t lower_last = iopt_area_iova_to_index(area, pages, iova);
	int rc;

	rc = iopt_pages_pin(pages, area_index(area, pages), lower_last);
	if (rc)
		return rc;
	rc = area_pin(upper, pages);
	if (rc) {
		iopt_pages_unpin(pages, area_index(area, pages), lower_last);
		return rc;
	}
	area_unpin(area, pages);
	upper->pinned = true;
	return 0;
}

/*
 * Split @area after @iova: the upper part becomes an area of its own on
 * the same pages (one more reference, and its own pin if the area holds
 * one), so either part can be unmapped alone.  The domains' mappings do
 * not change.  The kernel's iopt_area_split(); iova_rwsem held.
 */
static int iopt_area_split(struct io_pagetable *iopt, struct iopt_area *area,
			   uint64_t iova)
{
	uint64_t new_start = iova + 1;
	struct iopt_area *upper;
	int rc;

	if (!area->pages || area->prevent_access)
		return -EBUSY;
	/* an access's pinned range cannot be cut in two */
	if (area->num_accesses)
		return -EINVAL;
	if ((new_start & (iopt->iova_alignment - 1)) ||
	    (iopt_area_start_byte(area, new_start) &
	     (iopt->iova_alignment - 1)))
		return -EINVAL;
	upper = sio_calloc(1, sizeof(*upper));
	if (!upper)
		return -ENOMEM;
	upper->iopt = iopt;
	upper->iommu_prot = area->iommu_prot;
	upper->start_byte = iopt_area_start_byte(area, new_start);
	upper->node.start = new_start;
	upper->node.last = iopt_area_last_iova(area);
	if (area->pinned) {
		rc = split_pin(area, upper, iova);
		if (rc) {
			free(upper);
			return rc;
		}
	}
	iopt_get_pages_ref(area->pages);
	upper->pages = area->pages;
	/* the tree keeps each subtree's largest last: re-insert to shrink */
	sio_itree_remove(&iopt->area_itree, &area->node);
	area->node.last = iova;
	sio_itree_insert(&iopt->area_itree, &area->node);
	sio_itree_insert(&iopt->area_itree, &upper->node);
	return 0;
}

int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  unsigned int num)
{
	int rc = 0;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (unsigned int i = 0; i < num && !rc; i++) {
		struct iopt_area *area = to_area(
			sio_itree_first(&iopt->area_itree, iovas[i], iovas[i]));

		if (!area || iopt_area_last_iova(area) == iovas[i])
			continue;
		rc = iopt_area_split(iopt, area, iovas[i]);
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped)
{
	return iopt_unmap_iova_range(iopt, 0, UINT64_MAX, unmapped);
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
	r = sio_calloc(1, sizeof(*r));
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

static void __iopt_remove_reserved_iova(struct io_pagetable *iopt,
					const void *owner)
{
	struct sio_itree_node *n, *next;

	for (n = sio_itree_first(&iopt->reserved_itree, 0, UINT64_MAX); n;
	     n = next) {
		next = sio_itree_next(&iopt->reserved_itree, n, 0, UINT64_MAX);
		if (((struct iopt_reserved *)n)->owner == owner) {
			sio_itree_remove(&iopt->reserved_itree, n);
			free(n);
		}
	}
}

void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner)
{
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	__iopt_remove_reserved_iova(iopt, owner);
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

		if ((iopt_area_iova(area) & mask) ||
		    ((iopt_area_last_iova(area) - iopt_area_iova(area) + 1) &
		     mask) ||
		    ((area->start_byte & page_mask) & mask))
			return -EADDRINUSE;
	}
	return 0;
}

/* The smallest page a domain maps. */
static uint64_t domain_min_page(const struct sio_iommu_domain *d)
{
	return 1ull << __builtin_ctzll(d->pgsize_bitmap);
}

/*
 * What the table needs: host pages when large pages are off, and every
 * domain's smallest page (the kernel's iopt_calculate_iova_alignment()).
 */
static uint64_t iopt_wanted_alignment(struct io_pagetable *iopt)
{
	uint64_t align = iopt->disable_large_pages ? iopt->host_page_size : 1;

	for (unsigned int i = 0; i < iopt->nr_domains; i++)
		if (domain_min_page(iopt->domains[i]) > align)
			align = domain_min_page(iopt->domains[i]);
	for (unsigned int i = 0; i < iopt->accesses_cap; i++)
		if (iopt->accesses[i] &&
		    iopt->accesses[i]->iova_alignment > align)
			align = iopt->accesses[i]->iova_alignment;
	return align;
}

static int iopt_calculate_iova_alignment(struct io_pagetable *iopt)
{
	uint64_t align = iopt_wanted_alignment(iopt);
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
	iopt->host_page_size = page_size;
	rc = iopt_calculate_iova_alignment(iopt);
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
	iopt->host_page_size = page_size;
	iopt_calculate_iova_alignment(iopt);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

/* ------------------------------------------------------------ accesses */

/* The kernel's xa_limit_16b on access_list ids. */
#define IOPT_MAX_ACCESSES (1u << 16)

/* The lowest free slot, growing the table; access_lock held. */
static int iopt_access_slot(struct io_pagetable *iopt, uint32_t *slot)
{
	unsigned int i, cap;
	void *p;

	for (i = 0; i < iopt->accesses_cap; i++)
		if (!iopt->accesses[i])
			break;
	if (i == iopt->accesses_cap) {
		if (iopt->accesses_cap == IOPT_MAX_ACCESSES)
			return -EBUSY; /* xa_alloc() out of ids */
		cap = iopt->accesses_cap ? iopt->accesses_cap * 2 : 4;
		p = sio_realloc(iopt->accesses, cap * sizeof(*iopt->accesses));
		if (!p)
			return -ENOMEM;
		iopt->accesses = p;
		memset(iopt->accesses + iopt->accesses_cap, 0,
		       (cap - iopt->accesses_cap) * sizeof(*iopt->accesses));
		iopt->accesses_cap = cap;
	}
	*slot = i;
	return 0;
}

int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	uint32_t slot;
	int rc;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	pthread_mutex_lock(&iopt->access_lock);
	rc = iopt_access_slot(iopt, &slot);
	if (!rc)
		iopt->accesses[slot] = access;
	pthread_mutex_unlock(&iopt->access_lock);
	if (rc)
		goto out_unlock;
	/* a pinning access needs every area on page boundaries */
	rc = iopt_calculate_iova_alignment(iopt);
	if (rc) {
		pthread_mutex_lock(&iopt->access_lock);
		iopt->accesses[slot] = NULL;
		pthread_mutex_unlock(&iopt->access_lock);
		goto out_unlock;
	}
	access->iopt_access_list_id = slot;
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access, uint32_t list_id)
{
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	pthread_mutex_lock(&iopt->access_lock);
	if (list_id < iopt->accesses_cap && iopt->accesses[list_id] == access)
		iopt->accesses[list_id] = NULL;
	pthread_mutex_unlock(&iopt->access_lock);
	/* a smaller alignment than the areas have is always satisfied */
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

/* ------------------------------------------------------------ domains */

static int iopt_reserve_outside_aperture(struct io_pagetable *iopt,
					 struct sio_iommu_domain *d)
{
	int rc = 0;

	if (d->aperture_start)
		rc = __iopt_reserve_iova(iopt, 0, d->aperture_start - 1, d);
	if (!rc && d->aperture_last != UINT64_MAX)
		rc = __iopt_reserve_iova(iopt, d->aperture_last + 1, UINT64_MAX,
					 d);
	return rc;
}

/* Pin and map every area into @d; all or nothing. */
static int iopt_fill_domain(struct io_pagetable *iopt,
			    struct sio_iommu_domain *d)
{
	struct sio_itree_node *n, *done;
	bool first = iopt->nr_domains == 0;
	int rc = 0;

	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);

		/* the first domain is the one that pins */
		if (first) {
			rc = area_pin(area, area->pages);
			if (rc)
				break;
		}
		rc = area_map_domain(area, area->pages, d);
		if (rc) {
			if (first)
				area_unpin(area, area->pages);
			break;
		}
		area->pinned = true;
	}
	if (!rc)
		return 0;
	done = n;
	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);

		if (n == done)
			break;
		area_unmap_domain(area, d);
		if (first) {
			area_unpin(area, area->pages);
			area->pinned = false;
		}
	}
	return rc;
}

int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct sio_iommu_domain *domain)
{
	uint64_t align;
	int rc;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (unsigned int i = 0; i < iopt->nr_domains; i++)
		if (iopt->domains[i] == domain) {
			rc = -EINVAL;
			goto out_unlock;
		}
	if (iopt->nr_domains == iopt->domains_cap) {
		unsigned int cap = iopt->domains_cap ? iopt->domains_cap * 2
						     : 2;
		void *p = sio_realloc(iopt->domains,
				      cap * sizeof(*iopt->domains));

		if (!p) {
			rc = -ENOMEM;
			goto out_unlock;
		}
		iopt->domains = p;
		iopt->domains_cap = cap;
	}
	align = iopt_wanted_alignment(iopt);
	if (domain_min_page(domain) > align)
		align = domain_min_page(domain);
	if (align > iopt->iova_alignment) {
		rc = iopt_check_iova_alignment(iopt, align);
		if (rc)
			goto out_unlock;
	}
	/* no area may lie outside what the domain can translate */
	rc = iopt_reserve_outside_aperture(iopt, domain);
	if (rc)
		goto out_reserved;
	rc = iopt_fill_domain(iopt, domain);
	if (rc)
		goto out_reserved;
	iopt->domains[iopt->nr_domains++] = domain;
	iopt->iova_alignment = align;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return 0;
out_reserved:
	__iopt_remove_reserved_iova(iopt, domain);
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct sio_iommu_domain *domain)
{
	struct sio_itree_node *n;
	unsigned int i;

	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (i = 0; i < iopt->nr_domains; i++)
		if (iopt->domains[i] == domain)
			break;
	if (i == iopt->nr_domains)
		goto out_unlock;
	iopt->domains[i] = iopt->domains[--iopt->nr_domains];
	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);

		area_unmap_domain(area, domain);
		if (!iopt->nr_domains && area->pinned) {
			area_unpin(area, area->pages);
			area->pinned = false;
		}
	}
	__iopt_remove_reserved_iova(iopt, domain);
	/* a smaller alignment than the areas have is always satisfied */
	iopt->iova_alignment = iopt_wanted_alignment(iopt);
out_unlock:
	pthread_rwlock_unlock(&iopt->iova_rwsem);
}

int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct sio_iommu_dev *iommu,
					uint32_t sid, const void *owner)
{
	struct sio_resv_region resv[8];
	int nr = 0, sw_msi = 0, hw_msi = 0, rc = 0;

	if (iommu->ops->get_resv_regions)
		nr = iommu->ops->get_resv_regions(iommu, sid, resv, 8);
	if (nr > 8)
		return -EINVAL;
	pthread_rwlock_wrlock(&iopt->iova_rwsem);
	for (int i = 0; i < nr; i++) {
		/* relaxable direct maps may be given up for the user's IOVAs */
		if (resv[i].type == SIO_RESV_DIRECT_RELAXABLE)
			continue;
		sw_msi += resv[i].type == SIO_RESV_SW_MSI;
		hw_msi += resv[i].type == SIO_RESV_MSI;
		rc = __iopt_reserve_iova(iopt, resv[i].start,
					 resv[i].start + resv[i].length - 1,
					 owner);
		if (rc)
			break;
	}
	/* the kernel refuses drivers that offer both kinds of MSI window */
	if (!rc && ((sw_msi && hw_msi) || sw_msi > 1))
		rc = -EINVAL;
	if (rc)
		__iopt_remove_reserved_iova(iopt, owner);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

/* ------------------------------------------------------ dirty tracking */

/* The kernel's iommufd_check_iova_range(). */
static int check_dirty_range(struct io_pagetable *iopt, uint64_t iova,
			     uint64_t length, uint64_t page_size)
{
	uint64_t last;

	if (__builtin_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if ((iova & (iopt->iova_alignment - 1)) ||
	    ((last + 1) & (iopt->iova_alignment - 1)))
		return -EINVAL;
	if (!page_size)
		return -EINVAL;
	if ((iova & (page_size - 1)) || ((last + 1) & (page_size - 1)))
		return -EINVAL;
	return 0;
}

/*
 * The user's bitmap is read, ORed into and written back a window at a
 * time: bit i stands for the page at iova + (i << pgshift), and bits
 * already set by the user stay set (the kernel's iova_bitmap).
 */
#define DIRTY_WINDOW_WORDS 512

struct dirty_window {
	uint64_t base; /* the IOVA of the user's bit 0 */
	unsigned int pgshift;
	uint64_t first; /* the window's first bit */
	uint64_t words[DIRTY_WINDOW_WORDS];
};

/* Record [iova, iova + len) as dirty, clipped to the window. */
static void window_record(struct dirty_window *w, uint64_t iova, uint64_t len,
			  uint64_t nbits)
{
	uint64_t b = (iova - w->base) >> w->pgshift;
	uint64_t e = (iova + len - 1 - w->base) >> w->pgshift;

	if (b < w->first)
		b = w->first;
	if (e >= w->first + nbits)
		e = w->first + nbits - 1;
	for (; b <= e; b++)
		w->words[(b - w->first) / 64] |= 1ull << ((b - w->first) % 64);
}

/*
 * Ask the domain for [start, last], in pieces its scratch bitmap covers,
 * and fold the dirty granules into @w (a NULL @w only cleans).
 */
static int window_read_domain(struct dirty_window *w,
			      struct sio_iommu_domain *d, unsigned int flags,
			      uint64_t start, uint64_t last, uint64_t nbits)
{
	uint64_t gran = domain_min_page(d), scratch[64];

	while (start <= last) {
		uint64_t len = last - start + 1;
		/* without a window this is the kernel's NULL-bitmap clean */
		struct sio_dirty_bitmap bm = {.iova = start,
					      .pgsize = gran,
					      .bits = w ? scratch : NULL};
		int rc;

		if (len > gran * 64 * 64)
			len = gran * 64 * 64;
		bm.length = len;
		memset(scratch, 0, sizeof(scratch));
		rc = d->ops->read_and_clear_dirty(d, &bm, flags);
		if (rc)
			return rc;
		for (uint64_t g = 0; w && g < len / gran; g++)
			if (scratch[g / 64] & (1ull << (g % 64)))
				window_record(w, start + g * gran, gran, nbits);
		start += len;
		if (!start)
			break;
	}
	return 0;
}

/* Clean every area's leaves (a NULL-bitmap read of the kernel). */
static int iopt_clear_dirty_data(struct io_pagetable *iopt,
				 struct sio_iommu_domain *d)
{
	struct sio_itree_node *n;
	int rc = 0;

	sio_itree_for_each(n, &iopt->area_itree, 0, UINT64_MAX)
	{
		struct iopt_area *area = to_area(n);

		rc = window_read_domain(NULL, d, 0, iopt_area_iova(area),
					iopt_area_last_iova(area), 0);
		if (rc)
			break;
	}
	return rc;
}

int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct sio_iommu_domain *domain, bool enable)
{
	int rc = 0;

	if (!domain->ops->set_dirty_tracking)
		return -EOPNOTSUPP;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	/* tracking starts from a clean snapshot */
	if (enable)
		rc = iopt_clear_dirty_data(iopt, domain);
	if (!rc)
		rc = domain->ops->set_dirty_tracking(domain, enable);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return rc;
}

int iopt_read_and_clear_dirty_data(struct io_pagetable *iopt,
				   struct sio_iommu_domain *domain,
				   unsigned int flags, uint64_t iova,
				   uint64_t length, uint64_t page_size,
				   uint64_t data)
{
	struct dirty_window *w;
	uint64_t total_bits;
	int rc;

	/*
	 * The kernel's iopt_read_and_clear_dirty_data(): the range first
	 * (iommufd_check_iova_range()), then the domain's dirty ops
	 * (iommu_read_and_clear_dirty()).
	 */
	rc = check_dirty_range(iopt, iova, length, page_size);
	if (rc)
		return rc;
	if (!domain->ops->read_and_clear_dirty)
		return -EOPNOTSUPP;
	w = sio_malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->base = iova;
	w->pgshift = (unsigned int)__builtin_ctzll(page_size);
	total_bits = ((length - 1) >> w->pgshift) + 1;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	for (w->first = 0; w->first < total_bits;
	     w->first += DIRTY_WINDOW_WORDS * 64) {
		uint64_t nbits = total_bits - w->first;
		uint64_t wstart = iova + (w->first << w->pgshift), wlast;
		uint64_t uaddr = data + w->first / 8;
		struct sio_itree_node *n;

		if (nbits > DIRTY_WINDOW_WORDS * 64)
			nbits = DIRTY_WINDOW_WORDS * 64;
		wlast = wstart + ((nbits << w->pgshift) - 1);
		if (wlast > iova + length - 1)
			wlast = iova + length - 1;
		rc = sio_user_read(w->words, uaddr, (nbits + 63) / 64 * 8);
		if (rc)
			break;
		sio_itree_for_each(n, &iopt->area_itree, wstart, wlast)
		{
			struct iopt_area *area = to_area(n);
			uint64_t s = iopt_area_iova(area) > wstart
					     ? iopt_area_iova(area)
					     : wstart;
			uint64_t l = iopt_area_last_iova(area) < wlast
					     ? iopt_area_last_iova(area)
					     : wlast;

			rc = window_read_domain(w, domain, flags, s, l, nbits);
			if (rc)
				break;
		}
		if (rc)
			break;
		rc = sio_user_write(uaddr, w->words, (nbits + 63) / 64 * 8);
		if (rc)
			break;
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	free(w);
	return rc;
}
