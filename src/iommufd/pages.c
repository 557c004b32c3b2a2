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

/* A new pages object joins the host's list (for MD_CHECK_REFS). */
/* A fork child's own pages: no address of ours names them. */
static bool pages_elsewhere(const struct iopt_pages *pages)
{
	return pages->remote_pid && !pages->remote_shared;
}

static void host_add_pages(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages->host->pages_lock);
	iommufd_list_add_tail(&pages->host_node, &pages->host->pages);
	if (pages->type == IOPT_ADDRESS_USER && !pages_elsewhere(pages))
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
	(*out)->acct_pid = (*out)->remote_pid;
	host_add_pages(*out);
	return 0;
}

/*
 * A file's pages reach the bus through our own shared mapping of them,
 * which also keeps the file open as the kernel's reference does.
 */
int iopt_alloc_file_pages(struct iommufd_host *host, int fd, uint64_t start,
			  uint64_t length, bool writable,
			  struct iommufd_dmabuf *dmabuf,
			  struct iopt_pages **out, uint64_t *start_byte)
{
	uint64_t down = start & ~(host->page_size - 1);
	struct iopt_pages *pages;
	struct stat st;
	int fl, rc;
	void *map;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st))
		return -EBADF;
	if (start + length < start)
		return -EOVERFLOW;
	if (writable && (fl & O_ACCMODE) == O_RDONLY)
		return -EPERM;
	if (!S_ISREG(st.st_mode))
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
		atomic_fetch_add(&dmabuf->kref, 1);
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
	pages->file_dev = st.st_dev;
	pages->file_ino = st.st_ino;
	pages->file_map = map;
	pages->type = IOPT_ADDRESS_FILE;
	pages->uptr = (uint64_t)(uintptr_t)map;
	*start_byte = start - down;
	*out = pages;
	host_add_pages(pages);
	return 0;
err:
	if (pages->dmabuf)
		iommufd_dmabuf_put(pages->dmabuf);
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
	if (pages->type == IOPT_ADDRESS_USER && !pages_elsewhere(pages))
		atomic_fetch_sub(&pages->host->nr_user_pages, 1);
	pthread_mutex_unlock(&pages->host->pages_lock);
	if (pages->remote_taken && !pages->remote_shared)
		munmap((void *)(uintptr_t)pages->uptr,
		       pages->npages << pages->host->page_shift);
	if (pages->file_map) {
		munmap(pages->file_map, pages->file_map_len);
		close(pages->file_fd);
	}
	if (pages->dmabuf)
		iommufd_dmabuf_put(pages->dmabuf);
	pthread_mutex_destroy(&pages->mutex);
	free(pages->gone);
	free(pages);
}

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

/*
 * A fork child's pages (see remote_pid): pinning them is taking them,
 * once, into memory of ours, as the kernel's pins hold the child's pages
 * after it exits.  A child that is gone has nothing to pin: -EFAULT, as
 * pin_user_pages_remote() on an mm without users.  pages->mutex held.
 */
static int take_remote(struct iopt_pages *pages)
{
	uint64_t len = pages->npages << pages->host->page_shift;
	void *map;
	int rc;

	if (!pages->remote_pid || pages->remote_taken)
		return 0;
	if (pages->remote_shared) {
		char probe;

		/* the same pages as ours, but only a living child pins */
		rc = sio_user_copy_from_mm(pages->remote_pid, &probe,
					   pages->uptr, 1);
		pages->remote_taken = !rc;
		return rc;
	}
	map = sio_mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return -ENOMEM;
	rc = sio_user_copy_from_mm(pages->remote_pid, map, pages->uptr, len);
	if (rc) {
		munmap(map, len);
		return rc;
	}
	pages->uptr = (uint64_t)(uintptr_t)map;
	pages->remote_taken = true;
	return 0;
}

/*
 * Fault in @npages pages from page @index, writable or not.
 * MADV_POPULATE_* fails with ENOMEM where nothing is mapped and EFAULT
 * where an access would raise SIGSEGV or SIGBUS; pin_user_pages() says
 * EFAULT for both.
 */
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

/* Pinning takes the pages with the access DMA will need. */
static int populate(struct iopt_pages *pages)
{
	return populate_range(pages, 0, pages->npages, pages->writable);
}

/*
 * The @i-th piece of an object of @npages pages that @gone (sorted,
 * disjoint) leaves, as page range [*first, *last]; false past the last.
 */
static bool live_piece(const struct iopt_pages_gone *gone, size_t nr_gone,
		       uint64_t npages, size_t i, uint64_t *first,
		       uint64_t *last)
{
	uint64_t start = 0;

	for (size_t k = 0; k <= nr_gone; k++) {
		uint64_t end = k < nr_gone ? gone[k].first : npages;

		if (end > start && !i--) {
			*first = start;
			*last = end - 1;
			return true;
		}
		if (k < nr_gone)
			start = gone[k].last + 1;
	}
	return false;
}

/* The pieces still the program's; pages->mutex held. */
static bool pages_live_piece(const struct iopt_pages *pages, size_t i,
			     uint64_t *first, uint64_t *last)
{
	if (pages->all_gone)
		return false;
	return live_piece(pages->gone, pages->nr_gone, pages->npages, i, first,
			  last);
}

static int populate_live(struct iopt_pages *pages)
{
	uint64_t first, last;

	if (!pages->nr_gone && !pages->all_gone)
		return populate(pages);
	for (size_t i = 0; pages_live_piece(pages, i, &first, &last); i++) {
		int rc = populate_range(pages, first, last - first + 1,
					pages->writable);

		if (rc)
			return rc;
	}
	return 0;
}

/* Register what is still the program's; all or nothing. */
static int register_live(struct iopt_pages *pages)
{
	unsigned int shift = pages->host->page_shift;
	unsigned int perm = SIO_MEM_READ |
			    (pages->writable ? SIO_MEM_WRITE : 0);
	uint64_t first, last;

	for (size_t i = 0; pages_live_piece(pages, i, &first, &last); i++) {
		int rc = sio_mem_register(pages->host->bus,
					  pages->uptr + (first << shift),
					  (last - first + 1) << shift, perm,
					  pages);

		if (rc) {
			sio_mem_unregister_owner(pages->host->bus, pages);
			return rc;
		}
	}
	return 0;
}

/* Pages of [first, last] that no access range covers; pages->mutex held. */
static uint64_t access_holes(struct iopt_pages *pages, uint64_t first,
			     uint64_t last)
{
	struct sio_itree_span span;
	uint64_t holes = 0;

	sio_itree_for_each_span(&span, &pages->access_itree, first, last)
	{
		if (span.is_hole)
			holes += span.last - span.start + 1;
	}
	return holes;
}

/* What the whole-object pin counts: the pages no access pinned already. */
static uint64_t domain_pin_npages(struct iopt_pages *pages)
{
	return access_holes(pages, 0, pages->npages - 1);
}

int iopt_pages_pin(struct iopt_pages *pages)
{
	int rc = 0;

	pthread_mutex_lock(&pages->mutex);
	/* a revoked dma-buf has no memory to pin: the pin is a count only */
	if (pages->pin_users++ || pages->revoked)
		goto out;
	rc = take_remote(pages);
	if (rc)
		goto err;
	rc = populate_live(pages);
	if (rc)
		goto err;
	rc = update_pinned(pages, domain_pin_npages(pages), true);
	if (rc)
		goto err;
	rc = register_live(pages);
	if (rc) {
		update_pinned(pages, domain_pin_npages(pages), false);
		goto err;
	}
	goto out;
err:
	pages->pin_users--;
out:
	pthread_mutex_unlock(&pages->mutex);
	return rc;
}

void iopt_pages_unpin(struct iopt_pages *pages)
{
	pthread_mutex_lock(&pages->mutex);
	if (--pages->pin_users == 0 && !pages->revoked) {
		sio_mem_unregister_owner(pages->host->bus, pages);
		update_pinned(pages, domain_pin_npages(pages), false);
	}
	pthread_mutex_unlock(&pages->mutex);
}

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
 * Record [first, last] as gone, keeping the list sorted and disjoint.
 * pages->mutex held.
 */
static int add_gone(struct iopt_pages *pages, uint64_t first, uint64_t last)
{
	struct iopt_pages_gone *g;
	size_t k = 0, n = 0;

	g = sio_malloc((pages->nr_gone + 1) * sizeof(*g));
	if (!g)
		return -ENOMEM;
	for (; k < pages->nr_gone && pages->gone[k].last + 1 < first; k++)
		g[n++] = pages->gone[k];
	for (; k < pages->nr_gone && pages->gone[k].first <= last + 1; k++) {
		if (pages->gone[k].first < first)
			first = pages->gone[k].first;
		if (pages->gone[k].last > last)
			last = pages->gone[k].last;
	}
	g[n++] = (struct iopt_pages_gone){first, last};
	for (; k < pages->nr_gone; k++)
		g[n++] = pages->gone[k];
	free(pages->gone);
	pages->gone = g;
	pages->nr_gone = n;
	return 0;
}

/*
 * Move the bus from the pieces @old left to those the gone list leaves
 * now: the new ones registered first, then the old ones removed one by
 * one, so that DMA to what stays never notices.  pages->mutex held.
 */
static void reregister(struct iopt_pages *pages,
		       const struct iopt_pages_gone *old, size_t nr_old)
{
	unsigned int shift = pages->host->page_shift;
	uint64_t first, last;

	if (register_live(pages))
		return; /* nothing of it is on the bus now: safe */
	for (size_t i = 0;
	     live_piece(old, nr_old, pages->npages, i, &first, &last); i++)
		sio_mem_unregister(pages->host->bus,
				   pages->uptr + (first << shift),
				   (last - first + 1) << shift, pages);
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
	struct iopt_pages_gone *old = NULL;
	size_t nr_old = pages->nr_gone;

	if (pages->all_gone)
		return;
	if (nr_old) {
		old = sio_malloc(nr_old * sizeof(*old));
		if (old)
			memcpy(old, pages->gone, nr_old * sizeof(*old));
	}
	if ((nr_old && !old) || add_gone(pages, (from - pages->uptr) >> shift,
					 (to - pages->uptr - 1) >> shift)) {
		pages->all_gone = true;
		sio_mem_unregister_owner(pages->host->bus, pages);
	} else if (pages->pin_users) {
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

		if (pages_elsewhere(pages))
			continue;
		end = pages->uptr + (pages->npages << host->page_shift);

		/* a file's pages reach the bus through our own mapping */
		if (pages->type != IOPT_ADDRESS_USER || va >= end ||
		    va + len <= pages->uptr ||
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
		 (pages->pin_users ||
		  sio_itree_first(&pages->access_itree, index, index));
	pthread_mutex_unlock(&pages->mutex);
	return pinned;
}

/* ------------------------------------------------------------ accesses
 */

/* One range of pages an access pinned, shared by its identical pins. */
struct iopt_pages_access {
	struct sio_itree_node node; /* page indices [start, last] */
	unsigned int users;
};

/* The node for exactly [index, last]; ranges may overlap. */
static struct iopt_pages_access *
iopt_pages_get_exact_access(struct iopt_pages *pages, uint64_t index,
			    uint64_t last)
{
	struct sio_itree_node *n;

	sio_itree_for_each(n, &pages->access_itree, index, last)
	{
		if (n->start == index && n->last == last)
			return iommufd_container_of(n, struct iopt_pages_access,
						    node);
	}
	return NULL;
}

static void fill_out_pages(struct iopt_pages *pages, uint64_t index,
			   uint64_t last, void **out_pages)
{
	for (; index <= last; index++)
		*out_pages++ =
			(void *)(uintptr_t)(pages->uptr +
					    (index << pages->host->page_shift));
}

/*
 * Fault in the pages of [first, last] no pin holds yet, as the kernel's
 * pin_user_pages() would take them (writable if the pages are).
 * pages->mutex held.
 */
static int populate_access_holes(struct iopt_pages *pages, uint64_t first,
				 uint64_t last)
{
	struct sio_itree_span span;
	int rc;

	if (pages->pin_users)
		return 0; /* a domain's pin holds every page */
	sio_itree_for_each_span(&span, &pages->access_itree, first, last)
	{
		if (!span.is_hole)
			continue;
		rc = populate_range(pages, span.start,
				    span.last - span.start + 1,
				    pages->writable);
		if (rc)
			return rc;
	}
	return 0;
}

/* Pin them for good: faulted in, then counted (-EFAULT before -ENOMEM).
 */
static int pin_access_holes(struct iopt_pages *pages, uint64_t first,
			    uint64_t last)
{
	int rc = populate_access_holes(pages, first, last);

	if (rc || pages->pin_users)
		return rc;
	return update_pinned(pages, access_holes(pages, first, last), true);
}

/* Undo pin_access_holes() once [first, last] has left the tree. */
static void unpin_access_holes(struct iopt_pages *pages, uint64_t first,
			       uint64_t last)
{
	if (!pages->pin_users)
		update_pinned(pages, access_holes(pages, first, last), false);
}

int iopt_area_add_access(struct iopt_area *area, uint64_t start_index,
			 uint64_t last_index, void **out_pages,
			 unsigned int flags)
{
	struct iopt_pages *pages = area->pages;
	struct iopt_pages_access *access;
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
	access = iopt_pages_get_exact_access(pages, start_index, last_index);
	if (access) {
		area->num_accesses++;
		if (flags & IOPT_ACCESS_LOCK_AREA)
			area->num_locks++;
		access->users++;
		fill_out_pages(pages, start_index, last_index, out_pages);
		pthread_mutex_unlock(&pages->mutex);
		return 0;
	}

	rc = take_remote(pages);
	if (rc)
		goto out_unlock;
	access = sio_calloc(1, sizeof(*access));
	if (!access) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	rc = pin_access_holes(pages, start_index, last_index);
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
	struct iopt_pages_access *access;

	pthread_mutex_lock(&pages->mutex);
	access = iopt_pages_get_exact_access(pages, start_index, last_index);
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
	unpin_access_holes(pages, start_index, last_index);
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
	rc = populate_access_holes(pages, first, last);
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
		rc = take_remote(pages);
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

		/* a file's pages are pinned through our own mapping of it */
		if (!file && p->type == IOPT_ADDRESS_USER &&
		    !pages_elsewhere(p) && uaddr >= p->uptr &&
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
