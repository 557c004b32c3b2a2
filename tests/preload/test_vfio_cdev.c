// SPDX-License-Identifier: MIT
/*
 * A user-space driver's view, end to end: open /dev/iommu and the VFIO
 * cdev /dev/vfio/devices/vfio0, bind, map buffers into an IOAS, attach,
 * and drive the I/OAT DMA engine the way the kernel's VFIO selftest
 * driver does — reset, one 64-byte descriptor, CHAINADDR, CHANCTRL,
 * DMACOUNT, poll CHANSTS — then unmap and watch the same copy halt the
 * channel with a destination address error.
 *
 * Written as a user program: libc and the ABI headers only, run under
 * `softiommu exec`.  The register facts are the kernel's
 * drivers/dma/ioat/registers.h and hw.h, restated here on purpose so the
 * test does not lean on the model's own header.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#include "ioat_test.h"

#define IOVA_BASE 0x10000000ull

struct fx {
	int iommufd, dev;
	uint32_t ioas, devid, hwpt;
	uint8_t *mem; /* 4 pages: src, dst, descriptor, completion */
	long pg;
};

static uint64_t iova_of(struct fx *f, int page)
{
	return IOVA_BASE + (uint64_t)page * (uint64_t)f->pg;
}

static int map_page(struct fx *f, int page)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.user_va = (uint64_t)(uintptr_t)(f->mem + page * f->pg),
		.length = (uint64_t)f->pg,
		.iova = iova_of(f, page),
	};

	return ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP, &m);
}

static int unmap_page(struct fx *f, int page)
{
	struct sio_iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = f->ioas,
		.iova = iova_of(f, page),
		.length = (uint64_t)f->pg,
	};

	return ioctl(f->iommufd, SIO_IOMMU_IOAS_UNMAP, &u);
}

static void bar_write(struct fx *f, uint64_t off, unsigned int size,
		      uint64_t val)
{
	ioat_bar_write(f->dev, off, size, val);
}

static uint64_t bar_read(struct fx *f, uint64_t off, unsigned int size)
{
	return ioat_bar_read(f->dev, off, size);
}

static uint16_t cfg_read16(struct fx *f, uint64_t off)
{
	uint16_t v;

	assert_int_equal(
		pread(f->dev, &v, 2,
		      (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(
				      SIO_VFIO_PCI_CONFIG_REGION_INDEX) +
			      off)),
		2);
	return v;
}

static void cfg_write16(struct fx *f, uint64_t off, uint16_t v)
{
	assert_int_equal(
		pwrite(f->dev, &v, 2,
		       (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(
				       SIO_VFIO_PCI_CONFIG_REGION_INDEX) +
			       off)),
		2);
}

static int bind(struct fx *f, int iommufd)
{
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = iommufd};
	int rc = ioctl(f->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!rc)
		f->devid = b.out_devid;
	return rc;
}

static int attach(struct fx *f, uint32_t pt_id, uint32_t *out)
{
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a),
						      .pt_id = pt_id};
	int rc = ioctl(f->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);

	if (!rc && out)
		*out = a.pt_id;
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	assert_non_null(f);
	f->pg = sysconf(_SC_PAGESIZE);
	f->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->iommufd >= 0);
	f->dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	assert_true(f->dev >= 0);
	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_IOAS_ALLOC, &a), 0);
	f->ioas = a.out_ioas_id;
	f->mem = mmap(NULL, 4 * (size_t)f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->mem != MAP_FAILED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->dev);
	close(f->iommufd);
	munmap(f->mem, 4 * (size_t)f->pg);
	free(f);
	return 0;
}

/* CHANCMD.RESET, then wait for the bit to clear: HALTED, no error. */
static void chan_reset(struct fx *f)
{
	ioat_chan_reset(f->dev);
	assert_int_equal(bar_read(f, CHANERR, 4), 0);
}

/*
 * Bind, map, attach, bus master on, reset: the selftest driver's init.
 * Attached to the IOAS (an automatic stage-1 domain), or with @flags to
 * a HWPT allocated with them (NEST_PARENT: a stage-2 domain).
 */
static void bring_up_flags(struct fx *f, bool hwpt, uint32_t flags)
{
	struct sio_iommu_hwpt_alloc ha = {.size = sizeof(ha), .flags = flags};

	assert_int_equal(bind(f, f->iommufd), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(map_page(f, i), 0);
	if (hwpt) {
		ha.dev_id = f->devid;
		ha.pt_id = f->ioas;
		assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_HWPT_ALLOC, &ha),
				 0);
		assert_int_equal(attach(f, ha.out_hwpt_id, &f->hwpt), 0);
		assert_int_equal(f->hwpt, ha.out_hwpt_id);
	} else {
		assert_int_equal(attach(f, f->ioas, &f->hwpt), 0);
		assert_int_not_equal(f->hwpt, f->ioas);
	}
	cfg_write16(f, PCI_COMMAND,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
			    PCI_COMMAND_INTX_OFF);
	chan_reset(f);
}

static void bring_up(struct fx *f)
{
	bring_up_flags(f, false, 0);
}

/* One copy of @len bytes from page 0 to page 1; returns the status. */
static uint64_t memcpy_wait(struct fx *f, size_t len, uint32_t ctl)
{
	struct ioat_desc *d = (struct ioat_desc *)(f->mem + 2 * f->pg);

	*d = (struct ioat_desc){
		.size = (uint32_t)len,
		.ctl = ctl,
		.src = iova_of(f, 0),
		.dst = iova_of(f, 1),
		.next = iova_of(f, 2),
	};
	bar_write(f, CHANCMP, 8, iova_of(f, 3));
	bar_write(f, CHAINADDR, 8, iova_of(f, 2));
	bar_write(f, CHANCTRL, 2, CHANCTRL_INT_REARM | CHANCTRL_ERR_ABORT);
	bar_write(f, DMACOUNT, 2, 1);
	return ioat_chan_wait(f->dev);
}

/* The whole flow: DMA lands through the SMMU, and faults after unmap. */
static void copy_then_unmapped(struct fx *f)
{
	uint64_t sts;

	for (long i = 0; i < f->pg; i++)
		f->mem[i] = (uint8_t)(i * 7 + 1);
	/*
	 * Three times: the first copy walks the tables, the next ones hit
	 * the TLB and the device's own cache of its translations, which
	 * the unmap below must empty too.
	 */
	for (int n = 0; n < 3; n++) {
		memset(f->mem + f->pg, 0, (size_t)f->pg);
		sts = memcpy_wait(f, (size_t)f->pg, CTL_COMPL_WRITE);
		assert_int_equal(sts & 7, CHANSTS_DONE);
		assert_memory_equal(f->mem + f->pg, f->mem, (size_t)f->pg);
	}
	/* the completion writeback names the completed descriptor */
	assert_int_equal(*(uint64_t *)(f->mem + 3 * f->pg) & ~0x3full,
			 iova_of(f, 2));
	assert_int_equal(bar_read(f, CHANERR, 4), 0);

	/* after IOAS_UNMAP returns, the same copy cannot reach the page */
	assert_int_equal(unmap_page(f, 1), 0);
	memset(f->mem + f->pg, 0, (size_t)f->pg);
	chan_reset(f);
	sts = memcpy_wait(f, (size_t)f->pg, CTL_COMPL_WRITE);
	assert_int_equal(sts & 7, CHANSTS_HALTED);
	assert_true(bar_read(f, CHANERR, 4) & CHANERR_DEST_ADDR);
	for (long i = 0; i < f->pg; i++)
		assert_int_equal(f->mem[f->pg + i], 0);
}

static void test_memcpy_then_unmapped(void **state)
{
	struct fx *f = *state;

	bring_up(f);
	copy_then_unmapped(f);
}

/* The same through a stage-2 domain: a NEST_PARENT HWPT attached. */
static void test_memcpy_then_unmapped_stage2(void **state)
{
	struct fx *f = *state;

	bring_up_flags(f, true, SIO_IOMMU_HWPT_ALLOC_NEST_PARENT);
	copy_then_unmapped(f);
}

/*
 * The program takes the copy's destination page away while it is mapped
 * for DMA, in one of the ways a program can (@how), and maps fresh memory
 * there: the copy must neither crash the process nor reach the new page
 * (which was never mapped for DMA).  The device sees its write abort;
 * the source page, never touched, still DMAs; IOAS_UNMAP of the page
 * still works.
 */
enum take_away { BY_MUNMAP, BY_MREMAP, BY_DONTNEED, BY_MPROTECT, BY_SHMDT };

/* A System V shared memory segment attached at @at, gone once detached. */
static void shm_attach_at(void *at, size_t len)
{
	int id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	void *p;

	if (id < 0 && errno == ENOSYS)
		skip();
	assert_true(id >= 0);
	p = shmat(id, at, SHM_REMAP);
	assert_int_equal(shmctl(id, IPC_RMID, NULL), 0);
	assert_ptr_equal(p, at);
}

static void dst_taken_away(struct fx *f, enum take_away how)
{
	uint8_t *dst = f->mem + f->pg;
	uint64_t sts;
	void *p;

	if (how == BY_SHMDT)
		shm_attach_at(dst, (size_t)f->pg);
	bring_up(f);
	memset(f->mem, 0x3c, (size_t)f->pg);
	sts = memcpy_wait(f, (size_t)f->pg, CTL_COMPL_WRITE);
	assert_int_equal(sts & 7, CHANSTS_DONE);
	assert_int_equal(dst[17], 0x3c);

	switch (how) {
	case BY_MUNMAP:
		assert_int_equal(munmap(dst, (size_t)f->pg), 0);
		break;
	case BY_MREMAP:
		/* the page moves away; its old address is free */
		p = mmap(NULL, (size_t)f->pg, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(p != MAP_FAILED);
		assert_true(mremap(dst, (size_t)f->pg, (size_t)f->pg,
				   MREMAP_MAYMOVE | MREMAP_FIXED, p) == p);
		munmap(p, (size_t)f->pg);
		break;
	case BY_DONTNEED:
		assert_int_equal(madvise(dst, (size_t)f->pg, MADV_DONTNEED), 0);
		break;
	case BY_MPROTECT:
		assert_int_equal(mprotect(dst, (size_t)f->pg, PROT_READ), 0);
		assert_int_equal(mprotect(dst, (size_t)f->pg,
					  PROT_READ | PROT_WRITE),
				 0);
		break;
	case BY_SHMDT:
		/* its length is the mapping /proc/self/maps shows there */
		assert_int_equal(shmdt(dst), 0);
		/* mmap(MAP_FIXED) would take the page off the bus itself */
		assert_true(
			(void *)syscall(SYS_mmap, dst, (size_t)f->pg,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
					-1, 0) == dst);
		break;
	}
	if (how == BY_MUNMAP || how == BY_MREMAP)
		assert_true(mmap(dst, (size_t)f->pg, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				 0) == dst);
	memset(dst, 0xa5, (size_t)f->pg);

	chan_reset(f);
	sts = memcpy_wait(f, (size_t)f->pg, CTL_COMPL_WRITE);
	assert_int_equal(sts & 7, CHANSTS_HALTED);
	assert_true(bar_read(f, CHANERR, 4) != 0);
	for (long i = 0; i < f->pg; i++)
		assert_int_equal(dst[i], 0xa5);
	assert_int_equal(f->mem[5], 0x3c);

	/* what the program kept still works: a copy onto the source */
	chan_reset(f);
	memset(f->mem, 0x11, 64);
	assert_int_equal(unmap_page(f, 1), 0);
	assert_int_equal(unmap_page(f, 1), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_dst_munmapped(void **state)
{
	dst_taken_away(*state, BY_MUNMAP);
}

static void test_dst_mremapped(void **state)
{
	dst_taken_away(*state, BY_MREMAP);
}

static void test_dst_discarded(void **state)
{
	dst_taken_away(*state, BY_DONTNEED);
}

static void test_dst_write_protected(void **state)
{
	dst_taken_away(*state, BY_MPROTECT);
}

static void test_dst_shm_detached(void **state)
{
	dst_taken_away(*state, BY_SHMDT);
}

/* send_msi: a copy with int_en fires the MSI-X vector's eventfd. */
static void test_msix_interrupt(void **state)
{
	struct fx *f = *state;
	char buf[sizeof(struct sio_vfio_irq_set) + sizeof(int32_t)];
	struct sio_vfio_irq_set *s = (struct sio_vfio_irq_set *)buf;
	int32_t efd = eventfd(0, EFD_CLOEXEC);
	struct pollfd p = {.fd = efd, .events = POLLIN};
	uint64_t n = 0;

	assert_true(efd >= 0);
	bring_up(f);
	*s = (struct sio_vfio_irq_set){
		.argsz = sizeof(buf),
		.flags = SIO_VFIO_IRQ_SET_DATA_EVENTFD |
			 SIO_VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = SIO_VFIO_PCI_MSIX_IRQ_INDEX,
		.start = 0,
		.count = 1,
	};
	memcpy(s->data, &efd, sizeof(efd));
	assert_int_equal(ioctl(f->dev, SIO_VFIO_DEVICE_SET_IRQS, s), 0);
	bar_write(f, INTRCTRL, 1, INTRCTRL_MSIX_VC);
	assert_int_equal(memcpy_wait(f, 8, CTL_INT_EN | CTL_COMPL_WRITE) & 7,
			 CHANSTS_DONE);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(efd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
	close(efd);
}

/* The BAR mapped into the program: doorbells written with plain stores. */
/*
 * The kernel's VFIO selftest driver drives the channel through the
 * mapped BAR alone (readq/writeq on the mapping): reset, poll CHANCMD,
 * kick, then poll CHANSTS and fail on the first HALTED.  A doorbell
 * store must therefore be seen by the device before the next load, as
 * on hardware: the mapping's stores are trapped and reach the function
 * at once.  After munmap, the address no longer traps.
 */
static sigjmp_buf segv_jmp;

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void program_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

static void test_mmap_bar_doorbells(void **state)
{
	struct fx *f = *state;
	struct ioat_desc *d = (struct ioat_desc *)(f->mem + 2 * f->pg);
	struct sigaction sa = {.sa_handler = program_segv}, old;
	volatile uint8_t *bar;
	volatile int faulted = 0;
	struct timespec t0;
	uint64_t sts = 0;

	bring_up(f);
	bar = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_SHARED, f->dev,
		   (off_t)SIO_VFIO_PCI_INDEX_TO_OFFSET(0));
	assert_true(bar != MAP_FAILED);
	assert_int_equal(bar[0x08], 0x32); /* CBVER: I/OAT 3.2 */
	for (int round = 0; round < 3; round++) {
		memset(f->mem, 0xa0 + round, 64);
		memset(f->mem + f->pg, 0, 64);
		*d = (struct ioat_desc){
			.size = 64,
			.ctl = CTL_COMPL_WRITE,
			.src = iova_of(f, 0),
			.dst = iova_of(f, 1),
			.next = iova_of(f, 2),
		};
		/* ioat_reset() */
		bar[CHANCMD] = CHANCMD_RESET;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (bar[CHANCMD] & CHANCMD_RESET)
			assert_true(elapsed_s(&t0) < 5);
		assert_int_equal(*(volatile uint64_t *)(bar + CHANSTS) & 7,
				 CHANSTS_HALTED);
		/* ioat_memcpy_start() */
		*(volatile uint64_t *)(bar + CHANCMP) = iova_of(f, 3);
		*(volatile uint64_t *)(bar + CHAINADDR) = iova_of(f, 2);
		*(volatile uint16_t *)(bar + CHANCTRL) = CHANCTRL_INT_REARM |
							 CHANCTRL_ERR_ABORT;
		*(volatile uint16_t *)(bar + DMACOUNT) = 1;
		/* ioat_memcpy_wait(): the first HALTED is an error */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			sts = *(volatile uint64_t *)(bar + CHANSTS);
			if ((sts & 7) == CHANSTS_DONE)
				break;
			assert_int_not_equal(sts & 7, CHANSTS_HALTED);
			assert_true(elapsed_s(&t0) < 5);
		}
		/* the same edge for ThreadSanitizer as the doorbell's */
		(void)bar_read(f, CHANSTS, 8);
		assert_memory_equal(f->mem + f->pg, f->mem, 64);
	}
	assert_int_equal(munmap((void *)bar, 16384), 0);
	/* whatever is mapped there next is the program's own */
	assert_true(mmap((void *)bar, 4096, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) == (void *)bar);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	if (!sigsetjmp(segv_jmp, 1))
		bar[CHANCMD] = CHANCMD_RESET;
	else
		faulted = 1;
	sigaction(SIGSEGV, &old, NULL);
	assert_int_equal(faulted, 1);
	munmap((void *)bar, 4096);
}

/*
 * Dirty tracking end to end: a DIRTY_TRACKING HWPT, the engine's copy
 * writes the destination page, and GET_DIRTY_BITMAP reports exactly that
 * page — the SMMU's hardware dirty state, read through iommufd.
 */
static void test_dirty_from_device_dma(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_hwpt_alloc ha = {
		.size = sizeof(ha),
		.flags = SIO_IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct sio_iommu_hwpt_set_dirty_tracking sd = {
		.size = sizeof(sd),
		.flags = SIO_IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
	};
	uint64_t bitmap = 0;
	struct sio_iommu_hwpt_get_dirty_bitmap gb = {
		.size = sizeof(gb),
		.iova = IOVA_BASE,
		.length = 4 * (uint64_t)f->pg,
		.page_size = (uint64_t)f->pg,
		.data = (uint64_t)(uintptr_t)&bitmap,
	};
	uint32_t got;

	assert_int_equal(bind(f, f->iommufd), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(map_page(f, i), 0);
	ha.dev_id = f->devid;
	ha.pt_id = f->ioas;
	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_HWPT_ALLOC, &ha), 0);
	assert_int_equal(attach(f, ha.out_hwpt_id, &got), 0);
	assert_int_equal(got, ha.out_hwpt_id);
	sd.hwpt_id = ha.out_hwpt_id;
	assert_int_equal(
		ioctl(f->iommufd, SIO_IOMMU_HWPT_SET_DIRTY_TRACKING, &sd), 0);
	cfg_write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	chan_reset(f);
	/* a copy without a completion write: only the destination is written */
	assert_int_equal(memcpy_wait(f, 256, 0) & 7, CHANSTS_DONE);
	gb.hwpt_id = ha.out_hwpt_id;
	assert_int_equal(
		ioctl(f->iommufd, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), 0);
	assert_int_equal(bitmap, 1u << 1); /* page 1, the destination */
	bitmap = 0;
	assert_int_equal(
		ioctl(f->iommufd, SIO_IOMMU_HWPT_GET_DIRTY_BITMAP, &gb), 0);
	assert_int_equal(bitmap, 0); /* read and cleared */
}

/* The cdev's binding rules, as vfio_iommufd_setup_test checks them. */
/*
 * read/write on the device file go to vfio_pci_rw() at the file position,
 * which they advance; the file has no llseek (ESPIPE), and positioned
 * I/O leaves the position alone, and so does a failed read.  Before
 * BIND, EINVAL (access not yet granted).  Offsets are the region layout's: BAR0
 * from 0 (CHANCNT 1, XFERCAP 20, ..., INTRDELAY at 0x0c).
 */
static void test_read_write_at_position(void **state)
{
	struct fx *f = *state;
	uint8_t b[16], p[16];
	uint16_t delay = 0x10, back = 0;

	assert_int_equal(read(f->dev, b, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bind(f, f->iommufd), 0);
	assert_int_equal(lseek(f->dev, 0, SEEK_SET), -1);
	assert_int_equal(errno, ESPIPE);
	/* memory decode off: BAR accesses are EIO (vfio_pci_bar_rw()) */
	assert_int_equal(read(f->dev, b, 1), -1);
	assert_int_equal(errno, EIO);
	cfg_write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
	assert_int_equal(read(f->dev, b, 1), 1);
	assert_int_equal(b[0], 1); /* CHANCNT, at position 0 still */
	assert_int_equal(pread(f->dev, p, 4, 0), 4);
	assert_int_equal(read(f->dev, b, 1), 1);
	assert_int_equal(b[0], 20); /* XFERCAP: the position moved by 1 */
	assert_int_equal(read(f->dev, b, 10), 10);
	assert_int_equal(pread(f->dev, p, 10, 2), 10);
	assert_memory_equal(b, p, 10);
	/* now at 0x0c: INTRDELAY */
	assert_int_equal(write(f->dev, &delay, 2), 2);
	assert_int_equal(pread(f->dev, &back, 2, 0x0c), 2);
	assert_int_equal(back, delay);
	assert_int_equal(read(f->dev, b, 2), 2); /* 0x0e, after the write */
	assert_int_equal(pread(f->dev, p, 2, 0x0e), 2);
	assert_memory_equal(b, p, 2);
}

static void test_bind_rules(void **state)
{
	struct fx *f = *state;
	struct sio_vfio_device_info info = {.argsz = sizeof(info)};
	int null_fd = open("/dev/null", O_RDWR);

	/* nothing but binding before a bind */
	assert_int_equal(ioctl(f->dev, SIO_VFIO_DEVICE_GET_INFO, &info), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bind(f, -2), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bind(f, 1000), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(bind(f, null_fd), -1);
	assert_int_equal(errno, EBADFD);
	assert_int_equal(bind(f, f->iommufd), 0);
	assert_true(f->devid > 0);
	assert_int_equal(bind(f, f->iommufd), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ioctl(f->dev, SIO_VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & SIO_VFIO_DEVICE_FLAGS_PCI);

	/* the bound device is an iommufd object: IOMMU_DESTROY refuses it */
	struct sio_iommu_destroy dst = {.size = sizeof(dst), .id = f->devid};
	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_DESTROY, &dst), -1);
	assert_int_equal(errno, EBUSY);

	assert_int_equal(attach(f, UINT32_MAX, NULL), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(attach(f, f->devid, NULL), -1);
	assert_int_equal(errno, EINVAL);
	uint32_t hwpt = 0, hwpt2 = 0;
	assert_int_equal(attach(f, f->ioas, &hwpt), 0);
	/* attach again is a replace: the IOAS's automatic HWPT again */
	assert_int_equal(attach(f, f->ioas, &hwpt2), 0);
	assert_int_equal(hwpt2, hwpt);
	struct sio_vfio_device_detach_iommufd_pt dt = {.argsz = sizeof(dt)};
	assert_int_equal(ioctl(f->dev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt),
			 0);
	/* the automatic HWPT went with the detach */
	dst.id = hwpt;
	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_DESTROY, &dst), -1);
	assert_int_equal(errno, ENOENT);
	/* one open at a time */
	assert_int_equal(open("/dev/vfio/devices/vfio0", O_RDWR), -1);
	assert_int_equal(errno, EBUSY);
	close(null_fd);
}

/* Closing the device fd unbinds it; the iommufd may close first. */
static void test_close_orders(void **state)
{
	struct fx *f = *state;
	uint32_t hwpt;

	assert_int_equal(bind(f, f->iommufd), 0);
	assert_int_equal(map_page(f, 0), 0);
	assert_int_equal(attach(f, f->ioas, &hwpt), 0);
	/* the bound device keeps the iommufd context alive */
	close(f->iommufd);
	cfg_write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	assert_int_equal(cfg_read16(f, PCI_COMMAND) & PCI_COMMAND_MASTER,
			 PCI_COMMAND_MASTER);
	close(f->dev);
	/* reopened: unbound, bus mastering off again */
	f->dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	assert_true(f->dev >= 0);
	f->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->iommufd >= 0);
	assert_int_equal(bind(f, f->iommufd), 0);
	assert_int_equal(cfg_read16(f, PCI_COMMAND) & PCI_COMMAND_MASTER, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_memcpy_then_unmapped_stage2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memcpy_then_unmapped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_munmapped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dst_mremapped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dst_discarded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dst_write_protected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dst_shm_detached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_msix_interrupt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mmap_bar_doorbells, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dirty_from_device_dma,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_write_at_position,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_orders, setup,
						teardown),
	};

	if (access("/dev/iommu", F_OK)) {
		printf("1..0 # SKIP /dev/iommu absent: run under softiommu "
		       "exec\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
