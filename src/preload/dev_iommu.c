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
 * holds the file: sio_iommufd_mmap()'s mapping holds both, so a close()
 * of the fd before the munmap leaves the context to it.
 *
 * The records follow the kernel's vmas: a record is one piece of what is
 * still mapped, and the pieces of one mmap() share its hold, which the
 * last piece's unmap lets go.  A hole cut from the middle splits a
 * record, as the kernel splits the vma (vm_ops->open holding the object
 * for the new piece); a piece moved by mremap goes with its record.  A
 * split or a move that finds no memory for its record leaves the range
 * as it was recorded: held longer, never let go while still mapped.
 */
struct iommu_hold {
	struct sio_iommufd_mapping *m; /* NULL in a fork child: the parent's */
	unsigned int pieces;	       /* the records sharing it; under lock */
};

struct iommu_mapping {
	struct iommu_mapping *next;
	uintptr_t lo, hi;
	struct iommu_hold *h;
};

/* Under the lock. */
static void record_add(struct iommu_mapping *im)
{
	im->next = preload.iommu_maps.list;
	preload.iommu_maps.list = im;
	atomic_fetch_add(&preload.iommu_maps.nr, 1);
}

static int iommu_mmap(struct sio_vfile *f, void *addr, size_t len, int prot,
		      int flags, off_t off, void **out)
{
	struct iommu_mapping *im;
	struct iommu_hold *h;
	int memfd, rc;
	void *p;

	if ((flags & MAP_TYPE) == MAP_PRIVATE)
		return -EINVAL;
	if (prot & PROT_EXEC)
		return -EPERM;
	if (off < 0)
		return -ENXIO;
	im = sio_calloc(1, sizeof(*im));
	h = sio_calloc(1, sizeof(*h));
	if (!im || !h) {
		free(im);
		free(h);
		return -ENOMEM;
	}
	rc = sio_iommufd_mmap(sio_vfile_priv(f), (uint64_t)off, len, &memfd,
			      &h->m);
	if (rc) {
		free(im);
		free(h);
		return rc;
	}
	p = preload.real.mmap(addr, len, prot, flags, memfd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		sio_iommufd_munmap(h->m);
		free(im);
		free(h);
		return rc;
	}
	h->pieces = 1;
	im->h = h;
	im->lo = (uintptr_t)p;
	im->hi = (uintptr_t)p + len;
	pthread_mutex_lock(&preload.iommu_maps.lock);
	record_add(im);
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	*out = p;
	return 0;
}

/* @len in whole pages, as munmap() and mremap() take their lengths. */
static size_t page_up(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return len > SIZE_MAX - (pg - 1) ? 0 : (len + pg - 1) & ~(pg - 1);
}

/*
 * Take [a, b) out of the records, under the lock: a record inside it
 * goes (its hold into @gone once no piece is left), one that it cuts in
 * two gets *@spare for its second piece (or, without one, stays whole),
 * the others lose an end.  False when @gone filled up first: release
 * those holds and call again.
 */
static bool carve(uintptr_t a, uintptr_t b, struct iommu_mapping **spare,
		  struct iommu_hold **gone, size_t *ngone, size_t cap)
{
	struct iommu_mapping **pp = &preload.iommu_maps.list;

	while (*pp) {
		struct iommu_mapping *im = *pp;

		if (b <= im->lo || a >= im->hi) {
			pp = &im->next;
		} else if (a <= im->lo && b >= im->hi) {
			if (*ngone == cap)
				return false;
			*pp = im->next;
			atomic_fetch_sub(&preload.iommu_maps.nr, 1);
			if (!--im->h->pieces)
				gone[(*ngone)++] = im->h;
			free(im);
		} else if (a > im->lo && b < im->hi) {
			if (*spare) {
				**spare = (struct iommu_mapping){
					.lo = b, .hi = im->hi, .h = im->h};
				im->h->pieces++;
				im->hi = a;
				record_add(*spare);
				*spare = NULL;
			}
			return true; /* no other record overlaps this one */
		} else {
			if (a <= im->lo)
				im->lo = b;
			else
				im->hi = a;
			pp = &im->next;
		}
	}
	return true;
}

/* Outside the lock: the holds whose last piece went let go. */
static void holds_release(struct iommu_hold **gone, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (gone[i]->m)
			sio_iommufd_munmap(gone[i]->m);
		free(gone[i]);
	}
}

#define GONE_BATCH 16

/*
 * carve() all of [a, b), the lock held on entry and on return, left
 * only to let go of holds a batch at a time.
 */
static void carve_all(uintptr_t a, uintptr_t b, struct iommu_mapping **spare)
{
	struct iommu_hold *gone[GONE_BATCH];
	size_t n = 0;

	while (!carve(a, b, spare, gone, &n, GONE_BATCH)) {
		pthread_mutex_unlock(&preload.iommu_maps.lock);
		holds_release(gone, n);
		n = 0;
		pthread_mutex_lock(&preload.iommu_maps.lock);
	}
	if (n) {
		pthread_mutex_unlock(&preload.iommu_maps.lock);
		holds_release(gone, n);
		pthread_mutex_lock(&preload.iommu_maps.lock);
	}
}

void preload_iommufd_munmap(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr, b;
	struct iommu_mapping *spare;

	len = page_up(len);
	if (!atomic_load(&preload.iommu_maps.nr) || !len)
		return;
	b = a + len < a ? UINTPTR_MAX : a + len;
	spare = sio_malloc(sizeof(*spare));
	pthread_mutex_lock(&preload.iommu_maps.lock);
	carve_all(a, b, &spare);
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	free(spare);
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
 * Whether the kernel's mremap() would get past its checks of the
 * arguments alone (which fail with EINVAL before it looks at the vma):
 * when not, the real call answers.
 */
static bool mremap_args_ok(uintptr_t a, size_t old_len, size_t new_len,
			   int flags, uintptr_t to)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (a % pg || !new_len ||
	    (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) ||
	    ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) &&
	     !(flags & MREMAP_MAYMOVE)) ||
	    ((flags & MREMAP_DONTUNMAP) && old_len != new_len))
		return false;
	if (!(flags & MREMAP_FIXED))
		return true;
	/* a fixed target: aligned, and apart from the old range */
	return !(to % pg) && to + new_len > to &&
	       (to + new_len <= a || to >= a + old_len);
}

/*
 * The kernel maps a region with io_remap_pfn_range(), a VM_PFNMAP |
 * VM_DONTEXPAND vma, which mremap() will not grow (EFAULT; a duplicate,
 * old size 0, grows too) nor leave behind (MREMAP_DONTUNMAP: EINVAL).
 * Shrinking and moving it are allowed.
 */
int preload_iommufd_mremap_check(const void *old, size_t old_len,
				 size_t new_len, int flags, const void *to,
				 struct iommu_hold **hold)
{
	uintptr_t a = (uintptr_t)old;
	struct iommu_mapping *im;
	int rc = 0;

	*hold = NULL;
	if (!atomic_load(&preload.iommu_maps.nr))
		return 0;
	old_len = page_up(old_len);
	new_len = page_up(new_len);
	if (!mremap_args_ok(a, old_len, new_len, flags, (uintptr_t)to))
		return 0;
	pthread_mutex_lock(&preload.iommu_maps.lock);
	im = mapping_at(a);
	if (im && (flags & MREMAP_DONTUNMAP))
		rc = -EINVAL;
	else if (im && new_len > old_len)
		rc = -EFAULT;
	else if (im)
		*hold = im->h;
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	return rc;
}

void preload_iommufd_mremapped(const void *old, size_t old_len, const void *out,
			       size_t new_len, struct iommu_hold *hold)
{
	uintptr_t a = (uintptr_t)old, to = (uintptr_t)out;
	struct iommu_mapping *moved, *spare, *im;

	if (!hold)
		return;
	old_len = page_up(old_len);
	new_len = page_up(new_len);
	if (to == a) {
		/* shrunk in place: the tail is unmapped */
		if (new_len < old_len)
			preload_iommufd_munmap((const char *)old + new_len,
					       old_len - new_len);
		return;
	}
	moved = sio_malloc(sizeof(*moved));
	spare = sio_malloc(sizeof(*spare));
	pthread_mutex_lock(&preload.iommu_maps.lock);
	im = mapping_at(a);
	/* the piece checked, not one another thread has mapped there since */
	if (moved && spare && im && im->h == hold) {
		*moved = (struct iommu_mapping){
			.lo = to, .hi = to + new_len, .h = hold};
		hold->pieces++;
		record_add(moved);
		moved = NULL;
		carve_all(a, a + old_len, &spare);
	}
	pthread_mutex_unlock(&preload.iommu_maps.lock);
	free(moved);
	free(spare);
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
 * A fork child: the holds are of its parent's objects and contexts,
 * whose image the child must leave alone (sio_iommufd_munmap()), so its
 * copies hold nothing; the records stay, for mremap()'s checks, and its
 * munmap() of a region inherited is then only an munmap().
 */
void preload_iommufd_maps_child(void)
{
	for (struct iommu_mapping *im = preload.iommu_maps.list; im;
	     im = im->next)
		im->h->m = NULL;
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
