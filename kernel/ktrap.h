/*
 * What the kernel proper does with interrupts and with faults raised by user
 * code (the arch layer handles kernel-mode faults itself).
 */
#ifndef KTRAP_H
#define KTRAP_H

#include "arch/x86_64/trap.h"

#include <stdint.h>

struct thread;

/* An interrupt (a PIC line, or the local APIC's reschedule IPI or timer),
 * from whichever mode, with the kernel lock held. */
void ktrap_interrupt(uint64_t vector);

/* An interrupt or exception taken in user mode by t, whose registers are
 * all saved in t->regs (full_ctx = 1): an IRQ, the first FPU instruction
 * (#NM), or a fault that kills t's process. t is 0 if another CPU took it
 * away while this one waited for the kernel lock: then only an interrupt
 * is handled. Ends in kernel_exit(). */
__attribute__((noreturn)) void ktrap_user(struct thread *t, uint64_t vector, uint64_t error);

#endif
