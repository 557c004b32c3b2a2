// SPDX-License-Identifier: MIT
/*
 * VFIO groups, /dev/vfio/N, as the kernel's group.c: the group fd's
 * ioctls and the rules for handing out its devices.  A group reaches an
 * IOMMU through a type1 container, or through an iommufd (its compat
 * IOAS), and only then may a device fd be taken from it.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio_private.h"

void vfio_group_init(struct vfio_group *g, unsigned int id,
		     const char *dev_name, struct iommufd_dev_desc *desc)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->id = id;
	g->dev_name = dev_name;
	g->desc = desc;
	iommufd_list_init(&g->container_item);
}

void vfio_group_destroy(struct vfio_group *g)
{
	pthread_mutex_destroy(&g->lock);
}

/* vfio_group_has_iommu() */
static bool has_iommu(const struct vfio_group *g)
{
	return g->container || g->iommufd;
}

int vfio_group_open(struct vfio_group *g)
{
	int rc = 0;

	pthread_mutex_lock(&g->lock);
	/* one open of a group at a time, as the kernel's */
	if (g->opened)
		rc = -EBUSY;
	else
		g->opened = true;
	pthread_mutex_unlock(&g->lock);
	return rc;
}

static void drop_iommu(struct vfio_group *g)
{
	if (g->container)
		vfio_container_detach_group(g);
	if (g->iommufd) {
		iommufd_ctx_put(g->iommufd);
		g->iommufd = NULL;
	}
}

/* Device fds hold the group file: no device is open any more. */
void vfio_group_release(struct vfio_group *g)
{
	pthread_mutex_lock(&g->lock);
	drop_iommu(g);
	g->opened = false;
	pthread_mutex_unlock(&g->lock);
}

/* Another owner of the device's DMA (a cdev bound to an iommufd). */
static bool dma_owner_claimed(struct iommufd_dev_desc *desc)
{
	bool claimed;

	pthread_mutex_lock(&desc->owner_lock);
	claimed = desc->owner_cnt != 0;
	pthread_mutex_unlock(&desc->owner_lock);
	return claimed;
}

/*
 * VIABLE: the group could be used.  With an iommufd the device's DMA is
 * claimed only at GET_DEVICE_FD, so VIABLE may be set and still the
 * device fd refused.
 */
int vfio_group_get_status(struct vfio_group *g, uint64_t arg)
{
	size_t minsz = offsetof(struct sio_vfio_group_status, flags) +
		       sizeof(uint32_t);
	struct sio_vfio_group_status status;
	int rc = sio_user_read(&status, arg, minsz);

	if (rc)
		return rc;
	if (status.argsz < minsz)
		return -EINVAL;
	status.flags = 0;
	pthread_mutex_lock(&g->lock);
	if (has_iommu(g))
		status.flags |= SIO_VFIO_GROUP_FLAGS_CONTAINER_SET |
				SIO_VFIO_GROUP_FLAGS_VIABLE;
	else if (!dma_owner_claimed(g->desc))
		status.flags |= SIO_VFIO_GROUP_FLAGS_VIABLE;
	pthread_mutex_unlock(&g->lock);
	return sio_user_write(arg, &status, minsz);
}

int vfio_group_set_container(struct vfio_group *g, struct vfio_container *c,
			     struct iommufd_ctx *ictx)
{
	int rc;

	pthread_mutex_lock(&g->lock);
	rc = -EINVAL;
	if (has_iommu(g))
		goto out;
	if (c) {
		rc = vfio_container_attach_group(c, g);
		goto out;
	}
	/* the fd passed is neither a container nor an iommufd */
	rc = -EBADFD;
	if (!ictx)
		goto out;
	rc = iommufd_vfio_compat_ioas_create(ictx);
	if (rc)
		goto out;
	g->iommufd = ictx;
	ictx = NULL; /* the group keeps the reference */
out:
	pthread_mutex_unlock(&g->lock);
	if (ictx)
		iommufd_ctx_put(ictx);
	return rc;
}

/* Only with no device fd open (on a container; 1 -> 0 users). */
int vfio_group_unset_container(struct vfio_group *g)
{
	int rc = 0;

	pthread_mutex_lock(&g->lock);
	if (!has_iommu(g))
		rc = -EINVAL;
	else if (g->container && g->container_users != 1)
		rc = -EBUSY;
	else
		drop_iommu(g);
	pthread_mutex_unlock(&g->lock);
	return rc;
}

int vfio_group_device_open(struct vfio_group *g, const char *name,
			   struct iommufd_ctx **ictx)
{
	int rc = 0;

	if (strcmp(name, g->dev_name))
		return -ENODEV;
	pthread_mutex_lock(&g->lock);
	*ictx = g->iommufd;
	if (!has_iommu(g))
		rc = -EINVAL;
	else if (g->container) {
		/* vfio_group_use_container(): the container needs its IOMMU */
		pthread_rwlock_rdlock(&g->container->lock);
		if (!g->container->iommu)
			rc = -EINVAL;
		pthread_rwlock_unlock(&g->container->lock);
		if (!rc)
			g->container_users++;
	}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

void vfio_group_device_close(struct vfio_group *g)
{
	pthread_mutex_lock(&g->lock);
	if (g->container && g->container_users > 1)
		g->container_users--;
	pthread_mutex_unlock(&g->lock);
}
