/* SPDX-License-Identifier: MIT */
/*
 * The platform's private interface: what the device and VFIO layers (and
 * white-box tests) reach beneath the public sio_platform handle.
 */
#ifndef SIO_PLATFORM_PRIVATE_H
#define SIO_PLATFORM_PRIVATE_H

#include <stdio.h>

#include <softiommu/iommufd.h>

#include "devices/dma.h"
#include "drivers/smmuv3/arm_smmu_v3.h"
#include "iommufd/iommufd_private.h"
#include "vfio/vfio_private.h"

#define SIO_PLATFORM_MAX_DEVS 8
/* the default platform's devices (known before one exists: device nodes) */
#define PLATFORM_DEFAULT_NR_DEVS 2

/*
 * Turns a program's fd number into the iommufd context behind it, with
 * a reference (iommufd_ctx_get); -EBADF if the fd is not open, -EBADFD
 * if it is not an iommufd.  The interposer installs one; without it no
 * fd names an iommufd.
 */
typedef int (*platform_iommufd_resolver)(int fd, struct iommufd_ctx **out);

struct sio_platform;

/* A device on the platform: its PCI name, where its DMA goes, its VFIO face. */
struct platform_device {
	struct sio_platform *plat;
	char name[16]; /* "0000:00:04.0" */
	uint32_t sid;
	struct iommufd_dev_desc desc;
	struct sio_dma_smmu dma;
	struct sio_vfio_ioat *vioat;
	atomic_bool open;	     /* one open device fd at a time */
	struct iommufd_device *idev; /* while bound */
	bool attached;
	/* PASID 0 attached through VFIO's PASID flag: the RID (iommufd.c) */
	bool pasid0;
	struct vfio_group group; /* its IOMMU group, /dev/vfio/<index> */
};

/* The default platform: one SMMUv3 (every feature the model has). */
struct sio_platform {
	struct sio_mem_bus *bus;
	struct sio_smmu *smmu;
	struct arm_smmu_device *smmu_drv;
	struct iommufd_host host;
	struct platform_device devs[SIO_PLATFORM_MAX_DEVS];
	unsigned int nr_devs;
	_Atomic(platform_iommufd_resolver) resolve_iommufd;
	FILE *event_log;
};

struct sio_iommufd {
	struct iommufd_ctx *ictx;
};

/* The device called @name ("0000:00:04.0"), or NULL. */
struct platform_device *platform_find_device(struct sio_platform *p,
					     const char *name);
void platform_set_iommufd_resolver(struct sio_platform *p,
				   platform_iommufd_resolver fn);
/* The context behind an iommufd handle (for resolvers). */
struct iommufd_ctx *platform_iommufd_ctx(struct sio_iommufd *fd);

/*
 * Open the device's VFIO file (the cdev /dev/vfio/devices/vfioN): -EBUSY
 * while it is open already.  Close undoes everything the program did.
 */
int platform_device_open(struct platform_device *d,
			 struct sio_vfio_pci_dev **out);
void platform_device_close(struct platform_device *d);
/*
 * VFIO_GROUP_GET_DEVICE_FD of @name in @d's group: the group's checks,
 * then the device opened as the cdev is (-EBUSY while that is open), on
 * an iommufd bound and attached to the compat IOAS.  Close undoes it.
 */
int platform_group_open_device(struct platform_device *d, const char *name,
			       struct sio_vfio_pci_dev **out);
void platform_group_close_device(struct platform_device *d);

/* event_log.c: write the SMMU's event records to @f as they arrive. */
int platform_log_events(struct sio_platform *p, FILE *f);

/* vfio_iommufd.c: the device's iommufd binding, as drivers/vfio/iommufd.c */
extern const struct sio_vfio_iommufd_hooks platform_vfio_iommufd_hooks;

#endif /* SIO_PLATFORM_PRIVATE_H */
