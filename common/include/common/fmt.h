/*
 * printf-style formatting into a caller-supplied sink, shared by the
 * kernel's kprintf and libipc's printf. Supports %d %i %u %x %X %p %s %c %%
 * with the l/ll/z length modifiers, a field width, '-' and '0' flags and a
 * precision for strings (width and precision may be '*').
 */
#ifndef COMMON_FMT_H
#define COMMON_FMT_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink)(void *ctx, char c);

/* Returns the number of characters produced. */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* Format into buf (always NUL-terminated when size > 0); returns the length
 * the full output would have had, as C's snprintf does. */
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
