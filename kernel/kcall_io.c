/*
 * Kernel-endpoint operations for drivers: port I/O inside the process's
 * port range, and interrupt lines delivered as notifications.
 */
#include <abi/errno.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/trap.h"
#include "ipc.h"
#include "kcall.h"
#include "kcall_impl.h"
#include "uaccess.h"

/* Port I/O is allowed inside the process's range only. */
static int port_ok(const struct proc *p, uint64_t port, uint64_t width)
{
    return port <= 0xffff && port >= p->io_base &&
           port + width <= (uint64_t)p->io_base + p->io_count;
}

long kc_io_in(struct thread *cur)
{
    uint64_t port = ARG(0), width = ARG(1);
    if (width != 1 && width != 2 && width != 4)
        return -E_INVAL;
    if (!port_ok(cur->proc, port, width))
        return -E_PERM;
    uint64_t v = width == 1   ? inb((uint16_t)port)
                 : width == 2 ? inw((uint16_t)port)
                              : inl((uint16_t)port);
    OUT(0, v);
    OUT_WORDS(1);
    return 0;
}

long kc_io_out(struct thread *cur)
{
    uint64_t port = ARG(0), width = ARG(1), v = ARG(2);
    if (width != 1 && width != 2 && width != 4)
        return -E_INVAL;
    if (!port_ok(cur->proc, port, width))
        return -E_PERM;
    if (width == 1)
        outb((uint16_t)port, (uint8_t)v);
    else if (width == 2)
        outw((uint16_t)port, (uint16_t)v);
    else
        outl((uint16_t)port, (uint32_t)v);
    return 0;
}

long kc_io_write(struct thread *cur)
{
    static uint8_t buf[4096];
    uint64_t data = ARG(0), status = ARG(1), len = ARG(4);
    uint8_t mask = (uint8_t)ARG(2);
    if (!port_ok(cur->proc, data, 1) || !port_ok(cur->proc, status, 1))
        return -E_PERM;
    if (len > sizeof(buf))
        return -E_RANGE;
    int rc = uaccess_read(cur->proc, ARG(3), buf, len);
    if (rc < 0)
        return rc;
    for (uint64_t i = 0; i < len; i++) {
        /* Bounded wait: a device that never gets ready costs time, not the kernel. */
        for (int spin = 0; mask && spin < 100000 && !(inb((uint16_t)status) & mask); spin++)
            ;
        outb((uint16_t)data, buf[i]);
    }
    return (long)len;
}

/* IRQ line -> the driver thread notified when it fires. */
static struct {
    struct thread *thread;
    uint32_t tid;
    uint64_t bit;
} irq_bind[NUM_IRQS];

#define IRQ_TIMER 0

long kc_irq_bind(struct thread *cur)
{
    uint64_t irq = ARG(0), bit = ARG(1);
    if (irq >= NUM_IRQS || irq == IRQ_TIMER || irq == 2 || bit >= 63)
        return -E_RANGE; /* 0 is the kernel's timer, 2 the cascade, bit 63 is for deaths */
    /* Its own mask from spawn, or a line the bus server handed it. */
    if (!((cur->proc->irq_mask | cur->proc->dev_irqs) & (1u << irq)))
        return -E_PERM;
    if (irq_bind[irq].thread && thread_by_tid(irq_bind[irq].tid) && irq_bind[irq].thread != cur)
        return -E_BUSY;
    irq_bind[irq].thread = cur;
    irq_bind[irq].tid = cur->tid;
    irq_bind[irq].bit = 1ull << bit;
    pic_unmask((int)irq);
    return 0;
}

long kc_irq_ack(struct thread *cur)
{
    uint64_t irq = ARG(0);
    if (irq >= NUM_IRQS || irq_bind[irq].thread != cur || irq_bind[irq].tid != cur->tid)
        return -E_PERM;
    pic_unmask((int)irq);
    return 0;
}

void irq_deliver(int irq)
{
    /* The line stays masked until the driver acknowledges, so a level
     * interrupt cannot storm while the driver runs. */
    pic_mask(irq);
    struct thread *t = irq_bind[irq].thread;
    if (t && t->tid == irq_bind[irq].tid)
        ipc_notify_thread(t, irq_bind[irq].bit);
}

int irq_waiter_exists(void)
{
    for (int irq = 0; irq < NUM_IRQS; irq++)
        if (irq_bind[irq].thread && irq_bind[irq].thread->tid == irq_bind[irq].tid)
            return 1;
    return 0;
}

void irq_thread_dying(struct thread *t)
{
    for (int irq = 0; irq < NUM_IRQS; irq++)
        if (irq_bind[irq].thread == t) {
            pic_mask(irq);
            irq_bind[irq].thread = 0;
        }
}
