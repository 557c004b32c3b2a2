// SPDX-License-Identifier: MIT
/*
 * Translation table walks, as the SMMU performs them: every descriptor is
 * read through the bus (an abort is F_WALK_EABT, never a fault of the
 * process), hardware updates of the access flag and dirty state are
 * compare-and-swaps through the bus, and in a nested configuration every
 * stage-1 table address is an IPA translated by stage 2 first.
 *
 * Fault priority within a level follows the architecture: an invalid
 * descriptor (Translation), then an output address beyond the effective
 * output size (Address size), then AF == 0 (Access flag), then
 * permissions.
 */
#include <errno.h>

#include "smmu_xlate.h"

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
 * The hardware update of one descriptor: set @set and clear @clear with a
 * compare-and-swap, as HTTU does.  Returns 0 with *desc updated, 1 if the
 * descriptor changed under us (re-evaluate it), -1 on an abort.
 */
static int httu_update(struct sio_smmu *smmu, uint64_t pa, uint64_t *desc,
		       uint64_t set, uint64_t clear)
{
	uint64_t old = *desc, upd = (old | set) & ~clear;
	int rc = sio_mem_cmpxchg64(smmu->bus, pa, &old, upd);

	if (rc == 0) {
		*desc = upd;
		return 0;
	}
	if (rc == -EAGAIN) {
		*desc = old;
		return 1;
	}
	return -1;
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

int smmu_s2_translate(struct sio_smmu *smmu, const struct smmu_s2 *s2,
		      uint64_t ipa, uint8_t class, bool write,
		      const struct smmu_access *acc, struct smmu_leaf *out,
		      struct smmu_fault *f)
{
	const struct lpae_fmt *fmt = &s2->fmt;
	uint64_t table = s2->ttb;
	bool instr = class == EVT_CLASS_IN && acc->instr;

	if (fmt->ias < 64 && (ipa >> fmt->ias))
		return fault(f, EVT_F_TRANSLATION, true, class, ipa,
			     s2->record);
	for (unsigned int level = fmt->start_level; level <= 3; level++) {
		uint64_t addr = table + 8ull * lpae_index(fmt, level, ipa);
		uint64_t desc, oa, size;
		int rc;

		if (sio_mem_read64(smmu->bus, addr, &desc))
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
				rc = httu_update(smmu, addr, &desc, LPAE_AF, 0);
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
			rc = httu_update(smmu, addr, &desc, LPAE_S2AP_WRITE, 0);
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
		return 0;
	}
	return fault(f, EVT_F_TRANSLATION, true, class, ipa, s2->record);
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

/*
 * Stage-1 permissions of the AArch64 EL1&0 regime (AP[2:1], UXN/PXN, the
 * table limits, WXN, PAN), for the transaction's privilege.  @dirty_ok
 * says whether a write to a read-only leaf may set it dirty instead.
 */
static bool s1_perm_ok(const struct smmu_s1 *s1, const struct s1_limits *l,
		       uint64_t desc, const struct smmu_access *acc,
		       bool *set_dirty)
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
		if (s1->hd && (desc & LPAE_DBM) && !l->ro)
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

/* The stage-1 table for @va: VA[55] selects, the rest must agree. */
static const struct smmu_tt *s1_select(const struct smmu_s1 *s1, uint64_t va)
{
	unsigned int sel = (va >> 55) & 1;
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

int smmu_s1_translate(struct sio_smmu *smmu, const struct smmu_s1 *s1,
		      const struct smmu_s2 *s2, const struct smmu_access *acc,
		      struct smmu_leaf *out, struct smmu_fault *f)
{
	const struct smmu_tt *tt = s1_select(s1, acc->input);
	struct s1_limits lim = {0};
	uint64_t va = acc->input, table;

	if (!tt)
		return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0,
			     s1->record);
	table = tt->ttb;
	for (unsigned int level = tt->fmt.start_level; level <= 3; level++) {
		uint64_t ipa = table + 8ull * lpae_index(&tt->fmt, level, va);
		uint64_t pa = ipa, desc, oa, size;
		struct smmu_leaf l2;
		bool dirty;
		int rc;

		/* Nested: the descriptor's address is an IPA. */
		if (s2 && smmu_s2_translate(smmu, s2, ipa, EVT_CLASS_TT, false,
					    acc, &l2, f))
			return -1;
		if (s2)
			pa = l2.oa;
		if (sio_mem_read64(smmu->bus, pa, &desc))
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
		if (!s1_perm_ok(s1, &lim, desc, acc, &dirty))
			return fault(f, EVT_F_PERMISSION, false, EVT_CLASS_IN,
				     0, s1->record);
		if ((!(desc & LPAE_AF) && s1->ha) || dirty) {
			/* HTTU writes the descriptor: stage 2 must allow it. */
			if (s2 && smmu_s2_translate(smmu, s2, ipa, EVT_CLASS_TT,
						    true, acc, &l2, f)) {
				f->tt_write = true;
				return -1;
			}
			rc = httu_update(smmu, pa, &desc,
					 (s1->ha ? LPAE_AF : 0),
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
		return 0;
	}
	return fault(f, EVT_F_TRANSLATION, false, EVT_CLASS_IN, 0, s1->record);
}
