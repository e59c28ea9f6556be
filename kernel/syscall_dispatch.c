/*
 * System call dispatch: the C side of the SYSCALL slow path. entry.S has
 * saved the caller's registers in its thread; syscall_table (calls_gen.c,
 * generated from abi.toml) maps each call number to sys_<name>; unknown
 * numbers get -E_NOSYS.
 */
#include <abi/errno.h>

#include "arch/x86_64/klock.h"
#include "calls_gen.h"
#include "ipc.h"
#include "sched.h"

/* Precondition: cur is pcpu.cur and its registers are saved in cur->regs.
 * The kernel lock is taken here, first, and released by kernel_exit. */
__attribute__((noreturn)) void syscall_dispatch(struct thread *cur)
{
    if (klock_enter_from(1))
        kernel_exit(); /* cur was taken from this CPU meanwhile; its call restarts */
    uint64_t nr = cur->regs.rax;
    long rc = nr < SYS_COUNT && syscall_table[nr] ? syscall_table[nr](cur) : -E_NOSYS;
    if (rc != SYS_BLOCKED)
        cur->regs.rax = (uint64_t)rc;
    kernel_exit();
}
