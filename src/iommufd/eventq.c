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

#include "fault/fault_inject.h"
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
	eventq->efd = sio_should_fail_fd()
			      ? -1
			      : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
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
	vevent = sio_malloc(sizeof(*vevent) + len);
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
			vevent = sio_malloc(sizeof(*vevent));
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
	veventq = sio_calloc(1, sizeof(*veventq));
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

/* ---------------------------------------------------------- the FAULT */

/*
 * An I/O page fault the user has to answer (the kernel's iopf_group of
 * one fault: an SMMUv3 stall is its own group).
 */
struct iommufd_iopf_group {
	struct iommufd_list node; /* deliver, then the response list */
	struct sio_iopf_fault fault;
	struct iommufd_hw_pagetable *hwpt; /* the attach handle: */
	struct iommufd_device *idev;	   /* (HWPT, device, */
	uint32_t attach_pasid;		   /* RID 0 or PASID) */
	struct sio_iommu_dev *iommu;
	uint32_t sid;
	uint32_t dev_id;
	uint32_t cookie;
};

static struct iommufd_iopf_group *to_group(struct iommufd_list *n)
{
	return iommufd_container_of(n, struct iommufd_iopf_group, node);
}

static void iopf_group_respond(struct iommufd_iopf_group *group,
			       enum sio_iopf_resp code)
{
	group->iommu->ops->page_response(group->iommu, group->sid,
					 &group->fault, code);
	free(group);
}

/*
 * The attach a fault of StreamID @sid came through: its PASID's, or else
 * (a PASID with no attach of its own, which a nested domain's user PASID
 * table serves) the RID's, as iommu_report_device_fault() finds it.
 * hwpt->handles_lock held.
 */
static struct iommufd_attach_handle *
find_handle(struct iommufd_hw_pagetable *hwpt, uint32_t sid,
	    const struct sio_iopf_fault *fault)
{
	uint32_t pasid = (fault->flags & SIO_IOPF_PASID_VALID) ? fault->pasid
							       : 0;
	struct iommufd_attach_handle *rid = NULL;
	struct iommufd_list *pos;

	for (pos = hwpt->handles.next; pos != &hwpt->handles; pos = pos->next) {
		struct iommufd_attach_handle *h = iommufd_container_of(
			pos, struct iommufd_attach_handle, node);

		if (h->idev->dev->sid != sid)
			continue;
		if (h->pasid == pasid)
			return h;
		if (!h->pasid)
			rid = h;
	}
	return rid;
}

/*
 * The handler the driver calls (iommufd_fault_iopf_handler()): queue the
 * fault for the HWPT's fault queue, naming the device by its object id.
 */
static int hwpt_iopf_handler(struct sio_iommu_domain *d, uint32_t sid,
			     const struct sio_iopf_fault *fault)
{
	struct iommufd_hw_pagetable *hwpt = d->iopf_data;
	struct iommufd_fault *f = hwpt->fault;
	struct iommufd_iopf_group *group;
	struct iommufd_attach_handle *h;
	struct iommufd_device *idev = NULL;
	uint32_t attach_pasid = 0;

	pthread_mutex_lock(&hwpt->handles_lock);
	h = find_handle(hwpt, sid, fault);
	if (h) {
		idev = h->idev;
		attach_pasid = h->pasid;
	}
	pthread_mutex_unlock(&hwpt->handles_lock);
	if (!idev)
		return -ENODEV;
	group = sio_calloc(1, sizeof(*group));
	if (!group)
		return -ENOMEM;
	group->fault = *fault;
	group->hwpt = hwpt;
	group->idev = idev;
	group->attach_pasid = attach_pasid;
	group->iommu = d->iommu;
	group->sid = sid;
	group->dev_id = idev->obj.id;
	pthread_mutex_lock(&f->common.lock);
	iommufd_list_add_tail(&group->node, &f->common.deliver);
	eventq_signal(&f->common);
	pthread_mutex_unlock(&f->common.lock);
	return 0;
}

void iommufd_hwpt_set_fault(struct iommufd_hw_pagetable *hwpt,
			    struct iommufd_fault *fault)
{
	hwpt->fault = fault;
	atomic_fetch_add(&fault->common.obj.users, 1);
	hwpt->domain->iopf_data = hwpt;
	hwpt->domain->iopf_handler = hwpt_iopf_handler;
}

void iommufd_hwpt_put_fault(struct iommufd_hw_pagetable *hwpt)
{
	if (!hwpt->fault)
		return;
	atomic_fetch_sub(&hwpt->fault->common.obj.users, 1);
	hwpt->fault = NULL;
}

int iommufd_fault_add_handle(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_attach_handle *h;

	if (!hwpt->fault)
		return 0;
	h = sio_calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->idev = idev;
	h->pasid = pasid;
	pthread_mutex_lock(&hwpt->handles_lock);
	iommufd_list_add_tail(&h->node, &hwpt->handles);
	pthread_mutex_unlock(&hwpt->handles_lock);
	return 0;
}

/* Move the faults of the attach (@hwpt, @idev, @pasid) on @l to @out. */
static void take_groups(struct iommufd_list *l,
			struct iommufd_hw_pagetable *hwpt,
			struct iommufd_device *idev, uint32_t pasid,
			struct iommufd_list *out)
{
	struct iommufd_list *pos = l->next;

	while (pos != l) {
		struct iommufd_iopf_group *group = to_group(pos);

		pos = pos->next;
		if (group->hwpt == hwpt && group->idev == idev &&
		    group->attach_pasid == pasid) {
			iommufd_list_del_init(&group->node);
			iommufd_list_add_tail(&group->node, out);
		}
	}
}

/*
 * The device left @hwpt (the kernel's iommufd_auto_response_faults()):
 * it gets no more faults through it, and those it has waiting, read or
 * not, are answered INVALID so none of its transactions waits forever.
 * Call after the driver stopped routing the device's faults to @hwpt.
 */
void iommufd_fault_remove_handle(struct iommufd_hw_pagetable *hwpt,
				 struct iommufd_device *idev, uint32_t pasid)
{
	struct iommufd_fault *f = hwpt->fault;
	struct iommufd_list answer;
	struct iommufd_list *pos;

	if (!f)
		return;
	pthread_mutex_lock(&hwpt->handles_lock);
	for (pos = hwpt->handles.next; pos != &hwpt->handles; pos = pos->next) {
		struct iommufd_attach_handle *h = iommufd_container_of(
			pos, struct iommufd_attach_handle, node);

		if (h->idev == idev && h->pasid == pasid) {
			iommufd_list_del_init(&h->node);
			free(h);
			break;
		}
	}
	pthread_mutex_unlock(&hwpt->handles_lock);

	iommufd_list_init(&answer);
	pthread_mutex_lock(&f->mutex);
	pthread_mutex_lock(&f->common.lock);
	take_groups(&f->common.deliver, hwpt, idev, pasid, &answer);
	eventq_signal(&f->common);
	pthread_mutex_unlock(&f->common.lock);
	take_groups(&f->response, hwpt, idev, pasid, &answer);
	pthread_mutex_unlock(&f->mutex);
	while (!iommufd_list_empty(&answer)) {
		struct iommufd_iopf_group *group = to_group(answer.next);

		iommufd_list_del_init(&group->node);
		iopf_group_respond(group, SIO_IOPF_RESP_INVALID);
	}
}

void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *f = (struct iommufd_fault *)obj;

	/* nothing holds the object any more: no lock is needed */
	while (!iommufd_list_empty(&f->common.deliver)) {
		struct iommufd_iopf_group *group =
			to_group(f->common.deliver.next);

		iommufd_list_del_init(&group->node);
		iopf_group_respond(group, SIO_IOPF_RESP_INVALID);
	}
	while (!iommufd_list_empty(&f->response)) {
		struct iommufd_iopf_group *group = to_group(f->response.next);

		iommufd_list_del_init(&group->node);
		iopf_group_respond(group, SIO_IOPF_RESP_INVALID);
	}
	pthread_mutex_destroy(&f->mutex);
	eventq_destroy_common(&f->common);
}

/* A cookie no fault awaiting an answer has (the kernel's xa_alloc from 1). */
static uint32_t fault_alloc_cookie(struct iommufd_fault *f)
{
	for (;;) {
		uint32_t cookie = f->next_cookie++;
		struct iommufd_list *pos;
		bool used = false;

		if (!cookie)
			continue;
		for (pos = f->response.next; pos != &f->response && !used;
		     pos = pos->next)
			used = to_group(pos)->cookie == cookie;
		if (!used)
			return cookie;
	}
}

/*
 * read(): whole struct iommu_hwpt_pgfault records only (else ESPIPE),
 * each fault given a cookie to answer it by and kept for the answer.
 */
static ssize_t fault_read(struct iommufd_fault *f, uint64_t ubuf, size_t count)
{
	const size_t fault_size = sizeof(struct sio_iommu_hwpt_pgfault);
	size_t done = 0;
	int rc = 0;

	if (count % fault_size)
		return -ESPIPE;
	pthread_mutex_lock(&f->mutex);
	while (done < count) {
		struct sio_iommu_hwpt_pgfault rec;
		struct iommufd_iopf_group *group;

		pthread_mutex_lock(&f->common.lock);
		group = iommufd_list_empty(&f->common.deliver)
				? NULL
				: to_group(f->common.deliver.next);
		if (group)
			iommufd_list_del_init(&group->node);
		pthread_mutex_unlock(&f->common.lock);
		if (!group)
			break;
		group->cookie = fault_alloc_cookie(f);
		rec = (struct sio_iommu_hwpt_pgfault){
			.flags = group->fault.flags,
			.dev_id = group->dev_id,
			.pasid = group->fault.pasid,
			.grpid = group->fault.grpid,
			.perm = group->fault.perm,
			.addr = group->fault.addr,
			.length = 0,
			.cookie = group->cookie,
		};
		rc = sio_user_write(ubuf + done, &rec, fault_size);
		if (rc) {
			/* back to the head: it is the first to deliver */
			pthread_mutex_lock(&f->common.lock);
			group->node.next = f->common.deliver.next;
			group->node.prev = &f->common.deliver;
			f->common.deliver.next->prev = &group->node;
			f->common.deliver.next = &group->node;
			pthread_mutex_unlock(&f->common.lock);
			break;
		}
		iommufd_list_add_tail(&group->node, &f->response);
		done += fault_size;
	}
	pthread_mutex_unlock(&f->mutex);
	pthread_mutex_lock(&f->common.lock);
	eventq_signal(&f->common);
	pthread_mutex_unlock(&f->common.lock);
	return done ? (ssize_t)done : rc;
}

/*
 * write(): struct iommu_hwpt_page_response records (else ESPIPE); a code
 * other than SUCCESS or INVALID, or a cookie no read fault has, stops
 * with EINVAL after the ones before it were carried out.
 */
static ssize_t fault_write(struct iommufd_fault *f, uint64_t ubuf, size_t count)
{
	const size_t response_size =
		sizeof(struct sio_iommu_hwpt_page_response);
	size_t done = 0;
	int rc = 0;

	if (count % response_size)
		return -ESPIPE;
	pthread_mutex_lock(&f->mutex);
	while (count > done) {
		struct sio_iommu_hwpt_page_response resp;
		struct iommufd_iopf_group *group = NULL;
		struct iommufd_list *pos;

		rc = sio_user_read(&resp, ubuf + done, response_size);
		if (rc)
			break;
		if (resp.code != SIO_IOMMUFD_PAGE_RESP_SUCCESS &&
		    resp.code != SIO_IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		for (pos = f->response.next; pos != &f->response;
		     pos = pos->next) {
			if (to_group(pos)->cookie == resp.cookie) {
				group = to_group(pos);
				break;
			}
		}
		if (!group) {
			rc = -EINVAL;
			break;
		}
		iommufd_list_del_init(&group->node);
		iopf_group_respond(group,
				   resp.code == SIO_IOMMUFD_PAGE_RESP_SUCCESS
					   ? SIO_IOPF_RESP_SUCCESS
					   : SIO_IOPF_RESP_INVALID);
		done += response_size;
	}
	pthread_mutex_unlock(&f->mutex);
	return done ? (ssize_t)done : rc;
}

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_fault_alloc *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_fault *f;
	int fd, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	f = sio_calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	rc = iommufd_object_alloc(ictx, &f->common.obj, IOMMUFD_OBJ_FAULT);
	if (rc) {
		free(f);
		return rc;
	}
	eventq_init(&f->common, ictx);
	pthread_mutex_init(&f->mutex, NULL);
	iommufd_list_init(&f->response);
	f->next_cookie = 1;

	fd = eventq_install_fd(&f->common, "[iommufd-pgfault]");
	if (fd < 0) {
		rc = fd;
		goto out_abort;
	}
	cmd->out_fault_id = f->common.obj.id;
	cmd->out_fault_fd = (uint32_t)fd;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc) {
		eventq_uninstall_fd(&f->common, fd);
		goto out_abort;
	}
	iommufd_object_finalize(ictx, &f->common.obj);
	return 0;
out_abort:
	iommufd_object_abort_and_destroy(ictx, &f->common.obj);
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
	case IOMMUFD_OBJ_FAULT:
		return fault_read((struct iommufd_fault *)eventq, ubuf, len);
	default:
		return -EINVAL;
	}
}

ssize_t iommufd_eventq_write(struct iommufd_eventq *eventq, uint64_t ubuf,
			     size_t len)
{
	sio_user_begin();
	if (eventq->obj.type == IOMMUFD_OBJ_FAULT)
		return fault_write((struct iommufd_fault *)eventq, ubuf, len);
	/* a vEVENTQ's file has no write: the VFS's answer */
	return -EINVAL;
}

unsigned int iommufd_eventq_poll(struct iommufd_eventq *eventq)
{
	/* a fault queue always takes answers */
	unsigned int mask = eventq->obj.type == IOMMUFD_OBJ_FAULT ? POLLOUT : 0;

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

/*
 * A selftest access's file (selftest_access.c) rather than an event
 * queue's: like the kernel's, it has no read, write or poll of its own.
 */
static bool is_selftest_file(struct sio_iommufd_file *file)
{
	return ((struct iommufd_object *)file)->type == IOMMUFD_OBJ_SELFTEST;
}

ssize_t sio_iommufd_file_read(struct sio_iommufd_file *file, void *buf,
			      size_t len)
{
	if (is_selftest_file(file))
		return -EINVAL;
	return iommufd_eventq_read(to_eventq(file), (uintptr_t)buf, len);
}

ssize_t sio_iommufd_file_write(struct sio_iommufd_file *file, const void *buf,
			       size_t len)
{
	if (is_selftest_file(file))
		return -EINVAL;
	return iommufd_eventq_write(to_eventq(file), (uintptr_t)buf, len);
}

unsigned int sio_iommufd_file_poll(struct sio_iommufd_file *file)
{
	/* a file without poll: the kernel's DEFAULT_POLLMASK */
	if (is_selftest_file(file))
		return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	return iommufd_eventq_poll(to_eventq(file));
}

void sio_iommufd_file_set_notify(struct sio_iommufd_file *file,
				 void (*fn)(void *arg, bool readable),
				 void *arg)
{
	if (is_selftest_file(file)) {
		if (fn)
			fn(arg, true);
		return;
	}
	iommufd_eventq_set_notify(to_eventq(file), fn, arg);
}

void sio_iommufd_file_release(struct sio_iommufd_file *file)
{
	if (is_selftest_file(file)) {
		iommufd_selftest_file_release((struct iommufd_object *)file);
		return;
	}
	iommufd_eventq_release(to_eventq(file));
}

void iommufd_ctx_set_file_host(struct iommufd_ctx *ictx,
			       const struct sio_iommufd_file_host *host)
{
	ictx->file_host = *host;
}

ssize_t iommufd_eventq_rw_by_id(struct iommufd_ctx *ictx, uint32_t id,
				void *buf, size_t len, bool write)
{
	struct iommufd_object *obj;
	ssize_t rc;

	obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_ANY);
	if (obj && obj->type != IOMMUFD_OBJ_VEVENTQ &&
	    obj->type != IOMMUFD_OBJ_FAULT) {
		iommufd_put_object(ictx, obj);
		obj = NULL;
	}
	if (!obj)
		return -ENOENT;
	if (write)
		rc = iommufd_eventq_write((struct iommufd_eventq *)obj,
					  (uintptr_t)buf, len);
	else
		rc = iommufd_eventq_read((struct iommufd_eventq *)obj,
					 (uintptr_t)buf, len);
	iommufd_put_object(ictx, obj);
	return rc;
}
