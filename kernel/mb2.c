/*
 * Multiboot2 boot-information parser (see mb2.h). Every length is checked
 * against the bytes that exist before it is used, in this order: block
 * header, tag header, tag body, tag-specific contents.
 */
#include "mb2.h"

#include <abi/errno.h>

struct tag {
    uint32_t type;
    uint32_t size;
};

/* A string field of `len` bytes must contain its terminating NUL. */
static int str_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0')
            return 1;
    return 0;
}

static int parse_mmap(const uint8_t *body, uint32_t size, struct mb2_info *out)
{
    /* body: entry_size, entry_version, then entries */
    if (size < 16)
        return -E_INVAL;
    uint32_t entry_size = *(const uint32_t *)(const void *)(body + 8);
    if (entry_size < sizeof(struct mb2_mmap_entry) || entry_size % 8 != 0)
        return -E_INVAL;
    uint32_t bytes = size - 16;
    out->mmap = body + 16;
    out->mmap_entry_size = entry_size;
    out->mmap_count = bytes / entry_size;
    return 0;
}

static int parse_module(const uint8_t *body, uint32_t size, struct mb2_info *out)
{
    if (size < 17) /* header 8 + start 4 + end 4 + at least the NUL */
        return -E_INVAL;
    const char *cmdline = (const char *)(body + 16);
    if (!str_ok(cmdline, size - 16))
        return -E_INVAL;
    uint32_t start = *(const uint32_t *)(const void *)(body + 8);
    uint32_t end = *(const uint32_t *)(const void *)(body + 12);
    if (end < start)
        return -E_INVAL;
    if (out->module_count >= MB2_MAX_MODULES)
        return -E_LIMIT;
    struct mb2_module *m = &out->modules[out->module_count++];
    m->start = start;
    m->end = end;
    m->cmdline = cmdline;
    return 0;
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out)
{
    const uint8_t *base = info;
    *out = (struct mb2_info){.cmdline = "", .loader_name = ""};
    if (info == NULL || avail < 8)
        return -E_TRUNC;
    uint32_t total = *(const uint32_t *)info;
    if (total < 16 || total > MB2_MAX_INFO_SIZE || total % 8 != 0)
        return -E_INVAL;
    if (total > avail)
        return -E_TRUNC;
    out->total_size = total;

    int seen_end = 0, seen_mmap = 0, seen_acpi_new = 0;
    uint32_t off = 8; /* total_size, reserved */
    while (off < total) {
        if (total - off < sizeof(struct tag))
            return -E_TRUNC;
        const struct tag *t = (const void *)(base + off);
        if (t->size < sizeof(struct tag))
            return -E_INVAL;
        if (t->size > total - off)
            return -E_TRUNC;
        const uint8_t *body = base + off;
        int rc = 0;
        switch (t->type) {
        case MB2_TAG_END:
            if (t->size != 8)
                return -E_INVAL;
            seen_end = 1;
            break;
        case MB2_TAG_CMDLINE:
        case MB2_TAG_LOADER_NAME:
            if (t->size < 9 || !str_ok((const char *)body + 8, t->size - 8))
                return -E_INVAL;
            if (t->type == MB2_TAG_CMDLINE)
                out->cmdline = (const char *)body + 8;
            else
                out->loader_name = (const char *)body + 8;
            break;
        case MB2_TAG_MODULE:
            rc = parse_module(body, t->size, out);
            break;
        case MB2_TAG_MMAP:
            rc = parse_mmap(body, t->size, out);
            seen_mmap = 1;
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            /* The 2.0+ copy wins whatever the tag order: it names the XSDT. */
            if (t->size > 8 && (t->type == MB2_TAG_ACPI_NEW || !seen_acpi_new)) {
                out->acpi_rsdp = body + 8;
                out->acpi_rsdp_len = t->size - 8;
                seen_acpi_new |= t->type == MB2_TAG_ACPI_NEW;
            }
            break;
        default: /* framebuffer and everything else: ignored on purpose */
            break;
        }
        if (rc < 0)
            return rc;
        if (seen_end)
            break;
        /* Tags are 8-byte aligned. total and off are multiples of 8 and
         * size <= total - off, so the rounded size still fits. */
        off += (t->size + 7u) & ~7u;
    }
    if (!seen_end)
        return -E_INVAL;
    if (!seen_mmap)
        return -E_NOENT;
    return 0;
}
