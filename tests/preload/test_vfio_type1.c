// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO path as a user program sees it, in the four IOMMU
 * modes of the kernel's VFIO selftests (tools/testing/selftests/vfio
 * lib/iommu.c): /dev/vfio/vfio with TYPE1 or TYPE1v2, and /dev/iommu
 * used as the container ("iommufd compat") with TYPE1 or TYPE1v2.  Each
 * test runs in every mode and checks the answer that mode's kernel
 * driver gives: drivers/vfio/vfio_iommu_type1.c and container.c for the
 * first two, drivers/iommu/iommufd/vfio_compat.c for the others, group
 * rules from drivers/vfio/group.c.  Expected values are the kernel's
 * (uapi-facts.md §2, §3 and those sources), not this implementation's.
 *
 * Written as a user program: libc and the ABI headers only, run under
 * `softiommu exec`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#include "ioat_test.h"

#define DEV_NAME  "0000:00:04.0"
#define GROUP	  "/dev/vfio/0"
#define IOVA_BASE 0x10000000ull
#define NESTING	  SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU

/* vfio_type1_iommu, vfio_type1v2_iommu, iommufd_compat_type1(v2) */
enum mode { TYPE1, TYPE1V2, COMPAT_TYPE1, COMPAT_TYPE1V2, NR_MODES };

struct fx {
	enum mode mode;
	int container, group, dev;
	long pg;
	uint8_t *mem; /* 8 pages */
};

static bool compat(const struct fx *f)
{
	return f->mode == COMPAT_TYPE1 || f->mode == COMPAT_TYPE1V2;
}

static bool v2(const struct fx *f)
{
	return f->mode == TYPE1V2 || f->mode == COMPAT_TYPE1V2;
}

static unsigned long iommu_type(const struct fx *f)
{
	return v2(f) ? SIO_VFIO_TYPE1v2_IOMMU : SIO_VFIO_TYPE1_IOMMU;
}

/* ioctl's result, or -errno: one value to compare against the kernel's */
static long xioctl(int fd, unsigned long cmd, unsigned long arg)
{
	long rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

static long pioctl(int fd, unsigned long cmd, const void *arg)
{
	return xioctl(fd, cmd, (unsigned long)(uintptr_t)arg);
}

static int open_container(struct fx *f)
{
	f->container = open(compat(f) ? "/dev/iommu" : "/dev/vfio/vfio",
			    O_RDWR | O_CLOEXEC);
	assert_true(f->container >= 0);
	return 0;
}

/* Container and group open, nothing joined yet. */
static int setup_bare(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mode = *(enum mode *)*state;
	f->pg = sysconf(_SC_PAGESIZE);
	f->dev = -1;
	open_container(f);
	f->group = open(GROUP, O_RDWR | O_CLOEXEC);
	assert_true(f->group >= 0);
	f->mem = mmap(NULL, 8 * (size_t)f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->mem != MAP_FAILED);
	memset(f->mem, 0, 8 * (size_t)f->pg);
	*state = f;
	return 0;
}

static void join(struct fx *f)
{
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&f->container),
			 0);
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_SET_IOMMU, iommu_type(f)), 0);
}

/* The selftest library's init: group joined, IOMMU set, device fd. */
static int setup(void **state)
{
	struct fx *f;

	setup_bare(state);
	f = *state;
	join(f);
	f->dev = (int)pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD, DEV_NAME);
	assert_true(f->dev >= 0);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->dev >= 0)
		close(f->dev);
	close(f->group);
	close(f->container);
	munmap(f->mem, 8 * (size_t)f->pg);
	free(f);
	return 0;
}

static long map(struct fx *f, int page, uint64_t iova, uint64_t size,
		uint32_t flags)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = flags,
		.vaddr = (uint64_t)(uintptr_t)(f->mem + page * f->pg),
		.iova = iova,
		.size = size,
	};

	return pioctl(f->container, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

static long map_rw(struct fx *f, int page, int npages)
{
	return map(f, page, IOVA_BASE + (uint64_t)page * (uint64_t)f->pg,
		   (uint64_t)npages * (uint64_t)f->pg,
		   SIO_VFIO_DMA_MAP_FLAG_READ | SIO_VFIO_DMA_MAP_FLAG_WRITE);
}

/* UNMAP_DMA; *@size gets the bytes the kernel reports. */
static long unmap(struct fx *f, uint64_t iova, uint64_t size, uint32_t flags,
		  uint64_t *out)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	long rc = pioctl(f->container, SIO_VFIO_IOMMU_UNMAP_DMA, &u);

	if (out)
		*out = rc ? UINT64_MAX : u.size;
	return rc;
}

static uint64_t pages(const struct fx *f, int n)
{
	return (uint64_t)n * (uint64_t)f->pg;
}

static uint64_t page_iova(const struct fx *f, int n)
{
	return IOVA_BASE + pages(f, n);
}

/* ------------------------------------------------------ container */

static void test_api_version_and_extensions(void **state)
{
	struct fx *f = *state;
	long cc_before = compat(f) ? -ENODEV : 0;

	assert_int_equal(xioctl(f->container, SIO_VFIO_GET_API_VERSION, 0),
			 SIO_VFIO_API_VERSION);
	/* before any group: what the drivers advertise */
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1_IOMMU),
			 1);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1v2_IOMMU),
			 1);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UNMAP_ALL),
			 1);
	/* the seed: the removed nesting type is no longer advertised */
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_CHECK_EXTENSION, NESTING), 0);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UPDATE_VADDR),
			 0);
	/* type1 without an iommu: 0; iommufd without a compat IOAS: ENODEV */
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU),
			 cc_before);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_SPAPR_TCE_IOMMU),
			 0);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_NOIOMMU_IOMMU),
			 0);

	join(f);
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_CHECK_EXTENSION, NESTING), 0);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_DMA_CC_IOMMU),
			 1);
	/* type1 offers VADDR updates once it is the container's driver */
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_UPDATE_VADDR),
			 compat(f) ? 0 : 1);
	assert_int_equal(xioctl(f->container, SIO_VFIO_CHECK_EXTENSION,
				SIO_VFIO_TYPE1v2_IOMMU),
			 1);
}

/*
 * SET_IOMMU.  type1 (container.c): EINVAL without a group or once set;
 * a type no driver advertises finds none: ENODEV, NESTING included —
 * type1's open() would take 6 as v2 but never sees it.  iommufd compat:
 * EINVAL for anything but TYPE1/TYPE1v2 (NESTING too), ENODEV without a
 * compat IOAS, and setting it again is allowed.
 */
static void test_set_iommu(void **state)
{
	struct fx *f = *state;
	long no_type = compat(f) ? -EINVAL : -ENODEV;

	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU,
				iommu_type(f)),
			 compat(f) ? -ENODEV : -EINVAL);
	/* iommufd checks the type first; type1 wants a group first */
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU, NESTING),
			 -EINVAL);
	/* without a driver, the type1 container refuses the IOMMU ioctls */
	if (!compat(f))
		assert_int_equal(map_rw(f, 0, 1), -EINVAL);
	else
		assert_int_equal(map_rw(f, 0, 1), -ENODEV);

	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&f->container),
			 0);
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU, NESTING),
			 no_type);
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU,
				SIO_VFIO_SPAPR_TCE_IOMMU),
			 no_type);
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU, 99), no_type);
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_SET_IOMMU, iommu_type(f)), 0);
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU,
				iommu_type(f)),
			 compat(f) ? 0 : -EINVAL);
	/* an ioctl neither driver knows */
	assert_int_equal(xioctl(f->container, SIO_VFIO_IO(15), 0), -ENOTTY);
}

/* iommufd compat: TYPE1 turns the compat IOAS's huge pages off. */
static void test_compat_huge_pages(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_vfio_ioas v = {.size = sizeof(v),
					.op = SIO_IOMMU_VFIO_IOAS_GET};
	struct sio_iommu_option o = {
		.size = sizeof(o),
		.option_id = SIO_IOMMU_OPTION_HUGE_PAGES,
		.op = SIO_IOMMU_OPTION_OP_GET,
	};

	assert_int_equal(pioctl(f->container, SIO_IOMMU_VFIO_IOAS, &v), 0);
	o.object_id = v.ioas_id;
	assert_int_equal(pioctl(f->container, SIO_IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, v2(f) ? 1 : 0);
	/* and iommufd has no type1 dirty tracking */
	assert_int_equal(xioctl(f->container, SIO_VFIO_IOMMU_DIRTY_PAGES, 0),
			 -ENOTTY);
}

/* ------------------------------------------------------- GET_INFO */

struct cap {
	uint16_t id, version;
	uint32_t next;
};

static void test_get_info(void **state)
{
	struct fx *f = *state;
	uint8_t buf[512];
	struct sio_vfio_iommu_type1_info *info = (void *)buf;
	uint32_t need, at;
	bool seen[4] = {0};
	int order = 0;

	/* below offsetofend(iova_pgsizes) */
	memset(buf, 0, sizeof(buf));
	info->argsz = 15;
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 -EINVAL);

	/* the pre-cap ABI: 16 bytes, nothing written past them */
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = 16;
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 0);
	assert_int_equal(info->flags, SIO_VFIO_IOMMU_INFO_PGSIZES |
					      SIO_VFIO_IOMMU_INFO_CAPS);
	assert_true(info->argsz > sizeof(*info));
	for (size_t i = 16; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	assert_true(info->iova_pgsizes & (uint64_t)f->pg);
	assert_int_equal(info->iova_pgsizes & ((uint64_t)f->pg - 1), 0);

	/* 24: no room for caps: cap_offset 0, argsz the size needed */
	memset(buf, 0xa5, sizeof(buf));
	info->argsz = sizeof(*info);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 0);
	assert_int_equal(info->cap_offset, 0);
	need = info->argsz;
	assert_true(need > sizeof(*info) && need <= sizeof(buf));
	assert_int_equal(buf[sizeof(*info)], 0xa5);

	memset(buf, 0, sizeof(buf));
	info->argsz = need;
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 0);
	assert_int_equal(info->argsz, need);
	assert_int_equal(info->cap_offset, sizeof(*info));
	for (at = info->cap_offset; at; order++) {
		struct cap *c = (struct cap *)(buf + at);

		assert_true(at + sizeof(*c) <= need);
		/* every cap starts 8-byte aligned */
		assert_int_equal(at % 8, 0);
		assert_int_equal(c->version, 1);
		assert_true(c->id >= 1 && c->id <= 3);
		seen[c->id] = true;
		if (c->id == SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			struct sio_vfio_iommu_type1_info_dma_avail *a =
				(void *)c;

			/* type1: its entry limit; iommufd: U32_MAX */
			assert_int_equal(a->avail,
					 compat(f) ? UINT32_MAX : 65535);
			/* iommufd lists it first, type1 after MIGRATION */
			assert_int_equal(order, compat(f) ? 0 : 1);
		} else if (c->id == SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct sio_vfio_iommu_type1_info_cap_iova_range *r =
				(void *)c;

			bool inside = false;

			assert_true(r->nr_iovas >= 1);
			for (uint32_t i = 0; i < r->nr_iovas; i++) {
				assert_true(r->iova_ranges[i].start <
					    r->iova_ranges[i].end);
				/* ascending, disjoint */
				if (i)
					assert_true(r->iova_ranges[i].start >
						    r->iova_ranges[i - 1].end);
				inside |= r->iova_ranges[i].start <=
						  IOVA_BASE &&
					  r->iova_ranges[i].end > IOVA_BASE;
			}
			/* our IOVA_BASE lies in one of them */
			assert_true(inside);
		} else {
			struct sio_vfio_iommu_type1_info_cap_migration *m =
				(void *)c;

			assert_int_equal(order, 0);
			assert_int_equal(m->flags, 0);
			assert_int_equal(m->pgsize_bitmap, (uint64_t)f->pg);
			/* DIRTY_BITMAP_SIZE_MAX: INT_MAX bits in bytes */
			assert_int_equal(m->max_dirty_bitmap_size, 1ull << 28);
		}
		at = c->next;
	}
	/* type1 adds MIGRATION; iommufd has none */
	assert_int_equal(seen[SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION],
			 !compat(f));
	assert_true(seen[SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL]);
	assert_true(seen[SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE]);
	assert_int_equal(order, compat(f) ? 2 : 3);

	/* every argsz short of the full size stays inside the buffer */
	for (uint32_t sz = sizeof(*info); sz < need; sz++) {
		memset(buf, 0xa5, sizeof(buf));
		info->argsz = sz;
		assert_int_equal(
			pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info), 0);
		for (size_t i = sz; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xa5);
	}
}

/* type1's DMA_AVAIL counts the entries left. */
static void test_dma_avail_counts(void **state)
{
	struct fx *f = *state;
	uint8_t buf[512] = {0};
	struct sio_vfio_iommu_type1_info *info = (void *)buf;

	assert_int_equal(map_rw(f, 0, 1), 0);
	assert_int_equal(map_rw(f, 2, 1), 0);
	info->argsz = sizeof(buf);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 0);
	for (uint32_t at = info->cap_offset; at;) {
		struct cap *c = (struct cap *)(buf + at);

		if (c->id == SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			assert_int_equal(
				((struct sio_vfio_iommu_type1_info_dma_avail *)c)
					->avail,
				65533);
		at = c->next;
	}
}

/* --------------------------------------------------------- MAP/UNMAP */

static void test_map_unmap(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_iommu_type1_dma_map m = {.argsz = 31};
	struct sio_vfio_iommu_type1_dma_unmap u = {.argsz = 23};
	uint64_t size;

	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_MAP_DMA, &m),
			 -EINVAL);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_UNMAP_DMA, &u),
			 -EINVAL);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_MAP_DMA, NULL),
			 -EFAULT);
	/* unknown flags; VADDR only in type1 */
	assert_int_equal(map(f, 0, IOVA_BASE, pages(f, 1), 1u << 3), -EINVAL);
	if (compat(f))
		assert_int_equal(map(f, 0, IOVA_BASE, pages(f, 1),
				     SIO_VFIO_DMA_MAP_FLAG_VADDR),
				 -EINVAL);
	/* misaligned IOVA */
	assert_int_equal(map(f, 0, IOVA_BASE + 1, pages(f, 1),
			     SIO_VFIO_DMA_MAP_FLAG_READ),
			 -EINVAL);
	if (!compat(f)) {
		/* type1: size 0, neither READ nor WRITE */
		assert_int_equal(map(f, 0, IOVA_BASE, 0,
				     SIO_VFIO_DMA_MAP_FLAG_READ),
				 -EINVAL);
		assert_int_equal(map(f, 0, IOVA_BASE, pages(f, 1), 0), -EINVAL);
	}
	/* the top page plus one: EOVERFLOW in every mode (vfio selftest) */
	assert_int_equal(map(f, 0, ~(uint64_t)0 & ~((uint64_t)f->pg - 1),
			     pages(f, 2), SIO_VFIO_DMA_MAP_FLAG_READ),
			 -EOVERFLOW);
	assert_int_equal(unmap(f, ~(uint64_t)0 & ~((uint64_t)f->pg - 1),
			       pages(f, 2), 0, NULL),
			 -EOVERFLOW);

	assert_int_equal(map_rw(f, 0, 2), 0);
	/* any overlap */
	assert_int_equal(map_rw(f, 1, 1), -EEXIST);
	assert_int_equal(map_rw(f, 0, 2), -EEXIST);
	assert_int_equal(map_rw(f, 4, 2), 0);

	/*
	 * nothing there: 0 bytes, in every mode (iommufd's compat too: the
	 * kernel's selftest vfio_compat_mock_domain.map, "Unmap of empty is
	 * success"; only IOMMU_IOAS_UNMAP makes an empty range ENOENT)
	 */
	assert_int_equal(unmap(f, page_iova(f, 2), pages(f, 2), 0, &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 2), 1u << 3, NULL),
			 -EINVAL);
	assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 2), 0, &size), 0);
	assert_int_equal(size, pages(f, 2));

	/* UNMAP_ALL: iova and size must be 0 */
	assert_int_equal(unmap(f, page_iova(f, 4), 0,
			       SIO_VFIO_DMA_UNMAP_FLAG_ALL, NULL),
			 -EINVAL);
	assert_int_equal(map_rw(f, 7, 1), 0);
	assert_int_equal(unmap(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	assert_int_equal(size, pages(f, 3));
	assert_int_equal(unmap(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	assert_int_equal(size, 0);
	/* an unmapped VA: pinning fails */
	{
		void *gone = mmap(NULL, (size_t)f->pg, PROT_READ,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sio_vfio_iommu_type1_dma_map m2 = {
			.argsz = sizeof(m2),
			.flags = SIO_VFIO_DMA_MAP_FLAG_READ,
			.vaddr = (uint64_t)(uintptr_t)gone,
			.iova = IOVA_BASE,
			.size = pages(f, 1),
		};

		assert_true(gone != MAP_FAILED);
		munmap(gone, (size_t)f->pg);
		assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_MAP_DMA,
					&m2),
				 -EFAULT);
	}
}

/*
 * Unmapping inside a mapping.  type1 v1: a range starting inside one
 * succeeds with 0 bytes; one covering its first IOVA unmaps all of it.
 * type1 v2: bisecting is EINVAL.  iommufd TYPE1: the piece is cut out;
 * iommufd TYPE1v2: bisecting is ENOENT.
 */
static void test_unmap_inside(void **state)
{
	struct fx *f = *state;
	uint64_t size;

	assert_int_equal(map_rw(f, 0, 4), 0);
	switch (f->mode) {
	case TYPE1:
		assert_int_equal(
			unmap(f, page_iova(f, 1), pages(f, 1), 0, &size), 0);
		assert_int_equal(size, 0);
		assert_int_equal(
			unmap(f, page_iova(f, 0), pages(f, 1), 0, &size), 0);
		assert_int_equal(size, pages(f, 4));
		break;
	case TYPE1V2:
		assert_int_equal(unmap(f, page_iova(f, 1), pages(f, 1), 0,
				       NULL),
				 -EINVAL);
		assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 1), 0,
				       NULL),
				 -EINVAL);
		assert_int_equal(
			unmap(f, page_iova(f, 0), pages(f, 4), 0, &size), 0);
		assert_int_equal(size, pages(f, 4));
		break;
	case COMPAT_TYPE1:
		assert_int_equal(
			unmap(f, page_iova(f, 1), pages(f, 1), 0, &size), 0);
		assert_int_equal(size, pages(f, 1));
		assert_int_equal(
			unmap(f, page_iova(f, 0), pages(f, 4), 0, &size), 0);
		assert_int_equal(size, pages(f, 3));
		break;
	default:
		assert_int_equal(unmap(f, page_iova(f, 1), pages(f, 1), 0,
				       NULL),
				 -ENOENT);
		assert_int_equal(
			unmap(f, page_iova(f, 0), pages(f, 4), 0, &size), 0);
		assert_int_equal(size, pages(f, 4));
		break;
	}
}

/* The VADDR flow (type1 only): invalidate, then give the vaddr back. */
static void test_vaddr_update(void **state)
{
	struct fx *f = *state;
	const uint32_t vaddr = SIO_VFIO_DMA_MAP_FLAG_VADDR;
	uint64_t size;

	assert_int_equal(map_rw(f, 0, 2), 0);
	assert_int_equal(map_rw(f, 4, 1), 0);
	if (compat(f)) {
		assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 2),
				       SIO_VFIO_DMA_UNMAP_FLAG_VADDR, NULL),
				 -EINVAL);
		return;
	}
	/* valid vaddr: nothing to update */
	assert_int_equal(map(f, 0, page_iova(f, 0), pages(f, 2), vaddr),
			 -EINVAL);
	/* VADDR with READ/WRITE */
	assert_int_equal(map(f, 0, page_iova(f, 0), pages(f, 2),
			     vaddr | SIO_VFIO_DMA_MAP_FLAG_READ),
			 -EINVAL);
	assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 8),
			       SIO_VFIO_DMA_UNMAP_FLAG_VADDR, &size),
			 0);
	assert_int_equal(size, pages(f, 3));
	/* a second invalidate fails and undoes nothing of the first */
	assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 2),
			       SIO_VFIO_DMA_UNMAP_FLAG_VADDR, NULL),
			 -EINVAL);
	/* no mapping there / not the whole mapping */
	assert_int_equal(map(f, 0, page_iova(f, 6), pages(f, 1), vaddr),
			 -ENOENT);
	assert_int_equal(map(f, 0, page_iova(f, 0), pages(f, 1), vaddr),
			 -EINVAL);
	assert_int_equal(map(f, 0, page_iova(f, 0), pages(f, 2), vaddr), 0);
	assert_int_equal(map(f, 4, page_iova(f, 4), pages(f, 1), vaddr), 0);
	assert_int_equal(map(f, 4, page_iova(f, 4), pages(f, 1), vaddr),
			 -EINVAL);
	/* the mappings themselves stayed */
	assert_int_equal(unmap(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	assert_int_equal(size, pages(f, 3));
}

/* dma_entry_limit (set to 3 for this test's container): ENOSPC. */
static void test_dma_entry_limit(void **state)
{
	struct fx *f = *state;

	/* a new container reads the limit when it opens */
	close(f->dev);
	f->dev = -1;
	close(f->group);
	close(f->container);
	setenv("SOFTIOMMU_VFIO_DMA_ENTRY_LIMIT", "3", 1);
	open_container(f);
	unsetenv("SOFTIOMMU_VFIO_DMA_ENTRY_LIMIT");
	f->group = open(GROUP, O_RDWR | O_CLOEXEC);
	assert_true(f->group >= 0);
	join(f);
	for (int i = 0; i < 3; i++)
		assert_int_equal(map_rw(f, i, 1), 0);
	assert_int_equal(map_rw(f, 4, 1), -ENOSPC);
	assert_int_equal(unmap(f, page_iova(f, 1), pages(f, 1), 0, NULL), 0);
	assert_int_equal(map_rw(f, 4, 1), 0);
	assert_int_equal(map_rw(f, 5, 1), -ENOSPC);
}

/* ------------------------------------------------------- dirty pages */

static long dirty(struct fx *f, uint32_t flags)
{
	struct sio_vfio_iommu_type1_dirty_bitmap d = {.argsz = sizeof(d),
						      .flags = flags};

	return pioctl(f->container, SIO_VFIO_IOMMU_DIRTY_PAGES, &d);
}

static long get_bitmap(struct fx *f, uint64_t iova, uint64_t size,
		       uint64_t pgsize, uint64_t *bits)
{
	struct {
		struct sio_vfio_iommu_type1_dirty_bitmap h;
		struct sio_vfio_iommu_type1_dirty_bitmap_get g;
	} d = {
		.h = {.argsz = sizeof(d),
		      .flags = SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP},
		.g = {.iova = iova,
		      .size = size,
		      .bitmap = {.pgsize = pgsize,
				 .size = sizeof(uint64_t),
				 .data = (uint64_t)(uintptr_t)bits}},
	};

	*bits = 0;
	return pioctl(f->container, SIO_VFIO_IOMMU_DIRTY_PAGES, &d);
}

static long unmap_dirty(struct fx *f, uint64_t iova, uint64_t size,
			uint64_t *bits, uint64_t *out)
{
	struct {
		struct sio_vfio_iommu_type1_dma_unmap u;
		struct sio_vfio_bitmap b;
	} d = {
		.u = {.argsz = sizeof(d),
		      .flags = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		      .iova = iova,
		      .size = size},
		.b = {.pgsize = (uint64_t)f->pg,
		      .size = sizeof(uint64_t),
		      .data = (uint64_t)(uintptr_t)bits},
	};
	long rc;

	*bits = 0;
	rc = pioctl(f->container, SIO_VFIO_IOMMU_UNMAP_DMA, &d);
	*out = d.u.size;
	return rc;
}

/*
 * VFIO_IOMMU_DIRTY_PAGES: v2 only (EACCES on v1), one flag at a time;
 * type1 reports every page of every mapping dirty (an IOMMU-backed group
 * cannot say more); iommufd has none of it (ENOTTY, and the unmap flag
 * is EINVAL).
 */
static void test_dirty_pages(void **state)
{
	struct fx *f = *state;
	uint64_t bits, size;

	assert_int_equal(map_rw(f, 0, 3), 0);
	assert_int_equal(map_rw(f, 4, 2), 0);
	if (compat(f)) {
		assert_int_equal(dirty(f,
				       SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START),
				 -ENOTTY);
		assert_int_equal(unmap_dirty(f, page_iova(f, 0), pages(f, 3),
					     &bits, &size),
				 -EINVAL);
		return;
	}
	if (!v2(f)) {
		assert_int_equal(dirty(f,
				       SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START),
				 -EACCES);
		return;
	}
	assert_int_equal(dirty(f, 0), -EINVAL);
	assert_int_equal(dirty(f, SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START |
					  SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP),
			 -EINVAL);
	assert_int_equal(dirty(f, 1u << 3), -EINVAL);
	/* not tracking */
	assert_int_equal(get_bitmap(f, page_iova(f, 0), pages(f, 8),
				    (uint64_t)f->pg, &bits),
			 -EINVAL);
	assert_int_equal(unmap_dirty(f, page_iova(f, 0), pages(f, 3), &bits,
				     &size),
			 -EINVAL);
	assert_int_equal(dirty(f, SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
	assert_int_equal(get_bitmap(f, page_iova(f, 0), pages(f, 8),
				    (uint64_t)f->pg, &bits),
			 0);
	assert_int_equal(bits, 0x37); /* pages 0-2 and 4-5 */
	/* only the smallest page size; no bisected mapping; size > 0 */
	assert_int_equal(get_bitmap(f, page_iova(f, 0), pages(f, 8),
				    (uint64_t)f->pg * 2, &bits),
			 -EINVAL);
	assert_int_equal(get_bitmap(f, page_iova(f, 1), pages(f, 7),
				    (uint64_t)f->pg, &bits),
			 -EINVAL);
	assert_int_equal(get_bitmap(f, page_iova(f, 0), 0, (uint64_t)f->pg,
				    &bits),
			 -EINVAL);
	/* from page 4: its bits start at 0 */
	assert_int_equal(get_bitmap(f, page_iova(f, 4), pages(f, 2),
				    (uint64_t)f->pg, &bits),
			 0);
	assert_int_equal(bits, 0x3);
	/* unmap reports what it unmaps; ALL cannot take a bitmap */
	assert_int_equal(
		unmap_dirty(f, page_iova(f, 0), pages(f, 3), &bits, &size), 0);
	assert_int_equal(size, pages(f, 3));
	assert_int_equal(bits, 0x7);
	assert_int_equal(dirty(f, SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP), 0);
	assert_int_equal(unmap_dirty(f, page_iova(f, 4), pages(f, 2), &bits,
				     &size),
			 -EINVAL);
}

/* ------------------------------------------------------------ groups */

static uint32_t group_flags(struct fx *f)
{
	struct sio_vfio_group_status s = {.argsz = sizeof(s)};

	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_STATUS, &s), 0);
	return s.flags;
}

static void test_group_rules(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_group_status s = {.argsz = 7};
	int bad = -1, null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = f->container};
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a)};

	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_STATUS, &s),
			 -EINVAL);
	assert_int_equal(group_flags(f), SIO_VFIO_GROUP_FLAGS_VIABLE);
	/* one open of a group at a time */
	assert_int_equal(open(GROUP, O_RDWR) < 0 ? -errno : 0, -EBUSY);
	/* a name the group does not have; then no container */
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD,
				"0000:00:04.1"),
			 -ENODEV);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD,
				DEV_NAME),
			 -EINVAL);
	assert_int_equal(xioctl(f->group, SIO_VFIO_GROUP_UNSET_CONTAINER, 0),
			 -EINVAL);
	/* the container fd: not open, not a container, bad pointer */
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER, &bad),
			 -EBADF);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&null_fd),
			 -EBADFD);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER, NULL),
			 -EFAULT);

	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&f->container),
			 0);
	assert_int_equal(group_flags(f),
			 SIO_VFIO_GROUP_FLAGS_VIABLE |
				 SIO_VFIO_GROUP_FLAGS_CONTAINER_SET);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&f->container),
			 -EINVAL);
	/* a type1 container needs its IOMMU before a device fd */
	if (!compat(f))
		assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD,
					DEV_NAME),
				 -EINVAL);
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_SET_IOMMU, iommu_type(f)), 0);
	f->dev = (int)pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD, DEV_NAME);
	assert_true(f->dev >= 0);
	/* the same device: its cdev is busy now */
	assert_int_equal(open("/dev/vfio/devices/vfio0", O_RDWR) < 0 ? -errno
								     : 0,
			 -EBUSY);
	/* a usable device fd without BIND, and no cdev-only ioctls */
	assert_int_equal(pioctl(f->dev, SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & SIO_VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(pioctl(f->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b),
			 -EINVAL);
	assert_int_equal(pioctl(f->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -ENOTTY);
	/* a container's group cannot leave under an open device */
	assert_int_equal(xioctl(f->group, SIO_VFIO_GROUP_UNSET_CONTAINER, 0),
			 compat(f) ? 0 : -EBUSY);
	close(f->dev);
	f->dev = -1;
	assert_int_equal(xioctl(f->group, SIO_VFIO_GROUP_UNSET_CONTAINER, 0),
			 compat(f) ? -EINVAL : 0);
	assert_int_equal(group_flags(f), SIO_VFIO_GROUP_FLAGS_VIABLE);
	close(null_fd);
}

/*
 * Viability: while the device's cdev is bound to another iommufd, the
 * group is not viable, and a type1 container cannot claim it (EBUSY);
 * with an iommufd the claim comes at GET_DEVICE_FD.
 */
static void test_group_viability(void **state)
{
	struct fx *f = *state;
	int iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	int cdev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = iommufd};

	assert_true(iommufd >= 0 && cdev >= 0);
	assert_int_equal(pioctl(cdev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	assert_int_equal(group_flags(f), 0);
	if (compat(f)) {
		join(f);
		assert_int_equal(group_flags(f),
				 SIO_VFIO_GROUP_FLAGS_VIABLE |
					 SIO_VFIO_GROUP_FLAGS_CONTAINER_SET);
		assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD,
					DEV_NAME),
				 -EBUSY);
	} else {
		assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
					&f->container),
				 -EBUSY);
	}
	close(cdev);
	close(iommufd);
	if (!compat(f))
		join(f);
	assert_int_equal(group_flags(f),
			 SIO_VFIO_GROUP_FLAGS_VIABLE |
				 SIO_VFIO_GROUP_FLAGS_CONTAINER_SET);
	f->dev = (int)pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD, DEV_NAME);
	assert_true(f->dev >= 0);
}

/*
 * Two groups in one type1 container: the second joins the running IOMMU
 * (not while a vaddr is invalid: EBUSY), the IOMMU stays while either
 * is in, and the last one leaving takes it (the container is
 * deprivileged: EINVAL again).
 */
static void test_two_groups(void **state)
{
	struct fx *f = *state;
	int g1 = open("/dev/vfio/1", O_RDWR | O_CLOEXEC), dev1;
	uint64_t size;

	assert_true(g1 >= 0);
	assert_int_equal(map_rw(f, 0, 2), 0);
	if (!compat(f)) {
		assert_int_equal(unmap(f, page_iova(f, 0), pages(f, 2),
				       SIO_VFIO_DMA_UNMAP_FLAG_VADDR, NULL),
				 0);
		assert_int_equal(pioctl(g1, SIO_VFIO_GROUP_SET_CONTAINER,
					&f->container),
				 -EBUSY);
		assert_int_equal(map(f, 0, page_iova(f, 0), pages(f, 2),
				     SIO_VFIO_DMA_MAP_FLAG_VADDR),
				 0);
	}
	assert_int_equal(
		pioctl(g1, SIO_VFIO_GROUP_SET_CONTAINER, &f->container), 0);
	dev1 = (int)pioctl(g1, SIO_VFIO_GROUP_GET_DEVICE_FD, "0000:00:04.1");
	assert_true(dev1 >= 0);
	close(dev1);
	/* group 0 leaves; the mappings stay for group 1 */
	close(f->dev);
	f->dev = -1;
	assert_int_equal(xioctl(f->group, SIO_VFIO_GROUP_UNSET_CONTAINER, 0),
			 0);
	assert_int_equal(map_rw(f, 4, 1), 0);
	assert_int_equal(unmap(f, 0, 0, SIO_VFIO_DMA_UNMAP_FLAG_ALL, &size), 0);
	assert_int_equal(size, pages(f, 3));
	assert_int_equal(xioctl(g1, SIO_VFIO_GROUP_UNSET_CONTAINER, 0), 0);
	if (!compat(f)) {
		assert_int_equal(map_rw(f, 0, 1), -EINVAL);
		assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU,
					iommu_type(f)),
				 -EINVAL);
	}
	close(g1);
}

/* Threads mapping and unmapping their own pages, one reading GET_INFO. */
struct worker {
	struct fx *f;
	int page;
	long rc;
};

static void *map_unmap_loop(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 200 && !w->rc; i++) {
		uint64_t size = 0;

		w->rc = map_rw(w->f, w->page, 1);
		if (!w->rc)
			w->rc = unmap(w->f, page_iova(w->f, w->page),
				      pages(w->f, 1), 0, &size);
		if (!w->rc && size != pages(w->f, 1))
			w->rc = -1000;
	}
	return NULL;
}

static void *get_info_loop(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[256];
	struct sio_vfio_iommu_type1_info *info = (void *)buf;

	for (int i = 0; i < 200 && !w->rc; i++) {
		info->argsz = sizeof(buf);
		w->rc = pioctl(w->f->container, SIO_VFIO_IOMMU_GET_INFO, info);
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fx *f = *state;
	struct worker w[3] = {{f, 0, 0}, {f, 3, 0}, {f, 0, 0}};
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL,
						i < 2 ? map_unmap_loop
						      : get_info_loop,
						&w[i]),
				 0);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
}

/* ------------------------------------------------------ device DMA */

static void bar_write(struct fx *f, uint64_t off, unsigned int size,
		      uint64_t val)
{
	ioat_bar_write(f->dev, off, size, val);
}

static uint64_t bar_read(struct fx *f, uint64_t off, unsigned int size)
{
	return ioat_bar_read(f->dev, off, size);
}

static void chan_reset(struct fx *f)
{
	ioat_chan_reset(f->dev);
}

/* One copy of a page from page 0 to page 1; the channel's status. */
static uint64_t memcpy_wait(struct fx *f)
{
	struct ioat_desc *d = (struct ioat_desc *)(f->mem + 2 * f->pg);

	*d = (struct ioat_desc){
		.size = (uint32_t)f->pg,
		.ctl = CTL_COMPL_WRITE,
		.src = page_iova(f, 0),
		.dst = page_iova(f, 1),
		.next = page_iova(f, 2),
	};
	bar_write(f, CHANCMP, 8, page_iova(f, 3));
	bar_write(f, CHAINADDR, 8, page_iova(f, 2));
	bar_write(f, CHANCTRL, 2, CHANCTRL_INT_REARM | CHANCTRL_ERR_ABORT);
	bar_write(f, DMACOUNT, 2, 1);
	return ioat_chan_wait(f->dev);
}

/*
 * The device, from the group, DMAs through the mappings MAP_DMA made,
 * lands in the program's pages, and faults once UNMAP_DMA returned.
 */
static void test_device_dma(void **state)
{
	struct fx *f = *state;
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	uint64_t size;

	/* one mapping per page: each can go alone in every mode */
	for (int i = 0; i < 4; i++)
		assert_int_equal(map_rw(f, i, 1), 0);
	assert_int_equal(
		pwrite(f->dev, &cmd, 2,
		       (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(
				       SIO_VFIO_PCI_CONFIG_REGION_INDEX) +
			       PCI_COMMAND)),
		2);
	chan_reset(f);
	for (long i = 0; i < f->pg; i++)
		f->mem[i] = (uint8_t)(i * 13 + f->mode);
	assert_int_equal(memcpy_wait(f) & 7, CHANSTS_DONE);
	assert_memory_equal(f->mem + f->pg, f->mem, (size_t)f->pg);
	assert_int_equal(bar_read(f, CHANERR, 4), 0);

	assert_int_equal(unmap(f, page_iova(f, 1), pages(f, 1), 0, &size), 0);
	assert_int_equal(size, pages(f, 1));
	memset(f->mem + f->pg, 0, (size_t)f->pg);
	chan_reset(f);
	assert_int_equal(memcpy_wait(f) & 7, CHANSTS_HALTED);
	assert_true(bar_read(f, CHANERR, 4) & CHANERR_DEST_ADDR);
	for (long i = 0; i < f->pg; i++)
		assert_int_equal(f->mem[f->pg + i], 0);
}

/*
 * Bad user memory is EFAULT, never a crash: NULL arguments, an info
 * buffer the caller cannot write, a dirty bitmap nowhere (type1 checks
 * v1 before it reads anything: EACCES).
 */
static void test_bad_pointers(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_iommu_type1_info *info;
	uint64_t size;
	uint8_t *ro;

	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, NULL),
			 -EFAULT);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_UNMAP_DMA, NULL),
			 -EFAULT);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_STATUS, NULL),
			 -EFAULT);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				(void *)8),
			 -EFAULT);
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_GET_DEVICE_FD,
				(void *)8),
			 -EFAULT);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_DIRTY_PAGES, NULL),
			 compat(f) ? -ENOTTY
			 : v2(f)   ? -EFAULT
				   : -EACCES);

	ro = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ro != MAP_FAILED);
	info = (void *)ro;
	info->argsz = (uint32_t)f->pg;
	assert_int_equal(mprotect(ro, (size_t)f->pg, PROT_READ), 0);
	assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_GET_INFO, info),
			 -EFAULT);
	munmap(ro, (size_t)f->pg);

	if (f->mode == TYPE1V2) {
		struct {
			struct sio_vfio_iommu_type1_dma_unmap u;
			struct sio_vfio_bitmap b;
		} d = {
			.u = {.argsz = sizeof(d),
			      .flags = SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
			      .iova = page_iova(f, 0),
			      .size = pages(f, 1)},
			.b = {.pgsize = (uint64_t)f->pg, .size = 8, .data = 8},
		};

		assert_int_equal(map_rw(f, 0, 1), 0);
		assert_int_equal(
			dirty(f, SIO_VFIO_IOMMU_DIRTY_PAGES_FLAG_START), 0);
		assert_int_equal(pioctl(f->container, SIO_VFIO_IOMMU_UNMAP_DMA,
					&d),
				 -EFAULT);
		/* the mapping was not lost on the way */
		assert_int_equal(
			unmap(f, page_iova(f, 0), pages(f, 1), 0, &size), 0);
		assert_int_equal(size, pages(f, 1));
	}
}

/* ------------------------------------------------- IOMMU_VFIO_IOAS */

static long vfio_ioas(int fd, uint16_t op, uint32_t id, uint32_t *out)
{
	struct sio_iommu_vfio_ioas v = {
		.size = sizeof(v), .ioas_id = id, .op = op};
	long rc = pioctl(fd, SIO_IOMMU_VFIO_IOAS, &v);

	if (out)
		*out = v.ioas_id;
	return rc;
}

/*
 * IOMMU_VFIO_IOAS (iommufd only): GET without a compat IOAS is ENODEV,
 * SET names one (ENOENT for no IOAS), CLEAR forgets it; the first group
 * joining creates one; destroying it makes GET ENODEV again.
 */
static void test_vfio_ioas(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_vfio_ioas v = {.size = sizeof(v), .__reserved = 1};
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_iommu_destroy d = {.size = sizeof(d)};
	uint32_t id, auto_id;

	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0,
				   NULL),
			 -ENODEV);
	assert_int_equal(pioctl(f->container, SIO_IOMMU_VFIO_IOAS, &v),
			 -EOPNOTSUPP);
	assert_int_equal(vfio_ioas(f->container, 3, 0, NULL), -EOPNOTSUPP);
	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_SET, 77,
				   NULL),
			 -ENOENT);
	assert_int_equal(pioctl(f->container, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_SET,
				   a.out_ioas_id, NULL),
			 0);
	assert_int_equal(
		vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0, &id), 0);
	assert_int_equal(id, a.out_ioas_id);
	/* the container ioctls work on it now, before any group */
	assert_int_equal(
		xioctl(f->container, SIO_VFIO_SET_IOMMU, iommu_type(f)), 0);
	assert_int_equal(
		vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_CLEAR, 0, NULL), 0);
	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0,
				   NULL),
			 -ENODEV);
	assert_int_equal(xioctl(f->container, SIO_VFIO_SET_IOMMU,
				iommu_type(f)),
			 -ENODEV);
	/* the group joining creates one */
	assert_int_equal(pioctl(f->group, SIO_VFIO_GROUP_SET_CONTAINER,
				&f->container),
			 0);
	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0,
				   &auto_id),
			 0);
	assert_int_not_equal(auto_id, a.out_ioas_id);
	d.id = auto_id;
	assert_int_equal(pioctl(f->container, SIO_IOMMU_DESTROY, &d), 0);
	assert_int_equal(vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0,
				   NULL),
			 -ENODEV);
}

/* A MAP_DMA on the compat path is an area of the compat IOAS. */
static void test_compat_map_is_ioas_area(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u)};
	uint32_t id;

	assert_int_equal(map_rw(f, 0, 2), 0);
	assert_int_equal(
		vfio_ioas(f->container, SIO_IOMMU_VFIO_IOAS_GET, 0, &id), 0);
	u.ioas_id = id;
	u.iova = page_iova(f, 0);
	u.length = pages(f, 2);
	assert_int_equal(pioctl(f->container, SIO_IOMMU_IOAS_UNMAP, &u), 0);
	assert_int_equal(u.length, pages(f, 2));
}

static enum mode modes[NR_MODES] = {TYPE1, TYPE1V2, COMPAT_TYPE1,
				    COMPAT_TYPE1V2};

/* One entry per mode, named after the selftests' mode names. */
#define IN_MODE(fn, su, td, m)                    \
	{                                         \
#fn "/" #m, fn, su, td, &modes[m] \
	}
#define FOR_TYPE1(fn, su, td) \
	IN_MODE(fn, su, td, TYPE1), IN_MODE(fn, su, td, TYPE1V2)
#define FOR_COMPAT(fn, su, td) \
	IN_MODE(fn, su, td, COMPAT_TYPE1), IN_MODE(fn, su, td, COMPAT_TYPE1V2)
#define FOR_MODES(fn, su, td) FOR_TYPE1(fn, su, td), FOR_COMPAT(fn, su, td)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FOR_MODES(test_api_version_and_extensions, setup_bare,
			  teardown),
		FOR_MODES(test_set_iommu, setup_bare, teardown),
		FOR_COMPAT(test_compat_huge_pages, setup, teardown),
		FOR_MODES(test_get_info, setup, teardown),
		FOR_TYPE1(test_dma_avail_counts, setup, teardown),
		FOR_MODES(test_map_unmap, setup, teardown),
		FOR_MODES(test_unmap_inside, setup, teardown),
		FOR_MODES(test_vaddr_update, setup, teardown),
		FOR_TYPE1(test_dma_entry_limit, setup, teardown),
		FOR_MODES(test_dirty_pages, setup, teardown),
		FOR_MODES(test_group_rules, setup_bare, teardown),
		FOR_MODES(test_group_viability, setup_bare, teardown),
		FOR_MODES(test_two_groups, setup, teardown),
		FOR_MODES(test_concurrent, setup, teardown),
		FOR_MODES(test_device_dma, setup, teardown),
		FOR_MODES(test_bad_pointers, setup, teardown),
		FOR_COMPAT(test_vfio_ioas, setup_bare, teardown),
		FOR_COMPAT(test_compat_map_is_ioas_area, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
