// SPDX-License-Identifier: MIT
/*
 * Device transactions from several threads, concurrently with MMIO and
 * commands from another: every translation is right or aborted, every
 * fault is recorded exactly once, and ThreadSanitizer (make check) sees
 * no race.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "smmu_test.h"

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

/* Each device's transactions; about 1 in 5 faults. */
#define PER_DEVICE 20000

struct run {
	struct smmu_fx *fx;
	_Atomic int running;
	_Atomic uint64_t ok, faults, bad;
};

static void *device(void *arg)
{
	struct run *r = arg;
	uint64_t seed = (uint64_t)(uintptr_t)&seed | 1;

	for (int i = 0; i < PER_DEVICE; i++) {
		/* Pages 0..63 are mapped to 0x100000 + page; 64.. are not. */
		uint64_t page = sio_test_rand(&seed) % 80;
		struct sio_smmu_txn t = {.sid = 1, .addr = page << 12 | 0x10};
		struct sio_smmu_result res;
		int rc = sio_smmu_translate(r->fx->smmu, &t, &res);

		if (page < 64 &&
		    (rc || res.pa != (0x100000 + (page << 12) + 0x10)))
			atomic_fetch_add(&r->bad, 1);
		if (page >= 64 && rc != -EFAULT)
			atomic_fetch_add(&r->bad, 1);
		atomic_fetch_add(rc ? &r->faults : &r->ok, 1);
	}
	atomic_fetch_sub(&r->running, 1);
	return NULL;
}

static void test_transactions_race_mmio_and_commands(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096,
						  48, 48, SIO_PGT_TTB0, 0);
	struct sio_pgtable_info in;
	uint64_t *cd = fx_alloc(fx, 4096), evs[32][4];
	struct run r = {.fx = fx};
	uint64_t recorded = 0;
	pthread_t th[2];
	struct timespec t0;

	(void)state;
	/* An event queue that holds every fault: 2^15 records, 1 MiB. */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	fx->evtq = fx_alloc(fx, 32 << 15);
	fx->evtq_log2 = 15;
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, fx_pa(fx->evtq) | 15);
	sio_smmu_write32(fx->smmu, R_EVENTQ_PROD, 0);
	sio_smmu_write32(fx->smmu, R_EVENTQ_CONS, 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	sio_pgtable_get_info(pt, &in);
	assert_int_equal(sio_pgtable_map(pt, 0, 0x100000, 64 << 12, RW), 0);
	cd_make(cd, &in, NULL, 1);
	ste_valid(fx_ste(fx, 1), 5);
	ste_s1(fx_ste(fx, 1), fx_pa(cd), 0, 0, 0);
	atomic_store(&r.running, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, device, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&r.running)) {
		int n;

		fx_cmd(fx, 0x46, 0);		  /* CMD_SYNC */
		fx_cmd(fx, 0x10 | 0ull << 32, 0); /* TLBI_NH_ALL */
		sio_smmu_write32(fx->smmu, R_CR2, 0x2);
		sio_smmu_write32(fx->smmu, R_IRQ_CTRL, 0x7);
		n = fx_events(fx, evs, 32);
		for (int i = 0; i < n; i++)
			assert_int_equal(bits_get(evs[i], 7, 0), 0x10);
		recorded += (uint64_t)n;
		if (sio_test_elapsed(&t0) > 20)
			break;
	}
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int n; (n = fx_events(fx, evs, 32));)
		recorded += (uint64_t)n;
	print_message("# %llu translated, %llu faults, %llu recorded\n",
		      (unsigned long long)atomic_load(&r.ok),
		      (unsigned long long)atomic_load(&r.faults),
		      (unsigned long long)recorded);
	assert_int_equal(atomic_load(&r.bad), 0);
	assert_true(atomic_load(&r.faults) > 1000);
	/* No fault lost: the queue never overflowed... */
	assert_int_equal(sio_smmu_read32(fx->smmu, R_EVENTQ_PROD) >> 31, 0);
	/* ...so each one is in it. */
	assert_true(recorded == atomic_load(&r.faults));
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transactions_race_mmio_and_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
