/*
 * The kernel lock and cross-CPU requests (see klock.h). A requester holds
 * the kernel lock and waits for the answer; the other CPU answers from
 * wherever it is: user mode (the IPI interrupts it), the idle loop (the IPI
 * wakes it) or klock_enter's wait, so no request waits on a lock.
 */
#include "klock.h"

#include "../../klog.h"
#include "../../proc.h"
#include "apic.h"
#include "cpu.h"
#include "fpu.h"
#include "pcpu.h"
#include "smp.h"
#include "vm.h"

/* Answer this CPU's pending request, if any. Only ever called while
 * waiting for the kernel lock, which the requester holds: so after the
 * answer this CPU runs no user code until the requester is done. */
static void answer(void)
{
    struct percpu *self = &pcpus[pcpu.id]; /* atomics need a real pointer */
    uint32_t req = __atomic_load_n(&self->req, __ATOMIC_ACQUIRE);
    if (req == SMP_REQ_NONE)
        return;
    struct thread *cur = pcpu.cur;
    uint64_t cr3 = pcpu.req_cr3;
    int drop = (req == SMP_REQ_DROP && cur == pcpu.req_thread) ||
               (req == SMP_REQ_LEAVE && cur && cur->proc->cr3 == cr3);
    if (drop) {
        /* Its registers are in cur->regs (every entry saved them); its
         * FPU state goes to its save area, so a move keeps it. A system
         * call it was entering has not run: it runs again wherever the
         * thread resumes (SYSCALL is 2 bytes; its inputs are all saved). */
        if (pcpu.in_syscall)
            cur->regs.rip -= 2;
        fpu_thread_leaving(cur);
        pcpu.cur = 0;
        pcpu.dropped = 1;
    }
    if (req == SMP_REQ_LEAVE && pcpu.cr3 == cr3) {
        pcpu.cr3 = vm_kernel_pml4;
        write_cr3(vm_kernel_pml4);
    }
    if (req == SMP_REQ_FLUSH && pcpu.cr3 == cr3)
        pcpu.flush = 1; /* once the requester has changed the tables */
    __atomic_store_n(&self->req, SMP_REQ_NONE, __ATOMIC_RELEASE);
}

int klock_enter_all(int syscall)
{
    pcpu.in_syscall = (uint32_t)syscall;
    uint32_t n = smp_cpus_online;
    for (uint32_t i = 0; i < n; i++)
        while (__atomic_exchange_n(&pcpus[i].lock, 1, __ATOMIC_ACQUIRE))
            while (__atomic_load_n(&pcpus[i].lock, __ATOMIC_RELAXED)) {
                answer();
                __asm__ volatile("pause");
            }
    pcpu.in_syscall = 0;
    if (pcpu.flush) {
        pcpu.flush = 0;
        write_cr3(pcpu.cr3); /* the TLB forgets what the requester removed */
    }
    int dropped = (int)pcpu.dropped;
    pcpu.dropped = 0;
    return dropped;
}

void klock_exit_all(void)
{
    for (uint32_t i = smp_cpus_online; i-- > 0;)
        __atomic_store_n(&pcpus[i].lock, 0, __ATOMIC_RELEASE);
}

void smp_kick(uint32_t cpu)
{
    pcpus[cpu].rq.resched = 1;
    if (cpu != pcpu.id)
        apic_send_fixed(pcpus[cpu].apic_id, VEC_IPI_RESCHED);
}

/* Ask `cpu` for req and wait for its answer. */
static void request(uint32_t cpu, uint32_t req, struct thread *t, uint64_t cr3)
{
    struct percpu *c = &pcpus[cpu];
    c->req_thread = t;
    c->req_cr3 = cr3;
    __atomic_store_n(&c->req, req, __ATOMIC_RELEASE);
    apic_send_fixed(c->apic_id, VEC_IPI_RESCHED);
    while (__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) != SMP_REQ_NONE)
        __asm__ volatile("pause");
}

void smp_drop_thread(struct thread *t)
{
    for (uint32_t i = 0; i < smp_cpus_online; i++)
        if (i != pcpu.id && pcpus[i].cur == t)
            request(i, SMP_REQ_DROP, t, 0);
}

void smp_leave_space(uint64_t cr3)
{
    for (uint32_t i = 0; i < smp_cpus_online; i++)
        if (i != pcpu.id && pcpus[i].cr3 == cr3)
            request(i, SMP_REQ_LEAVE, 0, cr3);
}

void smp_flush_space(uint64_t cr3)
{
    for (uint32_t i = 0; i < smp_cpus_online; i++)
        if (i != pcpu.id && pcpus[i].cr3 == cr3)
            request(i, SMP_REQ_FLUSH, 0, cr3);
}
