// SPDX-License-Identifier: MIT
/*
 * Copies from and to the caller's memory, on both of their paths: our
 * own memory (the fault fixup where there is one), and another
 * process's, as a fork child's call reaches it (sio_user_set_mm()) and
 * as sio_user_copy_from_mm() reads it.  Each is 0 or -EFAULT: for an
 * unmapped or protected page, a range that wraps, a process that is
 * gone; a length of 0 always succeeds.  The uAPI copies are fault points,
 * sio_user_copy_from_mm() is not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <softiommu/fault.h>

#include "sio_test.h"

#include "uapi/uapi.h"

/* Three pages: read-write, read-only, unmapped. */
struct fx {
	uint8_t *p;
	long pg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pg = sysconf(_SC_PAGESIZE);
	f->p = mmap(NULL, 3 * (size_t)f->pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->p != MAP_FAILED);
	memset(f->p, 0x5a, 2 * (size_t)f->pg);
	assert_int_equal(mprotect(f->p + f->pg, (size_t)f->pg, PROT_READ), 0);
	assert_int_equal(munmap(f->p + 2 * f->pg, (size_t)f->pg), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	munmap(f->p, 2 * (size_t)f->pg);
	free(f);
	return 0;
}

static uint64_t uaddr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* The uAPI copies, with the calling thread's current mm @mm. */
static void check_user_copies(struct fx *f, pid_t mm)
{
	uint8_t buf[64];
	pid_t old = sio_user_set_mm(mm);

	sio_user_begin();
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sio_user_read(buf, uaddr(f->p + 8), sizeof(buf)), 0);
	assert_int_equal(buf[63], 0x5a);
	memset(buf, 0xc3, sizeof(buf));
	assert_int_equal(sio_user_write(uaddr(f->p), buf, sizeof(buf)), 0);
	assert_int_equal(f->p[63], 0xc3);
	/* a read-only page reads, and takes no write */
	assert_int_equal(sio_user_read(buf, uaddr(f->p + f->pg), 8), 0);
	assert_int_equal(sio_user_write(uaddr(f->p + f->pg), buf, 8), -EFAULT);
	assert_int_equal(f->p[f->pg], 0x5a);
	/* into the unmapped page, from either side of its start */
	assert_int_equal(sio_user_read(buf, uaddr(f->p + 2 * f->pg), 8),
			 -EFAULT);
	assert_int_equal(sio_user_read(buf, uaddr(f->p + 2 * f->pg - 4), 8),
			 -EFAULT);
	assert_int_equal(sio_user_write(uaddr(f->p + 2 * f->pg), buf, 8),
			 -EFAULT);
	/* a range that wraps; and nothing at all, anywhere */
	assert_int_equal(sio_user_read(buf, UINT64_MAX - 3, 8), -EFAULT);
	assert_int_equal(sio_user_write(UINT64_MAX - 3, buf, 8), -EFAULT);
	assert_int_equal(sio_user_read(buf, 0, 0), 0);
	assert_int_equal(sio_user_write(0, buf, 0), 0);
	/* a copy is a fault point; a copy of nothing is not */
	sio_fail_nth_set(1);
	assert_int_equal(sio_user_read(buf, uaddr(f->p), 0), 0);
	assert_int_equal(sio_user_read(buf, uaddr(f->p), 8), -EFAULT);
	assert_int_equal(sio_fail_nth_get(), 0);
	sio_user_set_mm(old);
}

static void test_own_memory(void **state)
{
	check_user_copies(*state, 0);
}

/* The syscall path, as a fork child's call takes it: here, ourselves. */
static void test_current_mm(void **state)
{
	check_user_copies(*state, getpid());
}

/* A pid that no process has now: a child of ours, reaped. */
static pid_t gone_pid(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

static void test_copy_from_mm(void **state)
{
	struct fx *f = *state;
	uint8_t buf[64];
	pid_t me = getpid();

	memset(buf, 0, sizeof(buf));
	assert_int_equal(sio_user_copy_from_mm(me, buf, uaddr(f->p + 8),
					       sizeof(buf)),
			 0);
	assert_int_equal(buf[63], 0x5a);
	assert_int_equal(sio_user_copy_from_mm(me, buf, uaddr(f->p + f->pg), 8),
			 0);
	assert_int_equal(sio_user_copy_from_mm(me, buf,
					       uaddr(f->p + 2 * f->pg - 4), 8),
			 -EFAULT);
	assert_int_equal(sio_user_copy_from_mm(me, buf, UINT64_MAX - 3, 8),
			 -EFAULT);
	assert_int_equal(sio_user_copy_from_mm(me, buf, 0, 0), 0);
	assert_int_equal(sio_user_copy_from_mm(gone_pid(), buf, uaddr(f->p), 8),
			 -EFAULT);
	/* not a fault point: the armed count is left for the next one */
	sio_fail_nth_set(1);
	assert_int_equal(sio_user_copy_from_mm(me, buf, uaddr(f->p), 8), 0);
	assert_int_equal(sio_fail_nth_get(), 1);
	sio_fail_nth_set(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_memory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_current_mm, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_copy_from_mm, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
