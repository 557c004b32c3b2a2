/* SPDX-License-Identifier: MIT */
/* softiommu: the whole public API. */
#ifndef SOFTIOMMU_SOFTIOMMU_H
#define SOFTIOMMU_SOFTIOMMU_H

#include <softiommu/common.h>
#include <softiommu/fault.h>
#include <softiommu/iommufd.h>
#include <softiommu/mem.h>
#include <softiommu/pgtable.h>
#include <softiommu/smmu.h>

#endif /* SOFTIOMMU_SOFTIOMMU_H */
