// SPDX-License-Identifier: MIT
/*
 * /dev/iommu: each open is one iommufd context (sio_iommufd_open) on the
 * process's default platform, as each open of the kernel's misc device
 * is one iommufd_ctx.  The ops are those of the kernel's iommufd_fops:
 * ioctl and mmap, no read, write or poll.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <softiommu/iommufd.h>

#include "fault/fault_inject.h"
#include "preload.h"

/* misc major 10; the kernel picks a dynamic minor, this is ours */
#define IOMMU_RDEV makedev(10, 123)

static long iommu_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(sio_vfile_priv(f), cmd, arg);
}

/*
 * iommufd_fops_mmap(): only shared, non-executable mappings of exactly a
 * region an ioctl handed out (the mock vIOMMU's page); the program maps
 * the region's own file.  The mapping holds the region's object (its
 * IOMMU_DESTROY is EBUSY) and the iommufd context, as the kernel's vma
 * holds the file, until munmap takes all of it (preload_iommufd_munmap()).
 * sio_iommufd_mmap()'s mapping holds both, so a close() of the fd before
 * the munmap leaves the context to it.  Cut from its middle it stays
 * held; moved whole by mremap, the hold moves with it (a piece moved
 * away alone is not held by itself: the rest holds it).
 */
struct iommu_mapping {
	struct iommu_mapping *next;
	uintptr_t lo, hi; /* what is still mapped, as far as its ends say */
	struct sio_iommufd_mapping *m;
};

static int iommu_mmap(struct sio_vfile *f, void *addr, size_t len, int prot,
		      int flags, off_t off, void **out)
{
	struct iommu_mapping *im;
	int memfd, rc;
	void *p;

	if ((flags & MAP_TYPE) == MAP_PRIVATE)
		return -EINVAL;
	if (prot & PROT_EXEC)
		return -EPERM;
	if (off < 0)
		return -ENXIO;
	im = sio_calloc(1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	rc = sio_iommufd_mmap(sio_vfile_priv(f), (uint64_t)off, len, &memfd,
			      &im->m);
	if (rc) {
		free(im);
		return rc;
	}
	p = preload.real.mmap(addr, len, prot, flags, memfd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		sio_iommufd_munmap(im->m);
		free(im);
		return rc;
	}
	im->lo = (uintptr_t)p;
	im->hi = (uintptr_t)p + len;
	pthread_mutex_lock(&preload.iommu_maps.lock);
	im->next = preload.iommu_maps.list;
	preload.iommu_maps.list = im;
	atomic_fetch_add(&preload.iommu_maps.nr, 1);
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	*out = p;
	return 0;
}

void preload_iommufd_munmap(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b = a + len;
	struct iommu_mapping **pp, *gone = NULL;

	if (!atomic_load(&preload.iommu_maps.nr))
		return;
	pthread_mutex_lock(&preload.iommu_maps.lock);
	for (pp = &preload.iommu_maps.list; *pp;) {
		struct iommu_mapping *im = *pp;

		if (a <= im->lo && b >= im->hi) {
			*pp = im->next;
			im->next = gone;
			gone = im;
			atomic_fetch_sub(&preload.iommu_maps.nr, 1);
			continue;
		}
		if (a <= im->lo && b > im->lo)
			im->lo = b;
		else if (b >= im->hi && a < im->hi)
			im->hi = a;
		pp = &im->next;
	}
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	while (gone) {
		struct iommu_mapping *im = gone;

		gone = im->next;
		sio_iommufd_munmap(im->m);
		free(im);
	}
}

/* @len in whole pages, as mremap() takes its lengths. */
static size_t page_up(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) & ~(pg - 1);
}

/* The record whose range holds @a, under the lock; NULL if none. */
static struct iommu_mapping *mapping_at(uintptr_t a)
{
	for (struct iommu_mapping *im = preload.iommu_maps.list; im;
	     im = im->next)
		if (a >= im->lo && a < im->hi)
			return im;
	return NULL;
}

/*
 * The kernel maps a region with io_remap_pfn_range(), a VM_PFNMAP |
 * VM_DONTEXPAND vma, and mremap's checks of that vma (after those of
 * its arguments, which the real call makes) refuse a MREMAP_DONTUNMAP,
 * a range past the vma's end and any growth, old size 0 included.
 */
int preload_iommufd_mremap_check(const void *old, size_t old_len,
				 size_t new_len, int flags)
{
	uintptr_t a = (uintptr_t)old;
	struct iommu_mapping *im;
	int rc = 0;

	if (!atomic_load(&preload.iommu_maps.nr) ||
	    a % (uintptr_t)sysconf(_SC_PAGESIZE) || !new_len ||
	    (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) ||
	    ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) &&
	     !(flags & MREMAP_MAYMOVE)))
		return 0;
	old_len = page_up(old_len);
	new_len = page_up(new_len);
	pthread_mutex_lock(&preload.iommu_maps.lock);
	im = mapping_at(a);
	if (im) {
		if (flags & MREMAP_DONTUNMAP)
			rc = -EINVAL;
		else if (old_len > im->hi - a || new_len > old_len)
			rc = -EFAULT;
	}
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	return rc;
}

void preload_iommufd_mremapped(const void *old, size_t old_len, const void *out,
			       size_t new_len, int flags)
{
	uintptr_t a = (uintptr_t)old;
	struct iommu_mapping *im;

	if (!atomic_load(&preload.iommu_maps.nr))
		return;
	old_len = page_up(old_len);
	new_len = page_up(new_len);
	pthread_mutex_lock(&preload.iommu_maps.lock);
	im = mapping_at(a);
	if (im && out != old && a == im->lo && im->hi - a == old_len) {
		im->lo = (uintptr_t)out;
		im->hi = (uintptr_t)out + new_len;
		pthread_mutex_unlock(&preload.iommu_maps.lock);
		return;
	}
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	if (out == old && new_len < old_len)
		preload_iommufd_munmap((const char *)old + new_len,
				       old_len - new_len);
	else if (out != old && !(flags & MREMAP_DONTUNMAP))
		preload_iommufd_munmap(old, old_len);
}

void preload_iommufd_maps_lock(void)
{
	pthread_mutex_lock(&preload.iommu_maps.lock);
}

void preload_iommufd_maps_unlock(void)
{
	pthread_mutex_unlock(&preload.iommu_maps.lock);
}

/*
 * A fork child: the records hold objects and contexts of its parent's,
 * whose image the child must leave alone (sio_iommufd_munmap()), so it
 * forgets them, leaking the copies as vfile_orphan_all() does; its
 * munmap() of a region inherited is then only an munmap().
 */
void preload_iommufd_maps_child(void)
{
	preload.iommu_maps.list = NULL;
	atomic_store(&preload.iommu_maps.nr, 0);
	pthread_mutex_init(&preload.iommu_maps.lock, NULL);
}

/*
 * The files iommufd's ioctls create (vEVENTQs): anonymous virtual files
 * whose read, write and poll are the library's, with the fd readable
 * exactly while records wait.
 */
static ssize_t eventq_read(struct sio_vfile *f, void *buf, size_t len)
{
	return sio_iommufd_file_read(sio_vfile_priv(f), buf, len);
}

static ssize_t eventq_write(struct sio_vfile *f, const void *buf, size_t len)
{
	return sio_iommufd_file_write(sio_vfile_priv(f), buf, len);
}

static void eventq_release(void *priv)
{
	sio_iommufd_file_set_notify(priv, NULL, NULL);
	sio_iommufd_file_release(priv);
}

static const struct sio_vfile_ops eventq_ops = {
	.name = "iommufd-eventq",
	.read = eventq_read,
	.write = eventq_write,
	.release = eventq_release,
	.pollable = true,
};

static void eventq_notify(void *arg, bool readable)
{
	sio_vfile_set_ready(arg, readable);
}

static int eventq_install(void *opaque, struct sio_iommufd_file *file,
			  const char *name)
{
	struct sio_vfile *f;
	int fd;

	(void)opaque, (void)name;
	fd = vfile_open_anon(&eventq_ops, file, O_RDWR | O_CLOEXEC, &f);
	if (fd < 0)
		return fd;
	sio_iommufd_file_set_notify(file, eventq_notify, f);
	vfile_put(f);
	return fd;
}

static void eventq_uninstall(void *opaque, int fd)
{
	(void)opaque;
	vfile_close(fd);
}

static const struct sio_iommufd_file_host eventq_host = {
	.install = eventq_install,
	.uninstall = eventq_uninstall,
};

static void iommu_release(void *priv)
{
	sio_iommufd_close(priv);
}

const struct sio_vfile_ops preload_iommufd_ops = {
	.name = "iommufd",
	.ioctl = iommu_ioctl,
	.mmap = iommu_mmap,
	.release = iommu_release,
};

static int iommu_open(void *ctx, int flags, const struct sio_vfile_ops **ops,
		      void **priv)
{
	struct sio_platform *p;
	struct sio_iommufd *fd;
	int rc;

	(void)ctx, (void)flags;
	rc = preload_platform(&p);
	if (!rc)
		rc = sio_iommufd_open(p, &fd);
	if (rc)
		return rc;
	sio_iommufd_set_file_host(fd, &eventq_host);
	*ops = &preload_iommufd_ops;
	*priv = fd;
	return 0;
}

/*
 * The nodes every interposed process has.  A new device node is one more
 * line here (e.g. /dev/vfio/devices/vfio0 with its own open).
 */
void preload_register_defaults(void)
{
	preload_register_node("/dev/iommu", 0666, IOMMU_RDEV, iommu_open, NULL);
	preload_register_vfio_nodes();
	preload_register_vfio_group_nodes();
}
