// SPDX-License-Identifier: MIT
/*
 * /proc/<pid>/maps, the one reader every layer uses: lines as the kernel
 * writes them (fields, padding, a path or none), lines that are not a
 * mapping's, and the walk over a file that comes in small reads, with a
 * line longer than its buffer, an early stop and read errors.  The real
 * file is checked against mappings made here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sio_test.h"

#include "uapi/uapi.h"

static void test_parse_anonymous(void **state)
{
	struct sio_user_maps_line l;

	(void)state;
	assert_true(sio_user_maps_parse("7f12a4c00000-7f12a4c21000 rw-p "
					"00000000 00:00 0 ",
					&l));
	assert_int_equal(l.start, 0x7f12a4c00000ull);
	assert_int_equal(l.end, 0x7f12a4c21000ull);
	assert_string_equal(l.perms, "rw-p");
	assert_int_equal(l.pgoff, 0);
	assert_int_equal(l.maj, 0);
	assert_int_equal(l.min, 0);
	assert_int_equal(l.inode, 0);
	assert_string_equal(l.path, "");
	/* the same without the space the kernel ends the fields with */
	assert_true(sio_user_maps_parse("7f12a4c00000-7f12a4c21000 rw-p "
					"00000000 00:00 0",
					&l));
	assert_string_equal(l.path, "");
}

static void test_parse_file(void **state)
{
	struct sio_user_maps_line l;

	(void)state;
	assert_true(sio_user_maps_parse("55d0c0a00000-55d0c0a21000 r-xp "
					"00002000 "
					"fd:01 1234567                    "
					"/usr/bin/cat",
					&l));
	assert_int_equal(l.start, 0x55d0c0a00000ull);
	assert_int_equal(l.end, 0x55d0c0a21000ull);
	assert_string_equal(l.perms, "r-xp");
	assert_int_equal(l.pgoff, 0x2000);
	assert_int_equal(l.maj, 0xfd);
	assert_int_equal(l.min, 1);
	assert_int_equal(l.inode, 1234567);
	assert_string_equal(l.path, "/usr/bin/cat");
	/* a path keeps its spaces and the kernel's suffix */
	assert_true(sio_user_maps_parse("7f0000000000-7f0000004000 rw-s "
					"00001000 00:01 2048 "
					"/memfd:" SIO_USER_WINDOW_NAME " ("
					"deleted"
					")",
					&l));
	assert_string_equal(l.perms, "rw-s");
	assert_int_equal(l.maj, 0);
	assert_int_equal(l.min, 1);
	assert_int_equal(l.inode, 2048);
	assert_string_equal(l.path, "/memfd:" SIO_USER_WINDOW_NAME " ("
				    "deleted)");
	/* the largest addresses and device numbers */
	assert_true(sio_user_maps_parse("ffffffffff600000-ffffffffff601000 "
					"--xp 00000000 fff:fffff 0 "
					"[vsyscall]",
					&l));
	assert_int_equal(l.end, 0xffffffffff601000ull);
	assert_int_equal(l.maj, 0xfff);
	assert_int_equal(l.min, 0xfffff);
	assert_string_equal(l.path, "[vsyscall]");
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"Name: cat",
		"1000-2000",
		"1000-2000 rw-p 00000000 00:00",	   /* no inode */
		"1000-2000 rw- 00000000 00:00 0 ",	   /* 3 perms */
		"1000 2000 rw-p 00000000 00:00 0 ",	   /* no dash */
		"1000-2000 rw-p 00000000 0000 0 ",	   /* no colon */
		"2000-1000 rw-p 00000000 00:00 0 ",	   /* backwards */
		"1000-1000 rw-p 00000000 00:00 0 ",	   /* empty */
		"1000-2000 rw-p 00000000 00:00 12x ",	   /* not decimal */
		"1000-2000 rw-p 00000000 100000000:00 0 ", /* a device > 32 bits
							    */
		"1000-10000000000000000 rw-p 0 00:00 0 ",  /* past 64 bits */
		"1000-2000 rw-p 00000000 00:00 18446744073709551616 ",
	};
	struct sio_user_maps_line l;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sio_user_maps_parse(bad[i], &l))
			fail_msg("parsed: \"%s\"", bad[i]);
}

/* ---- the walk over a file of our own ---- */

#define FAKE_FD 1000

/* What the fake open, read and close serve: one file at a time. */
static struct fake {
	const char *text;
	size_t len, pos, chunk;
	int read_errno; /* after the first read */
	bool open, opened_self;
} fake;

static int fake_open(const char *path, int flags, ...)
{
	assert_int_equal(flags, O_RDONLY | O_CLOEXEC);
	fake.opened_self = !strcmp(path, "/proc/self/maps");
	if (!fake.text) {
		errno = ENOENT;
		return -1;
	}
	fake.open = true;
	fake.pos = 0;
	return FAKE_FD;
}

static ssize_t fake_read(int fd, void *buf, size_t len)
{
	size_t n = fake.len - fake.pos;

	assert_int_equal(fd, FAKE_FD);
	assert_true(len > 0);
	if (fake.read_errno && fake.pos) {
		errno = fake.read_errno;
		return -1;
	}
	if (n > len)
		n = len;
	if (n > fake.chunk)
		n = fake.chunk;
	memcpy(buf, fake.text + fake.pos, n);
	fake.pos += n;
	return (ssize_t)n;
}

static int fake_close(int fd)
{
	assert_int_equal(fd, FAKE_FD);
	assert_true(fake.open);
	fake.open = false;
	return 0;
}

static const struct sio_user_maps_io fake_io = {fake_open, fake_read,
						fake_close};

static void fake_set(const char *text, size_t chunk)
{
	fake = (struct fake){
		.text = text, .len = text ? strlen(text) : 0, .chunk = chunk};
}

/* What a walk gave: each line's start and its path's head. */
struct seen {
	unsigned int n, stop_at;
	uint64_t start[8];
	char path[8][16];
	size_t path_len[8];
};

static bool seen_line(const struct sio_user_maps_line *l, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	s->start[s->n] = l->start;
	snprintf(s->path[s->n], sizeof(s->path[0]), "%s", l->path);
	s->path_len[s->n] = strlen(l->path);
	return ++s->n == s->stop_at;
}

static const char three_lines[] = "1000-2000 r--p 00000000 08:01 11 /a\n"
				  "not a mapping's line\n"
				  "3000-4000 rw-p 00000000 00:00 0 \n"
				  "5000-6000 rw-s 00000000 00:05 12 /b";

static void test_walk_lines(void **state)
{
	static const size_t chunks[] = {1, 2, 7, 4096};

	(void)state;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct seen s = {0};

		fake_set(three_lines, chunks[i]);
		assert_int_equal(sio_user_maps_walk(0, &fake_io, seen_line, &s),
				 0);
		assert_true(fake.opened_self);
		assert_false(fake.open);
		/* the last one without its newline too */
		assert_int_equal(s.n, 3);
		assert_int_equal(s.start[0], 0x1000);
		assert_string_equal(s.path[0], "/a");
		assert_int_equal(s.start[1], 0x3000);
		assert_string_equal(s.path[1], "");
		assert_int_equal(s.start[2], 0x5000);
		assert_string_equal(s.path[2], "/b");
	}
}

static void test_walk_stops(void **state)
{
	struct seen s = {.stop_at = 2};

	(void)state;
	fake_set(three_lines, 3);
	assert_int_equal(sio_user_maps_walk(0, &fake_io, seen_line, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.start[1], 0x3000);
	assert_false(fake.open);
}

/*
 * A line longer than the walk's buffer: its fields with the head of its
 * path, and the rest of it never taken for a line, even where it reads
 * as one.
 */
/* where the walk's buffer (4 KiB with its NUL) cuts a line */
#define CUT 4095

static void test_walk_long_line(void **state)
{
	static const char head[] = "1000-2000 r--p 00000000 08:01 11 /";
	static const char tail[] = "7000-8000 rw-p 00000000 00:00 0 /x";
	static const char after[] = "\n3000-4000 rw-p 00000000 00:00 0 \n";
	char text[CUT + sizeof(tail) + sizeof(after)];

	(void)state;
	memset(text, 'p', CUT);
	memcpy(text, head, sizeof(head) - 1);
	memcpy(text + CUT, tail, sizeof(tail) - 1);
	memcpy(text + CUT + sizeof(tail) - 1, after, sizeof(after));
	for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
		struct seen s = {0};

		fake_set(text, chunk);
		assert_int_equal(sio_user_maps_walk(0, &fake_io, seen_line, &s),
				 0);
		assert_int_equal(s.n, 2);
		assert_int_equal(s.start[0], 0x1000);
		/* the path from its '/' to the cut */
		assert_int_equal(s.path_len[0], CUT - (sizeof(head) - 2));
		assert_int_equal(s.start[1], 0x3000);
	}
}

static void test_walk_errors(void **state)
{
	struct seen s = {0};

	(void)state;
	fake_set(NULL, 1);
	assert_int_equal(sio_user_maps_walk(0, &fake_io, seen_line, &s),
			 -ENOENT);
	assert_int_equal(s.n, 0);
	/* a read that fails: the lines before it were given */
	fake_set(three_lines, 40);
	fake.read_errno = EIO;
	assert_int_equal(sio_user_maps_walk(0, &fake_io, seen_line, &s), -EIO);
	assert_int_equal(s.n, 1);
	assert_false(fake.open);
	/* another process's file by its pid */
	fake_set(three_lines, 4096);
	assert_int_equal(sio_user_maps_walk(12345, &fake_io, seen_line, &s), 0);
	assert_false(fake.opened_self);
}

/* ---- the real file ---- */

struct find {
	uintptr_t lo, hi;
	unsigned int n;
	struct sio_user_maps_line l[3];
};

static bool find_line(const struct sio_user_maps_line *l, void *arg)
{
	struct find *f = arg;

	if (l->end <= f->lo || l->start >= f->hi)
		return false;
	assert_true(f->n < 3);
	f->l[f->n++] = *l;
	return false;
}

/* Three pages of three protections: three lines, by pid and as ours. */
static void test_walk_real(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *p = mmap(NULL, 3 * (size_t)pg, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pid_t pids[] = {0, getpid()};

	(void)state;
	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + pg, (size_t)pg, PROT_READ), 0);
	assert_int_equal(mprotect(p + 2 * pg, (size_t)pg, PROT_NONE), 0);
	for (size_t i = 0; i < 2; i++) {
		struct find f = {.lo = (uintptr_t)p,
				 .hi = (uintptr_t)p + 3 * (uint64_t)pg};

		assert_int_equal(
			sio_user_maps_walk(pids[i], NULL, find_line, &f), 0);
		assert_int_equal(f.n, 3);
		assert_int_equal(f.l[0].start, (uintptr_t)p);
		assert_string_equal(f.l[0].perms, "rw-p");
		assert_int_equal(f.l[1].start, (uintptr_t)p + pg);
		assert_string_equal(f.l[1].perms, "r--p");
		assert_int_equal(f.l[2].start, (uintptr_t)p + 2 * pg);
		assert_int_equal(f.l[2].end, (uintptr_t)p + 3 * pg);
		assert_string_equal(f.l[2].perms, "---p");
		assert_int_equal(f.l[2].inode, 0);
	}
	munmap(p, 3 * (size_t)pg);
	/* a process that is not there */
	assert_int_equal(sio_user_maps_walk(-1, NULL, find_line, NULL),
			 -ENOENT);
}

/*
 * The mapping that holds an address: its line, its path copied (cut
 * short to the buffer), the file offset of the line's start; none for
 * an address nothing maps.
 */
static void test_find(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = memfd_create("maps-find-test", MFD_CLOEXEC);
	struct sio_user_maps_line l;
	char path[64], tiny[4];
	uint8_t *p;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 * pg), 0);
	p = mmap(NULL, 2 * (size_t)pg, PROT_READ, MAP_SHARED, fd, 2 * pg);
	assert_true(p != MAP_FAILED);
	assert_true(sio_user_maps_find(0, (uintptr_t)p + (uint64_t)pg + 5, &l,
				       path, sizeof(path)));
	assert_int_equal(l.start, (uintptr_t)p);
	assert_int_equal(l.end, (uintptr_t)p + 2 * (uint64_t)pg);
	assert_int_equal(l.pgoff, 2 * (uint64_t)pg);
	assert_string_equal(l.perms, "r--s");
	assert_true(l.inode != 0);
	assert_ptr_equal(l.path, path);
	assert_string_equal(path, "/memfd:maps-find-test (deleted)");
	assert_true(sio_user_maps_find(getpid(), (uintptr_t)p, &l, tiny,
				       sizeof(tiny)));
	assert_string_equal(l.path, "/me");
	assert_true(sio_user_maps_find(0, (uintptr_t)p, &l, NULL, 0));
	assert_string_equal(l.path, "");
	munmap(p, 2 * (size_t)pg);
	close(fd);
	assert_false(sio_user_maps_find(0, (uintptr_t)p, &l, NULL, 0));
	assert_false(sio_user_maps_find(-1, (uintptr_t)&l, &l, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_anonymous),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_walk_lines),
		cmocka_unit_test(test_walk_stops),
		cmocka_unit_test(test_walk_long_line),
		cmocka_unit_test(test_walk_errors),
		cmocka_unit_test(test_walk_real),
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
