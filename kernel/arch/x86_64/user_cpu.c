/*
 * What user mode can see of the CPU beyond its own registers: instructions
 * that would reveal kernel state are switched off, and the state that is
 * not saved per thread is made the same for everyone (docs/security.md,
 * "CPU state").
 */
#include "user_cpu.h"

#include "../../klog.h"
#include "cpu.h"

void user_cpu_init(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    int umip = 0;
    if (r[0] >= 7) {
        cpuid(7, 0, r);
        umip = (r[2] >> 2) & 1;
    }
    uint64_t cr4 = read_cr4();
    /* UMIP: sgdt, sidt, sldt, smsw and str are #GP in user mode; without
     * it they hand out the addresses of the GDT and IDT. */
    if (umip)
        cr4 |= CR4_UMIP;
    /* No FSGSBASE: rd/wr{fs,gs}base are #UD, so user code changes its FS
     * and GS bases only by loading a selector, and every descriptor it can
     * load has base 0. The bases are therefore 0 for every thread (set here
     * once; the kernel never writes them again) and carry nothing between
     * processes; nor can a user plant a GS base for SWAPGS to hand to the
     * kernel. */
    cr4 &= ~CR4_FSGSBASE;
    write_cr4(cr4);
    wrmsr(MSR_FS_BASE, 0); /* the user GS base is 0 from kmain_stage2 */

    /* Debug registers are ring-0 only (mov to or from them is #GP in user
     * mode) and the kernel never sets a breakpoint: DR7 all disabled, DR6
     * as at reset, so no #DB can come from a stale address. */
    __asm__ volatile("mov %0, %%dr7" ::"r"(DR7_RESET));
    __asm__ volatile("mov %0, %%dr6" ::"r"(DR6_RESET));

    kprintf("kernel: user mode: UMIP %s, FSGSBASE off, FS/GS bases 0, DR7 clear\n",
            umip ? "on" : "not available");
}

int user_cpu_check(const char **why)
{
    uint32_t r[4];
    cpuid(7, 0, r);
    uint64_t cr4 = read_cr4(), dr7;
    __asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
    if (((r[2] >> 2) & 1) && !(cr4 & CR4_UMIP))
        *why = "the CPU has UMIP but CR4.UMIP is clear";
    else if (cr4 & CR4_FSGSBASE)
        *why = "CR4.FSGSBASE is set";
    else if (rdmsr(MSR_FS_BASE) || rdmsr(MSR_KERNEL_GS_BASE))
        *why = "a user FS or GS base is not 0";
    else if (dr7 & DR7_ENABLE_MASK)
        *why = "a breakpoint is enabled in DR7";
    else
        return 1;
    return 0;
}
