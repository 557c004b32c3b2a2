// SPDX-License-Identifier: MIT
/*
 * HW queues (IOMMU_HW_QUEUE_ALLOC): guest memory that a vIOMMU's
 * hardware reads by itself, as the kernel's iommufd_hw_queue.  The queue
 * memory, an IOVA range of the vIOMMU's nesting parent, is pinned by an
 * internal access (access.c): its areas are locked, so IOAS_UNMAP of them
 * is EBUSY while the queue lives, and the driver gets the physical (here:
 * host) address of the first byte, which must be contiguous.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"

struct iommufd_hw_queue {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_viommu *viommu; /* held */
	struct iommufd_access *access; /* internal: pins the queue memory */
	uint64_t pin_iova, pin_length; /* page-aligned, as pinned */
	bool pinned, initialized;
	struct sio_iommu_hw_queue drv;
};

static struct iommufd_hw_queue *to_hw_queue(struct sio_iommu_hw_queue *q)
{
	return iommufd_container_of(q, struct iommufd_hw_queue, drv);
}

/* The kernel's iommufd_hw_queue_depend(): @prev stays while @q lives. */
static int hw_queue_depend(struct sio_iommu_hw_queue *q,
			   struct sio_iommu_hw_queue *prev)
{
	(void)q;
	atomic_fetch_add(&to_hw_queue(prev)->obj.users, 1);
	return 0;
}

static void hw_queue_undepend(struct sio_iommu_hw_queue *q,
			      struct sio_iommu_hw_queue *prev)
{
	(void)q;
	atomic_fetch_sub(&to_hw_queue(prev)->obj.users, 1);
}

static const struct iommufd_access_ops hw_queue_access_ops = {
	.needs_pin_pages = true,
	.internal = true,
};

void iommufd_hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *hwq = (struct iommufd_hw_queue *)obj;
	struct sio_iommu_viommu *v = hwq->viommu ? hwq->viommu->drv : NULL;

	if (hwq->initialized)
		v->ops->hw_queue_destroy(v, &hwq->drv);
	if (hwq->pinned)
		iommufd_access_unpin_pages(hwq->access, hwq->pin_iova,
					   hwq->pin_length);
	if (hwq->access)
		iommufd_access_destroy(hwq->access);
	if (hwq->viommu)
		atomic_fetch_sub(&hwq->viommu->obj.users, 1);
}

/*
 * The kernel's iommufd_hw_queue_alloc_phys(): pin the pages behind the
 * queue on the parent's IOAS and check they are one physical run.
 * 0 with *@base_pa, or -ENOENT (not mapped), -EFAULT (not contiguous),
 * -ERANGE, -ENOMEM.
 */
static int hw_queue_pin(struct iommufd_hw_queue *hwq,
			const struct sio_iommu_hw_queue_alloc *cmd,
			uint64_t *base_pa)
{
	uint64_t ps = hwq->ictx->host->page_size;
	uint64_t aligned = cmd->nesting_parent_iova & ~(ps - 1);
	uint64_t offset = cmd->nesting_parent_iova - aligned, length, npages;
	uint32_t access_id;
	void **pages;
	int rc;

	if (__builtin_add_overflow(offset, cmd->length, &length) ||
	    __builtin_add_overflow(length, ps - 1, &length))
		return -ERANGE;
	npages = length / ps;
	length = npages * ps;
	pages = sio_calloc(npages, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	rc = iommufd_access_create(hwq->ictx, &hw_queue_access_ops, hwq,
				   &access_id, &hwq->access);
	if (rc) {
		hwq->access = NULL;
		goto out_free;
	}
	rc = iommufd_access_attach(hwq->access,
				   hwq->viommu->hwpt->ioas->obj.id);
	if (rc)
		goto out_free;
	rc = iommufd_access_pin_pages(hwq->access, aligned, length, pages, 0);
	if (rc)
		goto out_free;
	hwq->pinned = true;
	hwq->pin_iova = aligned;
	hwq->pin_length = length;
	for (uint64_t i = 1; i < npages; i++) {
		if ((char *)pages[i] != (char *)pages[0] + i * ps) {
			rc = -EFAULT;
			goto out_free;
		}
	}
	*base_pa = (uint64_t)(uintptr_t)pages[0] + offset;
out_free:
	free(pages);
	return rc;
}

int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_hw_queue_alloc *cmd = ucmd->cmd;
	struct iommufd_hw_queue *hwq;
	struct iommufd_viommu *viommu;
	struct sio_iommu_viommu *v;
	uint64_t last, base_pa;
	int rc;

	if (cmd->flags || cmd->type == SIO_IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (__builtin_add_overflow(cmd->nesting_parent_iova, cmd->length - 1,
				   &last))
		return -EOVERFLOW;
	viommu = (struct iommufd_viommu *)iommufd_get_object(
		ucmd->ictx, cmd->viommu_id, IOMMUFD_OBJ_VIOMMU);
	if (!viommu)
		return -ENOENT;
	v = viommu->drv;
	if (!v->ops->hw_queue_supported || !v->ops->hw_queue_init ||
	    !v->ops->hw_queue_supported(v, cmd->type)) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	hwq = sio_calloc(1, sizeof(*hwq));
	if (!hwq) {
		rc = -ENOMEM;
		goto out_put;
	}
	rc = iommufd_object_alloc(ucmd->ictx, &hwq->obj, IOMMUFD_OBJ_HW_QUEUE);
	if (rc) {
		free(hwq);
		goto out_put;
	}
	hwq->ictx = ucmd->ictx;
	hwq->viommu = viommu;
	atomic_fetch_add(&viommu->obj.users, 1);
	hwq->drv = (struct sio_iommu_hw_queue){
		.type = cmd->type,
		.index = cmd->index,
		.base_addr = cmd->nesting_parent_iova,
		.length = cmd->length,
		.depend = hw_queue_depend,
		.undepend = hw_queue_undepend,
	};
	rc = hw_queue_pin(hwq, cmd, &base_pa);
	if (rc)
		goto out_abort;
	rc = v->ops->hw_queue_init(v, &hwq->drv, base_pa);
	if (rc)
		goto out_abort;
	hwq->initialized = true;
	cmd->out_hw_queue_id = hwq->obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &hwq->obj);
	goto out_put;
out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &hwq->obj);
out_put:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
