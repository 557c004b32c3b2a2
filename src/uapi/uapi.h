/* SPDX-License-Identifier: MIT */
/*
 * The uAPI layer's private interface: user-memory access that turns a bad
 * pointer into -EFAULT instead of a crash, and the kernel's rules for
 * extensible ioctl structs.
 */
#ifndef SIO_UAPI_H
#define SIO_UAPI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Call at the start of every uAPI call, before its first user copy:
 * makes sure the fault fixup that turns a bad user pointer into -EFAULT
 * is in front of any SIGSEGV/SIGBUS handler the program installed since.
 */
void sio_user_begin(void);

/*
 * For a caller that sees every change the program makes to its SIGSEGV
 * and SIGBUS handlers (the interposer, which wraps libc's sigaction and
 * signal): once it says so, sio_user_begin() checks the handlers again
 * only after such a change, instead of on every call.  It brackets each
 * change with begin/end; a change made past it (a raw rt_sigaction
 * syscall) goes unseen.
 */
void sio_user_watch_signals(void);
void sio_user_signal_change_begin(void);
void sio_user_signal_change_end(void);

/*
 * Copy to or from the caller's memory at @uaddr.  Every byte must be
 * mapped with the access needed: 0, or -EFAULT (nothing is known to have
 * been copied then).  A length of 0 always succeeds.
 */
int sio_user_read(void *dst, uint64_t uaddr, size_t len);
int sio_user_write(uint64_t uaddr, const void *src, size_t len);

/*
 * The calling thread's "current mm" (the kernel's current->mm) that
 * sio_user_read/write reach: 0, our own memory, or the pid of another
 * process whose call this thread runs (a fork child's call on an
 * inherited iommufd fd).  set returns the previous one.
 */
pid_t sio_user_set_mm(pid_t pid);
pid_t sio_user_mm(void);
/*
 * Whether [uaddr, uaddr + len) of process @pid is the same pages as ours
 * at the same address: one shared mapping of the same object and offset
 * in both (MAP_SHARED memory a fork child inherited), from their
 * /proc/<pid>/maps.
 */
bool sio_user_mm_shares(pid_t pid, uint64_t uaddr, uint64_t len);
/* Read @len bytes at @uaddr of process @pid: 0 or -EFAULT (also if gone). */
int sio_user_copy_from_mm(pid_t pid, void *dst, uint64_t uaddr, size_t len);

/*
 * user_maps.c: a process's mappings, from /proc/<pid>/maps, the one
 * reader of that file for every layer.  One line of it:
 */
struct sio_user_maps_line {
	uint64_t start, end; /* [start, end), never empty */
	char perms[5];	     /* "rwxp": r, w, x or '-', then s(hared) or p */
	uint64_t pgoff;	     /* the file offset of start */
	unsigned int maj, min;
	uint64_t inode;	  /* 0: no file (anonymous memory) */
	const char *path; /* in the line: the rest after the padding, or "" */
};

/*
 * @line, NUL-terminated without its newline (or the newline is taken
 * for part of the path), into *@l: false if it is not a mapping's line.
 * l->path points into @line.
 */
bool sio_user_maps_parse(const char *line, struct sio_user_maps_line *l);

/* How a walk opens, reads and closes the file (tests give their own). */
struct sio_user_maps_io {
	int (*open)(const char *path, int flags, ...);
	ssize_t (*read)(int fd, void *buf, size_t len);
	int (*close)(int fd);
};

/* One mapping; true ends the walk. */
typedef bool (*sio_user_maps_fn)(const struct sio_user_maps_line *l, void *arg);

/*
 * Each mapping of process @pid (0: ours, /proc/self/maps) to @fn in
 * address order, until @fn returns true, through @io (NULL: the system
 * calls themselves, so that inside the interposer, whose open() and
 * read() are the program's entry points, no walk goes through them).
 * Safe where stdio and malloc are not (an atfork handler):
 * the file is read into a buffer on the stack, so a line longer than
 * 4 KiB (a path that long) comes with its path cut short.  Lines that
 * do not parse are skipped.  0, or -errno if the file cannot be opened
 * or read (after @fn saw the lines before the error).
 */
int sio_user_maps_walk(pid_t pid, const struct sio_user_maps_io *io,
		       sio_user_maps_fn fn, void *arg);

/*
 * The mapping of process @pid (0: ours) that holds @addr, into *@l, its
 * path copied into @path (@path_size bytes, cut short if need be; NULL
 * for none: l->path is then ""): false if none does.
 */
bool sio_user_maps_find(pid_t pid, uint64_t addr, struct sio_user_maps_line *l,
			char *path, size_t path_size);

/*
 * user_window.c: windows, memfds a fork child sent with its call whose
 * pages are its memory (it maps them MAP_SHARED), mapped by us too.  A
 * set holds up to @max of them and is referenced: the call's, and each
 * pages object made in it.  add maps @fd (which stays the caller's): a
 * regular file, sealed against shrinking (-EPERM otherwise, as our
 * mapping past its end would fault), of a whole number of pages; 0 or
 * -errno.
 */
struct sio_user_windows;
/* The child's memfds' names start so, as /proc/<pid>/maps shows them. */
#define SIO_USER_WINDOW_NAME	    "softiommu-fork-dma"
#define SIO_USER_WINDOW_MAPS_PREFIX "/memfd:" SIO_USER_WINDOW_NAME
struct sio_user_windows *sio_user_windows_new(unsigned int max);
int sio_user_windows_add(struct sio_user_windows *ws, int fd);
void sio_user_windows_put(struct sio_user_windows *ws); /* NULL: nothing */
/*
 * The calling thread's windows, with its current mm (sio_user_set_mm()):
 * set returns the previous ones; get_current a reference, or NULL.
 */
struct sio_user_windows *sio_user_set_windows(struct sio_user_windows *ws);
struct sio_user_windows *sio_user_windows_get_current(void);
/*
 * Take process @pid's [uaddr, uaddr + len) into our @dst (page-aligned,
 * our anonymous memory): each piece @pid maps at this moment from one
 * of @ws's windows, with the access a pin needs (readable, and writable
 * for @write), becomes a mapping of the window's pages, so @dst and the
 * child share them; the rest is copied.  0, or -EFAULT where a copy
 * faults (the child is gone, a piece is not mapped or not readable),
 * -ENOMEM; on failure @dst holds no window's pages.
 */
int sio_user_take(pid_t pid, struct sio_user_windows *ws, uint64_t uaddr,
		  uint64_t len, bool write, void *dst);

/*
 * Fault in every page of [uaddr, uaddr + len) by touching it: a load, or
 * with @write a write that changes nothing.  0, -EFAULT where the access
 * would raise SIGSEGV or SIGBUS (as MADV_POPULATE_* reports it), or
 * -EOPNOTSUPP where this cannot be done safely (then use madvise).
 * Cheaper than a syscall for a few pages; the kernel's populate walk is
 * cheaper for many.
 */
int sio_user_touch(uint64_t uaddr, uint64_t len, bool write);

/*
 * Trapped MMIO (mmio_trap.c): stores to [addr, addr + len), which the
 * caller has mapped read-only, reach @fn as register writes (offset from
 * addr, 1/2/4/8 bytes, value) from the faulting thread, and the program
 * resumes after its store.  Loads are not trapped.  0, -EOPNOTSUPP where
 * stores cannot be trapped (no fault fixup on this machine), -ENOSPC.
 * remove: true with *@len and *@opaque if @addr had a trap; returns once
 * no handler is still calling its @fn.  find: a trap overlapping
 * [first, last].
 */
typedef void (*sio_user_trap_fn)(void *opaque, uint64_t off, unsigned int size,
				 uint64_t val);
int sio_user_trap_add(void *addr, size_t len, sio_user_trap_fn fn,
		      void *opaque);
bool sio_user_trap_remove(void *addr, size_t *len, void **opaque);
bool sio_user_trap_find(uintptr_t first, uintptr_t last, void **addr,
			size_t *len);

/* user.c: our fault handler in front of the program's, or false. */
bool sio_user_fault_handler_armed(void);
/* mmio_trap.c, from that handler: true if the fault was a trapped store. */
bool sio_mmio_trap_fault(siginfo_t *info, void *uctx);

/* 1 if all of [uaddr, uaddr + len) reads as zero, 0 if not, or -EFAULT. */
int sio_user_is_zero(uint64_t uaddr, size_t len);

/*
 * The kernel's copy_struct_from_user(): @usize bytes of a struct the
 * caller built against its header, into @ksize bytes we know.  A shorter
 * user struct is zero-extended; a longer one must have a zero tail
 * (-E2BIG otherwise).  0, -E2BIG or -EFAULT.
 */
int sio_user_struct_in(void *kbuf, size_t ksize, uint64_t uaddr, size_t usize);

/* One iommufd command: its number, and the sizes the kernel's table has. */
struct sio_iommufd_cmd {
	unsigned int cmd;
	uint32_t min_size; /* offsetofend of its last mandatory field */
	uint32_t size;	   /* the whole struct as we know it */
};

/* The command @cmd names, or NULL when it is not an iommufd command. */
const struct sio_iommufd_cmd *sio_iommufd_cmd_find(unsigned int cmd);

/*
 * The front half of an iommufd ioctl, in the kernel's order: the command
 * number (-ENOTTY), the user's size word (-EFAULT), the exact command
 * (-ENOTTY), the minimum size (-EINVAL), then the struct itself into
 * @kbuf (at least the command's size; -E2BIG, -EFAULT).  0 with *@usize
 * and *@op set.
 */
int sio_iommufd_ucmd_in(unsigned int cmd, uint64_t uarg, void *kbuf,
			size_t kbuf_size, const struct sio_iommufd_cmd **op,
			uint32_t *usize);

/*
 * The same for IOMMU_TEST_CMD, which only a selftest-mode context offers:
 * the caller asks only when it is one.
 */
const struct sio_iommufd_cmd *sio_iommufd_test_cmd_find(unsigned int cmd);
int sio_iommufd_test_ucmd_in(unsigned int cmd, uint64_t uarg, void *kbuf,
			     size_t kbuf_size,
			     const struct sio_iommufd_cmd **op,
			     uint32_t *usize);

/* The reply: min(user size, struct size) bytes back to the caller. */
int sio_iommufd_ucmd_out(const struct sio_iommufd_cmd *op, uint64_t uarg,
			 uint32_t usize, const void *kbuf);

#endif /* SIO_UAPI_H */
