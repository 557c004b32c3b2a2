// SPDX-License-Identifier: MIT
/*
 * The I/OAT function through the VFIO device-fd calls, as a program and
 * the kernel's VFIO selftests see vfio-pci: errnos from vfio_main.c,
 * device_cdev.c, vfio_pci_core.c and vfio_set_irqs_validate_and_prepare;
 * config space per vfio_pci_config.c; a DMA with an MSI-X eventfd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <linux/pci_regs.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include "uapi/vfio_abi.h"
#include "vfio/vfio_private.h"

#define CFG  SIO_VFIO_PCI_INDEX_TO_OFFSET(SIO_VFIO_PCI_CONFIG_REGION_INDEX)
#define BAR0 SIO_VFIO_PCI_INDEX_TO_OFFSET(0)

struct fx {
	struct sio_vfio_ioat *v;
	struct sio_vfio_pci_dev *p;
	int binds, attached;
	uint8_t *mem;
	/* Orders buffer accesses with the device's DMA for TSan (the BAR
	 * page's ordering is invisible to it). */
	pthread_mutex_t mem_lock;
};

static void mem_sync(struct fx *f)
{
	pthread_mutex_lock(&f->mem_lock);
	pthread_mutex_unlock(&f->mem_lock);
}

static int fake_bind(void *ctx, struct sio_vfio_pci_dev *dev, int fd,
		     uint32_t *devid)
{
	struct fx *f = ctx;

	(void)dev;
	if (fd == 1000)
		return -EBADF;
	f->binds++;
	*devid = 7;
	return 0;
}

static void fake_unbind(void *ctx, struct sio_vfio_pci_dev *dev)
{
	(void)dev;
	((struct fx *)ctx)->binds--;
}

static int fake_attach(void *ctx, struct sio_vfio_pci_dev *dev, uint32_t *pt)
{
	(void)dev;
	if (*pt == UINT32_MAX)
		return -ENOENT;
	((struct fx *)ctx)->attached = 1;
	*pt = 42;
	return 0;
}

static void fake_detach(void *ctx, struct sio_vfio_pci_dev *dev)
{
	(void)dev;
	((struct fx *)ctx)->attached = 0;
}

/* a device without PASID ops: the PASID forms are EOPNOTSUPP */
static const struct sio_vfio_iommufd_hooks hooks = {
	.bind = fake_bind,
	.unbind = fake_unbind,
	.attach = fake_attach,
	.detach = fake_detach,
};

static int flat_rw(void *opaque, uint64_t iova, void *buf, size_t len,
		   bool write, size_t *done)
{
	struct fx *f = opaque;

	*done = 0;
	if (iova + len > 65536)
		return -EFAULT;
	mem_sync(f);
	memcpy(write ? f->mem + iova : buf, write ? buf : f->mem + iova, len);
	mem_sync(f);
	*done = len;
	return 0;
}

static int bind(struct fx *f)
{
	struct sio_vfio_device_bind_iommufd b = {.argsz = 16, .iommufd = 3};

	return sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_dma_port port = {.rw = flat_rw, .opaque = f};

	f->mem = calloc(1, 65536);
	pthread_mutex_init(&f->mem_lock, NULL);
	assert_int_equal(sio_vfio_ioat_create(&port, &hooks, f, &f->v), 0);
	f->p = sio_vfio_ioat_pci(f->v);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sio_vfio_ioat_destroy(f->v);
	assert_int_equal(f->binds, 0);
	free(f->mem);
	free(f);
	return 0;
}

static void test_bind(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};
	struct sio_vfio_device_bind_iommufd b = {.argsz = 16, .iommufd = -2};
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = 16};
	struct sio_vfio_device_detach_iommufd_pt d = {.argsz = 12};
	uint8_t x;

	/* Before bind: everything but BIND is -EINVAL. */
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_INFO,
					    &info),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 1, CFG), -EINVAL);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD,
					    &b),
			 -EINVAL);
	b.iommufd = 1000;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD,
					    &b),
			 -EBADF);
	b.iommufd = 3;
	b.argsz = 15;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD,
					    &b),
			 -EINVAL);
	b.argsz = 16;
	b.flags = 1;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD,
					    &b),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD,
					    (void *)8),
			 -EFAULT);
	b.flags = 0;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	assert_int_equal(b.out_devid, 7);
	assert_int_equal(bind(f), -EINVAL); /* repeated bind */

	a.pt_id = UINT32_MAX;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
		-ENOENT);
	a.pt_id = 2;
	a.flags = 2;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
		-EINVAL);
	a.flags = SIO_VFIO_DEVICE_ATTACH_PASID;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
		-EOPNOTSUPP);
	a.flags = 0;
	a.argsz = 11;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
		-EINVAL);
	a.argsz = 12; /* pasid is not needed */
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a),
		0);
	assert_int_equal(a.pt_id, 42);
	assert_int_equal(f->attached, 1);
	d.argsz = 7;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
		-EINVAL);
	d.argsz = 8;
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d),
		0);
	assert_int_equal(f->attached, 0);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, 0x3b00 | 200, &d), -ENOTTY);
}

static void test_info(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};
	struct {
		struct sio_vfio_region_info r;
		struct sio_vfio_info_cap_header cap;
	} rc = {.r = {.argsz = sizeof(rc.r)}};
	struct sio_vfio_irq_info irq = {.argsz = sizeof(irq)};
	unsigned int i;

	assert_int_equal(bind(f), 0);
	assert_int_equal(
		sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(info.flags, SIO_VFIO_DEVICE_FLAGS_RESET |
					     SIO_VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);
	info.argsz = 15;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_INFO,
					    &info),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_INFO,
					    NULL),
			 -EFAULT);

	/* BAR0: 16 KiB, mmap-able, MSIX_MAPPABLE asks for more room. */
	assert_int_equal(sio_vfio_pci_ioctl(
				 f->p, SIO_VFIO_DEVICE_GET_REGION_INFO, &rc.r),
			 0);
	assert_int_equal(rc.r.size, 0x4000);
	assert_int_equal(rc.r.offset, 0);
	assert_int_equal(rc.r.flags, 1 | 2 | 4 | 8);
	assert_int_equal(rc.r.argsz, 40);
	assert_int_equal(rc.r.cap_offset, 0);
	assert_int_equal(sio_vfio_pci_ioctl(
				 f->p, SIO_VFIO_DEVICE_GET_REGION_INFO, &rc.r),
			 0);
	assert_int_equal(rc.r.cap_offset, 32);
	assert_int_equal(rc.cap.id, 3);
	for (i = 1; i < 9; i++) {
		rc.r = (struct sio_vfio_region_info){.argsz = 32, .index = i};
		assert_int_equal(sio_vfio_pci_ioctl(
					 f->p, SIO_VFIO_DEVICE_GET_REGION_INFO,
					 &rc.r),
				 i == 8 ? -EINVAL : 0);
		if (i == 8)
			continue;
		assert_int_equal(rc.r.offset, (uint64_t)i << 40);
		assert_int_equal(rc.r.size, i == 7 ? 4096 : 0);
		assert_int_equal(rc.r.flags, i == 7 ? 3 : 0);
	}
	rc.r.index = 9;
	assert_int_equal(sio_vfio_pci_ioctl(
				 f->p, SIO_VFIO_DEVICE_GET_REGION_INFO, &rc.r),
			 -EINVAL);
	rc.r.index = 0;
	rc.r.argsz = 31;
	assert_int_equal(sio_vfio_pci_ioctl(
				 f->p, SIO_VFIO_DEVICE_GET_REGION_INFO, &rc.r),
			 -EINVAL);

	irq.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_IRQ_INFO,
					    &irq),
			 0);
	assert_int_equal(irq.count, 1);
	assert_int_equal(irq.flags, 1 | 8);
	irq.index = SIO_VFIO_PCI_INTX_IRQ_INDEX;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_IRQ_INFO,
					    &irq),
			 0);
	assert_int_equal(irq.count, 0);
	irq.index = 5;
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_GET_IRQ_INFO,
					    &irq),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_RESET, NULL),
			 0);
}

static uint32_t cfg_read(struct fx *f, uint64_t off, unsigned int n)
{
	uint32_t v = 0;

	assert_int_equal(sio_vfio_pci_pread(f->p, &v, n, CFG + off), n);
	return v;
}

static void cfg_write(struct fx *f, uint64_t off, uint32_t v, unsigned int n)
{
	assert_int_equal(sio_vfio_pci_pwrite(f->p, &v, n, CFG + off), n);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint32_t x = 0;

	assert_int_equal(bind(f), 0);
	assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(cfg_read(f, PCI_DEVICE_ID, 2), 0x2021);
	assert_int_equal(cfg_read(f, PCI_CLASS_REVISION, 4) >> 8, 0x088000);
	cfg_write(f, PCI_VENDOR_ID, 0x12345678, 4);
	assert_int_equal(cfg_read(f, PCI_VENDOR_ID, 4), 0x20218086);
	/* Bus master starts clear and toggles (vfio_pci_device_test). */
	assert_int_equal(cfg_read(f, PCI_COMMAND, 2) & PCI_COMMAND_MASTER, 0);
	cfg_write(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_int_equal(cfg_read(f, PCI_COMMAND, 2), 6);
	/* BAR0 sizing. */
	cfg_write(f, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, PCI_BASE_ADDRESS_0, 4), 0xffffc004);
	/* Capabilities: MSI-X then Express with FLR. */
	assert_int_equal(cfg_read(f, PCI_CAPABILITY_LIST, 1), 0x80);
	assert_int_equal(cfg_read(f, 0x80, 2), 0x9011);
	assert_int_equal(cfg_read(f, 0x84, 4), 0x2000);
	assert_int_equal(cfg_read(f, 0x88, 4), 0x3000);
	assert_int_equal(cfg_read(f, 0x90, 1), PCI_CAP_ID_EXP);
	assert_true(cfg_read(f, 0x94, 4) & PCI_EXP_DEVCAP_FLR);
	/* The selftest's CHANERR_INT clear at 0x180 is accepted. */
	cfg_write(f, 0x180, 0xffffffff, 4);
	assert_int_equal(cfg_read(f, 0x180, 4), 0);
	/* Out of range, bad pointers, empty BARs. */
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 4, CFG + 4094), -EFAULT);
	assert_int_equal(sio_vfio_pci_pread(f->p, NULL, 4, CFG), -EFAULT);
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 4,
					    SIO_VFIO_PCI_INDEX_TO_OFFSET(2)),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 4, BAR0 + 0x4000),
			 -EINVAL);
	/* A BAR read across its end is cut short. */
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 4, BAR0 + 0x3ffe), 2);
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 1, BAR0 + 8), 1);
	assert_int_equal(x & 0xff, 0x32);
	cfg_write(f, PCI_COMMAND, 0, 2);
	assert_int_equal(sio_vfio_pci_pread(f->p, &x, 1, BAR0 + 8), -EIO);
}

static int set_irqs(struct fx *f, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const void *data,
		    size_t len)
{
	uint8_t buf[64];
	struct sio_vfio_irq_set *s = (void *)buf;

	*s = (struct sio_vfio_irq_set){.argsz = 20 + len,
				       .flags = flags,
				       .index = index,
				       .start = start,
				       .count = count};
	if (len)
		memcpy(s->data, data, len);
	return sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_SET_IRQS, s);
}

#define TRIG SIO_VFIO_IRQ_SET_ACTION_TRIGGER
#define EFD  SIO_VFIO_IRQ_SET_DATA_EVENTFD
#define NONE SIO_VFIO_IRQ_SET_DATA_NONE
#define BOOL SIO_VFIO_IRQ_SET_DATA_BOOL
#define MSIX SIO_VFIO_PCI_MSIX_IRQ_INDEX

static void test_irqs(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, EFD_NONBLOCK), bad = 1000, minus1 = -1;
	uint8_t yes = 1;
	uint64_t n = 0;

	assert_int_equal(bind(f), 0);
	assert_int_equal(set_irqs(f, TRIG | NONE, MSIX, 0, 0, NULL, 0),
			 -EINVAL); /* disable while disabled */
	assert_int_equal(set_irqs(f, TRIG | NONE | BOOL, MSIX, 0, 1, &yes, 1),
			 -EINVAL);
	assert_int_equal(set_irqs(f, TRIG | EFD | (1u << 6), MSIX, 0, 1, &efd,
				  4),
			 -EINVAL);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 1, 1, &efd, 4), -EINVAL);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 0, 1, &efd, 3), -EINVAL);
	assert_int_equal(set_irqs(f, TRIG | EFD, 5, 0, 1, &efd, 4), -EINVAL);
	assert_int_equal(set_irqs(f, TRIG | EFD, SIO_VFIO_PCI_MSI_IRQ_INDEX, 0,
				  1, &efd, 4),
			 -EINVAL);
	assert_int_equal(set_irqs(f, SIO_VFIO_IRQ_SET_ACTION_MASK | NONE, MSIX,
				  0, 1, NULL, 0),
			 -ENOTTY);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 0, 1, &bad, 4), -EBADF);
	assert_int_equal(sio_vfio_pci_ioctl(f->p, SIO_VFIO_DEVICE_SET_IRQS,
					    (void *)8),
			 -EFAULT);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 0, 1, &efd, 4), 0);
	assert_true(cfg_read(f, 0x82, 2) & PCI_MSIX_FLAGS_ENABLE);
	/* Loopback (vfio_pci_irq_test.enable_trigger_disable). */
	assert_int_equal(set_irqs(f, TRIG | NONE, MSIX, 0, 1, NULL, 0), 0);
	assert_int_equal(read(efd, &n, 8), 8);
	assert_int_equal(n, 1);
	assert_int_equal(set_irqs(f, TRIG | BOOL, MSIX, 0, 1, &yes, 1), 0);
	assert_int_equal(read(efd, &n, 8), 8);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 0, 1, &minus1, 4), 0);
	assert_int_equal(set_irqs(f, TRIG | NONE, MSIX, 0, 1, NULL, 0), 0);
	assert_int_equal(read(efd, &n, 8), -1);
	assert_int_equal(set_irqs(f, TRIG | NONE, MSIX, 0, 0, NULL, 0), 0);
	assert_false(cfg_read(f, 0x82, 2) & PCI_MSIX_FLAGS_ENABLE);
	/* ERR: single trigger. */
	assert_int_equal(set_irqs(f, TRIG | EFD, SIO_VFIO_PCI_ERR_IRQ_INDEX, 0,
				  1, &efd, 4),
			 0);
	assert_int_equal(set_irqs(f, TRIG | NONE, SIO_VFIO_PCI_ERR_IRQ_INDEX, 0,
				  1, NULL, 0),
			 0);
	assert_int_equal(read(efd, &n, 8), 8);
	close(efd);
}

/* A DMA kicked through the mapped BAR, its interrupt on the eventfd. */
static void test_dma_msi(void **state)
{
	struct fx *f = *state;
	int efd = eventfd(0, 0), fd;
	uint64_t fd_off, n;
	uint32_t *desc = (uint32_t *)(f->mem + 0x1000);
	volatile uint8_t *bar;
	struct timespec t0;

	assert_int_equal(bind(f), 0);
	assert_int_equal(sio_vfio_pci_mmap(f->p, BAR0, 0x4000, false, &fd,
					   &fd_off),
			 -EINVAL);
	assert_int_equal(sio_vfio_pci_mmap(f->p, CFG, 4096, true, &fd, &fd_off),
			 -EINVAL);
	assert_int_equal(
		sio_vfio_pci_mmap(f->p, BAR0, 0x4000, true, &fd, &fd_off), 0);
	bar = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   fd_off);
	assert_true(bar != MAP_FAILED);
	cfg_write(f, PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			  PCI_COMMAND_INTX_DISABLE,
		  2);
	assert_int_equal(set_irqs(f, TRIG | EFD, MSIX, 0, 1, &efd, 4), 0);
	*(volatile uint8_t *)(bar + 0x84) = 0x20; /* CHANCMD RESET */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (bar[0x84] & 0x20)
		assert_true(sio_test_elapsed(&t0) < 5);
	assert_int_equal(*(volatile uint64_t *)(bar + 0x88) & 7, 3);
	bar[0x03] = 0x08; /* INTRCTRL MSIX_VECTOR_CONTROL */
	memset(f->mem + 0x2000, 0xab, 8);
	desc[0] = 8;	  /* size */
	desc[1] = 1;	  /* int_en, op COPY */
	desc[2] = 0x2000; /* src */
	desc[4] = 0x3000; /* dst */
	desc[6] = 0x1000; /* next: itself */
	mem_sync(f);
	*(volatile uint64_t *)(bar + 0x90) = 0x1000;
	*(volatile uint16_t *)(bar + 0x80) = 0x0009;
	*(volatile uint16_t *)(bar + 0x86) = 1;
	assert_int_equal(read(efd, &n, 8), 8); /* blocks until the MSI */
	mem_sync(f);
	assert_memory_equal(f->mem + 0x2000, f->mem + 0x3000, 8);
	munmap((void *)bar, 0x4000);
	close(efd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_msi, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
