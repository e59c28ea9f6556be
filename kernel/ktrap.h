/*
 * What the kernel proper does with interrupts and with faults raised by user
 * code (the arch layer handles kernel-mode faults itself).
 */
#ifndef KTRAP_H
#define KTRAP_H

#include "arch/x86_64/trap.h"

#include <stdint.h>

struct thread;

/* Hardware interrupt `irq`, from whichever mode. */
void ktrap_irq(int irq);

/* An interrupt or exception taken in user mode by t, whose registers are
 * all saved in t->regs (full_ctx = 1): an IRQ, the first FPU instruction
 * (#NM), or a fault that kills t's process. Ends in kernel_exit(). */
__attribute__((noreturn)) void ktrap_user(struct thread *t, uint64_t vector, uint64_t error);

#endif
