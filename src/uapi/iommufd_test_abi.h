/* SPDX-License-Identifier: MIT */
/*
 * IOMMU_TEST_CMD, the command of the kernel's selftest driver
 * (drivers/iommu/iommufd/iommufd_test.h), written here from the published
 * facts (uapi-facts.md 4.2): the layout, op numbers and constants a
 * program built against the kernel's iommufd_test.h uses.  Only a context
 * opened in selftest mode answers it.
 */
#ifndef SIO_UAPI_IOMMUFD_TEST_ABI_H
#define SIO_UAPI_IOMMUFD_TEST_ABI_H

#include <stddef.h>
#include <stdint.h>

#include "iommufd_abi.h"

#define SIO_IOMMU_TEST_CMD SIO_IOMMUFD_IO(0xa0)

enum {
	SIO_TEST_OP_ADD_RESERVED = 1,
	SIO_TEST_OP_MOCK_DOMAIN,
	SIO_TEST_OP_MD_CHECK_MAP,
	SIO_TEST_OP_MD_CHECK_REFS,
	SIO_TEST_OP_CREATE_ACCESS,
	SIO_TEST_OP_DESTROY_ACCESS_PAGES,
	SIO_TEST_OP_ACCESS_PAGES,
	SIO_TEST_OP_ACCESS_RW,
	SIO_TEST_OP_SET_TEMP_MEMORY_LIMIT,
	SIO_TEST_OP_MOCK_DOMAIN_REPLACE,
	SIO_TEST_OP_ACCESS_REPLACE_IOAS,
	SIO_TEST_OP_MOCK_DOMAIN_FLAGS,
	SIO_TEST_OP_DIRTY,
	SIO_TEST_OP_MD_CHECK_IOTLB,
	SIO_TEST_OP_TRIGGER_IOPF,
	SIO_TEST_OP_DEV_CHECK_CACHE,
	SIO_TEST_OP_TRIGGER_VEVENT,
	SIO_TEST_OP_PASID_ATTACH,
	SIO_TEST_OP_PASID_REPLACE,
	SIO_TEST_OP_PASID_DETACH,
	SIO_TEST_OP_PASID_CHECK_HWPT,
	SIO_TEST_OP_DMABUF_GET,
	SIO_TEST_OP_DMABUF_REVOKE,
};

struct sio_iommu_test_cmd {
	uint32_t size;
	uint32_t op;
	uint32_t id;
	uint32_t __reserved;
	union {
		struct {
			uint64_t start;
			uint64_t length;
		} add_reserved;
		struct {
			uint32_t out_stdev_id;
			uint32_t out_hwpt_id;
			uint32_t out_idev_id;
			uint32_t dev_flags; /* MOCK_DOMAIN_FLAGS only */
		} mock_domain;
		struct {
			uint32_t pt_id;
		} mock_domain_replace;
		struct {
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
		} check_map;
		struct {
			uint64_t length;
			uint64_t uptr;
			uint32_t refs;
		} check_refs;
		struct {
			uint32_t out_access_fd;
			uint32_t flags;
		} create_access;
		struct {
			uint32_t access_pages_id;
		} destroy_access_pages;
		struct {
			uint32_t flags;
			uint32_t out_access_pages_id;
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
		} access_pages;
		struct {
			uint64_t iova;
			uint64_t length;
			uint64_t uptr;
			uint32_t flags;
		} access_rw;
		struct {
			uint32_t limit;
		} memory_limit;
		struct {
			uint32_t ioas_id;
		} access_replace_ioas;
		struct {
			uint32_t flags;
			uint64_t iova;
			uint64_t length;
			uint64_t page_size;
			uint64_t uptr;
			uint64_t out_nr_dirty;
		} dirty;
		struct {
			uint32_t id;
			uint32_t iotlb;
		} check_iotlb;
		struct {
			uint32_t dev_id;
			uint32_t pasid;
			uint32_t grpid;
			uint32_t perm;
			uint64_t addr;
		} trigger_iopf;
		struct {
			uint32_t id;
			uint32_t cache;
		} check_dev_cache;
		struct {
			uint32_t dev_id;
		} trigger_vevent;
		struct {
			uint32_t pasid;
			uint32_t pt_id; /* hwpt_id for PASID_CHECK_HWPT */
		} pasid;
		struct {
			uint32_t length;
			uint32_t open_flags;
		} dmabuf_get;
		struct {
			int32_t dmabuf_fd;
			uint32_t revoked;
		} dmabuf_revoke;
	};
	uint32_t last;
};

SIO_ABI_SIZE(sio_iommu_test_cmd, 72);
SIO_ABI_OFF(sio_iommu_test_cmd, last, 64);
SIO_ABI_OFF(sio_iommu_test_cmd, dirty.out_nr_dirty, 56);
SIO_ABI_OFF(sio_iommu_test_cmd, check_refs.refs, 32);
SIO_ABI_OFF(sio_iommu_test_cmd, trigger_iopf.addr, 32);

#endif /* SIO_UAPI_IOMMUFD_TEST_ABI_H */
