/*
 * Interrupt lines routed to user-space drivers: which thread a line
 * notifies, with which bit, and masking the line until the driver
 * acknowledges. KC_IRQ_BIND and KC_IRQ_ACK (kcall_io.c) come here.
 */
#include "irq.h"

#include <abi/errno.h>

#include "arch/x86_64/pic.h"
#include "arch/x86_64/trap.h"
#include "ipc.h"

/* IRQ line -> the driver thread notified when it fires. */
static struct {
    struct thread *thread;
    uint32_t tid;
    uint64_t bit;
} binding[NUM_IRQS];

#define IRQ_TIMER 0

long irq_bind(struct thread *cur, uint64_t irq, uint64_t bit)
{
    if (irq >= NUM_IRQS || irq == IRQ_TIMER || irq == 2 || bit >= 63)
        return -E_RANGE; /* 0 is the kernel's timer, 2 the cascade, bit 63 is for deaths */
    /* Its own mask from spawn, or a line the bus server handed it. */
    if (!((cur->proc->irq_mask | cur->proc->dev_irqs) & (1u << irq)))
        return -E_PERM;
    if (thread_still(binding[irq].thread, binding[irq].tid) && binding[irq].thread != cur)
        return -E_BUSY;
    binding[irq].thread = cur;
    binding[irq].tid = cur->tid;
    binding[irq].bit = 1ull << bit;
    pic_unmask((int)irq);
    return 0;
}

long irq_ack(struct thread *cur, uint64_t irq)
{
    if (irq >= NUM_IRQS || binding[irq].thread != cur || !thread_still(cur, binding[irq].tid))
        return -E_PERM;
    pic_unmask((int)irq);
    return 0;
}

void irq_deliver(int irq)
{
    /* The line stays masked until the driver acknowledges, so a level
     * interrupt cannot storm while the driver runs. */
    pic_mask(irq);
    struct thread *t = binding[irq].thread;
    if (thread_still(t, binding[irq].tid))
        ipc_notify_thread(t, binding[irq].bit);
}

int irq_waiter_exists(void)
{
    for (int irq = 0; irq < NUM_IRQS; irq++)
        if (thread_still(binding[irq].thread, binding[irq].tid))
            return 1;
    return 0;
}

void irq_thread_dying(struct thread *t)
{
    for (int irq = 0; irq < NUM_IRQS; irq++)
        if (binding[irq].thread == t) {
            pic_mask(irq);
            binding[irq].thread = 0;
        }
}
