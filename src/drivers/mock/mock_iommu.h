/* SPDX-License-Identifier: MIT */
/*
 * The selftest mock IOMMU (the kernel's drivers/iommu/iommufd/selftest.c
 * driver half): an IOMMU with no hardware behind it, whose paging domains
 * are a table of 2 KiB entries in the aperture [1 << 24, (1 << 31) - 1],
 * with a dirty bit per entry, and whose nested domains hold a four-entry
 * "IOTLB" the user invalidates.  IOMMU_TEST_CMD (iommufd/selftest.c)
 * creates its devices and looks inside its domains; iommufd uses it
 * through the ordinary driver ops like any other IOMMU.
 */
#ifndef SIO_DRIVERS_MOCK_IOMMU_H
#define SIO_DRIVERS_MOCK_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/iommu_driver.h"

/* The kernel's iommufd_test.h constants the driver's behaviour rests on. */
#define MOCK_APERTURE_START (1ull << 24)
#define MOCK_APERTURE_LAST  ((1ull << 31) - 1)
#define MOCK_IO_PAGE_SIZE   2048ull /* PAGE_SIZE / 2 */
#define MOCK_HUGE_PAGE_SIZE (512 * MOCK_IO_PAGE_SIZE)
#define MOCK_PASID_WIDTH    20
/* IOMMU_TEST_PASID_RESERVED: the PASID whose replace the mock fails */
#define MOCK_PASID_FAKE_ERROR 1024

/* Mock device flags (MOCK_FLAGS_DEVICE_*). */
#define MOCK_DEV_NO_DIRTY (1u << 0)
#define MOCK_DEV_PASID	  (1u << 2)

/* Paging formats a paging domain's selftest data may ask for. */
#define MOCK_IOMMUPT_DEFAULT 0
#define MOCK_IOMMUPT_HUGE    1

/* Nested domain data and its invalidation (IOMMU_HWPT_DATA_SELFTEST). */
#define MOCK_HWPT_DATA_SELFTEST		     0xdeadu
#define MOCK_HWPT_INVALIDATE_DATA_SELFTEST   0xdeadbeefu
#define MOCK_INVALIDATE_FLAG_ALL	     (1u << 0)
#define MOCK_NESTED_IOTLB_NUM		     4
#define MOCK_HW_INFO_TYPE_SELFTEST	     0xfeedbeefu
#define MOCK_HW_INFO_REGVAL		     0xdeadbeefu
#define MOCK_VIOMMU_TYPE_SELFTEST	     0xdeadbeefu
#define MOCK_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeefu
#define MOCK_VEVENTQ_TYPE_SELFTEST	     0xbeefbeefu
#define MOCK_HW_QUEUE_TYPE_SELFTEST	     0xdeadbeefu
#define MOCK_HW_QUEUE_MAX		     2
#define MOCK_DEV_CACHE_NUM		     4
#define MOCK_DEV_CACHE_DEFAULT		     0xbaddadu

struct mock_iommu;

int mock_iommu_create(struct mock_iommu **out);
void mock_iommu_destroy(struct mock_iommu *m);
/* The IOMMU iommufd sees (what a mock device's descriptor names). */
struct sio_iommu_dev *mock_iommu_dev(struct mock_iommu *m);

/*
 * A new mock device with MOCK_DEV_* @flags: its StreamID in *@sid.
 * -EINVAL for flags the mock does not know.
 */
int mock_dev_add(struct mock_iommu *m, uint32_t flags, uint32_t *sid);
void mock_dev_remove(struct mock_iommu *m, uint32_t sid);
/*
 * The width of the PCI PASID capability mock device @sid has: what its
 * descriptor tells probe_device(), which also gives it no more.
 */
unsigned int mock_dev_pasid_bits(struct mock_iommu *m, uint32_t sid);
/*
 * Entry @idx of the device's cache (IOMMU_TEST_DEV_CACHE_DEFAULT until a
 * vIOMMU invalidation clears it); -EINVAL past the last or for a
 * StreamID that is no mock device's.
 */
int mock_dev_cache(struct mock_iommu *m, uint32_t sid, uint32_t idx,
		   uint32_t *val);

/*
 * The device raises an event for its guest (TRIGGER_VEVENT): its vIOMMU's
 * vEVENTQ of the selftest type gets the device's virtual ID.  -ENOENT
 * unless it is attached to a nested domain of a vIOMMU.
 */
int mock_dev_trigger_vevent(struct mock_iommu *m, uint32_t sid);

/*
 * The device's page request (TRIGGER_IOPF): handed to the fault handler
 * of the domain it is attached to, if it has one; otherwise dropped.
 */
int mock_dev_trigger_iopf(struct mock_iommu *m, uint32_t sid,
			  const struct sio_iopf_fault *fault);

/* Whether @d is a paging (or nested) domain of a mock IOMMU. */
bool mock_domain_is_paging(const struct sio_iommu_domain *d);
bool mock_domain_is_nested(const struct sio_iommu_domain *d);

/*
 * The output address of the 2 KiB mock page at @iova (a multiple of the
 * mock page size), or -ENOENT.
 */
int mock_domain_lookup(struct sio_iommu_domain *d, uint64_t iova, uint64_t *pa);
/* Whether dirty tracking is on (IOMMU_HWPT_SET_DIRTY_TRACKING). */
bool mock_domain_dirty_tracking(struct sio_iommu_domain *d);
/*
 * Mark the mock page holding @iova dirty, as a device's write would:
 * 0, or -ENOENT when nothing is mapped there.
 */
int mock_domain_set_dirty(struct sio_iommu_domain *d, uint64_t iova);
/* Entry @idx of a nested mock domain's IOTLB; -EINVAL past the last. */
int mock_nested_iotlb(struct sio_iommu_domain *d, uint32_t idx, uint32_t *val);

#endif /* SIO_DRIVERS_MOCK_IOMMU_H */
