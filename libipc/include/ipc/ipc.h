/*
 * libipc: Granite's system calls and message helpers for user programs.
 * The stubs bind the registers named in abi/syscall.h; each call's
 * behaviour is in docs/abi.md. Names mirror the ABI: ipc_call() is
 * SYS_IPC_CALL, kc_spawn() is KC_SPAWN.
 */
#ifndef IPC_IPC_H
#define IPC_IPC_H

#include <abi/errno.h>
#include <abi/ipc.h>
#include <abi/kcall.h>
#include <abi/syscall.h>
#include <stddef.h>
#include <stdint.h>

/* A message and its envelope. */
struct ipc_msg {
    uint64_t info;  /* length, flags, label, timeout (abi/ipc.h) */
    uint64_t badge; /* on receipt: who sent it (set by the kernel) */
    uint64_t cap;   /* handle to pass (IPC_INFO_CAP) / handle received */
    uint64_t w[IPC_MSG_WORDS];
};
_Static_assert(sizeof(((struct ipc_msg *)0)->w) == IPC_MSG_BYTES, "payload is MR0..MR7");

/* The one place a SYSCALL is issued with a message: all registers of the
 * contract in, all out. */
static inline long ipc_syscall(uint64_t nr, uint64_t target, struct ipc_msg *m)
{
    register uint64_t mr0 __asm__(ABI_REG_MR0) = m->w[0];
    register uint64_t mr1 __asm__(ABI_REG_MR1) = m->w[1];
    register uint64_t mr2 __asm__(ABI_REG_MR2) = m->w[2];
    register uint64_t mr3 __asm__(ABI_REG_MR3) = m->w[3];
    register uint64_t mr4 __asm__(ABI_REG_MR4) = m->w[4];
    register uint64_t mr5 __asm__(ABI_REG_MR5) = m->w[5];
    register uint64_t mr6 __asm__(ABI_REG_MR6) = m->w[6];
    register uint64_t mr7 __asm__(ABI_REG_MR7) = m->w[7];
    uint64_t rax = nr, rdi = target, rsi = m->info, rdx = m->cap;
    __asm__ volatile("syscall"
                     : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(mr0), "+r"(mr1), "+r"(mr2),
                       "+r"(mr3), "+r"(mr4), "+r"(mr5), "+r"(mr6), "+r"(mr7)
                     :
                     : "rcx", "r11", "memory");
    m->badge = rdi;
    m->info = rsi;
    m->cap = rdx;
    m->w[0] = mr0;
    m->w[1] = mr1;
    m->w[2] = mr2;
    m->w[3] = mr3;
    m->w[4] = mr4;
    m->w[5] = mr5;
    m->w[6] = mr6;
    m->w[7] = mr7;
    return (long)rax;
}

/* Send m to handle; blocks until the receiver takes it. */
static inline long ipc_send(uint64_t handle, struct ipc_msg *m)
{
    return ipc_syscall(SYS_IPC_SEND, handle, m);
}

/* Receive into m from handle `from` or IPC_ANY; m->info gives the flags
 * (IPC_INFO_NONBLOCK, timeout) going in. */
static inline long ipc_recv(uint64_t from, struct ipc_msg *m)
{
    return ipc_syscall(SYS_IPC_RECV, from, m);
}

/* Send m and wait for the reply, which replaces m. */
static inline long ipc_call(uint64_t handle, struct ipc_msg *m)
{
    return ipc_syscall(SYS_IPC_CALL, handle, m);
}

/* Answer the caller named by badge (never blocks). */
static inline long ipc_reply(uint64_t badge, struct ipc_msg *m)
{
    return ipc_syscall(SYS_IPC_REPLY, badge, m);
}

/* Reply with m to badge, then wait for the next message from anyone. */
static inline long ipc_reply_recv(uint64_t badge, struct ipc_msg *m)
{
    return ipc_syscall(SYS_IPC_REPLY_RECV, badge, m);
}

/* OR bits into the notification word of the thread behind handle. */
static inline long ipc_notify(uint64_t handle, uint64_t bits)
{
    uint64_t rax = SYS_IPC_NOTIFY;
    __asm__ volatile("syscall" : "+a"(rax) : "D"(handle), "S"(bits) : "rcx", "r11", "memory");
    return (long)rax;
}

/* A message with a label and n payload words. */
static inline struct ipc_msg ipc_msg_make(uint32_t label, uint32_t nwords)
{
    struct ipc_msg m = {0};
    m.info = ipc_info(nwords * 8, label);
    return m;
}

/* Human-readable name of an error code (positive or negative). */
const char *ipc_strerror(long err);

#endif
