// SPDX-License-Identifier: MIT
/*
 * fuzz_uapi: a stream of iommufd ioctls decoded from the input, against
 * one iommufd context on a platform, then close.
 *
 * Each operation is a command from the table of the real ones (or a
 * random number), a struct of random bytes whose size may be short,
 * long, with a dirty tail or absurd, in which the fields that name
 * objects mostly take ids the stream has seen, the fields that point to
 * user memory point into buffers the fuzzer owns or at deliberately bad
 * addresses (NULL, a PROT_NONE page, a read-only page, a straddle, a
 * non-canonical address), and the IOVAs and lengths are mostly small page
 * multiples so that maps, copies and unmaps meet.  Beside the ioctls the
 * stream binds, attaches and unbinds the platform's two devices (what a
 * VFIO cdev does), lets them DMA, and reads and writes event queues.
 *
 * Invariants (abort() so libFuzzer reports the input):
 *  - every ioctl returns 0 or a negative errno the kernel's iommufd can
 *    return (nothing positive, no kernel-internal code like ENOIOCTLCMD);
 *  - after close and unbind the platform's pin counts are zero and the
 *    bus holds exactly the registrations it had before the input;
 *  - once IOAS_UNMAP succeeds, a device attached to a paging HWPT of
 *    that IOAS faults on every page of the range;
 *  - once a device is detached or unbound (and after close), none of
 *    its DMA reaches memory;
 *  - no file descriptor leaks (the queue fds that succeeded are closed
 *    here; one that failed must have been taken back by the library);
 *  - no crash, leak or undefined behaviour (ASan, UBSan).
 *
 * The platform lives across inputs (creating one per input would be most
 * of the time); each input opens a fresh iommufd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include <softiommu/iommufd.h>

#include "fuzz_common.h"
#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"

#define NO_OFF 0xff

/*
 * One command: its struct's size and which u32s are ids (in), written ids
 * (out), written fds (to close), which u64s are user pointers and which
 * IOVAs or lengths.
 */
struct cmd_desc {
	unsigned long cmd;
	uint8_t size;
	uint8_t ids[3];
	uint8_t out_id;
	uint8_t out_fd;
	uint8_t ptr;
	uint8_t nums[3];
};

#define O(s, f) ((uint8_t)offsetof(struct s, f))
#define ID1(a)                    \
	{                         \
		a, NO_OFF, NO_OFF \
	}
#define NONE3                          \
	{                              \
		NO_OFF, NO_OFF, NO_OFF \
	}

static const struct cmd_desc cmds[] = {
	{SIO_IOMMU_DESTROY, sizeof(struct sio_iommu_destroy),
	 ID1(O(sio_iommu_destroy, id)), NO_OFF, NO_OFF, NO_OFF, NONE3},
	{SIO_IOMMU_IOAS_ALLOC, sizeof(struct sio_iommu_ioas_alloc), NONE3,
	 O(sio_iommu_ioas_alloc, out_ioas_id), NO_OFF, NO_OFF, NONE3},
	{SIO_IOMMU_IOAS_ALLOW_IOVAS, sizeof(struct sio_iommu_ioas_allow_iovas),
	 ID1(O(sio_iommu_ioas_allow_iovas, ioas_id)), NO_OFF, NO_OFF,
	 O(sio_iommu_ioas_allow_iovas, allowed_iovas), NONE3},
	{SIO_IOMMU_IOAS_COPY,
	 sizeof(struct sio_iommu_ioas_copy),
	 {O(sio_iommu_ioas_copy, dst_ioas_id),
	  O(sio_iommu_ioas_copy, src_ioas_id), NO_OFF},
	 NO_OFF,
	 NO_OFF,
	 NO_OFF,
	 {O(sio_iommu_ioas_copy, length), O(sio_iommu_ioas_copy, dst_iova),
	  O(sio_iommu_ioas_copy, src_iova)}},
	{SIO_IOMMU_IOAS_IOVA_RANGES, sizeof(struct sio_iommu_ioas_iova_ranges),
	 ID1(O(sio_iommu_ioas_iova_ranges, ioas_id)), NO_OFF, NO_OFF,
	 O(sio_iommu_ioas_iova_ranges, allowed_iovas), NONE3},
	{SIO_IOMMU_IOAS_MAP,
	 sizeof(struct sio_iommu_ioas_map),
	 ID1(O(sio_iommu_ioas_map, ioas_id)),
	 NO_OFF,
	 NO_OFF,
	 O(sio_iommu_ioas_map, user_va),
	 {O(sio_iommu_ioas_map, length), O(sio_iommu_ioas_map, iova), NO_OFF}},
	{SIO_IOMMU_IOAS_UNMAP,
	 sizeof(struct sio_iommu_ioas_unmap),
	 ID1(O(sio_iommu_ioas_unmap, ioas_id)),
	 NO_OFF,
	 NO_OFF,
	 NO_OFF,
	 {O(sio_iommu_ioas_unmap, iova), O(sio_iommu_ioas_unmap, length),
	  NO_OFF}},
	{SIO_IOMMU_OPTION, sizeof(struct sio_iommu_option),
	 ID1(O(sio_iommu_option, object_id)), NO_OFF, NO_OFF, NO_OFF, NONE3},
	{SIO_IOMMU_VFIO_IOAS, sizeof(struct sio_iommu_vfio_ioas),
	 ID1(O(sio_iommu_vfio_ioas, ioas_id)), NO_OFF, NO_OFF, NO_OFF, NONE3},
	{SIO_IOMMU_HWPT_ALLOC,
	 sizeof(struct sio_iommu_hwpt_alloc),
	 {O(sio_iommu_hwpt_alloc, dev_id), O(sio_iommu_hwpt_alloc, pt_id),
	  O(sio_iommu_hwpt_alloc, fault_id)},
	 O(sio_iommu_hwpt_alloc, out_hwpt_id),
	 NO_OFF,
	 O(sio_iommu_hwpt_alloc, data_uptr),
	 NONE3},
	{SIO_IOMMU_GET_HW_INFO, sizeof(struct sio_iommu_hw_info),
	 ID1(O(sio_iommu_hw_info, dev_id)), NO_OFF, NO_OFF,
	 O(sio_iommu_hw_info, data_uptr), NONE3},
	{SIO_IOMMU_HWPT_SET_DIRTY_TRACKING,
	 sizeof(struct sio_iommu_hwpt_set_dirty_tracking),
	 ID1(O(sio_iommu_hwpt_set_dirty_tracking, hwpt_id)), NO_OFF, NO_OFF,
	 NO_OFF, NONE3},
	{SIO_IOMMU_HWPT_GET_DIRTY_BITMAP,
	 sizeof(struct sio_iommu_hwpt_get_dirty_bitmap),
	 ID1(O(sio_iommu_hwpt_get_dirty_bitmap, hwpt_id)),
	 NO_OFF,
	 NO_OFF,
	 O(sio_iommu_hwpt_get_dirty_bitmap, data),
	 {O(sio_iommu_hwpt_get_dirty_bitmap, iova),
	  O(sio_iommu_hwpt_get_dirty_bitmap, length),
	  O(sio_iommu_hwpt_get_dirty_bitmap, page_size)}},
	{SIO_IOMMU_HWPT_INVALIDATE, sizeof(struct sio_iommu_hwpt_invalidate),
	 ID1(O(sio_iommu_hwpt_invalidate, hwpt_id)), NO_OFF, NO_OFF,
	 O(sio_iommu_hwpt_invalidate, data_uptr), NONE3},
	{SIO_IOMMU_FAULT_QUEUE_ALLOC, sizeof(struct sio_iommu_fault_alloc),
	 NONE3, O(sio_iommu_fault_alloc, out_fault_id),
	 O(sio_iommu_fault_alloc, out_fault_fd), NO_OFF, NONE3},
	{SIO_IOMMU_IOAS_MAP_FILE,
	 sizeof(struct sio_iommu_ioas_map_file),
	 ID1(O(sio_iommu_ioas_map_file, ioas_id)),
	 NO_OFF,
	 NO_OFF,
	 NO_OFF,
	 {O(sio_iommu_ioas_map_file, start), O(sio_iommu_ioas_map_file, length),
	  O(sio_iommu_ioas_map_file, iova)}},
	{SIO_IOMMU_VIOMMU_ALLOC,
	 sizeof(struct sio_iommu_viommu_alloc),
	 {O(sio_iommu_viommu_alloc, dev_id), O(sio_iommu_viommu_alloc, hwpt_id),
	  NO_OFF},
	 O(sio_iommu_viommu_alloc, out_viommu_id),
	 NO_OFF,
	 O(sio_iommu_viommu_alloc, data_uptr),
	 NONE3},
	{SIO_IOMMU_VDEVICE_ALLOC,
	 sizeof(struct sio_iommu_vdevice_alloc),
	 {O(sio_iommu_vdevice_alloc, viommu_id),
	  O(sio_iommu_vdevice_alloc, dev_id), NO_OFF},
	 O(sio_iommu_vdevice_alloc, out_vdevice_id),
	 NO_OFF,
	 NO_OFF,
	 NONE3},
	{SIO_IOMMU_IOAS_CHANGE_PROCESS,
	 sizeof(struct sio_iommu_ioas_change_process), NONE3, NO_OFF, NO_OFF,
	 NO_OFF, NONE3},
	{SIO_IOMMU_VEVENTQ_ALLOC, sizeof(struct sio_iommu_veventq_alloc),
	 ID1(O(sio_iommu_veventq_alloc, viommu_id)),
	 O(sio_iommu_veventq_alloc, out_veventq_id),
	 O(sio_iommu_veventq_alloc, out_veventq_fd), NO_OFF, NONE3},
	{SIO_IOMMU_HW_QUEUE_ALLOC,
	 sizeof(struct sio_iommu_hw_queue_alloc),
	 ID1(O(sio_iommu_hw_queue_alloc, viommu_id)),
	 O(sio_iommu_hw_queue_alloc, out_hw_queue_id),
	 NO_OFF,
	 NO_OFF,
	 {O(sio_iommu_hw_queue_alloc, nesting_parent_iova),
	  O(sio_iommu_hw_queue_alloc, length), NO_OFF}},
	{SIO_IOMMU_IOAS_NOIOMMU_GET_PA,
	 sizeof(struct sio_iommu_ioas_noiommu_get_pa),
	 ID1(O(sio_iommu_ioas_noiommu_get_pa, ioas_id)),
	 NO_OFF,
	 NO_OFF,
	 NO_OFF,
	 {O(sio_iommu_ioas_noiommu_get_pa, iova),
	  O(sio_iommu_ioas_noiommu_get_pa, length), NO_OFF}},
};
#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

/* The fuzzer's own memory, mapped once: see layout below. */
#define MAP_PAGES 16
enum {
	PG_DATA = MAP_PAGES, /* what data pointers point at */
	PG_GUARD,	     /* PROT_NONE */
	PG_RO,		     /* read-only */
	PG_ARG,		     /* the ioctl's struct */
	PG_GUARD2,	     /* PROT_NONE after the struct's page */
	NR_PAGES
};

#define MAX_IDS 16
#define NR_DEVS 2

static struct {
	struct sio_platform *plat;
	uint8_t *mem;
	size_t pg;
	int memfd;
	size_t regs0;
	bool trace; /* FUZZ_TRACE=1: each operation and its result, to read
		       what a crashing input does */
} g;

struct run {
	struct fz_in in;
	struct sio_iommufd *fd;
	uint32_t ids[MAX_IDS];
	unsigned int nids, next_id;
	struct platform_device *pdev[NR_DEVS];
	struct iommufd_device *idev[NR_DEVS];
	bool fault_queue; /* a stall might wait for a page response */
};

/* What Linux's iommufd and the VFIO/anon-inode code under it return. */
static bool kernel_errno(int rc)
{
	switch (-rc) {
	case EPERM:
	case ENOENT:
	case ESRCH:
	case EIO:
	case ENXIO:
	case E2BIG:
	case EBADF:
	case EAGAIN:
	case ENOMEM:
	case EFAULT:
	case EBUSY:
	case EEXIST:
	case ENODEV:
	case EINVAL:
	case ENFILE:
	case EMFILE:
	case ENOTTY:
	case ENOSPC:
	case ERANGE:
	case EOVERFLOW:
	case EBADFD:
	case EADDRINUSE: /* a reserved region or alignment meets a mapping */
	case EMSGSIZE:	 /* IOAS_IOVA_RANGES: the array is too short */
	case EOPNOTSUPP:
		return true;
	}
	return false;
}

static uint8_t *page(unsigned int i)
{
	return g.mem + i * g.pg;
}

static void fuzz_init(void)
{
	struct sio_mem_bus *bus;
	size_t views;

	g.pg = (size_t)sysconf(_SC_PAGESIZE);
	g.trace = getenv("FUZZ_TRACE") != NULL;
	if (sio_platform_create(&g.plat))
		abort();
	g.mem = mmap(NULL, NR_PAGES * g.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.mem == MAP_FAILED)
		abort();
	if (mprotect(page(PG_GUARD), g.pg, PROT_NONE) ||
	    mprotect(page(PG_RO), g.pg, PROT_READ) ||
	    mprotect(page(PG_GUARD2), g.pg, PROT_NONE))
		abort();
	/* IOAS_MAP_FILE's file: four pages of a memfd */
	g.memfd = memfd_create("fuzz_uapi", MFD_CLOEXEC);
	if (g.memfd < 0 || ftruncate(g.memfd, 4 * (off_t)g.pg))
		abort();
	bus = sio_platform_bus(g.plat);
	sio_mem_bus_counts(bus, &g.regs0, &views);
}

/* A user pointer: into our buffers mostly, sometimes hostile. */
static uint64_t user_ptr(struct run *r, bool map_target)
{
	uint8_t cls = fz_u8(&r->in), b = fz_u8(&r->in);
	uintptr_t p;

	switch (cls % 12) {
	case 0:
		p = 0;
		break;
	case 1: /* a PROT_NONE page */
		p = (uintptr_t)page(PG_GUARD) + b;
		break;
	case 2: /* read-only */
		p = (uintptr_t)page(PG_RO) + (b & ~7u);
		break;
	case 3: /* straddles into the PROT_NONE page */
		p = (uintptr_t)page(PG_GUARD) - 8 * (1 + b % 4);
		break;
	case 4: /* non-canonical */
		p = (uintptr_t)(0xdead000000000000ull | ((uint64_t)b << 12));
		break;
	case 5:
	case 6:
	case 7: /* the memory IOAS_MAP pins, page-aligned or not */
		p = (uintptr_t)page(b % MAP_PAGES);
		if (cls & 0x80)
			p += b;
		break;
	default:
		p = (uintptr_t)page(map_target ? b % MAP_PAGES : PG_DATA) +
		    (map_target ? 0 : (b * 8u) % g.pg);
		break;
	}
	return (uint64_t)p;
}

/* IOVAs and lengths: small page multiples mostly, so ranges meet. */
static uint64_t shape_num(struct run *r, uint64_t raw)
{
	uint8_t s = fz_u8(&r->in);

	switch (s % 8) {
	case 0:
		return raw;
	case 1:
		return UINT64_MAX - (s >> 3);
	case 2:
		return s >> 3;
	default:
		return (uint64_t)(s >> 3) * g.pg;
	}
}

static uint32_t pick_id(struct run *r, uint32_t raw)
{
	uint8_t s = fz_u8(&r->in);

	if (s < 200 && r->nids)
		return r->ids[s % r->nids];
	return s < 240 ? raw % 32 : raw;
}

static void add_id(struct run *r, uint32_t id)
{
	if (r->nids < MAX_IDS)
		r->ids[r->nids++] = id;
	else
		r->ids[r->next_id++ % MAX_IDS] = id;
}

/* The struct's own address: mostly our argument page, sometimes bad. */
static uint8_t *arg_ptr(struct run *r, uint32_t size)
{
	uint8_t s = fz_u8(&r->in);

	switch (s % 16) {
	case 0:
		return NULL;
	case 1: /* straddles the PROT_NONE page after it */
		return page(PG_GUARD2) - (size > 8 ? size / 2 : 4);
	case 2: /* read-only: the reply cannot be written */
		return page(PG_RO);
	case 3:
		return (uint8_t *)(uintptr_t)0xdead000000000000ull;
	default:
		return page(PG_ARG);
	}
}

/*
 * The promise users rely on: once IOAS_UNMAP returns, no DMA reaches the
 * old mapping.  A successful unmap removed every area inside the range
 * (one crossing a bound would have failed it), so a device attached to a
 * paging HWPT of that IOAS must now fault on every page of the range;
 * pages sampled: the first eight and the last below 2^48.  Not with a
 * fault queue (a paging HWPT with one may stall the fault for an answer
 * nobody gives) nor for nested HWPTs, whose stage 1 the guest decides.
 */
static void check_unmapped(struct run *r, uint32_t ioas, uint64_t iova,
			   uint64_t len)
{
	struct sio_smmu *smmu = sio_platform_smmu(g.plat);
	uint64_t last = len ? iova + (len - 1) : iova;

	if (r->fault_queue || !len)
		return;
	if (last < iova)
		last = UINT64_MAX;
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		struct iommufd_device *idev = r->idev[d];
		struct iommufd_hwpt_paging *hp =
			idev ? to_hwpt_paging(idev->hwpt) : NULL;

		if (!hp || hp->ioas->obj.id != ioas)
			continue;
		for (unsigned int i = 0; i < 9; i++) {
			uint64_t a = i < 8 ? iova + i * g.pg
					   : (last < (1ull << 48)
						      ? last
						      : (1ull << 48) - 8);
			struct sio_smmu_txn txn = {.sid = r->pdev[d]->sid,
						   .addr = a & ~7ull};
			uint8_t b[8];
			size_t done;
			int rc;

			if (a < iova || a > last || (a & ~7ull) < iova)
				continue;
			rc = sio_smmu_dma(smmu, &txn, b, 1, &done);
			if (g.trace)
				fprintf(stderr, "unmapped: dev %u %#llx: %d\n",
					d, (unsigned long long)txn.addr, rc);
			FZ_CHECK(rc == -EFAULT,
				 "device %u read IOVA %#llx after IOAS %u "
				 "unmapped [%#llx, %#llx]: %d",
				 d, (unsigned long long)txn.addr, ioas,
				 (unsigned long long)iova,
				 (unsigned long long)last, rc);
		}
	}
}

static void check_rc(int rc, unsigned long cmd)
{
	FZ_CHECK(rc == 0 || kernel_errno(rc), "ioctl %#lx returned %d", cmd,
		 rc);
}

static void op_cmd(struct run *r, const struct cmd_desc *d)
{
	uint8_t *arg = page(PG_ARG), mode = fz_u8(&r->in);
	uint8_t req[64];
	uint32_t size = d->size;
	uint8_t *p;
	int rc;

	memset(arg, 0, 256);
	fz_bytes(&r->in, arg, d->size);
	/* sizes: the kernel's rules for short, long and dirty-tailed structs */
	if (mode >= 160 && mode < 176)
		size = d->size - 4 * (1 + mode % 2);
	else if (mode >= 176 && mode < 208)
		size = d->size + 8 * (1 + mode % 4);
	else if (mode >= 208)
		size = mode % 128;
	if (size > d->size && (mode & 1))
		arg[d->size + (mode >> 1) % (size - d->size)] = fz_u8(&r->in);
	for (unsigned int i = 0; i < 3; i++) {
		uint32_t v;

		if (d->ids[i] == NO_OFF)
			continue;
		memcpy(&v, arg + d->ids[i], 4);
		v = pick_id(r, v);
		memcpy(arg + d->ids[i], &v, 4);
	}
	for (unsigned int i = 0; i < 3; i++) {
		uint64_t v;

		if (d->nums[i] == NO_OFF)
			continue;
		memcpy(&v, arg + d->nums[i], 8);
		v = shape_num(r, v);
		memcpy(arg + d->nums[i], &v, 8);
	}
	if (d->ptr != NO_OFF) {
		uint64_t v = user_ptr(r, d->cmd == SIO_IOMMU_IOAS_MAP);

		memcpy(arg + d->ptr, &v, 8);
	}
	if (d->cmd == SIO_IOMMU_IOAS_MAP_FILE) {
		uint8_t s = fz_u8(&r->in);
		int32_t fd = s % 4 ? g.memfd : (s % 8 ? -1 : 100000);

		memcpy(arg + offsetof(struct sio_iommu_ioas_map_file, fd), &fd,
		       4);
	}
	memcpy(arg, &size, 4);
	memcpy(req, arg, sizeof(req)); /* the request, before the reply */
	p = arg_ptr(r, size);
	if (p == page(PG_RO)) {
		/* a good struct on a read-only page: only the reply fails */
		mprotect(p, g.pg, PROT_READ | PROT_WRITE);
		memcpy(p, arg, 256);
		mprotect(p, g.pg, PROT_READ);
	} else if ((uintptr_t)p > (uintptr_t)page(PG_ARG) &&
		   (uintptr_t)p < (uintptr_t)page(PG_GUARD2)) {
		/* the straddling struct: its first half is readable */
		memmove(p, arg, (size_t)(page(PG_GUARD2) - p));
	}
	rc = sio_iommufd_ioctl(r->fd, d->cmd, p);
	if (g.trace)
		fprintf(stderr, "ioctl %#lx size %u arg %p: %d\n", d->cmd, size,
			(void *)p, rc);
	check_rc(rc, d->cmd);
	if (rc || p != page(PG_ARG))
		return;
	if (d->cmd == SIO_IOMMU_IOAS_UNMAP) {
		struct sio_iommu_ioas_unmap u;

		memcpy(&u, req, sizeof(u));
		check_unmapped(r, u.ioas_id, u.iova, u.length);
	}
	if (d->out_id != NO_OFF) {
		uint32_t id;

		memcpy(&id, arg + d->out_id, 4);
		add_id(r, id);
	}
	if (d->out_fd != NO_OFF) {
		int32_t fd;

		memcpy(&fd, arg + d->out_fd, 4);
		FZ_CHECK(fd > 2, "queue fd %d", fd);
		close(fd);
	}
	if (d->cmd == SIO_IOMMU_FAULT_QUEUE_ALLOC)
		r->fault_queue = true;
}

/* A number that is not (or not quite) one of the commands. */
static void op_random_cmd(struct run *r)
{
	uint8_t s = fz_u8(&r->in), *arg = page(PG_ARG), *p;
	unsigned long cmd;
	int rc;

	if (s % 4 == 0) {
		cmd = fz_u32(&r->in);
	} else if (s % 4 == 1) { /* the right number in another ioctl type */
		cmd = fz_u16(&r->in);
		cmd = (cmd & 0xff00) | (0x80 + (cmd & 0xff) % 0x18);
	} else {
		cmd = SIO_IOMMUFD_IO(fz_u8(&r->in));
	}
	memset(arg, 0, 256);
	fz_bytes(&r->in, arg, 64);
	/*
	 * A real command's user pointer still points at our buffers: raw
	 * bytes may hold an address the fuzzer learned from a comparison,
	 * and the library would rightly write the fuzzer's own stack there.
	 */
	for (unsigned int i = 0; i < NR_CMDS; i++)
		if (cmds[i].cmd == cmd && cmds[i].ptr != NO_OFF) {
			uint64_t v = user_ptr(r, cmd == SIO_IOMMU_IOAS_MAP);

			memcpy(arg + cmds[i].ptr, &v, 8);
		}
	p = arg_ptr(r, 64);
	if ((uintptr_t)p > (uintptr_t)page(PG_ARG) &&
	    (uintptr_t)p < (uintptr_t)page(PG_GUARD2))
		memmove(p, arg, (size_t)(page(PG_GUARD2) - p));
	rc = sio_iommufd_ioctl(r->fd, cmd, p);
	check_rc(rc, cmd);
	/* A real command may have created something: learn ids, close fds */
	if (!rc && p == page(PG_ARG)) {
		for (unsigned int i = 0; i < NR_CMDS; i++) {
			if (cmds[i].cmd != cmd)
				continue;
			if (cmds[i].out_id != NO_OFF) {
				uint32_t id;

				memcpy(&id, arg + cmds[i].out_id, 4);
				add_id(r, id);
			}
			if (cmds[i].out_fd != NO_OFF) {
				int32_t fd;

				memcpy(&fd, arg + cmds[i].out_fd, 4);
				close(fd);
			}
			if (cmd == SIO_IOMMU_FAULT_QUEUE_ALLOC)
				r->fault_queue = true;
		}
	}
}

/*
 * A device with no domain is blocked: the SMMUv3 driver gives it an
 * abort STE (no bypass for unattached devices).  Once detach or unbind
 * returns, no DMA of it may reach memory at any of the IOVAs the stream
 * can map (small page multiples) nor at the host addresses of the
 * fuzzer's pages (what a bypass would reach).
 */
static void check_blocked(struct run *r, unsigned int d)
{
	struct sio_smmu *smmu = sio_platform_smmu(g.plat);
	uint8_t buf[8];
	size_t done;

	for (unsigned int i = 0; i < 32 + MAP_PAGES; i++) {
		struct sio_smmu_txn txn = {
			.sid = r->pdev[d]->sid,
			.addr = i < 32 ? i * g.pg
				       : (uint64_t)(uintptr_t)page(i - 32),
			.attr = i & 1 ? SIO_SMMU_WRITE : 0,
		};
		int rc = sio_smmu_dma(smmu, &txn, buf, sizeof(buf), &done);

		FZ_CHECK(rc == -EFAULT && done == 0,
			 "device %u DMA at %#llx after detach: %d, %zu done", d,
			 (unsigned long long)txn.addr, rc, done);
	}
}

static void op_device(struct run *r, uint8_t k)
{
	unsigned int d = k % NR_DEVS;
	struct iommufd_device *idev = r->idev[d];
	uint32_t id;
	int rc;

	switch ((k / NR_DEVS) % 4) {
	case 0: /* bind, as VFIO_DEVICE_BIND_IOMMUFD does */
		if (idev)
			return;
		rc = iommufd_device_bind(r->fd->ictx, &r->pdev[d]->desc, &id,
					 &r->idev[d]);
		if (g.trace)
			fprintf(stderr, "bind dev %u: %d id %u\n", d, rc, id);
		check_rc(rc, 0);
		if (!rc)
			add_id(r, id);
		break;
	case 1:
		if (!idev)
			return;
		iommufd_device_unbind(idev);
		r->idev[d] = NULL;
		check_blocked(r, d);
		break;
	case 2: /* VFIO_DEVICE_ATTACH_IOMMUFD_PT: attach, or replace */
		if (!idev)
			return;
		id = pick_id(r, fz_u8(&r->in));
		rc = fz_u8(&r->in) & 1 ? iommufd_device_replace(idev, &id)
				       : iommufd_device_attach(idev, &id);
		if (g.trace)
			fprintf(stderr, "attach dev %u to %u: %d\n", d, id, rc);
		check_rc(rc, 0);
		break;
	default:
		if (idev) {
			iommufd_device_detach(idev);
			check_blocked(r, d);
		}
		break;
	}
}

/* A device's DMA through whatever its attachment says: never a crash. */
static void op_dma(struct run *r, uint8_t k)
{
	struct sio_smmu_txn txn = {.sid = r->pdev[k % NR_DEVS]->sid};
	uint8_t buf[64] = {0};
	size_t done;
	uint8_t s;

	/* one statement each: the input is read in a defined order */
	txn.addr = fz_u64(&r->in);
	txn.addr = shape_num(r, txn.addr);
	txn.attr = fz_u8(&r->in) & (SIO_SMMU_WRITE | SIO_SMMU_PRIV);
	s = fz_u8(&r->in);
	/*
	 * A guest may have set its CD to stall; with a fault queue the
	 * stall waits for a response we would never write.  Not a bug.
	 */
	if (r->fault_queue)
		return;
	txn.ssv = s & 0x80;
	txn.ssid = s & 0x7;
	(void)sio_smmu_dma(sio_platform_smmu(g.plat), &txn, buf,
			   1 + s % sizeof(buf), &done);
}

static void op_eventq(struct run *r, uint8_t k)
{
	uint32_t id = pick_id(r, fz_u8(&r->in));
	uint8_t s = fz_u8(&r->in);
	void *buf = (void *)(uintptr_t)user_ptr(r, false);
	size_t len = s % 4 ? (size_t)(s >> 2) * 8 : (size_t)s << 8;
	ssize_t n;

	if (k & 1) {
		n = sio_iommufd_eventq_read(r->fd, id, buf, len);
		/* ESPIPE: a length that is not whole fault records */
		FZ_CHECK(n >= 0 ? (size_t)n <= len
				: kernel_errno((int)n) || n == -ESPIPE,
			 "eventq read %zd of %zu", n, len);
	} else {
		n = sio_iommufd_eventq_write(r->fd, id, buf, len);
		FZ_CHECK(n >= 0 ? (size_t)n <= len
				: kernel_errno((int)n) || n == -ESPIPE,
			 "eventq write %zd of %zu", n, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r = {.in = {data, size}};
	struct sio_pin_stats st;
	size_t regs, views;
	int fd_probe, fd_after;
	unsigned int ops = 0;

	if (!g.plat)
		fuzz_init();
	fd_probe = dup(0);
	close(fd_probe);
	/* pins counted (no CAP_IPC_LOCK) or not, RLIMIT_MODE settable or not */
	sio_platform_set_caps(g.plat, fz_u8(&r.in) & 3);
	memset(page(PG_DATA), 0, g.pg);
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		static const char *const names[] = {"0000:00:04.0", "0000:00:"
								    "04.1"};

		r.pdev[d] = platform_find_device(g.plat, names[d]);
		FZ_CHECK(r.pdev[d], "no device %s", names[d]);
	}
	if (sio_iommufd_open(g.plat, &r.fd))
		abort();
	/* bounded: each operation consumes at least one byte */
	while (fz_left(&r.in) && ops++ < 512) {
		uint8_t k = fz_u8(&r.in);

		if (k < 200)
			op_cmd(&r, &cmds[k % NR_CMDS]);
		else if (k < 216)
			op_random_cmd(&r);
		else if (k < 232)
			op_device(&r, k);
		else if (k < 240)
			op_dma(&r, k);
		else if (k < 248)
			op_eventq(&r, k);
		else
			fz_bytes(&r.in,
				 page(PG_DATA) +
					 fz_u8(&r.in) * 16u % (g.pg - 32),
				 32);
	}
	/* the device goes last, as in test_fuzz: close must cope with it */
	sio_iommufd_close(r.fd);
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		if (r.idev[d])
			iommufd_device_unbind(r.idev[d]);
		check_blocked(&r, d);
	}

	sio_platform_pin_stats(g.plat, &st);
	FZ_CHECK(!st.user_locked && !st.mm_locked && !st.mm_pinned,
		 "pins left after close: user %llu mm_locked %llu "
		 "mm_pinned %llu",
		 (unsigned long long)st.user_locked,
		 (unsigned long long)st.mm_locked,
		 (unsigned long long)st.mm_pinned);
	sio_mem_bus_counts(sio_platform_bus(g.plat), &regs, &views);
	FZ_CHECK(regs == g.regs0, "%zu bus registrations, %zu before", regs,
		 g.regs0);
	fd_after = dup(0);
	close(fd_after);
	FZ_CHECK(fd_after == fd_probe, "fd leak: next fd %d, was %d", fd_after,
		 fd_probe);
	return 0;
}
