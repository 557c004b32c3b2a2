// SPDX-License-Identifier: MIT
/*
 * A fork child's memory that we share: windows.
 *
 * The bus reaches only our own memory, so pinning a fork child's pages
 * takes them into a mapping of ours (iommufd/pages.c, take_remote()).
 * A copy would part the device's page from the child's, where the
 * kernel's pin shares one page.  So the child turns the private memory
 * it maps for DMA into MAP_SHARED memory of a memfd (the interposer's
 * preload/fork_share.c) and sends the memfd with its call; we map it
 * too, and that mapping is a window on the child's pages.
 *
 * Taking the child's range then maps, for each piece the child maps
 * from a window's memfd at that moment (read from /proc/<pid>/maps, as
 * the kernel's pin walks the child's page tables when it pins), the
 * window's pages at the destination, and copies the rest as before.
 * The destination is then the child's pages: the device's writes are
 * the child's, the child's later writes reach the device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "uapi.h"

/* One memfd the child sent, mapped whole. */
struct user_window {
	uint8_t *addr;
	uint64_t len;
	dev_t dev;
	ino_t ino;
};

struct sio_user_windows {
	atomic_uint refs;
	unsigned int n, max;
	struct user_window w[];
};

struct sio_user_windows *sio_user_windows_new(unsigned int max)
{
	struct sio_user_windows *ws =
		sio_calloc(1, sizeof(*ws) + max * sizeof(ws->w[0]));

	if (!ws)
		return NULL;
	atomic_init(&ws->refs, 1);
	ws->max = max;
	return ws;
}

int sio_user_windows_add(struct sio_user_windows *ws, int fd)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct stat st;
	void *p;
	int seals;

	if (ws->n == ws->max)
		return -ENOSPC;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    st.st_size % pg)
		return -EINVAL;
	/* a file that may shrink could leave our mapping past its end:
	 * the device's access there would be a SIGBUS */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EPERM;
	p = sio_mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ws->w[ws->n++] = (struct user_window){
		.addr = p,
		.len = (uint64_t)st.st_size,
		.dev = st.st_dev,
		.ino = st.st_ino,
	};
	return 0;
}

static void sio_user_windows_get(struct sio_user_windows *ws)
{
	atomic_fetch_add(&ws->refs, 1);
}

void sio_user_windows_put(struct sio_user_windows *ws)
{
	if (!ws || atomic_fetch_sub(&ws->refs, 1) != 1)
		return;
	for (unsigned int i = 0; i < ws->n; i++)
		munmap(ws->w[i].addr, ws->w[i].len);
	free(ws);
}

/* The windows of the call this thread runs for a fork child, or NULL. */
static SIO_TLS struct sio_user_windows *user_windows;

struct sio_user_windows *sio_user_set_windows(struct sio_user_windows *ws)
{
	struct sio_user_windows *old = user_windows;

	user_windows = ws;
	return old;
}

struct sio_user_windows *sio_user_windows_get_current(void)
{
	if (user_windows)
		sio_user_windows_get(user_windows);
	return user_windows;
}

/* A piece of the child's range that is a window's pages. */
struct take_piece {
	uint64_t start, len; /* the child's addresses */
	const struct user_window *w;
	uint64_t off; /* in the window */
};

/*
 * From one line of the child's maps, the piece of [lo, hi) a pin may
 * share: mapped shared from a window's memfd, with the access the pin
 * needs (readable, and writable for @write: a pin the child's own
 * protection refuses stays a copy, and fails as it did).
 */
static bool line_piece(const struct sio_user_windows *ws,
		       const struct sio_user_maps_line *l, uint64_t lo,
		       uint64_t hi, bool write, struct take_piece *p)
{
	uint64_t start = l->start, end = l->end, pgoff = l->pgoff;

	if (end <= lo || start >= hi || l->perms[0] != 'r' ||
	    (write && l->perms[1] != 'w') || l->perms[3] != 's')
		return false;
	if (start < lo) {
		pgoff += lo - start;
		start = lo;
	}
	if (end > hi)
		end = hi;
	for (unsigned int i = 0; i < ws->n; i++) {
		const struct user_window *w = &ws->w[i];

		if (major(w->dev) != l->maj || minor(w->dev) != l->min ||
		    w->ino != l->inode || pgoff > w->len ||
		    end - start > w->len - pgoff)
			continue;
		*p = (struct take_piece){start, end - start, w, pgoff};
		return true;
	}
	return false;
}

/* The search for a child's pieces that are windows' pages. */
struct pieces_find {
	const struct sio_user_windows *ws;
	uint64_t lo, hi;
	bool write;
	struct take_piece *p;
	size_t n, cap;
};

/* One line's piece, if any; without memory for it the search ends. */
static bool pieces_line(const struct sio_user_maps_line *l, void *arg)
{
	struct pieces_find *f = arg;
	struct take_piece piece;

	if (!line_piece(f->ws, l, f->lo, f->hi, f->write, &piece))
		return false;
	if (f->n == f->cap) {
		size_t c = f->cap ? 2 * f->cap : 8;
		struct take_piece *g = sio_realloc(f->p, c * sizeof(*g));

		if (!g)
			return true;
		f->p = g;
		f->cap = c;
	}
	f->p[f->n++] = piece;
	return false;
}

/*
 * The pieces of the child's [lo, hi) that are windows' pages, in
 * address order, in *@out (the caller frees it).  Without memory for
 * them (or without the child) fewer, even none: the rest is copied.
 */
static size_t shared_pieces(pid_t pid, const struct sio_user_windows *ws,
			    uint64_t lo, uint64_t hi, bool write,
			    struct take_piece **out)
{
	struct pieces_find f = {.ws = ws, .lo = lo, .hi = hi, .write = write};

	sio_user_maps_walk(pid, NULL, pieces_line, &f);
	*out = f.p;
	return f.n;
}

/*
 * Raw system calls: these replace our own memory under a lock of
 * pages.c, where the interposer's mmap/mremap would take the program's
 * unmap path (and its locks) for an address that was never the
 * program's.
 */
static int map_anon_at(void *to, uint64_t len)
{
	long r = syscall(SYS_mmap, to, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return r == -1 ? -ENOMEM : 0;
}

/*
 * Map a piece's window pages at @to: mremap() of a shared mapping with
 * old size 0 makes a second mapping of the same pages.  If that fails,
 * the piece is copied as without a window.
 */
static int share_piece(pid_t pid, const struct take_piece *p, uint8_t *to)
{
	long r = syscall(SYS_mremap, p->w->addr + p->off, 0, p->len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, to);

	if (r != -1)
		return 0;
	/* a failed move may have unmapped @to already */
	if (map_anon_at(to, p->len))
		return -ENOMEM;
	return sio_user_copy_from_mm(pid, to, p->start, p->len);
}

int sio_user_take(pid_t pid, struct sio_user_windows *ws, uint64_t uaddr,
		  uint64_t len, bool write, void *dst)
{
	uint8_t *to = dst;
	struct take_piece *p = NULL;
	size_t n = 0, i, done;
	uint64_t at = uaddr;
	int rc = 0;

	if (ws && ws->n)
		n = shared_pieces(pid, ws, uaddr, uaddr + len, write, &p);
	/* the copies first: when one fails, nothing is shared yet */
	for (i = 0; i <= n && !rc; i++) {
		uint64_t next = i < n ? p[i].start : uaddr + len;

		if (next > at)
			rc = sio_user_copy_from_mm(pid, to + (at - uaddr), at,
						   next - at);
		if (i < n)
			at = p[i].start + p[i].len;
	}
	for (done = 0; done < n && !rc; done++)
		rc = share_piece(pid, &p[done], to + (p[done].start - uaddr));
	/* a take that fails leaves only memory of ours at @dst, as it was */
	while (rc && done--)
		map_anon_at(to + (p[done].start - uaddr), p[done].len);
	free(p);
	return rc;
}
