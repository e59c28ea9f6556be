/*
 * Interrupt lines bound to user-space drivers (irq.c): a line fires as a
 * notification bit of the bound thread and stays masked until acknowledged.
 */
#ifndef IRQ_H
#define IRQ_H

#include <stdint.h>

#include "proc.h"

/* KC_IRQ_BIND: bind line irq to cur with notification bit `bit` (checks
 * its privilege's scope: its IRQ mask or an assigned line). */
long irq_bind(struct thread *cur, uint64_t irq, uint64_t bit);

/* KC_IRQ_ACK: unmask line irq again; only its bound thread may. */
long irq_ack(struct thread *cur, uint64_t irq);

/* The line fired (called from the interrupt path with it masked or not). */
void irq_deliver(int irq);

/* t is being destroyed: its lines are masked and unbound. */
void irq_thread_dying(struct thread *t);

/* Some living thread has an IRQ bound: an interrupt may still wake it. */
int irq_waiter_exists(void);

#endif
