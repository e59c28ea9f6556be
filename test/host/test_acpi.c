/*
 * Host tests for the ACPI MADT parser (kernel/acpi.c): tables as QEMU's
 * firmware lays them out (RSDT) and as ACPI 2.0+ machines do (XSDT, x2APIC
 * entries), then every length, signature and checksum check, and a seeded
 * mutation loop. Physical memory is an exactly-sized heap buffer, so ASan
 * flags any read the map callback did not hand out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <abi/errno.h>

#include "acpi.h"
#include "hostlib.h"

/* ---- a small physical memory with tables in it ---- */

#define MEM_BASE 0x7fe0000ull
#define MEM_SIZE 16384
#define RSDT_OFF 0x100
#define XSDT_OFF 0x200
#define FACP_OFF 0x300
#define MADT_OFF 0x400

struct mem {
    uint8_t *buf; /* MEM_SIZE bytes standing for [MEM_BASE, MEM_BASE + MEM_SIZE) */
    uint8_t rsdp[36];
    size_t rsdp_len;
    size_t madt_len; /* bytes of MADT written so far */
};

static const void *mem_map(void *ctx, uint64_t pa, uint64_t len)
{
    struct mem *m = ctx;
    if (pa < MEM_BASE || pa - MEM_BASE > MEM_SIZE || len > MEM_SIZE - (pa - MEM_BASE))
        return 0;
    return m->buf + (pa - MEM_BASE);
}

static void fix_sum(uint8_t *p, size_t n, size_t sum_at)
{
    p[sum_at] = 0;
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    p[sum_at] = (uint8_t)-s;
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len)
{
    memset(t, 0, 36);
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = 1;
    memcpy(t + 10, "GRANIT", 6);
}

static void sdt_fix(struct mem *m, size_t off)
{
    uint32_t len;
    memcpy(&len, m->buf + off + 4, 4);
    fix_sum(m->buf + off, len, 9);
}

static void rsdp_v1(struct mem *m, uint32_t rsdt)
{
    memset(m->rsdp, 0, sizeof(m->rsdp));
    memcpy(m->rsdp, "RSD PTR ", 8);
    memcpy(m->rsdp + 9, "BOCHS ", 6);
    put32(m->rsdp + 16, rsdt);
    fix_sum(m->rsdp, 20, 8);
    m->rsdp_len = 20;
}

static void rsdp_v2(struct mem *m, uint32_t rsdt, uint64_t xsdt)
{
    rsdp_v1(m, rsdt);
    m->rsdp[15] = 2;
    fix_sum(m->rsdp, 20, 8);
    put32(m->rsdp + 20, 36);
    put64(m->rsdp + 24, xsdt);
    fix_sum(m->rsdp, 36, 32);
    m->rsdp_len = 36;
}

/* An RSDT (entry 4) or XSDT (entry 8) listing `n` tables. */
static void sdt(struct mem *m, size_t off, const char *sig, int entry, const uint64_t *pa, int n)
{
    uint8_t *t = m->buf + off;
    sdt_header(t, sig, (uint32_t)(36 + n * entry));
    for (int i = 0; i < n; i++) {
        if (entry == 8)
            put64(t + 36 + i * 8, pa[i]);
        else
            put32(t + 36 + i * 4, (uint32_t)pa[i]);
    }
    sdt_fix(m, off);
}

static void facp(struct mem *m)
{
    sdt_header(m->buf + FACP_OFF, "FACP", 116);
    sdt_fix(m, FACP_OFF);
}

static void madt_begin(struct mem *m, uint32_t lapic, uint32_t flags)
{
    uint8_t *t = m->buf + MADT_OFF;
    sdt_header(t, "APIC", 44);
    put32(t + 36, lapic);
    put32(t + 40, flags);
    m->madt_len = 44;
}

static uint8_t *madt_entry(struct mem *m, uint8_t type, uint8_t len)
{
    uint8_t *e = m->buf + MADT_OFF + m->madt_len;
    assert_true(MADT_OFF + m->madt_len + len <= MEM_SIZE);
    memset(e, 0, len);
    e[0] = type;
    e[1] = len;
    m->madt_len += len;
    return e;
}

static void madt_lapic(struct mem *m, uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t *e = madt_entry(m, 0, 8);
    e[2] = uid;
    e[3] = id;
    put32(e + 4, flags);
}

static void madt_x2apic(struct mem *m, uint32_t id, uint32_t flags)
{
    uint8_t *e = madt_entry(m, 9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
}

static void madt_ioapic(struct mem *m, uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint8_t *e = madt_entry(m, 1, 12);
    e[2] = id;
    put32(e + 4, addr);
    put32(e + 8, gsi);
}

static void madt_override(struct mem *m, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = madt_entry(m, 2, 10);
    e[3] = irq;
    put32(e + 4, gsi);
    put16(e + 8, flags);
}

static void madt_end(struct mem *m)
{
    put32(m->buf + MADT_OFF + 4, (uint32_t)m->madt_len);
    sdt_fix(m, MADT_OFF);
}

static struct mem *mem_new(void)
{
    struct mem *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->buf = calloc(1, MEM_SIZE);
    assert_non_null(m->buf);
    return m;
}

static void mem_free(struct mem *m)
{
    free(m->buf);
    free(m);
}

/* QEMU's i440fx/SeaBIOS layout: RSDP 1.0, RSDT -> FACP, APIC; two CPUs, an
 * I/O APIC at 0xfec00000 and the usual overrides (IRQ 0 on GSI 2). */
static struct mem *build_qemu(void)
{
    struct mem *m = mem_new();
    rsdp_v1(m, (uint32_t)(MEM_BASE + RSDT_OFF));
    const uint64_t tabs[] = {MEM_BASE + FACP_OFF, MEM_BASE + MADT_OFF};
    sdt(m, RSDT_OFF, "RSDT", 4, tabs, 2);
    facp(m);
    madt_begin(m, 0xfee00000u, 1);
    madt_lapic(m, 0, 0, 1);
    madt_lapic(m, 1, 1, 1);
    madt_ioapic(m, 0, 0xfec00000u, 0);
    madt_override(m, 0, 2, 0);
    madt_override(m, 9, 9, 0xd);
    madt_end(m);
    return m;
}

/* Parse with the RSDP in an exactly-sized heap copy. */
static int parse(struct mem *m, struct acpi_info *out)
{
    uint8_t *r = malloc(m->rsdp_len ? m->rsdp_len : 1);
    assert_non_null(r);
    memcpy(r, m->rsdp, m->rsdp_len);
    const struct acpi_mem am = {mem_map, m};
    int rc = acpi_parse(r, m->rsdp_len, &am, out);
    free(r);
    return rc;
}

/* ---- well-formed tables ---- */

static void test_qemu_rsdt(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), 0);
    assert_int_equal(ai.xsdt, 0);
    assert_int_equal(ai.lapic_addr, 0xfee00000u);
    assert_int_equal(ai.pcat_compat, 1);
    assert_int_equal(ai.cpu_count, 2);
    assert_int_equal(ai.cpus[0], 0);
    assert_int_equal(ai.cpus[1], 1);
    assert_int_equal(ai.cpus_dropped, 0);
    assert_int_equal(ai.ioapic_count, 1);
    assert_int_equal(ai.ioapics[0].addr, 0xfec00000u);
    assert_int_equal(ai.ioapics[0].gsi_base, 0);
    assert_int_equal(ai.override_count, 2);
    assert_int_equal(ai.overrides[0].irq, 0);
    assert_int_equal(ai.overrides[0].gsi, 2);
    assert_int_equal(ai.overrides[1].irq, 9);
    assert_int_equal(ai.overrides[1].flags, 0xd);
    mem_free(m);
}

static void test_xsdt_preferred(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    /* The RSDT names a table with a broken checksum: only the XSDT counts. */
    const uint64_t bad[] = {MEM_BASE + 0x800};
    sdt(m, RSDT_OFF, "RSDT", 4, bad, 1);
    sdt_header(m->buf + 0x800, "APIC", 44);
    m->buf[0x800 + 9] = 1;
    const uint64_t tabs[] = {MEM_BASE + FACP_OFF, MEM_BASE + MADT_OFF};
    sdt(m, XSDT_OFF, "XSDT", 8, tabs, 2);
    madt_begin(m, 0xfee00000u, 0);
    madt_x2apic(m, 0x100, 1);
    madt_lapic(m, 0, 3, 2); /* online-capable counts */
    madt_lapic(m, 1, 4, 0); /* disabled: not a CPU we may start */
    madt_x2apic(m, 3, 1);   /* the same CPU twice: once */
    uint8_t *ov = madt_entry(m, 5, 12);
    put64(ov + 4, 0xfed00000ull);
    madt_end(m);
    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), MEM_BASE + XSDT_OFF);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), 0);
    assert_int_equal(ai.xsdt, 1);
    assert_int_equal(ai.pcat_compat, 0);
    assert_int_equal(ai.lapic_addr, 0xfed00000ull);
    assert_int_equal(ai.cpu_count, 2);
    assert_int_equal(ai.cpus[0], 0x100);
    assert_int_equal(ai.cpus[1], 3);
    assert_int_equal(ai.ioapic_count, 0);
    mem_free(m);
}

static void test_v2_without_xsdt_uses_rsdt(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), 0);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), 0);
    assert_int_equal(ai.xsdt, 0);
    assert_int_equal(ai.cpu_count, 2);
    mem_free(m);
}

static void test_unknown_entries_skipped(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    uint8_t *nmi = madt_entry(m, 4, 6); /* local APIC NMI */
    nmi[2] = 0xff;
    madt_entry(m, 0x7f, 2);  /* the shortest entry there is */
    madt_entry(m, 0x80, 40); /* OEM entry */
    madt_lapic(m, 2, 2, 1);
    madt_end(m);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), 0);
    assert_int_equal(ai.cpu_count, 3);
    assert_int_equal(ai.cpus[2], 2);
    mem_free(m);
}

static void test_cpu_limit(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    for (uint32_t i = 2; i < ACPI_MAX_CPUS + 5; i++)
        madt_x2apic(m, i, 1);
    madt_end(m);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), 0);
    assert_int_equal(ai.cpu_count, ACPI_MAX_CPUS);
    assert_int_equal(ai.cpus_dropped, 5);
    assert_int_equal(ai.cpus[ACPI_MAX_CPUS - 1], ACPI_MAX_CPUS - 1);
    mem_free(m);
}

/* ---- the RSDP ---- */

static void test_rsdp_short(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    struct acpi_info ai;
    m->rsdp_len = 19;
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    m->rsdp_len = 0;
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    const struct acpi_mem am = {mem_map, m};
    assert_int_equal(acpi_parse(NULL, 36, &am, &ai), -E_TRUNC);
    mem_free(m);
}

static void test_rsdp_bad_signature(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    m->rsdp[7] = '_'; /* "RSD PTR_" */
    fix_sum(m->rsdp, 20, 8);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_INVAL);
    mem_free(m);
}

static void test_rsdp_bad_checksum(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    m->rsdp[8]++;
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_INVAL);
    mem_free(m);
}

static void test_rsdp_v2_problems(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    struct acpi_info ai;
    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), MEM_BASE + XSDT_OFF);
    m->rsdp_len = 20; /* revision 2 in a 1.0-sized copy */
    assert_int_equal(parse(m, &ai), -E_TRUNC);

    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), MEM_BASE + XSDT_OFF);
    m->rsdp[32]++; /* extended checksum */
    assert_int_equal(parse(m, &ai), -E_INVAL);

    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), MEM_BASE + XSDT_OFF);
    put32(m->rsdp + 20, 20); /* length below the 2.0 structure */
    fix_sum(m->rsdp, 36, 32);
    assert_int_equal(parse(m, &ai), -E_INVAL);

    rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), MEM_BASE + XSDT_OFF);
    put32(m->rsdp + 20, 37); /* past the bytes the loader copied */
    fix_sum(m->rsdp, 36, 32);
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    mem_free(m);
}

/* ---- the RSDT/XSDT and the MADT ---- */

static void test_sdt_outside_memory(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    struct acpi_info ai;
    rsdp_v1(m, 0x1000);
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    rsdp_v1(m, (uint32_t)(MEM_BASE + MEM_SIZE - 20)); /* header runs off the end */
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    mem_free(m);
}

static void test_sdt_bad(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    struct acpi_info ai;
    uint8_t *t = m->buf + RSDT_OFF;

    t[0] = 'X'; /* "XSDT" where the RSDP promised an RSDT */
    sdt_fix(m, RSDT_OFF);
    assert_int_equal(parse(m, &ai), -E_INVAL);
    t[0] = 'R';
    sdt_fix(m, RSDT_OFF);
    assert_int_equal(parse(m, &ai), 0);

    t[20]++; /* checksum */
    assert_int_equal(parse(m, &ai), -E_INVAL);
    t[20]--;

    put32(t + 4, 35); /* shorter than its own header */
    assert_int_equal(parse(m, &ai), -E_INVAL);
    put32(t + 4, ACPI_MAX_TABLE_SIZE + 1);
    assert_int_equal(parse(m, &ai), -E_INVAL);
    put32(t + 4, MEM_SIZE); /* past the end of memory */
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    mem_free(m);
}

static void test_no_madt(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    const uint64_t tabs[] = {MEM_BASE + FACP_OFF, 0xffffffffull, 0x10};
    sdt(m, RSDT_OFF, "RSDT", 4, tabs, 3); /* unreadable entries are skipped */
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_NOENT);
    sdt(m, RSDT_OFF, "RSDT", 4, tabs, 0);
    assert_int_equal(parse(m, &ai), -E_NOENT);
    mem_free(m);
}

static void test_madt_bad_checksum(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    m->buf[MADT_OFF + 44 + 3] ^= 1; /* the first CPU's APIC ID */
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_INVAL);
    assert_int_equal(ai.cpu_count, 0);
    mem_free(m);
}

static void test_madt_too_short(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    put32(m->buf + MADT_OFF + 4, 40); /* header, but no local APIC address and flags */
    sdt_fix(m, MADT_OFF);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_TRUNC);
    mem_free(m);
}

static void test_madt_entry_zero_length(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    madt_entry(m, 0x7f, 2)[1] = 0; /* would never advance */
    madt_end(m);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_INVAL);
    assert_int_equal(ai.cpu_count, 0); /* nothing half-parsed */
    mem_free(m);
}

static void test_madt_entry_past_end(void **state)
{
    (void)state;
    struct mem *m = build_qemu();
    uint8_t *e = madt_entry(m, 0, 8);
    madt_end(m);
    e[1] = 9; /* one byte past the table */
    sdt_fix(m, MADT_OFF);
    struct acpi_info ai;
    assert_int_equal(parse(m, &ai), -E_TRUNC);

    /* A lone type byte at the very end. */
    struct mem *m2 = build_qemu();
    m2->madt_len += 1;
    m2->buf[MADT_OFF + m2->madt_len - 1] = 0;
    madt_end(m2);
    assert_int_equal(parse(m2, &ai), -E_TRUNC);
    mem_free(m);
    mem_free(m2);
}

static void test_madt_entry_too_short_for_type(void **state)
{
    (void)state;
    static const uint8_t types[] = {0, 1, 2, 5, 9};
    static const uint8_t lens[] = {7, 11, 9, 11, 15};
    for (size_t i = 0; i < sizeof(types); i++) {
        struct mem *m = build_qemu();
        madt_entry(m, types[i], lens[i]);
        madt_end(m);
        struct acpi_info ai;
        assert_int_equal(parse(m, &ai), -E_INVAL);
        mem_free(m);
    }
}

/* ---- mutation ---- */

static void check_success(const struct acpi_info *ai)
{
    assert_true(ai->cpu_count <= ACPI_MAX_CPUS);
    assert_true(ai->ioapic_count <= ACPI_MAX_IOAPICS);
    assert_true(ai->override_count <= ACPI_MAX_OVERRIDES);
    for (uint32_t i = 0; i < ai->cpu_count; i++)
        for (uint32_t j = i + 1; j < ai->cpu_count; j++)
            assert_true(ai->cpus[i] != ai->cpus[j]);
}

static void test_mutations(void **state)
{
    (void)state;
    static const uint8_t interesting[] = {0, 1, 2, 8, 9, 10, 12, 16, 35, 36, 44, 0x7f, 0x80, 0xff};
    unsigned ok = 0, fail = 0;
    rng_state = 0x61637069206d6164ull;
    for (int iter = 0; iter < 5000; iter++) {
        struct mem *m = build_qemu();
        if (iter % 2)
            rsdp_v2(m, (uint32_t)(MEM_BASE + RSDT_OFF), 0);
        unsigned flips = 1 + (unsigned)(rng() % 4);
        for (unsigned k = 0; k < flips; k++) {
            /* Mostly the MADT and the RSDT, where the lengths are. */
            size_t pos;
            switch (rng() % 4) {
            case 0:
                pos = RSDT_OFF + (size_t)(rng() % 48);
                break;
            case 1:
                pos = (size_t)(rng() % m->rsdp_len);
                mutate_byte(m->rsdp, pos, interesting, sizeof(interesting));
                continue;
            default:
                pos = MADT_OFF + (size_t)(rng() % m->madt_len);
                break;
            }
            mutate_byte(m->buf, pos, interesting, sizeof(interesting));
        }
        /* Half the time the checksums are made right again, so the
         * mutations reach the length and entry checks behind them. */
        if (rng() % 2) {
            uint32_t len;
            memcpy(&len, m->buf + MADT_OFF + 4, 4);
            if (len <= MEM_SIZE - MADT_OFF)
                sdt_fix(m, MADT_OFF);
            memcpy(&len, m->buf + RSDT_OFF + 4, 4);
            if (len <= MEM_SIZE - RSDT_OFF)
                sdt_fix(m, RSDT_OFF);
        }
        struct acpi_info ai;
        int rc = parse(m, &ai);
        if (rc == 0) {
            check_success(&ai);
            ok++;
        } else {
            assert_true(rc == -E_TRUNC || rc == -E_INVAL || rc == -E_NOENT);
            fail++;
        }
        mem_free(m);
    }
    assert_true(ok > 100);
    assert_true(fail > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_rsdt),
        cmocka_unit_test(test_xsdt_preferred),
        cmocka_unit_test(test_v2_without_xsdt_uses_rsdt),
        cmocka_unit_test(test_unknown_entries_skipped),
        cmocka_unit_test(test_cpu_limit),
        cmocka_unit_test(test_rsdp_short),
        cmocka_unit_test(test_rsdp_bad_signature),
        cmocka_unit_test(test_rsdp_bad_checksum),
        cmocka_unit_test(test_rsdp_v2_problems),
        cmocka_unit_test(test_sdt_outside_memory),
        cmocka_unit_test(test_sdt_bad),
        cmocka_unit_test(test_no_madt),
        cmocka_unit_test(test_madt_bad_checksum),
        cmocka_unit_test(test_madt_too_short),
        cmocka_unit_test(test_madt_entry_zero_length),
        cmocka_unit_test(test_madt_entry_past_end),
        cmocka_unit_test(test_madt_entry_too_short_for_type),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
