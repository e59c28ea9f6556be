/*
 * Priority round robin (see sched.h), one set of run queues per CPU in its
 * pcpus[] entry. The running thread is never on a run queue; a thread that
 * blocks simply changes state and kernel_exit finds the next one. All of it
 * runs under the kernel lock, so one CPU may queue a thread on another's
 * run queue and kick it.
 */
#include "sched.h"

#include <abi/errno.h>
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/fpu.h"
#include "arch/x86_64/klock.h"
#include "arch/x86_64/pcpu.h"
#include "deadlock.h"
#include "ipc.h"
#include "klog.h"

_Static_assert(offsetof(struct sched_fast, fpu) == 1 && offsetof(struct sched_fast, cpu) == 2 &&
                   sizeof(struct sched_fast) == 4,
               "entry.S reads struct sched_fast as one little-endian word");
uint64_t sched_ticks;

/* Queue 0 of every CPU is never used (priority 0 means "none ready"); its
 * head is no_thread, never run, so the receive fast path reads the head of
 * queue ready_max without testing for 0 first: no_thread's fpu_fresh:prio
 * word (0) is below any sched_fast word, and the path declines. */
static struct thread no_thread;

void sched_init_cpu(void)
{
    pcpu.sched_fast.cpu = (uint16_t)pcpu.id;
    pcpu.sched_fast.fpu = SCHED_FAST_OPEN;
    pcpu.rq.head[0] = &no_thread;
}

static void update_max(struct percpu *c)
{
    c->sched_fast.ready_max = c->rq.bitmap ? (uint8_t)(31 - __builtin_clz(c->rq.bitmap)) : 0;
}

/* t joined its CPU's queue: that CPU should look if t outranks what it
 * runs, or it runs nothing. */
static void queued(struct percpu *c, struct thread *t)
{
    update_max(c);
    if (c->id == pcpu.id) {
        if (pcpu.cur && t->prio > pcpu.cur->prio)
            c->rq.resched = 1;
    } else if (!c->cur || t->prio > c->cur->prio) {
        smp_kick(c->id);
    }
}

void sched_ready(struct thread *t)
{
    assert(t->prio > 0 && t->prio < NUM_PRIO);
    struct percpu *c = &pcpus[t->cpu];
    struct runq *q = &c->rq;
    t->state = TS_READY;
    t->accept_cap = 0; /* a runnable thread accepts no capability */
    t->rq_next = 0;
    if (q->tail[t->prio])
        q->tail[t->prio]->rq_next = t;
    else
        q->head[t->prio] = t;
    q->tail[t->prio] = t;
    q->bitmap |= 1u << t->prio;
    queued(c, t);
}

void sched_ready_front(struct thread *t)
{
    assert(t->prio > 0 && t->prio < NUM_PRIO);
    struct percpu *c = &pcpus[t->cpu];
    struct runq *q = &c->rq;
    t->state = TS_READY;
    t->accept_cap = 0;
    t->rq_next = q->head[t->prio];
    q->head[t->prio] = t;
    if (!q->tail[t->prio])
        q->tail[t->prio] = t;
    q->bitmap |= 1u << t->prio;
    queued(c, t);
}

void sched_unready(struct thread *t)
{
    if (t->state != TS_READY)
        return;
    struct percpu *c = &pcpus[t->cpu];
    struct runq *q = &c->rq;
    struct thread **pp = &q->head[t->prio], *prev = 0;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->rq_next;
    }
    assert(*pp == t);
    *pp = t->rq_next;
    if (q->tail[t->prio] == t)
        q->tail[t->prio] = prev;
    if (!q->head[t->prio])
        q->bitmap &= ~(1u << t->prio);
    update_max(c);
}

static struct thread *pop_highest(void)
{
    struct runq *q = &pcpus[pcpu.id].rq;
    if (!q->bitmap)
        return 0;
    int p = 31 - __builtin_clz(q->bitmap);
    struct thread *t = q->head[p];
    q->head[p] = t->rq_next;
    if (!q->head[p]) {
        q->tail[p] = 0;
        q->bitmap &= ~(1u << p);
    }
    update_max(&pcpus[pcpu.id]);
    t->rq_next = 0;
    return t;
}

void sched_handoff(struct thread *t)
{
    struct thread *cur = pcpu.cur;
    assert(cur && cur->state != TS_RUNNING);
    if (t->cpu != pcpu.id) {
        sched_ready_front(t); /* it runs on its own CPU, which is kicked */
    } else if (t->prio >= pcpu.sched_fast.ready_max) {
        /* The rest of the caller's slice goes with the work: two threads
         * that keep handing off to each other share one slice, so they
         * cannot keep their peers from running. */
        t->state = TS_RUNNING;
        t->accept_cap = 0;
        t->slice = cur->slice ? cur->slice : SLICE_TICKS;
        pcpu.cur = t;
    } else {
        sched_ready_front(t); /* first among its peers once the higher one is done */
    }
}

void sched_move(struct thread *t, uint16_t cpu)
{
    if (t->cpu == cpu)
        return;
    if (t->state == TS_READY) {
        sched_unready(t);
        t->cpu = cpu;
        sched_ready(t);
    } else if (t->state == TS_RUNNING) {
        if (t == pcpu.cur) {
            fpu_thread_leaving(t); /* its FPU state goes with it, via its area */
            pcpu.cur = 0;
        } else {
            smp_drop_thread(t);
        }
        t->cpu = cpu;
        sched_ready(t); /* the new CPU takes it once we let go of the lock */
    } else {
        t->cpu = cpu;
    }
}

void sched_request_resched(void)
{
    pcpu.rq.resched = 1;
}

void sched_tick(void)
{
    if (pcpu.id == 0) {
        sched_ticks++;
        ipc_timeouts(sched_ticks);
    }
    struct thread *cur = pcpu.cur;
    if (cur && cur->state == TS_RUNNING && cur->slice > 0 && --cur->slice == 0)
        pcpu.rq.resched = 1;
}

extern void arch_null_user_selectors(void);

/* Out of line: the common exit stays in its address space. */
__attribute__((noinline)) static void switch_as(uint64_t cr3)
{
    write_cr3(cr3);
    pcpu.cr3 = cr3;
    pcpu.as_switches++;
    /* Another process: the segment selectors the last one loaded must not
     * reach it (within one process they may, as on the fast path). */
    arch_null_user_selectors();
}

void sched_load_as(struct thread *t)
{
    uint64_t cr3 = t->proc->cr3;
    if (pcpu.cr3 != cr3)
        switch_as(cr3);
}

extern __attribute__((noreturn)) void arch_resume_user(struct thread *t);

void kernel_exit(void)
{
    struct thread *cur = pcpu.cur;
    if (cur && cur->state == TS_RUNNING) {
        /* Keep running unless a higher priority is ready, or the slice is
         * over and an equal priority is waiting. */
        if (pcpu.rq.resched && pcpu.sched_fast.ready_max > cur->prio) {
            /* Preempted with time left: it resumes first among its peers. */
            sched_ready_front(cur);
            cur = 0;
        } else if (pcpu.rq.resched && cur->slice == 0 && pcpu.sched_fast.ready_max == cur->prio) {
            sched_ready(cur); /* its slice is over: the next peer's turn */
            cur = 0;
        } else if (cur->slice == 0) {
            cur->slice = SLICE_TICKS;
        }
    } else {
        cur = 0;
    }
    pcpu.rq.resched = 0;
    while (!cur) {
        cur = pop_highest();
        if (cur)
            break;
        /* Idle: nothing to run. Interrupts are on only here, while the
         * kernel waits; their handlers may make a thread ready. */
        pcpu.cur = 0;
        deadlock_check();
        klock_exit();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        klock_enter();
    }
    cur->state = TS_RUNNING;
    if (cur->slice == 0)
        cur->slice = SLICE_TICKS;
    pcpu.cur = cur;
    sched_load_as(cur);
    klock_exit(); /* cur is this CPU's, as are its registers and the FPU */
    /* pcpu.cur, not cur: nothing has to live across the call above in a
     * callee-saved register (a push and a pop on every exit). */
    arch_resume_user(pcpu.cur); /* and its FPU state: fpu_switch */
}
