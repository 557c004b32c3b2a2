// SPDX-License-Identifier: MIT
/*
 * Access objects: the in-library users of an IOAS that have no IOMMU
 * domain (an emulated or mediated device), as the kernel's struct
 * iommufd_access in device.c.  They pin IOVA ranges to get the host
 * addresses behind them, or copy through IOVAs with the CPU, and are
 * told when IOAS_UNMAP (or their own move to another IOAS) takes a
 * range away, so that they let their pins go.
 *
 * Locks, outermost first: access->ioas_lock, the IOAS's iova_rwsem, a
 * pages object's mutex.  The unmap callback runs with none of them held
 * (it may unpin from the same thread), so an unmap on one thread and
 * pins on another meet only at those locks.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/uapi.h"

static uint64_t host_page_size(struct iommufd_access *access)
{
	return access->ictx->host->page_size;
}

/*
 * Move @access from its IOAS to @new_ioas (NULL: detach); ioas_lock
 * held, and dropped around the old IOAS's unmap callback.  On success
 * the new IOAS is held and the old one let go.
 */
static int iommufd_access_change_ioas(struct iommufd_access *access,
				      struct iommufd_ioas *new_ioas)
{
	uint32_t old_list_id = access->iopt_access_list_id;
	struct iommufd_ioas *cur_ioas = access->ioas;
	int rc;

	/* another change is between its callback and its end */
	if (cur_ioas != access->ioas_unpin)
		return -EBUSY;
	if (cur_ioas == new_ioas)
		return 0;

	/* no new pin from here on; unpin still finds the old IOAS */
	access->ioas = NULL;
	if (new_ioas) {
		rc = iopt_add_access(&new_ioas->iopt, access);
		if (rc) {
			access->ioas = cur_ioas;
			return rc;
		}
		atomic_fetch_add(&new_ioas->obj.users, 1);
	}
	if (cur_ioas) {
		if (access->ops->unmap) {
			pthread_mutex_unlock(&access->ioas_lock);
			access->ops->unmap(access->data, 0, UINT64_MAX);
			pthread_mutex_lock(&access->ioas_lock);
		}
		iopt_remove_access(&cur_ioas->iopt, access, old_list_id);
		atomic_fetch_sub(&cur_ioas->obj.users, 1);
	}
	access->ioas = new_ioas;
	access->ioas_unpin = new_ioas;
	return 0;
}

static int iommufd_access_change_ioas_id(struct iommufd_access *access,
					 uint32_t id)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(access->ictx, id);
	int rc;

	if (!ioas)
		return -ENOENT;
	rc = iommufd_access_change_ioas(access, ioas);
	iommufd_put_object(access->ictx, &ioas->obj);
	return rc;
}

void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		iommufd_container_of(obj, struct iommufd_access, obj);

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas)
		iommufd_access_change_ioas(access, NULL);
	pthread_mutex_unlock(&access->ioas_lock);
	pthread_mutex_destroy(&access->ioas_lock);
}

int iommufd_access_create(struct iommufd_ctx *ictx,
			  const struct iommufd_access_ops *ops, void *data,
			  uint32_t *id, struct iommufd_access **out)
{
	struct iommufd_access *access = sio_calloc(1, sizeof(*access));
	int rc;

	if (!access)
		return -ENOMEM;
	rc = iommufd_object_alloc(ictx, &access->obj, IOMMUFD_OBJ_ACCESS);
	if (rc) {
		free(access);
		return rc;
	}
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	access->iova_alignment = ops->needs_pin_pages ? ictx->host->page_size
						      : 1;
	pthread_mutex_init(&access->ioas_lock, NULL);
	/* the creator is a user until iommufd_access_destroy() */
	atomic_fetch_add(&access->obj.users, 1);
	/* an internal access belongs to an object of the context itself */
	if (!ops->internal)
		iommufd_ctx_get(ictx);
	iommufd_object_finalize(ictx, &access->obj);
	*id = access->obj.id;
	*out = access;
	return 0;
}

void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;

	/*
	 * Nothing but its creator holds an access for long, so EBUSY can
	 * only be an unmap callback or lookup seen half way through its
	 * two counts: wait it out.
	 */
	bool internal = access->ops->internal;

	while (iommufd_object_destroy_user(ictx, &access->obj) == -EBUSY)
		sched_yield();
	if (!internal)
		iommufd_ctx_put(ictx);
}

void iommufd_access_detach(struct iommufd_access *access)
{
	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas)
		iommufd_access_change_ioas(access, NULL);
	pthread_mutex_unlock(&access->ioas_lock);
}

int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (access->ioas)
		rc = -EINVAL;
	else
		rc = iommufd_access_change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id)
{
	int rc;

	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas)
		rc = -ENOENT;
	else
		rc = iommufd_access_change_ioas_id(access, ioas_id);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length)
{
	pthread_mutex_lock(&iopt->access_lock);
	/* the table may change while unlocked: re-read it every slot */
	for (unsigned int i = 0; i < iopt->accesses_cap; i++) {
		struct iommufd_access *access = iopt->accesses[i];

		/* one being destroyed has been, or is being, detached */
		if (!access || !access->ops->unmap ||
		    !iommufd_lock_obj(access->ictx, &access->obj))
			continue;
		pthread_mutex_unlock(&iopt->access_lock);
		access->ops->unmap(access->data, iova, length);
		iommufd_put_object(access->ictx, &access->obj);
		pthread_mutex_lock(&iopt->access_lock);
	}
	pthread_mutex_unlock(&iopt->access_lock);
}

/* The areas a contiguous walk yields all have their pages. */
static uint64_t iova_to_index(const struct iopt_area *area, uint64_t iova)
{
	return iopt_area_iova_to_index(area, area->pages, iova);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Remove the access pins of [iova, last_iova]; iova_rwsem held. */
static void unpin_range(struct io_pagetable *iopt, bool locked, uint64_t iova,
			uint64_t last_iova)
{
	struct iopt_area_contig_iter iter;
	struct iopt_area *area;

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = min_u64(last_iova, iopt_area_last_iova(area));

		iopt_area_remove_access(area, locked,
					iova_to_index(area, iter.cur_iova),
					iova_to_index(area, last));
	}
}

void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length)
{
	struct io_pagetable *iopt;
	uint64_t last_iova;

	/* the kernel WARNs at these caller bugs and does nothing */
	if (!length || __builtin_add_overflow(iova, length - 1, &last_iova))
		return;
	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas_unpin) {
		pthread_mutex_unlock(&access->ioas_lock);
		return;
	}
	iopt = &access->ioas_unpin->iopt;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	unpin_range(iopt, access->ops->internal, iova, last_iova);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	pthread_mutex_unlock(&access->ioas_lock);
}

/*
 * Each area's part must cover whole pages: it starts on a page, and
 * unless it is the last part it ends on one.
 */
static bool contig_is_aligned(const struct iopt_area_contig_iter *iter,
			      uint64_t page_size)
{
	const struct iopt_area *area = iter->area;

	if (iopt_area_start_byte(area, iter->cur_iova) % page_size)
		return false;
	if (!iopt_area_contig_done(iter) &&
	    iopt_area_start_byte(area, iopt_area_last_iova(area)) % page_size !=
		    page_size - 1)
		return false;
	return true;
}

static bool check_area_prot(const struct iopt_area *area, unsigned int flags)
{
	if (flags & IOMMUFD_ACCESS_RW_WRITE)
		return area->iommu_prot & IOMMU_WRITE;
	return area->iommu_prot & IOMMU_READ;
}

/* Pin each area's part of [iova, last_iova]; iova_rwsem read-held. */
static int pin_range(struct iommufd_access *access, struct io_pagetable *iopt,
		     uint64_t iova, uint64_t last_iova, void **out_pages,
		     unsigned int flags)
{
	struct iopt_area_contig_iter iter;
	struct iopt_area *area;
	int rc = 0;

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = min_u64(last_iova, iopt_area_last_iova(area));
		uint64_t last_index = iova_to_index(area, last);
		uint64_t index = iova_to_index(area, iter.cur_iova);

		if (area->prevent_access ||
		    !contig_is_aligned(&iter, host_page_size(access))) {
			rc = -EINVAL;
			break;
		}
		if (!check_area_prot(area, flags)) {
			rc = -EPERM;
			break;
		}
		rc = iopt_area_add_access(
			area, index, last_index, out_pages,
			flags | (access->ops->internal ? IOPT_ACCESS_LOCK_AREA
						       : 0));
		if (rc)
			break;
		out_pages += last_index - index + 1;
	}
	if (!rc && !iopt_area_contig_done(&iter))
		rc = -ENOENT;
	/* what was pinned before the failing area goes back */
	if (rc && iova < iter.cur_iova)
		unpin_range(iopt, access->ops->internal, iova,
			    iter.cur_iova - 1);
	return rc;
}

int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, void **out_pages,
			     unsigned int flags)
{
	struct io_pagetable *iopt;
	uint64_t last_iova;
	int rc;

	/*
	 * An access that cannot be told to unpin, or whose IOAS may hold
	 * areas off page boundaries, may not pin (the kernel's check in
	 * its selftest builds, which the selftests exercise).
	 */
	if (access->iova_alignment != host_page_size(access) ||
	    (!access->ops->unmap && !access->ops->internal))
		return -EINVAL;
	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, length - 1, &last_iova))
		return -EOVERFLOW;

	sio_user_begin(); /* populating may fault: the fixup must be first */
	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	iopt = &access->ioas->iopt;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	rc = pin_range(access, iopt, iova, last_iova, out_pages, flags);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}

/* Copy each area's part of [iova, last_iova]; iova_rwsem read-held. */
static int rw_range(struct io_pagetable *iopt, uint64_t iova,
		    uint64_t last_iova, char *data, unsigned int flags)
{
	struct iopt_area_contig_iter iter;
	struct iopt_area *area;
	int rc;

	iopt_for_each_contig_area(&iter, area, iopt, iova, last_iova)
	{
		uint64_t last = min_u64(last_iova, iopt_area_last_iova(area));
		uint64_t bytes = last - iter.cur_iova + 1;

		if (area->prevent_access)
			return -EINVAL;
		if (!check_area_prot(area, flags))
			return -EPERM;
		rc = iopt_pages_rw_access(
			area->pages, iopt_area_start_byte(area, iter.cur_iova),
			data, bytes, flags);
		if (rc)
			return rc;
		data += bytes;
	}
	return iopt_area_contig_done(&iter) ? 0 : -ENOENT;
}

int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data,
		      size_t length, unsigned int flags)
{
	struct io_pagetable *iopt;
	uint64_t last_iova;
	int rc;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(iova, (uint64_t)length - 1, &last_iova))
		return -EOVERFLOW;

	sio_user_begin(); /* the copy may fault: the fixup must be first */
	pthread_mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		pthread_mutex_unlock(&access->ioas_lock);
		return -ENOENT;
	}
	iopt = &access->ioas->iopt;
	pthread_rwlock_rdlock(&iopt->iova_rwsem);
	rc = rw_range(iopt, iova, last_iova, data, flags);
	pthread_rwlock_unlock(&iopt->iova_rwsem);
	pthread_mutex_unlock(&access->ioas_lock);
	return rc;
}
