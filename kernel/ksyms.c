/*
 * Kernel symbol names for fault dumps. The build writes `nm -n` output of the
 * kernel into the boot module "ksyms" (so the kernel need not be linked
 * twice); lines look like "ffffffff80101234 T kmain". Parsing is bounded by
 * the module size and tolerates junk: a bad table only loses names.
 */
#include "ksyms.h"

#include "klog.h"

static const char *ksyms_text;
static uint64_t ksyms_len;

void ksyms_init(const char *text, uint64_t len)
{
    ksyms_text = text;
    ksyms_len = len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int ksyms_lookup(uint64_t addr, const char **name, int *name_len, uint64_t *offset)
{
    const char *best = 0;
    int best_len = 0;
    uint64_t best_addr = 0;
    uint64_t i = 0;
    while (i < ksyms_len) {
        uint64_t v = 0;
        int digits = 0, h;
        while (i < ksyms_len && (h = hexval(ksyms_text[i])) >= 0 && digits < 16) {
            v = v << 4 | (uint64_t)h;
            digits++;
            i++;
        }
        /* expect " T name" with a text-type letter */
        if (digits == 16 && i + 3 < ksyms_len && ksyms_text[i] == ' ' &&
            (ksyms_text[i + 1] == 'T' || ksyms_text[i + 1] == 't') && ksyms_text[i + 2] == ' ') {
            uint64_t s = i + 3, e = s;
            while (e < ksyms_len && ksyms_text[e] != '\n')
                e++;
            if (v <= addr && v >= best_addr && e > s && e - s < 128) {
                best = ksyms_text + s;
                best_len = (int)(e - s);
                best_addr = v;
            }
        }
        while (i < ksyms_len && ksyms_text[i] != '\n')
            i++;
        i++;
    }
    if (!best)
        return 0;
    *name = best;
    *name_len = best_len;
    *offset = addr - best_addr;
    return 1;
}

extern char __text_start[], __text_end[];

void ksyms_print(uint64_t addr)
{
    const char *name;
    int len;
    uint64_t off;
    /* Only text has names worth printing; a data address next to the last
     * function would otherwise be shown as "function+big offset". */
    int in_text = addr >= (uint64_t)__text_start && addr < (uint64_t)__text_end;
    if (in_text && ksyms_lookup(addr, &name, &len, &off))
        kprintf("%016lx <%.*s+0x%lx>", addr, len, name, off);
    else
        kprintf("%016lx", addr);
}
