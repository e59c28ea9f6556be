/*
 * The fuzzers hand the code under test an exactly-sized heap copy of the
 * input, so one byte read too far is an ASan report (malloc's alignment
 * also matches the 8 bytes Multiboot2 guarantees).
 */
#ifndef FUZZ_COPY_H
#define FUZZ_COPY_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline uint8_t *fuzz_copy(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, data, size);
    return copy;
}

#endif
