// SPDX-License-Identifier: MIT
/*
 * The PRI queue (chapter 8): PCIe Page Requests from devices become
 * 16-byte records; CMD_PRI_RESP sends a PRG Response back to the device.
 * Requests that cannot be queued get the automatic responses of sections
 * 8.1 and 8.2: Response Failure while the queue is disabled (SMMUEN == 0
 * included) or after a queue abort; while overflowed (PROD.OVFLG differs
 * from CONS.OVACKFLG) requests are dropped, and a dropped Last request is
 * answered Success — with its PASID, as IDR3.PPS == 1 says, so STE.PPAR
 * is never consulted.  Stop markers are never answered.
 */
#include <endian.h>
#include <errno.h>

#include "smmu_private.h"

#define PRIQ0_SID   GENMASK(31, 0)
#define PRIQ0_SSID  GENMASK(51, 32)
#define PRIQ0_PRIV  BIT(58)
#define PRIQ0_EXEC  BIT(59)
#define PRIQ0_READ  BIT(60)
#define PRIQ0_WRITE BIT(61)
#define PRIQ0_LAST  BIT(62)
#define PRIQ0_SSV   BIT(63)
#define PRIQ1_PRGI  GENMASK(8, 0)
#define PRIQ1_ADDR  GENMASK(63, 12)

/* CMD_PRI_RESP fields (section 4.5.2). */
#define PRI_RESP0_SSEC BIT(10)
#define PRI_RESP0_SSV  BIT(11)
#define PRI_RESP0_SSID GENMASK(31, 12)
#define PRI_RESP0_SID  GENMASK(63, 32)
#define PRI_RESP1_PRGI GENMASK(8, 0)
#define PRI_RESP1_RESP GENMASK(13, 12)

/* PRG Response codes (section 8.3). */
#define PRG_SUCCESS	     0x0
#define PRG_INVALID_REQUEST  0x1
#define PRG_RESPONSE_FAILURE 0xf

void sio_smmu_set_prg_response(struct sio_smmu *smmu, sio_smmu_prg_fn fn,
			       void *opaque)
{
	pthread_mutex_lock(&smmu->lock);
	smmu->prg = fn;
	smmu->prg_opaque = opaque;
	pthread_mutex_unlock(&smmu->lock);
}

/* Send a PRG Response to the device: PASID only where substreams exist. */
static void respond(struct sio_smmu *smmu, uint32_t sid, bool ssv,
		    uint32_t ssid, unsigned int prgi, unsigned int code)
{
	ssv = ssv && smmu->cfg.ssid_bits;
	if (smmu->prg)
		smmu->prg(smmu->prg_opaque, sid, ssv, ssv ? ssid : 0,
			  (uint16_t)prgi, code);
}

static uint64_t record0(const struct sio_smmu *smmu,
			const struct sio_smmu_page_req *req)
{
	/* Without a PASID, X and Priv are 0 (chapter 8). */
	bool ssv = req->ssv && smmu->cfg.ssid_bits;
	uint64_t d = FIELD_PREP(PRIQ0_SID, req->sid) |
		     (req->last ? PRIQ0_LAST : 0) |
		     ((req->perm & SIO_SMMU_PRI_READ) ? PRIQ0_READ : 0) |
		     ((req->perm & SIO_SMMU_PRI_WRITE) ? PRIQ0_WRITE : 0);

	if (ssv)
		d |= PRIQ0_SSV | FIELD_PREP(PRIQ0_SSID, req->ssid) |
		     ((req->perm & SIO_SMMU_PRI_EXEC) ? PRIQ0_EXEC : 0) |
		     ((req->perm & SIO_SMMU_PRI_PRIV) ? PRIQ0_PRIV : 0);
	return d;
}

int sio_smmu_page_request(struct sio_smmu *smmu,
			  const struct sio_smmu_page_req *req)
{
	struct smmu_queue *q = &smmu->priq;
	bool stop = req->ssv && smmu->cfg.ssid_bits && req->last &&
		    !(req->perm & (SIO_SMMU_PRI_READ | SIO_SMMU_PRI_WRITE));
	unsigned int code = PRG_SUCCESS;
	uint64_t rec[2];
	int rc = 0;

	if (!smmu->cfg.pri || req->prgi > PRIQ1_PRGI)
		return -EINVAL;
	rec[0] = htole64(record0(smmu, req));
	rec[1] = htole64(FIELD_PREP(PRIQ1_PRGI, req->prgi) |
			 (req->addr & PRIQ1_ADDR));
	pthread_mutex_lock(&smmu->lock);
	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN) ||
	    !(atomic_load(&smmu->cr0) & CR0_PRIQEN) ||
	    ((atomic_load(&smmu->gerror) ^ smmu->gerrorn) &
	     GERROR_PRIQ_ABT_ERR)) {
		code = PRG_RESPONSE_FAILURE;
		rc = -EIO;
	} else if (((q->prod ^ q->cons) & Q_OVF) || q_full(q)) {
		/* Overflow: flagged once, and nothing is written until acked.
		 */
		if (!((q->prod ^ q->cons) & Q_OVF))
			q->prod ^= Q_OVF;
		rc = -ENOSPC;
	} else if (sio_mem_write(smmu->bus, q_slot_addr(q, q->prod), rec,
				 sizeof(rec))) {
		/* A synchronous abort: the request is answered Failure. */
		smmu_gerror_toggle(smmu, GERROR_PRIQ_ABT_ERR);
		code = PRG_RESPONSE_FAILURE;
		rc = -EIO;
	} else {
		q->prod = (q->prod & Q_OVF) | q_inc(q, q->prod & ~Q_OVF);
	}
	/*
	 * Answered: every request refused by a disabled or aborted queue,
	 * the Last of a group dropped by overflow; never a stop marker.
	 */
	if (!stop && (rc == -EIO || (rc == -ENOSPC && req->last)))
		respond(smmu, req->sid, rc == -ENOSPC && req->ssv, req->ssid,
			req->prgi, code);
	pthread_mutex_unlock(&smmu->lock);
	if (!rc && (atomic_load(&smmu->irq_ctrl) & IRQ_CTRL_PRIQ))
		smmu_raise_irq(smmu, SIO_SMMU_IRQ_PRIQ);
	return rc;
}

/* CMD_PRI_RESP (section 4.5.2); the caller holds smmu->lock. */
unsigned int smmu_pri_resp(struct sio_smmu *smmu, const uint64_t *cmd)
{
	static const unsigned int code[3] = {PRG_RESPONSE_FAILURE,
					     PRG_INVALID_REQUEST, PRG_SUCCESS};
	unsigned int resp = (unsigned int)FIELD_GET(PRI_RESP1_RESP, cmd[1]);

	if (!smmu->cfg.pri || resp == 3 || (cmd[0] & PRI_RESP0_SSEC))
		return CMDQ_ERR_ILL;
	if (!(atomic_load(&smmu->cr0) & CR0_SMMUEN))
		return CMDQ_ERR_NONE; /* IGNORED */
	respond(smmu, (uint32_t)FIELD_GET(PRI_RESP0_SID, cmd[0]),
		cmd[0] & PRI_RESP0_SSV,
		(uint32_t)FIELD_GET(PRI_RESP0_SSID, cmd[0]),
		(unsigned int)FIELD_GET(PRI_RESP1_PRGI, cmd[1]), code[resp]);
	return CMDQ_ERR_NONE;
}
