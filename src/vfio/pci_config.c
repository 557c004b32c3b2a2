// SPDX-License-Identifier: MIT
/*
 * Config space of an emulated function, virtualized where vfio-pci's
 * vfio_pci_config.c virtualizes it: IDs and class read-only, COMMAND with
 * its memory, bus-master and INTx-disable bits writable and clear at
 * start, STATUS errors write-1-to-clear, a 64-bit BAR0 that answers the
 * all-ones sizing write, and a capability list: MSI-X at 0x80 (table and
 * PBA in BAR0) and PCI Express (root-complex integrated endpoint with
 * FLR) at 0x90.  Accesses split as vfio_config_do_rw() splits them.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "vfio_private.h"

#define MSIX_CAP 0x80
#define EXP_CAP	 0x90
/* extended capabilities, clear of the function's registers at 0x148.. */
#define ATS_ECAP   0x100
#define PASID_ECAP 0x110

static void put(uint8_t *a, unsigned int off, uint32_t v, unsigned int n)
{
	memcpy(a + off, &v, n);
}

static uint32_t get(const uint8_t *a, unsigned int off, unsigned int n)
{
	uint32_t v = 0;

	memcpy(&v, a + off, n);
	return v;
}

/* An extended capability header: ID, version 1, the next one's offset. */
static uint32_t ecap_header(unsigned int id, unsigned int next)
{
	return id | 1u << 16 | next << 20;
}

/*
 * ATS and PASID, as the host's IOMMU driver left them when it probed the
 * function (the kernel enables PASID with every permission the function
 * supports; ATS is the IOMMU driver's to enable per domain): read-only
 * to the program, as vfio-pci gives them without write permissions.
 */
static void config_init_ecaps(struct sio_vfio_pci_dev *vdev)
{
	const struct sio_iommu_pci_caps *caps = &vdev->id->caps;
	uint8_t *c = vdev->cfg;
	unsigned int at = 0x100;
	uint16_t feat;

	if (caps->ats) {
		put(c, ATS_ECAP,
		    ecap_header(PCI_EXT_CAP_ID_ATS,
				caps->pasid_bits ? PASID_ECAP : 0),
		    4);
		/* queue depth 0 (32), page-aligned requests */
		put(c, ATS_ECAP + PCI_ATS_CAP, PCI_ATS_CAP_PAGE_ALIGNED, 2);
		at = PASID_ECAP;
	}
	if (!caps->pasid_bits)
		return;
	feat = (caps->pasid_exec ? PCI_PASID_CAP_EXEC : 0) |
	       (caps->pasid_priv ? PCI_PASID_CAP_PRIV : 0);
	put(c, at, ecap_header(PCI_EXT_CAP_ID_PASID, 0), 4);
	put(c, at + PCI_PASID_CAP, feat | caps->pasid_bits << 8, 2);
	put(c, at + PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE | feat, 2);
}

void vfio_pci_config_init(struct sio_vfio_pci_dev *vdev)
{
	const struct sio_vfio_pci_id *id = vdev->id;
	uint8_t *c = vdev->cfg, *w = vdev->wmask;
	unsigned int i;

	memset(c, 0, SIO_VFIO_CFG_SIZE);
	memset(w, 0, SIO_VFIO_CFG_SIZE);
	memset(vdev->w1c, 0, SIO_VFIO_CFG_SIZE);
	put(c, PCI_VENDOR_ID, id->vendor, 2);
	put(c, PCI_DEVICE_ID, id->device, 2);
	put(w, PCI_COMMAND,
	    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
		    PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE,
	    2);
	put(c, PCI_STATUS, PCI_STATUS_CAP_LIST, 2);
	put(vdev->w1c, PCI_STATUS, 0xf900, 2); /* the error bits */
	c[PCI_REVISION_ID] = id->revision;
	put(c, PCI_CLASS_PROG, id->class_code, 3);
	put(c, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64, 4);
	put(w, PCI_BASE_ADDRESS_0, ~(id->bar0_size - 1) & ~0xfu, 4);
	put(w, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	put(c, PCI_SUBSYSTEM_VENDOR_ID, id->vendor, 2);
	c[PCI_CAPABILITY_LIST] = MSIX_CAP;
	w[PCI_INTERRUPT_LINE] = 0xff;

	c[MSIX_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
	c[MSIX_CAP + PCI_CAP_LIST_NEXT] = EXP_CAP;
	put(c, MSIX_CAP + PCI_MSIX_FLAGS, id->msix_count - 1, 2);
	put(w, MSIX_CAP + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL, 2);
	put(c, MSIX_CAP + PCI_MSIX_TABLE, id->msix_table, 4); /* BIR 0 */
	put(c, MSIX_CAP + PCI_MSIX_PBA, id->msix_pba, 4);

	c[EXP_CAP + PCI_CAP_LIST_ID] = PCI_CAP_ID_EXP;
	put(c, EXP_CAP + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_RC_END << 4, 2);
	put(c, EXP_CAP + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR, 4);
	put(w, EXP_CAP + PCI_EXP_DEVCTL, 0xffff, 2);
	put(vdev->w1c, EXP_CAP + PCI_EXP_DEVSTA, 0x000f, 2);

	config_init_ecaps(vdev);
	for (i = 0; i < id->nr_regs; i++) {
		put(w, id->regs[i].off, id->regs[i].wmask | id->regs[i].w1c, 4);
		put(vdev->w1c, id->regs[i].off, id->regs[i].w1c, 4);
	}
}

/*
 * Read from config space, never kept beside it: the kernel's sysfs prints
 * what it read from the header at enumeration, and these bits are
 * read-only (wmask 0), so the live header says the same.
 */
void vfio_pci_config_ids(struct sio_vfio_pci_dev *vdev,
			 struct vfio_pci_ids *out)
{
	const uint8_t *c = vdev->cfg;

	pthread_mutex_lock(&vdev->lock);
	out->vendor = (uint16_t)get(c, PCI_VENDOR_ID, 2);
	out->device = (uint16_t)get(c, PCI_DEVICE_ID, 2);
	out->subsystem_vendor = (uint16_t)get(c, PCI_SUBSYSTEM_VENDOR_ID, 2);
	out->subsystem_device = (uint16_t)get(c, PCI_SUBSYSTEM_ID, 2);
	out->class_code = get(c, PCI_CLASS_PROG, 3);
	out->revision = c[PCI_REVISION_ID];
	pthread_mutex_unlock(&vdev->lock);
}

bool vfio_pci_memory_enabled(struct sio_vfio_pci_dev *vdev)
{
	bool on;

	pthread_mutex_lock(&vdev->lock);
	on = get(vdev->cfg, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
	pthread_mutex_unlock(&vdev->lock);
	return on;
}

/*
 * MSI-X Enable follows SET_IRQS, as the kernel's pci_alloc_irq_vectors()
 * sets it in hardware.  It is kept apart from cfg[] because SET_IRQS runs
 * under irq_lock, which the device's thread takes with its own lock held,
 * while config writes call into the device under vdev->lock.
 */
void vfio_pci_msix_set_enable(struct sio_vfio_pci_dev *vdev, bool on)
{
	__atomic_store_n(&vdev->msix_on, on, __ATOMIC_RELAXED);
}

static uint32_t cfg_read(struct sio_vfio_pci_dev *vdev, unsigned int pos,
			 unsigned int n)
{
	unsigned int hi = MSIX_CAP + PCI_MSIX_FLAGS + 1;
	uint32_t v = get(vdev->cfg, pos, n);

	if (pos <= hi && hi < pos + n &&
	    __atomic_load_n(&vdev->msix_on, __ATOMIC_RELAXED))
		v |= (uint32_t)(PCI_MSIX_FLAGS_ENABLE >> 8) << 8 * (hi - pos);
	return v;
}

/* One aligned write of @n bytes: writable bits, then W1C bits. */
static void cfg_write(struct sio_vfio_pci_dev *vdev, unsigned int pos,
		      uint32_t v, unsigned int n)
{
	uint32_t old = get(vdev->cfg, pos, n), wm = get(vdev->wmask, pos, n);
	uint32_t w1c = get(vdev->w1c, pos, n);
	uint16_t cmd_old = get(vdev->cfg, PCI_COMMAND, 2);
	uint32_t nv = (old & ~wm) | (v & wm);

	/* W1C bits: a 1 clears, a 0 keeps. */
	nv = (nv & ~w1c) | (old & w1c & ~v);
	put(vdev->cfg, pos, nv, n);
	if (get(vdev->cfg, PCI_COMMAND, 2) ^ cmd_old)
		vdev->ops->bus_master(vdev->dev, get(vdev->cfg, PCI_COMMAND,
						     2) & PCI_COMMAND_MASTER);
	/* DevCtl "Initiate FLR" resets the function and reads back 0. */
	if (get(vdev->cfg, EXP_CAP + PCI_EXP_DEVCTL, 2) &
	    PCI_EXP_DEVCTL_BCR_FLR) {
		vdev->cfg[EXP_CAP + PCI_EXP_DEVCTL + 1] &=
			~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		vdev->ops->flr(vdev->dev);
	}
}

ssize_t vfio_pci_config_rw(struct sio_vfio_pci_dev *vdev, uint8_t *buf,
			   size_t count, uint64_t pos, bool write)
{
	size_t done = 0;

	if (pos >= SIO_VFIO_CFG_SIZE || count > SIO_VFIO_CFG_SIZE - pos)
		return -EFAULT;
	pthread_mutex_lock(&vdev->lock);
	while (done < count) {
		size_t left = count - done;
		unsigned int n = 1;

		if (left >= 4 && !(pos % 4))
			n = 4;
		else if (left >= 2 && !(pos % 2))
			n = 2;
		if (write)
			cfg_write(vdev, pos, get(buf, done, n), n);
		else
			put(buf, done, cfg_read(vdev, pos, n), n);
		done += n;
		pos += n;
	}
	pthread_mutex_unlock(&vdev->lock);
	return done;
}
