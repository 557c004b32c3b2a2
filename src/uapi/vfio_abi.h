/* SPDX-License-Identifier: MIT */
/*
 * The VFIO device-fd uAPI (Linux include/uapi/linux/vfio.h): the device,
 * region and interrupt ioctls of vfio-pci and the iommufd binding of the
 * device cdev, written here from the published facts (uapi-facts.md §2.4,
 * §2.5).  Names carry a sio_ prefix so this header can sit next to the
 * kernel's in one translation unit; layouts, numbers and constants are the
 * kernel's, checked below against the sizes the facts give.
 */
#ifndef SIO_UAPI_VFIO_ABI_H
#define SIO_UAPI_VFIO_ABI_H

#include <stddef.h>
#include <stdint.h>

/* _IO(VFIO_TYPE, VFIO_BASE + n): no size or direction bits. */
#define SIO_VFIO_TYPE  0x3b /* ';' */
#define SIO_VFIO_BASE  100
#define SIO_VFIO_IO(n) ((SIO_VFIO_TYPE << 8) | (SIO_VFIO_BASE + (n)))

#define SIO_VFIO_DEVICE_GET_INFO	  SIO_VFIO_IO(7)
#define SIO_VFIO_DEVICE_GET_REGION_INFO	  SIO_VFIO_IO(8)
#define SIO_VFIO_DEVICE_GET_IRQ_INFO	  SIO_VFIO_IO(9)
#define SIO_VFIO_DEVICE_SET_IRQS	  SIO_VFIO_IO(10)
#define SIO_VFIO_DEVICE_RESET		  SIO_VFIO_IO(11)
#define SIO_VFIO_DEVICE_BIND_IOMMUFD	  SIO_VFIO_IO(18)
#define SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT SIO_VFIO_IO(19)
#define SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT SIO_VFIO_IO(20)

/* The container, group and type1 IOMMU ioctls (§2.1–2.3). */
#define SIO_VFIO_API_VERSION 0

#define SIO_VFIO_GET_API_VERSION       SIO_VFIO_IO(0)
#define SIO_VFIO_CHECK_EXTENSION       SIO_VFIO_IO(1)
#define SIO_VFIO_SET_IOMMU	       SIO_VFIO_IO(2)
#define SIO_VFIO_GROUP_GET_STATUS      SIO_VFIO_IO(3)
#define SIO_VFIO_GROUP_SET_CONTAINER   SIO_VFIO_IO(4)
#define SIO_VFIO_GROUP_UNSET_CONTAINER SIO_VFIO_IO(5)
#define SIO_VFIO_GROUP_GET_DEVICE_FD   SIO_VFIO_IO(6)
#define SIO_VFIO_IOMMU_GET_INFO	       SIO_VFIO_IO(12)
#define SIO_VFIO_IOMMU_MAP_DMA	       SIO_VFIO_IO(13)
#define SIO_VFIO_IOMMU_UNMAP_DMA       SIO_VFIO_IO(14)
#define SIO_VFIO_IOMMU_DIRTY_PAGES     SIO_VFIO_IO(17)

/* VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments */
#define SIO_VFIO_TYPE1_IOMMU	 1
#define SIO_VFIO_SPAPR_TCE_IOMMU 2
#define SIO_VFIO_TYPE1v2_IOMMU	 3
#define SIO_VFIO_DMA_CC_IOMMU	 4
#define SIO_VFIO_EEH		 5
/* was VFIO_TYPE1_NESTING_IOMMU; removed, the number kept */
#define SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU 6
#define SIO_VFIO_SPAPR_TCE_v2_IOMMU		7
#define SIO_VFIO_NOIOMMU_IOMMU			8
#define SIO_VFIO_UNMAP_ALL			9
#define SIO_VFIO_UPDATE_VADDR			10

struct sio_vfio_group_status {
	uint32_t argsz;
	uint32_t flags;
};

#define SIO_VFIO_GROUP_FLAGS_VIABLE	   (1u << 0)
#define SIO_VFIO_GROUP_FLAGS_CONTAINER_SET (1u << 1)

struct sio_vfio_iommu_type1_info {
	uint32_t argsz;
	uint32_t flags;
	uint64_t iova_pgsizes; /* bitmap of supported page sizes */
	uint32_t cap_offset;
	uint32_t pad;
};

#define SIO_VFIO_IOMMU_INFO_PGSIZES (1u << 0)
#define SIO_VFIO_IOMMU_INFO_CAPS    (1u << 1)

#define SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1
#define SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION	 2
#define SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL	 3

struct sio_vfio_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct sio_vfio_iommu_type1_info_cap_iova_range {
	uint16_t id, version;
	uint32_t next;
	uint32_t nr_iovas;
	uint32_t reserved;
	struct sio_vfio_iova_range iova_ranges[];
};

struct sio_vfio_iommu_type1_info_cap_migration {
	uint16_t id, version;
	uint32_t next;
	uint32_t flags;
	uint64_t pgsize_bitmap;
	uint64_t max_dirty_bitmap_size; /* in bytes */
};

struct sio_vfio_iommu_type1_info_dma_avail {
	uint16_t id, version;
	uint32_t next;
	uint32_t avail;
};

struct sio_vfio_iommu_type1_dma_map {
	uint32_t argsz;
	uint32_t flags;
	uint64_t vaddr;
	uint64_t iova;
	uint64_t size;
};

#define SIO_VFIO_DMA_MAP_FLAG_READ  (1u << 0)
#define SIO_VFIO_DMA_MAP_FLAG_WRITE (1u << 1)
#define SIO_VFIO_DMA_MAP_FLAG_VADDR (1u << 2)

struct sio_vfio_bitmap {
	uint64_t pgsize;
	uint64_t size; /* in bytes */
	uint64_t data; /* user pointer to u64s */
};

struct sio_vfio_iommu_type1_dma_unmap {
	uint32_t argsz;
	uint32_t flags;
	uint64_t iova;
	uint64_t size;
	uint8_t data[];
};

#define SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1u << 0)
#define SIO_VFIO_DMA_UNMAP_FLAG_ALL		 (1u << 1)
#define SIO_VFIO_DMA_UNMAP_FLAG_VADDR		 (1u << 2)

struct sio_vfio_iommu_type1_dirty_bitmap {
	uint32_t argsz;
	uint32_t flags;
	uint8_t data[];
};

#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START	   (1u << 0)
#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP	   (1u << 1)
#define SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP (1u << 2)

struct sio_vfio_iommu_type1_dirty_bitmap_get {
	uint64_t iova;
	uint64_t size;
	struct sio_vfio_bitmap bitmap;
};

/* Capability chains: offsets from the start of the info struct. */
struct sio_vfio_info_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next; /* 0 ends the chain */
};

struct sio_vfio_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
	uint32_t cap_offset;
	uint32_t pad;
};

#define SIO_VFIO_DEVICE_FLAGS_RESET    (1u << 0)
#define SIO_VFIO_DEVICE_FLAGS_PCI      (1u << 1)
#define SIO_VFIO_DEVICE_FLAGS_PLATFORM (1u << 2)
#define SIO_VFIO_DEVICE_FLAGS_AMBA     (1u << 3)
#define SIO_VFIO_DEVICE_FLAGS_CCW      (1u << 4)
#define SIO_VFIO_DEVICE_FLAGS_AP       (1u << 5)
#define SIO_VFIO_DEVICE_FLAGS_FSL_MC   (1u << 6)
#define SIO_VFIO_DEVICE_FLAGS_CAPS     (1u << 7)
#define SIO_VFIO_DEVICE_FLAGS_CDX      (1u << 8)

struct sio_vfio_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset;
	uint64_t size;
	uint64_t offset; /* of the region in the device fd */
};

#define SIO_VFIO_REGION_INFO_FLAG_READ	(1u << 0)
#define SIO_VFIO_REGION_INFO_FLAG_WRITE (1u << 1)
#define SIO_VFIO_REGION_INFO_FLAG_MMAP	(1u << 2)
#define SIO_VFIO_REGION_INFO_FLAG_CAPS	(1u << 3)

#define SIO_VFIO_REGION_INFO_CAP_SPARSE_MMAP   1
#define SIO_VFIO_REGION_INFO_CAP_TYPE	       2
#define SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE 3

struct sio_vfio_irq_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t count;
};

#define SIO_VFIO_IRQ_INFO_EVENTFD    (1u << 0)
#define SIO_VFIO_IRQ_INFO_MASKABLE   (1u << 1)
#define SIO_VFIO_IRQ_INFO_AUTOMASKED (1u << 2)
#define SIO_VFIO_IRQ_INFO_NORESIZE   (1u << 3)

struct sio_vfio_irq_set {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t start;
	uint32_t count;
	uint8_t data[];
};

#define SIO_VFIO_IRQ_SET_DATA_NONE	(1u << 0)
#define SIO_VFIO_IRQ_SET_DATA_BOOL	(1u << 1)
#define SIO_VFIO_IRQ_SET_DATA_EVENTFD	(1u << 2)
#define SIO_VFIO_IRQ_SET_ACTION_MASK	(1u << 3)
#define SIO_VFIO_IRQ_SET_ACTION_UNMASK	(1u << 4)
#define SIO_VFIO_IRQ_SET_ACTION_TRIGGER (1u << 5)
#define SIO_VFIO_IRQ_SET_DATA_TYPE_MASK                            \
	(SIO_VFIO_IRQ_SET_DATA_NONE | SIO_VFIO_IRQ_SET_DATA_BOOL | \
	 SIO_VFIO_IRQ_SET_DATA_EVENTFD)
#define SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK                                \
	(SIO_VFIO_IRQ_SET_ACTION_MASK | SIO_VFIO_IRQ_SET_ACTION_UNMASK | \
	 SIO_VFIO_IRQ_SET_ACTION_TRIGGER)

/* vfio-pci's fixed region and interrupt indexes. */
enum {
	SIO_VFIO_PCI_BAR0_REGION_INDEX,
	SIO_VFIO_PCI_BAR1_REGION_INDEX,
	SIO_VFIO_PCI_BAR2_REGION_INDEX,
	SIO_VFIO_PCI_BAR3_REGION_INDEX,
	SIO_VFIO_PCI_BAR4_REGION_INDEX,
	SIO_VFIO_PCI_BAR5_REGION_INDEX,
	SIO_VFIO_PCI_ROM_REGION_INDEX,
	SIO_VFIO_PCI_CONFIG_REGION_INDEX,
	SIO_VFIO_PCI_VGA_REGION_INDEX,
	SIO_VFIO_PCI_NUM_REGIONS = 9,
};

enum {
	SIO_VFIO_PCI_INTX_IRQ_INDEX,
	SIO_VFIO_PCI_MSI_IRQ_INDEX,
	SIO_VFIO_PCI_MSIX_IRQ_INDEX,
	SIO_VFIO_PCI_ERR_IRQ_INDEX,
	SIO_VFIO_PCI_REQ_IRQ_INDEX,
	SIO_VFIO_PCI_NUM_IRQS,
};

/*
 * vfio-pci places region i at i << 40 in the device fd (the kernel's
 * VFIO_PCI_OFFSET_SHIFT, a vfio-pci convention programs rely on although
 * GET_REGION_INFO is the documented way to learn it).
 */
#define SIO_VFIO_PCI_OFFSET_SHIFT 40
#define SIO_VFIO_PCI_INDEX_TO_OFFSET(i) \
	((uint64_t)(i) << SIO_VFIO_PCI_OFFSET_SHIFT)
#define SIO_VFIO_PCI_OFFSET_TO_INDEX(o) ((o) >> SIO_VFIO_PCI_OFFSET_SHIFT)
#define SIO_VFIO_PCI_OFFSET_MASK \
	(((uint64_t)1 << SIO_VFIO_PCI_OFFSET_SHIFT) - 1)

/* The device cdev's binding to an iommufd (§2.4). */
struct sio_vfio_device_bind_iommufd {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
	uint64_t token_uuid_ptr; /* with FLAG_TOKEN: a 16-byte UUID */
};

#define SIO_VFIO_DEVICE_BIND_FLAG_TOKEN (1u << 0)

struct sio_vfio_device_attach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pt_id; /* in: IOAS or HWPT; out: the attached HWPT */
	uint32_t pasid;
};

#define SIO_VFIO_DEVICE_ATTACH_PASID (1u << 0)

struct sio_vfio_device_detach_iommufd_pt {
	uint32_t argsz;
	uint32_t flags;
	uint32_t pasid;
};

#define SIO_VFIO_DEVICE_DETACH_PASID (1u << 0)

/* Layouts (uapi-facts.md §2.4, §2.5; x86-64). */
#define SIO_VFIO_ABI_SIZE(s, n) \
	_Static_assert(sizeof(struct s) == (n), #s " size")
#define SIO_VFIO_ABI_OFF(s, f, n) \
	_Static_assert(offsetof(struct s, f) == (n), #s "." #f " offset")

SIO_VFIO_ABI_SIZE(sio_vfio_info_cap_header, 8);
SIO_VFIO_ABI_OFF(sio_vfio_info_cap_header, next, 4);
SIO_VFIO_ABI_SIZE(sio_vfio_device_info, 24);
SIO_VFIO_ABI_OFF(sio_vfio_device_info, num_irqs, 12);
SIO_VFIO_ABI_OFF(sio_vfio_device_info, cap_offset, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_region_info, 32);
SIO_VFIO_ABI_OFF(sio_vfio_region_info, cap_offset, 12);
SIO_VFIO_ABI_OFF(sio_vfio_region_info, size, 16);
SIO_VFIO_ABI_OFF(sio_vfio_region_info, offset, 24);
SIO_VFIO_ABI_SIZE(sio_vfio_irq_info, 16);
SIO_VFIO_ABI_OFF(sio_vfio_irq_info, count, 12);
SIO_VFIO_ABI_SIZE(sio_vfio_irq_set, 20);
SIO_VFIO_ABI_OFF(sio_vfio_irq_set, count, 16);
SIO_VFIO_ABI_OFF(sio_vfio_irq_set, data, 20);
SIO_VFIO_ABI_SIZE(sio_vfio_device_bind_iommufd, 24);
SIO_VFIO_ABI_OFF(sio_vfio_device_bind_iommufd, iommufd, 8);
SIO_VFIO_ABI_OFF(sio_vfio_device_bind_iommufd, out_devid, 12);
SIO_VFIO_ABI_OFF(sio_vfio_device_bind_iommufd, token_uuid_ptr, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_device_attach_iommufd_pt, 16);
SIO_VFIO_ABI_OFF(sio_vfio_device_attach_iommufd_pt, pt_id, 8);
SIO_VFIO_ABI_OFF(sio_vfio_device_attach_iommufd_pt, pasid, 12);
SIO_VFIO_ABI_SIZE(sio_vfio_device_detach_iommufd_pt, 12);
SIO_VFIO_ABI_OFF(sio_vfio_device_detach_iommufd_pt, pasid, 8);

SIO_VFIO_ABI_SIZE(sio_vfio_group_status, 8);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_info, 24);
SIO_VFIO_ABI_OFF(sio_vfio_iommu_type1_info, iova_pgsizes, 8);
SIO_VFIO_ABI_OFF(sio_vfio_iommu_type1_info, cap_offset, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_iova_range, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_info_cap_iova_range, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_info_cap_migration, 32);
SIO_VFIO_ABI_OFF(sio_vfio_iommu_type1_info_cap_migration, pgsize_bitmap, 16);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_info_dma_avail, 12);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_dma_map, 32);
SIO_VFIO_ABI_SIZE(sio_vfio_bitmap, 24);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_dma_unmap, 24);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_dirty_bitmap, 8);
SIO_VFIO_ABI_SIZE(sio_vfio_iommu_type1_dirty_bitmap_get, 40);

#endif /* SIO_UAPI_VFIO_ABI_H */
