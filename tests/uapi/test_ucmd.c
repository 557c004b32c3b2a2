// SPDX-License-Identifier: MIT
/*
 * The front half of every iommufd ioctl: command numbers, the minimum and
 * full sizes of the kernel's table (uapi-facts.md §1.2, typed here from
 * that page), and the errnos of the extensible-struct rules — ENOTTY,
 * EFAULT, EINVAL, E2BIG — with pointers into unmapped and protected
 * pages, which must fail cleanly rather than crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

/* nr, minimum size, size: the kernel's iommufd_ioctl_ops[] (§1.2). */
static const uint32_t facts[][3] = {
	{0x80, 8, 8},	{0x81, 12, 12}, {0x82, 24, 24}, {0x83, 40, 40},
	{0x84, 32, 32}, {0x85, 40, 40}, {0x86, 24, 24}, {0x87, 24, 24},
	{0x88, 12, 12}, {0x89, 24, 48}, {0x8a, 32, 40}, {0x8b, 16, 16},
	{0x8c, 48, 48}, {0x8d, 32, 32}, {0x8e, 16, 16}, {0x8f, 40, 40},
	{0x90, 24, 40}, {0x91, 24, 24}, {0x92, 8, 8},	{0x93, 28, 32},
	{0x94, 40, 40}, {0x95, 40, 40},
};

#define NFACTS (sizeof(facts) / sizeof(facts[0]))

/* Two pages: the first read-write, the second inaccessible. */
static uint8_t *guarded(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + pg, (size_t)pg, PROT_NONE), 0);
	return p;
}

static void unguard(uint8_t *p)
{
	munmap(p, 2 * (size_t)sysconf(_SC_PAGESIZE));
}

static uint64_t uptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static int ucmd_in(unsigned int cmd, const void *arg, uint8_t *kbuf,
		   uint32_t *usize)
{
	const struct sio_iommufd_cmd *op;

	return sio_iommufd_ucmd_in(cmd, uptr(arg), kbuf, 64, &op, usize);
}

static void test_table_matches_facts(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFACTS; i++) {
		const struct sio_iommufd_cmd *c =
			sio_iommufd_cmd_find(0x3b00 | facts[i][0]);

		assert_non_null(c);
		assert_int_equal(c->cmd, 0x3b00 | facts[i][0]);
		assert_int_equal(c->min_size, facts[i][1]);
		assert_int_equal(c->size, facts[i][2]);
	}
	assert_int_equal(SIO_IOMMU_IOAS_MAP, 0x3b85);
	assert_int_equal(SIO_IOMMU_DESTROY, 0x3b80);
	assert_int_equal(SIO_IOMMU_HW_QUEUE_ALLOC, 0x3b94);
}

static void test_unknown_commands(void **state)
{
	uint8_t arg[64] = {8}, kbuf[64];
	uint32_t usize;

	(void)state;
	/* Outside the table (the selftest uses nr 0x7f), and past its end. */
	assert_int_equal(ucmd_in(0x3b7f, arg, kbuf, &usize), -ENOTTY);
	assert_int_equal(ucmd_in(0x3b96, arg, kbuf, &usize), -ENOTTY);
	/* The right nr with another type: only the whole number matches. */
	assert_int_equal(ucmd_in(0x4180, arg, kbuf, &usize), -ENOTTY);
	/* ...and that is checked after the size word is read. */
	assert_int_equal(ucmd_in(0x4180, NULL, kbuf, &usize), -EFAULT);
}

static void test_sizes(void **state)
{
	uint8_t arg[64], kbuf[64];
	uint32_t usize;

	(void)state;
	for (size_t i = 0; i < NFACTS; i++) {
		unsigned int cmd = 0x3b00 | facts[i][0];
		uint32_t min = facts[i][1], size = facts[i][2];

		memset(arg, 0, sizeof(arg));
		/* One byte short of the minimum. */
		memcpy(arg, &(uint32_t){min - 1}, 4);
		assert_int_equal(ucmd_in(cmd, arg, kbuf, &usize), -EINVAL);
		/* The minimum: the rest of the struct reads as zero. */
		memset(arg + 4, 0xa5, min - 4);
		memcpy(arg, &min, 4);
		memset(kbuf, 0xff, sizeof(kbuf));
		assert_int_equal(ucmd_in(cmd, arg, kbuf, &usize), 0);
		assert_int_equal(usize, min);
		assert_int_equal(kbuf[min - 1], 0xa5);
		for (uint32_t b = min; b < size; b++)
			assert_int_equal(kbuf[b], 0);
		/* Longer than we know: a zero tail is accepted... */
		memset(arg + 4, 0, sizeof(arg) - 4);
		memcpy(arg, &(uint32_t){size + 8}, 4);
		assert_int_equal(ucmd_in(cmd, arg, kbuf, &usize), 0);
		/* ...a non-zero one is E2BIG. */
		arg[size + 7] = 1;
		assert_int_equal(ucmd_in(cmd, arg, kbuf, &usize), -E2BIG);
	}
}

static void test_bad_pointers(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *p = guarded(), kbuf[64];
	struct sio_iommu_ioas_map *m;
	uint32_t usize;

	(void)state;
	/* NULL, an unmapped page, a protected page: EFAULT, no crash. */
	assert_int_equal(ucmd_in(SIO_IOMMU_IOAS_MAP, NULL, kbuf, &usize),
			 -EFAULT);
	assert_int_equal(ucmd_in(SIO_IOMMU_IOAS_MAP, p + pg, kbuf, &usize),
			 -EFAULT);
	/* The size word readable, the struct running into the guard page. */
	m = (struct sio_iommu_ioas_map *)(p + pg - 16);
	m->size = sizeof(*m);
	assert_int_equal(ucmd_in(SIO_IOMMU_IOAS_MAP, m, kbuf, &usize), -EFAULT);
	/* A tail to check that runs into it: EFAULT, not E2BIG. */
	m = (struct sio_iommu_ioas_map *)(p + pg - 48);
	memset(m, 0, 48);
	m->size = 4096;
	assert_int_equal(ucmd_in(SIO_IOMMU_IOAS_MAP, m, kbuf, &usize), -EFAULT);
	/* A range that wraps around the address space. */
	assert_int_equal(sio_user_read(kbuf, UINT64_MAX - 3, 8), -EFAULT);
	unguard(p);
}

static void test_reply(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	const struct sio_iommufd_cmd *op = sio_iommufd_cmd_find(0x3b89);
	uint8_t *p = guarded(), reply[48], user[64];

	(void)state;
	/* as every uAPI call does before its first copy */
	sio_user_begin();
	memset(reply, 0x11, sizeof(reply));
	memset(user, 0, sizeof(user));
	/* A user struct shorter than ours gets only its own bytes... */
	assert_int_equal(sio_iommufd_ucmd_out(op, uptr(user), 24, reply), 0);
	assert_int_equal(user[23], 0x11);
	assert_int_equal(user[24], 0);
	/* ...a longer one only ours. */
	assert_int_equal(sio_iommufd_ucmd_out(op, uptr(user), 64, reply), 0);
	assert_int_equal(user[47], 0x11);
	assert_int_equal(user[48], 0);
	/* Writing into a read-only or inaccessible page: EFAULT. */
	assert_int_equal(mprotect(p, (size_t)pg, PROT_READ), 0);
	assert_int_equal(sio_iommufd_ucmd_out(op, uptr(p), 48, reply), -EFAULT);
	assert_int_equal(p[0], 0);
	assert_int_equal(sio_iommufd_ucmd_out(op, uptr(p + pg), 48, reply),
			 -EFAULT);
	unguard(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_matches_facts),
		cmocka_unit_test(test_unknown_commands),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
