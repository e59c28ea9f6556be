/*
 * Timing for benchmarks and tests that report figures: a fenced TSC read
 * and a sort for medians.
 */
#ifndef IPC_MEASURE_H
#define IPC_MEASURE_H

#include <stdint.h>

/* The TSC after every earlier instruction has completed. Under QEMU
 * -icount shift=0 it counts retired instructions. */
static inline uint64_t measure_rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (uint64_t)hi << 32 | lo;
}

/* Sort samples ascending (for medians and minimums). */
void measure_sort(uint32_t *a, int n);

#endif
