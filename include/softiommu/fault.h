/* SPDX-License-Identifier: MIT */
/*
 * softiommu: fault injection, the kernel's fail-nth.
 *
 * Every allocation the library makes and every internal call that can
 * fail (thread, eventfd and memfd creation, copies from and to the
 * caller's memory, ...) is a fault point.  As with the kernel's
 * /proc/<pid>/task/<tid>/fail-nth (Documentation/fault-injection/
 * fault-injection.rst), the setting belongs to a thread: arming it with
 * N makes the Nth fault point that thread reaches from then on fail, as
 * the real call would (NULL and ENOMEM for an allocation, -EFAULT for a
 * copy, ...), and disarms it.  Other threads are not affected.
 *
 * A test walks N = 1, 2, ... over a flow: arm N, run the flow, read the
 * count back.  0 means the fault was injected (the flow must have
 * failed cleanly, or coped); non-zero means the flow reached fewer than
 * N fault points, so every one of them has been failed once.
 *
 * A new thread starts disarmed.  A forked child inherits the forking
 * thread's count (the interposer resets it, as the kernel resets a new
 * task's).
 *
 * Under `softiommu exec` the same setting is the calling thread's
 * /proc/thread-self/fail-nth.  SOFTIOMMU_FAIL_NTH=N in the environment
 * arms the thread that creates a platform (sio_platform_create()) with
 * N, counted from that call on, for a whole-program run.
 */
#ifndef SOFTIOMMU_FAULT_H
#define SOFTIOMMU_FAULT_H

#include <softiommu/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Arm the calling thread: its @n-th fault point from now on fails.
 * 0 disarms.  What writing @n to fail-nth does.
 */
SIO_API void sio_fail_nth_set(unsigned int n);

/*
 * The calling thread's count: 0 when the armed fault was injected (or
 * nothing was armed), else how many fault points are left before it.
 * What reading fail-nth gives.
 */
SIO_API unsigned int sio_fail_nth_get(void);

#ifdef __cplusplus
}
#endif

#endif /* SOFTIOMMU_FAULT_H */
