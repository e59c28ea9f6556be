/*
 * Priority round robin (see sched.h). The running thread is never on a run
 * queue; a thread that blocks simply changes state and kernel_exit finds the
 * next one.
 */
#include "sched.h"

#include <abi/errno.h>
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pcpu.h"
#include "deadlock.h"
#include "ipc.h"
#include "klog.h"

struct sched_fast sched_fast = {0, SCHED_FAST_OPEN};
_Static_assert(offsetof(struct sched_fast, fpu) == 1 && sizeof(struct sched_fast) == 2,
               "entry.S reads struct sched_fast as one little-endian word");
uint64_t sched_ticks;

/* Not static: the notify and receive fast paths (entry.S) queue and pop
 * threads exactly as sched_ready and pop_highest do. Queue 0 is never
 * used (priority 0 means "none ready"); its head is no_thread, never run,
 * so the receive fast path reads the head of queue ready_max without
 * testing for 0 first: no_thread's fpu_fresh:prio word (0) is below any
 * sched_fast word, and the path declines. */
static struct thread no_thread;
struct thread *rq_head[NUM_PRIO] = {&no_thread}, *rq_tail[NUM_PRIO];
uint32_t rq_bitmap; /* bit p: queue p not empty */
static int resched;

static void update_max(void)
{
    sched_fast.ready_max = rq_bitmap ? (uint8_t)(31 - __builtin_clz(rq_bitmap)) : 0;
}

void sched_ready(struct thread *t)
{
    assert(t->prio > 0 && t->prio < NUM_PRIO);
    t->state = TS_READY;
    t->accept_cap = 0; /* a runnable thread accepts no capability */
    t->rq_next = 0;
    if (rq_tail[t->prio])
        rq_tail[t->prio]->rq_next = t;
    else
        rq_head[t->prio] = t;
    rq_tail[t->prio] = t;
    rq_bitmap |= 1u << t->prio;
    update_max();
    if (pcpu.cur && t->prio > pcpu.cur->prio)
        resched = 1;
}

void sched_ready_front(struct thread *t)
{
    assert(t->prio > 0 && t->prio < NUM_PRIO);
    t->state = TS_READY;
    t->accept_cap = 0;
    t->rq_next = rq_head[t->prio];
    rq_head[t->prio] = t;
    if (!rq_tail[t->prio])
        rq_tail[t->prio] = t;
    rq_bitmap |= 1u << t->prio;
    update_max();
    if (pcpu.cur && t->prio > pcpu.cur->prio)
        resched = 1;
}

void sched_unready(struct thread *t)
{
    if (t->state != TS_READY)
        return;
    struct thread **pp = &rq_head[t->prio], *prev = 0;
    while (*pp && *pp != t) {
        prev = *pp;
        pp = &(*pp)->rq_next;
    }
    assert(*pp == t);
    *pp = t->rq_next;
    if (rq_tail[t->prio] == t)
        rq_tail[t->prio] = prev;
    if (!rq_head[t->prio])
        rq_bitmap &= ~(1u << t->prio);
    update_max();
}

static struct thread *pop_highest(void)
{
    if (!rq_bitmap)
        return 0;
    int p = 31 - __builtin_clz(rq_bitmap);
    struct thread *t = rq_head[p];
    rq_head[p] = t->rq_next;
    if (!rq_head[p]) {
        rq_tail[p] = 0;
        rq_bitmap &= ~(1u << p);
    }
    update_max();
    t->rq_next = 0;
    return t;
}

void sched_handoff(struct thread *t)
{
    struct thread *cur = pcpu.cur;
    assert(cur && cur->state != TS_RUNNING);
    if (t->prio >= sched_fast.ready_max) {
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

void sched_request_resched(void)
{
    resched = 1;
}

void sched_tick(void)
{
    sched_ticks++;
    ipc_timeouts(sched_ticks);
    struct thread *cur = pcpu.cur;
    if (cur && cur->state == TS_RUNNING && cur->slice > 0 && --cur->slice == 0)
        resched = 1;
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
        if (resched && sched_fast.ready_max > cur->prio) {
            /* Preempted with time left: it resumes first among its peers. */
            sched_ready_front(cur);
            cur = 0;
        } else if (resched && cur->slice == 0 && sched_fast.ready_max == cur->prio) {
            sched_ready(cur); /* its slice is over: the next peer's turn */
            cur = 0;
        } else if (cur->slice == 0) {
            cur->slice = SLICE_TICKS;
        }
    } else {
        cur = 0;
    }
    resched = 0;
    while (!cur) {
        cur = pop_highest();
        if (cur)
            break;
        /* Idle: nothing to run. Interrupts are on only here, while the
         * kernel waits; their handlers may make a thread ready. */
        pcpu.cur = 0;
        deadlock_check();
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    }
    cur->state = TS_RUNNING;
    if (cur->slice == 0)
        cur->slice = SLICE_TICKS;
    pcpu.cur = cur;
    sched_load_as(cur);
    /* pcpu.cur, not cur: nothing has to live across the call above in a
     * callee-saved register (a push and a pop on every exit). */
    arch_resume_user(pcpu.cur); /* and its FPU state: fpu_switch */
}
