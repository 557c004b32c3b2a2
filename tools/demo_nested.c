// SPDX-License-Identifier: MIT
/*
 * softiommu demo nested: a VMM and its guest on the library's platform.
 *
 * The VMM gives the guest RAM through an IOAS (the guest's IPA space), a
 * nesting-parent HWPT for stage 2, a vIOMMU and a vDEVICE for the
 * assigned I/OAT device; the guest's SMMUv3 driver writes a CD and
 * stage-1 tables in its RAM and the VMM turns the guest's STE into a
 * nested HWPT.  Then the device's DMA is translated IOVA -> IPA -> PA
 * (shown read by read with sio_smmu_translate_explain()), the guest
 * changes a mapping and invalidates it with TLBI_NH_VA through
 * IOMMU_HWPT_INVALIDATE, and the guest makes its device fault, which the
 * VMM reads from its vEVENTQ with the guest's StreamID (the vSID).
 *
 * The VMM runs in this process on the library API (sio_iommufd_ioctl
 * takes the same structs as ioctl(2) on /dev/iommu); binding and
 * attaching the device are what VFIO_DEVICE_BIND_IOMMUFD and
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT do on its cdev.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softiommu/iommufd.h>

#include "guest.h"
#include "platform/platform_private.h"
#include "tools.h"
#include "uapi/iommufd_abi.h"

#define GUEST_IPA  0x40000000ull
#define GUEST_SIZE 0x100000ull
#define PAGE_A	   0x80000ull /* guest pages the device writes */
#define PAGE_B	   0x81000ull
#define IOVA	   0x10000000ull
#define VSID	   0x8
#define ASID	   1

/* SMMUv3 STE (5.2) fields a guest sets, and the TLBI_NH_VA opcode. */
#define STE0_V	       (1ull << 0)
#define STE0_CFG_S1    (5ull << 1)
#define STE1_S1_WB_ISH ((1ull << 2) | (1ull << 4) | (3ull << 6))
#define CMD_TLBI_NH_VA 0x12
#define CMD_ASID(a)    ((uint64_t)(a) << 48)

struct vmm {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev;
	struct iommufd_device *idev;
	uint32_t dev_id, ioas, parent, viommu, vdev, nested, veventq;
	int veventq_fd; /* readable while vEVENTs wait */
	bool attached;
	uint8_t *ram; /* guest RAM */
	struct guest_s1 s1;
	struct sio_smmu_explain ex;
	bool ok;
};

static void step(int n, const char *what)
{
	printf("\n%d. %s\n", n, what);
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "softiommu demo nested: %s: %s\n", what,
		strerror(rc < 0 ? -rc : rc));
	return 1;
}

static void expect(struct vmm *v, bool cond, const char *what)
{
	if (!cond) {
		printf("   UNEXPECTED: %s\n", what);
		v->ok = false;
	}
}

static int ioctl_(struct vmm *v, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(v->fd, cmd, arg);
}

/* The VMM's half: guest RAM, stage 2, vIOMMU, vDEVICE. */
static int vmm_setup(struct vmm *v)
{
	struct sio_iommu_ioas_alloc ioas = {.size = sizeof(ioas)};
	struct sio_iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.length = GUEST_SIZE,
		.iova = GUEST_IPA,
	};
	struct sio_iommu_hwpt_alloc parent = {
		.size = sizeof(parent),
		.flags = SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
	};
	struct sio_iommu_viommu_alloc viommu = {
		.size = sizeof(viommu),
		.type = SIO_IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
	};
	struct sio_iommu_vdevice_alloc vdev = {.size = sizeof(vdev),
					       .virt_id = VSID};
	struct sio_iommu_veventq_alloc veventq = {
		.size = sizeof(veventq),
		.type = SIO_IOMMU_VEVENTQ_TYPE_ARM_SMMUV3,
		.veventq_depth = 64,
	};
	int rc;

	rc = iommufd_device_bind(v->fd->ictx, &v->pdev->desc, &v->dev_id,
				 &v->idev);
	if (rc)
		return fail("bind", rc);
	printf("   the device %s (StreamID %#x) bound: iommufd device %u\n",
	       v->pdev->name, v->pdev->sid, v->dev_id);
	rc = ioctl_(v, SIO_IOMMU_IOAS_ALLOC, &ioas);
	if (rc)
		return fail("IOMMU_IOAS_ALLOC", rc);
	v->ioas = ioas.out_ioas_id;
	map.ioas_id = v->ioas;
	map.user_va = (uint64_t)(uintptr_t)v->ram;
	rc = ioctl_(v, SIO_IOMMU_IOAS_MAP, &map);
	if (rc)
		return fail("IOMMU_IOAS_MAP", rc);
	printf("   IOMMU_IOAS_MAP: 1 MiB of guest RAM at IPA %#llx (IOAS %u)\n",
	       GUEST_IPA, v->ioas);
	parent.dev_id = v->dev_id;
	parent.pt_id = v->ioas;
	rc = ioctl_(v, SIO_IOMMU_HWPT_ALLOC, &parent);
	if (rc)
		return fail("IOMMU_HWPT_ALLOC(NEST_PARENT)", rc);
	v->parent = parent.out_hwpt_id;
	viommu.dev_id = v->dev_id;
	viommu.hwpt_id = v->parent;
	rc = ioctl_(v, SIO_IOMMU_VIOMMU_ALLOC, &viommu);
	if (rc)
		return fail("IOMMU_VIOMMU_ALLOC", rc);
	v->viommu = viommu.out_viommu_id;
	vdev.viommu_id = v->viommu;
	vdev.dev_id = v->dev_id;
	rc = ioctl_(v, SIO_IOMMU_VDEVICE_ALLOC, &vdev);
	if (rc)
		return fail("IOMMU_VDEVICE_ALLOC", rc);
	v->vdev = vdev.out_vdevice_id;
	veventq.viommu_id = v->viommu;
	rc = ioctl_(v, SIO_IOMMU_VEVENTQ_ALLOC, &veventq);
	if (rc)
		return fail("IOMMU_VEVENTQ_ALLOC", rc);
	v->veventq = veventq.out_veventq_id;
	v->veventq_fd = (int)veventq.out_veventq_fd;
	printf("   IOMMU_HWPT_ALLOC(NEST_PARENT): stage 2, HWPT %u; "
	       "IOMMU_VIOMMU_ALLOC: vSMMU %u;\n   IOMMU_VDEVICE_ALLOC: the "
	       "guest knows the device as vSID %#x;\n   IOMMU_VEVENTQ_ALLOC: "
	       "the guest's events arrive on fd %d\n",
	       v->parent, v->viommu, VSID, v->veventq_fd);
	return 0;
}

/* The guest's half: its CD and stage-1 tables, written in its RAM. */
static int guest_setup(struct vmm *v)
{
	uint64_t cd[8];
	int rc = guest_s1_init(&v->s1, v->ram, GUEST_IPA, 0x1000, PAGE_A, 12,
			       39);

	if (!rc)
		rc = guest_s1_map(&v->s1, IOVA, GUEST_IPA + PAGE_A, GUEST_S1_RW,
				  NULL);
	if (rc)
		return fail("guest tables", rc);
	guest_cd(cd, &v->s1, ASID);
	memcpy(v->ram, cd, sizeof(cd));
	printf("   the guest's CD at IPA %#llx: TTB0 IPA %#" PRIx64
	       ", 39-bit IOVAs, 4K granule, ASID %u;\n   its stage 1 maps "
	       "IOVA %#llx -> IPA %#llx (page A)\n",
	       GUEST_IPA, (uint64_t)GUEST_IPA + v->s1.root, ASID, IOVA,
	       GUEST_IPA + PAGE_A);
	return 0;
}

/* The guest's STE, as the VMM passes it on: a nested HWPT, attached. */
static int nested_attach(struct vmm *v)
{
	struct sio_iommu_hwpt_arm_smmuv3 vste = {
		.ste = {STE0_V | STE0_CFG_S1 | GUEST_IPA, STE1_S1_WB_ISH}};
	struct sio_iommu_hwpt_alloc c = {
		.size = sizeof(c),
		.dev_id = v->dev_id,
		.pt_id = v->viommu,
		.data_type = SIO_IOMMU_HWPT_DATA_ARM_SMMUV3,
		.data_len = sizeof(vste),
		.data_uptr = (uint64_t)(uintptr_t)&vste,
	};
	int rc = ioctl_(v, SIO_IOMMU_HWPT_ALLOC, &c);

	if (rc)
		return fail("IOMMU_HWPT_ALLOC(nested)", rc);
	v->nested = c.out_hwpt_id;
	rc = iommufd_device_attach(v->idev, &v->nested);
	if (rc)
		return fail("attach", rc);
	v->attached = true;
	printf("   vSTE %#018" PRIx64 " (Config S1, S1ContextPtr IPA "
	       "%#llx) -> nested HWPT %u, attached:\n   the physical STE "
	       "is Config nested, stage 2 from the parent\n",
	       vste.ste[0], GUEST_IPA, v->nested);
	return 0;
}

static int dma(struct vmm *v, uint64_t iova, const void *buf, size_t len)
{
	struct sio_smmu_txn t = {
		.sid = v->pdev->sid, .addr = iova, .attr = SIO_SMMU_WRITE};

	return sio_smmu_dma(sio_platform_smmu(v->plat), &t, (void *)buf, len,
			    NULL);
}

static void explain(struct vmm *v, uint64_t iova)
{
	struct sio_smmu_txn t = {
		.sid = v->pdev->sid, .addr = iova, .attr = SIO_SMMU_WRITE};

	if (sio_smmu_translate_explain(sio_platform_smmu(v->plat), &t, &v->ex))
		return;
	printf("\n");
	sio_explain_print(stdout, &t, &v->ex);
}

/* IOMMU_HWPT_INVALIDATE on the vIOMMU: the guest's TLBI_NH_VA. */
static int guest_tlbi_va(struct vmm *v, uint64_t iova)
{
	struct sio_iommu_viommu_arm_smmuv3_invalidate cmd = {
		.cmd = {CMD_TLBI_NH_VA | CMD_ASID(ASID), iova & ~0xfffull}};
	struct sio_iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = v->viommu,
		.data_uptr = (uint64_t)(uintptr_t)&cmd,
		.data_type = SIO_IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
		.entry_len = sizeof(cmd),
		.entry_num = 1,
	};
	int rc = ioctl_(v, SIO_IOMMU_HWPT_INVALIDATE, &c);

	if (rc)
		return fail("IOMMU_HWPT_INVALIDATE", rc);
	printf("   IOMMU_HWPT_INVALIDATE on vSMMU %u: TLBI_NH_VA ASID %u "
	       "IOVA %#" PRIx64 " (%u command carried out; the VMID is "
	       "the vSMMU's)\n",
	       v->viommu, ASID, iova, c.entry_num);
	return 0;
}

static void show_event(const uint64_t ev[4])
{
	const char *name = sio_smmu_event_name(ev[0] & 0xff);

	printf("   the vEVENT's record: %s StreamID %#" PRIx64
	       " InputAddr %#" PRIx64 " S2=%u CLASS=%u\n",
	       name ? name : "?", ev[0] >> 32, ev[2],
	       (unsigned int)(ev[1] >> 39) & 1,
	       (unsigned int)(ev[1] >> 40) & 3);
	printf("   record: 0x%016" PRIx64 " 0x%016" PRIx64 " 0x%016" PRIx64
	       " 0x%016" PRIx64 "\n",
	       ev[0], ev[1], ev[2], ev[3]);
}

static int read_vevent(struct vmm *v);

static int demo(struct vmm *v)
{
	const char a[] = "to page A", b[] = "to page B";

	step(1, "the VMM: guest RAM in an IOAS, stage 2, vIOMMU, vDEVICE");
	if (vmm_setup(v))
		return 1;
	step(2, "the guest: a CD and stage-1 tables in its RAM");
	if (guest_setup(v))
		return 1;
	step(3, "the guest's STE becomes a nested HWPT");
	if (nested_attach(v))
		return 1;

	step(4, "device DMA through both stages: IOVA -> IPA -> PA");
	expect(v, dma(v, IOVA + 0x10, a, sizeof(a)) == 0, "DMA failed");
	printf("   DMA write to IOVA %#llx: guest page A reads \"%s\"\n",
	       IOVA + 0x10, (char *)v->ram + PAGE_A + 0x10);
	expect(v, !memcmp(v->ram + PAGE_A + 0x10, a, sizeof(a)),
	       "page A does not hold the data");
	explain(v, IOVA + 0x10);

	step(5, "the guest remaps the IOVA to page B, then invalidates");
	guest_s1_remap(&v->s1, IOVA, GUEST_IPA + PAGE_B, GUEST_S1_RW);
	expect(v, dma(v, IOVA + 0x10, b, sizeof(b)) == 0, "DMA failed");
	printf("   before the TLBI: DMA to IOVA %#llx still lands in page "
	       "A (it reads \"%s\"): the TLB's stale entry\n",
	       IOVA + 0x10, (char *)v->ram + PAGE_A + 0x10);
	expect(v, !memcmp(v->ram + PAGE_A + 0x10, b, sizeof(b)),
	       "the stale entry was not used");
	if (!sio_smmu_translate_explain(
		    sio_platform_smmu(v->plat),
		    &(struct sio_smmu_txn){.sid = v->pdev->sid,
					   .addr = IOVA,
					   .attr = SIO_SMMU_WRITE},
		    &v->ex))
		printf("   explain: the TLB holds PA %#" PRIx64
		       ", the tables now say PA %#" PRIx64 "%s\n",
		       v->ex.cached_pa, v->ex.res.pa,
		       v->ex.cached && v->ex.cached_pa != v->ex.res.pa ? " ("
									 "stale"
									 ")"
								       : "");
	if (guest_tlbi_va(v, IOVA))
		return 1;
	memset(v->ram + PAGE_A, 0, 0x1000);
	expect(v, dma(v, IOVA + 0x10, b, sizeof(b)) == 0, "DMA failed");
	printf("   after it: the DMA lands in page B (\"%s\"); page A is "
	       "untouched: %s\n",
	       (char *)v->ram + PAGE_B + 0x10,
	       v->ram[PAGE_A + 0x10] ? "NO" : "yes");
	expect(v,
	       !memcmp(v->ram + PAGE_B + 0x10, b, sizeof(b)) &&
		       !v->ram[PAGE_A + 0x10],
	       "the TLBI did not take effect");

	step(6, "the guest's device faults: an IOVA its stage 1 does not map");
	expect(v, dma(v, IOVA + 0x2000, a, sizeof(a)) == -EFAULT,
	       "the DMA did not fault");
	explain(v, IOVA + 0x2000);
	return read_vevent(v);
}

/*
 * The VMM's event loop, once: wait for the vEVENTQ's fd, read the
 * record — an iommufd_vevent_header and the raw 32-byte event with the
 * vSID in place of the StreamID — for the guest's event queue.
 */
static int read_vevent(struct vmm *v)
{
	struct pollfd p = {.fd = v->veventq_fd, .events = POLLIN};
	struct {
		struct sio_iommufd_vevent_header hdr;
		uint64_t evt[4];
	} rec;
	ssize_t n;

	if (poll(&p, 1, 2000) != 1)
		return fail("no vEVENT within 2 s", ETIMEDOUT);
	n = sio_iommufd_eventq_read(v->fd, v->veventq, &rec, sizeof(rec));
	if (n != (ssize_t)sizeof(rec))
		return fail("reading the vEVENTQ", n < 0 ? (int)-n : EIO);
	printf("\n   the VMM's vEVENTQ (fd %d) is readable: a %zd-byte vEVENT, "
	       "sequence %u, flags %#x\n",
	       v->veventq_fd, n, rec.hdr.sequence, rec.hdr.flags);
	show_event(rec.evt);
	printf("   (the device's StreamID is %#x; the guest sees its vSID "
	       "%#x)\n",
	       v->pdev->sid, VSID);
	expect(v,
	       (rec.evt[0] & 0xff) == 0x10 && !((rec.evt[1] >> 39) & 1) &&
		       (rec.evt[0] >> 32) == VSID &&
		       rec.evt[2] == IOVA + 0x2000,
	       "no stage-1 F_TRANSLATION vEVENT with the vSID");
	return 0;
}

static void teardown(struct vmm *v)
{
	if (v->veventq_fd >= 0)
		close(v->veventq_fd);
	if (v->attached)
		iommufd_device_detach(v->idev);
	if (v->idev)
		iommufd_device_unbind(v->idev);
	if (v->fd)
		sio_iommufd_close(v->fd);
	if (v->plat)
		sio_platform_destroy(v->plat);
	if (v->ram && v->ram != MAP_FAILED)
		munmap(v->ram, GUEST_SIZE);
}

int sio_demo_nested(void)
{
	struct vmm *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return 1;
	v->ok = true;
	v->veventq_fd = -1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("softiommu demo nested: a VMM, its guest, and the guest's "
	       "assigned device\n");
	v->ram = mmap(NULL, GUEST_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rc = v->ram == MAP_FAILED ? -ENOMEM : sio_platform_create(&v->plat);
	if (!rc)
		rc = sio_iommufd_open(v->plat, &v->fd);
	if (rc) {
		teardown(v);
		free(v);
		return fail("platform", rc);
	}
	v->pdev = platform_find_device(v->plat, "0000:00:04.0");
	rc = v->pdev ? demo(v) : fail("no device", ENODEV);
	if (!rc)
		printf("\n%s\n", v->ok ? "done: every step did what it should."
				       : "done, with UNEXPECTED results.");
	rc = rc ? rc : !v->ok;
	teardown(v);
	free(v);
	return rc;
}
