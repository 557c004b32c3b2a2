// SPDX-License-Identifier: MIT
/*
 * The interval tree behind the IOAS: areas, allowed ranges and reserved
 * ranges.  AVL balancing keeps every operation O(log n) however the
 * program maps; the subtree_last augmentation makes the intersection
 * queries prune whole subtrees.
 */
#include <stddef.h>

#include "interval_tree.h"

static int height(const struct sio_itree_node *n)
{
	return n ? n->height : 0;
}

static uint64_t max3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a > b ? a : b;

	return m > c ? m : c;
}

static void update(struct sio_itree_node *n)
{
	int hl = height(n->left), hr = height(n->right);

	n->height = 1 + (hl > hr ? hl : hr);
	n->subtree_last = max3(n->last, n->left ? n->left->subtree_last : 0,
			       n->right ? n->right->subtree_last : 0);
}

/* Order by start, then by address so equal starts are still distinct. */
static int cmp(const struct sio_itree_node *a, const struct sio_itree_node *b)
{
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a == b)
		return 0;
	return (uintptr_t)a < (uintptr_t)b ? -1 : 1;
}

static struct sio_itree_node *rotate_right(struct sio_itree_node *n)
{
	struct sio_itree_node *l = n->left;

	n->left = l->right;
	l->right = n;
	update(n);
	update(l);
	return l;
}

static struct sio_itree_node *rotate_left(struct sio_itree_node *n)
{
	struct sio_itree_node *r = n->right;

	n->right = r->left;
	r->left = n;
	update(n);
	update(r);
	return r;
}

static struct sio_itree_node *rebalance(struct sio_itree_node *n)
{
	int bal;

	update(n);
	bal = height(n->left) - height(n->right);
	if (bal > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bal < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct sio_itree_node *insert(struct sio_itree_node *root,
				     struct sio_itree_node *node)
{
	if (!root)
		return node;
	if (cmp(node, root) < 0)
		root->left = insert(root->left, node);
	else
		root->right = insert(root->right, node);
	return rebalance(root);
}

void sio_itree_insert(struct sio_itree *t, struct sio_itree_node *node)
{
	node->left = node->right = NULL;
	node->height = 1;
	node->subtree_last = node->last;
	t->root = insert(t->root, node);
}

/* Detach the leftmost node of @root into *@min; returns the new root. */
static struct sio_itree_node *remove_min(struct sio_itree_node *root,
					 struct sio_itree_node **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = remove_min(root->left, min);
	return rebalance(root);
}

static struct sio_itree_node *remove(struct sio_itree_node *root,
				     struct sio_itree_node *node)
{
	struct sio_itree_node *succ;
	int c;

	if (!root)
		return NULL;
	c = cmp(node, root);
	if (c < 0) {
		root->left = remove(root->left, node);
		return rebalance(root);
	}
	if (c > 0) {
		root->right = remove(root->right, node);
		return rebalance(root);
	}
	if (!root->right)
		return root->left;
	root->right = remove_min(root->right, &succ);
	succ->left = root->left;
	succ->right = root->right;
	return rebalance(succ);
}

void sio_itree_remove(struct sio_itree *t, struct sio_itree_node *node)
{
	t->root = remove(t->root, node);
	node->left = node->right = NULL;
}

/*
 * The smallest node greater than @after (NULL: no bound) that intersects
 * [start, last].  Subtrees whose subtree_last < start cannot intersect,
 * and nodes with start > last end the search to the right.
 */
static struct sio_itree_node *first_after(struct sio_itree_node *n,
					  const struct sio_itree_node *after,
					  uint64_t start, uint64_t last)
{
	struct sio_itree_node *found;

	if (!n || n->subtree_last < start)
		return NULL;
	if (!after || cmp(n, after) > 0) {
		found = first_after(n->left, after, start, last);
		if (found)
			return found;
		if (n->start > last)
			return NULL;
		if (n->last >= start)
			return n;
	}
	if (n->start > last)
		return NULL;
	return first_after(n->right, after, start, last);
}

struct sio_itree_node *sio_itree_first(const struct sio_itree *t,
				       uint64_t start, uint64_t last)
{
	return first_after(t->root, NULL, start, last);
}

struct sio_itree_node *sio_itree_next(const struct sio_itree *t,
				      const struct sio_itree_node *node,
				      uint64_t start, uint64_t last)
{
	return first_after(t->root, node, start, last);
}

/* The largest last among the ranges that contain @p; false if none. */
static bool max_last_covering(const struct sio_itree *t, uint64_t p,
			      uint64_t *out)
{
	struct sio_itree_node *n;
	bool any = false;

	sio_itree_for_each(n, t, p, p)
	{
		if (!any || n->last > *out)
			*out = n->last;
		any = true;
	}
	return any;
}

/* Compute the span that begins at s->cursor. */
static void span_fill(struct sio_itree_span *s)
{
	struct sio_itree_node *n;
	uint64_t end = s->cursor, more;

	n = sio_itree_first(s->tree, s->cursor, s->last_query);
	s->start = s->cursor;
	if (!n) {
		s->is_hole = true;
		s->last = s->last_query;
		return;
	}
	if (n->start > s->cursor) {
		s->is_hole = true;
		s->last = n->start - 1;
		return;
	}
	/* A used span runs while ranges overlap or abut. */
	max_last_covering(s->tree, s->cursor, &end);
	while (end < s->last_query &&
	       max_last_covering(s->tree, end + 1, &more) && more > end)
		end = more;
	s->is_hole = false;
	s->last = end < s->last_query ? end : s->last_query;
}

void sio_itree_span_first(struct sio_itree_span *s, const struct sio_itree *t,
			  uint64_t start, uint64_t last)
{
	s->tree = t;
	s->cursor = start;
	s->last_query = last;
	s->done = start > last;
	if (!s->done)
		span_fill(s);
}

void sio_itree_span_next(struct sio_itree_span *s)
{
	if (s->last >= s->last_query) {
		s->done = true;
		return;
	}
	s->cursor = s->last + 1;
	span_fill(s);
}
