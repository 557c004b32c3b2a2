// SPDX-License-Identifier: MIT
/*
 * fuzz_smmu: the SMMUv3 model alone, driven as hardware is, with every
 * structure it reads built by the input in a bounded arena: stream
 * tables, CDs and page tables of random words (and of plausible ones, so
 * the walks go deep), registers programmed by MMIO, commands queued, and
 * transactions, DMA, memory-to-memory copies, ATS requests and page
 * requests presented.
 *
 * Invariants (abort() so libFuzzer reports the input):
 *  - the model reaches memory only through the bus: the arena is the
 *    only registration, it sits between PROT_NONE pages, and the canary
 *    beyond is mapped but unregistered — structures point into it often,
 *    and its pattern must be intact at the end;
 *  - a DMA touches the device's buffer only within what it reports done
 *    (guard patterns around and after it), succeeds only completely,
 *    and returns 0, -EFAULT or -EIO; translations return 0 or -EFAULT
 *    with a non-empty range and only read/write permissions;
 *  - a successful DMA write changed no arena byte but to its data, at
 *    most its length of them; a successful read or translation changed
 *    nothing (HTTU's AF and dirty bits aside);
 *  - after CFGI_ALL, TLBI_NSNH_ALL and a completed CMD_SYNC, the model
 *    translates as a new SMMU with the same registers that has cached
 *    nothing (same result, output address and permission);
 *  - no crash, no hang: the Stall model is "terminate only"
 *    (IDR0.STALL_MODEL = 1), so no transaction can wait for a resume,
 *    and every loop here is bounded by the input's length;
 *  - ASan and UBSan find nothing in the model.
 */
#include <errno.h>

#include "fuzz_smmu.h"

static struct fz_machine m;
static struct sio_smmu *smmu;

#define BUF_MAX	  (3 * 4096)
#define GUARD	  64
#define BUF_BYTE  0x5a
#define GUARD_MAX 0x3c

static uint8_t dmabuf[GUARD + BUF_MAX + GUARD];
static uint8_t before[ARENA_SIZE]; /* the arena before a transaction */
static struct sio_smmu_config cur; /* this input's configuration */
static int trace = -1; /* FUZZ_TRACE=1: each transaction and its result */

/*
 * What a successful transaction may have changed in the arena: a write
 * DMA its data (the buffer's pattern byte) and nothing else; a read or a
 * translation nothing.  No event is recorded without a fault.  With
 * HTTU, descriptors may also gain AF (bit 10) or dirty state (bit 7:
 * AP[2] cleared at stage 1, S2AP[1] set at stage 2); a write DMA then
 * may land on a descriptor that HTTU updates too, so only reads and
 * translations are checked then, for words that differ in those bits
 * alone.
 */
static void arena_snapshot(void)
{
	memcpy(before, m.arena, ARENA_SIZE);
}

static void arena_check(bool wrote, size_t len, const char *what)
{
	const uint64_t httu_bits = 1ull << 10 | 1ull << 7;
	size_t changed = 0;

	if (!memcmp(before, m.arena, ARENA_SIZE))
		return;
	if (cur.httu && wrote)
		return;
	for (size_t off = 0; off < ARENA_SIZE; off += 8) {
		uint64_t a, b;

		memcpy(&a, before + off, 8);
		memcpy(&b, m.arena + off, 8);
		if (a == b)
			continue;
		if (cur.httu) {
			FZ_CHECK(!((a ^ b) & ~httu_bits),
				 "%s changed arena + %#zx: %#llx -> %#llx",
				 what, off, (unsigned long long)a,
				 (unsigned long long)b);
			continue;
		}
		for (size_t i = off; i < off + 8; i++) {
			if (before[i] == m.arena[i])
				continue;
			FZ_CHECK(wrote && m.arena[i] == BUF_BYTE,
				 "%s changed arena + %#zx: %#x -> %#x", what, i,
				 before[i], m.arena[i]);
			changed++;
		}
	}
	FZ_CHECK(changed <= len, "%s of %zu bytes changed %zu arena bytes",
		 what, len, changed);
}
static unsigned int irqs;
static bool atc_fail;
static unsigned int prg_responses;

static void on_irq(void *opaque, enum sio_smmu_irq irq)
{
	(void)opaque;
	(void)irq;
	irqs++;
}

static int on_atc_inv(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		      bool global, uint64_t addr, unsigned int log2size)
{
	(void)opaque;
	(void)sid;
	(void)ssv;
	(void)ssid;
	(void)global;
	(void)addr;
	FZ_CHECK(log2size >= 12 && log2size <= 64, "ATC span 2^%u", log2size);
	return atc_fail ? -ETIMEDOUT : 0;
}

static void on_prg(void *opaque, uint32_t sid, bool ssv, uint32_t ssid,
		   uint16_t prgi, unsigned int code)
{
	(void)opaque;
	(void)sid;
	(void)ssv;
	(void)ssid;
	FZ_CHECK(prgi < 512, "PRGI %u", prgi);
	FZ_CHECK(code == SIO_SMMU_PRG_SUCCESS ||
			 code == SIO_SMMU_PRG_INVALID_REQUEST ||
			 code == SIO_SMMU_PRG_RESPONSE_FAILURE,
		 "PRG response code %u", code);
	prg_responses++;
}

/* Offsets software writes: the real registers, and now and then any. */
static uint64_t reg_offset(struct fz_in *in)
{
	static const uint32_t regs[] = {
		R_CR0,	       R_CR1,	      R_CR2,	     R_GBPA,
		R_IRQ_CTRL,    R_GERRORN,     R_STRTAB_BASE, R_STRTAB_BASE_CFG,
		R_CMDQ_BASE,   R_CMDQ_PROD,   R_CMDQ_CONS,   R_EVENTQ_BASE,
		R_EVENTQ_PROD, R_EVENTQ_CONS, R_PRIQ_BASE,   R_PRIQ_PROD,
		R_PRIQ_CONS,
	};
	uint8_t s = fz_u8(in);

	if (s < 0xf0)
		return regs[s % (sizeof(regs) / sizeof(regs[0]))];
	return fz_u32(in) % (SIO_SMMU_MMIO_SIZE + 0x100);
}

static uint64_t shape_addr(struct fz_in *in)
{
	uint8_t s = fz_u8(in);

	switch (s & 3) {
	case 0:
		return fz_u64(in);
	case 1: /* an arena address: bypass and identity maps reach it */
		return fz_pa(m.arena) + ((uint64_t)fz_u8(in) << 10);
	default: /* small IOVAs, which small page tables cover */
		return (uint64_t)(s >> 2) << 12 | (uint64_t)fz_u8(in) << 4;
	}
}

static void make_txn(struct fz_in *in, struct sio_smmu_txn *t)
{
	uint8_t s = fz_u8(in);

	t->sid = s & 0x80 ? fz_u32(in) : s & 0x3f;
	t->ssv = s & 0x40;
	t->ssid = fz_u8(in) & 0x1f;
	t->addr = shape_addr(in);
	t->attr = fz_u8(in) & 0xf;
}

static void op_word(struct fz_in *in, bool pointer)
{
	uint32_t off = (uint32_t)fz_u16(in) * 8 % ARENA_SIZE;
	uint64_t v = fz_u64(in);

	if (pointer) /* a descriptor: an address with attribute bits */
		v = fz_machine_pa(&m, in) | (v & 0xfff0000000000fffull);
	memcpy(m.arena + off, &v, 8);
}

/* A plausible STE in the linear table the bring-up places. */
static void op_ste(struct fz_in *in)
{
	uint64_t ste[8] = {0};
	unsigned int sid = fz_u8(in) % 256;
	uint8_t c = fz_u8(in);

	ste[0] = fz_machine_pa(&m, in) & 0x00ffffffffffffc0ull;
	ste[0] |= 1 | (uint64_t)(c & 7) << 1 | (uint64_t)((c >> 3) & 3) << 4 |
		  (uint64_t)(fz_u8(in) & 0x1f) << 59;
	ste[1] = fz_u32(in);
	ste[2] = fz_u64(in);
	ste[3] = fz_machine_pa(&m, in) & 0x000ffffffffffff0ull;
	memcpy(m.arena + ARENA_STRTAB + sid * 64, ste, 64);
}

/* A plausible CD anywhere in the arena: valid, AArch64, two TTBs. */
static void op_cd(struct fz_in *in)
{
	uint32_t off = (uint32_t)fz_u8(in) * 64 % ARENA_SIZE;
	uint64_t cd[8] = {0};

	cd[0] = fz_u64(in) | 1ull << 31 | 1ull << 41;
	cd[1] = fz_machine_pa(&m, in) & 0x000ffffffffffff0ull;
	cd[2] = fz_machine_pa(&m, in) & 0x000ffffffffffff0ull;
	cd[3] = fz_u64(in);
	memcpy(m.arena + off, cd, 64);
}

/* A table of descriptors to consecutive arena pages: deep walks, fast. */
static void op_table(struct fz_in *in)
{
	uint32_t tbl = (uint32_t)fz_u8(in) * 4096 % ARENA_SIZE;
	uint32_t first = fz_u8(in), n = 1 + fz_u8(in) % 64;
	/* valid (table or page), AF, and the input's other low bits */
	uint64_t attr = (uint64_t)fz_u16(in) & 0xfff;

	attr |= fz_u8(in) & 1 ? 0x403 : 0;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa =
			fz_pa(m.arena) + ((first + i) * 4096ull) % ARENA_SIZE;

		memcpy(m.arena + tbl + i * 8, &(uint64_t){pa | attr}, 8);
	}
}

static void op_bringup(struct fz_in *in, const struct sio_smmu_config *cfg)
{
	uint8_t a = fz_u8(in), b = fz_u8(in);
	uint32_t st_log2 = a % 11, fmt = (a & 0x80) && cfg->st_2lvl;

	sio_smmu_write64(smmu, R_STRTAB_BASE, fz_pa(m.arena + ARENA_STRTAB));
	sio_smmu_write32(smmu, R_STRTAB_BASE_CFG,
			 fmt ? (uint32_t)(1 << 16 | (b & 0xf) << 6 | (a & 0xf))
			     : st_log2);
	sio_smmu_write64(smmu, R_CMDQ_BASE,
			 fz_pa(m.arena + ARENA_CMDQ) | (b % 9));
	sio_smmu_write64(smmu, R_EVENTQ_BASE,
			 fz_pa(m.arena + ARENA_EVTQ) | (b >> 4) % 8);
	sio_smmu_write64(smmu, R_PRIQ_BASE,
			 fz_pa(m.arena + ARENA_PRIQ) | (a >> 4) % 9);
	sio_smmu_write32(smmu, R_IRQ_CTRL, 7);
	sio_smmu_write32(smmu, R_CR2, fz_u8(in) & 7);
	sio_smmu_write32(smmu, R_CR0, (a & 0x40 ? fz_u8(in) & 0x1f : 0xf));
}

/* One command into the queue wherever CMDQ_BASE says it is. */
static void push_command(const uint64_t *cmd)
{
	uint64_t base = sio_smmu_read64(smmu, R_CMDQ_BASE);
	uint32_t prod = sio_smmu_read32(smmu, R_CMDQ_PROD);
	unsigned int log2 = base & 0x1f;
	uint64_t qa = base & 0x000fffffffffffe0ull;
	uint32_t idx, wrap;

	if (log2 > 19)
		log2 = 19;
	idx = prod & ((1u << log2) - 1);
	wrap = 1u << log2;
	/* only where software may write: the arena */
	if (qa >= fz_pa(m.arena) &&
	    qa + (uint64_t)idx * 16 + 16 <= fz_pa(m.arena) + ARENA_SIZE)
		memcpy((void *)(uintptr_t)(qa + idx * 16), cmd, 16);
	prod = (prod & ~(2 * wrap - 1)) | ((prod + 1) & (2 * wrap - 1));
	sio_smmu_write32(smmu, R_CMDQ_PROD, prod);
}

static void op_command(struct fz_in *in)
{
	static const uint8_t ops[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				      0x10, 0x11, 0x12, 0x13, 0x20, 0x21,
				      0x22, 0x23, 0x28, 0x2a, 0x30, 0x40,
				      0x41, 0x44, 0x45, 0x46};
	uint8_t s = fz_u8(in);
	uint64_t cmd[2];

	cmd[0] = fz_u64(in);
	cmd[1] = fz_u64(in);
	if (s < 0xf0)
		cmd[0] = (cmd[0] & ~0xffull) | ops[s % sizeof(ops)];
	push_command(cmd);
}

/*
 * Caches must not change what a translation gives once software has
 * invalidated everything: after CFGI_ALL, TLBI_NSNH_ALL (and
 * TLBI_EL2_ALL with HYP) and a CMD_SYNC that completed, the SMMU must
 * translate as a new one with the same registers, on the same memory,
 * that has cached nothing.  The new one translates first, with its
 * event queue off, so nothing it does changes the arena but what HTTU
 * would change for both.  At most twice an input: a new SMMU is dear.
 */
static void op_differential(struct fz_in *in, const struct sio_smmu_config *cfg,
			    unsigned int *budget)
{
	static const uint64_t inv[][2] = {
		{0x04, 31}, {0x30, 0}, {0x20, 0}, {0x46, 0}};
	const uint32_t cr0_copy = CR0_SMMUEN | 1u << 4 | 7u << 6;
	struct sio_smmu *ref;
	uint32_t prod, cons, cr0;
	unsigned int n = 1 + fz_u8(in) % 8;

	for (unsigned int i = 0; i < 4; i++)
		if (inv[i][0] != 0x20 || cfg->hyp)
			push_command(inv[i]);
	prod = sio_smmu_read32(smmu, R_CMDQ_PROD);
	cons = sio_smmu_read32(smmu, R_CMDQ_CONS);
	cr0 = sio_smmu_read32(smmu, R_CR0ACK);
	/* the queue must have taken them all, without an error */
	if (!(cr0 & CR0_CMDQEN) || ((prod ^ cons) & 0xfffff) ||
	    ((sio_smmu_read32(smmu, R_GERROR) ^
	      sio_smmu_read32(smmu, R_GERRORN)) &
	     GERROR_CMDQ) ||
	    !*budget)
		return;
	--*budget;
	if (sio_smmu_create(cfg, m.bus, &ref))
		abort();
	sio_smmu_write64(ref, R_STRTAB_BASE,
			 sio_smmu_read64(smmu, R_STRTAB_BASE));
	sio_smmu_write32(ref, R_STRTAB_BASE_CFG,
			 sio_smmu_read32(smmu, R_STRTAB_BASE_CFG));
	sio_smmu_write32(ref, R_CR1, sio_smmu_read32(smmu, R_CR1));
	sio_smmu_write32(ref, R_CR2, sio_smmu_read32(smmu, R_CR2));
	sio_smmu_write32(ref, R_GBPA, sio_smmu_read32(smmu, R_GBPA) | 1u << 31);
	sio_smmu_write32(ref, R_CR0, cr0 & cr0_copy);
	for (unsigned int i = 0; i < n; i++) {
		struct sio_smmu_result a, b;
		struct sio_smmu_txn t;
		int ra, rb;

		make_txn(in, &t);
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		ra = sio_smmu_translate(ref, &t, &a);
		rb = sio_smmu_translate(smmu, &t, &b);
		if (trace)
			fprintf(stderr,
				"differential sid %#x %#llx: new %d %#llx, "
				"cached %d %#llx\n",
				t.sid, (unsigned long long)t.addr, ra,
				(unsigned long long)a.pa, rb,
				(unsigned long long)b.pa);
		FZ_CHECK(ra == rb && (ra || (a.pa == b.pa && a.perm == b.perm)),
			 "sid %#x ssid %#x%s addr %#llx attr %#x: new SMMU %d "
			 "pa %#llx perm %#x, invalidated SMMU %d pa %#llx "
			 "perm %#x",
			 t.sid, t.ssid, t.ssv ? "" : " (none)",
			 (unsigned long long)t.addr, t.attr, ra,
			 (unsigned long long)a.pa, a.perm, rb,
			 (unsigned long long)b.pa, b.perm);
	}
	sio_smmu_destroy(ref);
}

/* What a driver does with its queues: consume events, acknowledge. */
static void op_ack(struct fz_in *in)
{
	uint8_t s = fz_u8(in);

	if (s & 1)
		sio_smmu_write32(smmu, R_EVENTQ_CONS,
				 sio_smmu_read32(smmu, R_EVENTQ_PROD));
	if (s & 2)
		sio_smmu_write32(smmu, R_PRIQ_CONS,
				 sio_smmu_read32(smmu, R_PRIQ_PROD));
	if (s & 4)
		sio_smmu_write32(smmu, R_GERRORN,
				 sio_smmu_read32(smmu, R_GERROR));
}

static void op_translate(struct fz_in *in)
{
	struct sio_smmu_txn t;
	struct sio_smmu_result res;
	int rc;

	make_txn(in, &t);
	memset(&res, 0, sizeof(res));
	arena_snapshot();
	rc = sio_smmu_translate(smmu, &t, &res);
	if (trace)
		fprintf(stderr, "translate sid %#x %#llx: %d pa %#llx\n", t.sid,
			(unsigned long long)t.addr, rc,
			(unsigned long long)res.pa);
	FZ_CHECK(rc == 0 || rc == -EFAULT, "translate: %d", rc);
	if (!rc) {
		arena_check(false, 0, "translation");
		FZ_CHECK(res.size > 0, "empty translation");
		FZ_CHECK(!(res.perm & ~SIO_MEM_RW), "perm %#x", res.perm);
	}
}

/*
 * The device's buffer: @len bytes after a guard, then a guard.  Reads
 * fill it from memory; writes take it to memory.  Either way the guards
 * must stay, and a read must leave what it did not report done.
 */
static void op_dma(struct fz_in *in)
{
	struct sio_smmu_txn t;
	size_t len, done = (size_t)-1;
	uint8_t *buf = dmabuf + GUARD;
	int rc;

	make_txn(in, &t);
	len = 1 + fz_u16(in) % BUF_MAX;
	memset(dmabuf, GUARD_MAX, sizeof(dmabuf));
	memset(buf, BUF_BYTE, len);
	arena_snapshot();
	rc = sio_smmu_dma(smmu, &t, buf, len, &done);
	if (trace)
		fprintf(stderr, "dma sid %#x %#llx %s %zu: %d done %zu\n",
			t.sid, (unsigned long long)t.addr,
			t.attr & SIO_SMMU_WRITE ? "write" : "read", len, rc,
			done);
	if (!rc)
		arena_check(t.attr & SIO_SMMU_WRITE, len, "DMA");
	FZ_CHECK(rc == 0 || rc == -EFAULT || rc == -EIO, "dma: %d", rc);
	FZ_CHECK(done <= len, "done %zu of %zu", done, len);
	FZ_CHECK(rc || done == len, "success after %zu of %zu", done, len);
	for (size_t i = 0; i < GUARD; i++)
		FZ_CHECK(dmabuf[i] == GUARD_MAX, "guard before buf[-%zu]",
			 GUARD - i);
	for (size_t i = GUARD + len; i < sizeof(dmabuf); i++)
		FZ_CHECK(dmabuf[i] == GUARD_MAX, "guard after buf[%zu]",
			 i - GUARD);
	if (!(t.attr & SIO_SMMU_WRITE))
		for (size_t i = done; i < len; i++)
			FZ_CHECK(buf[i] == BUF_BYTE,
				 "read wrote buf[%zu] beyond done %zu", i,
				 done);
}

static void op_copy(struct fz_in *in)
{
	struct sio_smmu_txn dst, src;
	size_t len = 1 + fz_u16(in) % BUF_MAX;
	size_t done = (size_t)-1;
	bool dst_failed = false;
	int rc;

	make_txn(in, &dst);
	make_txn(in, &src);
	rc = sio_smmu_dma_copy(smmu, &dst, &src, len, &done, &dst_failed);
	if (trace)
		fprintf(stderr, "copy %#llx <- %#llx %zu: %d done %zu\n",
			(unsigned long long)dst.addr,
			(unsigned long long)src.addr, len, rc, done);
	FZ_CHECK(rc == 0 || rc == -EFAULT || rc == -EIO, "copy: %d", rc);
	FZ_CHECK(done <= len, "copy done %zu of %zu", done, len);
	FZ_CHECK(rc || done == len, "copy success after %zu of %zu", done, len);
}

static void op_pcie(struct fz_in *in, const struct sio_smmu_config *cfg)
{
	uint8_t s = fz_u8(in);

	if (s & 1) {
		struct sio_smmu_ats_req req = {0};
		struct sio_smmu_ats_entry ent[4];
		unsigned int count = 99, max = 1 + (s >> 1) % 4;
		int rc;

		req.sid = fz_u8(in) & 0x3f;
		req.ssv = s & 0x20;
		req.ssid = fz_u8(in) & 0x1f;
		req.addr = shape_addr(in);
		req.span = 1 + fz_u8(in) % 16;
		req.nw = s & 0x40;
		req.exe = s & 0x80;
		req.priv = s & 0x10;
		rc = sio_smmu_ats_translate(smmu, &req, ent, max, &count);
		if (!cfg->ats) {
			FZ_CHECK(rc == -EINVAL, "ATS without ATS: %d", rc);
			return;
		}
		FZ_CHECK(rc == SIO_SMMU_ATS_SC || rc == SIO_SMMU_ATS_UR ||
				 rc == SIO_SMMU_ATS_CA,
			 "ATS status %d", rc);
		if (rc == SIO_SMMU_ATS_SC) {
			FZ_CHECK(count >= 1 && count <= max, "ATS %u of %u",
				 count, max);
			for (unsigned int i = 0; i < count; i++)
				FZ_CHECK(ent[i].size >= 4096 &&
						 !(ent[i].size &
						   (ent[i].size - 1)) &&
						 !(ent[i].addr &
						   (ent[i].size - 1)),
					 "ATS entry %u: %#llx size %#llx", i,
					 (unsigned long long)ent[i].addr,
					 (unsigned long long)ent[i].size);
		}
	} else {
		struct sio_smmu_page_req req = {0};
		int rc;

		req.sid = fz_u8(in) & 0x3f;
		req.ssv = s & 0x20;
		req.ssid = fz_u8(in) & 0x1f;
		req.addr = shape_addr(in);
		req.prgi = (uint16_t)(fz_u8(in) | (s & 0x2) << 7);
		req.last = s & 0x40;
		req.perm = (s >> 2) & 0xf;
		rc = sio_smmu_page_request(smmu, &req);
		FZ_CHECK(rc == 0 || rc == -ENOSPC || rc == -EIO ||
				 rc == -EINVAL,
			 "page request: %d", rc);
		FZ_CHECK(cfg->pri || rc == -EINVAL, "PRI without PRI: %d", rc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = {data, size};
	struct sio_smmu_config cfg;
	unsigned int ops = 0, diff_budget = 2;

	if (!m.map)
		fz_machine_map(&m);
	if (trace < 0)
		trace = getenv("FUZZ_TRACE") != NULL;
	fz_machine_reset(&m);
	fz_config(&in, &cfg);
	cfg.stall_model = 1; /* terminate only: nothing can wait */
	cur = cfg;
	if (sio_smmu_create(&cfg, m.bus, &smmu)) {
		fz_machine_check(&m);
		return 0;
	}
	sio_smmu_set_irq(smmu, on_irq, NULL);
	sio_smmu_set_atc_inv(smmu, on_atc_inv, NULL);
	sio_smmu_set_prg_response(smmu, on_prg, NULL);
	atc_fail = false;
	while (fz_left(&in) && ops++ < 1024) {
		uint8_t k = fz_u8(&in);

		switch (k % 20) {
		case 0:
		case 1:
			op_word(&in, k & 0x80);
			break;
		case 2:
			op_ste(&in);
			break;
		case 3:
			op_cd(&in);
			break;
		case 4:
			op_table(&in);
			break;
		case 5: {
			uint64_t off = reg_offset(&in), v;

			if (k & 0x80) {
				if (k & 0x40) { /* a base: address | size */
					v = fz_machine_pa(&m, &in);
					v |= fz_u8(&in) % 20;
				} else {
					v = fz_u64(&in);
				}
				sio_smmu_write64(smmu, off, v);
			} else {
				sio_smmu_write32(smmu, off, fz_u32(&in));
			}
			break;
		}
		case 6: {
			uint64_t off = fz_u32(&in) % (SIO_SMMU_MMIO_SIZE + 64);

			if (k & 0x80)
				(void)sio_smmu_read64(smmu, off);
			else
				(void)sio_smmu_read32(smmu, off);
			break;
		}
		case 7:
			op_bringup(&in, &cfg);
			break;
		case 8:
		case 9:
			op_command(&in);
			break;
		case 10:
			op_ack(&in);
			break;
		case 11:
		case 12:
			op_translate(&in);
			break;
		case 13:
		case 14:
			op_dma(&in);
			break;
		case 15:
			op_copy(&in);
			break;
		case 16:
			op_pcie(&in, &cfg);
			break;
		case 17:
			atc_fail = k & 0x80;
			break;
		case 18:
			op_differential(&in, &cfg, &diff_budget);
			break;
		default:
			op_word(&in, true);
			break;
		}
	}
	sio_smmu_destroy(smmu);
	smmu = NULL;
	fz_machine_check(&m);
	return 0;
}
