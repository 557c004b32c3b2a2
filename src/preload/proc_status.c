// SPDX-License-Identifier: MIT
/*
 * /proc/<pid>/status as the kernel would show it with our pins: its
 * VmPin: counts the pages pinned for that process's mm (mm->pinned_vm),
 * which softiommu's pins do not touch.  A program that reads it (the
 * selftests' change_process) gets the real file with our pinned bytes
 * added to VmPin:, for this process and, in a fork child, from the
 * parent's contexts too (the fork channel).  When we pin nothing for the
 * process, the real file is opened as it is.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/platform_private.h"
#include "preload.h"

uint64_t preload_pinned_bytes(pid_t pid)
{
	struct sio_platform *p =
		__atomic_load_n(&preload.platform, __ATOMIC_ACQUIRE);

	if (!p)
		return 0;
	return iommufd_host_pinned_bytes(&p->host, pid == getpid() ? 0 : pid);
}

/* The pid a status path names: /proc/self/status or /proc/<n>/status. */
static pid_t status_pid(const char *path)
{
	const char *p;
	char *end;
	long n;

	if (strncmp(path, "/proc/", 6))
		return 0;
	p = path + 6;
	if (!strncmp(p, "self/", 5))
		return strcmp(p + 5, "status") ? 0 : getpid();
	if (!isdigit((unsigned char)*p))
		return 0;
	n = strtol(p, &end, 10);
	if (n <= 0 || n > INT32_MAX || strcmp(end, "/status"))
		return 0;
	return (pid_t)n;
}

/* The real file's text with @extra bytes added to VmPin:, in @buf. */
static ssize_t status_text(const char *path, uint64_t extra, char *buf,
			   size_t size)
{
	int fd = preload.real.open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *line, *nl;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (len < size - 1 &&
	       (n = preload.real.read(fd, buf + len, size - 1 - len)) > 0)
		len += (size_t)n;
	preload.real.close(fd);
	buf[len] = 0;
	line = strstr(buf, "\nVmPin:");
	if (!line)
		return (ssize_t)len;
	line++;
	nl = strchr(line, '\n');
	if (nl) {
		unsigned long long kb = strtoull(line + 6, NULL, 10);
		size_t tail = strlen(nl) + 1; /* from the newline, with NUL */
		char rep[48];
		int w;

		/* the kernel's width: seq_put_decimal_ull_width(..., 8) */
		w = snprintf(rep, sizeof(rep), "VmPin:\t%8llu kB",
			     kb + (extra >> 10));
		if ((size_t)(line - buf) + (size_t)w + tail <= size) {
			memmove(line + w, nl, tail);
			memcpy(line, rep, (size_t)w);
			len = strlen(buf);
		}
	}
	return (ssize_t)len;
}

bool preload_proc_status_open(const char *path, int flags, int *ret)
{
	pid_t pid = status_pid(path);
	uint64_t extra;
	char buf[8192];
	ssize_t len;
	int fd;

	if (!pid || (flags & O_ACCMODE) != O_RDONLY)
		return false;
	extra = preload_pinned_bytes(pid) + preload_fork_pinned_bytes(pid);
	if (!extra)
		return false; /* the real file says it all */
	len = status_text(path, extra, buf, sizeof(buf));
	if (len < 0) {
		errno = (int)-len;
		*ret = -1;
		return true;
	}
	fd = memfd_create("status", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0 || preload.real.write(fd, buf, (size_t)len) != len ||
	    lseek(fd, 0, SEEK_SET)) {
		int e = fd < 0 ? errno : EIO;

		if (fd >= 0)
			preload.real.close(fd);
		errno = e;
		*ret = -1;
		return true;
	}
	*ret = fd;
	return true;
}
