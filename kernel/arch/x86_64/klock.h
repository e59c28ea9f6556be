/*
 * The kernel lock (all CPUs' locks, in CPU order) and the requests one CPU
 * makes of another's running thread or loaded address space, answered by
 * IPI. The design is in docs/architecture.md, "SMP: the design".
 */
#ifndef ARCH_KLOCK_H
#define ARCH_KLOCK_H

#include <stdint.h>

#include "smp.h"

struct thread;

/* The vectors of the two per-CPU interrupts the local APIC delivers. */
#define VEC_IPI_RESCHED 0xf1 /* look at the run queue; answer a request */
#define VEC_APIC_TIMER  0xf2 /* an AP's time slices */

int klock_enter_all(int syscall);
void klock_exit_all(void);

/* Take the kernel lock; every kernel entry that runs C does, first. While
 * it waits it answers other CPUs' requests. Returns 1 if a request took
 * the entry's thread (pcpu.cur) away meanwhile: the entry must not act
 * for it (an interrupt is still handled), only end in kernel_exit.
 * syscall: the SYSCALL slow path, whose thread, if taken away, gets its
 * system call restarted where it resumes.
 * With one CPU there is nobody to exclude (the fast path runs only when
 * this CPU is not in the kernel): two instructions, so a single-CPU
 * system's slow path costs what it did (bench.instructions). */
static inline int klock_enter_from(int syscall)
{
    if (__builtin_expect(smp_cpus_online == 1, 1))
        return 0;
    return klock_enter_all(syscall);
}

static inline int klock_enter(void)
{
    return klock_enter_from(0);
}

/* Release it: kernel_exit, just before resuming user mode or halting. */
static inline void klock_exit(void)
{
    if (smp_cpus_online != 1)
        klock_exit_all();
}

/* Make `cpu` reconsider who runs (a thread of it became ready). */
void smp_kick(uint32_t cpu);

/* With the kernel lock held: make sure no other CPU runs t (it is being
 * killed or moved); its registers are saved in t->regs on return. */
void smp_drop_thread(struct thread *t);

/* With the kernel lock held: no other CPU keeps the address space cr3
 * loaded (it is about to be freed). */
void smp_leave_space(uint64_t cr3);

/* With the kernel lock held, before removing or narrowing mappings of the
 * address space cr3: every other CPU that has it loaded stops (it waits for
 * the kernel lock, running no user code) and reloads CR3 before it runs
 * user code again, so no stale TLB entry outlives the change. */
void smp_flush_space(uint64_t cr3);

#endif
