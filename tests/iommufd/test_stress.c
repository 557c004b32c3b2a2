// SPDX-License-Identifier: MIT
/*
 * Concurrency stress (issue 7): on one platform and one iommufd context,
 * for a bounded time, device DMA threads at random IOVAs of a window race
 * IOAS_MAP (FIXED_IOVA) / IOAS_UNMAP threads, a thread replacing the
 * device's HWPT, and in the nested case a guest editing its stage 1 and
 * invalidating it through its vIOMMU.  Run under ThreadSanitizer by
 * `make check`; SOFTIOMMU_STRESS_SECONDS (default 2) makes each case run
 * longer.
 *
 * Expectations come from the uAPI and the architecture, not from the
 * implementation:
 *  - IOAS_UNMAP returns only after the IOTLB invalidation and its
 *    CMD_SYNC completed, so a DMA that starts after it returned, while no
 *    new map of that range has started, faults.  Likewise a guest's
 *    IOMMU_HWPT_INVALIDATE after it cleared a stage-1 descriptor;
 *  - a successful DMA reaches only what is mapped: every write carries
 *    its range's tag, and afterwards no buffer holds another range's tag
 *    and the guard pages around every buffer are untouched; a successful
 *    read returns only bytes of its own range.
 * Only ordering the test establishes with its own atomics is asserted,
 * never timing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

/*
 * The window: NSLOT ranges of 1..4 pages, each at the start of a stride
 * of SLOT_STRIDE pages; the rest of every stride is never mapped.
 */
#define NSLOT	    16
#define SLOT_STRIDE 8
#define NBUF	    2 /* host buffers per range, used in turn */
#define WIN	    0x80000000ull
#define WIN_PAGES   (NSLOT * SLOT_STRIDE)

#define N_DMA	 3
#define N_MAPPER 2
#define LANE	 64 /* a DMA thread's bytes: every N_DMA-th 64-byte chunk */

/* The nested guest: its RAM (CD, tables) and its IOVA window. */
#define GUEST_IPA   0x40000000ull
#define GUEST_PAGES 8
#define CD_IPA	    (GUEST_IPA + 0x0000)
#define L0_IPA	    (GUEST_IPA + 0x1000)
#define L1_IPA	    (GUEST_IPA + 0x2000)
#define L2_IPA	    (GUEST_IPA + 0x3000)
#define L3_IPA	    (GUEST_IPA + 0x4000)
#define GWIN	    ((1ull << 39) | (2ull << 30)) /* L0 1, L1 2, L2 0 */
#define ASID	    7
#define S1_PAGE	    ((1ull << 10) | (3ull << 8) | (1ull << 6) | 3)

/* Words: a buffer's own fill, a DMA's write; guard bytes. */
#define TAG_FILL  0xf1ull
#define TAG_WRITE 0xd7ull
#define GUARD	  0x5a
#define WORD(tag, slot, mid, low)                                       \
	((tag) << 56 | (uint64_t)(slot) << 40 | (uint64_t)(mid) << 32 | \
	 (uint32_t)(low))

enum mode { MODE_S1, MODE_S2, MODE_NESTED };

/* What went wrong, counted apart so a failure says which property broke. */
enum vkind {
	V_ERRNO,	   /* a DMA returned neither 0 nor -EFAULT */
	V_GAP,		   /* a DMA at a never-mapped page succeeded */
	V_AFTER_UNMAP,	   /* ... after its range's IOAS_UNMAP returned */
	V_AFTER_GUEST_INV, /* ... after the guest's invalidation returned */
	V_READ_DATA,	   /* a read returned another range's bytes */
	V_IOCTL,	   /* a map, unmap, replace, invalidation failed */
	V_BUFFER,	   /* a buffer holds another range's bytes */
	V_GUARD,	   /* a guard byte changed */
	V_NR
};

static const char *const vkind_name[V_NR] = {
	"DMA errno", "never-mapped", "after unmap", "after guest inv",
	"read data", "ioctl",	     "buffer",	    "guard",
};

struct slot {
	uint64_t iova; /* in the IOAS (the IPA in the nested case) */
	uint64_t pages;
	uint8_t *buf[NBUF];
	int next; /* the buffer the next map uses (its mapper's only) */
	/*
	 * Even: unmapped, and the unmap that made it so has returned; odd:
	 * a map may have started.  Bumped before IOAS_MAP and after
	 * IOAS_UNMAP returns.
	 */
	_Atomic uint64_t seq;
	/* the same for the guest's stage-1 descriptors of the range */
	_Atomic uint64_t gseq;
};

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev;
	struct iommufd_device *idev;
	uint32_t dev_id, ioas;
	uint64_t pg;
	enum mode mode;
	uint32_t hwpt[2]; /* what the replace thread switches between */
	uint32_t viommu;
	uint8_t *mem; /* every buffer, between guard pages */
	size_t mem_len;
	uint8_t *ram; /* guest RAM */
	struct slot slot[NSLOT];
	double seconds;

	atomic_bool stop;
	_Atomic uint64_t dma_ok, dma_fault, maps, unmaps, replaces, ginv;
	_Atomic uint64_t violations, by_kind[V_NR];
	pthread_mutex_t msg_lock;
	char msg[256]; /* the first violation */
};

struct worker {
	struct fx *f;
	int id;
};

static void violation(struct fx *f, enum vkind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void violation(struct fx *f, enum vkind kind, const char *fmt, ...)
{
	va_list ap;

	atomic_fetch_add(&f->by_kind[kind], 1);
	pthread_mutex_lock(&f->msg_lock);
	if (!atomic_fetch_add(&f->violations, 1)) {
		va_start(ap, fmt);
		vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&f->msg_lock);
}

static int ioctl_(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static int map_fixed(struct fx *f, void *va, uint64_t len, uint64_t iova)
{
	return ifd_map_fixed(f->fd, f->ioas, va, len, iova);
}

static int unmap(struct fx *f, uint64_t iova, uint64_t len, uint64_t *done)
{
	return ifd_unmap(f->fd, f->ioas, iova, len, done);
}

static int hwpt_alloc(struct fx *f, uint32_t pt_id, uint32_t flags,
		      const void *data, uint32_t len, uint32_t *out)
{
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.flags = flags,
		.dev_id = f->dev_id,
		.pt_id = pt_id,
		.data_type = data ? SIO_IOMMU_HWPT_DATA_ARM_SMMUV3 : 0,
		.data_len = data ? len : 0,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	int rc = ioctl_(f, SIO_IOMMU_HWPT_ALLOC, &c);

	*out = c.out_hwpt_id;
	return rc;
}

static double stress_seconds(void)
{
	const char *s = getenv("SOFTIOMMU_STRESS_SECONDS");
	double v = s ? strtod(s, NULL) : 0;

	return v > 0 ? v : 2.0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_iommu_ioas_alloc c = {.size = sizeof(c)};
	size_t pages = 1;
	uint8_t *p;

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	assert_non_null(f->pdev);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &f->pdev->desc,
					     &f->dev_id, &f->idev),
			 0);
	assert_int_equal(ioctl_(f, SIO_IOMMU_IOAS_ALLOC, &c), 0);
	f->ioas = c.out_ioas_id;
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->seconds = stress_seconds();
	pthread_mutex_init(&f->msg_lock, NULL);

	/* [guard][buf][guard][buf]...[guard], every buffer its own pages */
	for (int i = 0; i < NSLOT; i++)
		pages += NBUF * (1 + (size_t)(i % 4) + 1);
	f->mem_len = pages * f->pg;
	f->mem = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->mem != MAP_FAILED);
	memset(f->mem, GUARD, f->mem_len);
	p = f->mem + f->pg;
	for (int i = 0; i < NSLOT; i++) {
		struct slot *s = &f->slot[i];

		s->iova = WIN + (uint64_t)i * SLOT_STRIDE * f->pg;
		s->pages = 1 + (uint64_t)(i % 4);
		for (int b = 0; b < NBUF; b++) {
			uint64_t *w = (uint64_t *)p;

			s->buf[b] = p;
			for (size_t k = 0; k < s->pages * f->pg / 8; k++)
				w[k] = WORD(TAG_FILL, i, b, k);
			p += (s->pages + 1) * f->pg;
		}
	}
	f->ram = mmap(NULL, GUEST_PAGES * 0x1000 + f->pg,
		      PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		      0);
	assert_true(f->ram != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	iommufd_device_unbind(f->idev);
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	munmap(f->mem, f->mem_len);
	munmap(f->ram, GUEST_PAGES * 0x1000 + f->pg);
	pthread_mutex_destroy(&f->msg_lock);
	free(f);
	return 0;
}

/* The device's address of @slot's byte @off (guest IOVA when nested). */
static uint64_t dev_addr(struct fx *f, int slot, uint64_t off)
{
	uint64_t a = f->slot[slot].iova + off;

	return f->mode == MODE_NESTED ? a - WIN + GWIN : a;
}

static bool stable_unmapped(uint64_t before, uint64_t after)
{
	return !(before & 1) && before == after;
}

static void *dma_thread(void *arg)
{
	struct worker *w = arg;
	struct fx *f = w->f;
	struct sio_smmu *smmu = sio_platform_smmu(f->plat);
	uint64_t seed = 0x9e3779b97f4a7c15ull * (uint64_t)(w->id + 1);
	uint64_t words[LANE / 8];
	uint32_t count = 0;

	do {
		uint64_t r = sio_test_rand(&seed);
		int i = (int)(r % NSLOT);
		struct slot *s = &f->slot[i];
		bool gap = (r >> 8) % 16 == 0, wr = (r >> 12) & 1;
		/* a 64-byte chunk of this thread's lane, in the range */
		uint64_t chunks = s->pages * f->pg / LANE;
		uint64_t c = ((r >> 16) % (chunks / N_DMA)) * N_DMA +
			     (uint64_t)w->id;
		uint64_t nw = 1 + (r >> 40) % (LANE / 8);
		uint64_t off = c * LANE + ((r >> 48) % (LANE / 8 - nw + 1)) * 8;
		uint64_t s0, s1, g0, g1, addr;
		struct sio_smmu_txn t = {.sid = f->pdev->sid};
		size_t done = 0;
		int rc;

		/* a gap page: never mapped, must always fault */
		if (gap)
			off = s->pages * f->pg + off % f->pg;
		addr = dev_addr(f, i, off);
		for (uint64_t k = 0; k < nw; k++)
			words[k] = wr ? WORD(TAG_WRITE, i, w->id, count++) : 0;
		t.addr = addr;
		t.attr = wr ? SIO_SMMU_WRITE : 0;
		s0 = atomic_load(&s->seq);
		g0 = atomic_load(&s->gseq);
		rc = sio_smmu_dma(smmu, &t, words, nw * 8, &done);
		s1 = atomic_load(&s->seq);
		g1 = atomic_load(&s->gseq);
		if (rc && rc != -EFAULT) {
			violation(f, V_ERRNO, "DMA at %#llx: %d",
				  (unsigned long long)addr, rc);
			continue;
		}
		if (rc) {
			atomic_fetch_add(&f->dma_fault, 1);
			continue;
		}
		atomic_fetch_add(&f->dma_ok, 1);
		if (gap)
			violation(f, V_GAP,
				  "DMA at never-mapped %#llx succeeded",
				  (unsigned long long)addr);
		else if (stable_unmapped(s0, s1))
			violation(f, V_AFTER_UNMAP,
				  "%s of range %d at %#llx succeeded after "
				  "its IOAS_UNMAP returned (seq %llu)",
				  wr ? "write" : "read", i,
				  (unsigned long long)addr,
				  (unsigned long long)s0);
		else if (f->mode == MODE_NESTED && stable_unmapped(g0, g1))
			violation(f, V_AFTER_GUEST_INV,
				  "%s of range %d at %#llx succeeded after "
				  "the guest's invalidation returned",
				  wr ? "write" : "read", i,
				  (unsigned long long)addr);
		if (wr)
			continue;
		for (uint64_t k = 0; k < nw; k++) {
			uint64_t tag = words[k] >> 56;

			if ((tag != TAG_FILL && tag != TAG_WRITE) ||
			    ((words[k] >> 40) & 0xffff) != (uint64_t)i) {
				violation(f, V_READ_DATA,
					  "read of range %d at %#llx returned "
					  "%#llx",
					  i, (unsigned long long)addr,
					  (unsigned long long)words[k]);
				break;
			}
		}
	} while (!atomic_load(&f->stop));
	return NULL;
}

/*
 * Mapper @id owns the ranges [id * NSLOT / N_MAPPER, ...): it maps one
 * that is unmapped, or unmaps one that is mapped together with the mapped
 * ranges that follow it (one IOAS_UNMAP over the gaps between them).
 */
static void *mapper_thread(void *arg)
{
	struct worker *w = arg;
	struct fx *f = w->f;
	const int per = NSLOT / N_MAPPER, first = w->id * per;
	uint64_t seed = 0x5851f42d4c957f2dull * (uint64_t)(w->id + 1);

	do {
		uint64_t r = sio_test_rand(&seed);
		int i = first + (int)(r % (uint64_t)per), last = i;
		struct slot *s = &f->slot[i];
		uint64_t want = 0, done = 0;
		int rc;

		if (!(atomic_load(&s->seq) & 1)) {
			atomic_fetch_add(&s->seq, 1);
			rc = map_fixed(f, s->buf[s->next], s->pages * f->pg,
				       s->iova);
			if (rc)
				violation(f, V_IOCTL,
					  "IOAS_MAP of range %d: %d", i, rc);
			s->next = (s->next + 1) % NBUF;
			atomic_fetch_add(&f->maps, 1);
			continue;
		}
		for (int n = (int)((r >> 32) % 4); n > 0; n--) {
			if (last + 1 >= first + per ||
			    !(atomic_load(&f->slot[last + 1].seq) & 1))
				break;
			last++;
		}
		for (int k = i; k <= last; k++)
			want += f->slot[k].pages * f->pg;
		rc = unmap(f, s->iova,
			   f->slot[last].iova + f->slot[last].pages * f->pg -
				   s->iova,
			   &done);
		if (rc || done != want)
			violation(f, V_IOCTL,
				  "IOAS_UNMAP of ranges %d-%d: %d, %llu bytes",
				  i, last, rc, (unsigned long long)done);
		for (int k = i; k <= last; k++)
			atomic_fetch_add(&f->slot[k].seq, 1);
		atomic_fetch_add(&f->unmaps, 1);
	} while (!atomic_load(&f->stop));
	return NULL;
}

static void *replace_thread(void *arg)
{
	struct fx *f = arg;
	uint32_t n = 0;

	do {
		uint32_t pt = f->hwpt[++n % 2];
		int rc = iommufd_device_replace(f->idev, &pt);

		if (rc)
			violation(f, V_IOCTL, "replace to %u: %d",
				  f->hwpt[n % 2], rc);
		atomic_fetch_add(&f->replaces, 1);
		sched_yield();
	} while (!atomic_load(&f->stop));
	return NULL;
}

static void wr_pte(struct fx *f, uint64_t ipa, uint64_t v)
{
	/* the SMMU's walker reads guest RAM concurrently: one atomic store */
	__atomic_store_n((uint64_t *)(f->ram + (ipa - GUEST_IPA)), v,
			 __ATOMIC_RELEASE);
}

static int vinv(struct fx *f, const uint64_t (*cmds)[2], uint32_t num)
{
	struct sio_iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = f->viommu,
		.data_uptr = (uint64_t)(uintptr_t)cmds,
		.data_type = SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = 16,
		.entry_num = num,
	};

	return ioctl_(f, SIO_IOMMU_HWPT_INVALIDATE, &c);
}

/*
 * The guest: clears the stage-1 descriptors of a range and invalidates
 * them (TLBI_NH_VA per page, or TLBI_NH_ALL), or puts them back (no
 * invalidation needed: a translation fault is never cached).
 */
static void *guest_thread(void *arg)
{
	struct fx *f = arg;
	uint64_t seed = 0xda942042e4dd58b5ull;

	do {
		uint64_t r = sio_test_rand(&seed), cmds[4][2];
		int i = (int)(r % NSLOT), rc;
		struct slot *s = &f->slot[i];
		uint64_t page0 = (s->iova - WIN) / 0x1000;

		if (!(atomic_load(&s->gseq) & 1)) {
			atomic_fetch_add(&s->gseq, 1);
			for (uint64_t p = 0; p < s->pages; p++)
				wr_pte(f, L3_IPA + 8 * (page0 + p),
				       (s->iova + p * 0x1000) | S1_PAGE);
			continue;
		}
		for (uint64_t p = 0; p < s->pages; p++) {
			wr_pte(f, L3_IPA + 8 * (page0 + p), 0);
			cmds[p][0] = 0x12 | (uint64_t)ASID << 48; /* NH_VA */
			cmds[p][1] = (GWIN + (page0 + p) * 0x1000) |
				     ((r >> 32) & 1); /* Leaf */
		}
		if ((r >> 40) % 4 == 0) {
			cmds[0][0] = 0x10; /* TLBI_NH_ALL */
			cmds[0][1] = 0;
			rc = vinv(f, cmds, 1);
		} else {
			rc = vinv(f, cmds, (uint32_t)s->pages);
		}
		if (rc)
			violation(f, V_IOCTL,
				  "guest invalidation of range %d: %d", i, rc);
		atomic_fetch_add(&s->gseq, 1);
		atomic_fetch_add(&f->ginv, 1);
	} while (!atomic_load(&f->stop));
	return NULL;
}

/* A 4 KiB-granule, 48-bit stage 1 over the whole window, and its CD. */
static void guest_tables(struct fx *f)
{
	uint32_t idr5 = sio_smmu_read32(sio_platform_smmu(f->plat), 0x14);
	uint64_t cd0 = 16 | 1ull << 8 | 1ull << 10 | 3ull << 12 | 1ull << 30 |
		       1ull << 31 | (uint64_t)(idr5 & 7) << 32 | 1ull << 41 |
		       1ull << 45 | 1ull << 46 | (uint64_t)ASID << 48;

	memset(f->ram, 0, GUEST_PAGES * 0x1000);
	wr_pte(f, L0_IPA + 8 * 1, L1_IPA | 3);
	wr_pte(f, L1_IPA + 8 * 2, L2_IPA | 3);
	wr_pte(f, L2_IPA + 8 * 0, L3_IPA | 3);
	/* every page, gaps too: theirs lead to IPAs stage 2 never maps */
	for (uint64_t p = 0; p < WIN_PAGES; p++)
		wr_pte(f, L3_IPA + 8 * p, (WIN + p * 0x1000) | S1_PAGE);
	for (int i = 0; i < NSLOT; i++)
		atomic_store(&f->slot[i].gseq, 1);
	wr_pte(f, CD_IPA + 8, L0_IPA);
	wr_pte(f, CD_IPA + 24, 0xff);
	wr_pte(f, CD_IPA, cd0);
}

static void nested_setup(struct fx *f)
{
	struct sio_iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = f->dev_id,
	};
	struct sio_iommu_vdevice_alloc vd = {
		.size = sizeof(vd), .dev_id = f->dev_id, .virt_id = 8};
	/* V, Config stage 1, the CD; S1STALLD: nothing ever stalls */
	struct sio_iommu_hwpt_arm_smmuv3 vste = {
		.ste = {1 | 5ull << 1 | CD_IPA,
			1ull << 2 | 1ull << 4 | 3ull << 6 | 1ull << 27}};
	uint32_t parent;

	/* the guest's tables are 4 KiB-granule, its IPAs host pages */
	if (f->pg != 0x1000)
		skip();
	assert_int_equal(hwpt_alloc(f, f->ioas,
				    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT, NULL, 0,
				    &parent),
			 0);
	guest_tables(f);
	assert_int_equal(map_fixed(f, f->ram,
				   GUEST_PAGES * 0x1000 > f->pg
					   ? GUEST_PAGES * 0x1000
					   : f->pg,
				   GUEST_IPA),
			 0);
	va.hwpt_id = parent;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VIOMMU_ALLOC, &va), 0);
	f->viommu = va.out_viommu_id;
	vd.viommu_id = f->viommu;
	assert_int_equal(ioctl_(f, SIO_IOMMU_VDEVICE_ALLOC, &vd), 0);
	/* two nested HWPTs with the same vSTE: replacing is invisible */
	for (int k = 0; k < 2; k++)
		assert_int_equal(hwpt_alloc(f, f->viommu, 0, &vste,
					    sizeof(vste), &f->hwpt[k]),
				 0);
}

static void run(void **state, enum mode mode)
{
	struct fx *f = *state;
	struct worker dw[N_DMA], mw[N_MAPPER];
	pthread_t dt[N_DMA], mt[N_MAPPER], rt, gt;
	struct timespec t0;
	uint32_t pt;

	f->mode = mode;
	if (mode == MODE_NESTED) {
		nested_setup(f);
		pt = f->hwpt[0];
	} else {
		/* the IOAS's automatic domain, and a second paging HWPT */
		pt = f->ioas;
		if (mode == MODE_S2)
			assert_int_equal(
				hwpt_alloc(f, f->ioas,
					   SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
					   NULL, 0, &pt),
				0);
	}
	/*
	 * Stage 1: the IOAS itself, as replacing away frees its automatic
	 * HWPT (the kernel's too) and replacing back makes a new one.
	 */
	f->hwpt[0] = pt;
	assert_int_equal(iommufd_device_attach(f->idev, &pt), 0);
	if (mode != MODE_NESTED)
		assert_int_equal(
			hwpt_alloc(f, f->ioas,
				   mode == MODE_S2
					   ? SIO_IOMMU_HWPT_ALLOC_NEST_PARENT
					   : 0,
				   NULL, 0, &f->hwpt[1]),
			0);

	for (int i = 0; i < N_DMA; i++) {
		dw[i] = (struct worker){f, i};
		assert_int_equal(
			pthread_create(&dt[i], NULL, dma_thread, &dw[i]), 0);
	}
	for (int i = 0; i < N_MAPPER; i++) {
		mw[i] = (struct worker){f, i};
		assert_int_equal(
			pthread_create(&mt[i], NULL, mapper_thread, &mw[i]), 0);
	}
	assert_int_equal(pthread_create(&rt, NULL, replace_thread, f), 0);
	if (mode == MODE_NESTED)
		assert_int_equal(pthread_create(&gt, NULL, guest_thread, f), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sio_test_elapsed(&t0) < f->seconds)
		usleep(20000);
	atomic_store(&f->stop, true);
	for (int i = 0; i < N_DMA; i++)
		pthread_join(dt[i], NULL);
	for (int i = 0; i < N_MAPPER; i++)
		pthread_join(mt[i], NULL);
	pthread_join(rt, NULL);
	if (mode == MODE_NESTED)
		pthread_join(gt, NULL);

	/* the buffers: their own fill or their own range's writes */
	for (int i = 0; i < NSLOT; i++) {
		for (int b = 0; b < NBUF; b++) {
			const uint64_t *wd =
				(const uint64_t *)f->slot[i].buf[b];

			for (size_t k = 0; k < f->slot[i].pages * f->pg / 8;
			     k++) {
				if (wd[k] == WORD(TAG_FILL, i, b, k))
					continue;
				if (wd[k] >> 56 == TAG_WRITE &&
				    ((wd[k] >> 40) & 0xffff) == (uint64_t)i)
					continue;
				violation(f, V_BUFFER,
					  "range %d buffer %d word %zu: %#llx",
					  i, b, k, (unsigned long long)wd[k]);
				break;
			}
		}
	}
	/* the guard pages: untouched */
	for (uint8_t *p = f->mem; p < f->mem + f->mem_len; p += f->pg) {
		bool buf = false;

		for (int i = 0; i < NSLOT && !buf; i++)
			for (int b = 0; b < NBUF; b++)
				if (p >= f->slot[i].buf[b] &&
				    p < f->slot[i].buf[b] +
						    f->slot[i].pages * f->pg)
					buf = true;
		for (uint64_t k = 0; !buf && k < f->pg; k++)
			if (p[k] != GUARD) {
				violation(f, V_GUARD, "guard byte %zu changed",
					  (size_t)(p + k - f->mem));
				break;
			}
	}

	printf("# %s %.1f s: DMA %llu ok %llu faulted, %llu maps, %llu "
	       "unmaps, %llu replaces, %llu guest invalidations, %llu "
	       "violations\n",
	       mode == MODE_NESTED ? "nested"
	       : mode == MODE_S2   ? "stage 2"
				   : "stage 1",
	       sio_test_elapsed(&t0),
	       (unsigned long long)atomic_load(&f->dma_ok),
	       (unsigned long long)atomic_load(&f->dma_fault),
	       (unsigned long long)atomic_load(&f->maps),
	       (unsigned long long)atomic_load(&f->unmaps),
	       (unsigned long long)atomic_load(&f->replaces),
	       (unsigned long long)atomic_load(&f->ginv),
	       (unsigned long long)atomic_load(&f->violations));
	for (int k = 0; k < V_NR; k++)
		if (atomic_load(&f->by_kind[k]))
			printf("#   %s: %llu\n", vkind_name[k],
			       (unsigned long long)atomic_load(&f->by_kind[k]));
	if (atomic_load(&f->violations))
		fail_msg("%llu violations, the first: %s",
			 (unsigned long long)atomic_load(&f->violations),
			 f->msg);
	/* every thread ran at least once (do-while), so there was work */
	assert_true(atomic_load(&f->maps) > 0);
	assert_true(atomic_load(&f->dma_ok) + atomic_load(&f->dma_fault) > 0);
	iommufd_device_detach(f->idev);
}

static void test_stress_stage1(void **state)
{
	run(state, MODE_S1);
}

static void test_stress_stage2(void **state)
{
	run(state, MODE_S2);
}

static void test_stress_nested(void **state)
{
	run(state, MODE_NESTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stress_stage1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stress_stage2, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stress_nested, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
