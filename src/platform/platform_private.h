/* SPDX-License-Identifier: MIT */
/*
 * The platform's private interface: what the device and VFIO layers (and
 * white-box tests) reach beneath the public sio_platform handle.
 */
#ifndef SIO_PLATFORM_PRIVATE_H
#define SIO_PLATFORM_PRIVATE_H

#include <softiommu/iommufd.h>

#include "drivers/smmuv3/arm_smmu_v3.h"
#include "iommufd/iommufd_private.h"

#define SIO_PLATFORM_MAX_DEVS 8

/* A device on the platform: its PCI name and where its DMA goes. */
struct platform_device {
	char name[16]; /* "0000:00:04.0" */
	uint32_t sid;
	struct iommufd_dev_desc desc;
};

/* The default platform: one SMMUv3 (every feature the model has). */
struct sio_platform {
	struct sio_mem_bus *bus;
	struct sio_smmu *smmu;
	struct arm_smmu_device *smmu_drv;
	struct iommufd_host host;
	struct platform_device devs[SIO_PLATFORM_MAX_DEVS];
	unsigned int nr_devs;
};

struct sio_iommufd {
	struct iommufd_ctx *ictx;
};

/* The device called @name ("0000:00:04.0"), or NULL. */
struct platform_device *platform_find_device(struct sio_platform *p,
					     const char *name);

#endif /* SIO_PLATFORM_PRIVATE_H */
