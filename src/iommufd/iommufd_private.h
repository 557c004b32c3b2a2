/* SPDX-License-Identifier: MIT */
/*
 * iommufd's private interface: the context of one /dev/iommu open, its
 * objects, and the io_pagetable behind every IOAS.  Names follow the
 * kernel's drivers/iommu/iommufd/ so a reader finds the same concepts in
 * the same places: main.c (context, objects, dispatch), ioas.c (the IOAS
 * ioctls), io_pagetable.c (areas, allowed and reserved ranges, IOVA
 * allocation), pages.c (pinning and its accounting).
 */
#ifndef SIO_IOMMUFD_PRIVATE_H
#define SIO_IOMMUFD_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <softiommu/iommufd.h>

#include "drivers/iommu_driver.h"
#include "interval_tree.h"
#include "uapi/iommufd_abi.h"

struct stat;

/* A minimal circular doubly-linked list, as the kernel's list_head. */
struct iommufd_list {
	struct iommufd_list *next, *prev;
};

static inline void iommufd_list_init(struct iommufd_list *l)
{
	l->next = l->prev = l;
}

static inline bool iommufd_list_empty(const struct iommufd_list *l)
{
	return l->next == l;
}

static inline void iommufd_list_add_tail(struct iommufd_list *n,
					 struct iommufd_list *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void iommufd_list_del_init(struct iommufd_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	iommufd_list_init(n);
}

#define iommufd_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/*
 * What iommufd needs of the machine: the bus that pinning registers user
 * memory on, the capabilities it consults, and the pin counters the
 * kernel keeps per user (user_struct) and per process (mm).  Owned by
 * the platform and shared by every context on it.
 */
struct iommufd_host {
	struct sio_mem_bus *bus;
	_Atomic unsigned int caps; /* SIO_CAP_* */
	_Atomic uint64_t user_locked_vm;
	_Atomic uint64_t mm_locked_vm;
	_Atomic uint64_t mm_pinned_vm;
	uint64_t page_size;
	unsigned int page_shift;
	/* every pages object alive (MD_CHECK_REFS, a program's munmap) */
	pthread_mutex_t pages_lock;
	struct iommufd_list pages;
	/*
	 * The selftest mock IOMMU when the platform runs in selftest mode
	 * (IOMMU_TEST_CMD answered); NULL otherwise.
	 */
	struct mock_iommu *selftest;
	/*
	 * How many pages objects are of user memory (IOAS_MAP), read without
	 * the lock so that a program's munmap costs nothing while none exist
	 * (iommufd_host_user_unmap()).
	 */
	_Atomic size_t nr_user_pages;
	_Atomic uint64_t user_top; /* iommufd_user_top(), 0 until asked */
};

void iommufd_host_init(struct iommufd_host *host, struct sio_mem_bus *bus);
/*
 * The program is about to unmap or replace [va, va + len) of its address
 * space (or, @writable_only, to take write access away from it): user
 * pages there (of writable mappings only) stop being reachable by DMA,
 * see pages.c.  Returns when no DMA can still be using them.
 */
void iommufd_host_user_unmap(struct iommufd_host *host, uint64_t va,
			     uint64_t len, bool writable_only);
bool iommufd_capable(struct iommufd_host *host, unsigned int cap);
/*
 * The end of the process's user address space (TASK_SIZE_MAX), the
 * bound access_ok() checks a user range against: UINT64_MAX where it is
 * not known.
 */
uint64_t iommufd_user_top(struct iommufd_host *host);

/* ------------------------------------------------------------ objects */

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	uint32_t id;
	enum iommufd_object_type type;
	/*
	 * users: the table's reference plus long-term holders (an HWPT on
	 * its IOAS); destroy needs it to be exactly 1.  shortterm: ioctls
	 * using the object right now; destroy waits for them to leave.
	 */
	atomic_uint users;
	atomic_uint shortterm_users;
	bool finalized;
};

struct iommufd_ctx {
	struct iommufd_host *host;
	/*
	 * The open file's references: the handle's, and one per bound
	 * device (a VFIO device keeps the iommufd alive, as the kernel's
	 * iommufd_ctx_get() does).  The last put destroys everything.
	 */
	atomic_uint refs;
	pthread_mutex_t lock; /* the object table */
	pthread_cond_t destroy_wait;
	struct iommufd_object **objs; /* index id - 1 */
	uint32_t nr_slots;
	uint32_t nr_objs;
	uint32_t free_hint;
	/*
	 * What the slot of a destroyed object holds when its id must stay
	 * taken (the kernel's tombstone: a vDEVICE whose device went): never
	 * finalized, so lookups and IOMMU_DESTROY see ENOENT; freed on close.
	 */
	struct iommufd_object tombstone;
	/* IOPT_PAGES_ACCOUNT_USER or _MM, chosen by IOMMU_OPTION RLIMIT_MODE */
	int account_mode;
	/* who gives event queues their fd numbers (none: eventfds) */
	struct sio_iommufd_file_host file_host;
	/*
	 * The IOAS the VFIO container ioctls on this fd work on (0: none),
	 * under lock; cleared when that IOAS is destroyed (vfio_compat.c).
	 */
	uint32_t vfio_ioas_id;
	/* opened in selftest mode: IOMMU_TEST_CMD's mock IOMMU, else NULL */
	struct mock_iommu *selftest;
	/* the selftest's access files, by fd (selftest_access.c) */
	pthread_mutex_t selftest_lock;
	struct iommufd_list selftest_accesses;
	/*
	 * The regions mmap() of the fd reaches (the kernel's mt_mmap), by
	 * offset, under mmap_lock.
	 */
	pthread_mutex_t mmap_lock;
	struct iommufd_list mmaps;
	/* IOMMU_TEST_OP_DMABUF_GET's dma-bufs, under selftest_lock */
	struct iommufd_list selftest_dmabufs;
};

/*
 * A dma-buf the selftest exports (IOMMU_TEST_OP_DMABUF_GET): the kernel's
 * is kernel memory behind a dma-buf file; ours is a memfd whose inode the
 * exporting context records.  IOAS_MAP_FILE on that context imports it
 * (pages.c); revoking it takes its areas out of the domains for good, as
 * the kernel's move notification does.
 */
struct iommufd_dmabuf {
	atomic_uint kref;
	int fd; /* ours: keeps the inode (and so its number) alive */
	dev_t dev;
	ino_t ino;
	uint64_t length;
	atomic_bool revoked;	  /* new imports fail ENODEV while set */
	struct iommufd_list node; /* on ictx->selftest_dmabufs */
};

/*
 * A region of a shared file that user space may mmap() on the iommufd
 * (the kernel's struct iommufd_mmap): [offset, offset + length) of the
 * fd's offsets, @fd's bytes from 0, while @owner lives.
 */
struct iommufd_mmap {
	struct iommufd_list node; /* on ictx->mmaps, by offset */
	uint64_t offset, length;
	int fd;
	struct iommufd_object *owner;
};

int iommufd_alloc_mmap(struct iommufd_ctx *ictx, struct iommufd_object *owner,
		       int fd, uint64_t length, uint64_t *offset);
void iommufd_destroy_mmap(struct iommufd_ctx *ictx,
			  struct iommufd_object *owner, uint64_t offset);
/*
 * iommufd_fops_mmap()'s lookup: the region exactly at @offset of
 * @length (-ENXIO otherwise), its file in @fd, and a long-term reference
 * on its owner in @owner for the mapping to hold until munmap.
 */
int iommufd_ctx_mmap(struct iommufd_ctx *ictx, uint64_t offset, uint64_t length,
		     int *fd, struct iommufd_object **owner);
/* The mapping is gone: the reference iommufd_ctx_mmap() took goes too. */
void iommufd_ctx_munmap(struct iommufd_object *owner);

void iommufd_dmabuf_put(struct iommufd_dmabuf *dmabuf);
/* The exported dma-buf the file @st is, with a reference; NULL if none. */
struct iommufd_dmabuf *iommufd_dmabuf_find(struct iommufd_ctx *ictx,
					   const struct stat *st);
void iommufd_dmabufs_destroy(struct iommufd_ctx *ictx);

struct mock_iommu;

struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	uint64_t ubuffer;
	uint32_t user_size;
	void *cmd;
	const struct sio_iommufd_cmd *op;
};

int iommufd_ctx_create(struct iommufd_host *host, struct iommufd_ctx **out);
void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);
int iommufd_ctx_ioctl(struct iommufd_ctx *ictx, unsigned long cmd,
		      uint64_t arg);

/* Reserve an id for @obj (not yet visible to lookups). */
int iommufd_object_alloc(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			 enum iommufd_object_type type);
/* Make a reserved object visible. */
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
/*
 * Destroy an object the kernel-side holder (a driver) owns: drop the
 * holder's reference, wait for ioctls to leave it, destroy.  -EBUSY if
 * other objects still hold it.
 */
int iommufd_object_destroy_user(struct iommufd_ctx *ictx,
				struct iommufd_object *obj);
/*
 * As iommufd_object_destroy_user(), but the id stays taken until the
 * context closes (a tombstone).
 */
int iommufd_object_tombstone_user(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj);
/* Undo iommufd_object_alloc() of an object nothing was done to; free it. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/* Undo iommufd_object_alloc() and destroy the object. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
/* Look up a finalized object by id and type: a short-term reference. */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/*
 * Take a short-term reference on @obj unless its destruction has begun
 * (the kernel's iommufd_lock_obj()); undo with iommufd_put_object().
 */
bool iommufd_lock_obj(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd);

int iommufd_destroy(struct iommufd_ucmd *ucmd);
int iommufd_option(struct iommufd_ucmd *ucmd);

/* -------------------------------------------------------------- pages */

enum {
	IOPT_PAGES_ACCOUNT_NONE,
	IOPT_PAGES_ACCOUNT_USER,
	IOPT_PAGES_ACCOUNT_MM,
};

enum iopt_pages_type {
	IOPT_ADDRESS_USER,
	IOPT_ADDRESS_FILE,
};

/* A range of page indices of a pages object, [first, last]. */
struct iopt_page_range {
	uint64_t first, last;
};

/*
 * The memory behind one IOAS_MAP (or MAP_FILE): page-aligned, shared by
 * the areas IOAS_COPY and VFIO type1 partial unmaps make of it.
 * "Pinned" means populated and counted against RLIMIT_MEMLOCK, and for
 * a domain's range registered on the bus (so the SMMU model may reach
 * it); it happens, range by range, when a domain or an access first
 * needs the pages.
 */
struct iopt_pages {
	atomic_uint kref;
	struct iommufd_host *host;
	enum iopt_pages_type type;
	uint64_t uptr;	 /* page-aligned host address of the first page */
	uint64_t npages; /* pages from uptr */
	bool writable;
	int account_mode;
	/* for MAP_FILE: our own shared mapping of the file's pages */
	void *file_map;
	uint64_t file_map_len;
	int file_fd;	     /* our reference on the file */
	uint64_t file_start; /* file offset of file_map */
	dev_t file_dev;	     /* the file, for MD_CHECK_REFS */
	ino_t file_ino;
	/*
	 * IOAS_MAP from a fork child through its inherited fd: the pages
	 * are the child's (pid remote_pid).  The bus reaches only our own
	 * memory, so the first pin makes an anonymous mapping of ours that
	 * uptr then names (remote_taken; take_remote() in pages.c), and
	 * each pin takes its range of the child's pages into it (the
	 * child's own pages where it sent their memfd, see windows, else a
	 * copy); until then uptr is the child's address.
	 */
	pid_t remote_pid;
	bool remote_taken;
	/*
	 * ... unless the child's range is MAP_SHARED memory that is ours
	 * too at the same address (sio_user_mm_shares()): then uptr is
	 * ours, and taking is only checking the child is still there.
	 */
	bool remote_shared;
	/*
	 * Pins take the child's pages range by range, as they pin them:
	 * remote_uptr is the child's address of the first page, taken the
	 * page ranges already ours (sorted, disjoint; under mutex).
	 */
	uint64_t remote_uptr;
	struct iopt_page_range *taken;
	size_t nr_taken;
	/*
	 * The memfds the child sent with its IOAS_MAP (a reference, or
	 * NULL): what it maps from them is taken as their pages, shared
	 * with the child, instead of a copy (sio_user_take()).
	 */
	struct sio_user_windows *windows;
	/*
	 * Whose pins these are, as the kernel's pages->source_mm: 0 for
	 * this process, or a fork child's pid (its IOAS_MAP, or its
	 * IOAS_CHANGE_PROCESS).  pinned_npages: what update_pinned() has
	 * counted for them, for the VmPin: a process reads.  Under mutex.
	 */
	pid_t acct_pid;
	uint64_t pinned_npages;
	/*
	 * An imported dma-buf (a reference on it), else NULL: no access
	 * pins or reads it, as the kernel's iopt_is_dmabuf() pages.  Once
	 * revoked (under mutex) the pages are never pinned or mapped again:
	 * the kernel's dmabuf.phys.len = 0.
	 */
	struct iommufd_dmabuf *dmabuf;
	bool revoked;

	pthread_mutex_t mutex;
	/*
	 * The page ranges the domains hold: one node per area index range
	 * that backs domains (area->pinned), counted per exact range, as
	 * the kernel's pages->domains_itree.  Each node's live pages are
	 * registered on the bus once, on its own behalf.  Under mutex.
	 */
	struct sio_itree domains_itree;
	/*
	 * Page ranges [first, last] the program unmapped from under the
	 * mapping (iommufd_host_user_unmap()): never registered on the bus
	 * again, so no DMA reaches what the program maps there next.
	 * Sorted and disjoint.
	 */
	struct iopt_page_range *gone;
	size_t nr_gone;
	bool all_gone; /* everything, for want of memory to say what */
	/*
	 * The page ranges accesses have pinned (struct iopt_pages_range,
	 * page indices from uptr), under mutex.  Pages in the union of
	 * these and domains_itree are populated and counted once, however
	 * many ranges cover them.
	 */
	struct sio_itree access_itree;
	struct iommufd_list host_node; /* on host->pages */
};

int iopt_alloc_user_pages(struct iommufd_host *host, uint64_t uptr,
			  uint64_t length, bool writable,
			  struct iopt_pages **out);
/*
 * @st is the caller's fstat() of @fd, which it also looked @dmabuf up by
 * (NULL: not a dma-buf): one look at the file for both.  On success the
 * pages take over the caller's reference on @dmabuf; on failure it is
 * still the caller's.
 */
int iopt_alloc_file_pages(struct iommufd_host *host, int fd,
			  const struct stat *st, uint64_t start,
			  uint64_t length, bool writable,
			  struct iommufd_dmabuf *dmabuf,
			  struct iopt_pages **out, uint64_t *start_byte);
/* Whether @pages is a revoked dma-buf: it stays out of every domain. */
bool iopt_pages_revoked(struct iopt_pages *pages);
/* Revoke @pages: off the bus now, never pinned again. */
void iopt_pages_revoke(struct iopt_pages *pages);
void iopt_get_pages_ref(struct iopt_pages *pages);
void iopt_put_pages(struct iopt_pages *pages);
/* Whether any page of [first, last] is gone (see iopt_pages.gone). */
bool iopt_pages_range_gone(struct iopt_pages *pages, uint64_t first,
			   uint64_t last);
/*
 * Pin pages [@first, @last] for the domains (one area's range, the
 * kernel's iopt_area_fill_domains()): the pages no other domain range
 * or access holds are populated (-EFAULT) and counted (-ENOMEM), and
 * the range's pages are registered on the bus.  All or nothing.  The
 * same range pinned again is one more user of it.
 */
int iopt_pages_pin(struct iopt_pages *pages, uint64_t first, uint64_t last);
/* Undo one iopt_pages_pin() of exactly [@first, @last]. */
void iopt_pages_unpin(struct iopt_pages *pages, uint64_t first, uint64_t last);
/*
 * Whether page @index (from uptr) is pinned, by a domain or an access:
 * the kernel holds one pin per pages object on such a page, which its
 * selftests count (MD_CHECK_REFS).
 */
bool iopt_pages_is_pinned(struct iopt_pages *pages, uint64_t index);
/*
 * How many pages objects have the page at user address @uaddr pinned
 * (the kernel's pin count of the page, for MD_CHECK_REFS).
 */
unsigned int iopt_pages_count_pins(struct iommufd_host *host, uint64_t uaddr);
/*
 * The pages pinned on @host for process @pid (0: this one), as its
 * /proc/<pid>/status VmPin: counts them, in bytes.
 */
uint64_t iommufd_host_pinned_bytes(struct iommufd_host *host, pid_t pid);
/* IOAS_CHANGE_PROCESS: @pages are now the calling process's to account */
void iopt_pages_change_process(struct iopt_pages *pages);
/* The same for the page at offset @off of file (@dev, @ino). */
unsigned int iopt_pages_count_file_pins(struct iommufd_host *host, dev_t dev,
					ino_t ino, uint64_t off);

/* ------------------------------------------------------- io_pagetable */

struct io_pagetable;

/* One mapping: a slice of a pages object at an IOVA. */
struct iopt_area {
	struct sio_itree_node node; /* [iova, last iova] */
	struct io_pagetable *iopt;
	struct iopt_pages *pages; /* NULL while being inserted or removed */
	uint64_t start_byte;	  /* offset of iova's byte from pages->uptr */
	int iommu_prot;		  /* IOMMU_READ/WRITE/CACHE as the kernel's */
	bool pinned; /* its pages' index range is pinned for the domains */
	/*
	 * Access pins made through this area: changed under pages->mutex
	 * with iova_rwsem read-held, so write-holding iova_rwsem alone
	 * reads it stably (unmap does).
	 */
	unsigned int num_accesses;
	/*
	 * Of those, the pins of internal accesses (a HW queue's memory),
	 * which cannot be told to go: unmap is EBUSY while any is held, as
	 * the kernel's area->num_locks.  Changed and read as num_accesses.
	 */
	unsigned int num_locks;
	/* being unmapped: no new access pin or rw (written under iova_rwsem) */
	bool prevent_access;
};

#define IOMMU_READ  (1 << 0)
#define IOMMU_WRITE (1 << 1)
#define IOMMU_CACHE (1 << 2)

struct iopt_allowed {
	struct sio_itree_node node;
};

struct iopt_reserved {
	struct sio_itree_node node;
	const void *owner;
};

struct io_pagetable {
	pthread_rwlock_t iova_rwsem;
	struct sio_itree area_itree;
	struct sio_itree allowed_itree;
	struct sio_itree reserved_itree;
	uint64_t iova_alignment;
	bool disable_large_pages;
	/* the paging domains every area is mapped into */
	struct sio_iommu_domain **domains;
	unsigned int nr_domains;
	unsigned int domains_cap;
	uint64_t host_page_size; /* the alignment large pages off demands */
	/*
	 * The accesses attached, by slot (the kernel's access_list xarray):
	 * changed with iova_rwsem write-held and access_lock held, so
	 * either lock is enough to read them.  NULL slots are free.
	 */
	pthread_mutex_t access_lock;
	struct iommufd_access **accesses;
	unsigned int accesses_cap;
};

static inline uint64_t iopt_area_iova(const struct iopt_area *area)
{
	return area->node.start;
}

static inline uint64_t iopt_area_last_iova(const struct iopt_area *area)
{
	return area->node.last;
}

/* The offset of @iova's byte from pages->uptr. */
static inline uint64_t iopt_area_start_byte(const struct iopt_area *area,
					    uint64_t iova)
{
	return area->start_byte + (iova - iopt_area_iova(area));
}

/*
 * The index of the page of @pages that @iova's byte lies in.  @pages
 * passed, not area->pages: an area being inserted has none yet.
 */
static inline uint64_t iopt_area_iova_to_index(const struct iopt_area *area,
					       const struct iopt_pages *pages,
					       uint64_t iova)
{
	return iopt_area_start_byte(area, iova) >> pages->host->page_shift;
}

/*
 * Walking the areas that cover [iova, last_iova] back to back (the
 * kernel's iopt_for_each_contig_area()), iova_rwsem held: the walk
 * stops at a hole or at an area being inserted or removed, and
 * iopt_area_contig_done() says whether it reached last_iova.
 */
struct iopt_area_contig_iter {
	uint64_t cur_iova;
	uint64_t last_iova;
	struct iopt_area *area;
};

struct iopt_area *iopt_area_contig_init(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt,
					uint64_t iova, uint64_t last_iova);
struct iopt_area *iopt_area_contig_next(struct iopt_area_contig_iter *iter,
					struct io_pagetable *iopt);

static inline bool
iopt_area_contig_done(const struct iopt_area_contig_iter *iter)
{
	return iter->area && iter->last_iova <= iopt_area_last_iova(iter->area);
}

#define iopt_for_each_contig_area(iter, area, iopt, iova, last_iova) \
	for ((area) = iopt_area_contig_init((iter), (iopt), (iova),  \
					    (last_iova));            \
	     (area); (area) = iopt_area_contig_next((iter), (iopt)))

#define IOPT_ALLOC_IOVA (1u << 0)

void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			uint64_t *iova, uint64_t uptr, uint64_t length,
			int iommu_prot, unsigned int flags);
int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			uint64_t *iova, int fd, uint64_t start, uint64_t length,
			int iommu_prot, unsigned int flags);

/* A list of page slices, for IOAS_COPY. */
struct iopt_pages_list {
	struct iopt_pages *pages;
	uint64_t start_byte;
	uint64_t length;
};

int iopt_get_pages(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_list **list, unsigned int *nr);
void iopt_revoke_dmabuf(struct io_pagetable *iopt,
			struct iommufd_dmabuf *dmabuf);
void iopt_free_pages_list(struct iopt_pages_list *list, unsigned int nr);
int iopt_map_pages(struct io_pagetable *iopt, struct iopt_pages_list *list,
		   unsigned int nr, uint64_t length, uint64_t *dst_iova,
		   int iommu_prot, unsigned int flags);
int iopt_unmap_iova(struct io_pagetable *iopt, uint64_t iova, uint64_t length,
		    uint64_t *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, uint64_t *unmapped);
/* Replace the allowed list with @allowed's nodes; on success swaps. */
int iopt_set_allow_iova(struct io_pagetable *iopt, struct sio_itree *allowed);
void iopt_free_itree(struct sio_itree *t);
int iopt_reserve_iova(struct io_pagetable *iopt, uint64_t start, uint64_t last,
		      const void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, const void *owner);
int iopt_disable_large_pages(struct io_pagetable *iopt, uint64_t page_size);
void iopt_enable_large_pages(struct io_pagetable *iopt, uint64_t page_size);
/*
 * Split the areas holding each of @iovas so that one ends at it (the
 * kernel's iopt_cut_iova(), for VFIO type1 unmaps inside a mapping).
 */
int iopt_cut_iova(struct io_pagetable *iopt, const uint64_t *iovas,
		  unsigned int num);
/*
 * Add a paging domain: reserve what lies outside its aperture, raise the
 * IOVA alignment to its smallest page, pin and map every area into it.
 */
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct sio_iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct sio_iommu_domain *domain);
/* Reserve the device's reserved regions in the IOAS (owner @owner). */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct sio_iommu_dev *iommu,
					uint32_t sid, const void *owner);
int iopt_set_dirty_tracking(struct io_pagetable *iopt,
			    struct sio_iommu_domain *domain, bool enable);
/*
 * IOMMU_HWPT_GET_DIRTY_BITMAP's work on the IOAS behind @domain: @flags
 * are SIO_DIRTY_*, @data the user's bitmap.
 */
int iopt_read_and_clear_dirty_data(struct io_pagetable *iopt,
				   struct sio_iommu_domain *domain,
				   unsigned int flags, uint64_t iova,
				   uint64_t length, uint64_t page_size,
				   uint64_t data);

/*
 * Access pins of the pages behind @area (the kernel's pages.c side of
 * iommufd_access_pin_pages()): page indices [@start_index, @last_index]
 * of area->pages, populated (-EFAULT) and counted against
 * RLIMIT_MEMLOCK (-ENOMEM) unless already pinned; @out_pages gets each
 * page's host address.  Remove must repeat the exact range.  iova_rwsem
 * read-held by the caller.
 */
int iopt_area_add_access(struct iopt_area *area, uint64_t start_index,
			 uint64_t last_index, void **out_pages,
			 unsigned int flags);
/* iopt_area_add_access() flag: the pin locks the area (internal access) */
#define IOPT_ACCESS_LOCK_AREA (1u << 31)
void iopt_area_remove_access(struct iopt_area *area, bool locked,
			     uint64_t start_index, uint64_t last_index);
/*
 * Copy @length bytes at @start_byte of @pages to or from @data
 * (IOMMUFD_ACCESS_RW_* flags), as the CPU would: -EPERM for a write to
 * read-only pages, -EFAULT where the memory is gone.
 */
int iopt_pages_rw_access(struct iopt_pages *pages, uint64_t start_byte,
			 void *data, uint64_t length, unsigned int flags);

struct iommufd_access;

/* Attach @access: the IOAS alignment takes its own into account. */
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access);
void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access, uint32_t list_id);

/* ---------------------------------------------------------------- ioas */

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	pthread_mutex_t mutex;	       /* hwpt_list */
	struct iommufd_list hwpt_list; /* its paging HWPTs */
};

/* The IOAS @id as a short-term reference, or NULL (ENOENT). */
struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
/* A new empty IOAS, id reserved but not yet finalized. */
int iommufd_ioas_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas **out);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);

/* ---------------------------------------------------------------- hwpt */

struct iommufd_fault;

struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct sio_iommu_domain *domain;
	struct iommufd_fault *fault; /* held; NULL without a fault queue */
	/* allocated with IOMMU_HWPT_ALLOC_PASID: may serve PASIDs */
	bool pasid_compat;
	pthread_mutex_t handles_lock;
	struct iommufd_list handles; /* devices attached, with a fault */
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	struct iommufd_list hwpt_item; /* on ioas->hwpt_list once filled */
	bool auto_domain;
	bool nest_parent;
};

static inline struct iommufd_hwpt_paging *
to_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	if (!hwpt || hwpt->obj.type != IOMMUFD_OBJ_HWPT_PAGING)
		return NULL;
	return (struct iommufd_hwpt_paging *)hwpt;
}

struct iommufd_viommu;

/*
 * A nested HWPT: a user-owned stage 1 over a parent paging HWPT, made
 * through a vIOMMU (which holds the parent for it).
 */
struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu;
};

static inline struct iommufd_hwpt_nested *
to_hwpt_nested(struct iommufd_hw_pagetable *hwpt)
{
	if (!hwpt || hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
		return NULL;
	return (struct iommufd_hwpt_nested *)hwpt;
}

/* The paging HWPT a HWPT translates through: itself, or its parent. */
static inline struct iommufd_hwpt_paging *
find_hwpt_paging(struct iommufd_hw_pagetable *hwpt)
{
	struct iommufd_hwpt_nested *nested = to_hwpt_nested(hwpt);

	return nested ? nested->parent : to_hwpt_paging(hwpt);
}

struct iommufd_device;

/* Allocate (not finalized) a paging HWPT on @ioas; ioas->mutex held. */
int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx,
			      struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags,
			      struct iommufd_hwpt_paging **out);
/* The same with driver data (@data NULL or of type NONE: none). */
int iommufd_hwpt_paging_alloc_data(struct iommufd_ctx *ictx,
				   struct iommufd_ioas *ioas,
				   struct iommufd_device *idev, uint32_t flags,
				   const struct sio_iommu_user_data *data,
				   struct iommufd_hwpt_paging **out);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
/* Undo iommufd_hwpt_paging_alloc() before finalizing; ioas->mutex held. */
void iommufd_hwpt_paging_abort(struct iommufd_ctx *ictx,
			       struct iommufd_hwpt_paging *hwpt_paging);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
/* Drop a reference; an auto domain nobody uses any more is destroyed. */
void iommufd_hw_pagetable_put(struct iommufd_ctx *ictx,
			      struct iommufd_hw_pagetable *hwpt);

/* -------------------------------------------------------------- device */

/*
 * A device on the platform, as the IOMMU core sees it: the IOMMU it is
 * behind, its StreamID, and who owns its DMA (the kernel's DMA owner
 * claim: one iommufd context at a time).
 */
struct iommufd_dev_desc {
	struct sio_iommu_dev *iommu;
	uint32_t sid;
	/*
	 * Its PCI PASID and ATS capabilities, and the PASID bits it may
	 * use behind its IOMMU (the kernel's dev->iommu->max_pasids as a
	 * log2; 0: no PASIDs).
	 */
	struct sio_iommu_pci_caps pci;
	unsigned int max_pasid_bits;
	/*
	 * A selftest mock device: its binding takes no reference on the
	 * context, whose own object (the selftest's stdev) holds it (the
	 * kernel's iommufd_selftest_is_mock_dev()).
	 */
	bool selftest;
	pthread_mutex_t owner_lock;
	struct iommufd_ctx *owner;
	unsigned int owner_cnt;
};

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_dev_desc *dev;
	pthread_mutex_t lock; /* hwpt, vdev (the kernel's igroup->lock) */
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_vdevice *vdev; /* its one vDEVICE, if any */
	bool destroying;	      /* being unbound: no new vDEVICE */
	struct iommufd_list pasids;   /* its PASID attachments, under lock */
};

/* A PASID of a device attached to an HWPT (the kernel's pasid_attach). */
struct iommufd_pasid_attach {
	struct iommufd_list node; /* on idev->pasids */
	uint32_t pasid;
	struct iommufd_hw_pagetable *hwpt; /* held */
};

/* Bind @dev to @ictx (the kernel's iommufd_device_bind()). */
int iommufd_device_bind(struct iommufd_ctx *ictx, struct iommufd_dev_desc *dev,
			uint32_t *id, struct iommufd_device **out);
/* Detach if attached, then destroy the device object. */
void iommufd_device_unbind(struct iommufd_device *idev);
/* Attach to an IOAS (auto domain) or a paging HWPT; *@pt_id gets the HWPT. */
int iommufd_device_attach(struct iommufd_device *idev, uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
/*
 * The same for PASID @pasid of the device (never 0, the RID): the
 * kernel's iommufd_device_attach/replace/detach() with a pasid.  Only
 * HWPTs allocated with IOMMU_HWPT_ALLOC_PASID serve a PASID, and only
 * while the RID's HWPT was too (EINVAL); a PASID attached already is
 * EBUSY to attach and one not attached EINVAL to replace; detach of a
 * PASID not attached does nothing.
 */
int iommufd_device_pasid_attach(struct iommufd_device *idev, uint32_t pasid,
				uint32_t *pt_id);
int iommufd_device_pasid_replace(struct iommufd_device *idev, uint32_t pasid,
				 uint32_t *pt_id);
void iommufd_device_pasid_detach(struct iommufd_device *idev, uint32_t pasid);
/*
 * The domain PASID @pasid of @idev is attached to, or NULL: what the
 * kernel's selftest asks the core (iommu_get_domain_for_dev_pasid()).
 * Only to compare: nothing holds the domain once this returns.
 */
struct sio_iommu_domain *
iommufd_device_pasid_domain(struct iommufd_device *idev, uint32_t pasid);
void iommufd_device_destroy(struct iommufd_object *obj);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);
void iommufd_dev_desc_init(struct iommufd_dev_desc *dev,
			   struct sio_iommu_dev *iommu, uint32_t sid);
void iommufd_dev_desc_destroy(struct iommufd_dev_desc *dev);
/* The device's PCI capabilities, told to its IOMMU (probe_device). */
void iommufd_dev_desc_set_pci_caps(struct iommufd_dev_desc *dev,
				   const struct sio_iommu_pci_caps *caps);

/* -------------------------------------------------------------- viommu */

/*
 * A vIOMMU: the IOMMU instance a VMM shows its guest, on a NEST_PARENT
 * paging HWPT (held), with the guest's IDs for its devices (vDEVICEs).
 */
struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct sio_iommu_dev *iommu_dev;
	struct iommufd_hwpt_paging *hwpt;
	struct sio_iommu_viommu *drv;
	uint32_t type;
	pthread_mutex_t vdevs_lock;
	struct iommufd_list vdevs;
	/* its vEVENTQs, one per type; read-held while an event is queued */
	pthread_rwlock_t veventqs_rwsem;
	struct iommufd_list veventqs;
};

/* A device as a vIOMMU's guest knows it: its virtual ID (vSID for SMMUv3). */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_viommu *viommu; /* held */
	/* a short-term reference: unbinding waits for the vDEVICE to go */
	struct iommufd_device *idev;
	uint64_t virt_id;
	struct iommufd_list item; /* on viommu->vdevs */
};

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
/* Unbinding @idev: its vDEVICE is destroyed, its id left a tombstone. */
void iommufd_device_remove_vdev(struct iommufd_device *idev);
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_hw_queue_destroy(struct iommufd_object *obj);

/* -------------------------------------------------------------- eventq */

/*
 * What an event queue object and its file share: the records waiting to
 * be read, and how a reader waiting on the file is told of them.
 */
struct iommufd_eventq {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	pthread_mutex_t lock;
	struct iommufd_list deliver;
	void (*notify)(void *arg, bool readable); /* the embedder's file */
	void *notify_arg;
	int efd; /* without a file host: our fd on the user's eventfd */
};

struct iommufd_vevent {
	struct iommufd_list node;
	struct sio_iommufd_vevent_header header;
	size_t data_len; /* 0: the lost-events record */
	uint8_t event_data[];
};

struct iommufd_veventq {
	struct iommufd_eventq common;
	struct iommufd_viommu *viommu; /* held */
	struct iommufd_list node;      /* on viommu->veventqs */
	uint32_t type;
	uint32_t depth;
	uint32_t num_events; /* common.lock */
	uint32_t sequence;   /* common.lock; wraps at INT_MAX */
	/* on the list (last) while events are being lost */
	struct iommufd_vevent lost_events_header;
};

int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
void iommufd_veventq_destroy(struct iommufd_object *obj);
/* The vIOMMU's queue of @type; veventqs_rwsem held. */
struct iommufd_veventq *
iommufd_viommu_find_veventq(struct iommufd_viommu *viommu, uint32_t type);
/*
 * Queue an event of @type for the user (the kernel's
 * iommufd_viommu_report_event()): -EOPNOTSUPP without a vEVENTQ of that
 * type; a full queue records the loss instead.
 */
int iommufd_viommu_report_event(struct iommufd_viommu *viommu, uint32_t type,
				const void *data, size_t len);

/* The file's operations; user buffers as the uAPI reads and writes them. */
ssize_t iommufd_eventq_read(struct iommufd_eventq *eventq, uint64_t ubuf,
			    size_t len);
ssize_t iommufd_eventq_write(struct iommufd_eventq *eventq, uint64_t ubuf,
			     size_t len);
unsigned int iommufd_eventq_poll(struct iommufd_eventq *eventq);
void iommufd_eventq_set_notify(struct iommufd_eventq *eventq,
			       void (*fn)(void *arg, bool readable), void *arg);
/* The file's last close: its references on the object and context go. */
void iommufd_eventq_release(struct iommufd_eventq *eventq);
void iommufd_ctx_set_file_host(struct iommufd_ctx *ictx,
			       const struct sio_iommufd_file_host *host);
/* read() (or write()) of the event queue object @id, without a file host */
ssize_t iommufd_eventq_rw_by_id(struct iommufd_ctx *ictx, uint32_t id,
				void *buf, size_t len, bool write);

/*
 * A fault queue (IOMMU_FAULT_QUEUE_ALLOC): the I/O page faults of the
 * devices attached to HWPTs allocated with it, read from its file and
 * answered by writing to it.
 */
struct iommufd_fault {
	struct iommufd_eventq common; /* deliver: faults not yet read */
	pthread_mutex_t mutex;	      /* response, next_cookie */
	struct iommufd_list response; /* read, waiting for their answer */
	uint32_t next_cookie;
};

/* A device attached to an HWPT with a fault queue (the kernel's handle). */
struct iommufd_attach_handle {
	struct iommufd_list node; /* on hwpt->handles */
	struct iommufd_device *idev;
	uint32_t pasid; /* the attach it stands for: 0 is the RID's */
};

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
void iommufd_fault_destroy(struct iommufd_object *obj);
/* The HWPT takes its faults to @fault (held); before it is attached. */
void iommufd_hwpt_set_fault(struct iommufd_hw_pagetable *hwpt,
			    struct iommufd_fault *fault);
void iommufd_hwpt_put_fault(struct iommufd_hw_pagetable *hwpt);
/*
 * Before attaching @idev's RID (@pasid 0) or PASID @pasid to @hwpt: its
 * faults through that attach have a home.
 */
int iommufd_fault_add_handle(struct iommufd_hw_pagetable *hwpt,
			     struct iommufd_device *idev, uint32_t pasid);
void iommufd_fault_remove_handle(struct iommufd_hw_pagetable *hwpt,
				 struct iommufd_device *idev, uint32_t pasid);

/* ------------------------------------------------------------ selftest */

/* IOMMU_TEST_CMD (selftest.c); only for a context in selftest mode. */
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);
/*
 * Whether output address @pa is the memory at user address @uaddr: the
 * same address, or the same page frame (a file pinned through our own
 * mapping of it).
 */
bool iommufd_selftest_same_memory(struct iommufd_host *host, uint64_t pa,
				  uint64_t uaddr);
/*
 * Whether the user's page at @uaddr exists (the kernel's get_user_pages()
 * of one page, which is no fault point): 0 or -EFAULT.
 */
int iommufd_selftest_probe_user(uint64_t uaddr);
/* The ACCESS ops (selftest_access.c), and the access file's last close. */
int iommufd_test_create_access(struct iommufd_ucmd *ucmd);
int iommufd_test_access_pages(struct iommufd_ucmd *ucmd);
int iommufd_test_access_item_destroy(struct iommufd_ucmd *ucmd);
int iommufd_test_access_rw(struct iommufd_ucmd *ucmd);
int iommufd_test_access_replace_ioas(struct iommufd_ucmd *ucmd);
void iommufd_selftest_file_release(struct iommufd_object *file_obj);
/* -------------------------------------------------------------- access */

/*
 * An access: an in-library user of an IOAS that has no IOMMU domain (an
 * emulated or mediated device, the selftests' CREATE_ACCESS), reading
 * and writing through IOVAs with the CPU, as the kernel's struct
 * iommufd_access.  There is no uAPI for it; the object table holds it
 * only so ids and destruction work as for every object (IOMMU_DESTROY
 * of its id is EBUSY while its creator holds it).
 *
 * A pinned page here is a host virtual address: the page-aligned
 * address of each PAGE_SIZE page (sysconf(_SC_PAGESIZE)) backing the
 * IOVA range, populated with the access the mapping allows and counted
 * against RLIMIT_MEMLOCK like a domain's pin (once: pages a domain or
 * another access already pinned are not counted again).  The pointer
 * may be dereferenced until the matching iommufd_access_unpin_pages().
 */
struct iommufd_access_ops {
	/* the access pins pages: IOAS alignment becomes at least PAGE_SIZE */
	bool needs_pin_pages;
	/*
	 * [iova, iova + length - 1] is being unmapped (or, length U64_MAX
	 * from 0, the access is leaving its IOAS): unpin every range
	 * pinned inside it before returning.  Called with no iommufd lock
	 * held, possibly from another thread than the one that pinned.
	 */
	void (*unmap)(void *data, uint64_t iova, uint64_t length);
	/*
	 * An internal access (the kernel's iommufd_access_create_internal(),
	 * for a HW queue's memory): no unmap callback; its pins lock their
	 * areas, which unmap then refuses with EBUSY.
	 */
	bool internal;
};

/* flags of iommufd_access_pin_pages() and iommufd_access_rw() */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = 1 << 0,
	/* the caller is a thread of its own (kernel: kthread_use_mm()) */
	IOMMUFD_ACCESS_RW_KTHREAD = 1 << 1,
	/* selftest only: go through the pinning path, not a plain copy */
	IOMMUFD_ACCESS_RW_SLOW_PATH = 1 << 2,
};

struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx; /* held */
	const struct iommufd_access_ops *ops;
	void *data;
	uint64_t iova_alignment; /* PAGE_SIZE with needs_pin_pages, else 1 */
	/*
	 * ioas: where pin and rw go, NULL while changing; ioas_unpin: where
	 * unpin goes, which stays the old IOAS until its unmap callback
	 * has run.  Both under ioas_lock; each attached IOAS is held.
	 */
	pthread_mutex_t ioas_lock;
	struct iommufd_ioas *ioas;
	struct iommufd_ioas *ioas_unpin;
	uint32_t iopt_access_list_id; /* its slot in ioas->iopt.accesses */
};

/*
 * Create an access on @ictx (held until it is destroyed): 0 with *@id
 * and *@out, or -ENOMEM, -ENOSPC.  @ops must outlive it.
 */
int iommufd_access_create(struct iommufd_ctx *ictx,
			  const struct iommufd_access_ops *ops, void *data,
			  uint32_t *id, struct iommufd_access **out);
/* Detach if attached (ops->unmap first), then destroy; no call may race. */
void iommufd_access_destroy(struct iommufd_access *access);
void iommufd_access_destroy_object(struct iommufd_object *obj);
/*
 * Attach to IOAS @ioas_id: -EINVAL if attached, -ENOENT if no such IOAS,
 * -EADDRINUSE if an area does not meet the access's alignment.
 */
int iommufd_access_attach(struct iommufd_access *access, uint32_t ioas_id);
/*
 * Move to IOAS @ioas_id (the same one: nothing happens): -ENOENT if not
 * attached or no such IOAS, -EBUSY while another change is under way.
 * The old IOAS's ops->unmap(0, U64_MAX) runs before it is let go.
 */
int iommufd_access_replace(struct iommufd_access *access, uint32_t ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
/*
 * Pin the pages behind [iova, iova + length - 1]: @out_pages gets one
 * host address per page.  The range must start on a page and run over
 * areas that meet on page boundaries.  -EINVAL (length 0, an access
 * without needs_pin_pages or unmap, misaligned, being unmapped),
 * -EOVERFLOW, -ENOENT (not attached, a hole), -EPERM (the mapping lacks
 * the access @flags asks for), -EFAULT, -ENOMEM.  Nothing stays pinned
 * on failure.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, uint64_t iova,
			     uint64_t length, void **out_pages,
			     unsigned int flags);
/* Undo one iommufd_access_pin_pages() of exactly this range. */
void iommufd_access_unpin_pages(struct iommufd_access *access, uint64_t iova,
				uint64_t length);
/*
 * Copy @length bytes between @data and the IOVA range, at any byte
 * alignment and across areas: IOMMUFD_ACCESS_RW_WRITE writes the IOAS.
 * -EINVAL, -EOVERFLOW, -ENOENT, -EPERM as pin, -EFAULT where the memory
 * is not mapped (or @data is bad), -ENOMEM (slow path over the limit).
 */
int iommufd_access_rw(struct iommufd_access *access, uint64_t iova, void *data,
		      size_t length, unsigned int flags);
/*
 * Tell every access of @iopt that [iova, iova + length - 1] is going
 * away (the kernel's iommufd_access_notify_unmap()); no iopt lock held.
 */
void iommufd_access_notify_unmap(struct io_pagetable *iopt, uint64_t iova,
				 uint64_t length);

/* --------------------------------------------------------- vfio_compat */

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);
/*
 * The VFIO container ioctls on an iommufd fd: those the command table
 * does not hold come here.  A result >= 0, -errno, -ENOTTY if unknown.
 */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			uint64_t arg);
/* A group joined this fd as its container: make sure a compat IOAS exists. */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, uint32_t *id);
/* IOMMU_DESTROY of object @id: forget it as the compat IOAS. */
void iommufd_vfio_compat_forget(struct iommufd_ctx *ictx, uint32_t id);

#endif /* SIO_IOMMUFD_PRIVATE_H */
