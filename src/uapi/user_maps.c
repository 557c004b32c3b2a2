// SPDX-License-Identifier: MIT
/*
 * A process's mappings, as /proc/<pid>/maps shows them, one line at a
 * time, for every layer that asks.  Some ask from inside the interposer,
 * from an atfork handler too: so the walk reads the file through the
 * calls its caller gives, into a buffer on its own stack (no stdio, no
 * allocation), and the parser only reads its line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uapi.h"

/*
 * A line is under a hundred bytes of fields and a path of up to
 * PATH_MAX: the few longer than this come with their path cut short.
 */
#define MAPS_BUF 4096

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A number in @base (16 or 10) at *@s, which moves past it. */
static bool parse_num(const char **s, unsigned int base, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	int d;

	for (; (d = hex_digit(*p)) >= 0 && (unsigned int)d < base; p++) {
		if (x > (UINT64_MAX - (uint64_t)d) / base)
			return false;
		x = x * base + (uint64_t)d;
	}
	if (p == *s)
		return false;
	*s = p;
	*v = x;
	return true;
}

/* The fields' separator, a run of spaces (padding before the path). */
static bool parse_spaces(const char **s)
{
	const char *p = *s;

	while (*p == ' ')
		p++;
	if (p == *s)
		return false;
	*s = p;
	return true;
}

static bool parse_char(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

static bool parse_perms(const char **s, char perms[5])
{
	for (unsigned int i = 0; i < 4; i++) {
		char c = (*s)[i];

		if (!c || c == ' ')
			return false;
		perms[i] = c;
	}
	perms[4] = 0;
	*s += 4;
	return true;
}

static bool parse_dev(const char **s, unsigned int *maj, unsigned int *min)
{
	uint64_t a, b;

	if (!parse_num(s, 16, &a) || !parse_char(s, ':') ||
	    !parse_num(s, 16, &b) || a > UINT_MAX || b > UINT_MAX)
		return false;
	*maj = (unsigned int)a;
	*min = (unsigned int)b;
	return true;
}

bool sio_user_maps_parse(const char *line, struct sio_user_maps_line *l)
{
	const char *s = line;

	if (!parse_num(&s, 16, &l->start) || !parse_char(&s, '-') ||
	    !parse_num(&s, 16, &l->end) || !parse_spaces(&s) ||
	    !parse_perms(&s, l->perms) || !parse_spaces(&s) ||
	    !parse_num(&s, 16, &l->pgoff) || !parse_spaces(&s) ||
	    !parse_dev(&s, &l->maj, &l->min) || !parse_spaces(&s) ||
	    !parse_num(&s, 10, &l->inode))
		return false;
	/* the kernel ends the fields with a space, path or not */
	if (*s && !parse_spaces(&s))
		return false;
	l->path = s;
	return l->start < l->end;
}

/* A walk between two reads: the lines not yet given are in buf. */
struct maps_walk {
	sio_user_maps_fn fn;
	void *arg;
	size_t have;
	bool skip; /* the rest of a line too long for buf */
	bool stop;
	char buf[MAPS_BUF];
};

static void walk_line(struct maps_walk *w, const char *line)
{
	struct sio_user_maps_line l;

	if (!w->skip && sio_user_maps_parse(line, &l))
		w->stop = w->fn(&l, w->arg);
	w->skip = false;
}

/* Give each whole line in w->buf; keep the start of the next. */
static void walk_buffer(struct maps_walk *w)
{
	char *line = w->buf, *end = w->buf + w->have, *nl;

	while (!w->stop && (nl = memchr(line, '\n', (size_t)(end - line)))) {
		*nl = 0;
		walk_line(w, line);
		line = nl + 1;
	}
	w->have = (size_t)(end - line);
	/* with the NUL after it */
	memmove(w->buf, line, w->have + 1);
	if (!w->stop && w->have == sizeof(w->buf) - 1) {
		/* a line that fills buf: its head has every field */
		walk_line(w, w->buf);
		w->skip = true;
		w->have = 0;
	}
}

static const char *maps_path(pid_t pid, char *buf, size_t size)
{
	/* ours needs no formatting (an atfork handler walks it) */
	if (!pid)
		return "/proc/self/maps";
	snprintf(buf, size, "/proc/%d/maps", (int)pid);
	return buf;
}

/*
 * The system calls themselves: in the interposer, libc's open() and
 * read() resolve to its own entry points for the program.
 */
static int sys_open(const char *path, int flags, ...)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags);
}

static ssize_t sys_read(int fd, void *buf, size_t len)
{
	return (ssize_t)syscall(SYS_read, fd, buf, len);
}

static int sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

int sio_user_maps_walk(pid_t pid, const struct sio_user_maps_io *io,
		       sio_user_maps_fn fn, void *arg)
{
	static const struct sio_user_maps_io sys_io = {sys_open, sys_read,
						       sys_close};
	struct maps_walk w = {.fn = fn, .arg = arg};
	char path[32];
	ssize_t n = 0;
	int fd, err;

	if (!io)
		io = &sys_io;
	fd = io->open(maps_path(pid, path, sizeof(path)), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (!w.stop && (n = io->read(fd, w.buf + w.have,
					sizeof(w.buf) - 1 - w.have)) > 0) {
		w.have += (size_t)n;
		w.buf[w.have] = 0;
		walk_buffer(&w);
	}
	err = n < 0 ? -errno : 0;
	/* a last line without its newline is a line all the same */
	if (!n && !w.stop && w.have)
		walk_line(&w, w.buf);
	io->close(fd);
	return err;
}

struct maps_find {
	uint64_t addr;
	struct sio_user_maps_line *l;
	char *path;
	size_t path_size;
	bool found;
};

static bool find_line(const struct sio_user_maps_line *l, void *arg)
{
	struct maps_find *f = arg;

	if (f->addr < l->start || f->addr >= l->end)
		return false;
	*f->l = *l;
	f->l->path = "";
	if (f->path && f->path_size) {
		size_t n = strnlen(l->path, f->path_size - 1);

		memcpy(f->path, l->path, n);
		f->path[n] = 0;
		f->l->path = f->path;
	}
	f->found = true;
	return true;
}

bool sio_user_maps_find(pid_t pid, uint64_t addr, struct sio_user_maps_line *l,
			char *path, size_t path_size)
{
	struct maps_find f = {
		.addr = addr, .l = l, .path = path, .path_size = path_size};

	sio_user_maps_walk(pid, NULL, find_line, &f);
	return f.found;
}
