/* SPDX-License-Identifier: MIT */
/*
 * The DMA port of a device model: the one way a model reaches memory.
 * A PCI function's requests carry its Requester ID, which the platform
 * turns into a StreamID for the SMMU; the model knows nothing of that and
 * only sees an IOVA succeed or fail, as hardware sees a completion or an
 * Unsupported Request / Completer Abort.
 */
#ifndef SIO_DEVICES_DMA_H
#define SIO_DEVICES_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smmu/smmu_port.h"

struct sio_smmu;

struct sio_dma_port {
	/*
	 * Move @len bytes between @buf and [@iova, @iova + @len): a read
	 * of memory into @buf, or with @write a write of @buf to memory.
	 * 0, or -EFAULT when the IOMMU aborted part of it (it recorded the
	 * event), or -EIO when the memory behind a translation aborted.
	 * On an error *@done tells how many bytes from the start were
	 * transferred, as on hardware the parts before the fault land.
	 * May block (an SMMU stall); called from the device's own thread.
	 */
	int (*rw)(void *opaque, uint64_t iova, void *buf, size_t len,
		  bool write, size_t *done);
	/*
	 * Optional: the transfers between begin and end are one batch (a
	 * few descriptors back to back), which the port may carry out more
	 * cheaply; an invalidation's CMD_SYNC waits for the whole batch.
	 */
	void (*begin)(void *opaque);
	void (*end)(void *opaque);
	/*
	 * Optional, between begin and end only: the host memory behind
	 * @iova, *@avail bytes of it, to read (or with @write to write)
	 * directly until end, as a device reaches memory through its own
	 * translations.  0; 1 when it had to wait outside the batch (a
	 * stall), so that what earlier maps returned is gone; or an error
	 * as rw's.
	 */
	int (*map)(void *opaque, uint64_t iova, bool write, void **host,
		   size_t *avail);
	void *opaque;
};

static inline int sio_dma_read(const struct sio_dma_port *port, uint64_t iova,
			       void *buf, size_t len)
{
	size_t done = 0;

	return port->rw(port->opaque, iova, buf, len, false, &done);
}

static inline int sio_dma_write(const struct sio_dma_port *port, uint64_t iova,
				const void *buf, size_t len)
{
	size_t done = 0;

	return port->rw(port->opaque, iova, (void *)buf, len, true, &done);
}

/*
 * A port whose requests go through an SMMU model as StreamID @sid, with
 * the port's own cache of the leaves it used last (smmu/smmu_port.h):
 * used from one thread at a time, the device's.
 */
struct sio_dma_smmu {
	struct sio_smmu *smmu;
	uint32_t sid;
	struct smmu_port_cache cache;
	/*
	 * The PASID the function's requests carry (a PASID TLP prefix),
	 * as a DSA work queue tags its descriptors' DMA with the PASID it
	 * was configured with: SIO_DMA_PASID_VALID | pasid, or 0 for none.
	 * Set with sio_dma_smmu_set_pasid(); read at each request.
	 */
	uint64_t pasid_tag;
};

#define SIO_DMA_PASID_VALID (1ull << 32)

static inline void sio_dma_smmu_set_pasid(struct sio_dma_smmu *s, bool valid,
					  uint32_t pasid)
{
	__atomic_store_n(&s->pasid_tag, valid ? SIO_DMA_PASID_VALID | pasid : 0,
			 __ATOMIC_RELAXED);
}

int sio_dma_smmu_rw(void *opaque, uint64_t iova, void *buf, size_t len,
		    bool write, size_t *done);
void sio_dma_smmu_begin(void *opaque);
void sio_dma_smmu_end(void *opaque);
int sio_dma_smmu_map(void *opaque, uint64_t iova, bool write, void **host,
		     size_t *avail);

static inline struct sio_dma_port sio_dma_smmu_port(struct sio_dma_smmu *s)
{
	return (struct sio_dma_port){.rw = sio_dma_smmu_rw,
				     .begin = sio_dma_smmu_begin,
				     .end = sio_dma_smmu_end,
				     .map = sio_dma_smmu_map,
				     .opaque = s};
}

#endif /* SIO_DEVICES_DMA_H */
