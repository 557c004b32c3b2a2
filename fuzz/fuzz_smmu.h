/* SPDX-License-Identifier: MIT */
/*
 * The SMMU fuzzers' machine: an SMMUv3 model alone on a bus whose only
 * registration is a bounded arena, mapped at a low address (so every
 * OAS can reach it) between PROT_NONE guard pages, followed by a canary
 * region that is mapped and writable but never registered: a structure
 * that points there must end in an external abort, and the canary's
 * pattern proves no write got through.  Register offsets are the
 * architecture's (section 6.3), written here independently of the
 * model's definitions.
 */
#ifndef SIO_FUZZ_SMMU_H
#define SIO_FUZZ_SMMU_H

#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include <softiommu/mem.h>
#include <softiommu/smmu.h>

#include "fuzz_common.h"

#define R_IDR0		  0x00
#define R_IDR1		  0x04
#define R_CR0		  0x20
#define R_CR0ACK	  0x24
#define R_CR1		  0x28
#define R_CR2		  0x2c
#define R_GBPA		  0x44
#define R_IRQ_CTRL	  0x50
#define R_GERROR	  0x60
#define R_GERRORN	  0x64
#define R_STRTAB_BASE	  0x80
#define R_STRTAB_BASE_CFG 0x88
#define R_CMDQ_BASE	  0x90
#define R_CMDQ_PROD	  0x98
#define R_CMDQ_CONS	  0x9c
#define R_EVENTQ_BASE	  0xa0
#define R_PRIQ_BASE	  0xc0
#define R_EVENTQ_PROD	  0x100a8
#define R_EVENTQ_CONS	  0x100ac
#define R_PRIQ_PROD	  0x100c8
#define R_PRIQ_CONS	  0x100cc

#define CR0_SMMUEN  (1u << 0)
#define CR0_PRIQEN  (1u << 1)
#define CR0_EVTQEN  (1u << 2)
#define CR0_CMDQEN  (1u << 3)
#define GERROR_CMDQ (1u << 0)

#define ARENA_SIZE  (256u << 10)
#define CANARY_SIZE (64u << 10)
#define CANARY_BYTE 0xa5

/* Fixed places for the queues a bring-up programs (the rest is free). */
#define ARENA_STRTAB 0x00000 /* up to 64 KiB of STEs */
#define ARENA_CMDQ   0x10000 /* up to 4 KiB: 256 commands */
#define ARENA_EVTQ   0x11000 /* up to 4 KiB: 128 records */
#define ARENA_PRIQ   0x12000 /* up to 4 KiB: 256 requests */
#define ARENA_FREE   0x13000

struct fz_machine {
	uint8_t *map;	 /* guard | arena | guard | canary | guard */
	uint8_t *arena;	 /* registered read-write */
	uint8_t *canary; /* mapped, never registered */
	uint8_t *guard;	 /* PROT_NONE, after the arena */
	struct sio_mem_bus *bus;
};

static inline uint64_t fz_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Map the arena once per process; the bus is made per input. */
static inline void fz_machine_map(struct fz_machine *m)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = pg + ARENA_SIZE + pg + CANARY_SIZE + pg;
	/* low, so OAS 32 reaches it; 256 KiB-aligned for table bases */
	void *want = (void *)(uintptr_t)(0x40000000 - pg);

	m->map = mmap(want, len, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (m->map == MAP_FAILED)
		m->map = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			      -1, 0);
	if (m->map == MAP_FAILED)
		abort();
	m->arena = m->map + pg;
	m->guard = m->arena + ARENA_SIZE;
	m->canary = m->guard + pg;
	if (mprotect(m->arena, ARENA_SIZE, PROT_READ | PROT_WRITE) ||
	    mprotect(m->canary, CANARY_SIZE, PROT_READ | PROT_WRITE))
		abort();
}

static inline void fz_machine_reset(struct fz_machine *m)
{
	memset(m->arena, 0, ARENA_SIZE);
	memset(m->canary, CANARY_BYTE, CANARY_SIZE);
	if (sio_mem_bus_create(&m->bus))
		abort();
	if (sio_mem_register(m->bus, fz_pa(m->arena), ARENA_SIZE, SIO_MEM_RW,
			     m))
		abort();
}

/* After the SMMU is destroyed: the canary must be intact. */
static inline void fz_machine_check(struct fz_machine *m)
{
	static uint8_t pattern[CANARY_SIZE];

	if (pattern[0] != CANARY_BYTE)
		memset(pattern, CANARY_BYTE, sizeof(pattern));
	/* one comparison, not 64K instrumented ones: this runs every input */
	if (memcmp(m->canary, pattern, CANARY_SIZE)) {
		for (size_t i = 0; i < CANARY_SIZE; i++)
			FZ_CHECK(m->canary[i] == CANARY_BYTE,
				 "unregistered memory written at canary + %#zx",
				 i);
	}
	sio_mem_bus_destroy(m->bus);
	m->bus = NULL;
}

/*
 * A "physical" address for a structure's pointer field: in the arena
 * mostly, sometimes in the canary, the guard page, or nowhere.
 */
static inline uint64_t fz_machine_pa(struct fz_machine *m, struct fz_in *in)
{
	uint8_t c = fz_u8(in);
	uint64_t off = (uint64_t)fz_u8(in) << 10 | (uint64_t)(c >> 3) << 5;

	switch (c & 7) {
	case 5:
		return fz_pa(m->canary) + off % CANARY_SIZE;
	case 6:
		return fz_pa(m->guard) + (off & 0xfff);
	case 7:
		return off << 12; /* low, unmapped */
	default:
		return fz_pa(m->arena) + off % ARENA_SIZE;
	}
}

/* A configuration from the input; each fuzzer sets the stall model. */
static inline int fz_config(struct fz_in *in, struct sio_smmu_config *cfg)
{
	uint8_t a = fz_u8(in), b = fz_u8(in), c = fz_u8(in);

	sio_smmu_config_default(cfg);
	cfg->stage1 = !(a & 1);
	cfg->stage2 = !(a & 2) || !cfg->stage1;
	cfg->st_2lvl = !(a & 4);
	cfg->cd_2lvl = !(a & 8);
	cfg->httu = (a >> 4) % 3;
	cfg->ats = a & 0x40;
	cfg->pri = cfg->ats && (a & 0x80);
	cfg->hyp = b & 1;
	cfg->asid16 = !(b & 2);
	cfg->vmid16 = !(b & 4);
	cfg->ril = !(b & 8);
	if (b & 0x10) {
		static const unsigned int oas[] = {32, 36, 40, 42,
						   44, 48, 52, 48};

		cfg->oas = oas[b >> 5];
	}
	if (c & 1) {
		cfg->gran4k = c & 2;
		cfg->gran16k = c & 4;
		cfg->gran64k = !(c & 2) || (c & 8);
	}
	cfg->sid_bits = c & 0x10 ? 16 : (c >> 5) + 1;
	cfg->ssid_bits = cfg->stage1 ? (a & 0x20 ? 20 : 4) : 0;
	return 0;
}

#endif /* SIO_FUZZ_SMMU_H */
