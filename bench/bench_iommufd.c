// SPDX-License-Identifier: MIT
/*
 * iommufd benchmark: the IOAS_MAP + IOAS_UNMAP round trip of 4 KiB and
 * of 1 GiB (2 MiB aligned) through the library's ioctl entry, against
 * the cost of one syscall and of one fault-safe syscall copy
 * (process_vm_readv) in the same run.  No device is attached yet, so no
 * page is pinned, as with the kernel's iommufd before a domain exists.
 *
 * The same 4 KiB round trip through the interposer: the preload library
 * is dlopen()ed and its own open/ioctl entry points are called, which is
 * what an interposed program's ioctl(2) reaches (minus one PLT jump),
 * against ioctl(2) of libc on /dev/null (a real syscall, ENOTTY) and the
 * interposer's ioctl on that same plain fd (its cost for other files).
 * Every figure is the median of several runs.
 *
 * Usage: bench-iommufd [runs]   (default 7, at least 5)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#include <softiommu/iommufd.h>

#include "uapi/iommufd_abi.h"

#define ROUNDS 20000

static int runs = 7;

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench-iommufd: %s failed: %d\n", what, rc);
	exit(1);
}

static double round_trip_ns(struct sio_iommufd *fd, uint32_t ioas, void *va,
			    uint64_t len, int rounds)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < rounds; i++) {
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_READABLE |
				 SIO_IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas,
			.user_va = (uint64_t)(uintptr_t)va,
			.length = len,
		};
		struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
						 .ioas_id = ioas};
		int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_MAP, &m);

		if (rc)
			die("IOAS_MAP", rc);
		u.iova = m.iova;
		u.length = len;
		rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &u);
		if (rc || u.length != len)
			die("IOAS_UNMAP", rc);
	}
	return (double)(now_ns() - t0) / rounds;
}

/* The interposer's entry points, from the dlopen()ed library. */
struct preload_fns {
	int (*open)(const char *, int, ...);
	int (*ioctl)(int, unsigned long, ...);
	int (*close)(int);
};

static void preload_load(struct preload_fns *p)
{
	void *h = dlopen(SIO_PRELOAD_PATH, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		fprintf(stderr, "bench-iommufd: %s\n", dlerror());
		exit(1);
	}
	*(void **)&p->open = dlsym(h, "open");
	*(void **)&p->ioctl = dlsym(h, "ioctl");
	*(void **)&p->close = dlsym(h, "close");
	if (!p->open || !p->ioctl || !p->close)
		die("dlsym", -1);
}

static double preload_round_trip_ns(const struct preload_fns *p, int fd,
				    uint32_t ioas, void *va, int rounds)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < rounds; i++) {
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_READABLE |
				 SIO_IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = ioas,
			.user_va = (uint64_t)(uintptr_t)va,
			.length = 4096,
		};
		struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
						 .ioas_id = ioas};

		if (p->ioctl(fd, SIO_IOMMU_IOAS_MAP, &m))
			die("interposed IOAS_MAP", -1);
		u.iova = m.iova;
		u.length = 4096;
		if (p->ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &u) || u.length != 4096)
			die("interposed IOAS_UNMAP", -1);
	}
	return (double)(now_ns() - t0) / rounds;
}

/* One ioctl on /dev/null through @fn: a real syscall failing ENOTTY. */
static double null_ioctl_ns(int (*fn)(int, unsigned long, ...), int fd)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++)
		if (fn(fd, SIO_IOMMU_IOAS_MAP, NULL) != -1)
			die("ioctl /dev/null", -1);
	return (double)(now_ns() - t0) / ROUNDS;
}

static double syscall_ns(void)
{
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++)
		syscall(SYS_getppid);
	return (double)(now_ns() - t0) / ROUNDS;
}

static double pvr_ns(void)
{
	uint8_t src[40] = {1}, dst[40];
	pid_t me = getpid();
	uint64_t t0 = now_ns();

	for (int i = 0; i < ROUNDS; i++) {
		struct iovec l = {dst, sizeof(dst)}, r = {src, sizeof(src)};

		if (process_vm_readv(me, &l, 1, &r, 1, 0) != sizeof(dst))
			die("process_vm_readv", -1);
	}
	return (double)(now_ns() - t0) / ROUNDS;
}

int main(int argc, char **argv)
{
	double small[MAX_RUNS], huge[MAX_RUNS], sys[MAX_RUNS], pvr[MAX_RUNS];
	double pre[MAX_RUNS], nul[MAX_RUNS], pnul[MAX_RUNS];
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_iommu_ioas_alloc pa = {.size = sizeof(pa)};
	struct preload_fns pf;
	int pfd, nfd;
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	uint8_t *buf, *gib;
	int rc;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 5 || runs > MAX_RUNS)
		runs = 7;
	if ((rc = sio_platform_create(&plat)) ||
	    (rc = sio_iommufd_open(plat, &fd)))
		die("open", rc);
	rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a);
	if (rc)
		die("IOAS_ALLOC", rc);
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* 1 GiB of address space, 2 MiB aligned; never touched */
	gib = mmap(NULL, (1ull << 30) + (2u << 20), PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (buf == MAP_FAILED || gib == MAP_FAILED)
		die("mmap", -1);
	preload_load(&pf);
	pfd = pf.open("/dev/iommu", O_RDWR | O_CLOEXEC);
	nfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (pfd < 0 || nfd < 0 || pf.ioctl(pfd, SIO_IOMMU_IOAS_ALLOC, &pa))
		die("interposed open", -1);
	gib = (uint8_t *)(((uintptr_t)gib + (2u << 20) - 1) &
			  ~(uintptr_t)((2u << 20) - 1));

	for (int r = 0; r < runs; r++) {
		small[r] = round_trip_ns(fd, a.out_ioas_id, buf, 4096, ROUNDS);
		huge[r] = round_trip_ns(fd, a.out_ioas_id, gib, 1ull << 30,
					ROUNDS / 10);
		sys[r] = syscall_ns();
		pvr[r] = pvr_ns();
		pre[r] = preload_round_trip_ns(&pf, pfd, pa.out_ioas_id, buf,
					       ROUNDS);
		nul[r] = null_ioctl_ns(ioctl, nfd);
		pnul[r] = null_ioctl_ns(pf.ioctl, nfd);
	}
	double s = median(small, runs), h = median(huge, runs);
	double y = median(sys, runs), p = median(pvr, runs);
	double ip = median(pre, runs), n = median(nul, runs);
	double pn = median(pnul, runs);

	printf("iommufd (library entry, no domain), medians of %d runs\n",
	       runs);
	printf("  IOAS_MAP+UNMAP 4 KiB      %8.0f ns  (%.2fx a syscall, %.2fx "
	       "a process_vm_readv)\n",
	       s, s / y, s / p);
	printf("  IOAS_MAP+UNMAP 1 GiB      %8.0f ns  (%.2fx a syscall)\n", h,
	       h / y);
	printf("  baseline: syscall (getppid) %6.0f ns, process_vm_readv 40 B "
	       "%6.0f ns\n",
	       y, p);
	printf("through the interposer (ioctl(2) on /dev/iommu)\n");
	printf("  IOAS_MAP+UNMAP 4 KiB      %8.0f ns  (%.2fx the library "
	       "entry, %.2fx an ioctl(2) on /dev/null)\n",
	       ip, ip / s, ip / n);
	printf("  ioctl(2) /dev/null: libc %6.0f ns, via the interposer "
	       "%6.0f ns (%.2fx)\n",
	       n, pn, pn / n);
	pf.close(pfd);
	close(nfd);
	sio_iommufd_close(fd);
	sio_platform_destroy(plat);
	return 0;
}
