// SPDX-License-Identifier: MIT
/*
 * Devices bound to an iommufd context: binding (the DMA-owner claim),
 * attaching to an IOAS through an automatic domain or to a paging HWPT,
 * replacing and detaching, and IOMMU_GET_HW_INFO.  The kernel's
 * device.c; every device here is alone in its IOMMU group, so the
 * group's state lives in the device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

void iommufd_dev_desc_init(struct iommufd_dev_desc *dev,
			   struct sio_iommu_dev *iommu, uint32_t sid)
{
	dev->iommu = iommu;
	dev->sid = sid;
	pthread_mutex_init(&dev->owner_lock, NULL);
	dev->owner = NULL;
	dev->owner_cnt = 0;
	dev->selftest = false;
}

void iommufd_dev_desc_destroy(struct iommufd_dev_desc *dev)
{
	pthread_mutex_destroy(&dev->owner_lock);
}

void iommufd_dev_desc_set_pci_caps(struct iommufd_dev_desc *dev,
				   const struct sio_iommu_pci_caps *caps)
{
	dev->pci = *caps;
	dev->max_pasid_bits = 0;
	/* an IOMMU without PASID ops gives the device none */
	if (dev->iommu->ops->probe_device && dev->iommu->ops->block_dev_pasid)
		dev->max_pasid_bits = dev->iommu->ops->probe_device(
			dev->iommu, dev->sid, caps);
}

/* iommu_device_claim_dma_owner(): one context owns a device's DMA. */
static int claim_dma_owner(struct iommufd_dev_desc *dev,
			   struct iommufd_ctx *ictx)
{
	int rc = 0;

	pthread_mutex_lock(&dev->owner_lock);
	if (dev->owner_cnt && dev->owner != ictx)
		rc = -EBUSY;
	else {
		dev->owner = ictx;
		dev->owner_cnt++;
	}
	pthread_mutex_unlock(&dev->owner_lock);
	return rc;
}

static void release_dma_owner(struct iommufd_dev_desc *dev)
{
	pthread_mutex_lock(&dev->owner_lock);
	if (--dev->owner_cnt == 0) {
		dev->owner = NULL;
		/* back to the kernel's default: DMA blocked */
		dev->iommu->ops->block_dev(dev->iommu, dev->sid);
	}
	pthread_mutex_unlock(&dev->owner_lock);
}

static bool dev_capable(struct iommufd_dev_desc *dev, unsigned int cap)
{
	return dev->iommu->ops->capabilities &&
	       (dev->iommu->ops->capabilities(dev->iommu, dev->sid) & cap);
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev = (struct iommufd_device *)obj;

	release_dma_owner(idev->dev);
	pthread_mutex_destroy(&idev->lock);
	/* the context may go with the last device; obj is freed after */
	idev->ictx = NULL;
}

int iommufd_device_bind(struct iommufd_ctx *ictx, struct iommufd_dev_desc *dev,
			uint32_t *id, struct iommufd_device **out)
{
	struct iommufd_device *idev;
	int rc;

	/* iommufd always maps IOMMU_CACHE: the IOMMU must be coherent */
	if (!dev_capable(dev, SIO_IOMMU_CAP_CACHE_COHERENCY))
		return -EINVAL;
	rc = claim_dma_owner(dev, ictx);
	if (rc)
		return rc;
	idev = sio_calloc(1, sizeof(*idev));
	if (!idev) {
		rc = -ENOMEM;
		goto out_release;
	}
	rc = iommufd_object_alloc(ictx, &idev->obj, IOMMUFD_OBJ_DEVICE);
	if (rc) {
		free(idev);
		goto out_release;
	}
	idev->ictx = ictx;
	idev->dev = dev;
	pthread_mutex_init(&idev->lock, NULL);
	iommufd_list_init(&idev->pasids);
	if (!dev->selftest)
		iommufd_ctx_get(ictx);
	/* the binding driver is a user until iommufd_device_unbind() */
	atomic_fetch_add(&idev->obj.users, 1);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	*out = idev;
	return 0;
out_release:
	release_dma_owner(dev);
	return rc;
}

void iommufd_device_unbind(struct iommufd_device *idev)
{
	struct iommufd_ctx *ictx = idev->ictx;

	/* the PASIDs first: the RID's domain holds their CD table */
	while (!iommufd_list_empty(&idev->pasids))
		iommufd_device_pasid_detach(
			idev,
			iommufd_container_of(idev->pasids.next,
					     struct iommufd_pasid_attach, node)
				->pasid);
	if (idev->hwpt)
		iommufd_device_detach(idev);
	bool selftest = idev->dev->selftest;

	iommufd_device_remove_vdev(idev);
	iommufd_object_destroy_user(ictx, &idev->obj);
	if (!selftest)
		iommufd_ctx_put(ictx);
}

/*
 * The IOAS behind @hwpt, for its reserved regions: a nested HWPT's
 * output addresses are its parent's IOVAs.
 */
static struct io_pagetable *hwpt_iopt(struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hwpt_paging *paging = find_hwpt_paging(hwpt);

	return paging ? &paging->ioas->iopt : NULL;
}

static int hwpt_check_device(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_device *idev)
{
	struct sio_iommu_domain *d = hwpt->domain;

	/* a domain of another IOMMU instance cannot serve this device */
	if (d->iommu != idev->dev->iommu)
		return -EINVAL;
	if ((d->flags & SIO_DOMAIN_DIRTY_TRACKING) &&
	    !dev_capable(idev->dev, SIO_IOMMU_CAP_DIRTY_TRACKING))
		return -EINVAL;
	return 0;
}

/*
 * The kernel's iommufd_hwpt_pasid_compat() for the RID: a HWPT not made
 * for PASIDs cannot take the RID while PASIDs are attached (the IOMMU
 * keeps their tables in the RID's configuration).  idev->lock held.
 */
static int rid_pasid_compat(struct iommufd_hw_pagetable *hwpt,
			    struct iommufd_device *idev)
{
	if (!hwpt->pasid_compat && !iommufd_list_empty(&idev->pasids))
		return -EINVAL;
	return 0;
}

/*
 * The driver's half of an attach: the RID (@pasid 0) through attach_dev,
 * which replaces whatever it had, a PASID through set_dev_pasid, which
 * must be told the domain @old it leaves (NULL: none).
 */
static int domain_set_dev(struct sio_iommu_domain *d, uint32_t sid,
			  uint32_t pasid, struct sio_iommu_domain *old)
{
	if (pasid)
		return d->ops->set_dev_pasid(d, sid, pasid, old);
	if (d->ops->attach_dev)
		return d->ops->attach_dev(d, sid);
	return d->iommu->ops->attach_dev(d, sid);
}

/*
 * Point the device's RID (@pasid 0) or PASID at @hwpt's domain, from
 * @old.  With a fault queue, its faults through @hwpt have a home before
 * the first can arrive; a failure leaves no handle behind.
 */
static int hwpt_attach_dev(struct iommufd_hw_pagetable *hwpt,
			   struct iommufd_device *idev, uint32_t pasid,
			   struct sio_iommu_domain *old)
{
	int rc = iommufd_fault_add_handle(hwpt, idev, pasid);

	if (rc)
		return rc;
	rc = domain_set_dev(hwpt->domain, idev->dev->sid, pasid, old);
	if (rc)
		iommufd_fault_remove_handle(hwpt, idev, pasid);
	return rc;
}

/*
 * The kernel's iommufd_hw_pagetable_attach(): reserve the device's
 * regions in the IOAS, point the device at the domain.  Returns NULL (no
 * HWPT to put) or an error.
 */
static int device_do_attach(struct iommufd_device *idev,
			    struct iommufd_hw_pagetable *hwpt,
			    struct iommufd_hw_pagetable **destroy)
{
	struct io_pagetable *iopt = hwpt_iopt(hwpt);
	int rc;

	*destroy = NULL;
	pthread_mutex_lock(&idev->lock);
	/* the kernel finds the device in the RID's attach already: EBUSY */
	if (idev->hwpt) {
		rc = -EBUSY;
		goto out_unlock;
	}
	rc = rid_pasid_compat(hwpt, idev);
	if (rc)
		goto out_unlock;
	rc = hwpt_check_device(hwpt, idev);
	if (rc)
		goto out_unlock;
	if (iopt) {
		rc = iopt_table_enforce_dev_resv_regions(
			iopt, idev->dev->iommu, idev->dev->sid, idev->dev);
		if (rc)
			goto out_unlock;
	}
	rc = hwpt_attach_dev(hwpt, idev, 0, NULL);
	if (rc) {
		if (iopt)
			iopt_remove_reserved_iova(iopt, idev->dev);
		goto out_unlock;
	}
	atomic_fetch_add(&hwpt->obj.users, 1);
	idev->hwpt = hwpt;
out_unlock:
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

/* The kernel's iommufd_device_do_replace(); *@destroy gets the old HWPT. */
static int device_do_replace(struct iommufd_device *idev,
			     struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_hw_pagetable **destroy)
{
	struct io_pagetable *iopt = hwpt_iopt(hwpt), *old_iopt;
	struct iommufd_hw_pagetable *old;
	bool other_ioas;
	int rc;

	*destroy = NULL;
	pthread_mutex_lock(&idev->lock);
	old = idev->hwpt;
	if (!old) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (hwpt == old) {
		rc = 0;
		goto out_unlock;
	}
	rc = rid_pasid_compat(hwpt, idev);
	if (rc)
		goto out_unlock;
	rc = hwpt_check_device(hwpt, idev);
	if (rc)
		goto out_unlock;
	old_iopt = hwpt_iopt(old);
	other_ioas = iopt && iopt != old_iopt;
	if (other_ioas) {
		rc = iopt_table_enforce_dev_resv_regions(
			iopt, idev->dev->iommu, idev->dev->sid, idev->dev);
		if (rc)
			goto out_unlock;
	}
	rc = hwpt_attach_dev(hwpt, idev, 0, NULL);
	if (rc) {
		if (other_ioas)
			iopt_remove_reserved_iova(iopt, idev->dev);
		goto out_unlock;
	}
	/* the old HWPT's faults of the device: answered, none to come */
	iommufd_fault_remove_handle(old, idev, 0);
	if (old_iopt && old_iopt != iopt)
		iopt_remove_reserved_iova(old_iopt, idev->dev);
	atomic_fetch_add(&hwpt->obj.users, 1);
	idev->hwpt = hwpt;
	*destroy = old;
out_unlock:
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

static struct iommufd_pasid_attach *find_pasid(struct iommufd_device *idev,
					       uint32_t pasid)
{
	for (struct iommufd_list *pos = idev->pasids.next; pos != &idev->pasids;
	     pos = pos->next) {
		struct iommufd_pasid_attach *pa = iommufd_container_of(
			pos, struct iommufd_pasid_attach, node);

		if (pa->pasid == pasid)
			return pa;
	}
	return NULL;
}

/*
 * Whether @hwpt may serve PASID @pasid of the device, in the order the
 * kernel finds out: iommufd_hwpt_pasid_compat() (the HWPT, and the
 * RID's, allocated for PASIDs: EINVAL), then iommu_attach_device_pasid()
 * (a domain without set_dev_pasid: EOPNOTSUPP; another IOMMU's, or a
 * PASID past the device's width: EINVAL).  idev->lock held.
 */
static int pasid_check(struct iommufd_hw_pagetable *hwpt,
		       struct iommufd_device *idev, uint32_t pasid)
{
	struct sio_iommu_domain *d = hwpt->domain;
	struct iommufd_dev_desc *dev = idev->dev;

	if (!hwpt->pasid_compat || (idev->hwpt && !idev->hwpt->pasid_compat))
		return -EINVAL;
	if (!d->ops->set_dev_pasid || !dev->iommu->ops->block_dev_pasid)
		return -EOPNOTSUPP;
	if (d->iommu != dev->iommu || pasid >> dev->max_pasid_bits)
		return -EINVAL;
	return hwpt_check_device(hwpt, idev);
}

/* The kernel's iommufd_hw_pagetable_attach() for a PASID. */
static int pasid_do_attach(struct iommufd_device *idev, uint32_t pasid,
			   struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_pasid_attach *pa;
	int rc;

	pthread_mutex_lock(&idev->lock);
	rc = -EBUSY;
	if (find_pasid(idev, pasid))
		goto out_unlock;
	rc = pasid_check(hwpt, idev, pasid);
	if (rc)
		goto out_unlock;
	rc = -ENOMEM;
	pa = sio_calloc(1, sizeof(*pa));
	if (!pa)
		goto out_unlock;
	rc = hwpt_attach_dev(hwpt, idev, pasid, NULL);
	if (rc) {
		free(pa);
		goto out_unlock;
	}
	pa->pasid = pasid;
	pa->hwpt = hwpt;
	atomic_fetch_add(&hwpt->obj.users, 1);
	iommufd_list_add_tail(&pa->node, &idev->pasids);
out_unlock:
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

/* The kernel's iommufd_device_do_replace() for a PASID. */
static int pasid_do_replace(struct iommufd_device *idev, uint32_t pasid,
			    struct iommufd_hw_pagetable *hwpt,
			    struct iommufd_hw_pagetable **destroy)
{
	struct iommufd_pasid_attach *pa;
	int rc;

	pthread_mutex_lock(&idev->lock);
	pa = find_pasid(idev, pasid);
	rc = -EINVAL;
	if (!pa)
		goto out_unlock;
	rc = 0;
	if (pa->hwpt == hwpt)
		goto out_unlock;
	rc = pasid_check(hwpt, idev, pasid);
	if (rc)
		goto out_unlock;
	rc = hwpt_attach_dev(hwpt, idev, pasid, pa->hwpt->domain);
	if (rc)
		goto out_unlock;
	/* faults still waiting through the old HWPT are answered now */
	iommufd_fault_remove_handle(pa->hwpt, idev, pasid);
	atomic_fetch_add(&hwpt->obj.users, 1);
	*destroy = pa->hwpt;
	pa->hwpt = hwpt;
out_unlock:
	pthread_mutex_unlock(&idev->lock);
	return rc;
}

typedef int (*attach_fn)(struct iommufd_device *idev, uint32_t pasid,
			 struct iommufd_hw_pagetable *hwpt,
			 struct iommufd_hw_pagetable **destroy);

/* Attach the RID (@pasid 0) or a PASID. */
static int do_attach(struct iommufd_device *idev, uint32_t pasid,
		     struct iommufd_hw_pagetable *hwpt,
		     struct iommufd_hw_pagetable **destroy)
{
	*destroy = NULL;
	if (pasid)
		return pasid_do_attach(idev, pasid, hwpt);
	return device_do_attach(idev, hwpt, destroy);
}

static int do_replace(struct iommufd_device *idev, uint32_t pasid,
		      struct iommufd_hw_pagetable *hwpt,
		      struct iommufd_hw_pagetable **destroy)
{
	*destroy = NULL;
	if (pasid)
		return pasid_do_replace(idev, pasid, hwpt, destroy);
	return device_do_replace(idev, hwpt, destroy);
}

/*
 * Attach through an automatic domain of @ioas: reuse any that accepts
 * the device (-EINVAL means incompatible, try the next), else make one.
 */
static int device_auto_get_domain(struct iommufd_device *idev, uint32_t pasid,
				  struct iommufd_ioas *ioas, uint32_t *pt_id,
				  attach_fn attach,
				  struct iommufd_hw_pagetable **destroy)
{
	struct iommufd_hwpt_paging *hwpt_paging;
	struct iommufd_list *pos;
	int rc;

	pthread_mutex_lock(&ioas->mutex);
	for (pos = ioas->hwpt_list.next; pos != &ioas->hwpt_list;
	     pos = pos->next) {
		hwpt_paging = iommufd_container_of(
			pos, struct iommufd_hwpt_paging, hwpt_item);
		if (!hwpt_paging->auto_domain)
			continue;
		rc = attach(idev, pasid, &hwpt_paging->common, destroy);
		if (rc == -EINVAL)
			continue;
		if (!rc)
			*pt_id = hwpt_paging->common.obj.id;
		goto out_unlock;
	}

	rc = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0, &hwpt_paging);
	if (rc)
		goto out_unlock;
	rc = attach(idev, pasid, &hwpt_paging->common, destroy);
	if (rc) {
		iommufd_hwpt_paging_abort(idev->ictx, hwpt_paging);
		goto out_unlock;
	}
	hwpt_paging->auto_domain = true;
	*pt_id = hwpt_paging->common.obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt_paging->common.obj);
out_unlock:
	pthread_mutex_unlock(&ioas->mutex);
	return rc;
}

static int device_change_pt(struct iommufd_device *idev, uint32_t pasid,
			    uint32_t *pt_id, attach_fn attach)
{
	struct iommufd_hw_pagetable *destroy = NULL;
	struct iommufd_object *pt_obj;
	int rc;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (!pt_obj)
		return -ENOENT;
	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
	case IOMMUFD_OBJ_HWPT_NESTED:
		rc = attach(idev, pasid, (struct iommufd_hw_pagetable *)pt_obj,
			    &destroy);
		break;
	case IOMMUFD_OBJ_IOAS:
		rc = device_auto_get_domain(idev, pasid,
					    (struct iommufd_ioas *)pt_obj,
					    pt_id, attach, &destroy);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	iommufd_put_object(idev->ictx, pt_obj);
	/* after every lock is dropped: this may destroy an auto domain */
	if (destroy)
		iommufd_hw_pagetable_put(idev->ictx, destroy);
	return rc;
}

int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id)
{
	int rc = device_change_pt(idev, 0, pt_id, do_attach);

	/* pairs with iommufd_device_detach(): the device cannot go first */
	if (!rc)
		atomic_fetch_add(&idev->obj.users, 1);
	return rc;
}

int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id)
{
	return device_change_pt(idev, 0, pt_id, do_replace);
}

int iommufd_device_pasid_attach(struct iommufd_device *idev, uint32_t pasid,
				uint32_t *pt_id)
{
	int rc;

	if (!pasid)
		return -EINVAL;
	rc = device_change_pt(idev, pasid, pt_id, do_attach);
	/* pairs with iommufd_device_pasid_detach() */
	if (!rc)
		atomic_fetch_add(&idev->obj.users, 1);
	return rc;
}

int iommufd_device_pasid_replace(struct iommufd_device *idev, uint32_t pasid,
				 uint32_t *pt_id)
{
	if (!pasid)
		return -EINVAL;
	return device_change_pt(idev, pasid, pt_id, do_replace);
}

struct sio_iommu_domain *
iommufd_device_pasid_domain(struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_pasid_attach *pa;
	struct sio_iommu_domain *d;

	pthread_mutex_lock(&idev->lock);
	pa = find_pasid(idev, pasid);
	d = pa ? pa->hwpt->domain : NULL;
	pthread_mutex_unlock(&idev->lock);
	return d;
}

void iommufd_device_pasid_detach(struct iommufd_device *idev, uint32_t pasid)
{
	struct sio_iommu_dev *iommu = idev->dev->iommu;
	struct iommufd_pasid_attach *pa;

	pthread_mutex_lock(&idev->lock);
	pa = pasid ? find_pasid(idev, pasid) : NULL;
	if (!pa) {
		pthread_mutex_unlock(&idev->lock);
		return;
	}
	/* blocked before the domain can go away */
	iommu->ops->block_dev_pasid(iommu, idev->dev->sid, pasid,
				    pa->hwpt->domain);
	iommufd_fault_remove_handle(pa->hwpt, idev, pasid);
	iommufd_list_del_init(&pa->node);
	pthread_mutex_unlock(&idev->lock);
	iommufd_hw_pagetable_put(idev->ictx, pa->hwpt);
	free(pa);
	atomic_fetch_sub(&idev->obj.users, 1);
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hw_pagetable *hwpt;
	struct io_pagetable *iopt;

	pthread_mutex_lock(&idev->lock);
	hwpt = idev->hwpt;
	if (!hwpt) {
		pthread_mutex_unlock(&idev->lock);
		return;
	}
	/* blocked before the domain can go away */
	idev->dev->iommu->ops->block_dev(idev->dev->iommu, idev->dev->sid);
	iommufd_fault_remove_handle(hwpt, idev, 0);
	iopt = hwpt_iopt(hwpt);
	if (iopt)
		iopt_remove_reserved_iova(iopt, idev->dev);
	idev->hwpt = NULL;
	pthread_mutex_unlock(&idev->lock);
	iommufd_hw_pagetable_put(idev->ictx, hwpt);
	atomic_fetch_sub(&idev->obj.users, 1);
}

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hw_info *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	struct iommufd_object *obj;
	struct sio_iommu_dev *iommu;
	uint8_t data[256];
	uint32_t type = SIO_IOMMU_HW_INFO_TYPE_NONE;
	size_t data_len = 0, copy_len;
	int rc;

	if ((cmd->flags & ~SIO_IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
	    cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = (struct iommufd_device *)obj;
	iommu = idev->dev->iommu;

	memset(data, 0, sizeof(data));
	if (iommu->ops->hw_info)
		data_len =
			iommu->ops->hw_info(iommu, data, sizeof(data), &type);
	if (data_len > sizeof(data)) {
		rc = -EOVERFLOW;
		goto out_put;
	}
	/* a requested type other than the driver's (or DEFAULT) is refused */
	if ((cmd->flags & SIO_IOMMU_HW_INFO_FLAG_INPUT_TYPE) &&
	    cmd->in_data_type != SIO_IOMMU_HW_INFO_TYPE_DEFAULT &&
	    cmd->in_data_type != type) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	copy_len = cmd->data_len < data_len ? cmd->data_len : data_len;
	rc = sio_user_write(cmd->data_uptr, data, copy_len);
	if (rc)
		goto out_put;
	/* the rest of a larger user buffer is zeroed */
	for (size_t off = copy_len; off < cmd->data_len; off += sizeof(data)) {
		size_t n = cmd->data_len - off;
		static const uint8_t zeros[256];

		rc = sio_user_write(cmd->data_uptr + off, zeros,
				    n < sizeof(zeros) ? n : sizeof(zeros));
		if (rc)
			goto out_put;
	}
	cmd->data_len = (uint32_t)data_len;
	cmd->out_data_type = type;
	cmd->out_capabilities = 0;
	if (dev_capable(idev->dev, SIO_IOMMU_CAP_DIRTY_TRACKING))
		cmd->out_capabilities |= SIO_IOMMU_HW_CAP_DIRTY_TRACKING;
	/*
	 * The kernel reports the PASID width a device may use (PASID
	 * enabled at probe) and the permissions its PASID capability has.
	 */
	cmd->out_max_pasid_log2 = (uint8_t)idev->dev->max_pasid_bits;
	if (idev->dev->max_pasid_bits) {
		if (idev->dev->pci.pasid_exec)
			cmd->out_capabilities |=
				SIO_IOMMU_HW_CAP_PCI_PASID_EXEC;
		if (idev->dev->pci.pasid_priv)
			cmd->out_capabilities |=
				SIO_IOMMU_HW_CAP_PCI_PASID_PRIV;
	}
	rc = iommufd_ucmd_respond(ucmd);
out_put:
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
