// SPDX-License-Identifier: MIT
/*
 * The libc entry points a program reaches /dev/iommu through.  Each one
 * answers for our paths and fds and hands everything else to libc's own
 * function untouched: a path outside /dev/ costs one strncmp, a plain fd
 * one load while no virtual fd exists and a table lookup otherwise.
 *
 * Calls glibc makes internally (fopen's open, realpath's lstat) bind
 * inside libc and do not come here; nor do raw syscalls.  See
 * docs/preload.md for the full list of what is and is not covered.
 */
/*
 * Our definitions must carry the plain names: with 64-bit offsets on
 * (meson's default) the headers would rename open to open64 and so on.
 * On LP64 both are the same call.
 */
#undef _FILE_OFFSET_BITS
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload.h"
#include "uapi/uapi.h"

#define EXPORT __attribute__((visibility("default")))

/* Symbols today's headers no longer declare (old binaries call them). */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
void __chk_fail(void) __attribute__((noreturn));
int __xstat(int ver, const char *path, struct stat *st);
int __xstat64(int ver, const char *path, struct stat64 *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __lxstat64(int ver, const char *path, struct stat64 *st);
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat64 is stat "
							     "on LP64");

/* The kernel's return convention: -1 and errno, errno kept on success. */
static long sys_ret(long rc, int saved_errno)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	errno = saved_errno;
	return rc;
}

/* ---- open ---- */

#define OPEN_NEEDS_MODE(f) (((f)&O_CREAT) || ((f)&O_TMPFILE) == O_TMPFILE)

static int open_node(const struct preload_node *n, int flags)
{
	int saved = errno;

	return (int)sys_ret(vfile_open(n, flags), saved);
}

/* The kernel just gave @fd to a plain file: forget a stale entry. */
static int plain_fd(int fd)
{
	if (fd >= 0 && preload_fd_maybe(fd))
		vfile_drop_stale(fd);
	return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
	return OPEN_NEEDS_MODE(flags) ? va_arg(ap, mode_t) : 0;
}

/*
 * A path of the /sys view (sysfs.c) or a fault-injection file
 * (fault_files.c): true with *@fd the call's result.
 */
static bool sysfs_open(const char *path, int flags, mode_t mode, int *fd)
{
	return preload_fail_nth_open(path, flags, fd) ||
	       preload_proc_status_open(path, flags, fd) ||
	       preload_sysfs_open(path, flags, mode, fd);
}

/* The same for openat(), whose relative path may start in our /sys. */
static bool sysfs_openat(int dirfd, const char *path, int flags, mode_t mode,
			 int *fd)
{
	return sysfs_open(path, flags, mode, fd) ||
	       preload_sysfs_openat(dirfd, path, flags, mode, fd);
}

EXPORT int open(const char *path, int flags, ...)
{
	const struct preload_node *n;
	int fd;
	va_list ap;
	mode_t mode;

	preload_ready();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_open(path, flags, mode, &fd))
		return fd;
	return plain_fd(preload.real.open(path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("ope"
									 "n")));

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	const struct preload_node *n;
	int fd;
	va_list ap;
	mode_t mode;

	preload_ready();
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	/* an absolute path ignores dirfd */
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_openat(dirfd, path, flags, mode, &fd))
		return fd;
	return plain_fd(preload.real.openat(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
	__attribute__((alias("openat")));

/* _FORTIFY_SOURCE's checked opens: libc's checks for everything else. */
EXPORT int __open_2(const char *path, int flags)
{
	const struct preload_node *n;
	int fd;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_open(path, flags, 0, &fd))
		return fd;
	return plain_fd(preload.real.open_2(path, flags));
}

EXPORT int __open64_2(const char *path, int flags)
{
	const struct preload_node *n;
	int fd;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_open(path, flags, 0, &fd))
		return fd;
	return plain_fd(preload.real.open64_2(path, flags));
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	const struct preload_node *n;
	int fd;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_openat(dirfd, path, flags, 0, &fd))
		return fd;
	return plain_fd(preload.real.openat_2(dirfd, path, flags));
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	const struct preload_node *n;
	int fd;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return open_node(n, flags);
	if (sysfs_openat(dirfd, path, flags, 0, &fd))
		return fd;
	return plain_fd(preload.real.openat64_2(dirfd, path, flags));
}

EXPORT int creat(const char *path, mode_t mode)
{
	const struct preload_node *n;
	int fd;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return open_node(n, O_CREAT | O_WRONLY | O_TRUNC);
	if (sysfs_open(path, O_CREAT | O_WRONLY | O_TRUNC, mode, &fd))
		return fd;
	return plain_fd(preload.real.creat(path, mode));
}

EXPORT int creat64(const char *path, mode_t mode) __attribute__((alias("crea"
								       "t")));

/* ---- close ---- */

EXPORT int close(int fd)
{
	int saved = errno;

	preload_ready();
	if (!preload_fd_maybe(fd))
		return preload.real.close(fd);
	return (int)sys_ret(vfile_close(fd), saved);
}

static int real_close_range(unsigned int first, unsigned int last, int flags)
{
	if (!preload.real.close_range)
		return errno = ENOSYS, -1;
	return preload.real.close_range(first, last, flags);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	int saved = errno;

	preload_ready();
	/* CLOEXEC only marks fds: the table does not change */
	if (!atomic_load(&preload.fdt.nr) || (flags & CLOSE_RANGE_CLOEXEC))
		return real_close_range(first, last, flags);
	return (int)sys_ret(
		vfile_close_range(first, last, real_close_range, flags), saved);
}

static int real_closefrom(unsigned int first, unsigned int last, int flags)
{
	(void)last, (void)flags;
	preload.real.closefrom((int)first);
	return 0;
}

EXPORT void closefrom(int lowfd)
{
	int saved = errno;

	preload_ready();
	if (lowfd < 0)
		lowfd = 0;
	if (!atomic_load(&preload.fdt.nr))
		preload.real.closefrom(lowfd);
	else
		vfile_close_range((unsigned int)lowfd, ~0u, real_closefrom, 0);
	errno = saved;
}

/* ---- ioctl, read, write ---- */

EXPORT int ioctl(int fd, unsigned long cmd, ...)
{
	struct sio_vfile *f;
	int saved = errno;
	va_list ap;
	void *arg;
	long rc;

	preload_ready();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.ioctl(fd, cmd, arg);
	rc = vfile_ioctl(f, fd, cmd, arg);
	vfile_put(f);
	return (int)sys_ret(rc, saved);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.read(fd, buf, n);
	rc = vfile_read(f, buf, n);
	vfile_put(f);
	return sys_ret(rc, saved);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	preload_ready();
	if (!preload_fd_maybe(fd))
		return preload.real.read_chk(fd, buf, n, buflen);
	if (n > buflen)
		__chk_fail();
	return read(fd, buf, n);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.write(fd, buf, n);
	rc = vfile_write(f, buf, n);
	vfile_put(f);
	return sys_ret(rc, saved);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.pread(fd, buf, n, off);
	rc = vfile_pread(f, buf, n, off);
	vfile_put(f);
	return sys_ret(rc, saved);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off)
	__attribute__((alias("pread")));

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off,
			   size_t buflen)
{
	preload_ready();
	if (!preload_fd_maybe(fd))
		return preload.real.pread_chk(fd, buf, n, off, buflen);
	if (n > buflen)
		__chk_fail();
	return pread(fd, buf, n, off);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off,
			     size_t buflen) __attribute__((alias("__pread_"
								 "chk")));

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.pwrite(fd, buf, n, off);
	rc = vfile_pwrite(f, buf, n, off);
	vfile_put(f);
	return sys_ret(rc, saved);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
	__attribute__((alias("pwrite")));

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.readv(fd, iov, cnt);
	rc = vfile_readv(f, iov, cnt);
	vfile_put(f);
	return sys_ret(rc, saved);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct sio_vfile *f;
	int saved = errno;
	ssize_t rc;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.writev(fd, iov, cnt);
	rc = vfile_writev(f, iov, cnt);
	vfile_put(f);
	return sys_ret(rc, saved);
}

/* ---- mmap: munmap stays libc's, our mappings are ordinary memory ---- */

/*
 * [addr, addr + len) was unmapped, by munmap() or by a mapping put over
 * it: what our records held there lets go, as the kernel's vma close.
 */
static void mappings_gone(void *addr, size_t len)
{
	preload_iommufd_munmap(addr, len);
	preload_fork_share_munmap(addr, len);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	struct sio_vfile *f;
	int saved = errno;
	void *out = MAP_FAILED;
	int rc;

	preload_ready();
	f = (flags & MAP_ANONYMOUS) ? NULL : vfile_get_fd(fd);
	/* MAP_FIXED_NOREPLACE carries MAP_FIXED_NOREPLACE's own bit only */
	if ((flags & MAP_FIXED) && len) {
		preload_user_unmap(addr, len, false);
		/*
		 * Before a mapping of ours there is recorded: the kernel
		 * unmaps the range first too, and keeps it unmapped if the
		 * new mapping then fails.
		 */
		if (f)
			mappings_gone(addr, len);
	}
	if (!f) {
		out = preload.real.mmap(addr, len, prot, flags, fd, off);
		if (out != MAP_FAILED && (flags & MAP_FIXED) && len)
			mappings_gone(addr, len);
		return out;
	}
	rc = vfile_mmap(f, addr, len, prot, flags, off, &out);
	vfile_put(f);
	if (sys_ret(rc, saved) < 0)
		return MAP_FAILED;
	return out;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off) __attribute__((alias("mmap")));

/*
 * Trapped device mappings (dev_vfio.c) end with their munmap, or move
 * with mremap: the trap goes first, so that no store to whatever is
 * mapped there next is taken for a register write.  What stays mapped of
 * a trapped range becomes writable again; the device polls it.
 */
static void untrap(uintptr_t first, uintptr_t last, bool unmapping)
{
	void *base, *opaque;
	size_t len;

	while (sio_user_trap_find(first, last, &base, &len)) {
		uintptr_t b = (uintptr_t)base, e = b + len - 1;

		if (!sio_user_trap_remove(base, &len, &opaque))
			continue;
		if (!unmapping) {
			mprotect(base, len, PROT_READ | PROT_WRITE);
		} else {
			if (b < first)
				mprotect(base, first - b,
					 PROT_READ | PROT_WRITE);
			if (e > last)
				mprotect((void *)(last + 1), e - last,
					 PROT_READ | PROT_WRITE);
		}
		((struct preload_trap *)opaque)
			->release((struct preload_trap *)opaque);
	}
}

EXPORT int munmap(void *addr, size_t len)
{
	int rc;

	preload_ready();
	if (len && (uintptr_t)addr + len - 1 >= (uintptr_t)addr) {
		untrap((uintptr_t)addr, (uintptr_t)addr + len - 1, true);
		preload_user_unmap(addr, len, false);
	}
	rc = preload.real.munmap(addr, len);
	/* once gone, as the kernel's vma close after the unmap */
	if (!rc && len)
		mappings_gone(addr, len);
	return rc;
}

/*
 * After a successful mremap(): what a fixed target held was unmapped
 * first; an iommufd mapping moved or shrunk takes its records along.
 * fork_share's records name their memfds, which stay mapped when they
 * move: only a shrunk tail is unmapped.
 */
static void mremapped(void *old, size_t old_len, void *out, size_t new_len,
		      int flags, struct iommu_hold *hold)
{
	if ((flags & MREMAP_FIXED) && new_len)
		mappings_gone(out, new_len);
	preload_iommufd_mremapped(old, old_len, out, new_len, hold);
	if (out == old && new_len < old_len)
		preload_fork_share_munmap((char *)old + new_len,
					  old_len - new_len);
}

/*
 * What mremap takes from the program's mappings for DMA: a shrunk tail,
 * a fixed target, and the old range when the mapping moves.  Whether it
 * moves is known only afterwards, so a growth that may move is first
 * tried in place, as the kernel itself tries first.
 */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	struct iommu_hold *hold;
	void *new_addr = NULL, *out;
	va_list ap;
	int rc;

	preload_ready();
	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	rc = preload_iommufd_mremap_check(old, old_len, new_len, flags,
					  new_addr, &hold);
	if (rc) {
		errno = -rc;
		return MAP_FAILED;
	}
	if (flags & MREMAP_FIXED) {
		/* a fixed target is unmapped first */
		untrap((uintptr_t)new_addr, (uintptr_t)new_addr + new_len - 1,
		       true);
		preload_user_unmap(new_addr, new_len, false);
	}
	if (old_len)
		untrap((uintptr_t)old, (uintptr_t)old + old_len - 1, false);
	if (new_len < old_len)
		preload_user_unmap((char *)old + new_len, old_len - new_len,
				   false);
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
		preload_user_unmap(old, old_len, false);
	} else if ((flags & MREMAP_MAYMOVE) && new_len > old_len) {
		out = preload.real.mremap(old, old_len, new_len, 0);
		if (out != MAP_FAILED)
			return out;
		preload_user_unmap(old, old_len, false);
	}
	out = preload.real.mremap(old, old_len, new_len, flags, new_addr);
	if (out != MAP_FAILED)
		mremapped(old, old_len, out, new_len, flags, hold);
	return out;
}

/* Advice that takes the pages away (a later touch sees others). */
static bool advice_discards(int advice)
{
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case 24: /* MADV_DONTNEED_LOCKED */
		return true;
	default:
		return false;
	}
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
	int err;

	preload_ready();
	if (advice_discards(advice)) {
		preload_user_unmap(addr, len, false);
		/* a fork child's memory shared for DMA (fork_share.c) */
		err = preload_fork_share_madvise(addr, len, advice);
		if (err) {
			errno = err;
			return -1;
		}
	}
	return preload.real.madvise(addr, len, advice);
}

/*
 * DMA through the program's own pages faults as the program would: so
 * mappings lose what access the program takes away, and do not get it
 * back when it is given again (the kernel's pinned pages ignore
 * mprotect altogether).
 */
EXPORT int mprotect(void *addr, size_t len, int prot)
{
	preload_ready();
	if (!(prot & PROT_READ))
		preload_user_unmap(addr, len, false);
	else if (!(prot & PROT_WRITE))
		preload_user_unmap(addr, len, true);
	return preload.real.mprotect(addr, len, prot);
}

/* The length of the mapping that starts at @addr, from /proc/self/maps. */
static size_t mapping_len_at(const void *addr)
{
	struct sio_user_maps_line l;

	if (!sio_user_maps_find(0, (uintptr_t)addr, &l, NULL, 0) ||
	    l.start != (uintptr_t)addr)
		return 0;
	return (size_t)(l.end - l.start);
}

EXPORT int shmdt(const void *addr)
{
	preload_ready();
	preload_user_unmap(addr, mapping_len_at(addr), false);
	return preload.real.shmdt(addr);
}

/*
 * lseek: none of our files has .llseek (iommufd_fops, vfio_device_fops),
 * so the kernel answers ESPIPE; the eventfd behind the fd would say 0.
 */
EXPORT off_t lseek(int fd, off_t off, int whence)
{
	struct sio_vfile *f;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.lseek(fd, off, whence);
	vfile_put(f);
	errno = ESPIPE;
	return -1;
}

EXPORT off_t lseek64(int fd, off_t off, int whence) __attribute__((alias("lsee"
									 "k")));

/* ---- dup, fcntl ---- */

EXPORT int dup(int fd)
{
	int saved = errno;

	preload_ready();
	if (!preload_fd_maybe(fd))
		return plain_fd(preload.real.dup(fd));
	return (int)sys_ret(vfile_dup(fd, -1, 0, false), saved);
}

EXPORT int dup2(int oldfd, int newfd)
{
	int saved = errno;

	preload_ready();
	if (!preload_fd_maybe(oldfd) && !preload_fd_maybe(newfd))
		return preload.real.dup2(oldfd, newfd);
	return (int)sys_ret(vfile_dup(oldfd, newfd, -1, true), saved);
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int saved = errno;

	preload_ready();
	if (!preload_fd_maybe(oldfd) && !preload_fd_maybe(newfd))
		return preload.real.dup3(oldfd, newfd, flags);
	return (int)sys_ret(vfile_dup(oldfd, newfd, flags, true), saved);
}

/* The commands that concern the description, not the fd. */
static int vfile_fcntl(struct sio_vfile *f, int fd, int cmd, void *arg,
		       int (*real)(int, int, ...))
{
	int saved = errno;
	long rc;

	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		rc = vfile_dupfd(fd, (int)(intptr_t)arg,
				 cmd == F_DUPFD_CLOEXEC);
		break;
	case F_GETFL:
		rc = sio_vfile_flags(f);
		break;
	case F_SETFL:
		rc = vfile_setfl(f, fd, (int)(intptr_t)arg);
		break;
	default:
		/* FD_CLOEXEC, locks, owners, seals...: the real fd's */
		return real(fd, cmd, arg);
	}
	return (int)sys_ret(rc, saved);
}

static int do_fcntl(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
	struct sio_vfile *f = vfile_get_fd(fd);
	int rc;

	if (!f) {
		rc = real(fd, cmd, arg);
		if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
			plain_fd(rc);
		return rc;
	}
	rc = vfile_fcntl(f, fd, cmd, arg, real);
	vfile_put(f);
	return rc;
}

/* The third argument is an int or a pointer: glibc reads a pointer too. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	preload_ready();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg, preload.real.fcntl);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	preload_ready();
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return do_fcntl(fd, cmd, arg, preload.real.fcntl64);
}

/* ---- stat and access: a character device ---- */

/* true with *@st filled when @path is one of our nodes */
static bool path_node(const char *path, struct stat *st)
{
	const struct preload_node *n;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		preload_node_stat(n, st);
	return n;
}

EXPORT int stat(const char *path, struct stat *st)
{
	int rc;

	if (path_node(path, st))
		return 0;
	if (preload_sysfs_stat(path, true, st, &rc))
		return rc;
	return preload.real.stat(path, st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

/* our nodes are not symlinks: lstat is stat */
EXPORT int lstat(const char *path, struct stat *st)
{
	int rc;

	if (path_node(path, st))
		return 0;
	if (preload_sysfs_stat(path, false, st, &rc))
		return rc;
	return preload.real.lstat(path, st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

static bool fd_node(int fd, struct stat *st)
{
	struct sio_vfile *f = vfile_get_fd(fd);

	bool ours;

	if (!f)
		return false;
	/* an anonymous file's stat is its eventfd's: both are anon inodes */
	ours = vfile_node(f);
	if (ours)
		preload_node_stat(vfile_node(f), st);
	vfile_put(f);
	return ours;
}

EXPORT int fstat(int fd, struct stat *st)
{
	preload_ready();
	if (fd_node(fd, st))
		return 0;
	return preload.real.fstat(fd, st);
}

EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	const struct preload_node *n;
	int rc;

	preload_ready();
	if (preload_path_empty(path) && (flags & AT_EMPTY_PATH) &&
	    fd_node(dirfd, st))
		return 0;
	n = preload_node_find(path);
	if (n) {
		preload_node_stat(n, st);
		return 0;
	}
	if (preload_sysfs_stat(path, !(flags & AT_SYMLINK_NOFOLLOW), st, &rc))
		return rc;
	return preload.real.fstatat(dirfd, path, st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	return fstatat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned int mask,
		 struct statx *stx)
{
	const struct preload_node *n = NULL;
	struct sio_vfile *f = NULL;
	int rc;

	preload_ready();
	if (preload_path_empty(path) && (flags & AT_EMPTY_PATH))
		f = vfile_get_fd(dirfd);
	if (f && !vfile_node(f)) {
		vfile_put(f);
		f = NULL;
	}
	if (f) {
		preload_node_statx(vfile_node(f), stx);
		vfile_put(f);
		return 0;
	}
	n = preload_node_find(path);
	if (n) {
		preload_node_statx(n, stx);
		return 0;
	}
	if (preload_sysfs_statx(path, flags, stx, &rc))
		return rc;
	if (!preload.real.statx)
		return errno = ENOSYS, -1;
	return preload.real.statx(dirfd, path, flags, mask, stx);
}

/* The versioned stats binaries built before glibc 2.33 call. */
EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	int rc;

	preload_ready();
	if (preload_node_find(path))
		return stat(path, st);
	if (preload_sysfs_stat(path, true, st, &rc))
		return rc;
	return preload.real.xstat(ver, path, st);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return __xstat(ver, path, (struct stat *)st);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	int rc;

	preload_ready();
	if (preload_node_find(path))
		return stat(path, st);
	if (preload_sysfs_stat(path, false, st, &rc))
		return rc;
	return preload.real.lxstat(ver, path, st);
}

EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return __lxstat(ver, path, (struct stat *)st);
}

EXPORT int __fxstat(int ver, int fd, struct stat *st)
{
	preload_ready();
	if (fd_node(fd, st))
		return 0;
	return preload.real.fxstat(ver, fd, st);
}

EXPORT int __fxstat64(int ver, int fd, struct stat64 *st)
{
	return __fxstat(ver, fd, (struct stat *)st);
}

EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
		      int flags)
{
	int rc;

	preload_ready();
	if (preload_node_find(path) ||
	    (preload_path_empty(path) && (flags & AT_EMPTY_PATH) &&
	     preload_fd_maybe(dirfd)))
		return fstatat(dirfd, path, st, flags);
	if (preload_sysfs_stat(path, !(flags & AT_SYMLINK_NOFOLLOW), st, &rc))
		return rc;
	return preload.real.fxstatat(ver, dirfd, path, st, flags);
}

EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
			int flags)
{
	return __fxstatat(ver, dirfd, path, (struct stat *)st, flags);
}

/* The caller owns our nodes: its owner bits decide. */
static int node_access(const struct preload_node *n, int mode)
{
	unsigned int own = (n->mode >> 6) & 7;

	if (mode & ~(R_OK | W_OK | X_OK))
		return errno = EINVAL, -1;
	if (((mode & R_OK) && !(own & 4)) || ((mode & W_OK) && !(own & 2)) ||
	    ((mode & X_OK) && !(own & 1)))
		return errno = EACCES, -1;
	return 0;
}

EXPORT int access(const char *path, int mode)
{
	const struct preload_node *n;
	int rc;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return node_access(n, mode);
	if (preload_sysfs_access(path, mode, true, &rc))
		return rc;
	return preload.real.access(path, mode);
}

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags)
{
	const struct preload_node *n;
	int rc;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return node_access(n, mode);
	if (preload_sysfs_access(path, mode, !(flags & AT_SYMLINK_NOFOLLOW),
				 &rc))
		return rc;
	return preload.real.faccessat(dirfd, path, mode, flags);
}

EXPORT int eaccess(const char *path, int mode)
{
	const struct preload_node *n;
	int rc;

	preload_ready();
	n = preload_node_find(path);
	if (n)
		return node_access(n, mode);
	if (preload_sysfs_access(path, mode, true, &rc))
		return rc;
	return preload.real.eaccess(path, mode);
}

EXPORT int euidaccess(const char *path, int mode) __attribute__((alias("eacces"
								       "s")));

/* ---- epoll: the kernel refuses files without .poll ---- */

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct sio_vfile *f;
	bool refuse;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.epoll_ctl(epfd, op, fd, ev);
	refuse = !vfile_pollable(f);
	vfile_put(f);
	/* do_epoll_ctl(): a bad epfd is EBADF before the target's EPERM */
	if (refuse && preload.real.fcntl(epfd, F_GETFD) >= 0)
		return errno = EPERM, -1;
	return preload.real.epoll_ctl(epfd, op, fd, ev);
}
