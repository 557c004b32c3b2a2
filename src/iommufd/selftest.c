// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD: the iommufd half of the kernel's selftest driver
 * (drivers/iommu/iommufd/selftest.c).  A mock device is an ordinary
 * iommufd device on the mock IOMMU (drivers/mock), bound and attached
 * through the same device.c paths a VFIO device takes; its "stdev"
 * object owns it, and destroying that object unbinds it.  The other ops
 * look inside mock domains (what is mapped where, dirty bits, the nested
 * IOTLB) or at the pins iommufd holds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "drivers/mock/mock_iommu.h"
#include "fault/fault_inject.h"
#include "iommufd_private.h"
#include "uapi/iommufd_test_abi.h"
#include "uapi/uapi.h"

/* The selftest's own object: one mock device, bound and attached. */
struct selftest_obj {
	struct iommufd_object obj;
	struct mock_iommu *mock;
	struct iommufd_dev_desc desc;
	struct iommufd_device *idev;
};

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = (struct selftest_obj *)obj;

	iommufd_device_unbind(sobj->idev);
	mock_dev_remove(sobj->mock, sobj->desc.sid);
	iommufd_dev_desc_destroy(&sobj->desc);
}

/* MOCK_DOMAIN(_FLAGS): a mock device bound and attached to IOAS/HWPT @id. */
static int test_mock_domain(struct iommufd_ucmd *ucmd,
			    struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct selftest_obj *sobj = sio_calloc(1, sizeof(*sobj));
	uint32_t flags = 0, sid, idev_id, pt_id = cmd->id;
	int rc;

	if (!sobj)
		return -ENOMEM;
	rc = iommufd_object_alloc(ictx, &sobj->obj, IOMMUFD_OBJ_SELFTEST);
	if (rc) {
		free(sobj);
		return rc;
	}
	if (cmd->op == SIO_TEST_OP_MOCK_DOMAIN_FLAGS)
		flags = cmd->mock_domain.dev_flags;
	sobj->mock = ictx->selftest;
	rc = mock_dev_add(sobj->mock, flags, &sid);
	if (rc)
		goto out_abort;
	iommufd_dev_desc_init(&sobj->desc, mock_iommu_dev(sobj->mock), sid);
	sobj->desc.selftest = true;
	/* the width is the mock's to say (probe_device() is told it) */
	{
		const struct sio_iommu_pci_caps caps = {
			.pasid_bits = mock_dev_pasid_bits(sobj->mock, sid),
		};

		iommufd_dev_desc_set_pci_caps(&sobj->desc, &caps);
	}

	rc = iommufd_device_bind(ictx, &sobj->desc, &idev_id, &sobj->idev);
	if (rc)
		goto out_mdev;
	rc = iommufd_device_attach(sobj->idev, &pt_id);
	if (rc)
		goto out_unbind;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_ucmd_respond(ucmd);
	if (rc)
		goto out_unbind;
	iommufd_object_finalize(ictx, &sobj->obj);
	return 0;
out_unbind:
	iommufd_device_unbind(sobj->idev);
out_mdev:
	iommufd_dev_desc_destroy(&sobj->desc);
	mock_dev_remove(sobj->mock, sid);
out_abort:
	iommufd_object_abort(ictx, &sobj->obj);
	return rc;
}

/* MOCK_DOMAIN_REPLACE: the stdev @id's device moves to pt_id. */
static int test_mock_domain_replace(struct iommufd_ucmd *ucmd,
				    struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_object *obj;
	uint32_t pt_id = cmd->mock_domain_replace.pt_id;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_SELFTEST);
	if (!obj)
		return -ENOENT;
	rc = iommufd_device_replace(((struct selftest_obj *)obj)->idev, &pt_id);
	if (!rc) {
		cmd->mock_domain_replace.pt_id = pt_id;
		rc = iommufd_ucmd_respond(ucmd);
	}
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/*
 * ADD_RESERVED: a reserved range in IOAS @id that nothing removes. An
 * empty range is -EINVAL and one past the end of the IOVA space
 * -EOVERFLOW, checked before the IOAS is looked up, as the kernel's
 * (whose reserved tree a wrapped range corrupted).
 */
static int test_add_reserved(struct iommufd_ucmd *ucmd,
			     struct sio_iommu_test_cmd *cmd)
{
	uint64_t start = cmd->add_reserved.start;
	uint64_t length = cmd->add_reserved.length;
	struct iommufd_ioas *ioas;
	uint64_t last;
	int rc;

	if (!length)
		return -EINVAL;
	if (__builtin_add_overflow(start, length - 1, &last))
		return -EOVERFLOW;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (!ioas)
		return -ENOENT;
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * The paging HWPT @id with its mock domain, as a short-term reference:
 * -ENOENT without one, -EINVAL when its domain is not a mock one.
 */
static int get_md_pagetable(struct iommufd_ctx *ictx, uint32_t id,
			    enum iommufd_object_type type,
			    struct iommufd_hw_pagetable **out)
{
	struct iommufd_hw_pagetable *hwpt;
	bool ok;

	hwpt = (struct iommufd_hw_pagetable *)iommufd_get_object(ictx, id,
								 type);
	if (!hwpt)
		return -ENOENT;
	ok = type == IOMMUFD_OBJ_HWPT_PAGING
		     ? mock_domain_is_paging(hwpt->domain)
		     : mock_domain_is_nested(hwpt->domain);
	if (!ok) {
		iommufd_put_object(ictx, &hwpt->obj);
		return -EINVAL;
	}
	*out = hwpt;
	return 0;
}

/*
 * The page frame behind host address @va, from /proc/self/pagemap; 0
 * when it cannot be read (no privilege) or the page is not present.
 */
static uint64_t host_pfn(int fd, uint64_t va, uint64_t page_size)
{
	uint64_t ent;

	if (fd < 0 || pread(fd, &ent, sizeof(ent),
			    (off_t)(va / page_size * sizeof(ent))) !=
			      (ssize_t)sizeof(ent))
		return 0;
	if (!(ent & (1ull << 63)))
		return 0;
	return ent & ((1ull << 55) - 1);
}

/*
 * Whether output address @pa is the memory at user address @uaddr: the
 * same address (anonymous memory is pinned where it is), or the same
 * physical page at the same offset (a file pinned through our own
 * mapping of it).
 */
static bool same_memory(int pagemap, struct iommufd_host *host, uint64_t pa,
			uint64_t uaddr)
{
	uint64_t pfn;

	if (pa == uaddr)
		return true;
	if ((pa ^ uaddr) & (host->page_size - 1))
		return false;
	pfn = host_pfn(pagemap, uaddr, host->page_size);
	return pfn && pfn == host_pfn(pagemap, pa, host->page_size);
}

int iommufd_selftest_probe_user(uint64_t uaddr)
{
	uint8_t byte;
	struct iovec l = {.iov_base = &byte, .iov_len = 1};
	struct iovec r = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = 1};

	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == 1 ? 0 : -EFAULT;
}

bool iommufd_selftest_same_memory(struct iommufd_host *host, uint64_t pa,
				  uint64_t uaddr)
{
	int pagemap;
	bool same;

	if (pa == uaddr)
		return true;
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	same = same_memory(pagemap, host, pa, uaddr);
	if (pagemap >= 0)
		close(pagemap);
	return same;
}

/* MD_CHECK_MAP: every mock page of the range maps the user's memory. */
static int test_md_check_pa(struct iommufd_ucmd *ucmd,
			    struct sio_iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->check_map.iova, length = cmd->check_map.length;
	uint64_t uptr = cmd->check_map.uptr;
	struct iommufd_hw_pagetable *hwpt;
	int pagemap, rc;

	if (iova % MOCK_IO_PAGE_SIZE || length % MOCK_IO_PAGE_SIZE ||
	    uptr % MOCK_IO_PAGE_SIZE || uptr + length < uptr)
		return -EINVAL;
	rc = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING,
			      &hwpt);
	if (rc)
		return rc;
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (; length; length -= MOCK_IO_PAGE_SIZE) {
		uint64_t pa;

		/* the kernel's get_user_pages(): the user's page must exist */
		rc = iommufd_selftest_probe_user(uptr);
		if (rc)
			break;
		if (mock_domain_lookup(hwpt->domain, iova, &pa) ||
		    !same_memory(pagemap, ucmd->ictx->host, pa, uptr)) {
			rc = -EINVAL;
			break;
		}
		iova += MOCK_IO_PAGE_SIZE;
		uptr += MOCK_IO_PAGE_SIZE;
	}
	if (pagemap >= 0)
		close(pagemap);
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/* The search for the file page behind a user address. */
/*
 * The file page behind user address @uaddr, from /proc/self/maps: false
 * for anonymous memory.
 */
static bool file_page_of(uint64_t uaddr, dev_t *dev, ino_t *ino, uint64_t *off)
{
	struct sio_user_maps_line l;

	if (!sio_user_maps_find(0, uaddr, &l, NULL, 0) || !l.inode)
		return false;
	*dev = makedev(l.maj, l.min);
	*ino = (ino_t)l.inode;
	*off = l.pgoff + (uaddr - l.start);
	return true;
}

/* The pins of the page at @uaddr: of its address, or of its file page. */
static unsigned int count_pins(struct iommufd_host *host, uint64_t uaddr)
{
	unsigned int n = iopt_pages_count_pins(host, uaddr);
	uint64_t off;
	dev_t dev;
	ino_t ino;

	if (file_page_of(uaddr, &dev, &ino, &off))
		n += iopt_pages_count_file_pins(host, dev, ino, off);
	return n;
}

/* MD_CHECK_REFS: each page of the range is pinned exactly @refs times. */
static int test_md_check_refs(struct iommufd_ucmd *ucmd,
			      struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_host *host = ucmd->ictx->host;
	uint64_t length = cmd->check_refs.length, uptr = cmd->check_refs.uptr;

	if (length % host->page_size || uptr % host->page_size ||
	    uptr + length < uptr)
		return -EINVAL;
	for (; length; length -= host->page_size) {
		int rc = iommufd_selftest_probe_user(uptr);

		if (rc)
			return rc;
		if (count_pins(host, uptr) != cmd->check_refs.refs)
			return -EIO;
		uptr += host->page_size;
	}
	return 0;
}

/* MD_CHECK_IOTLB: entry @check_iotlb.id of nested mock HWPT @id. */
static int test_md_check_iotlb(struct iommufd_ucmd *ucmd,
			       struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_hw_pagetable *hwpt;
	uint32_t val;
	int rc;

	rc = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED,
			      &hwpt);
	if (rc)
		return rc;
	rc = mock_nested_iotlb(hwpt->domain, cmd->check_iotlb.id, &val);
	if (!rc && val != cmd->check_iotlb.iotlb)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/*
 * DIRTY: a device writes the pages whose bits are set in the user's
 * bitmap (one bit per page_size from iova); out_nr_dirty counts them.
 */
static int test_dirty(struct iommufd_ucmd *ucmd, struct sio_iommu_test_cmd *cmd)
{
	uint64_t iova = cmd->dirty.iova, length = cmd->dirty.length;
	uint64_t page_size = cmd->dirty.page_size, max, count = 0;
	struct iommufd_hw_pagetable *hwpt;
	uint8_t *bits;
	int rc;

	if (!page_size || !length || iova % page_size || length % page_size ||
	    !cmd->dirty.uptr)
		return -EINVAL;
	rc = get_md_pagetable(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING,
			      &hwpt);
	if (rc)
		return rc;
	if (!hwpt->domain->ops->set_dirty_tracking ||
	    !mock_domain_dirty_tracking(hwpt->domain)) {
		rc = -EINVAL;
		goto out_put;
	}
	max = length / page_size;
	bits = sio_calloc((max + 7) / 8, 1);
	if (!bits) {
		rc = -ENOMEM;
		goto out_put;
	}
	rc = sio_user_read(bits, cmd->dirty.uptr, (max + 7) / 8);
	for (uint64_t i = 0; !rc && i < max; i++) {
		if (!(bits[i / 8] & (1u << (i % 8))))
			continue;
		if (!mock_domain_set_dirty(hwpt->domain, iova + i * page_size))
			count++;
	}
	free(bits);
	if (!rc) {
		cmd->dirty.out_nr_dirty = count;
		rc = iommufd_ucmd_respond(ucmd);
	}
out_put:
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/* DEV_CHECK_CACHE: entry check_dev_cache.id of mock device (idev) @id. */
static int test_dev_check_cache(struct iommufd_ucmd *ucmd,
				struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	uint32_t val;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = (struct iommufd_device *)obj;
	rc = -EINVAL;
	if (idev->dev->selftest &&
	    !mock_dev_cache(ucmd->ictx->selftest, idev->dev->sid,
			    cmd->check_dev_cache.id, &val) &&
	    val == cmd->check_dev_cache.cache)
		rc = 0;
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/* TRIGGER_VEVENT: the mock device behind idev dev_id raises a vEVENT. */
static int test_trigger_vevent(struct iommufd_ucmd *ucmd,
			       struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	int rc = -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->trigger_vevent.dev_id,
				 IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = (struct iommufd_device *)obj;
	if (idev->dev->selftest)
		rc = mock_dev_trigger_vevent(ucmd->ictx->selftest,
					     idev->dev->sid);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/* TRIGGER_IOPF: the mock device behind idev dev_id sends a page request. */
static int test_trigger_iopf(struct iommufd_ucmd *ucmd,
			     struct sio_iommu_test_cmd *cmd)
{
	const struct sio_iopf_fault fault = {
		.flags = SIO_IOPF_LAST_PAGE |
			 (cmd->trigger_iopf.pasid ? SIO_IOPF_PASID_VALID : 0),
		.pasid = cmd->trigger_iopf.pasid,
		.grpid = cmd->trigger_iopf.grpid,
		.perm = cmd->trigger_iopf.perm,
		.addr = cmd->trigger_iopf.addr,
	};
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	int rc = -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->trigger_iopf.dev_id,
				 IOMMUFD_OBJ_DEVICE);
	if (!obj)
		return -ENOENT;
	idev = (struct iommufd_device *)obj;
	if (idev->dev->selftest)
		rc = mock_dev_trigger_iopf(ucmd->ictx->selftest, idev->dev->sid,
					   &fault);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/* The stdev @id as a short-term reference; NULL: -ENOENT. */
static struct selftest_obj *get_stdev(struct iommufd_ucmd *ucmd, uint32_t id)
{
	return (struct selftest_obj *)iommufd_get_object(ucmd->ictx, id,
							 IOMMUFD_OBJ_SELFTEST);
}

/* PASID_ATTACH / PASID_REPLACE: PASID @pasid of stdev @id to pt_id. */
static int test_pasid_attach(struct iommufd_ucmd *ucmd,
			     struct sio_iommu_test_cmd *cmd, bool replace)
{
	struct selftest_obj *sobj = get_stdev(ucmd, cmd->id);
	uint32_t pasid = cmd->pasid.pasid;
	int rc;

	if (!sobj)
		return -ENOENT;
	rc = replace ? iommufd_device_pasid_replace(sobj->idev, pasid,
						    &cmd->pasid.pt_id)
		     : iommufd_device_pasid_attach(sobj->idev, pasid,
						   &cmd->pasid.pt_id);
	if (!rc) {
		rc = iommufd_ucmd_respond(ucmd);
		/* the kernel undoes an attach it cannot report */
		if (rc && !replace)
			iommufd_device_pasid_detach(sobj->idev, pasid);
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_pasid_detach(struct iommufd_ucmd *ucmd,
			     struct sio_iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_stdev(ucmd, cmd->id);

	if (!sobj)
		return -ENOENT;
	iommufd_device_pasid_detach(sobj->idev, cmd->pasid.pasid);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return 0;
}

/*
 * PASID_CHECK_HWPT: the PASID is on HWPT hwpt_id's domain (the kernel
 * compares domains), or on none for hwpt_id 0; -EINVAL otherwise.
 */
static int test_pasid_check_hwpt(struct iommufd_ucmd *ucmd,
				 struct sio_iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_stdev(ucmd, cmd->id);
	struct iommufd_hw_pagetable *hwpt;
	struct sio_iommu_domain *d;
	int rc = 0;

	if (!sobj)
		return -ENOENT;
	d = iommufd_device_pasid_domain(sobj->idev, cmd->pasid.pasid);
	if (!cmd->pasid.pt_id) {
		rc = d ? -EINVAL : 0;
		goto out;
	}
	hwpt = (struct iommufd_hw_pagetable *)iommufd_get_object(
		ucmd->ictx, cmd->pasid.pt_id, IOMMUFD_OBJ_ANY);
	if (!hwpt || (hwpt->obj.type != IOMMUFD_OBJ_HWPT_PAGING &&
		      hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)) {
		rc = -ENOENT;
		if (hwpt)
			iommufd_put_object(ucmd->ictx, &hwpt->obj);
		goto out;
	}
	if (hwpt->domain != d)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
out:
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

void iommufd_dmabuf_put(struct iommufd_dmabuf *dmabuf)
{
	if (atomic_fetch_sub(&dmabuf->kref, 1) != 1)
		return;
	close(dmabuf->fd);
	free(dmabuf);
}

struct iommufd_dmabuf *iommufd_dmabuf_find(struct iommufd_ctx *ictx,
					   const struct stat *st)
{
	struct iommufd_dmabuf *found = NULL;

	pthread_mutex_lock(&ictx->selftest_lock);
	for (struct iommufd_list *l = ictx->selftest_dmabufs.next;
	     l != &ictx->selftest_dmabufs; l = l->next) {
		struct iommufd_dmabuf *d =
			iommufd_container_of(l, struct iommufd_dmabuf, node);

		if (d->dev == st->st_dev && d->ino == st->st_ino) {
			atomic_fetch_add(&d->kref, 1);
			found = d;
			break;
		}
	}
	pthread_mutex_unlock(&ictx->selftest_lock);
	return found;
}

/* The context's close: its exports go (imports keep their references). */
void iommufd_dmabufs_destroy(struct iommufd_ctx *ictx)
{
	while (ictx->selftest_dmabufs.next != &ictx->selftest_dmabufs) {
		struct iommufd_dmabuf *d =
			iommufd_container_of(ictx->selftest_dmabufs.next,
					     struct iommufd_dmabuf, node);

		iommufd_list_del_init(&d->node);
		iommufd_dmabuf_put(d);
	}
}

/*
 * DMABUF_GET: the kernel's mock exporter hands out zeroed kernel memory
 * of @length rounded up to pages, at most 512 of them.  Ours is a memfd
 * of that size, recorded so that IOAS_MAP_FILE on this context treats it
 * as a dma-buf; its number is the ioctl's result.  It stays recorded
 * until the context closes.
 */
static int test_dmabuf_get(struct iommufd_ucmd *ucmd,
			   struct sio_iommu_test_cmd *cmd)
{
	uint64_t ps = ucmd->ictx->host->page_size;
	uint64_t len = ((uint64_t)cmd->dmabuf_get.length + ps - 1) & ~(ps - 1);
	struct iommufd_dmabuf *d;
	struct stat st;
	int fd, rc;

	if (len == 0 || len > ps * 512)
		return -EINVAL;
	d = sio_calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->fd = memfd_create("iommufd-dmabuf", MFD_CLOEXEC);
	if (d->fd < 0) {
		rc = -errno;
		free(d);
		return rc;
	}
	if (ftruncate(d->fd, (off_t)len) || fstat(d->fd, &st)) {
		rc = -errno;
		goto err_close;
	}
	fd = fcntl(d->fd,
		   (cmd->dmabuf_get.open_flags & O_CLOEXEC) ? F_DUPFD_CLOEXEC
							    : F_DUPFD,
		   0);
	if (fd < 0) {
		rc = -errno;
		goto err_close;
	}
	atomic_init(&d->kref, 1);
	atomic_init(&d->revoked, false);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->length = len;
	pthread_mutex_lock(&ucmd->ictx->selftest_lock);
	iommufd_list_add_tail(&d->node, &ucmd->ictx->selftest_dmabufs);
	pthread_mutex_unlock(&ucmd->ictx->selftest_lock);
	return fd;
err_close:
	close(d->fd);
	free(d);
	return rc;
}

/* Every IOAS of @ictx lets the areas of @d go from its domains. */
static void revoke_in_ioases(struct iommufd_ctx *ictx, struct iommufd_dmabuf *d)
{
	uint32_t nr;

	pthread_mutex_lock(&ictx->lock);
	nr = ictx->nr_slots;
	pthread_mutex_unlock(&ictx->lock);
	for (uint32_t id = 1; id <= nr; id++) {
		struct iommufd_ioas *ioas = iommufd_get_ioas(ictx, id);

		if (!ioas)
			continue;
		iopt_revoke_dmabuf(&ioas->iopt, d);
		iommufd_put_object(ictx, &ioas->obj);
	}
}

/*
 * DMABUF_REVOKE: the exporter revokes its buffer (the kernel's
 * dma_buf_move_notify()): the areas that import it leave their domains
 * for good, and new imports fail with ENODEV until it is made valid
 * again; then only new imports map it.
 */
static int test_dmabuf_revoke(struct iommufd_ucmd *ucmd,
			      struct sio_iommu_test_cmd *cmd)
{
	struct iommufd_dmabuf *d;
	struct stat st;

	if (fstat(cmd->dmabuf_revoke.dmabuf_fd, &st))
		return -EBADF;
	d = iommufd_dmabuf_find(ucmd->ictx, &st);
	if (!d)
		return -EINVAL; /* dma_buf_get() of another file */
	atomic_store(&d->revoked, cmd->dmabuf_revoke.revoked != 0);
	if (cmd->dmabuf_revoke.revoked)
		revoke_in_ioases(ucmd->ictx, d);
	iommufd_dmabuf_put(d);
	return 0;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct sio_iommu_test_cmd *cmd = ucmd->cmd;

	switch (cmd->op) {
	case SIO_TEST_OP_ADD_RESERVED:
		return test_add_reserved(ucmd, cmd);
	case SIO_TEST_OP_MOCK_DOMAIN:
	case SIO_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(ucmd, cmd);
	case SIO_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(ucmd, cmd);
	case SIO_TEST_OP_MD_CHECK_MAP:
		return test_md_check_pa(ucmd, cmd);
	case SIO_TEST_OP_MD_CHECK_REFS:
		return test_md_check_refs(ucmd, cmd);
	case SIO_TEST_OP_MD_CHECK_IOTLB:
		return test_md_check_iotlb(ucmd, cmd);
	case SIO_TEST_OP_DEV_CHECK_CACHE:
		return test_dev_check_cache(ucmd, cmd);
	case SIO_TEST_OP_PASID_ATTACH:
		return test_pasid_attach(ucmd, cmd, false);
	case SIO_TEST_OP_PASID_REPLACE:
		return test_pasid_attach(ucmd, cmd, true);
	case SIO_TEST_OP_PASID_DETACH:
		return test_pasid_detach(ucmd, cmd);
	case SIO_TEST_OP_PASID_CHECK_HWPT:
		return test_pasid_check_hwpt(ucmd, cmd);
	case SIO_TEST_OP_TRIGGER_IOPF:
		return test_trigger_iopf(ucmd, cmd);
	case SIO_TEST_OP_TRIGGER_VEVENT:
		return test_trigger_vevent(ucmd, cmd);
	case SIO_TEST_OP_CREATE_ACCESS:
		return iommufd_test_create_access(ucmd);
	case SIO_TEST_OP_ACCESS_PAGES:
		return iommufd_test_access_pages(ucmd);
	case SIO_TEST_OP_DESTROY_ACCESS_PAGES:
		return iommufd_test_access_item_destroy(ucmd);
	case SIO_TEST_OP_ACCESS_RW:
		return iommufd_test_access_rw(ucmd);
	case SIO_TEST_OP_ACCESS_REPLACE_IOAS:
		return iommufd_test_access_replace_ioas(ucmd);
	case SIO_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/*
		 * The kernel shrinks its pinning batches to force their
		 * splits; pinning here has no batches, so nothing changes.
		 */
		return 0;
	case SIO_TEST_OP_DIRTY:
		return test_dirty(ucmd, cmd);
	case SIO_TEST_OP_DMABUF_GET:
		return test_dmabuf_get(ucmd, cmd);
	case SIO_TEST_OP_DMABUF_REVOKE:
		return test_dmabuf_revoke(ucmd, cmd);
	default:
		return -EOPNOTSUPP;
	}
}
