// SPDX-License-Identifier: MIT
/*
 * The IOAS object and its ioctls: the argument checks and their order
 * are the kernel's ioas.c, so each bad call fails with the same errno.
 */
#include <errno.h>
#include <stdlib.h>

#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/uapi.h"

#define MAP_FLAGS                                                       \
	(SIO_IOMMU_IOAS_MAP_FIXED_IOVA | SIO_IOMMU_IOAS_MAP_WRITEABLE | \
	 SIO_IOMMU_IOAS_MAP_READABLE)

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id)
{
	return (struct iommufd_ioas *)iommufd_get_object(ictx, id,
							 IOMMUFD_OBJ_IOAS);
}

void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = (struct iommufd_ioas *)obj;

	iopt_unmap_all(&ioas->iopt, NULL);
	iopt_destroy_table(&ioas->iopt);
	pthread_mutex_destroy(&ioas->mutex);
}

int iommufd_ioas_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas **out)
{
	struct iommufd_ioas *ioas = sio_calloc(1, sizeof(*ioas));
	int rc;

	if (!ioas)
		return -ENOMEM;
	rc = iommufd_object_alloc(ictx, &ioas->obj, IOMMUFD_OBJ_IOAS);
	if (rc) {
		free(ioas);
		return rc;
	}
	iopt_init_table(&ioas->iopt);
	pthread_mutex_init(&ioas->mutex, NULL);
	iommufd_list_init(&ioas->hwpt_list);
	*out = ioas;
	return 0;
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	rc = iommufd_ioas_alloc(ucmd->ictx, &ioas);
	if (rc)
		return rc;

	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

/* The holes of the reserved ranges: where IOVA may ever be mapped. */
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct sio_itree_span span;
	struct iommufd_ioas *ioas;
	uint32_t max_iovas;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;

	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	max_iovas = cmd->num_iovas;
	cmd->num_iovas = 0;
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	sio_itree_for_each_span(&span, &ioas->iopt.reserved_itree, 0,
				UINT64_MAX)
	{
		if (!span.is_hole)
			continue;
		if (cmd->num_iovas < max_iovas) {
			struct sio_iommu_iova_range elm = {
				.start = span.start,
				.last = span.last,
			};

			rc = sio_user_write(cmd->allowed_iovas +
						    (uint64_t)cmd->num_iovas *
							    sizeof(elm),
					    &elm, sizeof(elm));
			if (rc)
				goto out_put;
		}
		cmd->num_iovas++;
	}
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_put;
	if (cmd->num_iovas > max_iovas)
		rc = -EMSGSIZE;
out_put:
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* Read @num user ranges into @t: ordered, non-empty and disjoint. */
static int ioas_load_iovas(struct sio_itree *t, uint64_t uranges, uint32_t num)
{
	for (uint32_t i = 0; i != num; i++) {
		struct sio_iommu_iova_range range;
		struct iopt_allowed *allowed;
		int rc;

		rc = sio_user_read(&range,
				   uranges + (uint64_t)i * sizeof(range),
				   sizeof(range));
		if (rc)
			return rc;
		if (range.start >= range.last)
			return -EINVAL;
		if (sio_itree_first(t, range.start, range.last))
			return -EINVAL;
		allowed = sio_calloc(1, sizeof(*allowed));
		if (!allowed)
			return -ENOMEM;
		allowed->node.start = range.start;
		allowed->node.last = range.last;
		sio_itree_insert(t, &allowed->node);
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct sio_itree allowed = {0};
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	rc = ioas_load_iovas(&allowed, cmd->allowed_iovas, cmd->num_iovas);
	if (!rc)
		/* all or nothing: on success @allowed holds the old list */
		rc = iopt_set_allow_iova(&ioas->iopt, &allowed);
	iopt_free_itree(&allowed);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * Every mapping is cache coherent: user space has no cache maintenance,
 * so the kernel refuses non-coherent IOMMUs at bind and sets CACHE here.
 */
static int conv_iommu_prot(uint32_t map_flags)
{
	int prot = IOMMU_CACHE;

	if (map_flags & SIO_IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	if (map_flags & SIO_IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	return prot;
}

/* The checks MAP, MAP_FILE and COPY share, in the kernel's order. */
static int map_check_args(uint32_t flags, uint64_t iova, uint64_t length)
{
	if (flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (iova >= UINT64_MAX || length >= UINT64_MAX)
		return -EOVERFLOW;
	if (!(flags &
	      (SIO_IOMMU_IOAS_MAP_WRITEABLE | SIO_IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	return 0;
}

static unsigned int map_iopt_flags(uint32_t flags)
{
	return flags & SIO_IOMMU_IOAS_MAP_FIXED_IOVA ? 0 : IOPT_ALLOC_IOVA;
}

/* MAP and MAP_FILE end alike: the IOVA chosen goes back on success. */
static int map_reply(struct iommufd_ucmd *ucmd, struct iommufd_ioas *ioas,
		     int rc, uint64_t iova, uint64_t *out_iova)
{
	if (!rc) {
		*out_iova = iova;
		rc = iommufd_ucmd_respond(ucmd);
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	rc = map_check_args(cmd->flags, cmd->iova, cmd->length);
	if (rc)
		return rc;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	rc = iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &iova, cmd->user_va,
				 cmd->length, conv_iommu_prot(cmd->flags),
				 map_iopt_flags(cmd->flags));
	return map_reply(ucmd, ioas, rc, iova, &cmd->iova);
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_map_file *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	int rc;

	rc = map_check_args(cmd->flags, cmd->iova, cmd->length);
	if (rc)
		return rc;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	rc = iopt_map_file_pages(ucmd->ictx, &ioas->iopt, &iova, cmd->fd,
				 cmd->start, cmd->length,
				 conv_iommu_prot(cmd->flags),
				 map_iopt_flags(cmd->flags));
	return map_reply(ucmd, ioas, rc, iova, &cmd->iova);
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src_ioas, *dst_ioas;
	struct iopt_pages_list *list = NULL;
	unsigned int nr = 0;
	uint64_t iova;
	int rc;

	/* both IOVAs face the overflow check, before the R/W one */
	rc = map_check_args(cmd->flags,
			    cmd->src_iova > cmd->dst_iova ? cmd->src_iova
							  : cmd->dst_iova,
			    cmd->length);
	if (rc)
		return rc;

	src_ioas = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (!src_ioas)
		return -ENOENT;
	rc = iopt_get_pages(&src_ioas->iopt, cmd->src_iova, cmd->length, &list,
			    &nr);
	iommufd_put_object(ucmd->ictx, &src_ioas->obj);
	if (rc)
		return rc;

	dst_ioas = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (!dst_ioas) {
		rc = -ENOENT;
		goto out_pages;
	}
	iova = cmd->dst_iova;
	rc = iopt_map_pages(&dst_ioas->iopt, list, nr, cmd->length, &iova,
			    conv_iommu_prot(cmd->flags),
			    map_iopt_flags(cmd->flags));
	if (!rc) {
		cmd->dst_iova = iova;
		rc = iommufd_ucmd_respond(ucmd);
	}
	iommufd_put_object(ucmd->ictx, &dst_ioas->obj);
out_pages:
	iopt_free_pages_list(list, nr);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t unmapped = 0;
	int rc = 0;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (cmd->iova >= UINT64_MAX || cmd->length >= UINT64_MAX) {
		rc = -EOVERFLOW;
	} else {
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length,
				     &unmapped);
		/* a range with nothing mapped is the ioctl's -ENOENT */
		if (!rc && !unmapped)
			rc = -ENOENT;
	}
	if (!rc) {
		cmd->length = unmapped;
		rc = iommufd_ucmd_respond(ucmd);
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_option *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == SIO_IOMMU_OPTION_OP_GET) {
		cmd->val64 = ictx->account_mode == IOPT_PAGES_ACCOUNT_MM;
		return 0;
	}
	if (cmd->op != SIO_IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!iommufd_capable(ictx->host, SIO_CAP_SYS_RESOURCE))
		return -EPERM;
	pthread_mutex_lock(&ictx->lock);
	if (ictx->nr_objs)
		rc = -EBUSY;
	else if (cmd->val64 == 0)
		ictx->account_mode = IOPT_PAGES_ACCOUNT_USER;
	else if (cmd->val64 == 1)
		ictx->account_mode = IOPT_PAGES_ACCOUNT_MM;
	else
		rc = -EINVAL;
	pthread_mutex_unlock(&ictx->lock);
	return rc;
}

int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_option *cmd = ucmd->cmd;
	uint64_t page_size = ucmd->ictx->host->page_size;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (!ioas)
		return -ENOENT;
	if (cmd->op == SIO_IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
	} else if (cmd->op == SIO_IOMMU_OPTION_OP_SET) {
		if (cmd->val64 == 0)
			rc = iopt_disable_large_pages(&ioas->iopt, page_size);
		else if (cmd->val64 == 1)
			iopt_enable_large_pages(&ioas->iopt, page_size);
		else
			rc = -EINVAL;
	} else {
		rc = -EOPNOTSUPP;
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* @fn on every area of every IOAS until one says no; ictx->lock held. */
static int for_each_area(struct iommufd_ctx *ictx,
			 int (*fn)(struct iopt_area *area))
{
	int rc = 0;

	for (uint32_t i = 0; i < ictx->nr_slots && !rc; i++) {
		struct iommufd_object *obj = ictx->objs[i];
		struct iommufd_ioas *ioas = (struct iommufd_ioas *)obj;
		struct sio_itree_node *n;

		if (!obj || !obj->finalized || obj->type != IOMMUFD_OBJ_IOAS)
			continue;
		pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
		sio_itree_for_each(n, &ioas->iopt.area_itree, 0, UINT64_MAX)
		{
			rc = fn((struct iopt_area *)n);
			if (rc)
				break;
		}
		pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	}
	return rc;
}

static int area_can_move(struct iopt_area *area)
{
	return area->pages->type == IOPT_ADDRESS_FILE ? 0 : -EINVAL;
}

static int area_change_process(struct iopt_area *area)
{
	iopt_pages_change_process(area->pages);
	return 0;
}

/*
 * Only file-backed mappings can move.  Then every pages object is the
 * caller's to account (a fork child's, through its inherited fd): its
 * /proc/<pid>/status VmPin: shows them (iommufd_host_pinned_bytes()).
 */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_ioas_change_process *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&ictx->lock);
	rc = for_each_area(ictx, area_can_move);
	if (!rc)
		rc = for_each_area(ictx, area_change_process);
	pthread_mutex_unlock(&ictx->lock);
	return rc;
}
