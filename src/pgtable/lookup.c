// SPDX-License-Identifier: MIT
/*
 * Reading a table: the lock-free lookup the driver uses (iova_to_phys),
 * the walk through the bus that shows what hardware sees, and the
 * description of a descriptor in words.
 */
#include <errno.h>
#include <stdio.h>

#include "pgtable_private.h"

static void fill_entry(const struct sio_pgtable *pt, uint64_t iova,
		       uint64_t pte, unsigned int level,
		       struct sio_pgtable_entry *out)
{
	uint64_t bs = lpae_level_size(&pt->fmt, level);

	out->pa = lpae_pte_to_oa(&pt->fmt, pte) | (iova & (bs - 1));
	out->iova_base = iova & ~(bs - 1);
	out->size = bs;
	out->desc = pte;
	out->level = level;
	out->prot = pt_attrs_to_prot(pt, pte);
	out->dirty = (pt->flags & SIO_PGT_F_HD) && pt_leaf_dirty(pt, pte);
}

int sio_pgtable_lookup(const struct sio_pgtable *pt, uint64_t iova,
		       struct sio_pgtable_entry *out)
{
	const uint64_t *table = pt->root;

	if (iova < pt->input_base || iova > pt->input_last)
		return -ERANGE;
	for (unsigned int level = pt->fmt.start_level;; level++) {
		uint64_t pte = lpae_read(&table[lpae_index(&pt->fmt, level,
							   iova)]);

		if (lpae_is_leaf(pte, level)) {
			fill_entry(pt, iova, pte, level, out);
			return 0;
		}
		if (!lpae_is_table(pte, level))
			return -ENOENT;
		table = pt_table_ptr(pt, pte);
	}
}

int sio_pgtable_walk(const struct sio_pgtable *pt, uint64_t iova,
		     struct sio_pgtable_walk *w)
{
	uint64_t table = (uint64_t)(uintptr_t)pt->root;

	w->nsteps = 0;
	w->pa = 0;
	w->size = 0;
	if (iova < pt->input_base || iova > pt->input_last)
		return w->result = -ERANGE;
	for (unsigned int level = pt->fmt.start_level; level <= 3; level++) {
		struct sio_pgtable_walk_step *st = &w->step[w->nsteps++];

		st->level = level;
		st->index = lpae_index(&pt->fmt, level, iova);
		st->table = table;
		st->addr = table + 8ull * st->index;
		st->desc = 0;
		if (sio_mem_read64(pt->bus, st->addr, &st->desc))
			return w->result = -EFAULT;
		if (lpae_leaf_valid(&pt->fmt, st->desc, level)) {
			w->size = lpae_level_size(&pt->fmt, level);
			w->pa = lpae_pte_to_oa(&pt->fmt, st->desc) |
				(iova & (w->size - 1));
			return w->result = 0;
		}
		if (!lpae_is_table(st->desc, level))
			break;
		table = lpae_pte_to_oa(&pt->fmt, st->desc);
	}
	return w->result = -ENOENT;
}

static const char *size_str(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "KMGTP";
	unsigned int u = 0;

	size >>= 10;
	while (size >= 1024 && !(size & 1023) && u + 1 < sizeof(units) - 1) {
		size >>= 10;
		u++;
	}
	snprintf(buf, len, "%llu%c", (unsigned long long)size, units[u]);
	return buf;
}

static const char *const sh_names[] = {"NSH", "rsvd", "OSH", "ISH"};

static int format_s1(uint64_t d, char *buf, size_t len)
{
	return snprintf(buf, len,
			" AttrIndx=%u AP=%s%s SH=%s%s%s%s%s%s",
			(unsigned int)((d >> LPAE_S1_ATTRINDX_SHIFT) & 7),
			(d & LPAE_S1_AP_RDONLY) ? "RO" : "RW",
			(d & LPAE_S1_AP_UNPRIV) ? "+EL0" : "",
			sh_names[(d >> LPAE_SH_SHIFT) & 3],
			(d & LPAE_AF) ? " AF" : "", (d & LPAE_S1_NG) ? " nG" : "",
			(d & LPAE_DBM) ? " DBM" : "",
			(d & LPAE_S1_PXN) ? " PXN" : "",
			(d & LPAE_S1_UXN) ? " UXN" : "");
}

static int format_s2(uint64_t d, char *buf, size_t len)
{
	return snprintf(buf, len, " MemAttr=%#x S2AP=%c%c SH=%s%s%s XN=%u",
			(unsigned int)((d & LPAE_S2_MEMATTR_MASK) >>
				       LPAE_S2_MEMATTR_SHIFT),
			(d & LPAE_S2AP_READ) ? 'R' : '-',
			(d & LPAE_S2AP_WRITE) ? 'W' : '-',
			sh_names[(d >> LPAE_SH_SHIFT) & 3],
			(d & LPAE_AF) ? " AF" : "",
			(d & LPAE_DBM) ? " DBM" : "",
			(unsigned int)((d >> 53) & 3));
}

int sio_pgtable_format_desc(const struct sio_pgtable *pt, unsigned int level,
			    uint64_t desc, char *buf, size_t len)
{
	char sz[32];
	int n;

	if (lpae_is_table(desc, level))
		return snprintf(buf, len, "table -> %#llx",
				(unsigned long long)lpae_pte_to_oa(&pt->fmt,
								   desc));
	if (!lpae_is_leaf(desc, level))
		return snprintf(buf, len, "invalid");
	n = snprintf(buf, len, "%s %s -> %#llx", level == 3 ? "page" : "block",
		     size_str(lpae_level_size(&pt->fmt, level), sz, sizeof(sz)),
		     (unsigned long long)lpae_pte_to_oa(&pt->fmt, desc));
	if (n < 0 || (size_t)n >= len)
		return n;
	return n + (pt->fmt.stage == SIO_PGT_STAGE1
			    ? format_s1(desc, buf + n, len - (size_t)n)
			    : format_s2(desc, buf + n, len - (size_t)n));
}
