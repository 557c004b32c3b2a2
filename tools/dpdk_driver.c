// SPDX-License-Identifier: MIT
/*
 * The DPDK-style driver of dpdk_driver.h.  The order of calls is DPDK's:
 * rte_vfio_setup_device() (group by readlink of iommu_group, GET_STATUS,
 * SET_CONTAINER, SET_IOMMU, the memsegs mapped, GET_DEVICE_FD), then
 * pci_vfio_map_resource() (GET_INFO, region infos, BAR mmap, memory and
 * bus master on, VFIO_DEVICE_RESET), the PMD's interrupt enable
 * (SET_IRQS MSI-X with an eventfd), and on release the reverse:
 * interrupts off, bus master off, BAR unmapped, device fd, group fd,
 * then the memory and the container.  The I/OAT facts are the kernel's
 * drivers/dma/ioat/registers.h and hw.h.
 */
#define _GNU_SOURCE
#include "dpdk_driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

/* drivers/dma/ioat/registers.h */
#define INTRCTRL		0x03
#define INTRCTRL_MASTER_INT_EN	0x01
#define CHANCTRL		0x80
#define CHANCTRL_INT_REARM	0x0001
#define CHANCTRL_ERR_COMPLETION 0x0004
#define CHANCTRL_ANY_ERR_ABORT	0x0008
#define CHANCTRL_ERR_INT_EN	0x0010
#define CHANCMD			0x84
#define CHANCMD_RESET		0x20
#define DMACOUNT		0x86
#define CHANSTS			0x88
#define CHAINADDR		0x90
#define CHANCMP			0x98
#define CHANERR			0xa8
/* hw.h: the descriptor's ctl */
#define CTL_INT_EN	(1u << 0)
#define CTL_COMPL_WRITE (1u << 3)
/* include/uapi/linux/pci_regs.h */
#define PCI_COMMAND	   0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

#define HUGE_2M	  (2ul << 20)
#define COMPL_OFF 0x1000  /* the completion record, after the ring */
#define SRC_OFF	  0x10000 /* the first source buffer */

struct ioat_desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src, dst, next;
	uint64_t rsv1, rsv2, user1, user2;
};

_Static_assert(sizeof(struct ioat_desc) == 64, "a 64-byte descriptor");
_Static_assert(SRC_OFF + 4 * DPDK_STRIDE <= DPDK_SEG_LEN, "four sources in the "
							  "segment");

static const char *const mode_names[DPDK_NR_MODES] = {"type1", "type1v2",
						      "iommufd-compat type1",
						      "iommufd-compat type1v2",
						      "iommufd cdev"};

const char *dpdk_mode_name(enum dpdk_mode mode)
{
	return mode_names[mode];
}

const char *dpdk_mode_path(enum dpdk_mode mode)
{
	return mode == DPDK_TYPE1 || mode == DPDK_TYPE1V2 ? "/dev/vfio/vfio"
							  : "/dev/iommu";
}

static bool is_cdev(const struct dpdk_dev *d)
{
	return d->mode == DPDK_CDEV;
}

static unsigned long iommu_type(const struct dpdk_dev *d)
{
	return d->mode == DPDK_TYPE1 || d->mode == DPDK_COMPAT_TYPE1
		       ? SIO_VFIO_TYPE1_IOMMU
		       : SIO_VFIO_TYPE1v2_IOMMU;
}

/* Record the failing step; the negative errno to return. */
static int fail(struct dpdk_dev *d, const char *step)
{
	int err = errno ? errno : EIO;

	if (!d->failed)
		d->failed = step;
	return -err;
}

/* ------------------------------------------------------------ memory */

static int seg_map(struct dpdk_seg *s, size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	s->base = p;
	s->base_len = len;
	return 0;
}

/*
 * A hugepage segment as DPDK's EAL gets one; without hugepages, an
 * anonymous region aligned to 2 MiB (THP may still back it), so the
 * IOMMU sees the same addresses and sizes either way.
 */
int dpdk_seg_alloc(struct dpdk_seg *s, bool huge)
{
	uintptr_t at;
	int rc;

	memset(s, 0, sizeof(*s));
	if (huge && !seg_map(s, DPDK_SEG_LEN, MAP_HUGETLB)) {
		s->hugetlb = true;
		at = (uintptr_t)s->base;
	} else if (huge) {
		rc = seg_map(s, DPDK_SEG_LEN + HUGE_2M, 0);
		if (rc)
			return rc;
		at = ((uintptr_t)s->base + HUGE_2M - 1) & ~(HUGE_2M - 1);
		madvise((void *)at, DPDK_SEG_LEN, MADV_HUGEPAGE);
	} else {
		rc = seg_map(s, DPDK_SEG_LEN, 0);
		if (rc)
			return rc;
		at = (uintptr_t)s->base;
	}
	s->va = (uint8_t *)at;
	s->iova = (uint64_t)at;
	s->len = DPDK_SEG_LEN;
	memset(s->va, 0, s->len);
	return 0;
}

void dpdk_seg_free(struct dpdk_seg *s)
{
	if (s->base)
		munmap(s->base, s->base_len);
	memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------- sysfs */

/* rte_vfio_get_group_num(): the last component of iommu_group's link. */
static int sysfs_group_no(const char *bdf, int *out)
{
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	if (sscanf(basename(link), "%d", out) != 1)
		return -EINVAL;
	return 0;
}

/* The cdev's name: the one entry vfioN of the device's vfio-dev/. */
static int sysfs_cdev_no(const char *bdf, int *out)
{
	char path[256];
	struct dirent *e;
	int rc = -ENOENT;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)))
		if (sscanf(e->d_name, "vfio%d", out) == 1) {
			rc = 0;
			break;
		}
	closedir(dir);
	return rc;
}

/* ------------------------------------------------------ IOMMU set-up */

/* vfio_get_default_container_fd() and vfio_has_supported_extensions() */
static int open_container(struct dpdk_dev *d)
{
	d->container = open(dpdk_mode_path(d->mode), O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		return fail(d, "open container");
	errno = EINVAL;
	if (ioctl(d->container, SIO_VFIO_GET_API_VERSION) !=
	    SIO_VFIO_API_VERSION)
		return fail(d, "VFIO_GET_API_VERSION");
	if (ioctl(d->container, SIO_VFIO_CHECK_EXTENSION, iommu_type(d)) != 1)
		return fail(d, "VFIO_CHECK_EXTENSION");
	return 0;
}

/* vfio_get_group_fd(), then the first group's container set-up. */
static int open_group(struct dpdk_dev *d)
{
	struct sio_vfio_group_status st = {.argsz = sizeof(st)};
	char path[64];

	if (sysfs_group_no(d->bdf, &d->group_no))
		return fail(d, "readlink iommu_group");
	snprintf(path, sizeof(path), "/dev/vfio/%d", d->group_no);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		return fail(d, "open group");
	if (ioctl(d->group, SIO_VFIO_GROUP_GET_STATUS, &st))
		return fail(d, "VFIO_GROUP_GET_STATUS");
	errno = EPERM;
	if (!(st.flags & SIO_VFIO_GROUP_FLAGS_VIABLE))
		return fail(d, "group not viable");
	if (!(st.flags & SIO_VFIO_GROUP_FLAGS_CONTAINER_SET) &&
	    ioctl(d->group, SIO_VFIO_GROUP_SET_CONTAINER, &d->container))
		return fail(d, "VFIO_GROUP_SET_CONTAINER");
	if (ioctl(d->container, SIO_VFIO_SET_IOMMU, iommu_type(d)))
		return fail(d, "VFIO_SET_IOMMU");
	return 0;
}

/* The cdev: bind to the iommufd, an IOAS, attach. */
static int open_cdev(struct dpdk_dev *d)
{
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b)};
	struct sio_vfio_device_attach_iommufd_pt at = {.argsz = sizeof(at)};
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
	char path[64];

	if (sysfs_cdev_no(d->bdf, &d->cdev_no))
		return fail(d, "vfio-dev in sysfs");
	d->container = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		return fail(d, "open /dev/iommu");
	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", d->cdev_no);
	d->dev = open(path, O_RDWR | O_CLOEXEC);
	if (d->dev < 0)
		return fail(d, "open cdev");
	b.iommufd = d->container;
	if (ioctl(d->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b))
		return fail(d, "VFIO_DEVICE_BIND_IOMMUFD");
	d->devid = b.out_devid;
	if (ioctl(d->container, SIO_IOMMU_IOAS_ALLOC, &a))
		return fail(d, "IOMMU_IOAS_ALLOC");
	d->ioas = a.out_ioas_id;
	at.pt_id = d->ioas;
	if (ioctl(d->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at))
		return fail(d, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	return 0;
}

int dpdk_open(struct dpdk_dev *d, enum dpdk_mode mode, const char *bdf)
{
	/* the segments stay: DPDK has its memory before VFIO */
	d->mode = mode;
	d->bdf = bdf;
	d->group_no = d->cdev_no = -1;
	d->container = d->group = d->dev = d->efd = -1;
	d->devid = d->ioas = 0;
	d->cfg_off = 0;
	d->bar = NULL;
	d->bar_len = d->bar_off = 0;
	d->failed = NULL;
	if (is_cdev(d))
		return open_cdev(d);
	return open_container(d) ?: open_group(d);
}

int dpdk_dma_map(struct dpdk_dev *d, const struct dpdk_seg *s)
{
	struct sio_vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
			 SIO_VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)s->va,
		.iova = s->iova,
		.size = s->len,
	};
	struct sio_iommu_ioas_map im = {
		.size = sizeof(im),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = d->ioas,
		.user_va = (uint64_t)(uintptr_t)s->va,
		.length = s->len,
		.iova = s->iova,
	};

	if (is_cdev(d) ? ioctl(d->container, SIO_IOMMU_IOAS_MAP, &im)
		       : ioctl(d->container, SIO_VFIO_IOMMU_MAP_DMA, &m))
		return fail(d, is_cdev(d) ? "IOMMU_IOAS_MAP"
					  : "VFIO_IOMMU_MAP_DMA");
	return 0;
}

int dpdk_dma_unmap(struct dpdk_dev *d, const struct dpdk_seg *s,
		   uint64_t *unmapped)
{
	struct sio_vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = s->iova,
		.size = s->len,
	};
	struct sio_iommu_ioas_unmap iu = {
		.size = sizeof(iu),
		.ioas_id = d->ioas,
		.iova = s->iova,
		.length = s->len,
	};

	if (is_cdev(d) ? ioctl(d->container, SIO_IOMMU_IOAS_UNMAP, &iu)
		       : ioctl(d->container, SIO_VFIO_IOMMU_UNMAP_DMA, &u))
		return fail(d, is_cdev(d) ? "IOMMU_IOAS_UNMAP"
					  : "VFIO_IOMMU_UNMAP_DMA");
	*unmapped = is_cdev(d) ? iu.length : u.size;
	return 0;
}

/* ------------------------------------------------------- device side */

static int region_info(struct dpdk_dev *d, uint32_t index,
		       struct sio_vfio_region_info *ri)
{
	*ri = (struct sio_vfio_region_info){.argsz = sizeof(*ri),
					    .index = index};
	return ioctl(d->dev, SIO_VFIO_DEVICE_GET_REGION_INFO, ri);
}

/* pci_vfio_enable_bus_memory(), pci_vfio_set_bus_master(): RMW */
static int set_command(struct dpdk_dev *d, uint16_t set, uint16_t clear)
{
	uint16_t cmd;
	off_t at = (off_t)(d->cfg_off + PCI_COMMAND);

	if (pread(d->dev, &cmd, 2, at) != 2)
		return -1;
	cmd = (uint16_t)((cmd | set) & ~clear);
	return pwrite(d->dev, &cmd, 2, at) == 2 ? 0 : -1;
}

static int map_bar0(struct dpdk_dev *d)
{
	struct sio_vfio_region_info ri;
	void *p;

	if (region_info(d, SIO_VFIO_PCI_CONFIG_REGION_INDEX, &ri))
		return fail(d, "GET_REGION_INFO config");
	d->cfg_off = ri.offset;
	if (region_info(d, SIO_VFIO_PCI_BAR0_REGION_INDEX, &ri))
		return fail(d, "GET_REGION_INFO BAR0");
	errno = ENOTSUP;
	if (!(ri.flags & SIO_VFIO_REGION_INFO_FLAG_MMAP))
		return fail(d, "BAR0 not mappable");
	p = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->dev,
		 (off_t)ri.offset);
	if (p == MAP_FAILED)
		return fail(d, "mmap BAR0");
	d->bar = p;
	d->bar_len = ri.size;
	d->bar_off = ri.offset;
	return 0;
}

/* The PMD's rte_intr_enable(): MSI-X vector 0 to an eventfd. */
static int enable_msix(struct dpdk_dev *d)
{
	struct sio_vfio_irq_info ii = {.argsz = sizeof(ii),
				       .index = SIO_VFIO_PCI_MSIX_IRQ_INDEX};
	char buf[sizeof(struct sio_vfio_irq_set) + sizeof(int32_t)];
	struct sio_vfio_irq_set *s = (struct sio_vfio_irq_set *)buf;

	if (ioctl(d->dev, SIO_VFIO_DEVICE_GET_IRQ_INFO, &ii))
		return fail(d, "GET_IRQ_INFO MSI-X");
	errno = ENOTSUP;
	if (ii.count < 1 || !(ii.flags & SIO_VFIO_IRQ_INFO_EVENTFD))
		return fail(d, "MSI-X without eventfds");
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0)
		return fail(d, "eventfd");
	*s = (struct sio_vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = SIO_VFIO_IRQ_SET_DATA_EVENTFD |
			 SIO_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX,
		.count = 1,
	};
	memcpy(s->data, &d->efd, sizeof(int32_t));
	if (ioctl(d->dev, SIO_VFIO_DEVICE_SET_IRQS, s))
		return fail(d, "VFIO_DEVICE_SET_IRQS");
	/* the channel's interrupts reach MSI-X only with this on */
	d->bar[INTRCTRL] = INTRCTRL_MASTER_INT_EN;
	return 0;
}

int dpdk_dev_start(struct dpdk_dev *d)
{
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};

	if (!is_cdev(d)) {
		d->dev = ioctl(d->group, SIO_VFIO_GROUP_GET_DEVICE_FD, d->bdf);
		if (d->dev < 0)
			return fail(d, "VFIO_GROUP_GET_DEVICE_FD");
	}
	if (ioctl(d->dev, SIO_VFIO_DEVICE_GET_INFO, &info))
		return fail(d, "VFIO_DEVICE_GET_INFO");
	errno = ENODEV;
	if (!(info.flags & SIO_VFIO_DEVICE_FLAGS_PCI))
		return fail(d, "not a PCI device");
	if (map_bar0(d))
		return -errno;
	if (set_command(d, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 0))
		return fail(d, "PCI_COMMAND");
	/* DPDK resets after bus mastering: the reset keeps config space */
	if ((info.flags & SIO_VFIO_DEVICE_FLAGS_RESET) &&
	    ioctl(d->dev, SIO_VFIO_DEVICE_RESET))
		return fail(d, "VFIO_DEVICE_RESET");
	return enable_msix(d);
}

/* --------------------------------------------------- the I/OAT ring */

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static volatile uint64_t *reg64(struct dpdk_dev *d, unsigned int off)
{
	return (volatile uint64_t *)(d->bar + off);
}

static volatile uint16_t *reg16(struct dpdk_dev *d, unsigned int off)
{
	return (volatile uint16_t *)(d->bar + off);
}

/* CHANCMD.RESET; the bit reads set until the engine has done it. */
static int chan_reset(struct dpdk_dev *d)
{
	double t0 = now_ms();

	d->bar[CHANCMD] = CHANCMD_RESET;
	while (d->bar[CHANCMD] & CHANCMD_RESET)
		if (now_ms() - t0 > 5000) {
			errno = ETIMEDOUT;
			return fail(d, "CHANCMD reset");
		}
	return 0;
}

uint8_t *dpdk_src(struct dpdk_dev *d, unsigned int i)
{
	return d->ctl.va + SRC_OFF + (size_t)i * DPDK_STRIDE;
}

uint8_t *dpdk_dst(struct dpdk_dev *d, unsigned int i)
{
	return d->dst.va + (size_t)i * DPDK_STRIDE;
}

uint64_t dpdk_desc_iova(const struct dpdk_dev *d, unsigned int i)
{
	return d->ctl.iova + (i % DPDK_RING) * sizeof(struct ioat_desc);
}

uint64_t dpdk_compl_iova(const struct dpdk_dev *d)
{
	return d->ctl.iova + COMPL_OFF;
}

/* Descriptors 0..n-1 of the ring, each linked to the next slot. */
static void fill_ring(struct dpdk_dev *d, const size_t *lens, unsigned int n)
{
	struct ioat_desc *ring = (struct ioat_desc *)d->ctl.va;

	for (unsigned int i = 0; i < n; i++)
		ring[i] = (struct ioat_desc){
			.size = (uint32_t)lens[i],
			.ctl = i == n - 1 ? CTL_INT_EN | CTL_COMPL_WRITE : 0,
			.src = d->ctl.iova + SRC_OFF + i * DPDK_STRIDE,
			.dst = d->dst.iova + i * DPDK_STRIDE,
			.next = dpdk_desc_iova(d, i + 1),
		};
}

/*
 * One register read through the device fd.  The program needs none
 * (the interrupt orders the engine's writes before it), but
 * ThreadSanitizer cannot see that order: the library signals the
 * eventfd behind libc's back.  This read takes the device's lock, an
 * order it does see, before the program reads what the engine wrote.
 */
static void sync_with_engine(struct dpdk_dev *d)
{
	uint64_t v;
	off_t at = (off_t)(d->bar_off + CHANSTS);

	if (pread(d->dev, &v, sizeof(v), at) != sizeof(v))
		fail(d, "BAR0 read");
}

/* Wait for the interrupt, then read what the channel says. */
static void wait_irq(struct dpdk_dev *d, int timeout_ms, double t0,
		     struct dpdk_burst *out)
{
	struct pollfd p = {.fd = d->efd, .events = POLLIN};

	out->polled = poll(&p, 1, timeout_ms);
	out->wait_ms = now_ms() - t0;
	if (out->polled == 1 &&
	    read(d->efd, &out->irqs, sizeof(out->irqs)) != sizeof(out->irqs))
		out->irqs = 0;
	out->chansts = *reg64(d, CHANSTS);
	out->chanerr = *(volatile uint32_t *)(d->bar + CHANERR);
	sync_with_engine(d);
	out->writeback = *(volatile uint64_t *)(d->ctl.va + COMPL_OFF);
}

int dpdk_copy_burst(struct dpdk_dev *d, const size_t *lens, unsigned int n,
		    int timeout_ms, struct dpdk_burst *out)
{
	double t0;

	memset(out, 0, sizeof(*out));
	errno = EINVAL;
	if (n < 1 || n > DPDK_RING - 1)
		return fail(d, "burst size");
	if (chan_reset(d))
		return -errno;
	*(volatile uint64_t *)(d->ctl.va + COMPL_OFF) = 0;
	fill_ring(d, lens, n);
	*reg64(d, CHANCMP) = dpdk_compl_iova(d);
	*reg64(d, CHAINADDR) = dpdk_desc_iova(d, 0);
	/* one interrupt armed; an error raises it too, and is written back */
	*reg16(d, CHANCTRL) = CHANCTRL_INT_REARM | CHANCTRL_ERR_INT_EN |
			      CHANCTRL_ANY_ERR_ABORT | CHANCTRL_ERR_COMPLETION;
	t0 = now_ms();
	*reg16(d, DMACOUNT) = (uint16_t)n;
	wait_irq(d, timeout_ms, t0, out);
	return 0;
}

/* ----------------------------------------------------------- release */

static int disable_msix(struct dpdk_dev *d)
{
	struct sio_vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = SIO_VFIO_IRQ_SET_DATA_NONE |
			 SIO_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX,
	};

	return ioctl(d->dev, SIO_VFIO_DEVICE_SET_IRQS, &s);
}

/* A failed step is kept in d->failed; every fd is closed regardless. */
static void close_fd(struct dpdk_dev *d, int *fd, const char *step)
{
	if (*fd >= 0 && close(*fd))
		fail(d, step);
	*fd = -1;
}

int dpdk_close(struct dpdk_dev *d)
{
	const char *before = d->failed;

	if (d->efd >= 0 && disable_msix(d))
		fail(d, "SET_IRQS disable");
	close_fd(d, &d->efd, "close eventfd");
	if (d->bar && set_command(d, 0, PCI_COMMAND_MASTER))
		fail(d, "bus master off");
	if (d->bar && munmap((void *)d->bar, d->bar_len))
		fail(d, "munmap BAR0");
	d->bar = NULL;
	close_fd(d, &d->dev, "close device");
	close_fd(d, &d->group, "close group");
	close_fd(d, &d->container, "close container");
	return d->failed != before ? -EIO : 0;
}
