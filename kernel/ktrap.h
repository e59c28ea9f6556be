/*
 * What the kernel proper does with interrupts and with faults raised by user
 * code (the arch layer handles kernel-mode faults itself).
 */
#ifndef KTRAP_H
#define KTRAP_H

#include "arch/x86_64/trap.h"

void ktrap_irq(int irq, struct trap_frame *f);
void ktrap_user_fault(struct trap_frame *f);

#endif
