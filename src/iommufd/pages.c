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
	pages = calloc(1, sizeof(*pages));
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
	iommufd_list_init(&pages->pinned_node);
	*out = pages;
	return 0;
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
	return 0;
}

/*
 * A file's pages reach the bus through our own shared mapping of them,
 * which also keeps the file open as the kernel's reference does.
 */
int iopt_alloc_file_pages(struct iommufd_host *host, int fd, uint64_t start,
			  uint64_t length, bool writable,
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
	rc = iopt_alloc_pages(host, start - down, length, writable, &pages);
	if (rc)
		return rc;
	pages->file_map_len = pages->npages << host->page_shift;
	if (down > (uint64_t)INT64_MAX) {
		rc = -EOVERFLOW;
		goto err;
	}
	map = mmap(NULL, pages->file_map_len,
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
	return 0;
err:
	pthread_mutex_destroy(&pages->mutex);
	free(pages);
	return rc;
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
	if (pages->file_map) {
		munmap(pages->file_map, pages->file_map_len);
		close(pages->file_fd);
	}
	pthread_mutex_destroy(&pages->mutex);
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
	if (inc)
		atomic_fetch_add(&host->mm_pinned_vm, npages);
	else
		atomic_fetch_sub(&host->mm_pinned_vm, npages);
	return 0;
}

/*
 * Fault the range in with the access DMA will need.  MADV_POPULATE_*
 * fails with ENOMEM where nothing is mapped and EFAULT where an access
 * would raise SIGSEGV or SIGBUS; pin_user_pages() says EFAULT for both.
 */
/*
 * A file's pages exist only below its size: pinning past the end fails
 * with -EINVAL, as the kernel's memfd_pin_folios() does, not with a
 * fault.
 */
static int file_range_ok(struct iopt_pages *pages)
{
	uint64_t end =
		pages->file_start + (pages->npages << pages->host->page_shift);
	struct stat st;

	if (fstat(pages->file_fd, &st))
		return -EBADF;
	return end > (uint64_t)st.st_size ? -EINVAL : 0;
}

static int populate(struct iopt_pages *pages)
{
	int advice = pages->writable ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;

	if (pages->type == IOPT_ADDRESS_FILE) {
		int rc = file_range_ok(pages);

		if (rc)
			return rc;
	}

	/*
	 * A few pages are cheaper to touch than a syscall (most of a 4 KiB
	 * IOAS_MAP's time): the same faults, taken from here.
	 */
	if (pages->npages <= POPULATE_BY_TOUCH) {
		int rc = sio_user_touch(
			pages->uptr, pages->npages << pages->host->page_shift,
			pages->writable);

		if (rc != -EOPNOTSUPP)
			return rc;
	}
	if (madvise((void *)(uintptr_t)pages->uptr,
		    pages->npages << pages->host->page_shift, advice))
		return -EFAULT;
	return 0;
}

int iopt_pages_pin(struct iopt_pages *pages)
{
	uint64_t len = pages->npages << pages->host->page_shift;
	unsigned int perm;
	int rc = 0;

	pthread_mutex_lock(&pages->mutex);
	if (pages->pin_users++)
		goto out;
	rc = populate(pages);
	if (rc)
		goto err;
	rc = update_pinned(pages, pages->npages, true);
	if (rc)
		goto err;
	perm = SIO_MEM_READ | (pages->writable ? SIO_MEM_WRITE : 0);
	rc = sio_mem_register(pages->host->bus, pages->uptr, len, perm, pages);
	if (rc) {
		update_pinned(pages, pages->npages, false);
		goto err;
	}
	pthread_mutex_lock(&pages->host->pinned_lock);
	iommufd_list_add_tail(&pages->pinned_node, &pages->host->pinned);
	pthread_mutex_unlock(&pages->host->pinned_lock);
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
	if (--pages->pin_users == 0) {
		pthread_mutex_lock(&pages->host->pinned_lock);
		iommufd_list_del_init(&pages->pinned_node);
		pthread_mutex_unlock(&pages->host->pinned_lock);
		sio_mem_unregister(pages->host->bus, pages->uptr,
				   pages->npages << pages->host->page_shift,
				   pages);
		update_pinned(pages, pages->npages, false);
	}
	pthread_mutex_unlock(&pages->mutex);
}

unsigned int iopt_pages_count_pins(struct iommufd_host *host, uint64_t uaddr)
{
	unsigned int n = 0;

	pthread_mutex_lock(&host->pinned_lock);
	for (struct iommufd_list *l = host->pinned.next; l != &host->pinned;
	     l = l->next) {
		struct iopt_pages *pages =
			iommufd_container_of(l, struct iopt_pages, pinned_node);
		uint64_t len = pages->npages << host->page_shift;

		/* a file's pages are pinned through our own mapping of it */
		if (pages->type == IOPT_ADDRESS_USER && uaddr >= pages->uptr &&
		    uaddr - pages->uptr < len)
			n++;
	}
	pthread_mutex_unlock(&host->pinned_lock);
	return n;
}

unsigned int iopt_pages_count_file_pins(struct iommufd_host *host, dev_t dev,
					ino_t ino, uint64_t off)
{
	unsigned int n = 0;

	pthread_mutex_lock(&host->pinned_lock);
	for (struct iommufd_list *l = host->pinned.next; l != &host->pinned;
	     l = l->next) {
		struct iopt_pages *pages =
			iommufd_container_of(l, struct iopt_pages, pinned_node);

		if (pages->type == IOPT_ADDRESS_FILE &&
		    pages->file_dev == dev && pages->file_ino == ino &&
		    off >= pages->file_start &&
		    off - pages->file_start < pages->file_map_len)
			n++;
	}
	pthread_mutex_unlock(&host->pinned_lock);
	return n;
}
