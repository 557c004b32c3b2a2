// SPDX-License-Identifier: MIT
/*
 * The device-node registry: which paths are ours, what open does for
 * each and what stat() shows.  Nodes are appended, never removed, so a
 * lookup reads them without a lock: a path outside /dev/ costs one
 * comparison, a path inside it one strcmp per node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "preload.h"

/* The inode numbers we make up: far from devtmpfs's small ones. */
#define NODE_INO_BASE 0x50f7000
/* devtmpfs on a typical machine is (0, 5) */
#define NODE_DEV makedev(0, 5)

int preload_register_node(const char *path, mode_t mode, dev_t rdev,
			  sio_vfile_open_fn open, void *ctx)
{
	struct preload_node *n;
	unsigned int nr;
	int rc = 0;

	if (strlen(path) >= sizeof(n->path))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&preload.node_lock);
	nr = atomic_load(&preload.nr_nodes);
	for (unsigned int i = 0; i < nr; i++)
		if (!strcmp(preload.nodes[i].path, path))
			rc = -EEXIST;
	if (!rc && nr == PRELOAD_MAX_NODES)
		rc = -ENOSPC;
	if (!rc) {
		n = &preload.nodes[nr];
		strcpy(n->path, path);
		n->mode = mode & 07777;
		n->rdev = rdev;
		n->ino = NODE_INO_BASE + nr;
		n->open = open;
		n->ctx = ctx;
		/* publish: lookups see the node only once it is complete */
		atomic_store_explicit(&preload.nr_nodes, nr + 1,
				      memory_order_release);
	}
	pthread_mutex_unlock(&preload.node_lock);
	return rc;
}

const struct preload_node *preload_node_find(const char *path)
{
	unsigned int nr;

	if (!path || strncmp(path, "/dev/", 5))
		return NULL;
	nr = atomic_load_explicit(&preload.nr_nodes, memory_order_acquire);
	for (unsigned int i = 0; i < nr; i++)
		if (!strcmp(preload.nodes[i].path, path))
			return &preload.nodes[i];
	return NULL;
}

/* A character device owned by the caller, as udev would set it up. */
void preload_node_stat(const struct preload_node *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = NODE_DEV;
	st->st_ino = n->ino;
	st->st_mode = S_IFCHR | n->mode;
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_rdev = n->rdev;
	st->st_blksize = 4096;
	st->st_atim = preload.boot;
	st->st_mtim = preload.boot;
	st->st_ctim = preload.boot;
}

void preload_node_statx(const struct preload_node *n, struct statx *stx)
{
	struct stat st;
	struct statx_timestamp t = {.tv_sec = preload.boot.tv_sec,
				    .tv_nsec = (uint32_t)preload.boot.tv_nsec};

	preload_node_stat(n, &st);
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st.st_blksize;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_atime = t;
	stx->stx_ctime = t;
	stx->stx_mtime = t;
	stx->stx_rdev_major = major(n->rdev);
	stx->stx_rdev_minor = minor(n->rdev);
	stx->stx_dev_major = major(st.st_dev);
	stx->stx_dev_minor = minor(st.st_dev);
}

/*
 * "" (AT_EMPTY_PATH) but not NULL.  Out of line on purpose: libc declares
 * the path arguments nonnull, and a NULL test inlined there is dropped.
 */
bool preload_path_empty(const char *path)
{
	return path && !path[0];
}
