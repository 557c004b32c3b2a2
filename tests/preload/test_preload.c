// SPDX-License-Identifier: MIT
/*
 * /dev/iommu as a program sees it: this test is written as a user
 * program would be.  It does not link libsoftiommu; it includes libc's
 * headers and the iommufd ABI header only, and meson runs it under
 * `softiommu exec`.  Run directly, it checks that /dev/iommu is then
 * absent (this machine has no iommufd), which is how it knows the
 * interposer, not the kernel, answered the other run.
 *
 * Expected values are the kernel's: iommufd_fops has ioctl and mmap and
 * no read, write or poll, so read is EINVAL, poll sees the file readable
 * and writable (DEFAULT_POLLMASK), epoll_ctl refuses it with EPERM, and
 * mmap is EINVAL (private), EPERM (exec), ENXIO (no region handed out).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"

#define RW (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)

static int open_iommu(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static uint32_t ioas_alloc(int fd)
{
	struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};

	assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	assert_true(c.out_ioas_id > 0);
	return c.out_ioas_id;
}

static int destroy(int fd, uint32_t id)
{
	struct sio_iommu_destroy c = {.size = sizeof(c), .id = id};

	return ioctl(fd, SIO_IOMMU_DESTROY, &c);
}

/* IOAS_MAP at a kernel-chosen IOVA, then IOAS_UNMAP of it. */
static void map_unmap(int fd, uint32_t ioas, void *va, uint64_t len)
{
	struct sio_iommu_ioas_map m = {.size = sizeof(m),
				       .flags = RW,
				       .ioas_id = ioas,
				       .user_va = (uint64_t)(uintptr_t)va,
				       .length = len};
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u), .ioas_id = ioas};

	assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_MAP, &m), 0);
	assert_true(m.iova != 0);
	u.iova = m.iova;
	u.length = len;
	assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &u), 0);
	assert_int_equal(u.length, len);
}

static void *page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	return p;
}

static void test_ioas(void **state)
{
	void *buf = page();
	int fd = open_iommu();
	uint32_t ioas = ioas_alloc(fd);

	(void)state;
	map_unmap(fd, ioas, buf, 4096);
	assert_int_equal(destroy(fd, ioas), 0);
	assert_int_equal(destroy(fd, ioas), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(close(fd), 0);
	munmap(buf, 4096);
}

static void test_errnos(void **state)
{
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = 4242};
	int fd = open_iommu();
	char b[8];

	(void)state;
	assert_int_equal(ioctl(fd, 0x1234, &d), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, (void *)8), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ioctl(fd, SIO_IOMMU_DESTROY, &d), -1);
	assert_int_equal(errno, ENOENT);
	/* no read or write in iommufd_fops: EINVAL */
	assert_int_equal(read(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(write(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pread(fd, b, sizeof(b), 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pread(fd, b, sizeof(b), -1), -1);
	assert_int_equal(errno, EINVAL);
	/* a success leaves errno alone, as the kernel's does */
	errno = 1234;
	ioas_alloc(fd);
	assert_int_equal(errno, 1234);
	assert_int_equal(close(fd), 0);
	assert_int_equal(ioctl(fd, SIO_IOMMU_DESTROY, &d), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(close(fd), -1);
	assert_int_equal(errno, EBADF);
}

/*
 * The program's own SIGSEGV/SIGBUS handlers, installed after /dev/iommu
 * is in use by each libc call that can install one: a bad ioctl pointer
 * still gives EFAULT (the library's fixup handler is back in front), and
 * the program's own faults still reach its handler.  The interposer sees
 * these calls and so lets the library skip its per-call check; if it
 * missed one, the ioctl's fault would land in the program's handler,
 * which fails the test.
 */
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_expected, fault_seen;

static void program_fault(int sig)
{
	if (!fault_expected)
		_exit(100 + sig); /* a fault of ours reached the program */
	fault_seen = sig;
	siglongjmp(fault_jmp, 1);
}

static void program_fault_info(int sig, siginfo_t *si, void *uc)
{
	(void)si, (void)uc;
	program_fault(sig);
}

/* Touch @p, which faults with @sig; the program's handler must see it. */
static void own_fault(volatile char *p, int sig)
{
	fault_seen = 0;
	fault_expected = 1;
	if (!sigsetjmp(fault_jmp, 1)) {
		(void)*p;
		fail_msg("no fault from a PROT_NONE page");
	}
	fault_expected = 0;
	assert_int_equal(fault_seen, sig);
}

static void install(int how, int sig)
{
	struct sigaction sa = {.sa_sigaction = program_fault_info,
			       .sa_flags = SA_SIGINFO | SA_NODEFER};

	switch (how) {
	case 0:
		assert_int_equal(sigaction(sig, &sa, NULL), 0);
		break;
	case 1:
		assert_true(signal(sig, program_fault) != SIG_ERR);
		break;
	case 2:
		assert_true(sysv_signal(sig, program_fault) != SIG_ERR);
		break;
	default:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		assert_true(sigset(sig, program_fault) != SIG_ERR);
#pragma GCC diagnostic pop
		break;
	}
}

static void test_program_fault_handlers(void **state)
{
	struct sigaction old_segv, old_bus;
	int fd = open_iommu();
	long pg = sysconf(_SC_PAGESIZE);
	char *none = mmap(NULL, (size_t)pg, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int mfd = memfd_create("short", MFD_CLOEXEC);
	char *beyond; /* a shared mapping past the end of its file: SIGBUS */

	(void)state;
	assert_true(none != MAP_FAILED && mfd >= 0);
	beyond = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, mfd, 0);
	assert_true(beyond != MAP_FAILED);
	assert_int_equal(sigaction(SIGSEGV, NULL, &old_segv), 0);
	assert_int_equal(sigaction(SIGBUS, NULL, &old_bus), 0);
	ioas_alloc(fd); /* the library's handler is armed now */
	for (int how = 0; how < 4; how++) {
		install(how, SIGSEGV);
		install(how, SIGBUS);
		assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, none), -1);
		assert_int_equal(errno, EFAULT);
		assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, beyond), -1);
		assert_int_equal(errno, EFAULT);
		own_fault(none, SIGSEGV);
		own_fault(beyond, SIGBUS);
		/* and again: the check is not only good for one call */
		assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, none), -1);
		assert_int_equal(errno, EFAULT);
		ioas_alloc(fd);
	}
	assert_int_equal(sigaction(SIGSEGV, &old_segv, NULL), 0);
	assert_int_equal(sigaction(SIGBUS, &old_bus, NULL), 0);
	close(mfd);
	munmap(beyond, (size_t)pg);
	munmap(none, (size_t)pg);
	assert_int_equal(close(fd), 0);
}

static void test_mmap(void **state)
{
	int fd = open_iommu();

	(void)state;
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_true(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd,
			 0) == MAP_FAILED);
	assert_int_equal(errno, EPERM);
	assert_true(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0) == MAP_FAILED);
	assert_int_equal(errno, ENXIO);
	assert_true(mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	close(fd);
}

/* One open file description behind every dup, as in the kernel. */
static void test_dup(void **state)
{
	int fd = open_iommu(), d1, d2, d3, nul;
	uint32_t a, b;

	(void)state;
	a = ioas_alloc(fd);
	d1 = dup(fd);
	assert_true(d1 >= 0 && d1 != fd);
	b = ioas_alloc(d1);
	assert_int_equal(b, a + 1); /* one object table */
	d2 = dup2(fd, 200);
	assert_int_equal(d2, 200);
	d3 = fcntl(fd, F_DUPFD_CLOEXEC, 300);
	assert_true(d3 >= 300);
	assert_int_equal(fcntl(d3, F_GETFD), FD_CLOEXEC);
	assert_int_equal(fcntl(d1, F_GETFD), 0);
	/* status flags are the description's, shared by every dup */
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	assert_true(fcntl(d2, F_GETFL) & O_NONBLOCK);
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	/* what F_GETFL shows is what the kernel shows for a char device */
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_int_equal(fcntl(d1, F_GETFL), fcntl(nul, F_GETFL));
	close(nul);
	/* closing some dups keeps the others and the context */
	assert_int_equal(close(fd), 0);
	assert_int_equal(close(d1), 0);
	assert_int_equal(destroy(d2, a), 0);
	assert_int_equal(destroy(d3, b), 0);
	assert_int_equal(dup3(d3, d3, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(close(d2), 0);
	assert_int_equal(close(d3), 0);
}

/* dup2 of a plain fd over a virtual one makes the number plain. */
static void test_dup2_over(void **state)
{
	int fd = open_iommu(), p[2];
	char c = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(dup2(p[0], fd), fd);
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(c, 'x');
	assert_int_equal(ioctl(fd, SIO_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, ENOTTY); /* a pipe's answer */
	close(fd);
	close(p[0]);
	close(p[1]);
}

static void test_poll(void **state)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct pollfd pfd;
	struct timeval tv = {0, 0};
	int fd = open_iommu(), ep, p[2];
	fd_set rd, wr;

	(void)state;
	pfd = (struct pollfd){.fd = fd, .events = POLLIN | POLLOUT};
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_int_equal(pfd.revents, POLLIN | POLLOUT);
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_SET(fd, &rd);
	FD_SET(fd, &wr);
	assert_int_equal(select(fd + 1, &rd, &wr, NULL, &tv), 2);
	/* do_epoll_ctl(): a file without .poll is EPERM */
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(epoll_ctl(-1, EPOLL_CTL_ADD, fd, &ev), -1);
	assert_int_equal(errno, EBADF);
	/* other fds still go to the kernel's epoll */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(epoll_wait(ep, &ev, 1, 1000), 1);
	close(p[0]);
	close(p[1]);
	close(ep);
	close(fd);
}

static void test_stat(void **state)
{
	struct stat a, b, c;
	struct statx x;
	int fd;

	(void)state;
	assert_int_equal(stat("/dev/iommu", &a), 0);
	assert_true(S_ISCHR(a.st_mode));
	assert_int_equal(lstat("/dev/iommu", &b), 0);
	assert_true(S_ISCHR(b.st_mode));
	assert_int_equal(access("/dev/iommu", R_OK | W_OK), 0);
	assert_int_equal(access("/dev/iommu", X_OK), -1);
	assert_int_equal(errno, EACCES);
	fd = open_iommu();
	assert_int_equal(fstat(fd, &c), 0);
	assert_true(S_ISCHR(c.st_mode));
	assert_int_equal(c.st_rdev, a.st_rdev);
	assert_int_equal(c.st_ino, a.st_ino);
	assert_int_equal(fstatat(AT_FDCWD, "/dev/iommu", &b, 0), 0);
	assert_int_equal(b.st_rdev, a.st_rdev);
	assert_int_equal(fstatat(fd, "", &b, AT_EMPTY_PATH), 0);
	assert_int_equal(b.st_ino, a.st_ino);
	assert_int_equal(
		statx(AT_FDCWD, "/dev/iommu", 0, STATX_BASIC_STATS, &x), 0);
	assert_true(S_ISCHR(x.stx_mode));
	close(fd);
	/* openat(AT_FDCWD) and the O_CREAT|O_EXCL / O_DIRECTORY refusals */
	fd = openat(AT_FDCWD, "/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(open("/dev/iommu", O_RDWR | O_CREAT | O_EXCL, 0600),
			 -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(open("/dev/iommu", O_RDONLY | O_DIRECTORY), -1);
	assert_int_equal(errno, ENOTDIR);
}

/* Everything that is not ours reaches the kernel unchanged. */
static void test_plain_files(void **state)
{
	char path[] = "/tmp/sio-preload-XXXXXX", b[16] = {0};
	struct stat st;
	int fd = mkstemp(path), fd2;
	char *m;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, world", 12), 12);
	assert_int_equal(pread(fd, b, 5, 0), 5);
	assert_string_equal(b, "hello");
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 12);
	m = mmap(NULL, 12, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(m != MAP_FAILED);
	assert_memory_equal(m, "hello, world", 12);
	munmap(m, 12);
	fd2 = open(path, O_RDONLY);
	assert_true(fd2 >= 0);
	assert_int_equal(read(fd2, b, 12), 12);
	assert_int_equal(ioctl(fd2, SIO_IOMMU_IOAS_ALLOC, NULL), -1);
	assert_int_equal(errno, ENOTTY);
	assert_int_equal(close(fd2), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(open("/dev/iommuX", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
}

#define THREADS 6
#define ROUNDS	150

static void *worker(void *arg)
{
	void *buf = arg;

	for (int i = 0; i < ROUNDS; i++) {
		int fd = open_iommu(), d = dup(fd);
		uint32_t ioas = ioas_alloc(fd);

		map_unmap(d, ioas, buf, 4096);
		assert_int_equal(close(fd), 0);
		assert_int_equal(destroy(d, ioas), 0);
		assert_int_equal(close(d), 0);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t t[THREADS];
	void *buf = page();

	(void)state;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, buf), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	munmap(buf, 4096);
}

/* A close racing ioctls: each ioctl works or sees EBADF, nothing else. */
static atomic_int race_fd;
static atomic_bool race_stop;

static void *ioctl_loop(void *arg)
{
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = 999};

	(void)arg;
	while (!atomic_load(&race_stop)) {
		int rc = ioctl(atomic_load(&race_fd), SIO_IOMMU_DESTROY, &d);

		/* ENOENT from iommufd, EBADF after close, ENOTTY if the
		 * number went to another kind of file meanwhile */
		assert_true(rc == -1 && (errno == ENOENT || errno == EBADF ||
					 errno == ENOTTY));
	}
	return NULL;
}

static void test_close_race(void **state)
{
	pthread_t t[2];

	(void)state;
	atomic_store(&race_fd, open_iommu());
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, ioctl_loop, NULL),
				 0);
	for (int i = 0; i < 300; i++) {
		int old = atomic_load(&race_fd);

		atomic_store(&race_fd, open_iommu());
		assert_int_equal(close(old), 0);
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	close(atomic_load(&race_fd));
}

/*
 * fork: the child shares the parent's file, as the kernel's fork shares
 * the struct file: its ioctl acts on the parent's context; a new open in
 * the child is a new context.
 */
static void test_fork(void **state)
{
	int fd = open_iommu(), status;
	pid_t pid;

	(void)state;
	ioas_alloc(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};
		int ok = ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &c) == 0 &&
			 c.out_ioas_id == 2 && close(fd) == 0;
		int nfd = open("/dev/iommu", O_RDWR);

		ok = ok && nfd >= 0 &&
		     ioctl(nfd, SIO_IOMMU_IOAS_ALLOC, &c) == 0 &&
		     c.out_ioas_id == 1;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the child's IOAS is in the parent's context; its id is free again */
	assert_int_equal(destroy(fd, 2), 0);
	assert_int_equal(ioas_alloc(fd), 2);
	close(fd);
}

/* Run without the interposer, /dev/iommu does not exist here. */
static void test_absent(void **state)
{
	struct stat st;

	(void)state;
	if (stat("/dev/iommu", &st) == 0)
		skip(); /* a kernel with iommufd: nothing to check */
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open("/dev/iommu", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
}

static bool interposed(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "libsoftiommu-preload");
}

int main(void)
{
	const struct CMUnitTest with[] = {
		cmocka_unit_test(test_ioas),
		cmocka_unit_test(test_errnos),
		cmocka_unit_test(test_program_fault_handlers),
		cmocka_unit_test(test_mmap),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_dup2_over),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_plain_files),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_close_race),
		cmocka_unit_test(test_fork),
	};
	const struct CMUnitTest without[] = {
		cmocka_unit_test(test_absent),
	};

	if (interposed())
		return cmocka_run_group_tests_name("preload", with, NULL, NULL);
	return cmocka_run_group_tests_name("preload (not interposed)", without,
					   NULL, NULL);
}
