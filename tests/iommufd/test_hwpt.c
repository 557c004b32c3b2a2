// SPDX-License-Identifier: MIT
/*
 * HWPTs and devices: IOMMU_HWPT_ALLOC, attach/replace/detach through
 * automatic and manual domains, the reserved regions and alignment a
 * domain brings to its IOAS, dirty tracking, IOMMU_GET_HW_INFO, and the
 * device's DMA through the SMMUv3 model before and after IOAS_UNMAP.
 *
 * Expected values come from the kernel and the architecture: the
 * arm-smmu-v3 driver's MSI window (MSI_IOVA_BASE 0x8000000, length
 * 0x100000), a stage-1 domain's 48-bit input range, the SMMU's IDR
 * registers read through MMIO, the errno the kernel's hw_pagetable.c and
 * device.c return for each bad argument.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define BUF_PAGES 64

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev;
	struct iommufd_device *idev;
	uint32_t dev_id;
	uint64_t pg;
	uint8_t *buf;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	assert_non_null(f->pdev);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &f->pdev->desc,
					     &f->dev_id, &f->idev),
			 0);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, BUF_PAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->idev)
		iommufd_device_unbind(f->idev);
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->buf, BUF_PAGES * f->pg);
	free(f);
	return 0;
}

static int ioctl_(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static uint32_t ioas_alloc(struct fx *f)
{
	return ifd_ioas_alloc(f->fd);
}

static int destroy(struct fx *f, uint32_t id)
{
	return ifd_destroy(f->fd, id);
}

static int map_fixed(struct fx *f, uint32_t ioas, void *va, uint64_t len,
		     uint64_t iova)
{
	return ifd_map_fixed(f->fd, ioas, va, len, iova);
}

static int unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len)
{
	return ifd_unmap(f->fd, ioas, iova, len, NULL);
}

static int hwpt_alloc(struct fx *f, uint32_t pt_id, uint32_t flags,
		      uint32_t *out)
{
	return ifd_hwpt_alloc(f->fd, f->dev_id, pt_id, flags, out);
}

/* The device writes @len bytes at @iova (a DMA write through the SMMU). */
static int dma_write(struct fx *f, uint64_t iova, const void *src, size_t len)
{
	return ifd_dma(f->plat, f->pdev->sid, iova, (void *)src, len, true);
}

static int dma_read(struct fx *f, uint64_t iova, void *dst, size_t len)
{
	return ifd_dma(f->plat, f->pdev->sid, iova, dst, len, false);
}

/* Before any attach the device's DMA is blocked (an abort STE). */
static void test_unattached_dma_blocked(void **state)
{
	struct fx *f = *state;
	uint8_t b[8] = {0};

	assert_int_equal(dma_read(f, 0x100000, b, sizeof(b)), -EFAULT);
}

/*
 * Attach to an IOAS: an automatic stage-1 domain appears, the DMA lands
 * in the user's buffer, and after IOAS_UNMAP returns the same DMA faults.
 */
static void test_attach_ioas_dma_then_unmap(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), pt = ioas;
	const char msg[] = "through the SMMU";
	uint8_t back[sizeof(msg)];
	struct sio_pin_stats st;

	assert_int_equal(map_fixed(f, ioas, f->buf, 16 * f->pg, 0x200000), 0);
	sio_platform_pin_stats(f->plat, &st);
	uint64_t pinned_before = st.user_locked;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_not_equal(pt, ioas); /* the automatic HWPT's id */
	/* the domain pinned the 16 pages, counted against the user */
	sio_platform_pin_stats(f->plat, &st);
	if (!(getuid() == 0))
		assert_true(st.user_locked == pinned_before + 16 ||
			    st.user_locked == pinned_before);

	assert_int_equal(
		dma_write(f, 0x200000 + 3 * f->pg + 5, msg, sizeof(msg)), 0);
	assert_memory_equal(f->buf + 3 * f->pg + 5, msg, sizeof(msg));
	f->buf[7 * f->pg] = 0x5a;
	assert_int_equal(dma_read(f, 0x200000 + 7 * f->pg, back, 1), 0);
	assert_int_equal(back[0], 0x5a);

	/* the IOAS is busy while the HWPT exists; the HWPT while attached */
	assert_int_equal(destroy(f, ioas), -EBUSY);
	assert_int_equal(destroy(f, pt), -EBUSY);

	assert_int_equal(unmap(f, ioas, 0x200000, 16 * f->pg), 0);
	assert_int_equal(dma_read(f, 0x200000 + 7 * f->pg, back, 1), -EFAULT);
	assert_int_equal(dma_write(f, 0x200000, msg, 1), -EFAULT);

	/*
	 * A second attach without detach is refused: the device is in the
	 * RID's attach already (iommufd_hw_pagetable_attach()'s xa_insert()
	 * into its device array, EBUSY, which the automatic domain search
	 * passes on); detach frees the auto HWPT.
	 */
	uint32_t again = ioas;
	assert_int_equal(iommufd_device_attach(f->idev, &again), -EBUSY);
	iommufd_device_detach(f->idev);
	assert_int_equal(destroy(f, pt), -ENOENT);
	assert_int_equal(destroy(f, ioas), 0);
}

/* A mapping made after the attach is pinned and mapped at once. */
static void test_map_after_attach(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), pt = ioas;
	uint8_t v = 0xa7, back = 0;
	void *hole;

	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(map_fixed(f, ioas, f->buf, 4 * f->pg, 0x400000), 0);
	assert_int_equal(dma_write(f, 0x400000 + f->pg, &v, 1), 0);
	assert_int_equal(f->buf[f->pg], 0xa7);
	f->buf[2 * f->pg] = 0x3c;
	assert_int_equal(dma_read(f, 0x400000 + 2 * f->pg, &back, 1), 0);
	assert_int_equal(back, 0x3c);

	/* with a domain, pinning happens now: unbacked memory is EFAULT */
	hole = mmap(NULL, 2 * f->pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	assert_true(hole != MAP_FAILED);
	assert_int_equal(map_fixed(f, ioas, hole, 2 * f->pg, 0x800000),
			 -EFAULT);
	munmap(hole, 2 * f->pg);

	/* the domain's 4 KiB granule is now the IOAS's IOVA alignment */
	assert_int_equal(map_fixed(f, ioas, f->buf, 2048, 0x900000), -EINVAL);
	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 0x900800), -EINVAL);
	iommufd_device_detach(f->idev);
}

/*
 * The domain's reserved space shows in IOVA_RANGES: the arm-smmu-v3 MSI
 * window [0x8000000, 0x80fffff] is cut out, and a stage-1 domain ends at
 * 2^48 - 1.  Mapping into the window is refused.
 */
static void test_reserved_regions(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), pt = ioas;
	struct sio_iommu_iova_range r[4];
	struct sio_iommu_ioas_iova_ranges c = {
		.size = sizeof(c),
		.ioas_id = ioas,
		.num_iovas = 4,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_IOVA_RANGES, &c), 0);
	assert_int_equal(c.num_iovas, 2);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, 0x7ffffff);
	assert_int_equal(r[1].start, 0x8100000);
	assert_int_equal(r[1].last, (1ull << 48) - 1);
	assert_int_equal(c.out_iova_alignment, 4096);
	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 0x8000000), -EINVAL);
	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 1ull << 48),
			 -EINVAL);

	/* detached: the ranges and alignment are the empty IOAS's again */
	iommufd_device_detach(f->idev);
	c.num_iovas = 4;
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_IOVA_RANGES, &c), 0);
	assert_int_equal(c.num_iovas, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(c.out_iova_alignment, 1);
}

/* An area the domain cannot reach makes the attach fail, nothing changed. */
static void test_attach_area_outside_aperture(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), pt = ioas;

	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 0x8000000), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), -EADDRINUSE);
	assert_int_equal(unmap(f, ioas, 0x8000000, f->pg), 0);
	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 1ull << 50), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), -EADDRINUSE);
	assert_int_equal(unmap(f, ioas, 1ull << 50, f->pg), 0);
	/* a byte-aligned area blocks the domain's 4 KiB alignment */
	assert_int_equal(map_fixed(f, ioas, f->buf, 100, 0x10000), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), -EADDRINUSE);
	assert_int_equal(unmap(f, ioas, 0x10000, 100), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	iommufd_device_detach(f->idev);
}

static void test_hwpt_alloc_errors(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), hwpt = 0;
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c), .dev_id = f->dev_id, .pt_id = ioas};

	c.__reserved = 1;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EOPNOTSUPP);
	c.__reserved = 0;
	c.data_len = 8;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EINVAL);
	c.data_len = 0;
	c.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EINVAL);
	c.data_len = 16;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EOPNOTSUPP);
	c.data_type = 0;
	c.data_len = 0;
	c.dev_id = ioas; /* not a device */
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -ENOENT);
	c.dev_id = 999;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -ENOENT);
	c.dev_id = f->dev_id;
	c.pt_id = f->dev_id; /* not a page table */
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EINVAL);
	c.pt_id = 999;
	assert_int_equal(ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c), -EINVAL);

	assert_int_equal(hwpt_alloc(f, ioas, 1u << 4, NULL), -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT |
					    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    NULL),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT |
					    SIO_IOMMU_HWPT_FAULT_ID_VALID,
				    NULL),
			 -EOPNOTSUPP);
	/* no fault object exists: any fault_id is unknown */
	assert_int_equal(hwpt_alloc(f, ioas, SIO_IOMMU_HWPT_FAULT_ID_VALID,
				    NULL),
			 -ENOENT);
	assert_int_equal(hwpt_alloc(f, ioas, 0, &hwpt), 0);
	/* a paging HWPT as parent asks for nesting, which the driver lacks */
	assert_int_equal(hwpt_alloc(f, hwpt, 0, NULL), -EOPNOTSUPP);
	/* a failed allocation leaves no object behind */
	assert_int_equal(destroy(f, hwpt + 1), -ENOENT);
	assert_int_equal(destroy(f, hwpt), 0);
	assert_int_equal(destroy(f, ioas), 0);
}

/*
 * Manual HWPTs: a stage-1 one and a NEST_PARENT (stage-2) one over two
 * IOASes mapping the same IOVA to different pages; replace moves the
 * device between them without a detach.
 */
static void test_manual_hwpt_and_replace(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f), ha = 0, hb = 0, pt;
	uint8_t v = 0x11;

	assert_int_equal(map_fixed(f, a, f->buf, f->pg, 0x100000), 0);
	assert_int_equal(map_fixed(f, b, f->buf + f->pg, f->pg, 0x100000), 0);
	assert_int_equal(hwpt_alloc(f, a, 0, &ha), 0);
	assert_int_equal(
		hwpt_alloc(f, b, SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, &hb), 0);
	pt = ha;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(pt, ha);
	assert_int_equal(dma_write(f, 0x100000, &v, 1), 0);
	assert_int_equal(f->buf[0], 0x11);

	pt = hb;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	v = 0x22;
	assert_int_equal(dma_write(f, 0x100000, &v, 1), 0);
	assert_int_equal(f->buf[f->pg], 0x22);
	assert_int_equal(f->buf[0], 0x11);
	/* the old HWPT is free to go, the new one is held */
	assert_int_equal(destroy(f, hb), -EBUSY);
	assert_int_equal(destroy(f, ha), 0);

	/* replace back to an IOAS: an automatic domain on it */
	pt = a;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	assert_int_not_equal(pt, a);
	v = 0x33;
	assert_int_equal(dma_write(f, 0x100000, &v, 1), 0);
	assert_int_equal(f->buf[0], 0x33);
	iommufd_device_detach(f->idev);
	/* a manual HWPT outlives its detach; the automatic one does not */
	assert_int_equal(destroy(f, pt), -ENOENT);
	assert_int_equal(destroy(f, hb), 0);
	/* replace without an attachment is refused */
	pt = a;
	assert_int_equal(iommufd_device_replace(f->idev, &pt), -EINVAL);
}

struct dma_loop {
	struct fx *f;
	atomic_bool stop;
	atomic_uint faults, done;
};

static void *dma_reader(void *arg)
{
	struct dma_loop *l = arg;
	uint8_t b;

	while (!atomic_load(&l->stop)) {
		if (dma_read(l->f, 0x100000, &b, 1))
			atomic_fetch_add(&l->faults, 1);
		atomic_fetch_add(&l->done, 1);
	}
	return NULL;
}

/*
 * Replacing one stage-1 HWPT by another changes only the STE's
 * S1ContextPtr word: a hitless update, so a device reading all along
 * never faults (a break-before-make STE write would abort some reads).
 */
static void test_replace_is_hitless(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f), ha = 0, hb = 0, pt;
	struct dma_loop l = {.f = f};
	pthread_t t;

	assert_int_equal(map_fixed(f, a, f->buf, f->pg, 0x100000), 0);
	assert_int_equal(map_fixed(f, b, f->buf + f->pg, f->pg, 0x100000), 0);
	assert_int_equal(hwpt_alloc(f, a, 0, &ha), 0);
	assert_int_equal(hwpt_alloc(f, b, 0, &hb), 0);
	pt = ha;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(pthread_create(&t, NULL, dma_reader, &l), 0);
	for (int i = 0; i < 400; i++) {
		pt = i % 2 ? ha : hb;
		assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
		/* give the reader time to run between replaces */
		for (unsigned int d = atomic_load(&l.done);
		     atomic_load(&l.done) < d + 2;)
			sched_yield();
	}
	atomic_store(&l.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&l.faults), 0);
	iommufd_device_detach(f->idev);
	assert_int_equal(destroy(f, ha), 0);
	assert_int_equal(destroy(f, hb), 0);
}

static int get_bitmap(struct fx *f, uint32_t hwpt, uint32_t flags,
		      uint64_t iova, uint64_t len, uint64_t page_size,
		      void *data)
{
	struct sio_iommu_hwpt_get_dirty_bitmap c = {
		.size = sizeof(c),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = iova,
		.length = len,
		.page_size = page_size,
		.data = (uint64_t)(uintptr_t)data,
	};

	return ioctl_(f, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &c);
}

static int set_dirty(struct fx *f, uint32_t hwpt, uint32_t flags)
{
	struct sio_iommu_hwpt_set_dirty_tracking c = {
		.size = sizeof(c), .flags = flags, .hwpt_id = hwpt};

	return ioctl_(f, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING, &c);
}

static bool bit(const uint8_t *bm, unsigned int i)
{
	return bm[i / 8] & (1u << (i % 8));
}

/*
 * Dirty tracking: pages the device writes are reported once (then
 * cleaned), NO_CLEAR leaves them dirty, bits the user already set stay
 * set, and the bitmap may sit at any byte address.
 */
static void test_dirty_tracking(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), hwpt = 0, plain = 0, pt;
	const uint64_t base = 0x1000000;
	uint8_t store[64], *bm = store + 3, v = 1;

	assert_int_equal(map_fixed(f, ioas, f->buf, 32 * f->pg, base), 0);
	assert_int_equal(hwpt_alloc(f, ioas,
				    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt),
			 0);
	assert_int_equal(hwpt_alloc(f, ioas, 0, &plain), 0);
	pt = hwpt;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(set_dirty(f, hwpt, 2), -EOPNOTSUPP);
	assert_int_equal(set_dirty(f, plain, 1), -EOPNOTSUPP);
	assert_int_equal(set_dirty(f, hwpt, 1), 0);

	assert_int_equal(dma_write(f, base + 3 * 4096, &v, 1), 0);
	assert_int_equal(dma_write(f, base + 17 * 4096 + 100, &v, 1), 0);
	/* reads do not dirty */
	assert_int_equal(dma_read(f, base + 5 * 4096, &v, 1), 0);

	memset(store, 0, sizeof(store));
	bm[3] = 0x80; /* the user's own bit 31 */
	assert_int_equal(get_bitmap(f, hwpt,
				    SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
				    base, 32 * 4096, 4096, bm),
			 0);
	for (unsigned int i = 0; i < 32; i++)
		assert_int_equal(bit(bm, i), i == 3 || i == 17 || i == 31);
	memset(store, 0, sizeof(store));
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 32 * 4096, 4096, bm), 0);
	for (unsigned int i = 0; i < 32; i++)
		assert_int_equal(bit(bm, i), i == 3 || i == 17);
	/* cleaned: nothing until the next write, which is seen again */
	memset(store, 0, sizeof(store));
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 32 * 4096, 4096, bm), 0);
	for (unsigned int i = 0; i < 32; i++)
		assert_false(bit(bm, i));
	assert_int_equal(dma_write(f, base + 17 * 4096, &v, 1), 0);
	memset(store, 0, sizeof(store));
	/* 8 KiB bitmap pages: page 17 is in bit 8 */
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 32 * 4096, 8192, bm), 0);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(bit(bm, i), i == 8);
	/* the bytes around the bitmap are untouched */
	assert_int_equal(store[0] | store[1] | store[2], 0);
	assert_int_equal(store[3 + 8], 0);

	/* argument errors */
	assert_int_equal(get_bitmap(f, hwpt, 2, base, 4096, 4096, bm),
			 -EOPNOTSUPP);
	assert_int_equal(get_bitmap(f, plain, 0, base, 4096, 4096, bm),
			 -EOPNOTSUPP);
	assert_int_equal(get_bitmap(f, ioas, 0, base, 4096, 4096, bm), -ENOENT);
	assert_int_equal(get_bitmap(f, hwpt, 0, base + 100, 4096, 4096, bm),
			 -EINVAL);
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 4096, 0, bm), -EINVAL);
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 4096, 8192, bm), -EINVAL);
	assert_int_equal(get_bitmap(f, hwpt, 0, UINT64_MAX - 4095, 8192, 4096,
				    bm),
			 -EOVERFLOW);
	assert_int_equal(get_bitmap(f, hwpt, 0, base, 4096, 4096,
				    (void *)(uintptr_t)8),
			 -EFAULT);
	iommufd_device_detach(f->idev);
}

/* IOMMU_OPTION HUGE_PAGES on an IOAS: 0 turns large pages off. */
static int huge_pages(struct fx *f, uint32_t ioas, uint64_t on)
{
	struct sio_iommu_option c = {.size = sizeof(c),
				     .option_id = SIO_IOMMU_OPTION_HUGE_PAGES,
				     .op = SIO_IOMMU_OPTION_OP_SET,
				     .object_id = ioas,
				     .val64 = on};

	return ioctl_(f, SIO_IOMMU_OPTION, &c);
}

/*
 * A 2 MiB-aligned, 2 MiB mapping is one level-2 block in a domain, so one
 * write dirties the block: all 512 pages are reported, as the kernel's
 * io-pgtable reports a dirty block.  With large pages off the kernel
 * maps it page by page (batch_iommu_map_small()), and the same write
 * dirties one page.
 */
static void test_dirty_block_vs_small_pages(void **state)
{
	struct fx *f = *state;
	const uint64_t sz = 2ull << 20, base = 0x40000000;
	uint8_t *raw = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *buf, bm[64], v = 7;

	assert_true(raw != MAP_FAILED);
	buf = (uint8_t *)(((uintptr_t)raw + sz - 1) & ~(uintptr_t)(sz - 1));
	for (int on = 1; on >= 0; on--) {
		uint32_t ioas = ioas_alloc(f), hwpt = 0, pt;
		unsigned int n = 0;

		assert_int_equal(huge_pages(f, ioas, (uint64_t)on), 0);
		assert_int_equal(map_fixed(f, ioas, buf, sz, base), 0);
		assert_int_equal(hwpt_alloc(f, ioas,
					    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					    &hwpt),
				 0);
		pt = hwpt;
		assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
		assert_int_equal(set_dirty(f, hwpt, 1), 0);
		assert_int_equal(dma_write(f, base + 5 * 4096 + 9, &v, 1), 0);
		memset(bm, 0, sizeof(bm));
		assert_int_equal(get_bitmap(f, hwpt, 0, base, sz, 4096, bm), 0);
		for (unsigned int i = 0; i < 512; i++)
			n += bit(bm, i);
		assert_int_equal(n, on ? 512 : 1);
		assert_true(bit(bm, 5));
		iommufd_device_detach(f->idev);
		assert_int_equal(destroy(f, hwpt), 0);
		assert_int_equal(destroy(f, ioas), 0);
	}
	munmap(raw, 2 * sz);
}

/* IOMMU_GET_HW_INFO: the SMMU's own ID registers, in the uAPI blob. */
static void test_get_hw_info(void **state)
{
	struct fx *f = *state;
	struct sio_smmu *smmu = sio_platform_smmu(f->plat);
	uint32_t blob[16];
	struct sio_iommu_hw_info c = {
		.size = sizeof(c),
		.dev_id = f->dev_id,
		.data_len = sizeof(blob),
		.data_uptr = (uint64_t)(uintptr_t)blob,
	};
	uint32_t idr0 = sio_smmu_read32(smmu, 0x0);
	bool dirty = ((idr0 >> 6) & 3) == 2 && (idr0 & (1u << 4));

	memset(blob, 0xff, sizeof(blob));
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), 0);
	assert_int_equal(c.out_data_type, SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	assert_int_equal(c.data_len, 40);
	assert_int_equal(blob[0], 0); /* flags */
	for (int i = 0; i < 6; i++)
		assert_int_equal(blob[2 + i], sio_smmu_read32(smmu, 4u * i));
	assert_int_equal(blob[8], sio_smmu_read32(smmu, 0x18)); /* IIDR */
	assert_int_equal(blob[9], sio_smmu_read32(smmu, 0x1c)); /* AIDR */
	for (int i = 10; i < 16; i++)
		assert_int_equal(blob[i], 0); /* the tail is zeroed */
	assert_int_equal(!!(c.out_capabilities &
			    SIO_IOMMU_HW_CAP_DIRTY_TRACKING),
			 dirty);

	/* a short buffer gets the prefix; the full length is reported */
	memset(blob, 0xff, sizeof(blob));
	c.data_len = 8;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), 0);
	assert_int_equal(c.data_len, 40);
	assert_int_equal(blob[0], 0);
	assert_int_equal(blob[2], 0xffffffffu);
	c.data_len = 0;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), 0);

	c.flags = SIO_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	c.in_data_type = SIO_IOMMU_HW_INFO_TYPE_INTEL_VTD;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), -EOPNOTSUPP);
	c.in_data_type = SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), 0);
	c.flags = 2;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), -EOPNOTSUPP);
	c.flags = 0;
	c.data_len = 40;
	c.data_uptr = 16;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), -EFAULT);
	c.data_uptr = (uint64_t)(uintptr_t)blob;
	c.dev_id = 999;
	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), -ENOENT);
}

/*
 * A device belongs to one context at a time; the context outlives its
 * handle while a device is bound, and everything goes at the unbind.
 */
static void test_bind_owner_and_close(void **state)
{
	struct fx *f = *state;
	struct sio_iommufd *other;
	struct iommufd_device *idev2;
	uint32_t id2, ioas = ioas_alloc(f), pt = ioas;

	assert_int_equal(sio_iommufd_open(f->plat, &other), 0);
	assert_int_equal(iommufd_device_bind(other->ictx, &f->pdev->desc, &id2,
					     &idev2),
			 -EBUSY);
	sio_iommufd_close(other);

	assert_int_equal(map_fixed(f, ioas, f->buf, f->pg, 0x100000), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	/* the device object cannot be destroyed from user space */
	assert_int_equal(destroy(f, f->dev_id), -EBUSY);
	/* closing the handle keeps the bound device's context alive */
	sio_iommufd_close(f->fd);
	f->fd = NULL;
	uint8_t v = 9;
	assert_int_equal(dma_write(f, 0x100000, &v, 1), 0);
	assert_int_equal(f->buf[0], 9);
	/* unbind detaches, destroys everything, and blocks the device */
	iommufd_device_unbind(f->idev);
	f->idev = NULL;
	assert_int_equal(dma_write(f, 0x100000, &v, 1), -EFAULT);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
}

/* The pages counted against the user's RLIMIT_MEMLOCK, and all pinned. */
static void expect_pinned(struct fx *f, uint64_t npages)
{
	struct sio_pin_stats st;

	sio_platform_pin_stats(f->plat, &st);
	assert_int_equal(st.user_locked, npages);
	assert_int_equal(st.mm_pinned, npages);
}

/* Whether the bus reaches page @i of the buffer (the DMA's target). */
static bool on_bus(struct fx *f, unsigned int i)
{
	return sio_mem_perm_at(sio_platform_bus(f->plat),
			       (uintptr_t)f->buf + i * f->pg) != 0;
}

static int copy(struct fx *f, uint32_t src, uint64_t src_iova, uint32_t dst,
		uint64_t dst_iova, uint64_t len)
{
	struct sio_iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return ioctl_(f, SIO_IOMMU_IOAS_COPY, &c);
}

/*
 * IOAS_COPY of part of a mapping into an IOAS with a device: the copy's
 * area shares the source's pages object, and Linux pins only the pages
 * the copy's area uses (iopt_area_fill_domains() over its index range).
 * Pages 2-4 of 8 copied: 3 pinned and counted, only they reachable; a
 * second copy of pages 3-6 adds 5 and 6 only; unmapping the source keeps
 * the copies' pages; each copy's unmap gives back what the other does
 * not hold.
 */
static void test_copy_part_pins_part(void **state)
{
	struct fx *f = *state;
	uint32_t src, dst, pt;
	uint8_t b = 0;

	sio_platform_set_caps(f->plat, 0); /* counted, even for root */
	src = ioas_alloc(f);
	dst = pt = ioas_alloc(f);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(map_fixed(f, src, f->buf, 8 * f->pg, 0x100000), 0);
	expect_pinned(f, 0); /* no domain behind the source */

	assert_int_equal(copy(f, src, 0x100000 + 2 * f->pg, dst, 0x300000,
			      3 * f->pg),
			 0);
	expect_pinned(f, 3);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(on_bus(f, i), i >= 2 && i <= 4);
	assert_int_equal(iopt_pages_count_pins(&f->plat->host,
					       (uintptr_t)f->buf + 2 * f->pg),
			 1);
	assert_int_equal(
		iopt_pages_count_pins(&f->plat->host, (uintptr_t)f->buf), 0);
	f->buf[4 * f->pg] = 0x44;
	assert_int_equal(dma_read(f, 0x300000 + 2 * f->pg, &b, 1), 0);
	assert_int_equal(b, 0x44);

	/* an overlapping copy: 3 and 4 are pinned already, 5 and 6 are new */
	assert_int_equal(copy(f, src, 0x100000 + 3 * f->pg, dst, 0x400000,
			      4 * f->pg),
			 0);
	expect_pinned(f, 5);
	assert_int_equal(on_bus(f, 7), false);

	/* the source goes: the copies hold their pages */
	assert_int_equal(unmap(f, src, 0x100000, 8 * f->pg), 0);
	expect_pinned(f, 5);
	assert_int_equal(dma_read(f, 0x400000 + f->pg, &b, 1), 0);
	assert_int_equal(b, 0x44);

	/* the first copy goes: page 2 only, 3 and 4 are the second's */
	assert_int_equal(unmap(f, dst, 0x300000, 3 * f->pg), 0);
	expect_pinned(f, 4);
	for (unsigned int i = 0; i < 8; i++)
		assert_int_equal(on_bus(f, i), i >= 3 && i <= 6);
	assert_int_equal(dma_read(f, 0x300000 + 2 * f->pg, &b, 1), -EFAULT);
	assert_int_equal(dma_read(f, 0x400000 + f->pg, &b, 1), 0);

	assert_int_equal(unmap(f, dst, 0x400000, 4 * f->pg), 0);
	expect_pinned(f, 0);
	assert_int_equal(on_bus(f, 4), false);
	iommufd_device_detach(f->idev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unattached_dma_blocked,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_part_pins_part, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attach_ioas_dma_then_unmap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_after_attach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reserved_regions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_attach_area_outside_aperture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_alloc_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_manual_hwpt_and_replace,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_is_hitless, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dirty_block_vs_small_pages,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_tracking, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_hw_info, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bind_owner_and_close,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
