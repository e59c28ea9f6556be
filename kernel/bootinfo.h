/*
 * What the kernel keeps from the Multiboot2 information: its command line,
 * the boot modules and the ACPI RSDP (copied out, so nothing points into the loader's
 * block after boot).
 */
#ifndef BOOTINFO_H
#define BOOTINFO_H

#include <abi/kcall.h>
#include <stdint.h>

#include "mb2.h"

#define BOOT_CMDLINE_MAX 256
#define MODULE_NAME_MAX  32
#define MODULE_ARGS_MAX  KC_ARGS_MAX /* KC_MODULE_INFO shows the first 127 bytes */

struct boot_module {
    uint64_t start, end;        /* physical, [start, end) */
    char name[MODULE_NAME_MAX]; /* first word of the module2 line */
    char args[MODULE_ARGS_MAX]; /* the rest of it */
};

struct bootinfo {
    char cmdline[BOOT_CMDLINE_MAX];
    char loader[64];
    uint32_t module_count;
    struct boot_module modules[MB2_MAX_MODULES];
    uint8_t acpi_rsdp[64];  /* the loader's RSDP copy (36 bytes for ACPI 2.0+) */
    uint32_t acpi_rsdp_len; /* 0: the loader gave none */
};

extern struct bootinfo bootinfo;

/* Copy what we need out of a parsed block. */
void bootinfo_init(const struct mb2_info *mb);

/* The module whose name is `name`, or 0. */
const struct boot_module *bootinfo_module(const char *name);

/* Value of "key=value" on the kernel command line (copied into buf), 1 if a
 * bare "key" is present (buf empty), 0 if absent. */
int cmdline_get(const char *key, char *buf, int size);

#endif
