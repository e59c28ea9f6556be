/*
 * The kernel endpoint (see kcall.h, abi/kcall.h). Dispatch is a bounds-
 * checked table indexed by the message label; each entry names the
 * privilege it needs, so the check happens in one place before any handler
 * runs. The handlers live in kcall_proc.c, kcall_io.c, kcall_mem.c,
 * kcall_dev.c and grant.c.
 */
#include "kcall.h"

#include <abi/errno.h>

#include "kcall_impl.h"

uint64_t *kcall_word(struct thread *t, int i)
{
    uint64_t *const words[IPC_MSG_WORDS] = {&t->regs.r8,  &t->regs.r9,  &t->regs.r10, &t->regs.r12,
                                            &t->regs.r13, &t->regs.r14, &t->regs.r15, &t->regs.rbx};
    return words[i];
}

struct kcall {
    long (*fn)(struct thread *cur);
    uint32_t priv; /* required privilege, 0 for none */
};

static const struct kcall kcalls[KC_COUNT] = {
    [KC_LOG] = {kc_log, PRIV_LOG},
    [KC_EXIT] = {kc_exit, 0},
    [KC_SELF] = {kc_self, 0},
    [KC_TIME] = {kc_time, 0},
    [KC_YIELD] = {kc_yield, 0},
    [KC_SLEEP] = {kc_sleep, 0},
    [KC_THREAD_CREATE] = {kc_thread_create, 0},
    [KC_THREAD_EXIT] = {kc_thread_exit, 0},
    [KC_CAP_DELETE] = {kc_cap_delete, 0},
    [KC_CAP_IDENTIFY] = {kc_cap_identify, 0},
    [KC_MODULE_INFO] = {kc_module_info, PRIV_SPAWN},
    [KC_SPAWN] = {kc_spawn, PRIV_SPAWN},
    [KC_KILL] = {kc_kill, PRIV_SPAWN},
    [KC_WAIT_DEATH] = {kc_wait_death, PRIV_SPAWN},
    [KC_PROC_INFO] = {kc_proc_info, 0},
    [KC_IO_IN] = {kc_io_in, PRIV_IO},
    [KC_IO_OUT] = {kc_io_out, PRIV_IO},
    [KC_IO_WRITE] = {kc_io_write, PRIV_IO},
    [KC_IRQ_BIND] = {kc_irq_bind, PRIV_IRQ},
    [KC_IRQ_ACK] = {kc_irq_ack, PRIV_IRQ},
    [KC_MAP] = {kc_map, PRIV_MAP},
    [KC_UNMAP] = {kc_unmap, PRIV_MAP},
    [KC_MEMINFO] = {kc_meminfo, PRIV_MAP},
    [KC_GRANT_TABLE] = {kc_grant_table, 0},
    [KC_SHUTDOWN] = {kc_shutdown, PRIV_SHUTDOWN},
    [KC_ARGS] = {kc_args, 0},
    [KC_STATS] = {kc_stats, 0},
    [KC_DEV_ASSIGN] = {kc_dev_assign, PRIV_BUS},
    [KC_MMIO_MAP] = {kc_mmio_map, PRIV_MMIO},
};

long kcall_dispatch(struct thread *cur)
{
    uint32_t op = ipc_info_label(cur->regs.rsi);
    /* Replies carry no capability and no words unless the handler says so. */
    cur->regs.rdi = BADGE_KERNEL;
    cur->regs.rdx = 0;
    cur->regs.rsi = 0;
    if (op >= KC_COUNT || !kcalls[op].fn)
        return -E_NOSYS;
    if (kcalls[op].priv && !(cur->proc->privs & kcalls[op].priv))
        return -E_PERM;
    return kcalls[op].fn(cur);
}
