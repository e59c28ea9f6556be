/*
 * Local APIC driver (see apic.h). The registers sit in one uncached kernel
 * page at APIC_VA; every CPU's APIC answers at the same physical address,
 * so one mapping serves them all.
 */
#include "apic.h"

#include <abi/errno.h>

#include "../../klog.h"
#include "cpu.h"
#include "klock.h"
#include "layout.h"
#include "trap.h"
#include "vm.h"

/* clang-format off */
#define MSR_APIC_BASE   0x1b
#define APIC_BASE_X2    (1ull << 10)
#define APIC_BASE_EN    (1ull << 11)
#define APIC_BASE_ADDR  0xffffff000ull

#define REG_ID      0x020
#define REG_EOI     0x0b0
#define REG_SVR     0x0f0
#define REG_ICR_LO  0x300
#define REG_ICR_HI  0x310
#define REG_LVT_TIMER  0x320
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR  0x390
#define REG_TIMER_DIV  0x3e0

#define SVR_ENABLE  (1u << 8)
#define ICR_FIXED   0x000u
#define ICR_INIT    0x500u
#define ICR_STARTUP 0x600u
#define ICR_ASSERT  (1u << 14)
#define ICR_LEVEL   (1u << 15)
#define ICR_PENDING (1u << 12)
#define LVT_MASKED   (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define TIMER_DIV_16 0x3u
/* clang-format on */

static volatile uint32_t *regs;

static uint32_t rd(uint32_t reg)
{
    return regs[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
    regs[reg / 4] = v;
}

int apic_init(uint64_t madt_addr)
{
    uint32_t r[4];
    cpuid(1, 0, r);
    if (!(r[3] & (1u << 9)))
        return -E_NOENT;
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (base & APIC_BASE_X2)
        return -E_NOENT;
    uint64_t pa = base & APIC_BASE_ADDR;
    if (madt_addr && madt_addr != pa)
        kprintf("kernel: APIC: the MADT says %lx, the CPU %lx; using the CPU's\n", madt_addr, pa);
    /* Uncached: register reads and writes must reach the APIC in order. */
    if (vm_map(vm_kernel_pml4, APIC_VA, pa, PTE_W | PTE_NX | PTE_G | PTE_PCD | PTE_PWT, 0) < 0)
        panic("cannot map the local APIC");
    regs = (volatile uint32_t *)APIC_VA;
    apic_enable_this_cpu();
    return 0;
}

void apic_enable_this_cpu(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EN);
    /* The spurious vector's stub ignores it; LINT0/LINT1 stay as the
     * firmware left them, so the PIC's interrupts still reach the BSP. */
    wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
}

uint32_t apic_id(void)
{
    return rd(REG_ID) >> 24;
}

static int send(uint32_t dest, uint32_t lo)
{
    wr(REG_ICR_HI, dest << 24);
    wr(REG_ICR_LO, lo);
    /* Accepting an IPI takes the APIC a bus cycle or so; the bound only
     * turns a broken APIC into an error instead of a hang. */
    for (int i = 0; i < 1000000; i++) {
        if (!(rd(REG_ICR_LO) & ICR_PENDING))
            return 0;
        __asm__ volatile("pause");
    }
    return -E_TIMEDOUT;
}

int apic_send_init(uint32_t dest)
{
    return send(dest, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

int apic_send_sipi(uint32_t dest, uint8_t page)
{
    return send(dest, ICR_STARTUP | ICR_ASSERT | page);
}

int apic_send_fixed(uint32_t dest, uint8_t vector)
{
    return send(dest, ICR_FIXED | ICR_ASSERT | vector);
}

void apic_eoi(void)
{
    wr(REG_EOI, 0);
}

void apic_timer_start(unsigned hz, uint64_t tsc_khz)
{
    /* Its rate is the bus clock's, which nothing tells us: count it
     * against the TSC for 10 ms, then run it periodic at hz. */
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_APIC_TIMER);
    wr(REG_TIMER_INIT, 0xffffffffu);
    uint64_t end = rdtsc_fenced() + tsc_khz * 10;
    while (rdtsc_fenced() < end)
        __asm__ volatile("pause");
    uint64_t per_10ms = 0xffffffffu - rd(REG_TIMER_CUR);
    uint64_t count = per_10ms * 100 / hz;
    wr(REG_LVT_TIMER, LVT_PERIODIC | VEC_APIC_TIMER);
    wr(REG_TIMER_INIT, (uint32_t)(count ? count : 1));
}
