/* SPDX-License-Identifier: MIT */
/*
 * The iommufd uAPI (Linux include/uapi/linux/iommufd.h), written here from
 * the published facts so that a program built against the kernel's header
 * talks to softiommu unchanged.  Names carry a sio_ prefix so this header
 * can sit next to the kernel's in one translation unit; layouts, numbers
 * and constants are the kernel's, checked below field by field against
 * the sizes and minimum sizes the kernel's ioctl table uses.
 */
#ifndef SIO_UAPI_IOMMUFD_ABI_H
#define SIO_UAPI_IOMMUFD_ABI_H

#include <stddef.h>
#include <stdint.h>

/* _IO(';', nr): no size or direction bits. */
#define SIO_IOMMUFD_TYPE     0x3b
#define SIO_IOMMUFD_CMD_BASE 0x80
#define SIO_IOMMUFD_IO(nr)   ((SIO_IOMMUFD_TYPE << 8) | (nr))

#define SIO_IOMMU_DESTROY		  SIO_IOMMUFD_IO(0x80)
#define SIO_IOMMU_IOAS_ALLOC		  SIO_IOMMUFD_IO(0x81)
#define SIO_IOMMU_IOAS_ALLOW_IOVAS	  SIO_IOMMUFD_IO(0x82)
#define SIO_IOMMU_IOAS_COPY		  SIO_IOMMUFD_IO(0x83)
#define SIO_IOMMU_IOAS_IOVA_RANGES	  SIO_IOMMUFD_IO(0x84)
#define SIO_IOMMU_IOAS_MAP		  SIO_IOMMUFD_IO(0x85)
#define SIO_IOMMU_IOAS_UNMAP		  SIO_IOMMUFD_IO(0x86)
#define SIO_IOMMU_OPTION		  SIO_IOMMUFD_IO(0x87)
#define SIO_IOMMU_VFIO_IOAS		  SIO_IOMMUFD_IO(0x88)
#define SIO_IOMMU_HWPT_ALLOC		  SIO_IOMMUFD_IO(0x89)
#define SIO_IOMMU_GET_HW_INFO		  SIO_IOMMUFD_IO(0x8a)
#define SIO_IOMMU_HWPT_SET_DIRTY_TRACKING SIO_IOMMUFD_IO(0x8b)
#define SIO_IOMMU_HWPT_GET_DIRTY_BITMAP	  SIO_IOMMUFD_IO(0x8c)
#define SIO_IOMMU_HWPT_INVALIDATE	  SIO_IOMMUFD_IO(0x8d)
#define SIO_IOMMU_FAULT_QUEUE_ALLOC	  SIO_IOMMUFD_IO(0x8e)
#define SIO_IOMMU_IOAS_MAP_FILE		  SIO_IOMMUFD_IO(0x8f)
#define SIO_IOMMU_VIOMMU_ALLOC		  SIO_IOMMUFD_IO(0x90)
#define SIO_IOMMU_VDEVICE_ALLOC		  SIO_IOMMUFD_IO(0x91)
#define SIO_IOMMU_IOAS_CHANGE_PROCESS	  SIO_IOMMUFD_IO(0x92)
#define SIO_IOMMU_VEVENTQ_ALLOC		  SIO_IOMMUFD_IO(0x93)
#define SIO_IOMMU_HW_QUEUE_ALLOC	  SIO_IOMMUFD_IO(0x94)
#define SIO_IOMMU_IOAS_NOIOMMU_GET_PA	  SIO_IOMMUFD_IO(0x95)
#define SIO_IOMMUFD_CMD_LAST		  0x95

struct sio_iommu_destroy {
	uint32_t size;
	uint32_t id;
};

struct sio_iommu_ioas_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_ioas_id;
};

struct sio_iommu_iova_range {
	uint64_t start;
	uint64_t last;
};

struct sio_iommu_ioas_allow_iovas {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t __reserved;
	uint64_t allowed_iovas; /* user pointer to sio_iommu_iova_range[] */
};

/* IOAS_MAP / IOAS_COPY / IOAS_MAP_FILE flags. */
#define SIO_IOMMU_IOAS_MAP_FIXED_IOVA (1u << 0)
#define SIO_IOMMU_IOAS_MAP_WRITEABLE  (1u << 1)
#define SIO_IOMMU_IOAS_MAP_READABLE   (1u << 2)

struct sio_iommu_ioas_copy {
	uint32_t size;
	uint32_t flags;
	uint32_t dst_ioas_id;
	uint32_t src_ioas_id;
	uint64_t length;
	uint64_t dst_iova;
	uint64_t src_iova;
};

struct sio_iommu_ioas_iova_ranges {
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas;
	uint32_t __reserved;
	uint64_t allowed_iovas; /* user pointer to sio_iommu_iova_range[] */
	uint64_t out_iova_alignment;
};

struct sio_iommu_ioas_map {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t __reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova;
};

struct sio_iommu_ioas_map_file {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	int32_t fd;
	uint64_t start;
	uint64_t length;
	uint64_t iova;
};

struct sio_iommu_ioas_unmap {
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};

/* IOMMU_OPTION */
#define SIO_IOMMU_OPTION_RLIMIT_MODE 0
#define SIO_IOMMU_OPTION_HUGE_PAGES  1
#define SIO_IOMMU_OPTION_OP_SET	     0
#define SIO_IOMMU_OPTION_OP_GET	     1

struct sio_iommu_option {
	uint32_t size;
	uint32_t option_id;
	uint16_t op;
	uint16_t __reserved;
	uint32_t object_id;
	uint64_t val64;
};

/* IOMMU_VFIO_IOAS */
#define SIO_IOMMU_VFIO_IOAS_GET	  0
#define SIO_IOMMU_VFIO_IOAS_SET	  1
#define SIO_IOMMU_VFIO_IOAS_CLEAR 2

struct sio_iommu_vfio_ioas {
	uint32_t size;
	uint32_t ioas_id;
	uint16_t op;
	uint16_t __reserved;
};

/* IOMMU_HWPT_ALLOC flags and data types. */
#define SIO_IOMMU_HWPT_ALLOC_NEST_PARENT    (1u << 0)
#define SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING (1u << 1)
#define SIO_IOMMU_HWPT_FAULT_ID_VALID	    (1u << 2)
#define SIO_IOMMU_HWPT_ALLOC_PASID	    (1u << 3)

#define SIO_IOMMU_HWPT_DATA_NONE       0
#define SIO_IOMMU_HWPT_DATA_VTD_S1     1
#define SIO_IOMMU_HWPT_DATA_ARM_SMMUV3 2
#define SIO_IOMMU_HWPT_DATA_AMD_GUEST  3

struct sio_iommu_hwpt_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pt_id;
	uint32_t out_hwpt_id;
	uint32_t __reserved;
	uint32_t data_type;
	uint32_t data_len;
	uint64_t data_uptr;
	uint32_t fault_id;
	uint32_t __reserved2;
};

/* The nested STE of IOMMU_HWPT_DATA_ARM_SMMUV3 (little-endian words). */
struct sio_iommu_hwpt_arm_smmuv3 {
	uint64_t ste[2];
};

/* IOMMU_GET_HW_INFO */
#define SIO_IOMMU_HW_INFO_FLAG_INPUT_TYPE (1u << 0)

#define SIO_IOMMU_HW_INFO_TYPE_NONE	      0
#define SIO_IOMMU_HW_INFO_TYPE_DEFAULT	      0
#define SIO_IOMMU_HW_INFO_TYPE_INTEL_VTD      1
#define SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3     2
#define SIO_IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV 3
#define SIO_IOMMU_HW_INFO_TYPE_AMD	      4

#define SIO_IOMMU_HW_CAP_DIRTY_TRACKING	       (1ull << 0)
#define SIO_IOMMU_HW_CAP_PCI_PASID_EXEC	       (1ull << 1)
#define SIO_IOMMU_HW_CAP_PCI_PASID_PRIV	       (1ull << 2)
#define SIO_IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED (1ull << 3)

struct sio_iommu_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	uint64_t data_uptr;
	union {
		uint32_t in_data_type;
		uint32_t out_data_type;
	};
	uint8_t out_max_pasid_log2;
	uint8_t __reserved[3];
	uint64_t out_capabilities;
};

#define SIO_IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI (1u << 0)

struct sio_iommu_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t __reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

/* Dirty tracking. */
#define SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE	 (1u << 0)
#define SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR (1u << 0)

struct sio_iommu_hwpt_set_dirty_tracking {
	uint32_t size;
	uint32_t flags;
	uint32_t hwpt_id;
	uint32_t __reserved;
};

struct sio_iommu_hwpt_get_dirty_bitmap {
	uint32_t size;
	uint32_t hwpt_id;
	uint32_t flags;
	uint32_t __reserved;
	uint64_t iova;
	uint64_t length;
	uint64_t page_size;
	uint64_t data; /* user pointer to the bitmap */
};

/* IOMMU_HWPT_INVALIDATE */
#define SIO_IOMMU_HWPT_INVALIDATE_DATA_VTD_S1	    0
#define SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 1

struct sio_iommu_hwpt_invalidate {
	uint32_t size;
	uint32_t hwpt_id;
	uint64_t data_uptr;
	uint32_t data_type;
	uint32_t entry_len;
	uint32_t entry_num;
	uint32_t __reserved;
};

/* One SMMUv3 command of IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3. */
struct sio_iommu_viommu_arm_smmuv3_invalidate {
	uint64_t cmd[2];
};

/* IOMMU_FAULT_QUEUE_ALLOC and the records read from its fd. */
struct sio_iommu_fault_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t out_fault_id;
	uint32_t out_fault_fd;
};

#define SIO_IOMMU_PGFAULT_FLAGS_PASID_VALID (1u << 0)
#define SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE   (1u << 1)
#define SIO_IOMMU_PGFAULT_PERM_READ	    (1u << 0)
#define SIO_IOMMU_PGFAULT_PERM_WRITE	    (1u << 1)
#define SIO_IOMMU_PGFAULT_PERM_EXEC	    (1u << 2)
#define SIO_IOMMU_PGFAULT_PERM_PRIV	    (1u << 3)

struct sio_iommu_hwpt_pgfault {
	uint32_t flags;
	uint32_t dev_id;
	uint32_t pasid;
	uint32_t grpid;
	uint32_t perm;
	uint32_t __reserved;
	uint64_t addr;
	uint32_t length;
	uint32_t cookie;
};

#define SIO_IOMMUFD_PAGE_RESP_SUCCESS 0
#define SIO_IOMMUFD_PAGE_RESP_INVALID 1

struct sio_iommu_hwpt_page_response {
	uint32_t cookie;
	uint32_t code;
};

/* vIOMMU, vDEVICE, vEVENTQ, HW queue. */
#define SIO_IOMMU_VIOMMU_TYPE_DEFAULT	     0
#define SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3     1
#define SIO_IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV 2

struct sio_iommu_viommu_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t type;
	uint32_t dev_id;
	uint32_t hwpt_id;
	uint32_t out_viommu_id;
	uint32_t data_len;
	uint32_t __reserved;
	uint64_t data_uptr;
};

struct sio_iommu_vdevice_alloc {
	uint32_t size;
	uint32_t viommu_id;
	uint32_t dev_id;
	uint32_t out_vdevice_id;
	uint64_t virt_id;
};

struct sio_iommu_ioas_change_process {
	uint32_t size;
	uint32_t __reserved;
};

#define SIO_IOMMU_VEVENTQ_TYPE_DEFAULT	      0
#define SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3     1
#define SIO_IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV 2
#define SIO_IOMMU_VEVENTQ_FLAG_LOST_EVENTS    (1u << 0)

struct sio_iommu_veventq_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t veventq_depth;
	uint32_t out_veventq_id;
	uint32_t out_veventq_fd;
	uint32_t __reserved;
};

struct sio_iommufd_vevent_header {
	uint32_t flags;
	uint32_t sequence;
};

struct sio_iommu_vevent_arm_smmuv3 {
	uint64_t evt[4];
};

#define SIO_IOMMU_HW_QUEUE_TYPE_DEFAULT	       0
#define SIO_IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV 1

struct sio_iommu_hw_queue_alloc {
	uint32_t size;
	uint32_t flags;
	uint32_t viommu_id;
	uint32_t type;
	uint32_t index;
	uint32_t out_hw_queue_id;
	uint64_t nesting_parent_iova;
	uint64_t length;
};

struct sio_iommu_ioas_noiommu_get_pa {
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t __reserved;
	uint64_t iova;
	uint64_t length;
	uint64_t out_phys;
};

/*
 * Layout checks: each struct's size and the offset of every field after
 * the first, as uapi-facts.md §1.2 gives them (x86_64, checked there by an
 * independent transcription).
 */
#define SIO_ABI_SIZE(s, n) _Static_assert(sizeof(struct s) == (n), #s " size")
#define SIO_ABI_OFF(s, f, n) \
	_Static_assert(offsetof(struct s, f) == (n), #s "." #f " offset")

SIO_ABI_SIZE(sio_iommu_destroy, 8);
SIO_ABI_OFF(sio_iommu_destroy, id, 4);
SIO_ABI_SIZE(sio_iommu_ioas_alloc, 12);
SIO_ABI_OFF(sio_iommu_ioas_alloc, out_ioas_id, 8);
SIO_ABI_SIZE(sio_iommu_iova_range, 16);
SIO_ABI_SIZE(sio_iommu_ioas_allow_iovas, 24);
SIO_ABI_OFF(sio_iommu_ioas_allow_iovas, num_iovas, 8);
SIO_ABI_OFF(sio_iommu_ioas_allow_iovas, allowed_iovas, 16);
SIO_ABI_SIZE(sio_iommu_ioas_copy, 40);
SIO_ABI_OFF(sio_iommu_ioas_copy, src_ioas_id, 12);
SIO_ABI_OFF(sio_iommu_ioas_copy, length, 16);
SIO_ABI_OFF(sio_iommu_ioas_copy, dst_iova, 24);
SIO_ABI_OFF(sio_iommu_ioas_copy, src_iova, 32);
SIO_ABI_SIZE(sio_iommu_ioas_iova_ranges, 32);
SIO_ABI_OFF(sio_iommu_ioas_iova_ranges, allowed_iovas, 16);
SIO_ABI_OFF(sio_iommu_ioas_iova_ranges, out_iova_alignment, 24);
SIO_ABI_SIZE(sio_iommu_ioas_map, 40);
SIO_ABI_OFF(sio_iommu_ioas_map, ioas_id, 8);
SIO_ABI_OFF(sio_iommu_ioas_map, user_va, 16);
SIO_ABI_OFF(sio_iommu_ioas_map, length, 24);
SIO_ABI_OFF(sio_iommu_ioas_map, iova, 32);
SIO_ABI_SIZE(sio_iommu_ioas_map_file, 40);
SIO_ABI_OFF(sio_iommu_ioas_map_file, fd, 12);
SIO_ABI_OFF(sio_iommu_ioas_map_file, start, 16);
SIO_ABI_OFF(sio_iommu_ioas_map_file, iova, 32);
SIO_ABI_SIZE(sio_iommu_ioas_unmap, 24);
SIO_ABI_OFF(sio_iommu_ioas_unmap, iova, 8);
SIO_ABI_OFF(sio_iommu_ioas_unmap, length, 16);
SIO_ABI_SIZE(sio_iommu_option, 24);
SIO_ABI_OFF(sio_iommu_option, op, 8);
SIO_ABI_OFF(sio_iommu_option, object_id, 12);
SIO_ABI_OFF(sio_iommu_option, val64, 16);
SIO_ABI_SIZE(sio_iommu_vfio_ioas, 12);
SIO_ABI_OFF(sio_iommu_vfio_ioas, op, 8);
SIO_ABI_OFF(sio_iommu_vfio_ioas, __reserved, 10);
SIO_ABI_SIZE(sio_iommu_hwpt_alloc, 48);
SIO_ABI_OFF(sio_iommu_hwpt_alloc, out_hwpt_id, 16);
SIO_ABI_OFF(sio_iommu_hwpt_alloc, __reserved, 20);
SIO_ABI_OFF(sio_iommu_hwpt_alloc, data_type, 24);
SIO_ABI_OFF(sio_iommu_hwpt_alloc, data_uptr, 32);
SIO_ABI_OFF(sio_iommu_hwpt_alloc, fault_id, 40);
SIO_ABI_SIZE(sio_iommu_hwpt_arm_smmuv3, 16);
SIO_ABI_OFF(sio_iommu_hwpt_arm_smmuv3, ste, 0);
SIO_ABI_SIZE(sio_iommu_hw_info, 40);
SIO_ABI_OFF(sio_iommu_hw_info, data_uptr, 16);
SIO_ABI_OFF(sio_iommu_hw_info, in_data_type, 24);
SIO_ABI_OFF(sio_iommu_hw_info, out_max_pasid_log2, 28);
SIO_ABI_OFF(sio_iommu_hw_info, out_capabilities, 32);
SIO_ABI_SIZE(sio_iommu_hw_info_arm_smmuv3, 40);
SIO_ABI_OFF(sio_iommu_hw_info_arm_smmuv3, idr, 8);
SIO_ABI_OFF(sio_iommu_hw_info_arm_smmuv3, aidr, 36);
SIO_ABI_SIZE(sio_iommu_hwpt_set_dirty_tracking, 16);
SIO_ABI_SIZE(sio_iommu_hwpt_get_dirty_bitmap, 48);
SIO_ABI_OFF(sio_iommu_hwpt_get_dirty_bitmap, iova, 16);
SIO_ABI_OFF(sio_iommu_hwpt_get_dirty_bitmap, data, 40);
SIO_ABI_SIZE(sio_iommu_hwpt_invalidate, 32);
SIO_ABI_OFF(sio_iommu_hwpt_invalidate, data_uptr, 8);
SIO_ABI_OFF(sio_iommu_hwpt_invalidate, data_type, 16);
SIO_ABI_OFF(sio_iommu_hwpt_invalidate, entry_num, 24);
SIO_ABI_SIZE(sio_iommu_viommu_arm_smmuv3_invalidate, 16);
SIO_ABI_SIZE(sio_iommu_fault_alloc, 16);
SIO_ABI_OFF(sio_iommu_fault_alloc, out_fault_fd, 12);
SIO_ABI_SIZE(sio_iommu_hwpt_pgfault, 40);
SIO_ABI_OFF(sio_iommu_hwpt_pgfault, addr, 24);
SIO_ABI_OFF(sio_iommu_hwpt_pgfault, cookie, 36);
SIO_ABI_SIZE(sio_iommu_hwpt_page_response, 8);
SIO_ABI_SIZE(sio_iommu_viommu_alloc, 40);
SIO_ABI_OFF(sio_iommu_viommu_alloc, type, 8);
SIO_ABI_OFF(sio_iommu_viommu_alloc, dev_id, 12);
SIO_ABI_OFF(sio_iommu_viommu_alloc, hwpt_id, 16);
SIO_ABI_OFF(sio_iommu_viommu_alloc, out_viommu_id, 20);
SIO_ABI_OFF(sio_iommu_viommu_alloc, data_len, 24);
SIO_ABI_OFF(sio_iommu_viommu_alloc, data_uptr, 32);
SIO_ABI_SIZE(sio_iommu_vdevice_alloc, 24);
SIO_ABI_OFF(sio_iommu_vdevice_alloc, viommu_id, 4);
SIO_ABI_OFF(sio_iommu_vdevice_alloc, dev_id, 8);
SIO_ABI_OFF(sio_iommu_vdevice_alloc, out_vdevice_id, 12);
SIO_ABI_OFF(sio_iommu_vdevice_alloc, virt_id, 16);
SIO_ABI_SIZE(sio_iommu_ioas_change_process, 8);
SIO_ABI_SIZE(sio_iommu_veventq_alloc, 32);
SIO_ABI_OFF(sio_iommu_veventq_alloc, out_veventq_fd, 24);
SIO_ABI_SIZE(sio_iommufd_vevent_header, 8);
SIO_ABI_SIZE(sio_iommu_vevent_arm_smmuv3, 32);
SIO_ABI_SIZE(sio_iommu_hw_queue_alloc, 40);
SIO_ABI_OFF(sio_iommu_hw_queue_alloc, out_hw_queue_id, 20);
SIO_ABI_OFF(sio_iommu_hw_queue_alloc, nesting_parent_iova, 24);
SIO_ABI_OFF(sio_iommu_hw_queue_alloc, length, 32);
SIO_ABI_SIZE(sio_iommu_ioas_noiommu_get_pa, 40);
SIO_ABI_OFF(sio_iommu_ioas_noiommu_get_pa, out_phys, 32);

#endif /* SIO_UAPI_IOMMUFD_ABI_H */
