/*
 * x87, SSE and AVX state per thread (see fpu.c and docs/architecture.md,
 * "FPU state"). A thread has none until it first executes an FPU or SIMD
 * instruction; from then on its registers are saved and restored eagerly
 * on every switch, and no other thread ever sees them.
 */
#ifndef ARCH_FPU_H
#define ARCH_FPU_H

#include <stdint.h>

struct thread;

/* The largest save area the kernel reserves per thread (XSAVE standard
 * format for x87 + SSE + AVX is 832 bytes). */
#define FPU_AREA_SIZE 1024

/* Once at boot: turn the FPU on for user code (CR0, CR4, XCR0) with CR0.TS
 * set, so each thread's first use traps to fpu_first_use. */
void fpu_init(void);

/* The same for an AP, once fpu_init has run on the BSP. */
void fpu_init_ap(void);

/* pcpu.fpu_owner: the thread whose FPU state is in this CPU's registers, 0
 * when they hold the initial state. At every return to user mode it is the
 * thread that runs (with CR0.TS clear) if that one has FPU state, else 0
 * (with TS set). */

/* Precondition: next is about to return to user mode. Saves the registers
 * of their owner, resets them to the initial state, and loads next's if it
 * has FPU state, else sets CR0.TS. arch_resume_user (entry.S) calls it
 * unless no FPU state is in play (no owner, next has none), so threads that
 * never touch the FPU pay two compares per exit. */
void fpu_switch(struct thread *next);

/* #NM from user mode: t (the current thread) used the FPU for the first
 * time. It gets the initial state and keeps FPU state from now on.
 * Precondition: t has none yet (TS is clear for a thread that has). */
void fpu_first_use(struct thread *t);

/* t stops running on this CPU (another CPU kills or moves it): if its
 * state is in the registers, save it to its area and reset them. */
void fpu_thread_leaving(struct thread *t);

/* t is being destroyed: if its state is in the registers, reset them so
 * nothing of it reaches whoever uses the FPU next. */
void fpu_thread_dying(struct thread *t);

/* 1 if the FPU is set up as fpu_init left it (CR0, CR4, XCR0, the current
 * registers' owner consistent with CR0.TS), else 0 with *why set. */
int fpu_check(const char **why);

#endif
