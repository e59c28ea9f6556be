/*
 * Kernel-endpoint operations for device drivers: the PCI bus server
 * (PRIV_BUS) hands a device's memory windows and interrupt line to the
 * driver process it chose, and the driver (PRIV_MMIO) maps exactly those
 * windows, uncached. The kernel does not read config space; it keeps each
 * window and line with one living process at a time and off RAM, and
 * tells the bus server who holds one (its record outlives a bus restart).
 */
#include <abi/errno.h>
#include <abi/layout.h>

#include "arch/x86_64/trap.h"
#include "arch/x86_64/vm.h"
#include "calls_gen.h"
#include "kmem.h"

#define MAX_MMIO_PAGES 4096
#define PHYS_LIMIT     (1ull << 52) /* the most a page-table entry can address */

/* p holds a window overlapping [base, end) or the line irq (KC_DEV_NO_IRQ: none). */
static int device_taken_by(const struct proc *p, uint64_t base, uint64_t end, uint64_t irq)
{
    if (irq != KC_DEV_NO_IRQ && (p->dev_irqs >> irq & 1))
        return 1;
    for (int w = 0; w < KC_DEV_WINDOWS && base < end; w++)
        if (p->dev_windows[w].size && base < p->dev_windows[w].base + p->dev_windows[w].size &&
            p->dev_windows[w].base < end)
            return 1;
    return 0;
}

/* Some living process other than `except` holds a window overlapping
 * [base, end) or the line irq. */
static int device_taken(const struct proc *except, uint64_t base, uint64_t end, uint64_t irq)
{
    for (int i = 0; i < MAX_PROCS; i++)
        if (procs[i].pid && &procs[i] != except && device_taken_by(&procs[i], base, end, irq))
            return 1;
    return 0;
}

long kc_dev_assign(struct thread *cur, const struct kc_dev_assign_args *a)
{
    struct proc *p = proc_by_pid((uint32_t)a->pid);
    uint64_t base = a->base, size = a->size, irq = a->irq;
    if (!p)
        return -E_NOENT;
    if (base % 4096 || size % 4096 || (size == 0 && base) || size > PHYS_LIMIT ||
        base > PHYS_LIMIT - size)
        return -E_RANGE;
    if (irq != KC_DEV_NO_IRQ && (irq >= NUM_IRQS || irq == 0 || irq == 2))
        return -E_RANGE; /* the timer and the cascade are the kernel's */
    /* Never RAM or firmware memory: a window there would hand out kernel
     * memory or other processes' frames. Lines only from our own mask. */
    if (size && !kmem_is_device_range(base, size))
        return -E_PERM;
    if (irq != KC_DEV_NO_IRQ && !(cur->proc->irq_mask >> irq & 1))
        return -E_PERM;
    if (device_taken(p, base, base + size, irq))
        return -E_BUSY;
    struct dev_window *slot = 0;
    for (int w = 0; w < KC_DEV_WINDOWS && size; w++) {
        struct dev_window *d = &p->dev_windows[w];
        if (d->size && base < d->base + d->size && d->base < base + size) {
            if (d->base != base || d->size != size)
                return -E_EXIST; /* overlaps one of its windows differently */
            slot = d;
            break;
        }
        if (!d->size && !slot)
            slot = d;
    }
    if (size && !slot)
        return -E_LIMIT;
    if (size)
        *slot = (struct dev_window){base, size};
    if (irq != KC_DEV_NO_IRQ)
        p->dev_irqs |= 1u << irq;
    return 0;
}

long kc_dev_holder(struct thread *cur, const struct kc_dev_holder_args *a)
{
    (void)cur;
    uint64_t base = a->base, size = a->size, irq = a->irq;
    if (size > PHYS_LIMIT || base > PHYS_LIMIT - size)
        return -E_RANGE;
    if (irq != KC_DEV_NO_IRQ && irq >= NUM_IRQS)
        return -E_RANGE;
    for (int i = 0; i < MAX_PROCS; i++) {
        const struct proc *p = &procs[i];
        if (p->pid && device_taken_by(p, base, base + size, irq))
            return (long)p->pid;
    }
    return 0;
}

/* [pa, pa + pages) inside one of p's windows. */
static int window_ok(const struct proc *p, uint64_t pa, uint64_t pages)
{
    for (int w = 0; w < KC_DEV_WINDOWS; w++) {
        const struct dev_window *d = &p->dev_windows[w];
        if (d->size && pa >= d->base && pa - d->base < d->size &&
            pages <= (d->size - (pa - d->base)) / 4096)
            return 1;
    }
    return 0;
}

long kc_mmio_map(struct thread *cur, const struct kc_mmio_map_args *a)
{
    struct proc *p = cur->proc;
    uint64_t va = a->vaddr, pa = a->paddr, pages = a->pages;
    if (va % 4096 || pages == 0 || pages > MAX_MMIO_PAGES || va < USER_DEVICE_MIN ||
        va >= USER_DEVICE_MAX || pages > (USER_DEVICE_MAX - va) / 4096)
        return -E_RANGE;
    if (pa % 4096 || !window_ok(p, pa, pages))
        return -E_PERM;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t *e = vm_pte(p->cr3, va + i * 4096);
        if (e && (*e & PTE_P))
            return -E_EXIST; /* checked before anything changes */
    }
    /* Uncached (PCD + PWT: UC with the power-on PAT), never executable, and
     * PTE_DEVICE so that no kernel copy (grants, user buffers) reads it
     * through the physmap, which holds RAM only. */
    uint64_t pte = PTE_U | PTE_W | PTE_NX | PTE_PCD | PTE_PWT | PTE_DEVICE;
    for (uint64_t i = 0; i < pages; i++)
        if (vm_map(p->cr3, va + i * 4096, pa + i * 4096, pte, &p->quota) < 0) {
            vm_unmap_range(p->cr3, va, pages, &p->quota);
            return -E_NOMEM; /* its page tables are charged to it */
        }
    return 0;
}
