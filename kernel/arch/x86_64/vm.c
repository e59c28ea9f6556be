/*
 * Kernel page tables (see vm.h). Layout (layout.h): physmap of all RAM in
 * 2 MiB pages, RW+NX; the kernel image in 4 KiB pages with W^X per section;
 * kernel stacks with guard pages. All kernel mappings are global, so the TLB
 * keeps them across address-space switches where the CPU supports it.
 */
#include "vm.h"

#include <abi/errno.h>
#include <common/string.h>

#include "../../frame.h"
#include "../../klog.h"
#include "cpu.h"
#include "klock.h"

uint64_t vm_kernel_pml4;

/* The frame allocator vm_init was handed (copied: one load per call). */
static struct vm_frames frames;

/* Before vm_init switches tables, frames are reached through the boot map
 * (KERNEL_VBASE + pa, first GiB only). */
static int vm_ready;

static void *table_virt(uint64_t pa)
{
    if (vm_ready)
        return phys_to_virt(pa);
    assert(pa < (1ull << 30));
    return (void *)(KERNEL_VBASE + pa);
}

/* A zeroed page table, charged to q (0: the kernel's own). */
static uint64_t new_table(struct quota *q)
{
    uint64_t pa = frames.alloc(q);
    if (pa == FRAME_NONE)
        return 0;
    memset(table_virt(pa), 0, 4096);
    return pa;
}

/* The entry for `va` at `level` (3 = PML4 .. 0 = PT) in the table `pa`. */
static uint64_t *entry(uint64_t table_pa, uint64_t va, int level)
{
    uint64_t *t = table_virt(table_pa);
    return &t[(va >> (12 + 9 * level)) & 511];
}

/* Walk to the table that holds va's entry at `level`, allocating on the way
 * when `create` (charged to q). Returns 0 if a table is missing (or a huge
 * page is in the way) and cannot or must not be made. */
static uint64_t *walk(uint64_t pml4, uint64_t va, int level, int create, struct quota *q)
{
    uint64_t table = pml4;
    for (int l = 3; l > level; l--) {
        uint64_t *e = entry(table, va, l);
        if (!(*e & PTE_P)) {
            if (!create)
                return 0;
            uint64_t t = new_table(q);
            if (!t)
                return 0;
            /* Intermediate entries are permissive; leaves decide. */
            *e = t | PTE_P | PTE_W | (va < USER_HALF_END ? PTE_U : 0);
        } else if (*e & PTE_PS) {
            return 0;
        }
        table = *e & PTE_ADDR;
    }
    return entry(table, va, level);
}

int vm_map(uint64_t pml4, uint64_t va, uint64_t pa, uint64_t flags, struct quota *q)
{
    uint64_t *e = walk(pml4, va, 0, 1, q);
    if (!e)
        return -E_NOMEM;
    if (*e & PTE_P)
        return -E_EXIST;
    *e = (pa & PTE_ADDR) | flags | PTE_P;
    return 0;
}

uint64_t *vm_pte_create(uint64_t pml4, uint64_t va, struct quota *q)
{
    return walk(pml4, va, 0, 1, q);
}

uint64_t vm_unmap(uint64_t pml4, uint64_t va)
{
    smp_flush_space(pml4);
    uint64_t *e = vm_pte(pml4, va);
    if (!e || !(*e & PTE_P) || (*e & PTE_PS))
        return 0;
    uint64_t pa = *e & PTE_ADDR;
    *e = 0;
    invlpg(va);
    return pa;
}

uint64_t *vm_pte(uint64_t pml4, uint64_t va)
{
    uint64_t table = pml4;
    for (int l = 3; l > 0; l--) {
        uint64_t *e = entry(table, va, l);
        if (!(*e & PTE_P))
            return 0;
        if (*e & PTE_PS)
            return e;
        table = *e & PTE_ADDR;
    }
    return entry(table, va, 0);
}

/* A table none of whose entries is present. */
static int table_empty(uint64_t pa)
{
    const uint64_t *t = phys_to_virt(pa);
    for (int i = 0; i < 512; i++)
        if (t[i] & PTE_P)
            return 0;
    return 1;
}

/* Free the tables on va's path that are empty, the lowest first, up to
 * (not including) the PML4. User half only: the kernel half's tables are
 * shared by every address space. */
static void prune(uint64_t pml4, uint64_t va, struct quota *q)
{
    uint64_t *path[4] = {0}, table = pml4;
    int lowest = 4;
    for (int l = 3; l >= 1; l--) {
        uint64_t *e = entry(table, va, l);
        if (!(*e & PTE_P) || (*e & PTE_PS))
            break;
        path[l] = e;
        lowest = l;
        table = *e & PTE_ADDR;
    }
    for (int l = lowest; l <= 3; l++) {
        uint64_t child = *path[l] & PTE_ADDR;
        if (!table_empty(child))
            return;
        *path[l] = 0;
        invlpg(va); /* also drops what the paging-structure caches hold of it */
        frames.free(q, child);
    }
}

uint64_t vm_unmap_range(uint64_t pml4, uint64_t va, uint64_t pages, struct quota *q)
{
    assert(va % 4096 == 0 && va < USER_HALF_END && pages <= (USER_HALF_END - va) / 4096);
    smp_flush_space(pml4); /* before any frame is freed */
    uint64_t end = va + pages * 4096, n = 0;
    while (va < end) {
        uint64_t stop = (va | ((1ull << 21) - 1)) + 1; /* the end of va's page table */
        if (stop > end)
            stop = end;
        uint64_t *e = walk(pml4, va, 0, 0, 0);
        for (uint64_t a = va; e && a < stop; a += 4096, e++) {
            uint64_t old = *e;
            if (!(old & PTE_P))
                continue;
            *e = 0;
            invlpg(a);
            if (old & PTE_OWNED)
                frames.free(q, old & PTE_ADDR);
            n++;
        }
        prune(pml4, va, q);
        va = stop;
    }
    return n;
}

uint64_t vm_space_create(struct quota *q)
{
    uint64_t pml4 = new_table(q);
    if (!pml4)
        return 0;
    uint64_t *dst = phys_to_virt(pml4), *src = phys_to_virt(vm_kernel_pml4);
    for (int i = PML4_KERNEL_FIRST; i < 512; i++)
        dst[i] = src[i];
    return pml4;
}

/* Free the subtree below table `pa` at `level` (2 = PDPT .. 0 = PT). */
static uint64_t free_subtree(uint64_t pa, int level, struct quota *q)
{
    uint64_t *t = phys_to_virt(pa), n = 0;
    for (int i = 0; i < 512; i++) {
        if (!(t[i] & PTE_P))
            continue;
        if (level == 0) {
            if (t[i] & PTE_OWNED) {
                frames.free(q, t[i] & PTE_ADDR);
                n++;
            }
        } else {
            n += free_subtree(t[i] & PTE_ADDR, level - 1, q);
        }
    }
    frames.free(q, pa);
    return n + 1;
}

uint64_t vm_space_destroy(uint64_t pml4, struct quota *q)
{
    uint64_t *t = phys_to_virt(pml4), n = 0;
    for (int i = 0; i < PML4_KERNEL_FIRST; i++)
        if (t[i] & PTE_P)
            n += free_subtree(t[i] & PTE_ADDR, 2, q);
    frames.free(q, pml4);
    return n + 1;
}

/* The page table (512 PTEs) that maps a user va, or 0 when a table on the
 * way is missing or a huge page is in the way. Straight-line: the grant
 * copy path walks up to three times per call (docs/benchmarks.md), and the
 * generic walk() costs ~100 instructions where this costs ~25. Only after
 * vm_init (user address spaces exist only then). */
static inline const uint64_t *user_pt(uint64_t pml4, uint64_t va)
{
    uint64_t e = ((const uint64_t *)phys_to_virt(pml4))[(va >> 39) & 511];
    if ((e & (PTE_P | PTE_PS)) != PTE_P)
        return 0;
    e = ((const uint64_t *)phys_to_virt(e & PTE_ADDR))[(va >> 30) & 511];
    if ((e & (PTE_P | PTE_PS)) != PTE_P)
        return 0;
    e = ((const uint64_t *)phys_to_virt(e & PTE_ADDR))[(va >> 21) & 511];
    if ((e & (PTE_P | PTE_PS)) != PTE_P)
        return 0;
    return phys_to_virt(e & PTE_ADDR);
}

void *vm_user_ptr(uint64_t pml4, uint64_t va, int write)
{
    if (va >= USER_HALF_END)
        return 0;
    const uint64_t *pt = user_pt(pml4, va);
    if (!pt)
        return 0;
    uint64_t e = pt[(va >> 12) & 511];
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    if ((e & PTE_PS) || (e & (need | PTE_DEVICE)) != need)
        return 0;
    return (uint8_t *)phys_to_virt(e & PTE_ADDR) + (va & 0xfff);
}

void vm_cursor_walk(struct vm_cursor *c, uint64_t va)
{
    c->region = va >> 21;
    c->pt = (uint64_t *)user_pt(c->pml4, va);
}

static void map_2m(uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *e = walk(vm_kernel_pml4, va, 1, 1, 0);
    if (!e)
        panic("out of frames building the physmap");
    *e = pa | flags | PTE_P | PTE_PS;
}

static void map_4k(uint64_t va, uint64_t pa, uint64_t flags)
{
    if (vm_map(vm_kernel_pml4, va, pa, flags, 0) < 0)
        panic("cannot map kernel page %lx", va);
}

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __bss_end[];

static void map_section(const char *start, const char *end, uint64_t flags)
{
    for (uint64_t va = (uint64_t)start; va < (uint64_t)end; va += 4096)
        map_4k(va, va - KERNEL_VBASE, flags);
}

uint64_t vm_physmap_end;

static uint64_t kstack_next;

uint64_t vm_alloc_kstack(void)
{
    uint64_t slot = KSTACK_REGION + kstack_next++ * KSTACK_SLOT;
    assert(slot + KSTACK_SLOT <= 0xfffffffffffff000ull);
    /* First page of the slot stays unmapped: an overflow faults there
     * (through the #DF IST stack) instead of corrupting memory below. */
    for (uint64_t p = 1; p <= KSTACK_PAGES; p++) {
        uint64_t pa = frames.alloc(0);
        if (pa == FRAME_NONE)
            panic("out of frames for a kernel stack");
        memset(table_virt(pa), 0, 4096);
        map_4k(slot + p * 4096, pa, PTE_W | PTE_NX | PTE_G);
    }
    return slot + KSTACK_SLOT;
}

void vm_init(uint64_t phys_max, const struct vm_frames *f)
{
    frames = *f;
    uint32_t r[4];
    cpuid(7, 0, r);
    int smep = (r[1] >> 7) & 1, smap = (r[1] >> 20) & 1;

    vm_kernel_pml4 = new_table(0);
    if (!vm_kernel_pml4)
        panic("no frame for the kernel PML4");

    /* Pre-create the PDPTs of every kernel PML4 slot in use, so each process
     * can copy the upper half once and still see later kernel mappings. */
    for (uint64_t va = PHYSMAP_BASE; va < PHYSMAP_BASE + PHYSMAP_MAX; va += 1ull << 39)
        walk(vm_kernel_pml4, va, 2, 1, 0);
    walk(vm_kernel_pml4, KERNEL_VBASE, 2, 1, 0);

    /* physmap: 2 MiB pages, except where the kernel image lives: there 4 KiB
     * pages keep the alias of text and rodata read-only. */
    if (phys_max > PHYSMAP_MAX)
        phys_max = PHYSMAP_MAX;
    vm_physmap_end = (phys_max + (1ull << 21) - 1) & ~((1ull << 21) - 1);
    uint64_t ro_start = (uint64_t)__text_start - KERNEL_VBASE;
    uint64_t ro_end = (uint64_t)__rodata_end - KERNEL_VBASE;
    for (uint64_t pa = 0; pa < phys_max; pa += 1ull << 21) {
        uint64_t end = pa + (1ull << 21);
        if (end <= ro_start || pa >= ro_end) {
            map_2m(PHYSMAP_BASE + pa, pa, PTE_W | PTE_NX | PTE_G);
            continue;
        }
        for (uint64_t p = pa; p < end; p += 4096) {
            uint64_t w = (p >= ro_start && p < ro_end) ? 0 : PTE_W;
            map_4k(PHYSMAP_BASE + p, p, w | PTE_NX | PTE_G);
        }
    }

    /* W^X: text is the only executable part, and it is not writable. */
    map_section(__text_start, __text_end, PTE_G);
    map_section(__rodata_start, __rodata_end, PTE_NX | PTE_G);
    map_section(__data_start, __bss_end, PTE_W | PTE_NX | PTE_G);

    write_cr4(read_cr4() | CR4_PGE | (smep ? CR4_SMEP : 0) | (smap ? CR4_SMAP : 0));
    write_cr3(vm_kernel_pml4);
    vm_ready = 1;
    kprintf("kernel: paging: physmap %lu MiB at %lx, W^X sections, NX, global pages%s%s\n",
            phys_max >> 20, (uint64_t)PHYSMAP_BASE, smep ? ", SMEP" : "", smap ? ", SMAP" : "");
}
