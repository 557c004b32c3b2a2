// SPDX-License-Identifier: MIT
/*
 * The TLB: 4-way set-associative, one entry per leaf (block or page) as
 * the walk found it, or for a nested translation one combined entry of
 * the smaller of the two leaves.  Stage-1 and combined entries are tagged
 * by VMID (an EL2 StreamWorld's by TLB_VMID_EL2) and ASID, except global
 * ones (nG == 0), which match any ASID of their VMID; stage-2 entries by
 * VMID, and they are told apart from stage-1 ones so that invalidation by
 * IPA finds only them (section 4.4.3.1).  The set is chosen without the ASID so
 * that a global entry is found from every ASID.
 *
 * The walk caches share the structure: walk entries are further kinds,
 * one per last-level table, tagged like the leaves of their stage and
 * removed by the same commands unless those say Leaf == 1.
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

/* Beyond this many probes, an invalidation scans the whole TLB. */
#define PROBE_LIMIT 256

static uint64_t make_tag(const struct tlb_ent *e)
{
	return tlb_tag_id(e->kind, e->vmid, e->log2size) |
	       (e->global ? TAG_GLOBAL : 0) | FIELD_PREP(TAG_TG, e->tg) |
	       FIELD_PREP(TAG_LEVEL, e->level) | FIELD_PREP(TAG_PERM, e->perm) |
	       FIELD_PREP(TAG_ASID, e->asid);
}

/*
 * The way to fill: the one holding this key, a free one, or the next in
 * round-robin order — so that entries sharing a set take turns rather
 * than evicting each other for ever.  The ways' words are compared all
 * at once, as a probe compares them.
 */
static unsigned int choose_way(struct smmu_tlb *tlb, unsigned int s,
			       const struct tlb_ent *e, uint64_t key)
{
	struct tlb_set *set = &tlb->set[s];
	uint64_t want = tlb_tag_id(e->kind, e->vmid, e->log2size);
	unsigned int same = 0, free_ways = 0;
	uint8_t victim;

#pragma GCC unroll 4
	for (unsigned int w = 0; w < TLB_WAYS; w++) {
		uint64_t va = word_read(&set->va[w]);
		uint64_t tag = word_read(&set->tag[w]);

		same |= (unsigned int)(va == key && (tag & TAG_ID) == want)
			<< w;
		free_ways |= (unsigned int)!(tag & TAG_VALID) << w;
	}
	/* the same address: the same entry if its ASID or globality agree */
	while (same) {
		unsigned int w = (unsigned int)__builtin_ctz(same);
		uint64_t tag = word_read(&set->tag[w]);

		same &= same - 1;
		if ((e->kind & 1) || ((tag & TAG_GLOBAL) && e->global) ||
		    (!(tag & TAG_GLOBAL) && !e->global &&
		     FIELD_GET(TAG_ASID, tag) == e->asid))
			return w;
	}
	if (free_ways)
		return (unsigned int)__builtin_ctz(free_ways);
	/*
	 * Not a read-modify-write: fillers racing here may pick the same
	 * way, which costs a replacement policy nothing, and the locked
	 * add would cost every fill into a full set.
	 */
	victim = atomic_load_explicit(&tlb->victim[s], memory_order_relaxed);
	atomic_store_explicit(&tlb->victim[s], (uint8_t)(victim + 1),
			      memory_order_relaxed);
	return victim % TLB_WAYS;
}

void tlb_insert(struct sio_smmu *smmu, const struct tlb_ent *e, uint64_t gen)
{
	struct smmu_tlb *tlb = smmu->tlb;
	unsigned int s = tlb_set_of(e->kind, e->vmid, e->log2size, e->va);
	struct tlb_set *set = &tlb->set[s];
	/* the epochs now: one that moved since @gen withdraws the entry */
	uint64_t key = tlb_key(e->va, e->kind, e->global,
			       tlb_epoch_of(atomic_load(&tlb->epochs[e->vmid]),
					    e->kind),
			       e->asid_epoch);
	unsigned int w = choose_way(tlb, s, e, key);
	uint64_t bit = 1ull << e->log2size, tag = make_tag(e), held;

	if (!(atomic_load_explicit(&tlb->sizes[e->kind], memory_order_relaxed) &
	      bit))
		atomic_fetch_or(&tlb->sizes[e->kind], bit);
	if (!seq_trylock(&set->seq[w], &held))
		return; /* someone else is writing it: skip the fill */
	word_write(&set->va[w], key);
	word_write(&set->tag[w], tag);
	word_write(&set->pa[w], e->pa);
	seq_unlock(&set->seq[w], held);
	/* Raced an invalidation: withdraw (see smmu_cache.h). */
	if (smmu_gen(smmu) != gen) {
		held = seq_lock(&set->seq[w]);
		if (word_read(&set->va[w]) == key &&
		    word_read(&set->tag[w]) == tag)
			word_write(&set->tag[w], 0);
		seq_unlock(&set->seq[w], held);
		utlb_advance(smmu);
	}
}

static bool inv_matches(const struct tlb_inv *inv, uint64_t va, uint64_t tag)
{
	unsigned int ls = (unsigned int)FIELD_GET(TAG_LOG2SZ, tag);
	uint64_t last;

	va &= ~TLB_EPOCH_MASK;
	if (!(tag & TAG_VALID) || FIELD_GET(TAG_KIND, tag) != inv->kind)
		return false;
	if (inv->by_bucket)
		return !(tag & TAG_GLOBAL) &&
		       tlb_asid_bucket(tlb_vmid_of_tag(tag),
				       (uint16_t)FIELD_GET(TAG_ASID, tag)) ==
			       inv->bucket;
	if (inv->match_vmid && tlb_vmid_of_tag(tag) != inv->vmid)
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

/*
 * Remove way @w of @set if it matches one of the @n scopes, by clearing
 * its tag: one plain store, no lock.  Only the set's first line is read.
 * A reader that took the tag before the store used the entry while the
 * command ran, as a translation that raced it may (the CMD_SYNC waits
 * for it).  A fill in progress there, whatever it becomes, withdraws
 * itself, since every invalidation advanced smmu->inv_gen before it
 * looks (smmu_cache.h); and one that replaced the entry since the load
 * is lost with it, which the architecture allows a TLB at any time.
 */
static void inv_way(struct tlb_set *set, unsigned int w,
		    const struct tlb_inv *const *inv, unsigned int n)
{
	uint64_t va = word_read(&set->va[w]), tag = word_read(&set->tag[w]);

	if (!(tag & TAG_VALID))
		return;
	for (unsigned int i = 0; i < n; i++) {
		if (inv_matches(inv[i], va, tag)) {
			word_write(&set->tag[w], 0);
			return;
		}
	}
}

/* One pass over the whole TLB for @n scopes (one per kind of entry). */
static void inv_scan(struct sio_smmu *smmu, const struct tlb_inv *const *inv,
		     unsigned int n)
{
	for (unsigned int s = 0; s < TLB_SETS; s++) {
		/* the walk is memory-bound: ask for sets well ahead */
		if (s + 16 < TLB_SETS)
			__builtin_prefetch(&smmu->tlb->set[s + 16]);
		for (unsigned int w = 0; w < TLB_WAYS; w++)
			inv_way(&smmu->tlb->set[s], w, inv, n);
	}
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

/*
 * Everything of a VMID's stage: a new epoch.  The caller advanced
 * smmu->inv_gen first, so a fill that read the old epoch either sees the
 * generation move and withdraws, or was published before the wrap's scan
 * (made after the epoch's store) looks at it.
 */
static void inv_epoch(struct sio_smmu *smmu, const struct tlb_inv *inv)
{
	_Atomic uint64_t *ep = &smmu->tlb->epochs[inv->vmid];
	unsigned int shift = inv->kind * TLB_EPOCH_BITS;
	uint64_t old = atomic_load(ep), next, word;

	/* commands run one at a time: no other writer */
	next = (tlb_epoch_of(old, inv->kind) + 1) & TLB_EPOCH_MASK;
	word = (old & ~(TLB_EPOCH_MASK << shift)) | next << shift;
	atomic_store(ep, word);
	if (!(next % TLB_EPOCH_SCAN))
		inv_scan(smmu, &inv, 1);
}

/*
 * Everything of an ASID but its global leaves (TLBI_NH_ASID): a new epoch
 * of its bucket, for every kind at once (smmu_cache.h); every
 * TLB_EPOCH_SCAN of them a scan clears the bucket's entries of every
 * epoch.
 */
static void inv_asid_epoch(struct sio_smmu *smmu, uint32_t vmid, uint16_t asid)
{
	static const unsigned int kinds[] = {TLB_KIND_S1, TLB_KIND_S1_WALK,
					     TLB_KIND_S1_WALK_PA};
	unsigned int b = tlb_asid_bucket(vmid, asid);
	_Atomic uint16_t *ep = &smmu->tlb->asid_epochs[b];
	uint16_t next = (uint16_t)((atomic_load(ep) + 1) & TLB_EPOCH_MASK);
	struct tlb_inv scope[3];
	const struct tlb_inv *scan[3];

	atomic_store(ep, next);
	if (next % TLB_EPOCH_SCAN)
		return;
	for (unsigned int i = 0; i < 3; i++) {
		scope[i] = (struct tlb_inv){
			.kind = kinds[i], .by_bucket = true, .bucket = b};
		scan[i] = &scope[i];
	}
	inv_scan(smmu, scan, 3);
}

/* TLBI_NH_ASID's scope, for a stage-1 kind of entry. */
static bool asid_wide(const struct tlb_inv *inv)
{
	return !inv->by_addr && inv->match_vmid && inv->match_asid &&
	       inv->keep_global && !(inv->kind & 1);
}

/* By address, probing the sets the range's entries would be in. */
static void inv_probe(struct sio_smmu *smmu, const struct tlb_inv *inv,
		      uint64_t sizes)
{
	struct smmu_tlb *tlb = smmu->tlb;

	while (sizes) {
		unsigned int ls = (unsigned int)__builtin_ctzll(sizes);
		uint64_t b = tlb_base_of(inv->first, ls);

		sizes &= sizes - 1;
		for (;;) {
			struct tlb_set *set = &tlb->set[tlb_set_of(
				inv->kind, inv->vmid, ls, b)];

			for (unsigned int w = 0; w < TLB_WAYS; w++)
				inv_way(set, w, &inv, 1);
			if (ls >= 64 || b >= tlb_base_of(inv->last, ls))
				break;
			b += 1ull << ls;
		}
	}
}

void tlb_invalidate_many(struct sio_smmu *smmu, const struct tlb_inv *inv,
			 unsigned int n)
{
	const struct tlb_inv *scan[TLB_KINDS];
	unsigned int nscan = 0;
	bool asid_done = false;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t sizes = atomic_load(&smmu->tlb->sizes[inv[i].kind]);

		if (!inv[i].by_addr && inv[i].match_vmid &&
		    !inv[i].match_asid) {
			inv_epoch(smmu, &inv[i]);
		} else if (asid_wide(&inv[i])) {
			/* one bucket epoch serves the ASID's every kind */
			if (!asid_done)
				inv_asid_epoch(smmu, inv[i].vmid, inv[i].asid);
			asid_done = true;
		} else if (!sizes) {
			continue; /* no entry of that kind was ever made */
		} else if (!inv[i].by_addr ||
			   probes(sizes, &inv[i]) > PROBE_LIMIT) {
			scan[nscan++] = &inv[i];
		} else {
			inv_probe(smmu, &inv[i], sizes);
		}
	}
	if (nscan)
		inv_scan(smmu, scan, nscan);
}

void tlb_invalidate(struct sio_smmu *smmu, const struct tlb_inv *inv)
{
	tlb_invalidate_many(smmu, inv, 1);
}

/*
 * Plain stores, as inv_way(): a reader that took the key before the
 * store used an entry that was dead anyway, a fill in progress loses its
 * entry or, publishing after the store, checks its generation again.
 */
void utlb_sweep(struct sio_smmu *smmu, uint64_t gen)
{
	uint64_t tag = gen & (UINT64_MAX >> UTLB_GEN_SHIFT);

	for (unsigned int i = 0; i < UTLB_ENTRIES; i++) {
		struct utlb_slot *sl = &smmu->utlb->slot[i];

		if (word_read(&sl->seqgen) >> UTLB_GEN_SHIFT != tag)
			word_write(&sl->key0, 0);
	}
}

void tlb_invalidate_all(struct sio_smmu *smmu)
{
	for (unsigned int s = 0; s < TLB_SETS; s++) {
		struct tlb_set *set = &smmu->tlb->set[s];

		/* as inv_way(): a fill in progress withdraws itself */
		for (unsigned int w = 0; w < TLB_WAYS; w++)
			if (word_read(&set->tag[w]) & TAG_VALID)
				word_write(&set->tag[w], 0);
	}
}
