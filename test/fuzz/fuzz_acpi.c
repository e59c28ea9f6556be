/*
 * libFuzzer target for the ACPI MADT parser (kernel/acpi.c). Input: one byte
 * n, then n bytes of RSDP copy (as the Multiboot2 tag hands it over), then
 * physical memory from FUZZ_MEM_BASE on. Each map() gets its own exactly-sized
 * copy, so a read past the bytes the parser asked for is an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <abi/errno.h>

#include "acpi.h"
#include "fuzz_copy.h"

#define FUZZ_MEM_BASE 0x1000u
#define MAX_MAPS      (ACPI_MAX_SDT_ENTRIES + 8)

struct fuzz_mem {
    const uint8_t *mem;
    size_t len;
    void *maps[MAX_MAPS];
    int n;
};

static const void *fuzz_map(void *ctx, uint64_t pa, uint64_t len)
{
    struct fuzz_mem *m = ctx;
    if (pa < FUZZ_MEM_BASE || pa - FUZZ_MEM_BASE > m->len || len > m->len - (pa - FUZZ_MEM_BASE))
        return 0;
    if (m->n == MAX_MAPS)
        abort(); /* the parser maps more than its table limits allow */
    void *p = fuzz_copy(m->mem + (pa - FUZZ_MEM_BASE), len);
    m->maps[m->n++] = p;
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t rsdp_len = data[0] % 40;
    if (rsdp_len > size - 1)
        rsdp_len = size - 1;
    uint8_t *rsdp = fuzz_copy(data + 1, rsdp_len);
    struct fuzz_mem m = {.mem = data + 1 + rsdp_len, .len = size - 1 - rsdp_len};
    const struct acpi_mem am = {fuzz_map, &m};

    struct acpi_info ai;
    int rc = acpi_parse(rsdp, rsdp_len, &am, &ai);
    if (rc == 0) {
        if (ai.cpu_count > ACPI_MAX_CPUS || ai.ioapic_count > ACPI_MAX_IOAPICS ||
            ai.override_count > ACPI_MAX_OVERRIDES)
            abort();
        for (uint32_t i = 0; i < ai.cpu_count; i++)
            for (uint32_t j = i + 1; j < ai.cpu_count; j++)
                if (ai.cpus[i] == ai.cpus[j])
                    abort();
    } else if (rc != -E_TRUNC && rc != -E_INVAL && rc != -E_NOENT) {
        abort();
    }

    for (int i = 0; i < m.n; i++)
        free(m.maps[i]);
    free(rsdp);
    return 0;
}
