// SPDX-License-Identifier: MIT
/*
 * The memory behind a mapping, and what pinning it means here.
 *
 * The kernel pins a user page with pin_user_pages(): it faults the page
 * in (writable if the mapping may be written by DMA), holds it, and
 * counts it against RLIMIT_MEMLOCK.  Our "physical" pages are the
 * program's own, so pinning is: make the kernel populate the range with
 * the access the DMA needs (MADV_POPULATE_READ/WRITE, which fails exactly
 * where pin_user_pages would, or for a few pages the same faults taken by
 * touching them), count it the kernel's way, and register it
 * on the bus so the SMMU model may reach it.  Unpinning reverses each
 * step; sio_mem_unregister() returns only when no access can still be
 * using the range.
 *
 * What is pinned is page ranges, as in the kernel: each area that backs
 * domains pins its own index range (domains_itree), each access the
 * range it asked for (access_itree).  A page is populated and counted
 * once while any range of either tree holds it, and is on the bus while
 * a domain range holds it; the pages of a mapping no area uses any more
 * (a piece a VFIO type1 unmap cut away, the rest of an IOAS_COPY's
 * source) are let go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <softiommu/mem.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/uapi.h"

#define POPULATE_BY_TOUCH 16 /* pages */

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ  22
#define MADV_POPULATE_WRITE 23
#endif

static int iopt_alloc_pages(struct iommufd_host *host, uint64_t start_byte,
			    uint64_t length, bool writable,
			    struct iopt_pages **out)
{
	struct iopt_pages *pages;

	/* The kernel's bound keeps DIV_ROUND_UP below from overflowing. */
	if (length == 0 || length > SIZE_MAX - host->page_size)
		return -EINVAL;
	pages = sio_calloc(1, sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	atomic_init(&pages->kref, 1);
	pages->host = host;
	pages->npages = (length + start_byte + host->page_size - 1) >>
			host->page_shift;
	pages->writable = writable;
	pages->account_mode = iommufd_capable(host, SIO_CAP_IPC_LOCK)
				      ? IOPT_PAGES_ACCOUNT_NONE
				      : IOPT_PAGES_ACCOUNT_USER;
	pthread_mutex_init(&pages->mutex, NULL);
	iommufd_list_init(&pages->host_node);
	*out = pages;
	return 0;
}

/* A fork child's own pages: no address of ours names them. */
static bool pages_elsewhere(const struct iopt_pages *pages)
{
	return pages->remote_pid && !pages->remote_shared;
}

/*
 * The program's own memory at uptr: what its munmap() takes from under
 * the pages, and where MD_CHECK_REFS finds them by address.  A file's
 * pages are reached through our own mapping of it instead.
 */
static inline bool pages_at_own_uptr(const struct iopt_pages *pages)
{
	return pages->type == IOPT_ADDRESS_USER && !pages_elsewhere(pages);
}

/* A new pages object joins the host's list (for MD_CHECK_REFS). */
static void host_add_pages(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages->host->pages_lock);
	iommufd_list_add_tail(&pages->host_node, &pages->host->pages);
	if (pages_at_own_uptr(pages))
		atomic_fetch_add(&pages->host->nr_user_pages, 1);
	pthread_mutex_unlock(&pages->host->pages_lock);
}

int iopt_alloc_user_pages(struct iommufd_host *host, uint64_t uptr,
			  uint64_t length, bool writable,
			  struct iopt_pages **out)
{
	uint64_t down = uptr & ~(host->page_size - 1);
	int rc;

	if (uptr + length < uptr)
		return -EOVERFLOW;
	rc = iopt_alloc_pages(host, uptr - down, length, writable, out);
	if (rc)
		return rc;
	(*out)->type = IOPT_ADDRESS_USER;
	(*out)->uptr = down;
	/*
	 * A fork child's pages.  MAP_SHARED memory it inherited is the same
	 * pages as ours at that address: pinning ours is pinning its, and
	 * the program's munmap() reaches them as its own memory.
	 */
	(*out)->remote_pid = sio_user_mm();
	if ((*out)->remote_pid)
		(*out)->remote_shared =
			sio_user_mm_shares((*out)->remote_pid, down,
					   (*out)->npages << host->page_shift);
	(*out)->remote_uptr = down;
	if (pages_elsewhere(*out))
		(*out)->windows = sio_user_windows_get_current();
	(*out)->acct_pid = (*out)->remote_pid;
	host_add_pages(*out);
	return 0;
}

/*
 * A file's pages reach the bus through our own shared mapping of them,
 * which also keeps the file open as the kernel's reference does.
 */
int iopt_alloc_file_pages(struct iommufd_host *host, int fd,
			  const struct stat *st, uint64_t start,
			  uint64_t length, bool writable,
			  struct iommufd_dmabuf *dmabuf,
			  struct iopt_pages **out, uint64_t *start_byte)
{
	uint64_t down = start & ~(host->page_size - 1);
	struct iopt_pages *pages;
	int fl, rc;
	void *map;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return -EBADF;
	if (start + length < start)
		return -EOVERFLOW;
	if (writable && (fl & O_ACCMODE) == O_RDONLY)
		return -EPERM;
	if (!S_ISREG(st->st_mode))
		return -EOPNOTSUPP;
	/*
	 * A dma-buf: the exporter's memory, all of it there or none (the
	 * kernel's iopt_alloc_dmabuf_pages()); a revoked one has none:
	 * ENODEV, the exporter's answer.
	 */
	if (dmabuf) {
		if (atomic_load(&dmabuf->revoked))
			return -ENODEV;
		if (!length || start + length > dmabuf->length)
			return -EINVAL;
	}
	rc = iopt_alloc_pages(host, start - down, length, writable, &pages);
	if (rc)
		return rc;
	if (dmabuf) {
		/* exporter memory is not the user's: nothing to account */
		pages->account_mode = IOPT_PAGES_ACCOUNT_NONE;
		pages->dmabuf = dmabuf;
	}
	pages->file_map_len = pages->npages << host->page_shift;
	if (down > (uint64_t)INT64_MAX) {
		rc = -EOVERFLOW;
		goto err;
	}
	map = sio_mmap(NULL, pages->file_map_len,
		       PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd,
		       (off_t)down);
	if (map == MAP_FAILED) {
		/* a sealed memfd refuses a writable mapping, as
		 * mapping_map_writable */
		rc = errno == EACCES ? -EPERM : -errno;
		goto err;
	}
	/* kept for the file's size at pin time, as the kernel's file ref */
	pages->file_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (pages->file_fd < 0) {
		rc = -EMFILE;
		munmap(map, pages->file_map_len);
		goto err;
	}
	pages->file_start = down;
	pages->file_dev = st->st_dev;
	pages->file_ino = st->st_ino;
	pages->file_map = map;
	pages->type = IOPT_ADDRESS_FILE;
	pages->uptr = (uint64_t)(uintptr_t)map;
	*start_byte = start - down;
	*out = pages;
	host_add_pages(pages);
	return 0;
err:
	pthread_mutex_destroy(&pages->mutex);
	free(pages);
	return rc;
}

bool iopt_pages_revoked(struct iopt_pages *pages)
{
	bool revoked;

	if (!pages->dmabuf)
		return false;
	pthread_mutex_lock(&pages->mutex);
	revoked = pages->revoked;
	pthread_mutex_unlock(&pages->mutex);
	return revoked;
}

/*
 * The kernel's iopt_revoke_notify(): no DMA reaches the pages from now
 * on (the domains' IOPTEs go in iopt_revoke_dmabuf()), and they are never
 * pinned again.
 */
void iopt_pages_revoke(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages->mutex);
	if (!pages->revoked) {
		pages->revoked = true;
		sio_mem_unregister_owner(pages->host->bus, pages);
	}
	pthread_mutex_unlock(&pages->mutex);
}

void iopt_get_pages_ref(struct iopt_pages *pages)
{
	atomic_fetch_add(&pages->kref, 1);
}

void iopt_put_pages(struct iopt_pages *pages)
{
	if (atomic_fetch_sub(&pages->kref, 1) != 1)
		return;
	/* the last area is gone, and with it every pin */
	pthread_mutex_lock(&pages->host->pages_lock);
	iommufd_list_del_init(&pages->host_node);
	if (pages_at_own_uptr(pages))
		atomic_fetch_sub(&pages->host->nr_user_pages, 1);
	pthread_mutex_unlock(&pages->host->pages_lock);
	if (pages->remote_taken && !pages->remote_shared)
		munmap((void *)(uintptr_t)pages->uptr,
		       pages->npages << pages->host->page_shift);
	sio_user_windows_put(pages->windows);
	if (pages->file_map) {
		munmap(pages->file_map, pages->file_map_len);
		close(pages->file_fd);
	}
	if (pages->dmabuf)
		iommufd_dmabuf_put(pages->dmabuf);
	pthread_mutex_destroy(&pages->mutex);
	free(pages->gone);
	free(pages->taken);
	free(pages);
}

/* ---------------------------------------------------------- page ranges */

/*
 * The @i-th run of [lo, hi] that no range of @r (sorted, disjoint)
 * covers, as [*first, *last]; false past the last one.
 */
static bool gap_piece(const struct iopt_page_range *r, size_t nr, uint64_t lo,
		      uint64_t hi, size_t i, uint64_t *first, uint64_t *last)
{
	uint64_t start = lo, end;
	size_t k = 0;

	while (start <= hi) {
		while (k < nr && r[k].last < start)
			k++;
		if (k < nr && r[k].first <= start) {
			if (r[k].last >= hi)
				return false;
			start = r[k].last + 1;
			continue;
		}
		end = k < nr && r[k].first - 1 < hi ? r[k].first - 1 : hi;
		if (!i--) {
			*first = start;
			*last = end;
			return true;
		}
		if (end == hi)
			return false;
		start = end + 1;
	}
	return false;
}

/* Whether @r covers all of [first, last]. */
static bool ranges_cover(const struct iopt_page_range *r, size_t nr,
			 uint64_t first, uint64_t last)
{
	uint64_t f, l;

	return !gap_piece(r, nr, first, last, 0, &f, &l);
}

/*
 * Add [first, last] to the sorted, disjoint list *@r, merging what it
 * meets or touches.  -ENOMEM leaves the list as it was.
 */
static int ranges_add(struct iopt_page_range **r, size_t *nr, uint64_t first,
		      uint64_t last)
{
	const struct iopt_page_range *old = *r;
	struct iopt_page_range *g;
	size_t k = 0, n = 0;

	g = sio_malloc((*nr + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (; k < *nr && old[k].last + 1 < first; k++)
		g[n++] = old[k];
	for (; k < *nr && old[k].first <= last + 1; k++) {
		if (old[k].first < first)
			first = old[k].first;
		if (old[k].last > last)
			last = old[k].last;
	}
	g[n++] = (struct iopt_page_range){first, last};
	for (; k < *nr; k++)
		g[n++] = old[k];
	free(*r);
	*r = g;
	*nr = n;
	return 0;
}

/*
 * The @i-th piece of [lo, hi] still the program's (not gone), as
 * [*first, *last]; false past the last.  pages->mutex held.
 */
static bool live_piece(const struct iopt_pages *pages, uint64_t lo, uint64_t hi,
		       size_t i, uint64_t *first, uint64_t *last)
{
	if (pages->all_gone)
		return false;
	return gap_piece(pages->gone, pages->nr_gone, lo, hi, i, first, last);
}

/* ----------------------------------------------------------- accounting */

static uint64_t memlock_limit_pages(struct iommufd_host *host)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	return (uint64_t)rl.rlim_cur >> host->page_shift;
}

/* Add @npages to @counter unless that passes RLIMIT_MEMLOCK (-ENOMEM). */
static int incr_locked_vm(struct iommufd_host *host, _Atomic uint64_t *counter,
			  uint64_t npages)
{
	uint64_t limit = memlock_limit_pages(host);
	uint64_t cur = atomic_load(counter);

	do {
		if (cur + npages < cur || cur + npages > limit)
			return -ENOMEM;
	} while (!atomic_compare_exchange_weak(counter, &cur, cur + npages));
	return 0;
}

/* The kernel's do_update_pinned(): the mode's counter, then pinned_vm. */
static int update_pinned(struct iopt_pages *pages, uint64_t npages, bool inc)
{
	struct iommufd_host *host = pages->host;
	int rc = 0;

	/*
	 * Pinning nothing never fails, even with a counter over the limit;
	 * a dma-buf's memory is the exporter's, which no pin counts (its
	 * revocation may come between a pin and its unpin).
	 */
	if (!npages || pages->dmabuf)
		return 0;
	switch (pages->account_mode) {
	case IOPT_PAGES_ACCOUNT_USER:
		if (inc)
			rc = incr_locked_vm(host, &host->user_locked_vm,
					    npages);
		else
			atomic_fetch_sub(&host->user_locked_vm, npages);
		break;
	case IOPT_PAGES_ACCOUNT_MM:
		if (inc)
			rc = incr_locked_vm(host, &host->mm_locked_vm, npages);
		else
			atomic_fetch_sub(&host->mm_locked_vm, npages);
		break;
	default:
		break;
	}
	if (rc)
		return rc;
	if (inc) {
		atomic_fetch_add(&host->mm_pinned_vm, npages);
		pages->pinned_npages += npages;
	} else {
		atomic_fetch_sub(&host->mm_pinned_vm, npages);
		pages->pinned_npages -= npages;
	}
	return 0;
}

/* What to do with one run of pages; 0 or -errno (which stops the walk). */
typedef int (*pages_run_fn)(struct iopt_pages *pages, uint64_t first,
			    uint64_t last, void *arg);

/*
 * Call @fn on each run of [first, last] that neither a domain's range
 * nor an access's holds: the pages a pin takes anew, and those an unpin
 * (once its own range has left its tree) gives back.  A page is pinned
 * once, however many ranges hold it, as the kernel's pages hold one pin
 * per page.  pages->mutex held.
 */
static int for_each_unpinned(struct iopt_pages *pages, uint64_t first,
			     uint64_t last, pages_run_fn fn, void *arg)
{
	struct sio_itree_span ds, as;
	int rc;

	sio_itree_for_each_span(&ds, &pages->domains_itree, first, last)
	{
		if (!ds.is_hole)
			continue;
		sio_itree_for_each_span(&as, &pages->access_itree, ds.start,
					ds.last)
		{
			if (!as.is_hole)
				continue;
			rc = fn(pages, as.start, as.last, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int count_run(struct iopt_pages *pages, uint64_t first, uint64_t last,
		     void *arg)
{
	(void)pages;
	*(uint64_t *)arg += last - first + 1;
	return 0;
}

/* How many pages of [first, last] nothing pins; pages->mutex held. */
static uint64_t unpinned_npages(struct iopt_pages *pages, uint64_t first,
				uint64_t last)
{
	uint64_t n = 0;

	for_each_unpinned(pages, first, last, count_run, &n);
	return n;
}

/* -------------------------------------------------------- a fork child */

/*
 * Take the child's pages [first, last] into @map: the pieces it maps
 * from the memfds it sent (its private memory, made shareable) as those
 * pages, the rest copied.  For memory it shares with us at the same
 * address, only check that the child still lives.
 */
static int take_remote_run(struct iopt_pages *pages, uint8_t *map,
			   uint64_t first, uint64_t last)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t off = first << shift;
	char probe;

	/* the same pages as ours, but only a living child pins */
	if (pages->remote_shared)
		return sio_user_copy_from_mm(pages->remote_pid, &probe,
					     pages->remote_uptr + off, 1);
	return sio_user_take(pages->remote_pid, pages->windows,
			     pages->remote_uptr + off,
			     (last - first + 1) << shift, pages->writable,
			     map + off);
}

/*
 * A fork child's pages (see remote_pid): pinning them is taking them,
 * once, into memory of ours, as the kernel's pins hold the child's pages
 * after it exits.  Where the child maps a memfd it sent, the memory
 * taken is that memfd's pages: the device, our mapping and the child
 * share them, as they share the kernel's pinned page; elsewhere it is a
 * copy.  Each pin takes its own range's pages that no earlier
 * one took (the kernel pins only an area's pages, so a child's range
 * that is partly unmapped pins where its areas lie).  A child that is
 * gone has nothing to pin: -EFAULT, as pin_user_pages_remote() on an mm
 * without users (its memfds are ours too, but the child's maps that
 * name them are gone with it).  All or nothing; pages->mutex held.
 */
static int take_remote(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	uint64_t len = pages->npages << pages->host->page_shift;
	/* the first take makes our copy, which uptr names from then on */
	bool fresh = !pages->remote_shared && !pages->remote_taken;
	uint8_t *map = (uint8_t *)(uintptr_t)pages->uptr;
	uint64_t f, l;
	int rc = 0;

	if (!pages->remote_pid ||
	    ranges_cover(pages->taken, pages->nr_taken, first, last))
		return 0;
	if (fresh) {
		void *m = sio_mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED)
			return -ENOMEM;
		map = m;
	}
	for (size_t i = 0; !rc && gap_piece(pages->taken, pages->nr_taken,
					    first, last, i, &f, &l);
	     i++)
		rc = take_remote_run(pages, map, f, l);
	if (!rc)
		rc = ranges_add(&pages->taken, &pages->nr_taken, first, last);
	if (rc && fresh)
		munmap(map, len);
	if (rc || !fresh)
		return rc;
	pages->uptr = (uint64_t)(uintptr_t)map;
	pages->remote_taken = true;
	return 0;
}

/* -------------------------------------------------------------- populate */

/*
 * A file's pages exist only below its size: pinning past the end fails
 * with -EINVAL, as the kernel's memfd_pin_folios() does, not with a
 * fault.
 */
static int file_range_ok(struct iopt_pages *pages, uint64_t index,
			 uint64_t npages)
{
	uint64_t end = pages->file_start +
		       ((index + npages) << pages->host->page_shift);
	struct stat st;

	if (fstat(pages->file_fd, &st))
		return -EBADF;
	return end > (uint64_t)st.st_size ? -EINVAL : 0;
}

/*
 * Fault in @npages pages from page @index, writable or not.
 * MADV_POPULATE_* fails with ENOMEM where nothing is mapped and EFAULT
 * where an access would raise SIGSEGV or SIGBUS; pin_user_pages() says
 * EFAULT for both.
 */
static int populate_range(struct iopt_pages *pages, uint64_t index,
			  uint64_t npages, bool write)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t uaddr = pages->uptr + (index << shift);
	int advice = write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;

	/* pin_user_pages() may fail to allocate what it needs */
	if (sio_should_fail())
		return -ENOMEM;
	if (pages->type == IOPT_ADDRESS_FILE) {
		int rc = file_range_ok(pages, index, npages);

		if (rc)
			return rc;
	}

	/*
	 * A few pages are cheaper to touch than a syscall (most of a 4 KiB
	 * IOAS_MAP's time): the same faults, taken from here.
	 */
	if (npages <= POPULATE_BY_TOUCH) {
		int rc = sio_user_touch(uaddr, npages << shift, write);

		if (rc != -EOPNOTSUPP)
			return rc;
	}
	if (madvise((void *)(uintptr_t)uaddr, npages << shift, advice))
		return -EFAULT;
	return 0;
}

/*
 * Pinning takes the pages with the access DMA will need; what the
 * program unmapped is not there to take (iommufd_host_user_unmap()).
 * With @arg, the run's pages are added to the count it points at, gone
 * ones too (as unpinned_npages() counts them).
 */
static int populate_live(struct iopt_pages *pages, uint64_t first,
			 uint64_t last, void *arg)
{
	uint64_t f, l;

	if (arg)
		*(uint64_t *)arg += last - first + 1;
	for (size_t i = 0; live_piece(pages, first, last, i, &f, &l); i++) {
		int rc = populate_range(pages, f, l - f + 1, pages->writable);

		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Fault in the pages of [first, last] no pin holds yet, as the kernel's
 * pin_user_pages() would take them (writable if the pages are), and
 * with @npages say how many they are; those pinned already are held,
 * whatever the program did to its mapping since.  pages->mutex held.
 */
static int populate_unpinned(struct iopt_pages *pages, uint64_t first,
			     uint64_t last, uint64_t *npages)
{
	if (npages)
		*npages = 0;
	return for_each_unpinned(pages, first, last, populate_live, npages);
}

/*
 * Pin the pages of [first, last] no domain range or access holds yet:
 * fault them in, then count them (-EFAULT before -ENOMEM, as the
 * kernel's pfn_reader faults pages in before it counts them), in one
 * walk.  [first, last] not yet in its tree; pages->mutex held.
 */
static int pin_holes(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	uint64_t npages;
	int rc = populate_unpinned(pages, first, last, &npages);

	if (rc)
		return rc;
	return update_pinned(pages, npages, true);
}

/* Undo pin_holes() once [first, last] has left its tree. */
static void unpin_holes(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	update_pinned(pages, unpinned_npages(pages, first, last), false);
}

/* ------------------------------------------------------------ the bus */

static unsigned int pages_perm(const struct iopt_pages *pages)
{
	return SIO_MEM_READ | (pages->writable ? SIO_MEM_WRITE : 0);
}

/*
 * Unregister one domain range's pieces as @gone (sorted, disjoint) left
 * them live.  pages->mutex held.
 */
static void unregister_pieces(struct iopt_pages *pages,
			      const struct iopt_page_range *gone, size_t nr,
			      uint64_t first, uint64_t last)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t f, l;

	for (size_t i = 0; gap_piece(gone, nr, first, last, i, &f, &l); i++)
		sio_mem_unregister(pages->host->bus, pages->uptr + (f << shift),
				   (l - f + 1) << shift, pages);
}

/* Undo register_range(); pages->mutex held. */
static void unregister_range(struct iopt_pages *pages, uint64_t first,
			     uint64_t last)
{
	if (!pages->all_gone && !pages->revoked)
		unregister_pieces(pages, pages->gone, pages->nr_gone, first,
				  last);
}

/*
 * Register the live pages of the domain range [first, last] on the bus,
 * on its own behalf: the bus counts registrations of the same pages, so
 * each range's unpin takes away exactly its own, and a page stays
 * reachable while any domain range holds it.  All or nothing; never for
 * a revoked dma-buf (its pin does not get here, and a host munmap()
 * only reregisters user memory); pages->mutex held.
 */
static int register_range(struct iopt_pages *pages, uint64_t first,
			  uint64_t last)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t f, l;
	int rc;

	for (size_t i = 0; live_piece(pages, first, last, i, &f, &l); i++) {
		rc = sio_mem_register(pages->host->bus,
				      pages->uptr + (f << shift),
				      (l - f + 1) << shift, pages_perm(pages),
				      pages);
		if (rc) {
			/* the pieces before this one are those of [first, f) */
			if (f > first)
				unregister_pieces(pages, pages->gone,
						  pages->nr_gone, first, f - 1);
			return rc;
		}
	}
	return 0;
}

/* ----------------------------------------------------------- domains */

/*
 * One page range the domains or an access pinned (domains_itree,
 * access_itree), shared by its identical pins.
 */
struct iopt_pages_range {
	struct sio_itree_node node; /* page indices [start, last] */
	unsigned int users;
};

/* The node of @tree for exactly [first, last]; ranges may overlap. */
static struct iopt_pages_range *get_exact_range(struct sio_itree *tree,
						uint64_t first, uint64_t last)
{
	struct sio_itree_node *n;

	sio_itree_for_each(n, tree, first, last)
	{
		if (n->start == first && n->last == last)
			return iommufd_container_of(n, struct iopt_pages_range,
						    node);
	}
	return NULL;
}

/*
 * Take, fault in and count the pages of [first, last] nothing pins yet,
 * then register the range: -EFAULT before -ENOMEM, as the kernel's
 * pfn_reader faults pages in before it counts them.  All or nothing;
 * pages->mutex held, the range not yet in domains_itree.
 */
static int pin_domain_range(struct iopt_pages *pages, uint64_t first,
			    uint64_t last)
{
	int rc;

	/* a revoked dma-buf has no memory to pin: the pin is a count only */
	if (pages->revoked)
		return 0;
	rc = take_remote(pages, first, last);
	if (rc)
		return rc;
	rc = pin_holes(pages, first, last);
	if (rc)
		return rc;
	rc = register_range(pages, first, last);
	if (rc)
		unpin_holes(pages, first, last);
	return rc;
}

int iopt_pages_pin(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	struct iopt_pages_range *dom;
	int rc = 0;

	pthread_mutex_lock(&pages->mutex);
	dom = get_exact_range(&pages->domains_itree, first, last);
	if (dom) {
		dom->users++;
		goto out;
	}
	dom = sio_calloc(1, sizeof(*dom));
	if (!dom) {
		rc = -ENOMEM;
		goto out;
	}
	rc = pin_domain_range(pages, first, last);
	if (rc) {
		free(dom);
		goto out;
	}
	dom->node.start = first;
	dom->node.last = last;
	dom->users = 1;
	sio_itree_insert(&pages->domains_itree, &dom->node);
out:
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

void iopt_pages_unpin(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	struct iopt_pages_range *dom;

	pthread_mutex_lock(&pages->mutex);
	dom = get_exact_range(&pages->domains_itree, first, last);
	if (!dom || --dom->users)
		goto out;
	sio_itree_remove(&pages->domains_itree, &dom->node);
	/* off the bus first: no DMA may reach what is no longer counted */
	unregister_range(pages, first, last);
	unpin_holes(pages, first, last);
	free(dom);
out:
	pthread_mutex_unlock(&pages->mutex);
}

/* -------------------------------------------- the program's munmap() */

/* pages->mutex held */
static bool range_gone(const struct iopt_pages *pages, uint64_t first,
		       uint64_t last)
{
	bool gone = pages->all_gone;

	for (size_t k = 0; k < pages->nr_gone && !gone; k++)
		gone = pages->gone[k].first <= last &&
		       pages->gone[k].last >= first;
	return gone;
}

bool iopt_pages_range_gone(struct iopt_pages *pages, uint64_t first,
			   uint64_t last)
{
	bool gone;

	pthread_mutex_lock(&pages->mutex);
	gone = range_gone(pages, first, last);
	pthread_mutex_unlock(&pages->mutex);
	return gone;
}

/*
 * Move each domain range's registrations from the pieces @old left to
 * those the gone list leaves now: its new ones registered first, then
 * its old ones removed, so that DMA to what stays never notices.
 * Without memory for that the whole object goes (all_gone), the safe
 * direction.  pages->mutex held.
 */
static void reregister(struct iopt_pages *pages,
		       const struct iopt_page_range *old, size_t nr_old)
{
	struct sio_itree_node *n;

	sio_itree_for_each(n, &pages->domains_itree, 0, UINT64_MAX)
	{
		if (register_range(pages, n->start, n->last)) {
			pages->all_gone = true;
			sio_mem_unregister_owner(pages->host->bus, pages);
			return;
		}
		unregister_pieces(pages, old, nr_old, n->start, n->last);
	}
}

/*
 * The program's [va, va + len) goes from under @pages.  The kernel's
 * pinned pages would outlive the program's mapping and DMA would go on
 * reaching them; ours are the program's own, so the range leaves the bus
 * instead, and a DMA to it aborts as at a target that is not there.
 * Without memory to do it exactly, the whole object goes: losing more
 * than the program unmapped is the safe direction.  pages->mutex held.
 */
static void pages_user_unmap(struct iopt_pages *pages, uint64_t va,
			     uint64_t len)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t end = pages->uptr + (pages->npages << shift);
	uint64_t from = va > pages->uptr ? va : pages->uptr;
	uint64_t to = va + len < end ? va + len : end;
	struct iopt_page_range *old = NULL;
	size_t nr_old = pages->nr_gone;

	if (pages->all_gone)
		return;
	if (nr_old) {
		old = sio_malloc(nr_old * sizeof(*old));
		if (old)
			memcpy(old, pages->gone, nr_old * sizeof(*old));
	}
	if ((nr_old && !old) || ranges_add(&pages->gone, &pages->nr_gone,
					   (from - pages->uptr) >> shift,
					   (to - pages->uptr - 1) >> shift)) {
		pages->all_gone = true;
		sio_mem_unregister_owner(pages->host->bus, pages);
	} else {
		reregister(pages, old, nr_old);
	}
	free(old);
}

void iommufd_host_user_unmap(struct iommufd_host *host, uint64_t va,
			     uint64_t len, bool writable_only)
{
	struct iommufd_list *it;

	if (!len || !atomic_load(&host->nr_user_pages))
		return;
	if (va + len < va)
		len = -va;
	pthread_mutex_lock(&host->pages_lock);
	for (it = host->pages.next; it != &host->pages; it = it->next) {
		struct iopt_pages *pages =
			iommufd_container_of(it, struct iopt_pages, host_node);
		uint64_t end;

		if (!pages_at_own_uptr(pages))
			continue;
		end = pages->uptr + (pages->npages << host->page_shift);
		if (va >= end || va + len <= pages->uptr ||
		    (writable_only && !pages->writable))
			continue;
		pthread_mutex_lock(&pages->mutex);
		pages_user_unmap(pages, va, len);
		pthread_mutex_unlock(&pages->mutex);
	}
	pthread_mutex_unlock(&host->pages_lock);
}

bool iopt_pages_is_pinned(struct iopt_pages *pages, uint64_t index)
{
	bool pinned;

	pthread_mutex_lock(&pages->mutex);
	pinned = index < pages->npages &&
		 (sio_itree_first(&pages->domains_itree, index, index) ||
		  sio_itree_first(&pages->access_itree, index, index));
	pthread_mutex_unlock(&pages->mutex);
	return pinned;
}

/* ------------------------------------------------------------ accesses */

static void fill_out_pages(struct iopt_pages *pages, uint64_t index,
			   uint64_t last, void **out_pages)
{
	for (; index <= last; index++)
		*out_pages++ =
			(void *)(uintptr_t)(pages->uptr +
					    (index << pages->host->page_shift));
}

int iopt_area_add_access(struct iopt_area *area, uint64_t start_index,
			 uint64_t last_index, void **out_pages,
			 unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_range *access;
	int rc;

	if ((flags & IOMMUFD_ACCESS_RW_WRITE) && !pages->writable)
		return -EPERM;
	/* a dma-buf's memory is the exporter's: no access pins it */
	if (pages->dmabuf)
		return -EINVAL;

	pthread_mutex_lock(&pages->mutex);
	/* what the program unmapped is no page to hand out (see above) */
	if (range_gone(pages, start_index, last_index)) {
		rc = -EFAULT;
		goto out_unlock;
	}
	access = get_exact_range(&pages->access_itree, start_index, last_index);
	if (access) {
		area->num_accesses++;
		if (flags & IOPT_ACCESS_LOCK_AREA)
			area->num_locks++;
		access->users++;
		fill_out_pages(pages, start_index, last_index, out_pages);
		pthread_mutex_unlock(&pages->mutex);
		return 0;
	}

	rc = take_remote(pages, start_index, last_index);
	if (rc)
		goto out_unlock;
	access = sio_calloc(1, sizeof(*access));
	if (!access) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	rc = pin_holes(pages, start_index, last_index);
	if (rc) {
		free(access);
		goto out_unlock;
	}
	access->node.start = start_index;
	access->node.last = last_index;
	access->users = 1;
	sio_itree_insert(&pages->access_itree, &access->node);
	area->num_accesses++;
	if (flags & IOPT_ACCESS_LOCK_AREA)
		area->num_locks++;
	fill_out_pages(pages, start_index, last_index, out_pages);
out_unlock:
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

void iopt_area_remove_access(struct iopt_area *area, bool locked,
			     uint64_t start_index, uint64_t last_index)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_range *access;

	pthread_mutex_lock(&pages->mutex);
	access = get_exact_range(&pages->access_itree, start_index, last_index);
	/* a caller's unpin of something it never pinned changes nothing
	 */
	if (!access || !area->num_accesses)
		goto out_unlock;
	area->num_accesses--;
	if (locked && area->num_locks)
		area->num_locks--;
	if (--access->users)
		goto out_unlock;
	sio_itree_remove(&pages->access_itree, &access->node);
	unpin_holes(pages, start_index, last_index);
	free(access);
out_unlock:
	pthread_mutex_unlock(&pages->mutex);
}

/* The CPU's copy: a fault where memory is gone is -EFAULT, not a crash.
 */
static int rw_copy(struct iopt_pages *pages, uint64_t uaddr, void *data,
		   uint64_t length, unsigned int flags)
{
	/* a fork child's pages, once taken, are in our own memory */
	pid_t mm = pages->remote_pid ? sio_user_set_mm(0) : sio_user_mm();
	int rc;

	if (flags & IOMMUFD_ACCESS_RW_WRITE)
		rc = sio_user_write(uaddr, data, length);
	else
		rc = sio_user_read(data, uaddr, length);
	sio_user_set_mm(mm);
	return rc;
}

/*
 * The kernel's iopt_pages_rw_slow(): hold every page of the range the
 * way a domain would see it — the pins already there, and for the rest
 * a pin taken for the copy and dropped after (the kernel's pfn_reader
 * leaves the RLIMIT_MEMLOCK counters as they were).
 */
static int rw_slow(struct iopt_pages *pages, uint64_t first, uint64_t last,
		   uint64_t start_byte, void *data, uint64_t length,
		   unsigned int flags)
{
	int rc;

	pthread_mutex_lock(&pages->mutex);
	rc = populate_unpinned(pages, first, last, NULL);
	if (!rc)
		rc = rw_copy(pages, pages->uptr + start_byte, data, length,
			     flags);
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

/*
 * The kernel's iopt_pages_rw_page(): one page, pinned for the copy with
 * only the access the copy makes, and not counted.
 */
static int rw_page(struct iopt_pages *pages, uint64_t index,
		   uint64_t start_byte, void *data, uint64_t length,
		   unsigned int flags)
{
	int rc = populate_range(pages, index, 1,
				flags & IOMMUFD_ACCESS_RW_WRITE);

	if (rc)
		return rc;
	return rw_copy(pages, pages->uptr + start_byte, data, length, flags);
}

int iopt_pages_rw_access(struct iopt_pages *pages, uint64_t start_byte,
			 void *data, uint64_t length, unsigned int flags)
{
	uint64_t first = start_byte >> pages->host->page_shift;
	uint64_t last = (start_byte + length - 1) >> pages->host->page_shift;

	if ((flags & IOMMUFD_ACCESS_RW_WRITE) && !pages->writable)
		return -EPERM;
	/* nor does one read or write it */
	if (pages->dmabuf)
		return -EINVAL;
	if (iopt_pages_range_gone(pages, first, last))
		return -EFAULT;
	if (pages->remote_pid) {
		int rc;

		pthread_mutex_lock(&pages->mutex);
		rc = take_remote(pages, first, last);
		pthread_mutex_unlock(&pages->mutex);
		if (rc)
			return rc;
	}
	/*
	 * One process has one mm: the kernel's fast path
	 * (copy_to_user() on the mm that mapped the pages) is always
	 * open, unless the selftest asks for the path another mm would
	 * take.
	 */
	if ((flags & IOMMUFD_ACCESS_RW_SLOW_PATH) &&
	    !(flags & IOMMUFD_ACCESS_RW_KTHREAD)) {
		if (first == last)
			return rw_page(pages, first, start_byte, data, length,
				       flags);
		return rw_slow(pages, first, last, start_byte, data, length,
			       flags);
	}
	return rw_copy(pages, pages->uptr + start_byte, data, length, flags);
}

/*
 * Pins of the pages at @uaddr (anonymous memory, by address) or at file
 * (@dev, @ino) offset @off: one per live pages object that has the page
 * pinned, by a domain or an access.
 */
static unsigned int count_pins(struct iommufd_host *host, uint64_t uaddr,
			       bool file, dev_t dev, ino_t ino, uint64_t off)
{
	unsigned int n = 0;

	pthread_mutex_lock(&host->pages_lock);
	for (struct iommufd_list *l = host->pages.next; l != &host->pages;
	     l = l->next) {
		struct iopt_pages *p =
			iommufd_container_of(l, struct iopt_pages, host_node);
		uint64_t len = p->npages << host->page_shift;

		if (!file && pages_at_own_uptr(p) && uaddr >= p->uptr &&
		    uaddr - p->uptr < len)
			n += iopt_pages_is_pinned(p, (uaddr - p->uptr) >>
							     host->page_shift);
		if (file && p->type == IOPT_ADDRESS_FILE &&
		    p->file_dev == dev && p->file_ino == ino &&
		    off >= p->file_start && off - p->file_start < len)
			n += iopt_pages_is_pinned(p, (off - p->file_start) >>
							     host->page_shift);
	}
	pthread_mutex_unlock(&host->pages_lock);
	return n;
}

unsigned int iopt_pages_count_pins(struct iommufd_host *host, uint64_t uaddr)
{
	return count_pins(host, uaddr, false, 0, 0, 0);
}

unsigned int iopt_pages_count_file_pins(struct iommufd_host *host, dev_t dev,
					ino_t ino, uint64_t off)
{
	return count_pins(host, 0, true, dev, ino, off);
}

uint64_t iommufd_host_pinned_bytes(struct iommufd_host *host, pid_t pid)
{
	uint64_t n = 0;

	pthread_mutex_lock(&host->pages_lock);
	for (struct iommufd_list *l = host->pages.next; l != &host->pages;
	     l = l->next) {
		struct iopt_pages *p =
			iommufd_container_of(l, struct iopt_pages, host_node);

		pthread_mutex_lock(&p->mutex);
		if (p->acct_pid == pid)
			n += p->pinned_npages;
		pthread_mutex_unlock(&p->mutex);
	}
	pthread_mutex_unlock(&host->pages_lock);
	return n << host->page_shift;
}

/*
 * The kernel's iommufd_ioas_change_process() moves each pages object's
 * source_mm and charges its pins there; our RLIMIT counters are the
 * host's, so what moves is whose VmPin: shows them.
 */
void iopt_pages_change_process(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages->mutex);
	pages->acct_pid = sio_user_mm();
	pthread_mutex_unlock(&pages->mutex);
}
