// SPDX-License-Identifier: MIT
/*
 * iommufd benchmark: the IOAS_MAP + IOAS_UNMAP round trip of 4 KiB and
 * of 1 GiB (2 MiB aligned) through the library's ioctl entry, against
 * the cost of one syscall and of one fault-safe syscall copy
 * (process_vm_readv) in the same run, first with no device attached, so
 * no page is pinned, as with the kernel's iommufd before a domain exists.
 *
 * The same 4 KiB round trip through the interposer: the preload library
 * is dlopen()ed and its own open/ioctl entry points are called, which is
 * what an interposed program's ioctl(2) reaches (minus one PLT jump),
 * against ioctl(2) of libc on /dev/null (a real syscall, ENOTTY) and the
 * interposer's ioctl on that same plain fd (its cost for other files).
 *
 * Then with a device attached (issue 4): the I/OAT function 0000:00:04.0
 * is opened, bound and attached to a second IOAS through its VFIO device
 * file (the ioctls and pread/pwrite a program's calls reach), so every
 * IOAS_MAP pins and maps into the SMMUv3 stage-1 domain and every
 * IOAS_UNMAP invalidates it (CMD_TLBI_NH_ASID + CMD_SYNC):
 *
 *  - the 4 KiB round trip, against ioctl(2) on /dev/null;
 *  - IOAS_MAP and IOAS_UNMAP of 1 GiB, IOVA and buffer 2 MiB aligned, the
 *    buffer hugetlb or THP backed and populated first, against
 *    madvise(MADV_POPULATE_WRITE) of that populated GiB: the kernel's
 *    page walk, which is what pinning costs here (pages.c) and the floor
 *    of any pin of it; the domain's 2 MiB blocks are counted afterwards;
 *  - the device's DMA: chains of 4 KiB copy descriptors run by the I/OAT
 *    engine through the SMMUv3 model, doorbells by exact MMIO (pwrite of
 *    the device file's BAR0 region), completion by the last descriptor's
 *    writeback, against memcpy of the same 4 KiB copies and of one hot
 *    4 KiB pair in the same run.
 *
 * Every figure is the median of several runs.
 *
 * Usage: bench-iommufd [runs]   (default 7, at least 5)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

#include <softiommu/iommufd.h>
#include <softiommu/smmu.h>

#include "devices/ioat/ioat_regs.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define ROUNDS 20000

static int runs = 7;

static _Noreturn void die(const char *what, int rc)
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

/* The same round trip, IOAS_MAP and IOAS_UNMAP timed apart: ns each. */
static void split_round_trip_ns(struct sio_iommufd *fd, uint32_t ioas, void *va,
				int rounds, double *map_ns, double *unmap_ns)
{
	uint64_t tm = 0, tu = 0;

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
		uint64_t t0 = now_ns(), t1, t2;
		int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_MAP, &m);

		t1 = now_ns();
		if (rc)
			die("IOAS_MAP", rc);
		u.iova = m.iova;
		u.length = 4096;
		rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &u);
		t2 = now_ns();
		if (rc || u.length != 4096)
			die("IOAS_UNMAP", rc);
		tm += t1 - t0;
		tu += t2 - t1;
	}
	*map_ns = (double)tm / rounds;
	*unmap_ns = (double)tu / rounds;
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

#define SZ_2M	   (2ull << 20)
#define SZ_1G	   (1ull << 30)
#define GIB_IOVA   (1ull << 30) /* 2 MiB aligned, clear of the MSI window */
#define GIB_ROUNDS 3		/* 1 GiB maps and unmaps per run */
#define DMA_IOVA   (1ull << 32)
#define DMA_DESCS  1024 /* descriptors per chain: 4 MiB copied */
#define DMA_CHAINS 8	/* chains per run */
#define DMA_WARMUP 4	/* and untimed ones before them */
#define PG	   4096u

/* include/uapi/linux/pci_regs.h */
#define PCI_COMMAND	     0x04
#define PCI_COMMAND_MEMORY   0x2
#define PCI_COMMAND_MASTER   0x4
#define PCI_COMMAND_INTX_OFF 0x400

#define CHAN(reg) (0x80 + (reg))

/* The I/OAT function, bound and attached through its VFIO device file. */
struct dev {
	struct platform_device *pdev;
	struct sio_vfio_pci_dev *vdev;
	uint32_t ioas, hwpt;
};

/*
 * The fd number the bench's iommufd stands for: without the interposer
 * no fd names an iommufd, so the bench resolves this one itself.
 */
#define BENCH_IOMMUFD 1000

static struct iommufd_ctx *bench_ictx;

static int resolve_iommufd(int fd, struct iommufd_ctx **out)
{
	if (fd != BENCH_IOMMUFD)
		return -EBADF;
	iommufd_ctx_get(bench_ictx);
	*out = bench_ictx;
	return 0;
}

static void region_write(struct dev *d, unsigned int index, uint64_t off,
			 unsigned int size, uint64_t val)
{
	if (sio_vfio_pci_pwrite(d->vdev, &val, size,
				SIO_VFIO_PCI_INDEX_TO_OFFSET(index) + off) !=
	    (ssize_t)size)
		die("device pwrite", -1);
}

static uint64_t region_read(struct dev *d, unsigned int index, uint64_t off,
			    unsigned int size)
{
	uint64_t v = 0;

	if (sio_vfio_pci_pread(d->vdev, &v, size,
			       SIO_VFIO_PCI_INDEX_TO_OFFSET(index) + off) !=
	    (ssize_t)size)
		die("device pread", -1);
	return v;
}

static void bar_write(struct dev *d, uint64_t off, unsigned int size,
		      uint64_t val)
{
	region_write(d, SIO_VFIO_PCI_BAR0_REGION_INDEX, off, size, val);
}

static uint64_t bar_read(struct dev *d, uint64_t off, unsigned int size)
{
	return region_read(d, SIO_VFIO_PCI_BAR0_REGION_INDEX, off, size);
}

/*
 * What a VFIO program does: open the device, bind it to the iommufd,
 * attach it to a new IOAS (an automatic stage-1 domain), turn on memory
 * decoding and bus mastering, and reset the channel.
 */
static void dev_setup(struct sio_platform *plat, struct sio_iommufd *fd,
		      struct dev *d)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = BENCH_IOMMUFD};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	int rc;

	d->pdev = platform_find_device(plat, "0000:00:04.0");
	if (!d->pdev)
		die("platform_find_device", -ENODEV);
	bench_ictx = platform_iommufd_ctx(fd);
	platform_set_iommufd_resolver(plat, resolve_iommufd);
	if ((rc = platform_device_open(d->pdev, &d->vdev)) ||
	    (rc = sio_vfio_pci_ioctl(d->vdev, SIO_VFIO_DEVICE_BIND_IOMMUFD,
				     &b)))
		die("VFIO_DEVICE_BIND_IOMMUFD", rc);
	rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a);
	if (rc)
		die("IOAS_ALLOC", rc);
	d->ioas = a.out_ioas_id;
	at.pt_id = d->ioas;
	rc = sio_vfio_pci_ioctl(d->vdev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&at);
	if (rc || at.pt_id == d->ioas)
		die("VFIO_DEVICE_ATTACH_IOMMUFD_PT", rc);
	d->hwpt = at.pt_id;
	region_write(d, SIO_VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, 2,
		     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			     PCI_COMMAND_INTX_OFF);
	bar_write(d, CHAN(IOAT2_CHANCMD_OFFSET), 1, IOAT_CHANCMD_RESET);
	for (int i = 0;
	     bar_read(d, CHAN(IOAT2_CHANCMD_OFFSET), 1) & IOAT_CHANCMD_RESET;
	     i++)
		if (i == 100000)
			die("channel reset", -ETIMEDOUT);
		else
			usleep(10);
	if ((bar_read(d, CHAN(IOAT_CHANSTS_OFFSET), 8) & IOAT_CHANSTS_STATUS) !=
	    IOAT_CHANSTS_HALTED)
		die("channel reset", -EIO);
}

static int map_fixed(struct sio_iommufd *fd, uint32_t ioas, void *va,
		     uint64_t len, uint64_t iova)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_MAP, &m);
}

static int unmap(struct sio_iommufd *fd, uint32_t ioas, uint64_t iova,
		 uint64_t len)
{
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = ioas,
					 .iova = iova,
					 .length = len};
	int rc = sio_iommufd_ioctl(fd, SIO_IOMMU_IOAS_UNMAP, &u);

	return rc ? rc : u.length == len ? 0 : -EIO;
}

/*
 * @len bytes of anonymous memory, 2 MiB aligned and backed by huge pages:
 * hugetlb if the system has them reserved, else THP in a mapping 2 MiB
 * longer, aligned by hand.  *@how says which.
 */
static uint8_t *huge_alloc(uint64_t len, const char **how)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p != MAP_FAILED) {
		*how = "hugetlb 2 MiB pages";
		return p;
	}
	p = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap", -errno);
	p = (uint8_t *)(((uintptr_t)p + SZ_2M - 1) & ~(uintptr_t)(SZ_2M - 1));
	if (madvise(p, len, MADV_HUGEPAGE))
		*how = "4 KiB pages (no THP)";
	else
		*how = "THP";
	return p;
}

/* This process's AnonHugePages, in MiB (-1 if unknown). */
static long anon_huge_mib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[128];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : kib >> 10;
}

/*
 * 1 GiB mapped into the domain and unmapped again, each round after the
 * baseline, MADV_POPULATE_WRITE of the same (populated) GiB: ns each.
 * A first round is not counted: the first walk of the GiB after other
 * work misses the caches on the kernel's page tables (up to 2x slower).
 */
static void gib_ns(struct sio_iommufd *fd, uint32_t ioas, uint8_t *va,
		   double *pop_ns, double *map_ns, double *unmap_ns)
{
	uint64_t tp = 0, tm = 0, tu = 0;

	for (int i = -1; i < GIB_ROUNDS; i++) {
		uint64_t t0 = now_ns(), t1, t2, t3;
		int rc;

		if (madvise(va, SZ_1G, MADV_POPULATE_WRITE))
			die("MADV_POPULATE_WRITE", -errno);
		t1 = now_ns();
		rc = map_fixed(fd, ioas, va, SZ_1G, GIB_IOVA);
		t2 = now_ns();
		if (rc)
			die("IOAS_MAP 1 GiB with a domain", rc);
		rc = unmap(fd, ioas, GIB_IOVA, SZ_1G);
		t3 = now_ns();
		if (rc)
			die("IOAS_UNMAP 1 GiB with a domain", rc);
		if (i < 0)
			continue;
		tp += t1 - t0;
		tm += t2 - t1;
		tu += t3 - t2;
	}
	*pop_ns = (double)tp / GIB_ROUNDS;
	*map_ns = (double)tm / GIB_ROUNDS;
	*unmap_ns = (double)tu / GIB_ROUNDS;
}

/*
 * The leaves the domain holds for [iova, iova + len), seen the way the
 * device sees them: one SMMU translation per leaf, each reporting the
 * bytes its block or page covers.
 */
static void count_leaves(struct sio_platform *plat, uint32_t sid, uint64_t iova,
			 uint64_t len, uint64_t *blocks, uint64_t *pages)
{
	struct sio_smmu *smmu = sio_platform_smmu(plat);

	*blocks = *pages = 0;
	for (uint64_t a = iova; a < iova + len;) {
		struct sio_smmu_txn t = {.sid = sid, .addr = a};
		struct sio_smmu_result r;

		if (sio_smmu_translate(smmu, &t, &r))
			die("translate", -EFAULT);
		if (r.size >= SZ_2M)
			(*blocks)++;
		else
			(*pages)++;
		a += r.size;
	}
}

/* The DMA working set: sources, destinations, descriptors, completion. */
struct dma_buf {
	uint8_t *base, *src, *dst;
	struct ioat_dma_descriptor *desc;
	uint64_t *cmp;
	uint64_t len;
};

static uint64_t dma_iova(const struct dma_buf *b, const void *p)
{
	return DMA_IOVA + (uint64_t)((const uint8_t *)p - b->base);
}

static void dma_setup(struct sio_iommufd *fd, struct dev *d, struct dma_buf *b)
{
	const char *how;
	int rc;

	b->len = 2ull * DMA_DESCS * PG + DMA_DESCS * 64 + PG;
	b->len = (b->len + SZ_2M - 1) & ~(SZ_2M - 1);
	b->base = huge_alloc(b->len, &how);
	memset(b->base, 0, b->len);
	b->src = b->base;
	b->dst = b->src + (uint64_t)DMA_DESCS * PG;
	b->desc = (struct ioat_dma_descriptor *)(b->dst +
						 (uint64_t)DMA_DESCS * PG);
	b->cmp = (uint64_t *)(b->desc + DMA_DESCS);
	for (uint64_t i = 0; i < (uint64_t)DMA_DESCS * PG; i++)
		b->src[i] = (uint8_t)(i * 7 + i / PG);
	for (int i = 0; i < DMA_DESCS; i++)
		b->desc[i] = (struct ioat_dma_descriptor){
			.size = PG,
			.ctl = (IOAT_OP_COPY << IOAT_DESC_OP_SHIFT) |
			       (i == DMA_DESCS - 1 ? IOAT_DESC_COMPL_WRITE : 0),
			.src_addr = dma_iova(b, b->src + (uint64_t)i * PG),
			.dst_addr = dma_iova(b, b->dst + (uint64_t)i * PG),
			.next = dma_iova(b, &b->desc[(i + 1) % DMA_DESCS]),
		};
	rc = map_fixed(fd, d->ioas, b->base, b->len, DMA_IOVA);
	if (rc)
		die("IOAS_MAP of the DMA buffers", rc);
	bar_write(d, CHAN(IOAT_CHANCMP_OFFSET), 8, dma_iova(b, b->cmp));
}

/*
 * One chain: CHAINADDR, DMACOUNT, then wait for the last descriptor's
 * completion writeback (as drivers poll) and check CHANSTS says DONE.
 */
static void dma_chain(struct dev *d, struct dma_buf *b)
{
	uint64_t last = dma_iova(b, &b->desc[DMA_DESCS - 1]), v;

	__atomic_store_n(b->cmp, 0, __ATOMIC_RELAXED);
	bar_write(d, CHAN(IOAT2_CHAINADDR_OFFSET), 8, dma_iova(b, b->desc));
	bar_write(d, CHAN(IOAT_CHAN_DMACOUNT_OFFSET), 2, DMA_DESCS);
	/* poll, leaving the CPU to a busy neighbour (the engine, maybe) */
	while (!(v = __atomic_load_n(b->cmp, __ATOMIC_ACQUIRE)))
		sched_yield();
	if (v != (last | IOAT_CHANSTS_DONE) ||
	    bar_read(d, CHAN(IOAT_CHANSTS_OFFSET), 8) != v)
		die("DMA chain", -EIO);
}

/*
 * ns per chain of DMA_DESCS 4 KiB copies by the device.  The first
 * chains are not counted: after the rest of a run the engine thread
 * often wakes on the CPU of the thread waiting for it, and runs at a
 * fraction of its speed until the scheduler moves one of them.
 */
static double dma_ns(struct dev *d, struct dma_buf *b)
{
	uint64_t t0 = 0;

	for (int c = -DMA_WARMUP; c < DMA_CHAINS; c++) {
		if (!c)
			t0 = now_ns();
		dma_chain(d, b);
	}
	return (double)(now_ns() - t0) / DMA_CHAINS;
}

/* The same copies by memcpy, and as many of one hot 4 KiB pair. */
static double memcpy_chain_ns(struct dma_buf *b, bool hot)
{
	uint64_t t0 = now_ns();

	for (int c = 0; c < DMA_CHAINS; c++)
		for (uint64_t i = 0; i < DMA_DESCS; i++) {
			uint64_t off = hot ? 0 : i * PG;

			memcpy(b->dst + off, b->src + off, PG);
			__asm__ volatile("" : : "r"(b->dst) : "memory");
		}
	return (double)(now_ns() - t0) / DMA_CHAINS;
}

static double gbps(double chain_ns)
{
	return (double)DMA_DESCS * PG / chain_ns;
}

int main(int argc, char **argv)
{
	double small[MAX_RUNS], huge[MAX_RUNS], sys[MAX_RUNS], pvr[MAX_RUNS];
	double pre[MAX_RUNS], nul[MAX_RUNS], pnul[MAX_RUNS];
	double dmap[MAX_RUNS], dunmap[MAX_RUNS], dma[MAX_RUNS];
	double gpop[MAX_RUNS], gmap[MAX_RUNS], gunmap[MAX_RUNS];
	double mcp[MAX_RUNS], mhot[MAX_RUNS];
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	struct sio_iommu_ioas_alloc pa = {.size = sizeof(pa)};
	struct preload_fns pf;
	int pfd, nfd;
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct dev dev;
	struct dma_buf db;
	uint64_t blocks, pages;
	const char *backing;
	long thp_mib;
	uint8_t *buf, *gib, *pop;
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

	/*
	 * A device attached to its own IOAS; 1 GiB populated as in use.
	 * Pins are not counted, as for a VFIO program with CAP_IPC_LOCK (or
	 * a memlock limit raised for it), so that the GiB can be pinned
	 * whoever runs the bench.
	 */
	sio_platform_set_caps(plat,
			      atomic_load(&plat->host.caps) | SIO_CAP_IPC_LOCK);
	dev_setup(plat, fd, &dev);
	pop = huge_alloc(SZ_1G, &backing);
	for (uint64_t off = 0; off < SZ_1G; off += PG)
		pop[off] = 1;
	thp_mib = anon_huge_mib();
	dma_setup(fd, &dev, &db);
	dma_chain(&dev, &db); /* a first chain, checked */
	if (memcmp(db.dst, db.src, (size_t)DMA_DESCS * PG))
		die("DMA copy", -EIO);
	rc = map_fixed(fd, dev.ioas, pop, SZ_1G, GIB_IOVA);
	if (rc)
		die("IOAS_MAP 1 GiB with a domain", rc);
	count_leaves(plat, dev.pdev->sid, GIB_IOVA, SZ_1G, &blocks, &pages);
	if ((rc = unmap(fd, dev.ioas, GIB_IOVA, SZ_1G)))
		die("IOAS_UNMAP 1 GiB with a domain", rc);

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
		split_round_trip_ns(fd, dev.ioas, buf, ROUNDS / 4, &dmap[r],
				    &dunmap[r]);
		gib_ns(fd, dev.ioas, pop, &gpop[r], &gmap[r], &gunmap[r]);
		dma[r] = dma_ns(&dev, &db);
		mcp[r] = memcpy_chain_ns(&db, false);
		mhot[r] = memcpy_chain_ns(&db, true);
	}
	double s = median(small, runs), h = median(huge, runs);
	double y = median(sys, runs), p = median(pvr, runs);
	double ip = median(pre, runs), n = median(nul, runs);
	double pn = median(pnul, runs);
	double dm4 = median(dmap, runs), du4 = median(dunmap, runs);
	double gm = median(gmap, runs), gu = median(gunmap, runs);
	double gp = median(gpop, runs), dm = median(dma, runs);
	double mc = median(mcp, runs), mh = median(mhot, runs);

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
	printf("with a device attached (I/OAT 0000:00:04.0, SMMUv3 stage-1 "
	       "domain)\n");
	printf("  IOAS_MAP+UNMAP 4 KiB      %8.0f ns  (%.2fx an ioctl(2) on "
	       "/dev/null, %.2fx without a domain)  target < 2000 ns\n",
	       dm4 + du4, (dm4 + du4) / n, (dm4 + du4) / s);
	printf("    of which IOAS_MAP %.0f ns (%.2fx), IOAS_UNMAP %.0f ns "
	       "(%.2fx)\n",
	       dm4, dm4 / n, du4, du4 / n);
	printf("  IOAS_MAP 1 GiB            %8.0f ns  (%.2fx "
	       "MADV_POPULATE_WRITE of it)  target < 1 ms\n",
	       gm, gm / gp);
	printf("  IOAS_UNMAP 1 GiB          %8.0f ns  (%.2fx "
	       "MADV_POPULATE_WRITE of it)\n",
	       gu, gu / gp);
	printf("  baseline: MADV_POPULATE_WRITE of the populated GiB %8.0f ns "
	       "(%s",
	       gp, backing);
	if (thp_mib >= 0 && !strcmp(backing, "THP"))
		printf(", AnonHugePages %ld MiB", thp_mib);
	printf(")\n  the domain mapped the GiB with %" PRIu64
	       " 2 MiB blocks and %" PRIu64 " 4 KiB pages\n",
	       blocks, pages);
	printf("device DMA, chains of %d 4 KiB copies (I/OAT engine, SMMUv3)\n",
	       DMA_DESCS);
	printf("  DMA                       %8.2f GB/s  %6.0f ns/descriptor  "
	       "(%.0f%% of memcpy of the same copies, %.0f%% of a hot 4 KiB "
	       "memcpy)  target >= 70%%\n",
	       gbps(dm), dm / DMA_DESCS, 100 * mc / dm, 100 * mh / dm);
	printf("  baseline: memcpy of the same copies %6.2f GB/s (%.0f ns "
	       "each), hot 4 KiB %6.2f GB/s (%.0f ns)\n",
	       gbps(mc), mc / DMA_DESCS, gbps(mh), mh / DMA_DESCS);
	pf.close(pfd);
	close(nfd);
	/* the last close unbinds; the automatic domain goes with it */
	platform_device_close(dev.pdev);
	sio_iommufd_close(fd);
	sio_platform_destroy(plat);
	return 0;
}
