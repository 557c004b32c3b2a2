// SPDX-License-Identifier: MIT
/*
 * `softiommu exec --selftest` as the kernel's selftests use it: a user
 * program (libc and the ABI headers only) sees IOMMU_TEST_CMD on
 * /dev/iommu, in the process and in a forked child (the kselftest
 * harness runs every test in one); under a plain `softiommu exec` the
 * command is ENOTTY, as on a kernel without CONFIG_IOMMUFD_TEST, even
 * with SOFTIOMMU_SELFTEST=1 inherited (meson sets it for that run).
 *
 * argv[1]: "on" or "off", the mode the run expects.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/iommufd_test_abi.h"

static int mode_on;

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static uint32_t ioas_alloc(int fd)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(xioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

/* A mock device on a new IOAS, a page mapped, its pin counted. */
static int mock_device_cycle(void)
{
	int fd = open("/dev/iommu", O_RDWR);
	long pg = sysconf(_SC_PAGESIZE);
	void *buf = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct sio_iommu_test_cmd c = {.size = sizeof(c),
				       .op = SIO_TEST_OP_MOCK_DOMAIN};
	int rc;

	if (fd < 0 || buf == MAP_FAILED)
		return -EBADF;
	c.id = ioas_alloc(fd);
	rc = xioctl(fd, SIO_IOMMU_TEST_CMD, &c);
	if (!rc) {
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
				 SIO_IOMMU_IOAS_MAP_READABLE,
			.ioas_id = c.id,
			.user_va = (uint64_t)(uintptr_t)buf,
			.length = (uint64_t)pg,
			.iova = 1ull << 24,
		};
		struct sio_iommu_test_cmd r = {
			.size = sizeof(r),
			.op = SIO_TEST_OP_MD_CHECK_REFS,
			.check_refs = {(uint64_t)pg, (uint64_t)(uintptr_t)buf,
				       1},
		};

		rc = xioctl(fd, SIO_IOMMU_IOAS_MAP, &m);
		if (!rc)
			rc = xioctl(fd, SIO_IOMMU_TEST_CMD, &r);
	}
	close(fd);
	munmap(buf, pg);
	return rc;
}

static void test_in_process(void **state)
{
	(void)state;
	assert_int_equal(mock_device_cycle(), mode_on ? 0 : -ENOTTY);
}

static void test_in_forked_child(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(mock_device_cycle() == (mode_on ? 0 : -ENOTTY) ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* struct iommu_viommu_selftest */
struct viommu_data {
	uint32_t in_data, out_data;
	uint64_t out_mmap_offset, out_mmap_length;
};

/*
 * A new mock vIOMMU on (@dev_id, @hwpt) with @in_data, its page mapped
 * read-only; its id in *@id and the page's length in *@len.
 */
static uint32_t *viommu_page(int fd, uint32_t dev_id, uint32_t hwpt,
			     uint32_t in_data, uint32_t *id, size_t *len)
{
	struct viommu_data d = {.in_data = in_data};
	struct sio_iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = 0xdeadbeef, /* IOMMU_VIOMMU_TYPE_SELFTEST */
		.dev_id = dev_id,
		.hwpt_id = hwpt,
		.data_len = sizeof(d),
		.data_uptr = (uint64_t)(uintptr_t)&d,
	};
	uint32_t *page;

	assert_int_equal(xioctl(fd, SIO_IOMMU_VIOMMU_ALLOC, &va), 0);
	page = mmap(NULL, d.out_mmap_length, PROT_READ, MAP_SHARED, fd,
		    (off_t)d.out_mmap_offset);
	assert_true(page != MAP_FAILED);
	*id = va.out_viommu_id;
	*len = d.out_mmap_length;
	return page;
}

/*
 * A mapping put over a vIOMMU page with MAP_FIXED unmaps the page first,
 * as munmap() would: its hold goes with it (the kernel's vma close).
 */
static void fixed_map_releases_page(int fd, uint32_t dev_id, uint32_t hwpt)
{
	struct sio_iommu_destroy del = {.size = sizeof(del)};
	size_t len;
	void *page = viommu_page(fd, dev_id, hwpt, 0xf00d, &del.id, &len);
	void *anon;

	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	anon = mmap(page, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	assert_ptr_equal(anon, page);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);
	assert_int_equal(munmap(anon, len), 0);
}

/*
 * mremap() of a vIOMMU page, which the kernel maps as a VM_PFNMAP |
 * VM_DONTEXPAND vma: growth (a duplicate with old size 0 too) is EFAULT
 * and MREMAP_DONTUNMAP EINVAL, each leaving it mapped and held.  Moved
 * whole, the hold goes with it to the new address's munmap; shrunk, the
 * rest holds it; a piece moved away holds it too, as the vma the kernel
 * splits off.  A page that a fixed mremap() lands on is unmapped first,
 * its hold with it.
 */
static void mremap_of_page(int fd, uint32_t dev_id, uint32_t hwpt)
{
	struct sio_iommu_destroy del = {.size = sizeof(del)};
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len;
	uint32_t *page = viommu_page(fd, dev_id, hwpt, 0xd00d, &del.id, &len);
	char *spot, *moved;

	assert_true(len >= 2 * pg);
	errno = 0;
	assert_true(mremap(page, len, len + pg, MREMAP_MAYMOVE) == MAP_FAILED);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_true(mremap(page, 0, len, MREMAP_MAYMOVE) == MAP_FAILED);
	assert_int_equal(errno, EFAULT);
	errno = 0;
	assert_true(mremap(page, len, len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(*page, 0xd00d);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);

	/* moved whole to a fixed spot: held there, let go by its munmap */
	spot = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(spot != MAP_FAILED);
	moved = mremap(page, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, spot);
	assert_ptr_equal(moved, spot);
	assert_int_equal(*(uint32_t *)moved, 0xd00d);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	assert_int_equal(munmap(moved, len), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);

	/* shrunk in place: what is left still holds it */
	page = viommu_page(fd, dev_id, hwpt, 0xd00e, &del.id, &len);
	assert_ptr_equal(mremap(page, len, pg, 0), page);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	assert_int_equal(munmap(page, pg), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);

	/* its second page moved away: each piece holds it */
	page = viommu_page(fd, dev_id, hwpt, 0xd00f, &del.id, &len);
	spot = mmap(NULL, pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(spot != MAP_FAILED);
	moved = mremap((char *)page + pg, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED,
		       spot);
	assert_ptr_equal(moved, spot);
	assert_int_equal(munmap(page, pg), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	assert_int_equal(munmap(moved, pg), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);

	/* another mapping moved onto a page unmaps it */
	page = viommu_page(fd, dev_id, hwpt, 0xd010, &del.id, &len);
	spot = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(spot != MAP_FAILED);
	moved = mremap(spot, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, page);
	assert_ptr_equal(moved, page);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);
	assert_int_equal(munmap(moved, len), 0);
}

/*
 * A fork child that unmaps a vIOMMU page it inherited only unmaps it
 * (and may not grow it, as the vma the kernel copies).
 * The hold belongs to the parent's context, which the child must leave
 * alone, even when the mapping is all that still holds the parent's
 * file (@fd is closed here before the fork); the parent's hold stays
 * until its own munmap, which is what lets the file go.
 */
static void fork_unmaps_iommufd_page(int fd, uint32_t dev_id, uint32_t hwpt)
{
	uint32_t id;
	size_t len;
	uint32_t *page = viommu_page(fd, dev_id, hwpt, 0xcafe, &id, &len);
	int status;
	pid_t pid;

	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		alarm(20);
		/* its copy is the kernel's copied vma still: no growth */
		if (mremap(page, len, 2 * len, MREMAP_MAYMOVE) != MAP_FAILED ||
		    errno != EFAULT)
			_exit(2);
		_exit(munmap(page, len) ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(*page, 0xcafe);
	assert_int_equal(munmap(page, len), 0);
}

/*
 * mmap() of /dev/iommu: the mock vIOMMU's page at the offset its driver
 * data gave, exactly (ENXIO otherwise), shared only, held until munmap;
 * a dma-buf's fd is the ioctl's result.
 */
static void test_iommufd_mmap_and_dmabuf(void **state)
{
	int fd = open("/dev/iommu", O_RDWR);
	long pg = sysconf(_SC_PAGESIZE);
	struct sio_iommu_test_cmd c = {.size = sizeof(c),
				       .op = SIO_TEST_OP_MOCK_DOMAIN};
	struct viommu_data d = {.in_data = 0xbeef};
	struct sio_iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct sio_iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = 0xdeadbeef, /* IOMMU_VIOMMU_TYPE_SELFTEST */
		.data_len = sizeof(d),
		.data_uptr = (uint64_t)(uintptr_t)&d,
	};
	struct sio_iommu_destroy del = {.size = sizeof(del)};
	uint32_t *page;
	int dfd;

	(void)state;
	assert_true(fd >= 0);
	/* without the mode there is no mock to give a page */
	if (!mode_on) {
		close(fd);
		return;
	}
	c.id = ioas_alloc(fd);
	assert_int_equal(xioctl(fd, SIO_IOMMU_TEST_CMD, &c), 0);
	h.dev_id = c.mock_domain.out_idev_id;
	h.pt_id = c.id;
	assert_int_equal(xioctl(fd, SIO_IOMMU_HWPT_ALLOC, &h), 0);
	va.dev_id = h.dev_id;
	va.hwpt_id = h.out_hwpt_id;
	assert_int_equal(xioctl(fd, SIO_IOMMU_VIOMMU_ALLOC, &va), 0);
	assert_int_equal(d.out_data, 0xbeef);

	errno = 0;
	assert_true(mmap(NULL, d.out_mmap_length, PROT_READ, MAP_SHARED, fd,
			 (off_t)(d.out_mmap_offset + pg)) == MAP_FAILED);
	assert_int_equal(errno, ENXIO);
	assert_true(mmap(NULL, d.out_mmap_length, PROT_READ, MAP_PRIVATE, fd,
			 (off_t)d.out_mmap_offset) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	page = mmap(NULL, d.out_mmap_length, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, (off_t)d.out_mmap_offset);
	assert_true(page != MAP_FAILED);
	assert_int_equal(*page, 0xbeef);
	del.id = va.out_viommu_id;
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	/* a part of it unmapped still holds it */
	assert_int_equal(munmap(page, (size_t)pg), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), -EBUSY);
	assert_int_equal(munmap((char *)page + pg, d.out_mmap_length - pg), 0);
	assert_int_equal(xioctl(fd, SIO_IOMMU_DESTROY, &del), 0);

	c.op = SIO_TEST_OP_DMABUF_GET;
	c.dmabuf_get.length = (uint32_t)pg;
	c.dmabuf_get.open_flags = O_CLOEXEC;
	dfd = ioctl(fd, SIO_IOMMU_TEST_CMD, &c);
	assert_true(dfd > fd);
	assert_true(fcntl(dfd, F_GETFD) & FD_CLOEXEC);
	close(dfd);
	fixed_map_releases_page(fd, h.dev_id, h.out_hwpt_id);
	mremap_of_page(fd, h.dev_id, h.out_hwpt_id);
	fork_unmaps_iommufd_page(fd, h.dev_id, h.out_hwpt_id);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_process),
		cmocka_unit_test(test_in_forked_child),
		cmocka_unit_test(test_iommufd_mmap_and_dmabuf),
	};

	mode_on = argc > 1 && !strcmp(argv[1], "on");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
