// SPDX-License-Identifier: MIT
/*
 * The /sys view of the platform's devices, so that a program finds its
 * device, group and cdev by BDF as VFIO programs do on Linux:
 *
 *   /sys/devices/pci0000:00/<BDF>/            vendor device class
 *       subsystem_vendor subsystem_device     (pci-sysfs.c's formats)
 *       iommu_group -> ../../../kernel/iommu_groups/<N>
 *       driver -> ../../../bus/pci/drivers/vfio-pci
 *       vfio-dev/vfio<K>/dev                  "major:minor" of the cdev
 *   /sys/bus/pci/devices/<BDF> -> ../../../devices/pci0000:00/<BDF>
 *   /sys/bus/pci/drivers/vfio-pci/<BDF> -> ../../../../devices/...
 *   /sys/kernel/iommu_groups/<N>/devices/<BDF> -> ../../../../devices/...
 *
 * Link targets are relative to the link's directory, as kernfs writes
 * them (kernfs_get_target_path()).  The directories we add to
 * (/sys/bus/pci/devices, /sys/devices/pci0000:00, /sys/kernel/iommu_groups,
 * ...) are "overlays": a name we do not have in them is the real file
 * system's, and a listing shows the real entries beside ours; a name we
 * have hides the real one of that name whole.  Everything below a
 * directory of our own is ours alone (a name we lack there is ENOENT).
 *
 * The tree is a table of nodes in the process context: the skeleton on
 * first use, the devices from the platform the first time a walk needs
 * them.  Files are opened as sealed memfds reopened read-only, so read,
 * pread, lseek, poll, fdopen and mmap are the kernel's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "platform/platform_private.h"
#include "preload.h"

#define ROOT	       0
#define MAX_LINKS      40 /* the kernel's MAXSYMLINKS */
#define SYSFS_INO_BASE 0x5f5f000
/* sysfs's usual st_dev when /sys cannot be asked */
#define SYSFS_DEV_FALLBACK makedev(0, 22)

static struct preload_sysfs *sysfs(void)
{
	return &preload.sysfs;
}

/* ---- the tree ---- */

/* Append a node under @parent (lock held): its index, or -1 when full. */
static int node_add(int parent, enum sysfs_type type, const char *name,
		    const char *fmt, ...)
{
	struct preload_sysfs *s = sysfs();
	unsigned int nr = atomic_load_explicit(&s->nr, memory_order_relaxed);
	struct sysfs_node *n;
	va_list ap;

	if (parent < 0 || nr == PRELOAD_SYSFS_MAX_NODES)
		return -1;
	n = &s->node[nr];
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->type = (unsigned char)type;
	n->parent = (unsigned short)parent;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(n->data, sizeof(n->data), fmt, ap);
		va_end(ap);
	}
	/* publish: a walk sees the node only once it is complete */
	atomic_store_explicit(&s->nr, nr + 1, memory_order_release);
	return (int)nr;
}

/* A directory that may exist in the real /sys as well. */
static int overlay_add(int parent, const char *name, bool has_devices)
{
	int i = node_add(parent, SYSFS_DIR, name, NULL);

	if (i >= 0) {
		sysfs()->node[i].overlay = true;
		sysfs()->node[i].has_devices = has_devices;
	}
	return i;
}

static int child_find(int dir, const char *name, size_t len)
{
	struct preload_sysfs *s = sysfs();
	unsigned int nr = atomic_load_explicit(&s->nr, memory_order_acquire);

	for (unsigned int i = 1; i < nr; i++)
		if (s->node[i].parent == dir &&
		    strlen(s->node[i].name) == len &&
		    !memcmp(s->node[i].name, name, len))
			return (int)i;
	return -1;
}

static int path_find(const char *path)
{
	int cur = ROOT;
	const char *p = path, *end;

	while (cur >= 0 && *p) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end == p)
			break;
		cur = child_find(cur, p, (size_t)(end - p));
		p = end;
	}
	return cur;
}

/*
 * /sys/kernel/debug: the fault-injection attributes (fault_files.c), in
 * a directory per fault type.  Ours whole, hiding the real debugfs (root
 * only, and the kernel's faults, not the library's), and the caller's,
 * as /dev/iommu is.
 */
static void debugfs_build(int kernel)
{
	int debug = node_add(kernel, SYSFS_DIR, "debug", NULL);

	if (debug < 0)
		return;
	sysfs()->node[debug].user_owned = true;
	preload_debugfs_init(sysfs()->debugfs);
	for (unsigned int i = 0; i < preload_debugfs_count(); i++) {
		const char *dname, *name;
		int dir, f;

		preload_debugfs_name(i, &dname, &name);
		dir = child_find(debug, dname, strlen(dname));
		if (dir < 0) {
			dir = node_add(debug, SYSFS_DIR, dname, NULL);
			if (dir < 0)
				return;
			sysfs()->node[dir].user_owned = true;
		}
		f = node_add(dir, SYSFS_FILE, name, NULL);
		if (f < 0)
			return;
		sysfs()->node[f].user_owned = true;
		sysfs()->node[f].attr = (unsigned char)(i + 1);
	}
}

/* The directories every view has, whether or not the platform exists. */
static void skeleton_build(void)
{
	struct preload_sysfs *s = sysfs();
	struct stat st;
	int sys, bus, pci, devices, kernel;

	node_add(ROOT, SYSFS_DIR, "/", NULL);
	s->node[ROOT].overlay = true;
	sys = overlay_add(ROOT, "sys", false);
	bus = overlay_add(sys, "bus", false);
	pci = overlay_add(bus, "pci", false);
	overlay_add(pci, "devices", true);
	overlay_add(pci, "drivers", true);
	devices = overlay_add(sys, "devices", false);
	overlay_add(devices, "pci0000:00", true);
	kernel = overlay_add(sys, "kernel", false);
	overlay_add(kernel, "iommu_groups", true);
	debugfs_build(kernel);
	s->dev = preload.real.stat("/sys", &st) ? SYSFS_DEV_FALLBACK
						: st.st_dev;
}

static void device_add_ids(int dir, struct platform_device *d)
{
	struct vfio_pci_ids id;

	vfio_pci_config_ids(sio_vfio_ioat_pci(d->vioat), &id);
	node_add(dir, SYSFS_FILE, "vendor", "0x%04x\n", id.vendor);
	node_add(dir, SYSFS_FILE, "device", "0x%04x\n", id.device);
	node_add(dir, SYSFS_FILE, "subsystem_vendor", "0x%04x\n",
		 id.subsystem_vendor);
	node_add(dir, SYSFS_FILE, "subsystem_device", "0x%04x\n",
		 id.subsystem_device);
	node_add(dir, SYSFS_FILE, "class", "0x%06x\n", id.class_code);
	node_add(dir, SYSFS_FILE, "revision", "0x%02x\n", id.revision);
}

/*
 * The cdev's class device, <dev>/vfio-dev/vfio<K> (vfio_device_class
 * "vfio-dev", named "vfio%d" by its minor): "dev" is what
 * /dev/vfio/devices/vfio<K> really is.
 */
static void device_add_cdev(int dir, unsigned int index)
{
	const struct preload_node *n;
	char path[64], name[16];
	int vd, c;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%u", index);
	n = preload_node_find(path);
	if (!n)
		return;
	snprintf(name, sizeof(name), "vfio%u", minor(n->rdev));
	vd = node_add(dir, SYSFS_DIR, "vfio-dev", NULL);
	c = node_add(vd, SYSFS_DIR, name, NULL);
	node_add(c, SYSFS_FILE, "dev", "%u:%u\n", major(n->rdev),
		 minor(n->rdev));
}

static void device_add(struct platform_device *d, unsigned int index,
		       int vfio_pci)
{
	char group[16];
	int dir, g;

	dir = node_add(path_find("/sys/devices/pci0000:00"), SYSFS_DIR, d->name,
		       NULL);
	if (dir < 0)
		return;
	device_add_ids(dir, d);
	node_add(dir, SYSFS_LINK, "iommu_group",
		 "../../../kernel/iommu_groups/%u", d->group.id);
	node_add(dir, SYSFS_LINK, "driver",
		 "../../../bus/pci/drivers/vfio-pci");
	device_add_cdev(dir, index);
	node_add(path_find("/sys/bus/pci/devices"), SYSFS_LINK, d->name,
		 "../../../devices/pci0000:00/%s", d->name);
	node_add(vfio_pci, SYSFS_LINK, d->name,
		 "../../../../devices/pci0000:00/%s", d->name);
	snprintf(group, sizeof(group), "%u", d->group.id);
	g = node_add(path_find("/sys/kernel/iommu_groups"), SYSFS_DIR, group,
		     NULL);
	g = node_add(g, SYSFS_DIR, "devices", NULL);
	node_add(g, SYSFS_LINK, d->name, "../../../../devices/pci0000:00/%s",
		 d->name);
}

/*
 * The platform's devices, once.  Without a platform (it failed to come
 * up) the view has none and the real /sys shows through.
 */
static void devices_build(void)
{
	struct sio_platform *p;
	int drv;

	if (preload_platform(&p))
		return;
	drv = node_add(path_find("/sys/bus/pci/drivers"), SYSFS_DIR, "vfio-pci",
		       NULL);
	for (unsigned int i = 0; i < p->nr_devs; i++)
		device_add(&p->devs[i], i, drv);
}

static void ensure(atomic_bool *flag, void (*build)(void))
{
	struct preload_sysfs *s = sysfs();

	if (atomic_load_explicit(flag, memory_order_acquire))
		return;
	pthread_mutex_lock(&s->lock);
	if (!atomic_load_explicit(flag, memory_order_relaxed)) {
		build();
		atomic_store_explicit(flag, true, memory_order_release);
	}
	pthread_mutex_unlock(&s->lock);
}

void preload_sysfs_lock(void)
{
	pthread_mutex_lock(&sysfs()->lock);
	pthread_mutex_lock(&sysfs()->dir_lock);
}

void preload_sysfs_unlock(void)
{
	pthread_mutex_unlock(&sysfs()->dir_lock);
	pthread_mutex_unlock(&sysfs()->lock);
}

/* The absolute path of node @i. */
static void node_path(int i, char *buf, size_t size)
{
	const struct sysfs_node *n = &sysfs()->node[i];

	if (i == ROOT) {
		snprintf(buf, size, "/");
		return;
	}
	node_path(n->parent, buf, size);
	if (n->parent != ROOT)
		strncat(buf, "/", size - strlen(buf) - 1);
	strncat(buf, n->name, size - strlen(buf) - 1);
}

/* ---- path walk ---- */

enum walk_result { WALK_OURS, WALK_PASS };

struct walk {
	int node;	     /* WALK_OURS: the node */
	bool rewritten;	     /* a link of ours was followed */
	char real[PATH_MAX]; /* WALK_PASS after a link: the path to pass */
};

/* The last component of @rest is next: nothing but slashes after @end. */
static bool is_last(const char *end)
{
	while (*end == '/')
		end++;
	return !*end;
}

/* Continue the walk at a link's target, relative to its directory. */
static int walk_link(const struct sysfs_node *link, const char *rest, char *buf,
		     int *cur)
{
	char tmp[PATH_MAX];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", link->data, rest) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	strcpy(buf, tmp);
	if (buf[0] == '/')
		*cur = ROOT;
	return 0;
}

/* Not ours below overlay @cur: the real file system answers @name@rest. */
static int walk_pass(struct walk *w, int cur, const char *name)
{
	char dir[PATH_MAX];

	if (!w->rewritten)
		return WALK_PASS;
	node_path(cur, dir, sizeof(dir));
	if ((size_t)snprintf(w->real, sizeof(w->real), "%s%s%s", dir,
			     cur == ROOT ? "" : "/", name) >= sizeof(w->real))
		return -ENAMETOOLONG;
	return WALK_PASS;
}

/*
 * Resolve @path as the VFS would, components and links of ours, "." and
 * ".." (physical: a directory's parent, as after a kernel link walk).
 * @follow: follow a link in the last component.
 */
static int walk(const char *path, bool follow, struct walk *w)
{
	struct preload_sysfs *s = sysfs();
	char buf[PATH_MAX];
	const char *p = buf, *name, *end;
	unsigned int links = 0;
	int cur = ROOT, c, rc;
	size_t len;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	w->rewritten = false;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		end = strchrnul(p, '/');
		len = (size_t)(end - name);
		if (s->node[cur].type != SYSFS_DIR)
			return -ENOTDIR;
		p = end;
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			cur = s->node[cur].parent;
			continue;
		}
		if (s->node[cur].has_devices)
			ensure(&s->devices, devices_build);
		c = child_find(cur, name, len);
		if (c < 0)
			return s->node[cur].overlay ? walk_pass(w, cur, name)
						    : -ENOENT;
		if (s->node[c].type == SYSFS_LINK &&
		    (!is_last(end) || follow || *end == '/')) {
			if (++links > MAX_LINKS)
				return -ELOOP;
			rc = walk_link(&s->node[c], end, buf, &cur);
			if (rc)
				return rc;
			p = buf;
			w->rewritten = true;
			continue;
		}
		if (s->node[c].type == SYSFS_FILE && *end == '/')
			return -ENOTDIR;
		cur = c;
	}
	w->node = cur;
	return WALK_OURS;
}

/*
 * Is @path ours?  WALK_OURS with w->node a node we answer for (an
 * overlay directory only if @overlay_too), WALK_PASS, or -errno.
 */
static int lookup(const char *path, bool follow, bool overlay_too,
		  struct walk *w)
{
	int rc;

	w->rewritten = false;
	if (!path || strncmp(path, "/sys/", 5))
		return WALK_PASS;
	preload_ready();
	ensure(&sysfs()->built, skeleton_build);
	rc = walk(path, follow, w);
	if (rc == WALK_OURS && sysfs()->node[w->node].overlay && !overlay_too) {
		/* the real directory answers, at the path we resolved */
		if (w->rewritten)
			node_path(w->node, w->real, sizeof(w->real));
		return WALK_PASS;
	}
	return rc;
}

static bool fail(int err, int *ret)
{
	errno = err;
	*ret = -1;
	return true;
}

/* ---- open ---- */

/*
 * The file's contents in a memfd, sealed, then reopened read-only through
 * /proc so the fd is the O_RDONLY fd the kernel would give (write EBADF).
 */
static int file_fd(const struct sysfs_node *n, int flags)
{
	int keep = flags & (O_CLOEXEC | O_NONBLOCK), fd, ro;
	size_t len = strlen(n->data);
	char proc[64];

	fd = sio_should_fail_fd()
		     ? -1
		     : memfd_create(n->name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (preload.real.write(fd, n->data, len) != (ssize_t)len ||
	    preload.real.fcntl(fd, F_ADD_SEALS,
			       F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW |
				       F_SEAL_WRITE)) {
		preload.real.close(fd);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ro = preload.real.open(proc, O_RDONLY | keep);
	if (ro < 0) {
		/* no /proc: the sealed fd still refuses every write */
		preload.real.lseek(fd, 0, SEEK_SET);
		if (!(keep & O_CLOEXEC))
			preload.real.fcntl(fd, F_SETFD, 0);
		return fd;
	}
	preload.real.close(fd);
	return ro;
}

/*
 * Our directories have no real one to open: the fd is one on "/", so
 * fstat, fchdir and close work on it, but getdents64 on it lists "/"
 * (docs/preload.md: list our directories with opendir/readdir).
 */
static int dir_fd(int flags)
{
	int keep = flags & (O_CLOEXEC | O_PATH | O_NONBLOCK);

	return preload.real.open("/", O_RDONLY | O_DIRECTORY | keep);
}

static int open_node(const struct sysfs_node *n, int flags)
{
	int acc = flags & O_ACCMODE;

	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return errno = EEXIST, -1;
	switch (n->type) {
	case SYSFS_LINK: /* only with O_NOFOLLOW */
		return errno = ELOOP, -1;
	case SYSFS_DIR:
		if (acc != O_RDONLY || (flags & O_CREAT))
			return errno = EISDIR, -1;
		return dir_fd(flags);
	default:
		if (flags & O_DIRECTORY)
			return errno = ENOTDIR, -1;
		if (n->attr) {
			int fd = preload_debugfs_open(n->attr - 1u, flags);

			return fd < 0 ? (errno = -fd, -1) : fd;
		}
		/* kernfs_fop_open(): an attribute without .store */
		if (acc != O_RDONLY && !(flags & O_PATH))
			return errno = EACCES, -1;
		return file_fd(n, flags);
	}
}

/* The kernel just gave @fd to a plain file: forget a stale entry. */
static int plain_fd(int fd)
{
	if (fd >= 0 && preload_fd_maybe(fd))
		vfile_drop_stale(fd);
	return fd;
}

bool preload_sysfs_open(const char *path, int flags, mode_t mode, int *ret)
{
	struct walk w;
	int rc = lookup(path, !(flags & O_NOFOLLOW), false, &w), saved = errno;
	const struct sysfs_node *n;

	if (rc < 0)
		return fail(-rc, ret);
	if (rc == WALK_PASS) {
		if (!w.rewritten)
			return false;
		*ret = plain_fd(preload.real.open(w.real, flags, mode));
		return true;
	}
	n = &sysfs()->node[w.node];
	/* an attribute's fd is a virtual file, entered in the table */
	*ret = n->attr ? open_node(n, flags) : plain_fd(open_node(n, flags));
	if (*ret >= 0)
		errno = saved;
	return true;
}

/* ---- stat ---- */

static void node_stat(int i, struct stat *st)
{
	const struct sysfs_node *n = &sysfs()->node[i];

	memset(st, 0, sizeof(*st));
	st->st_dev = sysfs()->dev;
	st->st_ino = SYSFS_INO_BASE + (ino_t)i;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	st->st_atim = preload.boot;
	st->st_mtim = preload.boot;
	st->st_ctim = preload.boot;
	switch (n->type) {
	case SYSFS_DIR:
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		break;
	case SYSFS_LINK: /* kernfs links have no size */
		st->st_mode = S_IFLNK | 0777;
		break;
	default: /* sysfs attributes all claim a page */
		st->st_mode = S_IFREG | 0444;
		st->st_size = 4096;
		break;
	}
	if (n->user_owned) {
		/* debugfs: its root 0700, directories 0755, attributes 0600 */
		st->st_uid = getuid();
		st->st_gid = getgid();
		if (n->type != SYSFS_DIR) {
			st->st_mode = S_IFREG | 0600;
			st->st_size = 0;
		} else if (!strcmp(n->name, "debug")) {
			st->st_mode = S_IFDIR | 0700;
		}
	}
}

/*
 * An overlay directory is the real one's when it exists; the view still
 * shows it when it does not (a machine without PCI or IOMMU groups).
 */
static int stat_overlay(int i, bool follow, struct stat *st)
{
	char path[PATH_MAX];
	int saved = errno;

	node_path(i, path, sizeof(path));
	if (!(follow ? preload.real.stat : preload.real.lstat)(path, st))
		return 0;
	errno = saved;
	node_stat(i, st);
	return 0;
}

static bool stat_walk(const char *path, bool follow, struct stat *st, int *ret)
{
	struct walk w;
	int rc = lookup(path, follow, true, &w);

	if (rc < 0)
		return fail(-rc, ret);
	if (rc == WALK_PASS) {
		if (!w.rewritten)
			return false;
		*ret = (follow ? preload.real.stat : preload.real.lstat)(w.real,
									 st);
		return true;
	}
	if (sysfs()->node[w.node].overlay)
		*ret = stat_overlay(w.node, follow, st);
	else
		node_stat(w.node, st), *ret = 0;
	return true;
}

bool preload_sysfs_stat(const char *path, bool follow, struct stat *st,
			int *ret)
{
	return stat_walk(path, follow, st, ret);
}

static struct statx_timestamp to_statx_time(struct timespec t)
{
	return (struct statx_timestamp){.tv_sec = t.tv_sec,
					.tv_nsec = (uint32_t)t.tv_nsec};
}

bool preload_sysfs_statx(const char *path, int flags, struct statx *stx,
			 int *ret)
{
	struct stat st;

	if (!stat_walk(path, !(flags & AT_SYMLINK_NOFOLLOW), &st, ret))
		return false;
	if (*ret)
		return true;
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = (uint32_t)st.st_blksize;
	stx->stx_nlink = (uint32_t)st.st_nlink;
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_ino = st.st_ino;
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_atime = to_statx_time(st.st_atim);
	stx->stx_ctime = to_statx_time(st.st_ctim);
	stx->stx_mtime = to_statx_time(st.st_mtim);
	stx->stx_dev_major = major(st.st_dev);
	stx->stx_dev_minor = minor(st.st_dev);
	return true;
}

/* ---- access ---- */

/*
 * Root-owned: files 0444, directories 0755.  Root passes everything but
 * X_OK on a file with no x bit (generic_permission()); others get the
 * "other" bits.
 */
static int node_access(const struct sysfs_node *n, int mode)
{
	unsigned int other = n->type == SYSFS_DIR ? 5 : 4;

	/* debugfs's nodes are the caller's: the owner's bits, rwx or rw- */
	if (n->user_owned)
		other = n->type == SYSFS_DIR ? 7 : 6;

	if (mode & ~(R_OK | W_OK | X_OK))
		return errno = EINVAL, -1;
	if (!geteuid())
		return (mode & X_OK) && n->type != SYSFS_DIR
			       ? (errno = EACCES, -1)
			       : 0;
	if (((mode & R_OK) && !(other & 4)) ||
	    ((mode & W_OK) && !(other & 2)) || ((mode & X_OK) && !(other & 1)))
		return errno = EACCES, -1;
	return 0;
}

bool preload_sysfs_access(const char *path, int mode, bool follow, int *ret)
{
	struct walk w;
	int rc = lookup(path, follow, false, &w);

	if (rc < 0)
		return fail(-rc, ret);
	if (rc == WALK_PASS) {
		if (!w.rewritten)
			return false;
		*ret = preload.real.faccessat(AT_FDCWD, w.real, mode,
					      follow ? 0 : AT_SYMLINK_NOFOLLOW);
		return true;
	}
	*ret = node_access(&sysfs()->node[w.node], mode);
	return true;
}

/* ---- extended attributes: sysfs has none to show ---- */

const char *preload_sysfs_xattr(const char *path, bool follow, char *real,
				size_t size, int *err)
{
	struct walk w;
	int rc = lookup(path, follow, false, &w);

	*err = rc < 0 ? -rc : ENODATA;
	if (rc != WALK_PASS)
		return NULL;
	if (!w.rewritten)
		return path;
	snprintf(real, size, "%s", w.real);
	return real;
}

/* ---- readlink and realpath ---- */

bool preload_sysfs_readlink(const char *path, char *buf, size_t size,
			    ssize_t *ret)
{
	const struct sysfs_node *n;
	struct walk w;
	size_t len;
	int rc = lookup(path, false, false, &w);

	if (rc == WALK_PASS && !w.rewritten)
		return false;
	*ret = -1;
	if (rc < 0) {
		errno = -rc;
		return true;
	}
	if (rc == WALK_PASS) {
		*ret = preload.real.readlink(w.real, buf, size);
		return true;
	}
	n = &sysfs()->node[w.node];
	if (n->type != SYSFS_LINK || !size) {
		errno = EINVAL;
		return true;
	}
	len = strlen(n->data);
	if (len > size)
		len = size;
	memcpy(buf, n->data, len); /* no NUL, as readlink(2) */
	*ret = (ssize_t)len;
	return true;
}

bool preload_sysfs_realpath(const char *path, char *resolved, size_t size,
			    char **ret)
{
	char tmp[PATH_MAX];
	struct walk w;
	int rc = lookup(path, true, true, &w);

	if (rc == WALK_PASS && !w.rewritten)
		return false;
	*ret = NULL;
	if (rc < 0) {
		errno = -rc;
		return true;
	}
	if (rc == WALK_PASS) {
		*ret = preload.real.realpath(w.real, resolved);
		return true;
	}
	node_path(w.node, tmp, sizeof(tmp));
	if (!resolved) {
		*ret = sio_strdup(tmp);
		return true;
	}
	if (strlen(tmp) >= size) {
		errno = ENAMETOOLONG;
		return true;
	}
	*ret = strcpy(resolved, tmp);
	return true;
}

/* ---- directories ---- */

/* A directory stream of ours: a real DIR whose entries we give instead. */
struct sysfs_dir {
	DIR *d;
	int node; /* the directory listed */
	size_t nr, pos, cap;
	struct dirent *ents;
};

static int dir_push(struct sysfs_dir *sd, const char *name, unsigned char type,
		    ino_t ino)
{
	struct dirent *e;

	if (sd->nr == sd->cap) {
		size_t cap = sd->cap ? 2 * sd->cap : 32;

		e = sio_realloc(sd->ents, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		sd->ents = e;
		sd->cap = cap;
	}
	e = &sd->ents[sd->nr];
	memset(e, 0, sizeof(*e));
	e->d_ino = ino;
	e->d_type = type;
	e->d_reclen = sizeof(*e);
	snprintf(e->d_name, sizeof(e->d_name), "%s", name);
	sd->nr++;
	e->d_off = (off_t)sd->nr;
	return 0;
}

static unsigned char node_dtype(const struct sysfs_node *n)
{
	return n->type == SYSFS_DIR    ? DT_DIR
	       : n->type == SYSFS_LINK ? DT_LNK
				       : DT_REG;
}

/* The real directory's entries, but for "." "..", and the names we hide. */
static int dir_fill_real(struct sysfs_dir *sd, int dir)
{
	struct dirent *e;
	int rc = 0;

	while (!rc && (e = preload.real.readdir(sd->d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (child_find(dir, e->d_name, strlen(e->d_name)) < 0)
			rc = dir_push(sd, e->d_name, e->d_type, e->d_ino);
	}
	preload.real.rewinddir(sd->d);
	return rc;
}

static int dir_fill(struct sysfs_dir *sd, int dir, bool real)
{
	struct preload_sysfs *s = sysfs();
	unsigned int nr;
	int rc;

	rc = dir_push(sd, ".", DT_DIR, SYSFS_INO_BASE + (ino_t)dir);
	if (!rc)
		rc = dir_push(sd, "..", DT_DIR,
			      SYSFS_INO_BASE + s->node[dir].parent);
	/* our names first: they hide the real entries of the same name */
	if (s->node[dir].has_devices)
		ensure(&s->devices, devices_build);
	if (!rc && real)
		rc = dir_fill_real(sd, dir);
	nr = atomic_load_explicit(&s->nr, memory_order_acquire);
	for (unsigned int i = 1; !rc && i < nr; i++)
		if (s->node[i].parent == dir)
			rc = dir_push(sd, s->node[i].name,
				      node_dtype(&s->node[i]),
				      SYSFS_INO_BASE + i);
	return rc;
}

static int dir_register(struct sysfs_dir *sd)
{
	struct preload_sysfs *s = sysfs();
	int rc = -EMFILE;

	pthread_mutex_lock(&s->dir_lock);
	for (unsigned int i = 0; i < PRELOAD_SYSFS_MAX_DIRS; i++) {
		if (!s->dirs[i]) {
			s->dirs[i] = sd;
			atomic_fetch_add(&s->nr_dirs, 1);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&s->dir_lock);
	return rc;
}

static void dir_free(struct sysfs_dir *sd)
{
	if (sd->d)
		preload.real.closedir(sd->d);
	free(sd->ents);
	free(sd);
}

/*
 * The DIR is a real one (the overlaid directory, or "/" for one only we
 * have) so that dirfd() and calls we do not interpose stay harmless.
 */
static int dir_open(int dir, DIR **ret)
{
	struct sysfs_dir *sd = sio_calloc(1, sizeof(*sd));
	char path[PATH_MAX];
	bool real = false;
	int rc;

	if (!sd)
		return -ENOMEM;
	sd->node = dir;
	if (sysfs()->node[dir].overlay) {
		node_path(dir, path, sizeof(path));
		sd->d = preload.real.opendir(path);
		real = sd->d;
	}
	if (!sd->d)
		sd->d = preload.real.opendir("/");
	rc = sd->d ? dir_fill(sd, dir, real) : -errno;
	if (!rc)
		rc = dir_register(sd);
	if (rc) {
		dir_free(sd);
		return rc;
	}
	*ret = sd->d;
	return 0;
}

bool preload_sysfs_opendir(const char *path, DIR **ret)
{
	struct walk w;
	int rc = lookup(path, true, true, &w), saved = errno;

	if (rc == WALK_PASS && !w.rewritten)
		return false;
	*ret = NULL;
	if (rc == WALK_PASS) {
		*ret = preload.real.opendir(w.real);
		return true;
	}
	if (rc == WALK_OURS)
		rc = sysfs()->node[w.node].type == SYSFS_DIR
			     ? dir_open(w.node, ret)
			     : -ENOTDIR;
	errno = rc ? -rc : saved;
	return true;
}

/* The node of the stream whose dirfd() is @fd, or -1. */
static int dir_node_of_fd(int fd)
{
	struct preload_sysfs *s = sysfs();
	int node = -1;

	if (!atomic_load(&s->nr_dirs))
		return -1;
	pthread_mutex_lock(&s->dir_lock);
	for (int i = 0; i < PRELOAD_SYSFS_MAX_DIRS && node < 0; i++)
		if (s->dirs[i] && dirfd(s->dirs[i]->d) == fd)
			node = s->dirs[i]->node;
	pthread_mutex_unlock(&s->dir_lock);
	return node;
}

bool preload_sysfs_openat(int fd, const char *path, int flags, mode_t mode,
			  int *ret)
{
	char full[PATH_MAX];
	size_t len;
	int node;

	if (path[0] == '/' || fd < 0)
		return false;
	node = dir_node_of_fd(fd);
	if (node < 0)
		return false;
	node_path(node, full, sizeof(full));
	len = strlen(full);
	if ((size_t)snprintf(full + len, sizeof(full) - len, "/%s", path) >=
	    sizeof(full) - len)
		return fail(ENAMETOOLONG, ret);
	return preload_sysfs_open(full, flags, mode, ret);
}

/* The slot of @d (dir_lock held), or -1. */
static int dir_slot(DIR *d)
{
	for (int i = 0; i < PRELOAD_SYSFS_MAX_DIRS; i++)
		if (sysfs()->dirs[i] && sysfs()->dirs[i]->d == d)
			return i;
	return -1;
}

/*
 * Run @op on @d's stream under dir_lock (glibc locks a DIR for each call
 * too); false if @d is not ours.
 */
static bool dir_call(DIR *d, void (*op)(struct sysfs_dir *sd, void *arg),
		     void *arg)
{
	struct preload_sysfs *s = sysfs();
	int i;

	if (!d || !atomic_load_explicit(&s->nr_dirs, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&s->dir_lock);
	i = dir_slot(d);
	if (i >= 0)
		op(s->dirs[i], arg);
	pthread_mutex_unlock(&s->dir_lock);
	return i >= 0;
}

static void op_readdir(struct sysfs_dir *sd, void *arg)
{
	struct dirent **ret = arg;

	/* the end leaves errno alone, as readdir(3) */
	*ret = sd->pos < sd->nr ? &sd->ents[sd->pos++] : NULL;
}

bool preload_sysfs_readdir(DIR *d, struct dirent **ret)
{
	return dir_call(d, op_readdir, ret);
}

static void op_rewind(struct sysfs_dir *sd, void *arg)
{
	(void)arg;
	sd->pos = 0;
}

bool preload_sysfs_rewinddir(DIR *d)
{
	return dir_call(d, op_rewind, NULL);
}

static void op_tell(struct sysfs_dir *sd, void *arg)
{
	*(long *)arg = (long)sd->pos;
}

bool preload_sysfs_telldir(DIR *d, long *ret)
{
	return dir_call(d, op_tell, ret);
}

static void op_seek(struct sysfs_dir *sd, void *arg)
{
	long loc = *(long *)arg;

	sd->pos = loc < 0 ? 0 : (size_t)loc > sd->nr ? sd->nr : (size_t)loc;
}

bool preload_sysfs_seekdir(DIR *d, long loc)
{
	return dir_call(d, op_seek, &loc);
}

bool preload_sysfs_closedir(DIR *d)
{
	struct preload_sysfs *s = sysfs();
	struct sysfs_dir *sd = NULL;
	int i;

	if (!d || !atomic_load_explicit(&s->nr_dirs, memory_order_relaxed))
		return false;
	pthread_mutex_lock(&s->dir_lock);
	i = dir_slot(d);
	if (i >= 0) {
		sd = s->dirs[i];
		s->dirs[i] = NULL;
		atomic_fetch_sub(&s->nr_dirs, 1);
	}
	pthread_mutex_unlock(&s->dir_lock);
	if (!sd)
		return false;
	dir_free(sd);
	return true;
}
