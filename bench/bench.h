/* SPDX-License-Identifier: MIT */
/* What the benchmark programs share: a clock and medians. */
#ifndef SIO_BENCH_H
#define SIO_BENCH_H

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define MAX_RUNS 31

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of @n figures (reorders them). */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif /* SIO_BENCH_H */
