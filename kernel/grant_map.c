/*
 * Map grants (see grant_map.h, docs/grants.md "Map grants"). The kernel
 * checks the chain as for a copy (with GRANT_F_MAP required on every link),
 * then shares the granter's frames page by page, never executable. The
 * records are fixed slots in the grantee's process, so mapping allocates
 * nothing but the page tables of the window, charged to the grantee.
 */
#include "grant_map.h"

#include <abi/errno.h>
#include <abi/layout.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/klock.h"
#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/vm.h"
#include "calls_gen.h"
#include "grant.h"
#include "proc.h"

/* Mappings alive in all windows: revokes and deaths skip the scan at 0. */
static uint32_t live;

static int overlaps(uint64_t a, uint64_t a_pages, uint64_t b, uint64_t b_pages)
{
    return a < b + b_pages * 4096 && b < a + a_pages * 4096;
}

static uint32_t root_pid(const struct grant_map *m)
{
    return m->links[m->nlinks - 1].pid;
}

/* Pages above which one flush of the whole (non-global) TLB is cheaper
 * than a flush per page (under QEMU TCG; docs/benchmarks.md). */
#define FLUSH_ALL_PAGES 16

/* Entries from va's to the end of its page table (its 2 MiB region). */
static uint64_t to_table_end(uint64_t va)
{
    return 512 - ((va >> 12) & 511);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Clear `pages` PTEs of owner's window from va, a page table's run at a
 * time. The window's page tables stay (charged to owner until it dies,
 * reused by its next mappings: making and freeing them on every map cost
 * more than the mapping). The TLB: flushed here when owner's space is
 * loaded; when it is not, the CR3 write that loads it flushes the pages
 * (no PCID, and granted pages are never global). */
static void clear(struct proc *owner, uint64_t va, uint64_t pages)
{
    smp_flush_space(owner->cr3); /* other CPUs with it loaded: klock.h */
    for (uint64_t i = 0; i < pages;) {
        uint64_t a = va + i * 4096, n = min_u64(pages - i, to_table_end(a));
        uint64_t *pt = vm_pte(owner->cr3, a);
        for (uint64_t k = 0; pt && k < n; k++)
            pt[k] = 0;
        i += n;
    }
    if (pcpu.cr3 != owner->cr3)
        return;
    if (pages > FLUSH_ALL_PAGES) {
        write_cr3(read_cr3());
        return;
    }
    for (uint64_t i = 0; i < pages; i++)
        invlpg(va + i * 4096);
}

/* Remove mapping m of process `owner`: its pages leave owner's window and
 * its record is free. */
static void drop(struct proc *owner, struct grant_map *m)
{
    clear(owner, m->va, m->pages);
    struct proc *root = proc_by_pid(root_pid(m));
    if (root)
        root->gmaps_out--;
    live--;
    m->pages = 0;
}

long sys_grant_map(struct thread *cur)
{
    struct proc *me = cur->proc;
    uint32_t granter = (uint32_t)cur->regs.rdi;
    uint64_t id = cur->regs.rsi, offset = cur->regs.rdx, local = cur->regs.mr[0],
             len = cur->regs.mr[1];
    uint64_t flags = cur->regs.mr[2];
    if (flags & ~(uint64_t)GRANT_F_WRITE)
        return -E_INVAL;
    if (len == 0 || ((offset | local | len) & 0xfff))
        return -E_INVAL;
    if (len > GRANT_MAP_MAX)
        return -E_RANGE;
    /* Only inside the window: never over our code, stacks or heap. */
    if (local < USER_MAP_MIN || local >= USER_MAP_MAX || len > USER_MAP_MAX - local)
        return -E_RANGE;
    int write = (flags & GRANT_F_WRITE) != 0;
    /* A writable mapping is readable too (x86 has no write-only pages). */
    uint32_t access = GRANT_F_MAP | GRANT_F_READ | (write ? GRANT_F_WRITE : 0);
    struct grant_target t;
    struct grant_link links[GRANT_MAX_DEPTH + 1];
    uint32_t nlinks = 0;
    struct proc *g;
    int rc = grant_verify_kernel(me->pid, granter, id, offset, len, access, &t, links, &nlinks, &g);
    if (rc < 0)
        return rc;
    if (t.addr & 0xfff)
        return -E_INVAL; /* the grant itself does not start on a page */
    uint64_t pages = len / 4096;
    /* The granter's own memory only: not what is mapped in its window
     * (passing a mapping on is what indirect grants are for), nothing
     * outside the user half. */
    if (t.addr >= USER_TOP || len > USER_TOP - t.addr ||
        overlaps(t.addr, pages, USER_MAP_MIN, (USER_MAP_MAX - USER_MAP_MIN) / 4096))
        return -E_FAULT;
    struct grant_map *m = 0;
    for (int i = 0; i < GRANT_MAPS_MAX; i++) {
        struct grant_map *r = &me->gmaps[i];
        if (!r->pages) {
            m = m ? m : r;
            continue;
        }
        /* Each page of ours once in our window, and each page of the
         * granter's at most once: the same pages mapped twice are refused. */
        if (overlaps(r->va, r->pages, local, pages) ||
            (root_pid(r) == t.granter && overlaps(r->src_va, r->pages, t.addr, pages)))
            return -E_EXIST;
    }
    if (!m)
        return -E_LIMIT;
    /* Every page first: a missing one changes nothing. Both passes go a
     * page table's run of entries at a time (one walk per 2 MiB). */
    uint64_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
    struct vm_cursor c = vm_cursor(g->cr3);
    for (uint64_t i = 0; i < pages;) {
        uint64_t a = t.addr + i * 4096, n = min_u64(pages - i, to_table_end(a));
        vm_cursor_walk(&c, a);
        if (!c.pt)
            return -E_FAULT;
        const uint64_t *s = c.pt + ((a >> 12) & 511);
        for (uint64_t k = 0; k < n; k++)
            if ((s[k] & (need | PTE_DEVICE)) != need)
                return -E_FAULT;
        i += n;
    }
    uint64_t pte = PTE_P | PTE_U | PTE_NX | PTE_GRANTED | (write ? PTE_W : 0);
    for (uint64_t i = 0; i < pages;) {
        uint64_t a = t.addr + i * 4096, l = local + i * 4096;
        uint64_t n = min_u64(pages - i, min_u64(to_table_end(a), to_table_end(l)));
        /* Our window's tables, charged to our budget. */
        uint64_t *d = vm_pte_create(me->cr3, l, &me->quota);
        if (!d) {
            clear(me, local, i);
            return -E_NOMEM;
        }
        vm_cursor_walk(&c, a);
        const uint64_t *s = c.pt + ((a >> 12) & 511);
        for (uint64_t k = 0; k < n; k++)
            d[k] = (s[k] & PTE_ADDR) | pte;
        i += n;
    }
    *m = (struct grant_map){local, t.addr, (uint32_t)pages, (uint8_t)nlinks, (uint8_t)write,
                            0,     {{0}}};
    for (uint32_t i = 0; i < nlinks; i++)
        m->links[i] = links[i];
    g->gmaps_out++;
    live++;
    return 0;
}

long sys_grant_unmap(struct thread *cur)
{
    struct proc *me = cur->proc;
    uint64_t local = cur->regs.mr[0];
    for (int i = 0; i < GRANT_MAPS_MAX; i++) {
        struct grant_map *m = &me->gmaps[i];
        if (m->pages && m->va == local) {
            long pages = m->pages;
            drop(me, m);
            return pages;
        }
    }
    return -E_NOENT;
}

/* Does m's chain pass through pid's grant `id`, or (id_any) any of pid's? */
static int names(const struct grant_map *m, uint32_t pid, uint64_t id, int id_any)
{
    for (uint32_t i = 0; i < m->nlinks; i++)
        if (m->links[i].pid == pid && (id_any || m->links[i].id == id))
            return 1;
    return 0;
}

/* Drop every mapping, in every window, that names pid (and id). */
static long drop_naming(uint32_t pid, uint64_t id, int id_any)
{
    long n = 0;
    for (int p = 0; p < MAX_PROCS && live; p++) {
        if (!procs[p].pid)
            continue;
        for (int i = 0; i < GRANT_MAPS_MAX; i++) {
            struct grant_map *m = &procs[p].gmaps[i];
            if (m->pages && names(m, pid, id, id_any)) {
                drop(&procs[p], m);
                n++;
            }
        }
    }
    return n;
}

long sys_grant_revoke(struct thread *cur)
{
    return drop_naming(cur->proc->pid, cur->regs.rsi, 0);
}

void grant_map_source_gone(struct proc *p, uint64_t va, uint64_t pages)
{
    for (int q = 0; q < MAX_PROCS && p->gmaps_out; q++) {
        if (!procs[q].pid)
            continue;
        for (int i = 0; i < GRANT_MAPS_MAX; i++) {
            struct grant_map *m = &procs[q].gmaps[i];
            if (m->pages && root_pid(m) == p->pid && overlaps(m->src_va, m->pages, va, pages))
                drop(&procs[q], m);
        }
    }
}

void grant_map_proc_dying(struct proc *p)
{
    for (int i = 0; i < GRANT_MAPS_MAX; i++)
        if (p->gmaps[i].pages)
            drop(p, &p->gmaps[i]);
    drop_naming(p->pid, 0, 1);
}
