// SPDX-License-Identifier: MIT
/*
 * VFIO_DEVICE_SET_IRQS for an emulated function, with the checks of the
 * kernel's vfio_set_irqs_validate_and_prepare() and the actions of
 * vfio_pci_intrs.c: MSI-X triggers by eventfd (assign, -1 de-assigns,
 * count 0 + DATA_NONE disables), loopback triggers by NONE or BOOL, and
 * the single ERR and REQ triggers.  MSI-X mask/unmask is -ENOTTY there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio_private.h"

unsigned int vfio_pci_irq_count(struct sio_vfio_pci_dev *vdev,
				unsigned int index)
{
	switch (index) {
	case SIO_VFIO_PCI_MSIX_IRQ_INDEX:
		return vdev->id->msix_count;
	case SIO_VFIO_PCI_ERR_IRQ_INDEX: /* a PCI Express function */
	case SIO_VFIO_PCI_REQ_IRQ_INDEX:
		return 1;
	default:
		return 0; /* no INTx pin, no MSI capability */
	}
}

/* eventfd_ctx_fdget(): -EBADF for no file, -EINVAL for another file. */
static int eventfd_get(int fd)
{
	char path[64], target[64];
	ssize_t n;

	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = 0;
	if (strcmp(target, "anon_inode:[eventfd]"))
		return -EINVAL;
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* A full counter: the program has 2^64-2 unread events. */
	}
}

static void put_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void msix_disable(struct sio_vfio_pci_dev *vdev)
{
	unsigned int i;

	for (i = 0; i < vdev->id->msix_count; i++)
		put_fd(&vdev->msix_fd[i]);
	vdev->irq_type = -1;
	vfio_pci_msix_set_enable(vdev, false);
}

static int msix_set_block(struct sio_vfio_pci_dev *vdev, unsigned int start,
			  unsigned int count, const int32_t *fds)
{
	unsigned int i;
	int fd;

	for (i = 0; i < count; i++) {
		put_fd(&vdev->msix_fd[start + i]);
		if (fds[i] < 0)
			continue;
		fd = eventfd_get(fds[i]);
		if (fd < 0) {
			while (i--)
				put_fd(&vdev->msix_fd[start + i]);
			return fd;
		}
		vdev->msix_fd[start + i] = fd;
	}
	return 0;
}

static int msix_trigger(struct sio_vfio_pci_dev *vdev, uint32_t flags,
			unsigned int start, unsigned int count,
			const uint8_t *data)
{
	bool enabled = vdev->irq_type == SIO_VFIO_PCI_MSIX_IRQ_INDEX;
	unsigned int i;
	int rc;

	if (enabled && !count && flags & SIO_VFIO_IRQ_SET_DATA_NONE) {
		msix_disable(vdev);
		return 0;
	}
	if (!enabled && vdev->irq_type != -1)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_EVENTFD) {
		if (!enabled) {
			vdev->irq_type = SIO_VFIO_PCI_MSIX_IRQ_INDEX;
			vfio_pci_msix_set_enable(vdev, true);
		}
		rc = msix_set_block(vdev, start, count, (const int32_t *)data);
		if (rc && !enabled)
			msix_disable(vdev);
		return rc;
	}
	if (!enabled)
		return -EINVAL;
	for (i = start; i < start + count; i++)
		if (flags & SIO_VFIO_IRQ_SET_DATA_NONE || data[i - start])
			signal_fd(vdev->msix_fd[i]);
	return 0;
}

/* vfio_pci_set_ctx_trigger_single(), for ERR and REQ. */
static int single_trigger(int *ctx, uint32_t flags, unsigned int start,
			  unsigned int count, const uint8_t *data)
{
	int32_t fd;

	if (start != 0 || count > 1)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_NONE) {
		if (*ctx < 0)
			return -EINVAL;
		if (count)
			signal_fd(*ctx);
		else
			put_fd(ctx);
		return 0;
	}
	if (!count)
		return -EINVAL;
	if (flags & SIO_VFIO_IRQ_SET_DATA_BOOL) {
		if (data[0] && *ctx >= 0)
			signal_fd(*ctx);
		return 0;
	}
	memcpy(&fd, data, sizeof(fd));
	if (fd == -1) {
		put_fd(ctx);
		return 0;
	}
	if (fd < 0)
		return -EINVAL;
	fd = eventfd_get(fd);
	if (fd < 0)
		return fd;
	put_fd(ctx);
	*ctx = fd;
	return 0;
}

static int set_irqs(struct sio_vfio_pci_dev *vdev,
		    const struct sio_vfio_irq_set *hdr, const uint8_t *data)
{
	uint32_t action = hdr->flags & SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK;

	if (action != SIO_VFIO_IRQ_SET_ACTION_TRIGGER)
		return -ENOTTY; /* no INTx; MSI-X masking is not exported */
	switch (hdr->index) {
	case SIO_VFIO_PCI_MSIX_IRQ_INDEX:
		return msix_trigger(vdev, hdr->flags, hdr->start, hdr->count,
				    data);
	case SIO_VFIO_PCI_ERR_IRQ_INDEX:
		return single_trigger(&vdev->err_fd, hdr->flags, hdr->start,
				      hdr->count, data);
	case SIO_VFIO_PCI_REQ_IRQ_INDEX:
		return single_trigger(&vdev->req_fd, hdr->flags, hdr->start,
				      hdr->count, data);
	default:
		return -ENOTTY;
	}
}

int vfio_pci_set_irqs(struct sio_vfio_pci_dev *vdev, void *arg)
{
	const size_t minsz = offsetof(struct sio_vfio_irq_set, data);
	struct sio_vfio_irq_set hdr;
	uint8_t data[sizeof(int32_t) * 8];
	size_t size = 0;
	unsigned int max;
	int rc;

	rc = sio_user_read(&hdr, (uintptr_t)arg, minsz);
	if (rc)
		return rc;
	max = hdr.index < SIO_VFIO_PCI_NUM_IRQS
		      ? vfio_pci_irq_count(vdev, hdr.index)
		      : 0;
	if (hdr.argsz < minsz || hdr.index >= SIO_VFIO_PCI_NUM_IRQS ||
	    hdr.count >= UINT32_MAX - hdr.start ||
	    hdr.flags & ~(SIO_VFIO_IRQ_SET_DATA_TYPE_MASK |
			  SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK))
		return -EINVAL;
	if (hdr.start >= max || hdr.start + hdr.count > max)
		return -EINVAL;
	switch (hdr.flags & SIO_VFIO_IRQ_SET_DATA_TYPE_MASK) {
	case SIO_VFIO_IRQ_SET_DATA_NONE:
		break;
	case SIO_VFIO_IRQ_SET_DATA_BOOL:
		size = sizeof(uint8_t);
		break;
	case SIO_VFIO_IRQ_SET_DATA_EVENTFD:
		size = sizeof(int32_t);
		break;
	default:
		return -EINVAL;
	}
	if (size) {
		if (hdr.argsz - minsz < hdr.count * size)
			return -EINVAL;
		/* count <= max <= 8 vectors: it fits. */
		rc = sio_user_read(data, (uintptr_t)arg + minsz,
				   hdr.count * size);
		if (rc)
			return rc;
	}
	pthread_mutex_lock(&vdev->irq_lock);
	rc = set_irqs(vdev, &hdr, data);
	pthread_mutex_unlock(&vdev->irq_lock);
	return rc;
}

void sio_vfio_pci_msix(struct sio_vfio_pci_dev *vdev, unsigned int vector)
{
	pthread_mutex_lock(&vdev->irq_lock);
	if (vdev->irq_type == SIO_VFIO_PCI_MSIX_IRQ_INDEX &&
	    vector < vdev->id->msix_count)
		signal_fd(vdev->msix_fd[vector]);
	pthread_mutex_unlock(&vdev->irq_lock);
}

void vfio_pci_irq_release(struct sio_vfio_pci_dev *vdev)
{
	pthread_mutex_lock(&vdev->irq_lock);
	if (vdev->irq_type == SIO_VFIO_PCI_MSIX_IRQ_INDEX)
		msix_disable(vdev);
	put_fd(&vdev->err_fd);
	put_fd(&vdev->req_fd);
	pthread_mutex_unlock(&vdev->irq_lock);
}
