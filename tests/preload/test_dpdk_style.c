// SPDX-License-Identifier: MIT
/*
 * A DPDK-style user-space driver (tools/dpdk_driver.c: the EAL's VFIO
 * set-up, a DMA PMD's ring and interrupt) on 0000:00:04.1, in the five
 * ways a program gets DMA: a /dev/vfio/vfio container with TYPE1 or
 * TYPE1v2, /dev/iommu as the container with TYPE1 or TYPE1v2, and the
 * cdev with IOMMU_IOAS_MAP — each on anonymous and on hugepage memory.
 *
 * Expected values are the documented ones, restated here: the group
 * and cdev numbers of docs/vfio.md ("/dev/vfio/1 holds 0000:00:04.1"),
 * and the I/OAT channel of docs/devices.md and the kernel's
 * drivers/dma/ioat/registers.h: the last descriptor's completion write
 * holds its address | DONE, an interrupt per armed INT_REARM, a write
 * through an unmapped IOVA halts the channel with DEST_ADDR_ERR alone.
 *
 * Written as a user program: libc and the ABI headers only, run under
 * `softiommu exec`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#include "../../tools/dpdk_driver.h"
#include "uapi/vfio_abi.h"

#define BDF	 "0000:00:04.1"
#define GROUP_NO 1 /* docs/vfio.md: /dev/vfio/1 holds 0000:00:04.1 */
#define CDEV_NO	 1 /* vfio-dev/vfio1 */
/* drivers/dma/ioat/registers.h */
#define CHANSTS_DONE   1
#define CHANSTS_HALTED 3
#define CHANSTS_STATUS 0x7ull
#define CHANSTS_ADDR   (~0x3full)
#define CHANERR_DEST   0x0002
#define PCI_COMMAND    0x04
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_MASTER 0x4
#define GUARD	       64 /* bytes after a copy that must stay zero */
#define IRQ_TIMEOUT_MS 5000

/*
 * A chain of four: a page, an odd length, one that crosses pages and
 * ends mid-page, and a long one that the engine copies in many pages.
 */
static const size_t lens[] = {4096, 1000, 65539, 200000};
#define NR_COPIES (sizeof(lens) / sizeof(lens[0]))

struct variant {
	enum dpdk_mode mode;
	bool huge;
};

/* Fail with the driver's step and errno, so a red test says where. */
static void must(const struct dpdk_dev *d, int rc)
{
	if (rc)
		fail_msg("%s: %s", d->failed ? d->failed : "?", strerror(-rc));
}

static void alloc_memory(struct dpdk_dev *d, bool huge)
{
	assert_int_equal(dpdk_seg_alloc(&d->ctl, huge), 0);
	assert_int_equal(dpdk_seg_alloc(&d->dst, huge), 0);
	if (huge) {
		/* the IOMMU sees hugepage-sized, -aligned segments */
		assert_int_equal(d->ctl.iova % DPDK_SEG_LEN, 0);
		assert_int_equal(d->dst.iova % DPDK_SEG_LEN, 0);
	}
	if (huge && !d->ctl.hugetlb)
		printf("# no hugepages here (MAP_HUGETLB failed): a 2 MiB-"
		       "aligned anonymous region stands in\n");
}

/* rte_vfio_setup_device() and the PMD's probe. */
static void bring_up(struct dpdk_dev *d, enum dpdk_mode mode)
{
	uint16_t cmd = 0;

	must(d, dpdk_open(d, mode, BDF));
	if (mode == DPDK_CDEV)
		assert_int_equal(d->cdev_no, CDEV_NO);
	else
		assert_int_equal(d->group_no, GROUP_NO);
	must(d, dpdk_dma_map(d, &d->ctl));
	must(d, dpdk_dma_map(d, &d->dst));
	must(d, dpdk_dev_start(d));
	/* the reset that followed kept config space: still a bus master */
	assert_int_equal(
		pread(d->dev, &cmd, 2, (off_t)(d->cfg_off + PCI_COMMAND)), 2);
	assert_int_equal(cmd & (PCI_CMD_MEMORY | PCI_CMD_MASTER),
			 PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

static void fill_sources(struct dpdk_dev *d, unsigned int seed)
{
	for (unsigned int i = 0; i < NR_COPIES; i++)
		for (size_t k = 0; k < lens[i]; k++)
			dpdk_src(d, i)[k] = (uint8_t)(k * 31 + i * 7 + seed);
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (p[k])
			fail_msg("byte %zu is %#x, not 0", k, p[k]);
}

/* Every copy landed whole, and not a byte beyond it. */
static void assert_copied(struct dpdk_dev *d)
{
	for (unsigned int i = 0; i < NR_COPIES; i++) {
		assert_memory_equal(dpdk_dst(d, i), dpdk_src(d, i), lens[i]);
		assert_zero(dpdk_dst(d, i) + lens[i], GUARD);
	}
}

/* The chain ran: one interrupt, DONE at the last descriptor. */
static void copy_and_check(struct dpdk_dev *d)
{
	uint64_t last = dpdk_desc_iova(d, NR_COPIES - 1);
	struct dpdk_burst b;

	must(d, dpdk_copy_burst(d, lens, NR_COPIES, IRQ_TIMEOUT_MS, &b));
	assert_int_equal(b.polled, 1);
	assert_int_equal(b.irqs, 1);
	assert_int_equal(b.chansts & CHANSTS_STATUS, CHANSTS_DONE);
	assert_int_equal(b.chansts & CHANSTS_ADDR, last);
	assert_int_equal(b.chanerr, 0);
	assert_int_equal(b.writeback, last | CHANSTS_DONE);
	assert_copied(d);
}

/*
 * After UNMAP returned, the same chain cannot reach the destination:
 * the first write halts the channel, the error interrupt fires, the
 * halted status is written back, and the memory stays untouched.
 */
static void unmap_and_check_fault(struct dpdk_dev *d)
{
	struct dpdk_burst b;
	uint64_t unmapped = 0;

	must(d, dpdk_dma_unmap(d, &d->dst, &unmapped));
	assert_int_equal(unmapped, DPDK_SEG_LEN);
	memset(d->dst.va, 0, d->dst.len);
	must(d, dpdk_copy_burst(d, lens, NR_COPIES, IRQ_TIMEOUT_MS, &b));
	assert_int_equal(b.polled, 1);
	assert_int_equal(b.irqs, 1);
	assert_int_equal(b.chansts & CHANSTS_STATUS, CHANSTS_HALTED);
	assert_int_equal(b.chanerr, CHANERR_DEST);
	assert_int_equal(b.writeback & CHANSTS_STATUS, CHANSTS_HALTED);
	assert_zero(d->dst.va, d->dst.len);
}

/* Released: the group has no container, the cdev opens again. */
static void assert_released(enum dpdk_mode mode)
{
	struct sio_vfio_group_status st = {.argsz = sizeof(st)};
	char path[64];
	int fd;

	if (mode == DPDK_CDEV)
		snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d",
			 CDEV_NO);
	else
		snprintf(path, sizeof(path), "/dev/vfio/%d", GROUP_NO);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	if (mode != DPDK_CDEV) {
		assert_int_equal(ioctl(fd, SIO_VFIO_GROUP_GET_STATUS, &st), 0);
		assert_int_equal(st.flags, SIO_VFIO_GROUP_FLAGS_VIABLE);
	}
	close(fd);
}

/* The device and memory of one run; torn down even when a check failed. */
struct run {
	const struct variant *v;
	struct dpdk_dev d;
};

static int setup(void **state)
{
	struct run *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->v = *state;
	r->d.container = r->d.group = r->d.dev = r->d.efd = -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct run *r = *state;

	dpdk_close(&r->d);
	dpdk_seg_free(&r->d.ctl);
	dpdk_seg_free(&r->d.dst);
	free(r);
	return 0;
}

static void test_dpdk_flow(void **state)
{
	struct run *r = *state;
	struct dpdk_dev *d = &r->d;

	alloc_memory(d, r->v->huge);
	bring_up(d, r->v->mode);
	fill_sources(d, (unsigned int)r->v->mode);
	copy_and_check(d);
	unmap_and_check_fault(d);
	must(d, dpdk_close(d));
	assert_released(r->v->mode);
}

/*
 * Whether the hugepage variants had hugepages: without, they ran on
 * 2 MiB-aligned anonymous memory, and this says so (a TAP comment: a
 * cmocka skip would read as "not ok").
 */
static void test_hugetlb_backing(void **state)
{
	struct dpdk_seg s;

	(void)state;
	assert_int_equal(dpdk_seg_alloc(&s, true), 0);
	if (s.hugetlb)
		assert_int_equal((uintptr_t)s.va % DPDK_SEG_LEN, 0);
	else
		printf("# SKIP hugetlb: no hugepages on this machine; the "
		       "hugepage variants ran on 2 MiB-aligned anonymous "
		       "memory\n");
	dpdk_seg_free(&s);
}

static const struct variant variants[] = {
	{DPDK_TYPE1, false},	      {DPDK_TYPE1, true},
	{DPDK_TYPE1V2, false},	      {DPDK_TYPE1V2, true},
	{DPDK_COMPAT_TYPE1, false},   {DPDK_COMPAT_TYPE1, true},
	{DPDK_COMPAT_TYPE1V2, false}, {DPDK_COMPAT_TYPE1V2, true},
	{DPDK_CDEV, false},	      {DPDK_CDEV, true},
};

#define VARIANT(n, name)                                            \
	{                                                           \
		"dpdk_flow/" name, test_dpdk_flow, setup, teardown, \
			(void *)&variants[n]                        \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		VARIANT(0, "type1/anon"),
		VARIANT(1, "type1/hugepage"),
		VARIANT(2, "type1v2/anon"),
		VARIANT(3, "type1v2/hugepage"),
		VARIANT(4, "compat_type1/anon"),
		VARIANT(5, "compat_type1/hugepage"),
		VARIANT(6, "compat_type1v2/anon"),
		VARIANT(7, "compat_type1v2/hugepage"),
		VARIANT(8, "cdev/anon"),
		VARIANT(9, "cdev/hugepage"),
		cmocka_unit_test(test_hugetlb_backing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
