/*
 * benchlib: helpers shared by the Linux bench programs (ipcbench, diskbench):
 * TSC calibration, BENCH-ERROR reports, option parsing, sample statistics.
 */
#define _GNU_SOURCE
#include "benchlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void fail(const char *what, const char *why)
{
    printf("BENCH-ERROR %s %s\n", what, why);
    fflush(stdout);
    exit(1);
}

void die(const char *what)
{
    fail(what, strerror(errno));
}

static double elapsed_ns(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* Spin rather than sleep: under -icount an idle guest skips virtual time. */
double calibrate_tsc_hz(long ms)
{
    struct timespec a, b;
    uint64_t t0, t1;
    double ns;

    if (clock_gettime(CLOCK_MONOTONIC_RAW, &a) < 0)
        die("calibrate");
    t0 = tsc_read();
    do {
        if (clock_gettime(CLOCK_MONOTONIC_RAW, &b) < 0)
            die("calibrate");
        ns = elapsed_ns(&a, &b);
    } while (ns < (double)ms * 1e6);
    t1 = tsc_read();
    return (double)(t1 - t0) * 1e9 / ns;
}

long parse_count(const char *s, char opt, long lo)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > 100000000) {
        char what[16];

        snprintf(what, sizeof(what), "option-%c", opt);
        fail(what, lo ? "must be an integer from 1 to 100000000"
                      : "must be an integer from 0 to 100000000");
    }
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

void median_min(double *samples, long n, double *med, double *min)
{
    qsort(samples, (size_t)n, sizeof(*samples), cmp_double);
    *min = samples[0];
    *med = n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}
