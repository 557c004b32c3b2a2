// SPDX-License-Identifier: MIT
/*
 * The command queue (chapter 4): consumption, wrap, CMD_SYNC completion,
 * and the error protocol — an illegal command or a read abort stops the
 * queue at the command, with CMDQ_CONS.ERR (section 6.3.27: 1 ILL,
 * 2 ABT) and GERROR.CMDQ_ERR active until acknowledged in GERRORN.
 */
#include "smmu_test.h"

#define OP(op) ((uint64_t)(op))

static uint32_t cons(struct smmu_fx *fx)
{
	return sio_smmu_read32(fx->smmu, R_CMDQ_CONS);
}

static uint32_t cons_err(struct smmu_fx *fx)
{
	return (cons(fx) >> 24) & 0x7f;
}

static bool cmdq_error_active(struct smmu_fx *fx)
{
	return (sio_smmu_read32(fx->smmu, R_GERROR) ^
		sio_smmu_read32(fx->smmu, R_GERRORN)) &
	       1;
}

static void test_commands_are_consumed(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	fx_cmd(fx, OP(0x03) | 5ull << 32, 1);  /* CFGI_STE SID 5, Leaf */
	fx_cmd(fx, OP(0x04) | 8ull << 32, 31); /* CFGI_ALL */
	fx_cmd(fx, OP(0x05) | 7ull << 12 | 5ull << 32, 0); /* CFGI_CD */
	fx_cmd(fx, OP(0x06) | 5ull << 32, 0);		   /* CFGI_CD_ALL */
	fx_cmd(fx, OP(0x10) | 3ull << 32, 0); /* TLBI_NH_ALL VMID 3 */
	fx_cmd(fx, OP(0x11) | 3ull << 32 | 9ull << 48, 0); /* NH_ASID */
	fx_cmd(fx, OP(0x12) | 9ull << 48, 0x12345000);	   /* NH_VA */
	fx_cmd(fx, OP(0x13), 0x12345000 | 1);		   /* NH_VAA, Leaf */
	fx_cmd(fx, OP(0x28) | 3ull << 32, 0);		   /* S12_VMALL */
	fx_cmd(fx, OP(0x2a) | 3ull << 32, 0x80000000);	   /* S2_IPA */
	fx_cmd(fx, OP(0x30), 0);			   /* NSNH_ALL */
	fx_cmd(fx, OP(0x01) | 5ull << 32, 0);		   /* PREFETCH_CONFIG */
	fx_cmd(fx, OP(0x46), 0);			   /* SYNC, no signal */
	assert_int_equal(cons(fx), 13);
	assert_false(cmdq_error_active(fx));
	fx_destroy(fx);
}

/*
 * The queue's effective base is CMDQ_BASE.ADDR aligned to the queue's
 * size (6.3.26): a base 32 bytes into a 16-entry (256-byte) queue reads
 * its first command from the aligned address, here an illegal one.
 */
static void test_queue_base_is_aligned(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t *q = fx_alloc(fx, 4096);

	(void)state;
	q[0] = OP(0x7f); /* not a command */
	q[1] = 0;
	q[4] = OP(0x46); /* a CMD_SYNC 32 bytes in */
	q[5] = 0;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4); /* CMDQEN off */
	sio_smmu_write64(fx->smmu, R_CMDQ_BASE, (fx_pa(q) + 0x20) | 4);
	sio_smmu_write32(fx->smmu, R_CMDQ_PROD, 0);
	sio_smmu_write32(fx->smmu, R_CMDQ_CONS, 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_CMDQ_PROD, 1);
	assert_int_equal(cons_err(fx), 1); /* CERROR_ILL */
	assert_int_equal(cons(fx) & 0x1f, 0);
	assert_true(cmdq_error_active(fx));
	fx_destroy(fx);
}

/*
 * CONS.ERR, written while the queue is off, keeps its value: 6.3.28 lets
 * it take the written value or ignore it, and the model ignores it.
 */
static void test_cons_write_keeps_err(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	fx_cmd(fx, OP(0x7f), 0); /* not a command: CERROR_ILL */
	assert_int_equal(cons_err(fx), 1);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4);
	sio_smmu_write32(fx->smmu, R_CMDQ_CONS, 0);
	assert_int_equal(cons_err(fx), 1);
	assert_int_equal(cons(fx) & 0x1ff, 0);
	fx_destroy(fx);
}

static void test_queue_wraps(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	/* 600 commands through a 256-entry queue: twice round, and more. */
	for (int i = 0; i < 600; i++)
		fx_cmd(fx, OP(0x46), 0);
	/* 600 = 2 * 256 + 88: index 88, wrap bit [8] clear. */
	assert_int_equal(cons(fx), 88);
	fx_destroy(fx);
}

static void test_sync_completion_signal(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	fx_cmd(fx, OP(0x46) | 1ull << 12, 0); /* CS = SIG_IRQ */
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_CMD_SYNC], 1);
	fx_cmd(fx, OP(0x46) | 2ull << 12, 0); /* CS = SIG_SEV */
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_CMD_SYNC], 1);
	assert_int_equal(cons(fx), 2);
	fx_cmd(fx, OP(0x46) | 3ull << 12, 0); /* reserved */
	assert_int_equal(cons_err(fx), 1);
	fx_destroy(fx);
}

static void test_illegal_command_stops_the_queue(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	fx_cmd(fx, OP(0x46), 0);
	fx_cmd(fx, OP(0xff), 0); /* no such command */
	fx_cmd(fx, OP(0x46), 0); /* waits behind it */
	assert_int_equal(cons(fx) & 0x1ff, 1);
	assert_int_equal(cons_err(fx), 1); /* CERROR_ILL */
	assert_true(cmdq_error_active(fx));
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_GERROR], 1);
	/* Still stopped: more commands wait. */
	fx_cmd(fx, OP(0x46), 0);
	assert_int_equal(cons(fx) & 0x1ff, 1);
	/* Software replaces the bad command and acknowledges. */
	fx->cmdq[2] = OP(0x46);
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	assert_false(cmdq_error_active(fx));
	assert_int_equal(cons(fx) & 0x1ff, 4);
	fx_destroy(fx);
}

static void expect_ill(struct smmu_fx *fx, uint64_t d0, uint64_t d1)
{
	uint32_t before = cons(fx) & 0x1ff;

	fx_cmd(fx, d0, d1);
	assert_int_equal(cons(fx) & 0x1ff, before);
	assert_int_equal(cons_err(fx), 1);
	/* Skip it: overwrite with a SYNC and acknowledge. */
	fx->cmdq[2 * before] = OP(0x46);
	fx->cmdq[2 * before + 1] = 0;
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	assert_int_equal(cons(fx) & 0x1ff, before + 1);
}

static void test_commands_illegal_for_the_configuration(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	expect_ill(fx, OP(0x03) | 1ull << 10, 0); /* CFGI_STE, SSec */
	/* SSec == 1 on the Non-secure queue, whatever the command (4.1.6) */
	expect_ill(fx, OP(0x01) | 1ull << 10, 0); /* PREFETCH_CONFIG */
	expect_ill(fx, OP(0x02) | 1ull << 10, 0); /* PREFETCH_ADDR */
	expect_ill(fx, OP(0x40), 0);		  /* ATC_INV, no ATS */
	expect_ill(fx, OP(0x41), 0);		  /* PRI_RESP, no PRI */
	expect_ill(fx, OP(0x20), 0);		  /* EL2, no HYP */
	expect_ill(fx, OP(0x50), 0);		  /* Secure only */
	expect_ill(fx, OP(0x07), 0);		  /* CFGI_VMS_PIDM */
	/* Range invalidation: TG != 0 with NUM = SCALE = TTL = 0. */
	expect_ill(fx, OP(0x12), 1ull << 10);
	fx_cmd(fx, OP(0x12) | 1ull << 12, 1ull << 10); /* NUM 1: fine */
	assert_int_equal(cons_err(fx), 1); /* ERR keeps the last error */
	assert_false(cmdq_error_active(fx));
	fx_destroy(fx);
	/* Stage-1 TLBIs need stage 1, stage-2 ones stage 2. */
	sio_smmu_config_default(&cfg);
	cfg.stage1 = false;
	cfg.ssid_bits = 0;
	fx = fx_create(&cfg);
	expect_ill(fx, OP(0x10), 0);
	expect_ill(fx, OP(0x12), 0);
	fx_destroy(fx);
	sio_smmu_config_default(&cfg);
	cfg.stage2 = false;
	fx = fx_create(&cfg);
	expect_ill(fx, OP(0x28), 0);
	expect_ill(fx, OP(0x2a), 0);
	fx_destroy(fx);
	/*
	 * With IDR0.Hyp the four EL2 TLBIs are legal (section 4.4.2), the
	 * two by address with the range rules of 4.4.1.1.
	 */
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	fx = fx_create(&cfg);
	fx_cmd(fx, OP(0x20), 0);		       /* EL2_ALL */
	fx_cmd(fx, OP(0x21) | 9ull << 48, 0);	       /* EL2_ASID */
	fx_cmd(fx, OP(0x22) | 9ull << 48, 0x12345000); /* EL2_VA */
	fx_cmd(fx, OP(0x23), 0x12345000 | 1);	       /* EL2_VAA, Leaf */
	fx_cmd(fx, OP(0x46), 0);
	assert_int_equal(cons(fx), 5);
	assert_false(cmdq_error_active(fx));
	expect_ill(fx, OP(0x22), 1ull << 10); /* TG, NUM = SCALE = TTL = 0 */
	expect_ill(fx, OP(0x23), 1ull << 10);
	fx_destroy(fx);
}

static void test_read_abort(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4);
	sio_smmu_write64(fx->smmu, R_CMDQ_BASE, 0x10000 | 4);
	sio_smmu_write32(fx->smmu, R_CMDQ_PROD, 0);
	sio_smmu_write32(fx->smmu, R_CMDQ_CONS, 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_CMDQ_PROD, 1);
	assert_int_equal(cons_err(fx), 2); /* CERROR_ABT */
	assert_int_equal(cons(fx) & 0x1f, 0);
	assert_true(cmdq_error_active(fx));
	fx_destroy(fx);
}

static void test_disabled_queue_waits(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4);
	fx_cmd(fx, OP(0x46), 0);
	fx_cmd(fx, OP(0x46), 0);
	assert_int_equal(cons(fx), 0);
	/* Enabling it consumes what is waiting. */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(cons(fx), 2);
	fx_destroy(fx);
}

/*
 * Random invalidation commands (every opcode of the architecture's
 * invalidation and sync families, random fields) never crash the model:
 * each either completes or stops the queue with CERROR_ILL, and the
 * queue resumes after software replaces the command.
 */
static void test_random_invalidations(void **state)
{
	static const uint8_t ops[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				      0x10, 0x11, 0x12, 0x13, 0x20, 0x21,
				      0x22, 0x23, 0x28, 0x2a, 0x30, 0x46};
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 4000; i++) {
		uint32_t before = cons(fx) & 0x1ff;
		uint64_t d0, d1;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		d0 = (x & ~0xffull) | ops[x % sizeof(ops)];
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		d1 = x;
		fx_cmd(fx, d0, d1);
		if ((cons(fx) & 0x1ff) == before) {
			assert_int_equal(cons_err(fx), 1);
			fx->cmdq[2 * (before & 0xff)] = OP(0x46);
			fx->cmdq[2 * (before & 0xff) + 1] = 0;
			sio_smmu_write32(fx->smmu, R_GERRORN,
					 sio_smmu_read32(fx->smmu, R_GERROR));
		}
		assert_false(cmdq_error_active(fx));
	}
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_are_consumed),
		cmocka_unit_test(test_queue_wraps),
		cmocka_unit_test(test_queue_base_is_aligned),
		cmocka_unit_test(test_cons_write_keeps_err),
		cmocka_unit_test(test_sync_completion_signal),
		cmocka_unit_test(test_illegal_command_stops_the_queue),
		cmocka_unit_test(test_commands_illegal_for_the_configuration),
		cmocka_unit_test(test_read_abort),
		cmocka_unit_test(test_disabled_queue_waits),
		cmocka_unit_test(test_random_invalidations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
