// SPDX-License-Identifier: MIT
/*
 * The I/OAT model driven as the kernel's VFIO selftest driver
 * (tools/testing/selftests/vfio/lib/drivers/ioat/ioat.c) drives it:
 * reset and poll for HALTED, one self-linked descriptor + CHAINADDR +
 * CHANCTRL + DMACOUNT, poll for DONE, SUSPEND, send_msi; and the error
 * halts.  Twice: by exact MMIO calls, and by loads and stores to the
 * memory-backed BAR that the device thread polls.  Every offset, bit and
 * layout below is written from drivers/dma/ioat/registers.h and hw.h, not
 * taken from the model's headers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include "devices/ioat/ioat.h"

/* registers.h */
#define VER_OFFSET	    0x08
#define XFERCAP_OFFSET	    0x01
#define CHANCNT_OFFSET	    0x00
#define INTRCTRL_OFFSET	    0x03
#define CHAN		    0x80
#define CHANCTRL	    (CHAN + 0x00)
#define CHANCMD		    (CHAN + 0x04)
#define DMACOUNT	    (CHAN + 0x06)
#define CHANSTS		    (CHAN + 0x08)
#define CHAINADDR	    (CHAN + 0x10)
#define CHANCMP		    (CHAN + 0x18)
#define CHANERR		    (CHAN + 0x28)
#define CMD_RESET	    0x20
#define CMD_SUSPEND	    0x04
#define CTRL_INT_REARM	    0x0001
#define CTRL_ANY_ERR_ABORT  0x0008
#define STS_DONE	    1
#define STS_SUSPENDED	    2
#define STS_HALTED	    3
#define ERR_SRC		    0x0001
#define ERR_DEST	    0x0002
#define ERR_CHAIN_ADDR	    0x0010
#define ERR_CONTROL	    0x0400
#define ERR_LENGTH	    0x0800
#define MSIX_VECTOR_CONTROL 0x08

/* hw.h struct ioat_dma_descriptor, ctl bits int_en 0, compl_write 3. */
struct desc {
	uint32_t size, ctl;
	uint64_t src, dst, next, rsv1, rsv2, user1, user2;
};
#define CTL_INT_EN	(1u << 0)
#define CTL_COMPL_WRITE (1u << 3)

/* Device memory: IOVA MEM_BASE.. is mem[]; anything else faults. */
#define MEM_BASE 0x10000000ull
#define MEM_SIZE (2 * MiB)

struct fx {
	struct sio_ioat *d;
	uint8_t *mem;
	int irqs;
	volatile uint8_t *page; /* the mapped BAR, in the polled mode */
	/*
	 * Orders the test's buffer accesses with the device's DMA for
	 * ThreadSanitizer, which cannot see ordering through the BAR page
	 * (two mappings of one memfd), as hardware would by its fences.
	 */
	pthread_mutex_t mem_lock;
};

static int flat_rw(void *opaque, uint64_t iova, void *buf, size_t len,
		   bool write, size_t *done)
{
	struct fx *f = opaque;

	*done = 0;
	pthread_mutex_lock(&f->mem_lock);
	pthread_mutex_unlock(&f->mem_lock);
	if (iova < MEM_BASE || iova - MEM_BASE > MEM_SIZE ||
	    len > MEM_SIZE - (iova - MEM_BASE))
		return -EFAULT;
	if (write)
		memcpy(f->mem + (iova - MEM_BASE), buf, len);
	else
		memcpy(buf, f->mem + (iova - MEM_BASE), len);
	*done = len;
	pthread_mutex_lock(&f->mem_lock);
	pthread_mutex_unlock(&f->mem_lock);
	return 0;
}

static void on_irq(void *opaque, unsigned int vector)
{
	struct fx *f = opaque;

	assert_int_equal(vector, 0);
	__atomic_add_fetch(&f->irqs, 1, __ATOMIC_RELAXED);
}

static uint64_t rd(struct fx *f, uint64_t off, unsigned int size)
{
	if (!f->page)
		return sio_ioat_mmio_read(f->d, off, size);
	pthread_mutex_lock(&f->mem_lock);
	pthread_mutex_unlock(&f->mem_lock);
	switch (size) {
	case 1:
		return *(volatile uint8_t *)(f->page + off);
	case 2:
		return *(volatile uint16_t *)(f->page + off);
	case 4:
		return *(volatile uint32_t *)(f->page + off);
	default:
		return *(volatile uint64_t *)(f->page + off);
	}
}

static void wr(struct fx *f, uint64_t off, unsigned int size, uint64_t v)
{
	if (!f->page) {
		sio_ioat_mmio_write(f->d, off, size, v);
		return;
	}
	pthread_mutex_lock(&f->mem_lock);
	pthread_mutex_unlock(&f->mem_lock);
	switch (size) {
	case 1:
		*(volatile uint8_t *)(f->page + off) = v;
		break;
	case 2:
		*(volatile uint16_t *)(f->page + off) = v;
		break;
	case 4:
		*(volatile uint32_t *)(f->page + off) = v;
		break;
	default:
		*(volatile uint64_t *)(f->page + off) = v;
		break;
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sio_ioat_cfg cfg = {
		.dma = {.rw = flat_rw, .opaque = f},
		.irq = on_irq,
		.irq_opaque = f,
	};

	assert_non_null(f);
	pthread_mutex_init(&f->mem_lock, NULL);
	f->mem = calloc(1, MEM_SIZE);
	assert_non_null(f->mem);
	assert_int_equal(sio_ioat_create(&cfg, &f->d), 0);
	sio_ioat_set_bus_master(f->d, true);
	*state = f;
	return 0;
}

static int setup_mapped(void **state)
{
	struct fx *f;
	void *p;

	setup(state);
	f = *state;
	p = mmap(NULL, SIO_IOAT_BAR0_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 sio_ioat_bar_memfd(f->d), 0);
	assert_true(p != MAP_FAILED);
	f->page = p;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sio_ioat_destroy(f->d);
	if (f->page)
		munmap((void *)f->page, SIO_IOAT_BAR0_SIZE);
	free(f->mem);
	free(f);
	return 0;
}

static unsigned int status(struct fx *f)
{
	return rd(f, CHANSTS, 8) & 7;
}

/* Poll as the selftest does, with a 5 s cap instead of forever. */
static unsigned int wait_status(struct fx *f, unsigned int want)
{
	struct timespec t0;
	unsigned int s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((s = status(f)) != want && sio_test_elapsed(&t0) < 5)
		usleep(10);
	return s;
}

/* ioat_reset(): CHANCMD.RESET, poll it clear, expect HALTED. */
static void reset(struct fx *f)
{
	struct timespec t0;

	wr(f, CHANCMD, 1, CMD_RESET);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (rd(f, CHANCMD, 1) & CMD_RESET)
		assert_true(sio_test_elapsed(&t0) < 5);
	assert_int_equal(status(f), STS_HALTED);
}

static uint64_t iova_of(struct fx *f, void *p)
{
	return MEM_BASE + ((uint8_t *)p - f->mem);
}

/* __ioat_memcpy_start(): the descriptor links to itself. */
static void kick(struct fx *f, uint64_t src, uint64_t dst, uint32_t size,
		 uint16_t count, uint32_t ctl)
{
	struct desc *d = (struct desc *)f->mem;
	uint64_t di = iova_of(f, d);

	*d = (struct desc){
		.size = size, .ctl = ctl, .src = src, .dst = dst, .next = di};
	wr(f, CHAINADDR, 8, di);
	wr(f, CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
	wr(f, DMACOUNT, 2, count);
}

/*
 * ioat_memcpy_wait(): DONE, then SUSPEND to SUSPENDED; or HALTED.  In
 * the polled mode the first reads after a kick from HALTED may still
 * show HALTED (docs/devices.md): there, HALTED only counts with an error.
 */
static unsigned int memcpy_wait(struct fx *f)
{
	struct timespec t0;
	unsigned int s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		s = status(f);
		if (s == STS_DONE)
			break;
		if (s == STS_HALTED && (!f->page || rd(f, CHANERR, 4)))
			return s;
		assert_true(sio_test_elapsed(&t0) < 5);
	}
	wr(f, CHANCMD, 1, CMD_SUSPEND);
	assert_int_equal(wait_status(f, STS_SUSPENDED), STS_SUSPENDED);
	return STS_DONE;
}

static void test_probe(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rd(f, VER_OFFSET, 1), 0x32);
	assert_int_equal(rd(f, CHANCNT_OFFSET, 1), 1);
	/* The selftest's max_memcpy_size is 1 << XFERCAP. */
	assert_int_equal(rd(f, XFERCAP_OFFSET, 1), 20);
	assert_int_equal(status(f), STS_HALTED);
	reset(f);
}

static void test_memcpy(void **state)
{
	struct fx *f = *state;
	uint8_t *src = f->mem + 4096, *dst = f->mem + 65536;
	int i;

	reset(f);
	wr(f, INTRCTRL_OFFSET, 1, MSIX_VECTOR_CONTROL);
	for (i = 0; i < 3; i++) {
		memset(src, 0x40 + i, 4096);
		memset(dst, 0, 4096);
		/* The same descriptor, chain address and count each time. */
		kick(f, iova_of(f, src), iova_of(f, dst), 4096, 1, 0);
		assert_int_equal(memcpy_wait(f), STS_DONE);
		assert_memory_equal(src, dst, 4096);
		/* CHANSTS names the last completed descriptor. */
		assert_int_equal(rd(f, CHANSTS, 8) & ~0x3full,
				 iova_of(f, f->mem));
	}
	/* count > 1: the self-linked descriptor runs count times. */
	kick(f, iova_of(f, src), iova_of(f, dst), 4096, 100, 0);
	assert_int_equal(memcpy_wait(f), STS_DONE);
	assert_int_equal(f->irqs, 0);
}

/*
 * A linked chain, as the kernel's ioat driver builds its ring: each
 * descriptor's next field names the following one.  40 copies (more
 * than the engine performs between two looks at its registers) with an
 * interrupt asked for in the middle and a completion write at the end;
 * then the same chain with a bad source in descriptor 6: 0-5 land, 6
 * halts the channel with CHANSTS naming 5, 7 never runs.
 */
#define CHAIN 40

static uint64_t chain_desc(struct fx *f, int i)
{
	return iova_of(f, f->mem + (uint64_t)i * 64);
}

static void build_chain(struct fx *f, int n, int int_at, int bad_at)
{
	struct desc *d = (struct desc *)f->mem;

	for (int i = 0; i < n; i++) {
		uint8_t *src = f->mem + 8192 + i * 64;
		uint8_t *dst = f->mem + 65536 + i * 64;

		memset(src, 0x20 + i, 64);
		memset(dst, 0, 64);
		d[i] = (struct desc){
			.size = 64,
			.ctl = (i == int_at ? CTL_INT_EN : 0) |
			       (i == n - 1 ? CTL_COMPL_WRITE : 0),
			.src = i == bad_at ? 0x1000 : iova_of(f, src),
			.dst = iova_of(f, dst),
			.next = chain_desc(f, (i + 1) % n),
		};
	}
}

static void test_chain(void **state)
{
	struct fx *f = *state;
	uint64_t *cmp = (uint64_t *)(f->mem + 32768);
	uint8_t zero[64] = {0};
	struct timespec t0;

	reset(f);
	wr(f, INTRCTRL_OFFSET, 1, MSIX_VECTOR_CONTROL);
	build_chain(f, CHAIN, 17, -1);
	*cmp = 0;
	wr(f, CHANCMP, 8, iova_of(f, cmp));
	wr(f, CHAINADDR, 8, chain_desc(f, 0));
	wr(f, CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
	wr(f, DMACOUNT, 2, CHAIN);
	assert_int_equal(memcpy_wait(f), STS_DONE);
	for (int i = 0; i < CHAIN; i++)
		assert_memory_equal(f->mem + 65536 + i * 64,
				    f->mem + 8192 + i * 64, 64);
	assert_int_equal(__atomic_load_n(cmp, __ATOMIC_ACQUIRE),
			 chain_desc(f, CHAIN - 1) | STS_DONE);
	assert_int_equal(rd(f, CHANSTS, 8) & ~0x3full,
			 chain_desc(f, CHAIN - 1));
	assert_int_equal(__atomic_load_n(&f->irqs, __ATOMIC_RELAXED), 1);

	reset(f);
	build_chain(f, 8, -1, 6);
	wr(f, CHAINADDR, 8, chain_desc(f, 0));
	wr(f, CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
	wr(f, DMACOUNT, 2, 8);
	assert_int_equal(memcpy_wait(f), STS_HALTED);
	assert_int_equal(rd(f, CHANERR, 4), ERR_SRC);
	/*
	 * Polled, the wait may have ended on the reset's HALTED and the new
	 * CHANERR (published first, docs/devices.md): CHANSTS follows.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((rd(f, CHANSTS, 8) & ~0x3full) != chain_desc(f, 5))
		assert_true(sio_test_elapsed(&t0) < 5);
	assert_int_equal(status(f), STS_HALTED);
	for (int i = 0; i < 6; i++)
		assert_memory_equal(f->mem + 65536 + i * 64,
				    f->mem + 8192 + i * 64, 64);
	assert_memory_equal(f->mem + 65536 + 6 * 64, zero, 64);
	assert_memory_equal(f->mem + 65536 + 7 * 64, zero, 64);
}

static void test_completion_writeback(void **state)
{
	struct fx *f = *state;
	uint64_t *cmp = (uint64_t *)(f->mem + 8192);

	reset(f);
	*cmp = 0;
	wr(f, CHANCMP, 8, iova_of(f, cmp));
	kick(f, iova_of(f, f->mem + 4096), iova_of(f, f->mem + 65536), 64, 1,
	     CTL_COMPL_WRITE);
	assert_int_equal(memcpy_wait(f), STS_DONE);
	/* The CHANSTS value: descriptor address | DONE. */
	assert_int_equal(__atomic_load_n(cmp, __ATOMIC_ACQUIRE),
			 iova_of(f, f->mem) | STS_DONE);
}

static void test_send_msi(void **state)
{
	struct fx *f = *state;
	uint64_t *s = (uint64_t *)(f->mem + 4096), *d = s + 1;
	struct timespec t0;

	reset(f);
	wr(f, INTRCTRL_OFFSET, 1, MSIX_VECTOR_CONTROL);
	*s = 0x1122334455667788ull;
	kick(f, iova_of(f, s), iova_of(f, d), 8, 1, CTL_INT_EN);
	assert_int_equal(memcpy_wait(f), STS_DONE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&f->irqs, __ATOMIC_RELAXED))
		assert_true(sio_test_elapsed(&t0) < 5);
	assert_int_equal(*d, *s);
	/* Re-armed by the next kick: a second interrupt. */
	kick(f, iova_of(f, s), iova_of(f, d), 8, 1, CTL_INT_EN);
	assert_int_equal(memcpy_wait(f), STS_DONE);
	while (__atomic_load_n(&f->irqs, __ATOMIC_RELAXED) < 2)
		assert_true(sio_test_elapsed(&t0) < 5);
}

static void expect_halt(struct fx *f, uint32_t err)
{
	assert_int_equal(memcpy_wait(f), STS_HALTED);
	assert_int_equal(rd(f, CHANERR, 4), err);
	/* ioat_handle_error(): reset clears it. */
	reset(f);
	assert_int_equal(rd(f, CHANERR, 4), 0);
}

static void test_unmapped(void **state)
{
	struct fx *f = *state;
	uint64_t good = iova_of(f, f->mem + 4096), bad = 0x1000;

	reset(f);
	kick(f, bad, good, 64, 1, 0);
	expect_halt(f, ERR_SRC);
	kick(f, good, bad, 64, 1, 0);
	expect_halt(f, ERR_DEST);
	/* After an error and a reset the channel works again. */
	kick(f, good, iova_of(f, f->mem + 65536), 64, 1, 0);
	assert_int_equal(memcpy_wait(f), STS_DONE);
}

static void test_bad_descriptor(void **state)
{
	struct fx *f = *state;
	uint64_t a = iova_of(f, f->mem + 4096), b = iova_of(f, f->mem + 8192);

	reset(f);
	kick(f, a, b, (1u << 20) + 1, 1, 0);
	expect_halt(f, ERR_LENGTH);
	kick(f, a, b, 64, 1, 0x7fu << 24);
	expect_halt(f, ERR_CONTROL);
	/* A chain address nobody maps. */
	wr(f, CHAINADDR, 8, 0x2000);
	wr(f, CHANCTRL, 2, CTRL_INT_REARM | CTRL_ANY_ERR_ABORT);
	wr(f, DMACOUNT, 2, 1);
	expect_halt(f, ERR_CHAIN_ADDR);
}

static void test_bus_master_off(void **state)
{
	struct fx *f = *state;
	uint8_t *src = f->mem + 4096, *dst = f->mem + 65536;

	reset(f);
	sio_ioat_set_bus_master(f->d, false);
	memset(src, 0x5a, 64);
	memset(dst, 0, 64);
	kick(f, iova_of(f, src), iova_of(f, dst), 64, 1, 0);
	/* No request leaves the function: the descriptor fetch fails. */
	expect_halt(f, ERR_CHAIN_ADDR);
	assert_int_equal(dst[0], 0);
	sio_ioat_set_bus_master(f->d, true);
}

static void test_chanerr_w1c(void **state)
{
	struct fx *f = *state;

	reset(f);
	kick(f, 0x1000, iova_of(f, f->mem + 4096), 64, 1, 0);
	assert_int_equal(memcpy_wait(f), STS_HALTED);
	assert_int_equal(rd(f, CHANERR, 4), ERR_SRC);
	/* All ones clears in both modes (a changed value is seen). */
	wr(f, CHANERR, 4, 0xffffffff);
	/* a mapped BAR is polled by the device: give it time, not a guess */
	for (int i = 0; f->page && i < 2000 && rd(f, CHANERR, 4); i++)
		usleep(1000);
	assert_int_equal(rd(f, CHANERR, 4), 0);
	reset(f);
}

static void test_flr(void **state)
{
	struct fx *f = *state;

	reset(f);
	wr(f, INTRCTRL_OFFSET, 1, MSIX_VECTOR_CONTROL);
	sio_ioat_flr(f->d);
	assert_int_equal(sio_ioat_mmio_read(f->d, INTRCTRL_OFFSET, 1), 0);
	assert_int_equal(sio_ioat_mmio_read(f->d, CHANSTS, 8) & 7, STS_HALTED);
	/* Odd sizes and misaligned accesses read all-ones. */
	assert_int_equal(sio_ioat_mmio_read(f->d, CHANSTS + 1, 8), ~0ull);
	assert_int_equal(sio_ioat_mmio_read(f->d, 0, 3), ~0ull);
	assert_int_equal(sio_ioat_mmio_read(f->d, SIO_IOAT_BAR0_SIZE, 1),
			 ~0ull);
}

#define BOTH(t)                                              \
	cmocka_unit_test_setup_teardown(t, setup, teardown), \
		cmocka_unit_test_setup_teardown(t, setup_mapped, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_probe),
		BOTH(test_memcpy),
		BOTH(test_chain),
		BOTH(test_completion_writeback),
		BOTH(test_send_msi),
		BOTH(test_unmapped),
		BOTH(test_bad_descriptor),
		BOTH(test_bus_master_off),
		BOTH(test_chanerr_w1c),
		cmocka_unit_test_setup_teardown(test_flr, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
