/*
 * Names for the FAT32 core: UTF-8 path components to UTF-16 long names and
 * back, validation, case folding for lookups, and 8.3 short names (pure
 * names, Windows-style basis names with ~N tails, the LFN checksum).
 */
#include "fat_priv.h"

/* Code page 850 (the one mtools and dosfstools default to), 0x80..0xFF. */
static const uint16_t cp850[128] = {
    0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8, 0x00ef,
    0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2, 0x00fb, 0x00f9,
    0x00ff, 0x00d6, 0x00dc, 0x00f8, 0x00a3, 0x00d8, 0x00d7, 0x0192, 0x00e1, 0x00ed, 0x00f3, 0x00fa,
    0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x00ae, 0x00ac, 0x00bd, 0x00bc, 0x00a1, 0x00ab, 0x00bb,
    0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x00c1, 0x00c2, 0x00c0, 0x00a9, 0x2563, 0x2551, 0x2557,
    0x255d, 0x00a2, 0x00a5, 0x2510, 0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x00e3, 0x00c3,
    0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x00a4, 0x00f0, 0x00d0, 0x00ca, 0x00cb,
    0x00c8, 0x0131, 0x00cd, 0x00ce, 0x00cf, 0x2518, 0x250c, 0x2588, 0x2584, 0x00a6, 0x00cc, 0x2580,
    0x00d3, 0x00df, 0x00d4, 0x00d2, 0x00f5, 0x00d5, 0x00b5, 0x00fe, 0x00de, 0x00da, 0x00db, 0x00d9,
    0x00fd, 0x00dd, 0x00af, 0x00b4, 0x00ad, 0x00b1, 0x2017, 0x00be, 0x00b6, 0x00a7, 0x00f7, 0x00b8,
    0x00b0, 0x00a8, 0x00b7, 0x00b9, 0x00b3, 0x00b2, 0x25a0, 0x00a0,
};

/* Characters Windows and Linux refuse in a long name. */
static int lfn_char_bad(uint32_t c)
{
    return c < 0x20 || c == '"' || c == '*' || c == '/' || c == ':' || c == '<' || c == '>' ||
           c == '?' || c == '\\' || c == '|';
}

int name_from_utf8(const char *s, size_t len, uint16_t *out, uint32_t *n)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t k = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c = p[i], need, min;
        if (c < 0x80)
            need = 0, min = 0;
        else if ((c & 0xE0) == 0xC0)
            need = 1, min = 0x80, c &= 0x1F;
        else if ((c & 0xF0) == 0xE0)
            need = 2, min = 0x800, c &= 0x0F;
        else if ((c & 0xF8) == 0xF0)
            need = 3, min = 0x10000, c &= 0x07;
        else
            return -E_INVAL;
        if (need > len - i - 1)
            return -E_INVAL;
        for (uint32_t j = 1; j <= need; j++) {
            if ((p[i + j] & 0xC0) != 0x80)
                return -E_INVAL;
            c = c << 6 | (p[i + j] & 0x3F);
        }
        i += need + 1;
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || lfn_char_bad(c))
            return -E_INVAL;
        if (k + (c >= 0x10000 ? 2 : 1) > FAT_NAME_MAX)
            return -E_NAMETOOLONG;
        if (c >= 0x10000) {
            c -= 0x10000;
            out[k++] = (uint16_t)(0xD800 | c >> 10);
            out[k++] = (uint16_t)(0xDC00 | (c & 0x3FF));
        } else {
            out[k++] = (uint16_t)c;
        }
    }
    if (k == 0 || (k == 1 && out[0] == '.') || (k == 2 && out[0] == '.' && out[1] == '.'))
        return -E_INVAL;
    if (out[k - 1] == '.' || out[k - 1] == ' ')
        return -E_INVAL; /* Windows and Linux drop these: the name would not be ours */
    *n = k;
    return 0;
}

void name_to_utf8(const uint16_t *u, uint32_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t c = u[i];
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] <= 0xDFFF)
            c = 0x10000 + ((c - 0xD800) << 10) + (u[++i] - 0xDC00);
        else if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
        uint8_t b[4];
        size_t k;
        if (c < 0x80) {
            b[0] = (uint8_t)c, k = 1;
        } else if (c < 0x800) {
            b[0] = (uint8_t)(0xC0 | c >> 6), b[1] = (uint8_t)(0x80 | (c & 0x3F)), k = 2;
        } else if (c < 0x10000) {
            b[0] = (uint8_t)(0xE0 | c >> 12), b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            b[2] = (uint8_t)(0x80 | (c & 0x3F)), k = 3;
        } else {
            b[0] = (uint8_t)(0xF0 | c >> 18), b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)), b[3] = (uint8_t)(0x80 | (c & 0x3F));
            k = 4;
        }
        if (o + k + 1 > cap)
            break;
        memcpy(out + o, b, k);
        o += k;
    }
    if (cap)
        out[o] = '\0';
}

/* Upper case for lookups: ASCII, Latin-1, Latin Extended-A, Greek and
 * Cyrillic; other characters compare exactly. */
uint16_t name_fold(uint16_t c)
{
    if (c >= 'a' && c <= 'z')
        return (uint16_t)(c - 32);
    if (c < 0xE0)
        return c;
    if (c <= 0xFE)
        return c == 0xF7 ? c : (uint16_t)(c - 32);
    if (c == 0xFF)
        return 0x178;
    if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177))
        return (uint16_t)(c & ~1u);
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c & 1) ? c : (uint16_t)(c - 1);
    if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2)
        return (uint16_t)(c - 32);
    if (c == 0x3C2)
        return 0x3A3;
    if (c >= 0x430 && c <= 0x44F)
        return (uint16_t)(c - 32);
    if (c >= 0x450 && c <= 0x45F)
        return (uint16_t)(c - 80);
    return c;
}

int name_eq(const uint16_t *a, uint32_t na, const uint16_t *b, uint32_t nb)
{
    if (na != nb)
        return 0;
    for (uint32_t i = 0; i < na; i++)
        if (a[i] != b[i] && name_fold(a[i]) != name_fold(b[i]))
            return 0;
    return 1;
}

/* Characters allowed in an 8.3 name we write (upper case, ASCII). */
static int sfn_char_ok(uint16_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '-':
    case '@':
    case '^':
    case '_':
    case '`':
    case '{':
    case '}':
    case '~':
        return 1;
    default:
        return 0;
    }
}

int sfn_pure(const uint16_t *u, uint32_t n, uint8_t raw[11], uint8_t *ntres)
{
    uint32_t dot = n;
    for (uint32_t i = 0; i < n; i++)
        if (u[i] == '.') {
            if (dot != n)
                return 0; /* two dots */
            dot = i;
        }
    uint32_t blen = dot, elen = dot == n ? 0 : n - dot - 1;
    if (blen < 1 || blen > 8 || elen > 3)
        return 0;
    int lower[2] = {0, 0}, upper[2] = {0, 0};
    memset(raw, ' ', 11);
    for (uint32_t i = 0; i < n; i++) {
        if (i == dot)
            continue;
        int part = i > dot;
        uint16_t c = u[i];
        if (c >= 'a' && c <= 'z')
            lower[part] = 1, c = (uint16_t)(c - 32);
        else if (c >= 'A' && c <= 'Z')
            upper[part] = 1;
        if (!sfn_char_ok(c))
            return 0;
        raw[part ? 8 + (i - dot - 1) : i] = (uint8_t)c;
    }
    if ((lower[0] && upper[0]) || (lower[1] && upper[1]))
        return 0; /* mixed case needs the long name */
    *ntres = (uint8_t)((lower[0] ? NT_LOWER_BASE : 0) | (lower[1] ? NT_LOWER_EXT : 0));
    return 1;
}

void sfn_basis(const uint16_t *u, uint32_t n, uint8_t raw[11], int *lossy)
{
    /* Spaces go everywhere, periods at the front; the last period left
     * splits base from extension. */
    uint32_t start = 0, last_dot = n;
    *lossy = 0;
    while (start < n && (u[start] == '.' || u[start] == ' '))
        start++, *lossy = 1;
    for (uint32_t i = start; i < n; i++)
        if (u[i] == '.')
            last_dot = i;
    memset(raw, ' ', 11);
    uint32_t b = 0, e = 0;
    for (uint32_t i = start; i < n; i++) {
        uint16_t c = u[i];
        if (c == ' ' || (c == '.' && i != last_dot)) {
            *lossy = 1;
            continue;
        }
        if (i == last_dot)
            continue;
        c = name_fold(c);
        if (c >= 0x80 || !sfn_char_ok(c))
            c = '_', *lossy = 1;
        if (i < last_dot) {
            if (b < 8)
                raw[b++] = (uint8_t)c;
            else
                *lossy = 1;
        } else {
            if (e < 3)
                raw[8 + e++] = (uint8_t)c;
            else
                *lossy = 1;
        }
    }
    if (b == 0)
        raw[0] = '_', *lossy = 1;
}

int sfn_tail(const uint8_t basis[11], uint32_t num, uint8_t raw[11])
{
    char digits[10];
    uint32_t nd = 0;
    do {
        digits[nd++] = (char)('0' + num % 10);
        num /= 10;
    } while (num && nd < sizeof(digits));
    if (nd > 6)
        return 0;
    uint32_t blen = 0;
    while (blen < 8 && basis[blen] != ' ')
        blen++;
    uint32_t keep = blen < 7 - nd ? blen : 7 - nd;
    memcpy(raw, basis, 11);
    memset(raw + keep, ' ', 8 - keep);
    raw[keep] = '~';
    for (uint32_t i = 0; i < nd; i++)
        raw[keep + 1 + i] = (uint8_t)digits[nd - 1 - i];
    return 1;
}

uint32_t sfn_tail_num(const uint8_t basis[11], const uint8_t raw[11])
{
    uint32_t blen = 0, tilde = 8;
    while (blen < 8 && raw[blen] != ' ')
        blen++;
    for (uint32_t i = 0; i < blen; i++)
        if (raw[i] == '~')
            tilde = i;
    if (tilde >= blen || blen - tilde - 1 < 1 || blen - tilde - 1 > 6 || raw[tilde + 1] == '0')
        return 0;
    uint32_t num = 0;
    for (uint32_t i = tilde + 1; i < blen; i++) {
        if (raw[i] < '0' || raw[i] > '9')
            return 0;
        num = num * 10 + (raw[i] - '0');
    }
    uint8_t want[11];
    if (!sfn_tail(basis, num, want) || memcmp(want, raw, 11) != 0)
        return 0;
    return num;
}

uint8_t sfn_checksum(const uint8_t raw[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + raw[i]);
    return sum;
}

static uint16_t oem_char(uint8_t b, int lower)
{
    if (b >= 0x80)
        return cp850[b - 0x80];
    if (lower && b >= 'A' && b <= 'Z')
        return (uint16_t)(b + 32);
    return b;
}

uint32_t sfn_to_name(const uint8_t raw[11], uint8_t ntres, uint16_t *out)
{
    uint32_t blen = 8, elen = 3, k = 0;
    while (blen && raw[blen - 1] == ' ')
        blen--;
    while (elen && raw[8 + elen - 1] == ' ')
        elen--;
    for (uint32_t i = 0; i < blen; i++) {
        uint8_t b = (i == 0 && raw[0] == DE_KANJI) ? DE_FREE : raw[i];
        out[k++] = oem_char(b, ntres & NT_LOWER_BASE);
    }
    if (elen) {
        out[k++] = '.';
        for (uint32_t i = 0; i < elen; i++)
            out[k++] = oem_char(raw[8 + i], ntres & NT_LOWER_EXT);
    }
    return k;
}
