// SPDX-License-Identifier: MIT
/*
 * PASIDs of one device on several address spaces: iommufd's PASID
 * attach, replace and detach and their errnos, and the SMMUv3 driver's
 * CD table under them, checked by DMA through the SMMU model.
 *
 * Expected values come from the kernel and the architecture: the rules
 * of iommufd's device.c (iommufd_hwpt_pasid_compat(): a PASID takes only
 * an HWPT allocated with IOMMU_HWPT_ALLOC_PASID, and only while the
 * RID's HWPT was too; a second attach of a PASID EBUSY, a replace of
 * one not attached EINVAL), iommu_attach_device_pasid() (a PASID past
 * the device's width EINVAL), arm-smmu-v3's choices (PASID with
 * NEST_PARENT EOPNOTSUPP; nested domains take no flags; the CD table:
 * two levels of 64 KiB leaves past 1024 CDs, S1DSS 0b10 under a
 * stage-1 RID and 0b00 under a blocked one), and the SMMUv3's events
 * for a SubstreamID with no CD (smmu-facts.md §3.1: C_BAD_SUBSTREAMID
 * for an invalid L1CD, C_BAD_CD for a CD with V=0, F_STREAM_DISABLED
 * for a transaction without one when S1DSS terminates).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"
#include "ifd_test.h"

#include <softiommu/iommufd.h>

#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define IOVA 0x100000ull

/* Event records and STE fields (SMMUv3 7.3, 5.2). */
#define EVT_F_STREAM_DISABLED 0x06
#define EVT_C_BAD_SUBSTREAMID 0x08
#define EVT_C_BAD_CD	      0x0a
#define EVT0_SSV	      (1ull << 11)
#define EVT0_SSID(e)	      (((e) >> 12) & 0xfffff)
#define STE_CFG(s)	      (((s)[0] >> 1) & 7)
#define STE_S1FMT(s)	      (((s)[0] >> 4) & 3)
#define STE_S1CDMAX(s)	      (((s)[0] >> 59) & 31)
#define STE_S1DSS(s)	      ((s)[1] & 3)
#define CFG_ABORT	      0
#define CFG_S1		      5

/* Three address spaces: each maps IOVA to a page of its own. */
#define NR_AS 4

struct fx {
	struct sio_platform *plat;
	struct sio_iommufd *fd;
	struct platform_device *pdev;
	struct iommufd_device *idev;
	uint32_t dev_id;
	uint64_t pg;
	uint32_t ioas[NR_AS], hwpt[NR_AS]; /* hwpt: allocated for PASIDs */
	uint8_t *buf[NR_AS];
};

static int ioctl_(struct fx *f, unsigned long cmd, void *arg)
{
	return sio_iommufd_ioctl(f->fd, cmd, arg);
}

static uint32_t ioas_alloc(struct fx *f)
{
	return ifd_ioas_alloc(f->fd);
}

static void map_fixed(struct fx *f, uint32_t ioas, void *va, uint64_t iova)
{
	assert_int_equal(ifd_map_fixed(f->fd, ioas, va, f->pg, iova), 0);
}

static int hwpt_alloc(struct fx *f, uint32_t pt_id, uint32_t flags,
		      uint32_t *out)
{
	return ifd_hwpt_alloc(f->fd, f->dev_id, pt_id, flags, out);
}

static int destroy(struct fx *f, uint32_t id)
{
	return ifd_destroy(f->fd, id);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(sio_platform_create(&f->plat), 0);
	assert_int_equal(sio_iommufd_open(f->plat, &f->fd), 0);
	f->pdev = platform_find_device(f->plat, "0000:00:04.0");
	assert_non_null(f->pdev);
	assert_int_equal(iommufd_device_bind(f->fd->ictx, &f->pdev->desc,
					     &f->dev_id, &f->idev),
			 0);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < NR_AS; i++) {
		f->buf[i] = mmap(NULL, f->pg, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(f->buf[i] != MAP_FAILED);
		memset(f->buf[i], 'A' + i, f->pg);
		f->ioas[i] = ioas_alloc(f);
		map_fixed(f, f->ioas[i], f->buf[i], IOVA);
		assert_int_equal(hwpt_alloc(f, f->ioas[i],
					    SIO_IOMMU_HWPT_ALLOC_PASID,
					    &f->hwpt[i]),
				 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->idev)
		iommufd_device_unbind(f->idev);
	sio_iommufd_close(f->fd);
	sio_platform_destroy(f->plat);
	for (int i = 0; i < NR_AS; i++)
		munmap(f->buf[i], f->pg);
	free(f);
	return 0;
}

/* A read by the device of IOVA, with PASID @pasid (-1: none). */
static int dma_read(struct fx *f, int pasid, uint8_t *out)
{
	struct sio_smmu_txn txn = {.sid = f->pdev->sid, .addr = IOVA};
	size_t done;

	if (pasid >= 0) {
		txn.ssv = true;
		txn.ssid = (uint32_t)pasid;
	}
	*out = 0;
	return sio_smmu_dma(sio_platform_smmu(f->plat), &txn, out, 1, &done);
}

/* The one event the last faulting DMA recorded. */
static void expect_event(struct fx *f, unsigned int id, bool ssv, uint32_t ssid)
{
	uint64_t ev[4][4];

	assert_int_equal(arm_smmu_read_events(f->plat->smmu_drv, ev, 4), 1);
	assert_int_equal(ev[0][0] & 0xff, id);
	assert_int_equal(ev[0][0] >> 32, f->pdev->sid);
	assert_int_equal(!!(ev[0][0] & EVT0_SSV), ssv);
	assert_int_equal(EVT0_SSID(ev[0][0]), ssid);
}

static int drain_events(struct fx *f)
{
	uint64_t ev[8][4];
	int n, total = 0;

	while ((n = arm_smmu_read_events(f->plat->smmu_drv, ev, 8)) > 0)
		total += n;
	return total;
}

static void read_ste(struct fx *f, uint64_t ste[8])
{
	const uint64_t *p =
		f->plat->smmu_drv->strtab + 8 * (size_t)f->pdev->sid;

	for (int i = 0; i < 8; i++)
		ste[i] = __atomic_load_n(&p[i], __ATOMIC_ACQUIRE);
}

static int pasid_attach(struct fx *f, uint32_t pasid, uint32_t pt)
{
	return iommufd_device_pasid_attach(f->idev, pasid, &pt);
}

static int pasid_replace(struct fx *f, uint32_t pasid, uint32_t pt)
{
	return iommufd_device_pasid_replace(f->idev, pasid, &pt);
}

static int rid_attach(struct fx *f, uint32_t pt)
{
	return iommufd_device_attach(f->idev, &pt);
}

/* GET_HW_INFO: the I/OAT's 20-bit PASIDs, Privileged Mode, no Execute. */
static void test_hw_info(void **state)
{
	struct fx *f = *state;
	uint8_t blob[40];
	struct sio_iommu_hw_info c = {
		.size = sizeof(c),
		.dev_id = f->dev_id,
		.data_len = sizeof(blob),
		.data_uptr = (uint64_t)(uintptr_t)blob,
	};

	assert_int_equal(ioctl_(f, SIO_IOMMU_GET_HW_INFO, &c), 0);
	assert_int_equal(c.out_max_pasid_log2, 20);
	assert_true(c.out_capabilities & SIO_IOMMU_HW_CAP_PCI_PASID_PRIV);
	assert_false(c.out_capabilities & SIO_IOMMU_HW_CAP_PCI_PASID_EXEC);
}

/* IOMMU_HWPT_ALLOC_PASID as arm-smmu-v3 takes it. */
static void test_alloc_flag(void **state)
{
	struct fx *f = *state;
	uint32_t id = 0;

	assert_int_equal(hwpt_alloc(f, f->ioas[0],
				    SIO_IOMMU_HWPT_ALLOC_PASID |
					    SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				    &id),
			 0);
	assert_int_equal(destroy(f, id), 0);
	assert_int_equal(hwpt_alloc(f, f->ioas[0],
				    SIO_IOMMU_HWPT_ALLOC_PASID |
					    SIO_IOMMU_HWPT_ALLOC_NEST_PARENT,
				    &id),
			 -EOPNOTSUPP);
}

/* Every errno of the PASID paths, and nothing changed by any of them. */
static void test_attach_errors(void **state)
{
	struct fx *f = *state;
	uint32_t plain = 0, nonpasid_pt;
	uint8_t b;

	assert_int_equal(hwpt_alloc(f, f->ioas[0], 0, &plain), 0);
	/* PASID 0 is the RID */
	assert_int_equal(pasid_attach(f, 0, f->hwpt[1]), -EINVAL);
	/* an IOAS: its automatic HWPT is not for PASIDs; a plain HWPT */
	assert_int_equal(pasid_attach(f, 1, f->ioas[1]), -EINVAL);
	assert_int_equal(pasid_attach(f, 1, plain), -EINVAL);
	/* no object, a device: as the RID's attach */
	assert_int_equal(pasid_attach(f, 1, 9999), -ENOENT);
	assert_int_equal(pasid_attach(f, 1, f->dev_id), -EINVAL);
	/* past the device's 20 bits */
	assert_int_equal(pasid_attach(f, 1u << 20, f->hwpt[1]), -EINVAL);
	/* a replace of a PASID not attached */
	assert_int_equal(pasid_replace(f, 1, f->hwpt[1]), -EINVAL);
	/* nothing attached at all: an abort STE, no event */
	assert_int_equal(dma_read(f, 1, &b), -EFAULT);
	assert_int_equal(drain_events(f), 0);

	/* a blocked RID takes PASIDs; a second attach is EBUSY */
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[2]), -EBUSY);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), -EBUSY);
	/* replace with an HWPT not for PASIDs: EINVAL, still on hwpt[1] */
	assert_int_equal(pasid_replace(f, 1, plain), -EINVAL);
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'B');
	/* the RID cannot take an HWPT not for PASIDs while PASIDs are on */
	assert_int_equal(rid_attach(f, plain), -EINVAL);
	assert_int_equal(rid_attach(f, f->ioas[0]), -EINVAL);
	/* in use: the PASID's HWPT */
	assert_int_equal(destroy(f, f->hwpt[1]), -EBUSY);
	iommufd_device_pasid_detach(f->idev, 1);
	iommufd_device_pasid_detach(f->idev, 1); /* nothing attached: no-op */

	/* a RID on an HWPT not for PASIDs refuses every PASID */
	assert_int_equal(rid_attach(f, plain), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), -EINVAL);
	nonpasid_pt = f->hwpt[0];
	assert_int_equal(iommufd_device_replace(f->idev, &nonpasid_pt), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'B');
	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'A');
	iommufd_device_pasid_detach(f->idev, 1);
	iommufd_device_detach(f->idev);
	assert_int_equal(destroy(f, plain), 0);
}

/*
 * Shared virtual addressing: the RID and PASIDs 1 and 2 on three HWPTs,
 * each DMA through its own address space; a replace or a detach of one
 * PASID leaves the others as they were; a PASID with no CD faults with
 * the architectural event.
 */
static void test_three_address_spaces(void **state)
{
	struct fx *f = *state;
	uint64_t ste[8];
	uint8_t b;

	assert_int_equal(rid_attach(f, f->hwpt[0]), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	assert_int_equal(pasid_attach(f, 2, f->hwpt[2]), 0);

	/* the CD table: 2^20 CDs in 64 KiB leaves, CD 0 the RID's */
	read_ste(f, ste);
	assert_int_equal(STE_CFG(ste), CFG_S1);
	assert_int_equal(STE_S1CDMAX(ste), 20);
	assert_int_equal(STE_S1FMT(ste), 2);
	assert_int_equal(STE_S1DSS(ste), 2);

	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'A');
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'B');
	assert_int_equal(dma_read(f, 2, &b), 0);
	assert_int_equal(b, 'C');

	/* PASID 1 moves to the fourth space; the others stay */
	assert_int_equal(pasid_replace(f, 1, f->hwpt[3]), 0);
	assert_int_equal(pasid_replace(f, 1, f->hwpt[3]), 0); /* same: no-op */
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'D');
	assert_int_equal(dma_read(f, 2, &b), 0);
	assert_int_equal(b, 'C');
	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'A');
	/* hwpt[1] is free again */
	assert_int_equal(destroy(f, f->hwpt[1]), 0);
	f->hwpt[1] = 0;

	/* PASID 2 goes: its CD is invalid, C_BAD_CD with its SubstreamID */
	iommufd_device_pasid_detach(f->idev, 2);
	assert_int_equal(dma_read(f, 2, &b), -EFAULT);
	expect_event(f, EVT_C_BAD_CD, true, 2);
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'D');
	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'A');
	/* never attached, in a leaf that exists: C_BAD_CD too */
	assert_int_equal(dma_read(f, 3, &b), -EFAULT);
	expect_event(f, EVT_C_BAD_CD, true, 3);
	/* in a leaf never allocated: the L1CD is invalid */
	assert_int_equal(dma_read(f, 5000, &b), -EFAULT);
	expect_event(f, EVT_C_BAD_SUBSTREAMID, false, 5000);

	/* the RID moves; PASID 1 keeps its space */
	assert_int_equal(rid_attach(f, f->hwpt[0]), -EBUSY); /* attached */
	{
		uint32_t pt = f->hwpt[2];

		assert_int_equal(iommufd_device_replace(f->idev, &pt), 0);
	}
	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'C');
	assert_int_equal(dma_read(f, 1, &b), 0);
	assert_int_equal(b, 'D');
}

/*
 * A blocked RID with PASIDs: the CD table terminates transactions
 * without a PASID (S1DSS 0b00, F_STREAM_DISABLED), PASIDs translate;
 * the last PASID gone, an abort STE again.
 */
static void test_blocked_rid(void **state)
{
	struct fx *f = *state;
	uint64_t ste[8];
	uint8_t b;

	assert_int_equal(rid_attach(f, f->hwpt[0]), 0);
	assert_int_equal(pasid_attach(f, 7, f->hwpt[1]), 0);
	iommufd_device_detach(f->idev);
	read_ste(f, ste);
	assert_int_equal(STE_CFG(ste), CFG_S1);
	assert_int_equal(STE_S1DSS(ste), 0);
	assert_int_equal(dma_read(f, -1, &b), -EFAULT);
	expect_event(f, EVT_F_STREAM_DISABLED, false, 0);
	assert_int_equal(dma_read(f, 7, &b), 0);
	assert_int_equal(b, 'B');

	iommufd_device_pasid_detach(f->idev, 7);
	read_ste(f, ste);
	assert_int_equal(STE_CFG(ste), CFG_ABORT);
	assert_int_equal(dma_read(f, 7, &b), -EFAULT);
	assert_int_equal(dma_read(f, -1, &b), -EFAULT);
	/* an abort STE records nothing */
	assert_int_equal(drain_events(f), 0);

	/* PASIDs on a blocked RID from the start; then the RID joins */
	assert_int_equal(pasid_attach(f, 9, f->hwpt[2]), 0);
	assert_int_equal(dma_read(f, 9, &b), 0);
	assert_int_equal(b, 'C');
	assert_int_equal(rid_attach(f, f->hwpt[3]), 0);
	assert_int_equal(dma_read(f, -1, &b), 0);
	assert_int_equal(b, 'D');
	assert_int_equal(dma_read(f, 9, &b), 0);
	assert_int_equal(b, 'C');
}

/*
 * The I/OAT function's own DMA port (the engine's one way to memory)
 * tagged with a PASID: its requests go through that PASID's space.
 */
static void test_device_port_pasid(void **state)
{
	struct fx *f = *state;
	struct sio_dma_port port = sio_dma_smmu_port(&f->pdev->dma);
	uint8_t b = 0;

	assert_int_equal(rid_attach(f, f->hwpt[0]), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	assert_int_equal(pasid_attach(f, 0x54321, f->hwpt[2]), 0);
	assert_int_equal(sio_dma_read(&port, IOVA, &b, 1), 0);
	assert_int_equal(b, 'A');
	sio_dma_smmu_set_pasid(&f->pdev->dma, true, 1);
	assert_int_equal(sio_dma_read(&port, IOVA, &b, 1), 0);
	assert_int_equal(b, 'B');
	sio_dma_smmu_set_pasid(&f->pdev->dma, true, 0x54321);
	b = 'c';
	assert_int_equal(sio_dma_write(&port, IOVA + 1, &b, 1), 0);
	assert_int_equal(f->buf[2][1], 'c');
	/* a PASID with nothing attached: the write lands nowhere */
	sio_dma_smmu_set_pasid(&f->pdev->dma, true, 2);
	assert_int_equal(sio_dma_write(&port, IOVA + 1, &b, 1), -EFAULT);
	expect_event(f, EVT_C_BAD_CD, true, 2);
	sio_dma_smmu_set_pasid(&f->pdev->dma, false, 0);
	assert_int_equal(sio_dma_read(&port, IOVA, &b, 1), 0);
	assert_int_equal(b, 'A');
}

/* The ATC invalidations the device received. */
struct atc_log {
	int n;
	uint32_t sid, ssid;
	bool ssv;
	uint64_t addr;
	unsigned int log2;
};

static int atc_inv(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		   bool global, uint64_t addr, unsigned int log2size)
{
	struct atc_log *l = opaque;

	(void)global;
	*l = (struct atc_log){.n = l->n + 1,
			      .sid = sid,
			      .ssid = ssid,
			      .ssv = ssv,
			      .addr = addr,
			      .log2 = log2size};
	return 0;
}

static int unmap_one(struct fx *f, uint32_t ioas)
{
	struct sio_iommu_ioas_unmap c = {.size = sizeof(c),
					 .ioas_id = ioas,
					 .iova = IOVA,
					 .length = f->pg};

	return ioctl_(f, SIO_IOMMU_IOAS_UNMAP, &c);
}

/*
 * ATS on paging domains, as the kernel's driver runs a device that has
 * it: EATS 0b01 in the STE, the device's Translation Requests answered
 * for the RID and for each PASID from its own space, and an IOAS_UNMAP
 * of a page sends CMD_ATC_INV of that page (with the PASID for a PASID's
 * space) before it returns.
 */
static void test_paging_ats(void **state)
{
	struct fx *f = *state;
	struct sio_smmu *smmu = sio_platform_smmu(f->plat);
	struct atc_log log = {0};
	struct sio_smmu_ats_req req = {
		.sid = f->pdev->sid, .addr = IOVA, .span = 1, .nw = true};
	struct sio_smmu_ats_entry e;
	unsigned int n = 0;
	uint64_t ste[8];

	sio_smmu_set_atc_inv(smmu, atc_inv, &log);
	assert_int_equal(rid_attach(f, f->hwpt[0]), 0);
	read_ste(f, ste);
	assert_int_equal((ste[1] >> 28) & 3, 1);
	assert_int_equal(log.n, 1); /* the ATC emptied as ATS starts */
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	read_ste(f, ste);
	assert_int_equal((ste[1] >> 28) & 3, 1);

	assert_int_equal(sio_smmu_ats_translate(smmu, &req, &e, 1, &n),
			 SIO_SMMU_ATS_SC);
	assert_int_equal(e.addr, (uint64_t)(uintptr_t)f->buf[0]);
	req.ssv = true;
	req.ssid = 1;
	assert_int_equal(sio_smmu_ats_translate(smmu, &req, &e, 1, &n),
			 SIO_SMMU_ATS_SC);
	assert_int_equal(e.addr, (uint64_t)(uintptr_t)f->buf[1]);

	/* the RID's page: ATC_INV without a PASID, that page */
	log.n = 0;
	assert_int_equal(unmap_one(f, f->ioas[0]), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.sid, f->pdev->sid);
	assert_false(log.ssv);
	assert_int_equal(log.addr, IOVA & ~(f->pg - 1));
	assert_int_equal(1ull << log.log2, f->pg);
	/* PASID 1's page: with the PASID */
	log.n = 0;
	assert_int_equal(unmap_one(f, f->ioas[1]), 0);
	assert_int_equal(log.n, 1);
	assert_true(log.ssv);
	assert_int_equal(log.ssid, 1);
	assert_int_equal(log.addr, IOVA & ~(f->pg - 1));
	/* a space nobody with ATS uses: nothing */
	log.n = 0;
	assert_int_equal(unmap_one(f, f->ioas[3]), 0);
	assert_int_equal(log.n, 0);
	sio_smmu_set_atc_inv(smmu, NULL, NULL);
}

/* Unbinding detaches the PASIDs too: nothing left to reach memory. */
static void test_unbind_detaches(void **state)
{
	struct fx *f = *state;
	uint64_t ste[8];
	uint8_t b;

	assert_int_equal(rid_attach(f, f->hwpt[0]), 0);
	assert_int_equal(pasid_attach(f, 1, f->hwpt[1]), 0);
	assert_int_equal(pasid_attach(f, 2, f->hwpt[2]), 0);
	iommufd_device_unbind(f->idev);
	f->idev = NULL;
	read_ste(f, ste);
	assert_int_equal(STE_CFG(ste), CFG_ABORT);
	assert_int_equal(dma_read(f, 1, &b), -EFAULT);
	assert_int_equal(dma_read(f, -1, &b), -EFAULT);
	/* the HWPTs are free */
	for (int i = 0; i < NR_AS; i++)
		assert_int_equal(destroy(f, f->hwpt[i]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hw_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_flag, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attach_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_three_address_spaces,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_rid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_port_pasid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_paging_ats, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unbind_detaches, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
