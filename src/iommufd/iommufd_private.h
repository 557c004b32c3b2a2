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
#include <stdint.h>

#include <softiommu/iommufd.h>

#include "interval_tree.h"

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
};

void iommufd_host_init(struct iommufd_host *host, struct sio_mem_bus *bus);
bool iommufd_capable(struct iommufd_host *host, unsigned int cap);

/* ------------------------------------------------------------ objects */

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_IOAS,
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
	pthread_mutex_t lock; /* the object table */
	pthread_cond_t destroy_wait;
	struct iommufd_object **objs; /* index id - 1 */
	uint32_t nr_slots;
	uint32_t nr_objs;
	uint32_t free_hint;
	/* IOPT_PAGES_ACCOUNT_USER or _MM, chosen by IOMMU_OPTION RLIMIT_MODE */
	int account_mode;
};

struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	uint64_t ubuffer;
	uint32_t user_size;
	void *cmd;
	const struct sio_iommufd_cmd *op;
};

int iommufd_ctx_create(struct iommufd_host *host, struct iommufd_ctx **out);
void iommufd_ctx_destroy(struct iommufd_ctx *ictx);
int iommufd_ctx_ioctl(struct iommufd_ctx *ictx, unsigned long cmd,
		      uint64_t arg);

/* Reserve an id for @obj (not yet visible to lookups). */
int iommufd_object_alloc(struct iommufd_ctx *ictx, struct iommufd_object *obj,
			 enum iommufd_object_type type);
/* Make a reserved object visible. */
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
/* Undo iommufd_object_alloc() and destroy the object. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
/* Look up a finalized object by id and type: a short-term reference. */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, uint32_t id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
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

/*
 * The memory behind one IOAS_MAP (or MAP_FILE): page-aligned, shared by
 * the areas IOAS_COPY makes of it.  "Pinned" means registered on the bus
 * (so the SMMU model may reach it) and counted against RLIMIT_MEMLOCK;
 * it happens when a domain or an access first needs the pages.
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

	pthread_mutex_t mutex;
	unsigned int pin_users;
};

int iopt_alloc_user_pages(struct iommufd_host *host, uint64_t uptr,
			  uint64_t length, bool writable,
			  struct iopt_pages **out);
int iopt_alloc_file_pages(struct iommufd_host *host, int fd, uint64_t start,
			  uint64_t length, bool writable,
			  struct iopt_pages **out, uint64_t *start_byte);
void iopt_get_pages_ref(struct iopt_pages *pages);
void iopt_put_pages(struct iopt_pages *pages);
/* Pin for one more user (a domain, an access); the first one pins. */
int iopt_pages_pin(struct iopt_pages *pages);
void iopt_pages_unpin(struct iopt_pages *pages);

/* ------------------------------------------------------- io_pagetable */

struct io_pagetable;

/* One mapping: a slice of a pages object at an IOVA. */
struct iopt_area {
	struct sio_itree_node node; /* [iova, last iova] */
	struct io_pagetable *iopt;
	struct iopt_pages *pages; /* NULL while being inserted or removed */
	uint64_t start_byte;	  /* offset of iova's byte from pages->uptr */
	int iommu_prot;		  /* IOMMU_READ/WRITE/CACHE as the kernel's */
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
	unsigned int nr_domains; /* domains that hold the pages pinned */
};

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

/* ---------------------------------------------------------------- ioas */

struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
};

/* The IOAS @id as a short-term reference, or NULL (ENOENT). */
struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, uint32_t id);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);
int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);

#endif /* SIO_IOMMUFD_PRIVATE_H */
