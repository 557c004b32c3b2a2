// SPDX-License-Identifier: MIT
/*
 * Translation table walks, as the SMMU performs them: every descriptor is
 * read through the bus (an abort is F_WALK_EABT, never a fault of the
 * process), hardware updates of the access flag and dirty state are
 * compare-and-swaps through the bus, and in a nested configuration every
 * stage-1 table address is an IPA translated by stage 2 first.
 *
 * The walk caches (smmu_cache.h) remember, per block of input addresses,
 * the last-level table a walk went through; a walk that finds one there
 * starts at the last level.  What the upper levels checked was checked
 * when the entry was made, and stays true until a TLBI with Leaf == 0
 * (or a wider one) removes it, as on hardware.
 *
 * Fault priority within a level follows the architecture: an invalid
 * descriptor (Translation), then an output address beyond the effective
 * output size (Address size), then AF == 0 (Access flag), then
 * permissions.
 *
 * A walk being explained (w->trace set) records each read, walks from the
 * start level with no cache consulted or filled, and writes no HTTU
 * update: the explanation must show the whole walk and change nothing.
 * Each walker is one body compiled twice, with @tracing a constant: the
 * ordinary instance has no trace code at all, and the choice between
 * them is made once per stage-2 translation, not per read.
 */
#include <endian.h>

#include "smmu_cache.h"

static int fault(struct smmu_fault *f, uint8_t id, bool s2, uint8_t class,
		 uint64_t ipa, bool record)
{
	*f = (struct smmu_fault){.id = id,
				 .s2 = s2,
				 .class = class,
				 .ipa = ipa,
				 .record = record};
	return -1;
}

static int walk_abort(struct smmu_fault *f, bool s2, uint8_t class,
		      uint64_t ipa, uint64_t fetch)
{
	/* External aborts are recorded whatever CD.R or STE.S2R say. */
	fault(f, EVT_F_WALK_EABT, s2, class, ipa, true);
	f->fetch = fetch;
	return -1;
}

/*
 * One descriptor read, single-copy atomic, in the walk's bus section.
 * Each stage remembers the bus segment its tables were last found in —
 * the walk's own, else the SMMU's shared word — because a nested walk
 * alternates between the guest's tables and stage 2's, which the
 * section's one-segment memory alone would search for at every read.
 */
static int desc_read(struct smmu_walk *w, uint64_t pa, uint64_t *desc, bool s2)
{
	struct sio_mem_guard *g = w->g;
	const void *found;
	uint64_t *p;

	if (w->hint[s2])
		g->hint = w->hint[s2];
	else
		sio_mem_hint_load_word(
			g, atomic_load_explicit(&w->smmu->walk_hint[s2],
						memory_order_relaxed));
	found = g->hint;
	p = (pa & 7) ? NULL : sio_mem_ptr(g, pa, 8, SIO_MEM_READ);
	w->hint[s2] = g->hint;
	if (g->hint != found)
		atomic_store_explicit(&w->smmu->walk_hint[s2],
				      sio_mem_hint_word(g, g->hint),
				      memory_order_relaxed);
	if (!p)
		return -1;
	*desc = le64toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
	return 0;
}

/*
 * The hardware update of one descriptor: set @set and clear @clear with a
 * compare-and-swap, as HTTU does.  Returns 0 with *desc updated, 1 if the
 * descriptor changed under us (re-evaluate it), -1 on an abort.
 */
static int httu_update(struct smmu_walk *w, uint64_t pa, uint64_t *desc,
		       uint64_t set, uint64_t clear)
{
	uint64_t *p = (pa & 7) ? NULL : sio_mem_ptr(w->g, pa, 8, SIO_MEM_RW);
	uint64_t old = htole64(*desc), upd = (*desc | set) & ~clear;

	if (!p)
		return -1;
	if (__builtin_expect(w->trace != NULL, 0)) {
		/* Explaining: the update the walk would make, not made. */
		*desc = upd;
		return 0;
	}
	if (__atomic_compare_exchange_n(p, &old, htole64(upd), false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		*desc = upd;
		return 0;
	}
	*desc = le64toh(old);
	return 1;
}

/* The TLBI TG encoding of a granule (4K 1, 16K 2, 64K 3). */
static unsigned int tg_of(const struct lpae_fmt *fmt)
{
	return ((unsigned int)fmt->gshift - 10) >> 1;
}

/* Is this stage-2 leaf's memory type Device (MemAttr[3:2] == 0b00)? */
static bool s2_device(uint64_t desc)
{
	return !(desc & (0xcull << LPAE_S2_MEMATTR_SHIFT));
}

/* Stage-2 execute permission, with FEAT_XNX (IDR3.XNX == 1). */
static bool s2_exec_ok(uint64_t desc, bool priv)
{
	switch ((desc >> 53) & 3) {
	case 0:
		return true;
	case 1: /* not at EL1 */
		return !priv;
	case 2:
		return false;
	default: /* not at EL0 */
		return priv;
	}
}

/* Every access a stage-2 leaf allows, as it now stands. */
static uint64_t s2_perms(uint64_t desc)
{
	uint64_t p = 0;

	if (desc & LPAE_S2AP_READ)
		p |= TLB_R_PRIV | TLB_R_USER;
	if (desc & LPAE_S2AP_WRITE)
		p |= TLB_W_PRIV | TLB_W_USER;
	if (s2_exec_ok(desc, true))
		p |= TLB_X_PRIV;
	if (s2_exec_ok(desc, false))
		p |= TLB_X_USER;
	if (s2_device(desc))
		p |= TLB_DEVICE;
	return p;
}

/* May a stage-2 TLB entry with @perm serve this access without a walk? */
static bool s2_hit_ok(const struct smmu_s2 *s2, uint64_t perm, uint8_t class,
		      bool write, const struct smmu_access *acc)
{
	if (class != EVT_CLASS_IN)
		/* Walk reads, or HTTU writes, of descriptors. */
		return (perm & (write ? TLB_W_PRIV : TLB_R_PRIV)) &&
		       !(s2->ptw && (perm & TLB_DEVICE));
	return perm & tlb_need(write, acc->instr && !write, acc->priv);
}

static void s2_fill(struct smmu_walk *w, const struct smmu_s2 *s2,
		    const struct smmu_leaf *l)
{
	struct tlb_ent e = {
		.va = l->base,
		.pa = l->oa & ~(l->size - 1),
		.log2size = (unsigned int)__builtin_ctzll(l->size),
		.kind = TLB_KIND_S2,
		.vmid = s2->vmid,
		.tg = l->tg,
		.level = l->level,
		.perm = l->perm,
	};

	tlb_insert(w->smmu, &e, w->gen);
}

/*
 * The walk-cache entry for the last-level table @table, reached through a
 * table descriptor at level 2 for input address @ia.
 */
static void walk_fill(struct smmu_walk *w, unsigned int kind,
		      const struct lpae_fmt *fmt, uint32_t vmid, uint16_t asid,
		      uint64_t ia, uint64_t table, uint64_t limits)
{
	unsigned int ls = lpae_level_shift(fmt, 2);
	struct tlb_ent e = {
		.va = ia & ~((1ull << ls) - 1),
		.pa = table,
		.log2size = ls,
		.kind = kind,
		.vmid = vmid,
		.asid = asid,
		.tg = tg_of(fmt),
		.level = 3,
		.perm = limits,
		.asid_epoch = walk_asid_epoch(w, kind, vmid, asid),
	};

	tlb_insert(w->smmu, &e, w->gen);
}

/* The TLB epochs of @vmid, loaded once a walk. */
static uint64_t walk_epochs(struct smmu_walk *w, uint32_t vmid)
{
	if (!w->epochs_loaded || w->epochs_vmid != vmid) {
		w->epochs = tlb_epochs(w->smmu->tlb, vmid);
		w->epochs_vmid = vmid;
		w->epochs_loaded = true;
	}
	return w->epochs;
}

/* The epoch of (@vmid, @asid)'s bucket for a @kind, likewise; 0 for stage 2. */
uint64_t walk_asid_epoch(struct smmu_walk *w, unsigned int kind, uint32_t vmid,
			 uint16_t asid)
{
	if (kind & 1)
		return 0;
	if (!w->aepoch_loaded || w->aepoch_vmid != vmid ||
	    w->aepoch_asid != asid) {
		w->aepoch = tlb_asid_epoch(w->smmu->tlb, vmid, asid);
		w->aepoch_vmid = vmid;
		w->aepoch_asid = asid;
		w->aepoch_loaded = true;
	}
	return w->aepoch;
}

/*
 * A walk-cache hit for @ia: the last-level table (and stage-1 limits), if
 * the walk reaches level 3 through a table at all.
 */
static bool walk_hit(struct smmu_walk *w, unsigned int kind,
		     const struct lpae_fmt *fmt, uint32_t vmid, uint16_t asid,
		     uint64_t ia, uint64_t *table, uint64_t *limits)
{
	struct tlb_ent e;

	if (fmt->start_level > 2 ||
	    !tlb_lookup(w->smmu, kind, vmid, asid, ia, walk_epochs(w, vmid),
			walk_asid_epoch(w, kind, vmid, asid), &e) ||
	    e.tg != tg_of(fmt) || e.log2size != lpae_level_shift(fmt, 2))
		return false;
	*table = e.pa;
	*limits = e.perm;
	return true;
}

/*
 * The stage-2 walker; @tracing is a constant in each of its two
 * instances.  An explained walk uses no cache and fills none.
 */
static inline __attribute__((always_inline)) int
s2_walk(struct smmu_walk *w, const struct smmu_s2 *s2, uint64_t ipa,
	uint8_t class, bool write, const struct smmu_access *acc,
	struct smmu_leaf *out, struct smmu_fault *f, const bool tracing)
{
	const struct lpae_fmt *fmt = &s2->fmt;
	uint64_t table = s2->ttb, unused;
	bool instr = class == EVT_CLASS_IN && acc->instr;
	unsigned int level = fmt->start_level;
	struct tlb_ent hit;

	if (fmt->ias < 64 && (ipa >> fmt->ias))
		return fault(f, EVT_F_TRANSLATION, true, class, ipa,
			     s2->record);
	/*
	 * The output of a nested translation is never cached on its own
	 * (no_s2_fill), so looking it up would almost always miss: its
	 * walk-cache entry is the useful probe.
	 */
	if (!tracing && !w->no_s2_fill &&
	    tlb_lookup(w->smmu, TLB_KIND_S2, s2->vmid, 0, ipa,
		       walk_epochs(w, s2->vmid), 0, &hit) &&
	    s2_hit_ok(s2, hit.perm, class, write, acc)) {
		out->size = 1ull << hit.log2size;
		out->base = hit.va;
		out->oa = hit.pa | (ipa - hit.va);
		out->device = hit.perm & TLB_DEVICE;
		out->global = false;
		out->level = hit.level;
		out->tg = hit.tg;
		out->perm = hit.perm;
		return 0;
	}
	if (!tracing && walk_hit(w, TLB_KIND_S2_WALK, fmt, s2->vmid, 0, ipa,
				 &table, &unused))
		level = 3;
	for (; level <= 3; level++) {
		uint64_t addr = table + 8ull * lpae_index(fmt, level, ipa);
		uint64_t desc = 0, oa, size;
		int rc = desc_read(w, addr, &desc, true);

		if (tracing)
			smmu_trace_s2(w->trace, level, class, write, ipa, addr,
				      desc, rc != 0);
		if (rc)
			return walk_abort(f, true, class, ipa, addr);
retry:
		if (!(desc & 1))
			return fault(f, EVT_F_TRANSLATION, true, class, ipa,
				     s2->record);
		if (lpae_is_table(desc, level)) {
			table = lpae_pte_to_oa(fmt, desc);
			if (table >> fmt->oas)
				return fault(f, EVT_F_ADDR_SIZE, true, class,
					     ipa, s2->record);
			if (level == 2 && !tracing)
				walk_fill(w, TLB_KIND_S2_WALK, fmt, s2->vmid, 0,
					  ipa, table, 0);
			continue;
		}
		if (!lpae_leaf_valid(fmt, desc, level))
			return fault(f, EVT_F_TRANSLATION, true, class, ipa,
				     s2->record);
		oa = lpae_pte_to_oa(fmt, desc);
		if (oa >> fmt->oas)
			return fault(f, EVT_F_ADDR_SIZE, true, class, ipa,
				     s2->record);
		if (!(desc & LPAE_AF)) {
			if (s2->ha) {
				rc = httu_update(w, addr, &desc, LPAE_AF, 0);
				if (rc > 0)
					goto retry;
				if (rc < 0)
					return walk_abort(f, true, class, ipa,
							  addr);
			} else if (!s2->affd) {
				return fault(f, EVT_F_ACCESS, true, class, ipa,
					     s2->record);
			}
		}
		if (write && !(desc & LPAE_S2AP_WRITE)) {
			if (!(s2->hd && (desc & LPAE_DBM)))
				return fault(f, EVT_F_PERMISSION, true, class,
					     ipa, s2->record);
			/* Writable-clean: the write makes it dirty. */
			rc = httu_update(w, addr, &desc, LPAE_S2AP_WRITE, 0);
			if (rc > 0)
				goto retry;
			if (rc < 0)
				return walk_abort(f, true, class, ipa, addr);
		}
		if ((!write && !instr && !(desc & LPAE_S2AP_READ)) ||
		    (instr && !s2_exec_ok(desc, acc->priv)))
			return fault(f, EVT_F_PERMISSION, true, class, ipa,
				     s2->record);
		/* S2PTW: CD fetches and stage-1 walks must not read Device. */
		if (class != EVT_CLASS_IN && s2->ptw && s2_device(desc))
			return fault(f, EVT_F_PERMISSION, true, class, ipa,
				     s2->record);
		size = lpae_level_size(fmt, level);
		out->oa = oa | (ipa & (size - 1));
		out->size = size;
		out->base = ipa & ~(size - 1);
		out->device = s2_device(desc);
		out->global = false;
		out->level = level;
		out->tg = tg_of(fmt);
		out->perm = s2_perms(desc);
		if (!tracing && !w->no_s2_fill)
			s2_fill(w, s2, out);
		return 0;
	}
	return fault(f, EVT_F_TRANSLATION, true, class, ipa, s2->record);
}

static int s2_plain(struct smmu_walk *w, const struct smmu_s2 *s2, uint64_t ipa,
		    uint8_t class, bool write, const struct smmu_access *acc,
		    struct smmu_leaf *out, struct smmu_fault *f)
{
	return s2_walk(w, s2, ipa, class, write, acc, out, f, false);
}

static int s2_traced(struct smmu_walk *w, const struct smmu_s2 *s2,
		     uint64_t ipa, uint8_t class, bool write,
		     const struct smmu_access *acc, struct smmu_leaf *out,
		     struct smmu_fault *f)
{
	return s2_walk(w, s2, ipa, class, write, acc, out, f, true);
}

int smmu_s2_translate(struct smmu_walk *w, const struct smmu_s2 *s2,
		      uint64_t ipa, uint8_t class, bool write,
		      const struct smmu_access *acc, struct smmu_leaf *out,
		      struct smmu_fault *f)
{
	if (__builtin_expect(w->trace != NULL, 0))
		return s2_traced(w, s2, ipa, class, write, acc, out, f);
	return s2_plain(w, s2, ipa, class, write, acc, out, f);
}

/* Hierarchical permission limits gathered from table descriptors. */
struct s1_limits {
	bool no_el0;   /* APTable[0] */
	bool ro;       /* APTable[1] */
	bool uxn, pxn; /* UXNTable, PXNTable */
};

static void s1_limit(struct s1_limits *l, uint64_t table_desc)
{
	l->no_el0 |= table_desc & BIT(LPAE_TBL_AP_SHIFT);
	l->ro |= table_desc & BIT(LPAE_TBL_AP_SHIFT + 1);
	l->uxn |= table_desc & LPAE_TBL_XN;
	l->pxn |= table_desc & LPAE_TBL_PXN;
}

/* The limits as a walk-cache entry holds them, and back. */
static uint64_t limits_pack(const struct s1_limits *l)
{
	return (l->no_el0 ? WALK_NO_EL0 : 0) | (l->ro ? WALK_RO : 0) |
	       (l->uxn ? WALK_UXN : 0) | (l->pxn ? WALK_PXN : 0);
}

static struct s1_limits limits_unpack(uint64_t bits)
{
	return (struct s1_limits){.no_el0 = bits & WALK_NO_EL0,
				  .ro = bits & WALK_RO,
				  .uxn = bits & WALK_UXN,
				  .pxn = bits & WALK_PXN};
}

/*
 * The nested walk entry (TLB_KIND_S1_WALK_PA) for the last-level table
 * at @table_pa: only when stage 2's leaf @l2 holds the whole table, as a
 * table of a larger granule than stage 2's may span leaves apart in PA.
 */
static void walk_fill_pa(struct smmu_walk *w, const struct lpae_fmt *fmt,
			 uint16_t asid, uint64_t ia, uint64_t table_pa,
			 const struct smmu_leaf *l2,
			 const struct s1_limits *lim)
{
	/* the table is granule-aligned: the leaf holds it if not smaller */
	if (l2->size < (1ull << fmt->gshift) || fmt->start_level > 2)
		return;
	walk_fill(w, TLB_KIND_S1_WALK_PA, fmt, w->vmid, asid, ia, table_pa,
		  limits_pack(lim));
}

/*
 * Stage-1 permissions of the NS-EL2 regime, one privilege level (sections
 * 3.17.5, 5.4.1 and 13.4.1): AP[1] is ignored and treated as 1, and PRIV
 * (and STE.PRIVCFG) is not used for the check, so both privileges get the
 * same answer.  As in the Armv8-A EL2 regime, the leaf's bit 54 is its
 * one XN and bit 53 (PXN) is RES0; of the table bits, APTable[1] and
 * XNTable apply while APTable[0] and PXNTable are reserved (5.4, HAD0).
 * PAN is IGNORED (5.4, PAN); WXN still applies.  Every access at once,
 * as s1_perms() below; s1_el2_perm_ok() asks it for one.
 */
static uint64_t s1_el2_perms(const struct smmu_s1 *s1,
			     const struct s1_limits *l, uint64_t desc)
{
	bool ro = (desc & LPAE_S1_AP_RDONLY) || l->ro;
	bool xn = (desc & LPAE_S1_UXN) || l->uxn || (s1->wxn && !ro);

	return TLB_R_PRIV | TLB_R_USER | (ro ? 0 : TLB_W_PRIV | TLB_W_USER) |
	       (xn ? 0 : TLB_X_PRIV | TLB_X_USER);
}

static bool s1_el2_perm_ok(const struct smmu_s1 *s1, const struct s1_limits *l,
			   uint64_t desc, const struct smmu_access *acc,
			   bool dirty_ok, bool *set_dirty)
{
	/* Writable-clean (DBM, only AP[2] read-only): the write dirties it. */
	*set_dirty = acc->write && (desc & LPAE_S1_AP_RDONLY) && dirty_ok &&
		     (desc & LPAE_DBM) && !l->ro;
	if (*set_dirty)
		desc &= ~LPAE_S1_AP_RDONLY;
	return s1_el2_perms(s1, l, desc) &
	       tlb_need(acc->write, acc->instr && !acc->write, acc->priv);
}

/*
 * Stage-1 permissions of the AArch64 EL1&0 regime (AP[2:1], UXN/PXN, the
 * table limits, WXN, PAN), for the transaction's privilege.  @dirty_ok
 * says whether a write to a read-only leaf may set it dirty instead.
 * NS-EL2-E2H (EL2&0) follows the same rules (section 13.4.1).
 */
static bool s1_el1_perm_ok(const struct smmu_s1 *s1, const struct s1_limits *l,
			   uint64_t desc, const struct smmu_access *acc,
			   bool dirty_ok, bool *set_dirty)
{
	bool el0 = (desc & LPAE_S1_AP_UNPRIV) && !l->no_el0;
	bool ro = (desc & LPAE_S1_AP_RDONLY) || l->ro;
	bool writable = !ro;
	bool xn;

	*set_dirty = false;
	if (!acc->priv && !el0)
		return false;
	/* PAN: privileged data accesses to EL0-accessible memory fault. */
	if (acc->priv && s1->pan && el0 && !acc->instr)
		return false;
	if (acc->write && ro) {
		/* Writable-clean (DBM, only AP[2] read-only): make dirty. */
		if (dirty_ok && (desc & LPAE_DBM) && !l->ro)
			*set_dirty = true;
		else
			return false;
		writable = true;
	}
	if (!acc->instr)
		return true;
	if (acc->priv)
		/* Memory writable at EL0 is never executable at EL1. */
		xn = (desc & LPAE_S1_PXN) || l->pxn || (el0 && writable);
	else
		xn = (desc & LPAE_S1_UXN) || l->uxn;
	if (s1->wxn && writable)
		xn = true;
	return !xn;
}

static bool s1_perm_ok(const struct smmu_s1 *s1, const struct s1_limits *l,
		       uint64_t desc, const struct smmu_access *acc,
		       bool dirty_ok, bool *set_dirty)
{
	if (s1->el2)
		return s1_el2_perm_ok(s1, l, desc, acc, dirty_ok, set_dirty);
	return s1_el1_perm_ok(s1, l, desc, acc, dirty_ok, set_dirty);
}

/*
 * Every access a stage-1 leaf allows as it stands (no dirtying): what
 * s1_perm_ok() answers for each of the six accesses, worked out at once,
 * as every TLB fill needs all six.
 */
static uint64_t s1_perms(const struct smmu_s1 *s1, const struct s1_limits *l,
			 uint64_t desc)
{
	bool el0 = (desc & LPAE_S1_AP_UNPRIV) && !l->no_el0;
	bool ro = (desc & LPAE_S1_AP_RDONLY) || l->ro;
	bool pan = s1->pan && el0;
	bool wxn = s1->wxn && !ro;
	bool pxn = (desc & LPAE_S1_PXN) || l->pxn || (el0 && !ro) || wxn;
	bool uxn = (desc & LPAE_S1_UXN) || l->uxn || wxn;

	if (s1->el2)
		return s1_el2_perms(s1, l, desc);
	return (pan ? 0 : TLB_R_PRIV) | (pan || ro ? 0 : TLB_W_PRIV) |
	       (pxn ? 0 : TLB_X_PRIV) | (el0 ? TLB_R_USER : 0) |
	       (el0 && !ro ? TLB_W_USER : 0) | (el0 && !uxn ? TLB_X_USER : 0);
}

/*
 * The stage-1 table for @va: VA[55] selects, the rest must agree.  With
 * one VA range (NS-EL2, section 5.4.1: TTB1 unreachable) there is nothing
 * to select: VA[AddrTop:T0SZ's size] must all be 0 (sections 3.4 and
 * 3.4.1), so an address of the upper range is a Translation fault.
 */
static const struct smmu_tt *s1_select(const struct smmu_s1 *s1, uint64_t va)
{
	unsigned int sel = s1->el2 ? 0 : (va >> 55) & 1;
	const struct smmu_tt *tt = &s1->tt[sel];
	unsigned int top = s1->tbi[sel] ? 55 : 63;
	uint64_t upper, want;

	if (!tt->enabled)
		return NULL;
	/* Bits [top:ias] must all equal the selecting bit. */
	upper = (va & LPAE_GENMASK(top, 0)) >> tt->fmt.ias;
	want = sel ? LPAE_GENMASK(top - tt->fmt.ias, 0) : 0;
	return upper == want ? tt : NULL;
}

/*
 * The stage-1 walker, nested or not; @tracing is a constant in each of
 * its two instances, which call the stage-2 instance of the same kind.
 */
static inline __attribute__((always_inline)) int
s1_walk(struct smmu_walk *w, const struct smmu_s1 *s1, const struct smmu_s2 *s2,
	const struct smmu_access *acc, struct smmu_leaf *out,
	struct smmu_fault *f, const bool tracing)
{
	const struct smmu_tt *tt = s1_select(s1, acc->input);
	struct s1_limits lim;
	uint64_t va = acc->input, key = tlb_va_key(va), table, bits;
	/* nested, from a TLB_KIND_S1_WALK_PA hit: @table is already a PA */
	bool table_pa, restarted = false;
	unsigned int level;

	if (!tt)
		return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0,
			     s1->record);
restart:
	table = tt->ttb;
	level = tt->fmt.start_level;
	lim = (struct s1_limits){0};
	table_pa = !tracing && s2 && !restarted &&
		   walk_hit(w, TLB_KIND_S1_WALK_PA, &tt->fmt, w->vmid, s1->asid,
			    key, &table, &bits);
	if (table_pa ||
	    (!tracing && walk_hit(w, TLB_KIND_S1_WALK, &tt->fmt, w->vmid,
				  s1->asid, key, &table, &bits))) {
		lim = limits_unpack(bits);
		level = 3;
	}
	for (; level <= 3; level++) {
		uint64_t idx = lpae_index(&tt->fmt, level, va);
		uint64_t ipa = table + 8ull * idx;
		uint64_t pa = ipa, desc = 0, oa, size;
		struct smmu_leaf l2;
		bool dirty;
		int rc;

		if (tracing)
			w->trace->s1_level = (uint8_t)level;
		/* Nested: the descriptor's address is an IPA. */
		if (s2 && !table_pa &&
		    (tracing ? s2_traced : s2_plain)(w, s2, ipa, EVT_CLASS_TT,
						     false, acc, &l2, f))
			return -1;
		if (s2 && !table_pa) {
			pa = l2.oa;
			if (level == 3 && !tracing)
				walk_fill_pa(w, &tt->fmt, s1->asid, key,
					     pa - 8ull * idx, &l2, &lim);
		}
		rc = desc_read(w, pa, &desc, false);
		if (tracing)
			smmu_trace_read(w->trace, SIO_SMMU_READ_S1, level, va,
					ipa, pa, &desc, 1, rc != 0);
		if (rc)
			return walk_abort(f, false, EVT_CLASS_TT, 0, pa);
retry:
		if (!(desc & 1))
			return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				     0, s1->record);
		if (lpae_is_table(desc, level)) {
			table = lpae_pte_to_oa(&tt->fmt, desc);
			if (table >> tt->fmt.oas)
				return fault(f, EVT_F_ADDR_SIZE, false,
					     EVT_CLASS_IN, 0, s1->record);
			if (!tt->had)
				s1_limit(&lim, desc);
			if (level == 2 && !tracing)
				walk_fill(w, TLB_KIND_S1_WALK, &tt->fmt,
					  w->vmid, s1->asid, key, table,
					  limits_pack(&lim));
			continue;
		}
		if (!lpae_leaf_valid(&tt->fmt, desc, level))
			return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN,
				     0, s1->record);
		oa = lpae_pte_to_oa(&tt->fmt, desc);
		if (oa >> tt->fmt.oas)
			return fault(f, EVT_F_ADDR_SIZE, false, EVT_CLASS_IN, 0,
				     s1->record);
		if (!(desc & LPAE_AF) && !s1->ha && !s1->affd)
			return fault(f, EVT_F_ACCESS, false, EVT_CLASS_IN, 0,
				     s1->record);
		if (!s1_perm_ok(s1, &lim, desc, acc, s1->hd, &dirty))
			return fault(f, EVT_F_PERMISSION, false, EVT_CLASS_IN,
				     0, s1->record);
		if ((!(desc & LPAE_AF) && s1->ha) || dirty) {
			/*
			 * The write's stage-2 check needs the descriptor's
			 * IPA, which a PA walk entry does not keep: walk
			 * again from the IPA one.
			 */
			if (table_pa) {
				restarted = true;
				goto restart;
			}
			/* HTTU writes the descriptor: stage 2 must allow it. */
			if (s2 && (tracing ? s2_traced
					   : s2_plain)(w, s2, ipa, EVT_CLASS_TT,
						       true, acc, &l2, f)) {
				f->tt_write = true;
				return -1;
			}
			rc = httu_update(w, pa, &desc, (s1->ha ? LPAE_AF : 0),
					 dirty ? LPAE_S1_AP_RDONLY : 0);
			if (rc > 0)
				goto retry;
			if (rc < 0)
				return walk_abort(f, false, EVT_CLASS_TT, 0,
						  pa);
		}
		size = lpae_level_size(&tt->fmt, level);
		out->oa = oa | (va & (size - 1));
		out->size = size;
		out->base = va & ~(size - 1);
		out->device = false;
		/* NS-EL2 has no ASIDs: nG has no effect (section 3.17). */
		out->global = s1->el2 || !(desc & LPAE_S1_NG);
		out->level = level;
		out->tg = tg_of(&tt->fmt);
		out->perm = s1_perms(s1, &lim, desc);
		return 0;
	}
	return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0, s1->record);
}

int smmu_s1_translate(struct smmu_walk *w, const struct smmu_s1 *s1,
		      const struct smmu_s2 *s2, const struct smmu_access *acc,
		      struct smmu_leaf *out, struct smmu_fault *f)
{
	if (__builtin_expect(w->trace != NULL, 0))
		return s1_walk(w, s1, s2, acc, out, f, true);
	return s1_walk(w, s1, s2, acc, out, f, false);
}
