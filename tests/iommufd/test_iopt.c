// SPDX-License-Identifier: MIT
/*
 * Below the ioctls: the interval tree against a naive list, the
 * io_pagetable's reserved ranges (which only devices and domains create,
 * so no ioctl can yet), and pinning with the kernel's accounting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"

/* Random ranges in a small space, so overlaps and shared starts abound. */
static void test_itree_model(void **state)
{
	enum { N = 300, SPACE = 200 };
	static struct sio_itree_node nodes[N];
	bool in[N] = {false};
	struct sio_itree t = {0};
	uint64_t seed = 0x1234abcd;

	(void)state;
	for (unsigned int step = 0; step < 20000; step++) {
		unsigned int i = sio_test_rand(&seed) % N;
		uint64_t s = sio_test_rand(&seed) % SPACE;
		uint64_t l = s + sio_test_rand(&seed) % 20;
		uint64_t qs = sio_test_rand(&seed) % SPACE;
		uint64_t ql = qs + sio_test_rand(&seed) % 30;
		struct sio_itree_node *n, *prev = NULL;
		unsigned int expect = 0, got = 0;

		if (in[i]) {
			sio_itree_remove(&t, &nodes[i]);
			in[i] = false;
		} else {
			nodes[i].start = s;
			nodes[i].last = l;
			sio_itree_insert(&t, &nodes[i]);
			in[i] = true;
		}
		for (unsigned int j = 0; j < N; j++)
			if (in[j] && nodes[j].start <= ql &&
			    nodes[j].last >= qs)
				expect++;
		/* every intersecting node once, in start order */
		sio_itree_for_each(n, &t, qs, ql)
		{
			assert_true(n->start <= ql && n->last >= qs);
			assert_true(in[n - nodes]);
			if (prev)
				assert_true(prev->start <= n->start);
			prev = n;
			got++;
		}
		assert_int_equal(got, expect);
	}
}

/* Spans alternate, cover the query exactly, and merge abutting ranges. */
static void test_itree_spans(void **state)
{
	struct sio_itree_node a = {.start = 10, .last = 19};
	struct sio_itree_node b = {.start = 20, .last = 24};
	struct sio_itree_node c = {.start = 15, .last = 40};
	struct sio_itree_node d = {.start = 50, .last = 50};
	struct sio_itree t = {0};
	struct sio_itree_span sp;
	const uint64_t want[][3] = {
		{0, 9, 1},   {10, 40, 0},	  {41, 49, 1},
		{50, 50, 0}, {51, UINT64_MAX, 1},
	};
	unsigned int k = 0;

	(void)state;
	sio_itree_insert(&t, &a);
	sio_itree_insert(&t, &b);
	sio_itree_insert(&t, &c);
	sio_itree_insert(&t, &d);
	sio_itree_for_each_span(&sp, &t, 0, UINT64_MAX)
	{
		assert_true(k < 5);
		assert_int_equal(sp.start, want[k][0]);
		assert_int_equal(sp.last, want[k][1]);
		assert_int_equal(sp.is_hole, want[k][2]);
		k++;
	}
	assert_int_equal(k, 5);
	/* clipped to the query */
	k = 0;
	sio_itree_for_each_span(&sp, &t, 12, 45)
	{
		assert_int_equal(sp.start, k ? 41 : 12);
		assert_int_equal(sp.last, k ? 45 : 40);
		k++;
	}
	assert_int_equal(k, 2);
}

struct ctx {
	struct sio_platform *plat;
	struct iommufd_host host;
	struct sio_mem_bus *bus;
	struct iommufd_ctx *ictx;
	struct io_pagetable iopt;
	uint64_t pg;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	assert_int_equal(sio_mem_bus_create(&c->bus), 0);
	iommufd_host_init(&c->host, c->bus);
	assert_int_equal(iommufd_ctx_create(&c->host, &c->ictx), 0);
	iopt_init_table(&c->iopt);
	c->pg = c->host.page_size;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	iopt_unmap_all(&c->iopt, NULL);
	iopt_remove_reserved_iova(&c->iopt, c);
	iopt_destroy_table(&c->iopt);
	iommufd_ctx_put(c->ictx);
	sio_mem_bus_destroy(c->bus);
	free(c);
	return 0;
}

static int iopt_map(struct ctx *c, uint64_t *iova, void *va, uint64_t len,
		    unsigned int flags)
{
	return iopt_map_user_pages(c->ictx, &c->iopt, iova,
				   (uint64_t)(uintptr_t)va, len,
				   IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE,
				   flags);
}

/*
 * A region offered for mmap() before its owner is finalized (a driver's
 * VIOMMU_ALLOC init_data does so) is not handed out until it is: an
 * owner that is still aborted frees itself whatever its users, and a
 * user added in between would be left holding freed memory.
 */
static void test_mmap_waits_for_finalize(void **state)
{
	struct ctx *c = *state;
	struct iommufd_object *obj = calloc(1, sizeof(*obj)), *owner = NULL;
	uint64_t off;
	int fd = -1;

	assert_non_null(obj);
	assert_int_equal(iommufd_object_alloc(c->ictx, obj, IOMMUFD_OBJ_VIOMMU),
			 0);
	assert_int_equal(iommufd_alloc_mmap(c->ictx, obj, 7, c->pg, &off), 0);
	assert_int_equal(iommufd_ctx_mmap(c->ictx, off, c->pg, &fd, &owner),
			 -ENXIO);
	assert_int_equal(atomic_load(&obj->users), 1);
	iommufd_object_finalize(c->ictx, obj);
	assert_int_equal(iommufd_ctx_mmap(c->ictx, off, c->pg, &fd, &owner), 0);
	assert_ptr_equal(owner, obj);
	assert_int_equal(fd, 7);
	assert_int_equal(atomic_load(&obj->users), 2);
	atomic_fetch_sub(&obj->users, 1);
	iommufd_destroy_mmap(c->ictx, obj, off);
	/* back to reserved, so that it can be aborted like a failed alloc */
	obj->finalized = false;
	iommufd_object_abort(c->ictx, obj);
}

static void test_reserved(void **state)
{
	struct ctx *c = *state;
	uint64_t pg = c->pg, iova;
	static uint8_t buf[1 << 16] __attribute__((aligned(1 << 16)));
	struct sio_itree allowed = {0};
	struct iopt_allowed *al;
	struct sio_itree_span sp;
	unsigned int holes = 0;

	/* reserve the bottom 16 pages and [1 GiB, 2 GiB) */
	assert_int_equal(iopt_reserve_iova(&c->iopt, 0, 16 * pg - 1, c), 0);
	assert_int_equal(iopt_reserve_iova(&c->iopt, GiB, 2 * GiB - 1, c), 0);
	/* the same range twice (two devices) is allowed */
	assert_int_equal(iopt_reserve_iova(&c->iopt, GiB, 2 * GiB - 1, c), 0);

	/* IOVA_RANGES reports the holes */
	sio_itree_for_each_span(&sp, &c->iopt.reserved_itree, 0, UINT64_MAX)
	{
		if (!sp.is_hole)
			continue;
		if (holes == 0) {
			assert_int_equal(sp.start, 16 * pg);
			assert_int_equal(sp.last, GiB - 1);
		} else {
			assert_int_equal(sp.start, 2 * GiB);
			assert_int_equal(sp.last, UINT64_MAX);
		}
		holes++;
	}
	assert_int_equal(holes, 2);

	/* a fixed map into reserved space is EINVAL; chosen IOVAs avoid it */
	iova = 8 * pg;
	assert_int_equal(iopt_map(c, &iova, buf, pg, 0), -EINVAL);
	iova = GiB - pg;
	assert_int_equal(iopt_map(c, &iova, buf, 2 * pg, 0), -EINVAL);
	assert_int_equal(iopt_map(c, &iova, buf, pg, IOPT_ALLOC_IOVA), 0);
	assert_int_equal(iova, 16 * pg);
	/* 64 KiB aligned VA and length: the first 64 KiB-aligned hole */
	assert_int_equal(iopt_map(c, &iova, buf, 1 << 16, IOPT_ALLOC_IOVA), 0);
	/* (the page at 16 pages is taken: the next boundary is 128 KiB) */
	if (pg == 4096)
		assert_int_equal(iova, 2 << 16);
	assert_int_equal(iova % (1 << 16), 0);
	assert_true(iova >= 17 * pg);

	/* reserving over an area, or an allowed range, is EADDRINUSE */
	assert_int_equal(iopt_reserve_iova(&c->iopt, 16 * pg, 16 * pg, c),
			 -EADDRINUSE);
	al = calloc(1, sizeof(*al));
	assert_non_null(al);
	al->node.start = 3 * GiB;
	al->node.last = 4 * GiB - 1;
	sio_itree_insert(&allowed, &al->node);
	assert_int_equal(iopt_set_allow_iova(&c->iopt, &allowed), 0);
	iopt_free_itree(&allowed);
	assert_int_equal(iopt_reserve_iova(&c->iopt, 4 * GiB - 1, 4 * GiB, c),
			 -EADDRINUSE);
	/* an allowed list that meets a reserved range is refused whole */
	al = calloc(1, sizeof(*al));
	assert_non_null(al);
	al->node.start = 2 * GiB - 1;
	al->node.last = 2 * GiB + 5;
	sio_itree_insert(&allowed, &al->node);
	assert_int_equal(iopt_set_allow_iova(&c->iopt, &allowed), -EADDRINUSE);
	iopt_free_itree(&allowed);
	assert_int_equal(iopt_map(c, &iova, buf, pg, IOPT_ALLOC_IOVA), 0);
	assert_int_equal(iova, 3 * GiB);

	/* an allowed space too small for the request is ENOSPC */
	assert_int_equal(iopt_map(c, &iova, buf, 2 * GiB, IOPT_ALLOC_IOVA),
			 -ENOSPC);

	iopt_remove_reserved_iova(&c->iopt, c);
	iova = 8 * pg;
	assert_int_equal(iopt_map(c, &iova, buf, pg, 0), 0);
}

/* Pinning: populate, count as the kernel's mode says, register on the bus. */
static void test_pin_accounting(void **state)
{
	struct ctx *c = *state;
	uint64_t pg = c->pg;
	uint8_t *mem = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iopt_pages *p, *q;
	struct rlimit old, rl;

	assert_true(mem != MAP_FAILED);
	atomic_store(&c->host.caps, 0);
	assert_int_equal(iopt_alloc_user_pages(&c->host,
					       (uint64_t)(uintptr_t)mem + 10,
					       4 * pg, true, &p),
			 0);
	/* 4 pages from a byte offset touch 5 pages */
	assert_int_equal(p->npages, 5);
	assert_int_equal(p->account_mode, IOPT_PAGES_ACCOUNT_USER);
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem), 0);
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), 0);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 5);
	assert_int_equal(atomic_load(&c->host.mm_pinned_vm), 5);
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem + 4 * pg),
			 SIO_MEM_RW);
	/* a second user of the same pages counts nothing more */
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), 0);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 5);
	iopt_pages_unpin(p, 0, p->npages - 1);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 5);
	iopt_pages_unpin(p, 0, p->npages - 1);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 0);
	assert_int_equal(atomic_load(&c->host.mm_pinned_vm), 0);
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem), 0);

	/* RLIMIT_MEMLOCK of 3 pages: a 5-page pin is ENOMEM, state intact */
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = 3 * pg;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), -ENOMEM);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 0);
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem), 0);
	/* CAP_IPC_LOCK pages are not counted, so not limited */
	atomic_store(&c->host.caps, SIO_CAP_IPC_LOCK);
	assert_int_equal(iopt_alloc_user_pages(&c->host, (uintptr_t)mem, 8 * pg,
					       false, &q),
			 0);
	assert_int_equal(q->account_mode, IOPT_PAGES_ACCOUNT_NONE);
	assert_int_equal(iopt_pages_pin(q, 0, q->npages - 1), 0);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 0);
	assert_int_equal(atomic_load(&c->host.mm_pinned_vm), 8);
	/* read-only pins register read-only */
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem), SIO_MEM_READ);
	iopt_pages_unpin(q, 0, q->npages - 1);
	iopt_put_pages(q);
	/* MM mode counts mm->locked_vm against the same limit */
	p->account_mode = IOPT_PAGES_ACCOUNT_MM;
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), -ENOMEM);
	rl.rlim_cur = 5 * pg;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), 0);
	assert_int_equal(atomic_load(&c->host.mm_locked_vm), 5);
	assert_int_equal(atomic_load(&c->host.user_locked_vm), 0);
	iopt_pages_unpin(p, 0, p->npages - 1);
	assert_int_equal(atomic_load(&c->host.mm_locked_vm), 0);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);
	iopt_put_pages(p);

	/* unmapped or wrongly protected memory cannot be pinned: EFAULT */
	assert_int_equal(mprotect(mem + 2 * pg, pg, PROT_READ), 0);
	assert_int_equal(iopt_alloc_user_pages(&c->host, (uintptr_t)mem, 4 * pg,
					       true, &p),
			 0);
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), -EFAULT);
	iopt_put_pages(p);
	assert_int_equal(munmap(mem + 6 * pg, pg), 0);
	assert_int_equal(iopt_alloc_user_pages(&c->host,
					       (uintptr_t)mem + 4 * pg, 4 * pg,
					       false, &p),
			 0);
	assert_int_equal(iopt_pages_pin(p, 0, p->npages - 1), -EFAULT);
	assert_int_equal(atomic_load(&c->host.mm_pinned_vm), 0);
	assert_int_equal(sio_mem_perm_at(c->bus, (uintptr_t)mem + 4 * pg), 0);
	iopt_put_pages(p);
	munmap(mem, 8 * pg);
}

/* The user's RLIMIT_MEMLOCK counter and the pinned pages of every mode. */
static void expect_pinned(struct ctx *c, uint64_t locked, uint64_t pinned)
{
	assert_int_equal(atomic_load(&c->host.user_locked_vm), locked);
	assert_int_equal(atomic_load(&c->host.mm_pinned_vm), pinned);
}

/* Which of the first @n pages of @p are pinned, as a bit mask. */
static unsigned int pinned_mask(struct iopt_pages *p, unsigned int n)
{
	unsigned int m = 0;

	for (unsigned int i = 0; i < n; i++)
		m |= (unsigned int)iopt_pages_is_pinned(p, i) << i;
	return m;
}

/* Which of the first @n pages at @mem the bus reaches, as a bit mask. */
static unsigned int bus_mask(struct ctx *c, const uint8_t *mem, unsigned int n)
{
	unsigned int m = 0;

	for (unsigned int i = 0; i < n; i++)
		if (sio_mem_perm_at(c->bus, (uintptr_t)mem + i * c->pg))
			m |= 1u << i;
	return m;
}

static size_t bus_regs(struct ctx *c)
{
	size_t n;

	sio_mem_bus_counts(c->bus, &n, NULL);
	return n;
}

/*
 * Linux pins page ranges (an area's for the domains, an access's own):
 * a page is pinned and counted once while any range holds it, whichever
 * came first, and only the domains' ranges are reachable by DMA.  Here
 * domain ranges [0,3] (twice) and [2,5] and an access's [4,7] over 8
 * pages: a pin over the limit changes nothing; an unpin gives back only
 * what nothing else holds; the program's munmap of a page two ranges
 * hold takes it off the bus and keeps the rest of both.
 */
static void test_pin_ranges_overlap(void **state)
{
	struct ctx *c = *state;
	uint8_t *mem = mmap(NULL, 8 * c->pg, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iopt_area area = {0};
	struct iopt_pages *p;
	struct rlimit old, rl;
	size_t regs0 = bus_regs(c), regs;
	void *out[4];

	assert_true(mem != MAP_FAILED);
	atomic_store(&c->host.caps, 0);
	assert_int_equal(iopt_alloc_user_pages(&c->host, (uintptr_t)mem,
					       8 * c->pg, true, &p),
			 0);
	area.pages = p;

	assert_int_equal(iopt_pages_pin(p, 0, 3), 0);
	expect_pinned(c, 4, 4);
	assert_int_equal(pinned_mask(p, 8), 0x0f);
	assert_int_equal(bus_mask(c, mem, 8), 0x0f);
	/* the same range again: one more user, nothing more counted */
	assert_int_equal(iopt_pages_pin(p, 0, 3), 0);
	expect_pinned(c, 4, 4);
	/* an overlapping range counts only its new pages, 4 and 5 */
	assert_int_equal(iopt_pages_pin(p, 2, 5), 0);
	expect_pinned(c, 6, 6);
	assert_int_equal(pinned_mask(p, 8), 0x3f);
	assert_int_equal(bus_mask(c, mem, 8), 0x3f);

	/* 7 pages of RLIMIT_MEMLOCK: 6 and 7 more do not fit, either way */
	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &old), 0);
	rl = old;
	rl.rlim_cur = 7 * c->pg;
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	regs = bus_regs(c);
	assert_int_equal(iopt_area_add_access(&area, 4, 7, out, 0), -ENOMEM);
	assert_int_equal(iopt_pages_pin(p, 4, 7), -ENOMEM);
	expect_pinned(c, 6, 6);
	assert_int_equal(pinned_mask(p, 8), 0x3f);
	assert_int_equal(bus_regs(c), regs);
	assert_int_equal(area.num_accesses, 0);
	/* a range of pinned pages only costs nothing */
	assert_int_equal(iopt_pages_pin(p, 1, 4), 0);
	expect_pinned(c, 6, 6);
	iopt_pages_unpin(p, 1, 4);
	assert_int_equal(bus_regs(c), regs);
	assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &old), 0);

	/* an access over [4, 7] counts 6 and 7, and reaches no bus */
	assert_int_equal(iopt_area_add_access(&area, 4, 7, out, 0), 0);
	expect_pinned(c, 8, 8);
	assert_int_equal(pinned_mask(p, 8), 0xff);
	assert_int_equal(bus_mask(c, mem, 8), 0x3f);
	assert_ptr_equal(out[0], mem + 4 * c->pg);

	/* [2, 5] goes: 2-3 are [0,3]'s, 4-5 the access's, all still counted */
	iopt_pages_unpin(p, 2, 5);
	expect_pinned(c, 8, 8);
	assert_int_equal(bus_mask(c, mem, 8), 0x0f);
	/* the access goes: 4-7 are nobody's */
	iopt_area_remove_access(&area, false, 4, 7);
	expect_pinned(c, 4, 4);
	assert_int_equal(pinned_mask(p, 8), 0x0f);

	/* the program unmaps page 3, which [0,3] and [2,5] hold */
	assert_int_equal(iopt_pages_pin(p, 2, 5), 0);
	expect_pinned(c, 6, 6);
	iommufd_host_user_unmap(&c->host, (uintptr_t)mem + 3 * c->pg, c->pg,
				false);
	assert_int_equal(bus_mask(c, mem, 8), 0x37);
	expect_pinned(c, 6, 6);
	iopt_pages_unpin(p, 0, 3);
	assert_int_equal(bus_mask(c, mem, 8), 0x37);
	iopt_pages_unpin(p, 0, 3);
	expect_pinned(c, 4, 4);
	assert_int_equal(bus_mask(c, mem, 8), 0x34);
	iopt_pages_unpin(p, 2, 5);
	expect_pinned(c, 0, 0);
	assert_int_equal(pinned_mask(p, 8), 0);
	assert_int_equal(bus_mask(c, mem, 8), 0);
	assert_int_equal(bus_regs(c), regs0);
	iopt_put_pages(p);
	munmap(mem, 8 * c->pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_itree_model),
		cmocka_unit_test(test_itree_spans),
		cmocka_unit_test_setup_teardown(test_reserved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmap_waits_for_finalize,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_accounting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pin_ranges_overlap, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("iommufd/iopt", tests, NULL, NULL);
}
