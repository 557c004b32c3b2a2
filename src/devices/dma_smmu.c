// SPDX-License-Identifier: MIT
/*
 * A device's DMA port backed by the SMMUv3 model: every request is a
 * transaction of the device's StreamID, without a PASID, unprivileged,
 * as a PCI function's ordinary memory reads and writes are.
 */
#include <softiommu/smmu.h>

#include "dma.h"

int sio_dma_smmu_rw(void *opaque, uint64_t iova, void *buf, size_t len,
		    bool write, size_t *done)
{
	struct sio_dma_smmu *s = opaque;
	struct sio_smmu_txn txn = {
		.sid = s->sid,
		.addr = iova,
		.attr = write ? SIO_SMMU_WRITE : 0,
	};

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
	struct sio_smmu_txn txn = {
		.sid = s->sid,
		.addr = iova,
		.attr = write ? SIO_SMMU_WRITE : 0,
	};
	uint64_t n;
	int rc = smmu_port_map(s->smmu, &s->cache, &txn, host, &n);

	*avail = rc < 0 ? 0 : (size_t)n;
	return rc;
}
