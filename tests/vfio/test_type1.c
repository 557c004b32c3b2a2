// SPDX-License-Identifier: MIT
/*
 * The type1 driver's own entry points, below the container: what a
 * program cannot reach through ioctl(2).  Its open() still takes the
 * removed nesting type (6) as a v2 container, while CHECK_EXTENSION no
 * longer advertises it, so the container never passes 6 on (the
 * preload/vfio_type1 suite checks that side: ENODEV).
 */
#include <errno.h>

#include "sio_test.h"

#include "platform/platform_private.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_types, setup,
						teardown),
		cmocka_unit_test(test_check_extension_unset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
