/*
 * libipc: Granite's system calls and message helpers for user programs.
 * The stubs (ipc/syscalls_gen.h) bind the registers named in abi.toml;
 * each call's behaviour is in docs/abi.md. Names mirror the ABI: ipc_call() is
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

/* ipc_send, ipc_recv, ipc_call, ipc_reply, ipc_reply_recv, ipc_notify and
 * grant_copy_from/_to: one stub per system call, generated from abi.toml. */
#include <ipc/syscalls_gen.h>

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
