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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ioctls),
	};

	return cmocka_run_group_tests_name("iommufd/fuzz", tests, NULL, NULL);
}
