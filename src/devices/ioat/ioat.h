/* SPDX-License-Identifier: MIT */
/*
 * The Intel I/OAT DMA engine model (CBDMA 3.2, Skylake-SP-like): one PCI
 * function with one channel, driven through BAR0 as the kernel's ioatdma
 * driver and the VFIO selftest driver program it.  docs/devices.md lists
 * the registers and what programs can rely on.
 */
#ifndef SIO_DEVICES_IOAT_H
#define SIO_DEVICES_IOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/dma.h"

#define SIO_IOAT_BAR0_SIZE   0x4000 /* 16 KiB, as the real function */
#define SIO_IOAT_MSIX_TABLE  0x2000 /* MSI-X table in BAR0 */
#define SIO_IOAT_MSIX_PBA    0x3000 /* and its pending-bit array */
#define SIO_IOAT_MSIX_COUNT  1	    /* one vector: the channel's */
#define SIO_IOAT_XFERCAP_LOG 20	    /* 1 MiB per descriptor */
/*
 * The function's PCIe PASID capability (Max PASID Width 20, Privileged
 * Mode supported, Execute not: a DMA engine fetches no instructions)
 * and ATS capability, as a DSA-class function has them; real CBDMA
 * channels lack both.  Its DMA carries no PASID of its own: the SMMU
 * model's transactions take one (docs/devices.md).
 */
#define SIO_IOAT_PASID_BITS 20
#define SIO_IOAT_PASID_EXEC false
#define SIO_IOAT_PASID_PRIV true
#define SIO_IOAT_ATS	    true

struct sio_ioat;

struct sio_ioat_cfg {
	struct sio_dma_port dma;
	/*
	 * The function raises MSI-X vector @vector.  Called from the
	 * device's thread with the device's lock held: it must not call
	 * back into the device.
	 */
	void (*irq)(void *opaque, unsigned int vector);
	void *irq_opaque;
};

/* A powered-on function (channel HALTED, bus mastering off); 0 or -errno. */
int sio_ioat_create(const struct sio_ioat_cfg *cfg, struct sio_ioat **out);
void sio_ioat_destroy(struct sio_ioat *d);

/*
 * Exact MMIO: an access of @size 1, 2, 4 or 8 bytes, naturally aligned,
 * at @off in BAR0.  Other sizes or misaligned accesses read all-ones and
 * write nothing, as an unsupported TLP would.
 */
uint64_t sio_ioat_mmio_read(struct sio_ioat *d, uint64_t off,
			    unsigned int size);
void sio_ioat_mmio_write(struct sio_ioat *d, uint64_t off, unsigned int size,
			 uint64_t val);

/* Function-level reset: every register to its power-on value. */
void sio_ioat_flr(struct sio_ioat *d);

/* PCI_COMMAND's Bus Master Enable, as config space holds it. */
void sio_ioat_set_bus_master(struct sio_ioat *d, bool on);

/*
 * The memory-backed BAR0: a memfd of SIO_IOAT_BAR0_SIZE bytes that a
 * program maps shared.  The first call turns on the device thread's
 * polling of it; the fd stays owned by the device.
 */
int sio_ioat_bar_memfd(struct sio_ioat *d);

#endif /* SIO_DEVICES_IOAT_H */
