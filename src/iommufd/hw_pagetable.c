// SPDX-License-Identifier: MIT
/*
 * Hardware page tables: a paging HWPT is one IOMMU domain kept in step
 * with an IOAS (every area pinned and mapped into it).  Allocation,
 * destruction and dirty tracking follow the kernel's hw_pagetable.c,
 * including the order in which arguments are refused.
 */
#include <errno.h>
#include <stdlib.h>

#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"

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

static bool device_capable(struct iommufd_device *idev, unsigned int cap)
{
	struct sio_iommu_dev *iommu = idev->dev->iommu;

	return iommu->ops->capabilities &&
	       (iommu->ops->capabilities(iommu, idev->dev->sid) & cap);
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

	hwpt_paging = calloc(1, sizeof(*hwpt_paging));
	if (!hwpt_paging)
		return -ENOMEM;
	iommufd_list_init(&hwpt_paging->hwpt_item);
	rc = iommufd_object_alloc(ictx, &hwpt_paging->common.obj,
				  IOMMUFD_OBJ_HWPT_PAGING);
	if (rc) {
		free(hwpt_paging);
		return rc;
	}
	/* pairs with iommufd_hwpt_paging_destroy() */
	atomic_fetch_add(&ioas->obj.users, 1);
	hwpt_paging->ioas = ioas;
	hwpt_paging->nest_parent = flags & SIO_IOMMU_HWPT_ALLOC_NEST_PARENT;

	rc = iommu->ops->domain_alloc_paging(iommu, domain_flags(flags),
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
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_object *pt_obj, *dev_obj;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == SIO_IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != SIO_IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;

	dev_obj = iommufd_get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!dev_obj)
		return -ENOENT;
	pt_obj = iommufd_get_object(ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj) {
		rc = -EINVAL;
		goto out_put_idev;
	}
	/*
	 * A paging HWPT as parent asks for a nested domain, which a driver
	 * without domain_alloc_nested refuses with -EOPNOTSUPP; objects of
	 * any other type cannot be page tables at all.
	 */
	if (pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}
	if (pt_obj->type != IOMMUFD_OBJ_IOAS) {
		rc = -EINVAL;
		goto out_put_pt;
	}
	/* no paging domain of ours takes driver data (arm-smmu-v3 neither) */
	if (cmd->data_type != SIO_IOMMU_HWPT_DATA_NONE) {
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}
	ioas = (struct iommufd_ioas *)pt_obj;
	pthread_mutex_lock(&ioas->mutex);
	rc = iommufd_hwpt_paging_alloc(ictx, ioas,
				       (struct iommufd_device *)dev_obj,
				       cmd->flags, &hwpt_paging);
	if (rc)
		goto out_unlock;
	/* fault queues come with the nesting work: no id names one yet */
	if (cmd->flags & SIO_IOMMU_HWPT_FAULT_ID_VALID) {
		rc = -ENOENT;
		goto out_hwpt;
	}
	cmd->out_hwpt_id = hwpt_paging->common.obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_hwpt;
	iommufd_object_finalize(ictx, &hwpt_paging->common.obj);
	goto out_unlock;
out_hwpt:
	iommufd_hwpt_paging_abort(ictx, hwpt_paging);
out_unlock:
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
