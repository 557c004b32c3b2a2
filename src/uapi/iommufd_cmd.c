// SPDX-License-Identifier: MIT
/*
 * The iommufd command table and the front half of every ioctl: the
 * number, the size word, the minimum size and the extensible struct, in
 * the order the kernel's iommufd_fops_ioctl() checks them, so each bad
 * call fails with the kernel's errno.
 */
#include <errno.h>
#include <stddef.h>

#include "iommufd_abi.h"
#include "iommufd_test_abi.h"
#include "uapi.h"

#define CMD(nr, type, last)                                   \
	[(nr)-SIO_IOMMUFD_CMD_BASE] = {                       \
		.cmd = SIO_IOMMUFD_IO(nr),                    \
		.min_size = offsetof(struct type, last) +     \
			    sizeof(((struct type *)0)->last), \
		.size = sizeof(struct type),                  \
	}

/* Minimum sizes end at the fields uapi-facts.md §1.2 names. */
static const struct sio_iommufd_cmd cmds[] = {
	CMD(0x80, sio_iommu_destroy, id),
	CMD(0x81, sio_iommu_ioas_alloc, out_ioas_id),
	CMD(0x82, sio_iommu_ioas_allow_iovas, allowed_iovas),
	CMD(0x83, sio_iommu_ioas_copy, src_iova),
	CMD(0x84, sio_iommu_ioas_iova_ranges, out_iova_alignment),
	CMD(0x85, sio_iommu_ioas_map, iova),
	CMD(0x86, sio_iommu_ioas_unmap, length),
	CMD(0x87, sio_iommu_option, val64),
	CMD(0x88, sio_iommu_vfio_ioas, __reserved),
	CMD(0x89, sio_iommu_hwpt_alloc, __reserved),
	CMD(0x8a, sio_iommu_hw_info, __reserved),
	CMD(0x8b, sio_iommu_hwpt_set_dirty_tracking, __reserved),
	CMD(0x8c, sio_iommu_hwpt_get_dirty_bitmap, data),
	CMD(0x8d, sio_iommu_hwpt_invalidate, __reserved),
	CMD(0x8e, sio_iommu_fault_alloc, out_fault_fd),
	CMD(0x8f, sio_iommu_ioas_map_file, iova),
	CMD(0x90, sio_iommu_viommu_alloc, out_viommu_id),
	CMD(0x91, sio_iommu_vdevice_alloc, virt_id),
	CMD(0x92, sio_iommu_ioas_change_process, __reserved),
	CMD(0x93, sio_iommu_veventq_alloc, out_veventq_fd),
	CMD(0x94, sio_iommu_hw_queue_alloc, length),
	CMD(0x95, sio_iommu_ioas_noiommu_get_pa, out_phys),
};

_Static_assert(sizeof(cmds) / sizeof(cmds[0]) ==
		       SIO_IOMMUFD_CMD_LAST - SIO_IOMMUFD_CMD_BASE + 1,
	       "one entry per command");

const struct sio_iommufd_cmd *sio_iommufd_cmd_find(unsigned int cmd)
{
	/* Only _IOC_NR selects the entry; the whole number must match. */
	unsigned int nr = cmd & 0xff;

	if (nr < SIO_IOMMUFD_CMD_BASE || nr > SIO_IOMMUFD_CMD_LAST)
		return NULL;
	return &cmds[nr - SIO_IOMMUFD_CMD_BASE];
}

/* IOMMU_TEST_CMD: its minimum size ends at @last, as the kernel's. */
static const struct sio_iommufd_cmd test_cmd = {
	.cmd = SIO_IOMMU_TEST_CMD,
	.min_size =
		offsetof(struct sio_iommu_test_cmd, last) + sizeof(uint32_t),
	.size = sizeof(struct sio_iommu_test_cmd),
};

const struct sio_iommufd_cmd *sio_iommufd_test_cmd_find(unsigned int cmd)
{
	return (cmd & 0xff) == (SIO_IOMMU_TEST_CMD & 0xff) ? &test_cmd : NULL;
}

static int ucmd_in(const struct sio_iommufd_cmd *c, unsigned int cmd,
		   uint64_t uarg, void *kbuf, size_t kbuf_size,
		   const struct sio_iommufd_cmd **op, uint32_t *usize)
{
	int rc;

	if (!c)
		return -ENOTTY;
	sio_user_begin();
	rc = sio_user_read(usize, uarg, sizeof(*usize));
	if (rc)
		return rc;
	if (c->cmd != cmd)
		return -ENOTTY;
	if (*usize < c->min_size)
		return -EINVAL;
	if (kbuf_size < c->size)
		return -EINVAL;
	rc = sio_user_struct_in(kbuf, c->size, uarg, *usize);
	if (rc)
		return rc;
	*op = c;
	return 0;
}

int sio_iommufd_ucmd_in(unsigned int cmd, uint64_t uarg, void *kbuf,
			size_t kbuf_size, const struct sio_iommufd_cmd **op,
			uint32_t *usize)
{
	return ucmd_in(sio_iommufd_cmd_find(cmd), cmd, uarg, kbuf, kbuf_size,
		       op, usize);
}

int sio_iommufd_test_ucmd_in(unsigned int cmd, uint64_t uarg, void *kbuf,
			     size_t kbuf_size,
			     const struct sio_iommufd_cmd **op, uint32_t *usize)
{
	return ucmd_in(sio_iommufd_test_cmd_find(cmd), cmd, uarg, kbuf,
		       kbuf_size, op, usize);
}

int sio_iommufd_ucmd_out(const struct sio_iommufd_cmd *op, uint64_t uarg,
			 uint32_t usize, const void *kbuf)
{
	return sio_user_write(uarg, kbuf, usize < op->size ? usize : op->size);
}
