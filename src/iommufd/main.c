// SPDX-License-Identifier: MIT
/*
 * One open of /dev/iommu: the object table, IOMMU_DESTROY, and the
 * dispatcher.  Objects live in a table indexed by id; like the kernel's
 * xarray, ids start at 1 and the lowest free one is taken, an id is
 * reserved (invisible) until its object is finalized, and it is not
 * reused until the object's destruction has finished.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/iommufd_test_abi.h"
#include "uapi/uapi.h"

int iommufd_ctx_create(struct iommufd_host *host, struct iommufd_ctx **out)
{
	struct iommufd_ctx *ictx = sio_calloc(1, sizeof(*ictx));

	if (!ictx)
		return -ENOMEM;
	ictx->host = host;
	ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
	ictx->selftest = host->selftest;
	pthread_mutex_init(&ictx->selftest_lock, NULL);
	iommufd_list_init(&ictx->selftest_accesses);
	iommufd_list_init(&ictx->selftest_dmabufs);
	pthread_mutex_init(&ictx->mmap_lock, NULL);
	iommufd_list_init(&ictx->mmaps);
	atomic_init(&ictx->refs, 1);
	pthread_mutex_init(&ictx->lock, NULL);
	pthread_cond_init(&ictx->destroy_wait, NULL);
	*out = ictx;
	return 0;
}

static void iommufd_object_destroy_ops(struct iommufd_object *obj)
{
	switch (obj->type) {
	case IOMMUFD_OBJ_IOAS:
		iommufd_ioas_destroy(obj);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		iommufd_hwpt_paging_destroy(obj);
		break;
	case IOMMUFD_OBJ_HWPT_NESTED:
		iommufd_hwpt_nested_destroy(obj);
		break;
	case IOMMUFD_OBJ_VIOMMU:
		iommufd_viommu_destroy(obj);
		break;
	case IOMMUFD_OBJ_VDEVICE:
		iommufd_vdevice_destroy(obj);
		break;
	case IOMMUFD_OBJ_VEVENTQ:
		iommufd_veventq_destroy(obj);
		break;
	case IOMMUFD_OBJ_FAULT:
		iommufd_fault_destroy(obj);
		break;
	case IOMMUFD_OBJ_SELFTEST:
		iommufd_selftest_destroy(obj);
		break;
	case IOMMUFD_OBJ_DEVICE:
		iommufd_device_destroy(obj);
		break;
	case IOMMUFD_OBJ_ACCESS:
		iommufd_access_destroy_object(obj);
		break;
	case IOMMUFD_OBJ_HW_QUEUE:
		iommufd_hw_queue_destroy(obj);
		break;
	default:
		break;
	}
	free(obj);
}

/*
 * Take @obj out of the table if nothing but the table holds it.  The slot
 * stays reserved (NULL object, not free) until the caller erases it.
 */
static bool object_detach_if_unused(struct iommufd_object *obj)
{
	unsigned int one = 1;

	if (!atomic_compare_exchange_strong(&obj->users, &one, 0))
		return false;
	obj->finalized = false;
	return true;
}

/* Wait for ioctls still using @obj (short-term references) to finish. */
static void object_wait_shortterm(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj)
{
	if (atomic_fetch_sub(&obj->shortterm_users, 1) == 1)
		return;
	pthread_mutex_lock(&ictx->lock);
	while (atomic_load(&obj->shortterm_users))
		pthread_cond_wait(&ictx->destroy_wait, &ictx->lock);
	pthread_mutex_unlock(&ictx->lock);
}

static void object_erase(struct iommufd_ctx *ictx, uint32_t id)
{
	pthread_mutex_lock(&ictx->lock);
	ictx->objs[id - 1] = NULL;
	ictx->nr_objs--;
	if (id - 1 < ictx->free_hint)
		ictx->free_hint = id - 1;
	pthread_mutex_unlock(&ictx->lock);
}

static void iommufd_ctx_destroy(struct iommufd_ctx *ictx)
{
	bool progress = true;

	for (uint32_t i = 0; i < ictx->nr_slots; i++) {
		if (ictx->objs[i] == &ictx->tombstone) {
			ictx->objs[i] = NULL;
			ictx->nr_objs--;
		}
	}

	/*
	 * Destroy in dependency order: an object is destroyed once nothing
	 * else holds it, which frees what it held for the next pass.
	 */
	while (ictx->nr_objs && progress) {
		progress = false;
		for (uint32_t i = 0; i < ictx->nr_slots; i++) {
			struct iommufd_object *obj = ictx->objs[i];

			if (!obj || !obj->finalized ||
			    !object_detach_if_unused(obj))
				continue;
			object_wait_shortterm(ictx, obj);
			iommufd_object_destroy_ops(obj);
			object_erase(ictx, i + 1);
			progress = true;
		}
	}
	free(ictx->objs);
	iommufd_dmabufs_destroy(ictx);
	pthread_mutex_destroy(&ictx->mmap_lock);
	pthread_mutex_destroy(&ictx->selftest_lock);
	pthread_cond_destroy(&ictx->destroy_wait);
	pthread_mutex_destroy(&ictx->lock);
	free(ictx);
}

void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	atomic_fetch_add(&ictx->refs, 1);
}

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	if (atomic_fetch_sub(&ictx->refs, 1) == 1)
		iommufd_ctx_destroy(ictx);
}

/* Reserve the lowest free id for @obj, hidden from lookups until finalized. */
int iommufd_object_alloc(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			 enum iommufd_object_type type)
{
	uint32_t i;

	obj->type = type;
	obj->finalized = false;
	atomic_init(&obj->users, 1);
	atomic_init(&obj->shortterm_users, 1);

	pthread_mutex_lock(&ictx->lock);
	for (i = ictx->free_hint; i < ictx->nr_slots; i++)
		if (!ictx->objs[i])
			break;
	if (i == ictx->nr_slots) {
		/* ids are 31-bit, as the kernel's xa_limit_31b */
		uint32_t n = ictx->nr_slots ? ictx->nr_slots * 2 : 16;
		struct iommufd_object **objs;

		if (ictx->nr_slots >= (1u << 30)) {
			pthread_mutex_unlock(&ictx->lock);
			return -ENOSPC;
		}
		objs = sio_realloc(ictx->objs, n * sizeof(*objs));
		if (!objs) {
			pthread_mutex_unlock(&ictx->lock);
			return -ENOMEM;
		}
		memset(objs + ictx->nr_slots, 0,
		       (n - ictx->nr_slots) * sizeof(*objs));
		ictx->objs = objs;
		ictx->nr_slots = n;
	}
	ictx->objs[i] = obj;
	ictx->nr_objs++;
	ictx->free_hint = i + 1;
	obj->id = i + 1;
	pthread_mutex_unlock(&ictx->lock);
	return 0;
}

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	pthread_mutex_lock(&ictx->lock);
	obj->finalized = true;
	pthread_mutex_unlock(&ictx->lock);
}

void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	object_erase(ictx, obj->id);
	free(obj);
}

void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	uint32_t id = obj->id;

	iommufd_object_destroy_ops(obj);
	object_erase(ictx, id);
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj = NULL;

	pthread_mutex_lock(&ictx->lock);
	if (id && id <= ictx->nr_slots) {
		obj = ictx->objs[id - 1];
		if (obj && (!obj->finalized ||
			    (type != IOMMUFD_OBJ_ANY && obj->type != type)))
			obj = NULL;
		/* short-term first: see iommufd_lock_obj() */
		if (obj) {
			atomic_fetch_add(&obj->shortterm_users, 1);
			atomic_fetch_add(&obj->users, 1);
		}
	}
	pthread_mutex_unlock(&ictx->lock);
	return obj;
}

static void shortterm_put(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	if (atomic_fetch_sub(&obj->shortterm_users, 1) == 1) {
		/* a destroyer is waiting for the last short-term user */
		pthread_mutex_lock(&ictx->lock);
		pthread_cond_broadcast(&ictx->destroy_wait);
		pthread_mutex_unlock(&ictx->lock);
	}
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	atomic_fetch_sub(&obj->users, 1);
	shortterm_put(ictx, obj);
}

/*
 * The short-term count goes up first: a destroyer that sees users above
 * it takes the object as held for long (EBUSY), so users may only rise
 * once shortterm_users covers it.
 */
bool iommufd_lock_obj(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	unsigned int users = atomic_load(&obj->users);

	atomic_fetch_add(&obj->shortterm_users, 1);
	do {
		if (!users) {
			/* destruction has begun: let a destroyer waiting go */
			shortterm_put(ictx, obj);
			return false;
		}
	} while (!atomic_compare_exchange_weak(&obj->users, &users, users + 1));
	return true;
}

/*
 * Destroy an object its kernel-side holder owns; with @tombstone its id
 * stays taken.  An ioctl may be looking at the object right now (a
 * lookup holds a reference for its duration); it finishes soon, so wait
 * it out.  Objects holding it for longer are the caller's bug: -EBUSY.
 */
static int object_remove_user(struct iommufd_ctx *ictx,
			      struct iommufd_object *obj, bool tombstone)
{
	unsigned int users;
	uint32_t id;
	bool unused;

	atomic_fetch_sub(&obj->users, 1); /* the holder's own reference */
	for (int tries = 0;; tries++) {
		pthread_mutex_lock(&ictx->lock);
		unused = object_detach_if_unused(obj);
		pthread_mutex_unlock(&ictx->lock);
		if (unused)
			break;
		/*
		 * users before shortterm_users: a lookup raises the second
		 * before the first and a put lowers them the other way
		 * round, so a lookup in flight never looks like a holder.
		 */
		users = atomic_load(&obj->users);
		if (users > atomic_load(&obj->shortterm_users)) {
			atomic_fetch_add(&obj->users, 1);
			return -EBUSY;
		}
		if (tries > 100)
			usleep(100);
		else
			sched_yield();
	}
	id = obj->id;
	object_wait_shortterm(ictx, obj);
	iommufd_object_destroy_ops(obj);
	if (!tombstone) {
		object_erase(ictx, id);
		return 0;
	}
	/* the id stays taken: the slot now holds the tombstone */
	pthread_mutex_lock(&ictx->lock);
	ictx->objs[id - 1] = &ictx->tombstone;
	pthread_mutex_unlock(&ictx->lock);
	return 0;
}

int iommufd_object_destroy_user(struct iommufd_ctx *ictx,
				struct iommufd_object *obj)
{
	return object_remove_user(ictx, obj, false);
}

int iommufd_object_tombstone_user(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj)
{
	return object_remove_user(ictx, obj, true);
}

/* Drop a reference; destroy the object if that was the last but the table's. */
static void iommufd_object_put_and_try_destroy(struct iommufd_ctx *ictx,
					       struct iommufd_object *obj)
{
	uint32_t id;
	bool unused;

	pthread_mutex_lock(&ictx->lock);
	atomic_fetch_sub(&obj->users, 1);
	unused = obj->finalized && object_detach_if_unused(obj);
	pthread_mutex_unlock(&ictx->lock);
	if (!unused)
		return;
	id = obj->id;
	object_wait_shortterm(ictx, obj);
	iommufd_object_destroy_ops(obj);
	object_erase(ictx, id);
}

void iommufd_hw_pagetable_put(struct iommufd_ctx *ictx,
			      struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hwpt_paging *paging = to_hwpt_paging(hwpt);

	/* an automatic domain lives as long as a device uses it */
	if (paging && paging->auto_domain)
		iommufd_object_put_and_try_destroy(ictx, &hwpt->obj);
	else
		atomic_fetch_sub(&hwpt->obj.users, 1);
}

/* IOMMU_DESTROY: any object, if nothing else holds it. */
int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_object *obj = NULL;
	uint32_t id = cmd->id;
	int rc = 0;

	pthread_mutex_lock(&ictx->lock);
	if (id && id <= ictx->nr_slots)
		obj = ictx->objs[id - 1];
	if (!obj || !obj->finalized)
		rc = -ENOENT;
	else if (!object_detach_if_unused(obj))
		rc = -EBUSY;
	pthread_mutex_unlock(&ictx->lock);
	if (rc)
		return rc;

	iommufd_vfio_compat_forget(ictx, id);
	object_wait_shortterm(ictx, obj);
	iommufd_object_destroy_ops(obj);
	object_erase(ictx, id);
	return 0;
}

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd)
{
	return sio_iommufd_ucmd_out(ucmd->op, ucmd->ubuffer, ucmd->user_size,
				    ucmd->cmd);
}

/* IOMMU_OPTION: RLIMIT_MODE is the context's; HUGE_PAGES an IOAS's. */
int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_option *cmd = ucmd->cmd;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->option_id) {
	case SIO_IOMMU_OPTION_RLIMIT_MODE:
		rc = iommufd_option_rlimit_mode(ucmd);
		break;
	case SIO_IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option(ucmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	if (cmd->op != SIO_IOMMU_OPTION_OP_GET)
		return 0;
	return iommufd_ucmd_respond(ucmd);
}

typedef int (*iommufd_execute_fn)(struct iommufd_ucmd *ucmd);

static iommufd_execute_fn execute_fn(unsigned int nr)
{
	switch (nr) {
	case SIO_IOMMU_DESTROY & 0xff:
		return iommufd_destroy;
	case SIO_IOMMU_IOAS_ALLOC & 0xff:
		return iommufd_ioas_alloc_ioctl;
	case SIO_IOMMU_IOAS_ALLOW_IOVAS & 0xff:
		return iommufd_ioas_allow_iovas;
	case SIO_IOMMU_IOAS_COPY & 0xff:
		return iommufd_ioas_copy;
	case SIO_IOMMU_IOAS_IOVA_RANGES & 0xff:
		return iommufd_ioas_iova_ranges;
	case SIO_IOMMU_IOAS_MAP & 0xff:
		return iommufd_ioas_map;
	case SIO_IOMMU_IOAS_UNMAP & 0xff:
		return iommufd_ioas_unmap;
	case SIO_IOMMU_OPTION & 0xff:
		return iommufd_option;
	case SIO_IOMMU_IOAS_MAP_FILE & 0xff:
		return iommufd_ioas_map_file;
	case SIO_IOMMU_IOAS_CHANGE_PROCESS & 0xff:
		return iommufd_ioas_change_process;
	case SIO_IOMMU_HWPT_ALLOC & 0xff:
		return iommufd_hwpt_alloc;
	case SIO_IOMMU_GET_HW_INFO & 0xff:
		return iommufd_get_hw_info;
	case SIO_IOMMU_HWPT_SET_DIRTY_TRACKING & 0xff:
		return iommufd_hwpt_set_dirty_tracking;
	case SIO_IOMMU_HWPT_GET_DIRTY_BITMAP & 0xff:
		return iommufd_hwpt_get_dirty_bitmap;
	case SIO_IOMMU_HWPT_INVALIDATE & 0xff:
		return iommufd_hwpt_invalidate;
	case SIO_IOMMU_VIOMMU_ALLOC & 0xff:
		return iommufd_viommu_alloc_ioctl;
	case SIO_IOMMU_VDEVICE_ALLOC & 0xff:
		return iommufd_vdevice_alloc_ioctl;
	case SIO_IOMMU_VEVENTQ_ALLOC & 0xff:
		return iommufd_veventq_alloc;
	case SIO_IOMMU_FAULT_QUEUE_ALLOC & 0xff:
		return iommufd_fault_alloc;
	case SIO_IOMMU_HW_QUEUE_ALLOC & 0xff:
		return iommufd_hw_queue_alloc_ioctl;
	case SIO_IOMMU_VFIO_IOAS & 0xff:
		return iommufd_vfio_ioas;
	default:
		return NULL;
	}
}

/* Big enough for the largest command struct we know. */
union ucmd_buffer {
	struct sio_iommu_destroy destroy;
	struct sio_iommu_hwpt_alloc hwpt;
	struct sio_iommu_hw_info info;
	struct sio_iommu_ioas_map map;
	struct sio_iommu_ioas_copy copy;
	struct sio_iommu_hwpt_get_dirty_bitmap dirty;
	struct sio_iommu_viommu_alloc viommu;
	struct sio_iommu_vdevice_alloc vdev;
	struct sio_iommu_hwpt_invalidate inv;
	struct sio_iommu_veventq_alloc veventq;
	struct sio_iommu_hw_queue_alloc hw_queue;
	struct sio_iommu_fault_alloc fault;
	struct sio_iommu_test_cmd test;
	uint64_t align[16];
};

int iommufd_ctx_ioctl(struct iommufd_ctx *ictx, unsigned long cmd, uint64_t arg)
{
	union ucmd_buffer buf;
	struct iommufd_ucmd ucmd = {.ictx = ictx, .ubuffer = arg, .cmd = &buf};
	iommufd_execute_fn fn;
	int rc;

	/*
	 * IOMMU_TEST_CMD exists only for a context in selftest mode, as
	 * the kernel has it only with CONFIG_IOMMUFD_TEST.
	 */
	if (ictx->selftest && sio_iommufd_test_cmd_find((unsigned int)cmd)) {
		rc = sio_iommufd_test_ucmd_in((unsigned int)cmd, arg, &buf,
					      sizeof(buf), &ucmd.op,
					      &ucmd.user_size);
		return rc ? rc : iommufd_test(&ucmd);
	}
	/*
	 * Numbers outside the table are offered to the VFIO compatibility
	 * layer first, as iommufd_fops_ioctl() does; its arg is no struct.
	 */
	if (!sio_iommufd_cmd_find((unsigned int)cmd))
		return (int)iommufd_vfio_ioctl(ictx, (unsigned int)cmd, arg);
	/* Only the ioctl number's low 32 bits reach a driver's handler. */
	rc = sio_iommufd_ucmd_in((unsigned int)cmd, arg, &buf, sizeof(buf),
				 &ucmd.op, &ucmd.user_size);
	if (rc)
		return rc;
	fn = execute_fn(ucmd.op->cmd & 0xff);
	if (!fn)
		return -ENOTTY;
	return fn(&ucmd);
}

/*
 * Offer @owner's @fd to mmap() at the lowest free page-aligned offset
 * from one page up, as the kernel's mtree_alloc_range() from PAGE_SIZE.
 */
int iommufd_alloc_mmap(struct iommufd_ctx *ictx, struct iommufd_object *owner,
		       int fd, uint64_t length, uint64_t *offset)
{
	uint64_t ps = ictx->host->page_size, at = ps;
	struct iommufd_mmap *immap;
	struct iommufd_list *pos;

	if (!length || length & (ps - 1))
		return -EINVAL;
	immap = sio_calloc(1, sizeof(*immap));
	if (!immap)
		return -ENOMEM;
	pthread_mutex_lock(&ictx->mmap_lock);
	for (pos = ictx->mmaps.next; pos != &ictx->mmaps; pos = pos->next) {
		struct iommufd_mmap *m =
			iommufd_container_of(pos, struct iommufd_mmap, node);

		if (at + length <= m->offset)
			break;
		at = m->offset + m->length;
	}
	if (at + length < at) {
		pthread_mutex_unlock(&ictx->mmap_lock);
		free(immap);
		return -ENOSPC;
	}
	immap->offset = at;
	immap->length = length;
	immap->fd = fd;
	immap->owner = owner;
	/* before @pos: the list stays sorted by offset */
	iommufd_list_add_tail(&immap->node, pos);
	pthread_mutex_unlock(&ictx->mmap_lock);
	*offset = at;
	return 0;
}

void iommufd_destroy_mmap(struct iommufd_ctx *ictx,
			  struct iommufd_object *owner, uint64_t offset)
{
	struct iommufd_list *pos;

	pthread_mutex_lock(&ictx->mmap_lock);
	for (pos = ictx->mmaps.next; pos != &ictx->mmaps; pos = pos->next) {
		struct iommufd_mmap *m =
			iommufd_container_of(pos, struct iommufd_mmap, node);

		if (m->offset == offset && m->owner == owner) {
			iommufd_list_del_init(&m->node);
			free(m);
			break;
		}
	}
	pthread_mutex_unlock(&ictx->mmap_lock);
}

int iommufd_ctx_mmap(struct iommufd_ctx *ictx, uint64_t offset, uint64_t length,
		     int *fd, struct iommufd_object **owner)
{
	struct iommufd_list *pos;
	int rc = -ENXIO;

	pthread_mutex_lock(&ictx->mmap_lock);
	for (pos = ictx->mmaps.next; pos != &ictx->mmaps; pos = pos->next) {
		struct iommufd_mmap *m =
			iommufd_container_of(pos, struct iommufd_mmap, node);
		unsigned int users;

		/* only the exact region, not a piece of it */
		if (m->offset != offset || m->length != length)
			continue;
		/*
		 * An owner not yet finalized may still be aborted, which
		 * frees it whatever its users (a VIOMMU_ALLOC failing after
		 * the driver offered the region); one being destroyed has no
		 * users left to add to.  ictx->lock orders this against
		 * iommufd_object_finalize().
		 */
		pthread_mutex_lock(&ictx->lock);
		users = m->owner->finalized ? atomic_load(&m->owner->users) : 0;
		do {
			if (!users) {
				pthread_mutex_unlock(&ictx->lock);
				goto out;
			}
		} while (!atomic_compare_exchange_weak(&m->owner->users, &users,
						       users + 1));
		pthread_mutex_unlock(&ictx->lock);
		*fd = m->fd;
		*owner = m->owner;
		rc = 0;
		break;
	}
out:
	pthread_mutex_unlock(&ictx->mmap_lock);
	return rc;
}

void iommufd_ctx_munmap(struct iommufd_object *owner)
{
	atomic_fetch_sub(&owner->users, 1);
}

void iommufd_host_init(struct iommufd_host *host, struct sio_mem_bus *bus)
{
	long ps = sysconf(_SC_PAGESIZE);

	host->bus = bus;
	atomic_init(&host->caps, 0);
	atomic_init(&host->user_locked_vm, 0);
	atomic_init(&host->mm_locked_vm, 0);
	atomic_init(&host->mm_pinned_vm, 0);
	atomic_init(&host->user_top, 0);
	host->page_size = ps > 0 ? (uint64_t)ps : 4096;
	host->page_shift = (unsigned int)__builtin_ctzll(host->page_size);
	pthread_mutex_init(&host->pages_lock, NULL);
	iommufd_list_init(&host->pages);
	host->selftest = NULL;
	atomic_init(&host->nr_user_pages, 0);
}

bool iommufd_capable(struct iommufd_host *host, unsigned int cap)
{
	return atomic_load(&host->caps) & cap;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/*
 * TASK_SIZE_MAX depends on the paging depth the kernel runs with
 * (x86-64: 47 or 56 bits, less the guard page it keeps at the top;
 * arm64: 48 or 52 bits), so ask the kernel: the last page below the
 * wider space's end can be mapped (or is mapped already) only if the
 * space is that wide.  Raw syscalls: the interposer has no business
 * with this probe.
 */
static uint64_t probe_user_top(uint64_t page_size)
{
#if defined(__x86_64__)
	const unsigned int wide = 56, narrow = 47;
	const uint64_t guard = page_size;
#elif defined(__aarch64__)
	const unsigned int wide = 52, narrow = 48;
	const uint64_t guard = 0;
#else
	(void)page_size;
	return UINT64_MAX;
#endif
#if defined(__x86_64__) || defined(__aarch64__)
	uint64_t top = (1ull << wide) - guard;
	long p = syscall(SYS_mmap, top - page_size, page_size, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1,
			 0);

	if (p == -1)
		return errno == EEXIST ? top : (1ull << narrow) - guard;
	syscall(SYS_munmap, p, page_size);
	/* a kernel without MAP_FIXED_NOREPLACE took it as a mere hint */
	return (uint64_t)p == top - page_size ? top : (1ull << narrow) - guard;
#endif
}

uint64_t iommufd_user_top(struct iommufd_host *host)
{
	uint64_t top = atomic_load(&host->user_top);

	/* asked once, lazily: two racing probes find the same answer */
	if (!top) {
		top = probe_user_top(host->page_size);
		atomic_store(&host->user_top, top);
	}
	return top;
}
