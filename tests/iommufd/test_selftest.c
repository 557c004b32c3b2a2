// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD on a selftest-mode context, as the kernel's selftest
 * driver (drivers/iommu/iommufd/selftest.c, iommufd_test.h) answers it:
 * only such a context knows the command (ENOTTY elsewhere); the size
 * rules of every iommufd command; each op's result and errnos; mock
 * devices bound and attached through iommufd's own device paths.
 *
 * Expected values come from the kernel: the struct's 72 bytes and minimum
 * of 68 (offsetofend(last)), the mock's aperture and 2 KiB page, the
 * 0xbaddad / IOTLB defaults, -EOPNOTSUPP for an unknown op, -EIO for a
 * wrong pin count, -EINVAL for a mismatching page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/iommufd_test_abi.h"

#define APERTURE (1ull << 24)
/* MOCK_FLAGS_DEVICE_PASID */
#define MOCK_DEV_PASID_FLAG (1u << 2)
#define NPAGES		    8

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	uint32_t ioas;
	uint64_t pg;
	uint8_t *buf;
};

static int do_ioctl(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static int test_cmd(struct fx *f, struct sio_iommu_test_cmd *c)
{
	c->size = sizeof(*c);
	return do_ioctl(f, SIO_IOMMU_TEST_CMD, c);
}

static uint32_t ioas_alloc(struct fx *f)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_platform_enable_selftest(f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->ioas = ioas_alloc(f);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, NPAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	/* objects left behind (stdevs too) go with the context */
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->buf, NPAGES * f->pg);
	free(f);
	return 0;
}

struct mock {
	uint32_t stdev, hwpt, idev;
};

static int mock_domain(struct fx *f, uint32_t pt, uint32_t flags,
		       struct mock *out)
{
	struct sio_iommu_test_cmd c = {
		.op = flags ? SIO_TEST_OP_MOCK_DOMAIN_FLAGS
			    : SIO_TEST_OP_MOCK_DOMAIN,
		.id = pt,
		.mock_domain = {.dev_flags = flags},
	};
	int rc = test_cmd(f, &c);

	if (!rc && out)
		*out = (struct mock){c.mock_domain.out_stdev_id,
				     c.mock_domain.out_hwpt_id,
				     c.mock_domain.out_idev_id};
	return rc;
}

static int map_fixed(struct fx *f, void *p, uint64_t len, uint64_t iova)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.user_va = (uint64_t)(uintptr_t)p,
		.length = len,
		.iova = iova,
	};

	return do_ioctl(f, SIO_IOMMU_IOAS_MAP, &m);
}

static int destroy(struct fx *f, uint32_t id)
{
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = id};

	return do_ioctl(f, SIO_IOMMU_DESTROY, &d);
}

static int check_map(struct fx *f, uint32_t hwpt, uint64_t iova, uint64_t len,
		     void *p)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = {iova, len, (uint64_t)(uintptr_t)p},
	};

	return test_cmd(f, &c);
}

static int check_refs(struct fx *f, void *p, uint64_t len, uint32_t refs)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_MD_CHECK_REFS,
		.check_refs = {len, (uint64_t)(uintptr_t)p, refs},
	};

	return test_cmd(f, &c);
}

static void test_only_in_selftest_mode(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_test_cmd c = {.size = sizeof(c),
				       .op = SIO_TEST_OP_MOCK_DOMAIN,
				       .id = f->ioas};
	struct sio_platform *plain;
	struct sio_iommufd *fd;

	assert_int_equal(sio_platform_create(&plain), 0);
	assert_int_equal(sio_iommufd_open(plain, &fd), 0);
	assert_int_equal(sio_iommufd_ioctl(fd, SIO_IOMMU_TEST_CMD, &c),
			 -ENOTTY);
	sio_iommufd_close(fd);
	sio_platform_destroy(plain);
}

static void test_size_rules(void **state)
{
	struct fx *f = *state;
	struct {
		struct sio_iommu_test_cmd c;
		uint64_t extra;
	} big = {{.op = SIO_TEST_OP_SET_TEMP_MEMORY_LIMIT}, 1};

	big.c.size = 67; /* below offsetofend(last) */
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, &big), -EINVAL);
	big.c.size = 68;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, &big), 0);
	big.c.size = sizeof(big);
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, &big), -E2BIG);
	big.extra = 0;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, &big), 0);
	big.c.op = 99;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, &big), -EOPNOTSUPP);
	assert_int_equal(do_ioctl(f, SIO_IOMMU_TEST_CMD, NULL), -EFAULT);
}

static void test_mock_domain(void **state)
{
	struct fx *f = *state;
	struct mock a, b;

	assert_int_equal(mock_domain(f, 1000, 0, NULL), -ENOENT);
	assert_int_equal(mock_domain(f, f->ioas, 1u << 1, NULL), -EINVAL);
	assert_int_equal(mock_domain(f, f->ioas, 0, &a), 0);
	assert_true(a.stdev && a.hwpt && a.idev);
	assert_true(a.stdev != a.hwpt && a.hwpt != a.idev);
	/* a second device on the first one's HWPT */
	assert_int_equal(mock_domain(f, a.hwpt, 0, &b), 0);
	assert_int_equal(b.hwpt, a.hwpt);
	/* the binding holds the device; the HWPT holds the IOAS */
	assert_int_equal(destroy(f, a.idev), -EBUSY);
	assert_int_equal(destroy(f, f->ioas), -EBUSY);
	assert_int_equal(destroy(f, a.stdev), 0);
	assert_int_equal(destroy(f, a.idev), -ENOENT);
	assert_int_equal(destroy(f, b.stdev), 0);
	/* the automatic domain went with its last device */
	assert_int_equal(destroy(f, a.hwpt), -ENOENT);
	assert_int_equal(destroy(f, f->ioas), 0);
}

static void test_check_map_and_refs(void **state)
{
	struct fx *f = *state;
	uint64_t len = 4 * f->pg;
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	assert_int_equal(check_refs(f, f->buf, len, 0), 0);
	assert_int_equal(map_fixed(f, f->buf, len, APERTURE), 0);
	assert_int_equal(check_map(f, m.hwpt, APERTURE, len, f->buf), 0);
	assert_int_equal(check_refs(f, f->buf, len, 1), 0);
	assert_int_equal(check_refs(f, f->buf, len, 2), -EIO);
	/* another page, unaligned arguments, not a mock HWPT */
	assert_int_equal(check_map(f, m.hwpt, APERTURE, len, f->buf + f->pg),
			 -EINVAL);
	assert_int_equal(check_map(f, m.hwpt, APERTURE + 1024, 2048, f->buf),
			 -EINVAL);
	assert_int_equal(check_map(f, f->ioas, APERTURE, len, f->buf), -ENOENT);
	assert_int_equal(check_refs(f, f->buf + 1, f->pg, 1), -EINVAL);
	/* nothing mapped past the area */
	assert_int_equal(check_map(f, m.hwpt, APERTURE + len, 2048, f->buf),
			 -EINVAL);
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = f->ioas,
					 .iova = APERTURE,
					 .length = len};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_UNMAP, &u), 0);
	assert_int_equal(check_refs(f, f->buf, len, 0), 0);
	assert_int_equal(check_map(f, m.hwpt, APERTURE, 2048, f->buf), -EINVAL);
}

static void test_add_reserved(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_ADD_RESERVED,
				       .id = f->ioas,
				       .add_reserved = {APERTURE, f->pg}};

	assert_int_equal(test_cmd(f, &c), 0);
	/* iopt_check_iova(): a reserved IOVA is -EINVAL */
	assert_int_equal(map_fixed(f, f->buf, f->pg, APERTURE), -EINVAL);
	assert_int_equal(map_fixed(f, f->buf, f->pg, APERTURE + f->pg), 0);
	c.id = 1000;
	assert_int_equal(test_cmd(f, &c), -ENOENT);
}

/*
 * ADD_RESERVED of an empty range is -EINVAL, of one that wraps past the
 * end of the IOVA space -EOVERFLOW (the kernel's check, before the IOAS
 * is looked up); neither reserves anything. A range ending at the last
 * IOVA is fine.
 */
static void test_add_reserved_bad_range(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_ADD_RESERVED,
				       .id = f->ioas,
				       .add_reserved = {APERTURE, 0}};

	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.add_reserved.start = UINT64_MAX - f->pg + 2;
	c.add_reserved.length = f->pg;
	assert_int_equal(test_cmd(f, &c), -EOVERFLOW);
	c.add_reserved.start = APERTURE + f->pg;
	c.add_reserved.length = UINT64_MAX;
	assert_int_equal(test_cmd(f, &c), -EOVERFLOW);
	c.id = 1000;
	c.add_reserved.length = 0;
	assert_int_equal(test_cmd(f, &c), -EINVAL);

	/* nothing was reserved */
	assert_int_equal(map_fixed(f, f->buf, 2 * f->pg, APERTURE), 0);

	c.id = f->ioas;
	c.add_reserved.start = UINT64_MAX - f->pg + 1;
	c.add_reserved.length = f->pg;
	assert_int_equal(test_cmd(f, &c), 0);
	assert_int_equal(map_fixed(f, f->buf, f->pg, APERTURE + 2 * f->pg), 0);
}

static void test_dev_cache_and_flags(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_DEV_CHECK_CACHE};
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	c.id = m.idev;
	for (uint32_t i = 0; i < 4; i++) {
		c.check_dev_cache.id = i;
		c.check_dev_cache.cache = 0xbaddad;
		assert_int_equal(test_cmd(f, &c), 0);
	}
	c.check_dev_cache.cache = 0;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.check_dev_cache.id = 4;
	c.check_dev_cache.cache = 0xbaddad;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.id = m.stdev; /* not a device */
	c.check_dev_cache.id = 0;
	assert_int_equal(test_cmd(f, &c), -ENOENT);
	/* a vEVENT needs a vIOMMU's nested domain */
	c = (struct sio_iommu_test_cmd){.op = SIO_TEST_OP_TRIGGER_VEVENT,
					.trigger_vevent = {m.idev}};
	assert_int_equal(test_cmd(f, &c), -ENOENT);
}

static void test_replace(void **state)
{
	struct fx *f = *state;
	uint32_t ioas2 = ioas_alloc(f);
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_MOCK_DOMAIN_REPLACE};
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	c.id = m.stdev;
	c.mock_domain_replace.pt_id = ioas2;
	assert_int_equal(test_cmd(f, &c), 0);
	assert_true(c.mock_domain_replace.pt_id != ioas2);
	assert_true(c.mock_domain_replace.pt_id != m.hwpt);
	/* the old automatic domain is gone with its last user */
	assert_int_equal(destroy(f, m.hwpt), -ENOENT);
	assert_int_equal(destroy(f, f->ioas), 0);
	c.id = m.idev; /* not a selftest object */
	assert_int_equal(test_cmd(f, &c), -ENOENT);
}

static void test_dirty(void **state)
{
	struct fx *f = *state;
	uint64_t bitmap = 0, bits = 0x5;
	struct sio_iommu_hwpt_alloc a = {.size = sizeof(a),
					 .flags = 1u << 1, /* DIRTY_TRACKING */
					 .pt_id = f->ioas};
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_DIRTY,
		.dirty = {.iova = APERTURE,
			  .length = 4 * 2048,
			  .page_size = 2048,
			  .uptr = (uint64_t)(uintptr_t)&bits},
	};
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	a.dev_id = m.idev;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &a), 0);
	assert_int_equal(map_fixed(f, f->buf, 2 * f->pg, APERTURE), 0);
	c.id = a.out_hwpt_id;
	/* tracking off: the kernel's mock refuses */
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	struct sio_iommu_hwpt_set_dirty_tracking t = {
		.size = sizeof(t), .flags = 1, .hwpt_id = a.out_hwpt_id};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING, &t), 0);
	assert_int_equal(test_cmd(f, &c), 0);
	assert_int_equal(c.dirty.out_nr_dirty, 2);
	struct sio_iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = a.out_hwpt_id,
		.iova = APERTURE,
		.length = 4 * 2048,
		.page_size = 2048,
		.data = (uint64_t)(uintptr_t)&bitmap};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &g), 0);
	assert_int_equal(bitmap, 0x5);
	/* argument checks, the automatic (non-dirty) domain */
	c.dirty.page_size = 0;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.dirty.page_size = 2048;
	c.dirty.uptr = 0;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.dirty.uptr = (uint64_t)(uintptr_t)&bits;
	c.id = m.hwpt;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	assert_int_equal(destroy(f, m.stdev), 0);
}

static void test_nested_iotlb(void **state)
{
	struct fx *f = *state;
	uint32_t data[2] = {0xbadbeef, 0}, inv[2] = {0, 2};
	struct sio_iommu_hwpt_alloc p = {.size = sizeof(p),
					 .flags = 1u << 0, /* NEST_PARENT */
					 .pt_id = f->ioas};
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_MD_CHECK_IOTLB};
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	p.dev_id = m.idev;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &p), 0);
	struct sio_iommu_hwpt_alloc n = {
		.size = sizeof(n),
		.dev_id = m.idev,
		.pt_id = p.out_hwpt_id,
		.data_type = 0xdead,
		.data_len = sizeof(data),
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &n), 0);
	c.id = n.out_hwpt_id;
	c.check_iotlb.id = 2;
	c.check_iotlb.iotlb = 0xbadbeef;
	assert_int_equal(test_cmd(f, &c), 0);
	struct sio_iommu_hwpt_invalidate i = {
		.size = sizeof(i),
		.hwpt_id = n.out_hwpt_id,
		.data_uptr = (uint64_t)(uintptr_t)inv,
		.data_type = 0xdeadbeef,
		.entry_len = sizeof(inv),
		.entry_num = 1,
	};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_INVALIDATE, &i), 0);
	assert_int_equal(i.entry_num, 1);
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	c.check_iotlb.iotlb = 0;
	assert_int_equal(test_cmd(f, &c), 0);
	c.check_iotlb.id = 4;
	assert_int_equal(test_cmd(f, &c), -EINVAL);
	/* a paging HWPT is no nested one */
	c.id = p.out_hwpt_id;
	c.check_iotlb.id = 0;
	assert_int_equal(test_cmd(f, &c), -ENOENT);
	/* the nested HWPT holds its parent */
	assert_int_equal(destroy(f, p.out_hwpt_id), -EBUSY);
	assert_int_equal(destroy(f, n.out_hwpt_id), 0);
	assert_int_equal(destroy(f, p.out_hwpt_id), 0);
}

/* A file host as the interposer is one: fd numbers from 100 on. */
struct files {
	struct sio_iommufd_file *file[8];
	int n;
};

static int host_install(void *opaque, struct sio_iommufd_file *file,
			const char *name)
{
	struct files *fs = opaque;

	(void)name;
	if (fs->n == 8)
		return -EMFILE;
	fs->file[fs->n] = file;
	return 100 + fs->n++;
}

/* close(fd): the file's last reference goes */
static void host_uninstall(void *opaque, int fd)
{
	struct files *fs = opaque;

	sio_iommufd_file_release(fs->file[fd - 100]);
	fs->file[fd - 100] = NULL;
}

static int create_access(struct fx *f, uint32_t ioas, uint32_t flags,
			 uint32_t *fd)
{
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_CREATE_ACCESS,
				       .id = ioas,
				       .create_access = {.flags = flags}};
	int rc = test_cmd(f, &c);

	*fd = c.create_access.out_access_fd;
	return rc;
}

static int access_pages(struct fx *f, uint32_t fd, uint64_t iova, uint64_t len,
			void *p, uint32_t *id)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_ACCESS_PAGES,
		.id = fd,
		.access_pages = {.iova = iova,
				 .length = len,
				 .uptr = (uint64_t)(uintptr_t)p},
	};
	int rc = test_cmd(f, &c);

	*id = c.access_pages.out_access_pages_id;
	return rc;
}

static int destroy_pages(struct fx *f, uint32_t fd, uint32_t id)
{
	struct sio_iommu_test_cmd c = {.op = SIO_TEST_OP_DESTROY_ACCESS_PAGES,
				       .id = fd,
				       .destroy_access_pages = {id}};

	return test_cmd(f, &c);
}

static int access_rw(struct fx *f, uint32_t fd, uint64_t iova, void *p,
		     uint64_t len, uint32_t flags)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_ACCESS_RW,
		.id = fd,
		.access_rw = {iova, len, (uint64_t)(uintptr_t)p, flags},
	};

	return test_cmd(f, &c);
}

static void test_access_ops(void **state)
{
	struct fx *f = *state;
	struct files fs = {0};
	const struct sio_iommufd_file_host host = {
		.install = host_install,
		.uninstall = host_uninstall,
		.opaque = &fs,
	};
	uint32_t fd, fd_rw, id, id2;
	char out[8] = {0};

	/* without a file host there is no fd to give */
	assert_int_equal(create_access(f, f->ioas, 1, &fd), -EOPNOTSUPP);
	sio_iommufd_set_file_host(f->fd, &host);
	assert_int_equal(create_access(f, f->ioas, 2, &fd), -EOPNOTSUPP);
	assert_int_equal(create_access(f, 1000, 1, &fd), -ENOENT);
	assert_int_equal(create_access(f, f->ioas, 1, &fd), 0);
	assert_int_equal(create_access(f, f->ioas, 0, &fd_rw), 0);
	assert_true(fd >= 100 && fd_rw >= 100 && fd != fd_rw);

	assert_int_equal(map_fixed(f, f->buf, 2 * f->pg, APERTURE), 0);
	/* not a pinning access; not an access; over the kernel's bound */
	assert_int_equal(access_pages(f, fd_rw, APERTURE, f->pg, f->buf, &id),
			 -EOPNOTSUPP);
	assert_int_equal(access_pages(f, 7, APERTURE, f->pg, f->buf, &id),
			 -EBADFD);
	assert_int_equal(access_pages(f, fd, APERTURE, 17 * MiB, f->buf, &id),
			 -ENOMEM);
	/* the pinned page must be the user's page */
	assert_int_equal(access_pages(f, fd, APERTURE, f->pg, f->buf + f->pg,
				      &id),
			 -EBADE);
	assert_int_equal(check_refs(f, f->buf, 2 * f->pg, 0), 0);
	assert_int_equal(access_pages(f, fd, APERTURE, f->pg, f->buf, &id), 0);
	assert_int_equal(access_pages(f, fd, APERTURE, f->pg, f->buf, &id2), 0);
	assert_true(id != id2);
	assert_int_equal(check_refs(f, f->buf, f->pg, 1), 0);
	assert_int_equal(check_refs(f, f->buf + f->pg, f->pg, 0), 0);
	assert_int_equal(destroy_pages(f, fd, id), 0);
	assert_int_equal(destroy_pages(f, fd, id), -ENOENT);

	/* through the IOAS with the CPU */
	assert_int_equal(access_rw(f, fd_rw, APERTURE + 5, "softio", 6, 1), 0);
	assert_memory_equal(f->buf + 5, "softio", 6);
	assert_int_equal(access_rw(f, fd_rw, APERTURE + 5, out, 6, 4), 0);
	assert_memory_equal(out, "softio", 6);
	assert_int_equal(access_rw(f, fd_rw, APERTURE + 5, out, 6, 1u << 3),
			 -EOPNOTSUPP);
	assert_int_equal(access_rw(f, fd_rw, APERTURE + 2 * f->pg, out, 6, 0),
			 -ENOENT);

	/* an unmap takes the remaining pin away (the unmap notification) */
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = f->ioas,
					 .iova = APERTURE,
					 .length = 2 * f->pg};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_UNMAP, &u), 0);
	assert_int_equal(destroy_pages(f, fd, id2), -ENOENT);
	assert_int_equal(check_refs(f, f->buf, 2 * f->pg, 0), 0);

	/* ACCESS_REPLACE_IOAS, then close */
	struct sio_iommu_test_cmd r = {.op = SIO_TEST_OP_ACCESS_REPLACE_IOAS,
				       .id = fd,
				       .access_replace_ioas = {1000}};
	assert_int_equal(test_cmd(f, &r), -ENOENT);
	r.access_replace_ioas.ioas_id = ioas_alloc(f);
	assert_int_equal(test_cmd(f, &r), 0);
	host_uninstall(&fs, (int)fd);
	assert_int_equal(destroy_pages(f, fd, 0), -EBADFD);
	host_uninstall(&fs, (int)fd_rw);
}

static int pasid_op(struct fx *f, uint32_t op, uint32_t stdev, uint32_t pasid,
		    uint32_t pt)
{
	struct sio_iommu_test_cmd c = {
		.op = op, .id = stdev, .pasid = {pasid, pt}};

	return test_cmd(f, &c);
}

static uint32_t hwpt_alloc(struct fx *f, uint32_t idev, uint32_t flags)
{
	struct sio_iommu_hwpt_alloc a = {.size = sizeof(a),
					 .flags = flags,
					 .dev_id = idev,
					 .pt_id = f->ioas};

	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &a), 0);
	return a.out_hwpt_id;
}

static void test_pasid_ops(void **state)
{
	struct fx *f = *state;
	const uint32_t ALLOC_PASID = 1u << 3;
	struct sio_iommu_hw_info info = {.size = sizeof(info)};
	uint32_t s2, s2b, plain;
	struct mock m, nop;

	assert_int_equal(mock_domain(f, f->ioas, MOCK_DEV_PASID_FLAG, &m), 0);
	assert_int_equal(mock_domain(f, f->ioas, 0, &nop), 0);
	info.dev_id = m.idev;
	assert_int_equal(do_ioctl(f, SIO_IOMMU_GET_HW_INFO, &info), 0);
	assert_int_equal(info.out_max_pasid_log2, 20);
	info = (struct sio_iommu_hw_info){.size = sizeof(info),
					  .dev_id = nop.idev};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_GET_HW_INFO, &info), 0);
	assert_int_equal(info.out_max_pasid_log2, 0);

	s2 = hwpt_alloc(f, m.idev, ALLOC_PASID);
	s2b = hwpt_alloc(f, m.idev, ALLOC_PASID);
	plain = hwpt_alloc(f, m.idev, 0);
	/* detaching a PASID never attached is no error */
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_DETACH, m.stdev, 7, 0),
			 0);
	/* the RID on an auto (non-PASID) domain: no PASID may attach */
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 7, s2),
			 -EINVAL);
	struct sio_iommu_test_cmd r = {.op = SIO_TEST_OP_MOCK_DOMAIN_REPLACE,
				       .id = m.stdev,
				       .mock_domain_replace = {s2}};
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 7,
				  plain),
			 -EINVAL);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 7, s2),
			 0);
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_CHECK_HWPT, m.stdev, 7, s2), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_CHECK_HWPT, m.stdev, 7,
				  0),
			 -EINVAL);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 7, s2b),
			 -EBUSY);
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_REPLACE, m.stdev, 7, s2b), 0);
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_CHECK_HWPT, m.stdev, 7, s2b), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_DETACH, m.stdev, 7, 0),
			 0);
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_CHECK_HWPT, m.stdev, 7, 0), 0);
	/* PASID 1024: the mock fails its replace, the old domain stays */
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 1024, s2), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_REPLACE, m.stdev, 1024,
				  s2b),
			 -ENOMEM);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_CHECK_HWPT, m.stdev,
				  1024, s2),
			 0);
	assert_int_equal(
		pasid_op(f, SIO_TEST_OP_PASID_DETACH, m.stdev, 1024, 0), 0);
	/* a device without PASIDs; a stdev that is not there */
	r.id = nop.stdev;
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, nop.stdev, 7,
				  s2),
			 -EINVAL);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, 1000, 7, s2),
			 -ENOENT);
}

/* One fault record from queue @id into @pf: its size, 0 if none. */
static int read_fault(struct fx *f, uint32_t id,
		      struct sio_iommu_hwpt_pgfault *pf)
{
	return sio_iommufd_eventq_read(f->fd, id, pf, sizeof(*pf));
}

/* Answer the fault @cookie SUCCESS: the response's size, or -errno. */
static int respond(struct fx *f, uint32_t id, uint32_t cookie)
{
	struct sio_iommu_hwpt_page_response resp = {.cookie = cookie};

	return sio_iommufd_eventq_write(f->fd, id, &resp, sizeof(resp));
}

static void test_trigger_iopf(void **state)
{
	struct fx *f = *state;
	uint32_t data[2] = {0xbadbeef, 0};
	struct sio_iommu_fault_alloc fa = {.size = sizeof(fa)};
	struct sio_iommu_hwpt_pgfault pf;
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	assert_int_equal(do_ioctl(f, SIO_IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	uint32_t parent = hwpt_alloc(f, m.idev, 1u << 0 /* NEST_PARENT */);
	struct sio_iommu_hwpt_alloc n = {
		.size = sizeof(n),
		.flags = SIO_IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = m.idev,
		.pt_id = parent,
		.data_type = 0xdead,
		.data_len = sizeof(data),
		.data_uptr = (uint64_t)(uintptr_t)data,
		.fault_id = fa.out_fault_id,
	};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &n), 0);
	struct sio_iommu_test_cmd t = {
		.op = SIO_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {.dev_id = m.idev,
				 .pasid = 1,
				 .grpid = 2,
				 .perm = SIO_IOMMU_PGFAULT_PERM_READ,
				 .addr = 0xdeadbeaf},
	};
	/* on the automatic paging domain: dropped, nothing to read */
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), 0);
	/*
	 * On the nested HWPT: a PASID with no domain of its own faults
	 * through the RID's nested domain (the mock's user PASID table).
	 */
	struct sio_iommu_test_cmd r = {.op = SIO_TEST_OP_MOCK_DOMAIN_REPLACE,
				       .id = m.stdev,
				       .mock_domain_replace = {n.out_hwpt_id}};
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), sizeof(pf));
	assert_int_equal(pf.flags, SIO_IOMMU_PGFAULT_FLAGS_PASID_VALID |
					   SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf.dev_id, m.idev);
	assert_int_equal(pf.pasid, 1);
	assert_int_equal(pf.grpid, 2);
	assert_int_equal(pf.perm, SIO_IOMMU_PGFAULT_PERM_READ);
	assert_int_equal(pf.addr, 0xdeadbeaf);
	assert_int_equal(respond(f, fa.out_fault_id, pf.cookie),
			 sizeof(struct sio_iommu_hwpt_page_response));
	/* the RID's own fault (no PASID) */
	t.trigger_iopf.pasid = 0;
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), sizeof(pf));
	assert_int_equal(pf.flags, SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	t.trigger_iopf.dev_id = m.stdev; /* not a device */
	assert_int_equal(test_cmd(f, &t), -ENOENT);
}

/*
 * A PASID attached to an HWPT with a fault queue: its page requests reach
 * that queue with the PASID (PASID_VALID), a response completes them, and
 * detaching the PASID answers what is still pending (INVALID, so its
 * cookie is unknown afterwards, EINVAL) and stops delivery.  The kernel
 * keeps the handle per (device, PASID) attach (iommufd_fault_domain_
 * attach_dev() with the PASID).
 */
static void test_trigger_iopf_pasid(void **state)
{
	struct fx *f = *state;
	const uint32_t ALLOC_PASID = 1u << 3;
	struct sio_iommu_fault_alloc fa = {.size = sizeof(fa)};
	struct sio_iommu_hwpt_pgfault pf, pf2;
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, MOCK_DEV_PASID_FLAG, &m), 0);
	assert_int_equal(do_ioctl(f, SIO_IOMMU_FAULT_QUEUE_ALLOC, &fa), 0);
	struct sio_iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = ALLOC_PASID | SIO_IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = m.idev,
		.pt_id = f->ioas,
		.fault_id = fa.out_fault_id,
	};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_HWPT_ALLOC, &a), 0);
	/* PASIDs need the RID on an HWPT made for them too (no queue) */
	uint32_t rid_pt = hwpt_alloc(f, m.idev, ALLOC_PASID);
	struct sio_iommu_test_cmd r = {.op = SIO_TEST_OP_MOCK_DOMAIN_REPLACE,
				       .id = m.stdev,
				       .mock_domain_replace = {rid_pt}};
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 5,
				  a.out_hwpt_id),
			 0);
	struct sio_iommu_test_cmd t = {
		.op = SIO_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {.dev_id = m.idev,
				 .pasid = 5,
				 .grpid = 3,
				 .perm = SIO_IOMMU_PGFAULT_PERM_WRITE,
				 .addr = 0x1234000},
	};

	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), sizeof(pf));
	assert_int_equal(pf.flags, SIO_IOMMU_PGFAULT_FLAGS_PASID_VALID |
					   SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf.dev_id, m.idev);
	assert_int_equal(pf.pasid, 5);
	assert_int_equal(pf.grpid, 3);
	assert_int_equal(pf.perm, SIO_IOMMU_PGFAULT_PERM_WRITE);
	assert_int_equal(pf.addr, 0x1234000);
	assert_int_equal(respond(f, fa.out_fault_id, pf.cookie),
			 sizeof(struct sio_iommu_hwpt_page_response));

	/* one left pending when the PASID goes: answered by the detach */
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf2), sizeof(pf2));
	assert_int_equal(pf2.pasid, 5);
	assert_int_not_equal(pf2.cookie, pf.cookie);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_DETACH, m.stdev, 5, 0),
			 0);
	assert_int_equal(respond(f, fa.out_fault_id, pf2.cookie), -EINVAL);
	/* nothing is attached at PASID 5 now: the request is dropped */
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), 0);
	/* nor does the RID's own request reach the queue: its HWPT has none */
	t.trigger_iopf.pasid = 0;
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), 0);

	/*
	 * The RID and PASID 5 on the same HWPT, a request of each pending:
	 * detaching PASID 5 answers its own only.
	 */
	r.mock_domain_replace.pt_id = a.out_hwpt_id;
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_ATTACH, m.stdev, 5,
				  a.out_hwpt_id),
			 0);
	assert_int_equal(test_cmd(f, &t), 0); /* the RID's */
	t.trigger_iopf.pasid = 5;
	assert_int_equal(test_cmd(f, &t), 0);
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf), sizeof(pf));
	assert_int_equal(read_fault(f, fa.out_fault_id, &pf2), sizeof(pf2));
	assert_int_equal(pf.flags, SIO_IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf2.pasid, 5);
	assert_int_equal(pasid_op(f, SIO_TEST_OP_PASID_DETACH, m.stdev, 5, 0),
			 0);
	assert_int_equal(respond(f, fa.out_fault_id, pf2.cookie), -EINVAL);
	assert_int_equal(respond(f, fa.out_fault_id, pf.cookie),
			 sizeof(struct sio_iommu_hwpt_page_response));
	r.mock_domain_replace.pt_id = rid_pt;
	assert_int_equal(test_cmd(f, &r), 0);
	assert_int_equal(destroy(f, a.out_hwpt_id), 0);
}

static int hw_queue(struct fx *f, uint32_t viommu, uint32_t type,
		    uint32_t index, uint64_t iova, uint64_t len, uint32_t *id)
{
	struct sio_iommu_hw_queue_alloc q = {.size = sizeof(q),
					     .viommu_id = viommu,
					     .type = type,
					     .index = index,
					     .nesting_parent_iova = iova,
					     .length = len};
	int rc = do_ioctl(f, SIO_IOMMU_HW_QUEUE_ALLOC, &q);

	*id = q.out_hw_queue_id;
	return rc;
}

static void test_hw_queue(void **state)
{
	struct fx *f = *state;
	const uint32_t T = 0xdeadbeef; /* IOMMU_HW_QUEUE_TYPE_SELFTEST */
	uint32_t q0, q1, id;
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	struct sio_iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = 0xdeadbeef, /* IOMMU_VIOMMU_TYPE_SELFTEST */
		.dev_id = m.idev,
		.hwpt_id = hwpt_alloc(f, m.idev, 1u << 0 /* NEST_PARENT */),
	};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_VIOMMU_ALLOC, &va), 0);
	uint32_t v = va.out_viommu_id;

	/* the core's checks, in the kernel's order */
	assert_int_equal(hw_queue(f, v, 0, 0, APERTURE, f->pg, &id),
			 -EOPNOTSUPP);
	assert_int_equal(hw_queue(f, v, T, 0, APERTURE, 0, &id), -EINVAL);
	assert_int_equal(hw_queue(f, v, T, 0, ~0ull, f->pg, &id), -EOVERFLOW);
	assert_int_equal(hw_queue(f, 1000, T, 0, APERTURE, f->pg, &id),
			 -ENOENT);
	assert_int_equal(hw_queue(f, v, 7, 0, APERTURE, f->pg, &id),
			 -EOPNOTSUPP);
	/* the memory must be mapped */
	assert_int_equal(hw_queue(f, v, T, 0, APERTURE, f->pg, &id), -ENOENT);
	assert_int_equal(map_fixed(f, f->buf, 2 * f->pg, APERTURE), 0);
	/* the mock's: from index 0 up, two at most */
	assert_int_equal(hw_queue(f, v, T, 1, APERTURE, f->pg, &id), -EIO);
	assert_int_equal(hw_queue(f, v, T, 2, APERTURE, f->pg, &id), -EINVAL);
	assert_int_equal(hw_queue(f, v, T, 0, APERTURE, f->pg, &q0), 0);
	assert_int_equal(hw_queue(f, v, T, 0, APERTURE, f->pg, &id), -EEXIST);
	/* its memory is locked: no unmap, and it counts as a pin */
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = f->ioas,
					 .iova = APERTURE,
					 .length = 2 * f->pg};
	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_UNMAP, &u), -EBUSY);
	assert_int_equal(
		hw_queue(f, v, T, 1, APERTURE + f->pg / 2, f->pg / 2, &q1), 0);
	/* the vIOMMU, and the queue the second one depends on, stay */
	assert_int_equal(destroy(f, v), -EBUSY);
	assert_int_equal(destroy(f, q0), -EBUSY);
	assert_int_equal(destroy(f, q1), 0);
	assert_int_equal(destroy(f, q0), 0);
	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_UNMAP, &u), 0);
	assert_int_equal(destroy(f, v), 0);
}

static int dmabuf_get(struct fx *f, uint32_t len)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_DMABUF_GET,
		.dmabuf_get = {.length = len, .open_flags = O_CLOEXEC},
	};

	return test_cmd(f, &c);
}

static int dmabuf_revoke(struct fx *f, int fd, bool revoked)
{
	struct sio_iommu_test_cmd c = {
		.op = SIO_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = {.dmabuf_fd = fd, .revoked = revoked},
	};

	return test_cmd(f, &c);
}

static int map_file(struct fx *f, int fd, uint64_t start, uint64_t len,
		    uint64_t iova)
{
	struct sio_iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = iova,
	};

	return do_ioctl(f, SIO_IOMMU_IOAS_MAP_FILE, &m);
}

static int unmap(struct fx *f, uint64_t iova, uint64_t len)
{
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = f->ioas,
					 .iova = iova,
					 .length = len};

	return do_ioctl(f, SIO_IOMMU_IOAS_UNMAP, &u);
}

/* DMABUF_GET, and IOAS_MAP_FILE of the dma-buf: the kernel's checks. */
static void test_dmabuf_map(void **state)
{
	struct fx *f = *state;
	uint64_t len = 4 * f->pg;
	struct files fs = {0};
	const struct sio_iommufd_file_host host = {
		.install = host_install,
		.uninstall = host_uninstall,
		.opaque = &fs,
	};
	uint32_t afd, id;
	char out[8];
	struct mock m;
	void *p;
	int fd;

	assert_int_equal(dmabuf_get(f, 0), -EINVAL);
	assert_int_equal(dmabuf_get(f, (uint32_t)(512 * f->pg + 1)), -EINVAL);
	/* the length is rounded up to pages */
	fd = dmabuf_get(f, (uint32_t)(len - 1));
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* checked at import, with no domain to pin it yet */
	assert_int_equal(map_file(f, fd, 0, 0, APERTURE), -EINVAL);
	assert_int_equal(map_file(f, fd, len, len, APERTURE), -EINVAL);
	assert_int_equal(map_file(f, fd, 0, len + 1, APERTURE), -EINVAL);
	assert_int_equal(map_file(f, fd, f->pg, len - f->pg + 1, APERTURE),
			 -EINVAL);
	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	assert_int_equal(map_file(f, fd, 0, len, APERTURE), 0);
	assert_int_equal(map_file(f, fd, f->pg, len - f->pg, APERTURE + len),
			 0);
	/* the domain maps the buffer's own pages */
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(check_map(f, m.hwpt, APERTURE, len, p), 0);
	assert_int_equal(check_map(f, m.hwpt, APERTURE + len, len - f->pg,
				   (uint8_t *)p + f->pg),
			 0);
	/* no access pins, reads or writes a dma-buf */
	sio_iommufd_set_file_host(f->fd, &host);
	assert_int_equal(create_access(f, f->ioas, 1, &afd), 0);
	assert_int_equal(access_pages(f, afd, APERTURE, f->pg, p, &id),
			 -EINVAL);
	assert_int_equal(access_rw(f, afd, APERTURE, out, sizeof(out), 0),
			 -EINVAL);
	/* its close: the file holds the context */
	host_uninstall(&fs, (int)afd);
	munmap(p, len);
	close(fd);
	/* an ordinary file is no dma-buf: no revoking it */
	fd = memfd_create("plain", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(dmabuf_revoke(f, fd, true), -EINVAL);
	close(fd);
	assert_int_equal(dmabuf_revoke(f, -1, true), -EBADF);
}

/*
 * A revoked dma-buf leaves every domain, a domain added later does not
 * map it, and importing it fails until it is valid again; then only new
 * imports map it.
 */
static void test_dmabuf_revoke(void **state)
{
	struct fx *f = *state;
	uint64_t len = 4 * f->pg, iova2 = APERTURE + len;
	uint32_t ioas2 = ioas_alloc(f), ioas = f->ioas, hwpt3;
	struct sio_iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE,
		.dst_ioas_id = f->ioas,
		.src_ioas_id = f->ioas,
		.length = len,
		.dst_iova = APERTURE + 4 * len,
		.src_iova = APERTURE,
	};
	struct sio_pin_stats st;
	struct mock m, m2;
	uint64_t pinned0;
	void *p;
	int fd;

	sio_platform_pin_stats(f->plat, &st);
	pinned0 = st.mm_pinned;
	fd = dmabuf_get(f, (uint32_t)len);
	assert_true(fd >= 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	assert_int_equal(map_file(f, fd, 0, len, APERTURE), 0);
	/* a second IOAS imports it too */
	f->ioas = ioas2;
	assert_int_equal(mock_domain(f, ioas2, 0, &m2), 0);
	assert_int_equal(map_file(f, fd, 0, len, APERTURE), 0);
	f->ioas = ioas;
	/* and a copy shares the first import's pages */
	assert_int_equal(do_ioctl(f, SIO_IOMMU_IOAS_COPY, &copy), 0);
	assert_int_equal(check_map(f, m.hwpt, APERTURE, len, p), 0);
	assert_int_equal(check_map(f, m.hwpt, copy.dst_iova, len, p), 0);
	assert_int_equal(check_map(f, m2.hwpt, APERTURE, len, p), 0);

	/* the exporter's memory: no pin counts it */
	sio_platform_pin_stats(f->plat, &st);
	assert_int_equal(st.mm_pinned, pinned0);
	assert_int_equal(dmabuf_revoke(f, fd, true), 0);
	assert_int_equal(check_map(f, m.hwpt, APERTURE, f->pg, p), -EINVAL);
	assert_int_equal(check_map(f, m.hwpt, copy.dst_iova, f->pg, p),
			 -EINVAL);
	assert_int_equal(check_map(f, m2.hwpt, APERTURE, f->pg, p), -EINVAL);
	/* a domain added now maps none of it */
	hwpt3 = hwpt_alloc(f, m.idev, 0);
	assert_int_equal(check_map(f, hwpt3, APERTURE, f->pg, p), -EINVAL);
	assert_int_equal(check_map(f, hwpt3, copy.dst_iova, f->pg, p), -EINVAL);
	assert_int_equal(map_file(f, fd, 0, len, iova2), -ENODEV);

	assert_int_equal(dmabuf_revoke(f, fd, false), 0);
	assert_int_equal(map_file(f, fd, 0, len, iova2), 0);
	assert_int_equal(check_map(f, m.hwpt, iova2, len, p), 0);
	assert_int_equal(check_map(f, hwpt3, iova2, len, p), 0);
	/* the old import stays revoked */
	assert_int_equal(check_map(f, m.hwpt, APERTURE, f->pg, p), -EINVAL);
	assert_int_equal(unmap(f, APERTURE, len), 0);
	assert_int_equal(map_file(f, fd, 0, len, APERTURE), 0);
	assert_int_equal(check_map(f, hwpt3, APERTURE, len, p), 0);
	munmap(p, len);
	close(fd);
	/* pinned before the revocation, unpinned after: nothing left over */
	assert_int_equal(unmap(f, 0, UINT64_MAX), 0);
	f->ioas = ioas2;
	assert_int_equal(unmap(f, 0, UINT64_MAX), 0);
	sio_platform_pin_stats(f->plat, &st);
	assert_int_equal(st.mm_pinned, pinned0);
}

/* struct iommu_viommu_selftest */
struct viommu_data {
	uint32_t in_data, out_data;
	uint64_t out_mmap_offset, out_mmap_length;
};

static int viommu_alloc(struct fx *f, uint32_t idev, uint32_t parent,
			void *data, uint32_t len, uint32_t *id)
{
	struct sio_iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = 0xdeadbeef, /* IOMMU_VIOMMU_TYPE_SELFTEST */
		.dev_id = idev,
		.hwpt_id = parent,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	int rc = do_ioctl(f, SIO_IOMMU_VIOMMU_ALLOC, &va);

	*id = va.out_viommu_id;
	return rc;
}

/*
 * The mock vIOMMU's driver data: in_data comes back, and as the first
 * word of the region mmap() of the iommufd reaches at the offset given,
 * exactly; a mapping of it keeps the vIOMMU (EBUSY) until its munmap.
 */
static void test_viommu_data_mmap(void **state)
{
	struct fx *f = *state;
	struct viommu_data d = {.in_data = 0xbeef};
	struct sio_iommufd_mapping *mp, *mp2;
	uint32_t parent, v, v2, word;
	int memfd, memfd2;
	uint32_t *page;
	struct mock m;

	assert_int_equal(mock_domain(f, f->ioas, 0, &m), 0);
	parent = hwpt_alloc(f, m.idev, 1u << 0 /* NEST_PARENT */);
	/* shorter than in_data and out_data: EINVAL, and nothing left */
	assert_int_equal(viommu_alloc(f, m.idev, parent, &d, 4, &v), -EINVAL);
	assert_int_equal(sio_iommufd_mmap(f->fd, f->pg, 2 * f->pg, &memfd, &mp),
			 -ENXIO);
	/* without data: no region */
	assert_int_equal(viommu_alloc(f, m.idev, parent, NULL, 0, &v2), 0);
	assert_int_equal(sio_iommufd_mmap(f->fd, f->pg, 2 * f->pg, &memfd, &mp),
			 -ENXIO);
	assert_int_equal(viommu_alloc(f, m.idev, parent, &d, sizeof(d), &v), 0);
	assert_int_equal(d.out_data, 0xbeef);
	assert_int_equal(d.out_mmap_length, 2 * f->pg);
	/* the kernel's offsets start one page up */
	assert_int_equal(d.out_mmap_offset, f->pg);
	/* a short struct gets back what it holds */
	struct viommu_data d2 = {.in_data = 7, .out_mmap_offset = 99};
	assert_int_equal(destroy(f, v2), 0);
	assert_int_equal(viommu_alloc(f, m.idev, parent, &d2, 8, &v2), 0);
	assert_int_equal(d2.out_data, 7);
	assert_int_equal(d2.out_mmap_offset, 99);

	/* only the exact region */
	uint64_t off = d.out_mmap_offset, len = d.out_mmap_length;
	assert_int_equal(sio_iommufd_mmap(f->fd, off + f->pg, len, &memfd, &mp),
			 -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->fd, off, len / 2, &memfd, &mp),
			 -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->fd, off, len * 2, &memfd, &mp),
			 -ENXIO);
	assert_int_equal(sio_iommufd_mmap(f->fd, off, len, &memfd, &mp), 0);
	page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(*page, 0xbeef);
	assert_int_equal(page[1], 0);
	/* the second vIOMMU's region is another, after the first */
	assert_int_equal(sio_iommufd_mmap(f->fd, off + len, len, &memfd2, &mp2),
			 0);
	assert_true(memfd2 != memfd);
	assert_int_equal(pread(memfd2, &word, sizeof(word), 0), sizeof(word));
	assert_int_equal(word, 7);
	assert_int_equal(destroy(f, v2), -EBUSY);
	sio_iommufd_munmap(mp2);
	assert_int_equal(destroy(f, v), -EBUSY);
	sio_iommufd_munmap(mp);
	munmap(page, len);
	assert_int_equal(destroy(f, v), 0);
	/* withdrawn with its vIOMMU */
	assert_int_equal(sio_iommufd_mmap(f->fd, off, len, &memfd, &mp),
			 -ENXIO);
	assert_int_equal(destroy(f, v2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_in_selftest_mode,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mock_domain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_check_map_and_refs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_add_reserved, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_add_reserved_bad_range,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dev_cache_and_flags, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_iotlb, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_access_ops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pasid_ops, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trigger_iopf_pasid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trigger_iopf, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hw_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmabuf_map, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dmabuf_revoke, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_viommu_data_mmap, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
