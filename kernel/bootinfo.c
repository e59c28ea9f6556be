/*
 * Boot information kept by the kernel (see bootinfo.h). Module lines are
 * "name args...": GRUB passes whatever follows the path on a module2 line.
 */
#include "bootinfo.h"

#include <common/string.h>

struct bootinfo bootinfo;

static void split_module_line(const char *line, struct boot_module *m)
{
    while (*line == ' ')
        line++;
    int n = 0;
    while (line[n] && line[n] != ' ' && n < MODULE_NAME_MAX - 1)
        n++;
    memcpy(m->name, line, (size_t)n);
    m->name[n] = '\0';
    line += n;
    while (*line && *line != ' ') /* name longer than we keep: skip the rest */
        line++;
    while (*line == ' ')
        line++;
    strncpy_safe(m->args, line, sizeof(m->args));
}

void bootinfo_init(const struct mb2_info *mb)
{
    strncpy_safe(bootinfo.cmdline, mb->cmdline, sizeof(bootinfo.cmdline));
    strncpy_safe(bootinfo.loader, mb->loader_name, sizeof(bootinfo.loader));
    bootinfo.module_count = mb->module_count;
    for (uint32_t i = 0; i < mb->module_count; i++) {
        struct boot_module *m = &bootinfo.modules[i];
        m->start = mb->modules[i].start;
        m->end = mb->modules[i].end;
        split_module_line(mb->modules[i].cmdline, m);
    }
    /* A longer tag is cut, not refused: acpi_parse sees the cut and says so. */
    uint32_t n = mb->acpi_rsdp_len;
    if (n > sizeof(bootinfo.acpi_rsdp))
        n = sizeof(bootinfo.acpi_rsdp);
    if (n)
        memcpy(bootinfo.acpi_rsdp, mb->acpi_rsdp, n);
    bootinfo.acpi_rsdp_len = n;
}

const struct boot_module *bootinfo_module(const char *name)
{
    for (uint32_t i = 0; i < bootinfo.module_count; i++)
        if (strcmp(bootinfo.modules[i].name, name) == 0)
            return &bootinfo.modules[i];
    return 0;
}

int cmdline_get(const char *key, char *buf, int size)
{
    size_t klen = strlen(key);
    const char *p = bootinfo.cmdline;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - word) < klen || strncmp(word, key, klen) != 0)
            continue;
        const char *rest = word + klen;
        if (rest == p || *rest == '=') {
            int n = 0;
            if (*rest == '=')
                for (rest++; rest < p && n < size - 1; rest++)
                    buf[n++] = *rest;
            if (size > 0)
                buf[n] = '\0';
            return 1;
        }
    }
    return 0;
}
