/*
 * GDT and TSS setup (see gdt.h). The TSS supplies RSP0 (the stack for
 * interrupts from user mode) and the IST stacks, which give #DF, NMI and #MC
 * a known-good stack even when the current one is what broke.
 */
#include "gdt.h"

#include <stddef.h>

#include "pcpu.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "TSS layout is fixed by the CPU");

static struct tss tss[MAX_CPUS] __attribute__((aligned(16)));
static uint64_t gdt_of[MAX_CPUS][8] __attribute__((aligned(16)));

/* Until vm_init installs guarded stacks, faults during the bootstrap CPU's
 * early boot land on these (only needed if boot itself goes wrong). Other
 * CPUs get their guarded IST stacks before they start. */
static uint8_t early_ist_stack[3][4096] __attribute__((aligned(16)));

void tss_set_rsp0(unsigned cpu, uint64_t top)
{
    tss[cpu].rsp[0] = top;
}

void tss_set_ist(unsigned cpu, int n, uint64_t top)
{
    tss[cpu].ist[n - 1] = top;
}

extern void gdt_reload_segments(void);

void gdt_init(unsigned cpu)
{
    uint64_t *gdt = gdt_of[cpu];
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffull; /* 0x08 kernel code 64, DPL 0 */
    gdt[2] = 0x00cf92000000ffffull; /* 0x10 kernel data */
    gdt[3] = 0; /* 0x18: SYSRET's base, never loaded: no 32-bit user code exists, so
                 * user code cannot enter compatibility mode (see syscall_entry_compat) */
    gdt[4] = 0x00cff2000000ffffull; /* 0x20 user data, DPL 3 */
    gdt[5] = 0x00affa000000ffffull; /* 0x28 user code 64, DPL 3 */
    uint64_t base = (uint64_t)&tss[cpu], limit = sizeof(tss[cpu]) - 1;
    gdt[6] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
             ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
    gdt[7] = base >> 32;

    /* An I/O map base past the limit means "no I/O bitmap": every port
     * access from ring 3 faults (IOPL stays 0). */
    tss[cpu].iomap_base = sizeof(tss[cpu]);
    if (cpu == 0)
        for (int i = 0; i < 3; i++)
            tss[0].ist[i] = (uint64_t)(early_ist_stack[i] + sizeof(early_ist_stack[i]));

    struct dtr d = {sizeof(gdt_of[cpu]) - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0" ::"m"(d));
    gdt_reload_segments();
    __asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}
