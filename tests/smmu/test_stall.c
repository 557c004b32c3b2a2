// SPDX-License-Identifier: MIT
/*
 * The Stall model (sections 3.12.2, 4.7.1, 4.7.2, 5.5, 7.2.1): a
 * transaction that takes a translation-related fault on a stage
 * configured to stall waits, with its event recorded (Stall == 1, a STAG,
 * whatever R says), until CMD_RESUME retries or terminates it, or
 * CMD_STALL_TERM or SMMUEN == 0 terminates it.  The device runs in its
 * own thread, as a device would; this thread plays the driver.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "smmu_test.h"

#include "smmu/smmu_port.h"
#include "smmu/smmu_private.h"

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

#define RESUME_RETRY (1ull << 12)
#define RESUME_ABORT (1ull << 13)

#define EVT_F_TRANSLATION 0x10
#define EVT_F_PERMISSION  0x13
#define EVT_C_BAD_CD	  0x0a

#define EV_STALL(e) bits_get(e, 95, 95)
#define EV_STAG(e)  bits_get(e, 79, 64)

/* A device thread presenting one transaction (or a DMA). */
struct device {
	pthread_t tid;
	struct smmu_fx *fx;
	struct sio_smmu_txn txn;
	size_t len; /* a DMA of len bytes from/to buf, else a translation */
	uint8_t buf[8192];
	size_t done;
	uint64_t pa;
	int rc;
	int finished;
};

static void *device_run(void *arg)
{
	struct device *d = arg;
	struct sio_smmu_result res;

	if (d->len) {
		d->rc = sio_smmu_dma(d->fx->smmu, &d->txn, d->buf, d->len,
				     &d->done);
	} else {
		d->rc = sio_smmu_translate(d->fx->smmu, &d->txn, &res);
		d->pa = d->rc ? ~0ull : res.pa;
	}
	__atomic_store_n(&d->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void device_start(struct device *d, struct smmu_fx *fx, uint32_t sid,
			 uint64_t addr, unsigned int attr, size_t len)
{
	d->fx = fx;
	d->txn = (struct sio_smmu_txn){.sid = sid, .addr = addr, .attr = attr};
	d->len = len;
	d->finished = 0;
	assert_int_equal(pthread_create(&d->tid, NULL, device_run, d), 0);
}

static int device_join(struct device *d)
{
	pthread_join(d->tid, NULL);
	return d->rc;
}

static void nap(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/*
 * Wait, generously, for a device that should finish: true if it did.  A
 * device that never does is a stall nothing ended; the caller ends it.
 */
static bool device_done_soon(struct device *d)
{
	for (int i = 0; i < 500; i++) {
		if (__atomic_load_n(&d->finished, __ATOMIC_ACQUIRE))
			return true;
		nap();
	}
	return false;
}

/*
 * The SMMU's test seam (struct sio_smmu's test_hook): a device thread
 * whose walk decided an event stops where it has left its bus section
 * with the event still to write, until the driver lets it go on, or a
 * CMD_SYNC is about to wait for that event.  So the driver's commands can
 * be made to fall exactly in that gap.
 */
struct gap {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool hold;    /* stop there; else only say it got there */
	bool reached; /* a device got there */
	bool go;      /* it may go on */
};

static void gap_hook(void *opaque, enum smmu_test_point at)
{
	struct gap *g = opaque;

	pthread_mutex_lock(&g->lock);
	if (at == SMMU_TEST_FLUSH)
		g->go = true;
	else
		g->reached = true;
	pthread_cond_broadcast(&g->cv);
	while (at == SMMU_TEST_UNRECORDED && g->hold && !g->go)
		pthread_cond_wait(&g->cv, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gap_install(struct smmu_fx *fx, struct gap *g, bool hold)
{
	*g = (struct gap){.hold = hold};
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cv, NULL);
	fx->smmu->test_opaque = g;
	fx->smmu->test_hook = gap_hook;
}

/* After every device thread that might reach the seam was joined. */
static void gap_remove(struct smmu_fx *fx, struct gap *g)
{
	fx->smmu->test_hook = NULL;
	fx->smmu->test_opaque = NULL;
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->lock);
}

static void gap_wait_reached(struct gap *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->reached)
		pthread_cond_wait(&g->cv, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

static void gap_release(struct gap *g)
{
	pthread_mutex_lock(&g->lock);
	g->go = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
}

/* Wait for exactly one event and return it. */
static void wait_event(struct smmu_fx *fx, uint64_t *ev)
{
	uint64_t evs[4][4];
	int n;

	while ((n = fx_events(fx, evs, 4)) == 0)
		nap();
	assert_int_equal(n, 1);
	memcpy(ev, evs[0], 32);
}

/* StreamID 1: stage 1 with CD.S = 1 and CD.R = 0. */
static struct sio_pgtable *stall_s1(struct smmu_fx *fx, uint64_t **cdp)
{
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096,
						  48, 48, SIO_PGT_TTB0, 0);
	struct sio_pgtable_info in;
	uint64_t *cd = fx_alloc(fx, 4096);

	sio_pgtable_get_info(pt, &in);
	cd_make(cd, &in, NULL, 5);
	bits_set(cd, 44, 1, 1); /* S */
	bits_set(cd, 45, 1, 0); /* R: a stall is recorded anyway */
	ste_valid(fx_ste(fx, 1), 5);
	ste_s1(fx_ste(fx, 1), fx_pa(cd), 0, 0, 0);
	if (cdp)
		*cdp = cd;
	return pt;
}

/*
 * A stall whose record's write aborts has no record software could
 * answer: it waits for the queue as when the queue is not writable, and
 * once software moves the queue to good memory and acknowledges the
 * abort, the retried transaction stalls again with a record it can
 * answer (7.2.1: the abort makes the queue not writable).
 */
static void test_stall_record_aborted(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device d;
	uint64_t ev[4] = {0};

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, 0x10000 | 4);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	device_start(&d, fx, 1, 0x3000, 0, 0);
	while (!((sio_smmu_read32(fx->smmu, R_GERROR) ^
		  sio_smmu_read32(fx->smmu, R_GERRORN)) &
		 0x4))
		nap();
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE,
			 fx_pa(fx->evtq) | fx->evtq_log2);
	sio_smmu_write32(fx->smmu, R_EVENTQ_PROD, 0);
	sio_smmu_write32(fx->smmu, R_EVENTQ_CONS, 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	/* bounded: without a record the stall would wait for ever */
	for (int i = 0; i < 500 && !fx_events(fx, (uint64_t(*)[4])ev, 1); i++)
		nap();
	if (!EV_STALL(ev)) {
		fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
		device_join(&d);
		fail_msg("the stall never recorded itself again");
	}
	assert_int_equal(EV_STALL(ev), 1);
	fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(ev)); /* terminate */
	assert_int_equal(device_join(&d), -EFAULT);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_stall_resume_retry(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device d;
	uint64_t ev[4];

	(void)state;
	device_start(&d, fx, 1, 0x5123, SIO_SMMU_WRITE, 0);
	wait_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_STALL(ev), 1);
	assert_int_equal(EV_SID(ev), 1);
	assert_int_equal(EV_RNW(ev), 0);
	assert_true(EV_INPUT(ev) == 0x5123);
	/* The device waits for an answer. */
	nap();
	assert_int_equal(__atomic_load_n(&d.finished, __ATOMIC_ACQUIRE), 0);
	/* The driver maps the page and retries the transaction. */
	assert_int_equal(sio_pgtable_map(pt, 0x5000, 0x9000, 4096, RW), 0);
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_RETRY, EV_STAG(ev));
	fx_cmd(fx, CMD_SYNC, 0);
	assert_int_equal(device_join(&d), 0);
	assert_true(d.pa == 0x9123);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A RESUME naming another StreamID, or another STAG, touches nothing;
 * RESUME Terminate (with or without Ab: TERM_MODEL == 1) aborts; a retry
 * that faults again stalls again, with a new record.
 */
static void test_stall_resume_matching_and_terminate(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device d;
	uint64_t ev[4], stag;

	(void)state;
	device_start(&d, fx, 1, 0x7000, 0, 0);
	wait_event(fx, ev);
	stag = EV_STAG(ev);
	fx_cmd(fx, CMD_RESUME | C0_SID(2) | RESUME_RETRY, stag);
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_RETRY, stag ^ 1);
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(3), 0);
	fx_cmd(fx, CMD_SYNC, 0);
	nap();
	assert_int_equal(__atomic_load_n(&d.finished, __ATOMIC_ACQUIRE), 0);
	fx_no_event(fx);
	/* Retry without fixing anything: it faults and stalls again. */
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_RETRY, stag);
	wait_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_STALL(ev), 1);
	assert_int_equal(EV_RNW(ev), 1);
	fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(ev)); /* Terminate */
	assert_int_equal(device_join(&d), -EFAULT);
	/* Terminate with Ab == 1 is the same abort. */
	device_start(&d, fx, 1, 0x7000, 0, 0);
	wait_event(fx, ev);
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_ABORT, EV_STAG(ev));
	assert_int_equal(device_join(&d), -EFAULT);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* CMD_STALL_TERM ends every stall of its StreamID; SMMUEN = 0 all. */
static void test_stall_term_and_disable(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device a, b;
	uint64_t evs[4][4];
	int n = 0;

	(void)state;
	device_start(&a, fx, 1, 0x1000, 0, 0);
	device_start(&b, fx, 1, 0x2000, SIO_SMMU_WRITE, 0);
	while (n < 2)
		n += fx_events(fx, evs + n, 4 - n) + (nap(), 0);
	assert_int_equal(n, 2);
	assert_true(EV_STAG(evs[0]) != EV_STAG(evs[1]));
	assert_int_equal(EV_STALL(evs[0]) & EV_STALL(evs[1]), 1);
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
	assert_int_equal(device_join(&a), -EFAULT);
	assert_int_equal(device_join(&b), -EFAULT);
	/* And translation turned off terminates what is stalled. */
	device_start(&a, fx, 1, 0x3000, 0, 0);
	wait_event(fx, evs[0]);
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	assert_int_equal(device_join(&a), -EFAULT);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Stage 2 stalls by STE.S2S, a stage-2 fault of a stage-1 walk counting
 * as stage 2 (section 3.12); a DMA stalls in the middle and, resumed,
 * completes every byte.
 */
static void test_stall_stage2_and_dma(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *s2 = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096,
						  48, 48, SIO_PGT_TTB0, 0);
	uint8_t *data = fx_alloc(fx, 8192);
	struct sio_pgtable_info in;
	struct device d;
	uint64_t ev[4];

	(void)state;
	sio_pgtable_get_info(s2, &in);
	ste_valid(fx_ste(fx, 4), 6);
	ste_s2(fx_ste(fx, 4), &in, 9);
	bits_set(fx_ste(fx, 4), 186, 1, 0); /* S2R = 0 */
	bits_set(fx_ste(fx, 4), 185, 1, 1); /* S2S */
	assert_int_equal(sio_pgtable_map(s2, 0x100000, fx_pa(data), 4096, RW),
			 0);
	for (int i = 0; i < 8192; i++)
		d.buf[i] = (uint8_t)(i * 7);
	memset(data, 0, 8192);
	/* Two pages; the second is not mapped yet. */
	device_start(&d, fx, 4, 0x100000, SIO_SMMU_WRITE, 8192);
	wait_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_STALL(ev), 1);
	assert_true(EV_INPUT(ev) == 0x101000);
	assert_true(EV_IPA(ev) == 0x101000);
	assert_int_equal(
		sio_pgtable_map(s2, 0x101000, fx_pa(data) + 4096, 4096, RW), 0);
	fx_cmd(fx, CMD_RESUME | C0_SID(4) | RESUME_RETRY, EV_STAG(ev));
	assert_int_equal(device_join(&d), 0);
	assert_int_equal(d.done, 8192);
	assert_memory_equal(data, d.buf, 8192);
	fx_no_event(fx);
	sio_pgtable_destroy(s2);
	fx_destroy(fx);
}

/*
 * A device port holding one bus section across a batch of transfers: a
 * map whose translation stalls waits outside that section (and says so:
 * what was mapped before is gone), so the
 * driver's TLBI + CMD_SYNC before its RESUME completes (it would wait
 * forever for a section left open); the batch then goes on in its
 * section, and a fault without stall records its event all the same.
 */
struct port_device {
	pthread_t tid;
	struct smmu_fx *fx;
	struct smmu_port_cache cache;
	uint64_t src, dst;
	int rc_src, rc_dst, rc_again, rc_dma;
	uint8_t back[64];
};

static void *port_run(void *arg)
{
	struct port_device *d = arg;
	struct sio_smmu_txn ts = {.sid = 1, .addr = d->src};
	struct sio_smmu_txn td = {
		.sid = 1, .addr = d->dst, .attr = SIO_SMMU_WRITE};
	struct sio_smmu_txn rd = {.sid = 1, .addr = d->dst};
	struct sio_smmu_txn bad = {.sid = 4, .addr = 0x300000};
	uint64_t ns = 0, nt = 0;
	void *s = NULL, *t = NULL;
	size_t done;

	smmu_port_begin(d->fx->smmu, &d->cache);
	d->rc_src = smmu_port_map(d->fx->smmu, &d->cache, &ts, &s, &ns);
	/* stalls: waits outside the section, so says 1 (src is gone) */
	d->rc_dst = smmu_port_map(d->fx->smmu, &d->cache, &td, &t, &nt);
	d->rc_again = smmu_port_map(d->fx->smmu, &d->cache, &ts, &s, &ns);
	if (!d->rc_again && t && ns >= 64 && nt >= 64)
		memcpy(t, s, 64);
	d->rc_dma =
		smmu_port_dma(d->fx->smmu, &d->cache, &rd, d->back, 64, &done);
	/* StreamID 4 has no STE yet: an abort, recorded, no stall. */
	if (smmu_port_dma(d->fx->smmu, &d->cache, &bad, d->back, 8, &done) !=
	    -EFAULT)
		d->rc_dma = -1;
	smmu_port_end(d->fx->smmu, &d->cache);
	return NULL;
}

static void test_stall_in_port_batch(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	uint8_t *data = fx_alloc(fx, 8192);
	struct port_device d = {.fx = fx, .src = 0x6000, .dst = 0x7000};
	uint64_t ev[4];

	(void)state;
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(3 * i + 1);
	assert_int_equal(sio_pgtable_map(pt, 0x6000, fx_pa(data), 4096, RW), 0);
	assert_int_equal(pthread_create(&d.tid, NULL, port_run, &d), 0);
	wait_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_STALL(ev), 1);
	assert_true(EV_INPUT(ev) == 0x7000);
	assert_int_equal(EV_RNW(ev), 0);
	assert_int_equal(
		sio_pgtable_map(pt, 0x7000, fx_pa(data) + 4096, 4096, RW), 0);
	/* invalidate and sync first, as a driver does before it resumes */
	fx_cmd(fx, CMD_TLBI_NH_ALL, 0);
	fx_cmd(fx, CMD_SYNC, 0);
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_RETRY, EV_STAG(ev));
	pthread_join(d.tid, NULL);
	assert_int_equal(d.rc_src, 0);
	assert_int_equal(d.rc_dst, 1);
	assert_int_equal(d.rc_again, 0);
	assert_memory_equal(data + 4096, data, 64);
	assert_int_equal(d.rc_dma, 0);
	assert_memory_equal(d.back, data, 64);
	wait_event(fx, ev);
	assert_int_equal(EV_SID(ev), 4);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A stall record is never lost: with the event queue disabled the
 * transaction waits, and its record appears once the queue is enabled.
 */
static void test_stall_waits_for_event_queue(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device d;
	uint64_t ev[4];

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8); /* EVENTQEN = 0 */
	device_start(&d, fx, 1, 0x4000, 0, 0);
	nap();
	assert_int_equal(__atomic_load_n(&d.finished, __ATOMIC_ACQUIRE), 0);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	wait_event(fx, ev);
	assert_int_equal(EV_STALL(ev), 1);
	fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(ev));
	assert_int_equal(device_join(&d), -EFAULT);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* A seam that holds a device after its record's write, once. */
struct written_gap {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	bool reached, go;
};

static void written_hook(void *opaque, enum smmu_test_point at)
{
	struct written_gap *w = opaque;

	if (at != SMMU_TEST_WRITTEN)
		return;
	pthread_mutex_lock(&w->lock);
	w->reached = true;
	pthread_cond_broadcast(&w->cv);
	while (!w->go)
		pthread_cond_wait(&w->cv, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/*
 * EVENTQEN goes to 0 while a record's write has just aborted and the
 * writer has not yet flagged it: the update completes only once the
 * abort is visible in GERROR.EVENTQ_ABT_ERR (6.3.9.4), and it is
 * flagged once, not again by the writer.
 */
static void test_evtq_disable_shows_abort(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct written_gap w = {.reached = false, .go = false};
	struct device d;

	(void)state;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cv, NULL);
	/* the queue in memory the bus does not have */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, 0x10000 | 4);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	fx->smmu->test_opaque = &w;
	fx->smmu->test_hook = written_hook;
	device_start(&d, fx, 5, 0x3000, 0, 0); /* STE 5 invalid: C_BAD_STE */
	pthread_mutex_lock(&w.lock);
	while (!w.reached)
		pthread_cond_wait(&w.cv, &w.lock);
	pthread_mutex_unlock(&w.lock);
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_CR0ACK), 0x1 | 0x8);
	assert_int_equal((sio_smmu_read32(fx->smmu, R_GERROR) ^
			  sio_smmu_read32(fx->smmu, R_GERRORN)) &
				 0x4,
			 0x4);
	pthread_mutex_lock(&w.lock);
	w.go = true;
	pthread_cond_broadcast(&w.cv);
	pthread_mutex_unlock(&w.lock);
	assert_int_equal(device_join(&d), -EFAULT);
	fx->smmu->test_hook = NULL;
	fx->smmu->test_opaque = NULL;
	assert_int_equal((sio_smmu_read32(fx->smmu, R_GERROR) ^
			  sio_smmu_read32(fx->smmu, R_GERRORN)) &
				 0x4,
			 0x4);
	assert_int_equal(fx->irqs[SIO_SMMU_IRQ_GERROR], 1);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.lock);
	fx_destroy(fx);
}

/*
 * SMMUEN goes to 0 while a transaction whose walk (with SMMUEN == 1)
 * decided it stalls has left its bus section without its record yet.
 * Completion of the update means no new transaction can become stalled
 * (6.3.9.6): it ends with an abort, and no Stall record appears.
 */
static void test_stall_gap_disable(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	uint64_t evs[4][4];
	struct device d;
	struct gap g;
	bool done;
	int n;

	(void)state;
	gap_install(fx, &g, true);
	device_start(&d, fx, 1, 0x3000, 0, 0);
	gap_wait_reached(&g);
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8); /* SMMUEN = 0 */
	gap_release(&g);
	done = device_done_soon(&d);
	n = fx_events(fx, evs, 4);
	/* Stalled after all: end it, to report the failure below. */
	while (!done && !n)
		n = fx_events(fx, evs, 4) + (nap(), 0);
	if (!done)
		fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(evs[0]));
	assert_int_equal(device_join(&d), -EFAULT);
	gap_remove(fx, &g);
	assert_true(done);
	assert_int_equal(n, 0);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * The shutdown of section 4.7.2.1 while a transaction whose walk decided
 * it stalls has left its bus section without its record yet: STE Config
 * abort, CFGI_STE, CMD_SYNC, whose completion makes the stall's record
 * visible (step 2d), CMD_STALL_TERM, which terminates it (4.7.2), and
 * no Stall record is written after that.
 */
static void test_stall_gap_shutdown(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	uint64_t synced[4][4], late[4][4];
	struct device d;
	struct gap g;
	int n_synced, n_late;
	bool done;

	(void)state;
	gap_install(fx, &g, true);
	device_start(&d, fx, 1, 0x3000, 0, 0);
	gap_wait_reached(&g);
	ste_valid(fx_ste(fx, 1), 0);
	fx_cmd(fx, CMD_CFGI_STE | C0_SID(1), 1);
	fx_cmd(fx, CMD_SYNC, 0);
	n_synced = fx_events(fx, synced, 4);
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
	fx_cmd(fx, CMD_SYNC, 0);
	gap_release(&g);
	done = device_done_soon(&d);
	n_late = fx_events(fx, late, 4);
	while (!done && !n_late)
		n_late = fx_events(fx, late, 4) + (nap(), 0);
	if (!done)
		fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(late[0]));
	assert_int_equal(device_join(&d), -EFAULT);
	gap_remove(fx, &g);
	assert_true(done);
	assert_int_equal(n_synced, 1);
	assert_int_equal(EV_ID(synced[0]), EVT_F_TRANSLATION);
	assert_int_equal(EV_STALL(synced[0]), 1);
	assert_int_equal(n_late, 0);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A terminate record decided by a walk before a CMD_SYNC that completes
 * an invalidation of its configuration is visible when the CMD_SYNC
 * completes, not after (4.7.3: no event of out-of-date configuration
 * becomes visible later).
 */
static void test_record_gap_sync(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t *cd;
	struct sio_pgtable *pt = stall_s1(fx, &cd);
	uint64_t synced[4][4], late[4][4];
	struct device d;
	struct gap g;
	int rc, n_synced, n_late;

	(void)state;
	bits_set(cd, 44, 1, 0); /* S = 0: terminate */
	bits_set(cd, 45, 1, 1); /* R: record */
	gap_install(fx, &g, true);
	device_start(&d, fx, 1, 0x3000, 0, 0);
	gap_wait_reached(&g);
	ste_valid(fx_ste(fx, 1), 0);
	fx_cmd(fx, CMD_CFGI_STE | C0_SID(1), 1);
	fx_cmd(fx, CMD_SYNC, 0);
	n_synced = fx_events(fx, synced, 4);
	gap_release(&g);
	rc = device_join(&d);
	n_late = fx_events(fx, late, 4);
	gap_remove(fx, &g);
	assert_int_equal(rc, -EFAULT);
	assert_int_equal(n_synced, 1);
	assert_int_equal(EV_ID(synced[0]), EVT_F_TRANSLATION);
	assert_int_equal(EV_STALL(synced[0]), 0);
	assert_int_equal(n_late, 0);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A stall whose record waits for room in the event queue is a stall
 * CMD_STALL_TERM terminates (4.7.2.1 step 2d: it is retried when the
 * queue becomes writable, or marked for termination).  A one-entry queue
 * filled by a C_BAD_STE; the 4.7.2.1 sequence ends the stall while the
 * queue stays full, and its record is never written.
 */
static void test_stall_term_while_queue_full(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct sio_smmu_txn bad = {.sid = 3};
	struct sio_smmu_result res;
	uint32_t prod, cons;
	struct device d;
	struct gap g;
	bool done;

	(void)state;
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x8);
	fx->evtq_log2 = 0;
	sio_smmu_write64(fx->smmu, R_EVENTQ_BASE, fx_pa(fx->evtq));
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	assert_int_equal(sio_smmu_translate(fx->smmu, &bad, &res), -EFAULT);
	prod = sio_smmu_read32(fx->smmu, R_EVENTQ_PROD);
	assert_int_equal(prod, 1); /* full: the wrap bits differ */
	/* The device's walk decides it stalls; the queue has no room. */
	gap_install(fx, &g, false);
	device_start(&d, fx, 1, 0x3000, 0, 0);
	gap_wait_reached(&g);
	ste_valid(fx_ste(fx, 1), 0);
	fx_cmd(fx, CMD_CFGI_STE | C0_SID(1), 1);
	fx_cmd(fx, CMD_SYNC, 0);
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
	fx_cmd(fx, CMD_SYNC, 0);
	done = device_done_soon(&d);
	cons = sio_smmu_read32(fx->smmu, R_EVENTQ_CONS);
	/* Not ended: room lets it retry, into the abort of the new STE. */
	if (!done)
		sio_smmu_write32(fx->smmu, R_EVENTQ_CONS, prod);
	assert_int_equal(device_join(&d), -EFAULT);
	gap_remove(fx, &g);
	assert_true(done);
	assert_int_equal(cons, 0);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_EVENTQ_PROD), prod);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * More stalls than the SMMU has slots for (64): one finds them all taken
 * and waits, without a record, until one is given back; then it stalls
 * as the others did, and CMD_STALL_TERM ends them all.
 */
#define SLOTS 64

static void test_stall_slots_all_taken(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct device *d = calloc(SLOTS + 1, sizeof(*d));
	uint64_t(*evs)[4] = calloc(SLOTS + 2, sizeof(*evs));
	int n = 0;

	(void)state;
	assert_non_null(d);
	assert_non_null(evs);
	for (int i = 0; i <= SLOTS; i++)
		device_start(&d[i], fx, 1, 0x100000 + 0x1000 * (uint64_t)i, 0,
			     0);
	while (n < SLOTS)
		n += fx_events(fx, evs + n, SLOTS + 2 - n) + (nap(), 0);
	nap();
	n += fx_events(fx, evs + n, SLOTS + 2 - n);
	assert_int_equal(n, SLOTS);
	fx_cmd(fx, CMD_RESUME | C0_SID(1), EV_STAG(evs[0]));
	wait_event(fx, evs[SLOTS]);
	assert_int_equal(EV_STALL(evs[SLOTS]), 1);
	assert_int_equal(EV_STAG(evs[SLOTS]), EV_STAG(evs[0]));
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
	for (int i = 0; i <= SLOTS; i++)
		assert_int_equal(device_join(&d[i]), -EFAULT);
	fx_no_event(fx);
	free(evs);
	free(d);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Configuration: CD.S with STE.S1STALLD is an illegal CD (5.5); without
 * the Stall model, RESUME and STALL_TERM are CERROR_ILL (4.7.1, 4.7.2).
 */
static void test_stall_configuration(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = stall_s1(fx, NULL);
	struct sio_smmu_result res;
	struct sio_smmu_txn t = {.sid = 1, .addr = 0x1000};
	struct sio_smmu_config cfg;
	uint64_t ev[4];

	(void)state;
	bits_set(fx_ste(fx, 1), 91, 1, 1); /* S1STALLD */
	fx_inv_all(fx);
	assert_int_equal(sio_smmu_translate(fx->smmu, &t, &res), -EFAULT);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_C_BAD_CD);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);

	sio_smmu_config_default(&cfg);
	cfg.stall_model = 1;
	fx = fx_create(&cfg);
	fx_cmd(fx, CMD_RESUME | C0_SID(1) | RESUME_RETRY, 0);
	assert_int_equal((sio_smmu_read32(fx->smmu, R_CMDQ_CONS) >> 24) & 0x7f,
			 1);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_GERROR) & 1, 1);
	/* Skip it, acknowledge, and try STALL_TERM. */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4);
	sio_smmu_write32(fx->smmu, R_CMDQ_CONS, 1);
	sio_smmu_write32(fx->smmu, R_GERRORN,
			 sio_smmu_read32(fx->smmu, R_GERROR));
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	fx_cmd(fx, CMD_STALL_TERM | C0_SID(1), 0);
	assert_int_equal((sio_smmu_read32(fx->smmu, R_CMDQ_CONS) >> 24) & 0x7f,
			 1);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stall_record_aborted),
		cmocka_unit_test(test_stall_resume_retry),
		cmocka_unit_test(test_stall_resume_matching_and_terminate),
		cmocka_unit_test(test_stall_term_and_disable),
		cmocka_unit_test(test_stall_stage2_and_dma),
		cmocka_unit_test(test_stall_in_port_batch),
		cmocka_unit_test(test_stall_waits_for_event_queue),
		cmocka_unit_test(test_stall_configuration),
		cmocka_unit_test(test_stall_gap_disable),
		cmocka_unit_test(test_stall_gap_shutdown),
		cmocka_unit_test(test_record_gap_sync),
		cmocka_unit_test(test_evtq_disable_shows_abort),
		cmocka_unit_test(test_stall_term_while_queue_full),
		cmocka_unit_test(test_stall_slots_all_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
