// SPDX-License-Identifier: MIT
/*
 * fuzz_vfio: the VFIO container, /dev/vfio/vfio with the type1 driver or
 * iommufd's VFIO compatibility container, driven by a stream of
 * MAP_DMA / UNMAP_DMA / GET_INFO / DIRTY_PAGES / CHECK_EXTENSION /
 * SET_IOMMU calls, group joins and leaves, device fds and device DMA.
 *
 * The harness keeps its own model of what is mapped (type1's vfio_dma
 * records, or the compat IOAS's areas) and predicts every call from it
 * and from where its struct and user pointers lie, in the kernel's order
 * of checks (drivers/vfio/vfio_iommu_type1.c, drivers/vfio/container.c,
 * drivers/iommu/iommufd/vfio_compat.c):
 *
 *  - type1: every result exactly (errno, the size UNMAP reports, the
 *    dirty bitmap's bits); pinning may only fail with EFAULT where the
 *    user range is not all accessible memory, or ENOMEM past
 *    RLIMIT_MEMLOCK;
 *  - compat: every result exactly too, by iommufd's rules (UNMAP's cuts
 *    in TYPE1 mode, ENOENT for a range crossing an area, success with 0
 *    bytes for a range with nothing mapped, the size written back even on
 *    failure; MAP's alignment, reserved ranges, overlaps and
 *    pinning; the device attach's order of checks, each area pinning
 *    and counting its own pages, a piece of a cut area too);
 *  - GET_INFO: nothing written past argsz; the capability chain, when
 *    returned, well formed (ids in the driver's order, 8-byte aligned,
 *    inside the buffer); DMA_AVAIL the entries left; pgsizes and IOVA
 *    ranges the same every time for the same attachments;
 *  - device DMA through the StreamID: a mapped page reads the right user
 *    bytes and takes writes where the mapping allows them, anything else
 *    faults — in particular every page of a successful unmap;
 *  - when the last group leaves a type1 container, and after close, pin
 *    counts are zero, the bus holds what it held before, no fd leaks;
 *  - no crash, leak or undefined behaviour (ASan, UBSan).
 *
 * The platform lives across inputs (creating one per input would be most
 * of the time); each input opens a new container and both groups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <softiommu/iommufd.h>

#include "fuzz_common.h"
#include "iommufd/iommufd_private.h"
#include "platform/platform_private.h"
#include "uapi/iommufd_abi.h"
#include "uapi/vfio_abi.h"
#include "vfio/vfio_private.h"

/* The fuzzer's own memory, mapped once. */
#define MAP_PAGES 16
enum {
	PG_GUARD = MAP_PAGES, /* PROT_NONE */
	PG_RO,		      /* read-only, its own pattern */
	PG_ARG,		      /* the ioctl's struct */
	PG_BITMAP,	      /* dirty bitmaps */
	PG_GUARD2,	      /* PROT_NONE */
	NR_PAGES
};

#define NR_DEVS	      2
#define MAX_ENTRIES   1024
#define MAX_RANGES    8
#define NOT_PREDICTED 1 /* a "result" no call returns: not checked */

#define DIRTY_BITMAP_SIZE_MAX ((((0x7fffffffull) + 63) & ~63ull) / 8)

static struct {
	struct sio_platform *plat;
	uint8_t *mem;
	size_t pg;
	size_t regs0;
	uint64_t memlock_pages;
	/* the pages' contents at the start of each input, made once */
	uint8_t *tmpl, *ro_tmpl;
	/* GET_INFO's answers, [compat][some device attached] */
	bool info_known[2][2];
	uint64_t pgsizes[2][2];
	unsigned int nr_ranges[2][2];
	struct sio_vfio_iova_range ranges[2][2][MAX_RANGES];
	bool trace;
} g;

/* One mapping: a vfio_dma (type1) or an IOAS area (compat). */
struct ment {
	uint64_t iova, last;
	uint64_t vaddr;	 /* where the pages were pinned from: DMA lands here */
	uint64_t uvaddr; /* type1: the vaddr the program last gave */
	uint32_t prot;	 /* SIO_VFIO_DMA_MAP_FLAG_READ/WRITE */
	bool inval;	 /* type1: vaddr invalidated (UNMAP FLAG_VADDR) */
};

struct run {
	struct fz_in in;
	bool compat;
	unsigned int caps; /* SIO_CAP_* this input runs with */
	struct vfio_container *c;
	struct sio_iommufd *fd;
	struct iommufd_ctx *ictx;
	bool closed; /* the container (iommufd) fd is closed */
	struct platform_device *pdev[NR_DEVS];
	bool joined[NR_DEVS], dev_open[NR_DEVS], attached[NR_DEVS];
	struct sio_vfio_pci_dev *vdev[NR_DEVS];
	/* type1 */
	bool iommu_set, v2, dirty;
	unsigned int limit;
	/* compat */
	bool compat_ioas, cut;
	struct ment m[MAX_ENTRIES];
	unsigned int nm;
	uint64_t pgsize; /* the smallest IOMMU page */
};

static uint8_t *page(unsigned int i)
{
	return g.mem + i * g.pg;
}

static uint64_t upage(unsigned int i)
{
	return (uint64_t)(uintptr_t)page(i);
}

/* What the kernel's type1 and container code can return. */
static bool type1_errno(long rc)
{
	switch (-rc) {
	case EINVAL:	/* argsz, flags, alignment, ranges, no driver */
	case EFAULT:	/* copy_{from,to}_user, pinning */
	case ENOMEM:	/* allocations, RLIMIT_MEMLOCK */
	case EEXIST:	/* MAP over a mapping */
	case ENOSPC:	/* dma_entry_limit */
	case EOVERFLOW: /* u64 ranges that wrap */
	case ENOENT:	/* MAP_FLAG_VADDR without a mapping */
	case EBUSY:	/* attach with invalid vaddrs, group in use */
	case EACCES:	/* DIRTY_PAGES on a v1 container */
	case ENOTTY:	/* unknown ioctl once a driver is set */
	case ENODEV:	/* SET_IOMMU: no driver takes the type */
		return true;
	}
	return false;
}

/* ...and iommufd's VFIO compatibility (iommufd's own errnos beside). */
static bool compat_errno(long rc)
{
	switch (-rc) {
	case EINVAL:
	case EFAULT:
	case ENOMEM:
	case EEXIST:
	case EOVERFLOW:
	case ENOENT:
	case EBUSY:
	case ENOTTY:
	case ENODEV:
	case EADDRINUSE: /* attach: a reserved range meets a mapping */
	case ERANGE:
	case EPERM:
		return true;
	}
	return false;
}

/* ------------------------------------------------ memory, as the kernel sees
 * it */

enum mclass { M_NONE, M_RO, M_RW };

static enum mclass page_class(uint64_t a)
{
	uint64_t base = upage(0);
	uint64_t i;

	if (a < base || a >= upage(NR_PAGES))
		return M_NONE;
	i = (a - base) / g.pg;
	if (i < MAP_PAGES || i == PG_ARG || i == PG_BITMAP)
		return M_RW;
	if (i == PG_RO)
		return M_RO;
	return M_NONE;
}

/* Every byte of [a, a + len) at least @need. */
static bool accessible(uint64_t a, uint64_t len, enum mclass need)
{
	uint64_t last;

	if (!len)
		return true;
	if (__builtin_add_overflow(a, len - 1, &last))
		return false;
	for (uint64_t p = a & ~(uint64_t)(g.pg - 1); p <= last; p += g.pg) {
		if (page_class(p) < need)
			return false;
		if (p + g.pg < p)
			break;
	}
	return true;
}

static uint8_t pattern(uint64_t host)
{
	uint64_t off = host - upage(0);

	return (uint8_t)(off * 7 + (off >> 12) * 31 + 1);
}

/* memcpy, not a loop: the harness's comparisons are traced, and slow */
static void fill_patterns(void)
{
	memcpy(page(0), g.tmpl, MAP_PAGES * g.pg);
}

static void fuzz_init(void)
{
	struct rlimit rl;
	size_t views;

	g.pg = (size_t)sysconf(_SC_PAGESIZE);
	g.trace = getenv("FUZZ_TRACE") != NULL;
	if (sio_platform_create(&g.plat))
		abort();
	g.mem = mmap(NULL, NR_PAGES * g.pg, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.mem == MAP_FAILED)
		abort();
	g.tmpl = malloc(MAP_PAGES * g.pg);
	g.ro_tmpl = malloc(g.pg);
	if (!g.tmpl || !g.ro_tmpl)
		abort();
	for (size_t i = 0; i < MAP_PAGES * g.pg; i++)
		g.tmpl[i] = pattern(upage(0) + i);
	for (size_t i = 0; i < g.pg; i++)
		g.ro_tmpl[i] = pattern(upage(PG_RO) + i);
	memcpy(page(PG_RO), g.ro_tmpl, g.pg);
	if (mprotect(page(PG_GUARD), g.pg, PROT_NONE) ||
	    mprotect(page(PG_RO), g.pg, PROT_READ) ||
	    mprotect(page(PG_GUARD2), g.pg, PROT_NONE))
		abort();
	sio_mem_bus_counts(sio_platform_bus(g.plat), &g.regs0, &views);
	g.memlock_pages = UINT64_MAX;
	if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
		g.memlock_pages = (uint64_t)rl.rlim_cur / g.pg;
}

/* ----------------------------------------------------------- the model */

static struct ment *find_entry(struct run *r, uint64_t a)
{
	for (unsigned int i = 0; i < r->nm; i++)
		if (r->m[i].iova <= a && a <= r->m[i].last)
			return &r->m[i];
	return NULL;
}

/* The lowest entry meeting [start, last], as an interval tree finds it. */
static struct ment *first_entry(struct run *r, uint64_t start, uint64_t last)
{
	struct ment *best = NULL;

	for (unsigned int i = 0; i < r->nm; i++) {
		struct ment *e = &r->m[i];

		if (e->iova <= last && e->last >= start &&
		    (!best || e->iova < best->iova))
			best = e;
	}
	return best;
}

static unsigned int count_overlaps(struct run *r, uint64_t start, uint64_t last)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nm; i++)
		n += r->m[i].iova <= last && r->m[i].last >= start;
	return n;
}

static void remove_entry(struct run *r, struct ment *e)
{
	*e = r->m[--r->nm];
}

static unsigned int nr_invalid(struct run *r)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < r->nm; i++)
		n += r->m[i].inval;
	return n;
}

static bool any_attached(struct run *r)
{
	for (unsigned int d = 0; d < NR_DEVS; d++)
		if (r->attached[d])
			return true;
	return false;
}

/* [iova, last] inside one of the IOVA ranges GET_INFO gave (if any yet). */
static bool in_ranges_att(bool compat, bool att, uint64_t iova, uint64_t last)
{
	if (!g.info_known[compat][att])
		return true;
	for (unsigned int k = 0; k < g.nr_ranges[compat][att]; k++)
		if (g.ranges[compat][att][k].start <= iova &&
		    last <= g.ranges[compat][att][k].end)
			return true;
	return false;
}

static bool in_ranges(bool compat, uint64_t iova, uint64_t last)
{
	return in_ranges_att(compat, true, iova, last);
}

/* ------------------------------------------------------------- DMA checks */

static int dev_dma(struct run *r, unsigned int d, uint64_t iova, bool write,
		   uint8_t *buf, size_t len, size_t *done)
{
	struct sio_smmu_txn txn = {
		.sid = r->pdev[d]->sid,
		.addr = iova,
		.attr = write ? SIO_SMMU_WRITE : 0,
	};

	return sio_smmu_dma(sio_platform_smmu(g.plat), &txn, buf, len, done);
}

static void check_faults(struct run *r, unsigned int d, uint64_t iova,
			 const char *why)
{
	uint8_t buf[8];
	size_t done = 0;
	int rc = dev_dma(r, d, iova & ~7ull, false, buf, sizeof(buf), &done);

	if (g.trace)
		fprintf(stderr, "  fault check dev %u %#llx (%s): %d\n", d,
			(unsigned long long)iova, why, rc);
	FZ_CHECK(rc != 0 && done == 0,
		 "device %u read IOVA %#llx (%s): %d, %zu done", d,
		 (unsigned long long)iova, why, rc, done);
}

/* Every attached device faults on [iova, last]: first 8 pages and the last. */
static void check_range_faults(struct run *r, uint64_t iova, uint64_t last,
			       const char *why)
{
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		if (!r->attached[d])
			continue;
		for (unsigned int i = 0; i < 9; i++) {
			uint64_t a = i < 8 ? iova + i * g.pg : last;

			if (a < iova || a > last || (a & ~7ull) < iova ||
			    find_entry(r, a & ~7ull))
				continue;
			check_faults(r, d, a, why);
		}
	}
}

/*
 * A device's DMA of 8 bytes at @iova: what the model says it must do.
 * Reads of a readable mapping return the user's bytes; writes of a
 * writable one land there (and are undone); writes of a read-only one
 * and anything outside a mapping fault.  Reads of a write-only mapping
 * are the IOMMU's business (an Arm stage 1 cannot say write-only).
 */
static void op_dma(struct run *r, unsigned int d, uint64_t iova, bool write)
{
	uint8_t buf[8], want[8], before[8] = {0};
	struct ment *e;
	uint64_t host;
	size_t done = 0;
	int rc;

	iova &= ~7ull;
	e = find_entry(r, iova);
	if (e && e->last - iova < 7)
		return; /* not with byte-granular compat areas */
	for (unsigned int i = 0; i < 8; i++)
		want[i] = (uint8_t)(0xc0 + i + iova);
	memcpy(buf, want, sizeof(buf));
	if (e && accessible(e->vaddr + (iova - e->iova), 8, M_RO))
		memcpy(before, (void *)(uintptr_t)(e->vaddr + (iova - e->iova)),
		       8);
	rc = dev_dma(r, d, iova, write, buf, sizeof(buf), &done);
	if (g.trace)
		fprintf(stderr, "  dma dev %u %s %#llx: %d (%s)\n", d,
			write ? "write" : "read", (unsigned long long)iova, rc,
			e ? "mapped" : "unmapped");
	if (!r->attached[d] || !e) {
		FZ_CHECK(rc != 0 && done == 0,
			 "device %u %s at IOVA %#llx (%s): %d", d,
			 write ? "write" : "read", (unsigned long long)iova,
			 r->attached[d] ? "unmapped" : "not attached", rc);
		return;
	}
	host = e->vaddr + (iova - e->iova);
	if (!write) {
		if (!(e->prot & SIO_VFIO_DMA_MAP_FLAG_READ) && rc)
			return;
		FZ_CHECK(rc == 0 && done == 8,
			 "device %u read of mapped IOVA %#llx: %d", d,
			 (unsigned long long)iova, rc);
		FZ_CHECK(!memcmp(buf, (void *)(uintptr_t)host, 8),
			 "device %u read IOVA %#llx: not the bytes at %#llx", d,
			 (unsigned long long)iova, (unsigned long long)host);
		return;
	}
	if (!(e->prot & SIO_VFIO_DMA_MAP_FLAG_WRITE)) {
		FZ_CHECK(rc != 0 && done == 0,
			 "device %u wrote read-only IOVA %#llx: %d", d,
			 (unsigned long long)iova, rc);
		FZ_CHECK(!memcmp((void *)(uintptr_t)host, before, 8),
			 "device %u write to read-only IOVA %#llx changed "
			 "%#llx",
			 d, (unsigned long long)iova, (unsigned long long)host);
		return;
	}
	FZ_CHECK(rc == 0 && done == 8,
		 "device %u write of writable IOVA %#llx: %d", d,
		 (unsigned long long)iova, rc);
	FZ_CHECK(!memcmp((void *)(uintptr_t)host, want, 8),
		 "device %u write of IOVA %#llx did not land at %#llx", d,
		 (unsigned long long)iova, (unsigned long long)host);
	memcpy((void *)(uintptr_t)host, before, 8);
}

/* ------------------------------------------------------------ the calls */

static long do_ioctl(struct run *r, unsigned int cmd, uint64_t arg)
{
	long rc;

	if (r->compat)
		rc = sio_iommufd_ioctl(r->fd, cmd, (void *)(uintptr_t)arg);
	else
		rc = vfio_container_ioctl(r->c, cmd, arg);
	FZ_CHECK(rc >= 0 || (r->compat ? compat_errno(rc) : type1_errno(rc)),
		 "ioctl %#x returned %ld", cmd, rc);
	return rc;
}

static void check_result(long rc, long want, const char *what)
{
	if (g.trace)
		fprintf(stderr, "%s: %ld (predicted %ld)\n", what, rc, want);
	if (want != NOT_PREDICTED)
		FZ_CHECK(rc == want, "%s returned %ld, the model says %ld",
			 what, rc, want);
}

/*
 * Where the struct goes: mostly the argument page; sometimes NULL, the
 * read-only page (only the reply fails), a straddle into PROT_NONE, or a
 * non-canonical address.  The struct's bytes are copied there.
 */
static uint64_t place_arg(struct run *r, const void *s, size_t size)
{
	uint8_t k = fz_u8(&r->in);
	uint64_t p;

	switch (k % 16) {
	case 0:
		return 0;
	case 1:
		return 0xdead000000000000ull;
	case 2:
		mprotect(page(PG_RO), g.pg, PROT_READ | PROT_WRITE);
		memcpy(page(PG_RO), s, size);
		mprotect(page(PG_RO), g.pg, PROT_READ);
		p = upage(PG_RO);
		break;
	case 3: /* straddles into the PROT_NONE page after the bitmap page */
		p = upage(PG_GUARD2) - (size > 8 ? size / 2 : 4);
		memcpy((void *)(uintptr_t)p, s, upage(PG_GUARD2) - p);
		return p;
	default:
		memset(page(PG_ARG), 0xa5, g.pg);
		memcpy(page(PG_ARG), s, size);
		return upage(PG_ARG);
	}
	return p;
}

/* After a call: the read-only page gets its pattern back. */
static void unplace_arg(uint64_t p)
{
	if (p == upage(PG_RO)) {
		mprotect(page(PG_RO), g.pg, PROT_READ | PROT_WRITE);
		memcpy(page(PG_RO), g.ro_tmpl, g.pg);
		mprotect(page(PG_RO), g.pg, PROT_READ);
	}
}

/* IOVAs and lengths: small page multiples mostly, so ranges meet. */
static uint64_t shape_num(struct run *r, bool len)
{
	uint8_t s = fz_u8(&r->in);
	uint64_t n = s >> 3;

	switch (s % 16) {
	case 0:
		return fz_u64(&r->in);
	case 1:
		return UINT64_MAX - n * g.pg;
	case 2:
		return n; /* unaligned, or zero */
	case 3:		  /* at the reserved MSI window (0x8000000, 1 MiB) */
		return len ? (n + 1) * 0x40000 : 0x8000000 - n * 0x20000;
	case 4:
		return len ? 0 : (1ull << 48) - n * g.pg;
	case 5:
		return n * g.pg + (len ? 0 : 0x800);
	default:
		return len ? (1 + n % 8) * g.pg : n * g.pg;
	}
}

/* A user address: our pages mostly, sometimes anywhere bad. */
static uint64_t user_va(struct run *r)
{
	uint8_t s = fz_u8(&r->in), b = fz_u8(&r->in);

	switch (s % 12) {
	case 0:
		return 0;
	case 1:
		return upage(PG_GUARD);
	case 2:
		return upage(PG_RO);
	case 3: /* runs into the PROT_NONE page */
		return upage(MAP_PAGES - 1 - b % 4);
	case 4:
		return 0xdead000000000000ull | ((uint64_t)b << 12);
	case 5:
		return upage(b % MAP_PAGES) + (b & 0xf0);
	default:
		return upage(b % MAP_PAGES);
	}
}

/* ---------------------------------------------------------------- MAP */

/* type1's vfio_dma_do_map() and its pinning, predicted. */
static long predict_type1_map(struct run *r,
			      const struct sio_vfio_iommu_type1_dma_map *m,
			      uint64_t arg, bool *pin_ok, long *alt)
{
	uint64_t iova_end, vaddr_end, pg = r->pgsize;
	bool set_vaddr = m->flags & SIO_VFIO_DMA_MAP_FLAG_VADDR;
	bool prot = m->flags & 3;
	struct ment *e;

	*alt = NOT_PREDICTED;
	*pin_ok = false;
	if (!r->iommu_set) /* no driver: the container says EINVAL */
		return -EINVAL;
	if (!accessible(arg, sizeof(*m), M_RO))
		return -EFAULT;
	if (m->argsz < sizeof(*m) || m->flags & ~7u)
		return -EINVAL;
	if (!m->size)
		return -EINVAL;
	if (__builtin_add_overflow(m->iova, m->size - 1, &iova_end) ||
	    __builtin_add_overflow(m->vaddr, m->size - 1, &vaddr_end))
		return -EOVERFLOW;
	if (!prot == !set_vaddr)
		return -EINVAL;
	if ((m->size | m->iova | m->vaddr) & (pg - 1))
		return -EINVAL;
	e = first_entry(r, m->iova, iova_end);
	if (set_vaddr) {
		if (!e)
			return -ENOENT;
		if (count_overlaps(r, m->iova, iova_end) > 1 || !e->inval ||
		    e->iova != m->iova || e->last != iova_end)
			return -EINVAL;
		return 0;
	}
	if (e)
		return -EEXIST;
	if (r->nm >= r->limit)
		return -ENOSPC;
	if (!in_ranges(false, m->iova, iova_end))
		return -EINVAL;
	/* pinning: the user range with the access the mapping needs */
	{
		struct sio_pin_stats st;
		bool over;

		sio_platform_pin_stats(g.plat, &st);
		over = st.mm_locked + m->size / g.pg > g.memlock_pages;
		if (!accessible(m->vaddr, m->size,
				m->flags & SIO_VFIO_DMA_MAP_FLAG_WRITE
					? M_RW
					: M_RO)) {
			*alt = over ? -ENOMEM : NOT_PREDICTED;
			return -EFAULT;
		}
		/* capabilities decide whether pins count at all */
		if (over) {
			*alt = 0;
			return -ENOMEM;
		}
	}
	*pin_ok = true;
	return 0;
}

static void probe_info(struct run *r);

/*
 * iommufd_vfio_map_dma(): iopt_map_user_pages() on the compat IOAS, whose
 * IOVA alignment is the domains' smallest page, or the host page once
 * TYPE1 turned large pages off, or a byte.  Pinning only with a domain.
 */
static long predict_compat_map(struct run *r,
			       const struct sio_vfio_iommu_type1_dma_map *m,
			       uint64_t arg, long *alt)
{
	bool att = any_attached(r);
	uint64_t align = att || r->cut ? g.pg : 1, end, last;

	*alt = NOT_PREDICTED;
	if (!accessible(arg, sizeof(*m), M_RO))
		return -EFAULT;
	if (m->argsz < sizeof(*m) || m->flags & ~3u)
		return -EINVAL;
	if (!r->compat_ioas)
		return -ENODEV;
	if (__builtin_add_overflow(m->vaddr, m->size, &end))
		return -EOVERFLOW;
	if (!m->size || m->size > UINT64_MAX - g.pg)
		return -EINVAL;
	if (m->size & (align - 1) || m->iova & (align - 1))
		return -EINVAL;
	if (__builtin_add_overflow(m->iova, m->size - 1, &last))
		return -EOVERFLOW;
	if (!g.info_known[1][att])
		return NOT_PREDICTED;
	if (!in_ranges_att(true, att, m->iova, last))
		return -EINVAL;
	if (count_overlaps(r, m->iova, last))
		return -EEXIST;
	if (m->vaddr & (g.pg - 1) & (align - 1))
		return -EINVAL;
	if (!att)
		return 0; /* nothing pinned until a device attaches */
	{
		uint64_t npages =
			(m->size + (m->vaddr & (g.pg - 1)) + g.pg - 1) / g.pg;
		struct sio_pin_stats st;
		bool over;

		sio_platform_pin_stats(g.plat, &st);
		over = !(r->caps & SIO_CAP_IPC_LOCK) &&
		       st.user_locked + npages > g.memlock_pages;
		if (!accessible(m->vaddr, m->size,
				m->flags & SIO_VFIO_DMA_MAP_FLAG_WRITE
					? M_RW
					: M_RO)) {
			*alt = over ? -ENOMEM : NOT_PREDICTED;
			return -EFAULT;
		}
		if (over)
			return -ENOMEM;
	}
	/* io-pgtable-arm maps nothing that is neither readable nor writable */
	if (!(m->flags & 3))
		return -EINVAL;
	return 0;
}

static void op_map(struct run *r)
{
	struct sio_vfio_iommu_type1_dma_map m = {.argsz = sizeof(m)};
	uint8_t f = fz_u8(&r->in);
	uint64_t arg, iova_end;
	long rc, want, alt;
	bool pin_ok;

	m.flags = f & 0x80 ? fz_u32(&r->in) : f % 4 ? f % 4 : 4;
	if (f & 0x40)
		m.flags = SIO_VFIO_DMA_MAP_FLAG_READ;
	if ((f & 0x30) == 0x30)
		m.argsz = fz_u8(&r->in) % 48;
	m.iova = shape_num(r, false);
	m.size = shape_num(r, true);
	m.vaddr = user_va(r);
	/* the compat IOAS's ranges for this attachment, asked first */
	if (r->compat && r->compat_ioas && !g.info_known[1][any_attached(r)])
		probe_info(r);
	arg = place_arg(r, &m, sizeof(m));
	if (g.trace)
		fprintf(stderr,
			"MAP flags %#x iova %#llx size %#llx vaddr %#llx "
			"(page %lld) argsz %u\n",
			m.flags, (unsigned long long)m.iova,
			(unsigned long long)m.size, (unsigned long long)m.vaddr,
			(long long)(m.vaddr - upage(0)) / (long long)g.pg,
			m.argsz);
	if (r->compat) {
		want = predict_compat_map(r, &m, arg, &alt);
		rc = do_ioctl(r, SIO_VFIO_IOMMU_MAP_DMA, arg);
		unplace_arg(arg);
		if (alt != NOT_PREDICTED && rc == alt)
			want = alt;
		check_result(rc, want, "compat MAP_DMA");
		if (rc)
			return;
		iova_end = m.iova + m.size - 1;
		FZ_CHECK(m.size && iova_end >= m.iova &&
				 !count_overlaps(r, m.iova, iova_end),
			 "compat MAP [%#llx +%#llx] over a mapping succeeded",
			 (unsigned long long)m.iova,
			 (unsigned long long)m.size);
		/* with a domain: pinned (so good memory), aligned, allowed */
		if (any_attached(r))
			FZ_CHECK(
				accessible(m.vaddr, m.size,
					   m.flags & SIO_VFIO_DMA_MAP_FLAG_WRITE
						   ? M_RW
						   : M_RO) &&
					!((m.iova | m.size | m.vaddr) &
					  (g.pg - 1)) &&
					in_ranges(true, m.iova, iova_end),
				"compat MAP of %#llx +%#llx at %#llx pinned",
				(unsigned long long)m.vaddr,
				(unsigned long long)m.size,
				(unsigned long long)m.iova);
		if (r->nm < MAX_ENTRIES)
			r->m[r->nm++] = (struct ment){.iova = m.iova,
						      .last = iova_end,
						      .vaddr = m.vaddr,
						      .uvaddr = m.vaddr,
						      .prot = m.flags & 3};
		return;
	}
	want = predict_type1_map(r, &m, arg, &pin_ok, &alt);
	rc = do_ioctl(r, SIO_VFIO_IOMMU_MAP_DMA, arg);
	unplace_arg(arg);
	if (alt != NOT_PREDICTED && rc == alt)
		want = alt;
	if (want == -EFAULT && alt == NOT_PREDICTED && rc == -ENOMEM)
		want = rc; /* the limit may be met before the bad page */
	check_result(rc, want, "type1 MAP_DMA");
	if (rc)
		return;
	iova_end = m.iova + m.size - 1;
	if (m.flags & SIO_VFIO_DMA_MAP_FLAG_VADDR) {
		struct ment *e = find_entry(r, m.iova);

		e->uvaddr = m.vaddr;
		e->inval = false;
		return;
	}
	FZ_CHECK(r->nm < MAX_ENTRIES, "more than %u mappings", MAX_ENTRIES);
	r->m[r->nm++] = (struct ment){.iova = m.iova,
				      .last = iova_end,
				      .vaddr = m.vaddr,
				      .uvaddr = m.vaddr,
				      .prot = m.flags & 3};
}

/* -------------------------------------------------------------- UNMAP */

/* The unmap struct and the bitmap after it, as a program lays them out. */
struct unmap_arg {
	uint32_t argsz, flags;
	uint64_t iova, size;
	struct sio_vfio_bitmap bm;
};

struct unmapped {
	uint64_t iova[MAX_ENTRIES], last[MAX_ENTRIES];
	unsigned int n;
};

static void note_unmapped(struct unmapped *u, const struct ment *e)
{
	u->iova[u->n] = e->iova;
	u->last[u->n++] = e->last;
}

/*
 * type1's dirty bitmap for [base, ...]: the bits of every page of
 * @e set, written as whole u64 words from the word holding its first bit
 * (the first one read back first).  0 or -EFAULT, as the kernel would.
 */
static long bitmap_write_ok(struct run *r, uint64_t data, const struct ment *e,
			    uint64_t base)
{
	uint64_t bit = (e->iova - base) / r->pgsize;
	uint64_t nbits = (e->last - e->iova + 1) / r->pgsize;
	uint64_t word = bit / 64, shift = bit % 64;
	uint64_t bytes = ((nbits + shift + 63) & ~63ull) / 8;

	if (shift && !accessible(data + word * 8, 8, M_RO))
		return -EFAULT;
	return accessible(data + word * 8, bytes, M_RW) ? 0 : -EFAULT;
}

/*
 * Above every user address space a Linux kernel gives (x86-64 with 5-level
 * paging ends below 2^56, arm64 at 2^52): what access_ok() refuses on
 * any machine.  Where exactly it stops below that depends on the paging
 * depth, so the harness only uses addresses past this.
 */
#define USER_TOP (1ull << 56)

static bool bitmap_ok(const struct sio_vfio_bitmap *bm, uint64_t size)
{
	uint64_t last, npages;

	/* access_ok(): inside the user address space, not wrapping */
	if (__builtin_add_overflow(bm->data, bm->size, &last) ||
	    last > USER_TOP)
		return false;
	if (!bm->pgsize)
		return false;
	npages = size >> __builtin_ctzll(bm->pgsize);
	return npages && bm->size && bm->size <= DIRTY_BITMAP_SIZE_MAX &&
	       bm->size >= ((npages + 63) & ~63ull) / 8;
}

static bool bisects(struct run *r, uint64_t iova, uint64_t end)
{
	struct ment *e = find_entry(r, iova);

	if (e && e->iova != iova)
		return true;
	e = find_entry(r, end);
	return e && e->last != end;
}

/* vfio_dma_do_unmap() on the model; the model changes as type1 would. */
static long model_type1_unmap(struct run *r, const struct unmap_arg *u,
			      const struct sio_vfio_bitmap *bm,
			      struct unmapped *gone, uint64_t *size)
{
	bool all = u->flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL;
	bool inval = u->flags & SIO_VFIO_DMA_UNMAP_FLAG_VADDR;
	bool dirty = u->flags & SIO_VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP;
	uint64_t end, pg = r->pgsize, cur = u->iova;
	struct ment *marked[MAX_ENTRIES];
	unsigned int nmarked = 0;

	*size = 0;
	if (u->iova & (pg - 1))
		return -EINVAL;
	if (all) {
		if (u->iova || u->size)
			return -EINVAL;
		end = UINT64_MAX;
	} else {
		if (!u->size || u->size & (pg - 1))
			return -EINVAL;
		if (__builtin_add_overflow(u->iova, u->size - 1, &end))
			return -EOVERFLOW;
	}
	if (dirty && (!r->dirty || bm->pgsize != pg))
		return -EINVAL;
	if (r->v2 && !all && bisects(r, u->iova, end))
		return -EINVAL;
	for (;;) {
		struct ment *e = first_entry(r, cur, end);

		if (!e || (!r->v2 && u->iova > e->iova))
			break;
		if (inval) {
			if (e->inval) {
				for (unsigned int i = 0; i < nmarked; i++)
					marked[i]->inval = false;
				*size = 0;
				return -EINVAL;
			}
			e->inval = true;
			marked[nmarked++] = e;
		} else if (dirty) {
			long rc = bitmap_write_ok(r, bm->data, e, u->iova);

			if (rc)
				return rc;
		}
		*size += e->last - e->iova + 1;
		if (e->last == UINT64_MAX)
			break;
		cur = e->last + 1;
		if (!inval) {
			note_unmapped(gone, e);
			remove_entry(r, e);
		}
		if (cur > end)
			break;
	}
	return 0;
}

/* iommufd: split the area holding @p after it (iopt_area_split). */
static long model_cut(struct run *r, uint64_t p)
{
	struct ment *e = find_entry(r, p), *up;
	uint64_t ns = p + 1;

	if (!e || e->last == p)
		return 0;
	if ((ns & (r->pgsize - 1)) ||
	    ((e->vaddr + (ns - e->iova)) & (r->pgsize - 1)))
		return -EINVAL;
	FZ_CHECK(r->nm < MAX_ENTRIES, "model full");
	up = &r->m[r->nm++];
	*up = *e;
	up->iova = ns;
	up->vaddr = e->vaddr + (ns - e->iova);
	e->last = p;
	return 0;
}

/* iommufd_vfio_unmap_dma() on the model; *@wb: the size is written back. */
static long model_compat_unmap(struct run *r, const struct unmap_arg *u,
			       struct unmapped *gone, uint64_t *size, bool *wb)
{
	uint64_t start = 0, last = UINT64_MAX;
	/* nothing mapped there is success with 0 bytes, as type1 has it */
	long rc = 0;

	*size = 0;
	*wb = false;
	if (u->flags & SIO_VFIO_DMA_UNMAP_FLAG_ALL) {
		if (u->iova || u->size)
			return -EINVAL;
	} else {
		if (r->cut) {
			rc = model_cut(r, u->iova + u->size - 1);
			if (!rc && u->iova)
				rc = model_cut(r, u->iova - 1);
			if (rc)
				return rc;
		}
		*wb = true;
		if (!u->size)
			return -EINVAL;
		if (__builtin_add_overflow(u->iova, u->size - 1, &last))
			return -EOVERFLOW;
		start = u->iova;
	}
	*wb = true;
	for (;;) {
		struct ment *e = first_entry(r, start, last);

		if (!e)
			break;
		if (e->iova < start || e->last > last) {
			rc = -ENOENT;
			break;
		}
		*size += e->last - e->iova + 1;
		note_unmapped(gone, e);
		remove_entry(r, e);
	}
	return rc;
}

/* The dirty bitmap after success: bit i set iff page i was in @gone. */
static void check_bitmap(struct run *r, uint64_t data, uint64_t base,
			 uint64_t npages, const struct unmapped *gone)
{
	const uint64_t *w = (const uint64_t *)(uintptr_t)data;

	if (npages > 4096)
		npages = 4096;
	if (!accessible(data, (npages + 7) / 8, M_RW))
		return;
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t a = base + i * r->pgsize;
		bool want = false, got = (w[i / 64] >> (i % 64)) & 1;

		for (unsigned int k = 0; k < gone->n; k++)
			want |= gone->iova[k] <= a && a <= gone->last[k];
		FZ_CHECK(got == want, "dirty bit %llu (IOVA %#llx) is %d",
			 (unsigned long long)i, (unsigned long long)a, got);
	}
}

/* A dirty bitmap's memory: the bitmap page mostly, sometimes bad. */
static uint64_t bitmap_data(struct run *r)
{
	uint8_t s = fz_u8(&r->in);

	memset(page(PG_BITMAP), 0, g.pg);
	switch (s % 16) {
	case 0:
		return 0;
	case 1:
		return upage(PG_RO);
	case 2:
		return upage(PG_GUARD2) - 8 * (1 + s / 8 % 4);
	case 3: /* the kernel half: not a user address at all */
		return 0xffff888000000000ull + (uint64_t)s * 8;
	case 4: /* non-canonical */
		return 0xdead000000000000ull;
	default:
		return upage(PG_BITMAP);
	}
}

static void op_unmap(struct run *r)
{
	struct {
		struct unmap_arg u;
	} a = {0};
	struct unmapped gone = {.n = 0};
	uint8_t f = fz_u8(&r->in), s = fz_u8(&r->in);
	struct sio_vfio_iommu_type1_dma_unmap *rep;
	uint64_t arg, size = 0, base;
	size_t minsz = offsetof(struct unmap_arg, bm);
	long rc, want;
	bool wb = false;

	a.u.flags = f & 0x80 ? fz_u32(&r->in) : f % 8;
	if (f & 0x40)
		a.u.flags = 0;
	a.u.iova = shape_num(r, false);
	a.u.size = shape_num(r, true);
	if ((f & 0x38) == 0x38 && (a.u.flags & 1) == 0) {
		a.u.flags = SIO_VFIO_DMA_UNMAP_FLAG_ALL;
		a.u.iova = a.u.size = 0;
	}
	a.u.argsz = s < 16 ? s * 3 : a.u.flags & 1 ? sizeof(a) : sizeof(a.u);
	if (s >= 16 && s < 32)
		a.u.argsz += 8;
	a.u.bm.pgsize = s & 0x80 ? (uint64_t)1 << (s & 31) : r->pgsize;
	a.u.bm.size = s & 0x40 ? fz_u16(&r->in) : 512;
	a.u.bm.data = bitmap_data(r);
	base = a.u.iova;
	arg = place_arg(r, &a, sizeof(a));

	if (r->compat) {
		if (!accessible(arg, minsz, M_RO))
			want = -EFAULT;
		else if (a.u.argsz < minsz ||
			 a.u.flags & ~SIO_VFIO_DMA_UNMAP_FLAG_ALL)
			want = -EINVAL;
		else if (!r->compat_ioas)
			want = -ENODEV;
		else
			want = model_compat_unmap(r, &a.u, &gone, &size, &wb);
		if (wb && !accessible(arg, minsz, M_RW))
			want = -EFAULT;
	} else {
		want = 0;
		if (!r->iommu_set)
			want = -EINVAL;
		else if (!accessible(arg, minsz, M_RO))
			want = -EFAULT;
		else if (a.u.argsz < minsz || a.u.flags & ~7u)
			want = -EINVAL;
		else if ((a.u.flags & 1) && (a.u.flags & 6))
			want = -EINVAL;
		else if ((a.u.flags & 1) && a.u.argsz < sizeof(a))
			want = -EINVAL;
		else if ((a.u.flags & 1) && !accessible(arg, sizeof(a), M_RO))
			want = -EFAULT;
		else if ((a.u.flags & 1) && !bitmap_ok(&a.u.bm, a.u.size))
			want = -EINVAL;
		if (!want)
			want = model_type1_unmap(r, &a.u, &a.u.bm, &gone,
						 &size);
		wb = !want;
		if (!want && !accessible(arg, minsz, M_RW))
			want = -EFAULT;
	}
	rc = do_ioctl(r, SIO_VFIO_IOMMU_UNMAP_DMA, arg);
	rep = (struct sio_vfio_iommu_type1_dma_unmap *)(uintptr_t)arg;
	if (g.trace)
		fprintf(stderr,
			"UNMAP flags %#x iova %#llx size %#llx argsz %u\n",
			a.u.flags, (unsigned long long)a.u.iova,
			(unsigned long long)a.u.size, a.u.argsz);
	check_result(rc, want,
		     r->compat ? "compat UNMAP_DMA" : "type1 UNMAP_DMA");
	if (wb && arg == upage(PG_ARG))
		FZ_CHECK(rep->size == size,
			 "UNMAP reported %#llx bytes, the model says %#llx",
			 (unsigned long long)rep->size,
			 (unsigned long long)size);
	if (!rc && (a.u.flags & 1) && arg == upage(PG_ARG) &&
	    a.u.bm.data == upage(PG_BITMAP))
		check_bitmap(r, a.u.bm.data, base, a.u.size / r->pgsize, &gone);
	unplace_arg(arg);
	/* the promise: once UNMAP returns, no DMA reaches an unmapped page */
	for (unsigned int i = 0; i < gone.n; i++)
		check_range_faults(r, gone.iova[i], gone.last[i], "unmapped");
}

/* ----------------------------------------------------------- GET_INFO */

/* The chain must be what the driver builds, inside what it said. */
static void check_caps(struct run *r, const uint8_t *buf, uint32_t total)
{
	static const uint16_t type1_ids[] = {
		SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION,
		SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE};
	static const uint16_t compat_ids[] = {
		SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		SIO_VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE};
	const uint16_t *ids = r->compat ? compat_ids : type1_ids;
	unsigned int nids = r->compat ? 2 : 3, i = 0;
	bool att = any_attached(r);
	uint32_t at = sizeof(struct sio_vfio_iommu_type1_info);

	for (;;) {
		const struct sio_vfio_info_cap_header *h =
			(const void *)(buf + at);

		FZ_CHECK(at % 8 == 0 && at + sizeof(*h) <= total && i < nids,
			 "cap %u at %u of %u", i, at, total);
		FZ_CHECK(h->id == ids[i] && h->version == 1,
			 "cap %u: id %u version %u", i, h->id, h->version);
		if (h->id == SIO_VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
			const struct sio_vfio_iommu_type1_info_dma_avail *c =
				(const void *)h;

			FZ_CHECK(at + sizeof(*c) <= total, "DMA_AVAIL cut");
			FZ_CHECK(c->avail == (r->compat ? UINT32_MAX
							: r->limit - r->nm),
				 "DMA_AVAIL %u with %u of %u entries used",
				 c->avail, r->nm, r->limit);
		} else if (h->id == SIO_VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
			const struct sio_vfio_iommu_type1_info_cap_migration *c =
				(const void *)h;

			FZ_CHECK(at + sizeof(*c) <= total, "MIGRATION cut");
			FZ_CHECK(c->pgsize_bitmap == r->pgsize &&
					 c->max_dirty_bitmap_size ==
						 DIRTY_BITMAP_SIZE_MAX &&
					 !c->flags,
				 "MIGRATION cap %#llx %#llx",
				 (unsigned long long)c->pgsize_bitmap,
				 (unsigned long long)c->max_dirty_bitmap_size);
		} else {
			const struct sio_vfio_iommu_type1_info_cap_iova_range
				*c = (const void *)h;
			unsigned int n = c->nr_iovas;
			bool *known = &g.info_known[r->compat][att];

			FZ_CHECK(at + sizeof(*c) + (uint64_t)n * 16 <= total &&
					 n && n <= MAX_RANGES,
				 "IOVA_RANGE of %u ranges at %u of %u", n, at,
				 total);
			for (unsigned int k = 0; k < n; k++) {
				const struct sio_vfio_iova_range *x =
					&c->iova_ranges[k];

				FZ_CHECK(x->start <= x->end &&
						 (!k ||
						  x->start >
							  c->iova_ranges[k - 1]
								  .end),
					 "IOVA range %u [%#llx, %#llx]", k,
					 (unsigned long long)x->start,
					 (unsigned long long)x->end);
			}
			if (*known) {
				FZ_CHECK(
					n == g.nr_ranges[r->compat][att] &&
						!memcmp(c->iova_ranges,
							g.ranges[r->compat][att],
							n * 16),
					"IOVA ranges changed");
			} else if (r->compat || att) {
				g.nr_ranges[r->compat][att] = n;
				memcpy(g.ranges[r->compat][att], c->iova_ranges,
				       n * 16);
			}
		}
		i++;
		if (!h->next)
			break;
		FZ_CHECK(h->next > at, "cap chain goes back: %u after %u",
			 h->next, at);
		at = h->next;
	}
	FZ_CHECK(i == nids, "%u caps, not %u", i, nids);
}

static void info_call(struct run *r, uint32_t argsz, uint64_t arg, bool probe)
{
	struct sio_vfio_iommu_type1_info *info = (void *)(uintptr_t)arg;
	static uint8_t before[65536];
	bool att = any_attached(r);
	long rc, want = 0;

	memcpy(before, page(PG_ARG), g.pg);
	if (!r->compat && !r->iommu_set)
		want = -EINVAL;
	else if (!accessible(arg, 16, M_RO))
		want = -EFAULT;
	else if (argsz < 16)
		want = -EINVAL;
	else if (r->compat && !r->compat_ioas)
		want = -ENODEV;
	else if (!accessible(arg, argsz < 24 ? argsz : 24, M_RW))
		want = -EFAULT;
	rc = do_ioctl(r, SIO_VFIO_IOMMU_GET_INFO, arg);
	check_result(rc, want, "GET_INFO");
	if (rc || arg != upage(PG_ARG))
		return;
	/* nothing past argsz: the canary the page was filled with */
	if (argsz < g.pg &&
	    memcmp(page(PG_ARG) + argsz, before + argsz, g.pg - argsz))
		for (uint32_t i = argsz; i < g.pg; i++)
			FZ_CHECK(page(PG_ARG)[i] == before[i],
				 "GET_INFO with argsz %u wrote byte %u", argsz,
				 i);
	FZ_CHECK(info->flags == (SIO_VFIO_IOMMU_INFO_PGSIZES |
				 SIO_VFIO_IOMMU_INFO_CAPS),
		 "GET_INFO flags %#x", info->flags);
	if (g.info_known[r->compat][att])
		FZ_CHECK(info->iova_pgsizes == g.pgsizes[r->compat][att],
			 "pgsizes %#llx, were %#llx",
			 (unsigned long long)info->iova_pgsizes,
			 (unsigned long long)g.pgsizes[r->compat][att]);
	FZ_CHECK(info->iova_pgsizes & r->pgsize &&
			 !(info->iova_pgsizes & (r->pgsize - 1)),
		 "pgsizes %#llx, smallest page %#llx",
		 (unsigned long long)info->iova_pgsizes,
		 (unsigned long long)r->pgsize);
	if (argsz < 24)
		return;
	if (info->argsz > argsz) { /* too small: no caps, the size asked */
		FZ_CHECK(info->cap_offset == 0,
			 "cap_offset %u with argsz %u < %u", info->cap_offset,
			 argsz, info->argsz);
		return;
	}
	FZ_CHECK(info->cap_offset == sizeof(*info),
		 "cap_offset %u with argsz %u, %u needed", info->cap_offset,
		 argsz, info->argsz);
	check_caps(r, (const uint8_t *)info, info->argsz);
	if (!g.info_known[r->compat][att] && (r->compat || att)) {
		g.pgsizes[r->compat][att] = info->iova_pgsizes;
		g.info_known[r->compat][att] = true;
	}
	(void)probe;
}

/* The harness's own look: the IOMMU's page size and ranges. */
static void probe_info(struct run *r)
{
	struct sio_vfio_iommu_type1_info i = {.argsz = (uint32_t)g.pg};

	memset(page(PG_ARG), 0xa5, g.pg);
	memcpy(page(PG_ARG), &i, sizeof(i));
	info_call(r, i.argsz, upage(PG_ARG), true);
}

static void op_info(struct run *r)
{
	struct sio_vfio_iommu_type1_info i = {0};
	uint8_t s = fz_u8(&r->in);
	uint64_t arg;

	switch (s % 8) {
	case 0:
		i.argsz = s / 8; /* too short */
		break;
	case 1:
		i.argsz = 16; /* the ABI before caps */
		break;
	case 2:
		i.argsz = sizeof(i);
		break;
	case 3:
		i.argsz = sizeof(i) + s / 8 * 4; /* some caps */
		break;
	default:
		i.argsz = 512 + s;
		break;
	}
	i.flags = fz_u32(&r->in);
	i.cap_offset = 0x5a5a5a5a;
	arg = place_arg(r, &i, sizeof(i));
	info_call(r, i.argsz, arg, false);
	unplace_arg(arg);
}

/* -------------------------------------------------------- DIRTY_PAGES */

static void op_dirty(struct run *r)
{
	struct {
		struct {
			uint32_t argsz, flags;
		} d;
		struct sio_vfio_iommu_type1_dirty_bitmap_get g;
	} a = {0};
	uint8_t f = fz_u8(&r->in), s = fz_u8(&r->in);
	struct unmapped in_range = {.n = 0};
	uint64_t arg, end = 0;
	long rc, want = 0;

	a.d.flags = f & 0x80 ? fz_u32(&r->in) : 1u << (f % 3);
	a.d.argsz = s < 16 ? s : sizeof(a) + (s & 0x20 ? 8 : 0);
	a.g.iova = shape_num(r, false);
	a.g.size = f & 0x40 ? shape_num(r, true) : 32 * g.pg;
	a.g.bitmap.pgsize = s & 0x80 ? (uint64_t)1 << (s & 31) : r->pgsize;
	a.g.bitmap.size = s & 0x40 ? fz_u16(&r->in) : 512;
	a.g.bitmap.data = bitmap_data(r);
	arg = place_arg(r, &a, sizeof(a));

	if (r->compat)
		want = -ENOTTY;
	else if (!r->iommu_set)
		want = -EINVAL;
	else if (!r->v2)
		want = -EACCES;
	else if (!accessible(arg, 8, M_RO))
		want = -EFAULT;
	else if (a.d.argsz < 8 || a.d.flags & ~7u ||
		 __builtin_popcount(a.d.flags) != 1)
		want = -EINVAL;
	else if (a.d.flags & 4) {
		if (a.d.argsz < sizeof(a))
			want = -EINVAL;
		else if (!accessible(arg, sizeof(a), M_RO))
			want = -EFAULT;
		else if (!a.g.size)
			want = -EINVAL;
		else if (__builtin_add_overflow(a.g.iova, a.g.size - 1, &end))
			want = -EOVERFLOW;
		else if (!bitmap_ok(&a.g.bitmap, a.g.size))
			want = -EINVAL;
		else if (a.g.bitmap.pgsize != r->pgsize ||
			 (a.g.iova | a.g.size) & (r->pgsize - 1) || !r->dirty ||
			 bisects(r, a.g.iova, end))
			want = -EINVAL;
		else
			for (unsigned int i = 0; i < r->nm && !want; i++) {
				struct ment *e = &r->m[i];

				if (e->iova < a.g.iova || e->iova > end)
					continue;
				note_unmapped(&in_range, e);
				want = bitmap_write_ok(r, a.g.bitmap.data, e,
						       a.g.iova);
			}
		/* the model's order is not the tree's: first failure wins */
	}
	rc = do_ioctl(r, SIO_VFIO_IOMMU_DIRTY_PAGES, arg);
	unplace_arg(arg);
	check_result(rc, want, "DIRTY_PAGES");
	if (rc)
		return;
	if (a.d.flags & 1)
		r->dirty = true;
	else if (a.d.flags & 2)
		r->dirty = false;
	else if (a.g.bitmap.data == upage(PG_BITMAP))
		check_bitmap(r, a.g.bitmap.data, a.g.iova, a.g.size / r->pgsize,
			     &in_range);
}

/* ---------------------------------------- extensions, version, SET_IOMMU */

static void op_check_extension(struct run *r)
{
	uint8_t s = fz_u8(&r->in);
	uint64_t ext = s < 240 ? s % 12 : fz_u64(&r->in);
	long rc, want = 0;

	switch (ext) {
	case SIO_VFIO_TYPE1_IOMMU:
	case SIO_VFIO_TYPE1v2_IOMMU:
	case SIO_VFIO_UNMAP_ALL:
		want = 1;
		break;
	case SIO_VFIO_UPDATE_VADDR:
		want = !r->compat && r->iommu_set;
		break;
	case SIO_VFIO_DMA_CC_IOMMU:
		if (r->compat)
			want = r->compat_ioas ? 1 : -ENODEV;
		else
			want = r->iommu_set;
		break;
	}
	rc = do_ioctl(r, SIO_VFIO_CHECK_EXTENSION, ext);
	check_result(rc, want, "CHECK_EXTENSION");
}

static void after_attach(struct run *r)
{
	/* the smallest page and the ranges, from the IOMMU itself */
	if (r->closed)
		return; /* nothing left to ask */
	probe_info(r);
	r->pgsize = g.pgsizes[r->compat][1] & -g.pgsizes[r->compat][1];
}

static void op_set_iommu(struct run *r, uint64_t type)
{
	long rc, want;

	if (r->compat) {
		if (type != SIO_VFIO_TYPE1_IOMMU &&
		    type != SIO_VFIO_TYPE1v2_IOMMU)
			want = -EINVAL;
		else if (!r->compat_ioas)
			want = -ENODEV;
		else if (type == SIO_VFIO_TYPE1_IOMMU && !r->cut &&
			 any_attached(r) && r->nm)
			want = -EINVAL;
		else
			want = 0;
		/* large pages off: every area must be whole host pages */
		for (unsigned int i = 0;
		     !want && type == SIO_VFIO_TYPE1_IOMMU && !r->cut &&
		     i < r->nm;
		     i++)
			if ((r->m[i].iova | (r->m[i].last + 1) |
			     r->m[i].vaddr) &
			    (g.pg - 1))
				want = -EADDRINUSE;
	} else {
		bool any = r->joined[0] || r->joined[1];

		if (!any || r->iommu_set)
			want = -EINVAL;
		else if (type == SIO_VFIO_UNMAP_ALL)
			want = -EINVAL; /* advertised, but open() refuses it */
		else if (type != SIO_VFIO_TYPE1_IOMMU &&
			 type != SIO_VFIO_TYPE1v2_IOMMU)
			want = -ENODEV;
		else
			want = 0;
	}
	rc = do_ioctl(r, SIO_VFIO_SET_IOMMU, type);
	check_result(rc, want, "SET_IOMMU");
	if (rc)
		return;
	if (r->compat) {
		r->cut |= type == SIO_VFIO_TYPE1_IOMMU;
		return;
	}
	r->iommu_set = true;
	r->v2 = type != SIO_VFIO_TYPE1_IOMMU;
	r->dirty = false;
	for (unsigned int d = 0; d < NR_DEVS; d++)
		r->attached[d] = r->joined[d];
	after_attach(r);
}

static uint64_t pick_type(struct run *r)
{
	uint8_t s = fz_u8(&r->in);

	switch (s % 8) {
	case 0:
	case 1:
	case 2:
		return SIO_VFIO_TYPE1v2_IOMMU;
	case 3:
	case 4:
		return SIO_VFIO_TYPE1_IOMMU;
	case 5: /* the removed VFIO_TYPE1_NESTING_IOMMU */
		return SIO___VFIO_RESERVED_TYPE1_NESTING_IOMMU;
	case 6:
		return s >> 3;
	default:
		return fz_u64(&r->in);
	}
}

/* ------------------------------------------------ groups and device fds */

static void check_pins_released(void)
{
	struct sio_pin_stats st;
	size_t regs, views;

	sio_platform_pin_stats(g.plat, &st);
	FZ_CHECK(!st.user_locked && !st.mm_locked && !st.mm_pinned,
		 "pins left: user %llu mm_locked %llu mm_pinned %llu",
		 (unsigned long long)st.user_locked,
		 (unsigned long long)st.mm_locked,
		 (unsigned long long)st.mm_pinned);
	sio_mem_bus_counts(sio_platform_bus(g.plat), &regs, &views);
	FZ_CHECK(regs == g.regs0, "%zu bus registrations, %zu before", regs,
		 g.regs0);
}

static void group_join(struct run *r, unsigned int d)
{
	struct vfio_group *grp = &r->pdev[d]->group;
	long rc, want = 0;

	if (r->closed)
		return;
	if (r->joined[d])
		want = -EINVAL;
	else if (!r->compat && r->iommu_set && nr_invalid(r))
		want = -EBUSY;
	if (r->compat) {
		iommufd_ctx_get(r->ictx); /* the group's, kept or dropped */
		rc = vfio_group_set_container(grp, NULL, r->ictx);
	} else {
		rc = vfio_group_set_container(grp, r->c, NULL);
	}
	check_result(rc, want, "SET_CONTAINER");
	if (rc)
		return;
	r->joined[d] = true;
	if (r->compat) {
		r->compat_ioas = true;
	} else if (r->iommu_set) {
		r->attached[d] = true;
		after_attach(r);
	}
}

static void group_leave(struct run *r, unsigned int d)
{
	struct vfio_group *grp = &r->pdev[d]->group;
	long rc, want = 0;

	if (!r->joined[d])
		want = -EINVAL;
	else if (!r->compat && r->dev_open[d])
		want = -EBUSY;
	rc = vfio_group_unset_container(grp);
	check_result(rc, want, "UNSET_CONTAINER");
	if (rc)
		return;
	r->joined[d] = false;
	if (r->compat)
		return;
	r->attached[d] = false;
	for (unsigned int i = 0; i < r->nm; i++)
		check_faults(r, d, r->m[i].iova, "group left");
	if (r->joined[!d])
		return;
	/* the last group took the IOMMU and every mapping along */
	r->iommu_set = false;
	r->dirty = false;
	r->nm = 0;
	check_pins_released();
}

/*
 * The compat device fd attaches the device to the compat IOAS, in the
 * kernel's order: a new domain wants every area whole pages, none
 * outside its aperture (EADDRINUSE, iopt_table_add_domain()), then pins
 * every area (EFAULT, ENOMEM); only then does the attach reserve the
 * device's own regions, the MSI window (EADDRINUSE again).  A second
 * device finds all that done.
 */
static long predict_compat_attach(struct run *r, long *alt)
{
	const struct sio_vfio_iova_range *rg = g.ranges[1][1];
	unsigned int nr = g.nr_ranges[1][1];
	uint64_t npages = 0;
	bool bad = false;

	*alt = NOT_PREDICTED;
	if (any_attached(r))
		return 0;
	if (!g.info_known[1][1])
		return NOT_PREDICTED;
	for (unsigned int i = 0; i < r->nm; i++) {
		struct ment *e = &r->m[i];
		uint64_t len = e->last - e->iova + 1;

		if ((e->iova | len | e->vaddr) & (g.pg - 1))
			return -EADDRINUSE;
	}
	for (unsigned int i = 0; i < r->nm; i++)
		if (r->m[i].iova < rg[0].start || r->m[i].last > rg[nr - 1].end)
			return -EADDRINUSE;
	/* the domain is filled area by area in IOVA order: pin, count, map */
	{
		struct sio_pin_stats st;
		uint64_t from = 0;

		sio_platform_pin_stats(g.plat, &st);
		for (;;) {
			struct ment *e = first_entry(r, from, UINT64_MAX);
			uint64_t len;

			if (!e)
				break;
			len = e->last - e->iova + 1;
			npages += len / g.pg;
			bad = !(r->caps & SIO_CAP_IPC_LOCK) &&
			      st.user_locked + npages > g.memlock_pages;
			if (!accessible(e->vaddr, len,
					e->prot & SIO_VFIO_DMA_MAP_FLAG_WRITE
						? M_RW
						: M_RO)) {
				*alt = bad ? -ENOMEM : NOT_PREDICTED;
				return -EFAULT;
			}
			if (bad)
				return -ENOMEM;
			if (!(e->prot & 3))
				return -EINVAL;
			if (e->last == UINT64_MAX)
				break;
			from = e->last + 1;
		}
	}
	for (unsigned int i = 0; i < r->nm; i++)
		if (!in_ranges(true, r->m[i].iova, r->m[i].last))
			return -EADDRINUSE;
	return 0;
}

static void dev_open(struct run *r, unsigned int d)
{
	long rc, want = NOT_PREDICTED, alt = NOT_PREDICTED;

	if (!r->joined[d] || (!r->compat && !r->iommu_set))
		want = -EINVAL;
	else if (r->dev_open[d])
		want = -EBUSY;
	else if (!r->compat)
		want = 0;
	else
		want = predict_compat_attach(r, &alt);
	rc = platform_group_open_device(r->pdev[d], r->pdev[d]->name,
					&r->vdev[d]);
	FZ_CHECK(rc == 0 || compat_errno(rc), "GET_DEVICE_FD: %ld", rc);
	if (alt != NOT_PREDICTED && rc == alt)
		want = alt;
	check_result(rc, want, "GET_DEVICE_FD");
	if (rc)
		return;
	r->dev_open[d] = true;
	if (!r->compat)
		return;
	/* attached to the compat IOAS: every area was pinned and mapped */
	for (unsigned int i = 0; i < r->nm; i++) {
		struct ment *e = &r->m[i];
		uint64_t len = e->last - e->iova + 1;

		FZ_CHECK(accessible(e->vaddr, len,
				    e->prot & SIO_VFIO_DMA_MAP_FLAG_WRITE
					    ? M_RW
					    : M_RO) &&
				 !((e->iova | len | e->vaddr) & (g.pg - 1)),
			 "device attached over the unpinnable area %#llx",
			 (unsigned long long)e->iova);
	}
	r->attached[d] = true;
	after_attach(r);
	for (unsigned int i = 0; i < r->nm; i++)
		FZ_CHECK(in_ranges(true, r->m[i].iova, r->m[i].last),
			 "device attached over a mapping at reserved %#llx",
			 (unsigned long long)r->m[i].iova);
}

static void dev_close(struct run *r, unsigned int d)
{
	if (!r->dev_open[d])
		return;
	platform_group_close_device(r->pdev[d]);
	r->dev_open[d] = false;
	if (r->compat) {
		r->attached[d] = false;
		check_faults(r, d, r->nm ? r->m[0].iova : 0, "device closed");
	}
}

static void op_group(struct run *r, uint8_t k)
{
	unsigned int d = k % NR_DEVS;

	switch (k / NR_DEVS % 4) {
	case 0:
		group_join(r, d);
		break;
	case 1:
		group_leave(r, d);
		break;
	case 2:
		dev_open(r, d);
		break;
	default:
		dev_close(r, d);
		break;
	}
}

/* A number the container does not know, or an IOMMU ioctl without args. */
static void op_random_cmd(struct run *r)
{
	uint8_t s = fz_u8(&r->in);
	unsigned int cmd;
	long rc, want;

	if (s % 2)
		cmd = SIO_VFIO_IO(3 + s / 2 % 9); /* group/device numbers */
	else
		cmd = SIO_VFIO_IO(18 + s / 2 % 10);
	rc = do_ioctl(r, cmd, upage(PG_ARG));
	if (r->compat)
		want = -ENOTTY;
	else
		want = r->iommu_set ? -ENOTTY : -EINVAL;
	check_result(rc, want, "unknown ioctl");
}

static void op_close(struct run *r)
{
	if (r->closed)
		return;
	r->closed = true;
	if (r->compat)
		sio_iommufd_close(r->fd);
	else
		vfio_container_put(r->c);
	r->fd = NULL;
	r->c = NULL;
}

/* ------------------------------------------------------------ the input */

static uint64_t dma_iova(struct run *r)
{
	uint8_t s = fz_u8(&r->in);

	if (s < 160 && r->nm) {
		struct ment *e = &r->m[s % r->nm];
		uint64_t len = e->last - e->iova + 1;
		uint64_t off = fz_u16(&r->in);

		return e->iova + (off * 8) % len;
	}
	return shape_num(r, false) + (s & 0x38);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * GET_INFO's answers for each backend and attachment, learnt before the
 * first input: predictions that need them (IOVA ranges) then hold from
 * the start, and an input fails alone as it failed in a session.
 */
static void fuzz_warm_up(void)
{
	/* type1: a group, TYPE1v2 (its attach asks GET_INFO) */
	static const uint8_t type1[] = {0x00, 0x00};
	/* compat: a group, GET_INFO unattached, a device fd (and again) */
	static const uint8_t compat[] = {0x21, 216, 100, 4, 0, 0, 0, 0, 4, 220};

	LLVMFuzzerTestOneInput(type1, sizeof(type1));
	LLVMFuzzerTestOneInput(compat, sizeof(compat));
	FZ_CHECK(g.info_known[0][1] && g.info_known[1][0] && g.info_known[1][1],
		 "warm-up learnt no GET_INFO");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int limits[] = {VFIO_DMA_ENTRY_LIMIT_DEFAULT, 1,
					      3, 8};
	struct run r = {.in = {data, size}};
	unsigned int ops = 0;
	int fd_probe, fd_after;
	uint8_t h;

	if (!g.plat) {
		fuzz_init();
		fuzz_warm_up();
	}
	fd_probe = dup(0);
	close(fd_probe);
	fill_patterns();
	h = fz_u8(&r.in);
	r.compat = h & 1;
	r.caps = h >> 1 & 3;
	sio_platform_set_caps(g.plat, r.caps);
	r.limit = limits[h >> 3 & 3];
	r.pgsize = g.pg;
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		static const char *const names[] = {"0000:00:04.0", "0000:00:"
								    "04.1"};

		r.pdev[d] = platform_find_device(g.plat, names[d]);
		FZ_CHECK(r.pdev[d], "no device %s", names[d]);
		FZ_CHECK(!vfio_group_open(&r.pdev[d]->group), "group %u busy",
			 d);
	}
	if (r.compat) {
		if (sio_iommufd_open(g.plat, &r.fd))
			abort();
		r.ictx = platform_iommufd_ctx(r.fd);
	} else if (vfio_container_create(&g.plat->host, r.limit, &r.c)) {
		abort();
	}
	if (g.trace)
		fprintf(stderr, "%s container, caps %u, limit %u\n",
			r.compat ? "compat" : "type1", h >> 1 & 3, r.limit);
	/* the usual start: a group or two, the IOMMU type, a device fd */
	if (!(h & 0x20)) {
		group_join(&r, 0);
		if (h & 0x40)
			group_join(&r, 1);
		op_set_iommu(&r, pick_type(&r));
		if (r.compat || h & 0x80)
			dev_open(&r, 0);
	}
	/* bounded: each operation consumes at least one byte */
	while (fz_left(&r.in) && ops++ < 256) {
		uint8_t k = fz_u8(&r.in);

		if (r.closed && k < 200)
			k = 200 + k % 40; /* only groups and DMA are left */
		if (k < 60)
			op_map(&r);
		else if (k < 100)
			op_unmap(&r);
		else if (k < 112)
			op_info(&r);
		else if (k < 130)
			op_dirty(&r);
		else if (k < 138)
			op_check_extension(&r);
		else if (k < 141)
			check_result(do_ioctl(&r, SIO_VFIO_GET_API_VERSION, 0),
				     SIO_VFIO_API_VERSION, "GET_API_VERSION");
		else if (k < 148)
			op_set_iommu(&r, pick_type(&r));
		else if (k < 152)
			op_random_cmd(&r);
		else if (k < 200)
			op_map(&r);
		else if (k < 216) {
			uint8_t s = fz_u8(&r.in);

			op_dma(&r, s % NR_DEVS, dma_iova(&r), s & 2);
		} else if (k < 232)
			op_group(&r, k);
		else if (k < 236)
			op_close(&r);
		else {
			uint8_t s = fz_u8(&r.in);

			op_dma(&r, s % NR_DEVS, dma_iova(&r), s & 2);
		}
	}
	/* as a program's exit closes them: device fds, groups, container */
	for (unsigned int d = 0; d < NR_DEVS; d++)
		dev_close(&r, d);
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		vfio_group_release(&r.pdev[d]->group);
		r.joined[d] = false;
	}
	op_close(&r);
	for (unsigned int d = 0; d < NR_DEVS; d++) {
		r.attached[d] = false;
		for (unsigned int i = 0; i < r.nm; i++)
			check_faults(&r, d, r.m[i].iova, "closed");
		check_faults(&r, d, upage(0), "closed, host address");
	}
	check_pins_released();
	fd_after = dup(0);
	close(fd_after);
	FZ_CHECK(fd_after == fd_probe, "fd leak: next fd %d, was %d", fd_after,
		 fd_probe);
	return 0;
}
