/*
 * The kernel endpoint (see kcall.h, abi/kcall.h). Dispatch is a bounds-
 * checked table indexed by the message label; each entry names the
 * privilege it needs, so the check happens in one place before any handler
 * runs. The table and the decoders that hand each handler its arguments
 * are generated from abi.toml (calls_gen.c); the handlers live in
 * kcall_proc.c, kcall_io.c, kcall_mem.c, kcall_dev.c and grant.c.
 */
#include "kcall.h"

#include <abi/errno.h>

#include "calls_gen.h"

long kcall_dispatch(struct thread *cur)
{
    uint32_t op = ipc_info_label(cur->regs.rsi);
    /* Replies carry no capability and no words unless the handler says so. */
    cur->regs.rdi = BADGE_KERNEL;
    cur->regs.rdx = 0;
    cur->regs.rsi = 0;
    if (op >= KC_COUNT || !kcall_table[op].fn)
        return -E_NOSYS;
    if (kcall_table[op].priv && !(cur->proc->privs & kcall_table[op].priv))
        return -E_PERM;
    return kcall_table[op].fn(cur);
}
