/* SPDX-License-Identifier: MIT */
/*
 * A user-space driver written the way DPDK's EAL VFIO layer and a DMA
 * PMD are (lib/eal/linux/eal_vfio.c, drivers/bus/pci/linux/pci_vfio.c,
 * drivers/dma/ioat): the group found by BDF through sysfs, DMA memory
 * mapped IOVA = VA, bus mastering, MSI-X on an eventfd, a descriptor
 * ring, a doorbell, the interrupt waited for with poll(2).  Libc and the
 * ABI headers only, so `softiommu demo vfio` and the test program
 * tests/preload/test_dpdk_style.c run the same driver.  Each step
 * returns 0 or -errno and names itself in dev->failed.
 */
#ifndef SIO_DPDK_DRIVER_H
#define SIO_DPDK_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The five ways to give a device DMA: four containers and the cdev. */
enum dpdk_mode {
	DPDK_TYPE1,	     /* /dev/vfio/vfio, VFIO_TYPE1_IOMMU */
	DPDK_TYPE1V2,	     /* /dev/vfio/vfio, VFIO_TYPE1v2_IOMMU */
	DPDK_COMPAT_TYPE1,   /* /dev/iommu as the container, TYPE1 */
	DPDK_COMPAT_TYPE1V2, /* /dev/iommu as the container, TYPE1v2 */
	DPDK_CDEV,	     /* /dev/iommu + /dev/vfio/devices/vfioN */
	DPDK_NR_MODES
};

#define DPDK_SEG_LEN (2u << 20)	  /* one 2 MiB hugepage */
#define DPDK_RING    16		  /* descriptors in the ring */
#define DPDK_STRIDE  (256u << 10) /* between one copy's buffers and the next */

/* A memory segment: what DPDK's memseg is to VFIO. */
struct dpdk_seg {
	uint8_t *va;
	uint64_t iova; /* IOVA as VA, DPDK's default with an IOMMU */
	size_t len;
	void *base; /* the mmap() to undo */
	size_t base_len;
	bool hugetlb; /* backed by MAP_HUGETLB, else plain anonymous */
};

struct dpdk_dev {
	enum dpdk_mode mode;
	const char *bdf;
	int group_no, cdev_no; /* from sysfs */
	int container, group, dev, efd;
	uint32_t devid, ioas;
	uint64_t cfg_off;
	volatile uint8_t *bar;
	size_t bar_len;
	uint64_t bar_off; /* BAR0 in the device fd */
	/* descriptor ring, completion record and sources; destinations */
	struct dpdk_seg ctl, dst;
	const char *failed; /* the step that failed */
};

/* What one doorbell led to. */
struct dpdk_burst {
	int polled;	    /* poll(2) on the eventfd: 1 fired, 0 timed out */
	uint64_t irqs;	    /* the eventfd's count */
	double wait_ms;	    /* from the doorbell to the interrupt */
	uint64_t chansts;   /* CHANSTS after the interrupt */
	uint64_t chanerr;   /* CHANERR after the interrupt */
	uint64_t writeback; /* the completion record at CHANCMP */
};

const char *dpdk_mode_name(enum dpdk_mode mode);
const char *dpdk_mode_path(enum dpdk_mode mode);

int dpdk_seg_alloc(struct dpdk_seg *s, bool huge);
void dpdk_seg_free(struct dpdk_seg *s);

/* Find the group or cdev by BDF, open and set up the IOMMU side. */
int dpdk_open(struct dpdk_dev *d, enum dpdk_mode mode, const char *bdf);
int dpdk_dma_map(struct dpdk_dev *d, const struct dpdk_seg *s);
/* *@unmapped: the bytes the kernel reports unmapped */
int dpdk_dma_unmap(struct dpdk_dev *d, const struct dpdk_seg *s,
		   uint64_t *unmapped);
/* The device fd's regions, bus mastering, reset, MSI-X on an eventfd. */
int dpdk_dev_start(struct dpdk_dev *d);

/* Copy i goes from dpdk_src(d, i) to dpdk_dst(d, i). */
uint8_t *dpdk_src(struct dpdk_dev *d, unsigned int i);
uint8_t *dpdk_dst(struct dpdk_dev *d, unsigned int i);
uint64_t dpdk_desc_iova(const struct dpdk_dev *d, unsigned int i);
uint64_t dpdk_compl_iova(const struct dpdk_dev *d);

/*
 * @n chained descriptors of @lens bytes, the last with an interrupt and a
 * completion write; waits up to @timeout_ms for the MSI-X eventfd.
 */
int dpdk_copy_burst(struct dpdk_dev *d, const size_t *lens, unsigned int n,
		    int timeout_ms, struct dpdk_burst *out);

/* Interrupts off, bus master off, BAR, device, group, container. */
int dpdk_close(struct dpdk_dev *d);

#endif
