// SPDX-License-Identifier: MIT
/*
 * The TLB: 4-way set-associative, one entry per leaf (block or page) as
 * the walk found it, or for a nested translation one combined entry of
 * the smaller of the two leaves.  Stage-1 and combined entries are tagged
 * by VMID and ASID, except global ones (nG == 0), which match any ASID of
 * their VMID; stage-2 entries by VMID, and they are told apart from
 * stage-1 ones so that invalidation by IPA finds only them (section
 * 4.4.3.1).  The set is chosen without the ASID so that a global entry is
 * found from every ASID.
 *
 * Entries may be of any size, so a lookup probes once per size present
 * in the TLB for that kind of entry: once, when all leaves are pages.
 *
 * Invalidation removes exactly what the command's scope requires (section
 * 4.4): entries of other granules when TG names one, of other levels when
 * TTL names one, combined entries not by IPA.  Software that leans on
 * over-invalidation sees stale translations here, as it would on some
 * hardware.
 */
#include "smmu_cache.h"

/* The tag word. */
#define TAG_VALID  BIT(0)
#define TAG_KIND   BIT(1)
#define TAG_GLOBAL BIT(2)
#define TAG_LOG2SZ GENMASK(8, 3)
#define TAG_TG	   GENMASK(10, 9)
#define TAG_LEVEL  GENMASK(12, 11)
#define TAG_PERM   GENMASK(19, 13)
#define TAG_VMID   GENMASK(47, 32)
#define TAG_ASID   GENMASK(63, 48)
/* What identifies an entry apart from its address and ASID. */
#define TAG_ID (TAG_VALID | TAG_KIND | TAG_LOG2SZ | TAG_VMID)

/* Beyond this many probes, an invalidation scans the whole TLB. */
#define PROBE_LIMIT 256

static unsigned int set_of(unsigned int kind, uint16_t vmid,
			   unsigned int log2size, uint64_t base)
{
	uint64_t h = (base >> log2size) ^ ((uint64_t)vmid << 44) ^
		     ((uint64_t)kind << 62) ^ ((uint64_t)log2size << 36);

	h *= 0x9e3779b97f4a7c15ull;
	return (unsigned int)(h >> 40) & (TLB_SETS - 1);
}

static uint64_t tag_id(unsigned int kind, uint16_t vmid, unsigned int log2size)
{
	return TAG_VALID | (kind ? TAG_KIND : 0) |
	       FIELD_PREP(TAG_LOG2SZ, log2size) | FIELD_PREP(TAG_VMID, vmid);
}

static bool asid_ok(uint64_t tag, uint16_t asid)
{
	return (tag & TAG_GLOBAL) || FIELD_GET(TAG_ASID, tag) == asid;
}

static uint64_t base_of(uint64_t va, unsigned int log2size)
{
	return log2size >= 64 ? 0 : va & ~((1ull << log2size) - 1);
}

bool tlb_lookup(struct sio_smmu *smmu, unsigned int kind, uint16_t vmid,
		uint16_t asid, uint64_t va, struct tlb_ent *e)
{
	struct smmu_tlb *tlb = smmu->tlb;
	uint64_t sizes =
		atomic_load_explicit(&tlb->sizes[kind], memory_order_relaxed);

	while (sizes) {
		unsigned int ls = (unsigned int)__builtin_ctzll(sizes);
		uint64_t base = base_of(va, ls), want = tag_id(kind, vmid, ls);
		struct tlb_slot *set = tlb->slot[set_of(kind, vmid, ls, base)];

		sizes &= sizes - 1;
		for (unsigned int w = 0; w < TLB_WAYS; w++) {
			struct tlb_slot *sl = &set[w];
			uint64_t s = seq_read(&sl->seq), tag, pa;

			if (word_read(&sl->va) != base)
				continue;
			tag = word_read(&sl->tag);
			if ((tag & TAG_ID) != want ||
			    (kind == TLB_KIND_S1 && !asid_ok(tag, asid)))
				continue;
			pa = word_read(&sl->pa);
			if ((s & 1) || seq_read(&sl->seq) != s)
				continue;
			e->va = base;
			e->pa = pa;
			e->log2size = ls;
			e->kind = kind;
			e->vmid = vmid;
			e->asid = (uint16_t)FIELD_GET(TAG_ASID, tag);
			e->global = tag & TAG_GLOBAL;
			e->tg = (unsigned int)FIELD_GET(TAG_TG, tag);
			e->level = (unsigned int)FIELD_GET(TAG_LEVEL, tag);
			e->perm = FIELD_GET(TAG_PERM, tag);
			return true;
		}
	}
	return false;
}

static uint64_t make_tag(const struct tlb_ent *e)
{
	return tag_id(e->kind, e->vmid, e->log2size) |
	       (e->global ? TAG_GLOBAL : 0) | FIELD_PREP(TAG_TG, e->tg) |
	       FIELD_PREP(TAG_LEVEL, e->level) | FIELD_PREP(TAG_PERM, e->perm) |
	       FIELD_PREP(TAG_ASID, e->asid);
}

/* Does slot content (@va, @tag) hold the translation @e is for? */
static bool same_key(uint64_t va, uint64_t tag, const struct tlb_ent *e)
{
	uint64_t want = tag_id(e->kind, e->vmid, e->log2size);

	if (va != e->va || (tag & TAG_ID) != want)
		return false;
	return e->kind == TLB_KIND_S2 || (!(tag & TAG_GLOBAL) == !e->global &&
					  FIELD_GET(TAG_ASID, tag) == e->asid);
}

/* The way to fill: the one holding this key, a free one, or a victim. */
static struct tlb_slot *choose_way(struct tlb_slot *set,
				   const struct tlb_ent *e)
{
	struct tlb_slot *free_way = NULL;

	for (unsigned int w = 0; w < TLB_WAYS; w++) {
		uint64_t tag = word_read(&set[w].tag);

		if (same_key(word_read(&set[w].va), tag, e))
			return &set[w];
		if (!(tag & TAG_VALID) && !free_way)
			free_way = &set[w];
	}
	if (free_way)
		return free_way;
	/* Pseudo-random replacement, from the address. */
	return &set[((e->va >> e->log2size) ^ (e->va >> 21)) % TLB_WAYS];
}

void tlb_insert(struct sio_smmu *smmu, const struct tlb_ent *e, uint64_t gen)
{
	struct smmu_tlb *tlb = smmu->tlb;
	struct tlb_slot *sl = choose_way(
		tlb->slot[set_of(e->kind, e->vmid, e->log2size, e->va)], e);
	uint64_t bit = 1ull << e->log2size, tag = make_tag(e), held;

	if (!(atomic_load_explicit(&tlb->sizes[e->kind], memory_order_relaxed) &
	      bit))
		atomic_fetch_or(&tlb->sizes[e->kind], bit);
	if (!seq_trylock(&sl->seq, &held))
		return; /* someone else is writing it: skip the fill */
	word_write(&sl->va, e->va);
	word_write(&sl->tag, tag);
	word_write(&sl->pa, e->pa);
	seq_unlock(&sl->seq, held);
	/* Raced an invalidation: withdraw (see smmu_cache.h). */
	if (smmu_gen(smmu) != gen) {
		held = seq_lock(&sl->seq);
		if (word_read(&sl->va) == e->va && word_read(&sl->tag) == tag)
			word_write(&sl->tag, 0);
		seq_unlock(&sl->seq, held);
	}
}

static bool inv_matches(const struct tlb_inv *inv, uint64_t va, uint64_t tag)
{
	unsigned int ls = (unsigned int)FIELD_GET(TAG_LOG2SZ, tag);
	uint64_t last;

	if (!(tag & TAG_VALID) || (unsigned int)!!(tag & TAG_KIND) != inv->kind)
		return false;
	if (inv->match_vmid && FIELD_GET(TAG_VMID, tag) != inv->vmid)
		return false;
	if (inv->match_asid) {
		if (tag & TAG_GLOBAL) {
			if (inv->keep_global)
				return false;
		} else if (FIELD_GET(TAG_ASID, tag) != inv->asid) {
			return false;
		}
	}
	if (!inv->by_addr)
		return true;
	if (inv->tg && FIELD_GET(TAG_TG, tag) != inv->tg)
		return false;
	if (inv->ttl && FIELD_GET(TAG_LEVEL, tag) != inv->ttl)
		return false;
	last = va + ((1ull << ls) - 1);
	return va <= inv->last && last >= inv->first;
}

static void inv_slot(struct tlb_slot *sl, const struct tlb_inv *inv)
{
	uint64_t held;

	/* A fill in progress is waited for: see smmu_cache.h. */
	while (atomic_load(&sl->seq) & 1)
		cpu_relax();
	if (!inv_matches(inv, word_read(&sl->va), word_read(&sl->tag)))
		return;
	held = seq_lock(&sl->seq);
	if (inv_matches(inv, word_read(&sl->va), word_read(&sl->tag)))
		word_write(&sl->tag, 0);
	seq_unlock(&sl->seq, held);
}

static void inv_scan(struct sio_smmu *smmu, const struct tlb_inv *inv)
{
	for (unsigned int s = 0; s < TLB_SETS; s++)
		for (unsigned int w = 0; w < TLB_WAYS; w++)
			inv_slot(&smmu->tlb->slot[s][w], inv);
}

/* Probes an address invalidation needs: one per entry-sized block. */
static uint64_t probes(uint64_t sizes, const struct tlb_inv *inv)
{
	uint64_t n = 0;

	while (sizes) {
		unsigned int ls = (unsigned int)__builtin_ctzll(sizes);

		sizes &= sizes - 1;
		n += ls >= 64 ? 1 : (inv->last >> ls) - (inv->first >> ls) + 1;
		if (n > PROBE_LIMIT)
			break;
	}
	return n;
}

void tlb_invalidate(struct sio_smmu *smmu, const struct tlb_inv *inv)
{
	struct smmu_tlb *tlb = smmu->tlb;
	uint64_t sizes = atomic_load(&tlb->sizes[inv->kind]);

	if (!inv->by_addr || !inv->match_vmid ||
	    probes(sizes, inv) > PROBE_LIMIT) {
		inv_scan(smmu, inv);
		return;
	}
	while (sizes) {
		unsigned int ls = (unsigned int)__builtin_ctzll(sizes);
		uint64_t b = base_of(inv->first, ls);

		sizes &= sizes - 1;
		for (;;) {
			struct tlb_slot *set =
				tlb->slot[set_of(inv->kind, inv->vmid, ls, b)];

			for (unsigned int w = 0; w < TLB_WAYS; w++)
				inv_slot(&set[w], inv);
			if (ls >= 64 || b >= base_of(inv->last, ls))
				break;
			b += 1ull << ls;
		}
	}
}

void tlb_invalidate_all(struct sio_smmu *smmu)
{
	for (unsigned int s = 0; s < TLB_SETS; s++) {
		for (unsigned int w = 0; w < TLB_WAYS; w++) {
			struct tlb_slot *sl = &smmu->tlb->slot[s][w];
			uint64_t held;

			while (atomic_load(&sl->seq) & 1)
				cpu_relax();
			if (!(word_read(&sl->tag) & TAG_VALID))
				continue;
			held = seq_lock(&sl->seq);
			word_write(&sl->tag, 0);
			seq_unlock(&sl->seq, held);
		}
	}
}
