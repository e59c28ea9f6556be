/*
 * Temporary: lets the isolation tests build against the ABI as it is before
 * issue 11 is fixed (no capability acceptance, no budgets, no handle count
 * in struct kc_proc_info), so they can be seen failing first.
 */
#ifndef ISO_COMPAT_H
#define ISO_COMPAT_H

#include <ipc/kcall.h>

#define ATTACKER_FRAMES 300 /* the attacker's kernel-frame budget */

#ifndef IPC_INFO_ACCEPT
#define IPC_INFO_ACCEPT 0 /* today every message's capability is installed */
#endif
#ifndef E_NOACCEPT
#define E_NOACCEPT 28
#endif
#ifndef KC_BUDGET_DEFINED
struct kc_budget {
    uint64_t frames, threads, procs;
};
#define kc_spawn_budget(mod, privs, prio, base, count, irqs, name, budget, pid)                    \
    ((void)(budget), kc_spawn(mod, privs, prio, base, count, irqs, name, pid))
#define PROC_HANDLES(p) 0
#define PROC_LIMIT(p)   0
#else
#define PROC_HANDLES(p) ((p).handles)
#define PROC_LIMIT(p)   ((p).kernel_limit)
#endif

#endif
