// SPDX-License-Identifier: MIT
/*
 * Reading a table: the lock-free lookup the driver uses (iova_to_phys),
 * the walk through the bus that shows what hardware sees, and the
 * description of a descriptor in words.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>

#include "pgtable_private.h"

void pt_read_wait(const struct sio_pgtable *pt)
{
	while (atomic_load_explicit(&pt->seq, memory_order_acquire) & 1)
		sched_yield();
}

/* A walk raced a writer freeing tables: wait, then walk again. */
static __attribute__((noinline, cold)) int
lookup_retry(const struct sio_pgtable *pt, uint64_t iova,
	     struct sio_pgtable_entry *out)
{
	pt_read_wait(pt);
	return pt->walk.lookup(pt, iova, out);
}

static __attribute__((noinline, cold)) int
to_phys_retry(const struct sio_pgtable *pt, uint64_t iova, uint64_t *pa)
{
	pt_read_wait(pt);
	return pt->walk.to_phys(pt, iova, pa);
}

/*
 * The hot walk, shaped like the plainest one.  It is compiled once for
 * every granule and start level, so shifts and index masks are constants
 * (only the start level's mask, which depends on the input size, is
 * loaded), the levels are unrolled and straight-line, and only our own
 * table descriptors are followed: independent walks overlap in the CPU as
 * well as naive ones do.  It takes no lock: descriptors are read with
 * single loads, and tables stay mapped after they are freed.  Returns the
 * leaf, or 0 if @iova is not mapped.
 */
#define WALK_SHIFT(g, level) ((g) + (3 - (level)) * ((g)-3))

static inline __attribute__((always_inline)) uint64_t
walk_core(const struct sio_pgtable *pt, uint64_t iova, unsigned int *levelp,
	  const unsigned int g, const unsigned int start)
{
	const uint64_t *t = pt->root;
	uint64_t mask = pt->lv[start].mask;
	uint64_t pte = 0;

#pragma GCC unroll 4
	for (unsigned int level = start; level < 3; level++) {
		pte = lpae_read(&t[(iova >> WALK_SHIFT(g, level)) & mask]);
		mask = (1ull << (g - 3)) - 1;
		if (__builtin_expect((pte & LPAE_TYPE_MASK) != LPAE_TYPE_TABLE,
				     0)) {
			*levelp = level;
			/* Our tables hold blocks only where allowed. */
			return (pte & LPAE_TYPE_MASK) == LPAE_TYPE_BLOCK ? pte
									 : 0;
		}
		t = (const uint64_t *)(uintptr_t)(pte & LPAE_GENMASK(47, g));
	}
	pte = lpae_read(&t[(iova >> g) & mask]);
	*levelp = 3;
	return (pte & LPAE_TYPE_MASK) == LPAE_TYPE_PAGE ? pte : 0;
}

static inline bool in_region(const struct sio_pgtable *pt, uint64_t iova)
{
	return __builtin_expect(
		iova - pt->input_base <= pt->input_last - pt->input_base, 1);
}

/* Output address of a leaf; OA[51:48] sits in [15:12] with 64K. */
static inline __attribute__((always_inline)) uint64_t
leaf_pa(uint64_t pte, uint64_t iova, uint64_t size, const unsigned int g)
{
	uint64_t oa = pte & LPAE_GENMASK(47, g);

	if (g == 16)
		oa |= (pte & LPAE_OA_HI_MASK) << 36;
	return oa | (iova & (size - 1));
}

static inline __attribute__((always_inline)) void
fill_entry(const struct sio_pgtable *pt, uint64_t iova, uint64_t pte,
	   unsigned int level, struct sio_pgtable_entry *out,
	   const unsigned int g)
{
	uint64_t bs = 1ull << WALK_SHIFT(g, level);
	unsigned int p = pt->leaf_prot[pt_attr_key(pte)];

	out->pa = leaf_pa(pte, iova, bs, g);
	out->iova_base = iova & ~(bs - 1);
	out->size = bs;
	out->desc = pte;
	out->level = level;
	out->prot = p & ~PT_DIRTY;
	out->dirty = p & PT_DIRTY;
}

/*
 * The walk both entry points share: range check, one seqlock-checked
 * walk.  Returns 0 with the leaf, -ERANGE, -ENOENT, or -EAGAIN if a
 * writer freed tables meanwhile (the caller retries out of line).
 */
static inline __attribute__((always_inline)) int
checked_walk(const struct sio_pgtable *pt, uint64_t iova, uint64_t *pte,
	     unsigned int *level, const unsigned int g,
	     const unsigned int start)
{
	uint64_t seq;

	if (!in_region(pt, iova))
		return -ERANGE;
	seq = pt_read_begin(pt);
	*pte = walk_core(pt, iova, level, g, start);
	if (pt_read_retry(pt, seq))
		return -EAGAIN;
	return *pte ? 0 : -ENOENT;
}

#define DEFINE_WALKERS(g, start)                                               \
	static int lookup_##g##_##start(const struct sio_pgtable *pt,          \
					uint64_t iova,                         \
					struct sio_pgtable_entry *out)         \
	{                                                                      \
		unsigned int level;                                            \
		uint64_t pte;                                                  \
		int rc = checked_walk(pt, iova, &pte, &level, g, start);       \
                                                                               \
		if (__builtin_expect(rc == -EAGAIN, 0))                        \
			return lookup_retry(pt, iova, out);                    \
		if (!rc)                                                       \
			fill_entry(pt, iova, pte, level, out, g);              \
		return rc;                                                     \
	}                                                                      \
	static int to_phys_##g##_##start(const struct sio_pgtable *pt,         \
					 uint64_t iova, uint64_t *pa)          \
	{                                                                      \
		unsigned int level;                                            \
		uint64_t pte;                                                  \
		int rc = checked_walk(pt, iova, &pte, &level, g, start);       \
                                                                               \
		if (__builtin_expect(rc == -EAGAIN, 0))                        \
			return to_phys_retry(pt, iova, pa);                    \
		if (!rc)                                                       \
			*pa = leaf_pa(pte, iova, 1ull << WALK_SHIFT(g, level), \
				      g);                                      \
		return rc;                                                     \
	}

DEFINE_WALKERS(12, 0)
DEFINE_WALKERS(12, 1)
DEFINE_WALKERS(12, 2)
DEFINE_WALKERS(12, 3)
DEFINE_WALKERS(14, 0)
DEFINE_WALKERS(14, 1)
DEFINE_WALKERS(14, 2)
DEFINE_WALKERS(14, 3)
DEFINE_WALKERS(16, 1)
DEFINE_WALKERS(16, 2)
DEFINE_WALKERS(16, 3)

#define WALKERS(g, start)                                   \
	{                                                   \
		lookup_##g##_##start, to_phys_##g##_##start \
	}

/* Indexed by (gshift - 12) / 2 and start level; 64K never starts at 0. */
static const struct pt_walkers walkers[3][4] = {
	{WALKERS(12, 0), WALKERS(12, 1), WALKERS(12, 2), WALKERS(12, 3)},
	{WALKERS(14, 0), WALKERS(14, 1), WALKERS(14, 2), WALKERS(14, 3)},
	{{NULL, NULL}, WALKERS(16, 1), WALKERS(16, 2), WALKERS(16, 3)},
};

const struct pt_walkers *pt_walkers_for(unsigned int gshift,
					unsigned int start_level)
{
	return &walkers[(gshift - 12) / 2][start_level];
}

int sio_pgtable_lookup(const struct sio_pgtable *pt, uint64_t iova,
		       struct sio_pgtable_entry *out)
{
	return pt->walk.lookup(pt, iova, out);
}

int sio_pgtable_iova_to_phys(const struct sio_pgtable *pt, uint64_t iova,
			     uint64_t *pa)
{
	return pt->walk.to_phys(pt, iova, pa);
}

static int walk_through_bus(const struct sio_pgtable *pt, uint64_t iova,
			    struct sio_pgtable_walk *w)
{
	uint64_t table = (uint64_t)(uintptr_t)pt->root;

	w->nsteps = 0;
	for (unsigned int level = pt->fmt.start_level; level <= 3; level++) {
		struct sio_pgtable_walk_step *st = &w->step[w->nsteps++];

		st->level = level;
		st->index = pt_index(pt, level, iova);
		st->table = table;
		st->addr = table + 8ull * st->index;
		st->desc = 0;
		if (sio_mem_read64(pt->bus, st->addr, &st->desc))
			return -EFAULT;
		if (lpae_leaf_valid(&pt->fmt, st->desc, level)) {
			w->size = pt->lv[level].size;
			w->pa = lpae_pte_to_oa(&pt->fmt, st->desc) |
				(iova & (w->size - 1));
			return 0;
		}
		if (!lpae_is_table(st->desc, level))
			break;
		table = lpae_pte_to_oa(&pt->fmt, st->desc);
	}
	return -ENOENT;
}

int sio_pgtable_walk(const struct sio_pgtable *pt, uint64_t iova,
		     struct sio_pgtable_walk *w)
{
	uint64_t seq;
	int rc;

	w->nsteps = 0;
	w->pa = 0;
	w->size = 0;
	if (iova < pt->input_base || iova > pt->input_last)
		return w->result = -ERANGE;
	for (;;) {
		seq = pt_read_begin(pt);
		rc = walk_through_bus(pt, iova, w);
		if (!pt_read_retry(pt, seq))
			break;
		pt_read_wait(pt);
	}
	return w->result = rc;
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
	return snprintf(buf, len, " AttrIndx=%u AP=%s%s SH=%s%s%s%s%s%s",
			(unsigned int)((d >> LPAE_S1_ATTRINDX_SHIFT) & 7),
			(d & LPAE_S1_AP_RDONLY) ? "RO" : "RW",
			(d & LPAE_S1_AP_UNPRIV) ? "+EL0" : "",
			sh_names[(d >> LPAE_SH_SHIFT) & 3],
			(d & LPAE_AF) ? " AF" : "",
			(d & LPAE_S1_NG) ? " nG" : "",
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
