// SPDX-License-Identifier: MIT
/*
 * softiommu demo vfio, second part: the DPDK-style driver of
 * dpdk_driver.c in each of the five ways to set up DMA, one short
 * section each.  Runs inside `softiommu exec` (demo.c re-runs itself).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dpdk_driver.h"
#include "tools.h"

#define BDF	   "0000:00:04.1"
#define TIMEOUT_MS 5000
#define ST_DONE	   1 /* CHANSTS status field, registers.h */
#define ST_HALTED  3

static const size_t lens[] = {4096, 1000, 65539, 200000};
#define NR_COPIES (sizeof(lens) / sizeof(lens[0]))

static const char *const how[DPDK_NR_MODES] = {
	"/dev/vfio/vfio, VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU), MAP_DMA",
	"/dev/vfio/vfio, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU), MAP_DMA",
	"/dev/iommu as the container, VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU)",
	"/dev/iommu as the container, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)",
	"/dev/iommu + the cdev, BIND/ATTACH, IOMMU_IOAS_MAP",
};

static const char *const status[8] = {"ACTIVE", "DONE", "SUSPENDED", "HALTED",
				      "?",	"?",	"?",	     "?"};

static int failed(const struct dpdk_dev *d, int rc)
{
	printf("   FAILED at %s: %s\n", d->failed ? d->failed : "?",
	       strerror(-rc));
	return 1;
}

static void show_device(const struct dpdk_dev *d)
{
	if (d->mode == DPDK_CDEV)
		printf("   %s: vfio-dev/vfio%d -> /dev/vfio/devices/vfio%d, "
		       "device fd %d\n",
		       BDF, d->cdev_no, d->cdev_no, d->dev);
	else
		printf("   %s: iommu_group -> %d, /dev/vfio/%d, device fd "
		       "%d\n",
		       BDF, d->group_no, d->group_no, d->dev);
	printf("   ring + sources: 2 MiB %s at IOVA %#" PRIx64
	       "; destinations: 2 MiB anonymous at IOVA %#" PRIx64 " (IOVA = "
	       "VA)\n",
	       d->ctl.hugetlb ? "hugepage"
			      : "anonymous, 2 MiB-aligned (no hugepages here)",
	       d->ctl.iova, d->dst.iova);
	printf("   bus master on, MSI-X vector 0 -> eventfd %d\n", d->efd);
}

/* The chain copies; true if every byte and the completion are right. */
static bool show_copy(struct dpdk_dev *d)
{
	uint64_t last = dpdk_desc_iova(d, NR_COPIES - 1);
	size_t total = 0, same = 0;
	struct dpdk_burst b;

	for (unsigned int i = 0; i < NR_COPIES; i++) {
		for (size_t k = 0; k < lens[i]; k++)
			dpdk_src(d, i)[k] = (uint8_t)(k * 17 + i + 1);
		total += lens[i];
	}
	if (dpdk_copy_burst(d, lens, NR_COPIES, TIMEOUT_MS, &b))
		return false;
	for (unsigned int i = 0; i < NR_COPIES; i++)
		if (!memcmp(dpdk_dst(d, i), dpdk_src(d, i), lens[i]))
			same += lens[i];
	printf("   %zu chained descriptors: %zu of %zu bytes copied; "
	       "interrupt %s after %.2f ms; CHANSTS %s, writeback %#" PRIx64
	       "\n",
	       NR_COPIES, same, total, b.polled == 1 ? "received" : "MISSING",
	       b.wait_ms, status[b.chansts & 7], b.writeback);
	return same == total && b.polled == 1 && b.irqs == 1 &&
	       b.chansts == (last | ST_DONE) &&
	       b.writeback == (last | ST_DONE) && !b.chanerr;
}

/* Unmap the destinations; the same chain must halt without writing. */
static bool show_fault(struct dpdk_dev *d)
{
	uint64_t unmapped = 0;
	struct dpdk_burst b;
	bool untouched = true;

	if (dpdk_dma_unmap(d, &d->dst, &unmapped))
		return false;
	memset(d->dst.va, 0, d->dst.len);
	fflush(stdout); /* the SMMU's event record follows on stderr */
	if (dpdk_copy_burst(d, lens, NR_COPIES, TIMEOUT_MS, &b))
		return false;
	for (size_t k = 0; k < d->dst.len; k++)
		untouched = untouched && !d->dst.va[k];
	printf("   unmapped %" PRIu64 " bytes of destinations; the same "
	       "chain: CHANSTS %s, CHANERR %#" PRIx64 ", error interrupt "
	       "%s, memory untouched: %s\n",
	       unmapped, status[b.chansts & 7], b.chanerr,
	       b.polled == 1 ? "received" : "MISSING",
	       untouched ? "yes" : "NO");
	return (b.chansts & 7) == ST_HALTED && b.chanerr == 0x2 &&
	       b.polled == 1 && untouched;
}

static int run_mode(enum dpdk_mode mode)
{
	struct dpdk_dev d = {0};
	bool ok = false;
	int rc;

	printf("\n== %d/%d %s: %s\n", mode + 1, DPDK_NR_MODES,
	       dpdk_mode_name(mode), how[mode]);
	if (dpdk_seg_alloc(&d.ctl, true) || dpdk_seg_alloc(&d.dst, false)) {
		printf("   FAILED: no memory\n");
		return 1;
	}
	rc = dpdk_open(&d, mode, BDF);
	if (!rc)
		rc = dpdk_dma_map(&d, &d.ctl) ?: dpdk_dma_map(&d, &d.dst);
	if (!rc)
		rc = dpdk_dev_start(&d);
	if (!rc) {
		show_device(&d);
		ok = show_copy(&d);
		ok = show_fault(&d) && ok;
	}
	rc = dpdk_close(&d) ?: rc;
	dpdk_seg_free(&d.ctl);
	dpdk_seg_free(&d.dst);
	if (rc)
		return failed(&d, rc);
	printf("   %s\n", ok ? "closed: interrupts, bus master, BAR, device, "
			       "group, container"
			     : "FAILED: see above");
	return !ok;
}

int sio_demo_dpdk(void)
{
	int bad = 0;

	printf("\nThe same DPDK-style driver in the five ways to set up DMA: "
	       "the group found by BDF in /sys, memory mapped, MSI-X on an "
	       "eventfd, an I/OAT descriptor chain, poll(2) for the "
	       "interrupt, then the fault after unmap.\n");
	for (int m = 0; m < DPDK_NR_MODES; m++)
		bad += run_mode((enum dpdk_mode)m);
	printf("\n%s\n", bad ? "FAILED: a mode misbehaved (see above)."
			     : "all five modes: copied, interrupted, and "
			       "faulted after unmap.");
	return bad ? 1 : 0;
}
