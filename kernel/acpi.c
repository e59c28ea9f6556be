/*
 * ACPI MADT discovery (see acpi.h). Firmware tables are untrusted input: every
 * length is checked against the bytes that exist, and a table's checksum is
 * checked before its body is used. Fields are read byte by byte because ACPI
 * tables are packed and need not be aligned.
 */
#include "acpi.h"

#include <abi/errno.h>

#define SDT_HEADER  36
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

/* clang-format off */
#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_OVERRIDE       2
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9

#define LAPIC_ENABLED        1u
#define LAPIC_ONLINE_CAPABLE 2u
/* clang-format on */

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static int sum_ok(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s == 0;
}

static int sig_is(const uint8_t *p, const char *sig, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)sig[i])
            return 0;
    return 1;
}

/* The whole table at pa, checked (length, checksum); *len gets its length.
 * sig may be 0 (any table: the caller looks at the signature). */
static int map_table(const struct acpi_mem *mem, uint64_t pa, const char *sig,
                     const uint8_t **table, uint32_t *len)
{
    const uint8_t *h = mem->map(mem->ctx, pa, SDT_HEADER);
    if (!h)
        return -E_TRUNC;
    if (sig && !sig_is(h, sig, 4))
        return -E_INVAL;
    uint32_t n = rd32(h + 4);
    if (n < SDT_HEADER || n > ACPI_MAX_TABLE_SIZE)
        return -E_INVAL;
    const uint8_t *t = mem->map(mem->ctx, pa, n);
    if (!t)
        return -E_TRUNC;
    if (!sum_ok(t, n))
        return -E_INVAL;
    *table = t;
    *len = n;
    return 0;
}

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t flags)
{
    if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
        return;
    /* Firmware lists some CPUs twice (xAPIC and x2APIC entries): once each. */
    for (uint32_t i = 0; i < out->cpu_count; i++)
        if (out->cpus[i] == apic_id)
            return;
    if (out->cpu_count < ACPI_MAX_CPUS)
        out->cpus[out->cpu_count++] = apic_id;
    else
        out->cpus_dropped++;
}

/* Minimum length of each entry type the parser reads; 0: skipped unread. */
static uint32_t entry_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC:
        return 8;
    case MADT_IOAPIC:
        return 12;
    case MADT_OVERRIDE:
        return 10;
    case MADT_LAPIC_OVERRIDE:
        return 12;
    case MADT_X2APIC:
        return 16;
    default:
        return 0;
    }
}

static int parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
    if (len < SDT_HEADER + 8)
        return -E_TRUNC;
    out->lapic_addr = rd32(t + SDT_HEADER);
    out->pcat_compat = rd32(t + SDT_HEADER + 4) & 1;
    uint32_t off = SDT_HEADER + 8;
    while (off < len) {
        if (len - off < 2)
            return -E_TRUNC;
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2)
            return -E_INVAL; /* would loop forever or walk backwards */
        if (elen > len - off)
            return -E_TRUNC;
        if (elen < entry_min_len(type))
            return -E_INVAL;
        switch (type) {
        case MADT_LAPIC:
            add_cpu(out, e[3], rd32(e + 4));
            break;
        case MADT_X2APIC:
            add_cpu(out, rd32(e + 4), rd32(e + 8));
            break;
        case MADT_IOAPIC:
            if (out->ioapic_count < ACPI_MAX_IOAPICS)
                out->ioapics[out->ioapic_count++] =
                    (struct acpi_ioapic){e[2], rd32(e + 4), rd32(e + 8)};
            break;
        case MADT_OVERRIDE:
            if (out->override_count < ACPI_MAX_OVERRIDES)
                out->overrides[out->override_count++] =
                    (struct acpi_override){e[3], rd32(e + 4), (uint16_t)rd16(e + 8)};
            break;
        case MADT_LAPIC_OVERRIDE:
            out->lapic_addr = rd64(e + 4);
            break;
        default: /* NMI sources and the rest: not used yet */
            break;
        }
        off += elen;
    }
    return 0;
}

int acpi_parse(const void *rsdp, size_t rsdp_len, const struct acpi_mem *mem, struct acpi_info *out)
{
    const uint8_t *r = rsdp;
    *out = (struct acpi_info){0};
    if (!r || rsdp_len < RSDP_V1_LEN)
        return -E_TRUNC;
    if (!sig_is(r, "RSD PTR ", 8) || !sum_ok(r, RSDP_V1_LEN))
        return -E_INVAL;

    /* ACPI 2.0+: the XSDT (64-bit entries) is authoritative when present. */
    uint64_t sdt_pa = rd32(r + 16);
    uint32_t entry_size = 4;
    if (r[15] >= 2) {
        if (rsdp_len < RSDP_V2_LEN)
            return -E_TRUNC;
        uint32_t n = rd32(r + 20);
        if (n < RSDP_V2_LEN || n > rsdp_len)
            return n < RSDP_V2_LEN ? -E_INVAL : -E_TRUNC;
        if (!sum_ok(r, n))
            return -E_INVAL;
        uint64_t x = rd64(r + 24);
        if (x) {
            sdt_pa = x;
            entry_size = 8;
            out->xsdt = 1;
        }
    }

    const uint8_t *sdt;
    uint32_t sdt_len;
    int rc = map_table(mem, sdt_pa, entry_size == 8 ? "XSDT" : "RSDT", &sdt, &sdt_len);
    if (rc < 0)
        return rc;
    uint32_t entries = (sdt_len - SDT_HEADER) / entry_size;
    if (entries > ACPI_MAX_SDT_ENTRIES)
        entries = ACPI_MAX_SDT_ENTRIES;
    for (uint32_t i = 0; i < entries; i++) {
        const uint8_t *p = sdt + SDT_HEADER + (size_t)i * entry_size;
        uint64_t pa = entry_size == 8 ? rd64(p) : rd32(p);
        const uint8_t *h = mem->map(mem->ctx, pa, 4);
        if (!h || !sig_is(h, "APIC", 4))
            continue; /* other tables (and unreadable ones) are not ours to judge */
        const uint8_t *madt;
        uint32_t madt_len;
        rc = map_table(mem, pa, "APIC", &madt, &madt_len);
        if (rc == 0)
            rc = parse_madt(madt, madt_len, out);
        if (rc < 0)
            *out = (struct acpi_info){0}; /* nothing half-parsed */
        return rc;
    }
    return -E_NOENT;
}
