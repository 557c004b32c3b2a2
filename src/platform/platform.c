// SPDX-License-Identifier: MIT
/*
 * The platform: the composition root that owns the bus and what the
 * layers above it share (iommufd's pin accounting now; the SMMUs and
 * devices as they join).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <limits.h>
#include <softiommu/fault.h>
#include <softiommu/iommufd.h>

#include "drivers/mock/mock_iommu.h"
#include "fault/fault_inject.h"
#include "platform_private.h"

/*
 * The default platform's devices: the I/OAT channels of an Intel Xeon
 * (Skylake-SP) CBDMA sit at 0000:00:04.0-7, one function per channel.
 * We model the first two; each one's StreamID is its PCI Requester ID
 * (bus << 8 | device << 3 | function), the identity iommu-map of Arm
 * platforms.
 */
static const struct {
	const char *name;
	uint32_t rid;
} default_devices[] = {
	{"0000:00:04.0", 0x20},
	{"0000:00:04.1", 0x21},
};

_Static_assert(sizeof(default_devices) / sizeof(default_devices[0]) ==
		       PLATFORM_DEFAULT_NR_DEVS,
	       "the device nodes count on this many");

/* The capabilities the kernel would test for this process. */
static unsigned int process_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = {0};
	unsigned int caps = 0;

	if (syscall(SYS_capget, &hdr, data))
		return 0;
	if (data[0].effective & (1u << CAP_IPC_LOCK))
		caps |= SIO_CAP_IPC_LOCK;
	if (data[0].effective & (1u << CAP_SYS_RESOURCE))
		caps |= SIO_CAP_SYS_RESOURCE;
	return caps;
}

/*
 * SOFTIOMMU_FAIL_NTH=N: a whole-program run under fault injection, the
 * Nth fault point this thread reaches from the platform's creation on
 * fails (include/softiommu/fault.h).  A value that is not a number is
 * ignored.
 */
static void fail_nth_from_env(void)
{
	const char *s = getenv("SOFTIOMMU_FAIL_NTH");
	unsigned long n;
	char *end;

	if (!s || !*s)
		return;
	errno = 0;
	n = strtoul(s, &end, 0);
	if (!*end && !errno && n <= UINT_MAX)
		sio_fail_nth_set((unsigned int)n);
}

int sio_platform_create(struct sio_platform **out)
{
	struct sio_platform *p;
	struct sio_smmu_config cfg;
	struct sio_dma_port port;
	int rc;

	fail_nth_from_env();
	p = sio_calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rc = sio_mem_bus_create(&p->bus);
	if (rc)
		goto err;
	sio_smmu_config_default(&cfg);
	/* PCIe ATS, which the devices have (nested domains use it) */
	cfg.ats = true;
	rc = sio_smmu_create(&cfg, p->bus, &p->smmu);
	if (rc)
		goto err;
	/* the host driver brings the SMMU up, as the kernel does at boot */
	rc = arm_smmu_probe(p->smmu, p->bus, &p->smmu_drv);
	if (rc)
		goto err;
	iommufd_host_init(&p->host, p->bus);
	atomic_store(&p->host.caps, process_caps());
	for (size_t i = 0;
	     i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		struct platform_device *d = &p->devs[p->nr_devs++];

		snprintf(d->name, sizeof(d->name), "%s",
			 default_devices[i].name);
		d->plat = p;
		d->sid = default_devices[i].rid;
		iommufd_dev_desc_init(&d->desc, &p->smmu_drv->iommu, d->sid);
		iommufd_dev_desc_set_pci_caps(&d->desc,
					      sio_vfio_ioat_pci_caps());
		vfio_group_init(&d->group, (unsigned int)i, d->name, &d->desc);
		d->dma = (struct sio_dma_smmu){.smmu = p->smmu, .sid = d->sid};
		port = sio_dma_smmu_port(&d->dma);
		rc = sio_vfio_ioat_create(&port, &platform_vfio_iommufd_hooks,
					  d, &d->vioat);
		if (rc)
			goto err;
	}
	*out = p;
	return 0;
err:
	sio_platform_destroy(p);
	return rc;
}

void sio_platform_destroy(struct sio_platform *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->nr_devs; i++) {
		/* the engine stops before the SMMU it translates through */
		sio_vfio_ioat_destroy(p->devs[i].vioat);
		vfio_group_destroy(&p->devs[i].group);
		iommufd_dev_desc_destroy(&p->devs[i].desc);
	}
	arm_smmu_remove(p->smmu_drv);
	mock_iommu_destroy(p->host.selftest);
	sio_smmu_destroy(p->smmu);
	sio_mem_bus_destroy(p->bus);
	free(p);
}

int sio_platform_enable_selftest(struct sio_platform *p)
{
	struct mock_iommu *mock;
	int rc;

	if (p->host.selftest)
		return 0;
	rc = mock_iommu_create(&mock);
	if (rc)
		return rc;
	p->host.selftest = mock;
	return 0;
}

struct sio_smmu *sio_platform_smmu(struct sio_platform *p)
{
	return p->smmu;
}

struct sio_mem_bus *sio_platform_bus(struct sio_platform *p)
{
	return p->bus;
}

void sio_platform_set_caps(struct sio_platform *p, unsigned int caps)
{
	atomic_store(&p->host.caps, caps);
}

void sio_platform_pin_stats(struct sio_platform *p, struct sio_pin_stats *st)
{
	st->user_locked = atomic_load(&p->host.user_locked_vm);
	st->mm_locked = atomic_load(&p->host.mm_locked_vm);
	st->mm_pinned = atomic_load(&p->host.mm_pinned_vm);
}

void sio_platform_user_unmap(struct sio_platform *p, const void *addr,
			     size_t len)
{
	iommufd_host_user_unmap(&p->host, (uint64_t)(uintptr_t)addr, len,
				false);
}

void sio_platform_user_unwrite(struct sio_platform *p, const void *addr,
			       size_t len)
{
	iommufd_host_user_unmap(&p->host, (uint64_t)(uintptr_t)addr, len, true);
}

int sio_iommufd_open(struct sio_platform *p, struct sio_iommufd **out)
{
	struct sio_iommufd *fd = sio_calloc(1, sizeof(*fd));
	int rc;

	if (!fd)
		return -ENOMEM;
	rc = iommufd_ctx_create(&p->host, &fd->ictx);
	if (rc) {
		free(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

void sio_iommufd_close(struct sio_iommufd *fd)
{
	if (!fd)
		return;
	iommufd_ctx_put(fd->ictx);
	free(fd);
}

struct platform_device *platform_find_device(struct sio_platform *p,
					     const char *name)
{
	for (unsigned int i = 0; i < p->nr_devs; i++)
		if (!strcmp(p->devs[i].name, name))
			return &p->devs[i];
	return NULL;
}

void platform_set_iommufd_resolver(struct sio_platform *p,
				   platform_iommufd_resolver fn)
{
	atomic_store(&p->resolve_iommufd, fn);
}

struct iommufd_ctx *platform_iommufd_ctx(struct sio_iommufd *fd)
{
	return fd->ictx;
}

int platform_device_open(struct platform_device *d,
			 struct sio_vfio_pci_dev **out)
{
	bool closed = false;

	if (!atomic_compare_exchange_strong(&d->open, &closed, true))
		return -EBUSY;
	*out = sio_vfio_ioat_pci(d->vioat);
	return 0;
}

void platform_device_close(struct platform_device *d)
{
	sio_vfio_pci_release(sio_vfio_ioat_pci(d->vioat));
	atomic_store(&d->open, false);
}

int sio_iommufd_ioctl(struct sio_iommufd *fd, unsigned long cmd, void *arg)
{
	return iommufd_ctx_ioctl(fd->ictx, cmd, (uint64_t)(uintptr_t)arg);
}

struct sio_iommufd_mapping {
	struct iommufd_ctx *ictx;
	struct iommufd_object *owner; /* a long-term reference */
};

int sio_iommufd_mmap(struct sio_iommufd *fd, uint64_t offset, uint64_t length,
		     int *memfd, struct sio_iommufd_mapping **out)
{
	struct sio_iommufd_mapping *m = sio_malloc(sizeof(*m));
	int rc;

	if (!m)
		return -ENOMEM;
	rc = iommufd_ctx_mmap(fd->ictx, offset, length, memfd, &m->owner);
	if (rc) {
		free(m);
		return rc;
	}
	/* the mapping holds the file, and so the context, as a vma does */
	m->ictx = fd->ictx;
	iommufd_ctx_get(m->ictx);
	*out = m;
	return 0;
}

void sio_iommufd_munmap(struct sio_iommufd_mapping *m)
{
	iommufd_ctx_munmap(m->owner);
	iommufd_ctx_put(m->ictx);
	free(m);
}

void sio_iommufd_set_file_host(struct sio_iommufd *fd,
			       const struct sio_iommufd_file_host *host)
{
	iommufd_ctx_set_file_host(fd->ictx, host);
}

ssize_t sio_iommufd_eventq_read(struct sio_iommufd *fd, uint32_t eventq_id,
				void *buf, size_t len)
{
	return iommufd_eventq_rw_by_id(fd->ictx, eventq_id, buf, len, false);
}

ssize_t sio_iommufd_eventq_write(struct sio_iommufd *fd, uint32_t eventq_id,
				 const void *buf, size_t len)
{
	return iommufd_eventq_rw_by_id(fd->ictx, eventq_id, (void *)buf, len,
				       true);
}
