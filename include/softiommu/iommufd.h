/* SPDX-License-Identifier: MIT */
/*
 * softiommu: the platform and iommufd without the interposer.
 *
 * A platform is the machine the stack runs on: the memory bus (mem.h),
 * one SMMUv3 (smmu.h) brought up by the SMMUv3 driver, devices as they
 * join, plus the per-user and
 * per-process pin accounting the kernel keeps in user_struct and mm.
 * An iommufd handle is one open of /dev/iommu on it: its ioctls take the
 * same numbers and structs as Linux's (linux/iommufd.h) and return the
 * errno Linux returns, negated.
 */
#ifndef SOFTIOMMU_IOMMUFD_H
#define SOFTIOMMU_IOMMUFD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <softiommu/common.h>
#include <softiommu/mem.h>
#include <softiommu/smmu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sio_platform;
struct sio_iommufd;

/* Capabilities the kernel consults (bit numbers as in linux/capability.h) */
#define SIO_CAP_IPC_LOCK (1u << 0) /* CAP_IPC_LOCK: pins are not counted */
#define SIO_CAP_SYS_RESOURCE \
	(1u << 1) /* CAP_SYS_RESOURCE: may set RLIMIT_MODE */

/*
 * Create the default platform.  Its capabilities start as the process's
 * own (capget).  Returns 0, -ENOMEM.
 */
SIO_API int sio_platform_create(struct sio_platform **out);
/* Destroy a platform; every iommufd handle on it must be closed. */
SIO_API void sio_platform_destroy(struct sio_platform *p);
SIO_API struct sio_mem_bus *sio_platform_bus(struct sio_platform *p);
/*
 * The platform's SMMUv3 model, already brought up by its driver (stream
 * table, queues, SMMUEN): for device DMA (sio_smmu_dma) and inspection.
 */
SIO_API struct sio_smmu *sio_platform_smmu(struct sio_platform *p);
/* Replace the capabilities iommufd sees (SIO_CAP_*), e.g. to test limits. */
SIO_API void sio_platform_set_caps(struct sio_platform *p, unsigned int caps);
/*
 * Selftest mode, as a kernel built with CONFIG_IOMMUFD_TEST: the kernel's
 * selftest mock IOMMU joins the platform, and iommufd contexts opened from
 * now on answer IOMMU_TEST_CMD (mock devices, domain inspection), so the
 * kernel's tools/testing/selftests/iommu programs run.  Call it before
 * opening the contexts that need it; 0 or -ENOMEM.  Off by default.
 */
SIO_API int sio_platform_enable_selftest(struct sio_platform *p);

/*
 * Pinned memory, in pages of the host's size, as the kernel counts it:
 * user_locked is user_struct->locked_vm (RLIMIT_MODE 0), mm_locked and
 * mm_pinned are mm->locked_vm and mm->pinned_vm (RLIMIT_MODE 1, VFIO's
 * way).  Pins by a process with CAP_IPC_LOCK are not counted.
 */
struct sio_pin_stats {
	uint64_t user_locked;
	uint64_t mm_locked;
	uint64_t mm_pinned;
};
SIO_API void sio_platform_pin_stats(struct sio_platform *p,
				    struct sio_pin_stats *st);

/*
 * The program is about to unmap, move or discard [@addr, @addr + @len) of
 * its address space: munmap, mremap, mmap with MAP_FIXED over it,
 * madvise MADV_DONTNEED/FREE/REMOVE, shmdt, or mprotect taking access
 * away.  On Linux the pages pinned for DMA would outlive the program's
 * mapping and DMA would go on reaching them; here they are the program's
 * own, so the IOAS mappings of user memory in that range stop reaching
 * memory at all: a DMA to them aborts as at a target that is not there
 * (for the SMMUv3 a completer abort, not a translation fault), until the
 * IOAS mapping is unmapped and the memory mapped again.  What else the
 * mappings cover keeps working undisturbed.  Returns once no DMA can
 * still be using the range, so the caller may then change it.
 *
 * The interposer calls this for every such call of the program.  A VMM
 * that embeds the library calls it itself before it changes memory it
 * has mapped for DMA; without the call, DMA to memory it unmapped would
 * crash the process.
 */
SIO_API void sio_platform_user_unmap(struct sio_platform *p, const void *addr,
				     size_t len);
/*
 * The same for a change that takes only write access away (mprotect
 * without PROT_WRITE): the mappings that let devices write there stop
 * reaching it, read-only ones keep working.
 */
SIO_API void sio_platform_user_unwrite(struct sio_platform *p, const void *addr,
				       size_t len);

/* Open /dev/iommu on @p.  Returns 0, -ENOMEM. */
SIO_API int sio_iommufd_open(struct sio_platform *p, struct sio_iommufd **out);
/* Close: every object of the handle is destroyed, every pin released. */
SIO_API void sio_iommufd_close(struct sio_iommufd *fd);
/*
 * ioctl(2) on the handle: @cmd and @arg as a program passes them to the
 * kernel.  Returns 0 (or the ioctl's non-negative result) or -errno.
 * @arg is read and written as user memory: a bad pointer is -EFAULT.
 */
SIO_API int sio_iommufd_ioctl(struct sio_iommufd *fd, unsigned long cmd,
			      void *arg);

/*
 * mmap(2) of the handle, the kernel's iommufd_fops_mmap() after its
 * checks of the mapping's flags (MAP_SHARED, no PROT_EXEC: the caller's):
 * the region an ioctl handed out at @offset (the mock vIOMMU's page),
 * exactly @length long, else -ENXIO.  Gives the shared file whose bytes
 * from 0 to map in @memfd (open while @out lives) and a handle the
 * mapping holds until its munmap: the region's object cannot be
 * destroyed (EBUSY) until sio_iommufd_munmap() releases it.
 */
struct sio_iommufd_mapping;

SIO_API int sio_iommufd_mmap(struct sio_iommufd *fd, uint64_t offset,
			     uint64_t length, int *memfd,
			     struct sio_iommufd_mapping **out);
SIO_API void sio_iommufd_munmap(struct sio_iommufd_mapping *m);

/*
 * Files an ioctl creates: IOMMU_VEVENTQ_ALLOC and IOMMU_FAULT_QUEUE_ALLOC
 * return an fd whose read(2) gives the queue's records and whose
 * poll(2) says when there are some, as the kernel's anonymous inodes.
 *
 * A program that embeds the library gets, by default, an eventfd as that
 * fd: readable (its counter non-zero) while records wait, to poll or
 * epoll beside its other fds; it reads the records with
 * sio_iommufd_eventq_read() by the queue's object id, and closes the fd
 * itself (the queue's IOMMU_DESTROY does not wait for that).
 *
 * An interposer that presents the uAPI as files instead sets a file host:
 * install() gives @file an fd number of its own (O_RDWR, O_CLOEXEC) and
 * then answers read/write/poll on it through sio_iommufd_file_*().  The
 * file holds the queue (IOMMU_DESTROY of it is EBUSY, as in the kernel)
 * and the handle until the host calls sio_iommufd_file_release() at its
 * last close.  uninstall() takes back an fd number install() gave when
 * the ioctl fails after all (the file is then released by the library).
 */
struct sio_iommufd_file;

struct sio_iommufd_file_host {
	/* The fd number, or -errno; @name is the kernel's inode name. */
	int (*install)(void *opaque, struct sio_iommufd_file *file,
		       const char *name);
	void (*uninstall)(void *opaque, int fd);
	void *opaque;
};

/* Set before the first ioctl that creates a file. */
SIO_API void
sio_iommufd_set_file_host(struct sio_iommufd *fd,
			  const struct sio_iommufd_file_host *host);

/*
 * read(2) and write(2) on the file: @buf is user memory (a bad pointer
 * is -EFAULT).  The byte count or -errno, with the kernel's rules: whole
 * records only, a record that does not fit stays for the next read.
 */
SIO_API ssize_t sio_iommufd_file_read(struct sio_iommufd_file *file, void *buf,
				      size_t len);
SIO_API ssize_t sio_iommufd_file_write(struct sio_iommufd_file *file,
				       const void *buf, size_t len);
/* poll(2): POLLIN | POLLRDNORM while records wait (and POLLOUT if any). */
SIO_API unsigned int sio_iommufd_file_poll(struct sio_iommufd_file *file);
/*
 * Call @fn (with the file's lock held: it must not call back into the
 * file) whenever the file may have become readable or stopped being so;
 * once at once with the present state.  NULL stops the calls.
 */
SIO_API void sio_iommufd_file_set_notify(struct sio_iommufd_file *file,
					 void (*fn)(void *arg, bool readable),
					 void *arg);
SIO_API void sio_iommufd_file_release(struct sio_iommufd_file *file);

/*
 * Without a file host: read(2) and write(2) of the event queue object
 * @eventq_id of the handle (a vEVENTQ or a fault queue).  -ENOENT if
 * there is no such queue.
 */
SIO_API ssize_t sio_iommufd_eventq_read(struct sio_iommufd *fd,
					uint32_t eventq_id, void *buf,
					size_t len);
SIO_API ssize_t sio_iommufd_eventq_write(struct sio_iommufd *fd,
					 uint32_t eventq_id, const void *buf,
					 size_t len);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_IOMMUFD_H */
