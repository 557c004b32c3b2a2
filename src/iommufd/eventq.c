// SPDX-License-Identifier: MIT
/*
 * Event queues, as the kernel's eventq.c: objects whose records user
 * space reads from a file of their own.  A vEVENTQ carries a vIOMMU's
 * events of one type (an SMMUv3's raw event records, the StreamID the
 * guest's) with a sequence number and a lost-events record on overflow.
 *
 * The file is the embedder's to give an fd number (the interposer makes
 * it a virtual file, so read(2) and poll(2) on it work as on the
 * kernel's anon inode); without one the library makes the fd an eventfd
 * that is readable while records wait, and the records are read through
 * sio_iommufd_eventq_read().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

static void eventq_init(struct iommufd_eventq *eventq, struct iommufd_ctx *ictx)
{
	eventq->ictx = ictx;
	pthread_mutex_init(&eventq->lock, NULL);
	iommufd_list_init(&eventq->deliver);
	eventq->efd = -1;
}

/*
 * Tell whoever waits on the file that records may be there (or gone):
 * the embedder's callback, or the default eventfd's counter.  Called
 * with eventq->lock held, so the signal follows the list's state.
 */
static void eventq_signal(struct iommufd_eventq *eventq)
{
	bool readable = !iommufd_list_empty(&eventq->deliver);
	uint64_t v = 1;

	if (eventq->notify) {
		eventq->notify(eventq->notify_arg, readable);
		return;
	}
	if (eventq->efd < 0)
		return;
	if (readable) {
		if (write(eventq->efd, &v, sizeof(v)) < 0)
			return; /* the counter is already non-zero */
	} else if (read(eventq->efd, &v, sizeof(v)) < 0) {
		return; /* already zero */
	}
}

/*
 * Give the new queue its fd number: the embedder's install, or an
 * eventfd whose number the user gets while we keep a second fd on it.
 */
static int eventq_install_fd(struct iommufd_eventq *eventq, const char *name)
{
	struct iommufd_ctx *ictx = eventq->ictx;
	int fd;

	if (ictx->file_host.install) {
		/* the file's references: the object's and the context's */
		atomic_fetch_add(&eventq->obj.users, 1);
		iommufd_ctx_get(ictx);
		fd = ictx->file_host.install(ictx->file_host.opaque,
					     (struct sio_iommufd_file *)eventq,
					     name);
		if (fd < 0) {
			atomic_fetch_sub(&eventq->obj.users, 1);
			iommufd_ctx_put(ictx);
		}
		return fd;
	}
	eventq->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (eventq->efd < 0)
		return -errno;
	fd = fcntl(eventq->efd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
		close(eventq->efd);
		eventq->efd = -1;
	}
	return fd;
}

/* Undo eventq_install_fd() when the ioctl fails after it. */
static void eventq_uninstall_fd(struct iommufd_eventq *eventq, int fd)
{
	struct iommufd_ctx *ictx = eventq->ictx;

	if (ictx->file_host.install) {
		ictx->file_host.uninstall(ictx->file_host.opaque, fd);
		return;
	}
	close(fd);
}

static void eventq_destroy_common(struct iommufd_eventq *eventq)
{
	if (eventq->efd >= 0)
		close(eventq->efd);
	pthread_mutex_destroy(&eventq->lock);
}

/* ------------------------------------------------------------ vEVENTQ */

static bool vevent_is_lost_header(struct iommufd_veventq *veventq,
				  struct iommufd_vevent *vevent)
{
	return vevent == &veventq->lost_events_header;
}

/*
 * Queue @vevent (eventq->lock held), as the kernel's
 * iommufd_vevent_handler(): a lost-events header at the tail gives way
 * to the new record, whose sequence number then shows the gap.
 */
static void vevent_queue(struct iommufd_veventq *veventq,
			 struct iommufd_vevent *vevent)
{
	struct iommufd_eventq *eventq = &veventq->common;
	struct iommufd_list *lost = &veventq->lost_events_header.node;

	if (eventq->deliver.prev == lost)
		iommufd_list_del_init(lost);
	iommufd_list_add_tail(&vevent->node, &eventq->deliver);
	vevent->header.sequence = veventq->sequence;
	veventq->sequence = (veventq->sequence + 1) & INT_MAX;
	eventq_signal(eventq);
}

int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len)
{
	struct iommufd_veventq *veventq;
	struct iommufd_vevent *vevent;
	int rc = 0;

	if (!len || !data)
		return -EINVAL;
	pthread_rwlock_rdlock(&viommu->veventqs_rwsem);
	veventq = iommufd_viommu_find_veventq(viommu, type);
	if (!veventq) {
		rc = -EOPNOTSUPP;
		goto out_unlock_veventqs;
	}
	/* allocated outside the queue's lock, as the kernel now does */
	vevent = malloc(sizeof(*vevent) + len);
	pthread_mutex_lock(&veventq->common.lock);
	if (!vevent || veventq->num_events == veventq->depth) {
		if (!vevent)
			rc = -ENOMEM;
		free(vevent);
		vevent = &veventq->lost_events_header;
	} else {
		memcpy(vevent->event_data, data, len);
		vevent->data_len = len;
		vevent->header.flags = 0;
		veventq->num_events++;
	}
	vevent_queue(veventq, vevent);
	pthread_mutex_unlock(&veventq->common.lock);
out_unlock_veventqs:
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	return rc;
}

/* The first record, taken off the list (a copy of the lost header). */
static int veventq_fetch(struct iommufd_veventq *veventq,
			 struct iommufd_vevent **out)
{
	struct iommufd_eventq *eventq = &veventq->common;
	struct iommufd_vevent *vevent = NULL;
	int rc = 0;

	pthread_mutex_lock(&eventq->lock);
	if (!iommufd_list_empty(&eventq->deliver)) {
		struct iommufd_vevent *next = iommufd_container_of(
			eventq->deliver.next, struct iommufd_vevent, node);

		if (vevent_is_lost_header(veventq, next)) {
			vevent = malloc(sizeof(*vevent));
			if (!vevent) {
				rc = -ENOMEM;
				goto out_unlock;
			}
			memcpy(vevent, next, sizeof(*vevent));
			vevent->data_len = 0;
		}
		iommufd_list_del_init(&next->node);
		if (!vevent)
			vevent = next;
	}
	*out = vevent;
out_unlock:
	pthread_mutex_unlock(&eventq->lock);
	return rc;
}

/* Put back a record the reader could not take. */
static void veventq_restore(struct iommufd_veventq *veventq,
			    struct iommufd_vevent *vevent, bool copy_of_lost)
{
	struct iommufd_eventq *eventq = &veventq->common;

	pthread_mutex_lock(&eventq->lock);
	if (copy_of_lost) {
		free(vevent);
		vevent = NULL;
		/* only an empty list takes the header back: it stays last */
		if (iommufd_list_empty(&eventq->deliver))
			vevent = &veventq->lost_events_header;
	}
	if (vevent) {
		vevent->node.next = eventq->deliver.next;
		vevent->node.prev = &eventq->deliver;
		eventq->deliver.next->prev = &vevent->node;
		eventq->deliver.next = &vevent->node;
	}
	eventq_signal(eventq);
	pthread_mutex_unlock(&eventq->lock);
}

/*
 * read(): whole records only, header then data; a lost-events record is
 * a header alone.  Stops at the first record that does not fit.
 */
static ssize_t veventq_read(struct iommufd_veventq *veventq, uint64_t ubuf,
			    size_t count)
{
	const size_t hdr_len = sizeof(struct sio_iommufd_vevent_header);
	struct iommufd_vevent *cur;
	size_t done = 0;
	int rc = 0;

	while (!(rc = veventq_fetch(veventq, &cur)) && cur) {
		bool lost = cur->data_len == 0;

		if (done >= count || hdr_len > count - done ||
		    (!lost && hdr_len + cur->data_len > count - done)) {
			veventq_restore(veventq, cur, lost);
			break;
		}
		rc = sio_user_write(ubuf + done, &cur->header, hdr_len);
		if (!rc && !lost)
			rc = sio_user_write(ubuf + done + hdr_len,
					    cur->event_data, cur->data_len);
		if (rc) {
			veventq_restore(veventq, cur, lost);
			break;
		}
		done += hdr_len + cur->data_len;
		if (!lost) {
			pthread_mutex_lock(&veventq->common.lock);
			veventq->num_events--;
			pthread_mutex_unlock(&veventq->common.lock);
		}
		free(cur);
	}
	pthread_mutex_lock(&veventq->common.lock);
	eventq_signal(&veventq->common);
	pthread_mutex_unlock(&veventq->common.lock);
	return done ? (ssize_t)done : rc;
}

struct iommufd_veventq *
iommufd_viommu_find_veventq(struct iommufd_viommu *viommu, uint32_t type)
{
	struct iommufd_list *pos;

	for (pos = viommu->veventqs.next; pos != &viommu->veventqs;
	     pos = pos->next) {
		struct iommufd_veventq *veventq =
			iommufd_container_of(pos, struct iommufd_veventq, node);

		if (veventq->type == type)
			return veventq;
	}
	return NULL;
}

/* Take the queue off its vIOMMU and free its records; rwsem held. */
static void veventq_abort(struct iommufd_veventq *veventq)
{
	struct iommufd_eventq *eventq = &veventq->common;

	while (!iommufd_list_empty(&eventq->deliver)) {
		struct iommufd_vevent *cur = iommufd_container_of(
			eventq->deliver.next, struct iommufd_vevent, node);

		iommufd_list_del_init(&cur->node);
		if (!vevent_is_lost_header(veventq, cur))
			free(cur);
	}
	iommufd_list_del_init(&veventq->node);
	atomic_fetch_sub(&veventq->viommu->obj.users, 1);
}

void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *veventq = (struct iommufd_veventq *)obj;
	struct iommufd_viommu *viommu = veventq->viommu;

	pthread_rwlock_wrlock(&viommu->veventqs_rwsem);
	veventq_abort(veventq);
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	eventq_destroy_common(&veventq->common);
}

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_veventq *veventq;
	struct iommufd_viommu *viommu;
	struct iommufd_object *vobj;
	int fd, rc;

	if (cmd->flags || cmd->__reserved ||
	    cmd->type == SIO_IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth)
		return -EINVAL;
	vobj = iommufd_get_object(ictx, cmd->viommu_id, IOMMUFD_OBJ_VIOMMU);
	if (!vobj)
		return -ENOENT;
	viommu = (struct iommufd_viommu *)vobj;

	pthread_rwlock_wrlock(&viommu->veventqs_rwsem);
	if (iommufd_viommu_find_veventq(viommu, cmd->type)) {
		rc = -EEXIST;
		goto out_unlock_veventqs;
	}
	veventq = calloc(1, sizeof(*veventq));
	if (!veventq) {
		rc = -ENOMEM;
		goto out_unlock_veventqs;
	}
	rc = iommufd_object_alloc(ictx, &veventq->common.obj,
				  IOMMUFD_OBJ_VEVENTQ);
	if (rc) {
		free(veventq);
		goto out_unlock_veventqs;
	}
	eventq_init(&veventq->common, ictx);
	veventq->type = cmd->type;
	veventq->viommu = viommu;
	atomic_fetch_add(&viommu->obj.users, 1);
	veventq->depth = cmd->veventq_depth;
	iommufd_list_add_tail(&veventq->node, &viommu->veventqs);
	iommufd_list_init(&veventq->lost_events_header.node);
	veventq->lost_events_header.header.flags =
		SIO_IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	if (viommu->drv->ops->veventq_enable) {
		rc = viommu->drv->ops->veventq_enable(viommu->drv);
		if (rc)
			goto out_abort;
	}

	fd = eventq_install_fd(&veventq->common, "[iommufd-viommu-event]");
	if (fd < 0) {
		rc = fd;
		goto out_abort;
	}
	cmd->out_veventq_id = veventq->common.obj.id;
	cmd->out_veventq_fd = (uint32_t)fd;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc) {
		eventq_uninstall_fd(&veventq->common, fd);
		goto out_abort;
	}
	iommufd_object_finalize(ictx, &veventq->common.obj);
	goto out_unlock_veventqs;
out_abort:
	/* undone here: the destroy op would take the rwsem we hold */
	veventq_abort(veventq);
	eventq_destroy_common(&veventq->common);
	iommufd_object_abort(ictx, &veventq->common.obj);
out_unlock_veventqs:
	pthread_rwlock_unlock(&viommu->veventqs_rwsem);
	iommufd_put_object(ictx, vobj);
	return rc;
}

/* ------------------------------------------------------------ the file */

ssize_t iommufd_eventq_read(struct iommufd_eventq *eventq, uint64_t ubuf,
			    size_t len)
{
	sio_user_begin();
	switch (eventq->obj.type) {
	case IOMMUFD_OBJ_VEVENTQ:
		return veventq_read((struct iommufd_veventq *)eventq, ubuf,
				    len);
	default:
		return -EINVAL;
	}
}

ssize_t iommufd_eventq_write(struct iommufd_eventq *eventq, uint64_t ubuf,
			     size_t len)
{
	(void)ubuf, (void)len;
	/* a vEVENTQ's file has no write: the VFS's answer */
	(void)eventq;
	return -EINVAL;
}

unsigned int iommufd_eventq_poll(struct iommufd_eventq *eventq)
{
	unsigned int mask = 0;

	pthread_mutex_lock(&eventq->lock);
	if (!iommufd_list_empty(&eventq->deliver))
		mask |= POLLIN | POLLRDNORM;
	pthread_mutex_unlock(&eventq->lock);
	return mask;
}

void iommufd_eventq_set_notify(struct iommufd_eventq *eventq,
			       void (*fn)(void *arg, bool readable), void *arg)
{
	pthread_mutex_lock(&eventq->lock);
	eventq->notify = fn;
	eventq->notify_arg = arg;
	if (fn)
		eventq_signal(eventq);
	pthread_mutex_unlock(&eventq->lock);
}

void iommufd_eventq_release(struct iommufd_eventq *eventq)
{
	struct iommufd_ctx *ictx = eventq->ictx;

	pthread_mutex_lock(&eventq->lock);
	eventq->notify = NULL;
	pthread_mutex_unlock(&eventq->lock);
	atomic_fetch_sub(&eventq->obj.users, 1);
	iommufd_ctx_put(ictx);
}

/* ------------------------------------------------------ the public API */

static struct iommufd_eventq *to_eventq(struct sio_iommufd_file *file)
{
	return (struct iommufd_eventq *)file;
}

ssize_t sio_iommufd_file_read(struct sio_iommufd_file *file, void *buf,
			      size_t len)
{
	return iommufd_eventq_read(to_eventq(file), (uintptr_t)buf, len);
}

ssize_t sio_iommufd_file_write(struct sio_iommufd_file *file, const void *buf,
			       size_t len)
{
	return iommufd_eventq_write(to_eventq(file), (uintptr_t)buf, len);
}

unsigned int sio_iommufd_file_poll(struct sio_iommufd_file *file)
{
	return iommufd_eventq_poll(to_eventq(file));
}

void sio_iommufd_file_set_notify(struct sio_iommufd_file *file,
				 void (*fn)(void *arg, bool readable),
				 void *arg)
{
	iommufd_eventq_set_notify(to_eventq(file), fn, arg);
}

void sio_iommufd_file_release(struct sio_iommufd_file *file)
{
	iommufd_eventq_release(to_eventq(file));
}

void iommufd_ctx_set_file_host(struct iommufd_ctx *ictx,
			       const struct sio_iommufd_file_host *host)
{
	ictx->file_host = *host;
}

ssize_t iommufd_eventq_read_by_id(struct iommufd_ctx *ictx, uint32_t id,
				  void *buf, size_t len)
{
	struct iommufd_object *obj;
	ssize_t rc;

	obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_VEVENTQ);
	if (!obj)
		return -ENOENT;
	rc = iommufd_eventq_read((struct iommufd_eventq *)obj, (uintptr_t)buf,
				 len);
	iommufd_put_object(ictx, obj);
	return rc;
}
