// SPDX-License-Identifier: MIT
/*
 * The page-table object: creation from a configuration, table memory,
 * and teardown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fault/fault_inject.h"
#include "pgtable_private.h"

uint64_t *pt_table_alloc(struct sio_pgtable *pt)
{
	uint64_t *t = sio_mem_pool_alloc(pt->pool, 1ul << pt->fmt.gshift);

	if (t)
		pt->tables++;
	return t;
}

/* Free a table that is no longer linked; caller holds pt->lock. */
void pt_table_free(struct sio_pgtable *pt, uint64_t *table)
{
	pt_reuse_begin(pt);
	sio_mem_pool_free(pt->pool, table);
	pt_reuse_end(pt);
	pt->tables--;
}

/*
 * The same for a table without a valid entry left (unmap emptied it, or
 * a failed map never filled it): its memory is all zeros already, and
 * the hardware writes (access flag, dirty state) only ever go to valid
 * descriptors, so it stays that way.
 */
void pt_table_free_empty(struct sio_pgtable *pt, uint64_t *table)
{
	pt_reuse_begin(pt);
	sio_mem_pool_free_zeroed(pt->pool, table);
	pt_reuse_end(pt);
	pt->tables--;
}

static int check_cfg(const struct sio_pgtable_cfg *cfg, unsigned int *gshift)
{
	switch (cfg->granule) {
	case 4096:
		*gshift = 12;
		break;
	case 16384:
		*gshift = 14;
		break;
	case 65536:
		*gshift = 16;
		break;
	default:
		return -EINVAL;
	}
	if (cfg->flags & ~SIO_PGT_F_HD)
		return -EINVAL;
	if (cfg->stage == SIO_PGT_STAGE1 && cfg->region != SIO_PGT_TTB0 &&
	    cfg->region != SIO_PGT_TTB1)
		return -EINVAL;
	if (cfg->stage == SIO_PGT_STAGE2 && cfg->region != SIO_PGT_TTB0)
		return -EINVAL;
	if (cfg->start_level < SIO_PGT_START_AUTO || cfg->start_level > 3)
		return -EINVAL;
	return 0;
}

static void init_geometry(struct sio_pgtable *pt)
{
	const struct lpae_fmt *f = &pt->fmt;

	pt->nr_leaf_levels = 0;
	pt->pgsize_bitmap = 0;
	for (unsigned int level = f->start_level; level <= 3; level++) {
		struct pt_level *l = &pt->lv[level];

		l->shift = lpae_level_shift(f, level);
		l->size = 1ull << l->shift;
		l->mask = lpae_level_entries(f, level) - 1;
		l->leaf = level == 3 ||
			  lpae_block_allowed(f->gshift, f->oas, level);
		if (l->leaf) {
			pt->leaf_levels[pt->nr_leaf_levels++] = level;
			pt->pgsize_bitmap |= l->size;
		}
	}
	pt->table_mask = LPAE_GENMASK(47, f->gshift);
}

/*
 * The start table: one table, or for stage 2 up to 16 concatenated ones,
 * aligned to its whole size as the TTB / S2TTB alignment rules require.
 */
static int alloc_root(struct sio_pgtable *pt)
{
	size_t entries = (size_t)1 << pt->fmt.start_bits;
	size_t granule = (size_t)1 << pt->fmt.gshift;
	size_t size = entries * 8 > granule ? entries * 8 : granule;

	pt->root = sio_mem_pool_alloc(pt->pool, size);
	if (!pt->root)
		return -ENOMEM;
	pt->root_size = size;
	pt->tables = size / granule;
	return 0;
}

int sio_pgtable_create(const struct sio_pgtable_cfg *cfg,
		       struct sio_mem_bus *bus, struct sio_pgtable **out)
{
	struct sio_pgtable *pt;
	unsigned int gshift;
	int rc;

	if (!cfg || !bus || !out)
		return -EINVAL;
	rc = check_cfg(cfg, &gshift);
	if (rc)
		return rc;
	pt = sio_calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	rc = lpae_fmt_init(&pt->fmt, cfg->stage, gshift, cfg->ias, cfg->oas,
			   cfg->start_level);
	if (rc)
		goto err_free;
	pt->region = cfg->region;
	pt->flags = cfg->flags;
	pt->bus = bus;
	if (cfg->region == SIO_PGT_TTB1) {
		pt->input_base = ~0ull << cfg->ias;
		pt->input_last = ~0ull;
	} else {
		pt->input_base = 0;
		pt->input_last = ~0ull >> (64 - cfg->ias);
	}
	init_geometry(pt);
	pt_init_prot(pt);
	pt->walk = *pt_walkers_for(pt->fmt.gshift, pt->fmt.start_level);

	/* Table addresses are output addresses: keep them below 2^oas. */
	if (cfg->pool) {
		rc = -EINVAL;
		if (sio_mem_pool_addr_bits(cfg->pool) > cfg->oas)
			goto err_free;
		pt->pool = cfg->pool;
	} else {
		rc = sio_mem_pool_create(bus, cfg->oas, &pt->pool);
		if (rc)
			goto err_free;
		pt->own_pool = true;
	}
	rc = alloc_root(pt);
	if (rc)
		goto err_pool;
	atomic_init(&pt->seq, 0);
	pthread_mutex_init(&pt->lock, NULL);
	*out = pt;
	return 0;

err_pool:
	if (pt->own_pool)
		sio_mem_pool_destroy(pt->pool);
err_free:
	free(pt);
	return rc;
}

static void free_tree(struct sio_pgtable *pt, uint64_t *table,
		      unsigned int level)
{
	for (unsigned int i = 0; i <= pt->lv[level].mask; i++) {
		uint64_t pte = lpae_read(&table[i]);

		if (lpae_is_table(pte, level)) {
			uint64_t *child = pt_table_ptr(pt, pte);

			free_tree(pt, child, level + 1);
			pt_table_free(pt, child);
		}
	}
}

void sio_pgtable_destroy(struct sio_pgtable *pt)
{
	if (!pt)
		return;
	free_tree(pt, pt->root, pt->fmt.start_level);
	if (pt->own_pool) {
		sio_mem_pool_destroy(pt->pool);
	} else {
		sio_mem_pool_free(pt->pool, pt->root);
	}
	pthread_mutex_destroy(&pt->lock);
	free(pt);
}

void sio_pgtable_get_info(const struct sio_pgtable *pt,
			  struct sio_pgtable_info *info)
{
	const struct lpae_fmt *f = &pt->fmt;
	unsigned int concat_bits = 0;

	if (f->start_bits > f->stride)
		concat_bits = f->start_bits - f->stride;
	memset(info, 0, sizeof(*info));
	info->root = (uint64_t)(uintptr_t)pt->root;
	info->start_level = f->start_level;
	info->concat = 1u << concat_bits;
	info->start_bits = f->start_bits;
	info->tsz = 64 - f->ias;
	info->ps = (unsigned int)lpae_ps_encode(f->oas);
	info->pgsize_bitmap = pt->pgsize_bitmap;
	info->input_base = pt->input_base;
	info->input_last = pt->input_last;
	if (f->stage == SIO_PGT_STAGE1) {
		info->tg = (unsigned int)(pt->region == SIO_PGT_TTB1
						  ? lpae_tg1_encode(f->gshift)
						  : lpae_tg0_encode(f->gshift));
		info->mair = LPAE_MAIR_VALUE;
	} else {
		info->tg = (unsigned int)lpae_s2tg_encode(f->gshift);
		info->sl0 = (unsigned int)lpae_sl0_encode(f->gshift,
							  f->start_level);
	}
}

void sio_pgtable_get_stats(const struct sio_pgtable *pt,
			   struct sio_pgtable_stats *st)
{
	struct sio_pgtable *w = (struct sio_pgtable *)pt;
	size_t granule = (size_t)1 << pt->fmt.gshift;

	pthread_mutex_lock(&w->lock);
	st->tables = pt->tables;
	st->table_bytes = pt->tables * granule;
	st->leaves = pt->leaves;
	pthread_mutex_unlock(&w->lock);
}

struct sio_mem_pool *sio_pgtable_pool(const struct sio_pgtable *pt)
{
	return pt->pool;
}

void sio_pgtable_gather_finish(struct sio_pgtable *pt,
			       struct sio_pgtable_gather *g)
{
	pthread_mutex_lock(&pt->lock);
	pt_reuse_begin(pt);
	/*
	 * Only unmap retires tables into a gather: they are empty but for
	 * the word that links them (unmap.c), cleared before the free.
	 */
	for (uint64_t *t = g->freed, *next; t; t = next) {
		next = (uint64_t *)(uintptr_t)__atomic_load_n(&t[0],
							      __ATOMIC_RELAXED);
		__atomic_store_n(&t[0], 0, __ATOMIC_RELEASE);
		sio_mem_pool_free_zeroed(pt->pool, t);
	}
	pt_reuse_end(pt);
	pthread_mutex_unlock(&pt->lock);
	memset(g, 0, sizeof(*g));
}
