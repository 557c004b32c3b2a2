// SPDX-License-Identifier: MIT
/*
 * Nested translation objects: IOMMU_VIOMMU_ALLOC, IOMMU_VDEVICE_ALLOC,
 * IOMMU_HWPT_ALLOC on a vIOMMU with an Arm SMMUv3 vSTE, attach and
 * replace to nested HWPTs, and a guest's stage 1 walked through the
 * parent's stage 2 by the SMMUv3 model.
 *
 * Expected values come from the kernel and the architecture: the errnos
 * of the kernel's viommu.c, hw_pagetable.c and arm-smmu-v3-iommufd.c
 * (arm_smmu_validate_vste(): V, Config, S1Fmt, S1ContextPtr, S1CDMax in
 * word 0 and S1DSS, S1CIR, S1COR, S1CSH, S1STALLD, EATS in word 1, the
 * rest EIO), the physical STE arm_smmu_make_nested_domain_ste() builds
 * (Config 0b111, MEV, the parent's stage-2 words), the CD, STE, LPAE
 * descriptor and event-record layouts of the SMMUv3 and VMSAv8-64
 * specifications (smmu-facts.md §2.5-2.7, §3.1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

/* Guest RAM: the CD and the stage-1 tables, at IPA GUEST_IPA. */
#define GUEST_IPA   0x40000000ull
#define GUEST_PAGES 32
#define CD_IPA	    (GUEST_IPA + 0x0000)
#define L0_IPA	    (GUEST_IPA + 0x1000)
#define L1_IPA	    (GUEST_IPA + 0x2000)
#define L2_IPA	    (GUEST_IPA + 0x3000)
#define L3_IPA	    (GUEST_IPA + 0x4000)
/* Two data pages, each its own IOAS mapping so each can be unmapped. */
#define DATA_A_IPA 0x40100000ull
#define DATA_B_IPA 0x40200000ull
/* The guest's IOVA: a distinct index at every level (1, 2, 3, 4). */
#define GUEST_IOVA ((1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12))

/* vSTE and STE fields (SMMUv3 5.2). */
#define STE0_V	      (1ull << 0)
#define STE0_CFG(c)   ((uint64_t)(c) << 1)
#define STE0_CFG_MASK (7ull << 1)
#define STE0_S1CTXPTR (((1ull << 46) - 1) << 6)
#define STE1_S1CIR_WB (1ull << 2)
#define STE1_S1COR_WB (1ull << 4)
#define STE1_S1CSH_IS (3ull << 6)
#define STE1_MEV      (1ull << 19)
#define STE1_S1STALLD (1ull << 27)
#define STE1_EATS(e)  ((uint64_t)(e) << 28)
#define CFG_ABORT     0
#define CFG_BYPASS    4
#define CFG_S1	      5
#define CFG_S2	      6
#define CFG_NESTED    7

/* Event records (SMMUv3 7.3). */
#define EVT_F_TRANSLATION 0x10

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev, *pdev1;
	struct iommufd_device *idev, *idev1;
	uint32_t dev_id, dev1_id;
	uint64_t pg;
	uint8_t *ram;		  /* guest RAM (tables) */
	uint8_t *data_a, *data_b; /* one host page each */
	uint32_t ioas, parent;
};

static int ioctl_(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static uint32_t ioas_alloc(struct fx *f)
{
	return ifd_ioas_alloc(f->fd);
}

static int destroy(struct fx *f, uint32_t id)
{
	return ifd_destroy(f->fd, id);
}

static int map_fixed(struct fx *f, void *va, uint64_t len, uint64_t iova)
{
	return ifd_map_fixed(f->fd, f->ioas, va, len, iova);
}

static int unmap(struct fx *f, uint64_t iova, uint64_t len)
{
	return ifd_unmap(f->fd, f->ioas, iova, len, NULL);
}

static int hwpt_alloc(struct fx *f, uint32_t dev_id, uint32_t pt_id,
		      uint32_t flags, uint32_t *out)
{
	return ifd_hwpt_alloc(f->fd, dev_id, pt_id, flags, out);
}

/* IOMMU_HWPT_ALLOC with driver data, as a VMM asks for a nested HWPT. */
static int nested_alloc_raw(struct fx *f, uint32_t dev_id, uint32_t pt_id,
			    uint32_t flags, uint32_t type, const void *data,
			    uint32_t len, uint32_t *out)
{
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c);

	if (!rc && out)
		*out = c.out_hwpt_id;
	return rc;
}

static int nested_alloc(struct fx *f, uint32_t viommu, uint64_t w0, uint64_t w1,
			uint32_t *out)
{
	struct sio_iommu_hwpt_arm_smmuv3 vste = {.ste = {w0, w1}};

	return nested_alloc_raw(f, f->dev_id, viommu, 0,
				SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
				sizeof(vste), out);
}

static int viommu_alloc(struct fx *f, uint32_t dev_id, uint32_t hwpt,
			uint32_t type, uint32_t *out)
{
	struct sio_iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt,
	};
	int rc = ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c);

	if (!rc && out)
		*out = c.out_viommu_id;
	return rc;
}

static int vdevice_alloc(struct fx *f, uint32_t viommu, uint32_t dev_id,
			 uint64_t virt_id, uint32_t *out)
{
	struct sio_iommu_vdevice_alloc c = {
		.size = sizeof(c),
		.viommu_id = viommu,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc = ioctl_(f, SIO_IOMMU_VDEVICE_ALLOC, &c);

	if (!rc && out)
		*out = c.out_vdevice_id;
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	f->pdev1 = platform_find_device(f->plat, "0000:00:04.1");
	assert_non_null(f->pdev);
	assert_non_null(f->pdev1);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &f->pdev->desc,
					     &f->dev_id, &f->idev),
			 0);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &f->pdev1->desc,
					     &f->dev1_id, &f->idev1),
			 0);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->ram = mmap(NULL, GUEST_PAGES * 0x1000 + f->pg,
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	f->data_a = mmap(NULL, f->pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->data_b = mmap(NULL, f->pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->ram != MAP_FAILED && f->data_a != MAP_FAILED &&
		    f->data_b != MAP_FAILED);
	f->ioas = ioas_alloc(f);
	assert_int_equal(hwpt_alloc(f, f->dev_id, f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
				    &f->parent),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->idev)
		iommufd_device_unbind(f->idev);
	if (f->idev1)
		iommufd_device_unbind(f->idev1);
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->ram, GUEST_PAGES * 0x1000 + f->pg);
	munmap(f->data_a, f->pg);
	munmap(f->data_b, f->pg);
	free(f);
	return 0;
}

/* The physical STE of @sid, as the SMMU reads it from the stream table. */
static void read_ste(struct fx *f, uint32_t sid, uint64_t ste[8])
{
	const uint64_t *p = f->plat->smmu_drv->strtab + 8 * (size_t)sid;

	for (int i = 0; i < 8; i++)
		ste[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
}

static unsigned int ste_cfg(const uint64_t *ste)
{
	return (unsigned int)((ste[0] & STE0_CFG_MASK) >> 1);
}

static uint64_t vste0_s1(uint64_t cd_ipa)
{
	return STE0_V | STE0_CFG(CFG_S1) | (cd_ipa & STE0_S1CTXPTR);
}

/*
 * S1STALLD: these guests never stall their device, so the driver's event
 * thread stays off and the tests read the SMMU's event queue themselves.
 */
static const uint64_t vste1_s1 = STE1_S1CIR_WB | STE1_S1COR_WB | STE1_S1CSH_IS |
				 STE1_S1STALLD;

static void test_viommu_alloc_errors(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = f->dev_id,
		.hwpt_id = f->parent,
	};
	uint32_t plain = 0, viommu = 0, viommu2 = 0;

	/* flags, then the DEFAULT type: EOPNOTSUPP before any lookup */
	c.flags = 1;
	c.dev_id = 0;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -EOPNOTSUPP);
	c.flags = 0;
	c.type = SIO_IOMMU_VIOMMU_TYPE_DEFAULT;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -EOPNOTSUPP);
	c.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	/* a device id that is no device */
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -ENOENT);
	c.dev_id = f->ioas;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -ENOENT);
	c.dev_id = f->dev_id;
	/* a type this SMMU's driver has no vIOMMU for */
	c.type = SIO_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -EOPNOTSUPP);
	c.type = 0x1234;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -EOPNOTSUPP);
	c.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3;
	/* hwpt_id: 0, an IOAS, a non-NEST_PARENT paging HWPT */
	assert_int_equal(viommu_alloc(f, f->dev_id, 0,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL),
			 -ENOENT);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->ioas,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL),
			 -ENOENT);
	assert_int_equal(hwpt_alloc(f, f->dev_id, f->ioas, 0, &plain), 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, plain,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL),
			 -EINVAL);
	/* the size word: below offsetofend(out_viommu_id) is EINVAL */
	c.size = 23;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), -EINVAL);
	/* 24 bytes suffice: the driver data is optional */
	c.size = 24;
	c.out_viommu_id = 0;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c), 0);
	viommu = c.out_viommu_id;
	assert_int_not_equal(viommu, 0);
	/* several vIOMMUs may share one parent */
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu2),
			 0);
	assert_int_not_equal(viommu2, viommu);

	/* the parent is held by each vIOMMU */
	assert_int_equal(destroy(f, f->parent), -EBUSY);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, f->parent), -EBUSY);
	assert_int_equal(destroy(f, viommu2), 0);
	assert_int_equal(destroy(f, viommu2), -ENOENT);
	assert_int_equal(destroy(f, f->parent), 0);
	assert_int_equal(destroy(f, plain), 0);
}

static void test_vdevice_alloc_errors(void **state)
{
	struct fx *f = *state;
	uint32_t viommu = 0, viommu2 = 0, vdev = 0, vdev1 = 0;
	struct sio_iommu_vdevice_alloc c = {.size = sizeof(c)};

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu2),
			 0);
	/* the size word: all 24 bytes are needed */
	c.size = 23;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VDEVICE_ALLOC, &c), -EINVAL);
	/* ids that are not a vIOMMU, not a device */
	assert_int_equal(vdevice_alloc(f, 0, f->dev_id, 1, NULL), -ENOENT);
	assert_int_equal(vdevice_alloc(f, f->parent, f->dev_id, 1, NULL),
			 -ENOENT);
	assert_int_equal(vdevice_alloc(f, viommu, 0, 1, NULL), -ENOENT);
	assert_int_equal(vdevice_alloc(f, viommu, f->ioas, 1, NULL), -ENOENT);

	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x20, &vdev), 0);
	/* the same device again: on this vIOMMU or another, EEXIST */
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x21, NULL),
			 -EEXIST);
	assert_int_equal(vdevice_alloc(f, viommu2, f->dev_id, 0x22, NULL),
			 -EEXIST);
	/* a virtual ID taken on this vIOMMU, EEXIST; on another, free */
	assert_int_equal(vdevice_alloc(f, viommu, f->dev1_id, 0x20, NULL),
			 -EEXIST);
	assert_int_equal(vdevice_alloc(f, viommu2, f->dev1_id, 0x20, &vdev1),
			 0);

	/* vDEVICEs hold their vIOMMU */
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, vdev), -ENOENT);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, viommu2), -EBUSY);
	/* with its vDEVICE gone, the device may have another */
	assert_int_equal(destroy(f, vdev1), 0);
	assert_int_equal(vdevice_alloc(f, viommu2, f->dev1_id, 0x20, &vdev1),
			 0);
	assert_int_equal(destroy(f, vdev1), 0);
	assert_int_equal(destroy(f, viommu2), 0);
}

/*
 * A device behind another SMMU instance: a second platform's device
 * bound to this context.  Every object pairing it with this SMMU's is
 * refused with EINVAL.
 */
static void test_other_iommu_einval(void **state)
{
	struct fx *f = *state;
	struct sio_platform *plat2;
	struct platform_device *pdev2;
	struct iommufd_device *idev2;
	uint32_t dev2_id = 0, viommu = 0, nested = 0;
	uint32_t pt = 0;

	assert_int_equal(sio_platform_create(&plat2), 0);
	pdev2 = platform_find_device(plat2, "0000:00:04.0");
	assert_non_null(pdev2);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &pdev2->desc,
					     &dev2_id, &idev2),
			 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	/* its driver's vIOMMU cannot stand on this SMMU's stage 2 */
	assert_int_equal(viommu_alloc(f, dev2_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL),
			 -EINVAL);
	assert_int_equal(vdevice_alloc(f, viommu, dev2_id, 1, NULL), -EINVAL);
	assert_int_equal(nested_alloc_raw(f, dev2_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3,
					  (uint64_t[2]){0, 0}, 16, NULL),
			 -EINVAL);
	assert_int_equal(nested_alloc(f, viommu, STE0_V | STE0_CFG(CFG_ABORT),
				      0, &nested),
			 0);
	pt = nested;
	assert_int_equal(iommufd_device_attach(idev2, &pt), -EINVAL);
	assert_int_equal(destroy(f, nested), 0);
	assert_int_equal(destroy(f, viommu), 0);
	iommufd_device_unbind(idev2);
	sio_platform_destroy(plat2);
}

static void test_nested_alloc_errors(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_hwpt_arm_smmuv3 vste = {
		.ste = {STE0_V | STE0_CFG(CFG_ABORT), 0}};
	uint8_t big[24] = {0};
	uint32_t viommu = 0, nested = 0, nested2 = 0;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	/* a type without data, data without a type: EINVAL up front */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  0, NULL),
			 -EINVAL);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_NONE, &vste, 16,
					  NULL),
			 -EINVAL);
	/* no data at all: a vIOMMU makes nothing but nested domains */
	assert_int_equal(hwpt_alloc(f, f->dev_id, viommu, 0, NULL),
			 -EOPNOTSUPP);
	/* flags a nested HWPT cannot have */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu,
					  SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu,
					  SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu,
					  SIO_IOMMU_HWPT_ALLOC_PASID,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -EOPNOTSUPP);
	/* driver data of another type or length: EINVAL */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_VTD_S1, &vste, 16,
					  NULL),
			 -EINVAL);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  8, NULL),
			 -EINVAL);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, big,
					  sizeof(big), NULL),
			 -EINVAL);
	/* a bad pointer */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, NULL,
					  16, NULL),
			 -EFAULT);
	/* a fault queue id: none exists */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, viommu,
					  SIO_IOMMU_HWPT_FAULT_ID_VALID,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -ENOENT);
	/* on the parent HWPT itself: arm-smmu-v3 nests only on a vIOMMU */
	assert_int_equal(nested_alloc_raw(f, f->dev_id, f->parent, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -EOPNOTSUPP);
	/* on a nested HWPT: not a page table */
	assert_int_equal(nested_alloc(f, viommu, vste.ste[0], 0, &nested), 0);
	assert_int_equal(nested_alloc_raw(f, f->dev_id, nested, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -EINVAL);
	assert_int_equal(nested_alloc_raw(f, f->ioas, viommu, 0,
					  SIO_IOMMU_HWPT_DATA_ARM_SMMUV3, &vste,
					  16, NULL),
			 -ENOENT);

	/* a nested HWPT holds its vIOMMU, which holds the parent */
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, f->parent), -EBUSY);
	assert_int_equal(nested_alloc(f, viommu, vste.ste[0], 0, &nested2), 0);
	assert_int_equal(destroy(f, nested), 0);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, nested2), 0);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, f->parent), 0);
}

/* Every vSTE rule of arm_smmu_validate_vste(). */
static void test_vste_validation(void **state)
{
	struct fx *f = *state;
	const uint64_t cd = vste0_s1(CD_IPA);
	struct {
		uint64_t w0, w1;
		int rc;
	} cases[] = {
		/* V=0: anything else is ignored (zeroed) */
		{0, 0, 0},
		{~1ull, ~0ull, 0},
		/* the three Configs a guest may ask for */
		{STE0_V | STE0_CFG(CFG_ABORT), 0, 0},
		{STE0_V | STE0_CFG(CFG_BYPASS), 0, 0},
		{cd, vste1_s1, 0},
		/* the other five are invalid STE data */
		{STE0_V | STE0_CFG(1), 0, -EIO},
		{STE0_V | STE0_CFG(2), 0, -EIO},
		{STE0_V | STE0_CFG(3), 0, -EIO},
		{STE0_V | STE0_CFG(CFG_S2), 0, -EIO},
		{STE0_V | STE0_CFG(CFG_NESTED), 0, -EIO},
		/* every allowed word-0 field at once */
		{cd | (3ull << 4) | (31ull << 59), 0, 0},
		/* word 0 outside them: S1ContextPtr[55:52], bits 58:56 */
		{cd | (1ull << 52), 0, -EIO},
		{cd | (1ull << 55), 0, -EIO},
		{cd | (1ull << 56), 0, -EIO},
		{cd | (1ull << 58), 0, -EIO},
		/* every allowed word-1 field: S1DSS, S1CIR/COR/CSH, S1STALLD */
		{cd, 0xffull | (1ull << 27), 0},
		/* EATS: abort and full ATS only */
		{cd, vste1_s1 | STE1_EATS(1), 0},
		{cd, vste1_s1 | STE1_EATS(2), -EIO},
		{cd, vste1_s1 | STE1_EATS(3), -EIO},
		{STE0_V | STE0_CFG(CFG_BYPASS), STE1_EATS(2), -EIO},
		/* word 1 outside them: S2HWU, DRE, CONT, MEV, STRW, SHCFG... */
		{cd, vste1_s1 | (1ull << 8), -EIO},
		{cd, vste1_s1 | (1ull << 12), -EIO},
		{cd, vste1_s1 | STE1_MEV, -EIO},
		{cd, vste1_s1 | (1ull << 25), -EIO},
		{cd, vste1_s1 | (1ull << 30), -EIO},
		{cd, vste1_s1 | (1ull << 44), -EIO},
		{cd, vste1_s1 | (1ull << 63), -EIO},
	};
	uint32_t viommu = 0, nested = 0;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = nested_alloc(f, viommu, cases[i].w0, cases[i].w1,
				      &nested);

		if (rc != cases[i].rc)
			fail_msg("case %zu: %#llx %#llx gave %d, want %d", i,
				 (unsigned long long)cases[i].w0,
				 (unsigned long long)cases[i].w1, rc,
				 cases[i].rc);
		if (!rc)
			assert_int_equal(destroy(f, nested), 0);
	}
	assert_int_equal(destroy(f, viommu), 0);
}

/*
 * Attach rules and the physical STE: a translating vSTE needs the
 * device's vDEVICE; abort and bypass do not; the STE is the parent's
 * stage 2 with Config nested, the guest's stage-1 fields and MEV.
 */
static void test_attach_and_physical_ste(void **state)
{
	struct fx *f = *state;
	uint64_t s2_ste[8], ste[8];
	uint32_t viommu = 0, vdev = 0, s1 = 0, s1_ats = 0, byp = 0, abt = 0,
		 inval = 0, pt = 0;
	uint32_t sid = f->pdev->sid;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(nested_alloc(f, viommu,
				      vste0_s1(CD_IPA) | (2ull << 59),
				      vste1_s1 | 1, &s1),
			 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA),
				      vste1_s1 | STE1_EATS(1), &s1_ats),
			 0);
	assert_int_equal(nested_alloc(f, viommu, STE0_V | STE0_CFG(CFG_BYPASS),
				      0, &byp),
			 0);
	assert_int_equal(nested_alloc(f, viommu, STE0_V | STE0_CFG(CFG_ABORT),
				      0, &abt),
			 0);
	assert_int_equal(nested_alloc(f, viommu, STE0_CFG(CFG_S1) | 0x40000, 0,
				      &inval),
			 0);

	/* the parent's own STE, for its stage-2 words */
	pt = f->parent;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	read_ste(f, sid, s2_ste);
	assert_int_equal(ste_cfg(s2_ste), CFG_S2);
	/*
	 * A paging domain enables ATS for a device that has it (the
	 * kernel's arm_smmu_attach_prepare()); a nested domain only when
	 * the guest's vSTE translates and asks for it: the words below are
	 * the parent's without EATS.
	 */
	assert_int_equal(s2_ste[1] & STE1_EATS(3), STE1_EATS(1));
	s2_ste[1] &= ~STE1_EATS(3);
	iommufd_device_detach(f->idev);

	/* translating without a vDEVICE: ENOENT, the device stays blocked */
	pt = s1;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), -ENOENT);
	read_ste(f, sid, ste);
	assert_int_equal(ste_cfg(ste), CFG_ABORT);
	/* bypass and abort attach without one */
	pt = byp;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(pt, byp);
	read_ste(f, sid, ste);
	assert_memory_equal(ste, s2_ste, sizeof(ste));
	pt = abt;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	read_ste(f, sid, ste);
	assert_true(ste[0] & STE0_V);
	assert_int_equal(ste_cfg(ste), CFG_ABORT);
	pt = inval; /* V=0: an abort STE too */
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	read_ste(f, sid, ste);
	assert_true(ste[0] & STE0_V);
	assert_int_equal(ste_cfg(ste), CFG_ABORT);
	pt = s1;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), -ENOENT);

	/* with the vDEVICE, the nested STE */
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x8, &vdev), 0);
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	read_ste(f, sid, ste);
	assert_int_equal(ste[0], STE0_V | STE0_CFG(CFG_NESTED) |
					 (CD_IPA & STE0_S1CTXPTR) |
					 (2ull << 59));
	assert_int_equal(ste[1], vste1_s1 | 1 | STE1_MEV);
	for (int i = 2; i < 8; i++)
		assert_int_equal(ste[i], s2_ste[i]);
	/*
	 * The guest's EATS is not copied; the host sets EATS 0b01 itself
	 * for a device with ATS behind an SMMU with ATS, as the kernel's
	 * arm_smmu_make_nested_domain_ste() does when ats_enabled.
	 */
	pt = s1_ats;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	read_ste(f, sid, ste);
	assert_int_equal(ste[1], vste1_s1 | STE1_MEV | STE1_EATS(1));

	/* in use: the HWPT, its vIOMMU, the parent */
	assert_int_equal(destroy(f, s1_ats), -EBUSY);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, f->parent), -EBUSY);
	assert_int_equal(destroy(f, f->ioas), -EBUSY);
	/* the vDEVICE may go while its device is attached (the kernel too) */
	assert_int_equal(destroy(f, vdev), 0);
	/* a nested HWPT to the parent and back */
	pt = f->parent;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	read_ste(f, sid, ste);
	assert_int_equal(ste[1] & STE1_EATS(3), STE1_EATS(1));
	ste[1] &= ~STE1_EATS(3);
	assert_memory_equal(ste, s2_ste, sizeof(ste));
	iommufd_device_detach(f->idev);
	read_ste(f, sid, ste);
	assert_int_equal(ste_cfg(ste), CFG_ABORT);

	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, s1_ats), 0);
	assert_int_equal(destroy(f, byp), 0);
	assert_int_equal(destroy(f, abt), 0);
	assert_int_equal(destroy(f, inval), 0);
	assert_int_equal(destroy(f, viommu), 0);
}

static void wr64(struct fx *f, uint64_t ipa, uint64_t v)
{
	memcpy(f->ram + (ipa - GUEST_IPA), &v, sizeof(v));
}

/* A 4 KiB-granule, 48-bit, 4-level stage-1 table and its CD, by hand. */
static void build_guest_tables(struct fx *f, uint16_t asid)
{
	/* S1 page: AF, inner shareable, AP[1] (EL0 too), AttrIndx 0 */
	const uint64_t page = (1ull << 10) | (3ull << 8) | (1ull << 6) | 3;
	uint32_t idr5 = sio_smmu_read32(sio_platform_smmu(f->plat), 0x14);
	uint64_t cd0 = 0;

	memset(f->ram, 0, GUEST_PAGES * 0x1000);
	wr64(f, L0_IPA + 8 * 1, L1_IPA | 3);
	wr64(f, L1_IPA + 8 * 2, L2_IPA | 3);
	wr64(f, L2_IPA + 8 * 3, L3_IPA | 3);
	wr64(f, L3_IPA + 8 * 4, DATA_A_IPA | page);
	wr64(f, L3_IPA + 8 * 5, DATA_B_IPA | page);
	/* entry 6 stays invalid: the guest's own translation fault */

	cd0 |= 16;			   /* T0SZ: 48-bit input */
	cd0 |= 1ull << 8;		   /* IR0 write-back */
	cd0 |= 1ull << 10;		   /* OR0 write-back */
	cd0 |= 3ull << 12;		   /* SH0 inner shareable */
	cd0 |= 1ull << 30;		   /* EPD1: no TTB1 */
	cd0 |= 1ull << 31;		   /* V */
	cd0 |= (uint64_t)(idr5 & 7) << 32; /* IPS: the SMMU's OAS */
	cd0 |= 1ull << 41;		   /* AA64 */
	cd0 |= 1ull << 45;		   /* R: record faults */
	cd0 |= 1ull << 46;		   /* A: abort on fault */
	cd0 |= (uint64_t)asid << 48;	   /* ASID */
	wr64(f, CD_IPA + 8, L0_IPA);	   /* TTB0[51:4] */
	wr64(f, CD_IPA + 24, 0xff);	   /* MAIR: Attr0 normal write-back */
	wr64(f, CD_IPA, cd0);
}

static int dma(struct fx *f, uint64_t iova, void *buf, size_t len, bool wr)
{
	struct sio_smmu_txn txn = {.sid = f->pdev->sid,
				   .addr = iova,
				   .attr = wr ? SIO_SMMU_WRITE : 0};
	size_t done;

	return sio_smmu_dma(sio_platform_smmu(f->plat), &txn, buf, len, &done);
}

static int read_events(struct fx *f, uint64_t (*ev)[4], int max)
{
	return arm_smmu_read_events(f->plat->smmu_drv, ev, max);
}

/*
 * End to end: the guest's CD and stage-1 tables in guest RAM (the
 * parent's IOAS), its IOVA to IPA, the parent's IPA to host memory; a
 * guest fault is a stage-1 event, an IPA unmapped from the IOAS a
 * stage-2 one.
 */
static void test_nested_dma(void **state)
{
	struct fx *f = *state;
	const char msg[] = "IOVA -> IPA -> PA";
	uint64_t ev[8][4];
	uint32_t viommu = 0, vdev = 0, s1 = 0, byp = 0, pt = 0;
	uint8_t back[8];

	build_guest_tables(f, 7);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	assert_int_equal(map_fixed(f, f->data_a, f->pg, DATA_A_IPA), 0);
	assert_int_equal(map_fixed(f, f->data_b, f->pg, DATA_B_IPA), 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x8, &vdev), 0);
	assert_int_equal(
		nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1, &s1), 0);
	assert_int_equal(nested_alloc(f, viommu, STE0_V | STE0_CFG(CFG_BYPASS),
				      0, &byp),
			 0);
	while (read_events(f, ev, 8) > 0)
		;

	/* a guest in bypass: its IPAs are the parent's IOVAs */
	pt = byp;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(
		dma(f, DATA_A_IPA + 0x40, (void *)msg, sizeof(msg), true), 0);
	assert_memory_equal(f->data_a + 0x40, msg, sizeof(msg));

	/* the guest's stage 1: IOVA page 4 is data A, page 5 data B */
	pt = s1;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	memset(f->data_a, 0, f->pg);
	assert_int_equal(
		dma(f, GUEST_IOVA + 0x123, (void *)msg, sizeof(msg), true), 0);
	assert_memory_equal(f->data_a + 0x123, msg, sizeof(msg));
	memcpy(f->data_b + 0xff8, "stage-2", 8);
	assert_int_equal(dma(f, GUEST_IOVA + 0x1ff8, back, 8, false), 0);
	assert_memory_equal(back, "stage-2", 8);
	assert_int_equal(read_events(f, ev, 8), 0);

	/* page 6 has no guest descriptor: a stage-1 translation fault */
	assert_int_equal(dma(f, GUEST_IOVA + 0x2010, back, 8, true), -EFAULT);
	assert_int_equal(read_events(f, ev, 8), 1);
	assert_int_equal(ev[0][0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0][0] >> 32, f->pdev->sid);
	assert_int_equal(ev[0][2], GUEST_IOVA + 0x2010);
	assert_false(ev[0][1] & (1ull << 39)); /* S2 */

	/*
	 * IOAS_UNMAP of data B's IPA: its stage-2 mapping goes, and with it
	 * every cached nested translation through it.
	 */
	assert_int_equal(unmap(f, DATA_B_IPA, f->pg), 0);
	assert_int_equal(dma(f, GUEST_IOVA + 0x1ff8, back, 8, false), -EFAULT);
	assert_int_equal(read_events(f, ev, 8), 1);
	assert_int_equal(ev[0][0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0][0] >> 32, f->pdev->sid);
	assert_int_equal(ev[0][2], GUEST_IOVA + 0x1ff8);
	assert_true(ev[0][1] & (1ull << 39));	   /* S2 */
	assert_int_equal((ev[0][1] >> 40) & 3, 2); /* CLASS: IN */
	assert_int_equal(ev[0][3] & (((1ull << 40) - 1) << 12),
			 DATA_B_IPA); /* IPA[51:12] */
	/* page 4 still translates */
	assert_int_equal(dma(f, GUEST_IOVA + 0x10, back, 8, false), 0);
	assert_memory_equal(back, f->data_a + 0x10, 8);

	iommufd_device_detach(f->idev);
	assert_int_equal(dma(f, GUEST_IOVA, back, 8, false), -EFAULT);
	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, byp), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
}

/* SMMUv3 commands (section 4.1.1), as a guest's driver builds them. */
#define CMD_CFGI_STE	   0x03
#define CMD_CFGI_CD	   0x05
#define CMD_TLBI_NH_ALL	   0x10
#define CMD_TLBI_NH_VA	   0x12
#define CMD_TLBI_S12_VMALL 0x28
#define CMD_TLBI_S2_IPA	   0x2a
#define CMD_TLBI_NSNH_ALL  0x30
#define CMD_ATC_INV	   0x40
#define CMD_PRI_RESP	   0x41
#define CMD_RESUME	   0x44
#define CMD_SYNC	   0x46
#define CMD_SID(s)	   ((uint64_t)(s) << 32)
#define CMD_VMID(v)	   ((uint64_t)(v) << 32)
#define CMD_ASID(a)	   ((uint64_t)(a) << 48)
#define CMD_SSEC	   (1ull << 10)

struct inv_cmd {
	uint64_t cmd[2];
};

/* IOMMU_HWPT_INVALIDATE; *@done gets entry_num back. */
static int invalidate(struct fx *f, uint32_t id, uint32_t type,
		      const void *cmds, uint32_t entry_len, uint32_t num,
		      uint32_t *done)
{
	struct sio_iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = id,
		.data_uptr = (uint64_t)(uintptr_t)cmds,
		.data_type = type,
		.entry_len = entry_len,
		.entry_num = num,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_INVALIDATE, &c);

	if (done)
		*done = c.entry_num;
	return rc;
}

static int vinv(struct fx *f, uint32_t viommu, const struct inv_cmd *cmds,
		uint32_t num, uint32_t *done)
{
	return invalidate(f, viommu,
			  SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, cmds,
			  sizeof(*cmds), num, done);
}

/*
 * IOMMU_HWPT_INVALIDATE's arguments in the kernel's order
 * (iommufd_hwpt_invalidate()), and the commands the vSMMU takes
 * (arm_vsmmu_convert_user_cmd()): entry_num always says how many were
 * carried out.
 */
static void test_invalidate_errors(void **state)
{
	struct fx *f = *state;
	struct inv_cmd ok = {{CMD_TLBI_NH_ALL | CMD_VMID(0x77), 0}};
	struct inv_cmd mix[4] = {
		{{CMD_TLBI_NH_ALL, 0}},
		{{CMD_TLBI_NH_VA | CMD_ASID(3), 0x1000}},
		{{CMD_CFGI_STE | CMD_SID(8), 0}},
		{{CMD_TLBI_NH_ALL, 0}},
	};
	const uint64_t refused[] = {
		CMD_CFGI_STE,
		CMD_TLBI_S2_IPA,
		CMD_TLBI_S12_VMALL,
		CMD_SYNC,
		CMD_PRI_RESP,
		CMD_RESUME,
		0x04 /* CFGI_STE_RANGE */,
		0x2c /* NH_ALL EL2 */,
		0xff,
	};
	struct inv_cmd many[100];
	uint64_t wide[3] = {CMD_TLBI_NH_ALL, 0, 0};
	struct sio_iommu_hwpt_invalidate c = {.size = sizeof(c)};
	uint32_t viommu = 0, nested = 0, vdev = 0, done = 99;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1,
				      &nested),
			 0);

	/* __reserved, then the array's shape, before any lookup */
	c.hwpt_id = viommu;
	c.__reserved = 1;
	c.entry_num = 5;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_INVALIDATE, &c), -EOPNOTSUPP);
	assert_int_equal(c.entry_num, 0);
	assert_int_equal(invalidate(f, 4242, 1, NULL, 16, 1, &done), -EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(invalidate(f, 4242, 1, &ok, 0, 1, &done), -EINVAL);
	assert_int_equal(invalidate(f, 4242, 1, &ok, 16, 1, &done), -ENOENT);
	/* what it names: an IOAS or a paging HWPT have no user caches */
	assert_int_equal(invalidate(f, f->ioas, 1, &ok, 16, 1, &done), -EINVAL);
	assert_int_equal(invalidate(f, f->parent, 1, &ok, 16, 1, &done),
			 -EINVAL);
	/* arm-smmu-v3's nested domains invalidate through their vIOMMU */
	assert_int_equal(invalidate(f, nested, 1, &ok, 16, 1, &done),
			 -EOPNOTSUPP);
	assert_int_equal(done, 0);

	/* the vSMMU: its type, at least one entry, readable */
	assert_int_equal(invalidate(f, viommu, 0, &ok, 16, 1, &done), -EINVAL);
	assert_int_equal(vinv(f, viommu, &ok, 0, &done), -EINVAL);
	assert_int_equal(invalidate(f, viommu, 1, (void *)8, 16, 1, &done),
			 -EFAULT);
	assert_int_equal(done, 0);
	assert_int_equal(vinv(f, viommu, &ok, 1, &done), 0);
	assert_int_equal(done, 1);
	/* more than the kernel's one allocation can hold: ENOMEM, nothing */
	assert_int_equal(vinv(f, viommu, &ok, (4u << 20) / 16 + 1, &done),
			 -ENOMEM);
	assert_int_equal(done, 0);
	assert_int_equal(vinv(f, viommu, &ok, UINT32_MAX, &done), -ENOMEM);
	/* entries of another length: copy_struct_from_user() each */
	assert_int_equal(invalidate(f, viommu, 1, wide, 24, 1, &done), 0);
	wide[2] = 1;
	assert_int_equal(invalidate(f, viommu, 1, wide, 24, 1, &done), -E2BIG);
	assert_int_equal(done, 0);
	assert_int_equal(invalidate(f, viommu, 1, wide, 8, 1, &done), 0);

	/* a refused command stops the array there */
	assert_int_equal(vinv(f, viommu, mix, 4, &done), -EIO);
	assert_int_equal(done, 2);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct inv_cmd r = {{refused[i], 0}};

		assert_int_equal(vinv(f, viommu, &r, 1, &done), -EIO);
		assert_int_equal(done, 0);
	}
	/* a virtual StreamID the vIOMMU does not know */
	mix[0].cmd[0] = CMD_CFGI_CD | CMD_SID(8);
	assert_int_equal(vinv(f, viommu, mix, 1, &done), -EIO);
	mix[0].cmd[0] = CMD_ATC_INV | CMD_SID(8);
	assert_int_equal(vinv(f, viommu, mix, 1, &done), -EIO);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 8, &vdev), 0);
	mix[0].cmd[0] = CMD_CFGI_CD | CMD_SID(8);
	assert_int_equal(vinv(f, viommu, mix, 1, &done), 0);
	assert_int_equal(done, 1);

	/* more than one batch of the command queue */
	for (int i = 0; i < 100; i++)
		many[i] = (struct inv_cmd){
			{CMD_TLBI_NH_VA | CMD_ASID(i), (uint64_t)i << 12}};
	assert_int_equal(vinv(f, viommu, many, 100, &done), 0);
	assert_int_equal(done, 100);

	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, nested), 0);
	assert_int_equal(destroy(f, viommu), 0);
}

/*
 * The guest's caches are its to invalidate: a changed stage-1 entry is
 * not seen until its TLBI (NH_VA, or NSNH_ALL made NH_ALL of the VMID),
 * a changed CD not until CFGI_CD with the guest's StreamID.  A command
 * the SMMU refuses (a CFGI naming a Secure stream) is skipped, as the
 * kernel's driver skips it, and the queue goes on.
 */
static void test_invalidate_guest_caches(void **state)
{
	struct fx *f = *state;
	const uint64_t page = (1ull << 10) | (3ull << 8) | (1ull << 6) | 3;
	uint32_t viommu = 0, vdev = 0, s1 = 0, pt = 0, done = 0;
	uint64_t ev[8][4];
	uint8_t v = 0x5a, back = 0;
	struct inv_cmd va = {
		{CMD_TLBI_NH_VA | CMD_ASID(7) | CMD_VMID(0x99), GUEST_IOVA}};
	struct inv_cmd all = {{CMD_TLBI_NSNH_ALL, 0}};
	struct inv_cmd cd[3] = {
		{{CMD_CFGI_CD | CMD_SID(0x8) | CMD_SSEC, 0}},
		{{CMD_CFGI_CD | CMD_SID(0x8), 0}},
		{{CMD_TLBI_NH_ALL, 0}},
	};

	build_guest_tables(f, 7);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	assert_int_equal(map_fixed(f, f->data_a, f->pg, DATA_A_IPA), 0);
	assert_int_equal(map_fixed(f, f->data_b, f->pg, DATA_B_IPA), 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x8, &vdev), 0);
	assert_int_equal(
		nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1, &s1), 0);
	pt = s1;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	while (read_events(f, ev, 8) > 0)
		;

	assert_int_equal(dma(f, GUEST_IOVA, &v, 1, true), 0);
	assert_int_equal(f->data_a[0], 0x5a);
	/* the guest points page 4 at data B, without telling the SMMU */
	wr64(f, L3_IPA + 8 * 4, DATA_B_IPA | page);
	v = 0x6b;
	assert_int_equal(dma(f, GUEST_IOVA, &v, 1, true), 0);
	assert_int_equal(f->data_a[0], 0x6b); /* the stale entry */
	assert_int_equal(f->data_b[0], 0);
	/* its TLBI_NH_VA (its VMID field is not the one used) */
	assert_int_equal(vinv(f, viommu, &va, 1, &done), 0);
	assert_int_equal(done, 1);
	v = 0x7c;
	assert_int_equal(dma(f, GUEST_IOVA, &v, 1, true), 0);
	assert_int_equal(f->data_b[0], 0x7c);
	assert_int_equal(f->data_a[0], 0x6b);

	/* back to data A, and TLBI_NSNH_ALL: all of this VMID only */
	wr64(f, L3_IPA + 8 * 4, DATA_A_IPA | page);
	assert_int_equal(dma(f, GUEST_IOVA, &back, 1, false), 0);
	assert_int_equal(back, 0x7c);
	assert_int_equal(vinv(f, viommu, &all, 1, &done), 0);
	assert_int_equal(dma(f, GUEST_IOVA, &back, 1, false), 0);
	assert_int_equal(back, 0x6b);

	/* the guest invalidates its CD: cached until CFGI_CD */
	wr64(f, CD_IPA, 0); /* V = 0 */
	assert_int_equal(dma(f, GUEST_IOVA + 0x1000, &back, 1, false), 0);
	assert_int_equal(vinv(f, viommu, cd, 3, &done), 0);
	assert_int_equal(done, 3); /* the refused one skipped, not fatal */
	assert_int_equal(dma(f, GUEST_IOVA + 0x1000, &back, 1, false), -EFAULT);
	assert_int_equal(read_events(f, ev, 8), 1);
	assert_int_equal(ev[0][0] & 0xff, 0x0a); /* C_BAD_CD */
	assert_int_equal(ev[0][0] >> 32, f->pdev->sid);

	iommufd_device_detach(f->idev);
	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
}

/*
 * Isolation, as a property: random guest stage-1 tables (valid and
 * invalid descriptors, tables and outputs at IPAs stage 2 maps and at
 * IPAs it does not, access flag clear, read-only pages) and random DMA
 * through them.  The expected outcome of every access comes from a walk
 * the test does itself over guest RAM and a shadow of the stage-2 map:
 * the fault and its stage, or the one host page the bytes must land in.
 * Every other host page the device could reach is checked unchanged.
 */
/* guest RAM: the CD, L0, then tables; the last two pages guest data */
#define PROP_TABLE_PAGES (GUEST_PAGES - 4)
#define PROP_GUEST_DATA	 (GUEST_IPA + (GUEST_PAGES - 2) * 0x1000ull)
#define PROP_DATA_PAGES	 8
#define PROP_DATA_IPA	 0x40400000ull /* data page i at + 2i pages */
#define PROP_ROUNDS	 300

struct prop {
	struct fx *f;
	uint8_t *data; /* PROP_DATA_PAGES host pages, stage 2 maps each */
	unsigned int seed;
};

static uint32_t prop_rand(struct prop *p)
{
	p->seed = p->seed * 1103515245u + 12345u;
	return p->seed >> 8;
}

/* Stage 2 as the test set it: IPA -> host byte, or NULL. */
static uint8_t *shadow_s2(struct prop *p, uint64_t ipa)
{
	uint64_t page = ipa & ~0xfffull, off = ipa & 0xfff;

	if (page >= GUEST_IPA && page < GUEST_IPA + GUEST_PAGES * 0x1000)
		return p->f->ram + (page - GUEST_IPA) + off;
	if (page >= PROP_DATA_IPA &&
	    page < PROP_DATA_IPA + 2 * PROP_DATA_PAGES * 0x1000 &&
	    !((page - PROP_DATA_IPA) & 0x1000))
		return p->data + (page - PROP_DATA_IPA) / 2 + off;
	return NULL;
}

/*
 * A random output IPA: the guest's data pages in its RAM, a data page,
 * the hole after one, far away.  Never a table page: a device write
 * there would change walks the SMMU may have cached, which real guests
 * invalidate after and this test does not.
 */
static uint64_t random_ipa(struct prop *p)
{
	switch (prop_rand(p) % 4) {
	case 0:
		return PROP_GUEST_DATA + (uint64_t)(prop_rand(p) % 2) * 0x1000;
	case 1:
	case 2:
		return PROP_DATA_IPA +
		       (uint64_t)(prop_rand(p) % (2 * PROP_DATA_PAGES)) *
			       0x1000;
	default:
		return 0x7000000000ull +
		       (uint64_t)(prop_rand(p) % 4096) * 0x1000;
	}
}

/* A table pointer stage 2 does not map: a hole, or far away. */
static uint64_t random_hole(struct prop *p)
{
	if (prop_rand(p) & 1)
		return PROP_DATA_IPA + 0x1000 +
		       (uint64_t)(prop_rand(p) % PROP_DATA_PAGES) * 0x2000;
	return 0x7000000000ull + (uint64_t)(prop_rand(p) % 4096) * 0x1000;
}

/*
 * Fill the guest's tables: level 0 at L0_IPA, then tables from the pool
 * of guest pages, each entry of the walks the test will take random.
 */
static void random_tables(struct prop *p, const uint64_t *iovas, int n)
{
	const uint64_t attrs = (3ull << 8) | (1ull << 6) | 3; /* SH, AP[1] */
	unsigned int next = 1; /* pool pages after L0 */

	memset(p->f->ram + (L0_IPA - GUEST_IPA), 0,
	       (PROP_TABLE_PAGES + 1) * 0x1000);
	for (int k = 0; k < n; k++) {
		uint64_t table = L0_IPA;

		for (int lvl = 0; lvl < 4; lvl++) {
			unsigned int idx =
				(unsigned int)(iovas[k] >> (39 - 9 * lvl)) &
				511;
			uint8_t *host = shadow_s2(p, table);
			uint64_t d, r = prop_rand(p) % 16;

			if (!host)
				break; /* a table stage 2 does not map */
			memcpy(&d, host + 8 * idx, 8);
			if (d)
				goto follow; /* shared with an earlier walk */
			if (lvl < 3) {
				if (r == 0)
					d = 0; /* invalid */
				else if (r == 1)
					d = random_hole(p) | 3;
				else if (next <= PROP_TABLE_PAGES)
					d = (L0_IPA + 0x1000ull * next++) | 3;
				else
					d = 0;
			} else {
				d = r == 0 ? 0 : random_ipa(p) | attrs;
				if (r == 1)
					d &= ~(1ull << 10); /* AF clear */
				else
					d |= 1ull << 10;
				if (r == 2)
					d |= 1ull << 7; /* AP[2]: read-only */
			}
			memcpy(host + 8 * idx, &d, 8);
follow:
			if (lvl == 3 || !(d & 1))
				break;
			table = d & 0xfffffffff000ull;
		}
	}
}

enum prop_outcome { PROP_OK, PROP_S1_FAULT, PROP_S2_FAULT };

/*
 * The independent walk: what an access to @iova must do.  @host gets the
 * page it lands in; @id the event of a fault.
 */
static enum prop_outcome expect_walk(struct prop *p, uint64_t iova, bool wr,
				     uint8_t **host, uint8_t *id)
{
	uint64_t table = L0_IPA;

	for (int lvl = 0; lvl < 4; lvl++) {
		unsigned int idx = (unsigned int)(iova >> (39 - 9 * lvl)) & 511;
		uint8_t *t = shadow_s2(p, table);
		uint64_t d;

		if (!t) {
			*id = EVT_F_TRANSLATION; /* the table's IPA: stage 2 */
			return PROP_S2_FAULT;
		}
		memcpy(&d, t + 8 * idx, 8);
		if (!(d & 1) || (lvl == 3 && !(d & 2)) ||
		    (lvl < 3 && !(d & 2))) {
			*id = EVT_F_TRANSLATION;
			return PROP_S1_FAULT;
		}
		if (lvl < 3) {
			table = d & 0xfffffffff000ull;
			continue;
		}
		if (!(d & (1ull << 10))) {
			*id = 0x12; /* F_ACCESS */
			return PROP_S1_FAULT;
		}
		if (wr && (d & (1ull << 7))) {
			*id = 0x13; /* F_PERMISSION */
			return PROP_S1_FAULT;
		}
		*host = shadow_s2(p, (d & 0xfffffffff000ull) | (iova & 0xfff));
		if (!*host) {
			*id = EVT_F_TRANSLATION;
			return PROP_S2_FAULT;
		}
		return PROP_OK;
	}
	return PROP_S1_FAULT;
}

/*
 * The device's Address Translation Cache, as a PCIe function keeps it:
 * what its Translation Requests returned, used for Translated accesses
 * until an invalidation request (CMD_ATC_INV reaching it) drops it.
 */
struct dev_atc {
	bool valid;
	uint64_t iova, pa, size;
	int invalidations;
	uint32_t last_sid;
	unsigned int last_log2;
};

static int atc_invalidate(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
			  bool global, uint64_t addr, unsigned int log2size)
{
	struct dev_atc *atc = opaque;

	(void)ssv;
	(void)ssid;
	(void)global;
	atc->invalidations++;
	atc->last_sid = sid;
	atc->last_log2 = log2size;
	if (log2size >= 64 || (atc->iova >> log2size) == (addr >> log2size))
		atc->valid = false;
	return 0;
}

/* A read of @iova through the ATC: a Translation Request on a miss. */
static int atc_read(struct fx *f, struct dev_atc *atc, uint64_t iova,
		    uint8_t *out)
{
	struct sio_smmu *smmu = sio_platform_smmu(f->plat);
	struct sio_smmu_txn txn = {.sid = f->pdev->sid,
				   .attr = SIO_SMMU_TRANSLATED};
	size_t done;

	if (!atc->valid || (iova & ~(atc->size - 1)) != atc->iova) {
		struct sio_smmu_ats_req req = {.sid = f->pdev->sid,
					       .addr = iova,
					       .span = 1,
					       .nw = true};
		struct sio_smmu_ats_entry e;
		unsigned int n = 0;
		int st = sio_smmu_ats_translate(smmu, &req, &e, 1, &n);

		if (st != SIO_SMMU_ATS_SC || !n || !e.r)
			return -EFAULT;
		*atc = (struct dev_atc){.valid = true,
					.iova = iova & ~(e.size - 1),
					.pa = e.addr,
					.size = e.size,
					.invalidations = atc->invalidations,
					.last_sid = atc->last_sid,
					.last_log2 = atc->last_log2};
	}
	txn.addr = atc->pa + (iova & (atc->size - 1));
	return sio_smmu_dma(smmu, &txn, out, 1, &done);
}

/*
 * ATS for a guest's device: a vSTE asking for ATS (EATS 0b01) gets it
 * in the physical STE, the device's ATC keeps a translation the guest
 * then changes — used until the guest's ATC_INV through its vIOMMU
 * (with its vSID) reaches the ATC, and gone after it; leaving the
 * nested domain the host invalidates the ATC itself and ATS is off
 * (a Translation Request is then Unsupported, F_BAD_ATS_TREQ).
 */
static void test_nested_ats(void **state)
{
	struct fx *f = *state;
	const uint64_t page = (1ull << 10) | (3ull << 8) | (1ull << 6) | 3;
	struct dev_atc atc = {0};
	uint32_t viommu = 0, vdev = 0, s1 = 0, s1_noats = 0, pt = 0;
	uint32_t done = 0;
	uint64_t ste[8], ev[8][4];
	uint8_t b = 0;
	struct inv_cmd tlbi = {
		{CMD_TLBI_NH_VA | CMD_ASID(7), GUEST_IOVA | (1ull << 0)}};
	struct inv_cmd atc_inv = {{CMD_ATC_INV | CMD_SID(0x8), 52}};
	struct sio_smmu_ats_req req = {
		.sid = f->pdev->sid, .addr = GUEST_IOVA, .span = 1, .nw = true};
	struct sio_smmu_ats_entry e;
	unsigned int n = 0;

	sio_smmu_set_atc_inv(sio_platform_smmu(f->plat), atc_invalidate, &atc);
	build_guest_tables(f, 7);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	assert_int_equal(map_fixed(f, f->data_a, f->pg, DATA_A_IPA), 0);
	assert_int_equal(map_fixed(f, f->data_b, f->pg, DATA_B_IPA), 0);
	f->data_a[0] = 'A';
	f->data_b[0] = 'B';
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x8, &vdev), 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA),
				      vste1_s1 | STE1_EATS(1), &s1),
			 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1,
				      &s1_noats),
			 0);
	pt = s1;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	read_ste(f, f->pdev->sid, ste);
	assert_int_equal((ste[1] >> 28) & 3, 1); /* EATS: full ATS */
	/* enabling ATS began with an empty ATC: all of it invalidated */
	assert_int_equal(atc.invalidations, 1);
	assert_int_equal(atc.last_sid, f->pdev->sid);
	assert_int_equal(atc.last_log2, 64);

	/* the ATC fills: page 4 is data A */
	assert_int_equal(atc_read(f, &atc, GUEST_IOVA, &b), 0);
	assert_int_equal(b, 'A');
	assert_true(atc.valid);

	/* the guest moves page 4 to data B and invalidates its TLB only */
	wr64(f, L3_IPA + 8 * 4, DATA_B_IPA | page);
	assert_int_equal(vinv(f, viommu, &tlbi, 1, &done), 0);
	assert_int_equal(dma(f, GUEST_IOVA, &b, 1, false), 0);
	assert_int_equal(b, 'B'); /* untranslated: the new table */
	assert_int_equal(atc_read(f, &atc, GUEST_IOVA, &b), 0);
	assert_int_equal(b, 'A'); /* the ATC's stale entry, still used */

	/* the guest's ATC_INV, with its vSID, reaches the device's ATC */
	assert_int_equal(vinv(f, viommu, &atc_inv, 1, &done), 0);
	assert_int_equal(done, 1);
	assert_int_equal(atc.last_sid, f->pdev->sid);
	assert_false(atc.valid);
	assert_int_equal(atc_read(f, &atc, GUEST_IOVA, &b), 0);
	assert_int_equal(b, 'B');

	/*
	 * The host unmaps the IPA under it: its ATC holds guest IOVAs, so
	 * the parent's change empties all of it before IOAS_UNMAP returns
	 * (the kernel's nested_ats_flush), and the page is gone for good.
	 */
	n = atc.invalidations;
	assert_int_equal(unmap(f, DATA_B_IPA, f->pg), 0);
	assert_int_equal(atc.invalidations, (int)n + 1);
	assert_int_equal(atc.last_log2, 64);
	assert_false(atc.valid);
	assert_int_equal(atc_read(f, &atc, GUEST_IOVA, &b), -EFAULT);

	/* no ATS asked for: the host empties the ATC and turns ATS off */
	n = atc.invalidations;
	pt = s1_noats;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	assert_int_equal(atc.invalidations, (int)n + 1);
	assert_false(atc.valid);
	read_ste(f, f->pdev->sid, ste);
	assert_int_equal((ste[1] >> 28) & 3, 0);
	while (read_events(f, ev, 8) > 0)
		;
	n = 0;
	assert_int_equal(sio_smmu_ats_translate(sio_platform_smmu(f->plat),
						&req, &e, 1, &n),
			 SIO_SMMU_ATS_UR);
	assert_int_equal(read_events(f, ev, 8), 1);
	assert_int_equal(ev[0][0] & 0xff, 0x05); /* F_BAD_ATS_TREQ */

	iommufd_device_detach(f->idev);
	sio_smmu_set_atc_inv(sio_platform_smmu(f->plat), NULL, NULL);
	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, s1_noats), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
}

/* @cur equals @old but for the 8 bytes at @hole (if in it). */
static bool unchanged_except(const uint8_t *cur, const uint8_t *old, size_t len,
			     const uint8_t *hole)
{
	size_t h = hole >= cur && hole < cur + len ? (size_t)(hole - cur) : len;
	size_t e = h + 8 < len ? h + 8 : len;

	return !memcmp(cur, old, h) && !memcmp(cur + e, old + e, len - e);
}

static void test_isolation_property(void **state)
{
	struct fx *f = *state;
	struct prop p = {.f = f, .seed = 20261201u};
	uint32_t viommu = 0, vdev = 0, s1 = 0, pt = 0, done = 0;
	struct inv_cmd flush = {{CMD_TLBI_NH_ALL, 0}};
	uint8_t *before = malloc(PROP_DATA_PAGES * 0x1000);
	uint8_t *ram_before = malloc(GUEST_PAGES * 0x1000);
	uint64_t iovas[16], ev[8][4];
	int oks = 0, s1f = 0, s2f = 0;

	assert_non_null(before);
	assert_non_null(ram_before);
	p.data = mmap(NULL, PROP_DATA_PAGES * 0x1000, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p.data != MAP_FAILED);
	build_guest_tables(f, 7);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	for (int i = 0; i < PROP_DATA_PAGES; i++)
		assert_int_equal(map_fixed(f, p.data + i * 0x1000, 0x1000,
					   PROP_DATA_IPA + 2ull * i * 0x1000),
				 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x8, &vdev), 0);
	assert_int_equal(
		nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1, &s1), 0);
	pt = s1;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	while (read_events(f, ev, 8) > 0)
		;

	for (int round = 0; round < PROP_ROUNDS; round++) {
		for (int k = 0; k < 16; k++)
			iovas[k] = ((uint64_t)(prop_rand(&p) % 2) << 39) |
				   ((uint64_t)(prop_rand(&p) % 2) << 30) |
				   ((uint64_t)(prop_rand(&p) % 2) << 21) |
				   ((uint64_t)(prop_rand(&p) % 4) << 12) |
				   (prop_rand(&p) % 0x1000 & ~7ull);
		random_tables(&p, iovas, 16);
		assert_int_equal(vinv(f, viommu, &flush, 1, &done), 0);
		for (int k = 0; k < 16; k++) {
			bool wr = prop_rand(&p) & 1;
			uint64_t val = ((uint64_t)round << 32) |
				       (uint64_t)k << 16 | 0xabcd,
				 got = 0;
			uint8_t *host = NULL, id = 0;
			enum prop_outcome want =
				expect_walk(&p, iovas[k], wr, &host, &id);
			int rc, nev;

			memcpy(before, p.data, PROP_DATA_PAGES * 0x1000);
			memcpy(ram_before, f->ram, GUEST_PAGES * 0x1000);
			rc = dma(f, iovas[k], wr ? (void *)&val : (void *)&got,
				 8, wr);
			nev = read_events(f, ev, 8);
			if (want == PROP_OK) {
				if (rc || nev)
					fail_msg("round %d iova %#llx: rc %d, "
						 "%d "
						 "events, expected success",
						 round,
						 (unsigned long long)iovas[k],
						 rc, nev);
				oks++;
				if (wr) {
					uint64_t now;

					memcpy(&now, host, 8);
					assert_int_equal(now, val);
				} else {
					assert_memory_equal(&got, host, 8);
				}
			} else {
				if (rc != -EFAULT || nev != 1)
					fail_msg("round %d iova %#llx: rc %d, "
						 "%d "
						 "events, expected event %#x "
						 "(stage %d)",
						 round,
						 (unsigned long long)iovas[k],
						 rc, nev, id,
						 want == PROP_S2_FAULT ? 2 : 1);
				assert_int_equal(ev[0][0] & 0xff, id);
				assert_int_equal(!!(ev[0][1] & (1ull << 39)),
						 want == PROP_S2_FAULT);
				assert_int_equal(ev[0][2], iovas[k]);
				if (want == PROP_S2_FAULT)
					s2f++;
				else
					s1f++;
			}
			/* nothing else moved: no other data page, no table */
			assert_true(unchanged_except(
				p.data, before, PROP_DATA_PAGES * 0x1000,
				want == PROP_OK && wr ? host : NULL));
			assert_true(unchanged_except(
				f->ram, ram_before, GUEST_PAGES * 0x1000,
				want == PROP_OK && wr ? host : NULL));
		}
	}
	/* every kind of outcome was exercised, many times */
	assert_true(oks > 100 && s1f > 100 && s2f > 100);

	iommufd_device_detach(f->idev);
	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
	munmap(p.data, PROP_DATA_PAGES * 0x1000);
	free(before);
	free(ram_before);
}

/*
 * A device unbound while it has a vDEVICE: the vDEVICE goes with it and
 * its id stays taken (the kernel's tombstone), its vIOMMU is free.
 */
static void test_unbind_tombstone(void **state)
{
	struct fx *f = *state;
	uint32_t viommu = 0, vdev = 0, vdev1 = 0, nested = 0, pt = 0, ioas2 = 0;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev1_id, 0x30, &vdev1), 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x31, &vdev), 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1,
				      &nested),
			 0);
	pt = nested;
	assert_int_equal(iommufd_device_attach(f->idev1, &pt), 0);

	iommufd_device_unbind(f->idev1);
	f->idev1 = NULL;
	assert_int_equal(destroy(f, vdev1), -ENOENT);
	/* the tombstone's id is not handed out again */
	ioas2 = ioas_alloc(f);
	assert_int_not_equal(ioas2, vdev1);
	/* the other vDEVICE is untouched; the virtual ID is free again */
	assert_int_equal(destroy(f, nested), 0);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 0x30, &vdev), 0);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, ioas2), 0);
}

/* ------------------------------------------------------------ vEVENTQ */

static bool veventq_wait_ms(int efd, int ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/*
 * The event thread queues the third and fourth faults as a lost-events
 * header after the fd is already readable: wait for the fourth.
 */
static void wait_lost_header(struct fx *f, uint32_t q)
{
	struct iommufd_object *obj =
		iommufd_get_object(f->fd->ictx, q, IOMMUFD_OBJ_VEVENTQ);
	struct iommufd_veventq *veventq = (struct iommufd_veventq *)obj;
	bool done = false;

	assert_non_null(obj);
	for (int i = 0; i < 2000 && !done; i++) {
		pthread_mutex_lock(&veventq->common.lock);
		done = veventq->sequence == 4;
		pthread_mutex_unlock(&veventq->common.lock);
		if (!done)
			usleep(1000);
	}
	iommufd_put_object(f->fd->ictx, obj);
	assert_true(done);
}

static int veventq_alloc(struct fx *f, uint32_t viommu, uint32_t type,
			 uint32_t depth, uint32_t *id, int *efd)
{
	struct sio_iommu_veventq_alloc c = {
		.size = sizeof(c),
		.viommu_id = viommu,
		.type = type,
		.veventq_depth = depth,
	};
	int rc = ioctl_(f, SIO_IOMMU_VEVENTQ_ALLOC, &c);

	if (!rc && id)
		*id = c.out_veventq_id;
	if (!rc && efd)
		*efd = (int)c.out_veventq_fd;
	return rc;
}

/*
 * What every guest here starts with: its tables (ASID @asid) in its RAM,
 * the RAM and data page A mapped at their IPAs, a vIOMMU (*@viommu) and
 * device 0's vDEVICE with vSID @vsid.
 */
static void guest_vmm_setup(struct fx *f, uint16_t asid, uint64_t vsid,
			    uint32_t *viommu)
{
	build_guest_tables(f, asid);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	assert_int_equal(map_fixed(f, f->data_a, f->pg, DATA_A_IPA), 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, *viommu, f->dev_id, vsid, NULL), 0);
}

static void attach_dev0(struct fx *f, uint32_t hwpt)
{
	uint32_t pt = hwpt;

	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
}

/* The guest's stage 1 attached to device 0 with vSID @vsid. */
static void guest_s1_attached(struct fx *f, uint64_t vsid, uint32_t *viommu)
{
	uint32_t s1 = 0;

	guest_vmm_setup(f, 7, vsid, viommu);
	assert_int_equal(
		nested_alloc(f, *viommu, vste0_s1(CD_IPA), vste1_s1, &s1), 0);
	attach_dev0(f, s1);
}

/* Wait (2 s at most) for the queue's eventfd to say records wait. */
static bool veventq_wait(int efd)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};

	return poll(&p, 1, 2000) == 1 && (p.revents & POLLIN);
}

/* IOMMU_VEVENTQ_ALLOC refuses in the kernel's order with its errnos. */
static void test_veventq_alloc_errors(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_veventq_alloc c;
	uint32_t viommu = 0, q = 0;
	int efd = -1;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	c = (struct sio_iommu_veventq_alloc){.size = sizeof(c),
					     .flags = 1,
					     .viommu_id = viommu,
					     .type = 1,
					     .veventq_depth = 4};
	assert_int_equal(ioctl_(f, SIO_IOMMU_VEVENTQ_ALLOC, &c), -EOPNOTSUPP);
	c.flags = 0;
	c.__reserved = 1;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VEVENTQ_ALLOC, &c), -EOPNOTSUPP);
	/* type DEFAULT before depth 0, depth before the vIOMMU's id */
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_DEFAULT, 0, NULL,
				       NULL),
			 -EOPNOTSUPP);
	assert_int_equal(veventq_alloc(f, 9999,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 0,
				       NULL, NULL),
			 -EINVAL);
	assert_int_equal(veventq_alloc(f, 9999,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4,
				       NULL, NULL),
			 -ENOENT);
	/* a vIOMMU's id only: the parent HWPT is not one */
	assert_int_equal(veventq_alloc(f, f->parent,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4,
				       NULL, NULL),
			 -ENOENT);
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4, &q,
				       &efd),
			 0);
	assert_true(efd >= 0);
	assert_true(fcntl(efd, F_GETFD) & FD_CLOEXEC);
	/* one queue per type on a vIOMMU */
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
				       NULL, NULL),
			 -EEXIST);
	/* the queue holds its vIOMMU */
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, q), 0);
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8,
				       NULL, NULL),
			 0);
	close(efd);
}

/*
 * A guest's stage-1 fault reaches its vEVENTQ as the raw record with the
 * vSID in place of the StreamID (smmu-facts 2.4); a stage-2 fault is the
 * host's and is not forwarded.
 */
static void test_veventq_forwards_guest_faults(void **state)
{
	struct fx *f = *state;
	struct {
		struct sio_iommufd_vevent_header hdr;
		uint64_t evt[4];
	} rec[2];
	uint32_t viommu = 0, q = 0;
	uint8_t back[8];
	int efd = -1;

	guest_s1_attached(f, 0x77, &viommu);
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 16,
				       &q, &efd),
			 0);
	/* nothing to read: 0 bytes, the fd not readable */
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, rec, sizeof(rec)),
			 0);
	assert_false(veventq_wait_ms(efd, 0));

	/* IOVA page 6 has no guest descriptor: F_TRANSLATION, S2 = 0 */
	assert_int_equal(dma(f, GUEST_IOVA + 0x2010, back, 8, true), -EFAULT);
	assert_true(veventq_wait(efd));
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, rec, sizeof(rec)),
			 8 + 32);
	assert_int_equal(rec[0].hdr.flags, 0);
	assert_int_equal(rec[0].hdr.sequence, 0);
	assert_int_equal(rec[0].evt[0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(rec[0].evt[0] >> 32, 0x77); /* the vSID */
	assert_int_equal(rec[0].evt[2], GUEST_IOVA + 0x2010);
	assert_false(rec[0].evt[1] & (1ull << 39));
	assert_false(rec[0].evt[1] & (1ull << 35)); /* RnW: a write */
	assert_false(veventq_wait_ms(efd, 0));

	/*
	 * Data A's IPA unmapped: the walk's stage 2 faults (S2 = 1), which
	 * stays with the host; then a guest fault again, sequence 1.
	 */
	assert_int_equal(unmap(f, DATA_A_IPA, f->pg), 0);
	assert_int_equal(dma(f, GUEST_IOVA + 0x10, back, 8, false), -EFAULT);
	assert_int_equal(dma(f, GUEST_IOVA + 0x3010, back, 8, false), -EFAULT);
	assert_true(veventq_wait(efd));
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, rec, sizeof(rec)),
			 8 + 32);
	assert_int_equal(rec[0].hdr.sequence, 1);
	assert_int_equal(rec[0].evt[2], GUEST_IOVA + 0x3010);
	assert_true(rec[0].evt[1] & (1ull << 35)); /* RnW: a read */
	close(efd);
}

/*
 * Depth 2 and four faults: two records, then one lost-events header
 * whose sequence (3) counts the two lost; the next event is sequence 4.
 * Reads take whole records only.
 */
static void test_veventq_overflow(void **state)
{
	struct fx *f = *state;
	uint8_t buf[256];
	struct sio_iommufd_vevent_header hdr;
	uint32_t viommu = 0, q = 0;
	uint8_t back[8];
	int efd = -1;

	guest_s1_attached(f, 5, &viommu);
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 2, &q,
				       &efd),
			 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(dma(f, GUEST_IOVA + 0x2000 + 0x1000 * i, back,
				     8, false),
				 -EFAULT);
		/* one at a time, so the SMMU merges none of them */
		assert_true(veventq_wait(efd));
	}
	wait_lost_header(f, q);
	/* a header fits, a record does not: nothing is read */
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, 8 + 31), 0);
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, 7), 0);
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, 40), 40);
	memcpy(&hdr, buf, 8);
	assert_int_equal(hdr.sequence, 0);
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, sizeof(buf)),
			 40 + 8);
	memcpy(&hdr, buf, 8);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.sequence, 1);
	memcpy(&hdr, buf + 40, 8);
	assert_int_equal(hdr.flags, SIO_IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	assert_int_equal(hdr.sequence, 3);
	assert_false(veventq_wait_ms(efd, 0));

	assert_int_equal(dma(f, GUEST_IOVA + 0x7000, back, 8, false), -EFAULT);
	assert_true(veventq_wait(efd));
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, sizeof(buf)),
			 40);
	memcpy(&hdr, buf, 8);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.sequence, 4);
	/* a bad buffer: EFAULT, and the record stays */
	assert_int_equal(dma(f, GUEST_IOVA + 0x8000, back, 8, false), -EFAULT);
	assert_true(veventq_wait(efd));
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, (void *)8, 40),
			 -EFAULT);
	assert_int_equal(sio_iommufd_eventq_read(f->fd, q, buf, sizeof(buf)),
			 40);
	close(efd);
}

/*
 * IOMMU_HW_QUEUE_ALLOC in iommufd_hw_queue_alloc_ioctl()'s order: flags
 * and type, length, overflow, the vIOMMU; then an SMMUv3 without CMDQV
 * has no hardware queue to give (EOPNOTSUPP).
 */
static void test_hw_queue_alloc(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_hw_queue_alloc c;
	uint32_t viommu = 0;

	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	c = (struct sio_iommu_hw_queue_alloc){
		.size = sizeof(c),
		.flags = 1,
		.viommu_id = viommu,
		.type = SIO_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
		.nesting_parent_iova = DATA_A_IPA,
		.length = 0x1000,
	};
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	c.flags = 0;
	c.type = SIO_IOMMU_HW_QUEUE_TYPE_DEFAULT;
	c.length = 0;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	c.type = SIO_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV;
	c.viommu_id = 9999;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EINVAL);
	c.length = 0x1000;
	c.nesting_parent_iova = UINT64_MAX - 0xffe;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EOVERFLOW);
	c.nesting_parent_iova = UINT64_MAX - 0xfff;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -ENOENT);
	c.viommu_id = f->parent;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -ENOENT);
	c.viommu_id = viommu;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	/* the short struct: 40 bytes are all mandatory */
	c.size = 32;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HW_QUEUE_ALLOC, &c), -EINVAL);
}

/* ------------------------------------------------------- fault queues */

#define CD0_S (1ull << 44) /* stall on a fault (CD.S) */

static int fault_alloc(struct fx *f, uint32_t *id, int *efd)
{
	struct sio_iommu_fault_alloc c = {.size = sizeof(c)};
	int rc = ioctl_(f, SIO_IOMMU_FAULT_QUEUE_ALLOC, &c);

	if (!rc) {
		*id = c.out_fault_id;
		*efd = (int)c.out_fault_fd;
	}
	return rc;
}

/* A nested HWPT with fault queue @fault_id, from a guest that may stall. */
static int nested_alloc_fault(struct fx *f, uint32_t viommu, uint32_t fault_id,
			      uint32_t *out)
{
	struct sio_iommu_hwpt_arm_smmuv3 vste = {
		.ste = {vste0_s1(CD_IPA), vste1_s1 & ~STE1_S1STALLD}};
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = f->dev_id,
		.pt_id = viommu,
		.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uint64_t)(uintptr_t)&vste,
		.fault_id = fault_id,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c);

	if (!rc && out)
		*out = c.out_hwpt_id;
	return rc;
}

/*
 * A guest that stalls its device: its RAM and data A mapped, its CD with
 * S set, device 0 with vSID 3 attached to a nested HWPT of fault queue
 * @fault_id (0: a nested HWPT without one).  *@viommu, *@hwpt.
 */
static void guest_stalling(struct fx *f, uint32_t fault_id, uint32_t *viommu,
			   uint32_t *hwpt)
{
	uint64_t cd0;

	guest_vmm_setup(f, 9, 3, viommu);
	memcpy(&cd0, f->ram + (CD_IPA - GUEST_IPA), 8);
	wr64(f, CD_IPA, cd0 | CD0_S);
	if (fault_id)
		assert_int_equal(nested_alloc_fault(f, *viommu, fault_id, hwpt),
				 0);
	else
		assert_int_equal(nested_alloc(f, *viommu, vste0_s1(CD_IPA),
					      vste1_s1 & ~STE1_S1STALLD, hwpt),
				 0);
	attach_dev0(f, *hwpt);
}

/* A device transaction on its own thread: it may stall. */
struct dma_job {
	struct fx *f;
	uint64_t iova;
	uint8_t buf[8];
	bool wr;
	int rc;
	pthread_t t;
};

static void *dma_thread(void *arg)
{
	struct dma_job *j = arg;

	j->rc = dma(j->f, j->iova, j->buf, sizeof(j->buf), j->wr);
	return NULL;
}

static void dma_start(struct dma_job *j, struct fx *f, uint64_t iova, bool wr)
{
	j->f = f;
	j->iova = iova;
	j->wr = wr;
	memcpy(j->buf, "stalled!", 8);
	assert_int_equal(pthread_create(&j->t, NULL, dma_thread, j), 0);
}

static int dma_finish(struct dma_job *j)
{
	pthread_join(j->t, NULL);
	return j->rc;
}

/* The next fault record: waits (2 s at most) for one. */
static void read_pgfault(struct fx *f, uint32_t fault, int efd,
			 struct sio_iommu_hwpt_pgfault *rec)
{
	assert_true(veventq_wait(efd));
	assert_int_equal(sio_iommufd_eventq_read(f->fd, fault, rec,
						 sizeof(*rec)),
			 sizeof(*rec));
}

static ssize_t respond(struct fx *f, uint32_t fault, uint32_t cookie,
		       uint32_t code)
{
	struct sio_iommu_hwpt_page_response r = {.cookie = cookie,
						 .code = code};

	return sio_iommufd_eventq_write(f->fd, fault, &r, sizeof(r));
}

/* IOMMU_FAULT_QUEUE_ALLOC and HWPTs with a fault queue: the kernel's errnos. */
static void test_fault_queue_errors(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_fault_alloc c = {.size = sizeof(c), .flags = 1};
	struct sio_iommu_hwpt_pgfault rec[2];
	uint32_t fault = 0, hwpt = 0, viommu = 0;
	int efd = -1;

	assert_int_equal(ioctl_(f, SIO_IOMMU_FAULT_QUEUE_ALLOC, &c),
			 -EOPNOTSUPP);
	assert_int_equal(fault_alloc(f, &fault, &efd), 0);
	assert_true(fcntl(efd, F_GETFD) & FD_CLOEXEC);
	/* a fault id that names no fault queue */
	assert_int_equal(hwpt_alloc(f, f->dev_id, f->ioas,
				    SIO_IOMMU_HWPT_FAULT_ID_VALID, NULL),
			 -ENOENT);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(nested_alloc_fault(f, viommu, f->ioas, NULL), -ENOENT);
	/* not for a nesting parent */
	{
		struct sio_iommu_hwpt_alloc h = {
			.size = sizeof(h),
			.flags = SIO_IOMMU_HWPT_FAULT_ID_VALID |
				 SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
			.dev_id = f->dev_id,
			.pt_id = f->ioas,
			.fault_id = fault,
		};

		assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &h),
				 -EOPNOTSUPP);
		h.flags = SIO_IOMMU_HWPT_FAULT_ID_VALID;
		assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &h), 0);
		hwpt = h.out_hwpt_id;
	}
	/* the HWPT holds its fault queue */
	assert_int_equal(destroy(f, fault), -EBUSY);
	/* whole records only, and answers to faults that were read */
	assert_int_equal(sio_iommufd_eventq_read(f->fd, fault, rec, 39),
			 -ESPIPE);
	assert_int_equal(sio_iommufd_eventq_read(f->fd, fault, rec, 0), 0);
	assert_int_equal(
		sio_iommufd_eventq_read(f->fd, fault, rec, sizeof(rec)), 0);
	assert_int_equal(sio_iommufd_eventq_write(f->fd, fault, rec, 12),
			 -ESPIPE);
	assert_int_equal(respond(f, fault, 1, SIO_IOMMUFD_PAGE_RESP_SUCCESS),
			 -EINVAL);
	assert_int_equal(respond(f, fault, 1, 2), -EINVAL);
	assert_int_equal(destroy(f, hwpt), 0);
	assert_int_equal(destroy(f, fault), 0);
	close(efd);
}

/*
 * A guest's stage-1 fault stalls the device's transaction and reaches
 * the fault queue as an iommu_hwpt_pgfault; the guest fixes its table
 * and the VMM answers SUCCESS: the transaction retries and lands.  An
 * INVALID answer fails it; a detach answers what is still pending.
 * No vEVENT is made of a stall.
 */
static void test_fault_queue_stall(void **state)
{
	struct fx *f = *state;
	const uint64_t page = (1ull << 10) | (3ull << 8) | (1ull << 6) | 3;
	struct sio_iommu_hwpt_pgfault rec, more[2];
	uint32_t fault = 0, viommu = 0, hwpt = 0, q = 0;
	struct dma_job job;
	int efd = -1, qfd = -1;

	assert_int_equal(fault_alloc(f, &fault, &efd), 0);
	guest_stalling(f, fault, &viommu, &hwpt);
	assert_int_equal(veventq_alloc(f, viommu,
				       SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 8, &q,
				       &qfd),
			 0);
	assert_int_equal(map_fixed(f, f->data_b, f->pg, DATA_B_IPA), 0);

	/* IOVA page 6: no guest descriptor, the write stalls */
	dma_start(&job, f, GUEST_IOVA + 0x2100, true);
	read_pgfault(f, fault, efd, &rec);
	assert_int_equal(rec.flags, SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(rec.dev_id, f->dev_id);
	assert_int_equal(rec.perm, SIO_IOMMU_PGFAULT_PERM_WRITE);
	assert_int_equal(rec.addr, GUEST_IOVA + 0x2100);
	assert_int_equal(rec.length, 0);
	assert_int_not_equal(rec.cookie, 0);
	/* the guest maps page 6 to data B; the VMM says: retry */
	wr64(f, L3_IPA + 8 * 6, DATA_B_IPA | page);
	assert_int_equal(respond(f, fault, rec.cookie,
				 SIO_IOMMUFD_PAGE_RESP_SUCCESS),
			 sizeof(struct sio_iommu_hwpt_page_response));
	assert_int_equal(dma_finish(&job), 0);
	assert_memory_equal(f->data_b + 0x100, "stalled!", 8);
	/* answered once: the cookie is spent */
	assert_int_equal(respond(f, fault, rec.cookie,
				 SIO_IOMMUFD_PAGE_RESP_SUCCESS),
			 -EINVAL);

	/* page 7, a read: answered INVALID, the transaction fails */
	dma_start(&job, f, GUEST_IOVA + 0x3000, false);
	read_pgfault(f, fault, efd, &rec);
	assert_int_equal(rec.perm, SIO_IOMMU_PGFAULT_PERM_READ);
	assert_int_equal(respond(f, fault, rec.cookie,
				 SIO_IOMMUFD_PAGE_RESP_INVALID),
			 sizeof(struct sio_iommu_hwpt_page_response));
	assert_int_equal(dma_finish(&job), -EFAULT);

	/* page 8 stalls, unread; the detach answers it INVALID */
	dma_start(&job, f, GUEST_IOVA + 0x4000, false);
	assert_true(veventq_wait(efd));
	iommufd_device_detach(f->idev);
	assert_int_equal(dma_finish(&job), -EFAULT);
	assert_int_equal(
		sio_iommufd_eventq_read(f->fd, fault, more, sizeof(more)), 0);
	/* stalls are the fault queue's: the vEVENTQ saw none */
	assert_false(veventq_wait_ms(qfd, 50));
	close(qfd);
	close(efd);
}

/*
 * A guest that stalls with no fault queue to answer: the driver aborts
 * the transaction at once (it must not wait forever).
 */
static void test_stall_without_fault_queue(void **state)
{
	struct fx *f = *state;
	uint32_t viommu = 0, hwpt = 0;
	uint8_t back[8];

	guest_stalling(f, 0, &viommu, &hwpt);
	assert_int_equal(dma(f, GUEST_IOVA + 0x2000, back, 8, false), -EFAULT);
	/* translations that need no answer still work */
	memcpy(f->data_a + 8, "in place", 8);
	assert_int_equal(dma(f, GUEST_IOVA + 8, back, 8, false), 0);
	assert_memory_equal(back, "in place", 8);
}

/* Closing with everything still in place frees it all (ASan checks). */
static void test_close_frees_everything(void **state)
{
	struct fx *f = *state;
	uint32_t viommu = 0, vdev = 0, nested = 0, pt = 0;

	assert_int_equal(map_fixed(f, f->data_a, f->pg, DATA_A_IPA), 0);
	assert_int_equal(viommu_alloc(f, f->dev_id, f->parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev_id, 1, &vdev), 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->dev1_id, 2, NULL), 0);
	assert_int_equal(nested_alloc(f, viommu, vste0_s1(CD_IPA), vste1_s1,
				      &nested),
			 0);
	pt = nested;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	/* the teardown unbinds (detach, tombstones) and closes */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_viommu_alloc_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vdevice_alloc_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_iommu_einval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nested_alloc_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vste_validation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attach_and_physical_ste,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_dma, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_guest_caches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_ats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_isolation_property, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unbind_tombstone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_veventq_alloc_errors,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_veventq_forwards_guest_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_veventq_overflow, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hw_queue_alloc, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_queue_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_queue_stall, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stall_without_fault_queue,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_frees_everything,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
