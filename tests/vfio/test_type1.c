// SPDX-License-Identifier: MIT
/*
 * The type1 driver's own entry points, below the container: what a
 * program cannot reach through ioctl(2).  Its open() still takes the
 * removed nesting type (6) as a v2 container, while CHECK_EXTENSION no
 * longer advertises it, so the container never passes 6 on (the
 * preload/vfio_type1 suite checks that side: ENODEV).
 *
 * And iommufd's VFIO compat container in TYPE1 mode, where an unmap may
 * cut a piece out of a mapping: Linux pins per area (each piece its own
 * pages), so the piece cut away is let go and an attach after the cut
 * pins only what is still mapped.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/iommufd.h>
#include <softiommu/smmu.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"
#include "vfio/vfio_private.h"

struct fx {
	struct sio_platform *p;
	struct iommufd_ctx *ictx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->p), 0);
	assert_int_equal(iommufd_ctx_create(&f->p->host, &f->ictx), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	iommufd_ctx_put(f->ictx);
	sio_platform_destroy(f->p);
	free(f);
	return 0;
}

static void test_open_types(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t type;
		int rc;
		bool v2;
	} cases[] = {
		{SIO_VFIO_TYPE1_IOMMU, 0, false},
		{SIO_VFIO_TYPE1v2_IOMMU, 0, true},
		/* the removed type: a no-op alias of v2 in open() */
		{SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU, 0, true},
		{SIO_VFIO_SPAPR_TCE_IOMMU, -EINVAL, false},
		{SIO_VFIO_NOIOMMU_IOMMU, -EINVAL, false},
		{99, -EINVAL, false},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vfio_iommu *iommu = NULL;

		assert_int_equal(vfio_iommu_type1_open(cases[i].type, f->ictx,
						       3, &iommu),
				 cases[i].rc);
		if (cases[i].rc)
			continue;
		assert_int_equal(iommu->v2, cases[i].v2);
		assert_int_equal(iommu->dma_avail, 3);
		vfio_iommu_type1_release(iommu);
	}
}

/* Asked with no container IOMMU, as container.c asks before SET_IOMMU. */
static void test_check_extension_unset(void **state)
{
	(void)state;
	assert_int_equal(vfio_iommu_type1_check_extension(NULL,
							  SIO_VFIO_TYPE1_IOMMU),
			 1);
	assert_int_equal(
		vfio_iommu_type1_check_extension(NULL, SIO_VFIO_TYPE1v2_IOMMU),
		1);
	assert_int_equal(
		vfio_iommu_type1_check_extension(NULL, SIO_VFIO_UNMAP_ALL), 1);
	assert_int_equal(vfio_iommu_type1_check_extension(
				 NULL, SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU),
			 0);
	assert_int_equal(
		vfio_iommu_type1_check_extension(NULL, SIO_VFIO_DMA_CC_IOMMU),
		0);
	assert_int_equal(
		vfio_iommu_type1_check_extension(NULL, SIO_VFIO_UPDATE_VADDR),
		0);
}

/* VFIO_IOMMU_DIRTY_PAGES with GET_BITMAP, as a program lays it out. */
struct dirty_get {
	uint32_t argsz, flags;
	struct sio_vfio_iommu_type1_dirty_bitmap_get get;
};

/* UNMAP_DMA with GET_DIRTY_BITMAP: the bitmap follows the struct. */
struct unmap_dirty {
	uint32_t argsz, flags;
	uint64_t iova, size;
	struct sio_vfio_bitmap bitmap;
};

static long type1_ioctl(struct vfio_iommu *iommu, unsigned int cmd, void *arg)
{
	sio_user_begin();
	return vfio_iommu_type1_ioctl(iommu, cmd, (uint64_t)(uintptr_t)arg);
}

/* The end of the user address space the kernel's access_ok() checks. */
static void test_user_top(void **state)
{
	struct fx *f = *state;
	uint64_t top = iommufd_user_top(&f->p->host);
	int local;

	assert_true(top > (uint64_t)(uintptr_t)&local);
	assert_int_equal(iommufd_user_top(&f->p->host), top); /* remembered */
#if defined(__x86_64__)
	/* 4- or 5-level paging, less the guard page at the top */
	assert_true(top == (1ull << 47) - 4096 || top == (1ull << 56) - 4096);
#endif
}

/*
 * A dirty bitmap outside the user address space (the kernel half, a
 * non-canonical address) fails access_ok() before anything is looked
 * at: EINVAL, with or without mappings in the range, as on Linux; not
 * the EFAULT of writing it (fuzz_vfio found softiommu answering EFAULT,
 * and 0 when the range held no mapping).
 */
static void test_dirty_bitmap_access_ok(void **state)
{
	static const uint64_t bad[] = {0xffff888000000000ull,
				       0xdead000000000000ull, UINT64_MAX - 7};
	struct fx *f = *state;
	struct sio_vfio_iommu_type1_dirty_bitmap start = {
		.argsz = sizeof(start),
		.flags = SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START,
	};
	struct vfio_iommu *iommu;
	uint64_t bits = 0;

	assert_int_equal(vfio_iommu_type1_open(SIO_VFIO_TYPE1v2_IOMMU, f->ictx,
					       8, &iommu),
			 0);
	assert_int_equal(type1_ioctl(iommu, SIO_VFIO_IOMMU_DIRTY_PAGES, &start),
			 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dirty_get get = {
			.argsz = sizeof(get),
			.flags = SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
			.get = {.iova = 0,
				.size = 4096,
				.bitmap = {.pgsize = 4096,
					   .size = 8,
					   .data = bad[i]}},
		};
		struct unmap_dirty unmap = {
			.argsz = sizeof(unmap),
			.flags = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = 0,
			.size = 4096,
			.bitmap = get.get.bitmap,
		};

		assert_int_equal(type1_ioctl(iommu, SIO_VFIO_IOMMU_DIRTY_PAGES,
					     &get),
				 -EINVAL);
		assert_int_equal(type1_ioctl(iommu, SIO_VFIO_IOMMU_UNMAP_DMA,
					     &unmap),
				 -EINVAL);
	}
	/* the same calls with the bitmap in our memory: nothing mapped, 0 */
	{
		struct dirty_get get = {
			.argsz = sizeof(get),
			.flags = SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP,
			.get = {.iova = 0,
				.size = 4096,
				.bitmap = {.pgsize = 4096,
					   .size = 8,
					   .data = (uintptr_t)&bits}},
		};
		struct unmap_dirty unmap = {
			.argsz = sizeof(unmap),
			.flags = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			.iova = 0,
			.size = 4096,
			.bitmap = get.get.bitmap,
		};

		assert_int_equal(type1_ioctl(iommu, SIO_VFIO_IOMMU_DIRTY_PAGES,
					     &get),
				 0);
		assert_int_equal(type1_ioctl(iommu, SIO_VFIO_IOMMU_UNMAP_DMA,
					     &unmap),
				 0);
		assert_int_equal(unmap.size, 0);
	}
	vfio_iommu_type1_release(iommu);
}

/* ------------------------------------- the compat container, TYPE1 */

#define COMPAT_IOVA 0x100000ull

/* /dev/vfio/vfio on iommufd, one group, SET_IOMMU(TYPE1); no device yet */
struct compat {
	struct sio_platform *p;
	struct sio_iommufd *fd;
	struct platform_device *pdev;
	struct sio_vfio_pci_dev *vdev;
	uint64_t pg;
	uint8_t *buf;
};

static void compat_open(struct fx *f, struct compat *c, unsigned int npages)
{
	struct iommufd_ctx *ictx;

	memset(c, 0, sizeof(*c));
	c->p = f->p;
	c->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	sio_platform_set_caps(c->p, 0); /* pins counted, even for root */
	assert_int_equal(sio_iommufd_open(c->p, &c->fd), 0);
	ictx = platform_iommufd_ctx(c->fd);
	c->pdev = platform_find_device(c->p, "0000:00:04.0");
	assert_non_null(c->pdev);
	assert_int_equal(vfio_group_open(&c->pdev->group), 0);
	iommufd_ctx_get(ictx); /* the group's */
	assert_int_equal(vfio_group_set_container(&c->pdev->group, NULL, ictx),
			 0);
	assert_int_equal(
		sio_iommufd_ioctl(c->fd, SIO_VFIO_SET_IOMMU,
				  (void *)(uintptr_t)SIO_VFIO_TYPE1_IOMMU),
		0);
	c->buf = mmap(NULL, npages * c->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(c->buf != MAP_FAILED);
	for (unsigned int i = 0; i < npages; i++)
		c->buf[i * c->pg] = (uint8_t)(0x10 + i);
}

static void compat_close(struct compat *c, unsigned int npages)
{
	struct sio_pin_stats st;

	if (c->vdev)
		platform_group_close_device(c->pdev);
	vfio_group_release(&c->pdev->group);
	sio_iommufd_close(c->fd);
	sio_platform_pin_stats(c->p, &st);
	assert_int_equal(st.user_locked, 0);
	assert_int_equal(st.mm_pinned, 0);
	munmap(c->buf, npages * c->pg);
}

static int compat_map(struct compat *c, uint64_t iova, const void *va,
		      uint64_t size)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)va,
		.iova = iova,
		.size = size,
	};

	return sio_iommufd_ioctl(c->fd, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

/* UNMAP_DMA of exactly [iova, iova + size): 0 when all of it went. */
static int compat_unmap(struct compat *c, uint64_t iova, uint64_t size)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = size,
	};
	int rc = sio_iommufd_ioctl(c->fd, SIO_VFIO_IOMMU_UNMAP_DMA, &u);

	if (!rc && u.size != size)
		return -EIO;
	return rc;
}

/* GET_DEVICE_FD: binds the device and attaches it to the compat IOAS. */
static int compat_open_device(struct compat *c)
{
	return platform_group_open_device(c->pdev, c->pdev->name, &c->vdev);
}

/* The device reads the byte at @iova: 0 and *@b, or the fault. */
static int compat_dma_read(struct compat *c, uint64_t iova, uint8_t *b)
{
	struct sio_smmu_txn t = {.sid = c->pdev->sid, .addr = iova};
	size_t done = 0;

	return sio_smmu_dma(sio_platform_smmu(c->p), &t, b, 1, &done);
}

static uint64_t compat_locked(struct compat *c)
{
	struct sio_pin_stats st;

	sio_platform_pin_stats(c->p, &st);
	assert_int_equal(st.mm_pinned, st.user_locked);
	return st.user_locked;
}

/*
 * Mapped before any device, four pages whose last two are not accessible
 * memory (no pin yet, so MAP succeeds); UNMAP of those two; then the
 * device fd.  Linux attaches: the remaining area pins its own two pages
 * only.  (softiommu pinned the whole original range and failed the
 * attach with EFAULT; fuzz_vfio found it.)
 */
static void test_compat_attach_after_cut(void **state)
{
	struct compat c;
	uint8_t b = 0;

	compat_open(*state, &c, 4);
	assert_int_equal(mprotect(c.buf + 2 * c.pg, 2 * c.pg, PROT_NONE), 0);
	assert_int_equal(compat_map(&c, COMPAT_IOVA, c.buf, 4 * c.pg), 0);
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA + 2 * c.pg, 2 * c.pg), 0);
	assert_int_equal(compat_open_device(&c), 0);
	assert_int_equal(compat_locked(&c), 2);
	assert_int_equal(compat_dma_read(&c, COMPAT_IOVA + c.pg, &b), 0);
	assert_int_equal(b, 0x11);
	assert_int_not_equal(compat_dma_read(&c, COMPAT_IOVA + 2 * c.pg, &b),
			     0);
	/* the pieces cut away are not on the bus, the rest is */
	assert_int_equal(sio_mem_perm_at(sio_platform_bus(c.p),
					 (uintptr_t)c.buf + 2 * c.pg),
			 0);
	assert_int_equal(sio_mem_perm_at(sio_platform_bus(c.p),
					 (uintptr_t)c.buf + c.pg),
			 SIO_MEM_RW);
	assert_int_equal(mprotect(c.buf + 2 * c.pg, 2 * c.pg,
				  PROT_READ | PROT_WRITE),
			 0);
	compat_close(&c, 4);
}

/*
 * With the device attached, UNMAP of pages 2-3 and then 6 of an 8-page
 * mapping: each cut lets go of exactly the pages it removed (pinned
 * count and RLIMIT_MEMLOCK down by 2, then 1; the pages off the bus, so
 * nothing reaches them), the device's DMA to them faults, and to every
 * page still mapped it reads the user's bytes.
 */
static void test_compat_cut_unpins_piece(void **state)
{
	struct compat c;
	const unsigned int gone = (1u << 2) | (1u << 3) | (1u << 6);
	uint8_t b;

	compat_open(*state, &c, 8);
	assert_int_equal(compat_open_device(&c), 0);
	assert_int_equal(compat_map(&c, COMPAT_IOVA, c.buf, 8 * c.pg), 0);
	assert_int_equal(compat_locked(&c), 8);
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA + 2 * c.pg, 2 * c.pg), 0);
	assert_int_equal(compat_locked(&c), 6);
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA + 6 * c.pg, c.pg), 0);
	assert_int_equal(compat_locked(&c), 5);
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t iova = COMPAT_IOVA + i * c.pg;
		unsigned int perm = sio_mem_perm_at(
			sio_platform_bus(c.p), (uintptr_t)c.buf + i * c.pg);

		b = 0;
		if (gone & (1u << i)) {
			assert_int_not_equal(compat_dma_read(&c, iova, &b), 0);
			assert_int_equal(perm, 0);
			continue;
		}
		assert_int_equal(compat_dma_read(&c, iova, &b), 0);
		assert_int_equal(b, 0x10 + i);
		assert_int_equal(perm, SIO_MEM_RW);
	}
	/* the rest goes piece by piece, the last one takes the count to 0 */
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA, 2 * c.pg), 0);
	assert_int_equal(compat_locked(&c), 3);
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA + 4 * c.pg, 2 * c.pg), 0);
	assert_int_equal(compat_locked(&c), 1);
	assert_int_equal(compat_unmap(&c, COMPAT_IOVA + 7 * c.pg, c.pg), 0);
	assert_int_equal(compat_locked(&c), 0);
	compat_close(&c, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_types, setup,
						teardown),
		cmocka_unit_test(test_check_extension_unset),
		cmocka_unit_test_setup_teardown(test_user_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_bitmap_access_ok,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_attach_after_cut,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_cut_unpins_piece,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
