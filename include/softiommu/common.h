/* SPDX-License-Identifier: MIT */
/*
 * softiommu: definitions shared by every public header.
 *
 * Conventions of the whole public API:
 *  - Functions that can fail return 0 or a negative errno value.
 *  - "Physical" addresses (type uint64_t, named pa) are addresses of this
 *    process: the memory bus (mem.h) decides which of them are backed.
 *  - All objects are created by a *_create() call and released by the
 *    matching *_destroy(); nothing is global, so any number of independent
 *    instances may live in one process.
 */
#ifndef SOFTIOMMU_COMMON_H
#define SOFTIOMMU_COMMON_H

#if defined(__GNUC__)
#define SIO_API __attribute__((visibility("default")))
#else
#define SIO_API
#endif

#define SOFTIOMMU_VERSION_MAJOR 0
#define SOFTIOMMU_VERSION_MINOR 1

#endif /* SOFTIOMMU_COMMON_H */
