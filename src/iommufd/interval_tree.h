/* SPDX-License-Identifier: MIT */
/*
 * An interval tree over closed ranges [start, last]: a height-balanced
 * (AVL) binary tree ordered by start, each node carrying the largest
 * `last` of its subtree so queries skip subtrees that cannot intersect.
 * Ranges may overlap and share a start (reserved regions of two devices
 * do); the node's address breaks ties so every node has a unique key.
 *
 * The tree stores nodes embedded in the caller's objects and allocates
 * nothing, so insertion and removal cannot fail.
 */
#ifndef SIO_IOMMUFD_INTERVAL_TREE_H
#define SIO_IOMMUFD_INTERVAL_TREE_H

#include <stdbool.h>
#include <stdint.h>

struct sio_itree_node {
	uint64_t start;
	uint64_t last;
	uint64_t subtree_last;
	struct sio_itree_node *left, *right;
	int height;
};

struct sio_itree {
	struct sio_itree_node *root;
};

static inline bool sio_itree_empty(const struct sio_itree *t)
{
	return !t->root;
}

/* Insert @node with its start and last already set. */
void sio_itree_insert(struct sio_itree *t, struct sio_itree_node *node);
/* Remove @node, which must be in @t. */
void sio_itree_remove(struct sio_itree *t, struct sio_itree_node *node);

/* The first node, in start order, that intersects [start, last]. */
struct sio_itree_node *sio_itree_first(const struct sio_itree *t,
				       uint64_t start, uint64_t last);
/* The node after @node, in start order, that intersects [start, last]. */
struct sio_itree_node *sio_itree_next(const struct sio_itree *t,
				      const struct sio_itree_node *node,
				      uint64_t start, uint64_t last);

#define sio_itree_for_each(node, t, s, l)                     \
	for ((node) = sio_itree_first((t), (s), (l)); (node); \
	     (node) = sio_itree_next((t), (node), (s), (l)))

/*
 * Spans: walk [start, last] as alternating used and hole spans, where
 * "used" is the union of the tree's ranges (clipped to [start, last]).
 */
struct sio_itree_span {
	uint64_t start, last;
	bool is_hole;
	bool done;
	/* private */
	const struct sio_itree *tree;
	uint64_t last_query;
	uint64_t cursor;
};

void sio_itree_span_first(struct sio_itree_span *s, const struct sio_itree *t,
			  uint64_t start, uint64_t last);
void sio_itree_span_next(struct sio_itree_span *s);

#define sio_itree_for_each_span(s, t, first, lastv)                        \
	for (sio_itree_span_first((s), (t), (first), (lastv)); !(s)->done; \
	     sio_itree_span_next(s))

#endif /* SIO_IOMMUFD_INTERVAL_TREE_H */
