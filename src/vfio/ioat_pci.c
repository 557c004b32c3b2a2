// SPDX-License-Identifier: MIT
/*
 * The I/OAT model as a VFIO PCI function: Intel 0x8086:0x2021 (Skylake-SP
 * CBDMA, the id the kernel's ioat_pci_tbl and VFIO selftest driver
 * match), class 0x088000, 16 KiB BAR0 with the MSI-X table at 0x2000 and
 * PBA at 0x3000, and the channel-error registers at 0x148/0x180/0x184 of
 * config space that the selftest driver clears.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "devices/ioat/ioat.h"
#include "devices/ioat/ioat_regs.h"
#include "vfio_private.h"

struct sio_vfio_ioat {
	struct sio_ioat *ioat;
	struct sio_vfio_pci_dev *pci;
};

static const struct sio_vfio_pci_reg ioat_cfg_regs[] = {
	{.off = IOAT_PCI_DMAUNCERRSTS_OFFSET, .w1c = 0xffffffff},
	{.off = IOAT_PCI_CHANERR_INT_OFFSET, .w1c = 0xffffffff},
	{.off = IOAT_PCI_CHANERRMASK_INT_OFFSET, .wmask = 0xffffffff},
};

static const struct sio_vfio_pci_id ioat_id = {
	.vendor = IOAT_PCI_VENDOR_INTEL,
	.device = IOAT_PCI_DEVICE_SKX,
	.class_code = IOAT_PCI_CLASS,
	.bar0_size = SIO_IOAT_BAR0_SIZE,
	.msix_count = SIO_IOAT_MSIX_COUNT,
	.msix_table = SIO_IOAT_MSIX_TABLE,
	.msix_pba = SIO_IOAT_MSIX_PBA,
	.regs = ioat_cfg_regs,
	.nr_regs = sizeof(ioat_cfg_regs) / sizeof(ioat_cfg_regs[0]),
	.caps = {.pasid_bits = SIO_IOAT_PASID_BITS,
		 .pasid_exec = SIO_IOAT_PASID_EXEC,
		 .pasid_priv = SIO_IOAT_PASID_PRIV,
		 .ats = SIO_IOAT_ATS},
};

static uint64_t bar_read(void *dev, uint64_t off, unsigned int size)
{
	return sio_ioat_mmio_read(dev, off, size);
}

static void bar_write(void *dev, uint64_t off, unsigned int size, uint64_t val)
{
	sio_ioat_mmio_write(dev, off, size, val);
}

static int bar_memfd(void *dev)
{
	return sio_ioat_bar_memfd(dev);
}

static void flr(void *dev)
{
	sio_ioat_flr(dev);
}

static void bus_master(void *dev, bool on)
{
	sio_ioat_set_bus_master(dev, on);
}

static const struct sio_vfio_pci_ops ioat_ops = {
	.bar_read = bar_read,
	.bar_write = bar_write,
	.bar_memfd = bar_memfd,
	.flr = flr,
	.bus_master = bus_master,
};

static void raise_msix(void *opaque, unsigned int vector)
{
	struct sio_vfio_ioat *v = opaque;

	sio_vfio_pci_msix(v->pci, vector);
}

int sio_vfio_ioat_create(const struct sio_dma_port *dma,
			 const struct sio_vfio_iommufd_hooks *hooks,
			 void *hooks_ctx, struct sio_vfio_ioat **out)
{
	struct sio_vfio_ioat *v = sio_calloc(1, sizeof(*v));
	struct sio_ioat_cfg cfg = {.dma = *dma, .irq = raise_msix};
	int rc;

	if (!v)
		return -ENOMEM;
	cfg.irq_opaque = v;
	rc = sio_ioat_create(&cfg, &v->ioat);
	if (rc)
		goto err;
	rc = sio_vfio_pci_create(&ioat_id, &ioat_ops, v->ioat, hooks, hooks_ctx,
				 &v->pci);
	if (rc) {
		sio_ioat_destroy(v->ioat);
		goto err;
	}
	*out = v;
	return 0;
err:
	free(v);
	return rc;
}

struct sio_vfio_pci_dev *sio_vfio_ioat_pci(struct sio_vfio_ioat *v)
{
	return v->pci;
}

const struct sio_iommu_pci_caps *sio_vfio_ioat_pci_caps(void)
{
	return &ioat_id.caps;
}

void sio_vfio_ioat_destroy(struct sio_vfio_ioat *v)
{
	if (!v)
		return;
	/* The device thread stops first: no interrupt after the file goes. */
	sio_ioat_destroy(v->ioat);
	sio_vfio_pci_destroy(v->pci);
	free(v);
}
