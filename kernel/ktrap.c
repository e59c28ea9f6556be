/*
 * Interrupts and user faults (see ktrap.h). A fault in user mode kills the
 * process that raised it, with a report on the console; the kernel and
 * everyone else go on.
 */
#include "ktrap.h"

#include <abi/layout.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/pic.h"
#include "irq.h"
#include "klog.h"
#include "proc.h"
#include "sched.h"

/* The interrupted user context becomes the thread's saved state. */
static void save_frame(struct thread *t, const struct trap_frame *f)
{
    t->regs = (struct user_regs){
        /* MR0..MR7 in the order of ABI_REG_MR0..7 */
        .mr = {f->r8, f->r9, f->r10, f->r12, f->r13, f->r14, f->r15, f->rbx},
        .rax = f->rax,
        .rcx = f->rcx,
        .rdx = f->rdx,
        .rsi = f->rsi,
        .rdi = f->rdi,
        .rbp = f->rbp,
        .r11 = f->r11,
        .rip = f->rip,
        .rsp = f->rsp,
        .rflags = f->rflags,
    };
    t->full_ctx = 1;
}

void ktrap_irq(int irq, struct trap_frame *f)
{
    int from_user = (f->cs & 3) == 3;
    if (from_user)
        save_frame(pcpu.cur, f);
    pic_eoi(irq);
    if (irq == 0)
        sched_tick();
    else
        irq_deliver(irq);
    if (from_user)
        kernel_exit();
    /* From the idle loop: return there; it picks whoever became ready. */
}

void ktrap_user_fault(struct trap_frame *f)
{
    struct thread *t = pcpu.cur;
    save_frame(t, f);
    if (f->vector == VEC_NM) {
        /* CR0.TS is set only while a thread without FPU state runs: this
         * is its first FPU instruction, which runs again once it has the
         * initial state. */
        fpu_first_use(t);
        kernel_exit();
    }
    kprintf("kernel: \"%s\" (pid %x, thread %x): %s (vector %lu, error 0x%lx) at rip %lx, rsp %lx",
            t->proc->name, t->proc->pid, t->tid, trap_name(f->vector), f->vector, f->error, f->rip,
            f->rsp);
    if (f->vector == VEC_PF) {
        uint64_t a = read_cr2();
        kprintf(", address %lx", a);
        /* Say why, for the one region whose pages come and go under a
         * process's feet: its granter took them back, or they are read-only. */
        if (a >= USER_MAP_MIN && a < USER_MAP_MAX)
            kprintf(" in the grant-map window (%s)",
                    f->error & 1 ? "write to a read-only grant mapping"
                                 : "no grant mapping there: unmapped, revoked or granter gone");
    }
    kprintf("\n");
    proc_kill(t->proc, DEATH_FAULT, f->vector);
    kernel_exit();
}

void kernel_bad_resume(struct thread *t)
{
    /* Only reachable if a saved RIP were not a canonical user address,
     * which the loader and KC_THREAD_CREATE rule out. */
    kprintf("kernel: thread %x would resume at %lx; killing its process\n", t->tid, t->regs.rip);
    proc_kill(t->proc, DEATH_FAULT, VEC_GP);
    kernel_exit();
}

void kernel_bad_syscall_mode(struct thread *t)
{
    kprintf("kernel: \"%s\" (pid %x) used SYSCALL outside 64-bit mode; killing it\n", t->proc->name,
            t->proc->pid);
    proc_kill(t->proc, DEATH_FAULT, VEC_GP);
    kernel_exit();
}
