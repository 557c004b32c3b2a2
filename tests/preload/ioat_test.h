/* SPDX-License-Identifier: MIT */
/*
 * The emulated I/OAT channel as the user programs under `softiommu exec`
 * drive it through its VFIO device fd: the registers and descriptor of
 * the kernel's drivers/dma/ioat (registers.h, hw.h), BAR0 accessed by
 * pread/pwrite at the region's offset, and the channel's reset.
 */
#ifndef SIO_TESTS_PRELOAD_IOAT_TEST_H
#define SIO_TESTS_PRELOAD_IOAT_TEST_H

#include <stdint.h>
#include <unistd.h>

#include "uapi/vfio_abi.h"

/* drivers/dma/ioat/registers.h */
#define INTRCTRL	   0x03
#define INTRCTRL_MSIX_VC   0x08
#define CHAN		   0x80
#define CHANCTRL	   (CHAN + 0x00)
#define CHANCTRL_INT_REARM 0x0001
#define CHANCTRL_ERR_ABORT 0x0008
#define CHANCMD		   (CHAN + 0x04)
#define CHANCMD_RESET	   0x20
#define DMACOUNT	   (CHAN + 0x06)
#define CHANSTS		   (CHAN + 0x08)
#define CHANSTS_DONE	   1
#define CHANSTS_HALTED	   3
#define CHAINADDR	   (CHAN + 0x10)
#define CHANCMP		   (CHAN + 0x18)
#define CHANERR		   (CHAN + 0x28)
#define CHANERR_DEST_ADDR  0x0002
/* hw.h: struct ioat_dma_descriptor, ctl bits */
#define CTL_INT_EN	(1u << 0)
#define CTL_COMPL_WRITE (1u << 3)
/* include/uapi/linux/pci_regs.h */
#define PCI_COMMAND	     0x04
#define PCI_COMMAND_MEMORY   0x2
#define PCI_COMMAND_MASTER   0x4
#define PCI_COMMAND_INTX_OFF 0x400

struct ioat_desc {
	uint32_t size;
	uint32_t ctl;
	uint64_t src, dst, next;
	uint64_t rsv1, rsv2, user1, user2;
};

_Static_assert(sizeof(struct ioat_desc) == 64, "a 64-byte descriptor");

static inline void ioat_bar_write(int dev, uint64_t off, unsigned int size,
				  uint64_t val)
{
	assert_int_equal(pwrite(dev, &val, size,
				(off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(0) + off)),
			 (ssize_t)size);
}

static inline uint64_t ioat_bar_read(int dev, uint64_t off, unsigned int size)
{
	uint64_t v = 0;

	assert_int_equal(pread(dev, &v, size,
			       (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(0) + off)),
			 (ssize_t)size);
	return v;
}

/* CHANCMD.RESET, then wait for the bit to clear: the channel HALTED. */
static inline void ioat_chan_reset(int dev)
{
	ioat_bar_write(dev, CHANCMD, 1, CHANCMD_RESET);
	for (int i = 0;
	     i < 1000 && (ioat_bar_read(dev, CHANCMD, 1) & CHANCMD_RESET); i++)
		usleep(100);
	assert_int_equal(ioat_bar_read(dev, CHANSTS, 8) & 7, CHANSTS_HALTED);
}

/* The channel's status once it is DONE or HALTED (1 s at most). */
static inline uint64_t ioat_chan_wait(int dev)
{
	uint64_t sts = 0;

	for (int i = 0; i < 20000; i++) {
		sts = ioat_bar_read(dev, CHANSTS, 8);
		if ((sts & 7) == CHANSTS_DONE || (sts & 7) == CHANSTS_HALTED)
			break;
		usleep(50);
	}
	return sts;
}

#endif /* SIO_TESTS_PRELOAD_IOAT_TEST_H */
