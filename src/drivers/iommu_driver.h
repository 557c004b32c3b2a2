/* SPDX-License-Identifier: MIT */
/*
 * The seam between iommufd and the IOMMU hardware, as the kernel's
 * iommu_ops / iommu_domain_ops are: iommufd asks a driver for paging
 * domains, attaches devices (by StreamID) to them and maps pinned pages
 * into them; the driver programs its hardware model.  The SMMUv3 driver
 * is the first implementation; the selftest mock driver and other IOMMU
 * models plug in here later.
 */
#ifndef SIO_DRIVERS_IOMMU_DRIVER_H
#define SIO_DRIVERS_IOMMU_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct sio_iommu_dev;
struct sio_iommu_domain;

/* Domain allocation flags (IOMMU_HWPT_ALLOC_* in meaning). */
#define SIO_DOMAIN_NEST_PARENT	  (1u << 0) /* a stage-2 domain */
#define SIO_DOMAIN_DIRTY_TRACKING (1u << 1)

/* Mapping permissions (the kernel's IOMMU_READ/WRITE/CACHE). */
#define SIO_IOMMU_READ	(1 << 0)
#define SIO_IOMMU_WRITE (1 << 1)
#define SIO_IOMMU_CACHE (1 << 2)

struct sio_iommu_domain_ops {
	/* Map [iova, iova + size) to [pa, ...); all or nothing. */
	int (*map)(struct sio_iommu_domain *d, uint64_t iova, uint64_t pa,
		   uint64_t size, int prot);
	/*
	 * Unmap, and invalidate the IOMMU's caches for the range before
	 * returning: when unmap returns no DMA can use the old mapping.
	 */
	int (*unmap)(struct sio_iommu_domain *d, uint64_t iova, uint64_t size,
		     uint64_t *unmapped);
	/* The output address of @iova, or -ENOENT. */
	int (*iova_to_phys)(struct sio_iommu_domain *d, uint64_t iova,
			    uint64_t *pa);
	void (*free)(struct sio_iommu_domain *d);
};

struct sio_iommu_domain {
	const struct sio_iommu_domain_ops *ops;
	struct sio_iommu_dev *iommu;
	uint64_t pgsize_bitmap;
	uint64_t aperture_start;
	uint64_t aperture_last;
	unsigned int flags; /* SIO_DOMAIN_* it was allocated with */
};

struct sio_iommu_ops {
	/* -EOPNOTSUPP for flags the hardware cannot honour. */
	int (*domain_alloc_paging)(struct sio_iommu_dev *iommu,
				   unsigned int flags,
				   struct sio_iommu_domain **out);
	/* Point the device's StreamID at @d (replacing what it had). */
	int (*attach_dev)(struct sio_iommu_domain *d, uint32_t sid);
	/* Block all DMA of the StreamID (the kernel's blocked domain). */
	int (*block_dev)(struct sio_iommu_dev *iommu, uint32_t sid);
	/*
	 * The hardware-info blob (IOMMU_GET_HW_INFO): its type, and up to
	 * @len bytes of it in @data; returns the blob's full length.
	 */
	size_t (*hw_info)(struct sio_iommu_dev *iommu, void *data, size_t len,
			  uint32_t *type);
	void (*remove)(struct sio_iommu_dev *iommu);
};

struct sio_iommu_dev {
	const struct sio_iommu_ops *ops;
};

#endif /* SIO_DRIVERS_IOMMU_DRIVER_H */
