// SPDX-License-Identifier: MIT
/*
 * The selftest's access objects (the kernel's selftest.c "staccess"):
 * IOMMU_TEST_OP_CREATE_ACCESS makes an iommufd access on an IOAS and
 * gives the user a file for it, whose number the other ACCESS ops take
 * as @id and whose close destroys it.  ACCESS_PAGES pins IOVA ranges
 * (items the user names by id, unpinned by DESTROY_ACCESS_PAGES or by the
 * unmap notification), ACCESS_RW copies through IOVAs, ACCESS_REPLACE_IOAS
 * moves the access.  The access itself is access.c's, unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_test_abi.h"
#include "uapi/uapi.h"

/* Flags of the ops (iommufd_test.h). */
#define MOCK_FLAGS_ACCESS_WRITE		   (1u << 0)
#define MOCK_FLAGS_ACCESS_SYZ		   (1u << 16)
#define MOCK_ACCESS_RW_WRITE		   (1u << 0)
#define MOCK_ACCESS_RW_SLOW_PATH	   (1u << 2)
#define MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN (1u << 0)
/* the kernel's bound against its syzkaller: more is -ENOMEM */
#define ACCESS_MAX_LENGTH (16ull * 1024 * 1024)

/* One ACCESS_PAGES pin, as the user names it. */
struct staccess_item {
	struct iommufd_list node;
	uint64_t iova;
	uint64_t length;
	uint32_t id;
};

/*
 * The access's file.  @file_obj comes first: the file host's callbacks
 * (eventq.c) tell it from an event queue by its type.
 */
struct selftest_access {
	struct iommufd_object file_obj; /* IOMMUFD_OBJ_SELFTEST, no id */
	struct iommufd_ctx *ictx;
	struct iommufd_access *access;
	struct iommufd_list node; /* on ictx->selftest_accesses */
	int fd;
	atomic_uint refs;     /* the file's, and one per op using it */
	pthread_mutex_t lock; /* items, next_id; held across a pin */
	struct iommufd_list items;
	uint32_t next_id;
};

static const struct iommufd_access_ops staccess_ops_pin;

static void item_unpin_free(struct selftest_access *sa,
			    struct staccess_item *item)
{
	iommufd_list_del_init(&item->node);
	iommufd_access_unpin_pages(sa->access, item->iova, item->length);
	free(item);
}

/* ops->unmap: [iova, iova + length) is going; let go of what is in it. */
static void staccess_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct selftest_access *sa = data;
	uint64_t last = iova + length - 1;
	struct iommufd_list *l, *next;

	pthread_mutex_lock(&sa->lock);
	for (l = sa->items.next; l != &sa->items; l = next) {
		struct staccess_item *item =
			iommufd_container_of(l, struct staccess_item, node);

		next = l->next;
		if (iova > item->iova + item->length - 1 || last < item->iova)
			continue;
		item_unpin_free(sa, item);
	}
	pthread_mutex_unlock(&sa->lock);
}

static const struct iommufd_access_ops staccess_ops_pin = {
	.needs_pin_pages = true,
	.unmap = staccess_unmap,
};

static const struct iommufd_access_ops staccess_ops = {
	.unmap = staccess_unmap,
};

static void staccess_put(struct selftest_access *sa)
{
	struct iommufd_ctx *ictx = sa->ictx;

	if (atomic_fetch_sub(&sa->refs, 1) != 1)
		return;
	if (sa->access) {
		staccess_unmap(sa, 0, UINT64_MAX);
		iommufd_access_destroy(sa->access);
	}
	pthread_mutex_destroy(&sa->lock);
	free(sa);
	iommufd_ctx_put(ictx);
}

/* The access behind file number @fd, with a reference; NULL: -EBADFD. */
static struct selftest_access *staccess_get(struct iommufd_ctx *ictx, int fd)
{
	struct selftest_access *found = NULL;

	pthread_mutex_lock(&ictx->selftest_lock);
	for (struct iommufd_list *l = ictx->selftest_accesses.next;
	     l != &ictx->selftest_accesses; l = l->next) {
		struct selftest_access *sa =
			iommufd_container_of(l, struct selftest_access, node);

		if (sa->fd == fd) {
			atomic_fetch_add(&sa->refs, 1);
			found = sa;
			break;
		}
	}
	pthread_mutex_unlock(&ictx->selftest_lock);
	return found;
}

void iommufd_selftest_file_release(struct iommufd_object *file_obj)
{
	struct selftest_access *sa = (struct selftest_access *)file_obj;

	pthread_mutex_lock(&sa->ictx->selftest_lock);
	iommufd_list_del_init(&sa->node);
	pthread_mutex_unlock(&sa->ictx->selftest_lock);
	staccess_put(sa);
}

/* CREATE_ACCESS: an access on IOAS @id, and a file for it. */
int iommufd_test_create_access(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct selftest_access *sa;
	uint32_t flags = cmd->create_access.flags, id;
	int rc, fd;

	if (flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN)
		return -EOPNOTSUPP;
	/* the fd is the embedder's file (the interposer's): none, no fd */
	if (!ictx->file_host.install)
		return -EOPNOTSUPP;
	sa = sio_calloc(1, sizeof(*sa));
	if (!sa)
		return -ENOMEM;
	sa->file_obj.type = IOMMUFD_OBJ_SELFTEST;
	sa->ictx = ictx;
	iommufd_ctx_get(ictx);
	atomic_init(&sa->refs, 1);
	pthread_mutex_init(&sa->lock, NULL);
	iommufd_list_init(&sa->items);
	iommufd_list_init(&sa->node);
	sa->fd = -1;

	rc = iommufd_access_create(ictx,
				   (flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN)
					   ? &staccess_ops_pin
					   : &staccess_ops,
				   sa, &id, &sa->access);
	if (rc) {
		sa->access = NULL;
		goto out_put;
	}
	rc = iommufd_access_attach(sa->access, cmd->id);
	if (rc)
		goto out_put;

	fd = ictx->file_host.install(ictx->file_host.opaque,
				     (struct sio_iommufd_file *)sa,
				     "[iommufd_test_staccess]");
	if (fd < 0) {
		rc = fd;
		goto out_put;
	}
	sa->fd = fd;
	pthread_mutex_lock(&ictx->selftest_lock);
	iommufd_list_add_tail(&sa->node, &ictx->selftest_accesses);
	pthread_mutex_unlock(&ictx->selftest_lock);
	cmd->create_access.out_access_fd = (uint32_t)fd;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		/* closing the file releases everything */
		ictx->file_host.uninstall(ictx->file_host.opaque, fd);
	return rc;
out_put:
	staccess_put(sa);
	return rc;
}

int iommufd_test_access_replace_ioas(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access *sa = staccess_get(ucmd->ictx, (int)cmd->id);
	int rc;

	if (!sa)
		return -EBADFD;
	rc = iommufd_access_replace(sa->access,
				    cmd->access_replace_ioas.ioas_id);
	staccess_put(sa);
	return rc;
}

/*
 * Whether the pinned pages are the user's pages from @uptr on: the same
 * address, or (a file) the same page frame.
 */
static int check_pages(struct iommufd_ctx *ictx, uint64_t uptr, void **pages,
		       uint64_t npages)
{
	uint64_t ps = ictx->host->page_size;

	for (uint64_t i = 0; i < npages; i++, uptr += ps) {
		int rc = iommufd_selftest_probe_user(uptr);

		if (rc)
			return rc;
		if (!iommufd_selftest_same_memory(
			    ictx->host, (uint64_t)(uintptr_t)pages[i], uptr))
			return -EBADE;
	}
	return 0;
}

/* Pin, check against the user's pages, and record an item for it. */
static int access_pages_locked(struct iommufd_ucmd *ucmd,
			       struct selftest_access *sa, uint64_t iova,
			       uint64_t length, uint64_t uptr, uint32_t flags)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	uint64_t ps = ucmd->ictx->host->page_size;
	uint64_t first = iova & ~(ps - 1), npages;
	struct staccess_item *item;
	void **pages;
	int rc;

	if (iova + length < iova || iova + length + ps - 1 < iova + length)
		return -EOVERFLOW;
	npages = ((iova + length + ps - 1) & ~(ps - 1)) - first;
	npages /= ps;
	pages = sio_calloc(npages ? npages : 1, sizeof(*pages));
	item = sio_calloc(1, sizeof(*item));
	if (!pages || !item) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = iommufd_access_pin_pages(sa->access, iova, length, pages,
				      (flags & MOCK_FLAGS_ACCESS_WRITE)
					      ? IOMMUFD_ACCESS_RW_WRITE
					      : 0);
	if (rc)
		goto out_free;
	/* the kernel's check is skipped for a NULL uptr (syzkaller) */
	if (uptr)
		rc = check_pages(ucmd->ictx, uptr - (iova - first), pages,
				 npages);
	if (!rc) {
		item->iova = iova;
		item->length = length;
		item->id = sa->next_id++;
		iommufd_list_add_tail(&item->node, &sa->items);
		cmd->access_pages.out_access_pages_id = item->id;
		rc = iommufd_ucmd_respond(ucmd);
		if (!rc) {
			item = NULL;
		} else {
			iommufd_list_del_init(&item->node);
		}
	}
	if (rc)
		iommufd_access_unpin_pages(sa->access, iova, length);
out_free:
	free(item);
	free(pages);
	return rc;
}

int iommufd_test_access_pages(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	uint32_t flags = cmd->access_pages.flags;
	struct selftest_access *sa;
	int rc;

	if (cmd->access_pages.length > ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	/* syzkaller's IOVA encoding is not supported: no syzkaller here */
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		return -EOPNOTSUPP;
	sa = staccess_get(ucmd->ictx, (int)cmd->id);
	if (!sa)
		return -EBADFD;
	if (sa->access->ops != &staccess_ops_pin) {
		rc = -EOPNOTSUPP;
		goto out_put;
	}
	/* one pin at a time: every unmap must wait for it (the kernel's) */
	pthread_mutex_lock(&sa->lock);
	rc = access_pages_locked(ucmd, sa, cmd->access_pages.iova,
				 cmd->access_pages.length,
				 cmd->access_pages.uptr, flags);
	pthread_mutex_unlock(&sa->lock);
out_put:
	staccess_put(sa);
	return rc;
}

int iommufd_test_access_item_destroy(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access *sa = staccess_get(ucmd->ictx, (int)cmd->id);
	int rc = -ENOENT;

	if (!sa)
		return -EBADFD;
	pthread_mutex_lock(&sa->lock);
	for (struct iommufd_list *l = sa->items.next; l != &sa->items;
	     l = l->next) {
		struct staccess_item *item =
			iommufd_container_of(l, struct staccess_item, node);

		if (item->id == cmd->destroy_access_pages.access_pages_id) {
			item_unpin_free(sa, item);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&sa->lock);
	staccess_put(sa);
	return rc;
}

int iommufd_test_access_rw(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;
	uint64_t length = cmd->access_rw.length, uptr = cmd->access_rw.uptr;
	uint32_t flags = cmd->access_rw.flags;
	unsigned int rw_flags = 0;
	struct selftest_access *sa;
	void *tmp;
	int rc;

	if (length > ACCESS_MAX_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH |
		      MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	if (flags & MOCK_FLAGS_ACCESS_SYZ)
		return -EOPNOTSUPP;
	sa = staccess_get(ucmd->ictx, (int)cmd->id);
	if (!sa)
		return -EBADFD;
	tmp = sio_calloc(1, length ? length : 1);
	if (!tmp) {
		rc = -ENOMEM;
		goto out_put;
	}
	if (flags & MOCK_ACCESS_RW_WRITE) {
		rw_flags |= IOMMUFD_ACCESS_RW_WRITE;
		rc = sio_user_read(tmp, uptr, length);
		if (rc)
			goto out_free;
	}
	if (flags & MOCK_ACCESS_RW_SLOW_PATH)
		rw_flags |= IOMMUFD_ACCESS_RW_SLOW_PATH;
	rc = iommufd_access_rw(sa->access, cmd->access_rw.iova, tmp, length,
			       rw_flags);
	if (!rc && !(flags & MOCK_ACCESS_RW_WRITE))
		rc = sio_user_write(uptr, tmp, length);
out_free:
	free(tmp);
out_put:
	staccess_put(sa);
	return rc;
}
