// SPDX-License-Identifier: MIT
/*
 * The SMMUv3 driver against the SMMUv3 model: probe, paging domains of
 * both stages, attach (STE + CFGI + SYNC), device DMA through the model
 * landing in the mapped buffer, and after unmap (TLBI + SYNC) the same
 * DMA aborted with the architecture's F_TRANSLATION event.  Unattached
 * StreamIDs abort (the driver writes abort STEs, no bypass).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include <softiommu/fault.h>
#include <softiommu/smmu.h>

#include "drivers/smmuv3/arm_smmu_v3.h"

#define EVT_F_TRANSLATION 0x10

struct fx {
	struct sio_mem_bus *bus;
	struct sio_smmu *smmu;
	struct arm_smmu_device *dev;
	uint8_t *buf;
	uint64_t pg;
};

static int setup_with(void **state, bool ats)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_smmu_config cfg;

	assert_non_null(f);
	sio_smmu_config_default(&cfg);
	cfg.ats = ats;
	assert_int_equal(sio_mem_bus_create(&f->bus), 0);
	assert_int_equal(sio_smmu_create(&cfg, f->bus, &f->smmu), 0);
	assert_int_equal(arm_smmu_probe(f->smmu, f->bus, &f->dev), 0);
	f->pg = (uint64_t)sysconf(_SC_PAGESIZE);
	f->buf = mmap(NULL, 16 * f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->buf != MAP_FAILED);
	/* what pinning does: the buffer is on the bus */
	assert_int_equal(sio_mem_register(f->bus, (uintptr_t)f->buf, 16 * f->pg,
					  SIO_MEM_RW, f),
			 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

/* With ATS, so that a RID attach allocates (its domain's ATS list). */
static int setup_ats(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	arm_smmu_remove(f->dev);
	sio_smmu_destroy(f->smmu);
	sio_mem_bus_destroy(f->bus);
	munmap(f->buf, 16 * f->pg);
	free(f);
	return 0;
}

static int dma(struct fx *f, uint32_t sid, uint64_t iova, void *data,
	       size_t len, bool write)
{
	struct sio_smmu_txn t = {
		.sid = sid,
		.addr = iova,
		.attr = write ? SIO_SMMU_WRITE : 0,
	};
	size_t done = 0;

	return sio_smmu_dma(f->smmu, &t, data, len, &done);
}

static void expect_fault_event(struct fx *f, uint32_t sid, uint64_t iova)
{
	uint64_t ev[4][4];

	assert_int_equal(arm_smmu_read_events(f->dev, ev, 4), 1);
	assert_int_equal(ev[0][0] & 0xff, EVT_F_TRANSLATION);
	assert_int_equal(ev[0][0] >> 32, sid);
	assert_int_equal(ev[0][2], iova); /* InputAddr */
}

static void run_domain(struct fx *f, unsigned int flags)
{
	const struct sio_iommu_ops *ops = f->dev->iommu.ops;
	struct sio_iommu_domain *d;
	uint64_t iova = 0x40000000, pa, unmapped = 0;
	char msg[] = "device wrote this", back[32] = {0};
	uint64_t ev[4][4];

	assert_int_equal(ops->domain_alloc_paging(&f->dev->iommu, flags, &d),
			 0);
	assert_true(d->pgsize_bitmap & f->pg);
	assert_int_equal(d->aperture_start, 0);
	assert_true(d->aperture_last >= (1ull << 40) - 1);
	/* before attach the StreamID aborts (STE Config abort: no event) */
	assert_int_equal(dma(f, 5, iova, msg, sizeof(msg), true), -EFAULT);
	assert_int_equal(arm_smmu_read_events(f->dev, ev, 4), 0);

	assert_int_equal(d->ops->map(d, iova, (uintptr_t)f->buf, 4 * f->pg,
				     SIO_IOMMU_READ | SIO_IOMMU_WRITE |
					     SIO_IOMMU_CACHE),
			 0);
	assert_int_equal(d->ops->iova_to_phys(d, iova + 0x123, &pa), 0);
	assert_int_equal(pa, (uintptr_t)f->buf + 0x123);
	assert_int_equal(ops->attach_dev(d, 5), 0);

	/* DMA lands in the buffer, and reads back */
	assert_int_equal(dma(f, 5, iova + f->pg + 8, msg, sizeof(msg), true),
			 0);
	assert_memory_equal(f->buf + f->pg + 8, msg, sizeof(msg));
	assert_int_equal(dma(f, 5, iova + f->pg + 8, back, sizeof(msg), false),
			 0);
	assert_string_equal(back, msg);
	/* another StreamID still aborts */
	assert_int_equal(dma(f, 6, iova, back, 8, false), -EFAULT);

	/* unmap returns only after TLBI + SYNC: the cached walk is gone */
	assert_int_equal(d->ops->unmap(d, iova, 4 * f->pg, &unmapped), 0);
	assert_int_equal(unmapped, 4 * f->pg);
	assert_int_equal(dma(f, 5, iova + f->pg + 8, msg, sizeof(msg), true),
			 -EFAULT);
	expect_fault_event(f, 5, iova + f->pg + 8);

	/* remap elsewhere: translation follows the new mapping */
	assert_int_equal(d->ops->map(d, iova, (uintptr_t)f->buf + 8 * f->pg,
				     f->pg, SIO_IOMMU_READ),
			 0);
	memcpy(f->buf + 8 * f->pg, "second", 7);
	assert_int_equal(dma(f, 5, iova, back, 7, false), 0);
	assert_string_equal(back, "second");
	/* read-only: a write is a permission fault */
	assert_int_equal(dma(f, 5, iova, msg, 4, true), -EFAULT);
	assert_int_equal(arm_smmu_read_events(f->dev, ev, 4), 1);
	assert_int_equal(ev[0][0] & 0xff, 0x13); /* F_PERMISSION */

	/* blocking the device aborts it again */
	assert_int_equal(ops->block_dev(&f->dev->iommu, 5), 0);
	assert_int_equal(dma(f, 5, iova, back, 7, false), -EFAULT);
	d->ops->free(d);
}

static void test_stage1_domain(void **state)
{
	run_domain(*state, 0);
}

static void test_stage2_domain(void **state)
{
	run_domain(*state, SIO_DOMAIN_NEST_PARENT);
}

static void test_hw_info_and_limits(void **state)
{
	struct fx *f = *state;
	const struct sio_iommu_ops *ops = f->dev->iommu.ops;
	struct sio_iommu_domain *d;
	uint32_t blob[12], type = 0;

	memset(blob, 0xff, sizeof(blob));
	assert_int_equal(
		ops->hw_info(&f->dev->iommu, blob, sizeof(blob), &type), 40);
	assert_int_equal(type, 2);
	assert_int_equal(blob[0], 0);
	/* the IDRs as the model reports them */
	for (int i = 0; i < 6; i++)
		assert_int_equal(blob[2 + i],
				 sio_smmu_read32(f->smmu, (uint64_t)i * 4));
	assert_int_equal(blob[10], 0xffffffffu); /* nothing past 40 bytes */
	assert_int_equal(ops->domain_alloc_paging(&f->dev->iommu, 1u << 5, &d),
			 -EOPNOTSUPP);
	assert_int_equal(ops->block_dev(&f->dev->iommu, 1u << 20), -EINVAL);
	/* dirty tracking: the default model has HTTU with dirty state */
	assert_int_equal(ops->domain_alloc_paging(
				 &f->dev->iommu, SIO_DOMAIN_DIRTY_TRACKING, &d),
			 0);
	d->ops->free(d);
}

/* A device read of one byte at @iova by StreamID @sid, no PASID. */
static char read_byte(struct fx *f, uint32_t sid, uint64_t iova)
{
	char c = 0;

	assert_int_equal(dma(f, sid, iova, &c, 1, false), 0);
	return c;
}

static struct sio_iommu_domain *s1_domain(struct fx *f, uint64_t iova, void *va)
{
	struct sio_iommu_domain *d;

	assert_int_equal(f->dev->iommu.ops->domain_alloc_paging(&f->dev->iommu,
								0, &d),
			 0);
	assert_int_equal(d->ops->map(d, iova, (uintptr_t)va, f->pg,
				     SIO_IOMMU_READ | SIO_IOMMU_CACHE),
			 0);
	return d;
}

/*
 * A RID attach that fails leaves the RID translating as it did.  With a
 * CD table in use (a PASID attached), a stage-1 domain's CD is CD 0 of
 * it, so the attach rewrites CD 0: every allocation of the attach is
 * failed in turn, and after each failure a read without a PASID must
 * still go through the old domain, not the new one its caller frees.
 */
static void test_failed_attach_keeps_rid_cd(void **state)
{
	struct fx *f = *state;
	const struct sio_iommu_ops *ops = f->dev->iommu.ops;
	struct sio_iommu_pci_caps caps = {.pasid_bits = 20, .ats = true};
	uint64_t iova = 0x40000000;
	struct sio_iommu_domain *a, *b, *p;
	int rc = -ENOMEM;

	f->buf[0] = 'A';
	f->buf[f->pg] = 'B';
	assert_int_equal(ops->probe_device(&f->dev->iommu, 5, &caps), 20);
	a = s1_domain(f, iova, f->buf);
	b = s1_domain(f, iova, f->buf + f->pg);
	p = s1_domain(f, iova, f->buf + 2 * f->pg);
	assert_int_equal(ops->attach_dev(a, 5), 0);
	assert_int_equal(p->ops->set_dev_pasid(p, 5, 1, NULL), 0);
	assert_int_equal(read_byte(f, 5, iova), 'A');
	for (unsigned int n = 1; rc && n < 64; n++) {
		sio_fail_nth_set(n);
		rc = ops->attach_dev(b, 5);
		sio_fail_nth_set(0);
		if (rc)
			assert_int_equal(read_byte(f, 5, iova), 'A');
	}
	assert_int_equal(rc, 0);
	assert_int_equal(read_byte(f, 5, iova), 'B');
	assert_int_equal(ops->block_dev_pasid(&f->dev->iommu, 5, 1, p), 0);
	assert_int_equal(ops->block_dev(&f->dev->iommu, 5), 0);
	a->ops->free(a);
	b->ops->free(b);
	p->ops->free(p);
}

/*
 * Without two-level CD tables (IDR0.CD2L == 0) a stream's CDs are one
 * linear table, which the kernel limits to 64 KiB (CTXDESC_LINEAR_CDMAX,
 * 2^10 CDs) when it probes the device: a device with 20 PASID bits gets
 * 10, and PASID 1024 is refused as out of range (EINVAL), not for want
 * of memory.
 */
static void test_linear_cd_table_limits_pasids(void **state)
{
	struct sio_iommu_pci_caps caps = {.pasid_bits = 20};
	struct sio_smmu_config cfg;
	struct sio_iommu_domain *d;
	struct sio_mem_bus *bus;
	struct sio_smmu *smmu;
	struct arm_smmu_device *dev;
	const struct sio_iommu_ops *ops;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.cd_2lvl = false;
	assert_int_equal(sio_mem_bus_create(&bus), 0);
	assert_int_equal(sio_smmu_create(&cfg, bus, &smmu), 0);
	assert_int_equal(arm_smmu_probe(smmu, bus, &dev), 0);
	ops = dev->iommu.ops;
	assert_int_equal(ops->probe_device(&dev->iommu, 5, &caps), 10);
	caps.pasid_bits = 4;
	assert_int_equal(ops->probe_device(&dev->iommu, 6, &caps), 4);
	assert_int_equal(ops->domain_alloc_paging(&dev->iommu, 0, &d), 0);
	assert_int_equal(d->ops->set_dev_pasid(d, 5, 1024, NULL), -EINVAL);
	assert_int_equal(d->ops->set_dev_pasid(d, 5, 1023, NULL), 0);
	assert_int_equal(ops->block_dev_pasid(&dev->iommu, 5, 1023, d), 0);
	d->ops->free(d);
	arm_smmu_remove(dev);
	sio_smmu_destroy(smmu);
	sio_mem_bus_destroy(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stage1_domain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stage2_domain, setup,
						teardown),
		cmocka_unit_test(test_linear_cd_table_limits_pasids),
		cmocka_unit_test_setup_teardown(test_failed_attach_keeps_rid_cd,
						setup_ats, teardown),
		cmocka_unit_test_setup_teardown(test_hw_info_and_limits, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("drivers/smmuv3", tests, NULL, NULL);
}
