/*
 * System call dispatch: the C side of the SYSCALL slow path. entry.S has
 * saved the caller's registers in its thread; the table maps each call
 * number to sys_<name> (abi/syscall.h); unknown numbers get -E_NOSYS.
 */
#include <abi/errno.h>
#include <abi/syscall.h>

#include "grant.h"
#include "grant_map.h"
#include "ipc.h"
#include "sched.h"

typedef long (*syscall_fn)(struct thread *cur);

static const syscall_fn syscall_table[SYS_COUNT] = {
    [SYS_IPC_SEND] = sys_ipc_send,
    [SYS_IPC_RECV] = sys_ipc_recv,
    [SYS_IPC_CALL] = sys_ipc_call,
    [SYS_IPC_REPLY] = sys_ipc_reply,
    [SYS_IPC_REPLY_RECV] = sys_ipc_reply_recv,
    [SYS_IPC_NOTIFY] = sys_ipc_notify,
    [SYS_GRANT_COPY_FROM] = sys_grant_copy_from,
    [SYS_GRANT_COPY_TO] = sys_grant_copy_to,
    [SYS_GRANT_MAP] = sys_grant_map,
    [SYS_GRANT_UNMAP] = sys_grant_unmap,
    [SYS_GRANT_REVOKE] = sys_grant_revoke,
};

/* Precondition: cur is pcpu.cur and its registers are saved in cur->regs. */
__attribute__((noreturn)) void syscall_dispatch(struct thread *cur)
{
    uint64_t nr = cur->regs.rax;
    long rc = nr < SYS_COUNT && syscall_table[nr] ? syscall_table[nr](cur) : -E_NOSYS;
    if (rc != SYS_BLOCKED)
        cur->regs.rax = (uint64_t)rc;
    kernel_exit();
}
