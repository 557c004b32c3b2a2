// SPDX-License-Identifier: MIT
/*
 * Access objects: an emulated device's pins and CPU reads and writes
 * through an IOAS, and what IOAS_UNMAP does to them.  The "driver" here
 * plays the kernel selftest's mock access (selftest.c): it records each
 * pin and, told of an unmap, unpins every recorded range inside it.
 *
 * Expected values are the kernel's (drivers/iommu/iommufd/device.c
 * iommufd_access_*, io_pagetable.c iopt_unmap_iova_range(), pages.c
 * iopt_area_add_access() and iopt_pages_rw_access()): EINVAL for length
 * 0, an unaligned pin or an access that cannot pin, EOVERFLOW, ENOENT
 * for holes and for an access with no IOAS, EPERM against the mapping's
 * protection, EBUSY for an IOAS an access holds, EADDRINUSE when an
 * area does not meet a pinning access's PAGE_SIZE alignment, EDEADLOCK
 * after the 100 notifications an access that keeps its pins is given.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>
#include <softiommu/smmu.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define BUF_PAGES 16
#define MAX_PINS  64

#define RW    (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED SIO_IOMMU_IOAS_MAP_FIXED_IOVA

/* The test's emulated device: its pins, and the unmaps it was told of. */
struct drv {
	struct iommufd_access *access;
	uint32_t id;
	pthread_mutex_t lock;
	struct {
		uint64_t iova, length;
	} pins[MAX_PINS];
	unsigned int nr_pins;
	bool stubborn; /* keeps its pins when told to unmap */
	atomic_uint unmap_calls;
	uint64_t last_iova, last_length;
};

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct iommufd_ctx *ictx;
	uint64_t pg;
	uint8_t *buf; /* BUF_PAGES pages, read-write */
	uint8_t *buf2;
	struct drv drv;
	struct drv spare; /* the unmap target of accesses that never pin */
	struct platform_device *pdev;
	struct iommufd_device *idev;
};

static void drv_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct drv *d = data;
	uint64_t last = iova + length - 1;

	pthread_mutex_lock(&d->lock);
	atomic_fetch_add(&d->unmap_calls, 1);
	d->last_iova = iova;
	d->last_length = length;
	for (unsigned int i = 0; !d->stubborn && i < d->nr_pins;) {
		uint64_t s = d->pins[i].iova;
		uint64_t l = s + d->pins[i].length - 1;

		if (s > last || l < iova) {
			i++;
			continue;
		}
		iommufd_access_unpin_pages(d->access, s, d->pins[i].length);
		d->pins[i] = d->pins[--d->nr_pins];
	}
	pthread_mutex_unlock(&d->lock);
}

static const struct iommufd_access_ops pin_ops = {
	.needs_pin_pages = true,
	.unmap = drv_unmap,
};
static const struct iommufd_access_ops rw_ops = {.unmap = drv_unmap};
static const struct iommufd_access_ops no_unmap_ops = {.needs_pin_pages = true};

static void drv_create(struct fx *f, const struct iommufd_access_ops *ops)
{
	assert_int_equal(iommufd_access_create(f->ictx, ops, &f->drv,
					       &f->drv.id, &f->drv.access),
			 0);
}

/*
 * Pin and record, as the selftest's ACCESS_PAGES does, under the
 * driver's lock: an unmap callback cannot come between the two and miss
 * the pin (which would only cost it a retry, but a preempted pinner
 * could run it out of retries).
 */
static int drv_pin(struct fx *f, uint64_t iova, uint64_t length, void **pages,
		   unsigned int flags)
{
	struct drv *d = &f->drv;
	int rc;

	pthread_mutex_lock(&d->lock);
	rc = iommufd_access_pin_pages(d->access, iova, length, pages, flags);
	if (!rc) {
		assert_true(d->nr_pins < MAX_PINS);
		d->pins[d->nr_pins].iova = iova;
		d->pins[d->nr_pins].length = length;
		d->nr_pins++;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}

/* Unpin one recorded pin of exactly this range; false if none is left. */
static bool drv_unpin(struct fx *f, uint64_t iova, uint64_t length)
{
	struct drv *d = &f->drv;
	bool found = false;

	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < d->nr_pins; i++) {
		if (d->pins[i].iova == iova && d->pins[i].length == length) {
			iommufd_access_unpin_pages(d->access, iova, length);
			d->pins[i] = d->pins[--d->nr_pins];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return found;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	/* count every pin, whoever runs the test */
	sio_platform_set_caps(f->plat, 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->ictx = f->fd->ictx;
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, BUF_PAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->buf2 = mmap(NULL, BUF_PAGES * f->pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED && f->buf2 != MAP_FAILED);
	pthread_mutex_init(&f->drv.lock, NULL);
	pthread_mutex_init(&f->spare.lock, NULL);
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	assert_non_null(f->pdev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct sio_pin_stats st;

	if (f->drv.access)
		iommufd_access_destroy(f->drv.access);
	if (f->idev)
		iommufd_device_unbind(f->idev);
	sio_iommufd_close(f->fd);
	/* every pin of every test went back */
	sio_platform_pin_stats(f->plat, &st);
	assert_int_equal(st.user_locked, 0);
	assert_int_equal(st.mm_pinned, 0);
	sio_platform_destroy(f->plat);
	munmap(f->buf, BUF_PAGES * f->pg);
	munmap(f->buf2, BUF_PAGES * f->pg);
	pthread_mutex_destroy(&f->drv.lock);
	pthread_mutex_destroy(&f->spare.lock);
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
	       uint64_t len, uint64_t iova)
{
	return ifd_map(f->fd, ioas, flags | FIXED, va, len, &iova);
}

static int unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len,
		 uint64_t *out)
{
	return ifd_unmap(f->fd, ioas, iova, len, out);
}

static uint64_t alignment(struct fx *f, uint32_t ioas)
{
	struct sio_iommu_ioas_iova_ranges c = {.size = sizeof(c),
					       .ioas_id = ioas};

	/* no room for ranges: EMSGSIZE, with the alignment filled in */
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES,
					   &c),
			 -EMSGSIZE);
	return c.out_iova_alignment;
}

static uint64_t user_locked(struct fx *f)
{
	struct sio_pin_stats st;

	sio_platform_pin_stats(f->plat, &st);
	return st.user_locked;
}

static void bind_and_attach(struct fx *f, uint32_t ioas)
{
	uint32_t dev_id, pt = ioas;

	assert_int_equal(iommufd_device_bind(f->ictx, &f->pdev->desc, &dev_id,
					     &f->idev),
			 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
}

static int dma(struct fx *f, uint64_t iova, void *buf, size_t len, bool write)
{
	struct sio_smmu_txn txn = {.sid = f->pdev->sid,
				   .addr = iova,
				   .attr = write ? SIO_SMMU_WRITE : 0};
	size_t done;

	return sio_smmu_dma(sio_platform_smmu(f->plat), &txn, buf, len, &done);
}

/*
 * The object's life: an id in the table that IOMMU_DESTROY cannot take
 * (its creator holds it), attach, replace and detach with the IOAS held
 * while attached, and the unmap callback over everything when it leaves.
 */
static void test_lifecycle(void **state)
{
	struct fx *f = *state;
	uint32_t a = ioas_alloc(f), b = ioas_alloc(f);
	uint8_t byte = 0x11;
	void *page;

	drv_create(f, &pin_ops);
	assert_int_equal(f->drv.id, b + 1);
	assert_int_equal(destroy(f, f->drv.id), -EBUSY);

	/* nothing to work on yet */
	assert_int_equal(iommufd_access_rw(f->drv.access, 0, &byte, 1, 0),
			 -ENOENT);
	assert_int_equal(iommufd_access_pin_pages(f->drv.access, 0, f->pg,
						  &page, 0),
			 -ENOENT);
	assert_int_equal(iommufd_access_replace(f->drv.access, a), -ENOENT);
	assert_int_equal(iommufd_access_attach(f->drv.access, 999), -ENOENT);
	assert_int_equal(iommufd_access_attach(f->drv.access, f->drv.id),
			 -ENOENT);

	assert_int_equal(iommufd_access_attach(f->drv.access, a), 0);
	assert_int_equal(iommufd_access_attach(f->drv.access, b), -EINVAL);
	assert_int_equal(destroy(f, a), -EBUSY);
	assert_int_equal(map(f, a, RW, f->buf, f->pg, 0x100000), 0);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, &byte, 1,
					   IOMMUFD_ACCESS_RW_WRITE),
			 0);
	assert_int_equal(f->buf[0], 0x11);

	/* the same IOAS: nothing happens, not even a callback */
	assert_int_equal(iommufd_access_replace(f->drv.access, a), 0);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 0);
	assert_int_equal(iommufd_access_replace(f->drv.access, 999), -ENOENT);

	/* a replace tells the driver the old IOAS is gone, all of it */
	assert_int_equal(iommufd_access_replace(f->drv.access, b), 0);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 1);
	assert_int_equal(f->drv.last_iova, 0);
	assert_int_equal(f->drv.last_length, UINT64_MAX);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, &byte, 1,
					   0),
			 -ENOENT);
	assert_int_equal(destroy(f, b), -EBUSY);
	assert_int_equal(destroy(f, a), 0);

	iommufd_access_detach(f->drv.access);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 2);
	assert_int_equal(destroy(f, b), 0);
	assert_int_equal(iommufd_access_replace(f->drv.access, b), -ENOENT);

	/* destroy detaches first, with the callback, and lets the IOAS go */
	a = ioas_alloc(f);
	assert_int_equal(iommufd_access_attach(f->drv.access, a), 0);
	iommufd_access_destroy(f->drv.access);
	f->drv.access = NULL;
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 3);
	assert_int_equal(destroy(f, a), 0);
}

/*
 * A pinning access makes its IOAS PAGE_SIZE aligned (iopt_add_access()
 * and iopt_calculate_iova_alignment()); one that only copies does not.
 */
static void test_alignment(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	struct iommufd_access *rw;
	uint32_t rw_id;

	/* an area off page boundaries keeps a pinning access out */
	assert_int_equal(map(f, ioas, RW, f->buf + 128, f->pg, 0x100000 + 128),
			 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas),
			 -EADDRINUSE);
	assert_int_equal(alignment(f, ioas), 1);

	assert_int_equal(iommufd_access_create(f->ictx, &rw_ops, &f->spare,
					       &rw_id, &rw),
			 0);
	assert_int_equal(iommufd_access_attach(rw, ioas), 0);
	assert_int_equal(alignment(f, ioas), 1);

	assert_int_equal(unmap(f, ioas, 0x100000 + 128, f->pg, NULL), 0);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	assert_int_equal(alignment(f, ioas), f->pg);
	assert_int_equal(map(f, ioas, RW, f->buf + 128, f->pg, 0x100000 + 128),
			 -EINVAL);
	assert_int_equal(map(f, ioas, RW, f->buf, f->pg / 2, 0x100000),
			 -EINVAL);
	assert_int_equal(map(f, ioas, RW, f->buf, f->pg, 0x100000), 0);

	iommufd_access_detach(f->drv.access);
	assert_int_equal(alignment(f, ioas), 1);
	iommufd_access_destroy(rw);
}

/* Each way a pin is refused, and nothing pinned after any of them. */
static void test_pin_errnos(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	struct iommufd_access *other;
	void *pages[BUF_PAGES];
	uint32_t id;

	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	assert_int_equal(map(f, ioas, SIO_IOMMU_IOAS_MAP_READABLE,
			     f->buf + 4 * f->pg, 2 * f->pg, 0x200000),
			 0);
	assert_int_equal(map(f, ioas, SIO_IOMMU_IOAS_MAP_WRITEABLE,
			     f->buf + 6 * f->pg, 2 * f->pg, 0x300000),
			 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);

	assert_int_equal(drv_pin(f, 0x100000, 0, pages, 0), -EINVAL);
	assert_int_equal(drv_pin(f, UINT64_MAX - f->pg + 1, 2 * f->pg, pages,
				 0),
			 -EOVERFLOW);
	assert_int_equal(drv_pin(f, 0x100000 + 8, f->pg, pages, 0), -EINVAL);
	/* nothing there, and an area that runs into a hole */
	assert_int_equal(drv_pin(f, 0x400000, f->pg, pages, 0), -ENOENT);
	assert_int_equal(drv_pin(f, 0x100000 + 3 * f->pg, 2 * f->pg, pages, 0),
			 -ENOENT);
	/* the mapping's protection, and the pages' */
	assert_int_equal(drv_pin(f, 0x200000, f->pg, pages,
				 IOMMUFD_ACCESS_RW_WRITE),
			 -EPERM);
	assert_int_equal(drv_pin(f, 0x300000, f->pg, pages, 0), -EPERM);
	assert_int_equal(drv_pin(f, 0x200000, f->pg, pages, 0), 0);
	assert_ptr_equal(pages[0], f->buf + 4 * f->pg);
	assert_true(drv_unpin(f, 0x200000, f->pg));
	assert_int_equal(user_locked(f), 0);

	/* an access without needs_pin_pages, or without unmap, may not pin */
	assert_int_equal(iommufd_access_create(f->ictx, &rw_ops, &f->spare, &id,
					       &other),
			 0);
	assert_int_equal(iommufd_access_attach(other, ioas), 0);
	assert_int_equal(iommufd_access_pin_pages(other, 0x100000, f->pg, pages,
						  0),
			 -EINVAL);
	iommufd_access_destroy(other);
	assert_int_equal(iommufd_access_create(f->ictx, &no_unmap_ops, NULL,
					       &id, &other),
			 0);
	assert_int_equal(iommufd_access_attach(other, ioas), 0);
	assert_int_equal(iommufd_access_pin_pages(other, 0x100000, f->pg, pages,
						  0),
			 -EINVAL);
	iommufd_access_destroy(other);

	/* a failure after a first area unpins the first area again */
	assert_int_equal(map(f, ioas, RW, f->buf2, f->pg, 0x100000 + 4 * f->pg),
			 0);
	assert_int_equal(drv_pin(f, 0x100000 + 3 * f->pg, 3 * f->pg, pages, 0),
			 -ENOENT);
	assert_int_equal(user_locked(f), 0);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 0);
}

/*
 * A pinned page is the host address of the page behind the IOVA: what is
 * written through it is what a read through the IOAS sees, over two
 * areas from different buffers, and a range pinned twice is two users.
 */
static void test_pin_pages_data(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	void *pages[BUF_PAGES];
	char back[32];

	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	assert_int_equal(map(f, ioas, RW, f->buf2 + 2 * f->pg, 2 * f->pg,
			     0x100000 + 4 * f->pg),
			 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);

	/* a length that ends inside a page pins that page too */
	assert_int_equal(drv_pin(f, 0x100000 + 2 * f->pg, 3 * f->pg + 1, pages,
				 IOMMUFD_ACCESS_RW_WRITE),
			 0);
	assert_ptr_equal(pages[0], f->buf + 2 * f->pg);
	assert_ptr_equal(pages[1], f->buf + 3 * f->pg);
	assert_ptr_equal(pages[2], f->buf2 + 2 * f->pg);
	assert_ptr_equal(pages[3], f->buf2 + 3 * f->pg);
	assert_int_equal(user_locked(f), 4);
	/* page by page, as MD_CHECK_REFS counts them */
	struct iopt_area *area = iommufd_container_of(
		sio_itree_first(&f->drv.access->ioas->iopt.area_itree, 0x100000,
				0x100000),
		struct iopt_area, node);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(iopt_pages_is_pinned(area->pages, i), i >= 2);
	assert_false(iopt_pages_is_pinned(area->pages, 4));

	memcpy((char *)pages[2] + 7, "via the pinned page", 20);
	assert_int_equal(iommufd_access_rw(f->drv.access,
					   0x100000 + 4 * f->pg + 7, back, 20,
					   IOMMUFD_ACCESS_RW_READ),
			 0);
	assert_string_equal(back, "via the pinned page");

	/* the same range again: a second user, counted once */
	assert_int_equal(
		drv_pin(f, 0x100000 + 2 * f->pg, 3 * f->pg + 1, pages, 0), 0);
	assert_int_equal(user_locked(f), 4);
	assert_true(drv_unpin(f, 0x100000 + 2 * f->pg, 3 * f->pg + 1));
	assert_int_equal(user_locked(f), 4);
	/* an unpin of a range never pinned changes nothing */
	iommufd_access_unpin_pages(f->drv.access, 0x100000, f->pg);
	assert_int_equal(user_locked(f), 4);
	assert_true(drv_unpin(f, 0x100000 + 2 * f->pg, 3 * f->pg + 1));
	assert_int_equal(user_locked(f), 0);
	assert_false(iopt_pages_is_pinned(area->pages, 2));
}

/*
 * Pins are counted against RLIMIT_MEMLOCK as a domain's are, and once:
 * overlapping pins, and a domain over pages an access pinned, count each
 * page one time; unpinning gives back what nothing else holds.
 */
static void test_pin_accounting(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	void *pages[BUF_PAGES];
	struct rlimit old, rl;
	uint64_t iova = 0x100000;

	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = 4 * f->pg;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);

	assert_int_equal(map(f, ioas, RW, f->buf, 8 * f->pg, iova), 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	assert_int_equal(drv_pin(f, iova, 3 * f->pg, pages, 0), 0);
	assert_int_equal(user_locked(f), 3);
	assert_int_equal(drv_pin(f, iova, 3 * f->pg, pages, 0), 0);
	assert_int_equal(user_locked(f), 3);
	/* overlapping by one page: one new page */
	assert_int_equal(drv_pin(f, iova + 2 * f->pg, 2 * f->pg, pages, 0), 0);
	assert_int_equal(user_locked(f), 4);
	/* over the limit: ENOMEM, nothing changed */
	assert_int_equal(drv_pin(f, iova + 4 * f->pg, f->pg, pages, 0),
			 -ENOMEM);
	assert_int_equal(user_locked(f), 4);
	assert_true(drv_unpin(f, iova, 3 * f->pg));
	assert_int_equal(user_locked(f), 4);
	assert_true(drv_unpin(f, iova, 3 * f->pg));
	/* pages 2 and 3 are still pinned by the other range */
	assert_int_equal(user_locked(f), 2);

	/* a domain pins all 8, the 2 already counted are not counted again */
	rl.rlim_cur = 8 * f->pg;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	bind_and_attach(f, ioas);
	assert_int_equal(user_locked(f), 8);
	assert_int_equal(drv_pin(f, iova + 6 * f->pg, f->pg, pages, 0), 0);
	assert_int_equal(user_locked(f), 8);
	iommufd_device_detach(f->idev);
	assert_int_equal(user_locked(f), 3);
	assert_true(drv_unpin(f, iova + 2 * f->pg, 2 * f->pg));
	assert_int_equal(user_locked(f), 1);
	assert_true(drv_unpin(f, iova + 6 * f->pg, f->pg));
	assert_int_equal(user_locked(f), 0);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
}

/*
 * With a device attached: what the CPU writes through a pinned page the
 * device's DMA reads through the SMMU, and what the device writes an
 * access rw reads back; a copy into another IOAS shares the pins.
 */
static void test_pin_with_domain_dma(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f), dst = ioas_alloc(f);
	struct sio_iommu_ioas_copy cp = {
		.size = sizeof(cp),
		.flags = FIXED | RW,
		.dst_ioas_id = dst,
		.src_ioas_id = ioas,
		.length = 2 * f->pg,
		.dst_iova = 0x300000,
		.src_iova = 0x100000 + 2 * f->pg,
	};
	uint64_t iova = 0x100000;
	void *pages[BUF_PAGES];
	char back[16];

	/* pin in an IOAS without a domain, then copy to one with a device */
	assert_int_equal(map(f, ioas, RW, f->buf, 8 * f->pg, iova), 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	assert_int_equal(drv_pin(f, iova + 2 * f->pg, 2 * f->pg, pages,
				 IOMMUFD_ACCESS_RW_WRITE),
			 0);
	assert_int_equal(user_locked(f), 2);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_COPY, &cp), 0);
	bind_and_attach(f, dst);
	/*
	 * The copy shares the 8-page pages object, but the domain pins only
	 * the copy's own 2 pages, which the access holds already (Linux's
	 * iopt_area_fill_domains()): nothing more is counted.
	 */
	assert_int_equal(user_locked(f), 2);

	memcpy((char *)pages[1] + 100, "cpu to device", 14);
	assert_int_equal(dma(f, 0x300000 + f->pg + 100, back, 14, false), 0);
	assert_string_equal(back, "cpu to device");
	assert_int_equal(dma(f, 0x300000 + 5, "device to cpu", 14, true), 0);
	assert_int_equal(iommufd_access_rw(f->drv.access, iova + 2 * f->pg + 5,
					   back, 14, 0),
			 0);
	assert_string_equal(back, "device to cpu");
	assert_string_equal((char *)pages[0] + 5, "device to cpu");

	/* the source IOAS goes: the access lets its pins go, the DMA stays */
	assert_int_equal(unmap(f, ioas, iova, 8 * f->pg, NULL), 0);
	assert_int_equal(f->drv.nr_pins, 0);
	assert_int_equal(dma(f, 0x300000 + 5, back, 14, false), 0);
	iommufd_device_detach(f->idev);
	assert_int_equal(user_locked(f), 0);
}

/* The selftest's check_access_rw(): every offset and length near a page. */
static void rw_sweep(struct fx *f, uint64_t iova, unsigned int flags)
{
	uint8_t tmp[64], *big = malloc(BUF_PAGES * f->pg);
	uint64_t seed = 7;

	for (uint64_t i = 0; i < BUF_PAGES * f->pg; i++)
		f->buf[i] = (uint8_t)sio_test_rand(&seed);
	for (uint64_t at = iova + f->pg - 50; at < iova + f->pg + 50; at++) {
		for (size_t len = 1; len < sizeof(tmp); len++) {
			assert_int_equal(iommufd_access_rw(f->drv.access, at,
							   tmp, len, flags),
					 0);
			assert_memory_equal(f->buf + (at - iova), tmp, len);
			for (size_t i = 0; i < len; i++)
				tmp[i] = (uint8_t)sio_test_rand(&seed);
			assert_int_equal(
				iommufd_access_rw(
					f->drv.access, at, tmp, len,
					flags | IOMMUFD_ACCESS_RW_WRITE),
				0);
			assert_memory_equal(f->buf + (at - iova), tmp, len);
		}
	}
	assert_non_null(big);
	assert_int_equal(iommufd_access_rw(f->drv.access, iova, big,
					   BUF_PAGES * f->pg, flags),
			 0);
	assert_memory_equal(big, f->buf, BUF_PAGES * f->pg);
	free(big);
}

/*
 * access_rw and access_rw_unaligned: byte-granular reads and writes on
 * the fast and the slow path, over an IOAS aligned to 1 (no pinning
 * access), at an IOVA half way into a page.
 */
static void test_rw(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint64_t iova = 0x100000 + 2048;

	drv_create(f, &rw_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	assert_int_equal(map(f, ioas, RW, f->buf, BUF_PAGES * f->pg, iova), 0);
	rw_sweep(f, iova, 0);
	rw_sweep(f, iova, IOMMUFD_ACCESS_RW_SLOW_PATH);
	rw_sweep(f, iova, IOMMUFD_ACCESS_RW_KTHREAD);
	assert_int_equal(unmap(f, ioas, iova, BUF_PAGES * f->pg, NULL), 0);
	/* the slow path pins for the copy only: nothing stays counted */
	assert_int_equal(user_locked(f), 0);
}

/* Across areas, holes, protections, and memory that went away. */
static void test_rw_errnos(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	uint8_t *gone;
	char out[32] = "0123456789abcdef0123456789abcde";
	char back[32];

	drv_create(f, &rw_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	/* two areas back to back at a byte boundary, from two buffers */
	assert_int_equal(map(f, ioas, RW, f->buf + f->pg - 10, 10, 0x100000),
			 0);
	assert_int_equal(map(f, ioas, RW, f->buf2, f->pg, 0x10000a), 0);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, out, 20,
					   IOMMUFD_ACCESS_RW_WRITE),
			 0);
	assert_memory_equal(f->buf + f->pg - 10, out, 10);
	assert_memory_equal(f->buf2, out + 10, 10);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, back, 20,
					   IOMMUFD_ACCESS_RW_SLOW_PATH),
			 0);
	assert_memory_equal(back, out, 20);

	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, back, 0, 0),
			 -EINVAL);
	assert_int_equal(iommufd_access_rw(f->drv.access, UINT64_MAX - 3, back,
					   8, 0),
			 -EOVERFLOW);
	/* a hole after the areas, and nothing at all */
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000 + f->pg,
					   back, 20, 0),
			 -ENOENT);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x90000, back, 1, 0),
			 -ENOENT);

	/* read-only and write-only mappings */
	assert_int_equal(map(f, ioas, SIO_IOMMU_IOAS_MAP_READABLE,
			     f->buf + 2 * f->pg, f->pg, 0x200000),
			 0);
	assert_int_equal(map(f, ioas, SIO_IOMMU_IOAS_MAP_WRITEABLE,
			     f->buf + 3 * f->pg, f->pg, 0x300000),
			 0);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x200000, out, 4,
					   IOMMUFD_ACCESS_RW_WRITE),
			 -EPERM);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x200000, back, 4, 0),
			 0);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x300000, back, 4, 0),
			 -EPERM);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x300000, out, 4,
					   IOMMUFD_ACCESS_RW_WRITE),
			 0);

	/*
	 * Memory taken away under the mapping (PROT_NONE, so that nothing
	 * else can be mapped there meanwhile): EFAULT, never a crash.
	 */
	gone = mmap(NULL, 2 * f->pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(gone != MAP_FAILED);
	assert_int_equal(map(f, ioas, RW, gone, 2 * f->pg, 0x400000), 0);
	assert_int_equal(mprotect(gone, 2 * f->pg, PROT_NONE), 0);
	for (unsigned int fl = 0; fl <= IOMMUFD_ACCESS_RW_SLOW_PATH; fl += 4) {
		assert_int_equal(iommufd_access_rw(f->drv.access, 0x400000,
						   back, 8, fl),
				 -EFAULT);
		assert_int_equal(
			iommufd_access_rw(f->drv.access, 0x400000 + f->pg - 4,
					  out, 8, fl | IOMMUFD_ACCESS_RW_WRITE),
			-EFAULT);
	}
	assert_int_equal(user_locked(f), 0);
	munmap(gone, 2 * f->pg);
}

/*
 * IOAS_UNMAP over pinned pages: the access is told the area's range,
 * unpins from inside the callback, and the unmap succeeds; an access
 * that keeps its pins makes the unmap fail with EDEADLOCK after 100
 * retries, the area closed to new pins from then on.
 */
static void test_unmap_notify(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	void *pages[BUF_PAGES];
	uint64_t done = 0;
	uint8_t b;

	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	assert_int_equal(
		map(f, ioas, RW, f->buf2, 4 * f->pg, 0x100000 + 4 * f->pg), 0);
	assert_int_equal(map(f, ioas, RW, f->buf2 + 4 * f->pg, f->pg, 0x800000),
			 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);

	/* an unmap where the access pinned nothing does not call it */
	assert_int_equal(unmap(f, ioas, 0x800000, f->pg, &done), 0);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 0);

	/* a pin over both areas: each area's unmap tells its own range */
	assert_int_equal(drv_pin(f, 0x100000 + 3 * f->pg, 2 * f->pg, pages, 0),
			 0);
	assert_int_equal(user_locked(f), 2);
	/* a pinned area cannot be split (VFIO type1's partial unmap) */
	uint64_t cut = 0x100000 + f->pg - 1;
	assert_int_equal(iopt_cut_iova(&f->drv.access->ioas->iopt, &cut, 1),
			 -EINVAL);
	assert_int_equal(unmap(f, ioas, 0x100000, 8 * f->pg, &done), 0);
	assert_int_equal(done, 8 * f->pg);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 1);
	assert_int_equal(f->drv.last_iova, 0x100000);
	assert_int_equal(f->drv.last_length, 4 * f->pg);
	assert_int_equal(f->drv.nr_pins, 0);
	assert_int_equal(user_locked(f), 0);

	/* unmap-all too */
	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	assert_int_equal(drv_pin(f, 0x100000, f->pg, pages, 0), 0);
	assert_int_equal(unmap(f, ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 4 * f->pg);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 2);
	assert_int_equal(user_locked(f), 0);

	/* a driver that does not unpin: EDEADLOCK after 100 retries */
	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	assert_int_equal(map(f, ioas, RW, f->buf2, 4 * f->pg, 0x200000), 0);
	assert_int_equal(drv_pin(f, 0x200000, f->pg, pages, 0), 0);
	f->drv.stubborn = true;
	atomic_store(&f->drv.unmap_calls, 0);
	assert_int_equal(unmap(f, ioas, 0x100000, 0x200000, &done), -EDEADLOCK);
	assert_int_equal(atomic_load(&f->drv.unmap_calls), 101);
	/* the area before was unmapped; this one is closed to accesses */
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100000, &b, 1, 0),
			 -ENOENT);
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x200000, &b, 1, 0),
			 -EINVAL);
	assert_int_equal(drv_pin(f, 0x200000, f->pg, pages, 0), -EINVAL);
	assert_int_equal(user_locked(f), 1);
	f->drv.stubborn = false;
	assert_int_equal(unmap(f, ioas, 0x200000, 4 * f->pg, &done), 0);
	assert_int_equal(user_locked(f), 0);
}

/*
 * The IOAS an access is attached to cannot be destroyed; closing the
 * handle keeps the context (and the access) alive until the access is
 * destroyed, as the kernel's access holds its iommufd_ctx.
 */
static void test_destroy_and_close(void **state)
{
	struct fx *f = *state;
	uint32_t ioas = ioas_alloc(f);
	void *pages[4];
	char back[8];

	assert_int_equal(map(f, ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, ioas), 0);
	assert_int_equal(drv_pin(f, 0x100000, 2 * f->pg, pages, 0), 0);
	assert_int_equal(destroy(f, ioas), -EBUSY);

	memcpy(f->buf + 3, "alive", 6);
	sio_iommufd_close(f->fd);
	f->fd = NULL;
	assert_int_equal(iommufd_access_rw(f->drv.access, 0x100003, back, 6, 0),
			 0);
	assert_string_equal(back, "alive");
	assert_int_equal(user_locked(f), 2);

	/* the access goes: its IOAS is unpinned (callback) and freed */
	iommufd_access_destroy(f->drv.access);
	f->drv.access = NULL;
	assert_int_equal(f->drv.nr_pins, 0);
	assert_int_equal(user_locked(f), 0);
}

/*
 * Unmaps racing pins and reads: one thread maps and unmaps (each unmap
 * calls back into the driver, which unpins from that thread), others pin,
 * write through the pages, unpin, and copy through the IOAS.  Every
 * unmap must succeed and every pin must be back at the end.
 */
struct race {
	struct fx *f;
	uint32_t ioas;
	atomic_bool stop;
	atomic_uint pins, rws, unmaps;
};

static void *race_unmapper(void *arg)
{
	struct race *r = arg;
	struct fx *f = r->f;

	/* at least 400 rounds, and on until the others have run a while */
	for (int i = 0; i < 400 || ((atomic_load(&r->pins) < 100 ||
				     atomic_load(&r->rws) < 100) &&
				    i < 100000);
	     i++) {
		uint64_t done;

		if (map(f, r->ioas, RW, f->buf, 8 * f->pg, 0x100000))
			abort();
		sched_yield();
		if (unmap(f, r->ioas, 0x100000, 8 * f->pg, &done) ||
		    done != 8 * f->pg)
			abort();
		atomic_fetch_add(&r->unmaps, 1);
	}
	atomic_store(&r->stop, true);
	return NULL;
}

static void *race_pinner(void *arg)
{
	struct race *r = arg;
	struct fx *f = r->f;
	uint64_t seed = (uintptr_t)&seed;

	while (!atomic_load(&r->stop)) {
		uint64_t at = 0x100000 + (sio_test_rand(&seed) % 6) * f->pg;
		void *pages[2];
		int rc = drv_pin(f, at, 2 * f->pg, pages,
				 IOMMUFD_ACCESS_RW_WRITE);

		if (rc == -ENOENT || rc == -EINVAL)
			continue; /* not mapped, or being unmapped */
		if (rc)
			abort();
		/* pinned: the pages stay there until we let them go */
		((volatile uint8_t *)pages[1])[5] = 0x5a;
		drv_unpin(f, at, 2 * f->pg);
		atomic_fetch_add(&r->pins, 1);
	}
	return NULL;
}

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint8_t b[64];

	while (!atomic_load(&r->stop)) {
		int rc = iommufd_access_rw(r->f->drv.access, 0x100000 + 100, b,
					   sizeof(b), 0);

		if (rc && rc != -ENOENT && rc != -EINVAL)
			abort();
		/* across a page: the slow path's own pins */
		rc = iommufd_access_rw(r->f->drv.access,
				       0x800000 + r->f->pg - 32, b, sizeof(b),
				       IOMMUFD_ACCESS_RW_SLOW_PATH);
		if (rc)
			abort();
		atomic_fetch_add(&r->rws, 1);
	}
	return NULL;
}

static void test_concurrency(void **state)
{
	struct fx *f = *state;
	struct race r = {.f = f, .ioas = ioas_alloc(f)};
	pthread_t t[3];

	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, r.ioas), 0);
	assert_int_equal(map(f, r.ioas, RW, f->buf2, 4 * f->pg, 0x800000), 0);
	assert_int_equal(pthread_create(&t[0], NULL, race_unmapper, &r), 0);
	assert_int_equal(pthread_create(&t[1], NULL, race_pinner, &r), 0);
	assert_int_equal(pthread_create(&t[2], NULL, race_reader, &r), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_true(atomic_load(&r.unmaps) >= 400);
	assert_true(atomic_load(&r.pins) >= 100);
	assert_true(atomic_load(&r.rws) >= 100);
	assert_int_equal(f->drv.nr_pins, 0);
	assert_int_equal(user_locked(f), 0);
}

/*
 * A second access whose unmap callback is slow: destroying it while an
 * unmap is inside that callback waits for the callback to return (the
 * notification holds a short-term reference, as the kernel's
 * iommufd_lock_obj()), and the unmap still succeeds.
 */
struct slow_cb {
	atomic_int in_cb;
	atomic_uint calls;
	atomic_bool overlap; /* two callbacks ran at once */
};

static void slow_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct slow_cb *c = data;

	(void)iova;
	(void)length;
	if (atomic_fetch_add(&c->in_cb, 1))
		atomic_store(&c->overlap, true);
	atomic_fetch_add(&c->calls, 1);
	usleep(50 * 1000);
	atomic_fetch_sub(&c->in_cb, 1);
}

static const struct iommufd_access_ops slow_ops = {.unmap = slow_unmap};

struct unmap_job {
	struct fx *f;
	uint32_t ioas;
	int rc;
};

static void *unmap_thread(void *arg)
{
	struct unmap_job *j = arg;

	j->rc = unmap(j->f, j->ioas, 0x100000, 4 * j->f->pg, NULL);
	return NULL;
}

static void test_destroy_during_notify(void **state)
{
	struct fx *f = *state;
	struct unmap_job job = {.f = f, .ioas = ioas_alloc(f)};
	struct slow_cb cb = {0};
	struct iommufd_access *slow;
	void *pages[1];
	pthread_t t;
	uint32_t id;

	assert_int_equal(map(f, job.ioas, RW, f->buf, 4 * f->pg, 0x100000), 0);
	drv_create(f, &pin_ops);
	assert_int_equal(iommufd_access_attach(f->drv.access, job.ioas), 0);
	assert_int_equal(
		iommufd_access_create(f->ictx, &slow_ops, &cb, &id, &slow), 0);
	assert_int_equal(iommufd_access_attach(slow, job.ioas), 0);
	assert_int_equal(drv_pin(f, 0x100000, f->pg, pages, 0), 0);

	assert_int_equal(pthread_create(&t, NULL, unmap_thread, &job), 0);
	while (!atomic_load(&cb.in_cb))
		sched_yield();
	iommufd_access_destroy(slow);
	/* both callbacks (the unmap's, then the detach's) are over */
	assert_int_equal(atomic_load(&cb.in_cb), 0);
	assert_int_equal(atomic_load(&cb.calls), 2);
	assert_false(atomic_load(&cb.overlap));
	pthread_join(t, NULL);
	assert_int_equal(job.rc, 0);
	assert_int_equal(user_locked(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_alignment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_errnos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_pages_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_accounting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_with_domain_dma, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rw_errnos, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmap_notify, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy_and_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_destroy_during_notify,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrency, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
