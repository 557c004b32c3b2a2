// SPDX-License-Identifier: MIT
/*
 * The fail-nth count: the kernel's current->fail_nth, per thread.
 *
 * This is the one piece of mutable state of the library outside a
 * context object, on purpose: the kernel keeps the count in the task,
 * and a fault point deep in the pool allocator or the page-table code
 * has no context to look it up in.  A thread-local is the task's field
 * for a user-space thread: each thread's count is its own, so threads
 * that are not being tested never see a fault, and no lock is needed.
 */
#include <softiommu/fault.h>

#include "fault/fault_inject.h"

SIO_FAIL_NTH_TLS unsigned int sio_fail_nth_left;

/* As the kernel's should_fail_ex(): the Nth point fails, then disarmed. */
bool sio_fail_nth_tick(void)
{
	return --sio_fail_nth_left == 0;
}

SIO_API void sio_fail_nth_set(unsigned int n)
{
	sio_fail_nth_left = n;
}

SIO_API unsigned int sio_fail_nth_get(void)
{
	return sio_fail_nth_left;
}
