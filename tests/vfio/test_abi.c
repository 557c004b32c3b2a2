// SPDX-License-Identifier: MIT
/*
 * Our VFIO device ABI against the system's <linux/vfio.h>, an independent
 * transcription of the same kernel header: every number, size and offset
 * they both define must agree.  The iommufd binding structs are newer
 * than some distributions' headers; they are compared when present and
 * are otherwise held to the facts by vfio_abi.h's static assertions.
 */
#include <linux/vfio.h>
#include <stdio.h>

#include "sio_test.h"

#include "uapi/vfio_abi.h"

#define SAME_NUM(ours, theirs) assert_int_equal((uint64_t)(ours), (theirs))
#define SAME_STRUCT(ours, theirs) \
	assert_int_equal(sizeof(struct ours), sizeof(struct theirs))
#define SAME_FIELD(ours, theirs, f) \
	assert_int_equal(offsetof(struct ours, f), offsetof(struct theirs, f))

static void test_ioctl_numbers(void **state)
{
	(void)state;
	SAME_NUM(SIO_VFIO_TYPE, VFIO_TYPE);
	SAME_NUM(SIO_VFIO_BASE, VFIO_BASE);
	SAME_NUM(SIO_VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_INFO);
	SAME_NUM(SIO_VFIO_DEVICE_GET_REGION_INFO, VFIO_DEVICE_GET_REGION_INFO);
	SAME_NUM(SIO_VFIO_DEVICE_GET_IRQ_INFO, VFIO_DEVICE_GET_IRQ_INFO);
	SAME_NUM(SIO_VFIO_DEVICE_SET_IRQS, VFIO_DEVICE_SET_IRQS);
	SAME_NUM(SIO_VFIO_DEVICE_RESET, VFIO_DEVICE_RESET);
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	SAME_NUM(SIO_VFIO_DEVICE_BIND_IOMMUFD, VFIO_DEVICE_BIND_IOMMUFD);
	SAME_NUM(SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT,
		 VFIO_DEVICE_ATTACH_IOMMUFD_PT);
	SAME_NUM(SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT,
		 VFIO_DEVICE_DETACH_IOMMUFD_PT);
#else
	/* _IO(';', 100 + n) by hand (uapi-facts.md §2.4). */
	SAME_NUM(SIO_VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
	SAME_NUM(SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
	SAME_NUM(SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
#endif
}

static void test_flags(void **state)
{
	(void)state;
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_RESET, VFIO_DEVICE_FLAGS_RESET);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_PCI, VFIO_DEVICE_FLAGS_PCI);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_PLATFORM, VFIO_DEVICE_FLAGS_PLATFORM);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_AMBA, VFIO_DEVICE_FLAGS_AMBA);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_CCW, VFIO_DEVICE_FLAGS_CCW);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_AP, VFIO_DEVICE_FLAGS_AP);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_FSL_MC, VFIO_DEVICE_FLAGS_FSL_MC);
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_CAPS, VFIO_DEVICE_FLAGS_CAPS);
#ifdef VFIO_DEVICE_FLAGS_CDX
	SAME_NUM(SIO_VFIO_DEVICE_FLAGS_CDX, VFIO_DEVICE_FLAGS_CDX);
#endif
	SAME_NUM(SIO_VFIO_REGION_INFO_FLAG_READ, VFIO_REGION_INFO_FLAG_READ);
	SAME_NUM(SIO_VFIO_REGION_INFO_FLAG_WRITE, VFIO_REGION_INFO_FLAG_WRITE);
	SAME_NUM(SIO_VFIO_REGION_INFO_FLAG_MMAP, VFIO_REGION_INFO_FLAG_MMAP);
	SAME_NUM(SIO_VFIO_REGION_INFO_FLAG_CAPS, VFIO_REGION_INFO_FLAG_CAPS);
	SAME_NUM(SIO_VFIO_REGION_INFO_CAP_SPARSE_MMAP,
		 VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	SAME_NUM(SIO_VFIO_REGION_INFO_CAP_TYPE, VFIO_REGION_INFO_CAP_TYPE);
	SAME_NUM(SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
		 VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	SAME_NUM(SIO_VFIO_IRQ_INFO_EVENTFD, VFIO_IRQ_INFO_EVENTFD);
	SAME_NUM(SIO_VFIO_IRQ_INFO_MASKABLE, VFIO_IRQ_INFO_MASKABLE);
	SAME_NUM(SIO_VFIO_IRQ_INFO_AUTOMASKED, VFIO_IRQ_INFO_AUTOMASKED);
	SAME_NUM(SIO_VFIO_IRQ_INFO_NORESIZE, VFIO_IRQ_INFO_NORESIZE);
	SAME_NUM(SIO_VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_NONE);
	SAME_NUM(SIO_VFIO_IRQ_SET_DATA_BOOL, VFIO_IRQ_SET_DATA_BOOL);
	SAME_NUM(SIO_VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD);
	SAME_NUM(SIO_VFIO_IRQ_SET_ACTION_MASK, VFIO_IRQ_SET_ACTION_MASK);
	SAME_NUM(SIO_VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_ACTION_UNMASK);
	SAME_NUM(SIO_VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER);
	SAME_NUM(SIO_VFIO_IRQ_SET_DATA_TYPE_MASK, VFIO_IRQ_SET_DATA_TYPE_MASK);
	SAME_NUM(SIO_VFIO_IRQ_SET_ACTION_TYPE_MASK,
		 VFIO_IRQ_SET_ACTION_TYPE_MASK);
}

static void test_indexes(void **state)
{
	(void)state;
	SAME_NUM(SIO_VFIO_PCI_BAR0_REGION_INDEX, VFIO_PCI_BAR0_REGION_INDEX);
	SAME_NUM(SIO_VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_BAR5_REGION_INDEX);
	SAME_NUM(SIO_VFIO_PCI_ROM_REGION_INDEX, VFIO_PCI_ROM_REGION_INDEX);
	SAME_NUM(SIO_VFIO_PCI_CONFIG_REGION_INDEX,
		 VFIO_PCI_CONFIG_REGION_INDEX);
	SAME_NUM(SIO_VFIO_PCI_VGA_REGION_INDEX, VFIO_PCI_VGA_REGION_INDEX);
	SAME_NUM(SIO_VFIO_PCI_NUM_REGIONS, VFIO_PCI_NUM_REGIONS);
	SAME_NUM(SIO_VFIO_PCI_INTX_IRQ_INDEX, VFIO_PCI_INTX_IRQ_INDEX);
	SAME_NUM(SIO_VFIO_PCI_MSI_IRQ_INDEX, VFIO_PCI_MSI_IRQ_INDEX);
	SAME_NUM(SIO_VFIO_PCI_MSIX_IRQ_INDEX, VFIO_PCI_MSIX_IRQ_INDEX);
	SAME_NUM(SIO_VFIO_PCI_ERR_IRQ_INDEX, VFIO_PCI_ERR_IRQ_INDEX);
	SAME_NUM(SIO_VFIO_PCI_REQ_IRQ_INDEX, VFIO_PCI_REQ_IRQ_INDEX);
	SAME_NUM(SIO_VFIO_PCI_NUM_IRQS, VFIO_PCI_NUM_IRQS);
	/* The system header keeps the offset shift out of uAPI; 40 is the
	 * kernel's vfio_pci_core.h value (uapi-facts §2.5). */
	SAME_NUM(SIO_VFIO_PCI_INDEX_TO_OFFSET(SIO_VFIO_PCI_CONFIG_REGION_INDEX),
		 0x70000000000ull);
}

static void test_layouts(void **state)
{
	(void)state;
	SAME_STRUCT(sio_vfio_info_cap_header, vfio_info_cap_header);
	SAME_FIELD(sio_vfio_info_cap_header, vfio_info_cap_header, version);
	SAME_FIELD(sio_vfio_info_cap_header, vfio_info_cap_header, next);
	/*
	 * Older headers end vfio_device_info at cap_offset (20 bytes); the
	 * kernel's has an explicit pad making it 24 (§2.5).  Same fields,
	 * and never smaller than the system's.
	 */
	assert_true(sizeof(struct sio_vfio_device_info) >=
		    sizeof(struct vfio_device_info));
	SAME_FIELD(sio_vfio_device_info, vfio_device_info, flags);
	SAME_FIELD(sio_vfio_device_info, vfio_device_info, num_regions);
	SAME_FIELD(sio_vfio_device_info, vfio_device_info, num_irqs);
	SAME_FIELD(sio_vfio_device_info, vfio_device_info, cap_offset);
	SAME_STRUCT(sio_vfio_region_info, vfio_region_info);
	SAME_FIELD(sio_vfio_region_info, vfio_region_info, flags);
	SAME_FIELD(sio_vfio_region_info, vfio_region_info, index);
	SAME_FIELD(sio_vfio_region_info, vfio_region_info, cap_offset);
	SAME_FIELD(sio_vfio_region_info, vfio_region_info, size);
	SAME_FIELD(sio_vfio_region_info, vfio_region_info, offset);
	SAME_STRUCT(sio_vfio_irq_info, vfio_irq_info);
	SAME_FIELD(sio_vfio_irq_info, vfio_irq_info, flags);
	SAME_FIELD(sio_vfio_irq_info, vfio_irq_info, index);
	SAME_FIELD(sio_vfio_irq_info, vfio_irq_info, count);
	SAME_STRUCT(sio_vfio_irq_set, vfio_irq_set);
	SAME_FIELD(sio_vfio_irq_set, vfio_irq_set, flags);
	SAME_FIELD(sio_vfio_irq_set, vfio_irq_set, index);
	SAME_FIELD(sio_vfio_irq_set, vfio_irq_set, start);
	SAME_FIELD(sio_vfio_irq_set, vfio_irq_set, count);
	SAME_FIELD(sio_vfio_irq_set, vfio_irq_set, data);
#ifdef VFIO_DEVICE_BIND_IOMMUFD
	SAME_FIELD(sio_vfio_device_bind_iommufd, vfio_device_bind_iommufd,
		   iommufd);
	SAME_FIELD(sio_vfio_device_bind_iommufd, vfio_device_bind_iommufd,
		   out_devid);
	SAME_FIELD(sio_vfio_device_attach_iommufd_pt,
		   vfio_device_attach_iommufd_pt, pt_id);
	SAME_FIELD(sio_vfio_device_detach_iommufd_pt,
		   vfio_device_detach_iommufd_pt, flags);
#endif
}

/* The container, group and type1 IOMMU ABI (uapi-facts.md §2.1-2.3). */
static void test_container_abi(void **state)
{
	(void)state;
	SAME_NUM(SIO_VFIO_API_VERSION, VFIO_API_VERSION);
	SAME_NUM(SIO_VFIO_GET_API_VERSION, VFIO_GET_API_VERSION);
	SAME_NUM(SIO_VFIO_CHECK_EXTENSION, VFIO_CHECK_EXTENSION);
	SAME_NUM(SIO_VFIO_SET_IOMMU, VFIO_SET_IOMMU);
	SAME_NUM(SIO_VFIO_GROUP_GET_STATUS, VFIO_GROUP_GET_STATUS);
	SAME_NUM(SIO_VFIO_GROUP_SET_CONTAINER, VFIO_GROUP_SET_CONTAINER);
	SAME_NUM(SIO_VFIO_GROUP_UNSET_CONTAINER, VFIO_GROUP_UNSET_CONTAINER);
	SAME_NUM(SIO_VFIO_GROUP_GET_DEVICE_FD, VFIO_GROUP_GET_DEVICE_FD);
	SAME_NUM(SIO_VFIO_IOMMU_GET_INFO, VFIO_IOMMU_GET_INFO);
	SAME_NUM(SIO_VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_MAP_DMA);
	SAME_NUM(SIO_VFIO_IOMMU_UNMAP_DMA, VFIO_IOMMU_UNMAP_DMA);
	SAME_NUM(SIO_VFIO_IOMMU_DIRTY_PAGES, VFIO_IOMMU_DIRTY_PAGES);
	SAME_NUM(SIO_VFIO_TYPE1_IOMMU, VFIO_TYPE1_IOMMU);
	SAME_NUM(SIO_VFIO_TYPE1v2_IOMMU, VFIO_TYPE1v2_IOMMU);
	SAME_NUM(SIO_VFIO_DMA_CC_IOMMU, VFIO_DMA_CC_IOMMU);
#ifdef VFIO_TYPE1_NESTING_IOMMU
	/* an older header: the name the number had before its removal */
	SAME_NUM(SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU,
		 VFIO_TYPE1_NESTING_IOMMU);
#else
	SAME_NUM(SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU,
		 __VFIO_RESERVED_TYPE1_NESTING_IOMMU);
#endif
	SAME_NUM(SIO_VFIO_NOIOMMU_IOMMU, VFIO_NOIOMMU_IOMMU);
	SAME_NUM(SIO_VFIO_UNMAP_ALL, VFIO_UNMAP_ALL);
	SAME_NUM(SIO_VFIO_UPDATE_VADDR, VFIO_UPDATE_VADDR);
	SAME_NUM(SIO_VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_FLAGS_VIABLE);
	SAME_NUM(SIO_VFIO_GROUP_FLAGS_CONTAINER_SET,
		 VFIO_GROUP_FLAGS_CONTAINER_SET);
	SAME_NUM(SIO_VFIO_IOMMU_INFO_CAPS, VFIO_IOMMU_INFO_CAPS);
	SAME_NUM(SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
		 VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION);
	SAME_NUM(SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		 VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	SAME_NUM(SIO_VFIO_DMA_UNMAP_FLAG_ALL, VFIO_DMA_UNMAP_FLAG_ALL);
	SAME_NUM(SIO_VFIO_DMA_UNMAP_FLAG_VADDR, VFIO_DMA_UNMAP_FLAG_VADDR);
	SAME_NUM(SIO_VFIO_DMA_MAP_FLAG_VADDR, VFIO_DMA_MAP_FLAG_VADDR);
	SAME_NUM(SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
		 VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP);
	SAME_STRUCT(sio_vfio_group_status, vfio_group_status);
	SAME_STRUCT(sio_vfio_iommu_type1_info, vfio_iommu_type1_info);
	SAME_FIELD(sio_vfio_iommu_type1_info, vfio_iommu_type1_info,
		   cap_offset);
	SAME_STRUCT(sio_vfio_iommu_type1_dma_map, vfio_iommu_type1_dma_map);
	SAME_STRUCT(sio_vfio_iommu_type1_dma_unmap, vfio_iommu_type1_dma_unmap);
	SAME_STRUCT(sio_vfio_bitmap, vfio_bitmap);
	SAME_STRUCT(sio_vfio_iommu_type1_dirty_bitmap_get,
		    vfio_iommu_type1_dirty_bitmap_get);
	SAME_STRUCT(sio_vfio_iommu_type1_info_cap_migration,
		    vfio_iommu_type1_info_cap_migration);
	SAME_STRUCT(sio_vfio_iommu_type1_info_dma_avail,
		    vfio_iommu_type1_info_dma_avail);
	SAME_STRUCT(sio_vfio_iommu_type1_info_cap_iova_range,
		    vfio_iommu_type1_info_cap_iova_range);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioctl_numbers),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_indexes),
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_container_abi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
