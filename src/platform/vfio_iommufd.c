// SPDX-License-Identifier: MIT
/*
 * A VFIO device's iommufd binding, as the kernel's drivers/vfio/iommufd.c
 * does it for physical devices: BIND turns the program's iommufd fd into
 * its context and binds the device there; ATTACH is an attach the first
 * time and a replace after; DETACH blocks the device's DMA.
 */
#include <errno.h>

#include "platform_private.h"

static int vfio_iommufd_bind(void *ctx, struct sio_vfio_pci_dev *vdev,
			     int iommufd, uint32_t *out_devid)
{
	struct platform_device *d = ctx;
	platform_iommufd_resolver resolve;
	struct iommufd_ctx *ictx;
	int rc;

	(void)vdev;
	resolve = atomic_load(&d->plat->resolve_iommufd);
	if (!resolve)
		return iommufd < 0 ? -EBADF : -EBADFD;
	rc = resolve(iommufd, &ictx);
	if (rc)
		return rc;
	rc = iommufd_device_bind(ictx, &d->desc, out_devid, &d->idev);
	/* a bound device holds the context itself */
	iommufd_ctx_put(ictx);
	return rc;
}

static void vfio_iommufd_unbind(void *ctx, struct sio_vfio_pci_dev *vdev)
{
	struct platform_device *d = ctx;

	(void)vdev;
	if (!d->idev)
		return;
	iommufd_device_unbind(d->idev);
	d->idev = NULL;
	d->attached = false;
	d->pasid0 = false;
}

static int vfio_iommufd_attach(void *ctx, struct sio_vfio_pci_dev *vdev,
			       uint32_t *pt_id)
{
	struct platform_device *d = ctx;
	int rc;

	(void)vdev;
	if (!d->idev)
		return -EINVAL;
	if (d->attached)
		return iommufd_device_replace(d->idev, pt_id);
	rc = iommufd_device_attach(d->idev, pt_id);
	if (!rc)
		d->attached = true;
	return rc;
}

static void vfio_iommufd_detach(void *ctx, struct sio_vfio_pci_dev *vdev)
{
	struct platform_device *d = ctx;

	(void)vdev;
	if (!d->idev || !d->attached)
		return;
	iommufd_device_detach(d->idev);
	d->attached = false;
}

/*
 * PASID 0 is IOMMU_NO_PASID, which VFIO passes to iommufd's attach as
 * any other and which iommufd takes for the RID: the device's own
 * domain, with the RID's rules (any paging HWPT, EBUSY while the RID is
 * attached without the flag).  VFIO remembers it in its IDA, not as
 * attached: a DETACH without the flag leaves it, one with it and PASID 0
 * detaches the RID.
 */
static int pasid0_attach(struct platform_device *d, uint32_t *pt_id)
{
	int rc;

	if (d->pasid0)
		return iommufd_device_replace(d->idev, pt_id);
	rc = iommufd_device_attach(d->idev, pt_id);
	if (!rc)
		d->pasid0 = true;
	return rc;
}

/*
 * VFIO keeps the PASIDs it attached in an IDA, whose ids stop at
 * INT_MAX (ENOSPC past it); one already there is replaced, as iommufd
 * tells by refusing a second attach with EBUSY.
 */
static int vfio_iommufd_pasid_attach(void *ctx, struct sio_vfio_pci_dev *vdev,
				     uint32_t pasid, uint32_t *pt_id)
{
	struct platform_device *d = ctx;
	uint32_t id = *pt_id;
	int rc;

	(void)vdev;
	if (!d->idev)
		return -EINVAL;
	if (pasid > INT32_MAX)
		return -ENOSPC;
	if (!pasid)
		return pasid0_attach(d, pt_id);
	rc = iommufd_device_pasid_attach(d->idev, pasid, pt_id);
	if (rc == -EBUSY) {
		*pt_id = id;
		rc = iommufd_device_pasid_replace(d->idev, pasid, pt_id);
	}
	return rc;
}

static void vfio_iommufd_pasid_detach(void *ctx, struct sio_vfio_pci_dev *vdev,
				      uint32_t pasid)
{
	struct platform_device *d = ctx;

	(void)vdev;
	if (!d->idev)
		return;
	if (pasid) {
		iommufd_device_pasid_detach(d->idev, pasid);
	} else if (d->pasid0) {
		iommufd_device_detach(d->idev);
		d->pasid0 = false;
	}
}

const struct sio_vfio_iommufd_hooks platform_vfio_iommufd_hooks = {
	.bind = vfio_iommufd_bind,
	.unbind = vfio_iommufd_unbind,
	.attach = vfio_iommufd_attach,
	.detach = vfio_iommufd_detach,
	.pasid_attach = vfio_iommufd_pasid_attach,
	.pasid_detach = vfio_iommufd_pasid_detach,
};

/*
 * The group path onto an iommufd (vfio_df_group_open() with
 * group->iommufd): bind to that context, then attach to its compat IOAS;
 * the legacy path has no way to name another.
 */
static int group_bind_compat(struct platform_device *d,
			     struct iommufd_ctx *ictx)
{
	uint32_t devid, pt_id;
	int rc;

	rc = iommufd_device_bind(ictx, &d->desc, &devid, &d->idev);
	if (rc)
		return rc;
	rc = iommufd_vfio_compat_ioas_get_id(ictx, &pt_id);
	if (!rc)
		rc = iommufd_device_attach(d->idev, &pt_id);
	if (rc) {
		iommufd_device_unbind(d->idev);
		d->idev = NULL;
		return rc;
	}
	d->attached = true;
	return 0;
}

int platform_group_open_device(struct platform_device *d, const char *name,
			       struct sio_vfio_pci_dev **out)
{
	struct iommufd_ctx *ictx;
	int rc;

	rc = vfio_group_device_open(&d->group, name, &ictx);
	if (rc)
		return rc;
	rc = platform_device_open(d, out);
	if (rc)
		goto err_group;
	if (ictx) {
		rc = group_bind_compat(d, ictx);
		if (rc)
			goto err_dev;
	}
	sio_vfio_pci_open_group(*out);
	return 0;
err_dev:
	platform_device_close(d);
err_group:
	vfio_group_device_close(&d->group);
	return rc;
}

void platform_group_close_device(struct platform_device *d)
{
	/* the release unbinds a compat binding through the hooks above */
	platform_device_close(d);
	vfio_group_device_close(&d->group);
}
