// SPDX-License-Identifier: MIT
/*
 * The libc entry points only the /sys view needs (sysfs.c): readlink,
 * the directory streams and scandir, fopen, realpath and the xattr reads (ls -l
 * asks for ACLs and labels).  glibc's own opendir, fopen and realpath call its
 * internal openat, getdents64, lstat and readlink, which never reach the
 * interposer, so these are taken whole for our paths and streams; everything
 * else goes to libc untouched.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "preload.h"

#define EXPORT __attribute__((visibility("default")))

char *__realpath_chk(const char *path, char *resolved, size_t resolvedlen);
void __chk_fail(void) __attribute__((noreturn));

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent64 is "
								 "dirent on "
								 "LP64");

EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	ssize_t rc;

	preload_ready();
	if (preload_sysfs_readlink(path, buf, size, &rc))
		return rc;
	return preload.real.readlink(path, buf, size);
}

/* an absolute path ignores dirfd */
EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	ssize_t rc;

	preload_ready();
	if (preload_sysfs_readlink(path, buf, size, &rc))
		return rc;
	return preload.real.readlinkat(dirfd, path, buf, size);
}

EXPORT DIR *opendir(const char *path)
{
	DIR *d;

	preload_ready();
	if (preload_sysfs_opendir(path, &d))
		return d;
	return preload.real.opendir(path);
}

EXPORT struct dirent *readdir(DIR *d)
{
	struct dirent *e;

	preload_ready();
	if (preload_sysfs_readdir(d, &e))
		return e;
	return preload.real.readdir(d);
}

EXPORT struct dirent64 *readdir64(DIR *d)
{
	return (struct dirent64 *)readdir(d);
}

EXPORT int closedir(DIR *d)
{
	preload_ready();
	if (preload_sysfs_closedir(d))
		return 0;
	return preload.real.closedir(d);
}

EXPORT void rewinddir(DIR *d)
{
	preload_ready();
	if (!preload_sysfs_rewinddir(d))
		preload.real.rewinddir(d);
}

EXPORT long telldir(DIR *d)
{
	long pos;

	preload_ready();
	if (preload_sysfs_telldir(d, &pos))
		return pos;
	return preload.real.telldir(d);
}

EXPORT void seekdir(DIR *d, long loc)
{
	preload_ready();
	if (!preload_sysfs_seekdir(d, loc))
		preload.real.seekdir(d, loc);
}

typedef int (*scandir_filter)(const struct dirent *);
typedef int (*scandir_compar)(const struct dirent **, const struct dirent **);

/* Append a malloc'd copy of @e, as scandir's caller frees each one. */
static int scandir_push(struct dirent ***list, size_t *n, size_t *cap,
			const struct dirent *e)
{
	struct dirent *copy, **l;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		l = sio_realloc(*list, *cap * sizeof(*l));
		if (!l)
			return -1;
		*list = l;
	}
	copy = sio_malloc(sizeof(*copy));
	if (!copy)
		return -1;
	memcpy(copy, e, sizeof(*copy));
	(*list)[(*n)++] = copy;
	return 0;
}

/* scandir(3) over one of our streams. */
static int scandir_ours(DIR *d, struct dirent ***out, scandir_filter filter,
			scandir_compar compar)
{
	struct dirent **list = NULL, *e;
	size_t n = 0, cap = 0;
	int saved;

	while ((e = readdir(d))) {
		if (filter && !filter(e))
			continue;
		if (scandir_push(&list, &n, &cap, e))
			goto err;
	}
	closedir(d);
	if (compar && n > 1)
		qsort(list, n, sizeof(*list),
		      (int (*)(const void *, const void *))compar);
	*out = list;
	return (int)n;
err:
	saved = errno;
	while (n)
		free(list[--n]);
	free(list);
	closedir(d);
	errno = saved;
	return -1;
}

/*
 * glibc's scandir opens the directory with its internal opendir, which
 * never reaches us: our directories are listed here instead.
 */
EXPORT int scandir(const char *path, struct dirent ***out,
		   scandir_filter filter, scandir_compar compar)
{
	DIR *d;

	preload_ready();
	if (!preload_sysfs_opendir(path, &d))
		return preload.real.scandir(path, out, filter, compar);
	return d ? scandir_ours(d, out, filter, compar) : -1;
}

EXPORT int scandir64(const char *path, struct dirent64 ***out,
		     int (*filter)(const struct dirent64 *),
		     int (*compar)(const struct dirent64 **,
				   const struct dirent64 **))
{
	return scandir(path, (struct dirent ***)out, (scandir_filter)filter,
		       (scandir_compar)compar);
}

/* fopen(3)'s mode string as open(2) flags */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (mode[0]) {
	case 'r':
		flags = O_RDONLY;
		break;
	case 'w':
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		break;
	case 'a':
		flags = O_WRONLY | O_CREAT | O_APPEND;
		break;
	default:
		return -1;
	}
	for (const char *m = mode + 1; *m && *m != ','; m++) {
		if (*m == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*m == 'x')
			flags |= O_EXCL;
		else if (*m == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

/*
 * A stream on a virtual file (a fault-injection control file): stdio's
 * own read and write would reach the eventfd behind the fd, so the
 * stream's are the file's, through fopencookie().
 */
static ssize_t cookie_io(void *cookie, char *buf, size_t len, bool write)
{
	struct sio_vfile *f = vfile_get_fd((int)(intptr_t)cookie);
	ssize_t n;

	if (!f) {
		errno = EBADF;
		return -1;
	}
	n = write ? vfile_write(f, buf, len) : vfile_read(f, buf, len);
	vfile_put(f);
	if (n < 0) {
		errno = (int)-n;
		return -1;
	}
	return n;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t len)
{
	return cookie_io(cookie, buf, len, false);
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t len)
{
	return cookie_io(cookie, (char *)buf, len, true);
}

static int cookie_close(void *cookie)
{
	int rc = vfile_close((int)(intptr_t)cookie);

	return rc < 0 ? (errno = -rc, -1) : 0;
}

static FILE *vfile_stream(int fd, const char *mode)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read,
		.write = cookie_write,
		.close = cookie_close,
	};

	return fopencookie((void *)(intptr_t)fd, mode, io);
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	int flags, fd, saved;
	bool virt;
	FILE *f;

	preload_ready();
	flags = mode ? fopen_flags(mode) : -1;
	if (flags < 0 || (!preload_fail_nth_open(path, flags, &fd) &&
			  !preload_proc_status_open(path, flags, &fd) &&
			  !preload_sysfs_open(path, flags, 0666, &fd)))
		return preload.real.fopen(path, mode);
	if (fd < 0)
		return NULL;
	virt = preload_fd_maybe(fd);
	f = virt ? vfile_stream(fd, mode) : fdopen(fd, mode);
	if (!f) {
		saved = errno;
		if (virt)
			vfile_close(fd);
		else
			preload.real.close(fd);
		errno = saved;
	}
	return f;
}

EXPORT FILE *fopen64(const char *path, const char *mode)
	__attribute__((alias("fopen")));

EXPORT char *realpath(const char *path, char *resolved)
{
	char *rc;

	preload_ready();
	if (preload_sysfs_realpath(path, resolved, PATH_MAX, &rc))
		return rc;
	return preload.real.realpath(path, resolved);
}

/* _FORTIFY_SOURCE's realpath: the buffer must hold PATH_MAX */
EXPORT char *__realpath_chk(const char *path, char *resolved,
			    size_t resolvedlen)
{
	if (resolvedlen < PATH_MAX)
		__chk_fail();
	return realpath(path, resolved);
}

/*
 * Our names have no extended attributes: getxattr ENODATA, listxattr an
 * empty list (kernfs keeps only security.* ones a policy sets).
 */
static ssize_t xattr_get(const char *path, bool follow, const char *name,
			 void *value, size_t size)
{
	char real[PATH_MAX];
	const char *p;
	int err;

	preload_ready();
	p = preload_sysfs_xattr(path, follow, real, sizeof(real), &err);
	if (!p)
		return errno = err, -1;
	return (follow ? preload.real.getxattr
		       : preload.real.lgetxattr)(p, name, value, size);
}

static ssize_t xattr_list(const char *path, bool follow, char *list,
			  size_t size)
{
	char real[PATH_MAX];
	const char *p;
	int err;

	preload_ready();
	p = preload_sysfs_xattr(path, follow, real, sizeof(real), &err);
	if (!p)
		return err == ENODATA ? 0 : (errno = err, -1);
	return (follow ? preload.real.listxattr
		       : preload.real.llistxattr)(p, list, size);
}

EXPORT ssize_t getxattr(const char *path, const char *name, void *value,
			size_t size)
{
	return xattr_get(path, true, name, value, size);
}

EXPORT ssize_t lgetxattr(const char *path, const char *name, void *value,
			 size_t size)
{
	return xattr_get(path, false, name, value, size);
}

EXPORT ssize_t listxattr(const char *path, char *list, size_t size)
{
	return xattr_list(path, true, list, size);
}

EXPORT ssize_t llistxattr(const char *path, char *list, size_t size)
{
	return xattr_list(path, false, list, size);
}
