// SPDX-License-Identifier: MIT
/*
 * The IOAS_MAP + IOAS_UNMAP round trip as a program pays for it: this is
 * a user program (libc and the ABI headers, no libsoftiommu), run under
 * `softiommu exec`, so every call is an ioctl(2) that the interposer
 * answers.  It opens /dev/iommu and the VFIO cdev of the I/OAT function
 * 0000:00:04.0, binds and attaches it, so that maps pin and fill an
 * SMMUv3 stage-1 domain and unmaps invalidate it (TLBI + CMD_SYNC)
 * before they return.
 *
 * Baselines, in the same run: an ioctl(2) on /dev/null (a real syscall
 * that fails with ENOTTY, through the same interposed entry point) and,
 * for the GiB, madvise(MADV_POPULATE_WRITE) of the same populated GiB —
 * the kernel's page walk over it, which is what pinning costs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ROUNDS	   20000
#define GIB_ROUNDS 8
#define SZ_2M	   (2ull << 20)
#define SZ_1G	   (1ull << 30)
#define GIB_IOVA   (1ull << 32)
#define RW	   (SIO_IOMMU_IOAS_MAP_READABLE | SIO_IOMMU_IOAS_MAP_WRITEABLE)

static int runs = 7;

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "bench-uapi: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

struct bench {
	int iommufd, dev, null;
	uint32_t dev_id;
	uint32_t viommu; /* a vSMMU over a stage-2 domain, for invalidations */
	uint32_t ioas;	 /* no device attached: nothing is pinned */
	uint32_t dev_ioas; /* the device's: maps pin and fill its domain */
	uint8_t *page, *gib;
	bool gib_ok;
};

static uint32_t ioas_alloc(struct bench *b)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	if (ioctl(b->iommufd, SIO_IOMMU_IOAS_ALLOC, &a))
		die("IOAS_ALLOC");
	return a.out_ioas_id;
}

static int map(struct bench *b, uint32_t ioas, void *va, uint64_t len,
	       uint64_t *iova, uint32_t flags)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int rc = ioctl(b->iommufd, SIO_IOMMU_IOAS_MAP, &m);

	*iova = m.iova;
	return rc;
}

static int unmap(struct bench *b, uint32_t ioas, uint64_t iova, uint64_t len)
{
	struct sio_iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};

	if (ioctl(b->iommufd, SIO_IOMMU_IOAS_UNMAP, &u))
		return -1;
	return u.length == len ? 0 : (errno = EIO, -1);
}

/* ns per 4 KiB round trip at a kernel-chosen IOVA; MAP and UNMAP apart. */
static void round_trip_ns(struct bench *b, uint32_t ioas, double *map_ns,
			  double *unmap_ns)
{
	uint64_t tm = 0, tu = 0;

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t iova = 0, t0 = now_ns(), t1, t2;

		if (map(b, ioas, b->page, 4096, &iova, RW))
			die("IOAS_MAP 4 KiB");
		t1 = now_ns();
		if (unmap(b, ioas, iova, 4096))
			die("IOAS_UNMAP 4 KiB");
		t2 = now_ns();
		tm += t1 - t0;
		tu += t2 - t1;
	}
	*map_ns = (double)tm / ROUNDS;
	*unmap_ns = (double)tu / ROUNDS;
}

/* The same round trip without the clock reads in between. */
static double round_trip_total_ns(struct bench *b, uint32_t ioas)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++) {
		uint64_t iova = 0;

		if (map(b, ioas, b->page, 4096, &iova, RW))
			die("IOAS_MAP 4 KiB");
		if (unmap(b, ioas, iova, 4096))
			die("IOAS_UNMAP 4 KiB");
	}
	return (double)(now_ns() - t0) / ROUNDS;
}

static double null_ioctl_ns(struct bench *b)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++)
		if (ioctl(b->null, SIO_IOMMU_IOAS_MAP, NULL) != -1)
			die("ioctl on /dev/null");
	return (double)(now_ns() - t0) / ROUNDS;
}

/*
 * 1 GiB, IOVA and buffer 2 MiB aligned, mapped and unmapped; each round
 * after its baseline.  The first round is not counted: the first walk of
 * the GiB after other work misses on the kernel's page tables.
 */
static void gib_ns(struct bench *b, double *pop, double *mapped,
		   double *unmapped)
{
	uint64_t tp = 0, tm = 0, tu = 0;

	for (int i = -1; i < GIB_ROUNDS; i++) {
		uint64_t iova = GIB_IOVA, t0 = now_ns(), t1, t2, t3;

		if (madvise(b->gib, SZ_1G, MADV_POPULATE_WRITE))
			die("MADV_POPULATE_WRITE");
		t1 = now_ns();
		if (map(b, b->dev_ioas, b->gib, SZ_1G, &iova,
			RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA))
			die("IOAS_MAP 1 GiB");
		t2 = now_ns();
		if (unmap(b, b->dev_ioas, GIB_IOVA, SZ_1G))
			die("IOAS_UNMAP 1 GiB");
		t3 = now_ns();
		if (i < 0)
			continue;
		tp += t1 - t0;
		tm += t2 - t1;
		tu += t3 - t2;
	}
	*pop = (double)tp / GIB_ROUNDS;
	*mapped = (double)tm / GIB_ROUNDS;
	*unmapped = (double)tu / GIB_ROUNDS;
}

/* What a VFIO program does first: bind the device, attach it. */
static void device_setup(struct bench *b)
{
	struct sio_vfio_device_bind_iommufd bind = {.argsz = sizeof(bind),
						    .iommufd = b->iommufd};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};

	b->dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	if (b->dev < 0)
		die("open /dev/vfio/devices/vfio0");
	if (ioctl(b->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("VFIO_DEVICE_BIND_IOMMUFD");
	b->dev_id = bind.out_devid;
	b->dev_ioas = ioas_alloc(b);
	at.pt_id = b->dev_ioas;
	if (ioctl(b->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
}

/* A VMM's nesting setup: a NEST_PARENT HWPT and a vSMMU on it. */
static void viommu_setup(struct bench *b)
{
	struct sio_iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
		.dev_id = b->dev_id,
		.pt_id = ioas_alloc(b),
	};
	struct sio_iommu_viommu_alloc v = {
		.size = sizeof(v),
		.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
		.dev_id = b->dev_id,
	};

	if (ioctl(b->iommufd, SIO_IOMMU_HWPT_ALLOC, &h))
		die("HWPT_ALLOC NEST_PARENT");
	v.hwpt_id = h.out_hwpt_id;
	if (ioctl(b->iommufd, SIO_IOMMU_VIOMMU_ALLOC, &v))
		die("VIOMMU_ALLOC");
	b->viommu = v.out_viommu_id;
}

/*
 * ns per IOMMU_HWPT_INVALIDATE of one guest TLBI_NH_VA: converted,
 * issued with its CMD_SYNC, done when the ioctl returns.
 */
static double invalidate_ns(struct bench *b)
{
	uint64_t cmd[2] = {0x12 /* TLBI_NH_VA */ | (5ull << 48), 0x1000};
	struct sio_iommu_hwpt_invalidate inv = {
		.size = sizeof(inv),
		.hwpt_id = b->viommu,
		.data_uptr = (uint64_t)(uintptr_t)cmd,
		.data_type = SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(cmd),
	};
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++) {
		inv.entry_num = 1;
		if (ioctl(b->iommufd, SIO_IOMMU_HWPT_INVALIDATE, &inv))
			die("HWPT_INVALIDATE");
	}
	return (double)(now_ns() - t0) / ROUNDS;
}

/*
 * The GiB: hugetlb pages if the system has them reserved, else THP,
 * every page touched.  Pinning it needs RLIMIT_MEMLOCK of 1 GiB unless
 * the process has CAP_IPC_LOCK; without either the GiB is skipped.
 */
static void gib_setup(struct bench *b)
{
	struct rlimit rl;
	uint64_t iova = GIB_IOVA;
	uint8_t *p;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2 * SZ_1G) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	p = mmap(NULL, SZ_1G, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED) {
		p = mmap(NULL, SZ_1G + SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap 1 GiB");
		p = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
		madvise(p, SZ_1G, MADV_HUGEPAGE);
	}
	for (uint64_t off = 0; off < SZ_1G; off += 4096)
		p[off] = 1;
	b->gib = p;
	b->gib_ok = !map(b, b->dev_ioas, p, SZ_1G, &iova,
			 RW | SIO_IOMMU_IOAS_MAP_FIXED_IOVA);
	if (b->gib_ok && unmap(b, b->dev_ioas, GIB_IOVA, SZ_1G))
		die("IOAS_UNMAP 1 GiB");
	if (!b->gib_ok)
		fprintf(stderr,
			"bench-uapi: IOAS_MAP of 1 GiB: %s (RLIMIT_MEMLOCK "
			"too low without CAP_IPC_LOCK?): skipped\n",
			strerror(errno));
}

int main(int argc, char **argv)
{
	double nul[MAX_RUNS], plain[MAX_RUNS], total[MAX_RUNS];
	double dmap[MAX_RUNS], dunmap[MAX_RUNS];
	double gpop[MAX_RUNS], gmap[MAX_RUNS], gunmap[MAX_RUNS];
	double inv[MAX_RUNS];
	struct bench b = {0};

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 5 || runs > MAX_RUNS)
		runs = 7;
	b.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (b.iommufd < 0) {
		fprintf(stderr, "bench-uapi: no /dev/iommu: run me under "
				"`softiommu exec`\n");
		return 1;
	}
	b.null = open("/dev/null", O_RDWR | O_CLOEXEC);
	b.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b.null < 0 || b.page == MAP_FAILED)
		die("setup");
	b.ioas = ioas_alloc(&b);
	device_setup(&b);
	viommu_setup(&b);
	gib_setup(&b);

	for (int r = 0; r < runs; r++) {
		nul[r] = null_ioctl_ns(&b);
		plain[r] = round_trip_total_ns(&b, b.ioas);
		round_trip_ns(&b, b.dev_ioas, &dmap[r], &dunmap[r]);
		total[r] = round_trip_total_ns(&b, b.dev_ioas);
		if (b.gib_ok)
			gib_ns(&b, &gpop[r], &gmap[r], &gunmap[r]);
		inv[r] = invalidate_ns(&b);
	}

	double n = median(nul, runs), p = median(plain, runs);
	double t = median(total, runs);
	double m = median(dmap, runs), u = median(dunmap, runs);

	printf("through the interposer (ioctl(2) under softiommu exec), "
	       "medians of %d runs\n",
	       runs);
	printf("  baseline: ioctl(2) on /dev/null %8.0f ns\n", n);
	printf("  IOAS_MAP+UNMAP 4 KiB, no device %8.0f ns  (%.2fx an "
	       "ioctl(2))\n",
	       p, p / n);
	printf("  IOAS_MAP+UNMAP 4 KiB, device    %8.0f ns  (%.2fx an "
	       "ioctl(2))  target < 2000 ns\n",
	       t, t / n);
	printf("    timed apart: IOAS_MAP %.0f ns, IOAS_UNMAP %.0f ns\n", m, u);
	{
		double i = median(inv, runs);

		printf("  HWPT_INVALIDATE, one TLBI_NH_VA  %8.0f ns  (%.2fx an "
		       "ioctl(2))  target < 1000 ns\n",
		       i, i / n);
	}
	if (b.gib_ok) {
		double gp = median(gpop, runs), gm = median(gmap, runs);
		double gu = median(gunmap, runs);

		printf("  baseline: MADV_POPULATE_WRITE of the populated GiB "
		       "%8.0f ns\n",
		       gp);
		printf("  IOAS_MAP 1 GiB, device          %8.0f ns  (%.2fx "
		       "populate)  target < 1 ms\n",
		       gm, gm / gp);
		printf("  IOAS_UNMAP 1 GiB, device        %8.0f ns  (%.2fx "
		       "populate)\n",
		       gu, gu / gp);
	}
	close(b.dev);
	close(b.iommufd);
	return 0;
}
