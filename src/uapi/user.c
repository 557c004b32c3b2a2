// SPDX-License-Identifier: MIT
/*
 * The caller's memory, as the kernel's copy_{from,to}_user() reach it.
 * ioctl arguments arrive as pointers from an unmodified program, which
 * may hand us anything: an unmapped or protected page must give EFAULT,
 * never crash the program we serve.
 *
 * The kernel does it with an exception table: the copy instruction may
 * fault, and the fault handler resumes after it with the count left.  On
 * x86-64 we do the same: one `rep movsb` at a known address, and a
 * SIGSEGV/SIGBUS handler that, for a fault at exactly that instruction,
 * resumes at the instruction after it (RCX then holds the bytes not
 * copied).  Any other fault goes to the handler that was installed
 * before ours, or to the default action, as if we were not there.  This
 * costs nanoseconds where a syscall costs a microsecond on a VM; other
 * architectures use process_vm_readv/writev on our own process, which
 * fault just as cleanly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "uapi.h"

#if defined(__x86_64__) && defined(REG_RIP)
#define SIO_FIXUP_COPY 1

/* size_t sio_fixup_copy(void *dst, const void *src, size_t len): left */
__asm__(".text\n"
	".p2align 4\n"
	".globl sio_fixup_copy\n"
	".hidden sio_fixup_copy\n"
	".type sio_fixup_copy, @function\n"
	"sio_fixup_copy:\n"
	"	mov %rdx, %rcx\n"
	".globl sio_fixup_copy_insn\n"
	".hidden sio_fixup_copy_insn\n"
	"sio_fixup_copy_insn:\n"
	"	rep movsb\n"
	".globl sio_fixup_copy_resume\n"
	".hidden sio_fixup_copy_resume\n"
	"sio_fixup_copy_resume:\n"
	"	mov %rcx, %rax\n"
	"	ret\n"
	".size sio_fixup_copy, . - sio_fixup_copy\n");

size_t sio_fixup_copy(void *dst, const void *src, size_t len);
extern const char sio_fixup_copy_insn[], sio_fixup_copy_resume[];

/*
 * int sio_fixup_touch(void *p, int write): one access to the byte at @p,
 * a load, or with @write a locked OR of zero (a write that changes
 * nothing, even against a racing store).  0, or 1 if it faulted.
 */
__asm__(".text\n"
	".p2align 4\n"
	".globl sio_fixup_touch\n"
	".hidden sio_fixup_touch\n"
	".type sio_fixup_touch, @function\n"
	"sio_fixup_touch:\n"
	"	xor %eax, %eax\n"
	"	test %esi, %esi\n"
	"	jz 1f\n"
	".globl sio_fixup_touch_w\n"
	".hidden sio_fixup_touch_w\n"
	"sio_fixup_touch_w:\n"
	"	lock orb $0, (%rdi)\n"
	"	ret\n"
	"1:\n"
	".globl sio_fixup_touch_r\n"
	".hidden sio_fixup_touch_r\n"
	"sio_fixup_touch_r:\n"
	"	movb (%rdi), %cl\n"
	"	ret\n"
	".globl sio_fixup_touch_fault\n"
	".hidden sio_fixup_touch_fault\n"
	"sio_fixup_touch_fault:\n"
	"	mov $1, %eax\n"
	"	ret\n"
	".size sio_fixup_touch, . - sio_fixup_touch\n");

int sio_fixup_touch(void *p, int write);
extern const char sio_fixup_touch_w[], sio_fixup_touch_r[],
	sio_fixup_touch_fault[];

/*
 * The handlers that were installed before ours.  Signal dispositions are
 * process-wide by nature; this is the one piece of process state the
 * library keeps, changed only under arm_lock.
 */
static struct sigaction prev_segv, prev_bus;
static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;

static void chain(int sig, siginfo_t *info, void *uctx)
{
	struct sigaction *prev = sig == SIGBUS ? &prev_bus : &prev_segv;

	if (prev->sa_flags & SA_SIGINFO) {
		prev->sa_sigaction(sig, info, uctx);
	} else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
		prev->sa_handler(sig);
	} else {
		/* Returning re-runs the access, now under the default action.
		 */
		signal(sig, SIG_DFL);
	}
}

static void fixup_handler(int sig, siginfo_t *info, void *uctx)
{
	ucontext_t *uc = uctx;

	greg_t *ip = &uc->uc_mcontext.gregs[REG_RIP];

	if (*ip == (greg_t)(uintptr_t)sio_fixup_copy_insn) {
		*ip = (greg_t)(uintptr_t)sio_fixup_copy_resume;
		return;
	}
	if (*ip == (greg_t)(uintptr_t)sio_fixup_touch_w ||
	    *ip == (greg_t)(uintptr_t)sio_fixup_touch_r) {
		*ip = (greg_t)(uintptr_t)sio_fixup_touch_fault;
		return;
	}
	if (sio_mmio_trap_fault(info, uctx))
		return;
	chain(sig, info, uctx);
}

static bool is_ours(int sig)
{
	struct sigaction cur;

	return !sigaction(sig, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) &&
	       cur.sa_sigaction == fixup_handler;
}

/* Put our handler in front of whatever handles @sig now. */
static bool arm(int sig, struct sigaction *prev)
{
	struct sigaction sa, old;

	if (is_ours(sig))
		return true;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fixup_handler;
	/* NODEFER: a program's handler we chain to may fault again. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, NULL, &old))
		return false;
	*prev = old;
	return !sigaction(sig, &sa, NULL);
}

/*
 * A program (or its test framework) may install its own SIGSEGV handler
 * after ours; then our copies would fault into it.  So a uAPI call checks
 * first, at the price of two rt_sigaction calls, and puts ours back in
 * front, chaining to the newcomer.
 *
 * Unless somebody watches the program's handler changes for us: the
 * interposer sees every sigaction()/signal() a program makes through libc
 * and brackets each with sio_user_signal_change_begin/end().  sig_gen is
 * odd while a change is under way; a check is good for as long as the
 * count stays what it was when the check started.
 */
static _Atomic bool fixup_armed;
static _Atomic bool sig_watched;
static _Atomic unsigned long sig_gen;
static _Atomic unsigned long sig_checked_gen = 1; /* odd: never checked */

static void fixup_arm(void)
{
	bool ok;

	if (is_ours(SIGSEGV) && is_ours(SIGBUS))
		return;
	pthread_mutex_lock(&arm_lock);
	ok = arm(SIGSEGV, &prev_segv) && arm(SIGBUS, &prev_bus);
	pthread_mutex_unlock(&arm_lock);
	/* without our handler, every copy takes the syscall path */
	fixup_armed = ok;
}
#endif

bool sio_user_fault_handler_armed(void)
{
#ifdef SIO_FIXUP_COPY
	fixup_arm();
	return fixup_armed;
#else
	return false;
#endif
}

void sio_user_watch_signals(void)
{
#ifdef SIO_FIXUP_COPY
	sig_watched = true;
#endif
}

void sio_user_signal_change_begin(void)
{
#ifdef SIO_FIXUP_COPY
	atomic_fetch_add(&sig_gen, 1);
#endif
}

void sio_user_signal_change_end(void)
{
#ifdef SIO_FIXUP_COPY
	void *addr;
	size_t len;

	atomic_fetch_add(&sig_gen, 1);
	/* trapped stores cannot wait for the next uAPI call to re-arm */
	if (sio_user_trap_find(0, UINTPTR_MAX, &addr, &len))
		fixup_arm();
#endif
}

void sio_user_begin(void)
{
#ifdef SIO_FIXUP_COPY
	unsigned long gen = atomic_load(&sig_gen);

	if (sig_watched && gen == atomic_load(&sig_checked_gen))
		return;
	fixup_arm();
	if (sig_watched && !(gen & 1) && fixup_armed)
		atomic_store(&sig_checked_gen, gen);
#endif
}

/*
 * The calling thread's "current mm": 0 for our own memory, or the pid of
 * a fork child whose call a server thread of ours runs (the preload's
 * fork channel).  The kernel's copy_{from,to}_user() reach current->mm;
 * this is the one per-thread part of that "current".
 */
static SIO_TLS pid_t user_mm;

pid_t sio_user_set_mm(pid_t pid)
{
	pid_t old = user_mm;

	user_mm = pid;
	return old;
}

pid_t sio_user_mm(void)
{
	return user_mm;
}

/* A range that wraps is not memory anyone has. */
static bool user_range_wraps(uint64_t uaddr, size_t len)
{
	return uaddr + len < uaddr || uaddr + len - 1 > UINTPTR_MAX;
}

/*
 * The kernel's copy between our @local and process @pid's @uaddr: a
 * short one stopped at a fault, and a process that is gone (ESRCH) has
 * no pages to give either.  0 or -EFAULT.
 */
static int mm_xfer(pid_t pid, void *local, uint64_t uaddr, size_t len,
		   bool write)
{
	struct iovec l = {.iov_base = local, .iov_len = len};
	struct iovec r = {.iov_base = (void *)(uintptr_t)uaddr, .iov_len = len};
	ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0)
			  : process_vm_readv(pid, &l, 1, &r, 1, 0);

	return n == (ssize_t)len ? 0 : -EFAULT;
}

int sio_user_copy_from_mm(pid_t pid, void *dst, uint64_t uaddr, size_t len)
{
	if (!len)
		return 0;
	if (user_range_wraps(uaddr, len))
		return -EFAULT;
	return mm_xfer(pid, dst, uaddr, len, false);
}

/* A mapping from /proc/<pid>/maps: the one holding some address. */
struct user_vma {
	unsigned long long end, inode;
	unsigned int maj, min;
	unsigned long long off; /* file offset of the address */
	bool shared;
	bool window; /* a fork child's memfd (user_window.c) */
};

/* The search for the mapping that holds an address. */
/* The mapping of process @pid (0: ours) that holds @uaddr. */
static bool vma_of(pid_t pid, uint64_t uaddr, struct user_vma *v)
{
	char path[sizeof(SIO_USER_WINDOW_MAPS_PREFIX)];
	struct sio_user_maps_line l;

	if (!sio_user_maps_find(pid, uaddr, &l, path, sizeof(path)))
		return false;
	*v = (struct user_vma){
		.end = l.end,
		.inode = l.inode,
		.maj = l.maj,
		.min = l.min,
		.off = l.pgoff + (uaddr - l.start),
		.shared = l.perms[3] == 's',
		.window = !strncmp(l.path, SIO_USER_WINDOW_MAPS_PREFIX,
				   strlen(SIO_USER_WINDOW_MAPS_PREFIX)),
	};
	return true;
}

bool sio_user_mm_shares(pid_t pid, uint64_t uaddr, uint64_t len)
{
	struct user_vma theirs, ours;

	if (!len || !vma_of(pid, uaddr, &theirs) || !vma_of(0, uaddr, &ours))
		return false;
	/*
	 * The child's memfd that we map as a window (only there: the
	 * child made it after the fork), by chance at the same address:
	 * its windows make it ours, for as long as a pin needs.
	 */
	if (ours.window)
		return false;
	return theirs.shared && ours.shared && theirs.inode &&
	       theirs.inode == ours.inode && theirs.maj == ours.maj &&
	       theirs.min == ours.min && theirs.off == ours.off &&
	       uaddr + len <= theirs.end && uaddr + len <= ours.end;
}

static int user_xfer(void *local, uint64_t uaddr, size_t len, bool write)
{
	if (!len)
		return 0;
	/* the kernel's copy_{from,to}_user() are fault points too */
	if (sio_should_fail())
		return -EFAULT;
	if (user_range_wraps(uaddr, len))
		return -EFAULT;
#ifdef SIO_FIXUP_COPY
	if (fixup_armed && !user_mm) {
		void *u = (void *)(uintptr_t)uaddr;

		if (write)
			return sio_fixup_copy(u, local, len) ? -EFAULT : 0;
		return sio_fixup_copy(local, u, len) ? -EFAULT : 0;
	}
#endif
	/* getpid() is a system call: only the slow path pays for it */
	return mm_xfer(user_mm ? user_mm : getpid(), local, uaddr, len, write);
}

int sio_user_touch(uint64_t uaddr, uint64_t len, bool write)
{
#ifdef SIO_FIXUP_COPY
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t last = uaddr + len - 1;

	/* another process's pages cannot be touched from here */
	if (!fixup_armed || user_mm)
		return -EOPNOTSUPP;
	if (!len)
		return 0;
	if (last < uaddr || last > UINTPTR_MAX)
		return -EFAULT;
	for (uint64_t a = uaddr;;) {
		uint64_t next = (a | (pg - 1)) + 1;

		if (sio_fixup_touch((void *)(uintptr_t)a, write))
			return -EFAULT;
		if (!next || next > last)
			return 0;
		a = next;
	}
#else
	(void)uaddr, (void)len, (void)write;
	return -EOPNOTSUPP;
#endif
}

int sio_user_read(void *dst, uint64_t uaddr, size_t len)
{
	return user_xfer(dst, uaddr, len, false);
}

int sio_user_write(uint64_t uaddr, const void *src, size_t len)
{
	return user_xfer((void *)(uintptr_t)src, uaddr, len, true);
}

int sio_user_is_zero(uint64_t uaddr, size_t len)
{
	uint8_t chunk[256];

	while (len) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
		int rc = sio_user_read(chunk, uaddr, n);

		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++)
			if (chunk[i])
				return 0;
		uaddr += n;
		len -= n;
	}
	return 1;
}

int sio_user_struct_in(void *kbuf, size_t ksize, uint64_t uaddr, size_t usize)
{
	size_t common = usize < ksize ? usize : ksize;

	if (usize < ksize) {
		memset((uint8_t *)kbuf + usize, 0, ksize - usize);
	} else if (usize > ksize) {
		/* Fields we do not know may be present only as zeros. */
		int rc = sio_user_is_zero(uaddr + ksize, usize - ksize);

		if (rc <= 0)
			return rc ? rc : -E2BIG;
	}
	return sio_user_read(kbuf, uaddr, common);
}
