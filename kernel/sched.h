/*
 * Scheduler: fixed-priority round robin (31 levels), one run queue per
 * level, time slices from the timer. The kernel is not preemptible: every
 * entry ends in kernel_exit(), which picks the thread to resume.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stdint.h>

#include "proc.h"

#define SLICE_TICKS 2 /* 20 ms at 100 Hz */

/*
 * The IPC fast path's one test of who may get the CPU. It reads this as
 * one 16-bit word (fpu << 8 | ready_max) and the target's fpu_fresh and
 * prio as another (fpu_fresh << 8 | prio), and switches only if the
 * target's is not below: so only to a thread with no FPU state (fpu_fresh
 * = 1), of at least the highest ready priority, and only while no FPU
 * state is in the registers (then the current thread has none either; the
 * slow path saves and restores it). Nothing else to compute on any path:
 * ready_max is kept by the run queues, fpu by arch/x86_64/fpu.c whenever
 * the owner of the FPU registers changes.
 */
struct sched_fast {
    uint8_t ready_max; /* highest priority with a ready thread, 0 if none */
    uint8_t fpu;       /* SCHED_FAST_OPEN, or SCHED_FAST_SHUT while FPU state is live */
};
#define SCHED_FAST_OPEN 1 /* equal to a fresh thread's fpu_fresh */
#define SCHED_FAST_SHUT 2 /* above any thread's fpu_fresh */
extern struct sched_fast sched_fast;
extern uint64_t sched_ticks;

/* The run queues (bit p of rq_bitmap: queue p not empty). entry.S's
 * notify and receive fast paths append and pop as sched_ready and
 * kernel_exit do. */
extern struct thread *rq_head[NUM_PRIO], *rq_tail[NUM_PRIO];
extern uint32_t rq_bitmap;

/* Make t ready (append to its run queue). Precondition: t not queued. */
void sched_ready(struct thread *t);

/* Make t ready at the front of its queue: a caller whose call was just
 * answered carries on where it was, rather than waiting behind everyone
 * else of its priority. Precondition: t not queued. */
void sched_ready_front(struct thread *t);

/* Remove t from its run queue if it is on one. */
void sched_unready(struct thread *t);

/* t was just unblocked by the current thread, which is blocking: run t next
 * without the run queue when no higher-priority thread is waiting. */
void sched_handoff(struct thread *t);

/* A timer tick: time slices and timeouts. */
void sched_tick(void);

/* Ask kernel_exit to reconsider who runs (e.g. a higher priority woke). */
void sched_request_resched(void);

/* Leave the kernel: pick the thread to run (idling with interrupts on
 * until there is one), load its address space and resume it. */
__attribute__((noreturn)) void kernel_exit(void);

/* Load the page tables of t's process unless they already are. */
void sched_load_as(struct thread *t);

#endif
