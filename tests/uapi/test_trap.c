// SPDX-License-Identifier: MIT
/*
 * Trapped MMIO stores: a read-only page whose stores reach a callback as
 * register writes.  Each store below is one instruction in the encoding
 * under test (written out in asm so the compiler cannot pick another),
 * and the expected offset, width and value are the instruction's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include "uapi/uapi.h"

#if defined(__x86_64__)

struct rec {
	int n;
	uint64_t off[8];
	unsigned int size[8];
	uint64_t val[8];
};

static void on_store(void *opaque, uint64_t off, unsigned int size,
		     uint64_t val)
{
	struct rec *r = opaque;

	if (r->n < 8) {
		r->off[r->n] = off;
		r->size[r->n] = size;
		r->val[r->n] = val;
	}
	r->n++;
}

struct fx {
	uint8_t *page, *fresh;
	long pg;
	struct rec rec;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pg = sysconf(_SC_PAGESIZE);
	f->page = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->page != MAP_FAILED);
	memset(f->page, 0xee, (size_t)f->pg);
	assert_int_equal(mprotect(f->page, (size_t)f->pg, PROT_READ), 0);
	/* a page never touched: its first store faults as not present */
	f->fresh = mmap(NULL, (size_t)f->pg, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->fresh != MAP_FAILED);
	assert_int_equal(sio_user_trap_add(f->fresh, (size_t)f->pg, on_store,
					   &f->rec),
			 0);
	assert_int_equal(sio_user_trap_add(f->page, (size_t)f->pg, on_store,
					   &f->rec),
			 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	size_t len = 0;
	void *opaque;

	sio_user_trap_remove(f->page, &len, &opaque);
	sio_user_trap_remove(f->fresh, &len, &opaque);
	munmap(f->page, (size_t)f->pg);
	munmap(f->fresh, (size_t)f->pg);
	free(f);
	return 0;
}

/*
 * The test framework installs its SIGSEGV handler at the start of each
 * test, in front of ours; a uAPI call would put ours back, so do that.
 */
static void rearm(void)
{
	assert_true(sio_user_fault_handler_armed());
}

static void expect(struct fx *f, int i, uint64_t off, unsigned int size,
		   uint64_t val)
{
	assert_true(f->rec.n > i);
	assert_int_equal(f->rec.off[i], off);
	assert_int_equal(f->rec.size[i], size);
	assert_int_equal(f->rec.val[i], val);
}

/* MOV r/m, reg in every width, REX registers and AH among them. */
static void test_mov_reg(void **state)
{
	struct fx *f = *state;
	uint8_t *p = f->page;
	uint64_t v = 0x1122334455667788ull;

	rearm();

	__asm__ volatile("movb %%al, 0x10(%0)" ::"r"(p), "a"(v) : "memory");
	/* a legacy base register: AH cannot be encoded with REX */
	__asm__ volatile("movb %%ah, 0x11(%0)" ::"c"(p), "a"(v) : "memory");
	__asm__ volatile("movw %%ax, 0x12(%0)" ::"r"(p), "a"(v) : "memory");
	__asm__ volatile("movl %%eax, 0x14(%0)" ::"r"(p), "a"(v) : "memory");
	__asm__ volatile("movq %%rax, 0x18(%0)" ::"r"(p), "a"(v) : "memory");
	__asm__ volatile("mov %1, %%r9\n\tmovq %%r9, 0x20(%0)" ::"r"(p), "r"(v)
			 : "r9", "memory");
	__asm__ volatile("mov %1, %%rsi\n\tmovb %%sil, 0x28(%0)" ::"r"(p),
			 "r"(v)
			 : "rsi", "memory");
	expect(f, 0, 0x10, 1, 0x88);
	expect(f, 1, 0x11, 1, 0x77);
	expect(f, 2, 0x12, 2, 0x7788);
	expect(f, 3, 0x14, 4, 0x55667788);
	expect(f, 4, 0x18, 8, v);
	expect(f, 5, 0x20, 8, v);
	expect(f, 6, 0x28, 1, 0x88);
	assert_int_equal(f->rec.n, 7);
	/* the page itself is the device's: the stores did not land there */
	assert_int_equal(p[0x10], 0xee);
	assert_int_equal(p[0x18], 0xee);
}

/* MOV r/m, imm; SIB with index and scale; disp32; MOVNTI. */
static void test_mov_imm_and_addressing(void **state)
{
	struct fx *f = *state;
	uint8_t *p = f->page;
	uint64_t idx = 3, v = 0xcafef00d;

	rearm();

	__asm__ volatile("movb $0x5a, 0x30(%0)" ::"r"(p) : "memory");
	__asm__ volatile("movw $0x1234, 0x32(%0)" ::"r"(p) : "memory");
	__asm__ volatile("movl $0x89abcdef, 0x34(%0)" ::"r"(p) : "memory");
	__asm__ volatile("movq $-2, 0x38(%0)" ::"r"(p) : "memory");
	__asm__ volatile("movl $7, 0x40(%0,%1,8)" ::"r"(p), "r"(idx)
			 : "memory");
	__asm__ volatile("movl $9, 0x400(%0)" ::"r"(p) : "memory");
	__asm__ volatile("movnti %1, 0x48(%0)" ::"r"(p), "r"(v) : "memory");
	__asm__ volatile("movl $5, 0x10(%0)" ::"r"(f->fresh) : "memory");
	expect(f, 0, 0x30, 1, 0x5a);
	expect(f, 1, 0x32, 2, 0x1234);
	expect(f, 2, 0x34, 4, 0x89abcdef);
	expect(f, 3, 0x38, 8, 0xfffffffffffffffeull);
	expect(f, 4, 0x40 + 3 * 8, 4, 7);
	expect(f, 5, 0x400, 4, 9);
	expect(f, 6, 0x48, 8, v);
	expect(f, 7, 0x10, 4, 5);
	assert_int_equal(f->rec.n, 8);
}

/*
 * A store it cannot emulate (REP STOSB) does not crash: the mapping is
 * made writable and the store lands in the page, for a device to poll;
 * the trap is gone.
 */
static void test_unknown_store_falls_back(void **state)
{
	struct fx *f = *state;
	void *dst = f->page + 0x100, *addr;
	size_t n = 16, len;

	rearm();

	__asm__ volatile("rep stosb"
			 : "+D"(dst), "+c"(n)
			 : "a"(0x42)
			 : "memory");
	assert_int_equal(f->rec.n, 0);
	assert_int_equal(f->page[0x100], 0x42);
	assert_int_equal(f->page[0x10f], 0x42);
	assert_false(sio_user_trap_find((uintptr_t)f->page,
					(uintptr_t)f->page + 1, &addr, &len));
}

/* Outside a trapped range a fault is still the program's. */
static sigjmp_buf jmp;

static void own_segv(int sig)
{
	(void)sig;
	siglongjmp(jmp, 1);
}

static void test_other_faults_are_the_programs(void **state)
{
	struct fx *f = *state;
	uint8_t *ro = mmap(NULL, (size_t)f->pg, PROT_READ,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct sigaction sa = {.sa_handler = own_segv}, old;
	volatile int seen = 0;

	assert_true(ro != MAP_FAILED);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
	/* the library's handler goes back in front, chaining to ours */
	assert_true(sio_user_fault_handler_armed());
	if (!sigsetjmp(jmp, 1))
		*(volatile uint8_t *)ro = 1;
	else
		seen = 1;
	assert_int_equal(seen, 1);
	/* and a trapped store still works */
	__asm__ volatile("movb $1, 0x8(%0)" ::"r"(f->page) : "memory");
	expect(f, 0, 8, 1, 1);
	sigaction(SIGSEGV, &old, NULL);
	munmap(ro, (size_t)f->pg);
}

static void test_registry(void **state)
{
	struct fx *f = *state;
	void *addr;
	size_t len;

	rearm();

	assert_int_equal(sio_user_trap_add(NULL, 1, on_store, NULL), -EINVAL);
	assert_true(sio_user_trap_find((uintptr_t)f->page + 5,
				       (uintptr_t)f->page + 5, &addr, &len));
	assert_ptr_equal(addr, f->page);
	assert_int_equal(len, f->pg);
	assert_false(sio_user_trap_find((uintptr_t)f->page + f->pg,
					(uintptr_t)f->page + 2 * f->pg, &addr,
					&len));
	assert_true(sio_user_trap_remove(f->page, &len, &addr));
	assert_ptr_equal(addr, &f->rec);
	assert_false(sio_user_trap_remove(f->page, &len, &addr));
	assert_int_equal(sio_user_trap_add(f->page, (size_t)f->pg, on_store,
					   &f->rec),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mov_reg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mov_imm_and_addressing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_store_falls_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_other_faults_are_the_programs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	return 0;
}

#endif
