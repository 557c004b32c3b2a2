/* SPDX-License-Identifier: MIT */
/*
 * The seam between iommufd and the IOMMU hardware, as the kernel's
 * iommu_ops / iommu_domain_ops are: iommufd asks a driver for paging
 * domains, attaches devices (by StreamID) to them and maps pinned pages
 * into them; the driver programs its hardware model.  The SMMUv3 driver
 * is the first implementation; the selftest mock driver and other IOMMU
 * models plug in here later.
 */
#ifndef SIO_DRIVERS_IOMMU_DRIVER_H
#define SIO_DRIVERS_IOMMU_DRIVER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <softiommu/pgtable.h>

struct sio_iommu_dev;
struct sio_iommu_domain;
struct sio_iommu_viommu;
struct sio_iommu_user_data;
struct sio_iommu_user_data_array;

/* Domain allocation flags (IOMMU_HWPT_ALLOC_* in meaning). */
#define SIO_DOMAIN_NEST_PARENT	  (1u << 0) /* a stage-2 domain */
#define SIO_DOMAIN_DIRTY_TRACKING (1u << 1)
#define SIO_DOMAIN_PASID	  (1u << 2) /* may also serve PASIDs */

/* Mapping permissions (the kernel's IOMMU_READ/WRITE/CACHE). */
#define SIO_IOMMU_READ	(1 << 0)
#define SIO_IOMMU_WRITE (1 << 1)
#define SIO_IOMMU_CACHE (1 << 2)

struct sio_iommu_domain_ops {
	/* Map [iova, iova + size) to [pa, ...); all or nothing. */
	int (*map)(struct sio_iommu_domain *d, uint64_t iova, uint64_t pa,
		   uint64_t size, int prot);
	/*
	 * Unmap, and invalidate the IOMMU's caches for the range before
	 * returning: when unmap returns no DMA can use the old mapping.
	 */
	int (*unmap)(struct sio_iommu_domain *d, uint64_t iova, uint64_t size,
		     uint64_t *unmapped);
	/* The output address of @iova, or -ENOENT. */
	int (*iova_to_phys)(struct sio_iommu_domain *d, uint64_t iova,
			    uint64_t *pa);
	void (*free)(struct sio_iommu_domain *d);
	/*
	 * Dirty tracking, for domains allocated with
	 * SIO_DOMAIN_DIRTY_TRACKING only (NULL otherwise, as the kernel's
	 * dirty_ops).  read_and_clear_dirty() records the dirty leaves of
	 * [bm->iova, bm->iova + bm->length) at bm->pgsize resolution and,
	 * unless SIO_DIRTY_NO_CLEAR, cleans them and invalidates the
	 * IOMMU's TLB so the next write is recorded again.  bm->bits NULL
	 * (at most 4096 pages): clean only, as before tracking is enabled,
	 * which a driver allows even while tracking is off.
	 */
	int (*set_dirty_tracking)(struct sio_iommu_domain *d, bool enable);
	int (*read_and_clear_dirty)(struct sio_iommu_domain *d,
				    const struct sio_dirty_bitmap *bm,
				    unsigned int flags);
	/*
	 * A domain whose attach is its own (nested domains, as the kernel's
	 * domain ops carry attach_dev); NULL: the IOMMU's attach_dev().
	 */
	int (*attach_dev)(struct sio_iommu_domain *d, uint32_t sid);
	/*
	 * IOMMU_HWPT_INVALIDATE on a nested HWPT (the kernel's
	 * cache_invalidate_user): the user's entries in order; @array's
	 * entry_num says back how many were carried out.  NULL: -EOPNOTSUPP.
	 */
	int (*cache_invalidate_user)(struct sio_iommu_domain *d,
				     struct sio_iommu_user_data_array *array);
	/*
	 * Point PASID @pasid of the device behind @sid at @d (the kernel's
	 * set_dev_pasid): @old is the domain the PASID is on (NULL: none),
	 * replaced in one step where the hardware allows it.  iommufd has
	 * checked @pasid against the device's width and that @d was
	 * allocated with SIO_DOMAIN_PASID.  -EINVAL when the device's
	 * other translations (its RID's domain) leave no room for PASIDs.
	 * NULL: the domain cannot serve a PASID (-EOPNOTSUPP).
	 */
	int (*set_dev_pasid)(struct sio_iommu_domain *d, uint32_t sid,
			     uint32_t pasid, struct sio_iommu_domain *old);
};

/* What a domain translates: its own tables, or a user's over a parent. */
enum sio_domain_type {
	SIO_DOMAIN_PAGING,
	SIO_DOMAIN_NESTED,
};

/*
 * An I/O page fault (the kernel's iommu_fault_page_request): a device's
 * transaction held by the IOMMU (an SMMUv3 stall) until it is answered.
 */
#define SIO_IOPF_PASID_VALID (1u << 0)
#define SIO_IOPF_LAST_PAGE   (1u << 1)
#define SIO_IOPF_PERM_READ   (1u << 0)
#define SIO_IOPF_PERM_WRITE  (1u << 1)
#define SIO_IOPF_PERM_EXEC   (1u << 2)
#define SIO_IOPF_PERM_PRIV   (1u << 3)

struct sio_iopf_fault {
	uint32_t flags; /* SIO_IOPF_PASID_VALID, _LAST_PAGE */
	uint32_t pasid;
	uint32_t grpid; /* the SMMUv3's STAG */
	uint32_t perm;	/* SIO_IOPF_PERM_* */
	uint64_t addr;
};

/* Answers to an I/O page fault (the kernel's iommu_page_response_code). */
enum sio_iopf_resp {
	SIO_IOPF_RESP_SUCCESS, /* retry the transaction */
	SIO_IOPF_RESP_INVALID, /* fail it */
	SIO_IOPF_RESP_FAILURE, /* fail it: nobody could handle the fault */
};

struct sio_iommu_domain {
	const struct sio_iommu_domain_ops *ops;
	struct sio_iommu_dev *iommu;
	uint64_t pgsize_bitmap;
	uint64_t aperture_start;
	uint64_t aperture_last;
	unsigned int flags; /* SIO_DOMAIN_* it was allocated with */
	enum sio_domain_type type;
	/*
	 * Set by iommufd before the first attach, for an HWPT with a fault
	 * queue (the kernel's domain->iopf_handler): the driver hands it
	 * the I/O page faults of the devices attached, from its event
	 * thread; 0 means the fault will be answered through
	 * page_response(), else the driver fails the transaction.
	 */
	int (*iopf_handler)(struct sio_iommu_domain *d, uint32_t sid,
			    const struct sio_iopf_fault *fault);
	void *iopf_data;
};

/*
 * Driver data from user space (the kernel's iommu_user_data): the
 * driver copies it in with sio_iommu_copy_struct_from_user(), through
 * the copy routine iommufd provides, so no driver touches user memory
 * itself.
 */
struct sio_iommu_user_data {
	uint32_t type;
	uint64_t uptr;
	size_t len;
	/* copy_struct_from_user(): 0, -E2BIG or -EFAULT */
	int (*copy_in)(void *dst, size_t dst_len, uint64_t uptr, size_t len);
	/* copy_to_user(): 0 or -EFAULT; NULL where nothing goes back */
	int (*copy_out)(uint64_t uptr, const void *src, size_t len);
};

/*
 * The kernel's iommu_copy_struct_to_user(): @src back to the user, as
 * much of it as the user's struct holds; -EINVAL for another type or a
 * struct shorter than @min_len.
 */
static inline int
sio_iommu_copy_struct_to_user(const struct sio_iommu_user_data *ud,
			      const void *src, size_t src_len, size_t min_len,
			      uint32_t type)
{
	if (ud->type != type || ud->len < min_len || !ud->copy_out)
		return -EINVAL;
	return ud->copy_out(ud->uptr, src,
			    ud->len < src_len ? ud->len : src_len);
}

/*
 * The kernel's iommu_copy_struct_from_user(): the type must be the
 * driver's, the length at least the struct's first version (@min_len)
 * and at most what the driver knows (@dst_len), else -EINVAL.
 */
static inline int
sio_iommu_copy_struct_from_user(void *dst, size_t dst_len, size_t min_len,
				const struct sio_iommu_user_data *ud,
				uint32_t type)
{
	if (ud->type != type)
		return -EINVAL;
	if (ud->len < min_len || dst_len < ud->len)
		return -EINVAL;
	return ud->copy_in(dst, dst_len, ud->uptr, ud->len);
}

/*
 * An array of driver entries from user space (the kernel's
 * iommu_user_data_array): @entry_num entries of @entry_len bytes at
 * @uptr; the driver says back in @entry_num how many it handled.
 */
struct sio_iommu_user_data_array {
	uint32_t type;
	uint64_t uptr;
	uint32_t entry_len;
	uint32_t entry_num;
	/* copy_struct_from_user(): 0, -E2BIG or -EFAULT */
	int (*copy_in)(void *dst, size_t dst_len, uint64_t uptr, size_t len);
};

/*
 * The kernel's iommu_copy_struct_from_full_user_array(): every entry into
 * @dst (room for entry_num entries of @entry_size), each as
 * copy_struct_from_user() takes it: a shorter user entry zero-extended,
 * a longer one with a zero tail only.  -EINVAL for another type or no
 * entries.
 */
static inline int
sio_iommu_copy_full_user_array(void *dst, size_t entry_size,
			       const struct sio_iommu_user_data_array *a,
			       uint32_t type)
{
	if (a->type != type || !a->entry_num)
		return -EINVAL;
	for (uint32_t i = 0; i < a->entry_num; i++) {
		int rc = a->copy_in((char *)dst + entry_size * i, entry_size,
				    a->uptr + (uint64_t)a->entry_len * i,
				    a->entry_len);

		if (rc)
			return rc;
	}
	return 0;
}

/*
 * A HW queue of a vIOMMU (IOMMU_HW_QUEUE_ALLOC): guest memory the
 * hardware reads directly, pinned by iommufd, which gives the driver its
 * physical address.  iommufd fills the fields and the two calls; a queue
 * that needs another one to stay (the kernel's iommufd_hw_queue_depend())
 * says so with depend(), and undepend() before it goes.
 */
struct sio_iommu_hw_queue {
	uint32_t type;
	uint32_t index;
	uint64_t base_addr; /* the nesting parent's IOVA */
	uint64_t length;
	int (*depend)(struct sio_iommu_hw_queue *q,
		      struct sio_iommu_hw_queue *prev);
	void (*undepend)(struct sio_iommu_hw_queue *q,
			 struct sio_iommu_hw_queue *prev);
};

struct sio_iommu_viommu_ops {
	/*
	 * IOMMU_VIOMMU_ALLOC's driver data (data_len not 0), right after
	 * viommu_alloc() with iommufd's calls set (the kernel passes it to
	 * viommu_init()); the driver may write its reply into it.  NULL: the
	 * data is not looked at.  An error fails the allocation, and
	 * destroy() follows.
	 */
	int (*init_data)(struct sio_iommu_viommu *v,
			 const struct sio_iommu_user_data *data);
	/*
	 * A nested domain over the vIOMMU's parent from the user's data
	 * (IOMMU_HWPT_ALLOC on a vIOMMU); @flags are SIO_DOMAIN_*.  -EOPNOTSUPP
	 * for flags, -EINVAL for data of another type or length, -EIO for data
	 * the hardware must not be given.
	 */
	int (*alloc_domain_nested)(struct sio_iommu_viommu *v,
				   unsigned int flags,
				   const struct sio_iommu_user_data *data,
				   struct sio_iommu_domain **out);
	/*
	 * IOMMU_HWPT_INVALIDATE on the vIOMMU: the guest's invalidation
	 * entries, carried out in order; @array->entry_num says back how
	 * many were.  0 or the errno of the first that was not.
	 */
	int (*cache_invalidate)(struct sio_iommu_viommu *v,
				struct sio_iommu_user_data_array *array);
	/*
	 * The user made a vEVENTQ: from now on the driver reports its
	 * events through report_event() (a model's tests may read raw
	 * events themselves until then).  NULL: nothing to do.
	 */
	int (*veventq_enable)(struct sio_iommu_viommu *v);
	/*
	 * HW queues (NULL: none, IOMMU_HW_QUEUE_ALLOC is EOPNOTSUPP):
	 * hw_queue_supported() for @type (the kernel's get_hw_queue_size()
	 * not 0); hw_queue_init() sets up @q at the physical @base_pa (the
	 * kernel's hw_queue_init_phys(): its errnos are the driver's);
	 * hw_queue_destroy() undoes it.
	 */
	bool (*hw_queue_supported)(struct sio_iommu_viommu *v, uint32_t type);
	int (*hw_queue_init)(struct sio_iommu_viommu *v,
			     struct sio_iommu_hw_queue *q, uint64_t base_pa);
	void (*hw_queue_destroy)(struct sio_iommu_viommu *v,
				 struct sio_iommu_hw_queue *q);
	void (*destroy)(struct sio_iommu_viommu *v);
};

/*
 * A virtual IOMMU instance a VMM presents to its guest, on a stage-2
 * (NEST_PARENT) domain: the driver's half of iommufd's vIOMMU object.
 */
struct sio_iommu_viommu {
	const struct sio_iommu_viommu_ops *ops;
	struct sio_iommu_dev *iommu;
	/*
	 * Set by iommufd: the virtual ID the user gave the device behind
	 * @sid on this vIOMMU (a vDEVICE), or -ENOENT without one; the
	 * kernel's iommufd_viommu_get_vdev_id().
	 */
	int (*get_vdev_id)(struct sio_iommu_viommu *v, uint32_t sid,
			   uint64_t *vdev_id);
	/*
	 * Set by iommufd: the StreamID of the device the user gave virtual
	 * ID @vdev_id on this vIOMMU, or -ENOENT (the kernel's lookup in
	 * the vIOMMU's vdevs).
	 */
	int (*vdev_to_sid)(struct sio_iommu_viommu *v, uint64_t vdev_id,
			   uint32_t *sid);
	/*
	 * Set by iommufd: hand an event of the vEVENTQ type @type to the
	 * user (the kernel's iommufd_viommu_report_event()); -EOPNOTSUPP
	 * if the user has no vEVENTQ of that type.
	 */
	int (*report_event)(struct sio_iommu_viommu *v, uint32_t type,
			    const void *data, size_t len);
	/*
	 * Set by iommufd: offer @len bytes (page-aligned) of the shared file
	 * @fd, from its start, to user space's mmap() of the iommufd at the
	 * offset returned in @offset (the kernel's
	 * iommufd_viommu_alloc_mmap()); while mapped, the vIOMMU cannot be
	 * destroyed.  destroy_mmap() withdraws it; the driver keeps @fd open
	 * until then.
	 */
	int (*alloc_mmap)(struct sio_iommu_viommu *v, int fd, uint64_t len,
			  uint64_t *offset);
	void (*destroy_mmap)(struct sio_iommu_viommu *v, uint64_t offset);
	void *core; /* iommufd's object, for the lookups */
};

/* A reserved IOVA region of a device (the kernel's iommu_resv_region). */
enum sio_resv_type {
	SIO_RESV_DIRECT,
	SIO_RESV_DIRECT_RELAXABLE,
	SIO_RESV_RESERVED,
	SIO_RESV_MSI,
	SIO_RESV_SW_MSI,
};

struct sio_resv_region {
	uint64_t start;
	uint64_t length;
	enum sio_resv_type type;
};

/*
 * What the PCI function behind a StreamID offers the IOMMU, as the
 * kernel's drivers read it from config space when they probe a device:
 * its PASID capability (Max PASID Width, 0 without one; the Execute and
 * Privileged Mode permissions it supports) and whether it has ATS.
 */
struct sio_iommu_pci_caps {
	unsigned int pasid_bits;
	bool pasid_exec, pasid_priv;
	bool ats;
};

/* Capabilities a driver reports (the kernel's IOMMU_CAP_*). */
#define SIO_IOMMU_CAP_DIRTY_TRACKING  (1u << 0)
#define SIO_IOMMU_CAP_CACHE_COHERENCY (1u << 1)

struct sio_iommu_ops {
	/* -EOPNOTSUPP for flags the hardware cannot honour. */
	int (*domain_alloc_paging)(struct sio_iommu_dev *iommu,
				   unsigned int flags,
				   struct sio_iommu_domain **out);
	/*
	 * A nested domain straight on the paging domain @parent (the
	 * kernel's domain_alloc_nested without a vIOMMU); NULL: -EOPNOTSUPP.
	 * -EINVAL for a parent that is not this IOMMU's, -EOPNOTSUPP for
	 * data of another type or flags.
	 */
	int (*domain_alloc_nested)(struct sio_iommu_dev *iommu,
				   struct sio_iommu_domain *parent,
				   unsigned int flags,
				   const struct sio_iommu_user_data *data,
				   struct sio_iommu_domain **out);
	/*
	 * A paging domain from driver data (IOMMU_HWPT_ALLOC on an IOAS with
	 * a data type, the kernel's domain_alloc_paging_flags() given
	 * user_data); NULL: -EOPNOTSUPP, as drivers that take none answer.
	 */
	int (*domain_alloc_paging_data)(struct sio_iommu_dev *iommu,
					unsigned int flags,
					const struct sio_iommu_user_data *data,
					struct sio_iommu_domain **out);
	/* Point the device's StreamID at @d (replacing what it had). */
	int (*attach_dev)(struct sio_iommu_domain *d, uint32_t sid);
	/* Block all DMA of the StreamID (the kernel's blocked domain). */
	int (*block_dev)(struct sio_iommu_dev *iommu, uint32_t sid);
	/*
	 * PASIDs (NULL: the IOMMU has none).  probe_device(): the device
	 * behind @sid has @caps; returns how many PASID bits it may use
	 * behind this IOMMU (the kernel's dev->iommu->max_pasids as a
	 * log2; 0: none), which iommufd enforces.  block_dev_pasid(): the
	 * PASID leaves @old and blocks (the blocked domain's
	 * set_dev_pasid), its cached translations gone when it returns.
	 */
	unsigned int (*probe_device)(struct sio_iommu_dev *iommu, uint32_t sid,
				     const struct sio_iommu_pci_caps *caps);
	int (*block_dev_pasid)(struct sio_iommu_dev *iommu, uint32_t sid,
			       uint32_t pasid, struct sio_iommu_domain *old);
	/*
	 * The hardware-info blob (IOMMU_GET_HW_INFO): its type, and up to
	 * @len bytes of it in @data; returns the blob's full length.
	 */
	size_t (*hw_info)(struct sio_iommu_dev *iommu, void *data, size_t len,
			  uint32_t *type);
	/*
	 * The reserved regions of the device behind @sid: up to @max of
	 * them into @out; returns how many there are.
	 */
	int (*get_resv_regions)(struct sio_iommu_dev *iommu, uint32_t sid,
				struct sio_resv_region *out, int max);
	/* SIO_IOMMU_CAP_* the hardware offers for @sid. */
	unsigned int (*capabilities)(struct sio_iommu_dev *iommu, uint32_t sid);
	/* Answer an I/O page fault of the device behind @sid. */
	void (*page_response)(struct sio_iommu_dev *iommu, uint32_t sid,
			      const struct sio_iopf_fault *fault,
			      enum sio_iopf_resp code);
	/*
	 * vIOMMUs (NULL: none).  viommu_supported(): whether the device
	 * behind @sid can have a vIOMMU of @type (the kernel's
	 * get_viommu_size() returning 0 or not).  viommu_alloc(): one on
	 * the stage-2 domain @parent, -EINVAL if @parent is another
	 * IOMMU's.
	 */
	bool (*viommu_supported)(struct sio_iommu_dev *iommu, uint32_t sid,
				 uint32_t type);
	int (*viommu_alloc)(struct sio_iommu_dev *iommu,
			    struct sio_iommu_domain *parent, uint32_t type,
			    struct sio_iommu_viommu **out);
	void (*remove)(struct sio_iommu_dev *iommu);
};

struct sio_iommu_dev {
	const struct sio_iommu_ops *ops;
};

#endif /* SIO_DRIVERS_IOMMU_DRIVER_H */
