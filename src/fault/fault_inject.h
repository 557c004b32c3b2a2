/* SPDX-License-Identifier: MIT */
/*
 * Fault points (include/softiommu/fault.h says what they do for users).
 *
 * Every layer reaches libc's allocators and the other fallible calls that
 * matter through these wrappers, so that a test can make any one of them
 * fail.  They stay compiled in for release builds, so the disarmed case
 * is one thread-local load and a branch predicted not taken.
 */
#ifndef SIO_FAULT_INJECT_H
#define SIO_FAULT_INJECT_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

/*
 * The library's thread-locals, all small: initial-exec, a fixed offset
 * from the thread pointer, no __tls_get_addr call, in the shared library
 * and the interposer too (which makes all of them static TLS, so a
 * dlopen() of the interposer needs them small: docs/benchmarks.md).
 */
#define SIO_TLS		 _Thread_local __attribute__((tls_model("initial-exec")))
#define SIO_FAIL_NTH_TLS SIO_TLS

/* The calling thread's fail-nth count (fail_nth.c). */
extern SIO_FAIL_NTH_TLS unsigned int sio_fail_nth_left;

/* Count one armed fault point down: true when it is the one to fail. */
bool sio_fail_nth_tick(void);

/* A fault point: true when this call must fail. */
static inline bool sio_should_fail(void)
{
	if (__builtin_expect(sio_fail_nth_left == 0, 1))
		return false;
	return sio_fail_nth_tick();
}

/* Failing allocators: NULL with errno ENOMEM, as libc's own. */
static inline void *sio_fail_enomem(void)
{
	errno = ENOMEM;
	return NULL;
}

static inline void *sio_malloc(size_t size)
{
	return sio_should_fail() ? sio_fail_enomem() : malloc(size);
}

static inline void *sio_calloc(size_t nmemb, size_t size)
{
	return sio_should_fail() ? sio_fail_enomem() : calloc(nmemb, size);
}

/* On failure @ptr is left as it was, as realloc() leaves it. */
static inline void *sio_realloc(void *ptr, size_t size)
{
	return sio_should_fail() ? sio_fail_enomem() : realloc(ptr, size);
}

static inline void *sio_aligned_alloc(size_t align, size_t size)
{
	return sio_should_fail() ? sio_fail_enomem()
				 : aligned_alloc(align, size);
}

/* 0 or ENOMEM (a positive errno, as posix_memalign() returns). */
static inline int sio_posix_memalign(void **out, size_t align, size_t size)
{
	return sio_should_fail() ? ENOMEM : posix_memalign(out, align, size);
}

static inline char *sio_strdup(const char *s)
{
	return sio_should_fail() ? sio_fail_enomem() : strdup(s);
}

/* MAP_FAILED with errno ENOMEM when injected. */
static inline void *sio_mmap(void *addr, size_t len, int prot, int flags,
			     int fd, off_t off)
{
	if (sio_should_fail()) {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	return mmap(addr, len, prot, flags, fd, off);
}

/* 0 or a positive errno, as pthread_create() returns: EAGAIN injected. */
static inline int sio_pthread_create(pthread_t *t, const pthread_attr_t *attr,
				     void *(*fn)(void *), void *arg)
{
	return sio_should_fail() ? EAGAIN : pthread_create(t, attr, fn, arg);
}

/* -1 with errno set when injected: a call that makes a file descriptor. */
static inline bool sio_should_fail_fd(void)
{
	if (!sio_should_fail())
		return false;
	errno = ENOMEM;
	return true;
}

#endif /* SIO_FAULT_INJECT_H */
