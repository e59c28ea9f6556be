/*
 * libFuzzer target for the Multiboot2 parser (kernel/mb2.c): any byte string
 * is a boot-information block; on success every pointer and count the parser
 * hands back must describe bytes inside that block.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>

#include "mb2.h"
#include "fuzz_copy.h"

static const uint8_t *buf;
static size_t buf_len;

/* [p, p + n) lies inside the block that mb2_parse declared valid. */
static int inside(const void *p, uint64_t n, uint32_t total)
{
    const uint8_t *q = p;
    if (q < buf || q > buf + total)
        return 0;
    return n <= (uint64_t)(buf + total - q);
}

/* A string is either the parser's "" default or a NUL-terminated run inside
 * the block; strnlen bounded by the block keeps this check itself in bounds. */
static void check_string(const char *s, uint32_t total)
{
    if (s == NULL)
        abort();
    if (!inside(s, 1, total)) {
        /* Only the default may live elsewhere, and never in the input's tail
         * past total_size, which the parser was told not to trust. */
        const uint8_t *q = (const uint8_t *)s;
        if ((q >= buf && q <= buf + buf_len) || *s != '\0')
            abort();
        return;
    }
    size_t room = (size_t)(buf + total - (const uint8_t *)s);
    if (strnlen(s, room) == room)
        abort();
}

static void check_info(const struct mb2_info *info)
{
    uint32_t total = info->total_size;
    if (total < 16 || total > MB2_MAX_INFO_SIZE || total % 8 != 0 || total > buf_len)
        abort();
    check_string(info->cmdline, total);
    check_string(info->loader_name, total);

    if (info->mmap == NULL || info->mmap_entry_size < sizeof(struct mb2_mmap_entry) ||
        info->mmap_entry_size % 8 != 0)
        abort();
    /* The kernel reads entries as structs of uint64_t: they must be aligned
     * relative to the (8-aligned) block. */
    if ((size_t)(info->mmap - buf) % 8 != 0)
        abort();
    if (!inside(info->mmap, (uint64_t)info->mmap_count * info->mmap_entry_size, total))
        abort();
    volatile uint64_t sink = 0;
    for (uint32_t i = 0; i < info->mmap_count; i++) {
        const struct mb2_mmap_entry *e = mb2_mmap_at(info, i);
        sink += e->base + e->length + e->type; /* touch it: ASan checks the read */
    }

    if (info->module_count > MB2_MAX_MODULES)
        abort();
    for (uint32_t i = 0; i < info->module_count; i++) {
        const struct mb2_module *m = &info->modules[i];
        if (m->end < m->start)
            abort();
        if (!inside(m->cmdline, 1, total))
            abort();
        check_string(m->cmdline, total);
    }
    if (info->acpi_rsdp &&
        (info->acpi_rsdp_len == 0 || !inside(info->acpi_rsdp, info->acpi_rsdp_len, total)))
        abort();
    if (!info->acpi_rsdp && info->acpi_rsdp_len)
        abort();
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = fuzz_copy(data, size);
    buf = copy;
    buf_len = size;

    struct mb2_info info;
    int rc = mb2_parse(copy, size, &info);
    if (rc == 0)
        check_info(&info);
    else if (rc != -E_TRUNC && rc != -E_INVAL && rc != -E_LIMIT && rc != -E_NOENT)
        abort();

    free(copy);
    return 0;
}
