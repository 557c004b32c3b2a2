// SPDX-License-Identifier: MIT
/*
 * The PRI queue (chapter 8, section 4.5.2): Page Request records as the
 * architecture lays them out, PRG Responses from CMD_PRI_RESP, and the
 * automatic responses of overflow and of a disabled queue.  Expected
 * record words are composed by hand from the field positions.
 */
#include <errno.h>

#include "smmu_test.h"

#define R_PRIQ_BASE 0xc0
#define R_PRIQ_PROD 0x100c8
#define R_PRIQ_CONS 0x100cc
#define CR0_ALL	    (0x1 | 0x2 | 0x4 | 0x8) /* SMMUEN PRIQEN EVTQEN CMDQEN */
#define OVF	    (1u << 31)

struct prg {
	int n;
	uint32_t sid, ssid;
	bool ssv;
	uint16_t prgi;
	unsigned int code;
};

static void on_prg(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		   uint16_t prgi, unsigned int code)
{
	struct prg *r = opaque;

	r->n++;
	r->sid = sid;
	r->ssv = ssv;
	r->ssid = ssid;
	r->prgi = prgi;
	r->code = code;
}

/* An SMMU with ATS and PRI (PRI needs ATS: IDR0.PRI). */
static struct smmu_fx *pri_fx(void)
{
	struct sio_smmu_config cfg;

	sio_smmu_config_default(&cfg);
	cfg.ats = cfg.pri = true;
	return fx_create(&cfg);
}

/* An 8-entry PRI queue, enabled. */
static uint64_t *priq_setup(struct smmu_fx *fx, struct prg *r)
{
	uint64_t *q = fx_alloc(fx, 4096);

	sio_smmu_set_prg_response(fx->smmu, on_prg, r);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	sio_smmu_write64(fx->smmu, R_PRIQ_BASE, fx_pa(q) | 3);
	sio_smmu_write32(fx->smmu, R_CR0, CR0_ALL);
	return q;
}

static int request(struct smmu_fx *fx, uint32_t sid, bool ssv, uint32_t ssid,
		   uint64_t addr, uint16_t prgi, bool last, unsigned int perm)
{
	struct sio_smmu_page_req req = {.sid = sid,
					.ssid = ssid,
					.ssv = ssv,
					.addr = addr,
					.prgi = prgi,
					.last = last,
					.perm = perm};

	return sio_smmu_page_request(fx->smmu, &req);
}

static void test_priq_records(void **state)
{
	struct smmu_fx *fx = pri_fx();
	struct prg r = {0};
	uint64_t *q = priq_setup(fx, &r);
	int irqs = fx->irqs[SIO_SMMU_IRQ_PRIQ];

	(void)state;
	/* IDR0.ATS[10] and PRI[16]; IDR3.PPS[5]; IDR1.PRIQS[15:11] = 19. */
	assert_int_equal(sio_smmu_read32(fx->smmu, R_IDR0) & 0x10400, 0x10400);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_IDR3) & 0x20, 0x20);
	assert_int_equal((sio_smmu_read32(fx->smmu, R_IDR1) >> 11) & 0x1f, 19);
	assert_int_equal(request(fx, 7, true, 0x123, 0xdead5678, 0x1a5, true,
				 SIO_SMMU_PRI_READ | SIO_SMMU_PRI_WRITE |
					 SIO_SMMU_PRI_EXEC | SIO_SMMU_PRI_PRIV),
			 0);
	/* SID[31:0] SSID[51:32] Priv 58 Exec 59 Read 60 Write 61 Last 62 SSV 63
	 */
	assert_true(q[0] == (7ull | 0x123ull << 32 | 0xfull << 58 | 1ull << 62 |
			     1ull << 63));
	/* PRGIndex[8:0], page address [63:12] */
	assert_true(q[1] == (0x1a5ull | 0xdead5000ull));
	/* Without a PASID, X and Priv are 0 and the SSID is not given. */
	assert_int_equal(request(fx, 8, false, 0x55, 0x2000, 3, false,
				 SIO_SMMU_PRI_READ | SIO_SMMU_PRI_EXEC |
					 SIO_SMMU_PRI_PRIV),
			 0);
	assert_true(q[2] == (8ull | 1ull << 60));
	assert_true(q[3] == (3ull | 0x2000ull));
	assert_int_equal(sio_smmu_read32(fx->smmu, R_PRIQ_PROD), 2);
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_PRIQ], irqs + 2);
	assert_int_equal(r.n, 0);
	/* Out of range. */
	assert_int_equal(request(fx, 8, false, 0, 0, 512, true, 0), -EINVAL);
	fx_destroy(fx);
}

static void test_pri_resp(void **state)
{
	struct smmu_fx *fx = pri_fx();
	struct prg r = {0};
	static const unsigned int code[3] = {0xf, 0x1, 0x0};

	(void)state;
	priq_setup(fx, &r);
	for (unsigned int resp = 0; resp < 3; resp++) {
		/* SSV[11] SSID[31:12] SID[63:32]; PRGIndex[8:0] Resp[13:12] */
		fx_cmd(fx,
		       CMD_PRI_RESP | 1ull << 11 | 0x4567ull << 12 | 9ull << 32,
		       0x1ff | (uint64_t)resp << 12);
		assert_int_equal(r.n, (int)resp + 1);
		assert_int_equal(r.sid, 9);
		assert_true(r.ssv);
		assert_int_equal(r.ssid, 0x4567);
		assert_int_equal(r.prgi, 0x1ff);
		assert_int_equal(r.code, code[resp]);
	}
	/* Resp 0b11 is reserved: CERROR_ILL. */
	fx_cmd(fx, CMD_PRI_RESP | 9ull << 32, 3ull << 12);
	assert_int_equal(r.n, 3);
	assert_int_equal((sio_smmu_read32(fx->smmu, R_CMDQ_CONS) >> 24) & 0x7f,
			 1);
	fx_destroy(fx);

	/* Without PRI: the command is illegal, requests are refused. */
	{
		struct sio_smmu_config cfg;

		sio_smmu_config_default(&cfg);
		cfg.pri = false;
		fx = fx_create(&cfg);
		assert_int_equal(request(fx, 1, false, 0, 0, 0, true,
					 SIO_SMMU_PRI_READ),
				 -EINVAL);
		fx_cmd(fx, CMD_PRI_RESP | 1ull << 32, 2ull << 12);
		assert_int_equal((sio_smmu_read32(fx->smmu, R_CMDQ_CONS) >>
				  24) & 0x7f,
				 1);
		fx_destroy(fx);
	}
}

/*
 * Overflow (8.1): the request that finds the queue full sets OVFLG; until
 * software acknowledges it nothing is written, even with room; dropped
 * Last requests are answered Success with their PASID, others and stop
 * markers silently.
 */
static void test_priq_overflow(void **state)
{
	struct smmu_fx *fx = pri_fx();
	struct prg r = {0};
	uint32_t prod;

	(void)state;
	priq_setup(fx, &r);
	for (int i = 0; i < 8; i++)
		assert_int_equal(request(fx, 2, false, 0, (uint64_t)i << 12, 1,
					 false, SIO_SMMU_PRI_READ),
				 0);
	assert_int_equal(request(fx, 2, true, 0x77, 0x9000, 4, true,
				 SIO_SMMU_PRI_WRITE),
			 -ENOSPC);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.code, 0);
	assert_true(r.ssv);
	assert_int_equal(r.ssid, 0x77);
	assert_int_equal(r.prgi, 4);
	prod = sio_smmu_read32(fx->smmu, R_PRIQ_PROD);
	assert_int_equal(prod, OVF | 8);
	/* Consume everything without acknowledging: still inhibited. */
	sio_smmu_write32(fx->smmu, R_PRIQ_CONS, 8);
	assert_int_equal(request(fx, 2, false, 0, 0, 5, false,
				 SIO_SMMU_PRI_READ),
			 -ENOSPC);
	assert_int_equal(request(fx, 2, true, 1, 0, 0, true, 0), -ENOSPC);
	assert_int_equal(r.n, 1);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_PRIQ_PROD), prod);
	/* Acknowledge: requests are queued again. */
	sio_smmu_write32(fx->smmu, R_PRIQ_CONS, OVF | 8);
	assert_int_equal(
		request(fx, 2, false, 0, 0, 5, true, SIO_SMMU_PRI_READ), 0);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_PRIQ_PROD), OVF | 9);
	fx_destroy(fx);
}

/* A disabled queue (8.2): every request but a stop marker gets Failure. */
static void test_priq_disabled(void **state)
{
	struct smmu_fx *fx = pri_fx();
	struct prg r = {0};

	(void)state;
	priq_setup(fx, &r);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(request(fx, 3, true, 0x10, 0x1000, 6, false,
				 SIO_SMMU_PRI_READ),
			 -EIO);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.code, 0xf);
	assert_false(r.ssv); /* no PASID on this response */
	assert_int_equal(r.prgi, 6);
	assert_int_equal(request(fx, 3, true, 0x10, 0, 6, true, 0), -EIO);
	assert_int_equal(r.n, 1);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_PRIQ_PROD), 0);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priq_records),
		cmocka_unit_test(test_pri_resp),
		cmocka_unit_test(test_priq_overflow),
		cmocka_unit_test(test_priq_disabled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
