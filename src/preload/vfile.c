// SPDX-License-Identifier: MIT
/*
 * Virtual files: open file descriptions and the fd table.
 *
 * Each fd of a virtual file is a real kernel fd: an eventfd.  Its number
 * is then unique and the kernel's, dup/dup2/fcntl(F_DUPFD) and fork copy
 * it, FD_CLOEXEC is the kernel's, and poll/select/epoll work on it.  An
 * eventfd with a count of 1 polls readable and writable, which is what
 * the kernel reports for a file without .poll (DEFAULT_POLLMASK); a
 * pollable file keeps a private dup of it and moves the count between 0
 * and 1 to say whether it is readable.
 *
 * The table maps fd numbers to descriptions, one reference per fd.  Every
 * call on a virtual fd takes a reference under the table lock and drops
 * it when done, so a close racing an ioctl frees nothing the ioctl still
 * uses: the last put releases, as the kernel's fput() does.  Changes to
 * the table happen under the same lock, together with the real syscall
 * that changes the fd, so no two threads ever disagree on a number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "preload.h"

/* What F_GETFL shows on x86-64: the kernel sets O_LARGEFILE, which
 * glibc's header defines as 0 there. */
#define KERNEL_O_LARGEFILE 0100000
/* Flags that only matter at open time (the kernel drops them too). */
#define OPEN_ONLY_FLAGS (O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC)
/* What F_SETFL may change (the kernel's SETFL_MASK). */
#define SETFL_MASK (O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME)

struct sio_vfile {
	atomic_long refs;
	const struct sio_vfile_ops *ops;
	void *priv;
	const struct preload_node *node;
	atomic_int flags;   /* as F_GETFL reports them */
	atomic_bool orphan; /* a fork child's copy: see vfile_orphan_all() */
	int anchor;	    /* pollable: private eventfd of readiness; or -1 */
	pthread_mutex_t ready_lock;
	bool readable;	   /* the anchor's count, 0 or 1 (ready_lock) */
	_Atomic off_t pos; /* the file position, for ops->rw_at_pos */
	/* a fork child's copy whose calls go to the parent (fork.c) */
	struct preload_fork_chan *chan;
	unsigned int chan_idx;
};

/* ---- descriptions ---- */

void vfile_get(struct sio_vfile *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void vfile_put(struct sio_vfile *f)
{
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
		return;
	/*
	 * A fork child's copy of an object may have been mid-call in another
	 * thread of the parent: its locks and state cannot be trusted, so it
	 * is left alone (its memory is the parent's copy-on-write image).
	 */
	if (atomic_load(&f->orphan))
		;
	else if (f->chan)
		preload_fork_release(f->chan, f->chan_idx);
	else if (f->ops && f->ops->release)
		f->ops->release(f->priv);
	if (f->anchor >= 0)
		preload.real.close(f->anchor);
	pthread_mutex_destroy(&f->ready_lock);
	free(f);
}

void *sio_vfile_priv(const struct sio_vfile *f)
{
	return f->priv;
}

int sio_vfile_flags(const struct sio_vfile *f)
{
	return atomic_load(&f->flags);
}

const struct preload_node *vfile_node(const struct sio_vfile *f)
{
	return f->node;
}

bool vfile_pollable(const struct sio_vfile *f)
{
	return f->ops->pollable;
}

void sio_vfile_set_ready(struct sio_vfile *f, bool readable)
{
	uint64_t v = 1;

	if (f->anchor < 0)
		return;
	/*
	 * Only we touch the count, so it is exactly f->readable: a read
	 * when it is 1 and a write when it is 0 never block.
	 */
	pthread_mutex_lock(&f->ready_lock);
	if (readable != f->readable) {
		if (readable)
			f->readable = preload.real.write(f->anchor, &v,
							 sizeof(v)) > 0;
		else
			f->readable = preload.real.read(f->anchor, &v,
							sizeof(v)) <= 0;
	}
	pthread_mutex_unlock(&f->ready_lock);
}

/* ---- the table ---- */

static preload_slot *slot_of(int fd, bool create)
{
	struct preload_fdtable *t = &preload.fdt;
	_Atomic(preload_slot *) *cp = &t->chunk[fd >> PRELOAD_FD_CHUNK_SHIFT];
	preload_slot *c = atomic_load_explicit(cp, memory_order_acquire);

	if (!c && create) {
		/* under the table lock: nobody else creates it */
		c = sio_calloc(PRELOAD_FD_CHUNK, sizeof(*c));
		if (c)
			atomic_store_explicit(cp, c, memory_order_release);
	}
	return c ? &c[fd & (PRELOAD_FD_CHUNK - 1)] : NULL;
}

static void fdt_wrlock(void)
{
	pthread_mutex_lock(&preload.fdt.lock);
}

static void fdt_unlock(void)
{
	pthread_mutex_unlock(&preload.fdt.lock);
}

/* Table lock held.  The entry @fd had, for the caller to put. */
static struct sio_vfile *fdt_remove(int fd)
{
	preload_slot *s;
	struct sio_vfile *old;

	if (fd < 0 || fd >= PRELOAD_FD_MAX)
		return NULL;
	s = slot_of(fd, false);
	if (!s)
		return NULL;
	old = atomic_exchange_explicit(s, NULL, memory_order_relaxed);
	if (old)
		atomic_fetch_sub(&preload.fdt.nr, 1);
	return old;
}

/*
 * Table lock held.  @f's reference moves to the table.  An entry already
 * there is stale (its fd was closed behind our back, by a raw syscall):
 * it is returned for the caller to put.
 */
static int fdt_install(int fd, struct sio_vfile *f, struct sio_vfile **stale)
{
	preload_slot *s;

	if (fd >= PRELOAD_FD_MAX)
		return -EMFILE;
	s = slot_of(fd, true);
	if (!s)
		return -ENOMEM;
	*stale = fdt_remove(fd);
	atomic_store_explicit(s, f, memory_order_relaxed);
	atomic_fetch_add(&preload.fdt.nr, 1);
	return 0;
}

struct sio_vfile *vfile_get_fd(int fd)
{
	struct sio_vfile *f = NULL;
	preload_slot *s;

	if (!preload_fd_maybe(fd))
		return NULL;
	pthread_mutex_lock(&preload.fdt.lock);
	s = slot_of(fd, false);
	if (s)
		f = atomic_load_explicit(s, memory_order_relaxed);
	if (f)
		vfile_get(f);
	pthread_mutex_unlock(&preload.fdt.lock);
	return f;
}

int preload_fd_get(int fd, const struct sio_vfile_ops *expected,
		   struct sio_vfile **out)
{
	struct sio_vfile *f;

	preload_ready();
	f = vfile_get_fd(fd);
	if (!f)
		return preload.real.fcntl(fd, F_GETFD) < 0 ? -EBADF : -EBADFD;
	if (expected && f->ops != expected) {
		vfile_put(f);
		return -EBADFD;
	}
	*out = f;
	return 0;
}

void preload_fd_put(struct sio_vfile *f)
{
	if (f)
		vfile_put(f);
}

/* ---- fd operations ---- */

static struct sio_vfile *vfile_new(const struct preload_node *n, int flags)
{
	struct sio_vfile *f = sio_calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	atomic_init(&f->refs, 1);
	f->node = n;
	f->anchor = -1;
	atomic_init(&f->flags, (flags & ~OPEN_ONLY_FLAGS) | KERNEL_O_LARGEFILE);
	atomic_init(&f->orphan, false);
	atomic_init(&f->pos, 0);
	pthread_mutex_init(&f->ready_lock, NULL);
	return f;
}

/* The checks the VFS makes before a driver's open sees the call. */
static int open_checks(int flags)
{
	if ((flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	return 0;
}

/*
 * Give @f its fd: an eventfd (not readable yet if pollable; else readable
 * and writable forever) entered in the table.  The fd, or -errno with @f
 * put.
 */
static int vfile_install(struct sio_vfile *f, int flags)
{
	struct sio_vfile *stale = NULL;
	int rc, fd;

	fd = sio_should_fail_fd()
		     ? -1
		     : eventfd(f->ops->pollable ? 0 : 1,
			       (flags & O_CLOEXEC) ? EFD_CLOEXEC : 0);
	if (fd >= 0 && f->ops->pollable) {
		f->anchor = preload.real.fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (f->anchor < 0) {
			preload.real.close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		rc = -errno;
		vfile_put(f);
		return rc;
	}
	fdt_wrlock();
	rc = fdt_install(fd, f, &stale);
	fdt_unlock();
	if (stale)
		vfile_put(stale);
	if (rc) {
		preload.real.close(fd);
		vfile_put(f);
		return rc;
	}
	return fd;
}

int vfile_open(const struct preload_node *n, int flags)
{
	return vfile_open_with(n, flags, n->open, n->ctx);
}

int vfile_open_with(const struct preload_node *n, int flags,
		    sio_vfile_open_fn open, void *ctx)
{
	struct sio_vfile *f;
	int rc = open_checks(flags);

	if (rc)
		return rc;
	f = vfile_new(n, flags);
	if (!f)
		return -ENOMEM;
	rc = open(ctx, flags, &f->ops, &f->priv);
	if (rc) {
		pthread_mutex_destroy(&f->ready_lock);
		free(f);
		return rc;
	}
	return vfile_install(f, flags);
}

int vfile_open_anon(const struct sio_vfile_ops *ops, void *priv, int flags,
		    struct sio_vfile **out)
{
	struct sio_vfile *f = vfile_new(NULL, flags);
	int fd;

	if (!f)
		return -ENOMEM;
	f->ops = ops;
	f->priv = priv;
	/* the caller's reference, for the time it sets the file up */
	vfile_get(f);
	fd = vfile_install(f, flags);
	if (fd < 0) {
		f->ops = NULL; /* the caller still owns @priv */
		vfile_put(f);
		return fd;
	}
	*out = f;
	return fd;
}

int vfile_close(int fd)
{
	struct sio_vfile *f;
	int rc;

	/*
	 * Out of the table first, then the real close: once the number is
	 * free the kernel may hand it to another thread's open at once.
	 */
	fdt_wrlock();
	f = fdt_remove(fd);
	fdt_unlock();
	rc = preload.real.close(fd);
	if (f)
		vfile_put(f);
	return rc < 0 ? -errno : 0;
}

/*
 * close_range()/closefrom(): @real closes [first, last] under the write
 * lock, so that no open can take a number of the range before its old
 * entry is gone.  The entries are put after the lock is dropped (a
 * release may close fds of its own), hence the array sized beforehand.
 */
int vfile_close_range(unsigned int first, unsigned int last,
		      int (*real)(unsigned int, unsigned int, int), int flags)
{
	unsigned int end = last < PRELOAD_FD_MAX - 1 ? last
						     : PRELOAD_FD_MAX - 1;
	size_t cap = atomic_load(&preload.fdt.nr) + 16, n = 0;
	struct sio_vfile **gone = sio_malloc(cap * sizeof(*gone));
	int rc;

	if (!gone)
		return -ENOMEM;
	fdt_wrlock();
	while (atomic_load(&preload.fdt.nr) > cap) {
		struct sio_vfile **more;

		cap = atomic_load(&preload.fdt.nr) + 16;
		more = sio_realloc(gone, cap * sizeof(*gone));
		if (!more) {
			fdt_unlock();
			free(gone);
			return -ENOMEM;
		}
		gone = more;
	}
	rc = real(first, last, flags);
	if (rc < 0)
		rc = -errno;
	for (unsigned int fd = first; !rc && fd <= end && fd >= first; fd++) {
		if (!slot_of((int)fd, false)) {
			fd |= PRELOAD_FD_CHUNK - 1; /* no chunk: skip it */
			continue;
		}
		gone[n] = fdt_remove((int)fd);
		if (gone[n])
			n++;
	}
	fdt_unlock();
	while (n)
		vfile_put(gone[--n]);
	free(gone);
	return rc;
}

/* A number the kernel just gave a new plain file cannot be virtual. */
void vfile_drop_stale(int fd)
{
	struct sio_vfile *f;

	fdt_wrlock();
	f = fdt_remove(fd);
	fdt_unlock();
	if (f)
		vfile_put(f);
}

/*
 * dup2/dup3 (@dup2 true, @newfd the target) or dup (@newfd < 0).  The
 * real call and the table change happen under the table lock.
 */
int vfile_dup(int oldfd, int newfd, int cloexec, bool dup2)
{
	struct sio_vfile *f, *displaced = NULL, *stale = NULL;
	int rc;

	fdt_wrlock();
	f = NULL;
	if (preload_fd_maybe(oldfd) && slot_of(oldfd, false))
		f = atomic_load(slot_of(oldfd, false));
	if (!dup2)
		rc = preload.real.dup(oldfd);
	else if (cloexec >= 0)
		rc = preload.real.dup3(oldfd, newfd, cloexec);
	else
		rc = preload.real.dup2(oldfd, newfd);
	if (rc < 0) {
		rc = -errno;
		goto out;
	}
	if (rc == oldfd) /* dup2(fd, fd): nothing changes */
		goto out;
	displaced = fdt_remove(rc);
	if (f) {
		vfile_get(f);
		if (fdt_install(rc, f, &stale)) {
			/* cannot track it: undo rather than leave a plain fd */
			preload.real.close(rc);
			vfile_put(f);
			rc = -EMFILE;
		}
	}
out:
	fdt_unlock();
	if (displaced)
		vfile_put(displaced);
	if (stale)
		vfile_put(stale);
	return rc;
}

int vfile_dupfd(int oldfd, int minfd, bool cloexec)
{
	struct sio_vfile *f, *displaced, *stale = NULL;
	int rc;

	fdt_wrlock();
	rc = preload.real.fcntl(oldfd, cloexec ? F_DUPFD_CLOEXEC : F_DUPFD,
				minfd);
	if (rc < 0) {
		rc = -errno;
		fdt_unlock();
		return rc;
	}
	displaced = fdt_remove(rc); /* stale only: the number was free */
	f = preload_fd_maybe(oldfd) ? atomic_load(slot_of(oldfd, false)) : NULL;
	if (f) {
		vfile_get(f);
		if (fdt_install(rc, f, &stale)) {
			preload.real.close(rc);
			vfile_put(f);
			rc = -EMFILE;
		}
	}
	fdt_unlock();
	if (displaced)
		vfile_put(displaced);
	if (stale)
		vfile_put(stale);
	return rc;
}

/* ---- calls on a description ---- */

static bool can_read(const struct sio_vfile *f)
{
	int acc = atomic_load(&f->flags) & O_ACCMODE;

	return acc == O_RDONLY || acc == O_RDWR;
}

static bool can_write(const struct sio_vfile *f)
{
	int acc = atomic_load(&f->flags) & O_ACCMODE;

	return acc == O_WRONLY || acc == O_RDWR;
}

/* A fork child's copy: see vfile_orphan_all() */
static bool orphan(const struct sio_vfile *f)
{
	return atomic_load_explicit(&f->orphan, memory_order_relaxed);
}

long vfile_ioctl(struct sio_vfile *f, int fd, unsigned long cmd, void *arg)
{
	long rc;

	/*
	 * The VFS answers these itself, for every file, before the driver:
	 * they act on the fd (close-on-exec) or the description's flags.
	 */
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
	case FIOASYNC:
		rc = preload.real.ioctl(fd, cmd, arg);
		return rc < 0 ? -errno : rc;
	case FIONBIO:
		rc = preload.real.ioctl(fd, cmd, arg);
		if (rc < 0)
			return -errno;
		if (*(int *)arg)
			atomic_fetch_or(&f->flags, O_NONBLOCK);
		else
			atomic_fetch_and(&f->flags, ~O_NONBLOCK);
		return rc;
	}
	if (orphan(f))
		return -EIO;
	if (!f->ops->ioctl)
		return -ENOTTY;
	if (f->chan)
		return preload_fork_ioctl(f->chan, f->chan_idx, cmd, arg);
	return f->ops->ioctl(f, cmd, arg);
}

long vfile_forward_ioctl(struct sio_vfile *f, unsigned long cmd, void *arg)
{
	return f->ops->ioctl ? f->ops->ioctl(f, cmd, arg) : -ENOTTY;
}

/* vfs_read()'s order: EBADF (not open for reading), EINVAL (no read). */
/*
 * read/write of a driver that takes them at *ppos (vfio's): pread/pwrite
 * at the file position, which advances by what was moved.  As for a
 * character device in the kernel, concurrent calls on one description
 * are not serialized against each other.
 */
static ssize_t rw_at_pos(struct sio_vfile *f, void *buf, size_t len, bool write)
{
	off_t pos = atomic_load(&f->pos);
	ssize_t r = write ? f->ops->pwrite(f, buf, len, pos)
			  : f->ops->pread(f, buf, len, pos);

	if (r > 0)
		atomic_store(&f->pos, pos + r);
	return r;
}

ssize_t vfile_read(struct sio_vfile *f, void *buf, size_t len)
{
	if (!can_read(f))
		return -EBADF;
	if (!f->ops->read && !f->ops->rw_at_pos)
		return -EINVAL;
	if (orphan(f))
		return -EIO;
	if (f->ops->rw_at_pos)
		return rw_at_pos(f, buf, len, false);
	return f->ops->read(f, buf, len);
}

ssize_t vfile_write(struct sio_vfile *f, const void *buf, size_t len)
{
	if (!can_write(f))
		return -EBADF;
	if (!f->ops->write && !f->ops->rw_at_pos)
		return -EINVAL;
	if (orphan(f))
		return -EIO;
	if (f->ops->rw_at_pos)
		return rw_at_pos(f, (void *)buf, len, true);
	return f->ops->write(f, buf, len);
}

/*
 * A device with read but no positioned read behaves as one opened with
 * nonseekable_open(): ESPIPE.
 */
ssize_t vfile_pread(struct sio_vfile *f, void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	if (!can_read(f))
		return -EBADF;
	if (!f->ops->pread)
		return f->ops->read ? -ESPIPE : -EINVAL;
	if (orphan(f))
		return -EIO;
	return f->ops->pread(f, buf, len, off);
}

ssize_t vfile_pwrite(struct sio_vfile *f, const void *buf, size_t len,
		     off_t off)
{
	if (off < 0)
		return -EINVAL;
	if (!can_write(f))
		return -EBADF;
	if (!f->ops->pwrite)
		return f->ops->write ? -ESPIPE : -EINVAL;
	if (orphan(f))
		return -EIO;
	return f->ops->pwrite(f, buf, len, off);
}

/* One iovec after another, stopping at the first short transfer. */
static ssize_t vfile_rw_vec(struct sio_vfile *f, const struct iovec *iov, int n,
			    bool write)
{
	ssize_t done = 0;

	if (n < 0 || n > IOV_MAX)
		return -EINVAL;
	if (write ? !can_write(f) : !can_read(f))
		return -EBADF;
	if (write ? !f->ops->write : !f->ops->read)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		ssize_t r =
			write ? vfile_write(f, iov[i].iov_base, iov[i].iov_len)
			      : vfile_read(f, iov[i].iov_base, iov[i].iov_len);

		if (r < 0)
			return done ? done : r;
		done += r;
		if ((size_t)r < iov[i].iov_len)
			break;
	}
	return done;
}

ssize_t vfile_readv(struct sio_vfile *f, const struct iovec *iov, int n)
{
	return vfile_rw_vec(f, iov, n, false);
}

ssize_t vfile_writev(struct sio_vfile *f, const struct iovec *iov, int n)
{
	return vfile_rw_vec(f, iov, n, true);
}

/* do_mmap()'s checks for a file mapping, then the driver's. */
int vfile_mmap(struct sio_vfile *f, void *addr, size_t len, int prot, int flags,
	       off_t off, void **out)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int type = flags & MAP_TYPE;

	if (!len || (off & (off_t)(pg - 1)))
		return -EINVAL;
	len = (len + pg - 1) & ~(pg - 1);
	if (!len)
		return -ENOMEM;
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	if (type != MAP_PRIVATE && (prot & PROT_WRITE) && !can_write(f))
		return -EACCES;
	if (!can_read(f))
		return -EACCES;
	if (!f->ops->mmap)
		return -ENODEV;
	/* a mapping cannot cross to the parent (fork.c) */
	if (orphan(f) || f->chan)
		return -EIO;
	return f->ops->mmap(f, addr, len, prot, flags, off, out);
}

/* F_SETFL: the real fd first (it validates), then the description. */
int vfile_setfl(struct sio_vfile *f, int fd, int flags)
{
	int cur;

	if (preload.real.fcntl(fd, F_SETFL, flags) < 0)
		return -errno;
	cur = atomic_load(&f->flags);
	while (!atomic_compare_exchange_weak(
		&f->flags, &cur, (cur & ~SETFL_MASK) | (flags & SETFL_MASK)))
		;
	return 0;
}

/*
 * After fork the child shares the eventfds but has its own copy of every
 * object, which the parent keeps changing and which another parent thread
 * may have left mid-call.  The kernel would share one file; we cannot, so
 * the child's copies stop working (EIO) instead of silently diverging.
 * close, dup, fcntl and fstat still work, and a new open starts afresh.
 * Runs single-threaded in the child.
 */
void vfile_orphan_all(void)
{
	for (size_t c = 0; c < PRELOAD_FD_MAX / PRELOAD_FD_CHUNK; c++) {
		preload_slot *s = atomic_load(&preload.fdt.chunk[c]);

		for (size_t i = 0; s && i < PRELOAD_FD_CHUNK; i++) {
			struct sio_vfile *f = atomic_load(&s[i]);

			if (f)
				atomic_store(&f->orphan, true);
		}
	}
}

/*
 * The distinct descriptions with @ops that are this process's own (not a
 * fork child's copy), each referenced, in *@out (the caller frees it).
 * Their number; 0 and nothing allocated when there is none.  fdt.lock
 * held.
 */
size_t vfile_collect(const struct sio_vfile_ops *ops, struct sio_vfile ***out)
{
	struct sio_vfile **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	for (size_t c = 0; c < PRELOAD_FD_MAX / PRELOAD_FD_CHUNK; c++) {
		preload_slot *s = atomic_load(&preload.fdt.chunk[c]);

		for (size_t i = 0; s && i < PRELOAD_FD_CHUNK; i++) {
			struct sio_vfile *f = atomic_load(&s[i]);
			size_t k = 0;

			if (!f || f->ops != ops || orphan(f) || f->chan)
				continue;
			while (k < n && v[k] != f)
				k++;
			if (k < n)
				continue; /* a dup of one we have */
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 8;
				struct sio_vfile **nv =
					sio_realloc(v, ncap * sizeof(*v));

				if (!nv)
					goto fail;
				v = nv;
				cap = ncap;
			}
			vfile_get(f);
			v[n++] = f;
		}
	}
	*out = v;
	return n;
fail:
	for (size_t k = 0; k < n; k++)
		vfile_put(v[k]);
	free(v);
	return 0;
}

/*
 * In a fork child: @f (orphaned by vfile_orphan_all(), with one reference
 * vfile_collect() took for the parent's server) becomes a copy whose
 * calls go over @c, or stays orphaned without a channel.
 */
void vfile_make_remote(struct sio_vfile *f, struct preload_fork_chan *c,
		       unsigned int idx)
{
	/* the server's reference: never the last, the fd table has ours */
	atomic_fetch_sub(&f->refs, 1);
	if (!c)
		return;
	f->chan = c;
	f->chan_idx = idx;
	atomic_store(&f->orphan, false);
}
