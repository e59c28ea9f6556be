/*
 * Grant copies (see grant.h, abi/grant.h). After grant_verify has accepted
 * the grant, both sides are walked page by page (present, user, and
 * writable on the side written) and the bytes move through the physmap, 8
 * at a time, without loading either address space: no CR3 write, and no
 * kernel dereference of a user pointer.
 */
#include "grant.h"

#include <abi/errno.h>
#include <abi/grant.h>
#include <abi/layout.h>
#include <common/string.h>

#include "arch/x86_64/vm.h"
#include "calls_gen.h"
#include "grant_verify.h"
#include "uaccess.h"

static uint64_t table_slots(void *ctx, uint32_t pid)
{
    (void)ctx;
    struct proc *p = proc_by_pid(pid);
    return p ? p->grant_slots : 0;
}

static int read_entry(void *ctx, uint32_t pid, uint64_t index, struct grant_entry *out)
{
    (void)ctx;
    struct proc *p = proc_by_pid(pid);
    return uaccess_read(p, p->grant_table + index * sizeof(*out), out, sizeof(*out));
}

const struct grant_source grant_kernel_source = {table_slots, read_entry, 0};

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

/* copy_between for a copy inside one address space onto an overlapping
 * range above its source: memmove's result, so chunks go from the end
 * backwards (each ends at a page boundary on either side, as forwards). */
static long copy_down(struct proc *p, uint64_t sa, uint64_t da, uint64_t len)
{
    struct vm_cursor sc = vm_cursor(p->cr3), dc = vm_cursor(p->cr3);
    while (len) {
        uint64_t chunk = ((sa + len - 1) & 0xfff) + 1;
        if (((da + len - 1) & 0xfff) + 1 < chunk)
            chunk = ((da + len - 1) & 0xfff) + 1;
        if (chunk > len)
            chunk = len;
        len -= chunk;
        const uint8_t *from = vm_cursor_ptr(&sc, sa + len, 0);
        uint8_t *to = vm_cursor_ptr(&dc, da + len, 1);
        if (!from || !to)
            return -E_FAULT;
        memmove(to, from, chunk);
    }
    return 0;
}

/* Copy len bytes from (src, sa) to (dst, da), page by page on both sides,
 * with memmove's result when the two ranges overlap in one address space.
 * A page found missing stops the copy with -E_FAULT; what was copied before
 * it stays copied, which is harmless: every byte lies inside the grant. */
static long copy_between(struct proc *src, uint64_t sa, struct proc *dst, uint64_t da, uint64_t len)
{
    if (src == dst && da > sa && da - sa < len)
        return copy_down(src, sa, da, len);
    struct vm_cursor sc = vm_cursor(src->cr3), dc = vm_cursor(dst->cr3);
    while (len) {
        uint64_t chunk = 4096 - (sa & 0xfff);
        if (4096 - (da & 0xfff) < chunk)
            chunk = 4096 - (da & 0xfff);
        if (chunk > len)
            chunk = len;
        const uint8_t *from = vm_cursor_ptr(&sc, sa, 0);
        uint8_t *to = vm_cursor_ptr(&dc, da, 1);
        if (!from || !to)
            return -E_FAULT;
        memmove(to, from, chunk); /* overlapping below its source: forwards is right */
        sa += chunk;
        da += chunk;
        len -= chunk;
    }
    return 0;
}

static long grant_copy(struct thread *cur, uint32_t access)
{
    uint32_t granter = (uint32_t)cur->regs.rdi;
    uint64_t id = cur->regs.rsi, offset = cur->regs.rdx, local = cur->regs.mr[0],
             len = cur->regs.mr[1];
    struct grant_target t;
    int rc =
        grant_verify(&grant_kernel_source, cur->proc->pid, granter, id, offset, len, access, &t);
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
    struct proc *g = proc_by_pid(t.granter);
    long copied = access == GRANT_F_READ ? copy_between(g, t.addr, cur->proc, local, len)
                                         : copy_between(cur->proc, local, g, t.addr, len);
    return copied < 0 ? copied : (long)len;
}

long sys_grant_copy_from(struct thread *cur)
{
    return grant_copy(cur, GRANT_F_READ);
}

long sys_grant_copy_to(struct thread *cur)
{
    return grant_copy(cur, GRANT_F_WRITE);
}
