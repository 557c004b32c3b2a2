// SPDX-License-Identifier: MIT
/*
 * The configuration cache: decoded STEs by StreamID and decoded CDs by
 * StreamID and CD-table index (section 16.2; CMD_CFGI_CD names a CD by
 * the index it was fetched from, section 4.3.3).  Direct-mapped; a fill
 * evicts whatever shared its slot, as a cache may.  Only structures that
 * decoded without error are cached, so a fixed STE or CD is seen at once
 * while a valid one, once used, stays in use until a CMD_CFGI_* names it.
 */
#include <string.h>

#include "smmu_cache.h"

_Static_assert(sizeof(struct smmu_ste) <= CFGC_WORDS * 8, "STE body");
_Static_assert(sizeof(struct smmu_s1) <= CFGC_WORDS * 8, "CD body");

/*
 * Read the hot word (and with @body, the whole entry) if @key is there.
 * The body is copied straight into the caller's: on false (a miss, or an
 * entry that changed under us) it may hold a torn copy, which every
 * caller overwrites with the fetch a miss makes.
 */
static bool entry_read(struct cfgc_entry *e, uint64_t key, uint64_t *hot,
		       void *body, size_t len)
{
	uint64_t s = seq_read(&e->seq);

	if ((s & 1) || word_read(&e->key) != key)
		return false;
	*hot = word_read(&e->hot);
	if (body) {
		uint64_t *out = body, v[CFGC_WORDS];

		_Static_assert(sizeof(struct smmu_ste) % 8 == 0 &&
				       sizeof(struct smmu_s1) % 8 == 0,
			       "bodies are whole words");
		/*
		 * Every load before any store, into registers.  Copied word
		 * by word, each load followed a store to the caller's copy
		 * on the stack, and that cost a nested TLB miss 15-25 ns in
		 * most processes on the Zen 4 this was measured on (the
		 * cause inside the CPU not pinned down: a small loop of the
		 * same copy shows nothing, whatever the two addresses).
		 */
#pragma GCC unroll 16
		for (size_t i = 0; i < CFGC_WORDS; i++)
			if (i < len / 8)
				v[i] = word_read(&e->body[i]);
#pragma GCC unroll 16
		for (size_t i = 0; i < CFGC_WORDS; i++)
			if (i < len / 8)
				out[i] = v[i];
	}
	return seq_read(&e->seq) == s;
}

static void entry_clear_if(struct cfgc_entry *e, uint64_t key)
{
	uint64_t held = seq_lock(&e->seq);

	if (word_read(&e->key) == key)
		word_write(&e->key, 0);
	seq_unlock(&e->seq, held);
}

static void entry_fill(struct sio_smmu *smmu, struct cfgc_entry *e,
		       uint64_t key, uint64_t hot, const void *body, size_t len,
		       uint64_t gen)
{
	uint64_t words[CFGC_WORDS] = {0};
	uint64_t held;

	/* A slot being written by someone else: skip, it is only a cache. */
	if (!seq_trylock(&e->seq, &held))
		return;
	memcpy(words, body, len);
	word_write(&e->key, key);
	word_write(&e->hot, hot);
	for (size_t i = 0; i < (len + 7) / 8; i++)
		word_write(&e->body[i], words[i]);
	seq_unlock(&e->seq, held);
	/* Raced an invalidation: withdraw (see smmu_cache.h). */
	if (smmu_gen(smmu) != gen) {
		entry_clear_if(e, key);
		utlb_advance(smmu);
	}
}

uint32_t smmu_ste_vmid(const struct sio_smmu *smmu, const struct smmu_ste *ste)
{
	/*
	 * Not only stage 2's VMID: with stage 2 implemented, a stage-1-only
	 * NS-EL1 stream is tagged with S2VMID too (section 3.17), and
	 * software invalidates its entries by that VMID.  Where the field is
	 * IGNORED (no stage 2, an EL2 stream) there is no VMID.
	 */
	if (ste->el2)
		return TLB_VMID_EL2;
	return smmu_ste_s2vmid_used(smmu, ste) ? ste->s2vmid : 0;
}

static uint64_t ste_hot(const struct sio_smmu *smmu, const struct smmu_ste *ste)
{
	return (ste->abort ? STE_HOT_ABORT : 0) | (ste->s1 ? STE_HOT_S1 : 0) |
	       (ste->s2 ? STE_HOT_S2 : 0) |
	       FIELD_PREP(STE_HOT_S1DSS, ste->s1dss) |
	       FIELD_PREP(STE_HOT_CDMAX, ste->s1cdmax) |
	       FIELD_PREP(STE_HOT_VMID, smmu_ste_vmid(smmu, ste));
}

static uint64_t cd_hot(const struct smmu_s1 *s1)
{
	return FIELD_PREP(CD_HOT_ASID, s1->asid) |
	       (s1->tbi[0] ? CD_HOT_TBI0 : 0) | (s1->tbi[1] ? CD_HOT_TBI1 : 0);
}

bool cfgc_ste_get(struct sio_smmu *smmu, uint32_t sid, struct smmu_ste *ste)
{
	uint64_t hot;

	return entry_read(ste_slot(smmu, sid), ste_key(sid), &hot, ste,
			  sizeof(*ste));
}

void cfgc_ste_put(struct sio_smmu *smmu, uint32_t sid,
		  const struct smmu_ste *ste, uint64_t gen)
{
	entry_fill(smmu, ste_slot(smmu, sid), ste_key(sid), ste_hot(smmu, ste),
		   ste, sizeof(*ste), gen);
}

bool cfgc_cd_get(struct sio_smmu *smmu, uint32_t sid, uint32_t idx,
		 struct smmu_s1 *s1)
{
	uint64_t hot;

	return entry_read(cd_slot(smmu, sid, idx), cd_key(sid, idx), &hot, s1,
			  sizeof(*s1));
}

void cfgc_cd_put(struct sio_smmu *smmu, uint32_t sid, uint32_t idx,
		 const struct smmu_s1 *s1, uint64_t gen)
{
	entry_fill(smmu, cd_slot(smmu, sid, idx), cd_key(sid, idx), cd_hot(s1),
		   s1, sizeof(*s1), gen);
}

/*
 * Clear @e if its key, masked by @mask, lies in [@first, @last].  An entry
 * being filled is waited for, so a fill this misses is one that will see
 * the new generation.
 */
static void clear_matching(struct cfgc_entry *e, uint64_t mask, uint64_t first,
			   uint64_t last)
{
	uint64_t key;

	while (atomic_load(&e->seq) & 1)
		cpu_relax();
	key = word_read(&e->key);
	if (key && (key & mask) >= first && (key & mask) <= last)
		entry_clear_if(e, key);
}

void cfgc_inv_ste(struct sio_smmu *smmu, uint32_t first, uint32_t last)
{
	struct smmu_cfgc *c = smmu->cfgc;

	if (last - first < CFGC_STE_ENTRIES) {
		for (uint64_t sid = first; sid <= last; sid++)
			clear_matching(ste_slot(smmu, (uint32_t)sid),
				       0xffffffffull, first, last);
	} else {
		for (unsigned int i = 0; i < CFGC_STE_ENTRIES; i++)
			clear_matching(&c->ste[i], 0xffffffffull, first, last);
	}
	/* Every CD cached through those STEs goes too (section 4.3.1). */
	for (unsigned int i = 0; i < CFGC_CD_ENTRIES; i++)
		clear_matching(&c->cd[i], GENMASK(51, 20),
			       (uint64_t)first << 20, (uint64_t)last << 20);
}

void cfgc_inv_cd(struct sio_smmu *smmu, uint32_t sid, uint32_t idx)
{
	uint64_t key = cd_key(sid, idx) & ~CFGC_KEY_VALID;

	/* Direct-mapped: the CD can only be in its own slot. */
	clear_matching(cd_slot(smmu, sid, idx), GENMASK(51, 0), key, key);
}

void cfgc_inv_cd_all(struct sio_smmu *smmu, uint32_t sid)
{
	for (unsigned int i = 0; i < CFGC_CD_ENTRIES; i++)
		clear_matching(&smmu->cfgc->cd[i], GENMASK(51, 20),
			       (uint64_t)sid << 20, (uint64_t)sid << 20);
}
