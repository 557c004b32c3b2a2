// SPDX-License-Identifier: MIT
/*
 * The SMMU's TLB and configuration cache: a translation or structure that
 * changes in memory stays as it was cached until the invalidation that
 * covers it (sections 4.3 and 4.4), and no wider invalidation than the
 * command's scope is relied on.  Ranges and scopes are worked out by hand
 * from the command definitions.
 */
#include <errno.h>
#include <pthread.h>

#include "smmu_test.h"

/* the micro-TLB's layout, for the one test that looks inside it */
#include "smmu/smmu_private.h"
#include "smmu/smmu_cache.h"

#define RW (SIO_PROT_READ | SIO_PROT_WRITE)

/* Command dword 0 / dword 1 fields (sections 4.3, 4.4). */
#define C0(op)	    ((uint64_t)(op))
#define C0_VMID(v)  ((uint64_t)(v) << 32)
#define C0_ASID(a)  ((uint64_t)(a) << 48)
#define C0_NUM(n)   ((uint64_t)(n) << 12)
#define C0_SCALE(s) ((uint64_t)(s) << 20)
#define C1_TTL(t)   ((uint64_t)(t) << 8)
#define C1_TG(t)    ((uint64_t)(t) << 10)
#define C1_ADDR(a)  ((uint64_t)(a) & ~0xfffull)
#define C1_LEAF	    1ull

#define EVT_F_TRANSLATION 0x10 /* section 7.3.12 */

static uint64_t pa_of(struct smmu_fx *fx, uint32_t sid, bool ssv, uint32_t ssid,
		      uint64_t addr)
{
	struct sio_smmu_txn t = {
		.sid = sid, .ssv = ssv, .ssid = ssid, .addr = addr};
	struct sio_smmu_result res;

	if (sio_smmu_translate(fx->smmu, &t, &res))
		return ~0ull;
	return res.pa;
}

static void remap(struct sio_pgtable *pt, uint64_t iova, uint64_t pa,
		  uint64_t size)
{
	uint64_t unmapped = 0;

	assert_int_equal(sio_pgtable_unmap(pt, iova, size, &unmapped, NULL), 0);
	assert_true(unmapped == size);
	assert_int_equal(sio_pgtable_map(pt, iova, pa, size, RW), 0);
}

static void sync(struct smmu_fx *fx)
{
	fx_cmd(fx, CMD_SYNC, 0);
}

/* Clear nG (bit 11) in the leaf of @iova: a global entry from now on. */
static void make_global(struct smmu_fx *fx, struct sio_pgtable *pt,
			uint64_t iova)
{
	fx_leaf_change(fx, pt, iova, 0, 1ull << 11);
}

/* StreamID @sid: stage 1, one CD (ASID @asid) for a fresh 48-bit TTB0. */
static struct sio_pgtable *s1_stream(struct smmu_fx *fx, uint32_t sid,
				     uint16_t asid, uint64_t **cdp)
{
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096,
						  48, 48, SIO_PGT_TTB0, 0);
	struct sio_pgtable_info in;
	uint64_t *cd = fx_alloc(fx, 4096);

	sio_pgtable_get_info(pt, &in);
	cd_make(cd, &in, NULL, asid);
	ste_valid(fx_ste(fx, sid), 5);
	ste_s1(fx_ste(fx, sid), fx_pa(cd), 0, 0, 0);
	if (cdp)
		*cdp = cd;
	return pt;
}

/* StreamID @sid: stage 2 only, VMID @vmid. */
static struct sio_pgtable *s2_stream(struct smmu_fx *fx, uint32_t sid,
				     uint16_t vmid)
{
	struct sio_pgtable *pt = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096,
						  48, 48, SIO_PGT_TTB0, 0);
	struct sio_pgtable_info in;

	sio_pgtable_get_info(pt, &in);
	ste_valid(fx_ste(fx, sid), 6);
	ste_s2(fx_ste(fx, sid), &in, vmid);
	return pt;
}

static void test_tlb_stale_until_tlbi_va(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0xa0000, 0x2000, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x10123) == 0xa0123);
	assert_true(pa_of(fx, 1, false, 0, 0x11000) == 0xa1000);
	remap(pt, 0x10000, 0xb0000, 0x2000);
	/* Cached: the old translation, until invalidated. */
	assert_true(pa_of(fx, 1, false, 0, 0x10123) == 0xa0123);
	/* Another ASID, another address: not this entry. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(8), C1_ADDR(0x10000));
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x12000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x10123) == 0xa0123);
	/* The page's own invalidation; its neighbour stays stale. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x10000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x10123) == 0xb0123);
	assert_true(pa_of(fx, 1, false, 0, 0x11000) == 0xa1000);
	/* NH_VAA: every ASID. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VAA), C1_ADDR(0x11000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x11000) == 0xb1000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_tlb_asid_tags_and_global_entries(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);

	(void)state;
	/* 0x20000 is global (nG == 0), 0x21000 is not. */
	assert_int_equal(sio_pgtable_map(pt, 0x20000, 0xc0000, 0x2000, RW), 0);
	make_global(fx, pt, 0x20000);
	assert_true(pa_of(fx, 1, false, 0, 0x20000) == 0xc0000);
	assert_true(pa_of(fx, 1, false, 0, 0x21000) == 0xc1000);
	remap(pt, 0x20000, 0xd0000, 0x2000);
	/* NH_ASID spares global entries. */
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(7), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x21000) == 0xd1000);
	assert_true(pa_of(fx, 1, false, 0, 0x20000) == 0xc0000);
	/* NH_VA of any ASID reaches a global entry. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(99), C1_ADDR(0x20000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x20000) == 0xd0000);
	/* NH_ALL of another VMID leaves everything; of ours, nothing. */
	remap(pt, 0x20000, 0xe0000, 0x2000);
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(1), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x21000) == 0xd1000);
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(0), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x21000) == 0xe1000);
	assert_true(pa_of(fx, 1, false, 0, 0x20000) == 0xe0000);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Range invalidation (section 4.4.1.1): Range = (NUM + 1) * 2^SCALE
 * granules from Addr.  NUM 3, SCALE 1, TG 4K: 8 pages.
 */
static void test_tlb_range_arithmetic(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	const uint64_t base = 0x100000;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, base, 0x400000, 16 * 4096, RW), 0);
	for (int i = 0; i < 16; i++)
		assert_true(pa_of(fx, 1, false, 0, base + i * 4096) ==
			    0x400000 + i * 4096ull);
	remap(pt, base, 0x800000, 16 * 4096);
	/* TG names 16K: the 4K entries are not in scope. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7) | C0_NUM(15),
	       C1_TG(2) | C1_ADDR(base));
	/* TTL names level 2: these leaves are level 3. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7) | C0_NUM(15),
	       C1_TG(1) | C1_TTL(2) | C1_ADDR(base));
	sync(fx);
	for (int i = 0; i < 16; i++)
		assert_true(pa_of(fx, 1, false, 0, base + i * 4096) ==
			    0x400000 + i * 4096ull);
	/* Pages 2..9. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7) | C0_NUM(3) | C0_SCALE(1),
	       C1_TG(1) | C1_TTL(3) | C1_ADDR(base + 2 * 4096));
	sync(fx);
	for (int i = 0; i < 16; i++) {
		uint64_t want =
			(i >= 2 && i <= 9 ? 0x800000 : 0x400000) + i * 4096ull;

		assert_true(pa_of(fx, 1, false, 0, base + i * 4096) == want);
	}
	/* NUM 0, SCALE 0, TTL 0 with a TG is reserved: CERROR_ILL. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_TG(1) | C1_ADDR(base));
	assert_int_equal(CONS_ERR(sio_smmu_read32(fx->smmu, R_CMDQ_CONS)), 1);
	assert_int_equal(sio_smmu_read32(fx->smmu, R_GERROR) & 1, 1);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* Blocks: any address inside the block invalidates it (section 4.4). */
/* @n times the command with dword 0 @cmd0, each completed by a CMD_SYNC. */
static void cmd_times(struct smmu_fx *fx, uint64_t cmd0, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		fx_cmd(fx, cmd0, 0);
		sync(fx);
	}
}

/* @n TLBI_NH_ALLs of @vmid. */
static void nh_all_times(struct smmu_fx *fx, uint16_t vmid, unsigned int n)
{
	cmd_times(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(vmid), n);
}

/*
 * However many TLBI_NH_ALLs come, an entry they removed never comes back:
 * 4096 of them (a count at which a model that numbers its invalidations
 * modulo a power of two might see an old entry's number again), with the
 * page remapped between the translations.  Other VMIDs' NH_ALLs remove
 * nothing of ours.
 */
static void test_tlb_nh_all_many(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x30000, 0xa0000, 0x1000, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xa0000);
	remap(pt, 0x30000, 0xb0000, 0x1000);
	nh_all_times(fx, 1, 4096);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xa0000);
	nh_all_times(fx, 0, 4095);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xb0000);
	remap(pt, 0x30000, 0xc0000, 0x1000);
	nh_all_times(fx, 0, 1);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xc0000);
	remap(pt, 0x30000, 0xd0000, 0x1000);
	nh_all_times(fx, 0, 4095);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xd0000);
	remap(pt, 0x30000, 0xe0000, 0x1000);
	nh_all_times(fx, 0, 4097);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xe0000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* @n TLBI_NH_ASIDs of (VMID 0, @asid). */
static void nh_asid_times(struct smmu_fx *fx, uint16_t asid, unsigned int n)
{
	cmd_times(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(asid), n);
}

/*
 * TLBI_NH_ASID, however many come: an entry it removed never comes back
 * (4096 in a row, and 4096 split between NH_ASID and NH_ALL, counts at
 * which a model numbering invalidations modulo 4096 could see an old
 * number again), another ASID's 4096 remove nothing of ours, and global
 * leaves outlive them all until an NH_ALL.  Each time the page is
 * remapped after the translation, so a stale entry shows.
 */
static void test_tlb_nh_asid_many(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);

	(void)state;
	/* an ASID epoch that is not the first: a global entry ignores it */
	nh_asid_times(fx, 7, 1);
	assert_int_equal(sio_pgtable_map(pt, 0x30000, 0xa0000, 0x1000, RW), 0);
	/* 0x31000 is global (nG == 0) */
	assert_int_equal(sio_pgtable_map(pt, 0x31000, 0xa1000, 0x1000, RW), 0);
	make_global(fx, pt, 0x31000);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xa0000);
	assert_true(pa_of(fx, 1, false, 0, 0x31000) == 0xa1000);
	remap(pt, 0x30000, 0xb0000, 0x1000);
	remap(pt, 0x31000, 0xb1000, 0x1000);
	/* the two stay as they were cached (nG cleared again by the remap) */
	nh_asid_times(fx, 8, 4096);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xa0000);
	nh_asid_times(fx, 7, 4096);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xb0000);
	assert_true(pa_of(fx, 1, false, 0, 0x31000) == 0xa1000);

	remap(pt, 0x30000, 0xc0000, 0x1000);
	nh_asid_times(fx, 7, 1);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xc0000);
	assert_true(pa_of(fx, 1, false, 0, 0x31000) == 0xa1000);
	remap(pt, 0x30000, 0xd0000, 0x1000);
	nh_asid_times(fx, 7, 2000);
	nh_all_times(fx, 0, 2096);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xd0000);
	assert_true(pa_of(fx, 1, false, 0, 0x31000) == 0xb1000);
	remap(pt, 0x30000, 0xe0000, 0x1000);
	nh_all_times(fx, 0, 2047);
	nh_asid_times(fx, 7, 2049);
	assert_true(pa_of(fx, 1, false, 0, 0x30000) == 0xe0000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* The micro-TLB set @addr of StreamID 1 (no SubstreamID) uses. */
static struct utlb_slot *utlb_set(struct smmu_fx *fx, uint64_t addr)
{
	struct sio_smmu_txn t = {.sid = 1, .addr = addr};

	return utlb_set_of(fx->smmu, utlb_key0(&t), utlb_key1(&t));
}

static bool utlb_holds(struct utlb_slot *set, uint64_t addr)
{
	struct sio_smmu_txn t = {.sid = 1, .addr = addr};

	for (unsigned int w = 0; w < UTLB_WAYS; w++)
		if (atomic_load(&set[w].key0) == utlb_key0(&t) &&
		    atomic_load(&set[w].key1) == utlb_key1(&t))
			return true;
	return false;
}

/*
 * Two pages whose micro-TLB entries share a set both stay in it (a
 * direct-mapped one would keep only one), each answers with its own
 * output, and both die with the next invalidation as everything there
 * does.  White-box: it looks at the set itself.
 */
static void test_utlb_pages_sharing_a_set(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	uint64_t a = 0x100000, b = 0;

	(void)state;
	for (uint64_t p = a + 0x1000; p < a + 0x40000000ull; p += 0x1000)
		if (utlb_set(fx, p) == utlb_set(fx, a)) {
			b = p;
			break;
		}
	assert_true(b != 0);
	assert_int_equal(sio_pgtable_map(pt, a, 0x3000000, 0x1000, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, b, 0x5000000, 0x1000, RW), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(pa_of(fx, 1, false, 0, a + 8) == 0x3000008);
		assert_true(pa_of(fx, 1, false, 0, b + 16) == 0x5000010);
	}
	assert_true(utlb_holds(utlb_set(fx, a), a));
	assert_true(utlb_holds(utlb_set(fx, a), b));
	remap(pt, a, 0x3100000, 0x1000);
	remap(pt, b, 0x5100000, 0x1000);
	assert_true(pa_of(fx, 1, false, 0, a) == 0x3000000);
	assert_true(pa_of(fx, 1, false, 0, b) == 0x5000000);
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(7), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, a) == 0x3100000);
	assert_true(pa_of(fx, 1, false, 0, b) == 0x5100000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* Stage-2 entries of VMID 9 for the TLB's replacement tests. */
static struct tlb_ent s2_ent(uint64_t ipa, uint64_t pa)
{
	return (struct tlb_ent){.va = ipa,
				.pa = pa,
				.log2size = 12,
				.kind = TLB_KIND_S2,
				.vmid = 9,
				.tg = 1,
				.level = 3,
				.perm = TLB_RWX};
}

static bool s2_entry(struct smmu_fx *fx, uint64_t ipa, uint64_t *pa)
{
	struct tlb_ent e;

	if (!tlb_lookup(fx->smmu, TLB_KIND_S2, 9, 0, ipa,
			tlb_epochs(fx->smmu->tlb, 9), 0, &e))
		return false;
	*pa = e.pa;
	return true;
}

/* Ways of @set holding a live entry at @ipa. */
static unsigned int ways_at(struct smmu_fx *fx, unsigned int set, uint64_t ipa)
{
	struct tlb_set *ts = &fx->smmu->tlb->set[set];
	unsigned int n = 0;

	for (unsigned int w = 0; w < TLB_WAYS; w++)
		n += (atomic_load(&ts->tag[w]) & TAG_VALID) &&
		     (atomic_load(&ts->va[w]) & ~TLB_EPOCH_MASK) == ipa;
	return n;
}

/*
 * How a set is filled (white-box): a fill of an address already there
 * replaces that entry rather than taking a second way; a set with a free
 * way keeps all it holds; a full set takes turns, so four fills into it
 * evict four different entries and all four new ones are found.
 */
static void test_tlb_set_replacement(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	unsigned int set = tlb_set_of(TLB_KIND_S2, 9, 12, 0);
	uint64_t page[8] = {0}, pa;
	uint64_t gen = smmu_gen(fx->smmu);
	struct tlb_ent e;
	unsigned int n = 1;

	(void)state;
	for (uint64_t p = 0x1000; n < 8; p += 0x1000)
		if (tlb_set_of(TLB_KIND_S2, 9, 12, p) == set)
			page[n++] = p;
	e = s2_ent(page[0], 0x7000000);
	tlb_insert(fx->smmu, &e, gen);
	e = s2_ent(page[0], 0x7100000);
	tlb_insert(fx->smmu, &e, gen);
	assert_int_equal(ways_at(fx, set, page[0]), 1);
	assert_true(s2_entry(fx, page[0], &pa) && pa == 0x7100000);
	for (unsigned int i = 1; i < 4; i++) {
		e = s2_ent(page[i], 0x8000000 + (i << 12));
		tlb_insert(fx->smmu, &e, gen);
	}
	for (unsigned int i = 0; i < 4; i++)
		assert_true(s2_entry(fx, page[i], &pa));
	for (unsigned int i = 4; i < 8; i++) {
		e = s2_ent(page[i], 0x9000000 + (i << 12));
		tlb_insert(fx->smmu, &e, gen);
	}
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(ways_at(fx, set, page[i]), i >= 4);
		assert_int_equal(s2_entry(fx, page[i], &pa), i >= 4);
	}
	assert_true(s2_entry(fx, page[5], &pa) && pa == 0x9005000);
	fx_destroy(fx);
}

static void test_tlb_block_entries(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);

	(void)state;
	assert_int_equal(
		sio_pgtable_map(pt, 0x40000000, 0x80000000, 2u << 20, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x40012345) == 0x80012345);
	remap(pt, 0x40000000, 0xc0000000, 2u << 20);
	/* The whole block is one entry: stale everywhere in it. */
	assert_true(pa_of(fx, 1, false, 0, 0x401ff000) == 0x801ff000);
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x40123000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x40012345) == 0xc0012345);
	assert_true(pa_of(fx, 1, false, 0, 0x401ff000) == 0xc01ff000);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

static void test_tlb_stage2_by_vmid_and_ipa(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *a = s2_stream(fx, 2, 5);
	struct sio_pgtable *b = s2_stream(fx, 3, 6);

	(void)state;
	assert_int_equal(sio_pgtable_map(a, 0x10000, 0x110000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(b, 0x10000, 0x210000, 4096, RW), 0);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0x110000);
	assert_true(pa_of(fx, 3, false, 0, 0x10000) == 0x210000);
	remap(a, 0x10000, 0x310000, 4096);
	remap(b, 0x10000, 0x410000, 4096);
	/* Stage-1 invalidation does not touch stage-2 entries. */
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(5), 0);
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0x110000);
	/* S2_IPA in VMID 5 only. */
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(5), C1_ADDR(0x10000));
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0x310000);
	assert_true(pa_of(fx, 3, false, 0, 0x10000) == 0x210000);
	fx_cmd(fx, C0(CMD_TLBI_S12_VMALL) | C0_VMID(6), 0);
	sync(fx);
	assert_true(pa_of(fx, 3, false, 0, 0x10000) == 0x410000);
	sio_pgtable_destroy(a);
	sio_pgtable_destroy(b);
	fx_destroy(fx);
}

/*
 * A stage-1-only stream on an SMMU with stage 2 is tagged with STE.S2VMID
 * (sections 3.17 and 5.2, S2VMID): each stage-1 TLBI (4.4.2) and
 * S12_VMALL (4.4.3.2) reaches its entries by VMID 5, and none by VMID 0.
 * Each round the page is remapped after it was translated, so a stale
 * entry shows.
 */
static void test_tlb_stage1_only_stream_has_s2vmid(void **state)
{
	static const struct {
		uint64_t cmd0, cmd1; /* without the VMID */
	} tlbi[] = {
		{C0(CMD_TLBI_NH_ALL), 0},
		{C0(CMD_TLBI_NH_ASID) | C0_ASID(7), 0},
		{C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x10000)},
		{C0(CMD_TLBI_NH_VAA), C1_ADDR(0x10000)},
		{C0(CMD_TLBI_S12_VMALL), 0},
	};
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	uint64_t pa = 0xa0000;

	(void)state;
	bits_set(fx_ste(fx, 1), 128, 16, 5); /* S2VMID */
	assert_int_equal(sio_pgtable_map(pt, 0x10000, pa, 0x1000, RW), 0);
	for (unsigned int i = 0; i < sizeof(tlbi) / sizeof(tlbi[0]); i++) {
		print_message("# command %#llx\n",
			      (unsigned long long)tlbi[i].cmd0);
		assert_true(pa_of(fx, 1, false, 0, 0x10000) == pa);
		remap(pt, 0x10000, pa + 0x10000, 0x1000);
		fx_cmd(fx, tlbi[i].cmd0 | C0_VMID(0), tlbi[i].cmd1);
		sync(fx);
		assert_true(pa_of(fx, 1, false, 0, 0x10000) == pa);
		fx_cmd(fx, tlbi[i].cmd0 | C0_VMID(5), tlbi[i].cmd1);
		sync(fx);
		pa += 0x10000;
		assert_true(pa_of(fx, 1, false, 0, 0x10000) == pa);
	}
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * Without stage 2, S2VMID is IGNORED (section 5.2) and the VMID of
 * TLBI_NH_* is not matched (4.4.2): VMID 0 reaches a stream whose STE
 * holds 5.
 */
static void test_tlb_stage1_only_no_s2p_no_vmid(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.stage2 = false;
	fx = fx_create(&cfg);
	pt = s1_stream(fx, 1, 7, NULL);
	bits_set(fx_ste(fx, 1), 128, 16, 5); /* S2VMID */
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0xa0000, 0x1000, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == 0xa0000);
	remap(pt, 0x10000, 0xb0000, 0x1000);
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x10000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == 0xb0000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * One round of an invalidation test: StreamID 1's page 0x10000, which
 * translates to *@pa, is remapped 64K higher, and after the command and a
 * CMD_SYNC translates there.
 */
static void round_removes(struct smmu_fx *fx, struct sio_pgtable *pt,
			  uint64_t *pa, uint64_t cmd0, uint64_t cmd1)
{
	print_message("# command %#llx %#llx\n", (unsigned long long)cmd0,
		      (unsigned long long)cmd1);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == *pa);
	remap(pt, 0x10000, *pa + 0x10000, 0x1000);
	fx_cmd(fx, cmd0, cmd1);
	sync(fx);
	*pa += 0x10000;
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == *pa);
}

/* StreamID 1 in an EL2 StreamWorld (STRW == 0b10), its CD with ASID 3. */
static struct sio_pgtable *el2_stream(struct smmu_fx *fx)
{
	struct sio_pgtable *pt = s1_stream(fx, 1, 3, NULL);

	bits_set(fx_ste(fx, 1), 94, 2, 2);   /* STRW: EL2 */
	bits_set(fx_ste(fx, 1), 128, 16, 5); /* S2VMID: IGNORED there */
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0xa0000, 0x1000, RW), 0);
	return pt;
}

/*
 * NS-EL2 (IDR0.Hyp, CR2.E2H == 0): the entries of a stream with STRW ==
 * 0b10 go with TLBI_EL2_ALL (section 4.4.2.7), EL2_VAA (4.4.2.9) and
 * EL2_VA, whose ASID is ignored without E2H (4.4.2.8), Leaf or not.
 */
static void test_tlb_el2_streamworld(void **state)
{
	static const struct {
		uint64_t cmd0, cmd1;
	} tlbi[] = {
		{C0(CMD_TLBI_EL2_ALL), 0},
		{C0(CMD_TLBI_EL2_VA) | C0_ASID(9), C1_ADDR(0x10000)},
		{C0(CMD_TLBI_EL2_VA), C1_LEAF | C1_ADDR(0x10000)},
		{C0(CMD_TLBI_EL2_VAA), C1_ADDR(0x10000)},
		{C0(CMD_TLBI_EL2_VAA), C1_LEAF | C1_ADDR(0x10000)},
	};
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;
	uint64_t pa = 0xa0000;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	fx = fx_create(&cfg);
	pt = el2_stream(fx);
	for (unsigned int i = 0; i < sizeof(tlbi) / sizeof(tlbi[0]); i++)
		round_removes(fx, pt, &pa, tlbi[i].cmd0, tlbi[i].cmd1);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * NS-EL2-E2H (CR2.E2H == 1): entries are ASID-tagged, and EL2_ASID
 * (4.4.2.10) and EL2_VA by the CD's ASID remove them besides EL2_ALL and
 * EL2_VAA; a global one goes with EL2_VA of any ASID (4.4.2.8).
 */
static void test_tlb_el2_e2h_streamworld(void **state)
{
	static const struct {
		uint64_t cmd0, cmd1;
	} tlbi[] = {
		{C0(CMD_TLBI_EL2_ASID) | C0_ASID(3), 0},
		{C0(CMD_TLBI_EL2_VA) | C0_ASID(3), C1_ADDR(0x10000)},
		{C0(CMD_TLBI_EL2_ALL), 0},
		{C0(CMD_TLBI_EL2_VAA), C1_ADDR(0x10000)},
	};
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;
	uint64_t pa = 0xa0000;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	fx = fx_create(&cfg);
	/* CR2 changes only with SMMUEN == 0 (section 6.3.12). */
	sio_smmu_write32(fx->smmu, R_CR0, 0x4 | 0x8);
	sio_smmu_write32(fx->smmu, R_CR2, 0x1); /* E2H */
	sio_smmu_write32(fx->smmu, R_CR0, 0x1 | 0x4 | 0x8);
	pt = el2_stream(fx);
	for (unsigned int i = 0; i < sizeof(tlbi) / sizeof(tlbi[0]); i++)
		round_removes(fx, pt, &pa, tlbi[i].cmd0, tlbi[i].cmd1);
	make_global(fx, pt, 0x10000);
	fx_cmd(fx, C0(CMD_TLBI_EL2_ALL), 0);
	sync(fx);
	round_removes(fx, pt, &pa, C0(CMD_TLBI_EL2_VA) | C0_ASID(9),
		      C1_ADDR(0x10000));
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * NS-EL2 has no ASIDs (sections 3.17 and 3.17.5): nG has no effect and
 * the CD's ASID is IGNORED (5.4.1), so all its CDs are one address space
 * (3.17: "all CDs are considered equivalent ... even if referenced using
 * different STEs").  StreamIDs 1 and 2 are NS-EL2 with the same tables,
 * their CDs holding ASIDs 3 and 9: the nG == 1 entry StreamID 1 inserts
 * serves StreamID 2 (it matches any ASID), NS-EL1 TLBIs leave it, and
 * TLBI_EL2_ALL (4.4.2.7) removes it.
 */
static void test_tlb_el2_entries_have_no_asid(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *pt;
	uint64_t *cd, *cd9;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	fx = fx_create(&cfg);
	pt = s1_stream(fx, 1, 3, &cd);
	cd9 = fx_alloc(fx, 4096);
	memcpy(cd9, cd, 64);
	bits_set(cd9, 48, 16, 9); /* ASID */
	ste_valid(fx_ste(fx, 2), 5);
	ste_s1(fx_ste(fx, 2), fx_pa(cd9), 0, 0, 0);
	bits_set(fx_ste(fx, 1), 94, 2, 2); /* STRW: EL2 */
	bits_set(fx_ste(fx, 2), 94, 2, 2);
	assert_int_equal(sio_pgtable_map(pt, 0x10000, 0xa0000, 0x1000, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x20000, 0xc0000, 0x1000, RW), 0);
	/* StreamID 2's STE and CD cached, by another page */
	assert_true(pa_of(fx, 2, false, 0, 0x20000) == 0xc0000);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == 0xa0000);
	remap(pt, 0x10000, 0xb0000, 0x1000);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0xa0000);
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(9), 0);
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL), 0);
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0xa0000);
	fx_cmd(fx, C0(CMD_TLBI_EL2_ALL), 0);
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0xb0000);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A cached translation belongs to the StreamWorld that inserted it
 * (section 3.3.3): an EL2 stream and an NS-EL1 stream of VMID 0, both
 * with ASID 3 and each with its own tables, see their own pages, whatever
 * the other cached first — a leaf (0x10000) or, through the walk cache,
 * the last-level table of a page not yet translated (0x11000).
 */
static void test_tlb_el2_apart_from_el1(void **state)
{
	struct sio_smmu_config cfg;
	struct smmu_fx *fx;
	struct sio_pgtable *el2, *el1;

	(void)state;
	sio_smmu_config_default(&cfg);
	cfg.hyp = true;
	fx = fx_create(&cfg);
	el2 = el2_stream(fx); /* StreamID 1: 0x10000 to 0xa0000 */
	el1 = s1_stream(fx, 2, 3, NULL);
	assert_int_equal(sio_pgtable_map(el2, 0x11000, 0xa1000, 0x1000, RW), 0);
	assert_int_equal(sio_pgtable_map(el1, 0x10000, 0xc0000, 0x2000, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == 0xa0000);
	assert_true(pa_of(fx, 2, false, 0, 0x11000) == 0xc1000);
	assert_true(pa_of(fx, 2, false, 0, 0x10000) == 0xc0000);
	assert_true(pa_of(fx, 1, false, 0, 0x10000) == 0xa0000);
	assert_true(pa_of(fx, 1, false, 0, 0x11000) == 0xa1000);
	fx_no_event(fx);
	sio_pgtable_destroy(el1);
	sio_pgtable_destroy(el2);
	fx_destroy(fx);
}

/*
 * StreamID @sid nested: a stage 1 (ASID @asid) in *@s1, over a stage 2
 * (VMID @vmid) in *@s2 that maps the CD at its own address; returns the
 * CD.
 */
static uint64_t *nested_stream(struct smmu_fx *fx, uint32_t sid, uint16_t asid,
			       uint16_t vmid, struct sio_pgtable **s1,
			       struct sio_pgtable **s2)
{
	struct sio_pgtable_info i1, i2;
	uint64_t *cd = fx_alloc(fx, 4096);

	*s1 = sio_test_pgtable(fx->bus, SIO_PGT_STAGE1, 4096, 48, 48,
			       SIO_PGT_TTB0, 0);
	*s2 = sio_test_pgtable(fx->bus, SIO_PGT_STAGE2, 4096, 48, 48,
			       SIO_PGT_TTB0, 0);
	sio_pgtable_get_info(*s1, &i1);
	sio_pgtable_get_info(*s2, &i2);
	cd_make(cd, &i1, NULL, asid);
	ste_valid(fx_ste(fx, sid), 7);
	ste_s1(fx_ste(fx, sid), fx_pa(cd), 0, 0, 0);
	ste_s2(fx_ste(fx, sid), &i2, vmid);
	assert_int_equal(sio_pgtable_map(*s2, fx_pa(cd), fx_pa(cd), 4096, RW),
			 0);
	return cd;
}

/* Stage 2 maps @s1's tables for @va at their own addresses, with @prot. */
static uint64_t map_s1_tables(struct sio_pgtable *s1, struct sio_pgtable *s2,
			      uint64_t va, int prot)
{
	struct sio_pgtable_walk w;

	assert_int_equal(sio_pgtable_walk(s1, va, &w), 0);
	for (unsigned int i = 0; i < w.nsteps; i++)
		assert_int_equal(sio_pgtable_map(s2, w.step[i].table,
						 w.step[i].table, 4096, prot),
				 0);
	return w.step[w.nsteps - 1].table;
}

/*
 * Nested: S2_IPA is not required to reach combined entries (section
 * 4.4.3.1); software follows it with NH_ALL, as Linux does.
 */
static void test_tlb_combined_entries_need_nh(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *s1, *s2;

	(void)state;
	nested_stream(fx, 8, 11, 3, &s1, &s2);
	assert_int_equal(sio_pgtable_map(s1, 0x40000, 0x500000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(s2, 0x500000, 0x9000000, 4096, RW), 0);
	map_s1_tables(s1, s2, 0x40000, RW);
	assert_true(pa_of(fx, 8, false, 0, 0x40010) == 0x9000010);
	remap(s2, 0x500000, 0xa000000, 4096);
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(3), C1_ADDR(0x500000));
	sync(fx);
	assert_true(pa_of(fx, 8, false, 0, 0x40010) == 0x9000010);
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(3), 0);
	sync(fx);
	assert_true(pa_of(fx, 8, false, 0, 0x40010) == 0xa000010);
	fx_no_event(fx);
	sio_pgtable_destroy(s1);
	sio_pgtable_destroy(s2);
	fx_destroy(fx);
}

static void test_config_cache(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	uint64_t *cd;
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, &cd);
	struct sio_pgtable *other = s1_stream(fx, 9, 9, NULL);
	struct sio_pgtable_info in;

	(void)state;
	sio_pgtable_get_info(other, &in);
	assert_int_equal(sio_pgtable_map(pt, 0x1000, 0x11000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(other, 0x1000, 0x22000, 4096, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x1000) == 0x11000);
	/* The CD now points at the other table, under another ASID. */
	cd_make(cd, &in, NULL, 21);
	fx_cmd(fx, C0(CMD_CFGI_CD) | C0_SID(1) | C0_SSID(1), 0); /* not it */
	fx_cmd(fx, C0(CMD_CFGI_CD) | C0_SID(2), 0);		 /* not it */
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x1000) == 0x11000);
	fx_cmd(fx, C0(CMD_CFGI_CD) | C0_SID(1), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x1000) == 0x22000);
	/* The STE now aborts: cached until CFGI_STE names it. */
	ste_valid(fx_ste(fx, 1), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x1000) == 0x22000);
	fx_cmd(fx, C0(CMD_CFGI_STE) | C0_SID(1), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x1000) == ~0ull);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	sio_pgtable_destroy(other);
	fx_destroy(fx);
}

/*
 * CFGI_STE_RANGE covers 2^(Range + 1) StreamIDs, aligned: StreamID 5
 * with Range 1 is 4..7 (section 4.3.2); CDs cached through them go too.
 */
static void test_config_cache_ranges(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt[10];

	(void)state;
	for (uint32_t sid = 3; sid <= 8; sid++) {
		pt[sid] = s1_stream(fx, sid, (uint16_t)sid, NULL);
		assert_int_equal(sio_pgtable_map(pt[sid], 0x1000,
						 0x100000 * sid, 4096, RW),
				 0);
		assert_true(pa_of(fx, sid, false, 0, 0x1000) == 0x100000 * sid);
		ste_valid(fx_ste(fx, sid), 0); /* abort, once re-read */
	}
	fx_cmd(fx, C0(CMD_CFGI_STE_RANGE) | C0_SID(5), 1);
	sync(fx);
	for (uint32_t sid = 3; sid <= 8; sid++) {
		bool gone = sid >= 4 && sid <= 7;

		assert_true(pa_of(fx, sid, false, 0, 0x1000) ==
			    (gone ? ~0ull : 0x100000 * sid));
	}
	/* CFGI_ALL: Range 31. */
	fx_cmd(fx, C0(CMD_CFGI_STE_RANGE), 31);
	sync(fx);
	assert_true(pa_of(fx, 3, false, 0, 0x1000) == ~0ull);
	assert_true(pa_of(fx, 8, false, 0, 0x1000) == ~0ull);
	for (uint32_t sid = 3; sid <= 8; sid++)
		sio_pgtable_destroy(pt[sid]);
	fx_destroy(fx);
}

/*
 * A translation racing an invalidation must not leave a stale entry
 * behind once the CMD_SYNC completes: translations from another thread
 * keep refilling while the mapping moves, and after every SYNC the next
 * translation must see the new one.
 */
struct racer {
	struct smmu_fx *fx;
	int stop;
};

static void *race_translate(void *arg)
{
	struct racer *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
		(void)pa_of(r->fx, 1, false, 0, 0x5000);
	return NULL;
}

/*
 * Swing the level-2 descriptor of @pt for @addr to the last-level table
 * @other uses for it; returns the descriptor it replaced.
 */
static uint64_t swap_table(struct smmu_fx *fx, struct sio_pgtable *pt,
			   struct sio_pgtable *other, uint64_t addr)
{
	struct sio_pgtable_walk w, wo;
	uint64_t desc;

	/* The page at @addr may be unmapped: the walk still has 4 steps. */
	sio_pgtable_walk(pt, addr, &w);
	sio_pgtable_walk(other, addr, &wo);
	assert_int_equal(w.nsteps, 4);
	assert_int_equal(wo.nsteps, 4);
	desc = w.step[2].desc;
	assert_int_equal(sio_mem_cmpxchg64(fx->bus, w.step[2].addr, &desc,
					   wo.step[2].desc),
			 0);
	return desc;
}

static void restore_table(struct smmu_fx *fx, struct sio_pgtable *pt,
			  struct sio_pgtable *other, uint64_t addr,
			  uint64_t old)
{
	struct sio_pgtable_walk w;
	uint64_t desc;

	sio_pgtable_walk(other, addr, &w);
	desc = w.step[2].desc;
	sio_pgtable_walk(pt, addr, &w);
	assert_int_equal(w.nsteps, 4);
	assert_int_equal(sio_mem_cmpxchg64(fx->bus, w.step[2].addr, &desc, old),
			 0);
}

/*
 * The walk cache: a new last-level table behind a level-2 descriptor is
 * not seen by pages of its 2 MiB that the TLB never held, until a TLBI
 * with Leaf == 0 (or a wider one) covers it — TLBI_NH_VA with Leaf == 1
 * promises only leaves changed (section 4.4.1, Leaf).
 */
static void test_walk_cache_stage1(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	struct sio_pgtable *other = sio_test_pgtable(
		fx->bus, SIO_PGT_STAGE1, 4096, 48, 48, SIO_PGT_TTB0, 0);
	uint64_t ev[4], old;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x200000, 0xa0000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(other, 0x201000, 0xb1000, 4096, RW),
			 0);
	assert_true(pa_of(fx, 1, false, 0, 0x200000) == 0xa0000);
	old = swap_table(fx, pt, other, 0x200000);
	/* 0x201000 walks from the cached (old) table: unmapped there. */
	assert_true(pa_of(fx, 1, false, 0, 0x201000) == ~0ull);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	/* Leaf-only, and another ASID's: the walk entry stays. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7),
	       C1_ADDR(0x201000) | C1_LEAF);
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(8), 0);
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(8), C1_ADDR(0x201000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x201000) == ~0ull);
	fx_one_event(fx, ev);
	/* Leaf == 0 for one page of the block: the table is re-read. */
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x3ff000));
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x201000) == 0xb1000);
	/* The old leaf of 0x200000 is not in that range: still cached. */
	assert_true(pa_of(fx, 1, false, 0, 0x200000) == 0xa0000);
	/* Back, and NH_ASID drops the walk entry (never global). */
	restore_table(fx, pt, other, 0x200000, old);
	assert_true(pa_of(fx, 1, false, 0, 0x202000) == ~0ull);
	fx_one_event(fx, ev);
	assert_int_equal(sio_pgtable_map(pt, 0x202000, 0xa2000, 4096, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x202000) == ~0ull);
	fx_one_event(fx, ev);
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(7), 0);
	sync(fx);
	assert_true(pa_of(fx, 1, false, 0, 0x202000) == 0xa2000);
	fx_no_event(fx);
	sio_pgtable_destroy(other);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* The same for stage 2: TLBI_S2_IPA by Leaf, S12_VMALL by VMID. */
static void test_walk_cache_stage2(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s2_stream(fx, 2, 3);
	struct sio_pgtable *other = sio_test_pgtable(
		fx->bus, SIO_PGT_STAGE2, 4096, 48, 48, SIO_PGT_TTB0, 0);
	uint64_t ev[4], old;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x400000, 0xa0000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(other, 0x401000, 0xb1000, 4096, RW),
			 0);
	assert_true(pa_of(fx, 2, false, 0, 0x400000) == 0xa0000);
	old = swap_table(fx, pt, other, 0x400000);
	assert_true(pa_of(fx, 2, false, 0, 0x401000) == ~0ull);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), EVT_F_TRANSLATION);
	assert_int_equal(EV_S2(ev), 1);
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(3),
	       C1_ADDR(0x401000) | C1_LEAF);
	fx_cmd(fx, C0(CMD_TLBI_S12_VMALL) | C0_VMID(4), 0);
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(3), 0);
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x401000) == ~0ull);
	fx_one_event(fx, ev);
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(3), C1_ADDR(0x401000));
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x401000) == 0xb1000);
	assert_true(pa_of(fx, 2, false, 0, 0x400000) == 0xa0000);
	restore_table(fx, pt, other, 0x400000, old);
	fx_cmd(fx, C0(CMD_TLBI_S12_VMALL) | C0_VMID(3), 0);
	sync(fx);
	assert_true(pa_of(fx, 2, false, 0, 0x400000) == 0xa0000);
	assert_true(pa_of(fx, 2, false, 0, 0x401000) == ~0ull);
	fx_one_event(fx, ev);
	sio_pgtable_destroy(other);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A nested walk keeps the last-level table's PA (stage 2 applied) beside
 * its IPA.  What it must not lose: TLBI_NH_ALL for the VMID, which Linux
 * issues after changing a nesting parent's stage 2, makes the walk see a
 * table that stage 2 moved; and a hardware update of a descriptor found
 * through the PA still needs stage 2 to allow the write at the table's
 * IPA (a read-only table: F_PERMISSION, S2, CLASS TT, a write, at that
 * IPA, the descriptor untouched).
 */
static void test_walk_cache_nested(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *s1, *s2;
	uint64_t *cd = nested_stream(fx, 8, 11, 3, &s1, &s2);
	uint64_t *moved = fx_alloc(fx, 4096);
	uint64_t ev[4], l3, unmapped = 0;

	(void)state;
	bits_set(cd, 43, 1, 1); /* HA */
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(sio_pgtable_map(s2, 0x500000 + i * 4096,
						 0x9000000 + i * 4096, 4096,
						 RW),
				 0);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(sio_pgtable_map(s1, 0x40000 + i * 4096,
						 0x500000 + i * 4096, 4096, RW),
				 0);
	l3 = map_s1_tables(s1, s2, 0x40000, RW);
	/* the walk now caches the last-level table at PA l3 */
	assert_true(pa_of(fx, 8, false, 0, 0x40010) == 0x9000010);

	/*
	 * Stage 2 moves that table, read-only, to a copy where 0x42000
	 * goes to IPA 0x503000; after TLBI_NH_ALL the walk reads the copy.
	 */
	for (unsigned int i = 0; i < 512; i++)
		assert_int_equal(sio_mem_read64(fx->bus, l3 + 8 * i, &moved[i]),
				 0);
	moved[0x42] = (moved[0x42] & ~0xfffffffff000ull) | 0x503000;
	assert_int_equal(sio_pgtable_unmap(s2, l3, 4096, &unmapped, NULL), 0);
	assert_int_equal(
		sio_pgtable_map(s2, l3, fx_pa(moved), 4096, SIO_PROT_READ), 0);
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(3), C1_ADDR(l3));
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(3), 0);
	sync(fx);
	assert_true(pa_of(fx, 8, false, 0, 0x42010) == 0x9003010);

	/* 0x41000 loses its AF in the copy: HTTU must write, at IPA l3 */
	__atomic_and_fetch(&moved[0x41], ~(1ull << 10), __ATOMIC_SEQ_CST);
	assert_true(pa_of(fx, 8, false, 0, 0x41010) == ~0ull);
	fx_one_event(fx, ev);
	assert_int_equal(EV_ID(ev), 0x13); /* F_PERMISSION */
	assert_int_equal(EV_S2(ev), 1);
	assert_int_equal(EV_CLASS(ev), 1); /* TT */
	assert_int_equal(EV_TTRNW(ev), 0); /* the table write */
	assert_int_equal(bits_get(ev, 247, 204) << 12, l3);
	assert_false(moved[0x41] & (1ull << 10));
	/* writable now: HTTU sets the AF and the access goes through */
	assert_int_equal(sio_pgtable_unmap(s2, l3, 4096, &unmapped, NULL), 0);
	assert_int_equal(sio_pgtable_map(s2, l3, fx_pa(moved), 4096, RW), 0);
	fx_cmd(fx, C0(CMD_TLBI_S2_IPA) | C0_VMID(3), C1_ADDR(l3));
	fx_cmd(fx, C0(CMD_TLBI_NH_ALL) | C0_VMID(3), 0);
	sync(fx);
	assert_true(pa_of(fx, 8, false, 0, 0x41010) == 0x9001010);
	assert_true(moved[0x41] & (1ull << 10));
	fx_no_event(fx);
	sio_pgtable_destroy(s1);
	sio_pgtable_destroy(s2);
	fx_destroy(fx);
}

static void test_fill_racing_invalidation(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	struct racer r = {fx, 0};
	pthread_t t;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x5000, 0x1000000, 4096, RW), 0);
	assert_int_equal(pthread_create(&t, NULL, race_translate, &r), 0);
	for (uint64_t i = 1; i <= 300; i++) {
		uint64_t pa = 0x1000000 + (i % 2) * 0x1000000;

		remap(pt, 0x5000, pa, 4096);
		fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x5000));
		sync(fx);
		assert_true(pa_of(fx, 1, false, 0, 0x5000) == pa);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * A page new to a set both of whose ways hold other live pages takes one
 * of them at its first miss: a new working set moves in at once, rather
 * than its pages going down the whole TLB path again and again.
 */
static void test_utlb_new_page_takes_a_full_set(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	uint64_t pg[3] = {0x100000, 0, 0};
	int found = 1;

	(void)state;
	for (uint64_t p = pg[0] + 0x1000;
	     found < 3 && p < pg[0] + 0x40000000ull; p += 0x1000)
		if (utlb_set(fx, p) == utlb_set(fx, pg[0]))
			pg[found++] = p;
	assert_int_equal(found, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(sio_pgtable_map(pt, pg[i],
						 0x3000000 + i * 0x100000,
						 0x1000, RW),
				 0);
	/* Walks first: the micro-TLB is filled from TLB hits. */
	for (int i = 0; i < 3; i++)
		assert_true(pa_of(fx, 1, false, 0, pg[i]) ==
			    0x3000000 + (uint64_t)i * 0x100000);
	assert_true(pa_of(fx, 1, false, 0, pg[0]) == 0x3000000);
	assert_true(pa_of(fx, 1, false, 0, pg[1] + 4) == 0x3100004);
	assert_true(utlb_holds(utlb_set(fx, pg[0]), pg[0]));
	assert_true(utlb_holds(utlb_set(fx, pg[0]), pg[1]));
	/* Each page, in turn, is in the set after its one translation. */
	for (int round = 0; round < 6; round++) {
		int i = (round + 2) % 3;

		assert_true(pa_of(fx, 1, false, 0, pg[i] + 8) ==
			    0x3000008 + (uint64_t)i * 0x100000);
		assert_true(utlb_holds(utlb_set(fx, pg[0]), pg[i]));
	}
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/* Run an invalidation of nothing we use: one generation advance. */
static void advance_once(struct smmu_fx *fx)
{
	fx_cmd(fx, C0(CMD_TLBI_NH_ASID) | C0_ASID(99), 0);
	sync(fx);
}

/*
 * The micro-TLB tags an entry with the low 32 bits of its generation.
 * An entry left in its slot must not come back to life when the
 * generation, 2^32 advances later, has those bits again: the sweep
 * every UTLB_SWEEP advances has cleared it.  (The advances are made by
 * commands; the jumps between them set the counter where they would be.)
 */
static void test_utlb_generation_wraps(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	uint64_t g, next;

	(void)state;
	assert_int_equal(sio_pgtable_map(pt, 0x40000, 0x3000000, 4096, RW), 0);
	assert_true(pa_of(fx, 1, false, 0, 0x40010) == 0x3000010);
	assert_true(pa_of(fx, 1, false, 0, 0x40010) == 0x3000010);
	assert_true(utlb_holds(utlb_set(fx, 0x40000), 0x40000));
	g = atomic_load(&fx->smmu->utlb_gen);
	/* moved, and invalidated as software must */
	remap(pt, 0x40000, 0x5000000, 4096);
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x40000));
	sync(fx);
	/* through the next sweep, then to where the tag matches again */
	next = (g / UTLB_SWEEP + 1) * UTLB_SWEEP;
	atomic_store(&fx->smmu->utlb_gen, next - 1);
	advance_once(fx);
	atomic_store(&fx->smmu->utlb_gen, g + (1ull << 32) - 1);
	advance_once(fx);
	assert_true(atomic_load(&fx->smmu->utlb_gen) % (1ull << 32) ==
		    g % (1ull << 32));
	assert_true(pa_of(fx, 1, false, 0, 0x40010) == 0x5000010);
	fx_no_event(fx);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

/*
 * DMA whose page the micro-TLB already holds (a transfer's quick path)
 * decides exactly as a fresh one: the page's permissions, the target's
 * own (an external abort, with nothing copied), a transfer running past
 * the page, and a remap that only the invalidation makes visible.
 */
static void test_dma_through_cached_translation(void **state)
{
	struct smmu_fx *fx = fx_create(NULL);
	struct sio_pgtable *pt = s1_stream(fx, 1, 7, NULL);
	uint8_t *mem = fx_alloc(fx, 4 * 4096), buf[2048], ev[32];
	uint8_t *ro = aligned_alloc(4096, 4096);
	struct sio_smmu_txn rd = {.sid = 1}, wr = {.sid = 1};
	uint64_t e[4];
	size_t done;

	(void)state;
	wr.attr = SIO_SMMU_WRITE;
	assert_non_null(ro);
	memset(ro, 0x33, 4096);
	assert_int_equal(sio_mem_register(fx->bus, fx_pa(ro), 4096,
					  SIO_MEM_READ, ro),
			 0);
	for (int i = 0; i < 4 * 4096; i++)
		mem[i] = (uint8_t)(i / 7);
	/* 0x10000: mem, 0x11000: mem + 4K read-only, 0x12000: mem + 12K */
	assert_int_equal(sio_pgtable_map(pt, 0x10000, fx_pa(mem), 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x11000, fx_pa(mem) + 4096, 4096,
					 SIO_PROT_READ),
			 0);
	assert_int_equal(
		sio_pgtable_map(pt, 0x12000, fx_pa(mem) + 12288, 4096, RW), 0);
	/* 0x20000: memory the bus does not have; 0x21000: read-only memory */
	assert_int_equal(sio_pgtable_map(pt, 0x20000, 0x1000, 4096, RW), 0);
	assert_int_equal(sio_pgtable_map(pt, 0x21000, fx_pa(ro), 4096, RW), 0);

	/* Twice each: the second finds the translation cached. */
	for (int pass = 0; pass < 2; pass++) {
		memset(buf, 0, sizeof(buf));
		rd.addr = 0x10000 + 100;
		assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 64, &done),
				 0);
		assert_int_equal(done, 64);
		for (int i = 0; i < 64; i++)
			assert_int_equal(buf[i], (uint8_t)((100 + i) / 7));

		/* a read of the read-only page; then a write is refused */
		rd.addr = 0x11000;
		assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 16, &done),
				 0);
		memset(ev, 0xee, sizeof(ev));
		wr.addr = 0x11000 + 8;
		assert_int_equal(sio_smmu_dma(fx->smmu, &wr, ev, 16, &done),
				 -EFAULT);
		assert_int_equal(done, 0);
		assert_int_equal(mem[4096 + 8], (uint8_t)((4096 + 8) / 7));
		fx_one_event(fx, e);
		assert_int_equal(EV_ID(e), 0x13); /* F_PERMISSION */
		assert_int_equal(EV_INPUT(e), 0x11008);

		/* past the page's end: the rest through the next page */
		rd.addr = 0x11000 + 4000;
		assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 2000, &done),
				 0);
		assert_int_equal(done, 2000);
		for (int i = 0; i < 96; i++)
			assert_int_equal(buf[i],
					 (uint8_t)((4096 + 4000 + i) / 7));
		for (int i = 96; i < 2000; i++)
			assert_int_equal(buf[i],
					 (uint8_t)((12288 + i - 96) / 7));

		/* the target aborts: nothing copied, no event */
		rd.addr = 0x20000 + 64;
		assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 64, &done),
				 -EIO);
		assert_int_equal(done, 0);
		rd.addr = 0x21000;
		assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 64, &done),
				 0);
		assert_int_equal(buf[63], 0x33);
		wr.addr = 0x21000;
		assert_int_equal(sio_smmu_dma(fx->smmu, &wr, ev, 16, &done),
				 -EIO);
		assert_int_equal(done, 0);
		assert_int_equal(ro[0], 0x33);
		fx_no_event(fx);
	}

	/* A remap is seen only after its invalidation. */
	remap(pt, 0x10000, fx_pa(mem) + 8192, 4096);
	rd.addr = 0x10000;
	assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 8, &done), 0);
	assert_int_equal(buf[0], 0);
	fx_cmd(fx, C0(CMD_TLBI_NH_VA) | C0_ASID(7), C1_ADDR(0x10000));
	sync(fx);
	assert_int_equal(sio_smmu_dma(fx->smmu, &rd, buf, 8, &done), 0);
	assert_int_equal(buf[0], (uint8_t)(8192 / 7));

	assert_int_equal(sio_mem_unregister(fx->bus, fx_pa(ro), 4096, ro), 0);
	free(ro);
	sio_pgtable_destroy(pt);
	fx_destroy(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlb_stale_until_tlbi_va),
		cmocka_unit_test(test_tlb_asid_tags_and_global_entries),
		cmocka_unit_test(test_tlb_range_arithmetic),
		cmocka_unit_test(test_tlb_nh_all_many),
		cmocka_unit_test(test_tlb_nh_asid_many),
		cmocka_unit_test(test_utlb_pages_sharing_a_set),
		cmocka_unit_test(test_utlb_new_page_takes_a_full_set),
		cmocka_unit_test(test_utlb_generation_wraps),
		cmocka_unit_test(test_dma_through_cached_translation),
		cmocka_unit_test(test_tlb_set_replacement),
		cmocka_unit_test(test_tlb_block_entries),
		cmocka_unit_test(test_tlb_stage2_by_vmid_and_ipa),
		cmocka_unit_test(test_tlb_stage1_only_stream_has_s2vmid),
		cmocka_unit_test(test_tlb_stage1_only_no_s2p_no_vmid),
		cmocka_unit_test(test_tlb_el2_streamworld),
		cmocka_unit_test(test_tlb_el2_e2h_streamworld),
		cmocka_unit_test(test_tlb_el2_apart_from_el1),
		cmocka_unit_test(test_tlb_el2_entries_have_no_asid),
		cmocka_unit_test(test_tlb_combined_entries_need_nh),
		cmocka_unit_test(test_config_cache),
		cmocka_unit_test(test_config_cache_ranges),
		cmocka_unit_test(test_walk_cache_stage1),
		cmocka_unit_test(test_walk_cache_stage2),
		cmocka_unit_test(test_walk_cache_nested),
		cmocka_unit_test(test_fill_racing_invalidation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
