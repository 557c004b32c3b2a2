// SPDX-License-Identifier: MIT
/*
 * Memory-bus benchmark: the cost of a checked 64-bit read (a section per
 * access, and many accesses per section) and of a checked 4 KiB copy, with
 * 1, 64 and 4096 registrations, against a plain load and a plain memcpy in
 * the same run; and how checked reads scale from one thread to two.
 * Every figure is the median of several runs.
 *
 * Usage: bench-mem [runs]   (default 7, at least 5)
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "bench.h"

#include <softiommu/mem.h>

#include "mem/mem_private.h" /* the inline lookup the model uses */

#define NR_READS (1u << 22)
#define BUF_SIZE (16u << 20)

static int runs = 7;
static volatile uint64_t sink;

struct ctx {
	struct sio_mem_bus *bus;
	uint8_t *buf;
	const uint32_t *off; /* random 8-byte aligned offsets into buf */
};

static double plain_loads(const struct ctx *c)
{
	uint64_t t0 = now_ns(), s = 0;

	for (unsigned int i = 0; i < NR_READS; i++)
		s += __atomic_load_n((uint64_t *)(c->buf + c->off[i]),
				     __ATOMIC_ACQUIRE);
	sink += s;
	return (double)(now_ns() - t0) / NR_READS;
}

static double bus_reads(const struct ctx *c)
{
	uint64_t t0 = now_ns(), s = 0, v;
	uint64_t base = (uint64_t)(uintptr_t)c->buf;

	for (unsigned int i = 0; i < NR_READS; i++) {
		if (sio_mem_read64(c->bus, base + c->off[i], &v))
			exit(1);
		s += v;
	}
	sink += s;
	return (double)(now_ns() - t0) / NR_READS;
}

/*
 * Lookups inside one section per 64 reads, as a walk would do, with the
 * inline lookup the layers above use.
 */
static double section_reads(const struct ctx *c)
{
	uint64_t t0 = now_ns(), s = 0;
	uint64_t base = (uint64_t)(uintptr_t)c->buf;

	for (unsigned int i = 0; i < NR_READS; i += 64) {
		struct sio_mem_guard g;

		sio_mem_enter(c->bus, &g);
		for (unsigned int k = i; k < i + 64; k++) {
			uint64_t *p = sio_mem_ptr(&g, base + c->off[k], 8,
						  SIO_MEM_READ);

			if (!p)
				exit(1);
			s += __atomic_load_n(p, __ATOMIC_ACQUIRE);
		}
		sio_mem_exit(c->bus, &g);
	}
	sink += s;
	return (double)(now_ns() - t0) / NR_READS;
}

static double copies(const struct ctx *c, bool checked)
{
	static uint8_t dst[4096];
	const unsigned int n = 1u << 16;
	uint64_t t0 = now_ns();

	for (unsigned int i = 0; i < n; i++) {
		uint64_t off = (c->off[i] & ~4095u) % (BUF_SIZE - 4096);

		if (checked) {
			if (sio_mem_read(c->bus, (uintptr_t)c->buf + off, dst,
					 4096))
				exit(1);
		} else {
			memcpy(dst, c->buf + off, 4096);
		}
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	return (double)(now_ns() - t0) / n;
}

static void *thread_reads(void *arg)
{
	double *ns = malloc(sizeof(*ns));

	*ns = bus_reads(arg);
	return ns;
}

/* Total throughput of two threads, as a multiple of one thread's. */
static double scaling(const struct ctx *c)
{
	pthread_t th[2];
	uint64_t t0 = now_ns();
	double one, two;

	one = bus_reads(c);
	t0 = now_ns();
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_reads, (void *)c);
	for (int i = 0; i < 2; i++) {
		void *r;

		pthread_join(th[i], &r);
		free(r);
	}
	two = (double)(now_ns() - t0) / (2.0 * NR_READS);
	return one / two;
}

int main(int argc, char **argv)
{
	static const unsigned int nregs[] = {1, 64, 4096};
	static const char owner;
	uint32_t *off;
	struct ctx c;

	if (argc > 1)
		runs = atoi(argv[1]);
	if (runs < 5 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-mem [runs: 5..%d]\n", MAX_RUNS);
		return 2;
	}
	c.buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	off = malloc(NR_READS * sizeof(*off));
	if (c.buf == MAP_FAILED || !off || sio_mem_bus_create(&c.bus))
		return 1;
	memset(c.buf, 1, BUF_SIZE);
	srand(1);
	for (unsigned int i = 0; i < NR_READS; i++)
		off[i] = ((uint32_t)rand() % (BUF_SIZE / 8)) * 8;
	c.off = off;

	printf("softiommu memory-bus benchmark: random 8-byte reads in a "
	       "16 MiB buffer, medians of %d runs\n\n",
	       runs);
	printf("  %-40s %8s %8s %8s\n", "registrations:", "1", "64", "4096");
	for (int what = 0; what < 5; what++) {
		static const char *const names[] = {
			"baseline: plain load (ns)",
			"read64, section per access (ns)",
			"read, section per 64 accesses (ns)",
			"baseline: memcpy 4 KiB (ns)",
			"checked read of 4 KiB (ns)",
		};

		printf("  %-40s", names[what]);
		for (unsigned int k = 0; k < 3; k++) {
			unsigned int n = nregs[k];
			uint64_t piece = BUF_SIZE / n;
			double v[MAX_RUNS];

			/* The buffer in n adjacent registrations, alternating
			 * permissions so that the view keeps all n segments. */
			for (unsigned int i = 0; i < n; i++)
				sio_mem_register(
					c.bus, (uintptr_t)c.buf + i * piece,
					piece,
					i & 1 ? SIO_MEM_RW : SIO_MEM_READ,
					&owner);
			for (int r = 0; r < runs; r++)
				v[r] = what == 0   ? plain_loads(&c)
				       : what == 1 ? bus_reads(&c)
				       : what == 2 ? section_reads(&c)
				       : what == 3 ? copies(&c, false)
						   : copies(&c, true);
			printf(" %8.2f", median(v, runs));
			sio_mem_unregister_owner(c.bus, &owner);
		}
		printf("\n");
	}
	{
		double v[MAX_RUNS];

		sio_mem_register(c.bus, (uintptr_t)c.buf, BUF_SIZE, SIO_MEM_RW,
				 &owner);
		for (int r = 0; r < runs; r++)
			v[r] = scaling(&c);
		printf("\n  two threads of read64, throughput vs one thread: "
		       "%.2fx\n",
		       median(v, runs));
	}
	sio_mem_bus_destroy(c.bus);
	return 0;
}
