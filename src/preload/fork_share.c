// SPDX-License-Identifier: MIT
/*
 * A fork child's private memory, made shareable for the DMA it maps.
 *
 * A fork child's IOAS_MAP runs in the parent (fork.c), which reaches the
 * child's pages only by copying them; a copy is not the child's page, so
 * the device's writes would not reach the child, nor the child's later
 * writes the device.  The kernel's pin shares the page.  So, in the
 * child, before a call that names memory to pin later is sent
 * (IOMMU_IOAS_MAP, and VFIO_IOMMU_MAP_DMA on the iommufd), the private
 * pieces of its range (anonymous memory, MAP_PRIVATE files) become
 * MAP_SHARED mappings of a memfd with the same bytes and protections,
 * and that memfd goes to the parent with the call: its pins map the
 * memfd's pages (uapi/user_window.c), so device, parent and child share
 * them.  The child keeps the memfd, to send it again with a later call
 * that names that memory; it closes it once nothing maps it.
 *
 * Left as they are, and copied at pin time as before: memory that is
 * MAP_SHARED already (unless the parent shares it at the same address),
 * unreadable or executable pieces, special mappings ([stack], [vdso],
 * hugetlb), the mapping holding the calling thread's stack, and
 * everything when any step fails (no memfd, no memory): the call's own
 * result never depends on this.  Converting loses the mapping's other
 * attributes (madvise advice, mlock, a [anon:] name, THP).
 *
 * madvise(): a discard (DONTNEED, FREE) of memory that was anonymous
 * makes it new anonymous memory, reading zeros, as the kernel's does
 * while a pin keeps the old page; MADV_REMOVE is EINVAL, as on private
 * memory.  So anonymous memory and MAP_PRIVATE files' get memfds of
 * different names (/proc/<pid>/maps tells them apart).
 *
 * Races: each piece's bytes are copied, then the memfd is mapped over
 * it.  This thread writes nothing in between; another thread of the
 * child writing the piece then loses its write (the kernel's selftests
 * and the usual fork-then-map programs are single-threaded there).
 *
 * fork again: the kernel copies pinned anonymous pages for the new
 * child (page_needs_cow_for_dma()), which then has private memory where
 * its parent shares with the device.  So a child of a converted process
 * replaces every mapping of our memfds with a private anonymous copy,
 * same bytes and protections, and closes the memfds it inherited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "preload.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"
#include "uapi/vfio_abi.h"

/* Linux 6.3's memfd flags, for older headers */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

/*
 * Our memfds' names (uapi.h), which /proc/<pid>/maps shows: one for
 * anonymous memory, one for MAP_PRIVATE files' (madvise() below treats
 * them apart, as the kernel treats what they were).
 */
#define SHARE_NAME	     SIO_USER_WINDOW_NAME
#define SHARE_NAME_FILE	     SIO_USER_WINDOW_NAME "-file"
#define SHARE_MAPS_NAME	     "/memfd:" SHARE_NAME " (deleted)"
#define SHARE_MAPS_NAME_FILE "/memfd:" SHARE_NAME_FILE " (deleted)"

/* One memfd this process made and keeps. */
struct share_rec {
	int fd;
	dev_t dev;
	ino_t ino;
	uintptr_t lo, hi; /* what it was made for (munmap of it all closes) */
	bool seen, send;  /* in this scan: mapped anywhere, in the range */
};

/* ------------------------------------------------------------- maps */

enum maps_kind {
	MAPS_ANON,
	MAPS_FILE,
	MAPS_OURS,	/* our memfd, of anonymous memory */
	MAPS_OURS_FILE, /* our memfd, of a MAP_PRIVATE file's */
	MAPS_OTHER,
};

struct maps_line {
	uintptr_t start, end;
	char perms[5];
	unsigned int maj, min;
	unsigned long ino;
	enum maps_kind kind;
};

static enum maps_kind maps_kind(const char *name)
{
	if (!*name || !strcmp(name, "[heap]") || !strncmp(name, "[anon:", 6))
		return MAPS_ANON;
	if (!strcmp(name, SHARE_MAPS_NAME))
		return MAPS_OURS;
	if (!strcmp(name, SHARE_MAPS_NAME_FILE))
		return MAPS_OURS_FILE;
	/* [stack], [vdso], ...; hugetlb, whose pieces cannot be split */
	if (*name == '[' || !strncmp(name, "/anon_hugepage", 14))
		return MAPS_OTHER;
	return MAPS_FILE;
}

/* A path cut short (a long one) is never one of our short names. */
static void maps_line_of(const struct sio_user_maps_line *m,
			 struct maps_line *l)
{
	*l = (struct maps_line){
		.start = (uintptr_t)m->start,
		.end = (uintptr_t)m->end,
		.maj = m->maj,
		.min = m->min,
		.ino = (unsigned long)m->inode,
		.kind = maps_kind(m->path),
	};
	memcpy(l->perms, m->perms, sizeof(l->perms));
}

typedef void (*maps_fn)(const struct maps_line *l, void *arg);

struct maps_walk {
	maps_fn fn;
	void *arg;
};

static bool maps_walk_line(const struct sio_user_maps_line *m, void *arg)
{
	struct maps_walk *w = arg;
	struct maps_line l;

	maps_line_of(m, &l);
	w->fn(&l, w->arg);
	return false;
}

/*
 * Each line of our /proc/self/maps, read with libc's calls and no stdio
 * (this runs in an atfork handler too).  0, or -1 if it cannot be read.
 */
static int maps_walk(maps_fn fn, void *arg)
{
	struct maps_walk w = {fn, arg};

	return sio_user_maps_walk(0, NULL, maps_walk_line, &w) ? -1 : 0;
}

static int prot_of(const char *perms)
{
	return (perms[0] == 'r' ? PROT_READ : 0) |
	       (perms[1] == 'w' ? PROT_WRITE : 0) |
	       (perms[2] == 'x' ? PROT_EXEC : 0);
}

/* ---------------------------------------------------------- records */

static bool rec_is(const struct share_rec *r, unsigned int maj,
		   unsigned int min, unsigned long ino)
{
	return major(r->dev) == maj && minor(r->dev) == min && r->ino == ino;
}

/* Whether r->fd is still our memfd (the program may have closed it). */
static bool rec_valid(const struct share_rec *r)
{
	struct stat st;

	return !preload.real.fstat(r->fd, &st) && st.st_dev == r->dev &&
	       st.st_ino == r->ino;
}

/* Drop record @i, closing its fd if it is still ours.  lock held. */
static void rec_drop(size_t i)
{
	if (rec_valid(&preload.share.rec[i]))
		preload.real.close(preload.share.rec[i].fd);
	preload.share.rec[i] = preload.share.rec[--preload.share.n];
	atomic_store(&preload.share.nr, preload.share.n);
}

/* Room for one more record: false without memory.  lock held. */
static bool rec_reserve(void)
{
	struct share_rec *r = sio_realloc(preload.share.rec,
					  (preload.share.n + 1) * sizeof(*r));

	if (r)
		preload.share.rec = r;
	return r != NULL;
}

/* ------------------------------------------------------------- scan */

/* A private piece to convert. */
struct piece {
	uintptr_t start, end;
	int prot;
	bool file; /* of a MAP_PRIVATE file, else anonymous memory */
};

struct scan {
	uintptr_t lo, hi, sp;
	struct piece *p;
	size_t n, cap;
	bool nomem;
};

static bool convertible(const struct maps_line *l, uintptr_t sp)
{
	return l->perms[3] == 'p' && l->perms[0] == 'r' && l->perms[2] != 'x' &&
	       (l->kind == MAPS_ANON || l->kind == MAPS_FILE) &&
	       /* our own stack: its frames would change under us */
	       !(sp >= l->start && sp < l->end);
}

static bool ours(const struct maps_line *l)
{
	return l->kind == MAPS_OURS || l->kind == MAPS_OURS_FILE;
}

static void scan_add(struct scan *s, const struct maps_line *l)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct piece *p = sio_realloc(s->p, cap * sizeof(*p));

		if (!p) {
			s->nomem = true;
			return;
		}
		s->p = p;
		s->cap = cap;
	}
	s->p[s->n++] = (struct piece){
		.start = l->start > s->lo ? l->start : s->lo,
		.end = l->end < s->hi ? l->end : s->hi,
		.prot = prot_of(l->perms),
		.file = l->kind == MAPS_FILE,
	};
}

/* One line: our memfds it maps, or a private piece of the range. */
static void scan_line(const struct maps_line *l, void *arg)
{
	struct scan *s = arg;
	bool in = l->end > s->lo && l->start < s->hi;

	if (ours(l)) {
		for (size_t i = 0; i < preload.share.n; i++) {
			if (!rec_is(&preload.share.rec[i], l->maj, l->min,
				    l->ino))
				continue;
			preload.share.rec[i].seen = true;
			preload.share.rec[i].send |= in;
		}
		return;
	}
	if (!in || s->nomem || !convertible(l, s->sp))
		return;
	scan_add(s, l);
}

/* ---------------------------------------------------------- convert */

static int memfd_new(const char *name)
{
	const unsigned int fl = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	if (sio_should_fail_fd())
		return -1;
	/*
	 * Executable if allowed, as the anonymous memory was (a program may
	 * mprotect it PROT_EXEC): MFD_EXEC, which a kernel before 6.3 does
	 * not know (EINVAL); sealed no-exec where vm.memfd_noexec=2 refuses
	 * that (EACCES).
	 */
	fd = memfd_create(name, fl | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, fl);
	if (fd < 0 && errno == EACCES)
		fd = memfd_create(name, fl | MFD_NOEXEC_SEAL);
	return fd;
}

/*
 * A memfd of @size bytes that cannot shrink, grow or take other seals:
 * the parent maps it, and a mapping past a file's end would fault.
 */
static int memfd_sized(const char *name, size_t size)
{
	int fd = memfd_new(name);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) ||
	    preload.real.fcntl(fd, F_ADD_SEALS,
			       F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		preload.real.close(fd);
		return -1;
	}
	return fd;
}

/* The piece's bytes into the memfd; the kernel's copy cannot crash us. */
static bool copy_in(int fd, const struct piece *p, off_t off)
{
	size_t len = p->end - p->start, done = 0;

	while (done < len) {
		ssize_t n = preload.real.pwrite(fd, (char *)p->start + done,
						len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/*
 * Copy, then map the memfd over the piece: in between this thread writes
 * nothing (the fault point comes before).  libc's own mmap: this is not
 * the program unmapping memory it mapped for DMA.
 */
static bool convert_piece(int fd, uintptr_t base, const struct piece *p)
{
	off_t off = (off_t)(p->start - base);

	if (sio_should_fail() || !copy_in(fd, p, off))
		return false;
	return preload.real.mmap((void *)p->start, p->end - p->start, p->prot,
				 MAP_SHARED | MAP_FIXED, fd, off) != MAP_FAILED;
}

/*
 * Convert @s's pieces of one kind (@file: of MAP_PRIVATE files, else
 * anonymous memory) through one new memfd, recorded to be sent; a piece
 * that fails stays as it was (its copy at pin time, as before).  lock
 * held.
 */
static void convert_kind(const struct scan *s, bool file)
{
	size_t first = s->n, last = 0;
	struct share_rec *r;
	struct stat st;
	uintptr_t base;
	bool any = false;
	int fd;

	for (size_t i = 0; i < s->n; i++) {
		if (s->p[i].file != file)
			continue;
		if (first == s->n)
			first = i;
		last = i;
	}
	if (first == s->n)
		return;
	/* the record first: after the conversion nothing may fail */
	if (!rec_reserve())
		return;
	base = s->p[first].start;
	fd = memfd_sized(file ? SHARE_NAME_FILE : SHARE_NAME,
			 s->p[last].end - base);
	if (fd < 0)
		return;
	if (preload.real.fstat(fd, &st)) {
		preload.real.close(fd);
		return;
	}
	for (size_t i = first; i <= last; i++)
		if (s->p[i].file == file)
			any |= convert_piece(fd, base, &s->p[i]);
	if (!any) {
		preload.real.close(fd);
		return;
	}
	r = &preload.share.rec[preload.share.n++];
	*r = (struct share_rec){.fd = fd,
				.dev = st.st_dev,
				.ino = st.st_ino,
				.lo = base,
				.hi = s->p[last].end,
				.send = true};
	atomic_store(&preload.share.nr, preload.share.n);
	atomic_store(&preload.share.mapped, true);
}

/* The user memory @cmd names for a later pin, page-aligned; or false. */
static bool call_range(unsigned long cmd, const void *arg, uintptr_t *lo,
		       uintptr_t *hi)
{
	union {
		struct sio_iommu_ioas_map ioas;
		struct sio_vfio_iommu_type1_dma_map vfio;
	} u;
	bool ioas = cmd == SIO_IOMMU_IOAS_MAP;
	size_t size = ioas ? sizeof(u.ioas) : sizeof(u.vfio);
	struct iovec l = {.iov_base = &u, .iov_len = size};
	struct iovec r = {.iov_base = (void *)arg, .iov_len = size};
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), va, len;

	if (!ioas && cmd != SIO_VFIO_IOMMU_MAP_DMA)
		return false;
	/* the program's pointer may be bad: the call will say EFAULT */
	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)size)
		return false;
	if (ioas ? u.ioas.size < size : u.vfio.argsz < size)
		return false;
	va = ioas ? u.ioas.user_va : u.vfio.vaddr;
	len = ioas ? u.ioas.length : u.vfio.size;
	if (!len || va + len < va || va + len > UINTPTR_MAX - pg)
		return false;
	*lo = va & ~(pg - 1);
	*hi = (va + len + pg - 1) & ~(pg - 1);
	return true;
}

/*
 * The records to send, whose fds go in @fds (up to
 * PRELOAD_FORK_MAX_FDS; the rest is copied); those the program closed
 * under us are forgotten.  lock held.
 */
static unsigned int collect(int *fds)
{
	unsigned int n = 0;

	for (size_t i = 0; i < preload.share.n;) {
		struct share_rec *r = &preload.share.rec[i];

		if (!r->send || n == PRELOAD_FORK_MAX_FDS) {
			i++;
		} else if (!rec_valid(r)) {
			rec_drop(i);
		} else {
			fds[n++] = r->fd;
			i++;
		}
	}
	return n;
}

unsigned int preload_fork_share(unsigned long cmd, const void *arg, int *fds)
{
	struct scan s = {.sp = (uintptr_t)__builtin_frame_address(0)};
	unsigned int n;

	if (!call_range(cmd, arg, &s.lo, &s.hi))
		return 0;
	pthread_mutex_lock(&preload.share.lock);
	for (size_t i = 0; i < preload.share.n; i++)
		preload.share.rec[i].seen = preload.share.rec[i].send = false;
	if (maps_walk(scan_line, &s)) {
		pthread_mutex_unlock(&preload.share.lock);
		free(s.p);
		return 0;
	}
	/* a memfd nothing maps any more is only memory held */
	for (size_t i = 0; i < preload.share.n;) {
		if (preload.share.rec[i].seen)
			i++;
		else
			rec_drop(i);
	}
	if (s.n && !s.nomem) {
		convert_kind(&s, false);
		convert_kind(&s, true);
	}
	n = collect(fds);
	pthread_mutex_unlock(&preload.share.lock);
	free(s.p);
	return n;
}

void preload_fork_share_munmap(const void *addr, size_t len)
{
	uintptr_t a = (uintptr_t)addr;

	if (!atomic_load_explicit(&preload.share.nr, memory_order_relaxed))
		return;
	pthread_mutex_lock(&preload.share.lock);
	for (size_t i = 0; i < preload.share.n;) {
		if (a <= preload.share.rec[i].lo &&
		    preload.share.rec[i].hi - a <= len)
			rec_drop(i);
		else
			i++;
	}
	pthread_mutex_unlock(&preload.share.lock);
}

/* ---------------------------------------------------------- madvise */

/* The mappings of our memfds in a range, found before any changes. */
struct ours {
	uintptr_t lo, hi;
	struct maps_line *l;
	size_t n, cap;
	bool nomem;
};

static void ours_line(const struct maps_line *l, void *arg)
{
	struct ours *o = arg;

	if (!ours(l) || l->end <= o->lo || l->start >= o->hi || o->nomem)
		return;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 8;
		struct maps_line *g = sio_realloc(o->l, cap * sizeof(*g));

		if (!g) {
			o->nomem = true;
			return;
		}
		o->l = g;
		o->cap = cap;
	}
	o->l[o->n] = *l;
	/* only what is in the range */
	if (o->l[o->n].start < o->lo)
		o->l[o->n].start = o->lo;
	if (o->l[o->n].end > o->hi)
		o->l[o->n].end = o->hi;
	o->n++;
}

/*
 * Our memfds' mappings in [lo, hi) into *@o (the caller frees o->l):
 * 0, or -1 if they cannot all be known.
 */
static int ours_in(uintptr_t lo, uintptr_t hi, struct ours *o)
{
	*o = (struct ours){.lo = lo, .hi = hi};
	return maps_walk(ours_line, o) || o->nomem ? -1 : 0;
}

/*
 * A discard of our memory that was anonymous: anonymous memory reads
 * zeros after DONTNEED or FREE (allocators count on it), while a pin
 * keeps the page it held.  So the piece becomes new anonymous memory,
 * and the pins keep the memfd's pages.  (A MAP_PRIVATE file's page
 * would read the file again, which we cannot: it keeps its bytes.)
 * libc's own mmap: not the program's DMA memory going away.
 */
static void discard(const struct maps_line *l)
{
	if (l->kind == MAPS_OURS)
		preload.real.mmap((void *)l->start, l->end - l->start,
				  prot_of(l->perms),
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				  0);
}

int preload_fork_share_madvise(void *addr, size_t len, int advice)
{
	uintptr_t pg, lo = (uintptr_t)addr, hi;
	struct ours o;
	int err = 0;

	/* allocators discard constantly: nothing to do unless we converted */
	if (!atomic_load(&preload.share.mapped))
		return 0;
	pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	hi = (lo + len + pg - 1) & ~(pg - 1);
	/* the kernel refuses what is not a page-aligned range */
	if ((lo & (pg - 1)) || hi <= lo)
		return 0;
	pthread_mutex_lock(&preload.share.lock);
	if (ours_in(lo, hi, &o)) {
		/* not knowing, punch nothing that may be pinned */
		err = advice == MADV_REMOVE ? EINVAL : 0;
	} else if (advice == MADV_REMOVE) {
		/* EINVAL on private memory; on the memfd it would punch
		 * the pinned pages out */
		err = o.n ? EINVAL : 0;
	} else {
		for (size_t i = 0; i < o.n; i++)
			discard(&o.l[i]);
	}
	pthread_mutex_unlock(&preload.share.lock);
	free(o.l);
	return err;
}

/* ---------------------------------------------------- a new child */

void preload_fork_share_prepare(void)
{
	pthread_mutex_lock(&preload.share.lock);
}

void preload_fork_share_parent(void)
{
	pthread_mutex_unlock(&preload.share.lock);
}

/*
 * Our memfd's pages at [l->start, l->end) become private anonymous
 * memory with the same bytes and protections; false if they cannot
 * (then the range stays shared).  libc's own calls: our memory, not
 * the program's DMA memory going away.
 */
static bool privatize(const struct maps_line *l)
{
	size_t len = l->end - l->start;
	int prot = prot_of(l->perms);
	void *start = (void *)l->start, *tmp;
	struct iovec to, from = {.iov_base = start, .iov_len = len};
	bool ok;

	tmp = preload.real.mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tmp == MAP_FAILED)
		return false;
	to = (struct iovec){.iov_base = tmp, .iov_len = len};
	/* a piece the program made unreadable is read all the same */
	if (!(prot & PROT_READ))
		preload.real.mprotect(start, len, prot | PROT_READ);
	/* the kernel's copy: no sanitizer sees poisoned bytes read */
	ok = process_vm_readv(getpid(), &to, 1, &from, 1, 0) == (ssize_t)len &&
	     !preload.real.mprotect(tmp, len, prot) &&
	     preload.real.mremap(tmp, len, len, MREMAP_MAYMOVE | MREMAP_FIXED,
				 start) != MAP_FAILED;
	if (!ok) {
		preload.real.munmap(tmp, len);
		if (!(prot & PROT_READ))
			preload.real.mprotect(start, len, prot);
	}
	return ok;
}

/*
 * In the new child, single-threaded: our memfds' memory becomes its own
 * private copy, as the kernel copies pinned anonymous pages at fork, and
 * the memfds its parent keeps are not its own to send (nor does it have
 * a channel: one hop).  What cannot be copied stays shared with the
 * parent and is tried again at the next fork.
 */
void preload_fork_share_child(void)
{
	struct ours o = {0};
	bool left;

	if (atomic_load(&preload.share.mapped)) {
		left = ours_in(0, UINTPTR_MAX, &o);
		for (size_t i = 0; i < o.n; i++)
			left |= !privatize(&o.l[i]);
		free(o.l);
		atomic_store(&preload.share.mapped, left);
	}
	while (preload.share.n)
		rec_drop(preload.share.n - 1);
	pthread_mutex_unlock(&preload.share.lock);
}
