/*
 * Kernel-endpoint operations for drivers: port I/O inside the process's
 * port range, and binding interrupt lines (the routing is irq.c).
 */
#include <abi/errno.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/trap.h"
#include "calls_gen.h"
#include "irq.h"
#include "ipc.h"
#include "kcall.h"
#include "uaccess.h"

/* Port I/O is allowed inside the process's range only. */
static int port_ok(const struct proc *p, uint64_t port, uint64_t width)
{
    return port <= 0xffff && port >= p->io_base &&
           port + width <= (uint64_t)p->io_base + p->io_count;
}

long kc_io_in(struct thread *cur, const struct kc_io_in_args *a)
{
    uint64_t port = a->port, width = a->width;
    if (width != 1 && width != 2 && width != 4)
        return -E_INVAL;
    if (!port_ok(cur->proc, port, width))
        return -E_PERM;
    uint64_t v = width == 1   ? inb((uint16_t)port)
                 : width == 2 ? inw((uint16_t)port)
                              : inl((uint16_t)port);
    kc_io_in_reply(cur, v);
    return 0;
}

long kc_io_out(struct thread *cur, const struct kc_io_out_args *a)
{
    uint64_t port = a->port, width = a->width, v = a->value;
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

long kc_io_write(struct thread *cur, const struct kc_io_write_args *a)
{
    static uint8_t buf[4096];
    uint64_t data = a->data, status = a->status, len = a->len;
    uint8_t mask = (uint8_t)a->mask;
    if (!port_ok(cur->proc, data, 1) || !port_ok(cur->proc, status, 1))
        return -E_PERM;
    if (len > sizeof(buf))
        return -E_RANGE;
    int rc = uaccess_read(cur->proc, a->buf, buf, len);
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

long kc_irq_bind(struct thread *cur, const struct kc_irq_bind_args *a)
{
    return irq_bind(cur, a->irq, a->bit);
}

long kc_irq_ack(struct thread *cur, const struct kc_irq_ack_args *a)
{
    return irq_ack(cur, a->irq);
}
