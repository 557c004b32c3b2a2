// SPDX-License-Identifier: MIT
/*
 * softiommu exec [--selftest] [--] PROGRAM [ARGS...]: run PROGRAM with the
 * interposer preloaded, so that /dev/iommu (and the /dev/vfio nodes)
 * exist for it.  --selftest adds the kernel's selftest mock IOMMU and
 * IOMMU_TEST_CMD (SOFTIOMMU_SELFTEST=1 tells the interposer).
 *
 * Exit status as env(1) and the shells have it: 127 when PROGRAM is not
 * found, 126 when it cannot be run, 125 when we cannot set it up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools.h"

#define EXIT_SETUP     125
#define EXIT_CANNOT    126
#define EXIT_NOT_FOUND 127

/* Candidate paths of the library, most specific first. */
static int find_preload(char *out, size_t size)
{
	const char *env = getenv("SOFTIOMMU_PRELOAD");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return access(out, R_OK) ? -errno : 0;
	}
	/* the build tree: tools/softiommu next to src/preload/ */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = 0;
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			n = snprintf(out, size, "%s/%s/%s", exe,
				     SIO_PRELOAD_BUILD_REL, SIO_PRELOAD_NAME);
			if (n < (ssize_t)size && !access(out, R_OK))
				return 0;
		}
	}
	snprintf(out, size, "%s/%s", SIO_PRELOAD_INSTALL_DIR, SIO_PRELOAD_NAME);
	return access(out, R_OK) ? -errno : 0;
}

struct runtimes {
	char list[4 * PATH_MAX];
};

/*
 * A sanitizer build of the library needs its sanitizer runtime loaded
 * before it (ASan checks that it comes first in the library list; TSan
 * must intercept from the start).  This command is built with the same
 * sanitizer as the library, so the runtimes it has loaded itself are
 * the ones to put first.
 */
static int note_runtime(struct dl_phdr_info *info, size_t size, void *data)
{
	static const char *const names[] = {"/libasan.so", "/libtsan.so",
					    "/libclang_rt.asan",
					    "/libclang_rt.tsan"};
	struct runtimes *r = data;

	(void)size;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!info->dlpi_name || !strstr(info->dlpi_name, names[i]))
			continue;
		if (strlen(r->list) + strlen(info->dlpi_name) + 2 >
		    sizeof(r->list))
			return 0;
		if (r->list[0])
			strcat(r->list, " ");
		strcat(r->list, info->dlpi_name);
	}
	return 0;
}

/* LD_PRELOAD separates entries with spaces and colons. */
static bool preloadable(const char *path)
{
	return !strpbrk(path, " :\t\n");
}

static int set_ld_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	struct runtimes rt = {{0}};
	char *val;
	int rc;

	dl_iterate_phdr(note_runtime, &rt);
	rc = asprintf(&val, "%s%s%s%s%s", rt.list, rt.list[0] ? " " : "", lib,
		      old && *old ? " " : "", old ? old : "");
	if (rc < 0)
		return -ENOMEM;
	rc = setenv("LD_PRELOAD", val, 1) ? -errno : 0;
	free(val);
	return rc;
}

static void exec_usage(FILE *f)
{
	fprintf(f, "usage: softiommu exec [--selftest] [--] PROGRAM "
		   "[ARGS...]\n\n"
		   "Run PROGRAM (dynamically linked) with /dev/iommu and the "
		   "/dev/vfio nodes\nof the default platform present.  "
		   "SOFTIOMMU_PRELOAD names another build\nof the interposer "
		   "library.\n\n"
		   "  --selftest  also the kernel's selftest mock IOMMU and "
		   "IOMMU_TEST_CMD,\n              as a kernel with "
		   "CONFIG_IOMMUFD_TEST (for its iommufd selftests)\n");
}

int sio_cmd_exec(int argc, char **argv)
{
	char lib[PATH_MAX];
	bool selftest = false;
	int i = 1, rc;

	if (i < argc && (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--"
								    "help"))) {
		exec_usage(stdout);
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--selftest")) {
		selftest = true;
		i++;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		exec_usage(stderr);
		return 2;
	}
	rc = find_preload(lib, sizeof(lib));
	if (rc) {
		fprintf(stderr, "softiommu exec: cannot find %s: %s\n", lib,
			strerror(-rc));
		return EXIT_SETUP;
	}
	if (!preloadable(lib)) {
		fprintf(stderr,
			"softiommu exec: %s: LD_PRELOAD cannot name a path "
			"with a space or a colon\n",
			lib);
		return EXIT_SETUP;
	}
	rc = set_ld_preload(lib);
	if (rc) {
		fprintf(stderr, "softiommu exec: LD_PRELOAD: %s\n",
			strerror(-rc));
		return EXIT_SETUP;
	}
	/* an inherited SOFTIOMMU_SELFTEST must not switch it on unasked */
	if (selftest ? setenv("SOFTIOMMU_SELFTEST", "1", 1)
		     : unsetenv("SOFTIOMMU_SELFTEST")) {
		fprintf(stderr, "softiommu exec: SOFTIOMMU_SELFTEST: %s\n",
			strerror(errno));
		return EXIT_SETUP;
	}
	execvp(argv[i], argv + i);
	rc = errno;
	fprintf(stderr, "softiommu exec: %s: %s\n", argv[i],
		rc == ENOENT && !strchr(argv[i], '/') ? "command not found"
						      : strerror(rc));
	return rc == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT;
}
