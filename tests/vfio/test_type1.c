// SPDX-License-Identifier: MIT
/*
 * The type1 driver's own entry points, below the container: what a
 * program cannot reach through ioctl(2).  Its open() still takes the
 * removed nesting type (6) as a v2 container, while CHECK_EXTENSION no
 * longer advertises it, so the container never passes 6 on (the
 * preload/vfio_type1 suite checks that side: ENODEV).
 */
#include <errno.h>
#include <string.h>

#include "sio_test.h"

#include "platform/platform_private.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_types, setup,
						teardown),
		cmocka_unit_test(test_check_extension_unset),
		cmocka_unit_test_setup_teardown(test_user_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_bitmap_access_ok,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
