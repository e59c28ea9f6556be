/*
 * Freestanding memory and string routines (see common/string.h). Copies move
 * 64 bytes a turn, then 8 at a time, then a byte tail: under QEMU TCG a
 * byte loop or `rep movsb` costs about 8x more per byte.
 */
#include <common/string.h>

#include <stdint.h>

/* Eight 8-byte moves a turn: under TCG every guest instruction costs and a
 * turn of the loop is its own translation block, so the loop's add, compare
 * and branch are paid once per 64 bytes instead of once per 8 (a 1 MiB copy
 * about 2.5 instructions per 8 bytes instead of 5). Each word is loaded
 * just before it is stored, so a destination below an overlapping source
 * (memmove's forward case) reads every byte before overwriting it. */
void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    for (; n >= 64; n -= 64, d += 64, s += 64)
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
            __builtin_memcpy(d + 8 * i, s + 8 * i, 8);
    for (; n >= 8; n -= 8, d += 8, s += 8)
        __builtin_memcpy(d, s, 8); /* one unaligned 8-byte move, not a call */
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint64_t v = 0x0101010101010101ull * (uint8_t)c;
    for (; n >= 8; n -= 8, d += 8)
        __builtin_memcpy(d, &v, 8);
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (; *s; s++)
        if (*s == (char)c)
            return (char *)s;
    return c == 0 ? (char *)s : NULL;
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (strncmp(haystack, needle, n) == 0)
            return (char *)haystack;
    return n == 0 ? (char *)haystack : NULL;
}
