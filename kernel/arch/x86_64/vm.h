/*
 * x86_64 page tables: building the kernel's own tables at boot, and the
 * primitives the rest of the kernel uses on any address space (map, unmap,
 * walk). Every table is reached through the physmap; their frames come from
 * the allocator vm_init is handed.
 */
#ifndef ARCH_VM_H
#define ARCH_VM_H

#include <stdint.h>

#include "../../quota.h"
#include "layout.h"

/* clang-format off */
#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_OWNED (1ull << 9) /* software bit: frame belongs to the kernel pool, free it with the space */
#define PTE_GRANTED (1ull << 10) /* software bit: another process's page, mapped by SYS_GRANT_MAP */
#define PTE_DEVICE (1ull << 11) /* software bit: device memory, never read or written by the kernel */
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
/* clang-format on */

#define USER_HALF_END 0x0000800000000000ull

/* Physical -> kernel virtual through the physmap (valid after vm_init). */
static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(PHYSMAP_BASE + pa);
}

/* End of the physical range the physmap covers (RAM, and whatever shares
 * its last 2 MiB page, such as the firmware's ACPI tables). */
extern uint64_t vm_physmap_end;

/* Physical address of the kernel's own page-table root. */
extern uint64_t vm_kernel_pml4;

/* Where vm takes the frames of page tables and kernel stacks, handed to it
 * by vm_init (the kernel passes kmem's): alloc charges a frame to q (0:
 * the kernel's own) and returns FRAME_NONE, charging nothing, when q's
 * budget or memory is exhausted; free gives it back and uncharges q. */
struct vm_frames {
    uint64_t (*alloc)(struct quota *q);
    void (*free)(struct quota *q, uint64_t pa);
};

/* Build the final kernel tables, switch to them and enable CR4 features;
 * vm takes its frames from `frames` from now on. Precondition: that
 * allocator works; phys_max = end of RAM. The boot map is gone when this
 * returns: an allocator whose books live there must move them before its
 * next allocation (kmem_after_vm). */
void vm_init(uint64_t phys_max, const struct vm_frames *frames);

/* Map one 4 KiB page; allocates intermediate tables (user ones get PTE_U),
 * charged to q (0: the kernel's own tables, at boot). Returns 0, -E_NOMEM
 * (out of frames or q's budget), or -E_EXIST if va is already mapped. */
int vm_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags, struct quota *q);

/* The leaf PTE slot for user address va, making the tables on the way
 * (charged to q); 0 when out of frames or budget. A PTE slot is the start
 * of its page table's run: the next entries are the next pages, up to the
 * table's end (va's 2 MiB region). */
uint64_t *vm_pte_create(uint64_t pml4, uint64_t va, struct quota *q);

/* Remove va's 4 KiB mapping and flush it from this CPU's TLB; returns the
 * physical address that was mapped, or FRAME_NONE-like 0 if none was.
 * Frees nothing (the kernel's own mappings). */
uint64_t vm_unmap(uint64_t pml4, uint64_t va);

/* Unmap [va, va + pages * 4 KiB) of a user address space: frames marked
 * PTE_OWNED are freed, every page table left empty is freed, and both are
 * uncharged from q, the space's owner. Returns the pages that were mapped.
 * Precondition: the range is page-aligned and inside the user half. */
uint64_t vm_unmap_range(uint64_t pml4, uint64_t va, uint64_t pages, struct quota *q);

/* Leaf PTE for va, or 0 when the walk finds no table (never allocates).
 * Stops at huge pages and returns that entry. */
uint64_t *vm_pte(uint64_t pml4, uint64_t va);

/* A new address space: empty user half, the kernel half shared; its PML4
 * is charged to q. Returns the PML4's physical address, or 0 when out of
 * frames or budget. */
uint64_t vm_space_create(struct quota *q);

/* Free every page table of the user half, each mapped frame marked
 * PTE_OWNED, then the PML4, uncharging them all from q. Returns the frames
 * freed. Precondition: the space is not loaded in CR3. */
uint64_t vm_space_destroy(uint64_t pml4, struct quota *q);

/* Physmap pointer to the byte at user address va if the page is present,
 * user-accessible (and writable when `write`) and not device memory
 * (PTE_DEVICE: the physmap holds RAM only), else 0. */
void *vm_user_ptr(uint64_t pml4, uint64_t va, int write);

/* Walking many consecutive user pages: the page table of the current
 * 2 MiB region is kept, so each further page costs one entry read instead
 * of a four-level walk. Start with {pml4} and use it for one space only. */
struct vm_cursor {
    uint64_t pml4;
    uint64_t region; /* va >> 21 of `pt`, or ~0 */
    uint64_t *pt;    /* 0 when the region has no page table */
};

static inline struct vm_cursor vm_cursor(uint64_t pml4)
{
    return (struct vm_cursor){pml4, ~0ull, 0};
}

/* Point c at va's region: its page table, or 0 (out of line: the walk). */
void vm_cursor_walk(struct vm_cursor *c, uint64_t va);

/* As vm_user_ptr, through the cursor; inline, so a page of the region
 * already walked costs a handful of instructions (the copy path). */
static inline void *vm_cursor_ptr(struct vm_cursor *c, uint64_t va, int write)
{
    if (va >= USER_HALF_END)
        return 0;
    if (va >> 21 != c->region)
        vm_cursor_walk(c, va);
    if (!c->pt)
        return 0;
    uint64_t e = c->pt[(va >> 12) & 511];
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    if ((e & (need | PTE_DEVICE)) != need)
        return 0;
    return (uint8_t *)phys_to_virt(e & PTE_ADDR) + (va & 0xfff);
}

/* Allocate a kernel stack with an unmapped guard page below it; returns its
 * top. Panics when out of memory (used at boot only). */
uint64_t vm_alloc_kstack(void);

/* Switch to a new stack and call fn there; never returns. */
__attribute__((noreturn)) void vm_run_on_stack(uint64_t top, void (*fn)(void));

#endif
