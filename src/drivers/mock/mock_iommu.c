// SPDX-License-Identifier: MIT
/*
 * The selftest mock IOMMU: the hardware half of the kernel's
 * drivers/iommu/iommufd/selftest.c.  A paging domain is a two-level
 * table of 2 KiB entries over the aperture, each entry the output
 * address it was mapped to plus the marks the kernel's mock keeps (first
 * and last page of a map call, dirty); a nested domain is four IOTLB
 * words the user's invalidations clear.  Attach has nothing to program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "mock_iommu.h"

/* PASIDs a mock device can have attached at once. */
#define MOCK_DEV_PASIDS 16

/* Mock StreamIDs start here, clear of the platform's PCI requester IDs. */
#define MOCK_SID_BASE 0x10000u

#define MOCK_LEAF_SHIFT 10
#define MOCK_LEAF_NUM	(1u << MOCK_LEAF_SHIFT)
#define MOCK_NR_PAGES	((MOCK_APERTURE_LAST + 1) / MOCK_IO_PAGE_SIZE)
#define MOCK_NR_LEAVES	(MOCK_NR_PAGES / MOCK_LEAF_NUM)

enum {
	MOCK_ENT_VALID = 1 << 0,
	MOCK_ENT_START = 1 << 1, /* first page of a map() call */
	MOCK_ENT_LAST = 1 << 2,	 /* last page of a map() call */
	MOCK_ENT_DIRTY = 1 << 3,
	MOCK_ENT_HUGE = 1 << 4, /* part of one 1 MiB leaf */
};

#define MOCK_HUGE_ENTS (MOCK_HUGE_PAGE_SIZE / MOCK_IO_PAGE_SIZE)

/*
 * struct iommu_hwpt_selftest: a nested domain's first IOTLB value, or a
 * paging domain's format; its first version ends at iotlb.
 */
struct mock_hwpt_selftest {
	uint32_t iotlb;
	uint32_t pagetable_type;
};

struct mock_ent {
	uint64_t pa;
	uint8_t flags;
};

struct mock_viommu;

struct mock_dev {
	bool used;
	uint32_t flags;
	/* the vIOMMU of the nested domain it is attached to, and its vID */
	struct mock_viommu *viommu;
	uint64_t vdev_id;
	/* where its transactions go now (NULL: blocked), for faults */
	struct sio_iommu_domain *domain;
	/* its PASIDs' domains (a few: the selftests use four at most) */
	struct mock_pasid {
		uint32_t pasid;
		struct sio_iommu_domain *domain;
	} pasids[MOCK_DEV_PASIDS];
	/* the kernel mock's staged failure of PASID 1024's next change */
	bool pasid_1024_fake_error;
	uint32_t cache[MOCK_DEV_CACHE_NUM]; /* what vIOMMU invalidation clears
					     */
};

struct mock_iommu {
	struct sio_iommu_dev iommu;
	pthread_mutex_t lock; /* devs */
	struct mock_dev *devs;
	uint32_t nr_devs;
};

struct mock_domain {
	struct sio_iommu_domain domain;
	pthread_mutex_t lock;
	bool dirty_tracking;
	bool huge; /* maps aligned 1 MiB runs as one leaf (MOCK_IOMMUPT_HUGE) */
	struct mock_ent *leaves[MOCK_NR_LEAVES];
};

/* A mock vIOMMU (IOMMU_VIOMMU_TYPE_SELFTEST) on a mock stage-2 domain. */
struct mock_viommu {
	struct sio_iommu_viommu v;
	struct mock_iommu *m;
	struct sio_iommu_domain *parent;
	pthread_mutex_t queue_lock;
	struct sio_iommu_hw_queue *hw_queue[MOCK_HW_QUEUE_MAX];
	/*
	 * With driver data: the two pages user space may mmap() on the
	 * iommufd at mmap_offset (0: none), a memfd whose first word is
	 * the data's in_data, for the loopback test.
	 */
	int page_fd;
	uint64_t mmap_offset;
};

struct mock_domain_nested {
	struct sio_iommu_domain domain;
	struct mock_domain *parent;
	struct mock_viommu *viommu; /* NULL: made straight on the parent */
	pthread_mutex_t lock;
	uint32_t iotlb[MOCK_NESTED_IOTLB_NUM];
};

static const struct sio_iommu_domain_ops mock_domain_ops;
static const struct sio_iommu_domain_ops mock_dirty_domain_ops;
static const struct sio_iommu_domain_ops mock_nested_ops;

static struct mock_iommu *to_mock(struct sio_iommu_dev *iommu)
{
	return (struct mock_iommu *)iommu;
}

static struct mock_domain *to_mock_domain(struct sio_iommu_domain *d)
{
	return (struct mock_domain *)d;
}

bool mock_domain_is_paging(const struct sio_iommu_domain *d)
{
	return d &&
	       (d->ops == &mock_domain_ops || d->ops == &mock_dirty_domain_ops);
}

bool mock_domain_is_nested(const struct sio_iommu_domain *d)
{
	return d && d->ops == &mock_nested_ops;
}

/* ------------------------------------------------------------- devices */

static struct mock_dev *find_dev(struct mock_iommu *m, uint32_t sid)
{
	uint32_t i = sid - MOCK_SID_BASE;

	if (sid < MOCK_SID_BASE || i >= m->nr_devs || !m->devs[i].used)
		return NULL;
	return &m->devs[i];
}

/* The device's flags; 0 for a StreamID that is not a mock device's. */
static uint32_t dev_flags(struct mock_iommu *m, uint32_t sid)
{
	struct mock_dev *md;
	uint32_t flags = 0;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md)
		flags = md->flags;
	pthread_mutex_unlock(&m->lock);
	return flags;
}

int mock_dev_add(struct mock_iommu *m, uint32_t flags, uint32_t *sid)
{
	const uint32_t valid = MOCK_DEV_NO_DIRTY | MOCK_DEV_PASID;
	uint32_t i;

	if (flags & ~valid)
		return -EINVAL;
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nr_devs && m->devs[i].used; i++)
		;
	if (i == m->nr_devs) {
		uint32_t n = m->nr_devs ? 2 * m->nr_devs : 8;
		struct mock_dev *devs = sio_realloc(m->devs, n * sizeof(*devs));

		if (!devs) {
			pthread_mutex_unlock(&m->lock);
			return -ENOMEM;
		}
		memset(devs + m->nr_devs, 0, (n - m->nr_devs) * sizeof(*devs));
		m->devs = devs;
		m->nr_devs = n;
	}
	m->devs[i] = (struct mock_dev){.used = true, .flags = flags};
	for (int c = 0; c < MOCK_DEV_CACHE_NUM; c++)
		m->devs[i].cache[c] = MOCK_DEV_CACHE_DEFAULT;
	pthread_mutex_unlock(&m->lock);
	*sid = MOCK_SID_BASE + i;
	return 0;
}

void mock_dev_remove(struct mock_iommu *m, uint32_t sid)
{
	struct mock_dev *md;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md)
		md->used = false;
	pthread_mutex_unlock(&m->lock);
}

int mock_dev_cache(struct mock_iommu *m, uint32_t sid, uint32_t idx,
		   uint32_t *val)
{
	struct mock_dev *md;
	int rc = -EINVAL;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md && idx < MOCK_DEV_CACHE_NUM) {
		*val = md->cache[idx];
		rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Clear entry @idx of the device's cache, or all of them with @all. */
static int mock_dev_cache_clear(struct mock_iommu *m, uint32_t sid,
				uint32_t idx, bool all)
{
	struct mock_dev *md;
	int rc = -EINVAL;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md) {
		if (all)
			memset(md->cache, 0, sizeof(md->cache));
		else
			md->cache[idx] = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ------------------------------------------------------- paging domains */

/* The entry of @iova, allocating its leaf when @alloc; NULL if none. */
static struct mock_ent *ent_of(struct mock_domain *md, uint64_t iova,
			       bool alloc)
{
	uint64_t idx = iova / MOCK_IO_PAGE_SIZE;
	struct mock_ent **leaf;

	if (iova > MOCK_APERTURE_LAST)
		return NULL;
	leaf = &md->leaves[idx >> MOCK_LEAF_SHIFT];
	if (!*leaf && alloc)
		*leaf = sio_calloc(MOCK_LEAF_NUM, sizeof(**leaf));
	if (!*leaf)
		return NULL;
	return &(*leaf)[idx & (MOCK_LEAF_NUM - 1)];
}

static bool range_ok(uint64_t iova, uint64_t size)
{
	return size && !(iova % MOCK_IO_PAGE_SIZE) &&
	       !(size % MOCK_IO_PAGE_SIZE) && iova >= MOCK_APERTURE_START &&
	       iova + size - 1 >= iova && iova + size - 1 <= MOCK_APERTURE_LAST;
}

static void clear_range(struct mock_domain *md, uint64_t iova, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += MOCK_IO_PAGE_SIZE) {
		struct mock_ent *e = ent_of(md, iova + off, false);

		if (e)
			*e = (struct mock_ent){0};
	}
}

static int mock_map(struct sio_iommu_domain *d, uint64_t iova, uint64_t pa,
		    uint64_t size, int prot)
{
	struct mock_domain *md = to_mock_domain(d);
	uint64_t off, huge_left = 0;
	int rc = 0;

	(void)prot;
	/* the kernel's mock has a fault point of its own here (ENOENT) */
	if (sio_should_fail())
		return -ENOENT;
	if (!range_ok(iova, size) || pa % MOCK_IO_PAGE_SIZE)
		return -EINVAL;
	pthread_mutex_lock(&md->lock);
	for (off = 0; off < size; off += MOCK_IO_PAGE_SIZE) {
		struct mock_ent *e = ent_of(md, iova + off, true);

		if (!e) {
			rc = -ENOMEM;
			break;
		}
		/* iommufd never maps over a mapping: the kernel's WARN */
		if (e->flags & MOCK_ENT_VALID) {
			rc = -EEXIST;
			break;
		}
		/* a huge-page format keeps an aligned 1 MiB run as one leaf */
		if (md->huge && !((iova + off) % MOCK_HUGE_PAGE_SIZE) &&
		    !((pa + off) % MOCK_HUGE_PAGE_SIZE) &&
		    size - off >= MOCK_HUGE_PAGE_SIZE)
			huge_left = MOCK_HUGE_ENTS;
		e->pa = pa + off;
		e->flags = MOCK_ENT_VALID;
		if (huge_left) {
			e->flags |= MOCK_ENT_HUGE;
			huge_left--;
		}
		if (!off)
			e->flags |= MOCK_ENT_START;
		if (off + MOCK_IO_PAGE_SIZE == size)
			e->flags |= MOCK_ENT_LAST;
	}
	if (rc)
		clear_range(md, iova, off);
	pthread_mutex_unlock(&md->lock);
	return rc;
}

static int mock_unmap(struct sio_iommu_domain *d, uint64_t iova, uint64_t size,
		      uint64_t *unmapped)
{
	struct mock_domain *md = to_mock_domain(d);

	if (!range_ok(iova, size))
		return -EINVAL;
	pthread_mutex_lock(&md->lock);
	clear_range(md, iova, size);
	pthread_mutex_unlock(&md->lock);
	if (unmapped)
		*unmapped = size;
	return 0;
}

int mock_domain_lookup(struct sio_iommu_domain *d, uint64_t iova, uint64_t *pa)
{
	struct mock_domain *md = to_mock_domain(d);
	struct mock_ent *e;
	int rc = -ENOENT;

	pthread_mutex_lock(&md->lock);
	e = ent_of(md, iova & ~(MOCK_IO_PAGE_SIZE - 1), false);
	if (e && (e->flags & MOCK_ENT_VALID)) {
		*pa = e->pa + (iova & (MOCK_IO_PAGE_SIZE - 1));
		rc = 0;
	}
	pthread_mutex_unlock(&md->lock);
	return rc;
}

static int mock_iova_to_phys(struct sio_iommu_domain *d, uint64_t iova,
			     uint64_t *pa)
{
	return mock_domain_lookup(d, iova, pa);
}

static void mock_domain_free(struct sio_iommu_domain *d)
{
	struct mock_domain *md = to_mock_domain(d);

	for (size_t i = 0; i < MOCK_NR_LEAVES; i++)
		free(md->leaves[i]);
	pthread_mutex_destroy(&md->lock);
	free(md);
}

static int mock_set_dirty_tracking(struct sio_iommu_domain *d, bool enable)
{
	struct mock_domain *md = to_mock_domain(d);

	pthread_mutex_lock(&md->lock);
	md->dirty_tracking = enable;
	pthread_mutex_unlock(&md->lock);
	return 0;
}

bool mock_domain_dirty_tracking(struct sio_iommu_domain *d)
{
	struct mock_domain *md = to_mock_domain(d);
	bool on;

	pthread_mutex_lock(&md->lock);
	on = md->dirty_tracking;
	pthread_mutex_unlock(&md->lock);
	return on;
}

int mock_domain_set_dirty(struct sio_iommu_domain *d, uint64_t iova)
{
	struct mock_domain *md = to_mock_domain(d);
	struct mock_ent *e;
	int rc = -ENOENT;

	pthread_mutex_lock(&md->lock);
	e = ent_of(md, iova & ~(MOCK_IO_PAGE_SIZE - 1), false);
	if (e && (e->flags & MOCK_ENT_VALID)) {
		e->flags |= MOCK_ENT_DIRTY;
		rc = 0;
	}
	/* a write marks the whole leaf, as a huge PTE has one dirty bit */
	if (!rc && (e->flags & MOCK_ENT_HUGE)) {
		uint64_t head = iova & ~(MOCK_HUGE_PAGE_SIZE - 1);

		for (uint64_t i = 0; i < MOCK_HUGE_ENTS; i++) {
			e = ent_of(md, head + i * MOCK_IO_PAGE_SIZE, false);
			if (e && (e->flags & MOCK_ENT_HUGE))
				e->flags |= MOCK_ENT_DIRTY;
		}
	}
	pthread_mutex_unlock(&md->lock);
	return rc;
}

static void bitmap_record(const struct sio_dirty_bitmap *bm, uint64_t iova)
{
	uint64_t bit = (iova - bm->iova) / bm->pgsize;

	bm->bits[bit / 64] |= 1ull << (bit % 64);
}

/*
 * Record each dirty mock page of the range at the bitmap's page size and,
 * unless asked not to, clean it.  Reading without tracking on is refused
 * as the kernel's mock refuses it.
 */
static int mock_read_and_clear_dirty(struct sio_iommu_domain *d,
				     const struct sio_dirty_bitmap *bm,
				     unsigned int flags)
{
	struct mock_domain *md = to_mock_domain(d);
	uint64_t iova = bm->iova & ~(MOCK_IO_PAGE_SIZE - 1);
	uint64_t end = bm->iova + bm->length;
	int rc = 0;

	pthread_mutex_lock(&md->lock);
	if (!md->dirty_tracking && bm->bits) {
		rc = -EINVAL;
		goto out;
	}
	for (; iova < end; iova += MOCK_IO_PAGE_SIZE) {
		struct mock_ent *e = ent_of(md, iova, false);

		if (!e || !(e->flags & MOCK_ENT_DIRTY))
			continue;
		if (bm->bits)
			bitmap_record(bm, iova < bm->iova ? bm->iova : iova);
		if (!(flags & SIO_DIRTY_NO_CLEAR))
			e->flags &= (uint8_t)~MOCK_ENT_DIRTY;
	}
out:
	pthread_mutex_unlock(&md->lock);
	return rc;
}

static int mock_set_dev_pasid(struct sio_iommu_domain *d, uint32_t sid,
			      uint32_t pasid, struct sio_iommu_domain *old);

static const struct sio_iommu_domain_ops mock_domain_ops = {
	.set_dev_pasid = mock_set_dev_pasid,
	.map = mock_map,
	.unmap = mock_unmap,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
};

static const struct sio_iommu_domain_ops mock_dirty_domain_ops = {
	.set_dev_pasid = mock_set_dev_pasid,
	.map = mock_map,
	.unmap = mock_unmap,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
};

static int domain_alloc(struct sio_iommu_dev *iommu, unsigned int flags,
			bool huge, struct sio_iommu_domain **out)
{
	const unsigned int valid = SIO_DOMAIN_NEST_PARENT |
				   SIO_DOMAIN_DIRTY_TRACKING | SIO_DOMAIN_PASID;
	struct mock_domain *md;

	if (flags & ~valid)
		return -EOPNOTSUPP;
	md = sio_calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	pthread_mutex_init(&md->lock, NULL);
	md->domain.ops = (flags & SIO_DOMAIN_DIRTY_TRACKING)
				 ? &mock_dirty_domain_ops
				 : &mock_domain_ops;
	md->domain.iommu = iommu;
	md->domain.pgsize_bitmap = MOCK_IO_PAGE_SIZE;
	md->huge = huge;
	if (huge)
		md->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
	md->domain.aperture_start = MOCK_APERTURE_START;
	md->domain.aperture_last = MOCK_APERTURE_LAST;
	md->domain.flags = flags;
	md->domain.type = SIO_DOMAIN_PAGING;
	*out = &md->domain;
	return 0;
}

static int mock_domain_alloc_paging(struct sio_iommu_dev *iommu,
				    unsigned int flags,
				    struct sio_iommu_domain **out)
{
	return domain_alloc(iommu, flags, false, out);
}

static int mock_domain_alloc_paging_data(struct sio_iommu_dev *iommu,
					 unsigned int flags,
					 const struct sio_iommu_user_data *data,
					 struct sio_iommu_domain **out)
{
	struct mock_hwpt_selftest cfg = {0};
	int rc;

	/* the first version of the struct ends at iotlb */
	rc = sio_iommu_copy_struct_from_user(&cfg, sizeof(cfg),
					     sizeof(cfg.iotlb), data,
					     MOCK_HWPT_DATA_SELFTEST);
	if (rc)
		return rc;
	switch (cfg.pagetable_type) {
	case MOCK_IOMMUPT_DEFAULT:
		return domain_alloc(iommu, flags, false, out);
	case MOCK_IOMMUPT_HUGE:
		return domain_alloc(iommu, flags, true, out);
	default:
		return -EOPNOTSUPP;
	}
}

/* ------------------------------------------------------- nested domains */

static void mock_nested_free(struct sio_iommu_domain *d)
{
	struct mock_domain_nested *mn = (struct mock_domain_nested *)d;

	pthread_mutex_destroy(&mn->lock);
	free(mn);
}

/* One invalidation entry: all four IOTLB words, or the one named. */
struct mock_inv {
	uint32_t flags;
	uint32_t iotlb_id;
};

static int mock_nested_invalidate(struct sio_iommu_domain *d,
				  struct sio_iommu_user_data_array *array)
{
	struct mock_domain_nested *mn = (struct mock_domain_nested *)d;
	uint32_t done = 0;
	int rc = 0;

	if (array->type != MOCK_HWPT_INVALIDATE_DATA_SELFTEST) {
		rc = -EINVAL;
		goto out;
	}
	for (uint32_t i = 0; i < array->entry_num; i++) {
		/* one entry as iommu_copy_struct_from_user_array() takes it */
		const struct sio_iommu_user_data ud = {
			.type = array->type,
			.uptr = array->uptr + (uint64_t)array->entry_len * i,
			.len = array->entry_len,
			.copy_in = array->copy_in,
		};
		struct mock_inv inv;

		rc = sio_iommu_copy_struct_from_user(
			&inv, sizeof(inv), sizeof(inv), &ud,
			MOCK_HWPT_INVALIDATE_DATA_SELFTEST);
		if (rc)
			break;
		if (inv.flags & ~MOCK_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (inv.iotlb_id >= MOCK_NESTED_IOTLB_NUM) {
			rc = -EINVAL;
			break;
		}
		pthread_mutex_lock(&mn->lock);
		if (inv.flags & MOCK_INVALIDATE_FLAG_ALL)
			memset(mn->iotlb, 0, sizeof(mn->iotlb));
		else
			mn->iotlb[inv.iotlb_id] = 0;
		pthread_mutex_unlock(&mn->lock);
		done++;
	}
out:
	array->entry_num = done;
	return rc;
}

/* Remember which vIOMMU (and virtual ID) the device now sits behind. */
static void dev_set_domain(struct mock_iommu *m, uint32_t sid,
			   struct sio_iommu_domain *d, struct mock_viommu *mv,
			   uint64_t vdev_id)
{
	struct mock_dev *md;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md) {
		md->domain = d;
		md->viommu = mv;
		md->vdev_id = vdev_id;
	}
	pthread_mutex_unlock(&m->lock);
}

/*
 * A nested domain of a vIOMMU needs the device's virtual ID there (a
 * vDEVICE), as the kernel's mock insists: -ENOENT without one.
 */
static int mock_nested_attach(struct sio_iommu_domain *d, uint32_t sid)
{
	struct mock_domain_nested *mn = (struct mock_domain_nested *)d;
	uint64_t vdev_id = 0;

	if (mn->viommu) {
		int rc = mn->viommu->v.get_vdev_id(&mn->viommu->v, sid,
						   &vdev_id);

		if (rc)
			return rc;
	}
	dev_set_domain(to_mock(d->iommu), sid, d, mn->viommu, vdev_id);
	return 0;
}

static const struct sio_iommu_domain_ops mock_nested_ops = {
	.set_dev_pasid = mock_set_dev_pasid,
	.free = mock_nested_free,
	.attach_dev = mock_nested_attach,
	.cache_invalidate_user = mock_nested_invalidate,
};

int mock_nested_iotlb(struct sio_iommu_domain *d, uint32_t idx, uint32_t *val)
{
	struct mock_domain_nested *mn = (struct mock_domain_nested *)d;

	if (idx >= MOCK_NESTED_IOTLB_NUM)
		return -EINVAL;
	pthread_mutex_lock(&mn->lock);
	*val = mn->iotlb[idx];
	pthread_mutex_unlock(&mn->lock);
	return 0;
}

/* A nested domain over @parent, its IOTLB words from the user's data. */
static int nested_alloc(struct sio_iommu_dev *iommu,
			struct sio_iommu_domain *parent, struct mock_viommu *mv,
			const struct sio_iommu_user_data *data,
			struct sio_iommu_domain **out)
{
	struct mock_hwpt_selftest cfg;
	struct mock_domain_nested *mn;
	int rc;

	rc = sio_iommu_copy_struct_from_user(&cfg, sizeof(cfg),
					     sizeof(cfg.iotlb), data,
					     MOCK_HWPT_DATA_SELFTEST);
	if (rc)
		return rc;
	mn = sio_calloc(1, sizeof(*mn));
	if (!mn)
		return -ENOMEM;
	pthread_mutex_init(&mn->lock, NULL);
	mn->parent = to_mock_domain(parent);
	mn->viommu = mv;
	mn->domain.ops = &mock_nested_ops;
	mn->domain.iommu = iommu;
	mn->domain.type = SIO_DOMAIN_NESTED;
	for (int i = 0; i < MOCK_NESTED_IOTLB_NUM; i++)
		mn->iotlb[i] = cfg.iotlb;
	*out = &mn->domain;
	return 0;
}

static int mock_domain_alloc_nested(struct sio_iommu_dev *iommu,
				    struct sio_iommu_domain *parent,
				    unsigned int flags,
				    const struct sio_iommu_user_data *data,
				    struct sio_iommu_domain **out)
{
	if (data->type != MOCK_HWPT_DATA_SELFTEST ||
	    (flags & ~SIO_DOMAIN_PASID))
		return -EOPNOTSUPP;
	if (!mock_domain_is_paging(parent))
		return -EINVAL;
	return nested_alloc(iommu, parent, NULL, data, out);
}

/* ------------------------------------------------------------- vIOMMU */

static int mock_viommu_alloc_nested(struct sio_iommu_viommu *v,
				    unsigned int flags,
				    const struct sio_iommu_user_data *data,
				    struct sio_iommu_domain **out)
{
	struct mock_viommu *mv = (struct mock_viommu *)v;

	if (flags & ~SIO_DOMAIN_PASID)
		return -EOPNOTSUPP;
	if (data->type != MOCK_HWPT_DATA_SELFTEST)
		return -EOPNOTSUPP;
	return nested_alloc(v->iommu, mv->parent, mv, data, out);
}

/* struct iommu_viommu_invalidate_selftest */
struct mock_viommu_inv {
	uint32_t flags;
	uint32_t vdev_id;
	uint32_t cache_id;
};

/* One entry: the device's cache entry, or all of it, by virtual ID. */
static int viommu_inv_one(struct mock_viommu *mv,
			  const struct mock_viommu_inv *inv)
{
	uint32_t sid;

	if (inv->flags & ~MOCK_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (inv->cache_id >= MOCK_DEV_CACHE_NUM)
		return -EINVAL;
	if (mv->v.vdev_to_sid(&mv->v, inv->vdev_id, &sid))
		return -EINVAL;
	return mock_dev_cache_clear(mv->m, sid, inv->cache_id,
				    inv->flags & MOCK_INVALIDATE_FLAG_ALL);
}

static int mock_viommu_invalidate(struct sio_iommu_viommu *v,
				  struct sio_iommu_user_data_array *array)
{
	struct mock_viommu *mv = (struct mock_viommu *)v;
	struct mock_viommu_inv *invs;
	uint32_t done = 0;
	int rc;

	if (!array->entry_num)
		return array->type == MOCK_VIOMMU_INVALIDATE_DATA_SELFTEST
			       ? 0
			       : -EINVAL;
	invs = sio_calloc(array->entry_num, sizeof(*invs));
	if (!invs) {
		array->entry_num = 0;
		return -ENOMEM;
	}
	rc = sio_iommu_copy_full_user_array(
		invs, sizeof(*invs), array,
		MOCK_VIOMMU_INVALIDATE_DATA_SELFTEST);
	for (; !rc && done < array->entry_num; done++) {
		rc = viommu_inv_one(mv, &invs[done]);
		if (rc)
			break;
	}
	free(invs);
	array->entry_num = done;
	return rc;
}

static void mock_viommu_destroy(struct sio_iommu_viommu *v)
{
	struct mock_viommu *mv = (struct mock_viommu *)v;

	if (mv->mmap_offset)
		v->destroy_mmap(v, mv->mmap_offset);
	if (mv->page_fd >= 0)
		close(mv->page_fd);
	pthread_mutex_destroy(&mv->queue_lock);
	free(mv);
}

static bool mock_hw_queue_supported(struct sio_iommu_viommu *v, uint32_t type)
{
	(void)v;
	return type == MOCK_HW_QUEUE_TYPE_SELFTEST;
}

/*
 * The kernel mock's hw_queue_init_phys(): queues from index 0 upwards
 * (EINVAL past the last, EEXIST taken, EIO without the one before, which
 * each queue depends on), and the physical address must be the parent's
 * translation of the queue's IOVA (EFAULT: the core got it wrong).
 */
static int mock_hw_queue_init(struct sio_iommu_viommu *v,
			      struct sio_iommu_hw_queue *q, uint64_t base_pa)
{
	struct mock_viommu *mv = (struct mock_viommu *)v;
	struct sio_iommu_hw_queue *prev = NULL;
	uint64_t pa;
	int rc = 0;

	if (q->index >= MOCK_HW_QUEUE_MAX)
		return -EINVAL;
	pthread_mutex_lock(&mv->queue_lock);
	if (mv->hw_queue[q->index]) {
		rc = -EEXIST;
		goto out;
	}
	if (q->index) {
		prev = mv->hw_queue[q->index - 1];
		if (!prev) {
			rc = -EIO;
			goto out;
		}
	}
	if (mock_domain_lookup(mv->parent, q->base_addr, &pa) ||
	    pa != base_pa) {
		rc = -EFAULT;
		goto out;
	}
	if (prev) {
		rc = q->depend(q, prev);
		if (rc)
			goto out;
	}
	mv->hw_queue[q->index] = q;
out:
	pthread_mutex_unlock(&mv->queue_lock);
	return rc;
}

static void mock_hw_queue_destroy(struct sio_iommu_viommu *v,
				  struct sio_iommu_hw_queue *q)
{
	struct mock_viommu *mv = (struct mock_viommu *)v;

	pthread_mutex_lock(&mv->queue_lock);
	mv->hw_queue[q->index] = NULL;
	if (q->index)
		q->undepend(q, mv->hw_queue[q->index - 1]);
	pthread_mutex_unlock(&mv->queue_lock);
}

/* struct iommu_viommu_selftest */
struct mock_viommu_data {
	uint32_t in_data;
	uint32_t out_data;
	uint64_t out_mmap_offset;
	uint64_t out_mmap_length;
};

/*
 * The kernel mock's driver data: in_data comes back as out_data and as
 * the first word of two zeroed pages user space may mmap() at
 * out_mmap_offset of the iommufd (out_mmap_length long).
 */
static int mock_viommu_init_data(struct sio_iommu_viommu *v,
				 const struct sio_iommu_user_data *data)
{
	const size_t min_len =
		offsetof(struct mock_viommu_data, out_data) + sizeof(uint32_t);
	struct mock_viommu *mv = (struct mock_viommu *)v;
	uint64_t len = 2 * (uint64_t)sysconf(_SC_PAGESIZE);
	struct mock_viommu_data d;
	int rc;

	rc = sio_iommu_copy_struct_from_user(&d, sizeof(d), min_len, data,
					     MOCK_VIOMMU_TYPE_SELFTEST);
	if (rc)
		return rc;
	mv->page_fd = memfd_create("iommufd-viommu-selftest", MFD_CLOEXEC);
	if (mv->page_fd < 0)
		return -ENOMEM;
	if (ftruncate(mv->page_fd, (off_t)len) ||
	    pwrite(mv->page_fd, &d.in_data, sizeof(d.in_data), 0) !=
		    sizeof(d.in_data))
		return -ENOMEM;
	rc = v->alloc_mmap(v, mv->page_fd, len, &mv->mmap_offset);
	if (rc)
		return rc;
	d.out_data = d.in_data;
	d.out_mmap_offset = mv->mmap_offset;
	d.out_mmap_length = len;
	/* destroy() withdraws the page if this fails */
	return sio_iommu_copy_struct_to_user(data, &d, sizeof(d), min_len,
					     MOCK_VIOMMU_TYPE_SELFTEST);
}

static const struct sio_iommu_viommu_ops mock_viommu_ops = {
	.init_data = mock_viommu_init_data,
	.alloc_domain_nested = mock_viommu_alloc_nested,
	.cache_invalidate = mock_viommu_invalidate,
	.hw_queue_supported = mock_hw_queue_supported,
	.hw_queue_init = mock_hw_queue_init,
	.hw_queue_destroy = mock_hw_queue_destroy,
	.destroy = mock_viommu_destroy,
};

static bool mock_viommu_supported(struct sio_iommu_dev *iommu, uint32_t sid,
				  uint32_t type)
{
	(void)iommu;
	(void)sid;
	return type == MOCK_VIOMMU_TYPE_SELFTEST;
}

static int mock_viommu_alloc(struct sio_iommu_dev *iommu,
			     struct sio_iommu_domain *parent, uint32_t type,
			     struct sio_iommu_viommu **out)
{
	struct mock_viommu *mv;

	if (type != MOCK_VIOMMU_TYPE_SELFTEST)
		return -EOPNOTSUPP;
	if (!mock_domain_is_paging(parent) || parent->iommu != iommu)
		return -EINVAL;
	mv = sio_calloc(1, sizeof(*mv));
	if (!mv)
		return -ENOMEM;
	pthread_mutex_init(&mv->queue_lock, NULL);
	mv->page_fd = -1;
	mv->v.ops = &mock_viommu_ops;
	mv->v.iommu = iommu;
	mv->m = to_mock(iommu);
	mv->parent = parent;
	*out = &mv->v;
	return 0;
}

int mock_dev_trigger_vevent(struct mock_iommu *m, uint32_t sid)
{
	struct mock_dev *md;
	uint32_t virt_id;
	int rc = -ENOENT;

	/* under the lock, as a fault: the vIOMMU stays while we report */
	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md && md->viommu) {
		/* struct iommu_viommu_event_selftest: the virtual ID */
		virt_id = (uint32_t)md->vdev_id;
		rc = md->viommu->v.report_event(&md->viommu->v,
						MOCK_VEVENTQ_TYPE_SELFTEST,
						&virt_id, sizeof(virt_id));
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* ----------------------------------------------------------- iommu ops */

static int mock_attach_dev(struct sio_iommu_domain *d, uint32_t sid)
{
	/* a dirty-tracking domain needs a device that can track */
	if (d->ops == &mock_dirty_domain_ops &&
	    (dev_flags(to_mock(d->iommu), sid) & MOCK_DEV_NO_DIRTY))
		return -EINVAL;
	dev_set_domain(to_mock(d->iommu), sid, d, NULL, 0);
	return 0;
}

static int mock_block_dev(struct sio_iommu_dev *iommu, uint32_t sid)
{
	dev_set_domain(to_mock(iommu), sid, NULL, NULL, 0);
	return 0;
}

/* struct iommu_test_hw_info */
struct mock_hw_info {
	uint32_t flags;
	uint32_t test_reg;
};

static size_t mock_hw_info(struct sio_iommu_dev *iommu, void *data, size_t len,
			   uint32_t *type)
{
	struct mock_hw_info info = {.test_reg = MOCK_HW_INFO_REGVAL};

	(void)iommu;
	*type = MOCK_HW_INFO_TYPE_SELFTEST;
	memcpy(data, &info, len < sizeof(info) ? len : sizeof(info));
	return sizeof(info);
}

static int mock_get_resv_regions(struct sio_iommu_dev *iommu, uint32_t sid,
				 struct sio_resv_region *out, int max)
{
	(void)iommu;
	(void)sid;
	(void)out;
	(void)max;
	return 0;
}

static unsigned int mock_capabilities(struct sio_iommu_dev *iommu, uint32_t sid)
{
	unsigned int caps = SIO_IOMMU_CAP_CACHE_COHERENCY;

	if (!(dev_flags(to_mock(iommu), sid) & MOCK_DEV_NO_DIRTY))
		caps |= SIO_IOMMU_CAP_DIRTY_TRACKING;
	return caps;
}

unsigned int mock_dev_pasid_bits(struct mock_iommu *m, uint32_t sid)
{
	/* the kernel's mock: a "pasid-num-bits" property on PASID devices */
	return (dev_flags(m, sid) & MOCK_DEV_PASID) ? MOCK_PASID_WIDTH : 0;
}

static unsigned int mock_probe_device(struct sio_iommu_dev *iommu, uint32_t sid,
				      const struct sio_iommu_pci_caps *caps)
{
	unsigned int bits = mock_dev_pasid_bits(to_mock(iommu), sid);

	/* a narrower capability than the mock's is what the device can use */
	return caps->pasid_bits < bits ? caps->pasid_bits : bits;
}

/* The slot of @pasid (or a free one with @pasid 0); NULL: none.  lock */
static struct mock_pasid *find_pasid(struct mock_dev *md, uint32_t pasid)
{
	for (int i = 0; i < MOCK_DEV_PASIDS; i++)
		if (md->pasids[i].pasid == pasid)
			return &md->pasids[i];
	return NULL;
}

/*
 * The kernel mock's set_dev_pasid: nothing to program, but PASID 1024
 * fails every second change with -ENOMEM (the first one arms it), so the
 * core's roll-back of a failed replace is tested.
 */
static int mock_set_dev_pasid(struct sio_iommu_domain *d, uint32_t sid,
			      uint32_t pasid, struct sio_iommu_domain *old)
{
	struct mock_iommu *m = to_mock(d->iommu);
	struct mock_pasid *slot;
	struct mock_dev *md;
	int rc = -ENODEV;

	(void)old;
	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (!md)
		goto out;
	rc = 0;
	if (pasid == MOCK_PASID_FAKE_ERROR) {
		rc = md->pasid_1024_fake_error ? -ENOMEM : 0;
		md->pasid_1024_fake_error = !md->pasid_1024_fake_error;
		if (rc)
			goto out;
	}
	slot = find_pasid(md, pasid);
	if (!slot)
		slot = find_pasid(md, 0);
	if (!slot) {
		rc = -ENOSPC;
		goto out;
	}
	*slot = (struct mock_pasid){pasid, d};
out:
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int mock_block_dev_pasid(struct sio_iommu_dev *iommu, uint32_t sid,
				uint32_t pasid, struct sio_iommu_domain *old)
{
	struct mock_iommu *m = to_mock(iommu);
	struct mock_pasid *slot;
	struct mock_dev *md;

	(void)old;
	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md) {
		if (pasid == MOCK_PASID_FAKE_ERROR)
			md->pasid_1024_fake_error = false;
		slot = find_pasid(md, pasid);
		if (slot)
			*slot = (struct mock_pasid){0};
	}
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int mock_dev_trigger_iopf(struct mock_iommu *m, uint32_t sid,
			  const struct sio_iopf_fault *fault)
{
	struct mock_dev *md;

	/*
	 * Under the lock: the device cannot be moved off (and its domain
	 * freed) while the fault is handed over.  The handler only queues.
	 * A fault nobody takes is dropped, as iommu_report_device_fault().
	 */
	struct sio_iommu_domain *d = NULL;

	pthread_mutex_lock(&m->lock);
	md = find_dev(m, sid);
	if (md && (fault->flags & SIO_IOPF_PASID_VALID)) {
		struct mock_pasid *slot = find_pasid(md, fault->pasid);

		d = slot && fault->pasid ? slot->domain : NULL;
		/*
		 * The mock's PASID table is the user's (user_pasid_table): a
		 * PASID with no domain of its own faults through the nested
		 * domain on the RID, as iommu_report_device_fault() finds it.
		 */
		if (!d && md->domain && md->domain->type == SIO_DOMAIN_NESTED)
			d = md->domain;
	} else if (md) {
		d = md->domain;
	}
	if (d && d->iopf_handler)
		d->iopf_handler(d, sid, fault);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

/* The user's answer to a fault: there is no transaction to resume. */
static void mock_page_response(struct sio_iommu_dev *iommu, uint32_t sid,
			       const struct sio_iopf_fault *fault,
			       enum sio_iopf_resp code)
{
	(void)iommu;
	(void)sid;
	(void)fault;
	(void)code;
}

static void mock_remove(struct sio_iommu_dev *iommu)
{
	mock_iommu_destroy(to_mock(iommu));
}

static const struct sio_iommu_ops mock_ops = {
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.domain_alloc_paging_data = mock_domain_alloc_paging_data,
	.attach_dev = mock_attach_dev,
	.block_dev = mock_block_dev,
	.hw_info = mock_hw_info,
	.get_resv_regions = mock_get_resv_regions,
	.capabilities = mock_capabilities,
	.probe_device = mock_probe_device,
	.block_dev_pasid = mock_block_dev_pasid,
	.page_response = mock_page_response,
	.viommu_supported = mock_viommu_supported,
	.viommu_alloc = mock_viommu_alloc,
	.remove = mock_remove,
};

int mock_iommu_create(struct mock_iommu **out)
{
	struct mock_iommu *m = sio_calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->iommu.ops = &mock_ops;
	pthread_mutex_init(&m->lock, NULL);
	*out = m;
	return 0;
}

void mock_iommu_destroy(struct mock_iommu *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->devs);
	free(m);
}

struct sio_iommu_dev *mock_iommu_dev(struct mock_iommu *m)
{
	return &m->iommu;
}
