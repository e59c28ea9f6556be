/*
 * Line-buffered printf (see ipc/stdio.h). One buffer per process: programs
 * that print from several threads should serialise their own output.
 */
#include <ipc/console.h>
#include <ipc/kcall.h>
#include <ipc/stdio.h>

#define LINE_MAX 512

static char line[LINE_MAX];
static size_t used;

/* The console when there is one; the kernel log (for PRIV_LOG holders)
 * before it is up, or while it restarts. */
static long default_sink(const char *text, size_t len)
{
    long rc = console_write(text, len);
    return rc >= 0 ? rc : kc_log(text, len);
}

static stdio_sink sink = default_sink;

void stdio_set_sink(stdio_sink s)
{
    stdio_flush();
    sink = s ? s : default_sink;
}

void stdio_flush(void)
{
    if (used) {
        sink(line, used);
        used = 0;
    }
}

static void put(void *ctx, char c)
{
    (void)ctx;
    line[used++] = c;
    if (c == '\n' || used == LINE_MAX)
        stdio_flush();
}

int vprintf(const char *fmt, va_list ap)
{
    return fmt_vformat(put, 0, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

int puts(const char *s)
{
    return printf("%s\n", s);
}
