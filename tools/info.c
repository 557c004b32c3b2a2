// SPDX-License-Identifier: MIT
/*
 * softiommu info: the default platform as a program under `softiommu
 * exec` finds it — the SMMUv3 and what its ID registers offer, and the
 * devices with their StreamIDs and VFIO nodes.
 */
#include <stdio.h>

#include <softiommu/iommufd.h>

#include "platform/platform_private.h"
#include "tools.h"

static unsigned int bits(uint32_t reg, unsigned int lo, unsigned int width)
{
	return (reg >> lo) & ((1u << width) - 1);
}

static void show_smmu(struct sio_smmu *smmu)
{
	static const unsigned int oas[] = {32, 36, 40, 42, 44, 48, 52, 0};
	static const char *const httu[] = {"none", "access flag",
					   "access flag + dirty", "?"};
	uint32_t idr[6];

	for (int i = 0; i < 6; i++)
		idr[i] = sio_smmu_read32(smmu, 4u * i);
	printf("SMMUv3 (AIDR 0x%x, IIDR 0x%08x)\n", sio_smmu_read32(smmu, 0x1c),
	       sio_smmu_read32(smmu, 0x18));
	for (int i = 0; i < 6; i++)
		printf("  IDR%d 0x%08x\n", i, idr[i]);
	printf("  translation: %s%s%s, %s-level stream table, "
	       "%u-bit StreamIDs, %u-bit SubstreamIDs\n",
	       bits(idr[0], 1, 1) ? "stage 1" : "",
	       bits(idr[0], 1, 1) && bits(idr[0], 0, 1) ? " + " : "",
	       bits(idr[0], 0, 1) ? "stage 2 (nesting)" : "",
	       bits(idr[0], 27, 2) ? "2" : "1", bits(idr[1], 0, 6),
	       bits(idr[1], 6, 5));
	printf("  granules:%s%s%s, OAS %u bits, %u-bit ASIDs, %u-bit VMIDs\n",
	       bits(idr[5], 4, 1) ? " 4K" : "",
	       bits(idr[5], 5, 1) ? " 16K" : "",
	       bits(idr[5], 6, 1) ? " 64K" : "", oas[bits(idr[5], 0, 3)],
	       bits(idr[0], 12, 1) ? 16 : 8, bits(idr[0], 18, 1) ? 16 : 8);
	printf("  HTTU: %s; coherent: %s; ATS: %s; PRI: %s; stall: %s; "
	       "range invalidation: %s\n",
	       httu[bits(idr[0], 6, 2)], bits(idr[0], 4, 1) ? "yes" : "no",
	       bits(idr[0], 10, 1) ? "yes" : "no",
	       bits(idr[0], 16, 1) ? "yes" : "no",
	       bits(idr[0], 24, 2) == 1 ? "no" : "yes",
	       bits(idr[3], 10, 1) ? "yes" : "no");
}

int sio_cmd_info(int argc, char **argv)
{
	struct sio_platform *p;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: softiommu info\n");
		return 2;
	}
	rc = sio_platform_create(&p);
	if (rc) {
		fprintf(stderr,
			"softiommu info: cannot create the platform: %d\n", rc);
		return 1;
	}
	printf("the default platform\n\n");
	show_smmu(sio_platform_smmu(p));
	printf("\ndevices (each alone in its IOMMU group):\n");
	for (unsigned int i = 0; i < p->nr_devs; i++)
		printf("  %s  Intel I/OAT (CBDMA 3.2) 8086:2021  StreamID %#x  "
		       "/dev/vfio/devices/vfio%u\n",
		       p->devs[i].name, p->devs[i].sid, i);
	printf("\nnodes under `softiommu exec`: /dev/iommu");
	for (unsigned int i = 0; i < p->nr_devs; i++)
		printf(", /dev/vfio/devices/vfio%u", i);
	printf("\n");
	sio_platform_destroy(p);
	return 0;
}
