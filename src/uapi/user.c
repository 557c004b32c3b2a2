// SPDX-License-Identifier: MIT
/*
 * The caller's memory, as the kernel's copy_{from,to}_user() reach it.
 * ioctl arguments arrive as pointers from an unmodified program, which
 * may hand us anything; process_vm_readv/writev on our own process fault
 * cleanly (EFAULT) on an unmapped or protected page, where a plain memcpy
 * would crash the program we serve.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "uapi.h"

static int user_xfer(void *local, uint64_t uaddr, size_t len, bool write)
{
	struct iovec l = {.iov_base = local, .iov_len = len};
	struct iovec r = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = len};
	ssize_t n;

	if (!len)
		return 0;
	/* A range that wraps is not memory anyone has. */
	if (uaddr + len < uaddr || uaddr + len - 1 > UINTPTR_MAX)
		return -EFAULT;
	n = write ? process_vm_writev(getpid(), &l, 1, &r, 1, 0)
		  : process_vm_readv(getpid(), &l, 1, &r, 1, 0);
	/* A short transfer stopped at a fault. */
	return n == (ssize_t)len ? 0 : -EFAULT;
}

int sio_user_read(void *dst, uint64_t uaddr, size_t len)
{
	return user_xfer(dst, uaddr, len, false);
}

int sio_user_write(uint64_t uaddr, const void *src, size_t len)
{
	return user_xfer((void *)(uintptr_t)src, uaddr, len, true);
}

int sio_user_is_zero(uint64_t uaddr, size_t len)
{
	uint8_t chunk[256];

	while (len) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
		int rc = sio_user_read(chunk, uaddr, n);

		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			if (chunk[i])
				return 0;
		uaddr += n;
		len -= n;
	}
	return 1;
}

int sio_user_struct_in(void *kbuf, size_t ksize, uint64_t uaddr, size_t usize)
{
	size_t common = usize < ksize ? usize : ksize;

	if (usize < ksize) {
		memset((uint8_t *)kbuf + usize, 0, ksize - usize);
	} else if (usize > ksize) {
		/* Fields we do not know may be present only as zeros. */
		int rc = sio_user_is_zero(uaddr + ksize, usize - ksize);

		if (rc <= 0)
			return rc ? rc : -E2BIG;
	}
	return sio_user_read(kbuf, uaddr, common);
}
