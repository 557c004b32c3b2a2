// SPDX-License-Identifier: MIT
/*
 * The kernel's fault-injection control files, for the library's fault
 * points (include/softiommu/fault.h), so that a program written for
 * CONFIG_FAULT_INJECTION — the kernel's iommufd_fail_nth selftest — drives
 * them as it would the kernel's:
 *
 *  - fail-nth (Documentation/fault-injection/fault-injection.rst): the
 *    calling thread's count, in /proc/thread-self/, /proc/self/task/<tid>/,
 *    /proc/<pid>/task/<tid>/ and, for the thread that is the process's
 *    main one or names itself, /proc/self/ and /proc/<tid>/.  Writing N
 *    arms the Nth fault point; reading gives "%u\n" of what is left (0
 *    once injected).  A path naming another thread of the process is
 *    libc's: the count lives in that thread (a thread-local), which only
 *    it can reach, so the file works only from the thread that opened it
 *    (EPERM elsewhere, as the first version of the kernel's answered for
 *    a task other than current).
 *  - the debugfs attributes of the fault types softiommu has (failslab:
 *    allocations, fail_page_alloc: table memory, fail_usercopy: copies
 *    from and to the caller), under /sys/kernel/debug/ (sysfs.c serves
 *    the tree).  They read and write as debugfs's, but only fail-nth
 *    injects: the probabilistic attributes keep what is written and act
 *    on nothing, as with the kernel's default probability of 0.
 *
 * Both copy from and to the caller as the kernel's do, through
 * copy_{from,to}_user(), fault points themselves: reading fail-nth while
 * armed counts one down, and may be the fault (EFAULT), as
 * iommufd_fail_nth.c expects of the kernel.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <softiommu/fault.h>

#include "fault/fault_inject.h"
#include "preload.h"
#include "uapi/uapi.h"

/* ---- the kernel's number parsing (lib/kstrtox.c, lib/kstrtobool) ---- */

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/*
 * kstrtoull(@s, 0, @out): an optional '+', then base 16 after "0x"
 * (followed by a hex digit), 8 after a leading 0, else 10; digits; one
 * optional newline; nothing else.  -EINVAL, or -ERANGE past 64 bits.
 */
static int parse_ull(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int base = 10;
	const char *p;

	if (*s == '+')
		s++;
	if (s[0] == '0') {
		base = 8;
		if (tolower((unsigned char)s[1]) == 'x' &&
		    isxdigit((unsigned char)s[2])) {
			base = 16;
			s += 2;
		}
	}
	for (p = s; digit_value(*p) < (int)base; p++) {
		unsigned int d = (unsigned int)digit_value(*p);

		if (v > (ULLONG_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	if (p == s)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*out = v;
	return 0;
}

/* kstrtoll(@s, 0, @out): parse_ull() with an optional '-'. */
static int parse_ll(const char *s, long long *out)
{
	unsigned long long v;
	int rc;

	if (*s != '-') {
		rc = parse_ull(s, &v);
		if (!rc && v > LLONG_MAX)
			rc = -ERANGE;
		if (!rc)
			*out = (long long)v;
		return rc;
	}
	rc = parse_ull(s + 1, &v);
	if (rc)
		return rc;
	if (v > (unsigned long long)LLONG_MAX + 1)
		return -ERANGE;
	*out = v ? -(long long)(v - 1) - 1 : 0;
	return 0;
}

/* kstrtobool(): y/Y/t/T/1, n/N/f/F/0, on/off; the rest is ignored. */
static int parse_bool(const char *s, bool *out)
{
	switch (s[0]) {
	case 'y':
	case 'Y':
	case 't':
	case 'T':
	case '1':
		*out = true;
		return 0;
	case 'n':
	case 'N':
	case 'f':
	case 'F':
	case '0':
		*out = false;
		return 0;
	case 'o':
	case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*out = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*out = false;
			return 0;
		}
		break;
	}
	return -EINVAL;
}

/* ---- the debugfs attributes ---- */

enum attr_kind { ATTR_UL, ATTR_INT, ATTR_BOOL, ATTR_U32 };

struct debugfs_attr {
	const char *dir, *name;
	enum attr_kind kind;
	long long init; /* the kernel's default */
};

/* fault_create_debugfs_attr()'s files, and each type's own. */
#define COMMON_ATTRS(d)                                               \
	{d, "probability", ATTR_UL, 0}, {d, "interval", ATTR_UL, 1},  \
		{d, "times", ATTR_INT, 1}, {d, "space", ATTR_INT, 0}, \
		{d, "verbose", ATTR_UL, 2},                           \
	{                                                             \
		d, "task-filter", ATTR_BOOL, 0                        \
	}

static const struct debugfs_attr attrs[] = {
	COMMON_ATTRS("failslab"),
	{"failslab", "ignore-gfp-wait", ATTR_BOOL, 1},
	{"failslab", "cache-filter", ATTR_BOOL, 0},
	COMMON_ATTRS("fail_page_alloc"),
	{"fail_page_alloc", "ignore-gfp-wait", ATTR_BOOL, 1},
	{"fail_page_alloc", "ignore-gfp-highmem", ATTR_BOOL, 1},
	{"fail_page_alloc", "min-order", ATTR_U32, 1},
	COMMON_ATTRS("fail_usercopy"),
};

_Static_assert(sizeof(attrs) / sizeof(attrs[0]) <= PRELOAD_DEBUGFS_MAX,
	       "PRELOAD_DEBUGFS_MAX too small");

unsigned int preload_debugfs_count(void)
{
	return sizeof(attrs) / sizeof(attrs[0]);
}

void preload_debugfs_name(unsigned int i, const char **dir, const char **name)
{
	*dir = attrs[i].dir;
	*name = attrs[i].name;
}

void preload_debugfs_init(_Atomic long long *val)
{
	for (unsigned int i = 0; i < preload_debugfs_count(); i++)
		atomic_store(&val[i], attrs[i].init);
}

/* ---- the files ---- */

/* An open control file: what it shows and stores, and its position. */
struct ctl_file {
	/* "%...\n" of the value into @buf; its length */
	int (*show)(struct ctl_file *c, char *buf, size_t size);
	/* parse @buf (NUL-terminated): 0 or -errno */
	int (*store)(struct ctl_file *c, const char *buf);
	size_t max_store; /* bytes of a write the kernel reads */
	pid_t tid;	  /* fail-nth: its task; debugfs: 0 */
	unsigned int attr;
	_Atomic off_t pos; /* read(): the file position */
};

static struct ctl_file *ctl(struct sio_vfile *f)
{
	return sio_vfile_priv(f);
}

/* The calling thread may use @c: fail-nth's count is its own. */
static int ctl_check(const struct ctl_file *c)
{
	return c->tid && c->tid != gettid() ? -EPERM : 0;
}

/* simple_read_from_buffer() of the shown value, at @off. */
static ssize_t ctl_read_at(struct ctl_file *c, void *buf, size_t len, off_t off)
{
	char text[32];
	size_t n;
	int rc = ctl_check(c);

	if (rc)
		return rc;
	n = (size_t)c->show(c, text, sizeof(text));
	if (off >= (off_t)n || !len)
		return 0;
	if (len > n - (size_t)off)
		len = n - (size_t)off;
	sio_user_begin();
	rc = sio_user_write((uint64_t)(uintptr_t)buf, text + off, len);
	return rc ? rc : (ssize_t)len;
}

static ssize_t ctl_pread(struct sio_vfile *f, void *buf, size_t len, off_t off)
{
	return ctl_read_at(ctl(f), buf, len, off);
}

static ssize_t ctl_read(struct sio_vfile *f, void *buf, size_t len)
{
	struct ctl_file *c = ctl(f);
	ssize_t n = ctl_read_at(c, buf, len, atomic_load(&c->pos));

	if (n > 0)
		atomic_fetch_add(&c->pos, n);
	return n;
}

/* A write: the first max_store bytes, parsed; the whole count on success. */
static ssize_t ctl_write(struct sio_vfile *f, const void *buf, size_t len)
{
	struct ctl_file *c = ctl(f);
	char text[40];
	size_t n = len < c->max_store ? len : c->max_store;
	int rc = ctl_check(c);

	if (rc)
		return rc;
	sio_user_begin();
	rc = sio_user_read(text, (uint64_t)(uintptr_t)buf, n);
	if (rc)
		return rc;
	text[n] = '\0';
	rc = c->store(c, text);
	return rc ? rc : (ssize_t)len;
}

/* The kernel's write ignores the position (it never advances it). */
static ssize_t ctl_pwrite(struct sio_vfile *f, const void *buf, size_t len,
			  off_t off)
{
	(void)off;
	return ctl_write(f, buf, len);
}

static void ctl_release(void *priv)
{
	free(priv);
}

static const struct sio_vfile_ops ctl_ops = {
	.name = "fault-injection",
	.read = ctl_read,
	.write = ctl_write,
	.pread = ctl_pread,
	.pwrite = ctl_pwrite,
	.release = ctl_release,
};

static int ctl_open(struct ctl_file *c, int flags)
{
	struct sio_vfile *f;
	int fd;

	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
		return -EEXIST;
	fd = vfile_open_anon(&ctl_ops, c, flags & ~(O_CREAT | O_EXCL | O_TRUNC),
			     &f);
	if (fd < 0) {
		free(c);
		return fd;
	}
	vfile_put(f);
	return fd;
}

/* ---- fail-nth ---- */

static int nth_show(struct ctl_file *c, char *buf, size_t size)
{
	(void)c;
	return snprintf(buf, size, "%u\n", sio_fail_nth_get());
}

/* kstrtouint_from_user(buf, count, 0, &n), then the task's fail_nth = n */
static int nth_store(struct ctl_file *c, const char *buf)
{
	unsigned long long n;
	int rc = parse_ull(buf, &n);

	(void)c;
	if (!rc && n > UINT_MAX)
		rc = -ERANGE;
	if (!rc)
		sio_fail_nth_set((unsigned int)n);
	return rc;
}

/* A decimal number (a pid) at *@p, followed by '/': *@p moves past it. */
static bool take_pid(const char **p, pid_t *out)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)**p))
		return false;
	errno = 0;
	v = strtol(*p, &end, 10);
	if (errno || v <= 0 || v > INT_MAX || *end != '/')
		return false;
	*out = (pid_t)v;
	*p = end + 1;
	return true;
}

/* The task @path's fail-nth belongs to (0 if it is no fail-nth path). */
static pid_t fail_nth_task(const char *path)
{
	const char *p = path + strlen("/proc/");
	pid_t pid = getpid(), task;

	if (!strcmp(p, "thread-self/fail-nth"))
		return gettid();
	if (!strncmp(p, "self/", 5))
		p += 5;
	else if (!take_pid(&p, &pid))
		return 0;
	task = pid;
	if (!strncmp(p, "task/", 5)) {
		/* /proc/<pid>/task/<tid>: a thread of <pid> */
		if (pid != getpid())
			return 0;
		p += 5;
		if (!take_pid(&p, &task))
			return 0;
	}
	return strcmp(p, "fail-nth") ? 0 : task;
}

bool preload_fail_nth_open(const char *path, int flags, int *ret)
{
	struct ctl_file *c;
	pid_t task;
	int saved = errno, fd;

	if (strncmp(path, "/proc/", 6))
		return false;
	task = fail_nth_task(path);
	/* only the caller's own count is ours (see the top) */
	if (!task || task != gettid())
		return false;
	c = sio_calloc(1, sizeof(*c));
	fd = -ENOMEM;
	if (c) {
		c->show = nth_show;
		c->store = nth_store;
		/* sign, 32 binary digits, newline, terminator */
		c->max_store = 34;
		c->tid = task;
		fd = ctl_open(c, flags);
	}
	errno = fd < 0 ? -fd : saved;
	*ret = fd < 0 ? -1 : fd;
	return true;
}

/* ---- the debugfs attributes' files ---- */

static _Atomic long long *attr_val(const struct ctl_file *c)
{
	return &preload.sysfs.debugfs[c->attr];
}

static int attr_show(struct ctl_file *c, char *buf, size_t size)
{
	long long v = atomic_load(attr_val(c));

	switch (attrs[c->attr].kind) {
	case ATTR_BOOL:
		return snprintf(buf, size, "%c\n", v ? 'Y' : 'N');
	case ATTR_INT:
		return snprintf(buf, size, "%lld\n", v);
	default:
		return snprintf(buf, size, "%llu\n", (unsigned long long)v);
	}
}

/*
 * debugfs's stores: kstrtobool for a bool; simple_attr_write()'s
 * kstrtoull (kstrtoll for the atomic_t ones) for the numbers, a u32
 * keeping the low 32 bits as debugfs_u32_set() does.
 */
static int attr_store(struct ctl_file *c, const char *buf)
{
	unsigned long long u = 0;
	long long v = 0;
	bool b = false;
	int rc;

	switch (attrs[c->attr].kind) {
	case ATTR_BOOL:
		rc = parse_bool(buf, &b);
		v = b;
		break;
	case ATTR_INT:
		rc = parse_ll(buf, &v);
		if (!rc && (v < INT_MIN || v > INT_MAX))
			v = (int)(unsigned int)v;
		break;
	case ATTR_U32:
		rc = parse_ull(buf, &u);
		v = (long long)(uint32_t)u;
		break;
	default:
		rc = parse_ull(buf, &u);
		v = (long long)u;
		break;
	}
	if (!rc)
		atomic_store(attr_val(c), v);
	return rc;
}

int preload_debugfs_open(unsigned int attr, int flags)
{
	struct ctl_file *c = sio_calloc(1, sizeof(*c));

	if (!c || attr >= preload_debugfs_count()) {
		free(c);
		return -ENOMEM;
	}
	c->show = attr_show;
	c->store = attr_store;
	/* kstrtobool_from_user()'s 3 bytes; simple_attr_write()'s 23 */
	c->max_store = attrs[attr].kind == ATTR_BOOL ? 3 : 23;
	c->attr = attr;
	return ctl_open(c, flags);
}
