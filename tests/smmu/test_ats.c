// SPDX-License-Identifier: MIT
/*
 * ATS invalidation (sections 4.5.1, 3.9.1.4): CMD_ATC_INV reaches the
 * device's ATC with the span the command encodes, and a CMD_SYNC after
 * an invalidation that did not complete stops the queue with
 * CERROR_ATC_INV_SYNC.  Spans are worked out by hand: 4096 << Size bytes,
 * aligned to themselves, Size 52 for all of the address space.
 */
#include <errno.h>

#include "smmu_test.h"

#define C0_GLOBAL (1ull << 9)

struct atc {
	int n, fail;
	uint32_t sid, ssid;
	bool ssv, global;
	uint64_t addr;
	unsigned int log2;
};

static int on_atc_inv(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		      bool global, uint64_t addr, unsigned int log2size)
{
	struct atc *a = opaque;

	a->n++;
	a->sid = sid;
	a->ssv = ssv;
	a->ssid = ssid;
	a->global = global;
	a->addr = addr;
	a->log2 = log2size;
	return a->fail ? -ETIMEDOUT : 0;
}

static struct smmu_fx *ats_fx(struct atc *a)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;

	sio_smmu_config_default(&cfg);
	cfg.ats = true;
	fx = fx_create(&cfg);
	sio_smmu_set_atc_inv(fx->smmu, on_atc_inv, a);
	return fx;
}

static void test_atc_inv_spans(void **state)
{
	struct atc a = {0};
	struct smmu_fx *fx = ats_fx(&a);

	(void)state;
	/* Size 3: 32 KiB, so 0x12345000 is taken as 0x12340000. */
	fx_cmd(fx, CMD_ATC_INV | C0_SID(5) | C0_SSV | C0_SSID(0x42) | C0_GLOBAL,
	       0x12345000ull | 3);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.sid, 5);
	assert_true(a.ssv && a.global);
	assert_int_equal(a.ssid, 0x42);
	assert_true(a.addr == 0x12340000ull);
	assert_int_equal(a.log2, 15);
	/* Without a PASID, Global is ignored and no SSID is conveyed. */
	fx_cmd(fx, CMD_ATC_INV | C0_SID(6) | C0_SSID(0x42) | C0_GLOBAL,
	       0xffff000000001000ull);
	assert_int_equal(a.n, 2);
	assert_false(a.ssv || a.global);
	assert_int_equal(a.ssid, 0);
	assert_true(a.addr == 0xffff000000001000ull);
	assert_int_equal(a.log2, 12);
	/* Size 52: everything. */
	fx_cmd(fx, CMD_ATC_INV | C0_SID(6), 0xabc000ull | 52);
	assert_int_equal(a.n, 3);
	assert_true(a.addr == 0);
	assert_int_equal(a.log2, 64);
	fx_cmd(fx, CMD_SYNC, 0);
	assert_int_equal(CONS_ERR(sio_smmu_read32(fx->smmu, R_CMDQ_CONS)), 0);
	/* Size 53: CERROR_ILL, nothing sent. */
	fx_cmd(fx, CMD_ATC_INV | C0_SID(6), 53);
	assert_int_equal(a.n, 3);
	assert_int_equal(CONS_ERR(sio_smmu_read32(fx->smmu, R_CMDQ_CONS)), 1);
	fx_destroy(fx);
}

/*
 * An invalidation that times out: the CMD_SYNC after it stops the queue
 * with CONS.ERR = 3 (CERROR_ATC_INV_SYNC) and CONS at the CMD_SYNC; once
 * the error is acknowledged the CMD_SYNC is retried and completes.
 */
static void test_atc_inv_sync_error(void **state)
{
	struct atc a = {.fail = 1};
	struct smmu_fx *fx = ats_fx(&a);
	int syncs = fx->irqs[SIO_SMMU_IRQ_CMD_SYNC];
	uint32_t cons;

	(void)state;
	fx_cmd(fx, CMD_ATC_INV | C0_SID(2), 0x1000);
	fx_cmd(fx, CMD_SYNC | 1ull << 12, 0); /* CS = IRQ */
	cons = sio_smmu_read32(fx->smmu, R_CMDQ_CONS);
	assert_int_equal(CONS_ERR(cons), 3);
	assert_int_equal(cons & 0xff, 1);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_GERROR) & 1, 1);
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_CMD_SYNC], syncs);
	a.fail = 0;
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	cons = sio_smmu_read32(fx->smmu, R_CMDQ_CONS);
	assert_int_equal(cons & 0xff, 2);
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_CMD_SYNC], syncs + 1);
	fx_destroy(fx);
}

/* Without ATS the command is illegal; with SMMUEN == 0 it is ignored. */
static void test_atc_inv_illegal_and_ignored(void **state)
{
	struct atc a = {0};
	struct smmu_fx *fx = ats_fx(&a);

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	fx_cmd(fx, CMD_ATC_INV | C0_SID(2), 0x1000);
	assert_int_equal(a.n, 0);
	assert_int_equal(CONS_ERR(sio_smmu_read32(fx->smmu, R_CMDQ_CONS)), 0);
	fx_destroy(fx);

	fx = fx_create(NULL);
	sio_smmu_set_atc_inv(fx->smmu, on_atc_inv, &a);
	fx_cmd(fx, CMD_ATC_INV | C0_SID(2), 0x1000);
	assert_int_equal(a.n, 0);
	assert_int_equal(CONS_ERR(sio_smmu_read32(fx->smmu, R_CMDQ_CONS)), 1);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atc_inv_spans),
		cmocka_unit_test(test_atc_inv_sync_error),
		cmocka_unit_test(test_atc_inv_illegal_and_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
