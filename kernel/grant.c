/*
 * Grant copies (see grant.h, abi/grant.h) and KC_GRANT_TABLE. After the
 * grant is verified (inline, one lookup of each process), ucopy moves the
 * bytes through the physmap, checking each page of both sides, without
 * loading either address space: no CR3 write, and no kernel dereference of
 * a user pointer.
 */
#include "grant.h"

#include <abi/errno.h>
#include <abi/grant.h>
#include <abi/layout.h>
#include <abi/syscall.h>
#include <common/string.h>

#include "arch/x86_64/pcpu.h"
#include "arch/x86_64/vm.h"
#include "calls_gen.h"
#include "grant_verify.h"
#include "uaccess.h"

/* The kernel's grant source: tables in the granters' own memory. Its
 * context keeps the process table_slots found, and a cursor over its
 * space, which read_entry (always right after, for the same pid) and the
 * copy then use: one lookup of each process per link, and the granter's
 * table and bytes walked once when they share a 2 MiB region. */
struct kernel_source {
    struct proc *p;
    struct vm_cursor c;
};

static inline uint64_t table_slots(void *ctx, uint32_t pid)
{
    struct kernel_source *k = ctx;
    k->p = proc_by_pid(pid);
    if (!k->p)
        return 0;
    k->c = vm_cursor(k->p->cr3);
    return k->p->grant_slots;
}

_Static_assert(sizeof(struct grant_entry) % 8 == 0, "an entry is read as whole words");

static inline int read_entry(void *ctx, uint32_t pid, uint64_t index, struct grant_entry *out)
{
    (void)pid;
    struct kernel_source *k = ctx;
    uint64_t a = k->p->grant_table + index * sizeof(*out);
    if ((a & 0xfff) + sizeof(*out) > 4096)
        return uaccess_read(k->p, a, out, sizeof(*out));
    /* Within one page (the table is 8-aligned): word by word, each word
     * read once (volatile), however the granter rewrites the entry. */
    const volatile uint64_t *w = vm_cursor_ptr(&k->c, a, 0);
    if (!w)
        return -E_FAULT;
    uint64_t words[sizeof(*out) / 8];
    /* Unrolled: six loads the compiler then keeps in registers, where a
     * loop (over volatile words it will not unroll by itself) goes
     * through memory twice (docs/benchmarks.md). */
#pragma GCC unroll 8
    for (uint64_t i = 0; i < sizeof(*out) / 8; i++)
        words[i] = w[i];
    __builtin_memcpy(out, words, sizeof(*out)); /* inline: moves, not a call */
    return 0;
}

/* grant_verify_chain over the processes' tables, inline for the copy path;
 * k->p is then the process whose memory the bytes are in. */
static inline __attribute__((always_inline)) int verify(uint32_t caller, uint32_t granter,
                                                        uint64_t id, uint64_t offset, uint64_t len,
                                                        uint32_t access, struct grant_target *t,
                                                        struct grant_link *links, uint32_t *nlinks,
                                                        struct kernel_source *k)
{
    const struct grant_source src = {table_slots, read_entry, k};
    return grant_verify_inline(&src, caller, granter, id, offset, len, access, t, links, nlinks);
}

int grant_verify_kernel(uint32_t caller, uint32_t granter, uint64_t id, uint64_t offset,
                        uint64_t len, uint32_t access, struct grant_target *t,
                        struct grant_link *links, uint32_t *nlinks, struct proc **g)
{
    struct kernel_source k = {0};
    int rc = verify(caller, granter, id, offset, len, access, t, links, nlinks, &k);
    *g = k.p;
    return rc;
}

long kc_grant_table(struct thread *cur, const struct kc_grant_table_args *a)
{
    uint64_t addr = a->table, slots = a->slots;
    if (slots == 0) {
        cur->proc->grant_table = cur->proc->grant_slots = 0;
        return 0;
    }
    /* The table must lie in the user half; whether it is mapped is checked
     * on every use (an unmapped entry is -E_GRANT_NOTABLE then). */
    if (slots > GRANT_MAX_SLOTS || addr % 8 || addr >= USER_TOP ||
        slots * sizeof(struct grant_entry) > USER_TOP - addr)
        return -E_RANGE;
    if (uaccess_read(cur->proc, addr, &(struct grant_entry){0}, sizeof(struct grant_entry)) < 0)
        return -E_FAULT; /* not even its first entry is there */
    cur->proc->grant_table = addr;
    cur->proc->grant_slots = slots;
    return 0;
}

/* Inline into each of its three callers: the lean path's arguments then
 * reach the checks in the registers they came in. */
static inline __attribute__((always_inline)) long grant_copy(struct proc *me, uint32_t granter,
                                                             uint64_t id, uint64_t offset,
                                                             uint64_t local, uint64_t len,
                                                             uint32_t access)
{
    struct grant_target t;
    struct kernel_source k;
    int rc = verify(me->pid, granter, id, offset, len, access, &t, 0, 0, &k);
    if (rc < 0)
        return rc;
    /* The kernel is not preemptible: one call copies at most this much. */
    if (len > GRANT_COPY_MAX)
        return -E_RANGE;
    if (len == 0)
        return 0;
    /* Both ranges must stay in the user half (the walk checks each page). */
    if (t.addr >= USER_TOP || len > USER_TOP - t.addr || local >= USER_TOP ||
        len > USER_TOP - local)
        return -E_FAULT;
    /* A page found missing stops the copy with -E_FAULT; what was copied
     * before it stays copied, which is harmless: every byte lies inside
     * the grant. */
    struct vm_cursor c = vm_cursor(me->cr3);
    struct ucopy_end theirs = {&k.c, t.addr}, mine = {&c, local};
    long copied =
        access == GRANT_F_READ ? ucopy(theirs, mine, len, 0) : ucopy(mine, theirs, len, 0);
    return copied < 0 ? copied : (long)len;
}

long grant_copy_lean(uint32_t granter, uint64_t id, uint64_t offset, uint64_t local, uint64_t len,
                     uint64_t nr)
{
    return grant_copy(pcpu.cur->proc, granter, id, offset, local, len,
                      nr == SYS_GRANT_COPY_FROM ? GRANT_F_READ : GRANT_F_WRITE);
}

long sys_grant_copy_from(struct thread *cur)
{
    const struct user_regs *r = &cur->regs;
    return grant_copy(cur->proc, (uint32_t)r->rdi, r->rsi, r->rdx, r->mr[0], r->mr[1],
                      GRANT_F_READ);
}

long sys_grant_copy_to(struct thread *cur)
{
    const struct user_regs *r = &cur->regs;
    return grant_copy(cur->proc, (uint32_t)r->rdi, r->rsi, r->rdx, r->mr[0], r->mr[1],
                      GRANT_F_WRITE);
}
