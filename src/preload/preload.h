/* SPDX-License-Identifier: MIT */
/*
 * The interposer's private interface.  A program run under
 * `softiommu exec` sees /dev/iommu (and, as they are registered, the
 * /dev/vfio nodes) as character devices: this library answers its libc
 * calls on them and passes every other path and fd to libc untouched.
 *
 * Three concepts, one file each:
 *  - vfile.c: virtual files.  A struct sio_vfile is an open file
 *    description (the kernel's struct file): ops, private data, status
 *    flags, a reference count.  Each fd of one is a real kernel fd (an
 *    eventfd), so its number is unique, survives dup and fork like any
 *    fd and works in poll/select; the fd table maps numbers to
 *    descriptions.
 *  - nodes.c: the registry of device nodes: path -> open function, plus
 *    what stat() reports for it.
 *  - interpose.c: the libc entry points.
 * dev_iommu.c is the /dev/iommu node; ctx.c the one process-wide context;
 * signal.c watches the program's SIGSEGV/SIGBUS handlers for src/uapi.
 */
#ifndef SIO_PRELOAD_H
#define SIO_PRELOAD_H

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "uapi/uapi.h"

#if __SIZEOF_LONG__ != 8
/* open64, pread64, mmap64, fcntl64, stat64 are the plain calls only on LP64 */
#error "the interposer assumes an LP64 glibc"
#endif

struct sio_vfile;
struct statx;
struct epoll_event;
struct sigaction;

/*
 * What a virtual file does, as the kernel's file_operations.  Every
 * function returns a non-negative result or -errno; a NULL one gives the
 * errno the kernel gives for a file without it (read/write: EINVAL,
 * mmap: ENODEV, an ioctl the file does not know: ENOTTY).
 */
struct sio_vfile_ops {
	const char *name;
	long (*ioctl)(struct sio_vfile *f, unsigned long cmd, void *arg);
	ssize_t (*read)(struct sio_vfile *f, void *buf, size_t len);
	ssize_t (*write)(struct sio_vfile *f, const void *buf, size_t len);
	ssize_t (*pread)(struct sio_vfile *f, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(struct sio_vfile *f, const void *buf, size_t len,
			  off_t off);
	/* @len is page-aligned and non-zero; 0 with *@out set, or -errno */
	int (*mmap)(struct sio_vfile *f, void *addr, size_t len, int prot,
		    int flags, off_t off, void **out);
	/* The last reference is gone (every fd closed, every call done). */
	void (*release)(void *priv);
	/*
	 * read and write are pread/pwrite at the file position, which they
	 * advance (a driver whose read/write use *ppos, as vfio's do); the
	 * file still cannot be seeked (ESPIPE, the kernel's answer without
	 * .llseek), so the position starts at 0 and only moves forward.
	 */
	bool rw_at_pos;
	/*
	 * false: like a kernel file without .poll, poll/select always see it
	 * readable and writable and epoll_ctl() fails with EPERM.
	 * true: its readiness is what sio_vfile_set_ready() last said.
	 */
	bool pollable;
};

/* A node's open: 0 with *@ops and *@priv set, or -errno. */
typedef int (*sio_vfile_open_fn)(void *ctx, int flags,
				 const struct sio_vfile_ops **ops, void **priv);

/* A registered device node (immutable once registered, never freed). */
struct preload_node {
	char path[128];
	mode_t mode; /* permission bits; the type is always S_IFCHR */
	dev_t rdev;
	ino_t ino;
	sio_vfile_open_fn open;
	void *ctx;
};

/* ---- the API other layers use (VFIO device nodes, ...) ---- */

/*
 * Make @path a character device (@mode permission bits, @rdev) whose
 * open calls @open(@ctx, flags, ...).  Paths match exactly (no
 * normalisation).  0, -EEXIST, -ENAMETOOLONG, -ENOSPC.
 */
int preload_register_node(const char *path, mode_t mode, dev_t rdev,
			  sio_vfile_open_fn open, void *ctx);
/* The nodes every process gets: /dev/iommu and /dev/vfio/devices/vfioN. */
void preload_register_defaults(void);
/* dev_vfio.c: the platform devices' VFIO cdevs */
void preload_register_vfio_nodes(void);
struct platform_device;
/*
 * dev_vfio.c: VFIO_GROUP_GET_DEVICE_FD's new fd for device @name of @d's
 * group (the group file @group is held while it is open), or -errno.
 */
int preload_vfio_group_device_fd(struct platform_device *d,
				 struct sio_vfile *group, const char *name);
/* dev_vfio_group.c: /dev/vfio/vfio and the groups /dev/vfio/N */
void preload_register_vfio_group_nodes(void);

/*
 * The description behind @fd, referenced, if it is a virtual file with
 * @expected ops (any virtual file when NULL): what the kernel's
 * iommufd_ctx_from_fd() does for VFIO_DEVICE_BIND_IOMMUFD.  0; -EBADF when
 * @fd is not open; -EBADFD when it is another kind of file.
 */
int preload_fd_get(int fd, const struct sio_vfile_ops *expected,
		   struct sio_vfile **out);
void preload_fd_put(struct sio_vfile *f);
void *sio_vfile_priv(const struct sio_vfile *f);
/* The file status flags (O_ACCMODE, O_NONBLOCK, ...) as F_GETFL has them. */
int sio_vfile_flags(const struct sio_vfile *f);
/* Pollable files: say whether the file is readable now (POLLIN). */
void sio_vfile_set_ready(struct sio_vfile *f, bool readable);

/* The /dev/iommu file's ops, to recognise an iommufd fd. */
extern const struct sio_vfile_ops preload_iommufd_ops;

/* ---- the process-wide context ---- */

/* libc's own functions, resolved once with dlsym(RTLD_NEXT). */
struct preload_real {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*open_2)(const char *, int);
	int (*open64_2)(const char *, int);
	int (*openat_2)(int, const char *, int);
	int (*openat64_2)(int, const char *, int);
	int (*creat)(const char *, mode_t);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*pread)(int, void *, size_t, off_t);
	ssize_t (*pwrite)(int, const void *, size_t, off_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*pread_chk)(int, void *, size_t, off_t, size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*stat)(const char *, struct stat *);
	int (*lstat)(const char *, struct stat *);
	int (*fstat)(int, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*statx)(int, const char *, int, unsigned int, struct statx *);
	int (*xstat)(int, const char *, struct stat *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*fxstat)(int, int, struct stat *);
	int (*fxstatat)(int, int, const char *, struct stat *, int);
	int (*access)(const char *, int);
	int (*faccessat)(int, const char *, int, int);
	int (*eaccess)(const char *, int);
	int (*epoll_ctl)(int, int, int, struct epoll_event *);
	off_t (*lseek)(int, off_t, int);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*madvise)(void *, size_t, int);
	int (*mprotect)(void *, size_t, int);
	int (*shmdt)(const void *);
	int (*sigaction)(int, const struct sigaction *, struct sigaction *);
	void (*(*signal)(int, void (*)(int)))(int);
	void (*(*bsd_signal)(int, void (*)(int)))(int);
	void (*(*sysv_signal)(int, void (*)(int)))(int);
	void (*(*sigset)(int, void (*)(int)))(int);
	int (*sigignore)(int);
	/* sysfs_calls.c: the calls only the /sys view needs */
	ssize_t (*readlink)(const char *, char *, size_t);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
	DIR *(*opendir)(const char *);
	struct dirent *(*readdir)(DIR *);
	int (*closedir)(DIR *);
	void (*rewinddir)(DIR *);
	long (*telldir)(DIR *);
	void (*seekdir)(DIR *, long);
	FILE *(*fopen)(const char *, const char *);
	char *(*realpath)(const char *, char *);
	int (*scandir)(const char *, struct dirent ***,
		       int (*)(const struct dirent *),
		       int (*)(const struct dirent **, const struct dirent **));
	ssize_t (*getxattr)(const char *, const char *, void *, size_t);
	ssize_t (*lgetxattr)(const char *, const char *, void *, size_t);
	ssize_t (*listxattr)(const char *, char *, size_t);
	ssize_t (*llistxattr)(const char *, char *, size_t);
};

#define PRELOAD_FD_CHUNK_SHIFT 10
#define PRELOAD_FD_CHUNK       (1 << PRELOAD_FD_CHUNK_SHIFT)
#define PRELOAD_FD_MAX	       (1 << 20) /* fds above are never virtual */
#define PRELOAD_MAX_NODES      64

typedef _Atomic(struct sio_vfile *) preload_slot;

#define PRELOAD_SYSFS_MAX_NODES 256
#define PRELOAD_SYSFS_MAX_DIRS	64

enum sysfs_type { SYSFS_DIR, SYSFS_FILE, SYSFS_LINK };

/* One name of the /sys view (immutable once published, never freed). */
struct sysfs_node {
	char name[24];
	unsigned char type;    /* enum sysfs_type */
	bool overlay;	       /* a real directory of /sys may stand here */
	bool has_devices;      /* its children come from the platform */
	unsigned short parent; /* the root is its own parent */
	char data[64];	       /* a file's contents, a link's target */
	/* /sys/kernel/debug: the caller's, and a file is an attribute */
	bool user_owned;
	unsigned char attr; /* 1 + its index in fault_files.c, or 0 */
};

struct sysfs_dir; /* sysfs.c: an open directory stream of ours */

#define PRELOAD_DEBUGFS_MAX 32 /* fault-injection attributes */

/* The /sys view of the platform's devices (sysfs.c, sysfs_calls.c). */
struct preload_sysfs {
	/* nodes: appended under lock, read without it */
	pthread_mutex_t lock;
	atomic_uint nr;
	atomic_bool built;   /* the skeleton (no platform needed) */
	atomic_bool devices; /* the platform's devices are in */
	dev_t dev;	     /* st_dev: the real /sys's when there is one */
	struct sysfs_node node[PRELOAD_SYSFS_MAX_NODES];
	/* the DIR streams opendir() gave for our directories */
	pthread_mutex_t dir_lock;
	atomic_uint nr_dirs;
	struct sysfs_dir *dirs[PRELOAD_SYSFS_MAX_DIRS];
	/* the values of the debugfs attributes (fault_files.c) */
	_Atomic long long debugfs[PRELOAD_DEBUGFS_MAX];
};

/* fd number -> description.  Lookups of plain fds take no lock. */
struct preload_fdtable {
	/*
	 * Held to take a reference and to install or remove entries, never
	 * across a call into a file.  A mutex, not an rwlock: fork's child
	 * must release it, and glibc's rwlock knows its writer by a thread
	 * id that the child's thread no longer has.
	 */
	pthread_mutex_t lock;
	atomic_uint nr; /* installed entries; 0: no fd is virtual */
	_Atomic(preload_slot *) chunk[PRELOAD_FD_MAX / PRELOAD_FD_CHUNK];
};

struct share_rec; /* fork_share.c */

struct preload_ctx {
	atomic_bool ready; /* real resolved, defaults registered */
	pthread_once_t once;
	struct preload_real real;
	struct preload_fdtable fdt;
	/* nodes: appended under node_lock, read without it */
	pthread_mutex_t node_lock;
	atomic_uint nr_nodes;
	struct preload_node nodes[PRELOAD_MAX_NODES];
	struct timespec boot; /* the nodes' timestamps */
	/* the default platform, created by the first open of /dev/iommu */
	pthread_mutex_t platform_lock;
	struct sio_platform *platform;
	struct preload_sysfs sysfs;
	/* fork.c: the channel being set up across one fork() */
	struct fork_server *fork_pending;
	/* fork.c: a fork child's channel to its parent's files, or NULL */
	struct preload_fork_chan *fork_chan;
	/* fork_share.c: the memfds made of this process's shared memory */
	struct preload_fork_share {
		pthread_mutex_t lock;
		struct share_rec *rec;
		size_t n;
		atomic_size_t nr;   /* n, for munmap's look without the lock */
		atomic_bool mapped; /* our memfds' memory may be mapped here */
	} share;
	/* dev_iommu.c: the program's mmap()s of iommufd regions */
	struct preload_iommu_maps {
		pthread_mutex_t lock;
		struct iommu_mapping *list;
		atomic_size_t nr; /* munmap looks at nothing while 0 */
	} iommu_maps;
};

extern struct preload_ctx preload;

void preload_init_slow(void);

/* Before anything uses preload.real: one load once initialised. */
static inline void preload_ready(void)
{
	if (!atomic_load_explicit(&preload.ready, memory_order_acquire))
		preload_init_slow();
}

/* The default platform, created on first use: 0 or -errno. */
int preload_platform(struct sio_platform **out);
/*
 * The program is about to unmap or change [addr, addr + len) (with
 * @write_only, to take write access away): DMA mapped there stops
 * reaching it (sio_platform_user_unmap()).  Free while no platform
 * exists.
 */
void preload_user_unmap(const void *addr, size_t len, bool write_only);
/* munmap of [addr, addr + len): the iommufd mappings it ends let go. */
void preload_iommufd_munmap(const void *addr, size_t len);
/*
 * Before mremap(): 0, or what the kernel refuses for a region of an
 * iommufd mapping at @old (-EFAULT, -EINVAL), the call then changing
 * nothing.  *@hold: the mapping there, for preload_iommufd_mremapped().
 */
struct iommu_hold;
int preload_iommufd_mremap_check(const void *old, size_t old_len,
				 size_t new_len, int flags, const void *to,
				 struct iommu_hold **hold);
/*
 * After a successful mremap() from @old to @out of the mapping @hold
 * (NULL: none of ours): the piece moved goes with its record, the tail a
 * shrink unmapped lets go as munmap() would.
 */
void preload_iommufd_mremapped(const void *old, size_t old_len, const void *out,
			       size_t new_len, struct iommu_hold *hold);
/* atfork: the records are held across fork(); a child's hold nothing */
void preload_iommufd_maps_lock(void);
void preload_iommufd_maps_unlock(void);
void preload_iommufd_maps_child(void);

/*
 * A mapping of a device whose stores are trapped (sio_user_trap_add()'s
 * opaque starts with one): munmap and mremap take the trap away and
 * release what it holds.
 */
struct preload_trap {
	void (*release)(struct preload_trap *t);
};

/* signal.c: tell the library it may trust us to see handler changes. */
void preload_watch_signals(void);

/* nodes.c */
const struct preload_node *preload_node_find(const char *path);
bool preload_path_empty(const char *path);
void preload_node_stat(const struct preload_node *n, struct stat *st);
void preload_node_statx(const struct preload_node *n, struct statx *stx);

/*
 * sysfs.c: the /sys view.  Each returns false when the path is not ours
 * (libc answers it, as given); true when it answered, with *@ret the
 * call's result (errno set on failure, kept on success).  Only absolute
 * paths under /sys/ can be ours.
 */
bool preload_sysfs_open(const char *path, int flags, mode_t mode, int *ret);
/*
 * openat() of a relative @path from the fd of a directory stream
 * opendir() gave for one of our directories (dirfd()): as
 * preload_sysfs_open() of the path joined to that directory's.
 */
bool preload_sysfs_openat(int dirfd, const char *path, int flags, mode_t mode,
			  int *ret);
bool preload_sysfs_stat(const char *path, bool follow, struct stat *st,
			int *ret);
bool preload_sysfs_statx(const char *path, int flags, struct statx *stx,
			 int *ret);
bool preload_sysfs_access(const char *path, int mode, bool follow, int *ret);
/*
 * The path libc answers an xattr call for (@path or, after a link of
 * ours, @real), or NULL with *@err its errno: ENODATA for our names
 * (they have no attributes), or the walk's failure.
 */
const char *preload_sysfs_xattr(const char *path, bool follow, char *real,
				size_t size, int *err);
bool preload_sysfs_readlink(const char *path, char *buf, size_t size,
			    ssize_t *ret);
bool preload_sysfs_realpath(const char *path, char *resolved, size_t size,
			    char **ret);
bool preload_sysfs_opendir(const char *path, DIR **ret);
/* Calls on a DIR stream: false when @d is not one of ours. */
bool preload_sysfs_readdir(DIR *d, struct dirent **ret);
bool preload_sysfs_closedir(DIR *d);
bool preload_sysfs_rewinddir(DIR *d);
bool preload_sysfs_telldir(DIR *d, long *ret);
bool preload_sysfs_seekdir(DIR *d, long loc);
/*
 * fault_files.c: the fault-injection control files.  fail-nth: false
 * when @path is not the calling thread's fail-nth, else true with *@ret
 * the open's result (errno set on failure).  debugfs: the attributes
 * sysfs.c puts under /sys/kernel/debug, their names, defaults and open.
 */
bool preload_fail_nth_open(const char *path, int flags, int *ret);
unsigned int preload_debugfs_count(void);
void preload_debugfs_name(unsigned int i, const char **dir, const char **name);
void preload_debugfs_init(_Atomic long long *val);
int preload_debugfs_open(unsigned int attr, int flags);
/* fork: the parent holds the view's locks across it */
void preload_sysfs_lock(void);
void preload_sysfs_unlock(void);

/* vfile.c: the fd table */
static inline bool preload_fd_maybe(int fd)
{
	const struct preload_fdtable *t = &preload.fdt;
	preload_slot *c;

	if (!atomic_load_explicit(&t->nr, memory_order_relaxed) || fd < 0 ||
	    fd >= PRELOAD_FD_MAX)
		return false;
	c = atomic_load_explicit(&t->chunk[fd >> PRELOAD_FD_CHUNK_SHIFT],
				 memory_order_acquire);
	return c && atomic_load_explicit(&c[fd & (PRELOAD_FD_CHUNK - 1)],
					 memory_order_relaxed);
}

/* A reference to the description behind @fd, or NULL for a plain fd. */
struct sio_vfile *vfile_get_fd(int fd);
void vfile_get(struct sio_vfile *f);
void vfile_put(struct sio_vfile *f);
const struct preload_node *vfile_node(const struct sio_vfile *f);

/* vfile.c: the calls, each returning >= 0 or -errno */
int vfile_open(const struct preload_node *n, int flags);
/*
 * A file no node opens (the kernel's anon_inode_getfd()): an fd for
 * @ops and @priv, with *@out a reference of the caller's to put once it
 * has set the file up.  The fd or -errno (then @priv is the caller's).
 */
int vfile_open_anon(const struct sio_vfile_ops *ops, void *priv, int flags,
		    struct sio_vfile **out);
/*
 * A file of node @n opened by @open(@ctx) instead of the node's own: a
 * file an ioctl hands out (a group's device fd, the kernel's anon inode).
 */
int vfile_open_with(const struct preload_node *n, int flags,
		    sio_vfile_open_fn open, void *ctx);
int vfile_close(int fd);
int vfile_close_range(unsigned int first, unsigned int last,
		      int (*real)(unsigned int, unsigned int, int), int flags);
void vfile_drop_stale(int fd);
int vfile_dup(int oldfd, int newfd, int cloexec, bool dup2);
int vfile_dupfd(int oldfd, int minfd, bool cloexec);
long vfile_ioctl(struct sio_vfile *f, int fd, unsigned long cmd, void *arg);
ssize_t vfile_read(struct sio_vfile *f, void *buf, size_t len);
ssize_t vfile_write(struct sio_vfile *f, const void *buf, size_t len);
ssize_t vfile_pread(struct sio_vfile *f, void *buf, size_t len, off_t off);
ssize_t vfile_pwrite(struct sio_vfile *f, const void *buf, size_t len,
		     off_t off);
ssize_t vfile_readv(struct sio_vfile *f, const struct iovec *iov, int n);
ssize_t vfile_writev(struct sio_vfile *f, const struct iovec *iov, int n);
int vfile_mmap(struct sio_vfile *f, void *addr, size_t len, int prot, int flags,
	       off_t off, void **out);
int vfile_setfl(struct sio_vfile *f, int fd, int flags);
bool vfile_pollable(const struct sio_vfile *f);
/* fork: the child's copies of every description stop working */
void vfile_orphan_all(void);
struct preload_fork_chan;
size_t vfile_collect(const struct sio_vfile_ops *ops, struct sio_vfile ***out);
void vfile_make_remote(struct sio_vfile *f, struct preload_fork_chan *c,
		       unsigned int idx);
/* The driver's ioctl, without the VFS's part (the fork server's call). */
long vfile_forward_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg);

/*
 * fork.c: a fork child's iommufd fds act on the parent's context.  The
 * three run from the pthread_atfork handlers (prepare with fdt.lock
 * held); ioctl and release are a forwarded copy's calls.
 */
void preload_fork_prepare(void);
void preload_fork_parent(void);
void preload_fork_child(void);
long preload_fork_ioctl(struct preload_fork_chan *c, unsigned int idx,
			unsigned long cmd, void *arg);
void preload_fork_release(struct preload_fork_chan *c, unsigned int idx);
/* A fork child: the bytes its parent's contexts pin for process @pid. */
uint64_t preload_fork_pinned_bytes(pid_t pid);

/*
 * fork_share.c: in a fork child, before a call that names memory to pin
 * (IOMMU_IOAS_MAP, VFIO_IOMMU_MAP_DMA) goes to the parent, its private
 * pieces become MAP_SHARED memory of a memfd of ours.  The fds to send
 * with the call go in @fds (the child keeps them); how many.
 */
#define PRELOAD_FORK_MAX_FDS 16
unsigned int preload_fork_share(unsigned long cmd, const void *arg, int *fds);
/* munmap of all of a conversion's range closes its memfd */
void preload_fork_share_munmap(const void *addr, size_t len);
/*
 * madvise() that discards (DONTNEED, FREE, REMOVE, DONTNEED_LOCKED):
 * our memfds' memory in the range is treated as the private memory it
 * was.  0 to go on with the call, or the errno it fails with.
 */
int preload_fork_share_madvise(void *addr, size_t len, int advice);
/* atfork; in the new child, our memfds' memory becomes private copies */
void preload_fork_share_prepare(void);
void preload_fork_share_parent(void);
void preload_fork_share_child(void);

/*
 * proc_status.c: /proc/<pid>/status with our pins in VmPin:.  false
 * when libc answers the path (not a status file, or nothing pinned);
 * true with *@ret the open's result (errno set on failure).
 */
bool preload_proc_status_open(const char *path, int flags, int *ret);
/* The bytes this process's platform pins for process @pid. */
uint64_t preload_pinned_bytes(pid_t pid);

#endif /* SIO_PRELOAD_H */
