// SPDX-License-Identifier: MIT
/*
 * Device discovery as VFIO programs do it on Linux, through sysfs: the
 * group of a BDF from readlink of its iommu_group link, the cdev from
 * the vfio-dev directory, the IDs from vendor/device/class, compared
 * with the function's config space read through VFIO.  Expected values
 * are the kernel's: pci-sysfs.c's formats, kernfs's relative link
 * targets (kernfs_get_target_path()), iommu.c's iommu_group and
 * devices/ links, vfio's "vfio-dev/vfio<N>" class device, and sysfs's
 * errnos (ENOENT, ENOTDIR, EACCES for a write open of a 0444
 * attribute, EINVAL for readlink of a non-link).
 *
 * Written as a user program: libc and the ABI headers only, run under
 * `softiommu exec`.  Raw syscalls (which the interposer cannot see)
 * give the real file system's view for comparison.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/vfio_abi.h"

#define BDF	"0000:00:04.1"
#define DEV_DIR "/sys/bus/pci/devices/" BDF
#define PHYS	"/sys/devices/pci0000:00/" BDF

/* readlink as a string, or "" */
static const char *link_of(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);

	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

/* One sysfs attribute through stdio, as most programs read them. */
static unsigned long attr_read(const char *name)
{
	char path[256];
	unsigned long v = ~0ul;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DEV_DIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lx", &v), 1);
	fclose(f);
	return v;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory but "." and "..", sorted, joined by ' '. */
static void dir_names(const char *path, char *out, size_t size)
{
	char *names[256];
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(path);

	assert_non_null(d);
	out[0] = 0;
	while ((e = readdir(d)) && n < 256)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	assert_int_equal(closedir(d), 0);
	qsort(names, n, sizeof(names[0]), by_name);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strncat(out, " ", size - strlen(out) - 1);
		strncat(out, names[i], size - strlen(out) - 1);
		free(names[i]);
	}
}

/* The group number of @bdf the way DPDK and QEMU find it. */
static int group_of(const char *bdf)
{
	char path[256], target[PATH_MAX];
	const char *base;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	link_of(path, target, sizeof(target));
	base = strrchr(target, '/');
	return base ? atoi(base + 1) : -1;
}

static void test_group_by_bdf(void **state)
{
	struct sio_vfio_group_status st = {.argsz = sizeof(st)};
	char buf[PATH_MAX], path[64];
	int group;

	(void)state;
	/* the links kernfs writes, relative to their own directory */
	assert_string_equal(link_of(DEV_DIR "/iommu_group", buf, sizeof(buf)),
			    "../../../kernel/iommu_groups/1");
	assert_string_equal(link_of(DEV_DIR, buf, sizeof(buf)), "../../../"
								"devices/"
								"pci0000:"
								"00/" BDF);
	assert_string_equal(link_of(DEV_DIR "/driver", buf, sizeof(buf)),
			    "../../../bus/pci/drivers/vfio-pci");
	assert_int_equal(group_of("0000:00:04.0"), 0);
	group = group_of(BDF);
	assert_int_equal(group, 1);

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, SIO_VFIO_GROUP_GET_STATUS, &st), 0);
	assert_true(st.flags & SIO_VFIO_GROUP_FLAGS_VIABLE);
	close(fd);

	/* the links lead where the kernel's do */
	char *rp = realpath(DEV_DIR, NULL);
	assert_string_equal(rp, PHYS);
	free(rp);
	assert_non_null(realpath(DEV_DIR "/iommu_group", buf));
	assert_string_equal(buf, "/sys/kernel/iommu_groups/1");
	assert_non_null(realpath(DEV_DIR "/driver/" BDF "/./vendor", buf));
	assert_string_equal(buf, PHYS "/vendor");
}

static void test_cdev_from_vfio_dev(void **state)
{
	char name[64] = "", path[128];
	unsigned int maj, min;
	struct dirent *e;
	struct stat st;
	int n = 0, fd;
	DIR *d;

	(void)state;
	/* QEMU's iommufd_cdev_get_devname(): the one vfio* entry */
	d = opendir(DEV_DIR "/vfio-dev");
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(name, sizeof(name), "%.63s", e->d_name);
			assert_int_equal(e->d_type, DT_DIR);
			n++;
		}
	}
	closedir(d);
	assert_int_equal(n, 1);
	assert_string_equal(name, "vfio1");

	snprintf(path, sizeof(path), DEV_DIR "/vfio-dev/%s/dev", name);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%u:%u", &maj, &min), 2);
	fclose(f);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(major(st.st_rdev), maj);
	assert_int_equal(minor(st.st_rdev), min);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	close(fd);
}

/* Config space through VFIO: container, group, device fd, region 7. */
static void config_read(uint8_t *cfg, size_t len)
{
	struct sio_vfio_region_info ri = {
		.argsz = sizeof(ri), .index = SIO_VFIO_PCI_CONFIG_REGION_INDEX};
	int container = open("/dev/vfio/vfio", O_RDWR);
	int group = open("/dev/vfio/1", O_RDWR);
	int dev;

	assert_true(container >= 0 && group >= 0);
	assert_int_equal(ioctl(group, SIO_VFIO_GROUP_SET_CONTAINER, &container),
			 0);
	assert_int_equal(ioctl(container, SIO_VFIO_SET_IOMMU,
			       SIO_VFIO_TYPE1v2_IOMMU),
			 0);
	dev = ioctl(group, SIO_VFIO_GROUP_GET_DEVICE_FD, BDF);
	assert_true(dev >= 0);
	assert_int_equal(ioctl(dev, SIO_VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(pread(dev, cfg, len, (off_t)ri.offset), (ssize_t)len);
	close(dev);
	close(group);
	close(container);
}

static unsigned int le(const uint8_t *p, unsigned int n)
{
	unsigned int v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static void test_ids_match_config(void **state)
{
	uint8_t cfg[64];
	char buf[16] = {0};
	int fd;

	(void)state;
	config_read(cfg, sizeof(cfg));
	assert_int_equal(attr_read("vendor"), le(cfg + 0x00, 2));
	assert_int_equal(attr_read("device"), le(cfg + 0x02, 2));
	assert_int_equal(attr_read("revision"), cfg[0x08]);
	assert_int_equal(attr_read("class"), le(cfg + 0x09, 3));
	assert_int_equal(attr_read("subsystem_vendor"), le(cfg + 0x2c, 2));
	assert_int_equal(attr_read("subsystem_device"), le(cfg + 0x2e, 2));
	/* the text exactly as pci-sysfs.c prints it */
	fd = open(DEV_DIR "/class", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 9);
	assert_string_equal(buf, "0x088000\n");
	assert_int_equal(pread(fd, buf, 4, 5), 4);
	assert_memory_equal(buf, "000\n", 4);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(read(fd, buf, 4), 4);
	assert_memory_equal(buf, "0x08", 4);
	assert_int_equal(close(fd), 0);
	fd = open(DEV_DIR "/vendor", O_RDONLY);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
	assert_string_equal(buf, "0x8086\n");
	close(fd);
}

static void test_group_listing(void **state)
{
	char names[1024], buf[PATH_MAX];
	struct dirent *e;
	long pos;
	DIR *d;
	int n;

	(void)state;
	dir_names("/sys/kernel/iommu_groups/1/devices", names, sizeof(names));
	assert_string_equal(names, BDF);
	dir_names("/sys/kernel/iommu_groups/0/devices", names, sizeof(names));
	assert_string_equal(names, "0000:00:04.0");
	assert_string_equal(link_of("/sys/kernel/iommu_groups/1/devices/" BDF,
				    buf, sizeof(buf)),
			    "../../../../devices/pci0000:00/" BDF);
	dir_names(DEV_DIR "/iommu_group", names, sizeof(names));
	assert_string_equal(names, "devices");
	dir_names("/sys/bus/pci/drivers/vfio-pci", names, sizeof(names));
	assert_string_equal(names, "0000:00:04.0 " BDF);
	dir_names(DEV_DIR, names, sizeof(names));
	assert_string_equal(names, "class device driver iommu_group revision "
				   "subsystem_device subsystem_vendor "
				   "vendor vfio-dev");

	/* rewinddir, telldir and seekdir on one of ours */
	d = opendir("/sys/kernel/iommu_groups/1/devices");
	assert_non_null(d);
	for (n = 0; readdir(d); n++)
		;
	assert_int_equal(n, 3);
	rewinddir(d);
	assert_non_null(readdir(d));
	pos = telldir(d);
	e = readdir(d);
	assert_non_null(e);
	snprintf(buf, sizeof(buf), "%s", e->d_name);
	seekdir(d, pos);
	e = readdir(d);
	assert_string_equal(e->d_name, buf);
	assert_true(dirfd(d) >= 0);
	closedir(d);

	/* scandir: libc's own would open the directory behind our back */
	struct dirent **list;
	n = scandir(DEV_DIR "/vfio-dev", &list, NULL, alphasort);
	assert_int_equal(n, 3);
	assert_string_equal(list[0]->d_name, ".");
	assert_string_equal(list[1]->d_name, "..");
	assert_string_equal(list[2]->d_name, "vfio1");
	while (n--)
		free(list[n]);
	free(list);
	errno = 0;
	assert_int_equal(scandir(DEV_DIR "/nope", &list, NULL, alphasort), -1);
	assert_int_equal(errno, ENOENT);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* The real directory's names by raw syscalls, which nothing interposes. */
static int raw_names(const char *path, char names[][64], int max)
{
	char buf[8192];
	long len;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
			      O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0;

	if (fd < 0)
		return 0;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < len;) {
			struct linux_dirent64 *e = (void *)(buf + off);

			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			    n < max)
				snprintf(names[n++], 64, "%s", e->d_name);
			off += e->d_reclen;
		}
	}
	syscall(SYS_close, fd);
	return n;
}

static int count_in(const char *names, const char *name)
{
	int n = 0;
	size_t len = strlen(name);

	for (const char *p = names; (p = strstr(p, name)); p += len)
		if ((p == names || p[-1] == ' ') && (!p[len] || p[len] == ' '))
			n++;
	return n;
}

/* The real devices stay, ours join them once each (a real twin hidden). */
static void test_bus_listing_merged(void **state)
{
	static char real[256][64];
	static char names[16384];
	int n;

	(void)state;
	dir_names("/sys/bus/pci/devices", names, sizeof(names));
	assert_int_equal(count_in(names, "0000:00:04.0"), 1);
	assert_int_equal(count_in(names, BDF), 1);
	n = raw_names("/sys/bus/pci/devices", real, 256);
	for (int i = 0; i < n; i++)
		assert_int_equal(count_in(names, real[i]), 1);
	/* a real device of our BDF is hidden by ours, whole */
	assert_int_equal(attr_read("../0000:00:04.0/vendor"), 0x8086);
	/* a real device next to ours is the real one */
	for (int i = 0; i < n; i++) {
		char path[256];
		struct stat st;

		if (!strcmp(real[i], "0000:00:04.0"))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%.63s/vendor", real[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_int_not_equal(st.st_ino, 0);
		break;
	}
}

static void test_stat_kinds(void **state)
{
	struct stat st, st2;
	struct statx stx;

	(void)state;
	assert_int_equal(stat(DEV_DIR "/vendor", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(st.st_size, 4096);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(lstat(DEV_DIR, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(DEV_DIR, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(PHYS, &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(stat(DEV_DIR "/iommu_group", &st2), 0);
	assert_true(S_ISDIR(st2.st_mode));
	assert_int_not_equal(st.st_ino, st2.st_ino);
	assert_int_equal(fstatat(AT_FDCWD, DEV_DIR "/driver", &st,
				 AT_SYMLINK_NOFOLLOW),
			 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(fstatat(AT_FDCWD, DEV_DIR "/driver", &st, 0), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(statx(AT_FDCWD, DEV_DIR "/class", 0, STATX_BASIC_STATS,
			       &stx),
			 0);
	assert_true(S_ISREG(stx.stx_mode));
	assert_int_equal(stx.stx_size, 4096);
	assert_int_equal(statx(AT_FDCWD, DEV_DIR, AT_SYMLINK_NOFOLLOW,
			       STATX_BASIC_STATS, &stx),
			 0);
	assert_true(S_ISLNK(stx.stx_mode));
	/* access: files 0444 and directories 0755, owned by root */
	assert_int_equal(access(DEV_DIR "/vendor", R_OK), 0);
	assert_int_equal(access(DEV_DIR "/vendor", X_OK), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(access(DEV_DIR "/vfio-dev", R_OK | X_OK), 0);
	if (geteuid()) {
		assert_int_equal(access(DEV_DIR "/vendor", W_OK), -1);
		assert_int_equal(errno, EACCES);
	} else {
		assert_int_equal(access(DEV_DIR "/vendor", W_OK), 0);
	}
	assert_int_equal(faccessat(AT_FDCWD, DEV_DIR "/iommu_group", F_OK,
				   AT_SYMLINK_NOFOLLOW),
			 0);
}

static void expect_errno(long rc, int err)
{
	assert_int_equal(rc, -1);
	assert_int_equal(errno, err);
}

static void test_errors(void **state)
{
	char buf[64];
	struct stat st;
	int fd;

	(void)state;
	/* a name our directory does not have: ENOENT, never the real one */
	expect_errno(open(DEV_DIR "/config", O_RDONLY), ENOENT);
	expect_errno(open("/sys/bus/pci/devices/0000:00:04.0/config", O_RDONLY),
		     ENOENT);
	expect_errno(stat(DEV_DIR "/nope", &st), ENOENT);
	expect_errno(lstat("/sys/kernel/iommu_groups/1/devices/x", &st),
		     ENOENT);
	expect_errno(readlink(DEV_DIR "/vfio-dev/vfio0", buf, sizeof(buf)),
		     ENOENT);
	expect_errno(access("/sys/bus/pci/drivers/vfio-pci/new_id", F_OK),
		     ENOENT);
	errno = 0;
	assert_null(opendir(DEV_DIR "/vfio-dev/vfio9"));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(fopen(DEV_DIR "/nope", "r"));
	assert_int_equal(errno, ENOENT);
	/* a file is no directory */
	expect_errno(open(DEV_DIR "/vendor/x", O_RDONLY), ENOTDIR);
	expect_errno(stat(DEV_DIR "/vendor/", &st), ENOTDIR);
	expect_errno(open(DEV_DIR "/vendor", O_RDONLY | O_DIRECTORY), ENOTDIR);
	errno = 0;
	assert_null(opendir(DEV_DIR "/class"));
	assert_int_equal(errno, ENOTDIR);
	/* 0444 attributes: kernfs_fop_open() refuses a write open, root too */
	expect_errno(open(DEV_DIR "/vendor", O_WRONLY), EACCES);
	expect_errno(open(DEV_DIR "/vendor", O_RDWR), EACCES);
	expect_errno(creat(DEV_DIR "/vendor", 0644), EACCES);
	errno = 0;
	assert_null(fopen(DEV_DIR "/vendor", "w"));
	assert_int_equal(errno, EACCES);
	expect_errno(open(DEV_DIR "/vendor", O_RDONLY | O_CREAT | O_EXCL, 0644),
		     EEXIST);
	/* the read-only fd refuses writes, as any O_RDONLY fd */
	fd = open(DEV_DIR "/vendor", O_RDONLY);
	assert_true(fd >= 0);
	expect_errno(write(fd, "x", 1), EBADF);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(fd);
	/* directories */
	expect_errno(open(DEV_DIR, O_RDWR), EISDIR);
	fd = open(DEV_DIR "/vfio-dev", O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	close(fd);
	/* links */
	expect_errno(readlink(DEV_DIR "/vendor", buf, sizeof(buf)), EINVAL);
	expect_errno(readlink(DEV_DIR "/iommu_group", buf, 0), EINVAL);
	assert_int_equal(readlink(DEV_DIR "/iommu_group", buf, 5), 5);
	assert_memory_equal(buf, "../..", 5);
	expect_errno(open(DEV_DIR "/iommu_group", O_RDONLY | O_NOFOLLOW),
		     ELOOP);
}

/* The rest of /sys is the real one, read by libc as by raw syscalls. */
static void test_unrelated_sys(void **state)
{
	static char real[256][64];
	char a[256] = {0}, b[256] = {0}, names[8192];
	struct stat st;
	FILE *f;
	int fd, n;

	(void)state;
	fd = (int)syscall(SYS_openat, AT_FDCWD,
			  "/sys/devices/system/cpu/online",
			  O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(syscall(SYS_read, fd, a, sizeof(a) - 1) > 0);
	syscall(SYS_close, fd);
	f = fopen("/sys/devices/system/cpu/online", "r");
	assert_non_null(f);
	assert_non_null(fgets(b, sizeof(b), f));
	fclose(f);
	assert_string_equal(a, b);

	n = raw_names("/sys/kernel/mm", real, 256);
	assert_true(n > 0);
	dir_names("/sys/kernel/mm", names, sizeof(names));
	for (int i = 0; i < n; i++)
		assert_int_equal(count_in(names, real[i]), 1);
	assert_int_equal(stat("/sys/kernel/mm", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* out of our tree again through ".." after one of our links */
	assert_int_equal(stat(DEV_DIR "/../../../kernel/mm", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(access("/sys/devices/system/cpu/online", R_OK), 0);
	expect_errno(stat("/sys/devices/system/cpu/no-such-file", &st), ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_by_bdf),
		cmocka_unit_test(test_cdev_from_vfio_dev),
		cmocka_unit_test(test_ids_match_config),
		cmocka_unit_test(test_group_listing),
		cmocka_unit_test(test_bus_listing_merged),
		cmocka_unit_test(test_stat_kinds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unrelated_sys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
