// SPDX-License-Identifier: MIT
/*
 * A device's DMA port backed by the SMMUv3 model: every request is a
 * transaction of the device's StreamID, unprivileged, as a PCI
 * function's ordinary memory reads and writes are, with the PASID the
 * port was given (none by default) as its SubstreamID.
 */
#include <softiommu/smmu.h>

#include "dma.h"

/* The request's StreamID, SubstreamID and direction. */
static struct sio_smmu_txn port_txn(struct sio_dma_smmu *s, uint64_t iova,
				    bool write)
{
	uint64_t tag = __atomic_load_n(&s->pasid_tag, __ATOMIC_RELAXED);

	return (struct sio_smmu_txn){
		.sid = s->sid,
		.ssid = (uint32_t)tag,
		.ssv = tag & SIO_DMA_PASID_VALID,
		.addr = iova,
		.attr = write ? SIO_SMMU_WRITE : 0,
	};
}

int sio_dma_smmu_rw(void *opaque, uint64_t iova, void *buf, size_t len,
		    bool write, size_t *done)
{
	struct sio_dma_smmu *s = opaque;
	struct sio_smmu_txn txn = port_txn(s, iova, write);

	*done = 0;
	return smmu_port_dma(s->smmu, &s->cache, &txn, buf, len, done);
}

void sio_dma_smmu_begin(void *opaque)
{
	struct sio_dma_smmu *s = opaque;

	smmu_port_begin(s->smmu, &s->cache);
}

void sio_dma_smmu_end(void *opaque)
{
	struct sio_dma_smmu *s = opaque;

	smmu_port_end(s->smmu, &s->cache);
}

int sio_dma_smmu_map(void *opaque, uint64_t iova, bool write, void **host,
		     size_t *avail)
{
	struct sio_dma_smmu *s = opaque;
	struct sio_smmu_txn txn = port_txn(s, iova, write);
	uint64_t n;
	int rc = smmu_port_map(s->smmu, &s->cache, &txn, host, &n);

	*avail = rc < 0 ? 0 : (size_t)n;
	return rc;
}
