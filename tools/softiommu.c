// SPDX-License-Identifier: MIT
/* The softiommu command: one entry point, a subcommand per job. */
#include <stdio.h>
#include <string.h>

#include <softiommu/common.h>

#include "tools.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{"demo", sio_cmd_demo,
	 "a user-space driver: map, attach, DMA, unmap, fault "
	 "(nested: a VMM and its guest)"},
	{"info", sio_cmd_info, "the default platform: SMMU, devices"},
	{"pgtable", sio_cmd_pgtable,
	 "build stage-1 and stage-2 IO page tables and show walks"},
	{"exec", sio_cmd_exec,
	 "run a program with /dev/iommu and /dev/vfio/* present"},
	{"explain", sio_cmd_explain,
	 "one translation, every descriptor read (--help)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: softiommu COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "  %-8s %s\n  %-8s %s\n", "help", "show this text",
		"version", "print the version");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("softiommu %d.%d\n", SOFTIOMMU_VERSION_MAJOR,
		       SOFTIOMMU_VERSION_MINOR);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "softiommu: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
