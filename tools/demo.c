// SPDX-License-Identifier: MIT
/*
 * softiommu demo: a narrated user-space driver on the default platform.
 * The demo re-runs itself under `softiommu exec`, so the second half is
 * an ordinary program: it opens /dev/iommu and the VFIO cdev, maps its
 * buffers, attaches the I/OAT DMA engine, copies through the SMMUv3, then
 * unmaps the destination and shows the fault — the device's channel
 * error and the SMMU's event record (SOFTIOMMU_LOG=events).
 * `softiommu demo vfio` does the same on the legacy path: a type1
 * container, the device's group, MAP_DMA/UNMAP_DMA; then demo_dpdk.c
 * runs a DPDK-style driver in all five DMA set-ups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tools.h"
#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

/* drivers/dma/ioat/registers.h and hw.h */
#define CBVER		0x08
#define CHANCTRL	0x80
#define CHANCMD		0x84
#define DMACOUNT	0x86
#define CHANSTS		0x88
#define CHAINADDR	0x90
#define CHANCMP		0x98
#define CHANERR		0xa8
#define CHANCMD_RESET	0x20
#define CTL_COMPL_WRITE (1u << 3)
#define PCI_COMMAND	0x04
#define IOVA		0x10000000ull

struct demo {
	int iommufd, dev;
	uint32_t ioas;
	uint8_t *mem; /* src, dst, descriptor, completion: one page each */
	long pg;
};

static const char *const chansts_name[] = {
	"ACTIVE", "DONE", "SUSPENDED", "HALTED", "?", "?", "?", "?"};

static int die(const char *what)
{
	fprintf(stderr, "softiommu demo: %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t region_off(unsigned int index, uint64_t off)
{
	return SIO_VFIO_PCI_INDEX_TO_OFFSET(index) + off;
}

static uint64_t bar_rd(struct demo *d, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	if (pread(d->dev, &v, size, (off_t)region_off(0, off)) != size)
		perror("softiommu demo: BAR0 read");
	return v;
}

static void bar_wr(struct demo *d, uint64_t off, unsigned int size, uint64_t v)
{
	if (pwrite(d->dev, &v, size, (off_t)region_off(0, off)) != size)
		perror("softiommu demo: BAR0 write");
}

static uint64_t iova_of(struct demo *d, int page)
{
	return IOVA + (uint64_t)page * (uint64_t)d->pg;
}

static void step(int n, const char *what)
{
	printf("\n%d. %s\n", n, what);
}

static void chan_reset(struct demo *d)
{
	bar_wr(d, CHANCMD, 1, CHANCMD_RESET);
	for (int i = 0; i < 1000 && (bar_rd(d, CHANCMD, 1) & CHANCMD_RESET);
	     i++)
		usleep(100);
}

/* One descriptor, page 0 -> page 1; returns CHANSTS once it settles. */
static uint64_t copy_page(struct demo *d)
{
	uint32_t *desc = (uint32_t *)(d->mem + 2 * d->pg);
	uint64_t sts = 0;

	memset(desc, 0, 64);
	desc[0] = (uint32_t)d->pg; /* size */
	desc[1] = CTL_COMPL_WRITE; /* ctl: op COPY, completion write */
	*(uint64_t *)&desc[2] = iova_of(d, 0); /* src */
	*(uint64_t *)&desc[4] = iova_of(d, 1); /* dst */
	*(uint64_t *)&desc[6] = iova_of(d, 2); /* next: itself */
	bar_wr(d, CHANCMP, 8, iova_of(d, 3));
	bar_wr(d, CHAINADDR, 8, iova_of(d, 2));
	bar_wr(d, CHANCTRL, 2, 0x0009); /* INT_REARM | ANY_ERR_ABORT_EN */
	bar_wr(d, DMACOUNT, 2, 1);
	for (int i = 0; i < 20000; i++) {
		sts = bar_rd(d, CHANSTS, 8);
		if ((sts & 7) == 1 || (sts & 7) == 3)
			break;
		usleep(50);
	}
	return sts;
}

static int map_page(struct demo *d, int page)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = d->ioas,
		.user_va = (uint64_t)(uintptr_t)(d->mem + page * d->pg),
		.length = (uint64_t)d->pg,
		.iova = iova_of(d, page),
	};

	return ioctl(d->iommufd, SIO_IOMMU_IOAS_MAP, &m);
}

static void show_ranges(struct demo *d)
{
	struct sio_iommu_iova_range r[8];
	struct sio_iommu_ioas_iova_ranges c = {
		.size = sizeof(c),
		.ioas_id = d->ioas,
		.num_iovas = 8,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	if (ioctl(d->iommufd, SIO_IOMMU_IOAS_IOVA_RANGES, &c)) {
		perror("   IOMMU_IOAS_IOVA_RANGES");
		return;
	}
	printf("   IOMMU_IOAS_IOVA_RANGES:");
	for (uint32_t i = 0; i < c.num_iovas && i < 8; i++)
		printf(" [%#" PRIx64 "-%#" PRIx64 "]", r[i].start, r[i].last);
	printf(", alignment %#" PRIx64 "\n", c.out_iova_alignment);
}

static int run(void)
{
	struct demo d = {.pg = sysconf(_SC_PAGESIZE)};
	struct sio_iommu_ioas_alloc alloc = {.size = sizeof(alloc)};
	struct sio_vfio_device_bind_iommufd bind = {.argsz = sizeof(bind)};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	uint32_t hw[10] = {0};
	struct sio_iommu_hw_info info = {
		.size = sizeof(info),
		.data_len = sizeof(hw),
		.data_uptr = (uint64_t)(uintptr_t)hw,
	};
	const char msg[] = "hello through the SMMU";
	uint16_t ids[2], cmd;
	uint64_t sts;
	bool ok;

	/* keep the narration in order with the event log on stderr */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("softiommu demo: a user-space driver on the default platform\n"
	       "(this process runs under `softiommu exec`: /dev/iommu and "
	       "/dev/vfio/devices/vfio0 answer from the library)\n");

	step(1, "open the IOMMU and the device");
	d.iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d.iommufd < 0)
		return die("open /dev/iommu");
	d.dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	if (d.dev < 0)
		return die("open /dev/vfio/devices/vfio0");
	printf("   /dev/iommu is fd %d, /dev/vfio/devices/vfio0 is fd %d\n",
	       d.iommufd, d.dev);
	bind.iommufd = d.iommufd;
	if (ioctl(d.dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return die("VFIO_DEVICE_BIND_IOMMUFD");
	printf("   VFIO_DEVICE_BIND_IOMMUFD: the device is iommufd object %u\n",
	       bind.out_devid);
	info.dev_id = bind.out_devid;
	if (ioctl(d.iommufd, SIO_IOMMU_GET_HW_INFO, &info))
		return die("IOMMU_GET_HW_INFO");
	printf("   IOMMU_GET_HW_INFO: %s, IDR0 %#x IDR1 %#x IDR5 %#x%s\n",
	       info.out_data_type == SIO_IOMMU_HW_INFO_TYPE_ARM_SMMUV3
		       ? "Arm SMMUv3"
		       : "unknown IOMMU",
	       hw[2], hw[3], hw[7],
	       info.out_capabilities & SIO_IOMMU_HW_CAP_DIRTY_TRACKING ? ", "
									 "dirty"
									 " trac"
									 "king"
								       : "");

	step(2, "an IO address space with the program's buffers");
	if (ioctl(d.iommufd, SIO_IOMMU_IOAS_ALLOC, &alloc))
		return die("IOMMU_IOAS_ALLOC");
	d.ioas = alloc.out_ioas_id;
	d.mem = mmap(NULL, 4 * (size_t)d.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d.mem == MAP_FAILED)
		return die("mmap");
	memcpy(d.mem, msg, sizeof(msg));
	for (int i = 0; i < 4; i++)
		if (map_page(&d, i))
			return die("IOMMU_IOAS_MAP");
	printf("   IOMMU_IOAS_ALLOC: IOAS %u; IOMMU_IOAS_MAP: source, "
	       "destination, descriptor and completion pages at IOVA "
	       "%#llx..%#" PRIx64 "\n",
	       d.ioas, IOVA, iova_of(&d, 4) - 1);

	step(3, "attach the device: an automatic stage-1 domain");
	at.pt_id = d.ioas;
	if (ioctl(d.dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	printf("   VFIO_DEVICE_ATTACH_IOMMUFD_PT IOAS %u: attached to HWPT %u "
	       "(the SMMU's STE now points at its context descriptor)\n",
	       d.ioas, at.pt_id);
	show_ranges(&d);
	printf("   (the hole is the SMMU driver's MSI window; the end is the "
	       "domain's 48-bit input range)\n");

	step(4, "drive the I/OAT engine as its driver does");
	if (pread(d.dev, ids, 4, (off_t)region_off(7, 0)) != 4)
		return die("config read");
	cmd = 0x6; /* memory space, bus master */
	if (pwrite(d.dev, &cmd, 2, (off_t)region_off(7, PCI_COMMAND)) != 2)
		return die("config write");
	printf("   PCI %04x:%04x, CBVER %#" PRIx64 " (I/OAT 3.2); bus master "
	       "on\n",
	       ids[0], ids[1], bar_rd(&d, CBVER, 1));
	chan_reset(&d);
	sts = copy_page(&d);
	printf("   one COPY descriptor %#" PRIx64 " -> %#" PRIx64 ", DMACOUNT "
	       "1: CHANSTS "
	       "%s\n",
	       iova_of(&d, 0), iova_of(&d, 1), chansts_name[sts & 7]);
	printf("   the destination page now reads \"%s\"\n",
	       (char *)d.mem + d.pg);
	ok = (sts & 7) == 1 && !memcmp(d.mem + d.pg, msg, sizeof(msg));
	printf("   completion writeback %#" PRIx64 " (the descriptor's IOVA, "
	       "status DONE)\n",
	       *(uint64_t *)(d.mem + 3 * d.pg));

	step(5, "unmap the destination, and copy again");
	struct sio_iommu_ioas_unmap un = {
		.size = sizeof(un),
		.ioas_id = d.ioas,
		.iova = iova_of(&d, 1),
		.length = (uint64_t)d.pg,
	};
	if (ioctl(d.iommufd, SIO_IOMMU_IOAS_UNMAP, &un))
		return die("IOMMU_IOAS_UNMAP");
	printf("   IOMMU_IOAS_UNMAP %#" PRIx64 ": returned after TLBI + "
	       "CMD_SYNC, so no DMA can reach the page any more\n",
	       un.iova);
	memset(d.mem + d.pg, 0, (size_t)d.pg);
	chan_reset(&d);
	fflush(stdout);
	sts = copy_page(&d);
	usleep(20000); /* let the event thread's report come first */
	printf("   CHANSTS %s, CHANERR %#" PRIx64 " (destination address "
	       "error); the page stayed "
	       "zero: %s\n",
	       chansts_name[sts & 7], bar_rd(&d, CHANERR, 4),
	       d.mem[d.pg] == 0 ? "yes" : "NO");
	ok = ok && (sts & 7) == 3 && d.mem[d.pg] == 0;

	close(d.dev);
	close(d.iommufd);
	munmap(d.mem, 4 * (size_t)d.pg);
	printf("\ndone: closing the device unbound it; closing /dev/iommu "
	       "freed "
	       "the IOAS, the HWPT and every pin.\n");
	return 0;
}

/* demo vfio: page @page at its IOVA through VFIO_IOMMU_MAP_DMA. */
static int map_dma_page(struct demo *d, int page)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)(d->mem + page * d->pg),
		.iova = iova_of(d, page),
		.size = (uint64_t)d->pg,
	};

	return ioctl(d->iommufd, SIO_VFIO_IOMMU_MAP_DMA, &m);
}

/* demo vfio: the DMA_AVAIL capability of VFIO_IOMMU_GET_INFO. */
static long dma_avail(struct demo *d)
{
	uint8_t buf[512] = {0};
	struct sio_vfio_iommu_type1_info *info = (void *)buf;

	info->argsz = sizeof(buf);
	if (ioctl(d->iommufd, SIO_VFIO_IOMMU_GET_INFO, info))
		return -1;
	for (uint32_t at = info->cap_offset; at && at < sizeof(buf);) {
		struct sio_vfio_info_cap_header *h = (void *)(buf + at);

		if (h->id == SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			return ((struct sio_vfio_iommu_type1_info_dma_avail *)h)
				->avail;
		at = h->next;
	}
	return -1;
}

/*
 * The same driver on the legacy path: a type1 container, the device's
 * group, VFIO_SET_IOMMU and VFIO_IOMMU_MAP_DMA.  On the way, what
 * became of VFIO_TYPE1_NESTING_IOMMU.
 */
static int run_vfio(void)
{
	struct demo d = {.pg = sysconf(_SC_PAGESIZE)};
	struct sio_vfio_group_status st = {.argsz = sizeof(st)};
	struct sio_vfio_iommu_type1_dma_unmap un = {.argsz = sizeof(un)};
	const char msg[] = "hello through a type1 container";
	uint16_t cmd = 0x6; /* memory space, bus master */
	int group, rc;
	uint64_t sts;
	bool ok;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("softiommu demo vfio: the VFIO container path on the default "
	       "platform\n(this process runs under `softiommu exec`: "
	       "/dev/vfio/vfio and /dev/vfio/0 answer from the library)\n");

	step(1, "a container and the device's group");
	d.iommufd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d.iommufd < 0)
		return die("open /dev/vfio/vfio");
	group = open("/dev/vfio/0", O_RDWR | O_CLOEXEC);
	if (group < 0)
		return die("open /dev/vfio/0");
	if (ioctl(group, SIO_VFIO_GROUP_GET_STATUS, &st))
		return die("VFIO_GROUP_GET_STATUS");
	printf("   VFIO_GET_API_VERSION %d; group 0 is %sviable\n",
	       ioctl(d.iommufd, SIO_VFIO_GET_API_VERSION),
	       st.flags & SIO_VFIO_GROUP_FLAGS_VIABLE ? "" : "not ");
	printf("   VFIO_CHECK_EXTENSION: TYPE1v2 %d, UNMAP_ALL %d, "
	       "6 (was VFIO_TYPE1_NESTING_IOMMU) %d\n",
	       ioctl(d.iommufd, SIO_VFIO_CHECK_EXTENSION,
		     SIO_VFIO_TYPE1v2_IOMMU),
	       ioctl(d.iommufd, SIO_VFIO_CHECK_EXTENSION, SIO_VFIO_UNMAP_ALL),
	       ioctl(d.iommufd, SIO_VFIO_CHECK_EXTENSION,
		     SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU));
	if (ioctl(group, SIO_VFIO_GROUP_SET_CONTAINER, &d.iommufd))
		return die("VFIO_GROUP_SET_CONTAINER");
	printf("   VFIO_GROUP_SET_CONTAINER: the group's DMA is the "
	       "container's now\n");

	step(2, "choose the IOMMU driver");
	rc = ioctl(d.iommufd, SIO_VFIO_SET_IOMMU,
		   SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU);
	printf("   VFIO_SET_IOMMU(6): %s — no driver advertises the removed "
	       "nesting type any more; nesting is iommufd's "
	       "(IOMMU_HWPT_ALLOC NEST_PARENT, vIOMMU, nested HWPT)\n",
	       !rc		 ? "accepted"
	       : errno == ENODEV ? "ENODEV"
				 : strerror(errno));
	if (ioctl(d.iommufd, SIO_VFIO_SET_IOMMU, SIO_VFIO_TYPE1v2_IOMMU))
		return die("VFIO_SET_IOMMU(TYPE1v2)");
	d.dev = ioctl(group, SIO_VFIO_GROUP_GET_DEVICE_FD, "0000:00:04.0");
	if (d.dev < 0)
		return die("VFIO_GROUP_GET_DEVICE_FD");
	printf("   VFIO_SET_IOMMU(TYPE1v2): 0; VFIO_GROUP_GET_DEVICE_FD "
	       "\"0000:00:04.0\": fd %d\n",
	       d.dev);

	step(3, "map the program's buffers");
	d.mem = mmap(NULL, 4 * (size_t)d.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d.mem == MAP_FAILED)
		return die("mmap");
	memcpy(d.mem, msg, sizeof(msg));
	for (int i = 0; i < 4; i++)
		if (map_dma_page(&d, i))
			return die("VFIO_IOMMU_MAP_DMA");
	printf("   VFIO_IOMMU_MAP_DMA x4 at IOVA %#llx..%#" PRIx64
	       "; GET_INFO's DMA_AVAIL: %ld entries left\n",
	       IOVA, iova_of(&d, 4) - 1, dma_avail(&d));

	step(4, "copy with the I/OAT engine");
	if (pwrite(d.dev, &cmd, 2, (off_t)region_off(7, PCI_COMMAND)) != 2)
		return die("config write");
	chan_reset(&d);
	sts = copy_page(&d);
	printf("   CHANSTS %s; the destination page reads \"%s\"\n",
	       chansts_name[sts & 7], (char *)d.mem + d.pg);
	ok = (sts & 7) == 1 && !memcmp(d.mem + d.pg, msg, sizeof(msg));

	step(5, "unmap the destination, and copy again");
	un.iova = iova_of(&d, 1);
	un.size = (uint64_t)d.pg;
	if (ioctl(d.iommufd, SIO_VFIO_IOMMU_UNMAP_DMA, &un))
		return die("VFIO_IOMMU_UNMAP_DMA");
	printf("   VFIO_IOMMU_UNMAP_DMA %#" PRIx64 ": %" PRIu64 " bytes "
	       "unmapped\n",
	       un.iova, un.size);
	memset(d.mem + d.pg, 0, (size_t)d.pg);
	chan_reset(&d);
	fflush(stdout);
	sts = copy_page(&d);
	usleep(20000); /* let the event thread's report come first */
	printf("   CHANSTS %s, CHANERR %#" PRIx64 "; the page stayed zero: "
	       "%s\n",
	       chansts_name[sts & 7], bar_rd(&d, CHANERR, 4),
	       d.mem[d.pg] == 0 ? "yes" : "NO");
	ok = ok && (sts & 7) == 3 && d.mem[d.pg] == 0;

	close(d.dev);
	close(group);
	close(d.iommufd);
	munmap(d.mem, 4 * (size_t)d.pg);
	printf("\n%s\n", ok ? "done." : "FAILED: see above.");
	return ok ? 0 : 1;
}

int sio_cmd_demo(int argc, char **argv)
{
	char *args[] = {"exec", "--", "/proc/self/exe", "demo", "--run", NULL};

	if (argc == 2 && !strcmp(argv[1], "--run"))
		return run();
	/* the container tour, then the DPDK-style driver in five modes */
	if (argc == 2 && !strcmp(argv[1], "--run-vfio"))
		return run_vfio() | sio_demo_dpdk();
	if (argc == 2 && !strcmp(argv[1], "nested"))
		return sio_demo_nested();
	/* `demo vfio`: the container and group path */
	if (argc == 2 && !strcmp(argv[1], "vfio"))
		args[4] = "--run-vfio";
	else if (argc != 1) {
		fprintf(stderr, "usage: softiommu demo [nested|vfio]\n");
		return 2;
	}
	/* the SMMU's event records on stderr, like the kernel's log */
	setenv("SOFTIOMMU_LOG", "events", 0);
	return sio_cmd_exec(5, args);
}
