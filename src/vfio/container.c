// SPDX-License-Identifier: MIT
/*
 * The VFIO container, /dev/vfio/vfio, as the kernel's container.c: a
 * group joining it gives up its DMA (its device is bound to the
 * container's private iommufd context), VFIO_SET_IOMMU picks the IOMMU
 * driver by asking it CHECK_EXTENSION with the requested type first, and
 * every other ioctl goes to that driver.  Type1 is the only driver.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio_private.h"

int vfio_container_create(struct iommufd_host *host,
			  unsigned int dma_entry_limit,
			  struct vfio_container **out)
{
	struct vfio_container *c = sio_calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	rc = iommufd_ctx_create(host, &c->ictx);
	if (rc) {
		free(c);
		return rc;
	}
	/* type1 charges pins to the process (mm->locked_vm) */
	c->ictx->account_mode = IOPT_PAGES_ACCOUNT_MM;
	atomic_init(&c->refs, 1);
	pthread_rwlock_init(&c->lock, NULL);
	iommufd_list_init(&c->groups);
	c->dma_entry_limit = dma_entry_limit;
	*out = c;
	return 0;
}

void vfio_container_get(struct vfio_container *c)
{
	atomic_fetch_add(&c->refs, 1);
}

void vfio_container_put(struct vfio_container *c)
{
	if (atomic_fetch_sub(&c->refs, 1) != 1)
		return;
	/* no group is left: the IOMMU went with the last one */
	iommufd_ctx_put(c->ictx);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

static long check_extension(struct vfio_container *c, uint64_t arg)
{
	long rc;

	pthread_rwlock_rdlock(&c->lock);
	rc = vfio_iommu_type1_check_extension(c->iommu, arg);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

static struct vfio_group *to_group(struct iommufd_list *l)
{
	return iommufd_container_of(l, struct vfio_group, container_item);
}

/* __vfio_container_attach_groups(): all or none. */
static int attach_groups(struct vfio_container *c, struct vfio_iommu *iommu)
{
	struct iommufd_list *l;
	int rc = 0;

	for (l = c->groups.next; l != &c->groups; l = l->next) {
		rc = vfio_iommu_type1_attach_group(iommu, to_group(l)->idev);
		if (rc)
			break;
	}
	if (!rc)
		return 0;
	while ((l = l->prev) != &c->groups)
		vfio_iommu_type1_detach_group(iommu, to_group(l)->idev);
	return rc;
}

/*
 * Only a container with a group may get an IOMMU, once.  The driver must
 * advertise the type (CHECK_EXTENSION) before its open() sees it: that
 * is why the removed NESTING type, which type1's open() would still take
 * as v2, finds no driver here (-ENODEV).
 */
static long set_iommu(struct vfio_container *c, uint64_t arg)
{
	struct vfio_iommu *iommu;
	long rc;

	pthread_rwlock_wrlock(&c->lock);
	rc = -EINVAL;
	if (iommufd_list_empty(&c->groups) || c->iommu)
		goto out;
	rc = -ENODEV;
	if (vfio_iommu_type1_check_extension(NULL, arg) <= 0)
		goto out;
	rc = vfio_iommu_type1_open(arg, c->ictx, c->dma_entry_limit, &iommu);
	if (rc)
		goto out;
	rc = attach_groups(c, iommu);
	if (rc)
		vfio_iommu_type1_release(iommu);
	else
		c->iommu = iommu;
out:
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

long vfio_container_ioctl(struct vfio_container *c, unsigned int cmd,
			  uint64_t arg)
{
	long rc = -EINVAL;

	sio_user_begin();
	switch (cmd) {
	case SIO_VFIO_GET_API_VERSION:
		return SIO_VFIO_API_VERSION;
	case SIO_VFIO_CHECK_EXTENSION:
		return check_extension(c, arg);
	case SIO_VFIO_SET_IOMMU:
		return set_iommu(c, arg);
	default:
		/* held: the last group leaving takes the IOMMU away */
		pthread_rwlock_rdlock(&c->lock);
		/* without a driver every other ioctl is EINVAL */
		if (c->iommu)
			rc = vfio_iommu_type1_ioctl(c->iommu, cmd, arg);
		pthread_rwlock_unlock(&c->lock);
		return rc;
	}
}

/* vfio_container_attach_group(): the group's device joins the context. */
int vfio_container_attach_group(struct vfio_container *c, struct vfio_group *g)
{
	uint32_t devid;
	int rc;

	pthread_rwlock_wrlock(&c->lock);
	/* claiming DMA ownership: -EBUSY if a cdev's iommufd has it */
	rc = iommufd_device_bind(c->ictx, g->desc, &devid, &g->idev);
	if (rc)
		goto out;
	if (c->iommu) {
		rc = vfio_iommu_type1_attach_group(c->iommu, g->idev);
		if (rc) {
			iommufd_device_unbind(g->idev);
			g->idev = NULL;
			goto out;
		}
	}
	iommufd_list_add_tail(&g->container_item, &c->groups);
	vfio_container_get(c);
	g->container = c;
	g->container_users = 1;
out:
	pthread_rwlock_unlock(&c->lock);
	return rc;
}

/* vfio_group_detach_container(): the last group takes the IOMMU along. */
void vfio_container_detach_group(struct vfio_group *g)
{
	struct vfio_container *c = g->container;
	struct vfio_iommu *old = NULL;

	pthread_rwlock_wrlock(&c->lock);
	if (c->iommu)
		vfio_iommu_type1_detach_group(c->iommu, g->idev);
	iommufd_device_unbind(g->idev);
	g->idev = NULL;
	iommufd_list_del_init(&g->container_item);
	if (iommufd_list_empty(&c->groups)) {
		old = c->iommu;
		c->iommu = NULL;
	}
	pthread_rwlock_unlock(&c->lock);
	vfio_iommu_type1_release(old);
	g->container = NULL;
	g->container_users = 0;
	vfio_container_put(c);
}
