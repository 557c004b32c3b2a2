// SPDX-License-Identifier: MIT
/*
 * `softiommu explain` as a user runs it (the tool's path is argv[1]):
 * the JSON is valid JSON (checked by a small recursive-descent parser
 * here), holds as many reads as the architecture's walk needs for each
 * scenario and granule — for a nested walk of n stage-1 and m stage-2
 * levels, n * (m + 1) + m table reads, plus the STE and the CD through
 * stage 2 (m + 1) — and the fault fields where the scenario faults; bad
 * input exits 2 with a message naming the problem.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka's prerequisites; no library header: this is a user program */
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

static const char *tool;

struct run {
	int status; /* exit code, or -1 */
	char out[65536];
	char err[4096];
};

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
}

/* Run `softiommu explain ARGS...` (NULL-terminated) into @r. */
static void run(struct run *r, ...)
{
	const char *argv[16] = {tool, "explain"};
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 2, status;
	va_list ap;
	pid_t pid;

	assert_non_null(out);
	assert_non_null(err);
	va_start(ap, r);
	while (argc < 15 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* ---- a JSON checker (RFC 8259 grammar; numbers loosely) ---- */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

static const char *value(const char *p, int depth);

static const char *string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    p[i]) ||
					    !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *number(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return NULL;
	while ((*p >= '0' && *p <= '9') || strchr(".eE+-", *p))
		p++;
	return p > s ? p : NULL;
}

static const char *members(const char *p, int depth, char close)
{
	p = ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			p = string(ws(p));
			if (!p)
				return NULL;
			p = ws(p);
			if (*p++ != ':')
				return NULL;
		}
		p = value(p, depth + 1);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *value(const char *p, int depth)
{
	p = ws(p);
	if (depth > 32)
		return NULL;
	switch (*p) {
	case '{':
		return members(p + 1, depth, '}');
	case '[':
		return members(p + 1, depth, ']');
	case '"':
		return string(p);
	case 't':
		return strncmp(p, "true", 4) ? NULL : p + 4;
	case 'f':
		return strncmp(p, "false", 5) ? NULL : p + 5;
	case 'n':
		return strncmp(p, "null", 4) ? NULL : p + 4;
	default:
		return number(p);
	}
}

static bool json_valid(const char *s)
{
	const char *end = value(s, 0);

	return end && !*ws(end);
}

static unsigned int count(const char *s, const char *needle)
{
	unsigned int n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* The checker itself: it must refuse what is not JSON. */
static void test_checker(void **state)
{
	(void)state;
	assert_true(json_valid("{\"a\": [1, -2.5e3, \"x\\n\", true, null]}"));
	assert_false(json_valid("{\"a\": [1, 2,]}"));
	assert_false(json_valid("{\"a\" 1}"));
	assert_false(json_valid("{\"a\": 0x10}"));
	assert_false(json_valid("{\"a\": \"b}"));
	assert_false(json_valid("{} {}"));
}

static void expect_json(struct run *r, unsigned int reads)
{
	if (r->status != 0 || !json_valid(r->out))
		fail_msg("exit %d, JSON %s:\n%s%s", r->status,
			 json_valid(r->out) ? "valid" : "INVALID", r->out,
			 r->err);
	assert_int_equal(count(r->out, "{\"n\": "), reads);
}

/* Reads of a nested walk: STE, CD via S2, n * (m + 1) + m. */
static unsigned int nested(unsigned int n, unsigned int m)
{
	return 1 + (m + 1) + n * (m + 1) + m;
}

static void test_nested_json(void **state)
{
	struct run *r = *state;

	/* 4K: stage 1 39-bit from level 1 (3), stage 2 40-bit (3) */
	run(r, "--json", "0x10000010", NULL);
	expect_json(r, nested(3, 3));
	assert_non_null(strstr(r->out, "\"translated\": true"));
	assert_non_null(strstr(r->out, "\"ipa\": \"0x40080010\""));
	assert_non_null(strstr(r->out, "\"fault\": null"));
	/* 16K: stage 1 from level 1 (3), stage 2 from level 2 (2) */
	run(r, "--json", "--granule", "16k", "0x10000010", NULL);
	expect_json(r, nested(3, 2));
	/* 64K: stage 1 from level 2 (2), stage 2 from level 2 (2) */
	run(r, "--json", "--granule", "64k", "0x10000010", NULL);
	expect_json(r, nested(2, 2));
}

static void test_single_stage_json(void **state)
{
	struct run *r = *state;

	run(r, "--json", "--stage1", "0x10000010", NULL);
	expect_json(r, 1 + 1 + 3); /* STE, CD, three levels */
	assert_int_equal(count(r->out, "\"kind\": \"s2\""), 0);
	run(r, "--json", "--stage2", "0x40080010", NULL);
	expect_json(r, 1 + 3); /* STE, three levels */
	assert_int_equal(count(r->out, "\"kind\": \"s1\""), 0);
}

static void test_fault_json(void **state)
{
	struct run *r = *state;

	/* the guest maps nothing there: stage 1, after its level-3 read */
	run(r, "--json", "0x10100000", NULL);
	expect_json(r, nested(3, 3) - 3);
	assert_non_null(strstr(r->out, "\"event\": \"F_TRANSLATION\""));
	assert_non_null(strstr(r->out, "\"s2\": false"));
	/* its last-level table is in a ballooned page: S2, CLASS TT */
	run(r, "--json", "0x40000000", NULL);
	expect_json(r, nested(3, 3) - 3 - 1);
	assert_non_null(strstr(r->out, "\"s2\": true, \"class\": \"TT\""));
	/* the output IPA is not guest RAM: S2, CLASS IN */
	run(r, "--json", "0x20000000", NULL);
	assert_int_equal(r->status, 0);
	assert_true(json_valid(r->out));
	assert_non_null(strstr(r->out, "\"s2\": true, \"class\": \"IN\", "
				       "\"ipa\": \"0x80000000\""));
	/* a read-only page written */
	run(r, "--json", "--write", "0x10001000", NULL);
	expect_json(r, nested(3, 3) - 3);
	assert_non_null(strstr(r->out, "\"event\": \"F_PERMISSION\""));
	/* --unmap-ipa punches the guest's level-3 table out of stage 2 */
	run(r, "--json", "--unmap-ipa", "0x40003000", "0x10000000", NULL);
	expect_json(r, nested(3, 3) - 3 - 1);
	assert_non_null(strstr(r->out, "\"s2\": true, \"class\": \"TT\", "
				       "\"ipa\": \"0x40003000\""));
}

static void test_grid(void **state)
{
	struct run *r = *state;

	run(r, "0x10000010", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "| S2 L1"));
	assert_non_null(strstr(r->out, "  S1 L3     | #14 table"));
	assert_non_null(strstr(r->out, "  output    | #18 table"));
	assert_non_null(strstr(r->out, "output: IOVA 0x10000010 -> IPA "
				       "0x40080010 -> PA "));
	run(r, "0x40000000", NULL);
	/* the ballooned page is one of guest RAM's (IPA 0x400xxxxx) */
	assert_non_null(strstr(r->out, "event: F_TRANSLATION (0x10) S2=1 "
				       "CLASS=TT IPA 0x400"));
	assert_non_null(strstr(r->out, "(faulted)"));
}

/* Exit 2, nothing on stdout, stderr naming the problem. */
static void expect_bad(struct run *r, const char *msg)
{
	if (r->status != 2 || r->out[0] || !strstr(r->err, msg))
		fail_msg("exit %d, stdout '%s', stderr '%s'; want 2 and '%s'",
			 r->status, r->out, r->err, msg);
}

static void test_bad_input(void **state)
{
	struct run *r = *state;

	run(r, "xyz", NULL);
	expect_bad(r, "bad IOVA 'xyz'");
	run(r, "0x10000000zz", NULL);
	expect_bad(r, "bad IOVA '0x10000000zz'");
	run(r, "0x1ffffffffffffffff", NULL);
	expect_bad(r, "bad IOVA");
	run(r, "-5", NULL);
	expect_bad(r, "bad IOVA '-5'");
	run(r, NULL);
	expect_bad(r, "no IOVA");
	run(r, "1", "2", NULL);
	expect_bad(r, "'2' is extra");
	run(r, "--granule", "8k", "1", NULL);
	expect_bad(r, "bad granule '8k'");
	run(r, "1", "--granule", NULL);
	expect_bad(r, "--granule needs a value");
	run(r, "--frobnicate", "1", NULL);
	expect_bad(r, "unknown option '--frobnicate'");
	run(r, "--stage1", "--stage2", "1", NULL);
	expect_bad(r, "choose one of");
	run(r, "--stage1", "--unmap-ipa", "0x40003000", "1", NULL);
	expect_bad(r, "--unmap-ipa needs stage 2");
	run(r, "--unmap-ipa", "0x1234", "1", NULL);
	expect_bad(r, "stage 2 maps nothing there");
	run(r, "--unmap-ipa", "zz", "1", NULL);
	expect_bad(r, "bad IPA 'zz'");
	run(r, "--help", NULL);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->out, "usage: softiommu explain"));
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct run));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker),
		cmocka_unit_test(test_nested_json),
		cmocka_unit_test(test_single_stage_json),
		cmocka_unit_test(test_fault_json),
		cmocka_unit_test(test_grid),
		cmocka_unit_test(test_bad_input),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-softiommu\n", argv[0]);
		return 2;
	}
	tool = argv[1];
	return cmocka_run_group_tests(tests, setup, teardown);
}
