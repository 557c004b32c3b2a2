// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO nodes: the container /dev/vfio/vfio (each open a new
 * type1 container, src/vfio/container.c) and one group /dev/vfio/N per
 * platform device (its IOMMU group, src/vfio/group.c).  The interposer's
 * part is what needs the fd table: turning SET_CONTAINER's fd into a
 * container or an iommufd, and GET_DEVICE_FD's device into a new fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "platform/platform_private.h"
#include "preload.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"

/* misc 10:196 is VFIO_MINOR; the groups get a dynamic major, ours here */
#define VFIO_CONTAINER_RDEV makedev(10, 196)
#define VFIO_GROUP_MAJOR    241

/* ------------------------------------------------------- container */

static long container_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg)
{
	/* only the low 32 bits of the number reach the driver */
	return vfio_container_ioctl(sio_vfile_priv(f), (unsigned int)cmd,
				    (uint64_t)(uintptr_t)arg);
}

static void container_release(void *priv)
{
	vfio_container_put(priv);
}

static const struct sio_vfile_ops container_ops = {
	.name = "vfio-container",
	.ioctl = container_ioctl,
	.release = container_release,
};

/*
 * type1's dma_entry_limit module parameter: SOFTIOMMU_VFIO_DMA_ENTRY_LIMIT
 * when set, read at each open as the kernel reads the parameter at
 * SET_IOMMU.
 */
static unsigned int dma_entry_limit(void)
{
	const char *s = getenv("SOFTIOMMU_VFIO_DMA_ENTRY_LIMIT");
	unsigned long v;
	char *end;

	if (!s || !*s)
		return VFIO_DMA_ENTRY_LIMIT_DEFAULT;
	v = strtoul(s, &end, 0);
	if (*end || v > UINT32_MAX)
		return VFIO_DMA_ENTRY_LIMIT_DEFAULT;
	return (unsigned int)v;
}

static int container_open(void *ctx, int flags,
			  const struct sio_vfile_ops **ops, void **priv)
{
	struct vfio_container *c;
	struct sio_platform *p;
	int rc;

	(void)ctx, (void)flags;
	rc = preload_platform(&p);
	if (!rc)
		rc = vfio_container_create(&p->host, dma_entry_limit(), &c);
	if (rc)
		return rc;
	*ops = &container_ops;
	*priv = c;
	return 0;
}

/* ----------------------------------------------------------- group */

static struct platform_device *to_dev(struct sio_vfile *f)
{
	return sio_vfile_priv(f);
}

/*
 * The container fd: fdget() first (-EBADF), then the group decides;
 * an fd of another kind reaches it as neither (-EBADFD there).
 */
static int group_set_container(struct sio_vfile *f, uint64_t arg)
{
	struct vfio_container *c = NULL;
	struct iommufd_ctx *ictx = NULL;
	struct sio_vfile *cf = NULL;
	int32_t fd;
	int rc;

	rc = sio_user_read(&fd, arg, sizeof(fd));
	if (rc)
		return rc;
	rc = preload_fd_get(fd, &container_ops, &cf);
	if (!rc) {
		c = sio_vfile_priv(cf);
	} else if (rc == -EBADFD) {
		rc = preload_fd_get(fd, &preload_iommufd_ops, &cf);
		if (!rc) {
			ictx = platform_iommufd_ctx(sio_vfile_priv(cf));
			iommufd_ctx_get(ictx);
		}
	}
	if (rc && rc != -EBADFD)
		return rc;
	/* the group holds what it keeps: the file can go */
	rc = vfio_group_set_container(&to_dev(f)->group, c, ictx);
	if (cf)
		preload_fd_put(cf);
	return rc;
}

/* strndup_user(arg, PAGE_SIZE): the name, NUL within a page, or -errno. */
static int read_device_name(uint64_t arg, char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		int rc = sio_user_read(&buf[i], arg + i, 1);

		if (rc)
			return rc;
		if (!buf[i])
			return 0;
	}
	return -EINVAL;
}

static int group_get_device_fd(struct sio_vfile *f, uint64_t arg)
{
	char *name = sio_malloc(4096);
	int rc;

	if (!name)
		return -ENOMEM;
	rc = read_device_name(arg, name, 4096);
	if (!rc)
		rc = preload_vfio_group_device_fd(to_dev(f), f, name);
	free(name);
	return rc;
}

static long group_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg)
{
	struct vfio_group *g = &to_dev(f)->group;
	uint64_t uarg = (uint64_t)(uintptr_t)arg;

	sio_user_begin();
	switch ((unsigned int)cmd) {
	case SIO_VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(f, uarg);
	case SIO_VFIO_GROUP_GET_STATUS:
		return vfio_group_get_status(g, uarg);
	case SIO_VFIO_GROUP_SET_CONTAINER:
		return group_set_container(f, uarg);
	case SIO_VFIO_GROUP_UNSET_CONTAINER:
		return vfio_group_unset_container(g);
	default:
		return -ENOTTY;
	}
}

static void group_release(void *priv)
{
	struct platform_device *d = priv;

	vfio_group_release(&d->group);
}

static const struct sio_vfile_ops group_ops = {
	.name = "vfio-group",
	.ioctl = group_ioctl,
	.release = group_release,
};

static int group_open(void *ctx, int flags, const struct sio_vfile_ops **ops,
		      void **priv)
{
	unsigned int index = (unsigned int)(uintptr_t)ctx;
	struct sio_platform *p;
	int rc;

	(void)flags;
	rc = preload_platform(&p);
	if (rc)
		return rc;
	if (index >= p->nr_devs)
		return -ENODEV;
	rc = vfio_group_open(&p->devs[index].group);
	if (rc)
		return rc;
	*ops = &group_ops;
	*priv = &p->devs[index];
	return 0;
}

void preload_register_vfio_group_nodes(void)
{
	char path[64];

	preload_register_node("/dev/vfio/vfio", 0666, VFIO_CONTAINER_RDEV,
			      container_open, NULL);
	for (unsigned int i = 0; i < PLATFORM_DEFAULT_NR_DEVS; i++) {
		snprintf(path, sizeof(path), "/dev/vfio/%u", i);
		preload_register_node(path, 0600, makedev(VFIO_GROUP_MAJOR, i),
				      group_open, (void *)(uintptr_t)i);
	}
}
