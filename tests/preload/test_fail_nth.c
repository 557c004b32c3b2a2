// SPDX-License-Identifier: MIT
/*
 * The kernel's fault-injection files as a program sees them under
 * `softiommu exec`, driving the library's fault points: what the kernel's
 * iommufd_fail_nth selftest does, written here from the kernel's
 * documented behaviour (Documentation/fault-injection/
 * fault-injection.rst; fs/proc/base.c's fail-nth read and write;
 * lib/fault-inject.c's should_fail_ex(); kstrtouint_from_user(),
 * kstrtobool() and debugfs's attribute formats).
 *
 *  - debugfs: opendir("/sys/kernel/debug/"), openat() of
 *    "failslab/ignore-gfp-wait" from its dirfd() and a write of "N",
 *    the fail* directories in readdir, each one's "verbose";
 *  - fail-nth: "%u\n" of what is left; writing N makes the Nth fault
 *    point fail and the count read 0; copy_to_user() of a read is itself
 *    a fault point (so a read while armed counts one down, and reading
 *    with 1 left fails with EFAULT); parse errors EINVAL and ERANGE;
 *  - a walk over IOAS_ALLOC + IOAS_MAP through ioctl(2): every N fails
 *    with ENOMEM or EFAULT until the flow runs whole; another over the
 *    VFIO cdev's bind and attach, after each failure everything closes,
 *    the device opens again and no fd is left behind;
 *  - per thread: /proc/thread-self/ is the caller's, and another thread's
 *    count is not disturbed; a forked child (as the kselftest harness
 *    runs each test) has its own.
 *
 * A user program: libc and the ABI headers only.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

/* pread at 0 as a string; the result of pread */
static ssize_t read_at0(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n < 0 ? 0 : n] = 0;
	return n;
}

static void write_str(int fd, const char *s, ssize_t expect, int err)
{
	ssize_t n = pwrite(fd, s, strlen(s), 0);

	assert_int_equal(n, expect);
	if (expect < 0)
		assert_int_equal(errno, err);
}

/*
 * Write 0.  While armed, the write's own copy_from_user() is a fault
 * point and may be the fault (EFAULT), which disarms too; then write
 * again, as iommufd_fail_nth.c does.
 */
static void disarm(int nth)
{
	ssize_t n = pwrite(nth, "0", 1, 0);

	if (n == -1 && errno == EFAULT)
		n = pwrite(nth, "0", 1, 0);
	assert_int_equal(n, 1);
}

static int open_self_nth(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/fail-nth", getpid());
	return open(path, O_RDWR);
}

static void test_debugfs(void **state)
{
	static const char *const dirs[] = {"failslab", "fail_page_alloc",
					   "fail_usercopy"};
	DIR *d = opendir("/sys/kernel/debug/");
	bool seen[3] = {false};
	struct dirent *e;
	char buf[32];
	int fd;

	(void)state;
	assert_non_null(d);
	/* the selftest's first write: relative to the stream's fd */
	fd = openat(dirfd(d), "failslab/ignore-gfp-wait", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "N", 1), 1);
	close(fd);
	fd = openat(dirfd(d), "failslab/ignore-gfp-wait", O_RDONLY);
	assert_true(fd >= 0);
	/* a debugfs bool reads Y or N and a newline */
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "N\n", 2);
	/* read() moves the position: the next one is at the end */
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	while ((e = readdir(d))) {
		char fn[300];

		for (int i = 0; i < 3; i++)
			if (!strcmp(e->d_name, dirs[i]))
				seen[i] = true;
		if (strncmp(e->d_name, "fail", 4))
			continue;
		snprintf(fn, sizeof(fn), "%s/verbose", e->d_name);
		fd = openat(dirfd(d), fn, O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "0", 1), 1);
		close(fd);
	}
	closedir(d);
	for (int i = 0; i < 3; i++)
		assert_true(seen[i]);
	/* the absolute path reaches the same value; an unsigned long */
	fd = open("/sys/kernel/debug/fail_page_alloc/verbose", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(read_at0(fd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	/* simple_attr_write(): kstrtoull, base 0 */
	write_str(fd, "0x10\n", 5, 0);
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "16\n");
	write_str(fd, "ten", -1, EINVAL);
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "16\n");
	close(fd);
	/* bool: kstrtobool refuses what it does not know */
	fd = open("/sys/kernel/debug/failslab/task-filter", O_WRONLY);
	assert_true(fd >= 0);
	write_str(fd, "x", -1, EINVAL);
	write_str(fd, "on", 2, 0);
	close(fd);
	/* a name debugfs does not have */
	assert_int_equal(open("/sys/kernel/debug/failslab/nope", O_RDONLY), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_count(void **state)
{
	char buf[32];
	int fd = open_self_nth();

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(read_at0(fd, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	/* armed with 3: the read shows 3, and its copy counts one down */
	write_str(fd, "3", 1, 0);
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "3\n");
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "2\n");
	/* 1 left: the read's copy_to_user() is the fault */
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EFAULT);
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "0\n");
	/* armed with 1, even the write that disarms meets the fault */
	write_str(fd, "1", 1, 0);
	write_str(fd, "0", -1, EFAULT);
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "0\n");
	/* kstrtouint_from_user(): base 0, a newline, a '+' */
	write_str(fd, "+0x20\n", 6, 0);
	write_str(fd, "0", 1, 0); /* and 0 disarms */
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "0\n");
	write_str(fd, "4294967296", -1, ERANGE);
	write_str(fd, "-1", -1, EINVAL);
	write_str(fd, "1 ", -1, EINVAL);
	assert_int_equal(pwrite(fd, "", 0, 0), -1);
	assert_int_equal(errno, EINVAL);
	/* the file has no llseek */
	assert_int_equal(lseek(fd, 0, SEEK_SET), -1);
	assert_int_equal(errno, ESPIPE);
	close(fd);
	/* the other names of the same file */
	fd = open("/proc/thread-self/fail-nth", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	fd = open("/proc/self/fail-nth", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
}

static int map_flow(int iommufd, void *buf, size_t len)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.length = len,
	};

	if (ioctl(iommufd, SIO_IOMMU_IOAS_ALLOC, &a))
		return -1;
	m.ioas_id = a.out_ioas_id;
	m.user_va = (uintptr_t)buf;
	return ioctl(iommufd, SIO_IOMMU_IOAS_MAP, &m);
}

static void test_walk(void **state)
{
	size_t len = 4 * (size_t)sysconf(_SC_PAGESIZE);
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int nth = open_self_nth(), fd, n;
	char arm[16], got[32];

	(void)state;
	assert_true(buf != MAP_FAILED);
	assert_true(nth >= 0);
	for (n = 1; n < 400; n++) {
		int rc, err;

		fd = open("/dev/iommu", O_RDWR);
		assert_true(fd >= 0);
		snprintf(arm, sizeof(arm), "%d", n);
		write_str(nth, arm, (ssize_t)strlen(arm), 0);
		rc = map_flow(fd, buf, len);
		err = errno;
		/*
		 * "0\n": injected.  Else the flow ran whole and the read's
		 * own copy may be the fault (EFAULT: 1 was left).
		 */
		if (read_at0(nth, got, sizeof(got)) == 2 &&
		    !strcmp(got, "0\n")) {
			assert_int_equal(rc, -1);
			assert_true(err == ENOMEM || err == EFAULT);
			close(fd);
			continue;
		}
		disarm(nth);
		assert_int_equal(rc, 0);
		close(fd);
		break;
	}
	print_message("# IOAS_ALLOC + IOAS_MAP: %d fault points\n", n - 1);
	assert_true(n > 2);
	close(nth);
	munmap(buf, len);
}

/* The lowest free fd: what a leaked one would change. */
static int next_fd(void)
{
	int fd = dup(0);

	close(fd);
	return fd;
}

/*
 * The VFIO cdev path through ioctl(2): open the device, bind it to an
 * iommufd, attach it to an IOAS with a mapping.  After each injected
 * failure everything closes and the next round can open the device again
 * (it is open once at a time: a leaked open would be EBUSY) with the fd
 * table as before.
 */
static int vfio_flow(int nth, int n, int *injected)
{
	size_t len = 4 * (size_t)sysconf(_SC_PAGESIZE);
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.length = len,
		.user_va = (uintptr_t)buf,
	};
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b)};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	int iommufd = open("/dev/iommu", O_RDWR);
	int dev = open("/dev/vfio/devices/vfio0", O_RDWR);
	char arm[16], got[32];
	int rc, err;

	assert_true(buf != MAP_FAILED);
	assert_true(iommufd >= 0);
	assert_true(dev >= 0);
	assert_int_equal(ioctl(iommufd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	m.ioas_id = a.out_ioas_id;
	assert_int_equal(ioctl(iommufd, SIO_IOMMU_IOAS_MAP, &m), 0);
	b.iommufd = iommufd;
	at.pt_id = a.out_ioas_id;
	snprintf(arm, sizeof(arm), "%d", n);
	write_str(nth, arm, (ssize_t)strlen(arm), 0);
	rc = ioctl(dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);
	if (!rc)
		rc = ioctl(dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	err = errno;
	*injected = read_at0(nth, got, sizeof(got)) == 2 && !strcmp(got, "0\n");
	disarm(nth);
	if (*injected) {
		assert_int_equal(rc, -1);
		assert_true(err == ENOMEM || err == EFAULT || err == EAGAIN);
	}
	close(dev);
	close(iommufd);
	munmap(buf, len);
	return rc;
}

static void test_walk_vfio_cdev(void **state)
{
	int nth = open_self_nth(), fd0, n, injected = 1;

	(void)state;
	assert_true(nth >= 0);
	fd0 = next_fd();
	for (n = 1; injected && n < 400; n++) {
		int rc = vfio_flow(nth, n, &injected);

		assert_int_equal(next_fd(), fd0);
		if (!injected)
			assert_int_equal(rc, 0);
	}
	print_message("# VFIO cdev bind + attach: %d fault points\n", n - 2);
	assert_true(n > 3);
	close(nth);
}

static void *thread_main(void *arg)
{
	char buf[32];
	int fd = open("/proc/thread-self/fail-nth", O_RDWR);

	if (fd < 0)
		return (void *)1;
	/* this thread's count starts at 0, whatever the other's is */
	if (read_at0(fd, buf, sizeof(buf)) != 2 || strcmp(buf, "0\n"))
		return (void *)2;
	/* and the other thread's file is not this one's to use */
	if (pread(*(int *)arg, buf, sizeof(buf), 0) != -1 || errno != EPERM)
		return (void *)3;
	close(fd);
	return NULL;
}

static void test_per_thread(void **state)
{
	int fd = open_self_nth();
	pthread_t t;
	void *ret;
	char buf[32];

	(void)state;
	assert_true(fd >= 0);
	write_str(fd, "1000", 4, 0);
	assert_int_equal(pthread_create(&t, NULL, thread_main, &fd), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	/* untouched by the other thread (the read counts one down) */
	read_at0(fd, buf, sizeof(buf));
	assert_string_equal(buf, "1000\n");
	write_str(fd, "0", 1, 0);
	close(fd);
}

/* Through stdio, as a shell or a script would reach them. */
static void test_stdio(void **state)
{
	unsigned long v = 99;
	char line[32];
	FILE *f;

	(void)state;
	f = fopen("/proc/thread-self/fail-nth", "w");
	assert_non_null(f);
	assert_true(fputs("100\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	f = fopen("/proc/thread-self/fail-nth", "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	/* less: opening the file allocates, as the kernel's open does */
	v = strtoul(line, NULL, 10);
	assert_true(v > 90 && v < 100);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(fclose(f), 0);
	f = fopen("/proc/thread-self/fail-nth", "w");
	assert_non_null(f);
	assert_true(fputs("0", f) >= 0);
	assert_int_equal(fclose(f), 0);
	f = fopen("/sys/kernel/debug/failslab/interval", "r");
	assert_non_null(f);
	v = 99;
	assert_int_equal(fscanf(f, "%lu", &v), 1);
	assert_int_equal(v, 1); /* the kernel's default */
	assert_int_equal(fclose(f), 0);
}

/*
 * What the kselftest harness does: each test in a forked child, whose
 * main thread (tid = its pid) opens its own fail-nth and a new
 * /dev/iommu.
 */
static int child_walk_one(void)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	int nth = open_self_nth(), fd = open("/dev/iommu", O_RDWR);
	char buf[32];
	int rc, err;

	if (nth < 0 || fd < 0)
		return 1;
	if (read_at0(nth, buf, sizeof(buf)) != 2 || strcmp(buf, "0\n"))
		return 6;
	if (pwrite(nth, "1", 1, 0) != 1)
		return 2;
	rc = ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a);
	err = errno;
	if (rc != -1 || (err != ENOMEM && err != EFAULT))
		return 3;
	if (read_at0(nth, buf, sizeof(buf)) != 2 || strcmp(buf, "0\n"))
		return 4;
	/* disarmed: the same call works */
	return ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a) ? 5 : 0;
}

static void test_fork(void **state)
{
	int nth = open_self_nth(), status;
	pid_t pid;

	(void)state;
	/* armed here: the child (a new task) starts disarmed all the same */
	assert_true(nth >= 0);
	write_str(nth, "1000", 4, 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid)
		_exit(child_walk_one());
	write_str(nth, "0", 1, 0);
	close(nth);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debugfs),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_vfio_cdev),
		cmocka_unit_test(test_per_thread),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_stdio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
