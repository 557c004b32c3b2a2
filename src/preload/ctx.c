// SPDX-License-Identifier: MIT
/*
 * The one process-wide context an LD_PRELOAD library has: libc's own
 * functions, the fd table, the node registry and the default platform,
 * in one struct, initialised once.
 *
 * Initialisation may run from any thread's first interposed call (even
 * before our constructor, from another library's), so it only resolves
 * symbols and registers nodes: nothing in it calls back into an
 * interposed function.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <softiommu/fault.h>
#include <softiommu/iommufd.h>

#include "platform/platform_private.h"
#include "preload.h"

struct preload_ctx preload = {
	.once = PTHREAD_ONCE_INIT,
	.fdt = {.lock = PTHREAD_MUTEX_INITIALIZER},
	.node_lock = PTHREAD_MUTEX_INITIALIZER,
	.platform_lock = PTHREAD_MUTEX_INITIALIZER,
	.sysfs = {.lock = PTHREAD_MUTEX_INITIALIZER,
		  .dir_lock = PTHREAD_MUTEX_INITIALIZER},
	.share = {.lock = PTHREAD_MUTEX_INITIALIZER},
	.iommu_maps = {.lock = PTHREAD_MUTEX_INITIALIZER},
};

static void *resolve(const char *name, bool required)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn && required) {
		/* write(2) directly: stdio could come back through us */
		static const char msg[] = "softiommu-preload: libc lacks ";

		(void)!write(2, msg, sizeof(msg) - 1);
		(void)!write(2, name, __builtin_strlen(name));
		(void)!write(2, "\n", 1);
		abort();
	}
	return fn;
}

#define REAL(field, name) (*(void **)&preload.real.field = resolve(name, true))
#define REAL_OPT(field, name) \
	(*(void **)&preload.real.field = resolve(name, false))

static void resolve_all(void)
{
	REAL(open, "open");
	REAL(openat, "openat");
	REAL(open_2, "__open_2");
	REAL(open64_2, "__open64_2");
	REAL(openat_2, "__openat_2");
	REAL(openat64_2, "__openat64_2");
	REAL(creat, "creat");
	REAL(close, "close");
	REAL_OPT(close_range, "close_range");
	REAL_OPT(closefrom, "closefrom");
	REAL(ioctl, "ioctl");
	REAL(read, "read");
	REAL(write, "write");
	REAL(pread, "pread");
	REAL(pwrite, "pwrite");
	REAL(readv, "readv");
	REAL(writev, "writev");
	REAL(read_chk, "__read_chk");
	REAL(pread_chk, "__pread_chk");
	REAL(mmap, "mmap");
	REAL(dup, "dup");
	REAL(dup2, "dup2");
	REAL(dup3, "dup3");
	REAL(fcntl, "fcntl");
	REAL_OPT(fcntl64, "fcntl64");
	REAL(stat, "stat");
	REAL(lstat, "lstat");
	REAL(fstat, "fstat");
	REAL(fstatat, "fstatat");
	REAL_OPT(statx, "statx");
	REAL_OPT(xstat, "__xstat");
	REAL_OPT(lxstat, "__lxstat");
	REAL_OPT(fxstat, "__fxstat");
	REAL_OPT(fxstatat, "__fxstatat");
	REAL(access, "access");
	REAL(faccessat, "faccessat");
	REAL(eaccess, "eaccess");
	REAL(epoll_ctl, "epoll_ctl");
	REAL(lseek, "lseek");
	REAL(munmap, "munmap");
	REAL(mremap, "mremap");
	REAL(madvise, "madvise");
	REAL(mprotect, "mprotect");
	REAL(shmdt, "shmdt");
	REAL(sigaction, "sigaction");
	REAL(signal, "signal");
	REAL(bsd_signal, "bsd_signal");
	REAL(sysv_signal, "sysv_signal");
	REAL(sigset, "sigset");
	REAL(sigignore, "sigignore");
	REAL(readlink, "readlink");
	REAL(readlinkat, "readlinkat");
	REAL(opendir, "opendir");
	REAL(readdir, "readdir");
	REAL(closedir, "closedir");
	REAL(rewinddir, "rewinddir");
	REAL(telldir, "telldir");
	REAL(seekdir, "seekdir");
	REAL(fopen, "fopen");
	REAL(realpath, "realpath");
	REAL(scandir, "scandir");
	REAL(getxattr, "getxattr");
	REAL(lgetxattr, "lgetxattr");
	REAL(listxattr, "listxattr");
	REAL(llistxattr, "llistxattr");
	if (!preload.real.fcntl64)
		preload.real.fcntl64 = preload.real.fcntl;
}

/*
 * fork: the child must not inherit a table or a platform another thread
 * was changing, so the parent holds their locks across fork().
 */
static void atfork_prepare(void)
{
	preload_sysfs_lock(); /* it takes platform_lock under its own */
	pthread_mutex_lock(&preload.platform_lock);
	pthread_mutex_lock(&preload.fdt.lock);
	preload_fork_prepare();
	preload_fork_share_prepare();
	preload_iommufd_maps_lock();
}

static void atfork_parent(void)
{
	preload_iommufd_maps_unlock();
	preload_fork_share_parent();
	pthread_mutex_unlock(&preload.fdt.lock);
	pthread_mutex_unlock(&preload.platform_lock);
	preload_sysfs_unlock();
	preload_fork_parent();
}

static void atfork_child(void)
{
	/* a new task's fail_nth starts at 0 (the kernel's dup_task_struct()) */
	sio_fail_nth_set(0);
	vfile_orphan_all();
	/* ... but the iommufd files, which act on the parent's contexts */
	preload_fork_child();
	/* memory a fork child shares with its parent's pins is ours alone */
	preload_fork_share_child();
	/* the parent's iommufd regions: its records, not the child's */
	preload_iommufd_maps_child();
	/*
	 * The parent's platform may have been mid-call in a thread that the
	 * child does not have: a new open in the child builds a new one
	 * (the copy is left as it is, its memory being the parent's image).
	 */
	preload.platform = NULL;
	pthread_mutex_unlock(&preload.fdt.lock);
	pthread_mutex_unlock(&preload.platform_lock);
	/* the view keeps only names and contents: the child's copy is good */
	preload_sysfs_unlock();
}

static void init_once(void)
{
	resolve_all();
	clock_gettime(CLOCK_REALTIME, &preload.boot);
	preload_register_defaults();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	preload_watch_signals();
	atomic_store_explicit(&preload.ready, true, memory_order_release);
}

void preload_init_slow(void)
{
	pthread_once(&preload.once, init_once);
}

__attribute__((constructor)) static void preload_ctor(void)
{
	preload_ready();
}

void preload_user_unmap(const void *addr, size_t len, bool write_only)
{
	struct sio_platform *p =
		__atomic_load_n(&preload.platform, __ATOMIC_ACQUIRE);

	if (!p || !len)
		return;
	if (write_only)
		sio_platform_user_unwrite(p, addr, len);
	else
		sio_platform_user_unmap(p, addr, len);
}

int preload_platform(struct sio_platform **out)
{
	int rc = 0;

	pthread_mutex_lock(&preload.platform_lock);
	if (!preload.platform) {
		struct sio_platform *p = NULL;

		rc = sio_platform_create(&p);
		/* published for preload_user_unmap(), which takes no lock */
		__atomic_store_n(&preload.platform, p, __ATOMIC_RELEASE);
		/* SOFTIOMMU_LOG=events: the SMMU's event records on stderr,
		 * where the kernel would put them in its log */
		const char *log = getenv("SOFTIOMMU_LOG");
		if (!rc && log && strstr(log, "events"))
			platform_log_events(preload.platform, stderr);
		/* SOFTIOMMU_SELFTEST=1 (softiommu exec --selftest): the
		 * kernel's selftest mock IOMMU and IOMMU_TEST_CMD */
		const char *st = getenv("SOFTIOMMU_SELFTEST");
		if (!rc && st && !strcmp(st, "1"))
			rc = sio_platform_enable_selftest(preload.platform);
	}
	*out = preload.platform;
	pthread_mutex_unlock(&preload.platform_lock);
	return rc;
}
