// SPDX-License-Identifier: MIT
/*
 * Hardware page tables: a paging HWPT is one IOMMU domain kept in step
 * with an IOAS (every area pinned and mapped into it).  Allocation,
 * destruction and dirty tracking follow the kernel's hw_pagetable.c,
 * including the order in which arguments are refused.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

/* What every HWPT starts with, before its object is allocated. */
static void hwpt_init_common(struct iommufd_hw_pagetable *hwpt)
{
	pthread_mutex_init(&hwpt->handles_lock, NULL);
	iommufd_list_init(&hwpt->handles);
}

static void hwpt_destroy_common(struct iommufd_hw_pagetable *hwpt)
{
	iommufd_hwpt_put_fault(hwpt);
	pthread_mutex_destroy(&hwpt->handles_lock);
}

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt_paging =
		(struct iommufd_hwpt_paging *)obj;
	struct iommufd_ioas *ioas = hwpt_paging->ioas;

	if (!iommufd_list_empty(&hwpt_paging->hwpt_item)) {
		pthread_mutex_lock(&ioas->mutex);
		iommufd_list_del_init(&hwpt_paging->hwpt_item);
		pthread_mutex_unlock(&ioas->mutex);
		iopt_table_remove_domain(&ioas->iopt,
					 hwpt_paging->common.domain);
	}
	if (hwpt_paging->common.domain)
		hwpt_paging->common.domain->ops->free(
			hwpt_paging->common.domain);
	atomic_fetch_sub(&ioas->obj.users, 1);
	hwpt_destroy_common(&hwpt_paging->common);
}

void iommufd_hwpt_paging_abort(struct iommufd_ctx *ictx,
			       struct iommufd_hwpt_paging *hwpt_paging)
{
	/* the caller holds ioas->mutex, which destroy would take */
	if (!iommufd_list_empty(&hwpt_paging->hwpt_item)) {
		iommufd_list_del_init(&hwpt_paging->hwpt_item);
		iopt_table_remove_domain(&hwpt_paging->ioas->iopt,
					 hwpt_paging->common.domain);
	}
	iommufd_object_abort_and_destroy(ictx, &hwpt_paging->common.obj);
}

void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_nested *hwpt_nested =
		(struct iommufd_hwpt_nested *)obj;

	if (hwpt_nested->common.domain)
		hwpt_nested->common.domain->ops->free(
			hwpt_nested->common.domain);
	if (hwpt_nested->viommu)
		atomic_fetch_sub(&hwpt_nested->viommu->obj.users, 1);
	else if (hwpt_nested->parent)
		atomic_fetch_sub(&hwpt_nested->parent->common.obj.users, 1);
	hwpt_destroy_common(&hwpt_nested->common);
}

/*
 * A nested HWPT object, reserved (not finalized), before its holder and
 * domain: what the vIOMMU and the parent-HWPT paths share.
 */
static int hwpt_nested_new(struct iommufd_ctx *ictx, uint32_t flags,
			   struct iommufd_hwpt_nested **out)
{
	struct iommufd_hwpt_nested *hwpt_nested;
	int rc;

	hwpt_nested = sio_calloc(1, sizeof(*hwpt_nested));
	if (!hwpt_nested)
		return -ENOMEM;
	hwpt_init_common(&hwpt_nested->common);
	rc = iommufd_object_alloc(ictx, &hwpt_nested->common.obj,
				  IOMMUFD_OBJ_HWPT_NESTED);
	if (rc) {
		hwpt_destroy_common(&hwpt_nested->common);
		free(hwpt_nested);
		return rc;
	}
	hwpt_nested->common.pasid_compat = flags & SIO_IOMMU_HWPT_ALLOC_PASID;
	*out = hwpt_nested;
	return 0;
}

/* The driver's answer @rc for its domain: hand the HWPT out, or undo it. */
static int hwpt_nested_done(struct iommufd_ctx *ictx,
			    struct iommufd_hwpt_nested *hwpt_nested, int rc,
			    struct iommufd_hwpt_nested **out)
{
	if (rc) {
		hwpt_nested->common.domain = NULL;
		iommufd_object_abort_and_destroy(ictx,
						 &hwpt_nested->common.obj);
		return rc;
	}
	*out = hwpt_nested;
	return 0;
}

static unsigned int domain_flags(uint32_t hwpt_flags)
{
	unsigned int f = 0;

	if (hwpt_flags & SIO_IOMMU_HWPT_ALLOC_NEST_PARENT)
		f |= SIO_DOMAIN_NEST_PARENT;
	if (hwpt_flags & SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING)
		f |= SIO_DOMAIN_DIRTY_TRACKING;
	if (hwpt_flags & SIO_IOMMU_HWPT_ALLOC_PASID)
		f |= SIO_DOMAIN_PASID;
	return f;
}

/*
 * The kernel's iommufd_viommu_alloc_hwpt_nested(): a nested domain from
 * the vIOMMU's driver, over the vIOMMU's parent.  Not finalized.
 */
static int viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				    struct iommufd_viommu *viommu,
				    uint32_t flags,
				    const struct sio_iommu_user_data *data,
				    struct iommufd_hwpt_nested **out)
{
	struct iommufd_hwpt_nested *hwpt_nested;
	int rc;

	if (flags &
	    ~(SIO_IOMMU_HWPT_FAULT_ID_VALID | SIO_IOMMU_HWPT_ALLOC_PASID))
		return -EOPNOTSUPP;
	if (!data->len)
		return -EOPNOTSUPP;
	if (!viommu->drv->ops->alloc_domain_nested)
		return -EOPNOTSUPP;

	rc = hwpt_nested_new(ictx, flags, &hwpt_nested);
	if (rc)
		return rc;
	hwpt_nested->viommu = viommu;
	atomic_fetch_add(&viommu->obj.users, 1);
	hwpt_nested->parent = viommu->hwpt;

	rc = viommu->drv->ops->alloc_domain_nested(viommu->drv,
						   domain_flags(flags), data,
						   &hwpt_nested->common.domain);
	return hwpt_nested_done(ictx, hwpt_nested, rc, out);
}

static bool device_capable(struct iommufd_device *idev, unsigned int cap)
{
	struct sio_iommu_dev *iommu = idev->dev->iommu;

	return iommu->ops->capabilities &&
	       (iommu->ops->capabilities(iommu, idev->dev->sid) & cap);
}

/*
 * The kernel's iommufd_hwpt_nested_alloc(): a nested domain straight on
 * a NEST_PARENT paging HWPT, from the IOMMU's domain_alloc_nested.  Not
 * finalized.
 */
static int hwpt_nested_alloc(struct iommufd_ctx *ictx,
			     struct iommufd_hwpt_paging *parent,
			     struct iommufd_device *idev, uint32_t flags,
			     const struct sio_iommu_user_data *data,
			     struct iommufd_hwpt_nested **out)
{
	struct sio_iommu_dev *iommu = idev->dev->iommu;
	struct iommufd_hwpt_nested *hwpt_nested;
	int rc;

	if ((flags &
	     ~(SIO_IOMMU_HWPT_FAULT_ID_VALID | SIO_IOMMU_HWPT_ALLOC_PASID)) ||
	    !data->len || !iommu->ops->domain_alloc_nested)
		return -EOPNOTSUPP;
	if (parent->auto_domain || !parent->nest_parent ||
	    parent->common.domain->iommu != iommu)
		return -EINVAL;

	rc = hwpt_nested_new(ictx, flags, &hwpt_nested);
	if (rc)
		return rc;
	/* pairs with iommufd_hwpt_nested_destroy() */
	hwpt_nested->parent = parent;
	atomic_fetch_add(&parent->common.obj.users, 1);
	rc = iommu->ops->domain_alloc_nested(iommu, parent->common.domain,
					     domain_flags(flags), data,
					     &hwpt_nested->common.domain);
	return hwpt_nested_done(ictx, hwpt_nested, rc, out);
}

/*
 * The kernel's iommufd_hwpt_paging_alloc() without immediate attach
 * (every driver here allocates domains directly).  The object is
 * reserved, not finalized; the caller holds ioas->mutex.
 */
int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx,
			      struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags,
			      struct iommufd_hwpt_paging **out)
{
	return iommufd_hwpt_paging_alloc_data(ictx, ioas, idev, flags, NULL,
					      out);
}

/* A paging domain, from driver data when @data names a type. */
static int domain_alloc_paging(struct sio_iommu_dev *iommu, uint32_t flags,
			       const struct sio_iommu_user_data *data,
			       struct sio_iommu_domain **out)
{
	if (!data || data->type == SIO_IOMMU_HWPT_DATA_NONE)
		return iommu->ops->domain_alloc_paging(
			iommu, domain_flags(flags), out);
	if (!iommu->ops->domain_alloc_paging_data)
		return -EOPNOTSUPP;
	return iommu->ops->domain_alloc_paging_data(iommu, domain_flags(flags),
						    data, out);
}

int iommufd_hwpt_paging_alloc_data(struct iommufd_ctx *ictx,
				   struct iommufd_ioas *ioas,
				   struct iommufd_device *idev, uint32_t flags,
				   const struct sio_iommu_user_data *data,
				   struct iommufd_hwpt_paging **out)
{
	const uint32_t valid_flags = SIO_IOMMU_HWPT_ALLOC_NEST_PARENT |
				     SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
				     SIO_IOMMU_HWPT_FAULT_ID_VALID |
				     SIO_IOMMU_HWPT_ALLOC_PASID;
	struct sio_iommu_dev *iommu = idev->dev->iommu;
	struct iommufd_hwpt_paging *hwpt_paging;
	int rc;

	if (flags & ~valid_flags)
		return -EOPNOTSUPP;
	if ((flags & SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING) &&
	    !device_capable(idev, SIO_IOMMU_CAP_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	if ((flags & SIO_IOMMU_HWPT_FAULT_ID_VALID) &&
	    (flags & SIO_IOMMU_HWPT_ALLOC_NEST_PARENT))
		return -EOPNOTSUPP;

	hwpt_paging = sio_calloc(1, sizeof(*hwpt_paging));
	if (!hwpt_paging)
		return -ENOMEM;
	iommufd_list_init(&hwpt_paging->hwpt_item);
	hwpt_init_common(&hwpt_paging->common);
	rc = iommufd_object_alloc(ictx, &hwpt_paging->common.obj,
				  IOMMUFD_OBJ_HWPT_PAGING);
	if (rc) {
		hwpt_destroy_common(&hwpt_paging->common);
		free(hwpt_paging);
		return rc;
	}
	/* pairs with iommufd_hwpt_paging_destroy() */
	atomic_fetch_add(&ioas->obj.users, 1);
	hwpt_paging->ioas = ioas;
	hwpt_paging->nest_parent = flags & SIO_IOMMU_HWPT_ALLOC_NEST_PARENT;
	hwpt_paging->common.pasid_compat = flags & SIO_IOMMU_HWPT_ALLOC_PASID;

	rc = domain_alloc_paging(iommu, flags, data,
				 &hwpt_paging->common.domain);
	if (rc)
		goto out_abort;
	rc = iopt_table_add_domain(&ioas->iopt, hwpt_paging->common.domain);
	if (rc)
		goto out_abort;
	iommufd_list_add_tail(&hwpt_paging->hwpt_item, &ioas->hwpt_list);
	*out = hwpt_paging;
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt_paging->common.obj);
	return rc;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hwpt_alloc *cmd = ucmd->cmd;
	const struct sio_iommu_user_data user_data = {
		.type = cmd->data_type,
		.uptr = cmd->data_uptr,
		.len = cmd->data_len,
		.copy_in = sio_user_struct_in,
	};
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_object *pt_obj, *dev_obj;
	struct iommufd_ioas *ioas = NULL;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == SIO_IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != SIO_IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;

	dev_obj = iommufd_get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!dev_obj)
		return -ENOENT;
	idev = (struct iommufd_device *)dev_obj;
	pt_obj = iommufd_get_object(ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj) {
		rc = -EINVAL;
		goto out_put_idev;
	}

	if (pt_obj->type == IOMMUFD_OBJ_IOAS) {
		struct iommufd_hwpt_paging *hwpt_paging;

		/* driver data: the driver's paging format (arm-smmu-v3 takes
		 * none) */
		ioas = (struct iommufd_ioas *)pt_obj;
		pthread_mutex_lock(&ioas->mutex);
		rc = iommufd_hwpt_paging_alloc_data(
			ictx, ioas, idev, cmd->flags, &user_data, &hwpt_paging);
		if (rc)
			goto out_unlock;
		hwpt = &hwpt_paging->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		/*
		 * A nested domain straight on a parent HWPT needs the IOMMU's
		 * domain_alloc_nested (the mock has it; arm-smmu-v3's nested
		 * domains come from a vIOMMU).
		 */
		struct iommufd_hwpt_nested *hwpt_nested;

		rc = hwpt_nested_alloc(ictx,
				       (struct iommufd_hwpt_paging *)pt_obj,
				       idev, cmd->flags, &user_data,
				       &hwpt_nested);
		if (rc)
			goto out_put_pt;
		hwpt = &hwpt_nested->common;
	} else if (pt_obj->type == IOMMUFD_OBJ_VIOMMU) {
		struct iommufd_viommu *viommu = (struct iommufd_viommu *)pt_obj;
		struct iommufd_hwpt_nested *hwpt_nested;

		if (viommu->iommu_dev != idev->dev->iommu) {
			rc = -EINVAL;
			goto out_put_pt;
		}
		rc = viommu_alloc_hwpt_nested(ictx, viommu, cmd->flags,
					      &user_data, &hwpt_nested);
		if (rc)
			goto out_put_pt;
		hwpt = &hwpt_nested->common;
	} else {
		rc = -EINVAL;
		goto out_put_pt;
	}

	if (cmd->flags & SIO_IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_object *fault_obj = iommufd_get_object(
			ictx, cmd->fault_id, IOMMUFD_OBJ_FAULT);

		if (!fault_obj) {
			rc = -ENOENT;
			goto out_hwpt;
		}
		iommufd_hwpt_set_fault(hwpt, (struct iommufd_fault *)fault_obj);
		iommufd_put_object(ictx, fault_obj);
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_hwpt;
	iommufd_object_finalize(ictx, &hwpt->obj);
	goto out_unlock;
out_hwpt:
	if (ioas)
		iommufd_hwpt_paging_abort(ictx, to_hwpt_paging(hwpt));
	else
		iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
out_unlock:
	if (ioas)
		pthread_mutex_unlock(&ioas->mutex);
out_put_pt:
	iommufd_put_object(ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ictx, dev_obj);
	return rc;
}

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_object *obj;
	int rc;

	if (cmd->flags & ~SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id,
				 IOMMUFD_OBJ_HWPT_PAGING);
	if (!obj)
		return -ENOENT;
	hwpt_paging = (struct iommufd_hwpt_paging *)obj;
	rc = iopt_set_dirty_tracking(
		&hwpt_paging->ioas->iopt, hwpt_paging->common.domain,
		cmd->flags & SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_object *obj;
	int rc;

	if ((cmd->flags & ~SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id,
				 IOMMUFD_OBJ_HWPT_PAGING);
	if (!obj)
		return -ENOENT;
	hwpt_paging = (struct iommufd_hwpt_paging *)obj;
	rc = iopt_read_and_clear_dirty_data(
		&hwpt_paging->ioas->iopt, hwpt_paging->common.domain,
		(cmd->flags & SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)
			? SIO_DIRTY_NO_CLEAR
			: 0,
		cmd->iova, cmd->length, cmd->page_size, cmd->data);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/*
 * IOMMU_HWPT_INVALIDATE: user-managed caches, those of a nested HWPT or
 * of a vIOMMU, in the kernel's order.  entry_num says back how many
 * entries were carried out, whatever the outcome.
 */
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct sio_iommu_user_data_array array = {
		.type = cmd->data_type,
		.uptr = cmd->data_uptr,
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
		.copy_in = sio_user_struct_in,
	};
	struct iommufd_object *obj;
	uint32_t done = 0;
	int rc;

	if (cmd->__reserved) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (cmd->entry_num && (!cmd->data_uptr || !cmd->entry_len)) {
		rc = -EINVAL;
		goto out;
	}
	obj = iommufd_get_object(ucmd->ictx, cmd->hwpt_id, IOMMUFD_OBJ_ANY);
	if (!obj) {
		rc = -ENOENT;
		goto out;
	}
	if (obj->type == IOMMUFD_OBJ_VIOMMU) {
		struct sio_iommu_viommu *v =
			((struct iommufd_viommu *)obj)->drv;

		if (v->ops->cache_invalidate) {
			rc = v->ops->cache_invalidate(v, &array);
			done = array.entry_num;
		} else {
			rc = -EOPNOTSUPP;
		}
	} else if (obj->type == IOMMUFD_OBJ_HWPT_NESTED) {
		/*
		 * A nested domain's own invalidation op: arm-smmu-v3's have
		 * none, its guests invalidate through the vIOMMU.
		 */
		struct sio_iommu_domain *d =
			((struct iommufd_hw_pagetable *)obj)->domain;

		if (d->ops->cache_invalidate_user) {
			rc = d->ops->cache_invalidate_user(d, &array);
			done = array.entry_num;
		} else {
			rc = -EOPNOTSUPP;
		}
	} else {
		rc = -EINVAL;
	}
	iommufd_put_object(ucmd->ictx, obj);
out:
	cmd->entry_num = done;
	if (iommufd_ucmd_respond(ucmd))
		return -EFAULT;
	return rc;
}
