/*
 * Helpers shared by the host unit tests: a reproducible random number
 * generator, the one-byte mutation the mutation loops apply, and the
 * little-endian writers the tests build binary tables with. Each test is
 * its own executable, so the generator's state is per test.
 */
#ifndef HOSTLIB_H
#define HOSTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint64_t rng_state;

/* xorshift64*: reproducible across libcs, unlike rand(). */
static inline uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Change p[pos]: flip one bit, write a random byte, or write one of the
 * n `interesting` values (boundaries the code under test cares about). */
static inline void mutate_byte(uint8_t *p, size_t pos, const uint8_t *interesting, size_t n)
{
    switch (rng() % 3) {
    case 0:
        p[pos] ^= (uint8_t)(1u << (rng() % 8));
        break;
    case 1:
        p[pos] = (uint8_t)rng();
        break;
    default:
        p[pos] = interesting[rng() % n];
        break;
    }
}

/* Store v at p as the x86 (little-endian) layout the parsers read. */
static inline void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static inline void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

#endif
