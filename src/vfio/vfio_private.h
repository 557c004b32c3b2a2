/* SPDX-License-Identifier: MIT */
/*
 * The vfio layer's private interface: an emulated PCI function exposed
 * through the VFIO device-fd ioctls, pread/pwrite and mmap, as vfio-pci
 * exposes a real one; and the seam to iommufd for BIND/ATTACH/DETACH.
 * One sio_vfio_pci_dev is one device with one open cdev file.
 */
#ifndef SIO_VFIO_PRIVATE_H
#define SIO_VFIO_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "devices/dma.h"
#include "iommufd/iommufd_private.h"

struct sio_vfio_pci_dev;

/* The emulated function behind BAR0 (a 64-bit memory BAR). */
struct sio_vfio_pci_ops {
	uint64_t (*bar_read)(void *dev, uint64_t off, unsigned int size);
	void (*bar_write)(void *dev, uint64_t off, unsigned int size,
			  uint64_t val);
	int (*bar_memfd)(void *dev); /* BAR0 memory for mmap, or -errno */
	void (*flr)(void *dev);	     /* function-level reset */
	void (*bus_master)(void *dev, bool on);
};

/* A device-specific config register past the capabilities. */
struct sio_vfio_pci_reg {
	uint16_t off;
	uint32_t wmask; /* writable bits */
	uint32_t w1c;	/* write-1-to-clear bits */
};

struct sio_vfio_pci_id {
	uint16_t vendor, device;
	uint8_t revision;
	uint32_t class_code;
	uint32_t bar0_size; /* a power of two */
	uint16_t msix_count;
	uint32_t msix_table, msix_pba; /* offsets in BAR0 */
	const struct sio_vfio_pci_reg *regs;
	unsigned int nr_regs;
	/*
	 * Extended capabilities: PASID (Max PASID Width, 0: none), ATS.
	 * The IOMMU's probe of the function reads the same ones.
	 */
	struct sio_iommu_pci_caps caps;
};

/*
 * iommufd's side of the cdev binding, implemented in iommufd.  Each gets
 * the arguments already checked as drivers/vfio/device_cdev.c checks
 * them and returns 0 or the kernel's -errno (bind: -EBADF for a bad fd,
 * -EBADFD for one that is not an iommufd; attach: -ENOENT, ...).
 */
struct sio_vfio_iommufd_hooks {
	int (*bind)(void *ctx, struct sio_vfio_pci_dev *dev, int iommufd,
		    uint32_t *out_devid);
	void (*unbind)(void *ctx, struct sio_vfio_pci_dev *dev);
	int (*attach)(void *ctx, struct sio_vfio_pci_dev *dev, uint32_t *pt_id);
	void (*detach)(void *ctx, struct sio_vfio_pci_dev *dev);
	/*
	 * A PASID of the device, as vfio_iommufd_physical_pasid_attach_ioas()
	 * and _detach_ioas(): attaching an attached PASID replaces its
	 * HWPT.  NULL: the device has no PASID ops (EOPNOTSUPP).
	 */
	int (*pasid_attach)(void *ctx, struct sio_vfio_pci_dev *dev,
			    uint32_t pasid, uint32_t *pt_id);
	void (*pasid_detach)(void *ctx, struct sio_vfio_pci_dev *dev,
			     uint32_t pasid);
};

#define SIO_VFIO_CFG_SIZE 4096 /* PCI Express extended config space */

struct sio_vfio_pci_dev {
	const struct sio_vfio_pci_id *id;
	const struct sio_vfio_pci_ops *ops;
	void *dev;
	const struct sio_vfio_iommufd_hooks *hooks;
	void *hooks_ctx;

	pthread_mutex_t lock; /* bound, config space */
	bool bound;
	uint8_t cfg[SIO_VFIO_CFG_SIZE];
	uint8_t wmask[SIO_VFIO_CFG_SIZE];
	uint8_t w1c[SIO_VFIO_CFG_SIZE];

	pthread_mutex_t irq_lock; /* below; taken from the device thread */
	int irq_type;	/* -1 none, or the enabled SIO_VFIO_PCI_*_IRQ_INDEX */
	int msix_fd[8]; /* dup'ed eventfds, -1 when none */
	int err_fd, req_fd;
	bool msix_on; /* MSI-X Enable, atomic */
	/*
	 * Opened through a group (VFIO_GROUP_GET_DEVICE_FD): usable at once,
	 * its iommu the group's business, so no cdev BIND/ATTACH/DETACH.
	 */
	bool group_open;
};

int sio_vfio_pci_create(const struct sio_vfio_pci_id *id,
			const struct sio_vfio_pci_ops *ops, void *dev,
			const struct sio_vfio_iommufd_hooks *hooks,
			void *hooks_ctx, struct sio_vfio_pci_dev **out);
/* The file's release: unbinds, drops eventfds. */
void sio_vfio_pci_destroy(struct sio_vfio_pci_dev *vdev);
/*
 * The last close of the device fd (vfio_pci_core_close_device()):
 * interrupts torn down, the iommufd binding undone, bus mastering off
 * and a function-level reset, so the next open starts clean.
 */
void sio_vfio_pci_release(struct sio_vfio_pci_dev *vdev);

/* The device fd a group hands out: bound from the start (group_open). */
void sio_vfio_pci_open_group(struct sio_vfio_pci_dev *vdev);
/* A device-fd ioctl with the program's argument pointer: 0 or -errno. */
int sio_vfio_pci_ioctl(struct sio_vfio_pci_dev *vdev, unsigned long cmd,
		       void *arg);
/* pread/pwrite at a region offset (index << 40): bytes, or -errno. */
ssize_t sio_vfio_pci_pread(struct sio_vfio_pci_dev *vdev, void *buf,
			   size_t count, uint64_t off);
ssize_t sio_vfio_pci_pwrite(struct sio_vfio_pci_dev *vdev, const void *buf,
			    size_t count, uint64_t off);
/*
 * A store of @size bytes (1, 2, 4, 8) at region offset @off by the CPU
 * through a mapping of the region (trapped, src/uapi/mmio_trap.c): as a
 * pwrite of it, from a buffer of ours.  0 or -errno.
 */
int sio_vfio_pci_mmio_store(struct sio_vfio_pci_dev *vdev, uint64_t off,
			    unsigned int size, uint64_t val);
/*
 * mmap of @len bytes at region offset @off, MAP_SHARED or not: the fd
 * and offset the interposer maps instead, or -errno.
 */
int sio_vfio_pci_mmap(struct sio_vfio_pci_dev *vdev, uint64_t off, uint64_t len,
		      bool shared, int *fd, uint64_t *fd_off);
/* The function raises MSI-X @vector. */
void sio_vfio_pci_msix(struct sio_vfio_pci_dev *vdev, unsigned int vector);

/* pci_config.c */
void vfio_pci_config_init(struct sio_vfio_pci_dev *vdev);
ssize_t vfio_pci_config_rw(struct sio_vfio_pci_dev *vdev, uint8_t *buf,
			   size_t count, uint64_t pos, bool write);
bool vfio_pci_memory_enabled(struct sio_vfio_pci_dev *vdev);

/* What pci-sysfs.c shows of a function: the IDs of its config header. */
struct vfio_pci_ids {
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem_device;
	uint32_t class_code; /* base, sub-class, prog-if: 24 bits */
	uint8_t revision;
};
void vfio_pci_config_ids(struct sio_vfio_pci_dev *vdev,
			 struct vfio_pci_ids *out);
void vfio_pci_msix_set_enable(struct sio_vfio_pci_dev *vdev, bool on);

/* pci_irq.c */
unsigned int vfio_pci_irq_count(struct sio_vfio_pci_dev *vdev,
				unsigned int index);
int vfio_pci_set_irqs(struct sio_vfio_pci_dev *vdev, void *arg);
void vfio_pci_irq_release(struct sio_vfio_pci_dev *vdev);

/* The I/OAT function (ioat_pci.c). */
struct sio_vfio_ioat;
int sio_vfio_ioat_create(const struct sio_dma_port *dma,
			 const struct sio_vfio_iommufd_hooks *hooks,
			 void *hooks_ctx, struct sio_vfio_ioat **out);
void sio_vfio_ioat_destroy(struct sio_vfio_ioat *v);
struct sio_vfio_pci_dev *sio_vfio_ioat_pci(struct sio_vfio_ioat *v);
/* What its config space offers the IOMMU, known before one exists. */
const struct sio_iommu_pci_caps *sio_vfio_ioat_pci_caps(void);

/* ------------------------------------------- vfio_iommu_type1.c */

/*
 * A type1 IOMMU (the container's once VFIO_SET_IOMMU chose it): one IOAS
 * in the container's private iommufd context and type1's own record of
 * the mappings, interval tree of struct vfio_dma.  Under lock.
 */
struct vfio_iommu {
	pthread_mutex_t lock;
	struct iommufd_ctx *ictx;
	struct iommufd_ioas *ioas;
	struct sio_itree dmas;
	unsigned int dma_avail; /* entries left of dma_entry_limit */
	unsigned int vaddr_invalid_count;
	uint64_t pgsize_bitmap;
	bool v2;
	bool dirty_tracking;
};

/* The type1 driver's answer; @iommu NULL before SET_IOMMU. */
int vfio_iommu_type1_check_extension(struct vfio_iommu *iommu, uint64_t arg);
/* The driver's open(): -EINVAL for a type it does not take. */
int vfio_iommu_type1_open(uint64_t arg, struct iommufd_ctx *ictx,
			  unsigned int dma_entry_limit,
			  struct vfio_iommu **out);
void vfio_iommu_type1_release(struct vfio_iommu *iommu);
int vfio_iommu_type1_attach_group(struct vfio_iommu *iommu,
				  struct iommufd_device *idev);
void vfio_iommu_type1_detach_group(struct vfio_iommu *iommu,
				   struct iommufd_device *idev);
long vfio_iommu_type1_ioctl(struct vfio_iommu *iommu, unsigned int cmd,
			    uint64_t arg);

/* --------------------------------------------------- container.c */

/* type1's dma_entry_limit module parameter's default (U16_MAX) */
#define VFIO_DMA_ENTRY_LIMIT_DEFAULT 65535u

/*
 * One open of /dev/vfio/vfio.  Its groups' devices are bound to a
 * private iommufd context (that is their DMA ownership); the IOMMU
 * driver exists from SET_IOMMU until the last group leaves.  Alive while
 * the file or a group holds it.
 */
struct vfio_container {
	atomic_uint refs;
	pthread_rwlock_t lock; /* groups, iommu; read for the iommu's ioctls */
	struct iommufd_ctx *ictx;
	struct iommufd_list groups;
	struct vfio_iommu *iommu;
	unsigned int dma_entry_limit;
};

int vfio_container_create(struct iommufd_host *host,
			  unsigned int dma_entry_limit,
			  struct vfio_container **out);
void vfio_container_get(struct vfio_container *c);
void vfio_container_put(struct vfio_container *c);
/* An ioctl on the container fd: a result >= 0 or -errno. */
long vfio_container_ioctl(struct vfio_container *c, unsigned int cmd,
			  uint64_t arg);

struct vfio_group;
/* The group joins (claims its device's DMA) and leaves; group lock held. */
int vfio_container_attach_group(struct vfio_container *c, struct vfio_group *g);
void vfio_container_detach_group(struct vfio_group *g);

/* ------------------------------------------------------- group.c */

/*
 * An IOMMU group, /dev/vfio/N: here one device each.  Opened once at a
 * time; while open it may sit in a type1 container or on an iommufd
 * (the compat path), not both.  Under lock.
 */
struct vfio_group {
	pthread_mutex_t lock;
	unsigned int id;
	const char *dev_name; /* the PCI name GET_DEVICE_FD matches */
	struct iommufd_dev_desc *desc;
	bool opened;
	struct vfio_container *container;
	struct iommufd_device *idev; /* bound in the container's context */
	struct iommufd_list container_item;
	unsigned int container_users; /* 1 + open device fds */
	struct iommufd_ctx *iommufd;
};

void vfio_group_init(struct vfio_group *g, unsigned int id,
		     const char *dev_name, struct iommufd_dev_desc *desc);
void vfio_group_destroy(struct vfio_group *g);
/* open(): -EBUSY while open already. */
int vfio_group_open(struct vfio_group *g);
/* The last close: leaves its container or iommufd. */
void vfio_group_release(struct vfio_group *g);
int vfio_group_get_status(struct vfio_group *g, uint64_t arg);
/*
 * VFIO_GROUP_SET_CONTAINER with the fd resolved: a container, an
 * iommufd context (referenced; the group keeps it), or neither (-EBADFD
 * once the group's own checks pass).
 */
int vfio_group_set_container(struct vfio_group *g, struct vfio_container *c,
			     struct iommufd_ctx *ictx);
int vfio_group_unset_container(struct vfio_group *g);
/*
 * GET_DEVICE_FD's checks for device @name: -ENODEV for a name not in the
 * group, -EINVAL without a container with an IOMMU or an iommufd.  On
 * success a device user is counted; *@ictx is the iommufd to bind the
 * device to (compat path), NULL for a type1 container.
 */
int vfio_group_device_open(struct vfio_group *g, const char *name,
			   struct iommufd_ctx **ictx);
void vfio_group_device_close(struct vfio_group *g);

#endif /* SIO_VFIO_PRIVATE_H */
