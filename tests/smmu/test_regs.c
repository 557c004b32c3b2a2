// SPDX-License-Identifier: MIT
/*
 * The SMMU register file (section 6.3): ID registers from the
 * configuration, update/acknowledge pairs, writes ignored where the
 * architecture ignores them, 32/64-bit access rules, reserved locations.
 */
#include <errno.h>

#include "smmu_test.h"

static void test_id_registers_of_the_default(void **state)
{
	struct sio_smmu_config cfg;
	struct sio_mem_bus *bus;
	struct sio_smmu *s;

	(void)state;
	sio_smmu_config_default(&cfg);
	assert_int_equal(sio_mem_bus_create(&bus), 0);
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), 0);
	/*
	 * IDR0: S2P[0] S1P[1] TTF[3:2]=0b10 COHACC[4] HTTU[7:6]=0b10
	 * ASID16[12] VMID16[18] CD2L[19] TTENDIAN[22:21]=0b10
	 * STALL_MODEL[25:24]=0b00 (stall and terminate) TERM_MODEL[26]
	 * ST_LEVEL[28:27]=0b01.
	 */
	assert_int_equal(sio_smmu_read32(s, R_IDR0),
			 0x1 | 0x2 | 0x8 | 0x10 | 0x80 | 0x1000 | 0x40000 |
				 0x80000 | 0x400000 | 0x4000000 | 0x8000000);
	/* IDR1: SIDSIZE=16, SSIDSIZE[10:6]=20, EVENTQS[20:16]=19,
	 * CMDQS[25:21]=19, PRIQS=0 without PRI. */
	assert_int_equal(sio_smmu_read32(s, R_IDR1),
			 16 | 20 << 6 | 19 << 16 | 19 << 21);
	/* IDR3: HAD[2] XNX[4] RIL[10] (no PRI: no PPS). */
	assert_int_equal(sio_smmu_read32(s, R_IDR3), 0x4 | 0x10 | 0x400);
	/* IDR5: OAS=0b101 (48 bits), GRAN4K[4] GRAN16K[5] GRAN64K[6],
	 * VAX[11:10]=0b01. */
	assert_int_equal(sio_smmu_read32(s, R_IDR5),
			 5 | 0x10 | 0x20 | 0x40 | 0x400);
	/* AIDR: SMMUv3.2 (range invalidation). */
	assert_int_equal(sio_smmu_read32(s, R_AIDR), 2);
	sio_smmu_destroy(s);
	sio_mem_bus_destroy(bus);
}

static void test_bad_configurations(void **state)
{
	struct sio_smmu_config cfg;
	struct sio_mem_bus *bus;
	struct sio_smmu *s;

	(void)state;
	assert_int_equal(sio_mem_bus_create(&bus), 0);
#define BAD(field, val)                                                    \
	do {                                                               \
		sio_smmu_config_default(&cfg);                             \
		cfg.field = val;                                           \
		assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL); \
	} while (0)
	BAD(oas, 46);
	BAD(sid_bits, 33);
	BAD(ssid_bits, 21);
	BAD(httu, 3);
	BAD(stall_model, 3);
	BAD(cmdq_bits, 20);
	BAD(pri, true); /* without ATS */
	sio_smmu_config_default(&cfg);
	cfg.stage1 = cfg.stage2 = false;
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL);
	sio_smmu_config_default(&cfg);
	cfg.gran64k = false;
	cfg.oas = 52; /* 52-bit PAs need the 64K granule */
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL);
	sio_smmu_config_default(&cfg);
	cfg.stage1 = false; /* substreams need stage 1 */
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL);
	/* IDR0.Hyp is RES0 unless both stages are (section 6.3.1). */
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	cfg.stage2 = false;
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL);
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	cfg.stage1 = false;
	cfg.ssid_bits = 0;
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), -EINVAL);
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	assert_int_equal(sio_smmu_create(&cfg, bus, &s), 0);
	assert_int_equal(sio_smmu_read32(s, R_IDR0) & 0x200, 0x200); /* Hyp */
	sio_smmu_destroy(s);
	sio_mem_bus_destroy(bus);
}

static void test_control_registers(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_smmu *s = fx->smmu;

	(void)state;
	/*
	 * CR0 is acknowledged at once.  Reserved fields read 0 and are not
	 * reflected in CR0ACK (6.3.9): here PRIQEN (no PRI), ATSCHK (no
	 * ATS) and VMW (IDR0.VMW 0) too.
	 */
	sio_smmu_write32(s, R_CR0, 0xffffffff);
	assert_int_equal(sio_smmu_read32(s, R_CR0), 0xd);
	assert_int_equal(sio_smmu_read32(s, R_CR0ACK), 0xd);
	sio_smmu_write32(s, R_CR0, 0xd);
	assert_int_equal(sio_smmu_read32(s, R_CR0ACK), 0xd);
	/* GBPA changes only with UPDATE, which completes at once. */
	assert_int_equal(sio_smmu_read32(s, R_GBPA), 0x1000);
	sio_smmu_write32(s, R_GBPA, 1u << 20);
	assert_int_equal(sio_smmu_read32(s, R_GBPA), 0x1000);
	sio_smmu_write32(s, R_GBPA, (1u << 31) | (1u << 20));
	assert_int_equal(sio_smmu_read32(s, R_GBPA), 1u << 20);
	/* IRQ_CTRL is acknowledged; PRIQ_IRQEN does not exist here. */
	sio_smmu_write32(s, R_IRQ_CTRL, 0x7);
	assert_int_equal(sio_smmu_read32(s, R_IRQ_CTRLACK), 0x5);
	/* CR2: RECINVSID; E2H only with HYP, PTM only with BTM (6.3.12). */
	sio_smmu_write32(s, R_CR2, 0xf);
	assert_int_equal(sio_smmu_read32(s, R_CR2), 0x2);
	/* GERROR is read-only. */
	sio_smmu_write32(s, R_GERROR, 0x1);
	assert_int_equal(sio_smmu_read32(s, R_GERROR), 0);
	/*
	 * GERRORN has the fields GERROR has (6.3.20): bit 1 is RES0, and
	 * without MSI and PRI so are the MSI and PRI queue abort errors.
	 */
	sio_smmu_write32(s, R_GERRORN, 0x1fe);
	assert_int_equal(sio_smmu_read32(s, R_GERRORN), 0x104);
	sio_smmu_write32(s, R_GERRORN, 0);
	/* Without MSI the IRQ_CFG registers are RES0 (6.3.21 and others). */
	for (uint64_t off = 0x68; off <= 0x74; off += 4)
		sio_smmu_write32(s, off, 0x12345678);
	sio_smmu_write64(s, 0xb0, 0x1000);
	sio_smmu_write32(s, 0xb8, 0x1234);
	for (uint64_t off = 0x68; off <= 0x74; off += 4)
		assert_int_equal(sio_smmu_read32(s, off), 0);
	assert_true(sio_smmu_read64(s, 0xb0) == 0);
	assert_int_equal(sio_smmu_read32(s, 0xb8), 0);
	/* Without PRI the PRI queue's registers are RES0 (6.3.32-34). */
	sio_smmu_write64(s, 0xc0, 0x10000 | 4);
	sio_smmu_write32(s, 0x100c8, 3); /* PRIQ_PROD */
	sio_smmu_write32(s, 0x100cc, 3); /* PRIQ_CONS */
	assert_true(sio_smmu_read64(s, 0xc0) == 0);
	assert_int_equal(sio_smmu_read32(s, 0x100c8), 0);
	assert_int_equal(sio_smmu_read32(s, 0x100cc), 0);
	fx_destroy(fx);
}

static void test_writes_ignored_while_enabled(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_smmu *s = fx->smmu;
	uint64_t base = sio_smmu_read64(s, R_STRTAB_BASE);

	(void)state;
	assert_true(base == fx_pa(fx->strtab));
	/* SMMUEN: the stream table may not move. */
	sio_smmu_write64(s, R_STRTAB_BASE, 0x1000);
	sio_smmu_write32(s, R_STRTAB_BASE_CFG, 3);
	assert_true(sio_smmu_read64(s, R_STRTAB_BASE) == base);
	assert_int_equal(sio_smmu_read32(s, R_STRTAB_BASE_CFG), 6);
	/* Queue bases are fixed while their queue is enabled. */
	sio_smmu_write64(s, R_CMDQ_BASE, 0x2000);
	assert_true(sio_smmu_read64(s, R_CMDQ_BASE) ==
		    (fx_pa(fx->cmdq) | fx->cmdq_log2));
	sio_smmu_write64(s, R_EVENTQ_BASE, 0x2000);
	assert_true(sio_smmu_read64(s, R_EVENTQ_BASE) ==
		    (fx_pa(fx->evtq) | fx->evtq_log2));
	/* Disabled, they can: written as two halves or one 64-bit access. */
	sio_smmu_write32(s, R_CR0, 0);
	sio_smmu_write32(s, R_STRTAB_BASE, 0x12345040);
	sio_smmu_write32(s, R_STRTAB_BASE + 4, 0x89);
	assert_true(sio_smmu_read64(s, R_STRTAB_BASE) == 0x8912345040ull);
	assert_int_equal(sio_smmu_read32(s, R_STRTAB_BASE + 4), 0x89);
	/* RA[62] is kept, other bits above ADDR[51:6] and below are not. */
	sio_smmu_write64(s, R_STRTAB_BASE, ~0ull);
	assert_true(sio_smmu_read64(s, R_STRTAB_BASE) ==
		    ((1ull << 62) | 0x000fffffffffffc0ull));
	fx_destroy(fx);
}

static void test_reserved_and_misaligned_accesses(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_smmu *s = fx->smmu;

	(void)state;
	assert_int_equal(sio_smmu_read32(s, 0x30), 0);
	sio_smmu_write32(s, 0x30, 0x1234);
	assert_int_equal(sio_smmu_read32(s, 0x30), 0);
	/* Outside the frame, and not naturally aligned: RAZ/WI. */
	assert_int_equal(sio_smmu_read32(s, 0x20000), 0);
	assert_int_equal(sio_smmu_read32(s, R_IDR0 + 2), 0);
	assert_true(sio_smmu_read64(s, R_STRTAB_BASE + 4) == 0);
	sio_smmu_write32(s, R_CR0 + 1, 0);
	assert_int_equal(sio_smmu_read32(s, R_CR0), 0xd);
	/* EVENTQ_PROD and _CONS live in page 1; page 0's are reserved. */
	assert_int_equal(sio_smmu_read32(s, 0xa8), 0);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_registers_of_the_default),
		cmocka_unit_test(test_bad_configurations),
		cmocka_unit_test(test_control_registers),
		cmocka_unit_test(test_writes_ignored_while_enabled),
		cmocka_unit_test(test_reserved_and_misaligned_accesses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
