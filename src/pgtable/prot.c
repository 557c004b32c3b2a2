// SPDX-License-Identifier: MIT
/*
 * Mapping attributes: SIO_PROT_* to the descriptor bits of each stage and
 * back.  The encodings are those of the kernel's io-pgtable-arm, except
 * the stage-2 execute-never: io-pgtable sets XN[1:0] = 0b11, which with
 * FEAT_XNX permits execution at EL1; 0b10 forbids it at every level with
 * or without FEAT_XNX.
 */
#include "pgtable_private.h"

static uint64_t s1_attrs(const struct sio_pgtable *pt, unsigned int prot)
{
	uint64_t a = LPAE_AF;
	uint64_t idx = LPAE_MAIR_IDX_NC;

	if (!(prot & SIO_PROT_GLOBAL))
		a |= LPAE_S1_NG;
	/* Stage 1 cannot express write-only; like the kernel, map it RW. */
	if (!(prot & SIO_PROT_WRITE))
		a |= LPAE_S1_AP_RDONLY;
	else if (pt->flags & SIO_PGT_F_HD)
		a |= LPAE_DBM; /* writable-dirty until first cleaned */
	if (!(prot & SIO_PROT_PRIV))
		a |= LPAE_S1_AP_UNPRIV;
	if (prot & SIO_PROT_MMIO)
		idx = LPAE_MAIR_IDX_DEV;
	else if (prot & SIO_PROT_CACHE)
		idx = LPAE_MAIR_IDX_CACHE;
	a |= idx << LPAE_S1_ATTRINDX_SHIFT;
	if (prot & SIO_PROT_NOEXEC)
		a |= LPAE_S1_PXN | LPAE_S1_UXN;
	return a;
}

static uint64_t s2_attrs(const struct sio_pgtable *pt, unsigned int prot)
{
	uint64_t a = LPAE_AF;
	uint64_t memattr = LPAE_S2_MEMATTR_NC;

	if (prot & SIO_PROT_READ)
		a |= LPAE_S2AP_READ;
	if (prot & SIO_PROT_WRITE) {
		a |= LPAE_S2AP_WRITE;
		if (pt->flags & SIO_PGT_F_HD)
			a |= LPAE_DBM;
	}
	if (prot & SIO_PROT_MMIO)
		memattr = LPAE_S2_MEMATTR_DEV;
	else if (prot & SIO_PROT_CACHE)
		memattr = LPAE_S2_MEMATTR_OIWB;
	a |= memattr << LPAE_S2_MEMATTR_SHIFT;
	if (prot & SIO_PROT_NOEXEC)
		a |= LPAE_S2_XN1;
	return a;
}

static bool prot_valid(const struct sio_pgtable *pt, unsigned int prot)
{
	if (!(prot & (SIO_PROT_READ | SIO_PROT_WRITE)))
		return false;
	if ((prot & SIO_PROT_CACHE) && (prot & SIO_PROT_MMIO))
		return false;
	return pt->fmt.stage == SIO_PGT_STAGE1 ||
	       !(prot & (SIO_PROT_PRIV | SIO_PROT_GLOBAL));
}

/*
 * Every combination of SIO_PROT_* bits is encoded once, at creation, so a
 * map call only indexes a table.  Valid attributes are never 0 (AF is
 * always set), which leaves 0 to mark refused combinations.
 */
void pt_init_prot(struct sio_pgtable *pt)
{
	for (unsigned int prot = 0; prot <= SIO_PROT_ALL; prot++) {
		uint64_t sh = (prot & SIO_PROT_CACHE) ? LPAE_SH_IS : LPAE_SH_OS;

		if (!prot_valid(pt, prot)) {
			pt->prot_attrs[prot] = 0;
			continue;
		}
		pt->prot_attrs[prot] = (pt->fmt.stage == SIO_PGT_STAGE1
						? s1_attrs(pt, prot)
						: s2_attrs(pt, prot)) |
				       sh << LPAE_SH_SHIFT;
	}
	pt_init_leaf_prot(pt);
}

/*
 * The leaf table, without evaluating all 16384 keys (a table creation
 * would cost 50 us): the key's high field, desc[54:51], only adds
 * execute-never and, with HD, DBM's write permission, and DBM with the
 * low field's write permission is the dirty state.  So each entry is an
 * OR of what pt_attrs_to_prot() says of its low field and of its high
 * field, and test_prot_table checks that against every key.
 */
void pt_init_leaf_prot(struct sio_pgtable *pt)
{
	bool hd = pt->flags & SIO_PGT_F_HD;
	uint8_t lo[1u << 10];

	for (unsigned int i = 0; i < (1u << 10); i++)
		lo[i] = (uint8_t)pt_attrs_to_prot(pt, pt_key_to_attrs(i));
	for (unsigned int j = 0; j < (1u << 4); j++) {
		uint64_t hi = pt_key_to_attrs(j << 10);
		uint8_t add = (uint8_t)(pt_attrs_to_prot(pt, hi) &
					SIO_PROT_NOEXEC);
		bool dbm = hd && (hi & LPAE_DBM);
		uint8_t *row = &pt->leaf_prot[j << 10];

		if (dbm)
			add |= SIO_PROT_WRITE;
		for (unsigned int i = 0; i < (1u << 10); i++)
			row[i] = lo[i] | add |
				 (dbm && (lo[i] & SIO_PROT_WRITE) ? PT_DIRTY
								  : 0);
	}
}

unsigned int pt_attrs_to_prot(const struct sio_pgtable *pt, uint64_t pte)
{
	bool hd = pt->flags & SIO_PGT_F_HD;
	unsigned int prot = 0;

	if (pt->fmt.stage == SIO_PGT_STAGE1) {
		uint64_t idx = (pte >> LPAE_S1_ATTRINDX_SHIFT) & 7;

		prot |= SIO_PROT_READ;
		if (!(pte & LPAE_S1_AP_RDONLY) || (hd && (pte & LPAE_DBM)))
			prot |= SIO_PROT_WRITE;
		if (!(pte & LPAE_S1_AP_UNPRIV))
			prot |= SIO_PROT_PRIV;
		if (!(pte & LPAE_S1_NG))
			prot |= SIO_PROT_GLOBAL;
		if ((pte & LPAE_S1_PXN) && (pte & LPAE_S1_UXN))
			prot |= SIO_PROT_NOEXEC;
		if (idx == LPAE_MAIR_IDX_CACHE)
			prot |= SIO_PROT_CACHE;
		else if (idx == LPAE_MAIR_IDX_DEV)
			prot |= SIO_PROT_MMIO;
	} else {
		uint64_t memattr = (pte & LPAE_S2_MEMATTR_MASK) >>
				   LPAE_S2_MEMATTR_SHIFT;

		if (pte & LPAE_S2AP_READ)
			prot |= SIO_PROT_READ;
		if ((pte & LPAE_S2AP_WRITE) || (hd && (pte & LPAE_DBM)))
			prot |= SIO_PROT_WRITE;
		if (pte & LPAE_S2_XN1)
			prot |= SIO_PROT_NOEXEC;
		if (memattr == LPAE_S2_MEMATTR_OIWB)
			prot |= SIO_PROT_CACHE;
		else if (memattr == LPAE_S2_MEMATTR_DEV)
			prot |= SIO_PROT_MMIO;
	}
	return prot;
}

/*
 * With DBM set, the write permission is the dirty state: stage 1 is dirty
 * while AP[2] is clear, stage 2 while S2AP[1] is set.
 */
bool pt_leaf_dirty(const struct sio_pgtable *pt, uint64_t pte)
{
	if (!(pte & LPAE_DBM))
		return false;
	if (pt->fmt.stage == SIO_PGT_STAGE1)
		return !(pte & LPAE_S1_AP_RDONLY);
	return pte & LPAE_S2AP_WRITE;
}
