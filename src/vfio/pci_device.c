// SPDX-License-Identifier: MIT
/*
 * An emulated PCI function behind a VFIO device cdev: the device-fd
 * ioctls of vfio_pci_core.c (GET_INFO, GET_REGION_INFO, GET_IRQ_INFO,
 * SET_IRQS, RESET), region pread/pwrite and mmap, and the iommufd binding
 * of device_cdev.c.  Arguments are the program's raw pointers, read and
 * written with the fault-fixed user copies, so a bad pointer is -EFAULT.
 * Until BIND_IOMMUFD succeeds every other call fails -EINVAL, as
 * vfio_main.c refuses a cdev file without access_granted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio_private.h"

#define MINSZ(type, field) \
	(offsetof(struct type, field) + sizeof(((struct type *)0)->field))

static bool bound(struct sio_vfio_pci_dev *vdev)
{
	return __atomic_load_n(&vdev->bound, __ATOMIC_ACQUIRE);
}

static int get_info(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_device_info info = {0};
	size_t minsz = MINSZ(sio_vfio_device_info, num_irqs);
	int rc;

	(void)vdev;
	rc = sio_user_read(&info, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = info.argsz < sizeof(info) ? info.argsz : sizeof(info);
	info.flags = SIO_VFIO_DEVICE_FLAGS_PCI | SIO_VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = SIO_VFIO_PCI_NUM_REGIONS;
	info.num_irqs = SIO_VFIO_PCI_NUM_IRQS;
	return sio_user_write((uintptr_t)arg, &info, minsz);
}

/*
 * BAR0 holds the MSI-X table, and is mmap-able whole: vfio-pci says so
 * with the MSIX_MAPPABLE capability where interrupt remapping protects
 * the table, as here, where the table is only memory.
 */
static int region_caps(struct sio_vfio_region_info *info, void *arg)
{
	struct sio_vfio_info_cap_header cap = {
		.id = SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		.version = 1,
	};
	int rc;

	info->flags |= SIO_VFIO_REGION_INFO_FLAG_CAPS;
	if (info->argsz < sizeof(*info) + sizeof(cap)) {
		info->argsz = sizeof(*info) + sizeof(cap);
		info->cap_offset = 0;
		return 0;
	}
	rc = sio_user_write((uintptr_t)arg + sizeof(*info), &cap, sizeof(cap));
	info->cap_offset = sizeof(*info);
	return rc;
}

static int get_region_info(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_region_info info;
	size_t minsz = MINSZ(sio_vfio_region_info, offset);
	int rc;

	rc = sio_user_read(&info, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.index >= SIO_VFIO_PCI_NUM_REGIONS ||
	    info.index == SIO_VFIO_PCI_VGA_REGION_INDEX)
		return -EINVAL; /* no VGA, no device-specific regions */
	info.offset = SIO_VFIO_PCI_INDEX_TO_OFFSET(info.index);
	info.cap_offset = 0;
	info.size = 0;
	info.flags = 0;
	if (info.index == SIO_VFIO_PCI_CONFIG_REGION_INDEX) {
		info.size = SIO_VFIO_CFG_SIZE;
		info.flags = SIO_VFIO_REGION_INFO_FLAG_READ |
			     SIO_VFIO_REGION_INFO_FLAG_WRITE;
	} else if (info.index == SIO_VFIO_PCI_BAR0_REGION_INDEX) {
		info.size = vdev->id->bar0_size;
		info.flags = SIO_VFIO_REGION_INFO_FLAG_READ |
			     SIO_VFIO_REGION_INFO_FLAG_WRITE |
			     SIO_VFIO_REGION_INFO_FLAG_MMAP;
		rc = region_caps(&info, arg);
		if (rc)
			return rc;
	}
	return sio_user_write((uintptr_t)arg, &info, minsz);
}

static int get_irq_info(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_irq_info info;
	size_t minsz = MINSZ(sio_vfio_irq_info, count);
	int rc;

	rc = sio_user_read(&info, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	if (info.argsz < minsz || info.index >= SIO_VFIO_PCI_NUM_IRQS)
		return -EINVAL;
	info.flags = SIO_VFIO_IRQ_INFO_EVENTFD;
	info.count = vfio_pci_irq_count(vdev, info.index);
	if (info.index == SIO_VFIO_PCI_INTX_IRQ_INDEX)
		info.flags |= SIO_VFIO_IRQ_INFO_MASKABLE |
			      SIO_VFIO_IRQ_INFO_AUTOMASKED;
	else
		info.flags |= SIO_VFIO_IRQ_INFO_NORESIZE;
	return sio_user_write((uintptr_t)arg, &info, minsz);
}

static int bind_iommufd(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_device_bind_iommufd b;
	size_t minsz = MINSZ(sio_vfio_device_bind_iommufd, out_devid);
	uint32_t devid;
	int rc;

	rc = sio_user_read(&b, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	/* No VF token support: FLAG_TOKEN is refused like any flag. */
	if (b.argsz < minsz || b.flags || b.iommufd < 0)
		return -EINVAL;
	pthread_mutex_lock(&vdev->lock);
	rc = -EINVAL; /* one device cannot be bound twice */
	if (vdev->bound)
		goto out;
	rc = vdev->hooks->bind(vdev->hooks_ctx, vdev, b.iommufd, &devid);
	if (rc)
		goto out;
	rc = sio_user_write((uintptr_t)arg + offsetof(typeof(b), out_devid),
			    &devid, sizeof(devid));
	if (rc) {
		vdev->hooks->unbind(vdev->hooks_ctx, vdev);
		goto out;
	}
	__atomic_store_n(&vdev->bound, true, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&vdev->lock);
	return rc;
}

/*
 * The argument of ATTACH and DETACH_IOMMUFD_PT, as device_cdev.c reads
 * it: the head up to @minsz (argsz below it, or an unknown flag:
 * EINVAL), then with the PASID flag the pasid field too, which argsz
 * must cover (EINVAL) — and which a device without PASID ops refuses
 * (EOPNOTSUPP).  *@pasid_flag says whether the flag was given.
 */
static int pt_arg_in(struct sio_vfio_pci_dev *vdev, void *karg, size_t minsz,
		     size_t xend, void *arg, uint32_t flag, bool *pasid_flag)
{
	uint32_t head[2];
	int rc;

	rc = sio_user_read(karg, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	memcpy(head, karg, sizeof(head));
	if (head[0] < minsz || head[1] & ~flag)
		return -EINVAL;
	*pasid_flag = head[1] & flag;
	if (!*pasid_flag)
		return 0;
	if (!vdev->hooks->pasid_attach || !vdev->hooks->pasid_detach)
		return -EOPNOTSUPP;
	if (head[0] < xend)
		return -EINVAL;
	return sio_user_read((char *)karg + minsz, (uintptr_t)arg + minsz,
			     xend - minsz);
}

static int attach_pt(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_device_attach_iommufd_pt a;
	bool pasid;
	int rc;

	rc = pt_arg_in(vdev, &a,
		       MINSZ(sio_vfio_device_attach_iommufd_pt, pt_id),
		       MINSZ(sio_vfio_device_attach_iommufd_pt, pasid), arg,
		       SIO_VFIO_DEVICE_ATTACH_PASID, &pasid);
	if (rc)
		return rc;
	pthread_mutex_lock(&vdev->lock);
	if (pasid)
		rc = vdev->hooks->pasid_attach(vdev->hooks_ctx, vdev, a.pasid,
					       &a.pt_id);
	else
		rc = vdev->hooks->attach(vdev->hooks_ctx, vdev, &a.pt_id);
	if (!rc) {
		rc = sio_user_write((uintptr_t)arg + offsetof(typeof(a), pt_id),
				    &a.pt_id, sizeof(a.pt_id));
		if (rc && pasid)
			vdev->hooks->pasid_detach(vdev->hooks_ctx, vdev,
						  a.pasid);
		else if (rc)
			vdev->hooks->detach(vdev->hooks_ctx, vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
	return rc;
}

static int detach_pt(struct sio_vfio_pci_dev *vdev, void *arg)
{
	struct sio_vfio_device_detach_iommufd_pt dt;
	bool pasid;
	int rc;

	rc = pt_arg_in(vdev, &dt,
		       MINSZ(sio_vfio_device_detach_iommufd_pt, flags),
		       MINSZ(sio_vfio_device_detach_iommufd_pt, pasid), arg,
		       SIO_VFIO_DEVICE_DETACH_PASID, &pasid);
	if (rc)
		return rc;
	pthread_mutex_lock(&vdev->lock);
	if (pasid)
		vdev->hooks->pasid_detach(vdev->hooks_ctx, vdev, dt.pasid);
	else
		vdev->hooks->detach(vdev->hooks_ctx, vdev);
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

int sio_vfio_pci_ioctl(struct sio_vfio_pci_dev *vdev, unsigned long cmd,
		       void *arg)
{
	sio_user_begin();
	if (cmd == SIO_VFIO_DEVICE_BIND_IOMMUFD)
		/* BIND_IOMMUFD is only for the cdev's fds */
		return vdev->group_open ? -EINVAL : bind_iommufd(vdev, arg);
	if (!bound(vdev))
		return -EINVAL;
	/* a group's device fd has no cdev-only ioctls: vfio-pci's ENOTTY */
	if (vdev->group_open && (cmd == SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT ||
				 cmd == SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT))
		return -ENOTTY;
	switch (cmd) {
	case SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return attach_pt(vdev, arg);
	case SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return detach_pt(vdev, arg);
	case SIO_VFIO_DEVICE_GET_INFO:
		return get_info(vdev, arg);
	case SIO_VFIO_DEVICE_GET_REGION_INFO:
		return get_region_info(vdev, arg);
	case SIO_VFIO_DEVICE_GET_IRQ_INFO:
		return get_irq_info(vdev, arg);
	case SIO_VFIO_DEVICE_SET_IRQS:
		return vfio_pci_set_irqs(vdev, arg);
	case SIO_VFIO_DEVICE_RESET:
		/* pci_try_reset_function() restores config space around it. */
		vdev->ops->flr(vdev->dev);
		return 0;
	default:
		return -ENOTTY;
	}
}

/* vfio_pci_core_do_io_rw(): naturally aligned 8/4/2/1-byte accesses. */
static ssize_t bar_rw(struct sio_vfio_pci_dev *vdev, uint8_t *buf, size_t count,
		      uint64_t pos, bool write)
{
	size_t done = 0;

	if (pos >= vdev->id->bar0_size)
		return -EINVAL;
	if (count > vdev->id->bar0_size - pos)
		count = vdev->id->bar0_size - pos;
	if (!vfio_pci_memory_enabled(vdev))
		return -EIO;
	while (done < count) {
		size_t left = count - done;
		unsigned int n = 1;
		uint64_t v = 0;

		if (left >= 8 && !(pos % 8))
			n = 8;
		else if (left >= 4 && !(pos % 4))
			n = 4;
		else if (left >= 2 && !(pos % 2))
			n = 2;
		if (write) {
			memcpy(&v, buf + done, n);
			vdev->ops->bar_write(vdev->dev, pos, n, v);
		} else {
			v = vdev->ops->bar_read(vdev->dev, pos, n);
			memcpy(buf + done, &v, n);
		}
		done += n;
		pos += n;
	}
	return done;
}

static ssize_t region_rw(struct sio_vfio_pci_dev *vdev, uint8_t *kbuf,
			 size_t count, uint64_t off, bool write)
{
	uint64_t index = SIO_VFIO_PCI_OFFSET_TO_INDEX(off);
	uint64_t pos = off & SIO_VFIO_PCI_OFFSET_MASK;

	if (!bound(vdev))
		return -EINVAL;
	if (index == SIO_VFIO_PCI_CONFIG_REGION_INDEX)
		return vfio_pci_config_rw(vdev, kbuf, count, pos, write);
	if (index == SIO_VFIO_PCI_BAR0_REGION_INDEX)
		return bar_rw(vdev, kbuf, count, pos, write);
	return -EINVAL; /* empty BARs, no ROM, no VGA, out of range */
}

/* Bounce through the stack in chunks: user memory is copied fault-safe. */
#define RW_CHUNK 4096

ssize_t sio_vfio_pci_pread(struct sio_vfio_pci_dev *vdev, void *buf,
			   size_t count, uint64_t off)
{
	uint8_t k[RW_CHUNK];
	size_t done = 0;

	sio_user_begin();
	while (done < count || !count) {
		size_t n = count - done < RW_CHUNK ? count - done : RW_CHUNK;
		ssize_t r = region_rw(vdev, k, n, off + done, false);
		int rc;

		if (r <= 0 || !count)
			return done ? (ssize_t)done : r;
		rc = sio_user_write((uintptr_t)buf + done, k, r);
		if (rc)
			return done ? (ssize_t)done : rc;
		done += r;
		if ((size_t)r < n)
			break;
	}
	return done;
}

ssize_t sio_vfio_pci_pwrite(struct sio_vfio_pci_dev *vdev, const void *buf,
			    size_t count, uint64_t off)
{
	uint8_t k[RW_CHUNK];
	size_t done = 0;

	sio_user_begin();
	while (done < count || !count) {
		size_t n = count - done < RW_CHUNK ? count - done : RW_CHUNK;
		ssize_t r;
		int rc;

		rc = sio_user_read(k, (uintptr_t)buf + done, n);
		if (rc)
			return done ? (ssize_t)done : rc;
		r = region_rw(vdev, k, n, off + done, true);
		if (r <= 0 || !count)
			return done ? (ssize_t)done : r;
		done += r;
		if ((size_t)r < n)
			break;
	}
	return done;
}

int sio_vfio_pci_mmio_store(struct sio_vfio_pci_dev *vdev, uint64_t off,
			    unsigned int size, uint64_t val)
{
	uint8_t k[8];
	ssize_t r;

	if (size > sizeof(k))
		return -EINVAL;
	memcpy(k, &val, size); /* little-endian: the low bytes */
	r = region_rw(vdev, k, size, off, true);
	return r < 0 ? (int)r : 0;
}

/* vfio_pci_core_mmap()'s checks; the memfd stands for the BAR's pages. */
int sio_vfio_pci_mmap(struct sio_vfio_pci_dev *vdev, uint64_t off, uint64_t len,
		      bool shared, int *fd, uint64_t *fd_off)
{
	uint64_t index = SIO_VFIO_PCI_OFFSET_TO_INDEX(off);
	uint64_t pos = off & SIO_VFIO_PCI_OFFSET_MASK;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t bar = (vdev->id->bar0_size + pg - 1) & ~(pg - 1);
	int rc;

	if (!bound(vdev))
		return -EINVAL;
	if (index >= SIO_VFIO_PCI_NUM_REGIONS || !shared)
		return -EINVAL;
	if (index != SIO_VFIO_PCI_BAR0_REGION_INDEX || pos % pg)
		return -EINVAL;
	if (!len || pos > bar || len > bar - pos)
		return -EINVAL;
	rc = vdev->ops->bar_memfd(vdev->dev);
	if (rc < 0)
		return rc;
	*fd = rc;
	*fd_off = pos;
	return 0;
}

int sio_vfio_pci_create(const struct sio_vfio_pci_id *id,
			const struct sio_vfio_pci_ops *ops, void *dev,
			const struct sio_vfio_iommufd_hooks *hooks,
			void *hooks_ctx, struct sio_vfio_pci_dev **out)
{
	struct sio_vfio_pci_dev *vdev;
	unsigned int i;

	if (id->msix_count < 1 ||
	    id->msix_count > sizeof(vdev->msix_fd) / sizeof(int))
		return -EINVAL;
	vdev = sio_calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	vdev->id = id;
	vdev->ops = ops;
	vdev->dev = dev;
	vdev->hooks = hooks;
	vdev->hooks_ctx = hooks_ctx;
	pthread_mutex_init(&vdev->lock, NULL);
	pthread_mutex_init(&vdev->irq_lock, NULL);
	vdev->irq_type = -1;
	for (i = 0; i < sizeof(vdev->msix_fd) / sizeof(int); i++)
		vdev->msix_fd[i] = -1;
	vdev->err_fd = -1;
	vdev->req_fd = -1;
	vfio_pci_config_init(vdev);
	*out = vdev;
	return 0;
}

void sio_vfio_pci_open_group(struct sio_vfio_pci_dev *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->group_open = true;
	__atomic_store_n(&vdev->bound, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vdev->lock);
}

void sio_vfio_pci_release(struct sio_vfio_pci_dev *vdev)
{
	bool was_bound;

	vfio_pci_irq_release(vdev);
	pthread_mutex_lock(&vdev->lock);
	was_bound = vdev->bound;
	vdev->bound = false;
	vdev->group_open = false;
	pthread_mutex_unlock(&vdev->lock);
	/* unbinding detaches first: no DMA reaches the program's memory */
	if (was_bound)
		vdev->hooks->unbind(vdev->hooks_ctx, vdev);
	/* the next user finds the function as after a reset */
	if (vdev->ops->bus_master)
		vdev->ops->bus_master(vdev->dev, false);
	if (vdev->ops->flr)
		vdev->ops->flr(vdev->dev);
	pthread_mutex_lock(&vdev->lock);
	vfio_pci_config_init(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

void sio_vfio_pci_destroy(struct sio_vfio_pci_dev *vdev)
{
	if (!vdev)
		return;
	vfio_pci_irq_release(vdev);
	if (vdev->bound)
		vdev->hooks->unbind(vdev->hooks_ctx, vdev);
	pthread_mutex_destroy(&vdev->irq_lock);
	pthread_mutex_destroy(&vdev->lock);
	free(vdev);
}
