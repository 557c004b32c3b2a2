// SPDX-License-Identifier: MIT
/*
 * The selftest mock IOMMU on its own, through the driver ops: the
 * geometry the kernel's iommufd_test.h gives the mock (2 KiB pages,
 * aperture [1 << 24, (1 << 31) - 1], a 1 MiB huge page), map / unmap /
 * lookup, dirty bits (one per leaf, a huge leaf's for all of it), the
 * nested domain's four IOTLB words and their invalidation entries with
 * the errnos of the kernel's mock_domain_cache_invalidate_user(), the
 * device flags and caches.
 */
#include <errno.h>
#include <string.h>

#include "sio_test.h"

#include "drivers/mock/mock_iommu.h"
#include "uapi/uapi.h"

struct fx {
	struct mock_iommu *m;
	struct sio_iommu_dev *iommu;
	uint32_t sid;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(mock_iommu_create(&f->m), 0);
	f->iommu = mock_iommu_dev(f->m);
	assert_int_equal(mock_dev_add(f->m, 0, &f->sid), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mock_iommu_destroy(f->m);
	free(f);
	return 0;
}

static struct sio_iommu_domain *paging(struct fx *f, unsigned int flags)
{
	struct sio_iommu_domain *d = NULL;

	assert_int_equal(
		f->iommu->ops->domain_alloc_paging(f->iommu, flags, &d), 0);
	return d;
}

/* Copies "user" data from this process's memory, as iommufd would. */
static int copy_in(void *dst, size_t dst_len, uint64_t uptr, size_t len)
{
	return sio_user_struct_in(dst, dst_len, uptr, len);
}

static void test_geometry(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *d = paging(f, 0);

	assert_int_equal(d->pgsize_bitmap, 2048);
	assert_int_equal(d->aperture_start, 1ull << 24);
	assert_int_equal(d->aperture_last, (1ull << 31) - 1);
	assert_true(mock_domain_is_paging(d));
	assert_false(mock_domain_is_nested(d));
	d->ops->free(d);
}

static void test_map_lookup_unmap(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *d = paging(f, 0);
	uint64_t pa, unmapped = 0;

	assert_int_equal(d->ops->map(d, 1ull << 24, 0x100000, 3 * 2048,
				     SIO_IOMMU_READ),
			 0);
	assert_int_equal(mock_domain_lookup(d, (1ull << 24) + 2048 + 5, &pa),
			 0);
	assert_int_equal(pa, 0x100000 + 2048 + 5);
	/* overlapping a mapping: all or nothing */
	assert_int_equal(d->ops->map(d, (1ull << 24) + 2 * 2048, 0x200000,
				     2 * 2048, SIO_IOMMU_READ),
			 -EEXIST);
	assert_int_equal(mock_domain_lookup(d, (1ull << 24) + 3 * 2048, &pa),
			 -ENOENT);
	assert_int_equal(d->ops->unmap(d, 1ull << 24, 3 * 2048, &unmapped), 0);
	assert_int_equal(unmapped, 3 * 2048);
	assert_int_equal(d->ops->iova_to_phys(d, 1ull << 24, &pa), -ENOENT);
	d->ops->free(d);
}

static void test_map_bounds(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *d = paging(f, 0);

	/* below the aperture, past it, unaligned: refused */
	assert_int_equal(d->ops->map(d, 0, 0, 2048, SIO_IOMMU_READ), -EINVAL);
	assert_int_equal(d->ops->map(d, 1ull << 31, 0, 2048, SIO_IOMMU_READ),
			 -EINVAL);
	assert_int_equal(d->ops->map(d, (1ull << 31) - 2048, 0, 4096,
				     SIO_IOMMU_READ),
			 -EINVAL);
	assert_int_equal(d->ops->map(d, (1ull << 24) + 1024, 0, 2048,
				     SIO_IOMMU_READ),
			 -EINVAL);
	assert_int_equal(d->ops->map(d, (1ull << 31) - 2048, 0, 2048,
				     SIO_IOMMU_READ),
			 0);
	assert_int_equal(d->ops->unmap(d, (1ull << 31) - 2048, 2048, NULL), 0);
	d->ops->free(d);
}

static void test_flags(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *d = NULL;
	uint32_t sid;

	assert_int_equal(f->iommu->ops->domain_alloc_paging(f->iommu, 1u << 7,
							    &d),
			 -EOPNOTSUPP);
	/* MOCK_FLAGS_DEVICE_NO_DIRTY | _PASID only */
	assert_int_equal(mock_dev_add(f->m, 1u << 1, &sid), -EINVAL);
	assert_int_equal(mock_dev_add(f->m, MOCK_DEV_NO_DIRTY, &sid), 0);
	assert_int_equal(f->iommu->ops->capabilities(f->iommu, sid),
			 SIO_IOMMU_CAP_CACHE_COHERENCY);
	assert_int_equal(f->iommu->ops->capabilities(f->iommu, f->sid),
			 SIO_IOMMU_CAP_CACHE_COHERENCY |
				 SIO_IOMMU_CAP_DIRTY_TRACKING);
	d = paging(f, SIO_DOMAIN_DIRTY_TRACKING);
	assert_int_equal(f->iommu->ops->attach_dev(d, sid), -EINVAL);
	assert_int_equal(f->iommu->ops->attach_dev(d, f->sid), 0);
	assert_int_equal(f->iommu->ops->block_dev(f->iommu, f->sid), 0);
	d->ops->free(d);
	assert_int_equal(mock_dev_add(f->m, MOCK_DEV_PASID, &sid), 0);
	/* the PCI capability's width, up to MOCK_PASID_WIDTH, PASID devs */
	const struct sio_iommu_pci_caps caps = {.pasid_bits = 20},
					wide = {.pasid_bits = 24};
	assert_int_equal(f->iommu->ops->probe_device(f->iommu, sid, &caps), 20);
	assert_int_equal(f->iommu->ops->probe_device(f->iommu, sid, &wide), 20);
	assert_int_equal(f->iommu->ops->probe_device(f->iommu, f->sid, &caps),
			 0);
}

static void test_hw_info(void **state)
{
	struct fx *f = *state;
	uint32_t buf[4] = {~0u, ~0u, ~0u, ~0u}, type = 0;

	assert_int_equal(f->iommu->ops->hw_info(f->iommu, buf, 8, &type), 8);
	assert_int_equal(type, 0xfeedbeef);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], 0xdeadbeef);
	assert_int_equal(buf[2], ~0u);
}

static void test_dirty(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *d = paging(f, SIO_DOMAIN_DIRTY_TRACKING);
	uint64_t base = 1ull << 24, bits[1] = {0};
	struct sio_dirty_bitmap bm = {
		.iova = base, .length = 8 * 2048, .pgsize = 2048, .bits = bits};

	assert_int_equal(
		d->ops->map(d, base, 0x100000, 8 * 2048, SIO_IOMMU_WRITE), 0);
	assert_int_equal(mock_domain_set_dirty(d, base + 3 * 2048), 0);
	assert_int_equal(mock_domain_set_dirty(d, base + 8 * 2048), -ENOENT);
	/* reading with a bitmap needs tracking on; a clean needs none */
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), -EINVAL);
	bm.bits = NULL;
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), 0);
	bm.bits = bits;
	assert_int_equal(d->ops->set_dirty_tracking(d, true), 0);
	assert_true(mock_domain_dirty_tracking(d));
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), 0);
	assert_int_equal(bits[0], 0); /* the clean above took it */
	assert_int_equal(mock_domain_set_dirty(d, base + 3 * 2048 + 7), 0);
	assert_int_equal(
		d->ops->read_and_clear_dirty(d, &bm, SIO_DIRTY_NO_CLEAR), 0);
	assert_int_equal(bits[0], 1u << 3);
	bits[0] = 0;
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), 0);
	assert_int_equal(bits[0], 1u << 3);
	bits[0] = 0;
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), 0);
	assert_int_equal(bits[0], 0);
	assert_int_equal(d->ops->unmap(d, base, 8 * 2048, NULL), 0);
	d->ops->free(d);
}

static struct sio_iommu_user_data ud_of(uint32_t type, void *p, size_t len)
{
	return (struct sio_iommu_user_data){.type = type,
					    .uptr = (uint64_t)(uintptr_t)p,
					    .len = len,
					    .copy_in = copy_in};
}

static void test_huge_leaf_dirty(void **state)
{
	struct fx *f = *state;
	uint32_t cfg[2] = {0, MOCK_IOMMUPT_HUGE};
	struct sio_iommu_user_data ud = ud_of(0xdead, cfg, sizeof(cfg));
	struct sio_iommu_domain *d = NULL;
	uint64_t base = 1ull << 24, bits[16] = {0};
	struct sio_dirty_bitmap bm = {.iova = base,
				      .length = 2 * 1024 * 1024,
				      .pgsize = 2048,
				      .bits = bits};

	assert_int_equal(f->iommu->ops->domain_alloc_paging_data(
				 f->iommu, SIO_DOMAIN_DIRTY_TRACKING, &ud, &d),
			 0);
	assert_int_equal(d->pgsize_bitmap, 2048 | (1 << 20));
	/* 1 MiB aligned on both sides: one leaf; the next MiB is not */
	assert_int_equal(
		d->ops->map(d, base, 0x100000, 1 << 20, SIO_IOMMU_WRITE), 0);
	assert_int_equal(d->ops->map(d, base + (1 << 20), 0x300800, 1 << 20,
				     SIO_IOMMU_WRITE),
			 0);
	assert_int_equal(d->ops->set_dirty_tracking(d, true), 0);
	assert_int_equal(mock_domain_set_dirty(d, base + 4096), 0);
	assert_int_equal(mock_domain_set_dirty(d, base + (1 << 20) + 4096), 0);
	assert_int_equal(d->ops->read_and_clear_dirty(d, &bm, 0), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(bits[i], ~0ull); /* all 512 of the leaf */
	assert_int_equal(bits[8], 1ull << 2);	  /* one 2 KiB leaf */
	for (int i = 9; i < 16; i++)
		assert_int_equal(bits[i], 0);
	/* other formats: -EOPNOTSUPP; short data: -EINVAL */
	cfg[1] = 7;
	assert_int_equal(f->iommu->ops->domain_alloc_paging_data(f->iommu, 0,
								 &ud, &d),
			 -EOPNOTSUPP);
	ud.len = 3;
	assert_int_equal(f->iommu->ops->domain_alloc_paging_data(f->iommu, 0,
								 &ud, &d),
			 -EINVAL);
	d->ops->unmap(d, base, 2 << 20, NULL);
	d->ops->free(d);
}

static int invalidate(struct sio_iommu_domain *n, uint32_t type, void *reqs,
		      uint32_t len, uint32_t *num)
{
	struct sio_iommu_user_data_array a = {.type = type,
					      .uptr = (uint64_t)(uintptr_t)reqs,
					      .entry_len = len,
					      .entry_num = *num,
					      .copy_in = copy_in};
	int rc = n->ops->cache_invalidate_user(n, &a);

	*num = a.entry_num;
	return rc;
}

static void check_iotlb(struct sio_iommu_domain *n, uint32_t a, uint32_t b,
			uint32_t c, uint32_t d)
{
	const uint32_t want[4] = {a, b, c, d};

	for (uint32_t i = 0; i < 4; i++) {
		uint32_t v;

		assert_int_equal(mock_nested_iotlb(n, i, &v), 0);
		assert_int_equal(v, want[i]);
	}
}

static void test_nested_iotlb(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *p = paging(f, SIO_DOMAIN_NEST_PARENT);
	uint32_t data[2] = {0xbadbeef, 0}, reqs[4] = {0}, num, v;
	struct sio_iommu_user_data ud = ud_of(0xdead, data, 4);
	struct sio_iommu_domain *n = NULL;

	ud.type = 0xdeae;
	assert_int_equal(f->iommu->ops->domain_alloc_nested(f->iommu, p, 0, &ud,
							    &n),
			 -EOPNOTSUPP);
	ud.type = 0xdead;
	ud.len = 3;
	assert_int_equal(f->iommu->ops->domain_alloc_nested(f->iommu, p, 0, &ud,
							    &n),
			 -EINVAL);
	ud.len = 4;
	assert_int_equal(f->iommu->ops->domain_alloc_nested(
				 f->iommu, p, SIO_DOMAIN_NEST_PARENT, &ud, &n),
			 -EOPNOTSUPP);
	assert_int_equal(
		f->iommu->ops->domain_alloc_nested(f->iommu, p, 0, &ud, &n), 0);
	assert_true(mock_domain_is_nested(n));
	check_iotlb(n, 0xbadbeef, 0xbadbeef, 0xbadbeef, 0xbadbeef);
	assert_int_equal(mock_nested_iotlb(n, 4, &v), -EINVAL);

	/* another type; entries longer or shorter than the struct */
	num = 1;
	assert_int_equal(invalidate(n, 0xdadbeef, reqs, 8, &num), -EINVAL);
	assert_int_equal(num, 0);
	num = 1;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 9, &num), -EINVAL);
	num = 1;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 1, &num), -EINVAL);
	/* entry 0 clears word 0, entry 1 has unknown flags: one done */
	reqs[0] = 0, reqs[1] = 0, reqs[2] = 0xffffffff, reqs[3] = 1;
	num = 2;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 8, &num), -EOPNOTSUPP);
	assert_int_equal(num, 1);
	check_iotlb(n, 0, 0xbadbeef, 0xbadbeef, 0xbadbeef);
	/* an id past the last */
	reqs[0] = 0, reqs[1] = 4;
	num = 1;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 8, &num), -EINVAL);
	assert_int_equal(num, 0);
	/* the kernel's mock checks the id even with FLAG_ALL */
	reqs[0] = 1, reqs[1] = 77;
	num = 1;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 8, &num), -EINVAL);
	check_iotlb(n, 0, 0xbadbeef, 0xbadbeef, 0xbadbeef);
	reqs[1] = 3;
	num = 1;
	assert_int_equal(invalidate(n, 0xdeadbeef, reqs, 8, &num), 0);
	assert_int_equal(num, 1);
	check_iotlb(n, 0, 0, 0, 0);
	n->ops->free(n);
	p->ops->free(p);
}

static void test_dev_cache(void **state)
{
	struct fx *f = *state;
	uint32_t v;

	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(mock_dev_cache(f->m, f->sid, i, &v), 0);
		assert_int_equal(v, 0xbaddad);
	}
	assert_int_equal(mock_dev_cache(f->m, f->sid, 4, &v), -EINVAL);
	assert_int_equal(mock_dev_cache(f->m, 0x20, 0, &v), -EINVAL);
	mock_dev_remove(f->m, f->sid);
	assert_int_equal(mock_dev_cache(f->m, f->sid, 0, &v), -EINVAL);
	/* a vEVENT needs a vIOMMU's nested domain */
	assert_int_equal(mock_dev_trigger_vevent(f->m, f->sid), -ENOENT);
}

static void test_pasid_1024(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_domain *a = paging(f, SIO_DOMAIN_PASID),
				*b = paging(f, SIO_DOMAIN_PASID);

	/* the kernel mock: PASID 1024's second change fails with ENOMEM */
	assert_int_equal(a->ops->set_dev_pasid(a, f->sid, 1024, NULL), 0);
	assert_int_equal(b->ops->set_dev_pasid(b, f->sid, 1024, a), -ENOMEM);
	assert_int_equal(b->ops->set_dev_pasid(b, f->sid, 1024, a), 0);
	/* blocking disarms it */
	assert_int_equal(
		f->iommu->ops->block_dev_pasid(f->iommu, f->sid, 1024, b), 0);
	assert_int_equal(a->ops->set_dev_pasid(a, f->sid, 1024, NULL), 0);
	assert_int_equal(
		f->iommu->ops->block_dev_pasid(f->iommu, f->sid, 1024, a), 0);
	/* any other PASID changes freely */
	assert_int_equal(a->ops->set_dev_pasid(a, f->sid, 100, NULL), 0);
	assert_int_equal(b->ops->set_dev_pasid(b, f->sid, 100, a), 0);
	assert_int_equal(
		f->iommu->ops->block_dev_pasid(f->iommu, f->sid, 100, b), 0);
	a->ops->free(a);
	b->ops->free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_geometry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_lookup_unmap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hw_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_leaf_dirty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nested_iotlb, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dev_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pasid_1024, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
