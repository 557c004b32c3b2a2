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

	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
		if (dlsym(RTLD_DEFAULT, fns[i].name) != fns[i].ours)
			return;
	sio_user_watch_signals();
#endif
}
