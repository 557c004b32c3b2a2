// SPDX-License-Identifier: MIT
/*
 * The uAPI contract, ioctl by ioctl, as a user program sees it: every
 * iommufd command this project implements and the VFIO device cdev's
 * ioctls, called with ioctl(2) on /dev/iommu and /dev/vfio/devices/vfioN
 * under `softiommu exec`, each success path and each documented error.
 *
 * Written as a user program: libc, cmocka and the ABI headers only.  The
 * expected errnos are the kernel's, read from drivers/iommu/iommufd/
 * (main.c, ioas.c, io_pagetable.c, hw_pagetable.c, device.c),
 * drivers/vfio/ (device_cdev.c, vfio_main.c, pci/vfio_pci_core.c,
 * pci/vfio_pci_intrs.c) and tools/testing/selftests/iommu/iommufd.c; a
 * comment names the kernel function where an errno is not obvious.
 * Device DMA itself is test_vfio_cdev.c's subject; here it appears once,
 * to make a page dirty for the unaligned-bitmap case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#define OFFSETOFEND(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

/* The I/OAT functions' cdevs (0000:00:04.0 and .1). */
#define VFIO0 "/dev/vfio/devices/vfio0"
#define VFIO1 "/dev/vfio/devices/vfio1"

/* arm-smmu-v3's software-managed MSI window (MSI_IOVA_BASE/LENGTH). */
#define MSI_IOVA_BASE	0x8000000ull
#define MSI_IOVA_LENGTH 0x100000ull

#define IOVA_BASE 0x10000000ull
#define BUF_PAGES 16

struct fx {
	int fd;	       /* /dev/iommu */
	int dev[2];    /* vfio0, vfio1; -1 until opened */
	uint32_t ioas; /* an empty IOAS */
	uint32_t devid[2];
	uint64_t pg;
	uint8_t *buf; /* BUF_PAGES pages, read-write */
};

/* ioctl(2) as 0 or -errno, so errors read as the kernel returns them. */
static int io(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static uint64_t u64p(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_non_null(f);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->dev[0] = f->dev[1] = -1;
	f->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->fd >= 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	f->ioas = a.out_ioas_id;
	f->buf = mmap(NULL, BUF_PAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < 2; i++)
		if (f->dev[i] >= 0)
			close(f->dev[i]);
	close(f->fd);
	munmap(f->buf, BUF_PAGES * f->pg);
	free(f);
	return 0;
}

static int bind_to(int dev, int iommufd, uint32_t *devid)
{
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = iommufd};
	int rc = io(dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!rc && devid)
		*devid = b.out_devid;
	return rc;
}

/* Open vfioN and bind it to the fixture's iommufd. */
static void open_bound(struct fx *f, int n)
{
	f->dev[n] = open(n ? VFIO1 : VFIO0, O_RDWR | O_CLOEXEC);
	assert_true(f->dev[n] >= 0);
	assert_int_equal(bind_to(f->dev[n], f->fd, &f->devid[n]), 0);
	assert_int_not_equal(f->devid[n], 0);
}

static int attach(struct fx *f, int n, uint32_t pt_id, uint32_t *out)
{
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a),
						      .pt_id = pt_id};
	int rc = io(f->dev[n], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!rc && out)
		*out = a.pt_id;
	return rc;
}

static int detach(struct fx *f, int n)
{
	struct sio_vfio_device_detach_iommufd_pt d = {.argsz = sizeof(d)};

	return io(f->dev[n], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static int destroy(struct fx *f, uint32_t id)
{
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = id};

	return io(f->fd, SIO_IOMMU_DESTROY, &d);
}

static uint32_t ioas_alloc(struct fx *f)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	return a.out_ioas_id;
}

#define RW (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)

/* MAP @len bytes of @va; FIXED at *@iova when @fixed. */
static int map(struct fx *f, uint32_t ioas, const void *va, uint64_t len,
	       bool fixed, uint64_t *iova)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = RW | (fixed ? SIO_IOMMU_IOAS_MAP_FIXED_IOVA : 0),
		.ioas_id = ioas,
		.user_va = u64p(va),
		.length = len,
		.iova = *iova,
	};
	int rc = io(f->fd, SIO_IOMMU_IOAS_MAP, &m);

	if (!rc)
		*iova = m.iova;
	return rc;
}

static int map_fixed(struct fx *f, uint32_t ioas, const void *va, uint64_t len,
		     uint64_t iova)
{
	return map(f, ioas, va, len, true, &iova);
}

/* UNMAP: 0 with *@done the bytes unmapped, or -errno. */
static int unmap(struct fx *f, uint32_t ioas, uint64_t iova, uint64_t len,
		 uint64_t *done)
{
	struct sio_iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = io(f->fd, SIO_IOMMU_IOAS_UNMAP, &u);

	if (!rc && done)
		*done = u.length;
	return rc;
}

static int hwpt_alloc(struct fx *f, uint32_t dev_id, uint32_t pt_id,
		      uint32_t flags, uint32_t *out)
{
	struct sio_iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h);

	if (!rc && out)
		*out = h.out_hwpt_id;
	return rc;
}

/* The IOAS's usable ranges; returns how many (at most @max written). */
static uint32_t iova_ranges(struct fx *f, uint32_t ioas,
			    struct sio_iommu_iova_range *r, uint32_t max,
			    uint64_t *align)
{
	struct sio_iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = max,
		.allowed_iovas = u64p(r),
	};

	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), 0);
	if (align)
		*align = q.out_iova_alignment;
	return q.num_iovas;
}

/* ------------------------------------------------ the generic rules */

/*
 * One row per command: its number, its struct size and minimum size
 * (offsetofend of the field main.c's IOCTL_OP() table names).
 */
struct cmd_row {
	const char *name;
	unsigned long req;
	size_t size, min;
};

#define ROW(req, type, last)                                                   \
	{                                                                      \
#req, req, sizeof(struct type), OFFSETOFEND(struct type, last) \
	}

static const struct cmd_row rows[] = {
	ROW(SIO_IOMMU_DESTROY, sio_iommu_destroy, id),
	ROW(SIO_IOMMU_IOAS_ALLOC, sio_iommu_ioas_alloc, out_ioas_id),
	ROW(SIO_IOMMU_IOAS_ALLOW_IOVAS, sio_iommu_ioas_allow_iovas,
	    allowed_iovas),
	ROW(SIO_IOMMU_IOAS_COPY, sio_iommu_ioas_copy, src_iova),
	ROW(SIO_IOMMU_IOAS_IOVA_RANGES, sio_iommu_ioas_iova_ranges,
	    out_iova_alignment),
	ROW(SIO_IOMMU_IOAS_MAP, sio_iommu_ioas_map, iova),
	ROW(SIO_IOMMU_IOAS_UNMAP, sio_iommu_ioas_unmap, length),
	ROW(SIO_IOMMU_OPTION, sio_iommu_option, val64),
	ROW(SIO_IOMMU_HWPT_ALLOC, sio_iommu_hwpt_alloc, __reserved),
	ROW(SIO_IOMMU_GET_HW_INFO, sio_iommu_hw_info, __reserved),
	ROW(SIO_IOMMU_HWPT_SET_DIRTY_TRACKING,
	    sio_iommu_hwpt_set_dirty_tracking, __reserved),
	ROW(SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, sio_iommu_hwpt_get_dirty_bitmap,
	    data),
	ROW(SIO_IOMMU_IOAS_MAP_FILE, sio_iommu_ioas_map_file, iova),
	ROW(SIO_IOMMU_IOAS_CHANGE_PROCESS, sio_iommu_ioas_change_process,
	    __reserved),
	ROW(SIO_IOMMU_HWPT_INVALIDATE, sio_iommu_hwpt_invalidate, __reserved),
	ROW(SIO_IOMMU_VIOMMU_ALLOC, sio_iommu_viommu_alloc, out_viommu_id),
	ROW(SIO_IOMMU_VDEVICE_ALLOC, sio_iommu_vdevice_alloc, virt_id),
	ROW(SIO_IOMMU_VEVENTQ_ALLOC, sio_iommu_veventq_alloc, out_veventq_fd),
	ROW(SIO_IOMMU_HW_QUEUE_ALLOC, sio_iommu_hw_queue_alloc, length),
	/* FAULT_QUEUE_ALLOC: its zero struct succeeds; test_fault_queue */
};

/*
 * The selftest's TEST_LENGTH: size one below the minimum is EINVAL; one
 * byte past the struct with that byte non-zero is E2BIG
 * (copy_struct_from_user); the same with the byte zero answers exactly
 * as the exact size does.  The struct is all zero but its size word.
 */
static void test_cmd_length(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct cmd_row *r = &rows[i];
		uint8_t b[128] = {0};
		uint32_t size;
		int exact;

		assert_true(r->size + 8 <= sizeof(b));
		size = (uint32_t)r->min - 1;
		memcpy(b, &size, 4);
		b[r->size] = 0xff;
		if (io(f->fd, r->req, b) != -EINVAL)
			fail_msg("%s: size min-1 not EINVAL", r->name);
		size = (uint32_t)r->size + 1;
		memcpy(b, &size, 4);
		if (io(f->fd, r->req, b) != -E2BIG)
			fail_msg("%s: non-zero tail not E2BIG", r->name);
		/* E2BIG whichever tail byte is the non-zero one */
		size = (uint32_t)r->size + 8;
		memcpy(b, &size, 4);
		b[r->size] = 0;
		b[r->size + 7] = 1;
		if (io(f->fd, r->req, b) != -E2BIG)
			fail_msg("%s: last tail byte not E2BIG", r->name);
		b[r->size + 7] = 0;

		memset(b, 0, sizeof(b));
		size = (uint32_t)r->size;
		memcpy(b, &size, 4);
		exact = io(f->fd, r->req, b);
		memset(b, 0, sizeof(b));
		size = (uint32_t)r->size + 8;
		memcpy(b, &size, 4);
		if (io(f->fd, r->req, b) != exact)
			fail_msg("%s: zero tail differs from exact size (%d)",
				 r->name, exact);
	}
}

/* The selftest's cmd_fail and cmd_ex_fail on IOMMU_DESTROY. */
static void test_cmd_fail(void **state)
{
	struct fx *f = *state;
	struct {
		struct sio_iommu_destroy cmd;
		uint64_t future;
	} ex = {.cmd = {.size = sizeof(ex), .id = 0}};

	assert_int_equal(destroy(f, 0), -ENOENT);
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, NULL), -EFAULT);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, NULL), -EFAULT);
	/* object id invalid, command longer: the id decides */
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, &ex), -ENOENT);
	ex.future = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, &ex), -E2BIG);
	ex.cmd.size = sizeof(ex.cmd);
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, &ex), -ENOENT);
	ex.cmd.size = sizeof(ex.cmd) - 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, &ex), -EINVAL);
	ex.cmd.size = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_DESTROY, &ex), -EINVAL);
}

/*
 * iommufd_fops_ioctl(): a number below the table goes to the VFIO
 * compat handler (ENOIOCTLCMD -> ENOTTY), one past it is ENOTTY, and an
 * _IOC_NR in the table with size or direction bits is not the command
 * (op->ioctl_num != cmd).
 */
static void test_unknown_ioctl(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = 0};

	assert_int_equal(io(f->fd, SIO_IOMMUFD_IO(0x7f), &d), -ENOTTY);
	assert_int_equal(io(f->fd, SIO_IOMMUFD_IO(0xff), &d), -ENOTTY);
	/* IOMMU_TEST_CMD exists only in CONFIG_IOMMUFD_TEST kernels */
	assert_int_equal(io(f->fd, SIO_IOMMUFD_IO(0xa0), &d), -ENOTTY);
	assert_int_equal(io(f->fd, _IOWR(';', 0x80, struct sio_iommu_destroy),
			    &d),
			 -ENOTTY);
	assert_int_equal(io(f->fd, _IO('x', 0x80), &d), -ENOTTY);
}

/*
 * Bad user memory: the size word unreadable is EFAULT (get_user); a
 * struct running into an unmapped page is EFAULT (copy_struct_from_user);
 * so is a readable struct whose reply cannot be written.
 */
static void test_bad_pointers(void **state)
{
	struct fx *f = *state;
	uint8_t *p = mmap(NULL, 2 * f->pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_iommu_ioas_alloc *a;

	assert_true(p != MAP_FAILED);
	assert_int_equal(munmap(p + f->pg, f->pg), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, p + f->pg), -EFAULT);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, (void *)8), -EFAULT);
	/* the size word readable, the rest beyond the mapping */
	a = (struct sio_iommu_ioas_alloc *)(p + f->pg - 4);
	a->size = sizeof(*a);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, a), -EFAULT);
	/* a read-only struct: ALLOC's reply faults, the IOAS is not made */
	a = (struct sio_iommu_ioas_alloc *)p;
	*a = (struct sio_iommu_ioas_alloc){.size = sizeof(*a)};
	assert_int_equal(mprotect(p, f->pg, PROT_READ), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, a), -EFAULT);
	/* iommufd_object_abort_and_destroy(): its id was never visible */
	assert_int_equal(destroy(f, f->ioas + 1), -ENOENT);
	munmap(p, f->pg);
}

/* ------------------------------------------------------ DESTROY, ALLOC */

static void test_destroy(void **state)
{
	struct fx *f = *state;
	uint32_t hwpt, ioas2 = ioas_alloc(f);

	assert_int_not_equal(ioas2, f->ioas);
	assert_int_equal(destroy(f, ioas2), 0);
	assert_int_equal(destroy(f, ioas2), -ENOENT);
	assert_int_equal(destroy(f, UINT32_MAX), -ENOENT);

	/* an IOAS a HWPT holds is busy, and so is an attached HWPT */
	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &hwpt), 0);
	assert_int_equal(destroy(f, f->ioas), -EBUSY);
	assert_int_equal(attach(f, 0, hwpt, NULL), 0);
	assert_int_equal(destroy(f, hwpt), -EBUSY);
	/* the bound device is an object the VFIO driver holds */
	assert_int_equal(destroy(f, f->devid[0]), -EBUSY);
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(destroy(f, hwpt), 0);
	assert_int_equal(destroy(f, f->ioas), 0);
}

static void test_ioas_alloc(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a), .flags = 1};
	uint32_t ids[4];

	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	a.flags = 1u << 31;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOC, &a), -EOPNOTSUPP);
	for (int i = 0; i < 4; i++) {
		ids[i] = ioas_alloc(f);
		assert_int_not_equal(ids[i], 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
		assert_int_not_equal(ids[i], f->ioas);
	}
	/* a fresh IOAS: one range, all of IOVA space, no alignment */
	struct sio_iommu_iova_range r[2];
	uint64_t align;

	assert_int_equal(iova_ranges(f, ids[3], r, 2, &align), 1);
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, UINT64_MAX);
	assert_int_equal(align, 1);
}

/* ------------------------------------------------------- IOVA_RANGES */

static void test_iova_ranges(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_iova_range r[4];
	struct sio_iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = f->ioas,
	};
	uint64_t align;

	/* num_iovas 0: the struct comes back with the count, EMSGSIZE */
	q.out_iova_alignment = 77;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), -EMSGSIZE);
	assert_int_equal(q.num_iovas, 1);
	assert_int_equal(q.out_iova_alignment, 1);
	/* num_iovas 0 writes no range, so the pointer may be anything */
	q.num_iovas = 0;
	q.allowed_iovas = 8;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), -EMSGSIZE);
	q.num_iovas = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), -EFAULT);
	q.__reserved = 1;
	q.allowed_iovas = u64p(r);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q),
			 -EOPNOTSUPP);
	q.__reserved = 0;
	q.ioas_id = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), -ENOENT);

	/*
	 * Attached to the SMMU: the MSI window is reserved and the IOVA
	 * alignment is the domain's smallest page, the CPU page here.
	 */
	open_bound(f, 0);
	assert_int_equal(attach(f, 0, f->ioas, NULL), 0);
	q.ioas_id = f->ioas;
	q.num_iovas = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_IOVA_RANGES, &q), -EMSGSIZE);
	assert_true(q.num_iovas >= 2);
	/* the one range that fitted was written */
	assert_int_equal(r[0].start, 0);
	assert_int_equal(r[0].last, MSI_IOVA_BASE - 1);
	assert_int_equal(iova_ranges(f, f->ioas, r, 4, &align), q.num_iovas);
	assert_int_equal(align, f->pg);
	assert_int_equal(r[1].start, MSI_IOVA_BASE + MSI_IOVA_LENGTH);
	assert_true(r[1].last >= 0xffffffffull);
	/* detached, the reservation and the alignment go */
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(iova_ranges(f, f->ioas, r, 4, &align), 1);
	assert_int_equal(align, 1);
}

/* ------------------------------------------------------- ALLOW_IOVAS */

static int allow(struct fx *f, uint32_t ioas,
		 const struct sio_iommu_iova_range *r, uint32_t n)
{
	struct sio_iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = ioas,
		.num_iovas = n,
		.allowed_iovas = u64p(r),
	};

	return io(f->fd, SIO_IOMMU_IOAS_ALLOW_IOVAS, &a);
}

static void test_allow_iovas(void **state)
{
	struct fx *f = *state;
	const uint64_t lo = IOVA_BASE, hi = IOVA_BASE + 4 * f->pg - 1;
	struct sio_iommu_iova_range r[2] = {{lo, hi}};
	struct sio_iommu_ioas_allow_iovas a = {
		.size = sizeof(a),
		.ioas_id = f->ioas,
		.num_iovas = 1,
		.allowed_iovas = u64p(r),
		.__reserved = 1,
	};
	uint64_t iova = 0;

	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOW_IOVAS, &a),
			 -EOPNOTSUPP);
	a.__reserved = 0;
	a.ioas_id = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOW_IOVAS, &a), -ENOENT);
	a.ioas_id = f->ioas;
	a.allowed_iovas = 8;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_ALLOW_IOVAS, &a), -EFAULT);
	/* iommufd_ioas_load_iovas(): start < last, no overlap */
	r[0] = (struct sio_iommu_iova_range){hi, lo};
	assert_int_equal(allow(f, f->ioas, r, 1), -EINVAL);
	r[0] = (struct sio_iommu_iova_range){lo, lo};
	assert_int_equal(allow(f, f->ioas, r, 1), -EINVAL);
	r[0] = (struct sio_iommu_iova_range){lo, hi};
	r[1] = (struct sio_iommu_iova_range){hi, hi + f->pg};
	assert_int_equal(allow(f, f->ioas, r, 2), -EINVAL);

	/* kernel-chosen IOVAs come from the allowed ranges only */
	assert_int_equal(allow(f, f->ioas, r, 1), 0);
	assert_int_equal(map(f, f->ioas, f->buf, 2 * f->pg, false, &iova), 0);
	assert_true(iova >= lo && iova + 2 * f->pg - 1 <= hi);
	iova = 0;
	assert_int_equal(map(f, f->ioas, f->buf, 4 * f->pg, false, &iova),
			 -ENOSPC);
	/* fixed IOVAs are not bound by it (iopt_check_iova()) */
	assert_int_equal(map_fixed(f, f->ioas, f->buf, f->pg,
				   IOVA_BASE + 64 * f->pg),
			 0);

	/* the reserved MSI window cannot be allowed (EADDRINUSE) ... */
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, NULL), 0);
	open_bound(f, 0);
	assert_int_equal(attach(f, 0, f->ioas, NULL), 0);
	r[1] = (struct sio_iommu_iova_range){MSI_IOVA_BASE,
					     MSI_IOVA_BASE + f->pg - 1};
	assert_int_equal(allow(f, f->ioas, r, 2), -EADDRINUSE);
	/* ... and that failure left the old list in place */
	iova = 0;
	assert_int_equal(map(f, f->ioas, f->buf, f->pg, false, &iova), 0);
	assert_true(iova >= lo && iova <= hi);
	/* num_iovas 0 clears the list */
	assert_int_equal(allow(f, f->ioas, NULL, 0), 0);
	iova = 0;
	assert_int_equal(map(f, f->ioas, f->buf, 4 * f->pg, false, &iova), 0);
	assert_int_equal(detach(f, 0), 0);
}

/* --------------------------------------------------------------- MAP */

static void test_map_errors(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = f->ioas,
		.user_va = u64p(f->buf),
		.length = f->pg,
		.iova = IOVA_BASE,
	};
	uint32_t hwpt;

	/* iommufd_ioas_map(): flags and __reserved, then overflow, then R/W */
	m.flags |= 1u << 3;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOPNOTSUPP);
	m.flags &= ~(1u << 3);
	m.__reserved = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOPNOTSUPP);
	m.__reserved = 0;
	m.iova = UINT64_MAX;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOVERFLOW);
	m.iova = IOVA_BASE;
	m.length = UINT64_MAX;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOVERFLOW);
	m.length = f->pg;
	m.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EINVAL);
	m.flags = RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA;
	m.ioas_id = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -ENOENT);
	/* an object of another type is no IOAS */
	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &hwpt), 0);
	m.ioas_id = hwpt;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -ENOENT);
	m.ioas_id = f->devid[0];
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -ENOENT);
	m.ioas_id = f->ioas;
	/* iopt_alloc_pages(): length 0; iopt_alloc_user_pages(): wrap */
	m.length = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EINVAL);
	m.length = f->pg;
	m.user_va = UINT64_MAX - f->pg / 2;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOVERFLOW);
	m.user_va = u64p(f->buf);
	/* iopt_check_iova(): iova + length - 1 wraps (before reserved) */
	m.iova = UINT64_MAX - f->pg + 1;
	m.length = 2 * f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EOVERFLOW);
	m.length = f->pg;

	/* with the HWPT's domain: alignment, reserved, overlap */
	m.iova = IOVA_BASE + 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EINVAL);
	m.iova = IOVA_BASE;
	m.length = f->pg / 2;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EINVAL);
	m.length = f->pg;
	assert_int_equal(attach(f, 0, hwpt, NULL), 0);
	m.iova = MSI_IOVA_BASE;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EINVAL);
	m.iova = IOVA_BASE;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EEXIST);
	m.iova = IOVA_BASE - f->pg;
	m.length = 2 * f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EEXIST);
	m.length = f->pg;
	m.iova = IOVA_BASE + 4 * f->pg;
	/* pinning memory that is not there fails (pin_user_pages) */
	uint8_t *hole = mmap(NULL, f->pg, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(hole != MAP_FAILED);
	m.user_va = u64p(hole);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EFAULT);
	/* a writable map of read-only memory: FOLL_WRITE pins fail too */
	assert_int_equal(mprotect(hole, f->pg, PROT_READ | PROT_WRITE), 0);
	memset(hole, 1, f->pg);
	assert_int_equal(mprotect(hole, f->pg, PROT_READ), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EFAULT);
	m.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA | SIO_IOMMU_IOAS_MAP_READABLE;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(unmap(f, f->ioas, m.iova, f->pg, NULL), 0);
	munmap(hole, f->pg);
	/*
	 * A bad page anywhere in the range, in a small map (faulted in page
	 * by page) and a large one (MADV_POPULATE_*): nothing is mapped.
	 */
	for (size_t pages = 2; pages <= 64; pages *= 32) {
		size_t len = pages * (size_t)f->pg;
		uint8_t *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		assert_true(r != MAP_FAILED);
		assert_int_equal(mprotect(r + len - f->pg, f->pg, PROT_NONE),
				 0);
		m.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			  SIO_IOMMU_IOAS_MAP_READABLE |
			  SIO_IOMMU_IOAS_MAP_WRITEABLE;
		m.user_va = u64p(r);
		m.length = len;
		assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EFAULT);
		/* nothing was mapped: the IOVA is still free */
		assert_int_equal(unmap(f, f->ioas, m.iova, len, NULL), -ENOENT);
		/* a hole in the address space, not just a protected page */
		assert_int_equal(munmap(r + len - f->pg, f->pg), 0);
		assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EFAULT);
		munmap(r, len - f->pg);
	}
	/* a shared file mapping past the end of its file: SIGBUS, EFAULT */
	int mfd = memfd_create("short", MFD_CLOEXEC);
	uint8_t *sh;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, f->pg), 0);
	sh = mmap(NULL, 2 * f->pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(sh != MAP_FAILED);
	m.user_va = u64p(sh);
	m.length = 2 * f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), -EFAULT);
	m.length = f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(unmap(f, f->ioas, m.iova, f->pg, NULL), 0);
	munmap(sh, 2 * f->pg);
	close(mfd);
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(destroy(f, hwpt), 0);
}

/*
 * Without a domain the IOAS only records the map (pages are pinned
 * when a domain or access needs them), with no alignment to keep:
 * byte-sized and byte-aligned maps are fine and read back as given.
 */
static void test_map_fixed(void **state)
{
	struct fx *f = *state;
	uint64_t iova = IOVA_BASE + 3, done;

	assert_int_equal(map(f, f->ioas, f->buf + 5, 100, true, &iova), 0);
	assert_int_equal(iova, IOVA_BASE + 3);
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE + 3, 100, &done), 0);
	assert_int_equal(done, 100);
	/* READABLE alone, or WRITEABLE alone, is a map */
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE,
		.ioas_id = f->ioas,
		.user_va = u64p(f->buf),
		.length = f->pg,
		.iova = IOVA_BASE,
	};

	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	m.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA | SIO_IOMMU_IOAS_MAP_WRITEABLE;
	m.iova += f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	/* the highest page of IOVA space */
	m.iova = UINT64_MAX - f->pg + 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 3 * f->pg);
}

/*
 * Kernel-chosen IOVA (iopt_alloc_iova()): aligned to the length rounded
 * up to a power of two, but no more than the user address is aligned
 * and at most a huge page; never IOVA 0; the in-page offset of the user
 * address is kept.
 */
static void test_map_auto_iova(void **state)
{
	struct fx *f = *state;
	const uint64_t hp = 2ull << 20;
	size_t len = 8 * hp;
	uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *big;
	uint64_t iova, prev = 0;

	assert_true(raw != MAP_FAILED);
	/* a 4 MiB-aligned address inside the reservation */
	big = (uint8_t *)(((uintptr_t)raw + 2 * hp - 1) & ~(2 * hp - 1));

	for (int i = 0; i < 3; i++) {
		iova = 0;
		assert_int_equal(map(f, f->ioas, big, f->pg, false, &iova), 0);
		assert_int_not_equal(iova, 0);
		assert_int_equal(iova % f->pg, 0);
		assert_int_not_equal(iova, prev);
		prev = iova;
	}
	/* 3 pages from a 4 MiB-aligned address: 4-page alignment */
	iova = 0;
	assert_int_equal(map(f, f->ioas, big, 3 * f->pg, false, &iova), 0);
	assert_int_equal(iova % (4 * f->pg), 0);
	/* 4 MiB from a 4 MiB-aligned address: capped at the huge page */
	iova = 0;
	assert_int_equal(map(f, f->ioas, big, 2 * hp, false, &iova), 0);
	assert_int_equal(iova % hp, 0);
	/* 8 pages from an address aligned to 2 pages only: 2 pages */
	iova = 0;
	assert_int_equal(
		map(f, f->ioas, big + 2 * f->pg, 8 * f->pg, false, &iova), 0);
	assert_int_equal(iova % (2 * f->pg), 0);
	/* a user address inside a page keeps its offset */
	iova = 0;
	assert_int_equal(map(f, f->ioas, big + 0x123, 0x100, false, &iova), 0);
	assert_int_equal(iova % f->pg, 0x123);

	/*
	 * With the SMMU domain the IOAS alignment is a page: a length the
	 * page does not divide is EINVAL (iopt_alloc_area_pages()), and so
	 * is a byte-aligned source (its alignment < iova_alignment).
	 */
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, NULL), 0);
	open_bound(f, 0);
	assert_int_equal(attach(f, 0, f->ioas, NULL), 0);
	iova = 0;
	assert_int_equal(map(f, f->ioas, big, f->pg + 8, false, &iova),
			 -EINVAL);
	iova = 0;
	assert_int_equal(map(f, f->ioas, big + 8, f->pg, false, &iova),
			 -EINVAL);
	iova = 0;
	assert_int_equal(map(f, f->ioas, big, 2 * f->pg, false, &iova), 0);
	assert_true(iova < MSI_IOVA_BASE ||
		    iova >= MSI_IOVA_BASE + MSI_IOVA_LENGTH);
	assert_int_equal(detach(f, 0), 0);
	munmap(raw, len);
}

/* ---------------------------------------------------------- MAP_FILE */

static int map_file(struct fx *f, uint32_t flags, int fd, uint64_t start,
		    uint64_t len, uint64_t *iova)
{
	struct sio_iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = flags,
		.ioas_id = f->ioas,
		.fd = fd,
		.start = start,
		.length = len,
		.iova = *iova,
	};
	int rc = io(f->fd, SIO_IOMMU_IOAS_MAP_FILE, &m);

	if (!rc)
		*iova = m.iova;
	return rc;
}

static void test_map_file(void **state)
{
	struct fx *f = *state;
	const uint32_t fixed = RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA;
	int mfd = memfd_create("uapi", MFD_CLOEXEC), ro;
	char path[64];
	uint64_t iova, done;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, (off_t)(8 * f->pg)), 0);

	iova = IOVA_BASE;
	assert_int_equal(map_file(f, fixed | (1u << 3), mfd, 0, f->pg, &iova),
			 -EOPNOTSUPP);
	assert_int_equal(map_file(f, fixed, mfd, 0, UINT64_MAX, &iova),
			 -EOVERFLOW);
	iova = UINT64_MAX;
	assert_int_equal(map_file(f, fixed, mfd, 0, f->pg, &iova), -EOVERFLOW);
	iova = IOVA_BASE;
	assert_int_equal(map_file(f, SIO_IOMMU_IOAS_MAP_FIXED_IOVA, mfd, 0,
				  f->pg, &iova),
			 -EINVAL);
	assert_int_equal(map_file(f, fixed, -1, 0, f->pg, &iova), -EBADF);
	assert_int_equal(map_file(f, fixed, 1000, 0, f->pg, &iova), -EBADF);
	/* iopt_alloc_file_pages(): a writable map needs FMODE_WRITE */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(map_file(f, fixed, ro, 0, f->pg, &iova), -EPERM);
	assert_int_equal(map_file(f,
				  SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
					  SIO_IOMMU_IOAS_MAP_READABLE,
				  ro, 0, f->pg, &iova),
			 0);
	assert_int_equal(iova, IOVA_BASE);
	close(ro);
	/* the file stays referenced by the map, not by the fd */
	iova = IOVA_BASE + f->pg;
	assert_int_equal(map_file(f, fixed, mfd, 2 * f->pg, 2 * f->pg, &iova),
			 0);
	assert_int_equal(map_file(f, fixed, mfd, 0, f->pg, &iova), -EEXIST);
	/* kernel-chosen IOVA keeps the offset within the page */
	iova = 0;
	assert_int_equal(map_file(f, RW, mfd, 0x40, 0x80, &iova), 0);
	assert_int_not_equal(iova, 0);
	assert_int_equal(iova % f->pg, 0x40);

	struct sio_iommu_ioas_map_file m = {.size = sizeof(m), .flags = fixed};

	m.ioas_id = 0;
	m.fd = mfd;
	m.length = f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_MAP_FILE, &m), -ENOENT);
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 3 * f->pg + 0x80);
	close(mfd);
}

/* -------------------------------------------------------------- COPY */

static int copy(struct fx *f, uint32_t flags, uint32_t dst, uint32_t src,
		uint64_t len, uint64_t *dst_iova, uint64_t src_iova)
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
	int rc = io(f->fd, SIO_IOMMU_IOAS_COPY, &c);

	if (!rc)
		*dst_iova = c.dst_iova;
	return rc;
}

static void test_copy(void **state)
{
	struct fx *f = *state;
	const uint32_t fixed = RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA;
	uint32_t dst = ioas_alloc(f);
	uint64_t d, done;

	/* two areas back to back, then a gap, then a third */
	assert_int_equal(map_fixed(f, f->ioas, f->buf, 2 * f->pg, IOVA_BASE),
			 0);
	assert_int_equal(map_fixed(f, f->ioas, f->buf + 2 * f->pg, 2 * f->pg,
				   IOVA_BASE + 2 * f->pg),
			 0);
	assert_int_equal(map_fixed(f, f->ioas, f->buf + 8 * f->pg, f->pg,
				   IOVA_BASE + 8 * f->pg),
			 0);

	d = IOVA_BASE;
	assert_int_equal(copy(f, fixed | (1u << 3), dst, f->ioas, f->pg, &d,
			      IOVA_BASE),
			 -EOPNOTSUPP);
	assert_int_equal(copy(f, fixed, dst, f->ioas, UINT64_MAX, &d,
			      IOVA_BASE),
			 -EOVERFLOW);
	assert_int_equal(copy(f, fixed, dst, f->ioas, f->pg, &d, UINT64_MAX),
			 -EOVERFLOW);
	d = UINT64_MAX;
	assert_int_equal(copy(f, fixed, dst, f->ioas, f->pg, &d, IOVA_BASE),
			 -EOVERFLOW);
	d = IOVA_BASE;
	assert_int_equal(copy(f, SIO_IOMMU_IOAS_MAP_FIXED_IOVA, dst, f->ioas,
			      f->pg, &d, IOVA_BASE),
			 -EINVAL);
	assert_int_equal(copy(f, fixed, dst, 0, f->pg, &d, IOVA_BASE), -ENOENT);
	assert_int_equal(copy(f, fixed, 0, f->ioas, f->pg, &d, IOVA_BASE),
			 -ENOENT);
	/* iopt_get_pages(): length 0; the source must be mapped throughout */
	assert_int_equal(copy(f, fixed, dst, f->ioas, 0, &d, IOVA_BASE),
			 -EINVAL);
	assert_int_equal(copy(f, fixed, dst, f->ioas, f->pg, &d,
			      IOVA_BASE + 4 * f->pg),
			 -ENOENT);
	assert_int_equal(copy(f, fixed, dst, f->ioas, 9 * f->pg, &d, IOVA_BASE),
			 -ENOENT);
	assert_int_equal(copy(f, fixed, dst, f->ioas, 2 * f->pg, &d,
			      IOVA_BASE - f->pg),
			 -ENOENT);

	/*
	 * A sub-range spanning both contiguous areas: one new area per
	 * source area it covers (iopt_alloc_area_pages() inserts one per
	 * pages-list entry), so the copy can be unmapped area by area.
	 */
	assert_int_equal(copy(f, fixed, dst, f->ioas, 2 * f->pg, &d,
			      IOVA_BASE + f->pg),
			 0);
	assert_int_equal(d, IOVA_BASE);
	assert_int_equal(copy(f, fixed, dst, f->ioas, f->pg, &d, IOVA_BASE),
			 -EEXIST);
	assert_int_equal(unmap(f, dst, IOVA_BASE, f->pg, &done), 0);
	assert_int_equal(done, f->pg);
	/* a copy within the same IOAS, to a kernel-chosen IOVA */
	d = 0;
	assert_int_equal(copy(f, RW, f->ioas, f->ioas, f->pg, &d,
			      IOVA_BASE + 8 * f->pg),
			 0);
	assert_int_not_equal(d, 0);
	assert_int_not_equal(d, IOVA_BASE + 8 * f->pg);
	/* the source unmapped, the copy still holds its pages */
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE, 4 * f->pg, &done), 0);
	assert_int_equal(done, 4 * f->pg);
	assert_int_equal(unmap(f, dst, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, f->pg);
}

/* ------------------------------------------------------------- UNMAP */

static void test_unmap(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = 0};
	uint64_t done = 77;

	u.length = f->pg;
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_UNMAP, &u), -ENOENT);
	/* unmap-all of an empty IOAS succeeds with 0 bytes */
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 0);
	/* iommufd_ioas_unmap(): nothing unmapped is ENOENT */
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE, f->pg, NULL), -ENOENT);
	assert_int_equal(unmap(f, f->ioas, UINT64_MAX, f->pg, NULL),
			 -EOVERFLOW);
	assert_int_equal(unmap(f, f->ioas, 1, UINT64_MAX, NULL), -EOVERFLOW);
	/* iopt_unmap_iova(): length 0, and iova + length - 1 wrapping */
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE, 0, NULL), -EINVAL);
	assert_int_equal(unmap(f, f->ioas, 3, UINT64_MAX - 1, NULL),
			 -EOVERFLOW);

	for (int i = 0; i < 4; i++)
		assert_int_equal(map_fixed(f, f->ioas, f->buf + i * 2 * f->pg,
					   2 * f->pg,
					   IOVA_BASE + i * 2 * f->pg),
				 0);
	/* a range that splits an area is ENOENT and unmaps nothing of it */
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE, f->pg, NULL), -ENOENT);
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE + f->pg, 2 * f->pg, NULL),
			 -ENOENT);
	/* whole areas, and the holes around them, are fine */
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE - f->pg, 5 * f->pg, &done),
			 0);
	assert_int_equal(done, 4 * f->pg);
	assert_int_equal(unmap(f, f->ioas, IOVA_BASE, 4 * f->pg, NULL),
			 -ENOENT);
	/* unmap-all reports what was left */
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 4 * f->pg);
	/* 0..U64_MAX is unmap-all only with iova 0 */
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, &done), 0);
	assert_int_equal(done, 0);
}

/* ------------------------------------------------------------ OPTION */

static int option(struct fx *f, uint32_t id, uint16_t op, uint32_t obj,
		  uint64_t *val)
{
	struct sio_iommu_option o = {
		.size = sizeof(o),
		.option_id = id,
		.op = op,
		.object_id = obj,
		.val64 = *val,
	};
	int rc = io(f->fd, SIO_IOMMU_OPTION, &o);

	if (!rc)
		*val = o.val64;
	return rc;
}

static bool cap_sys_resource(void)
{
	struct {
		uint32_t version;
		int pid;
	} hdr = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
	struct {
		uint32_t effective, permitted, inheritable;
	} data[2] = {{0}};

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[0].effective & (1u << 24); /* CAP_SYS_RESOURCE */
}

static void test_option_rlimit_mode(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_option o = {
		.size = sizeof(o),
		.option_id = SIO_IOMMU_OPTION_RLIMIT_MODE,
		.op = SIO_IOMMU_OPTION_OP_GET,
		.__reserved = 1,
	};
	uint64_t v = 7;
	int fd2;

	assert_int_equal(io(f->fd, SIO_IOMMU_OPTION, &o), -EOPNOTSUPP);
	o.__reserved = 0;
	o.option_id = 2;
	assert_int_equal(io(f->fd, SIO_IOMMU_OPTION, &o), -EOPNOTSUPP);
	/* the default is per-user accounting: 0 */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 0);
	assert_int_equal(v, 0);
	/* a global option: any object id is EOPNOTSUPP */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE,
				SIO_IOMMU_OPTION_OP_GET, f->ioas, &v),
			 -EOPNOTSUPP);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_RLIMIT_MODE, 2, 0, &v),
			 -EOPNOTSUPP);

	/* SET: CAP_SYS_RESOURCE, and only while the context is empty */
	fd2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(fd2 >= 0);
	o = (struct sio_iommu_option){
		.size = sizeof(o),
		.option_id = SIO_IOMMU_OPTION_RLIMIT_MODE,
		.op = SIO_IOMMU_OPTION_OP_SET,
		.val64 = 1,
	};
	if (!cap_sys_resource()) {
		assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), -EPERM);
		close(fd2);
		return;
	}
	assert_int_equal(io(f->fd, SIO_IOMMU_OPTION, &o), -EBUSY);
	assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), 0);
	o.val64 = 2;
	assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), -EINVAL);
	o.op = SIO_IOMMU_OPTION_OP_GET;
	o.val64 = 9;
	assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 1);
	o.op = SIO_IOMMU_OPTION_OP_SET;
	o.val64 = 0;
	assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), 0);
	o.op = SIO_IOMMU_OPTION_OP_GET;
	assert_int_equal(io(fd2, SIO_IOMMU_OPTION, &o), 0);
	assert_int_equal(o.val64, 0);
	close(fd2);
}

static void test_option_huge_pages(void **state)
{
	struct fx *f = *state;
	uint32_t other = ioas_alloc(f), hwpt;
	uint64_t v = 5;

	/* the selftest's global_options: no IOAS named is ENOENT */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, 0, &v),
			 -ENOENT);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, 0, &v),
			 -ENOENT);
	/* iommufd_ioas_option() finds the IOAS before it looks at op */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES, 2, 0, &v),
			 -ENOENT);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES, 2, f->ioas, &v),
			 -EOPNOTSUPP);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, f->ioas, &v),
			 0);
	assert_int_equal(v, 1);
	v = 2;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, f->ioas, &v),
			 -EINVAL);
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, f->ioas, &v),
			 0);
	/* per object: the other IOAS still has huge pages */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, f->ioas, &v),
			 0);
	assert_int_equal(v, 0);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, other, &v),
			 0);
	assert_int_equal(v, 1);
	/* without large pages the IOAS is page-aligned */
	uint64_t align;
	struct sio_iommu_iova_range r;

	iova_ranges(f, f->ioas, &r, 1, &align);
	assert_int_equal(align, f->pg);
	v = 1;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, f->ioas, &v),
			 0);
	iova_ranges(f, f->ioas, &r, 1, &align);
	assert_int_equal(align, 1);

	/* iopt_check_iova_alignment(): a sub-page area forbids it */
	assert_int_equal(map_fixed(f, other, f->buf, 100, IOVA_BASE), 0);
	v = 0;
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, other, &v),
			 -EADDRINUSE);
	/* iopt_disable_large_pages(): not once a domain holds maps */
	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &hwpt), 0);
	assert_int_equal(map_fixed(f, f->ioas, f->buf, f->pg, IOVA_BASE), 0);
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_SET, f->ioas, &v),
			 -EINVAL);
	/* a HWPT is not an IOAS */
	assert_int_equal(option(f, SIO_IOMMU_OPTION_HUGE_PAGES,
				SIO_IOMMU_OPTION_OP_GET, hwpt, &v),
			 -ENOENT);
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, NULL), 0);
	assert_int_equal(destroy(f, hwpt), 0);
}

/* ---------------------------------------------------- CHANGE_PROCESS */

static void test_change_process(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_change_process c = {.size = sizeof(c),
						  .__reserved = 1};
	int mfd = memfd_create("uapi", MFD_CLOEXEC);
	uint32_t other = ioas_alloc(f);
	uint64_t iova = IOVA_BASE;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, (off_t)f->pg), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c),
			 -EOPNOTSUPP);
	c.__reserved = 0;
	/* nothing mapped: nothing to move */
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c), 0);
	/* file maps move; one user-VA map in any IOAS refuses it all */
	assert_int_equal(map_file(f, RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA, mfd, 0,
				  f->pg, &iova),
			 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c), 0);
	assert_int_equal(map_fixed(f, other, f->buf, f->pg, IOVA_BASE), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c), -EINVAL);
	assert_int_equal(unmap(f, other, IOVA_BASE, f->pg, NULL), 0);
	assert_int_equal(io(f->fd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &c), 0);
	close(mfd);
}

/* -------------------------------------------------------- HWPT_ALLOC */

static void test_hwpt_alloc(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_hwpt_arm_smmuv3 ste = {{0}};
	struct sio_iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.pt_id = f->ioas,
	};
	uint32_t a, b, parent, got;

	open_bound(f, 0);
	h.dev_id = f->devid[0];
	/* iommufd_hwpt_alloc(): __reserved, then data_type/data_len agree */
	h.__reserved = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h.__reserved = 0;
	h.data_len = sizeof(ste);
	h.data_uptr = u64p(&ste);
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -EINVAL);
	h.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3;
	h.data_len = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -EINVAL);
	/* arm-smmu-v3 paging domains take no driver data */
	h.data_len = sizeof(ste);
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);
	h.data_type = SIO_IOMMU_HWPT_DATA_NONE;
	h.data_len = 0;
	h.data_uptr = 0;

	/* the selftest's negative tests: bad device, bad page table */
	assert_int_equal(hwpt_alloc(f, f->ioas, f->ioas, 0, &a), -ENOENT);
	assert_int_equal(hwpt_alloc(f, 0, f->ioas, 0, &a), -ENOENT);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->devid[0], 0, &a),
			 -EINVAL);
	assert_int_equal(hwpt_alloc(f, f->devid[0], UINT32_MAX, 0, &a),
			 -EINVAL);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 1u << 7, &a),
			 -EOPNOTSUPP);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT |
					    SIO_IOMMU_HWPT_FAULT_ID_VALID,
				    &a),
			 -EOPNOTSUPP);
	/* FAULT_ID_VALID naming no fault object: iommufd_get_fault() */
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_FAULT_ID_VALID, &a),
			 -ENOENT);

	/* every flag combination the SMMU takes, each a new object */
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &a), 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &b), 0);
	assert_int_not_equal(a, b);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	uint32_t d, nd;

	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &d),
			 0);
	/*
	 * Both: arm_smmu_domain_alloc_paging_flags() switches on the exact
	 * flags; a dirty-tracking stage-2 parent is not one of its cases.
	 */
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT |
					    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    &nd),
			 -EOPNOTSUPP);
	/*
	 * A paging HWPT as parent asks for a nested domain: flags other
	 * than FAULT_ID_VALID, no data, or a driver without
	 * domain_alloc_nested (arm-smmu-v3 nests through a vIOMMU) are all
	 * EOPNOTSUPP (iommufd_hwpt_nested_alloc()).
	 */
	assert_int_equal(hwpt_alloc(f, f->devid[0], parent, 0, &got),
			 -EOPNOTSUPP);
	h.pt_id = parent;
	h.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3;
	h.data_len = sizeof(ste);
	h.data_uptr = u64p(&ste);
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -EOPNOTSUPP);

	/* a HWPT is what ATTACH takes, and reports back as itself */
	assert_int_equal(attach(f, 0, a, &got), 0);
	assert_int_equal(got, a);
	assert_int_equal(attach(f, 0, parent, &got), 0);
	assert_int_equal(got, parent);
	assert_int_equal(attach(f, 0, d, &got), 0);
	assert_int_equal(got, d);
	assert_int_equal(detach(f, 0), 0);
	/* each HWPT holds the IOAS */
	assert_int_equal(destroy(f, f->ioas), -EBUSY);
	uint32_t all[] = {a, b, parent, d};

	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(destroy(f, all[i]), 0);
	assert_int_equal(destroy(f, f->ioas), 0);
}

/* ------------------------------------------------------------ HW_INFO */

static void test_get_hw_info(void **state)
{
	struct fx *f = *state;
	uint8_t data[64];
	struct sio_iommu_hw_info_arm_smmuv3 *smmu = (void *)data;
	struct sio_iommu_hw_info h = {
		.size = sizeof(h),
		.data_len = sizeof(data),
		.data_uptr = u64p(data),
	};
	uint32_t dirty_hwpt;
	bool dirty;

	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -ENOENT);
	h.dev_id = f->ioas;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -ENOENT);
	open_bound(f, 0);
	h.dev_id = f->devid[0];
	h.flags = 1u << 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -EOPNOTSUPP);
	h.flags = 0;
	h.__reserved[2] = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -EOPNOTSUPP);
	h.__reserved[2] = 0;

	/* a larger buffer: the SMMU's registers, the rest zeroed */
	memset(data, 0xa5, sizeof(data));
	h.out_data_type = 0x55;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.out_data_type, SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	assert_int_equal(h.data_len, sizeof(*smmu));
	assert_int_equal(smmu->__reserved, 0);
	assert_int_not_equal(smmu->idr[0], 0); /* at least S1P or S2P */
	assert_int_not_equal(smmu->aidr, 0xa5a5a5a5);
	for (size_t i = sizeof(*smmu); i < sizeof(data); i++)
		assert_int_equal(data[i], 0);
	/* the device IOMMU's dirty capability is what HWPT_ALLOC honours */
	dirty = h.out_capabilities & SIO_IOMMU_HW_CAP_DIRTY_TRACKING;
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    &dirty_hwpt),
			 dirty ? 0 : -EOPNOTSUPP);

	/* a smaller buffer: that much written, the full length reported */
	memset(data, 0xa5, sizeof(data));
	h.data_len = 8;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_len, sizeof(*smmu));
	assert_int_equal(data[8], 0xa5);
	/* no buffer at all: just the length and the type */
	h.data_len = 0;
	h.data_uptr = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.data_len, sizeof(*smmu));
	h.data_len = 4;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -EFAULT);
	h.data_uptr = u64p(data);
	h.data_len = sizeof(data);

	/* INPUT_TYPE: DEFAULT or the driver's own; another is EOPNOTSUPP */
	h.flags = SIO_IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	h.in_data_type = SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.out_data_type, SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	h.in_data_type = SIO_IOMMU_HW_INFO_TYPE_DEFAULT;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	h.in_data_type = SIO_IOMMU_HW_INFO_TYPE_INTEL_VTD;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), -EOPNOTSUPP);
	/* without the flag the field is ignored on input */
	h.flags = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);

	/*
	 * A caller built against the minimum struct (up to __reserved):
	 * the reply stops at its size, out_capabilities stays untouched.
	 */
	struct {
		struct sio_iommu_hw_info h;
		uint64_t guard;
	} small = {.h = h, .guard = 0x1234};

	small.h.size = OFFSETOFEND(struct sio_iommu_hw_info, __reserved);
	small.h.out_capabilities = 0xdeadbeef;
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &small), 0);
	assert_int_equal(small.h.out_data_type,
			 SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3);
	assert_int_equal(small.h.out_capabilities, 0xdeadbeef);
	assert_int_equal(small.guard, 0x1234);
}

/* ---------------------------------------------------- dirty tracking */

static int set_dirty(struct fx *f, uint32_t hwpt, uint32_t flags)
{
	struct sio_iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = flags,
		.hwpt_id = hwpt,
	};

	return io(f->fd, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING, &s);
}

static int get_dirty(struct fx *f, uint32_t hwpt, uint32_t flags, uint64_t iova,
		     uint64_t len, uint64_t pgsz, void *data)
{
	struct sio_iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = hwpt,
		.flags = flags,
		.iova = iova,
		.length = len,
		.page_size = pgsz,
		.data = u64p(data),
	};

	return io(f->fd, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &g);
}

static void test_dirty_tracking_errors(void **state)
{
	struct fx *f = *state;
	const uint64_t len = 8 * f->pg;
	uint64_t bitmap[2] = {0};
	uint32_t dhwpt, plain;

	open_bound(f, 0);
	if (hwpt_alloc(f, f->devid[0], f->ioas,
		       SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &dhwpt)) {
		skip();
		return;
	}
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &plain), 0);
	assert_int_equal(map_fixed(f, f->ioas, f->buf, len, IOVA_BASE), 0);

	/* SET: flags first, then the HWPT (a paging one) */
	assert_int_equal(set_dirty(f, dhwpt, 1u << 1), -EOPNOTSUPP);
	assert_int_equal(set_dirty(f, 0, 0), -ENOENT);
	assert_int_equal(set_dirty(f, f->ioas, 0), -ENOENT);
	assert_int_equal(set_dirty(f, f->devid[0], 0), -ENOENT);
	/* iopt_set_dirty_tracking(): a domain without dirty_ops */
	assert_int_equal(set_dirty(f, plain,
				   SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE),
			 -EOPNOTSUPP);
	assert_int_equal(
		set_dirty(f, dhwpt, SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	/* enabling twice is fine; the kernel never reads __reserved */
	struct sio_iommu_hwpt_set_dirty_tracking s = {
		.size = sizeof(s),
		.flags = SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		.hwpt_id = dhwpt,
		.__reserved = 1,
	};

	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING, &s), 0);

	/* GET: flags and __reserved, the HWPT, then the range */
	assert_int_equal(get_dirty(f, dhwpt, 1u << 1, IOVA_BASE, len, f->pg,
				   bitmap),
			 -EOPNOTSUPP);
	struct sio_iommu_hwpt_get_dirty_bitmap g = {
		.size = sizeof(g),
		.hwpt_id = dhwpt,
		.__reserved = 1,
		.iova = IOVA_BASE,
		.length = len,
		.page_size = f->pg,
		.data = u64p(bitmap),
	};

	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &g),
			 -EOPNOTSUPP);
	assert_int_equal(get_dirty(f, f->ioas, 0, IOVA_BASE, len, f->pg,
				   bitmap),
			 -ENOENT);
	/* iommufd_check_iova_range(): overflow, alignments, page size */
	assert_int_equal(get_dirty(f, dhwpt, 0, UINT64_MAX - f->pg + 1,
				   2 * f->pg, f->pg, bitmap),
			 -EOVERFLOW);
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE + 8, len, f->pg,
				   bitmap),
			 -EINVAL);
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE, len - 8, f->pg,
				   bitmap),
			 -EINVAL);
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE, len, 0, bitmap),
			 -EINVAL);
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE + f->pg, len,
				   2 * f->pg, bitmap),
			 -EINVAL);
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE, 3 * f->pg, 2 * f->pg,
				   bitmap),
			 -EINVAL);
	/*
	 * The range is checked before the domain's dirty ops
	 * (iopt_read_and_clear_dirty_data()), then a domain without them
	 * is EOPNOTSUPP.
	 */
	assert_int_equal(get_dirty(f, plain, 0, IOVA_BASE, len, 0, bitmap),
			 -EINVAL);
	assert_int_equal(get_dirty(f, plain, 0, IOVA_BASE, len, f->pg, bitmap),
			 -EOPNOTSUPP);

	/* nothing written yet: nothing dirty, user bits are only ORed */
	bitmap[0] = 1ull << 63;
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE, len, f->pg, bitmap),
			 0);
	assert_int_equal(bitmap[0], 1ull << 63);
	bitmap[0] = 0;
	assert_int_equal(get_dirty(f, dhwpt,
				   SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
				   IOVA_BASE, len, f->pg, bitmap),
			 0);
	assert_int_equal(bitmap[0], 0);
	/* a bad bitmap pointer faults */
	assert_int_equal(get_dirty(f, dhwpt, 0, IOVA_BASE, len, f->pg,
				   (void *)8),
			 -EFAULT);
	assert_int_equal(set_dirty(f, dhwpt, 0), 0);
	assert_int_equal(unmap(f, f->ioas, 0, UINT64_MAX, NULL), 0);
}

/*
 * drivers/dma/ioat/registers.h and hw.h, restated: just enough of the
 * engine to make one page dirty by DMA.
 */
#define IOAT_CHANCTRL	  0x80
#define IOAT_CHANCMD	  0x84
#define IOAT_DMACOUNT	  0x86
#define IOAT_CHANSTS	  0x88
#define IOAT_CHAINADDR	  0x90
#define IOAT_CHANERR	  0xa8
#define IOAT_CMD_RESET	  0x20
#define IOAT_STS_MASK	  7
#define IOAT_STS_DONE	  1
#define IOAT_STS_HALTED	  3
#define PCI_COMMAND	  0x04
#define PCI_COMMAND_MEM	  0x2
#define PCI_COMMAND_BUSMA 0x4

struct ioat_desc {
	uint32_t size, ctl;
	uint64_t src, dst, next, rsv1, rsv2, user1, user2;
};

static void dev_rw(int dev, unsigned int region, uint64_t off, void *v,
		   size_t n, bool write)
{
	off_t pos = (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(region) + off);

	assert_int_equal(write ? pwrite(dev, v, n, pos) : pread(dev, v, n, pos),
			 (ssize_t)n);
}

static uint64_t bar_rd(int dev, uint64_t off, size_t n)
{
	uint64_t v = 0;

	dev_rw(dev, SIO_VFIO_PCI_BAR0_REGION_INDEX, off, &v, n, false);
	return v;
}

static void bar_wr(int dev, uint64_t off, size_t n, uint64_t v)
{
	dev_rw(dev, SIO_VFIO_PCI_BAR0_REGION_INDEX, off, &v, n, true);
}

/* Bus mastering on, the channel reset, ready for a chain. */
static void ioat_reset(int dev)
{
	uint16_t cmd = PCI_COMMAND_MEM | PCI_COMMAND_BUSMA;

	dev_rw(dev, SIO_VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &cmd, 2,
	       true);
	bar_wr(dev, IOAT_CHANCMD, 1, IOAT_CMD_RESET);
	for (int i = 0;
	     i < 1000 && (bar_rd(dev, IOAT_CHANCMD, 1) & IOAT_CMD_RESET); i++)
		usleep(100);
}

/* The channel's state once it is done or halted (1 s at most). */
static uint64_t ioat_wait(int dev)
{
	uint64_t sts = 0;

	for (int i = 0; i < 20000; i++) {
		sts = bar_rd(dev, IOAT_CHANSTS, 8) & IOAT_STS_MASK;
		if (sts == IOAT_STS_DONE || sts == IOAT_STS_HALTED)
			break;
		usleep(50);
	}
	return sts;
}

/* Copy 64 bytes from IOVA page @src to page @dst with a descriptor on @desc. */
static void ioat_copy(struct fx *f, int dev, int src, int dst, int desc)
{
	struct ioat_desc *d = (struct ioat_desc *)(f->buf + desc * f->pg);

	ioat_reset(dev);
	*d = (struct ioat_desc){
		.size = 64,
		.src = IOVA_BASE + src * f->pg,
		.dst = IOVA_BASE + dst * f->pg,
		.next = IOVA_BASE + desc * f->pg,
	};
	bar_wr(dev, IOAT_CHAINADDR, 8, IOVA_BASE + desc * f->pg);
	bar_wr(dev, IOAT_CHANCTRL, 2, 0x0008);
	bar_wr(dev, IOAT_DMACOUNT, 2, 1);
	assert_int_equal(ioat_wait(dev), IOAT_STS_DONE);
	assert_int_equal(bar_rd(dev, IOAT_CHANERR, 4), 0);
}

/*
 * The bitmap is a byte array at any address (the selftest passes
 * bitmap + 0xff1): bit n of byte n / 8 is page n.  Only bits are set;
 * the bytes around the bitmap stay as they were.
 */
static void test_dirty_bitmap_unaligned(void **state)
{
	struct fx *f = *state;
	uint8_t raw[32];
	uint8_t *bm = raw + 3; /* not u64-aligned */
	uint32_t hwpt, got;

	open_bound(f, 0);
	if (hwpt_alloc(f, f->devid[0], f->ioas,
		       SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt)) {
		skip();
		return;
	}
	assert_int_equal(map_fixed(f, f->ioas, f->buf, 16 * f->pg, IOVA_BASE),
			 0);
	assert_int_equal(attach(f, 0, hwpt, &got), 0);
	assert_int_equal(
		set_dirty(f, hwpt, SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE), 0);
	/* page 10 is written by the device; page 15 holds the descriptor */
	ioat_copy(f, f->dev[0], 0, 10, 15);

	memset(raw, 0x00, sizeof(raw));
	raw[2] = 0xee; /* the byte before */
	bm[0] = 0x01;  /* a bit the caller set stays set */
	assert_int_equal(get_dirty(f, hwpt,
				   SIO_IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
				   IOVA_BASE, 16 * f->pg, f->pg, bm),
			 0);
	assert_int_equal(raw[2], 0xee);
	assert_int_equal(bm[0], 0x01);
	assert_int_equal(bm[1], 1u << (10 - 8));
	for (size_t i = 2; i < sizeof(raw) - 3; i++)
		assert_int_equal(bm[i], 0);
	/* NO_CLEAR left it dirty; a clearing read sees it once more */
	memset(raw, 0, sizeof(raw));
	assert_int_equal(
		get_dirty(f, hwpt, 0, IOVA_BASE, 16 * f->pg, f->pg, bm), 0);
	assert_int_equal(bm[1], 1u << (10 - 8));
	memset(raw, 0, sizeof(raw));
	assert_int_equal(
		get_dirty(f, hwpt, 0, IOVA_BASE, 16 * f->pg, f->pg, bm), 0);
	assert_int_equal(bm[1], 0);
	/* a bitmap page per two IOVA pages: bit 5 for page 10 */
	ioat_copy(f, f->dev[0], 0, 10, 15);
	memset(raw, 0, sizeof(raw));
	assert_int_equal(
		get_dirty(f, hwpt, 0, IOVA_BASE, 16 * f->pg, 2 * f->pg, bm), 0);
	assert_int_equal(bm[0], 1u << 5);
	assert_int_equal(detach(f, 0), 0);
}

/* ------------------------------------------------- VFIO cdev binding */

static void test_vfio_bind(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = f->fd};
	uint8_t uuid[16] = {1};
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC), fd2;
	uint32_t id2 = 0;

	f->dev[0] = open(VFIO0, O_RDWR | O_CLOEXEC);
	assert_true(f->dev[0] >= 0);
	/* vfio_df_ioctl_bind_iommufd(): argsz, flags, fd sign are EINVAL */
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_BIND_IOMMUFD, NULL),
			 -EFAULT);
	b.argsz =
		OFFSETOFEND(struct sio_vfio_device_bind_iommufd, out_devid) - 1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_BIND_IOMMUFD, &b),
			 -EINVAL);
	b.argsz = sizeof(b);
	b.flags = 1u << 1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_BIND_IOMMUFD, &b),
			 -EINVAL);
	/* a token for a device that is neither PF nor VF: EINVAL */
	b.flags = SIO_VFIO_DEVICE_BIND_FLAG_TOKEN;
	b.token_uuid_ptr = u64p(uuid);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_BIND_IOMMUFD, &b),
			 -EINVAL);
	b.flags = 0;
	assert_int_equal(bind_to(f->dev[0], -1, NULL), -EINVAL);
	/* iommufd_ctx_from_fd(): no file EBADF, not an iommufd EBADFD */
	assert_int_equal(bind_to(f->dev[0], 1000, NULL), -EBADF);
	assert_int_equal(bind_to(f->dev[0], null_fd, NULL), -EBADFD);
	assert_int_equal(bind_to(f->dev[0], f->dev[0], NULL), -EBADFD);
	/* argsz may be the minimum: token_uuid_ptr is not read then */
	b.argsz = OFFSETOFEND(struct sio_vfio_device_bind_iommufd, out_devid);
	b.out_devid = 0;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	f->devid[0] = b.out_devid;
	assert_int_not_equal(f->devid[0], 0);
	assert_int_not_equal(f->devid[0], f->ioas);
	/* one device cannot be bound twice, even to the same iommufd */
	assert_int_equal(bind_to(f->dev[0], f->fd, NULL), -EINVAL);

	/* the second function binds to another iommufd with its own ids */
	fd2 = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(fd2 >= 0);
	f->dev[1] = open(VFIO1, O_RDWR | O_CLOEXEC);
	assert_true(f->dev[1] >= 0);
	assert_int_equal(bind_to(f->dev[1], fd2, &id2), 0);
	/* ids are per iommufd: fd2 knows its device, ours knows none */
	struct sio_iommu_hw_info h = {.size = sizeof(h), .dev_id = id2};

	assert_int_equal(io(fd2, SIO_IOMMU_GET_HW_INFO, &h), 0);
	h.dev_id = f->devid[0];
	if (f->devid[0] != id2)
		assert_int_equal(io(fd2, SIO_IOMMU_GET_HW_INFO, &h), -ENOENT);
	/* an IOAS of our iommufd is no object of fd2's: ATTACH is ENOENT */
	uint32_t mine = 0;

	for (int i = 0; i < 3; i++)
		mine = ioas_alloc(f);
	assert_true(mine > id2);
	assert_int_equal(attach(f, 1, mine, NULL), -ENOENT);
	close(f->dev[1]);
	f->dev[1] = -1;
	close(fd2);
	close(null_fd);
}

/* Before BIND every other ioctl is EINVAL (vfio_device_fops_unl_ioctl()). */
static void test_vfio_unbound(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};
	struct sio_vfio_region_info ri = {.argsz = sizeof(ri)};
	struct sio_vfio_irq_info ii = {.argsz = sizeof(ii)};
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a),
						      .pt_id = f->ioas};
	struct sio_vfio_device_detach_iommufd_pt d = {.argsz = sizeof(d)};
	struct sio_vfio_irq_set s = {.argsz = sizeof(s)};
	uint8_t b;

	f->dev[0] = open(VFIO0, O_RDWR | O_CLOEXEC);
	assert_true(f->dev[0] >= 0);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_INFO, &info),
			 -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_REGION_INFO, &ri),
			 -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_IRQ_INFO, &ii),
			 -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_RESET, NULL), -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	/* even a number no VFIO driver knows */
	assert_int_equal(io(f->dev[0], SIO_VFIO_IO(40), NULL), -EINVAL);
	/* and region access */
	assert_int_equal(pread(f->dev[0], &b, 1,
			       (off_t)SIO_VFIO_PCI_INDEX_TO_OFFSET(
				       SIO_VFIO_PCI_CONFIG_REGION_INDEX)),
			 -1);
	assert_int_equal(errno, EINVAL);
}

/* ------------------------------------------------- ATTACH and DETACH */

static void test_vfio_attach_detach(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a)};
	struct sio_vfio_device_detach_iommufd_pt d = {.argsz = sizeof(d)};
	uint32_t auto0, auto1, hwpt, dirty = 0, got, ioas2 = ioas_alloc(f);

	open_bound(f, 0);
	open_bound(f, 1);
	assert_int_not_equal(f->devid[0], f->devid[1]);

	/* vfio_df_ioctl_attach_pt(): argsz, unknown flags EINVAL; PASID 0
	 * is iommufd's IOMMU_NO_PASID, the RID (test_vfio_pasid0), whose
	 * IOAS 0 does not exist: ENOENT */
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, NULL),
			 -EFAULT);
	a.pt_id = f->ioas;
	a.argsz = OFFSETOFEND(struct sio_vfio_device_attach_iommufd_pt, pt_id) -
		  1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	a.argsz = sizeof(a);
	a.flags = 1u << 1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -EINVAL);
	a.flags = SIO_VFIO_DEVICE_ATTACH_PASID;
	a.pt_id = 0;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 -ENOENT);
	a.flags = 0;
	/* iommufd_device_change_pt(): no object ENOENT, wrong type EINVAL */
	assert_int_equal(attach(f, 0, 0, NULL), -ENOENT);
	assert_int_equal(attach(f, 0, UINT32_MAX, NULL), -ENOENT);
	assert_int_equal(attach(f, 0, f->devid[1], NULL), -EINVAL);

	/* an IOAS: its automatic HWPT, shared by both functions */
	a.argsz = OFFSETOFEND(struct sio_vfio_device_attach_iommufd_pt, pt_id);
	a.pt_id = f->ioas;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
			 0);
	auto0 = a.pt_id;
	assert_int_not_equal(auto0, f->ioas);
	assert_int_equal(attach(f, 1, f->ioas, &auto1), 0);
	assert_int_equal(auto1, auto0);
	/* the automatic HWPT is an object, busy while attached */
	assert_int_equal(destroy(f, auto0), -EBUSY);
	assert_int_equal(destroy(f, f->ioas), -EBUSY);

	/* replace: to a HWPT, to another IOAS, back */
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &hwpt), 0);
	assert_int_equal(attach(f, 0, hwpt, &got), 0);
	assert_int_equal(got, hwpt);
	if (!hwpt_alloc(f, f->devid[0], ioas2,
			SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &dirty)) {
		assert_int_equal(attach(f, 0, dirty, &got), 0);
		assert_int_equal(got, dirty);
	}
	assert_int_equal(attach(f, 0, ioas2, &got), 0);
	assert_int_not_equal(got, auto0);
	/* replacing with the HWPT already attached is a no-op */
	assert_int_equal(attach(f, 0, got, &got), 0);
	assert_int_equal(attach(f, 0, f->ioas, &got), 0);
	assert_int_equal(got, auto0);
	/* a failed replace leaves the attachment alone */
	assert_int_equal(attach(f, 0, f->devid[0], NULL), -EINVAL);
	assert_int_equal(destroy(f, auto0), -EBUSY);

	/* DETACH: argsz, flags as ATTACH */
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, NULL),
			 -EFAULT);
	d.argsz = OFFSETOFEND(struct sio_vfio_device_detach_iommufd_pt, flags) -
		  1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	d.argsz = sizeof(d);
	d.flags = 1u << 1;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 -EINVAL);
	/* a PASID not attached: nothing to do, success */
	d.flags = SIO_VFIO_DEVICE_DETACH_PASID;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 0);
	d.flags = 0;
	d.argsz = OFFSETOFEND(struct sio_vfio_device_detach_iommufd_pt, flags);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
			 0);
	/* vfio_iommufd_physical_detach_ioas(): not attached is no error */
	assert_int_equal(detach(f, 0), 0);
	/* the other function still holds the automatic HWPT */
	assert_int_equal(destroy(f, auto0), -EBUSY);
	assert_int_equal(detach(f, 1), 0);
	/* the last detach destroyed it */
	assert_int_equal(destroy(f, auto0), -ENOENT);
	assert_int_equal(destroy(f, hwpt), 0);
	if (dirty)
		assert_int_equal(destroy(f, dirty), 0);
	assert_int_equal(destroy(f, f->ioas), 0);
	assert_int_equal(destroy(f, ioas2), 0);
	/* attach after detach is a fresh attach */
	uint32_t ioas3 = ioas_alloc(f);

	assert_int_equal(attach(f, 0, ioas3, &got), 0);
	assert_int_equal(detach(f, 0), 0);
}

/* ------------------------------------------------- device info ioctls */

static int pasid_attach(struct fx *f, uint32_t argsz, uint32_t pasid,
			uint32_t pt_id, uint32_t *out)
{
	struct sio_vfio_device_attach_iommufd_pt a = {
		.argsz = argsz,
		.flags = SIO_VFIO_DEVICE_ATTACH_PASID,
		.pt_id = pt_id,
		.pasid = pasid,
	};
	int rc = io(f->dev[0], SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!rc && out)
		*out = a.pt_id;
	return rc;
}

static int pasid_detach(struct fx *f, uint32_t argsz, uint32_t pasid)
{
	struct sio_vfio_device_detach_iommufd_pt d = {
		.argsz = argsz,
		.flags = SIO_VFIO_DEVICE_DETACH_PASID,
		.pasid = pasid,
	};

	return io(f->dev[0], SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

/*
 * PASIDs through the VFIO cdev: vfio_df_ioctl_attach_pt() and _detach_pt()
 * with VFIO_DEVICE_ATTACH_PASID / DETACH_PASID (argsz must cover pasid:
 * EINVAL), vfio_iommufd_physical_pasid_attach_ioas() (a second attach
 * replaces; its IDA stops at INT_MAX: ENOSPC), iommufd's rules beneath
 * (only HWPTs allocated with IOMMU_HWPT_ALLOC_PASID, and only while the
 * RID's was too: EINVAL; past the device's 20 bits: EINVAL).
 */
static void test_vfio_pasid(void **state)
{
	struct fx *f = *state;
	const uint32_t sz = sizeof(struct sio_vfio_device_attach_iommufd_pt);
	const uint32_t dsz = sizeof(struct sio_vfio_device_detach_iommufd_pt);
	uint32_t p1 = 0, p2 = 0, plain = 0, got = 0;
	struct sio_iommu_hw_info h = {.size = sizeof(h)};

	open_bound(f, 0);
	h.dev_id = f->devid[0];
	assert_int_equal(io(f->fd, SIO_IOMMU_GET_HW_INFO, &h), 0);
	assert_int_equal(h.out_max_pasid_log2, 20);
	assert_int_equal(h.out_capabilities & (SIO_IOMMU_HW_CAP_PCI_PASID_EXEC |
					       SIO_IOMMU_HW_CAP_PCI_PASID_PRIV),
			 SIO_IOMMU_HW_CAP_PCI_PASID_PRIV);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_PASID, &p1),
			 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_PASID, &p2),
			 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &plain), 0);

	/* argsz must reach pasid with the flag */
	assert_int_equal(pasid_attach(f, sz - 1, 1, p1, NULL), -EINVAL);
	assert_int_equal(pasid_detach(f, dsz - 1, 1), -EINVAL);
	/* iommufd's errnos */
	assert_int_equal(pasid_attach(f, sz, 1, 9999, NULL), -ENOENT);
	assert_int_equal(pasid_attach(f, sz, 1, f->ioas, NULL), -EINVAL);
	assert_int_equal(pasid_attach(f, sz, 1, plain, NULL), -EINVAL);
	assert_int_equal(pasid_attach(f, sz, 1u << 20, p1, NULL), -EINVAL);
	assert_int_equal(pasid_attach(f, sz, 0x80000000u, p1, NULL), -ENOSPC);

	/* a blocked RID takes PASIDs; attaching again replaces */
	assert_int_equal(pasid_attach(f, sz, 1, p1, &got), 0);
	assert_int_equal(got, p1);
	assert_int_equal(pasid_attach(f, sz, 1, p2, &got), 0);
	assert_int_equal(got, p2);
	assert_int_equal(destroy(f, p1), 0); /* replaced: free */
	assert_int_equal(destroy(f, p2), -EBUSY);
	assert_int_equal(pasid_attach(f, sz, 1, plain, NULL), -EINVAL);
	/* the RID: only an HWPT made for PASIDs while they are on */
	assert_int_equal(attach(f, 0, plain, NULL), -EINVAL);
	assert_int_equal(attach(f, 0, f->ioas, NULL), -EINVAL);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_PASID, &p1),
			 0);
	assert_int_equal(attach(f, 0, p1, &got), 0);
	assert_int_equal(got, p1);
	assert_int_equal(pasid_attach(f, sz, 2, p1, NULL), 0);

	/* detach: one PASID, then one never attached (nothing, 0) */
	assert_int_equal(pasid_detach(f, dsz, 1), 0);
	assert_int_equal(destroy(f, p2), 0);
	assert_int_equal(pasid_detach(f, dsz, 1), 0);
	/* closing the device detaches what is left */
	close(f->dev[0]);
	f->dev[0] = -1;
	assert_int_equal(destroy(f, p1), 0);
	assert_int_equal(destroy(f, plain), 0);
}

/*
 * PASID 0 with VFIO's PASID flag: vfio_iommufd_physical_pasid_attach_ioas()
 * hands it to iommufd's attach, which takes IOMMU_NO_PASID (0) for the
 * RID.  So any paging HWPT will do (the RID's rules), a second attach
 * replaces, the RID attached the other way refuses it (EBUSY: the device
 * is already in that attach's device array), DETACH without the flag
 * leaves it (VFIO never marked the device attached), and DETACH with the
 * flag and PASID 0 detaches the RID.
 */
static void test_vfio_pasid0(void **state)
{
	struct fx *f = *state;
	const uint32_t sz = sizeof(struct sio_vfio_device_attach_iommufd_pt);
	const uint32_t dsz = sizeof(struct sio_vfio_device_detach_iommufd_pt);
	uint32_t a = 0, b = 0, got = 0;

	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &a), 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &b), 0);

	assert_int_equal(pasid_attach(f, sz, 0, a, &got), 0);
	assert_int_equal(got, a);
	assert_int_equal(destroy(f, a), -EBUSY);
	/* again: a replace of the RID's domain */
	assert_int_equal(pasid_attach(f, sz, 0, b, &got), 0);
	assert_int_equal(destroy(f, a), 0);
	assert_int_equal(destroy(f, b), -EBUSY);
	/* the RID is taken: an attach without the flag is EBUSY */
	assert_int_equal(attach(f, 0, b, NULL), -EBUSY);
	/* a DETACH without the flag does not know it */
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(destroy(f, b), -EBUSY);
	assert_int_equal(pasid_detach(f, dsz, 0), 0);
	assert_int_equal(destroy(f, b), 0);

	/* the other way round: the RID attached without the flag */
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas, 0, &a), 0);
	assert_int_equal(attach(f, 0, a, NULL), 0);
	assert_int_equal(pasid_attach(f, sz, 0, a, NULL), -EBUSY);
	/* PASID 0 was never VFIO's: its DETACH leaves the RID */
	assert_int_equal(pasid_detach(f, dsz, 0), 0);
	assert_int_equal(destroy(f, a), -EBUSY);
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(destroy(f, a), 0);
}

static void test_vfio_get_info(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_info info;

	open_bound(f, 0);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_INFO, NULL),
			 -EFAULT);
	info = (struct sio_vfio_device_info){
		.argsz =
			OFFSETOFEND(struct sio_vfio_device_info, num_irqs) - 1};
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_INFO, &info),
			 -EINVAL);
	/* the pre-capability size: 16 bytes back, cap_offset untouched */
	info.argsz = OFFSETOFEND(struct sio_vfio_device_info, num_irqs);
	info.cap_offset = 0x5a5a;
	info.pad = 0x6b6b;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(info.flags, SIO_VFIO_DEVICE_FLAGS_PCI |
					     SIO_VFIO_DEVICE_FLAGS_RESET);
	assert_int_equal(info.num_regions, SIO_VFIO_PCI_NUM_REGIONS);
	assert_int_equal(info.num_irqs, SIO_VFIO_PCI_NUM_IRQS);
	assert_int_equal(info.cap_offset, 0x5a5a);
	assert_int_equal(info.pad, 0x6b6b);
	/* the full struct: no capability chain, cap_offset 0 */
	info.argsz = sizeof(info) + 64;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(info.cap_offset, 0);
	assert_int_equal(info.argsz, sizeof(info) + 64);
	assert_false(info.flags & SIO_VFIO_DEVICE_FLAGS_CAPS);
}

static int region_info(int dev, struct sio_vfio_region_info *r, uint32_t index,
		       uint32_t argsz)
{
	memset(r, 0, sizeof(*r));
	r->argsz = argsz;
	r->index = index;
	return io(dev, SIO_VFIO_DEVICE_GET_REGION_INFO, r);
}

static void test_vfio_region_info(void **state)
{
	struct fx *f = *state;
	uint8_t buf[sizeof(struct sio_vfio_region_info) + 64];
	struct sio_vfio_region_info *r = (void *)buf;
	struct sio_vfio_info_cap_header cap;

	open_bound(f, 0);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_REGION_INFO, NULL),
			 -EFAULT);
	assert_int_equal(region_info(f->dev[0], r,
				     SIO_VFIO_PCI_CONFIG_REGION_INDEX,
				     sizeof(*r) - 1),
			 -EINVAL);
	/* config space: PCIe's 4 KiB, read-write, at index << 40 */
	assert_int_equal(region_info(f->dev[0], r,
				     SIO_VFIO_PCI_CONFIG_REGION_INDEX,
				     sizeof(*r)),
			 0);
	assert_int_equal(r->size, 4096);
	assert_int_equal(r->flags, SIO_VFIO_REGION_INFO_FLAG_READ |
					   SIO_VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(r->offset, SIO_VFIO_PCI_INDEX_TO_OFFSET(
					    SIO_VFIO_PCI_CONFIG_REGION_INDEX));
	assert_int_equal(r->cap_offset, 0);

	/*
	 * BAR0 holds the MSI-X table and is mmap-able: the MSIX_MAPPABLE
	 * capability.  Too small an argsz: CAPS set, argsz grown,
	 * cap_offset 0, nothing past the struct written.
	 */
	memset(buf, 0xcc, sizeof(buf));
	r->argsz = sizeof(*r);
	r->index = SIO_VFIO_PCI_BAR0_REGION_INDEX;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_REGION_INFO, r), 0);
	assert_true(r->size >= 16384);
	assert_int_equal(r->flags & ~SIO_VFIO_REGION_INFO_FLAG_CAPS,
			 SIO_VFIO_REGION_INFO_FLAG_READ |
				 SIO_VFIO_REGION_INFO_FLAG_WRITE |
				 SIO_VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(r->flags & SIO_VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(r->argsz, sizeof(*r) + sizeof(cap));
	assert_int_equal(r->cap_offset, 0);
	assert_int_equal(buf[sizeof(*r)], 0xcc);
	assert_int_equal(r->offset, 0);
	/* with room: the chain follows the struct */
	r->argsz = sizeof(buf);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_REGION_INFO, r), 0);
	assert_int_equal(r->cap_offset, sizeof(*r));
	memcpy(&cap, buf + r->cap_offset, sizeof(cap));
	assert_int_equal(cap.id, SIO_VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	assert_int_equal(cap.version, 1);
	assert_int_equal(cap.next, 0);

	/* BARs 1-5 and the ROM are absent: size 0, no flags, no error */
	for (uint32_t i = SIO_VFIO_PCI_BAR1_REGION_INDEX;
	     i <= SIO_VFIO_PCI_ROM_REGION_INDEX; i++) {
		assert_int_equal(region_info(f->dev[0], r, i, sizeof(*r)), 0);
		assert_int_equal(r->size, 0);
		assert_int_equal(r->flags, 0);
		assert_int_equal(r->offset, SIO_VFIO_PCI_INDEX_TO_OFFSET(i));
	}
	/* no VGA, and no device-specific regions past the fixed ones */
	assert_int_equal(region_info(f->dev[0], r,
				     SIO_VFIO_PCI_VGA_REGION_INDEX, sizeof(*r)),
			 -EINVAL);
	assert_int_equal(region_info(f->dev[0], r, SIO_VFIO_PCI_NUM_REGIONS,
				     sizeof(*r)),
			 -EINVAL);
	assert_int_equal(region_info(f->dev[0], r, UINT32_MAX, sizeof(*r)),
			 -EINVAL);
}

static int irq_info(int dev, struct sio_vfio_irq_info *i, uint32_t index,
		    uint32_t argsz)
{
	*i = (struct sio_vfio_irq_info){.argsz = argsz, .index = index};
	return io(dev, SIO_VFIO_DEVICE_GET_IRQ_INFO, i);
}

static void test_vfio_irq_info(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_irq_info i;

	open_bound(f, 0);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_GET_IRQ_INFO, NULL),
			 -EFAULT);
	assert_int_equal(irq_info(f->dev[0], &i, SIO_VFIO_PCI_MSIX_IRQ_INDEX,
				  sizeof(i) - 1),
			 -EINVAL);
	assert_int_equal(irq_info(f->dev[0], &i, SIO_VFIO_PCI_NUM_IRQS,
				  sizeof(i)),
			 -EINVAL);
	/* INTx: maskable and automasked, but no pin on this function */
	assert_int_equal(irq_info(f->dev[0], &i, SIO_VFIO_PCI_INTX_IRQ_INDEX,
				  sizeof(i)),
			 0);
	assert_int_equal(i.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
					  SIO_VFIO_IRQ_INFO_MASKABLE |
					  SIO_VFIO_IRQ_INFO_AUTOMASKED);
	assert_int_equal(i.count, 0);
	/* no MSI capability */
	assert_int_equal(irq_info(f->dev[0], &i, SIO_VFIO_PCI_MSI_IRQ_INDEX,
				  sizeof(i)),
			 0);
	assert_int_equal(i.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
					  SIO_VFIO_IRQ_INFO_NORESIZE);
	assert_int_equal(i.count, 0);
	assert_int_equal(irq_info(f->dev[0], &i, SIO_VFIO_PCI_MSIX_IRQ_INDEX,
				  sizeof(i)),
			 0);
	assert_true(i.flags & SIO_VFIO_IRQ_INFO_EVENTFD);
	assert_false(i.flags & SIO_VFIO_IRQ_INFO_MASKABLE);
	assert_true(i.count >= 1);
	/* a PCI Express function: the error and request triggers */
	for (uint32_t x = SIO_VFIO_PCI_ERR_IRQ_INDEX;
	     x <= SIO_VFIO_PCI_REQ_IRQ_INDEX; x++) {
		assert_int_equal(irq_info(f->dev[0], &i, x, sizeof(i)), 0);
		assert_int_equal(i.flags, SIO_VFIO_IRQ_INFO_EVENTFD |
						  SIO_VFIO_IRQ_INFO_NORESIZE);
		assert_int_equal(i.count, 1);
	}
}

/* SET_IRQS with up to 8 s32/u8 payload entries. */
struct irq_set {
	struct sio_vfio_irq_set h;
	int32_t data[8];
};

static int set_irqs(int dev, uint32_t flags, uint32_t index, uint32_t start,
		    uint32_t count, const void *data, size_t len)
{
	struct irq_set s = {
		.h =
			{
				.argsz = (uint32_t)(sizeof(s.h) + len),
				.flags = flags,
				.index = index,
				.start = start,
				.count = count,
			},
	};

	if (len)
		memcpy(s.data, data, len);
	return io(dev, SIO_VFIO_DEVICE_SET_IRQS, &s);
}

static uint64_t efd_count(int efd)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};
	uint64_t n = 0;

	if (poll(&p, 1, 0) != 1)
		return 0;
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	return n;
}

#define TRIG	SIO_VFIO_IRQ_SET_ACTION_TRIGGER
#define D_NONE	SIO_VFIO_IRQ_SET_DATA_NONE
#define D_BOOL	SIO_VFIO_IRQ_SET_DATA_BOOL
#define D_EVFD	SIO_VFIO_IRQ_SET_DATA_EVENTFD
#define MSIX	SIO_VFIO_PCI_MSIX_IRQ_INDEX
#define ERR_IRQ SIO_VFIO_PCI_ERR_IRQ_INDEX
#define REQ_IRQ SIO_VFIO_PCI_REQ_IRQ_INDEX

/* vfio_set_irqs_validate_and_prepare(): every argument error is EINVAL. */
static void test_vfio_set_irqs_validate(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_irq_info ii;
	struct irq_set s = {.h = {.argsz = sizeof(s.h)}};
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	uint32_t nvec;

	open_bound(f, 0);
	assert_int_equal(irq_info(f->dev[0], &ii, MSIX, sizeof(ii)), 0);
	nvec = ii.count;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_SET_IRQS, NULL),
			 -EFAULT);
	s.h.argsz = sizeof(s.h) - 1;
	s.h.flags = D_NONE | TRIG;
	s.h.index = ERR_IRQ;
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_SET_IRQS, &s), -EINVAL);
	/* index past the last, unknown flag bits */
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG,
				  SIO_VFIO_PCI_NUM_IRQS, 0, 0, NULL, 0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG | (1u << 6), MSIX, 0,
				  1, NULL, 0),
			 -EINVAL);
	/* start and count against the index's vectors, and U32 wrap */
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, MSIX, nvec, 0, NULL,
				  0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, nvec + 1,
				  NULL, 0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 1,
				  UINT32_MAX - 1, NULL, 0),
			 -EINVAL);
	/* INTx and MSI have no vectors here: nothing to set */
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG,
				  SIO_VFIO_PCI_INTX_IRQ_INDEX, 0, 0, NULL, 0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG,
				  SIO_VFIO_PCI_MSI_IRQ_INDEX, 0, 0, NULL, 0),
			 -EINVAL);
	/* exactly one data type */
	assert_int_equal(set_irqs(f->dev[0], D_NONE | D_BOOL | TRIG, MSIX, 0, 1,
				  NULL, 0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], TRIG, MSIX, 0, 1, NULL, 0),
			 -EINVAL);
	/* argsz must hold count entries of the data type */
	assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 2, &efd,
				  sizeof(efd)),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_BOOL | TRIG, ERR_IRQ, 0, 1, NULL,
				  0),
			 -EINVAL);
	/*
	 * vfio_pci_set_irqs_ioctl(): MSI-X mask/unmask is not exported,
	 * ERR and REQ only trigger: no handler is ENOTTY.
	 */
	assert_int_equal(set_irqs(f->dev[0],
				  D_NONE | SIO_VFIO_IRQ_SET_ACTION_MASK, MSIX,
				  0, 1, NULL, 0),
			 -ENOTTY);
	assert_int_equal(set_irqs(f->dev[0],
				  D_NONE | SIO_VFIO_IRQ_SET_ACTION_UNMASK, MSIX,
				  0, 1, NULL, 0),
			 -ENOTTY);
	assert_int_equal(set_irqs(f->dev[0],
				  D_NONE | SIO_VFIO_IRQ_SET_ACTION_MASK,
				  ERR_IRQ, 0, 1, NULL, 0),
			 -ENOTTY);
	assert_int_equal(set_irqs(f->dev[0], D_NONE, REQ_IRQ, 0, 1, NULL, 0),
			 -ENOTTY);
	close(efd);
}

static void test_vfio_set_irqs_triggers(void **state)
{
	struct fx *f = *state;
	int32_t efd[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	int32_t null_fd = open("/dev/null", O_RDWR | O_CLOEXEC), bad = 1000;
	int32_t none = -1;
	uint8_t yes[2] = {1, 0};

	assert_true(efd[0] >= 0 && efd[1] >= 0);
	open_bound(f, 0);

	/* MSI-X loopback needs MSI-X enabled first */
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 1, NULL,
				  0),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_BOOL | TRIG, MSIX, 0, 1, yes, 1),
			 -EINVAL);
	/* eventfd_ctx_fdget(): no file EBADF, not an eventfd EINVAL */
	assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 1, &bad,
				  4),
			 -EBADF);
	assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 1,
				  &null_fd, 4),
			 -EINVAL);
	/* the I/OAT function has one vector: 0 */
	assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 2, efd,
				  sizeof(efd)),
			 -EINVAL);
	assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 1, efd, 4),
			 0);
	/* loopback: DATA_NONE fires, DATA_BOOL fires where the bool is set */
	assert_int_equal(
		set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 1, NULL, 0), 0);
	assert_int_equal(efd_count(efd[0]), 1);
	assert_int_equal(set_irqs(f->dev[0], D_BOOL | TRIG, MSIX, 0, 1, yes, 1),
			 0);
	assert_int_equal(efd_count(efd[0]), 1);
	assert_int_equal(
		set_irqs(f->dev[0], D_BOOL | TRIG, MSIX, 0, 1, yes + 1, 1), 0);
	assert_int_equal(efd_count(efd[0]), 0);
	/* a new eventfd replaces the old one while enabled */
	assert_int_equal(
		set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 1, efd + 1, 4), 0);
	assert_int_equal(
		set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 1, NULL, 0), 0);
	assert_int_equal(efd_count(efd[0]), 0);
	assert_int_equal(efd_count(efd[1]), 1);
	/* -1 de-assigns the vector; MSI-X stays on, loopback fires nothing */
	assert_int_equal(
		set_irqs(f->dev[0], D_EVFD | TRIG, MSIX, 0, 1, &none, 4), 0);
	assert_int_equal(
		set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 1, NULL, 0), 0);
	assert_int_equal(efd_count(efd[1]), 0);
	/* count 0 with DATA_NONE disables MSI-X; loopback is EINVAL again */
	assert_int_equal(
		set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 0, NULL, 0), 0);
	assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, MSIX, 0, 1, NULL,
				  0),
			 -EINVAL);

	/* vfio_pci_set_ctx_trigger_single() for ERR and REQ */
	for (uint32_t x = ERR_IRQ; x <= REQ_IRQ; x++) {
		/* loopback with no eventfd is EINVAL; start/count checked */
		assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, x, 0, 1,
					  NULL, 0),
				 -EINVAL);
		assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, x, 0, 0,
					  efd, 4),
				 -EINVAL);
		assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, x, 0, 1,
					  &bad, 4),
				 -EBADF);
		assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, x, 0, 1,
					  &null_fd, 4),
				 -EINVAL);
		assert_int_equal(
			set_irqs(f->dev[0], D_EVFD | TRIG, x, 0, 1, efd, 4), 0);
		assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, x, 0, 1,
					  NULL, 0),
				 0);
		assert_int_equal(efd_count(efd[0]), 1);
		assert_int_equal(
			set_irqs(f->dev[0], D_BOOL | TRIG, x, 0, 1, yes, 1), 0);
		assert_int_equal(efd_count(efd[0]), 1);
		/* DATA_NONE count 0 releases it; -1 would as well */
		assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, x, 0, 0,
					  NULL, 0),
				 0);
		assert_int_equal(set_irqs(f->dev[0], D_NONE | TRIG, x, 0, 1,
					  NULL, 0),
				 -EINVAL);
		assert_int_equal(set_irqs(f->dev[0], D_EVFD | TRIG, x, 0, 1,
					  &none, 4),
				 0);
		/* BOOL without an eventfd: nothing to signal, no error */
		assert_int_equal(
			set_irqs(f->dev[0], D_BOOL | TRIG, x, 0, 1, yes, 1), 0);
	}
	close(efd[0]);
	close(efd[1]);
	close(null_fd);
}

static void test_vfio_reset_and_unknown(void **state)
{
	struct fx *f = *state;
	uint16_t cmd = PCI_COMMAND_MEM | PCI_COMMAND_BUSMA, v = 0;

	open_bound(f, 0);
	/* FLAGS_RESET is set, so RESET works; it takes no argument */
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_RESET, NULL), 0);
	/* pci_try_reset_function() saves and restores config space */
	dev_rw(f->dev[0], SIO_VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &cmd,
	       2, true);
	assert_int_equal(io(f->dev[0], SIO_VFIO_DEVICE_RESET, (void *)8), 0);
	dev_rw(f->dev[0], SIO_VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &v, 2,
	       false);
	assert_int_equal(v & cmd, cmd);
	/* the channel is back to HALTED after the function-level reset */
	assert_int_equal(bar_rd(f->dev[0], IOAT_CHANSTS, 8) & IOAT_STS_MASK,
			 IOAT_STS_HALTED);
	/* vfio_pci_core_ioctl(): an unknown command is ENOTTY */
	assert_int_equal(io(f->dev[0], SIO_VFIO_IO(40), NULL), -ENOTTY);
	assert_int_equal(io(f->dev[0], _IO('x', 7), NULL), -ENOTTY);
	/* the device fd is no iommufd */
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_int_equal(io(f->dev[0], SIO_IOMMU_IOAS_ALLOC, &a), -ENOTTY);
}

/* ------------------------------------------------------------ nesting */

static int viommu_alloc(struct fx *f, uint32_t dev_id, uint32_t hwpt,
			uint32_t type, uint32_t *out)
{
	struct sio_iommu_viommu_alloc v = {
		.size = sizeof(v),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt,
	};
	int rc = io(f->fd, SIO_IOMMU_VIOMMU_ALLOC, &v);

	if (!rc && out)
		*out = v.out_viommu_id;
	return rc;
}

static int vdevice_alloc(struct fx *f, uint32_t viommu, uint32_t dev_id,
			 uint64_t virt_id, uint32_t *out)
{
	struct sio_iommu_vdevice_alloc v = {
		.size = sizeof(v),
		.viommu_id = viommu,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	int rc = io(f->fd, SIO_IOMMU_VDEVICE_ALLOC, &v);

	if (!rc && out)
		*out = v.out_vdevice_id;
	return rc;
}

/* IOMMU_HWPT_ALLOC on a vIOMMU with an Arm SMMUv3 vSTE (ste[0], ste[1]). */
static int vste_alloc(struct fx *f, uint32_t dev_id, uint32_t viommu,
		      uint64_t w0, uint64_t w1, uint32_t *out)
{
	struct sio_iommu_hwpt_arm_smmuv3 vste = {.ste = {w0, w1}};
	struct sio_iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.dev_id = dev_id,
		.pt_id = viommu,
		.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = u64p(&vste),
	};
	int rc = io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h);

	if (!rc && out)
		*out = h.out_hwpt_id;
	return rc;
}

/*
 * The nesting objects through ioctl(2), a VMM's sequence: a NEST_PARENT
 * HWPT, a vIOMMU on it, a vDEVICE per device, nested HWPTs from vSTEs,
 * ATTACH_IOMMUFD_PT to them; the kernel's errnos on the way (viommu.c,
 * hw_pagetable.c, arm-smmu-v3-iommufd.c).
 */
static void test_nesting(void **state)
{
	struct fx *f = *state;
	const uint64_t v = 1, cfg_abort = 0 << 1, cfg_s1 = 5ull << 1;
	const uint64_t cd_ipa = 0x40000000;
	uint32_t parent = 0, viommu = 0, vdev = 0, s1 = 0, abt = 0, pt = 0;

	open_bound(f, 0);
	open_bound(f, 1);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(viommu_alloc(f, f->devid[0], parent,
				      SIO_IOMMU_VIOMMU_TYPE_DEFAULT, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(viommu_alloc(f, f->devid[0], f->ioas,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3, NULL),
			 -ENOENT);
	assert_int_equal(viommu_alloc(f, f->devid[0], parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->devid[0], 0x100, &vdev),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->devid[1], 0x100, NULL),
			 -EEXIST);
	assert_int_equal(vdevice_alloc(f, viommu, f->devid[0], 0x101, NULL),
			 -EEXIST);
	/* a vSTE bit outside the allowed fields, a Config of stage 2 */
	assert_int_equal(vste_alloc(f, f->devid[0], viommu,
				    v | cfg_s1 | cd_ipa | (1ull << 56), 0,
				    NULL),
			 -EIO);
	assert_int_equal(vste_alloc(f, f->devid[0], viommu, v | (6ull << 1), 0,
				    NULL),
			 -EIO);
	assert_int_equal(vste_alloc(f, f->devid[0], viommu, v | cfg_s1 | cd_ipa,
				    0, &s1),
			 0);
	assert_int_equal(
		vste_alloc(f, f->devid[1], viommu, v | cfg_abort, 0, &abt), 0);
	/*
	 * IOMMU_HWPT_INVALIDATE on the vIOMMU: the guest's stage-1 TLBIs
	 * and CD invalidations with its own StreamIDs, nothing else
	 * (iommufd_hwpt_invalidate(), arm_vsmmu_cache_invalidate()).
	 */
	{
		uint64_t cmds[3][2] = {
			{0x10 /* TLBI_NH_ALL */, 0},
			{0x05 /* CFGI_CD */ | (0x100ull << 32), 0},
			{0x03 /* CFGI_STE */ | (0x100ull << 32), 0},
		};
		struct sio_iommu_hwpt_invalidate inv = {
			.size = sizeof(inv),
			.hwpt_id = viommu,
			.data_uptr = u64p(cmds),
			.data_type =
				SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
			.entry_len = sizeof(cmds[0]),
			.entry_num = 3,
		};

		assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_INVALIDATE, &inv),
				 -EIO);
		assert_int_equal(inv.entry_num, 2);
		inv.entry_num = 2;
		assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_INVALIDATE, &inv), 0);
		assert_int_equal(inv.entry_num, 2);
		/* a nested HWPT's, a parent's: not this way */
		inv.hwpt_id = s1;
		assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_INVALIDATE, &inv),
				 -EOPNOTSUPP);
		inv.hwpt_id = parent;
		assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_INVALIDATE, &inv),
				 -EINVAL);
		assert_int_equal(inv.entry_num, 0);
		inv.hwpt_id = viommu;
		inv.entry_num = 1;
		inv.data_uptr = 8;
		assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_INVALIDATE, &inv),
				 -EFAULT);
	}
	/* stage 1 needs the vDEVICE: device 1 has none, device 0 has */
	assert_int_equal(attach(f, 1, s1, NULL), -ENOENT);
	assert_int_equal(attach(f, 1, abt, &pt), 0);
	assert_int_equal(pt, abt);
	assert_int_equal(attach(f, 0, s1, &pt), 0);
	assert_int_equal(pt, s1);
	/* in use, in dependency order */
	assert_int_equal(destroy(f, s1), -EBUSY);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, parent), -EBUSY);
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(detach(f, 1), 0);
	assert_int_equal(destroy(f, s1), 0);
	assert_int_equal(destroy(f, abt), 0);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	assert_int_equal(destroy(f, vdev), 0);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, parent), 0);
}

/* Closing the device with a vDEVICE: the vDEVICE goes, its id stays taken. */
static void test_nesting_device_close(void **state)
{
	struct fx *f = *state;
	uint32_t parent = 0, viommu = 0, vdev = 0;

	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(viommu_alloc(f, f->devid[0], parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->devid[0], 7, &vdev), 0);
	assert_int_equal(destroy(f, viommu), -EBUSY);
	close(f->dev[0]);
	f->dev[0] = -1;
	assert_int_equal(destroy(f, vdev), -ENOENT);
	assert_int_equal(destroy(f, viommu), 0);
	assert_int_equal(destroy(f, parent), 0);
}

/* Start a 64-byte copy on @dev whose every DMA faults; wait for the halt. */
static void ioat_copy_faults(int dev)
{
	ioat_reset(dev);
	bar_wr(dev, IOAT_CHAINADDR, 8, IOVA_BASE);
	bar_wr(dev, IOAT_DMACOUNT, 2, 1);
	assert_int_equal(ioat_wait(dev), IOAT_STS_HALTED);
}

/*
 * IOMMU_VEVENTQ_ALLOC through ioctl(2), and its fd as the kernel's
 * "[iommufd-viommu-event]" file: a guest whose CD is invalid (V = 0)
 * makes its device's DMA a C_BAD_CD, which poll(2) announces and read(2)
 * returns as a vEVENT with the guest's StreamID; the fd holds the queue
 * (IOMMU_DESTROY is EBUSY until it is closed) and the iommufd.
 */
static void test_veventq(void **state)
{
	struct fx *f = *state;
	const uint64_t cd_ipa = IOVA_BASE + 4 * f->pg;
	uint32_t parent = 0, viommu = 0, s1 = 0, pt = 0;
	struct sio_iommu_veventq_alloc q = {
		.size = sizeof(q),
		.type = SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 8,
	};
	struct {
		struct sio_iommufd_vevent_header hdr;
		uint64_t evt[4];
	} rec;
	struct pollfd p;
	uint8_t small[8];
	int efd;

	open_bound(f, 0);
	assert_int_equal(hwpt_alloc(f, f->devid[0], f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(viommu_alloc(f, f->devid[0], parent,
				      SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
				      &viommu),
			 0);
	q.viommu_id = viommu;
	q.veventq_depth = 0;
	assert_int_equal(io(f->fd, SIO_IOMMU_VEVENTQ_ALLOC, &q), -EINVAL);
	q.veventq_depth = 8;
	q.type = SIO_IOMMU_VEVENTQ_TYPE_DEFAULT;
	assert_int_equal(io(f->fd, SIO_IOMMU_VEVENTQ_ALLOC, &q), -EOPNOTSUPP);
	q.type = SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3;
	assert_int_equal(io(f->fd, SIO_IOMMU_VEVENTQ_ALLOC, &q), 0);
	efd = (int)q.out_veventq_fd;
	assert_true(fcntl(efd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(efd, F_GETFL) & O_ACCMODE, O_RDWR);
	assert_int_equal(io(f->fd, SIO_IOMMU_VEVENTQ_ALLOC, &q), -EEXIST);

	/* the guest RAM (IOVA_BASE..) holds a zeroed CD at cd_ipa */
	memset(f->buf, 0, BUF_PAGES * f->pg);
	assert_int_equal(
		map_fixed(f, f->ioas, f->buf, BUF_PAGES * f->pg, IOVA_BASE), 0);
	assert_int_equal(vdevice_alloc(f, viommu, f->devid[0], 0x42, NULL), 0);
	assert_int_equal(vste_alloc(f, f->devid[0], viommu,
				    1 | (5ull << 1) | cd_ipa, 0, &s1),
			 0);
	assert_int_equal(attach(f, 0, s1, &pt), 0);

	/*
	 * nothing yet: poll says so, read returns 0 (POLLOUT is not asked:
	 * the interposer's fds are eventfds, always writable to poll)
	 */
	p = (struct pollfd){.fd = efd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(read(efd, &rec, sizeof(rec)), 0);

	ioat_copy_faults(f->dev[0]);
	p = (struct pollfd){.fd = efd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_true(p.revents & POLLIN);
	/* too small for the record: nothing is taken */
	assert_int_equal(read(efd, small, sizeof(small)), 0);
	assert_int_equal(read(efd, &rec, sizeof(rec)), sizeof(rec));
	assert_int_equal(rec.hdr.flags, 0);
	assert_int_equal(rec.hdr.sequence, 0);
	assert_int_equal(rec.evt[0] & 0xff, 0x0a); /* C_BAD_CD */
	assert_int_equal(rec.evt[0] >> 32, 0x42);  /* the vSID */
	/* a further fault of the halted channel may follow; drain it */
	while (read(efd, &rec, sizeof(rec)) > 0)
		;
	assert_int_equal(poll(&p, 1, 0), 0);

	/* not seekable, no write (the kernel's file has none) */
	assert_int_equal(pread(efd, &rec, sizeof(rec), 0), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(write(efd, &rec, sizeof(rec)), -1);
	assert_int_equal(errno, EINVAL);

	/* the open fd holds the queue */
	assert_int_equal(destroy(f, q.out_veventq_id), -EBUSY);
	assert_int_equal(close(efd), 0);
	assert_int_equal(destroy(f, q.out_veventq_id), 0);
	assert_int_equal(detach(f, 0), 0);
	assert_int_equal(destroy(f, s1), 0);

	/* a queue outliving its iommufd's fd keeps the context alive */
	q.veventq_depth = 1;
	assert_int_equal(io(f->fd, SIO_IOMMU_VEVENTQ_ALLOC, &q), 0);
	efd = (int)q.out_veventq_fd;
	close(f->dev[0]);
	f->dev[0] = -1;
	close(f->fd);
	f->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->fd >= 0);
	assert_int_equal(read(efd, &rec, sizeof(rec)), 0);
	assert_int_equal(close(efd), 0);
}

/*
 * IOMMU_FAULT_QUEUE_ALLOC through ioctl(2): its fd is the kernel's
 * "[iommufd-pgfault]" file — whole records only (ESPIPE otherwise),
 * nothing to read yet, unknown cookies refused — and it holds the queue
 * as an HWPT with FAULT_ID_VALID does.
 */
static void test_fault_queue(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_fault_alloc q = {.size = sizeof(q), .flags = 1};
	struct sio_iommu_hwpt_page_response resp = {.cookie = 1, .code = 0};
	struct sio_iommu_hwpt_pgfault rec;
	struct sio_iommu_hwpt_alloc h;
	struct pollfd p;
	int efd;

	assert_int_equal(io(f->fd, SIO_IOMMU_FAULT_QUEUE_ALLOC, &q),
			 -EOPNOTSUPP);
	/* the size rules: all 16 bytes are mandatory */
	q = (struct sio_iommu_fault_alloc){.size = 15};
	assert_int_equal(io(f->fd, SIO_IOMMU_FAULT_QUEUE_ALLOC, &q), -EINVAL);
	q.size = sizeof(q);
	assert_int_equal(io(f->fd, SIO_IOMMU_FAULT_QUEUE_ALLOC, &q), 0);
	efd = (int)q.out_fault_fd;
	assert_true(fcntl(efd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(efd, F_GETFL) & O_ACCMODE, O_RDWR);

	assert_int_equal(read(efd, &rec, sizeof(rec) - 1), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(read(efd, &rec, sizeof(rec)), 0);
	assert_int_equal(write(efd, &resp, sizeof(resp) - 1), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(write(efd, &resp, sizeof(resp)), -1);
	assert_int_equal(errno, EINVAL);
	p = (struct pollfd){.fd = efd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 0), 0);

	open_bound(f, 0);
	h = (struct sio_iommu_hwpt_alloc){
		.size = sizeof(h),
		.flags = SIO_IOMMU_HWPT_FAULT_ID_VALID,
		.dev_id = f->devid[0],
		.pt_id = f->ioas,
		.fault_id = f->ioas,
	};
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), -ENOENT);
	h.fault_id = q.out_fault_id;
	assert_int_equal(io(f->fd, SIO_IOMMU_HWPT_ALLOC, &h), 0);
	assert_int_equal(attach(f, 0, h.out_hwpt_id, NULL), 0);
	assert_int_equal(detach(f, 0), 0);
	/* held by the HWPT, then by the fd */
	assert_int_equal(destroy(f, q.out_fault_id), -EBUSY);
	assert_int_equal(destroy(f, h.out_hwpt_id), 0);
	assert_int_equal(destroy(f, q.out_fault_id), -EBUSY);
	assert_int_equal(close(efd), 0);
	assert_int_equal(destroy(f, q.out_fault_id), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cmd_length),
		T(test_cmd_fail),
		T(test_unknown_ioctl),
		T(test_bad_pointers),
		T(test_destroy),
		T(test_ioas_alloc),
		T(test_iova_ranges),
		T(test_allow_iovas),
		T(test_map_errors),
		T(test_map_fixed),
		T(test_map_auto_iova),
		T(test_map_file),
		T(test_copy),
		T(test_unmap),
		T(test_option_rlimit_mode),
		T(test_option_huge_pages),
		T(test_change_process),
		T(test_hwpt_alloc),
		T(test_get_hw_info),
		T(test_dirty_tracking_errors),
		T(test_dirty_bitmap_unaligned),
		T(test_vfio_bind),
		T(test_vfio_unbound),
		T(test_vfio_attach_detach),
		T(test_vfio_pasid),
		T(test_vfio_pasid0),
		T(test_vfio_get_info),
		T(test_vfio_region_info),
		T(test_vfio_irq_info),
		T(test_vfio_set_irqs_validate),
		T(test_vfio_set_irqs_triggers),
		T(test_vfio_reset_and_unknown),
		T(test_nesting),
		T(test_nesting_device_close),
		T(test_veventq),
		T(test_fault_queue),
	};

	if (access("/dev/iommu", F_OK)) {
		printf("1..0 # SKIP /dev/iommu absent: run under softiommu "
		       "exec\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
