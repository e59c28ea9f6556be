/*
 * Small helpers shared by the test programs: a reproducible random number
 * generator (xorshift64) and a checksum (FNV-1a) for checking data that
 * travelled.
 */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdint.h>

static inline uint64_t test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline uint64_t test_checksum(const uint8_t *p, uint64_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

#endif
