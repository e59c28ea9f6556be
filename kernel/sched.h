/*
 * Scheduler: fixed-priority round robin (31 levels), one run queue per
 * level and CPU (a thread runs only on its home CPU), time slices from the
 * timer. The kernel is not preemptible: every entry ends in kernel_exit(),
 * which picks the thread to resume on this CPU.
 */
#ifndef SCHED_H
#define SCHED_H

#include <stdint.h>

#include "proc.h"

#define SLICE_TICKS 2 /* 20 ms at 100 Hz */

/*
 * The IPC fast path's one test of who may get the CPU: pcpu.sched_fast
 * (arch/x86_64/pcpu.h), ready_max | fpu << 8 | cpu << 16, against the
 * target's prio | fpu_fresh << 8 | cpu << 16. It switches only to a thread
 * of this CPU with no FPU state (fpu_fresh = 1), of at least the highest
 * ready priority here, and only while no FPU state is in this CPU's
 * registers (then the current thread has none either; the slow path saves
 * and restores it). Nothing else to compute on any path: ready_max is kept
 * by the run queues, fpu by arch/x86_64/fpu.c whenever the owner of the
 * FPU registers changes.
 */
#define SCHED_FAST_OPEN 1 /* equal to a fresh thread's fpu_fresh */
#define SCHED_FAST_SHUT 2 /* above any thread's fpu_fresh */
extern uint64_t sched_ticks;

/* Make t ready (append to its run queue, on its CPU; that CPU is kicked
 * by IPI if it should look). Precondition: t not queued. */
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

/* A timer tick: on the BSP (the PIT) time, timeouts and its slices; on an
 * AP (its local APIC timer) only its slices. */
void sched_tick(void);

/* The APs' scheduler state (sched_fast's cpu field), before they run. */
void sched_init_cpu(void);

/* Make `cpu` t's home CPU (KC_THREAD_SET_CPU). A ready thread changes
 * queues, a running one stops where it runs (the current thread at the
 * next kernel_exit) and is queued there, a blocked one wakes there. */
void sched_move(struct thread *t, uint16_t cpu);

/* Ask kernel_exit to reconsider who runs (e.g. a higher priority woke). */
void sched_request_resched(void);

/* Leave the kernel: pick the thread to run (idling with interrupts on
 * until there is one), load its address space and resume it. */
__attribute__((noreturn)) void kernel_exit(void);

/* Load the page tables of t's process unless they already are. */
void sched_load_as(struct thread *t);

#endif
