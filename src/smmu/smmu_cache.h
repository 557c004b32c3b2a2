/* SPDX-License-Identifier: MIT */
/*
 * The SMMU's caches: a configuration cache of STEs and CDs, and a TLB of
 * stage-1 (or combined stage 1+2) and stage-2 entries tagged by VMID and
 * ASID.  Both are read without locks by translating threads and changed
 * only by fills (from those threads) and by invalidation commands.
 *
 * Every entry is a small seqlock: writers make the sequence odd with a
 * compare-and-swap, write, and make it even again; readers retry (or call
 * it a miss) when the sequence moved.  All word accesses are acquire or
 * release, so readers need no fences.
 *
 * A fill that raced an invalidation must not outlive it: every
 * invalidation command first advances smmu->inv_gen, then scans.  A
 * filler took the generation before it read any configuration or table;
 * after publishing its entry it reads the generation again and withdraws
 * the entry if it moved.  With both sides sequentially consistent, either
 * the scan sees the entry or the filler sees the new generation.
 */
#ifndef SIO_SMMU_CACHE_H
#define SIO_SMMU_CACHE_H

#include "smmu_ste.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

/* Sequence helpers. */
static inline uint64_t seq_read(_Atomic uint64_t *seq)
{
	return atomic_load_explicit(seq, memory_order_acquire);
}

static inline uint64_t word_read(_Atomic uint64_t *w)
{
	return atomic_load_explicit(w, memory_order_acquire);
}

static inline void word_write(_Atomic uint64_t *w, uint64_t v)
{
	atomic_store_explicit(w, v, memory_order_release);
}

/* Try to take an entry's seqlock; returns the odd value taken. */
static inline bool seq_trylock(_Atomic uint64_t *seq, uint64_t *held)
{
	uint64_t s = atomic_load_explicit(seq, memory_order_relaxed);

	if (s & 1)
		return false;
	if (!atomic_compare_exchange_strong_explicit(
		    seq, &s, s + 1, memory_order_acquire, memory_order_relaxed))
		return false;
	*held = s + 1;
	return true;
}

static inline uint64_t seq_lock(_Atomic uint64_t *seq)
{
	uint64_t held;

	while (!seq_trylock(seq, &held))
		cpu_relax();
	return held;
}

/* Sequentially consistent, so a following generation check is ordered. */
static inline void seq_unlock(_Atomic uint64_t *seq, uint64_t held)
{
	atomic_store_explicit(seq, held + 1, memory_order_seq_cst);
}

static inline uint64_t smmu_gen(struct sio_smmu *smmu)
{
	return atomic_load_explicit(&smmu->inv_gen, memory_order_seq_cst);
}

/* --- configuration cache (cfgcache.c) --- */

/* The hot word of a cached STE: what a TLB hit needs. */
#define STE_HOT_ABORT BIT(0)
#define STE_HOT_S1    BIT(1)
#define STE_HOT_S2    BIT(2)
#define STE_HOT_S1DSS GENMASK(4, 3)
#define STE_HOT_CDMAX GENMASK(9, 5)
#define STE_HOT_VMID  GENMASK(32, 16) /* smmu_ste_vmid(): 17 bits */
/* ...and of a cached CD. */
#define CD_HOT_ASID GENMASK(15, 0)
#define CD_HOT_TBI0 BIT(16)
#define CD_HOT_TBI1 BIT(17)

#define CFGC_WORDS 16

struct cfgc_entry {
	_Atomic uint64_t seq;
	_Atomic uint64_t key; /* 0: empty */
	_Atomic uint64_t hot;
	_Atomic uint64_t body[CFGC_WORDS];
};

#define CFGC_STE_ENTRIES 1024
#define CFGC_CD_ENTRIES	 1024

struct smmu_cfgc {
	struct cfgc_entry ste[CFGC_STE_ENTRIES];
	struct cfgc_entry cd[CFGC_CD_ENTRIES];
};

/*
 * The tag of an EL2 StreamWorld's entries (NS-EL2 and NS-EL2-E2H alike,
 * which section 3.3.3 does not require to be told apart).  They have no
 * VMID (STE.S2VMID is IGNORED, section 5.2) but must not meet NS-EL1
 * entries of any VMID: the TLB's VMID tag has a 17th bit for them, so
 * each VMID and the EL2 StreamWorld have their own entries and epochs,
 * and only the EL2 TLBIs reach EL2 entries.
 */
#define TLB_VMID_EL2  0x10000u
#define TLB_VMID_TAGS (TLB_VMID_EL2 + 1)

/* The tag of a stream's TLB entries: its VMID, or TLB_VMID_EL2. */
uint32_t smmu_ste_vmid(const struct sio_smmu *smmu, const struct smmu_ste *ste);

#define CFGC_KEY_VALID BIT(63)

static inline uint64_t ste_key(uint32_t sid)
{
	return CFGC_KEY_VALID | sid;
}

static inline uint64_t cd_key(uint32_t sid, uint32_t idx)
{
	return CFGC_KEY_VALID | ((uint64_t)sid << 20) | (idx & 0xfffff);
}

static inline unsigned int cfgc_hash(uint64_t key, unsigned int entries)
{
	key *= 0x9e3779b97f4a7c15ull;
	return (unsigned int)(key >> 40) & (entries - 1);
}

static inline struct cfgc_entry *ste_slot(struct sio_smmu *smmu, uint32_t sid)
{
	return &smmu->cfgc->ste[cfgc_hash(ste_key(sid), CFGC_STE_ENTRIES)];
}

static inline struct cfgc_entry *cd_slot(struct sio_smmu *smmu, uint32_t sid,
					 uint32_t idx)
{
	return &smmu->cfgc->cd[cfgc_hash(cd_key(sid, idx), CFGC_CD_ENTRIES)];
}

/* The hot word of the entry for @key, if it is there and stable. */
static inline bool cfgc_hot(struct cfgc_entry *e, uint64_t key, uint64_t *hot)
{
	uint64_t s = seq_read(&e->seq);

	if ((s & 1) || word_read(&e->key) != key)
		return false;
	*hot = word_read(&e->hot);
	return seq_read(&e->seq) == s;
}

static inline bool cfgc_ste_hot(struct sio_smmu *smmu, uint32_t sid,
				uint64_t *hot)
{
	return cfgc_hot(ste_slot(smmu, sid), ste_key(sid), hot);
}

static inline bool cfgc_cd_hot(struct sio_smmu *smmu, uint32_t sid,
			       uint32_t idx, uint64_t *hot)
{
	return cfgc_hot(cd_slot(smmu, sid, idx), cd_key(sid, idx), hot);
}

bool cfgc_ste_get(struct sio_smmu *smmu, uint32_t sid, struct smmu_ste *ste);
void cfgc_ste_put(struct sio_smmu *smmu, uint32_t sid,
		  const struct smmu_ste *ste, uint64_t gen);
bool cfgc_cd_get(struct sio_smmu *smmu, uint32_t sid, uint32_t idx,
		 struct smmu_s1 *s1);
void cfgc_cd_put(struct sio_smmu *smmu, uint32_t sid, uint32_t idx,
		 const struct smmu_s1 *s1, uint64_t gen);

/* Invalidation: STEs (and their CDs) of SIDs [first, last]; CDs. */
void cfgc_inv_ste(struct sio_smmu *smmu, uint32_t first, uint32_t last);
void cfgc_inv_cd(struct sio_smmu *smmu, uint32_t sid, uint32_t idx);
void cfgc_inv_cd_all(struct sio_smmu *smmu, uint32_t sid);

/* --- TLB (tlb.c) --- */

/* Permission bits of an entry: what each kind of access may do. */
#define TLB_R_PRIV BIT(0)
#define TLB_W_PRIV BIT(1)
#define TLB_X_PRIV BIT(2)
#define TLB_R_USER BIT(3)
#define TLB_W_USER BIT(4)
#define TLB_X_USER BIT(5)
#define TLB_DEVICE BIT(6)
#define TLB_RWX                                                           \
	(TLB_R_PRIV | TLB_W_PRIV | TLB_X_PRIV | TLB_R_USER | TLB_W_USER | \
	 TLB_X_USER)

/* The permission bit an access needs. */
static inline uint64_t tlb_need(bool write, bool instr, bool priv)
{
	uint64_t b = instr ? TLB_X_PRIV : write ? TLB_W_PRIV : TLB_R_PRIV;

	return priv ? b : b << 3;
}

/*
 * Entry kinds: stage 1 (alone or combined with stage 2), stage 2 only,
 * and the walk caches of each stage.  A walk entry holds the address of
 * the last-level table for the block of input addresses that table
 * covers (an IPA for a nested stage 1), so that a TLB miss reads one
 * descriptor instead of four; its perm field holds the stage-1
 * hierarchical limits (WALK_*) gathered above it.  Odd kinds are stage 2
 * and carry no ASID.
 */
#define TLB_KIND_S1	 0
#define TLB_KIND_S2	 1
#define TLB_KIND_S1_WALK 2
#define TLB_KIND_S2_WALK 3
/*
 * A nested stage 1's walk entry with stage 2 applied: the PA of the
 * last-level table, so that a nested miss reads its descriptor without
 * translating the table's IPA.  A combined stage-1 + stage-2 entry, as
 * the architecture allows: invalidated with the stage-1 walk entries
 * (TLBI_NH_*, S12_VMALL, NSNH_ALL), not by TLBI_S2_IPA, after which
 * software invalidates combined entries anyway (Linux follows its
 * stage-2 TLBIs with TLBI_NH_ALL for a nesting parent's VMID).
 */
#define TLB_KIND_S1_WALK_PA 4
#define TLB_KINDS	    5

#define WALK_NO_EL0 BIT(0) /* APTable[0] */
#define WALK_RO	    BIT(1) /* APTable[1] */
#define WALK_UXN    BIT(2) /* UXNTable */
#define WALK_PXN    BIT(3) /* PXNTable */

/* What a fill or a hit carries. */
struct tlb_ent {
	uint64_t va; /* input address of the start of the entry */
	uint64_t pa; /* output address of the start */
	unsigned int log2size;
	unsigned int kind;
	uint32_t vmid; /* a VMID, or TLB_VMID_EL2 */
	uint16_t asid;
	bool global;	    /* stage 1 nG == 0: matches any ASID */
	unsigned int tg;    /* TLBI TG encoding of the granule: 1, 2, 3 */
	unsigned int level; /* level of the leaf */
	uint64_t perm;	    /* TLB_* */
	/*
	 * A fill's: the epoch of (vmid, asid)'s bucket as its walk read it
	 * (tlb_asid_epoch(), after the walk took its generation); stage-1
	 * kinds only.
	 */
	uint64_t asid_epoch;
};

#define TLB_SETS 4096
#define TLB_WAYS 4

/*
 * A set, laid out by field rather than by way: the four addresses and
 * tags share the first cache line, so a probe that misses (every TLB
 * miss probes at least once) and the choice of a way to fill touch one
 * line; the sequence words and outputs, needed only on a match, are in
 * the second.  Way w is the w-th element of each array.
 */
struct tlb_set {
	_Atomic uint64_t va[TLB_WAYS];
	_Atomic uint64_t tag[TLB_WAYS];
	_Atomic uint64_t seq[TLB_WAYS];
	_Atomic uint64_t pa[TLB_WAYS];
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct tlb_set) == 128, "two cache lines a set");

/*
 * Each VMID's epoch of each kind of entry, kept in the low bits of every
 * entry's address word, which the granule leaves clear: an entry of an
 * older epoch never matches.  A VMID's epochs share one word, so a
 * translation's lookups of every kind find them in one cache line.  So the
 * invalidations that remove everything of a VMID's stage (TLBI_NH_ALL,
 * TLBI_S12_VMALL), which a nesting parent's every unmap issues, advance the
 * epoch instead of scanning the whole TLB.  Only when an epoch wraps does a
 * scan clear the VMID's entries of every epoch, so that none can come back to
 * life.
 */
#define TLB_EPOCH_BITS 12
#define TLB_EPOCH_MASK ((1ull << TLB_EPOCH_BITS) - 1)

/*
 * The same for an ASID (TLBI_NH_ASID): each (VMID, ASID) hashes to one of
 * TLB_ASID_BUCKETS epochs, and an ASID-tagged entry (stage 1, not global)
 * keeps the sum of its VMID's epoch of its kind and its bucket's epoch.
 * A bump of either makes the sum differ.  For an old sum to come back,
 * 4096 bumps would have to fall between an entry's fill and its lookup;
 * each of the two is scanned clean every TLB_EPOCH_SCAN bumps, so fewer
 * than 2048 + 2048 ever do.  ASIDs that share a bucket lose their entries
 * together, an over-invalidation the architecture allows (one pair in
 * TLB_ASID_BUCKETS).
 */
#define TLB_ASID_BUCKETS 4096
#define TLB_EPOCH_SCAN	 2048

struct smmu_tlb {
	_Atomic uint64_t sizes[TLB_KINDS]; /* per kind: entry sizes present */
	_Atomic uint8_t victim[TLB_SETS];  /* round-robin replacement */
	struct tlb_set set[TLB_SETS];
	_Atomic uint64_t epochs[TLB_VMID_TAGS]; /* TLB_EPOCH_BITS a kind */
	_Atomic uint16_t asid_epochs[TLB_ASID_BUCKETS];
};

_Static_assert(TLB_KINDS *TLB_EPOCH_BITS <= 64, "a VMID's epochs in a word");

static inline uint64_t tlb_epoch_of(uint64_t epochs, unsigned int kind)
{
	return (epochs >> (kind * TLB_EPOCH_BITS)) & TLB_EPOCH_MASK;
}

/* A VMID's epochs, for its lookups. */
static inline uint64_t tlb_epochs(struct smmu_tlb *tlb, uint32_t vmid)
{
	return atomic_load_explicit(&tlb->epochs[vmid], memory_order_relaxed);
}

/*
 * The bucket of (@vmid, @asid): one VMID's first 4096 ASIDs (Linux hands
 * them out in order) all apart, and no multiply on a translation's path.
 */
static inline unsigned int tlb_asid_bucket(uint32_t vmid, uint16_t asid)
{
	return (asid ^ ((unsigned int)vmid << 5) ^ (vmid >> 7) ^ (asid >> 12)) &
	       (TLB_ASID_BUCKETS - 1);
}

/* The epoch of (@vmid, @asid)'s bucket, for its stage-1 lookups. */
static inline uint64_t tlb_asid_epoch(struct smmu_tlb *tlb, uint32_t vmid,
				      uint16_t asid)
{
	return atomic_load_explicit(
		&tlb->asid_epochs[tlb_asid_bucket(vmid, asid)],
		memory_order_relaxed);
}

/* The tag word of a slot. */
#define TAG_VALID  BIT(0)
#define TAG_GLOBAL BIT(2)
#define TAG_LOG2SZ GENMASK(8, 3)
#define TAG_TG	   GENMASK(10, 9)
#define TAG_LEVEL  GENMASK(12, 11)
#define TAG_PERM   GENMASK(19, 13)
#define TAG_KIND   GENMASK(22, 20)
#define TAG_EL2	   BIT(23) /* the VMID is TLB_VMID_EL2 */
#define TAG_VMID   GENMASK(47, 32)
#define TAG_ASID   GENMASK(63, 48)
/* What identifies an entry apart from its address and ASID. */
#define TAG_ID (TAG_VALID | TAG_KIND | TAG_LOG2SZ | TAG_EL2 | TAG_VMID)

/* A VMID (or TLB_VMID_EL2) as tag bits, and back. */
static inline uint64_t tlb_tag_vmid(uint32_t vmid)
{
	return FIELD_PREP(TAG_VMID, vmid & 0xffff) |
	       (vmid & TLB_VMID_EL2 ? TAG_EL2 : 0);
}

static inline uint32_t tlb_vmid_of_tag(uint64_t tag)
{
	return (uint32_t)FIELD_GET(TAG_VMID, tag) |
	       (tag & TAG_EL2 ? TLB_VMID_EL2 : 0);
}

static inline unsigned int tlb_set_of(unsigned int kind, uint32_t vmid,
				      unsigned int log2size, uint64_t base)
{
	uint64_t h = (base >> log2size) ^ ((uint64_t)vmid << 44) ^
		     ((uint64_t)kind << 60) ^ ((uint64_t)log2size << 36);

	h *= 0x9e3779b97f4a7c15ull;
	return (unsigned int)(h >> 40) & (TLB_SETS - 1);
}

static inline uint64_t tlb_tag_id(unsigned int kind, uint32_t vmid,
				  unsigned int log2size)
{
	return TAG_VALID | FIELD_PREP(TAG_KIND, kind) |
	       FIELD_PREP(TAG_LOG2SZ, log2size) | tlb_tag_vmid(vmid);
}

/*
 * The TLB's view of a VA: bits [63:56] follow bit 55, which is what they
 * are for an address TTB0 or TTB1 accepts without TBI, and what TBI makes
 * of any other.  Invalidation addresses get the same treatment (TBI is
 * permitted to apply to them, section 4.4.2).
 */
static inline uint64_t tlb_va_key(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 8) >> 8);
}

static inline uint64_t tlb_base_of(uint64_t va, unsigned int log2size)
{
	return log2size >= 64 ? 0 : va & ~((1ull << log2size) - 1);
}

/* The address word of an entry: its base and the epoch it lives in. */
static inline uint64_t tlb_key(uint64_t base, unsigned int kind, bool global,
			       uint64_t epoch, uint64_t asid_epoch)
{
	if ((kind & 1) || global)
		return base | epoch;
	return base | ((epoch + asid_epoch) & TLB_EPOCH_MASK);
}

/*
 * Probe one set for @base.  The ways' addresses are compared all at once,
 * so which way holds the entry costs no mispredicted branch; a global
 * entry's word carries its VMID's epoch alone.
 */
static inline bool tlb_probe(struct tlb_set *set, unsigned int kind,
			     uint64_t want, uint16_t asid, uint64_t base,
			     uint64_t epoch, uint64_t asid_epoch,
			     struct tlb_ent *e)
{
	uint64_t key = tlb_key(base, kind, false, epoch, asid_epoch);
	uint64_t gkey = base | epoch;
	unsigned int m = 0;

	/*
	 * Whole: the loads of atomics are not unrolled otherwise.  The tags
	 * are in the addresses' line and filter the candidates before the
	 * sequence words' line is touched: an invalidated entry keeps its
	 * address word, so without them the same page looked up again
	 * after an invalidation would read that line for nothing.
	 */
#pragma GCC unroll 4
	for (unsigned int w = 0; w < TLB_WAYS; w++) {
		uint64_t va = word_read(&set->va[w]);
		uint64_t tag = word_read(&set->tag[w]);

		m |= (unsigned int)((va == key || va == gkey) &&
				    (tag & TAG_ID) == want)
		     << w;
	}
	while (m) {
		unsigned int w = (unsigned int)__builtin_ctz(m);
		uint64_t s = seq_read(&set->seq[w]), tag, pa;

		m &= m - 1;
		tag = word_read(&set->tag[w]);
		if ((tag & TAG_ID) != want ||
		    (!(kind & 1) && !(tag & TAG_GLOBAL) &&
		     FIELD_GET(TAG_ASID, tag) != asid))
			continue;
		pa = word_read(&set->pa[w]);
		if (word_read(&set->va[w]) !=
			    ((tag & TAG_GLOBAL) ? gkey : key) ||
		    (s & 1) || seq_read(&set->seq[w]) != s)
			continue;
		e->va = base;
		e->pa = pa;
		e->perm = FIELD_GET(TAG_PERM, tag);
		e->log2size = (unsigned int)FIELD_GET(TAG_LOG2SZ, tag);
		e->global = tag & TAG_GLOBAL;
		e->tg = (unsigned int)FIELD_GET(TAG_TG, tag);
		e->level = (unsigned int)FIELD_GET(TAG_LEVEL, tag);
		return true;
	}
	return false;
}

/*
 * Look @va up among entries of @kind for (@vmid, @asid), whose epochs are
 * @epochs (tlb_epochs(), loaded once for all the lookups of a
 * translation) and @asid_epoch (tlb_asid_epoch(); 0 for stage 2): one
 * probe per entry size present.  A hit fills @e (va, pa, log2size, perm,
 * global, tg, level).
 */
static inline bool tlb_lookup(struct sio_smmu *smmu, unsigned int kind,
			      uint32_t vmid, uint16_t asid, uint64_t va,
			      uint64_t epochs, uint64_t asid_epoch,
			      struct tlb_ent *e)
{
	struct smmu_tlb *tlb = smmu->tlb;
	uint64_t sizes =
		atomic_load_explicit(&tlb->sizes[kind], memory_order_relaxed);
	uint64_t epoch = tlb_epoch_of(epochs, kind);

	while (sizes) {
		unsigned int ls = (unsigned int)__builtin_ctzll(sizes);
		uint64_t base = tlb_base_of(va, ls);

		sizes &= sizes - 1;
		if (tlb_probe(&tlb->set[tlb_set_of(kind, vmid, ls, base)], kind,
			      tlb_tag_id(kind, vmid, ls), asid, base, epoch,
			      asid_epoch, e))
			return true;
	}
	return false;
}
void tlb_insert(struct sio_smmu *smmu, const struct tlb_ent *e, uint64_t gen);

/* An invalidation's scope. */
struct tlb_inv {
	unsigned int kind;
	bool match_vmid, match_asid, keep_global, by_addr;
	bool by_bucket; /* the ASID-tagged entries of asid_epochs[bucket] */
	unsigned int bucket;
	uint32_t vmid; /* a VMID, or TLB_VMID_EL2 */
	uint16_t asid;
	uint64_t first, last; /* by_addr: the address range, inclusive */
	unsigned int tg, ttl; /* 0: any granule / any level */
};

void tlb_invalidate(struct sio_smmu *smmu, const struct tlb_inv *inv);
/* Several scopes at once (at most TLB_KINDS): one scan if they need one. */
void tlb_invalidate_many(struct sio_smmu *smmu, const struct tlb_inv *inv,
			 unsigned int n);
void tlb_invalidate_all(struct sio_smmu *smmu);

/*
 * --- micro-TLB ---
 *
 * In front of everything, a cache of whole translations: (StreamID,
 * SubstreamID, 4K page of the input) to the output page and what it
 * allows, taken from TLB hits.  It skips the STE, CD and TLB lookups of a
 * hit.  Rather than being searched by invalidations, every entry carries
 * the micro-TLB generation it was filled in, and the generation advances
 * after each invalidation command has finished its scans (and whenever a
 * racing fill withdraws itself), so no entry lives across an
 * invalidation.  A filler reads the generation before it looks anything
 * up: either it reads the old one, and its entry dies with the advance,
 * or the new one, and the caches it reads are already clean.
 *
 * Two-way set-associative, a set to a cache line: the streams of several
 * devices at once (or of one device's several address spaces) would
 * otherwise take each other's slots one lookup in eight, each such miss
 * paying for the whole TLB path; a probe still touches one line.
 */
#define UTLB_ENTRIES 16384
#define UTLB_WAYS    2

/*
 * 32 bytes a slot, a set of two to a cache line, so that a hot set of a
 * thousand pages stays in the L1 cache.  The seqlock word carries the
 * generation too: bit 0 is set while a filler writes, bits 31..1 count
 * fills, and bits 63..32 hold the low 32 bits of the generation the entry
 * was filled in.  The count is wide so that a lookup preempted between
 * its two reads of the word cannot see it come back to the same value
 * while pages that share the set take turns in the slot (2^31 fills,
 * not 2^15).  The generation is narrow, so every UTLB_SWEEP advances a
 * sweep clears each slot of an older one, long before its tag could
 * match again; and a filler checks the generation once more after it
 * publishes, taking back an entry a long preemption made stale.
 */
struct utlb_slot {
	_Atomic uint64_t seqgen;
	_Atomic uint64_t key0; /* page | SSV << 1 | valid */
	_Atomic uint64_t key1; /* StreamID << 32 | SubstreamID */
	_Atomic uint64_t pa;   /* output page | TLB_* permissions */
};

_Static_assert(sizeof(struct utlb_slot) * UTLB_WAYS == 64, "a set to a cache "
							   "line");

#define UTLB_GEN_SHIFT 32
#define UTLB_SWEEP     (1ull << 31)

struct smmu_utlb {
	struct utlb_slot slot[UTLB_ENTRIES] __attribute__((aligned(64)));
};

static inline uint64_t utlb_gen(struct sio_smmu *smmu)
{
	return atomic_load_explicit(&smmu->utlb_gen, memory_order_acquire);
}

/* tlb.c: clear every slot not of generation @gen. */
void utlb_sweep(struct sio_smmu *smmu, uint64_t gen);

static inline void utlb_advance(struct sio_smmu *smmu)
{
	uint64_t gen = atomic_fetch_add(&smmu->utlb_gen, 1) + 1;

	if (!(gen % UTLB_SWEEP))
		utlb_sweep(smmu, gen);
}

static inline bool utlb_live(uint64_t seqgen, uint64_t gen)
{
	return !(seqgen & 1) && (seqgen >> UTLB_GEN_SHIFT) ==
					(gen & (UINT64_MAX >> UTLB_GEN_SHIFT));
}

/* The first way of the set for (@k0, @k1). */
static inline struct utlb_slot *utlb_set_of(struct sio_smmu *smmu, uint64_t k0,
					    uint64_t k1)
{
	uint64_t h =
		(k0 ^ (k1 * 0xff51afd7ed558ccdull)) * 0x9e3779b97f4a7c15ull;

	return &smmu->utlb->slot[((h >> 40) & (UTLB_ENTRIES / UTLB_WAYS - 1)) *
				 UTLB_WAYS];
}

static inline uint64_t utlb_key0(const struct sio_smmu_txn *txn)
{
	return (txn->addr & ~0xfffull) | (txn->ssv ? 2 : 0) | 1;
}

static inline uint64_t utlb_key1(const struct sio_smmu_txn *txn)
{
	return ((uint64_t)txn->sid << 32) | (txn->ssv ? txn->ssid : 0);
}

/* One way: the output page and permissions, if it holds (@k0, @k1) live. */
static inline bool utlb_way_lookup(struct sio_smmu *smmu, struct utlb_slot *sl,
				   uint64_t k0, uint64_t k1, uint64_t *pa)
{
	uint64_t s = seq_read(&sl->seqgen), v;

	if (word_read(&sl->key0) != k0 || word_read(&sl->key1) != k1)
		return false;
	v = word_read(&sl->pa);
	if (!utlb_live(s, utlb_gen(smmu)) || seq_read(&sl->seqgen) != s)
		return false;
	*pa = v;
	return true;
}

/* The output page and permissions for @txn's page, if cached and live. */
static inline bool utlb_lookup(struct sio_smmu *smmu,
			       const struct sio_smmu_txn *txn, uint64_t *pa)
{
	uint64_t k0 = utlb_key0(txn), k1 = utlb_key1(txn);
	struct utlb_slot *set = utlb_set_of(smmu, k0, k1);

	return utlb_way_lookup(smmu, &set[0], k0, k1, pa) ||
	       utlb_way_lookup(smmu, &set[1], k0, k1, pa);
}

/*
 * Which of a full set's ways a fill takes: roughly at random, from the
 * cycle counter's low bits where reading it is cheap; elsewhere the
 * ways in turn (the two fill counts' parity changes with every fill).
 */
static inline unsigned int utlb_pick(struct utlb_slot *set)
{
#if defined(__x86_64__) || defined(__i386__)
	(void)set;
	return (unsigned int)(__builtin_ia32_rdtsc() >> 4) % UTLB_WAYS;
#else
	return (unsigned int)((word_read(&set[0].seqgen) ^
			       word_read(&set[1].seqgen)) >>
			      1) %
	       UTLB_WAYS;
#endif
}

/*
 * The way to fill: the one holding this page, else one without a live
 * entry, else either (utlb_pick()).  A new working set
 * moves in at its first misses: a set that kept its old live pages would
 * send each new one down the whole TLB path again and again, all of a
 * phase's pages paying it after an earlier phase filled the micro-TLB.
 * Three pages sharing a set take turns; a turn follows a miss, which
 * costs a TLB lookup anyway.
 */
static inline struct utlb_slot *utlb_victim(struct utlb_slot *set, uint64_t k0,
					    uint64_t k1, uint64_t gen)
{
	for (unsigned int w = 0; w < UTLB_WAYS; w++)
		if (word_read(&set[w].key0) == k0 &&
		    word_read(&set[w].key1) == k1)
			return &set[w];
	for (unsigned int w = 0; w < UTLB_WAYS; w++)
		if (!(word_read(&set[w].key0) & 1) ||
		    !utlb_live(word_read(&set[w].seqgen), gen))
			return &set[w];
	return &set[utlb_pick(set)];
}

static inline void utlb_fill(struct sio_smmu *smmu,
			     const struct sio_smmu_txn *txn, uint64_t pa_perm,
			     uint64_t gen)
{
	uint64_t k0 = utlb_key0(txn), k1 = utlb_key1(txn), held;
	struct utlb_slot *sl =
		utlb_victim(utlb_set_of(smmu, k0, k1), k0, k1, gen);

	if (!seq_trylock(&sl->seqgen, &held))
		return;
	word_write(&sl->key0, k0);
	word_write(&sl->key1, k1);
	word_write(&sl->pa, pa_perm);
	atomic_store_explicit(&sl->seqgen,
			      (gen << UTLB_GEN_SHIFT) |
				      ((held + 1) &
				       ((1ull << UTLB_GEN_SHIFT) - 1)),
			      memory_order_release);
	/* stale already (only a long preemption gets here): take it back */
	if (__builtin_expect(utlb_gen(smmu) != gen, 0) &&
	    word_read(&sl->key0) == k0)
		word_write(&sl->key0, 0);
}

#endif /* SIO_SMMU_CACHE_H */
