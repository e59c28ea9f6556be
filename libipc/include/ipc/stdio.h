/*
 * Formatted output for freestanding programs. Lines go to the console
 * server, or to the kernel log (for PRIV_LOG holders) while there is none;
 * stdio_set_sink sends them elsewhere. Output is line-buffered: a line is
 * written in one message, so lines of different processes never mix.
 */
#ifndef IPC_STDIO_H
#define IPC_STDIO_H

#include <common/fmt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int puts(const char *s); /* writes s and a newline */
void stdio_flush(void);

/* Where whole lines go. Default: the console server, or the kernel log
 * while there is no console. */
typedef long (*stdio_sink)(const char *text, size_t len);
void stdio_set_sink(stdio_sink sink);

#define snprintf  fmt_snprintf
#define vsnprintf fmt_vsnprintf

#endif
