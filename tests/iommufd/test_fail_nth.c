// SPDX-License-Identifier: MIT
/*
 * Fault injection over the main flows (issue 7): for N = 1, 2, ... the
 * Nth fault point of the flow fails (include/softiommu/fault.h, the
 * kernel's fail-nth), until the flow runs without reaching an Nth point.
 * After every injected failure:
 *  - the error reached the caller: a negative errno, one a failed
 *    allocation, copy or thread creation gives (ENOMEM, EFAULT, EAGAIN);
 *  - nothing changed: the object table, the IOAS's areas, the pinned-page
 *    counts, the bus's registrations, the driver's page-table memory and
 *    ASIDs/VMIDs, the device's STE, the fd table (the next free fd), and
 *    whether a DMA at the flow's IOVA reaches memory;
 *  - the flow run again without injection succeeds, and undoing it gives
 *    the same state again.
 * A flow that succeeds although its fault was injected fails the test: it
 * swallowed a failure and did its work some other way, or not at all.
 * Leaks of memory show in the ASan build (LeakSanitizer at exit).
 *
 * One exception is the kernel's own: IOAS_MAP, IOAS_MAP_FILE, IOAS_COPY
 * and IOAS_UNMAP write their reply after the work is done, and when that
 * copy_to_user() fails the kernel (iommufd_ioas_map(), _map_file(),
 * _copy(), _unmap()) returns EFAULT and keeps the change.  Then the state must
 * be exactly the success's.
 *
 * Each flow prints how many fault points it has.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/fault.h>
#include <softiommu/iommufd.h>

#include "drivers/smmuv3/arm_smmu_v3.h"
#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"
#include "vfio/vfio_private.h"

#define NPAGES	  4
#define IOVA	  0x40000000ull
#define COPY_IOVA 0x50000000ull
#define MAX_AREAS 8

/* vSTE of a guest's stage 1 (SMMUv3 5.2): V, Config 0b101, a CD IPA. */
#define VSTE0 ((1ull << 0) | (5ull << 1) | 0x40000000ull)
/* S1CIR/S1COR write-back, S1CSH inner shareable, S1STALLD */
#define VSTE1 ((1ull << 2) | (1ull << 4) | (3ull << 6) | (1ull << 27))

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct iommufd_ctx *ictx;
	struct platform_device *pdev, *pdev1;
	struct iommufd_device *idev, *idev1;
	uint32_t dev_id, dev1_id;
	uint64_t pg;
	uint8_t *buf;
	uint32_t ioas, ioas2, parent, viommu;
	/* what a successful flow made, for its undo */
	uint32_t out_id;
	int out_fd;
	struct iommufd_access *access; /* the access flows' */
	/* the VFIO flow */
	struct vfio_container *container;
	bool group_open;
};

/* Everything a failed flow must leave as it was. */
struct snap {
	uint32_t nr_objs;
	unsigned int nr_areas;
	uint64_t area[MAX_AREAS][2];
	struct sio_pin_stats pins;
	size_t regs, views;
	uint64_t pool_in_use;
	unsigned int asids, vmids;
	uint64_t ste[8];
	int next_fd;
	bool dma_ok;
	unsigned int dmas; /* type1's record of mappings */
};

struct flow {
	const char *name;
	/* the flow: 0 or -errno */
	int (*run)(struct fx *f);
	/* undo a flow that succeeded (or whose reply alone was lost) */
	void (*undo)(struct fx *f);
	/* the IOAS whose areas to compare, the IOVA a DMA must not reach */
	uint32_t (*ioas)(struct fx *f);
	uint64_t iova;
	/* a lost reply (EFAULT) may leave the flow done, as the kernel's */
	bool reply_after_commit;
};

static int ioctl_(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static uint32_t ioas_alloc(struct fx *f)
{
	return ifd_ioas_alloc(f->fd);
}

static int destroy(struct fx *f, uint32_t id)
{
	return ifd_destroy(f->fd, id);
}

static int map_fixed(struct fx *f, uint32_t ioas, uint64_t iova)
{
	return ifd_map_fixed(f->fd, ioas, f->buf, NPAGES * f->pg, iova);
}

/* 0 when exactly [iova, +NPAGES pages) was unmapped. */
static int unmap(struct fx *f, uint32_t ioas, uint64_t iova)
{
	uint64_t done = 0;
	int rc = ifd_unmap(f->fd, ioas, iova, NPAGES * f->pg, &done);

	if (!rc && done != NPAGES * f->pg)
		return -EIO;
	return rc;
}

static int hwpt_alloc(struct fx *f, uint32_t pt_id, uint32_t flags,
		      uint32_t *out)
{
	return ifd_hwpt_alloc(f->fd, f->dev_id, pt_id, flags, out);
}

static int viommu_alloc(struct fx *f, uint32_t *out)
{
	struct sio_iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = f->dev_id,
		.hwpt_id = f->parent,
	};
	int rc = ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &c);

	if (!rc)
		*out = c.out_viommu_id;
	return rc;
}

/* ---- the state ---- */

static unsigned int bits_set(const uint64_t *map, unsigned int bits)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < (bits + 63) / 64 && i < 1024; i++)
		n += (unsigned int)__builtin_popcountll(map[i]);
	return n;
}

static void snap_areas(struct fx *f, uint32_t id, struct snap *s)
{
	struct iommufd_ioas *ioas = iommufd_get_ioas(f->ictx, id);
	struct sio_itree_node *n;

	assert_non_null(ioas);
	pthread_rwlock_rdlock(&ioas->iopt.iova_rwsem);
	for (n = sio_itree_first(&ioas->iopt.area_itree, 0, UINT64_MAX); n;
	     n = sio_itree_next(&ioas->iopt.area_itree, n, 0, UINT64_MAX)) {
		assert_true(s->nr_areas < MAX_AREAS);
		s->area[s->nr_areas][0] = n->start;
		s->area[s->nr_areas][1] = n->last;
		s->nr_areas++;
	}
	pthread_rwlock_unlock(&ioas->iopt.iova_rwsem);
	iommufd_put_object(f->ictx, &ioas->obj);
}

/* Does a device write at @iova reach memory? */
static bool dma_reaches(struct fx *f, uint64_t iova)
{
	struct sio_smmu_txn t = {
		.sid = f->pdev->sid, .addr = iova, .attr = SIO_SMMU_WRITE};
	uint64_t word = 0x5a5a5a5a5a5a5a5aull;
	size_t done = 0;

	return sio_smmu_dma(sio_platform_smmu(f->plat), &t, &word, sizeof(word),
			    &done) == 0;
}

static void snap_take(struct fx *f, const struct flow *fl, struct snap *s)
{
	struct arm_smmu_device *drv = f->plat->smmu_drv;
	struct sio_mem_pool_stats ps;
	int probe;

	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&f->ictx->lock);
	s->nr_objs = f->ictx->nr_objs;
	pthread_mutex_unlock(&f->ictx->lock);
	if (fl->ioas)
		snap_areas(f, fl->ioas(f), s);
	sio_platform_pin_stats(f->plat, &s->pins);
	sio_mem_bus_counts(sio_platform_bus(f->plat), &s->regs, &s->views);
	sio_mem_pool_get_stats(drv->pool, &ps);
	s->pool_in_use = ps.in_use;
	s->asids = bits_set(drv->asid_map, 1u << drv->asid_bits);
	s->vmids = bits_set(drv->vmid_map, 1u << drv->vmid_bits);
	memcpy(s->ste, drv->strtab + 8 * (size_t)f->pdev->sid, sizeof(s->ste));
	probe = dup(0);
	assert_true(probe >= 0);
	close(probe);
	s->next_fd = probe;
	s->dma_ok = fl->iova ? dma_reaches(f, fl->iova) : false;
	if (f->container && f->container->iommu) {
		struct sio_itree_node *n;

		pthread_mutex_lock(&f->container->iommu->lock);
		sio_itree_for_each(n, &f->container->iommu->dmas, 0, UINT64_MAX)
			s->dmas++;
		pthread_mutex_unlock(&f->container->iommu->lock);
	}
}

static void snap_expect(const char *flow, unsigned int n, const struct snap *a,
			const struct snap *b)
{
	const char *what = NULL;

	if (a->nr_objs != b->nr_objs)
		what = "objects";
	else if (a->nr_areas != b->nr_areas ||
		 memcmp(a->area, b->area, sizeof(a->area)))
		what = "IOAS areas";
	else if (memcmp(&a->pins, &b->pins, sizeof(a->pins)))
		what = "pinned pages";
	else if (a->regs != b->regs)
		what = "bus registrations";
	else if (a->pool_in_use != b->pool_in_use)
		what = "driver table memory";
	else if (a->asids != b->asids || a->vmids != b->vmids)
		what = "ASIDs/VMIDs";
	else if (memcmp(a->ste, b->ste, sizeof(a->ste))) {
		what = "the device's STE";
		for (int i = 0; i < 8; i++)
			printf("# ste[%d] %016llx %016llx\n", i,
			       (unsigned long long)a->ste[i],
			       (unsigned long long)b->ste[i]);
	} else if (a->next_fd != b->next_fd)
		what = "file descriptors";
	else if (a->dma_ok != b->dma_ok)
		what = "DMA reach";
	else if (a->dmas != b->dmas)
		what = "type1 mappings";
	if (what)
		fail_msg("%s, fault point %u: %s changed", flow, n, what);
}

/* What a failed fault point may give: ENOMEM, EFAULT (a copy), EAGAIN. */
static bool injected_errno(int rc)
{
	return rc == -ENOMEM || rc == -EFAULT || rc == -EAGAIN;
}

/*
 * Walk N = 1, 2, ... over @fl; return its number of fault points.
 */
static unsigned int walk(struct fx *f, const struct flow *fl)
{
	struct snap before, after;
	unsigned int n, lost = 0;

	for (n = 1;; n++) {
		unsigned int left;
		int rc;

		assert_true(n < 2000);
		snap_take(f, fl, &before);
		sio_fail_nth_set(n);
		rc = fl->run(f);
		left = sio_fail_nth_get();
		sio_fail_nth_set(0);
		if (getenv("FAIL_NTH_TRACE"))
			printf("# %s n=%u rc=%d left=%u\n", fl->name, n, rc,
			       left);
		if (left) {
			/* fewer than n points: the flow ran whole */
			if (rc)
				fail_msg("%s: %d without a fault injected",
					 fl->name, rc);
			fl->undo(f);
			snap_take(f, fl, &after);
			snap_expect(fl->name, n, &before, &after);
			break;
		}
		if (!rc) {
			/*
			 * A failure the flow swallowed: it did its work some
			 * other way (or left something undone, as an unmap
			 * that freed tables before the TLB invalidation for
			 * want of memory did).  No fault point may be that.
			 */
			fail_msg("%s, fault point %u: injected, yet succeeded",
				 fl->name, n);
		} else if (rc == -EFAULT && fl->reply_after_commit) {
			snap_take(f, fl, &after);
			if (after.nr_areas != before.nr_areas) {
				lost++;
				fl->undo(f);
			}
		} else if (!injected_errno(rc)) {
			fail_msg("%s, fault point %u: %d (%s)", fl->name, n, rc,
				 strerror(-rc));
		}
		snap_take(f, fl, &after);
		snap_expect(fl->name, n, &before, &after);
		/* and the flow still works */
		rc = fl->run(f);
		if (rc)
			fail_msg("%s, after fault point %u: retry gave %d",
				 fl->name, n, rc);
		fl->undo(f);
		snap_take(f, fl, &after);
		snap_expect(fl->name, n, &before, &after);
	}
	printf("# %-22s %3u fault points (%u replies lost after the work)\n",
	       fl->name, n - 1, lost);
	return n - 1;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->out_fd = -1;
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->ictx = f->fd->ictx;
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	f->pdev1 = platform_find_device(f->plat, "0000:00:04.1");
	assert_non_null(f->pdev);
	assert_non_null(f->pdev1);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, NPAGES * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	memset(f->buf, 0xa5, NPAGES * f->pg);
	f->ioas = ioas_alloc(f);
	f->ioas2 = ioas_alloc(f);
	*state = f;
	return 0;
}

static void bind_devices(struct fx *f)
{
	assert_int_equal(iommufd_device_bind(f->ictx, &f->pdev->desc,
					     &f->dev_id, &f->idev),
			 0);
	assert_int_equal(iommufd_device_bind(f->ictx, &f->pdev1->desc,
					     &f->dev1_id, &f->idev1),
			 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->out_fd >= 0)
		close(f->out_fd);
	if (f->group_open)
		vfio_group_release(&f->pdev->group);
	if (f->container)
		vfio_container_put(f->container);
	if (f->idev)
		iommufd_device_unbind(f->idev);
	if (f->idev1)
		iommufd_device_unbind(f->idev1);
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->buf, NPAGES * f->pg);
	free(f);
	return 0;
}

static uint32_t first_ioas(struct fx *f)
{
	return f->ioas;
}

static uint32_t second_ioas(struct fx *f)
{
	return f->ioas2;
}

static void undo_destroy(struct fx *f)
{
	if (f->out_fd >= 0) {
		close(f->out_fd);
		f->out_fd = -1;
	}
	assert_int_equal(destroy(f, f->out_id), 0);
}

/* ---- IOAS_MAP into an IOAS a device is attached to ---- */

static int run_map(struct fx *f)
{
	return map_fixed(f, f->ioas, IOVA);
}

static void undo_map(struct fx *f)
{
	assert_int_equal(unmap(f, f->ioas, IOVA), 0);
}

static void test_map(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOAS_MAP",
				.run = run_map,
				.undo = undo_map,
				.ioas = first_ioas,
				.iova = IOVA,
				.reply_after_commit = true};
	uint32_t pt = f->ioas;

	bind_devices(f);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
}

/* ---- IOAS_COPY between two IOASes, each with a device ---- */

static int run_copy(struct fx *f)
{
	struct sio_iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = f->ioas2,
		.src_ioas_id = f->ioas,
		.length = NPAGES * f->pg,
		.dst_iova = COPY_IOVA,
		.src_iova = IOVA,
	};

	return ioctl_(f, SIO_IOMMU_IOAS_COPY, &c);
}

static void undo_copy(struct fx *f)
{
	assert_int_equal(unmap(f, f->ioas2, COPY_IOVA), 0);
}

static void test_copy(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOAS_COPY",
				.run = run_copy,
				.undo = undo_copy,
				.ioas = second_ioas,
				.iova = COPY_IOVA,
				.reply_after_commit = true};
	uint32_t pt = f->ioas2, pt1 = f->ioas;

	bind_devices(f);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(iommufd_device_attach(f->idev1, &pt1), 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
	iommufd_device_detach(f->idev1);
}

/* ---- attaching a device to an IOAS (an automatic domain, filled) ---- */

static int run_attach(struct fx *f)
{
	uint32_t pt = f->ioas;

	return iommufd_device_attach(f->idev, &pt);
}

static void undo_attach(struct fx *f)
{
	iommufd_device_detach(f->idev);
}

static void test_attach(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "device attach",
				.run = run_attach,
				.undo = undo_attach,
				.ioas = first_ioas,
				.iova = IOVA};

	bind_devices(f);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_true(walk(f, &fl) > 0);
}

/* ---- nesting: the parent, the vIOMMU and its queues ---- */

static void nesting_setup(struct fx *f)
{
	bind_devices(f);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_int_equal(hwpt_alloc(f, f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
				    &f->parent),
			 0);
}

static int run_viommu(struct fx *f)
{
	return viommu_alloc(f, &f->out_id);
}

static void test_viommu(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOMMU_VIOMMU_ALLOC",
				.run = run_viommu,
				.undo = undo_destroy,
				.ioas = first_ioas};

	nesting_setup(f);
	assert_true(walk(f, &fl) > 0);
}

static int run_nested(struct fx *f)
{
	struct sio_iommu_hwpt_arm_smmuv3 vste = {.ste = {VSTE0, VSTE1}};
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.dev_id = f->dev_id,
		.pt_id = f->viommu,
		.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uint64_t)(uintptr_t)&vste,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c);

	if (!rc)
		f->out_id = c.out_hwpt_id;
	return rc;
}

static void test_nested(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "nested HWPT_ALLOC",
				.run = run_nested,
				.undo = undo_destroy,
				.ioas = first_ioas};

	nesting_setup(f);
	assert_int_equal(viommu_alloc(f, &f->viommu), 0);
	assert_true(walk(f, &fl) > 0);
}

static int run_veventq(struct fx *f)
{
	struct sio_iommu_veventq_alloc c = {
		.size = sizeof(c),
		.viommu_id = f->viommu,
		.type = SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 16,
	};
	int rc = ioctl_(f, SIO_IOMMU_VEVENTQ_ALLOC, &c);

	if (!rc) {
		f->out_id = c.out_veventq_id;
		f->out_fd = (int)c.out_veventq_fd;
	}
	return rc;
}

static void test_veventq(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOMMU_VEVENTQ_ALLOC",
				.run = run_veventq,
				.undo = undo_destroy,
				.ioas = first_ioas};

	nesting_setup(f);
	assert_int_equal(viommu_alloc(f, &f->viommu), 0);
	assert_true(walk(f, &fl) > 0);
}

static int run_fault_queue(struct fx *f)
{
	struct sio_iommu_fault_alloc c = {.size = sizeof(c)};
	int rc = ioctl_(f, SIO_IOMMU_FAULT_QUEUE_ALLOC, &c);

	if (!rc) {
		f->out_id = c.out_fault_id;
		f->out_fd = (int)c.out_fault_fd;
	}
	return rc;
}

static void test_fault_queue(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOMMU_FAULT_QUEUE_ALLOC",
				.run = run_fault_queue,
				.undo = undo_destroy};

	assert_true(walk(f, &fl) > 0);
}

/* ---- IOAS_UNMAP of an area a device reaches ---- */

static int run_unmap(struct fx *f)
{
	return unmap(f, f->ioas, IOVA);
}

static void undo_unmap(struct fx *f)
{
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
}

static void test_unmap(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOAS_UNMAP",
				.run = run_unmap,
				.undo = undo_unmap,
				.ioas = first_ioas,
				.iova = IOVA,
				.reply_after_commit = true};
	uint32_t pt = f->ioas;

	bind_devices(f);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
}

/* ---- a vDEVICE, and attaching to a nested HWPT ---- */

static int run_vdevice(struct fx *f)
{
	struct sio_iommu_vdevice_alloc c = {
		.size = sizeof(c),
		.viommu_id = f->viommu,
		.dev_id = f->dev_id,
		.virt_id = 0x20,
	};
	int rc = ioctl_(f, SIO_IOMMU_VDEVICE_ALLOC, &c);

	if (!rc)
		f->out_id = c.out_vdevice_id;
	return rc;
}

static void test_vdevice(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOMMU_VDEVICE_ALLOC",
				.run = run_vdevice,
				.undo = undo_destroy,
				.ioas = first_ioas};

	nesting_setup(f);
	assert_int_equal(viommu_alloc(f, &f->viommu), 0);
	assert_true(walk(f, &fl) > 0);
}

static int run_attach_nested(struct fx *f)
{
	uint32_t pt = f->out_id;

	return iommufd_device_attach(f->idev, &pt);
}

static void undo_attach_nested(struct fx *f)
{
	iommufd_device_detach(f->idev);
}

static void test_attach_nested(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "attach to nested HWPT",
				.run = run_attach_nested,
				.undo = undo_attach_nested,
				.ioas = first_ioas,
				.iova = IOVA};

	nesting_setup(f);
	assert_int_equal(viommu_alloc(f, &f->viommu), 0);
	/* a translating vSTE needs the device's vSID: its vDEVICE */
	assert_int_equal(run_vdevice(f), 0);
	assert_int_equal(run_nested(f), 0);
	assert_true(walk(f, &fl) > 0);
}

/* ---- a paging HWPT, and replacing a device's domain ---- */

static int run_hwpt_paging(struct fx *f)
{
	return hwpt_alloc(f, f->ioas, SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
			  &f->out_id);
}

static void test_hwpt_paging(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "paging HWPT_ALLOC",
				.run = run_hwpt_paging,
				.undo = undo_destroy,
				.ioas = first_ioas};

	bind_devices(f);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_true(walk(f, &fl) > 0);
}

/*
 * Between two HWPTs of its own (an automatic domain would go with its
 * last device, and the undo would make a new one).
 */
static int run_replace(struct fx *f)
{
	uint32_t pt = f->out_id;

	return iommufd_device_replace(f->idev, &pt);
}

static void undo_replace(struct fx *f)
{
	uint32_t pt = f->parent;

	assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
}

static void test_replace(void **state)
{
	struct fx *f = *state;
	/* the DMA probe: mapped in the first IOAS only */
	const struct flow fl = {.name = "device replace",
				.run = run_replace,
				.undo = undo_replace,
				.ioas = second_ioas,
				.iova = IOVA};
	uint32_t pt;

	bind_devices(f);
	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_int_equal(map_fixed(f, f->ioas2, COPY_IOVA), 0);
	assert_int_equal(hwpt_alloc(f, f->ioas, 0, &f->parent), 0);
	assert_int_equal(hwpt_alloc(f, f->ioas2, 0, &f->out_id), 0);
	pt = f->parent;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
}

/* ---- IOAS_MAP_FILE of a memfd ---- */

static int run_map_file(struct fx *f)
{
	struct sio_iommu_ioas_map_file c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.fd = f->out_fd,
		.length = NPAGES * f->pg,
		.iova = IOVA,
	};

	return ioctl_(f, SIO_IOMMU_IOAS_MAP_FILE, &c);
}

static void test_map_file(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "IOAS_MAP_FILE",
				.run = run_map_file,
				.undo = undo_map,
				.ioas = first_ioas,
				.iova = IOVA,
				.reply_after_commit = true};
	uint32_t pt = f->ioas;

	/* the fixture closes out_fd */
	f->out_fd = memfd_create("fail_nth", MFD_CLOEXEC);
	assert_true(f->out_fd >= 0);
	assert_int_equal(ftruncate(f->out_fd, (off_t)(NPAGES * f->pg)), 0);
	bind_devices(f);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
}

/* ---- VFIO type1 through iommufd (the compat ioctls) ---- */

static int run_compat_map(struct fx *f)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)f->buf,
		.iova = IOVA,
		.size = NPAGES * f->pg,
	};

	return ioctl_(f, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

static void undo_compat_map(struct fx *f)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = IOVA,
		.size = NPAGES * f->pg,
	};

	assert_int_equal(ioctl_(f, SIO_VFIO_IOMMU_UNMAP_DMA, &u), 0);
	assert_int_equal(u.size, NPAGES * f->pg);
}

static void test_compat_map(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "iommufd VFIO_MAP_DMA",
				.run = run_compat_map,
				.undo = undo_compat_map,
				.ioas = first_ioas,
				.iova = IOVA};
	struct sio_iommu_vfio_ioas v = {.size = sizeof(v),
					.ioas_id = f->ioas,
					.op = SIO_IOMMU_VFIO_IOAS_SET};
	uint32_t pt = f->ioas;

	bind_devices(f);
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	assert_int_equal(ioctl_(f, SIO_IOMMU_VFIO_IOAS, &v), 0);
	assert_int_equal(ioctl_(f, SIO_VFIO_SET_IOMMU,
				(void *)(uintptr_t)SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_true(walk(f, &fl) > 0);
	iommufd_device_detach(f->idev);
}

/* ---- VFIO type1: VFIO_IOMMU_MAP_DMA in a container with a group ---- */

static int run_type1_map(struct fx *f)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)f->buf,
		.iova = IOVA,
		.size = NPAGES * f->pg,
	};

	return (int)vfio_container_ioctl(f->container, SIO_VFIO_IOMMU_MAP_DMA,
					 (uint64_t)(uintptr_t)&m);
}

static void undo_type1_map(struct fx *f)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = IOVA,
		.size = NPAGES * f->pg,
	};

	assert_int_equal(vfio_container_ioctl(f->container,
					      SIO_VFIO_IOMMU_UNMAP_DMA,
					      (uint64_t)(uintptr_t)&u),
			 0);
	assert_int_equal(u.size, NPAGES * f->pg);
}

static void test_type1_map(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "VFIO_IOMMU_MAP_DMA",
				.run = run_type1_map,
				.undo = undo_type1_map,
				.iova = IOVA};

	assert_int_equal(vfio_container_create(&f->plat->host,
					       VFIO_DMA_ENTRY_LIMIT_DEFAULT,
					       &f->container),
			 0);
	assert_int_equal(vfio_group_open(&f->pdev->group), 0);
	f->group_open = true;
	assert_int_equal(vfio_group_set_container(&f->pdev->group, f->container,
						  NULL),
			 0);
	assert_int_equal(vfio_container_ioctl(f->container, SIO_VFIO_SET_IOMMU,
					      SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	assert_true(walk(f, &fl) > 0);
}

/* ---- a guest's invalidation through its vIOMMU ---- */

static int run_viommu_invalidate(struct fx *f)
{
	/* TLBI_NH_ALL twice (SMMUv3 4.1.1: opcode 0x10), as a guest's */
	const uint64_t cmds[2][2] = {{0x10, 0}, {0x10, 0}};
	struct sio_iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = f->viommu,
		.data_uptr = (uint64_t)(uintptr_t)cmds,
		.data_type = SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(cmds[0]),
		.entry_num = 2,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_INVALIDATE, &c);

	/*
	 * After a failure the kernel writes back how many it handled (none:
	 * the commands are all copied in before the first is issued), unless
	 * the struct itself could not be read (entry_num stays as given).
	 */
	if (rc && c.entry_num != 0 && c.entry_num != 2)
		return -EIO;
	return rc;
}

static void undo_nothing(struct fx *f)
{
	(void)f;
}

static void test_viommu_invalidate(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "vIOMMU invalidate",
				.run = run_viommu_invalidate,
				.undo = undo_nothing,
				.ioas = first_ioas};

	nesting_setup(f);
	assert_int_equal(viommu_alloc(f, &f->viommu), 0);
	assert_true(walk(f, &fl) > 0);
}

/* ---- an access object (an in-kernel user of the IOAS): pin, rw ---- */

/* Nothing stays pinned past a flow here, so no unmap ever finds a pin. */
static void access_unmap(void *data, uint64_t iova, uint64_t length)
{
	(void)data, (void)iova, (void)length;
}

static const struct iommufd_access_ops pin_ops = {
	.needs_pin_pages = true,
	.unmap = access_unmap,
};

static int run_access_attach(struct fx *f)
{
	struct iommufd_access *a;
	uint32_t id;
	int rc = iommufd_access_create(f->ictx, &pin_ops, f, &id, &a);

	if (rc)
		return rc;
	rc = iommufd_access_attach(a, f->ioas);
	if (rc) {
		iommufd_access_destroy(a);
		return rc;
	}
	f->access = a;
	return 0;
}

static void undo_access_attach(struct fx *f)
{
	iommufd_access_destroy(f->access);
	f->access = NULL;
}

static void test_access_attach(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "access create + attach",
				.run = run_access_attach,
				.undo = undo_access_attach,
				.ioas = first_ioas};

	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_true(walk(f, &fl) > 0);
}

static int run_access_pin(struct fx *f)
{
	void *pages[NPAGES];

	return iommufd_access_pin_pages(f->access, IOVA, NPAGES * f->pg, pages,
					IOMMUFD_ACCESS_RW_WRITE);
}

static void undo_access_pin(struct fx *f)
{
	iommufd_access_unpin_pages(f->access, IOVA, NPAGES * f->pg);
}

static void test_access_pin(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "access pin pages",
				.run = run_access_pin,
				.undo = undo_access_pin,
				.ioas = first_ioas};

	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_int_equal(run_access_attach(f), 0);
	assert_true(walk(f, &fl) > 0);
	undo_access_attach(f);
}

static int run_access_rw(struct fx *f)
{
	uint8_t data[64];

	memset(data, 0x3c, sizeof(data));
	/* across a page boundary, as the kernel's slow path would take it */
	return iommufd_access_rw(f->access, IOVA + f->pg - 32, data,
				 sizeof(data), IOMMUFD_ACCESS_RW_WRITE);
}

static void test_access_rw(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "access rw",
				.run = run_access_rw,
				.undo = undo_nothing,
				.ioas = first_ioas};

	assert_int_equal(map_fixed(f, f->ioas, IOVA), 0);
	assert_int_equal(run_access_attach(f), 0);
	assert_true(walk(f, &fl) > 0);
	undo_access_attach(f);
}

/* ---- binding a device (VFIO_DEVICE_BIND_IOMMUFD's part) ---- */

static int run_bind(struct fx *f)
{
	return iommufd_device_bind(f->ictx, &f->pdev1->desc, &f->dev1_id,
				   &f->idev1);
}

static void undo_bind(struct fx *f)
{
	iommufd_device_unbind(f->idev1);
	f->idev1 = NULL;
}

static void test_bind(void **state)
{
	struct fx *f = *state;
	const struct flow fl = {.name = "device bind",
				.run = run_bind,
				.undo = undo_bind,
				.ioas = first_ioas};

	assert_true(walk(f, &fl) > 0);
}

/*
 * Creating a platform (the SMMU model, its driver's probe, the devices
 * and their threads) and opening an iommufd on it: no state to compare
 * but the leaks LeakSanitizer sees and the errno.
 */
static void test_platform_create(void **state)
{
	unsigned int n;

	(void)state;
	for (n = 1;; n++) {
		struct sio_platform *p = NULL;
		struct sio_iommufd *fd = NULL;
		unsigned int left;
		int rc;

		assert_true(n < 2000);
		sio_fail_nth_set(n);
		rc = sio_platform_create(&p);
		if (!rc) {
			rc = sio_iommufd_open(p, &fd);
			if (rc)
				sio_platform_destroy(p);
		}
		left = sio_fail_nth_get();
		sio_fail_nth_set(0);
		if (!left && !injected_errno(rc))
			fail_msg("platform, fault point %u: %d%s", n, rc,
				 rc ? "" : " (injected, yet succeeded)");
		if (!rc) {
			sio_iommufd_close(fd);
			sio_platform_destroy(p);
		}
		if (left)
			break;
	}
	printf("# %-22s %3u fault points\n", "platform + iommufd open", n - 1);
}

/* ---- the hook itself: the kernel's counting ---- */

static void test_counting(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};

	/* disarmed: nothing fails, the count stays 0 */
	assert_int_equal(sio_fail_nth_get(), 0);
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	assert_int_equal(sio_fail_nth_get(), 0);
	/* armed far ahead: each point counts one down, none fails */
	sio_fail_nth_set(1000000);
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	assert_true(sio_fail_nth_get() < 1000000);
	assert_true(sio_fail_nth_get() > 0);
	/* 1: the very next point fails, and the count reads 0 after */
	sio_fail_nth_set(1);
	assert_true(injected_errno(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c)));
	assert_int_equal(sio_fail_nth_get(), 0);
	/* disarmed again by the failure: the next call works */
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	/* writing 0 disarms */
	sio_fail_nth_set(1);
	sio_fail_nth_set(0);
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c), 0);
}

/* SOFTIOMMU_FAIL_NTH arms the thread that creates a platform. */
static void test_env(void **state)
{
	struct sio_platform *p = NULL;

	(void)state;
	assert_int_equal(setenv("SOFTIOMMU_FAIL_NTH", "1", 1), 0);
	/* the platform's first allocation is the one to fail */
	assert_int_equal(sio_platform_create(&p), -ENOMEM);
	assert_int_equal(sio_fail_nth_get(), 0);
	/* far ahead: created, the count still armed after it */
	assert_int_equal(setenv("SOFTIOMMU_FAIL_NTH", "0x100000", 1), 0);
	assert_int_equal(sio_platform_create(&p), 0);
	assert_true(sio_fail_nth_get() > 0 && sio_fail_nth_get() < 0x100000);
	sio_fail_nth_set(0);
	sio_platform_destroy(p);
	/* not a number: ignored */
	assert_int_equal(setenv("SOFTIOMMU_FAIL_NTH", "one", 1), 0);
	assert_int_equal(sio_platform_create(&p), 0);
	assert_int_equal(sio_fail_nth_get(), 0);
	sio_platform_destroy(p);
	assert_int_equal(unsetenv("SOFTIOMMU_FAIL_NTH"), 0);
}

static void *other_thread(void *arg)
{
	struct fx *f = arg;
	struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};

	/* the setting is per thread: this one starts disarmed */
	if (sio_fail_nth_get() != 0)
		return (void *)1;
	return (void *)(intptr_t)ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c);
}

static void test_per_thread(void **state)
{
	struct fx *f = *state;
	pthread_t t;
	void *ret;

	sio_fail_nth_set(1);
	assert_int_equal(pthread_create(&t, NULL, other_thread, f), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	/* still armed here */
	assert_int_equal(sio_fail_nth_get(), 1);
	sio_fail_nth_set(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_thread, setup,
						teardown),
		cmocka_unit_test(test_env),
		cmocka_unit_test_setup_teardown(test_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_viommu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_veventq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_queue, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_type1_map, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vdevice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_nested, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hwpt_paging, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compat_map, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_attach, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_access_pin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_access_rw, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_viommu_invalidate, setup,
						teardown),
		cmocka_unit_test(test_platform_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
