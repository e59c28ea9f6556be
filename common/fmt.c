/*
 * The formatter behind kprintf and libipc's printf (see common/fmt.h). It
 * never allocates and never reads past a string's precision, so it is safe
 * on the kernel's panic path.
 */
#include <common/fmt.h>

#include <stdint.h>

struct spec {
    int width;
    int precision; /* -1: none */
    char pad;      /* ' ' or '0' */
    int left;
};

static int emit_padded(fmt_sink sink, void *ctx, const char *s, int len, const struct spec *sp)
{
    int n = 0;
    int fill = sp->width > len ? sp->width - len : 0;
    if (!sp->left)
        for (; fill > 0; fill--, n++)
            sink(ctx, sp->pad);
    for (int i = 0; i < len; i++, n++)
        sink(ctx, s[i]);
    for (; fill > 0; fill--, n++)
        sink(ctx, ' ');
    return n;
}

static int emit_number(fmt_sink sink, void *ctx, uint64_t v, int neg, unsigned base, int upper,
                       struct spec *sp)
{
    char buf[24];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int i = (int)sizeof(buf);
    do {
        buf[--i] = digits[v % base];
        v /= base;
    } while (v);
    if (neg) {
        if (sp->pad == '0' && sp->width > 0) { /* sign goes before the zeros */
            sink(ctx, '-');
            sp->width--;
            return 1 + emit_padded(sink, ctx, buf + i, (int)sizeof(buf) - i, sp);
        }
        buf[--i] = '-';
    }
    return emit_padded(sink, ctx, buf + i, (int)sizeof(buf) - i, sp);
}

int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    int n = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            sink(ctx, *fmt);
            n++;
            continue;
        }
        struct spec sp = {0, -1, ' ', 0};
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                sp.left = 1;
            else if (*fmt == '0')
                sp.pad = '0';
            else
                break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            fmt++;
        }
        for (; *fmt >= '0' && *fmt <= '9'; fmt++)
            sp.width = sp.width * 10 + (*fmt - '0');
        if (*fmt == '.') {
            sp.precision = 0;
            if (fmt[1] == '*') {
                sp.precision = va_arg(ap, int);
                fmt++;
            }
            for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
                sp.precision = sp.precision * 10 + (*fmt - '0');
        }
        int longs = 0;
        for (; *fmt == 'l' || *fmt == 'z'; fmt++)
            longs++;
        uint64_t u;
        int64_t s;
        switch (*fmt) {
        case 'd':
        case 'i':
            s = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            n += emit_number(sink, ctx, s < 0 ? -(uint64_t)s : (uint64_t)s, s < 0, 10, 0, &sp);
            break;
        case 'u':
        case 'x':
        case 'X':
            u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            n += emit_number(sink, ctx, u, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X', &sp);
            break;
        case 'p':
            sink(ctx, '0');
            sink(ctx, 'x');
            sp.pad = '0';
            sp.width = 16;
            n += 2 + emit_number(sink, ctx, (uint64_t)(uintptr_t)va_arg(ap, void *), 0, 16, 0, &sp);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int len = 0;
            while ((sp.precision < 0 || len < sp.precision) && str[len])
                len++;
            sp.pad = ' ';
            n += emit_padded(sink, ctx, str, len, &sp);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            n += emit_padded(sink, ctx, &c, 1, &sp);
            break;
        }
        case '%':
            sink(ctx, '%');
            n++;
            break;
        case '\0': /* lone '%' at the end */
            return n;
        default: /* unknown conversion: show it rather than guess */
            sink(ctx, '%');
            sink(ctx, *fmt);
            n += 2;
            break;
        }
    }
    return n;
}

struct buf_ctx {
    char *buf;
    size_t size;
    size_t len;
};

static void buf_sink(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->len + 1 < b->size)
        b->buf[b->len] = c;
    b->len++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = {buf, size, 0};
    fmt_vformat(buf_sink, &b, fmt, ap);
    if (size > 0)
        buf[b.len < size ? b.len : size - 1] = '\0';
    return (int)b.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
