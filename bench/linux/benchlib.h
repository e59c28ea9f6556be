/*
 * benchlib: what ipcbench and diskbench share: the TSC read and its
 * calibration, failure reports in the BENCH-ERROR form, option parsing and
 * the median/minimum of a batch of samples.
 */
#ifndef BENCHLIB_H
#define BENCHLIB_H

#include <stdint.h>

/* lfence keeps rdtsc from being hoisted above the work being timed. */
static inline uint64_t tsc_read(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* Print "BENCH-ERROR what why" and exit 1. */
_Noreturn void fail(const char *what, const char *why);
/* fail() with strerror(errno) as the reason. */
_Noreturn void die(const char *what);

/* TSC ticks per second, measured against CLOCK_MONOTONIC_RAW over ms milliseconds. */
double calibrate_tsc_hz(long ms);

/* The integer in s, which must lie in [lo, 100000000], or fail naming -opt. */
long parse_count(const char *s, char opt, long lo);

/* Sorts samples[0..n) (n >= 1) and returns their median and minimum. */
void median_min(double *samples, long n, double *med, double *min);

#endif
