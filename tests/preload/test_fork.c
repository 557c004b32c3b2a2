// SPDX-License-Identifier: MIT
/*
 * A forked child's inherited iommufd fd, as the kernel has it: the child
 * and the parent share one file, so the child's ioctls act on the
 * parent's context, and the child's IOAS_MAP pins the child's pages
 * (its own mm).  What the kernel's selftests iommufd_ioas.fork_gone and
 * fork_present check, here with a VFIO device (the I/OAT DMA engine)
 * reading what the child mapped:
 *
 * - with a domain, the child's map pins at once: its pages stay after
 *   it exits, and the device reads the child's data;
 * - without one, attaching while the child lives pins its pages then;
 *   once it is gone there is nothing to pin: the attach fails EFAULT;
 * - the file lives until both processes closed it;
 * - the child's pointers are the child's: memory only the parent still
 *   has is EFAULT for the child;
 * - the child's private memory it maps is shared with the device, as the
 *   kernel's pin shares the page: the device's writes are the child's,
 *   the child's later writes reach the device; its bytes and
 *   protections stay; a grandchild gets a private copy of it (the
 *   kernel copies pinned anonymous pages at fork); a failure to share
 *   leaves the copy taken at pin time, and the call's result.
 *
 * Written as a user program (libc and the ABI headers), run under
 * `softiommu exec`.  A child reports with its exit status, never with
 * cmocka's asserts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"

#include "ioat_test.h"

#define IOVA_BASE 0x10000000ull
#define PATTERN	  0x5a
#define PATTERN2  0xa5 /* what the child writes after its map */
#define PATTERN3  0x3c /* what the device (or a grandchild) writes */

struct fx {
	int iommufd, dev;
	uint32_t ioas, devid;
	uint8_t *mem; /* 4 pages: [0] the child's, dst, descriptor, completion
		       */
	long pg;
	int ready[2], go[2]; /* child -> parent, parent -> child */
};

static uint64_t iova_of(struct fx *f, int page)
{
	return IOVA_BASE + (uint64_t)page * (uint64_t)f->pg;
}

static int map_at(struct fx *f, void *va, uint64_t iova)
{
	struct sio_iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.user_va = (uint64_t)(uintptr_t)va,
		.length = (uint64_t)f->pg,
		.iova = iova,
	};

	return ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP, &m);
}

static int unmap_at(struct fx *f, uint64_t iova)
{
	struct sio_iommu_ioas_unmap u = {.size = sizeof(u),
					 .ioas_id = f->ioas,
					 .iova = iova,
					 .length = (uint64_t)f->pg};

	return ioctl(f->iommufd, SIO_IOMMU_IOAS_UNMAP, &u);
}

static uint32_t ioas_alloc(int fd)
{
	struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};

	if (ioctl(fd, SIO_IOMMU_IOAS_ALLOC, &a))
		return 0;
	return a.out_ioas_id;
}

static int bind(struct fx *f)
{
	struct sio_vfio_device_bind_iommufd b = {.argsz = sizeof(b),
						 .iommufd = f->iommufd};
	int rc = ioctl(f->dev, SIO_VFIO_DEVICE_BIND_IOMMUFD, &b);

	if (!rc)
		f->devid = b.out_devid;
	return rc;
}

static int attach(struct fx *f)
{
	struct sio_vfio_device_attach_iommufd_pt a = {.argsz = sizeof(a),
						      .pt_id = f->ioas};

	return ioctl(f->dev, SIO_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a);
}

static int detach(struct fx *f)
{
	struct sio_vfio_device_detach_iommufd_pt d = {.argsz = sizeof(d)};

	return ioctl(f->dev, SIO_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->pg = sysconf(_SC_PAGESIZE);
	f->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(f->iommufd >= 0);
	f->dev = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	assert_true(f->dev >= 0);
	f->ioas = ioas_alloc(f->iommufd);
	assert_int_not_equal(f->ioas, 0);
	f->mem = mmap(NULL, 4 * (size_t)f->pg, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->mem != MAP_FAILED);
	assert_int_equal(pipe2(f->ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(f->go, O_CLOEXEC), 0);
	assert_int_equal(bind(f), 0);
	/* the parent's pages: dst, descriptor, completion */
	for (int i = 1; i < 4; i++)
		assert_int_equal(map_at(f, f->mem + i * f->pg, iova_of(f, i)),
				 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->dev);
	close(f->iommufd);
	for (int i = 0; i < 2; i++) {
		close(f->ready[i]);
		close(f->go[i]);
	}
	munmap(f->mem, 4 * (size_t)f->pg);
	free(f);
	return 0;
}

static void bus_master(struct fx *f)
{
	uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		       PCI_COMMAND_INTX_OFF;

	assert_int_equal(
		pwrite(f->dev, &cmd, 2,
		       (off_t)(SIO_VFIO_PCI_INDEX_TO_OFFSET(
				       SIO_VFIO_PCI_CONFIG_REGION_INDEX) +
			       PCI_COMMAND)),
		2);
	ioat_chan_reset(f->dev);
}

/* The device copies a page from IOVA @src to IOVA @dst: its status. */
static uint64_t dma(struct fx *f, uint64_t src, uint64_t dst)
{
	struct ioat_desc *d = (struct ioat_desc *)(f->mem + 2 * f->pg);

	*d = (struct ioat_desc){
		.size = (uint32_t)f->pg,
		.ctl = CTL_COMPL_WRITE,
		.src = src,
		.dst = dst,
		.next = iova_of(f, 2),
	};
	ioat_bar_write(f->dev, CHANCMP, 8, iova_of(f, 3));
	ioat_bar_write(f->dev, CHAINADDR, 8, iova_of(f, 2));
	ioat_bar_write(f->dev, CHANCTRL, 2,
		       CHANCTRL_INT_REARM | CHANCTRL_ERR_ABORT);
	ioat_bar_write(f->dev, DMACOUNT, 2, 1);
	return ioat_chan_wait(f->dev);
}

/* The device copies the page at IOVA page 0 (the child's) to page 1. */
static uint64_t dma_copy(struct fx *f)
{
	memset(f->mem + f->pg, 0, (size_t)f->pg);
	return dma(f, iova_of(f, 0), iova_of(f, 1));
}

/* A failed fork is the test's failure: there is no child to report it. */
static pid_t fork_ok(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	return pid;
}

/*
 * With a domain attached before the fork the child's maps pin at once,
 * and bus mastering lets the parent's device read them.
 */
static pid_t fork_attached(struct fx *f)
{
	assert_int_equal(attach(f), 0);
	bus_master(f);
	return fork_ok();
}

/*
 * The child: a page of its own, written after the fork (the parent has
 * nothing like it), mapped at IOVA page 0 through the inherited fd.  With
 * @stay it waits for the parent's word before exiting.
 */
static pid_t fork_mapper(struct fx *f, bool stay)
{
	pid_t pid = fork_ok();

	if (!pid) {
		uint8_t *own = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char c = 0;

		if (own == MAP_FAILED)
			_exit(2);
		memset(own, PATTERN, (size_t)f->pg);
		if (map_at(f, own, iova_of(f, 0)))
			_exit(3);
		if (write(f->ready[1], &c, 1) != 1)
			_exit(4);
		if (stay && read(f->go[0], &c, 1) != 1)
			_exit(5);
		_exit(0);
	}
	return pid;
}

static int reap_status(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void reap(pid_t pid)
{
	assert_int_equal(reap_status(pid), 0);
}

static int destroy(struct fx *f, uint32_t id)
{
	struct sio_iommu_destroy d = {.size = sizeof(d), .id = id};

	return ioctl(f->iommufd, SIO_IOMMU_DESTROY, &d);
}

/*
 * A child that allocates an IOAS through @fd exits with its id (small
 * here): the parent finds it in its own context.
 */
static void assert_child_ioas(struct fx *f, pid_t pid)
{
	int id = reap_status(pid);

	assert_true(id > 0 && id < 100);
	assert_int_equal(destroy(f, (uint32_t)id), 0);
}

/*
 * The parent: the child's word in *@word, if it wants it.  A child that
 * ended first, or hangs, fails the test (with its status) instead of
 * leaving the parent waiting for a word that never comes.
 */
static void parent_wait(struct fx *f, pid_t pid, char *word)
{
	struct pollfd p = {.fd = f->ready[0], .events = POLLIN};
	char unused;
	int status;

	if (!word)
		word = &unused;
	for (int i = 0; i < 200; i++) {
		if (poll(&p, 1, 100) == 1 && read(f->ready[0], word, 1) == 1)
			return;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("child %d ended first: status %#x", (int)pid,
				 status);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("child %d gave no word", (int)pid);
}

static void parent_go(struct fx *f)
{
	char c = 0;

	assert_int_equal(write(f->go[1], &c, 1), 1);
}

/* The child: its word to the parent, then the parent's go. */
static bool child_sync(struct fx *f, char word)
{
	char c;

	return write(f->ready[1], &word, 1) == 1 && read(f->go[0], &c, 1) == 1;
}

static void assert_child_data(struct fx *f)
{
	assert_int_equal(dma_copy(f) & 7, CHANSTS_DONE);
	for (long i = 0; i < f->pg; i++)
		assert_int_equal(f->mem[f->pg + i], PATTERN);
}

/* fork_gone with a domain: the child's pages were pinned in the fork. */
static void test_domain_child_gone(void **state)
{
	struct fx *f = *state;

	assert_int_equal(attach(f), 0);
	bus_master(f);
	reap(fork_mapper(f, false));
	assert_child_data(f);
	assert_int_equal(unmap_at(f, iova_of(f, 0)), 0);
}

/* fork_present: attaching pins the living child's pages. */
static void test_no_domain_child_present(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_mapper(f, true);
	int rc;

	parent_wait(f, pid, NULL);
	rc = attach(f);
	/* let the child go before any assert can leave it waiting */
	parent_go(f);
	reap(pid);
	assert_int_equal(rc, 0);
	bus_master(f);
	/* pinned while it lived: the pages outlive it */
	assert_child_data(f);
}

/* fork_gone without a domain: nothing left to pin. */
static void test_no_domain_child_gone(void **state)
{
	struct fx *f = *state;

	reap(fork_mapper(f, false));
	assert_int_equal(attach(f), -1);
	assert_int_equal(errno, EFAULT);
	/* the mapping is there all the same, and unmapping it heals */
	assert_int_equal(unmap_at(f, iova_of(f, 0)), 0);
	assert_int_equal(attach(f), 0);
}

/*
 * MAP_SHARED memory the child inherited is the parent's pages too: what
 * the child pinned is what the parent writes after the child is gone (the
 * selftests' check_access_rw() in fork_gone and fork_present relies on
 * it).  Without a domain, the pin still needs the child: EFAULT once it
 * is gone.
 */
static void test_shared_memory(void **state)
{
	struct fx *f = *state;
	uint8_t *shm = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	assert_true(shm != MAP_FAILED);
	for (int domain = 1; domain >= 0; domain--) {
		if (domain) {
			assert_int_equal(attach(f), 0);
			bus_master(f);
		}
		pid = fork_ok();
		if (!pid)
			_exit(map_at(f, shm, iova_of(f, 0)) ? 2 : 0);
		reap(pid);
		if (!domain) {
			assert_int_equal(attach(f), -1);
			assert_int_equal(errno, EFAULT);
			break;
		}
		memset(shm, PATTERN, (size_t)f->pg);
		assert_child_data(f);
		assert_int_equal(unmap_at(f, iova_of(f, 0)), 0);
		/* detach: the next round maps without a domain */
		assert_int_equal(detach(f), 0);
	}
	munmap(shm, (size_t)f->pg);
}

/*
 * The child's user pointers are the child's: a page the parent still has
 * but the child unmapped cannot be pinned (EFAULT), and the child's
 * replies land in the child's memory (IOAS_ALLOC's id, read there).
 */
static void test_child_memory(void **state)
{
	struct fx *f = *state;
	pid_t pid;

	assert_int_equal(attach(f), 0);
	pid = fork_ok();
	if (!pid) {
		uint32_t id;

		munmap(f->mem, (size_t)f->pg);
		if (map_at(f, f->mem, iova_of(f, 0)) != -1 || errno != EFAULT)
			_exit(2);
		/* the reply lands in the child's own memory */
		id = ioas_alloc(f->iommufd);
		_exit(id > 0 && id < 100 ? (int)id : 101);
	}
	assert_child_ioas(f, pid);
	/* the parent's page 0 is not mapped by the child's failed call */
	assert_int_equal(map_at(f, f->mem, iova_of(f, 0)), 0);
}

#define CHILD_IOVA 0x20000000ull

static int copy_page(struct fx *f, uint32_t src, uint64_t src_iova,
		     uint64_t dst_iova)
{
	struct sio_iommu_ioas_copy c = {
		.size = sizeof(c),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = f->ioas,
		.src_ioas_id = src,
		.length = (uint64_t)f->pg,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return ioctl(f->iommufd, SIO_IOMMU_IOAS_COPY, &c);
}

/*
 * The child maps two pages of its own into an IOAS without a device, the
 * second PROT_NONE; the parent copies the first into the device's IOAS.
 * Linux pins only the copy's page (its area's range), so the copy works
 * and the device reads the child's data; the page stays pinned after the
 * child exits, so a second copy of it works too, while one of the page
 * no pin took has nothing left to pin: EFAULT.  (softiommu took the
 * child's whole range and failed the first copy with EFAULT.)
 */
static void test_child_part_copied(void **state)
{
	struct fx *f = *state;
	uint32_t src = ioas_alloc(f->iommufd);
	pid_t pid;
	int rc;

	assert_int_not_equal(src, 0);
	pid = fork_attached(f);
	if (!pid) {
		uint8_t *own = mmap(NULL, 2 * (size_t)f->pg,
				    PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
				 SIO_IOMMU_IOAS_MAP_READABLE |
				 SIO_IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = src,
			.user_va = (uint64_t)(uintptr_t)own,
			.length = 2 * (uint64_t)f->pg,
			.iova = CHILD_IOVA,
		};

		if (own == MAP_FAILED)
			_exit(2);
		memset(own, PATTERN, (size_t)f->pg);
		if (mprotect(own + f->pg, (size_t)f->pg, PROT_NONE))
			_exit(3);
		if (ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP, &m))
			_exit(4);
		_exit(child_sync(f, 0) ? 0 : 5);
	}
	parent_wait(f, pid, NULL);
	rc = copy_page(f, src, CHILD_IOVA, iova_of(f, 0));
	parent_go(f);
	reap(pid);
	assert_int_equal(rc, 0);
	assert_child_data(f);
	/* the child is gone: its pinned page is still there to copy */
	assert_int_equal(unmap_at(f, iova_of(f, 0)), 0);
	assert_int_equal(copy_page(f, src, CHILD_IOVA, iova_of(f, 0)), 0);
	assert_child_data(f);
	assert_int_equal(copy_page(f, src, CHILD_IOVA + f->pg,
				   IOVA_BASE + 16 * f->pg),
			 -1);
	assert_int_equal(errno, EFAULT);
}

/* VmPin: of /proc/<pid>/status in kB, as the selftests read it. */
static long vm_pinned(pid_t pid)
{
	char path[64], line[128];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmPin: %ld", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/*
 * VmPin: shows the pins of each process's mm: the parent's pages pinned
 * by its domain are the parent's, what the child maps is the child's,
 * as the child reads them (the selftest change_process does).
 */
static void test_vm_pinned(void **state)
{
	struct fx *f = *state;
	pid_t parent = getpid(), pid;
	long before = vm_pinned(parent);

	assert_true(before >= 0);
	assert_int_equal(attach(f), 0);
	/* the three pages mapped in setup() */
	assert_int_equal(vm_pinned(parent), before + 3 * f->pg / 1024);
	pid = fork_ok();
	if (!pid) {
		long mine = vm_pinned(getpid());
		uint8_t *own = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (vm_pinned(parent) != before + 3 * f->pg / 1024)
			_exit(2);
		if (own == MAP_FAILED || map_at(f, own, iova_of(f, 0)))
			_exit(3);
		if (vm_pinned(getpid()) != mine + f->pg / 1024)
			_exit(4);
		if (vm_pinned(parent) != before + 3 * f->pg / 1024)
			_exit(5);
		_exit(0);
	}
	reap(pid);
	assert_int_equal(vm_pinned(parent), before + 3 * f->pg / 1024);
}

/*
 * IOAS_CHANGE_PROCESS from the child (the selftest change_process): with
 * only file mappings, the pins become the child's, in both processes'
 * VmPin: as the child reads them.
 */
static void test_change_process(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_ioas_change_process cp = {.size = sizeof(cp)};
	pid_t parent = getpid(), pid;
	long before = vm_pinned(parent), kb = f->pg / 1024;
	int mfd = memfd_create("fork-test", MFD_CLOEXEC);
	struct sio_iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
			 SIO_IOMMU_IOAS_MAP_READABLE |
			 SIO_IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = f->ioas,
		.fd = mfd,
		.length = (uint64_t)f->pg,
		.iova = iova_of(f, 0),
	};

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, f->pg), 0);
	/* user memory cannot move: only the file stays */
	for (int i = 1; i < 4; i++)
		assert_int_equal(unmap_at(f, iova_of(f, i)), 0);
	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP_FILE, &m), 0);
	assert_int_equal(attach(f), 0);
	assert_int_equal(vm_pinned(parent), before + kb);
	pid = fork_ok();
	if (!pid) {
		long mine = vm_pinned(getpid());

		if (vm_pinned(parent) != before + kb)
			_exit(2);
		if (ioctl(f->iommufd, SIO_IOMMU_IOAS_CHANGE_PROCESS, &cp))
			_exit(3);
		if (vm_pinned(parent) != before)
			_exit(4);
		_exit(vm_pinned(getpid()) == mine + kb ? 0 : 5);
	}
	reap(pid);
	close(mfd);
}

/*
 * A channel is one hop: a grandchild's copy of a forwarded fd answers EIO
 * (as every unshared copy), and its fork leaves the child's fd working.
 */
static void test_grandchild(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_ok();

	if (!pid) {
		pid_t g = fork();
		int status;

		if (g < 0)
			_exit(2);
		if (!g) {
			struct sio_iommu_ioas_alloc a = {.size = sizeof(a)};
			int rc = ioctl(f->iommufd, SIO_IOMMU_IOAS_ALLOC, &a);

			_exit(rc == -1 && errno == EIO ? 0 : 1);
		}
		if (waitpid(g, &status, 0) != g || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			_exit(3);
		_exit(ioas_alloc(f->iommufd) ? 0 : 4);
	}
	reap(pid);
}

/* The file lives until both closed it, in either order. */
static void test_close_orders(void **state)
{
	struct fx *f = *state;
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	pid_t pid;
	char c = 0;

	/* a context no device holds: the fds are all that keep it */
	assert_true(fd >= 0);
	assert_int_equal(ioas_alloc(fd), 1);
	/* the parent closes first: the child's fd still works */
	pid = fork_ok();
	if (!pid) {
		if (read(f->go[0], &c, 1) != 1)
			_exit(101);
		/* the same context: the next id after the parent's IOAS */
		_exit(ioas_alloc(fd) == 2 ? 0 : 102);
	}
	assert_int_equal(close(fd), 0);
	parent_go(f);
	reap(pid);

	/* the child closes first: the parent's fd still works */
	pid = fork_ok();
	if (!pid) {
		if (close(f->iommufd))
			_exit(2);
		_exit(0);
	}
	reap(pid);
	assert_int_not_equal(ioas_alloc(f->iommufd), 0);
}

/*
 * An fd number in a call would be the child's and an fd it makes the
 * parent's: such calls are refused (a difference from the kernel, in
 * docs/preload.md).
 */
static void test_fd_calls_refused(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_ok();

	if (!pid) {
		struct sio_iommu_ioas_map_file m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_READABLE,
			.ioas_id = f->ioas,
			.fd = f->dev,
			.length = (uint64_t)f->pg,
		};
		int rc = ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP_FILE, &m);

		_exit(rc == -1 && errno == EOPNOTSUPP ? 0 : 2);
	}
	reap(pid);
}

/* ---- the child's private memory, shared with the device ---- */

static bool all_equal(const uint8_t *p, uint8_t v, long n)
{
	for (long i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* In a child: @pages private pages of its own, all PATTERN. */
static uint8_t *child_pages(struct fx *f, long pages)
{
	uint8_t *p = mmap(NULL, (size_t)(pages * f->pg), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(90);
	memset(p, PATTERN, (size_t)(pages * f->pg));
	return p;
}

/* The device reads IOVA @iova into page 1: true if it is all @v. */
static bool device_reads(struct fx *f, uint64_t iova, uint8_t v)
{
	memset(f->mem + f->pg, 0, (size_t)f->pg);
	return (dma(f, iova, iova_of(f, 1)) & 7) == CHANSTS_DONE &&
	       all_equal(f->mem + f->pg, v, f->pg);
}

/*
 * The parent's side of one child_sync(): the device reads @iova while
 * the child waits (its page as the child left it), then the child goes.
 * The result is returned, not asserted: an assert before the go would
 * leave the child waiting.
 */
static bool parent_reads(struct fx *f, pid_t pid, uint64_t iova, uint8_t v)
{
	bool seen;

	parent_wait(f, pid, NULL);
	seen = device_reads(f, iova, v);
	parent_go(f);
	return seen;
}

/*
 * The child's private page, mapped with a domain (pinned at once), is
 * the device's page: what the child writes after the map is what the
 * device reads, and what the device writes the child reads.  (softiommu
 * copied the page at pin time: the device read the bytes of the map, and
 * its write stayed in the parent's copy.)
 */
static void test_child_shares_dma(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool seen, wrote;

	if (!pid) {
		uint8_t *own = child_pages(f, 1);

		if (map_at(f, own, iova_of(f, 0)))
			_exit(2);
		memset(own, PATTERN2, (size_t)f->pg);
		if (!child_sync(f, 0))
			_exit(3);
		_exit(all_equal(own, PATTERN3, f->pg) ? 0 : 4);
	}
	parent_wait(f, pid, NULL);
	seen = device_reads(f, iova_of(f, 0), PATTERN2);
	memset(f->mem + f->pg, PATTERN3, (size_t)f->pg);
	wrote = (dma(f, iova_of(f, 1), iova_of(f, 0)) & 7) == CHANSTS_DONE;
	parent_go(f);
	reap(pid);
	assert_true(seen);
	assert_true(wrote);
}

/*
 * A page the child maps twice (two IOVAs; the second map finds it shared
 * already) is one page for both mappings and the child.
 */
static void test_child_maps_twice(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool first, second;

	if (!pid) {
		uint8_t *own = child_pages(f, 1);

		if (map_at(f, own, iova_of(f, 0)) ||
		    map_at(f, own, iova_of(f, 8)))
			_exit(2);
		memset(own, PATTERN2, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 3);
	}
	parent_wait(f, pid, NULL);
	first = device_reads(f, iova_of(f, 0), PATTERN2);
	second = device_reads(f, iova_of(f, 8), PATTERN2);
	parent_go(f);
	reap(pid);
	assert_true(first);
	assert_true(second);
}

/* Whether the page at @p has protections @want ("rw-"), in our maps. */
static bool prot_is(const void *p, const char *want)
{
	unsigned long lo, hi;
	char line[512], perms[8];
	bool ok = false;
	FILE *fp = fopen("/proc/self/maps", "re");

	if (!fp)
		return false;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 &&
		    (uintptr_t)p >= lo && (uintptr_t)p < hi)
			ok = !strncmp(perms, want, 3);
	fclose(fp);
	return ok;
}

static void segv_exit(int sig)
{
	(void)sig;
	_exit(0);
}

/* In a new child: a write to @p faults (its handler exits 0). */
static bool write_faults(uint8_t *p)
{
	int status;
	pid_t g = fork();

	if (g < 0)
		return false;
	if (!g) {
		signal(SIGSEGV, segv_exit);
		*(volatile uint8_t *)p = 1;
		_exit(1);
	}
	return waitpid(g, &status, 0) == g && WIFEXITED(status) &&
	       !WEXITSTATUS(status);
}

/*
 * Sharing keeps what the child had: the bytes of both pages, and their
 * protections (the read-only one stays read-only: its maps line says so,
 * and a write faults).  The device reads both as the child has them,
 * the writable one written after the map.
 */
static void test_child_keeps_bytes_prot(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool rw, ro;

	if (!pid) {
		uint8_t *own = child_pages(f, 2);
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
				 SIO_IOMMU_IOAS_MAP_READABLE,
			.ioas_id = f->ioas,
			.user_va = (uint64_t)(uintptr_t)own,
			.length = 2 * (uint64_t)f->pg,
			.iova = iova_of(f, 8),
		};

		memset(own + f->pg, PATTERN3, (size_t)f->pg);
		if (mprotect(own + f->pg, (size_t)f->pg, PROT_READ))
			_exit(2);
		if (ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP, &m))
			_exit(3);
		if (!all_equal(own, PATTERN, f->pg) ||
		    !all_equal(own + f->pg, PATTERN3, f->pg))
			_exit(4);
		if (!prot_is(own, "rw-") || !prot_is(own + f->pg, "r--"))
			_exit(5);
		if (!write_faults(own + f->pg))
			_exit(6);
		memset(own, PATTERN2, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 7);
	}
	parent_wait(f, pid, NULL);
	rw = device_reads(f, iova_of(f, 8), PATTERN2);
	ro = device_reads(f, iova_of(f, 9), PATTERN3);
	parent_go(f);
	reap(pid);
	assert_true(rw);
	assert_true(ro);
}

/*
 * The child's page is pinned; its own child gets a private copy, as the
 * kernel copies pinned anonymous pages at fork: the grandchild reads
 * the same bytes, and its writes reach neither the child nor the
 * device, while the child's still reach the device.
 */
static void test_grandchild_private_copy(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool before, after;

	if (!pid) {
		uint8_t *own = child_pages(f, 1);
		int status;
		pid_t g;

		if (map_at(f, own, iova_of(f, 0)))
			_exit(2);
		g = fork();
		if (g < 0)
			_exit(3);
		if (!g) {
			if (!all_equal(own, PATTERN, f->pg) ||
			    !prot_is(own, "rw-"))
				_exit(1);
			memset(own, PATTERN3, (size_t)f->pg);
			_exit(all_equal(own, PATTERN3, f->pg) ? 0 : 1);
		}
		if (waitpid(g, &status, 0) != g || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			_exit(4);
		if (!all_equal(own, PATTERN, f->pg))
			_exit(5);
		if (!child_sync(f, 0))
			_exit(6);
		memset(own, PATTERN2, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 7);
	}
	before = parent_reads(f, pid, iova_of(f, 0), PATTERN);
	after = parent_reads(f, pid, iova_of(f, 0), PATTERN2);
	reap(pid);
	assert_true(before);
	assert_true(after);
}

/* What the child's fail-nth says after the call: 'i' injected, else 'n'. */
static char child_nth_result(int nth)
{
	char buf[16];
	ssize_t n = pread(nth, buf, sizeof(buf) - 1, 0);
	char r = n == 2 && buf[0] == '0' ? 'i' : 'n';

	/* disarm; the write may meet the fault itself, then write again */
	if (pwrite(nth, "0", 1, 0) != 1)
		(void)!pwrite(nth, "0", 1, 0);
	return r;
}

/*
 * Each fault point of the sharing, failed in turn (the child's fail-nth,
 * as the kselftest harness arms it): the map succeeds all the same, and
 * the page is copied at pin time as before (the device reads the bytes
 * of the map, not the child's later write); once no fault is left, the
 * page is shared.
 */
static void test_child_share_fails_copies(void **state)
{
	struct fx *f = *state;
	unsigned int injected = 0, nth;
	bool shared = false;

	assert_int_equal(attach(f), 0);
	bus_master(f);
	for (nth = 1; nth < 64 && !shared; nth++) {
		pid_t pid = fork_ok();
		char c;

		if (!pid) {
			uint8_t *own = child_pages(f, 1);
			char path[64];
			int fd, rc;

			snprintf(path, sizeof(path),
				 "/proc/self/task/%d/fail-nth", getpid());
			fd = open(path, O_RDWR);
			if (fd < 0)
				_exit(2);
			snprintf(path, sizeof(path), "%u", nth);
			if (pwrite(fd, path, strlen(path), 0) < 1)
				_exit(3);
			rc = map_at(f, own, iova_of(f, 0));
			c = child_nth_result(fd);
			if (rc)
				_exit(4);
			memset(own, PATTERN2, (size_t)f->pg);
			_exit(child_sync(f, c) ? 0 : 5);
		}
		parent_wait(f, pid, &c);
		if (c == 'i') {
			injected++;
			assert_true(device_reads(f, iova_of(f, 0), PATTERN));
		} else {
			shared = device_reads(f, iova_of(f, 0), PATTERN2);
		}
		parent_go(f);
		reap(pid);
		assert_int_equal(unmap_at(f, iova_of(f, 0)), 0);
		assert_true(c == 'i' || shared);
	}
	assert_true(shared);
	assert_true(injected > 0);
}

/*
 * fork_present without a domain at map time: attaching while the child
 * lives pins its page shared, so the child's writes before and after
 * the attach both reach the device, and the page stays once the child
 * is gone.  fork_gone: a page no pin took while the child lived cannot
 * be pinned after, though its memfd is the parent's too: EFAULT.
 */
static void test_child_present_then_gone(void **state)
{
	struct fx *f = *state;
	uint32_t src = ioas_alloc(f->iommufd);
	bool at_attach, later;
	pid_t pid;
	int rc;

	assert_int_not_equal(src, 0);
	pid = fork_ok();
	if (!pid) {
		uint8_t *own = child_pages(f, 2);
		struct sio_iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = SIO_IOMMU_IOAS_MAP_FIXED_IOVA |
				 SIO_IOMMU_IOAS_MAP_READABLE |
				 SIO_IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = src,
			.user_va = (uint64_t)(uintptr_t)(own + f->pg),
			.length = (uint64_t)f->pg,
			.iova = CHILD_IOVA,
		};

		if (map_at(f, own, iova_of(f, 0)) ||
		    ioctl(f->iommufd, SIO_IOMMU_IOAS_MAP, &m))
			_exit(2);
		memset(own, PATTERN2, 2 * (size_t)f->pg);
		if (!child_sync(f, 0))
			_exit(3);
		memset(own, PATTERN3, 2 * (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 4);
	}
	parent_wait(f, pid, NULL);
	rc = attach(f);
	if (!rc)
		bus_master(f);
	at_attach = !rc && device_reads(f, iova_of(f, 0), PATTERN2);
	parent_go(f);
	parent_wait(f, pid, NULL);
	later = !rc && device_reads(f, iova_of(f, 0), PATTERN3);
	parent_go(f);
	reap(pid);
	assert_int_equal(rc, 0);
	assert_true(at_attach);
	assert_true(later);
	/* pinned while it lived: the page outlives the child */
	assert_true(device_reads(f, iova_of(f, 0), PATTERN3));
	/* never pinned while it lived: nothing to pin now */
	assert_int_equal(copy_page(f, src, CHILD_IOVA, iova_of(f, 8)), -1);
	assert_int_equal(errno, EFAULT);
}

/*
 * The VFIO compat container on the iommufd (IOMMU_VFIO_IOAS names the
 * device's IOAS): the child's VFIO_IOMMU_MAP_DMA shares its page too.
 */
static void test_child_vfio_compat_shares(void **state)
{
	struct fx *f = *state;
	struct sio_iommu_vfio_ioas v = {.size = sizeof(v),
					.ioas_id = f->ioas,
					.op = SIO_IOMMU_VFIO_IOAS_SET};
	bool seen;
	pid_t pid;

	assert_int_equal(ioctl(f->iommufd, SIO_IOMMU_VFIO_IOAS, &v), 0);
	pid = fork_attached(f);
	if (!pid) {
		uint8_t *own = child_pages(f, 1);
		struct sio_vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = SIO_VFIO_DMA_MAP_FLAG_READ |
				 SIO_VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uint64_t)(uintptr_t)own,
			.iova = iova_of(f, 0),
			.size = (uint64_t)f->pg,
		};

		if (ioctl(f->iommufd, SIO_VFIO_IOMMU_MAP_DMA, &m))
			_exit(2);
		memset(own, PATTERN2, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 3);
	}
	seen = parent_reads(f, pid, iova_of(f, 0), PATTERN2);
	reap(pid);
	assert_true(seen);
}

/*
 * A MAP_PRIVATE mapping of a file is the child's private memory too: it
 * is shared with the device as well (the file itself is not written).
 */
static void test_child_private_file_shares(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool seen;

	if (!pid) {
		int fd = memfd_create("fork-test-file", MFD_CLOEXEC);
		uint8_t *own, byte = 0;

		if (fd < 0 || ftruncate(fd, f->pg))
			_exit(2);
		own = mmap(NULL, (size_t)f->pg, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE, fd, 0);
		if (own == MAP_FAILED)
			_exit(3);
		memset(own, PATTERN, (size_t)f->pg);
		if (map_at(f, own, iova_of(f, 0)))
			_exit(4);
		memset(own, PATTERN2, (size_t)f->pg);
		if (pread(fd, &byte, 1, 0) != 1 || byte)
			_exit(5);
		_exit(child_sync(f, 0) ? 0 : 6);
	}
	seen = parent_reads(f, pid, iova_of(f, 0), PATTERN2);
	reap(pid);
	assert_true(seen);
}

/*
 * madvise() of the shared page acts as on the anonymous memory it was,
 * pinned: MADV_REMOVE is EINVAL (private memory), MADV_DONTNEED drops
 * the child's page (it reads zeros after, and its next writes are a new
 * page of its own) while the device keeps the pinned one.
 */
static void test_child_dontneed(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool shared, kept;

	if (!pid) {
		uint8_t *own = child_pages(f, 1);

		if (map_at(f, own, iova_of(f, 0)))
			_exit(2);
		memset(own, PATTERN2, (size_t)f->pg);
		if (!child_sync(f, 0))
			_exit(3);
		if (madvise(own, (size_t)f->pg, MADV_REMOVE) != -1 ||
		    errno != EINVAL || !all_equal(own, PATTERN2, f->pg))
			_exit(4);
		if (madvise(own, (size_t)f->pg, MADV_DONTNEED) ||
		    !all_equal(own, 0, f->pg))
			_exit(5);
		memset(own, PATTERN3, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 6);
	}
	shared = parent_reads(f, pid, iova_of(f, 0), PATTERN2);
	kept = parent_reads(f, pid, iova_of(f, 0), PATTERN2);
	reap(pid);
	assert_true(shared);
	assert_true(kept);
}

/*
 * A fork child's page, made shareable by its first IOAS_MAP, then moved
 * by mremap() and mapped again at its new address: the memfd behind it
 * is the same, and the device sees the child's later writes there.
 */
static void test_child_moved_maps_again(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork_attached(f);
	bool second;

	if (!pid) {
		uint8_t *own = child_pages(f, 1), *spot, *moved;

		if (map_at(f, own, iova_of(f, 0)))
			_exit(2);
		spot = mmap(NULL, (size_t)f->pg, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		moved = mremap(own, (size_t)f->pg, (size_t)f->pg,
			       MREMAP_MAYMOVE | MREMAP_FIXED, spot);
		if (moved != spot)
			_exit(5);
		if (map_at(f, moved, iova_of(f, 8)))
			_exit(6);
		memset(moved, PATTERN2, (size_t)f->pg);
		_exit(child_sync(f, 0) ? 0 : 3);
	}
	second = parent_reads(f, pid, iova_of(f, 8), PATTERN2);
	reap(pid);
	assert_true(second);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domain_child_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_domain_child_present,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_domain_child_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_memory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_memory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_part_copied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vm_pinned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_change_process, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_grandchild, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_orders, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fd_calls_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_shares_dma, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_moved_maps_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_maps_twice, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_child_keeps_bytes_prot,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_grandchild_private_copy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_share_fails_copies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_present_then_gone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_vfio_compat_shares,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_private_file_shares,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_dontneed, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("fork", tests, NULL, NULL);
}
