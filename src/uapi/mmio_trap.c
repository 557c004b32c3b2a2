// SPDX-License-Identifier: MIT
/*
 * Trapped MMIO: stores to a device's registers mapped into the program.
 *
 * A real BAR mapping reaches the device on every store; a page of memory
 * does not, so a device model that only polls it sees a store late, and
 * a program that reads a status right after its doorbell (the kernel's
 * VFIO selftest driver does) reads the status from before.  So the page
 * is mapped read-only, and a store to it faults: the library's SIGSEGV
 * handler (user.c) finds the trapped range, decodes the store at the
 * faulting instruction, hands offset, size and value to the device as an
 * MMIO write (which updates the page before it returns), and resumes
 * after the instruction.  Loads are plain loads of the page.
 *
 * The instructions decoded are the ones compilers emit for volatile
 * stores of 1, 2, 4 and 8 bytes: MOV r/m, reg (88, 89), MOV r/m, imm
 * (C6 /0, C7 /0) and MOVNTI (0F C3), with operand-size, segment and REX
 * prefixes and any ModRM/SIB addressing.  Any other instruction (a
 * string store, a vector store) cannot be emulated here: the range is
 * then made writable for good and the device goes back to polling it,
 * which is slower to notice but loses nothing.
 *
 * Signal handling is process-wide by nature, so the registry is too: a
 * fixed table that the fault handler reads without locks.  A slot being
 * removed is cleared first, then its remover waits for handlers still
 * inside its callback.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "uapi.h"

#if defined(__x86_64__) && defined(REG_RIP)

#define TRAP_SLOTS 64

struct trap_slot {
	_Atomic uintptr_t start; /* 0: free */
	_Atomic size_t len;
	_Atomic(sio_user_trap_fn) fn;
	_Atomic(void *) opaque;
	_Atomic int users; /* handlers inside fn */
};

static struct trap_slot traps[TRAP_SLOTS];
static pthread_mutex_t trap_lock = PTHREAD_MUTEX_INITIALIZER;

/* One decoded store: its length, width and the value it writes. */
struct x86_store {
	unsigned int len;
	unsigned int size;
	uint64_t value;
};

/* gregs index of general register @n (0-15, as ModRM/REX number them) */
static const int gpr[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

/* The length of a ModRM operand (ModRM, SIB, displacement) at @p. */
static unsigned int modrm_len(const uint8_t *p)
{
	unsigned int mod = p[0] >> 6, rm = p[0] & 7, len = 1;

	if (mod == 3)
		return 0; /* a register operand: not a store to memory */
	if (rm == 4) {
		len++; /* SIB */
		if (mod == 0 && (p[1] & 7) == 5)
			len += 4; /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		len += 4; /* RIP-relative disp32 */
	}
	if (mod == 1)
		len += 1;
	else if (mod == 2)
		len += 4;
	return len;
}

static uint64_t imm(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

/* Decode the store at @ip; 0, or -1 for an instruction we do not emulate. */
static int decode_store(const uint8_t *ip, const greg_t *regs,
			struct x86_store *st)
{
	const uint8_t *p = ip;
	bool opsize16 = false;
	unsigned int rex = 0, op, reg, ml;
	uint64_t v;

	for (;; p++) {
		if (*p == 0x66)
			opsize16 = true;
		else if (*p == 0x2e || *p == 0x3e || *p == 0x26 || *p == 0x36 ||
			 *p == 0x64 || *p == 0x65 || *p == 0x67)
			continue;
		else
			break;
		if (p - ip > 8)
			return -1;
	}
	if ((*p & 0xf0) == 0x40)
		rex = *p++;
	op = *p++;
	if (op == 0x0f) {
		if (*p++ != 0xc3) /* MOVNTI */
			return -1;
		op = 0x1c3;
	}
	if (op != 0x88 && op != 0x89 && op != 0xc6 && op != 0xc7 && op != 0x1c3)
		return -1;
	reg = ((*p >> 3) & 7) | (rex & 4 ? 8 : 0);
	ml = modrm_len(p);
	if (!ml)
		return -1;
	if ((op == 0xc6 || op == 0xc7) && (reg & 7))
		return -1; /* C6/C7 /0 only */
	p += ml;

	if (op == 0x88 || op == 0xc6)
		st->size = 1;
	else if (rex & 8)
		st->size = 8;
	else if (opsize16 && op != 0x1c3)
		st->size = 2;
	else
		st->size = 4;

	switch (op) {
	case 0x88:
		/* without REX, registers 4-7 are AH, CH, DH, BH */
		if (!rex && reg >= 4 && reg < 8)
			v = (uint64_t)regs[gpr[reg - 4]] >> 8;
		else
			v = (uint64_t)regs[gpr[reg]];
		break;
	case 0x89:
	case 0x1c3:
		v = (uint64_t)regs[gpr[reg]];
		break;
	case 0xc6:
		v = imm(p, 1);
		p += 1;
		break;
	default: /* C7: imm16, or imm32 sign-extended to 64 with REX.W */
		if (st->size == 2) {
			v = imm(p, 2);
			p += 2;
		} else {
			v = (uint64_t)(int64_t)(int32_t)imm(p, 4);
			p += 4;
		}
		break;
	}
	st->value = st->size == 8 ? v : v & ((1ull << (8 * st->size)) - 1);
	st->len = (unsigned int)(p - ip);
	return 0;
}

/* Make [start, start + len) writable for good: the device polls it. */
static void give_up(struct trap_slot *t, uintptr_t start, size_t len)
{
	static const char msg[] = "softiommu: an MMIO store it cannot emulate; "
				  "the device "
				  "polls the mapping instead\n";

	atomic_store(&t->start, 0);
	mprotect((void *)start, len, PROT_READ | PROT_WRITE);
	(void)!write(2, msg, sizeof(msg) - 1);
}

bool sio_mmio_trap_fault(siginfo_t *info, void *uctx)
{
	ucontext_t *uc = uctx;
	uintptr_t a = (uintptr_t)info->si_addr;
	greg_t *regs = uc->uc_mcontext.gregs;

	/* a write (bit 1 of the x86 page-fault error code), present or not */
	if (info->si_signo != SIGSEGV || !(regs[REG_ERR] & 2))
		return false;
	for (unsigned int i = 0; i < TRAP_SLOTS; i++) {
		struct trap_slot *t = &traps[i];
		uintptr_t s = atomic_load(&t->start);
		size_t len = atomic_load(&t->len);
		struct x86_store st;

		if (!s || a < s || a - s >= len)
			continue;
		atomic_fetch_add(&t->users, 1);
		if (atomic_load(&t->start) != s) {
			atomic_fetch_sub(&t->users, 1);
			continue;
		}
		if (decode_store((const uint8_t *)regs[REG_RIP], regs, &st)) {
			give_up(t, s, len);
		} else {
			atomic_load (&t->fn)(atomic_load(&t->opaque), a - s,
					     st.size, st.value);
			regs[REG_RIP] += st.len;
		}
		atomic_fetch_sub(&t->users, 1);
		return true;
	}
	return false;
}

int sio_user_trap_add(void *addr, size_t len, sio_user_trap_fn fn, void *opaque)
{
	int rc = -ENOSPC;

	if (!addr || !len || !fn)
		return -EINVAL;
	if (!sio_user_fault_handler_armed())
		return -EOPNOTSUPP;
	pthread_mutex_lock(&trap_lock);
	for (unsigned int i = 0; i < TRAP_SLOTS; i++) {
		struct trap_slot *t = &traps[i];

		if (atomic_load(&t->start) || atomic_load(&t->users))
			continue;
		atomic_store(&t->len, len);
		atomic_store(&t->fn, fn);
		atomic_store(&t->opaque, opaque);
		atomic_store(&t->start, (uintptr_t)addr);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&trap_lock);
	return rc;
}

bool sio_user_trap_remove(void *addr, size_t *len, void **opaque)
{
	bool found = false;

	pthread_mutex_lock(&trap_lock);
	for (unsigned int i = 0; i < TRAP_SLOTS; i++) {
		struct trap_slot *t = &traps[i];

		if (atomic_load(&t->start) != (uintptr_t)addr)
			continue;
		*len = atomic_load(&t->len);
		*opaque = atomic_load(&t->opaque);
		atomic_store(&t->start, 0);
		found = true;
		/* a handler already in the callback finishes first */
		while (atomic_load(&t->users))
			sched_yield();
		break;
	}
	pthread_mutex_unlock(&trap_lock);
	return found;
}

bool sio_user_trap_find(uintptr_t first, uintptr_t last, void **addr,
			size_t *len)
{
	for (unsigned int i = 0; i < TRAP_SLOTS; i++) {
		uintptr_t s = atomic_load(&traps[i].start);
		size_t n = atomic_load(&traps[i].len);

		if (s && first < s + n && last >= s) {
			*addr = (void *)s;
			*len = n;
			return true;
		}
	}
	return false;
}

#else

bool sio_mmio_trap_fault(siginfo_t *info, void *uctx)
{
	(void)info, (void)uctx;
	return false;
}

int sio_user_trap_add(void *addr, size_t len, sio_user_trap_fn fn, void *opaque)
{
	(void)addr, (void)len, (void)fn, (void)opaque;
	return -EOPNOTSUPP;
}

bool sio_user_trap_remove(void *addr, size_t *len, void **opaque)
{
	(void)addr, (void)len, (void)opaque;
	return false;
}

bool sio_user_trap_find(uintptr_t first, uintptr_t last, void **addr,
			size_t *len)
{
	(void)first, (void)last, (void)addr, (void)len;
	return false;
}

#endif
