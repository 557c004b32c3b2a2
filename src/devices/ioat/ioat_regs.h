/* SPDX-License-Identifier: MIT */
/*
 * Intel I/OAT (Crystal Beach DMA) version 3.2 registers and descriptors:
 * offsets, bits and layouts as Linux's drivers/dma/ioat/registers.h and
 * hw.h give them.  BAR0 holds the general registers at 0x00 and one
 * 0x80-byte block per channel from 0x80.
 */
#ifndef SIO_DEVICES_IOAT_REGS_H
#define SIO_DEVICES_IOAT_REGS_H

#include <stddef.h>
#include <stdint.h>

#define IOAT_PCI_VENDOR_INTEL 0x8086
#define IOAT_PCI_DEVICE_SKX   0x2021   /* the kernel's ioat_pci_tbl */
#define IOAT_PCI_CLASS	      0x088000 /* system peripheral, other */

/* Config-space registers of the function (beyond the standard header). */
#define IOAT_PCI_DMAUNCERRSTS_OFFSET	0x148
#define IOAT_PCI_CHANERR_INT_OFFSET	0x180
#define IOAT_PCI_CHANERRMASK_INT_OFFSET 0x184

/* General registers. */
#define IOAT_CHANCNT_OFFSET		  0x00 /* 8-bit */
#define IOAT_XFERCAP_OFFSET		  0x01 /* 8-bit, log2 of max size */
#define IOAT_GENCTRL_OFFSET		  0x02 /* 8-bit */
#define IOAT_GENCTRL_DEBUG_EN		  0x01
#define IOAT_INTRCTRL_OFFSET		  0x03 /* 8-bit */
#define IOAT_INTRCTRL_MASTER_INT_EN	  0x01
#define IOAT_INTRCTRL_INT_STATUS	  0x02
#define IOAT_INTRCTRL_INT		  0x04
#define IOAT_INTRCTRL_MSIX_VECTOR_CONTROL 0x08
#define IOAT_ATTNSTATUS_OFFSET		  0x04 /* 32-bit, a bit per channel */
#define IOAT_VER_OFFSET			  0x08 /* 8-bit */
#define IOAT_VER_3_2			  0x32
#define IOAT_INTRDELAY_OFFSET		  0x0c /* 16-bit */
#define IOAT_INTRDELAY_MASK		  0x3fff
#define IOAT_DEVICE_STATUS_OFFSET	  0x0e /* 16-bit */
#define IOAT_DMA_CAP_OFFSET		  0x10 /* 32-bit */

#define IOAT_CHANNEL_MMIO_SIZE 0x80

/* Channel registers, from the channel's block. */
#define IOAT_CHANCTRL_OFFSET			    0x00 /* 16-bit */
#define IOAT_CHANCTRL_CHANNEL_PRIORITY_MASK	    0xf000
#define IOAT3_CHANCTRL_COMPL_DCA_EN		    0x0200
#define IOAT_CHANCTRL_CHANNEL_IN_USE		    0x0100
#define IOAT_CHANCTRL_DESCRIPTOR_ADDR_SNOOP_CONTROL 0x0020
#define IOAT_CHANCTRL_ERR_INT_EN		    0x0010
#define IOAT_CHANCTRL_ANY_ERR_ABORT_EN		    0x0008
#define IOAT_CHANCTRL_ERR_COMPLETION_EN		    0x0004
#define IOAT_CHANCTRL_INT_REARM			    0x0001
#define IOAT_DMA_COMP_OFFSET			    0x02 /* 16-bit */
#define IOAT_DMA_COMP_V2			    0x0002
#define IOAT2_CHANCMD_OFFSET			    0x04 /* 8-bit */
#define IOAT_CHANCMD_RESET			    0x20
#define IOAT_CHANCMD_RESUME			    0x10
#define IOAT_CHANCMD_ABORT			    0x08
#define IOAT_CHANCMD_SUSPEND			    0x04
#define IOAT_CHANCMD_APPEND			    0x02
#define IOAT_CHANCMD_START			    0x01
#define IOAT_CHAN_DMACOUNT_OFFSET		    0x06 /* 16-bit */
#define IOAT_CHANSTS_OFFSET			    0x08 /* 64-bit */
#define IOAT_CHANSTS_COMPLETED_DESCRIPTOR_ADDR	    (~0x3full)
#define IOAT_CHANSTS_STATUS			    0x7ull
#define IOAT_CHANSTS_ACTIVE			    0x0
#define IOAT_CHANSTS_DONE			    0x1
#define IOAT_CHANSTS_SUSPENDED			    0x2
#define IOAT_CHANSTS_HALTED			    0x3
#define IOAT2_CHAINADDR_OFFSET			    0x10 /* 64-bit */
#define IOAT_CHANCMP_OFFSET			    0x18 /* 64-bit */
#define IOAT_CDAR_OFFSET			    0x20 /* 64-bit */
#define IOAT_CHANERR_OFFSET			    0x28 /* 32-bit, write 1 to clear */
#define IOAT_CHANERR_SRC_ADDR_ERR		    0x0001
#define IOAT_CHANERR_DEST_ADDR_ERR		    0x0002
#define IOAT_CHANERR_NEXT_ADDR_ERR		    0x0004
#define IOAT_CHANERR_NEXT_DESC_ALIGN_ERR	    0x0008
#define IOAT_CHANERR_CHAIN_ADDR_VALUE_ERR	    0x0010
#define IOAT_CHANERR_CHANCMD_ERR		    0x0020
#define IOAT_CHANERR_READ_DATA_ERR		    0x0100
#define IOAT_CHANERR_WRITE_DATA_ERR		    0x0200
#define IOAT_CHANERR_CONTROL_ERR		    0x0400
#define IOAT_CHANERR_LENGTH_ERR			    0x0800
#define IOAT_CHANERR_COMPLETION_ADDR_ERR	    0x1000
#define IOAT_CHANERR_MASK_OFFSET		    0x2c /* 32-bit */
#define IOAT_DCACTRL_OFFSET			    0x30 /* 32-bit */

/* The 64-byte descriptor (hw.h struct ioat_dma_descriptor). */
struct ioat_dma_descriptor {
	uint32_t size;
	uint32_t ctl;
	uint64_t src_addr;
	uint64_t dst_addr;
	uint64_t next;
	uint64_t rsv1;
	uint64_t rsv2;
	uint64_t user1;
	uint64_t user2;
};

_Static_assert(sizeof(struct ioat_dma_descriptor) == 64, "descriptor size");
_Static_assert(offsetof(struct ioat_dma_descriptor, next) == 24, "descriptor "
								 "next");

/* ctl: the bit-fields of hw.h's ctl_f, low bit first. */
#define IOAT_DESC_INT_EN      (1u << 0)
#define IOAT_DESC_COMPL_WRITE (1u << 3)
#define IOAT_DESC_FENCE	      (1u << 4)
#define IOAT_DESC_NULL	      (1u << 5)
#define IOAT_DESC_OP_SHIFT    24
#define IOAT_OP_COPY	      0x00

#endif /* SIO_DEVICES_IOAT_REGS_H */
