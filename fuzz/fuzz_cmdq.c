// SPDX-License-Identifier: MIT
/*
 * fuzz_cmdq: random command streams into the command queue of a
 * configured SMMUv3 model, against an oracle of which commands are
 * illegal written from the opcode table of smmu-facts.md section 3.2
 * (and the ID registers the configuration sets), not from the model.
 *
 * Commands are classed MUST_OK (nothing in them can be illegal: CMD_SYNC
 * with a defined CS, TLBI_NSNH_ALL, CFGI_ALL), MUST_ILL (an opcode that
 * does not exist on a Non-secure queue, or one the configuration lacks:
 * stage-1 commands without stage 1, EL2 without HYP, ATC_INV without
 * ATS, PRI_RESP without PRI or with Resp 0b11, RESUME and STALL_TERM
 * without the Stall model, SYNC with CS 0b11), or MAY (field rules the
 * oracle does not model: either outcome is accepted, but only as
 * CERROR_ILL).
 *
 * Invariants (abort() so libFuzzer reports the input):
 *  - the queue stops exactly at an erroneous command: every command
 *    consumed before it was not MUST_ILL, the one it stops at is not
 *    MUST_OK (unless CERROR_ATC_INV_SYNC), CONS.ERR says why and
 *    GERROR.CMDQ_ERR is active; a queue that is not stopped has no
 *    active error and consumed everything (no other thread competes);
 *  - while the error is active the queue never advances, whatever is
 *    added behind it; acknowledging it (GERRORN) resumes at the same
 *    command, re-executed, or at the command software put in its place;
 *  - a CMD_SYNC after an ATC invalidation the device failed stops with
 *    CERROR_ATC_INV_SYNC once, and a CMD_SYNC with nothing failed before
 *    it completes (checked when commands go one at a time);
 *  - CERROR_ABT never happens: the queue lies in registered memory.
 */
#include <errno.h>

#include "fuzz_smmu.h"

enum cls { MAY, MUST_OK, MUST_ILL, SYNC_OK };

#define CONS_ERR(c)    (((c) >> 24) & 0x7f)
#define ERR_ILL	       1
#define ERR_ABT	       2
#define ERR_ATC_SYNC   3
#define CMD0_SSEC      (1ull << 10)
#define MAX_QUEUE_LOG2 8

static struct fz_machine m;

static struct {
	struct sio_smmu *smmu;
	struct sio_smmu_config cfg;
	unsigned int log2;
	uint64_t *q;   /* the queue, in the arena */
	uint32_t prod; /* what we wrote */
	uint32_t cons; /* where we last saw the SMMU */
	enum cls cls[1u << MAX_QUEUE_LOG2];
	bool atc_fail;	  /* the device fails ATC invalidations */
	bool atc_pending; /* one failed since the last SYNC we saw */
	bool atc_known;	  /* atc_pending is exact (see op_batch) */
} s;

static int on_atc_inv(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		      bool global, uint64_t addr, unsigned int log2size)
{
	(void)opaque;
	(void)sid;
	(void)ssv;
	(void)ssid;
	(void)global;
	(void)addr;
	(void)log2size;
	if (!s.atc_fail)
		return 0;
	s.atc_pending = true;
	return -ETIMEDOUT;
}

static uint32_t qmask(void)
{
	return (2u << s.log2) - 1;
}

static uint32_t qinc(uint32_t v)
{
	return (v & ~qmask()) | ((v + 1) & qmask());
}

static unsigned int qidx(uint32_t v)
{
	return v & ((1u << s.log2) - 1);
}

static bool qfull(void)
{
	return (s.prod ^ s.cons) == (1u << s.log2);
}

/* The oracle: smmu-facts.md section 3.2 and the configuration. */
static enum cls classify(const uint64_t *cmd)
{
	const struct sio_smmu_config *c = &s.cfg;
	unsigned int op = cmd[0] & 0xff;

	switch (op) {
	case 0x01: /* PREFETCH_CONFIG */
	case 0x02: /* PREFETCH_ADDR */
	case 0x03: /* CFGI_STE */
		return MAY;
	case 0x04: /* CFGI_STE_RANGE; Range 31 is CFGI_ALL */
		return (cmd[1] & 0x1f) == 31 && !(cmd[0] & ~0xffull) &&
				       !(cmd[1] & ~0x1full)
			       ? MUST_OK
			       : MAY;
	case 0x05: /* CFGI_CD */
	case 0x06: /* CFGI_CD_ALL */
	case 0x10: /* TLBI_NH_ALL */
	case 0x11: /* TLBI_NH_ASID */
	case 0x12: /* TLBI_NH_VA */
	case 0x13: /* TLBI_NH_VAA */
		return c->stage1 ? MAY : MUST_ILL;
	case 0x20: /* TLBI_EL2_ALL */
	case 0x21: /* TLBI_EL2_ASID */
	case 0x22: /* TLBI_EL2_VA */
	case 0x23: /* TLBI_EL2_VAA */
		return c->hyp ? MAY : MUST_ILL;
	case 0x28: /* TLBI_S12_VMALL */
	case 0x2a: /* TLBI_S2_IPA */
		return c->stage2 ? MAY : MUST_ILL;
	case 0x30: /* TLBI_NSNH_ALL: no fields */
		return MUST_OK;
	case 0x40: /* ATC_INV */
		return c->ats ? MAY : MUST_ILL;
	case 0x41: /* PRI_RESP: Resp 0b11 is reserved */
		return c->pri && ((cmd[1] >> 12) & 3) != 3 ? MAY : MUST_ILL;
	case 0x44: /* RESUME */
	case 0x45: /* STALL_TERM */
		return c->stall_model != 1 ? MAY : MUST_ILL;
	case 0x46: /* SYNC: CS 0b11 is reserved */
		return ((cmd[0] >> 12) & 3) == 3 ? MUST_ILL : SYNC_OK;
	}
	/* EL3, Secure, VMS, DPT and undefined opcodes */
	return MUST_ILL;
}

static void gen_command(struct fz_in *in, uint64_t *cmd)
{
	static const uint8_t ops[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				      0x10, 0x11, 0x12, 0x13, 0x20, 0x21,
				      0x22, 0x23, 0x28, 0x2a, 0x30, 0x40,
				      0x41, 0x44, 0x45, 0x46};
	uint8_t k = fz_u8(in);

	cmd[0] = cmd[1] = 0;
	if (k < 0x40) { /* a command nothing in which can be illegal */
		switch (k % 4) {
		case 0:
			cmd[0] = 0x46 | (uint64_t)(k / 4 % 3) << 12;
			break;
		case 1:
			cmd[0] = 0x30;
			break;
		case 2:
			cmd[0] = 0x04;
			cmd[1] = 31;
			break;
		default: /* a SYNC raising the interrupt, with MSI fields */
			cmd[0] = 0x46 | 1ull << 12 | (uint64_t)fz_u32(in) << 32;
			break;
		}
		return;
	}
	cmd[0] = fz_u64(in);
	cmd[1] = fz_u64(in);
	if (k < 0xe0)
		cmd[0] = (cmd[0] & ~0xffull) | ops[k % sizeof(ops)];
	if (k & 1) /* sparse fields: more commands pass their checks */
		cmd[0] &= 0xffffffff000000ffull, cmd[1] &= 0x1f;
}

static void put_command(struct fz_in *in)
{
	uint64_t cmd[2];
	unsigned int i = qidx(s.prod);

	gen_command(in, cmd);
	s.q[2 * i] = cmd[0];
	s.q[2 * i + 1] = cmd[1];
	s.cls[i] = classify(cmd);
	s.prod = qinc(s.prod);
}

/*
 * Look at the queue after the SMMU had its chance: everything between
 * where we last saw it and where it is now was executed without error;
 * if it stopped short, the command there is the culprit.
 */
static void verify(bool single)
{
	uint32_t cons = sio_smmu_read32(s.smmu, R_CMDQ_CONS);
	uint32_t active = (sio_smmu_read32(s.smmu, R_GERROR) ^
			   sio_smmu_read32(s.smmu, R_GERRORN)) &
			  GERROR_CMDQ;
	uint32_t ptr = cons & qmask(), err = CONS_ERR(cons);
	unsigned int steps = 0;

	for (uint32_t c = s.cons & qmask(); c != ptr; c = qinc(c)) {
		enum cls k = s.cls[qidx(c)];

		FZ_CHECK(c != (s.prod & qmask()),
			 "CONS %#x ran past PROD %#x (from %#x)", ptr, s.prod,
			 s.cons);
		FZ_CHECK(k != MUST_ILL, "illegal command at %#x consumed", c);
		if (k == SYNC_OK && single && s.atc_known)
			FZ_CHECK(!s.atc_pending,
				 "SYNC at %#x completed after a failed "
				 "ATC_INV",
				 c);
		if (k == SYNC_OK && single)
			s.atc_pending = false, s.atc_known = true;
		FZ_CHECK(++steps <= (2u << s.log2), "CONS loop");
	}
	FZ_CHECK(!active || err != ERR_ABT, "CERROR_ABT on a queue in "
					    "registered memory");
	if (ptr == (s.prod & qmask())) {
		/* CONS.ERR keeps the last error's code: meaningful only
		 * while GERROR.CMDQ_ERR is active */
		FZ_CHECK(!active, "CMDQ_ERR active, but all consumed");
	} else {
		enum cls k = s.cls[qidx(ptr)];

		FZ_CHECK(active, "stopped at %#x (PROD %#x) without GERROR",
			 ptr, s.prod);
		FZ_CHECK(err == ERR_ILL || err == ERR_ATC_SYNC,
			 "stopped at %#x with CONS.ERR %u", ptr, err);
		if (err == ERR_ATC_SYNC) {
			FZ_CHECK(k == SYNC_OK,
				 "ATC_INV_SYNC on a non-SYNC at %#x", ptr);
			FZ_CHECK(s.atc_pending || !s.atc_known, "ATC_INV_SYNC "
								"with no "
								"failed "
								"ATC_INV");
			s.atc_pending = false;
			s.atc_known = true;
		} else {
			FZ_CHECK(k != MUST_OK && k != SYNC_OK,
				 "CERROR_ILL on a legal command at %#x", ptr);
		}
	}
	s.cons = cons & qmask();
}

static bool error_active(void)
{
	return (sio_smmu_read32(s.smmu, R_GERROR) ^
		sio_smmu_read32(s.smmu, R_GERRORN)) &
	       GERROR_CMDQ;
}

/* Queue commands and publish them with one PROD write. */
static void op_batch(struct fz_in *in, unsigned int n)
{
	uint32_t before = sio_smmu_read32(s.smmu, R_CMDQ_CONS);
	bool stopped = error_active();
	bool single = n == 1;

	for (unsigned int i = 0; i < n && !qfull(); i++)
		put_command(in);
	if (!single)
		/*
		 * Which SYNC an ATC failure in a batch reaches is the
		 * model's business; exactness returns at the next SYNC
		 * that goes alone.
		 */
		s.atc_known = false;
	sio_smmu_write32(s.smmu, R_CMDQ_PROD, s.prod);
	if (stopped) {
		/* the point of the exercise: a stopped queue stays put */
		FZ_CHECK(sio_smmu_read32(s.smmu, R_CMDQ_CONS) == before,
			 "CONS moved %#x -> %#x while CMDQ_ERR was active",
			 before, sio_smmu_read32(s.smmu, R_CMDQ_CONS));
		return;
	}
	verify(single);
}

/*
 * Acknowledge an error, as a driver does: optionally replace the culprit
 * with a CMD_SYNC first (Linux does), then GERRORN = GERROR.
 */
static void op_ack(struct fz_in *in)
{
	uint8_t k = fz_u8(in);
	unsigned int i = qidx(s.cons);

	if (!error_active())
		return;
	if (k & 1) {
		s.q[2 * i] = 0x46;
		s.q[2 * i + 1] = 0;
		s.cls[i] = SYNC_OK;
	}
	sio_smmu_write32(s.smmu, R_GERRORN, sio_smmu_read32(s.smmu, R_GERROR));
	/* nudge the queue: PROD written again, unchanged */
	sio_smmu_write32(s.smmu, R_CMDQ_PROD, s.prod);
	verify(qinc(s.cons) == (s.prod & qmask()));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	unsigned int ops = 0;
	uint8_t a, b;

	if (!m.map)
		fz_machine_map(&m);
	fz_machine_reset(&m);
	memset(&s, 0, sizeof(s));
	fz_config(&in, &s.cfg);
	a = fz_u8(&in);
	b = fz_u8(&in);
	s.cfg.stall_model = a % 3;
	s.log2 = 1 + b % MAX_QUEUE_LOG2;
	if (sio_smmu_create(&s.cfg, m.bus, &s.smmu)) {
		fz_machine_check(&m);
		return 0;
	}
	sio_smmu_set_atc_inv(s.smmu, on_atc_inv, NULL);
	s.atc_known = true;
	s.q = (uint64_t *)(m.arena + ARENA_CMDQ);
	/* a stream table of aborting STEs and an event queue: a driver's */
	sio_smmu_write64(s.smmu, R_STRTAB_BASE, fz_pa(m.arena + ARENA_STRTAB));
	sio_smmu_write32(s.smmu, R_STRTAB_BASE_CFG, 6);
	sio_smmu_write64(s.smmu, R_EVENTQ_BASE,
			 fz_pa(m.arena + ARENA_EVTQ) | 7);
	sio_smmu_write64(s.smmu, R_CMDQ_BASE, fz_pa(s.q) | s.log2);
	/* SMMUEN or not: ATC_INV and PRI_RESP are ignored without it */
	sio_smmu_write32(s.smmu, R_CR0,
			 CR0_CMDQEN | CR0_EVTQEN | (a & 0x80 ? 0 : CR0_SMMUEN));
	while (fz_left(&in) && ops++ < 1024) {
		uint8_t k = fz_u8(&in);

		if (k < 0x80)
			op_batch(&in, 1);
		else if (k < 0xc0)
			op_batch(&in, 1 + k % 16);
		else if (k < 0xe0)
			op_ack(&in);
		else
			s.atc_fail = k & 1;
	}
	sio_smmu_destroy(s.smmu);
	fz_machine_check(&m);
	return 0;
}
