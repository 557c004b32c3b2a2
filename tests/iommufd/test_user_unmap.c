// SPDX-License-Identifier: MIT
/*
 * The program's memory going from under its DMA mappings
 * (sio_platform_user_unmap, which the interposer calls for munmap,
 * mremap, mmap MAP_FIXED, madvise DONTNEED and mprotect): the pages taken
 * away stop being reachable by any device (the DMA ends in -EIO, a target
 * abort, not a translation fault: the IOMMU still translates), what the
 * program kept keeps working, a later pin (a device attached afterwards)
 * registers only what is left, and the IOAS mapping still unmaps with
 * its accounting intact.  A DMA racing the unmap never faults the
 * process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define PAGES 8
#define IOVA  0x400000ull

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev[2];
	struct iommufd_device *idev[2];
	uint32_t dev_id[2];
	uint32_t ioas;
	uint64_t pg;
	uint8_t *buf;
	size_t regs_before;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	const char *bdf[2] = {"0000:00:04.0", "0000:00:04.1"};

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	for (int i = 0; i < 2; i++) {
		f->pdev[i] = platform_find_device(f->plat, bdf[i]);
		assert_non_null(f->pdev[i]);
		assert_int_equal(
			iommufd_device_bind(f->fd->ictx, &f->pdev[i]->desc,
					    &f->dev_id[i], &f->idev[i]),
			0);
	}
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	f->ioas = a.out_ioas_id;
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, PAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	sio_mem_bus_counts(sio_platform_bus(f->plat), &f->regs_before, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct sio_pin_stats st;
	size_t regs;

	for (int i = 0; i < 2; i++)
		iommufd_device_unbind(f->idev[i]);
	sio_iommufd_close(f->fd);
	/* every pin released, the bus as before */
	sio_platform_pin_stats(f->plat, &st);
	assert_true(st.user_locked == 0 && st.mm_locked == 0 &&
		    st.mm_pinned == 0);
	sio_mem_bus_counts(sio_platform_bus(f->plat), &regs, NULL);
	assert_true(regs <= f->regs_before);
	sio_platform_destroy(f->plat);
	munmap(f->buf, PAGES * f->pg);
	free(f);
	return 0;
}

static int map_all(struct fx *f, uint32_t flags)
{
	struct sio_iommu_ioas_map c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA | flags,
		.ioas_id = f->ioas,
		.user_va = (uint64_t)(uintptr_t)f->buf,
		.length = PAGES * f->pg,
		.iova = IOVA,
	};

	return sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_MAP, &c);
}

static int unmap_all(struct fx *f)
{
	struct sio_iommu_ioas_unmap c = {.size = sizeof(c),
					 .ioas_id = f->ioas,
					 .iova = IOVA,
					 .length = PAGES * f->pg};

	return sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_UNMAP, &c);
}

static void attach(struct fx *f, int dev)
{
	uint32_t pt = f->ioas;

	assert_int_equal(iommufd_device_attach(f->idev[dev], &pt), 0);
}

/* Device @dev writes one byte @v at page @page, offset 9. */
static int dma_poke(struct fx *f, int dev, unsigned int page, uint8_t v)
{
	struct sio_smmu_txn txn = {.sid = f->pdev[dev]->sid,
				   .addr = IOVA + page * f->pg + 9,
				   .attr = SIO_SMMU_WRITE};
	size_t done;

	return sio_smmu_dma(sio_platform_smmu(f->plat), &txn, &v, 1, &done);
}

static int dma_peek(struct fx *f, int dev, unsigned int page, uint8_t *v)
{
	struct sio_smmu_txn txn = {.sid = f->pdev[dev]->sid,
				   .addr = IOVA + page * f->pg + 9};
	size_t done;

	return sio_smmu_dma(sio_platform_smmu(f->plat), &txn, v, 1, &done);
}

/* Take pages [first, first + n) from the program, and put others there. */
static void replace_pages(struct fx *f, unsigned int first, unsigned int n)
{
	uint8_t *at = f->buf + first * f->pg;

	sio_platform_user_unmap(f->plat, at, n * f->pg);
	assert_int_equal(munmap(at, n * f->pg), 0);
	assert_true(mmap(at, n * f->pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == at);
	memset(at, 0xa5, n * f->pg);
}

static void test_middle_pages_go(void **state)
{
	struct fx *f = *state;
	uint8_t v;

	assert_int_equal(map_all(f, SIO_IOMMU_IOAS_MAP_READABLE |
					    SIO_IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	attach(f, 0);
	for (unsigned int p = 0; p < PAGES; p++)
		assert_int_equal(dma_poke(f, 0, p, (uint8_t)(p + 1)), 0);
	replace_pages(f, 2, 3);
	for (unsigned int p = 0; p < PAGES; p++) {
		bool gone = p >= 2 && p < 5;

		assert_int_equal(dma_poke(f, 0, p, 0x77), gone ? -EIO : 0);
		assert_int_equal(dma_peek(f, 0, p, &v), gone ? -EIO : 0);
		if (!gone)
			assert_int_equal(f->buf[p * f->pg + 9], 0x77);
		else
			assert_int_equal(f->buf[p * f->pg + 9], 0xa5);
	}
	/* a device attached now pins what is left, and only that */
	attach(f, 1);
	assert_int_equal(dma_poke(f, 1, 1, 0x31), 0);
	assert_int_equal(f->buf[f->pg + 9], 0x31);
	assert_int_equal(dma_poke(f, 1, 3, 0x31), -EIO);
	assert_int_equal(f->buf[3 * f->pg + 9], 0xa5);
	/* more of it goes, adjoining what went: the rest still works */
	replace_pages(f, 5, 1);
	assert_int_equal(dma_poke(f, 1, 5, 0x32), -EIO);
	assert_int_equal(dma_poke(f, 0, 6, 0x32), 0);
	assert_int_equal(dma_poke(f, 1, 0, 0x32), 0);
	assert_int_equal(unmap_all(f), 0);
	assert_int_equal(dma_poke(f, 0, 0, 0x33), -EFAULT);
	assert_int_equal(f->buf[9], 0x32);
}

/* Gone before any device pinned it: the first pin skips it. */
static void test_gone_before_pinned(void **state)
{
	struct fx *f = *state;

	assert_int_equal(map_all(f, SIO_IOMMU_IOAS_MAP_READABLE |
					    SIO_IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	replace_pages(f, 0, 1);
	replace_pages(f, PAGES - 1, 1);
	attach(f, 0);
	assert_int_equal(dma_poke(f, 0, 0, 1), -EIO);
	assert_int_equal(dma_poke(f, 0, PAGES - 1, 1), -EIO);
	assert_int_equal(dma_poke(f, 0, 1, 1), 0);
	assert_int_equal(dma_poke(f, 0, PAGES - 2, 1), 0);
	assert_int_equal(f->buf[9], 0xa5);
	assert_int_equal(unmap_all(f), 0);
}

/* Taking write access away spares read-only mappings. */
static void test_unwrite(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_map ro = {
		.size = sizeof(ro),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE,
		.ioas_id = f->ioas,
		.user_va = (uint64_t)(uintptr_t)f->buf,
		.length = f->pg,
		.iova = IOVA + PAGES * f->pg,
	};
	struct sio_smmu_txn txn = {.sid = f->pdev[0]->sid,
				   .addr = IOVA + PAGES * f->pg + 9};
	uint8_t v = 0;
	size_t done;

	assert_int_equal(map_all(f, SIO_IOMMU_IOAS_MAP_READABLE |
					    SIO_IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	assert_int_equal(sio_iommufd_ioctl(f->fd, SIO_IOMMU_IOAS_MAP, &ro), 0);
	attach(f, 0);
	assert_int_equal(dma_poke(f, 0, 0, 0x42), 0);
	sio_platform_user_unwrite(f->plat, f->buf, f->pg);
	assert_int_equal(mprotect(f->buf, f->pg, PROT_READ), 0);
	assert_int_equal(dma_poke(f, 0, 0, 0x43), -EIO);
	assert_int_equal(sio_smmu_dma(sio_platform_smmu(f->plat), &txn, &v, 1,
				      &done),
			 0);
	assert_int_equal(v, 0x42);
	assert_int_equal(mprotect(f->buf, f->pg, PROT_READ | PROT_WRITE), 0);
	assert_int_equal(unmap_all(f), 0);
}

static void access_unmap(void *data, uint64_t iova, uint64_t length)
{
	(void)data;
	(void)iova;
	(void)length;
}

/*
 * An access (an emulated device's CPU path) neither pins nor copies
 * through what the program took away; the rest of the mapping it still
 * reaches.
 */
static void test_access_after_unmap(void **state)
{
	static const struct iommufd_access_ops ops = {.needs_pin_pages = true,
						      .unmap = access_unmap};
	struct fx *f = *state;
	struct iommufd_access *acc;
	void *pages[2];
	uint8_t v = 0x6b;
	uint32_t id;

	assert_int_equal(map_all(f, SIO_IOMMU_IOAS_MAP_READABLE |
					    SIO_IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	assert_int_equal(
		iommufd_access_create(f->fd->ictx, &ops, NULL, &id, &acc), 0);
	assert_int_equal(iommufd_access_attach(acc, f->ioas), 0);
	replace_pages(f, 2, 1);
	assert_int_equal(iommufd_access_pin_pages(acc, IOVA + f->pg, 2 * f->pg,
						  pages,
						  IOMMUFD_ACCESS_RW_WRITE),
			 -EFAULT);
	assert_int_equal(iommufd_access_rw(acc, IOVA + 2 * f->pg + 9, &v, 1,
					   IOMMUFD_ACCESS_RW_WRITE),
			 -EFAULT);
	assert_int_equal(f->buf[2 * f->pg + 9], 0xa5);
	assert_int_equal(iommufd_access_rw(acc, IOVA + 3 * f->pg + 9, &v, 1,
					   IOMMUFD_ACCESS_RW_WRITE),
			 0);
	assert_int_equal(f->buf[3 * f->pg + 9], 0x6b);
	assert_int_equal(iommufd_access_pin_pages(acc, IOVA + 3 * f->pg, f->pg,
						  pages, 0),
			 0);
	assert_true(pages[0] == f->buf + 3 * f->pg);
	iommufd_access_unpin_pages(acc, IOVA + 3 * f->pg, f->pg);
	iommufd_access_destroy(acc);
	assert_int_equal(unmap_all(f), 0);
}

struct racer {
	struct fx *f;
	atomic_bool stop;
	atomic_bool gone; /* set once user_unmap returned */
	unsigned long after_ok, bad;
};

static void *dma_loop(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(&r->stop)) {
		bool gone = atomic_load(&r->gone);
		int rc = dma_poke(r->f, 0, 3, 0x5c);

		/* counted, not asserted: cmocka asserts on the main thread */
		if (rc != 0 && rc != -EIO)
			r->bad++;
		if (gone && rc == 0)
			r->after_ok++;
	}
	return NULL;
}

/*
 * A device keeps writing into the page while the program unmaps it: no
 * write lands once user_unmap returned (the munmap that follows would
 * otherwise turn one into a fault of the process), none crashes.
 */
static void test_unmap_racing_dma(void **state)
{
	struct fx *f = *state;
	struct racer r = {.f = f};
	pthread_t t;

	assert_int_equal(map_all(f, SIO_IOMMU_IOAS_MAP_READABLE |
					    SIO_IOMMU_IOAS_MAP_WRITEABLE),
			 0);
	attach(f, 0);
	assert_int_equal(pthread_create(&t, NULL, dma_loop, &r), 0);
	usleep(2000);
	sio_platform_user_unmap(f->plat, f->buf + 3 * f->pg, f->pg);
	atomic_store(&r.gone, true);
	assert_int_equal(munmap(f->buf + 3 * f->pg, f->pg), 0);
	usleep(2000);
	atomic_store(&r.stop, true);
	pthread_join(t, NULL);
	assert_int_equal(r.after_ok, 0);
	assert_int_equal(r.bad, 0);
	assert_true(mmap(f->buf + 3 * f->pg, f->pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) == f->buf + 3 * f->pg);
	assert_int_equal(unmap_all(f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_middle_pages_go, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gone_before_pinned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unwrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_after_unmap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmap_racing_dma, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
