// SPDX-License-Identifier: MIT
/*
 * The program's signal handlers.  The library turns a bad ioctl pointer
 * into EFAULT with a SIGSEGV/SIGBUS handler that must stay in front of
 * the program's own (src/uapi/user.c); on its own it checks that with
 * two rt_sigaction calls per uAPI call, most of what a 4 KiB
 * IOAS_MAP + IOAS_UNMAP round trip costs.  Here every libc call that can
 * change a handler passes by us, so the library checks again only after
 * one of them touched SIGSEGV or SIGBUS.
 *
 * That holds only while our definitions are the ones the program's calls
 * reach: another interposer ahead of us (a sanitizer runtime) takes them
 * first, and then the library keeps checking on every call.  Under
 * ThreadSanitizer there are none: its runtime installs its handlers with
 * sigaction() before it can run instrumented code such as ours.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>

#include "preload.h"
#include "uapi/uapi.h"

#define EXPORT __attribute__((visibility("default")))

/* sigset and sigignore are obsolete, but programs still call them. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

typedef void (*sighandler_fn)(int);

int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
sighandler_fn bsd_signal(int sig, sighandler_fn handler);
sighandler_fn __sysv_signal(int sig, sighandler_fn handler);

#ifndef __SANITIZE_THREAD__
static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS;
}

EXPORT int sigaction(int sig, const struct sigaction *act,
		     struct sigaction *old)
{
	int rc;

	preload_ready();
	if (!act || !is_fault_signal(sig))
		return preload.real.sigaction(sig, act, old);
	sio_user_signal_change_begin();
	rc = preload.real.sigaction(sig, act, old);
	sio_user_signal_change_end();
	return rc;
}

EXPORT int __sigaction(int sig, const struct sigaction *act,
		       struct sigaction *old)
{
	return sigaction(sig, act, old);
}

/* signal(), sysv_signal(), sigset(), ...: one handler argument each. */
static sighandler_fn change_handler(sighandler_fn (*real)(int, sighandler_fn),
				    int sig, sighandler_fn handler)
{
	sighandler_fn prev;

	if (!is_fault_signal(sig))
		return real(sig, handler);
	sio_user_signal_change_begin();
	prev = real(sig, handler);
	sio_user_signal_change_end();
	return prev;
}

EXPORT sighandler_fn signal(int sig, sighandler_fn handler)
{
	preload_ready();
	return change_handler(preload.real.signal, sig, handler);
}

EXPORT sighandler_fn bsd_signal(int sig, sighandler_fn handler)
{
	preload_ready();
	return change_handler(preload.real.bsd_signal, sig, handler);
}

EXPORT sighandler_fn sysv_signal(int sig, sighandler_fn handler)
{
	preload_ready();
	return change_handler(preload.real.sysv_signal, sig, handler);
}

EXPORT sighandler_fn __sysv_signal(int sig, sighandler_fn handler)
{
	return sysv_signal(sig, handler);
}

EXPORT sighandler_fn sigset(int sig, sighandler_fn handler)
{
	preload_ready();
	return change_handler(preload.real.sigset, sig, handler);
}

EXPORT int sigignore(int sig)
{
	int rc;

	preload_ready();
	if (!is_fault_signal(sig))
		return preload.real.sigignore(sig);
	sio_user_signal_change_begin();
	rc = preload.real.sigignore(sig);
	sio_user_signal_change_end();
	return rc;
}

struct order {
	void *ours, *libc; /* load bases */
	int seen_ours, seen_libc;
	int n;
};

static int order_visit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct order *o = arg;

	(void)size;
	o->n++;
	if ((void *)info->dlpi_addr == o->ours && !o->seen_ours)
		o->seen_ours = o->n;
	if ((void *)info->dlpi_addr == o->libc && !o->seen_libc)
		o->seen_libc = o->n;
	return 0;
}

/* Is this library loaded before the one real sigaction() comes from? */
static bool ahead_of_libc(void)
{
	struct order o = {0};
	Dl_info a, b;

	if (!dladdr((void *)sigaction, &a) ||
	    !dladdr((void *)preload.real.sigaction, &b))
		return false;
	o.ours = a.dli_fbase;
	o.libc = b.dli_fbase;
	dl_iterate_phdr(order_visit, &o);
	return o.seen_ours && o.seen_libc && o.seen_ours < o.seen_libc;
}
#endif /* !__SANITIZE_THREAD__ */

/*
 * Called once the real functions are resolved: the library may trust us
 * only if each name the program calls by resolves to our definition.
 */
void preload_watch_signals(void)
{
#ifndef __SANITIZE_THREAD__
	static const struct {
		const char *name;
		void *ours;
	} fns[] = {
		{"sigaction", (void *)sigaction},
		{"__sigaction", (void *)__sigaction},
		{"signal", (void *)signal},
		{"bsd_signal", (void *)bsd_signal},
		{"sysv_signal", (void *)sysv_signal},
		{"__sysv_signal", (void *)__sysv_signal},
		{"sigset", (void *)sigset},
		{"sigignore", (void *)sigignore},
	};

	/*
	 * We must also be ahead of libc in the search order, as a
	 * preloaded library is: a dlopen()ed one finds its own definitions
	 * through RTLD_DEFAULT, yet the program's calls never reach them.
	 */
	bool ours = ahead_of_libc();

	for (size_t i = 0; ours && i < sizeof(fns) / sizeof(fns[0]); i++)
		ours = dlsym(RTLD_DEFAULT, fns[i].name) == fns[i].ours;
	if (ours)
		sio_user_watch_signals();
#endif
}
