// SPDX-License-Identifier: MIT
/*
 * Random ioctls against one context: random commands, sizes, flags, ids,
 * lengths and pointers (NULL, unmapped, read-only, straddling a guard
 * page).  Nothing may crash or leak (ASan), and a model kept here from
 * the uAPI's rules alone predicts every IOAS_UNMAP: which areas go, how
 * many bytes, or ENOENT for a split or an empty range.  So a failing call
 * that changed state, or a success that mapped the wrong range, shows up
 * as a prediction that fails.  (As in the kernel, an unmap that meets
 * an area crossing its bounds fails with ENOENT after unmapping the
 * areas before it; the model follows that rule too.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define MAX_AREAS 512
#define MAX_IDS	  8

struct area {
	uint32_t ioas;
	uint64_t iova, len;
};

struct model {
	struct area a[MAX_AREAS];
	unsigned int n;
	bool live[MAX_IDS + 1]; /* which ids are IOAS objects */
};

struct fz {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct model m;
	uint64_t seed, pg;
	uint8_t *mem; /* 16 pages RW, then a PROT_NONE page, then RO */
	uint8_t *arg; /* the struct given to the ioctl */
};

static uint64_t pick(struct fz *z, const uint64_t *v, unsigned int n)
{
	return v[sio_test_rand(&z->seed) % n];
}

static uint64_t rnd(struct fz *z)
{
	return sio_test_rand(&z->seed);
}

static bool overlaps(const struct model *m, uint32_t ioas, uint64_t iova,
		     uint64_t last)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (m->a[i].ioas == ioas && m->a[i].iova <= last &&
		    m->a[i].iova + m->a[i].len - 1 >= iova)
			return true;
	return false;
}

static void add_area(struct model *m, uint32_t ioas, uint64_t iova,
		     uint64_t len)
{
	assert_true(m->n < MAX_AREAS);
	/* a success never overlaps what the model has */
	assert_false(overlaps(m, ioas, iova, iova + len - 1));
	m->a[m->n++] = (struct area){ioas, iova, len};
}

/*
 * The kernel's unmap rule, applied to the model: the areas inside
 * [start, last] go in IOVA order until one crosses a bound, which ends
 * the call with ENOENT and keeps what went before (the kernel's
 * iopt_unmap_iova_range() does the same); nothing inside is ENOENT.
 */
static int64_t apply_unmap(struct model *m, uint32_t ioas, uint64_t start,
			   uint64_t last)
{
	uint64_t bytes = 0;

	for (;;) {
		struct area *low = NULL;

		for (unsigned int i = 0; i < m->n; i++) {
			struct area *a = &m->a[i];

			if (a->ioas == ioas && a->iova <= last &&
			    a->iova + a->len - 1 >= start &&
			    (!low || a->iova < low->iova))
				low = a;
		}
		if (!low)
			return bytes ? (int64_t)bytes : -ENOENT;
		if (low->iova < start || low->iova + low->len - 1 > last)
			return -ENOENT;
		bytes += low->len;
		*low = m->a[--m->n];
	}
}

static void drop_areas(struct model *m, uint32_t ioas, uint64_t start,
		       uint64_t last)
{
	for (unsigned int i = 0; i < m->n;) {
		struct area *a = &m->a[i];

		if (a->ioas == ioas && a->iova >= start &&
		    a->iova + a->len - 1 <= last)
			*a = m->a[--m->n];
		else
			i++;
	}
}

/* A pointer for the argument: mostly good, sometimes hostile. */
static void *arg_ptr(struct fz *z, size_t size)
{
	switch (rnd(z) % 16) {
	case 0:
		return NULL;
	case 1: /* straddles into the PROT_NONE page */
		return z->mem + 17 * z->pg - size / 2;
	case 2: /* read-only: the reply cannot be written */
		return z->mem + 17 * z->pg;
	case 3:
		return (void *)(uintptr_t)(rnd(z) | (1ull << 63));
	default:
		return z->arg;
	}
}

static uint32_t rand_id(struct fz *z)
{
	return (uint32_t)(rnd(z) % (MAX_IDS + 2));
}

static void op_map(struct fz *z)
{
	static const uint64_t lens[] = {
		0, 1, 4096, 8192, 3 * 4096, 65536, 2 << 20, UINT64_MAX, 100};
	struct sio_iommu_ioas_map *c = (void *)z->arg, s;
	void *p;
	int rc;

	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->flags = (uint32_t)(rnd(z) % 4 ? (rnd(z) % 8) : rnd(z));
	c->ioas_id = rand_id(z);
	c->user_va = rnd(z) % 8 ? (uint64_t)(uintptr_t)z->mem + rnd(z) % 4096
				: rnd(z);
	c->length = pick(z, lens, 9);
	c->iova = rnd(z) % 2 ? (rnd(z) % 64) * 4096 : rnd(z);
	if (rnd(z) % 10 == 0)
		c->__reserved = 1;
	s = *c;
	p = arg_ptr(z, sizeof(*c));
	if (p == z->mem + 17 * z->pg) {
		/* a good struct on a read-only page: only the reply fails */
		assert_int_equal(mprotect(p, z->pg, PROT_READ | PROT_WRITE), 0);
		memcpy(p, &s, sizeof(s));
		assert_int_equal(mprotect(p, z->pg, PROT_READ), 0);
	}
	rc = sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_MAP, p);
	if (p != z->arg && p != z->mem + 17 * z->pg) {
		/* NULL, wild or straddling: nothing read, nothing done */
		assert_true(rc == -EFAULT || rc == -EINVAL);
		return;
	}
	if (rc == 0) {
		assert_true(p == z->arg);
		/* the reply was written: the IOVA chosen or given */
		if (s.flags & SIO_IOMMU_IOAS_MAP_FIXED_IOVA)
			assert_int_equal(c->iova, s.iova);
		else
			assert_true(c->iova != 0);
		add_area(&z->m, s.ioas_id, c->iova, s.length);
	} else if (rc == -EEXIST) {
		assert_true(overlaps(&z->m, s.ioas_id, s.iova,
				     s.iova + s.length - 1));
	}
	/*
	 * A reply that cannot be written is EFAULT after the mapping was
	 * made, which stays, as in the kernel: find it by unmapping all.
	 */
	if (p != z->arg && rc == -EFAULT) {
		struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
						 .ioas_id = s.ioas_id,
						 .iova = 0,
						 .length = UINT64_MAX};
		int64_t before = apply_unmap(&z->m, s.ioas_id, 0, UINT64_MAX);

		assert_int_equal(
			sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_UNMAP, &u), 0);
		assert_int_equal(u.length, (before < 0 ? 0 : (uint64_t)before) +
						   s.length);
	}
}

static void op_unmap(struct fz *z)
{
	struct sio_iommu_ioas_unmap *c = (void *)z->arg;
	uint32_t ioas = rand_id(z);
	uint64_t iova, len;
	int64_t want;
	int rc;

	if (z->m.n && rnd(z) % 2) {
		struct area *a = &z->m.a[rnd(z) % z->m.n];

		ioas = a->ioas;
		iova = a->iova - (rnd(z) % 3) * 4096;
		len = a->len + (rnd(z) % 4) * 4096;
		if (rnd(z) % 4 == 0)
			len = 1; /* a split */
	} else if (rnd(z) % 5 == 0) {
		iova = 0;
		len = UINT64_MAX;
	} else {
		iova = (rnd(z) % 64) * 4096;
		len = (rnd(z) % 16) * 4096;
	}
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->ioas_id = ioas;
	c->iova = iova;
	c->length = len;
	rc = sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_UNMAP, c);
	if (ioas > MAX_IDS || !z->m.live[ioas]) {
		assert_int_equal(rc, -ENOENT);
		return;
	}
	if (iova == 0 && len == UINT64_MAX) {
		want = apply_unmap(&z->m, ioas, 0, UINT64_MAX);
		assert_int_equal(rc, 0);
		assert_int_equal(c->length, want < 0 ? 0 : (uint64_t)want);
		return;
	}
	if (iova >= UINT64_MAX || len >= UINT64_MAX) {
		assert_int_equal(rc, -EOVERFLOW);
		return;
	}
	if (len == 0) {
		assert_int_equal(rc, -EINVAL);
		return;
	}
	if (iova + (len - 1) < iova) {
		assert_int_equal(rc, -EOVERFLOW);
		return;
	}
	want = apply_unmap(&z->m, ioas, iova, iova + len - 1);
	if (want < 0) {
		assert_int_equal(rc, want);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(c->length, (uint64_t)want);
}

static void op_alloc_destroy(struct fz *z)
{
	if (rnd(z) % 2) {
		struct sio_iommu_ioas_alloc *c = (void *)z->arg;
		int rc;

		memset(c, 0, sizeof(*c));
		c->size = sizeof(*c);
		c->flags = rnd(z) % 8 == 0;
		rc = sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_ALLOC, c);
		if (rc == 0) {
			if (c->out_ioas_id > MAX_IDS) {
				struct sio_iommu_destroy d = {
					.size = sizeof(d),
					.id = c->out_ioas_id};

				assert_int_equal(sio_iommufd_ioctl(
							 z->fd,
							 SIO_IOMMU_DESTROY, &d),
						 0);
				return;
			}
			assert_false(z->m.live[c->out_ioas_id]);
			z->m.live[c->out_ioas_id] = true;
		} else {
			assert_int_equal(rc, -EOPNOTSUPP);
		}
	} else {
		struct sio_iommu_destroy *c = (void *)z->arg;
		uint32_t id = rand_id(z);
		int rc;

		c->size = sizeof(*c);
		c->id = id;
		rc = sio_iommufd_ioctl(z->fd, SIO_IOMMU_DESTROY, c);
		if (id && id <= MAX_IDS && z->m.live[id]) {
			assert_int_equal(rc, 0);
			z->m.live[id] = false;
			drop_areas(&z->m, id, 0, UINT64_MAX);
		} else {
			assert_int_equal(rc, -ENOENT);
		}
	}
}

/* Anything at all: random number, size word, bytes and pointer. */
static void op_garbage(struct fz *z)
{
	unsigned int nr = 0x80 + (unsigned int)(rnd(z) % 0x18);
	uint8_t *p = z->arg;

	for (unsigned int i = 0; i < 64; i++)
		p[i] = (uint8_t)(rnd(z) % 3 ? 0 : rnd(z));
	*(uint32_t *)p = (uint32_t)(rnd(z) % 72);
	/* keep ids and unmaps out of the model's way: those ops own them */
	if (nr == 0x80 || nr == 0x86 || nr == 0x85 || nr == 0x83 ||
	    nr == 0x8f || nr == 0x81)
		nr = 0x84;
	(void)sio_iommufd_ioctl(z->fd, SIO_IOMMUFD_IO(nr), arg_ptr(z, 64));
}

static void check_model(struct fz *z)
{
	/* every area the model has unmaps exactly, then nothing is left */
	while (z->m.n) {
		struct area a = z->m.a[0];
		struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
						 .ioas_id = a.ioas,
						 .iova = a.iova,
						 .length = a.len};

		assert_int_equal(
			sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_UNMAP, &u), 0);
		assert_int_equal(u.length, a.len);
		drop_areas(&z->m, a.ioas, a.iova, a.iova + a.len - 1);
	}
	for (uint32_t id = 1; id <= MAX_IDS; id++) {
		struct sio_iommu_ioas_unmap u = {
			.size = sizeof(u), .ioas_id = id, .length = UINT64_MAX};

		if (!z->m.live[id])
			continue;
		assert_int_equal(
			sio_iommufd_ioctl(z->fd, SIO_IOMMU_IOAS_UNMAP, &u), 0);
		assert_int_equal(u.length, 0);
	}
}

static void test_random_ioctls(void **state)
{
	struct fz z = {.seed = 0x5eed5eedull};
	uint8_t argbuf[128] __attribute__((aligned(8)));

	(void)state;
	z.pg = (uint64_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(sio_platform_create(&z.plat), 0);
	assert_int_equal(sio_iommufd_open(z.plat, &z.fd), 0);
	z.mem = mmap(NULL, 18 * z.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(z.mem != MAP_FAILED);
	assert_int_equal(mprotect(z.mem + 16 * z.pg, z.pg, PROT_NONE), 0);
	assert_int_equal(mprotect(z.mem + 17 * z.pg, z.pg, PROT_READ), 0);
	z.arg = argbuf;

	for (unsigned int round = 0; round < 20; round++) {
		for (unsigned int i = 0; i < 1000; i++) {
			switch (rnd(&z) % 8) {
			case 0:
			case 1:
			case 2:
				op_map(&z);
				break;
			case 3:
			case 4:
				op_unmap(&z);
				break;
			case 5:
				op_alloc_destroy(&z);
				break;
			default:
				op_garbage(&z);
				break;
			}
		}
		check_model(&z);
	}
	sio_iommufd_close(z.fd);
	sio_platform_destroy(z.plat);
	munmap(z.mem, 18 * z.pg);
}

/*
 * HWPTs and devices under random input: a bound device, random HWPT
 * allocations, attach/replace/detach, hw_info and dirty ioctls with
 * random arguments and hostile pointers, maps and unmaps.  Invariants:
 * no crash; right after an unmap returns, a DMA to the range faults;
 * when everything is closed no pin, accounting or bus registration is
 * left (ASan checks the memory).
 */
static uint32_t fz_id(struct fz *z, const uint32_t *ids, unsigned int n)
{
	return rnd(z) % 4 ? ids[rnd(z) % n] : (uint32_t)rnd(z) % 16;
}

static void test_random_hwpt_ioctls(void **state)
{
	struct fz z = {.seed = 0xdecafbadull};
	uint8_t argbuf[128] __attribute__((aligned(8)));
	struct platform_device *pdev;
	struct iommufd_device *idev;
	size_t regs0, regs1, views;
	struct sio_pin_stats st;
	uint32_t ids[8] = {0}, devid;
	unsigned int nids = 0, faults_checked = 0, hwpts = 0;
	bool attached = false;

	(void)state;
	z.pg = (uint64_t)sysconf(_SC_PAGESIZE);
	assert_int_equal(sio_platform_create(&z.plat), 0);
	sio_mem_bus_counts(sio_platform_bus(z.plat), &regs0, &views);
	assert_int_equal(sio_iommufd_open(z.plat, &z.fd), 0);
	z.mem = mmap(NULL, 18 * z.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(z.mem != MAP_FAILED);
	assert_int_equal(mprotect(z.mem + 16 * z.pg, z.pg, PROT_NONE), 0);
	assert_int_equal(mprotect(z.mem + 17 * z.pg, z.pg, PROT_READ), 0);
	z.arg = argbuf;
	pdev = platform_find_device(z.plat, "0000:00:04.1");
	assert_int_equal(
		iommufd_device_bind(z.fd->ictx, &pdev->desc, &devid, &idev), 0);
	ids[nids++] = devid;

	for (unsigned int i = 0; i < 15000; i++) {
		uint8_t *p = z.arg;
		int rc;

		memset(p, 0, 64);
		for (unsigned int b = 4; b < 64; b++)
			p[b] = (uint8_t)(rnd(&z) % 4 ? 0 : rnd(&z));
		switch (rnd(&z) % 9) {
		case 0: { /* IOAS_ALLOC */
			struct sio_iommu_ioas_alloc *c = (void *)p;

			memset(c, 0, sizeof(*c));
			c->size = sizeof(*c);
			if (!sio_iommufd_ioctl(z.fd, SIO_IOMMU_IOAS_ALLOC, c) &&
			    nids < 8)
				ids[nids++] = c->out_ioas_id;
			break;
		}
		case 1: { /* HWPT_ALLOC, random everything */
			struct sio_iommu_hwpt_alloc *c = (void *)p;

			c->size = sizeof(*c);
			c->flags = rnd(&z) % 3 ? (uint32_t)rnd(&z) % 4 : 0;
			c->dev_id = fz_id(&z, ids, nids);
			c->pt_id = fz_id(&z, ids, nids);
			if (rnd(&z) % 3)
				c->data_type = c->data_len = 0;
			c->__reserved = rnd(&z) % 8 == 0;
			rc = sio_iommufd_ioctl(z.fd, SIO_IOMMU_HWPT_ALLOC,
					       arg_ptr(&z, sizeof(*c)));
			hwpts += !rc;
			if (!rc && nids < 8)
				ids[nids++] = c->out_hwpt_id;
			break;
		}
		case 2: { /* attach, replace, detach */
			uint32_t pt = fz_id(&z, ids, nids);

			if (!attached) {
				attached = !iommufd_device_attach(idev, &pt);
			} else if (rnd(&z) % 3) {
				(void)iommufd_device_replace(idev, &pt);
			} else {
				iommufd_device_detach(idev);
				attached = false;
			}
			break;
		}
		case 3: { /* GET_HW_INFO */
			struct sio_iommu_hw_info *c = (void *)p;

			c->size = sizeof(*c);
			c->dev_id = fz_id(&z, ids, nids);
			c->data_len = (uint32_t)(rnd(&z) % 96);
			c->data_uptr = (uint64_t)(uintptr_t)arg_ptr(&z, 64);
			(void)sio_iommufd_ioctl(z.fd, SIO_IOMMU_GET_HW_INFO, c);
			break;
		}
		case 4: { /* dirty tracking */
			struct sio_iommu_hwpt_get_dirty_bitmap *c = (void *)p;
			struct sio_iommu_hwpt_set_dirty_tracking *sd =
				(void *)p;

			if (rnd(&z) % 2) {
				sd->size = sizeof(*sd);
				sd->flags = (uint32_t)rnd(&z) % 3;
				sd->hwpt_id = fz_id(&z, ids, nids);
				(void)sio_iommufd_ioctl(
					z.fd, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING,
					sd);
				break;
			}
			c->size = sizeof(*c);
			c->hwpt_id = fz_id(&z, ids, nids);
			c->flags = rnd(&z) % 4 == 0;
			c->iova = (rnd(&z) % 64) * 4096;
			c->length = (rnd(&z) % 64) * 4096 + (rnd(&z) % 8 == 0);
			c->page_size = 4096ull << (rnd(&z) % 3);
			c->data = (uint64_t)(uintptr_t)arg_ptr(&z, 64) + 64 -
				  (c->length / c->page_size + 7) / 8 % 64;
			(void)sio_iommufd_ioctl(
				z.fd, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, c);
			break;
		}
		case 5:
		case 6: { /* map */
			struct sio_iommu_ioas_map *c = (void *)p;
			uint64_t first = rnd(&z) % 16;

			c->size = sizeof(*c);
			c->flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
				   SIO_IOMMU_IOAS_MAP_READABLE |
				   (rnd(&z) % 2 ? SIO_IOMMU_IOAS_MAP_WRITEABLE
						: 0);
			c->ioas_id = fz_id(&z, ids, nids);
			c->user_va =
				(uint64_t)(uintptr_t)(z.mem + first * z.pg);
			c->length = (1 + rnd(&z) % (18 - first)) * z.pg -
				    (rnd(&z) % 16 == 0 ? 100 : 0);
			/* sometimes into the SMMU's MSI window */
			c->iova = (rnd(&z) % 64) * 4096 +
				  (rnd(&z) % 16 == 0 ? 0x8000000 : 0);
			(void)sio_iommufd_ioctl(z.fd, SIO_IOMMU_IOAS_MAP, c);
			break;
		}
		case 7: { /* unmap, then the device must fault there */
			struct sio_iommu_ioas_unmap *c = (void *)p;
			struct sio_smmu_txn txn = {.sid = pdev->sid};
			uint8_t b;
			size_t done;

			c->size = sizeof(*c);
			c->ioas_id = fz_id(&z, ids, nids);
			c->iova = (rnd(&z) % 64) * 4096;
			c->length = (1 + rnd(&z) % 64) * 4096;
			if (rnd(&z) % 8 == 0) { /* all of it */
				c->iova = 0;
				c->length = UINT64_MAX;
			}
			rc = sio_iommufd_ioctl(z.fd, SIO_IOMMU_IOAS_UNMAP, c);
			txn.addr = c->iova;
			/* the device translates through its HWPT's IOAS */
			struct iommufd_hwpt_paging *hp =
				to_hwpt_paging(idev->hwpt);
			if (!rc && c->length && hp &&
			    hp->ioas->obj.id == c->ioas_id && ++faults_checked)
				/* a translation fault, not a stale entry
				 * that happens to hit unregistered memory */
				assert_int_equal(
					sio_smmu_dma(sio_platform_smmu(z.plat),
						     &txn, &b, 1, &done),
					-EFAULT);
			break;
		}
		default: { /* DMA anywhere: a fault or a byte, never a crash */
			struct sio_smmu_txn txn = {
				.sid = pdev->sid,
				.addr = (rnd(&z) % 80) * 2048,
				.attr = rnd(&z) % 2 ? SIO_SMMU_WRITE : 0,
			};
			uint8_t b[64] = {0};
			size_t done;

			(void)sio_smmu_dma(sio_platform_smmu(z.plat), &txn, b,
					   1 + rnd(&z) % 64, &done);
			break;
		}
		}
	}
	/* the run must have exercised what it claims to check */
	printf("# %u HWPTs allocated, %u unmaps checked by DMA\n", hwpts,
	       faults_checked);
	assert_true(hwpts >= 10 && faults_checked >= 20);
	/* the device goes last: everything must still come apart cleanly */
	sio_iommufd_close(z.fd);
	iommufd_device_unbind(idev);
	sio_platform_pin_stats(z.plat, &st);
	assert_int_equal(st.user_locked, 0);
	assert_int_equal(st.mm_locked, 0);
	assert_int_equal(st.mm_pinned, 0);
	sio_mem_bus_counts(sio_platform_bus(z.plat), &regs1, &views);
	assert_int_equal(regs1, regs0);
	sio_platform_destroy(z.plat);
	munmap(z.mem, 18 * z.pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ioctls),
		cmocka_unit_test(test_random_hwpt_ioctls),
	};

	return cmocka_run_group_tests_name("iommufd/fuzz", tests, NULL, NULL);
}
