/*
 * Multiboot2 boot-information parser. Pure logic (no kernel state), so the
 * host unit tests compile this same file. The parser validates sizes before
 * it reads anything: a corrupt block is an error code, never a wild read.
 */
#ifndef MB2_H
#define MB2_H

#include <stddef.h>
#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u
#define MB2_MAX_MODULES      32
#define MB2_MAX_INFO_SIZE    (1u << 20) /* sanity bound on total_size */

/* clang-format off */
#define MB2_TAG_END         0
#define MB2_TAG_CMDLINE     1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE      3
#define MB2_TAG_MMAP        6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ACPI_OLD    14 /* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW    15 /* a copy of the ACPI 2.0+ RSDP */

#define MB2_MEM_AVAILABLE   1
/* clang-format on */

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

struct mb2_module {
    uint32_t start; /* physical, [start, end) */
    uint32_t end;
    const char *cmdline; /* points into the info block, NUL-terminated */
};

struct mb2_info {
    uint32_t total_size;
    const char *cmdline;     /* "" when absent */
    const char *loader_name; /* "" when absent */
    const uint8_t *mmap;     /* first entry; entries are mmap_entry_size apart */
    uint32_t mmap_count;
    uint32_t mmap_entry_size;
    uint32_t module_count;
    struct mb2_module modules[MB2_MAX_MODULES];
    const uint8_t *acpi_rsdp; /* the RSDP copy (the 2.0+ one if both), 0 when absent */
    uint32_t acpi_rsdp_len;   /* its bytes inside the block; acpi_parse checks the rest */
};

/*
 * Parse the boot information at `info`, of which at most `avail` bytes are
 * readable. Returns 0, or -E_TRUNC (block or a tag runs past its end),
 * -E_INVAL (malformed tag, missing end tag, unterminated string),
 * -E_LIMIT (too many modules), -E_NOENT (no memory map).
 */
int mb2_parse(const void *info, size_t avail, struct mb2_info *out);

/* Entry i of the memory map; precondition: i < info->mmap_count. */
static inline const struct mb2_mmap_entry *mb2_mmap_at(const struct mb2_info *info, uint32_t i)
{
    return (const struct mb2_mmap_entry *)(const void *)(info->mmap +
                                                         (size_t)i * info->mmap_entry_size);
}

#endif
