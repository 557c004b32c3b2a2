// SPDX-License-Identifier: MIT
/*
 * The legacy VFIO path's map/unmap cost beside native iommufd, as a
 * program pays for it: a user program (libc and the ABI headers, no
 * libsoftiommu) run under `softiommu exec`, every call an ioctl(2) the
 * interposer answers.
 *
 *  - native: /dev/iommu, the cdev of 0000:00:04.0 bound and attached to
 *    an IOAS; IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP.
 *  - the four container modes of the kernel's VFIO selftests, each on
 *    group 1 (0000:00:04.1) with its device fd open, so that its maps
 *    pin and fill an SMMUv3 domain as the native ones do:
 *    VFIO_IOMMU_MAP_DMA + VFIO_IOMMU_UNMAP_DMA.
 *  - a raw baseline: ioctl(2) on /dev/null (ENOTTY), a real syscall
 *    through the same interposed entry point.
 *
 * 4 KiB and 1 GiB (IOVA and buffer 2 MiB aligned) round trips; each
 * figure the median of several runs, printed with its ratio to native.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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

#define ROUNDS	   20000
#define GIB_ROUNDS 3
#define SZ_4K	   4096ull
#define SZ_2M	   (2ull << 20)
#define SZ_1G	   (1ull << 30)
#define IOVA_4K	   0x10000000ull
#define IOVA_1G	   (1ull << 32)

/* native, then the selftests' four modes (lib/iommu.c) */
enum mode { NATIVE, TYPE1, TYPE1V2, COMPAT_TYPE1, COMPAT_TYPE1V2, NR_MODES };

static const char *const mode_name[NR_MODES] = {
	"iommufd IOAS_MAP/UNMAP (native)",
	"vfio_type1_iommu",
	"vfio_type1v2_iommu",
	"iommufd_compat_type1",
	"iommufd_compat_type1v2",
};

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "bench-vfio: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

/* What one mode maps through: an iommufd IOAS or a container. */
struct path {
	enum mode mode;
	int fd; /* the iommufd, or the container */
	int group, dev;
	uint32_t ioas;
};

/* ---- native iommufd ---- */

static void native_open(struct path *p)
{
	struct sio_vfio_device_bind_iommufd bind = {.argsz = sizeof(bind)};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	p->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (p->fd < 0)
		die("open /dev/iommu (run me under `softiommu exec`)");
	p->dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	if (p->dev < 0)
		die("open /dev/vfio/devices/vfio0");
	bind.iommufd = p->fd;
	if (ioctl(p->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind))
		die("VFIO_DEVICE_BIND_IOMMUFD");
	if (ioctl(p->fd, SIO_IOMMU_IOAS_ALLOC, &a))
		die("IOAS_ALLOC");
	p->ioas = a.out_ioas_id;
	at.pt_id = p->ioas;
	if (ioctl(p->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
}

static int native_map(struct path *p, void *va, uint64_t len, uint64_t iova)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE |
			 SIO_IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = p->ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(p->fd, SIO_IOMMU_IOAS_MAP, &m);
}

static int native_unmap(struct path *p, uint64_t len, uint64_t iova)
{
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = p->ioas,
					 .iova = iova,
					 .length = len};

	if (ioctl(p->fd, SIO_IOMMU_IOAS_UNMAP, &u))
		return -1;
	return u.length == len ? 0 : (errno = EIO, -1);
}

/* ---- a container (the selftest library's init) ---- */

static void container_open(struct path *p)
{
	bool compat = p->mode == COMPAT_TYPE1 || p->mode == COMPAT_TYPE1V2;
	unsigned long type = p->mode == TYPE1 || p->mode == COMPAT_TYPE1
				     ? SIO_VFIO_TYPE1_IOMMU
				     : SIO_VFIO_TYPE1v2_IOMMU;

	p->fd = open(compat ? "/dev/iommu" : "/dev/vfio/vfio",
		     O_RDWR | O_CLOEXEC);
	p->group = open("/dev/vfio/1", O_RDWR | O_CLOEXEC);
	if (p->fd < 0 || p->group < 0)
		die("open container and group");
	if (ioctl(p->group, SIO_VFIO_GROUP_SET_CONTAINER, &p->fd))
		die("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(p->fd, SIO_VFIO_SET_IOMMU, type))
		die("VFIO_SET_IOMMU");
	p->dev = ioctl(p->group, SIO_VFIO_GROUP_GET_DEVICE_FD, "0000:00:04.1");
	if (p->dev < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
}

static int container_map(struct path *p, void *va, uint64_t len, uint64_t iova)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	return ioctl(p->fd, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

static int container_unmap(struct path *p, uint64_t len, uint64_t iova)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = len};

	if (ioctl(p->fd, SIO_VFIO_IOMMU_UNMAP_DMA, &u))
		return -1;
	return u.size == len ? 0 : (errno = EIO, -1);
}

static void path_close(struct path *p)
{
	close(p->dev);
	if (p->mode != NATIVE)
		close(p->group);
	close(p->fd);
}

static int path_map(struct path *p, void *va, uint64_t len, uint64_t iova)
{
	return p->mode == NATIVE ? native_map(p, va, len, iova)
				 : container_map(p, va, len, iova);
}

static int path_unmap(struct path *p, uint64_t len, uint64_t iova)
{
	return p->mode == NATIVE ? native_unmap(p, len, iova)
				 : container_unmap(p, len, iova);
}

/* ns per MAP + UNMAP round trip of @len bytes at @va, @rounds times. */
static double round_trip_ns(struct path *p, void *va, uint64_t len,
			    uint64_t iova, int rounds)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < rounds; i++) {
		if (path_map(p, va, len, iova))
			die("MAP");
		if (path_unmap(p, len, iova))
			die("UNMAP");
	}
	return (double)(now_ns() - t0) / rounds;
}

static double null_ioctl_ns(int null)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++)
		if (ioctl(null, SIO_VFIO_IOMMU_MAP_DMA, NULL) != -1)
			die("ioctl on /dev/null");
	return (double)(now_ns() - t0) / ROUNDS;
}

/*
 * The GiB: hugetlb pages if reserved, else THP, every page touched.
 * Pinning it needs RLIMIT_MEMLOCK of 1 GiB or CAP_IPC_LOCK.
 */
static uint8_t *gib_alloc(void)
{
	struct rlimit rl;
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
	for (uint64_t off = 0; off < SZ_1G; off += SZ_4K)
		p[off] = 1;
	return p;
}

struct figures {
	double small[NR_MODES][MAX_RUNS], gib[NR_MODES][MAX_RUNS];
	double null[MAX_RUNS];
};

/*
 * One run: the native path stays open (its device is 04.0); each mode
 * opens its container on group 1, measures and closes, as a program
 * would.  The first GiB round of each is not counted: the first walk of
 * the GiB after other work misses on the kernel's page tables.
 */
static void run_once(struct figures *fg, int r, struct path *native,
		     uint8_t *page, uint8_t *gib, int null)
{
	fg->null[r] = null_ioctl_ns(null);
	for (int m = NATIVE; m < NR_MODES; m++) {
		struct path c = {.mode = (enum mode)m}, *p = native;

		if (m != NATIVE) {
			container_open(&c);
			p = &c;
		}
		fg->small[m][r] =
			round_trip_ns(p, page, SZ_4K, IOVA_4K, ROUNDS);
		round_trip_ns(p, gib, SZ_1G, IOVA_1G, 1);
		fg->gib[m][r] =
			round_trip_ns(p, gib, SZ_1G, IOVA_1G, GIB_ROUNDS);
		if (m != NATIVE)
			path_close(&c);
	}
}

static void report(struct figures *fg, int runs)
{
	double small[NR_MODES], gib[NR_MODES], null = median(fg->null, runs);

	for (int m = 0; m < NR_MODES; m++) {
		small[m] = median(fg->small[m], runs);
		gib[m] = median(fg->gib[m], runs);
	}
	printf("bench-vfio: MAP + UNMAP round trips, medians of %d runs "
	       "(4 KiB x %d, 1 GiB x %d each)\n",
	       runs, ROUNDS, GIB_ROUNDS);
	printf("  %-34s %12s %7s %12s %7s\n", "path", "4 KiB ns", "ratio",
	       "1 GiB us", "ratio");
	for (int m = 0; m < NR_MODES; m++)
		printf("  %-34s %12.0f %7.2f %12.1f %7.2f\n", mode_name[m],
		       small[m], small[m] / small[NATIVE], gib[m] / 1e3,
		       gib[m] / gib[NATIVE]);
	printf("  %-34s %12.0f %7.2f\n", "ioctl(2) on /dev/null (ENOTTY)", null,
	       null / small[NATIVE]);
}

int main(int argc, char **argv)
{
	static struct figures fg;
	struct path native = {.mode = NATIVE};
	int runs = argc > 1 ? atoi(argv[1]) : 5;
	uint8_t *page, *gib;
	int null;

	if (runs < 3 || runs > MAX_RUNS)
		runs = 5;
	native_open(&native);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	page = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (null < 0 || page == MAP_FAILED)
		die("setup");
	page[0] = 1;
	gib = gib_alloc();
	for (int r = 0; r < runs; r++)
		run_once(&fg, r, &native, page, gib, null);
	report(&fg, runs);
	path_close(&native);
	return 0;
}
