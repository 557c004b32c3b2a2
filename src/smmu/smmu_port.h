/* SPDX-License-Identifier: MIT */
/*
 * A device's port into the SMMU model, for the library's own device
 * models: its transactions with a cache of the last leaves they used,
 * kept by the device as a TBU's micro-TLB sits next to its master.
 *
 * An entry is a whole leaf from the transaction's address on (a 2 MiB
 * block is one entry), so a DMA engine walking through a block finds its
 * translation without touching the SMMU's shared caches.  Entries carry
 * the micro-TLB generation they were filled in (smmu_cache.h), so every
 * invalidation command and configuration change that empties the
 * micro-TLB empties these too.  A port belongs to one thread at a time.
 */
#ifndef SIO_SMMU_PORT_H
#define SIO_SMMU_PORT_H

#include <softiommu/smmu.h>

#include "mem/mem_private.h"

#define SMMU_PORT_WAYS 4

struct smmu_port_ent {
	uint64_t gen;  /* micro-TLB generation at fill; 0: never filled */
	uint64_t key1; /* StreamID << 32 | SubstreamID */
	uint64_t ssv;
	uint64_t first, last; /* input range */
	uint64_t pa;	      /* output of first */
	uint64_t perm;	      /* TLB_* permissions */
};

struct smmu_port_cache {
	struct smmu_port_ent ent[SMMU_PORT_WAYS];
	unsigned int next;	  /* the way the next fill replaces */
	struct sio_mem_hint hint; /* the memory it reached last */
	bool held;		  /* inside smmu_port_begin() */
	struct sio_mem_guard g;	  /* the section held */
};

/*
 * A batch of transfers in one bus section, as a device that performs
 * several descriptors back to back: fewer section entries, and a CMD_SYNC
 * waits for the whole batch (keep it short).  A transfer that faults
 * still records its event outside the section; one that stalls waits
 * outside it.  No other SMMU call may be made from the thread meanwhile.
 */
void smmu_port_begin(struct sio_smmu *smmu, struct smmu_port_cache *cache);
void smmu_port_end(struct sio_smmu *smmu, struct smmu_port_cache *cache);

/*
 * Inside a held section: the host memory behind @txn's address, for
 * *@avail bytes from it (to the end of its translation or its memory
 * segment), to be read or (with SIO_SMMU_WRITE) written directly until
 * the section ends.  0, or 1 when it had to leave the section (a stall
 * waited outside it), so that what earlier maps returned is gone;
 * -EFAULT (translation aborted, event recorded) or -EIO (nothing behind
 * the translation).
 */
int smmu_port_map(struct sio_smmu *smmu, struct smmu_port_cache *cache,
		  const struct sio_smmu_txn *txn, void **host, uint64_t *avail);

/* sio_smmu_dma() through @cache (may be NULL). */
int smmu_port_dma(struct sio_smmu *smmu, struct smmu_port_cache *cache,
		  const struct sio_smmu_txn *txn, void *buf, size_t len,
		  size_t *done);

#endif /* SIO_SMMU_PORT_H */
