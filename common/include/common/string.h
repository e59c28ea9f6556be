/*
 * Memory and string routines for freestanding code (kernel and user space
 * both link common/). gcc may also emit calls to memcpy/memset for struct
 * copies, so these names must exist in every image.
 */
#ifndef COMMON_STRING_H
#define COMMON_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strncpy_safe(char *dst, const char *src, size_t size); /* always NUL-terminates */
char *strchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);

#endif
