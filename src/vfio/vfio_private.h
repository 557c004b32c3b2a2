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

#endif /* SIO_VFIO_PRIVATE_H */
