/*
 * The MSRs that make SYSCALL enter syscall_entry_up or _smp (entry.S) with
 * the RFLAGS bits it must not inherit masked (the reasons are in entry.S).
 */
#include "cpu.h"
#include "gdt.h"
#include "smp.h"

extern void syscall_entry_up(void), syscall_entry_smp(void), syscall_entry_compat(void);

#define MSR_CSTAR 0xc0000083

void syscall_choose_entry(void)
{
    /* The fast paths without this CPU's lock are right only while no other
     * CPU runs kernel code: so only with one CPU online for good. */
    wrmsr(MSR_LSTAR,
          smp_cpus_online == 1 ? (uint64_t)syscall_entry_up : (uint64_t)syscall_entry_smp);
}

void syscall_init(void)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    /* STAR[47:32]: SYSCALL loads CS = 0x08, SS = 0x10. STAR[63:48]: SYSRET
     * loads CS = base + 16 = 0x2b and SS = base + 8 = 0x23 (RPL 3 forced). */
    wrmsr(MSR_STAR, ((uint64_t)SEL_UCODE32 << 48) | ((uint64_t)SEL_KCODE << 32));
    syscall_choose_entry();
    wrmsr(MSR_CSTAR, (uint64_t)syscall_entry_compat); /* never zero: see entry.S */
    wrmsr(MSR_SFMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC | RFLAGS_NT);
}
