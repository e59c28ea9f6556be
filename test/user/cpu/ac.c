/*
 * protect.ac_irq, protect.ac_fault: a process sets RFLAGS.AC and DF, which
 * user mode may do, then enters the kernel other than by SYSCALL (whose
 * SFMASK clears both): the timer interrupt while it spins (mode=irq) and a
 * page fault (mode=fault, which must kill it with vector 14), and the #NM
 * of its first FPU instruction (mode=irq). With AC set
 * in the kernel, SMAP would be off while the interrupt and fault handlers
 * run; the kernel asserts AC and DF clear at each C entry, so a leak is a
 * panic, which the test rejects. The flags stay this thread's own: they
 * are back after the interrupt, and the witness thread never sees them.
 */
#include <common/string.h>

#include "cpulib.h"

#define SET_FLAGS   (RFLAGS_AC | RFLAGS_DF)
#define CLEAR_FLAGS ((int64_t) ~(RFLAGS_AC | RFLAGS_DF))

/* Set AC and DF, spin until the witness has run (so this thread was
 * interrupted by the timer with both set), and return the flags as they
 * were after the interrupt; both are cleared again before C code runs. */
static uint64_t spin_with_ac_df(void)
{
    uint64_t before = witness_count, flags;
    __asm__ volatile("pushfq; orq %[set], (%%rsp); popfq\n"
                     "1: cmp %[before], %[count]\n"
                     "je 1b\n"
                     "pushfq; pop %[flags]\n"
                     "pushfq; andq %[clear], (%%rsp); popfq\n"
                     : [flags] "=&r"(flags)
                     : [before] "r"(before), [count] "m"(witness_count), [set] "i"(SET_FLAGS),
                       [clear] "i"(CLEAR_FLAGS)
                     : "memory", "cc");
    return flags;
}

/* AC alone across system calls (C code needs DF clear): SFMASK clears it
 * in the kernel, SYSRET gives it back. */
static uint64_t syscalls_with_ac(void)
{
    __asm__ volatile("pushfq; orq %0, (%%rsp); popfq" ::"i"(RFLAGS_AC) : "memory", "cc");
    uint32_t pid;
    kc_self(&pid, 0, 0, 0);
    kc_yield();
    uint64_t flags = rflags_read();
    __asm__ volatile("pushfq; andq %0, (%%rsp); popfq" ::"i"(CLEAR_FLAGS) : "memory", "cc");
    return flags;
}

/* The first FPU instruction of this thread, with AC set: #NM, handled by
 * the kernel, then the instruction runs. */
static uint64_t first_fpu_use_with_ac(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; orq %[ac], (%%rsp); popfq\n"
                     "fnop\n"
                     "pushfq; pop %[flags]\n"
                     "pushfq; andq %[clear], (%%rsp); popfq\n"
                     : [flags] "=&r"(flags)
                     : [ac] "i"(RFLAGS_AC), [clear] "i"(CLEAR_FLAGS)
                     : "memory", "cc");
    return flags;
}

int main(void)
{
    char args[64];
    kc_args(args, sizeof(args));
    if (strstr(args, "mode=fault")) {
        printf("ac: page fault with AC and DF set\n");
        stdio_flush();
        __asm__ volatile("pushfq; orq %0, (%%rsp); popfq\n"
                         "mov 0, %%rax" ::"i"(SET_FLAGS)
                         : "rax", "memory", "cc");
        printf("ac: survived a read of address 0\n");
        return 1;
    }
    if (witness_start() < 0) {
        printf("ac: no witness thread\n");
        return 1;
    }
    for (int round = 0; round < 5; round++) {
        uint64_t flags = spin_with_ac_df();
        if ((flags & SET_FLAGS) != SET_FLAGS) {
            check("ac.irq_flags_kept", 0, "AC or DF lost across the timer interrupt");
            return failures;
        }
    }
    check("ac.irq_flags_kept", 1, 0);
    check("ac.syscall_flags_kept", (syscalls_with_ac() & RFLAGS_AC) != 0, "AC lost");
    check("ac.fpu_first_use_flags_kept", (first_fpu_use_with_ac() & RFLAGS_AC) != 0, "AC lost");
    check("ac.witness_never_saw_them", witness_bad_flags == 0, "the other thread saw AC or DF");
    return failures;
}
