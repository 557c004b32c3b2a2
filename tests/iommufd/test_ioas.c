// SPDX-License-Identifier: MIT
/*
 * iommufd's objects and IOAS ioctls through the library's ioctl entry,
 * called as a program calls the kernel.  Expected values are the
 * kernel's (uapi-facts.md §1.3 and the selftests it cites): ids from 1,
 * kernel-chosen IOVAs aligned to the lowest set bit of the length (capped
 * at 2 MiB) and never 0, whole-area unmaps, the EMSGSIZE protocol.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>

#include "uapi/iommufd_abi.h"

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	uint64_t pg;
	uint8_t *buf; /* 64 pages, read-write */
};

#define BUF_PAGES 64

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
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

	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->buf, BUF_PAGES * f->pg);
	free(f);
	return 0;
}

static uint32_t ioas_alloc(struct fx *f)
{
	return ifd_ioas_alloc(f->fd);
}

static int destroy(struct fx *f, uint32_t id)
{
	return ifd_destroy(f->fd, id);
}

static int map(struct fx *f, uint32_t ioas, uint32_t flags, void *va,
	       uint64_t len, uint64_t *iova)
{
	return ifd_map(f->fd, ioas, flags, va, len, iova);
}

#define RW    (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED (RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA)

static int map_fixed(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len)
{
	return map(f, ioas, FIXED, f->buf, len, &iova);
}

static int unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len,
		 uint64_t *out)
{
	return ifd_unmap(f->fd, ioas, iova, len, out);
}

static int ranges(struct fx *f, uint32_t ioas, struct sio_iommu_iova_range *r,
		  uint32_t *num, uint64_t *align)
{
	struct sio_iommu_ioas_iova_ranges c = {
		.size = sizeof(c),
		.ioas_id = ioas,
		.num_iovas = *num,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};
	int rc = sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &c);

	*num = c.num_iovas;
	if (align)
		*align = c.out_iova_alignment;
	return rc;
}

/* Ids start at 1, the lowest free one is reused, destroy checks them. */
static void test_objects(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_alloc bad = {.size = sizeof(bad), .flags = 1};

	assert_int_equal(ioas_alloc(f), 1);
	assert_int_equal(ioas_alloc(f), 2);
	assert_int_equal(ioas_alloc(f), 3);
	assert_int_equal(destroy(f, 2), 0);
	assert_int_equal(destroy(f, 2), -ENOENT);
	assert_int_equal(destroy(f, 0), -ENOENT);
	assert_int_equal(destroy(f, 1000), -ENOENT);
	assert_int_equal(ioas_alloc(f), 2);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_ALLOC, &bad),
			 -EOPNOTSUPP);
	/* a failed allocation used no id */
	assert_int_equal(ioas_alloc(f), 4);
	/* a destroyed IOAS takes its mappings with it */
	assert_int_equal(map_fixed(f, 4, 1 * MiB, 4 * f->pg), 0);
	assert_int_equal(destroy(f, 4), 0);
	assert_int_equal(map_fixed(f, 4, 1 * MiB, 4 * f->pg), -ENOENT);
}

/* A fresh IOAS allows all of IOVA space with alignment 1. */
static void test_iova_ranges(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_iova_range r[2] = {0};
	uint32_t ioas = ioas_alloc(f), num = 0;
	uint64_t align = 0;

	/* too small an array: the needed count comes back with EMSGSIZE */
	assert_int_equal(ranges(f, ioas, r, &num, &align), -EMSGSIZE);
	assert_int_equal(num, 1);
	assert_int_equal(align, 1);
	num = 2;
	assert_int_equal(ranges(f, ioas, r, &num, &align), 0);
	assert_int_equal(num, 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);

	/* a bad array pointer is EFAULT, a bad id ENOENT */
	num = 1;
	assert_int_equal(ranges(f, ioas, (void *)8, &num, NULL), -EFAULT);
	num = 1;
	assert_int_equal(ranges(f, ioas + 1, r, &num, NULL), -ENOENT);
}

/* The kernel's area_auto_iova rule, with its HPAGE cap. */
static void test_map_auto_iova(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iovas[BUF_PAGES];
	uint8_t *big;

	uint8_t *va;

	/* the selftest's buffer is 2 MiB aligned, so the length decides */
	big = mmap(NULL, 4 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	assert_true(big != MAP_FAILED);
	va = (uint8_t *)(((uintptr_t)big + 2 * MiB - 1) &
			 ~(uintptr_t)(2 * MiB - 1));
	for (unsigned int i = 1; i < 10; i++) {
		uint64_t len = i * f->pg, iova = 0;

		assert_int_equal(map(f, ioas, RW, va, len, &iova), 0);
		/* aligned to the lowest set bit of the length */
		assert_int_equal(iova % (1ull << __builtin_ctzll(len)), 0);
		assert_true(iova != 0);
		iovas[i] = iova;
	}
	/* the chosen ranges do not overlap: unmapping each is exact */
	for (unsigned int i = 1; i < 10; i++) {
		uint64_t out = 0;

		assert_int_equal(unmap(f, ioas, iovas[i], i * f->pg, &out), 0);
		assert_int_equal(out, i * f->pg);
	}
	/* a VA aligned to one page only limits the alignment to a page */
	{
		uint64_t iova = 0;

		assert_int_equal(map(f, ioas, RW, va + f->pg, 8 * f->pg, &iova),
				 0);
		assert_int_equal(iova % f->pg, 0);
		assert_int_equal(unmap(f, ioas, iova, 8 * f->pg, NULL), 0);
	}
	munmap(big, 4 * MiB);

	/* a sub-page VA offset is kept: iova % PAGE_SIZE == va % PAGE_SIZE */
	{
		uint64_t iova = 0;

		assert_int_equal(map(f, ioas, RW, f->buf + 0x123, 100, &iova),
				 0);
		assert_int_equal(iova % f->pg, 0x123);
		assert_int_equal(unmap(f, ioas, iova, 100, NULL), 0);
	}

	/* 8 MiB from a 2 MiB-aligned VA: aligned to 2 MiB, not more needed */
	big = mmap(NULL, 12 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		   0);
	assert_true(big != MAP_FAILED);
	{
		uint8_t *hva = (uint8_t *)(((uintptr_t)big + 2 * MiB - 1) &
					   ~(uintptr_t)(2 * MiB - 1));
		uint64_t iova = 0;

		assert_int_equal(map(f, ioas, RW, hva, 8 * MiB, &iova), 0);
		assert_int_equal(iova % (2 * MiB), 0);
	}
	munmap(big, 12 * MiB);
}

static void test_map_errors(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	struct sio_iommu_ioas_map c = {
		.size = sizeof(c),
		.flags = RW,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)f->buf,
		.length = f->pg,
	};
	uint64_t iova;

#define MAP_EXPECT(field, value, err)                                         \
	do {                                                                  \
		struct sio_iommu_ioas_map t = c;                              \
		t.field = value;                                              \
		assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_MAP, \
						   &t),                       \
				 err);                                        \
	} while (0)

	MAP_EXPECT(flags, RW | 8, -EOPNOTSUPP);
	MAP_EXPECT(__reserved, 1, -EOPNOTSUPP);
	MAP_EXPECT(iova, UINT64_MAX, -EOVERFLOW);
	MAP_EXPECT(length, UINT64_MAX, -EOVERFLOW);
	MAP_EXPECT(flags, SIO_IOMMU_IOAS_MAP_FIXED_IOVA, -EINVAL);
	MAP_EXPECT(flags, 0, -EINVAL);
	MAP_EXPECT(length, 0, -EINVAL);
	MAP_EXPECT(ioas_id, ioas + 7, -ENOENT);
	MAP_EXPECT(ioas_id, 0, -ENOENT);
	MAP_EXPECT(user_va, UINT64_MAX - 10, -EOVERFLOW);
	/* a fixed range whose end wraps */
	c.flags = FIXED;
	MAP_EXPECT(iova, UINT64_MAX - 2, -EOVERFLOW);
	/* EOPNOTSUPP comes before ENOENT: the flags are checked first */
	c.ioas_id = 0;
	MAP_EXPECT(flags, 16, -EOPNOTSUPP);
	c.ioas_id = ioas;

	/* fixed: any overlap with an area is EEXIST */
	assert_int_equal(map_fixed(f, ioas, 16 * f->pg, 4 * f->pg), 0);
	assert_int_equal(map_fixed(f, ioas, 16 * f->pg, 4 * f->pg), -EEXIST);
	assert_int_equal(map_fixed(f, ioas, 19 * f->pg, 4 * f->pg), -EEXIST);
	assert_int_equal(map_fixed(f, ioas, 13 * f->pg, 4 * f->pg), -EEXIST);
	assert_int_equal(map_fixed(f, ioas, 12 * f->pg, 4 * f->pg), 0);
	assert_int_equal(map_fixed(f, ioas, 20 * f->pg, 4 * f->pg), 0);
	/* and without a domain, unpinned memory maps (selftest: VA 1<<31) */
	iova = 64 * f->pg;
	assert_int_equal(
		map(f, ioas, FIXED, (void *)(1ull << 31), f->pg, &iova), 0);
}

/* Unmaps take whole areas only (ENOENT on a split); (0, ~0) takes all. */
static void test_unmap(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t pg = f->pg, out;

	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &out), 0);
	assert_int_equal(out, 0);
	assert_int_equal(unmap(f, ioas, pg, pg, &out), -ENOENT);
	assert_int_equal(unmap(f, ioas, pg, 0, &out), -EINVAL);
	assert_int_equal(unmap(f, ioas, UINT64_MAX, 1, &out), -EOVERFLOW);
	assert_int_equal(unmap(f, ioas, 2 * pg, UINT64_MAX - pg, &out),
			 -EOVERFLOW);

	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(map_fixed(f, ioas, (16 + 4 * i) * pg, 4 * pg),
				 0);
	/* splitting the first area is refused, and loses nothing */
	assert_int_equal(unmap(f, ioas, 16 * pg, 2 * pg, &out), -ENOENT);
	assert_int_equal(unmap(f, ioas, 18 * pg, 4 * pg, &out), -ENOENT);
	assert_int_equal(map_fixed(f, ioas, 16 * pg, pg), -EEXIST);
	/* a range over two whole areas and empty space around them */
	assert_int_equal(unmap(f, ioas, 8 * pg, 16 * pg, &out), 0);
	assert_int_equal(out, 8 * pg);
	assert_int_equal(map_fixed(f, ioas, 16 * pg, 8 * pg), 0);
	/* unmap all reports every byte */
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &out), 0);
	assert_int_equal(out, 16 * pg);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &out), 0);
	assert_int_equal(out, 0);
}

static int allow(struct fx *f, uint32_t ioas,
		 const struct sio_iommu_iova_range *r, uint32_t n)
{
	struct sio_iommu_ioas_allow_iovas c = {
		.size = sizeof(c),
		.ioas_id = ioas,
		.num_iovas = n,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	return sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_ALLOW_IOVAS, &c);
}

static void test_allow_iovas(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t pg = f->pg, iova = 0;
	struct sio_iommu_iova_range r[2] = {
		{.start = 1 * GiB, .last = 1 * GiB + 16 * pg - 1},
		{.start = 4 * GiB, .last = 8 * GiB - 1},
	};
	struct sio_iommu_iova_range bad[2];

	assert_int_equal(allow(f, ioas, r, 2), 0);
	/* kernel-chosen IOVAs land in the allowed ranges, first fit first */
	assert_int_equal(map(f, ioas, RW, f->buf, 8 * pg, &iova), 0);
	assert_int_equal(iova, 1 * GiB);
	assert_int_equal(map(f, ioas, RW, f->buf, 16 * pg, &iova), 0);
	assert_int_equal(iova, 4 * GiB);
	/* fixed IOVAs are not bound by them */
	iova = 16 * pg;
	assert_int_equal(map(f, ioas, FIXED, f->buf, pg, &iova), 0);

	/* empty, reversed and overlapping ranges are EINVAL */
	bad[0] = (struct sio_iommu_iova_range){.start = 5, .last = 5};
	assert_int_equal(allow(f, ioas, bad, 1), -EINVAL);
	bad[0] = (struct sio_iommu_iova_range){.start = 9, .last = 5};
	assert_int_equal(allow(f, ioas, bad, 1), -EINVAL);
	bad[0] = (struct sio_iommu_iova_range){.start = 0, .last = 100};
	bad[1] = (struct sio_iommu_iova_range){.start = 100, .last = 200};
	assert_int_equal(allow(f, ioas, bad, 2), -EINVAL);
	assert_int_equal(allow(f, ioas, (void *)16, 1), -EFAULT);
	/* ...and the old list survived every failure */
	assert_int_equal(map(f, ioas, RW, f->buf, 8 * pg, &iova), 0);
	assert_int_equal(iova, 1 * GiB + 8 * pg);
	/* full: the next area of 8 pages fits only in the second range */
	assert_int_equal(map(f, ioas, RW, f->buf, 8 * pg, &iova), 0);
	assert_int_equal(iova, 4 * GiB + 16 * pg);

	/* num 0 clears the list: choices come from all of the space again */
	assert_int_equal(allow(f, ioas, NULL, 0), 0);
	assert_int_equal(map(f, ioas, RW, f->buf, pg, &iova), 0);
	assert_int_equal(iova, pg); /* PAGE_SIZE is the lowest choice */
}

static int copy(struct fx *f, uint32_t dst, uint32_t src, uint64_t src_iova,
		uint64_t len, uint32_t flags, uint64_t *dst_iova)
{
	struct sio_iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc = sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_COPY, &c);

	*dst_iova = c.dst_iova;
	return rc;
}

/* Any sub-range of mapped areas may be copied (selftest copy_sweep). */
static void test_copy(void **state)
{
	struct fx *f = *state;
	uint32_t src = ioas_alloc(f), dst = ioas_alloc(f);
	uint64_t pg = f->pg, iova = 0, out;

	assert_int_equal(map_fixed(f, src, 64 * pg, 8 * pg), 0);
	assert_int_equal(map_fixed(f, src, 72 * pg, 8 * pg), 0);
	for (uint64_t s = 60; s < 84; s += 3) {
		for (uint64_t n = 1; n < 12; n += 4) {
			int want = (s >= 64 && s + n <= 80) ? 0 : -ENOENT;

			iova = 0;
			assert_int_equal(copy(f, dst, src, s * pg, n * pg, RW,
					      &iova),
					 want);
			if (!want)
				assert_int_equal(
					unmap(f, dst, iova, n * pg, &out), 0);
		}
	}
	/* fixed destination, then the source may go away independently */
	iova = 4 * pg;
	assert_int_equal(copy(f, dst, src, 66 * pg, 10 * pg, FIXED, &iova), 0);
	assert_int_equal(unmap(f, src, 0, UINT64_MAX, &out), 0);
	assert_int_equal(out, 16 * pg);
	/* the copy spans two areas' pages but is one area of its own */
	assert_int_equal(unmap(f, dst, 4 * pg, 5 * pg, &out), -ENOENT);
	assert_int_equal(unmap(f, dst, 4 * pg, 10 * pg, &out), 0);
	assert_int_equal(out, 10 * pg);

	iova = 0;
	assert_int_equal(copy(f, dst, src, 64 * pg, pg, 8, &iova), -EOPNOTSUPP);
	assert_int_equal(copy(f, dst, src, 64 * pg, pg, 0, &iova), -EINVAL);
	assert_int_equal(copy(f, dst, src, 64 * pg, 0, RW, &iova), -EINVAL);
	assert_int_equal(copy(f, dst, src + 9, 64 * pg, pg, RW, &iova),
			 -ENOENT);
	assert_int_equal(map_fixed(f, src, 64 * pg, 8 * pg), 0);
	assert_int_equal(copy(f, dst + 9, src, 64 * pg, pg, RW, &iova),
			 -ENOENT);
	/* a read-only source mapping cannot be copied writable */
}

static int option(struct fx *f, uint32_t id, uint16_t op, uint32_t obj,
		  uint64_t *val)
{
	struct sio_iommu_option c = {
		.size = sizeof(c),
		.option_id = id,
		.op = op,
		.object_id = obj,
		.val64 = *val,
	};
	int rc = sio_iommufd_ioctl(f->fd, SIO_IOMMU_OPTION, &c);

	*val = c.val64;
	return rc;
}

static void test_option(void **state)
{
	struct fx *f = *state;
	uint64_t v = 7, pg = f->pg, iova;
	uint32_t num = 1;
	struct sio_iommu_iova_range r;
	uint32_t ioas;

	/* RLIMIT_MODE: a context-wide option (object 0) */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 0);
	assert_int_equal(v, 0);
	v = 1;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_GET, 1, &v),
			 -EOPNOTSUPP);
	sio_platform_set_caps(f->plat, 0);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_SET, 0, &v),
			 -EPERM);
	sio_platform_set_caps(f->plat, SIO_CAP_SYS_RESOURCE);
	v = 2;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_SET, 0, &v),
			 -EINVAL);
	v = 1;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_SET, 0, &v),
			 0);
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 0);
	assert_int_equal(v, 1);
	ioas = ioas_alloc(f);
	/* not once the context has objects */
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_SET, 0, &v),
			 -EBUSY);
	v = 0;
	assert_int_equal(option(f, 99, SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 -EOPNOTSUPP);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE, 2, 0, &v),
			 -EOPNOTSUPP);

	/* HUGE_PAGES: per IOAS, default 1 */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 -ENOENT);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, ioas, &v),
			 0);
	assert_int_equal(v, 1);
	v = 2;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, ioas, &v),
			 -EINVAL);
	/* a byte-granular area blocks page alignment: EADDRINUSE */
	iova = 0x10000 + 0x10;
	assert_int_equal(map(f, ioas, FIXED, f->buf + 0x10, 0x100, &iova), 0);
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, ioas, &v),
			 -EADDRINUSE);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, ioas, &v),
			 0);
	v = 9;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, ioas, &v),
			 0);
	assert_int_equal(v, 0);
	/* the IOAS now reports and enforces PAGE_SIZE alignment */
	{
		uint64_t align;

		assert_int_equal(ranges(f, ioas, &r, &num, &align), 0);
		assert_int_equal(align, pg);
	}
	iova = 0;
	assert_int_equal(map(f, ioas, RW, f->buf, pg / 2, &iova), -EINVAL);
	iova = pg / 2;
	assert_int_equal(map(f, ioas, FIXED, f->buf, pg, &iova), -EINVAL);
	v = 1;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, ioas, &v),
			 0);
	assert_int_equal(ranges(f, ioas, &r, &num, &v), 0);
	assert_int_equal(v, 1);
}

static int map_file(struct fx *f, uint32_t ioas, int fd, uint64_t start,
		    uint64_t len, uint32_t flags, uint64_t *iova)
{
	struct sio_iommu_ioas_map_file c = {
		.size = sizeof(c),
		.flags = flags,
		.ioas_id = ioas,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = *iova,
	};
	int rc = sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_MAP_FILE, &c);

	*iova = c.iova;
	return rc;
}

static int change_process(struct fx *f, uint32_t reserved)
{
	struct sio_iommu_ioas_change_process c = {
		.size = sizeof(c),
		.__reserved = reserved,
	};

	return sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c);
}

static void test_map_file(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t pg = f->pg, iova = 0, out;
	int mfd = memfd_create("sio-test", 0), rofd;
	char path[64];

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, 16 * (off_t)pg), 0);
	assert_int_equal(change_process(f, 0), 0);
	/* start offset inside a page keeps its page offset in the IOVA */
	assert_int_equal(map_file(f, ioas, mfd, pg + 0x80, 2 * pg, RW, &iova),
			 0);
	assert_int_equal(iova % pg, 0x80);
	/* only file mappings: the accounting may move */
	assert_int_equal(change_process(f, 0), 0);
	assert_int_equal(change_process(f, 1), -EOPNOTSUPP);
	assert_int_equal(unmap(f, ioas, iova, 2 * pg, &out), 0);

	assert_int_equal(map_file(f, ioas, -1, 0, pg, RW, &iova), -EBADF);
	assert_int_equal(map_file(f, ioas, mfd, 0, pg, 8, &iova), -EOPNOTSUPP);
	assert_int_equal(map_file(f, ioas, mfd, 0, pg, 0, &iova), -EINVAL);
	assert_int_equal(map_file(f, ioas, mfd, 0, 0, RW, &iova), -EINVAL);
	assert_int_equal(map_file(f, ioas + 5, mfd, 0, pg, RW, &iova), -ENOENT);
	/* write access needs a writable file */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	rofd = open(path, O_RDONLY);
	assert_true(rofd >= 0);
	assert_int_equal(map_file(f, ioas, rofd, 0, pg, RW, &iova), -EPERM);
	iova = 0;
	assert_int_equal(map_file(f, ioas, rofd, 0, pg,
				  SIO_IOMMU_IOAS_MAP_READABLE, &iova),
			 0);
	close(rofd);
	close(mfd);
	/* a user mapping pins the accounting to this process */
	iova = 0;
	assert_int_equal(map(f, ioas, RW, f->buf, pg, &iova), 0);
	assert_int_equal(change_process(f, 0), -EINVAL);
}

/* Every struct field the kernel does not know must be zero (E2BIG). */
static void test_extensible(void **state)
{
	struct fx *f = *state;
	struct {
		struct sio_iommu_ioas_alloc a;
		uint32_t tail[3];
	} big = {.a = {.size = sizeof(big)}};
	struct sio_iommu_destroy d = {.size = 4};

	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_ALLOC, &big),
			 0);
	assert_int_equal(big.a.out_ioas_id, 1);
	big.tail[2] = 1;
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_ALLOC, &big),
			 -E2BIG);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_DESTROY, &d),
			 -EINVAL);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_DESTROY, NULL),
			 -EFAULT);
	assert_int_equal(sio_iommufd_ioctl(f->fd, 0x3b7f, &d), -ENOTTY);
	/* nothing leaked from the failures: one IOAS exists */
	assert_int_equal(destroy(f, 1), 0);
	assert_int_equal(destroy(f, 2), -ENOENT);
}

static sigjmp_buf program_jmp;
static volatile sig_atomic_t program_faults;

static void program_handler(int sig)
{
	(void)sig;
	program_faults++;
	siglongjmp(program_jmp, 1);
}

/*
 * A bad ioctl pointer is EFAULT even when the program installed its own
 * SIGSEGV handler after us, and the program's own faults still reach
 * its handler.
 */
static void test_program_segv_handler(void **state)
{
	struct fx *f = *state;
	struct sigaction sa = {.sa_handler = program_handler}, old;
	volatile uint8_t *bad = f->buf + f->pg;

	assert_int_equal(ioas_alloc(f), 1);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	assert_int_equal(mprotect(f->buf + f->pg, f->pg, PROT_NONE), 0);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_DESTROY,
					   (void *)bad),
			 -EFAULT);
	assert_int_equal(program_faults, 0);
	if (!sigsetjmp(program_jmp, 1))
		(void)*bad;
	assert_int_equal(program_faults, 1);
	/* and again, after the program's handler ran */
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_DESTROY,
					   (void *)bad),
			 -EFAULT);
	if (!sigsetjmp(program_jmp, 1))
		(void)*bad;
	assert_int_equal(program_faults, 2);
	assert_int_equal(sigaction(SIGSEGV, &old, NULL), 0);
	assert_int_equal(
		mprotect(f->buf + f->pg, f->pg, PROT_READ | PROT_WRITE), 0);
}

/* The default platform's SMMU is up, and its StreamIDs abort by default. */
static void test_platform_smmu(void **state)
{
	struct fx *f = *state;
	struct sio_smmu *smmu = sio_platform_smmu(f->plat);
	struct sio_smmu_txn t = {.sid = 1, .addr = (uintptr_t)f->buf};
	size_t done = 0;
	uint8_t b[8];

	assert_non_null(smmu);
	/* CR0ACK: SMMUEN, EVENTQEN, CMDQEN */
	assert_int_equal(sio_smmu_read32(smmu, 0x24) & 0xd, 0xd);
	assert_int_equal(sio_smmu_dma(smmu, &t, b, sizeof(b), &done), -EFAULT);
	assert_int_equal(done, 0);
}

/* Closing a context with live objects frees them (ASan checks). */
static void test_close_frees(void **state)
{
	struct fx *f = *state;
	uint64_t iova = 0;

	for (unsigned int i = 0; i < 20; i++) {
		uint32_t ioas = ioas_alloc(f);

		assert_int_equal(map(f, ioas, RW, f->buf, 3 * f->pg, &iova), 0);
		assert_int_equal(map_fixed(f, ioas, 1ull << 40, f->pg), 0);
	}
	sio_iommufd_close(f->fd);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	assert_int_equal(ioas_alloc(f), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_objects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_ranges, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_auto_iova, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allow_iovas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extensible, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_platform_smmu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_program_segv_handler,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_frees, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("iommufd/ioas", tests, NULL, NULL);
}
