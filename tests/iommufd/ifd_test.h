/* SPDX-License-Identifier: MIT */
/*
 * The iommufd calls the iommufd suites share, on a library handle
 * (sio_iommufd_ioctl): object allocation and destruction, IOAS maps and
 * unmaps, paging HWPTs, and a device's DMA at its StreamID.  Each returns
 * what the ioctl returned (0 or -errno) unless it says otherwise.
 */
#ifndef SIO_TESTS_IOMMUFD_IFD_TEST_H
#define SIO_TESTS_IOMMUFD_IFD_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/iommufd.h>
#include <softiommu/smmu.h>

#include "uapi/iommufd_abi.h"

#define IFD_RW	     (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)
#define IFD_FIXED_RW (IFD_RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA)

/* A new IOAS's id (the allocation must succeed). */
static inline uint32_t ifd_ioas_alloc(struct sio_iommufd *fd)
{
	struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};

	assert_int_equal(sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	return c.out_ioas_id;
}

static inline int ifd_destroy(struct sio_iommufd *fd, uint32_t id)
{
	struct sio_iommu_destroy c = {.size = sizeof(c), .id = id};

	return sio_iommufd_ioctl(fd, SIO_IOMMU_DESTROY, &c);
}

/* IOAS_MAP with @flags; *@iova in, and out where the kernel chose it. */
static inline int ifd_map(struct sio_iommufd *fd, uint32_t ioas, uint32_t flags,
			  const void *va, uint64_t len, uint64_t *iova)
{
	struct sio_iommu_ioas_map c = {
		.size = sizeof(c),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_MAP, &c);

	*iova = c.iova;
	return rc;
}

/* IOAS_MAP read-write at a fixed IOVA. */
static inline int ifd_map_fixed(struct sio_iommufd *fd, uint32_t ioas,
				const void *va, uint64_t len, uint64_t iova)
{
	return ifd_map(fd, ioas, IFD_FIXED_RW, va, len, &iova);
}

/* IOAS_UNMAP; what it unmapped in *@done when @done is given. */
static inline int ifd_unmap(struct sio_iommufd *fd, uint32_t ioas,
			    uint64_t iova, uint64_t len, uint64_t *done)
{
	struct sio_iommu_ioas_unmap c = {
		.size = sizeof(c),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &c);

	if (done)
		*done = c.length;
	return rc;
}

/* A paging HWPT of device @dev_id on @pt_id; its id in *@out if given. */
static inline int ifd_hwpt_alloc(struct sio_iommufd *fd, uint32_t dev_id,
				 uint32_t pt_id, uint32_t flags, uint32_t *out)
{
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_HWPT_ALLOC, &c);

	if (!rc && out)
		*out = c.out_hwpt_id;
	return rc;
}

/* The device behind @sid reads (or, @write, writes) @len bytes at @iova. */
static inline int ifd_dma(struct sio_platform *p, uint32_t sid, uint64_t iova,
			  void *buf, size_t len, bool write)
{
	struct sio_smmu_txn txn = {
		.sid = sid, .addr = iova, .attr = write ? SIO_SMMU_WRITE : 0};
	size_t done;

	return sio_smmu_dma(sio_platform_smmu(p), &txn, buf, len, &done);
}

#endif /* SIO_TESTS_IOMMUFD_IFD_TEST_H */
