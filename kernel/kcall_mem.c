/*
 * Kernel-endpoint operations of the memory server (PRIV_MAP): map frames of
 * the user pool into any process's heap window, unmap them, and learn where
 * the pool is. The kernel checks every address; the memory server decides
 * policy (who gets which frame).
 */
#include <abi/errno.h>
#include <abi/layout.h>
#include <common/string.h>

#include "arch/x86_64/vm.h"
#include "calls_gen.h"
#include "grant_map.h"
#include "kmem.h"

#define MAX_MAP_PAGES 4096

/* [va, va + pages) page-aligned and inside the heap window. */
static int heap_range_ok(uint64_t va, uint64_t pages)
{
    return va % 4096 == 0 && pages > 0 && pages <= MAX_MAP_PAGES && va >= USER_HEAP_MIN &&
           va <= USER_HEAP_MAX && pages <= (USER_HEAP_MAX - va) / 4096;
}

long kc_map(struct thread *cur, const struct kc_map_args *a)
{
    (void)cur; /* the target is named by pid; PRIV_MAP was checked */
    struct proc *p = proc_by_pid((uint32_t)a->pid);
    uint64_t va = a->vaddr, pa = a->paddr, pages = a->pages, flags = a->flags;
    if (!p)
        return -E_NOENT;
    if (!heap_range_ok(va, pages))
        return -E_RANGE;
    /* Only pool frames: the memory server must never reach kernel memory. */
    if (pa % 4096 || pa < kmem_pool_base || pa > kmem_pool_end ||
        pages > (kmem_pool_end - pa) / 4096)
        return -E_RANGE;
    if (flags & ~(uint64_t)(KC_MAP_WRITE | KC_MAP_EXEC | KC_MAP_ZERO | KC_MAP_DMA))
        return -E_INVAL;
    if ((flags & KC_MAP_WRITE) && (flags & KC_MAP_EXEC))
        return -E_INVAL; /* W^X holds in user space too */
    /* DMA memory (whose physical addresses the memory server tells the
     * target) only for drivers: they alone may program a device with them. */
    if ((flags & KC_MAP_DMA) && !(p->privs & PRIV_DMA))
        return -E_PERM;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t *e = vm_pte(p->cr3, va + i * 4096);
        if (e && (*e & PTE_P))
            return -E_EXIST; /* checked before anything changes */
    }
    uint64_t pte = PTE_U | (flags & KC_MAP_WRITE ? PTE_W : 0) | (flags & KC_MAP_EXEC ? 0 : PTE_NX);
    for (uint64_t i = 0; i < pages; i++) {
        if (flags & KC_MAP_ZERO)
            memset(phys_to_virt(pa + i * 4096), 0, 4096);
        /* The page tables are the target's: charged to its budget. */
        if (vm_map(p->cr3, va + i * 4096, pa + i * 4096, pte, &p->quota) < 0) {
            vm_unmap_range(p->cr3, va, pages, &p->quota); /* and any table made for it */
            return -E_NOMEM; /* out of the target's budget (or of frames) */
        }
    }
    p->mapped_pages += pages;
    return 0;
}

long kc_unmap(struct thread *cur, const struct kc_unmap_args *a)
{
    (void)cur;
    struct proc *p = proc_by_pid((uint32_t)a->pid);
    uint64_t va = a->vaddr, pages = a->pages;
    if (!p)
        return -E_NOENT;
    if (!heap_range_ok(va, pages))
        return -E_RANGE;
    /* The pages may go to someone else next: no grantee keeps them. */
    grant_map_source_gone(p, va, pages);
    /* Page tables left empty are freed (and uncharged) at once. */
    uint64_t n = vm_unmap_range(p->cr3, va, pages, &p->quota);
    p->mapped_pages -= n;
    return (long)n;
}

long kc_meminfo(struct thread *cur)
{
    kc_meminfo_reply(cur, kmem_pool_base, kmem_pool_end, kmem_pool_state);
    return 0;
}
