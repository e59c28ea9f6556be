/*
 * Interrupts and user faults (see ktrap.h). A fault in user mode kills the
 * process that raised it, with a report on the console; the kernel and
 * everyone else go on.
 */
#include "ktrap.h"

#include <abi/layout.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/klock.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/pic.h"
#include "irq.h"
#include "klog.h"
#include "proc.h"
#include "sched.h"

void ktrap_interrupt(uint64_t vector)
{
    if (vector == VEC_IPI_RESCHED) {
        /* A thread of ours became ready, or a request (already answered
         * by klock_enter): kernel_exit looks at the run queue. (trap.c
         * sent the EOI of both APIC vectors.) */
        pcpu.ipis++;
        sched_request_resched();
        return;
    }
    if (vector == VEC_APIC_TIMER) {
        pcpu.timer_ticks++;
        sched_tick();
        return;
    }
    int irq = (int)(vector - VEC_IRQ0);
    pic_eoi(irq);
    if (irq == 0)
        sched_tick();
    else
        irq_deliver(irq);
}

/* A user-mode fault: report it and kill the process. */
static void user_fault(struct thread *t, uint64_t vector, uint64_t error)
{
    kprintf("kernel: \"%s\" (pid %x, thread %x): %s (vector %lu, error 0x%lx) at rip %lx, rsp %lx",
            t->proc->name, t->proc->pid, t->tid, trap_name(vector), vector, error, t->regs.rip,
            t->regs.rsp);
    if (vector == VEC_PF) {
        uint64_t a = read_cr2();
        kprintf(", address %lx", a);
        /* Say why, for the one region whose pages come and go under a
         * process's feet: its granter took them back, or they are read-only. */
        if (a >= USER_MAP_MIN && a < USER_MAP_MAX)
            kprintf(" in the grant-map window (%s)",
                    error & 1 ? "write to a read-only grant mapping"
                              : "no grant mapping there: unmapped, revoked or granter gone");
    }
    kprintf("\n");
    proc_kill(t->proc, DEATH_FAULT, vector);
}

void ktrap_user(struct thread *t, uint64_t vector, uint64_t error)
{
    if ((vector >= VEC_IRQ0 && vector < VEC_IRQ0 + NUM_IRQS) || vector == VEC_IPI_RESCHED ||
        vector == VEC_APIC_TIMER)
        ktrap_interrupt(vector);
    /* t is 0 if it was taken from this CPU while we waited for the lock. */
    else if (t && vector == VEC_NM)
        /* CR0.TS is set only while a thread without FPU state runs: this
         * is its first FPU instruction, which runs again once it has the
         * initial state. */
        fpu_first_use(t);
    else if (t && vector != VEC_SPURIOUS)
        user_fault(t, vector, error);
    kernel_exit();
}

void kernel_bad_resume(struct thread *t)
{
    if (klock_enter())
        kernel_exit();
    /* Only reachable if a saved RIP were not a canonical user address,
     * which the loader and KC_THREAD_CREATE rule out. */
    kprintf("kernel: thread %x would resume at %lx; killing its process\n", t->tid, t->regs.rip);
    proc_kill(t->proc, DEATH_FAULT, VEC_GP);
    kernel_exit();
}

void kernel_bad_syscall_mode(struct thread *t)
{
    if (klock_enter())
        kernel_exit();
    kprintf("kernel: \"%s\" (pid %x) used SYSCALL outside 64-bit mode; killing it\n", t->proc->name,
            t->proc->pid);
    proc_kill(t->proc, DEATH_FAULT, VEC_GP);
    kernel_exit();
}
