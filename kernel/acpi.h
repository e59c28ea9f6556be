/*
 * ACPI table parser: from the RSDP (a copy in the Multiboot2 information)
 * through the RSDT or XSDT to the MADT, which lists the CPUs' local APICs and
 * the I/O APICs. Pure logic: physical memory is reached only through the
 * caller's acpi_mem, so the host tests and the fuzzer compile this file as is.
 */
#ifndef ACPI_H
#define ACPI_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS        64
#define ACPI_MAX_IOAPICS     8
#define ACPI_MAX_OVERRIDES   16
#define ACPI_MAX_TABLE_SIZE  (1u << 20) /* sanity bound on any table's length */
#define ACPI_MAX_SDT_ENTRIES 256        /* RSDT/XSDT entries looked at */

/* Physical memory as the parser sees it: map(ctx, pa, len) returns a pointer
 * to len readable bytes at pa, or 0 when any of them is not there. */
struct acpi_mem {
    const void *(*map)(void *ctx, uint64_t pa, uint64_t len);
    void *ctx;
};

struct acpi_ioapic {
    uint32_t id;
    uint32_t addr;     /* physical MMIO base */
    uint32_t gsi_base; /* first global system interrupt it serves */
};

/* An ISA IRQ wired to another global system interrupt (MADT type 2). */
struct acpi_override {
    uint8_t irq;
    uint32_t gsi;
    uint16_t flags; /* polarity and trigger mode, as in the MADT */
};

struct acpi_info {
    int xsdt;                     /* the tables came through the XSDT (RSDP revision >= 2) */
    uint64_t lapic_addr;          /* physical base of the local APICs (override applied) */
    int pcat_compat;              /* MADT flag: 8259 PICs present too */
    uint32_t cpu_count;           /* usable CPUs (enabled or online-capable), in table order */
    uint32_t cpus[ACPI_MAX_CPUS]; /* their APIC IDs, each once */
    uint32_t cpus_dropped;        /* usable CPUs past ACPI_MAX_CPUS, left out */
    uint32_t ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    uint32_t override_count;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
};

/*
 * Parse from the RSDP at `rsdp` (rsdp_len readable bytes: the Multiboot2 tag's
 * body). Returns 0, or -E_TRUNC (RSDP, a table or a MADT entry shorter than
 * it says, or memory the map callback does not have), -E_INVAL (bad
 * signature or checksum, malformed length or entry), -E_NOENT (no MADT).
 * Every table's checksum is checked before any field past its header is used.
 */
int acpi_parse(const void *rsdp, size_t rsdp_len, const struct acpi_mem *mem,
               struct acpi_info *out);

#endif
