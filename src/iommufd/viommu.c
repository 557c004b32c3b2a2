// SPDX-License-Identifier: MIT
/*
 * vIOMMUs and vDEVICEs, as the kernel's viommu.c: a vIOMMU is the IOMMU
 * instance a VMM presents to its guest, built by the driver on a
 * NEST_PARENT paging HWPT; a vDEVICE gives a device the virtual ID its
 * guest knows it by (the vSID of an SMMUv3), one per device and one
 * device per ID on a vIOMMU.  Arguments are refused in the kernel's
 * order with its errnos.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu = (struct iommufd_viommu *)obj;

	if (viommu->drv)
		viommu->drv->ops->destroy(viommu->drv);
	atomic_fetch_sub(&viommu->hwpt->common.obj.users, 1);
	pthread_mutex_destroy(&viommu->vdevs_lock);
	pthread_rwlock_destroy(&viommu->veventqs_rwsem);
}

/* The driver's event for the user (iommufd_viommu_report_event()). */
static int viommu_report_event(struct sio_iommu_viommu *v, uint32_t type,
			       const void *data, size_t len)
{
	return iommufd_viommu_report_event(v->core, type, data, len);
}

/* The driver's vDEVICE lookup (iommufd_viommu_get_vdev_id()). */
static int viommu_get_vdev_id(struct sio_iommu_viommu *v, uint32_t sid,
			      uint64_t *vdev_id)
{
	struct iommufd_viommu *viommu = v->core;
	struct iommufd_list *pos;
	int rc = -ENOENT;

	pthread_mutex_lock(&viommu->vdevs_lock);
	for (pos = viommu->vdevs.next; pos != &viommu->vdevs; pos = pos->next) {
		struct iommufd_vdevice *vdev =
			iommufd_container_of(pos, struct iommufd_vdevice, item);

		if (vdev->idev->dev->sid == sid) {
			*vdev_id = vdev->virt_id;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&viommu->vdevs_lock);
	return rc;
}

static struct iommufd_vdevice *viommu_find_vdev(struct iommufd_viommu *viommu,
						uint64_t virt_id);

/* The driver's lookup of a guest's device ID (the kernel's xa_load of vdevs).
 */
static int viommu_vdev_to_sid(struct sio_iommu_viommu *v, uint64_t vdev_id,
			      uint32_t *sid)
{
	struct iommufd_viommu *viommu = v->core;
	struct iommufd_vdevice *vdev;
	int rc = -ENOENT;

	pthread_mutex_lock(&viommu->vdevs_lock);
	vdev = viommu_find_vdev(viommu, vdev_id);
	if (vdev) {
		*sid = vdev->idev->dev->sid;
		rc = 0;
	}
	pthread_mutex_unlock(&viommu->vdevs_lock);
	return rc;
}

/* The driver's page for user space (iommufd_viommu_alloc_mmap()). */
static int viommu_alloc_mmap(struct sio_iommu_viommu *v, int fd, uint64_t len,
			     uint64_t *offset)
{
	struct iommufd_viommu *viommu = v->core;

	return iommufd_alloc_mmap(viommu->ictx, &viommu->obj, fd, len, offset);
}

static void viommu_destroy_mmap(struct sio_iommu_viommu *v, uint64_t offset)
{
	struct iommufd_viommu *viommu = v->core;

	iommufd_destroy_mmap(viommu->ictx, &viommu->obj, offset);
}

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_viommu_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_object *dev_obj, *hwpt_obj;
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	struct sio_iommu_dev *iommu;
	int rc;

	/*
	 * As the kernel: __reserved is not looked at; the driver data is the
	 * driver's (init_data).
	 */
	if (cmd->flags || cmd->type == SIO_IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	dev_obj = iommufd_get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!dev_obj)
		return -ENOENT;
	idev = (struct iommufd_device *)dev_obj;
	iommu = idev->dev->iommu;
	if (!iommu->ops->viommu_supported || !iommu->ops->viommu_alloc ||
	    !iommu->ops->viommu_supported(iommu, idev->dev->sid, cmd->type)) {
		rc = -EOPNOTSUPP;
		goto out_put_idev;
	}
	hwpt_obj =
		iommufd_get_object(ictx, cmd->hwpt_id, IOMMUFD_OBJ_HWPT_PAGING);
	if (!hwpt_obj) {
		rc = -ENOENT;
		goto out_put_idev;
	}
	hwpt_paging = (struct iommufd_hwpt_paging *)hwpt_obj;
	if (!hwpt_paging->nest_parent) {
		rc = -EINVAL;
		goto out_put_hwpt;
	}

	viommu = sio_calloc(1, sizeof(*viommu));
	if (!viommu) {
		rc = -ENOMEM;
		goto out_put_hwpt;
	}
	rc = iommufd_object_alloc(ictx, &viommu->obj, IOMMUFD_OBJ_VIOMMU);
	if (rc) {
		free(viommu);
		goto out_put_hwpt;
	}
	viommu->type = cmd->type;
	viommu->ictx = ictx;
	viommu->iommu_dev = iommu;
	viommu->hwpt = hwpt_paging;
	atomic_fetch_add(&hwpt_paging->common.obj.users, 1);
	pthread_mutex_init(&viommu->vdevs_lock, NULL);
	iommufd_list_init(&viommu->vdevs);
	pthread_rwlock_init(&viommu->veventqs_rwsem, NULL);
	iommufd_list_init(&viommu->veventqs);

	rc = iommu->ops->viommu_alloc(iommu, hwpt_paging->common.domain,
				      cmd->type, &viommu->drv);
	if (rc) {
		viommu->drv = NULL;
		goto out_abort;
	}
	viommu->drv->get_vdev_id = viommu_get_vdev_id;
	viommu->drv->vdev_to_sid = viommu_vdev_to_sid;
	viommu->drv->report_event = viommu_report_event;
	viommu->drv->alloc_mmap = viommu_alloc_mmap;
	viommu->drv->destroy_mmap = viommu_destroy_mmap;
	viommu->drv->core = viommu;
	if (cmd->data_len && viommu->drv->ops->init_data) {
		const struct sio_iommu_user_data data = {
			.type = cmd->type,
			.uptr = cmd->data_uptr,
			.len = cmd->data_len,
			.copy_in = sio_user_struct_in,
			.copy_out = sio_user_write,
		};

		rc = viommu->drv->ops->init_data(viommu->drv, &data);
		if (rc)
			goto out_abort;
	}

	cmd->out_viommu_id = viommu->obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ictx, &viommu->obj);
	goto out_put_hwpt;
out_abort:
	iommufd_object_abort_and_destroy(ictx, &viommu->obj);
out_put_hwpt:
	iommufd_put_object(ictx, hwpt_obj);
out_put_idev:
	iommufd_put_object(ictx, dev_obj);
	return rc;
}

void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev = (struct iommufd_vdevice *)obj;
	struct iommufd_viommu *viommu = vdev->viommu;
	struct iommufd_device *idev = vdev->idev;

	pthread_mutex_lock(&idev->lock);
	pthread_mutex_lock(&viommu->vdevs_lock);
	iommufd_list_del_init(&vdev->item);
	pthread_mutex_unlock(&viommu->vdevs_lock);
	atomic_fetch_sub(&viommu->obj.users, 1);
	idev->vdev = NULL;
	pthread_mutex_unlock(&idev->lock);
	/* an unbind waiting for the device's last users may go on now */
	iommufd_put_object(vdev->ictx, &idev->obj);
}

static struct iommufd_vdevice *viommu_find_vdev(struct iommufd_viommu *viommu,
						uint64_t virt_id)
{
	struct iommufd_list *pos;

	for (pos = viommu->vdevs.next; pos != &viommu->vdevs; pos = pos->next) {
		struct iommufd_vdevice *vdev =
			iommufd_container_of(pos, struct iommufd_vdevice, item);

		if (vdev->virt_id == virt_id)
			return vdev;
	}
	return NULL;
}

int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_object *viommu_obj, *dev_obj;
	struct iommufd_viommu *viommu;
	struct iommufd_vdevice *vdev;
	struct iommufd_device *idev;
	int rc;

	/* virt_id indexes the kernel's xarray: an unsigned long */
	if (cmd->virt_id > UINTPTR_MAX)
		return -EINVAL;
	viommu_obj =
		iommufd_get_object(ictx, cmd->viommu_id, IOMMUFD_OBJ_VIOMMU);
	if (!viommu_obj)
		return -ENOENT;
	viommu = (struct iommufd_viommu *)viommu_obj;
	dev_obj = iommufd_get_object(ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!dev_obj) {
		rc = -ENOENT;
		goto out_put_viommu;
	}
	idev = (struct iommufd_device *)dev_obj;
	if (viommu->iommu_dev != idev->dev->iommu) {
		rc = -EINVAL;
		goto out_put_idev;
	}

	pthread_mutex_lock(&idev->lock);
	if (idev->destroying) {
		rc = -ENOENT;
		goto out_unlock_idev;
	}
	/* one vDEVICE per device, whichever vIOMMU it is on */
	if (idev->vdev) {
		rc = -EEXIST;
		goto out_unlock_idev;
	}
	pthread_mutex_lock(&viommu->vdevs_lock);
	if (viommu_find_vdev(viommu, cmd->virt_id)) {
		rc = -EEXIST;
		goto out_unlock_vdevs;
	}
	vdev = sio_calloc(1, sizeof(*vdev));
	if (!vdev) {
		rc = -ENOMEM;
		goto out_unlock_vdevs;
	}
	rc = iommufd_object_alloc(ictx, &vdev->obj, IOMMUFD_OBJ_VDEVICE);
	if (rc) {
		free(vdev);
		goto out_unlock_vdevs;
	}
	cmd->out_vdevice_id = vdev->obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc) {
		iommufd_object_abort(ictx, &vdev->obj);
		goto out_unlock_vdevs;
	}
	vdev->ictx = ictx;
	vdev->virt_id = cmd->virt_id;
	vdev->viommu = viommu;
	atomic_fetch_add(&viommu->obj.users, 1);
	/* the lookup's reference on the device stays with the vDEVICE */
	vdev->idev = idev;
	idev->vdev = vdev;
	iommufd_list_add_tail(&vdev->item, &viommu->vdevs);
	iommufd_object_finalize(ictx, &vdev->obj);
out_unlock_vdevs:
	pthread_mutex_unlock(&viommu->vdevs_lock);
out_unlock_idev:
	pthread_mutex_unlock(&idev->lock);
out_put_idev:
	if (rc)
		iommufd_put_object(ictx, dev_obj);
out_put_viommu:
	iommufd_put_object(ictx, viommu_obj);
	return rc;
}

void iommufd_device_remove_vdev(struct iommufd_device *idev)
{
	struct iommufd_object *obj = NULL;

	pthread_mutex_lock(&idev->lock);
	idev->destroying = true;
	/*
	 * A vDEVICE an IOMMU_DESTROY has already taken out of the table is
	 * not found: that destroy finishes it, and the unbind waits for its
	 * reference on the device.
	 */
	if (idev->vdev)
		obj = iommufd_get_object(idev->ictx, idev->vdev->obj.id,
					 IOMMUFD_OBJ_VDEVICE);
	if (obj) {
		/* a long-term reference for the tombstone to drop */
		atomic_fetch_add(&obj->users, 1);
		iommufd_put_object(idev->ictx, obj);
	}
	pthread_mutex_unlock(&idev->lock);
	if (obj)
		iommufd_object_tombstone_user(idev->ictx, obj);
}

/*
 * IOMMU_HW_QUEUE_ALLOC, as iommufd_hw_queue_alloc_ioctl() checks it: a
 * queue the hardware reads from guest memory needs a vIOMMU whose driver
 * has such queues (NVIDIA's CMDQV on an SMMUv3); a plain SMMUv3 has
 * none, so a well-formed request for a real vIOMMU is EOPNOTSUPP.
 */
