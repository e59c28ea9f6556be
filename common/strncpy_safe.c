/*
 * strncpy_safe (see common/string.h): the one string helper without a
 * standard name, kept apart from string.c so a program linked with the C
 * library can use it without pulling in a second memcpy.
 */
#include <common/string.h>

char *strncpy_safe(char *dst, const char *src, size_t size)
{
    size_t i = 0;
    if (size == 0)
        return dst;
    for (; i + 1 < size && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
    return dst;
}
