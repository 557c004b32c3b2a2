// SPDX-License-Identifier: MIT
/*
 * iommufd's VFIO compatibility layer, as the kernel's vfio_compat.c: an
 * iommufd fd answers the VFIO container ioctls (a program that opens
 * /dev/iommu where it used to open /dev/vfio/vfio keeps working), all of
 * them on one "compat" IOAS that IOMMU_VFIO_IOAS names, or that the first
 * group joining the fd as its container creates.  Where iommufd gives
 * other answers than the type1 driver (no VADDR, no dirty bitmaps,
 * NESTING refused, ENOENT for a bisecting v2 unmap), these are iommufd's.
 */
#include <errno.h>
#include <stddef.h>

#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"

#define MINSZ(type, field) \
	(offsetof(struct type, field) + sizeof(((struct type *)0)->field))

/* The compat IOAS as a short-term reference, or -ENODEV when there is none. */
static int get_compat_ioas(struct iommufd_ctx *ictx, struct iommufd_ioas **out)
{
	uint32_t id;

	pthread_mutex_lock(&ictx->lock);
	id = ictx->vfio_ioas_id;
	pthread_mutex_unlock(&ictx->lock);
	*out = id ? iommufd_get_ioas(ictx, id) : NULL;
	return *out ? 0 : -ENODEV;
}

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *id)
{
	struct iommufd_ioas *ioas;
	int rc = get_compat_ioas(ictx, &ioas);

	if (rc)
		return rc;
	*id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}

/*
 * An automatically created compat IOAS is an object like one the program
 * made: IOMMU_VFIO_IOAS GET tells its id, and it lives until destroyed
 * or until the fd closes.
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	bool exists;
	int rc;

	rc = iommufd_ioas_alloc(ictx, &ioas);
	if (rc)
		return rc;
	pthread_mutex_lock(&ictx->lock);
	exists = ictx->vfio_ioas_id != 0;
	if (!exists)
		ictx->vfio_ioas_id = ioas->obj.id;
	pthread_mutex_unlock(&ictx->lock);
	if (exists) {
		iommufd_object_abort_and_destroy(ictx, &ioas->obj);
		return 0;
	}
	iommufd_object_finalize(ictx, &ioas->obj);
	return 0;
}

void iommufd_vfio_compat_forget(struct iommufd_ctx *ictx, uint32_t id)
{
	pthread_mutex_lock(&ictx->lock);
	if (ictx->vfio_ioas_id == id)
		ictx->vfio_ioas_id = 0;
	pthread_mutex_unlock(&ictx->lock);
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case SIO_IOMMU_VFIO_IOAS_GET:
		rc = iommufd_vfio_compat_ioas_get_id(ictx, &cmd->ioas_id);
		return rc ? rc : iommufd_ucmd_respond(ucmd);
	case SIO_IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ictx, cmd->ioas_id);
		if (!ioas)
			return -ENOENT;
		pthread_mutex_lock(&ictx->lock);
		ictx->vfio_ioas_id = ioas->obj.id;
		pthread_mutex_unlock(&ictx->lock);
		iommufd_put_object(ictx, &ioas->obj);
		return 0;
	case SIO_IOMMU_VFIO_IOAS_CLEAR:
		pthread_mutex_lock(&ictx->lock);
		ictx->vfio_ioas_id = 0;
		pthread_mutex_unlock(&ictx->lock);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* VFIO_IOMMU_MAP_DMA: READ/WRITE only (no VADDR), at the given IOVA. */
static int compat_map_dma(struct iommufd_ctx *ictx, uint64_t arg)
{
	const uint32_t supported = SIO_VFIO_DMA_MAP_FLAG_READ |
				   SIO_VFIO_DMA_MAP_FLAG_WRITE;
	size_t minsz = MINSZ(sio_vfio_iommu_type1_dma_map, size);
	struct sio_vfio_iommu_type1_dma_map map;
	struct iommufd_ioas *ioas;
	int prot = IOMMU_CACHE;
	uint64_t iova;
	int rc;

	rc = sio_user_read(&map, arg, minsz);
	if (rc)
		return rc;
	if (map.argsz < minsz || map.flags & ~supported)
		return -EINVAL;
	if (map.flags & SIO_VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & SIO_VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	rc = get_compat_ioas(ictx, &ioas);
	if (rc)
		return rc;
	iova = map.iova;
	rc = iopt_map_user_pages(ictx, &ioas->iopt, &iova, map.vaddr, map.size,
				 prot, 0);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/*
 * TYPE1 (large pages off) may unmap any page-aligned piece of a mapping:
 * cut the areas at both ends of the range first.  Start 0 needs no cut.
 */
static int compat_cut_range(struct io_pagetable *iopt, uint64_t iova,
			    uint64_t size)
{
	const uint64_t iovas[] = {iova + size - 1, iova - 1};

	return iopt_cut_iova(iopt, iovas, iova ? 2 : 1);
}

/* VFIO_IOMMU_UNMAP_DMA: only FLAG_ALL; dirty bitmaps are obsolete here. */
static int compat_unmap_dma(struct iommufd_ctx *ictx, uint64_t arg)
{
	size_t minsz = MINSZ(sio_vfio_iommu_type1_dma_unmap, size);
	struct sio_vfio_iommu_type1_dma_unmap unmap;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int rc;

	rc = sio_user_read(&unmap, arg, minsz);
	if (rc)
		return rc;
	if (unmap.argsz < minsz || unmap.flags & ~SIO_VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;
	rc = get_compat_ioas(ictx, &ioas);
	if (rc)
		return rc;
	if (unmap.flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size) {
			rc = -EINVAL;
			goto out_put;
		}
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (__atomic_load_n(&ioas->iopt.disable_large_pages,
				    __ATOMIC_RELAXED)) {
			rc = compat_cut_range(&ioas->iopt, unmap.iova,
					      unmap.size);
			if (rc)
				goto out_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size,
				     &unmapped);
	}
	/* the kernel reports the bytes unmapped even when it fails */
	unmap.size = unmapped;
	if (sio_user_write(arg, &unmap, minsz))
		rc = -EFAULT;
out_put:
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/*
 * Every HWPT on the compat IOAS enforces coherency: the SMMUv3 model is
 * coherent (COHACC) and iommufd maps everything with IOMMU_CACHE.
 */
static int compat_cc_iommu(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	int rc = get_compat_ioas(ictx, &ioas);

	if (rc)
		return rc;
	iommufd_put_object(ictx, &ioas->obj);
	return 1;
}

static int compat_check_extension(struct iommufd_ctx *ictx, uint64_t type)
{
	switch (type) {
	case SIO_VFIO_TYPE1_IOMMU:
	case SIO_VFIO_TYPE1v2_IOMMU:
	case SIO_VFIO_UNMAP_ALL:
		return 1;
	case SIO_VFIO_DMA_CC_IOMMU:
		return compat_cc_iommu(ictx);
	case SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU:
		/* nesting is iommufd's own HWPT_ALLOC now, not a type */
		return 0;
	case SIO_VFIO_UPDATE_VADDR:
		/* iommufd does not offer it: no safe way to implement it */
	case SIO_VFIO_NOIOMMU_IOMMU:
		/* no CONFIG_VFIO_NOIOMMU here */
	default:
		return 0;
	}
}

static int compat_set_iommu(struct iommufd_ctx *ictx, uint64_t type)
{
	struct iommufd_ioas *ioas;
	int rc;

	if (type != SIO_VFIO_TYPE1_IOMMU && type != SIO_VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	/* VFIO fails SET_IOMMU without a group; here, without an IOAS */
	rc = get_compat_ioas(ictx, &ioas);
	if (rc)
		return rc;
	/*
	 * TYPE1 may unmap inside a mapping, which a huge IOPTE would forbid:
	 * keep every mapping page-granular so any piece can be cut out.
	 */
	if (type == SIO_VFIO_TYPE1_IOMMU)
		rc = iopt_disable_large_pages(&ioas->iopt,
					      ictx->host->page_size);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* vfio_update_pgsize_bitmap()'s rule, and never below the IOVA alignment. */
static uint64_t compat_pagesizes(struct iommufd_ioas *ioas, uint64_t page_size)
{
	struct io_pagetable *iopt = &ioas->iopt;
	uint64_t bitmap = UINT64_MAX;

	for (unsigned int i = 0; i < iopt->nr_domains; i++)
		bitmap &= iopt->domains[i]->pgsize_bitmap;
	if (bitmap & (page_size - 1)) {
		bitmap &= ~(page_size - 1);
		bitmap |= page_size;
	}
	return bitmap > iopt->iova_alignment ? bitmap : iopt->iova_alignment;
}

/*
 * A cap writer: writes what fits in @avail bytes at @cur (nothing when
 * @cur is 0) and returns the cap's full size, or -EFAULT.
 */
typedef int (*fill_cap_fn)(struct iommufd_ioas *ioas, uint64_t cur,
			   size_t avail);

static int fill_cap_dma_avail(struct iommufd_ioas *ioas, uint64_t cur,
			      size_t avail)
{
	/*
	 * iommufd has no entry limit; type1 would say U16_MAX, but s390
	 * QEMU needs more, so the kernel answers U32_MAX.
	 */
	struct sio_vfio_iommu_type1_info_dma_avail cap = {
		.id = SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		.version = 1,
		.avail = UINT32_MAX,
	};

	(void)ioas;
	if (cur && avail >= sizeof(cap) &&
	    sio_user_write(cur, &cap, sizeof(cap)))
		return -EFAULT;
	return sizeof(cap);
}

static int fill_cap_iova(struct iommufd_ioas *ioas, uint64_t cur, size_t avail)
{
	struct sio_vfio_iommu_type1_info_cap_iova_range cap = {
		.id = SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
		.version = 1,
	};
	const size_t elm = sizeof(struct sio_vfio_iova_range);
	struct sio_itree_span span;

	sio_itree_for_each_span(&span, &ioas->iopt.reserved_itree, 0,
				UINT64_MAX)
	{
		struct sio_vfio_iova_range range = {.start = span.start,
						    .end = span.last};

		if (!span.is_hole)
			continue;
		if (cur && avail >= sizeof(cap) + (cap.nr_iovas + 1) * elm &&
		    sio_user_write(cur + sizeof(cap) + cap.nr_iovas * elm,
				   &range, elm))
			return -EFAULT;
		cap.nr_iovas++;
	}
	if (cur && avail >= sizeof(cap) + cap.nr_iovas * elm &&
	    sio_user_write(cur, &cap, sizeof(cap)))
		return -EFAULT;
	return (int)(sizeof(cap) + cap.nr_iovas * elm);
}

/*
 * VFIO_IOMMU_GET_INFO: DMA_AVAIL then IOVA_RANGE, each padded to 8 bytes,
 * written as far as argsz allows; argsz comes back as the size all caps
 * need, cap_offset only when they all fit.
 */
static int compat_get_info(struct iommufd_ctx *ictx, uint64_t arg)
{
	static const fill_cap_fn fill_fns[] = {fill_cap_dma_avail,
					       fill_cap_iova};
	size_t minsz = MINSZ(sio_vfio_iommu_type1_info, iova_pgsizes);
	struct sio_vfio_iommu_type1_info info = {0};
	struct iommufd_ioas *ioas;
	uint64_t last_cap = 0;
	size_t total;
	int rc;

	rc = sio_user_read(&info, arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	rc = get_compat_ioas(ictx, &ioas);
	if (rc)
		return rc;

	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	info.flags = SIO_VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = compat_pagesizes(ioas, ictx->host->page_size);
	info.cap_offset = 0;
	total = sizeof(info);
	for (size_t i = 0; i < sizeof(fill_fns) / sizeof(fill_fns[0]); i++) {
		int cap_size;

		if (info.argsz > total)
			cap_size = fill_fns[i](ioas, arg + total,
					       info.argsz - total);
		else
			cap_size = fill_fns[i](ioas, 0, 0);
		if (cap_size < 0) {
			rc = cap_size;
			goto out;
		}
		cap_size = (cap_size + 7) & ~7;
		if (last_cap && info.argsz >= total) {
			uint32_t next = (uint32_t)total;

			rc = sio_user_write(
				last_cap +
					offsetof(struct sio_vfio_info_cap_header,
						 next),
				&next, sizeof(next));
			if (rc)
				goto out;
		}
		last_cap = arg + total;
		total += (size_t)cap_size;
	}
	if (info.argsz >= total)
		info.cap_offset = sizeof(info);
	info.argsz = (uint32_t)total;
	info.flags |= SIO_VFIO_IOMMU_INFO_CAPS;
	rc = sio_user_write(arg, &info, minsz);
out:
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			uint64_t arg)
{
	sio_user_begin();
	switch (cmd) {
	case SIO_VFIO_GET_API_VERSION:
		return SIO_VFIO_API_VERSION;
	case SIO_VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, arg);
	case SIO_VFIO_CHECK_EXTENSION:
		return compat_check_extension(ictx, arg);
	case SIO_VFIO_IOMMU_GET_INFO:
		return compat_get_info(ictx, arg);
	case SIO_VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, arg);
	case SIO_VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, arg);
	case SIO_VFIO_IOMMU_DIRTY_PAGES:
		/* obsolete: iommufd's own dirty tracking replaces it */
	default:
		return -ENOTTY;
	}
}
