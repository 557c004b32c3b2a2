// SPDX-License-Identifier: MIT
/*
 * The platform: the composition root that owns the bus and what the
 * layers above it share (iommufd's pin accounting now; the SMMUs and
 * devices as they join).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <softiommu/iommufd.h>

#include "drivers/smmuv3/arm_smmu_v3.h"
#include "iommufd/iommufd_private.h"

/* The default platform: one SMMUv3 (every feature the model has). */
struct sio_platform {
	struct sio_mem_bus *bus;
	struct sio_smmu *smmu;
	struct arm_smmu_device *smmu_drv;
	struct iommufd_host host;
};

struct sio_iommufd {
	struct iommufd_ctx *ictx;
};

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

int sio_platform_create(struct sio_platform **out)
{
	struct sio_platform *p = calloc(1, sizeof(*p));
	struct sio_smmu_config cfg;
	int rc;

	if (!p)
		return -ENOMEM;
	rc = sio_mem_bus_create(&p->bus);
	if (rc)
		goto err;
	sio_smmu_config_default(&cfg);
	rc = sio_smmu_create(&cfg, p->bus, &p->smmu);
	if (rc)
		goto err;
	/* the host driver brings the SMMU up, as the kernel does at boot */
	rc = arm_smmu_probe(p->smmu, p->bus, &p->smmu_drv);
	if (rc)
		goto err;
	iommufd_host_init(&p->host, p->bus);
	atomic_store(&p->host.caps, process_caps());
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
	arm_smmu_remove(p->smmu_drv);
	sio_smmu_destroy(p->smmu);
	sio_mem_bus_destroy(p->bus);
	free(p);
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

int sio_iommufd_open(struct sio_platform *p, struct sio_iommufd **out)
{
	struct sio_iommufd *fd = calloc(1, sizeof(*fd));
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
	iommufd_ctx_destroy(fd->ictx);
	free(fd);
}

int sio_iommufd_ioctl(struct sio_iommufd *fd, unsigned long cmd, void *arg)
{
	return iommufd_ctx_ioctl(fd->ictx, cmd, (uint64_t)(uintptr_t)arg);
}
