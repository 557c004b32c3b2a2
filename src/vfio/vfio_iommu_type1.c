// SPDX-License-Identifier: MIT
/*
 * The VFIO type1 IOMMU driver, as the kernel's vfio_iommu_type1.c answers
 * its ioctls, built on iommufd's objects instead of its own domains: one
 * IOAS in the container's private iommufd context, every group's device
 * attached to it (an automatic domain each), and one IOAS area per
 * vfio_dma.  What type1 adds on top is its own bookkeeping: the mappings
 * as the program made them (v1 and v2 unmap rules, the VADDR update
 * flow, the entry limit) and the dirty bitmaps, with type1's errnos.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio_private.h"

#define MINSZ(type, field) \
	(offsetof(struct type, field) + sizeof(((struct type *)0)->field))

/* DIRTY_BITMAP_BYTES(INT_MAX): the largest bitmap type1 fills */
#define DIRTY_BITMAP_PAGES_MAX 0x7fffffffull
#define DIRTY_BITMAP_BYTES(n)  ((((n) + 63) & ~63ull) / 8)
#define DIRTY_BITMAP_SIZE_MAX  DIRTY_BITMAP_BYTES(DIRTY_BITMAP_PAGES_MAX)

/* One VFIO_IOMMU_MAP_DMA: [iova, last] from vaddr, one IOAS area. */
struct vfio_dma {
	struct sio_itree_node node;
	uint64_t vaddr;
	int prot;
	bool vaddr_invalid;
};

static struct vfio_dma *to_dma(struct sio_itree_node *n)
{
	return n ? iommufd_container_of(n, struct vfio_dma, node) : NULL;
}

static uint64_t dma_size(const struct vfio_dma *dma)
{
	return dma->node.last - dma->node.start + 1;
}

/* The mapping overlapping [start, start + size - 1], if any. */
static struct vfio_dma *find_dma(struct vfio_iommu *iommu, uint64_t start,
				 uint64_t size)
{
	return to_dma(sio_itree_first(&iommu->dmas, start, start + size - 1));
}

static uint64_t min_pgsize(const struct vfio_iommu *iommu)
{
	return iommu->pgsize_bitmap & -iommu->pgsize_bitmap;
}

int vfio_iommu_type1_check_extension(struct vfio_iommu *iommu, uint64_t arg)
{
	switch (arg) {
	case SIO_VFIO_TYPE1_IOMMU:
	case SIO_VFIO_TYPE1v2_IOMMU:
	case SIO_VFIO_UNMAP_ALL:
		return 1;
	case SIO_VFIO_UPDATE_VADDR:
		/* only refused with emulated (mdev) groups, which we lack */
		return iommu != NULL;
	case SIO_VFIO_DMA_CC_IOMMU:
		/* every domain is the coherent SMMUv3 model's */
		return iommu != NULL;
	default:
		/*
		 * Including 6, __VFIO_RESERVED_TYPE1_NESTING_IOMMU: no longer
		 * advertised since VFIO_TYPE1_NESTING_IOMMU was removed.
		 */
		return 0;
	}
}

int vfio_iommu_type1_open(uint64_t arg, struct iommufd_ctx *ictx,
			  unsigned int dma_entry_limit, struct vfio_iommu **out)
{
	struct vfio_iommu *iommu;
	bool v2;
	int rc;

	switch (arg) {
	case SIO_VFIO_TYPE1_IOMMU:
		v2 = false;
		break;
	case SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU:
		/* the removed nesting type is a no-op alias of v2 */
	case SIO_VFIO_TYPE1v2_IOMMU:
		v2 = true;
		break;
	default:
		return -EINVAL;
	}
	iommu = sio_calloc(1, sizeof(*iommu));
	if (!iommu)
		return -ENOMEM;
	rc = iommufd_ioas_alloc(ictx, &iommu->ioas);
	if (rc) {
		free(iommu);
		return rc;
	}
	iommufd_object_finalize(ictx, &iommu->ioas->obj);
	pthread_mutex_init(&iommu->lock, NULL);
	iommu->ictx = ictx;
	iommu->v2 = v2;
	iommu->dma_avail = dma_entry_limit;
	/* PAGE_MASK until a domain says more */
	iommu->pgsize_bitmap = ~(ictx->host->page_size - 1);
	*out = iommu;
	return 0;
}

/* Unmap @dma from the IOAS (every domain) and forget it. */
static void remove_dma(struct vfio_iommu *iommu, struct vfio_dma *dma)
{
	uint64_t unmapped;

	iopt_unmap_iova(&iommu->ioas->iopt, dma->node.start, dma_size(dma),
			&unmapped);
	sio_itree_remove(&iommu->dmas, &dma->node);
	if (dma->vaddr_invalid)
		iommu->vaddr_invalid_count--;
	free(dma);
	iommu->dma_avail++;
}

static void remove_all_dmas(struct vfio_iommu *iommu)
{
	struct sio_itree_node *n;

	while ((n = sio_itree_first(&iommu->dmas, 0, UINT64_MAX)))
		remove_dma(iommu, to_dma(n));
}

void vfio_iommu_type1_release(struct vfio_iommu *iommu)
{
	if (!iommu)
		return;
	remove_all_dmas(iommu);
	/* the IOAS goes with the container's context */
	pthread_mutex_destroy(&iommu->lock);
	free(iommu);
}

/* vfio_update_pgsize_bitmap(): the domains' sizes, none below PAGE_SIZE. */
static void update_pgsize_bitmap(struct vfio_iommu *iommu)
{
	struct io_pagetable *iopt = &iommu->ioas->iopt;
	uint64_t page_size = iommu->ictx->host->page_size;
	uint64_t bitmap = UINT64_MAX;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	for (unsigned int i = 0; i < iopt->nr_domains; i++)
		bitmap &= iopt->domains[i]->pgsize_bitmap;
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	if (bitmap & (page_size - 1)) {
		bitmap &= ~(page_size - 1);
		bitmap |= page_size;
	}
	iommu->pgsize_bitmap = bitmap;
}

int vfio_iommu_type1_attach_group(struct vfio_iommu *iommu,
				  struct iommufd_device *idev)
{
	uint32_t pt_id;
	int rc;

	pthread_mutex_lock(&iommu->lock);
	/* attaching could need pinning, which an invalid vaddr forbids */
	rc = -EBUSY;
	if (iommu->vaddr_invalid_count)
		goto out;
	pt_id = iommu->ioas->obj.id;
	rc = iommufd_device_attach(idev, &pt_id);
	if (!rc)
		update_pgsize_bitmap(iommu);
out:
	pthread_mutex_unlock(&iommu->lock);
	return rc;
}

void vfio_iommu_type1_detach_group(struct vfio_iommu *iommu,
				   struct iommufd_device *idev)
{
	pthread_mutex_lock(&iommu->lock);
	iommufd_device_detach(idev);
	update_pgsize_bitmap(iommu);
	pthread_mutex_unlock(&iommu->lock);
}

/* vfio_iommu_iova_dma_valid(): inside one hole of the reserved ranges. */
static bool iova_dma_valid(struct vfio_iommu *iommu, uint64_t start,
			   uint64_t end)
{
	struct io_pagetable *iopt = &iommu->ioas->iopt;
	bool valid;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	valid = !sio_itree_first(&iopt->reserved_itree, start, end);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return valid;
}

/* VFIO_DMA_MAP_FLAG_VADDR: give an invalidated mapping its new vaddr. */
static int update_vaddr(struct vfio_iommu *iommu, struct vfio_dma *dma,
			const struct sio_vfio_iommu_type1_dma_map *map)
{
	if (!dma)
		return -ENOENT;
	if (!dma->vaddr_invalid || dma->node.start != map->iova ||
	    dma_size(dma) != map->size)
		return -EINVAL;
	/* the pages stay pinned: the new vaddr must map the same memory */
	dma->vaddr = map->vaddr;
	dma->vaddr_invalid = false;
	iommu->vaddr_invalid_count--;
	return 0;
}

/* vfio_dma_do_map(), its checks in its order. */
static int do_map(struct vfio_iommu *iommu,
		  const struct sio_vfio_iommu_type1_dma_map *map)
{
	bool set_vaddr = map->flags & SIO_VFIO_DMA_MAP_FLAG_VADDR;
	uint64_t iova = map->iova, iova_end, vaddr_end, pgsize;
	struct vfio_dma *dma;
	int prot = 0, rc;

	if (!map->size)
		return -EINVAL;
	if (__builtin_add_overflow(map->iova, map->size - 1, &iova_end) ||
	    __builtin_add_overflow(map->vaddr, map->size - 1, &vaddr_end))
		return -EOVERFLOW;
	if (map->flags & SIO_VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (map->flags & SIO_VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (!prot == !set_vaddr)
		return -EINVAL;

	pthread_mutex_lock(&iommu->lock);
	pgsize = min_pgsize(iommu);
	rc = -EINVAL;
	if ((map->size | map->iova | map->vaddr) & (pgsize - 1))
		goto out;
	dma = find_dma(iommu, map->iova, map->size);
	if (set_vaddr) {
		rc = update_vaddr(iommu, dma, map);
		goto out;
	}
	rc = -EEXIST;
	if (dma)
		goto out;
	rc = -ENOSPC;
	if (!iommu->dma_avail)
		goto out;
	rc = -EINVAL;
	if (!iova_dma_valid(iommu, map->iova, iova_end))
		goto out;
	rc = -ENOMEM;
	dma = sio_calloc(1, sizeof(*dma));
	if (!dma)
		goto out;
	/* type1 maps every page cache-coherent (IOMMU_CACHE) */
	rc = iopt_map_user_pages(iommu->ictx, &iommu->ioas->iopt, &iova,
				 map->vaddr, map->size, prot | IOMMU_CACHE, 0);
	if (rc) {
		free(dma);
		goto out;
	}
	dma->node.start = map->iova;
	dma->node.last = iova_end;
	dma->vaddr = map->vaddr;
	dma->prot = prot;
	sio_itree_insert(&iommu->dmas, &dma->node);
	iommu->dma_avail--;
out:
	pthread_mutex_unlock(&iommu->lock);
	return rc;
}

static int map_dma(struct vfio_iommu *iommu, uint64_t arg)
{
	const uint32_t mask = SIO_VFIO_DMA_MAP_FLAG_READ |
			      SIO_VFIO_DMA_MAP_FLAG_WRITE |
			      SIO_VFIO_DMA_MAP_FLAG_VADDR;
	size_t minsz = MINSZ(sio_vfio_iommu_type1_dma_map, size);
	struct sio_vfio_iommu_type1_dma_map map;
	int rc = sio_user_read(&map, arg, minsz);

	if (rc)
		return rc;
	if (map.argsz < minsz || map.flags & ~mask)
		return -EINVAL;
	return do_map(iommu, &map);
}

/*
 * update_user_bitmap(): every page of a mapped vfio_dma is dirty (no
 * group here reports dirtying more finely), written as whole u64 words
 * from @dma's first bit; below that bit the first word keeps the
 * program's bits (an earlier mapping's).
 */
static int update_user_bitmap(uint64_t data, struct vfio_dma *dma,
			      uint64_t base_iova, uint64_t pgsize)
{
	unsigned int pgshift = (unsigned int)__builtin_ctzll(pgsize);
	uint64_t nbits = dma_size(dma) >> pgshift;
	uint64_t bit_offset = (dma->node.start - base_iova) >> pgshift;
	uint64_t word = bit_offset / 64, shift = bit_offset % 64;
	uint64_t nwords = DIRTY_BITMAP_BYTES(nbits + shift) / 8;

	for (uint64_t i = 0; i < nwords; i++) {
		uint64_t first = i * 64, v = 0, lo, hi;
		int rc;

		if (i == 0 && shift) {
			rc = sio_user_read(&v, data + word * 8, sizeof(v));
			if (rc)
				return rc;
			v &= (1ull << shift) - 1;
		}
		/* bits [shift, shift + nbits) of the run are set */
		lo = first > shift ? first : shift;
		hi = first + 64 < shift + nbits ? first + 64 : shift + nbits;
		if (hi > lo) {
			uint64_t n = hi - lo;

			v |= (n == 64 ? ~0ull : ((1ull << n) - 1))
			     << (lo - first);
		}
		rc = sio_user_write(data + (word + i) * 8, &v, sizeof(v));
		if (rc)
			return rc;
	}
	return 0;
}

/* VFIO_DMA_UNMAP_FLAG_VADDR undone for the mappings before @stop. */
static void vaddr_rollback(struct vfio_iommu *iommu, uint64_t iova,
			   struct vfio_dma *stop)
{
	struct sio_itree_node *n;

	sio_itree_for_each(n, &iommu->dmas, iova, stop->node.start - 1)
	{
		struct vfio_dma *dma = to_dma(n);

		if (dma == stop)
			break;
		dma->vaddr_invalid = false;
		iommu->vaddr_invalid_count--;
	}
}

/* The v2 rule: neither end of the range may fall inside a mapping. */
static bool range_bisects(struct vfio_iommu *iommu, uint64_t iova,
			  uint64_t iova_end)
{
	struct vfio_dma *dma = find_dma(iommu, iova, 1);

	if (dma && dma->node.start != iova)
		return true;
	dma = find_dma(iommu, iova_end, 1);
	return dma && dma->node.last != iova_end;
}

struct unmap_req {
	uint64_t iova, size;
	uint32_t flags;
	const struct sio_vfio_bitmap *bitmap;
};

/* The range's own checks (vfio_dma_do_unmap's head); 0 with *@end set. */
static int unmap_check_range(struct vfio_iommu *iommu,
			     const struct unmap_req *req, uint64_t *end)
{
	uint64_t pgsize = min_pgsize(iommu);

	if (req->iova & (pgsize - 1))
		return -EINVAL;
	if (req->flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL) {
		if (req->iova || req->size)
			return -EINVAL;
		*end = UINT64_MAX;
	} else {
		if (!req->size || req->size & (pgsize - 1))
			return -EINVAL;
		if (__builtin_add_overflow(req->iova, req->size - 1, end))
			return -EOVERFLOW;
	}
	/* with dirty tracking, only the smallest page size */
	if ((req->flags & SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (!iommu->dirty_tracking || req->bitmap->pgsize != pgsize))
		return -EINVAL;
	if (iommu->v2 && !(req->flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL) &&
	    range_bisects(iommu, req->iova, *end))
		return -EINVAL;
	return 0;
}

/*
 * vfio_dma_do_unmap().  v1: a mapping is unmapped whole when the range
 * covers its first IOVA, and a range starting inside one stops the walk
 * with success (and maybe 0 bytes).  v2: the range must not bisect one.
 */
static int do_unmap(struct vfio_iommu *iommu, const struct unmap_req *req,
		    uint64_t *unmapped)
{
	bool invalidate = req->flags & SIO_VFIO_DMA_UNMAP_FLAG_VADDR;
	uint64_t end, cur = req->iova;
	int rc;

	*unmapped = 0;
	pthread_mutex_lock(&iommu->lock);
	rc = unmap_check_range(iommu, req, &end);
	while (!rc) {
		struct vfio_dma *dma =
			to_dma(sio_itree_first(&iommu->dmas, cur, end));

		if (!dma || (!iommu->v2 && req->iova > dma->node.start))
			break;
		if (invalidate) {
			if (dma->vaddr_invalid) {
				vaddr_rollback(iommu, req->iova, dma);
				*unmapped = 0;
				rc = -EINVAL;
				break;
			}
			dma->vaddr_invalid = true;
			iommu->vaddr_invalid_count++;
		} else if (req->flags &
			   SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
			rc = update_user_bitmap(req->bitmap->data, dma,
						req->iova, req->bitmap->pgsize);
			if (rc)
				break;
		}
		*unmapped += dma_size(dma);
		if (dma->node.last == UINT64_MAX)
			end = 0, cur = 1; /* nothing lies above: stop */
		else
			cur = dma->node.last + 1;
		if (!invalidate)
			remove_dma(iommu, dma);
		if (cur > end)
			break;
	}
	pthread_mutex_unlock(&iommu->lock);
	return rc;
}

/* verify_bitmap_size() */
static int verify_bitmap_size(uint64_t npages, uint64_t bitmap_size)
{
	if (!npages || !bitmap_size || bitmap_size > DIRTY_BITMAP_SIZE_MAX ||
	    bitmap_size < DIRTY_BITMAP_BYTES(npages))
		return -EINVAL;
	return 0;
}

/* The user bitmap's pages and size, before any lock (the kernel's order). */
static int check_user_bitmap(struct vfio_iommu *iommu,
			     const struct sio_vfio_bitmap *bm, uint64_t size)
{
	uint64_t end;

	/*
	 * access_ok(): the range neither wraps nor leaves the user address
	 * space (a kernel or non-canonical pointer is EINVAL here, not the
	 * EFAULT a later copy would give)
	 */
	if (__builtin_add_overflow(bm->data, bm->size, &end) ||
	    end > iommufd_user_top(iommu->ictx->host))
		return -EINVAL;
	if (!bm->pgsize)
		return -EINVAL;
	return verify_bitmap_size(size >> __builtin_ctzll(bm->pgsize),
				  bm->size);
}

static int unmap_dma(struct vfio_iommu *iommu, uint64_t arg)
{
	const uint32_t mask = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP |
			      SIO_VFIO_DMA_UNMAP_FLAG_VADDR |
			      SIO_VFIO_DMA_UNMAP_FLAG_ALL;
	size_t minsz = MINSZ(sio_vfio_iommu_type1_dma_unmap, size);
	struct sio_vfio_iommu_type1_dma_unmap unmap;
	struct sio_vfio_bitmap bitmap = {0};
	struct unmap_req req;
	uint64_t unmapped;
	int rc;

	rc = sio_user_read(&unmap, arg, minsz);
	if (rc)
		return rc;
	if (unmap.argsz < minsz || unmap.flags & ~mask)
		return -EINVAL;
	if ((unmap.flags & SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (unmap.flags &
	     (SIO_VFIO_DMA_UNMAP_FLAG_ALL | SIO_VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (unmap.flags & SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) {
		if (unmap.argsz < minsz + sizeof(bitmap))
			return -EINVAL;
		rc = sio_user_read(&bitmap, arg + minsz, sizeof(bitmap));
		if (rc)
			return rc;
		rc = check_user_bitmap(iommu, &bitmap, unmap.size);
		if (rc)
			return rc;
	}
	req = (struct unmap_req){.iova = unmap.iova,
				 .size = unmap.size,
				 .flags = unmap.flags,
				 .bitmap = &bitmap};
	rc = do_unmap(iommu, &req, &unmapped);
	if (rc)
		return rc;
	unmap.size = unmapped;
	return sio_user_write(arg, &unmap, minsz);
}

/* vfio_iova_dirty_bitmap(): whole mappings only, in IOVA order. */
static int iova_dirty_bitmap(struct vfio_iommu *iommu, uint64_t data,
			     uint64_t iova, uint64_t iova_end, uint64_t pgsize)
{
	struct sio_itree_node *n;

	if (range_bisects(iommu, iova, iova_end))
		return -EINVAL;
	sio_itree_for_each(n, &iommu->dmas, iova, iova_end)
	{
		int rc = update_user_bitmap(data, to_dma(n), iova, pgsize);

		if (rc)
			return rc;
	}
	return 0;
}

static int dirty_get_bitmap(struct vfio_iommu *iommu, uint64_t arg,
			    uint32_t argsz, size_t minsz)
{
	struct sio_vfio_iommu_type1_dirty_bitmap_get range;
	uint64_t iova_end, pgsize;
	int rc;

	if (argsz - minsz < sizeof(range) || argsz <= minsz)
		return -EINVAL;
	rc = sio_user_read(&range, arg + minsz, sizeof(range));
	if (rc)
		return rc;
	if (!range.size)
		return -EINVAL;
	if (__builtin_add_overflow(range.iova, range.size - 1, &iova_end))
		return -EOVERFLOW;
	rc = check_user_bitmap(iommu, &range.bitmap, range.size);
	if (rc)
		return rc;

	pthread_mutex_lock(&iommu->lock);
	pgsize = min_pgsize(iommu);
	if (range.bitmap.pgsize != pgsize || (range.iova & (pgsize - 1)) ||
	    (range.size & (pgsize - 1)) || !iommu->dirty_tracking)
		rc = -EINVAL;
	else
		rc = iova_dirty_bitmap(iommu, range.bitmap.data, range.iova,
				       iova_end, pgsize);
	pthread_mutex_unlock(&iommu->lock);
	return rc;
}

/* VFIO_IOMMU_DIRTY_PAGES: START, STOP or GET_BITMAP, one at a time. */
static int dirty_pages(struct vfio_iommu *iommu, uint64_t arg)
{
	const uint32_t mask = SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
			      SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP |
			      SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP;
	size_t minsz = MINSZ(sio_vfio_iommu_type1_dirty_bitmap, flags);
	struct sio_vfio_iommu_type1_dirty_bitmap dirty;
	int rc;

	/* v1 containers have no dirty tracking at all */
	if (!iommu->v2)
		return -EACCES;
	rc = sio_user_read(&dirty, arg, minsz);
	if (rc)
		return rc;
	if (dirty.argsz < minsz || dirty.flags & ~mask ||
	    __builtin_popcount(dirty.flags) != 1)
		return -EINVAL;
	if (dirty.flags & SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP)
		return dirty_get_bitmap(iommu, arg, dirty.argsz, minsz);
	pthread_mutex_lock(&iommu->lock);
	iommu->dirty_tracking = dirty.flags &
				SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START;
	pthread_mutex_unlock(&iommu->lock);
	return 0;
}

/* GET_INFO's caps, built in a buffer: each padded to 8 bytes. */
struct info_caps {
	uint8_t *buf;
	size_t size;
	size_t last; /* offset of the last cap's header, or SIZE_MAX */
};

static void *caps_add(struct info_caps *caps, size_t size, uint16_t id)
{
	size_t aligned = (size + 7) & ~(size_t)7;
	struct sio_vfio_info_cap_header *h;
	uint8_t *buf = sio_realloc(caps->buf, caps->size + aligned);

	if (!buf)
		return NULL;
	caps->buf = buf;
	memset(buf + caps->size, 0, aligned);
	h = (struct sio_vfio_info_cap_header *)(buf + caps->size);
	h->id = id;
	h->version = 1;
	/* the chain's offsets are from the info struct: shifted later */
	if (caps->last != SIZE_MAX)
		((struct sio_vfio_info_cap_header *)(buf + caps->last))->next =
			(uint32_t)caps->size;
	caps->last = caps->size;
	caps->size += aligned;
	return h;
}

static int build_caps(struct vfio_iommu *iommu, struct info_caps *caps)
{
	struct sio_vfio_iommu_type1_info_cap_migration *mig;
	struct sio_vfio_iommu_type1_info_dma_avail *avail;
	struct sio_vfio_iommu_type1_info_cap_iova_range *ranges;
	struct io_pagetable *iopt = &iommu->ioas->iopt;
	struct sio_itree_span span;
	uint32_t nr = 0, i = 0;

	mig = caps_add(caps, sizeof(*mig),
		       SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	if (!mig)
		return -ENOMEM;
	mig->pgsize_bitmap = min_pgsize(iommu);
	mig->max_dirty_bitmap_size = DIRTY_BITMAP_SIZE_MAX;
	avail = caps_add(caps, sizeof(*avail),
			 SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	if (!avail)
		return -ENOMEM;
	avail->avail = iommu->dma_avail;

	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	sio_itree_for_each_span(&span, &iopt->reserved_itree, 0, UINT64_MAX)
		nr += span.is_hole;
	ranges = caps_add(caps,
			  sizeof(*ranges) + nr * sizeof(ranges->iova_ranges[0]),
			  SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (ranges) {
		ranges->nr_iovas = nr;
		sio_itree_for_each_span(&span, &iopt->reserved_itree, 0,
					UINT64_MAX)
		{
			if (!span.is_hole)
				continue;
			ranges->iova_ranges[i].start = span.start;
			ranges->iova_ranges[i++].end = span.last;
		}
	}
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	return ranges ? 0 : -ENOMEM;
}

/* vfio_info_cap_shift(): make the chain's offsets count from @offset. */
static void caps_shift(struct info_caps *caps, size_t offset)
{
	size_t at = 0;

	for (;;) {
		struct sio_vfio_info_cap_header *h =
			(struct sio_vfio_info_cap_header *)(caps->buf + at);

		if (!h->next)
			break;
		at = h->next;
		h->next += (uint32_t)offset;
	}
}

static int get_info(struct vfio_iommu *iommu, uint64_t arg)
{
	size_t minsz = MINSZ(sio_vfio_iommu_type1_info, iova_pgsizes);
	struct sio_vfio_iommu_type1_info info = {0};
	struct info_caps caps = {.last = SIZE_MAX};
	int rc;

	rc = sio_user_read(&info, arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);

	pthread_mutex_lock(&iommu->lock);
	info.flags = SIO_VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = iommu->pgsize_bitmap;
	rc = build_caps(iommu, &caps);
	pthread_mutex_unlock(&iommu->lock);
	if (rc)
		goto out;

	info.flags |= SIO_VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + caps.size) {
		/* too small: say how much, write no cap */
		info.argsz = (uint32_t)(sizeof(info) + caps.size);
	} else {
		caps_shift(&caps, sizeof(info));
		rc = sio_user_write(arg + sizeof(info), caps.buf, caps.size);
		if (rc)
			goto out;
		info.cap_offset = sizeof(info);
	}
	rc = sio_user_write(arg, &info, minsz);
out:
	free(caps.buf);
	return rc;
}

long vfio_iommu_type1_ioctl(struct vfio_iommu *iommu, unsigned int cmd,
			    uint64_t arg)
{
	switch (cmd) {
	case SIO_VFIO_CHECK_EXTENSION:
		return vfio_iommu_type1_check_extension(iommu, arg);
	case SIO_VFIO_IOMMU_GET_INFO:
		return get_info(iommu, arg);
	case SIO_VFIO_IOMMU_MAP_DMA:
		return map_dma(iommu, arg);
	case SIO_VFIO_IOMMU_UNMAP_DMA:
		return unmap_dma(iommu, arg);
	case SIO_VFIO_IOMMU_DIRTY_PAGES:
		return dirty_pages(iommu, arg);
	default:
		return -ENOTTY;
	}
}
