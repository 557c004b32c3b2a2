// SPDX-License-Identifier: MIT
/*
 * The VFIO device cdevs, /dev/vfio/devices/vfioN: one per platform
 * device, in platform order.  The file is the device's VFIO face
 * (src/vfio/): ioctls, pread/pwrite of its regions, mmap of BAR0; its
 * last close unbinds and resets the device, as the kernel's
 * vfio_device_fops_release() does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>

#include "fault/fault_inject.h"
#include "platform/platform_private.h"
#include "preload.h"
#include "uapi/uapi.h"

/* a dynamic major in the kernel; ours is from the "local use" range */
#define VFIO_DEV_MAJOR 240

struct vfio_file {
	struct platform_device *dev;
	struct sio_vfio_pci_dev *vdev;
	/* a group's device fd holds the group file, as the kernel's does */
	struct sio_vfile *group;
};

static struct vfio_file *to_vfio_file(struct sio_vfile *f)
{
	return sio_vfile_priv(f);
}

static long vfio_dev_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg)
{
	return sio_vfio_pci_ioctl(to_vfio_file(f)->vdev, cmd, arg);
}

static ssize_t vfio_dev_pread(struct sio_vfile *f, void *buf, size_t len,
			      off_t off)
{
	/* vfile_pread() has refused negative offsets */
	return sio_vfio_pci_pread(to_vfio_file(f)->vdev, buf, len,
				  (uint64_t)off);
}

static ssize_t vfio_dev_pwrite(struct sio_vfile *f, const void *buf, size_t len,
			       off_t off)
{
	return sio_vfio_pci_pwrite(to_vfio_file(f)->vdev, buf, len,
				   (uint64_t)off);
}

/*
 * A writable mapping of BAR0 traps its stores (src/uapi/mmio_trap.c): the
 * program's pages are read-only, each store reaches the function as an
 * exact MMIO write, and the page shows the registers' new state before
 * the next instruction, as a real BAR does.  The mapping holds the file
 * as the kernel's vma does, until munmap.
 */
struct bar_trap {
	struct preload_trap trap;
	struct sio_vfile *f;
	uint64_t region_off; /* of the mapping's first byte */
};

static void bar_store(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct bar_trap *t = opaque;

	/* an unbound or reset function drops it, as hardware would */
	(void)sio_vfio_pci_mmio_store(to_vfio_file(t->f)->vdev,
				      t->region_off + off, size, val);
}

static void bar_trap_release(struct preload_trap *pt)
{
	struct bar_trap *t = (struct bar_trap *)pt;

	vfile_put(t->f);
	free(t);
}

/* Without a trap the device polls the writable mapping instead. */
static void bar_trap_stores(struct sio_vfile *f, void *p, size_t len,
			    uint64_t region_off)
{
	struct bar_trap *t = sio_malloc(sizeof(*t));

	if (!t)
		return;
	*t = (struct bar_trap){.trap = {.release = bar_trap_release},
			       .f = f,
			       .region_off = region_off};
	vfile_get(f);
	if (mprotect(p, len, PROT_READ))
		goto err;
	if (!sio_user_trap_add(p, len, bar_store, t))
		return;
	mprotect(p, len, PROT_READ | PROT_WRITE);
err:
	vfile_put(f);
	free(t);
}

/* BAR0 is memory the device sees: map the program onto the same pages */
static int vfio_dev_mmap(struct sio_vfile *f, void *addr, size_t len, int prot,
			 int flags, off_t off, void **out)
{
	uint64_t fd_off;
	void *p;
	int fd, rc;

	if (off < 0)
		return -EINVAL;
	rc = sio_vfio_pci_mmap(to_vfio_file(f)->vdev, (uint64_t)off, len,
			       (flags & MAP_TYPE) == MAP_SHARED, &fd, &fd_off);
	if (rc)
		return rc;
	p = preload.real.mmap(addr, len, prot, flags, fd, (off_t)fd_off);
	if (p == MAP_FAILED)
		return -errno;
	if ((prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE))
		bar_trap_stores(f, p, len, (uint64_t)off);
	*out = p;
	return 0;
}

static void vfio_dev_release(void *priv)
{
	struct vfio_file *vf = priv;

	if (vf->group) {
		platform_group_close_device(vf->dev);
		vfile_put(vf->group);
	} else {
		platform_device_close(vf->dev);
	}
	free(vf);
}

static const struct sio_vfile_ops vfio_dev_ops = {
	.name = "vfio-device",
	.ioctl = vfio_dev_ioctl,
	.pread = vfio_dev_pread,
	.pwrite = vfio_dev_pwrite,
	.mmap = vfio_dev_mmap,
	.release = vfio_dev_release,
	/* vfio_device_fops' read/write: vfio_pci_rw() at *ppos */
	.rw_at_pos = true,
};

/* VFIO_DEVICE_BIND_IOMMUFD's fd: the kernel's iommufd_ctx_from_fd() */
static int resolve_iommufd(int fd, struct iommufd_ctx **out)
{
	struct sio_vfile *f;
	int rc;

	rc = preload_fd_get(fd, &preload_iommufd_ops, &f);
	if (rc)
		return rc;
	*out = platform_iommufd_ctx(sio_vfile_priv(f));
	iommufd_ctx_get(*out);
	preload_fd_put(f);
	return 0;
}

static int vfio_dev_open(void *ctx, int flags, const struct sio_vfile_ops **ops,
			 void **priv)
{
	unsigned int index = (unsigned int)(uintptr_t)ctx;
	struct sio_platform *p;
	struct vfio_file *vf;
	int rc;

	(void)flags;
	rc = preload_platform(&p);
	if (rc)
		return rc;
	if (index >= p->nr_devs)
		return -ENODEV;
	platform_set_iommufd_resolver(p, resolve_iommufd);
	vf = sio_calloc(1, sizeof(*vf));
	if (!vf)
		return -ENOMEM;
	vf->dev = &p->devs[index];
	rc = platform_device_open(vf->dev, &vf->vdev);
	if (rc) {
		free(vf);
		return rc;
	}
	*ops = &vfio_dev_ops;
	*priv = vf;
	return 0;
}

void preload_register_vfio_nodes(void)
{
	char path[64];

	for (unsigned int i = 0; i < PLATFORM_DEFAULT_NR_DEVS; i++) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", i);
		preload_register_node(path, 0600, makedev(VFIO_DEV_MAJOR, i),
				      vfio_dev_open, (void *)(uintptr_t)i);
	}
}

/* What VFIO_GROUP_GET_DEVICE_FD opens: the device, already opened. */
struct group_device_open {
	struct platform_device *dev;
	struct sio_vfio_pci_dev *vdev;
	struct sio_vfile *group;
	bool taken; /* the file owns the above: its release undoes them */
};

static int group_device_open(void *ctx, int flags,
			     const struct sio_vfile_ops **ops, void **priv)
{
	struct group_device_open *o = ctx;
	struct vfio_file *vf = sio_calloc(1, sizeof(*vf));

	(void)flags;
	if (!vf)
		return -ENOMEM;
	*vf = (struct vfio_file){
		.dev = o->dev, .vdev = o->vdev, .group = o->group};
	*ops = &vfio_dev_ops;
	*priv = vf;
	o->taken = true;
	return 0;
}

/* The kernel's "[vfio-device]" anon inode, as stat() sees it. */
static const struct preload_node anon_vfio_device = {
	.path = "anon_inode:[vfio-device]",
	.mode = 0600,
	.ino = 0x50f6fff,
};

int preload_vfio_group_device_fd(struct platform_device *d,
				 struct sio_vfile *group, const char *name)
{
	struct group_device_open o = {.dev = d, .group = group};
	int rc, fd;

	rc = platform_group_open_device(d, name, &o.vdev);
	if (rc)
		return rc;
	vfile_get(group);
	fd = vfile_open_with(&anon_vfio_device, O_RDWR | O_CLOEXEC,
			     group_device_open, &o);
	if (fd < 0 && !o.taken) {
		vfile_put(group);
		platform_group_close_device(d);
	}
	return fd;
}
